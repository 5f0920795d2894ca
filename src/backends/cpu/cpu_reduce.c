/* CPU reductions along one dimension: SUM, MEAN, MAX, ARGMAX (keepdim), CUMSUM, and TOP_K / TOP_K_INDICES along
 * the last dimension.
 *
 * Semantics (shared with the ref backend): floats accumulate in double and are rounded once at the store;
 * i32/i64 accumulate in int64 (sums wrap modulo 2^64, then saturate when stored to i32). MAX propagates NaN;
 * ARGMAX returns the first maximum, or the first NaN; TOP_K orders descending with ties broken by the lower
 * index and NaN counted as the largest value.
 *
 * Layout: the source is seen as outer rows (every dim but the last, with the reduced dim collapsed) times lanes
 * (the last dim). Reducing a non-last dim walks the reduced dim row by row and accumulates a chunk of lanes at a
 * time, so memory is read along its contiguous dim; reducing the last dim walks each row in chunks.
 */
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec.h"

#include <math.h>

#define REDUCE_CHUNK 256 /* lanes (or row elements) handled per inner pass: stack buffers stay small */

typedef struct reduce_job {
    const accel_tensor *src;
    accel_tensor *dst;
    accel_op op;
    cpu_isa isa;
    int nd, dim;
    int64_t oshape[ACCEL_MAX_DIMS]; /* src shape with dim collapsed to 1 */
    int64_t dstride[ACCEL_MAX_DIMS]; /* dst's contiguous strides */
    int64_t n_outer;                /* rows of oshape */
    int64_t W, lane_stride;         /* lanes per outer row (1 when reducing the last dim) and their src stride */
    int64_t R, r_stride;            /* extent and src stride of the reduced dim */
    int64_t n_chunks;               /* lane chunks per outer row */
    bool ints;
} reduce_job;

static void load_ints(const char *p, int64_t stride, accel_dtype dt, int64_t n, int64_t *out) {
    if (dt == ACCEL_I32) {
        for (int64_t j = 0; j < n; j++) {
            int32_t v;
            memcpy(&v, p + j * stride, 4);
            out[j] = v;
        }
    } else {
        for (int64_t j = 0; j < n; j++) memcpy(&out[j], p + j * stride, 8);
    }
}

/* Per-lane accumulators of one chunk. */
typedef struct lane_acc {
    double fsum[REDUCE_CHUNK];
    float fbest[REDUCE_CHUNK];
    uint64_t isum[REDUCE_CHUNK];
    int64_t ibest[REDUCE_CHUNK];
    int64_t arg[REDUCE_CHUNK];
} lane_acc;

/* Folds value v at reduced index k into lane j. */
static inline void acc_float(lane_acc *a, int64_t j, float v, int64_t k) {
    a->fsum[j] += v;
    const float b = a->fbest[j];
    if (k == 0 || (b == b && (v != v || v > b))) { /* NaN sticks: once best is NaN nothing replaces it */
        a->fbest[j] = v;
        a->arg[j] = k;
    }
}
static inline void acc_int(lane_acc *a, int64_t j, int64_t v, int64_t k) {
    a->isum[j] += (uint64_t)v;
    if (k == 0 || v > a->ibest[j]) {
        a->ibest[j] = v;
        a->arg[j] = k;
    }
}

/* Stores the result of lane j to p. */
static void store_result(const reduce_job *jb, const lane_acc *a, int64_t j, char *p) {
    const accel_dtype dt = jb->dst->dtype;
    switch (jb->op) {
    case ACCEL_OP_ARGMAX: cpu_data_store_int(p, ACCEL_I32, a->arg[j]); break;
    case ACCEL_OP_MAX:
        if (jb->ints) cpu_data_store_int(p, dt, a->ibest[j]);
        else cpu_data_store_float(p, dt, a->fbest[j]);
        break;
    case ACCEL_OP_MEAN: cpu_data_store_float(p, dt, (float)(a->fsum[j] / (double)jb->R)); break;
    default: /* SUM */
        if (jb->ints) cpu_data_store_int(p, dt, (int64_t)a->isum[j]);
        else cpu_data_store_float(p, dt, (float)a->fsum[j]);
        break;
    }
}

static void reduce_task(void *arg, int ith, int nth) {
    const reduce_job *jb = arg;
    const accel_tensor *src = jb->src;
    const accel_dtype dt = src->dtype;
    const size_t des = accel_dtype_size(jb->dst->dtype);
    lane_acc acc;
    float fbuf[REDUCE_CHUNK];
    int64_t ibuf[REDUCE_CHUNK];
    int64_t t0, t1;
    accel_split_range(jb->n_outer * jb->n_chunks, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const int64_t o = t / jb->n_chunks, j0 = (t % jb->n_chunks) * REDUCE_CHUNK;
        const int64_t nl = jb->W - j0 < REDUCE_CHUNK ? jb->W - j0 : REDUCE_CHUNK;
        const char *base = accel_tensor_ptr(src) + cpu_data_row_offset(o, jb->oshape, src->stride, jb->nd) +
                           j0 * jb->lane_stride;
        char *out = accel_tensor_ptr(jb->dst) + (size_t)(o * jb->W + j0) * des;
        if (jb->W == 1) {
            /* reducing the last dim: one accumulator, the row read in chunks */
            memset(&acc.fsum[0], 0, sizeof acc.fsum[0]);
            acc.isum[0] = 0;
            for (int64_t k0 = 0; k0 < jb->R; k0 += REDUCE_CHUNK) {
                const int64_t n = jb->R - k0 < REDUCE_CHUNK ? jb->R - k0 : REDUCE_CHUNK;
                const char *p = base + k0 * jb->r_stride;
                if (jb->ints) {
                    load_ints(p, jb->r_stride, dt, n, ibuf);
                    for (int64_t k = 0; k < n; k++) acc_int(&acc, 0, ibuf[k], k0 + k);
                } else {
                    cpu_vec_load_f32(jb->isa, dt, p, jb->r_stride, fbuf, n);
                    for (int64_t k = 0; k < n; k++) acc_float(&acc, 0, fbuf[k], k0 + k);
                }
            }
            store_result(jb, &acc, 0, out);
            continue;
        }
        for (int64_t j = 0; j < nl; j++) {
            acc.fsum[j] = 0;
            acc.isum[j] = 0;
        }
        for (int64_t k = 0; k < jb->R; k++) {
            const char *p = base + k * jb->r_stride;
            if (jb->ints) {
                load_ints(p, jb->lane_stride, dt, nl, ibuf);
                for (int64_t j = 0; j < nl; j++) acc_int(&acc, j, ibuf[j], k);
            } else {
                cpu_vec_load_f32(jb->isa, dt, p, jb->lane_stride, fbuf, nl);
                for (int64_t j = 0; j < nl; j++) acc_float(&acc, j, fbuf[j], k);
            }
        }
        for (int64_t j = 0; j < nl; j++) store_result(jb, &acc, j, out + (size_t)j * des);
    }
}

static void reduce_job_init(reduce_job *jb, cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *src = dst->src[0];
    memset(jb, 0, sizeof *jb);
    jb->src = src;
    jb->dst = dst;
    jb->op = dst->op;
    jb->isa = ctx->isa;
    jb->nd = src->ndim;
    jb->dim = dst->params[0];
    jb->ints = !cpu_data_is_float(src->dtype);
    memcpy(jb->oshape, src->shape, sizeof jb->oshape);
    jb->oshape[jb->dim] = 1;
    cpu_data_contiguous_strides(dst, jb->dstride);
    jb->n_outer = 1;
    for (int d = 0; d < jb->nd - 1; d++) jb->n_outer *= jb->oshape[d];
    jb->W = jb->oshape[jb->nd - 1];
    jb->lane_stride = src->stride[jb->nd - 1];
    jb->R = src->shape[jb->dim];
    jb->r_stride = src->stride[jb->dim];
    jb->n_chunks = (jb->W + REDUCE_CHUNK - 1) / REDUCE_CHUNK;
}

static accel_status reduce_compute(cpu_ctx *ctx, accel_tensor *dst) {
    reduce_job jb;
    reduce_job_init(&jb, ctx, dst);
    if (jb.n_outer * jb.n_chunks > 0) cpu_data_run(ctx, reduce_task, &jb);
    return ACCEL_OK;
}

static bool reduce_dtype_ok(accel_op op, accel_dtype d) {
    const bool ints = d == ACCEL_I32 || d == ACCEL_I64;
    return cpu_data_is_float(d) || (ints && op != ACCEL_OP_MEAN);
}

static bool reduce_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int dim = dst->params[0];
    if (!a || a->ndim < 1 || a->ndim != dst->ndim || dim < 0 || dim >= a->ndim) return false;
    if (!reduce_dtype_ok(dst->op, a->dtype)) return false;
    if (dst->dtype != (dst->op == ACCEL_OP_ARGMAX ? ACCEL_I32 : a->dtype)) return false;
    if ((dst->op == ACCEL_OP_ARGMAX || dst->op == ACCEL_OP_MAX) && a->shape[dim] < 1) return false;
    for (int i = 0; i < a->ndim; i++)
        if (dst->shape[i] != (i == dim ? 1 : a->shape[i])) return false;
    return accel_is_contiguous(dst);
}

/* ---- CUMSUM ----------------------------------------------------------------------------------------------------- */
static void cumsum_task(void *arg, int ith, int nth) {
    const reduce_job *jb = arg;
    const accel_tensor *src = jb->src;
    const accel_dtype dt = src->dtype;
    const size_t es = accel_dtype_size(dt);
    double fsum[REDUCE_CHUNK];
    uint64_t isum[REDUCE_CHUNK];
    float fbuf[REDUCE_CHUNK];
    int64_t ibuf[REDUCE_CHUNK];
    int64_t t0, t1;
    accel_split_range(jb->n_outer * jb->n_chunks, ith, nth, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const int64_t o = t / jb->n_chunks, j0 = (t % jb->n_chunks) * REDUCE_CHUNK;
        const int64_t nl = jb->W - j0 < REDUCE_CHUNK ? jb->W - j0 : REDUCE_CHUNK;
        const char *base = accel_tensor_ptr(src) + cpu_data_row_offset(o, jb->oshape, src->stride, jb->nd) +
                           j0 * jb->lane_stride;
        char *out = accel_tensor_ptr(jb->dst) + cpu_data_row_offset(o, jb->oshape, jb->dstride, jb->nd) +
                    (size_t)j0 * es;
        if (jb->W == 1) {
            /* scanning the last dim: dst's row is contiguous */
            double fs = 0;
            uint64_t is = 0;
            for (int64_t k0 = 0; k0 < jb->R; k0 += REDUCE_CHUNK) {
                const int64_t n = jb->R - k0 < REDUCE_CHUNK ? jb->R - k0 : REDUCE_CHUNK;
                const char *p = base + k0 * jb->r_stride;
                char *q = out + (size_t)k0 * es;
                if (jb->ints) {
                    load_ints(p, jb->r_stride, dt, n, ibuf);
                    for (int64_t k = 0; k < n; k++) {
                        is += (uint64_t)ibuf[k];
                        cpu_data_store_int(q + (size_t)k * es, dt, (int64_t)is);
                    }
                } else {
                    cpu_vec_load_f32(jb->isa, dt, p, jb->r_stride, fbuf, n);
                    for (int64_t k = 0; k < n; k++) {
                        fs += fbuf[k];
                        fbuf[k] = (float)fs;
                    }
                    cpu_vec_store_f32(jb->isa, dt, fbuf, q, n);
                }
            }
            continue;
        }
        for (int64_t j = 0; j < nl; j++) {
            fsum[j] = 0;
            isum[j] = 0;
        }
        for (int64_t k = 0; k < jb->R; k++) {
            const char *p = base + k * jb->r_stride;
            char *q = out + k * jb->dstride[jb->dim];
            if (jb->ints) {
                load_ints(p, jb->lane_stride, dt, nl, ibuf);
                for (int64_t j = 0; j < nl; j++) {
                    isum[j] += (uint64_t)ibuf[j];
                    cpu_data_store_int(q + (size_t)j * es, dt, (int64_t)isum[j]);
                }
            } else {
                cpu_vec_load_f32(jb->isa, dt, p, jb->lane_stride, fbuf, nl);
                for (int64_t j = 0; j < nl; j++) {
                    fsum[j] += fbuf[j];
                    fbuf[j] = (float)fsum[j];
                }
                cpu_vec_store_f32(jb->isa, dt, fbuf, q, nl);
            }
        }
    }
}

static accel_status cumsum_compute(cpu_ctx *ctx, accel_tensor *dst) {
    reduce_job jb;
    reduce_job_init(&jb, ctx, dst);
    if (accel_nelements(dst) > 0) cpu_data_run(ctx, cumsum_task, &jb);
    return ACCEL_OK;
}

static bool cumsum_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int dim = dst->params[0];
    if (!a || a->ndim < 1 || dim < 0 || dim >= a->ndim || !reduce_dtype_ok(ACCEL_OP_CUMSUM, a->dtype)) return false;
    return dst->dtype == a->dtype && accel_same_shape(dst, a) && accel_is_contiguous(dst);
}

/* ---- TOP_K ------------------------------------------------------------------------------------------------------
 * A heap of the k best seen so far, with the worst at the root: most elements of a long row (a vocabulary of
 * 151936 logits, k = 50) are rejected by one comparison with the root. */
typedef struct topk_heap {
    float *v;
    int64_t *i;
    int64_t n;
} topk_heap;

/* a ranks before b in top-k output order. */
static inline bool ranks_before(float va, int64_t ia, float vb, int64_t ib) {
    const bool na = va != va, nb = vb != vb;
    if (na || nb) return na && (!nb || ia < ib);
    if (va != vb) return va > vb;
    return ia < ib;
}

static void heap_sift_down(topk_heap *h, int64_t at) {
    for (;;) {
        const int64_t l = 2 * at + 1, r = l + 1;
        if (l >= h->n) return;
        int64_t w = l; /* the child that ranks last */
        if (r < h->n && ranks_before(h->v[l], h->i[l], h->v[r], h->i[r])) w = r;
        if (!ranks_before(h->v[at], h->i[at], h->v[w], h->i[w])) return;
        float tv = h->v[at];
        int64_t ti = h->i[at];
        h->v[at] = h->v[w], h->i[at] = h->i[w];
        h->v[w] = tv, h->i[w] = ti;
        at = w;
    }
}

/* Offers x[0..n) (global indices base..base+n) to a heap already holding k elements. */
static void heap_offer(topk_heap *h, const float *x, int64_t n, int64_t base) {
    float thr = h->v[0];
    for (int64_t j = 0; j < n; j++) {
        const float v = x[j];
        if (v <= thr) continue; /* not better than the worst kept (equal values come later: lower rank) */
        if (!ranks_before(v, base + j, h->v[0], h->i[0])) continue; /* reached only with NaNs involved */
        h->v[0] = v;
        h->i[0] = base + j;
        heap_sift_down(h, 0);
        thr = h->v[0];
    }
}

typedef struct topk_job {
    const accel_tensor *src;
    accel_tensor *dst;
    cpu_isa isa;
    int64_t rows, N, k;
    char *scratch;
    size_t scratch_per_thread;
} topk_job;

#define TOPK_CHUNK 1024

static void topk_task(void *arg, int ith, int nth) {
    const topk_job *jb = arg;
    const accel_tensor *src = jb->src;
    const int nd = src->ndim;
    const int64_t N = jb->N, k = jb->k, sl = src->stride[nd - 1];
    const bool want_idx = jb->dst->op == ACCEL_OP_TOP_K_INDICES;
    const size_t des = accel_dtype_size(jb->dst->dtype);
    char *mem = jb->scratch + (size_t)ith * jb->scratch_per_thread;
    topk_heap h = {(float *)(void *)mem, (int64_t *)(void *)(mem + ((size_t)k * sizeof(float) + 63) / 64 * 64), 0};
    float buf[TOPK_CHUNK];
    int64_t r0, r1;
    accel_split_range(jb->rows, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *row = accel_tensor_ptr(src) + cpu_data_row_offset(r, src->shape, src->stride, nd);
        const bool direct = src->dtype == ACCEL_F32 && sl == 4;
        h.n = 0;
        for (int64_t j0 = 0; j0 < N; j0 += TOPK_CHUNK) {
            const int64_t n = N - j0 < TOPK_CHUNK ? N - j0 : TOPK_CHUNK;
            const float *x = direct ? (const float *)(const void *)row + j0 : buf;
            if (!direct) cpu_vec_load_f32(jb->isa, src->dtype, row + j0 * sl, sl, buf, n);
            int64_t j = 0;
            if (h.n < k) { /* fill the heap with the first k elements */
                for (; j < n && h.n < k; j++, h.n++) h.v[h.n] = x[j], h.i[h.n] = j0 + j;
                if (h.n == k)
                    for (int64_t at = k / 2 - 1; at >= 0; at--) heap_sift_down(&h, at);
            }
            if (j < n) heap_offer(&h, x + j, n - j, j0 + j);
        }
        /* pop the worst into the last free slot: the heap's arrays end up in output order */
        for (int64_t end = k - 1; end > 0; end--) {
            float tv = h.v[0];
            int64_t ti = h.i[0];
            h.v[0] = h.v[end], h.i[0] = h.i[end];
            h.v[end] = tv, h.i[end] = ti;
            h.n = end;
            heap_sift_down(&h, 0);
        }
        char *out = accel_tensor_ptr(jb->dst) + (size_t)(r * k) * des;
        if (want_idx) {
            for (int64_t j = 0; j < k; j++) cpu_data_store_int(out + (size_t)j * des, ACCEL_I32, h.i[j]);
        } else {
            cpu_vec_store_f32(jb->isa, jb->dst->dtype, h.v, out, k);
        }
    }
}

static accel_status topk_compute(cpu_ctx *ctx, accel_tensor *dst) {
    topk_job jb = {.src = dst->src[0], .dst = dst, .isa = ctx->isa};
    const int nd = jb.src->ndim;
    jb.N = jb.src->shape[nd - 1];
    jb.k = dst->params[0];
    jb.rows = 1;
    for (int d = 0; d < nd - 1; d++) jb.rows *= jb.src->shape[d];
    if (jb.rows == 0) return ACCEL_OK;
    const int nth = cpu_data_nthreads(ctx);
    jb.scratch_per_thread = ((size_t)jb.k * sizeof(float) + 63) / 64 * 64 + ((size_t)jb.k * sizeof(int64_t) + 63) / 64 * 64;
    jb.scratch = cpu_scratch(ctx, jb.scratch_per_thread * (size_t)nth);
    if (!jb.scratch)
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "top_k: no scratch memory for k = %lld", (long long)jb.k);
    cpu_data_run(ctx, topk_task, &jb);
    return ACCEL_OK;
}

static bool topk_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    if (!a || !cpu_data_is_float(a->dtype) || a->ndim < 1 || dst->ndim != a->ndim) return false;
    const int nd = a->ndim;
    const int64_t k = dst->params[0];
    if (k < 1 || k > a->shape[nd - 1] || a->shape[nd - 1] > INT32_MAX) return false;
    if (dst->dtype != (dst->op == ACCEL_OP_TOP_K_INDICES ? ACCEL_I32 : a->dtype)) return false;
    for (int i = 0; i < nd; i++)
        if (dst->shape[i] != (i == nd - 1 ? k : a->shape[i])) return false;
    return accel_is_contiguous(dst);
}

void cpu_register_reduce(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_SUM] = (cpu_op_entry){reduce_compute, reduce_supports};
    table[ACCEL_OP_MEAN] = (cpu_op_entry){reduce_compute, reduce_supports};
    table[ACCEL_OP_MAX] = (cpu_op_entry){reduce_compute, reduce_supports};
    table[ACCEL_OP_ARGMAX] = (cpu_op_entry){reduce_compute, reduce_supports};
    table[ACCEL_OP_CUMSUM] = (cpu_op_entry){cumsum_compute, cumsum_supports};
    table[ACCEL_OP_TOP_K] = (cpu_op_entry){topk_compute, topk_supports};
    table[ACCEL_OP_TOP_K_INDICES] = (cpu_op_entry){topk_compute, topk_supports};
}
