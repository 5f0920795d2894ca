"""Issue-5 LLM benchmarks: accel vs PyTorch eager `generate`, side by side in one run on this machine, and accel
against the memory-bandwidth bound measured in its own process.

Models: random-weight checkpoints with the real shapes of TinyLlama-1.1B and Qwen2-0.5B-Instruct in f32 and bf16
(f16 on request) (synth_llm.py). Per model and dtype, batch 1: a 128-token random prompt, then 128 new tokens,
greedy, EOS suppressed (min_new_tokens = max_new_tokens). Bars (issue 5), on decode:
    ours decode tokens/s >= 3 x PyTorch eager generate's
    ours decode tokens/s >= 0.7 x the bound = read bandwidth / weight bytes read per decode step
(the bound and the bandwidth come from `accel bench`, measured in its process right before its timed calls).

Method: per configuration, R rounds interleaved (ours, torch, ours, torch, ...). In a round each engine runs one
cold call, W warm-up calls and N timed calls. Every new token is timestamped as soon as it is chosen (ours: the
stream callback; torch: a streamer, whose put() generate calls with each new token): prefill = call start -> first
new token (time to first token), decode = the D - 1 intervals between the D new tokens (each one forward of one
token + choosing the next), decode tokens/s = batch * (D - 1) / (last token - first token). A round's value is the
median over its timed calls; the reported value is the median over rounds. `ours` is `accel bench --json
--emit-ids` (a fresh process per round); torch gets exactly ours' prompt ids, the same thread count (physical
cores, inter-op 1) and the checkpoint's dtype, under torch.inference_mode().

Usage: python python/peers/bench_llm.py --accel build-release/accel [--rounds 3] [--out results.json]
"""
import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_text  # noqa: E402  (machine state helpers)
import synth_llm  # noqa: E402

REPO_ROOT = synth_llm.REPO_ROOT
ENGINES = ("ours", "torch")
BAR_SPEEDUP = 3.0   # ours / torch decode tokens/s
BAR_BOUND = 0.7     # ours / bandwidth bound


class BenchError(RuntimeError):
    pass


def median(v):
    return statistics.median(v) if v else None


# ---- ours ----------------------------------------------------------------------------------------------------------

def run_ours(args, model_dir: Path, threads: int) -> dict:
    cmd = [args.accel, "bench", str(model_dir), "--json", "--emit-ids", "--batch", str(args.batch),
           "--prefill", str(args.prefill), "--decode", str(args.decode), "--warmup", str(args.warmup),
           "--iters", str(args.iters), "--threads", str(threads), "--seed", str(args.seed),
           "--bandwidth-mib", str(args.bandwidth_mib)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    if len(rows) != 1:
        raise BenchError(f"accel bench printed {len(rows)} results, expected 1")
    return rows[0]


# ---- torch ---------------------------------------------------------------------------------------------------------

class Stamps:
    """A generate() streamer that only timestamps: put() is called with the prompt first, then with each new token
    right after it is chosen."""

    def __init__(self):
        self.puts = 0
        self.t = []

    def put(self, value):
        if self.puts > 0:
            self.t.append(time.perf_counter())
        self.puts += 1

    def end(self):
        pass


def load_torch(model_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM
    cfg = json.loads((model_dir / "config.json").read_text())
    name = cfg.get("dtype") or cfg.get("torch_dtype") or "float32"
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).eval(), name


def torch_round(model, ids, args) -> dict:
    """Cold call, warm-up, timed calls of generate; per call prefill (TTFT), decode tokens/s and step intervals."""
    import torch
    x = torch.tensor(ids, dtype=torch.int64)
    mask = torch.ones_like(x)
    batch, d = x.shape[0], args.decode

    def call():
        s = Stamps()
        t0 = time.perf_counter()
        with torch.inference_mode():
            seq = model.generate(input_ids=x, attention_mask=mask, do_sample=False, num_beams=1,
                                 max_new_tokens=d, min_new_tokens=d, use_cache=True, streamer=s)
        t1 = time.perf_counter()
        if tuple(seq.shape) != (batch, x.shape[1] + d) or len(s.t) != d:
            raise BenchError(f"PyTorch generate returned shape {tuple(seq.shape)} with {len(s.t)} streamed tokens, "
                             f"expected ({batch}, {x.shape[1] + d}) and {d}")
        return {"call_ms": (t1 - t0) * 1e3, "prefill_ms": (s.t[0] - t0) * 1e3,
                "decode_tps": batch * (d - 1) / (s.t[-1] - s.t[0]),
                "steps_ms": [(b - a) * 1e3 for a, b in zip(s.t, s.t[1:])], "new_ids": seq[:, x.shape[1]:].tolist()}

    t = time.perf_counter()
    call()
    first_ms = (time.perf_counter() - t) * 1e3
    for _ in range(args.warmup):
        call()
    calls = [call() for _ in range(args.iters)]
    steps = [v for c in calls for v in c["steps_ms"]]
    return {"first_ms": first_ms, "prefill_ms": median([c["prefill_ms"] for c in calls]),
            "decode_tokens_per_s": median([c["decode_tps"] for c in calls]), "step_p50_ms": median(steps),
            "call_ms": median([c["call_ms"] for c in calls]), "output_ids": calls[-1]["new_ids"]}


# ---- the run -------------------------------------------------------------------------------------------------------

def config_name(model, dtype, args):
    return f"{model} {dtype} {args.batch}x{args.prefill}+{args.decode}"


def run_config(args, model, dtype, threads, engines, notes) -> dict:
    rec = {"config": config_name(model, dtype, args), "model": model, "dtype": dtype, "batch": args.batch,
           "prefill_tokens": args.prefill, "decode_tokens": args.decode, "rounds": {e: [] for e in engines},
           "errors": {}, "ours_detail": None, "torch_dtype": None}
    model_dir = synth_llm.synthesize(model, dtype, args.cache)
    if model_dir is None:
        rec["errors"]["setup"] = "skipped: not enough free disk for the checkpoint (see the message above)"
        notes.append(f"{rec['config']}: skipped, not enough free disk")
        return rec
    rec["model_dir"] = str(model_dir)
    torch_model = None
    if "torch" in engines:
        try:
            torch_model, rec["torch_dtype"] = load_torch(model_dir)
        except Exception as e:  # reported, ours still runs
            rec["errors"]["torch"] = f"load: {type(e).__name__}: {e}"
    for rnd in range(args.rounds):
        tag = f"[round {rnd + 1}/{args.rounds}] {rec['config']}"
        ids = None
        if "ours" in engines:
            try:
                row = run_ours(args, model_dir, threads)
                ids = row["input_ids"]
                rec["rounds"]["ours"].append({
                    "prefill_ms": row["prefill_ms"]["p50"], "decode_tokens_per_s": row["decode_tokens_per_s"],
                    "step_p50_ms": row["step_ms"]["p50"], "call_ms": row["call_ms"]["p50"],
                    "first_ms": row["first_ms"], "bound_tokens_per_s": row["bound_tokens_per_s"],
                    "fraction_of_bound": row["fraction_of_bound"], "read_gbps": (row["bandwidth"] or {}).get("read_gbps"),
                    "copy_gbps": (row["bandwidth"] or {}).get("copy_gbps")})
                rec["ours_detail"] = {k: v for k, v in row.items() if k not in ("input_ids", "output_ids")}
                rec["ours_output_ids"] = row["output_ids"]
                print(f"{tag}: ours {row['decode_tokens_per_s']:.2f} tokens/s, "
                      f"{row['fraction_of_bound'] or 0:.3f} of the bound", file=sys.stderr)
            except BenchError as e:
                rec["errors"]["ours"] = str(e)
                print(f"{tag}: ours failed: {e}", file=sys.stderr)
        else:  # peers only: seeded ids of our own
            import numpy as np
            ids = np.random.default_rng([args.seed, args.batch, args.prefill]).integers(
                3, 30000, size=(args.batch, args.prefill)).tolist()
        if torch_model is not None:
            if ids is None:
                rec["errors"].setdefault("torch", "not run: ours gave no prompt ids this round")
                continue
            try:
                r = torch_round(torch_model, ids, args)
                out = r.pop("output_ids")
                rec["rounds"]["torch"].append(r)
                if rec.get("ours_output_ids") is not None:
                    rec["same_output_ids_rows"] = sum(a == b for a, b in zip(rec["ours_output_ids"], out))
                print(f"{tag}: torch {r['decode_tokens_per_s']:.2f} tokens/s", file=sys.stderr)
            except Exception as e:  # a peer failing is reported, not fatal
                rec["errors"]["torch"] = f"{type(e).__name__}: {e}"
    del torch_model
    gc.collect()
    rec.pop("ours_output_ids", None)
    return rec


def summarize(rec) -> dict:
    med = {}
    for e, rounds in rec["rounds"].items():
        keys = rounds[0].keys() if rounds else []
        med[e] = {k: median([r[k] for r in rounds if r.get(k) is not None]) for k in keys}
    ours, torch_ = med.get("ours") or {}, med.get("torch") or {}
    speedup = (ours["decode_tokens_per_s"] / torch_["decode_tokens_per_s"]
               if ours.get("decode_tokens_per_s") and torch_.get("decode_tokens_per_s") else None)
    prefill_speedup = (torch_["prefill_ms"] / ours["prefill_ms"]
                       if ours.get("prefill_ms") and torch_.get("prefill_ms") else None)
    frac = ours.get("fraction_of_bound")
    torch_frac = (torch_["decode_tokens_per_s"] / ours["bound_tokens_per_s"]
                  if torch_.get("decode_tokens_per_s") and ours.get("bound_tokens_per_s") else None)
    checks = {"speedup_vs_torch": None if speedup is None else speedup >= BAR_SPEEDUP,
              "fraction_of_bound": None if frac is None else frac >= BAR_BOUND}
    passed = None if any(v is None for v in checks.values()) else all(checks.values())
    return dict(rec, median=med, decode_speedup_vs_torch=speedup, prefill_speedup_vs_torch=prefill_speedup,
                torch_fraction_of_bound=torch_frac,
                bars={"speedup_vs_torch": f">= {BAR_SPEEDUP}", "fraction_of_bound": f">= {BAR_BOUND}"},
                bar_checks=checks, passed=passed)


def run(args) -> dict:
    import torch
    threads = args.threads or bench_text.physical_cores()
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    engines = [e for e in ENGINES if e in args.engines]
    notes = []
    load_before = os.getloadavg()
    results = []
    for model in args.models:
        for dtype in args.dtypes:
            results.append(summarize(run_config(args, model, dtype, threads, engines, notes)))
    load_after = os.getloadavg()
    machine = {"cpu": bench_text.cpu_model(), "physical_cores": bench_text.physical_cores(),
               "logical_cpus": os.cpu_count(), "memory_bytes": bench_text.mem_total_bytes(),
               "kernel": platform.release(), "loadavg_before": load_before, "loadavg_after": load_after,
               "versions": bench_text.versions(), "accel_commit": bench_text.git_commit(),
               "accel_build": next((r["ours_detail"]["build"] for r in results if r["ours_detail"]), None),
               "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    settings = {"rounds": args.rounds, "warmup": args.warmup, "iters": args.iters, "threads": threads,
                "seed": args.seed, "batch": args.batch, "prefill": args.prefill, "decode": args.decode,
                "bandwidth_mib": args.bandwidth_mib, "engines": engines,
                "statistic": "median over rounds of each round's median over its timed calls",
                "timing": "per-token timestamps: prefill = time to first token; decode tokens/s = "
                          "batch * (decode - 1) / (last token - first token)"}
    return {"machine": machine, "settings": settings, "results": results, "notes": notes}


def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def print_table(doc) -> None:
    m = doc["machine"]
    print(f"machine: {m['cpu']}, {m['physical_cores']} physical cores, {m['logical_cpus']} logical, "
          f"{m['memory_bytes'] / 2**30:.1f} GiB; load average before {fmt(m['loadavg_before'][0])} "
          f"after {fmt(m['loadavg_after'][0])} (1 min)")
    v = m["versions"]
    print(f"versions: accel {m['accel_commit']} ({m['accel_build']}), torch {v['torch']}, transformers "
          f"{v['transformers']}")
    s = doc["settings"]
    print(f"settings: batch {s['batch']}, prompt {s['prefill']} + {s['decode']} new tokens (greedy, EOS suppressed); "
          f"{s['rounds']} rounds x (1 cold + {s['warmup']} warm-up + {s['iters']} timed calls), {s['threads']} "
          f"threads; {s['statistic']}\n")
    head = ["config", "prefill ms ours", "torch", "decode tok/s ours", "torch", "ours/torch", "GB/step", "read GB/s",
            "bound tok/s", "ours/bound", "torch/bound", "result"]
    rows = []
    for r in doc["results"]:
        o, t = r["median"].get("ours") or {}, r["median"].get("torch") or {}
        d = r["ours_detail"] or {}
        gb = d.get("weight_bytes_per_step")
        result = {True: "PASS", False: "FAIL", None: "n/a"}[r["passed"]]
        if r["errors"]:
            result += " (" + "; ".join(f"{e}: {msg[:60]}" for e, msg in r["errors"].items()) + ")"
        rows.append([r["config"], fmt(o.get("prefill_ms"), ".1f"), fmt(t.get("prefill_ms"), ".1f"),
                     fmt(o.get("decode_tokens_per_s")), fmt(t.get("decode_tokens_per_s")),
                     fmt(r["decode_speedup_vs_torch"]), fmt(gb / 1e9 if gb else None, ".3f"),
                     fmt(o.get("read_gbps")), fmt(o.get("bound_tokens_per_s")), fmt(o.get("fraction_of_bound"), ".3f"),
                     fmt(r["torch_fraction_of_bound"], ".3f"), result])
    widths = [max(len(str(x[i])) for x in [head] + rows) for i in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(c).ljust(w) if i in (0, len(head) - 1) else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    print(f"\nbars: ours/torch decode tokens/s >= {BAR_SPEEDUP}; ours/bound >= {BAR_BOUND} (bound = read bandwidth / "
          f"weight bytes per decode step, both from accel bench's process)")
    for r in doc["results"]:
        if r.get("same_output_ids_rows") is not None:
            print(f"{r['config']}: generated ids identical to PyTorch's in {r['same_output_ids_rows']} of "
                  f"{r['batch']} rows (random weights: informational, parity is tested on fixtures)")
    for n in doc["notes"]:
        print(f"note: {n}")


def parse_list(s):
    return [x for x in s.split(",") if x]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="accel vs PyTorch eager generate on TinyLlama-1.1B / Qwen2-0.5B shapes")
    ap.add_argument("--accel", default=str(REPO_ROOT / "build-release" / "accel"), help="the accel binary")
    ap.add_argument("--cache", type=Path, default=synth_llm.DEFAULT_CACHE, help="synthetic model cache")
    ap.add_argument("--models", type=parse_list, default=list(synth_llm.SHAPES))
    ap.add_argument("--dtypes", type=parse_list, default=["f32", "bf16"], help="subset of f32,bf16,f16")
    ap.add_argument("--engines", type=parse_list, default=list(ENGINES), help="subset of ours,torch")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=0, help="warm-up calls after the cold one, per round and engine")
    ap.add_argument("--iters", type=int, default=2, help="timed calls per round and engine")
    ap.add_argument("--threads", type=int, default=0, help="0 = physical cores")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prefill", type=int, default=128, help="prompt tokens")
    ap.add_argument("--decode", type=int, default=128, help="new tokens (min = max), >= 2")
    ap.add_argument("--bandwidth-mib", type=int, default=1024, help="accel bench's bandwidth buffers")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a bar is not met")
    args = ap.parse_args(argv)
    bad = ([m for m in args.models if m not in synth_llm.SHAPES] + [d for d in args.dtypes if d not in synth_llm.DTYPES]
           + [e for e in args.engines if e not in ENGINES])
    if (bad or args.rounds < 1 or args.iters < 1 or args.warmup < 0 or args.batch < 1 or args.prefill < 1
            or args.decode < 2 or args.bandwidth_mib < 1):
        ap.error(f"invalid arguments {bad or ''}")
    if "ours" in args.engines and not os.access(args.accel, os.X_OK):
        ap.error(f"{args.accel} is not an executable (build it: scripts/bench-llm.sh does)")
    doc = run(args)
    print_table(doc)
    if args.out:
        args.out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nwrote {args.out}")
    errors = any(r["errors"] for r in doc["results"])
    failed = any(r["passed"] is False for r in doc["results"])
    return 1 if errors or (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
