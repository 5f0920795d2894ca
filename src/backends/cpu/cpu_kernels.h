/* CPU backend: the compute context handed to kernels and the kernel entry points per op group.
 *
 * A kernel computes one node (dst) whose sources and output are in host memory. It may use the thread pool in
 * ctx (accel_threadpool_run) and ctx's scratch memory. It returns ACCEL_OK or an error set with accel_set_error.
 * SIMD variants live in files named *_avx2.c / *_avx512.c / *_neon.c (compiled with those ISA flags) and are
 * picked at run time from ctx->isa.
 */
#ifndef ACCEL_CPU_KERNELS_H
#define ACCEL_CPU_KERNELS_H

#include "backends/backend.h"
#include "core/threadpool.h"

typedef enum cpu_isa {
    CPU_ISA_PORTABLE = 0,
    CPU_ISA_AVX2 = 1,   /* AVX2 + FMA + F16C */
    CPU_ISA_AVX512 = 2, /* AVX-512 F/BW/DQ/VL + the AVX2 set */
    CPU_ISA_NEON = 3,
} cpu_isa;

typedef struct cpu_ctx {
    accel_threadpool *pool;
    int n_threads;
    cpu_isa isa;
    bool has_avx512_bf16;
    bool has_amx;
    /* grow-only scratch, owned by the context */
    void *scratch;
    size_t scratch_size;
    /* packed weights of the GEMM engine (gemm.h), owned by the context; NULL until first used */
    struct gemm_pack_cache *pack_cache;
} cpu_ctx;

/* Returns at least `size` bytes of 64-byte aligned scratch (valid until the next call), or NULL. */
void *cpu_scratch(cpu_ctx *ctx, size_t size);

/* The ISA this process can use (CPUID + OS support), honoring ACCEL_CPU_ISA=portable|avx2|avx512 to force a
 * lower level (for tests of every path). */
cpu_isa cpu_detect_isa(void);
/* Fills ctx->isa (cpu_detect_isa), ctx->has_avx512_bf16 and ctx->has_amx (CPUID + OS state; both false unless the
 * AVX-512 level is in use). AMX on Linux still needs arch_prctl(ARCH_REQ_XCOMP_PERM) before first use. */
void cpu_detect_features(cpu_ctx *ctx);
/* "portable", "avx2", "avx512", "neon". */
const char *cpu_isa_name(cpu_isa isa);

typedef accel_status (*cpu_kernel_fn)(cpu_ctx *ctx, accel_tensor *dst);
typedef bool (*cpu_supports_fn)(const accel_tensor *dst);

/* One entry per op: the kernel and an honest supports check (dtypes, strides, params). */
typedef struct cpu_op_entry {
    cpu_kernel_fn compute;
    cpu_supports_fn supports;
} cpu_op_entry;

/* Each op-group file fills the entries it implements. */
void cpu_register_matmul(cpu_op_entry table[ACCEL_OP_COUNT]);      /* cpu_matmul.c, gemm*.c            */
void cpu_register_conv(cpu_op_entry table[ACCEL_OP_COUNT]);        /* cpu_conv.c: conv1d, conv2d      */
void cpu_register_elementwise(cpu_op_entry table[ACCEL_OP_COUNT]); /* cpy, binary, scale, unary       */
void cpu_register_norm(cpu_op_entry table[ACCEL_OP_COUNT]);        /* softmax, layer/rms/group/batch  */
void cpu_register_attention(cpu_op_entry table[ACCEL_OP_COUNT]);   /* rope, attention                 */
void cpu_register_data(cpu_op_entry table[ACCEL_OP_COUNT]);        /* get_rows, concat, pad, pool,
                                                                      reductions, top_k, cumsum, interp */

/* Fusion (cpu_matmul.c): when nodes[i] (whose sources have memory) starts a run of nodes that one kernel computes
 * at once (a Linear layer's matmul and the add of its bias, when nothing else reads the matmul's result), computes
 * them, sets *st and returns how many nodes it covered; returns 0 (nothing done) when no fusion applies. */
int cpu_matmul_fuse(cpu_ctx *ctx, accel_tensor *const *nodes, int i, int n, accel_status *st);

#endif
