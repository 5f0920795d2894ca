/*
 * model.h — what every family file builds on: the loaded model (immutable), the session (per-run state), the
 * family table, the weight table, and running a graph on a session.
 *
 * Loading (model.c): config.json -> family (by model_type / architectures) -> family->load reads its hyper-
 * parameters and declares every tensor it needs with the shape the config implies (model_weight_add). A missing
 * tensor or a wrong shape fails the load with a message naming the tensor, so a graph build never meets a bad
 * checkpoint. Weights stay in the read-only mmap of the safetensors files when their dtype is kept and they are
 * aligned; otherwise they are converted once at load into memory the model owns.
 *
 * Per call, a family builds a graph (accel_graph) whose weight leaves point at that memory (model_weight), then
 * session_run places it with the session's scheduler and computes it.
 */
#ifndef ACCEL_MODELS_MODEL_H
#define ACCEL_MODELS_MODEL_H

#include "accel.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "text/tokenizer.h"

#include <stdarg.h>

typedef struct accel_family accel_family;

/* A batch of token ids, row-major [batch, seq]. type_ids and mask may be NULL (zeros / all ones). */
typedef struct accel_token_batch {
    int64_t batch, seq;
    const int32_t *ids;
    const int32_t *type_ids;
    const int32_t *mask;
} accel_token_batch;

/* Weight flags (model_weight_add). */
enum {
    MW_F32 = 1u << 0,      /* converted to f32 at load (norm weights, biases, small tables); else floats are kept
                              as stored (f32/f16/bf16: matmul operands convert while packing) */
    MW_OPTIONAL = 1u << 1, /* absent is fine: model_weight_add returns -1 without an error */
};

typedef struct model_weight_entry {
    char *name;        /* the name as found in the checkpoint (prefix included) */
    accel_dtype dtype; /* of data */
    int ndim;
    int64_t shape[ACCEL_MAX_DIMS];
    void *data;        /* into the mapping, or owned (owned != NULL) */
    void *owned;
    size_t nbytes;
} model_weight_entry;

struct accel_model {
    accel_hf_dir *dir;
    accel_st *st;
    accel_tokenizer *tok;              /* NULL when the directory has no tokenizer.json */
    accel_hf_hparams hp;               /* read with the family's naming */
    accel_hf_generation gen;           /* generation_config.json on top of HF defaults */
    accel_hf_tokenizer_config tokcfg;
    const accel_family *family;
    void *family_data;                 /* the family's hyper-parameters and weight indices */
    char architecture[96];
    const char *const *name_prefixes;  /* tried after the bare name by model_weight_add, e.g. {"bert.", NULL} */
    model_weight_entry *weights;
    int n_weights, cap_weights;
    accel_device **devices;            /* copy of the load params; NULL = all but "ref" */
    int n_devices;
    int n_threads;
    /* what the embedding task does by default (sentence-transformers modules.json / 1_Pooling / Normalize /
     * sentence_bert_config.json when present; set by the family's load) */
    accel_pooling embed_pooling;       /* ACCEL_POOLING_DEFAULT = not configured: MEAN */
    int embed_normalize;               /* 0 / 1 */
    int64_t embed_max_tokens;          /* 0 = the family's max_tokens */
};

struct accel_session {
    accel_model *model;
    accel_sched *sched;
    int n_threads;
    void *family_state;                /* KV caches, encoder outputs... (family->session_init) */
    char devices_used[96];
};

/* One causal-LM forward call (accel_family.lm_forward): n_tokens new tokens of each of the n_seqs sequences set up
 * by lm_start, written into the KV cache at cache rows [pos, pos + n_tokens). Every sequence advances together (a
 * batch of prompts of different lengths is left-padded; padding is marked in mask and never attended to). */
typedef struct accel_lm_step {
    const int32_t *tokens;    /* [n_seqs * n_tokens], row-major */
    int64_t n_tokens;         /* >= 1; 1 = a decode step (the session reuses one graph for those) */
    int64_t pos;              /* cache row of the first new token: <= the rows filled so far (later rows are
                                 forgotten), pos + n_tokens <= n_ctx */
    const int32_t *positions; /* [n_seqs * n_tokens] RoPE positions; NULL = pos + t for every sequence */
    const int32_t *mask;      /* [n_seqs * n_tokens] 1 = token, 0 = padding (no query attends to it); NULL = all 1 */
    bool all_logits;          /* logits of every new token [n_seqs, n_tokens, vocab]; else only of the last
                                 [n_seqs, vocab] */
} accel_lm_step;

/* The table each family file exports (bert.c: accel_family_bert, ...) and model.c lists. */
struct accel_family {
    const char *name;                  /* "bert" */
    const char *const *model_types;    /* config.json model_type values it reads, NULL-terminated */
    accel_hf_naming naming;            /* how config keys are named (accel_hf_hparams_read) */
    unsigned tasks;                    /* bit (1u << accel_task) per task it serves */
    /* Reads family hyper-parameters (m->hp is already read), declares the weights, sets m->family_data.
     * Errors with a message naming the field or tensor. */
    accel_status (*load)(accel_model *m);
    void (*free_data)(accel_model *m);   /* frees m->family_data; may be NULL */
    int64_t (*embedding_dim)(const accel_model *m);
    int64_t (*max_tokens)(const accel_model *m);
    accel_status (*session_init)(accel_session *s); /* may be NULL */
    void (*session_free)(accel_session *s);        /* may be NULL */

    /* ACCEL_TASK_EMBED: runs the encoder on a token batch. hidden_out (may be NULL) receives the last hidden state
     * [batch, seq, hidden]; pooler_out (may be NULL; ACCEL_ERR_UNSUPPORTED if the model has no pooler) the pooler
     * output [batch, hidden]. */
    accel_status (*encode)(accel_session *s, const accel_token_batch *b, float *hidden_out, float *pooler_out);

    /* ACCEL_TASK_SEQ2SEQ: the steps src/tasks/generate.c drives (greedy and beam search).
     * s2s_encode runs the encoder on b and keeps what the decoder needs (encoder states, cross-attention K/V) in
     * the session (and forgets any earlier decoder state); s2s_start prepares n_seqs decoder sequences, sequence i
     * attending to encoder row enc_row[i], with room for max_len tokens. The rows' sequences are grouped:
     * n_seqs is a multiple of the encoded batch and enc_row[i] == i / (n_seqs / batch) (enc_row may be NULL for
     * exactly that), as greedy (one per row) and beam search (num_beams per row) have them; anything else is
     * ACCEL_ERR_INVALID_ARG. s2s_decode feeds one token per sequence at position pos (all sequences advance
     * together; pos <= the positions filled so far, pos < max_len) and writes logits [n_seqs, vocab];
     * s2s_reorder makes sequence i continue from old sequence src[i] of the same encoder row (beam search). */
    accel_status (*s2s_encode)(accel_session *s, const accel_token_batch *b);
    accel_status (*s2s_start)(accel_session *s, int n_seqs, const int32_t *enc_row, int64_t max_len);
    accel_status (*s2s_decode)(accel_session *s, const int32_t *tokens, int64_t pos, float *logits);
    accel_status (*s2s_reorder)(accel_session *s, const int32_t *src);
    int64_t (*vocab_size)(const accel_model *m);

    /* ACCEL_TASK_TEXT_GENERATION: the steps src/tasks/generate_lm.c drives (causal LMs).
     * lm_start prepares n_seqs sequences with a KV cache of n_ctx rows each, allocated here once (it only grows
     * across calls) and written in place afterwards, and forgets any earlier tokens. lm_forward runs one
     * accel_lm_step and writes its logits (float32): decode steps allocate nothing and reuse one graph per
     * (n_seqs, n_ctx). lm_stats is the session's record of the last generate call (filled by generate_lm.c).
     * Errors: ACCEL_ERR_INVALID_ARG (no lm_start, positions or tokens out of range, n_ctx beyond what the model
     * supports), ACCEL_ERR_OUT_OF_MEMORY, and what the scheduler reports. */
    accel_status (*lm_start)(accel_session *s, int n_seqs, int64_t n_ctx);
    accel_status (*lm_forward)(accel_session *s, const accel_lm_step *step, float *logits);
    accel_generate_stats *(*lm_stats)(accel_session *s);
};

/* ---- weights -------------------------------------------------------------------------------------------------- */

#define MW_ABSENT (-1) /* an MW_OPTIONAL tensor the checkpoint does not have */
#define MW_ERROR (-2)  /* the error is set: ACCEL_ERR_MODEL_FORMAT "checkpoint has no tensor 'x'" or "tensor 'x' has
                          shape [..], the config implies [..]", ACCEL_ERR_OUT_OF_MEMORY, ACCEL_ERR_UNSUPPORTED */
/* Declares tensor `name` (printf format) with the expected shape. Returns its index in m->weights (>= 0),
 * MW_ABSENT or MW_ERROR. */
int model_weight_add(accel_model *m, unsigned flags, int ndim, const int64_t *shape, const char *fmt, ...);
/* A weight made from other weights: parts[0..n) (declared weights of one dtype whose dimensions after the first
 * agree) concatenated along dimension 0 into memory the model owns, e.g. BERT's query/key/value projections fused
 * into one [3 * hidden, hidden] matrix. `name` names it in messages and graphs. Returns its index or MW_ERROR
 * (ACCEL_ERR_INTERNAL for mismatched parts, ACCEL_ERR_OUT_OF_MEMORY). The parts stay declared. */
int model_weight_concat(accel_model *m, const int *parts, int n, const char *name);
/* The status of the calling thread's last MW_ERROR from model_weight_add / model_weight_concat, so a family can
 * return it: `if ((i = model_weight_add(...)) < 0) return model_weight_status();` (MW_ABSENT is not an error:
 * check it first where the weight is optional). */
accel_status model_weight_status(void);
/* Whether the checkpoint holds `name` (after the prefixes). */
bool model_has_tensor(const accel_model *m, const char *fmt, ...);
/* A weight leaf in graph g for weight index i (external, zero copy). NULL on error (recorded in g). */
accel_tensor *model_weight(accel_graph *g, const accel_model *m, int i);

/* ---- config helpers: errors name the file and key ------------------------------------------------------------- */

/* A positive integer that must be set in m->hp (value > 0), else ACCEL_ERR_MODEL_FORMAT "config.json: missing or
 * invalid 'key'". */
accel_status model_require_positive(const accel_model *m, int64_t value, const char *key);

/* ---- running ---------------------------------------------------------------------------------------------------- */

/* A new graph sized for `n_nodes_hint` nodes (0 = default). */
accel_status model_graph_new(size_t n_nodes_hint, accel_graph **out);
/* accel_sched_alloc on the session's scheduler. After it, inputs can be set with accel_tensor_set. */
accel_status session_alloc(accel_session *s, accel_graph *g);
/* accel_sched_compute, then records which devices ran the nodes (accel_session_devices_used). */
accel_status session_compute(accel_session *s, accel_graph *g);

/* An input leaf of the given dtype and shape, marked input (set it after session_alloc). */
accel_tensor *model_input(accel_graph *g, accel_dtype dtype, int ndim, const int64_t *shape, const char *name);

/* Every family, in model.c order (for `accel` listings). */
int accel_family_count(void);
const accel_family *accel_family_get(int i);

#endif
