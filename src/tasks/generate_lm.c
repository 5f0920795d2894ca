/*
 * generate_lm.c — text generation with causal LMs (LLaMA, Qwen2, Mistral), driven through the family's lm_* hooks
 * (model.h), with Hugging Face transformers 5.24's greedy semantics and its logits processors (sampling.h).
 *
 *  - Batching: prompts of different lengths are left-padded to the longest (HF padding_side "left"), the padding
 *    masked out, positions = cumsum(mask) - 1 (0 on padding). The whole batch is prefilled in one pass; then each
 *    decode step feeds one token per sequence. A finished sequence keeps being fed the pad id (HF's sequences are
 *    filled with it) until every sequence is done.
 *  - Stopping: any EOS id of the generation config (all of them), max_new_tokens, a stop string found in the
 *    decoded text (the text ends before it), or the stream callback returning false.
 *  - Context: the KV cache has n_ctx rows per sequence (the model's max_position_embeddings by default); it is
 *    allocated once for min(n_ctx, prompt + max_new_tokens) rows. A prompt longer than n_ctx is an error. When
 *    decoding fills the cache, the context is recycled: each sequence keeps its first n_keep tokens and the most
 *    recent half of the rest, and that text is prefilled again (positions restart at 0: exactly what a fresh
 *    prompt of those tokens gives). Penalties then see only the kept tokens. Memory stays what it was: no
 *    allocation grows with the number of generated tokens besides the caller's output arrays.
 *  - Decode steps allocate nothing: logits, scratch and token buffers are made once per call, the family reuses
 *    its step graph.
 */
#include "core/error.h"
#include "tasks/sampling.h"
#include "tasks/tasks.h"
#include "text/chat_template.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int clamp_int(int64_t v) { return v > INT32_MAX ? INT32_MAX : (int)v; }

/* ---- parameters ------------------------------------------------------------------------------------------------ */

accel_status lm_resolve_params(const accel_model *m, const accel_generate_params *in, int64_t longest_prompt,
                               accel_generate_params *out) {
    if (!m || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_resolve_params: NULL argument");
    accel_generate_params p = in ? *in : accel_generate_default_params();
    const accel_hf_generation *gen = &m->gen;
    const accel_hf_json *gc = accel_hf_dir_file(m->dir, ACCEL_HF_GENERATION_CONFIG);
    if (p.max_new_tokens == -1) {
        /* HF: max_new_tokens, else an explicit non-default max_length (prompt included), else 20 new tokens */
        if (gen->max_new_tokens > 0) p.max_new_tokens = clamp_int(gen->max_new_tokens);
        else if (gen->max_length != 20)
            p.max_new_tokens = clamp_int(gen->max_length - longest_prompt > 1 ? gen->max_length - longest_prompt : 1);
        else p.max_new_tokens = 20;
    }
    if (p.num_beams == -1) p.num_beams = clamp_int(gen->num_beams);
    if (p.no_repeat_ngram_size == -1) p.no_repeat_ngram_size = clamp_int(gen->no_repeat_ngram_size);
    if (p.min_new_tokens == -1) p.min_new_tokens = gen->min_new_tokens > 0 ? clamp_int(gen->min_new_tokens) : 0;
    if (p.do_sample == -1) p.do_sample = gen->do_sample;
    if (isnan(p.temperature)) p.temperature = (float)gen->temperature;
    if (p.top_k == -1) p.top_k = clamp_int(gen->top_k);
    if (isnan(p.top_p)) p.top_p = (float)gen->top_p;
    if (isnan(p.min_p)) {
        double v = 0;
        accel_status st = gc ? accel_hf_json_float_or(gc, "min_p", 0.0, &v) : ACCEL_OK;
        if (st != ACCEL_OK) return st;
        p.min_p = (float)v;
    }
    if (isnan(p.repetition_penalty)) p.repetition_penalty = (float)gen->repetition_penalty;
    if (isnan(p.presence_penalty)) p.presence_penalty = 0.0f;
    if (p.n_ctx == 0) p.n_ctx = accel_model_max_tokens(m);
    if (p.max_input_tokens == 0) p.max_input_tokens = p.n_ctx;

    if (p.max_new_tokens < 1 || p.max_new_tokens > (1 << 30))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: max_new_tokens %d is out of range [1, %d]",
                               p.max_new_tokens, 1 << 30);
    if (p.num_beams < 1) return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: num_beams %d < 1", p.num_beams);
    if (p.num_beams > 1)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED,
                               "generate: beam search (num_beams %d) is not implemented for causal LMs; use greedy or "
                               "sampling",
                               p.num_beams);
    if (p.do_sample < 0 || p.do_sample > 1)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: do_sample %d is not -1, 0 or 1", p.do_sample);
    const smp_params sp = {.do_sample = p.do_sample == 1, .temperature = p.temperature, .top_k = p.top_k,
                           .top_p = p.top_p, .min_p = p.min_p, .repetition_penalty = p.repetition_penalty,
                           .presence_penalty = p.presence_penalty};
    accel_status st = smp_check(&sp);
    if (st != ACCEL_OK) return st;
    if (p.no_repeat_ngram_size < 0 || p.min_new_tokens < 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: no_repeat_ngram_size / min_new_tokens is negative");
    if (p.seed < -1) return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: seed %lld < -1", (long long)p.seed);
    if (p.n_ctx < 2 || p.n_ctx > ((int64_t)1 << 24))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: n_ctx %lld is out of range [2, %lld]",
                               (long long)p.n_ctx, (long long)1 << 24);
    if (p.n_keep < -1) return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: n_keep %lld < -1", (long long)p.n_keep);
    if (p.max_input_tokens < 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: max_input_tokens %lld is negative",
                               (long long)p.max_input_tokens);
    if (p.add_special_tokens < -1 || p.add_special_tokens > 1)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: add_special_tokens %d is not -1, 0 or 1",
                               p.add_special_tokens);
    if (p.n_stop < 0 || (p.n_stop > 0 && !p.stop))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: %d stop strings but stop is %s", p.n_stop,
                               p.stop ? "set" : "NULL");
    for (int i = 0; i < p.n_stop; i++)
        if (!p.stop[i] || !p.stop[i][0])
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: stop string %d is NULL or empty", i);
    *out = p;
    return ACCEL_OK;
}

/* ---- incremental detokenization -------------------------------------------------------------------------------- */

void lm_detok_init(lm_detok *d, const accel_tokenizer *tok, const char *const *stop, int n_stop, bool keep_text) {
    memset(d, 0, sizeof *d);
    d->keep_text = keep_text;
    d->tok = tok;
    d->stop = stop;
    d->n_stop = n_stop;
}

void lm_detok_free(lm_detok *d) {
    free(d->ids);
    free(d->text);
    memset(d, 0, sizeof *d);
}

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static bool ends_incomplete(const char *s, size_t n) { return n >= 3 && memcmp(s + n - 3, "\xEF\xBF\xBD", 3) == 0; }

/* A byte-fallback token "<0xNN>": HF's ByteFallback decoder renders a run of them as its bytes when they are valid
 * UTF-8 and as one U+FFFD per byte when not, so a later byte token can change how the earlier ones of the run
 * read ("\t" alone, "\xEF\xBF\xBD\xEF\xBF\xBD" once an invalid byte follows): text is final only once the run ends. */
static bool is_byte_token(const accel_tokenizer *tok, int32_t id) {
    const char *t = accel_tokenizer_id_to_token(tok, id);
    return t && strlen(t) == 6 && memcmp(t, "<0x", 3) == 0 && t[5] == '>' && isxdigit((unsigned char)t[3]) &&
           isxdigit((unsigned char)t[4]);
}

/* Moves the text of tokens [prefix, n) beyond that of [prefix, read) into d->text; with `final` also when it ends
 * in U+FFFD (an incomplete character that no later token will complete). */
static accel_status detok_advance(lm_detok *d, bool final) {
    if (!final && d->n > 0 && is_byte_token(d->tok, d->ids[d->n - 1])) return ACCEL_OK; /* an open byte run */
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    accel_status st = accel_tokenizer_decode(d->tok, d->ids + d->prefix, (size_t)(d->read - d->prefix), 1, &a, &la);
    if (st == ACCEL_OK) st = accel_tokenizer_decode(d->tok, d->ids + d->prefix, (size_t)(d->n - d->prefix), 1, &b, &lb);
    if (st == ACCEL_OK && lb > la && (final || !ends_incomplete(b, lb))) {
        if (!grow((void **)&d->text, &d->cap_text, d->len + (lb - la) + 1, 1)) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        } else {
            memcpy(d->text + d->len, b + la, lb - la);
            d->len += lb - la;
            d->text[d->len] = '\0';
            d->prefix = d->read;
            d->read = d->n;
        }
    }
    free(a);
    free(b);
    /* tokens before prefix are never decoded again */
    if (st == ACCEL_OK && d->prefix > 4096) {
        memmove(d->ids, d->ids + d->prefix, sizeof(int32_t) * (size_t)(d->n - d->prefix));
        d->n -= d->prefix;
        d->read -= d->prefix;
        d->prefix = 0;
    }
    return st;
}

/* Hands out what is final: up to the first stop string (then stopped), else all but a tail that could begin one. */
static void detok_release(lm_detok *d, bool final, const char **piece, size_t *piece_len) {
    size_t cut = d->len, hold = 0;
    for (int i = 0; i < d->n_stop; i++) {
        const size_t sl = strlen(d->stop[i]);
        const size_t from = d->emitted; /* a match starting earlier would have been held back */
        for (size_t k = from; k + sl <= d->len && k < cut; k++)
            if (memcmp(d->text + k, d->stop[i], sl) == 0) {
                cut = k;
                d->stopped = true;
                break;
            }
    }
    if (d->stopped) {
        d->len = cut;
        d->text[cut] = '\0';
    } else if (!final) {
        for (int i = 0; i < d->n_stop; i++) {
            const size_t sl = strlen(d->stop[i]);
            for (size_t k = sl - 1; k > hold && k > 0; k--)
                if (k <= d->len - d->emitted && memcmp(d->text + d->len - k, d->stop[i], k) == 0) {
                    hold = k;
                    break;
                }
        }
    }
    *piece = d->text ? d->text + d->emitted : "";
    *piece_len = d->len - hold - d->emitted;
    d->emitted = d->len - hold;
}

accel_status lm_detok_push(lm_detok *d, int32_t token, const char **piece, size_t *piece_len) {
    *piece = "";
    *piece_len = 0;
    if (d->stopped) return ACCEL_OK;
    if (!d->keep_text && d->emitted > 0) { /* the last piece is no longer needed */
        memmove(d->text, d->text + d->emitted, d->len - d->emitted + 1);
        d->len -= d->emitted;
        d->emitted = 0;
    }
    size_t cap = (size_t)d->cap;
    if (!grow((void **)&d->ids, &cap, (size_t)d->n + 1, sizeof(int32_t)))
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    d->cap = (int64_t)cap;
    d->ids[d->n++] = token;
    accel_status st = detok_advance(d, false);
    if (st == ACCEL_OK) detok_release(d, false, piece, piece_len);
    return st;
}

accel_status lm_detok_finish(lm_detok *d, const char **piece, size_t *piece_len) {
    *piece = "";
    *piece_len = 0;
    accel_status st = d->stopped || d->n == d->read ? ACCEL_OK : detok_advance(d, true);
    if (st == ACCEL_OK) detok_release(d, true, piece, piece_len);
    return st;
}

/* ---- generation ------------------------------------------------------------------------------------------------ */

typedef struct lm_row {
    int32_t *hist;  /* the sequence's tokens in the cache, in order (padding excluded), then the one being fed */
    int64_t n_hist, prompt_len, n_new;
    bool done;
    smp_rng rng;
    lm_detok dt;
} lm_row;

typedef struct lm_ctx {
    accel_session *s;
    const accel_family *f;
    const accel_generate_params *p;
    smp_params sp;
    int64_t B, V, ctx, room;
    int32_t pad;
    int32_t eos[ACCEL_HF_MAX_EOS];
    int n_eos;
    lm_row *rows;
    /* buffers made once per call */
    float *logits;                    /* [B, V] */
    int32_t *tok, *pos, *mask;        /* prefill: [B * room] */
    int32_t *next, *npos;             /* decode: [B] tokens and positions */
    int64_t filled;                   /* cache rows in use */
    int64_t min_length, S;            /* generation config min_length (HF counts the padded prompt), prompt width */
    smp_scratch sc;
    accel_generate_stats *stats;
} lm_ctx;

static bool is_eos(const lm_ctx *c, int32_t t) {
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos[i] == t) return true;
    return false;
}

/* Prefills every row's history, left-padded, from cache row 0; logits of each row's last token. */
static accel_status prefill_rows(lm_ctx *c) {
    int64_t S = 0;
    for (int64_t b = 0; b < c->B; b++) S = c->rows[b].n_hist > S ? c->rows[b].n_hist : S;
    for (int64_t b = 0; b < c->B; b++) {
        const lm_row *r = &c->rows[b];
        const int64_t padn = S - r->n_hist;
        for (int64_t j = 0; j < S; j++) {
            const bool real = j >= padn;
            c->tok[b * S + j] = real ? r->hist[j - padn] : c->pad;
            c->mask[b * S + j] = real;
            c->pos[b * S + j] = real ? (int32_t)(j - padn) : 0;
        }
    }
    const double t0 = now_s();
    accel_status st = c->f->lm_start(c->s, (int)c->B, c->room);
    const accel_lm_step step = {.tokens = c->tok, .n_tokens = S, .pos = 0, .positions = c->pos, .mask = c->mask};
    if (st == ACCEL_OK) st = c->f->lm_forward(c->s, &step, c->logits);
    c->filled = S;
    c->stats->prefill_s += now_s() - t0;
    c->stats->prefill_tokens += S * c->B;
    return st;
}

/* Context recycling (see the top comment): row b's history plus the token being fed shrinks to its first keep
 * tokens and the most recent (room - keep) / 2, and everything is prefilled again. */
static accel_status recycle(lm_ctx *c) {
    for (int64_t b = 0; b < c->B; b++) {
        lm_row *r = &c->rows[b];
        int64_t keep = c->p->n_keep == -1 ? (r->prompt_len < c->room / 4 ? r->prompt_len : c->room / 4)
                                          : (c->p->n_keep < c->room / 2 ? c->p->n_keep : c->room / 2);
        const int64_t tail = (c->room - keep) / 2;
        if (keep + tail >= r->n_hist) continue;
        memmove(r->hist + keep, r->hist + r->n_hist - tail, sizeof(int32_t) * (size_t)tail);
        r->n_hist = keep + tail;
    }
    c->stats->context_recycles++;
    return prefill_rows(c);
}

/* HF NoRepeatNGramLogitsProcessor over the row's history. */
static void ban_ngrams(const lm_ctx *c, const lm_row *r, float *scores) {
    const int64_t n = c->p->no_repeat_ngram_size, len = r->n_hist;
    if (n <= 0 || len + 1 < n) return;
    const int32_t *seq = r->hist, *tail = seq + len - (n - 1);
    for (int64_t i = 0; i + n <= len; i++) {
        if (n > 1 && memcmp(seq + i, tail, sizeof(int32_t) * (size_t)(n - 1)) != 0) continue;
        scores[seq[i + n - 1]] = -INFINITY;
    }
}

/* Ends row b: its stream gets the held-back text. */
static accel_status finish_row(lm_ctx *c, int64_t b) {
    lm_row *r = &c->rows[b];
    r->done = true;
    if (!r->dt.tok) return ACCEL_OK;
    const char *piece;
    size_t len;
    accel_status st = lm_detok_finish(&r->dt, &piece, &len);
    if (st == ACCEL_OK && c->p->stream) c->p->stream((int)b, -1, piece, len, c->p->stream_user_data);
    return st;
}

/* Chooses row b's next token from its logits; records it; decides whether the row ends. */
static accel_status choose(lm_ctx *c, int64_t b, int64_t step, int32_t *out_ids, int32_t *next) {
    lm_row *r = &c->rows[b];
    if (r->done) {
        *next = c->pad;
        return ACCEL_OK;
    }
    float *scores = c->logits + b * c->V;
    for (int64_t v = 0; v < c->V; v++)
        if (isnan(scores[v]))
            return accel_set_error(ACCEL_ERR_INTERNAL, "generate: the model produced NaN logits (sequence %lld, step %lld)",
                                   (long long)b, (long long)step);
    ban_ngrams(c, r, scores);
    /* penalties first (HF order), then EOS suppression, then the warpers */
    smp_penalties(scores, c->V, r->hist, r->n_hist, c->sp.repetition_penalty, c->sp.presence_penalty, &c->sc);
    if (step < c->p->min_new_tokens || c->S + step < c->min_length)
        for (int i = 0; i < c->n_eos; i++) scores[c->eos[i]] = -INFINITY;
    smp_params sp = c->sp;
    sp.repetition_penalty = 1.0f;
    sp.presence_penalty = 0.0f;
    const int32_t t = smp_next_token(scores, c->V, &sp, NULL, 0, &r->rng, &c->sc);
    out_ids[b * c->p->max_new_tokens + step] = t;
    r->n_new = step + 1;
    *next = t;
    c->stats->generated_tokens++;
    if (is_eos(c, t)) return finish_row(c, b);
    if (r->dt.tok) {
        const char *piece;
        size_t len;
        accel_status st = lm_detok_push(&r->dt, t, &piece, &len);
        if (st != ACCEL_OK) return st;
        if (c->p->stream && !c->p->stream((int)b, t, piece, len, c->p->stream_user_data)) {
            r->done = true; /* the caller stopped it: no flush, the output is what was streamed */
            r->dt.len = r->dt.emitted;
            if (r->dt.text) r->dt.text[r->dt.len] = '\0';
            return ACCEL_OK;
        }
        if (r->dt.stopped) return finish_row(c, b);
    }
    if (r->n_new >= c->p->max_new_tokens) return finish_row(c, b);
    return ACCEL_OK;
}

static void free_ctx(lm_ctx *c) {
    for (int64_t b = 0; c->rows && b < c->B; b++) {
        free(c->rows[b].hist);
        lm_detok_free(&c->rows[b].dt);
    }
    free(c->rows);
    free(c->logits);
    free(c->tok);
    free(c->pos);
    free(c->mask);
    free(c->next);
    free(c->npos);
    smp_scratch_free(&c->sc);
}

accel_status lm_generate_tokens(accel_session *s, const int32_t *const *prompts, const int64_t *lens, int n,
                                const accel_generate_params *p, int32_t *out_ids, int64_t *out_lens, char **texts) {
    for (int i = 0; texts && i < n; i++) texts[i] = NULL;
    if (!s || !prompts || !lens || !p || !out_ids || !out_lens || n < 1)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_generate_tokens: NULL argument or no prompts");
    const accel_model *m = s->model;
    const accel_family *f = m->family;
    if (!accel_model_supports(m, ACCEL_TASK_TEXT_GENERATION) || !f->lm_start || !f->lm_forward || !f->lm_stats ||
        !f->vocab_size)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s models (%s) do not continue prompts", f->name,
                               m->architecture);
    if (p->max_new_tokens < 1 || p->n_ctx < 2 || p->num_beams != 1 || p->do_sample < 0 || isnan(p->temperature) ||
        p->top_k < 0 || isnan(p->top_p) || isnan(p->min_p) || isnan(p->repetition_penalty) || isnan(p->presence_penalty))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_generate_tokens: parameters not resolved (lm_resolve_params)");
    const bool need_text = texts || p->stream || p->n_stop > 0;
    if (need_text && !m->tok)
        return accel_set_error(ACCEL_ERR_NOT_FOUND, "%s: streaming, stop strings and text output need tokenizer.json",
                               accel_hf_dir_path(m->dir));
    lm_ctx c = {.s = s, .f = f, .p = p, .B = n, .V = f->vocab_size(m), .ctx = p->n_ctx};
    c.sp = (smp_params){.do_sample = p->do_sample == 1, .temperature = p->temperature, .top_k = p->top_k,
                        .top_p = p->top_p, .min_p = p->min_p, .repetition_penalty = p->repetition_penalty,
                        .presence_penalty = p->presence_penalty};
    int64_t S = 0;
    for (int i = 0; i < n; i++) {
        if (!prompts[i] || lens[i] < 1)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: prompt %d is empty (no tokens)", i);
        for (int64_t j = 0; j < lens[i]; j++)
            if (prompts[i][j] < 0 || prompts[i][j] >= c.V)
                return accel_set_error(ACCEL_ERR_INVALID_ARG, "generate: prompt %d has token %d outside the vocabulary",
                                       i, (int)prompts[i][j]);
        S = lens[i] > S ? lens[i] : S;
    }
    if (S > c.ctx)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "generate: a prompt of %lld tokens is longer than the context of %lld tokens (n_ctx)",
                               (long long)S, (long long)c.ctx);
    const accel_hf_generation *gen = &m->gen;
    for (size_t i = 0; i < gen->n_eos; i++)
        if (gen->eos_token_ids[i] >= 0 && gen->eos_token_ids[i] < c.V) c.eos[c.n_eos++] = (int32_t)gen->eos_token_ids[i];
    c.pad = gen->pad_token_id >= 0 && gen->pad_token_id < c.V ? (int32_t)gen->pad_token_id : (c.n_eos ? c.eos[0] : 0);
    c.room = S + (int64_t)p->max_new_tokens < c.ctx ? S + (int64_t)p->max_new_tokens : c.ctx;
    c.S = S;
    /* as generate.c: HF replaces min_length by min_new_tokens whenever that is set */
    c.min_length = p->min_new_tokens == 0 && gen->min_new_tokens < 0 && gen->min_length > 0 ? gen->min_length : 0;

    c.stats = f->lm_stats(s);
    *c.stats = (accel_generate_stats){.n_seqs = n};
    accel_status st = smp_scratch_init(&c.sc, c.V);
    c.rows = calloc((size_t)n, sizeof *c.rows);
    c.logits = malloc(sizeof(float) * (size_t)(c.B * c.V));
    c.tok = malloc(sizeof(int32_t) * (size_t)(c.B * c.room));
    c.pos = malloc(sizeof(int32_t) * (size_t)(c.B * c.room));
    c.mask = malloc(sizeof(int32_t) * (size_t)(c.B * c.room));
    c.next = malloc(sizeof(int32_t) * (size_t)c.B);
    c.npos = malloc(sizeof(int32_t) * (size_t)c.B);
    if (st == ACCEL_OK && (!c.rows || !c.logits || !c.tok || !c.pos || !c.mask || !c.next || !c.npos))
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    uint64_t seed = p->seed >= 0 ? (uint64_t)p->seed : (uint64_t)(now_s() * 1e9) ^ (uint64_t)(uintptr_t)&c;
    for (int64_t b = 0; st == ACCEL_OK && b < c.B; b++) {
        lm_row *r = &c.rows[b];
        r->hist = malloc(sizeof(int32_t) * (size_t)(c.room + 1));
        if (!r->hist) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        else memcpy(r->hist, prompts[b], sizeof(int32_t) * (size_t)lens[b]);
        r->n_hist = r->prompt_len = lens[b];
        c.stats->prompt_tokens += lens[b];
        smp_rng_seed(&r->rng, seed ^ ((uint64_t)b * 0x9E3779B97F4A7C15ull)); /* one stream per sequence */
        if (need_text) lm_detok_init(&r->dt, m->tok, p->stop, p->n_stop, texts != NULL);
    }
    for (int64_t i = 0; st == ACCEL_OK && i < c.B * p->max_new_tokens; i++) out_ids[i] = c.pad;

    if (st == ACCEL_OK) st = prefill_rows(&c);
    const double t_loop = now_s(), prefill_before = c.stats->prefill_s;
    for (int64_t step = 0; st == ACCEL_OK; step++) {
        bool all_done = true;
        for (int64_t b = 0; st == ACCEL_OK && b < c.B; b++) {
            st = choose(&c, b, step, out_ids, &c.next[b]);
            all_done = all_done && c.rows[b].done;
        }
        if (st != ACCEL_OK || all_done) break;
        /* feed the chosen tokens: one decode step, or a recycled context when the cache is full */
        for (int64_t b = 0; b < c.B; b++) {
            lm_row *r = &c.rows[b];
            c.npos[b] = (int32_t)r->n_hist;
            r->hist[r->n_hist++] = c.next[b];
        }
        if (c.filled == c.room) {
            st = recycle(&c);
            continue;
        }
        const accel_lm_step one = {.tokens = c.next, .n_tokens = 1, .pos = c.filled, .positions = c.npos};
        st = f->lm_forward(s, &one, c.logits);
        c.filled++;
        c.stats->decode_steps++;
    }
    c.stats->decode_s = (now_s() - t_loop) - (c.stats->prefill_s - prefill_before);
    if (st == ACCEL_OK)
        for (int64_t b = 0; b < c.B; b++) out_lens[b] = c.rows[b].n_new;
    for (int64_t b = 0; st == ACCEL_OK && texts && b < c.B; b++) {
        const lm_detok *d = &c.rows[b].dt;
        texts[b] = malloc(d->len + 1);
        if (!texts[b]) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        else {
            if (d->len) memcpy(texts[b], d->text, d->len);
            texts[b][d->len] = '\0';
        }
    }
    if (st != ACCEL_OK)
        for (int i = 0; texts && i < n; i++) {
            free(texts[i]);
            texts[i] = NULL;
        }
    free_ctx(&c);
    return st;
}

/* ---- text in, text out ------------------------------------------------------------------------------------------ */

accel_status lm_generate_text(accel_session *s, const char *const *texts, int n_texts,
                              const accel_generate_params *params, char **outputs) {
    const accel_model *m = s->model;
    if (!m->tok)
        return accel_set_error(ACCEL_ERR_NOT_FOUND, "%s: no tokenizer.json to turn text into tokens",
                               accel_hf_dir_path(m->dir));
    int32_t **ids = calloc((size_t)n_texts, sizeof *ids);
    int64_t *lens = calloc((size_t)n_texts, sizeof *lens);
    accel_status st = ids && lens ? ACCEL_OK : accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    /* the resolved limit on prompt length needs the params first: resolve with a provisional prompt length,
     * then again with the real one (max_new_tokens may depend on it) */
    accel_generate_params p;
    if (st == ACCEL_OK) st = lm_resolve_params(m, params, 1, &p);
    accel_encode_params ep = accel_encode_default_params();
    if (st == ACCEL_OK) st = accel_tokenizer_file_params(m->tok, &ep);
    ep.padding = 0;
    ep.add_special_tokens = p.add_special_tokens != 0;
    if (st == ACCEL_OK && p.truncate && p.max_input_tokens > 0) ep.max_length = (size_t)p.max_input_tokens;
    int64_t longest = 0;
    for (int i = 0; st == ACCEL_OK && i < n_texts; i++) {
        if (!texts[i]) {
            st = accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_generate_text: texts[%d] is NULL", i);
            break;
        }
        accel_encoding *enc = NULL;
        st = accel_tokenizer_encode(m->tok, texts[i], strlen(texts[i]), &ep, &enc);
        if (st != ACCEL_OK) break;
        const size_t len = accel_encoding_len(enc);
        if (len == 0)
            st = accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_generate_text: texts[%d] is empty (no tokens)", i);
        else if (!p.truncate && p.max_input_tokens > 0 && (int64_t)len > p.max_input_tokens)
            st = accel_set_error(ACCEL_ERR_INVALID_ARG,
                                 "accel_generate_text: texts[%d] has %zu tokens, more than the limit of %lld (the "
                                 "context n_ctx, or max_input_tokens)",
                                 i, len, (long long)p.max_input_tokens);
        else if (!(ids[i] = malloc(sizeof(int32_t) * len)))
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        if (st == ACCEL_OK) {
            memcpy(ids[i], accel_encoding_ids(enc), sizeof(int32_t) * len);
            lens[i] = (int64_t)len;
            longest = lens[i] > longest ? lens[i] : longest;
        }
        accel_encoding_free(enc);
    }
    if (st == ACCEL_OK) st = lm_resolve_params(m, params, longest, &p);
    int32_t *out = NULL;
    int64_t *out_lens = NULL;
    if (st == ACCEL_OK) {
        out = malloc(sizeof(int32_t) * (size_t)n_texts * (size_t)p.max_new_tokens);
        out_lens = malloc(sizeof(int64_t) * (size_t)n_texts);
        if (!out || !out_lens) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    }
    if (st == ACCEL_OK)
        st = lm_generate_tokens(s, (const int32_t *const *)ids, lens, n_texts, &p, out, out_lens, outputs);
    for (int i = 0; ids && i < n_texts; i++) free(ids[i]);
    free(ids);
    free(lens);
    free(out);
    free(out_lens);
    return st;
}

accel_status accel_generate_last_stats(accel_session *s, accel_generate_stats *out) {
    if (!s || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_generate_last_stats: NULL argument");
    if (!s->model->family->lm_stats)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s sessions keep no generation stats (not a causal LM)",
                               s->model->family->name);
    *out = *s->model->family->lm_stats(s);
    return ACCEL_OK;
}

/* ---- chat ------------------------------------------------------------------------------------------------------- */

accel_status accel_chat_apply(const accel_model *m, const accel_chat_message *messages, int n,
                              bool add_generation_prompt, char **out) {
    if (out) *out = NULL;
    if (!m || !messages || n < 1 || !out)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_apply: NULL argument or no messages");
    for (int i = 0; i < n; i++)
        if (!messages[i].role || !messages[i].content)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_chat_apply: message %d has a NULL role or content", i);
    const char *source = NULL;
    accel_status st = accel_hf_dir_chat_template(m->dir, NULL, &source);
    if (st == ACCEL_ERR_NOT_FOUND)
        return accel_set_error(ACCEL_ERR_NOT_FOUND, "%s: the model has no chat template (tokenizer_config.json "
                               "\"chat_template\" or chat_template.jinja)", accel_hf_dir_path(m->dir));
    if (st != ACCEL_OK) return st;
    accel_chat_template *t = NULL;
    if ((st = accel_chat_template_parse(source, strlen(source), &t)) != ACCEL_OK) return st;
    /* HF passes the tokenizer's special tokens (special_tokens_map) to the template */
    const accel_hf_tokenizer_config *tc = &m->tokcfg;
    const struct {
        const char *name;
        const accel_hf_added_token *tok;
    } specials[] = {{"unk_token", &tc->unk}, {"pad_token", &tc->pad}, {"cls_token", &tc->cls},
                    {"sep_token", &tc->sep}, {"mask_token", &tc->mask}};
    accel_chat_var vars[5];
    size_t n_vars = 0;
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        if (specials[i].tok->content) vars[n_vars++] = (accel_chat_var){specials[i].name, specials[i].tok->content};
    accel_chat_render_params p = accel_chat_render_default_params();
    p.add_generation_prompt = add_generation_prompt;
    p.bos_token = tc->bos.content;
    p.eos_token = tc->eos.content;
    p.vars = vars;
    p.n_vars = n_vars;
    st = accel_chat_template_render(t, messages, (size_t)n, &p, out);
    accel_chat_template_free(t);
    return st;
}
