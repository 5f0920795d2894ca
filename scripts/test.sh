#!/usr/bin/env bash
# The whole test suite: install dependencies, build (warnings are errors), run every test with ctest, then
# rebuild with AddressSanitizer + UndefinedBehaviorSanitizer and run the suite again.
# Set ACCEL_TEST_SKIP_SANITIZE=1 to skip the sanitizer pass during local iteration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/fetch-models.sh  # the real all-MiniLM-L6-v2 that tests/models/test_minilm.c checks
jobs=$(nproc)

echo "== build (release) =="
bash scripts/build.sh build
echo "== tests (release) =="
(cd build && ctest --output-on-failure --no-tests=error -j "$jobs")

if [ "${ACCEL_TEST_SKIP_SANITIZE:-0}" != "1" ]; then
  echo "== build (address + undefined sanitizers) =="
  bash scripts/build.sh build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCEL_SANITIZE=ON
  echo "== tests (address + undefined sanitizers) =="
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-sanitize && ctest --output-on-failure --no-tests=error -j "$jobs")
fi
