/* AVX2 helpers of the CPU reductions (cpu_reduce.c): the TOP_K threshold scan, row max and search. Only called
 * when ctx->isa >= CPU_ISA_AVX2. */
#include "backends/cpu/cpu_data.h"

#include <immintrin.h>
#include <math.h>

int64_t cpu_topk_skip_avx2(const float *x, int64_t n, float thr) {
    const __m256 t = _mm256_set1_ps(thr);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        /* not (x <= thr), unordered included: a NaN value or a NaN threshold stops the skip */
        const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), t, _CMP_NLE_UQ));
        if (m) return j + __builtin_ctz((unsigned)m);
    }
    for (; j < n; j++)
        if (!(x[j] <= thr)) return j;
    return n;
}

float cpu_max_f32_avx2(const float *x, int64_t n, bool *has_nan) {
    __m256 m = _mm256_set1_ps(-INFINITY), nan = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 v = _mm256_loadu_ps(x + j);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m = _mm256_max_ps(m, v);
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    bool any = _mm256_movemask_ps(nan) != 0;
    for (; j < n; j++) {
        any = any || x[j] != x[j];
        r = x[j] > r ? x[j] : r;
    }
    *has_nan = any;
    return r;
}

int64_t cpu_find_f32_avx2(const float *x, int64_t n, float v) {
    const __m256 t = _mm256_set1_ps(v);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), t, _CMP_EQ_OQ));
        if (m) return j + __builtin_ctz((unsigned)m);
    }
    for (; j < n; j++)
        if (x[j] == v) return j;
    return n;
}
