/* membw_avx512.c — the bandwidth read pass with 512-bit loads (see membw_kernels.h). */
#include "bench/membw_kernels.h"

#include <immintrin.h>

uint64_t membw_sum_avx512(const void *p, size_t bytes) {
    const __m512i *v = p;
    const size_t n = bytes / 64;
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) { /* four independent sums, one line each */
        a = _mm512_add_epi64(a, _mm512_load_si512(v + i));
        b = _mm512_add_epi64(b, _mm512_load_si512(v + i + 1));
        c = _mm512_add_epi64(c, _mm512_load_si512(v + i + 2));
        d = _mm512_add_epi64(d, _mm512_load_si512(v + i + 3));
    }
    for (; i < n; i++) a = _mm512_add_epi64(a, _mm512_load_si512(v + i));
    /* not _mm512_reduce_add_epi64: it adds as signed integers, where wrapping is undefined */
    uint64_t lanes[8], sum = 0;
    _mm512_storeu_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(a, b), _mm512_add_epi64(c, d)));
    for (int k = 0; k < 8; k++) sum += lanes[k];
    return sum;
}
