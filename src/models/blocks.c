/* blocks.c — shared graph pieces (see blocks.h). */
#include "models/blocks.h"

#include "core/graph.h"

#include <math.h>
#include <string.h>

bool blk_act_parse(const char *name, blk_act *out) {
    static const struct {
        const char *name;
        blk_act act;
    } k_names[] = {
        {"gelu", BLK_ACT_GELU},           {"gelu_python", BLK_ACT_GELU},     {"gelu_new", BLK_ACT_GELU_TANH},
        {"gelu_pytorch_tanh", BLK_ACT_GELU_TANH}, {"gelu_fast", BLK_ACT_GELU_TANH}, {"quick_gelu", BLK_ACT_QUICK_GELU},
        {"relu", BLK_ACT_RELU},           {"silu", BLK_ACT_SILU},            {"swish", BLK_ACT_SILU},
        {"tanh", BLK_ACT_TANH},           {"sigmoid", BLK_ACT_SIGMOID},
    };
    if (!name) return false;
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
        if (strcmp(name, k_names[i].name) == 0) {
            *out = k_names[i].act;
            return true;
        }
    return false;
}

accel_tensor *blk_act_apply(accel_graph *g, accel_tensor *x, blk_act act) {
    switch (act) {
    case BLK_ACT_GELU: return accel_gelu(g, x);
    case BLK_ACT_GELU_TANH: return accel_gelu_tanh(g, x);
    case BLK_ACT_QUICK_GELU: return accel_quick_gelu(g, x);
    case BLK_ACT_RELU: return accel_relu(g, x);
    case BLK_ACT_SILU: return accel_silu(g, x);
    case BLK_ACT_TANH: return accel_tanh(g, x);
    case BLK_ACT_SIGMOID: return accel_sigmoid(g, x);
    }
    return accel_graph_fail(g, ACCEL_ERR_INTERNAL, "blk_act_apply: unknown activation %d", (int)act);
}

accel_tensor *blk_heads(accel_graph *g, accel_tensor *x, int64_t col, int64_t n_heads, int64_t head_dim) {
    if (!x) return NULL;
    if (accel_tensor_ndim(x) != 3) return accel_graph_fail(g, ACCEL_ERR_INTERNAL, "blk_heads: x must be [B, S, W]");
    const int64_t es = (int64_t)accel_dtype_block_bytes(accel_tensor_dtype(x));
    const int64_t shape[4] = {accel_tensor_dim(x, 0), n_heads, accel_tensor_dim(x, 1), head_dim};
    const int64_t strides[4] = {accel_tensor_stride(x, 0), head_dim * es, accel_tensor_stride(x, 1), es};
    return accel_view(g, x, 4, shape, strides, (size_t)(col * es));
}

accel_tensor *blk_merge_heads(accel_graph *g, accel_tensor *o) {
    if (!o) return NULL;
    if (accel_tensor_ndim(o) != 4) return accel_graph_fail(g, ACCEL_ERR_INTERNAL, "blk_merge_heads: o must be 4-D");
    static const int perm[4] = {0, 2, 1, 3};
    accel_tensor *t = accel_cont(g, accel_permute(g, o, perm));
    const int64_t shape[3] = {accel_tensor_dim(o, 0), accel_tensor_dim(o, 2),
                              accel_tensor_dim(o, 1) * accel_tensor_dim(o, 3)};
    return accel_reshape(g, t, 3, shape);
}

accel_tensor *blk_self_attention_qkv(accel_graph *g, accel_tensor *x, accel_tensor *w_qkv, accel_tensor *b_qkv,
                                     int64_t n_heads, int64_t head_dim, accel_tensor *mask,
                                     const accel_attention_params *params) {
    accel_tensor *qkv = accel_linear(g, x, w_qkv, b_qkv);
    const int64_t width = n_heads * head_dim;
    accel_tensor *q = blk_heads(g, qkv, 0, n_heads, head_dim);
    accel_tensor *k = blk_heads(g, qkv, width, n_heads, head_dim);
    accel_tensor *v = blk_heads(g, qkv, 2 * width, n_heads, head_dim);
    return blk_merge_heads(g, accel_attention(g, q, k, v, mask, params));
}

bool blk_padding_mask(const int32_t *attention_mask, int64_t batch, int64_t seq, float *out) {
    bool any = false;
    for (int64_t i = 0; i < batch * seq; i++) {
        const bool pad = attention_mask && attention_mask[i] == 0;
        out[i] = pad ? -INFINITY : 0.0f;
        any = any || pad;
    }
    return any;
}
