/* llm_bench.c — prefill + greedy decode timing of causal LMs and the bandwidth bound (see llm_bench.h). */
#include "bench/llm_bench.h"

#include "bench/text_bench.h"
#include "core/error.h"
#include "core/tensor.h"
#include "models/decoder_lm.h"
#include "models/model.h"
#include "tasks/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the weights of a decode step ------------------------------------------------------------------------------ */

typedef struct weight_read {
    const void *data; /* the weight leaf's memory: one entry per tensor, however many nodes read it */
    size_t bytes;
    accel_dtype dtype;
} weight_read;

typedef struct weight_set {
    weight_read *v;
    int n, cap;
} weight_set;

/* Records that `bytes` of the weight at data are read; a second read of the same weight keeps the larger count. */
static bool weight_note(weight_set *ws, const void *data, size_t bytes, accel_dtype dtype) {
    for (int i = 0; i < ws->n; i++)
        if (ws->v[i].data == data) {
            if (bytes > ws->v[i].bytes) ws->v[i].bytes = bytes;
            return true;
        }
    if (ws->n == ws->cap) {
        int cap = ws->cap ? ws->cap * 2 : 256;
        weight_read *nv = realloc(ws->v, sizeof *nv * (size_t)cap);
        if (!nv) return false;
        ws->v = nv;
        ws->cap = cap;
    }
    ws->v[ws->n++] = (weight_read){data, bytes, dtype};
    return true;
}

accel_status bench_llm_step_weights(accel_session *s, bench_llm_weights *out) {
    if (!s || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench_llm_step_weights: NULL argument");
    memset(out, 0, sizeof *out);
    const accel_model *m = s->model;
    const int n = accel_sched_placement_count(s->sched);
    if (n <= 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: the session has placed no graph yet");
    weight_set ws = {0};
    accel_status st = ACCEL_OK;
    for (int i = 0; i < n && st == ACCEL_OK; i++) {
        accel_placement p;
        if ((st = accel_sched_placement(s->sched, i, &p)) != ACCEL_OK) break;
        const accel_tensor *node = p.node;
        if (p.is_copy || !node || node->op == ACCEL_OP_VIEW) continue; /* views read nothing themselves */
        if (node->op == ACCEL_OP_ATTENTION)
            out->kv_bytes += (int64_t)(accel_tensor_nbytes(node->src[1]) + accel_tensor_nbytes(node->src[2]));
        for (int k = 0; k < ACCEL_MAX_SRC; k++) {
            const accel_tensor *t = node->src[k];
            if (!t) continue;
            const accel_tensor *base = t->op == ACCEL_OP_VIEW && t->view_src ? t->view_src : t;
            if (!(base->flags & ACCEL_FLAG_WEIGHT) || !base->data) continue;
            const size_t whole = accel_tensor_nbytes(base);
            size_t bytes = t == base ? whole : accel_tensor_nbytes(t);
            if (node->op == ACCEL_OP_GET_ROWS && k == 0 && base->shape[0] > 0) /* rows looked up, not the table */
                bytes = (size_t)accel_tensor_nelements(node->src[1]) * (whole / (size_t)base->shape[0]);
            if (bytes > whole) bytes = whole;
            if (!weight_note(&ws, base->data, bytes, base->dtype))
                st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
        }
    }
    if (st == ACCEL_OK && ws.n == 0)
        st = accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: the last placed graph reads no weights");
    for (int i = 0; st == ACCEL_OK && i < ws.n; i++) {
        out->bytes += (int64_t)ws.v[i].bytes;
        if ((int)ws.v[i].dtype >= 0 && ws.v[i].dtype < ACCEL_DTYPE_COUNT)
            out->bytes_by_dtype[ws.v[i].dtype] += (int64_t)ws.v[i].bytes;
        for (int w = 0; w < m->n_weights; w++)
            if (m->weights[w].data == ws.v[i].data) {
                out->in_table++;
                break;
            }
    }
    out->tensors = ws.n;
    for (int w = 0; w < m->n_weights; w++) out->model_bytes += (int64_t)m->weights[w].nbytes;
    free(ws.v);
    return st;
}

/* ---- one generate call ---------------------------------------------------------------------------------------- */

typedef struct llm_call {
    accel_session *s;
    accel_generate_params gp;   /* resolved */
    const int32_t **prompts;    /* [batch] into ids */
    int64_t *lens;
    int n;
    int32_t *out_ids;           /* [batch * decode] */
    int64_t *out_lens;
    double *stamps;             /* [decode]: when each new token of sequence 0 was chosen */
    int n_stamps, decode;
} llm_call;

static bool on_token(int seq, int32_t token, const char *text, size_t len, void *user) {
    (void)text;
    (void)len;
    llm_call *c = user;
    if (seq == 0 && token >= 0 && c->n_stamps < c->decode) c->stamps[c->n_stamps++] = bench_now_s();
    return true;
}

/* What one call measured. */
typedef struct call_times {
    double total_s, ttft_s, decode_s, prefill_pass_s;
    accel_generate_stats stats;
} call_times;

static accel_status call_once(llm_call *c, call_times *t) {
    c->n_stamps = 0;
    const double t0 = bench_now_s();
    accel_status st = lm_generate_tokens(c->s, c->prompts, c->lens, c->n, &c->gp, c->out_ids, c->out_lens, NULL);
    const double t1 = bench_now_s();
    if (st != ACCEL_OK) return st;
    for (int i = 0; i < c->n; i++)
        if (c->out_lens[i] != c->decode)
            return accel_set_error(ACCEL_ERR_INTERNAL,
                                   "bench: sequence %d generated %lld tokens, asked for exactly %d "
                                   "(min_new_tokens = max_new_tokens)",
                                   i, (long long)c->out_lens[i], c->decode);
    if ((st = accel_generate_last_stats(c->s, &t->stats)) != ACCEL_OK) return st;
    t->total_s = t1 - t0;
    t->prefill_pass_s = t->stats.prefill_s;
    if (c->gp.stream) {
        if (c->n_stamps != c->decode)
            return accel_set_error(ACCEL_ERR_INTERNAL, "bench: %d tokens streamed for sequence 0, expected %d",
                                   c->n_stamps, c->decode);
        t->ttft_s = c->stamps[0] - t0;
        t->decode_s = c->stamps[c->decode - 1] - c->stamps[0];
    } else {
        t->ttft_s = t->stats.prefill_s;
        t->decode_s = t->stats.decode_s;
    }
    return ACCEL_OK;
}

/* ---- the run -------------------------------------------------------------------------------------------------- */

typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

static bool push(samples *s, double x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *nv = realloc(s->v, sizeof *nv * cap);
        if (!nv) return false;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return true;
}

void bench_llm_result_free(bench_llm_result *r) {
    if (!r) return;
    free(r->input_ids);
    free(r->output_ids);
    r->input_ids = r->output_ids = NULL;
}

static accel_status check_config(const accel_model *m, const bench_llm_config *cfg) {
    if (!accel_model_supports(m, ACCEL_TASK_TEXT_GENERATION))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "bench: model family '%s' (%s) is not a causal LM",
                               accel_model_family(m), accel_model_architecture(m));
    if (cfg->batch < 1 || cfg->batch > (1 << 16) || cfg->prefill < 1 || cfg->decode < 2 || cfg->warmup < 0 ||
        cfg->iters < 0 || !(cfg->seconds >= 0.0) || (cfg->iters == 0 && cfg->seconds == 0.0) || cfg->threads < 1 ||
        (cfg->bandwidth_bytes > 0 && cfg->bandwidth_reps < 1) || cfg->batch > INT32_MAX / cfg->prefill ||
        cfg->batch > INT32_MAX / cfg->decode)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "bench: invalid configuration (batch %lld, prefill %lld, decode %d, warmup %d, iters %d, "
                               "seconds %g, threads %d; decode needs >= 2 tokens)",
                               (long long)cfg->batch, (long long)cfg->prefill, cfg->decode, cfg->warmup, cfg->iters,
                               cfg->seconds, cfg->threads);
    const int64_t ctx = accel_model_max_tokens(m);
    if (ctx > 0 && cfg->prefill + cfg->decode > ctx)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "bench: %lld prompt + %d new tokens do not fit the model's context of %lld tokens "
                               "(past it generation recycles the context, which is not what this measures)",
                               (long long)cfg->prefill, cfg->decode, (long long)ctx);
    return ACCEL_OK;
}

accel_status bench_llm_run(accel_session *s, const bench_llm_config *cfg, bench_llm_result *out) {
    if (!s || !cfg || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: NULL argument");
    memset(out, 0, sizeof *out);
    const accel_model *m = s->model;
    accel_status st = check_config(m, cfg);
    if (st != ACCEL_OK) return st;

    const int64_t B = cfg->batch, T = cfg->prefill;
    const int N = cfg->decode;
    llm_call c = {.s = s, .n = (int)B, .decode = N};
    int32_t *ids = malloc(sizeof *ids * (size_t)(B * T));
    c.prompts = malloc(sizeof *c.prompts * (size_t)B);
    c.lens = malloc(sizeof *c.lens * (size_t)B);
    c.out_ids = malloc(sizeof *c.out_ids * (size_t)(B * N));
    c.out_lens = malloc(sizeof *c.out_lens * (size_t)B);
    c.stamps = malloc(sizeof *c.stamps * (size_t)N);
    samples steps = {0}, calls = {0}, ttft = {0}, pass = {0}, rates = {0};
    double compute_s = 0.0, build_s = 0.0, alloc_s = 0.0;
    int64_t n_steps = 0;
    if (!ids || !c.prompts || !c.lens || !c.out_ids || !c.out_lens || !c.stamps) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
        goto done;
    }
    if ((st = bench_text_random_ids(m, cfg->seed, B, T, ids)) != ACCEL_OK) goto done;
    for (int64_t b = 0; b < B; b++) {
        c.prompts[b] = ids + b * T;
        c.lens[b] = T;
    }
    accel_generate_params in = accel_generate_default_params();
    in.max_new_tokens = N;
    in.min_new_tokens = N; /* EOS suppressed until N tokens: every call does the same work */
    in.num_beams = 1;
    in.do_sample = 0;
    in.seed = 0;
    if (m->tok) { /* streaming needs the tokenizer (it detokenizes) */
        in.stream = on_token;
        in.stream_user_data = &c;
    }
    if ((st = lm_resolve_params(m, &in, T, &c.gp)) != ACCEL_OK) goto done;
    out->streamed = c.gp.stream != NULL;

    call_times t;
    double t0 = bench_now_s();
    if ((st = call_once(&c, &t)) != ACCEL_OK) goto done;
    out->first_ms = (bench_now_s() - t0) * 1e3;
    /* the last graph placed is the decode step's (the prefill is placed before it) */
    if ((st = bench_llm_step_weights(s, &out->weights)) != ACCEL_OK) goto done;
    for (int i = 0; i < cfg->warmup; i++)
        if ((st = call_once(&c, &t)) != ACCEL_OK) goto done;
    if (cfg->bandwidth_bytes > 0) {
        if ((st = bench_membw_measure(cfg->bandwidth_bytes, cfg->threads, cfg->bandwidth_reps, &out->bw)) != ACCEL_OK)
            goto done;
        out->bandwidth_measured = true;
    }

    const double start = bench_now_s();
    for (int done_calls = 0;; done_calls++) {
        if (cfg->iters > 0 && done_calls >= cfg->iters) break;
        if (cfg->seconds > 0.0 && done_calls > 0 && bench_now_s() - start >= cfg->seconds) break;
        if ((st = call_once(&c, &t)) != ACCEL_OK) goto done;
        bool ok = push(&calls, t.total_s * 1e3) && push(&ttft, t.ttft_s * 1e3) && push(&pass, t.prefill_pass_s * 1e3) &&
                  push(&rates, t.decode_s > 0.0 ? (double)B * (N - 1) / t.decode_s : 0.0);
        if (out->streamed)
            for (int k = 1; ok && k < N; k++) ok = push(&steps, (c.stamps[k] - c.stamps[k - 1]) * 1e3);
        else ok = ok && push(&steps, t.decode_s * 1e3 / (N - 1));
        if (!ok) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
            goto done;
        }
        compute_s += t.stats.step_compute_s;
        build_s += t.stats.step_build_s;
        alloc_s += t.stats.step_alloc_s;
        n_steps += t.stats.decode_steps;
        if (cfg->progress) cfg->progress(cfg->progress_user, done_calls + 1, cfg->iters, bench_now_s() - start);
    }
    out->timed_s = bench_now_s() - start;
    accel_stats rate;
    if ((st = accel_stats_summarize(calls.v, calls.n, &out->call_ms)) != ACCEL_OK ||
        (st = accel_stats_summarize(ttft.v, ttft.n, &out->prefill_ms)) != ACCEL_OK ||
        (st = accel_stats_summarize(steps.v, steps.n, &out->step_ms)) != ACCEL_OK ||
        (st = accel_stats_summarize(rates.v, rates.n, &rate)) != ACCEL_OK)
        goto done;
    accel_stats_sort(pass.v, pass.n);
    out->prefill_pass_ms = accel_stats_percentile_sorted(pass.v, pass.n, 50.0);
    out->batch = B;
    out->prefill = T;
    out->decode = N;
    out->decode_tokens_per_s = rate.p50;
    if (out->prefill_ms.p50 > 0.0) out->prefill_tokens_per_s = (double)(B * T) / (out->prefill_ms.p50 * 1e-3);
    if (n_steps > 0) {
        out->step_compute_ms = compute_s * 1e3 / (double)n_steps;
        out->step_build_ms = build_s * 1e3 / (double)n_steps;
        out->step_alloc_ms = alloc_s * 1e3 / (double)n_steps;
    }
    if (out->bandwidth_measured && out->weights.bytes > 0) {
        out->bound_tokens_per_s = (double)B * out->bw.read_gbps * 1e9 / (double)out->weights.bytes;
        out->fraction_of_bound = out->decode_tokens_per_s / out->bound_tokens_per_s;
    }
    out->kv_cache_bytes = (int64_t)dlm_session_cache_bytes(s);
    out->peak_rss_bytes = bench_peak_rss_bytes();
    snprintf(out->devices_used, sizeof out->devices_used, "%s", accel_session_devices_used(s));
    if (cfg->keep_ids) {
        out->input_ids = ids;
        ids = NULL;
        out->output_ids = c.out_ids;
        c.out_ids = NULL;
    }
done:
    free(ids);
    free(c.prompts);
    free(c.lens);
    free(c.out_ids);
    free(c.out_lens);
    free(c.stamps);
    free(steps.v);
    free(calls.v);
    free(ttft.v);
    free(pass.v);
    free(rates.v);
    if (st != ACCEL_OK) bench_llm_result_free(out);
    return st;
}
