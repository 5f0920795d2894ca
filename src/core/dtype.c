/* Data type table and scalar conversions. */
#include "core/error.h"
#include "core/tensor.h"

#include <math.h>
#include <string.h>

typedef struct dtype_info {
    const char *name;
    size_t block_bytes;
    int64_t block_elems;
    bool is_float;
} dtype_info;

static const dtype_info k_dtypes[ACCEL_DTYPE_COUNT] = {
    [ACCEL_F32] = {"f32", 4, 1, true},     [ACCEL_F16] = {"f16", 2, 1, true},
    [ACCEL_BF16] = {"bf16", 2, 1, true},   [ACCEL_I8] = {"i8", 1, 1, false},
    [ACCEL_I32] = {"i32", 4, 1, false},    [ACCEL_I64] = {"i64", 8, 1, false},
    [ACCEL_Q8_0] = {"q8_0", 34, 32, true}, [ACCEL_Q4_0] = {"q4_0", 18, 32, true},
};

static bool dtype_valid(accel_dtype d) { return (unsigned)d < ACCEL_DTYPE_COUNT; }

const char *accel_dtype_name(accel_dtype d) { return dtype_valid(d) ? k_dtypes[d].name : "?"; }

accel_status accel_dtype_from_name(const char *name, accel_dtype *out) {
    if (!name || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_dtype_from_name: NULL argument");
    for (int i = 0; i < ACCEL_DTYPE_COUNT; i++) {
        if (strcmp(name, k_dtypes[i].name) == 0) {
            *out = (accel_dtype)i;
            return ACCEL_OK;
        }
    }
    return accel_set_error(ACCEL_ERR_INVALID_ARG, "unknown dtype '%s'", name);
}

size_t accel_dtype_block_bytes(accel_dtype d) { return dtype_valid(d) ? k_dtypes[d].block_bytes : 0; }
int64_t accel_dtype_block_elems(accel_dtype d) { return dtype_valid(d) ? k_dtypes[d].block_elems : 0; }
size_t accel_dtype_size(accel_dtype d) {
    return dtype_valid(d) && k_dtypes[d].block_elems == 1 ? k_dtypes[d].block_bytes : 0;
}
bool accel_dtype_is_float(accel_dtype d) { return dtype_valid(d) && k_dtypes[d].is_float; }

/* ---- half and bfloat16 ----------------------------------------------------------------------------------- */
uint16_t accel_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0)); /* inf / nan */
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u); /* overflow -> inf */
    if (e <= 0) {                                   /* subnormal or zero */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) half++; /* may carry into exponent: correct */
    return (uint16_t)half;
}

float accel_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t accel_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet nan */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float accel_bf16_to_f32(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

double accel_load_f64(const void *p, accel_dtype d) {
    switch (d) {
    case ACCEL_F32: { float v; memcpy(&v, p, 4); return v; }
    case ACCEL_F16: { uint16_t v; memcpy(&v, p, 2); return accel_f16_to_f32(v); }
    case ACCEL_BF16: { uint16_t v; memcpy(&v, p, 2); return accel_bf16_to_f32(v); }
    case ACCEL_I8: return *(const int8_t *)p;
    case ACCEL_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case ACCEL_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    default: return NAN;
    }
}

/* Float to integer: truncate toward zero and saturate (NaN gives 0), so conversions never hit undefined C casts. */
static double sat_trunc(double v, double lo, double hi) {
    if (v != v) return 0;
    v = trunc(v);
    return v < lo ? lo : v > hi ? hi : v;
}

void accel_store_f64(void *p, accel_dtype d, double v) {
    switch (d) {
    case ACCEL_F32: { float f = (float)v; memcpy(p, &f, 4); break; }
    case ACCEL_F16: { uint16_t h = accel_f32_to_f16((float)v); memcpy(p, &h, 2); break; }
    case ACCEL_BF16: { uint16_t h = accel_f32_to_bf16((float)v); memcpy(p, &h, 2); break; }
    case ACCEL_I8: *(int8_t *)p = (int8_t)sat_trunc(v, -128.0, 127.0); break;
    case ACCEL_I32: { int32_t i = (int32_t)sat_trunc(v, -2147483648.0, 2147483647.0); memcpy(p, &i, 4); break; }
    case ACCEL_I64: { int64_t i = (int64_t)sat_trunc(v, -9223372036854775808.0, 9223372036854774784.0); memcpy(p, &i, 8); break; }
    default: break;
    }
}
