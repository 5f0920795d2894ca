/*
 * decoder_lm.c — the decoder-only transformer of LLaMA, Qwen2 and Mistral (see decoder_lm.h) and its causal-LM
 * session: KV cache, prefill graphs, and one reusable decode-step graph.
 *
 * Session state (dlm_state):
 *  - lm_start allocates the KV cache [n_layers][K, V][n_seqs][n_kv_heads][n_ctx][head_dim] (f32) and the additive
 *    key mask [n_seqs][n_ctx] (0 for tokens, -FLT_MAX for padding; finite so that a padding query, which sees only
 *    padding, averages values instead of dividing 0 by 0). Both only grow across calls.
 *  - lm_forward with several tokens (prefill) builds a graph, places it, runs it and frees it.
 *  - lm_forward with one token per sequence (decode) runs the session's step graph: built once per (n_seqs, n_ctx,
 *    masked), placed once, and for each step only patched in place — the K/V cache writes get the new row as
 *    their offset, the K/V (and mask) views their new length — before compute. So a decode step builds nothing,
 *    allocates nothing and places nothing; it sets two small inputs (ids, positions), computes and reads the
 *    logits. Any other graph placed on the session's scheduler (a prefill) invalidates the placement, which is
 *    redone once at the next step. When the placement needed copies between devices (views over copies are made
 *    at placement time), the step graph is placed again every step so those copies see the patched shapes.
 *  - RoPE inv_freq lives in session memory (host-computed as transformers does, decoder_lm.h); dynamic NTK scaling
 *    recomputes it per forward from max(position) + 1 with HF's growth/reset rule. HF keeps that state in the
 *    model's rotary module across generate calls; here lm_start resets it, so every call computes what a freshly
 *    loaded HF model computes (and calls do not depend on earlier ones).
 * Positions are per token, so left-padded batches (positions = cumsum(mask) - 1) and recycled contexts work: RoPE
 * runs on q/k viewed as [1, n_seqs * n_tokens, heads, head_dim] with one position per row.
 */
#include "models/decoder_lm.h"

#include "core/error.h"
#include "core/tensor.h"
#include "models/blocks.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const dlm_names dlm_hf_llama_names = {
    .embed = "model.embed_tokens.weight",
    .norm = "model.norm.weight",
    .lm_head = "lm_head.weight",
    .ln_attn = "model.layers.%d.input_layernorm.weight",
    .q = "model.layers.%d.self_attn.q_proj",
    .k = "model.layers.%d.self_attn.k_proj",
    .v = "model.layers.%d.self_attn.v_proj",
    .o = "model.layers.%d.self_attn.o_proj",
    .ln_mlp = "model.layers.%d.post_attention_layernorm.weight",
    .gate = "model.layers.%d.mlp.gate_proj",
    .up = "model.layers.%d.mlp.up_proj",
    .down = "model.layers.%d.mlp.down_proj",
};

typedef struct dlm_layer {
    int ln_attn, qkv, qkv_b, o, o_b; /* q/k/v fused; biases -1 when absent */
    int ln_mlp, gate_up, gate_up_b, down, down_b;
    int64_t window;                  /* sliding window of this layer, 0 = full attention */
} dlm_layer;

typedef struct dlm_data {
    dlm_hparams hp;
    blk_act act;
    int embed, norm, lm_head;
    dlm_layer *layers;
} dlm_data;

/* Per-session state (see the top comment). */
typedef struct dlm_state {
    int64_t n_seqs, n_ctx, filled;   /* lm_start; rows of the cache written so far */
    float *cache;                    /* [L][2][n_seqs][Hkv][n_ctx][D] */
    size_t cache_cap;                /* floats */
    float *kmask;                    /* [n_seqs][n_ctx] additive key mask */
    size_t kmask_cap;
    bool masked;                     /* some row < filled is padding */
    float *inv_freq;                 /* [rope.dim / 2] */
    float rope_scale;                /* cos/sin scale (YaRN) */
    int64_t rope_cached;             /* HF's max_seq_len_cached (dynamic) */
    int32_t *pos_tmp;                /* default positions */
    size_t pos_cap;
    /* the decode-step graph */
    accel_graph *step;
    int64_t step_B, step_ctx;
    bool step_masked, step_placed, step_replace; /* step_replace: place it again every step (device copies) */
    const float *step_cache;
    accel_tensor *step_ids, *step_pos, *step_logits, *step_mask;
    accel_tensor **step_patch;       /* per layer: K view, V view, K write, V write */
    dlm_timing timing;
    accel_generate_stats stats;
} dlm_state;

static const char *const k_rope_names[] = {"default", "linear", "dynamic", "llama3", "yarn"};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- RoPE ------------------------------------------------------------------------------------------------------ */

/* A float parameter of the RoPE dict: `p` when present there, else the default. */
static accel_status rope_num(const accel_hf_json *p, const char *key, double def, double *out) {
    return p ? accel_hf_json_float_or(p, key, def, out) : (*out = def, ACCEL_OK);
}

static accel_status rope_need(const accel_hf_json *p, const char *key, const char *type) {
    if (p && accel_hf_json_has(p, key)) return ACCEL_OK;
    return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: rope type '%s' needs '%s%s%s'",
                           p ? accel_hf_json_file(p) : "config.json", type, p ? accel_hf_json_path(p) : "",
                           p ? "." : "", key);
}

accel_status dlm_rope_read(const accel_hf_json *cfg, int64_t head_dim, int64_t max_pos, dlm_rope *r) {
    memset(r, 0, sizeof *r);
    r->type = DLM_ROPE_DEFAULT;
    r->factor = 1.0;
    r->max_pos = max_pos;
    r->truncate = true;
    const char *file = accel_hf_json_file(cfg);
    /* transformers: rope_parameters = rope_scaling or rope_parameters; rope_theta and partial_rotary_factor are
     * defaults the dict's own values override */
    const accel_hf_json *p = NULL;
    accel_status st = accel_hf_json_sub(cfg, "rope_scaling", &p);
    if (st == ACCEL_OK && !p) st = accel_hf_json_sub(cfg, "rope_parameters", &p);
    double partial = 1.0;
    if (st != ACCEL_OK || (st = accel_hf_json_float_or(cfg, "rope_theta", 10000.0, &r->theta)) != ACCEL_OK ||
        (st = rope_num(p, "rope_theta", r->theta, &r->theta)) != ACCEL_OK ||
        (st = accel_hf_json_float_or(cfg, "partial_rotary_factor", 1.0, &partial)) != ACCEL_OK ||
        (st = rope_num(p, "partial_rotary_factor", partial, &partial)) != ACCEL_OK)
        return st;
    const char *type = "default";
    if (p && (st = accel_hf_json_string_or(p, "type", type, &type)) != ACCEL_OK) return st;
    if (p && (st = accel_hf_json_string_or(p, "rope_type", type, &type)) != ACCEL_OK) return st;
    bool known = false;
    for (int i = 0; i < (int)(sizeof k_rope_names / sizeof k_rope_names[0]); i++)
        if (strcmp(type, k_rope_names[i]) == 0) {
            r->type = (dlm_rope_type)i;
            known = true;
        }
    if (!known)
        return accel_set_error(ACCEL_ERR_UNSUPPORTED,
                               "%s: rope type '%s' is not implemented (implemented: default, linear, dynamic, llama3, "
                               "yarn)",
                               file, type);
    if (!(r->theta > 0) || !isfinite(r->theta))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: rope_theta %g must be positive", file, r->theta);
    if (!(partial > 0 && partial <= 1))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: partial_rotary_factor %g is not in (0, 1]", file, partial);
    r->dim = (int64_t)((double)head_dim * partial);
    if (r->dim < 2 || r->dim % 2 != 0 || r->dim > head_dim)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: the rotary dimension %lld (head_dim %lld x %g) must be even",
                               file, (long long)r->dim, (long long)head_dim, partial);
    if (r->type == DLM_ROPE_DEFAULT) return ACCEL_OK;

    /* llama3 / yarn: a top-level original_max_position_embeddings wins (HF standardize_rope_params), then the
     * dict's, then max_position_embeddings */
    double omp = (double)max_pos;
    if ((st = rope_num(p, "original_max_position_embeddings", omp, &omp)) != ACCEL_OK ||
        (st = accel_hf_json_float_or(cfg, "original_max_position_embeddings", omp, &omp)) != ACCEL_OK)
        return st;
    r->original_max_pos = (int64_t)omp;
    if (r->type == DLM_ROPE_YARN) {
        /* factor may be omitted: max_position_embeddings / original */
        if ((st = rope_num(p, "factor", 0.0, &r->factor)) != ACCEL_OK) return st;
        if (r->factor == 0 && r->original_max_pos > 0) r->factor = (double)max_pos / (double)r->original_max_pos;
        if ((st = rope_num(p, "beta_fast", 0.0, &r->beta_fast)) != ACCEL_OK ||
            (st = rope_num(p, "beta_slow", 0.0, &r->beta_slow)) != ACCEL_OK ||
            (st = rope_num(p, "mscale", 0.0, &r->mscale)) != ACCEL_OK ||
            (st = rope_num(p, "mscale_all_dim", 0.0, &r->mscale_all_dim)) != ACCEL_OK ||
            (st = rope_num(p, "attention_factor", 0.0, &r->attention_factor)) != ACCEL_OK ||
            (st = accel_hf_json_bool_or(p, "truncate", true, &r->truncate)) != ACCEL_OK)
            return st;
        if (r->original_max_pos <= 0)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: yarn needs a positive original_max_position_embeddings",
                                   file);
    } else {
        if ((st = rope_need(p, "factor", type)) != ACCEL_OK || (st = rope_num(p, "factor", 1.0, &r->factor)) != ACCEL_OK)
            return st;
    }
    if (!(r->factor > 0) || !isfinite(r->factor))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: rope factor %g must be positive", file, r->factor);
    if (r->type == DLM_ROPE_LLAMA3) {
        if ((st = rope_need(p, "low_freq_factor", type)) != ACCEL_OK ||
            (st = rope_need(p, "high_freq_factor", type)) != ACCEL_OK ||
            (st = rope_num(p, "low_freq_factor", 0, &r->low_freq_factor)) != ACCEL_OK ||
            (st = rope_num(p, "high_freq_factor", 0, &r->high_freq_factor)) != ACCEL_OK)
            return st;
        if (!(r->low_freq_factor > 0) || !(r->high_freq_factor > r->low_freq_factor) || r->original_max_pos <= 0)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                   "%s: llama3 rope needs 0 < low_freq_factor < high_freq_factor and a positive "
                                   "original_max_position_embeddings (got %g, %g, %lld)",
                                   file, r->low_freq_factor, r->high_freq_factor, (long long)r->original_max_pos);
    }
    if (r->type == DLM_ROPE_DYNAMIC && r->max_pos <= 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: dynamic rope needs max_position_embeddings", file);
    return ACCEL_OK;
}

/* torch's float32 pow, correctly rounded. */
static float pow_f(float base, float e) { return (float)pow((double)base, (double)e); }

/* 1 / base^(2i / dim) in float32, as `1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))`. */
static void base_inv_freq(float base, int64_t dim, float *out) {
    for (int64_t i = 0; i < dim / 2; i++) out[i] = 1.0f / pow_f(base, (float)(2 * i) / (float)dim);
}

/* HF yarn find_correction_dim (python floats). */
static double yarn_dim(double rotations, int64_t dim, double base, int64_t max_pos) {
    return ((double)dim * log((double)max_pos / (rotations * 2 * M_PI))) / (2 * log(base));
}

static double yarn_mscale(double scale, double mscale) { return scale <= 1 ? 1.0 : 0.1 * mscale * log(scale) + 1.0; }

void dlm_rope_inv_freq(const dlm_rope *r, int64_t seq_len, float *inv, float *attention_scaling) {
    const int64_t half = r->dim / 2;
    *attention_scaling = 1.0f;
    switch (r->type) {
    case DLM_ROPE_DEFAULT: base_inv_freq((float)r->theta, r->dim, inv); return;
    case DLM_ROPE_LINEAR:
        base_inv_freq((float)r->theta, r->dim, inv);
        for (int64_t i = 0; i < half; i++) inv[i] /= (float)r->factor;
        return;
    case DLM_ROPE_DYNAMIC: {
        if (seq_len <= r->max_pos) { /* seq_len = max(seq_len, max_pos): the base is unchanged */
            base_inv_freq((float)r->theta, r->dim, inv);
            return;
        }
        /* float32 tensor math: base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2)) */
        float t = (float)r->factor * (float)seq_len;
        t = t / (float)r->max_pos;
        t = t - (float)(r->factor - 1.0);
        t = pow_f(t, (float)((double)r->dim / (double)(r->dim - 2)));
        base_inv_freq((float)r->theta * t, r->dim, inv);
        return;
    }
    case DLM_ROPE_LLAMA3: {
        base_inv_freq((float)r->theta, r->dim, inv);
        const float factor = (float)r->factor, low = (float)r->low_freq_factor;
        const double old = (double)r->original_max_pos;
        const float low_wavelen = (float)(old / r->low_freq_factor), high_wavelen = (float)(old / r->high_freq_factor);
        const float span = (float)(r->high_freq_factor - r->low_freq_factor);
        for (int64_t i = 0; i < half; i++) {
            const float wavelen = (1.0f / inv[i]) * (float)(2 * M_PI); /* tensor.__rtruediv__: reciprocal * scalar */
            float f = wavelen > low_wavelen ? inv[i] / factor : inv[i];
            const float smooth = ((1.0f / wavelen) * (float)old - low) / span;
            const float smoothed = (1.0f - smooth) * f / factor + smooth * f;
            const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
            inv[i] = medium ? smoothed : f;
        }
        return;
    }
    case DLM_ROPE_YARN: {
        const double base = r->theta, factor = r->factor;
        double af = r->attention_factor;
        if (af == 0)
            af = (r->mscale != 0 && r->mscale_all_dim != 0)
                     ? yarn_mscale(factor, r->mscale) / yarn_mscale(factor, r->mscale_all_dim)
                     : yarn_mscale(factor, 1.0);
        const double beta_fast = r->beta_fast != 0 ? r->beta_fast : 32, beta_slow = r->beta_slow != 0 ? r->beta_slow : 1;
        double lo = yarn_dim(beta_fast, r->dim, base, r->original_max_pos);
        double hi = yarn_dim(beta_slow, r->dim, base, r->original_max_pos);
        if (r->truncate) {
            lo = floor(lo);
            hi = ceil(hi);
        }
        lo = lo > 0 ? lo : 0;
        hi = hi < (double)(r->dim - 1) ? hi : (double)(r->dim - 1);
        if (lo == hi) hi += 0.001; /* HF: prevent singularity */
        for (int64_t i = 0; i < half; i++) {
            const float pos_freq = pow_f((float)base, (float)(2 * i) / (float)r->dim);
            const float extra = 1.0f / pos_freq, inter = 1.0f / ((float)factor * pos_freq);
            float ramp = ((float)i - (float)lo) / (float)(hi - lo);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            const float ext_factor = 1.0f - ramp;
            inv[i] = inter * (1.0f - ext_factor) + extra * ext_factor;
        }
        *attention_scaling = (float)af;
        return;
    }
    }
}

/* ---- hyper-parameters and weights ------------------------------------------------------------------------------ */

accel_status dlm_hparams_read(accel_model *m, bool tie_default, int64_t max_pos_default, dlm_hparams *hp) {
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    const char *dir = accel_hf_dir_path(m->dir);
    memset(hp, 0, sizeof *hp);
    hp->names = &dlm_hf_llama_names;
    hp->hidden = m->hp.hidden_size;
    hp->n_layers = m->hp.num_hidden_layers;
    hp->n_heads = m->hp.num_attention_heads;
    hp->n_kv_heads = m->hp.num_key_value_heads;
    hp->head_dim = m->hp.head_dim;
    accel_status st;
    if ((st = accel_hf_json_int(cfg, "intermediate_size", &hp->ff)) != ACCEL_OK ||
        (st = accel_hf_json_int(cfg, "vocab_size", &hp->vocab)) != ACCEL_OK ||
        (st = accel_hf_json_int_or(cfg, "max_position_embeddings", max_pos_default, &hp->max_pos)) != ACCEL_OK ||
        (st = accel_hf_json_float_or(cfg, "rms_norm_eps", 1e-6, &hp->eps)) != ACCEL_OK ||
        (st = accel_hf_json_string_or(cfg, "hidden_act", "silu", &hp->hidden_act)) != ACCEL_OK ||
        (st = accel_hf_json_bool_or(cfg, "tie_word_embeddings", tie_default, &hp->tie_embeddings)) != ACCEL_OK)
        return st;
    if ((st = model_require_positive(m, hp->ff, "intermediate_size")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->vocab, "vocab_size")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->max_pos, "max_position_embeddings")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->head_dim, "head_dim")) != ACCEL_OK ||
        (st = model_require_positive(m, hp->n_kv_heads, "num_key_value_heads")) != ACCEL_OK)
        return st;
    if (hp->n_layers > DLM_MAX_LAYERS || hp->n_heads > 4096 || hp->head_dim > 4096 || hp->vocab > ((int64_t)1 << 31) ||
        hp->hidden > ((int64_t)1 << 20) || hp->ff > ((int64_t)1 << 22) || hp->n_heads % hp->n_kv_heads != 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: implausible decoder sizes", dir);
    if (!(hp->eps >= 0 && hp->eps < 1))
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: rms_norm_eps %g is invalid", dir, hp->eps);
    return dlm_rope_read(cfg, hp->head_dim, hp->max_pos, &hp->rope);
}

void dlm_free_data(accel_model *m) {
    dlm_data *d = m->family_data;
    if (d) free(d->layers);
    free(d);
    m->family_data = NULL;
}

/* Declares `<fmt % layer><suffix>` with shape [d0] (d1 == 0) or [d0, d1]. */
static int wadd(accel_model *m, unsigned flags, int64_t d0, int64_t d1, const char *fmt, int layer, const char *suffix) {
    char name[256], full[300];
    snprintf(name, sizeof name, fmt, layer);
    snprintf(full, sizeof full, "%s%s", name, suffix);
    const int64_t shape[2] = {d0, d1};
    return model_weight_add(m, flags, d1 ? 2 : 1, shape, "%s", full);
}

/* Fuses parts (all declared, one dtype) into one weight named `<fmt % layer><suffix>`. */
static int fuse(accel_model *m, const int *parts, int n, const char *fmt, int layer, const char *suffix) {
    for (int i = 1; i < n; i++)
        if (m->weights[parts[i]].dtype != m->weights[parts[0]].dtype) {
            accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: '%s' and '%s' are stored in different dtypes",
                            accel_hf_dir_path(m->dir), m->weights[parts[0]].name, m->weights[parts[i]].name);
            return MW_ERROR;
        }
    char name[256], full[300];
    snprintf(name, sizeof name, fmt, layer);
    snprintf(full, sizeof full, "%s%s", name, suffix);
    return model_weight_concat(m, parts, n, full);
}

#define TRY(expr)                                                                                                    \
    do {                                                                                                             \
        if ((expr) < 0) return model_weight_status();                                                                \
    } while (0)

static accel_status load_layer(accel_model *m, dlm_data *d, int l) {
    const dlm_hparams *hp = &d->hp;
    const dlm_names *nm = hp->names;
    dlm_layer *L = &d->layers[l];
    const int64_t W = hp->hidden, Q = hp->n_heads * hp->head_dim, KV = hp->n_kv_heads * hp->head_dim, F = hp->ff;
    int p[3];
    L->qkv_b = L->o_b = L->gate_up_b = L->down_b = -1;
    TRY(L->ln_attn = wadd(m, MW_F32, W, 0, nm->ln_attn, l, ""));
    TRY(p[0] = wadd(m, 0, Q, W, nm->q, l, ".weight"));
    TRY(p[1] = wadd(m, 0, KV, W, nm->k, l, ".weight"));
    TRY(p[2] = wadd(m, 0, KV, W, nm->v, l, ".weight"));
    TRY(L->qkv = fuse(m, p, 3, nm->q, l, ".qkv.weight"));
    if (hp->qkv_bias) {
        TRY(p[0] = wadd(m, MW_F32, Q, 0, nm->q, l, ".bias"));
        TRY(p[1] = wadd(m, MW_F32, KV, 0, nm->k, l, ".bias"));
        TRY(p[2] = wadd(m, MW_F32, KV, 0, nm->v, l, ".bias"));
        TRY(L->qkv_b = fuse(m, p, 3, nm->q, l, ".qkv.bias"));
    }
    TRY(L->o = wadd(m, 0, W, Q, nm->o, l, ".weight"));
    if (hp->o_bias) TRY(L->o_b = wadd(m, MW_F32, W, 0, nm->o, l, ".bias"));
    TRY(L->ln_mlp = wadd(m, MW_F32, W, 0, nm->ln_mlp, l, ""));
    TRY(p[0] = wadd(m, 0, F, W, nm->gate, l, ".weight"));
    TRY(p[1] = wadd(m, 0, F, W, nm->up, l, ".weight"));
    TRY(L->gate_up = fuse(m, p, 2, nm->gate, l, ".gate_up.weight"));
    TRY(L->down = wadd(m, 0, W, F, nm->down, l, ".weight"));
    if (hp->mlp_bias) {
        TRY(p[0] = wadd(m, MW_F32, F, 0, nm->gate, l, ".bias"));
        TRY(p[1] = wadd(m, MW_F32, F, 0, nm->up, l, ".bias"));
        TRY(L->gate_up_b = fuse(m, p, 2, nm->gate, l, ".gate_up.bias"));
        TRY(L->down_b = wadd(m, MW_F32, W, 0, nm->down, l, ".bias"));
    }
    return ACCEL_OK;
}

/* The sliding window of each layer: config "layer_types" ("sliding_attention" / "full_attention") when present,
 * else every layer from window_from_layer on. */
static accel_status layer_windows(accel_model *m, dlm_data *d) {
    const dlm_hparams *hp = &d->hp;
    const accel_hf_json *cfg = accel_hf_dir_config(m->dir);
    for (int64_t l = 0; l < hp->n_layers; l++)
        d->layers[l].window = hp->sliding_window > 0 && l >= hp->window_from_layer ? hp->sliding_window : 0;
    if (hp->sliding_window <= 0 || !accel_hf_json_has(cfg, "layer_types")) return ACCEL_OK;
    for (int64_t l = 0; l < hp->n_layers; l++) {
        char key[64];
        const char *type = NULL;
        snprintf(key, sizeof key, "layer_types[%lld]", (long long)l);
        accel_status st = accel_hf_json_string(cfg, key, &type);
        if (st != ACCEL_OK) return st;
        if (strcmp(type, "sliding_attention") == 0) d->layers[l].window = hp->sliding_window;
        else if (strcmp(type, "full_attention") == 0) d->layers[l].window = 0;
        else
            return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s/config.json: layer type '%s' is not implemented",
                                   accel_hf_dir_path(m->dir), type);
    }
    return ACCEL_OK;
}

accel_status dlm_load(accel_model *m, const dlm_hparams *hp) {
    dlm_data *d = calloc(1, sizeof *d);
    if (!d) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    m->family_data = d;
    d->hp = *hp;
    if (!blk_act_parse(hp->hidden_act, &d->act))
        return accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s/config.json: hidden_act '%s' is not implemented",
                               accel_hf_dir_path(m->dir), hp->hidden_act);
    if (hp->sliding_window < 0)
        return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: sliding_window %lld is negative",
                               accel_hf_dir_path(m->dir), (long long)hp->sliding_window);
    d->layers = calloc((size_t)hp->n_layers, sizeof *d->layers);
    if (!d->layers) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    accel_status st = layer_windows(m, d);
    if (st != ACCEL_OK) return st;
    const int64_t W = hp->hidden;
    TRY(d->embed = wadd(m, 0, hp->vocab, W, hp->names->embed, 0, ""));
    for (int l = 0; l < hp->n_layers; l++)
        if ((st = load_layer(m, d, l)) != ACCEL_OK) return st;
    TRY(d->norm = wadd(m, MW_F32, W, 0, hp->names->norm, 0, ""));
    /* transformers 5.24 ties lm_head to the embeddings when tie_word_embeddings; a stored lm_head.weight is what
     * an untied checkpoint has (and what a tied one repeats) */
    d->lm_head = wadd(m, MW_OPTIONAL, hp->vocab, W, hp->names->lm_head, 0, "");
    if (d->lm_head == MW_ERROR) return model_weight_status();
    if (d->lm_head == MW_ABSENT) {
        if (!hp->tie_embeddings)
            return accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                   "%s: checkpoint has no tensor '%s' and config.json does not tie the embeddings",
                                   accel_hf_dir_path(m->dir), hp->names->lm_head);
        d->lm_head = d->embed;
    }
    /* causal LM token defaults: HF generate pads with EOS when no pad id is set */
    if (m->gen.pad_token_id < 0 && m->gen.n_eos > 0) m->gen.pad_token_id = m->gen.eos_token_ids[0];
    return ACCEL_OK;
}

int64_t dlm_vocab_size(const accel_model *m) { return ((const dlm_data *)m->family_data)->hp.vocab; }
int64_t dlm_max_tokens(const accel_model *m) { return ((const dlm_data *)m->family_data)->hp.max_pos; }
int64_t dlm_hidden_size(const accel_model *m) { return ((const dlm_data *)m->family_data)->hp.hidden; }

/* ---- session ----------------------------------------------------------------------------------------------------- */

static void step_free(dlm_state *st) {
    accel_graph_free(st->step);
    st->step = NULL;
    free(st->step_patch);
    st->step_patch = NULL;
    st->step_placed = false;
}

accel_status dlm_session_init(accel_session *s) {
    const dlm_data *d = s->model->family_data;
    dlm_state *st = calloc(1, sizeof *st);
    if (!st) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    s->family_state = st;
    st->inv_freq = malloc(sizeof(float) * (size_t)(d->hp.rope.dim / 2));
    if (!st->inv_freq) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    dlm_rope_inv_freq(&d->hp.rope, d->hp.rope.max_pos, st->inv_freq, &st->rope_scale);
    st->rope_cached = d->hp.rope.max_pos;
    return ACCEL_OK;
}

void dlm_session_free(accel_session *s) {
    dlm_state *st = s->family_state;
    if (!st) return;
    step_free(st);
    free(st->cache);
    free(st->kmask);
    free(st->inv_freq);
    free(st->pos_tmp);
    free(st);
    s->family_state = NULL;
}

accel_generate_stats *dlm_lm_stats(accel_session *s) { return &((dlm_state *)s->family_state)->stats; }

void dlm_session_timing(accel_session *s, dlm_timing *out, bool reset) {
    dlm_state *st = s && s->model->family->lm_forward == dlm_lm_forward ? s->family_state : NULL;
    if (out) *out = st ? st->timing : (dlm_timing){0};
    if (st && reset) st->timing = (dlm_timing){0};
}

size_t dlm_session_cache_bytes(const accel_session *s) {
    const dlm_state *st = s && s->model->family->lm_forward == dlm_lm_forward ? s->family_state : NULL;
    return st ? st->cache_cap * sizeof(float) : 0;
}

/* The product of n sizes, or SIZE_MAX when it does not fit in a float count. */
static size_t count_of(int n, const int64_t *dims) {
    size_t c = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0 || (dims[i] && c > SIZE_MAX / sizeof(float) / (size_t)dims[i])) return SIZE_MAX;
        c *= (size_t)dims[i];
    }
    return c;
}

/* Grows *p to at least n elements of `size` bytes (contents not kept). */
static bool reserve(void **p, size_t *cap, size_t n, size_t size) {
    if (n <= *cap) return true;
    if (n > SIZE_MAX / size) return false;
    void *q = malloc(n * size);
    if (!q) return false;
    free(*p);
    *p = q;
    *cap = n;
    return true;
}

accel_status dlm_lm_start(accel_session *s, int n_seqs, int64_t n_ctx) {
    const dlm_data *d = s->model->family_data;
    dlm_state *st = s->family_state;
    if (n_seqs < 1 || n_seqs > (1 << 16))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_start: %d sequences (need 1 to 65536)", n_seqs);
    if (n_ctx < 1 || n_ctx > ((int64_t)1 << 24))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_start: context of %lld tokens is out of range",
                               (long long)n_ctx);
    const dlm_hparams *hp = &d->hp;
    const size_t n = count_of(6, (const int64_t[]){hp->n_layers, 2, n_seqs, hp->n_kv_heads, n_ctx, hp->head_dim});
    const float *old = st->cache;
    if (!reserve((void **)&st->cache, &st->cache_cap, n, sizeof(float)))
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory for a KV cache of %zu floats (%d x %lld rows)",
                               n, n_seqs, (long long)n_ctx);
    if (!reserve((void **)&st->kmask, &st->kmask_cap, (size_t)n_seqs * (size_t)n_ctx, sizeof(float)))
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    if (st->cache != old || st->step_B != n_seqs || st->step_ctx != n_ctx) step_free(st);
    st->n_seqs = n_seqs;
    st->n_ctx = n_ctx;
    st->filled = 0;
    st->masked = false;
    if (hp->rope.type == DLM_ROPE_DYNAMIC && st->rope_cached != hp->rope.max_pos) { /* fresh, as a new HF model */
        dlm_rope_inv_freq(&hp->rope, hp->rope.max_pos, st->inv_freq, &st->rope_scale);
        st->rope_cached = hp->rope.max_pos;
    }
    return ACCEL_OK;
}

/* ---- graphs ------------------------------------------------------------------------------------------------------- */

static accel_tensor *W(accel_graph *g, const accel_model *m, int i) { return i < 0 ? NULL : model_weight(g, m, i); }

/* An external f32 leaf over session memory. */
static accel_tensor *host_leaf(accel_graph *g, float *data, int ndim, const int64_t *shape, const char *name) {
    accel_tensor *t = accel_tensor_new(g, ACCEL_F32, ndim, shape);
    if (!t) return NULL;
    accel_tensor_set_name(t, name);
    if (accel_tensor_set_external(t, data, (size_t)count_of(ndim, shape) * sizeof(float)) != ACCEL_OK) return NULL;
    return t;
}

/* Columns [col, col + H * D) of x[B, T, width] as [1, B * T, H, D] (one RoPE position per row), no copy. */
static accel_tensor *rows_heads(accel_graph *g, accel_tensor *x, int64_t col, int64_t H, int64_t D) {
    if (!x) return NULL;
    const int64_t B = accel_tensor_dim(x, 0), T = accel_tensor_dim(x, 1), row = accel_tensor_stride(x, 1);
    const int64_t es = (int64_t)accel_dtype_block_bytes(accel_tensor_dtype(x));
    const int64_t shape[4] = {1, B * T, H, D}, strides[4] = {B * T * row, row, D * es, es};
    return accel_view(g, x, 4, shape, strides, (size_t)(col * es));
}

/* [1, B * T, H, D] (contiguous) -> [B, H, T, D] (a view). */
static accel_tensor *to_heads(accel_graph *g, accel_tensor *x, int64_t B, int64_t T) {
    if (!x) return NULL;
    const int64_t H = accel_tensor_dim(x, 2), D = accel_tensor_dim(x, 3);
    accel_tensor *t = accel_reshape(g, x, 4, (const int64_t[]){B, T, H, D});
    return accel_permute(g, t, (const int[]){0, 2, 1, 3});
}

/* What one forward graph exposes: inputs, the logits, and (decode) the nodes a step patches. */
typedef struct fwd_graph {
    accel_graph *g;
    accel_tensor *ids, *pos, *logits, *mask_view;
    accel_tensor **patch; /* per layer: K view, V view, K write, V write (may be NULL) */
} fwd_graph;

/* Builds the forward graph of B sequences x T new tokens at cache rows [pos0, pos0 + T). */
static accel_status build_forward(accel_session *s, int64_t B, int64_t T, int64_t pos0, bool masked, bool all_logits,
                                  fwd_graph *fg) {
    const accel_model *m = s->model;
    const dlm_data *d = m->family_data;
    const dlm_hparams *hp = &d->hp;
    dlm_state *st = s->family_state;
    const int64_t H = hp->n_heads, Hkv = hp->n_kv_heads, D = hp->head_dim, F = hp->ff, ctx = st->n_ctx;
    const int64_t Lk = pos0 + T;
    accel_status status = model_graph_new((size_t)(40 * hp->n_layers + 64), &fg->g);
    if (status != ACCEL_OK) return status;
    accel_graph *g = fg->g;
    fg->ids = model_input(g, ACCEL_I32, 1, (const int64_t[]){B * T}, "input_ids");
    fg->pos = model_input(g, ACCEL_I32, 1, (const int64_t[]){B * T}, "position_ids");
    accel_tensor *inv_freq = host_leaf(g, st->inv_freq, 1, (const int64_t[]){hp->rope.dim / 2}, "inv_freq");
    fg->mask_view = NULL;
    accel_tensor *mask = NULL;
    if (masked) {
        accel_tensor *km = host_leaf(g, st->kmask, 4, (const int64_t[]){B, 1, 1, ctx}, "key_mask");
        mask = fg->mask_view = accel_slice(g, km, 3, 0, Lk, 1);
    }
    const accel_rope_params rp = {.mode = ACCEL_ROPE_HALF, .n_rot = (int)hp->rope.dim, .theta = (float)hp->rope.theta,
                                  .freq_scale = 1.0f, .attn_factor = st->rope_scale};
    const int64_t cache_shape[4] = {B, Hkv, ctx, D};
    const size_t cache_half = count_of(4, cache_shape);

    accel_tensor *x = accel_get_rows(g, W(g, m, d->embed), fg->ids);
    if (m->weights[d->embed].dtype != ACCEL_F32) x = accel_cast(g, x, ACCEL_F32);
    x = accel_reshape(g, x, 3, (const int64_t[]){B, T, hp->hidden});
    for (int l = 0; l < hp->n_layers; l++) {
        const dlm_layer *L = &d->layers[l];
        /* attention: fused q/k/v, RoPE on q and k, K/V into the cache, attention over the filled rows */
        accel_tensor *h = accel_rms_norm(g, x, W(g, m, L->ln_attn), (float)hp->eps);
        accel_tensor *qkv = accel_linear(g, h, W(g, m, L->qkv), W(g, m, L->qkv_b));
        accel_tensor *q = accel_rope(g, rows_heads(g, qkv, 0, H, D), fg->pos, inv_freq, &rp);
        accel_tensor *k = accel_rope(g, rows_heads(g, qkv, H * D, Hkv, D), fg->pos, inv_freq, &rp);
        accel_tensor *v = blk_heads(g, qkv, (H + Hkv) * D, Hkv, D);
        float *kc = st->cache + (size_t)(2 * l) * cache_half;
        accel_tensor *kw = accel_write(g, host_leaf(g, kc, 4, cache_shape, "k_cache"), to_heads(g, k, B, T), 2, pos0);
        accel_tensor *vw = accel_write(g, host_leaf(g, kc + cache_half, 4, cache_shape, "v_cache"), v, 2, pos0);
        accel_tensor *kv = accel_slice(g, kw, 2, 0, Lk, 1), *vv = accel_slice(g, vw, 2, 0, Lk, 1);
        if (fg->patch) {
            fg->patch[4 * l + 0] = kv;
            fg->patch[4 * l + 1] = vv;
            fg->patch[4 * l + 2] = kw;
            fg->patch[4 * l + 3] = vw;
        }
        const accel_attention_params ap = {.scale = 0.0f, .causal = true, .sliding_window = (int)L->window};
        accel_tensor *a = accel_attention(g, to_heads(g, q, B, T), kv, vv, mask, &ap);
        a = T == 1 ? accel_reshape(g, a, 3, (const int64_t[]){B, 1, H * D}) : blk_merge_heads(g, a);
        x = accel_add(g, x, accel_linear(g, a, W(g, m, L->o), W(g, m, L->o_b)));
        /* SwiGLU MLP on the fused gate/up projection */
        h = accel_rms_norm(g, x, W(g, m, L->ln_mlp), (float)hp->eps);
        accel_tensor *gu = accel_linear(g, h, W(g, m, L->gate_up), W(g, m, L->gate_up_b));
        h = accel_mul(g, blk_act_apply(g, accel_slice(g, gu, 2, 0, F, 1), d->act), accel_slice(g, gu, 2, F, 2 * F, 1));
        x = accel_add(g, x, accel_linear(g, h, W(g, m, L->down), W(g, m, L->down_b)));
    }
    if (!all_logits && T > 1) x = accel_slice(g, x, 1, T - 1, T, 1);
    x = accel_rms_norm(g, x, W(g, m, d->norm), (float)hp->eps);
    fg->logits = accel_linear(g, x, W(g, m, d->lm_head), NULL);
    accel_graph_add_output(g, fg->logits);
    return accel_graph_status(g);
}

/* Sets the key mask rows [pos, pos + T) and the masked flag. */
static void update_mask(dlm_state *st, const accel_lm_step *step) {
    const int64_t B = st->n_seqs, T = step->n_tokens, ctx = st->n_ctx;
    if (step->pos < st->filled) { /* rewound: recount the rows still kept */
        st->masked = false;
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < step->pos; j++) st->masked = st->masked || st->kmask[b * ctx + j] != 0.0f;
    }
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            const bool pad = step->mask && step->mask[b * T + t] == 0;
            st->kmask[b * ctx + step->pos + t] = pad ? -FLT_MAX : 0.0f;
            st->masked = st->masked || pad;
        }
}

/* HF dynamic_frequency_update for a forward whose largest position is max_pos_id. */
static void update_rope(const dlm_data *d, dlm_state *st, int64_t max_pos_id) {
    const dlm_rope *r = &d->hp.rope;
    if (r->type != DLM_ROPE_DYNAMIC) return;
    const int64_t seq_len = max_pos_id + 1, original = r->max_pos;
    if (seq_len > st->rope_cached) { /* growth */
        dlm_rope_inv_freq(r, seq_len, st->inv_freq, &st->rope_scale);
        st->rope_cached = seq_len;
    }
    if (seq_len < original && st->rope_cached > original) { /* reset */
        dlm_rope_inv_freq(r, original, st->inv_freq, &st->rope_scale);
        st->rope_cached = original;
    }
}

/* Patches the step graph for a step at cache row pos (see the top comment). */
static void patch_step(const dlm_data *d, dlm_state *st, int64_t pos) {
    for (int l = 0; l < d->hp.n_layers; l++) {
        accel_tensor **p = st->step_patch + 4 * l;
        p[0]->shape[2] = pos + 1;
        p[1]->shape[2] = pos + 1;
        accel_param_set_i64(p[2], 1, pos);
        accel_param_set_i64(p[3], 1, pos);
    }
    if (st->step_mask) st->step_mask->shape[3] = pos + 1;
}

static accel_status decode_step(accel_session *s, const accel_lm_step *step, const int32_t *positions, float *logits) {
    const dlm_data *d = s->model->family_data;
    dlm_state *st = s->family_state;
    const int64_t B = st->n_seqs;
    accel_status rc = ACCEL_OK;
    const double t0 = now_s();
    if (st->step && (st->step_masked != st->masked || st->step_cache != st->cache)) step_free(st);
    if (!st->step) {
        st->step_patch = calloc((size_t)(4 * d->hp.n_layers), sizeof *st->step_patch);
        if (!st->step_patch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        fwd_graph fg = {.patch = st->step_patch};
        rc = build_forward(s, B, 1, step->pos, st->masked, false, &fg);
        st->step = fg.g;
        if (rc != ACCEL_OK) {
            step_free(st);
            return rc;
        }
        st->step_ids = fg.ids;
        st->step_pos = fg.pos;
        st->step_logits = fg.logits;
        st->step_mask = fg.mask_view;
        st->step_B = B;
        st->step_ctx = st->n_ctx;
        st->step_masked = st->masked;
        st->step_cache = st->cache;
        st->timing.graph_builds++;
    }
    patch_step(d, st, step->pos);
    const double t1 = now_s();
    if (!st->step_placed || st->step_replace) {
        if ((rc = session_alloc(s, st->step)) != ACCEL_OK) {
            step_free(st);
            return rc;
        }
        accel_sched_memory mem;
        st->step_replace = accel_sched_get_memory(s->sched, &mem) == ACCEL_OK && mem.n_copies > 0;
        st->step_placed = true;
        st->timing.graph_allocs++;
    }
    const double t2 = now_s();
    if ((rc = accel_tensor_set(st->step_ids, step->tokens, sizeof(int32_t) * (size_t)B)) == ACCEL_OK &&
        (rc = accel_tensor_set(st->step_pos, positions, sizeof(int32_t) * (size_t)B)) == ACCEL_OK &&
        (rc = session_compute(s, st->step)) == ACCEL_OK)
        rc = accel_tensor_get(st->step_logits, logits, sizeof(float) * (size_t)B * (size_t)d->hp.vocab);
    const double t3 = now_s();
    st->timing.build_s += t1 - t0;
    st->timing.alloc_s += t2 - t1;
    st->timing.compute_s += t3 - t2;
    st->timing.steps++;
    st->stats.step_build_s += t1 - t0; /* the generate call's record (generate_lm.c resets it per call) */
    st->stats.step_alloc_s += t2 - t1;
    st->stats.step_compute_s += t3 - t2;
    return rc;
}

static accel_status prefill(accel_session *s, const accel_lm_step *step, const int32_t *positions, float *logits) {
    const dlm_data *d = s->model->family_data;
    dlm_state *st = s->family_state;
    const int64_t B = st->n_seqs, T = step->n_tokens;
    const double t0 = now_s();
    fwd_graph fg = {0};
    accel_status rc = build_forward(s, B, T, step->pos, st->masked, step->all_logits, &fg);
    st->step_placed = false; /* the scheduler's placement is this graph's from here on */
    if (rc == ACCEL_OK) rc = session_alloc(s, fg.g);
    if (rc == ACCEL_OK) rc = accel_tensor_set(fg.ids, step->tokens, sizeof(int32_t) * (size_t)(B * T));
    if (rc == ACCEL_OK) rc = accel_tensor_set(fg.pos, positions, sizeof(int32_t) * (size_t)(B * T));
    if (rc == ACCEL_OK) rc = session_compute(s, fg.g);
    const size_t rows = (size_t)B * (size_t)(step->all_logits ? T : 1);
    if (rc == ACCEL_OK) rc = accel_tensor_get(fg.logits, logits, sizeof(float) * rows * (size_t)d->hp.vocab);
    accel_graph_free(fg.g);
    st->timing.prefill_s += now_s() - t0;
    st->timing.prefills++;
    return rc;
}

accel_status dlm_lm_forward(accel_session *s, const accel_lm_step *step, float *logits) {
    if (!s || !step || !step->tokens || !logits)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_forward: NULL argument");
    const dlm_data *d = s->model->family_data;
    dlm_state *st = s->family_state;
    if (st->n_seqs == 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_forward before lm_start");
    const int64_t B = st->n_seqs, T = step->n_tokens;
    if (T < 1 || step->pos < 0 || step->pos > st->filled || T > st->n_ctx - step->pos)
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "lm_forward: %lld tokens at cache row %lld do not fit (filled %lld, context %lld)",
                               (long long)T, (long long)step->pos, (long long)st->filled, (long long)st->n_ctx);
    int64_t max_pos_id = step->pos + T - 1;
    for (int64_t i = 0; i < B * T; i++) {
        if (step->tokens[i] < 0 || step->tokens[i] >= d->hp.vocab)
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_forward: token %d is outside the vocabulary (%lld)",
                                   (int)step->tokens[i], (long long)d->hp.vocab);
        if (step->positions && (step->positions[i] < 0 || step->positions[i] >= (1 << 30)))
            return accel_set_error(ACCEL_ERR_INVALID_ARG, "lm_forward: position %d out of range",
                                   (int)step->positions[i]);
        if (step->positions && step->positions[i] > max_pos_id) max_pos_id = step->positions[i];
    }
    const int32_t *positions = step->positions;
    if (!positions) {
        if (!reserve((void **)&st->pos_tmp, &st->pos_cap, (size_t)(B * T), sizeof(int32_t)))
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
        for (int64_t b = 0; b < B; b++)
            for (int64_t t = 0; t < T; t++) st->pos_tmp[b * T + t] = (int32_t)(step->pos + t);
        positions = st->pos_tmp;
    }
    update_mask(st, step);
    update_rope(d, st, max_pos_id);
    st->filled = step->pos; /* rows past pos are forgotten, also when this call fails */
    accel_status rc = T == 1 && !step->all_logits ? decode_step(s, step, positions, logits)
                                                   : prefill(s, step, positions, logits);
    if (rc == ACCEL_OK) st->filled = step->pos + T;
    return rc;
}
