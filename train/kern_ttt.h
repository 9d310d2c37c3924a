/*
** Kernel templates, part 3: the test-time-training branch (model.md sections 4 to 8).
**
** Inputs come from the layer's attention projections: the head-normalised q (T, C), k and v
** (T, KV*D). The branch expands k and v to query width, applies the learned scale and offset to q
** and k, convolves the video tokens (3x3x3 depthwise, replicate padding), applies SiLU, L2-normalises
** q and k per fast head, rotates their first r dims, and runs the chunked fast-weight recurrence:
**
**   for chunk c:  O_c = f_{W(c)}(Q_c)                           (apply)
**                 if c is not the last chunk:                   (update)
**                   dW  = closed-form -eta * grad of -sum <f_W(k_i), v_i>
**                   M   = dW + mbar_c * M                       (momentum)
**                   U   = NewtonSchulz5(M)                      (Muon)
**                   W(c+1) = RowNorm(Wm += U)  or  RowNorm(W(c) + U)   (pre- / post-norm)
**
** with f_W(z) = W1 (silu(W0 z) * (W2 z)). Row layout throughout: a chunk's keys are the rows of a
** (n, d) block with row stride C, so Y0 = K W0^T where model.md writes W0 K^T.
** The backward is the reverse sweep of model.md 8.7 with the second-order terms of 8.2.
*/
#ifndef SPTT_KERN_TTT_H
#define SPTT_KERN_TTT_H

#include <omp.h>

#include "kern_common.h"
#include "kern_layers.h"

#define TTT_L2_EPS  ((REAL)1e-5)   /* q/k L2 norm, outside the root */
#define TTT_ROW_EPS ((REAL)1e-5)   /* row-norm, outside the root */
#define TTT_NS_EPS  ((REAL)1e-7)   /* Newton-Schulz Frobenius normalisation */
#define TTT_OUT_EPS ((REAL)1e-5)   /* output RMSNorm (inside the root, like every RMSNorm) */

/* The reference's five (a, b, c) triples, in order. */
static const double ns_coef[5][3] = {
    { 4.0848, -6.8946, 2.9270 },
    { 3.9505, -6.3029, 2.6377 },
    { 3.7418, -5.5913, 2.3037 },
    { 2.8769, -3.1427, 1.2046 },
    { 2.8366, -3.0525, 1.2012 },
};

// ----------------------------------------------------------------------------
// repeat_kv: each KV head feeds NH/KV consecutive query heads.  in (T, KV*D), out (T, NH*D)

static void repeat_kv_forward(REAL *out, const REAL *in, int T, int NH, int KV, int D)
{
    int grp = NH / KV;
    for(int t = 0; t < T; t++)
        for(int h = 0; h < NH; h++)
            memcpy(out + ((size_t)t * NH + h) * D, in + ((size_t)t * KV + h / grp) * D, sizeof(REAL) * D);
}

static void repeat_kv_backward(REAL *din, const REAL *dout, int T, int NH, int KV, int D)
{
    int grp = NH / KV;
    for(int t = 0; t < T; t++)
        for(int h = 0; h < NH; h++){
            REAL *d = din + ((size_t)t * KV + h / grp) * D;
            const REAL *g = dout + ((size_t)t * NH + h) * D;
            for(int i = 0; i < D; i++) d[i] += g[i];
        }
}

// ----------------------------------------------------------------------------
// Per-channel affine:  out = x * s + o.   x (T, C), s and o (C)

static void affine_forward(REAL *out, const REAL *x, const REAL *s, const REAL *o, int T, int C)
{
    #pragma omp parallel for if((long)T * C > OMP_MIN)
    for(int t = 0; t < T; t++)
        for(int c = 0; c < C; c++) out[(size_t)t * C + c] = x[(size_t)t * C + c] * s[c] + o[c];
}

static void affine_backward(REAL *dx, REAL *ds, REAL *dO, const REAL *dout, const REAL *x, const REAL *s, int T, int C)
{
    for(int t = 0; t < T; t++){
        const REAL *g = dout + (size_t)t * C, *xr = x + (size_t)t * C;
        REAL *d = dx + (size_t)t * C;
        for(int c = 0; c < C; c++){
            d[c] += g[c] * s[c];
            ds[c] += g[c] * xr[c];
            dO[c] += g[c];
        }
    }
}

// ----------------------------------------------------------------------------
// Depthwise 3x3x3 convolution over the video tokens, replicate padding, no bias.
// x and out are (T, C); vid (G0*G1*G2) gives the sequence row of each video token in (t, h, w)
// order; w is (C, 27) with tap (dt+1)*9 + (dh+1)*3 + (dw+1).  Text rows pass through unchanged.
// wt is a (27, C) scratch holding w transposed so the channel loop runs over contiguous memory.

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static void conv3d_forward(REAL *out, const REAL *x, const REAL *w, const int32_t *vid, int G0, int G1, int G2,
                           int T, int C, REAL *wt)
{
    memcpy(out, x, sizeof(REAL) * (size_t)T * C);
    for(int c = 0; c < C; c++) for(int k = 0; k < 27; k++) wt[(size_t)k * C + c] = w[(size_t)c * 27 + k];
    long Nv = (long)G0 * G1 * G2;
    #pragma omp parallel for if(Nv * C * 27 > OMP_MIN)
    for(long v = 0; v < Nv; v++){
        int t = (int)(v / ((long)G1 * G2)), gh = (int)((v / G2) % G1), gw = (int)(v % G2);
        REAL *o = out + (size_t)vid[v] * C;
        for(int c = 0; c < C; c++) o[c] = 0;
        for(int dt = -1; dt <= 1; dt++)
            for(int dh = -1; dh <= 1; dh++)
                for(int dw = -1; dw <= 1; dw++){
                    long src = ((long)clampi(t + dt, 0, G0 - 1) * G1 + clampi(gh + dh, 0, G1 - 1)) * G2 +
                               clampi(gw + dw, 0, G2 - 1);
                    const REAL *xi = x + (size_t)vid[src] * C;
                    const REAL *wk = wt + (size_t)((dt + 1) * 9 + (dh + 1) * 3 + (dw + 1)) * C;
                    #pragma omp simd
                    for(int c = 0; c < C; c++) o[c] += wk[c] * xi[c];
                }
    }
}

// isvid (T) marks video rows. dwt is a (27, C) scratch.
static void conv3d_backward(REAL *dx, REAL *dw, const REAL *dout, const REAL *x, const uint8_t *isvid,
                            const int32_t *vid, int G0, int G1, int G2, int T, int C, const REAL *wt, REAL *dwt)
{
    for(int t = 0; t < T; t++){
        if( isvid[t] ) continue;
        for(int c = 0; c < C; c++) dx[(size_t)t * C + c] += dout[(size_t)t * C + c];
    }
    memset(dwt, 0, sizeof(REAL) * 27 * (size_t)C);
    long Nv = (long)G0 * G1 * G2;
    // one channel block per thread (a multiple of 16 wide) keeps the inner loop long
    int nt = omp_get_max_threads();
    int CB = ((C + nt - 1) / nt + 15) & ~15, nb = (C + CB - 1) / CB;
    // channel blocks are independent (depthwise), so each thread owns its channels' input and
    // weight gradients and sums in a fixed order: deterministic for any thread count
    #pragma omp parallel for if(Nv * C * 27 > OMP_MIN)
    for(int b = 0; b < nb; b++){
        int c0 = b * CB, c1 = c0 + CB < C ? c0 + CB : C;
        for(long v = 0; v < Nv; v++){
            int t = (int)(v / ((long)G1 * G2)), gh = (int)((v / G2) % G1), gw = (int)(v % G2);
            const REAL *g = dout + (size_t)vid[v] * C;
            for(int dt = -1; dt <= 1; dt++)
                for(int dh = -1; dh <= 1; dh++)
                    for(int dwi = -1; dwi <= 1; dwi++){
                        long src = ((long)clampi(t + dt, 0, G0 - 1) * G1 + clampi(gh + dh, 0, G1 - 1)) * G2 +
                                   clampi(gw + dwi, 0, G2 - 1);
                        size_t row = (size_t)vid[src] * C;
                        size_t tap = (size_t)((dt + 1) * 9 + (dh + 1) * 3 + (dwi + 1)) * C;
                        #pragma omp simd
                        for(int c = c0; c < c1; c++){
                            dx[row + c] += wt[tap + c] * g[c];
                            dwt[tap + c] += x[row + c] * g[c];
                        }
                    }
        }
    }
    for(int c = 0; c < C; c++) for(int k = 0; k < 27; k++) dw[(size_t)c * 27 + k] += dwt[(size_t)k * C + c];
}

// ----------------------------------------------------------------------------
// L2 normalisation of rows of width d:  y = x / (|x| + eps).   nrm (R) keeps |x|

static void l2norm_forward(REAL *y, REAL *nrm, const REAL *x, long R, int d)
{
    #pragma omp parallel for if(R * d > OMP_MIN)
    for(long r = 0; r < R; r++){
        const REAL *xr = x + r * d;
        REAL ss = 0;
        for(int i = 0; i < d; i++) ss += xr[i] * xr[i];
        REAL n = sqrt(ss), a = (REAL)1 / (n + TTT_L2_EPS);
        nrm[r] = n;
        for(int i = 0; i < d; i++) y[r * d + i] = xr[i] * a;
    }
}

// overwrites dx:  dx = dy/(n+eps) - (x.dy) x / (n (n+eps)^2)
static void l2norm_backward(REAL *dx, const REAL *dy, const REAL *x, const REAL *nrm, long R, int d)
{
    #pragma omp parallel for if(R * d > OMP_MIN)
    for(long r = 0; r < R; r++){
        const REAL *xr = x + r * d, *g = dy + r * d;
        REAL n = nrm[r], a = (REAL)1 / (n + TTT_L2_EPS), dot = 0;
        for(int i = 0; i < d; i++) dot += xr[i] * g[i];
        REAL b = n > 0 ? dot / (n * (n + TTT_L2_EPS) * (n + TTT_L2_EPS)) : 0;
        for(int i = 0; i < d; i++) dx[r * d + i] = g[i] * a - b * xr[i];
    }
}

// ----------------------------------------------------------------------------
// Row-norm:  y_r = s_r u_r / (|u_r| + eps), rows of width n.  s are the slow weights' row norms.

static void rownorm_forward(REAL *y, const REAL *u, const REAL *s, int rows, int n)
{
    for(int r = 0; r < rows; r++){
        const REAL *ur = u + (size_t)r * n;
        REAL ss = 0;
        for(int i = 0; i < n; i++) ss += ur[i] * ur[i];
        REAL a = s[r] / (sqrt(ss) + TTT_ROW_EPS);
        for(int i = 0; i < n; i++) y[(size_t)r * n + i] = ur[i] * a;
    }
}

// overwrites du; accumulates ds
static void rownorm_backward(REAL *du, REAL *ds, const REAL *dy, const REAL *u, const REAL *s, int rows, int n)
{
    for(int r = 0; r < rows; r++){
        const REAL *ur = u + (size_t)r * n, *g = dy + (size_t)r * n;
        REAL ss = 0, dot = 0;
        for(int i = 0; i < n; i++){ ss += ur[i] * ur[i]; dot += ur[i] * g[i]; }
        REAL rn = sqrt(ss), e = rn + TTT_ROW_EPS;
        REAL a = s[r] / e, b = rn > 0 ? s[r] * dot / (rn * e * e) : 0;
        for(int i = 0; i < n; i++) du[(size_t)r * n + i] = a * g[i] - b * ur[i];
        ds[r] += dot / e;
    }
}

// row norms of a (rows, n) matrix
static void row_norms(REAL *out, const REAL *w, int rows, int n)
{
    for(int r = 0; r < rows; r++){
        REAL ss = 0;
        for(int i = 0; i < n; i++) ss += w[(size_t)r * n + i] * w[(size_t)r * n + i];
        out[r] = sqrt(ss);
    }
}

// ----------------------------------------------------------------------------
// Newton-Schulz, 5 steps on a square (d, d) matrix:
//   X0 = G / (|G|_F + eps);  A = X X^T;  B = b A + c A^2;  X <- a X + B X
// Xs, As, Bs (5, d, d) keep each step's X, A and B for the backward; *nu the Frobenius norm.

static void ns_forward(REAL *U, REAL *Xs, REAL *As, REAL *Bs, REAL *nu, const REAL *G, int d)
{
    size_t dd = (size_t)d * d;
    REAL ss = 0;
    for(size_t i = 0; i < dd; i++) ss += G[i] * G[i];
    *nu = sqrt(ss);
    REAL inv = (REAL)1 / (*nu + TTT_NS_EPS);
    for(size_t i = 0; i < dd; i++) Xs[i] = G[i] * inv;
    for(int k = 0; k < 5; k++){
        const REAL *X = Xs + k * dd;
        REAL *A = As + k * dd, *B = Bs + k * dd;
        REAL *Xn = k < 4 ? Xs + (k + 1) * dd : U;
        REAL a = (REAL)ns_coef[k][0], b = (REAL)ns_coef[k][1], c = (REAL)ns_coef[k][2];
        gemm(0, 1, d, d, d, 1, X, d, X, d, 0, A, d);
        gemm(0, 0, d, d, d, c, A, d, A, d, 0, B, d);
        for(size_t i = 0; i < dd; i++) B[i] += b * A[i];
        for(size_t i = 0; i < dd; i++) Xn[i] = a * X[i];
        gemm(0, 0, d, d, d, 1, B, d, X, d, 1, Xn, d);
    }
}

// overwrites dG.  Per step, reversed:  gB = g X^T;  gA = b gB + c (gB A + A gB);
// gX = a g + B g + (gA + gA^T) X.  tmp holds 3 d*d.
static void ns_backward(REAL *dG, const REAL *dU, const REAL *Xs, const REAL *As, const REAL *Bs, REAL nu,
                        const REAL *G, int d, REAL *tmp)
{
    size_t dd = (size_t)d * d;
    REAL *g = tmp, *gB = tmp + dd, *gA = tmp + 2 * dd;
    memcpy(g, dU, sizeof(REAL) * dd);
    for(int k = 4; k >= 0; k--){
        const REAL *X = Xs + k * dd, *A = As + k * dd, *B = Bs + k * dd;
        REAL a = (REAL)ns_coef[k][0], b = (REAL)ns_coef[k][1], c = (REAL)ns_coef[k][2];
        gemm(0, 1, d, d, d, 1, g, d, X, d, 0, gB, d);
        gemm(0, 0, d, d, d, c, gB, d, A, d, 0, gA, d);
        gemm(0, 0, d, d, d, c, A, d, gB, d, 1, gA, d);
        for(size_t i = 0; i < dd; i++) gA[i] += b * gB[i];
        // gB is free again: symmetrise gA into it
        for(int i = 0; i < d; i++) for(int j = 0; j < d; j++) gB[(size_t)i * d + j] = gA[(size_t)i * d + j] + gA[(size_t)j * d + i];
        // gX = a g + B g + gB X, built in gA
        for(size_t i = 0; i < dd; i++) gA[i] = a * g[i];
        gemm(0, 0, d, d, d, 1, B, d, g, d, 1, gA, d);
        gemm(0, 0, d, d, d, 1, gB, d, X, d, 1, gA, d);
        memcpy(g, gA, sizeof(REAL) * dd);
    }
    REAL e = nu + TTT_NS_EPS, dot = 0;
    for(size_t i = 0; i < dd; i++) dot += g[i] * G[i];
    REAL b = nu > 0 ? dot / (nu * e * e) : 0;
    for(size_t i = 0; i < dd; i++) dG[i] = g[i] / e - b * G[i];
}

// ----------------------------------------------------------------------------
// The chunked fast-weight recurrence.

typedef struct ttt_dims {
    int T, C, H, d, chunk;      /* tokens, width, fast heads, fast width, chunk */
    int muon, momentum, prenorm;
} ttt_dims;

typedef struct ttt_state {
    int n_chunk, n_upd;         /* chunks, and updates (every chunk but the last) */
    REAL *W;    /* (n_chunk, H, 3, d, d) weights applied in chunk c; c = 0 holds the slow weights */
    REAL *R;    /* (n_chunk, H, 3, d, d) the un-normalised matrix row-normed into W[c], c >= 1 */
    REAL *M;    /* (n_upd, H, 3, d, d) momentum after chunk c */
    REAL *nsX, *nsA, *nsB;  /* (n_upd, H, 3, 5, d, d) Newton-Schulz steps */
    REAL *nu;   /* (n_upd, H, 3) */
    REAL *mbar; /* (n_chunk, H) mean momentum gate of each chunk */
    REAL *n0;   /* (H, 3, d) row norms of the slow weights */
    REAL *U0, *U2;           /* (T, C) apply: W0 q and W2 q */
    REAL *Y0, *Y2, *DH;      /* (T, C) update: W0 k, W2 k, W1^T v on updating chunks */
} ttt_state;

static int ttt_n_chunk(int T, int chunk) { return (T + chunk - 1) / chunk; }

static void ttt_state_layout(arena *a, ttt_state *st, const ttt_dims *dm)
{
    size_t dd = (size_t)dm->d * dm->d, TC = (size_t)dm->T * dm->C;
    st->n_chunk = ttt_n_chunk(dm->T, dm->chunk);
    st->n_upd = st->n_chunk > 0 ? st->n_chunk - 1 : 0;
    size_t nc = (size_t)st->n_chunk, nu = (size_t)st->n_upd, H = (size_t)dm->H;
    st->W = arena_take(a, nc * H * 3 * dd);
    st->R = arena_take(a, nc * H * 3 * dd);
    st->M = arena_take(a, nu * H * 3 * dd);
    size_t nns = dm->muon ? nu * H * 3 * 5 * dd : 0;
    st->nsX = arena_take(a, nns);
    st->nsA = arena_take(a, nns);
    st->nsB = arena_take(a, nns);
    st->nu = arena_take(a, nu * H * 3);
    st->mbar = arena_take(a, nc * H);
    st->n0 = arena_take(a, H * 3 * (size_t)dm->d);
    st->U0 = arena_take(a, TC);
    st->U2 = arena_take(a, TC);
    st->Y0 = arena_take(a, TC);
    st->Y2 = arena_take(a, TC);
    st->DH = arena_take(a, TC);
}

/* scratch sizes (elements) */
static size_t ttt_chunks_scratch(const ttt_dims *dm)
{
    size_t dd = (size_t)dm->d * dm->d, nd = (size_t)dm->chunk * dm->d;
    return 6 * nd + 22 * dd + 3 * (size_t)dm->d + 64;
}

#define TMAT(base, c, h, j) ((base) + ((((size_t)(c) * dm->H + (h)) * 3 + (j)) * dd))

/*
** Q, K, V are (T, C) with fast head h in columns [h*d, h*d+d); eta (T, 3H) with column 3h+j for
** matrix j; mu (T, H) or NULL without momentum; w0, w1, w2 (H, d, d) slow weights (rows are
** output units). Writes O (T, C).
*/
static void ttt_chunks_forward(ttt_state *st, REAL *O, const REAL *Q, const REAL *K, const REAL *V,
                               const REAL *eta, const REAL *mu, const REAL *w0, const REAL *w1, const REAL *w2,
                               const ttt_dims *dm, REAL *scratch)
{
    int T = dm->T, C = dm->C, H = dm->H, d = dm->d, Cs = dm->chunk;
    size_t dd = (size_t)d * d;
    REAL *Hh = scratch, *P0 = Hh + (size_t)Cs * d, *P2 = P0 + (size_t)Cs * d, *Z1 = P2 + (size_t)Cs * d;
    REAL *DW = Z1 + (size_t)Cs * d;  /* 3 dd */
    REAL *Ut = DW + 3 * dd;          /* dd */
    for(int h = 0; h < H; h++){
        const REAL *slow[3] = { w0 + h * dd, w1 + h * dd, w2 + h * dd };
        for(int j = 0; j < 3; j++){
            row_norms(st->n0 + ((size_t)h * 3 + j) * d, slow[j], d, d);
            memcpy(TMAT(st->W, 0, h, j), slow[j], sizeof(REAL) * dd);
        }
        for(int c = 0; c < st->n_chunk; c++){
            int s = c * Cs, n = T - s < Cs ? T - s : Cs;
            const REAL *W0 = TMAT(st->W, c, h, 0), *W1 = TMAT(st->W, c, h, 1), *W2 = TMAT(st->W, c, h, 2);
            size_t off = (size_t)s * C + (size_t)h * d;
            // apply: O = (silu(Q W0^T) * (Q W2^T)) W1^T
            REAL *u0 = st->U0 + off, *u2 = st->U2 + off;
            gemm(0, 1, n, d, d, 1, Q + off, C, W0, d, 0, u0, C);
            gemm(0, 1, n, d, d, 1, Q + off, C, W2, d, 0, u2, C);
            for(int i = 0; i < n; i++){
                #pragma omp simd
                for(int k = 0; k < d; k++) Hh[(size_t)i * d + k] = silur(u0[(size_t)i * C + k]) * u2[(size_t)i * C + k];
            }
            gemm(0, 1, n, d, d, 1, Hh, d, W1, d, 0, O + off, C);
            if( c >= st->n_upd ) continue;   // the last chunk only applies

            // update: closed-form inner gradient (model.md 8.1, row layout)
            const REAL *k = K + off, *v = V + off;
            REAL *y0 = st->Y0 + off, *y2 = st->Y2 + off, *dh = st->DH + off;
            gemm(0, 1, n, d, d, 1, k, C, W0, d, 0, y0, C);
            gemm(0, 1, n, d, d, 1, k, C, W2, d, 0, y2, C);
            gemm(0, 0, n, d, d, 1, v, C, W1, d, 0, dh, C);
            for(int i = 0; i < n; i++){
                const REAL *e = eta + (size_t)(s + i) * 3 * H + 3 * h;
                #pragma omp simd
                for(int q = 0; q < d; q++){
                    REAL a = y0[(size_t)i * C + q], b = y2[(size_t)i * C + q], g = dh[(size_t)i * C + q];
                    REAL sa = silur(a);
                    P0[(size_t)i * d + q] = e[0] * g * b * silu_d1(a);
                    P2[(size_t)i * d + q] = e[2] * g * sa;
                    Z1[(size_t)i * d + q] = e[1] * b * sa;
                }
            }
            gemm(1, 0, d, d, n, 1, P0, d, k, C, 0, DW, d);            // dW0 = P0^T K
            gemm(1, 0, d, d, n, 1, v, C, Z1, d, 0, DW + dd, d);       // dW1 = V^T Z1
            gemm(1, 0, d, d, n, 1, P2, d, k, C, 0, DW + 2 * dd, d);   // dW2 = P2^T K
            REAL mb = 0;
            if( dm->momentum ){
                for(int i = 0; i < n; i++) mb += mu[(size_t)(s + i) * H + h];
                mb /= n;
            }
            st->mbar[(size_t)c * H + h] = mb;
            for(int j = 0; j < 3; j++){
                REAL *M = TMAT(st->M, c, h, j);
                const REAL *dw = DW + j * dd;
                if( dm->momentum && c > 0 ){
                    const REAL *Mp = TMAT(st->M, c - 1, h, j);
                    for(size_t i = 0; i < dd; i++) M[i] = dw[i] + mb * Mp[i];
                }else{
                    memcpy(M, dw, sizeof(REAL) * dd);
                }
                const REAL *U = M;
                if( dm->muon ){
                    size_t ns = ((((size_t)c * H + h) * 3 + j) * 5) * dd;
                    ns_forward(Ut, st->nsX + ns, st->nsA + ns, st->nsB + ns,
                               st->nu + ((size_t)c * H + h) * 3 + j, M, d);
                    U = Ut;
                }
                const REAL *prev = dm->prenorm ? (c == 0 ? slow[j] : TMAT(st->R, c, h, j)) : TMAT(st->W, c, h, j);
                REAL *Rn = TMAT(st->R, c + 1, h, j);
                for(size_t i = 0; i < dd; i++) Rn[i] = prev[i] + U[i];
                rownorm_forward(TMAT(st->W, c + 1, h, j), Rn, st->n0 + ((size_t)h * 3 + j) * d, d, d);
            }
        }
    }
}

/*
** Backward of the inner gradient (model.md 8.2) for one chunk and head: Gm holds the gradients of
** dW0, dW1, dW2 (3, d, d). Accumulates into dk, dv (row stride C), deta (row stride 3H, columns of
** this head) and gW (3, d, d). tmp holds 6 n*d.
*/
static void ttt_inner_backward(REAL *dk, REAL *dv, REAL *deta, REAL *gW, const REAL *Gm,
                               const REAL *k, const REAL *v, const REAL *y0, const REAL *y2, const REAL *dh,
                               const REAL *eta, const REAL *W0, const REAL *W1, const REAL *W2,
                               int n, int d, int C, int ldeta, REAL *tmp)
{
    size_t dd = (size_t)d * d, nd = (size_t)n * d;
    const REAL *G0 = Gm, *G1 = Gm + dd, *G2 = Gm + 2 * dd;
    REAL *P0 = tmp, *P2 = tmp + nd, *Z1 = tmp + 2 * nd, *gP0 = tmp + 3 * nd, *gP2 = tmp + 4 * nd, *gZ1 = tmp + 5 * nd;
    for(int i = 0; i < n; i++){
        const REAL *e = eta + (size_t)i * ldeta;
        #pragma omp simd
        for(int q = 0; q < d; q++){
            REAL a = y0[(size_t)i * C + q], b = y2[(size_t)i * C + q], g = dh[(size_t)i * C + q];
            REAL sa = silur(a);
            P0[(size_t)i * d + q] = e[0] * g * b * silu_d1(a);
            P2[(size_t)i * d + q] = e[2] * g * sa;
            Z1[(size_t)i * d + q] = e[1] * b * sa;
        }
    }
    gemm(0, 1, n, d, d, 1, k, C, G0, d, 0, gP0, d);     // gP0 = K G0^T
    gemm(0, 1, n, d, d, 1, k, C, G2, d, 0, gP2, d);     // gP2 = K G2^T
    gemm(0, 0, n, d, d, 1, v, C, G1, d, 0, gZ1, d);     // gZ1 = V G1
    gemm(0, 0, n, d, d, 1, P0, d, G0, d, 1, dk, C);     // dK += P0 G0 + P2 G2
    gemm(0, 0, n, d, d, 1, P2, d, G2, d, 1, dk, C);
    gemm(0, 1, n, d, d, 1, Z1, d, G1, d, 1, dv, C);     // dV += Z1 G1^T
    // element-wise part; P0, P2, Z1 are reused for gY0, gY2, gDH
    for(int i = 0; i < n; i++){
        const REAL *e = eta + (size_t)i * ldeta;
        REAL *de = deta + (size_t)i * ldeta;
        REAL s0 = 0, s1 = 0, s2 = 0;
        for(int q = 0; q < d; q++){
            size_t ix = (size_t)i * d + q, iy = (size_t)i * C + q;
            REAL a = y0[iy], b = y2[iy], g = dh[iy];
            REAL sa = silur(a), m1 = silu_d1(a), m2 = silu_d2(a);
            REAL p0 = gP0[ix], p2 = gP2[ix], z1 = gZ1[ix];
            P2[ix] = p0 * e[0] * g * m1 + z1 * e[1] * sa;                         // gY2
            Z1[ix] = p0 * e[0] * b * m1 + p2 * e[2] * sa;                         // gDH
            P0[ix] = (p2 * e[2] * g + z1 * e[1] * b) * m1 + p0 * e[0] * g * b * m2; // gY0
            s0 += p0 * g * b * m1;
            s1 += z1 * b * sa;
            s2 += p2 * g * sa;
        }
        de[0] += s0;
        de[1] += s1;
        de[2] += s2;
    }
    const REAL *gY0 = P0, *gY2 = P2, *gDH = Z1;
    gemm(0, 0, n, d, d, 1, gY0, d, W0, d, 1, dk, C);    // dK += gY0 W0 + gY2 W2
    gemm(0, 0, n, d, d, 1, gY2, d, W2, d, 1, dk, C);
    gemm(0, 1, n, d, d, 1, gDH, d, W1, d, 1, dv, C);    // dV += gDH W1^T
    gemm(1, 0, d, d, n, 1, gY0, d, k, C, 1, gW, d);     // gW0 += gY0^T K
    gemm(1, 0, d, d, n, 1, v, C, gDH, d, 1, gW + dd, d);// gW1 += V^T gDH
    gemm(1, 0, d, d, n, 1, gY2, d, k, C, 1, gW + 2 * dd, d); // gW2 += gY2^T K
}

/*
** Reverse sweep (model.md 8.7). Accumulates into dQ, dK, dV (T, C), deta (T, 3H), dmu (T, H; may be
** NULL without momentum) and dw0, dw1, dw2 (H, d, d).
*/
static void ttt_chunks_backward(REAL *dQ, REAL *dK, REAL *dV, REAL *deta, REAL *dmu,
                                REAL *dw0, REAL *dw1, REAL *dw2, const REAL *dO, const ttt_state *st,
                                const REAL *Q, const REAL *K, const REAL *V, const REAL *eta,
                                const REAL *w0, const REAL *w1, const REAL *w2,
                                const ttt_dims *dm, REAL *scratch)
{
    int T = dm->T, C = dm->C, H = dm->H, d = dm->d, Cs = dm->chunk;
    size_t dd = (size_t)d * d, nd = (size_t)Cs * d;
    REAL *tmp6 = scratch;                  /* 6 nd */
    REAL *gW = tmp6 + 6 * nd;              /* 3 dd: gradient of W(c) */
    REAL *gU = gW + 3 * dd;                /* 3 dd: gradient of U(c), found at step c+1 */
    REAL *gMn = gU + 3 * dd;               /* 3 dd: gradient of M(c+1) */
    REAL *gWm = gMn + 3 * dd;              /* 3 dd: pre-norm accumulator gradient */
    REAL *gM = gWm + 3 * dd;               /* 3 dd */
    REAL *du = gM + 3 * dd;                /* dd */
    REAL *nst = du + dd;                   /* 3 dd */
    REAL *gn0 = nst + 3 * dd;              /* 3 d */
    for(int h = 0; h < H; h++){
        REAL *dslow[3] = { dw0 + h * dd, dw1 + h * dd, dw2 + h * dd };
        const REAL *slow[3] = { w0 + h * dd, w1 + h * dd, w2 + h * dd };
        memset(gU, 0, sizeof(REAL) * 3 * dd);
        memset(gMn, 0, sizeof(REAL) * 3 * dd);
        memset(gWm, 0, sizeof(REAL) * 3 * dd);
        memset(gn0, 0, sizeof(REAL) * 3 * d);
        for(int c = st->n_chunk - 1; c >= 0; c--){
            int s = c * Cs, n = T - s < Cs ? T - s : Cs;
            size_t off = (size_t)s * C + (size_t)h * d;
            const REAL *W0 = TMAT(st->W, c, h, 0), *W1 = TMAT(st->W, c, h, 1), *W2 = TMAT(st->W, c, h, 2);
            memset(gW, 0, sizeof(REAL) * 3 * dd);

            // 1. apply step (model.md 8.3)
            const REAL *u0 = st->U0 + off, *u2 = st->U2 + off, *go = dO + off, *q = Q + off;
            REAL *Hh = tmp6, *gH = tmp6 + nd, *gu0 = tmp6 + 2 * nd, *gu2 = tmp6 + 3 * nd;
            for(int i = 0; i < n; i++){
                #pragma omp simd
                for(int k = 0; k < d; k++) Hh[(size_t)i * d + k] = silur(u0[(size_t)i * C + k]) * u2[(size_t)i * C + k];
            }
            gemm(1, 0, d, d, n, 1, go, C, Hh, d, 1, gW + dd, d);       // gW1 += dO^T Hh
            gemm(0, 0, n, d, d, 1, go, C, W1, d, 0, gH, d);            // gH = dO W1
            for(int i = 0; i < n; i++){
                #pragma omp simd
                for(int k = 0; k < d; k++){
                    REAL a = u0[(size_t)i * C + k], b = u2[(size_t)i * C + k], g = gH[(size_t)i * d + k];
                    gu0[(size_t)i * d + k] = g * b * silu_d1(a);
                    gu2[(size_t)i * d + k] = g * silur(a);
                }
            }
            gemm(1, 0, d, d, n, 1, gu0, d, q, C, 1, gW, d);            // gW0 += gu0^T Q
            gemm(1, 0, d, d, n, 1, gu2, d, q, C, 1, gW + 2 * dd, d);   // gW2 += gu2^T Q
            gemm(0, 0, n, d, d, 1, gu0, d, W0, d, 1, dQ + off, C);     // dQ += gu0 W0 + gu2 W2
            gemm(0, 0, n, d, d, 1, gu2, d, W2, d, 1, dQ + off, C);

            // 2. the update this chunk made: U(c) -> M(c) -> dW(c)
            if( c < st->n_upd ){
                for(int j = 0; j < 3; j++){
                    REAL *g = gM + j * dd;
                    if( dm->muon ){
                        size_t ns = ((((size_t)c * H + h) * 3 + j) * 5) * dd;
                        ns_backward(g, gU + j * dd, st->nsX + ns, st->nsA + ns, st->nsB + ns,
                                    st->nu[((size_t)c * H + h) * 3 + j], TMAT(st->M, c, h, j), d, nst);
                    }else{
                        memcpy(g, gU + j * dd, sizeof(REAL) * dd);
                    }
                    if( dm->momentum && c + 1 < st->n_upd ){
                        REAL mb = st->mbar[(size_t)(c + 1) * H + h];
                        for(size_t i = 0; i < dd; i++) g[i] += mb * gMn[j * dd + i];
                    }
                }
                if( dm->momentum && c > 0 && dmu ){
                    REAL gmb = 0;
                    for(int j = 0; j < 3; j++){
                        const REAL *Mp = TMAT(st->M, c - 1, h, j);
                        for(size_t i = 0; i < dd; i++) gmb += gM[j * dd + i] * Mp[i];
                    }
                    for(int i = 0; i < n; i++) dmu[(size_t)(s + i) * H + h] += gmb / n;
                }
                ttt_inner_backward(dK + off, dV + off, deta + (size_t)s * 3 * H + 3 * h, gW, gM,
                                   K + off, V + off, st->Y0 + off, st->Y2 + off, st->DH + off,
                                   eta + (size_t)s * 3 * H + 3 * h, W0, W1, W2, n, d, C, 3 * H, tmp6);
                if( !dm->prenorm ){
                    for(size_t i = 0; i < 3 * dd; i++) gW[i] += gU[i];   // W(c+1) = RowNorm(W(c) + U(c))
                }
                memcpy(gMn, gM, sizeof(REAL) * 3 * dd);
            }

            // 3. gW is complete: pass it back through the row-norm that produced W(c)
            if( c >= 1 ){
                for(int j = 0; j < 3; j++){
                    rownorm_backward(du, gn0 + (size_t)j * d, gW + j * dd, TMAT(st->R, c, h, j),
                                     st->n0 + ((size_t)h * 3 + j) * d, d, d);
                    if( dm->prenorm ){
                        // Wm is a running sum: each U feeds every later state
                        for(size_t i = 0; i < dd; i++) gWm[j * dd + i] += du[i];
                        memcpy(gU + j * dd, gWm + j * dd, sizeof(REAL) * dd);
                    }else{
                        memcpy(gU + j * dd, du, sizeof(REAL) * dd);
                    }
                }
            }else{
                for(int j = 0; j < 3; j++){
                    REAL *o = dslow[j];
                    for(size_t i = 0; i < dd; i++) o[i] += gW[j * dd + i] + (dm->prenorm ? gWm[j * dd + i] : 0);
                    // n0 = |W(0)_r| is not detached
                    for(int r = 0; r < d; r++){
                        REAL nr = st->n0[((size_t)h * 3 + j) * d + r];
                        if( nr <= 0 ) continue;
                        REAL f = gn0[(size_t)j * d + r] / nr;
                        for(int i = 0; i < d; i++) o[(size_t)r * d + i] += f * slow[j][(size_t)r * d + i];
                    }
                }
            }
        }
    }
}

#undef TMAT

// ----------------------------------------------------------------------------
// The whole TTT branch of one layer.

typedef struct ttt_params {
    REAL *q_scale, *q_off, *k_scale, *k_off;   /* (C) */
    REAL *conv_q, *conv_k, *conv_v;            /* (C, 27), NULL without conv */
    REAL *w_lr, *b_lr;                         /* (3H, C), (3H) */
    REAL *w_mom, *b_mom;                       /* (H, C), (H), NULL without momentum */
    REAL *w_gate, *b_gate;                     /* (H, C), (H) */
    REAL *norm;                                /* (d) */
    REAL *w0, *w1, *w2;                        /* (H, d, d) */
} ttt_params;

typedef struct ttt_acts {
    REAL *kt, *vt;           /* (T, C) k and v expanded to query width */
    REAL *qa, *ka;           /* (T, C) after scale and offset */
    REAL *qc, *kc, *vc;      /* (T, C) after the conv (aliases without conv) */
    REAL *qnrm, *knrm;       /* (T, H) L2 norms of silu(q), silu(k) */
    REAL *Qf, *Kf, *Vf;      /* (T, C) fast-weight inputs */
    REAL *zl, *eta;          /* (T, 3H) */
    REAL *zm, *mu;           /* (T, H) */
    REAL *zs, *gate;         /* (T, H) */
    REAL *O, *ornd;          /* (T, C) fast outputs, (T, H) their RMSNorm rstd */
    REAL *y;                 /* (T, C) the branch output */
    ttt_state st;
} ttt_acts;

/* Geometry of one forward pass through the branch. */
typedef struct ttt_ctx {
    int T, C, NH, KV, D, H, d, r, half;
    int conv;
    REAL c0;                 /* inv_softplus(base_lr) */
    const int32_t *vid;      /* (Nv) */
    const uint8_t *isvid;    /* (T) */
    int G[3];
    const REAL *cosT, *sinT; /* (T, half) */
    ttt_dims dm;
} ttt_ctx;

static void ttt_acts_layout(arena *a, ttt_acts *t, const ttt_ctx *x)
{
    size_t TC = (size_t)x->T * x->C, TH = (size_t)x->T * x->H;
    t->kt = arena_take(a, TC);
    t->vt = arena_take(a, TC);
    t->qa = arena_take(a, TC);
    t->ka = arena_take(a, TC);
    if( x->conv ){
        t->qc = arena_take(a, TC);
        t->kc = arena_take(a, TC);
        t->vc = arena_take(a, TC);
    }else{
        t->qc = t->qa;
        t->kc = t->ka;
        t->vc = t->vt;
    }
    t->qnrm = arena_take(a, TH);
    t->knrm = arena_take(a, TH);
    t->Qf = arena_take(a, TC);
    t->Kf = arena_take(a, TC);
    t->Vf = arena_take(a, TC);
    t->zl = arena_take(a, 3 * TH);
    t->eta = arena_take(a, 3 * TH);
    t->zm = arena_take(a, TH);
    t->mu = arena_take(a, TH);
    t->zs = arena_take(a, TH);
    t->gate = arena_take(a, TH);
    t->O = arena_take(a, TC);
    t->ornd = arena_take(a, TH);
    t->y = arena_take(a, TC);
    ttt_state_layout(a, &t->st, &x->dm);
}

/* Scratch elements the branch needs, forward or backward. */
static size_t ttt_scratch(const ttt_ctx *x)
{
    size_t TC = (size_t)x->T * x->C, TH = (size_t)x->T * x->H;
    return 7 * TC + 6 * TH + 6 * 27 * (size_t)x->C + ttt_chunks_scratch(&x->dm) + 64;
}

// silu then per-head L2 norm: y = silu(x) / (|silu(x)| + eps)
static void silu_l2_forward(REAL *y, REAL *nrm, const REAL *x, long R, int d)
{
    long N = R * d;
    #pragma omp parallel for simd if(N > OMP_MIN)
    for(long i = 0; i < N; i++) y[i] = silur(x[i]);
    l2norm_forward(y, nrm, y, R, d);
}

// overwrites dx; tmp (R*d)
static void silu_l2_backward(REAL *dx, const REAL *dy, const REAL *x, const REAL *nrm, long R, int d, REAL *tmp)
{
    long N = R * d;
    #pragma omp parallel for simd if(N > OMP_MIN)
    for(long i = 0; i < N; i++) tmp[i] = silur(x[i]);
    l2norm_backward(dx, dy, tmp, nrm, R, d);
    #pragma omp parallel for simd if(N > OMP_MIN)
    for(long i = 0; i < N; i++) dx[i] *= silu_d1(x[i]);
}

/* xn (T, C) the block's normed input; qh (T, C), kh and v (T, KV*D) the head-normed projections. */
static void ttt_forward(ttt_acts *a, const ttt_params *p, const ttt_ctx *x, const REAL *xn, const REAL *qh,
                        const REAL *kh, const REAL *v, REAL *scratch)
{
    int T = x->T, C = x->C, H = x->H, d = x->d;
    long TH = (long)T * H;
    repeat_kv_forward(a->kt, kh, T, x->NH, x->KV, x->D);
    repeat_kv_forward(a->vt, v, T, x->NH, x->KV, x->D);
    affine_forward(a->qa, qh, p->q_scale, p->q_off, T, C);
    affine_forward(a->ka, a->kt, p->k_scale, p->k_off, T, C);
    if( x->conv ){
        conv3d_forward(a->qc, a->qa, p->conv_q, x->vid, x->G[0], x->G[1], x->G[2], T, C, scratch);
        conv3d_forward(a->kc, a->ka, p->conv_k, x->vid, x->G[0], x->G[1], x->G[2], T, C, scratch);
        conv3d_forward(a->vc, a->vt, p->conv_v, x->vid, x->G[0], x->G[1], x->G[2], T, C, scratch);
    }
    silu_l2_forward(a->Qf, a->qnrm, a->qc, TH, d);
    silu_l2_forward(a->Kf, a->knrm, a->kc, TH, d);
    #pragma omp parallel for simd if((long)T * C > OMP_MIN)
    for(long i = 0; i < (long)T * C; i++) a->Vf[i] = silur(a->vc[i]);
    if( x->r > 0 ){
        rope_rotate(a->Qf, x->cosT, x->sinT, T, H, d, C, x->r, x->half, 1);
        rope_rotate(a->Kf, x->cosT, x->sinT, T, H, d, C, x->r, x->half, 1);
    }
    // per-token rates, momentum and gate: linear maps of the block input
    linear_forward(a->zl, xn, p->w_lr, p->b_lr, T, C, 3 * H);
    for(long i = 0; i < 3 * TH; i++){
        a->zl[i] += x->c0;
        a->eta[i] = softplusr(a->zl[i]);
    }
    if( p->w_mom ){
        linear_forward(a->zm, xn, p->w_mom, p->b_mom, T, C, H);
        for(long i = 0; i < TH; i++) a->mu[i] = sigmoidr(a->zm[i]);
    }
    linear_forward(a->zs, xn, p->w_gate, p->b_gate, T, C, H);
    for(long i = 0; i < TH; i++) a->gate[i] = silur(a->zs[i]);

    ttt_chunks_forward(&a->st, a->O, a->Qf, a->Kf, a->Vf, a->eta, p->w_mom ? a->mu : NULL,
                       p->w0, p->w1, p->w2, &x->dm, scratch);

    // y = RMSNorm_d(O) * gate, one norm weight shared by the heads
    rmsnorm_forward(a->y, a->ornd, a->O, p->norm, TH, d, TTT_OUT_EPS);
    #pragma omp parallel for if((long)T * C > OMP_MIN)
    for(long r = 0; r < TH; r++) for(int k = 0; k < d; k++) a->y[r * d + k] *= a->gate[r];
}

/*
** dy (T, C) is the gradient of the branch output. Accumulates into dxn (T, C), dqh (T, C),
** dkh and dv (T, KV*D) and the parameter gradients g.
*/
static void ttt_backward(const ttt_params *g, REAL *dxn, REAL *dqh, REAL *dkh, REAL *dv, const REAL *dy,
                         const ttt_acts *a, const ttt_params *p, const ttt_ctx *x, const REAL *xn,
                         const REAL *qh, REAL *scratch)
{
    int T = x->T, C = x->C, H = x->H, d = x->d;
    long TH = (long)T * H, TC = (long)T * C;
    REAL *dO = scratch, *dQ = dO + TC, *dK = dQ + TC, *dV = dK + TC, *t1 = dV + TC, *t2 = t1 + TC, *t3 = t2 + TC;
    REAL *deta = t3 + TC, *dmu = deta + 3 * TH, *dz = dmu + TH, *dzs = dz + TH;
    REAL *wt = dzs + TH, *dwt = wt + 27 * (size_t)C;
    REAL *chunkScratch = dwt + 27 * (size_t)C;

    // y = rmsnorm(O) * gate
    #pragma omp parallel for if(TC > OMP_MIN)
    for(long r = 0; r < TH; r++){
        const REAL *o = a->O + r * d, *gy = dy + r * d;
        REAL s = 0;
        for(int k = 0; k < d; k++){
            s += gy[k] * o[k] * a->ornd[r] * p->norm[k];
            t1[r * d + k] = gy[k] * a->gate[r];
        }
        dzs[r] = s * silu_d1(a->zs[r]);
    }
    memset(dO, 0, sizeof(REAL) * TC);
    rmsnorm_backward(dO, g->norm, t1, a->O, p->norm, a->ornd, TH, d);

    memset(dQ, 0, sizeof(REAL) * 3 * TC);
    memset(deta, 0, sizeof(REAL) * 4 * TH);
    ttt_chunks_backward(dQ, dK, dV, deta, p->w_mom ? dmu : NULL, g->w0, g->w1, g->w2, dO, &a->st,
                        a->Qf, a->Kf, a->Vf, a->eta, p->w0, p->w1, p->w2, &x->dm, chunkScratch);

    // rates, momentum and gate back to the block input
    for(long i = 0; i < 3 * TH; i++) deta[i] *= sigmoidr(a->zl[i]);
    linear_backward(dxn, g->w_lr, g->b_lr, deta, xn, p->w_lr, T, C, 3 * H);
    if( p->w_mom ){
        for(long i = 0; i < TH; i++) dz[i] = dmu[i] * a->mu[i] * ((REAL)1 - a->mu[i]);
        linear_backward(dxn, g->w_mom, g->b_mom, dz, xn, p->w_mom, T, C, H);
    }
    linear_backward(dxn, g->w_gate, g->b_gate, dzs, xn, p->w_gate, T, C, H);

    // rotary, L2 norm and SiLU
    if( x->r > 0 ){
        rope_rotate(dQ, x->cosT, x->sinT, T, H, d, C, x->r, x->half, -1);
        rope_rotate(dK, x->cosT, x->sinT, T, H, d, C, x->r, x->half, -1);
    }
    silu_l2_backward(t1, dQ, a->qc, a->qnrm, TH, d, t3);   // t1 = d qc
    silu_l2_backward(t2, dK, a->kc, a->knrm, TH, d, t3);   // t2 = d kc
    #pragma omp parallel for simd if(TC > OMP_MIN)
    for(long i = 0; i < TC; i++) dV[i] *= silu_d1(a->vc[i]);  // dV = d vc

    // conv: d qc -> d qa (into dQ), likewise k (dK) and v (t3)
    if( x->conv ){
        memset(dQ, 0, sizeof(REAL) * TC);
        memset(dK, 0, sizeof(REAL) * TC);
        memset(t3, 0, sizeof(REAL) * TC);
        const REAL *cw[3] = { p->conv_q, p->conv_k, p->conv_v };
        REAL *cg[3] = { g->conv_q, g->conv_k, g->conv_v };
        const REAL *gin[3] = { t1, t2, dV }, *xin[3] = { a->qa, a->ka, a->vt };
        REAL *gout[3] = { dQ, dK, t3 };
        for(int i = 0; i < 3; i++){
            for(int c = 0; c < C; c++) for(int k = 0; k < 27; k++) wt[(size_t)k * C + c] = cw[i][(size_t)c * 27 + k];
            conv3d_backward(gout[i], cg[i], gin[i], xin[i], x->isvid, x->vid, x->G[0], x->G[1], x->G[2], T, C, wt, dwt);
        }
    }else{
        memcpy(dQ, t1, sizeof(REAL) * TC);
        memcpy(dK, t2, sizeof(REAL) * TC);
        memcpy(t3, dV, sizeof(REAL) * TC);
    }

    // scale and offset, then the KV expansion
    affine_backward(dqh, g->q_scale, g->q_off, dQ, qh, p->q_scale, T, C);
    memset(t1, 0, sizeof(REAL) * TC);
    affine_backward(t1, g->k_scale, g->k_off, dK, a->kt, p->k_scale, T, C);
    repeat_kv_backward(dkh, t1, T, x->NH, x->KV, x->D);
    repeat_kv_backward(dv, t3, T, x->NH, x->KV, x->D);
}

#endif
