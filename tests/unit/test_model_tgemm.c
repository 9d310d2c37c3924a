/*
** The TTT branch's own product kernel (model/kern/kern_ttt.inc: tgemm, the AVX-512 float path
** the library's AVX-512 steps run): every transpose, beta 0 and not, edges that are and are not
** multiples of 16, leading dimensions wider than the operands, inner sizes across several of its
** blocks. Checked against a plain double product, and nothing may be written outside the output.
** On a CPU without AVX-512 the test has nothing to check and passes.
*/
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512")
#endif
#include <criterion/criterion.h>
#include <math.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#include "kern_ttt.inc"

Test(tgemm, matches_a_double_product)
{
#if defined(__AVX512F__)
    if( !__builtin_cpu_supports("avx512f") ) return;
    enum { E = 300 };
    float *A = malloc(sizeof(float) * E * E), *B = malloc(sizeof(float) * E * E);
    float *C = malloc(sizeof(float) * E * E), *C0 = malloc(sizeof(float) * E * E);
    cr_assert(A && B && C && C0);
    for(int i = 0; i < E * E; i++){
        A[i] = sinf((float)i * 0.37f);
        B[i] = cosf((float)i * 0.11f);
        C0[i] = sinf((float)i * 0.05f);
    }
    static const int shape[][3] = { { 64, 64, 64 }, { 5, 7, 3 }, { 64, 64, 512 }, { 17, 33, 48 }, { 64, 48, 32 },
                                    { 3, 64, 64 }, { 100, 64, 130 }, { 64, 16, 16 }, { 7, 20, 256 },
                                    { 64, 128, 128 }, { 128, 128, 128 }, { 9, 112, 80 }, { 64, 128, 512 } };
    double worst = 0;
    for(int s = 0; s < (int)(sizeof shape / sizeof shape[0]); s++)
        for(int ta = 0; ta < 2; ta++)
            for(int tb = 0; tb < 2; tb++)
                for(int be = 0; be < 2; be++){
                    int M = shape[s][0], N = shape[s][1], K = shape[s][2];
                    int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
                    float alpha = 1.25f, beta = be ? 0.5f : 0.0f;
                    memcpy(C, C0, sizeof(float) * E * E);
                    tgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
                    for(int i = 0; i < M; i++){
                        for(int j = 0; j < N; j++){
                            double r = 0, mag = 0;
                            for(int k = 0; k < K; k++){
                                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                                r += a * b;
                                mag += fabs(a * b);
                            }
                            r = alpha * r + beta * C0[(size_t)i * ldc + j];
                            double e = fabs(C[(size_t)i * ldc + j] - r) / (alpha * mag + 1);
                            if( e > worst ) worst = e;
                        }
                        for(int j = N; j < ldc; j++)
                            cr_assert_eq(C[(size_t)i * ldc + j], C0[(size_t)i * ldc + j], "wrote outside the output");
                    }
                }
    cr_log_info("tgemm: worst relative error %.3g", worst);
    cr_expect_lt(worst, 1e-5);
    free(A); free(B); free(C); free(C0);
#endif
}

/* tgemm_sym: up to 64 wide, where tgemm runs the same kernel, the same bits as the whole product;
** at 128 (tgemm goes to the BLAS there) within float rounding of it. For X X^T and for S S with S
** symmetric, and the result exactly symmetric in every case. */
static double worst_diff(const float *a, const float *b, int n)
{
    double w = 0, m = 0;
    for(int i = 0; i < n * n; i++){
        w = fmax(w, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return w / (m > 0 ? m : 1);
}

Test(tgemm, symmetric_products_mirror_the_whole)
{
#if defined(__AVX512F__)
    if( !__builtin_cpu_supports("avx512f") ) return;
    enum { E = 128 };
    float *X = malloc(sizeof(float) * E * E), *S = malloc(sizeof(float) * E * E);
    float *C1 = malloc(sizeof(float) * E * E), *C2 = malloc(sizeof(float) * E * E);
    cr_assert(X && S && C1 && C2);
    for(int n = 32; n <= E; n *= 2){
        for(int i = 0; i < n * n; i++) X[i] = sinf((float)i * 0.29f + (float)n) / (float)n;
        tgemm(0, 1, n, n, n, 1, X, n, X, n, 0, S, n);
        tgemm_sym(1, n, n, 1, X, n, X, n, 0, C1, n);
        if( n <= 64 ) cr_expect(memcmp(S, C1, sizeof(float) * n * n) == 0, "X X^T, n %d", n);
        else cr_expect_lt(worst_diff(C1, S, n), 1e-5, "X X^T, n %d", n);
        memcpy(S, C1, sizeof(float) * n * n);   // exactly symmetric from here on
        for(int i = 0; i < n * n; i++) C1[i] = C2[i] = S[i] * 0.5f;   // a symmetric C for beta
        tgemm(0, 0, n, n, n, 0.75f, S, n, S, n, 1, C2, n);
        tgemm_sym(0, n, n, 0.75f, S, n, S, n, 1, C1, n);
        if( n <= 64 ) cr_expect(memcmp(C2, C1, sizeof(float) * n * n) == 0, "S S, n %d", n);
        else cr_expect_lt(worst_diff(C1, C2, n), 1e-5, "S S, n %d", n);
        for(int i = 0; i < n; i++)
            for(int j = 0; j < n; j++) cr_assert_eq(C1[i * n + j], C1[j * n + i], "symmetric, n %d", n);
    }
    free(X); free(S); free(C1); free(C2);
#endif
}

/* tgemm_halves: the two halves of rows give the whole product's bits where the own kernel runs
** both (64 wide), and within float rounding of it where the BLAS does (128 wide). */
Test(tgemm, halves_match_the_whole_product)
{
#if defined(__AVX512F__)
    if( !__builtin_cpu_supports("avx512f") ) return;
    enum { E = 512 };
    float *A = malloc(sizeof(float) * E * E), *B = malloc(sizeof(float) * E * E);
    float *C1 = malloc(sizeof(float) * E * E), *C2 = malloc(sizeof(float) * E * E);
    cr_assert(A && B && C1 && C2);
    for(int i = 0; i < E * E; i++){
        A[i] = sinf((float)i * 0.13f);
        B[i] = cosf((float)i * 0.07f);
    }
    static const int shape[][5] = { { 1, 0, 64, 64, 512 }, { 0, 0, 128, 128, 128 }, { 0, 1, 128, 128, 128 },
                                    { 1, 0, 128, 128, 512 }, { 1, 0, 128, 128, 64 } };
    for(int s = 0; s < (int)(sizeof shape / sizeof shape[0]); s++){
        int ta = shape[s][0], tb = shape[s][1], M = shape[s][2], N = shape[s][3], K = shape[s][4];
        int lda = ta ? M : K, ldb = tb ? K : N;
        for(int i = 0; i < M * N; i++) C1[i] = C2[i] = 0.25f * sinf((float)i);
        tgemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1, C1, N);
        tgemm_halves(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1, C2, N);
        if( N <= 64 ) cr_expect(memcmp(C1, C2, sizeof(float) * M * N) == 0, "shape %d: not the same bits", s);
        double w = 0, m = 0;
        for(int i = 0; i < M * N; i++){
            w = fmax(w, fabs((double)C1[i] - C2[i]));
            m = fmax(m, fabs((double)C1[i]));
        }
        cr_expect_lt(w / m, 1e-5, "shape %d: halves differ by %g of the largest entry", s, w / m);
    }
    free(A); free(B); free(C1); free(C2);
#endif
}
