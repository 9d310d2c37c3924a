/*
** The float attention kernels at the model's head size (64) against a reference in double: the
** AVX-512 copy's own products (att_mm's register-blocked kernel, the in-register transposes),
** which the double gradient checks (test_model_layers.c, through the BLAS) never run. Compiled
** here with AVX-512 enabled, as model/model_avx512.c compiles them, and run where the CPU has it.
*/
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ATT_TEST_AVX512 1
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512")
#endif
#include "kern_attention.inc"   /* sptt_common.h (the random numbers) comes with it */
#ifdef ATT_TEST_AVX512
#pragma GCC pop_options
#endif


enum { NH = 4, KV = 2, D = 64, QD = NH * D, KD = KV * D };

static float *randf(size_t n, sptt_rng *r)
{
    float *p = malloc(sizeof(float) * n);
    cr_assert(p);
    for(size_t i = 0; i < n; i++) p[i] = (float)sptt_rng_uniform(r, -1, 1);
    return p;
}

/*
** Out, dq, dk, dv of the loss sum(out . G) in double, straight from the definition: query i of
** head h sees keys max(0, i-W+1) .. i of KV head h / 2.
*/
static void reference(int T, int W, const float *q, const float *k, const float *v, const float *G, double *out,
                      double *dq, double *dk, double *dv)
{
    double scale = 1 / sqrt((double)D), *p = malloc(sizeof(double) * T), *dp = malloc(sizeof(double) * T);
    cr_assert(p && dp);
    memset(dq, 0, sizeof(double) * T * QD);
    memset(dk, 0, sizeof(double) * T * KD);
    memset(dv, 0, sizeof(double) * T * KD);
    for(int i = 0; i < T; i++) for(int h = 0; h < NH; h++){
        int kh = h / (NH / KV), lo = i - W + 1 > 0 ? i - W + 1 : 0;
        const float *qi = q + (size_t)i * QD + h * D, *gi = G + (size_t)i * QD + h * D;
        double mx = -1e300, z = 0, delta = 0;
        for(int j = lo; j <= i; j++){
            double s = 0;
            for(int d = 0; d < D; d++) s += (double)qi[d] * k[(size_t)j * KD + kh * D + d];
            p[j] = s * scale;
            mx = p[j] > mx ? p[j] : mx;
        }
        for(int j = lo; j <= i; j++){ p[j] = exp(p[j] - mx); z += p[j]; }
        double *o = out + (size_t)i * QD + h * D;
        for(int d = 0; d < D; d++) o[d] = 0;
        for(int j = lo; j <= i; j++){
            p[j] /= z;
            double g = 0;
            for(int d = 0; d < D; d++){
                o[d] += p[j] * v[(size_t)j * KD + kh * D + d];
                g += (double)gi[d] * v[(size_t)j * KD + kh * D + d];
            }
            dp[j] = g;
        }
        for(int d = 0; d < D; d++) delta += o[d] * gi[d];
        for(int j = lo; j <= i; j++){
            double ds = p[j] * (dp[j] - delta) * scale;
            for(int d = 0; d < D; d++){
                dq[(size_t)i * QD + h * D + d] += ds * k[(size_t)j * KD + kh * D + d];
                dk[(size_t)j * KD + kh * D + d] += ds * qi[d];
                dv[(size_t)j * KD + kh * D + d] += p[j] * gi[d];
            }
        }
    }
    free(p);
    free(dp);
}

/* Worst |got - want| over n values, relative to the largest |want| or to 1 where all are smaller
** (a window of one key has dq = dk = 0 exactly). */
static double worst_rel(const float *got, const double *want, size_t n)
{
    double e = 0, m = 0;
    for(size_t i = 0; i < n; i++){
        double d = fabs(got[i] - want[i]);
        e = d > e ? d : e;
        m = fabs(want[i]) > m ? fabs(want[i]) : m;
    }
    return e / (m > 1 ? m : 1);
}

/* Forward and backward on nthr threads, dq from the shares or from the query pass. */
static void run(int T, int W, int shares, int nthr, const float *q, const float *k, const float *v, const float *G,
                float *out, float *lse, float *dq, float *dk, float *dv)
{
    size_t per = attention_scratch(T, W, D);
    float *S = calloc((size_t)nthr * per, sizeof(float)), *dS = calloc((size_t)nthr * per, sizeof(float));
    float *buf = calloc(attention_dq_parts(T, NH, D, W), sizeof(float));
    cr_assert(S && dS && buf);
    attention_forward(out, lse, q, k, v, T, NH, KV, D, W, S, nthr);
    memset(dq, 0, sizeof(float) * T * QD);
    memset(dk, 0, sizeof(float) * T * KD);
    memset(dv, 0, sizeof(float) * T * KD);
    attention_backward(dq, dk, dv, G, q, k, v, out, lse, T, NH, KV, D, W, S, dS, buf, shares, nthr);
    free(S);
    free(dS);
    free(buf);
}

static void attention_float_case(int T, int W, int shares)
{
    sptt_rng r;
    sptt_rng_seed(&r, 40 + (uint64_t)W);
    float *q = randf((size_t)T * QD, &r), *k = randf((size_t)T * KD, &r), *v = randf((size_t)T * KD, &r);
    float *G = randf((size_t)T * QD, &r);
    float *out = malloc(sizeof(float) * T * QD), *lse = malloc(sizeof(float) * T * NH);
    float *dq = malloc(sizeof(float) * T * QD), *dk = malloc(sizeof(float) * T * KD);
    float *dv = malloc(sizeof(float) * T * KD);
    double *rOut = malloc(sizeof(double) * T * QD), *rdq = malloc(sizeof(double) * T * QD);
    double *rdk = malloc(sizeof(double) * T * KD), *rdv = malloc(sizeof(double) * T * KD);
    cr_assert(out && lse && dq && dk && dv && rOut && rdq && rdk && rdv);
    reference(T, W, q, k, v, G, rOut, rdq, rdk, rdv);
    run(T, W, shares, 3, q, k, v, G, out, lse, dq, dk, dv);
    // float sums of up to T terms against double: a few units of 1e-7 times sqrt(T), with margin
    double eo = worst_rel(out, rOut, (size_t)T * QD), eq = worst_rel(dq, rdq, (size_t)T * QD);
    double ek = worst_rel(dk, rdk, (size_t)T * KD), ev = worst_rel(dv, rdv, (size_t)T * KD);
    fprintf(stderr, "# T %d W %d shares %d: worst relative error out %.2g dq %.2g dk %.2g dv %.2g\n", T, W, shares,
            eo, eq, ek, ev);
    cr_expect_lt(eo, 2e-5, "T=%d W=%d: out %g", T, W, eo);
    cr_expect_lt(eq, 2e-5, "T=%d W=%d: dq %g", T, W, eq);
    cr_expect_lt(ek, 2e-5, "T=%d W=%d: dk %g", T, W, ek);
    cr_expect_lt(ev, 2e-5, "T=%d W=%d: dv %g", T, W, ev);
    // one thread: the same bits
    float *out1 = malloc(sizeof(float) * T * QD), *lse1 = malloc(sizeof(float) * T * NH);
    float *dq1 = malloc(sizeof(float) * T * QD), *dk1 = malloc(sizeof(float) * T * KD);
    float *dv1 = malloc(sizeof(float) * T * KD);
    cr_assert(out1 && lse1 && dq1 && dk1 && dv1);
    run(T, W, shares, 1, q, k, v, G, out1, lse1, dq1, dk1, dv1);
    cr_expect(memcmp(out1, out, sizeof(float) * T * QD) == 0, "T=%d W=%d: out depends on the thread count", T, W);
    cr_expect(memcmp(lse1, lse, sizeof(float) * T * NH) == 0, "T=%d W=%d: lse depends on the thread count", T, W);
    cr_expect(memcmp(dq1, dq, sizeof(float) * T * QD) == 0, "T=%d W=%d: dq depends on the thread count", T, W);
    cr_expect(memcmp(dk1, dk, sizeof(float) * T * KD) == 0, "T=%d W=%d: dk depends on the thread count", T, W);
    cr_expect(memcmp(dv1, dv, sizeof(float) * T * KD) == 0, "T=%d W=%d: dv depends on the thread count", T, W);
    // the streaming runtime's call: only the last few queries (a block of fewer than 16, against
    // the keys they see) give the training pass's rows
    int nNew = 6, Q0 = T - nNew;
    size_t per = attention_scratch(T, W, D);
    float *S = malloc(sizeof(float) * per), *outS = malloc(sizeof(float) * nNew * QD);
    float *lseS = malloc(sizeof(float) * nNew * NH);
    cr_assert(S && outS && lseS);
    attention_forward_from(outS, lseS, q + (size_t)Q0 * QD, k, v, T, Q0, NH, KV, D, W, S, 1);
    double es = worst_rel(outS, rOut + (size_t)Q0 * QD, (size_t)nNew * QD);
    cr_expect_lt(es, 2e-5, "T=%d W=%d: the last %d queries alone %g", T, W, nNew, es);
    free(S); free(outS); free(lseS);
    free(q); free(k); free(v); free(G); free(out); free(lse); free(dq); free(dk); free(dv);
    free(rOut); free(rdq); free(rdk); free(rdv); free(out1); free(lse1); free(dq1); free(dk1); free(dv1);
}

Test(attention_float, head_64_against_double_reference)
{
#ifdef ATT_TEST_AVX512
    if( !__builtin_cpu_supports("avx512f") ) cr_skip_test("no AVX-512 here: the kernels under test need it");
#else
    cr_skip_test("built without the AVX-512 copy");
#endif
    for(int shares = 0; shares < 2; shares++){
        attention_float_case(200, 70, shares);    // a window that is no multiple of 64, blocks cut short at T
        attention_float_case(200, 200, shares);   // full causal
        attention_float_case(130, 1, shares);     // each token sees only itself
        attention_float_case(1100, 1100, shares); // blocks past ATT_OWN_MAX_K keys: the BLAS's products
    }
}

/* The softmax's exponential in the AVX-512 copy (fused multiply-adds) keeps expr's accuracy. */
Test(attention_float, exp_relative_error_below_2e7)
{
#ifdef ATT_TEST_AVX512
    if( !__builtin_cpu_supports("avx512f") ) cr_skip_test("no AVX-512 here: the kernels under test need it");
#endif
    double worst = 0, at = 0;
    for(double x = -87.0; x <= 88.0; x += 0.000731){
        double e = fabs(att_exp((float)x) - exp((double)(float)x)) / exp((double)(float)x);
        if( e > worst ){ worst = e; at = x; }
    }
    fprintf(stderr, "# att_exp: worst relative error %.3g at %.4f\n", worst, at);
    cr_expect_lt(worst, 2e-7, "worst relative error %g at %g", worst, at);
    cr_expect_eq(att_exp(0.0f), 1.0f);
}
