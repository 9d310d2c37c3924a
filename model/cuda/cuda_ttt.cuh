/*
** Device kernels of the TTT branch (model/kern/kern_ttt.inc): the element-wise pieces of the
** outer branch and of the chunk recurrence. The products of a chunk are strided-batched cuBLAS
** calls over the fast heads (model_cuda.cu); these kernels cover one chunk's rows of all heads at
** once, index (row i of the chunk, head h, column k).
*/
#ifndef SPTT_CUDA_TTT_CUH
#define SPTT_CUDA_TTT_CUH

#include "cuda_kern.cuh"

/* out (T, NH*D) from in (T, KV*D): each KV head feeds NH/KV consecutive heads */
__global__ void k_repeat_kv_fwd(float *out, const float *in, int T, int NH, int KV, int D)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)T * NH * D ) return;
    int k = (int)(i % D), h = (int)((i / D) % NH);
    long t = i / ((long)D * NH);
    out[i] = in[(t * KV + h / (NH / KV)) * D + k];
}
/* din (T, KV*D) += sum over the group of dout (T, NH*D) */
__global__ void k_repeat_kv_bwd(float *din, const float *dout, int T, int NH, int KV, int D)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)T * KV * D ) return;
    int k = (int)(i % D), kh = (int)((i / D) % KV), grp = NH / KV;
    long t = i / ((long)D * KV);
    float s = 0;
    for(int g = 0; g < grp; g++) s += dout[(t * NH + kh * grp + g) * D + k];
    din[i] += s;
}
__global__ void k_affine_fwd(float *out, const float *x, const float *s, const float *o, long T, int C)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < T * C ) out[i] = x[i] * s[i % C] + o[i % C];
}
/* The backward of out = x s + o in one pass over its rows: dx += dout s (add 0: dx = dout s), and
** the strip partial sums of the columns of dout x (part) and of dout (part + nPart C), in
** k_colsum_part's strips and order, for its final pass. Grid (ceil(C/32), nPart/8), a warp per
** strip, a lane per column. */
__global__ void k_affine_bwd(float *dx, float *part, const float *dout, const float *x, const float *s, long R, int C,
                             long per, int nPart, int add)
{
    int c = blockIdx.x * 32 + (threadIdx.x & 31);
    long p = (long)blockIdx.y * 8 + (threadIdx.x >> 5), r0 = p * per;
    if( c >= C ) return;
    long r1 = r0 + per < R ? r0 + per : R;
    float sc = s[c], ss = 0, so = 0;
#pragma unroll 4
    for(long r = r0; r < r1; r++){
        long i = r * C + c;
        float g = dout[i];
        ss += g * x[i];
        so += g;
        dx[i] = (add ? dx[i] : 0.0f) + g * sc;
    }
    part[p * C + c] = ss;
    part[((long)nPart + p) * C + c] = so;
}
__device__ __forceinline__ int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
__device__ __forceinline__ long conv_src(long v, int tap, int G0, int G1, int G2)
{
    int t = (int)(v / ((long)G1 * G2)), gh = (int)((v / G2) % G1), gw = (int)(v % G2);
    int dt = tap / 9 - 1, dh = (tap / 3) % 3 - 1, dw = tap % 3 - 1;
    return ((long)clampi(t + dt, 0, G0 - 1) * G1 + clampi(gh + dh, 0, G1 - 1)) * G2 + clampi(gw + dw, 0, G2 - 1);
}
/* the conv kernels' thread: video row v (of the G0 x G1 x G2 grid) and channel c of C */
#define CONV_ROW_CHANNEL(G0, G1, G2, C) \
    long i_ = (long)blockIdx.x * blockDim.x + threadIdx.x; \
    if( i_ >= (long)(G0) * (G1) * (G2) * (C) ) return; \
    long v = i_ / (C); \
    int c = (int)(i_ % (C))
/* out's video rows (out already holds x): depthwise 3x3x3, replicate padding. w (C, 27) */
__global__ void k_conv_fwd(float *out, const float *x, const float *w, const int32_t *vid, int G0, int G1, int G2, int C)
{
    CONV_ROW_CHANNEL(G0, G1, G2, C);
    float s = 0;
    for(int tap = 0; tap < 27; tap++) s += w[(long)c * 27 + tap] * x[(long)vid[conv_src(v, tap, G0, G1, G2)] * C + c];
    out[(long)vid[v] * C + c] = s;
}
/* text rows pass through */
__global__ void k_conv_bwd_text(float *dx, const float *dout, const uint8_t *isvid, long T, int C)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < T * C && !isvid[i / C] ) dx[i] += dout[i];
}
/* the sources r along one axis of length G that tap offset dt clamps onto position p: at most 3
** of p-dt-1 .. p-dt+1 (two at an edge, where replicate padding folds the outside in) */
__device__ __forceinline__ int conv_pre(int *r, int p, int dt, int G)
{
    int n = 0;
    for(int q = p - dt - 1; q <= p - dt + 1; q++)
        if( q >= 0 && q < G && clampi(q + dt, 0, G - 1) == p ) r[n++] = q;
    return n;
}
/* dx's video rows += the conv's transpose applied to dout, gathered per target row (each thread
** owns its (row, channel) and sums taps and sources in a fixed order: no atomics) */
__global__ void k_conv_bwd_x(float *dx, const float *dout, const float *w, const int32_t *vid, int G0, int G1, int G2, int C)
{
    CONV_ROW_CHANNEL(G0, G1, G2, C);
    int t = (int)(v / ((long)G1 * G2)), gh = (int)((v / G2) % G1), gw = (int)(v % G2);
    float s = 0;
    for(int tap = 0; tap < 27; tap++){
        int a0[3], a1[3], a2[3];
        int n0 = conv_pre(a0, t, tap / 9 - 1, G0), n1 = conv_pre(a1, gh, (tap / 3) % 3 - 1, G1);
        int n2 = conv_pre(a2, gw, tap % 3 - 1, G2);
        float wt = w[(long)c * 27 + tap];
        for(int x0 = 0; x0 < n0; x0++)
            for(int x1 = 0; x1 < n1; x1++)
                for(int x2 = 0; x2 < n2; x2++)
                    s += wt * dout[(long)vid[((long)a0[x0] * G1 + a1[x1]) * G2 + a2[x2]] * C + c];
    }
    dx[(long)vid[v] * C + c] += s;
}
/* dw (C, 27) += sum_v x[src] g[v]: one thread per (c, tap) */
__global__ void k_conv_bwd_w(float *dw, const float *dout, const float *x, const int32_t *vid, int G0, int G1, int G2, int C)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)C * 27 ) return;
    int c = (int)(i / 27), tap = (int)(i % 27);
    long Nv = (long)G0 * G1 * G2;
    float s = 0;
    for(long v = 0; v < Nv; v++) s += x[(long)vid[conv_src(v, tap, G0, G1, G2)] * C + c] * dout[(long)vid[v] * C + c];
    dw[i] += s;
}
__global__ void k_silu(float *y, const float *x, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] = silu(x[i]);
}
/* y = silu(x) as fp32 (yf) and/or bf16 (yb); either may be NULL. Four elements a thread (n a
** multiple of 4, all 16-byte aligned). */
__global__ void k_silu_bf(float *yf, __nv_bfloat16 *yb, const float *x, long n4)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n4 ) return;
    float4 v = reinterpret_cast<const float4 *>(x)[i];
    v.x = silu(v.x);
    v.y = silu(v.y);
    v.z = silu(v.z);
    v.w = silu(v.w);
    if( yf ) reinterpret_cast<float4 *>(yf)[i] = v;
    if( yb ){
        reinterpret_cast<__nv_bfloat162 *>(yb)[2 * i] = __floats2bfloat162_rn(v.x, v.y);
        reinterpret_cast<__nv_bfloat162 *>(yb)[2 * i + 1] = __floats2bfloat162_rn(v.z, v.w);
    }
}
/* The fast q (or k) rows of the TTT branch where no conv sits between its steps, in one pass
** instead of four: a = x s + o (kept for the backward), y = SiLU-L2(a) (the norm to nrm), then
** the rotation of y's first r dims of each head (as k_rope, sign +1); y goes out as fp32 (yf)
** and/or bf16 (yb), either may be NULL. A warp per row (position, head) of d; the rotation's
** partners meet in shared memory (d floats a warp). */
__global__ void k_ttt_qk_prep(float *a, float *nrm, float *yf, __nv_bfloat16 *yb, const float *x, const float *s,
                              const float *o, const float *cosT, const float *sinT, long R, int H, int d, int r,
                              int half, float eps)
{
    extern __shared__ float qk_sm[];
    float *sm = qk_sm + (threadIdx.x >> 5) * d;
    WARP_ROW(R)
    long t = row / H, base = row * d;
    const float *sc = s + (long)(row % H) * d, *of = o + (long)(row % H) * d;
    float ss = 0;
    for(int i = lane; i < d; i += 32){
        float v = x[base + i] * sc[i] + of[i];
        a[base + i] = v;
        float u = silu(v);
        sm[i] = u;
        ss += u * u;
    }
    ss = warp_sum(ss);
    float n = sqrtf(ss), inv = 1.0f / (n + eps);
    if( lane == 0 ) nrm[row] = n;
    __syncwarp();
    int p = r / 2;
    for(int i = lane; i < d; i += 32){
        float y = sm[i] * inv;
        if( i < r ){
            int j = i < p ? i : i - p;
            float c = cosT[t * half + j], sn = sinT[t * half + j], u = sm[j] * inv, w = sm[j + p] * inv;
            y = i < p ? u * c - w * sn : w * c + u * sn;
        }
        if( yf ) yf[base + i] = y;
        if( yb ) yb[base + i] = __float2bfloat16_rn(y);
    }
}
__global__ void k_mul_silu1(float *y, const float *x, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] *= silu1(x[i]);
}
/* out += y silu'(x) */
__global__ void k_mul_silu1_add(float *out, const float *y, const float *x, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) out[i] += y[i] * silu1(x[i]);
}
/* zl += c0; eta = softplus(zl) */
__global__ void k_lr_act(float *zl, float *eta, float c0, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n ) return;
    float z = zl[i] + c0;
    zl[i] = z;
    eta[i] = softplus(z);
}
__global__ void k_sigmoid(float *y, const float *x, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] = sigm(x[i]);
}
/* The branch's output added to the attention's, one warp per row of d: s = att + rmsnorm(O) gate
** (y = O rstd norm, times the row's gate, as rmsnorm and a row scale would, in one pass instead of
** three); rstd into ornd. s of TO: fp32, or bf16 where only bf16 products read it. */
template <typename TO>
__global__ void k_ttt_out_fwd(TO *s, float *ornd, const float *att, const float *O, const float *norm,
                              const float *gate, long R, int d, float eps)
{
    WARP_ROW(R)
    const float *o = O + row * d;
    float ss = 0;
    for(int i = lane; i < d; i += 32) ss += o[i] * o[i];
    ss = warp_sum(ss);
    float r = 1.0f / sqrtf(ss / d + eps), gt = gate[row];
    if( lane == 0 ) ornd[row] = r;
    for(int i = lane; i < d; i += 32) stf(s + row * d + i, att[row * d + i] + o[i] * r * norm[i] * gt);
}
/* backward of y = rmsnorm(O) gate: dzs[r] = silu'(zs) sum_k gy o rstd norm; t1 = gy gate */
__global__ void k_ttt_out_bwd(float *dzs, float *t1, const float *dy, const float *O, const float *ornd,
                              const float *norm, const float *gate, const float *zs, long R, int d)
{
    WARP_ROW(R)
    float s = 0;
    for(int k = lane; k < d; k += 32){
        s += dy[row * d + k] * O[row * d + k] * ornd[row] * norm[k];
        t1[row * d + k] = dy[row * d + k] * gate[row];
    }
    s = warp_sum(s);
    if( lane == 0 ) dzs[row] = s * silu1(zs[row]);
}
/* deta *= sigmoid(zl) */
__global__ void k_mul_sigmoid(float *y, const float *z, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] *= sigm(z[i]);
}
/* dz = dmu mu (1 - mu) */
__global__ void k_sigmoid_bwd(float *dz, const float *dmu, const float *mu, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) dz[i] = dmu[i] * mu[i] * (1.0f - mu[i]);
}

// ---------------------------------------------------------------------------- chunk recurrence
// A chunk's rows: (n, C) blocks with row stride C, head h at columns h*d; scratch per head (n, d)
// at h*nd (nd = chunk*d). Index i over n*H*d: k = i % d, h = (i / d) % H, r = i / (d*H).

/* W(0) (H, 3, d, d) from the slow weights w0, w1, w2 (H, d, d) */
__global__ void k_ttt_w0(float *W, __nv_bfloat16 *W16, const float *w0, const float *w1, const float *w2, int H, long dd)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= 3L * H * dd ) return;
    long e = i % dd;
    int hj = (int)(i / dd), h = hj / 3, j = hj % 3;
    const float *src = j == 0 ? w0 : j == 1 ? w1 : w2;
    W[i] = src[(long)h * dd + e];
    if( W16 ) W16[i] = __float2bfloat16_rn(W[i]);
}
/* hh = silu(u0) * u2. The element-wise steps of the chunk loops write fp32 or, where the loop's
** products take bf16 operands (TO = __nv_bfloat16), the products' bf16 operands directly. */
template <typename TO>
__global__ void k_ttt_hh(TO *hh, const float *u0, const float *u2, int n, int H, int d, int C, long nd)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)n * H * d ) return;
    int k = (int)(i % d), h = (int)((i / d) % H);
    long r = i / ((long)d * H), iy = r * C + (long)h * d + k;
    stf(hh + (long)h * nd + r * d + k, silu(u0[iy]) * u2[iy]);
}
/* P0 = eta0 DH Y2 silu'(Y0), P2 = eta2 DH silu(Y0), Z1 = eta1 Y2 silu(Y0) */
template <typename TO>
__global__ void k_ttt_pz(TO *P0, TO *P2, TO *Z1, const float *y0, const float *y2, const float *dh,
                         const float *eta, int n, int H, int d, int C, long nd)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)n * H * d ) return;
    int k = (int)(i % d), h = (int)((i / d) % H);
    long r = i / ((long)d * H), iy = r * C + (long)h * d + k, ix = (long)h * nd + r * d + k;
    const float *e = eta + r * 3 * H + 3 * h;
    float a = y0[iy], b = y2[iy], g = dh[iy], sa = silu(a);
    stf(P0 + ix, e[0] * g * b * silu1(a));
    stf(P2 + ix, e[2] * g * sa);
    stf(Z1 + ix, e[1] * b * sa);
}
/* mbar[h] = mean of mu over the chunk's n rows (mu row stride H) */
__global__ void k_ttt_mbar(float *mbar, const float *mu, int n, int H)
{
    int h = blockIdx.x;
    float s = 0;
    for(int i = threadIdx.x; i < n; i += blockDim.x) s += mu[(long)i * H + h];
    s = warp_sum(s);
    __shared__ float sh[32];
    if( (threadIdx.x & 31) == 0 ) sh[threadIdx.x >> 5] = s;
    __syncthreads();
    if( threadIdx.x < 32 ){
        s = threadIdx.x < blockDim.x / 32 ? sh[threadIdx.x] : 0.0f;
        s = warp_sum(s);
        if( threadIdx.x == 0 ) mbar[h] = s / n;
    }
}
/* M (3H, dd) += mbar[hj / 3] Mp */
__global__ void k_ttt_mom(float *M, const float *Mp, const float *mbar, long dd, int H)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= 3L * H * dd ) return;
    M[i] += mbar[(i / dd) / 3] * Mp[i];
}
/* X0 = G / (nu + eps): per matrix b, X at b*xs, G at b*dd */
template <typename TX>
__global__ void k_ns_x0(TX *X, const float *G, const float *nu, long dd, long xs, int nb, float eps)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)nb * dd ) return;
    long b = i / dd, e = i % dd;
    stf(X + b * xs + e, G[i] / (nu[b] + eps));
}
/* D[b*ds + e] = a C[b*cs + e] over nb dense matrices of dd elements */
template <typename T>
__global__ void k_mat_scale(T *D, long ds, float a, const T *C, long cs, long dd, int nb)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)nb * dd ) return;
    long b = i / dd, e = i % dd;
    stf(D + b * ds + e, a * ldf(C[b * cs + e]));
}
/* Y[b*dd + e] += a X[b*xs + e] over nb matrices of dd: bf16 Newton-Schulz's last aX term */
__global__ void k_add_bf16(float *Y, float a, const __nv_bfloat16 *X, long xs, long dd, int nb)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)nb * dd ) return;
    Y[i] += a * __bfloat162float(X[(i / dd) * xs + i % dd]);
}
__global__ void k_sqrt(float *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) x[i] = sqrtf(x[i]);
}
/* S = A + A^T per (d, d) matrix, through 32 x 32 tiles in shared memory so that both the reads and
** the writes are coalesced; grid ((d+31)/32, (d+31)/32, nb), block (32, 8) */
template <typename TS>
__global__ void k_sym(TS *S, const TS *A, int d)
{
    __shared__ float t[32][33];
    long base = (long)blockIdx.z * d * d;
    int r0 = blockIdx.y * 32, c0 = blockIdx.x * 32;
    for(int k = threadIdx.y; k < 32; k += 8){          // the mirror tile, read along its rows
        int r = c0 + k, c = r0 + threadIdx.x;
        t[k][threadIdx.x] = r < d && c < d ? ldf(A[base + (long)r * d + c]) : 0.0f;
    }
    __syncthreads();
    for(int k = threadIdx.y; k < 32; k += 8){
        int r = r0 + k, c = c0 + threadIdx.x;
        if( r < d && c < d ) stf(S + base + (long)r * d + c, ldf(A[base + (long)r * d + c]) + t[threadIdx.x][k]);
    }
}
/* The same for bf16 with d a multiple of 64: 64 x 64 tiles, two adjacent columns a thread
** (4-byte accesses; the 32 x 32 tiles above moved 2 bytes a lane), the same sums. Grid
** (d / 64, d / 64, nb), block (32, 8). */
__global__ void k_sym_bf(__nv_bfloat16 *S, const __nv_bfloat16 *A, int d)
{
    __shared__ float t[64][65];
    long base = (long)blockIdx.z * d * d;
    int r0 = blockIdx.y * 64, c0 = blockIdx.x * 64, x = threadIdx.x * 2;
    for(int k = threadIdx.y; k < 64; k += 8){          // the mirror tile, read along its rows
        __nv_bfloat162 v = *(const __nv_bfloat162 *)(A + base + (long)(c0 + k) * d + r0 + x);
        t[k][x] = __low2float(v);
        t[k][x + 1] = __high2float(v);
    }
    __syncthreads();
    for(int k = threadIdx.y; k < 64; k += 8){
        long o = base + (long)(r0 + k) * d + c0 + x;
        __nv_bfloat162 v = *(const __nv_bfloat162 *)(A + o);
        *(__nv_bfloat162 *)(S + o) = __floats2bfloat162_rn(__low2float(v) + t[x][k], __high2float(v) + t[x + 1][k]);
    }
}
/* dG = g / e - (dot / (nu e^2)) G, e = nu + eps */
template <typename TG>
__global__ void k_ns_end(float *dG, const TG *g, const float *G, const float *nu, const float *dot, long dd, int nb,
                         float eps)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)nb * dd ) return;
    long b = i / dd;
    float n = nu[b], e = n + eps, bb = n > 0 ? dot[b] / (n * e * e) : 0.0f;
    dG[i] = ldf(g[i]) / e - bb * G[i];
}
/* apply backward rows: hh (recomputed), gu0 = gH u2 silu'(u0), gu2 = gH silu(u0) */
template <typename TO>
__global__ void k_ttt_apply_bwd(TO *hh, TO *g0, TO *g2, const float *gH, const float *u0, const float *u2,
                                int n, int H, int d, int C, long nd)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)n * H * d ) return;
    int k = (int)(i % d), h = (int)((i / d) % H);
    long r = i / ((long)d * H), iy = r * C + (long)h * d + k, ix = (long)h * nd + r * d + k;
    float a = u0[iy], b = u2[iy], g = gH[ix];
    stf(hh + ix, silu(a) * b);
    stf(g0 + ix, g * b * silu1(a));
    stf(g2 + ix, g * silu(a));
}
/* dmu[(s+i)*H + h] += (gmbp[3h] + gmbp[3h+1] + gmbp[3h+2]) / n */
__global__ void k_ttt_dmu(float *dmu, const float *gmbp, int n, int H)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)n * H ) return;
    int h = (int)(i % H);
    dmu[i] += (gmbp[3 * h] + gmbp[3 * h + 1] + gmbp[3 * h + 2]) / n;
}
/* the inner gradient's element-wise backward: one warp per (row, head). Overwrites P0, P2, Z1
** with gY0, gY2, gDH and adds the rate gradients. */
template <typename TO>
__global__ void k_ttt_inner_bwd(TO *P0, TO *P2, TO *Z1, float *deta, const float *gP0, const float *gP2,
                                const float *gZ1, const float *y0, const float *y2, const float *dh, const float *eta,
                                int n, int H, int d, int C, long nd)
{
    WARP_ROW((long)n * H)
    int h = (int)(row % H);
    long r = row / H;
    const float *e = eta + r * 3 * H + 3 * h;
    float s0 = 0, s1 = 0, s2 = 0;
    for(int q = lane; q < d; q += 32){
        long ix = (long)h * nd + r * d + q, iy = r * C + (long)h * d + q;
        float a = y0[iy], b = y2[iy], g = dh[iy];
        float sa = silu(a), m1 = silu1(a), m2 = silu2(a);
        float p0 = gP0[ix], p2 = gP2[ix], z1 = gZ1[ix];
        stf(P2 + ix, p0 * e[0] * g * m1 + z1 * e[1] * sa);
        stf(Z1 + ix, p0 * e[0] * b * m1 + p2 * e[2] * sa);
        stf(P0 + ix, (p2 * e[2] * g + z1 * e[1] * b) * m1 + p0 * e[0] * g * b * m2);
        s0 += p0 * g * b * m1;
        s1 += z1 * b * sa;
        s2 += p2 * g * sa;
    }
    s0 = warp_sum(s0);
    s1 = warp_sum(s1);
    s2 = warp_sum(s2);
    if( lane == 0 ){
        float *de = deta + r * 3 * H + 3 * h;
        de[0] += s0;
        de[1] += s1;
        de[2] += s2;
    }
}
/* c = 0: the slow weights' gradient, dslow_j[h] += gW + gWm + (gn0 / n0) slow, one warp per row */
__global__ void k_ttt_slow_bwd(float *dw0, float *dw1, float *dw2, const float *gW, const float *gWm, const float *gn0,
                               const float *n0, const float *W0, int H, int d)
{
    WARP_ROW(3L * H * d)
    long dd = (long)d * d;
    int hj = (int)(row / d), r = (int)(row % d), h = hj / 3, j = hj % 3;
    float *o = (j == 0 ? dw0 : j == 1 ? dw1 : dw2) + (long)h * dd + (long)r * d;
    const float *g = gW + (long)hj * dd + (long)r * d, *gm = gWm ? gWm + (long)hj * dd + (long)r * d : NULL;
    const float *sl = W0 + (long)hj * dd + (long)r * d;
    float nr = n0[row], f = nr > 0 ? gn0[row] / nr : 0.0f;
    for(int i = lane; i < d; i += 32) o[i] += g[i] + (gm ? gm[i] : 0.0f) + f * sl[i];
}

#endif
