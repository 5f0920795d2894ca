#!/usr/bin/env bash
# test_llm_cli.sh <accel binary> <fixtures dir> — `accel run --prompt` and `accel chat` on the causal-LM fixtures:
# the streamed greedy text is Hugging Face's, speed goes to stderr, stop strings, seeded sampling reproduces, --json,
# chat turns through the Qwen2 chat template from a pipe (/reset, /quit), and errors exit non-zero with the
# library's message.
set -uo pipefail
accel=$1
models=$2/models
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
# json_get <expected.json> <key> [index]: a string of expected.json
json_get() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v[int(sys.argv[3])] if len(sys.argv) > 3 else v, end="")' "$@"; }

llama=$models/llama/model
qwen2=$models/qwen2/model
expect 0 "--prompt" "$accel" run --help
expect 0 "--temperature" "$accel" run --help
expect 0 "usage: accel chat" "$accel" chat --help

# greedy: stdout is exactly HF's text (plus a newline); stderr has the speed of both phases
prompt=$(json_get "$models/llama/expected/expected.json" prompt)
json_get "$models/llama/expected/expected.json" greedy_text >"$tmp/want"
echo >>"$tmp/want"
"$accel" run "$llama" --prompt "$prompt" --max-new-tokens 32 >"$tmp/got" 2>"$tmp/err" || fail "run llama failed: $(cat "$tmp/err")"
cmp -s "$tmp/got" "$tmp/want" || fail "llama greedy text differs: $(od -c "$tmp/got" | head -5)"
grep -Eq "prefill 22 tokens in [0-9.]+ ms \([0-9.]+ tokens/s\); decode 31 tokens in [0-9.]+ ms \([0-9.]+ tokens/s" \
  "$tmp/err" || fail "no speed line: $(cat "$tmp/err")"

# stop string: printed text ends before it
"$accel" run "$llama" --prompt "$prompt" --max-new-tokens 32 --stop chuck >"$tmp/got" 2>/dev/null || fail "run --stop failed"
[ "$(cat "$tmp/got")" = "eeee wood" ] || fail "stop string: got '$(cat "$tmp/got")'"

# seeded sampling reproduces; another seed differs
for run in 5a 5b 6; do
  "$accel" run "$qwen2" --prompt "Hello world" --temperature 1.0 --top-k 0 --seed "${run%[ab]}" --max-new-tokens 24 \
    >"$tmp/s$run" 2>/dev/null || fail "sampling run failed"
done
cmp -s "$tmp/s5a" "$tmp/s5b" || fail "the same seed gave different texts"
cmp -s "$tmp/s5a" "$tmp/s6" && fail "seeds 5 and 6 gave the same text"

# --json: the whole result as one object
"$accel" run "$llama" --prompt "$prompt" --max-new-tokens 32 --json >"$tmp/json" 2>/dev/null || fail "run --json failed"
python3 - "$tmp/json" "$models/llama/expected/expected.json" <<'PY' || fail "run --json output is wrong"
import json, sys
d, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert d["family"] == "llama" and d["task"] == "text-generation", d
assert d["results"][0]["output"] == e["greedy_text"], d["results"][0]
PY

# chat from a pipe: the first turn is the fixture's chat prompt, so its answer is HF's greedy text
question=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chat_messages"][0]["content"])' \
  "$models/qwen2/expected/expected.json")
json_get "$models/qwen2/expected/expected.json" greedy_text >"$tmp/want"
printf '%s\n/reset\n\n%s\n/quit\nnot read\n' "$question" "$question" |
  "$accel" chat "$qwen2" --max-new-tokens 24 --greedy >"$tmp/got" 2>"$tmp/err" || fail "chat failed: $(cat "$tmp/err")"
[ "$(sed -n 1p "$tmp/got")" = "$(cat "$tmp/want")" ] || fail "chat answer 1: '$(sed -n 1p "$tmp/got")'"
[ "$(sed -n 2p "$tmp/got")" = "$(cat "$tmp/want")" ] || fail "chat answer after /reset: '$(sed -n 2p "$tmp/got")'"
[ "$(wc -l <"$tmp/got")" -eq 2 ] || fail "chat printed $(wc -l <"$tmp/got") lines"
grep -q "conversation cleared" "$tmp/err" || fail "no /reset notice"
grep -q "decode" "$tmp/err" || fail "chat prints no speed"
expect 0 "decode" "$accel" run "$qwen2" --prompt "hi" --chat --system "Be brief." --max-new-tokens 2

# errors: library message, non-zero exit
expect 1 "temperature" "$accel" run "$llama" --prompt "x" --temperature -1
expect 1 "top_p" "$accel" run "$llama" --prompt "x" --top-p 1.5 --sample
expect 1 "context" "$accel" run "$llama" --prompt "$prompt" --ctx 8
expect 1 "chat template" "$accel" run "$llama" --prompt "x" --chat
expect 1 "chat template" "$accel" chat "$llama" < <(echo hi)
expect 1 "not a causal language model" "$accel" chat "$models/bert/model" < /dev/null
expect 2 "bad option" "$accel" run "$llama" --prompt "x" --top-k many
expect 2 "needs a model directory" "$accel" chat
[ "$failed" -eq 0 ] && echo "test_llm_cli: all passed"
exit "$failed"
