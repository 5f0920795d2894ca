#!/usr/bin/env bash
# The main job: install dependencies, build, and run the main workload (for now: hardware detection).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
./build/accel detect
./build/accel devices
