/* ref: batched matmul with numpy-broadcast batch dims and arbitrary operand strides, accumulated in double. */
#include "backends/ref/ref_ops.h"

/* Byte offset of operand t's batch block for dst batch index idx (dst has nb batch dims; t's batch dims are
 * right-aligned against them, size-1 dims broadcast). */
static int64_t ref_batch_offset(const accel_tensor *t, const int64_t *idx, int nb) {
    int tb = t->ndim - 2;
    int64_t off = 0;
    for (int i = 0; i < tb; i++)
        if (t->shape[i] != 1) off += idx[nb - tb + i] * t->stride[i];
    return off;
}

static accel_status ref_matmul(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int nd = dst->ndim, nb = nd - 2;
    const int64_t M = dst->shape[nd - 2], N = dst->shape[nd - 1], K = a->shape[a->ndim - 1];
    const int64_t sam = a->stride[a->ndim - 2], sak = a->stride[a->ndim - 1];
    const int64_t sbk = b->stride[b->ndim - 2], sbn = b->stride[b->ndim - 1];
    const int64_t sdm = dst->stride[nd - 2], sdn = dst->stride[nd - 1];
    if (accel_nelements(dst) == 0) return ACCEL_OK;

    int64_t idx[ACCEL_MAX_DIMS] = {0}; /* batch index of dst */
    do {
        const int64_t a0 = ref_batch_offset(a, idx, nb), b0 = ref_batch_offset(b, idx, nb);
        int64_t d0 = 0;
        for (int i = 0; i < nb; i++) d0 += idx[i] * dst->stride[i];
        for (int64_t m = 0; m < M; m++) {
            for (int64_t n = 0; n < N; n++) {
                double acc = 0.0;
                for (int64_t k = 0; k < K; k++)
                    acc += ref_load(a, a0 + m * sam + k * sak) * ref_load(b, b0 + k * sbk + n * sbn);
                ref_store(dst, d0 + m * sdm + n * sdn, acc);
            }
        }
    } while (ref_index_next(idx, dst->shape, nb));
    return ACCEL_OK;
}

static bool ref_matmul_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    if (!a || !b || !ref_is_float(a->dtype) || !ref_is_float(b->dtype) || dst->dtype != a->dtype) return false;
    if (a->ndim < 2 || b->ndim < 2) return false;
    const int nd = dst->ndim, nb = nd - 2;
    if (nd != (a->ndim > b->ndim ? a->ndim : b->ndim)) return false;
    if (a->shape[a->ndim - 1] != b->shape[b->ndim - 2]) return false;
    if (dst->shape[nd - 2] != a->shape[a->ndim - 2] || dst->shape[nd - 1] != b->shape[b->ndim - 1]) return false;
    /* each dst batch dim is the broadcast of the operands' (right-aligned) batch dims */
    for (int i = 0; i < nb; i++) {
        int ia = i - (nb - (a->ndim - 2)), ib = i - (nb - (b->ndim - 2));
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != 1 && db != 1 && da != db) return false;
        int64_t want = da != 1 ? da : db;
        if (dst->shape[i] != want) return false;
    }
    return true;
}

void ref_register_matmul(ref_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_MATMUL] = (ref_op_entry){ref_matmul, ref_matmul_supports};
}
