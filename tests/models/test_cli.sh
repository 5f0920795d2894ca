#!/usr/bin/env bash
# test_cli.sh <accel binary> <fixtures dir> — `accel run` and `accel similarity` on the BERT fixture: output
# shapes, --json, --file, --help, and that errors print the library's message and exit non-zero.
set -uo pipefail
accel=$1
model=$2/models/bert/model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# expect <status> <grep pattern for stdout+stderr> <command...>
expect() {
  local want=$1 pattern=$2
  shift 2
  "$@" >"$tmp/out" 2>&1
  local got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, wanted $want: $(head -c 400 "$tmp/out")"
  grep -Eq -- "$pattern" "$tmp/out" || fail "$* output lacks /$pattern/: $(head -c 400 "$tmp/out")"
}

expect 0 "usage: accel run" "$accel" run --help
expect 0 "usage: accel similarity" "$accel" similarity --help
expect 0 "dim 32, norm" "$accel" run "$model" --text "The quick brown fox." --text ""
expect 0 "2 texts embedded on cpu" "$accel" run "$model" --text "a" --text "b" --device cpu --threads 1
# --json: one object whose results hold full 32-value embeddings
"$accel" run "$model" --text "hello world" --json >"$tmp/json" 2>/dev/null || fail "run --json failed"
python3 - "$tmp/json" <<'PY' || fail "run --json output is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["family"] == "bert" and d["task"] == "embed" and d["dim"] == 32, d
assert len(d["results"]) == 1 and len(d["results"][0]["embedding"]) == 32
PY
printf 'first line\n\nsecond line\r\n' >"$tmp/texts.txt"
expect 0 "\[1\] second line" "$accel" run "$model" --file "$tmp/texts.txt"
# similarity: the diagonal is 1
expect 0 "\[0\]  1\.0000" "$accel" similarity "$model" "a dog" "a cat" "the fox"
"$accel" similarity "$model" "a dog" "a cat" --json >"$tmp/sim" 2>/dev/null || fail "similarity --json failed"
python3 - "$tmp/sim" <<'PY' || fail "similarity --json output is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["similarity"]
assert len(s) == 2 and abs(s[0][0] - 1) < 1e-5 and abs(s[0][1] - s[1][0]) < 1e-6, s
PY
# errors: library message, non-zero exit
expect 1 "config.json" "$accel" run "$tmp/nonexistent" --text x
expect 1 "no device 'nope'" "$accel" run "$model" --text x --device nope
expect 2 "needs a model directory" "$accel" run "$model"
expect 2 "bad option" "$accel" run "$model" --text x --threads zero
expect 2 "at least two texts" "$accel" similarity "$model" "only one"
expect 1 "cannot open" "$accel" run "$model" --file "$tmp/missing.txt"
long=$(printf 'word %.0s' $(seq 1 200))
expect 0 "1 text embedded" "$accel" run "$model" --text "$long"   # truncated to the 64 positions
[ "$failed" -eq 0 ] && echo "test_cli: all passed"
exit "$failed"
