"""Random-weight checkpoints with the real shapes of bert-base-uncased and t5-small, for the issue-4 benchmarks.

Speed does not depend on the weight values, so the benchmarks use seeded random weights (DESIGN §2: no model hub
is reachable). Each model directory is what `save_pretrained` writes (config.json, model.safetensors,
generation_config.json for t5) plus a tokenizer.json of the full vocabulary size built with `tokenizers`:

  bert-base-uncased  BertModel(BertConfig()): 12 layers, d 768, 12 heads, ff 3072, vocab 30522, 512 positions.
                     WordPiece vocab [PAD] [UNK] [CLS] [SEP] [MASK] + synthetic pieces, bert-base-uncased's
                     pipeline (BertNormalizer lowercase, BertPreTokenizer, [CLS] $A [SEP], WordPiece decoder).
  t5-small           T5ForConditionalGeneration: d 512, d_kv 64, ff 2048, 6+6 layers, 8 heads, vocab 32128, relu,
                     tied embeddings, 32 buckets / 128 max distance. Unigram vocab <pad> </s> <unk> + pieces
                     (ids 0/1/2 = pad/eos/unk), Metaspace pre-tokenizer and decoder, "$A </s>" template.

Usage: python python/peers/synth_text.py [--cache DIR] [--models bert-base-uncased,t5-small] [--force]
A directory that already holds a complete model made with the same recipe (synth.json) is kept.
"""
import argparse
import json
import os
import random
import string
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "synth"
RECIPE_VERSION = 1  # bump when a recipe below changes, so cached directories are rebuilt

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
T5_SPECIALS = ["<pad>", "</s>", "<unk>"]
LETTERS = string.ascii_lowercase


def _synthetic_words(rng: random.Random, n: int, taken: set, min_len=2, max_len=9):
    """n distinct lowercase pseudo-words not in `taken` (seeded)."""
    out = []
    while len(out) < n:
        w = "".join(rng.choice(LETTERS) for _ in range(rng.randint(min_len, max_len)))
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


def bert_tokenizer(vocab_size: int, seed: int):
    """A WordPiece tokenizer with bert-base-uncased's pipeline and exactly vocab_size ids."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    chars = list(LETTERS + string.digits + string.punctuation)
    pieces = BERT_SPECIALS + chars + ["##" + c for c in LETTERS + string.digits]
    taken = set(pieces)
    rng = random.Random(seed)
    for w in _synthetic_words(rng, vocab_size - len(pieces), taken):
        pieces.append("##" + w if rng.random() < 0.3 else w)
    # a "##w" and "w" may both appear; WordPiece treats them as different pieces, which is fine
    vocab = {}
    for p in pieces:
        if p not in vocab and len(vocab) < vocab_size:
            vocab[p] = len(vocab)
    k = 0
    while len(vocab) < vocab_size:  # collisions above: fill with numbered pieces
        vocab.setdefault(f"[unused{k}]", len(vocab))
        k += 1
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                                     max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens(BERT_SPECIALS)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    assert tok.get_vocab_size(True) == vocab_size, tok.get_vocab_size(True)
    return tok


def t5_tokenizer(vocab_size: int, seed: int):
    """A Unigram tokenizer with t5-small's pipeline shape and exactly vocab_size ids (0/1/2 = pad/eos/unk)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    rng = random.Random(seed)
    chars = list(LETTERS + string.ascii_uppercase + string.digits + string.punctuation)
    pieces = [["\u2581", -2.0]] + [[c, -10.0] for c in chars]  # every character is reachable: no unk for ASCII
    taken = {p for p, _ in pieces}
    for w in _synthetic_words(rng, vocab_size - len(T5_SPECIALS) - len(pieces), taken):
        piece = "\u2581" + w if rng.random() < 0.6 else w
        pieces.append([piece, -round(rng.uniform(3.0, 12.0), 4)])
    vocab = [[s, 0.0] for s in T5_SPECIALS]
    seen = set(T5_SPECIALS)
    for p, sc in pieces:
        if p not in seen:
            seen.add(p)
            vocab.append([p, sc])
    k = 0
    while len(vocab) < vocab_size:  # "▁w" and "w" collisions above: fill with numbered pieces
        p = f"\u2581fill{k}"
        k += 1
        if p not in seen:
            seen.add(p)
            vocab.append([p, -15.0])
    tok = Tokenizer(models.Unigram([(p, sc) for p, sc in vocab[:vocab_size]], unk_id=2, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)])
    tok.add_special_tokens(T5_SPECIALS)
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A:0 </s>:0", pair="$A:0 </s>:0 $B:0 </s>:0", special_tokens=[("</s>", eos)])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    assert [tok.token_to_id(s) for s in T5_SPECIALS] == [0, 1, 2]
    assert tok.get_vocab_size(True) == vocab_size, tok.get_vocab_size(True)
    return tok


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, sort_keys=True, indent=2)
        f.write("\n")


def make_bert(out: Path, seed: int) -> None:
    import torch
    from transformers import BertConfig, BertModel
    config = BertConfig()  # the defaults are bert-base-uncased's shape
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.intermediate_size,
            config.vocab_size, config.max_position_embeddings) == (12, 768, 12, 3072, 30522, 512)
    config.architectures = ["BertModel"]
    torch.manual_seed(seed)
    model = BertModel(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    bert_tokenizer(config.vocab_size, seed).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512,
        "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
        "mask_token": "[MASK]"})


def make_t5(out: Path, seed: int) -> None:
    import torch
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration
    config = T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6,
                      num_heads=8, relative_attention_num_buckets=32, relative_attention_max_distance=128,
                      dropout_rate=0.1, layer_norm_epsilon=1e-6, feed_forward_proj="relu", tie_word_embeddings=True,
                      pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    config.architectures = ["T5ForConditionalGeneration"]
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    GenerationConfig(decoder_start_token_id=0, eos_token_id=1, pad_token_id=0).save_pretrained(out)
    t5_tokenizer(config.vocab_size, seed).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "T5Tokenizer", "model_max_length": 512, "eos_token": "</s>", "unk_token": "<unk>",
        "pad_token": "<pad>"})


RECIPES = {"bert-base-uncased": (make_bert, 4001), "t5-small": (make_t5, 4002)}


def synthesize(name: str, cache: Path = DEFAULT_CACHE, force: bool = False) -> Path:
    """Makes (or reuses) cache/name and returns its path."""
    if name not in RECIPES:
        raise SystemExit(f"synth_text: unknown model '{name}' (known: {', '.join(RECIPES)})")
    make, seed = RECIPES[name]
    out = Path(cache) / name
    stamp = out / "synth.json"
    want = {"name": name, "seed": seed, "recipe_version": RECIPE_VERSION}
    if not force and stamp.exists() and (out / "model.safetensors").exists():
        try:
            if {k: json.loads(stamp.read_text()).get(k) for k in want} == want:
                return out
        except (OSError, ValueError):
            pass
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():  # a partial or older directory: start over
        if f.is_file():
            f.unlink()
    print(f"synth_text: writing {out} (seeded random weights, real shapes)", file=sys.stderr)
    make(out, seed)
    import tokenizers
    import torch
    import transformers
    _write_json(stamp, dict(want, torch=torch.__version__, transformers=transformers.__version__,
                            tokenizers=tokenizers.__version__))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cache directory (default .cache/synth)")
    ap.add_argument("--models", default=",".join(RECIPES), help="comma-separated: " + ", ".join(RECIPES))
    ap.add_argument("--force", action="store_true", help="rebuild even when a matching directory exists")
    args = ap.parse_args(argv)
    for name in [m for m in args.models.split(",") if m]:
        print(synthesize(name, args.cache, args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
