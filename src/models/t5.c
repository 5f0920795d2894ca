/*
 * t5.c — T5 (T5ForConditionalGeneration: t5-small ... and the v1.1 / flan gated variants), as transformers 5.24
 * computes it.
 *
 * Encoder layer (pre-norm, T5's RMS norm without mean or bias):
 *     x += o(attention(q, k, v, bias = relative position bias + padding mask, scale 1))   q,k,v of rms(x)
 *     x += wo(act(wi(rms(x))))            or, gated ("gated-gelu"): wo(act(wi_0(h)) * wi_1(h)), h = rms(x)
 * Decoder layer: causal self-attention (relative bias, causal buckets), cross-attention on the encoder output
 * (no position bias, the encoder padding mask), the same feed-forward. Only block 0 of each stack owns a
 * relative_attention_bias table; every layer reuses its bias. No 1/sqrt(d) scaling: T5 folds it into the weights.
 * Logits: lm_head(rms(x) * d_model^-0.5) when scale_decoder_outputs (tied embeddings, the original T5), else
 * lm_head(rms(x)); lm_head is lm_head.weight when the checkpoint has it, else shared.weight (transformers 5.24
 * ties them unless both are stored with different values, which is exactly "use lm_head.weight when present").
 *
 * Generation state in the session (t5_state):
 *  - s2s_encode: the encoder output goes through every decoder layer's EncDecAttention k and v at once (one GEMM
 *    on the concatenated [n_dec * 2 * inner, d_model] matrix) and is written, head-major, into the session's cross
 *    buffer [n_dec * 2, B, H, S, D]: cross K/V are computed once per generate call.
 *  - s2s_start: the self-attention KV cache [n_dec, 2, n_seqs, H, max_len, D] (two copies, for beam reordering).
 *  - s2s_decode: one small graph per step: the new K/V are written into the cache in place (accel_write) and
 *    attention reads the filled prefix. The relative position bias of the step is computed on the host.
 *  Sequences are grouped: sequence i attends to encoder row i / (n_seqs / B). Cross-attention then runs per
 *  encoder row with the group's queries stacked (each K/V row is read once for all the beams of an input).
 */
#include "models/t5.h"

#include "core/error.h"
#include "models/blocks.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct t5_layer {
    int ln_self, qkv, o;          /* layer.0: SelfAttention (q, k, v fused at load) */
    int ln_cross, cq, co;         /* decoder layer.1: EncDecAttention (k, v live in t5_data.cross_kv) */
    int ln_ff, wi, wi0, wi1, wo;  /* last layer: DenseReluDense (wi, or wi_0 + wi_1 when gated) */
} t5_layer;

typedef struct t5_data {
    int64_t d_model, d_kv, d_ff, n_heads, inner, n_enc, n_dec, vocab, n_buckets, max_distance;
    float eps;
    blk_act act;
    bool gated, scale_out;
    int shared, lm_head, enc_norm, dec_norm;
    int enc_rel, dec_rel;         /* relative_attention_bias [n_buckets, n_heads] (f32) */
    int cross_kv;                 /* every decoder layer's EncDecAttention k then v: [n_dec * 2 * inner, d_model] */
    t5_layer *enc, *dec;
} t5_data;

/* Per-session state (see the top comment). */
typedef struct t5_state {
    /* s2s_encode */
    int64_t B, S;            /* encoded batch; B == 0: nothing encoded */
    float *cross;            /* [n_dec * 2, B, H, S, D] */
    size_t cross_cap;        /* floats */
    float *cross_mask;       /* [B, 1, 1, S] additive key mask */
    size_t cross_mask_cap;
    bool cross_masked;       /* some encoder position is padding */
    /* s2s_start */
    int64_t n_seqs, group, max_len, filled;
    float *cache[2];         /* [n_dec, 2, n_seqs, H, max_len, D]; cache[cur] is live */
    size_t cache_cap;        /* floats, each */
    int cur;
    /* host scratch */
    float *bias;
    size_t bias_cap;
    t5_timing timing;
} t5_state;

static const char *const t5_model_types[] = {"t5", NULL};

/* ---- relative position buckets ------------------------------------------------------------------------------- */

int32_t t5_relative_bucket(int64_t relative_position, bool bidirectional, int64_t num_buckets, int64_t max_distance) {
    int64_t bucket = 0, n = num_buckets, rp = relative_position;
    if (bidirectional) {
        n /= 2;
        if (rp > 0) bucket += n;
        rp = rp < 0 ? -rp : rp;
    } else {
        rp = rp < 0 ? -rp : 0;
    }
    const int64_t max_exact = n / 2;
    if (rp < max_exact) return (int32_t)(bucket + rp);
    /* float32 throughout, as torch: log(rp.float() / max_exact) / math.log(max_distance / max_exact) * (n -
     * max_exact), then truncated (.to(long)) */
    const float ratio = (float)rp / (float)max_exact;
    const float denom = (float)log((double)max_distance / (double)max_exact);
    const float v = logf(ratio) / denom * (float)(n - max_exact);
    int64_t large = max_exact + (int64_t)v;
    if (large > n - 1) large = n - 1;
    return (int32_t)(bucket + large);
}

/* ---- load ------------------------------------------------------------------------------------------------------ */

static void t5_free_data(accel_model *m) {
    t5_data *d = m->family_data;
    if (d) {
        free(d->enc);
        free(d->dec);
    }
    free(d);
    m->family_data = NULL;
}

/* feed_forward_proj as T5Config parses it ("relu", "gated-gelu", "gated-silu", ...), then the saved dense_act_fn /
 * is_gated_act, which transformers lets override the parsed values. */
static accel_status read_ff_proj(accel_model *m, const accel_hf_json *cfg, t5_data *d) {
    const char *dir = accel_hf_dir_path(m->dir);
    const char *proj = NULL, *act = NULL;
    accel_status st = accel_hf_json_string_or(cfg, "feed_forward_proj", "relu", &proj);
    if (st != ACCEL_OK) return st;
    const char *dash = strchr(proj, '-');
    bool gated = false;
    char name[64];
    if (dash) {
        if ((size_t)(dash - proj) != 5 || strncmp(proj, "gated", 5) != 0 || strchr(dash + 1, '-'))
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                   "%s/config.json: feed_forward_proj '%s' is neither '<act>' nor 'gated-<act>'", dir,
                                   proj);
        gated = true;
        snprintf(name, sizeof name, "%s", dash + 1);
    } else {
        snprintf(name, sizeof name, "%s", proj);
    }
    if (strcmp(proj, "gated-gelu") == 0) snprintf(name, sizeof name, "gelu_new"); /* T5Config: v1.1 compatibility */
    if ((st = accel_hf_json_string_or(cfg, "dense_act_fn", name, &act)) != ACCEL_OK ||
        (st = accel_hf_json_bool_or(cfg, "is_gated_act", gated, &d->gated)) != ACCEL_OK)
        return st;
    if (!blk_act_parse(act, &d->act))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s/config.json: activation '%s' (feed_forward_proj '%s') is not "
                               "implemented", dir, act, proj);
    return ACCEL_OK;
}

static accel_status read_config(accel_model *m, t5_data *d) {
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    const char *dir = accel_hf_dir_path(m->dir);
    const accel_hf_hparams *hp = &m->hp;
    accel_status st;
    /* d_model, num_layers and num_heads are required by accel_hf_hparams_read already; T5Config has defaults for
     * the others, but a checkpoint config without its sizes is broken, so these are required too */
    if ((st = accel_hf_json_int(cfg, "d_kv", &d->d_kv)) != ACCEL_OK ||
        (st = accel_hf_json_int(cfg, "d_ff", &d->d_ff)) != ACCEL_OK ||
        (st = accel_hf_json_int(cfg, "vocab_size", &d->vocab)) != ACCEL_OK)
        return st;
    if ((st = model_require_positive(m, d->d_kv, "d_kv")) != ACCEL_OK ||
        (st = model_require_positive(m, d->d_ff, "d_ff")) != ACCEL_OK ||
        (st = model_require_positive(m, d->vocab, "vocab_size")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->num_decoder_layers, "num_decoder_layers")) != ACCEL_OK)
        return st;
    d->d_model = hp->hidden_size;
    d->n_heads = hp->num_attention_heads;
    d->n_enc = hp->num_hidden_layers;
    d->n_dec = hp->num_decoder_layers;
    d->inner = d->n_heads * d->d_kv;
    if (d->n_enc > 4096 || d->n_dec > 4096 || d->n_heads > 4096 || d->d_kv > 65536)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: implausible T5 sizes", dir);
    if ((st = accel_hf_json_int_or(cfg, "relative_attention_num_buckets", 32, &d->n_buckets)) != ACCEL_OK ||
        (st = accel_hf_json_int_or(cfg, "relative_attention_max_distance", 128, &d->max_distance)) != ACCEL_OK)
        return st;
    /* the bucket formula needs max_exact >= 1 and log(max_distance / max_exact) > 0 for both directions */
    if (d->n_buckets < 4 || d->n_buckets > 65536 || d->max_distance <= d->n_buckets / 2)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s/config.json: relative_attention_num_buckets %lld / max_distance %lld are invalid "
                               "(need buckets >= 4 and max_distance > buckets / 2)",
                               dir, (long long)d->n_buckets, (long long)d->max_distance);
    double eps = 1e-6;
    if ((st = accel_hf_json_float_or(cfg, "layer_norm_epsilon", 1e-6, &eps)) != ACCEL_OK) return st;
    if (!(eps >= 0 && eps < 1))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: layer_norm_epsilon %g is invalid", dir, eps);
    d->eps = (float)eps;
    if ((st = read_ff_proj(m, cfg, d)) != ACCEL_OK) return st;
    /* T5Config.__post_init__: scale_decoder_outputs = (tie_word_embeddings is not False), unless saved explicitly */
    bool tie = true;
    if ((st = accel_hf_json_bool_or(cfg, "tie_word_embeddings", true, &tie)) != ACCEL_OK ||
        (st = accel_hf_json_bool_or(cfg, "scale_decoder_outputs", tie, &d->scale_out)) != ACCEL_OK)
        return st;

    /* T5Config's token defaults (eos 1, pad 0) where neither config nor generation config names them; decoding
     * starts with decoder_start_token_id, else bos (as generate does) */
    if (m->gen.n_eos == 0 && !accel_hf_json_has(cfg, "eos_token_id")) {
        m->gen.eos_token_ids[0] = 1;
        m->gen.n_eos = 1;
    }
    if (m->gen.pad_token_id < 0 && !accel_hf_json_has(cfg, "pad_token_id")) m->gen.pad_token_id = 0;
    if (m->gen.decoder_start_token_id < 0) m->gen.decoder_start_token_id = m->gen.bos_token_id;
    if (m->gen.decoder_start_token_id < 0 || m->gen.decoder_start_token_id >= d->vocab)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                               "%s: missing or invalid 'decoder_start_token_id' (config.json or "
                               "generation_config.json; T5 checkpoints use 0)",
                               dir);
    return ACCEL_OK;
}

/* A weight of the given shape (ndim 1 when d1 == 0), named by a printf format. */
static int wadd(accel_model *m, unsigned flags, int64_t d0, int64_t d1, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int wadd(accel_model *m, unsigned flags, int64_t d0, int64_t d1, const char *fmt, ...) {
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const int64_t shape[2] = {d0, d1};
    return model_weight_add(m, flags, d1 ? 2 : 1, shape, "%s", name);
}

/* Fuses parts (all declared) into one weight; parts stored in different dtypes are unsupported. */
static int fuse(accel_model *m, const int *parts, int n, const char *name) {
    for (int i = 1; i < n; i++)
        if (m->weights[parts[i]].dtype != m->weights[parts[0]].dtype) {
            accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: '%s' and '%s' are stored in different dtypes",
                            accel_hf_dir_path(m->dir), m->weights[parts[0]].name, m->weights[parts[i]].name);
            return MW_ERROR;
        }
    return model_weight_concat(m, parts, n, name);
}

#define TRY(expr)                                                                                                    \
    do {                                                                                                             \
        if ((expr) < 0) return model_weight_status();                                                                \
    } while (0)

static accel_status load_layer(accel_model *m, t5_data *d, bool decoder, int i) {
    const char *stack = decoder ? "decoder" : "encoder";
    t5_layer *L = decoder ? &d->dec[i] : &d->enc[i];
    const int64_t D = d->d_model, I = d->inner, F = d->d_ff;
    int q, k, v;
    TRY(L->ln_self = wadd(m, MW_F32, D, 0, "%s.block.%d.layer.0.layer_norm.weight", stack, i));
    TRY(q = wadd(m, 0, I, D, "%s.block.%d.layer.0.SelfAttention.q.weight", stack, i));
    TRY(k = wadd(m, 0, I, D, "%s.block.%d.layer.0.SelfAttention.k.weight", stack, i));
    TRY(v = wadd(m, 0, I, D, "%s.block.%d.layer.0.SelfAttention.v.weight", stack, i));
    TRY(L->o = wadd(m, 0, D, I, "%s.block.%d.layer.0.SelfAttention.o.weight", stack, i));
    char name[160];
    snprintf(name, sizeof name, "%s.block.%d.layer.0.SelfAttention.qkv.weight", stack, i);
    const int parts[3] = {q, k, v};
    TRY(L->qkv = fuse(m, parts, 3, name));
    const int ff = decoder ? 2 : 1;
    if (decoder) {
        TRY(L->ln_cross = wadd(m, MW_F32, D, 0, "decoder.block.%d.layer.1.layer_norm.weight", i));
        TRY(L->cq = wadd(m, 0, I, D, "decoder.block.%d.layer.1.EncDecAttention.q.weight", i));
        TRY(L->co = wadd(m, 0, D, I, "decoder.block.%d.layer.1.EncDecAttention.o.weight", i));
    }
    TRY(L->ln_ff = wadd(m, MW_F32, D, 0, "%s.block.%d.layer.%d.layer_norm.weight", stack, i, ff));
    L->wi = L->wi0 = L->wi1 = MW_ABSENT;
    if (d->gated) {
        TRY(L->wi0 = wadd(m, 0, F, D, "%s.block.%d.layer.%d.DenseReluDense.wi_0.weight", stack, i, ff));
        TRY(L->wi1 = wadd(m, 0, F, D, "%s.block.%d.layer.%d.DenseReluDense.wi_1.weight", stack, i, ff));
    } else {
        TRY(L->wi = wadd(m, 0, F, D, "%s.block.%d.layer.%d.DenseReluDense.wi.weight", stack, i, ff));
    }
    TRY(L->wo = wadd(m, 0, D, F, "%s.block.%d.layer.%d.DenseReluDense.wo.weight", stack, i, ff));
    return ACCEL_OK;
}

static accel_status t5_load(accel_model *m) {
    t5_data *d = calloc(1, sizeof *d);
    if (!d) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    m->family_data = d;
    accel_status st = read_config(m, d);
    if (st != ACCEL_OK) return st;
    d->enc = calloc((size_t)d->n_enc, sizeof *d->enc);
    d->dec = calloc((size_t)d->n_dec, sizeof *d->dec);
    if (!d->enc || !d->dec) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    const int64_t D = d->d_model, I = d->inner;
    TRY(d->shared = wadd(m, 0, d->vocab, D, "shared.weight"));
    TRY(d->enc_rel = wadd(m, MW_F32, d->n_buckets, d->n_heads,
                          "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
    TRY(d->dec_rel = wadd(m, MW_F32, d->n_buckets, d->n_heads,
                          "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
    for (int i = 0; i < d->n_enc; i++)
        if ((st = load_layer(m, d, false, i)) != ACCEL_OK) return st;
    for (int i = 0; i < d->n_dec; i++)
        if ((st = load_layer(m, d, true, i)) != ACCEL_OK) return st;
    TRY(d->enc_norm = wadd(m, MW_F32, D, 0, "encoder.final_layer_norm.weight"));
    TRY(d->dec_norm = wadd(m, MW_F32, D, 0, "decoder.final_layer_norm.weight"));
    d->lm_head = wadd(m, MW_OPTIONAL, d->vocab, D, "lm_head.weight");
    if (d->lm_head == MW_ERROR) return model_weight_status();
    if (d->lm_head == MW_ABSENT) d->lm_head = d->shared;

    /* cross-attention k and v of every decoder layer, in one matrix: the encoder output is projected once */
    int *parts = malloc(sizeof *parts * (size_t)(2 * d->n_dec));
    if (!parts) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < d->n_dec && st == ACCEL_OK; i++) {
        parts[2 * i] = wadd(m, 0, I, D, "decoder.block.%d.layer.1.EncDecAttention.k.weight", i);
        parts[2 * i + 1] = parts[2 * i] < 0 ? MW_ERROR : wadd(m, 0, I, D, "decoder.block.%d.layer.1.EncDecAttention.v.weight", i);
        if (parts[2 * i + 1] < 0) st = model_weight_status();
    }
    if (st == ACCEL_OK && (d->cross_kv = fuse(m, parts, (int)(2 * d->n_dec), "decoder.EncDecAttention.kv.weight")) < 0)
        st = model_weight_status();
    free(parts);
    return st;
}

static int64_t t5_embedding_dim(const accel_model *m) { return ((const t5_data *)m->family_data)->d_model; }
static int64_t t5_vocab_size(const accel_model *m) { return ((const t5_data *)m->family_data)->vocab; }

/* Relative positions have no table limit; the tokenizer's model_max_length (512 for t5-small) is the length the
 * model was trained for, and what HF truncation uses. 0 when the tokenizer config gives none. */
static int64_t t5_max_tokens(const accel_model *m) {
    const int64_t n = m->tokcfg.model_max_length;
    return n > 0 && n < ((int64_t)1 << 40) ? n : 0;
}

/* ---- session ------------------------------------------------------------------------------------------------- */

static accel_status t5_session_init(accel_session *s) {
    s->family_state = calloc(1, sizeof(t5_state));
    return s->family_state ? ACCEL_OK : accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
}

static void t5_session_free(accel_session *s) {
    t5_state *st = s->family_state;
    if (!st) return;
    free(st->cross);
    free(st->cross_mask);
    free(st->cache[0]);
    free(st->cache[1]);
    free(st->bias);
    free(st);
    s->family_state = NULL;
}

/* Grows *p to at least n floats (contents not kept). */
static bool reserve(float **p, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    if (n > SIZE_MAX / sizeof(float)) return false;
    float *q = malloc(n * sizeof *q);
    if (!q) return false;
    free(*p);
    *p = q;
    *cap = n;
    return true;
}

/* The product of n sizes, or SIZE_MAX when it does not fit (a reserve of that many floats then fails cleanly). */
static size_t count_of(int n, const int64_t *dims) {
    size_t c = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0 || (dims[i] && c > SIZE_MAX / sizeof(float) / (size_t)dims[i])) return SIZE_MAX;
        c *= (size_t)dims[i];
    }
    return c;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void t5_session_timing(accel_session *s, t5_timing *out, bool reset) {
    t5_state *st = s && s->model->family == &accel_family_t5 ? s->family_state : NULL;
    if (out) *out = st ? st->timing : (t5_timing){0};
    if (st && reset) st->timing = (t5_timing){0};
}

/* ---- graph pieces ---------------------------------------------------------------------------------------------- */

static accel_tensor *W(accel_graph *g, const accel_model *m, int i) { return model_weight(g, m, i); }

/* o[B, H, R, D] -> [B, R, H * D]; a reshape when one of H, R is 1 (decode steps), else one copy. */
static accel_tensor *merge_heads(accel_graph *g, accel_tensor *o) {
    if (!o) return NULL;
    const int64_t B = accel_tensor_dim(o, 0), H = accel_tensor_dim(o, 1), R = accel_tensor_dim(o, 2),
                  D = accel_tensor_dim(o, 3);
    if (H == 1 || R == 1) return accel_reshape(g, o, 3, (const int64_t[]){B, R, H * D});
    return blk_merge_heads(g, o);
}

static accel_tensor *feed_forward(accel_graph *g, const accel_model *m, const t5_data *d, const t5_layer *L,
                                  accel_tensor *x) {
    accel_tensor *h = accel_rms_norm(g, x, W(g, m, L->ln_ff), d->eps);
    if (d->gated) {
        accel_tensor *a = blk_act_apply(g, accel_linear(g, h, W(g, m, L->wi0), NULL), d->act);
        h = accel_mul(g, a, accel_linear(g, h, W(g, m, L->wi1), NULL));
    } else {
        h = blk_act_apply(g, accel_linear(g, h, W(g, m, L->wi), NULL), d->act);
    }
    return accel_add(g, x, accel_linear(g, h, W(g, m, L->wo), NULL));
}

/* Token embeddings in f32: shared.weight stays in its stored dtype (it is the lm_head too when tied), so rows of
 * an f16 / bf16 checkpoint are widened after the gather. */
static accel_tensor *embed(accel_graph *g, const accel_model *m, accel_tensor *ids) {
    const t5_data *d = m->family_data;
    accel_tensor *x = accel_get_rows(g, W(g, m, d->shared), ids);
    return m->weights[d->shared].dtype == ACCEL_F32 ? x : accel_cast(g, x, ACCEL_F32);
}

/* The encoder on ids [B, S] with the additive attention bias [B or 1, H, S, S] -> the final normed output. */
static accel_tensor *encoder_graph(accel_graph *g, const accel_model *m, accel_tensor *ids, accel_tensor *bias) {
    const t5_data *d = m->family_data;
    const accel_attention_params ap = {.scale = 1.0f};
    accel_tensor *x = embed(g, m, ids);
    for (int i = 0; i < d->n_enc; i++) {
        const t5_layer *L = &d->enc[i];
        accel_tensor *h = accel_rms_norm(g, x, W(g, m, L->ln_self), d->eps);
        h = blk_self_attention_qkv(g, h, W(g, m, L->qkv), NULL, d->n_heads, d->d_kv, bias, &ap);
        x = accel_add(g, x, accel_linear(g, h, W(g, m, L->o), NULL));
        x = feed_forward(g, m, d, L, x);
    }
    return accel_rms_norm(g, x, W(g, m, d->enc_norm), d->eps);
}

/* An external f32 leaf over host memory the session owns. */
static accel_tensor *host_leaf(accel_graph *g, float *data, int ndim, const int64_t *shape, const char *name) {
    accel_tensor *t = accel_tensor_new(g, ACCEL_F32, ndim, shape);
    if (!t) return NULL;
    accel_tensor_set_name(t, name);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    if (accel_tensor_set_external(t, data, n * sizeof(float)) != ACCEL_OK) return NULL;
    return t;
}

/* ---- encoder ----------------------------------------------------------------------------------------------------- */

static accel_status check_batch(const t5_data *d, const accel_token_batch *b) {
    if (!b || b->batch < 1 || b->seq < 1 || !b->ids)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: empty token batch");
    if (b->batch > (1 << 20) || b->seq > (1 << 20))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: token batch %lld x %lld is too large", (long long)b->batch,
                               (long long)b->seq);
    for (int64_t i = 0; i < b->batch * b->seq; i++)
        if (b->ids[i] < 0 || b->ids[i] >= d->vocab)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: token id %d at %lld is outside the vocabulary (%lld)",
                                   (int)b->ids[i], (long long)i, (long long)d->vocab);
    for (int64_t r = 0; b->mask && r < b->batch; r++) {
        bool any = false;
        for (int64_t j = 0; j < b->seq; j++) any = any || b->mask[r * b->seq + j] != 0;
        if (!any) return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: row %lld of the attention mask is all padding",
                                         (long long)r);
    }
    return ACCEL_OK;
}

/* Encoder self-attention bias: relative position bias [H, S, S] (+ key padding per row when padded). */
static void encoder_bias(const t5_data *d, const float *table, const float *key_mask, int64_t rows, int64_t S,
                         float *out, int32_t *bucket_of) {
    const int64_t H = d->n_heads;
    for (int64_t r = -(S - 1); r <= S - 1; r++)
        bucket_of[r + S - 1] = t5_relative_bucket(r, true, d->n_buckets, d->max_distance);
    for (int64_t b = 0; b < rows; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < S; i++) {
                float *row = out + ((b * H + h) * S + i) * S;
                for (int64_t j = 0; j < S; j++) {
                    row[j] = table[(int64_t)bucket_of[j - i + S - 1] * H + h];
                    if (key_mask) row[j] += key_mask[b * S + j];
                }
            }
}

/* Runs the encoder on b. hidden_out (may be NULL) gets [B, S, d_model]; keep_cross: also project every decoder
 * layer's cross-attention K/V into the session (s2s_encode). */
static accel_status run_encoder(accel_session *s, const accel_token_batch *b, float *hidden_out, bool keep_cross) {
    const accel_model *m = s->model;
    const t5_data *d = m->family_data;
    t5_state *ts = s->family_state;
    accel_status st = check_batch(d, b);
    if (st != ACCEL_OK) return st;
    const int64_t B = b->batch, S = b->seq, H = d->n_heads, Dk = d->d_kv;
    if (keep_cross) ts->B = ts->n_seqs = 0; /* nothing valid until this succeeds */

    /* host inputs: key mask and the bias (per row only when some row is padded) */
    float *key_mask = malloc(sizeof(float) * (size_t)(B * S));
    int32_t *bucket_of = malloc(sizeof(int32_t) * (size_t)(2 * S));
    if (!key_mask || !bucket_of) {
        free(key_mask);
        free(bucket_of);
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    }
    const bool padded = blk_padding_mask(b->mask, B, S, key_mask);
    const int64_t rows = padded ? B : 1;
    const size_t n_bias = count_of(4, (const int64_t[]){rows, H, S, S});
    if (!reserve(&ts->bias, &ts->bias_cap, n_bias)) st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    const size_t n_cross = count_of(6, (const int64_t[]){2, d->n_dec, B, H, S, Dk});
    if (st == ACCEL_OK && keep_cross &&
        (!reserve(&ts->cross, &ts->cross_cap, n_cross) ||
         !reserve(&ts->cross_mask, &ts->cross_mask_cap, (size_t)(B * S))))
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory for the cross-attention states");
    if (st == ACCEL_OK) {
        encoder_bias(d, m->weights[d->enc_rel].data, padded ? key_mask : NULL, rows, S, ts->bias, bucket_of);
        if (keep_cross) memcpy(ts->cross_mask, key_mask, sizeof(float) * (size_t)(B * S));
    }
    free(bucket_of);
    free(key_mask);
    if (st != ACCEL_OK) return st;

    accel_graph *g = NULL;
    if ((st = model_graph_new((size_t)(40 * d->n_enc + 64), &g)) != ACCEL_OK) return st;
    accel_tensor *ids = model_input(g, ACCEL_I32, 2, (const int64_t[]){B, S}, "input_ids");
    accel_tensor *bias = model_input(g, ACCEL_F32, 4, (const int64_t[]){rows, H, S, S}, "position_bias");
    accel_tensor *x = encoder_graph(g, m, ids, bias);
    if (hidden_out) accel_graph_add_output(g, x);
    if (keep_cross) {
        /* [B, S, n_dec * 2 * inner] -> [n_dec * 2, B, H, S, D], written into the session's buffer */
        accel_tensor *kv = accel_linear(g, x, W(g, m, d->cross_kv), NULL);
        kv = accel_reshape(g, kv, 5, (const int64_t[]){B, S, 2 * d->n_dec, H, Dk});
        kv = accel_permute(g, kv, (const int[]){2, 0, 3, 1, 4});
        accel_tensor *dst = host_leaf(g, ts->cross, 5, (const int64_t[]){2 * d->n_dec, B, H, S, Dk}, "cross_kv");
        accel_graph_add_output(g, accel_write(g, dst, kv, 0, 0));
    }
    st = accel_graph_status(g);
    if (st == ACCEL_OK) st = session_alloc(s, g);
    if (st == ACCEL_OK) st = accel_tensor_set(ids, b->ids, sizeof(int32_t) * (size_t)(B * S));
    if (st == ACCEL_OK) st = accel_tensor_set(bias, ts->bias, sizeof(float) * n_bias);
    if (st == ACCEL_OK) st = session_compute(s, g);
    if (st == ACCEL_OK && hidden_out) st = accel_tensor_get(x, hidden_out, sizeof(float) * (size_t)(B * S * d->d_model));
    accel_graph_free(g);
    if (st == ACCEL_OK && keep_cross) {
        ts->B = B;
        ts->S = S;
        ts->cross_masked = padded;
    }
    return st;
}

/* ACCEL_TASK_EMBED-style hook: the encoder's last hidden state (T5 has no pooler). */
static accel_status t5_encode(accel_session *s, const accel_token_batch *b, float *hidden_out, float *pooler_out) {
    if (pooler_out)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "t5: the model has no pooler");
    return run_encoder(s, b, hidden_out, false);
}

static accel_status t5_s2s_encode(accel_session *s, const accel_token_batch *b) {
    return run_encoder(s, b, NULL, true);
}

/* ---- decoder ------------------------------------------------------------------------------------------------------ */

static accel_status t5_s2s_start(accel_session *s, int n_seqs, const int32_t *enc_row, int64_t max_len) {
    const t5_data *d = s->model->family_data;
    t5_state *ts = s->family_state;
    if (ts->B == 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: s2s_start before s2s_encode");
    if (n_seqs < 1 || n_seqs % ts->B != 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: %d decoder sequences for %lld encoded rows (need a multiple)",
                               n_seqs, (long long)ts->B);
    if (max_len < 1 || max_len > (1 << 20))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: decoder length %lld out of range", (long long)max_len);
    const int64_t group = n_seqs / ts->B;
    for (int i = 0; enc_row && i < n_seqs; i++)
        if (enc_row[i] != i / group)
            return accel_set_error(ACCEL_ERR_INVALID_ARG,
                                   "t5: sequence %d attends to encoder row %d; T5 sessions need sequence i on row i / %lld "
                                   "(rows' sequences contiguous, the same count per row)",
                                   i, (int)enc_row[i], (long long)group);
    const size_t n = count_of(6, (const int64_t[]){2, d->n_dec, n_seqs, d->n_heads, max_len, d->d_kv});
    size_t cap0 = ts->cache_cap, cap1 = ts->cache_cap;
    if (!reserve(&ts->cache[0], &cap0, n) || !reserve(&ts->cache[1], &cap1, n)) {
        ts->cache_cap = cap0 < cap1 ? cap0 : cap1;
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory for a KV cache of %zu floats", n);
    }
    ts->cache_cap = cap0 < cap1 ? cap0 : cap1;
    /* no clearing: a step reads positions [0, pos + n_tokens) only, all written by earlier steps or by itself */
    ts->n_seqs = n_seqs;
    ts->group = group;
    ts->max_len = max_len;
    ts->filled = 0;
    ts->cur = 0;
    return ACCEL_OK;
}

accel_status t5_decode_tokens(accel_session *s, const int32_t *tokens, int64_t T, int64_t pos, float *logits) {
    if (!s || !tokens || !logits) return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5_decode_tokens: NULL argument");
    const accel_model *m = s->model;
    if (m->family != &accel_family_t5)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5_decode_tokens: not a T5 model");
    const t5_data *d = m->family_data;
    t5_state *ts = s->family_state;
    if (ts->n_seqs == 0 || ts->B == 0)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: decoding before s2s_encode and s2s_start");
    if (T < 1 || pos < 0 || pos > ts->filled || pos + T > ts->max_len)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "t5: decoding %lld tokens at position %lld (filled %lld, room for %lld)", (long long)T,
                               (long long)pos, (long long)ts->filled, (long long)ts->max_len);
    const int64_t n = ts->n_seqs, H = d->n_heads, Dk = d->d_kv, I = d->inner, Lk = pos + T;
    for (int64_t i = 0; i < n * T; i++)
        if (tokens[i] < 0 || tokens[i] >= d->vocab)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: decoder token %d is outside the vocabulary (%lld)",
                                   (int)tokens[i], (long long)d->vocab);
    double t0 = now_s();

    /* self-attention bias [1, H, T, Lk]: causal buckets of (key - query); hidden keys are masked by `causal` */
    const size_t n_bias = count_of(3, (const int64_t[]){H, T, Lk});
    if (!reserve(&ts->bias, &ts->bias_cap, n_bias)) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    const float *table = m->weights[d->dec_rel].data;
    for (int64_t i = 0; i < T; i++)
        for (int64_t j = 0; j < Lk; j++) {
            const int32_t bk = t5_relative_bucket(j - (pos + i), false, d->n_buckets, d->max_distance);
            for (int64_t h = 0; h < H; h++) ts->bias[(h * T + i) * Lk + j] = table[(int64_t)bk * H + h];
        }

    accel_graph *g = NULL;
    accel_status st = model_graph_new((size_t)(48 * d->n_dec + 64), &g);
    if (st != ACCEL_OK) return st;
    const accel_attention_params self_ap = {.scale = 1.0f, .causal = true}, cross_ap = {.scale = 1.0f};
    accel_tensor *ids = model_input(g, ACCEL_I32, 2, (const int64_t[]){n, T}, "decoder_input_ids");
    accel_tensor *bias = model_input(g, ACCEL_F32, 4, (const int64_t[]){1, H, T, Lk}, "position_bias");
    accel_tensor *cmask = ts->cross_masked ? host_leaf(g, ts->cross_mask, 4, (const int64_t[]){ts->B, 1, 1, ts->S},
                                                       "encoder_attention_mask")
                                           : NULL;
    const int64_t cache_shape[4] = {n, H, ts->max_len, Dk}, cross_shape[4] = {ts->B, H, ts->S, Dk};
    const size_t cache_layer = (size_t)(n * H * ts->max_len * Dk), cross_layer = (size_t)(ts->B * H * ts->S * Dk);
    const int64_t R = ts->group * T; /* query rows per encoder row in cross-attention */
    accel_tensor *x = embed(g, m, ids);
    for (int l = 0; l < d->n_dec; l++) {
        const t5_layer *L = &d->dec[l];
        /* causal self-attention through the cache */
        accel_tensor *h = accel_rms_norm(g, x, W(g, m, L->ln_self), d->eps);
        accel_tensor *qkv = accel_linear(g, h, W(g, m, L->qkv), NULL);
        float *kc = ts->cache[ts->cur] + (size_t)(2 * l) * cache_layer;
        accel_tensor *k = accel_write(g, host_leaf(g, kc, 4, cache_shape, "k_cache"), blk_heads(g, qkv, I, H, Dk), 2, pos);
        accel_tensor *v = accel_write(g, host_leaf(g, kc + cache_layer, 4, cache_shape, "v_cache"),
                                      blk_heads(g, qkv, 2 * I, H, Dk), 2, pos);
        accel_tensor *a = accel_attention(g, blk_heads(g, qkv, 0, H, Dk), accel_slice(g, k, 2, 0, Lk, 1),
                                          accel_slice(g, v, 2, 0, Lk, 1), bias, &self_ap);
        x = accel_add(g, x, accel_linear(g, merge_heads(g, a), W(g, m, L->o), NULL));
        /* cross-attention: the queries of an encoder row's sequences as rows of one [B, H, group * T, D] view */
        h = accel_rms_norm(g, x, W(g, m, L->ln_cross), d->eps);
        accel_tensor *q = accel_linear(g, h, W(g, m, L->cq), NULL); /* [n, T, I] */
        q = accel_view(g, q, 4, (const int64_t[]){ts->B, H, R, Dk},
                       (const int64_t[]){R * I * 4, Dk * 4, I * 4, 4}, 0);
        float *xk = ts->cross + (size_t)(2 * l) * cross_layer;
        a = accel_attention(g, q, host_leaf(g, xk, 4, cross_shape, "cross_k"),
                            host_leaf(g, xk + cross_layer, 4, cross_shape, "cross_v"), cmask, &cross_ap);
        a = accel_reshape(g, merge_heads(g, a), 3, (const int64_t[]){n, T, I});
        x = accel_add(g, x, accel_linear(g, a, W(g, m, L->co), NULL));
        x = feed_forward(g, m, d, L, x);
    }
    x = accel_rms_norm(g, x, W(g, m, d->dec_norm), d->eps);
    if (d->scale_out) x = accel_scale(g, x, (float)pow((double)d->d_model, -0.5), 0.0f);
    accel_tensor *out = accel_linear(g, x, W(g, m, d->lm_head), NULL);
    accel_graph_add_output(g, out);
    st = accel_graph_status(g);
    double t1 = now_s();
    if (st == ACCEL_OK) st = session_alloc(s, g);
    double t2 = now_s();
    if (st == ACCEL_OK) st = accel_tensor_set(ids, tokens, sizeof(int32_t) * (size_t)(n * T));
    if (st == ACCEL_OK) st = accel_tensor_set(bias, ts->bias, sizeof(float) * n_bias);
    if (st == ACCEL_OK) st = session_compute(s, g);
    if (st == ACCEL_OK) st = accel_tensor_get(out, logits, sizeof(float) * (size_t)(n * T * d->vocab));
    double t3 = now_s();
    accel_graph_free(g);
    if (st == ACCEL_OK) {
        ts->filled = Lk;
        ts->timing.build_s += t1 - t0;
        ts->timing.alloc_s += t2 - t1;
        ts->timing.compute_s += t3 - t2;
        ts->timing.calls++;
    }
    return st;
}

static accel_status t5_s2s_decode(accel_session *s, const int32_t *tokens, int64_t pos, float *logits) {
    return t5_decode_tokens(s, tokens, 1, pos, logits);
}

/* Beam reordering: the filled positions of sequence src[i] become sequence i's, in the spare cache copy. */
static accel_status t5_s2s_reorder(accel_session *s, const int32_t *src) {
    const t5_data *d = s->model->family_data;
    t5_state *ts = s->family_state;
    if (!src) return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: s2s_reorder: NULL src");
    if (ts->n_seqs == 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "t5: s2s_reorder before s2s_start");
    const int64_t n = ts->n_seqs;
    for (int64_t i = 0; i < n; i++)
        if (src[i] < 0 || src[i] >= n || src[i] / ts->group != i / ts->group)
            return accel_set_error(ACCEL_ERR_INVALID_ARG,
                                   "t5: s2s_reorder: sequence %lld cannot continue sequence %d (another input's)",
                                   (long long)i, (int)src[i]);
    const size_t head = (size_t)(ts->max_len * d->d_kv), seq = (size_t)d->n_heads * head,
                 used = (size_t)ts->filled * (size_t)d->d_kv;
    const float *from = ts->cache[ts->cur];
    float *to = ts->cache[1 - ts->cur];
    for (int64_t c = 0; c < 2 * d->n_dec; c++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t h = 0; h < d->n_heads; h++) {
                const size_t base = (size_t)c * (size_t)n * seq;
                memcpy(to + base + (size_t)i * seq + (size_t)h * head, from + base + (size_t)src[i] * seq + (size_t)h * head,
                       used * sizeof(float));
            }
    ts->cur = 1 - ts->cur;
    return ACCEL_OK;
}

const accel_family accel_family_t5 = {
    .name = "t5",
    .model_types = t5_model_types,
    .naming = ACCEL_HF_NAMING_T5,
    .tasks = 1u << ACCEL_TASK_SEQ2SEQ,
    .load = t5_load,
    .free_data = t5_free_data,
    .embedding_dim = t5_embedding_dim,
    .max_tokens = t5_max_tokens,
    .session_init = t5_session_init,
    .session_free = t5_session_free,
    .encode = t5_encode,
    .s2s_encode = t5_s2s_encode,
    .s2s_start = t5_s2s_start,
    .s2s_decode = t5_s2s_decode,
    .s2s_reorder = t5_s2s_reorder,
    .vocab_size = t5_vocab_size,
};
