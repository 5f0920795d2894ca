/* Cases: ROPE (both pair layouts, partial rotation, scaling, an inv_freq table) and ATTENTION (masks, causal with
 * Sq < Skv, GQA/MQA, sliding windows, Dv != D, strided q/k/v). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define NO_DTYPE ((accel_dtype)-1)

/* ---- rope -------------------------------------------------------------------------------------------------- */
typedef struct rope_params {
    accel_dtype tx;
    int64_t sx[4]; /* [B, S, H, D] */
    layout lx;
    accel_rope_params rp;
    bool inv_freq;
    int max_pos;
} rope_params;

static int build_rope(build_ctx *c, const void *pp, accel_tensor **out) {
    const rope_params *p = pp;
    accel_tensor *x = in_tensor(c, p->tx, 4, p->sx, FILL_U(-1, 1), p->lx);
    accel_tensor *pos = IN(c, ACCEL_I32, FILL_U(0, p->max_pos), p->sx[1]);
    int n_rot = p->rp.n_rot ? p->rp.n_rot : (int)p->sx[3];
    /* a table like the llama3/yarn ones: frequencies spread over (1e-4, 1] */
    accel_tensor *inv = p->inv_freq ? IN(c, ACCEL_F32, FILL_U(1e-4, 1), n_rot / 2) : NULL;
    out[0] = accel_rope(c->g, x, pos, inv, &p->rp);
    return 1;
}

static void add_rope(case_list *l, accel_dtype tx, const int64_t *sx, int nd, layout lx, accel_rope_mode mode,
                     int n_rot, float theta, float freq_scale, float attn_factor, bool inv_freq, int max_pos) {
    (void)nd;
    rope_params p = {.tx = tx, .lx = lx, .inv_freq = inv_freq, .max_pos = max_pos};
    memcpy(p.sx, sx, sizeof p.sx);
    p.rp = accel_rope_default_params();
    p.rp.mode = mode;
    p.rp.n_rot = n_rot;
    p.rp.theta = theta;
    p.rp.freq_scale = freq_scale;
    p.rp.attn_factor = attn_factor;
    char s[64];
    case_add(l, "rope", build_rope, &p, sizeof p, tol(NMSE_ROPE((double)max_pos), tx, 1),
             "x=%s%s %s %s n_rot=%d theta=%g freq_scale=%g attn_factor=%g inv_freq=%s pos<=%d", accel_dtype_name(tx),
             shape_str(s, sizeof s, 4, sx), layout_name(lx), mode == ACCEL_ROPE_HALF ? "half" : "interleaved", n_rot,
             theta, freq_scale, attn_factor, inv_freq ? "table" : "none", max_pos);
}

static void rope_cases(case_list *l) {
    const accel_rope_mode HALF = ACCEL_ROPE_HALF, IL = ACCEL_ROPE_INTERLEAVED;
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_rope(l, ACCEL_F32, SH(1, 512, 32, 128), C, HALF, 0, 10000.0f, 1.0f, 1.0f, false, 4096);
        add_rope(l, ACCEL_F16, SH(1, 512, 32, 128), C, HALF, 0, 10000.0f, 1.0f, 1.0f, false, 4096);
        return;
    }
    for (int i = 0; i < 3; i++)
        for (int m = 0; m < 2; m++)
            for (int t = 0; t < 2; t++)
                add_rope(l, k_float_types[i], SH(2, 5, 3, 16), C, m ? IL : HALF, 0, 10000.0f, 1.0f, 1.0f, t == 1, 100);
    for (int m = 0; m < 2; m++) {
        accel_rope_mode mode = m ? IL : HALF;
        add_rope(l, ACCEL_F32, SH(2, 5, 3, 16), C, mode, 8, 10000.0f, 1.0f, 1.0f, false, 100);
        add_rope(l, ACCEL_F32, SH(2, 5, 3, 16), C, mode, 8, 10000.0f, 1.0f, 1.0f, true, 100);
        add_rope(l, ACCEL_F32, SH(1, 9, 2, 64), C, mode, 32, 10000.0f, 0.25f, 1.2f, false, 1000);
        add_rope(l, ACCEL_F32, SH(1, 9, 2, 64), C, mode, 0, 1000000.0f, 0.5f, 1.0f, true, 1000);
        add_rope(l, ACCEL_F32, SH(1, 7, 4, 32), LAYOUT_HEADS, mode, 0, 10000.0f, 1.0f, 1.0f, false, 500);
        add_rope(l, ACCEL_F16, SH(2, 7, 3, 32), LAYOUT_SLICED, mode, 16, 10000.0f, 1.0f, 1.0f, false, 500);
        add_rope(l, ACCEL_F32, SH(1, 64, 8, 128), C, mode, 0, 10000.0f, 1.0f, 1.0f, false, 4096);
    }
    add_rope(l, ACCEL_F32, SH(1, 1, 1, 2), C, HALF, 0, 10000.0f, 1.0f, 1.0f, false, 10);
    add_rope(l, ACCEL_BF16, SH(1, 32, 8, 64), C, HALF, 0, 500000.0f, 0.125f, 1.0f, true, 2000);
}

/* ---- attention --------------------------------------------------------------------------------------------- */
typedef struct attn_params {
    accel_dtype tq, tkv, tm;
    int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
    int ndm;
    int64_t sm[4];
    fill_kind mask_fill;
    layout lq, lkv;
    accel_attention_params ap;
    double qk_range; /* q and k in [-qk_range, qk_range) */
} attn_params;

static int build_attention(build_ctx *c, const void *pp, accel_tensor **out) {
    const attn_params *p = pp;
    fill_spec fqk = FILL_U(-p->qk_range, p->qk_range);
    accel_tensor *q = in_tensor(c, p->tq, 4, (const int64_t[]){p->B, p->Hq, p->Sq, p->D}, fqk, p->lq);
    accel_tensor *k = in_tensor(c, p->tkv, 4, (const int64_t[]){p->B, p->Hkv, p->Skv, p->D}, fqk, p->lkv);
    accel_tensor *v = in_tensor(c, p->tkv, 4, (const int64_t[]){p->B, p->Hkv, p->Skv, p->Dv}, FILL_U(-1, 1), p->lkv);
    accel_tensor *m = NULL;
    if (p->tm != NO_DTYPE) m = in_tensor(c, p->tm, p->ndm, p->sm, (fill_spec){p->mask_fill, -2, 2}, LAYOUT_CONTIG);
    out[0] = accel_attention(c->g, q, k, v, m, &p->ap);
    return 1;
}

typedef struct attn_shape {
    int64_t B, Hq, Hkv, Sq, Skv, D, Dv;
} attn_shape;

static void add_attention_qk(case_list *l, accel_dtype tq, accel_dtype tkv, attn_shape s, layout lq, layout lkv,
                             accel_dtype tm, const int64_t *sm, int ndm, fill_kind mf, float scale, bool causal,
                             int window, double qk_range) {
    attn_params p = {.tq = tq, .tkv = tkv, .tm = tm, .B = s.B, .Hq = s.Hq, .Hkv = s.Hkv, .Sq = s.Sq, .Skv = s.Skv,
                     .D = s.D, .Dv = s.Dv, .ndm = ndm, .mask_fill = mf, .lq = lq, .lkv = lkv, .qk_range = qk_range};
    if (ndm) memcpy(p.sm, sm, sizeof(int64_t) * (size_t)ndm);
    p.ap = accel_attention_default_params();
    p.ap.scale = scale;
    p.ap.causal = causal;
    p.ap.sliding_window = window;
    char ms[64] = "";
    if (tm != NO_DTYPE) shape_str(ms, sizeof ms, ndm, sm);
    op_case *c = case_add(
        l, "attention", build_attention, &p, sizeof p, tol(NMSE_DOT, tq, 1),
        "q=%s kv=%s B=%lld Hq=%lld Hkv=%lld Sq=%lld Skv=%lld D=%lld Dv=%lld q:%s kv:%s mask=%s%s%s scale=%g%s window=%d"
        " |q|,|k|<%g",
        accel_dtype_name(tq), accel_dtype_name(tkv), (long long)s.B, (long long)s.Hq, (long long)s.Hkv,
        (long long)s.Sq, (long long)s.Skv, (long long)s.D, (long long)s.Dv, layout_name(lq), layout_name(lkv),
        tm == NO_DTYPE ? "none" : accel_dtype_name(tm), ms, mf == FILL_MASK && tm != NO_DTYPE ? "(-inf)" : "", scale,
        causal ? " causal" : "", window, qk_range);
    /* count only the (query, key) pairs a causal or windowed query can see: that is the work there is */
    double pairs = 0;
    for (int64_t i = 0; i < s.Sq; i++) {
        int64_t pos = i + s.Skv - s.Sq, lo = 0, hi = s.Skv;
        if (causal && pos + 1 < hi) hi = pos + 1;
        if (window > 0 && pos - window + 1 > lo) lo = pos - window + 1;
        if (hi > lo) pairs += (double)(hi - lo);
    }
    c->flops = 2.0 * (double)(s.B * s.Hq) * pairs * (double)(s.D + s.Dv);
}

static void add_attention(case_list *l, accel_dtype tq, accel_dtype tkv, attn_shape s, layout lq, layout lkv,
                          accel_dtype tm, const int64_t *sm, int ndm, fill_kind mf, float scale, bool causal,
                          int window) {
    add_attention_qk(l, tq, tkv, s, lq, lkv, tm, sm, ndm, mf, scale, causal, window, 1.0);
}

static void attention_cases(case_list *l) {
    const accel_dtype F = ACCEL_F32, H = ACCEL_F16, N = NO_DTYPE;
    const layout C = LAYOUT_CONTIG;
    const int64_t *none = NULL;
    if (l->perf) {
        add_attention(l, F, F, (attn_shape){1, 16, 16, 512, 512, 64, 64}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
        add_attention(l, H, H, (attn_shape){1, 16, 16, 512, 512, 64, 64}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
        add_attention(l, F, F, (attn_shape){1, 32, 4, 1, 4096, 128, 128}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
        return;
    }
    static const accel_dtype masks[4] = {NO_DTYPE, ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    const attn_shape small = {2, 4, 2, 5, 7, 16, 16};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int m = 0; m < 4; m++)
                add_attention(l, k_float_types[i], k_float_types[j], small, C, C, masks[m], SH(2, 1, 5, 7), FILL_MASK,
                              0, false, 0);
    add_attention(l, F, F, (attn_shape){2, 4, 4, 5, 12, 16, 16}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){1, 2, 2, 9, 9, 32, 32}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){2, 4, 2, 1, 33, 16, 16}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){1, 8, 1, 6, 6, 16, 16}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){1, 14, 2, 7, 11, 64, 64}, C, C, F, SH(1, 1, 7, 11), FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){1, 2, 2, 16, 16, 16, 16}, C, C, N, none, 0, FILL_MASK, 0, true, 4);
    add_attention(l, F, F, (attn_shape){1, 2, 1, 6, 10, 16, 16}, C, C, F, SH(1, 1, 6, 10), FILL_UNIFORM, 0, false, 3);
    add_attention(l, H, H, (attn_shape){1, 4, 2, 12, 20, 16, 16}, C, C, N, none, 0, FILL_MASK, 0, true, 5);
    add_attention(l, F, F, (attn_shape){2, 3, 3, 5, 8, 16, 24}, C, C, N, none, 0, FILL_MASK, 0.3f, false, 0);
    add_attention(l, F, F, (attn_shape){2, 4, 4, 6, 6, 8, 8}, C, C, F, SH(1, 4, 6, 6), FILL_UNIFORM, 1.0f, false, 0);
    add_attention(l, F, F, (attn_shape){2, 4, 4, 6, 9, 8, 8}, C, C, F, SH(2, 1, 1, 9), FILL_MASK, 0, false, 0);
    add_attention(l, F, F, (attn_shape){2, 4, 2, 6, 9, 8, 8}, C, C, F, SH(2, 4, 6, 9), FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){2, 4, 2, 6, 9, 16, 16}, LAYOUT_HEADS, LAYOUT_HEADS, N, none, 0, FILL_MASK, 0,
                  true, 0);
    add_attention(l, F, H, (attn_shape){1, 4, 4, 5, 7, 16, 16}, LAYOUT_SLICED, LAYOUT_TRANSPOSED, N, none, 0,
                  FILL_MASK, 0, false, 0);
    add_attention(l, F, F, (attn_shape){2, 2, 2, 3, 4, 8, 8}, LAYOUT_BCAST, LAYOUT_PERMUTED, N, none, 0, FILL_MASK, 0,
                  false, 0);
    add_attention(l, F, F, (attn_shape){1, 1, 1, 1, 1, 1, 1}, C, C, N, none, 0, FILL_MASK, 0, false, 0);
    add_attention(l, F, F, (attn_shape){1, 8, 8, 256, 256, 64, 64}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
    add_attention(l, H, H, (attn_shape){1, 8, 8, 256, 256, 64, 64}, C, C, H, SH(1, 1, 256, 256), FILL_MASK, 0, true, 0);
    add_attention(l, F, F, (attn_shape){1, 32, 4, 1, 1024, 64, 64}, C, C, N, none, 0, FILL_MASK, 0, true, 0);
    add_attention(l, ACCEL_BF16, ACCEL_BF16, (attn_shape){1, 4, 4, 128, 128, 128, 128}, C, C, N, none, 0, FILL_MASK,
                  0, false, 0);
    /* scores up to |q||k|D*scale = 100*64/8 = 800: beyond exp's f32 range without the running max */
    add_attention_qk(l, F, F, (attn_shape){1, 2, 1, 9, 33, 64, 64}, C, C, N, none, 0, FILL_MASK, 0, true, 0, 10);
    add_attention_qk(l, H, H, (attn_shape){1, 2, 2, 4, 300, 64, 64}, C, C, F, SH(1, 1, 4, 300), FILL_MASK, 0, false, 0,
                     10);
}

void cases_attention(case_list *l) {
    rope_cases(l);
    attention_cases(l);
}
