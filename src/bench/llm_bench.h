/* llm_bench.h — timing a causal LM (LLaMA, Qwen2, Mistral): prefill of a random prompt, then greedy decoding with
 * EOS suppressed, held against the memory-bandwidth bound measured in the same process. The engine behind
 * `accel bench <llm-dir>` (tools/cmd_bench.c); docs/benchmarks.md describes the method.
 *
 * One configuration = (batch, prefill tokens, decode tokens). For it, bench_llm_run:
 *  1. draws seeded random prompt ids (bench_text_random_ids: no special tokens), `batch` prompts of `prefill` ids;
 *  2. runs lm_generate_tokens (src/tasks/tasks.h), the path accel_generate_text takes, greedy, with
 *     min_new_tokens = max_new_tokens = decode (EOS suppressed until then; every call is checked to produce
 *     exactly `decode` tokens per sequence), the other generation settings from the model's generation config:
 *     once cold ("first"), `warmup` times untimed;
 *  3. reads the weights one decode step reads off the decode-step graph (bench_llm_step_weights);
 *  4. measures the memory bandwidth (membw.h) right before the timed calls, with the model's thread count;
 *  5. times `iters` calls (or until `seconds` have passed). Within a call every new token of sequence 0 is
 *     timestamped by the stream callback as soon as it is chosen: the prefill time is call start -> first token
 *     (time to first token), the decode steps are the intervals between consecutive tokens (one forward of one
 *     token per sequence + choosing the next token), decode-1 of them per call.
 *     A model directory without tokenizer.json cannot stream: then the call's generate stats (prefill_s,
 *     decode_s) give the prefill time and one mean step per call.
 * Decode tokens/s of a call = batch * (decode - 1) / (last token time - first token time); the reported value is the
 * median over calls. The bound = batch * read bandwidth / weight bytes per step: decode streams every weight once
 * per step and writes little, so the read figure is the one that limits it. */
#ifndef ACCEL_BENCH_LLM_BENCH_H
#define ACCEL_BENCH_LLM_BENCH_H

#include "accel.h"
#include "bench/membw.h"
#include "bench/stats.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct bench_llm_config {
    int64_t batch;          /* sequences, >= 1 (prompts of equal length: no padding) */
    int64_t prefill;        /* prompt tokens per sequence, >= 1 */
    int decode;             /* new tokens per sequence, >= 2 (prefill + decode <= the model's context) */
    int warmup;             /* untimed calls after the first one, >= 0 */
    int iters;              /* timed calls; 0 = no count limit (then seconds must be > 0) */
    double seconds;         /* > 0: stop timing once this much time has passed (after at least one call) */
    uint64_t seed;          /* prompt ids are a function of (seed, batch, prefill) */
    int threads;            /* threads of the bandwidth measurement (the model's); >= 1 */
    size_t bandwidth_bytes; /* buffer size of the bandwidth measurement (>= 1 MiB); 0 = not measured, no bound */
    int bandwidth_reps;     /* timed passes of each bandwidth figure, >= 1 */
    bool keep_ids;          /* keep the prompt ids and the last call's generated ids in the result */
    /* called after each timed call (may be NULL): done calls, limit (0 = by time), seconds spent timing so far */
    void (*progress)(void *user, int done, int limit, double elapsed_s);
    void *progress_user;
} bench_llm_config;

/* The weights one decode step reads, from the decode-step graph: every weight leaf a node reads (through views),
 * whole, except the embedding table, of which get_rows reads one row per sequence; a tensor read twice (tied
 * embeddings: get_rows and lm_head) counts once, whole. Each is looked up in the model's weight table. */
typedef struct bench_llm_weights {
    int64_t bytes;                        /* per decode step */
    int tensors;                          /* distinct weight tensors read */
    int in_table;                         /* of them, found in the model's weight table (all, normally) */
    int64_t bytes_by_dtype[ACCEL_DTYPE_COUNT];
    int64_t model_bytes;                  /* every entry of the weight table (fusion sources included) */
    int64_t kv_bytes;                     /* KV cache bytes the attention of the last decode step read */
} bench_llm_weights;

typedef struct bench_llm_result {
    int64_t batch, prefill;
    int decode;
    bool streamed;              /* per-token timestamps (true) or the per-call generate stats (no tokenizer) */
    double first_ms;            /* the first (cold) call, whole */
    accel_stats call_ms;        /* timed calls, whole */
    accel_stats prefill_ms;     /* time to first token, per call */
    double prefill_pass_ms;     /* median of the calls' prefill pass alone (generate stats prefill_s) */
    double prefill_tokens_per_s;/* batch * prefill / prefill_ms.p50 */
    accel_stats step_ms;        /* every decode step of every timed call (streamed) or one mean per call */
    double decode_tokens_per_s; /* median over calls of batch * (decode - 1) / decode time */
    double step_compute_ms, step_build_ms, step_alloc_ms; /* per step, mean over the timed calls (generate stats) */
    double timed_s;             /* wall time of the timed calls together */
    bench_llm_weights weights;
    bool bandwidth_measured;
    bench_membw bw;
    double bound_tokens_per_s;  /* batch * bw.read_gbps * 1e9 / weights.bytes (0 when not measured) */
    double fraction_of_bound;   /* decode_tokens_per_s / bound_tokens_per_s (0 when not measured) */
    int64_t kv_cache_bytes;     /* the session's KV cache (allocated) */
    int64_t peak_rss_bytes;
    char devices_used[96];
    int32_t *input_ids;         /* keep_ids: [batch * prefill], else NULL */
    int32_t *output_ids;        /* keep_ids: [batch * decode], the last timed call's new tokens */
} bench_llm_result;

/* Fills *out from the graph the session's scheduler placed last, which after a causal-LM generation of two or
 * more tokens is the decode-step graph. Errors: ACCEL_ERR_INVALID_ARG (NULL, no graph placed, no weight in it). */
accel_status bench_llm_step_weights(accel_session *s, bench_llm_weights *out);

/* Measures one configuration on session s. On success *out is filled (free with bench_llm_result_free).
 * Errors: ACCEL_ERR_INVALID_ARG (bad config, prefill + decode beyond the context), ACCEL_ERR_UNSUPPORTED (not a
 * causal LM), ACCEL_ERR_INTERNAL (a call that did not produce exactly decode tokens per sequence), and what
 * generation or the bandwidth measurement return. */
accel_status bench_llm_run(accel_session *s, const bench_llm_config *cfg, bench_llm_result *out);

void bench_llm_result_free(bench_llm_result *r);

#endif
