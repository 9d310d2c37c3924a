/*
** Kernel templates, part 2: causal attention, full or sliding-window, with grouped KV heads.
**
** Query i attends keys j with i - W < j <= i (W keys, itself included); W >= T is full causal
** attention. Queries go in blocks of ATT_BQ rows; each block multiplies against only the keys
** its rows can see, so the cost is linear in T for a fixed window. The forward keeps the row
** log-sum-exp instead of the probabilities, and the backward recomputes them block by block
** (the flash-attention arrangement), so memory stays O(T) per head.
*/
#ifndef SPTT_KERN_ATTENTION_H
#define SPTT_KERN_ATTENTION_H

#include "kern_common.h"

#define ATT_BQ 64

/* Scratch floats one block needs (S or dS). */
static size_t attention_scratch(int T, int W)
{
    int w = W < T ? W : T;
    return (size_t)ATT_BQ * (size_t)(w + ATT_BQ);
}

/* Probabilities of one block, in place over the scores; rows outside their window get 0. */
static void att_block_probs(REAL *S, REAL *lse, const REAL *lseIn, int i0, int nq, int j0, int nk, int W)
{
    for(int r = 0; r < nq; r++){
        int i = i0 + r;
        int lo = (i - W + 1 > 0 ? i - W + 1 : 0) - j0, hi = i - j0;
        REAL *row = S + (size_t)r * nk;
        if( lseIn ){
            REAL l = lseIn[r];
            #pragma omp simd
            for(int j = lo; j <= hi; j++) row[j] = expr(row[j] - l);
        }else{
            // one exponential per score: exponentiate against the row max, then normalise
            REAL mx = row[lo];
            for(int j = lo + 1; j <= hi; j++) if( row[j] > mx ) mx = row[j];
            #pragma omp simd
            for(int j = lo; j <= hi; j++) row[j] = expr(row[j] - mx);
            REAL s = 0;
            for(int j = lo; j <= hi; j++) s += row[j];
            REAL inv = (REAL)1 / s;
            #pragma omp simd
            for(int j = lo; j <= hi; j++) row[j] *= inv;
            lse[r] = mx + log(s);
        }
        for(int j = 0; j < lo; j++) row[j] = 0;
        for(int j = hi + 1; j < nk; j++) row[j] = 0;
    }
}

// q is (T, NH*D), k and v are (T, KV*D), out is (T, NH*D), lse is (T, NH)
static void attention_forward(REAL *out, REAL *lse, const REAL *q, const REAL *k, const REAL *v,
                              int T, int NH, int KV, int D, int W, REAL *S)
{
    int QD = NH * D, KD = KV * D, grp = NH / KV;
    REAL scale = (REAL)1 / sqrt((REAL)D);
    REAL lrow[ATT_BQ];
    for(int h = 0; h < NH; h++){
        int kh = h / grp;
        for(int i0 = 0; i0 < T; i0 += ATT_BQ){
            int nq = T - i0 < ATT_BQ ? T - i0 : ATT_BQ;
            int j0 = i0 - W + 1 > 0 ? i0 - W + 1 : 0, nk = i0 + nq - j0;
            // S (nq, nk) = scale * q_blk k_rng^T
            gemm(0, 1, nq, nk, D, scale, q + (size_t)i0 * QD + h * D, QD, k + (size_t)j0 * KD + kh * D, KD,
                 0, S, nk);
            att_block_probs(S, lrow, NULL, i0, nq, j0, nk, W);
            for(int r = 0; r < nq; r++) lse[(size_t)(i0 + r) * NH + h] = lrow[r];
            // out_blk (nq, D) = P v_rng
            gemm(0, 0, nq, D, nk, 1, S, nk, v + (size_t)j0 * KD + kh * D, KD, 0, out + (size_t)i0 * QD + h * D, QD);
        }
    }
}

static void attention_backward(REAL *dq, REAL *dk, REAL *dv, const REAL *dout, const REAL *q, const REAL *k,
                               const REAL *v, const REAL *out, const REAL *lse, int T, int NH, int KV, int D,
                               int W, REAL *S, REAL *dS)
{
    int QD = NH * D, KD = KV * D, grp = NH / KV;
    REAL scale = (REAL)1 / sqrt((REAL)D);
    REAL lrow[ATT_BQ], drow[ATT_BQ];
    for(int h = 0; h < NH; h++){
        int kh = h / grp;
        for(int i0 = 0; i0 < T; i0 += ATT_BQ){
            int nq = T - i0 < ATT_BQ ? T - i0 : ATT_BQ;
            int j0 = i0 - W + 1 > 0 ? i0 - W + 1 : 0, nk = i0 + nq - j0;
            const REAL *qb = q + (size_t)i0 * QD + h * D, *dob = dout + (size_t)i0 * QD + h * D;
            const REAL *kb = k + (size_t)j0 * KD + kh * D, *vb = v + (size_t)j0 * KD + kh * D;
            for(int r = 0; r < nq; r++){
                lrow[r] = lse[(size_t)(i0 + r) * NH + h];
                const REAL *o = out + (size_t)(i0 + r) * QD + h * D, *g = dob + (size_t)r * QD;
                REAL s = 0;
                for(int d = 0; d < D; d++) s += o[d] * g[d];
                drow[r] = s;
            }
            // recompute P
            gemm(0, 1, nq, nk, D, scale, qb, QD, kb, KD, 0, S, nk);
            att_block_probs(S, NULL, lrow, i0, nq, j0, nk, W);
            // dP = dout_blk v_rng^T, then dS = P (dP - rowsum(dout . out)) * scale
            gemm(0, 1, nq, nk, D, 1, dob, QD, vb, KD, 0, dS, nk);
            for(int r = 0; r < nq; r++){
                REAL *ds = dS + (size_t)r * nk;
                const REAL *p = S + (size_t)r * nk;
                REAL dr = drow[r];
                #pragma omp simd
                for(int j = 0; j < nk; j++) ds[j] = p[j] * (ds[j] - dr) * scale;
            }
            // dq_blk += dS k_rng;  dk_rng += dS^T q_blk;  dv_rng += P^T dout_blk
            gemm(0, 0, nq, D, nk, 1, dS, nk, kb, KD, 1, dq + (size_t)i0 * QD + h * D, QD);
            gemm(1, 0, nk, D, nq, 1, dS, nk, qb, QD, 1, dk + (size_t)j0 * KD + kh * D, KD);
            gemm(1, 0, nk, D, nq, 1, S, nk, dob, QD, 1, dv + (size_t)j0 * KD + kh * D, KD);
        }
    }
}

#endif
