/* Run-time ISA detection for the CPU backend's kernel dispatch. */
#include "backends/cpu/cpu_kernels.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static cpu_isa isa_supported(void) {
    __builtin_cpu_init();
    /* __builtin_cpu_supports also checks that the OS saves the vector registers (XCR0) */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return CPU_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return CPU_ISA_AVX2;
    return CPU_ISA_PORTABLE;
}

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

/* AMX tiles: CPUID.(7,0):EDX[24] amx-tile and [22] amx-bf16, and the OS enabling XTILECFG/XTILEDATA in XCR0
 * (bits 17, 18). Linux also wants arch_prctl(ARCH_REQ_XCOMP_PERM) before first use: the kernel using AMX asks. */
static bool amx_supported(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c & (1u << 27))) return false; /* OSXSAVE */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    if (!(d & (1u << 24)) || !(d & (1u << 22))) return false;
    unsigned long long xcr0 = read_xcr0();
    return (xcr0 & (3ull << 17)) == (3ull << 17);
}

static bool avx512_bf16_supported(void) { return __builtin_cpu_supports("avx512bf16"); }
#else
static cpu_isa isa_supported(void) {
#if defined(__aarch64__)
    return CPU_ISA_NEON;
#else
    return CPU_ISA_PORTABLE;
#endif
}
static bool amx_supported(void) { return false; }
static bool avx512_bf16_supported(void) { return false; }
#endif

cpu_isa cpu_detect_isa(void) {
    cpu_isa best = isa_supported();
    const char *force = getenv("ACCEL_CPU_ISA");
    if (!force || !*force) return best;
    cpu_isa want = best;
    if (strcmp(force, "portable") == 0) want = CPU_ISA_PORTABLE;
    else if (strcmp(force, "avx2") == 0) want = CPU_ISA_AVX2;
    else if (strcmp(force, "avx512") == 0) want = CPU_ISA_AVX512;
    else if (strcmp(force, "neon") == 0) want = CPU_ISA_NEON;
    else accel_log(ACCEL_LOG_WARN, "ACCEL_CPU_ISA=%s is not one of portable|avx2|avx512|neon: ignored", force);
    /* only ever lower: x86 levels are ordered, NEON is its own family */
    bool allowed = want == CPU_ISA_PORTABLE || want == best ||
                   (best == CPU_ISA_AVX512 && want == CPU_ISA_AVX2);
    if (!allowed) {
        accel_log(ACCEL_LOG_WARN, "ACCEL_CPU_ISA=%s is not supported by this CPU: using %s", force,
                  cpu_isa_name(best));
        return best;
    }
    return want;
}

void cpu_detect_features(cpu_ctx *ctx) {
    ctx->isa = cpu_detect_isa();
    /* the extra AVX-512 and AMX kernels only run on the AVX-512 path, so a forced lower level disables them */
    ctx->has_avx512_bf16 = ctx->isa == CPU_ISA_AVX512 && avx512_bf16_supported();
    ctx->has_amx = ctx->isa == CPU_ISA_AVX512 && amx_supported();
}

const char *cpu_isa_name(cpu_isa isa) {
    switch (isa) {
    case CPU_ISA_PORTABLE: return "portable";
    case CPU_ISA_AVX2: return "avx2";
    case CPU_ISA_AVX512: return "avx512";
    case CPU_ISA_NEON: return "neon";
    }
    return "?";
}
