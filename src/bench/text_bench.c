/* text_bench.c — seeded random token inputs and the timing loop of `accel bench` for text models. */
#include "bench/text_bench.h"

#include "core/error.h"
#include "models/model.h"
#include "tasks/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t bench_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (int64_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

accel_status bench_text_task(const accel_model *m, accel_task *task) {
    if (!m || !task) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: NULL argument");
    if (accel_model_supports(m, ACCEL_TASK_EMBED)) *task = ACCEL_TASK_EMBED;
    else if (accel_model_supports(m, ACCEL_TASK_SEQ2SEQ)) *task = ACCEL_TASK_SEQ2SEQ;
    else
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "bench: model family '%s' has neither an embedding nor a "
                                                      "text generation task", accel_model_family(m));
    return ACCEL_OK;
}

/* ---- random ids ------------------------------------------------------------------------------------------------ */

#define MAX_SPECIALS 64

typedef struct special_set {
    int32_t ids[MAX_SPECIALS];
    int n;
} special_set;

static void special_add(special_set *s, int64_t id) {
    if (id < 0 || id > INT32_MAX || s->n == MAX_SPECIALS) return;
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] == id) return;
    s->ids[s->n++] = (int32_t)id;
}

static bool special_has(const special_set *s, int32_t id) {
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] == id) return true;
    return false;
}

/* An added token marked special (T5's <extra_id_N>, ...): decoding it with skip_special_tokens drops it. */
static bool is_special_added(const accel_tokenizer *tok, int32_t id) {
    if (!tok) return false;
    char *kept = NULL, *skipped = NULL;
    size_t kept_len = 0, skipped_len = 0;
    bool special = accel_tokenizer_decode(tok, &id, 1, 0, &kept, &kept_len) == ACCEL_OK &&
                   accel_tokenizer_decode(tok, &id, 1, 1, &skipped, &skipped_len) == ACCEL_OK &&
                   kept_len > 0 && skipped_len == 0;
    free(kept);
    free(skipped);
    return special;
}

static bool is_special(const accel_model *m, const special_set *s, int32_t id) {
    return special_has(s, id) || is_special_added(m->tok, id);
}

static void special_add_token(special_set *s, const accel_tokenizer *tok, const char *content) {
    if (tok && content) special_add(s, accel_tokenizer_token_to_id(tok, content, strlen(content)));
}

/* Every id the model or its tokenizer treats as special. */
static void collect_specials(const accel_model *m, special_set *s) {
    s->n = 0;
    const accel_hf_hparams *hp = &m->hp;
    special_add(s, hp->bos_token_id);
    special_add(s, hp->pad_token_id);
    special_add(s, hp->decoder_start_token_id);
    for (size_t i = 0; i < hp->n_eos; i++) special_add(s, hp->eos_token_ids[i]);
    const accel_hf_generation *g = &m->gen;
    special_add(s, g->bos_token_id);
    special_add(s, g->pad_token_id);
    special_add(s, g->decoder_start_token_id);
    for (size_t i = 0; i < g->n_eos; i++) special_add(s, g->eos_token_ids[i]);
    const accel_hf_tokenizer_config *tc = &m->tokcfg;
    const accel_hf_added_token *named[] = {&tc->bos, &tc->eos, &tc->unk, &tc->pad, &tc->cls, &tc->sep, &tc->mask};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) special_add_token(s, m->tok, named[i]->content);
    if (m->tok) {
        /* the usual spellings, in case the config files do not name them */
        static const char *const common[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<pad>", "</s>", "<s>",
                                             "<unk>", "<mask>"};
        for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) special_add_token(s, m->tok, common[i]);
        /* what the post-processor adds around an empty text ([CLS] [SEP], </s>, ...) */
        accel_encoding *enc = NULL;
        if (accel_tokenizer_encode(m->tok, "", 0, NULL, &enc) == ACCEL_OK) {
            const int32_t *ids = accel_encoding_ids(enc);
            for (size_t i = 0; i < accel_encoding_len(enc); i++) special_add(s, ids[i]);
            accel_encoding_free(enc);
        }
        accel_clear_error();
    }
}

accel_status bench_text_id_range(const accel_model *m, int32_t *lo, int32_t *hi) {
    if (!m || !lo || !hi) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: NULL argument");
    int64_t vocab = m->hp.vocab_size;
    if (m->tok) {
        int64_t tv = (int64_t)accel_tokenizer_vocab_size(m->tok);
        if (tv > 0 && (vocab <= 0 || tv < vocab)) vocab = tv;
    }
    if (vocab <= 0 || vocab > INT32_MAX)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "bench: the model has no usable vocabulary size");
    special_set sp;
    collect_specials(m, &sp);
    int32_t first = 0;
    while (first < vocab && is_special(m, &sp, first)) first++;
    if (first >= vocab)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "bench: every id of the vocabulary is a special token");
    *lo = first;
    *hi = (int32_t)vocab;
    return ACCEL_OK;
}

/* splitmix64: small, seedable, and the same everywhere (the peer runner reads our ids, it need not recompute). */
static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

accel_status bench_text_random_ids(const accel_model *m, uint64_t seed, int64_t batch, int64_t tokens,
                                   int32_t *ids) {
    if (!ids || batch < 1 || tokens < 1) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: bad id request");
    int32_t lo, hi;
    accel_status st = bench_text_id_range(m, &lo, &hi);
    if (st != ACCEL_OK) return st;
    special_set sp;
    collect_specials(m, &sp);
    uint64_t range = (uint64_t)(hi - lo);
    uint64_t limit = UINT64_MAX - UINT64_MAX % range; /* rejection keeps the draw uniform */
    uint64_t state = seed ^ ((uint64_t)batch << 40) ^ ((uint64_t)tokens << 20);
    for (int64_t i = 0; i < batch * tokens; i++) {
        int32_t id;
        do {
            uint64_t r;
            do r = splitmix64(&state);
            while (r >= limit);
            id = lo + (int32_t)(r % range);
        } while (is_special(m, &sp, id));
        ids[i] = id;
    }
    return ACCEL_OK;
}

/* ---- timing ----------------------------------------------------------------------------------------------------- */

typedef struct bench_call {
    accel_session *s;
    accel_task task;
    accel_token_batch b;
    accel_pooling pooling;
    bool normalize;
    float *pooled;
    accel_generate_params gp;
    int32_t *out_ids;
    int64_t max_out;
    int64_t *out_lens;
} bench_call;

static accel_status call_once(bench_call *c) {
    if (c->task == ACCEL_TASK_EMBED) return embed_tokens(c->s, &c->b, c->pooling, c->normalize, NULL, c->pooled);
    accel_status st = seq2seq_generate_tokens(c->s, &c->b, &c->gp, c->out_ids, c->max_out, c->out_lens, NULL);
    if (st != ACCEL_OK) return st;
    for (int64_t i = 0; i < c->b.batch; i++)
        if (c->out_lens[i] != c->max_out)
            return accel_set_error(ACCEL_ERR_INTERNAL,
                                   "bench: row %lld generated %lld tokens, asked for exactly %lld "
                                   "(min_new_tokens = max_new_tokens)",
                                   (long long)i, (long long)(c->out_lens[i] - 1), (long long)(c->max_out - 1));
    return ACCEL_OK;
}

void bench_text_result_free(bench_text_result *r) {
    if (!r) return;
    free(r->input_ids);
    free(r->output_ids);
    r->input_ids = r->output_ids = NULL;
}

accel_status bench_text_run(accel_session *s, const bench_text_config *cfg, bench_text_result *out) {
    if (!s || !cfg || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: NULL argument");
    memset(out, 0, sizeof *out);
    const accel_model *m = s->model;
    if (cfg->batch < 1 || cfg->tokens < 1 || cfg->warmup < 0 || cfg->iters < 0 || !(cfg->seconds >= 0.0) ||
        (cfg->iters == 0 && cfg->seconds == 0.0) || cfg->batch > INT32_MAX / cfg->tokens)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: invalid configuration (batch %lld, tokens %lld, "
                                                      "warmup %d, iters %d, seconds %g)",
                               (long long)cfg->batch, (long long)cfg->tokens, cfg->warmup, cfg->iters, cfg->seconds);
    accel_task task = ACCEL_TASK_EMBED;
    accel_status st = bench_text_task(m, &task);
    if (st != ACCEL_OK) return st;
    int64_t max_tokens = accel_model_max_tokens(m);
    if (max_tokens > 0 && cfg->tokens > max_tokens)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: %lld tokens per row, the model takes at most %lld",
                               (long long)cfg->tokens, (long long)max_tokens);
    if (task == ACCEL_TASK_SEQ2SEQ && cfg->new_tokens < 1)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench: a seq2seq model needs new_tokens >= 1");

    size_t n_ids = (size_t)(cfg->batch * cfg->tokens);
    bench_call c = {0};
    c.s = s;
    c.task = task;
    int32_t *ids = malloc(sizeof *ids * n_ids), *mask = malloc(sizeof *mask * n_ids);
    double *samples = NULL;
    size_t cap = 0, n = 0;
    if (!ids || !mask) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
        goto done;
    }
    st = bench_text_random_ids(m, cfg->seed, cfg->batch, cfg->tokens, ids);
    if (st != ACCEL_OK) goto done;
    for (size_t i = 0; i < n_ids; i++) mask[i] = 1; /* full attention mask, passed as a real input would be */
    c.b.batch = cfg->batch;
    c.b.seq = cfg->tokens;
    c.b.ids = ids;
    c.b.mask = mask;

    if (task == ACCEL_TASK_EMBED) {
        c.pooling = m->embed_pooling != ACCEL_POOLING_DEFAULT ? m->embed_pooling : ACCEL_POOLING_MEAN;
        c.normalize = m->embed_normalize != 0;
        int64_t dim = accel_model_embedding_dim(m);
        c.pooled = malloc(sizeof *c.pooled * (size_t)(cfg->batch * (dim > 0 ? dim : 1)));
        if (!c.pooled) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
            goto done;
        }
    } else {
        accel_generate_params in = accel_generate_default_params();
        in.max_new_tokens = cfg->new_tokens;
        in.min_new_tokens = cfg->new_tokens;
        in.num_beams = 1;
        in.no_repeat_ngram_size = 0;
        st = generate_resolve_params(m, &in, &c.gp);
        if (st != ACCEL_OK) goto done;
        c.max_out = (int64_t)cfg->new_tokens + 1; /* the decoder start token, then the new tokens */
        c.out_ids = malloc(sizeof *c.out_ids * (size_t)(cfg->batch * c.max_out));
        c.out_lens = malloc(sizeof *c.out_lens * (size_t)cfg->batch);
        if (!c.out_ids || !c.out_lens) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
            goto done;
        }
    }

    double t0 = bench_now_s();
    st = call_once(&c);
    if (st != ACCEL_OK) goto done;
    out->first_ms = (bench_now_s() - t0) * 1e3;
    for (int i = 0; i < cfg->warmup; i++)
        if ((st = call_once(&c)) != ACCEL_OK) goto done;

    double start = bench_now_s();
    for (;;) {
        if (cfg->iters > 0 && n >= (size_t)cfg->iters) break;
        if (cfg->seconds > 0.0 && n > 0 && bench_now_s() - start >= cfg->seconds) break;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            double *ns = realloc(samples, sizeof *ns * cap);
            if (!ns) {
                st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: out of memory");
                goto done;
            }
            samples = ns;
        }
        double a = bench_now_s();
        if ((st = call_once(&c)) != ACCEL_OK) goto done;
        double b = bench_now_s();
        samples[n++] = (b - a) * 1e3;
        if (cfg->progress) cfg->progress(cfg->progress_user, (int)n, cfg->iters, b - start);
    }
    out->timed_s = bench_now_s() - start;
    st = accel_stats_summarize(samples, n, &out->latency_ms);
    if (st != ACCEL_OK) goto done;

    out->task = task;
    out->batch = cfg->batch;
    out->tokens = cfg->tokens;
    out->new_tokens = task == ACCEL_TASK_SEQ2SEQ ? cfg->new_tokens : 0;
    double mean_s = out->latency_ms.mean * 1e-3;
    if (mean_s > 0.0) {
        out->items_per_s = (double)cfg->batch / mean_s;
        if (task == ACCEL_TASK_EMBED) out->tokens_per_s = (double)(cfg->batch * cfg->tokens) / mean_s;
        else out->new_tokens_per_s = (double)cfg->batch * cfg->new_tokens / mean_s;
    }
    out->peak_rss_bytes = bench_peak_rss_bytes();
    snprintf(out->devices_used, sizeof out->devices_used, "%s", accel_session_devices_used(s));
    if (cfg->keep_ids) {
        out->input_ids = ids;
        ids = NULL;
        if (task == ACCEL_TASK_SEQ2SEQ) {
            out->output_ids = c.out_ids;
            c.out_ids = NULL;
        }
    }
done:
    free(ids);
    free(mask);
    free(samples);
    free(c.pooled);
    free(c.out_ids);
    free(c.out_lens);
    if (st != ACCEL_OK) bench_text_result_free(out);
    return st;
}
