/* Tensor shape and stride helpers shared by the graph builder and every backend. */
#include "core/tensor.h"

static const char *const k_op_names[ACCEL_OP_COUNT] = {
    [ACCEL_OP_NONE] = "leaf",        [ACCEL_OP_VIEW] = "view",
    [ACCEL_OP_CPY] = "cpy",          [ACCEL_OP_MATMUL] = "matmul",
    [ACCEL_OP_ADD] = "add",          [ACCEL_OP_SUB] = "sub",
    [ACCEL_OP_MUL] = "mul",          [ACCEL_OP_DIV] = "div",
    [ACCEL_OP_SCALE] = "scale",      [ACCEL_OP_GELU] = "gelu",
    [ACCEL_OP_GELU_TANH] = "gelu_tanh", [ACCEL_OP_QUICK_GELU] = "quick_gelu",
    [ACCEL_OP_SILU] = "silu",        [ACCEL_OP_RELU] = "relu",
    [ACCEL_OP_TANH] = "tanh",        [ACCEL_OP_SIGMOID] = "sigmoid",
    [ACCEL_OP_SOFTMAX] = "softmax",  [ACCEL_OP_LAYER_NORM] = "layer_norm",
    [ACCEL_OP_RMS_NORM] = "rms_norm", [ACCEL_OP_GROUP_NORM] = "group_norm",
    [ACCEL_OP_BATCH_NORM] = "batch_norm", [ACCEL_OP_ROPE] = "rope",
    [ACCEL_OP_ATTENTION] = "attention", [ACCEL_OP_CONV1D] = "conv1d",
    [ACCEL_OP_CONV2D] = "conv2d",    [ACCEL_OP_POOL1D] = "pool1d",
    [ACCEL_OP_POOL2D] = "pool2d",    [ACCEL_OP_GET_ROWS] = "get_rows",
    [ACCEL_OP_CONCAT] = "concat",    [ACCEL_OP_PAD] = "pad",
    [ACCEL_OP_SUM] = "sum",          [ACCEL_OP_MEAN] = "mean",
    [ACCEL_OP_MAX] = "max",          [ACCEL_OP_ARGMAX] = "argmax",
    [ACCEL_OP_TOP_K] = "top_k",      [ACCEL_OP_TOP_K_INDICES] = "top_k_indices",
    [ACCEL_OP_CUMSUM] = "cumsum",    [ACCEL_OP_INTERPOLATE] = "interpolate",
    [ACCEL_OP_WRITE] = "write",
};

const char *accel_op_name(accel_op op) {
    return (unsigned)op < ACCEL_OP_COUNT && k_op_names[op] ? k_op_names[op] : "?";
}

size_t accel_tensor_bytes_contiguous(const accel_tensor *t) {
    int64_t n = accel_nelements(t);
    int64_t be = accel_dtype_block_elems(t->dtype);
    if (be <= 0) return 0;
    return (size_t)((n + be - 1) / be) * accel_dtype_block_bytes(t->dtype);
}

bool accel_is_contiguous(const accel_tensor *t) {
    size_t es = accel_dtype_size(t->dtype);
    if (es == 0) return t->view_src == NULL; /* block types: only whole, unviewed tensors */
    int64_t expect = (int64_t)es;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != expect) return false;
        expect *= t->shape[i];
    }
    return true;
}

bool accel_rows_contiguous(const accel_tensor *t) {
    return t->ndim == 0 || t->shape[t->ndim - 1] == 1 || t->stride[t->ndim - 1] == (int64_t)accel_dtype_size(t->dtype);
}

bool accel_same_shape(const accel_tensor *a, const accel_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

bool accel_can_broadcast(const accel_tensor *b, const accel_tensor *a) {
    if (b->ndim > a->ndim) return false;
    for (int i = 1; i <= b->ndim; i++) {
        int64_t bd = b->shape[b->ndim - i], ad = a->shape[a->ndim - i];
        if (bd != ad && bd != 1) return false;
    }
    return true;
}

void accel_tensor_dims_aligned(const accel_tensor *t, int64_t shape[ACCEL_MAX_DIMS], int64_t stride[ACCEL_MAX_DIMS]) {
    int off = ACCEL_MAX_DIMS - t->ndim;
    for (int i = 0; i < ACCEL_MAX_DIMS; i++) {
        if (i < off) {
            shape[i] = 1;
            stride[i] = 0;
        } else {
            shape[i] = t->shape[i - off];
            stride[i] = t->stride[i - off];
        }
    }
}

void accel_tensor_bcast_strides(const accel_tensor *b, const int64_t to_shape[ACCEL_MAX_DIMS],
                                int64_t stride[ACCEL_MAX_DIMS]) {
    int64_t bs[ACCEL_MAX_DIMS], bst[ACCEL_MAX_DIMS];
    accel_tensor_dims_aligned(b, bs, bst);
    for (int i = 0; i < ACCEL_MAX_DIMS; i++) stride[i] = (bs[i] == 1 && to_shape[i] != 1) ? 0 : bst[i];
}
