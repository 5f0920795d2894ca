"""LLaMA (TinyLlama-1.1B / Llama-2 tokenizer pipeline, tiny random weights): prompt -> 32 greedy tokens.

Tokenizer mirrors TinyLlama's tokenizer.json (the Llama-2 SentencePiece BPE converted by HF): normalizer
Sequence[Prepend(▁), Replace(" ", ▁)], no pre-tokenizer, BPE(byte_fallback, fuse_unk, unk <unk>) whose vocab
starts <unk>=0 <s>=1 </s>=2 <0x00>..<0xFF>=3..258, TemplateProcessing "<s> $A", decoder
Sequence[Replace(▁, " "), ByteFallback, Fuse, Strip(left 1)]. Merges are trained with `tokenizers` on ▁-words.
Model features kept: GQA (8 query heads, 2 KV heads: ratio 4), RoPE (half-split), RMSNorm, SwiGLU, untied head.
"""
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, LlamaTokenizer

from .. import common
from ..corpus import CORPUS, TEST_TEXTS
from . import _causal

NAME = "llama"
SEED = 3003
SPECIALS = ["<unk>", "<s>", "</s>"]
PROMPT = "Once upon a time there was a little robot"
BATCH = ["The quick brown fox", "Hello world! Tokenizers split unseen words like zygomorphic into pieces.",
         "Caf\u00e9 \u4eca\u65e5\u306f \U0001F600 and"]


def train_spm_bpe(vocab_size):
    """Llama-2-style BPE with byte fallback, trained with `tokenizers` and laid out like the converted
    SentencePiece vocab (specials, 256 byte tokens, then learned pieces)."""
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    alphabet, merges, learned = common.train_bpe(common.pretokenized_words(t, CORPUS), vocab_size)
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for piece in alphabet + learned:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    tok.pre_tokenizer = None
    tok.post_processor = processors.TemplateProcessing(
        single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1", special_tokens=[("<s>", 1)])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return tok


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

    config = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                         num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=256,
                         rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2, pad_token_id=None, initializer_range=0.1,
                         attention_bias=False, mlp_bias=False)
    common.seed_all(SEED)
    model = LlamaForCausalLM(config).eval()
    common.perturb_params(model, SEED + 1, 0.2)
    model.save_pretrained(model_dir)

    tensors, meta = _causal.run(model, tok, PROMPT, BATCH, max_new_tokens=32)
    meta.update({"family": NAME, "hf_class": "LlamaForCausalLM", "seed": SEED, "versions": common.versions(),
                 "gqa": {"num_attention_heads": 8, "num_key_value_heads": 2}})
    common.write_expected(exp_dir, tensors, meta)
