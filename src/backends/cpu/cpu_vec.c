/* Row conversion and row math dispatchers (see cpu_vec.h), with the portable implementations. */
#include "backends/cpu/cpu_vec.h"

#include <math.h>
#include <string.h>

/* ---- loads ------------------------------------------------------------------------------------------------- */

static float load_one_f32(accel_dtype dt, const char *p) {
    switch (dt) {
    case ACCEL_F32: { float v; memcpy(&v, p, 4); return v; }
    case ACCEL_F16: { uint16_t h; memcpy(&h, p, 2); return accel_f16_to_f32(h); }
    case ACCEL_BF16: { uint16_t h; memcpy(&h, p, 2); return accel_bf16_to_f32(h); }
    case ACCEL_I8: return (float)*(const int8_t *)p;
    case ACCEL_I32: { int32_t v; memcpy(&v, p, 4); return (float)v; }
    case ACCEL_I64: { int64_t v; memcpy(&v, p, 8); return (float)(double)v; } /* as accel_load_f64 then store */
    default: return NAN;
    }
}

static void f16_to_f32(cpu_isa isa, const uint16_t *src, float *dst, int64_t n) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_f16_to_f32_avx512(src, dst, n); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_f16_to_f32_avx2(src, dst, n); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = accel_f16_to_f32(src[i]);
}

static void bf16_to_f32(cpu_isa isa, const uint16_t *src, float *dst, int64_t n) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_bf16_to_f32_avx512(src, dst, n); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_bf16_to_f32_avx2(src, dst, n); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = accel_bf16_to_f32(src[i]);
}

void cpu_vec_load_f32(cpu_isa isa, accel_dtype dt, const void *src, int64_t stride, float *dst, int64_t n) {
    if (n <= 0) return;
    const char *p = src;
    if (stride == 0 && n > 1) {
        float v = load_one_f32(dt, p);
        for (int64_t i = 0; i < n; i++) dst[i] = v;
        return;
    }
    int64_t es = (int64_t)accel_dtype_size(dt);
    if (stride == es) {
        if (dt == ACCEL_F32) {
            if ((const void *)dst != src) memmove(dst, src, (size_t)n * 4);
            return;
        }
        if (dt == ACCEL_F16) { f16_to_f32(isa, src, dst, n); return; }
        if (dt == ACCEL_BF16) { bf16_to_f32(isa, src, dst, n); return; }
    }
    /* strided or integer rows: one loop per dtype keeps the switch out of the inner loop */
    switch (dt) {
    case ACCEL_F32:
        for (int64_t i = 0; i < n; i++) memcpy(&dst[i], p + i * stride, 4);
        break;
    case ACCEL_I8:
        for (int64_t i = 0; i < n; i++) dst[i] = (float)*(const int8_t *)(p + i * stride);
        break;
    case ACCEL_I32:
        for (int64_t i = 0; i < n; i++) {
            int32_t v;
            memcpy(&v, p + i * stride, 4);
            dst[i] = (float)v;
        }
        break;
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = load_one_f32(dt, p + i * stride);
        break;
    }
}

const float *cpu_vec_row_f32(cpu_isa isa, accel_dtype dt, const void *src, int64_t stride, int64_t n, float *buf) {
    if (dt == ACCEL_F32 && (stride == 4 || n == 1)) return src;
    cpu_vec_load_f32(isa, dt, src, stride, buf, n);
    return buf;
}

/* ---- stores ------------------------------------------------------------------------------------------------ */

/* Float to integer as accel_store_f64 does it: NaN -> 0, truncate toward zero, saturate to [lo, hi]. The bounds
 * are doubles because hi of int64 is not a float. */
#define CPU_STORE_INT(T, lo, hi)                                                                                \
    do {                                                                                                        \
        T *d = dst;                                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                                       \
            double v = src[i];                                                                                  \
            T out;                                                                                              \
            if (v != v) out = 0;                                                                                \
            else if (v <= (lo)) out = (T)(lo);                                                                  \
            else if (v >= (hi)) out = (T)(hi);                                                                  \
            else out = (T)v;                                                                                    \
            memcpy(&d[i], &out, sizeof out);                                                                    \
        }                                                                                                       \
    } while (0)

void cpu_vec_store_f32(cpu_isa isa, accel_dtype dt, const float *src, void *dst, int64_t n) {
    if (n <= 0) return;
    switch (dt) {
    case ACCEL_F32:
        if ((const void *)src != dst) memmove(dst, src, (size_t)n * 4);
        break;
    case ACCEL_F16:
#if CPU_VEC_X86
        if (isa == CPU_ISA_AVX512) { cpu_vec_f32_to_f16_avx512(src, dst, n); return; }
        if (isa == CPU_ISA_AVX2) { cpu_vec_f32_to_f16_avx2(src, dst, n); return; }
#endif
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = accel_f32_to_f16(src[i]);
        break;
    case ACCEL_BF16:
#if CPU_VEC_X86
        if (isa == CPU_ISA_AVX512) { cpu_vec_f32_to_bf16_avx512(src, dst, n); return; }
        if (isa == CPU_ISA_AVX2) { cpu_vec_f32_to_bf16_avx2(src, dst, n); return; }
#endif
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = accel_f32_to_bf16(src[i]);
        break;
    case ACCEL_I8: CPU_STORE_INT(int8_t, -128.0, 127.0); break;
    case ACCEL_I32: CPU_STORE_INT(int32_t, -2147483648.0, 2147483647.0); break;
    case ACCEL_I64: CPU_STORE_INT(int64_t, -9223372036854775808.0, 9223372036854774784.0); break;
    default: break;
    }
    (void)isa;
}

/* ---- math -------------------------------------------------------------------------------------------------- */

void cpu_vec_exp_f32(cpu_isa isa, float *dst, const float *src, int64_t n) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_exp_f32_avx512(dst, src, n); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_exp_f32_avx2(dst, src, n); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = expf(src[i]);
}

void cpu_vec_erf_f32(cpu_isa isa, float *dst, const float *src, int64_t n) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_erf_f32_avx512(dst, src, n); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_erf_f32_avx2(dst, src, n); return; }
#endif
    (void)isa;
    for (int64_t i = 0; i < n; i++) dst[i] = erff(src[i]);
}
