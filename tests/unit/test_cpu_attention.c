/* CPU ATTENTION and ROPE kernels against a plain double-precision computation written here, at every ISA level
 * this machine has (portable, AVX2, AVX-512) and with 1 and 3 threads.
 *
 * Nodes are built by hand (accel_tensor structs over malloc'ed memory) and computed through the op table filled
 * by cpu_register_attention, exactly as the CPU device calls them.
 *
 * Limits (normalized MSE = sum (out - ref)^2 / sum ref^2 against the double result computed from the stored input
 * values, so only the kernel's f32 arithmetic and the final rounding count):
 *   f32 output  1e-10  (f32 accumulation over D and Skv: observed ~1e-14)
 *   f16 output  2e-6   (rounding to 11 bits alone gives ~1e-7)
 *   bf16 output 5e-5   (rounding to 8 bits alone gives ~5e-6)
 * ROPE f32 additionally: every element within 2e-6 * max |ref| of the double result, positions up to 32768.
 * Queries that see no key must give exact zeros.
 */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_kernels.h"
#include "core/tensor.h"
#include "kernel_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static accel_tensor *tnew(accel_dtype dt, int nd, const int64_t *shape, const int *order, int gap, double amp) {
    return kt_tnew(dt, nd, shape, order, gap, kt_uniform, amp);
}
static accel_tensor *node_new(accel_op op, accel_dtype dt, int nd, const int64_t *shape) {
    return kt_node_new(op, dt, nd, shape, kt_uniform);
}

/* Element of a mask broadcast (right-aligned, size-1 dims repeat) to a 4-d index. */
static double tget_bcast4(const accel_tensor *m, const int64_t idx[4]) {
    int64_t off = 0;
    for (int i = 0; i < m->ndim; i++) {
        const int64_t j = idx[4 - m->ndim + i];
        if (m->shape[i] != 1) off += j * m->stride[i];
    }
    return accel_load_f64((const char *)m->data + off, m->dtype);
}

static double nmse_limit(accel_dtype dt) { return kt_nmse_limit(dt, 1e-10); }

static cpu_op_entry g_ops[ACCEL_OP_COUNT];
static cpu_isa g_max_isa;

/* Runs dst's kernel with every ISA and thread count; check(dst, label) verifies each result. */
static void run_all(accel_tensor *dst, kt_check_fn check, void *user, const char *name) {
    kt_run_all(g_ops, g_max_isa, dst, check, user, name);
}

/* ================================================================================================================
 * ATTENTION
 * ================================================================================================================ */
enum { MASK_NONE, MASK_PAD, MASK_BIAS, MASK_HOLES, MASK_EXPANDED };
enum { LAYOUT_BHSD, LAYOUT_BSHD, LAYOUT_GAP };

typedef struct attn_case {
    const char *name;
    int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
    accel_dtype qt, kvt, mt;
    int mask_kind;
    bool causal;
    int window;
    float scale;
    int q_layout, kv_layout;
} attn_case;

typedef struct attn_ref {
    double *out;
    int64_t n;
    bool *hidden_row; /* [B*Hq*Sq]: the query sees no key */
    int64_t Dv;
} attn_ref;

/* [B, H, S, D] tensor stored as `layout`. */
static accel_tensor *attn_tensor(accel_dtype dt, int64_t B, int64_t H, int64_t S, int64_t D, int layout) {
    const int64_t shape[4] = {B, H, S, D};
    static const int bshd[4] = {0, 2, 1, 3};
    if (layout == LAYOUT_BSHD) return tnew(dt, 4, shape, bshd, 0, 1.0);
    return tnew(dt, 4, shape, NULL, layout == LAYOUT_GAP ? 1 : 0, 1.0);
}

static accel_tensor *attn_mask(const attn_case *c) {
    const int64_t B = c->B, H = c->Hq, Sq = c->Sq, Skv = c->Skv;
    accel_tensor *m = NULL;
    switch (c->mask_kind) {
    case MASK_PAD: { /* [B, 1, 1, Skv]: batch b hides its last 3 b keys (padding) */
        const int64_t shape[4] = {B, 1, 1, Skv};
        m = tnew(c->mt, 4, shape, NULL, 0, 0.0);
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < Skv; j++) kt_tset(m, (int64_t[]){b, 0, 0, j}, j >= Skv - 3 * b ? -INFINITY : 0.0);
        break;
    }
    case MASK_BIAS: { /* [1, H, Sq, Skv] relative-position-bias-like values */
        const int64_t shape[4] = {1, H, Sq, Skv};
        m = tnew(c->mt, 4, shape, NULL, 0, 2.0);
        break;
    }
    case MASK_HOLES: { /* [B, H, Sq, Skv]: random -inf holes and one fully hidden row per batch */
        const int64_t shape[4] = {B, H, Sq, Skv};
        m = tnew(c->mt, 4, shape, NULL, 0, 1.0);
        for (int64_t b = 0; b < B; b++)
            for (int64_t h = 0; h < H; h++)
                for (int64_t i = 0; i < Sq; i++)
                    for (int64_t j = 0; j < Skv; j++)
                        if (kt_urand() < 0.3 || (h == H - 1 && i == Sq / 2)) kt_tset(m, (int64_t[]){b, h, i, j}, -INFINITY);
        break;
    }
    case MASK_EXPANDED: { /* [B, H, Sq, Skv] view of a [B, 1, 1, Skv] buffer with zero strides (an expand) */
        const int64_t shape[4] = {B, 1, 1, Skv};
        m = tnew(c->mt, 4, shape, NULL, 0, 3.0);
        m->shape[1] = H;
        m->shape[2] = Sq;
        m->stride[1] = m->stride[2] = 0;
        break;
    }
    default: break;
    }
    return m;
}

static attn_ref attn_reference(const attn_case *c, const accel_tensor *q, const accel_tensor *k, const accel_tensor *v,
                               const accel_tensor *mask) {
    attn_ref r;
    const int64_t G = c->Hq / c->Hkv;
    const double scale = c->scale != 0 ? c->scale : 1.0 / sqrt((double)c->D);
    r.n = c->B * c->Hq * c->Sq * c->Dv;
    r.Dv = c->Dv;
    r.out = calloc((size_t)(r.n > 0 ? r.n : 1), sizeof(double));
    r.hidden_row = calloc((size_t)(c->B * c->Hq * c->Sq + 1), sizeof(bool));
    double *p = malloc((size_t)(c->Skv + 1) * sizeof(double));
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t h = 0; h < c->Hq; h++)
            for (int64_t i = 0; i < c->Sq; i++) {
                const int64_t pos = i + c->Skv - c->Sq;
                double mx = -INFINITY;
                for (int64_t j = 0; j < c->Skv; j++) {
                    p[j] = -INFINITY;
                    if (c->causal && j > pos) continue;
                    if (c->window > 0 && pos - j >= c->window) continue;
                    double dot = 0;
                    for (int64_t d = 0; d < c->D; d++)
                        dot += kt_tget(q, (int64_t[]){b, h, i, d}) * kt_tget(k, (int64_t[]){b, h / G, j, d});
                    p[j] = dot * scale + (mask ? tget_bcast4(mask, (int64_t[]){b, h, i, j}) : 0.0);
                    if (p[j] > mx) mx = p[j];
                }
                const int64_t row = (b * c->Hq + h) * c->Sq + i;
                if (mx == -INFINITY) {
                    r.hidden_row[row] = true;
                    continue; /* zeros */
                }
                double sum = 0;
                for (int64_t j = 0; j < c->Skv; j++) sum += (p[j] = p[j] == -INFINITY ? 0.0 : exp(p[j] - mx));
                for (int64_t e = 0; e < c->Dv; e++) {
                    double acc = 0;
                    for (int64_t j = 0; j < c->Skv; j++)
                        if (p[j] != 0) acc += p[j] * kt_tget(v, (int64_t[]){b, h / G, j, e});
                    r.out[row * c->Dv + e] = acc / sum;
                }
            }
    free(p);
    return r;
}

static void attn_check(const accel_tensor *dst, const char *label, void *user) {
    const attn_ref *r = user;
    const double e = kt_nmse(dst, r->out, r->n, false), lim = nmse_limit(dst->dtype);
    CHECK(e <= lim, "%s: nmse %.3g > %.3g", label, e, lim);
    if (getenv("ACCEL_TEST_VERBOSE")) printf("%-60s nmse %.3g\n", label, e);
    /* hidden queries: exact zeros */
    const size_t es = accel_dtype_size(dst->dtype);
    int64_t bad = 0;
    for (int64_t row = 0; row * r->Dv < r->n; row++)
        if (r->hidden_row[row])
            for (int64_t x = 0; x < r->Dv; x++)
                if (accel_load_f64((const char *)dst->data + (size_t)(row * r->Dv + x) * es, dst->dtype) != 0.0) bad++;
    CHECK(bad == 0, "%s: %lld outputs of fully hidden queries are not 0", label, (long long)bad);
}

static void test_attention_case(const attn_case *c) {
    accel_tensor *q = attn_tensor(c->qt, c->B, c->Hq, c->Sq, c->D, c->q_layout);
    accel_tensor *k = attn_tensor(c->kvt, c->B, c->Hkv, c->Skv, c->D, c->kv_layout);
    accel_tensor *v = attn_tensor(c->kvt, c->B, c->Hkv, c->Skv, c->Dv, c->kv_layout);
    accel_tensor *mask = attn_mask(c);
    const int64_t oshape[4] = {c->B, c->Hq, c->Sq, c->Dv};
    accel_tensor *dst = node_new(ACCEL_OP_ATTENTION, c->qt, 4, oshape);
    dst->src[0] = q, dst->src[1] = k, dst->src[2] = v, dst->src[3] = mask;
    accel_param_set_f32(dst, 0, c->scale != 0 ? c->scale : (float)(1.0 / sqrt((double)c->D)));
    dst->params[1] = c->causal;
    dst->params[2] = c->window;
    attn_ref r = attn_reference(c, q, k, v, mask);
    run_all(dst, attn_check, &r, c->name);
    free(r.out);
    free(r.hidden_row);
    kt_tfree(q), kt_tfree(k), kt_tfree(v), kt_tfree(mask), kt_tfree(dst);
}

static void test_attention(void) {
    const accel_dtype F32 = ACCEL_F32, F16 = ACCEL_F16, BF16 = ACCEL_BF16;
    const attn_case cases[] = {
        /* name                          B  Hq Hkv Sq  Skv   D   Dv  q    kv   mask  mask_kind   causal win scale ql kvl */
        {"mha plain",                    2, 4, 4, 37, 37, 64, 64, F32, F32, F32, MASK_NONE, false, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"gqa 14/2 causal prefill",      1, 14, 2, 50, 50, 64, 64, F32, F32, F32, MASK_NONE, true, 0, 0, LAYOUT_BHSD, LAYOUT_BSHD},
        {"gqa 14/2 decode long cache",   1, 14, 2, 1, 1500, 64, 64, F32, F32, F32, MASK_PAD, true, 0, 0, LAYOUT_BHSD, LAYOUT_BSHD},
        {"gqa 32/4 decode f16 cache",    2, 32, 4, 1, 700, 64, 64, F32, F16, F32, MASK_PAD, false, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"kv-cache causal offset+window",2, 6, 3, 5, 77, 80, 48, F32, F32, F32, MASK_NONE, true, 16, 0, LAYOUT_BSHD, LAYOUT_BSHD},
        {"window only (not causal)",     1, 2, 1, 40, 40, 32, 32, F32, F32, F32, MASK_NONE, false, 7, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"bias mask f16 broadcast",      2, 3, 3, 19, 23, 16, 24, F32, F32, F16, MASK_BIAS, false, 0, 0.3f, LAYOUT_BHSD, LAYOUT_GAP},
        {"holes + hidden rows",          2, 4, 2, 33, 65, 64, 64, F32, F32, F32, MASK_HOLES, false, 0, 0, LAYOUT_GAP, LAYOUT_BSHD},
        {"holes + hidden rows decode",   2, 4, 2, 1, 65, 64, 64, F32, F32, F32, MASK_HOLES, false, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"expanded mask zero strides",   2, 4, 4, 9, 130, 64, 64, F32, F32, F32, MASK_EXPANDED, true, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"long causal prefill",          1, 2, 2, 300, 300, 64, 64, F32, F32, F32, MASK_NONE, true, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"long causal window prefill",   1, 4, 1, 200, 260, 96, 96, F32, F32, F32, MASK_NONE, true, 50, 0, LAYOUT_BHSD, LAYOUT_BSHD},
        {"odd head dims",                3, 2, 1, 11, 13, 7, 3, F32, F32, F32, MASK_NONE, true, 0, 0, LAYOUT_GAP, LAYOUT_GAP},
        {"size one",                     1, 1, 1, 1, 1, 1, 1, F32, F32, F32, MASK_NONE, false, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"f16 everything",               2, 8, 2, 17, 40, 64, 64, F16, F16, F16, MASK_PAD, true, 0, 0, LAYOUT_BHSD, LAYOUT_BSHD},
        {"bf16 everything",              2, 8, 2, 17, 40, 64, 64, BF16, BF16, BF16, MASK_BIAS, false, 0, 0, LAYOUT_BSHD, LAYOUT_BHSD},
        {"bf16 q f16 kv decode",         1, 4, 4, 1, 600, 128, 128, BF16, F16, F32, MASK_NONE, false, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"f16 kv with gap (strided)",    1, 4, 2, 6, 30, 64, 64, F32, F16, F32, MASK_NONE, true, 0, 0, LAYOUT_BHSD, LAYOUT_GAP},
        {"decode strided f32 kv",        1, 4, 2, 1, 30, 64, 64, F32, F32, F32, MASK_NONE, true, 0, 0, LAYOUT_GAP, LAYOUT_GAP},
        {"split-k decode (few heads)",   1, 2, 1, 1, 3000, 64, 64, F32, F32, F32, MASK_PAD, true, 0, 0, LAYOUT_BHSD, LAYOUT_BSHD},
        {"split-k decode f16 window",    1, 2, 2, 1, 2500, 64, 64, F16, F16, F16, MASK_NONE, true, 1800, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"split-k causal prefill",       1, 1, 1, 20, 2000, 64, 64, F32, F32, F32, MASK_HOLES, true, 0, 0, LAYOUT_BHSD, LAYOUT_BHSD},
        {"empty cache window 1",         1, 2, 2, 3, 3, 8, 8, F32, F32, F32, MASK_NONE, true, 1, 0, LAYOUT_BHSD, LAYOUT_BHSD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_attention_case(&cases[i]);
}

/* supports() must refuse what the kernel cannot do. */
static void test_attention_refuses(void) {
    accel_tensor *q = attn_tensor(ACCEL_F32, 1, 3, 4, 8, LAYOUT_BHSD);
    accel_tensor *k = attn_tensor(ACCEL_F32, 1, 2, 4, 8, LAYOUT_BHSD);
    accel_tensor *v = attn_tensor(ACCEL_F32, 1, 2, 4, 8, LAYOUT_BHSD);
    accel_tensor *dst = node_new(ACCEL_OP_ATTENTION, ACCEL_F32, 4, (int64_t[]){1, 3, 4, 8});
    dst->src[0] = q, dst->src[1] = k, dst->src[2] = v;
    CHECK(!g_ops[ACCEL_OP_ATTENTION].supports(dst), "attention: 3 query heads over 2 kv heads accepted");
    k->shape[1] = v->shape[1] = 1;
    CHECK(g_ops[ACCEL_OP_ATTENTION].supports(dst), "attention: MQA 3/1 refused");
    dst->dtype = ACCEL_F16;
    CHECK(!g_ops[ACCEL_OP_ATTENTION].supports(dst), "attention: output dtype differing from q accepted");
    dst->dtype = ACCEL_F32;
    accel_tensor *mask = tnew(ACCEL_F32, 2, (int64_t[]){3, 4}, NULL, 0, 1.0);
    dst->src[3] = mask;
    CHECK(!g_ops[ACCEL_OP_ATTENTION].supports(dst), "attention: mask [3, 4] that does not broadcast accepted");
    kt_tfree(q), kt_tfree(k), kt_tfree(v), kt_tfree(dst), kt_tfree(mask);
}

/* The per-ISA GEMM kernel against a plain loop, over tails of every kind. */
static void test_attention_kernels(void) {
    const int64_t dims[][3] = {{1, 1, 1}, {7, 37, 13}, {4, 64, 64}, {5, 16, 3}, {64, 80, 64}, {3, 130, 9}, {9, 8, 1}};
    for (int ii = 0; ii < kt_isa_count(g_max_isa); ii++) {
        const cpu_attn_kernels *kn = cpu_attn_kernels_for((cpu_isa)ii);
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            const int64_t M = dims[di][0], N = dims[di][1], K = dims[di][2];
            for (int acc = 0; acc < 2; acc++)
                for (int trans = 0; trans < 2; trans++) {
                    const int64_t a_rs = trans ? 1 : K + 3, a_cs = trans ? M + 2 : 1, ldb = N + 5, ldc = N + 1;
                    float *a = malloc(sizeof(float) * (size_t)((M + 2) * (K + 3) + 8));
                    float *b = malloc(sizeof(float) * (size_t)(K * ldb + 8));
                    float *c = malloc(sizeof(float) * (size_t)(M * ldc + 8));
                    double *want = malloc(sizeof(double) * (size_t)(M * N));
                    for (int64_t x = 0; x < (M + 2) * (K + 3) + 8; x++) a[x] = (float)kt_srand1();
                    for (int64_t x = 0; x < K * ldb + 8; x++) b[x] = (float)kt_srand1();
                    for (int64_t x = 0; x < M * ldc + 8; x++) c[x] = (float)kt_srand1();
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t n = 0; n < N; n++) {
                            double s = acc ? c[m * ldc + n] : 0.0;
                            for (int64_t kk = 0; kk < K; kk++) s += (double)a[m * a_rs + kk * a_cs] * b[kk * ldb + n];
                            want[m * N + n] = s;
                        }
                    const float after = c[(M - 1) * ldc + N]; /* the padding column after the last row's data */
                    kn->gemm(M, N, K, a, a_rs, a_cs, b, ldb, c, ldc, acc != 0);
                    double err = 0;
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t n = 0; n < N; n++) {
                            const double d = fabs(c[m * ldc + n] - want[m * N + n]);
                            err = d > err ? d : err;
                        }
                    CHECK(err <= 1e-5 * (double)(K + 1), "gemm %s M=%lld N=%lld K=%lld acc=%d trans=%d: max err %g",
                          cpu_isa_name((cpu_isa)ii), (long long)M, (long long)N, (long long)K, acc, trans, err);
                    CHECK(c[(M - 1) * ldc + N] == after, "gemm %s: wrote past the last column",
                          cpu_isa_name((cpu_isa)ii));
                    free(a), free(b), free(c), free(want);
                }
        }
        /* exp(-inf) must be exactly 0: hidden keys may not leak into the output */
        float s[19];
        for (int x = 0; x < 19; x++) s[x] = x % 3 ? -INFINITY : (float)x;
        const float sum = kn->exp_sum(s, 19, 18.0f);
        double want = 0;
        for (int x = 0; x < 19; x += 3) want += exp(x - 18.0);
        CHECK(fabs(sum - want) < 1e-6, "exp_sum %s: %g vs %g", cpu_isa_name((cpu_isa)ii), sum, want);
        int nonzero = 0;
        for (int x = 0; x < 19; x++) nonzero += x % 3 && s[x] != 0.0f;
        CHECK(nonzero == 0, "exp_sum %s: exp(-inf) not 0", cpu_isa_name((cpu_isa)ii));
    }
}

/* ================================================================================================================
 * ROPE
 * ================================================================================================================ */
typedef struct rope_case {
    const char *name;
    int64_t B, S, H, D;
    accel_dtype dt;
    int mode, n_rot;
    float theta, freq_scale, attn_factor;
    bool table, permuted;
} rope_case;

typedef struct rope_ref {
    double *out;
    int64_t n;
} rope_ref;

static void rope_check(const accel_tensor *dst, const char *label, void *user) {
    const rope_ref *r = user;
    const double e = kt_nmse(dst, r->out, r->n, false);
    const double lim = dst->dtype == ACCEL_F32 ? 1e-12 : nmse_limit(dst->dtype);
    CHECK(e <= lim, "%s: nmse %.3g > %.3g", label, e, lim);
    if (dst->dtype == ACCEL_F32) {
        double mx = 0, err = 0;
        for (int64_t i = 0; i < r->n; i++) {
            const double o = ((const float *)dst->data)[i];
            mx = fabs(r->out[i]) > mx ? fabs(r->out[i]) : mx;
            err = fabs(o - r->out[i]) > err ? fabs(o - r->out[i]) : err;
        }
        CHECK(err <= 2e-6 * mx, "%s: max error %.3g > 2e-6 * %.3g", label, err, mx);
    }
}

static void test_rope_case(const rope_case *c) {
    static const int bhsd_order[4] = {0, 2, 1, 3}; /* x as a permuted view of [B, H, S, D] storage */
    const int64_t shape[4] = {c->B, c->S, c->H, c->D};
    accel_tensor *x = tnew(c->dt, 4, shape, c->permuted ? bhsd_order : NULL, 0, 1.0);
    accel_tensor *pos = tnew(ACCEL_I32, 1, (int64_t[]){c->S}, NULL, 0, 0.0);
    static const int32_t far[] = {0, 1, 32768, 4097, 32767, 17, 12345, 30000, 2, 65};
    for (int64_t s = 0; s < c->S; s++) ((int32_t *)pos->data)[s] = far[s % 10] + (int32_t)(s / 10);
    const int half = c->n_rot / 2;
    accel_tensor *inv = NULL;
    if (c->table) {
        inv = tnew(ACCEL_F32, 1, (int64_t[]){half}, NULL, 0, 0.0);
        for (int i = 0; i < half; i++) ((float *)inv->data)[i] = (float)(0.5 / pow(500000.0, 2.0 * i / c->n_rot) + 1e-4 * i);
    }
    accel_tensor *dst = node_new(ACCEL_OP_ROPE, c->dt, 4, shape);
    dst->src[0] = x, dst->src[1] = pos, dst->src[2] = inv;
    dst->params[0] = c->mode;
    dst->params[1] = c->n_rot;
    accel_param_set_f32(dst, 2, c->theta);
    accel_param_set_f32(dst, 3, c->freq_scale);
    accel_param_set_f32(dst, 4, c->attn_factor);

    rope_ref r = {calloc((size_t)accel_nelements(dst), sizeof(double)), accel_nelements(dst)};
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t s = 0; s < c->S; s++)
            for (int64_t h = 0; h < c->H; h++) {
                double *o = r.out + ((b * c->S + s) * c->H + h) * c->D;
                const double p = ((int32_t *)pos->data)[s];
                for (int64_t d = 0; d < c->D; d++) o[d] = kt_tget(x, (int64_t[]){b, s, h, d});
                for (int i = 0; i < half; i++) {
                    const double f = inv ? ((float *)inv->data)[i] : pow((double)c->theta, -2.0 * i / c->n_rot);
                    const double a = p * (double)c->freq_scale * f;
                    const double cs = cos(a) * c->attn_factor, sn = sin(a) * c->attn_factor;
                    const int64_t i0 = c->mode == ACCEL_ROPE_INTERLEAVED ? 2 * i : i;
                    const int64_t i1 = c->mode == ACCEL_ROPE_INTERLEAVED ? 2 * i + 1 : i + half;
                    const double x0 = kt_tget(x, (int64_t[]){b, s, h, i0}), x1 = kt_tget(x, (int64_t[]){b, s, h, i1});
                    o[i0] = x0 * cs - x1 * sn;
                    o[i1] = x1 * cs + x0 * sn;
                }
            }
    run_all(dst, rope_check, &r, c->name);
    free(r.out);
    kt_tfree(x), kt_tfree(pos), kt_tfree(inv), kt_tfree(dst);
}

static void test_rope(void) {
    const rope_case cases[] = {
        {"rope half full", 2, 10, 3, 64, ACCEL_F32, ACCEL_ROPE_HALF, 64, 10000.0f, 1.0f, 1.0f, false, false},
        {"rope interleaved full", 1, 10, 2, 64, ACCEL_F32, ACCEL_ROPE_INTERLEAVED, 64, 10000.0f, 1.0f, 1.0f, false, false},
        {"rope half partial scaled", 2, 7, 5, 80, ACCEL_F32, ACCEL_ROPE_HALF, 32, 1000000.0f, 0.25f, 1.3f, false, true},
        {"rope interleaved partial", 1, 12, 4, 66, ACCEL_F32, ACCEL_ROPE_INTERLEAVED, 20, 500.0f, 1.0f, 0.9f, false, true},
        {"rope inv_freq table", 2, 10, 2, 128, ACCEL_F32, ACCEL_ROPE_HALF, 128, 10000.0f, 0.5f, 1.0f, true, false},
        {"rope f16", 2, 10, 3, 64, ACCEL_F16, ACCEL_ROPE_HALF, 64, 10000.0f, 1.0f, 1.0f, false, true},
        {"rope bf16 interleaved", 1, 10, 3, 32, ACCEL_BF16, ACCEL_ROPE_INTERLEAVED, 16, 10000.0f, 1.0f, 1.0f, true, false},
        {"rope size one", 1, 1, 1, 2, ACCEL_F32, ACCEL_ROPE_HALF, 2, 10000.0f, 1.0f, 1.0f, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_rope_case(&cases[i]);
}

int main(void) {
    kt_rng_seed(0x9e3779b97f4a7c15ull);
    g_max_isa = cpu_detect_isa();
    cpu_register_attention(g_ops);
    CHECK(g_ops[ACCEL_OP_ATTENTION].compute && g_ops[ACCEL_OP_ROPE].compute, "cpu_register_attention filled nothing");
    test_attention_kernels();
    test_attention();
    test_attention_refuses();
    test_rope();
    printf("ISA levels up to %s\n", cpu_isa_name(g_max_isa));
    return kt_summary("test_cpu_attention");
}
