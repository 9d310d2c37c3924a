/*
** Layer-by-layer tests of the kernel templates, in double precision: every backward against
** finite differences of its forward, forwards against naive references or hand-computed values,
** and the TTT invariants (Newton-Schulz, row-norm, identity conv, last chunk, pre/post-norm).
*/
#include <criterion/criterion.h>

#include "model_testutil.h"

#define TOL 1e-5   /* relative error bound of the kernel gradients (absolute floors as stated per test) */

typedef double (*lossfn)(void *ctx);

/* Worst relative error of g against 4-point central differences of f over x[0..n). */
static double fd_worst(lossfn f, void *ctx, REAL *x, const REAL *g, size_t n, double floor)
{
    double h = 1e-5, worst = 0;
    for(size_t i = 0; i < n; i++){
        REAL v = x[i];
        double fv[4];
        for(int k = 0; k < 4; k++){
            x[i] = v + (k < 2 ? 1 : 2) * (k % 2 ? -h : h);
            fv[k] = f(ctx);
        }
        x[i] = v;
        double fd = (8 * (fv[0] - fv[1]) - (fv[2] - fv[3])) / (12 * h);
        double e = rel_err(fd, g[i], floor);
        if( e > worst ) worst = e;
    }
    return worst;
}

static double dotr(const REAL *a, const REAL *b, size_t n)
{
    double s = 0;
    for(size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static REAL *rnd(size_t n, double sd, sptt_rng *r)
{
    REAL *p = calloc(n ? n : 1, sizeof(REAL));
    fill_normal(p, n, sd, r);
    return p;
}

// ----------------------------------------------------------------------------
// Linear, RMSNorm, SwiGLU, cross-entropy

typedef struct lin_ctx { int T, IC, OC; REAL *x, *w, *b, *G, *out; } lin_ctx;

static double lin_loss(void *p)
{
    lin_ctx *c = p;
    linear_forward(c->out, c->x, c->w, c->b, c->T, c->IC, c->OC);
    return dotr(c->out, c->G, (size_t)c->T * c->OC);
}

Test(layers, linear_backward_matches_fd)
{
    sptt_rng r;
    sptt_rng_seed(&r, 1);
    lin_ctx c = { 5, 7, 3, NULL, NULL, NULL, NULL, NULL };
    c.x = rnd(35, 1, &r); c.w = rnd(21, 1, &r); c.b = rnd(3, 1, &r); c.G = rnd(15, 1, &r); c.out = rnd(15, 0, &r);
    REAL *dx = rnd(35, 0, &r), *dw = rnd(21, 0, &r), *db = rnd(3, 0, &r);
    linear_backward(dx, dw, db, c.G, c.x, c.w, c.T, c.IC, c.OC);
    cr_expect_lt(fd_worst(lin_loss, &c, c.x, dx, 35, 1e-6), TOL);
    cr_expect_lt(fd_worst(lin_loss, &c, c.w, dw, 21, 1e-6), TOL);
    cr_expect_lt(fd_worst(lin_loss, &c, c.b, db, 3, 1e-6), TOL);
    free(c.x); free(c.w); free(c.b); free(c.G); free(c.out); free(dx); free(dw); free(db);
}

typedef struct rms_ctx { long R; int n; REAL *x, *g, *G, *out, *rstd; } rms_ctx;

static double rms_loss(void *p)
{
    rms_ctx *c = p;
    rmsnorm_forward(c->out, c->rstd, c->x, c->g, c->R, c->n, 1e-6);
    return dotr(c->out, c->G, (size_t)c->R * c->n);
}

Test(layers, rmsnorm_value_and_backward)
{
    sptt_rng r;
    sptt_rng_seed(&r, 2);
    rms_ctx c = { 4, 6, NULL, NULL, NULL, NULL, NULL };
    c.x = rnd(24, 1, &r); c.g = rnd(6, 1, &r); c.G = rnd(24, 1, &r); c.out = rnd(24, 0, &r); c.rstd = rnd(4, 0, &r);
    // hand case: x = (3, 4), g = 1: mean square 12.5, out = x / sqrt(12.5 + eps)
    REAL hx[2] = { 3, 4 }, hg[2] = { 1, 1 }, ho[2], hr[1];
    rmsnorm_forward(ho, hr, hx, hg, 1, 2, 1e-6);
    cr_expect(fabs(ho[0] - 3 / sqrt(12.5 + 1e-6)) < 1e-12 && fabs(ho[1] - 4 / sqrt(12.5 + 1e-6)) < 1e-12);
    REAL *dx = rnd(24, 0, &r), *dg = rnd(6, 0, &r);
    rms_loss(&c);
    rmsnorm_backward(dx, dg, c.G, c.x, c.g, c.rstd, c.R, c.n);
    cr_expect_lt(fd_worst(rms_loss, &c, c.x, dx, 24, 1e-6), TOL);
    cr_expect_lt(fd_worst(rms_loss, &c, c.g, dg, 6, 1e-6), TOL);
    free(c.x); free(c.g); free(c.G); free(c.out); free(c.rstd); free(dx); free(dg);
}

typedef struct swi_ctx { long N; REAL *g, *u, *a, *G; } swi_ctx;

static double swi_loss(void *p)
{
    swi_ctx *c = p;
    swiglu_forward(c->a, c->g, c->u, 3, (int)c->N / 3, (int)c->N / 3);
    return dotr(c->a, c->G, (size_t)c->N);
}

Test(layers, swiglu_backward)
{
    sptt_rng r;
    sptt_rng_seed(&r, 3);
    swi_ctx c = { 12, rnd(12, 2, &r), rnd(12, 1, &r), rnd(12, 0, &r), rnd(12, 1, &r) };
    REAL *dg = rnd(12, 0, &r), *du = rnd(12, 0, &r);
    swiglu_backward(dg, du, c.G, c.g, c.u, 3, (int)c.N / 3, (int)c.N / 3);
    cr_expect_lt(fd_worst(swi_loss, &c, c.g, dg, 12, 1e-6), TOL);
    cr_expect_lt(fd_worst(swi_loss, &c, c.u, du, 12, 1e-6), TOL);
    free(c.g); free(c.u); free(c.a); free(c.G); free(dg); free(du);
}

typedef struct ce_ctx { int n, V; REAL *l, *lse; int32_t *t; } ce_ctx;

static double ce_loss(void *p)
{
    ce_ctx *c = p;
    return ce_forward(c->lse, c->l, c->t, c->n, c->V);
}

Test(layers, cross_entropy_value_and_backward)
{
    // equal logits: the loss of each row is ln V
    REAL l0[10] = { 0 }, lse0[2];
    int32_t t0[2] = { 1, 4 };
    cr_expect(fabs(ce_forward(lse0, l0, t0, 2, 5) - 2 * log(5.0)) < 1e-12);
    sptt_rng r;
    sptt_rng_seed(&r, 4);
    int32_t t[3] = { 0, 3, 5 };
    ce_ctx c = { 3, 6, rnd(18, 2, &r), rnd(3, 0, &r), t };
    REAL *dl = rnd(18, 0, &r);
    ce_loss(&c);
    ce_backward(dl, c.l, c.lse, c.t, 3, 6, 1);
    cr_expect_lt(fd_worst(ce_loss, &c, c.l, dl, 18, 1e-6), TOL);
    free(c.l); free(c.lse); free(dl);
}

// ----------------------------------------------------------------------------
// Rotary embedding

Test(layers, rope_is_a_rotation_and_backward_is_its_transpose)
{
    sptt_rng r;
    sptt_rng_seed(&r, 5);
    int T = 7, nh = 3, hd = 8, half = 4, sec[3] = { 2, 1, 1 };
    int32_t pos[21];
    for(int i = 0; i < 21; i++) pos[i] = (int32_t)sptt_rng_below(&r, 50);
    REAL cosT[28], sinT[28];
    rope_table(cosT, sinT, pos, T, half, sec, 10000.0);
    // pair 0 uses frequency 1 and the t position; pair 2 the h position; pair 3 the w position
    cr_expect(fabs(cosT[0] - cos((double)pos[0])) < 1e-12);
    cr_expect(fabs(sinT[4 + 2] - sin(pos[3 + 1] * pow(10000.0, -4.0 / 8))) < 1e-12);
    cr_expect(fabs(sinT[4 + 3] - sin(pos[3 + 2] * pow(10000.0, -6.0 / 8))) < 1e-12);
    for(int rr = 2; rr <= 8; rr += 6){   // partial (r = 2 of 8) and full width
        REAL *x = rnd(168, 1, &r), *y = rnd(168, 1, &r), *x0 = malloc(sizeof(REAL) * 168), *y0 = malloc(sizeof(REAL) * 168);
        memcpy(x0, x, sizeof(REAL) * 168);
        memcpy(y0, y, sizeof(REAL) * 168);
        rope_rotate(x, cosT, sinT, T, nh, hd, nh * hd, rr, half, 1);
        rope_rotate(y, cosT, sinT, T, nh, hd, nh * hd, rr, half, -1);
        // <R x, y> == <x, R^T y>, norms kept, and dims past r untouched
        cr_expect(fabs(dotr(x, y0, 168) - dotr(x0, y, 168)) < 1e-12);
        cr_expect(fabs(dotr(x, x, 168) - dotr(x0, x0, 168)) < 1e-10);
        for(int t = 0; t < T; t++) for(int h = 0; h < nh; h++) for(int j = rr; j < hd; j++)
            cr_expect_eq(x[t * 24 + h * 8 + j], x0[t * 24 + h * 8 + j]);
        free(x); free(y); free(x0); free(y0);
    }
}

// ----------------------------------------------------------------------------
// Attention

typedef struct att_ctx { int T, NH, KV, D, W, nthr; REAL *q, *k, *v, *out, *lse, *G, *S; } att_ctx;

static double att_loss(void *p)
{
    att_ctx *c = p;
    attention_forward(c->out, c->lse, c->q, c->k, c->v, c->T, c->NH, c->KV, c->D, c->W, c->S, c->nthr);
    return dotr(c->out, c->G, (size_t)c->T * c->NH * c->D);
}

// withParts: the backward's dq as the key blocks' shares (attention_dq_shared), else the query pass
static void attention_case(int T, int W, int withParts)
{
    sptt_rng r;
    sptt_rng_seed(&r, 6 + (uint64_t)W);
    // three threads (on any machine): blocks run in parallel, each on its own slot of scratch
    att_ctx c = { T, 4, 2, 4, W, 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
    int QD = 16, KD = 8;
    c.q = rnd((size_t)T * QD, 1, &r); c.k = rnd((size_t)T * KD, 1, &r); c.v = rnd((size_t)T * KD, 1, &r);
    c.out = rnd((size_t)T * QD, 0, &r); c.lse = rnd((size_t)T * 4, 0, &r); c.G = rnd((size_t)T * QD, 1, &r);
    c.S = rnd(3 * attention_scratch(T, W, 4), 0, &r);
    REAL *dS = rnd(3 * attention_scratch(T, W, 4), 0, &r);
    cr_assert(!withParts || attention_dq_shared(T, 4, W), "T=%d W=%d: no dq shares at this size", T, W);
    REAL *parts = rnd(attention_dq_parts(T, 4, 4, W), 0, &r);
    att_loss(&c);
    // naive reference: query i sees keys max(0, i-W+1) .. i of its KV head
    double worst = 0;
    for(int i = 0; i < T; i++) for(int h = 0; h < 4; h++){
        int kh = h / 2, lo = i - W + 1 > 0 ? i - W + 1 : 0;
        double mx = -1e300, sc[200], z = 0;
        for(int j = lo; j <= i; j++){
            sc[j] = dotr(c.q + i * QD + h * 4, c.k + j * KD + kh * 4, 4) / 2.0;
            if( sc[j] > mx ) mx = sc[j];
        }
        for(int j = lo; j <= i; j++) z += exp(sc[j] - mx);
        for(int e = 0; e < 4; e++){
            double o = 0;
            for(int j = lo; j <= i; j++) o += exp(sc[j] - mx) / z * c.v[j * KD + kh * 4 + e];
            double d = fabs(o - c.out[i * QD + h * 4 + e]);
            if( d > worst ) worst = d;
        }
    }
    cr_expect_lt(worst, 1e-12, "T=%d W=%d: forward differs from the naive reference by %g", T, W, worst);
    REAL *dq = rnd((size_t)T * QD, 0, &r), *dk = rnd((size_t)T * KD, 0, &r), *dv = rnd((size_t)T * KD, 0, &r);
    attention_backward(dq, dk, dv, c.G, c.q, c.k, c.v, c.out, c.lse, T, 4, 2, 4, W, c.S, dS, parts, withParts, 3);
    // the same sums in the same order on one thread: bit-identical
    REAL *dq1 = rnd((size_t)T * QD, 0, &r), *dk1 = rnd((size_t)T * KD, 0, &r), *dv1 = rnd((size_t)T * KD, 0, &r);
    REAL *out1 = rnd((size_t)T * QD, 0, &r), *lse1 = rnd((size_t)T * 4, 0, &r);
    attention_forward(out1, lse1, c.q, c.k, c.v, T, 4, 2, 4, W, c.S, 1);
    attention_backward(dq1, dk1, dv1, c.G, c.q, c.k, c.v, c.out, c.lse, T, 4, 2, 4, W, c.S, dS, parts, withParts, 1);
    cr_expect(memcmp(out1, c.out, sizeof(REAL) * (size_t)T * QD) == 0, "T=%d W=%d: out depends on the thread count", T, W);
    cr_expect(memcmp(lse1, c.lse, sizeof(REAL) * (size_t)T * 4) == 0, "T=%d W=%d: lse depends on the thread count", T, W);
    cr_expect(memcmp(dq1, dq, sizeof(REAL) * (size_t)T * QD) == 0, "T=%d W=%d: dq depends on the thread count", T, W);
    cr_expect(memcmp(dk1, dk, sizeof(REAL) * (size_t)T * KD) == 0, "T=%d W=%d: dk depends on the thread count", T, W);
    cr_expect(memcmp(dv1, dv, sizeof(REAL) * (size_t)T * KD) == 0, "T=%d W=%d: dv depends on the thread count", T, W);
    free(dq1); free(dk1); free(dv1); free(out1); free(lse1);
    double eq = fd_worst(att_loss, &c, c.q, dq, (size_t)T * QD, 1e-4);
    cr_expect_lt(eq, TOL, "T=%d W=%d dq %g", T, W, eq);
    double ek = fd_worst(att_loss, &c, c.k, dk, (size_t)T * KD, 1e-4);
    double ev = fd_worst(att_loss, &c, c.v, dv, (size_t)T * KD, 1e-4);
    cr_expect_lt(ek, TOL, "T=%d W=%d dk %g", T, W, ek);
    cr_expect_lt(ev, TOL, "T=%d W=%d dv %g", T, W, ev);
    free(c.q); free(c.k); free(c.v); free(c.out); free(c.lse); free(c.G); free(c.S); free(dS);
    free(dq); free(dk); free(dv); free(parts);
}

Test(layers, attention_window_and_full_against_naive_and_fd)
{
    for(int withParts = 0; withParts < 2; withParts++){
        attention_case(70, 9, withParts);     // window; 70 > one query block, so blocks meet the window edge
        attention_case(70, 70, withParts);    // full causal
        attention_case(5, 1, withParts);      // a window of one key: each token sees only itself
        attention_case(140, 30, withParts);   // three key blocks; rows take their shares from one or two
    }
}

// ----------------------------------------------------------------------------
// Depthwise 3D conv

Test(layers, conv_identity_init_hand_case_and_backward)
{
    sptt_rng r;
    sptt_rng_seed(&r, 8);
    // sequence: text, 2x2x2 video tokens with a text token in between the groups, text
    int T = 12, C = 5;
    int32_t vid[8] = { 1, 2, 3, 4, 6, 7, 8, 9 };
    uint8_t isvid[12] = { 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0 };
    REAL *x = rnd((size_t)T * C, 1, &r), *out = rnd((size_t)T * C, 0, &r), wt[27 * 5];
    REAL w[5 * 27] = { 0 };
    for(int c = 0; c < C; c++) w[c * 27 + 13] = 1;   // Dirac
    conv3d_forward(out, x, w, vid, 2, 2, 2, T, C, wt);
    for(int i = 0; i < T * C; i++) cr_assert_eq(out[i], x[i], "identity init must be the identity");

    // hand case: all 27 taps 1 on a 1x1x2 grid (a, b): replicate padding gives 9(2a+b), 9(a+2b)
    REAL x2[3] = { 1, 10, 5 }, o2[3], w2[27], wt2[27];
    int32_t vid2[2] = { 0, 2 };
    for(int k = 0; k < 27; k++) w2[k] = 1;
    conv3d_forward(o2, x2, w2, vid2, 1, 1, 2, 3, 1, wt2);
    cr_expect(o2[0] == 9 * (2 * 1 + 5) && o2[2] == 9 * (1 + 2 * 5) && o2[1] == 10, "got %g %g %g", o2[0], o2[1], o2[2]);

    // backward against finite differences with random taps
    fill_normal(w, 5 * 27, 1, &r);
    REAL *G = rnd((size_t)T * C, 1, &r), *dx = rnd((size_t)T * C, 0, &r), dw[5 * 27] = { 0 }, dwt[27 * 5];
    conv3d_forward(out, x, w, vid, 2, 2, 2, T, C, wt);
    conv3d_backward(dx, dw, G, x, isvid, vid, 2, 2, 2, T, C, wt, dwt);
    // the loss is linear in x and in w: compare with exact directional sums
    double worst = 0;
    for(int i = 0; i < T * C; i++){
        REAL v = x[i];
        x[i] = v + 1;
        conv3d_forward(out, x, w, vid, 2, 2, 2, T, C, wt);
        double lp = dotr(out, G, (size_t)T * C);
        x[i] = v - 1;
        conv3d_forward(out, x, w, vid, 2, 2, 2, T, C, wt);
        double lm = dotr(out, G, (size_t)T * C);
        x[i] = v;
        worst = fmax(worst, rel_err((lp - lm) / 2, dx[i], 1e-9));
    }
    for(int i = 0; i < 5 * 27; i++){
        REAL v = w[i];
        w[i] = v + 1;
        conv3d_forward(out, x, w, vid, 2, 2, 2, T, C, wt);
        double lp = dotr(out, G, (size_t)T * C);
        w[i] = v - 1;
        conv3d_forward(out, x, w, vid, 2, 2, 2, T, C, wt);
        double lm = dotr(out, G, (size_t)T * C);
        w[i] = v;
        worst = fmax(worst, rel_err((lp - lm) / 2, dw[i], 1e-9));
    }
    cr_expect_lt(worst, 1e-10);
    free(x); free(out); free(G); free(dx);
}

// ----------------------------------------------------------------------------
// L2 norm, row-norm, Newton-Schulz

typedef struct l2_ctx { long R; int d; REAL *x, *y, *n, *G; } l2_ctx;

static double l2_loss(void *p)
{
    l2_ctx *c = p;
    silu_l2_forward(c->y, c->n, c->x, c->R, c->d);
    return dotr(c->y, c->G, (size_t)c->R * c->d);
}

Test(layers, silu_l2norm_backward)
{
    sptt_rng r;
    sptt_rng_seed(&r, 9);
    l2_ctx c = { 3, 5, rnd(15, 1, &r), rnd(15, 0, &r), rnd(3, 0, &r), rnd(15, 1, &r) };
    REAL *dx = rnd(15, 0, &r);
    l2_loss(&c);
    for(int i = 0; i < 3; i++){
        double nn = sqrt(dotr(c.y + 5 * i, c.y + 5 * i, 5));
        cr_expect(fabs(nn - c.n[i] / (c.n[i] + 1e-5)) < 1e-12, "unit length up to eps");
    }
    silu_l2_backward(dx, c.G, c.x, c.n, 3, 5);
    cr_expect_lt(fd_worst(l2_loss, &c, c.x, dx, 15, 1e-6), TOL);
    free(c.x); free(c.y); free(c.n); free(c.G); free(dx);
}

typedef struct rn_ctx { int rows, n; REAL *u, *s, *y, *G; } rn_ctx;

static double rn_loss(void *p)
{
    rn_ctx *c = p;
    rownorm_forward(c->y, c->u, c->s, c->rows, c->n);
    return dotr(c->y, c->G, (size_t)c->rows * c->n);
}

Test(layers, rownorm_keeps_row_norms_and_backward)
{
    sptt_rng r;
    sptt_rng_seed(&r, 10);
    REAL *W0 = rnd(16, 0.5, &r), n0[4];
    row_norms(n0, W0, 4, 4);
    rn_ctx c = { 4, 4, rnd(16, 3, &r), n0, rnd(16, 0, &r), rnd(16, 1, &r) };
    rn_loss(&c);
    REAL got[4];
    row_norms(got, c.y, 4, 4);
    for(int i = 0; i < 4; i++) cr_expect(fabs(got[i] - n0[i]) < 1e-5 * n0[i], "row %d: %g vs %g", i, got[i], n0[i]);
    REAL *du = rnd(16, 0, &r), ds[4] = { 0 };
    rownorm_backward(du, ds, c.G, c.u, c.s, 4, 4);
    cr_expect_lt(fd_worst(rn_loss, &c, c.u, du, 16, 1e-6), TOL);
    cr_expect_lt(fd_worst(rn_loss, &c, c.s, ds, 4, 1e-6), TOL);
    free(W0); free(c.u); free(c.y); free(c.G); free(du);
}

/* Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (a is destroyed). */
static void sym_eig(double *a, int n, double *ev)
{
    for(int sweep = 0; sweep < 100; sweep++){
        double off = 0;
        for(int i = 0; i < n; i++) for(int j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
        if( off < 1e-24 ) break;
        for(int p = 0; p < n; p++) for(int q = p + 1; q < n; q++){
            if( fabs(a[p * n + q]) < 1e-300 ) continue;
            double th = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
            double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
            double cs = 1 / sqrt(t * t + 1), sn = t * cs;
            for(int k = 0; k < n; k++){
                double akp = a[k * n + p], akq = a[k * n + q];
                a[k * n + p] = cs * akp - sn * akq;
                a[k * n + q] = sn * akp + cs * akq;
            }
            for(int k = 0; k < n; k++){
                double apk = a[p * n + k], aqk = a[q * n + k];
                a[p * n + k] = cs * apk - sn * aqk;
                a[q * n + k] = sn * apk + cs * aqk;
            }
        }
    }
    for(int i = 0; i < n; i++) ev[i] = a[i * n + i];
}

typedef struct ns_ctx { int d; REAL *G, *U, *X, *A, *B, nu, *Gup; } ns_ctx;

static double ns_loss(void *p)
{
    ns_ctx *c = p;
    ns_forward(c->U, c->X, c->A, c->B, &c->nu, c->G, c->d);
    return dotr(c->U, c->Gup, (size_t)c->d * c->d);
}

Test(layers, newton_schulz_singular_values_and_backward)
{
    sptt_rng r;
    sptt_rng_seed(&r, 12);
    int d = 16;
    size_t dd = 256;
    ns_ctx c = { d, rnd(dd, 1, &r), rnd(dd, 0, &r), rnd(5 * dd, 0, &r), rnd(5 * dd, 0, &r), rnd(5 * dd, 0, &r), 0, rnd(dd, 1, &r) };
    ns_loss(&c);
    // singular values of U: square roots of the eigenvalues of U U^T
    double uu[256], ev[16], lo = 1e9, hi = 0;
    for(int i = 0; i < d; i++) for(int j = 0; j < d; j++) uu[i * d + j] = dotr(c.U + i * d, c.U + j * d, d);
    sym_eig(uu, d, ev);
    for(int i = 0; i < d; i++){ lo = fmin(lo, sqrt(ev[i])); hi = fmax(hi, sqrt(ev[i])); }
    fprintf(stderr, "# Newton-Schulz on a 16x16 Gaussian: singular values in [%.4f, %.4f]\n", lo, hi);
    cr_expect(lo > 0.7 && hi < 1.3, "singular values in [%g, %g]", lo, hi);
    REAL *dG = rnd(dd, 0, &r), *tmp = rnd(4 * dd, 0, &r);
    ns_backward(dG, c.Gup, c.X, c.A, c.B, c.nu, c.G, d, tmp);
    cr_expect_lt(fd_worst(ns_loss, &c, c.G, dG, dd, 1e-6), 1e-5);
    free(c.G); free(c.U); free(c.X); free(c.A); free(c.B); free(c.Gup); free(dG); free(tmp);
}

// ----------------------------------------------------------------------------
// The fast-weight recurrence

typedef struct chunk_ctx {
    ttt_dims dm;
    REAL *Q, *K, *V, *eta, *mu, *w0, *w1, *w2, *O, *G, *scratch;
    REAL *stBase;
    ttt_state st;
} chunk_ctx;

static void chunk_setup(chunk_ctx *c, int T, int chunk, int muon, int momentum, int prenorm, uint64_t seed)
{
    sptt_rng r;
    sptt_rng_seed(&r, seed);
    memset(c, 0, sizeof *c);
    // row tiles of 4: chunks of 6 split into two tasks per head, so tile edges are checked too
    ttt_dims dm = { T, 8, 2, 4, chunk, muon, momentum, prenorm, 4 };
    c->dm = dm;
    size_t TC = (size_t)T * 8;
    c->Q = rnd(TC, 0.5, &r); c->K = rnd(TC, 0.5, &r); c->V = rnd(TC, 0.5, &r);
    c->eta = rnd((size_t)T * 6, 0, &r);
    c->mu = rnd((size_t)T * 2, 0, &r);
    for(int i = 0; i < T * 6; i++) c->eta[i] = (REAL)sptt_rng_uniform(&r, 0.05, 0.5);
    for(int i = 0; i < T * 2; i++) c->mu[i] = (REAL)sptt_rng_uniform(&r, 0.1, 0.9);
    c->w0 = rnd(32, 0.5, &r); c->w1 = rnd(32, 0.5, &r); c->w2 = rnd(32, 0.5, &r);
    c->O = rnd(TC, 0, &r);
    c->G = rnd(TC, 1, &r);
    c->scratch = rnd(ttt_chunks_scratch(&c->dm), 0, &r);
    arena a = { NULL, 0 };
    ttt_state_layout(&a, &c->st, &c->dm);
    c->stBase = calloc(a.used, sizeof(REAL));
    a.base = c->stBase;
    a.used = 0;
    ttt_state_layout(&a, &c->st, &c->dm);
}

static void chunk_free(chunk_ctx *c)
{
    free(c->Q); free(c->K); free(c->V); free(c->eta); free(c->mu); free(c->w0); free(c->w1); free(c->w2);
    free(c->O); free(c->G); free(c->scratch); free(c->stBase);
}

static double chunk_loss(void *p)
{
    chunk_ctx *c = p;
    ttt_chunks_forward(&c->st, c->O, c->Q, c->K, c->V, c->eta, c->dm.momentum ? c->mu : NULL,
                       c->w0, c->w1, c->w2, &c->dm, c->scratch);
    return dotr(c->O, c->G, (size_t)c->dm.T * c->dm.C);
}

static void chunk_grad_case(int muon, int momentum, int prenorm)
{
    chunk_ctx c;
    // 20 tokens in chunks of 6: 4 chunks, 3 updates (the last chunk is 2 tokens, apply-only)
    chunk_setup(&c, 20, 6, muon, momentum, prenorm, 100 + muon * 4 + momentum * 2 + prenorm);
    size_t TC = 160;
    REAL *dQ = calloc(TC, sizeof(REAL)), *dK = calloc(TC, sizeof(REAL)), *dV = calloc(TC, sizeof(REAL));
    REAL *de = calloc(120, sizeof(REAL)), *dm = calloc(40, sizeof(REAL));
    REAL *dw0 = calloc(32, sizeof(REAL)), *dw1 = calloc(32, sizeof(REAL)), *dw2 = calloc(32, sizeof(REAL));
    REAL *bscr = calloc(ttt_chunks_scratch(&c.dm), sizeof(REAL));
    chunk_loss(&c);
    cr_assert_eq(c.st.n_chunk, 4);
    cr_assert_eq(c.st.n_upd, 3);
    ttt_chunks_backward(dQ, dK, dV, de, momentum ? dm : NULL, dw0, dw1, dw2, c.G, &c.st, c.Q, c.K, c.V, c.eta,
                        c.w0, c.w1, c.w2, &c.dm, bscr);
    const char *z = muon ? (prenorm ? "muon prenorm" : "muon postnorm") : (prenorm ? "plain prenorm" : "plain postnorm");
    double e[8];
    e[0] = fd_worst(chunk_loss, &c, c.Q, dQ, TC, 1e-6);
    e[1] = fd_worst(chunk_loss, &c, c.K, dK, TC, 1e-6);
    e[2] = fd_worst(chunk_loss, &c, c.V, dV, TC, 1e-6);
    e[3] = fd_worst(chunk_loss, &c, c.eta, de, 120, 1e-6);
    e[4] = momentum ? fd_worst(chunk_loss, &c, c.mu, dm, 40, 1e-6) : 0;
    e[5] = fd_worst(chunk_loss, &c, c.w0, dw0, 32, 1e-6);
    e[6] = fd_worst(chunk_loss, &c, c.w1, dw1, 32, 1e-6);
    e[7] = fd_worst(chunk_loss, &c, c.w2, dw2, 32, 1e-6);
    const char *an[8] = { "Q", "K", "V", "eta", "mu", "w0", "w1", "w2" };
    double worst = 0;
    for(int i = 0; i < 8; i++){
        cr_expect_lt(e[i], 1e-5, "%s%s: d%s relative error %g", z, momentum ? " momentum" : "", an[i], e[i]);
        worst = fmax(worst, e[i]);
    }
    fprintf(stderr, "# chunk recurrence (%s%s): worst relative error %.3g\n", z, momentum ? ", momentum" : "", worst);
    // the last chunk's keys, values, rates and gates never reach anything
    for(int i = 18; i < 20; i++){
        for(int k = 0; k < 8; k++) cr_expect_eq(dK[i * 8 + k], 0);
        for(int k = 0; k < 8; k++) cr_expect_eq(dV[i * 8 + k], 0);
        for(int k = 0; k < 6; k++) cr_expect_eq(de[i * 6 + k], 0);
    }
    free(dQ); free(dK); free(dV); free(de); free(dm); free(dw0); free(dw1); free(dw2); free(bscr);
    chunk_free(&c);
}

Test(ttt, recurrence_backward_muon_prenorm_momentum) { chunk_grad_case(1, 1, 1); }
Test(ttt, recurrence_backward_muon_postnorm_momentum) { chunk_grad_case(1, 1, 0); }
Test(ttt, recurrence_backward_plain_prenorm) { chunk_grad_case(0, 0, 1); }
Test(ttt, recurrence_backward_plain_postnorm_momentum) { chunk_grad_case(0, 1, 0); }

/* f_W(z) written out naively: W1 (silu(W0 z) * (W2 z)), square d. */
static void naive_fw(double *out, const REAL *W0, const REAL *W1, const REAL *W2, const REAL *z, int d)
{
    double h[16];
    for(int a = 0; a < d; a++){
        double u = 0, w = 0;
        for(int b = 0; b < d; b++){ u += W0[a * d + b] * z[b]; w += W2[a * d + b] * z[b]; }
        h[a] = u / (1 + exp(-u)) * w;
    }
    for(int a = 0; a < d; a++){
        out[a] = 0;
        for(int b = 0; b < d; b++) out[a] += W1[a * d + b] * h[b];
    }
}

Test(ttt, closed_form_update_is_the_weighted_inner_gradient)
{
    // one update, no momentum and no Newton-Schulz: M(0) must equal
    //   dW_j = sum_i eta_{j,i} d/dW_j <f_W(k_i), v_i>   (minus the gradient of the -dot inner loss)
    chunk_ctx c;
    chunk_setup(&c, 10, 5, 0, 0, 1, 77);
    chunk_loss(&c);
    int d = 4, C = 8, H = 2;
    for(int h = 0; h < H; h++){
        REAL *W[3] = { c.w0 + h * 16, c.w1 + h * 16, c.w2 + h * 16 };
        for(int j = 0; j < 3; j++){
            const REAL *M = c.st.M + ((size_t)h * 3 + j) * 16;
            for(int e = 0; e < 16; e++){
                REAL v0 = W[j][e];
                double fv[2];
                for(int s = 0; s < 2; s++){
                    W[j][e] = v0 + (s ? -1e-6 : 1e-6);
                    double L = 0, o[16];
                    for(int i = 0; i < 5; i++){
                        naive_fw(o, W[0], W[1], W[2], c.K + i * C + h * d, d);
                        double dotv = 0;
                        for(int a = 0; a < d; a++) dotv += o[a] * c.V[i * C + h * d + a];
                        L += c.eta[i * 3 * H + 3 * h + j] * dotv;
                    }
                    fv[s] = L;
                }
                W[j][e] = v0;
                double fd = (fv[0] - fv[1]) / 2e-6;
                cr_expect(rel_err(fd, M[e], 1e-6) < 1e-6, "head %d matrix %d entry %d: closed form %g vs %g",
                          h, j, e, (double)M[e], fd);
            }
        }
    }
    chunk_free(&c);
}

Test(ttt, last_chunk_never_updates)
{
    // 12 tokens in chunks of 6: two full chunks, yet only the first updates
    chunk_ctx c;
    chunk_setup(&c, 12, 6, 1, 1, 1, 5);
    chunk_loss(&c);
    cr_assert_eq(c.st.n_chunk, 2);
    cr_assert_eq(c.st.n_upd, 1);
    REAL *O1 = malloc(sizeof(REAL) * 96);
    memcpy(O1, c.O, sizeof(REAL) * 96);
    for(int i = 6 * 8; i < 96; i++){ c.K[i] += 1; c.V[i] -= 1; }
    for(int i = 6 * 6; i < 72; i++) c.eta[i] *= 3;
    for(int i = 6 * 2; i < 24; i++) c.mu[i] = 0.01;
    chunk_loss(&c);
    for(int i = 0; i < 96; i++) cr_assert_eq(c.O[i], O1[i], "output %d moved", i);
    // a sequence of one chunk or less never updates
    chunk_ctx s;
    chunk_setup(&s, 6, 6, 1, 1, 1, 6);
    chunk_loss(&s);
    cr_expect_eq(s.st.n_upd, 0);
    free(O1);
    chunk_free(&c);
    chunk_free(&s);
}

Test(ttt, prenorm_and_postnorm_agree_for_the_first_update_only)
{
    chunk_ctx a, b;
    chunk_setup(&a, 18, 6, 1, 1, 1, 9);
    chunk_setup(&b, 18, 6, 1, 1, 0, 9);
    chunk_loss(&a);
    chunk_loss(&b);
    // chunk 0 applies the slow weights and chunk 1 W(1) = RowNorm(W(0) + U(0)) in both variants
    for(int i = 0; i < 12 * 8; i++) cr_assert_eq(a.O[i], b.O[i], "output %d before the second update", i);
    // chunk 2 applies RowNorm(W(0) + U(0) + U(1)) against RowNorm(W(1) + U(1)): they differ
    double diff = 0;
    for(int i = 12 * 8; i < 18 * 8; i++) diff = fmax(diff, fabs(a.O[i] - b.O[i]));
    cr_expect_gt(diff, 1e-3, "chunk 2 should differ, max difference %g", diff);
    chunk_free(&a);
    chunk_free(&b);
}

// ----------------------------------------------------------------------------
// The whole TTT branch alone: affine, KV expansion, conv, SiLU, L2, rotary, rates, momentum,
// gate, recurrence and output norm

typedef struct branch_ctx {
    ttt_ctx x;
    ttt_params p;
    ttt_acts a;
    REAL *pbuf, *abuf, *scratch, *xn, *qh, *kh, *v, *G, *cosT, *sinT;
    size_t np;
    int32_t vid[8];
    uint8_t isvid[21];
} branch_ctx;

static double branch_loss(void *p)
{
    branch_ctx *b = p;
    ttt_forward(&b->a, &b->p, &b->x, b->xn, b->qh, b->kh, b->v, b->scratch);
    return dotr(b->a.y, b->G, (size_t)b->x.T * b->x.C);
}

/* KV heads of 4 (4 query heads) and the conv on or off: with as many KV heads as heads the
** backward adds the k and v gradients straight in, without the expansion. (4 KV heads with the
** conv is not a case: its finite differences here reach 1e-4 relative error before and after
** that change alike, a property of the random point, not of the gradient.) */
static void branch_case(int KV, int conv, double floor)
{
    branch_ctx b;
    memset(&b, 0, sizeof b);
    sptt_rng r;
    sptt_rng_seed(&r, 31);
    // 21 tokens, C = 16, 4 query heads of 4, KV heads of 4, 2 fast heads of 8 with 4 rotated
    // dims, chunks of 6 (4 chunks), a 2x2x2 video at rows 2..5 and 8..11
    int T = 21, C = 16, KVD = 4 * KV, H = 2, d = 8;
    ttt_ctx *x = &b.x;
    x->T = T; x->C = C; x->NH = 4; x->KV = KV; x->D = 4; x->H = H; x->d = d; x->r = 4; x->half = 2;
    x->conv = conv;
    x->c0 = (REAL)log(expm1(0.1));
    int32_t vid[8] = { 2, 3, 4, 5, 8, 9, 10, 11 };
    memcpy(b.vid, vid, sizeof vid);
    for(int v = 0; v < 8; v++) b.isvid[vid[v]] = 1;
    x->vid = b.vid; x->isvid = b.isvid;
    x->G[0] = 2; x->G[1] = 2; x->G[2] = 2;
    ttt_dims dm = { T, C, H, d, 6, 1, 1, 1, 0 };
    x->dm = dm;
    int32_t pos[63];
    for(int i = 0; i < 63; i++) pos[i] = (int32_t)sptt_rng_below(&r, 30);
    b.cosT = rnd((size_t)T * 2, 0, &r); b.sinT = rnd((size_t)T * 2, 0, &r);
    int sec[3] = { 1, 1, 0 };
    rope_table(b.cosT, b.sinT, pos, T, 2, sec, 100.0);
    x->cosT = b.cosT; x->sinT = b.sinT;
    // parameters in one buffer, moved off their initial values (the gate must be open)
    size_t np = 4 * C + 3 * C * 27 + 3 * H * C + 3 * H + 2 * (H * C + H) + d + 3 * H * d * d;
    b.pbuf = rnd(np, 0.3, &r);
    REAL *q = b.pbuf;
    REAL **views[] = { &b.p.q_scale, &b.p.q_off, &b.p.k_scale, &b.p.k_off, &b.p.conv_q, &b.p.conv_k, &b.p.conv_v,
                       &b.p.w_lr, &b.p.b_lr, &b.p.w_mom, &b.p.b_mom, &b.p.w_gate, &b.p.b_gate, &b.p.norm,
                       &b.p.w0, &b.p.w1, &b.p.w2 };
    size_t sizes[] = { C, C, C, C, C * 27, C * 27, C * 27, 3 * H * C, 3 * H, H * C, H, H * C, H, d,
                       H * d * d, H * d * d, H * d * d };
    for(size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++){ *views[i] = q; q += sizes[i]; }
    cr_assert_eq((size_t)(q - b.pbuf), np);
    for(int c = 0; c < C; c++){ b.p.q_scale[c] += 1; b.p.k_scale[c] += 1; }
    for(int c = 0; c < 3 * C; c++) b.p.conv_q[c * 27 + 13] += 1;   // near-Dirac taps
    for(int i = 0; i < d; i++) b.p.norm[i] += 1;
    arena a = { NULL, 0 };
    ttt_acts_layout(&a, &b.a, x);
    b.abuf = calloc(a.used, sizeof(REAL));
    a.base = b.abuf; a.used = 0;
    ttt_acts_layout(&a, &b.a, x);
    b.scratch = calloc(ttt_scratch(x), sizeof(REAL));
    b.xn = rnd((size_t)T * C, 1, &r); b.qh = rnd((size_t)T * C, 1, &r);
    b.kh = rnd((size_t)T * KVD, 1, &r); b.v = rnd((size_t)T * KVD, 1, &r); b.G = rnd((size_t)T * C, 1, &r);

    REAL *gbuf = calloc(np, sizeof(REAL));
    ttt_params g = b.p;
    REAL **gv[] = { &g.q_scale, &g.q_off, &g.k_scale, &g.k_off, &g.conv_q, &g.conv_k, &g.conv_v, &g.w_lr, &g.b_lr,
                    &g.w_mom, &g.b_mom, &g.w_gate, &g.b_gate, &g.norm, &g.w0, &g.w1, &g.w2 };
    for(size_t i = 0; i < sizeof gv / sizeof gv[0]; i++) *gv[i] = gbuf + (*views[i] - b.pbuf);
    REAL *dxn = calloc((size_t)T * C, sizeof(REAL)), *dqh = calloc((size_t)T * C, sizeof(REAL));
    REAL *dkh = calloc((size_t)T * KVD, sizeof(REAL)), *dv = calloc((size_t)T * KVD, sizeof(REAL));
    branch_loss(&b);
    ttt_backward(&g, dxn, dqh, dkh, dv, b.G, &b.a, &b.p, x, b.xn, b.qh, b.scratch);
    double e[5];
    e[0] = fd_worst(branch_loss, &b, b.xn, dxn, (size_t)T * C, floor);
    e[1] = fd_worst(branch_loss, &b, b.qh, dqh, (size_t)T * C, floor);
    e[2] = fd_worst(branch_loss, &b, b.kh, dkh, (size_t)T * KVD, floor);
    e[3] = fd_worst(branch_loss, &b, b.v, dv, (size_t)T * KVD, floor);
    e[4] = fd_worst(branch_loss, &b, b.pbuf, gbuf, np, floor);
    const char *an[5] = { "x", "q", "k", "v", "parameters" };
    double worst = 0;
    for(int i = 0; i < 5; i++){
        cr_expect_lt(e[i], TOL, "d%s: relative error %g", an[i], e[i]);
        worst = fmax(worst, e[i]);
    }
    fprintf(stderr, "# TTT branch alone, %d KV heads, conv %s: worst relative error %.3g over inputs and %zu parameters\n",
            KV, conv ? "on" : "off", worst, np);
    free(gbuf); free(dxn); free(dqh); free(dkh); free(dv);
    free(b.pbuf); free(b.abuf); free(b.scratch); free(b.xn); free(b.qh); free(b.kh); free(b.v); free(b.G);
    free(b.cosT); free(b.sinT);
}

Test(ttt, whole_branch_backward_matches_fd) { branch_case(2, 1, 1e-4); }
/* At this point some gradients of v are ~1e-4 and the double forward's own rounding, summed
** through the recurrence, leaves ~3e-9 of noise in the differences: an absolute floor of 1e-3. */
Test(ttt, whole_branch_as_many_kv_heads_as_heads_no_conv_matches_fd) { branch_case(4, 0, 1e-3); }
