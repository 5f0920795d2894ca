/* Op conformance harness (after ggml's test-backend-ops): shared types.
 *
 * A case is a small graph built through the public builders of accel.h from a parameter block. Its inputs are
 * leaves created with in_tensor(), which records how to fill them (deterministic pseudo-random data seeded from
 * the case's name), so the `ref` device and the device under test compute on identical inputs. Each cases_*.c
 * file registers the cases of one op group; test_ops.c runs and compares them, perf.c times them.
 */
#ifndef TEST_OPS_HARNESS_H
#define TEST_OPS_HARNESS_H

#include "accel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- input data ------------------------------------------------------------------------------------------- */
typedef enum fill_kind {
    FILL_UNIFORM,  /* floats uniform in [lo, hi); integer dtypes: integers in [lo, hi] */
    FILL_NONZERO,  /* magnitude uniform in [lo, hi) (lo > 0), random sign: divisors, scales */
    FILL_DISTINCT, /* every value distinct (whole tensor when it fits the dtype, else per row), shuffled, so
                      argmax / top-k / max have a single right answer */
    FILL_MASK,     /* uniform in [lo, hi) with about 20% -inf, never in column 0 of a row (rows stay visible) */
    FILL_MASK_ROWS, /* like FILL_MASK, and every third row entirely -inf (softmax must give zeros there) */
    FILL_SPECIAL    /* uniform in [lo, hi) with about 10% each of NaN, +inf and -inf */
} fill_kind;

typedef struct fill_spec {
    fill_kind kind;
    double lo, hi;
} fill_spec;

#define FILL_U(lo, hi) ((fill_spec){FILL_UNIFORM, (lo), (hi)})
#define FILL_NZ(lo, hi) ((fill_spec){FILL_NONZERO, (lo), (hi)})
#define FILL_DIST ((fill_spec){FILL_DISTINCT, 0, 0})

/* How an input reaches the op: the leaf is always contiguous, the op sees a view of it. */
typedef enum layout {
    LAYOUT_CONTIG,
    LAYOUT_TRANSPOSED, /* last two dims swapped in memory (accel_transpose) */
    LAYOUT_PERMUTED,   /* all dims reversed in memory (accel_permute): last dim strided */
    LAYOUT_HEADS,      /* dims ndim-3 and ndim-2 swapped (the [B,S,H,D] -> [B,H,S,D] pattern); rows contiguous */
    LAYOUT_SLICED,     /* accel_slice: offset 1 in dim 0 and every 2nd element of the last dim */
    LAYOUT_BCAST,      /* dim 0 has stride 0 (accel_view of a leaf whose dim 0 is 1) */
    LAYOUT_COUNT
} layout;

const char *layout_name(layout l);

/* ---- building a case -------------------------------------------------------------------------------------- */
#define MAX_INPUTS 12

typedef struct build_ctx {
    accel_graph *g;
    int n_inputs;
    accel_tensor *leaf[MAX_INPUTS];
    fill_spec fill[MAX_INPUTS];
} build_ctx;

/* New input of logical shape `shape` seen through layout l; NULL on a graph error (recorded in the graph). */
accel_tensor *in_tensor(build_ctx *c, accel_dtype dt, int nd, const int64_t *shape, fill_spec f, layout l);
/* Same, contiguous, with the shape given inline: IN(c, dt, fill, 2, 3) for a [2, 3] tensor. */
#define IN(c, dt, fill, ...)                                                                                         \
    in_tensor((c), (dt), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}, \
              (fill), LAYOUT_CONTIG)

/* A shape literal and its length, as two arguments: f(SH(2, 3)) passes (const int64_t[]){2, 3}, 2. */
#define SH(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* Fills a leaf's host bytes (contiguous, nd/shape of the leaf) according to f. Deterministic in seed. */
void fill_bytes(void *dst, accel_dtype dt, int nd, const int64_t *shape, fill_spec f, uint64_t seed);

/* Builds the case's graph into c->g; writes its outputs (1 or 2) to outs and returns how many. Returns 0 (or
 * leaves a NULL output) when a builder failed; the graph status says why. */
typedef int (*case_build_fn)(build_ctx *c, const void *params, accel_tensor **outs);

#define CASE_PARAMS_MAX 256

typedef struct op_case {
    char op[32];      /* op (or composite builder) under test: the summary groups by it; -o selects it */
    char desc[200];   /* dtypes, shapes, layouts and parameters */
    case_build_fn build;
    union {
        max_align_t align_;
        unsigned char bytes[CASE_PARAMS_MAX];
    } params;
    double max_nmse;  /* float outputs: normalized MSE limit; 0 = values must be identical */
    double flops;     /* perf: floating-point operations of one run (0: not reported) */
    bool expect_error; /* compute must fail with ACCEL_ERR_INVALID_ARG on every device */
    char bar[16];      /* perf: this case is measured against a machine bar ("matmul", "bandwidth") */
} op_case;

typedef struct case_list {
    op_case *v;
    int n, cap;
    bool perf; /* registering the perf set (large representative cases) instead of the test set */
} case_list;

/* Adds a case (params copied, at most CASE_PARAMS_MAX bytes); returns it so flops/expect_error can be set. */
op_case *case_add(case_list *l, const char *op, case_build_fn build, const void *params, size_t params_size,
                  double max_nmse, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
void case_list_free(case_list *l);
/* Marks a perf case as measured against a machine bar ("matmul": BLAS sgemm; "bandwidth": threaded memcpy). */
void case_mark_bar(op_case *c, const char *bar);

/* Per-group registration (one file each). */
void cases_elementwise(case_list *l); /* cpy/cast, add/sub/mul/div, scale, activations */
void cases_matmul(case_list *l);      /* matmul, linear */
void cases_norm(case_list *l);        /* softmax, layer/rms/group/batch norm */
void cases_attention(case_list *l);   /* rope, attention */
void cases_conv(case_list *l);        /* conv1d/2d, pool1d/2d */
void cases_data(case_list *l);        /* get_rows, concat, pad, write, windows, reductions, top_k, cumsum,
                                         interpolate */

/* ---- running a case on one device (runner.c) ------------------------------------------------------------- */
typedef enum run_status { RUN_OK, RUN_UNSUPPORTED, RUN_FAILED } run_status;

typedef struct prepared {
    accel_graph *g;
    build_ctx c;
    int n_out;
    accel_tensor *outs[2];
} prepared;

/* Builds the case, asks dev's supports_op about every compute node (RUN_UNSUPPORTED names the first refused
 * node in msg), places the graph on dev with scheduler s (which must list only dev), checks that every node
 * was placed there and writes the inputs, filled from seed. On RUN_OK the caller computes, then releases. */
run_status case_prepare(const op_case *cs, accel_device *dev, accel_sched *s, uint64_t seed, prepared *p, char *msg,
                        size_t msg_size);
void case_release(prepared *p);
/* Builds the case and asks dev's supports_op only (no memory, no compute). */
run_status case_supported(const op_case *cs, accel_device *dev, char *msg, size_t msg_size);
/* Bytes read and written by the compute nodes of a prepared case (each source once, the output once; an in-place
 * write counts its src read and the elements it stores). */
double case_bytes(const prepared *p);
/* The seed of a case's inputs: a hash of its op and description, so it does not depend on filters. */
uint64_t case_seed(const op_case *cs);
/* A scheduler that places everything on dev alone. */
accel_status sched_for_device(accel_device *dev, int n_threads, accel_sched **out);
double now_seconds(void);

/* ---- tolerances -------------------------------------------------------------------------------------------
 * The limits are normalized MSE = sum((x - y)^2) / sum(y^2) between the device (x) and ref (y, computed in double
 * and rounded once to the output dtype). An output rounded to a dtype with unit roundoff u = 2^-p can differ
 * from ref's rounding of the exact value by one unit in the last place, i.e. relatively by at most 2u = eps:
 * one rounding contributes at most eps^2 to the NMSE. tol() adds that to the op's f32 compute limit below,
 * which is what f32 arithmetic (and fast exp/tanh/erf approximations) costs for that kind of op. */
#define NMSE_ELEMENTWISE 1e-10 /* one f32 operation per element, or a few ulp of a transcendental */
#define NMSE_REDUCE 1e-9       /* per-row sums in f32 (norms, softmax, mean, cumsum, pooling, interpolation) */
/* rope: the angle pos * f (f <= 1) in f32 is off by a few ulp, absolute |pos| * 2^-22 rad at most; with positions
 * uniform in [0, max_pos] the mean square is (max_pos * 2^-22)^2 / 3 */
#define NMSE_ROPE(max_pos) (NMSE_ELEMENTWISE + ((max_pos) * 2.384185791015625e-07) * ((max_pos) * 2.384185791015625e-07) / 3)
#define NMSE_DOT 1e-7          /* long f32 dot products (matmul, attention, conv; K up to 4096) */

double dtype_eps(accel_dtype dt);                        /* 2^-23 (f32), 2^-10 (f16), 2^-7 (bf16), 0 for ints */
double tol(double op_limit, accel_dtype out, int roundings); /* op_limit + (roundings * eps(out))^2 */

/* ---- small helpers ---------------------------------------------------------------------------------------- */
extern const accel_dtype k_float_types[3]; /* f32, f16, bf16 */
extern const accel_dtype k_all_types[6];   /* f32, f16, bf16, i8, i32, i64 */
bool dtype_is_float(accel_dtype dt);
size_t dtype_bytes(accel_dtype dt);
double load_value(const void *p, accel_dtype dt);
void store_value(void *p, accel_dtype dt, double v);
/* "[2,3,5]" into buf */
const char *shape_str(char *buf, size_t n, int nd, const int64_t *shape);
int64_t shape_nelements(int nd, const int64_t *shape);

/* xorshift64* */
typedef struct rng {
    uint64_t s;
} rng;
void rng_seed(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
double rng_uniform(rng *r); /* [0, 1) */
uint64_t hash_str(const char *s, uint64_t h);

#endif
