/* CPU MATMUL: a[..., M, K] @ b[..., K, N] -> [..., M, N] with numpy-broadcast batch dims and any operand strides,
 * computed by the GEMM engine (gemm.h) in f32 and rounded once to the output dtype (a's dtype).
 *
 * A b that is (a view of) a weight leaf is flagged constant, so the engine keeps it packed between calls. A
 * Linear layer's matmul followed by the add of its bias (accel_linear) runs as one GEMM with the bias in its
 * epilogue, written straight into the add's output (cpu_matmul_fuse), when nothing else reads the matmul's own
 * result and that output's memory, if the scheduler reused an operand's for it, is safe to write over. */
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/gemm.h"
#include "core/error.h"
#include "core/graph.h"

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

/* t is a weight leaf or a view of one: its data does not change between computes. */
static bool is_weight(const accel_tensor *t) {
    const accel_tensor *base = t->view_src ? t->view_src : t;
    return base->op == ACCEL_OP_NONE && (base->flags & ACCEL_FLAG_WEIGHT);
}

/* The GEMM problem of matmul node dst writing into out (dst's shape, contiguous, dst's dtype), plus col_bias[j]
 * on column j when col_bias is not NULL; batch dims in *batch. */
static gemm_problem matmul_problem(const accel_tensor *dst, void *out, const float *col_bias, gemm_batch *batch_out) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int nd = dst->ndim;
    const int64_t ec = (int64_t)accel_dtype_size(dst->dtype);
    gemm_problem p = {
        .m = dst->shape[nd - 2],
        .n = dst->shape[nd - 1],
        .k = a->shape[a->ndim - 1],
        .a = {accel_tensor_ptr(a), a->dtype, a->stride[a->ndim - 2], a->stride[a->ndim - 1]},
        .b = {accel_tensor_ptr(b), b->dtype, b->stride[b->ndim - 2], b->stride[b->ndim - 1]},
        .c = out,
        .c_dtype = dst->dtype,
        .ldc = dst->shape[nd - 1],
        .col_bias = col_bias,
        .b_constant = is_weight(b),
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
    *batch_out = batch;
    return p;
}

static accel_status run_gemm(cpu_ctx *ctx, const gemm_problem *p, const gemm_batch *batch) {
    void *scratch = cpu_scratch(ctx, cpu_gemm_scratch_size(ctx, p));
    if (!scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu matmul: cannot allocate GEMM scratch");
    return cpu_gemm(ctx, p, batch, scratch);
}

static accel_status cpu_matmul(cpu_ctx *ctx, accel_tensor *dst) {
    gemm_batch batch;
    const gemm_problem p = matmul_problem(dst, accel_tensor_ptr(dst), NULL, &batch);
    return run_gemm(ctx, &p, &batch);
}

/* ---- Linear: matmul + bias add in one GEMM ------------------------------------------------------------------- */

/* The bias of `add` = mm + bias when it is a per-column f32 vector (shape [..., N] with only ones before N,
 * unit stride) added to an f32 mm of the same shape as add; NULL otherwise. */
static const float *linear_bias(const accel_tensor *mm, const accel_tensor *add) {
    if (add->op != ACCEL_OP_ADD || add->src[0] != mm || mm->dtype != ACCEL_F32 || add->dtype != ACCEL_F32)
        return NULL;
    const accel_tensor *bias = add->src[1];
    if (!bias || bias == mm || bias->dtype != ACCEL_F32 || !bias->data || bias->ndim > mm->ndim) return NULL;
    const int64_t n = mm->shape[mm->ndim - 1];
    if (bias->shape[bias->ndim - 1] != n || (n > 1 && bias->stride[bias->ndim - 1] != 4)) return NULL;
    for (int d = 0; d < bias->ndim - 1; d++)
        if (bias->shape[d] != 1) return NULL;
    if (add->ndim != mm->ndim || !add->data || !accel_is_contiguous(add)) return NULL;
    for (int d = 0; d < mm->ndim; d++)
        if (add->shape[d] != mm->shape[d]) return NULL;
    return (const float *)accel_tensor_ptr(bias);
}

/* Nothing but `add` reads mm (no other node, no view, not a graph output), so mm's own memory may stay unwritten. */
static bool sole_reader(const accel_tensor *mm, const accel_tensor *add) {
    const accel_graph *g = mm->graph;
    if (!g || (mm->flags & ACCEL_FLAG_OUTPUT)) return false;
    for (int i = 0; i < g->n_nodes; i++) {
        const accel_tensor *t = g->nodes[i];
        if (t == add) continue;
        if (t->view_src == mm) return false;
        for (int k = 0; k < ACCEL_MAX_SRC; k++)
            if (t->src[k] == mm) return false;
    }
    return true;
}

/* Whether the memory of operand o (its whole base) overlaps [c0, c1). */
static bool overlaps(const accel_tensor *o, const char *c0, const char *c1) {
    const accel_tensor *base = o->view_src ? o->view_src : o;
    const char *o0 = accel_tensor_ptr(base), *o1 = o0 + accel_tensor_bytes_contiguous(base);
    return o0 < c1 && c0 < o1;
}

int cpu_matmul_fuse(cpu_ctx *ctx, accel_tensor *const *nodes, int i, int n, accel_status *st) {
    if (i + 1 >= n || nodes[i]->op != ACCEL_OP_MATMUL || !cpu_matmul_supports(nodes[i])) return 0;
    const accel_tensor *mm = nodes[i];
    accel_tensor *add = nodes[i + 1];
    const float *bias = linear_bias(mm, add);
    if (!bias || !sole_reader(mm, add)) return 0;
    gemm_batch batch;
    gemm_problem p = matmul_problem(mm, accel_tensor_ptr(add), bias, &batch);
    /* The add's buffer may reuse the memory of an operand that dies at the matmul (the scheduler frees it after
     * that step): then C is written over it. Over A (a layer's input, e.g. the merged attention heads) that is
     * safe when the engine reads all of A first, which costs nothing for one block of rows; otherwise, and over
     * B, the matmul and the add run apart. */
    const char *c0 = accel_tensor_ptr(add), *c1 = c0 + accel_tensor_bytes_contiguous(add);
    if (overlaps(mm->src[1], c0, c1)) return 0;
    if (overlaps(mm->src[0], c0, c1)) {
        if (batch.ndims > 0 || p.m <= 1 || p.n <= 1 || !cpu_gemm_a_first_free(ctx, &p)) return 0;
        p.a_first = true;
    }
    *st = run_gemm(ctx, &p, &batch);
    return 2;
}

void cpu_register_matmul(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_MATMUL] = (cpu_op_entry){cpu_matmul, cpu_matmul_supports};
}
