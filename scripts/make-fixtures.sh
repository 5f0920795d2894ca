#!/usr/bin/env bash
# Regenerates every reference fixture under tests/fixtures/ (byte-identical for the pinned versions):
#   tests/fixtures/models/     python/reference/make_fixtures.py (tiny seeded HF models, expected tensors)
#   tests/fixtures/tokenizer/  python/reference/tokenizer_expectations.py (tokenizer parity: it copies the
#                              model fixtures' tokenizer.json files, so it runs second)
#   scripts/make-fixtures.sh                     all families, then all tokenizer fixtures
#   scripts/make-fixtures.sh --family t5         one family (repeatable), then that family's tokenizer fixture
#   scripts/make-fixtures.sh --check [...]       regenerate twice and compare sha256 of every file under tests/fixtures
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONHASHSEED=0

py=${ACCEL_REF_PYTHON:-}
if [ -z "$py" ]; then
  py=venv-reference/bin/python
  stamp=venv-reference/.requirements.sha256
  want=$(sha256sum python/reference/requirements.txt | cut -d' ' -f1)
  if [ ! -x "$py" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv venv-reference
    venv-reference/bin/pip install -q --upgrade pip
    venv-reference/bin/pip install -q -r python/reference/requirements.txt
    echo "$want" > "$stamp"
  fi
fi

gen() {  # gen [--family F ...]
  "$py" -m python.reference.make_fixtures "$@"
  if [ $# -eq 0 ]; then
    "$py" python/reference/tokenizer_expectations.py
  else
    while [ $# -gt 0 ]; do
      if [ "$1" = "--family" ] && [ $# -ge 2 ]; then
        "$py" python/reference/tokenizer_expectations.py --only "$2"; shift
      fi
      shift
    done
  fi
}
hashes() { find tests/fixtures -type f | LC_ALL=C sort | xargs sha256sum; }

if [ "${1:-}" = "--check" ]; then
  shift
  gen "$@"
  first=$(hashes)
  gen "$@"
  second=$(hashes)
  if [ "$first" = "$second" ]; then
    echo "make-fixtures: byte-identical ($(echo "$first" | wc -l) files under tests/fixtures)"
  else
    diff <(echo "$first") <(echo "$second") || true
    echo "make-fixtures: NOT byte-identical" >&2
    exit 1
  fi
else
  gen "$@"
fi
du -sh tests/fixtures/models tests/fixtures/tokenizer
