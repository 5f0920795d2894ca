#!/usr/bin/env python3
"""Single-thread throughput of Hugging Face `tokenizers` (pinned in requirements.txt) on a text file, to compare
with `test_tokenizer --bench <tokenizer.json> <text file>` run in the same session on the same machine.

Usage: RAYON_NUM_THREADS=1 python bench_tokenizers.py <tokenizer.json> <text file> [repeats]
       python bench_tokenizers.py --make-text <out file> [MB]   (writes an English + mixed-script text)
       python bench_tokenizers.py --ids <tokenizer.json> <text file>   (ids per line, to diff with test_tokenizer --ids)
Method (same as the C side): one encode per '\\n'-separated line, no special tokens, no truncation or padding,
best of `repeats` timed runs after one warm-up. encode_batch is used with RAYON_NUM_THREADS=1 (set before import)
so Python per-call overhead does not count against HF; TOKENIZERS_PARALLELISM=false is set too.
"""
import os
import sys

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("RAYON_RS_NUM_CPUS", "1")
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import random
import time


def make_text(path, mb):
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = os.path.join(here, "..", "..", "tests", "fixtures", "tokenizer", "corpus.txt")
    with open(corpus, encoding="utf-8", newline="") as f:
        mixed = [l for l in f.read().split("\n") if l]
    words = ("the of and to in is was for that with as on by at from it this be are or an which have not but had his "
             "they you were her she there been one all we can has more will if no out so said what up its about into "
             "than them only time some could new these two may first then do any like my now over such our man me "
             "even most made after also did many before must through back years where much your way well down should "
             "because each just those people how too little state good very make world still own see men work long "
             "understanding international tokenization performance measurement").split()
    rng = random.Random(7)
    out, size = [], 0
    while size < mb * 1_000_000:
        if rng.random() < 0.2:
            line = rng.choice(mixed)
        else:
            n = rng.randint(5, 40)
            ws = [rng.choice(words) for _ in range(n)]
            line = " ".join(w.capitalize() if rng.random() < 0.1 else w for w in ws) + rng.choice([".", "!", "?", ","])
        out.append(line)
        size += len(line.encode("utf-8")) + 1
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {size} bytes, {len(out)} lines to {path}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--make-text":
        make_text(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 3.0)
        return
    from tokenizers import Tokenizer

    if sys.argv[1] == "--ids":  # ids per line, to diff with `test_tokenizer --ids`
        tok = Tokenizer.from_file(sys.argv[2])
        tok.no_truncation()
        tok.no_padding()
        with open(sys.argv[3], "rb") as f:
            lines = f.read().decode("utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        out = sys.stdout
        for e in tok.encode_batch(lines, add_special_tokens=False):
            out.write(" ".join(map(str, e.ids)) + "\n")
        return
    tok = Tokenizer.from_file(sys.argv[1])
    tok.no_truncation()
    tok.no_padding()
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    best, tokens = 1e30, 0
    for r in range(repeats + 1):
        t0 = time.perf_counter()
        encs = tok.encode_batch(lines, add_special_tokens=False)
        dt = time.perf_counter() - t0
        tokens = sum(len(e.ids) for e in encs)
        if r > 0:
            best = min(best, dt)
    print(f"hf     tokens={tokens} bytes={len(data)} best_of_{repeats}={best:.4f}s  {tokens / best:.0f} tokens/s  "
          f"{len(data) / best / 1e6:.2f} MB/s")


if __name__ == "__main__":
    main()
