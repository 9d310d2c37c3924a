/*
** Fused attention (flash style), fp32: causal with an optional sliding window, grouped KV heads.
** The alternative to the cuBLAS strips of model_cuda.cu (sptt_cuda_set_flash): no score strip in
** memory, only the tiles a query block can see, online softmax in the forward.
**
** Layout as the strips: q (T, NH*D), k and v (T, KV*D), query head h reads KV head h / (NH/KV);
** lse (T, NH) is the log-sum-exp of the scaled scores (the strips' convention, so either backward
** takes either forward's lse). Query i sees keys j with i - W < j <= i.
**
** One block of 256 threads (16 x 16) per tile of 64 rows; a thread holds rows ty + 16 r and
** columns tx + 16 c (r, c < 4), strided so that shared-memory reads spread over the banks; tiles
** are padded to D + 1 floats a row for the same reason. The 16 threads of a row group sit in one
** half-warp, so row reductions are four shuffles.
**
** The backward is two kernels with no atomics: dK and dV per key tile (looping over the query
** tiles and the query heads of its KV head that see it), dQ per query tile (looping over its key
** tiles). Both recompute the probabilities from lse; Drow = rowsum(dO . O) comes from k_att_drow.
*/
#ifndef SPTT_CUDA_FLASH_CUH
#define SPTT_CUDA_FLASH_CUH

#include "cuda_kern.cuh"

#define FA_B  64    /* rows of a tile (queries or keys) */
#define FA_LD (FA_B + 1)

__device__ __forceinline__ float fa_hmax(float v)
{
    for(int o = 8; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ float fa_hsum(float v)
{
    for(int o = 8; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* rows [r0, r0 + 64) of src (row stride ld, D columns from col) into dst (64, D + 1); zero past n */
template <int D>
__device__ __forceinline__ void fa_load(float *dst, const float *src, long ld, int r0, int n)
{
    for(int e = threadIdx.x; e < FA_B * D; e += blockDim.x){
        int r = e / D, k = e % D;
        dst[r * (D + 1) + k] = r0 + r < n ? src[(long)(r0 + r) * ld + k] : 0.0f;
    }
}

__device__ __forceinline__ int fa_sees(int i, int j, int W, int T) { return i < T && j <= i && j > i - W; }

template <int D>
static size_t fa_fwd_smem(void) { return sizeof(float) * (3 * FA_B * (D + 1) + FA_B * FA_LD); }

/* grid (ceil(T/64), NH) */
template <int D>
__global__ void __launch_bounds__(256) k_flash_fwd(float *out, float *lse, const float *q, const float *k,
                                                   const float *v, int T, int NH, int KV, int W, float scale)
{
    constexpr int DT = (D + 15) / 16, P = D + 1;
    extern __shared__ float fsm[];
    float *Qs = fsm, *Ks = Qs + FA_B * P, *Vs = Ks + FA_B * P, *Ps = Vs + FA_B * P;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int i0 = blockIdx.x * FA_B, h = blockIdx.y, kvh = h / (NH / KV);
    long QD = (long)NH * D, KD = (long)KV * D;
    fa_load<D>(Qs, q + (long)h * D, QD, i0, T);
    float m[4], l[4], acc[4][DT];
    for(int r = 0; r < 4; r++){
        m[r] = -INFINITY;
        l[r] = 0;
        for(int c = 0; c < DT; c++) acc[r][c] = 0;
    }
    int jlo = i0 - W + 1 > 0 ? i0 - W + 1 : 0, jhi = i0 + FA_B - 1 < T - 1 ? i0 + FA_B - 1 : T - 1;
    for(int j0 = jlo; j0 <= jhi; j0 += FA_B){
        __syncthreads();   // the previous tile's readers are done
        fa_load<D>(Ks, k + (long)kvh * D, KD, j0, T);
        fa_load<D>(Vs, v + (long)kvh * D, KD, j0, T);
        __syncthreads();
        float s[4][4];
        for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++) s[r][c] = 0;
        for(int e = 0; e < D; e++){
            float a[4], b[4];
            for(int r = 0; r < 4; r++) a[r] = Qs[(ty + 16 * r) * P + e];
            for(int c = 0; c < 4; c++) b[c] = Ks[(tx + 16 * c) * P + e];
            for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++) s[r][c] += a[r] * b[c];
        }
        for(int r = 0; r < 4; r++){
            int i = i0 + ty + 16 * r;
            float mx = -INFINITY;
            for(int c = 0; c < 4; c++){
                s[r][c] = fa_sees(i, j0 + tx + 16 * c, W, T) ? s[r][c] * scale : -INFINITY;
                mx = fmaxf(mx, s[r][c]);
            }
            float mn = fmaxf(m[r], fa_hmax(mx));
            float corr = mn == -INFINITY ? 1.0f : expf(m[r] - mn), sum = 0;
            for(int c = 0; c < 4; c++){
                float p = s[r][c] == -INFINITY ? 0.0f : expf(s[r][c] - mn);
                Ps[(ty + 16 * r) * FA_LD + tx + 16 * c] = p;
                sum += p;
            }
            l[r] = l[r] * corr + fa_hsum(sum);
            m[r] = mn;
            for(int c = 0; c < DT; c++) acc[r][c] *= corr;
        }
        __syncthreads();
        for(int j = 0; j < FA_B; j++){
            float b[DT];
            for(int c = 0; c < DT; c++) b[c] = tx + 16 * c < D ? Vs[j * P + tx + 16 * c] : 0.0f;
            for(int r = 0; r < 4; r++){
                float p = Ps[(ty + 16 * r) * FA_LD + j];
                for(int c = 0; c < DT; c++) acc[r][c] += p * b[c];
            }
        }
    }
    for(int r = 0; r < 4; r++){
        int i = i0 + ty + 16 * r;
        if( i >= T ) continue;
        float inv = 1.0f / l[r];
        for(int c = 0; c < DT; c++)
            if( tx + 16 * c < D ) out[(long)i * QD + (long)h * D + tx + 16 * c] = acc[r][c] * inv;
        if( tx == 0 ) lse[(long)i * NH + h] = m[r] + logf(l[r]);
    }
}

template <int D>
static size_t fa_bwd_smem(void) { return sizeof(float) * (4 * FA_B * (D + 1) + 2 * FA_B * FA_LD + 2 * FA_B); }

/* dK, dV (accumulated) per key tile of one KV head: grid (ceil(T/64), KV). The thread's rows are
** keys, its score columns queries. */
template <int D>
__global__ void __launch_bounds__(256) k_flash_bwd_kv(float *dk, float *dv, const float *dout, const float *q,
                                                      const float *k, const float *v, const float *lse, const float *Dr,
                                                      int T, int NH, int KV, int W, float scale)
{
    constexpr int DT = (D + 15) / 16, P = D + 1;
    extern __shared__ float fsm[];
    float *Ks = fsm, *Vs = Ks + FA_B * P, *Qs = Vs + FA_B * P, *Os = Qs + FA_B * P;
    float *Ps = Os + FA_B * P, *Ss = Ps + FA_B * FA_LD, *Ls = Ss + FA_B * FA_LD, *Rs = Ls + FA_B;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int j0 = blockIdx.x * FA_B, kvh = blockIdx.y, grp = NH / KV;
    long QD = (long)NH * D, KD = (long)KV * D;
    fa_load<D>(Ks, k + (long)kvh * D, KD, j0, T);
    fa_load<D>(Vs, v + (long)kvh * D, KD, j0, T);
    float gk[4][DT], gv[4][DT];
    for(int r = 0; r < 4; r++) for(int c = 0; c < DT; c++) gk[r][c] = gv[r][c] = 0;
    long ihi = (long)j0 + FA_B - 1 + W - 1;
    int iend = ihi < T - 1 ? (int)ihi : T - 1;
    for(int g = 0; g < grp; g++){
        int h = kvh * grp + g;
        for(int i0 = j0; i0 <= iend; i0 += FA_B){
            __syncthreads();
            fa_load<D>(Qs, q + (long)h * D, QD, i0, T);
            fa_load<D>(Os, dout + (long)h * D, QD, i0, T);
            for(int e = threadIdx.x; e < FA_B; e += blockDim.x){
                Ls[e] = i0 + e < T ? lse[(long)(i0 + e) * NH + h] : 0.0f;
                Rs[e] = i0 + e < T ? Dr[(long)(i0 + e) * NH + h] : 0.0f;
            }
            __syncthreads();
            float s[4][4], dp[4][4];
            for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++) s[r][c] = dp[r][c] = 0;
            for(int e = 0; e < D; e++){
                float a[4], b[4], av[4], bo[4];
                for(int r = 0; r < 4; r++){
                    a[r] = Ks[(ty + 16 * r) * P + e];
                    av[r] = Vs[(ty + 16 * r) * P + e];
                }
                for(int c = 0; c < 4; c++){
                    b[c] = Qs[(tx + 16 * c) * P + e];
                    bo[c] = Os[(tx + 16 * c) * P + e];
                }
                for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++){
                    s[r][c] += a[r] * b[c];
                    dp[r][c] += av[r] * bo[c];
                }
            }
            for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++){
                int jr = ty + 16 * r, ic = tx + 16 * c;
                float p = fa_sees(i0 + ic, j0 + jr, W, T) && j0 + jr < T ? expf(s[r][c] * scale - Ls[ic]) : 0.0f;
                Ps[jr * FA_LD + ic] = p;
                Ss[jr * FA_LD + ic] = p * (dp[r][c] - Rs[ic]) * scale;
            }
            __syncthreads();
            for(int i = 0; i < FA_B; i++){
                float bo[DT], bq[DT];
                for(int c = 0; c < DT; c++){
                    int col = tx + 16 * c;
                    bo[c] = col < D ? Os[i * P + col] : 0.0f;
                    bq[c] = col < D ? Qs[i * P + col] : 0.0f;
                }
                for(int r = 0; r < 4; r++){
                    float p = Ps[(ty + 16 * r) * FA_LD + i], ds = Ss[(ty + 16 * r) * FA_LD + i];
                    for(int c = 0; c < DT; c++){
                        gv[r][c] += p * bo[c];
                        gk[r][c] += ds * bq[c];
                    }
                }
            }
        }
    }
    for(int r = 0; r < 4; r++){
        int j = j0 + ty + 16 * r;
        if( j >= T ) continue;
        for(int c = 0; c < DT; c++){
            int col = tx + 16 * c;
            if( col >= D ) continue;
            dk[(long)j * KD + (long)kvh * D + col] += gk[r][c];
            dv[(long)j * KD + (long)kvh * D + col] += gv[r][c];
        }
    }
}

/* dQ (accumulated) per query tile of one head: grid (ceil(T/64), NH) */
template <int D>
__global__ void __launch_bounds__(256) k_flash_bwd_q(float *dq, const float *dout, const float *q, const float *k,
                                                     const float *v, const float *lse, const float *Dr, int T, int NH,
                                                     int KV, int W, float scale)
{
    constexpr int DT = (D + 15) / 16, P = D + 1;
    extern __shared__ float fsm[];
    float *Qs = fsm, *Os = Qs + FA_B * P, *Ks = Os + FA_B * P, *Vs = Ks + FA_B * P, *Ss = Vs + FA_B * P;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int i0 = blockIdx.x * FA_B, h = blockIdx.y, kvh = h / (NH / KV);
    long QD = (long)NH * D, KD = (long)KV * D;
    fa_load<D>(Qs, q + (long)h * D, QD, i0, T);
    fa_load<D>(Os, dout + (long)h * D, QD, i0, T);
    float lr[4], dr[4], gq[4][DT];
    for(int r = 0; r < 4; r++){
        int i = i0 + ty + 16 * r;
        lr[r] = i < T ? lse[(long)i * NH + h] : 0.0f;
        dr[r] = i < T ? Dr[(long)i * NH + h] : 0.0f;
        for(int c = 0; c < DT; c++) gq[r][c] = 0;
    }
    int jlo = i0 - W + 1 > 0 ? i0 - W + 1 : 0, jhi = i0 + FA_B - 1 < T - 1 ? i0 + FA_B - 1 : T - 1;
    for(int j0 = jlo; j0 <= jhi; j0 += FA_B){
        __syncthreads();
        fa_load<D>(Ks, k + (long)kvh * D, KD, j0, T);
        fa_load<D>(Vs, v + (long)kvh * D, KD, j0, T);
        __syncthreads();
        float s[4][4], dp[4][4];
        for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++) s[r][c] = dp[r][c] = 0;
        for(int e = 0; e < D; e++){
            float a[4], ao[4], b[4], bv[4];
            for(int r = 0; r < 4; r++){
                a[r] = Qs[(ty + 16 * r) * P + e];
                ao[r] = Os[(ty + 16 * r) * P + e];
            }
            for(int c = 0; c < 4; c++){
                b[c] = Ks[(tx + 16 * c) * P + e];
                bv[c] = Vs[(tx + 16 * c) * P + e];
            }
            for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++){
                s[r][c] += a[r] * b[c];
                dp[r][c] += ao[r] * bv[c];
            }
        }
        for(int r = 0; r < 4; r++) for(int c = 0; c < 4; c++){
            int ir = ty + 16 * r, jc = tx + 16 * c;
            float p = fa_sees(i0 + ir, j0 + jc, W, T) ? expf(s[r][c] * scale - lr[r]) : 0.0f;
            Ss[ir * FA_LD + jc] = p * (dp[r][c] - dr[r]) * scale;
        }
        __syncthreads();
        for(int j = 0; j < FA_B; j++){
            float b[DT];
            for(int c = 0; c < DT; c++) b[c] = tx + 16 * c < D ? Ks[j * P + tx + 16 * c] : 0.0f;
            for(int r = 0; r < 4; r++){
                float ds = Ss[(ty + 16 * r) * FA_LD + j];
                for(int c = 0; c < DT; c++) gq[r][c] += ds * b[c];
            }
        }
    }
    for(int r = 0; r < 4; r++){
        int i = i0 + ty + 16 * r;
        if( i >= T ) continue;
        for(int c = 0; c < DT; c++)
            if( tx + 16 * c < D ) dq[(long)i * QD + (long)h * D + tx + 16 * c] += gq[r][c];
    }
}

template <int D>
static size_t fa_bwd_q_smem(void) { return sizeof(float) * (4 * FA_B * (D + 1) + FA_B * FA_LD); }

/* Launches; 0 where D has no instantiation (the caller uses the strips then). */
template <int D>
static int flash_fwd_d(float *out, float *lse, const float *q, const float *k, const float *v, int T, int NH, int KV,
                       int W, float scale)
{
    size_t sm = fa_fwd_smem<D>();
    cudaFuncSetAttribute(k_flash_fwd<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);
    dim3 grid((unsigned)((T + FA_B - 1) / FA_B), (unsigned)NH);
    k_flash_fwd<D><<<grid, 256, sm>>>(out, lse, q, k, v, T, NH, KV, W, scale);
    return 1;
}

template <int D>
static int flash_bwd_d(float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k,
                       const float *v, const float *lse, const float *Dr, int T, int NH, int KV, int W, float scale)
{
    size_t s1 = fa_bwd_smem<D>(), s2 = fa_bwd_q_smem<D>();
    cudaFuncSetAttribute(k_flash_bwd_kv<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)s1);
    cudaFuncSetAttribute(k_flash_bwd_q<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)s2);
    unsigned nb = (unsigned)((T + FA_B - 1) / FA_B);
    k_flash_bwd_kv<D><<<dim3(nb, (unsigned)KV), 256, s1>>>(dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    k_flash_bwd_q<D><<<dim3(nb, (unsigned)NH), 256, s2>>>(dq, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    return 1;
}

static int flash_fwd(float *out, float *lse, const float *q, const float *k, const float *v, int T, int NH, int KV,
                     int D, int W, float scale)
{
    switch( D ){
    case 8:   return flash_fwd_d<8>(out, lse, q, k, v, T, NH, KV, W, scale);
    case 16:  return flash_fwd_d<16>(out, lse, q, k, v, T, NH, KV, W, scale);
    case 32:  return flash_fwd_d<32>(out, lse, q, k, v, T, NH, KV, W, scale);
    case 64:  return flash_fwd_d<64>(out, lse, q, k, v, T, NH, KV, W, scale);
    case 128: return flash_fwd_d<128>(out, lse, q, k, v, T, NH, KV, W, scale);
    default:  return 0;
    }
}

static int flash_bwd(float *dq, float *dk, float *dv, const float *dout, const float *q, const float *k, const float *v,
                     const float *lse, const float *Dr, int T, int NH, int KV, int D, int W, float scale)
{
    switch( D ){
    case 8:   return flash_bwd_d<8>(dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    case 16:  return flash_bwd_d<16>(dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    case 32:  return flash_bwd_d<32>(dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    case 64:  return flash_bwd_d<64>(dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    case 128: return flash_bwd_d<128>(dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, W, scale);
    default:  return 0;
    }
}

#endif
