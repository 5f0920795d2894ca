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
#include <stdlib.h>

#define REDUCE_CHUNK 1024 /* lanes (or row elements) per inner pass; the per-thread buffers live on the stack */

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

/* Max of x[0..n) (n >= 1) where a NaN wins: the row's first NaN is returned, bit for bit. */
static float max_nan(cpu_isa isa, const float *x, int64_t n) {
    bool nan = false;
    float r;
#if defined(__x86_64__) || defined(__i386__)
    if (isa == CPU_ISA_AVX512) r = cpu_max_f32_avx512(x, n, &nan);
    else if (isa == CPU_ISA_AVX2) r = cpu_max_f32_avx2(x, n, &nan);
    else
#endif
    {
        float m[8]; /* eight independent lanes */
        for (int t = 0; t < 8; t++) m[t] = -INFINITY;
        int64_t k = 0;
        for (; k + 8 <= n; k += 8)
            for (int t = 0; t < 8; t++) {
                nan |= x[k + t] != x[k + t];
                m[t] = x[k + t] > m[t] ? x[k + t] : m[t];
            }
        for (; k < n; k++) {
            nan |= x[k] != x[k];
            m[0] = x[k] > m[0] ? x[k] : m[0];
        }
        r = m[0];
        for (int t = 1; t < 8; t++) r = m[t] > r ? m[t] : r;
    }
    (void)isa;
    if (nan)
        for (int64_t k = 0; k < n; k++)
            if (x[k] != x[k]) return x[k];
    return r;
}

/* Index of the first element equal to v (the first NaN when v is NaN); n if none. */
static int64_t first_index_of(cpu_isa isa, const float *x, int64_t n, float v) {
    if (v == v) {
#if defined(__x86_64__) || defined(__i386__)
        if (isa == CPU_ISA_AVX512) return cpu_find_f32_avx512(x, n, v);
        if (isa == CPU_ISA_AVX2) return cpu_find_f32_avx2(x, n, v);
#endif
    }
    (void)isa;
    for (int64_t k = 0; k < n; k++)
        if (x[k] == v || (v != v && x[k] != x[k])) return k;
    return n;
}

/* Reducing the last dim: one result from R elements (stride r_stride) at p. */
static void reduce_row(const reduce_job *jb, const char *p, char *out, float *fbuf, int64_t *ibuf) {
    const accel_dtype dt = jb->src->dtype, odt = jb->dst->dtype;
    const int64_t R = jb->R;
    if (jb->ints) {
        uint64_t sum = 0;
        int64_t best = 0, arg = 0;
        for (int64_t k0 = 0; k0 < R; k0 += REDUCE_CHUNK) {
            const int64_t n = R - k0 < REDUCE_CHUNK ? R - k0 : REDUCE_CHUNK;
            load_ints(p + k0 * jb->r_stride, jb->r_stride, dt, n, ibuf);
            for (int64_t k = 0; k < n; k++) {
                sum += (uint64_t)ibuf[k];
                if (k0 + k == 0 || ibuf[k] > best) best = ibuf[k], arg = k0 + k;
            }
        }
        if (jb->op == ACCEL_OP_ARGMAX) cpu_data_store_int(out, ACCEL_I32, arg);
        else cpu_data_store_int(out, odt, jb->op == ACCEL_OP_MAX ? best : (int64_t)sum);
        return;
    }
    double sum = 0.0;
    float best = 0.0f;
    int64_t arg = 0;
    for (int64_t k0 = 0; k0 < R; k0 += REDUCE_CHUNK) {
        const int64_t n = R - k0 < REDUCE_CHUNK ? R - k0 : REDUCE_CHUNK;
        const float *x = cpu_vec_row_f32(jb->isa, dt, p + k0 * jb->r_stride, jb->r_stride, n, fbuf);
        if (jb->op == ACCEL_OP_SUM || jb->op == ACCEL_OP_MEAN) {
            double s, sq;
            cpu_vec_sum_sumsq_f64(jb->isa, x, n, &s, &sq);
            sum += s;
            continue;
        }
        const float cm = max_nan(jb->isa, x, n);
        /* an earlier chunk keeps ties; a NaN best is final */
        if (k0 == 0 || (best == best && (cm > best || cm != cm))) {
            best = cm;
            if (jb->op == ACCEL_OP_ARGMAX) arg = k0 + first_index_of(jb->isa, x, n, cm);
        }
    }
    switch (jb->op) {
    case ACCEL_OP_ARGMAX: cpu_data_store_int(out, ACCEL_I32, arg); break;
    case ACCEL_OP_MAX: cpu_data_store_float(out, odt, best); break;
    case ACCEL_OP_MEAN: cpu_data_store_float(out, odt, (float)(sum / (double)R)); break;
    default: cpu_data_store_float(out, odt, (float)sum); break;
    }
}

/* Reducing another dim: nl lanes (stride lane_stride) accumulated over R rows (stride r_stride) from p. */
static void reduce_lanes(const reduce_job *jb, const char *p, int64_t nl, char *out, float *fbuf, int64_t *ibuf) {
    const accel_dtype dt = jb->src->dtype, odt = jb->dst->dtype;
    const size_t des = accel_dtype_size(odt);
    double fsum[REDUCE_CHUNK];
    float fbest[REDUCE_CHUNK];
    int64_t ibest[REDUCE_CHUNK], arg[REDUCE_CHUNK];
    uint64_t isum[REDUCE_CHUNK];
    for (int64_t j = 0; j < nl; j++) fsum[j] = 0.0, isum[j] = 0, arg[j] = 0;
    for (int64_t k = 0; k < jb->R; k++) {
        const char *row = p + k * jb->r_stride;
        if (jb->ints) {
            load_ints(row, jb->lane_stride, dt, nl, ibuf);
            for (int64_t j = 0; j < nl; j++) {
                isum[j] += (uint64_t)ibuf[j];
                const bool take = k == 0 || ibuf[j] > ibest[j];
                ibest[j] = take ? ibuf[j] : ibest[j];
                arg[j] = take ? k : arg[j];
            }
            continue;
        }
        const float *x = cpu_vec_row_f32(jb->isa, dt, row, jb->lane_stride, nl, fbuf);
        if (jb->op == ACCEL_OP_SUM || jb->op == ACCEL_OP_MEAN) {
            for (int64_t j = 0; j < nl; j++) fsum[j] += x[j];
        } else if (k == 0) {
            for (int64_t j = 0; j < nl; j++) fbest[j] = x[j];
        } else {
            /* NaN sticks: once a lane's best is NaN nothing replaces it */
            for (int64_t j = 0; j < nl; j++) {
                const bool take = (fbest[j] == fbest[j]) & ((x[j] > fbest[j]) | (x[j] != x[j]));
                fbest[j] = take ? x[j] : fbest[j];
                arg[j] = take ? k : arg[j];
            }
        }
    }
    for (int64_t j = 0; j < nl; j++) {
        char *o = out + (size_t)j * des;
        if (jb->op == ACCEL_OP_ARGMAX) cpu_data_store_int(o, ACCEL_I32, arg[j]);
        else if (jb->ints) cpu_data_store_int(o, odt, jb->op == ACCEL_OP_MAX ? ibest[j] : (int64_t)isum[j]);
        else if (jb->op == ACCEL_OP_MAX) cpu_data_store_float(o, odt, fbest[j]);
        else cpu_data_store_float(o, odt, (float)(jb->op == ACCEL_OP_MEAN ? fsum[j] / (double)jb->R : fsum[j]));
    }
}

static void reduce_task(void *arg, int ith, int nth) {
    const reduce_job *jb = arg;
    const accel_tensor *src = jb->src;
    const size_t des = accel_dtype_size(jb->dst->dtype);
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
        if (jb->W == 1) reduce_row(jb, base, out, fbuf, ibuf);
        else reduce_lanes(jb, base, nl, out, fbuf, ibuf);
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
    float fbuf[REDUCE_CHUNK], obuf[REDUCE_CHUNK];
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
                    continue;
                }
                const float *x = cpu_vec_row_f32(jb->isa, dt, p, jb->r_stride, n, fbuf);
                float *y = dt == ACCEL_F32 ? (float *)(void *)q : obuf;
                int64_t k = 0;
                /* four at a time: their partial sums do not wait for the running total (one dependent add per
                 * four elements instead of four) */
                for (; k + 4 <= n; k += 4) {
                    const double p1 = x[k], p2 = p1 + x[k + 1], p3 = p2 + x[k + 2], p4 = p3 + x[k + 3];
                    y[k] = (float)(fs + p1);
                    y[k + 1] = (float)(fs + p2);
                    y[k + 2] = (float)(fs + p3);
                    y[k + 3] = (float)(fs + p4);
                    fs += p4;
                }
                for (; k < n; k++) y[k] = (float)(fs += x[k]);
                if (dt != ACCEL_F32) cpu_vec_store_f32(jb->isa, dt, obuf, q, n);
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
                continue;
            }
            const float *x = cpu_vec_row_f32(jb->isa, dt, p, jb->lane_stride, nl, fbuf);
            float *y = dt == ACCEL_F32 ? (float *)(void *)q : obuf;
            for (int64_t j = 0; j < nl; j++) {
                fsum[j] += x[j];
                y[j] = (float)fsum[j];
            }
            if (dt != ACCEL_F32) cpu_vec_store_f32(jb->isa, dt, obuf, q, nl);
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
 * Candidates better than a running threshold go to a buffer of 4k + 256 entries; when it fills, a quickselect
 * keeps the k best and their worst becomes the threshold. A long row (a vocabulary of 151936 logits, k = 50) is
 * then mostly one comparison per element (16 at a time with AVX-512), and even an ascending row costs O(N),
 * where a heap would pay log k per element. Candidates are 64-bit keys (order-preserving value bits above the
 * inverted index), so one integer comparison orders them exactly as the output must be: larger value first, NaN
 * above everything, ties by lower index. The k survivors are sorted at the end and their values copied from the
 * row. */
static inline uint64_t topk_key(float v, int64_t idx) {
    uint32_t b;
    memcpy(&b, &v, 4);
    if (v != v) b = 0xffffffffu;                     /* every NaN above +inf */
    else if (v == 0.0f) b = 0x80000000u;             /* -0 and +0 tie, as float comparison says */
    else b = (b & 0x80000000u) ? ~b : b | 0x80000000u; /* monotonic: negative values reversed */
    return (uint64_t)b << 32 | (uint32_t)~(uint32_t)idx;
}
static inline int64_t topk_key_index(uint64_t key) { return (int64_t)(uint32_t)~(uint32_t)key; }

static inline void key_swap(uint64_t *e, int64_t a, int64_t b) {
    const uint64_t t = e[a];
    e[a] = e[b];
    e[b] = t;
}

/* Reorders e[0..n) so that its k largest keys come first, the k-th largest at k - 1; k <= n. Keys are distinct
 * (indices differ), so plain Lomuto partitions around a median-of-three pivot suffice. */
static void topk_select(uint64_t *e, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    const int64_t target = k - 1;
    while (hi > lo) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (e[mid] > e[lo]) key_swap(e, mid, lo);
        if (e[hi] > e[lo]) key_swap(e, hi, lo);
        if (e[hi] > e[mid]) key_swap(e, hi, mid);
        key_swap(e, mid, hi); /* the median is the pivot, parked at hi */
        const uint64_t pv = e[hi];
        int64_t store = lo;
        for (int64_t x = lo; x < hi; x++)
            if (e[x] > pv) key_swap(e, x, store++);
        key_swap(e, store, hi);
        if (store == target) return;
        if (store < target) lo = store + 1;
        else hi = store - 1;
    }
}

static int key_desc_cmp(const void *pa, const void *pb) {
    const uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a > b ? -1 : a < b ? 1 : 0;
}

/* The first t >= from with !(x[t] <= thr), or n: most of a long row is skipped here, 8 or 16 at a time. */
static int64_t topk_skip(cpu_isa isa, const float *x, int64_t n, int64_t from, float thr) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa == CPU_ISA_AVX512) return from + cpu_topk_skip_avx512(x + from, n - from, thr);
    if (isa == CPU_ISA_AVX2) return from + cpu_topk_skip_avx2(x + from, n - from, thr);
#endif
    (void)isa;
    for (int64_t t = from; t < n; t++)
        if (!(x[t] <= thr)) return t;
    return n;
}

typedef struct topk_job {
    const accel_tensor *src;
    accel_tensor *dst;
    cpu_isa isa;
    int64_t rows, N, k, cap;
    char *scratch;
    size_t scratch_per_thread;
} topk_job;

#define TOPK_CHUNK 1024

static void topk_task(void *arg, int ith, int nth) {
    const topk_job *jb = arg;
    const accel_tensor *src = jb->src;
    const int nd = src->ndim;
    const int64_t N = jb->N, k = jb->k, cap = jb->cap, sl = src->stride[nd - 1];
    const bool want_idx = jb->dst->op == ACCEL_OP_TOP_K_INDICES;
    const size_t des = accel_dtype_size(jb->dst->dtype);
    uint64_t *buf = (uint64_t *)(void *)(jb->scratch + (size_t)ith * jb->scratch_per_thread);
    float chunk[TOPK_CHUNK];
    int64_t r0, r1;
    accel_split_range(jb->rows, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const char *row = accel_tensor_ptr(src) + cpu_data_row_offset(r, src->shape, src->stride, nd);
        const bool direct = src->dtype == ACCEL_F32 && sl == 4;
        int64_t n = 0;
        float thr = NAN; /* no threshold yet: "v <= NaN" is false, so everything is taken */
        for (int64_t j0 = 0; j0 < N; j0 += TOPK_CHUNK) {
            const int64_t m = N - j0 < TOPK_CHUNK ? N - j0 : TOPK_CHUNK;
            const float *x = direct ? (const float *)(const void *)row + j0 : chunk;
            if (!direct) cpu_vec_load_f32(jb->isa, src->dtype, row + j0 * sl, sl, chunk, m);
            for (int64_t t = 0; t < m; t++) {
                /* equal values come later than the threshold's own element, so they rank after it: skipped */
                if (x[t] <= thr) {
                    t = topk_skip(jb->isa, x, m, t + 1, thr);
                    if (t == m) break;
                }
                buf[n++] = topk_key(x[t], j0 + t);
                if (n == cap) {
                    topk_select(buf, n, k);
                    n = k;
                    uint32_t tb = (uint32_t)(buf[k - 1] >> 32); /* the k-th best value, decoded */
                    if (tb == 0xffffffffu) {
                        thr = NAN; /* NaNs fill the top k: keep taking everything */
                    } else {
                        tb = (tb & 0x80000000u) ? tb & 0x7fffffffu : ~tb;
                        memcpy(&thr, &tb, 4);
                    }
                }
            }
        }
        if (n > k) topk_select(buf, n, k);
        qsort(buf, (size_t)k, sizeof *buf, key_desc_cmp);
        char *out = accel_tensor_ptr(jb->dst) + (size_t)(r * k) * des;
        if (want_idx) {
            for (int64_t j = 0; j < k; j++)
                cpu_data_store_int(out + (size_t)j * des, ACCEL_I32, topk_key_index(buf[j]));
        } else { /* the values, bit for bit, from the row */
            for (int64_t j = 0; j < k; j++) memcpy(out + (size_t)j * des, row + topk_key_index(buf[j]) * sl, des);
        }
    }
}

static accel_status topk_compute(cpu_ctx *ctx, accel_tensor *dst) {
    topk_job jb = {.src = dst->src[0], .dst = dst, .isa = ctx->isa};
    const int nd = jb.src->ndim;
    jb.N = jb.src->shape[nd - 1];
    jb.k = dst->params[0];
    jb.cap = 4 * jb.k + 256;
    jb.rows = 1;
    for (int d = 0; d < nd - 1; d++) jb.rows *= jb.src->shape[d];
    if (jb.rows == 0) return ACCEL_OK;
    const int nth = cpu_data_nthreads(ctx);
    jb.scratch_per_thread = ((size_t)jb.cap * sizeof(uint64_t) + 63) / 64 * 64;
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
