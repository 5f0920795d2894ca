/* AVX-512 helpers of the CPU reductions (cpu_reduce.c): the TOP_K threshold scan, row max and search. Only
 * called when ctx->isa == CPU_ISA_AVX512. */
#include "backends/cpu/cpu_data.h"

#include <immintrin.h>
#include <math.h>

int64_t cpu_topk_skip_avx512(const float *x, int64_t n, float thr) {
    const __m512 t = _mm512_set1_ps(thr);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        /* not (x <= thr), unordered included: a NaN value or a NaN threshold stops the skip */
        const __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + j), t, _CMP_NLE_UQ);
        if (m) return j + __builtin_ctz(m);
    }
    for (; j < n; j++)
        if (!(x[j] <= thr)) return j;
    return n;
}

float cpu_max_f32_avx512(const float *x, int64_t n, bool *has_nan) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    __mmask16 nan = 0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const __m512 v = _mm512_loadu_ps(x + j);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m = _mm512_max_ps(m, v);
    }
    if (j < n) {
        const __mmask16 t = (__mmask16)((1u << (n - j)) - 1u);
        const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), t, x + j);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m = _mm512_max_ps(m, v);
    }
    *has_nan = nan != 0;
    return _mm512_reduce_max_ps(m);
}

int64_t cpu_find_f32_avx512(const float *x, int64_t n, float v) {
    const __m512 t = _mm512_set1_ps(v);
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + j), t, _CMP_EQ_OQ);
        if (m) return j + __builtin_ctz(m);
    }
    for (; j < n; j++)
        if (x[j] == v) return j;
    return n;
}
