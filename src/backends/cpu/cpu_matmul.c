/* CPU MATMUL: a[..., M, K] @ b[..., K, N] -> [..., M, N] with numpy-broadcast batch dims and any operand strides,
 * computed by the GEMM engine (gemm.h) in f32 and rounded once to the output dtype (a's dtype). */
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/gemm.h"
#include "core/error.h"

static bool is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

static bool cpu_matmul_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    if (!a || !b || !is_float(a->dtype) || !is_float(b->dtype) || dst->dtype != a->dtype) return false;
    if (a->ndim < 2 || b->ndim < 2) return false;
    const int nd = dst->ndim, nb = nd - 2;
    if (nd != (a->ndim > b->ndim ? a->ndim : b->ndim) || nb > GEMM_MAX_BATCH_DIMS) return false;
    if (a->shape[a->ndim - 1] != b->shape[b->ndim - 2]) return false;
    if (dst->shape[nd - 2] != a->shape[a->ndim - 2] || dst->shape[nd - 1] != b->shape[b->ndim - 1]) return false;
    for (int i = 0; i < nb; i++) { /* each dst batch dim is the broadcast of the operands' right-aligned ones */
        const int ia = i - (nb - (a->ndim - 2)), ib = i - (nb - (b->ndim - 2));
        const int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != 1 && db != 1 && da != db) return false;
        if (dst->shape[i] != (da != 1 ? da : db)) return false;
    }
    return accel_is_contiguous(dst);
}

/* Byte stride of operand t along dst batch dim i (0 where t broadcasts). */
static int64_t batch_stride(const accel_tensor *t, int i, int nb) {
    const int ti = i - (nb - (t->ndim - 2));
    return ti >= 0 && t->shape[ti] != 1 ? t->stride[ti] : 0;
}

static accel_status cpu_matmul(cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int nd = dst->ndim;
    const int64_t ec = (int64_t)accel_dtype_size(dst->dtype);
    gemm_problem p = {
        .m = dst->shape[nd - 2],
        .n = dst->shape[nd - 1],
        .k = a->shape[a->ndim - 1],
        .a = {accel_tensor_ptr(a), a->dtype, a->stride[a->ndim - 2], a->stride[a->ndim - 1]},
        .b = {accel_tensor_ptr(b), b->dtype, b->stride[b->ndim - 2], b->stride[b->ndim - 1]},
        .c = accel_tensor_ptr(dst),
        .c_dtype = dst->dtype,
        .ldc = dst->shape[nd - 1],
    };
    gemm_batch batch = {0};
    for (int i = 0; i < nd - 2; i++) {
        batch.shape[batch.ndims] = dst->shape[i];
        batch.a_stride[batch.ndims] = batch_stride(a, i, nd - 2);
        batch.b_stride[batch.ndims] = batch_stride(b, i, nd - 2);
        batch.c_stride[batch.ndims] = dst->shape[i] == 1 ? 0 : dst->stride[i];
        batch.ndims++;
    }
    /* A weight shared by every batch item (x[B, S, D] @ W^T): fold the innermost batch dims into M when a's and
     * dst's rows continue evenly across them, so B is packed once for all items. */
    while (batch.ndims > 0 && p.m > 0) {
        const int d = batch.ndims - 1;
        if (batch.shape[d] != 1 &&
            (batch.b_stride[d] != 0 || batch.a_stride[d] != p.m * p.a.rs || batch.c_stride[d] != p.m * p.ldc * ec))
            break;
        p.m *= batch.shape[d];
        batch.ndims--;
    }

    void *scratch = cpu_scratch(ctx, cpu_gemm_scratch_size(ctx, &p));
    if (!scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu matmul: cannot allocate GEMM scratch");
    return cpu_gemm(ctx, &p, &batch, scratch);
}

void cpu_register_matmul(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_MATMUL] = (cpu_op_entry){cpu_matmul, cpu_matmul_supports};
}
