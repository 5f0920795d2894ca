/* AVX2 row conversions and row math (see cpu_vec.h). Called only when ctx->isa >= CPU_ISA_AVX2. Row tails go
 * through an 8-element stack buffer, so every element is computed by the same vector code. */
#include "backends/cpu/cpu_vec.h"
#include "backends/cpu/cpu_vec_avx2.h"

#include <string.h>

void cpu_vec_f16_to_f32_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, cpu_load_f16_ps256(src + i));
    if (i < n) {
        uint16_t in[8] = {0};
        float out[8];
        memcpy(in, src + i, (size_t)(n - i) * 2);
        _mm256_storeu_ps(out, cpu_load_f16_ps256(in));
        memcpy(dst + i, out, (size_t)(n - i) * 4);
    }
}

void cpu_vec_f32_to_f16_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) cpu_store_f16_ps256(dst + i, _mm256_loadu_ps(src + i));
    if (i < n) {
        float in[8] = {0};
        uint16_t out[8];
        memcpy(in, src + i, (size_t)(n - i) * 4);
        cpu_store_f16_ps256(out, _mm256_loadu_ps(in));
        memcpy(dst + i, out, (size_t)(n - i) * 2);
    }
}

void cpu_vec_bf16_to_f32_avx2(const uint16_t *src, float *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, cpu_load_bf16_ps256(src + i));
    if (i < n) {
        uint16_t in[8] = {0};
        float out[8];
        memcpy(in, src + i, (size_t)(n - i) * 2);
        _mm256_storeu_ps(out, cpu_load_bf16_ps256(in));
        memcpy(dst + i, out, (size_t)(n - i) * 4);
    }
}

void cpu_vec_f32_to_bf16_avx2(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) cpu_store_bf16_ps256(dst + i, _mm256_loadu_ps(src + i));
    if (i < n) {
        float in[8] = {0};
        uint16_t out[8];
        memcpy(in, src + i, (size_t)(n - i) * 4);
        cpu_store_bf16_ps256(out, _mm256_loadu_ps(in));
        memcpy(dst + i, out, (size_t)(n - i) * 2);
    }
}

/* Applies an inline __m256 function to a row, tail included. */
#define CPU_ROW_MAP_AVX2(fn, dst, src, n)                                                                       \
    do {                                                                                                        \
        int64_t i_ = 0;                                                                                         \
        for (; i_ + 8 <= (n); i_ += 8) _mm256_storeu_ps((dst) + i_, fn(_mm256_loadu_ps((src) + i_)));           \
        if (i_ < (n)) {                                                                                         \
            float t_[8] = {0};                                                                                  \
            memcpy(t_, (src) + i_, (size_t)((n) - i_) * 4);                                                     \
            _mm256_storeu_ps(t_, fn(_mm256_loadu_ps(t_)));                                                      \
            memcpy((dst) + i_, t_, (size_t)((n) - i_) * 4);                                                     \
        }                                                                                                       \
    } while (0)

void cpu_vec_exp_f32_avx2(float *dst, const float *src, int64_t n) { CPU_ROW_MAP_AVX2(cpu_exp_ps256, dst, src, n); }
void cpu_vec_erf_f32_avx2(float *dst, const float *src, int64_t n) { CPU_ROW_MAP_AVX2(cpu_erf_ps256, dst, src, n); }
