"""Qwen2 (Qwen2-0.5B-Instruct pipeline, tiny random weights): chat -> text.

Tokenizer mirrors Qwen2's tokenizer.json: NFC normalizer, pre-tokenizer Sequence[Split(Qwen2 regex, Isolated),
ByteLevel(add_prefix_space false, use_regex false)], byte-level BPE trained with `tokenizers`, ByteLevel
post-processor (no BOS/EOS added) and decoder; added special tokens <|endoftext|>, <|im_start|>, <|im_end|>;
the Qwen2-Instruct ChatML chat template. Model features kept: QKV bias (o_proj without), GQA 6 query heads on
2 KV heads (ratio 3), tied input/output embeddings, RoPE theta 1e6, RMSNorm, SwiGLU.
"""
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

from .. import common
from ..corpus import CORPUS, TEST_TEXTS
from . import _causal

NAME = "qwen2"
SEED = 4004
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
MESSAGES = [{"role": "user", "content": "Give me a short introduction to large language models."}]
BATCH = ["The quick brown fox", "Hello world!  Tokenizers split unseen words like zygomorphic into 1234 pieces.",
         "Caf\u00e9 \u4eca\u65e5\u306f \U0001F600<|im_end|>\n"]


def train_tokenizer(vocab_size=400):
    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False, fuse_unk=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    alphabet, merges, learned = common.train_bpe(common.pretokenized_words(tok, CORPUS), vocab_size)
    pieces = sorted(set(pre_tokenizers.ByteLevel.alphabet()) | set(alphabet)) + learned
    tok.model = models.BPE(vocab={p: i for i, p in enumerate(pieces)}, merges=merges, unk_token=None,
                           byte_fallback=False, fuse_unk=False)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    return tok


def make():
    common.seed_all(SEED)
    model_dir, exp_dir = common.family_dirs(NAME)
    raw = train_tokenizer()
    hf_tok = Qwen2Tokenizer(tokenizer_object=raw, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                            unk_token=None, bos_token=None, errors="replace", model_max_length=256,
                            clean_up_tokenization_spaces=False, split_special_tokens=False)
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    common.check_tokenizer_roundtrip(tok, model_dir / "tokenizer.json", TEST_TEXTS + BATCH)

    prompt = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    config = Qwen2Config(vocab_size=len(tok), hidden_size=48, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256,
                         rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act="silu", tie_word_embeddings=True,
                         bos_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
                         eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"), initializer_range=0.1,
                         use_sliding_window=False)
    common.seed_all(SEED)
    model = Qwen2ForCausalLM(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)  # gives q/k/v_proj.bias real values (HF initialises them to 0)
    model.save_pretrained(model_dir)
    if "lm_head.weight" in __import__("safetensors").safe_open(str(model_dir / "model.safetensors"), "pt").keys():
        raise RuntimeError("tied embeddings: lm_head.weight should not be stored")

    tensors, meta = _causal.run(model, tok, prompt, BATCH, max_new_tokens=24)
    meta.update({"family": NAME, "hf_class": "Qwen2ForCausalLM", "seed": SEED, "versions": common.versions(),
                 "chat_messages": MESSAGES, "chat_prompt": prompt, "tied_embeddings": True, "qkv_bias": True,
                 "gqa": {"num_attention_heads": 6, "num_key_value_heads": 2}})
    common.write_expected(exp_dir, tensors, meta)
