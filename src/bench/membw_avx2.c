/* membw_avx2.c — the bandwidth read pass with 256-bit loads (see membw_kernels.h). */
#include "bench/membw_kernels.h"

#include <immintrin.h>

uint64_t membw_sum_avx2(const void *p, size_t bytes) {
    const __m256i *v = p;
    __m256i a = _mm256_setzero_si256(), b = a;
    for (size_t i = 0; i < bytes / 32; i += 2) { /* two independent sums per 64-byte line */
        a = _mm256_add_epi64(a, _mm256_load_si256(v + i));
        b = _mm256_add_epi64(b, _mm256_load_si256(v + i + 1));
    }
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)(void *)lanes, _mm256_add_epi64(a, b));
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
