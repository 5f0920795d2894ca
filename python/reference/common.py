"""Shared helpers for the reference fixture script: determinism, tokenizer training, writing outputs.

Everything here is deterministic: the same package versions (requirements.txt) give byte-identical files.
"""
import hashlib
import json
import os
import random
import shutil
from pathlib import Path

# Before torch/tokenizers are imported by anyone: no hub, one thread, no tokenizer parallelism.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"
os.environ["PYTHONHASHSEED"] = "0"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "models"

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def seed_all(seed: int) -> None:
    """Seeds every random generator a family uses (Python, NumPy, torch)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def family_dirs(family: str):
    """Fresh (emptied) model/ and expected/ folders for a family."""
    root = FIXTURES / family
    if root.exists():
        shutil.rmtree(root)
    model_dir = root / "model"
    exp_dir = root / "expected"
    model_dir.mkdir(parents=True)
    exp_dir.mkdir(parents=True)
    return model_dir, exp_dir


@torch.no_grad()
def perturb_params(model: torch.nn.Module, seed: int, scale: float = 0.1) -> None:
    """HF initialises biases to 0 and norm weights to 1, which would hide bugs (a missing QKV bias, a
    swapped norm weight). Give every bias and every 1-D norm weight seeded random values instead."""
    gen = torch.Generator().manual_seed(seed)
    seen = set()
    for name, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "bias":
            p.copy_(torch.randn(p.shape, generator=gen) * scale)
        elif leaf == "weight" and p.dim() == 1:  # LayerNorm / RMSNorm scale
            p.copy_(1.0 + torch.randn(p.shape, generator=gen) * scale)


def write_json(path: Path, obj) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, sort_keys=True, indent=1, ensure_ascii=False)
        f.write("\n")


def write_expected(exp_dir: Path, tensors: dict, meta: dict) -> None:
    """expected.safetensors (named tensors, contiguous, CPU; f32 floats, i64 ids) + expected.json (texts and
    metadata, sorted keys). The JSON lists each tensor's dtype and shape so a reader can check before use."""
    out = {}
    for k, v in tensors.items():
        t = torch.as_tensor(v).detach().cpu().contiguous()
        if t.is_floating_point():
            t = t.to(torch.float32)
        elif t.dtype == torch.bool:
            t = t.to(torch.int64)
        out[k] = t.clone()
    save_file(out, str(exp_dir / "expected.safetensors"))
    meta = dict(meta)
    meta["tensors"] = {k: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
                       for k, t in sorted(out.items())}
    write_json(exp_dir / "expected.json", meta)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict:
    import safetensors
    import tokenizers
    import transformers
    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__}


def greedy_margins(step_logits: torch.Tensor) -> list:
    """Per (batch, step): top-1 minus top-2 logit. Small margins tell a C test where greedy may legitimately
    flip under fp32 rounding differences."""
    top = torch.topk(step_logits.float(), 2, dim=-1).values
    return (top[..., 0] - top[..., 1])


def check_tokenizer_roundtrip(hf_tok, raw_json_path: Path, texts) -> None:
    """The transformers tokenizer reloaded from disk must give the same ids as the plain `tokenizers` pipeline
    in tokenizer.json; otherwise transformers rebuilt the pipeline and the fixture would lie about the file."""
    from tokenizers import Tokenizer
    raw = Tokenizer.from_file(str(raw_json_path))
    for t in texts:
        a = hf_tok(t)["input_ids"]
        b = raw.encode(t).ids
        if a != b:
            raise RuntimeError(f"tokenizer.json and transformers disagree on {t!r}: {a} vs {b}")


def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's built-in 'nmt_nfkc' precompiled charsmap (the normalizer of T5 and most SentencePiece
    models; tokenizer.json stores it as a Precompiled normalizer). Taken from a throwaway sentencepiece training
    run, since the rule table is independent of the corpus."""
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["a b c"] * 8), model_writer=buf, vocab_size=8,
                                   normalization_rule_name="nmt_nfkc", num_threads=1, minloglevel=2,
                                   hard_vocab_limit=False)
    proto = pb.ModelProto()
    proto.ParseFromString(buf.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def pretokenized_words(tok, texts):
    """Word counts after the tokenizer's own normalizer and pre-tokenizer (the `tokenizers` pipeline)."""
    from collections import Counter
    counts = Counter()
    for t in texts:
        if tok.normalizer is not None:
            t = tok.normalizer.normalize_str(t)
        words = tok.pre_tokenizer.pre_tokenize_str(t) if tok.pre_tokenizer is not None else [(t, None)]
        counts.update(w for w, _ in words if w)
    return counts


def train_bpe(word_counts, n_merges, prefix="", min_frequency=2, suffix=""):
    """Deterministic BPE merge learning over pre-tokenized words. `tokenizers`' trainers break count ties in
    hash-map order (different per process), which would make the fixtures differ run to run; here ties go to
    the lexicographically smallest pair. prefix="##" gives WordPiece-style continuation symbols; suffix="</w>"
    marks each word's last symbol (CLIP's end_of_word_suffix; the alphabet then holds the suffixed symbols seen).
    Returns (alphabet sorted, merges [(a, b)] in order, new tokens in order)."""
    words = []
    for w, c in sorted(word_counts.items()):
        syms = [w[0]] + [prefix + ch for ch in w[1:]]
        if suffix:
            syms[-1] = syms[-1] + suffix
        words.append([syms, c])
    alphabet = sorted({s for syms, _ in words for s in syms})
    merges, new_tokens, known = [], [], set(alphabet)
    while len(merges) < n_merges:
        pairs = {}
        for syms, c in words:
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if best[1] < min_frequency:
            break
        a, b = best[0]
        merged = a + (b[len(prefix):] if prefix and b.startswith(prefix) else b)
        merges.append((a, b))
        if merged not in known:
            known.add(merged)
            new_tokens.append(merged)
        for item in words:
            syms, out, i = item[0], [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(merged)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            item[0] = out
    return alphabet, merges, new_tokens
