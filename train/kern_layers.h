/*
** Kernel templates, part 1: the transformer's plain layers, each forward next to its backward.
** Backward functions accumulate (+=) into parameter gradients the caller zeroed; the input
** gradient is accumulated too unless the comment says "overwrites".
*/
#ifndef SPTT_KERN_LAYERS_H
#define SPTT_KERN_LAYERS_H

#include "kern_common.h"

// ----------------------------------------------------------------------------
// Linear, no bias or with one.  inp is (T, IC), w is (OC, IC), out is (T, OC)

static void linear_forward(REAL *out, const REAL *inp, const REAL *w, const REAL *b, int T, int IC, int OC)
{
    gemm(0, 1, T, OC, IC, 1, inp, IC, w, IC, 0, out, OC);
    if( b ){
        #pragma omp parallel for if((long)T * OC > OMP_MIN)
        for(int t = 0; t < T; t++) for(int o = 0; o < OC; o++) out[(size_t)t * OC + o] += b[o];
    }
}

static void linear_backward(REAL *dinp, REAL *dw, REAL *db, const REAL *dout, const REAL *inp,
                            const REAL *w, int T, int IC, int OC)
{
    // dinp (T, IC) += dout (T, OC) . w (OC, IC)
    if( dinp ) gemm(0, 0, T, IC, OC, 1, dout, OC, w, IC, 1, dinp, IC);
    // dw (OC, IC) += dout^T . inp
    gemm(1, 0, OC, IC, T, 1, dout, OC, inp, IC, 1, dw, IC);
    if( db ){
        for(int t = 0; t < T; t++) for(int o = 0; o < OC; o++) db[o] += dout[(size_t)t * OC + o];
    }
}

// ----------------------------------------------------------------------------
// RMSNorm over rows of width n:  out = x / sqrt(mean(x^2) + eps) * g.   x is (R, n), g is (n)
// The same kernel serves the block norms (R = T), the per-head q/k norms (R = T*heads) and the
// TTT output norm shared by the fast heads.

static void rmsnorm_forward(REAL *out, REAL *rstd, const REAL *x, const REAL *g, long R, int n, REAL eps)
{
    #pragma omp parallel for if(R * n > OMP_MIN)
    for(long r = 0; r < R; r++){
        const REAL *xr = x + r * n;
        REAL ss = 0;
        for(int i = 0; i < n; i++) ss += xr[i] * xr[i];
        REAL s = (REAL)1 / sqrt(ss / n + eps);
        rstd[r] = s;
        REAL *o = out + r * n;
        for(int i = 0; i < n; i++) o[i] = xr[i] * s * g[i];
    }
}

static void rmsnorm_backward(REAL *dx, REAL *dg, const REAL *dout, const REAL *x, const REAL *g,
                             const REAL *rstd, long R, int n)
{
    // dx = rstd * (dxhat - xhat * mean(dxhat . xhat)) with xhat = x*rstd, dxhat = dout*g
    #pragma omp parallel for if(R * n > OMP_MIN)
    for(long r = 0; r < R; r++){
        const REAL *xr = x + r * n, *dr = dout + r * n;
        REAL s = rstd[r], dot = 0;
        for(int i = 0; i < n; i++) dot += dr[i] * g[i] * xr[i] * s;
        dot /= n;
        REAL *o = dx + r * n;
        for(int i = 0; i < n; i++) o[i] += s * (dr[i] * g[i] - xr[i] * s * dot);
    }
    // the weight gradient is a reduction over rows: serial, so the sum order never changes
    for(long r = 0; r < R; r++){
        const REAL *xr = x + r * n, *dr = dout + r * n;
        for(int i = 0; i < n; i++) dg[i] += dr[i] * xr[i] * rstd[r];
    }
}

// ----------------------------------------------------------------------------
// Rotary embedding with 3D sections.  The table has one angle per (token, frequency pair):
// pair j (of half = head_dim/2) uses frequency theta^(-2j/head_dim) and the t, h or w position
// according to the contiguous sections.  cosT, sinT are (T, half).

static void rope_table(REAL *cosT, REAL *sinT, const int32_t *pos, int T, int half, const int sec[3], double theta)
{
    #pragma omp parallel for if((long)T * half > OMP_MIN)
    for(int t = 0; t < T; t++){
        for(int j = 0; j < half; j++){
            int axis = j < sec[0] ? 0 : j < sec[0] + sec[1] ? 1 : 2;
            double f = pow(theta, -2.0 * j / (2.0 * half));
            double a = (double)pos[3 * t + axis] * f;
            cosT[(size_t)t * half + j] = (REAL)cos(a);
            sinT[(size_t)t * half + j] = (REAL)sin(a);
        }
    }
}

// Rotates, in place, the first r dims of each of nh heads of width hd in rows of stride ld,
// pairing dim j with j + r/2 (rotate-half) and using table columns 0..r/2-1.  sign = -1 applies
// the transpose, which is the backward.
static void rope_rotate(REAL *x, const REAL *cosT, const REAL *sinT, int T, int nh, int hd, int ld,
                        int r, int half, REAL sign)
{
    int p = r / 2;
    #pragma omp parallel for if((long)T * nh * r > OMP_MIN)
    for(int t = 0; t < T; t++){
        const REAL *c = cosT + (size_t)t * half, *s = sinT + (size_t)t * half;
        for(int h = 0; h < nh; h++){
            REAL *v = x + (size_t)t * ld + (size_t)h * hd;
            for(int j = 0; j < p; j++){
                REAL a = v[j], b = v[j + p], sn = sign * s[j];
                v[j] = a * c[j] - b * sn;
                v[j + p] = b * c[j] + a * sn;
            }
        }
    }
}

// ----------------------------------------------------------------------------
// SwiGLU activation:  a = silu(g) * u, all (N)

static void swiglu_forward(REAL *a, const REAL *g, const REAL *u, long N)
{
    #pragma omp parallel for simd if(N > OMP_MIN)
    for(long i = 0; i < N; i++) a[i] = silur(g[i]) * u[i];
}

// overwrites dg and du
static void swiglu_backward(REAL *dg, REAL *du, const REAL *da, const REAL *g, const REAL *u, long N)
{
    #pragma omp parallel for simd if(N > OMP_MIN)
    for(long i = 0; i < N; i++){
        dg[i] = da[i] * u[i] * silu_d1(g[i]);
        du[i] = da[i] * silur(g[i]);
    }
}

// ----------------------------------------------------------------------------
// Token embedding: x[t] = wte[tok[t]] for text tokens; visual tokens are left to the patch
// embedding.  wte is (V, C), x is (T, C)

static void embed_forward(REAL *x, const int32_t *tok, const REAL *wte, int T, int C)
{
    for(int t = 0; t < T; t++){
        if( tok[t] == SPTT_TOK_PATCH ) continue;
        memcpy(x + (size_t)t * C, wte + (size_t)tok[t] * C, sizeof(REAL) * C);
    }
}

static void embed_backward(REAL *dwte, const REAL *dx, const int32_t *tok, int T, int C)
{
    // serial over tokens: a token id may repeat, and the sum order must not change
    for(int t = 0; t < T; t++){
        if( tok[t] == SPTT_TOK_PATCH ) continue;
        REAL *d = dwte + (size_t)tok[t] * C;
        const REAL *g = dx + (size_t)t * C;
        for(int c = 0; c < C; c++) d[c] += g[c];
    }
}

// Patch vectors (Nv, 6 P^2) of the video in (t, h, w) order; each flattened as (channel,
// frame-in-pair, row, column).  pixels are (F, H, W, 3).
static void patch_gather(REAL *patches, const float *pixels, int G0, int G1, int G2, int P, int H, int W)
{
    int K = 6 * P * P;
    long Nv = (long)G0 * G1 * G2;
    #pragma omp parallel for if(Nv * K > OMP_MIN)
    for(long v = 0; v < Nv; v++){
        int t = (int)(v / ((long)G1 * G2)), gh = (int)((v / G2) % G1), gw = (int)(v % G2);
        REAL *o = patches + v * K;
        for(int ch = 0; ch < 3; ch++)
            for(int f = 0; f < 2; f++)
                for(int r = 0; r < P; r++)
                    for(int c = 0; c < P; c++){
                        size_t frame = (size_t)(2 * t + f);
                        size_t y = (size_t)gh * P + r, xx = (size_t)gw * P + c;
                        o[((ch * 2 + f) * P + r) * P + c] = (REAL)pixels[((frame * H + y) * W + xx) * 3 + ch];
                    }
    }
}

// ----------------------------------------------------------------------------
// Cross-entropy over n rows of logits (n, V) with one target each.  Returns the summed loss;
// lse (n) keeps log-sum-exp for the backward.

static double ce_forward(REAL *lse, const REAL *logits, const int32_t *tgt, int n, int V)
{
    double sum = 0;
    for(int r = 0; r < n; r++){
        const REAL *l = logits + (size_t)r * V;
        REAL mx = l[0];
        for(int i = 1; i < V; i++) if( l[i] > mx ) mx = l[i];
        REAL s = 0;
        for(int i = 0; i < V; i++) s += expr(l[i] - mx);
        lse[r] = mx + log(s);
        sum += (double)(lse[r] - l[tgt[r]]);
    }
    return sum;
}

// overwrites dlogits with w * (softmax - onehot)
static void ce_backward(REAL *dlogits, const REAL *logits, const REAL *lse, const int32_t *tgt, int n, int V, REAL w)
{
    #pragma omp parallel for if((long)n * V > OMP_MIN)
    for(int r = 0; r < n; r++){
        const REAL *l = logits + (size_t)r * V;
        REAL *d = dlogits + (size_t)r * V;
        REAL lr = lse[r];
        #pragma omp simd
        for(int i = 0; i < V; i++) d[i] = w * expr(l[i] - lr);
        d[tgt[r]] -= w;
    }
}

#endif
