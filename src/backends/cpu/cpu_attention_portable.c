/* Portable C versions of the attention kernels (see cpu_attention.h); the SIMD files fall back to scores/accum
 * here for K/V rows that are not contiguous. */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_data.h"

#include <math.h>

static void gemm_portable(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs,
                          const float *b, int64_t ldb, float *c, int64_t ldc, bool accumulate) {
    for (int64_t m = 0; m < M; m++) {
        float *crow = c + m * ldc;
        if (!accumulate)
            for (int64_t n = 0; n < N; n++) crow[n] = 0.0f;
        for (int64_t k = 0; k < K; k++) {
            const float av = a[m * a_rs + k * a_cs];
            const float *brow = b + k * ldb;
            for (int64_t n = 0; n < N; n++) crow[n] += av * brow[n];
        }
    }
}

static void softmax_tile_portable(float *s, int64_t nk, int64_t nr, int64_t ld, float *m, float *l, float *corr) {
    for (int64_t r = 0; r < nr; r++) {
        float mt = -INFINITY;
        for (int64_t j = 0; j < nk; j++) mt = s[j * ld + r] > mt ? s[j * ld + r] : mt;
        const float mn = mt > m[r] ? mt : m[r];
        const float mu = mn == -INFINITY ? 0.0f : mn;
        float sum = 0.0f;
        for (int64_t j = 0; j < nk; j++) {
            const float p = expf(s[j * ld + r] - mu);
            s[j * ld + r] = p;
            sum += p;
        }
        corr[r] = expf(m[r] - mu);
        l[r] = l[r] * corr[r] + sum;
        m[r] = mn;
    }
}

static void scores_portable(const float *q, const char *k, int64_t k_rs, int64_t k_cs, accel_dtype kt, int64_t D,
                            int64_t n, float *s) {
    for (int64_t j = 0; j < n; j++) {
        const char *row = k + j * k_rs;
        float acc = 0.0f;
        if (kt == ACCEL_F32) {
            for (int64_t d = 0; d < D; d++) {
                float kv;
                memcpy(&kv, row + d * k_cs, 4);
                acc += q[d] * kv;
            }
        } else {
            for (int64_t d = 0; d < D; d++) acc += q[d] * cpu_data_load_float(row + d * k_cs, kt);
        }
        s[j] = acc;
    }
}

static void accum_portable(float *o, const float *p, const char *v, int64_t v_rs, int64_t v_cs, accel_dtype vt,
                           int64_t Dv, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        const char *row = v + j * v_rs;
        const float pj = p[j];
        if (pj == 0.0f) continue; /* hidden keys add nothing */
        if (vt == ACCEL_F32) {
            for (int64_t e = 0; e < Dv; e++) {
                float vv;
                memcpy(&vv, row + e * v_cs, 4);
                o[e] += pj * vv;
            }
        } else {
            for (int64_t e = 0; e < Dv; e++) o[e] += pj * cpu_data_load_float(row + e * v_cs, vt);
        }
    }
}

static float row_max_portable(const float *s, int64_t n) {
    float mx = -INFINITY;
    for (int64_t j = 0; j < n; j++) mx = s[j] > mx ? s[j] : mx;
    return mx;
}

static float exp_sum_portable(float *s, int64_t n, float m) {
    float sum = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        s[j] = expf(s[j] - m);
        sum += s[j];
    }
    return sum;
}

const cpu_attn_kernels cpu_attn_kernels_portable = {
    gemm_portable, softmax_tile_portable, scores_portable, accum_portable, row_max_portable, exp_sum_portable,
};
