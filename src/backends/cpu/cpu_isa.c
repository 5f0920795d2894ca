/* Run-time ISA detection for the CPU backend's kernel dispatch. */
#include "backends/cpu/cpu_kernels.h"
#include "core/log.h"
#include "hw/hw_internal.h"

#include <stdlib.h>
#include <string.h>

/* The features come from src/hw's detection (CPUID with the OS's register-state checks through XGETBV, or
 * getauxval on ARM), so the kernels run exactly on what `accel detect` reports. */
static bool has(const char *feature) {
    const hw_cpu *cpu = hw_cpu_cached();
    for (int i = 0; i < cpu->feature_count; i++)
        if (strcmp(cpu->features[i], feature) == 0) return true;
    return false;
}

static cpu_isa isa_supported(void) {
#if defined(__x86_64__) || defined(__i386__)
    bool avx2 = has("avx2") && has("fma") && has("f16c");
    if (avx2 && has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl")) return CPU_ISA_AVX512;
    if (avx2) return CPU_ISA_AVX2;
    return CPU_ISA_PORTABLE;
#elif defined(__aarch64__)
    return CPU_ISA_NEON;
#else
    return CPU_ISA_PORTABLE;
#endif
}

/* Linux also wants arch_prctl(ARCH_REQ_XCOMP_PERM) before a first AMX use: the kernel using AMX asks. */
static bool amx_supported(void) { return has("amx_tile") && has("amx_bf16"); }
static bool avx512_bf16_supported(void) { return has("avx512_bf16"); }

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
