/* CPU MATMUL, CONV1D and CONV2D kernels (the GEMM engine) against plain double-precision loops written here, at
 * every ISA level this machine has (portable, AVX2, AVX-512), with 1 and 3 threads, and with the OpenBLAS path
 * both off and forced on (when the build has OpenBLAS).
 *
 * Nodes are built by hand (accel_tensor structs over malloc'ed memory: row-major, transposed, permuted, strided
 * and broadcast views) and computed through the op tables filled by cpu_register_matmul / cpu_register_conv,
 * exactly as the CPU device calls them.
 *
 * Limits. Every output element must lie within the rigorous bound of f32 accumulation in any order plus the final
 * rounding:  |out - ref| <= u_out * |ref| + K * 2^-23 * sum_k |a_k * b_k|   (ref and the sum in double, from the
 * stored input values; u_out = 2^-24 f32, 2^-11 f16, 2^-8 bf16). A single wrong element fails it. The normalized
 * MSE  sum (out - ref)^2 / sum ref^2  must also stay below 1e-10 (f32 output), 1e-6 (f16), 2e-5 (bf16); the
 * largest observed values (printed at the end) are about 1e-11, 8e-8 and 5e-6.
 *
 * `test_cpu_matmul --bench` instead prints GFLOP/s of the built-in engine and of OpenBLAS (cblas_sgemm) for model
 * shapes with 2 threads (timings are never part of the pass/fail run).
 */
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/gemm.h"
#include "core/tensor.h"
#include "kernel_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- hand-built tensors (kt_track-ed: kt_free_all() frees a case's tensors) ------------------------------------ */
static accel_tensor *tensor_struct(void) { return kt_track(calloc(1, sizeof(accel_tensor))); }

/* Contiguous tensor filled with uniform [-1, 1) values (stored in dt). */
static accel_tensor *tnew(accel_dtype dt, int nd, const int64_t *shape) {
    accel_tensor *t = tensor_struct();
    const int64_t es = (int64_t)accel_dtype_size(dt), st = kt_contiguous(t, dt, nd, shape);
    t->data = kt_track(malloc((size_t)(st > 0 ? st : 1)));
    for (int64_t i = 0; i < st / es; i++) accel_store_f64((char *)t->data + i * es, dt, kt_srand1());
    return t;
}

/* View of base with dims permuted: view dim i = base dim perm[i]. */
static accel_tensor *tperm(const accel_tensor *base, const int *perm) {
    accel_tensor *t = tensor_struct();
    *t = *base;
    for (int i = 0; i < base->ndim; i++) {
        t->shape[i] = base->shape[perm[i]];
        t->stride[i] = base->stride[perm[i]];
    }
    return t;
}

/* A tensor of `shape` stored so that `perm` of it is contiguous: i.e. a permuted view of a contiguous tensor whose
 * dim i has size shape[inv...]. store_order[j] = which view dim is the j-th (outermost first) in memory. */
static accel_tensor *tnew_layout(accel_dtype dt, int nd, const int64_t *shape, const int *store_order) {
    int64_t sshape[ACCEL_MAX_DIMS];
    int perm[ACCEL_MAX_DIMS] = {0};
    for (int j = 0; j < nd; j++) sshape[j] = shape[store_order[j]];
    accel_tensor *base = tnew(dt, nd, sshape);
    for (int j = 0; j < nd; j++) perm[store_order[j]] = j;
    return tperm(base, perm);
}

/* Every other element along the last dim (a strided view over a buffer twice as wide). */
static accel_tensor *tnew_strided(accel_dtype dt, int nd, const int64_t *shape) {
    int64_t wide[ACCEL_MAX_DIMS];
    memcpy(wide, shape, sizeof(int64_t) * (size_t)nd);
    wide[nd - 1] *= 2;
    accel_tensor *base = tnew(dt, nd, wide);
    accel_tensor *t = tensor_struct();
    *t = *base;
    t->shape[nd - 1] = shape[nd - 1];
    t->stride[nd - 1] *= 2;
    return t;
}

static accel_tensor *tout(accel_dtype dt, int nd, const int64_t *shape, accel_op op) {
    accel_tensor *t = tensor_struct();
    const int64_t st = kt_contiguous(t, dt, nd, shape);
    t->data = kt_track(malloc((size_t)(st > 0 ? st : 1)));
    memset(t->data, 0xff, (size_t)st); /* NaN pattern: an element the kernel forgets to write fails the check */
    t->op = op;
    return t;
}

static double load_at(const accel_tensor *t, int64_t off) {
    return accel_load_f64((const char *)t->data + off, t->dtype);
}

static double unit_roundoff(accel_dtype dt) {
    return dt == ACCEL_F16 ? ldexp(1.0, -11) : dt == ACCEL_BF16 ? ldexp(1.0, -8) : ldexp(1.0, -24);
}
static double nmse_limit(accel_dtype dt) { return dt == ACCEL_F16 ? 1e-6 : dt == ACCEL_BF16 ? 2e-5 : 1e-10; }

/* Largest NMSE seen per output dtype (f32, f16, bf16), printed at the end. */
static double g_worst_nmse[3];
static void note_nmse(accel_dtype dt, double nmse) {
    const int i = dt == ACCEL_F16 ? 1 : dt == ACCEL_BF16 ? 2 : 0;
    if (nmse > g_worst_nmse[i]) g_worst_nmse[i] = nmse;
}

/* Accumulates one element's comparison; returns false if it breaks the rigorous bound. */
typedef struct cmp_stats {
    double err2, ref2;
    int64_t bad;
    double worst_excess; /* largest |err| / bound */
} cmp_stats;

static void cmp_element(cmp_stats *s, double out, double ref, double abs_sum, int64_t k, accel_dtype dt) {
    const double bound = unit_roundoff(dt) * fabs(ref) + (double)(k + 1) * ldexp(1.0, -23) * abs_sum + 1e-30;
    const double err = fabs(out - ref);
    s->err2 += (out - ref) * (out - ref);
    s->ref2 += ref * ref;
    if (!(err <= bound)) s->bad++;
    if (err / bound > s->worst_excess || out != out) s->worst_excess = out != out ? INFINITY : err / bound;
}

static cpu_op_entry g_table[ACCEL_OP_COUNT];

/* ---- matmul reference -------------------------------------------------------------------------------------------- */

static int64_t batch_offset(const accel_tensor *t, const int64_t *idx, int nb) {
    const int tb = t->ndim - 2;
    int64_t off = 0;
    for (int i = 0; i < tb; i++)
        if (t->shape[i] != 1) off += idx[nb - tb + i] * t->stride[i];
    return off;
}

static void check_matmul(const char *what, const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int nd = dst->ndim, nb = nd - 2;
    const int64_t M = dst->shape[nd - 2], N = dst->shape[nd - 1], K = a->shape[a->ndim - 1];
    const int64_t sam = a->stride[a->ndim - 2], sak = a->stride[a->ndim - 1];
    const int64_t sbk = b->stride[b->ndim - 2], sbn = b->stride[b->ndim - 1];
    cmp_stats s = {0};
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    int64_t nbatch = 1;
    for (int i = 0; i < nb; i++) nbatch *= dst->shape[i];
    for (int64_t t = 0; t < nbatch; t++) {
        int64_t r = t, d0 = 0;
        for (int i = nb - 1; i >= 0; i--) {
            idx[i] = r % dst->shape[i];
            r /= dst->shape[i];
            d0 += idx[i] * dst->stride[i];
        }
        const int64_t a0 = batch_offset(a, idx, nb), b0 = batch_offset(b, idx, nb);
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double acc = 0, abs_sum = 0;
                for (int64_t k = 0; k < K; k++) {
                    const double prod = load_at(a, a0 + m * sam + k * sak) * load_at(b, b0 + k * sbk + n * sbn);
                    acc += prod;
                    abs_sum += fabs(prod);
                }
                const double out = load_at(dst, d0 + m * dst->stride[nd - 2] + n * dst->stride[nd - 1]);
                cmp_element(&s, out, acc, abs_sum, K, dst->dtype);
            }
    }
    const double nmse = s.ref2 > 0 ? s.err2 / s.ref2 : s.err2;
    note_nmse(dst->dtype, nmse);
    CHECK(s.bad == 0 && nmse <= nmse_limit(dst->dtype), "%s: %lld elements outside the bound (worst %.3g x bound), "
          "nmse %.3g (limit %.1g)", what, (long long)s.bad, s.worst_excess, nmse, nmse_limit(dst->dtype));
}

static void run_matmul(cpu_ctx *ctx, const char *what, accel_tensor *a, accel_tensor *b) {
    int64_t shape[ACCEL_MAX_DIMS];
    const int nd = a->ndim > b->ndim ? a->ndim : b->ndim, nb = nd - 2;
    for (int i = 0; i < nb; i++) {
        const int ia = i - (nb - (a->ndim - 2)), ib = i - (nb - (b->ndim - 2));
        const int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        shape[i] = da != 1 ? da : db;
    }
    shape[nd - 2] = a->shape[a->ndim - 2];
    shape[nd - 1] = b->shape[b->ndim - 1];
    accel_tensor *dst = tout(a->dtype, nd, shape, ACCEL_OP_MATMUL);
    dst->src[0] = a;
    dst->src[1] = b;
    CHECK(g_table[ACCEL_OP_MATMUL].supports(dst), "%s: supports() refused", what);
    accel_status st = g_table[ACCEL_OP_MATMUL].compute(ctx, dst);
    CHECK(st == ACCEL_OK, "%s: compute returned %d", what, (int)st);
    if (st == ACCEL_OK) check_matmul(what, dst);
}

static const char *dt_name(accel_dtype d) { return accel_dtype_name(d); }

/* Layouts of a [M, K] / b [K, N]. */
enum { L_ROW, L_TRANS, L_STRIDED, L_COUNT };
static const char *const k_layout_names[L_COUNT] = {"row", "trans", "strided"};

static accel_tensor *matrix(accel_dtype dt, int64_t rows, int64_t cols, int layout) {
    const int64_t shape[2] = {rows, cols};
    if (layout == L_TRANS) return tnew_layout(dt, 2, shape, (const int[]){1, 0});
    if (layout == L_STRIDED) return tnew_strided(dt, 2, shape);
    return tnew(dt, 2, shape);
}

static void test_matmul_shapes(cpu_ctx *ctx, const char *tag) {
    static const int64_t shapes[][3] = {
        {1, 1, 1},   {17, 33, 65}, {5, 7, 1},     {1, 1, 300},   {14, 32, 256}, {15, 33, 257}, {3, 100, 40},
        {1, 700, 64}, {64, 1, 100}, {2, 3, 0},    {29, 95, 530}, {256, 300, 517},
    };
    const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);
    char what[256];
    for (int s = 0; s < n_shapes; s++) {
        const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        const bool big = M * N * K > 1000000;
        for (int la = 0; la < L_COUNT; la++)
            for (int lb = 0; lb < L_COUNT; lb++) {
                if (big && la != lb && la != L_ROW) continue; /* keep the largest shape's run short */
                accel_tensor *a = matrix(ACCEL_F32, M, K, la), *b = matrix(ACCEL_F32, K, N, lb);
                snprintf(what, sizeof what, "%s matmul f32 %lldx%lldx%lld a=%s b=%s", tag, (long long)M, (long long)N,
                         (long long)K, k_layout_names[la], k_layout_names[lb]);
                run_matmul(ctx, what, a, b);
                kt_free_all();
            }
    }
    /* mixed float dtypes: out = a's dtype */
    static const accel_dtype dts[3] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    for (int ia = 0; ia < 3; ia++)
        for (int ib = 0; ib < 3; ib++)
            for (int lb = 0; lb < 2; lb++) {
                const int64_t M = 37, N = 45, K = 300;
                accel_tensor *a = matrix(dts[ia], M, K, L_ROW), *b = matrix(dts[ib], K, N, lb ? L_TRANS : L_ROW);
                snprintf(what, sizeof what, "%s matmul %s@%s b=%s", tag, dt_name(dts[ia]), dt_name(dts[ib]),
                         k_layout_names[lb ? L_TRANS : L_ROW]);
                run_matmul(ctx, what, a, b);
                /* GEMV paths with half operands */
                run_matmul(ctx, what, matrix(dts[ia], 1, K, L_ROW), matrix(dts[ib], K, N, lb ? L_TRANS : L_ROW));
                run_matmul(ctx, what, matrix(dts[ia], M, K, lb ? L_TRANS : L_ROW), matrix(dts[ib], K, 1, L_ROW));
                kt_free_all();
            }
}

static void test_matmul_batched(cpu_ctx *ctx, const char *tag) {
    char what[256];
    static const accel_dtype dts[3] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    for (int d = 0; d < 3; d++) {
        const accel_dtype dt = dts[d];
        /* Linear layer: x[2, 3, 20, 48] @ W^T, W[40, 48] -> folded into one GEMM of M = 120 */
        {
            accel_tensor *x = tnew(dt, 4, (const int64_t[]){2, 3, 20, 48});
            accel_tensor *w = tnew(dt, 2, (const int64_t[]){40, 48});
            snprintf(what, sizeof what, "%s batched linear %s", tag, dt_name(dt));
            run_matmul(ctx, what, x, tperm(w, (const int[]){1, 0}));
        }
        /* broadcast batch dims: a[2, 1, 9, 30] @ b[1, 3, 30, 11] and a[4, 9, 30] @ b[30, 11] with a sliced */
        {
            accel_tensor *a = tnew(dt, 4, (const int64_t[]){2, 1, 9, 30});
            accel_tensor *b = tnew(dt, 4, (const int64_t[]){1, 3, 30, 11});
            snprintf(what, sizeof what, "%s broadcast batch %s", tag, dt_name(dt));
            run_matmul(ctx, what, a, b);
            accel_tensor *a3 = tnew_strided(dt, 3, (const int64_t[]){4, 9, 30});
            run_matmul(ctx, what, a3, tnew(dt, 2, (const int64_t[]){30, 11}));
        }
        /* attention: q[B, S, H, D] -> [B, H, S, D]; k[B, S, H, D] -> [B, H, D, S]; scores = q @ k^T; then
         * probs[B, H, S, S] @ v[B, H, S, D] (v permuted the same way) */
        {
            const int64_t B = 2, S = 19, H = 3, D = 16;
            accel_tensor *q = tperm(tnew(dt, 4, (const int64_t[]){B, S, H, D}), (const int[]){0, 2, 1, 3});
            accel_tensor *k = tperm(tnew(dt, 4, (const int64_t[]){B, S, H, D}), (const int[]){0, 2, 3, 1});
            snprintf(what, sizeof what, "%s attention q@k^T %s", tag, dt_name(dt));
            run_matmul(ctx, what, q, k);
            accel_tensor *p = tnew(dt, 4, (const int64_t[]){B, H, S, S});
            accel_tensor *v = tperm(tnew(dt, 4, (const int64_t[]){B, S, H, D}), (const int[]){0, 2, 1, 3});
            snprintf(what, sizeof what, "%s attention p@v %s", tag, dt_name(dt));
            run_matmul(ctx, what, p, v);
            /* decode step: one query row per head (GEMV per batch item) */
            accel_tensor *q1 = tnew(dt, 4, (const int64_t[]){B, H, 1, D});
            run_matmul(ctx, what, q1, k);
        }
        /* 12 heads of 128 x 64 x 128 (BERT-like attention block) */
        {
            accel_tensor *a = tnew(dt, 3, (const int64_t[]){12, 128, 64});
            accel_tensor *b = tnew(dt, 3, (const int64_t[]){12, 64, 128});
            snprintf(what, sizeof what, "%s 12x 128x64x128 %s", tag, dt_name(dt));
            run_matmul(ctx, what, a, b);
        }
        kt_free_all();
    }
}

/* The engine directly: row bias, ldc > n, f16/bf16 C accumulated over several K blocks and row super-blocks. */
static void test_gemm_direct(cpu_ctx *ctx, const char *tag) {
    static const accel_dtype dts[3] = {ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    for (int d = 0; d < 3; d++) {
        const accel_dtype dt = dts[d];
        const int64_t M = 300, N = 1100, K = 600, ldc = 1111;
        accel_tensor *a = tnew(dt, 2, (const int64_t[]){M, K});
        accel_tensor *b = tperm(tnew(dt, 2, (const int64_t[]){N, K}), (const int[]){1, 0});
        const int64_t ec = (int64_t)accel_dtype_size(dt);
        char *c = kt_track(malloc((size_t)(M * ldc * ec)));
        memset(c, 0x7f, (size_t)(M * ldc * ec));
        float *bias = kt_track(malloc((size_t)M * sizeof(float)));
        for (int64_t i = 0; i < M; i++) bias[i] = (float)kt_srand1();
        gemm_problem p = {.m = M, .n = N, .k = K,
                          .a = {a->data, dt, a->stride[0], a->stride[1]},
                          .b = {b->data, dt, b->stride[0], b->stride[1]},
                          .c = c, .c_dtype = dt, .ldc = ldc, .row_bias = bias};
        void *scratch = cpu_scratch(ctx, cpu_gemm_scratch_size(ctx, &p));
        CHECK(scratch != NULL, "%s gemm direct: scratch", tag);
        if (!scratch) return;
        CHECK(cpu_gemm(ctx, &p, NULL, scratch) == ACCEL_OK, "%s gemm direct: status", tag);
        cmp_stats s = {0};
        bool pad_intact = true;
        for (int64_t i = 0; i < M; i++) {
            for (int64_t j = 0; j < N; j++) {
                double acc = bias[i], abs_sum = fabs(bias[i]);
                for (int64_t k = 0; k < K; k++) {
                    const double prod = load_at(a, i * a->stride[0] + k * a->stride[1]) *
                                        load_at(b, k * b->stride[0] + j * b->stride[1]);
                    acc += prod;
                    abs_sum += fabs(prod);
                }
                cmp_element(&s, accel_load_f64(c + (i * ldc + j) * ec, dt), acc, abs_sum, K + 1, dt);
            }
            for (int64_t j = N; j < ldc; j++) pad_intact &= (unsigned char)c[(i * ldc + j) * ec] == 0x7f;
        }
        const double nmse = s.err2 / s.ref2;
        note_nmse(dt, nmse);
        CHECK(s.bad == 0 && nmse <= nmse_limit(dt), "%s gemm direct %s: %lld bad (worst %.3g), nmse %.3g", tag,
              dt_name(dt), (long long)s.bad, s.worst_excess, nmse);
        CHECK(pad_intact, "%s gemm direct %s: wrote past n into the ldc padding", tag, dt_name(dt));
        kt_free_all();
    }
}

/* ---- convolution ------------------------------------------------------------------------------------------------- */

typedef struct conv_case {
    int dims;                       /* 1 or 2 */
    int64_t n, c, h, w, oc, kh, kw; /* h = kh = 1 for conv1d */
    int stride[2], pad[2], dil[2], groups;
    bool bias;
    int x_layout; /* 0 contiguous, 1 channels-last view (permuted), 2 strided along w */
} conv_case;

static int64_t conv_out(int64_t in, int64_t k, int s, int p, int d) {
    const int64_t room = in + 2 * p - (d * (k - 1) + 1);
    return room < 0 ? 0 : room / s + 1;
}

static void check_conv(const char *what, const accel_tensor *dst, const conv_case *cc) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const int64_t OH = cc->dims == 2 ? dst->shape[2] : 1, OW = dst->shape[dst->ndim - 1];
    const int64_t cg = cc->c / cc->groups, ocg = cc->oc / cc->groups;
    const int xd = cc->dims == 2 ? 3 : 2; /* index of x's last dim */
    cmp_stats s = {0};
    for (int64_t n = 0; n < cc->n; n++)
        for (int64_t o = 0; o < cc->oc; o++)
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++) {
                    double acc = bias ? load_at(bias, o * bias->stride[0]) : 0.0;
                    double abs_sum = fabs(acc);
                    const int64_t c0 = (o / ocg) * cg;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t ky = 0; ky < cc->kh; ky++) {
                            const int64_t iy = oy * cc->stride[0] - cc->pad[0] + ky * cc->dil[0];
                            if (iy < 0 || iy >= cc->h) continue;
                            for (int64_t kx = 0; kx < cc->kw; kx++) {
                                const int64_t ix = ox * cc->stride[1] - cc->pad[1] + kx * cc->dil[1];
                                if (ix < 0 || ix >= cc->w) continue;
                                const int64_t xo = n * x->stride[0] + (c0 + ci) * x->stride[1] +
                                                   (cc->dims == 2 ? iy * x->stride[2] : 0) + ix * x->stride[xd];
                                const int64_t wo = o * w->stride[0] + ci * w->stride[1] +
                                                   (cc->dims == 2 ? ky * w->stride[2] : 0) + kx * w->stride[xd];
                                const double prod = load_at(x, xo) * load_at(w, wo);
                                acc += prod;
                                abs_sum += fabs(prod);
                            }
                        }
                    const int64_t doff = ((n * cc->oc + o) * OH + oy) * OW + ox;
                    cmp_element(&s, load_at(dst, doff * (int64_t)accel_dtype_size(dst->dtype)), acc, abs_sum,
                                cg * cc->kh * cc->kw + 1, dst->dtype);
                }
    const double nmse = s.ref2 > 0 ? s.err2 / s.ref2 : s.err2;
    note_nmse(dst->dtype, nmse);
    CHECK(s.bad == 0 && nmse <= nmse_limit(dst->dtype), "%s: %lld elements outside the bound (worst %.3g x bound), "
          "nmse %.3g", what, (long long)s.bad, s.worst_excess, nmse);
}

/* A conv node for case cc with random x (dtype xdt) and w, bias (dtype wdt). */
static accel_tensor *conv_node(const conv_case *cc, accel_dtype xdt, accel_dtype wdt) {
    const int nd = cc->dims + 2;
    const int64_t cg = cc->c / cc->groups;
    accel_tensor *x, *w, *bias = NULL;
    if (cc->dims == 2) {
        const int64_t xs[4] = {cc->n, cc->c, cc->h, cc->w};
        x = cc->x_layout == 1 ? tnew_layout(xdt, 4, xs, (const int[]){0, 2, 3, 1})
            : cc->x_layout == 2 ? tnew_strided(xdt, 4, xs) : tnew(xdt, 4, xs);
        w = tnew(wdt, 4, (const int64_t[]){cc->oc, cg, cc->kh, cc->kw});
    } else {
        const int64_t xs[3] = {cc->n, cc->c, cc->w};
        x = cc->x_layout == 1 ? tnew_layout(xdt, 3, xs, (const int[]){0, 2, 1})
            : cc->x_layout == 2 ? tnew_strided(xdt, 3, xs) : tnew(xdt, 3, xs);
        w = tnew(wdt, 3, (const int64_t[]){cc->oc, cg, cc->kw});
    }
    if (cc->bias) bias = tnew(wdt, 1, (const int64_t[]){cc->oc});
    int64_t oshape[4];
    oshape[0] = cc->n, oshape[1] = cc->oc;
    if (cc->dims == 2) {
        oshape[2] = conv_out(cc->h, cc->kh, cc->stride[0], cc->pad[0], cc->dil[0]);
        oshape[3] = conv_out(cc->w, cc->kw, cc->stride[1], cc->pad[1], cc->dil[1]);
    } else {
        oshape[2] = conv_out(cc->w, cc->kw, cc->stride[1], cc->pad[1], cc->dil[1]);
    }
    accel_tensor *dst = tout(xdt, nd, oshape, cc->dims == 2 ? ACCEL_OP_CONV2D : ACCEL_OP_CONV1D);
    dst->src[0] = x, dst->src[1] = w, dst->src[2] = bias;
    if (cc->dims == 2) {
        const int32_t p[7] = {cc->stride[0], cc->stride[1], cc->pad[0], cc->pad[1], cc->dil[0], cc->dil[1], cc->groups};
        memcpy(dst->params, p, sizeof p);
    } else {
        const int32_t p[4] = {cc->stride[1], cc->pad[1], cc->dil[1], cc->groups};
        memcpy(dst->params, p, sizeof p);
    }
    return dst;
}

static void run_conv(cpu_ctx *ctx, const char *tag, const conv_case *cc, accel_dtype xdt, accel_dtype wdt) {
    accel_tensor *dst = conv_node(cc, xdt, wdt);
    char what[256];
    snprintf(what, sizeof what,
             "%s conv%dd %s/%s n%lld c%lld %lldx%lld oc%lld k%lldx%lld s%d,%d p%d,%d d%d,%d g%d%s x%d",
             tag, cc->dims, dt_name(xdt), dt_name(wdt), (long long)cc->n, (long long)cc->c, (long long)cc->h,
             (long long)cc->w, (long long)cc->oc, (long long)cc->kh, (long long)cc->kw, cc->stride[0], cc->stride[1],
             cc->pad[0], cc->pad[1], cc->dil[0], cc->dil[1], cc->groups, cc->bias ? " bias" : "", cc->x_layout);
    const cpu_op_entry *e = &g_table[dst->op];
    CHECK(e->supports && e->supports(dst), "%s: supports() refused", what);
    if (!e->compute) return;
    accel_status st = e->compute(ctx, dst);
    CHECK(st == ACCEL_OK, "%s: compute returned %d", what, (int)st);
    if (st == ACCEL_OK) check_conv(what, dst, cc);
}

static void test_conv(cpu_ctx *ctx, const char *tag) {
    static const conv_case cases[] = {
        /* conv1d: plain, padded, stride 2, dilation 2, groups, 1x1 (direct B), depthwise, wav2vec2-like first layer */
        {1, 2, 4, 1, 17, 6, 1, 3, {1, 1}, {0, 1}, {1, 1}, 1, true, 0},
        {1, 1, 5, 1, 30, 7, 1, 4, {1, 2}, {0, 3}, {1, 1}, 1, false, 0},
        {1, 2, 6, 1, 25, 4, 1, 3, {1, 1}, {0, 2}, {1, 2}, 2, true, 0},
        {1, 2, 8, 1, 13, 10, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, true, 0},
        {1, 2, 8, 1, 13, 10, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, true, 1},
        {1, 1, 6, 1, 21, 12, 1, 5, {1, 2}, {0, 2}, {1, 1}, 6, true, 0},
        {1, 1, 1, 1, 400, 16, 1, 10, {1, 5}, {0, 0}, {1, 1}, 1, false, 0},
        {1, 1, 32, 1, 40, 32, 1, 16, {1, 1}, {0, 8}, {1, 1}, 4, true, 2},
        /* conv2d: 3x3 pad 1, stride 2, dilation 2 + groups, 1x1 direct and strided, depthwise x2, patch embed */
        {2, 2, 3, 9, 11, 4, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, true, 0},
        {2, 1, 4, 10, 9, 6, 3, 3, {2, 2}, {1, 1}, {1, 1}, 1, false, 0},
        {2, 1, 4, 12, 12, 6, 3, 3, {1, 1}, {2, 2}, {2, 2}, 2, true, 0},
        {2, 2, 8, 7, 5, 5, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, true, 0},
        {2, 2, 8, 7, 5, 5, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, true, 1},
        {2, 1, 8, 7, 9, 4, 1, 1, {2, 2}, {0, 0}, {1, 1}, 1, false, 0},
        {2, 2, 4, 8, 7, 8, 3, 3, {1, 2}, {1, 1}, {1, 1}, 4, true, 0},
        {2, 1, 4, 8, 7, 4, 3, 3, {2, 1}, {1, 0}, {2, 1}, 4, false, 2},
        {2, 1, 3, 32, 32, 24, 16, 16, {16, 16}, {0, 0}, {1, 1}, 1, true, 0},
        {2, 1, 3, 8, 9, 5, 2, 3, {1, 2}, {0, 1}, {1, 1}, 1, true, 1},
        /* im2col in more than one chunk (576 rows x 4096 positions > the 8 MiB chunk budget) */
        {2, 1, 64, 64, 64, 8, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, true, 0},
        /* ... whose last chunk is a single output position (a GEMV with a strided C column) */
        {2, 1, 64, 1, 3641, 8, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, false, 0},
    };
    const int n_cases = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n_cases; i++) {
        run_conv(ctx, tag, &cases[i], ACCEL_F32, ACCEL_F32);
        kt_free_all();
        if (i % 3 == 0) {
            run_conv(ctx, tag, &cases[i], ACCEL_F16, ACCEL_F32);
            run_conv(ctx, tag, &cases[i], ACCEL_BF16, ACCEL_BF16);
            run_conv(ctx, tag, &cases[i], ACCEL_F32, ACCEL_F16);
            kt_free_all();
        }
    }
}

/* supports() must refuse what the kernels can't do. */
static void test_supports(void) {
    accel_tensor *a = tnew(ACCEL_F32, 2, (const int64_t[]){4, 5}), *b = tnew(ACCEL_F32, 2, (const int64_t[]){5, 6});
    accel_tensor *dst = tout(ACCEL_F32, 2, (const int64_t[]){4, 6}, ACCEL_OP_MATMUL);
    dst->src[0] = a, dst->src[1] = b;
    CHECK(g_table[ACCEL_OP_MATMUL].supports(dst), "matmul f32 supported");
    b->dtype = ACCEL_I32;
    CHECK(!g_table[ACCEL_OP_MATMUL].supports(dst), "matmul with an i32 operand refused");
    b->dtype = ACCEL_F32;
    dst->dtype = ACCEL_F16;
    CHECK(!g_table[ACCEL_OP_MATMUL].supports(dst), "matmul output dtype != a's refused");
    dst->dtype = ACCEL_F32;
    b->shape[0] = 6;
    CHECK(!g_table[ACCEL_OP_MATMUL].supports(dst), "matmul with mismatched K refused");
    kt_free_all();

    accel_tensor *x = tnew(ACCEL_F32, 3, (const int64_t[]){1, 4, 10});
    accel_tensor *w = tnew(ACCEL_F32, 3, (const int64_t[]){6, 2, 3});
    accel_tensor *y = tout(ACCEL_F32, 3, (const int64_t[]){1, 6, 8}, ACCEL_OP_CONV1D);
    y->src[0] = x, y->src[1] = w;
    const int32_t p[4] = {1, 0, 1, 2};
    memcpy(y->params, p, sizeof p);
    CHECK(g_table[ACCEL_OP_CONV1D].supports(y), "conv1d groups 2 supported");
    y->params[3] = 3; /* 4 channels don't split into 3 groups */
    CHECK(!g_table[ACCEL_OP_CONV1D].supports(y), "conv1d with bad groups refused");
    y->params[3] = 2;
    y->shape[2] = 9; /* wrong output length */
    CHECK(!g_table[ACCEL_OP_CONV1D].supports(y), "conv1d with a wrong output length refused");
    kt_free_all();
}

/* ---- benchmark (--bench) ----------------------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Runs one matmul node `reps` times with the built-in engine, then `reps` times with OpenBLAS; returns the best
 * and median seconds of each (after a warm-up). The engines run in separate blocks with a pause between them:
 * OpenBLAS's idle threads keep spinning for a while after a call (and ours briefly), which would slow the other
 * engine's threads if the runs were interleaved. */
typedef struct bench_times {
    double best[2], median[2];
} bench_times;

static void pause_s(double s) {
    const struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static bench_times time_engines(cpu_ctx *ctx, accel_tensor *dst, int reps, bool with_blas) {
    double t[64];
    bench_times r = {{0, 0}, {0, 0}};
    for (int e = 0; e < (with_blas ? 2 : 1); e++) {
        cpu_gemm_set_blas_policy(e ? GEMM_BLAS_ALWAYS : GEMM_BLAS_NEVER);
        pause_s(0.3);
        g_table[ACCEL_OP_MATMUL].compute(ctx, dst); /* warm-up: scratch, OpenBLAS threads */
        for (int i = 0; i < reps; i++) {
            const double t0 = now_s();
            g_table[ACCEL_OP_MATMUL].compute(ctx, dst);
            t[i] = now_s() - t0;
        }
        qsort(t, (size_t)reps, sizeof(double), cmp_double);
        r.best[e] = t[0];
        r.median[e] = t[reps / 2];
    }
    return r;
}

static int bench(int n_threads) {
    cpu_ctx ctx;
    if (kt_ctx_init(&ctx, cpu_detect_isa(), n_threads) != ACCEL_OK) return 1;
    printf("threads %d, isa %s, OpenBLAS %s (core %s)\n", n_threads, cpu_isa_name(ctx.isa),
           gemm_blas_available() ? "linked" : "not linked", gemm_blas_corename());
    static const int64_t shapes[][4] = {/* batch, M, N, K; b is a Linear weight view W^T (W [N, K]) */
                                        {1, 1024, 1024, 1024}, {1, 128, 768, 768}, {1, 128, 3072, 768},
                                        {1, 128, 768, 3072},   {1, 1, 2048, 2048}, {12, 128, 128, 64}};
    printf("GFLOP/s, best (median) of repeated runs\n");
    printf("%-22s %-4s %16s %16s %12s\n", "batch x MxNxK", "b", "ours", "openblas", "ratio");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t B = shapes[s][0], M = shapes[s][1], N = shapes[s][2], K = shapes[s][3];
        for (int trans = 0; trans < 2; trans++) {
            accel_tensor *a = tnew(ACCEL_F32, 3, (const int64_t[]){B, M, K});
            accel_tensor *b = trans ? tperm(tnew(ACCEL_F32, 3, (const int64_t[]){B, N, K}), (const int[]){0, 2, 1})
                                    : tnew(ACCEL_F32, 3, (const int64_t[]){B, K, N});
            accel_tensor *dst = tout(ACCEL_F32, 3, (const int64_t[]){B, M, N}, ACCEL_OP_MATMUL);
            dst->src[0] = a, dst->src[1] = b;
            const double flop = 2.0 * (double)(B * M * N * K);
            const bench_times bt = time_engines(&ctx, dst, flop > 1e9 ? 21 : 61, gemm_blas_available());
            const double ours = flop / bt.best[0] * 1e-9, ours_med = flop / bt.median[0] * 1e-9;
            const double blas = bt.best[1] > 0 ? flop / bt.best[1] * 1e-9 : 0;
            const double blas_med = bt.median[1] > 0 ? flop / bt.median[1] * 1e-9 : 0;
            char name[64], o[32], ob[32], ratio[32];
            snprintf(name, sizeof name, "%lldx %lldx%lldx%lld", (long long)B, (long long)M, (long long)N, (long long)K);
            snprintf(o, sizeof o, "%.1f (%.1f)", ours, ours_med);
            snprintf(ob, sizeof ob, "%.1f (%.1f)", blas, blas_med);
            snprintf(ratio, sizeof ratio, "%.2f (%.2f)", blas > 0 ? ours / blas : 0,
                     blas_med > 0 ? ours_med / blas_med : 0);
            if (blas <= 0) snprintf(ob, sizeof ob, "n/a"), snprintf(ratio, sizeof ratio, "n/a");
            printf("%-22s %-4s %16s %16s %12s\n", name, trans ? "W^T" : "row", o, ob, ratio);
            kt_free_all();
        }
    }
    /* half-precision operands go through the same engine (converted while packing) */
    static const accel_dtype halves[2] = {ACCEL_F16, ACCEL_BF16};
    for (int h = 0; h < 2; h++) {
        const int64_t M = 1024, N = 1024, K = 1024;
        accel_tensor *a = tnew(halves[h], 2, (const int64_t[]){M, K});
        accel_tensor *b = tperm(tnew(halves[h], 2, (const int64_t[]){N, K}), (const int[]){1, 0});
        accel_tensor *dst = tout(halves[h], 2, (const int64_t[]){M, N}, ACCEL_OP_MATMUL);
        dst->src[0] = a, dst->src[1] = b;
        const bench_times bt = time_engines(&ctx, dst, 21, false);
        const double flop = 2.0 * (double)(M * N * K);
        char name[64], o[32];
        snprintf(name, sizeof name, "%s 1024x1024x1024", accel_dtype_name(halves[h]));
        snprintf(o, sizeof o, "%.1f (%.1f)", flop / bt.best[0] * 1e-9, flop / bt.median[0] * 1e-9);
        printf("%-22s %-4s %16s\n", name, "W^T", o);
        kt_free_all();
    }
    /* convolutions of the model families (f32), built-in engine */
    cpu_gemm_set_blas_policy(GEMM_BLAS_NEVER);
    static const struct {
        const char *name;
        conv_case cc;
    } convs[] = {
        {"resnet 3x3 64->64 56^2", {2, 1, 64, 56, 56, 64, 3, 3, {1, 1}, {1, 1}, {1, 1}, 1, false, 0}},
        {"resnet 1x1 256->64 56^2", {2, 1, 256, 56, 56, 64, 1, 1, {1, 1}, {0, 0}, {1, 1}, 1, false, 0}},
        {"resnet stem 7x7 s2 3->64", {2, 1, 3, 224, 224, 64, 7, 7, {2, 2}, {3, 3}, {1, 1}, 1, false, 0}},
        {"vit patch16 3->768 224^2", {2, 1, 3, 224, 224, 768, 16, 16, {16, 16}, {0, 0}, {1, 1}, 1, true, 0}},
        {"wav2vec2 conv0 1->512 k10s5", {1, 1, 1, 1, 16000, 512, 1, 10, {1, 5}, {0, 0}, {1, 1}, 1, false, 0}},
        {"wav2vec2 posconv g16 k128", {1, 1, 768, 1, 200, 768, 1, 128, {1, 1}, {0, 64}, {1, 1}, 16, true, 0}},
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
        const conv_case *cc = &convs[i].cc;
        accel_tensor *dst = conv_node(cc, ACCEL_F32, ACCEL_F32);
        const int64_t outs = accel_nelements(dst);
        const double flop = 2.0 * (double)outs * (double)(cc->c / cc->groups * cc->kh * cc->kw);
        double t[21];
        g_table[dst->op].compute(&ctx, dst);
        for (int r = 0; r < 21; r++) {
            const double t0 = now_s();
            g_table[dst->op].compute(&ctx, dst);
            t[r] = now_s() - t0;
        }
        qsort(t, 21, sizeof(double), cmp_double);
        char o[32];
        snprintf(o, sizeof o, "%.1f (%.1f)", flop / t[0] * 1e-9, flop / t[10] * 1e-9);
        printf("%-30s %16s\n", convs[i].name, o);
        kt_free_all();
    }
    cpu_gemm_set_blas_policy(GEMM_BLAS_AUTO);
    kt_ctx_release(&ctx);
    return 0;
}

int main(int argc, char **argv) {
    kt_rng_seed(0x243f6a8885a308d3ull);
    cpu_register_matmul(g_table);
    cpu_register_conv(g_table);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) return bench(argc > 2 ? atoi(argv[2]) : 2);

    test_supports();
    const cpu_isa best = cpu_detect_isa();
    for (int li = 0; li < kt_isa_count(best); li++) {
        const cpu_isa isa = (cpu_isa)li;
        for (int threads = 1; threads <= 3; threads += 2) {
            for (int blas = 0; blas < (gemm_blas_available() ? 2 : 1); blas++) {
                cpu_ctx ctx;
                if (kt_ctx_init(&ctx, isa, threads) != ACCEL_OK) {
                    CHECK(false, "thread pool");
                    continue;
                }
                cpu_gemm_set_blas_policy(blas ? GEMM_BLAS_ALWAYS : GEMM_BLAS_NEVER);
                char tag[64];
                snprintf(tag, sizeof tag, "[%s t%d %s]", cpu_isa_name(isa), threads, blas ? "blas" : "own");
                const int before = kt_failures;
                test_matmul_shapes(&ctx, tag);
                test_matmul_batched(&ctx, tag);
                if (!blas) test_gemm_direct(&ctx, tag);
                if (!blas || threads == 1) test_conv(&ctx, tag);
                printf("%s %s\n", tag, kt_failures == before ? "ok" : "FAILED");
                kt_ctx_release(&ctx);
            }
        }
    }
    cpu_gemm_set_blas_policy(GEMM_BLAS_AUTO);
    printf("largest nmse: f32 %.2g, f16 %.2g, bf16 %.2g\n", g_worst_nmse[0], g_worst_nmse[1], g_worst_nmse[2]);
    return kt_summary("test_cpu_matmul");
}
