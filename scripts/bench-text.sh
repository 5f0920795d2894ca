#!/usr/bin/env bash
# Issue-4 benchmarks: accel vs PyTorch eager vs ONNX Runtime on random-weight bert-base-uncased / t5-small shapes.
#   scripts/bench-text.sh                          everything, 3 interleaved rounds, JSON in .cache/bench-text.json
#   scripts/bench-text.sh --rounds 5 --out F.json  any option of python/peers/bench_text.py
# Steps: a Python venv for the peers (.venv-peers, from python/peers/requirements.txt, rebuilt when that file
# changes; ACCEL_PEERS_PYTHON=/path/to/python uses an existing environment instead), a release build of the accel
# CLI (build-release/), the synthetic checkpoints (.cache/synth/, made once), then the side-by-side run.
# See docs/benchmarks.md. Run it on a quiet machine: other load skews every number (the report shows the load).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers-env.sh  # $py, build-release/accel

"$py" python/peers/synth_text.py
args=("$@")
has_out=0
for a in ${args[@]+"${args[@]}"}; do case "$a" in --out | --out=*) has_out=1 ;; esac; done
if [ $has_out -eq 0 ]; then mkdir -p .cache; args+=(--out .cache/bench-text.json); fi
exec "$py" python/peers/bench_text.py --accel build-release/accel ${args[@]+"${args[@]}"}
