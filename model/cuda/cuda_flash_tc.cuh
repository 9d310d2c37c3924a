/*
** Fused attention on the tensor cores, bf16 operands (the bf16 mode's attention where the head
** width is 32 or 64; sptt_cuda_set_flash(m, SPTT_CUDA_ATT_TC)). The scheme of FlashAttention-2:
** a warp owns 16 query rows (or, in the dK/dV kernel, 16 key rows); its score tile, the online
** softmax state and the output accumulators stay in registers for the whole key loop, and the
** probabilities go from the score accumulators straight into the next product's operand
** registers (the accumulator layout of two adjacent 16 x 8 tiles is the operand layout of one
** 16 x 16 tile). Only the streamed operand tiles pass through shared memory: two buffers each,
** filled by cp.async while the other one is multiplied.
**
** Products are mma.sync m16n8k16 bf16 x bf16 -> fp32. Q, K, V and dO arrive as bf16 copies
** (flash_tc_fwd/_bwd round the fp32 tensors first); P and dS are rounded to bf16 for their
** products; the softmax statistics, lse, Drow and every accumulator stay fp32. So the error is
** that of bf16 operands with fp32 sums, the bf16 mode's premise.
**
** Layouts and conventions as cuda_flash.cuh: q (T, NH*D), k and v (T, KV*D), query head h reads
** KV head h / (NH/KV), lse (T, NH) natural log-sum-exp of the scaled scores, query i sees keys j
** with i - W < j <= i. Tiles are 64 rows aligned to multiples of 64; only tiles that cross the
** diagonal, the window's edge or T test each element.
**
** Backward without atomics, as the SIMT kernels: dK and dV per key tile (looping over the query
** heads of its KV head and the query tiles that see it, in a fixed order), dQ per query tile.
** Every sum runs in an order fixed by the shape, so a step repeats bit for bit.
*/
#ifndef SPTT_CUDA_FLASH_TC_CUH
#define SPTT_CUDA_FLASH_TC_CUH

#include "cuda_kern.cuh"

#include <cuda_bf16.h>

#define TC_B  64    /* rows of a tile */
#define TC_NT 128   /* threads of a block: 4 warps of 16 rows */

typedef __nv_bfloat16 tc_bf;

__device__ __forceinline__ unsigned tc_sa(const void *p) { return (unsigned)__cvta_generic_to_shared(p); }

/* 16 bytes global -> shared, asynchronous; ok = 0 writes zeros (rows past T: no garbage enters a
** product, where 0 x NaN would poison a sum) */
__device__ __forceinline__ void tc_cp16(void *dst, const void *src, int ok)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(tc_sa(dst)), "l"(src), "r"(ok ? 16 : 0)
                 : "memory");
}
__device__ __forceinline__ void tc_commit(void) { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
/* all but the newest group landed */
__device__ __forceinline__ void tc_wait1(void) { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }

/* four 8 x 8 bf16 matrices; lanes 8m..8m+7 give the row addresses of matrix m */
__device__ __forceinline__ void tc_ldm(unsigned r[4], const tc_bf *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(tc_sa(p))
                 : "memory");
}
/* the same, each matrix transposed */
__device__ __forceinline__ void tc_ldmt(unsigned r[4], const tc_bf *p)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(tc_sa(p))
                 : "memory");
}

/* c (16 x 8) += a (16 x 16, row) b (16 x 8, col) */
__device__ __forceinline__ void tc_mma(float c[4], const unsigned a[4], unsigned b0, unsigned b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* two floats as a bf16 pair, the lower column in the lower half (the operand registers' order) */
__device__ __forceinline__ unsigned tc_pack(float lo, float hi)
{
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned *>(&v);
}

/* the operand fragment (16 x 16) of tile kk from the accumulators of 16 x 8 tiles 2kk, 2kk + 1 */
__device__ __forceinline__ void tc_frag(unsigned a[4], const float s0[4], const float s1[4])
{
    a[0] = tc_pack(s0[0], s0[1]);
    a[1] = tc_pack(s0[2], s0[3]);
    a[2] = tc_pack(s1[0], s1[1]);
    a[3] = tc_pack(s1[2], s1[3]);
}

/* Shared-memory tiles are 64 rows of D + 8 bf16: the 16-byte pad moves each row four banks on,
** so the eight row addresses of an ldmatrix (and the 32-bit fragment reads) hit distinct banks. */
template <int D>
__device__ __forceinline__ void tc_tile(tc_bf *dst, const tc_bf *src, long ld, int r0, int n)
{
    constexpr int CPR = D / 8;   // 16-byte pieces a row
    for(int e = threadIdx.x; e < TC_B * CPR; e += TC_NT){
        int r = e / CPR, c = (e % CPR) * 8, ok = r0 + r < n;
        tc_cp16(dst + r * (D + 8) + c, src + (long)(ok ? r0 + r : 0) * ld + c, ok);
    }
}

__device__ __forceinline__ int tc_sees(int i, int j, int W, int T) { return i < T && j <= i && i - j < W; }

/* whether every (query, key) pair of the tiles at i0, j0 is visible (no element test needed) */
__device__ __forceinline__ int tc_whole(int i0, int j0, int W, int T)
{
    return j0 + TC_B - 1 <= i0 && i0 + TC_B - 1 - j0 < W && i0 + TC_B <= T;
}

#define TC_LOG2E 1.4426950408889634f
#define TC_LN2   0.6931471805599453f

/* fp32 -> bf16, n a multiple of 4 */
__global__ void k_tc_round(tc_bf *dst, const float *src, long n4)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n4 ) return;
    float4 x = reinterpret_cast<const float4 *>(src)[i];
    __nv_bfloat162 a = __floats2bfloat162_rn(x.x, x.y), b = __floats2bfloat162_rn(x.z, x.w);
    reinterpret_cast<__nv_bfloat162 *>(dst)[2 * i] = a;
    reinterpret_cast<__nv_bfloat162 *>(dst)[2 * i + 1] = b;
}

/* Forward: grid (ceil(T/64), NH). Softmax in base 2 (scores times scale log2 e), so each
** probability is one exp2; lse goes out in natural log. */
template <int D>
__global__ void __launch_bounds__(TC_NT) k_tc_fwd(float *out, float *lse, const tc_bf *q, const tc_bf *k,
                                                  const tc_bf *v, int T, int NH, int KV, int W, float scale)
{
    constexpr int LD = D + 8, KT = D / 16, DT = D / 8, TS = TC_B * LD;
    extern __shared__ __align__(16) unsigned char tc_smem[];
    tc_bf *Qs = reinterpret_cast<tc_bf *>(tc_smem), *Ks = Qs + TS, *Vs = Ks + 2 * TS;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
    int i0 = blockIdx.x * TC_B, h = blockIdx.y, kvh = h / (NH / KV);
    long QD = (long)NH * D, KD = (long)KV * D;
    const tc_bf *kh = k + (long)kvh * D, *vh = v + (long)kvh * D;
    int jf = (i0 - W + 1 > 0 ? i0 - W + 1 : 0) & ~(TC_B - 1), nt = (i0 - jf) / TC_B + 1;
    tc_tile<D>(Qs, q + (long)h * D, QD, i0, T);
    tc_tile<D>(Ks, kh, KD, jf, T);
    tc_tile<D>(Vs, vh, KD, jf, T);
    tc_commit();
    float o[DT][4], mx[2] = { -INFINITY, -INFINITY }, l[2] = { 0, 0 }, c2 = scale * TC_LOG2E;
    for(int d = 0; d < DT; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0;
    unsigned qf[KT][4];
    int ri = i0 + 16 * w + g;   // this thread's rows: ri, ri + 8
    for(int it = 0; it < nt; it++){
        int j0 = jf + it * TC_B, b = it & 1;
        if( it + 1 < nt ){
            tc_tile<D>(Ks + (b ^ 1) * TS, kh, KD, j0 + TC_B, T);
            tc_tile<D>(Vs + (b ^ 1) * TS, vh, KD, j0 + TC_B, T);
        }
        tc_commit();   // empty on the last pass: the wait below then still means "this tile"
        tc_wait1();
        __syncthreads();
        if( it == 0 )
            for(int kk = 0; kk < KT; kk++) tc_ldm(qf[kk], Qs + (16 * w + lr + 8 * (lm & 1)) * LD + 16 * kk + 8 * (lm >> 1));
        const tc_bf *Kb = Ks + b * TS, *Vb = Vs + b * TS;
        float s[8][4];
        for(int n = 0; n < 8; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0;
        for(int kk = 0; kk < KT; kk++)
            for(int np = 0; np < 4; np++){
                unsigned r[4];
                tc_ldm(r, Kb + (16 * np + lr + 8 * (lm >> 1)) * LD + 16 * kk + 8 * (lm & 1));
                tc_mma(s[2 * np], qf[kk], r[0], r[1]);
                tc_mma(s[2 * np + 1], qf[kk], r[2], r[3]);
            }
        int whole = tc_whole(i0, j0, W, T);
        float mn[2] = { mx[0], mx[1] };
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++){
                float x = s[n][e] * c2;
                if( !whole && !tc_sees(ri + 8 * (e >> 1), j0 + 8 * n + 2 * t + (e & 1), W, T) ) x = -INFINITY;
                s[n][e] = x;
                mn[e >> 1] = fmaxf(mn[e >> 1], x);
            }
        float corr[2], base[2], ls[2] = { 0, 0 };
        for(int r = 0; r < 2; r++){
            mn[r] = fmaxf(mn[r], __shfl_xor_sync(0xffffffffu, mn[r], 1));
            mn[r] = fmaxf(mn[r], __shfl_xor_sync(0xffffffffu, mn[r], 2));
            base[r] = mn[r] == -INFINITY ? 0.0f : mn[r];   // a row with nothing seen yet: p = 0, no NaN
            corr[r] = exp2f(mx[r] - base[r]);
            mx[r] = mn[r];
        }
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++){
                float p = exp2f(s[n][e] - base[e >> 1]);
                s[n][e] = p;
                ls[e >> 1] += p;
            }
        // l stays a per-thread partial sum (corr is the same on the four threads of a row)
        for(int r = 0; r < 2; r++) l[r] = l[r] * corr[r] + ls[r];
        for(int d = 0; d < DT; d++){
            o[d][0] *= corr[0]; o[d][1] *= corr[0];
            o[d][2] *= corr[1]; o[d][3] *= corr[1];
        }
        for(int kk = 0; kk < TC_B / 16; kk++){
            unsigned pa[4];
            tc_frag(pa, s[2 * kk], s[2 * kk + 1]);
            for(int dp = 0; dp < D / 16; dp++){
                unsigned r[4];
                tc_ldmt(r, Vb + (16 * kk + lr + 8 * (lm & 1)) * LD + 16 * dp + 8 * (lm >> 1));
                tc_mma(o[2 * dp], pa, r[0], r[1]);
                tc_mma(o[2 * dp + 1], pa, r[2], r[3]);
            }
        }
        __syncthreads();   // the next pass refills this buffer's twin... and the one after, this one
    }
    for(int r = 0; r < 2; r++){
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
        int i = ri + 8 * r;
        if( i >= T ) continue;
        float inv = 1.0f / l[r];   // l >= 1: key i itself is always seen
        float *orow = out + (long)i * QD + (long)h * D;
        for(int d = 0; d < DT; d++)
            *reinterpret_cast<float2 *>(orow + 8 * d + 2 * t) = make_float2(o[d][2 * r] * inv, o[d][2 * r + 1] * inv);
        if( t == 0 ) lse[(long)i * NH + h] = (mx[r] + log2f(l[r])) * TC_LN2;
    }
}

/* dQ (accumulated) per query tile: grid (ceil(T/64), NH). A warp's 16 rows: S = Q K^T and
** dP = dO V^T into registers, P = exp(S - lse), dS = P (dP - Drow) scale, dQ += dS K. */
template <int D>
__global__ void __launch_bounds__(TC_NT) k_tc_bwd_q(float *dq, const tc_bf *dout, const tc_bf *q, const tc_bf *k,
                                                    const tc_bf *v, const float *lse, const float *Dr, int T, int NH,
                                                    int KV, int W, float scale)
{
    constexpr int LD = D + 8, KT = D / 16, DT = D / 8, TS = TC_B * LD;
    extern __shared__ __align__(16) unsigned char tc_smem[];
    tc_bf *Qs = reinterpret_cast<tc_bf *>(tc_smem), *Os = Qs + TS, *Ks = Os + TS, *Vs = Ks + 2 * TS;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
    int i0 = blockIdx.x * TC_B, h = blockIdx.y, kvh = h / (NH / KV);
    long QD = (long)NH * D, KD = (long)KV * D;
    const tc_bf *kh = k + (long)kvh * D, *vh = v + (long)kvh * D;
    int jf = (i0 - W + 1 > 0 ? i0 - W + 1 : 0) & ~(TC_B - 1), nt = (i0 - jf) / TC_B + 1;
    tc_tile<D>(Qs, q + (long)h * D, QD, i0, T);
    tc_tile<D>(Os, dout + (long)h * D, QD, i0, T);
    tc_tile<D>(Ks, kh, KD, jf, T);
    tc_tile<D>(Vs, vh, KD, jf, T);
    tc_commit();
    int ri = i0 + 16 * w + g;
    float c2 = scale * TC_LOG2E, l2[2], dr[2], a[DT][4];
    for(int r = 0; r < 2; r++){
        int i = ri + 8 * r;
        l2[r] = i < T ? lse[(long)i * NH + h] * TC_LOG2E : 0.0f;
        dr[r] = i < T ? Dr[(long)i * NH + h] : 0.0f;
    }
    for(int d = 0; d < DT; d++) a[d][0] = a[d][1] = a[d][2] = a[d][3] = 0;
    unsigned qf[KT][4], of[KT][4];
    for(int it = 0; it < nt; it++){
        int j0 = jf + it * TC_B, b = it & 1;
        if( it + 1 < nt ){
            tc_tile<D>(Ks + (b ^ 1) * TS, kh, KD, j0 + TC_B, T);
            tc_tile<D>(Vs + (b ^ 1) * TS, vh, KD, j0 + TC_B, T);
        }
        tc_commit();
        tc_wait1();
        __syncthreads();
        if( it == 0 )
            for(int kk = 0; kk < KT; kk++){
                int off = (16 * w + lr + 8 * (lm & 1)) * LD + 16 * kk + 8 * (lm >> 1);
                tc_ldm(qf[kk], Qs + off);
                tc_ldm(of[kk], Os + off);
            }
        const tc_bf *Kb = Ks + b * TS, *Vb = Vs + b * TS;
        float s[8][4], dp[8][4];
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++) s[n][e] = dp[n][e] = 0;
        for(int kk = 0; kk < KT; kk++)
            for(int np = 0; np < 4; np++){
                unsigned r[4];
                int off = (16 * np + lr + 8 * (lm >> 1)) * LD + 16 * kk + 8 * (lm & 1);
                tc_ldm(r, Kb + off);
                tc_mma(s[2 * np], qf[kk], r[0], r[1]);
                tc_mma(s[2 * np + 1], qf[kk], r[2], r[3]);
                tc_ldm(r, Vb + off);
                tc_mma(dp[2 * np], of[kk], r[0], r[1]);
                tc_mma(dp[2 * np + 1], of[kk], r[2], r[3]);
            }
        int whole = tc_whole(i0, j0, W, T);
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++){
                int r = e >> 1;
                float p = whole || tc_sees(ri + 8 * r, j0 + 8 * n + 2 * t + (e & 1), W, T)
                              ? exp2f(s[n][e] * c2 - l2[r]) : 0.0f;
                s[n][e] = p * (dp[n][e] - dr[r]) * scale;
            }
        for(int kk = 0; kk < TC_B / 16; kk++){
            unsigned da[4];
            tc_frag(da, s[2 * kk], s[2 * kk + 1]);
            for(int d2 = 0; d2 < D / 16; d2++){
                unsigned r[4];
                tc_ldmt(r, Kb + (16 * kk + lr + 8 * (lm & 1)) * LD + 16 * d2 + 8 * (lm >> 1));
                tc_mma(a[2 * d2], da, r[0], r[1]);
                tc_mma(a[2 * d2 + 1], da, r[2], r[3]);
            }
        }
        __syncthreads();
    }
    for(int r = 0; r < 2; r++){
        int i = ri + 8 * r;
        if( i >= T ) continue;
        float *row = dq + (long)i * QD + (long)h * D;
        for(int d = 0; d < DT; d++){
            float2 *p2 = reinterpret_cast<float2 *>(row + 8 * d + 2 * t), x = *p2;
            x.x += a[d][2 * r];
            x.y += a[d][2 * r + 1];
            *p2 = x;
        }
    }
}

/* dK, dV (accumulated) per key tile of one KV head: grid (ceil(T/64), KV). A warp's 16 rows are
** keys: S^T = K Q^T and dP^T = V dO^T, P^T and dS^T with lse and Drow per column (query),
** dV += P^T dO, dK += dS^T Q. The passes run over (query head of the group, query tile) in order. */
template <int D>
__global__ void __launch_bounds__(TC_NT) k_tc_bwd_kv(float *dk, float *dv, const tc_bf *dout, const tc_bf *q,
                                                     const tc_bf *k, const tc_bf *v, const float *lse, const float *Dr,
                                                     int T, int NH, int KV, int W, float scale)
{
    constexpr int LD = D + 8, KT = D / 16, DT = D / 8, TS = TC_B * LD;
    extern __shared__ __align__(16) unsigned char tc_smem[];
    tc_bf *Ks = reinterpret_cast<tc_bf *>(tc_smem), *Vs = Ks + TS, *Qs = Vs + TS, *Os = Qs + 2 * TS;
    float *Ls = reinterpret_cast<float *>(Os + 2 * TS), *Rs = Ls + 2 * TC_B;   // two buffers of 64 each
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3, lr = lane & 7, lm = lane >> 3;
    int j0 = blockIdx.x * TC_B, kvh = blockIdx.y, grp = NH / KV;
    long QD = (long)NH * D, KD = (long)KV * D;
    long ilast = (long)j0 + TC_B - 1 + W - 1;
    int iend = ilast < T - 1 ? (int)ilast : T - 1, nqt = (iend - j0) / TC_B + 1, nt = grp * nqt;
    tc_tile<D>(Ks, k + (long)kvh * D, KD, j0, T);
    tc_tile<D>(Vs, v + (long)kvh * D, KD, j0, T);
    // pass it: query head kvh grp + it / nqt, query tile j0 + 64 (it % nqt)
    tc_tile<D>(Qs, q + (long)kvh * grp * D, QD, j0, T);
    tc_tile<D>(Os, dout + (long)kvh * grp * D, QD, j0, T);
    for(int e = threadIdx.x; e < TC_B; e += TC_NT){
        int i = j0 + e, h = kvh * grp;
        Ls[e] = i < T ? lse[(long)i * NH + h] * TC_LOG2E : 0.0f;
        Rs[e] = i < T ? Dr[(long)i * NH + h] : 0.0f;
    }
    tc_commit();
    int rj = j0 + 16 * w + g;   // this thread's keys: rj, rj + 8
    float c2 = scale * TC_LOG2E, gk[DT][4], gv[DT][4];
    for(int d = 0; d < DT; d++)
        for(int e = 0; e < 4; e++) gk[d][e] = gv[d][e] = 0;
    unsigned kf[KT][4], vf[KT][4];
    for(int it = 0; it < nt; it++){
        int i0 = j0 + (it % nqt) * TC_B, b = it & 1;
        if( it + 1 < nt ){
            int h1 = kvh * grp + (it + 1) / nqt, i1 = j0 + ((it + 1) % nqt) * TC_B;
            tc_tile<D>(Qs + (b ^ 1) * TS, q + (long)h1 * D, QD, i1, T);
            tc_tile<D>(Os + (b ^ 1) * TS, dout + (long)h1 * D, QD, i1, T);
            for(int e = threadIdx.x; e < TC_B; e += TC_NT){
                int i = i1 + e;
                Ls[(b ^ 1) * TC_B + e] = i < T ? lse[(long)i * NH + h1] * TC_LOG2E : 0.0f;
                Rs[(b ^ 1) * TC_B + e] = i < T ? Dr[(long)i * NH + h1] : 0.0f;
            }
        }
        tc_commit();
        tc_wait1();
        __syncthreads();
        if( it == 0 )
            for(int kk = 0; kk < KT; kk++){
                int off = (16 * w + lr + 8 * (lm & 1)) * LD + 16 * kk + 8 * (lm >> 1);
                tc_ldm(kf[kk], Ks + off);
                tc_ldm(vf[kk], Vs + off);
            }
        const tc_bf *Qb = Qs + b * TS, *Ob = Os + b * TS;
        const float *Lb = Ls + b * TC_B, *Rb = Rs + b * TC_B;
        float s[8][4], dp[8][4];
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++) s[n][e] = dp[n][e] = 0;
        for(int kk = 0; kk < KT; kk++)
            for(int np = 0; np < 4; np++){
                unsigned r[4];
                int off = (16 * np + lr + 8 * (lm >> 1)) * LD + 16 * kk + 8 * (lm & 1);
                tc_ldm(r, Qb + off);
                tc_mma(s[2 * np], kf[kk], r[0], r[1]);
                tc_mma(s[2 * np + 1], kf[kk], r[2], r[3]);
                tc_ldm(r, Ob + off);
                tc_mma(dp[2 * np], vf[kk], r[0], r[1]);
                tc_mma(dp[2 * np + 1], vf[kk], r[2], r[3]);
            }
        int whole = tc_whole(i0, j0, W, T);
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++){
                int c = 8 * n + 2 * t + (e & 1);
                float p = whole || tc_sees(i0 + c, rj + 8 * (e >> 1), W, T) ? exp2f(s[n][e] * c2 - Lb[c]) : 0.0f;
                s[n][e] = p;
                dp[n][e] = p * (dp[n][e] - Rb[c]) * scale;
            }
        for(int kk = 0; kk < TC_B / 16; kk++){
            unsigned pa[4], da[4];
            tc_frag(pa, s[2 * kk], s[2 * kk + 1]);
            tc_frag(da, dp[2 * kk], dp[2 * kk + 1]);
            for(int d2 = 0; d2 < D / 16; d2++){
                unsigned r[4];
                int off = (16 * kk + lr + 8 * (lm & 1)) * LD + 16 * d2 + 8 * (lm >> 1);
                tc_ldmt(r, Ob + off);
                tc_mma(gv[2 * d2], pa, r[0], r[1]);
                tc_mma(gv[2 * d2 + 1], pa, r[2], r[3]);
                tc_ldmt(r, Qb + off);
                tc_mma(gk[2 * d2], da, r[0], r[1]);
                tc_mma(gk[2 * d2 + 1], da, r[2], r[3]);
            }
        }
        __syncthreads();
    }
    for(int r = 0; r < 2; r++){
        int j = rj + 8 * r;
        if( j >= T ) continue;
        float *krow = dk + (long)j * KD + (long)kvh * D, *vrow = dv + (long)j * KD + (long)kvh * D;
        for(int d = 0; d < DT; d++){
            float2 *pk = reinterpret_cast<float2 *>(krow + 8 * d + 2 * t), *pv = reinterpret_cast<float2 *>(vrow + 8 * d + 2 * t);
            float2 xk = *pk, xv = *pv;
            xk.x += gk[d][2 * r]; xk.y += gk[d][2 * r + 1];
            xv.x += gv[d][2 * r]; xv.y += gv[d][2 * r + 1];
            *pk = xk;
            *pv = xv;
        }
    }
}

template <int D>
static size_t tc_tiles_bytes(int n) { return sizeof(tc_bf) * (size_t)n * TC_B * (D + 8); }

static int tc_head_dim(int D) { return D == 32 || D == 64; }

/* rounds n floats (a multiple of 4) to bf16 */
static void tc_round(tc_bf *dst, const float *src, long n)
{
    long n4 = n / 4;
    k_tc_round<<<(unsigned)((n4 + NT - 1) / NT), NT>>>(dst, src, n4);
}

template <int D>
static void tc_fwd_d(float *out, float *lse, const tc_bf *q, const tc_bf *k, const tc_bf *v, int T, int NH, int KV,
                     int W, float scale)
{
    size_t sm = tc_tiles_bytes<D>(5);   // Q, K x 2, V x 2
    cudaFuncSetAttribute(k_tc_fwd<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);
    k_tc_fwd<D><<<dim3((unsigned)((T + TC_B - 1) / TC_B), (unsigned)NH), TC_NT, sm>>>(out, lse, q, k, v, T, NH, KV, W,
                                                                                     scale);
}

template <int D>
static void tc_bwd_d(float *dq, float *dk, float *dv, const tc_bf *dout, const tc_bf *q, const tc_bf *k, const tc_bf *v,
                     const float *lse, const float *Dr, int T, int NH, int KV, int W, float scale)
{
    size_t s1 = tc_tiles_bytes<D>(6) + sizeof(float) * 4 * TC_B, s2 = tc_tiles_bytes<D>(6);
    cudaFuncSetAttribute(k_tc_bwd_kv<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)s1);
    cudaFuncSetAttribute(k_tc_bwd_q<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)s2);
    unsigned nb = (unsigned)((T + TC_B - 1) / TC_B);
    k_tc_bwd_kv<D><<<dim3(nb, (unsigned)KV), TC_NT, s1>>>(dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    k_tc_bwd_q<D><<<dim3(nb, (unsigned)NH), TC_NT, s2>>>(dq, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
}

/* Forward from fp32 q, k, v: rounds them into bf (T (NH + 2 KV) D bf16), then the kernel.
** 0 where D has no instantiation (the caller keeps its other path). */
static int flash_tc_fwd(tc_bf *bf, float *out, float *lse, const float *q, const float *k, const float *v, int T,
                        int NH, int KV, int D, int W, float scale)
{
    if( !tc_head_dim(D) ) return 0;
    long nq = (long)T * NH * D, nk = (long)T * KV * D;
    tc_bf *qb = bf, *kb = qb + nq, *vb = kb + nk;
    tc_round(qb, q, nq);
    tc_round(kb, k, nk);
    tc_round(vb, v, nk);
    if( D == 32 ) tc_fwd_d<32>(out, lse, qb, kb, vb, T, NH, KV, W, scale);
    else tc_fwd_d<64>(out, lse, qb, kb, vb, T, NH, KV, W, scale);
    return 1;
}

/* Backward (accumulates dq, dk, dv); bf holds T (2 NH + 2 KV) D bf16; Dr = rowsum(dO . O) */
static int flash_tc_bwd(tc_bf *bf, float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k,
                        const float *v, const float *lse, const float *Dr, int T, int NH, int KV, int D, int W,
                        float scale)
{
    if( !tc_head_dim(D) ) return 0;
    long nq = (long)T * NH * D, nk = (long)T * KV * D;
    tc_bf *qb = bf, *kb = qb + nq, *vb = kb + nk, *ob = vb + nk;
    tc_round(qb, q, nq);
    tc_round(kb, k, nk);
    tc_round(vb, v, nk);
    tc_round(ob, dout, nq);
    if( D == 32 ) tc_bwd_d<32>(dq, dk, dv, ob, qb, kb, vb, lse, Dr, T, NH, KV, W, scale);
    else tc_bwd_d<64>(dq, dk, dv, ob, qb, kb, vb, lse, Dr, T, NH, KV, W, scale);
    return 1;
}

#endif
