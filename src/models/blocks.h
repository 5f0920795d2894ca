/*
 * blocks.h — graph pieces that several families share: activations by Hugging Face name, splitting a projection
 * into attention heads and merging them back, and self-attention over a fused QKV projection.
 *
 * Layouts: activations are [B, S, W] with contiguous rows. Heads are taken as strided views of the projection
 * output (no copy); the attention kernel reads them in place. Merging heads back to [B, S, H * D] is one copy
 * (permute + cont), the only layout change an attention block makes.
 */
#ifndef ACCEL_MODELS_BLOCKS_H
#define ACCEL_MODELS_BLOCKS_H

#include "accel.h"

/* Activation functions by their Hugging Face ACT2FN name. */
typedef enum blk_act {
    BLK_ACT_GELU = 0,      /* "gelu", "gelu_python": erf form */
    BLK_ACT_GELU_TANH = 1, /* "gelu_new", "gelu_pytorch_tanh", "gelu_fast": tanh approximation */
    BLK_ACT_QUICK_GELU = 2,/* "quick_gelu" */
    BLK_ACT_RELU = 3,      /* "relu" */
    BLK_ACT_SILU = 4,      /* "silu", "swish" */
    BLK_ACT_TANH = 5,      /* "tanh" */
    BLK_ACT_SIGMOID = 6,   /* "sigmoid" */
} blk_act;

/* Parses an HF activation name. Returns false (nothing set) for a name with no match here. */
bool blk_act_parse(const char *name, blk_act *out);
/* act(x), elementwise. */
accel_tensor *blk_act_apply(accel_graph *g, accel_tensor *x, blk_act act);

/* The heads [B, H, S, D] of columns [col, col + H * D) of x[B, S, W] as a strided view (no copy): head h is
 * columns col + h * D ... col + (h + 1) * D - 1. x needs contiguous rows. */
accel_tensor *blk_heads(accel_graph *g, accel_tensor *x, int64_t col, int64_t n_heads, int64_t head_dim);
/* o[B, H, S, D] -> [B, S, H * D], contiguous (one copy). */
accel_tensor *blk_merge_heads(accel_graph *g, accel_tensor *o);

/* Self-attention with a fused projection: qkv = x @ w_qkv^T + b_qkv (w_qkv [3 * H * D, W] = query, key, value
 * rows; b_qkv may be NULL), then scaled-dot-product attention per head with the additive mask (may be NULL,
 * broadcast to [B, H, S, S]) and params (may be NULL: scale 1/sqrt(D), not causal). Returns the merged heads
 * [B, S, H * D], before the output projection. */
accel_tensor *blk_self_attention_qkv(accel_graph *g, accel_tensor *x, accel_tensor *w_qkv, accel_tensor *b_qkv,
                                     int64_t n_heads, int64_t head_dim, accel_tensor *mask,
                                     const accel_attention_params *params);

/* The additive key-padding mask [B, 1, 1, S] for attention from an attention mask (1 = token, 0 = padding):
 * 0 for tokens, -inf for padding. Fills host memory `out` (B * S floats). Returns whether any position is padding
 * (when not, a caller may skip the mask altogether). */
bool blk_padding_mask(const int32_t *attention_mask, int64_t batch, int64_t seq, float *out);

#endif
