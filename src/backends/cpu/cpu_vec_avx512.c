/* AVX-512 row conversions and row math (see cpu_vec.h). Called only when ctx->isa == CPU_ISA_AVX512. */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_avx512.h"

void cpu_vec_f16_to_f32_avx512(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, cpu_load_f16_ps512(src + i));
    if (i < n) {
        __mmask16 m = cpu_tail_mask16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, cpu_load_f16_mask_ps512(src + i, m));
    }
}

void cpu_vec_f32_to_f16_avx512(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) cpu_store_f16_ps512(dst + i, _mm512_loadu_ps(src + i));
    if (i < n) {
        __mmask16 m = cpu_tail_mask16(n - i);
        cpu_store_f16_mask_ps512(dst + i, _mm512_maskz_loadu_ps(m, src + i), m);
    }
}

void cpu_vec_bf16_to_f32_avx512(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, cpu_load_bf16_ps512(src + i));
    if (i < n) {
        __mmask16 m = cpu_tail_mask16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, cpu_load_bf16_mask_ps512(src + i, m));
    }
}

void cpu_vec_f32_to_bf16_avx512(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) cpu_store_bf16_ps512(dst + i, _mm512_loadu_ps(src + i));
    if (i < n) {
        __mmask16 m = cpu_tail_mask16(n - i);
        cpu_store_bf16_mask_ps512(dst + i, _mm512_maskz_loadu_ps(m, src + i), m);
    }
}

void cpu_vec_exp_f32_avx512(float *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, cpu_exp_ps512(_mm512_loadu_ps(src + i)));
    if (i < n) {
        __mmask16 m = cpu_tail_mask16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, cpu_exp_ps512(_mm512_maskz_loadu_ps(m, src + i)));
    }
}

void cpu_vec_erf_f32_avx512(float *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, cpu_erf_ps512(_mm512_loadu_ps(src + i)));
    if (i < n) {
        __mmask16 m = cpu_tail_mask16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, cpu_erf_ps512(_mm512_maskz_loadu_ps(m, src + i)));
    }
}
