"""Random-weight checkpoints with the real shapes of TinyLlama-1.1B and Qwen2-0.5B-Instruct, for the issue-5 LLM
benchmarks, in f32, bf16 and f16.

Speed does not depend on the weight values, so the benchmarks use seeded random weights (DESIGN §2: no model hub is
reachable). Each directory is what `save_pretrained` writes (config.json, model.safetensors,
generation_config.json) plus a tokenizer of the real vocabulary size:

  tinyllama-1.1b       LlamaForCausalLM: hidden 2048, intermediate 5632, 22 layers, 32 heads, 4 KV heads, vocab
                       32000, rope_theta 1e4, 2048 positions, rms_norm_eps 1e-5, untied lm_head (1.10 B parameters).
                       generation_config as TinyLlama-1.1B-Chat-v1.0 ships it (bos 1, eos 2, pad 0, max_length 2048).
  qwen2-0.5b-instruct  Qwen2ForCausalLM: hidden 896, intermediate 4864, 24 layers, 14 heads, 2 KV heads, vocab 151936,
                       rope_theta 1e6, 32768 positions, rms_norm_eps 1e-6, QKV bias, tied embeddings, no sliding
                       window (0.49 B parameters). generation_config as Qwen2-0.5B-Instruct ships it (eos [151645,
                       151643], pad/bos 151643, repetition_penalty 1.1 and its sampling settings, which greedy
                       decoding ignores).

Tokenizers: the fixture's tokenizer.json of the family (tests/fixtures/models/{llama,qwen2}/model: the real
pipelines — TinyLlama's SentencePiece-style BPE with byte fallback, Qwen2's byte-level BPE with its regex) padded to
the real size with seeded synthetic pieces, each reachable through a merge of two existing pieces: 32000 pieces for
TinyLlama (<unk> <s> </s> = 0 1 2), 151643 pieces + <|endoftext|> <|im_start|> <|im_end|> = 151643..151645 for Qwen2
(the embedding has 151936 rows, as the real one). The fixture's tokenizer_config.json and chat template come along.

The f32 checkpoint is made first (torch.manual_seed, the model class's own initialization); bf16 and f16 are that
checkpoint loaded with `dtype=` (round to nearest) and saved again, so all three hold the same weights.
Directories: <cache>/<model>-<dtype> (default cache .cache/synth). A directory holding a complete checkpoint made by
the same recipe (synth.json) is kept. Before writing, the free disk space is checked; a model that does not fit is
skipped with a message (synthesize returns None).

Usage: python python/peers/synth_llm.py [--cache DIR] [--models tinyllama-1.1b,qwen2-0.5b-instruct]
                                        [--dtypes f32,bf16,f16] [--force]
"""
import argparse
import json
import os
import random
import shutil
import string
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / ".cache" / "synth"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"
RECIPE_VERSION = 1  # bump when a recipe below changes, so cached directories are rebuilt
DTYPES = ("f32", "bf16", "f16")
DTYPE_BYTES = {"f32": 4, "bf16": 2, "f16": 2}
DISK_MARGIN = 1 << 30  # leave this much free after writing

SHAPES = {
    "tinyllama-1.1b": dict(family="llama", hidden=2048, ff=5632, layers=22, heads=32, kv_heads=4, vocab=32000,
                           tied=False, qkv_bias=False, seed=5001),
    "qwen2-0.5b-instruct": dict(family="qwen2", hidden=896, ff=4864, layers=24, heads=14, kv_heads=2, vocab=151936,
                                tied=True, qkv_bias=True, seed=5002),
}


def parameter_count(name: str) -> int:
    """Parameters of the checkpoint from its shape (what save_pretrained writes: the tied lm_head once)."""
    s = SHAPES[name]
    h, kv = s["hidden"], s["hidden"] // s["heads"] * s["kv_heads"]
    per_layer = h * (h + 2 * kv) + h * h + 3 * h * s["ff"] + 2 * h + ((h + 2 * kv) if s["qkv_bias"] else 0)
    return s["vocab"] * h * (1 if s["tied"] else 2) + s["layers"] * per_layer + h


def torch_dtype(dtype: str):
    import torch
    return {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dtype]


# ---- tokenizers --------------------------------------------------------------------------------------------------

def padded_tokenizer(family: str, n_pieces: int, seed: int) -> dict:
    """The fixture's tokenizer.json with its BPE vocabulary grown to n_pieces (added tokens renumbered after it
    when they lie outside the vocabulary). Each new piece = an existing piece + one letter (or the word-start
    marker + a letter), with the merge making it, so every piece is reachable and the merges stay valid."""
    tok = json.loads((FIXTURES / family / "model" / "tokenizer.json").read_text(encoding="utf-8"))
    model = tok["model"]
    vocab, merges = model["vocab"], model["merges"]
    if len(vocab) > n_pieces:
        raise SystemExit(f"synth_llm: the {family} fixture has {len(vocab)} pieces, more than {n_pieces}")
    marker = "\u2581" if family == "llama" else "\u0120"  # SentencePiece's word start / byte-level space
    letters = [c for c in string.ascii_lowercase if c in vocab]
    if not letters or marker not in vocab:
        raise SystemExit(f"synth_llm: the {family} fixture tokenizer lacks single letters or '{marker}'")
    rng = random.Random(seed)
    # start words from the marker and the letters; extend words that are still short
    words = [marker] + letters + [p for p in vocab if len(p) > 1 and all(c in letters or c == marker for c in p)]
    while len(vocab) < n_pieces:
        base = words[rng.randrange(len(words))]
        c = letters[rng.randrange(len(letters))]
        piece = base + c
        if piece in vocab or len(piece) > 12:
            continue
        vocab[piece] = len(vocab)
        merges.append([base, c])
        words.append(piece)
    # added tokens outside the vocabulary (Qwen2's specials) follow it, as in the real tokenizer
    extra = [a for a in tok["added_tokens"] if a["content"] not in vocab]
    for i, a in enumerate(sorted(extra, key=lambda a: a["id"])):
        a["id"] = n_pieces + i
    return tok


def write_tokenizer(family: str, n_pieces: int, seed: int, out: Path, max_len: int) -> None:
    tok = padded_tokenizer(family, n_pieces, seed)
    with open(out / "tokenizer.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(tok, f, ensure_ascii=False)
    tc = json.loads((FIXTURES / family / "model" / "tokenizer_config.json").read_text(encoding="utf-8"))
    tc["model_max_length"] = max_len
    _write_json(out / "tokenizer_config.json", tc)
    template = FIXTURES / family / "model" / "chat_template.jinja"
    if template.exists():
        shutil.copyfile(template, out / "chat_template.jinja")


def _write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, sort_keys=True, indent=2)
        f.write("\n")


# ---- models ------------------------------------------------------------------------------------------------------

def make_tinyllama(out: Path) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    s = SHAPES["tinyllama-1.1b"]
    config = LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                         num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048,
                         rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu", tie_word_embeddings=False,
                         attention_bias=False, mlp_bias=False, bos_token_id=1, eos_token_id=2,
                         initializer_range=0.02)
    config.architectures = ["LlamaForCausalLM"]
    torch.manual_seed(s["seed"])
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(out)
    GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=0, max_length=2048).save_pretrained(out)
    write_tokenizer("llama", 32000, s["seed"], out, 2048)


def make_qwen2(out: Path) -> None:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM
    s = SHAPES["qwen2-0.5b-instruct"]
    config = Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                         rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act="silu", tie_word_embeddings=True,
                         use_sliding_window=False, max_window_layers=24, bos_token_id=151643,
                         eos_token_id=151645, initializer_range=0.02)
    config.architectures = ["Qwen2ForCausalLM"]
    torch.manual_seed(s["seed"])
    model = Qwen2ForCausalLM(config).eval()
    model.save_pretrained(out)
    GenerationConfig(bos_token_id=151643, pad_token_id=151643, eos_token_id=[151645, 151643], do_sample=True,
                     repetition_penalty=1.1, temperature=0.7, top_p=0.8, top_k=20).save_pretrained(out)
    write_tokenizer("qwen2", 151643, s["seed"], out, 32768)


MAKERS = {"tinyllama-1.1b": make_tinyllama, "qwen2-0.5b-instruct": make_qwen2}


def _stamp(name: str, dtype: str) -> dict:
    return {"name": name, "dtype": dtype, "seed": SHAPES[name]["seed"], "recipe_version": RECIPE_VERSION}


def _complete(out: Path, want: dict) -> bool:
    stamp = out / "synth.json"
    if not (stamp.exists() and (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()):
        return False
    try:
        got = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return {k: got.get(k) for k in want} == want


def _fits(cache: Path, need: int, what: str) -> bool:
    cache.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(cache).free
    if free < need + DISK_MARGIN:
        print(f"synth_llm: skipping {what}: it needs {need / 1e9:.1f} GB and {cache} has {free / 1e9:.1f} GB free "
              f"(keeping {DISK_MARGIN / 2**30:.0f} GiB spare)", file=sys.stderr)
        return False
    return True


def _clear(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():  # a partial or older directory: start over
        if f.is_file():
            f.unlink()


def _finish(out: Path, want: dict) -> None:
    import tokenizers
    import torch
    import transformers
    _write_json(out / "synth.json", dict(want, torch=torch.__version__, transformers=transformers.__version__,
                                         tokenizers=tokenizers.__version__))


def synthesize(name: str, dtype: str = "f32", cache: Path = DEFAULT_CACHE, force: bool = False):
    """Makes (or reuses) cache/<name>-<dtype> and returns its path; None when the disk is too full (a message
    says so)."""
    if name not in SHAPES or dtype not in DTYPES:
        raise SystemExit(f"synth_llm: unknown model '{name}' or dtype '{dtype}' (models: {', '.join(SHAPES)}; "
                         f"dtypes: {', '.join(DTYPES)})")
    cache = Path(cache)
    out = cache / f"{name}-{dtype}"
    want = _stamp(name, dtype)
    if not force and _complete(out, want):
        return out
    n = parameter_count(name)
    if dtype == "f32":
        if not _fits(cache, n * 4, f"{out.name} ({n / 1e9:.2f} B parameters)"):
            return None
        _clear(out)
        print(f"synth_llm: writing {out} (seeded random weights, real shapes)", file=sys.stderr)
        MAKERS[name](out)
        _finish(out, want)
        return out
    src = synthesize(name, "f32", cache, force=False)  # the variants are the f32 weights, rounded
    if src is None:
        return None
    if not _fits(cache, n * DTYPE_BYTES[dtype], out.name):
        return None
    from transformers import AutoModelForCausalLM
    _clear(out)
    print(f"synth_llm: writing {out} (the f32 checkpoint in {dtype})", file=sys.stderr)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch_dtype(dtype)).eval()
    model.save_pretrained(out)
    del model
    for f in ("generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (src / f).exists():
            shutil.copyfile(src / f, out / f)
    _finish(out, want)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cache directory (default .cache/synth)")
    ap.add_argument("--models", default=",".join(SHAPES), help="comma-separated: " + ", ".join(SHAPES))
    ap.add_argument("--dtypes", default="f32,bf16", help="comma-separated: " + ", ".join(DTYPES))
    ap.add_argument("--force", action="store_true", help="rebuild even when a matching directory exists")
    args = ap.parse_args(argv)
    skipped = 0
    for name in [m for m in args.models.split(",") if m]:
        for dtype in [d for d in args.dtypes.split(",") if d]:
            path = synthesize(name, dtype, args.cache, args.force)
            if path is None:
                skipped += 1
            else:
                print(path)
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
