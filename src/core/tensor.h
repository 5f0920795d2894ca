/* Internal tensor layout and op codes. Every backend reads nodes through this header.
 *
 * A tensor is a node of a graph: its op, its sources and its op parameters say how to compute it. Leaves have
 * op ACCEL_OP_NONE. Views (reshape, permute, slice, view) have op ACCEL_OP_VIEW: they compute nothing and point
 * into view_src's memory at view_offset with their own shape and byte strides.
 *
 * Shapes are PyTorch-ordered: shape[0] outermost. Strides are in bytes. Dimensions past ndim are 1 with stride
 * equal to the total size, so kernels may treat any tensor as ACCEL_MAX_DIMS-dimensional through
 * accel_tensor_dims_aligned() (right-aligned, leading dims of size 1).
 */
#ifndef ACCEL_CORE_TENSOR_H
#define ACCEL_CORE_TENSOR_H

#include "accel.h"

#include <string.h>

#define ACCEL_MAX_SRC 6
#define ACCEL_MAX_OP_PARAMS 16
#define ACCEL_TENSOR_NAME_MAX 64

/* Op codes. Parameters live in t->params (int32 slots; floats stored bit-for-bit, read with accel_param_f32).
 * Each entry says: sources, params, output. "bcast" = numpy broadcasting of b to a's shape. */
typedef enum accel_op {
    ACCEL_OP_NONE = 0,   /* leaf */
    ACCEL_OP_VIEW,       /* src0 = view_src; no compute */
    ACCEL_OP_CPY,        /* src0 any strides/dtype -> contiguous in t's dtype (cont and cast) */

    ACCEL_OP_MATMUL,     /* src0 [..., M, K], src1 [..., K, N] (any strides; batch dims bcast) -> [..., M, N] */

    ACCEL_OP_ADD,        /* src0, src1 bcast -> shape of src0, dtype of src0 */
    ACCEL_OP_SUB,
    ACCEL_OP_MUL,
    ACCEL_OP_DIV,
    ACCEL_OP_SCALE,      /* src0; p0 = scale (f32), p1 = bias (f32): x * scale + bias */

    ACCEL_OP_GELU,       /* erf GELU: 0.5 x (1 + erf(x / sqrt 2)) */
    ACCEL_OP_GELU_TANH,  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    ACCEL_OP_QUICK_GELU, /* x * sigmoid(1.702 x) */
    ACCEL_OP_SILU,       /* x * sigmoid(x) */
    ACCEL_OP_RELU,
    ACCEL_OP_TANH,
    ACCEL_OP_SIGMOID,

    ACCEL_OP_SOFTMAX,    /* src0 x, src1 mask or NULL (bcast to x); p0 = scale (f32), p1 = causal (0/1).
                            y = softmax(x * scale + mask) over the last dim; causal hides (i, j) of the last two
                            dims when j > i + (ncols - nrows). A row that is entirely -inf gives zeros. */
    ACCEL_OP_LAYER_NORM, /* src0 x, src1 weight [D] or NULL, src2 bias [D] or NULL; p0 = eps (f32); last dim */
    ACCEL_OP_RMS_NORM,   /* src0 x, src1 weight [D] or NULL; p0 = eps: x / sqrt(mean(x^2) + eps) * w */
    ACCEL_OP_GROUP_NORM, /* src0 x [N, C, ...], src1 weight [C] or NULL, src2 bias [C] or NULL;
                            p0 = groups (int), p1 = eps (f32) */
    ACCEL_OP_BATCH_NORM, /* src0 x [N, C, ...], src1 mean [C], src2 var [C], src3 weight [C] or NULL,
                            src4 bias [C] or NULL; p0 = eps (f32) */

    ACCEL_OP_ROPE,       /* src0 x [B, S, H, D], src1 pos [S] i32, src2 inv_freq [n_rot/2] f32 or NULL;
                            p0 = mode (accel_rope_mode), p1 = n_rot (int, resolved: > 0), p2 = theta (f32),
                            p3 = freq_scale (f32), p4 = attn_factor (f32).
                            For pair index i < n_rot/2: angle = pos * freq_scale * f_i where
                            f_i = inv_freq[i] or theta^(-2i/n_rot); HALF mode pairs (i, i + n_rot/2),
                            INTERLEAVED pairs (2i, 2i+1); out = (x0 c - x1 s, x1 c + x0 s) with
                            c = cos(angle) * attn_factor, s = sin(angle) * attn_factor. Features >= n_rot are
                            copied. */
    ACCEL_OP_ATTENTION,  /* src0 q [B, Hq, Sq, D], src1 k [B, Hkv, Skv, D], src2 v [B, Hkv, Skv, Dv],
                            src3 mask (bcast to [B, Hq, Sq, Skv]) or NULL; p0 = scale (f32, resolved),
                            p1 = causal, p2 = sliding_window (0 = none). Head h uses kv head h / (Hq / Hkv).
                            Query i sits at position i + Skv - Sq; it sees key j when (!causal || j <= pos)
                            and (window == 0 || pos - j < window). -> [B, Hq, Sq, Dv] */

    ACCEL_OP_CONV1D,     /* src0 x [N, C, L], src1 w [OC, C/g, K], src2 bias [OC] or NULL;
                            p0 = stride, p1 = padding, p2 = dilation, p3 = groups -> [N, OC, Lout] */
    ACCEL_OP_CONV2D,     /* src0 x [N, C, H, W], src1 w [OC, C/g, KH, KW], src2 bias or NULL;
                            p0,p1 = stride h,w; p2,p3 = padding h,w; p4,p5 = dilation h,w; p6 = groups */
    ACCEL_OP_POOL1D,     /* src0 x [N, C, L]; p0 = kind, p1 = kernel, p2 = stride, p3 = padding,
                            p4 = count_include_pad. Max pooling ignores padding (as -inf). */
    ACCEL_OP_POOL2D,     /* src0 x [N, C, H, W]; p0 = kind, p1,p2 = kernel h,w; p3,p4 = stride; p5,p6 = padding;
                            p7 = count_include_pad */

    ACCEL_OP_GET_ROWS,   /* src0 table [V, D], src1 ids (i32/i64) -> [ids shape..., D] in table's dtype */
    ACCEL_OP_CONCAT,     /* src0, src1 (same dtype, equal except dim p0) -> concatenated along p0 */
    ACCEL_OP_PAD,        /* src0; p0..p11 = (before, after) pairs for dims 0..ndim-1 (int); p12 = value (f32) */

    ACCEL_OP_SUM,        /* src0; p0 = dim (resolved, >= 0); keepdim */
    ACCEL_OP_MEAN,
    ACCEL_OP_MAX,
    ACCEL_OP_ARGMAX,     /* -> i32; first index of the maximum */
    ACCEL_OP_TOP_K,      /* src0 [..., N]; p0 = k -> values [..., k] (descending, ties lower index first).
                            The indices are a second node ACCEL_OP_TOP_K_INDICES with src0 = this node's src0,
                            same p0 -> i32 [..., k]. */
    ACCEL_OP_TOP_K_INDICES,
    ACCEL_OP_CUMSUM,     /* src0; p0 = dim (resolved); inclusive */

    ACCEL_OP_INTERPOLATE, /* src0 x [N, C, H, W]; p0 = mode (accel_interp_mode), p1 = align_corners
                             -> [N, C, out_h, out_w] (t's shape). PyTorch scale = in/out when !align_corners. */

    ACCEL_OP_WRITE,      /* in-place write (KV caches): src0 = dst as given (a leaf or a view of one, or an earlier
                            WRITE node), src1 = src; p0 = dim (resolved, >= 0), p1/p2 = offset (int64: low/high
                            32 bits, read with accel_param_i64(t, 1)). Stores src1 converted to t's dtype into
                            t[..., offset : offset + src1.shape[dim], ...]; the rest of t is left as it is.
                            t has src0's shape, dtype and byte strides and, like a view, aliases its memory:
                            view_src = src0's base leaf, view_offset = src0's view_offset. It has no memory of
                            its own; it computes (it is not a VIEW) and its readers run after the write. */

    ACCEL_OP_COUNT
} accel_op;

/* Tensor flags */
enum {
    ACCEL_FLAG_INPUT = 1u << 0,  /* written by the user before compute */
    ACCEL_FLAG_OUTPUT = 1u << 1, /* read by the user after compute: kept alive */
    ACCEL_FLAG_WEIGHT = 1u << 2, /* read-only model parameter: never moved */
    ACCEL_FLAG_EXTERNAL = 1u << 3, /* data points at caller-owned host memory */
};

typedef struct accel_buffer accel_buffer;

struct accel_tensor {
    accel_dtype dtype;
    int32_t ndim;
    int64_t shape[ACCEL_MAX_DIMS];
    int64_t stride[ACCEL_MAX_DIMS]; /* bytes */

    accel_op op;
    int32_t params[ACCEL_MAX_OP_PARAMS];
    accel_tensor *src[ACCEL_MAX_SRC];

    accel_tensor *view_src; /* views and WRITE nodes: the tensor whose memory this one uses (always a leaf or a
                               computed node, never a view or a WRITE node) */
    size_t view_offset;     /* bytes */

    uint32_t flags;
    accel_buffer *buffer;   /* where data lives (NULL for external host memory) */
    void *data;             /* host-addressable pointer, or a device address cast for device buffers */

    char name[ACCEL_TENSOR_NAME_MAX];

    /* scheduler bookkeeping (not for backends) */
    int32_t sched_device;   /* index into the scheduler's device list, -1 = none yet */
    int32_t sched_index;    /* position in the graph's node or leaf list (set by accel_graph_add_output) */
    int32_t sched_id;       /* scratch slot used by the scheduler during allocation */
    accel_graph *graph;
};

static inline float accel_param_f32(const accel_tensor *t, int i) {
    float f;
    memcpy(&f, &t->params[i], sizeof f);
    return f;
}
static inline void accel_param_set_f32(accel_tensor *t, int i, float f) { memcpy(&t->params[i], &f, sizeof f); }
/* An int64 parameter held in two slots: params[i] = low 32 bits, params[i + 1] = high 32 bits. */
static inline int64_t accel_param_i64(const accel_tensor *t, int i) {
    return (int64_t)(((uint64_t)(uint32_t)t->params[i + 1] << 32) | (uint32_t)t->params[i]);
}
static inline void accel_param_set_i64(accel_tensor *t, int i, int64_t v) {
    t->params[i] = (int32_t)(uint32_t)((uint64_t)v & 0xffffffffu);
    t->params[i + 1] = (int32_t)(uint32_t)((uint64_t)v >> 32);
}

static inline int64_t accel_nelements(const accel_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

/* Number of rows when the last dimension is the row (nelements / shape[ndim-1]). */
static inline int64_t accel_nrows(const accel_tensor *t) {
    return t->ndim == 0 ? 1 : accel_nelements(t) / (t->shape[t->ndim - 1] ? t->shape[t->ndim - 1] : 1);
}

size_t accel_dtype_size(accel_dtype dtype); /* bytes per element for plain dtypes; 0 for block types */
bool accel_dtype_is_float(accel_dtype dtype);

/* Bytes a contiguous tensor of this shape occupies. */
size_t accel_tensor_bytes_contiguous(const accel_tensor *t);
bool accel_is_contiguous(const accel_tensor *t);
/* The last dimension has stride == element size (rows are contiguous), other dims arbitrary. */
bool accel_rows_contiguous(const accel_tensor *t);
bool accel_same_shape(const accel_tensor *a, const accel_tensor *b);
/* b can be broadcast to a's shape (numpy rules, right-aligned). */
bool accel_can_broadcast(const accel_tensor *b, const accel_tensor *a);

/* Right-aligned ACCEL_MAX_DIMS-dimensional shape and strides: out[ACCEL_MAX_DIMS - ndim + i] = shape[i],
 * leading entries are size 1 with stride 0. */
void accel_tensor_dims_aligned(const accel_tensor *t, int64_t shape[ACCEL_MAX_DIMS], int64_t stride[ACCEL_MAX_DIMS]);

/* Strides for broadcasting b to shape `to` (right-aligned to ACCEL_MAX_DIMS): stride 0 where b has size 1. */
void accel_tensor_bcast_strides(const accel_tensor *b, const int64_t to_shape[ACCEL_MAX_DIMS],
                                int64_t stride[ACCEL_MAX_DIMS]);

/* Host pointer of element 0 (t->data) as bytes. */
static inline char *accel_tensor_ptr(const accel_tensor *t) { return (char *)t->data; }

/* Element read/write as double/float for any float or int plain dtype (slow path helpers for ref & tests). */
double accel_load_f64(const void *p, accel_dtype dtype);
void accel_store_f64(void *p, accel_dtype dtype, double v);

const char *accel_op_name(accel_op op);

#endif
