/*
 * embed.c — the embedding task: texts -> token batches -> the family's encoder -> pooling -> optional L2 norm.
 *
 * Pooling follows sentence-transformers: MEAN is the attention-mask-weighted mean (divided by max(count, 1e-9)),
 * MAX the maximum over real tokens, CLS the first token, POOLER the family's pooler output. Normalization is
 * torch.nn.functional.normalize (x / max(||x||, 1e-12)).
 *
 * accel_embed sorts the texts by token count and runs them in chunks of similar lengths (at most EMBED_CHUNK_TEXTS
 * texts and EMBED_CHUNK_TOKENS padded tokens each), so padding is small and memory stays bounded whatever the
 * number of texts.
 */
#include "core/error.h"
#include "tasks/tasks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_CHUNK_TEXTS 32
#define EMBED_CHUNK_TOKENS 8192

accel_embed_params accel_embed_default_params(void) {
    accel_embed_params p = {ACCEL_POOLING_DEFAULT, -1, 0, true};
    return p;
}

/* Pools hidden[B, S, H] into out[B, H] (MEAN, MAX or CLS); acc is scratch of H doubles (the mean is summed in
 * double so that long sequences keep full f32 precision). */
static void pool_rows(const float *hidden, const int32_t *mask, int64_t B, int64_t S, int64_t H, accel_pooling pooling,
                      double *acc, float *out) {
    for (int64_t b = 0; b < B; b++) {
        const float *hb = hidden + b * S * H;
        float *o = out + b * H;
        if (pooling == ACCEL_POOLING_CLS) {
            memcpy(o, hb, sizeof(float) * (size_t)H);
            continue;
        }
        for (int64_t j = 0; j < H; j++) {
            acc[j] = 0;
            o[j] = -INFINITY;
        }
        double count = 0;
        for (int64_t t = 0; t < S; t++) {
            if (mask && mask[b * S + t] == 0) continue;
            const float *h = hb + t * H;
            count += 1;
            if (pooling == ACCEL_POOLING_MEAN)
                for (int64_t j = 0; j < H; j++) acc[j] += h[j];
            else
                for (int64_t j = 0; j < H; j++) o[j] = h[j] > o[j] ? h[j] : o[j];
        }
        if (pooling == ACCEL_POOLING_MEAN) {
            const double div = count > 1e-9 ? count : 1e-9; /* sentence-transformers' clamp */
            for (int64_t j = 0; j < H; j++) o[j] = (float)(acc[j] / div);
        }
    }
}

static void l2_normalize(float *x, int64_t B, int64_t H) {
    for (int64_t b = 0; b < B; b++) {
        float *v = x + b * H;
        double ss = 0;
        for (int64_t j = 0; j < H; j++) ss += (double)v[j] * v[j];
        const double n = sqrt(ss);
        const double inv = 1.0 / (n > 1e-12 ? n : 1e-12);
        for (int64_t j = 0; j < H; j++) v[j] = (float)(v[j] * inv);
    }
}

/* The pooling a call asks for, with DEFAULT resolved from the model directory. */
static accel_pooling resolve_pooling(const accel_model *m, accel_pooling p) {
    if (p != ACCEL_POOLING_DEFAULT) return p;
    return m->embed_pooling != ACCEL_POOLING_DEFAULT ? m->embed_pooling : ACCEL_POOLING_MEAN;
}

accel_status embed_tokens(accel_session *s, const accel_token_batch *b, accel_pooling pooling, bool normalize,
                          float *hidden_out, float *pooled_out) {
    if (!s || !b) return accel_set_error(ACCEL_ERR_INVALID_ARG, "embed_tokens: NULL argument");
    const accel_model *m = s->model;
    if (!accel_model_supports(m, ACCEL_TASK_EMBED) || !m->family->encode)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s models (%s) do not compute embeddings", m->family->name,
                               m->architecture);
    pooling = resolve_pooling(m, pooling);
    if (pooling < ACCEL_POOLING_MEAN || pooling > ACCEL_POOLING_MAX)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "embed_tokens: unknown pooling %d", (int)pooling);
    const int64_t H = accel_model_embedding_dim(m), B = b->batch, S = b->seq;
    if (B < 1 || S < 1) return accel_set_error(ACCEL_ERR_INVALID_ARG, "embed_tokens: empty token batch");
    if (pooling == ACCEL_POOLING_POOLER) {
        accel_status st = m->family->encode(s, b, hidden_out, pooled_out);
        if (st == ACCEL_OK && pooled_out && normalize) l2_normalize(pooled_out, B, H);
        return st;
    }
    float *hidden = hidden_out;
    double *acc = pooled_out ? malloc(sizeof(double) * (size_t)H) : NULL;
    if (!hidden && pooled_out) hidden = malloc(sizeof(float) * (size_t)(B * S * H));
    accel_status st = ACCEL_OK;
    if (pooled_out && (!hidden || !acc))
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory (hidden states of %lld tokens)",
                             (long long)(B * S));
    if (st == ACCEL_OK) st = m->family->encode(s, b, hidden, NULL);
    if (st == ACCEL_OK && pooled_out) {
        pool_rows(hidden, b->mask, B, S, H, pooling, acc, pooled_out);
        if (normalize) l2_normalize(pooled_out, B, H);
    }
    if (hidden != hidden_out) free(hidden);
    free(acc);
    return st;
}

/* ---- accel_embed ---------------------------------------------------------------------------------------------- */

typedef struct embed_order {
    int text;
    size_t len;
} embed_order;

static int by_len_desc(const void *a, const void *b) {
    const embed_order *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return x->text - y->text;
}

/* The id padding positions get: the tokenizer file's padding id, else the tokenizer config's pad token, else 0. */
static int32_t pad_id(const accel_model *m) {
    accel_encode_params fp = accel_encode_default_params();
    fp.pad_id = -1;
    if (accel_tokenizer_file_params(m->tok, &fp) == ACCEL_OK && fp.pad_id >= 0) return fp.pad_id;
    const char *pad = m->tokcfg.pad.content;
    const int32_t id = pad ? accel_tokenizer_token_to_id(m->tok, pad, strlen(pad)) : -1;
    return id >= 0 ? id : 0;
}

/* Runs texts order[0..n) as one padded batch and writes each text's vector into out. */
static accel_status embed_chunk(accel_session *s, accel_encoding *const *enc, const embed_order *order, int n,
                                accel_pooling pooling, bool normalize, int32_t pad, float *out) {
    const int64_t H = accel_model_embedding_dim(s->model);
    int64_t S = 0;
    for (int i = 0; i < n; i++) S = (int64_t)order[i].len > S ? (int64_t)order[i].len : S;
    const size_t cells = (size_t)n * (size_t)S;
    int32_t *ids = malloc(cells * sizeof *ids), *types = malloc(cells * sizeof *types);
    int32_t *mask = malloc(cells * sizeof *mask);
    float *pooled = malloc((size_t)n * (size_t)H * sizeof *pooled);
    accel_status st = ACCEL_OK;
    if (!ids || !types || !mask || !pooled) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    } else {
        for (int i = 0; i < n; i++) {
            const accel_encoding *e = enc[order[i].text];
            const int64_t len = (int64_t)accel_encoding_len(e);
            for (int64_t t = 0; t < S; t++) {
                const bool real = t < len;
                ids[i * S + t] = real ? accel_encoding_ids(e)[t] : pad;
                types[i * S + t] = real ? accel_encoding_type_ids(e)[t] : 0;
                mask[i * S + t] = real ? 1 : 0;
            }
        }
        const accel_token_batch b = {n, S, ids, types, mask};
        st = embed_tokens(s, &b, pooling, normalize, NULL, pooled);
        for (int i = 0; st == ACCEL_OK && i < n; i++)
            memcpy(out + (size_t)order[i].text * (size_t)H, pooled + (size_t)i * (size_t)H, sizeof(float) * (size_t)H);
    }
    free(ids);
    free(types);
    free(mask);
    free(pooled);
    return st;
}

accel_status accel_embed(accel_session *s, const char *const *texts, int n_texts, const accel_embed_params *params,
                         float *out, size_t out_len) {
    if (!s || !texts || !out || n_texts < 1)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_embed: NULL argument or n_texts < 1");
    const accel_model *m = s->model;
    if (!accel_model_supports(m, ACCEL_TASK_EMBED))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "accel_embed: %s models (%s) do not compute embeddings",
                               m->family->name, m->architecture);
    if (!m->tok)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "accel_embed: %s has no tokenizer.json",
                               accel_hf_dir_path(m->dir));
    const accel_embed_params p = params ? *params : accel_embed_default_params();
    const int64_t H = accel_model_embedding_dim(m), positions = accel_model_max_tokens(m);
    if (out_len < (size_t)n_texts * (size_t)H)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_embed: out has %zu floats, %d texts need %lld", out_len,
                               n_texts, (long long)n_texts * (long long)H);
    if (p.normalize < -1 || p.normalize > 1 || p.max_tokens < 0 || p.pooling < ACCEL_POOLING_DEFAULT ||
        p.pooling > ACCEL_POOLING_MAX)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_embed: invalid params");
    if (positions > 0 && p.max_tokens > positions)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_embed: max_tokens %lld exceeds the model's %lld positions",
                               (long long)p.max_tokens, (long long)positions);
    const int64_t limit = p.max_tokens > 0 ? p.max_tokens : m->embed_max_tokens > 0 ? m->embed_max_tokens : positions;
    const bool normalize = p.normalize == -1 ? m->embed_normalize == 1 : p.normalize == 1;
    for (int i = 0; i < n_texts; i++)
        if (!texts[i]) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_embed: text %d is NULL", i);

    accel_encoding **enc = calloc((size_t)n_texts, sizeof *enc);
    embed_order *order = calloc((size_t)n_texts, sizeof *order);
    accel_status st = enc && order ? ACCEL_OK : accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    accel_encode_params ep = accel_encode_default_params();
    ep.add_special_tokens = 1;
    ep.max_length = p.truncate && limit > 0 ? (size_t)limit : 0;
    for (int i = 0; st == ACCEL_OK && i < n_texts; i++) {
        st = accel_tokenizer_encode(m->tok, texts[i], strlen(texts[i]), &ep, &enc[i]);
        if (st != ACCEL_OK) {
            char msg[768];
            snprintf(msg, sizeof msg, "%s", accel_last_error());
            st = accel_set_error(st, "accel_embed: text %d: %s", i, msg);
            break;
        }
        order[i].text = i;
        order[i].len = accel_encoding_len(enc[i]);
        if (limit > 0 && (int64_t)order[i].len > limit)
            st = accel_set_error(ACCEL_ERR_INVALID_ARG,
                                 "accel_embed: text %d has %zu tokens, more than the limit of %lld (truncate cuts it)",
                                 i, order[i].len, (long long)limit);
    }
    if (st == ACCEL_OK) {
        const accel_pooling pooling = resolve_pooling(m, p.pooling);
        const int32_t pad = pad_id(m);
        qsort(order, (size_t)n_texts, sizeof *order, by_len_desc);
        for (int i = 0; st == ACCEL_OK && i < n_texts;) {
            /* the longest remaining text sets the padded length of the chunk */
            const size_t longest = order[i].len ? order[i].len : 1;
            int n = (int)(EMBED_CHUNK_TOKENS / longest);
            n = n < 1 ? 1 : n > EMBED_CHUNK_TEXTS ? EMBED_CHUNK_TEXTS : n;
            n = n > n_texts - i ? n_texts - i : n;
            st = embed_chunk(s, enc, order + i, n, pooling, normalize, pad, out);
            i += n;
        }
    }
    for (int i = 0; enc && i < n_texts; i++) accel_encoding_free(enc[i]);
    free(enc);
    free(order);
    return st;
}
