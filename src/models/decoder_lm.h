/*
 * decoder_lm.h — the decoder-only transformer that LLaMA, Qwen2 and Mistral share (decoder_lm.c), as transformers
 * 5.24 computes it, and the causal-LM session hooks (model.h: lm_start / lm_forward / lm_stats) built on it.
 *
 * Per layer (pre-norm):
 *     h = rms(x);  q, k, v = split(h @ Wqkv^T + bqkv)        q/k/v_proj fused at load into one matrix (and bias)
 *     q, k = rope(q), rope(k)                                  half-split rotation, host-computed inv_freq
 *     x += o_proj(attention(q, K, V))                          GQA, causal, optional sliding window, KV cache
 *     h = rms(x);  g, u = split(h @ Wgu^T)                     gate/up_proj fused at load
 *     x += down_proj(act(g) * u)                               SwiGLU (act = hidden_act, "silu")
 * logits = lm_head(rms(x)), lm_head = embed_tokens when the checkpoint stores no lm_head.weight and the config
 * ties the embeddings (Qwen2-0.5B).
 *
 * A family file (llama.c, qwen2.c, mistral.c) reads what differs (biases, sliding window, its config defaults)
 * into a dlm_hparams and calls dlm_load; everything else is here.
 */
#ifndef ACCEL_MODELS_DECODER_LM_H
#define ACCEL_MODELS_DECODER_LM_H

#include "models/model.h"

/* ---- RoPE ------------------------------------------------------------------------------------------------------ */

typedef enum dlm_rope_type {
    DLM_ROPE_DEFAULT = 0, /* theta^(-2i/dim) */
    DLM_ROPE_LINEAR = 1,  /* inv_freq / factor */
    DLM_ROPE_DYNAMIC = 2, /* NTK: base grows with the sequence length once it passes max_position_embeddings */
    DLM_ROPE_LLAMA3 = 3,  /* Llama 3.1: low frequencies / factor, high kept, medium smoothed */
    DLM_ROPE_YARN = 4,    /* YaRN: ramp between interpolation and extrapolation, cos/sin scaled by mscale */
} dlm_rope_type;

/* RoPE settings of a config, after transformers' standardize_rope_params (see dlm_rope_read). */
typedef struct dlm_rope {
    dlm_rope_type type;
    double theta;                /* rope_theta (default 10000) */
    int64_t dim;                 /* rotated features per head: int(head_dim * partial_rotary_factor), even */
    double factor;               /* linear, dynamic, llama3, yarn */
    int64_t max_pos;             /* max_position_embeddings (dynamic) */
    int64_t original_max_pos;    /* llama3, yarn: original_max_position_embeddings (default max_pos) */
    double low_freq_factor, high_freq_factor; /* llama3 */
    double beta_fast, beta_slow; /* yarn (0 = HF's defaults 32 and 1) */
    double mscale, mscale_all_dim, attention_factor; /* yarn (0 = not given) */
    bool truncate;               /* yarn (default true) */
} dlm_rope;

/* Reads the RoPE settings of config view cfg the way transformers 5.24 does: "rope_parameters" {rope_type,
 * rope_theta, factor, ...} (saved by transformers 5), else the legacy "rope_scaling" {type | rope_type, factor, ...}
 * with a top-level "rope_theta"; partial_rotary_factor from either place. head_dim and max_pos come from the
 * hyper-parameters. Errors: ACCEL_ERR_MODEL_FORMAT (wrong types, a missing required field such as llama3's
 * low_freq_factor, factor <= 0, an odd rotary dimension), ACCEL_ERR_UNSUPPORTED (rope types longrope,
 * proportional and anything unknown), naming the file and key. */
accel_status dlm_rope_read(const accel_hf_json *cfg, int64_t head_dim, int64_t max_pos, dlm_rope *out);

/* inv_freq[dim / 2] and the cos/sin scale ("attention_scaling") for sequences of seq_len positions, as
 * ROPE_INIT_FUNCTIONS computes them in float32 (seq_len matters only to dynamic, where HF passes
 * max(position_ids) + 1 and values below max_pos mean max_pos). */
void dlm_rope_inv_freq(const dlm_rope *r, int64_t seq_len, float *inv_freq, float *attention_scaling);

/* ---- hyper-parameters and loading ---------------------------------------------------------------------------- */

/* Tensor names (printf formats; %d = layer), relative to the model's name prefixes. */
typedef struct dlm_names {
    const char *embed, *norm, *lm_head;
    const char *ln_attn, *q, *k, *v, *o;          /* without ".weight" / ".bias" */
    const char *ln_mlp, *gate, *up, *down;        /* without ".weight" / ".bias" */
} dlm_names;

/* The Hugging Face LlamaForCausalLM layout, shared by Mistral and Qwen2 ("model.layers.%d.self_attn.q_proj"...). */
extern const dlm_names dlm_hf_llama_names;

#define DLM_MAX_LAYERS 4096

typedef struct dlm_hparams {
    int64_t hidden, n_layers, n_heads, n_kv_heads, head_dim, ff, vocab, max_pos;
    double eps;
    const char *hidden_act;
    bool qkv_bias, o_bias, mlp_bias;  /* which projections have a bias */
    bool tie_embeddings;              /* tie_word_embeddings with the family's class default */
    int64_t sliding_window;           /* 0 = none */
    int64_t window_from_layer;        /* layers >= this use the window, unless config "layer_types" says which */
    dlm_rope rope;
    const dlm_names *names;
} dlm_hparams;

/* The settings every decoder family reads the same way, from m->hp and config.json: sizes (intermediate_size and
 * vocab_size required), rms_norm_eps (default 1e-6), max_position_embeddings (default max_pos_default),
 * hidden_act (default "silu"), tie_word_embeddings (default tie_default), RoPE. Biases and the window are left
 * off; the family sets them. Errors: ACCEL_ERR_MODEL_FORMAT naming the key. */
accel_status dlm_hparams_read(accel_model *m, bool tie_default, int64_t max_pos_default, dlm_hparams *hp);

/* Declares every weight (fusing q/k/v and gate/up) and sets m->family_data. */
accel_status dlm_load(accel_model *m, const dlm_hparams *hp);

/* ---- family hooks (model.h) ----------------------------------------------------------------------------------- */

void dlm_free_data(accel_model *m);
int64_t dlm_vocab_size(const accel_model *m);
int64_t dlm_max_tokens(const accel_model *m);
int64_t dlm_hidden_size(const accel_model *m);
accel_status dlm_session_init(accel_session *s);
void dlm_session_free(accel_session *s);
accel_status dlm_lm_start(accel_session *s, int n_seqs, int64_t n_ctx);
accel_status dlm_lm_forward(accel_session *s, const accel_lm_step *step, float *logits);
accel_generate_stats *dlm_lm_stats(accel_session *s);

/* The hooks of a decoder family's accel_family table, after .name / .model_types / .load. */
#define DLM_FAMILY_HOOKS                                                                                             \
    .naming = ACCEL_HF_NAMING_STANDARD, .tasks = 1u << ACCEL_TASK_TEXT_GENERATION, .free_data = dlm_free_data,      \
    .embedding_dim = dlm_hidden_size, .max_tokens = dlm_max_tokens, .session_init = dlm_session_init,               \
    .session_free = dlm_session_free, .vocab_size = dlm_vocab_size, .lm_start = dlm_lm_start,                       \
    .lm_forward = dlm_lm_forward, .lm_stats = dlm_lm_stats

/* Where the lm_forward calls of a session spent their time since it was made (or the last reset): building graphs,
 * placing + allocating them, computing them; for decode steps (one token per sequence) and prefills separately. */
typedef struct dlm_timing {
    double build_s, alloc_s, compute_s;   /* decode steps */
    int64_t steps, graph_builds, graph_allocs;
    double prefill_s;                     /* whole prefill calls (build + alloc + compute) */
    int64_t prefills;
} dlm_timing;

void dlm_session_timing(accel_session *s, dlm_timing *out, bool reset);

/* Bytes of the session's KV cache (0 before lm_start). */
size_t dlm_session_cache_bytes(const accel_session *s);

#endif
