/*
** The float instantiation's vectorisable exp against the C library, over the whole range the
** kernels feed it (softmax, sigmoid, SiLU).
*/
#include <criterion/criterion.h>

#pragma GCC diagnostic ignored "-Wunused-function"
#include "kern_common.inc"

#include <math.h>

Test(fastexp, relative_error_below_2e7)
{
    double worst = 0, at = 0;
    for(double x = -87.0; x <= 88.0; x += 0.000731){
        float got = expr((float)x);
        double want = exp((double)(float)x);
        double e = fabs(got - want) / want;
        if( e > worst ){ worst = e; at = x; }
    }
    fprintf(stderr, "# expr: worst relative error %.3g at %.4f\n", worst, at);
    cr_expect_lt(worst, 2e-7, "worst relative error %g at %g", worst, at);
    cr_expect_eq(expr(0.0f), 1.0f);
    cr_expect_lt(expr(-1000.0f), 1e-37f, "very negative input gives (almost) zero");
    cr_expect(isfinite(expr(1000.0f)), "clamped, no overflow to inf");
    cr_expect_lt(sigmoidr(-1000.0f), 1e-37f);
    cr_expect_eq(sigmoidr(1000.0f), 1.0f);
}
