/*
** The float products' task plan (model/kern/kern_common.inc: gemm_batch): output tiles, parts of
** K added in a fixed order, chained products, largest tasks first. Each case is checked against a
** plain double product and must give the same bits at 1, 2 and 3 threads. The shapes are chosen
** so that the plan really cuts: several tiles with short edge tiles, four parts of K whose bounds
** fall inside a chained product, every transpose.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#include "kern_common.inc"

/* Entry (i, j) of op(X) for row-major X with leading dimension ld. */
static double at(const float *X, int trans, int ld, int i, int j)
{
    return trans ? X[(size_t)j * ld + i] : X[(size_t)i * ld + j];
}

static float *normal(size_t n, sptt_rng *r)
{
    float *p = malloc(sizeof(float) * n);
    cr_assert_not_null(p);
    for(size_t i = 0; i < n; i++) p[i] = (float)sptt_rng_normal(r);
    return p;
}

/* The operands of one product with its transposes: op(A) (M, K), op(B) (K, N). */
typedef struct operands { float *A, *B; int lda, ldb; } operands;

static operands make_operands(int tA, int tB, int M, int N, int K, sptt_rng *r)
{
    operands o = { normal((size_t)M * K, r), normal((size_t)K * N, r), tA ? M : K, tB ? K : N };
    return o;
}

/* The batch's result for C0 at nthr threads, in a fresh copy of C0. */
static float *run(gemm_op *ops, int n, const float *C0, size_t nC, int nthr)
{
    float *C = malloc(sizeof(float) * nC);
    cr_assert_not_null(C);
    memcpy(C, C0, sizeof(float) * nC);
    for(int i = 0; i < n; i++) ops[i].C = C;
    omp_set_num_threads(nthr);
    gemm_batch(ops, n);
    return C;
}

/* Worst of |C - ref| / (sum of |terms|) over the entries: float's own error is about K u. */
static double worst_rel(const float *C, const double *ref, const double *mag, size_t n)
{
    double w = 0;
    for(size_t i = 0; i < n; i++){
        double e = fabs(C[i] - ref[i]) / (mag[i] > 0 ? mag[i] : 1);
        if( e > w ) w = e;
    }
    return w;
}

Test(gemm, parts_of_k_and_chains_match_a_plain_product_at_any_thread_count)
{
    // M, N: 6 tiles of up to 256 x 256 with short edges (300 = 256 + 44, 700 = 2 x 256 + 188).
    // K: 700 + 900 + 500 = 2100 in three chained products, cut in four parts at 512, 1024 and
    // 1536: the first bound falls inside the second product, the last inside the third.
    enum { M = 300, N = 700 };
    const int aK[3] = { 700, 900, 500 }, aTA[3] = { 1, 0, 0 }, aTB[3] = { 0, 1, 0 };
    const float aAlpha[3] = { 0.5f, 1.0f, -2.0f };
    sptt_rng r;
    sptt_rng_seed(&r, 11);
    operands op[3];
    for(int q = 0; q < 3; q++) op[q] = make_operands(aTA[q], aTB[q], M, N, aK[q], &r);
    float *C0 = normal((size_t)M * N, &r);
    gemm_op ops[3];
    for(int q = 0; q < 3; q++)
        ops[q] = (gemm_op){ aTA[q], aTB[q], M, N, aK[q], aAlpha[q], q ? 1.0f : 0.25f, op[q].A, op[q].B, NULL,
                            op[q].lda, op[q].ldb, N, q > 0 };

    // the plan does cut: tiles, parts of K, one product of K 2100
    int tm, tn, nt = gemm_tiles(&ops[0], 2100, &tm, &tn);
    cr_assert_eq(nt, 6, "tiles %d (%d x %d)", nt, tm, tn);
    cr_assert_eq(gemm_kparts(&ops[0], 2100, nt), 4);

    double *ref = calloc((size_t)M * N, sizeof(double)), *mag = calloc((size_t)M * N, sizeof(double));
    cr_assert(ref && mag);
    for(int i = 0; i < M; i++) for(int j = 0; j < N; j++){
        double s = 0.25 * C0[(size_t)i * N + j], m = fabs(s);
        for(int q = 0; q < 3; q++) for(int k = 0; k < aK[q]; k++){
            double t = aAlpha[q] * at(op[q].A, aTA[q], op[q].lda, i, k) * at(op[q].B, aTB[q], op[q].ldb, k, j);
            s += t;
            m += fabs(t);
        }
        ref[(size_t)i * N + j] = s;
        mag[(size_t)i * N + j] = m;
    }
    float *C1 = run(ops, 3, C0, (size_t)M * N, 1);
    double w = worst_rel(C1, ref, mag, (size_t)M * N);
    // float rounding of sums of 2100 terms: well below K u = 2100 * 6e-8 = 1.3e-4 of the magnitudes
    cr_assert_lt(w, 2100 * 6e-8, "worst relative error %.3g", w);
    for(int nthr = 2; nthr <= 3; nthr++){
        float *Cn = run(ops, 3, C0, (size_t)M * N, nthr);
        cr_assert_eq(memcmp(C1, Cn, sizeof(float) * M * N), 0, "%d threads give other bits", nthr);
        free(Cn);
    }
    free(C1);
    free(ref);
    free(mag);
    free(C0);
    for(int q = 0; q < 3; q++){ free(op[q].A); free(op[q].B); }
}

/* A batch of independent products of different task sizes (a weight gradient cut along K beside
** an input gradient's tiles), as a linear layer's backward runs them: each equals its own call. */
Test(gemm, a_batch_equals_its_products_one_by_one)
{
    enum { T = 2048, IC = 320, OC = 384 };
    sptt_rng r;
    sptt_rng_seed(&r, 12);
    float *dout = normal((size_t)T * OC, &r), *inp = normal((size_t)T * IC, &r), *w = normal((size_t)OC * IC, &r);
    float *dw0 = normal((size_t)OC * IC, &r), *dx0 = normal((size_t)T * IC, &r);
    float *dwA = malloc(sizeof(float) * OC * IC), *dxA = malloc(sizeof(float) * T * IC);
    float *dwB = malloc(sizeof(float) * OC * IC), *dxB = malloc(sizeof(float) * T * IC);
    cr_assert(dwA && dxA && dwB && dxB);
    memcpy(dwA, dw0, sizeof(float) * OC * IC); memcpy(dwB, dw0, sizeof(float) * OC * IC);
    memcpy(dxA, dx0, sizeof(float) * T * IC); memcpy(dxB, dx0, sizeof(float) * T * IC);
    omp_set_num_threads(2);
    gemm_op both[2] = {
        { 1, 0, OC, IC, T, 1, 1, dout, inp, dwA, OC, IC, IC, 0 },
        { 0, 0, T, IC, OC, 1, 1, dout, w, dxA, OC, IC, IC, 0 },
    };
    gemm_batch(both, 2);
    gemm_batch(&(gemm_op){ 1, 0, OC, IC, T, 1, 1, dout, inp, dwB, OC, IC, IC, 0 }, 1);
    gemm_batch(&(gemm_op){ 0, 0, T, IC, OC, 1, 1, dout, w, dxB, OC, IC, IC, 0 }, 1);
    cr_assert_eq(memcmp(dwA, dwB, sizeof(float) * OC * IC), 0, "the weight gradient depends on its batch");
    cr_assert_eq(memcmp(dxA, dxB, sizeof(float) * T * IC), 0, "the input gradient depends on its batch");
    int tm, tn, nt = gemm_tiles(&both[0], T, &tm, &tn);
    cr_assert_gt(gemm_kparts(&both[0], T, nt), 1, "the weight gradient is not cut along K (%d tiles)", nt);
    // and against double: the weight gradient's sum over 2048 tokens
    double worst = 0;
    for(int o = 0; o < OC; o += 37) for(int i = 0; i < IC; i += 29){
        double s = dw0[(size_t)o * IC + i], m = fabs(s);
        for(int t = 0; t < T; t++){
            double v = (double)dout[(size_t)t * OC + o] * inp[(size_t)t * IC + i];
            s += v;
            m += fabs(v);
        }
        double e = fabs(dwA[(size_t)o * IC + i] - s) / m;
        if( e > worst ) worst = e;
    }
    cr_assert_lt(worst, T * 6e-8, "worst relative error %.3g", worst);
    free(dout); free(inp); free(w); free(dw0); free(dx0); free(dwA); free(dxA); free(dwB); free(dxB);
}
