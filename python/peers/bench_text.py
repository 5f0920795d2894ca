"""Issue-4 benchmarks: accel vs PyTorch eager vs ONNX Runtime, side by side in one run on this machine.

Models: random-weight checkpoints with the real shapes of bert-base-uncased and t5-small (synth_text.py).
Configurations and bars (issue 4):
  bert-base-uncased, fp32, batch 1 x 128 and 8 x 128 tokens, embedding (encoder + masked mean pooling):
      ours <= 0.67 x PyTorch eager  and  ours <= 1.0 x ONNX Runtime
  t5-small, fp32, greedy generation of exactly 32 new tokens (min_new_tokens = max_new_tokens = 32):
      ours <= 0.5 x PyTorch `generate` (>= 2x faster); ONNX Runtime is not measured for generation (see notes)

Method: R rounds, interleaved (ours, torch, onnxruntime, ours, torch, onnxruntime, ...). In each round each engine
runs every configuration of a model: one cold call, W warm-up calls, then N timed calls; the round's value is the
median of the N latencies. The reported latency is the median over rounds; ratios are ours / peer of those
medians. `ours` is `accel bench --json --emit-ids` (a fresh process each round, so its cold call includes
building the graph); the peers get exactly the token ids ours used (read from its JSON), the same full attention
mask, the same thread count (physical cores) and the same W and N.

Usage: python python/peers/bench_text.py --accel build-release/accel [--rounds 3] [--out results.json]
"""
import argparse
import datetime
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
import synth_text  # noqa: E402

REPO_ROOT = synth_text.REPO_ROOT
ENGINES = ("ours", "torch", "ort")

BARS = {  # model -> {peer: max ratio ours/peer}
    "bert-base-uncased": {"torch": 0.67, "ort": 1.0},
    "t5-small": {"torch": 0.5},
}


# ---- machine state ---------------------------------------------------------------------------------------------

def physical_cores() -> int:
    """Distinct (package, core) pairs among the CPUs this process may run on."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = set()
    for c in cpus:
        base = Path(f"/sys/devices/system/cpu/cpu{c}/topology")
        try:
            cores.add((base.joinpath("physical_package_id").read_text().strip(),
                       base.joinpath("core_id").read_text().strip()))
        except OSError:
            cores.add(("?", str(c)))
    return max(1, len(cores))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions() -> dict:
    out = {"python": platform.python_version()}
    for mod in ("torch", "transformers", "tokenizers", "onnxruntime", "onnx", "onnxscript", "numpy"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = None
    return out


# ---- timing ----------------------------------------------------------------------------------------------------

def time_calls(fn, warmup: int, iters: int) -> dict:
    """One cold call, `warmup` untimed calls, `iters` timed calls (ms). Mirrors src/bench/text_bench.c."""
    t = time.perf_counter()
    fn()
    first = (time.perf_counter() - t) * 1e3
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    return {"first_ms": first, "samples_ms": samples, "median_ms": statistics.median(samples)}


class BenchError(RuntimeError):
    pass


def run_ours(accel: str, model_dir: Path, batches, tokens, generate, warmup, iters, threads, seed) -> list:
    cmd = [accel, "bench", str(model_dir), "--json", "--emit-ids", "--batch", ",".join(map(str, batches)),
           "--tokens", str(tokens), "--warmup", str(warmup), "--iters", str(iters), "--threads", str(threads),
           "--seed", str(seed)]
    if generate:
        cmd += ["--generate", str(generate)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    if len(rows) != len(batches):
        raise BenchError(f"accel bench printed {len(rows)} results for {len(batches)} batch sizes")
    return rows


# ---- peers -------------------------------------------------------------------------------------------------------

def bert_module(model_dir: Path):
    """BertModel (no pooler: ours does not compute it for mean pooling) followed by masked mean pooling, the work
    `accel bench` times for an embedding model."""
    import torch
    from transformers import BertModel

    class MeanPooled(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            w = attention_mask.unsqueeze(-1).to(h.dtype)
            return (h * w).sum(1) / w.sum(1).clamp(min=1e-9)

    bert = BertModel.from_pretrained(model_dir, add_pooling_layer=False, dtype=torch.float32).eval()
    return MeanPooled(bert).eval()


def bert_onnx(module, model_dir: Path, cache: Path) -> Path:
    """Exports the mean-pooled BERT once (torch.onnx.export, dynamic batch and sequence) and caches it."""
    import torch
    out_dir = cache / "onnx"
    path = out_dir / "model.onnx"
    stamp = out_dir / "export.json"
    src = model_dir / "model.safetensors"
    want = {"weights_mtime_ns": src.stat().st_mtime_ns, "torch": torch.__version__, "pooling": "mean"}
    if path.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == want:
                return path
        except ValueError:
            pass
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"bench_text: exporting {path} (torch.onnx.export)", file=sys.stderr)
    ids = torch.randint(5, 1000, (2, 16))
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    torch.onnx.export(module, (ids, torch.ones_like(ids)), str(path), input_names=["input_ids", "attention_mask"],
                      output_names=["pooled"], dynamo=True, external_data=False,
                      dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}})
    stamp.write_text(json.dumps(want) + "\n")
    return path


def ort_session(path: Path, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def bench_bert_torch(module, ids, warmup, iters):
    import torch
    x = torch.tensor(ids, dtype=torch.int64)
    mask = torch.ones_like(x)

    def call():
        with torch.inference_mode():
            module(x, mask)
    return time_calls(call, warmup, iters)


def bench_bert_ort(sess, ids, warmup, iters):
    import numpy as np
    x = np.asarray(ids, dtype=np.int64)
    feeds = {"input_ids": x, "attention_mask": np.ones_like(x)}
    return time_calls(lambda: sess.run(None, feeds), warmup, iters)


def bench_t5_torch(model, ids, new_tokens, warmup, iters):
    import torch
    x = torch.tensor(ids, dtype=torch.int64)
    mask = torch.ones_like(x)
    out = {}

    def call():
        with torch.inference_mode():
            out["seq"] = model.generate(input_ids=x, attention_mask=mask, do_sample=False, num_beams=1,
                                        max_new_tokens=new_tokens, min_new_tokens=new_tokens, use_cache=True)
    r = time_calls(call, warmup, iters)
    seq = out["seq"]
    if tuple(seq.shape) != (x.shape[0], new_tokens + 1):
        raise BenchError(f"PyTorch generate returned shape {tuple(seq.shape)}, expected "
                         f"({x.shape[0]}, {new_tokens + 1})")
    r["output_ids"] = seq.tolist()
    return r


# ---- the run -------------------------------------------------------------------------------------------------------

def model_plans(args):
    plans = []
    if "bert-base-uncased" in args.models:
        plans.append({"model": "bert-base-uncased", "batches": args.bert_batches, "tokens": args.tokens,
                      "generate": 0})
    if "t5-small" in args.models:
        plans.append({"model": "t5-small", "batches": args.t5_batches, "tokens": args.t5_tokens,
                      "generate": args.generate})
    return plans


def config_name(model, batch, tokens, generate):
    return f"{model} {batch}x{tokens}" + (f" greedy {generate}" if generate else "")


def local_ids(model, batch, tokens, seed):
    """Peers-only runs (--engines without ours): seeded ids above the special tokens of the synthetic vocabularies
    (bert 0..4, t5 0..2). A full run always uses ours' ids instead."""
    import numpy as np
    lo, hi = (5, 30522) if model == "bert-base-uncased" else (3, 32128)
    return np.random.default_rng([seed, batch, tokens]).integers(lo, hi, size=(batch, tokens)).tolist()


def ours_round(args, plan, threads, engines, results, rnd) -> dict:
    """Runs `accel bench` for every batch size of plan; records its medians; returns {batch: input ids or None}."""
    name = plan["model"]
    recs = {b: results[config_name(name, b, plan["tokens"], plan["generate"])] for b in plan["batches"]}
    if "ours" not in engines:
        return {b: local_ids(name, b, plan["tokens"], args.seed) for b in plan["batches"]}
    try:
        rows = run_ours(args.accel, plan["dir"], plan["batches"], plan["tokens"], plan["generate"], args.warmup,
                        args.iters, threads, args.seed)
    except BenchError as e:
        for rec in recs.values():
            rec["errors"]["ours"] = str(e)
        print(f"[round {rnd + 1}/{args.rounds}] {name}: ours failed: {e}", file=sys.stderr)
        return {b: None for b in plan["batches"]}
    ids = {}
    for b, row in zip(plan["batches"], rows):
        rec = recs[b]
        rec["rounds"]["ours"].append(row["latency_ms"]["p50"])
        rec["ours_detail"] = {k: v for k, v in row.items() if k not in ("input_ids", "output_ids")}
        rec["ours_output_ids"] = row.get("output_ids")
        ids[b] = row["input_ids"]
        print(f"[round {rnd + 1}/{args.rounds}] {rec['config']}: ours {row['latency_ms']['p50']:.2f} ms",
              file=sys.stderr)
    return ids


def run(args) -> dict:
    import torch
    threads = args.threads or physical_cores()
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    notes = []
    load_before = os.getloadavg()
    results = {}  # config name -> record
    engines = [e for e in ENGINES if e in args.engines]
    peers = {}
    plans = model_plans(args)
    for plan in plans:
        name = plan["model"]
        model_dir = synth_text.synthesize(name, args.cache)
        plan["dir"] = model_dir
        p = peers.setdefault(name, {})
        if "torch" in engines or "ort" in engines:
            if name == "bert-base-uncased":
                p["module"] = bert_module(model_dir)
                if "ort" in engines:
                    p["ort"] = ort_session(bert_onnx(p["module"], model_dir, model_dir), threads)
            else:
                from transformers import T5ForConditionalGeneration
                p["module"] = T5ForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).eval()
        if name == "t5-small" and "ort" in engines:
            notes.append("t5-small: ONNX Runtime not measured for greedy generation (it needs an encoder + "
                         "decoder-with-past export and a generation loop; optional in issue 4)")
        for b in plan["batches"]:
            cn = config_name(name, b, plan["tokens"], plan["generate"])
            results[cn] = {"config": cn, "model": name, "batch": b, "tokens": plan["tokens"],
                           "new_tokens": plan["generate"] or None,
                           "rounds": {e: [] for e in engines}, "errors": {}, "ours_detail": None}

    for rnd in range(args.rounds):
        for plan in plans:
            name, p = plan["model"], peers[plan["model"]]
            # ours first: its JSON carries the token ids the peers then use
            ids_by_batch = ours_round(args, plan, threads, engines, results, rnd)
            for engine in ("torch", "ort"):
                if engine not in engines or (engine == "ort" and "ort" not in p):
                    continue
                for b in plan["batches"]:
                    rec = results[config_name(name, b, plan["tokens"], plan["generate"])]
                    ids = ids_by_batch[b]
                    if ids is None:  # ours failed: a local draw would not be "the same ids"
                        rec["errors"].setdefault(engine, "not run: ours gave no input ids this round")
                        continue
                    try:
                        if name == "bert-base-uncased":
                            r = (bench_bert_torch(p["module"], ids, args.warmup, args.iters) if engine == "torch"
                                 else bench_bert_ort(p["ort"], ids, args.warmup, args.iters))
                        else:
                            r = bench_t5_torch(p["module"], ids, plan["generate"], args.warmup, args.iters)
                            ours_out = rec.get("ours_output_ids")
                            if ours_out is not None:
                                rec["same_output_ids_rows"] = sum(a == b2 for a, b2 in zip(ours_out, r["output_ids"]))
                        rec["rounds"][engine].append(r["median_ms"])
                        print(f"[round {rnd + 1}/{args.rounds}] {rec['config']}: {engine} {r['median_ms']:.2f} ms",
                              file=sys.stderr)
                    except Exception as e:  # a peer failing is reported, not fatal for the others
                        rec["errors"][engine] = f"{type(e).__name__}: {e}"

    load_after = os.getloadavg()
    out_rows = []
    for rec in results.values():
        med = {e: (statistics.median(v) if v else None) for e, v in rec["rounds"].items()}
        bars = BARS[rec["model"]]
        ratios, checks = {}, {}
        for peer, limit in bars.items():
            if med.get("ours") and med.get(peer):
                ratios[peer] = med["ours"] / med[peer]
                checks[peer] = ratios[peer] <= limit
            else:
                ratios[peer] = None
                checks[peer] = None
        passed = all(c is True for c in checks.values()) if all(c is not None for c in checks.values()) else None
        rec.pop("ours_output_ids", None)
        out_rows.append(dict(rec, median_ms=med, ratios=ratios, bar={p: f"<= {v:.2f}" for p, v in bars.items()},
                             bar_checks=checks, passed=passed))
    machine = {"cpu": cpu_model(), "physical_cores": physical_cores(), "logical_cpus": os.cpu_count(),
               "memory_bytes": mem_total_bytes(), "kernel": platform.release(), "loadavg_before": load_before,
               "loadavg_after": load_after, "versions": versions(), "accel_commit": git_commit(),
               "accel_build": next((r["ours_detail"]["build"] for r in out_rows if r["ours_detail"]), None),
               "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    settings = {"rounds": args.rounds, "warmup": args.warmup, "iters": args.iters, "threads": threads,
                "seed": args.seed, "engines": engines, "statistic": "median over rounds of each round's median"}
    return {"machine": machine, "settings": settings, "results": out_rows, "notes": notes}


def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def print_table(doc) -> None:
    m = doc["machine"]
    print(f"machine: {m['cpu']}, {m['physical_cores']} physical cores, {m['logical_cpus']} logical, "
          f"{m['memory_bytes'] / 2**30:.1f} GiB; load average before {fmt(m['loadavg_before'][0])} "
          f"after {fmt(m['loadavg_after'][0])} (1 min)")
    v = m["versions"]
    print(f"versions: accel {m['accel_commit']} ({m['accel_build']}), torch {v['torch']}, onnxruntime "
          f"{v['onnxruntime']}, transformers {v['transformers']}, onnx {v['onnx']}")
    s = doc["settings"]
    print(f"settings: {s['rounds']} rounds x ({s['warmup']} warm-up + {s['iters']} timed calls), {s['threads']} "
          f"threads; latency = {s['statistic']}\n")
    head = ["config", "ours ms", "torch ms", "ort ms", "ours/torch", "ours/ort", "bar", "result"]
    rows = []
    for r in doc["results"]:
        med, rat = r["median_ms"], r["ratios"]
        bar = ", ".join(f"ours/{p} {b}" for p, b in r["bar"].items())
        result = {True: "PASS", False: "FAIL", None: "n/a"}[r["passed"]]
        if r["errors"]:
            result += " (" + "; ".join(f"{e}: {msg[:60]}" for e, msg in r["errors"].items()) + ")"
        rows.append([r["config"], fmt(med.get("ours")), fmt(med.get("torch")), fmt(med.get("ort")),
                     fmt(rat.get("torch"), ".3f"), fmt(rat.get("ort"), ".3f"), bar, result])
    widths = [max(len(str(x[i])) for x in [head] + rows) for i in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(c).ljust(w) if i in (0, 6, 7) else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    for r in doc["results"]:
        if r.get("same_output_ids_rows") is not None:
            print(f"\n{r['config']}: generated ids identical to PyTorch's in {r['same_output_ids_rows']} of "
                  f"{r['batch']} rows (random weights: informational, parity is tested on fixtures)")
    for n in doc["notes"]:
        print(f"note: {n}")


def parse_list(s):
    return [int(x) for x in s.split(",") if x]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="accel vs PyTorch vs ONNX Runtime on bert-base / t5-small shapes")
    ap.add_argument("--accel", default=str(REPO_ROOT / "build-release" / "accel"), help="the accel binary")
    ap.add_argument("--cache", type=Path, default=synth_text.DEFAULT_CACHE, help="synthetic model cache")
    ap.add_argument("--models", default="bert-base-uncased,t5-small")
    ap.add_argument("--engines", default=",".join(ENGINES), help="subset of ours,torch,ort")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="0 = physical cores")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--tokens", type=int, default=128, help="BERT input tokens per row")
    ap.add_argument("--bert-batches", type=parse_list, default=[1, 8])
    ap.add_argument("--t5-tokens", type=int, default=128, help="T5 input tokens per row")
    ap.add_argument("--t5-batches", type=parse_list, default=[1])
    ap.add_argument("--generate", type=int, default=32, help="T5 new tokens (min = max)")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    ap.add_argument("--check", action="store_true", help="exit 1 when a bar is not met")
    args = ap.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.engines = [e for e in args.engines.split(",") if e]
    bad = [m for m in args.models if m not in BARS] + [e for e in args.engines if e not in ENGINES]
    if bad or args.rounds < 1 or args.iters < 1 or args.warmup < 0:
        ap.error(f"invalid arguments {bad or ''}")
    if "ours" in args.engines and not os.access(args.accel, os.X_OK):
        ap.error(f"{args.accel} is not an executable (build it: scripts/bench-text.sh does)")
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
