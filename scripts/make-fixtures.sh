#!/usr/bin/env bash
# Regenerates the model reference fixtures under tests/fixtures/models/ (byte-identical for the pinned versions).
#   scripts/make-fixtures.sh                     all families
#   scripts/make-fixtures.sh --family t5         one family (repeatable)
#   scripts/make-fixtures.sh --check             regenerate twice and compare sha256 of every file
# Creates ./venv-reference (gitignored) from python/reference/requirements.txt on first use.
# Set ACCEL_REF_PYTHON=/path/to/python to use an existing environment with the same pins instead.
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

if [ "${1:-}" = "--check" ]; then
  shift
  "$py" -m python.reference.make_fixtures "$@"
  first=$(find tests/fixtures/models -type f | LC_ALL=C sort | xargs sha256sum)
  "$py" -m python.reference.make_fixtures "$@"
  second=$(find tests/fixtures/models -type f | LC_ALL=C sort | xargs sha256sum)
  if [ "$first" = "$second" ]; then
    echo "make-fixtures: byte-identical ($(echo "$first" | wc -l) files)"
  else
    diff <(echo "$first") <(echo "$second") || true
    echo "make-fixtures: NOT byte-identical" >&2
    exit 1
  fi
else
  "$py" -m python.reference.make_fixtures "$@"
fi
du -sh tests/fixtures/models
