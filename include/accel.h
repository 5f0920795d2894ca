/*
 * accel.h — the one public header of ipfs-accelerate (libaccel).
 *
 * Conventions (see shared/DESIGN.md §4):
 *  - Handles are opaque. Creating functions come in _new/_free or _load/_free pairs; freeing NULL is a no-op.
 *  - Every fallible call returns an accel_status (ACCEL_OK == 0, errors are negative). The calling thread keeps
 *    a human-readable message for its last error: accel_last_error().
 *  - The library never exits, aborts or prints on bad input. It logs only through a callback you install
 *    (accel_log_set) or, when none is installed, to stderr at the level set by ACCEL_LOG (off by default).
 *  - Parameters come in structs filled by accel_*_default_params(); enums and structs only grow at the end.
 *  - Shapes are written in PyTorch order: shape[0] is the outermost dimension, shape[ndim-1] is contiguous in a
 *    freshly created tensor. Strides are in bytes.
 *
 * Thread safety: functions on different handles may be called from different threads at once. One graph or one
 * scheduler must not be used by two threads at the same time. Detection functions are thread-safe.
 */
#ifndef ACCEL_H
#define ACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(ACCEL_SHARED_BUILD)
#define ACCEL_API __declspec(dllexport)
#elif defined(__GNUC__)
#define ACCEL_API __attribute__((visibility("default")))
#else
#define ACCEL_API
#endif

#define ACCEL_VERSION_MAJOR 0
#define ACCEL_VERSION_MINOR 1
#define ACCEL_VERSION_PATCH 0

/* ------------------------------------------------------------------------------------------------------------ */
/* Status codes and errors                                                                                      */
/* ------------------------------------------------------------------------------------------------------------ */

typedef enum accel_status {
    ACCEL_OK = 0,
    ACCEL_ERR_INVALID_ARG = -1,   /* a caller-supplied value is out of range, NULL where not allowed, mismatched */
    ACCEL_ERR_MODEL_FORMAT = -2,  /* a model file (safetensors, config, tokenizer) is malformed or inconsistent */
    ACCEL_ERR_UNSUPPORTED = -3,   /* valid request that this build or this device cannot do */
    ACCEL_ERR_OUT_OF_MEMORY = -4, /* host or device allocation failed, or an arena is full */
    ACCEL_ERR_DEVICE = -5,        /* a device or driver call failed */
    ACCEL_ERR_IO = -6,            /* file or stream input/output failed */
    ACCEL_ERR_INTERNAL = -7,      /* a bug in libaccel: please report with the message */
    ACCEL_ERR_NOT_FOUND = -8,     /* a named thing (file, tensor, device, key) does not exist */
} accel_status;

/* Short constant name of a status ("ACCEL_ERR_INVALID_ARG"). Never NULL. */
ACCEL_API const char *accel_status_name(accel_status status);

/* Message describing the calling thread's most recent error (empty string if none). The pointer stays valid
 * until the next libaccel call on this thread. */
ACCEL_API const char *accel_last_error(void);

/* Clears the calling thread's last error. */
ACCEL_API void accel_clear_error(void);

/* "0.1.0" */
ACCEL_API const char *accel_version(void);

/* Build options compiled in, e.g. "cuda=off hip=off webgpu=off opencl=off blas=openblas sanitize=off". */
ACCEL_API const char *accel_build_info(void);

/* ------------------------------------------------------------------------------------------------------------ */
/* Logging                                                                                                      */
/* ------------------------------------------------------------------------------------------------------------ */

typedef enum accel_log_level {
    ACCEL_LOG_NONE = 0,
    ACCEL_LOG_ERROR = 1,
    ACCEL_LOG_WARN = 2,
    ACCEL_LOG_INFO = 3,
    ACCEL_LOG_DEBUG = 4,
} accel_log_level;

typedef void (*accel_log_fn)(accel_log_level level, const char *message, void *user_data);

/* Installs a log callback (NULL restores the default, which writes to stderr) and the most verbose level passed
 * to it. The default level comes from the environment variable ACCEL_LOG (none|error|warn|info|debug), and is
 * none when unset. Thread-safe. */
ACCEL_API void accel_log_set(accel_log_fn fn, void *user_data, accel_log_level level);
ACCEL_API accel_log_level accel_log_get_level(void);

/* ------------------------------------------------------------------------------------------------------------ */
/* Data types                                                                                                   */
/* ------------------------------------------------------------------------------------------------------------ */

typedef enum accel_dtype {
    ACCEL_F32 = 0,
    ACCEL_F16 = 1,
    ACCEL_BF16 = 2,
    ACCEL_I8 = 3,
    ACCEL_I32 = 4,
    ACCEL_I64 = 5,
    ACCEL_Q8_0 = 6, /* reserved: blocks of 32 int8 with one f16 scale; no op supports it yet */
    ACCEL_Q4_0 = 7, /* reserved: blocks of 32 4-bit values with one f16 scale; no op supports it yet */
    ACCEL_DTYPE_COUNT
} accel_dtype;

/* "f32", "f16", ... ; "?" for an invalid value. */
ACCEL_API const char *accel_dtype_name(accel_dtype dtype);
/* Parses a name from accel_dtype_name; returns ACCEL_ERR_INVALID_ARG for anything else. */
ACCEL_API accel_status accel_dtype_from_name(const char *name, accel_dtype *out);
/* Bytes of one block and elements per block (1 for plain types, 32 for the quantized layouts). */
ACCEL_API size_t accel_dtype_block_bytes(accel_dtype dtype);
ACCEL_API int64_t accel_dtype_block_elems(accel_dtype dtype);

/* IEEE half and bfloat16 conversions (round to nearest even). */
ACCEL_API uint16_t accel_f32_to_f16(float x);
ACCEL_API float accel_f16_to_f32(uint16_t h);
ACCEL_API uint16_t accel_f32_to_bf16(float x);
ACCEL_API float accel_bf16_to_f32(uint16_t h);

/* ------------------------------------------------------------------------------------------------------------ */
/* Hardware detection                                                                                           */
/* ------------------------------------------------------------------------------------------------------------ */

typedef enum accel_hw_kind {
    ACCEL_HW_CPU = 0,
    ACCEL_HW_CUDA = 1,
    ACCEL_HW_HIP = 2,
    ACCEL_HW_OPENCL = 3,
    ACCEL_HW_OPENVINO = 4,
    ACCEL_HW_WEBGPU = 5,
    ACCEL_HW_METAL = 6,
    ACCEL_HW_KIND_COUNT
} accel_hw_kind;

/* One detected device. Strings are owned by the accel_hw handle. */
typedef struct accel_hw_device {
    accel_hw_kind kind;
    int index;                /* index within its kind */
    const char *name;         /* marketing name, e.g. "NVIDIA H100 80GB HBM3" */
    const char *vendor;       /* "GenuineIntel", "NVIDIA", "AMD", the OpenCL platform vendor, ... */
    const char *driver;       /* driver or runtime version string, "" if unknown */
    const char *platform;     /* OpenCL platform name / OpenVINO device id / the CPU's arch / "" */
    uint64_t memory_bytes;    /* total memory the device can use, 0 if unknown */
    int compute_units;        /* SMs, CUs, OpenCL compute units, logical cores */
    int cc_major, cc_minor;   /* CUDA compute capability / AMD gfx major.minor; 0 otherwise */
    const char *type;         /* "cpu", "gpu", "accelerator", "npu", ... as the runtime says; "" if unknown */
} accel_hw_device;

/* Result of one probe (one per accel_hw_kind). */
typedef struct accel_hw_probe {
    accel_hw_kind kind;
    bool available;           /* the runtime loaded and answered (it may still list 0 devices) */
    const char *reason;       /* when not available: why, e.g. "libcuda.so.1 not found (...)"; "" otherwise */
    int device_count;
} accel_hw_probe;

typedef struct accel_cpu_info {
    const char *vendor;       /* "GenuineIntel", "AuthenticAMD", "ARM", ... */
    const char *model;        /* brand string */
    const char *arch;         /* "x86_64", "aarch64", ... */
    int physical_cores;
    int logical_cores;
    int sockets;
    uint64_t cache_l1d_bytes; /* per core */
    uint64_t cache_l2_bytes;  /* per core (or per cluster) */
    uint64_t cache_l3_bytes;  /* total */
    uint64_t memory_total_bytes;
    uint64_t memory_available_bytes;
    /* ISA features, as detected at run time (CPUID + OS support for the register state) */
    const char *const *features; /* names in the Linux kernel's /proc/cpuinfo spelling, e.g. "sse4_2", "avx",
                                    "avx2", "fma", "f16c", "avx512f", "avx512_bf16", "amx_tile"; on aarch64
                                    "asimd" (NEON), "sve", "sve2", "i8mm", "bf16", ... */
    int feature_count;
} accel_cpu_info;

typedef struct accel_detect_params {
    bool isolate_probes;      /* run each driver probe in a child process so a broken driver can't crash us */
    int probe_timeout_ms;     /* a probe that takes longer is reported "not available: timed out" */
} accel_detect_params;

typedef struct accel_hw accel_hw;

ACCEL_API accel_detect_params accel_detect_default_params(void); /* isolate_probes=true, timeout 10000 ms */

/* Detects the CPU and probes every accelerator runtime. Never crashes on a broken driver: such a probe is
 * reported as not available with a reason. *out must be freed with accel_hw_free. params may be NULL (defaults).
 * With isolate_probes each driver probe runs in a forked child process: a probe that crashes or runs past
 * probe_timeout_ms becomes "not available: probe crashed with signal N (...)" / "timed out after N ms" (the child
 * is killed and reaped). Without it, probes run in this process and a crashing driver crashes the caller.
 * Errors: ACCEL_ERR_INVALID_ARG (out NULL, probe_timeout_ms <= 0), ACCEL_ERR_OUT_OF_MEMORY. */
ACCEL_API accel_status accel_detect(const accel_detect_params *params, accel_hw **out);
ACCEL_API void accel_hw_free(accel_hw *hw);

/* Accessors; NULL / 0 / false for a NULL handle or an index out of range. */
ACCEL_API const accel_cpu_info *accel_hw_cpu(const accel_hw *hw);
/* True when the CPU has the ISA feature, named as in accel_cpu_info.features (case-insensitive). */
ACCEL_API bool accel_hw_cpu_has(const accel_hw *hw, const char *feature);
/* Devices: the CPU is always device 0 (kind ACCEL_HW_CPU), then each runtime's devices in probe order. */
ACCEL_API int accel_hw_device_count(const accel_hw *hw);
ACCEL_API const accel_hw_device *accel_hw_device_get(const accel_hw *hw, int i);
/* One probe per kind; the ACCEL_HW_CPU probe is always available with one device. */
ACCEL_API const accel_hw_probe *accel_hw_probe_get(const accel_hw *hw, accel_hw_kind kind);
ACCEL_API const char *accel_hw_kind_name(accel_hw_kind kind); /* "cpu", "cuda", "hip", "opencl", ...; "?" */

/* The whole detection result as a JSON document (UTF-8, NUL-terminated), owned by hw: an object with "cpu"
 * (vendor, model, arch, physical_cores, logical_cores, sockets, caches {l1d_bytes, l2_bytes, l3_bytes}, memory
 * {total_bytes, available_bytes}, features [...]), "devices" [one object per accel_hw_device, fields named as in
 * the struct, kind as its name] and "probes" {kind name: {available, reason, device_count}}. NULL if hw is NULL. */
ACCEL_API const char *accel_hw_json(accel_hw *hw);

/* ------------------------------------------------------------------------------------------------------------ */
/* Compute devices (backends)                                                                                   */
/* ------------------------------------------------------------------------------------------------------------ */

/* A compute device is one device of one compiled backend ("cpu", "ref", "cuda:0", ...). The registry lists
 * every device of every backend compiled in and found at run time. */
typedef struct accel_device accel_device;

typedef enum accel_device_type {
    ACCEL_DEVICE_CPU = 0,   /* runs in host memory */
    ACCEL_DEVICE_GPU = 1,   /* has its own memory */
    ACCEL_DEVICE_ACCEL = 2, /* other accelerators */
} accel_device_type;

ACCEL_API int accel_device_count(void);
ACCEL_API accel_device *accel_device_get(int i);                  /* NULL when out of range */
ACCEL_API accel_device *accel_device_by_name(const char *name);   /* "cpu", "ref", "cuda:0"; NULL if absent */
ACCEL_API const char *accel_device_name(const accel_device *dev);
ACCEL_API const char *accel_device_description(const accel_device *dev);
ACCEL_API accel_device_type accel_device_get_type(const accel_device *dev);
/* Higher runs first when several devices support an op. The ref device has priority -1 and is only used when
 * named explicitly. */
ACCEL_API int accel_device_priority(const accel_device *dev);

/* ------------------------------------------------------------------------------------------------------------ */
/* Tensors and graphs                                                                                           */
/* ------------------------------------------------------------------------------------------------------------ */

#define ACCEL_MAX_DIMS 6

typedef struct accel_tensor accel_tensor;
typedef struct accel_graph accel_graph;

typedef struct accel_graph_params {
    size_t arena_bytes; /* metadata arena for tensors and nodes; default 4 MiB (about 10k tensors) */
} accel_graph_params;

ACCEL_API accel_graph_params accel_graph_default_params(void);
ACCEL_API accel_status accel_graph_new(const accel_graph_params *params, accel_graph **out);
/* Frees the graph, its tensors' metadata and the memory it allocated for them (not external data). */
ACCEL_API void accel_graph_free(accel_graph *g);

/* A builder function returns NULL on error and records the error in the graph (and the thread's last error);
 * later builder calls that receive NULL also return NULL, so a model builder can check once at the end. */
ACCEL_API accel_status accel_graph_status(const accel_graph *g);

/* New leaf tensor (contiguous). Its data comes either from accel_tensor_set_external (zero copy, e.g. mmapped
 * weights) or is allocated by the scheduler and filled with accel_tensor_set after accel_sched_alloc. */
ACCEL_API accel_tensor *accel_tensor_new(accel_graph *g, accel_dtype dtype, int ndim, const int64_t *shape);
ACCEL_API accel_tensor *accel_tensor_new_1d(accel_graph *g, accel_dtype dtype, int64_t n0);
ACCEL_API accel_tensor *accel_tensor_new_2d(accel_graph *g, accel_dtype dtype, int64_t n0, int64_t n1);
ACCEL_API accel_tensor *accel_tensor_new_3d(accel_graph *g, accel_dtype dtype, int64_t n0, int64_t n1, int64_t n2);
ACCEL_API accel_tensor *accel_tensor_new_4d(accel_graph *g, accel_dtype dtype, int64_t n0, int64_t n1, int64_t n2,
                                            int64_t n3);

/* Points a leaf tensor at host memory owned by the caller (it must outlive every compute). No copy is made. */
ACCEL_API accel_status accel_tensor_set_external(accel_tensor *t, void *data, size_t nbytes);
/* Marks a leaf as a weight (read-only, stays where it lives) or an input (written before each compute). */
ACCEL_API void accel_tensor_set_weight(accel_tensor *t);
ACCEL_API void accel_tensor_set_input(accel_tensor *t);
/* Marks a tensor as a graph output: it is kept alive to the end and readable with accel_tensor_get. Adds it
 * (and everything it depends on) to the graph's node list. */
ACCEL_API accel_status accel_graph_add_output(accel_graph *g, accel_tensor *t);

ACCEL_API void accel_tensor_set_name(accel_tensor *t, const char *name);
ACCEL_API const char *accel_tensor_name(const accel_tensor *t);
ACCEL_API accel_dtype accel_tensor_dtype(const accel_tensor *t);
ACCEL_API int accel_tensor_ndim(const accel_tensor *t);
ACCEL_API int64_t accel_tensor_dim(const accel_tensor *t, int i);     /* negative i counts from the end */
ACCEL_API int64_t accel_tensor_stride(const accel_tensor *t, int i);  /* bytes */
ACCEL_API int64_t accel_tensor_nelements(const accel_tensor *t);
ACCEL_API size_t accel_tensor_nbytes(const accel_tensor *t);          /* bytes spanned by a contiguous copy */
ACCEL_API bool accel_tensor_is_contiguous(const accel_tensor *t);

/* Copies nbytes between host memory and the tensor (which must be contiguous and have memory: external, or
 * allocated by accel_sched_alloc). Works whatever device holds the tensor. */
ACCEL_API accel_status accel_tensor_set(accel_tensor *t, const void *data, size_t nbytes);
ACCEL_API accel_status accel_tensor_get(const accel_tensor *t, void *data, size_t nbytes);

/* --- Views: no computation, share the source's memory ----------------------------------------------------- */
/* Reshape needs a contiguous source; -1 in one place infers that dimension. */
ACCEL_API accel_tensor *accel_reshape(accel_graph *g, accel_tensor *a, int ndim, const int64_t *shape);
/* perm[i] = which source dimension becomes dimension i (like torch.permute). */
ACCEL_API accel_tensor *accel_permute(accel_graph *g, accel_tensor *a, const int *perm);
/* Swaps the last two dimensions. */
ACCEL_API accel_tensor *accel_transpose(accel_graph *g, accel_tensor *a);
/* a[..., start:stop:step, ...] along dim (negative dim counts from the end; step >= 1). */
ACCEL_API accel_tensor *accel_slice(accel_graph *g, accel_tensor *a, int dim, int64_t start, int64_t stop,
                                    int64_t step);
/* General view: shape and byte strides and a byte offset into a's memory (checked to stay in bounds). */
ACCEL_API accel_tensor *accel_view(accel_graph *g, accel_tensor *a, int ndim, const int64_t *shape,
                                   const int64_t *strides, size_t offset);

/* --- Ops (see docs/ops.md for the exact semantics of each) ------------------------------------------------ */
/* Copy into a new contiguous tensor, converting the dtype if it differs (cont/cast). */
ACCEL_API accel_tensor *accel_cont(accel_graph *g, accel_tensor *a);
ACCEL_API accel_tensor *accel_cast(accel_graph *g, accel_tensor *a, accel_dtype dtype);

/* a[..., M, K] @ b[..., K, N] -> [..., M, N]; batch dimensions broadcast (numpy rules). Transposed operands are
 * views (accel_transpose), e.g. a Linear layer is accel_matmul(g, x, accel_transpose(g, w)). */
ACCEL_API accel_tensor *accel_matmul(accel_graph *g, accel_tensor *a, accel_tensor *b);
/* x @ w^T + bias for a Hugging Face Linear weight w[out, in] (bias may be NULL). */
ACCEL_API accel_tensor *accel_linear(accel_graph *g, accel_tensor *x, accel_tensor *w, accel_tensor *bias);

/* Elementwise binary with numpy broadcasting; the result has a's dtype. */
ACCEL_API accel_tensor *accel_add(accel_graph *g, accel_tensor *a, accel_tensor *b);
ACCEL_API accel_tensor *accel_sub(accel_graph *g, accel_tensor *a, accel_tensor *b);
ACCEL_API accel_tensor *accel_mul(accel_graph *g, accel_tensor *a, accel_tensor *b);
ACCEL_API accel_tensor *accel_div(accel_graph *g, accel_tensor *a, accel_tensor *b);
/* a * scale + bias */
ACCEL_API accel_tensor *accel_scale(accel_graph *g, accel_tensor *a, float scale, float bias);

/* Elementwise unary activations. */
ACCEL_API accel_tensor *accel_gelu(accel_graph *g, accel_tensor *a);       /* erf form (HF "gelu") */
ACCEL_API accel_tensor *accel_gelu_tanh(accel_graph *g, accel_tensor *a);  /* tanh approximation ("gelu_new") */
ACCEL_API accel_tensor *accel_quick_gelu(accel_graph *g, accel_tensor *a); /* x * sigmoid(1.702 x) */
ACCEL_API accel_tensor *accel_silu(accel_graph *g, accel_tensor *a);
ACCEL_API accel_tensor *accel_relu(accel_graph *g, accel_tensor *a);
ACCEL_API accel_tensor *accel_tanh(accel_graph *g, accel_tensor *a);
ACCEL_API accel_tensor *accel_sigmoid(accel_graph *g, accel_tensor *a);

/* softmax(a * scale + mask) over the last dimension. mask (may be NULL) is added, broadcast to a's shape.
 * causal: element (i, j) of the last two dims is -inf when j > i + (ncols - nrows) (the queries are the last
 * rows of the key sequence, as with a KV cache). */
ACCEL_API accel_tensor *accel_softmax(accel_graph *g, accel_tensor *a, accel_tensor *mask, float scale, bool causal);

/* Normalizations over the last dimension; weight and bias (shape [D]) may be NULL. */
ACCEL_API accel_tensor *accel_layer_norm(accel_graph *g, accel_tensor *a, accel_tensor *weight, accel_tensor *bias,
                                         float eps);
/* x / sqrt(mean(x^2) + eps) * weight (LLaMA and T5 RMS norm). */
ACCEL_API accel_tensor *accel_rms_norm(accel_graph *g, accel_tensor *a, accel_tensor *weight, float eps);
/* a[N, C, ...]: statistics per (n, group of C/groups channels); weight/bias per channel [C]. */
ACCEL_API accel_tensor *accel_group_norm(accel_graph *g, accel_tensor *a, int groups, accel_tensor *weight,
                                         accel_tensor *bias, float eps);
/* Inference batch norm on a[N, C, ...]: (x - mean) / sqrt(var + eps) * weight + bias, each [C]. */
ACCEL_API accel_tensor *accel_batch_norm(accel_graph *g, accel_tensor *a, accel_tensor *mean, accel_tensor *var,
                                         accel_tensor *weight, accel_tensor *bias, float eps);

typedef enum accel_rope_mode {
    ACCEL_ROPE_HALF = 0,        /* rotate_half: pairs (i, i + n_rot/2) — LLaMA/Qwen2/Mistral in HF */
    ACCEL_ROPE_INTERLEAVED = 1, /* pairs (2i, 2i+1) — GPT-J style */
} accel_rope_mode;

typedef struct accel_rope_params {
    accel_rope_mode mode;
    int n_rot;            /* rotated leading features of each head (<= head dim, even); 0 = whole head */
    float theta;          /* base, e.g. 10000 */
    float freq_scale;     /* linear scaling: positions are multiplied by this (1/factor); 1 = none */
    float attn_factor;    /* cos and sin are multiplied by this (YaRN mscale); 1 = none */
} accel_rope_params;

ACCEL_API accel_rope_params accel_rope_default_params(void);
/* Rotary embedding of x[B, S, H, D] at positions pos[S] (i32). inv_freq (may be NULL) is an f32 [n_rot/2]
 * table replacing theta^(-2i/n_rot), for the llama3 / yarn / dynamic scaling types computed by the model. */
ACCEL_API accel_tensor *accel_rope(accel_graph *g, accel_tensor *x, accel_tensor *pos, accel_tensor *inv_freq,
                                   const accel_rope_params *params);

typedef struct accel_attention_params {
    float scale;          /* multiplies q·k; 0 means 1/sqrt(head dim) */
    bool causal;          /* query i (of Sq, the last Sq of Skv positions) sees keys j <= i + Skv - Sq */
    int sliding_window;   /* > 0: also hide keys more than window-1 positions before the query */
} accel_attention_params;

ACCEL_API accel_attention_params accel_attention_default_params(void);
/* Scaled dot-product attention. q[B, Hq, Sq, D], k[B, Hkv, Skv, D], v[B, Hkv, Skv, Dv] with Hq a multiple of
 * Hkv (GQA/MQA); mask (may be NULL) is additive and broadcast to [B, Hq, Sq, Skv] (padding masks, relative
 * position bias). Result [B, Hq, Sq, Dv]. */
ACCEL_API accel_tensor *accel_attention(accel_graph *g, accel_tensor *q, accel_tensor *k, accel_tensor *v,
                                        accel_tensor *mask, const accel_attention_params *params);

typedef struct accel_conv_params {
    int stride[2], padding[2], dilation[2]; /* [h, w]; conv1d uses index 0 */
    int groups;
} accel_conv_params;

ACCEL_API accel_conv_params accel_conv_default_params(void); /* stride 1, padding 0, dilation 1, groups 1 */
/* x[N, C, L], w[OC, C/groups, K], bias[OC] or NULL -> [N, OC, Lout] */
ACCEL_API accel_tensor *accel_conv1d(accel_graph *g, accel_tensor *x, accel_tensor *w, accel_tensor *bias,
                                     const accel_conv_params *params);
/* x[N, C, H, W], w[OC, C/groups, KH, KW], bias[OC] or NULL -> [N, OC, Hout, Wout] */
ACCEL_API accel_tensor *accel_conv2d(accel_graph *g, accel_tensor *x, accel_tensor *w, accel_tensor *bias,
                                     const accel_conv_params *params);

typedef enum accel_pool_kind { ACCEL_POOL_MAX = 0, ACCEL_POOL_AVG = 1 } accel_pool_kind;
typedef struct accel_pool_params {
    accel_pool_kind kind;
    int kernel[2], stride[2], padding[2]; /* [h, w]; pool1d uses index 0; stride 0 = kernel */
    bool count_include_pad;               /* avg pooling divisor, as in PyTorch (default true) */
} accel_pool_params;

ACCEL_API accel_pool_params accel_pool_default_params(void);
ACCEL_API accel_tensor *accel_pool1d(accel_graph *g, accel_tensor *x, const accel_pool_params *params); /* [N,C,L] */
ACCEL_API accel_tensor *accel_pool2d(accel_graph *g, accel_tensor *x, const accel_pool_params *params); /* [N,C,H,W] */

/* Embedding lookup: table[V, D], ids (i32 or i64, any shape) -> [ids..., D]. Out-of-range ids make compute
 * fail with ACCEL_ERR_INVALID_ARG. */
ACCEL_API accel_tensor *accel_get_rows(accel_graph *g, accel_tensor *table, accel_tensor *ids);

ACCEL_API accel_tensor *accel_concat(accel_graph *g, accel_tensor *a, accel_tensor *b, int dim);
/* Constant padding: pad[2*i], pad[2*i+1] = elements added before/after dimension i (ndim pairs). */
ACCEL_API accel_tensor *accel_pad(accel_graph *g, accel_tensor *a, const int64_t *pad, float value);
/* Writes src into dst[..., offset : offset + src.shape[dim], ...] in place (other dimensions must match; src is
 * converted to dst's dtype, e.g. f32 -> f16 for a half-precision cache). dst must be a leaf with its own
 * memory (accel_tensor_set_external) or a view of one. Returns a tensor with dst's shape that aliases dst's
 * memory: read the updated data through it (that is what orders the write before its readers). dim may be
 * negative (counts from the end); writes into one dst may be chained by passing an earlier result as dst.
 * Readers of dst itself are not ordered with the write. Floats (f32, f16, bf16) convert among themselves;
 * integer dtypes must match. Returns NULL (ACCEL_ERR_INVALID_ARG) on a bad dim or range, mismatched sizes,
 * a dst whose memory is computed by the graph, or a src that shares dst's memory. */
ACCEL_API accel_tensor *accel_write(accel_graph *g, accel_tensor *dst, accel_tensor *src, int dim, int64_t offset);

/* Swin windows: x[B, H, W, C] -> [B * (H/w) * (W/w), w, w, C], and back. H and W must be multiples of w. */
ACCEL_API accel_tensor *accel_window_partition(accel_graph *g, accel_tensor *x, int window);
ACCEL_API accel_tensor *accel_window_merge(accel_graph *g, accel_tensor *windows, int window, int64_t h,
                                           int64_t w);

/* Reductions along one dimension (negative counts from the end); the dimension is kept with size 1. */
ACCEL_API accel_tensor *accel_sum(accel_graph *g, accel_tensor *a, int dim);
ACCEL_API accel_tensor *accel_mean(accel_graph *g, accel_tensor *a, int dim);
ACCEL_API accel_tensor *accel_max(accel_graph *g, accel_tensor *a, int dim);
ACCEL_API accel_tensor *accel_argmax(accel_graph *g, accel_tensor *a, int dim); /* i32; first of ties */
/* The k largest values along the last dimension, in descending order (ties: lower index first). *indices (i32)
 * is set to the matching index tensor; both have last dimension k. */
ACCEL_API accel_tensor *accel_top_k(accel_graph *g, accel_tensor *a, int k, accel_tensor **indices);
/* Inclusive cumulative sum along dim. */
ACCEL_API accel_tensor *accel_cumsum(accel_graph *g, accel_tensor *a, int dim);

typedef enum accel_interp_mode {
    ACCEL_INTERP_NEAREST = 0,
    ACCEL_INTERP_BILINEAR = 1,
    ACCEL_INTERP_BICUBIC = 2, /* a = -0.75, as PyTorch */
} accel_interp_mode;
/* x[N, C, H, W] -> [N, C, out_h, out_w], PyTorch F.interpolate semantics (antialias off). */
ACCEL_API accel_tensor *accel_interpolate(accel_graph *g, accel_tensor *x, int64_t out_h, int64_t out_w,
                                          accel_interp_mode mode, bool align_corners);

/* Number of compute nodes and leaves in the graph after accel_graph_add_output. */
ACCEL_API int accel_graph_node_count(const accel_graph *g);
ACCEL_API accel_tensor *accel_graph_node(const accel_graph *g, int i);
/* Name of a node's operation ("matmul", "softmax", ...). */
ACCEL_API const char *accel_tensor_op_name(const accel_tensor *t);

/* ------------------------------------------------------------------------------------------------------------ */
/* Scheduler: placement, memory, compute                                                                        */
/* ------------------------------------------------------------------------------------------------------------ */

typedef struct accel_sched accel_sched;

typedef struct accel_sched_params {
    accel_device **devices; /* devices to use, in priority order; NULL = every device except "ref" by priority */
    int n_devices;
    int n_threads;          /* CPU threads; 0 = physical cores */
    bool log_placement;     /* log each node's device at info level (also: ACCEL_LOG_SCHED=1) */
} accel_sched_params;

ACCEL_API accel_sched_params accel_sched_default_params(void);
ACCEL_API accel_status accel_sched_new(const accel_sched_params *params, accel_sched **out);
ACCEL_API void accel_sched_free(accel_sched *s);

/* Places every node of g on a device (the highest-priority device that supports it; weights stay where they
 * live; per-op fallback to the CPU), inserts copies at device boundaries and allocates activation memory,
 * reusing it by liveness. Call again after the graph changes. */
ACCEL_API accel_status accel_sched_alloc(accel_sched *s, accel_graph *g);
/* Runs the graph placed by the last accel_sched_alloc. Inputs are set with accel_tensor_set beforehand. */
ACCEL_API accel_status accel_sched_compute(accel_sched *s, accel_graph *g);

typedef struct accel_placement {
    const accel_tensor *node;
    const accel_device *device; /* NULL for views (they live where their source lives) */
    bool is_copy;               /* a copy inserted by the scheduler at a device boundary */
} accel_placement;

/* Placement of the i-th node of the last allocated graph (copies included), in execution order. */
ACCEL_API int accel_sched_placement_count(const accel_sched *s);
ACCEL_API accel_status accel_sched_placement(const accel_sched *s, int i, accel_placement *out);
/* Human-readable placement table of the last allocated graph, owned by s; built on the first call after an
 * alloc, so call it while that graph is alive. */
ACCEL_API const char *accel_sched_placement_text(accel_sched *s);

typedef struct accel_sched_memory {
    size_t activation_peak_bytes;    /* largest activation buffer needed, summed over devices */
    size_t activation_naive_bytes;   /* sum of every activation size (what no reuse would need) */
    size_t weight_bytes;             /* bytes of weight tensors (not copied) */
    int n_splits;                    /* runs of consecutive nodes on one device */
    int n_copies;                    /* copies inserted at device boundaries */
} accel_sched_memory;

ACCEL_API accel_status accel_sched_get_memory(const accel_sched *s, accel_sched_memory *out);

/* ------------------------------------------------------------------------------------------------------------ */
/* Models and sessions                                                                                          */
/* ------------------------------------------------------------------------------------------------------------ */
/* A model is loaded once from a Hugging Face model directory (config.json, *.safetensors, tokenizer.json, and the
 * optional generation_config.json, tokenizer_config.json, sentence-transformers modules.json + pooling config).
 * It is immutable after load and may be shared by any number of sessions on any threads. A session holds the
 * per-run state (scheduler, activation memory, KV caches): one session is used by one thread at a time. */

typedef struct accel_model accel_model;
typedef struct accel_session accel_session;

typedef enum accel_task {
    ACCEL_TASK_EMBED = 0,    /* text -> one vector per text (BERT, sentence-transformers) */
    ACCEL_TASK_SEQ2SEQ = 1,  /* text -> text (T5) */
    ACCEL_TASK_TEXT_GENERATION = 2, /* prompt -> continuation (causal LMs: LLaMA, Qwen2, Mistral) */
    ACCEL_TASK_COUNT
} accel_task;

typedef struct accel_model_params {
    accel_device **devices; /* devices the sessions may use, in priority order; NULL = every device except "ref" */
    int n_devices;
    int n_threads;          /* CPU threads of each session; 0 = physical cores */
} accel_model_params;

ACCEL_API accel_model_params accel_model_default_params(void);
/* Loads the model in dir: reads the config, checks that every tensor the architecture needs is present with the
 * shape the config implies (the weights are memory-mapped, not copied), and loads the tokenizer. params may be
 * NULL. Errors: ACCEL_ERR_INVALID_ARG, ACCEL_ERR_NOT_FOUND (no config.json / weights / tokenizer.json),
 * ACCEL_ERR_MODEL_FORMAT (malformed files, a config missing a field, a missing tensor or a wrong shape: the message
 * names it), ACCEL_ERR_UNSUPPORTED (an architecture libaccel does not implement), ACCEL_ERR_IO,
 * ACCEL_ERR_OUT_OF_MEMORY. */
ACCEL_API accel_status accel_model_load(const char *dir, const accel_model_params *params, accel_model **out);
/* Frees the model; every session made from it must be freed first. NULL is a no-op. */
ACCEL_API void accel_model_free(accel_model *m);
ACCEL_API const char *accel_model_family(const accel_model *m);       /* "bert", "t5", "llama", "qwen2", ... */
ACCEL_API const char *accel_model_architecture(const accel_model *m); /* config "architectures"[0] or the family */
ACCEL_API bool accel_model_supports(const accel_model *m, accel_task task);
/* Embedding width (ACCEL_TASK_EMBED) or hidden size; 0 for NULL. */
ACCEL_API int64_t accel_model_embedding_dim(const accel_model *m);
/* Longest input in tokens (position table or config), 0 when unbounded. */
ACCEL_API int64_t accel_model_max_tokens(const accel_model *m);

typedef struct accel_session_params {
    int n_threads; /* 0 = the model's */
} accel_session_params;

ACCEL_API accel_session_params accel_session_default_params(void);
ACCEL_API accel_status accel_session_new(accel_model *m, const accel_session_params *params, accel_session **out);
ACCEL_API void accel_session_free(accel_session *s);
/* The devices that ran the nodes of the session's last computation, e.g. "cpu" or "webgpu+cpu"; "" before any. */
ACCEL_API const char *accel_session_devices_used(const accel_session *s);

/* --- Embeddings ------------------------------------------------------------------------------------------------ */
typedef enum accel_pooling {
    ACCEL_POOLING_DEFAULT = 0, /* as the model directory says (sentence-transformers pooling config), else MEAN */
    ACCEL_POOLING_MEAN = 1,    /* attention-mask-weighted mean of the last hidden state */
    ACCEL_POOLING_CLS = 2,     /* the first token's last hidden state */
    ACCEL_POOLING_POOLER = 3,  /* BERT pooler: tanh(dense(CLS)) */
    ACCEL_POOLING_MAX = 4,     /* max over real tokens */
} accel_pooling;

typedef struct accel_embed_params {
    accel_pooling pooling;
    int normalize;        /* -1 as the model directory says (sentence-transformers Normalize module), 0 no, 1 L2 */
    int64_t max_tokens;   /* 0 = the model's limit (sentence-transformers max_seq_length, else the positions) */
    bool truncate;        /* true: longer texts are cut to max_tokens (HF truncation=True); false: an error */
} accel_embed_params;

/* DEFAULT pooling, normalize -1, max_tokens 0, truncate true (what sentence-transformers does). */
ACCEL_API accel_embed_params accel_embed_default_params(void);
/* One vector per text: out[n_texts * accel_model_embedding_dim]. Texts of different lengths are batched with
 * padding. An empty text is valid (it embeds [CLS] [SEP]). Errors: ACCEL_ERR_INVALID_ARG (NULL, n_texts < 1,
 * out_len too small, invalid UTF-8, a text longer than max_tokens with truncate false), ACCEL_ERR_UNSUPPORTED
 * (the model has no embedding task), ACCEL_ERR_DEVICE, ACCEL_ERR_OUT_OF_MEMORY. */
ACCEL_API accel_status accel_embed(accel_session *s, const char *const *texts, int n_texts,
                                   const accel_embed_params *params, float *out, size_t out_len);

/* --- Text generation ------------------------------------------------------------------------------------------ */
/* Streaming (causal LMs): called for every generated token of every sequence, in order, with the text that token
 * completed: `len` bytes of UTF-8 at `text` (not NUL-terminated; len may be 0 while bytes of an incomplete
 * character, or text that may begin a stop string, are held back). A piece never splits a UTF-8 character, and
 * the pieces of a sequence concatenate to its final output text. After the last token of a sequence one more call
 * with token -1 flushes what was held back (len may be 0). seq is the index of the input text. Return false to
 * stop that sequence early (its output ends with what was streamed). */
typedef bool (*accel_stream_fn)(int seq, int32_t token, const char *text, size_t len, void *user_data);

typedef struct accel_generate_params {
    int max_new_tokens;       /* -1 = generation_config (max_new_tokens, else an explicit max_length - 1 for
                                 seq2seq, else 20 as transformers 5.24 does) */
    int num_beams;            /* -1 = generation_config; 1 = greedy */
    float length_penalty;     /* NAN = generation_config (HF default 1.0) */
    int early_stopping;       /* -1 = generation_config; 0 false, 1 true, 2 "never" (HF semantics) */
    int no_repeat_ngram_size; /* -1 = generation_config; 0 = off */
    int64_t max_input_tokens; /* 0 = the model's limit, if any */
    bool truncate;            /* inputs longer than max_input_tokens: true cut, false ACCEL_ERR_INVALID_ARG */
    int min_new_tokens;       /* -1 = generation_config (HF default 0): EOS is suppressed before this many */
    /* Causal LMs (ACCEL_TASK_TEXT_GENERATION) only; seq2seq generation ignores these. Sampling runs HF's
     * processors in HF's order (repetition penalty, presence penalty, min_new_tokens; then temperature, top-k,
     * top-p, min-p) and draws with libaccel's own seeded PRNG (docs/llm.md). */
    int do_sample;            /* -1 = generation_config (HF default false); 0 greedy; 1 sample */
    float temperature;        /* NAN = generation_config (HF default 1.0); >= 0; 0 with do_sample = greedy */
    int top_k;                /* -1 = generation_config (HF default 50); 0 = off */
    float top_p;              /* NAN = generation_config (HF default 1.0 = off); in (0, 1] */
    float min_p;              /* NAN = generation_config (HF default off); in [0, 1], 0 = off */
    float repetition_penalty; /* NAN = generation_config (HF default 1.0 = off); > 0 (HF semantics: a seen
                                 token's logit is divided by it when positive, multiplied when negative) */
    float presence_penalty;   /* NAN = 0 (off): subtracted once from the logit of every token already in the
                                 sequence (prompt included) */
    int64_t seed;             /* sampling seed; -1 = from the clock (runs differ). The same seed and inputs give
                                 the same tokens run to run */
    const char *const *stop;  /* n_stop stop strings (may be NULL): generation of a sequence ends when its decoded
                                 text contains one; the output (and the stream) ends before it */
    int n_stop;
    accel_stream_fn stream;   /* may be NULL */
    void *stream_user_data;
    int64_t n_ctx;            /* context (KV cache rows per sequence); 0 = the model's max_position_embeddings.
                                 A prompt longer than this is ACCEL_ERR_INVALID_ARG; decoding past it recycles
                                 the context (keeps n_keep tokens and the most recent half, re-prefills) */
    int64_t n_keep;           /* tokens kept from the start of each sequence when the context is recycled;
                                 -1 = the prompt, at most a quarter of the context */
    int add_special_tokens;   /* -1 or 1: the tokenizer's post-processor wraps each prompt (LLaMA's BOS); 0: not,
                                 for prompts rendered by accel_chat_apply (they carry their own, as HF's
                                 apply_chat_template tokenizes without them) */
} accel_generate_params;

/* All "model default"; truncate false, seed -1, no stop strings, no stream, n_ctx 0, add_special_tokens -1. */
ACCEL_API accel_generate_params accel_generate_default_params(void);
/* Generates one output text per input text, batched. outputs[i] receives a malloc'ed UTF-8 string (free with
 * accel_free) without special tokens.
 * Seq2seq models (T5): greedy or beam search with Hugging Face transformers' exact semantics (deterministic: the
 * generation config's sampling settings are not applied; its repetition_penalty and min_length are).
 * Causal LMs (LLaMA, Qwen2, Mistral): the continuation of each prompt (the prompt is not repeated), greedy or
 * sampled (do_sample and the fields after it), prompts of different lengths left-padded into one batch, each
 * prompt in one prefill pass, then one decode step per token through a KV cache; a sequence stops at any of the
 * generation config's EOS ids, at a stop string or after max_new_tokens; pieces stream through params->stream.
 * Special tokens written in a prompt (a chat template's <|im_start|>) are recognized, and the tokenizer adds BOS
 * as its tokenizer.json post-processor says. Beam search is not implemented for causal LMs.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL, n_texts < 1, invalid parameters (e.g. temperature < 0, top_p outside
 * (0, 1], min_p outside [0, 1], repetition_penalty <= 0, n_stop < 0), invalid UTF-8, an empty text (no tokens
 * besides the special ones), too long input with truncate false; for causal LMs a prompt longer than the
 * context), ACCEL_ERR_NOT_FOUND (the model directory has no tokenizer.json), ACCEL_ERR_UNSUPPORTED (not a text
 * generation model; num_beams > 1 with a causal LM), ACCEL_ERR_DEVICE, ACCEL_ERR_OUT_OF_MEMORY. On error every
 * outputs[i] is NULL. */
ACCEL_API accel_status accel_generate_text(accel_session *s, const char *const *texts, int n_texts,
                                           const accel_generate_params *params, char **outputs);

/* Where the last accel_generate_text call of a session (causal LMs) spent its time. Prefill is the prompt pass
 * (and re-prefills after context recycling); decode the one-token steps, split into graph building, placement +
 * allocation (both 0 after the first step: the step graph is reused) and compute; sampling and detokenizing are
 * the rest of decode_s. */
typedef struct accel_generate_stats {
    int64_t n_seqs;
    int64_t prompt_tokens;       /* prompt tokens of all sequences, without padding */
    int64_t prefill_tokens;      /* tokens run through prefill passes, padding and re-prefills included */
    int64_t generated_tokens;    /* new tokens of all sequences */
    int64_t decode_steps;        /* one-token passes over the batch */
    int64_t context_recycles;
    double prefill_s, decode_s;
    double step_build_s, step_alloc_s, step_compute_s;
} accel_generate_stats;

/* Copies the stats of the session's last causal-LM generation. Errors: ACCEL_ERR_INVALID_ARG (NULL),
 * ACCEL_ERR_UNSUPPORTED (not a causal LM session). */
ACCEL_API accel_status accel_generate_last_stats(accel_session *s, accel_generate_stats *out);

/* --- Chat ------------------------------------------------------------------------------------------------------ */
typedef struct accel_chat_message {
    const char *role;    /* "system", "user", "assistant" */
    const char *content;
} accel_chat_message;

/* Renders messages[0..n) with the model's chat template (tokenizer_config.json "chat_template" or
 * chat_template.jinja) into *out (malloc'ed UTF-8, free with accel_free): the prompt to pass to
 * accel_generate_text. add_generation_prompt appends the assistant turn's opening, as HF apply_chat_template.
 * Errors: ACCEL_ERR_INVALID_ARG (NULL, n < 1, a NULL role or content), ACCEL_ERR_NOT_FOUND (the model has no chat
 * template), ACCEL_ERR_UNSUPPORTED (a template construct libaccel's template engine cannot run: the message says
 * which), ACCEL_ERR_MODEL_FORMAT (a malformed template), ACCEL_ERR_OUT_OF_MEMORY. */
ACCEL_API accel_status accel_chat_apply(const accel_model *m, const accel_chat_message *messages, int n,
                                        bool add_generation_prompt, char **out);

/* Frees memory the library returned (strings from accel_generate_text). NULL is a no-op. */
ACCEL_API void accel_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* ACCEL_H */
