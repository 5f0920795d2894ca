"""Mistral (Mistral-7B-v0.1 pipeline, tiny random weights): prompt -> greedy tokens with a sliding window.

Tokenizer: Mistral-7B-v0.1's tokenizer.json is the same converted-SentencePiece layout as Llama-2 (Prepend(▁) +
Replace(" ", ▁) normalizer, BPE with byte fallback, <unk>/<s>/</s> then <0x00>..<0xFF>, "<s> $A" template,
Replace/ByteFallback/Fuse/Strip decoder), so it is trained by llama.train_spm_bpe on the same corpus.
Model features kept: sliding-window attention with a window (8) shorter than the prompt (38 tokens) and two batch prompts, so positions
beyond the window must be masked out (prefill_logits_full_attention shows the difference);
GQA 4 query heads on 1 KV head (ratio 4, multi-query); RoPE theta 1e4; RMSNorm; SwiGLU; untied head.
"""
import torch
from transformers import AutoTokenizer, LlamaTokenizer, MistralConfig, MistralForCausalLM

from .. import common
from ..corpus import TEST_TEXTS
from . import _causal
from .llama import train_spm_bpe

NAME = "mistral"
SEED = 5005
WINDOW = 8
PROMPT = "Once upon a time there was a little robot who wanted to learn how to paint the sea"
BATCH = ["The quick brown fox", "Hello world! Tokenizers split unseen words like zygomorphic into pieces.",
         "Caf\u00e9 \u4eca\u65e5\u306f \U0001F600 and the river flows through the valley"]


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    raw = train_spm_bpe(400)
    hf_tok = LlamaTokenizer(tokenizer_object=raw, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                            pad_token="</s>", padding_side="left", model_max_length=256,
                            clean_up_tokenization_spaces=False)
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + BATCH + [PROMPT])

    config = MistralConfig(vocab_size=len(tok), hidden_size=48, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=1, head_dim=12, max_position_embeddings=256,
                           rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False,
                           sliding_window=WINDOW, bos_token_id=1, eos_token_id=2, initializer_range=0.1)
    common.seed_all(SEED)
    model = MistralForCausalLM(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    model.save_pretrained(model_dir)

    n_prompt = len(tok(PROMPT)["input_ids"])
    if n_prompt <= 2 * WINDOW:
        raise RuntimeError(f"prompt of {n_prompt} tokens does not exercise the window of {WINDOW}")
    tensors, meta = _causal.run(model, tok, PROMPT, BATCH, max_new_tokens=32)

    # Proof that the window matters: the same weights with full attention give different prefill logits.
    with torch.no_grad():
        config_full = MistralConfig.from_dict({**config.to_dict(), "sliding_window": None})
        full = MistralForCausalLM(config_full).eval()
        full.load_state_dict(model.state_dict())
        ids = tensors["input_ids"]
        full_logits = full(input_ids=ids).logits
    diff = (full_logits - tensors["prefill_logits"]).abs().amax(-1)[0]
    if diff[:WINDOW].max() > 1e-4 or diff[WINDOW:].max() < 1e-3:
        raise RuntimeError(f"sliding window has no effect or the wrong effect: {diff.tolist()}")
    tensors["prefill_logits_full_attention"] = full_logits
    meta.update({"family": NAME, "hf_class": "MistralForCausalLM", "seed": SEED, "versions": common.versions(),
                 "sliding_window": WINDOW, "prompt_len": n_prompt,
                 "gqa": {"num_attention_heads": 4, "num_key_value_heads": 1},
                 "window_notes": "query position i attends to keys j with i - WINDOW < j <= i (HF Mistral "
                                 "convention). prefill_logits_full_attention: the same weights without a window; "
                                 "equal for the first sliding_window positions, different after."})
    common.write_expected(exp_dir, tensors, meta)
