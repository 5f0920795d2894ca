/* CPU scaled-dot-product attention, flash-attention style: q [B, Hq, Sq, D], k [B, Hkv, Skv, D],
 * v [B, Hkv, Skv, Dv], optional additive mask broadcast to [B, Hq, Sq, Skv] -> [B, Hq, Sq, Dv].
 *
 * Keys are visited in tiles with an online softmax (running max m, running sum l, output rescaled by
 * exp(m_old - m_new)), so the Sq x Skv score matrix is never materialized. Work units:
 *
 *  - Prefill (Sq > 1): a unit is up to 64 query rows that share one kv head: the rows of the G = Hq / Hkv query
 *    heads of a GQA group, query-major, so each K/V tile is read once for all of them. Per key tile two small
 *    GEMMs run on the ISA's register-tiled kernel: S^T[key, row] = K_tile . Q^T (Q^T is packed and pre-scaled once
 *    per unit, K rows are used in place when they are f32), then O[row, :] += P . V_tile (V rows in place when f32
 *    with contiguous rows). The softmax update works on S^T's columns, vectorized over the query rows.
 *  - Decode (Sq == 1) without GQA: a unit is one query row; scores are dot products of q with the K rows read in
 *    their own dtype, and V rows are accumulated into o with broadcast FMAs. With GQA the G query heads of a kv
 *    head decode together as one prefill-style unit of G rows (K/V read once for the group).
 *
 * Causal and sliding-window visibility limit each unit to the key range its rows can see (tiles outside are
 * never read) and hide the rest with -inf inside boundary tiles. When there are fewer units than threads and the
 * key range is long (decode with a long cache), each unit's key range is split into chunks computed in parallel
 * and merged afterwards (flash-decoding). Units are handed out dynamically (an atomic counter), heaviest first,
 * because causal units differ in length. A query that sees no key gives zeros.
 *
 * f16/bf16 inputs are converted to f32 as they are read (K/V tiles row by row); results are rounded once to the
 * output dtype. Hidden keys have probability exactly 0, but in the SIMD paths a non-finite V value of a hidden
 * key within a visited tile still poisons the output (0 * inf): KV caches must hold finite values.
 */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>

const cpu_attn_kernels *cpu_attn_kernels_for(cpu_isa isa) {
#if CPU_ATTN_X86
    if (isa == CPU_ISA_AVX512) return &cpu_attn_kernels_avx512;
    if (isa == CPU_ISA_AVX2) return &cpu_attn_kernels_avx2;
#endif
    (void)isa;
    return &cpu_attn_kernels_portable;
}

#define ATTN_ROWS_MAX 64 /* query rows per prefill unit: Q^T, S^T and O stay in L1/L2 */
#define ATTN_ROWS_MIN 16 /* below this the GEMM tiles run mostly empty */
#define ATTN_BK_GEMM 64  /* keys per tile, units of more than 16 rows */
#define ATTN_BK_DOT 256  /* keys per tile, decode and units of up to 16 rows */
#define ATTN_SPLIT_MIN 512 /* shortest key chunk worth a task of its own */

typedef struct attn_job {
    const accel_tensor *q, *k, *v, *mask;
    accel_tensor *dst;
    const cpu_attn_kernels *kern;
    cpu_isa isa;
    float scale;
    bool causal;
    int64_t window;
    int64_t B, Hq, Hkv, G, Sq, Skv, D, Dv;
    int64_t ms[4];          /* mask byte strides broadcast to [B, Hq, Sq, Skv] (0 on broadcast dims) */
    bool dot;               /* decode units (one row) with the dot-product kernels */
    int64_t BR, BRp, BK;    /* rows per unit, BR rounded up to 16, keys per tile */
    int64_t rows_per_group; /* G * Sq rows share one (batch, kv head) */
    int64_t n_rb, n_units, n_chunks;
    char *scratch;
    size_t per_thread;      /* bytes of scratch per thread */
    float *partial;         /* per (unit, chunk): m[BR], l[BR], o[BR][Dv]; only when n_chunks > 1 */
    int64_t partial_stride; /* floats */
    atomic_llong next;      /* next (unit, chunk) task */
} attn_job;

/* Per-thread workspace, carved from the scratch. */
typedef struct attn_ws {
    float *qt;   /* prefill: Q^T [D][BRp], scaled; decode: q [D], scaled */
    float *s;    /* scores / probabilities: prefill [BK][BRp], decode [BK] */
    float *o;    /* unnormalized output [BR][Dv] */
    float *m, *l, *corr; /* [BRp] */
    float *kp, *vp;      /* K / V tiles converted to f32: [BK][D], [BK][Dv] */
    float *tmp;          /* one row: max(D, Dv, BK) */
    int64_t *h, *i, *lo, *hi; /* per row: query head, query index, visible key range [lo, hi) */
    const char **mrow;        /* per row: mask row for (b, h, i), or NULL */
} attn_ws;

static int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

static size_t attn_ws_floats(const attn_job *j) {
    const int64_t BRp = j->BRp, BK = j->BK, D = j->D, Dv = j->Dv;
    int64_t tmp = D > Dv ? D : Dv;
    tmp = tmp > BK ? tmp : BK;
    return (size_t)(round16(D * BRp) + round16(BK * BRp) + round16(BRp * Dv) + 3 * round16(BRp) + round16(BK * D) +
                    round16(BK * Dv) + round16(tmp) + 4 * round16(2 * BRp) + round16(2 * BRp));
}

static attn_ws attn_ws_at(const attn_job *j, int ith) {
    float *p = (float *)(void *)(j->scratch + (size_t)ith * j->per_thread);
    const int64_t BRp = j->BRp, BK = j->BK, D = j->D, Dv = j->Dv;
    int64_t tmp = D > Dv ? D : Dv;
    tmp = tmp > BK ? tmp : BK;
    attn_ws w;
#define TAKE(n) (p += round16(n), p - round16(n))
    w.qt = TAKE(D * BRp);
    w.s = TAKE(BK * BRp);
    w.o = TAKE(BRp * Dv);
    w.m = TAKE(BRp);
    w.l = TAKE(BRp);
    w.corr = TAKE(BRp);
    w.kp = TAKE(BK * D);
    w.vp = TAKE(BK * Dv);
    w.tmp = TAKE(tmp);
    w.h = (int64_t *)(void *)TAKE(2 * BRp);
    w.i = (int64_t *)(void *)TAKE(2 * BRp);
    w.lo = (int64_t *)(void *)TAKE(2 * BRp);
    w.hi = (int64_t *)(void *)TAKE(2 * BRp);
    w.mrow = (const char **)(void *)TAKE(2 * BRp);
#undef TAKE
    return w;
}

/* Unit u: batch b, kv head kvh and its rows [r0, r0 + nr) of the group's G * Sq query rows (query-major).
 * Later row blocks see more keys under causal masking, so they are numbered first. */
static void attn_unit(const attn_job *j, int64_t u, int64_t *b, int64_t *kvh, int64_t *r0, int64_t *nr) {
    const int64_t bh = j->B * j->Hkv;
    const int64_t rb = j->n_rb - 1 - u / bh;
    *b = (u % bh) / j->Hkv;
    *kvh = (u % bh) % j->Hkv;
    *r0 = rb * j->BR;
    *nr = j->rows_per_group - *r0 < j->BR ? j->rows_per_group - *r0 : j->BR;
}

/* Fills the per-row metadata of a unit; returns the union [*klo, *khi) of the rows' visible key ranges. */
static void attn_rows(const attn_job *j, attn_ws *w, int64_t b, int64_t kvh, int64_t r0, int64_t nr, int64_t *klo,
                      int64_t *khi) {
    *klo = j->Skv;
    *khi = 0;
    for (int64_t r = 0; r < nr; r++) {
        const int64_t gr = r0 + r, i = gr / j->G, h = kvh * j->G + gr % j->G;
        const int64_t pos = i + j->Skv - j->Sq;
        int64_t lo = 0, hi = j->Skv;
        if (j->causal && pos + 1 < hi) hi = pos + 1 > 0 ? pos + 1 : 0;
        if (j->window > 0 && pos - j->window + 1 > lo) lo = pos - j->window + 1;
        if (hi < lo) hi = lo;
        w->h[r] = h, w->i[r] = i, w->lo[r] = lo, w->hi[r] = hi;
        w->mrow[r] = j->mask ? accel_tensor_ptr(j->mask) + b * j->ms[0] + h * j->ms[1] + i * j->ms[2] : NULL;
        if (hi > lo) {
            *klo = lo < *klo ? lo : *klo;
            *khi = hi > *khi ? hi : *khi;
        }
    }
    if (*khi < *klo) *khi = *klo;
}

/* Adds mask row r's values for keys [j0, j0 + n) to column r of the key-major tile s (leading dim ld). */
static void attn_add_mask(const attn_job *j, attn_ws *w, int64_t r, int64_t j0, int64_t n, float *s, int64_t ld) {
    cpu_vec_load_f32(j->isa, j->mask->dtype, w->mrow[r] + j0 * j->ms[3], j->ms[3], w->tmp, n);
    for (int64_t x = 0; x < n; x++) s[x * ld] += w->tmp[x];
}

/* Decode: one query row over keys [k0, k1). */
static void attn_dot_tiles(const attn_job *j, attn_ws *w, int64_t b, int64_t kvh, int64_t k0, int64_t k1) {
    const cpu_attn_kernels *kn = j->kern;
    const accel_tensor *q = j->q, *k = j->k, *v = j->v;
    const char *qrow = accel_tensor_ptr(q) + b * q->stride[0] + w->h[0] * q->stride[1] + w->i[0] * q->stride[2];
    cpu_vec_load_f32(j->isa, q->dtype, qrow, q->stride[3], w->qt, j->D);
    for (int64_t d = 0; d < j->D; d++) w->qt[d] *= j->scale;
    const char *kb = accel_tensor_ptr(k) + b * k->stride[0] + kvh * k->stride[1];
    const char *vb = accel_tensor_ptr(v) + b * v->stride[0] + kvh * v->stride[1];
    float m = -INFINITY, l = 0.0f;
    for (int64_t j0 = k0; j0 < k1; j0 += j->BK) {
        const int64_t n = k1 - j0 < j->BK ? k1 - j0 : j->BK;
        kn->scores(w->qt, kb + j0 * k->stride[2], k->stride[2], k->stride[3], k->dtype, j->D, n, w->s);
        if (j->mask) attn_add_mask(j, w, 0, j0, n, w->s, 1);
        const float mt = kn->row_max(w->s, n);
        const float mn = mt > m ? mt : m;
        const float mu = mn == -INFINITY ? 0.0f : mn;
        const float sum = kn->exp_sum(w->s, n, mu);
        const float corr = expf(m - mu);
        l = l * corr + sum;
        m = mn;
        if (corr != 1.0f)
            for (int64_t e = 0; e < j->Dv; e++) w->o[e] *= corr;
        kn->accum(w->o, w->s, vb + j0 * v->stride[2], v->stride[2], v->stride[3], v->dtype, j->Dv, n);
    }
    w->m[0] = m;
    w->l[0] = l;
}

/* f32 rows usable in place: aligned base and float-multiple strides. */
static bool f32_in_place(const accel_tensor *t, const char *base) {
    return t->dtype == ACCEL_F32 && (uintptr_t)base % 4 == 0 && t->stride[2] % 4 == 0 && t->stride[3] % 4 == 0;
}

/* Prefill: nr query rows (a GQA group's rows) over keys [k0, k1). */
static void attn_gemm_tiles(const attn_job *j, attn_ws *w, int64_t b, int64_t kvh, int64_t nr, int64_t k0,
                            int64_t k1) {
    const cpu_attn_kernels *kn = j->kern;
    const accel_tensor *q = j->q, *k = j->k, *v = j->v;
    const int64_t BRp = j->BRp, D = j->D, Dv = j->Dv;
    /* Q^T, pre-scaled; padding columns are zero */
    for (int64_t r = 0; r < BRp; r++) {
        if (r < nr) {
            const char *qrow = accel_tensor_ptr(q) + b * q->stride[0] + w->h[r] * q->stride[1] + w->i[r] * q->stride[2];
            cpu_vec_load_f32(j->isa, q->dtype, qrow, q->stride[3], w->tmp, D);
            for (int64_t d = 0; d < D; d++) w->qt[d * BRp + r] = w->tmp[d] * j->scale;
        } else {
            for (int64_t d = 0; d < D; d++) w->qt[d * BRp + r] = 0.0f;
        }
    }
    /* rows are query-major, so the first row has the smallest visible range and the last the largest */
    int64_t lo_max = 0, hi_min = j->Skv;
    for (int64_t r = 0; r < nr; r++) {
        lo_max = w->lo[r] > lo_max ? w->lo[r] : lo_max;
        hi_min = w->hi[r] < hi_min ? w->hi[r] : hi_min;
    }
    const char *kb = accel_tensor_ptr(k) + b * k->stride[0] + kvh * k->stride[1];
    const char *vb = accel_tensor_ptr(v) + b * v->stride[0] + kvh * v->stride[1];
    const bool k_direct = f32_in_place(k, kb);
    const bool v_direct = f32_in_place(v, vb) && v->stride[3] == 4;
    for (int64_t j0 = k0; j0 < k1; j0 += j->BK) {
        const int64_t n = k1 - j0 < j->BK ? k1 - j0 : j->BK;
        /* S^T = K_tile . Q^T */
        const char *kt = kb + j0 * k->stride[2];
        if (k_direct) {
            kn->gemm(n, BRp, D, (const float *)(const void *)kt, k->stride[2] / 4, k->stride[3] / 4, w->qt, BRp, w->s,
                     BRp, false);
        } else {
            for (int64_t x = 0; x < n; x++)
                cpu_vec_load_f32(j->isa, k->dtype, kt + x * k->stride[2], k->stride[3], w->kp + x * D, D);
            kn->gemm(n, BRp, D, w->kp, D, 1, w->qt, BRp, w->s, BRp, false);
        }
        if (j->mask)
            for (int64_t r = 0; r < nr; r++) attn_add_mask(j, w, r, j0, n, w->s + r, BRp);
        if (j0 < lo_max || j0 + n > hi_min) { /* a boundary tile: hide what each row may not see */
            for (int64_t r = 0; r < nr; r++) {
                for (int64_t x = j0; x < j0 + n && x < w->lo[r]; x++) w->s[(x - j0) * BRp + r] = -INFINITY;
                for (int64_t x = w->hi[r] > j0 ? w->hi[r] : j0; x < j0 + n; x++) w->s[(x - j0) * BRp + r] = -INFINITY;
            }
        }
        kn->softmax_tile(w->s, n, BRp, BRp, w->m, w->l, w->corr);
        for (int64_t r = 0; r < nr; r++)
            if (w->corr[r] != 1.0f)
                for (int64_t e = 0; e < Dv; e++) w->o[r * Dv + e] *= w->corr[r];
        /* O += P . V_tile, P read column-wise from S^T */
        const char *vt = vb + j0 * v->stride[2];
        if (v_direct) {
            kn->gemm(nr, Dv, n, w->s, 1, BRp, (const float *)(const void *)vt, v->stride[2] / 4, w->o, Dv, true);
        } else {
            for (int64_t x = 0; x < n; x++)
                cpu_vec_load_f32(j->isa, v->dtype, vt + x * v->stride[2], v->stride[3], w->vp + x * Dv, Dv);
            kn->gemm(nr, Dv, n, w->s, 1, BRp, w->vp, Dv, w->o, Dv, true);
        }
    }
}

/* Writes o / l of row r to dst (zeros when nothing was visible). */
static void attn_store_row(const attn_job *j, attn_ws *w, int64_t b, int64_t r, const float *o, float l) {
    const float inv = l == 0.0f ? 0.0f : 1.0f / l;
    for (int64_t e = 0; e < j->Dv; e++) w->tmp[e] = o[e] * inv;
    const size_t es = accel_dtype_size(j->dst->dtype);
    char *out = accel_tensor_ptr(j->dst) + (size_t)(((b * j->Hq + w->h[r]) * j->Sq + w->i[r]) * j->Dv) * es;
    cpu_vec_store_f32(j->isa, j->dst->dtype, w->tmp, out, j->Dv);
}

static void attn_run(const attn_job *j, attn_ws *w, int64_t task) {
    const int64_t u = task / j->n_chunks, c = task % j->n_chunks;
    int64_t b, kvh, r0, nr, klo, khi;
    attn_unit(j, u, &b, &kvh, &r0, &nr);
    attn_rows(j, w, b, kvh, r0, nr, &klo, &khi);
    /* this task's share of the unit's key range */
    const int64_t len = (khi - klo + j->n_chunks - 1) / j->n_chunks;
    int64_t k0 = klo + c * len, k1 = k0 + len;
    if (k1 > khi) k1 = khi;
    if (k0 > k1) k0 = k1;
    for (int64_t r = 0; r < j->BRp; r++) w->m[r] = -INFINITY, w->l[r] = 0.0f;
    memset(w->o, 0, (size_t)(nr * j->Dv) * sizeof(float));
    if (j->dot) attn_dot_tiles(j, w, b, kvh, k0, k1);
    else attn_gemm_tiles(j, w, b, kvh, nr, k0, k1);
    if (j->n_chunks == 1) {
        for (int64_t r = 0; r < nr; r++) attn_store_row(j, w, b, r, w->o + r * j->Dv, w->l[r]);
        return;
    }
    float *p = j->partial + task * j->partial_stride;
    memcpy(p, w->m, (size_t)nr * sizeof(float));
    memcpy(p + j->BR, w->l, (size_t)nr * sizeof(float));
    memcpy(p + 2 * j->BR, w->o, (size_t)(nr * j->Dv) * sizeof(float));
}

static void attn_task(void *arg, int ith, int nth) {
    (void)nth;
    attn_job *j = arg;
    attn_ws w = attn_ws_at(j, ith);
    const long long total = (long long)(j->n_units * j->n_chunks);
    for (;;) {
        const long long t = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= total) break;
        attn_run(j, &w, t);
    }
}

/* Merges the chunks of each unit: weights exp(m_c - max m), then o / l. */
static void attn_combine_task(void *arg, int ith, int nth) {
    const attn_job *j = arg;
    attn_ws w = attn_ws_at(j, ith);
    int64_t u0, u1;
    accel_split_range(j->n_units, ith, nth, &u0, &u1);
    for (int64_t u = u0; u < u1; u++) {
        int64_t b, kvh, r0, nr, klo, khi;
        attn_unit(j, u, &b, &kvh, &r0, &nr);
        attn_rows(j, &w, b, kvh, r0, nr, &klo, &khi);
        const float *base = j->partial + u * j->n_chunks * j->partial_stride;
        for (int64_t r = 0; r < nr; r++) {
            float M = -INFINITY;
            for (int64_t c = 0; c < j->n_chunks; c++) {
                const float mc = base[c * j->partial_stride + r];
                M = mc > M ? mc : M;
            }
            float L = 0.0f;
            for (int64_t e = 0; e < j->Dv; e++) w.o[e] = 0.0f;
            if (M != -INFINITY) {
                for (int64_t c = 0; c < j->n_chunks; c++) {
                    const float *pc = base + c * j->partial_stride;
                    const float wc = expf(pc[r] - M);
                    if (wc == 0.0f) continue;
                    L += pc[j->BR + r] * wc;
                    const float *oc = pc + 2 * j->BR + r * j->Dv;
                    for (int64_t e = 0; e < j->Dv; e++) w.o[e] += oc[e] * wc;
                }
            }
            attn_store_row(j, &w, b, r, w.o, L);
        }
    }
}

static accel_status attention_compute(cpu_ctx *ctx, accel_tensor *dst) {
    attn_job *j = &(attn_job){.q = dst->src[0], .k = dst->src[1], .v = dst->src[2], .mask = dst->src[3], .dst = dst};
    j->isa = ctx->isa;
    j->kern = cpu_attn_kernels_for(ctx->isa);
    j->scale = accel_param_f32(dst, 0);
    j->causal = dst->params[1] != 0;
    j->window = dst->params[2];
    j->B = j->q->shape[0], j->Hq = j->q->shape[1], j->Sq = j->q->shape[2], j->D = j->q->shape[3];
    j->Hkv = j->k->shape[1], j->Skv = j->k->shape[2], j->Dv = j->v->shape[3];
    j->G = j->Hq / j->Hkv;
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    if (j->mask) {
        const accel_tensor *m = j->mask;
        for (int i = 0; i < 4; i++) {
            const int mi = i - (4 - m->ndim);
            j->ms[i] = mi >= 0 && m->shape[mi] != 1 ? m->stride[mi] : 0;
        }
    }

    /* blocking */
    const int nth = cpu_data_nthreads(ctx);
    j->rows_per_group = j->G * j->Sq;
    /* decode with one query head per kv head: dot products. A GQA group decodes faster as a unit of G rows on
     * the GEMM kernels, which read each K/V row once for the whole group (measured 3.3x for G = 7). */
    j->dot = j->Sq == 1 && j->G == 1;
    if (j->dot) {
        j->BR = 1;
    } else {
        j->BR = j->rows_per_group < ATTN_ROWS_MAX ? j->rows_per_group : ATTN_ROWS_MAX;
        /* smaller units when there are not enough of them for every thread */
        while (j->BR > ATTN_ROWS_MIN && j->B * j->Hkv * ((j->rows_per_group + j->BR - 1) / j->BR) < nth)
            j->BR = (j->BR + 1) / 2;
    }
    j->BRp = round16(j->BR);
    j->BK = j->dot || j->BRp <= 16 ? ATTN_BK_DOT : ATTN_BK_GEMM;
    j->n_rb = (j->rows_per_group + j->BR - 1) / j->BR;
    j->n_units = j->B * j->Hkv * j->n_rb;
    j->n_chunks = 1;
    if (nth > 1 && j->n_units < 2 * nth) {
        int64_t want = (2 * nth + j->n_units - 1) / j->n_units, most = j->Skv / ATTN_SPLIT_MIN;
        j->n_chunks = want < most ? want : most;
        if (j->n_chunks < 1) j->n_chunks = 1;
    }

    /* scratch: per-thread workspaces, then the chunk partials */
    j->per_thread = (attn_ws_floats(j) * sizeof(float) + 63) / 64 * 64;
    j->partial_stride = j->BR * (j->Dv + 2);
    const size_t partial_bytes =
        j->n_chunks > 1 ? (size_t)(j->n_units * j->n_chunks * j->partial_stride) * sizeof(float) : 0;
    j->scratch = cpu_scratch(ctx, j->per_thread * (size_t)nth + partial_bytes);
    if (!j->scratch)
        return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "attention: no scratch memory (%zu bytes)",
                               j->per_thread * (size_t)nth + partial_bytes);
    j->partial = (float *)(void *)(j->scratch + j->per_thread * (size_t)nth);
    atomic_init(&j->next, 0);
    cpu_data_run(ctx, attn_task, j);
    if (j->n_chunks > 1) cpu_data_run(ctx, attn_combine_task, j);
    return ACCEL_OK;
}

static bool attention_supports(const accel_tensor *dst) {
    const accel_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    if (!q || !k || !v || !cpu_data_is_float(q->dtype) || !cpu_data_is_float(k->dtype) || !cpu_data_is_float(v->dtype))
        return false;
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4 || dst->ndim != 4 || dst->dtype != q->dtype) return false;
    const int64_t B = q->shape[0], Hq = q->shape[1], Sq = q->shape[2], D = q->shape[3];
    const int64_t Hkv = k->shape[1], Skv = k->shape[2];
    if (k->shape[0] != B || v->shape[0] != B || v->shape[1] != Hkv || v->shape[2] != Skv || k->shape[3] != D)
        return false;
    if (Hkv <= 0 || Hq % Hkv != 0) return false;
    const int64_t want[4] = {B, Hq, Sq, v->shape[3]};
    if (!cpu_data_has_shape(dst, 4, want) || !accel_is_contiguous(dst)) return false;
    if (mask) {
        const accel_tensor full = {.ndim = 4, .shape = {B, Hq, Sq, Skv}};
        if (!cpu_data_is_float(mask->dtype) || !accel_can_broadcast(mask, &full)) return false;
    }
    return (dst->params[1] == 0 || dst->params[1] == 1) && dst->params[2] >= 0;
}

void cpu_register_attention(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_ROPE] = (cpu_op_entry){cpu_rope_compute, cpu_rope_supports};
    table[ACCEL_OP_ATTENTION] = (cpu_op_entry){attention_compute, attention_supports};
}
