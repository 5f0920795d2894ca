/* text_bench.h — timing a text model (embedding or seq2seq generation) on random token ids: the engine behind
 * `accel bench` (tools/cmd_bench.c). Kept out of the CLI so later runners (the benchmark store of issue 6,
 * bindings) can call it and get the same numbers.
 *
 * One configuration = (batch, tokens[, new tokens]). For it, bench_text_run makes seeded random ids, runs the
 * task once cold (the "first" time: graph building, activation memory, weights paged in), then `warmup` more
 * times untimed, then measures `iters` calls (or until `seconds` have passed). Embedding models time embed_tokens
 * (src/tasks/tasks.h); seq2seq models time seq2seq_generate_tokens with greedy search and exactly `new_tokens`
 * new tokens (min_new_tokens = max_new_tokens), which is checked on every call. */
#ifndef ACCEL_BENCH_TEXT_BENCH_H
#define ACCEL_BENCH_TEXT_BENCH_H

#include "accel.h"
#include "bench/stats.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct bench_text_config {
    int64_t batch;      /* rows, >= 1 */
    int64_t tokens;     /* input tokens per row, >= 1 (no special tokens added: every position is a random id) */
    int new_tokens;     /* seq2seq: tokens to generate per row (>= 1); ignored for embedding models */
    int warmup;         /* untimed calls after the first one, >= 0 */
    int iters;          /* timed calls; 0 = no count limit (then seconds must be > 0) */
    double seconds;     /* > 0: stop timing once this much time has passed (after at least one call); 0 = off */
    uint64_t seed;      /* random ids are a function of (seed, batch, tokens) */
    bool keep_ids;      /* keep the input ids (and generated ids) in the result */
    /* called after each timed call (may be NULL): done calls, limit (0 = by time), seconds spent timing so far */
    void (*progress)(void *user, int done, int limit, double elapsed_s);
    void *progress_user;
} bench_text_config;

typedef struct bench_text_result {
    accel_task task;          /* ACCEL_TASK_EMBED or ACCEL_TASK_SEQ2SEQ */
    int64_t batch, tokens;
    int new_tokens;           /* seq2seq: generated per row; 0 for embeddings */
    double first_ms;          /* the first (cold) call */
    accel_stats latency_ms;   /* the timed calls */
    double timed_s;           /* wall time of the timed calls together */
    double items_per_s;       /* rows per second: batch / mean latency */
    double tokens_per_s;      /* input tokens per second (embeddings): batch * tokens / mean latency */
    double new_tokens_per_s;  /* generated tokens per second (seq2seq): batch * new_tokens / mean latency */
    int64_t peak_rss_bytes;   /* the process's peak resident set size after the configuration (getrusage) */
    char devices_used[96];    /* accel_session_devices_used after the last call */
    int32_t *input_ids;       /* keep_ids: [batch * tokens], else NULL */
    int32_t *output_ids;      /* keep_ids and seq2seq: [batch * (new_tokens + 1)] (decoder start token first) */
} bench_text_result;

/* Seconds on a monotonic clock. */
double bench_now_s(void);

/* The process's peak resident set size in bytes (getrusage), 0 when unknown. */
int64_t bench_peak_rss_bytes(void);

/* Which task bench_text_run measures for m: ACCEL_TASK_EMBED when the model embeds, else ACCEL_TASK_SEQ2SEQ when it
 * generates text. ACCEL_ERR_UNSUPPORTED when it does neither. */
accel_status bench_text_task(const accel_model *m, accel_task *task);

/* The id range random inputs are drawn from: [*lo, *hi) with hi = the model's vocabulary (the smaller of the
 * embedding table and the tokenizer's vocabulary) and lo = the first id that is not a special token. Special
 * tokens (pad, unk, bos, eos, cls, sep, mask, decoder start, what the tokenizer's post-processor adds, and added
 * tokens marked special such as T5's sentinels) that lie inside the range are never drawn.
 * ACCEL_ERR_MODEL_FORMAT when no id is left. */
accel_status bench_text_id_range(const accel_model *m, int32_t *lo, int32_t *hi);

/* Fills ids[batch * tokens] with the seeded random ids of that configuration (deterministic in seed, batch,
 * tokens and the model's vocabulary). */
accel_status bench_text_random_ids(const accel_model *m, uint64_t seed, int64_t batch, int64_t tokens,
                                   int32_t *ids);

/* Measures one configuration on session s (made from m). On success *out is filled (free it with
 * bench_text_result_free). Errors: ACCEL_ERR_INVALID_ARG (bad config, tokens beyond the model's positions),
 * ACCEL_ERR_UNSUPPORTED (neither task), ACCEL_ERR_INTERNAL (a generation that did not produce exactly new_tokens),
 * and whatever the task returns. */
accel_status bench_text_run(accel_session *s, const bench_text_config *cfg, bench_text_result *out);

void bench_text_result_free(bench_text_result *r);

#endif
