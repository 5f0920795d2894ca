#!/usr/bin/env bash
# test_bench_cli.sh <accel binary> <fixtures dir> — `accel bench` on the tiny BERT, T5 and LLaMA fixtures: the
# table, --json lines (fields, iteration count, --emit-ids shapes; for the causal LM exactly --decode tokens without
# EOS, the weight bytes, the bandwidth and the bound), and that every malformed option or input exits non-zero
# with a message. Timings are not checked (benchmarks, not tests). Needs python3 to read the JSON.
set -uo pipefail
accel=$1
bert=$2/models/bert/model
t5=$2/models/t5/model
llama=$2/models/llama/model
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

# causal LMs: the report, and options that belong to the other kind of model
expect 0 "decode +[0-9.]+ tokens/s; step" "$accel" bench "$llama" --prefill 8 --decode 4 --iters 1 --bandwidth-mib 1
expect 0 "bound +[0-9.]+ tokens/s = 1 x" "$accel" bench "$llama" --prefill 8 --decode 4 --iters 1 --bandwidth-mib 1
expect 0 "memory +not measured" "$accel" bench "$llama" --prefill 4 --decode 2 --iters 1 --bandwidth-mib 0
for bad in 1 0 x -5; do
  expect 2 "invalid value '$bad' for --decode" "$accel" bench "$llama" --decode "$bad"
done
expect 2 "invalid value '0' for --prefill" "$accel" bench "$llama" --prefill 0
expect 2 "invalid value '-1' for --bandwidth-mib" "$accel" bench "$llama" --bandwidth-mib -1
expect 2 "invalid value '99999999' for --bandwidth-mib" "$accel" bench "$llama" --bandwidth-mib 99999999
expect 2 "--bandwidth-mib needs a value" "$accel" bench "$llama" --bandwidth-mib
expect 2 "--tokens is for embedding and seq2seq models.*use --prefill" "$accel" bench "$llama" --tokens 8
expect 2 "--generate is for embedding and seq2seq models" "$accel" bench "$llama" --generate 4
expect 2 "--prefill is for causal LMs" "$accel" bench "$bert" --prefill 8
expect 2 "--decode is for causal LMs" "$accel" bench "$t5" --decode 8
expect 2 "--bandwidth-mib is for causal LMs" "$accel" bench "$bert" --bandwidth-mib 8
expect 1 "200 prompt \+ 100 new tokens do not fit the model's context of 256" "$accel" bench "$llama" --prefill 200 \
  --decode 100

# --json: one object per batch size with the documented fields
"$accel" bench "$bert" --json --batch 1,3 --tokens 8 --iters 4 --warmup 1 --seed 11 --emit-ids >"$tmp/bert.json" \
  2>"$tmp/err" || fail "bench --json on bert failed: $(cat "$tmp/err")"
"$accel" bench "$bert" --json --batch 3 --tokens 8 --iters 1 --seed 11 --emit-ids >"$tmp/bert2.json" 2>/dev/null ||
  fail "second bench --json on bert failed"
"$accel" bench "$t5" --json --batch 2 --tokens 5 --generate 3 --iters 2 --emit-ids >"$tmp/t5.json" 2>"$tmp/err" ||
  fail "bench --json on t5 failed: $(cat "$tmp/err")"
"$accel" bench "$llama" --json --batch 1,2 --prefill 6 --decode 5 --iters 2 --seed 28 --bandwidth-mib 2 --emit-ids \
  >"$tmp/llama.json" 2>"$tmp/err" || fail "bench --json on llama failed: $(cat "$tmp/err")"
"$accel" bench "$llama" --json --prefill 6 --decode 3 --iters 1 --bandwidth-mib 0 >"$tmp/llama0.json" 2>"$tmp/err" ||
  fail "bench --json --bandwidth-mib 0 on llama failed: $(cat "$tmp/err")"
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
llm = [json.loads(l) for l in open(f"{d}/llama.json")]
assert [r["batch"] for r in llm] == [1, 2], llm
stat_keys = {"mean", "stddev", "p50", "p90", "p99", "min", "max"}
for r in llm:
    assert r["task"] == "text-generation" and r["family"] == "llama" and r["timing"] == "per-token", r
    assert r["prefill_tokens"] == 6 and r["decode_tokens"] == 5 and r["iters"] == 2 and r["warmup"] == 0, r
    for k in ("call_ms", "prefill_ms", "step_ms"):
        assert set(r[k]) == stat_keys and 0 < r[k]["min"] <= r[k]["p50"] <= r[k]["max"], (k, r[k])
    assert r["decode_tokens_per_s"] > 0 and r["prefill_tokens_per_s"] > 0 and r["prefill_pass_ms"] > 0, r
    # untied f32 LLaMA fixture: every layer's weights + final norm + lm_head + one embedding row per sequence
    assert r["weight_bytes_per_step"] == 4 * (2 * 41088 + 64 + 667 * 64 + r["batch"] * 64), r
    assert r["weight_bytes_by_dtype"] == {"f32": r["weight_bytes_per_step"]}, r
    assert r["weight_tensors"] == r["weight_tensors_in_table"] == 15, r
    bw = r["bandwidth"]
    assert bw["buffer_bytes"] == 2 << 20 and bw["threads"] == r["threads"] and bw["reps"] == 5, bw
    assert 0 < bw["read_gbps"] <= bw["read_gbps_max"] and 0 < bw["copy_gbps"] <= bw["copy_gbps_max"], bw
    bound = r["batch"] * bw["read_gbps"] * 1e9 / r["weight_bytes_per_step"]
    assert abs(r["bound_tokens_per_s"] / bound - 1) < 1e-9, (r["bound_tokens_per_s"], bound)
    assert abs(r["fraction_of_bound"] * r["bound_tokens_per_s"] / r["decode_tokens_per_s"] - 1) < 1e-9, r
    lo, hi = r["id_range"]
    ids, out = r["input_ids"], r["output_ids"]
    assert len(ids) == r["batch"] and all(len(row) == 6 and all(lo <= i < hi for i in row) for row in ids), ids
    # exactly --decode new tokens per sequence, none of them EOS (id 2)
    assert len(out) == r["batch"] and all(len(row) == 5 and 2 not in row for row in out), out
off = json.loads(open(f"{d}/llama0.json").readline())
assert off["bandwidth"] is None and off["bound_tokens_per_s"] is None and off["fraction_of_bound"] is None, off
assert off["iters"] == 1 and "input_ids" not in off and "output_ids" not in off, off
PY

if [ $failed -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi
