/* OpenBLAS bridge of the GEMM engine: cblas_sgemm for f32 operands that are row- or column-major. Compiled in
 * every build; without ACCEL_HAVE_OPENBLAS it reports itself unavailable. */
#include "backends/cpu/gemm.h"

#include <limits.h>
#include <stdatomic.h>

#ifdef ACCEL_HAVE_OPENBLAS
#include <cblas.h>
#endif

bool gemm_blas_available(void) {
#ifdef ACCEL_HAVE_OPENBLAS
    return true;
#else
    return false;
#endif
}

const char *gemm_blas_corename(void) {
#ifdef ACCEL_HAVE_OPENBLAS
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
#else
    return "none";
#endif
}

#ifdef ACCEL_HAVE_OPENBLAS
/* A rows x cols f32 operand as a CBLAS row-major matrix: plain (unit column stride) or transposed (unit row
 * stride), with its leading dimension. A size-1 dimension's stride is irrelevant, so it never disqualifies. */
static bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool *trans, int64_t *ld) {
    const int64_t r1 = rows > 1 ? rows : 1, c1 = cols > 1 ? cols : 1;
    if ((cs == 4 || cols == 1) && (rows == 1 || (rs > 0 && rs % 4 == 0 && rs / 4 >= c1))) {
        *trans = false;
        *ld = rows == 1 ? c1 : rs / 4;
        return *ld <= INT_MAX;
    }
    if ((rs == 4 || rows == 1) && (cols == 1 || (cs > 0 && cs % 4 == 0 && cs / 4 >= r1))) {
        *trans = true;
        *ld = cols == 1 ? r1 : cs / 4;
        return *ld <= INT_MAX;
    }
    return false;
}
#endif

bool gemm_blas_accepts(const gemm_problem *p) {
#ifdef ACCEL_HAVE_OPENBLAS
    if (p->a.dtype != ACCEL_F32 || p->b.dtype != ACCEL_F32 || p->c_dtype != ACCEL_F32) return false;
    if (p->m > INT_MAX || p->n > INT_MAX || p->k > INT_MAX || p->ldc > INT_MAX || p->ldc < p->n) return false;
    if (((uintptr_t)p->a.data | (uintptr_t)p->b.data | (uintptr_t)p->c) % 4) return false;
    bool t;
    int64_t ld;
    return blas_layout(p->m, p->k, p->a.rs, p->a.cs, &t, &ld) && blas_layout(p->k, p->n, p->b.rs, p->b.cs, &t, &ld);
#else
    (void)p;
    return false;
#endif
}

void gemm_blas_sgemm(const gemm_problem *p, int n_threads) {
#ifdef ACCEL_HAVE_OPENBLAS
    /* openblas_set_num_threads may (re)build OpenBLAS's pool: call it only when the count changes */
    static atomic_int threads_set = 0;
    if (atomic_exchange(&threads_set, n_threads) != n_threads) openblas_set_num_threads(n_threads);

    bool ta, tb;
    int64_t lda, ldb;
    blas_layout(p->m, p->k, p->a.rs, p->a.cs, &ta, &lda);
    blas_layout(p->k, p->n, p->b.rs, p->b.cs, &tb, &ldb);
    float *c = p->c;
    float beta = 0.0f;
    if (p->row_bias || p->col_bias) { /* C starts as the bias and sgemm accumulates into it */
        for (int64_t i = 0; i < p->m; i++)
            for (int64_t j = 0; j < p->n; j++)
                c[i * p->ldc + j] = (p->row_bias ? p->row_bias[i] : 0.0f) + (p->col_bias ? p->col_bias[j] : 0.0f);
        beta = 1.0f;
    }
    if (p->k == 0) {
        if (!p->row_bias && !p->col_bias)
            for (int64_t i = 0; i < p->m; i++) memset(c + i * p->ldc, 0, (size_t)p->n * sizeof(float));
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)p->m, (int)p->n,
                (int)p->k, 1.0f, (const float *)p->a.data, (int)lda, (const float *)p->b.data, (int)ldb, beta, c,
                (int)p->ldc);
#else
    (void)p;
    (void)n_threads;
#endif
}
