/*
** The model on one CUDA GPU: kern_model.inc's steps with device kernels and cuBLAS (sptt_cuda.h).
**
** Parameters and gradients are two device buffers laid out as the host model's (views bound by
** tensor name from the host model's table); the activations of a forward pass are one device
** arena laid out for the sample's length, as on the CPU. The host prepares what is cheap and
** irregular (validation, rotary positions and tables in double, the patch vectors) and uploads it.
**
** Products are cuBLAS calls on row-major data: C = op(A) op(B) is computed as the column-major
** C^T = op(B)^T op(A)^T, so A and B swap places and nothing is transposed in memory.
** Attention goes in strips of queries against the keys the strip can see (T x T is never
** held), or through the fused kernels of cuda_flash.cuh or, in TF32 and bf16 mode (the default
** there), cuda_flash_tc.cuh (sptt_cuda_set_flash); the TTT chunk loop batches each product over the fast heads (strided-batched sgemm) and
** Newton-Schulz over the 3H matrices of a chunk.
**
** Streams and graphs: everything goes to the calling thread's default stream (nvcc
** --default-stream per-thread, cuBLAS bound to cudaStreamPerThread), so that stream can be
** captured. A TTT layer's chunk loop is a few hundred small launches (products of d x d matrices,
** element-wise steps), launch-bound at moderate sizes; each loop (forward and backward, per
** layer) is captured into a CUDA Graph the first time it runs for a given activation layout and
** replayed after: the same kernels on the same pointers, so results are those of eager launches.
** A layout change (T, the video rows, a new arena) or the math mode drops the graphs. Where
** capture fails the loop runs eagerly from then on; SPTT_CUDA_GRAPHS=0 turns graphs off.
**
** Streaming inference (sptt_cuda_stream_*) is cuda_stream.cuh, included at the end: it runs this
** file's kernels and wrappers on the batches of a stream.
*/
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "sptt_model.h"
}
#include "sptt_cuda.h"
#include <cublasLt.h>
#include <cuda_profiler_api.h>
#include "cuda_kern.cuh"
#include "cuda_ttt.cuh"
#include "cuda_flash.cuh"
#include "cuda_flash_tc.cuh"


#define TS_EVENTS 256   /* events of the chunk loops' split held before they are read */

#define TTT_L2_EPS  1e-5f
#define TTT_ROW_EPS 1e-5f
#define TTT_NS_EPS  1e-7f
#define TTT_OUT_EPS 1e-5f

static const double ns_coef[5][3] = {
    { 4.0848, -6.8946, 2.9270 },
    { 3.9505, -6.3029, 2.6377 },
    { 3.7418, -5.5913, 2.3037 },
    { 2.8769, -3.1427, 1.2046 },
    { 2.8366, -3.0525, 1.2012 },
};

/* A CUDA or cuBLAS failure is reported once, as an SPTT_EIO message naming the call. */
#define CU(x) do { cudaError_t e_ = (x); if( e_ != cudaSuccess ){ \
    return sptt_fail(SPTT_EIO, "cuda: %s: %s", #x, cudaGetErrorString(e_)); } } while(0)

typedef struct gttt {
    float *q_scale, *q_off, *k_scale, *k_off, *conv_q, *conv_k, *conv_v;
    float *w_lr, *b_lr, *w_mom, *b_mom, *w_gate, *b_gate, *norm, *w0, *w1, *w2;
} gttt;

typedef struct glayer {
    int kind;
    float *ln1, *ln2, *wq, *wk, *wv, *wo, *qnorm, *knorm, *wg, *wu, *wd;
    gttt t;
} glayer;

typedef struct gparams {
    float *wte, *patch_w, *patch_b, *lnf, *lm_head;
    glayer *L;
} gparams;

typedef struct gtttacts {
    float *kt, *vt, *qa, *ka, *qc, *kc, *vc, *qnrm, *knrm, *Qf, *Kf, *Vf, *zl, *eta, *zm, *mu, *zs, *gate;
    /* the chunk loops in bf16 (ns_bf16): Qf, Kf, Vf rounded once a forward, read by both loops;
    ** NULL otherwise */
    __nv_bfloat16 *Qb, *Kb, *Vb;
    __nv_bfloat16 *Wb;          /* and the chunks' fast weights W, as their kernels write them */
    float *O, *ornd;
    /* chunk state, as ttt_state */
    int n_chunk, n_upd;
    float *W, *R, *M, *nsX, *nsA, *nsB, *nu, *mbar, *n0, *U0, *U2, *Y0, *Y2, *DH;
} gtttacts;

typedef struct gacts {
    float *x, *xn1, *rstd1, *q, *k, *v, *qh, *kh, *rstdq, *rstdk, *qr, *kr, *att, *lse, *s, *h, *hn, *rstd2;
    float *fgu, *fa;
    /* bf16 mode with the tensor-core attention: the forward's bf16 copies of qr, kr, v, reused by
    ** the backward (attKept: the forward made them), else NULL */
    float *attKeep;
    int attKept;
    gtttacts t;
} gacts;

/* A cuBLASLt product's descriptors and algorithm, kept per shape (gemm_lt) */
#define LT_PLANS 32
typedef struct ltplan {
    long key[16];
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t la, lb, lc, ld;
    cublasLtMatmulAlgo_t algo;
    int ok;
} ltplan;

/* A bf16 copy of an fp32 operand (rows x cols, row stride ld), packed; src NULL when the copy is
** not to be reused. */
typedef struct {
    const float *src;
    long rows, ld;
    int cols;
    __nv_bfloat16 *p;
    size_t cap;
    unsigned long used;
} bfslot;
#define BF_SLOTS 4
#define PBF_RANGES 1024
#define ACT_BF 256

struct sptt_cuda_model {
    sptt_config cfg;
    cublasHandle_t blas;
    cublasLtHandle_t lt;        /* for the products whose addend is not their output (gemm_lt) */
    ltplan ltPlan[LT_PLANS];
    int nLtPlan;
    size_t n_param;
    float *params, *grads;
    float *adM, *adV;           /* sptt_cuda_adamw_*: the moments (n_param each), */
    unsigned char *adGroup;     /*   the groups, */
    double *adPart;             /*   the norm's block sums */
    gparams P, G;
    gacts *A;
    /* the last forward */
    int T, Nv, nLab, nRows, haveForward;
    int grid[3];
    double loss;
    float *arena;
    size_t arenaCap;
    float *xL, *xf, *rstdf, *logits, *lseLab, *lossRow, *patches, *cosT, *sinT;
    float *dx, *dxn, *dq, *dk, *dv, *ds, *dhn, *dfa, *dfgu, *dqr, *dkr, *dlog, *xrows, *attS, *attdS, *attD, *attB, *tttS;
    /* device integers: tokens, targets, vid, lab, rows, label targets (T each), isvid (T bytes) */
    int32_t *dTok, *dTgt, *dVid, *dLab, *dRows, *dTg;
    /* the embedding's backward without atomics: positions sorted by token (ord), each token's
    ** run [seg[u], seg[u+1]) and its id (utok), nUtok tokens */
    int32_t *dOrd, *dSeg, *dUtok;
    int nUtok;
    uint8_t *dIsvid;
    int intCap;
    /* host copies */
    int32_t *hPos, *hVid, *hLab, *hRows, *hTg, *hOrd, *hSeg, *hUtok, *hCnt;
    uint8_t *hIsvid;
    float *hPatch, *hLoss;
    /* the rotary positions (3 T, after the integers above) and per column j of the table its
    ** frequency and axis (the table is made on the device: on the host its T x half sines and
    ** cosines in double took milliseconds a step, with the GPU idle) */
    int32_t *dPos;
    double *dFreq;
    int32_t *dAxis;
    int hostCap;
    size_t hPatchCap;
    float weight;
    int timing;
    sptt_stats stats;
    void (*xHook)(void *, int);
    void *pHookCtx;
    int hookAsync;              /* the hook runs without a device synchronisation (stream order) */
    int math;                   /* SPTT_CUDA_MATH_*: the products' compute type */
    void *blasWs;               /* cuBLAS workspace, set once so that capture never allocates */
    size_t blasWsSize;
    float *colPart;             /* the column sums' partial sums, colCap floats */
    bfslot bf[BF_SLOTS];        /* bf16 mode: the large products' operands rounded to bf16 (gemm_bf16) */
    int bfKeep;                 /* the copies are reused while set (bf_keep) */
    /* bf16 mode: the weight matrices' bf16 copies, each made on its first use in a step (forward
    ** and backward read each weight once each); pbfDone lists them since the step's forward began
    ** (the parameters change only between steps): offset in the parameters, size, and place in
    ** pbf (laid out in order of use, each at a multiple of 8 elements, as cuBLAS's fast kernels
    ** want 16-byte aligned operands) */
    __nv_bfloat16 *pbf;
    size_t pbfCap, pbfUsed;
    size_t pbfDone[PBF_RANGES][3];
    int nPbfDone;
    /* bf16 mode: activations kept as bf16 alone (act_bf16_claim), since the forward began; bfErr
    ** set where a product on one of them could not run (the step then fails) */
    struct { const float *src; long rows; int cols; } actBf[ACT_BF];
    int nActBf, bfErr;
    unsigned long bfTick;
    double bfMin;               /* the multiply-adds from which a product takes the bf16 copies */
    size_t colCap;
    /* the TTT chunk loops' graphs: slot 2 l + (0 forward, 1 backward), valid for the layout key */
    int useGraphs;
    cudaGraphExec_t *aGraph;
    float *gArena;
    int gT, gNv, gMath;
    int nCaptured, nReplayed;
    int flash;                  /* SPTT_CUDA_ATT_*: strips, fused SIMT (cuda_flash.cuh) or tensor-core (cuda_flash_tc.cuh) */
    int attBq;                  /* the strips' height when set (SPTT_CUDA_ATT_BQ), else 0: att_bq's choice */
    /* the chunk loops' split by part (sptt_cuda_set_ttt_split): an event after each group of
    ** launches, tsSec[i] the part that event i ends (-1: a start) */
    int tsOn, tsN;
    cudaEvent_t tsEv[TS_EVENTS];
    int tsSec[TS_EVENTS];
    double tsFl[TS_EVENTS];
    double tsSeconds[SPTT_CUDA_TS_COUNT], tsFlops[SPTT_CUDA_TS_COUNT];
};

// ----------------------------------------------------------------------------
// cuBLAS, row-major

/* The products' compute type per math mode: fp32 is plain sgemm (no tensor cores); TF32 and
** bf16 let cuBLAS round the fp32 operands to that format inside the product (the data stay
** fp32 in memory) and accumulate in fp32. */
static cublasComputeType_t math_compute(int math)
{
    return math == SPTT_CUDA_MATH_BF16 ? CUBLAS_COMPUTE_32F_FAST_16BF
         : math == SPTT_CUDA_MATH_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

/* 1 while the stream is being captured into a graph (or its state cannot be read): no allocation
** then, as the graph would keep pointers into memory freed later */
static int capturing(void)
{
    cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
    return cudaStreamIsCapturing(cudaStreamPerThread, &cs) != cudaSuccess || cs != cudaStreamCaptureStatusNone;
}

/* While a phase's products read the same operand more than once (a linear layer's backward reads
** the output gradient twice; q, k and v read one normed input), bf_keep(m, 1) lets them share its
** bf16 copy: a copy is reused where its source, shape and stride match, until bf_keep(m, 0). The
** caller sets it only around products whose operands nothing else writes meanwhile; a product's
** own output drops any copy it overlaps (bf_written). */
static void bf_keep(sptt_cuda_model *m, int on)
{
    m->bfKeep = on;
    if( !on ) for(int i = 0; i < BF_SLOTS; i++) m->bf[i].src = NULL;
}

static void bf_written(sptt_cuda_model *m, const float *C, long rows, int cols, long ld)
{
    const float *e = C + (rows - 1) * ld + cols;
    for(int i = 0; i < BF_SLOTS; i++){
        bfslot *b = &m->bf[i];
        if( b->src && b->src < e && C < b->src + (b->rows - 1) * b->ld + b->cols ) b->src = NULL;
    }
}

/* The bf16 copy of src (rows x cols, stride ld) in a slot other than avoid: the kept one, else the
** least recently used slot, grown where needed (never during a stream capture: NULL then) and filled
** by a rounding pass unless the caller's kernel writes it (fill 0, bf_claim). */
static bfslot *bf_slot(sptt_cuda_model *m, const float *src, long rows, int cols, long ld, const bfslot *avoid, int fill)
{
    bfslot *b = NULL;
    for(int i = 0; m->bfKeep && i < BF_SLOTS; i++){
        bfslot *t = &m->bf[i];
        if( t->src == src && t->rows == rows && t->cols == cols && t->ld == ld ){
            t->used = ++m->bfTick;
            return t;
        }
    }
    for(int i = 0; i < BF_SLOTS; i++){
        bfslot *t = &m->bf[i];
        if( t != avoid && (!b || t->used < b->used) ) b = t;
    }
    size_t n = (size_t)rows * (size_t)cols;
    if( n > b->cap ){
        if( capturing() ) return NULL;
        cudaFree(b->p);
        b->p = NULL;
        b->cap = 0;
        b->src = NULL;
        if( cudaMalloc((void **)&b->p, sizeof(__nv_bfloat16) * n) != cudaSuccess ){
            cudaGetLastError();
            return NULL;
        }
        b->cap = n;
    }
    if( fill ) to_bf16(b->p, src, rows, cols, ld);
    b->src = m->bfKeep ? src : NULL;
    b->rows = rows;
    b->cols = cols;
    b->ld = ld;
    b->used = ++m->bfTick;
    return b;
}

static bfslot *bf_copy(sptt_cuda_model *m, const float *src, long rows, int cols, long ld, const bfslot *avoid)
{
    return bf_slot(m, src, rows, cols, ld, avoid, 1);
}

/* 1 if a product of M x N x K runs on bf16 copies (gemm_bf16) */
static int bf_wanted(const sptt_cuda_model *m, int M, int N, int K)
{
    return m->math == SPTT_CUDA_MATH_BF16 && (double)M * N * K >= m->bfMin &&
           !(m->bfMin > 0 && (M < 256 || N < 256 || K < 256));
}

/* Inside bf_keep, where the product of M x N x K that will read src (rows x cols, packed) runs in
** bf16: a slot for src's bf16 copy, to be written by the kernel that writes src (which saves the
** rounding pass); NULL otherwise. */
static __nv_bfloat16 *bf_claim(sptt_cuda_model *m, const float *src, long rows, int cols, int M, int N, int K)
{
    assert(m->bfKeep);
    if( !bf_wanted(m, M, N, K) ) return NULL;
    bfslot *b = bf_slot(m, src, rows, cols, cols, NULL, 0);
    return b ? b->p : NULL;
}

/* The bf16 copy of a packed operand inside the parameters (a weight matrix), from the mirror:
** rounded on its first use since the step's forward began; NULL for any other operand, or where the
** mirror cannot be had. */
static const __nv_bfloat16 *param_bf16(sptt_cuda_model *m, const float *src, long rows, int cols, long ld)
{
    if( ld != cols || src < m->params || src >= m->params + m->n_param ) return NULL;
    size_t off = (size_t)(src - m->params), n = (size_t)rows * (size_t)cols;
    if( off + n > m->n_param ) return NULL;
    for(int i = 0; i < m->nPbfDone; i++)
        if( m->pbfDone[i][0] == off && m->pbfDone[i][1] == n ) return m->pbf + m->pbfDone[i][2];
    if( !m->pbf ){
        if( capturing() ) return NULL;
        size_t cap = m->n_param + 8 * (size_t)PBF_RANGES;
        if( cudaMalloc((void **)&m->pbf, sizeof(__nv_bfloat16) * cap) != cudaSuccess ){
            cudaGetLastError();
            m->pbf = NULL;
            return NULL;
        }
        m->pbfCap = cap;
    }
    size_t at = m->nPbfDone ? m->pbfUsed : 0;
    if( m->nPbfDone == PBF_RANGES || at + n > m->pbfCap ) return NULL;
    to_bf16(m->pbf + at, src, rows, cols, ld);
    m->pbfDone[m->nPbfDone][0] = off;
    m->pbfDone[m->nPbfDone][1] = n;
    m->pbfDone[m->nPbfDone++][2] = at;
    m->pbfUsed = at + ((n + 7) & ~(size_t)7);
    return m->pbf + at;
}

/* bf16 mode: an activation (rows x cols, packed) that only products of M x N x K read, on bf16
** operands, is kept as bf16 alone, packed into the first half of its fp32 buffer: the kernel that
** makes it writes the returned pointer and no fp32, and gemm_bf16 finds it there (act_bf16) until
** the next forward. Skipping the fp32 write and the rounding pass before each product saves two
** passes over the tensor (SwiGLU's output: 4 T H floats a layer). NULL (keep fp32) where those
** products would not run in bf16. */
static __nv_bfloat16 *act_bf16_claim(sptt_cuda_model *m, float *src, long rows, int cols, int M, int N, int K)
{
    if( !bf_wanted(m, M, N, K) || m->nActBf == ACT_BF ) return NULL;
    m->actBf[m->nActBf].src = src;
    m->actBf[m->nActBf].rows = rows;
    m->actBf[m->nActBf++].cols = cols;
    return (__nv_bfloat16 *)src;
}

static const __nv_bfloat16 *act_bf16(const sptt_cuda_model *m, const float *src, long rows, int cols, long ld)
{
    for(int i = 0; i < m->nActBf; i++)
        if( m->actBf[i].src == src && m->actBf[i].rows == rows && m->actBf[i].cols == cols && ld == cols )
            return (const __nv_bfloat16 *)src;
    return NULL;
}

/* gemm_lt's element types: every operand fp32 (the math mode's compute type), every operand bf16,
** or bf16 factors with an fp32 addend and output (these two accumulate in fp32) */
enum { LT_F32 = 0, LT_BF16 = 1, LT_BF16_F32 = 2 };
static void gemm_lt(sptt_cuda_model *m, int ty, int ta, int tb, int M, int N, int K, float alpha, const void *A, int lda,
                    long sA, const void *B, int ldb, long sB, float beta, const void *Cin, int ldc, long sC, void *D,
                    int ldd, long sD, int batch);

/* bf16 mode, a large product (every side 256 or more, 2^30 multiply-adds or more, where the
** product's time dwarfs the rounding pass; SPTT_CUDA_BF16_MIN=n at creation moves the 2^30 to n
** and with n = 0 drops the side limit too, so that small tests reach this path): its operands are
** rounded to bf16 copies (bf_copy) and cuBLAS runs bf16 x bf16 -> fp32 on the tensor cores.
** cuBLAS's CUBLAS_COMPUTE_32F_FAST_16BF on fp32 operands ran at the TF32 rate with TF32's results
** (measured on the H200), so only real bf16 operands reach the bf16 rate. 1 if it ran the product. */
static int gemm_bf16(sptt_cuda_model *m, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc, const float *Cin = NULL)
{
    if( !bf_wanted(m, M, N, K) ) return 0;
    // packed copies: A as stored (M x K, or K x M when transposed), likewise B
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    const __nv_bfloat16 *aa = act_bf16(m, A, ar, ac, lda), *ab = act_bf16(m, B, br, bc, ldb);
    const __nv_bfloat16 *a16 = aa ? aa : param_bf16(m, A, ar, ac, lda), *b16 = ab ? ab : param_bf16(m, B, br, bc, ldb);
    bfslot *sa = a16 ? NULL : bf_copy(m, A, ar, ac, lda, NULL);
    bfslot *sb = b16 || (!a16 && !sa) ? NULL : bf_copy(m, B, br, bc, ldb, sa);
    if( (!a16 && !sa) || (!b16 && !sb) ){
        if( !aa && !ab ) return 0;   // the fp32 product instead
        m->bfErr = 1;                // an operand exists only in bf16: the step fails
        return 1;
    }
    const __nv_bfloat16 *pa = a16 ? a16 : sa->p, *pb = b16 ? b16 : sb->p;
    if( Cin && Cin != C )   // C = alpha A B + beta Cin: one cuBLASLt product, no pass adding Cin after
        gemm_lt(m, LT_BF16_F32, ta, tb, M, N, K, alpha, pa, ac, 0, pb, bc, 0, beta, Cin, ldc, 0, C, ldc, 0, 1);
    else
        cublasGemmEx(m->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, pb,
                     CUDA_R_16BF, bc, pa, CUDA_R_16BF, ac, &beta, C, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F,
                     CUBLAS_GEMM_DEFAULT);
    if( m->bfKeep ) bf_written(m, C, M, N, ldc);
    return 1;
}

static void gemm(sptt_cuda_model *m, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc)
{
    if( M <= 0 || N <= 0 ) return;
    if( K <= 0 ){
        assert(beta == 1.0f);   // only the empty label set gets here, accumulating nothing
        return;
    }
    cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if( gemm_bf16(m, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) ) return;
    if( m->math == SPTT_CUDA_MATH_FP32 ){
        cublasSgemm(m->blas, ob, oa, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc);
        return;
    }
    cublasGemmEx(m->blas, ob, oa, N, M, K, &alpha, B, CUDA_R_32F, ldb, A, CUDA_R_32F, lda, &beta, C, CUDA_R_32F, ldc,
                 math_compute(m->math), CUBLAS_GEMM_DEFAULT);
}

static void gemmB(sptt_cuda_model *m, int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                  long sA, const float *B, int ldb, long sB, float beta, float *C, int ldc, long sC, int batch)
{
    if( M <= 0 || N <= 0 || K <= 0 || batch <= 0 ) return;
    cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if( m->math == SPTT_CUDA_MATH_FP32 ){
        cublasSgemmStridedBatched(m->blas, ob, oa, N, M, K, &alpha, B, ldb, sB, A, lda, sA, &beta, C, ldc, sC, batch);
        return;
    }
    cublasGemmStridedBatchedEx(m->blas, ob, oa, N, M, K, &alpha, B, CUDA_R_32F, ldb, sB, A, CUDA_R_32F, lda, sA, &beta,
                               C, CUDA_R_32F, ldc, sC, batch, math_compute(m->math), CUBLAS_GEMM_DEFAULT);
}

/* gemmB on bf16 operands with fp32 sums and an fp32 output (the TTT chunk loops in bf16 mode) */
static void gemmB(sptt_cuda_model *m, int ta, int tb, int M, int N, int K, float alpha, const __nv_bfloat16 *A, int lda,
                  long sA, const __nv_bfloat16 *B, int ldb, long sB, float beta, float *C, int ldc, long sC, int batch)
{
    if( M <= 0 || N <= 0 || K <= 0 || batch <= 0 ) return;
    cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasGemmStridedBatchedEx(m->blas, ob, oa, N, M, K, &alpha, B, CUDA_R_16BF, ldb, sB, A, CUDA_R_16BF, lda, sA, &beta,
                               C, CUDA_R_32F, ldc, sC, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

/* A chunk loop's product operand of element type T: fp32 operands are read where they are (src);
** bf16 ones are src (rows x cols, row stride ld) rounded into dst, packed, and read from there. */
static const float *opnd(float *dst, const float *src, long rows, int cols, long ld)
{
    (void)dst; (void)rows; (void)cols; (void)ld;
    return src;
}

static const __nv_bfloat16 *opnd(__nv_bfloat16 *dst, const float *src, long rows, int cols, long ld)
{
    to_bf16(dst, src, rows, cols, ld);
    return dst;
}

/* The block at off (rows x cols, packed) of a chunk loop's operand src: where the loop runs in bf16
** and the forward kept a bf16 copy of all of src (kept), that copy's block; else opnd's */
template <typename T>
static const T *kept_opnd(const __nv_bfloat16 *kept, T *dst, const float *src, size_t off, long rows, int cols)
{
    if( sizeof(T) == sizeof(__nv_bfloat16) && kept ) return (const T *)(kept + off);
    return opnd(dst, src + off, rows, cols, cols);
}

/* A column-major rows x cols layout of type ty and leading dimension ld, batch matrices stride apart */
static cublasLtMatrixLayout_t lt_layout(cudaDataType ty, int rows, int cols, int ld, long stride, int batch)
{
    cublasLtMatrixLayout_t l = NULL;
    int32_t nb = batch;
    int64_t st = stride;
    if( cublasLtMatrixLayoutCreate(&l, ty, (uint64_t)rows, (uint64_t)cols, ld) != CUBLAS_STATUS_SUCCESS ) return NULL;
    if( cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &nb, sizeof nb) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &st, sizeof st) != CUBLAS_STATUS_SUCCESS ){
        cublasLtMatrixLayoutDestroy(l);
        return NULL;
    }
    return l;
}


/* The plan for a shape (descriptors and the heuristic's first algorithm), made once; NULL where
** cuBLASLt has none or the cache is full. */
static ltplan *lt_plan(sptt_cuda_model *m, int ty, int ta, int tb, int M, int N, int K, int lda, long sA, int ldb,
                       long sB, int ldc, long sC, int ldd, long sD, int batch)
{
    long key[16] = { ta, tb, M, N, K, lda, sA, ldb, sB, ldc, sC, ldd, sD, batch, m->math, ty };
    for(int i = 0; i < m->nLtPlan; i++)
        if( memcmp(m->ltPlan[i].key, key, sizeof key) == 0 ) return m->ltPlan[i].ok ? &m->ltPlan[i] : NULL;
    if( !m->lt || m->nLtPlan == LT_PLANS ) return NULL;
    ltplan *p = &m->ltPlan[m->nLtPlan++];
    memset(p, 0, sizeof *p);
    memcpy(p->key, key, sizeof key);
    cudaDataType tab = ty == LT_F32 ? CUDA_R_32F : CUDA_R_16BF, tcd = ty == LT_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t ct = ty == LT_F32 ? math_compute(m->math) : CUBLAS_COMPUTE_32F;
    // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: B first (see gemm)
    cublasOperation_t ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N, oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    if( cublasLtMatmulDescCreate(&p->op, ct, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS ) return NULL;
    cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ob, sizeof ob);
    cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &oa, sizeof oa);
    p->la = lt_layout(tab, tb ? K : N, tb ? N : K, ldb, sB, batch);
    p->lb = lt_layout(tab, ta ? M : K, ta ? K : M, lda, sA, batch);
    p->lc = lt_layout(tcd, N, M, ldc, sC, batch);
    p->ld = lt_layout(tcd, N, M, ldd, sD, batch);
    if( !p->la || !p->lb || !p->lc || !p->ld ) return NULL;
    cublasLtMatmulPreference_t pref = NULL;
    cublasLtMatmulHeuristicResult_t res;
    int nRes = 0;
    if( cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS ) return NULL;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &m->blasWsSize,
                                         sizeof m->blasWsSize);
    if( cublasLtMatmulAlgoGetHeuristic(m->lt, p->op, p->la, p->lb, p->lc, p->ld, pref, 1, &res, &nRes) ==
            CUBLAS_STATUS_SUCCESS && nRes > 0 ){
        p->algo = res.algo;
        p->ok = 1;
    }
    cublasLtMatmulPreferenceDestroy(pref);
    return p->ok ? p : NULL;
}

/* D = alpha op(A) op(B) + beta Cin, batched with strides, where the addend Cin need not be the
** output: one cuBLASLt call instead of a scaling pass and a product. ty (LT_*) gives the element
** types; LT_F32 runs in the math mode's compute type (bf16 mode's fp32 operands give TF32, as with
** gemmB). Newton-Schulz's steps have this form. Without a plan for the shape it falls back to a
** scaling pass (each matrix dense: ldc = ldd = N) and cuBLAS. */
static void gemm_lt(sptt_cuda_model *m, int ty, int ta, int tb, int M, int N, int K, float alpha, const void *A, int lda,
                    long sA, const void *B, int ldb, long sB, float beta, const void *Cin, int ldc, long sC, void *D,
                    int ldd, long sD, int batch)
{
    if( M <= 0 || N <= 0 || K <= 0 || batch <= 0 ) return;
    // an fp32 product whose addend is its output (or absent) is plain cuBLAS
    int plain = ty == LT_F32 && (beta == 0 || (Cin == D && ldc == ldd && sC == sD));
    ltplan *p = plain ? NULL : lt_plan(m, ty, ta, tb, M, N, K, lda, sA, ldb, sB, ldc, sC, ldd, sD, batch);
    if( p && cublasLtMatmul(m->lt, p->op, &alpha, B, p->la, A, p->lb, &beta, Cin, p->lc, D, p->ld, &p->algo, m->blasWs,
                            m->blasWsSize, cudaStreamPerThread) == CUBLAS_STATUS_SUCCESS )
        return;
    long dd = (long)M * N, n = dd * batch;
    if( beta != 0 && Cin != D ){
        assert(ldc == N && ldd == N);
        if( ty == LT_BF16 )
            k_mat_scale<<<nblk(n), NT>>>((__nv_bfloat16 *)D, sD, beta, (const __nv_bfloat16 *)Cin, sC, dd, batch);
        else
            k_mat_scale<<<nblk(n), NT>>>((float *)D, sD, beta, (const float *)Cin, sC, dd, batch);
        beta = 1;
    }
    if( ty == LT_F32 ){
        gemmB(m, ta, tb, M, N, K, alpha, (const float *)A, lda, sA, (const float *)B, ldb, sB, beta, (float *)D, ldd, sD,
              batch);
        return;
    }
    cudaDataType tcd = ty == LT_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasGemmStridedBatchedEx(m->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B,
                               CUDA_R_16BF, ldb, sB, A, CUDA_R_16BF, lda, sA, &beta, D, tcd, ldd, sD, batch,
                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

// ----------------------------------------------------------------------------
// CUDA Graphs of the chunk loops (see the header comment)

static void graphs_drop(sptt_cuda_model *m)
{
    if( !m->aGraph ) return;
    for(int i = 0; i < 2 * m->cfg.n_layer; i++){
        if( m->aGraph[i] ) cudaGraphExecDestroy(m->aGraph[i]);
        m->aGraph[i] = NULL;
    }
}

/* Replays slot's graph if one is valid for the current layout; 1 if it did. */
static int graph_replay(sptt_cuda_model *m, int slot)
{
    if( !m->useGraphs || m->tsOn ) return 0;
    if( m->gArena != m->arena || m->gT != m->T || m->gNv != m->Nv || m->gMath != m->math ){
        graphs_drop(m);
        m->gArena = m->arena;
        m->gT = m->T;
        m->gNv = m->Nv;
        m->gMath = m->math;
    }
    if( !m->aGraph[slot] ) return 0;
    if( cudaGraphLaunch(m->aGraph[slot], cudaStreamPerThread) != cudaSuccess ){
        cudaGetLastError();
        graphs_drop(m);
        m->useGraphs = 0;
        return 0;
    }
    m->nReplayed++;
    return 1;
}

/* Starts capturing the calling thread's stream; 1 if capturing. */
static int graph_begin(sptt_cuda_model *m)
{
    if( !m->useGraphs || m->tsOn ) return 0;
    if( cudaStreamBeginCapture(cudaStreamPerThread, cudaStreamCaptureModeThreadLocal) != cudaSuccess ){
        cudaGetLastError();
        m->useGraphs = 0;
        return 0;
    }
    return 1;
}

/* Ends the capture, keeps the graph in slot and launches it; 0 if that failed (the captured work
** has not run then: the caller issues it again, eagerly, and graphs stay off). */
static int graph_end(sptt_cuda_model *m, int slot)
{
    cudaGraph_t g = NULL;
    cudaGraphExec_t x = NULL;
    cudaError_t e = cudaStreamEndCapture(cudaStreamPerThread, &g);
    if( e == cudaSuccess && g ) e = cudaGraphInstantiate(&x, g, 0);
    if( g ) cudaGraphDestroy(g);
    if( e == cudaSuccess && x ) e = cudaGraphLaunch(x, cudaStreamPerThread);
    if( e != cudaSuccess || !x ){
        cudaGetLastError();
        if( x ) cudaGraphExecDestroy(x);
        graphs_drop(m);
        m->useGraphs = 0;
        return 0;
    }
    m->aGraph[slot] = x;
    m->nCaptured++;
    return 1;
}

/* CALL (a chunk loop) through slot's graph: replayed, or captured then launched, or eager. */
#define GRAPHED(m, slot, CALL) do { \
        if( !graph_replay((m), (slot)) ){ \
            int cap_ = graph_begin(m); \
            CALL; \
            if( cap_ && !graph_end((m), (slot)) ){ CALL; } \
        } \
    } while(0)

/* out (T, OC) = inp (T, IC) w^T (+ b) */
static void linear_fwd(sptt_cuda_model *m, float *out, const float *inp, const float *w, const float *b, int T, int IC,
                       int OC)
{
    gemm(m, 0, 1, T, OC, IC, 1, inp, IC, w, IC, 0, out, OC);
    if( b ) k_bias<<<nblk((long)T * OC), NT>>>(out, b, T, OC);
}

/* out (T, OC) = inp w^T + res: in bf16 mode one product adding res (gemm_bf16's Cin), else the
** product and an add */
static void linear_fwd_res(sptt_cuda_model *m, float *out, const float *inp, const float *w, const float *res, int T,
                           int IC, int OC)
{
    if( gemm_bf16(m, 0, 1, T, OC, IC, 1, inp, IC, w, IC, 1, out, OC, res) ) return;
    linear_fwd(m, out, inp, w, NULL, T, IC, OC);
    k_axpby<<<nblk((long)T * OC), NT>>>(out, 1, res, 1, (long)T * OC);
}

/* out += the sums of np strips' partial sums of n columns: a warp per column from 32 strips on
** (with a thread per column these passes averaged 6 us a call at 128 strips, hidden 2,048) */
static void colsum_fin(float *out, const float *part, int np, int n)
{
    if( np >= 32 && n <= 4096 ) k_colsum_fin_w<<<wblk(n), NT>>>(out, part, np, n);
    else k_colsum_fin<<<nblk(n), NT>>>(out, part, np, n);
}

/* out[c] += sum_r a[r,c] (b ? b[r,c] : 1) (rs ? rs[r] : 1) over R rows of width n, in a fixed order */
static void colsum(sptt_cuda_model *m, float *out, const float *a, const float *b, const float *rs, long R, int n)
{
    long per = 0;
    int np = colsum_parts(R, &per);
    assert((size_t)np * n <= m->colCap);
    k_colsum_part<<<dim3((unsigned)((n + 31) / 32), (unsigned)(np / 8)), NT>>>(m->colPart, a, b, rs, R, n, per);
    colsum_fin(out, m->colPart, np, n);
}

/* the backward of out = x s + o (s, o per column): dx += dout s (add 0: dx = dout s);
** ds += colsum(dout x), doff += colsum(dout), as colsum would give them, in one pass */
static void affine_bwd(sptt_cuda_model *m, float *dx, int add, float *ds, float *doff, const float *dout, const float *x,
                       const float *s, long R, int n)
{
    long per = 0;
    int np = colsum_parts(R, &per);
    assert((size_t)2 * np * n <= m->colCap);
    k_affine_bwd<<<dim3((unsigned)((n + 31) / 32), (unsigned)(np / 8)), NT>>>(dx, m->colPart, dout, x, s, R, n, per, np,
                                                                              add);
    colsum_fin(ds, m->colPart, np, n);
    colsum_fin(doff, m->colPart + (size_t)np * n, np, n);
}

/* dinp += dout w (acc 0: dinp = dout w, no zeroing pass before), dw += dout^T inp, db += colsum */
static void linear_bwd(sptt_cuda_model *m, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                       const float *w, int T, int IC, int OC, int acc = 1)
{
    if( dinp ) gemm(m, 0, 0, T, IC, OC, 1, dout, OC, w, IC, acc ? 1.0f : 0.0f, dinp, IC);
    gemm(m, 1, 0, OC, IC, T, 1, dout, OC, inp, IC, 1, dw, IC);
    if( db ) colsum(m, db, dout, NULL, NULL, T, OC);
}

/* o16: out's bf16 copy as well (bf_claim), or NULL; out NULL: that copy alone (where rn_rows) */
static void rmsnorm_fwd(float *out, __nv_bfloat16 *o16, float *rstd, const float *x, const float *g, long R, int n,
                        float eps)
{
    if( !out ) assert(o16 && rn_rows(n, o16, x, g));
    if( rn_rows(n, out ? (const void *)out : (const void *)o16, x, g) && ((uintptr_t)o16 & 7) == 0 ){
        k_rmsnorm_fwd_row<<<(unsigned)R, NT>>>(out, o16, rstd, x, g, n, eps);
        return;
    }
    int L = rs_lanes(n, out, x, g, NULL);
    if( L ) RS_LAUNCH(L, k_rmsnorm_fwd_sub, R, out, rstd, x, g, R, n, eps);
    else k_rmsnorm_fwd<<<wblk(R), NT>>>(out, rstd, x, g, R, n, eps);
    if( o16 ) to_bf16(o16, out, R, n, n);
}

/* dx += ..., dg += ... */
/* acc 0: dx = ... (no zeroing pass before) */
static void rmsnorm_bwd(sptt_cuda_model *m, float *dx, float *dg, const float *dout, const float *x, const float *g,
                        const float *rstd, long R, int n, int acc = 1)
{
    if( rn_rows(n, dx, dout, x) && ((uintptr_t)g & 15) == 0 )
        k_rmsnorm_bwd_row<<<(unsigned)R, NT>>>(dx, dout, x, g, rstd, n, acc);
    else if( n >= 128 && rs_lanes(n, dx, dout, x, g) == 32 )   // narrower: the warp kernel was faster (49 against 62 us at 64)
        k_rmsnorm_bwd_sub<32><<<nblk(R * 32), NT>>>(dx, dout, x, g, rstd, R, n, acc);
    else
        k_rmsnorm_bwd<<<wblk(R), NT>>>(dx, dout, x, g, rstd, R, n, acc);
    colsum(m, dg, dout, x, rstd, R, n);
}

static void zero(float *p, size_t n) { if( n ) cudaMemsetAsync(p, 0, sizeof(float) * n); }
static void copyd(float *dst, const float *src, size_t n)
{
    if( n ) cudaMemcpyAsync(dst, src, sizeof(float) * n, cudaMemcpyDeviceToDevice);
}
/* y = x rotated (y may be x); a rotation of every dim writes all of y, else x is copied first */
static void rope2(float *y, const float *x, const float *cosT, const float *sinT, int T, int nh, int hd, int ld, int r,
                  int half, float sign)
{
    if( y != x && (r < hd || ld != nh * hd) ){
        copyd(y, x, (size_t)T * ld);
        x = y;
    }
    int np = nh * (r / 2);
    if( np > 0 && T > 0 )
        k_rope<<<dim3(nblk(np), T < 65535 ? (unsigned)T : 65535u), NT>>>(y, x, cosT, sinT, T, nh, hd, ld, r, half, sign);
}

static void rope(float *x, const float *cosT, const float *sinT, int T, int nh, int hd, int ld, int r, int half, float sign)
{
    rope2(x, x, cosT, sinT, T, nh, hd, ld, r, half, sign);
}

/* y (T, nh hd), bf16 = rotate-half of whole heads of x (rows of stride nh hd), forward: rope2's
** values rounded once, for operand copies that are all a product needs */
static void rope_bf16(__nv_bfloat16 *y, const float *x, const float *cosT, const float *sinT, int T, int nh, int hd)
{
    int np = nh * (hd / 2);
    if( np > 0 && T > 0 )
        k_rope<<<dim3(nblk(np), T < 65535 ? (unsigned)T : 65535u), NT>>>(y, x, cosT, sinT, T, nh, hd, nh * hd, hd, hd / 2,
                                                                         1.0f);
}

// ----------------------------------------------------------------------------
// Attention: strips of queries, one strided-batched product per group member g (query heads g,
// g + grp, ... share no KV head, so a batch never writes one gradient block twice).
//
// A strip's products P V and dS K give (strip, D) per head: with strips of 256 rows and D = 64
// they fill a fraction of the GPU, so strips grow with the window: half of it and at most T/8,
// 256 to 1024 rows (the scores a strip computes outside its rows' windows, the triangle past the
// diagonal and the one before the window, stay under about a third). Score rows are padded to 64
// floats so every row starts aligned.

/* fixed: SPTT_CUDA_ATT_BQ at creation (a multiple of 64), to measure other strip heights; 0 here */
static int att_bq(int T, int W, int fixed)
{
    if( fixed > 0 ) return fixed < T ? fixed : T;
    int w = W < T ? W : T, bq = (w / 2 < T / 8 ? w / 2 : T / 8) & ~63;
    bq = bq < 256 ? 256 : bq > 1024 ? 1024 : bq;
    return bq < T ? bq : T;
}

static int att_ld(int nk) { return (nk + 63) & ~63; }

static size_t att_scratch(int T, int W, int NH, int fixed)
{
    int w = W < T ? W : T, bq = att_bq(T, W, fixed);
    return (size_t)NH * bq * (size_t)att_ld(w + bq);
}

/* the tensor-core kernels: asked for, bf16 or TF32 mode, a head width they have */
static int att_tc(const sptt_cuda_model *m, int D)
{
    return m->flash == SPTT_CUDA_ATT_TC && m->math != SPTT_CUDA_MATH_FP32 && tc_head_dim(D);
}

/* Whether attention_fwd will keep its bf16 copies of q, k, v in keep (a layer's attKeep) */
static int att_keeps(const sptt_cuda_model *m, const float *keep, int D)
{
    return keep && att_tc(m, D) && m->math == SPTT_CUDA_MATH_BF16;
}

/* keep: where non-NULL (bf16 mode), the tensor-core kernels' copies of q, k, v go there for the
** backward; *kept says whether they did. qkKept: those of q and k are there already (att_keeps;
** rope wrote them), q and k are not read. */
static void attention_fwd(sptt_cuda_model *m, float *out, float *lse, const float *q, const float *k, const float *v,
                          int T, int NH, int KV, int D, int W, float *S, float *keep, int qkKept, int *kept)
{
    int QD = NH * D, KD = KV * D, grp = NH / KV, bq = att_bq(T, W, m->attBq);
    float scale = 1.0f / sqrtf((float)D);
    int tf32 = m->math == SPTT_CUDA_MATH_TF32;
    *kept = 0;
    assert(!qkKept || att_keeps(m, keep, D));
    if( att_tc(m, D) &&
        flash_tc_fwd(tf32, keep && !tf32 ? keep : m->attB, qkKept, out, lse, q, k, v, T, NH, KV, D, W, scale) ){
        *kept = keep && !tf32;
        return;
    }
    if( m->flash == SPTT_CUDA_ATT_FLASH && flash_fwd(out, lse, q, k, v, T, NH, KV, D, W, scale) ) return;
    for(int i0 = 0; i0 < T; i0 += bq){
        int nq = T - i0 < bq ? T - i0 : bq;
        int j0 = i0 - W + 1 > 0 ? i0 - W + 1 : 0, nk = i0 + nq - j0, ld = att_ld(nk);
        long snk = (long)nq * ld;
        for(int g = 0; g < grp; g++)
            gemmB(m, 0, 1, nq, nk, D, scale, q + (size_t)i0 * QD + g * D, QD, (long)grp * D, k + (size_t)j0 * KD, KD, D,
                  0, S + g * snk, ld, grp * snk, KV);
        k_att_probs<<<wblk((long)NH * nq), NT>>>(S, lse, i0, nq, j0, nk, ld, W, NH);
        for(int g = 0; g < grp; g++)
            gemmB(m, 0, 0, nq, D, nk, 1, S + g * snk, ld, grp * snk, v + (size_t)j0 * KD, KD, D, 0,
                  out + (size_t)i0 * QD + g * D, QD, (long)grp * D, KV);
    }
}

/* accumulates into dq, dk, dv (acc 0: overwrites them); kept: the forward's bf16 copies of q, k,
** v (attention_fwd), or NULL */
static void attention_bwd(sptt_cuda_model *m, float *dq, float *dk, float *dv, const float *dout, const float *q,
                          const float *k, const float *v, const float *out, const float *lse, int T, int NH, int KV,
                          int D, int W, float *S, float *dS, float *Dr, float *kept, int acc)
{
    int QD = NH * D, KD = KV * D, grp = NH / KV, bq = att_bq(T, W, m->attBq);
    float scale = 1.0f / sqrtf((float)D);
    int tf32 = m->math == SPTT_CUDA_MATH_TF32;
    k_att_drow<<<wblk((long)T * NH), NT>>>(Dr, dout, out, T, NH, D);
    if( att_tc(m, D) && flash_tc_bwd(tf32, m->attB, tf32 ? NULL : kept, dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, D,
                                     W, scale, acc) )
        return;
    if( !acc ){   // the other kernels only accumulate
        zero(dq, (size_t)T * QD);
        zero(dk, (size_t)T * KD);
        zero(dv, (size_t)T * KD);
    }
    if( m->flash == SPTT_CUDA_ATT_FLASH && flash_bwd(dq, dk, dv, dout, q, k, v, lse, Dr, T, NH, KV, D, W, scale) )
        return;
    for(int i0 = 0; i0 < T; i0 += bq){
        int nq = T - i0 < bq ? T - i0 : bq;
        int j0 = i0 - W + 1 > 0 ? i0 - W + 1 : 0, nk = i0 + nq - j0, ld = att_ld(nk);
        long snk = (long)nq * ld;
        for(int g = 0; g < grp; g++){
            const float *qg = q + (size_t)i0 * QD + g * D, *dog = dout + (size_t)i0 * QD + g * D;
            gemmB(m, 0, 1, nq, nk, D, scale, qg, QD, (long)grp * D, k + (size_t)j0 * KD, KD, D, 0, S + g * snk, ld,
                  grp * snk, KV);
            gemmB(m, 0, 1, nq, nk, D, 1, dog, QD, (long)grp * D, v + (size_t)j0 * KD, KD, D, 0, dS + g * snk, ld,
                  grp * snk, KV);
        }
        k_att_probs_ds<<<wblk((long)NH * nq), NT>>>(S, dS, lse, Dr, i0, nq, j0, nk, ld, W, NH, scale);
        for(int g = 0; g < grp; g++){
            const float *qg = q + (size_t)i0 * QD + g * D, *dog = dout + (size_t)i0 * QD + g * D;
            // dq += dS k;  dk += dS^T q;  dv += P^T dout
            gemmB(m, 0, 0, nq, D, nk, 1, dS + g * snk, ld, grp * snk, k + (size_t)j0 * KD, KD, D, 1,
                  dq + (size_t)i0 * QD + g * D, QD, (long)grp * D, KV);
            gemmB(m, 1, 0, nk, D, nq, 1, dS + g * snk, ld, grp * snk, qg, QD, (long)grp * D, 1, dk + (size_t)j0 * KD,
                  KD, D, KV);
            gemmB(m, 1, 0, nk, D, nq, 1, S + g * snk, ld, grp * snk, dog, QD, (long)grp * D, 1, dv + (size_t)j0 * KD,
                  KD, D, KV);
        }
    }
}

/* out[b] = <a_b, bb_b> (bb NULL: |a_b|^2) over nb blocks of per floats; the partial sums use the
** column sums' scratch (COLS_PARTS x at least 3H floats, more than BD_PARTS nb) */
template <typename TA>
static void block_dot(sptt_cuda_model *m, float *out, const TA *a, const float *bb, long per, int nb)
{
    assert((size_t)BD_PARTS * nb <= m->colCap);
    k_block_dot_part<<<dim3(BD_PARTS, (unsigned)nb), NT>>>(m->colPart, a, bb, per);
    k_block_dot_end<<<nb, 32>>>(out, m->colPart);
}

// ----------------------------------------------------------------------------
// The chunk loops' split by part (sptt_cuda_set_ttt_split)

enum { TS_F_APPLY, TS_F_UPD, TS_F_MOM, TS_F_NS, TS_F_NORM, TS_B_APPLY, TS_B_NS, TS_B_MOM, TS_B_INNER, TS_B_WGRAD,
       TS_B_NORM, TS_F_REST, TS_F_GATES, TS_B_REST, TS_B_GATES, TS_B_ROWS };

static const char *azTsName[SPTT_CUDA_TS_COUNT] = { "f_apply", "f_update", "f_momentum", "f_newton_schulz",
    "f_rownorm", "b_apply", "b_newton_schulz", "b_momentum", "b_inner", "b_weight_grads", "b_rownorm",
    "f_outside_rest", "f_outside_gates", "b_outside_rest", "b_outside_gates", "b_outside_rows" };

/* Reads the recorded events into the sums (waits for the device). */
static void ts_flush(sptt_cuda_model *m)
{
    if( m->tsN == 0 ) return;
    cudaEventSynchronize(m->tsEv[m->tsN - 1]);
    for(int i = 1; i < m->tsN; i++){
        float ms = 0;
        if( m->tsSec[i] < 0 || cudaEventElapsedTime(&ms, m->tsEv[i - 1], m->tsEv[i]) != cudaSuccess ) continue;
        m->tsSeconds[m->tsSec[i]] += ms * 1e-3;
        m->tsFlops[m->tsSec[i]] += m->tsFl[i];
    }
    m->tsN = 0;
}

/* Marks the end of a group of launches of part sec (-1: a start) that did flops FLOPs. */
static void ts_mark(sptt_cuda_model *m, int sec, double flops)
{
    if( !m->tsOn ) return;
    if( m->tsN == TS_EVENTS ){
        ts_flush(m);
        if( sec >= 0 ) sec = -1;   // the group's start was read with the previous events
    }
    m->tsSec[m->tsN] = sec;
    m->tsFl[m->tsN] = flops;
    cudaEventRecord(m->tsEv[m->tsN], cudaStreamPerThread);
    m->tsN++;
}

extern "C" void sptt_cuda_set_ttt_split(sptt_cuda_model *m, int on)
{
    ts_flush(m);
    if( on && !m->tsEv[0] ){
        for(int i = 0; i < TS_EVENTS; i++){
            if( cudaEventCreate(&m->tsEv[i]) != cudaSuccess ){
                cudaGetLastError();
                for(int j = 0; j < i; j++) cudaEventDestroy(m->tsEv[j]);
                memset(m->tsEv, 0, sizeof m->tsEv);
                return;
            }
        }
    }
    m->tsOn = on != 0;
    if( m->tsOn ) graphs_drop(m);   // events are recorded eagerly, between launches
}

extern "C" int sptt_cuda_ttt_split(sptt_cuda_model *m, double *seconds, double *flops, const char **azName)
{
    ts_flush(m);
    for(int k = 0; k < SPTT_CUDA_TS_COUNT; k++){
        if( seconds ) seconds[k] = m->tsSeconds[k];
        if( flops ) flops[k] = m->tsFlops[k];
        if( azName ) azName[k] = azTsName[k];
    }
    memset(m->tsSeconds, 0, sizeof m->tsSeconds);
    memset(m->tsFlops, 0, sizeof m->tsFlops);
    return SPTT_CUDA_TS_COUNT;
}

// ----------------------------------------------------------------------------
// TTT chunk recurrence (kern_ttt.inc's ttt_chunks_forward / _backward, batched over the heads)

typedef struct gdims {
    int T, C, H, d, chunk, muon, momentum, prenorm;
} gdims;

#define TM(base, c, h, j) ((base) + ((((size_t)(c) * H + (h)) * 3 + (j)) * dd))

/* The chunk loops' fp32 scratch, then (from that offset, a multiple of 64 floats) room for the
** bf16 copies of the products' operands: four chunks of rows (n x C) and two sets of the chunk's
** 3H fast matrices. */
static size_t ttt_chunk_scratch32(const gdims *dm)
{
    size_t dd = (size_t)dm->d * dm->d, nd = (size_t)dm->chunk * dm->d, H = (size_t)dm->H;
    return (H * (10 * nd) + 3 * H * (10 * dd + 3 * (size_t)dm->d + 8) + 64 + 63) & ~(size_t)63;
}

static size_t ttt_chunk_scratch(const gdims *dm)
{
    size_t dd = (size_t)dm->d * dm->d, nd = (size_t)dm->chunk * dm->d, H = (size_t)dm->H;
    return ttt_chunk_scratch32(dm) + 2 * H * nd + 3 * H * dd + 64;
}

/* The chunk loops in bf16: bf16 mode, fast heads of 256 or wider (all widths with
** SPTT_CUDA_BF16_MIN=0). Their products (apply, update, inner gradient, weight gradients) take bf16
** operands with fp32 sums: the element-wise steps write their outputs as bf16, the rows of q, k, v
** and dO and the fast matrices are rounded once per chunk. With fp32 operands these ran at the
** TF32 rate, 85-100 TFLOP/s at hidden 2048, on sm80 kernels.
** Newton-Schulz runs in bf16 storage under the same condition. X, A and B are kept as bf16 (in the first half of their fp32 buffers) and
** every product runs on bf16 operands, accumulating in fp32: on the H200 a batch of 12 products of
** 512 x 512 ran at 234 TFLOP/s so against 146 with fp32 operands (which run at the TF32 rate), and
** at heads of 256 (hidden 1024) the whole step ran 3% faster; rounding copies before each product
** would cost about what that saves. Muon is commonly run in bf16 for the same reason; the
** error this adds is within bf16 mode's bound (test_cuda_model reaches this path with
** SPTT_CUDA_BF16_MIN=0). */
static int ns_bf16(const sptt_cuda_model *m, int d)
{
    return m->math == SPTT_CUDA_MATH_BF16 && (m->bfMin <= 0 || d >= 256);
}

/* Newton-Schulz on nb matrices G (nb, dd); Xs, As, Bs (nb, 5, dd) of T (float, or bf16 per
** ns_bf16); nu (nb); U (nb, dd) fp32 */
template <typename T>
static void ns_fwd_t(sptt_cuda_model *m, float *U, T *Xs, T *As, T *Bs, float *nu, const float *G, int d, int nb)
{
    int ty = sizeof(T) == sizeof(float) ? LT_F32 : LT_BF16;
    long dd = (long)d * d, s5 = 5 * dd, n = (long)nb * dd;
    block_dot(m, nu, G, (const float *)NULL, dd, nb);
    k_sqrt<<<nblk(nb), NT>>>(nu, nb);
    k_ns_x0<<<nblk(n), NT>>>(Xs, G, nu, dd, s5, nb, TTT_NS_EPS);
    for(int k = 0; k < 5; k++){
        T *X = Xs + k * dd, *A = As + k * dd, *B = Bs + k * dd;
        float a = (float)ns_coef[k][0], b = (float)ns_coef[k][1], c = (float)ns_coef[k][2];
        gemm_lt(m, ty, 0, 1, d, d, d, 1, X, d, s5, X, d, s5, 0, A, d, s5, A, d, s5, nb);      // A = X X^T
        gemm_lt(m, ty, 0, 0, d, d, d, c, A, d, s5, A, d, s5, b, A, d, s5, B, d, s5, nb);      // B = c A A + b A
        if( k < 4 ){
            gemm_lt(m, ty, 0, 0, d, d, d, 1, B, d, s5, X, d, s5, a, X, d, s5, X + dd, d, s5, nb);   // X' = B X + a X
        }else if( ty == LT_F32 ){
            gemm_lt(m, ty, 0, 0, d, d, d, 1, B, d, s5, X, d, s5, a, X, d, s5, U, d, dd, nb);        // U = B X + a X
        }else{
            gemm_lt(m, LT_BF16_F32, 0, 0, d, d, d, 1, B, d, s5, X, d, s5, 0, U, d, dd, U, d, dd, nb);   // U = B X
            k_add_bf16<<<nblk(n), NT>>>(U, a, (const __nv_bfloat16 *)X, s5, dd, nb);                //   + a X
        }
    }
}

/* dG (nb, dd) from dU; tmp holds 3 nb dd plus 2 nb floats */
template <typename T>
static void ns_bwd_t(sptt_cuda_model *m, float *dG, const float *dU, const T *Xs, const T *As, const T *Bs,
                     const float *nu, const float *G, int d, int nb, float *tmp)
{
    int ty = sizeof(T) == sizeof(float) ? LT_F32 : LT_BF16;
    long dd = (long)d * d, s5 = 5 * dd, n = (long)nb * dd;
    T *g = (T *)tmp, *gB = g + n, *gA = gB + n;
    float *dot = tmp + 3 * n;
    if( ty == LT_F32 ) copyd((float *)g, dU, (size_t)n);
    else to_bf16((__nv_bfloat16 *)g, dU, nb, (int)dd, dd);
    for(int k = 4; k >= 0; k--){
        const T *X = Xs + k * dd, *A = As + k * dd, *B = Bs + k * dd;
        float a = (float)ns_coef[k][0], b = (float)ns_coef[k][1], c = (float)ns_coef[k][2];
        gemm_lt(m, ty, 0, 1, d, d, d, 1, g, d, dd, X, d, s5, 0, gB, d, dd, gB, d, dd, nb);     // gB = g X^T
        gemm_lt(m, ty, 0, 0, d, d, d, c, gB, d, dd, A, d, s5, b, gB, d, dd, gA, d, dd, nb);    // gA = c gB A + b gB
        gemm_lt(m, ty, 0, 0, d, d, d, c, A, d, s5, gB, d, dd, 1, gA, d, dd, gA, d, dd, nb);    // gA += c A gB
        if( sizeof(T) == 2 && d % 64 == 0 )                                                    // gB = gA + gA^T
            k_sym_bf<<<dim3(d / 64, d / 64, nb), dim3(32, 8)>>>((__nv_bfloat16 *)gB, (const __nv_bfloat16 *)gA, d);
        else
            k_sym<<<dim3((d + 31) / 32, (d + 31) / 32, nb), dim3(32, 8)>>>(gB, gA, d);
        gemm_lt(m, ty, 0, 0, d, d, d, 1, B, d, s5, g, d, dd, a, g, d, dd, gA, d, dd, nb);      // gA = B g + a g
        gemm_lt(m, ty, 0, 0, d, d, d, 1, gB, d, dd, X, d, s5, 1, gA, d, dd, gA, d, dd, nb);    // gA += gB X
        T *t = g; g = gA; gA = t;
    }
    block_dot(m, dot, g, G, dd, nb);
    k_ns_end<<<nblk(n), NT>>>(dG, g, G, nu, dot, dd, nb, TTT_NS_EPS);
}

static void ns_fwd(sptt_cuda_model *m, float *U, float *Xs, float *As, float *Bs, float *nu, const float *G, int d, int nb)
{
    if( ns_bf16(m, d) )
        ns_fwd_t(m, U, (__nv_bfloat16 *)Xs, (__nv_bfloat16 *)As, (__nv_bfloat16 *)Bs, nu, G, d, nb);
    else
        ns_fwd_t(m, U, Xs, As, Bs, nu, G, d, nb);
}

static void ns_bwd(sptt_cuda_model *m, float *dG, const float *dU, const float *Xs, const float *As, const float *Bs,
                   const float *nu, const float *G, int d, int nb, float *tmp)
{
    if( ns_bf16(m, d) )
        ns_bwd_t(m, dG, dU, (const __nv_bfloat16 *)Xs, (const __nv_bfloat16 *)As, (const __nv_bfloat16 *)Bs, nu, G, d, nb,
                 tmp);
    else
        ns_bwd_t(m, dG, dU, Xs, As, Bs, nu, G, d, nb, tmp);
}

/* T: the products' operand type (ns_bf16) */
template <typename T>
static void ttt_chunks_fwd_t(sptt_cuda_model *m, gtttacts *st, float *O, const float *Q, const float *K, const float *V,
                             const float *eta, const float *mu, const float *w0, const float *w1, const float *w2,
                             const gdims *dm, float *scratch)
{
    int T_ = dm->T, C = dm->C, H = dm->H, d = dm->d, Cs = dm->chunk;
    long dd = (long)d * d, nd = (long)Cs * d, H3 = 3L * H;
    float *Ut = scratch + 4 * H * nd;
    T *Hh = (T *)scratch, *P0 = (T *)(scratch + H * nd), *P2 = (T *)(scratch + 2 * H * nd), *Z1 = (T *)(scratch + 3 * H * nd);
    T *qb = (T *)(scratch + ttt_chunk_scratch32(dm)), *kb = qb + H * nd, *vb = kb + H * nd, *wb = vb + 2 * H * nd;
    double fnd = 2.0 * Cs * dd * H, fns = 2.0 * dd * d * H3;   // FLOPs: a chunk's product over the heads; an NS product
    ts_mark(m, -1, 0);
    __nv_bfloat16 *Wb = sizeof(T) == 2 ? st->Wb : NULL;
    k_ttt_w0<<<nblk(H3 * dd), NT>>>(st->W, Wb, w0, w1, w2, H, dd);
    k_row_norms<<<wblk(H3 * d), NT>>>(st->n0, st->W, H3 * d, d);
    ts_mark(m, TS_F_NORM, 0);
    for(int c = 0; c < st->n_chunk; c++){
        int s = c * Cs, n = T_ - s < Cs ? T_ - s : Cs, upd = c < st->n_upd;
        long off = (long)s * C, nhd = (long)n * H * d;
        const T *W0 = kept_opnd(Wb, wb, st->W, TM((size_t)0, c, 0, 0), H3, (int)dd);
        const T *W1 = W0 + dd, *W2 = W0 + 2 * dd;
        const T *Qc = kept_opnd(st->Qb, qb, Q, off, n, C);
        // apply: O = (silu(Q W0^T) * (Q W2^T)) W1^T
        gemmB(m, 0, 1, n, d, d, 1, Qc, C, d, W0, d, 3 * dd, 0, st->U0 + off, C, d, H);
        gemmB(m, 0, 1, n, d, d, 1, Qc, C, d, W2, d, 3 * dd, 0, st->U2 + off, C, d, H);
        k_ttt_hh<T><<<nblk(nhd), NT>>>(Hh, st->U0 + off, st->U2 + off, n, H, d, C, nd);
        gemmB(m, 0, 1, n, d, d, 1, Hh, d, nd, W1, d, 3 * dd, 0, O + off, C, d, H);
        ts_mark(m, TS_F_APPLY, 3 * fnd);
        if( !upd ) continue;
        // update: Y0 = K W0^T, Y2 = K W2^T, DH = V W1; the inner gradient's sums over the rows
        const T *Kc = kept_opnd(st->Kb, kb, K, off, n, C), *Vc = kept_opnd(st->Vb, vb, V, off, n, C);
        gemmB(m, 0, 1, n, d, d, 1, Kc, C, d, W0, d, 3 * dd, 0, st->Y0 + off, C, d, H);
        gemmB(m, 0, 1, n, d, d, 1, Kc, C, d, W2, d, 3 * dd, 0, st->Y2 + off, C, d, H);
        gemmB(m, 0, 0, n, d, d, 1, Vc, C, d, W1, d, 3 * dd, 0, st->DH + off, C, d, H);
        k_ttt_pz<T><<<nblk(nhd), NT>>>(P0, P2, Z1, st->Y0 + off, st->Y2 + off, st->DH + off, eta + (long)s * 3 * H, n, H,
                                       d, C, nd);
        float *M = TM(st->M, c, 0, 0);
        gemmB(m, 1, 0, d, d, n, 1, P0, d, nd, Kc, C, d, 0, M, d, 3 * dd, H);            // dW0 = P0^T K
        gemmB(m, 1, 0, d, d, n, 1, Vc, C, d, Z1, d, nd, 0, M + dd, d, 3 * dd, H);       // dW1 = V^T Z1
        gemmB(m, 1, 0, d, d, n, 1, P2, d, nd, Kc, C, d, 0, M + 2 * dd, d, 3 * dd, H);   // dW2 = P2^T K
        ts_mark(m, TS_F_UPD, 6 * fnd);
        float *mbar = st->mbar + (size_t)c * H;
        if( dm->momentum ){
            k_ttt_mbar<<<H, NT>>>(mbar, mu + (long)s * H, n, H);
            if( c > 0 ) k_ttt_mom<<<nblk(H3 * dd), NT>>>(M, TM(st->M, c - 1, 0, 0), mbar, dd, H);
        }else{
            zero(mbar, (size_t)H);
        }
        ts_mark(m, TS_F_MOM, 0);
        const float *U = M;
        if( dm->muon ){
            size_t ns = (size_t)c * H3 * 5 * dd;
            ns_fwd(m, Ut, st->nsX + ns, st->nsA + ns, st->nsB + ns, st->nu + (size_t)c * H3, M, d, (int)H3);
            U = Ut;
            ts_mark(m, TS_F_NS, 15 * fns);
        }
        const float *prev = dm->prenorm && c > 0 ? TM(st->R, c, 0, 0) : TM(st->W, c, 0, 0);
        float *Rn = TM(st->R, c + 1, 0, 0);
        k_add3<<<nblk(H3 * dd), NT>>>(Rn, prev, U, H3 * dd);
        k_rownorm_fwd<<<wblk(H3 * d), NT>>>(TM(st->W, c + 1, 0, 0), Wb ? TM(Wb, c + 1, 0, 0) : NULL, Rn, st->n0, H3 * d, d,
                                            TTT_ROW_EPS);
        ts_mark(m, TS_F_NORM, 0);
    }
    ts_flush(m);
}

static void ttt_chunks_fwd(sptt_cuda_model *m, gtttacts *st, float *O, const float *Q, const float *K, const float *V,
                           const float *eta, const float *mu, const float *w0, const float *w1, const float *w2,
                           const gdims *dm, float *scratch)
{
    if( ns_bf16(m, dm->d) )
        ttt_chunks_fwd_t<__nv_bfloat16>(m, st, O, Q, K, V, eta, mu, w0, w1, w2, dm, scratch);
    else
        ttt_chunks_fwd_t<float>(m, st, O, Q, K, V, eta, mu, w0, w1, w2, dm, scratch);
}

/* dQ, dK, dV: overwritten, every row (each chunk's products are the first to write its rows);
** deta, dmu: accumulated */
template <typename T>
static void ttt_chunks_bwd_t(sptt_cuda_model *m, float *dQ, float *dK, float *dV, float *deta, float *dmu, float *dw0,
                             float *dw1, float *dw2, const float *dO, const gtttacts *st, const float *Q, const float *K,
                             const float *V, const float *eta, const gdims *dm, float *scratch)
{
    int T_ = dm->T, C = dm->C, H = dm->H, d = dm->d, Cs = dm->chunk;
    long dd = (long)d * d, nd = (long)Cs * d, H3 = 3L * H, hdd = H3 * dd;
    // the element-wise steps' outputs (of T, in fp32-sized slots) that only the products read
    T *Hh = (T *)scratch, *gu0 = (T *)(scratch + H * nd), *gu2 = (T *)(scratch + 2 * H * nd);
    float *gH = scratch + 3 * H * nd;
    T *P0 = (T *)(gH + H * nd), *P2 = (T *)(gH + 2 * H * nd), *Z1 = (T *)(gH + 3 * H * nd);
    float *gP0 = gH + 4 * H * nd, *gP2 = gP0 + H * nd;
    float *gZ1 = gP2 + H * nd;
    T *qb = (T *)(scratch + ttt_chunk_scratch32(dm)), *kb = qb + H * nd, *vb = kb + H * nd, *ob = vb + H * nd;
    T *wb = ob + H * nd, *gmb = wb + hdd;
    float *gW = gZ1 + H * nd, *gU = gW + hdd, *gMn = gU + hdd, *gWm = gMn + hdd, *gM = gWm + hdd, *du = gM + hdd;
    float *nst = du + hdd;                     /* 3 hdd + 2 H3 */
    float *gn0 = nst + 3 * hdd + 2 * H3;       /* H3 d */
    float *gmbp = gn0 + H3 * d;                /* H3 */
    double fnd = 2.0 * Cs * dd * H, fns = 2.0 * dd * d * H3;
    ts_mark(m, -1, 0);
    zero(gU, (size_t)hdd);
    zero(gMn, (size_t)hdd);
    zero(gWm, (size_t)hdd);
    zero(gn0, (size_t)(H3 * d));
    for(int c = st->n_chunk - 1; c >= 0; c--){
        int s = c * Cs, n = T_ - s < Cs ? T_ - s : Cs, upd = c < st->n_upd;
        long off = (long)s * C, nhd = (long)n * H * d;
        const T *W0 = kept_opnd(st->Wb, wb, st->W, TM((size_t)0, c, 0, 0), H3, (int)dd);
        const T *W1 = W0 + dd, *W2 = W0 + 2 * dd;
        const T *dOc = opnd(ob, dO + off, n, C, C);
        const T *Qc = kept_opnd(st->Qb, qb, Q, off, n, C);

        // 1. apply, rows
        gemmB(m, 0, 0, n, d, d, 1, dOc, C, d, W1, d, 3 * dd, 0, gH, d, nd, H);                  // gH = dO W1
        k_ttt_apply_bwd<T><<<nblk(nhd), NT>>>(Hh, gu0, gu2, gH, st->U0 + off, st->U2 + off, n, H, d, C, nd);
        gemmB(m, 0, 0, n, d, d, 1, gu0, d, nd, W0, d, 3 * dd, 0, dQ + off, C, d, H);            // dQ = gu0 W0
        gemmB(m, 0, 0, n, d, d, 1, gu2, d, nd, W2, d, 3 * dd, 1, dQ + off, C, d, H);            //     + gu2 W2

        // 2. matrices: the apply's weight gradients; U(c) -> M(c) -> dW(c)
        gemmB(m, 1, 0, d, d, n, 1, gu0, d, nd, Qc, C, d, 0, gW, d, 3 * dd, H);                   // gW0 = gu0^T Q
        gemmB(m, 1, 0, d, d, n, 1, dOc, C, d, Hh, d, nd, 0, gW + dd, d, 3 * dd, H);              // gW1 = dO^T Hh
        gemmB(m, 1, 0, d, d, n, 1, gu2, d, nd, Qc, C, d, 0, gW + 2 * dd, d, 3 * dd, H);          // gW2 = gu2^T Q
        ts_mark(m, TS_B_APPLY, 6 * fnd);
        if( upd ){
            if( dm->muon ){
                size_t ns = (size_t)c * H3 * 5 * dd;
                ns_bwd(m, gM, gU, st->nsX + ns, st->nsA + ns, st->nsB + ns, st->nu + (size_t)c * H3,
                       TM(st->M, c, 0, 0), d, (int)H3, nst);
                ts_mark(m, TS_B_NS, 25 * fns);
            }else{
                copyd(gM, gU, (size_t)hdd);
            }
            if( dm->momentum && c + 1 < st->n_upd ){
                // gM += mbar(c+1) gMn, per head
                k_ttt_mom<<<nblk(hdd), NT>>>(gM, gMn, st->mbar + (size_t)(c + 1) * H, dd, H);
            }
            if( dm->momentum && c > 0 ){
                block_dot(m, gmbp, gM, TM(st->M, c - 1, 0, 0), dd, (int)H3);
                // 3a. the momentum gate's rows
                if( dmu ) k_ttt_dmu<<<nblk((long)n * H), NT>>>(dmu + (long)s * H, gmbp, n, H);
            }

            ts_mark(m, TS_B_MOM, 0);
            // 3. the inner gradient's rows
            const float *etac = eta + (long)s * 3 * H;
            k_ttt_pz<T><<<nblk(nhd), NT>>>(P0, P2, Z1, st->Y0 + off, st->Y2 + off, st->DH + off, etac, n, H, d, C, nd);
            const T *G0 = opnd(gmb, gM, H3, (int)dd, dd), *G1 = G0 + dd, *G2 = G0 + 2 * dd;
            const T *Kc = kept_opnd(st->Kb, kb, K, off, n, C), *Vc = kept_opnd(st->Vb, vb, V, off, n, C);
            gemmB(m, 0, 1, n, d, d, 1, Kc, C, d, G0, d, 3 * dd, 0, gP0, d, nd, H);                // gP0 = K G0^T
            gemmB(m, 0, 1, n, d, d, 1, Kc, C, d, G2, d, 3 * dd, 0, gP2, d, nd, H);                // gP2 = K G2^T
            gemmB(m, 0, 0, n, d, d, 1, Vc, C, d, G1, d, 3 * dd, 0, gZ1, d, nd, H);                // gZ1 = V G1
            gemmB(m, 0, 0, n, d, d, 1, P0, d, nd, G0, d, 3 * dd, 0, dK + off, C, d, H);           // dK = P0 G0
            gemmB(m, 0, 0, n, d, d, 1, P2, d, nd, G2, d, 3 * dd, 1, dK + off, C, d, H);           //     + P2 G2
            gemmB(m, 0, 1, n, d, d, 1, Z1, d, nd, G1, d, 3 * dd, 0, dV + off, C, d, H);           // dV = Z1 G1^T
            k_ttt_inner_bwd<T><<<wblk((long)n * H), NT>>>(P0, P2, Z1, deta + (long)s * 3 * H, gP0, gP2, gZ1, st->Y0 + off,
                                                       st->Y2 + off, st->DH + off, etac, n, H, d, C, nd);
            const T *gY0 = P0, *gY2 = P2, *gDH = Z1;
            gemmB(m, 0, 0, n, d, d, 1, gY0, d, nd, W0, d, 3 * dd, 1, dK + off, C, d, H);          // dK += gY0 W0
            gemmB(m, 0, 0, n, d, d, 1, gY2, d, nd, W2, d, 3 * dd, 1, dK + off, C, d, H);          //     + gY2 W2
            gemmB(m, 0, 1, n, d, d, 1, gDH, d, nd, W1, d, 3 * dd, 1, dV + off, C, d, H);          // dV += gDH W1^T
            ts_mark(m, TS_B_INNER, 9 * fnd);

            // 4. their weight gradients
            gemmB(m, 1, 0, d, d, n, 1, gY0, d, nd, Kc, C, d, 1, gW, d, 3 * dd, H);                // gW0 += gY0^T K
            gemmB(m, 1, 0, d, d, n, 1, Vc, C, d, gDH, d, nd, 1, gW + dd, d, 3 * dd, H);           // gW1 += V^T gDH
            gemmB(m, 1, 0, d, d, n, 1, gY2, d, nd, Kc, C, d, 1, gW + 2 * dd, d, 3 * dd, H);       // gW2 += gY2^T K
            if( !dm->prenorm ) k_axpby<<<nblk(hdd), NT>>>(gW, 1, gU, 1, hdd);   // W(c+1) = RowNorm(W(c) + U(c))
            copyd(gMn, gM, (size_t)hdd);
            ts_mark(m, TS_B_WGRAD, 3 * fnd);
        }else{
            zero(dK + off, (size_t)n * C);   // a chunk that updates nothing gives its keys and values no gradient
            zero(dV + off, (size_t)n * C);
        }
        if( c >= 1 ){
            k_rownorm_bwd<<<wblk(H3 * d), NT>>>(du, gn0, gW, TM(st->R, c, 0, 0), st->n0, H3 * d, d, TTT_ROW_EPS);
            if( dm->prenorm ){
                k_axpby<<<nblk(hdd), NT>>>(gWm, 1, du, 1, hdd);
                copyd(gU, gWm, (size_t)hdd);
            }else{
                copyd(gU, du, (size_t)hdd);
            }
        }else{
            k_ttt_slow_bwd<<<wblk(H3 * d), NT>>>(dw0, dw1, dw2, gW, dm->prenorm ? gWm : NULL, gn0, st->n0, st->W, H, d);
        }
        ts_mark(m, TS_B_NORM, 0);
    }
    ts_flush(m);
}

static void ttt_chunks_bwd(sptt_cuda_model *m, float *dQ, float *dK, float *dV, float *deta, float *dmu, float *dw0,
                           float *dw1, float *dw2, const float *dO, const gtttacts *st, const float *Q, const float *K,
                           const float *V, const float *eta, const gdims *dm, float *scratch)
{
    if( ns_bf16(m, dm->d) )
        ttt_chunks_bwd_t<__nv_bfloat16>(m, dQ, dK, dV, deta, dmu, dw0, dw1, dw2, dO, st, Q, K, V, eta, dm, scratch);
    else
        ttt_chunks_bwd_t<float>(m, dQ, dK, dV, deta, dmu, dw0, dw1, dw2, dO, st, Q, K, V, eta, dm, scratch);
}

#undef TM

// ----------------------------------------------------------------------------
// The TTT branch (kern_ttt.inc's ttt_forward / ttt_backward)

typedef struct gctx {
    int T, C, NH, KV, D, H, d, r, half, conv;
    float c0;
    gdims dm;
} gctx;

/* s = att + the branch's output: fp32, or bf16 alone in s's buffer where s16 (act_bf16_claim) */
static void ttt_fwd(sptt_cuda_model *m, int l, gtttacts *a, const gttt *p, const gctx *x, const float *xn,
                    const float *qh, const float *kh, const float *v, float *s, __nv_bfloat16 *s16, const float *att,
                    float *scratch)
{
    int T = x->T, C = x->C, H = x->H, d = x->d;
    long TH = (long)T * H, TC = (long)T * C;
    ts_mark(m, -1, 0);
    if( a->kt != kh ) k_repeat_kv_fwd<<<nblk(TC), NT>>>(a->kt, kh, T, x->NH, x->KV, x->D);
    if( a->vt != v ) k_repeat_kv_fwd<<<nblk(TC), NT>>>(a->vt, v, T, x->NH, x->KV, x->D);
    // the chunk loops in bf16 with the forward's copies kept read Q, K, V only as those copies
    int bfOnly = a->Qb && ns_bf16(m, d);
    size_t qkSm = sizeof(float) * (NT / 32) * d;
    if( !x->conv && qkSm <= 48 * 1024 && (TC & 3) == 0 ){
        // no conv between the steps: each of q, k, v in one pass
        k_ttt_qk_prep<<<wblk(TH), NT, qkSm>>>(a->qa, a->qnrm, bfOnly ? NULL : a->Qf, a->Qb, qh, p->q_scale, p->q_off,
                                              m->cosT, m->sinT, TH, H, d, x->r, x->half, TTT_L2_EPS);
        k_ttt_qk_prep<<<wblk(TH), NT, qkSm>>>(a->ka, a->knrm, bfOnly ? NULL : a->Kf, a->Kb, a->kt, p->k_scale, p->k_off,
                                              m->cosT, m->sinT, TH, H, d, x->r, x->half, TTT_L2_EPS);
        k_silu_bf<<<nblk(TC / 4), NT>>>(bfOnly ? NULL : a->Vf, a->Vb, a->vc, TC / 4);
    }else{
        k_affine_fwd<<<nblk(TC), NT>>>(a->qa, qh, p->q_scale, p->q_off, T, C);
        k_affine_fwd<<<nblk(TC), NT>>>(a->ka, a->kt, p->k_scale, p->k_off, T, C);
        if( x->conv ){
            long nvc = (long)m->Nv * C;
            const float *in[3] = { a->qa, a->ka, a->vt }, *w[3] = { p->conv_q, p->conv_k, p->conv_v };
            float *out[3] = { a->qc, a->kc, a->vc };
            for(int i = 0; i < 3; i++){
                copyd(out[i], in[i], (size_t)TC);
                if( nvc ) k_conv_fwd<<<nblk(nvc), NT>>>(out[i], in[i], w[i], m->dVid, m->grid[0], m->grid[1], m->grid[2], C);
            }
        }
        silu_l2_fwd(a->Qf, a->qnrm, a->qc, TH, d, TTT_L2_EPS);
        silu_l2_fwd(a->Kf, a->knrm, a->kc, TH, d, TTT_L2_EPS);
        k_silu<<<nblk(TC), NT>>>(a->Vf, a->vc, TC);
        if( x->r > 0 ){
            rope(a->Qf, m->cosT, m->sinT, T, H, d, C, x->r, x->half, 1);
            rope(a->Kf, m->cosT, m->sinT, T, H, d, C, x->r, x->half, 1);
        }
        if( a->Qb ){
            to_bf16(a->Qb, a->Qf, T, C, C);
            to_bf16(a->Kb, a->Kf, T, C, C);
            to_bf16(a->Vb, a->Vf, T, C, C);
        }
    }
    ts_mark(m, TS_F_REST, 0);
    linear_fwd(m, a->zl, xn, p->w_lr, p->b_lr, T, C, 3 * H);
    k_lr_act<<<nblk(3 * TH), NT>>>(a->zl, a->eta, x->c0, 3 * TH);
    if( p->w_mom ){
        linear_fwd(m, a->zm, xn, p->w_mom, p->b_mom, T, C, H);
        k_sigmoid<<<nblk(TH), NT>>>(a->mu, a->zm, TH);
    }
    linear_fwd(m, a->zs, xn, p->w_gate, p->b_gate, T, C, H);
    k_silu<<<nblk(TH), NT>>>(a->gate, a->zs, TH);
    ts_mark(m, TS_F_GATES, 0);
    GRAPHED(m, 2 * l, ttt_chunks_fwd(m, a, a->O, a->Qf, a->Kf, a->Vf, a->eta, p->w_mom ? a->mu : NULL, p->w0, p->w1,
                                     p->w2, &x->dm, scratch));
    ts_mark(m, -1, 0);
    if( s16 ) k_ttt_out_fwd<<<wblk(TH), NT>>>(s16, a->ornd, att, a->O, p->norm, a->gate, TH, d, TTT_OUT_EPS);
    else k_ttt_out_fwd<<<wblk(TH), NT>>>(s, a->ornd, att, a->O, p->norm, a->gate, TH, d, TTT_OUT_EPS);
    ts_mark(m, TS_F_REST, 0);
    ts_flush(m);
}

static size_t ttt_scratch(const gctx *x)
{
    size_t TC = (size_t)x->T * x->C, TH = (size_t)x->T * x->H;
    return 7 * TC + 6 * TH + ttt_chunk_scratch(&x->dm) + 64;
}

static void ttt_bwd(sptt_cuda_model *m, int l, const gttt *g, float *dxn, float *dqh, float *dkh, float *dv, const float *dy,
                    const gtttacts *a, const gttt *p, const gctx *x, const float *xn, const float *qh, float *scratch)
{
    int T = x->T, C = x->C, H = x->H, d = x->d;
    long TH = (long)T * H, TC = (long)T * C;
    float *dO = scratch, *dQ = dO + TC, *dK = dQ + TC, *dV = dK + TC, *t1 = dV + TC, *t2 = t1 + TC, *t3 = t2 + TC;
    float *deta = t3 + TC, *dmu = deta + 3 * TH, *dz = dmu + TH, *dzs = dz + TH;
    float *chunkScratch = dzs + TH;

    ts_mark(m, -1, 0);
    k_ttt_out_bwd<<<wblk(TH), NT>>>(dzs, t1, dy, a->O, a->ornd, p->norm, a->gate, a->zs, TH, d);
    rmsnorm_bwd(m, dO, g->norm, t1, a->O, p->norm, a->ornd, TH, d, 0);

    zero(deta, 4 * (size_t)TH);
    ts_mark(m, TS_B_REST, 0);
    GRAPHED(m, 2 * l + 1, ttt_chunks_bwd(m, dQ, dK, dV, deta, p->w_mom ? dmu : NULL, g->w0, g->w1, g->w2, dO, a, a->Qf,
                                         a->Kf, a->Vf, a->eta, &x->dm, chunkScratch));
    ts_mark(m, -1, 0);

    k_mul_sigmoid<<<nblk(3 * TH), NT>>>(deta, a->zl, 3 * TH);
    linear_bwd(m, dxn, g->w_lr, g->b_lr, deta, xn, p->w_lr, T, C, 3 * H, 0);   // dxn's first writer
    if( p->w_mom ){
        k_sigmoid_bwd<<<nblk(TH), NT>>>(dz, dmu, a->mu, TH);
        linear_bwd(m, dxn, g->w_mom, g->b_mom, dz, xn, p->w_mom, T, C, H);
    }
    linear_bwd(m, dxn, g->w_gate, g->b_gate, dzs, xn, p->w_gate, T, C, H);

    ts_mark(m, TS_B_GATES, 0);
    if( x->r > 0 ){
        rope(dQ, m->cosT, m->sinT, T, H, d, C, x->r, x->half, -1);
        rope(dK, m->cosT, m->sinT, T, H, d, C, x->r, x->half, -1);
    }
    silu_l2_bwd(t1, dQ, a->qc, a->qnrm, TH, d, TTT_L2_EPS);   // t1 = d qc
    silu_l2_bwd(t2, dK, a->kc, a->knrm, TH, d, TTT_L2_EPS);   // t2 = d kc
    // dV = d vc; where neither the conv nor the KV expansion follows, straight into dv
    int vDirect = !x->conv && x->KV == x->NH;
    if( vDirect ) k_mul_silu1_add<<<nblk(TC), NT>>>(dv, dV, a->vc, TC);
    else k_mul_silu1<<<nblk(TC), NT>>>(dV, a->vc, TC);
    ts_mark(m, TS_B_ROWS, 0);

    // the gradients at the conv's inputs: through the conv, or (conv off) those just computed
    const float *gq = t1, *gk = t2, *gv = dV;
    float *tk = t3;   // the KV expansion's scratch, free when the conv is off
    if( x->conv ){
        zero(dQ, (size_t)TC);
        zero(dK, (size_t)TC);
        zero(t3, (size_t)TC);
        const float *cw[3] = { p->conv_q, p->conv_k, p->conv_v };
        float *cg[3] = { g->conv_q, g->conv_k, g->conv_v };
        const float *gin[3] = { t1, t2, dV }, *xin[3] = { a->qa, a->ka, a->vt };
        float *gout[3] = { dQ, dK, t3 };
        long nvc = (long)m->Nv * C;
        for(int i = 0; i < 3; i++){
            k_conv_bwd_text<<<nblk(TC), NT>>>(gout[i], gin[i], m->dIsvid, T, C);
            if( !nvc ) continue;
            k_conv_bwd_x<<<nblk(nvc), NT>>>(gout[i], gin[i], cw[i], m->dVid, m->grid[0], m->grid[1], m->grid[2], C);
            k_conv_bwd_w<<<nblk(27L * C), NT>>>(cg[i], gin[i], xin[i], m->dVid, m->grid[0], m->grid[1], m->grid[2], C);
        }
        gq = dQ;
        gk = dK;
        gv = t3;
        tk = t1;
    }

    // scale and offset, then the KV expansion
    affine_bwd(m, dqh, 1, g->q_scale, g->q_off, gq, qh, p->q_scale, T, C);
    long nkv = (long)T * x->KV * x->D;
    if( x->KV == x->NH ){
        affine_bwd(m, dkh, 1, g->k_scale, g->k_off, gk, a->kt, p->k_scale, T, C);
    }else{
        affine_bwd(m, tk, 0, g->k_scale, g->k_off, gk, a->kt, p->k_scale, T, C);
        k_repeat_kv_bwd<<<nblk(nkv), NT>>>(dkh, tk, T, x->NH, x->KV, x->D);
    }
    if( !vDirect ) k_repeat_kv_bwd<<<nblk(nkv), NT>>>(dv, gv, T, x->NH, x->KV, x->D);
    ts_mark(m, TS_B_REST, 0);
    ts_flush(m);
}

// ----------------------------------------------------------------------------
// Parameters: views into the device buffers, bound by name from the host model's table

static float *view(const sptt_model *h, float *base, const char *zFmt, int l)
{
    char z[64];
    snprintf(z, sizeof z, zFmt, l);
    int i = sptt_model_find(h, z);
    return i < 0 ? NULL : base + sptt_model_tensor(h, i)->offset;
}

static int bind(const sptt_model *h, const sptt_config *c, float *base, gparams *p)
{
    p->wte = view(h, base, "wte", 0);
    p->patch_w = view(h, base, "patch.w", 0);
    p->patch_b = view(h, base, "patch.b", 0);
    p->lnf = view(h, base, "lnf", 0);
    p->lm_head = c->tie_embeddings ? p->wte : view(h, base, "lm_head", 0);
    for(int l = 0; l < c->n_layer; l++){
        glayer *L = &p->L[l];
        L->kind = sptt_layer_kind(c, l);
        L->ln1 = view(h, base, "layers.%d.ln1", l);
        L->ln2 = view(h, base, "layers.%d.ln2", l);
        L->wq = view(h, base, "layers.%d.attn.wq", l);
        L->wk = view(h, base, "layers.%d.attn.wk", l);
        L->wv = view(h, base, "layers.%d.attn.wv", l);
        L->wo = view(h, base, "layers.%d.attn.wo", l);
        L->qnorm = view(h, base, "layers.%d.attn.q_norm", l);
        L->knorm = view(h, base, "layers.%d.attn.k_norm", l);
        L->wg = view(h, base, "layers.%d.ffn.w_gate", l);
        L->wu = view(h, base, "layers.%d.ffn.w_up", l);
        L->wd = view(h, base, "layers.%d.ffn.w_down", l);
        if( !L->ln1 || !L->ln2 || !L->wq || !L->wk || !L->wv || !L->wo || !L->qnorm || !L->knorm || !L->wg || !L->wu ||
            !L->wd || L->wu != L->wg + (size_t)c->ffn * c->hidden ){
            return sptt_fail(SPTT_ECORRUPT, "cuda model: layer %d: the host model's tensor table is not the expected one", l);
        }
        if( L->kind == SPTT_LAYER_TTT ){
            gttt *t = &L->t;
            t->q_scale = view(h, base, "layers.%d.ttt.q_scale", l);
            t->q_off = view(h, base, "layers.%d.ttt.q_offset", l);
            t->k_scale = view(h, base, "layers.%d.ttt.k_scale", l);
            t->k_off = view(h, base, "layers.%d.ttt.k_offset", l);
            t->conv_q = view(h, base, "layers.%d.ttt.conv_q", l);
            t->conv_k = view(h, base, "layers.%d.ttt.conv_k", l);
            t->conv_v = view(h, base, "layers.%d.ttt.conv_v", l);
            t->w_lr = view(h, base, "layers.%d.ttt.lr_proj.w", l);
            t->b_lr = view(h, base, "layers.%d.ttt.lr_proj.b", l);
            t->w_mom = view(h, base, "layers.%d.ttt.momentum_proj.w", l);
            t->b_mom = view(h, base, "layers.%d.ttt.momentum_proj.b", l);
            t->w_gate = view(h, base, "layers.%d.ttt.gate_proj.w", l);
            t->b_gate = view(h, base, "layers.%d.ttt.gate_proj.b", l);
            t->norm = view(h, base, "layers.%d.ttt.norm", l);
            t->w0 = view(h, base, "layers.%d.ttt.w0", l);
            t->w1 = view(h, base, "layers.%d.ttt.w1", l);
            t->w2 = view(h, base, "layers.%d.ttt.w2", l);
            if( !t->q_scale || !t->w_lr || !t->w_gate || !t->norm || !t->w0 || !t->w1 || !t->w2 ||
                (c->use_conv && !t->conv_q) || (c->use_momentum && !t->w_mom) ){
                return sptt_fail(SPTT_ECORRUPT, "cuda model: layer %d: TTT tensors missing from the host model", l);
            }
        }
    }
    if( !p->wte || !p->patch_w || !p->patch_b || !p->lnf || !p->lm_head ){
        return sptt_fail(SPTT_ECORRUPT, "cuda model: embedding or head tensors missing from the host model");
    }
    return SPTT_OK;
}

// ----------------------------------------------------------------------------
// Activations: one device arena, laid out twice (measure, then bind), as on the CPU

typedef struct garena {
    float *base;
    size_t used;
} garena;

static float *take(garena *a, size_t n)
{
    float *p = a->base ? a->base + a->used : NULL;
    a->used += (n + 63) & ~(size_t)63;   // 256-byte alignment for every piece
    return p;
}

static void ctx_of(const sptt_cuda_model *m, gctx *x)
{
    const sptt_config *c = &m->cfg;
    memset(x, 0, sizeof *x);
    x->T = m->T; x->C = c->hidden; x->NH = c->n_head; x->KV = c->n_kv_head; x->D = c->head_dim;
    x->H = c->ttt_heads; x->d = sptt_ttt_dim(c); x->r = c->ttt_rope_dim; x->half = c->head_dim / 2;
    x->conv = c->use_conv;
    x->c0 = (float)log(expm1((double)c->ttt_base_lr));
    x->dm.T = m->T; x->dm.C = c->hidden; x->dm.H = x->H; x->dm.d = x->d; x->dm.chunk = c->chunk;
    x->dm.muon = c->use_muon; x->dm.momentum = c->use_momentum; x->dm.prenorm = c->prenorm;
}

static void acts_layout(sptt_cuda_model *m, garena *a)
{
    const sptt_config *c = &m->cfg;
    size_t T = (size_t)m->T, C = (size_t)c->hidden, KVD = (size_t)sptt_kv_dim(c), F = (size_t)c->ffn;
    size_t NH = (size_t)c->n_head, KV = (size_t)c->n_kv_head, V = (size_t)c->vocab_size, TC = T * C;
    gctx x;
    ctx_of(m, &x);
    size_t H = (size_t)x.H, TH = T * H, d = (size_t)x.d, dd = d * d;
    int Wmax = 0;
    for(int l = 0; l < c->n_layer; l++){
        gacts *A = &m->A[l];
        int kind = m->P.L[l].kind;
        A->x = take(a, TC); A->xn1 = take(a, TC); A->rstd1 = take(a, T);
        A->q = take(a, TC); A->k = take(a, T * KVD); A->v = take(a, T * KVD);
        A->qh = take(a, TC); A->kh = take(a, T * KVD); A->rstdq = take(a, T * NH); A->rstdk = take(a, T * KV);
        A->qr = take(a, TC); A->kr = take(a, T * KVD); A->att = take(a, TC); A->lse = take(a, T * NH);
        A->s = kind == SPTT_LAYER_TTT ? take(a, TC) : A->att;
        A->h = take(a, TC); A->hn = take(a, TC); A->rstd2 = take(a, T);
        A->fgu = take(a, T * 2 * F); A->fa = take(a, T * F);
        A->attKeep = m->math == SPTT_CUDA_MATH_BF16 && att_tc(m, c->head_dim) ? take(a, (TC + 2 * T * KVD + 1) / 2) : NULL;
        A->attKept = 0;
        if( kind == SPTT_LAYER_TTT ){
            gtttacts *t = &A->t;
            if( KV == NH ){   // the KV expansion is the identity: the branch reads the attention's own k and v
                t->kt = A->kh;
                t->vt = A->v;
            }else{
                t->kt = take(a, TC);
                t->vt = take(a, TC);
            }
            t->qa = take(a, TC); t->ka = take(a, TC);
            if( x.conv ){
                t->qc = take(a, TC); t->kc = take(a, TC); t->vc = take(a, TC);
            }else{
                t->qc = t->qa; t->kc = t->ka; t->vc = t->vt;
            }
            t->qnrm = take(a, TH); t->knrm = take(a, TH);
            t->Qf = take(a, TC); t->Kf = take(a, TC); t->Vf = take(a, TC);
            t->Qb = t->Kb = t->Vb = NULL;
            if( ns_bf16(m, (int)d) ){
                t->Qb = (__nv_bfloat16 *)take(a, (TC + 1) / 2);
                t->Kb = (__nv_bfloat16 *)take(a, (TC + 1) / 2);
                t->Vb = (__nv_bfloat16 *)take(a, (TC + 1) / 2);
            }
            t->zl = take(a, 3 * TH); t->eta = take(a, 3 * TH); t->zm = take(a, TH); t->mu = take(a, TH);
            t->zs = take(a, TH); t->gate = take(a, TH); t->O = take(a, TC); t->ornd = take(a, TH);
            t->n_chunk = (m->T + c->chunk - 1) / c->chunk;
            t->n_upd = t->n_chunk > 0 ? t->n_chunk - 1 : 0;
            size_t nc = (size_t)t->n_chunk, nu = (size_t)t->n_upd;
            t->Wb = ns_bf16(m, (int)d) ? (__nv_bfloat16 *)take(a, (nc * 3 * H * dd + 1) / 2) : NULL;
            t->W = take(a, nc * 3 * H * dd); t->R = take(a, nc * 3 * H * dd); t->M = take(a, nu * 3 * H * dd);
            size_t nns = c->use_muon ? nu * 3 * H * 5 * dd : 0;
            t->nsX = take(a, nns); t->nsA = take(a, nns); t->nsB = take(a, nns);
            t->nu = take(a, nu * 3 * H); t->mbar = take(a, nc * H); t->n0 = take(a, 3 * H * d);
            t->U0 = take(a, TC); t->U2 = take(a, TC); t->Y0 = take(a, TC); t->Y2 = take(a, TC); t->DH = take(a, TC);
        }
        int W = kind == SPTT_LAYER_FULL ? m->T : c->window;
        if( W > Wmax ) Wmax = W;
    }
    m->xL = take(a, TC); m->xf = take(a, TC); m->rstdf = take(a, T);
    m->logits = take(a, T * V); m->lseLab = take(a, T); m->lossRow = take(a, T);
    m->patches = take(a, (size_t)m->Nv * 6 * c->patch * c->patch);
    m->cosT = take(a, T * (size_t)(c->head_dim / 2)); m->sinT = take(a, T * (size_t)(c->head_dim / 2));
    m->dx = take(a, TC); m->dxn = take(a, TC); m->dq = take(a, TC); m->dk = take(a, T * KVD); m->dv = take(a, T * KVD);
    m->ds = take(a, TC); m->dhn = take(a, TC); m->dfa = take(a, T * F); m->dfgu = take(a, T * 2 * F);
    m->dqr = take(a, TC); m->dkr = take(a, T * KVD); m->dlog = take(a, T * V); m->xrows = take(a, TC);
    m->attS = take(a, att_scratch(m->T, Wmax, (int)NH, m->attBq));
    m->attdS = take(a, att_scratch(m->T, Wmax, (int)NH, m->attBq));
    m->attD = take(a, T * NH);
    m->attB = take(a, 2 * (TC + T * KVD));   // the tensor-core kernels' copies of q, k, v, dout (TF32: floats)
    m->tttS = take(a, ttt_scratch(&x));
}

// ----------------------------------------------------------------------------
// Creation

extern "C" int sptt_cuda_device_count(void)
{
    int n = 0;
    if( cudaGetDeviceCount(&n) != cudaSuccess ){
        cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" const char *sptt_cuda_device_name(void)
{
    static char z[400];
    int dev = 0;
    cudaDeviceProp p;
    if( cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess ) return "no CUDA device";
    snprintf(z, sizeof z, "%s, %d SMs, cc %d.%d, %.0f GiB", p.name, p.multiProcessorCount, p.major, p.minor,
             p.totalGlobalMem / 1073741824.0);
    return z;
}

extern "C" int sptt_cuda_set_device(int dev)
{
    CU(cudaSetDevice(dev));
    return SPTT_OK;
}

extern "C" int sptt_cuda_device_uuid(unsigned char aUuid[16])
{
    int dev = 0;
    cudaDeviceProp p;
    CU(cudaGetDevice(&dev));
    CU(cudaGetDeviceProperties(&p, dev));
    static_assert(sizeof p.uuid.bytes == 16, "a CUDA device UUID is 16 bytes");
    memcpy(aUuid, p.uuid.bytes, 16);
    return SPTT_OK;
}

extern "C" void sptt_cuda_model_free(sptt_cuda_model *m)
{
    if( !m ) return;
    graphs_drop(m);
    free(m->aGraph);
    for(int i = 0; i < TS_EVENTS && m->tsEv[i]; i++) cudaEventDestroy(m->tsEv[i]);
    if( m->blas ) cublasDestroy(m->blas);
    for(int i = 0; i < m->nLtPlan; i++){
        ltplan *p = &m->ltPlan[i];
        if( p->op ) cublasLtMatmulDescDestroy(p->op);
        if( p->la ) cublasLtMatrixLayoutDestroy(p->la);
        if( p->lb ) cublasLtMatrixLayoutDestroy(p->lb);
        if( p->lc ) cublasLtMatrixLayoutDestroy(p->lc);
        if( p->ld ) cublasLtMatrixLayoutDestroy(p->ld);
    }
    if( m->lt ) cublasLtDestroy(m->lt);
    cudaFree(m->blasWs);
    cudaFree(m->colPart);
    for(int i = 0; i < BF_SLOTS; i++) cudaFree(m->bf[i].p);
    cudaFree(m->pbf);
    cudaFree(m->params);
    cudaFree(m->grads);
    cudaFree(m->adM);
    cudaFree(m->adV);
    cudaFree(m->adGroup);
    cudaFree(m->adPart);
    cudaFree(m->arena);
    cudaFree(m->dTok);
    cudaFree(m->dIsvid);
    free(m->P.L);
    free(m->G.L);
    free(m->A);
    free(m->hPos);
    free(m->hVid);
    free(m->hLab);
    free(m->hRows);
    free(m->hTg);
    free(m->hIsvid);
    free(m->hCnt);
    cudaFree(m->dFreq);
    free(m->hPatch);
    free(m->hLoss);
    free(m->hOrd);
    free(m->hSeg);
    free(m->hUtok);
    free(m);
}

/* A forward's activations depend on the math mode and the attention kind (bf16-only activations,
** kept bf16 copies): a change discards the forward, so no backward reads them under other rules. */
static void set_modes(sptt_cuda_model *m, int math, int flash)
{
    if( math != m->math || flash != m->flash ) m->haveForward = 0;
    m->math = math;
    m->flash = flash;
}

extern "C" void sptt_cuda_set_math(sptt_cuda_model *m, int math)
{
    set_modes(m, math == SPTT_CUDA_MATH_TF32 || math == SPTT_CUDA_MATH_BF16 ? math : SPTT_CUDA_MATH_FP32, m->flash);
}
extern "C" int sptt_cuda_get_math(const sptt_cuda_model *m) { return m->math; }
/* on: that mode; off: fp32 if that mode was on (the other fast mode stays) */
extern "C" void sptt_cuda_set_tf32(sptt_cuda_model *m, int on)
{
    if( on ) set_modes(m, SPTT_CUDA_MATH_TF32, m->flash);
    else if( m->math == SPTT_CUDA_MATH_TF32 ) set_modes(m, SPTT_CUDA_MATH_FP32, m->flash);
}
extern "C" void sptt_cuda_set_bf16(sptt_cuda_model *m, int on)
{
    if( on ) set_modes(m, SPTT_CUDA_MATH_BF16, m->flash);
    else if( m->math == SPTT_CUDA_MATH_BF16 ) set_modes(m, SPTT_CUDA_MATH_FP32, m->flash);
}

extern "C" void sptt_cuda_set_graphs(sptt_cuda_model *m, int on)
{
    graphs_drop(m);
    m->useGraphs = on != 0;
}

extern "C" void sptt_cuda_set_flash(sptt_cuda_model *m, int mode)
{
    set_modes(m, m->math, mode == SPTT_CUDA_ATT_FLASH || mode == SPTT_CUDA_ATT_TC ? mode : SPTT_CUDA_ATT_STRIPS);
}

extern "C" int sptt_cuda_graph_counts(const sptt_cuda_model *m, int *pnReplayed)
{
    if( pnReplayed ) *pnReplayed = m->nReplayed;
    return m->nCaptured;
}

extern "C" int sptt_cuda_model_create(const sptt_model *h, sptt_cuda_model **ppModel)
{
    *ppModel = NULL;
    if( sptt_cuda_device_count() < 1 ) return sptt_fail(SPTT_EINVAL, "cuda: no CUDA device found");
    const sptt_config *c = sptt_model_config(h);
    sptt_cuda_model *m = (sptt_cuda_model *)calloc(1, sizeof *m);
    if( !m ) return SPTT_ENOMEM;
    int rc = SPTT_OK;
    m->cfg = *c;
    m->P.L = (glayer *)calloc((size_t)c->n_layer, sizeof(glayer));
    m->G.L = (glayer *)calloc((size_t)c->n_layer, sizeof(glayer));
    m->A = (gacts *)calloc((size_t)c->n_layer, sizeof(gacts));
    m->aGraph = (cudaGraphExec_t *)calloc(2 * (size_t)c->n_layer, sizeof(cudaGraphExec_t));
    if( !m->P.L || !m->G.L || !m->A || !m->aGraph ){ rc = SPTT_ENOMEM; goto fail; }
    {
        const float *hp = sptt_model_params((sptt_model *)h, &m->n_param);
        if( cublasCreate(&m->blas) != CUBLAS_STATUS_SUCCESS ){
            rc = sptt_fail(SPTT_EIO, "cuda: cublasCreate failed");
            goto fail;
        }
        // 32 MiB: cuBLAS's own recommendation for Hopper
        const size_t nWs = (size_t)32 << 20;
        m->blasWsSize = nWs;
        // without cuBLASLt (or with SPTT_CUDA_LT=0, which the device check uses to test that path)
        // gemm_lt falls back to a scaling pass and a cuBLAS product
        const char *zLt = getenv("SPTT_CUDA_LT");
        if( (zLt && zLt[0] == '0') || cublasLtCreate(&m->lt) != CUBLAS_STATUS_SUCCESS ) m->lt = NULL;
        if( cudaMalloc(&m->blasWs, nWs) != cudaSuccess || cublasSetStream(m->blas, cudaStreamPerThread) != CUBLAS_STATUS_SUCCESS ||
            cublasSetWorkspace(m->blas, m->blasWs, nWs) != CUBLAS_STATUS_SUCCESS ){
            rc = sptt_fail(SPTT_EIO, "cuda: cannot set cuBLAS's stream and workspace");
            goto fail;
        }
        if( cudaMalloc((void **)&m->params, sizeof(float) * m->n_param) != cudaSuccess ||
            cudaMalloc((void **)&m->grads, sizeof(float) * m->n_param) != cudaSuccess ){
            rc = sptt_fail(SPTT_ENOMEM, "cuda: cannot allocate %zu parameters on the device", m->n_param);
            goto fail;
        }
        if( cudaMemcpy(m->params, hp, sizeof(float) * m->n_param, cudaMemcpyHostToDevice) != cudaSuccess ||
            cudaMemset(m->grads, 0, sizeof(float) * m->n_param) != cudaSuccess ){
            rc = sptt_fail(SPTT_EIO, "cuda: parameter upload failed");
            goto fail;
        }
        if( (rc = bind(h, c, m->params, &m->P)) || (rc = bind(h, c, m->grads, &m->G)) ) goto fail;
        // the widest column sum: the hidden size, a head, a fast head or the TTT gates (3 per fast head)
        int nw = c->hidden;
        if( c->head_dim > nw ) nw = c->head_dim;
        if( 3 * c->ttt_heads > nw ) nw = 3 * c->ttt_heads;
        if( c->use_ttt && sptt_ttt_dim(c) > nw ) nw = sptt_ttt_dim(c);
        m->colCap = (size_t)2 * COLS_PARTS * nw;   // affine_bwd's two sums at once
        if( cudaMalloc((void **)&m->colPart, sizeof(float) * m->colCap) != cudaSuccess ){
            rc = sptt_fail(SPTT_ENOMEM, "cuda: cannot allocate the column sums' scratch");
            goto fail;
        }
        // the rotary table's columns: frequency theta^(-2j / 2half) (as the CPU model computes it,
        // in double) and the position axis of its section; the vocabulary's counts for embed_runs
        int half = c->head_dim / 2;
        double *freq = (double *)malloc(sizeof(double) * (size_t)half);
        int32_t *axis = (int32_t *)malloc(sizeof(int32_t) * (size_t)half);
        m->hCnt = (int32_t *)malloc(sizeof(int32_t) * ((size_t)c->vocab_size + 1));
        int ok = freq && axis && m->hCnt &&
                 cudaMalloc((void **)&m->dFreq, (sizeof(double) + sizeof(int32_t)) * (size_t)half) == cudaSuccess;
        if( ok ){
            const int *sec = c->rope_sections;
            for(int j = 0; j < half; j++){
                freq[j] = pow(c->rope_theta, -2.0 * j / (2.0 * half));
                axis[j] = j < sec[0] ? 0 : j < sec[0] + sec[1] ? 1 : 2;
            }
            m->dAxis = (int32_t *)(m->dFreq + half);
            ok = cudaMemcpy(m->dFreq, freq, sizeof(double) * (size_t)half, cudaMemcpyHostToDevice) == cudaSuccess &&
                 cudaMemcpy(m->dAxis, axis, sizeof(int32_t) * (size_t)half, cudaMemcpyHostToDevice) == cudaSuccess;
        }
        free(freq);
        free(axis);
        if( !ok ){
            rc = sptt_fail(SPTT_ENOMEM, "cuda: cannot set up the rotary table's frequencies");
            goto fail;
        }
        // cuBLAS's own math mode stays the default: each call names its compute type
        const char *zTf = getenv("SPTT_CUDA_TF32"), *zBf = getenv("SPTT_CUDA_BF16");
        sptt_cuda_set_tf32(m, zTf && zTf[0] == '1');
        sptt_cuda_set_bf16(m, zBf && zBf[0] == '1');
        const char *zBm = getenv("SPTT_CUDA_BF16_MIN");
        m->bfMin = zBm && zBm[0] ? atof(zBm) : 1073741824.0;
        const char *zGr = getenv("SPTT_CUDA_GRAPHS");
        m->useGraphs = !(zGr && zGr[0] == '0');
        const char *zFl = getenv("SPTT_CUDA_FLASH");
        sptt_cuda_set_flash(m, zFl ? atoi(zFl) : SPTT_CUDA_ATT_TC);
        const char *zBq = getenv("SPTT_CUDA_ATT_BQ");
        m->attBq = zBq ? (atoi(zBq) > 0 ? atoi(zBq) : 0) & ~63 : 0;
    }
    *ppModel = m;
    return SPTT_OK;
fail:
    sptt_cuda_model_free(m);
    return rc;
}

extern "C" size_t sptt_cuda_n_params(const sptt_cuda_model *m) { return m->n_param; }
extern "C" float *sptt_cuda_params_dev(sptt_cuda_model *m) { return m->params; }
extern "C" float *sptt_cuda_grads_dev(sptt_cuda_model *m) { return m->grads; }

extern "C" int sptt_cuda_set_params(sptt_cuda_model *m, const float *a)
{
    CU(cudaMemcpy(m->params, a, sizeof(float) * m->n_param, cudaMemcpyHostToDevice));
    return SPTT_OK;
}
extern "C" int sptt_cuda_get_params(sptt_cuda_model *m, float *a)
{
    CU(cudaMemcpy(a, m->params, sizeof(float) * m->n_param, cudaMemcpyDeviceToHost));
    return SPTT_OK;
}
extern "C" int sptt_cuda_get_grads(sptt_cuda_model *m, float *a)
{
    CU(cudaMemcpy(a, m->grads, sizeof(float) * m->n_param, cudaMemcpyDeviceToHost));
    return SPTT_OK;
}
extern "C" int sptt_cuda_set_grads(sptt_cuda_model *m, const float *a)
{
    CU(cudaMemcpy(m->grads, a, sizeof(float) * m->n_param, cudaMemcpyHostToDevice));
    return SPTT_OK;
}
extern "C" int sptt_cuda_get_grads_range(sptt_cuda_model *m, size_t off, size_t n, float *a)
{
    assert(off + n <= m->n_param);
    if( n ) CU(cudaMemcpy(a, m->grads + off, sizeof(float) * n, cudaMemcpyDeviceToHost));
    return SPTT_OK;
}
extern "C" int sptt_cuda_zero_grad(sptt_cuda_model *m)
{
    CU(cudaMemset(m->grads, 0, sizeof(float) * m->n_param));
    return SPTT_OK;
}
extern "C" int sptt_cuda_synchronize(void)
{
    CU(cudaDeviceSynchronize());
    CU(cudaGetLastError());
    return SPTT_OK;
}
extern "C" void sptt_cuda_profiler(int on)
{
    if( on ) cudaProfilerStart();
    else cudaProfilerStop();
}

// ----------------------------------------------------------------------------
// Forward

static int grow_host(sptt_cuda_model *m, int T)
{
    if( T <= m->hostCap ) return SPTT_OK;
    free(m->hPos); free(m->hVid); free(m->hLab); free(m->hRows); free(m->hTg); free(m->hIsvid);
    free(m->hLoss); free(m->hOrd); free(m->hSeg); free(m->hUtok);
    m->hOrd = (int32_t *)malloc(sizeof(int32_t) * (size_t)T);
    m->hSeg = (int32_t *)malloc(sizeof(int32_t) * ((size_t)T + 1));
    m->hUtok = (int32_t *)malloc(sizeof(int32_t) * (size_t)T);
    m->hPos = (int32_t *)malloc(sizeof(int32_t) * 3 * (size_t)T);
    m->hVid = (int32_t *)malloc(sizeof(int32_t) * (size_t)T);
    m->hLab = (int32_t *)malloc(sizeof(int32_t) * (size_t)T);
    m->hRows = (int32_t *)malloc(sizeof(int32_t) * (size_t)T);
    m->hTg = (int32_t *)malloc(sizeof(int32_t) * (size_t)T);
    m->hIsvid = (uint8_t *)malloc((size_t)T);
    m->hLoss = (float *)malloc(sizeof(float) * (size_t)T);
    m->hostCap = 0;
    if( !m->hPos || !m->hVid || !m->hLab || !m->hRows || !m->hTg || !m->hIsvid || !m->hLoss || !m->hOrd || !m->hSeg ||
        !m->hUtok ){
        return SPTT_ENOMEM;
    }
    cudaFree(m->dTok);
    cudaFree(m->dIsvid);
    m->dTok = NULL;
    m->dIsvid = NULL;
    CU(cudaMalloc((void **)&m->dTok, sizeof(int32_t) * (12 * (size_t)T + 1)));
    CU(cudaMalloc((void **)&m->dIsvid, (size_t)T));
    m->dTgt = m->dTok + T;
    m->dVid = m->dTgt + T;
    m->dLab = m->dVid + T;
    m->dRows = m->dLab + T;
    m->dTg = m->dRows + T;
    m->dOrd = m->dTg + T;
    m->dUtok = m->dOrd + T;
    m->dSeg = m->dUtok + T;
    m->dPos = m->dSeg + T + 1;
    m->hostCap = T;
    return SPTT_OK;
}

/* patch vectors (Nv, 6 P^2), as patch_gather() */
static void patch_gather_host(float *patches, const float *pixels, int G0, int G1, int G2, int P, int H, int W)
{
    int K = 6 * P * P;
    long Nv = (long)G0 * G1 * G2;
    for(long v = 0; v < Nv; v++){
        int t = (int)(v / ((long)G1 * G2)), gh = (int)((v / G2) % G1), gw = (int)(v % G2);
        float *o = patches + v * K;
        for(int ch = 0; ch < 3; ch++)
            for(int f = 0; f < 2; f++)
                for(int r = 0; r < P; r++)
                    for(int c = 0; c < P; c++){
                        size_t frame = (size_t)(2 * t + f);
                        size_t y = (size_t)gh * P + r, xx = (size_t)gw * P + c;
                        o[((ch * 2 + f) * P + r) * P + c] = pixels[((frame * H + y) * W + xx) * 3 + ch];
                    }
    }
}

/* The embedding backward's runs (hOrd, hSeg, hUtok, nUtok): the positions of each token other
** than the patch token, ascending, tokens in ascending order; a counting sort over the vocabulary
** (hCnt, V + 1). */
static void embed_runs(sptt_cuda_model *m, const int32_t *tok, int T)
{
    int V = m->cfg.vocab_size;
    int32_t *cnt = m->hCnt;
    memset(cnt, 0, sizeof(int32_t) * ((size_t)V + 1));
    for(int t = 0; t < T; t++) if( tok[t] != SPTT_TOK_PATCH ) cnt[tok[t] + 1]++;
    for(int v = 0; v < V; v++) cnt[v + 1] += cnt[v];   // cnt[v]: where token v's run starts
    int n = cnt[V];
    for(int t = 0; t < T; t++) if( tok[t] != SPTT_TOK_PATCH ) m->hOrd[cnt[tok[t]]++] = t;
    m->nUtok = 0;   // cnt[v] is now where token v's run ends
    for(int v = 0, prev = 0; v < V; v++){
        if( cnt[v] == prev ) continue;
        m->hUtok[m->nUtok] = v;
        m->hSeg[m->nUtok++] = prev;
        prev = cnt[v];
    }
    m->hSeg[m->nUtok] = n;
}

static int forward_begin(sptt_cuda_model *m, const sptt_sample *s, int flags)
{
    const sptt_config *c = &m->cfg;
    int rc;
    int T = s->n_tokens, V = c->vocab_size, half = c->head_dim / 2;
    m->haveForward = 0;
    m->nPbfDone = 0;   // the parameters may have changed since the last step: their bf16 copies are stale
    m->nActBf = 0;
    m->bfErr = 0;
    if( T < 1 || !s->tokens || !s->targets ) return sptt_fail(SPTT_EINVAL, "sample: no tokens or no targets");
    for(int i = 0; i < T; i++){
        if( s->tokens[i] < 0 || s->tokens[i] >= V ){
            return sptt_fail(SPTT_EINVAL, "sample: token %d: id %d outside the vocabulary of %d", i, s->tokens[i], V);
        }
        if( s->targets[i] != -1 && (s->targets[i] < 0 || s->targets[i] >= V || s->targets[i] == SPTT_TOK_PATCH) ){
            return sptt_fail(SPTT_EINVAL, "sample: target %d: id %d cannot be predicted", i, s->targets[i]);
        }
    }
    if( s->n_frames && !s->pixels ) return sptt_fail(SPTT_EINVAL, "sample: %d frames but no pixels", s->n_frames);
    if( (rc = grow_host(m, T)) ) return rc;
    if( (rc = sptt_sample_positions(c, s, m->hPos, m->hVid)) ) return rc;
    sptt_sample_grid(c, s, m->grid);
    m->T = T;
    m->Nv = m->grid[0] * m->grid[1] * m->grid[2];
    memset(m->hIsvid, 0, (size_t)T);
    for(int v = 0; v < m->Nv; v++) m->hIsvid[m->hVid[v]] = 1;
    m->nLab = 0;
    for(int i = 0; i < T; i++) if( s->targets[i] >= 0 ) m->hLab[m->nLab++] = i;
    if( flags & SPTT_FWD_ALL_LOGITS ){
        for(int i = 0; i < T; i++) m->hRows[i] = i;
        m->nRows = T;
    }else{
        memcpy(m->hRows, m->hLab, sizeof(int32_t) * (size_t)m->nLab);
        m->nRows = m->nLab;
    }
    for(int r = 0; r < m->nLab; r++) m->hTg[r] = s->targets[m->hLab[r]];
    embed_runs(m, s->tokens, T);

    garena a = { NULL, 0 };
    acts_layout(m, &a);
    if( a.used > m->arenaCap ){
        cudaFree(m->arena);
        m->arena = NULL;
        m->arenaCap = 0;
        if( cudaMalloc((void **)&m->arena, sizeof(float) * a.used) != cudaSuccess ){
            cudaGetLastError();
            return sptt_fail(SPTT_ENOMEM, "cuda: cannot allocate %.2f GiB of activations for %d tokens",
                             a.used * 4.0 / 1073741824.0, T);
        }
        m->arenaCap = a.used;
    }
    a.base = m->arena;
    a.used = 0;
    acts_layout(m, &a);

    size_t TB = sizeof(int32_t) * (size_t)T;
    CU(cudaMemcpy(m->dTok, s->tokens, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dTgt, s->targets, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dVid, m->hVid, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dLab, m->hLab, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dRows, m->hRows, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dTg, m->hTg, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dOrd, m->hOrd, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dUtok, m->hUtok, TB, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dSeg, m->hSeg, TB + sizeof(int32_t), cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dIsvid, m->hIsvid, (size_t)T, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->dPos, m->hPos, 3 * TB, cudaMemcpyHostToDevice));
    k_rope_table<<<nblk((long)T * half), NT>>>(m->cosT, m->sinT, m->dPos, m->dFreq, m->dAxis, T, half);
    if( m->Nv ){
        int P = c->patch;
        size_t np = (size_t)m->Nv * 6 * P * P;
        if( np > m->hPatchCap ){
            free(m->hPatch);
            m->hPatch = (float *)malloc(sizeof(float) * np);
            m->hPatchCap = m->hPatch ? np : 0;
            if( !m->hPatch ) return SPTT_ENOMEM;
        }
        patch_gather_host(m->hPatch, s->pixels, m->grid[0], m->grid[1], m->grid[2], P, c->frame_h, c->frame_w);
        CU(cudaMemcpy(m->patches, m->hPatch, sizeof(float) * np, cudaMemcpyHostToDevice));
    }
    return SPTT_OK;
}

enum { KSTEP_EMBED, KSTEP_QKV, KSTEP_ATTN, KSTEP_TTT, KSTEP_OUT, KSTEP_FFN, KSTEP_UNROPE, KSTEP_HEAD };

static void embed_fwd(sptt_cuda_model *m)
{
    const sptt_config *c = &m->cfg;
    int T = m->T, C = c->hidden;
    float *x0 = m->A[0].x;
    k_embed_fwd<<<nblk((long)T * C), NT>>>(x0, m->dTok, m->P.wte, T, C, SPTT_TOK_PATCH);
    if( m->Nv ){
        int K = 6 * c->patch * c->patch;
        linear_fwd(m, m->xrows, m->patches, m->P.patch_w, m->P.patch_b, m->Nv, K, C);
        k_scatter_rows<<<nblk((long)m->Nv * C), NT>>>(x0, m->xrows, m->dVid, m->Nv, C);
    }
}

static void block_fwd(sptt_cuda_model *m, int phase, int l)
{
    const sptt_config *c = &m->cfg;
    const glayer *L = &m->P.L[l];
    gacts *A = &m->A[l];
    int T = m->T, C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim;
    int NH = c->n_head, KV = c->n_kv_head, half = D / 2;
    switch( phase ){
    case KSTEP_QKV:
        bf_keep(m, 1);
        rmsnorm_fwd(A->xn1, bf_claim(m, A->xn1, T, C, T, KVD, C), A->rstd1, A->x, L->ln1, T, C, c->norm_eps);
        linear_fwd(m, A->q, A->xn1, L->wq, NULL, T, C, C);
        linear_fwd(m, A->k, A->xn1, L->wk, NULL, T, C, KVD);
        linear_fwd(m, A->v, A->xn1, L->wv, NULL, T, C, KVD);
        bf_keep(m, 0);
        rmsnorm_fwd(A->qh, NULL, A->rstdq, A->q, L->qnorm, (long)T * NH, D, c->norm_eps);
        rmsnorm_fwd(A->kh, NULL, A->rstdk, A->k, L->knorm, (long)T * KV, D, c->norm_eps);
        if( att_keeps(m, A->attKeep, D) ){
            // the attention reads rotated q and k only as the bf16 copies it keeps: rope writes those alone
            __nv_bfloat16 *qb = (__nv_bfloat16 *)A->attKeep, *kb = qb + (size_t)T * C;
            rope_bf16(qb, A->qh, m->cosT, m->sinT, T, NH, D);
            rope_bf16(kb, A->kh, m->cosT, m->sinT, T, KV, D);
        }else{
            rope2(A->qr, A->qh, m->cosT, m->sinT, T, NH, D, C, D, half, 1);
            rope2(A->kr, A->kh, m->cosT, m->sinT, T, KV, D, KVD, D, half, 1);
        }
        break;
    case KSTEP_ATTN: {
        int W = L->kind == SPTT_LAYER_FULL ? T : c->window;
        attention_fwd(m, A->att, A->lse, A->qr, A->kr, A->v, T, NH, KV, D, W, m->attS, A->attKeep,
                      att_keeps(m, A->attKeep, D), &A->attKept);
        break;
    }
    case KSTEP_TTT: {
        gctx x;
        ctx_of(m, &x);
        // in bf16 mode s is read only by the output projection's bf16 products: kept as bf16 alone
        __nv_bfloat16 *s16 = act_bf16_claim(m, A->s, T, C, T, C, C);
        ttt_fwd(m, l, &A->t, &L->t, &x, A->xn1, A->qh, A->kh, A->v, A->s, s16, A->att, m->tttS);
        break;
    }
    case KSTEP_OUT:
        linear_fwd_res(m, A->h, A->s, L->wo, A->x, T, C, C);
        break;
    case KSTEP_FFN: {
        float *out = l + 1 < c->n_layer ? m->A[l + 1].x : m->xL;
        bf_keep(m, 1);
        // in bf16 mode hn and fa are read only by bf16 products (here and in the backward): kept as bf16 alone
        __nv_bfloat16 *hn16 = rn_rows(C, A->hn, A->h, L->ln2) ? act_bf16_claim(m, A->hn, T, C, T, 2 * F, C) : NULL;
        __nv_bfloat16 *fa16 = act_bf16_claim(m, A->fa, T, F, T, C, F);
        if( hn16 ) rmsnorm_fwd(NULL, hn16, A->rstd2, A->h, L->ln2, T, C, c->norm_eps);
        else rmsnorm_fwd(A->hn, bf_claim(m, A->hn, T, C, T, 2 * F, C), A->rstd2, A->h, L->ln2, T, C, c->norm_eps);
        linear_fwd(m, A->fgu, A->hn, L->wg, NULL, T, C, 2 * F);   // [wg; wu] is one (2F, C) matrix
        if( fa16 ) swiglu_fwd(NULL, fa16, A->fgu, T, F);
        else swiglu_fwd(A->fa, bf_claim(m, A->fa, T, F, T, C, F), A->fgu, T, F);
        linear_fwd_res(m, out, A->fa, L->wd, A->h, T, F, C);
        bf_keep(m, 0);
        break;
    }
    default:
        assert(0);
    }
}

static void head_fwd(sptt_cuda_model *m)
{
    const sptt_config *c = &m->cfg;
    int T = m->T, V = c->vocab_size, C = c->hidden, nR = m->nRows;
    rmsnorm_fwd(m->xf, NULL, m->rstdf, m->xL, m->P.lnf, T, C, c->norm_eps);
    if( nR ) k_gather_rows<<<nblk((long)nR * C), NT>>>(m->xrows, m->xf, m->dRows, nR, C);
    gemm(m, 0, 1, nR, V, C, 1, m->xrows, C, m->P.lm_head, C, 0, m->dlog, V);
    zero(m->logits, (size_t)T * V);
    if( nR ) k_scatter_rows<<<nblk((long)nR * V), NT>>>(m->logits, m->dlog, m->dRows, nR, V);
    if( nR != m->nLab && m->nLab ) k_gather_rows<<<nblk((long)m->nLab * V), NT>>>(m->dlog, m->logits, m->dLab, m->nLab, V);
    if( m->nLab ) k_ce_fwd<<<m->nLab, NT>>>(m->lseLab, m->lossRow, m->dlog, m->dTg, V);
}

// ----------------------------------------------------------------------------
// Backward

static void head_bwd(sptt_cuda_model *m)
{
    const sptt_config *c = &m->cfg;
    int T = m->T, C = c->hidden, V = c->vocab_size, nL = m->nLab;
    size_t TC = (size_t)T * C;
    if( nL ){
        k_gather_rows<<<nblk((long)nL * C), NT>>>(m->xrows, m->xf, m->dLab, nL, C);
        k_gather_rows<<<nblk((long)nL * V), NT>>>(m->dlog, m->logits, m->dLab, nL, V);
        k_ce_bwd<<<nblk((long)nL * V), NT>>>(m->dlog, m->lseLab, m->dTg, nL, V, m->weight);
    }
    bf_keep(m, 1);
    gemm(m, 1, 0, V, C, nL, 1, m->dlog, V, m->xrows, C, 1, m->G.lm_head, C);
    gemm(m, 0, 0, nL, C, V, 1, m->dlog, V, m->P.lm_head, C, 0, m->dq, C);
    bf_keep(m, 0);
    zero(m->ds, TC);
    if( nL ) k_scatter_rows<<<nblk((long)nL * C), NT>>>(m->ds, m->dq, m->dLab, nL, C);
    rmsnorm_bwd(m, m->dx, m->G.lnf, m->ds, m->xL, m->P.lnf, m->rstdf, T, C, 0);
}

static void block_bwd(sptt_cuda_model *m, int phase, int l)
{
    const sptt_config *c = &m->cfg;
    const glayer *L = &m->P.L[l];
    const glayer *G = &m->G.L[l];
    gacts *A = &m->A[l];
    float *dx = m->dx;
    int T = m->T, C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim;
    int NH = c->n_head, KV = c->n_kv_head, half = D / 2;
    switch( phase ){
    case KSTEP_FFN:
        bf_keep(m, 1);
        gemm(m, 0, 0, T, F, C, 1, dx, C, L->wd, F, 0, m->dfa, F);
        gemm(m, 1, 0, C, F, T, 1, dx, C, A->fa, F, 1, G->wd, F);
        bf_keep(m, 0);
        bf_keep(m, 1);
        swiglu_bwd(m->dfgu, bf_claim(m, m->dfgu, T, 2 * F, T, C, 2 * F), m->dfa, A->fgu, T, F);
        linear_bwd(m, m->dhn, G->wg, NULL, m->dfgu, A->hn, L->wg, T, C, 2 * F, 0);
        bf_keep(m, 0);
        rmsnorm_bwd(m, dx, G->ln2, m->dhn, A->h, L->ln2, A->rstd2, T, C);
        break;
    case KSTEP_OUT:
        bf_keep(m, 1);
        linear_bwd(m, m->ds, G->wo, NULL, dx, A->s, L->wo, T, C, C, 0);
        bf_keep(m, 0);
        break;
    case KSTEP_ATTN: {
        // the first writer of dq, dk, dv: no zeroing before
        int W = L->kind == SPTT_LAYER_FULL ? T : c->window;
        attention_bwd(m, m->dqr, m->dkr, m->dv, m->ds, A->qr, A->kr, A->v, A->att, A->lse, T, NH, KV, D, W, m->attS,
                      m->attdS, m->attD, A->attKept ? A->attKeep : NULL, 0);
        break;
    }
    case KSTEP_UNROPE:
        rope(m->dqr, m->cosT, m->sinT, T, NH, D, C, D, half, -1);
        rope(m->dkr, m->cosT, m->sinT, T, KV, D, KVD, D, half, -1);
        break;
    case KSTEP_TTT: {
        gctx x;
        ctx_of(m, &x);
        ttt_bwd(m, l, &G->t, m->dxn, m->dqr, m->dkr, m->dv, m->ds, &A->t, &L->t, &x, A->xn1, A->qh, m->tttS);
        break;
    }
    case KSTEP_QKV:
        rmsnorm_bwd(m, m->dq, G->qnorm, m->dqr, A->q, L->qnorm, A->rstdq, (long)T * NH, D, 0);
        rmsnorm_bwd(m, m->dk, G->knorm, m->dkr, A->k, L->knorm, A->rstdk, (long)T * KV, D, 0);
        bf_keep(m, 1);
        // dxn's first writer where the layer has no TTT branch (its backward writes dxn first)
        linear_bwd(m, m->dxn, G->wq, NULL, m->dq, A->xn1, L->wq, T, C, C, L->kind == SPTT_LAYER_TTT);
        linear_bwd(m, m->dxn, G->wk, NULL, m->dk, A->xn1, L->wk, T, C, KVD);
        linear_bwd(m, m->dxn, G->wv, NULL, m->dv, A->xn1, L->wv, T, C, KVD);
        bf_keep(m, 0);
        rmsnorm_bwd(m, dx, G->ln1, m->dxn, A->x, L->ln1, A->rstd1, T, C);
        break;
    default:
        assert(0);
    }
}

static void embed_bwd(sptt_cuda_model *m)
{
    const sptt_config *c = &m->cfg;
    int C = c->hidden;
    if( m->nUtok ) k_embed_bwd<<<dim3((unsigned)m->nUtok, nblk(C)), NT>>>(m->G.wte, m->dx, m->dOrd, m->dSeg, m->dUtok, C);
    if( m->Nv ){
        int K = 6 * c->patch * c->patch;
        k_gather_rows<<<nblk((long)m->Nv * C), NT>>>(m->dq, m->dx, m->dVid, m->Nv, C);
        linear_bwd(m, NULL, m->G.patch_w, m->G.patch_b, m->dq, m->patches, m->P.patch_w, m->Nv, K, C);
    }
}

// ----------------------------------------------------------------------------
// Passes, timing, FLOPs

static int step_bucket(const sptt_cuda_model *m, int phase, int layer)
{
    switch( phase ){
    case KSTEP_EMBED: return SPTT_T_EMBED;
    case KSTEP_ATTN:  return m->P.L[layer].kind == SPTT_LAYER_FULL ? SPTT_T_FULL : SPTT_T_WINDOW;
    case KSTEP_TTT:   return SPTT_T_TTT;
    case KSTEP_FFN:   return SPTT_T_FFN;
    case KSTEP_HEAD:  return SPTT_T_HEAD;
    default:          return SPTT_T_PROJ;
    }
}

/* Times one step (timing on): the device is drained before and after. */
static void step_done(sptt_cuda_model *m, int phase, int layer, double *t0)
{
    if( !m->timing ) return;
    cudaDeviceSynchronize();
    double t1 = sptt_now();
    m->stats.seconds[step_bucket(m, phase, layer)] += t1 - *t0;
    if( layer >= 0 ) m->stats.layer_seconds[m->P.L[layer].kind] += t1 - *t0;
    *t0 = t1;
}

static void count_flops(const sptt_cuda_model *m, double *f)
{
    const sptt_config *c = &m->cfg;
    double T = m->T, C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim, NH = c->n_head;
    double H = c->ttt_heads, d = sptt_ttt_dim(c), V = c->vocab_size;
    f[SPTT_T_EMBED] += 4.0 * m->Nv * 6 * c->patch * c->patch * C;
    for(int l = 0; l < c->n_layer; l++){
        int kind = m->P.L[l].kind;
        int W = kind == SPTT_LAYER_FULL ? m->T : c->window;
        double pairs = 0;
        for(int i = 0; i < m->T; i++) pairs += (i + 1 < W ? i + 1 : W);
        f[SPTT_T_PROJ] += 6.0 * T * (2 * C * C + 2 * C * KVD);
        f[kind == SPTT_LAYER_FULL ? SPTT_T_FULL : SPTT_T_WINDOW] += 12.0 * D * pairs * NH;
        f[SPTT_T_FFN] += 6.0 * T * 3 * C * F;
        if( kind == SPTT_LAYER_TTT ){
            double nUpd = (m->T + c->chunk - 1) / c->chunk - 1, Tu = nUpd * c->chunk;
            f[SPTT_T_TTT] += 6.0 * T * C * (3 * H + H + (c->use_momentum ? H : 0));
            f[SPTT_T_TTT] += 18.0 * d * d * T * H + 36.0 * d * d * Tu * H;
            if( c->use_muon ) f[SPTT_T_TTT] += 80.0 * d * d * d * 3 * H * nUpd;
        }
    }
    f[SPTT_T_HEAD] += 2.0 * m->nRows * C * V + 4.0 * m->nLab * C * V;
}

extern "C" int sptt_cuda_forward(sptt_cuda_model *m, const sptt_sample *s, int flags, float *pLoss, int *pnLabelled)
{
    if( pLoss ) *pLoss = 0;
    int rc = forward_begin(m, s, flags);
    if( rc ) return rc;
    const sptt_config *c = &m->cfg;
    double t0 = 0;
    if( m->timing ){
        cudaDeviceSynchronize();
        t0 = sptt_now();
    }
    embed_fwd(m);
    step_done(m, KSTEP_EMBED, -1, &t0);
    for(int l = 0; l < c->n_layer; l++){
        int ph[5] = { KSTEP_QKV, KSTEP_ATTN, KSTEP_TTT, KSTEP_OUT, KSTEP_FFN };
        for(int i = 0; i < 5; i++){
            if( ph[i] == KSTEP_TTT && m->P.L[l].kind != SPTT_LAYER_TTT ) continue;
            block_fwd(m, ph[i], l);
            step_done(m, ph[i], l, &t0);
        }
    }
    head_fwd(m);
    step_done(m, KSTEP_HEAD, -1, &t0);
    count_flops(m, m->stats.flops);
    double sum = 0;
    if( m->nLab ){
        CU(cudaMemcpy(m->hLoss, m->lossRow, sizeof(float) * (size_t)m->nLab, cudaMemcpyDeviceToHost));
        for(int r = 0; r < m->nLab; r++) sum += (double)m->hLoss[r];
    }
    CU(cudaGetLastError());
    if( m->bfErr ) return sptt_fail(SPTT_ENOMEM, "cuda: no device memory for the bf16 operand copies");
    m->loss = m->nLab ? sum / m->nLab : 0;
    m->haveForward = 1;
    if( pLoss ) *pLoss = (float)m->loss;
    if( pnLabelled ) *pnLabelled = m->nLab;
    return SPTT_OK;
}

extern "C" int sptt_cuda_backward(sptt_cuda_model *m, float weight)
{
    if( !m->haveForward ) return sptt_fail(SPTT_ESTATE, "model: backward without a forward");
    const sptt_config *c = &m->cfg;
    m->weight = weight;
    double t0 = 0;
    if( m->timing ){
        cudaDeviceSynchronize();
        t0 = sptt_now();
    }
    head_bwd(m);
    step_done(m, KSTEP_HEAD, -1, &t0);
    for(int l = c->n_layer - 1; l >= 0; l--){
        int ph[6] = { KSTEP_FFN, KSTEP_OUT, KSTEP_ATTN, KSTEP_UNROPE, KSTEP_TTT, KSTEP_QKV };
        for(int i = 0; i < 6; i++){
            if( ph[i] == KSTEP_TTT && m->P.L[l].kind != SPTT_LAYER_TTT ) continue;
            block_bwd(m, ph[i], l);
            step_done(m, ph[i], l, &t0);
        }
        if( m->xHook ){
            if( !m->hookAsync ) CU(cudaDeviceSynchronize());
            m->xHook(m->pHookCtx, l);
            if( m->timing ) t0 = sptt_now();
        }
    }
    embed_bwd(m);
    step_done(m, KSTEP_EMBED, -1, &t0);
    CU(cudaGetLastError());
    if( m->bfErr ) return sptt_fail(SPTT_ENOMEM, "cuda: no device memory for the bf16 operand copies");
    return SPTT_OK;
}

extern "C" int sptt_cuda_get_logits(sptt_cuda_model *m, float *aHost, int *pnTokens)
{
    if( pnTokens ) *pnTokens = m->haveForward ? m->T : 0;
    if( !m->haveForward ) return sptt_fail(SPTT_ESTATE, "model: no forward to take logits from");
    CU(cudaMemcpy(aHost, m->logits, sizeof(float) * (size_t)m->T * m->cfg.vocab_size, cudaMemcpyDeviceToHost));
    return SPTT_OK;
}

// ----------------------------------------------------------------------------
// AdamW on the device (sptt_cuda_adamw_*): each operation rounded on its own (the _rn
// intrinsics), as the host's loop computes it without fused multiply-adds, in the same order.

#define AD_NORM_BLOCK 4096   /* sptt_grad_norm's block */
#define AD_GROUP_DECAY 0     /* SPTT_GROUP_* of train/sptt_train.h */
#define AD_GROUP_FAST 2

/* g *= inv (where scale), then part[b] = sum over block b of g^2 in double, in order */
__global__ void k_ad_norm_part(double *part, float *g, size_t n, float inv, int scale)
{
    size_t b = (size_t)blockIdx.x * blockDim.x + threadIdx.x, i0 = b * AD_NORM_BLOCK;
    if( i0 >= n ) return;
    size_t i1 = i0 + AD_NORM_BLOCK < n ? i0 + AD_NORM_BLOCK : n;
    double s = 0;
    for(size_t i = i0; i < i1; i++){
        float x = g[i];
        if( scale ){
            x = __fmul_rn(x, inv);
            g[i] = x;
        }
        s = __dadd_rn(s, __dmul_rn((double)x, (double)x));
    }
    part[b] = s;
}
/* the blocks' sums added in order, one thread: sptt_grad_norm's total */
__global__ void k_ad_norm_end(double *out, const double *part, size_t nb)
{
    double t = 0;
    for(size_t b = 0; b < nb; b++) t = __dadd_rn(t, part[b]);
    *out = t;
}
__global__ void k_adamw(float *p, float *g, float *mm, float *vv, const unsigned char *grp, size_t n, float scale, float a0,
                        float a1, float wd, float b1, float b2, float eps, float bc1, float bc2)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if( i >= n ) return;
    int gr = grp[i];
    float a = gr >= AD_GROUP_FAST ? a1 : a0, pi = p[i];
    if( gr == AD_GROUP_DECAY || gr == AD_GROUP_FAST ) pi = __fsub_rn(pi, __fmul_rn(__fmul_rn(a, wd), pi));
    float gi = __fmul_rn(g[i], scale);
    g[i] = gi;
    float mi = __fadd_rn(__fmul_rn(b1, mm[i]), __fmul_rn(__fsub_rn(1.0f, b1), gi));
    float vi = __fadd_rn(__fmul_rn(b2, vv[i]), __fmul_rn(__fmul_rn(__fsub_rn(1.0f, b2), gi), gi));
    mm[i] = mi;
    vv[i] = vi;
    float num = __fmul_rn(a, __fdiv_rn(mi, bc1)), den = __fadd_rn(__fsqrt_rn(__fdiv_rn(vi, bc2)), eps);
    p[i] = __fsub_rn(pi, __fdiv_rn(num, den));
}

extern "C" int sptt_cuda_adamw_open(sptt_cuda_model *m, const unsigned char *aGroup, const float *aM, const float *aV)
{
    size_t n = m->n_param, nb = (n + AD_NORM_BLOCK - 1) / AD_NORM_BLOCK + 1;
    if( !m->adM ){
        if( cudaMalloc((void **)&m->adM, sizeof(float) * n) != cudaSuccess ||
            cudaMalloc((void **)&m->adV, sizeof(float) * n) != cudaSuccess ||
            cudaMalloc((void **)&m->adGroup, n) != cudaSuccess || cudaMalloc((void **)&m->adPart, sizeof(double) * nb) != cudaSuccess )
            return sptt_fail(SPTT_ENOMEM, "cuda: cannot allocate the optimiser's state (%zu parameters)", n);
    }
    CU(cudaMemcpy(m->adGroup, aGroup, n, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->adM, aM, sizeof(float) * n, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(m->adV, aV, sizeof(float) * n, cudaMemcpyHostToDevice));
    return SPTT_OK;
}

extern "C" int sptt_cuda_adamw_moments(sptt_cuda_model *m, float *aM, float *aV)
{
    if( !m->adM ) return sptt_fail(SPTT_ESTATE, "cuda: the optimiser is not on the device");
    CU(cudaMemcpy(aM, m->adM, sizeof(float) * m->n_param, cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(aV, m->adV, sizeof(float) * m->n_param, cudaMemcpyDeviceToHost));
    return SPTT_OK;
}

extern "C" int sptt_cuda_grad_norm(sptt_cuda_model *m, float inv, int scale, double *pNorm)
{
    size_t n = m->n_param, nb = (n + AD_NORM_BLOCK - 1) / AD_NORM_BLOCK;
    double total = 0;
    if( !m->adPart ) return sptt_fail(SPTT_ESTATE, "cuda: the optimiser is not on the device");
    if( nb ){
        k_ad_norm_part<<<(unsigned)((nb + 127) / 128), 128>>>(m->adPart, m->grads, n, inv, scale);
        k_ad_norm_end<<<1, 1>>>(m->adPart + nb, m->adPart, nb);
        CU(cudaGetLastError());
        CU(cudaMemcpy(&total, m->adPart + nb, sizeof total, cudaMemcpyDeviceToHost));
    }
    *pNorm = sqrt(total);
    return SPTT_OK;
}

extern "C" int sptt_cuda_adamw_step(sptt_cuda_model *m, float clipScale, float lrPlain, float lrFast, float bc1, float bc2,
                                    float beta1, float beta2, float eps, float weightDecay)
{
    size_t n = m->n_param;
    if( !m->adM ) return sptt_fail(SPTT_ESTATE, "cuda: the optimiser is not on the device");
    if( n ) k_adamw<<<(unsigned)((n + NT - 1) / NT), NT>>>(m->params, m->grads, m->adM, m->adV, m->adGroup, n, clipScale, lrPlain,
                                                          lrFast, weightDecay, beta1, beta2, eps, bc1, bc2);
    CU(cudaGetLastError());
    return SPTT_OK;
}

extern "C" int sptt_cuda_get_logits_row(sptt_cuda_model *m, int row, float *aHost)
{
    if( !m->haveForward ) return sptt_fail(SPTT_ESTATE, "model: no forward to take logits from");
    if( row < 0 || row >= m->T ) return sptt_fail(SPTT_EINVAL, "model: logits row %d of %d", row, m->T);
    size_t V = (size_t)m->cfg.vocab_size;
    CU(cudaMemcpy(aHost, m->logits + (size_t)row * V, sizeof(float) * V, cudaMemcpyDeviceToHost));
    return SPTT_OK;
}

extern "C" void sptt_cuda_set_backward_hook(sptt_cuda_model *m, void (*xHook)(void *, int), void *pCtx)
{
    m->xHook = xHook;
    m->pHookCtx = pCtx;
    m->hookAsync = 0;
}

extern "C" void sptt_cuda_set_backward_hook_async(sptt_cuda_model *m, void (*xHook)(void *, int), void *pCtx)
{
    m->xHook = xHook;
    m->pHookCtx = pCtx;
    m->hookAsync = xHook != NULL;
}

extern "C" void sptt_cuda_set_timing(sptt_cuda_model *m, int on) { m->timing = on; }
extern "C" const sptt_stats *sptt_cuda_stats(const sptt_cuda_model *m) { return &m->stats; }
extern "C" void sptt_cuda_reset_stats(sptt_cuda_model *m) { memset(&m->stats, 0, sizeof m->stats); }

extern "C" double sptt_cuda_sgemm_flops(sptt_cuda_model *m, int n, int reps)
{
    float *a = NULL;
    size_t nn = (size_t)n * n;
    if( cudaMalloc((void **)&a, sizeof(float) * 3 * nn) != cudaSuccess ) return 0;
    cudaMemset(a, 0, sizeof(float) * 3 * nn);
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    gemm(m, 0, 0, n, n, n, 1, a, n, a + nn, n, 0, a + 2 * nn, n);   // warm-up
    double best = 0;
    for(int r = 0; r < reps; r++){
        cudaEventRecord(e0);
        for(int i = 0; i < 10; i++) gemm(m, 0, 0, n, n, n, 1, a, n, a + nn, n, 0, a + 2 * nn, n);
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        float ms = 0;
        cudaEventElapsedTime(&ms, e0, e1);
        double f = 10 * 2.0 * n * (double)n * n / (ms * 1e-3);
        if( f > best ) best = f;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFree(a);
    return best;
}

// streaming inference (sptt_cuda_stream_*), on the kernels and wrappers above
#include "cuda_stream.cuh"
