/* Op builders: validate shapes, dtypes and parameters, then add a node. Semantics per op are in core/tensor.h.
 * Every builder returns NULL on error (recorded in the graph's sticky status) and on a NULL input. */
#include "core/error.h"
#include "core/graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CHECK_G(g)                                                                                                   \
    do {                                                                                                             \
        if (!(g) || (g)->status != ACCEL_OK) return NULL;                                                            \
    } while (0)
#define REQUIRE(g, cond, ...)                                                                                        \
    do {                                                                                                             \
        if (!(cond)) return accel_graph_fail((g), ACCEL_ERR_INVALID_ARG, __VA_ARGS__);                              \
    } while (0)

static bool is_float(const accel_tensor *t) {
    return t->dtype == ACCEL_F32 || t->dtype == ACCEL_F16 || t->dtype == ACCEL_BF16;
}
static bool is_plain(const accel_tensor *t) { return accel_dtype_size(t->dtype) != 0; }
static bool is_int_index(const accel_tensor *t) { return t->dtype == ACCEL_I32 || t->dtype == ACCEL_I64; }

static accel_tensor *node_like(accel_graph *g, accel_op op, accel_dtype dtype, const accel_tensor *shape_of,
                               accel_tensor *const *srcs, int n) {
    return accel_graph_new_node(g, op, dtype, shape_of->ndim, shape_of->shape, srcs, n);
}

static int resolve_dim(int dim, int ndim) { return dim < 0 ? dim + ndim : dim; }

/* ---- copies ------------------------------------------------------------------------------------------------- */
accel_tensor *accel_cast(accel_graph *g, accel_tensor *a, accel_dtype dtype) {
    CHECK_G(g);
    REQUIRE(g, a, "accel_cast: NULL input");
    REQUIRE(g, is_plain(a) && (unsigned)dtype < ACCEL_DTYPE_COUNT && accel_dtype_size(dtype),
            "accel_cast: %s -> %s is not supported", accel_dtype_name(a->dtype), accel_dtype_name(dtype));
    return node_like(g, ACCEL_OP_CPY, dtype, a, &a, 1);
}

accel_tensor *accel_cont(accel_graph *g, accel_tensor *a) {
    CHECK_G(g);
    REQUIRE(g, a, "accel_cont: NULL input");
    return accel_cast(g, a, a->dtype);
}

/* ---- matmul --------------------------------------------------------------------------------------------------- */
/* numpy broadcast of the batch dims (all but the last two) of a and b into out[]; returns ndim or -1. */
static int broadcast_batch(const accel_tensor *a, const accel_tensor *b, int64_t *out) {
    int na = a->ndim - 2, nb = b->ndim - 2;
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = na - n + i, ib = nb - n + i;
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1) return -1;
        out[i] = da == 1 ? db : da;
    }
    return n;
}

accel_tensor *accel_matmul(accel_graph *g, accel_tensor *a, accel_tensor *b) {
    CHECK_G(g);
    REQUIRE(g, a && b, "accel_matmul: NULL input");
    REQUIRE(g, is_float(a) && is_float(b), "accel_matmul: operands must be f32/f16/bf16");
    REQUIRE(g, a->ndim >= 2 && b->ndim >= 2, "accel_matmul: operands need >= 2 dims (got %d and %d)", a->ndim, b->ndim);
    int64_t K = a->shape[a->ndim - 1];
    REQUIRE(g, b->shape[b->ndim - 2] == K, "accel_matmul: inner sizes differ (%lld vs %lld)", (long long)K,
            (long long)b->shape[b->ndim - 2]);
    int64_t shape[ACCEL_MAX_DIMS];
    int nbatch = broadcast_batch(a, b, shape);
    REQUIRE(g, nbatch >= 0, "accel_matmul: batch dims do not broadcast");
    shape[nbatch] = a->shape[a->ndim - 2];
    shape[nbatch + 1] = b->shape[b->ndim - 1];
    accel_tensor *srcs[2] = {a, b};
    return accel_graph_new_node(g, ACCEL_OP_MATMUL, a->dtype, nbatch + 2, shape, srcs, 2);
}

accel_tensor *accel_linear(accel_graph *g, accel_tensor *x, accel_tensor *w, accel_tensor *bias) {
    CHECK_G(g);
    REQUIRE(g, x && w, "accel_linear: NULL input");
    REQUIRE(g, w->ndim == 2, "accel_linear: weight must be [out, in]");
    accel_tensor *y = accel_matmul(g, x, accel_transpose(g, w));
    return bias ? accel_add(g, y, bias) : y;
}

/* ---- elementwise -------------------------------------------------------------------------------------------- */
static accel_tensor *binary(accel_graph *g, accel_op op, accel_tensor *a, accel_tensor *b, const char *name) {
    CHECK_G(g);
    REQUIRE(g, a && b, "accel_%s: NULL input", name);
    REQUIRE(g, is_float(a) && is_float(b), "accel_%s: operands must be f32/f16/bf16", name);
    REQUIRE(g, accel_can_broadcast(b, a), "accel_%s: second operand does not broadcast to the first's shape", name);
    accel_tensor *srcs[2] = {a, b};
    return node_like(g, op, a->dtype, a, srcs, 2);
}
accel_tensor *accel_add(accel_graph *g, accel_tensor *a, accel_tensor *b) { return binary(g, ACCEL_OP_ADD, a, b, "add"); }
accel_tensor *accel_sub(accel_graph *g, accel_tensor *a, accel_tensor *b) { return binary(g, ACCEL_OP_SUB, a, b, "sub"); }
accel_tensor *accel_mul(accel_graph *g, accel_tensor *a, accel_tensor *b) { return binary(g, ACCEL_OP_MUL, a, b, "mul"); }
accel_tensor *accel_div(accel_graph *g, accel_tensor *a, accel_tensor *b) { return binary(g, ACCEL_OP_DIV, a, b, "div"); }

accel_tensor *accel_scale(accel_graph *g, accel_tensor *a, float scale, float bias) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a), "accel_scale: input must be a float tensor");
    accel_tensor *t = node_like(g, ACCEL_OP_SCALE, a->dtype, a, &a, 1);
    if (t) {
        accel_param_set_f32(t, 0, scale);
        accel_param_set_f32(t, 1, bias);
    }
    return t;
}

static accel_tensor *unary(accel_graph *g, accel_op op, accel_tensor *a) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a), "accel_%s: input must be a float tensor", accel_op_name(op));
    return node_like(g, op, a->dtype, a, &a, 1);
}
accel_tensor *accel_gelu(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_GELU, a); }
accel_tensor *accel_gelu_tanh(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_GELU_TANH, a); }
accel_tensor *accel_quick_gelu(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_QUICK_GELU, a); }
accel_tensor *accel_silu(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_SILU, a); }
accel_tensor *accel_relu(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_RELU, a); }
accel_tensor *accel_tanh(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_TANH, a); }
accel_tensor *accel_sigmoid(accel_graph *g, accel_tensor *a) { return unary(g, ACCEL_OP_SIGMOID, a); }

/* ---- softmax and norms -------------------------------------------------------------------------------------- */
accel_tensor *accel_softmax(accel_graph *g, accel_tensor *a, accel_tensor *mask, float scale, bool causal) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a) && a->ndim >= 1, "accel_softmax: input must be a float tensor");
    REQUIRE(g, !mask || (is_float(mask) && accel_can_broadcast(mask, a)), "accel_softmax: mask must be float and broadcast to the input");
    REQUIRE(g, !causal || a->ndim >= 2, "accel_softmax: causal needs >= 2 dims");
    accel_tensor *srcs[2] = {a, mask};
    accel_tensor *t = node_like(g, ACCEL_OP_SOFTMAX, a->dtype, a, srcs, 2);
    if (t) {
        accel_param_set_f32(t, 0, scale);
        t->params[1] = causal;
    }
    return t;
}

static bool vec_param_ok(const accel_tensor *p, int64_t n) {
    return !p || (is_float(p) && p->ndim == 1 && p->shape[0] == n);
}

accel_tensor *accel_layer_norm(accel_graph *g, accel_tensor *a, accel_tensor *weight, accel_tensor *bias, float eps) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a) && a->ndim >= 1, "accel_layer_norm: input must be a float tensor");
    int64_t d = a->shape[a->ndim - 1];
    REQUIRE(g, vec_param_ok(weight, d) && vec_param_ok(bias, d), "accel_layer_norm: weight/bias must be float [%lld]",
            (long long)d);
    REQUIRE(g, eps >= 0 && isfinite(eps), "accel_layer_norm: eps must be finite and >= 0");
    accel_tensor *srcs[3] = {a, weight, bias};
    accel_tensor *t = node_like(g, ACCEL_OP_LAYER_NORM, a->dtype, a, srcs, 3);
    if (t) accel_param_set_f32(t, 0, eps);
    return t;
}

accel_tensor *accel_rms_norm(accel_graph *g, accel_tensor *a, accel_tensor *weight, float eps) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a) && a->ndim >= 1, "accel_rms_norm: input must be a float tensor");
    REQUIRE(g, vec_param_ok(weight, a->shape[a->ndim - 1]), "accel_rms_norm: weight must be float [%lld]",
            (long long)a->shape[a->ndim - 1]);
    REQUIRE(g, eps >= 0 && isfinite(eps), "accel_rms_norm: eps must be finite and >= 0");
    accel_tensor *srcs[2] = {a, weight};
    accel_tensor *t = node_like(g, ACCEL_OP_RMS_NORM, a->dtype, a, srcs, 2);
    if (t) accel_param_set_f32(t, 0, eps);
    return t;
}

accel_tensor *accel_group_norm(accel_graph *g, accel_tensor *a, int groups, accel_tensor *weight, accel_tensor *bias,
                               float eps) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a) && a->ndim >= 2, "accel_group_norm: input must be float [N, C, ...]");
    int64_t c = a->shape[1];
    REQUIRE(g, groups >= 1 && c % groups == 0, "accel_group_norm: %lld channels do not split into %d groups",
            (long long)c, groups);
    REQUIRE(g, vec_param_ok(weight, c) && vec_param_ok(bias, c), "accel_group_norm: weight/bias must be float [C]");
    REQUIRE(g, eps >= 0 && isfinite(eps), "accel_group_norm: eps must be finite and >= 0");
    accel_tensor *srcs[3] = {a, weight, bias};
    accel_tensor *t = node_like(g, ACCEL_OP_GROUP_NORM, a->dtype, a, srcs, 3);
    if (t) {
        t->params[0] = groups;
        accel_param_set_f32(t, 1, eps);
    }
    return t;
}

accel_tensor *accel_batch_norm(accel_graph *g, accel_tensor *a, accel_tensor *mean, accel_tensor *var,
                               accel_tensor *weight, accel_tensor *bias, float eps) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a) && a->ndim >= 2, "accel_batch_norm: input must be float [N, C, ...]");
    int64_t c = a->shape[1];
    REQUIRE(g, mean && var && vec_param_ok(mean, c) && vec_param_ok(var, c) && vec_param_ok(weight, c) &&
                   vec_param_ok(bias, c),
            "accel_batch_norm: mean/var (required) and weight/bias must be float [%lld]", (long long)c);
    REQUIRE(g, eps >= 0 && isfinite(eps), "accel_batch_norm: eps must be finite and >= 0");
    accel_tensor *srcs[5] = {a, mean, var, weight, bias};
    accel_tensor *t = node_like(g, ACCEL_OP_BATCH_NORM, a->dtype, a, srcs, 5);
    if (t) accel_param_set_f32(t, 0, eps);
    return t;
}

/* ---- rope and attention ------------------------------------------------------------------------------------ */
accel_rope_params accel_rope_default_params(void) {
    accel_rope_params p = {.mode = ACCEL_ROPE_HALF, .n_rot = 0, .theta = 10000.0f, .freq_scale = 1.0f, .attn_factor = 1.0f};
    return p;
}

accel_tensor *accel_rope(accel_graph *g, accel_tensor *x, accel_tensor *pos, accel_tensor *inv_freq,
                         const accel_rope_params *params) {
    CHECK_G(g);
    accel_rope_params p = params ? *params : accel_rope_default_params();
    REQUIRE(g, x && pos, "accel_rope: NULL input");
    REQUIRE(g, is_float(x) && x->ndim == 4, "accel_rope: x must be float [B, S, H, D]");
    REQUIRE(g, pos->dtype == ACCEL_I32 && pos->ndim == 1 && pos->shape[0] == x->shape[1],
            "accel_rope: pos must be i32 [S] with S = %lld", (long long)x->shape[1]);
    int64_t d = x->shape[3];
    int n_rot = p.n_rot ? p.n_rot : (int)d;
    REQUIRE(g, n_rot > 0 && n_rot <= d && n_rot % 2 == 0, "accel_rope: n_rot %d must be even and <= head dim %lld",
            n_rot, (long long)d);
    REQUIRE(g, p.mode == ACCEL_ROPE_HALF || p.mode == ACCEL_ROPE_INTERLEAVED, "accel_rope: unknown mode %d", (int)p.mode);
    REQUIRE(g, isfinite(p.theta) && p.theta > 0 && isfinite(p.freq_scale) && isfinite(p.attn_factor),
            "accel_rope: theta must be > 0 and scales finite");
    REQUIRE(g, !inv_freq || (inv_freq->dtype == ACCEL_F32 && inv_freq->ndim == 1 && inv_freq->shape[0] == n_rot / 2),
            "accel_rope: inv_freq must be f32 [%d]", n_rot / 2);
    accel_tensor *srcs[3] = {x, pos, inv_freq};
    accel_tensor *t = node_like(g, ACCEL_OP_ROPE, x->dtype, x, srcs, 3);
    if (t) {
        t->params[0] = p.mode;
        t->params[1] = n_rot;
        accel_param_set_f32(t, 2, p.theta);
        accel_param_set_f32(t, 3, p.freq_scale);
        accel_param_set_f32(t, 4, p.attn_factor);
    }
    return t;
}

accel_attention_params accel_attention_default_params(void) {
    accel_attention_params p = {.scale = 0.0f, .causal = false, .sliding_window = 0};
    return p;
}

accel_tensor *accel_attention(accel_graph *g, accel_tensor *q, accel_tensor *k, accel_tensor *v, accel_tensor *mask,
                              const accel_attention_params *params) {
    CHECK_G(g);
    accel_attention_params p = params ? *params : accel_attention_default_params();
    REQUIRE(g, q && k && v, "accel_attention: NULL input");
    REQUIRE(g, is_float(q) && is_float(k) && is_float(v) && k->dtype == v->dtype,
            "accel_attention: q, k, v must be float (k and v of one dtype)");
    REQUIRE(g, q->ndim == 4 && k->ndim == 4 && v->ndim == 4, "accel_attention: q, k, v must be 4-D [B, H, S, D]");
    int64_t B = q->shape[0], Hq = q->shape[1], Sq = q->shape[2], D = q->shape[3];
    int64_t Hkv = k->shape[1], Skv = k->shape[2];
    REQUIRE(g, k->shape[0] == B && v->shape[0] == B && k->shape[3] == D && v->shape[1] == Hkv && v->shape[2] == Skv,
            "accel_attention: k/v shapes do not match q");
    REQUIRE(g, Hkv >= 1 && Hq % Hkv == 0, "accel_attention: %lld query heads are not a multiple of %lld kv heads",
            (long long)Hq, (long long)Hkv);
    REQUIRE(g, !p.causal || Sq <= Skv, "accel_attention: causal needs Sq <= Skv");
    REQUIRE(g, p.sliding_window >= 0, "accel_attention: sliding_window must be >= 0");
    REQUIRE(g, isfinite(p.scale), "accel_attention: scale must be finite");
    int64_t out_shape[4] = {B, Hq, Sq, v->shape[3]};
    accel_tensor mshape = {.ndim = 4, .shape = {B, Hq, Sq, Skv}};
    REQUIRE(g, !mask || (is_float(mask) && accel_can_broadcast(mask, &mshape)),
            "accel_attention: mask must be float and broadcast to [B, Hq, Sq, Skv]");
    accel_tensor *srcs[4] = {q, k, v, mask};
    accel_tensor *t = accel_graph_new_node(g, ACCEL_OP_ATTENTION, q->dtype, 4, out_shape, srcs, 4);
    if (t) {
        accel_param_set_f32(t, 0, p.scale != 0.0f ? p.scale : (float)(1.0 / sqrt((double)D)));
        t->params[1] = p.causal;
        t->params[2] = p.sliding_window;
    }
    return t;
}

/* ---- convolution and pooling -------------------------------------------------------------------------------- */
accel_conv_params accel_conv_default_params(void) {
    accel_conv_params p = {.stride = {1, 1}, .padding = {0, 0}, .dilation = {1, 1}, .groups = 1};
    return p;
}

static int64_t conv_out(int64_t in, int k, int s, int pad, int dil) {
    int64_t span = (int64_t)dil * (k - 1) + 1;
    int64_t n = in + 2 * (int64_t)pad - span;
    return n < 0 ? -1 : n / s + 1;
}

static accel_tensor *conv(accel_graph *g, int nsp, accel_tensor *x, accel_tensor *w, accel_tensor *bias,
                          const accel_conv_params *params) {
    CHECK_G(g);
    accel_conv_params p = params ? *params : accel_conv_default_params();
    const char *name = nsp == 1 ? "accel_conv1d" : "accel_conv2d";
    REQUIRE(g, x && w, "%s: NULL input", name);
    REQUIRE(g, is_float(x) && is_float(w) && (!bias || is_float(bias)), "%s: inputs must be float", name);
    REQUIRE(g, x->ndim == 2 + nsp && w->ndim == 2 + nsp, "%s: x and w need %d dims", name, 2 + nsp);
    int64_t C = x->shape[1], OC = w->shape[0];
    REQUIRE(g, p.groups >= 1 && C % p.groups == 0 && OC % p.groups == 0 && w->shape[1] == C / p.groups,
            "%s: channels (%lld in, %lld out, weight %lld) do not match groups %d", name, (long long)C,
            (long long)OC, (long long)w->shape[1], p.groups);
    REQUIRE(g, !bias || (bias->ndim == 1 && bias->shape[0] == OC), "%s: bias must be [%lld]", name, (long long)OC);
    int64_t shape[4] = {x->shape[0], OC, 0, 0};
    for (int i = 0; i < nsp; i++) {
        REQUIRE(g, p.stride[i] >= 1 && p.dilation[i] >= 1 && p.padding[i] >= 0, "%s: stride/dilation >= 1, padding >= 0",
                name);
        shape[2 + i] = conv_out(x->shape[2 + i], (int)w->shape[2 + i], p.stride[i], p.padding[i], p.dilation[i]);
        REQUIRE(g, shape[2 + i] >= 1, "%s: kernel larger than padded input", name);
    }
    accel_tensor *srcs[3] = {x, w, bias};
    accel_tensor *t = accel_graph_new_node(g, nsp == 1 ? ACCEL_OP_CONV1D : ACCEL_OP_CONV2D, x->dtype, 2 + nsp, shape, srcs, 3);
    if (!t) return NULL;
    if (nsp == 1) {
        t->params[0] = p.stride[0];
        t->params[1] = p.padding[0];
        t->params[2] = p.dilation[0];
        t->params[3] = p.groups;
    } else {
        t->params[0] = p.stride[0];
        t->params[1] = p.stride[1];
        t->params[2] = p.padding[0];
        t->params[3] = p.padding[1];
        t->params[4] = p.dilation[0];
        t->params[5] = p.dilation[1];
        t->params[6] = p.groups;
    }
    return t;
}
accel_tensor *accel_conv1d(accel_graph *g, accel_tensor *x, accel_tensor *w, accel_tensor *bias,
                           const accel_conv_params *params) {
    return conv(g, 1, x, w, bias, params);
}
accel_tensor *accel_conv2d(accel_graph *g, accel_tensor *x, accel_tensor *w, accel_tensor *bias,
                           const accel_conv_params *params) {
    return conv(g, 2, x, w, bias, params);
}

accel_pool_params accel_pool_default_params(void) {
    accel_pool_params p = {.kind = ACCEL_POOL_MAX, .kernel = {2, 2}, .stride = {0, 0}, .padding = {0, 0},
                           .count_include_pad = true};
    return p;
}

static accel_tensor *pool(accel_graph *g, int nsp, accel_tensor *x, const accel_pool_params *params) {
    CHECK_G(g);
    accel_pool_params p = params ? *params : accel_pool_default_params();
    REQUIRE(g, x && is_float(x) && x->ndim == 2 + nsp, "accel_pool%dd: input must be float with %d dims", nsp, 2 + nsp);
    REQUIRE(g, p.kind == ACCEL_POOL_MAX || p.kind == ACCEL_POOL_AVG, "accel_pool: unknown kind");
    int64_t shape[4] = {x->shape[0], x->shape[1], 0, 0};
    for (int i = 0; i < nsp; i++) {
        if (p.stride[i] == 0) p.stride[i] = p.kernel[i];
        REQUIRE(g, p.kernel[i] >= 1 && p.stride[i] >= 1 && p.padding[i] >= 0 && p.padding[i] * 2 <= p.kernel[i],
                "accel_pool: kernel/stride >= 1 and padding <= kernel/2 (as PyTorch)");
        shape[2 + i] = conv_out(x->shape[2 + i], p.kernel[i], p.stride[i], p.padding[i], 1);
        REQUIRE(g, shape[2 + i] >= 1, "accel_pool: kernel larger than padded input");
    }
    accel_tensor *t = accel_graph_new_node(g, nsp == 1 ? ACCEL_OP_POOL1D : ACCEL_OP_POOL2D, x->dtype, 2 + nsp, shape, &x, 1);
    if (!t) return NULL;
    t->params[0] = p.kind;
    if (nsp == 1) {
        t->params[1] = p.kernel[0];
        t->params[2] = p.stride[0];
        t->params[3] = p.padding[0];
        t->params[4] = p.count_include_pad;
    } else {
        t->params[1] = p.kernel[0];
        t->params[2] = p.kernel[1];
        t->params[3] = p.stride[0];
        t->params[4] = p.stride[1];
        t->params[5] = p.padding[0];
        t->params[6] = p.padding[1];
        t->params[7] = p.count_include_pad;
    }
    return t;
}
accel_tensor *accel_pool1d(accel_graph *g, accel_tensor *x, const accel_pool_params *params) { return pool(g, 1, x, params); }
accel_tensor *accel_pool2d(accel_graph *g, accel_tensor *x, const accel_pool_params *params) { return pool(g, 2, x, params); }

/* ---- data movement ------------------------------------------------------------------------------------------ */
accel_tensor *accel_get_rows(accel_graph *g, accel_tensor *table, accel_tensor *ids) {
    CHECK_G(g);
    REQUIRE(g, table && ids, "accel_get_rows: NULL input");
    REQUIRE(g, table->ndim == 2 && is_plain(table), "accel_get_rows: table must be [V, D]");
    REQUIRE(g, is_int_index(ids), "accel_get_rows: ids must be i32 or i64");
    REQUIRE(g, ids->ndim < ACCEL_MAX_DIMS, "accel_get_rows: ids have too many dims");
    int64_t shape[ACCEL_MAX_DIMS];
    for (int i = 0; i < ids->ndim; i++) shape[i] = ids->shape[i];
    shape[ids->ndim] = table->shape[1];
    accel_tensor *srcs[2] = {table, ids};
    return accel_graph_new_node(g, ACCEL_OP_GET_ROWS, table->dtype, ids->ndim + 1, shape, srcs, 2);
}

accel_tensor *accel_concat(accel_graph *g, accel_tensor *a, accel_tensor *b, int dim) {
    CHECK_G(g);
    REQUIRE(g, a && b, "accel_concat: NULL input");
    REQUIRE(g, a->dtype == b->dtype && is_plain(a) && a->ndim == b->ndim, "accel_concat: same dtype and ndim needed");
    dim = resolve_dim(dim, a->ndim);
    REQUIRE(g, dim >= 0 && dim < a->ndim, "accel_concat: bad dim");
    int64_t shape[ACCEL_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) {
        REQUIRE(g, i == dim || a->shape[i] == b->shape[i], "accel_concat: sizes differ in dim %d", i);
        shape[i] = i == dim ? a->shape[i] + b->shape[i] : a->shape[i];
    }
    accel_tensor *srcs[2] = {a, b};
    accel_tensor *t = accel_graph_new_node(g, ACCEL_OP_CONCAT, a->dtype, a->ndim, shape, srcs, 2);
    if (t) t->params[0] = dim;
    return t;
}

accel_tensor *accel_pad(accel_graph *g, accel_tensor *a, const int64_t *pad, float value) {
    CHECK_G(g);
    REQUIRE(g, a && pad && is_plain(a), "accel_pad: NULL input");
    int64_t shape[ACCEL_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) {
        REQUIRE(g, pad[2 * i] >= 0 && pad[2 * i + 1] >= 0 && pad[2 * i] < INT32_MAX && pad[2 * i + 1] < INT32_MAX,
                "accel_pad: padding must be >= 0");
        shape[i] = a->shape[i] + pad[2 * i] + pad[2 * i + 1];
    }
    accel_tensor *t = accel_graph_new_node(g, ACCEL_OP_PAD, a->dtype, a->ndim, shape, &a, 1);
    if (!t) return NULL;
    for (int i = 0; i < a->ndim; i++) {
        t->params[2 * i] = (int32_t)pad[2 * i];
        t->params[2 * i + 1] = (int32_t)pad[2 * i + 1];
    }
    accel_param_set_f32(t, 12, value);
    return t;
}

/* In-place write: the node aliases dst's memory like a view (view_src, view_offset, strides) but computes. */
accel_tensor *accel_write(accel_graph *g, accel_tensor *dst, accel_tensor *src, int dim, int64_t offset) {
    CHECK_G(g);
    REQUIRE(g, dst && src, "accel_write: NULL input");
    accel_tensor *base = dst->view_src ? dst->view_src : dst;
    REQUIRE(g, base->op == ACCEL_OP_NONE,
            "accel_write: dst '%s' must be a leaf or a view of one (its memory is computed by op %s)", dst->name,
            accel_op_name(base->op));
    REQUIRE(g, (src->view_src ? src->view_src : src) != base, "accel_write: src shares dst's memory ('%s')",
            base->name);
    REQUIRE(g, (is_float(dst) && is_float(src)) || (is_plain(dst) && !is_float(dst) && src->dtype == dst->dtype),
            "accel_write: cannot write %s into %s (floats convert among f32/f16/bf16, integers must match)",
            accel_dtype_name(src->dtype), accel_dtype_name(dst->dtype));
    for (int i = 0; i < dst->ndim; i++) /* a broadcast dst would get several values per element */
        REQUIRE(g, dst->shape[i] <= 1 || dst->stride[i] != 0, "accel_write: dst is broadcast (stride 0) in dim %d", i);
    REQUIRE(g, src->ndim == dst->ndim, "accel_write: src has %d dims, dst %d", src->ndim, dst->ndim);
    int d = resolve_dim(dim, dst->ndim);
    REQUIRE(g, d >= 0 && d < dst->ndim, "accel_write: dim %d out of range for %d dims", dim, dst->ndim);
    for (int i = 0; i < dst->ndim; i++)
        REQUIRE(g, i == d || src->shape[i] == dst->shape[i], "accel_write: sizes differ in dim %d (%lld vs %lld)", i,
                (long long)src->shape[i], (long long)dst->shape[i]);
    REQUIRE(g, offset >= 0 && src->shape[d] <= dst->shape[d] && offset <= dst->shape[d] - src->shape[d],
            "accel_write: rows [%lld, %lld + %lld) do not fit in dim %d of size %lld", (long long)offset,
            (long long)offset, (long long)src->shape[d], d, (long long)dst->shape[d]);
    accel_tensor *srcs[2] = {dst, src};
    accel_tensor *t = node_like(g, ACCEL_OP_WRITE, dst->dtype, dst, srcs, 2);
    if (!t) return NULL;
    memcpy(t->stride, dst->stride, sizeof t->stride);
    t->view_src = base;
    t->view_offset = dst->view_src ? dst->view_offset : 0;
    t->params[0] = d;
    accel_param_set_i64(t, 1, offset);
    snprintf(t->name, sizeof t->name, "%.55s (write)", dst->name);
    return t;
}

accel_tensor *accel_window_partition(accel_graph *g, accel_tensor *x, int window) {
    CHECK_G(g);
    REQUIRE(g, x && x->ndim == 4, "accel_window_partition: x must be [B, H, W, C]");
    int64_t B = x->shape[0], H = x->shape[1], W = x->shape[2], C = x->shape[3];
    REQUIRE(g, window >= 1 && H % window == 0 && W % window == 0,
            "accel_window_partition: %lldx%lld is not a multiple of window %d", (long long)H, (long long)W, window);
    int64_t s6[6] = {B, H / window, window, W / window, window, C};
    accel_tensor *t = accel_reshape(g, x, 6, s6);
    t = accel_permute(g, t, (const int[]){0, 1, 3, 2, 4, 5});
    t = accel_cont(g, t);
    return accel_reshape(g, t, 4, (const int64_t[]){B * (H / window) * (W / window), window, window, C});
}

accel_tensor *accel_window_merge(accel_graph *g, accel_tensor *windows, int window, int64_t h, int64_t w) {
    CHECK_G(g);
    REQUIRE(g, windows && windows->ndim == 4 && windows->shape[1] == window && windows->shape[2] == window,
            "accel_window_merge: windows must be [B*nW, w, w, C]");
    REQUIRE(g, window >= 1 && h % window == 0 && w % window == 0 && h > 0 && w > 0,
            "accel_window_merge: size not a multiple of the window");
    int64_t nw = (h / window) * (w / window), C = windows->shape[3];
    REQUIRE(g, windows->shape[0] % nw == 0, "accel_window_merge: window count does not match the size");
    int64_t B = windows->shape[0] / nw;
    accel_tensor *t = accel_reshape(g, windows, 6, (const int64_t[]){B, h / window, w / window, window, window, C});
    t = accel_permute(g, t, (const int[]){0, 1, 3, 2, 4, 5});
    t = accel_cont(g, t);
    return accel_reshape(g, t, 4, (const int64_t[]){B, h, w, C});
}

/* ---- reductions ---------------------------------------------------------------------------------------------- */
static accel_tensor *reduce(accel_graph *g, accel_op op, accel_tensor *a, int dim) {
    CHECK_G(g);
    REQUIRE(g, a, "accel_%s: NULL input", accel_op_name(op));
    bool ints_ok = op == ACCEL_OP_SUM || op == ACCEL_OP_MAX || op == ACCEL_OP_ARGMAX || op == ACCEL_OP_CUMSUM;
    REQUIRE(g, is_float(a) || (ints_ok && is_int_index(a)), "accel_%s: dtype %s not supported", accel_op_name(op),
            accel_dtype_name(a->dtype));
    dim = resolve_dim(dim, a->ndim);
    REQUIRE(g, dim >= 0 && dim < a->ndim, "accel_%s: bad dim", accel_op_name(op));
    REQUIRE(g, op == ACCEL_OP_CUMSUM || a->shape[dim] > 0, "accel_%s: empty dimension", accel_op_name(op));
    int64_t shape[ACCEL_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    if (op != ACCEL_OP_CUMSUM) shape[dim] = 1;
    accel_dtype out = op == ACCEL_OP_ARGMAX ? ACCEL_I32 : a->dtype;
    accel_tensor *t = accel_graph_new_node(g, op, out, a->ndim, shape, &a, 1);
    if (t) t->params[0] = dim;
    return t;
}
accel_tensor *accel_sum(accel_graph *g, accel_tensor *a, int dim) { return reduce(g, ACCEL_OP_SUM, a, dim); }
accel_tensor *accel_mean(accel_graph *g, accel_tensor *a, int dim) { return reduce(g, ACCEL_OP_MEAN, a, dim); }
accel_tensor *accel_max(accel_graph *g, accel_tensor *a, int dim) { return reduce(g, ACCEL_OP_MAX, a, dim); }
accel_tensor *accel_argmax(accel_graph *g, accel_tensor *a, int dim) { return reduce(g, ACCEL_OP_ARGMAX, a, dim); }
accel_tensor *accel_cumsum(accel_graph *g, accel_tensor *a, int dim) { return reduce(g, ACCEL_OP_CUMSUM, a, dim); }

accel_tensor *accel_top_k(accel_graph *g, accel_tensor *a, int k, accel_tensor **indices) {
    CHECK_G(g);
    REQUIRE(g, a && is_float(a) && a->ndim >= 1, "accel_top_k: input must be a float tensor");
    REQUIRE(g, k >= 1 && k <= a->shape[a->ndim - 1], "accel_top_k: k=%d out of range [1, %lld]", k,
            (long long)a->shape[a->ndim - 1]);
    int64_t shape[ACCEL_MAX_DIMS];
    memcpy(shape, a->shape, sizeof shape);
    shape[a->ndim - 1] = k;
    accel_tensor *vals = accel_graph_new_node(g, ACCEL_OP_TOP_K, a->dtype, a->ndim, shape, &a, 1);
    accel_tensor *idx = accel_graph_new_node(g, ACCEL_OP_TOP_K_INDICES, ACCEL_I32, a->ndim, shape, &a, 1);
    if (!vals || !idx) return NULL;
    vals->params[0] = idx->params[0] = k;
    if (indices) *indices = idx;
    return vals;
}

accel_tensor *accel_interpolate(accel_graph *g, accel_tensor *x, int64_t out_h, int64_t out_w, accel_interp_mode mode,
                                bool align_corners) {
    CHECK_G(g);
    REQUIRE(g, x && is_float(x) && x->ndim == 4, "accel_interpolate: x must be float [N, C, H, W]");
    REQUIRE(g, out_h >= 1 && out_w >= 1, "accel_interpolate: output size must be >= 1");
    REQUIRE(g, mode == ACCEL_INTERP_NEAREST || mode == ACCEL_INTERP_BILINEAR || mode == ACCEL_INTERP_BICUBIC,
            "accel_interpolate: unknown mode %d", (int)mode);
    REQUIRE(g, !(mode == ACCEL_INTERP_NEAREST && align_corners), "accel_interpolate: align_corners needs bilinear or bicubic");
    int64_t shape[4] = {x->shape[0], x->shape[1], out_h, out_w};
    accel_tensor *t = accel_graph_new_node(g, ACCEL_OP_INTERPOLATE, x->dtype, 4, shape, &x, 1);
    if (t) {
        t->params[0] = mode;
        t->params[1] = align_corners;
    }
    return t;
}
