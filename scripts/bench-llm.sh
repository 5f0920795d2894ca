#!/usr/bin/env bash
# Issue-5 LLM benchmarks: accel vs PyTorch eager generate on random-weight TinyLlama-1.1B / Qwen2-0.5B-Instruct
# shapes (f32 and bf16; f16 with --dtypes), and accel against the memory-bandwidth bound.
#   scripts/bench-llm.sh                                   everything, 3 interleaved rounds, JSON in .cache/bench-llm.json
#   scripts/bench-llm.sh --models qwen2-0.5b-instruct --dtypes bf16 --rounds 5 --out F.json
# Any option of python/peers/bench_llm.py passes through. Steps: a Python venv for the peers (.venv-peers, from
# python/peers/requirements.txt, rebuilt when that file changes; ACCEL_PEERS_PYTHON=/path/to/python uses an existing
# environment instead), a release build of the accel CLI (build-release/), then the side-by-side run, which makes
# the synthetic checkpoints in .cache/synth/ the first time (about 9.6 GB for both models in f32 + bf16; a model that
# does not fit on the disk is skipped with a message). See docs/benchmarks.md. Run it on a quiet machine: other load
# skews every number (the report shows the load average).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/peers-env.sh  # $py, build-release/accel

args=("$@")
has_out=0
for a in ${args[@]+"${args[@]}"}; do case "$a" in --out | --out=*) has_out=1 ;; esac; done
if [ $has_out -eq 0 ]; then mkdir -p .cache; args+=(--out .cache/bench-llm.json); fi
exec "$py" python/peers/bench_llm.py --accel build-release/accel ${args[@]+"${args[@]}"}
