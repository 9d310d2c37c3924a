/*
** Fused attention on the tensor cores: bf16 operands in bf16 mode, TF32 operands in TF32 mode
** (head widths 32 and 64; sptt_cuda_set_flash(m, SPTT_CUDA_ATT_TC), the default). The scheme of
** FlashAttention-2: a warp owns 16 query rows (or, in the dK/dV kernel, 16 key rows); its score
** tile, the online softmax state and the output accumulators stay in registers for the whole
** key loop, and the probabilities go from the score accumulators straight into the next
** product's operand registers. Only the streamed operand tiles pass through shared memory: two
** buffers each, filled by cp.async while the other one is multiplied.
**
** The kernels are written once over an operand policy (tc_bf16, tc_tf32) that supplies the
** element type and three warp-level pieces: a 16-row operand fragment, scores (16 x 64) += A B^T
** over the head width, and out (16 x D) += P B with P in the scores' accumulator layout.
**   bf16: mma.sync m16n8k16, fragments by ldmatrix (.trans for the second product's B); the
**         accumulators of two adjacent 16 x 8 tiles are the operand layout of one 16 x 16 tile.
**   TF32: mma.sync m16n8k8, fragments by 32-bit shared loads. The accumulator holds columns
**         2t, 2t + 1 of a row where the operand wants t, t + 4; since a product's sum over k
**         does not care in which order k runs, the second product numbers its k so that index
**         t is column 2t and t + 4 is 2t + 1 (and reads B's rows to match): no shuffles.
** Q, K, V and dO arrive rounded to the operand format (flash_tc_fwd/_bwd round the fp32 tensors
** into copies first); P and dS are rounded for their products; the softmax statistics, lse, Drow
** and every accumulator stay fp32. So the error is that of the mode's operands with fp32 sums.
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

/* four 8 x 8 16-bit matrices; lanes 8m..8m+7 give the row addresses of matrix m */
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

/* c (16 x 8) += a (16 x 16, row) b (16 x 8, col), bf16 */
__device__ __forceinline__ void tc_mma16(float c[4], const unsigned a[4], unsigned b0, unsigned b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
/* c (16 x 8) += a (16 x 8, row) b (8 x 8, col), TF32 */
__device__ __forceinline__ void tc_mma8(float c[4], const unsigned a[4], unsigned b0, unsigned b1)
{
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
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
/* fp32 rounded to TF32 (to nearest, ties away: the conversion the tensor cores' format offers) */
__device__ __forceinline__ unsigned tc_tf(float x)
{
    unsigned r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}

/* bf16 operands. Shared tiles are 64 rows of D + 8: the 16-byte pad moves each row four banks on,
** so the eight row addresses of an ldmatrix hit distinct banks. */
struct tc_bf16 {
    typedef tc_bf elem;
    static constexpr int pad = 8;
    static constexpr int kw = 16;   // k of one product step

    /* operand fragments of rows r0..r0+15 of tile t, all D columns */
    template <int D> static __device__ __forceinline__ void afrag(unsigned (*a)[4], const elem *t, int r0)
    {
        int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
        for(int kk = 0; kk < D / 16; kk++) tc_ldm(a[kk], t + (r0 + lr + 8 * (lm & 1)) * (D + pad) + 16 * kk + 8 * (lm >> 1));
    }
    /* s (16 x 64) += a b^T, b the 64 rows of tile t */
    template <int D> static __device__ __forceinline__ void scores(float (*s)[4], const unsigned (*a)[4], const elem *t)
    {
        int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
        for(int kk = 0; kk < D / 16; kk++)
#pragma unroll
            for(int np = 0; np < 4; np++){
                unsigned r[4];
                tc_ldm(r, t + (16 * np + lr + 8 * (lm >> 1)) * (D + pad) + 16 * kk + 8 * (lm & 1));
                tc_mma16(s[2 * np], a[kk], r[0], r[1]);
                tc_mma16(s[2 * np + 1], a[kk], r[2], r[3]);
            }
    }
    /* o (16 x D) += p t, p (16 x 64) in the accumulator layout of scores */
    template <int D> static __device__ __forceinline__ void pv(float (*o)[4], const float (*p)[4], const elem *t)
    {
        int lane = threadIdx.x & 31, lr = lane & 7, lm = lane >> 3;
#pragma unroll
        for(int kk = 0; kk < TC_B / 16; kk++){
            unsigned pa[4] = { tc_pack(p[2 * kk][0], p[2 * kk][1]), tc_pack(p[2 * kk][2], p[2 * kk][3]),
                               tc_pack(p[2 * kk + 1][0], p[2 * kk + 1][1]), tc_pack(p[2 * kk + 1][2], p[2 * kk + 1][3]) };
#pragma unroll
            for(int dp = 0; dp < D / 16; dp++){
                unsigned r[4];
                tc_ldmt(r, t + (16 * kk + lr + 8 * (lm & 1)) * (D + pad) + 16 * dp + 8 * (lm >> 1));
                tc_mma16(o[2 * dp], pa, r[0], r[1]);
                tc_mma16(o[2 * dp + 1], pa, r[2], r[3]);
            }
        }
    }
};

/* TF32 operands (fp32 words already rounded). Tiles are 64 rows of D + 4 floats: the fragment
** reads of rows g, columns t (row g + t, 4 banks a row) and of rows 2t, columns g (8t + g) both
** spread over the 32 banks. */
struct tc_tf32 {
    typedef float elem;
    static constexpr int pad = 4;
    static constexpr int kw = 8;

    template <int D> static __device__ __forceinline__ void afrag(unsigned (*a)[4], const elem *t, int r0)
    {
        int lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
        constexpr int LD = D + pad;
#pragma unroll
        for(int kk = 0; kk < D / 8; kk++){
            const float *r = t + (r0 + g) * LD + 8 * kk + q;
            a[kk][0] = __float_as_uint(r[0]);
            a[kk][1] = __float_as_uint(r[8 * LD]);
            a[kk][2] = __float_as_uint(r[4]);
            a[kk][3] = __float_as_uint(r[8 * LD + 4]);
        }
    }
    template <int D> static __device__ __forceinline__ void scores(float (*s)[4], const unsigned (*a)[4], const elem *t)
    {
        int lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
        constexpr int LD = D + pad;
#pragma unroll
        for(int kk = 0; kk < D / 8; kk++)
#pragma unroll
            for(int n = 0; n < 8; n++){
                const float *r = t + (8 * n + g) * LD + 8 * kk + q;
                tc_mma8(s[n], a[kk], __float_as_uint(r[0]), __float_as_uint(r[4]));
            }
    }
    /* k index t is column 2t of p, t + 4 is 2t + 1 (header), so B's rows are 2t and 2t + 1 */
    template <int D> static __device__ __forceinline__ void pv(float (*o)[4], const float (*p)[4], const elem *t)
    {
        int lane = threadIdx.x & 31, g = lane >> 2, q = lane & 3;
        constexpr int LD = D + pad;
#pragma unroll
        for(int kk = 0; kk < TC_B / 8; kk++){
            unsigned pa[4] = { tc_tf(p[kk][0]), tc_tf(p[kk][2]), tc_tf(p[kk][1]), tc_tf(p[kk][3]) };
            const float *r = t + (8 * kk + 2 * q) * LD + g;
#pragma unroll
            for(int d = 0; d < D / 8; d++) tc_mma8(o[d], pa, __float_as_uint(r[8 * d]), __float_as_uint(r[LD + 8 * d]));
        }
    }
};

/* rows [r0, r0 + 64) of src (row stride ld elements, D of them from the pointer) into a tile */
template <class Op, int D>
__device__ __forceinline__ void tc_tile(typename Op::elem *dst, const typename Op::elem *src, long ld, int r0, int n)
{
    constexpr int PER = 16 / (int)sizeof(typename Op::elem), CPR = D / PER, LD = D + Op::pad;   // PER: a 16-byte piece
    for(int e = threadIdx.x; e < TC_B * CPR; e += TC_NT){
        int r = e / CPR, c = (e % CPR) * PER, ok = r0 + r < n;
        tc_cp16(dst + r * LD + c, src + (long)(ok ? r0 + r : 0) * ld + c, ok);
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

/* fp32 -> bf16, n4 groups of 4 */
__global__ void k_tc_round_bf(tc_bf *dst, const float *src, long n4)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n4 ) return;
    float4 x = reinterpret_cast<const float4 *>(src)[i];
    reinterpret_cast<__nv_bfloat162 *>(dst)[2 * i] = __floats2bfloat162_rn(x.x, x.y);
    reinterpret_cast<__nv_bfloat162 *>(dst)[2 * i + 1] = __floats2bfloat162_rn(x.z, x.w);
}
/* fp32 -> TF32 (kept in fp32 words), n4 groups of 4 */
__global__ void k_tc_round_tf(float *dst, const float *src, long n4)
{
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n4 ) return;
    float4 x = reinterpret_cast<const float4 *>(src)[i];
    x.x = __uint_as_float(tc_tf(x.x));
    x.y = __uint_as_float(tc_tf(x.y));
    x.z = __uint_as_float(tc_tf(x.z));
    x.w = __uint_as_float(tc_tf(x.w));
    reinterpret_cast<float4 *>(dst)[i] = x;
}

/* Forward: grid (ceil(T/64), NH). Softmax in base 2 (scores times scale log2 e), so each
** probability is one exp2; lse goes out in natural log. */
template <class Op, int D>
__global__ void __launch_bounds__(TC_NT) k_tc_fwd(float *out, float *lse, const typename Op::elem *q,
                                                  const typename Op::elem *k, const typename Op::elem *v, int T, int NH,
                                                  int KV, int W, float scale)
{
    typedef typename Op::elem E;
    constexpr int LD = D + Op::pad, KS = D / Op::kw, DT = D / 8, TS = TC_B * LD;
    extern __shared__ __align__(16) unsigned char tc_smem[];
    E *Qs = reinterpret_cast<E *>(tc_smem), *Ks = Qs + TS, *Vs = Ks + 2 * TS;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int i0 = blockIdx.x * TC_B, h = blockIdx.y, kvh = h / (NH / KV);
    long QD = (long)NH * D, KD = (long)KV * D;
    const E *kh = k + (long)kvh * D, *vh = v + (long)kvh * D;
    int jf = (i0 - W + 1 > 0 ? i0 - W + 1 : 0) & ~(TC_B - 1), nt = (i0 - jf) / TC_B + 1;
    tc_tile<Op, D>(Qs, q + (long)h * D, QD, i0, T);
    tc_tile<Op, D>(Ks, kh, KD, jf, T);
    tc_tile<Op, D>(Vs, vh, KD, jf, T);
    tc_commit();
    float o[DT][4], mx[2] = { -INFINITY, -INFINITY }, l[2] = { 0, 0 }, c2 = scale * TC_LOG2E;
    for(int d = 0; d < DT; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0;
    unsigned qf[KS][4];
    int ri = i0 + 16 * w + g;   // this thread's rows: ri, ri + 8
    for(int it = 0; it < nt; it++){
        int j0 = jf + it * TC_B, b = it & 1;
        if( it + 1 < nt ){
            tc_tile<Op, D>(Ks + (b ^ 1) * TS, kh, KD, j0 + TC_B, T);
            tc_tile<Op, D>(Vs + (b ^ 1) * TS, vh, KD, j0 + TC_B, T);
        }
        tc_commit();   // empty on the last pass: the wait below then still means "this tile"
        tc_wait1();
        __syncthreads();
        if( it == 0 ) Op::template afrag<D>(qf, Qs, 16 * w);
        float s[8][4];
        for(int n = 0; n < 8; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0;
        Op::template scores<D>(s, qf, Ks + b * TS);
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
        Op::template pv<D>(o, s, Vs + b * TS);
        __syncthreads();   // the next pass refills the other buffer, the one after it this one
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

/* dQ per query tile: grid (ceil(T/64), NH). A warp's 16 rows: S = Q K^T and dP = dO V^T into
** registers, P = exp(S - lse), dS = P (dP - Drow) scale, dQ = dS K (acc: dQ +=). Each block owns
** its rows of dQ, so acc 0 needs no zeroing pass before. */
template <class Op, int D>
__global__ void __launch_bounds__(TC_NT) k_tc_bwd_q(float *dq, const typename Op::elem *dout,
                                                    const typename Op::elem *q, const typename Op::elem *k,
                                                    const typename Op::elem *v, const float *lse, const float *Dr,
                                                    int T, int NH, int KV, int W, float scale, int acc)
{
    typedef typename Op::elem E;
    constexpr int LD = D + Op::pad, KS = D / Op::kw, DT = D / 8, TS = TC_B * LD;
    extern __shared__ __align__(16) unsigned char tc_smem[];
    E *Qs = reinterpret_cast<E *>(tc_smem), *Os = Qs + TS, *Ks = Os + TS, *Vs = Ks + 2 * TS;
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int i0 = blockIdx.x * TC_B, h = blockIdx.y, kvh = h / (NH / KV);
    long QD = (long)NH * D, KD = (long)KV * D;
    const E *kh = k + (long)kvh * D, *vh = v + (long)kvh * D;
    int jf = (i0 - W + 1 > 0 ? i0 - W + 1 : 0) & ~(TC_B - 1), nt = (i0 - jf) / TC_B + 1;
    tc_tile<Op, D>(Qs, q + (long)h * D, QD, i0, T);
    tc_tile<Op, D>(Os, dout + (long)h * D, QD, i0, T);
    tc_tile<Op, D>(Ks, kh, KD, jf, T);
    tc_tile<Op, D>(Vs, vh, KD, jf, T);
    tc_commit();
    int ri = i0 + 16 * w + g;
    float c2 = scale * TC_LOG2E, l2[2], dr[2], a[DT][4];
    for(int r = 0; r < 2; r++){
        int i = ri + 8 * r;
        l2[r] = i < T ? lse[(long)i * NH + h] * TC_LOG2E : 0.0f;
        dr[r] = i < T ? Dr[(long)i * NH + h] : 0.0f;
    }
    for(int d = 0; d < DT; d++) a[d][0] = a[d][1] = a[d][2] = a[d][3] = 0;
    unsigned qf[KS][4], of[KS][4];
    for(int it = 0; it < nt; it++){
        int j0 = jf + it * TC_B, b = it & 1;
        if( it + 1 < nt ){
            tc_tile<Op, D>(Ks + (b ^ 1) * TS, kh, KD, j0 + TC_B, T);
            tc_tile<Op, D>(Vs + (b ^ 1) * TS, vh, KD, j0 + TC_B, T);
        }
        tc_commit();
        tc_wait1();
        __syncthreads();
        if( it == 0 ){
            Op::template afrag<D>(qf, Qs, 16 * w);
            Op::template afrag<D>(of, Os, 16 * w);
        }
        const E *Kb = Ks + b * TS;
        float s[8][4], dp[8][4];
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++) s[n][e] = dp[n][e] = 0;
        Op::template scores<D>(s, qf, Kb);
        Op::template scores<D>(dp, of, Vs + b * TS);
        int whole = tc_whole(i0, j0, W, T);
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++){
                int r = e >> 1;
                float p = whole || tc_sees(ri + 8 * r, j0 + 8 * n + 2 * t + (e & 1), W, T)
                              ? exp2f(s[n][e] * c2 - l2[r]) : 0.0f;
                s[n][e] = p * (dp[n][e] - dr[r]) * scale;
            }
        Op::template pv<D>(a, s, Kb);
        __syncthreads();
    }
    for(int r = 0; r < 2; r++){
        int i = ri + 8 * r;
        if( i >= T ) continue;
        float *row = dq + (long)i * QD + (long)h * D;
        for(int d = 0; d < DT; d++){
            float2 *p2 = reinterpret_cast<float2 *>(row + 8 * d + 2 * t);
            float2 x = make_float2(a[d][2 * r], a[d][2 * r + 1]);
            if( acc ){
                float2 y = *p2;
                x.x += y.x;
                x.y += y.y;
            }
            *p2 = x;
        }
    }
}

/* dK, dV per key tile of one KV head: grid (ceil(T/64), KV). A warp's 16 rows are keys:
** S^T = K Q^T and dP^T = V dO^T, P^T and dS^T with lse and Drow per column (query),
** dV = P^T dO, dK = dS^T Q (acc: +=). The passes run over (query head of the group, query tile)
** in order, so each block owns its rows of dK and dV whatever the grouping. */
template <class Op, int D>
__global__ void __launch_bounds__(TC_NT) k_tc_bwd_kv(float *dk, float *dv, const typename Op::elem *dout,
                                                     const typename Op::elem *q, const typename Op::elem *k,
                                                     const typename Op::elem *v, const float *lse, const float *Dr,
                                                     int T, int NH, int KV, int W, float scale, int acc)
{
    typedef typename Op::elem E;
    constexpr int LD = D + Op::pad, KS = D / Op::kw, DT = D / 8, TS = TC_B * LD;
    extern __shared__ __align__(16) unsigned char tc_smem[];
    E *Ks = reinterpret_cast<E *>(tc_smem), *Vs = Ks + TS, *Qs = Vs + TS, *Os = Qs + 2 * TS;
    float *Ls = reinterpret_cast<float *>(Os + 2 * TS), *Rs = Ls + 2 * TC_B;   // two buffers of 64 each
    int w = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int j0 = blockIdx.x * TC_B, kvh = blockIdx.y, grp = NH / KV;
    long QD = (long)NH * D, KD = (long)KV * D;
    long ilast = (long)j0 + TC_B - 1 + W - 1;
    int iend = ilast < T - 1 ? (int)ilast : T - 1, nqt = (iend - j0) / TC_B + 1, nt = grp * nqt;
    tc_tile<Op, D>(Ks, k + (long)kvh * D, KD, j0, T);
    tc_tile<Op, D>(Vs, v + (long)kvh * D, KD, j0, T);
    // pass it: query head kvh grp + it / nqt, query tile j0 + 64 (it % nqt)
    tc_tile<Op, D>(Qs, q + (long)kvh * grp * D, QD, j0, T);
    tc_tile<Op, D>(Os, dout + (long)kvh * grp * D, QD, j0, T);
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
    unsigned kf[KS][4], vf[KS][4];
    for(int it = 0; it < nt; it++){
        int i0 = j0 + (it % nqt) * TC_B, b = it & 1;
        if( it + 1 < nt ){
            int h1 = kvh * grp + (it + 1) / nqt, i1 = j0 + ((it + 1) % nqt) * TC_B;
            tc_tile<Op, D>(Qs + (b ^ 1) * TS, q + (long)h1 * D, QD, i1, T);
            tc_tile<Op, D>(Os + (b ^ 1) * TS, dout + (long)h1 * D, QD, i1, T);
            for(int e = threadIdx.x; e < TC_B; e += TC_NT){
                int i = i1 + e;
                Ls[(b ^ 1) * TC_B + e] = i < T ? lse[(long)i * NH + h1] * TC_LOG2E : 0.0f;
                Rs[(b ^ 1) * TC_B + e] = i < T ? Dr[(long)i * NH + h1] : 0.0f;
            }
        }
        tc_commit();
        tc_wait1();
        __syncthreads();
        if( it == 0 ){
            Op::template afrag<D>(kf, Ks, 16 * w);
            Op::template afrag<D>(vf, Vs, 16 * w);
        }
        const E *Qb = Qs + b * TS, *Ob = Os + b * TS;
        const float *Lb = Ls + b * TC_B, *Rb = Rs + b * TC_B;
        float s[8][4], dp[8][4];
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++) s[n][e] = dp[n][e] = 0;
        Op::template scores<D>(s, kf, Qb);
        Op::template scores<D>(dp, vf, Ob);
        int whole = tc_whole(i0, j0, W, T);
        for(int n = 0; n < 8; n++)
            for(int e = 0; e < 4; e++){
                int c = 8 * n + 2 * t + (e & 1);
                float p = whole || tc_sees(i0 + c, rj + 8 * (e >> 1), W, T) ? exp2f(s[n][e] * c2 - Lb[c]) : 0.0f;
                s[n][e] = p;
                dp[n][e] = p * (dp[n][e] - Rb[c]) * scale;
            }
        Op::template pv<D>(gv, s, Ob);
        Op::template pv<D>(gk, dp, Qb);
        __syncthreads();
    }
    for(int r = 0; r < 2; r++){
        int j = rj + 8 * r;
        if( j >= T ) continue;
        float *krow = dk + (long)j * KD + (long)kvh * D, *vrow = dv + (long)j * KD + (long)kvh * D;
        for(int d = 0; d < DT; d++){
            float2 *pk = reinterpret_cast<float2 *>(krow + 8 * d + 2 * t);
            float2 *pv = reinterpret_cast<float2 *>(vrow + 8 * d + 2 * t);
            float2 xk = make_float2(gk[d][2 * r], gk[d][2 * r + 1]), xv = make_float2(gv[d][2 * r], gv[d][2 * r + 1]);
            if( acc ){
                float2 yk = *pk, yv = *pv;
                xk.x += yk.x; xk.y += yk.y;
                xv.x += yv.x; xv.y += yv.y;
            }
            *pk = xk;
            *pv = xv;
        }
    }
}

/* bytes of n shared tiles */
template <class Op, int D>
static size_t tc_tiles_bytes(int n) { return sizeof(typename Op::elem) * (size_t)n * TC_B * (D + Op::pad); }

static int tc_head_dim(int D) { return D == 32 || D == 64; }

/* n floats (a multiple of 4) rounded into the operand format */
static void tc_round(tc_bf *dst, const float *src, long n)
{
    k_tc_round_bf<<<(unsigned)((n / 4 + NT - 1) / NT), NT>>>(dst, src, n / 4);
}
static void tc_round(float *dst, const float *src, long n)
{
    k_tc_round_tf<<<(unsigned)((n / 4 + NT - 1) / NT), NT>>>(dst, src, n / 4);
}

template <class Op, int D>
static void tc_fwd_d(typename Op::elem *bf, int qkReady, float *out, float *lse, const float *q, const float *k,
                     const float *v, int T, int NH, int KV, int W, float scale)
{
    long nq = (long)T * NH * D, nk = (long)T * KV * D;
    typename Op::elem *qb = bf, *kb = qb + nq, *vb = kb + nk;
    if( !qkReady ){
        tc_round(qb, q, nq);
        tc_round(kb, k, nk);
    }
    tc_round(vb, v, nk);
    size_t sm = tc_tiles_bytes<Op, D>(5);   // Q, K x 2, V x 2
    cudaFuncSetAttribute(k_tc_fwd<Op, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);
    k_tc_fwd<Op, D><<<dim3((unsigned)((T + TC_B - 1) / TC_B), (unsigned)NH), TC_NT, sm>>>(out, lse, qb, kb, vb, T, NH,
                                                                                         KV, W, scale);
}

/* bf: the copies of q, k, v, already made by the forward where kept, else made here; ob: dout's
** copy (NULL: after them in bf) */
template <class Op, int D>
static void tc_bwd_d(typename Op::elem *bf, typename Op::elem *ob, int kept, float *dq, float *dk, float *dv,
                     const float *dout, const float *q, const float *k, const float *v, const float *lse,
                     const float *Dr, int T, int NH, int KV, int W, float scale, int acc)
{
    long nq = (long)T * NH * D, nk = (long)T * KV * D;
    typename Op::elem *qb = bf, *kb = qb + nq, *vb = kb + nk;
    if( !ob ) ob = vb + nk;
    if( !kept ){
        tc_round(qb, q, nq);
        tc_round(kb, k, nk);
        tc_round(vb, v, nk);
    }
    tc_round(ob, dout, nq);
    size_t s1 = tc_tiles_bytes<Op, D>(6) + sizeof(float) * 4 * TC_B, s2 = tc_tiles_bytes<Op, D>(6);
    cudaFuncSetAttribute(k_tc_bwd_kv<Op, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)s1);
    cudaFuncSetAttribute(k_tc_bwd_q<Op, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)s2);
    unsigned nb = (unsigned)((T + TC_B - 1) / TC_B);
    k_tc_bwd_kv<Op, D><<<dim3(nb, (unsigned)KV), TC_NT, s1>>>(dk, dv, ob, qb, kb, vb, lse, Dr, T, NH, KV, W, scale, acc);
    k_tc_bwd_q<Op, D><<<dim3(nb, (unsigned)NH), TC_NT, s2>>>(dq, ob, qb, kb, vb, lse, Dr, T, NH, KV, W, scale, acc);
}

/* Forward from fp32 q, k, v: rounds them into the scratch ws (T (NH + 2 KV) D operands: halves
** for bf16, floats for TF32), then the kernel. 0 where D has no instantiation (the caller keeps
** its other path). qkReady (bf16 only): q's and k's copies are in ws already, q and k unread. */
static int flash_tc_fwd(int tf32, float *ws, int qkReady, float *out, float *lse, const float *q, const float *k,
                        const float *v, int T, int NH, int KV, int D, int W, float scale)
{
    if( !tc_head_dim(D) ) return 0;
    tc_bf *wb = reinterpret_cast<tc_bf *>(ws);
    if( tf32 && D == 32 ) tc_fwd_d<tc_tf32, 32>(ws, 0, out, lse, q, k, v, T, NH, KV, W, scale);
    else if( tf32 ) tc_fwd_d<tc_tf32, 64>(ws, 0, out, lse, q, k, v, T, NH, KV, W, scale);
    else if( D == 32 ) tc_fwd_d<tc_bf16, 32>(wb, qkReady, out, lse, q, k, v, T, NH, KV, W, scale);
    else tc_fwd_d<tc_bf16, 64>(wb, qkReady, out, lse, q, k, v, T, NH, KV, W, scale);
    return 1;
}

/* Backward (acc: accumulates into dq, dk, dv; 0: overwrites them); ws holds T (2 NH + 2 KV) D
** operands; Dr = rowsum(dO . O).
** bf16 only, kept non-NULL: the forward's copies of q, k, v (flash_tc_fwd with ws = kept), so only
** dout is rounded (into ws). */
static int flash_tc_bwd(int tf32, float *ws, float *kept, float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v, const float *lse, const float *Dr, int T, int NH,
                        int KV, int D, int W, float scale, int acc)
{
    if( !tc_head_dim(D) ) return 0;
    tc_bf *wb = reinterpret_cast<tc_bf *>(kept ? kept : ws), *ob = kept ? reinterpret_cast<tc_bf *>(ws) : NULL;
    int kp = kept != NULL;
    if( tf32 && D == 32 ) tc_bwd_d<tc_tf32, 32>(ws, NULL, 0, dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale, acc);
    else if( tf32 ) tc_bwd_d<tc_tf32, 64>(ws, NULL, 0, dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale, acc);
    else if( D == 32 ) tc_bwd_d<tc_bf16, 32>(wb, ob, kp, dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale, acc);
    else tc_bwd_d<tc_bf16, 64>(wb, ob, kp, dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale, acc);
    return 1;
}

#endif
