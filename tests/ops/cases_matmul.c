/* Cases: MATMUL (batched, broadcast, transposed and strided operands) and the accel_linear composite. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

/* ---- matmul ----------------------------------------------------------------------------------------------- */
typedef struct matmul_params {
    accel_dtype ta, tb;
    int nda, ndb;
    int64_t sa[ACCEL_MAX_DIMS], sb[ACCEL_MAX_DIMS]; /* logical shapes [..., M, K] and [..., K, N] */
    layout la, lb;
} matmul_params;

static int build_matmul(build_ctx *c, const void *pp, accel_tensor **out) {
    const matmul_params *p = pp;
    accel_tensor *a = in_tensor(c, p->ta, p->nda, p->sa, FILL_U(-1, 1), p->la);
    accel_tensor *b = in_tensor(c, p->tb, p->ndb, p->sb, FILL_U(-1, 1), p->lb);
    out[0] = accel_matmul(c->g, a, b);
    return 1;
}

/* 2 * M * N * K per broadcast batch element */
static double matmul_flops(const matmul_params *p) {
    int n = p->nda > p->ndb ? p->nda : p->ndb;
    double batch = 1;
    for (int i = 0; i < n - 2; i++) {
        int ia = p->nda - n + i, ib = p->ndb - n + i;
        int64_t da = ia >= 0 ? p->sa[ia] : 1, db = ib >= 0 ? p->sb[ib] : 1;
        batch *= (double)(da > db ? da : db);
    }
    return 2.0 * batch * (double)p->sa[p->nda - 2] * (double)p->sa[p->nda - 1] * (double)p->sb[p->ndb - 1];
}

static op_case *add_matmul(case_list *l, accel_dtype ta, accel_dtype tb, const int64_t *sa, int nda, const int64_t *sb,
                       int ndb, layout la, layout lb) {
    matmul_params p = {.ta = ta, .tb = tb, .nda = nda, .ndb = ndb, .la = la, .lb = lb};
    memcpy(p.sa, sa, sizeof(int64_t) * (size_t)nda);
    memcpy(p.sb, sb, sizeof(int64_t) * (size_t)ndb);
    char s1[64], s2[64];
    op_case *c = case_add(l, "matmul", build_matmul, &p, sizeof p, tol(NMSE_DOT, ta, 1), "a=%s%s %s b=%s%s %s",
                          accel_dtype_name(ta), shape_str(s1, sizeof s1, nda, sa), layout_name(la),
                          accel_dtype_name(tb), shape_str(s2, sizeof s2, ndb, sb), layout_name(lb));
    c->flops = matmul_flops(&p);
    return c;
}

static void matmul_cases(case_list *l) {
    const accel_dtype F = ACCEL_F32, H = ACCEL_F16, B = ACCEL_BF16;
    const layout C = LAYOUT_CONTIG, T = LAYOUT_TRANSPOSED;
    if (l->perf) {
        /* the bar: f32 1024^3 against the machine's best BLAS */
        case_mark_bar(add_matmul(l, F, F, SH(1024, 1024), SH(1024, 1024), C, C), "matmul");
        add_matmul(l, F, F, SH(1024, 1024), SH(1024, 1024), C, T); /* Linear layout: x @ w^T */
        add_matmul(l, H, H, SH(1024, 1024), SH(1024, 1024), C, C);
        add_matmul(l, B, B, SH(1024, 1024), SH(1024, 1024), C, C);
        add_matmul(l, F, H, SH(128, 4096), SH(4096, 4096), C, T);
        add_matmul(l, F, F, SH(1, 4096), SH(4096, 4096), C, T); /* decode: one token through a 4096 Linear */
        add_matmul(l, F, F, SH(16, 512, 64), SH(16, 64, 512), C, C);
        return;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            add_matmul(l, k_float_types[i], k_float_types[j], SH(2, 7, 33), SH(2, 33, 13), C, C);
    add_matmul(l, F, F, SH(1, 1), SH(1, 1), C, C);
    add_matmul(l, F, F, SH(5, 1), SH(1, 7), C, C);      /* K = 1: an outer product */
    add_matmul(l, F, F, SH(1, 4096), SH(4096, 1), C, C); /* M = N = 1: one long dot product */
    add_matmul(l, F, F, SH(5, 17), SH(17, 1), C, C);
    add_matmul(l, F, F, SH(1, 4096), SH(4096, 32), C, C);
    add_matmul(l, F, F, SH(33, 4096), SH(4096, 7), C, C);
    add_matmul(l, F, F, SH(128, 128), SH(128, 128), C, C);
    add_matmul(l, F, F, SH(512, 512), SH(512, 512), C, C);
    add_matmul(l, F, F, SH(3, 5, 64), SH(64, 48), C, T);
    add_matmul(l, F, F, SH(16, 40), SH(40, 24), T, C);
    add_matmul(l, F, F, SH(16, 40), SH(40, 24), T, T);
    add_matmul(l, F, F, SH(2, 3, 8, 16), SH(1, 3, 16, 9), C, C);
    add_matmul(l, F, F, SH(4, 1, 8, 16), SH(1, 3, 16, 8), C, C);
    add_matmul(l, F, F, SH(2, 3, 8, 16), SH(16, 9), C, C);
    add_matmul(l, F, F, SH(8, 16), SH(2, 3, 16, 9), C, C);
    add_matmul(l, F, F, SH(2, 1, 2, 1, 3, 4), SH(1, 2, 1, 2, 4, 5), C, C);
    add_matmul(l, F, F, SH(2, 4, 9, 16), SH(2, 4, 16, 11), LAYOUT_HEADS, LAYOUT_PERMUTED);
    add_matmul(l, F, F, SH(6, 20), SH(20, 7), LAYOUT_SLICED, LAYOUT_SLICED);
    add_matmul(l, F, F, SH(3, 5, 8), SH(3, 8, 6), LAYOUT_BCAST, C);
    add_matmul(l, H, H, SH(64, 256), SH(256, 64), C, C);
    add_matmul(l, B, B, SH(64, 256), SH(256, 64), C, C);
    add_matmul(l, H, H, SH(32, 512), SH(512, 256), C, T);
    add_matmul(l, B, B, SH(2, 4, 9, 64), SH(2, 4, 64, 9), LAYOUT_HEADS, T);
    add_matmul(l, F, H, SH(64, 1024), SH(1024, 128), C, T);
    add_matmul(l, F, B, SH(1, 1024), SH(1024, 256), C, T);
    add_matmul(l, H, F, SH(7, 300), SH(300, 5), C, C);
    add_matmul(l, H, H, SH(256, 256), SH(256, 256), C, C);
}

/* ---- linear: x @ w^T + bias -------------------------------------------------------------------------------- */
typedef struct linear_params {
    accel_dtype tx, tw;
    bool bias;
    int nd;
    int64_t sx[ACCEL_MAX_DIMS]; /* [..., in] */
    int64_t out_features;
} linear_params;

static int build_linear(build_ctx *c, const void *pp, accel_tensor **out) {
    const linear_params *p = pp;
    int64_t in = p->sx[p->nd - 1];
    accel_tensor *x = in_tensor(c, p->tx, p->nd, p->sx, FILL_U(-1, 1), LAYOUT_CONTIG);
    accel_tensor *w = IN(c, p->tw, FILL_U(-0.1, 0.1), p->out_features, in);
    accel_tensor *b = p->bias ? IN(c, p->tw, FILL_U(-1, 1), p->out_features) : NULL;
    out[0] = accel_linear(c->g, x, w, b);
    return 1;
}

static void add_linear(case_list *l, accel_dtype tx, accel_dtype tw, bool bias, const int64_t *sx, int nd,
                       int64_t out_features) {
    linear_params p = {.tx = tx, .tw = tw, .bias = bias, .nd = nd, .out_features = out_features};
    memcpy(p.sx, sx, sizeof(int64_t) * (size_t)nd);
    char s[64];
    /* with a bias the matmul result is rounded to x's dtype, then the sum once more */
    op_case *c = case_add(l, "linear", build_linear, &p, sizeof p, tol(NMSE_DOT, tx, bias ? 2 : 1),
                          "x=%s%s w=%s[%lld,%lld] bias=%s", accel_dtype_name(tx), shape_str(s, sizeof s, nd, sx),
                          accel_dtype_name(tw), (long long)out_features, (long long)sx[nd - 1],
                          bias ? accel_dtype_name(tw) : "none");
    c->flops = 2.0 * (double)shape_nelements(nd, sx) * (double)out_features;
}

static void linear_cases(case_list *l) {
    if (l->perf) {
        add_linear(l, ACCEL_F32, ACCEL_F32, true, SH(128, 4096), 4096);
        return;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) add_linear(l, k_float_types[i], k_float_types[j], true, SH(2, 5, 33), 17);
    add_linear(l, ACCEL_F32, ACCEL_F32, false, SH(2, 5, 33), 17);
    add_linear(l, ACCEL_F16, ACCEL_F16, false, SH(3, 64), 40);
    add_linear(l, ACCEL_F32, ACCEL_F32, true, SH(1, 1), 1);
    add_linear(l, ACCEL_F32, ACCEL_F32, true, SH(32, 768), 768);
    add_linear(l, ACCEL_F32, ACCEL_F16, true, SH(1, 7, 256), 512);
}

void cases_matmul(case_list *l) {
    matmul_cases(l);
    linear_cases(l);
}
