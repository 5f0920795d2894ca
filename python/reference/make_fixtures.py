#!/usr/bin/env python3
"""Reference fixtures for the model parity tests: tests/fixtures/models/<family>/{model,expected}/.

Usage (from the repository root; scripts/make-fixtures.sh sets up the pinned venv and runs this):
    python -m python.reference.make_fixtures               # every family
    python -m python.reference.make_fixtures --family t5   # one family (repeatable)
    python -m python.reference.make_fixtures --list
"""
import argparse
import importlib
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    __package__ = "python.reference"

from python.reference import common  # noqa: E402  (sets the environment before torch loads)

FAMILIES = ["bert", "minilm", "t5", "t5_v11", "llama", "llama_rope", "qwen2", "mistral", "vit", "clip", "whisper", "wav2vec2", "detr", "llava", "llava_next", "xclip", "clap"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", action="append", choices=FAMILIES, help="family to (re)generate; default all")
    ap.add_argument("--list", action="store_true", help="list families and exit")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(FAMILIES))
        return 0
    for fam in args.family or FAMILIES:
        t0 = time.time()
        mod = importlib.import_module(f"python.reference.families.{fam}")
        mod.make()
        root = common.FIXTURES / fam
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        print(f"{fam}: {size / 1024:.1f} KiB in {time.time() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
