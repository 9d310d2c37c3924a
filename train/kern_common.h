/*
** Kernel templates, part 0: the scalar type and the helpers every kernel uses.
**
** The kernels (kern_layers.h, kern_attention.h, kern_ttt.h) and the model (kern_model.h) are
** written once over a scalar type REAL: float, or double when the including translation unit
** defines SPTT_REAL_DOUBLE first.
** train/model.c includes them with float (the library), the gradient-check tests with double,
** so finite differences in double check the very code the library runs in float.
** Every function here is static; nothing is exported from these headers.
**
** Math goes through <tgmath.h>, so exp/sqrt/log pick the float or double function from the
** argument type. Matrices are row-major; gemm() maps to cblas_sgemm or cblas_dgemm.
*/
#ifndef SPTT_KERN_COMMON_H
#define SPTT_KERN_COMMON_H

#include <assert.h>
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "sptt_model.h"

#ifdef SPTT_REAL_DOUBLE
typedef double REAL;
#else
typedef float REAL;
#endif

/* Element-wise loops go parallel from this many elements on; below it the fork costs more. */
#define OMP_MIN 16384

/* C (M, N) = alpha * op(A) op(B) + beta * C, row-major; op(A) is (M, K), op(B) is (K, N). */
static void gemm(int transA, int transB, int M, int N, int K, REAL alpha, const REAL *A, int lda,
                 const REAL *B, int ldb, REAL beta, REAL *C, int ldc)
{
    if( M <= 0 || N <= 0 ) return;
    if( K <= 0 ){
        /* nothing to multiply: only the beta scaling remains (OpenBLAS rejects K = 0 leading dims) */
        for(int i = 0; i < M; i++) for(int j = 0; j < N; j++) C[(size_t)i * ldc + j] *= beta;
        return;
    }
#if defined(SPTT_REAL_DOUBLE)
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

#ifdef SPTT_REAL_DOUBLE
static inline REAL expr(REAL x) { return exp(x); }
#else
/*
** e^x for float without a library call, so that element-wise loops vectorise (glibc offers vector
** expf only under -ffast-math, which this project does not use). x = k ln2 + r with |r| <= ln2/2
** (Cody-Waite split of ln2), e^r by its degree-7 Taylor polynomial, 2^k built in the exponent
** bits. Relative error below 1e-7 over the clamped range [-87, 88]; below -87 it returns about
** 1.6e-38 instead of a denormal, which no caller can tell from 0. Plain IEEE arithmetic, so the
** result is the same on every machine.
*/
static inline float expr(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f;   /* round to nearest via 1.5 * 2^23 */
    float r = x - k * 0.693145752f;
    r = r - k * 1.42860677e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 +
              r * (1.0f / 720 + r * (1.0f / 5040)))))));
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
#endif

static inline REAL sigmoidr(REAL x) { return (REAL)1 / ((REAL)1 + expr(-x)); }
static inline REAL silur(REAL x) { return x * sigmoidr(x); }
/* silu'(x) = s (1 + x (1 - s)) */
static inline REAL silu_d1(REAL x) { REAL s = sigmoidr(x); return s * ((REAL)1 + x * ((REAL)1 - s)); }
/* silu''(x) = s (1 - s) (2 + x (1 - 2 s)) */
static inline REAL silu_d2(REAL x)
{
    REAL s = sigmoidr(x);
    return s * ((REAL)1 - s) * ((REAL)2 + x * ((REAL)1 - (REAL)2 * s));
}
/* softplus without overflow: log(1 + e^x) */
static inline REAL softplusr(REAL x) { return x > (REAL)20 ? x : log1p(exp(x)); }  /* few calls: libm */

/*
** Bump allocator over one block. Layout runs twice: first with base == NULL to measure, then with
** the real block to hand out pointers, so the arena of activations is exactly one allocation.
** Every piece is rounded to 16 elements so rows of different tensors never share a cache line.
*/
typedef struct arena {
    REAL *base;
    size_t used;
} arena;

static REAL *arena_take(arena *a, size_t n)
{
    REAL *p = a->base ? a->base + a->used : NULL;
    a->used += (n + 15) & ~(size_t)15;
    return p;
}

#endif
