/*
** Device kernels of the CUDA model: the element-wise and row-wise parts of model/kern/ (the .inc files), one
** kernel per loop there (same names with a k_ prefix), and the cuBLAS row-major wrappers.
** Rows are reduced by one warp each (row widths here are 8 .. 8192); sums over rows into a
** parameter gradient go through per-strip partial sums added in a fixed order (no atomics).
*/
#ifndef SPTT_CUDA_KERN_CUH
#define SPTT_CUDA_KERN_CUH

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#define NT 256   /* threads per block of the element-wise kernels */
static inline unsigned nblk(long n) { return (unsigned)((n + NT - 1) / NT); }
/* one warp per row: 8 rows per block of 256 threads */
static inline unsigned wblk(long rows) { return (unsigned)((rows + 7) / 8); }

__device__ __forceinline__ float warp_sum(float v)
{
    for(int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v)
{
    for(int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
/* e^x in IEEE single precision (expf, not the fast intrinsic) */
__device__ __forceinline__ float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float silu(float x) { return x * sigm(x); }
__device__ __forceinline__ float silu1(float x) { float s = sigm(x); return s * (1.0f + x * (1.0f - s)); }
__device__ __forceinline__ float silu2(float x)
{
    float s = sigm(x);
    return s * (1.0f - s) * (2.0f + x * (1.0f - 2.0f * s));
}
__device__ __forceinline__ float softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

#define WARP_ROW(R) \
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; \
    int lane = threadIdx.x & 31; \
    if( row >= (R) ) return;

// ---------------------------------------------------------------------------- element-wise

__global__ void k_fill(float *p, float v, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) p[i] = v;
}
__global__ void k_scale(float *p, float a, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) p[i] *= a;
}
/* y = a*y + b*x */
__global__ void k_axpby(float *y, float a, const float *x, float b, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] = a * y[i] + b * x[i];
}
__global__ void k_add3(float *y, const float *a, const float *b, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] = a[i] + b[i];
}
/* y[i] += x[i] * s[i / per]: each matrix of `per` elements scaled by its own factor */
__global__ void k_add_scaled_blocks(float *y, const float *x, const float *s, long per, long n)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < n ) y[i] += x[i] * s[i / per];
}
__global__ void k_bias(float *out, const float *b, long T, int OC)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i < T * OC ) out[i] += b[i % OC];
}

/* The rotary table (T, half): the angle pos[3 t + axis[j]] freq[j] in double, as the CPU model's
** table (its frequencies come from the host); sine and cosine in double, then rounded to float. */
__global__ void k_rope_table(float *cosT, float *sinT, const int32_t *pos, const double *freq, const int32_t *axis,
                             int T, int half)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)T * half ) return;
    int t = (int)(i / half), j = (int)(i % half);
    double a = (double)pos[3L * t + axis[j]] * freq[j], sn, cs;
    sincos(a, &sn, &cs);
    cosT[i] = (float)cs;
    sinT[i] = (float)sn;
}

/* loads and stores of fp32 or bf16 elements as float (Newton-Schulz's kernels serve both) */
__device__ __forceinline__ float ldf(float v) { return v; }
__device__ __forceinline__ float ldf(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ void stf(float *p, float v) { *p = v; }
__device__ __forceinline__ void stf(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }

/* dst[0, n) = src[0, n) rounded to bf16, to nearest; four elements a thread, with one 16-byte load
** and one 8-byte store where vec (both aligned, n a multiple of 4): the pass then runs at the
** memory's rate without an index division per element. */
__global__ void k_to_bf16_flat(__nv_bfloat16 *dst, const float *src, long n, int vec)
{
    long i = ((long)blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if( i >= n ) return;
    if( vec ){
        float4 v = *(const float4 *)(src + i);
        __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
        uint2 u;
        u.x = *(const unsigned *)&lo;
        u.y = *(const unsigned *)&hi;
        *(uint2 *)(dst + i) = u;
        return;
    }
    for(long j = i; j < i + 4 && j < n; j++) dst[j] = __float2bfloat16_rn(src[j]);
}

/* dst (rows, cols) packed = src (rows, cols; row stride ld) rounded as above: columns over the
** x blocks, rows over y (strided, as rows may pass the grid's y limit) */
__global__ void k_to_bf16_rows(__nv_bfloat16 *dst, const float *src, long rows, int cols, long ld)
{
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if( j >= cols ) return;
    for(long r = blockIdx.y; r < rows; r += gridDim.y) dst[r * cols + j] = __float2bfloat16_rn(src[r * ld + j]);
}

/* the launch for either: a packed source goes through the flat kernel */
static inline void to_bf16(__nv_bfloat16 *dst, const float *src, long rows, int cols, long ld)
{
    if( rows <= 0 || cols <= 0 ) return;
    if( ld == cols || rows == 1 ){
        long n = rows * cols;
        int vec = n % 4 == 0 && ((uintptr_t)src & 15) == 0 && ((uintptr_t)dst & 7) == 0;
        k_to_bf16_flat<<<nblk((n + 3) / 4), NT>>>(dst, src, n, vec);
        return;
    }
    unsigned gy = rows < 65535 ? (unsigned)rows : 65535u;
    k_to_bf16_rows<<<dim3(nblk(cols), gy), NT>>>(dst, src, rows, cols, ld);
}

// ---------------------------------------------------------------------------- column sums
// out[c] += sum_r f(r, c) over R rows of width n, in two passes so that the sum's order is fixed
// (bit-for-bit the same each run, which resuming a killed training run exactly relies on):
// blocks of 32 columns x 8 row strips write one partial sum per (strip, column), then one thread
// per column adds its strips in order. Strips are COLS_ROWS rows or more, at most COLS_PARTS.
#define COLS_ROWS 32
#define COLS_PARTS 1024
/* part[p, c] = sum over strip p's rows of a[r,c] * (b ? b[r,c] : 1) * (rs ? rs[r] : 1) */
__global__ void k_colsum_part(float *part, const float *a, const float *b, const float *rs, long R, int n, long per)
{
    int c = blockIdx.x * 32 + (threadIdx.x & 31);
    long p = (long)blockIdx.y * 8 + (threadIdx.x >> 5), r0 = p * per;
    if( c >= n ) return;
    long r1 = r0 + per < R ? r0 + per : R;
    float s = 0;
#pragma unroll 8   // loads ahead of the adds; the order of the sum is unchanged
    for(long r = r0; r < r1; r++) s += a[r * n + c] * (b ? b[r * n + c] : 1.0f) * (rs ? rs[r] : 1.0f);
    part[p * n + c] = s;
}
/* the same with a warp per column, for many parts: lane l adds parts l, l + 32, ... in order, then
** the lanes' sums are added in warp_sum's fixed tree (one column's 1,024 parts in a single thread
** took 15 us) */
__global__ void k_colsum_fin_w(float *out, const float *part, int nPart, int n)
{
    WARP_ROW(n)
    float s = 0;
    for(int p = lane; p < nPart; p += 32) s += part[(long)p * n + row];
    s = warp_sum(s);
    if( lane == 0 ) out[row] += s;
}
__global__ void k_colsum_fin(float *out, const float *part, int nPart, int n)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if( c >= n ) return;
    float s = 0;
#pragma unroll 8
    for(int p = 0; p < nPart; p++) s += part[(long)p * n + c];
    out[c] += s;
}
/* strips for R rows: a multiple of 8, at most COLS_PARTS; *pPer rows each */
static inline int colsum_parts(long R, long *pPer)
{
    long np = (R + COLS_ROWS - 1) / COLS_ROWS;
    np = np < 1 ? 1 : np > COLS_PARTS ? COLS_PARTS : np;
    np = (np + 7) & ~7L;
    *pPer = (R + np - 1) / np;
    return (int)np;
}

// ---------------------------------------------------------------------------- rows

__global__ void k_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *g, long R, int n, float eps)
{
    WARP_ROW(R)
    const float *xr = x + row * n;
    float ss = 0;
    for(int i = lane; i < n; i += 32) ss += xr[i] * xr[i];
    ss = warp_sum(ss);
    float s = 1.0f / sqrtf(ss / n + eps);
    if( lane == 0 ) rstd[row] = s;
    for(int i = lane; i < n; i += 32) out[row * n + i] = xr[i] * s * g[i];
}
/* dx += rstd (dxhat - xhat mean(dxhat xhat)); the weight gradient is a column sum */
__global__ void k_rmsnorm_bwd(float *dx, const float *dout, const float *x, const float *g, const float *rstd,
                              long R, int n, int acc)
{
    WARP_ROW(R)
    const float *xr = x + row * n, *dr = dout + row * n;
    float s = rstd[row], dot = 0;
    for(int i = lane; i < n; i += 32) dot += dr[i] * g[i] * xr[i] * s;
    dot = warp_sum(dot) / n;
    for(int i = lane; i < n; i += 32){
        float v = s * (dr[i] * g[i] - xr[i] * s * dot);
        dx[row * n + i] = acc ? dx[row * n + i] + v : v;
    }
}
/* The same two for wide rows (n a multiple of 4, at most RN_V 4 NT, 16-byte aligned): one block per
** row, the row held in registers as float4s, so each element is read once, with 16-byte loads. The
** warp-per-row kernels above ran at 1.4-1.6 TB/s on rows of 2048 (a warp walks the row twice, and
** 4096 rows give too few warps to hide the loads' latency). The fwd can also write the output's
** bf16 copy for the product that reads it (o16, else NULL), or that copy alone (out NULL). */
#define RN_V 8
/* four elements of the two: the forward's x s g, the backward's dot terms and its dx update */
__device__ __forceinline__ float4 rn_fwd4(float4 v, float s, float4 g)
{
    float4 o;
    o.x = v.x * s * g.x;
    o.y = v.y * s * g.y;
    o.z = v.z * s * g.z;
    o.w = v.w * s * g.w;
    return o;
}
__device__ __forceinline__ float rn_dot4(float4 d, float4 g, float4 x, float s)
{
    return d.x * g.x * x.x * s + d.y * g.y * x.y * s + d.z * g.z * x.z * s + d.w * g.w * x.w * s;
}
__device__ __forceinline__ float4 rn_bwd4(float4 o, float4 d, float4 g, float4 x, float s, float dot)
{
    o.x += s * (d.x * g.x - x.x * s * dot);
    o.y += s * (d.y * g.y - x.y * s * dot);
    o.z += s * (d.z * g.z - x.z * s * dot);
    o.w += s * (d.w * g.w - x.w * s * dot);
    return o;
}
/* four floats rounded to bf16 into p (8-byte aligned), one store */
__device__ __forceinline__ void st_bf4(__nv_bfloat16 *p, float a, float b, float c, float d)
{
    __nv_bfloat162 lo = __floats2bfloat162_rn(a, b), hi = __floats2bfloat162_rn(c, d);
    uint2 u;
    u.x = *(const unsigned *)&lo;
    u.y = *(const unsigned *)&hi;
    *(uint2 *)p = u;
}
__device__ __forceinline__ float block_sum(float v, float *sh)
{
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31;
    v = warp_sum(v);
    if( lane == 0 ) sh[w] = v;
    __syncthreads();
    v = lane < (int)(blockDim.x >> 5) ? sh[lane] : 0.0f;
    return warp_sum(v);
}
__global__ void k_rmsnorm_fwd_row(float *out, __nv_bfloat16 *o16, float *rstd, const float *x, const float *g, int n,
                                  float eps)
{
    __shared__ float sh[32];
    long row = blockIdx.x;
    int nv = n / 4;
    const float4 *xr = (const float4 *)(x + row * n), *g4 = (const float4 *)g;
    float4 v[RN_V];
    float ss = 0;
#pragma unroll
    for(int k = 0; k < RN_V; k++){
        int j = threadIdx.x + k * blockDim.x;
        if( j < nv ){
            v[k] = xr[j];
            ss += v[k].x * v[k].x + v[k].y * v[k].y + v[k].z * v[k].z + v[k].w * v[k].w;
        }
    }
    ss = block_sum(ss, sh);
    float s = 1.0f / sqrtf(ss / n + eps);
    if( threadIdx.x == 0 ) rstd[row] = s;
    float4 *o4 = out ? (float4 *)(out + row * n) : NULL;
#pragma unroll
    for(int k = 0; k < RN_V; k++){
        int j = threadIdx.x + k * blockDim.x;
        if( j >= nv ) continue;
        float4 o = rn_fwd4(v[k], s, g4[j]);
        if( out ) o4[j] = o;
        if( o16 ) st_bf4(o16 + row * n + 4L * j, o.x, o.y, o.z, o.w);
    }
}
__global__ void k_rmsnorm_bwd_row(float *dx, const float *dout, const float *x, const float *g, const float *rstd, int n,
                                  int acc)
{
    __shared__ float sh[32];
    long row = blockIdx.x;
    int nv = n / 4;
    const float4 *xr = (const float4 *)(x + row * n), *dr = (const float4 *)(dout + row * n), *g4 = (const float4 *)g;
    float4 xv[RN_V], dv[RN_V];
    float s = rstd[row], dot = 0;
#pragma unroll
    for(int k = 0; k < RN_V; k++){
        int j = threadIdx.x + k * blockDim.x;
        if( j < nv ){
            xv[k] = xr[j];
            dv[k] = dr[j];
            dot += rn_dot4(dv[k], g4[j], xv[k], s);
        }
    }
    dot = block_sum(dot, sh) / n;
    float4 *d4 = (float4 *)(dx + row * n);
#pragma unroll
    for(int k = 0; k < RN_V; k++){
        int j = threadIdx.x + k * blockDim.x;
        if( j >= nv ) continue;
        d4[j] = rn_bwd4(acc ? d4[j] : make_float4(0.0f, 0.0f, 0.0f, 0.0f), dv[k], g4[j], xv[k], s, dot);
    }
}
/* Narrower rows (n a multiple of 4, below 1024: the per-head q and k norms of 64, the fast heads'
** output norm of 512) by groups of L lanes, L the largest power of two up to 32 with n >= 4 L, each
** lane holding its float4s in registers (the warp-per-row kernels left 30 of 32 lanes' loads
** 8 bytes apart at n 64 and walked each row twice). Lanes of a row past R compute on zeros, so
** every shuffle has its whole warp. */
#define RS_V 8
template <int L>
__device__ __forceinline__ float group_sum(float v)
{
    for(int o = L / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
template <int L>
__global__ void k_rmsnorm_fwd_sub(float *out, float *rstd, const float *x, const float *g, long R, int n, float eps)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / L;
    int lane = threadIdx.x % L, nv = n / 4, ok = row < R;
    const float4 *xr = (const float4 *)(x + (ok ? row : 0) * n), *g4 = (const float4 *)g;
    float4 v[RS_V];
    float ss = 0;
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( ok && j < nv ){
            v[k] = xr[j];
            ss += v[k].x * v[k].x + v[k].y * v[k].y + v[k].z * v[k].z + v[k].w * v[k].w;
        }
    }
    ss = group_sum<L>(ss);
    if( !ok ) return;
    float s = 1.0f / sqrtf(ss / n + eps);
    if( lane == 0 ) rstd[row] = s;
    float4 *o4 = (float4 *)(out + row * n);
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( j >= nv ) continue;
        o4[j] = rn_fwd4(v[k], s, g4[j]);
    }
}
template <int L>
__global__ void k_rmsnorm_bwd_sub(float *dx, const float *dout, const float *x, const float *g, const float *rstd, long R,
                                  int n, int acc)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / L;
    int lane = threadIdx.x % L, nv = n / 4, ok = row < R;
    long r0 = ok ? row : 0;
    const float4 *xr = (const float4 *)(x + r0 * n), *dr = (const float4 *)(dout + r0 * n), *g4 = (const float4 *)g;
    float4 xv[RS_V], dv[RS_V];
    float s = rstd[r0], dot = 0;
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( ok && j < nv ){
            xv[k] = xr[j];
            dv[k] = dr[j];
            dot += rn_dot4(dv[k], g4[j], xv[k], s);
        }
    }
    dot = group_sum<L>(dot) / n;
    if( !ok ) return;
    float4 *d4 = (float4 *)(dx + row * n);
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( j >= nv ) continue;
        d4[j] = rn_bwd4(acc ? d4[j] : make_float4(0.0f, 0.0f, 0.0f, 0.0f), dv[k], g4[j], xv[k], s, dot);
    }
}
/* the group width for rows of n, 0 where these kernels do not serve them */
static inline int rs_lanes(int n, const void *a, const void *b, const void *c, const void *d)
{
    if( n % 4 || n >= 1024 || (((uintptr_t)a | (uintptr_t)b | (uintptr_t)c | (uintptr_t)d) & 15) ) return 0;
    int L = 32;
    while( L > 1 && n < 4 * L ) L /= 2;
    return n <= 4 * L * RS_V ? L : 0;
}
#define RS_LAUNCH(L, KERN, R, ...) do { switch( L ){     case 32: KERN<32><<<nblk((R) * 32), NT>>>(__VA_ARGS__); break;     case 16: KERN<16><<<nblk((R) * 16), NT>>>(__VA_ARGS__); break;     case 8: KERN<8><<<nblk((R) * 8), NT>>>(__VA_ARGS__); break;     case 4: KERN<4><<<nblk((R) * 4), NT>>>(__VA_ARGS__); break;     case 2: KERN<2><<<nblk((R) * 2), NT>>>(__VA_ARGS__); break;     default: KERN<1><<<nblk(R), NT>>>(__VA_ARGS__); break; } } while(0)

/* 1 where the row kernels serve rows of n at these addresses: from 1024 wide (at 512, with half the
** block idle, they took twice the warp kernels' time) */
static inline int rn_rows(int n, const void *a, const void *b, const void *c)
{
    return n >= 1024 && n % 4 == 0 && n <= RN_V * 4 * NT && (((uintptr_t)a | (uintptr_t)b | (uintptr_t)c) & 15) == 0;
}

/* y = silu(x) / (|silu(x)| + eps) per row of d, nrm the norm: SiLU then the L2 norm in one pass
** (the same operations, so the same bits) */
__global__ void k_silu_l2_fwd(float *y, float *nrm, const float *x, long R, int d, float eps)
{
    WARP_ROW(R)
    const float *xr = x + row * d;
    float ss = 0;
    for(int i = lane; i < d; i += 32){
        float u = silu(xr[i]);
        ss += u * u;
    }
    ss = warp_sum(ss);
    float n = sqrtf(ss), a = 1.0f / (n + eps);
    if( lane == 0 ) nrm[row] = n;
    for(int i = lane; i < d; i += 32) y[row * d + i] = silu(xr[i]) * a;
}
/* silu then L2: x is the pre-activation; dx = (dy/(n+eps) - b s) * silu'(x), s = silu(x) */
__global__ void k_silu_l2_bwd(float *dx, const float *dy, const float *x, const float *nrm, long R, int d, float eps)
{
    WARP_ROW(R)
    const float *xr = x + row * d, *g = dy + row * d;
    float n = nrm[row], a = 1.0f / (n + eps), dot = 0;
    for(int i = lane; i < d; i += 32) dot += silu(xr[i]) * g[i];
    dot = warp_sum(dot);
    float b = n > 0 ? dot / (n * (n + eps) * (n + eps)) : 0.0f;
    for(int i = lane; i < d; i += 32) dx[row * d + i] = (g[i] * a - b * silu(xr[i])) * silu1(xr[i]);
}
/* The same two by groups of L lanes with float4s held in registers (as k_rmsnorm_fwd_sub), SiLU's
** exponential taken once per element (the kernels above take it two and three times) */
template <int L>
__global__ void k_silu_l2_fwd_sub(float *y, float *nrm, const float *x, long R, int d, float eps)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / L;
    int lane = threadIdx.x % L, nv = d / 4, ok = row < R;
    const float4 *xr = (const float4 *)(x + (ok ? row : 0) * d);
    float4 u[RS_V];
    float ss = 0;
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( ok && j < nv ){
            float4 v = xr[j];
            u[k].x = silu(v.x);
            u[k].y = silu(v.y);
            u[k].z = silu(v.z);
            u[k].w = silu(v.w);
            ss += u[k].x * u[k].x + u[k].y * u[k].y + u[k].z * u[k].z + u[k].w * u[k].w;
        }
    }
    ss = group_sum<L>(ss);
    if( !ok ) return;
    float n = sqrtf(ss), a = 1.0f / (n + eps);
    if( lane == 0 ) nrm[row] = n;
    float4 *y4 = (float4 *)(y + row * d);
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( j >= nv ) continue;
        float4 o;
        o.x = u[k].x * a;
        o.y = u[k].y * a;
        o.z = u[k].z * a;
        o.w = u[k].w * a;
        y4[j] = o;
    }
}
__device__ __forceinline__ void silu_l2_bwd1(float x, float g, float a, float b, float *dx)
{
    float sg = sigm(x), sl = x * sg;
    *dx = (g * a - b * sl) * (sg * (1.0f + x * (1.0f - sg)));
}
template <int L>
__global__ void k_silu_l2_bwd_sub(float *dx, const float *dy, const float *x, const float *nrm, long R, int d, float eps)
{
    long row = ((long)blockIdx.x * blockDim.x + threadIdx.x) / L;
    int lane = threadIdx.x % L, nv = d / 4, ok = row < R;
    long r0 = ok ? row : 0;
    const float4 *xr = (const float4 *)(x + r0 * d), *gr = (const float4 *)(dy + r0 * d);
    float4 xv[RS_V], gv[RS_V];
    float n = nrm[r0], a = 1.0f / (n + eps), dot = 0;
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( ok && j < nv ){
            xv[k] = xr[j];
            gv[k] = gr[j];
            dot += silu(xv[k].x) * gv[k].x + silu(xv[k].y) * gv[k].y + silu(xv[k].z) * gv[k].z + silu(xv[k].w) * gv[k].w;
        }
    }
    dot = group_sum<L>(dot);
    if( !ok ) return;
    float b = n > 0 ? dot / (n * (n + eps) * (n + eps)) : 0.0f;
    float4 *d4 = (float4 *)(dx + row * d);
#pragma unroll
    for(int k = 0; k < RS_V; k++){
        int j = lane + k * L;
        if( j >= nv ) continue;
        float4 o;
        silu_l2_bwd1(xv[k].x, gv[k].x, a, b, &o.x);
        silu_l2_bwd1(xv[k].y, gv[k].y, a, b, &o.y);
        silu_l2_bwd1(xv[k].z, gv[k].z, a, b, &o.z);
        silu_l2_bwd1(xv[k].w, gv[k].w, a, b, &o.w);
        d4[j] = o;
    }
}
static inline void silu_l2_fwd(float *y, float *nrm, const float *x, long R, int d, float eps)
{
    if( int L = rs_lanes(d, y, x, NULL, NULL) ) RS_LAUNCH(L, k_silu_l2_fwd_sub, R, y, nrm, x, R, d, eps);
    else k_silu_l2_fwd<<<wblk(R), NT>>>(y, nrm, x, R, d, eps);
}
static inline void silu_l2_bwd(float *dx, const float *dy, const float *x, const float *nrm, long R, int d, float eps)
{
    if( int L = rs_lanes(d, dx, dy, x, NULL) ) RS_LAUNCH(L, k_silu_l2_bwd_sub, R, dx, dy, x, nrm, R, d, eps);
    else k_silu_l2_bwd<<<wblk(R), NT>>>(dx, dy, x, nrm, R, d, eps);
}
/* row-norm y_r = s_r u_r / (|u_r| + eps); y16, where given, y's bf16 copy as well */
__global__ void k_rownorm_fwd(float *y, __nv_bfloat16 *y16, const float *u, const float *s, long R, int n, float eps)
{
    WARP_ROW(R)
    const float *ur = u + row * n;
    float ss = 0;
    for(int i = lane; i < n; i += 32) ss += ur[i] * ur[i];
    ss = warp_sum(ss);
    float a = s[row] / (sqrtf(ss) + eps);
    for(int i = lane; i < n; i += 32){
        float v = ur[i] * a;
        y[row * n + i] = v;
        if( y16 ) y16[row * n + i] = __float2bfloat16_rn(v);
    }
}
/* du = a g - b u (overwrites), ds += dot / e */
__global__ void k_rownorm_bwd(float *du, float *ds, const float *dy, const float *u, const float *s, long R, int n,
                              float eps)
{
    WARP_ROW(R)
    const float *ur = u + row * n, *g = dy + row * n;
    float ss = 0, dot = 0;
    for(int i = lane; i < n; i += 32){ ss += ur[i] * ur[i]; dot += ur[i] * g[i]; }
    ss = warp_sum(ss);
    dot = warp_sum(dot);
    float rn = sqrtf(ss), e = rn + eps;
    float a = s[row] / e, b = rn > 0 ? s[row] * dot / (rn * e * e) : 0.0f;
    for(int i = lane; i < n; i += 32) du[row * n + i] = a * g[i] - b * ur[i];
    if( lane == 0 ) ds[row] += dot / e;
}
__global__ void k_row_norms(float *out, const float *w, long R, int n)
{
    WARP_ROW(R)
    float ss = 0;
    for(int i = lane; i < n; i += 32) ss += w[row * n + i] * w[row * n + i];
    ss = warp_sum(ss);
    if( lane == 0 ) out[row] = sqrtf(ss);
}
/* out[b] = sum of a[b*per .. ] * (bb ? bb[..] : a[..]) over `per` elements: one block per matrix */
/* Per-block dot products out[b] = sum_i a[b per + i] bb[b per + i] (bb NULL: a squared) over nb
** blocks, in two passes: grid (BD_PARTS, nb) partial sums over contiguous parts, then each block's
** parts added in order. One block per matrix had each thread walk a 512 x 512 matrix alone, a
** millisecond-scale latency chain; the parts depend only on per, so the bits do not depend on the GPU. */
#define BD_PARTS 64
template <typename TA>
__global__ void k_block_dot_part(float *part, const TA *a, const float *bb, long per)
{
    __shared__ float sh[32];
    long len = (per + BD_PARTS - 1) / BD_PARTS, i0 = (long)blockIdx.x * len, i1 = i0 + len < per ? i0 + len : per;
    const TA *x = a + (long)blockIdx.y * per;
    const float *y = bb ? bb + (long)blockIdx.y * per : NULL;
    float s = 0;
    for(long i = i0 + threadIdx.x; i < i1; i += blockDim.x) s += ldf(x[i]) * (y ? y[i] : ldf(x[i]));
    s = warp_sum(s);
    if( (threadIdx.x & 31) == 0 ) sh[threadIdx.x >> 5] = s;
    __syncthreads();
    if( threadIdx.x < 32 ){
        s = threadIdx.x < blockDim.x / 32 ? sh[threadIdx.x] : 0.0f;
        s = warp_sum(s);
        if( threadIdx.x == 0 ) part[(long)blockIdx.y * BD_PARTS + blockIdx.x] = s;
    }
}
/* <<<nb, 32>>>: out[b] = the sum of block b's BD_PARTS partial sums */
__global__ void k_block_dot_end(float *out, const float *part)
{
    const float *p = part + (long)blockIdx.x * BD_PARTS;
    float s = p[threadIdx.x] + p[threadIdx.x + 32];
    s = warp_sum(s);
    if( threadIdx.x == 0 ) out[blockIdx.x] = s;
}

// ---------------------------------------------------------------------------- rotary, swiglu

/* rotate-half on the first r dims of nh heads of width hd, rows of stride ld, from x into y (which
** may be x); sign -1: transpose. Columns (head, pair) over the x blocks, positions over y (strided):
** no 64-bit index division per element. */
template <typename TO>
__global__ void k_rope(TO *y, const float *x, const float *cosT, const float *sinT, int T, int nh, int hd, int ld,
                       int r, int half, float sign)
{
    int p = r / 2, k = blockIdx.x * blockDim.x + threadIdx.x;
    if( k >= nh * p ) return;
    int j = k % p, h = k / p;
    for(long t = blockIdx.y; t < T; t += gridDim.y){
        float c = cosT[t * half + j], sn = sign * sinT[t * half + j];
        const float *u = x + t * ld + (long)h * hd;
        TO *v = y + t * ld + (long)h * hd;
        float a = u[j], b = u[j + p];
        stf(v + j, a * c - b * sn);
        stf(v + j + p, b * c + a * sn);
    }
}
/* a (R, F) = silu(g) u for the rows [g u] of gu (R, 2F); a16, where given, a's bf16 copy for the
** product that reads a (a NULL: that copy alone). Columns over the x blocks, rows over y (strided): no index division. */
__global__ void k_swiglu_fwd(float *a, __nv_bfloat16 *a16, const float *gu, long R, int F)
{
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if( k >= F ) return;
    for(long r = blockIdx.y; r < R; r += gridDim.y){
        float v = silu(gu[r * 2 * F + k]) * gu[r * 2 * F + F + k];
        if( a ) a[r * F + k] = v;
        if( a16 ) a16[r * F + k] = __float2bfloat16_rn(v);
    }
}
/* dgu (R, 2F) from da (R, F); dgu16 likewise */
__global__ void k_swiglu_bwd(float *dgu, __nv_bfloat16 *dgu16, const float *da, const float *gu, long R, int F)
{
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if( k >= F ) return;
    for(long r = blockIdx.y; r < R; r += gridDim.y){
        long i = r * 2 * F + k;
        float x = gu[i], u = gu[i + F], s = sigm(x), g = da[r * F + k];
        float dg = g * u * (s * (1.0f + x * (1.0f - s))), du = g * (x * s);
        dgu[i] = dg;
        dgu[i + F] = du;
        if( dgu16 ){
            dgu16[i] = __float2bfloat16_rn(dg);
            dgu16[i + F] = __float2bfloat16_rn(du);
        }
    }
}
/* the grid of the two: F columns, R rows */
static inline dim3 swiglu_grid(long R, int F) { return dim3(nblk(F), R < 65535 ? (unsigned)R : 65535u); }

/* The two on four columns a thread, with 16-byte loads (F a multiple of 4, rows 16-byte aligned),
** the same operations per element: the scalar ones moved 2.5 TB/s at F 8192. */
__global__ void k_swiglu_fwd4(float *a, __nv_bfloat16 *a16, const float *gu, long R, int F)
{
    int k = (blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if( k >= F ) return;
    for(long r = blockIdx.y; r < R; r += gridDim.y){
        float4 x = *(const float4 *)(gu + r * 2 * F + k), u = *(const float4 *)(gu + r * 2 * F + F + k), v;
        v.x = silu(x.x) * u.x;
        v.y = silu(x.y) * u.y;
        v.z = silu(x.z) * u.z;
        v.w = silu(x.w) * u.w;
        if( a ) *(float4 *)(a + r * F + k) = v;
        if( a16 ) st_bf4(a16 + r * F + k, v.x, v.y, v.z, v.w);
    }
}
__device__ __forceinline__ void swiglu_bwd1(float x, float u, float g, float *dg, float *du)
{
    float s = sigm(x);
    *dg = g * u * (s * (1.0f + x * (1.0f - s)));
    *du = g * (x * s);
}
__global__ void k_swiglu_bwd4(float *dgu, __nv_bfloat16 *dgu16, const float *da, const float *gu, long R, int F)
{
    int k = (blockIdx.x * blockDim.x + threadIdx.x) * 4;
    if( k >= F ) return;
    for(long r = blockIdx.y; r < R; r += gridDim.y){
        long i = r * 2 * F + k;
        float4 x = *(const float4 *)(gu + i), u = *(const float4 *)(gu + i + F), g = *(const float4 *)(da + r * F + k);
        float4 dg, du;
        swiglu_bwd1(x.x, u.x, g.x, &dg.x, &du.x);
        swiglu_bwd1(x.y, u.y, g.y, &dg.y, &du.y);
        swiglu_bwd1(x.z, u.z, g.z, &dg.z, &du.z);
        swiglu_bwd1(x.w, u.w, g.w, &dg.w, &du.w);
        *(float4 *)(dgu + i) = dg;
        *(float4 *)(dgu + i + F) = du;
        if( dgu16 ){
            st_bf4(dgu16 + i, dg.x, dg.y, dg.z, dg.w);
            st_bf4(dgu16 + i + F, du.x, du.y, du.z, du.w);
        }
    }
}
static inline void swiglu_fwd(float *a, __nv_bfloat16 *a16, const float *gu, long R, int F)
{
    if( F % 4 == 0 && (((uintptr_t)a | (uintptr_t)gu) & 15) == 0 && ((uintptr_t)a16 & 7) == 0 )
        k_swiglu_fwd4<<<swiglu_grid(R, (F + 3) / 4), NT>>>(a, a16, gu, R, F);
    else
        k_swiglu_fwd<<<swiglu_grid(R, F), NT>>>(a, a16, gu, R, F);
}
static inline void swiglu_bwd(float *dgu, __nv_bfloat16 *dgu16, const float *da, const float *gu, long R, int F)
{
    if( F % 4 == 0 && (((uintptr_t)dgu | (uintptr_t)da | (uintptr_t)gu) & 15) == 0 && ((uintptr_t)dgu16 & 7) == 0 )
        k_swiglu_bwd4<<<swiglu_grid(R, (F + 3) / 4), NT>>>(dgu, dgu16, da, gu, R, F);
    else
        k_swiglu_bwd<<<swiglu_grid(R, F), NT>>>(dgu, dgu16, da, gu, R, F);
}

// ---------------------------------------------------------------------------- embedding, rows

__global__ void k_embed_fwd(float *x, const int32_t *tok, const float *wte, int T, int C, int patchTok)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)T * C ) return;
    long t = i / C;
    int c = (int)(i % C);
    if( tok[t] != patchTok ) x[i] = wte[(long)tok[t] * C + c];
}
/* dwte[utok[u]] += sum of dx's rows ord[seg[u] .. seg[u+1]) in that order (positions of token
** utok[u], ascending): no atomics, so the sum's order is fixed. Block (u, column tile). */
__global__ void k_embed_bwd(float *dwte, const float *dx, const int32_t *ord, const int32_t *seg, const int32_t *utok, int C)
{
    int u = blockIdx.x, c = blockIdx.y * blockDim.x + threadIdx.x;
    if( c >= C ) return;
    float s = 0;
    for(int j = seg[u]; j < seg[u + 1]; j++) s += dx[(long)ord[j] * C + c];
    dwte[(long)utok[u] * C + c] += s;
}
/* dst[r] = src[idx[r]] (gather) or dst[idx[r]] = src[r] (scatter), rows of width C */
__global__ void k_gather_rows(float *dst, const float *src, const int32_t *idx, int n, int C)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)n * C ) return;
    long r = i / C;
    dst[i] = src[(long)idx[r] * C + i % C];
}
__global__ void k_scatter_rows(float *dst, const float *src, const int32_t *idx, int n, int C)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= (long)n * C ) return;
    long r = i / C;
    dst[(long)idx[r] * C + i % C] = src[i];
}

// ---------------------------------------------------------------------------- cross-entropy

/* one block per row: lse[r], and loss[r] = lse - logit[tgt] */
__global__ void k_ce_fwd(float *lse, float *loss, const float *logits, const int32_t *tgt, int V)
{
    __shared__ float sh[32];
    __shared__ float bc;
    const float *l = logits + (long)blockIdx.x * V;
    float mx = -INFINITY;
    for(int i = threadIdx.x; i < V; i += blockDim.x) mx = fmaxf(mx, l[i]);
    mx = warp_max(mx);
    if( (threadIdx.x & 31) == 0 ) sh[threadIdx.x >> 5] = mx;
    __syncthreads();
    if( threadIdx.x < 32 ){
        float v = threadIdx.x < blockDim.x / 32 ? sh[threadIdx.x] : -INFINITY;
        v = warp_max(v);
        if( threadIdx.x == 0 ) bc = v;
    }
    __syncthreads();
    mx = bc;
    __syncthreads();
    float s = 0;
    for(int i = threadIdx.x; i < V; i += blockDim.x) s += expf(l[i] - mx);
    s = warp_sum(s);
    if( (threadIdx.x & 31) == 0 ) sh[threadIdx.x >> 5] = s;
    __syncthreads();
    if( threadIdx.x < 32 ){
        float v = threadIdx.x < blockDim.x / 32 ? sh[threadIdx.x] : 0.0f;
        v = warp_sum(v);
        if( threadIdx.x == 0 ){
            float ls = mx + logf(v);
            lse[blockIdx.x] = ls;
            loss[blockIdx.x] = ls - l[tgt[blockIdx.x]];
        }
    }
}
__global__ void k_ce_bwd(float *d, const float *lse, const int32_t *tgt, long n, int V, float w)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n * V ) return;
    long r = i / V;
    int k = (int)(i % V);
    float v = w * expf(d[i] - lse[r]);
    if( k == tgt[r] ) v -= w;
    d[i] = v;
}

// ---------------------------------------------------------------------------- attention (strips)

/* S (NH, nq, nk) scores of queries i0.. against keys j0.., rows of stride ld: in place to
** probabilities, each row's log-sum-exp to lse (T, NH). Exponentials are stored, then scaled: one
** exp per score, as on the CPU. One warp per (head, row); keys outside the window get 0. */
__global__ void k_att_probs(float *S, float *lse, int i0, int nq, int j0, int nk, int ld, int W, int NH)
{
    long wr = ((long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if( wr >= (long)NH * nq ) return;
    int h = (int)(wr / nq), r = (int)(wr % nq), i = i0 + r;
    int lo = (i - W + 1 > 0 ? i - W + 1 : 0) - j0, hi = i - j0;
    float *row = S + ((long)h * nq + r) * ld;
    float mx = -INFINITY;
    for(int j = lo + lane; j <= hi; j += 32) mx = fmaxf(mx, row[j]);
    mx = warp_max(mx);
    float s = 0;
    for(int j = lo + lane; j <= hi; j += 32){
        float e = expf(row[j] - mx);
        row[j] = e;
        s += e;
    }
    s = warp_sum(s);
    float inv = 1.0f / s;
    for(int j = lane; j < nk; j += 32) row[j] = (j >= lo && j <= hi) ? row[j] * inv : 0.0f;
    if( lane == 0 ) lse[(long)i * NH + h] = mx + logf(s);
}
/* Drow (T, NH) = rowsum(dout . out) per head */
__global__ void k_att_drow(float *Dr, const float *dout, const float *out, long T, int NH, int D)
{
    WARP_ROW(T * NH)
    const float *o = out + row * D, *g = dout + row * D;   // (t, h) rows are contiguous in (T, NH*D)
    float s = 0;
    for(int d = lane; d < D; d += 32) s += o[d] * g[d];
    s = warp_sum(s);
    if( lane == 0 ) Dr[row] = s;
}
/* The backward's strip in one pass: P = exp(S - lse) in the window (0 outside), over S in place,
** and dS = P (dS - Drow) scale, with dS holding dout v^T on entry. One warp per (head, row). */
__global__ void k_att_probs_ds(float *S, float *dS, const float *lse, const float *Dr, int i0, int nq, int j0, int nk,
                               int ld, int W, int NH, float scale)
{
    long wr = ((long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if( wr >= (long)NH * nq ) return;
    int h = (int)(wr / nq), r = (int)(wr % nq), i = i0 + r;
    int lo = (i - W + 1 > 0 ? i - W + 1 : 0) - j0, hi = i - j0;
    float *row = S + ((long)h * nq + r) * ld, *drow = dS + ((long)h * nq + r) * ld;
    float l = lse[(long)i * NH + h], dr = Dr[(long)i * NH + h];
    for(int j = lane; j < nk; j += 32){
        float p = (j >= lo && j <= hi) ? expf(row[j] - l) : 0.0f;
        row[j] = p;
        drow[j] = p * (drow[j] - dr) * scale;
    }
}

#endif
