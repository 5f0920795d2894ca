#!/usr/bin/env bash
# test_bench_cli.sh <accel binary> <fixtures dir> — `accel bench` on the tiny BERT and T5 fixtures: the table,
# --json lines (fields, iteration count, --emit-ids shapes), and that every malformed option or input exits
# non-zero with a message. Timings are not checked (benchmarks, not tests). Needs python3 to read the JSON.
set -uo pipefail
accel=$1
bert=$2/models/bert/model
t5=$2/models/t5/model
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

expect 0 "usage: accel bench" "$accel" bench --help
expect 0 "p50 ms .* device" "$accel" bench "$bert" --batch 1,2 --tokens 8 --iters 2 --warmup 0
expect 0 "new tok/s" "$accel" bench "$t5" --tokens 6 --generate 3 --iters 1 --threads 1
expect 2 "model directory is required" "$accel" bench
expect 2 "one model directory" "$accel" bench "$bert" "$t5"
expect 2 "unknown option '--nope'" "$accel" bench "$bert" --nope
expect 2 "--batch needs a value" "$accel" bench "$bert" --batch
for bad in 0 -1 x 1,,2 "" 1,2x 99999999999; do
  expect 2 "invalid value '$bad' for --batch" "$accel" bench "$bert" --batch "$bad"
done
expect 2 "invalid value '0' for --iters" "$accel" bench "$bert" --iters 0
expect 2 "invalid value '0' for --tokens" "$accel" bench "$bert" --tokens=0
expect 2 "invalid value '-1' for --warmup" "$accel" bench "$bert" --warmup -1
expect 2 "invalid value 'abc' for --seconds" "$accel" bench "$bert" --seconds abc
expect 2 "invalid value '-2' for --seconds" "$accel" bench "$bert" --seconds -2
expect 2 "invalid value 'inf' for --seconds" "$accel" bench "$bert" --seconds inf
expect 2 "invalid value '0' for --threads" "$accel" bench "$bert" --threads 0
expect 2 "invalid value '-3' for --seed" "$accel" bench "$bert" --seed -3
expect 2 "--emit-ids needs --json" "$accel" bench "$bert" --emit-ids
expect 2 "needs a seq2seq model" "$accel" bench "$bert" --generate 4
expect 1 "no device 'nosuch'" "$accel" bench "$bert" --device nosuch
expect 1 "accel bench: .*/does-not-exist" "$accel" bench "$tmp/does-not-exist"
expect 1 "65 tokens per row, the model takes at most 64" "$accel" bench "$bert" --tokens 65 --iters 1

# --json: one object per batch size with the documented fields
"$accel" bench "$bert" --json --batch 1,3 --tokens 8 --iters 4 --warmup 1 --seed 11 --emit-ids >"$tmp/bert.json" \
  2>"$tmp/err" || fail "bench --json on bert failed: $(cat "$tmp/err")"
"$accel" bench "$bert" --json --batch 3 --tokens 8 --iters 1 --seed 11 --emit-ids >"$tmp/bert2.json" 2>/dev/null ||
  fail "second bench --json on bert failed"
"$accel" bench "$t5" --json --batch 2 --tokens 5 --generate 3 --iters 2 --emit-ids >"$tmp/t5.json" 2>"$tmp/err" ||
  fail "bench --json on t5 failed: $(cat "$tmp/err")"
python3 - "$tmp" <<'PY' || fail "bench --json output is wrong"
import json, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(f"{d}/bert.json")]
assert [r["batch"] for r in rows] == [1, 3], rows
for r in rows:
    assert r["task"] == "embed" and r["family"] == "bert" and r["device"] == "cpu", r
    assert r["iters"] == 4 and r["warmup"] == 1 and r["tokens"] == 8 and r["seed"] == 11, r
    lat = r["latency_ms"]
    assert set(lat) == {"mean", "stddev", "p50", "p90", "p99", "min", "max"}, lat
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
    assert r["items_per_s"] > 0 and r["tokens_per_s"] > 0 and r["peak_rss_bytes"] > 0 and r["first_ms"] > 0, r
    lo, hi = r["id_range"]
    ids = r["input_ids"]
    assert len(ids) == r["batch"] and all(len(row) == 8 for row in ids), ids
    assert all(lo <= i < hi for row in ids for i in row), (lo, hi, ids)
    assert "output_ids" not in r and "new_tokens" not in r, r
# the same seed, batch and tokens give the same ids in another process
again = json.loads(open(f"{d}/bert2.json").readline())
assert again["input_ids"] == rows[1]["input_ids"], (again["input_ids"], rows[1]["input_ids"])
t5 = [json.loads(l) for l in open(f"{d}/t5.json")]
assert len(t5) == 1 and t5[0]["task"] == "seq2seq" and t5[0]["new_tokens"] == 3, t5
out = t5[0]["output_ids"]
assert len(out) == 2 and all(len(row) == 4 and row[0] == 0 for row in out), out
assert t5[0]["new_tokens_per_s"] > 0 and t5[0]["iters"] == 2, t5
PY

if [ $failed -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
