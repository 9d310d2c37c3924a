/*
** Streaming inference on the GPU (sptt_cuda.h, sptt_cuda_stream_*): the dual cache of
** model/kern/kern_stream.inc with its state in device memory and its batches run by this file's
** kernels and cuBLAS. Included by model_cuda.cu (it uses that translation unit's kernels and
** wrappers). The schedule is the CPU stream's, decision for decision, so that the two give the
** same logits to float32 noise and the same answers: which rows a layer may run (the conv holds
** back the newest group), when a chunk updates the fast weights (at global multiples of the chunk;
** the official variant's decode as soon as a chunk is pending), what a flush and an answer do.
** sptt_stream.h states the guarantees; kern_stream.inc explains the state.
**
** What lives where. Device: every layer's KV cache and input queue, the TTT layers' fast weights,
** momentum, pending rows and the conv's previous group, and one scratch arena for a batch. Host:
** the tokens' positions and video groups (small integers that decide the schedule), the counters,
** a frame waiting for its pair, and the logits of the newest finished token (copied back once a
** batch leaves the top layer).
**
** Arithmetic: fp32 products (the stream sets its model to fp32), attention in cuBLAS strips of
** queries against the keys they see, masked by the same kernel as training's strips; the chunk
** steps are training's kernels on one chunk at a time. Overlapping moves (a cache trimmed to its
** last rows, a queue's consumed rows dropped) go through a scratch copy: cudaMemcpy does not
** allow overlap.
*/
#ifndef SPTT_CUDA_STREAM_CUH
#define SPTT_CUDA_STREAM_CUH

typedef struct gstok {
    int32_t pos[3];
    int32_t group;           /* video group of a patch token, -1 for text */
} gstok;

typedef struct gscache {
    float *k, *v;            /* (cap, KVD) rotated keys and values of the last n tokens */
    int n, cap;
    int keep;                /* rows kept between batches: window - 1; -1 keeps all */
} gscache;

typedef struct gsttt {
    float *W, *Wm, *M, *n0;  /* (H, 3, d, d) applied, pre-norm accumulator, momentum; (H, 3, d) */
    int haveM;
    float *pk, *pv, *peta, *pmu;   /* pending: (chunk + 1, C) twice, (chunk + 1, 3H), (chunk + 1, H) */
    int np;
    float *qk, *qv, *qeta, *qmu;   /* official variant: the chunk consumed last */
    int nq;
    float *cprev;            /* (3, hw, C) raw q, k, v of the last group done */
    int prevGroup;
    int64_t nUpd, lastUpdAt;
} gsttt;

typedef struct gslayer {
    int kind;
    gscache kv;
    gsttt t;
    float *xq;               /* (capq, C) input rows of tokens done .. done + nq - 1 */
    int nq, capq;
    int64_t done;
} gslayer;

/* One batch's device scratch (n rows, a conv grid of g rows, tk keys) */
typedef struct gsscratch {
    float *xn, *rstd, *q, *k, *v, *qh, *kh, *rstdq, *rstdk, *qr, *att, *lse, *cosT, *sinT;
    float *s, *h, *hn, *rstd2, *fgu, *fa, *out, *xf, *rstdf, *dlog;
    float *kt, *vt, *qa, *ka, *qc, *kc, *vc, *qnrm, *knrm, *Qf, *Kf, *Vf;
    float *zl, *eta, *zm, *mu, *zs, *gate, *O, *ornd, *U0, *U2;
    float *gin, *gout;
    float *nxn, *nrstd, *nq, *nk, *nv, *nqh, *nkh, *nrq, *nrk, *nkt, *nvt, *nqa, *nka;
    float *Hh, *Y0, *Y2, *DH, *P0, *P2, *Z1, *Mn, *Ut, *Rn, *nsX, *nsA, *nsB, *nu, *mbar;
    float *attS;
    size_t attCap;
} gsscratch;

struct sptt_cuda_stream {
    sptt_cuda_model *m;      /* not owned */
    int anchorWindow, official, keepLogits;
    gdims dm;                /* chunk geometry and the variant's switches */
    int hw, decode;
    gslayer *lay;
    int64_t nTok, nFinal;
    int32_t posCounter;
    int nGroup, endGroup;
    gstok *meta;             /* tokens metaBase .. nTok - 1 */
    int64_t metaBase;
    int metaCap;
    float *halfFrame;
    int haveHalf;
    float *logits;           /* host (V): after token nFinal - 1 */
    float *allLogits;        /* host (nFinal, V) with keepLogits */
    int64_t allCap;
    float *arena;            /* device scratch: gsscratch for (sn, sg, stk) */
    size_t arenaCap;
    int sn, sg, stk;
    gsscratch sc;
    float *mv;               /* device: overlapping moves */
    size_t mvCap;
    int32_t *dI;             /* device integers of a batch: positions, row lists, the grid's rows */
    size_t dICap;
    int32_t *hI;             /* their host side */
    size_t hICap;
    float *hPatch, *dPatch;  /* a group's patch vectors, host and device */
};

#define GS_CU(x) do { cudaError_t e_ = (x); if( e_ != cudaSuccess ){ \
    return sptt_fail(SPTT_EIO, "cuda stream: %s", cudaGetErrorString(e_)); } } while(0)

static int gs_alloc(float **pp, size_t n)
{
    *pp = NULL;
    if( cudaMalloc((void **)pp, sizeof(float) * (n ? n : 1)) != cudaSuccess ){
        cudaGetLastError();
        *pp = NULL;
        return sptt_fail(SPTT_ENOMEM, "cuda stream: cannot allocate %.1f MiB on the device", n * 4.0 / 1048576.0);
    }
    return SPTT_OK;
}

/* a device buffer of rows of rowElems floats grown to hold need rows, its first keepRows kept */
static int gs_grow(float **pp, int *pCap, int need, size_t rowElems, int keepRows)
{
    if( need <= *pCap ) return SPTT_OK;
    int cap = *pCap > 0 ? *pCap : 16;
    while( cap < need ) cap *= 2;
    float *p;
    int rc = gs_alloc(&p, (size_t)cap * rowElems);
    if( rc ) return rc;
    if( *pp && keepRows > 0 ) copyd(p, *pp, (size_t)keepRows * rowElems);
    cudaFree(*pp);   // waits for the copy
    *pp = p;
    *pCap = cap;
    return SPTT_OK;
}

/* memmove on the device */
static int gs_move(sptt_cuda_stream *S, float *dst, const float *src, size_t n)
{
    if( n == 0 || dst == src ) return SPTT_OK;
    if( dst + n <= src || src + n <= dst ){
        copyd(dst, src, n);
        return SPTT_OK;
    }
    if( n > S->mvCap ){
        cudaFree(S->mv);
        S->mvCap = 0;
        int rc = gs_alloc(&S->mv, n);
        if( rc ) return rc;
        S->mvCap = n;
    }
    copyd(S->mv, src, n);
    copyd(dst, S->mv, n);
    return SPTT_OK;
}

/* host and device room for n integers */
static int gs_ints(sptt_cuda_stream *S, size_t n)
{
    if( n > S->hICap ){
        int32_t *p = (int32_t *)realloc(S->hI, sizeof(int32_t) * n);
        if( !p ) return sptt_fail(SPTT_ENOMEM, "out of memory");
        S->hI = p;
        S->hICap = n;
    }
    if( n > S->dICap ){
        cudaFree(S->dI);
        S->dI = NULL;
        S->dICap = 0;
        if( cudaMalloc((void **)&S->dI, sizeof(int32_t) * n) != cudaSuccess ){
            cudaGetLastError();
            return sptt_fail(SPTT_ENOMEM, "cuda stream: cannot allocate its integers");
        }
        S->dICap = n;
    }
    return SPTT_OK;
}

static size_t gs_bytes_layer(const sptt_cuda_stream *S, const gslayer *L)
{
    const sptt_config *c = &S->m->cfg;
    size_t C = (size_t)c->hidden, KVD = (size_t)sptt_kv_dim(c), H = (size_t)c->ttt_heads, d = (size_t)sptt_ttt_dim(c);
    size_t b = (size_t)L->kv.cap * KVD * 2 + (size_t)L->capq * C;
    if( L->kind == SPTT_LAYER_TTT ){
        size_t P = (size_t)c->chunk + 1;
        b += 3 * H * 3 * d * d + H * 3 * d + P * (2 * C + 4 * H) + (size_t)3 * S->hw * C;
        if( S->official ) b += P * (2 * C + 4 * H);
    }
    return b * sizeof(float);
}

static void gs_free(sptt_cuda_stream *S)
{
    if( !S ) return;
    for(int l = 0; S->lay && l < S->m->cfg.n_layer; l++){
        gslayer *L = &S->lay[l];
        gsttt *t = &L->t;
        float *a[] = { L->kv.k, L->kv.v, L->xq, t->W, t->Wm, t->M, t->n0, t->pk, t->pv, t->peta, t->pmu,
                       t->qk, t->qv, t->qeta, t->qmu, t->cprev };
        for(size_t i = 0; i < sizeof a / sizeof a[0]; i++) cudaFree(a[i]);
    }
    cudaFree(S->arena);
    cudaFree(S->mv);
    cudaFree(S->dI);
    cudaFree(S->dPatch);
    free(S->lay);
    free(S->meta);
    free(S->halfFrame);
    free(S->logits);
    free(S->allLogits);
    free(S->hI);
    free(S->hPatch);
    free(S);
}

// ----------------------------------------------------------------------------
// Scratch, tokens, queues

static void gs_layout(sptt_cuda_stream *S, garena *a, int n, int g, int tk)
{
    const sptt_config *c = &S->m->cfg;
    gsscratch *x = &S->sc;
    size_t N = (size_t)n, C = (size_t)c->hidden, KVD = (size_t)sptt_kv_dim(c), F = (size_t)c->ffn, V = (size_t)c->vocab_size;
    size_t NH = (size_t)c->n_head, KV = (size_t)c->n_kv_head, H = (size_t)c->ttt_heads, d = (size_t)sptt_ttt_dim(c);
    size_t half = (size_t)c->head_dim / 2, hw = (size_t)S->hw, Cs = (size_t)c->chunk, dd = d * d;
    x->xn = take(a, N * C); x->rstd = take(a, N); x->q = take(a, N * C); x->k = take(a, N * KVD); x->v = take(a, N * KVD);
    x->qh = take(a, N * C); x->kh = take(a, N * KVD); x->rstdq = take(a, N * NH); x->rstdk = take(a, N * KV);
    x->qr = take(a, N * C); x->att = take(a, N * C); x->lse = take(a, (size_t)tk * NH);
    x->cosT = take(a, N * half); x->sinT = take(a, N * half);
    x->s = take(a, N * C); x->h = take(a, N * C); x->hn = take(a, N * C); x->rstd2 = take(a, N);
    x->fgu = take(a, N * 2 * F); x->fa = take(a, N * F); x->out = take(a, N * C);
    x->xf = take(a, N * C); x->rstdf = take(a, N); x->dlog = take(a, (S->keepLogits ? N : 1) * V);
    x->kt = take(a, N * C); x->vt = take(a, N * C); x->qa = take(a, N * C); x->ka = take(a, N * C);
    x->qc = take(a, N * C); x->kc = take(a, N * C); x->vc = take(a, N * C); x->qnrm = take(a, N * H); x->knrm = take(a, N * H);
    x->Qf = take(a, N * C); x->Kf = take(a, N * C); x->Vf = take(a, N * C);
    x->zl = take(a, 3 * N * H); x->eta = take(a, 3 * N * H); x->zm = take(a, N * H); x->mu = take(a, N * H);
    x->zs = take(a, N * H); x->gate = take(a, N * H); x->O = take(a, N * C); x->ornd = take(a, N * H);
    x->U0 = take(a, N * C); x->U2 = take(a, N * C);
    x->gin = take(a, (size_t)g * C); x->gout = take(a, (size_t)g * C);
    x->nxn = take(a, hw * C); x->nrstd = take(a, hw); x->nq = take(a, hw * C); x->nk = take(a, hw * KVD);
    x->nv = take(a, hw * KVD); x->nqh = take(a, hw * C); x->nkh = take(a, hw * KVD); x->nrq = take(a, hw * NH);
    x->nrk = take(a, hw * KV); x->nkt = take(a, hw * C); x->nvt = take(a, hw * C); x->nqa = take(a, hw * C);
    x->nka = take(a, hw * C);
    x->Hh = take(a, H * Cs * d); x->Y0 = take(a, Cs * C); x->Y2 = take(a, Cs * C); x->DH = take(a, Cs * C);
    x->P0 = take(a, H * Cs * d); x->P2 = take(a, H * Cs * d); x->Z1 = take(a, H * Cs * d);
    x->Mn = take(a, 3 * H * dd); x->Ut = take(a, 3 * H * dd); x->Rn = take(a, 3 * H * dd);
    x->nsX = take(a, 3 * H * 5 * dd); x->nsA = take(a, 3 * H * 5 * dd); x->nsB = take(a, 3 * H * 5 * dd);
    x->nu = take(a, 3 * H); x->mbar = take(a, H);
    // the scores of a strip of queries: every query row of the batch against the keys when that
    // fits in 32 Mi floats, else strips of fewer rows (down to one)
    size_t row = NH * (size_t)att_ld(tk), cap = (size_t)1 << 25;
    x->attCap = N * row < cap ? N * row : cap > row ? cap : row;
    x->attS = take(a, x->attCap);
}

static int gs_scratch(sptt_cuda_stream *S, int n, int g, int tk)
{
    if( S->arena && n <= S->sn && g <= S->sg && tk <= S->stk ) return SPTT_OK;
    // half again: a stream whose anchor caches grow does not lay out every batch
    n = n > S->sn ? n + n / 2 : S->sn;
    g = g > S->sg ? g + g / 2 : S->sg;
    tk = tk > S->stk ? tk + tk / 2 : S->stk;
    garena a = { NULL, 0 };
    gs_layout(S, &a, n, g, tk);
    if( a.used > S->arenaCap ){
        cudaFree(S->arena);
        S->arena = NULL;
        S->arenaCap = 0;
        S->sn = S->sg = S->stk = 0;
        int rc = gs_alloc(&S->arena, a.used);
        if( rc ) return rc;
        S->arenaCap = a.used;
    }
    a.base = S->arena;
    a.used = 0;
    gs_layout(S, &a, n, g, tk);
    S->sn = n; S->sg = g; S->stk = tk;
    return SPTT_OK;
}

static gstok *gs_meta(sptt_cuda_stream *S, int64_t i)
{
    assert(i >= S->metaBase && i < S->nTok);
    return &S->meta[i - S->metaBase];
}

static int gs_meta_append(sptt_cuda_stream *S, int32_t p0, int32_t p1, int32_t p2, int32_t group)
{
    int used = (int)(S->nTok - S->metaBase);
    if( used == S->metaCap ){
        // tokens through every layer are dropped before the array grows
        if( S->nFinal > S->metaBase ){
            int drop = (int)(S->nFinal - S->metaBase);
            memmove(S->meta, S->meta + drop, sizeof(gstok) * (size_t)(used - drop));
            S->metaBase = S->nFinal;
            used -= drop;
        }
        if( used == S->metaCap ){
            int cap = S->metaCap ? 2 * S->metaCap : 256;
            gstok *p = (gstok *)realloc(S->meta, sizeof(gstok) * (size_t)cap);
            if( !p ) return sptt_fail(SPTT_ENOMEM, "out of memory");
            S->meta = p;
            S->metaCap = cap;
        }
    }
    gstok *t = &S->meta[used];
    t->pos[0] = p0; t->pos[1] = p1; t->pos[2] = p2; t->group = group;
    S->nTok++;
    return SPTT_OK;
}

static int gs_queue_append(sptt_cuda_stream *S, gslayer *L, const float *rows, int n)
{
    int C = S->m->cfg.hidden, rc;
    if( (rc = gs_grow(&L->xq, &L->capq, L->nq + n, (size_t)C, L->nq)) ) return rc;
    copyd(L->xq + (size_t)L->nq * C, rows, (size_t)n * C);
    L->nq += n;
    return SPTT_OK;
}

// ----------------------------------------------------------------------------
// One layer over a batch

/* RMSNorm, the q, k, v projections and the per-head norms of n rows */
static void gs_project(sptt_cuda_stream *S, const glayer *L, const float *X, int n, float *xn, float *rstd, float *q,
                       float *k, float *v, float *qh, float *kh, float *rstdq, float *rstdk)
{
    sptt_cuda_model *m = S->m;
    const sptt_config *c = &m->cfg;
    int C = c->hidden, KVD = sptt_kv_dim(c), D = c->head_dim;
    rmsnorm_fwd(xn, NULL, rstd, X, L->ln1, n, C, c->norm_eps);
    linear_fwd(m, q, xn, L->wq, NULL, n, C, C);
    linear_fwd(m, k, xn, L->wk, NULL, n, C, KVD);
    linear_fwd(m, v, xn, L->wv, NULL, n, C, KVD);
    rmsnorm_fwd(qh, NULL, rstdq, q, L->qnorm, (long)n * c->n_head, D, c->norm_eps);
    rmsnorm_fwd(kh, NULL, rstdk, k, L->knorm, (long)n * c->n_kv_head, D, c->norm_eps);
}

/* nq queries at absolute positions i0 .. i0+nq-1 against the cache's keys 0 .. i0+nq-1, each
** seeing its last W: strips of queries, scores by strided-batched products (one per member of
** a KV group), masked and normalised by training's strip kernel, with positions counted from the
** strip's first key (the mask is the same: a windowed strip starts at its first query's window) */
static void gs_attention(sptt_cuda_stream *S, float *out, const float *q, const float *K, const float *Vv, int i0, int nq,
                         int W)
{
    sptt_cuda_model *m = S->m;
    const sptt_config *c = &m->cfg;
    gsscratch *x = &S->sc;
    int NH = c->n_head, KV = c->n_kv_head, D = c->head_dim, QD = NH * D, KD = KV * D, grp = NH / KV;
    float scale = 1.0f / sqrtf((float)D);
    int tk = i0 + nq, j00 = i0 - W + 1 > 0 ? i0 - W + 1 : 0;
    long rowF = (long)NH * att_ld(tk - j00);
    int bq = (int)((long)x->attCap / rowF);
    bq = bq < 1 ? 1 : bq > nq ? nq : bq;
    for(int r0 = 0; r0 < nq; r0 += bq){
        int nr = nq - r0 < bq ? nq - r0 : bq, i = i0 + r0;
        int j0 = i - W + 1 > 0 ? i - W + 1 : 0, nk = i + nr - j0, ld = att_ld(nk);
        long snk = (long)nr * ld;
        assert((size_t)NH * snk <= x->attCap);
        for(int g = 0; g < grp; g++)
            gemmB(m, 0, 1, nr, nk, D, scale, q + (size_t)r0 * QD + g * D, QD, (long)grp * D, K + (size_t)j0 * KD, KD, D,
                  0, x->attS + g * snk, ld, grp * snk, KV);
        k_att_probs<<<wblk((long)NH * nr), NT>>>(x->attS, x->lse, i - j0, nr, 0, nk, ld, W, NH);
        for(int g = 0; g < grp; g++)
            gemmB(m, 0, 0, nr, D, nk, 1, x->attS + g * snk, ld, grp * snk, Vv + (size_t)j0 * KD, KD, D, 0,
                  out + (size_t)r0 * QD + g * D, QD, (long)grp * D, KV);
    }
}

/* One fast-weight update of t on its first chunk pending rows (kern_ttt.inc's ttt_inner_rows and
** ttt_update_matrix, batched over the heads); at: the token whose arrival runs it */
static void gs_update(sptt_cuda_stream *S, gsttt *t, int64_t at)
{
    sptt_cuda_model *m = S->m;
    gsscratch *x = &S->sc;
    const gdims *dm = &S->dm;
    int H = dm->H, d = dm->d, C = dm->C, n = dm->chunk;
    long dd = (long)d * d, nd = (long)n * d, H3 = 3L * H, nhd = (long)n * H * d;
    gemmB(m, 0, 1, n, d, d, 1, t->pk, C, d, t->W, d, 3 * dd, 0, x->Y0, C, d, H);              // Y0 = K W0^T
    gemmB(m, 0, 1, n, d, d, 1, t->pk, C, d, t->W + 2 * dd, d, 3 * dd, 0, x->Y2, C, d, H);     // Y2 = K W2^T
    gemmB(m, 0, 0, n, d, d, 1, t->pv, C, d, t->W + dd, d, 3 * dd, 0, x->DH, C, d, H);         // DH = V W1
    k_ttt_pz<float><<<nblk(nhd), NT>>>(x->P0, x->P2, x->Z1, x->Y0, x->Y2, x->DH, t->peta, n, H, d, C, nd);
    gemmB(m, 1, 0, d, d, n, 1, x->P0, d, nd, t->pk, C, d, 0, x->Mn, d, 3 * dd, H);            // dW0 = P0^T K
    gemmB(m, 1, 0, d, d, n, 1, t->pv, C, d, x->Z1, d, nd, 0, x->Mn + dd, d, 3 * dd, H);       // dW1 = V^T Z1
    gemmB(m, 1, 0, d, d, n, 1, x->P2, d, nd, t->pk, C, d, 0, x->Mn + 2 * dd, d, 3 * dd, H);   // dW2 = P2^T K
    if( dm->momentum && t->haveM ){
        k_ttt_mbar<<<H, NT>>>(x->mbar, t->pmu, n, H);
        k_ttt_mom<<<nblk(H3 * dd), NT>>>(x->Mn, t->M, x->mbar, dd, H);
    }
    const float *U = x->Mn;
    if( dm->muon ){
        ns_fwd(m, x->Ut, x->nsX, x->nsA, x->nsB, x->nu, x->Mn, d, (int)H3);
        U = x->Ut;
    }
    // pre-norm: the un-normalised sum accumulates in Wm; post-norm: from the weights just applied
    float *R = dm->prenorm ? t->Wm : x->Rn;
    k_add3<<<nblk(H3 * dd), NT>>>(R, dm->prenorm ? t->Wm : t->W, U, H3 * dd);
    k_rownorm_fwd<<<wblk(H3 * d), NT>>>(t->W, NULL, R, t->n0, H3 * d, d, TTT_ROW_EPS);
    if( dm->momentum ) copyd(t->M, x->Mn, (size_t)(H3 * dd));
    t->haveM = 1;
    t->nUpd++;
    t->lastUpdAt = at;
}

/* Official variant: keeps the chunk an update consumed (for the reset to the last chunk rows) */
static void gs_keep_consumed(sptt_cuda_stream *S, gsttt *t)
{
    int C = S->dm.C, H = S->dm.H, n = S->dm.chunk;
    if( !S->official ) return;
    copyd(t->qk, t->pk, (size_t)n * C);
    copyd(t->qv, t->pv, (size_t)n * C);
    copyd(t->qeta, t->peta, (size_t)n * 3 * H);
    copyd(t->qmu, t->pmu, (size_t)n * H);
    t->nq = n;
}

/* Drops the first k pending rows */
static int gs_pending_drop(sptt_cuda_stream *S, gsttt *t, int k)
{
    int C = S->dm.C, H = S->dm.H, r = t->np - k, rc;
    if( (rc = gs_move(S, t->pk, t->pk + (size_t)k * C, (size_t)r * C)) ||
        (rc = gs_move(S, t->pv, t->pv + (size_t)k * C, (size_t)r * C)) ||
        (rc = gs_move(S, t->peta, t->peta + (size_t)k * 3 * H, (size_t)r * 3 * H)) ||
        (rc = gs_move(S, t->pmu, t->pmu + (size_t)k * H, (size_t)r * H)) ) return rc;
    t->np = r;
    return SPTT_OK;
}

/* The batch's rows r0 .. r0+k-1: applied with the current fast weights, then pending */
static void gs_apply_append(sptt_cuda_stream *S, gsttt *t, int r0, int k)
{
    sptt_cuda_model *m = S->m;
    gsscratch *x = &S->sc;
    int C = S->dm.C, H = S->dm.H, d = S->dm.d;
    long dd = (long)d * d, nd = (long)S->dm.chunk * d, off = (long)r0 * C;
    // O = (silu(Q W0^T) * (Q W2^T)) W1^T
    gemmB(m, 0, 1, k, d, d, 1, x->Qf + off, C, d, t->W, d, 3 * dd, 0, x->U0 + off, C, d, H);
    gemmB(m, 0, 1, k, d, d, 1, x->Qf + off, C, d, t->W + 2 * dd, d, 3 * dd, 0, x->U2 + off, C, d, H);
    k_ttt_hh<float><<<nblk((long)k * H * d), NT>>>(x->Hh, x->U0 + off, x->U2 + off, k, H, d, C, nd);
    gemmB(m, 0, 1, k, d, d, 1, x->Hh, d, nd, t->W + dd, d, 3 * dd, 0, x->O + off, C, d, H);
    assert(t->np + k <= S->dm.chunk + 1);
    copyd(t->pk + (size_t)t->np * C, x->Kf + off, (size_t)k * C);
    copyd(t->pv + (size_t)t->np * C, x->Vf + off, (size_t)k * C);
    copyd(t->peta + (size_t)t->np * 3 * H, x->eta + (size_t)r0 * 3 * H, (size_t)k * 3 * H);
    if( S->dm.momentum ) copyd(t->pmu + (size_t)t->np * H, x->mu + (size_t)r0 * H, (size_t)k * H);
    t->np += k;
}

/* The chunk schedule over the batch's n rows, g0 the global index of its first */
static int gs_ttt_chunks(sptt_cuda_stream *S, gsttt *t, int64_t g0, int n)
{
    int Cs = S->dm.chunk, rc;
    for(int r = 0; r < n; ){
        int64_t gi = g0 + r;
        if( S->decode ){
            // the reference's decode: apply, append, and update as soon as a chunk is pending
            gs_apply_append(S, t, r, 1);
            if( t->np >= Cs ){
                gs_update(S, t, gi);
                gs_keep_consumed(S, t);
                if( (rc = gs_pending_drop(S, t, Cs)) ) return rc;
            }
            r++;
            continue;
        }
        // training's rule: chunk c updates when the first token of chunk c+1 arrives
        if( gi % Cs == 0 && gi > 0 ){
            assert(t->np == Cs);
            gs_update(S, t, gi);
            gs_keep_consumed(S, t);
            t->np = 0;
        }
        int k = (int)(Cs - gi % Cs);
        k = k < n - r ? k : n - r;
        gs_apply_append(S, t, r, k);
        r += k;
    }
    return SPTT_OK;
}

/* The batch's video rows: the conv of their groups over a grid of the previous group (cached),
** the batch's groups and the next group (queue rows e .. e+hw-1) when one follows, replicate
** padding where none does. Writes qc, kc, vc (which hold qa, ka, vt for the text rows). */
static int gs_conv(sptt_cuda_stream *S, int l, int n, int e)
{
    sptt_cuda_model *m = S->m;
    const sptt_config *c = &m->cfg;
    gslayer *L = &S->lay[l];
    const glayer *P = &m->P.L[l];
    gsttt *t = &L->t;
    gsscratch *x = &S->sc;
    int C = c->hidden, hw = S->hw, G1 = c->frame_h / c->patch, G2 = c->frame_w / c->patch, rc;
    int gA = -1, gB = -1, nv = 0;
    copyd(x->qc, x->qa, (size_t)n * C);
    copyd(x->kc, x->ka, (size_t)n * C);
    copyd(x->vc, x->vt, (size_t)n * C);
    for(int r = 0; r < n; r++){
        int g = gs_meta(S, L->done + r)->group;
        if( g < 0 ) continue;
        if( gA < 0 ) gA = g;
        gB = g;
        nv++;
    }
    if( nv == 0 ) return SPTT_OK;
    assert(nv == (gB - gA + 1) * hw);
    int havePrev = gA > 0, haveNext = gB != S->endGroup;
    assert(!havePrev || t->prevGroup == gA - 1);
    if( haveNext ){
        assert(e + hw <= L->nq && gs_meta(S, L->done + e)->group == gB + 1);
        gs_project(S, P, L->xq + (size_t)e * C, hw, x->nxn, x->nrstd, x->nq, x->nk, x->nv, x->nqh, x->nkh, x->nrq, x->nrk);
        k_repeat_kv_fwd<<<nblk((long)hw * C), NT>>>(x->nkt, x->nkh, hw, c->n_head, c->n_kv_head, c->head_dim);
        k_repeat_kv_fwd<<<nblk((long)hw * C), NT>>>(x->nvt, x->nv, hw, c->n_head, c->n_kv_head, c->head_dim);
        k_affine_fwd<<<nblk((long)hw * C), NT>>>(x->nqa, x->nqh, P->t.q_scale, P->t.q_off, hw, C);
        k_affine_fwd<<<nblk((long)hw * C), NT>>>(x->nka, x->nkt, P->t.k_scale, P->t.k_off, hw, C);
    }
    int Gt = havePrev + (gB - gA + 1) + haveNext, rows = Gt * hw;
    // integers: the grid's rows in order (the conv reads and writes row v of the grid at v), then
    // the batch rows of its video tokens
    if( (rc = gs_ints(S, (size_t)rows + nv)) ) return rc;
    for(int i = 0; i < rows; i++) S->hI[i] = i;
    for(int r = 0, k = 0; r < n; r++) if( gs_meta(S, L->done + r)->group >= 0 ) S->hI[rows + k++] = r;
    GS_CU(cudaMemcpy(S->dI, S->hI, sizeof(int32_t) * ((size_t)rows + nv), cudaMemcpyHostToDevice));
    const int32_t *vid = S->dI, *idx = S->dI + rows;
    const float *src[3] = { x->qa, x->ka, x->vt }, *nxt[3] = { x->nqa, x->nka, x->nvt };
    const float *w[3] = { P->t.conv_q, P->t.conv_k, P->t.conv_v };
    float *dst[3] = { x->qc, x->kc, x->vc };
    size_t G = (size_t)hw * C;
    long kIn = (long)havePrev * hw;
    for(int i = 0; i < 3; i++){
        if( havePrev ) copyd(x->gin, t->cprev + i * G, G);
        k_gather_rows<<<nblk((long)nv * C), NT>>>(x->gin + (size_t)kIn * C, src[i], idx, nv, C);
        if( haveNext ) copyd(x->gin + (size_t)(kIn + nv) * C, nxt[i], G);
        k_conv_fwd<<<nblk((long)rows * C), NT>>>(x->gout, x->gin, w[i], vid, Gt, G1, G2, C);
        k_scatter_rows<<<nblk((long)nv * C), NT>>>(dst[i], x->gout + (size_t)kIn * C, idx, nv, C);
        // the raw rows of the batch's last group: the previous group of the next batch's conv
        copyd(t->cprev + i * G, x->gin + (size_t)(kIn + nv - hw) * C, G);
    }
    t->prevGroup = gB;
    return SPTT_OK;
}

/* Layer l over the first n rows of its queue; the outputs go up (or, at the top, to the logits) */
static int gs_layer(sptt_cuda_stream *S, int l, int n)
{
    sptt_cuda_model *m = S->m;
    const sptt_config *c = &m->cfg;
    gslayer *L = &S->lay[l];
    const glayer *P = &m->P.L[l];
    gsscratch *x = &S->sc;
    int C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim, NH = c->n_head, KV = c->n_kv_head;
    int half = D / 2, rc, conv = L->kind == SPTT_LAYER_TTT && c->use_conv;
    int64_t g0 = L->done;
    gscache *kv = &L->kv;
    int Tk = kv->n + n;
    if( (rc = gs_scratch(S, n, conv ? n + 2 * S->hw : 1, Tk)) ) return rc;
    if( Tk > kv->cap ){
        // keys and values grow to the same capacity; kv->cap changes once both have
        int capK = kv->cap, capV = kv->cap;
        if( (rc = gs_grow(&kv->k, &capK, Tk, (size_t)KVD, kv->n)) || (rc = gs_grow(&kv->v, &capV, Tk, (size_t)KVD, kv->n)) ) return rc;
        assert(capK == capV);
        kv->cap = capK;
    }
    const float *X = L->xq;
    if( (rc = gs_ints(S, 3 * (size_t)n)) ) return rc;
    for(int r = 0; r < n; r++) memcpy(S->hI + 3 * r, gs_meta(S, g0 + r)->pos, sizeof(int32_t) * 3);
    GS_CU(cudaMemcpy(S->dI, S->hI, sizeof(int32_t) * 3 * (size_t)n, cudaMemcpyHostToDevice));
    k_rope_table<<<nblk((long)n * half), NT>>>(x->cosT, x->sinT, S->dI, m->dFreq, m->dAxis, n, half);

    // projections; the rotated keys and the values join the cache
    gs_project(S, P, X, n, x->xn, x->rstd, x->q, x->k, x->v, x->qh, x->kh, x->rstdq, x->rstdk);
    rope2(x->qr, x->qh, x->cosT, x->sinT, n, NH, D, C, D, half, 1);
    rope2(kv->k + (size_t)kv->n * KVD, x->kh, x->cosT, x->sinT, n, KV, D, KVD, D, half, 1);
    copyd(kv->v + (size_t)kv->n * KVD, x->v, (size_t)n * KVD);
    int W = L->kind == SPTT_LAYER_FULL ? (S->anchorWindow > 0 ? S->anchorWindow : Tk) : c->window;
    gs_attention(S, x->att, x->qr, kv->k, kv->v, kv->n, n, W);
    if( kv->keep >= 0 && Tk > kv->keep ){
        size_t drop = (size_t)(Tk - kv->keep) * KVD, keep = (size_t)kv->keep * KVD;
        if( (rc = gs_move(S, kv->k, kv->k + drop, keep)) || (rc = gs_move(S, kv->v, kv->v + drop, keep)) ) return rc;
        kv->n = kv->keep;
    }else{
        kv->n = Tk;
    }

    const float *s = x->att;
    if( L->kind == SPTT_LAYER_TTT ){
        const gttt *tp = &P->t;
        int H = c->ttt_heads, d = sptt_ttt_dim(c), r = c->ttt_rope_dim;
        long nC = (long)n * C, nH = (long)n * H;
        k_repeat_kv_fwd<<<nblk(nC), NT>>>(x->kt, x->kh, n, NH, KV, D);
        k_repeat_kv_fwd<<<nblk(nC), NT>>>(x->vt, x->v, n, NH, KV, D);
        k_affine_fwd<<<nblk(nC), NT>>>(x->qa, x->qh, tp->q_scale, tp->q_off, n, C);
        k_affine_fwd<<<nblk(nC), NT>>>(x->ka, x->kt, tp->k_scale, tp->k_off, n, C);
        const float *qc = x->qa, *kc = x->ka, *vc = x->vt;
        if( conv ){
            if( (rc = gs_conv(S, l, n, n)) ) return rc;
            qc = x->qc; kc = x->kc; vc = x->vc;
        }
        silu_l2_fwd(x->Qf, x->qnrm, qc, nH, d, TTT_L2_EPS);
        silu_l2_fwd(x->Kf, x->knrm, kc, nH, d, TTT_L2_EPS);
        k_silu<<<nblk(nC), NT>>>(x->Vf, vc, nC);
        if( r > 0 ){
            rope(x->Qf, x->cosT, x->sinT, n, H, d, C, r, half, 1);
            rope(x->Kf, x->cosT, x->sinT, n, H, d, C, r, half, 1);
        }
        linear_fwd(m, x->zl, x->xn, tp->w_lr, tp->b_lr, n, C, 3 * H);
        k_lr_act<<<nblk(3 * nH), NT>>>(x->zl, x->eta, (float)log(expm1((double)c->ttt_base_lr)), 3 * nH);
        if( tp->w_mom ){
            linear_fwd(m, x->zm, x->xn, tp->w_mom, tp->b_mom, n, C, H);
            k_sigmoid<<<nblk(nH), NT>>>(x->mu, x->zm, nH);
        }
        linear_fwd(m, x->zs, x->xn, tp->w_gate, tp->b_gate, n, C, H);
        k_silu<<<nblk(nH), NT>>>(x->gate, x->zs, nH);
        if( (rc = gs_ttt_chunks(S, &L->t, g0, n)) ) return rc;
        k_ttt_out_fwd<float><<<wblk(nH), NT>>>(x->s, x->ornd, x->att, x->O, tp->norm, x->gate, nH, d, TTT_OUT_EPS);
        s = x->s;
    }
    linear_fwd_res(m, x->h, s, P->wo, X, n, C, C);
    rmsnorm_fwd(x->hn, NULL, x->rstd2, x->h, P->ln2, n, C, c->norm_eps);
    linear_fwd(m, x->fgu, x->hn, P->wg, NULL, n, C, 2 * F);
    swiglu_fwd(x->fa, NULL, x->fgu, n, F);
    linear_fwd_res(m, x->out, x->fa, P->wd, x->h, n, F, C);

    // the rows leave this layer's queue
    L->done += n;
    L->nq -= n;
    if( (rc = gs_move(S, L->xq, L->xq + (size_t)n * C, (size_t)L->nq * C)) ) return rc;
    if( l + 1 < c->n_layer ) return gs_queue_append(S, &S->lay[l + 1], x->out, n);

    // the top: final norm and LM head, for the last row (every row with keepLogits)
    int V = c->vocab_size, nr = S->keepLogits ? n : 1;
    rmsnorm_fwd(x->xf, NULL, x->rstdf, x->out, m->P.lnf, n, C, c->norm_eps);
    gemm(m, 0, 1, nr, V, C, 1, x->xf + (size_t)(n - nr) * C, C, m->P.lm_head, C, 0, x->dlog, V);
    if( S->keepLogits ){
        if( S->nFinal + n > S->allCap ){
            int64_t cap = S->allCap ? S->allCap : 256;
            while( cap < S->nFinal + n ) cap *= 2;
            float *p = (float *)realloc(S->allLogits, sizeof(float) * (size_t)cap * V);
            if( !p ) return sptt_fail(SPTT_ENOMEM, "out of memory");
            S->allLogits = p;
            S->allCap = cap;
        }
        float *dst = S->allLogits + (size_t)S->nFinal * V;
        GS_CU(cudaMemcpy(dst, x->dlog, sizeof(float) * (size_t)n * V, cudaMemcpyDeviceToHost));
        memcpy(S->logits, dst + (size_t)(n - 1) * V, sizeof(float) * V);
    }else{
        GS_CU(cudaMemcpy(S->logits, x->dlog, sizeof(float) * V, cudaMemcpyDeviceToHost));
    }
    S->nFinal += n;
    return SPTT_OK;
}

/* Rows of layer l's queue it may run now: all, except that a conv layer holds back the newest
** video group and what follows it until the next group arrives (or a flush) */
static int gs_ready(sptt_cuda_stream *S, int l)
{
    gslayer *L = &S->lay[l];
    if( L->nq == 0 || L->kind != SPTT_LAYER_TTT || !S->m->cfg.use_conv ) return L->nq;
    int r = L->nq - 1, last = -1;
    for(; r >= 0 && (last = gs_meta(S, L->done + r)->group) < 0; r--){}
    if( r < 0 || last == S->endGroup ) return L->nq;
    while( r > 0 && gs_meta(S, L->done + r - 1)->group == last ) r--;
    return r;
}

static int gs_pump(sptt_cuda_stream *S)
{
    int rc = SPTT_OK;
    for(int l = 0; l < S->m->cfg.n_layer && rc == SPTT_OK; l++){
        int e = gs_ready(S, l);
        if( e > 0 ) rc = gs_layer(S, l, e);
    }
    if( rc == SPTT_OK && cudaGetLastError() != cudaSuccess ) rc = sptt_fail(SPTT_EIO, "cuda stream: a kernel failed to launch");
    return rc;
}

// ----------------------------------------------------------------------------
// Input

/* text tokens into layer 0's queue, each at the next text position (p, p, p) */
static int gs_push_text_rows(sptt_cuda_stream *S, const int32_t *aTok, int n)
{
    const sptt_config *c = &S->m->cfg;
    gslayer *L = &S->lay[0];
    int rc, C = c->hidden;
    for(int i = 0; i < n; i++){
        if( aTok[i] < 0 || aTok[i] >= c->vocab_size || aTok[i] == SPTT_TOK_PATCH ){
            return sptt_fail(SPTT_EINVAL, "stream: token %d: id %d is not a text token of the vocabulary of %d", i, aTok[i],
                             c->vocab_size);
        }
    }
    if( n == 0 ) return SPTT_OK;
    if( (rc = gs_grow(&L->xq, &L->capq, L->nq + n, (size_t)C, L->nq)) || (rc = gs_ints(S, (size_t)n)) ) return rc;
    for(int i = 0; i < n; i++){
        int32_t p = S->posCounter++;
        if( (rc = gs_meta_append(S, p, p, p, -1)) ) return rc;
    }
    GS_CU(cudaMemcpy(S->dI, aTok, sizeof(int32_t) * (size_t)n, cudaMemcpyHostToDevice));
    k_embed_fwd<<<nblk((long)n * C), NT>>>(L->xq + (size_t)L->nq * C, S->dI, S->m->P.wte, n, C, SPTT_TOK_PATCH);
    L->nq += n;
    return SPTT_OK;
}

/* one group: two frames (2, H, W, 3), as VIDEO_START, its patches, VIDEO_END */
static int gs_push_group(sptt_cuda_stream *S, const float *pixels)
{
    sptt_cuda_model *m = S->m;
    const sptt_config *c = &m->cfg;
    gslayer *L = &S->lay[0];
    int rc, C = c->hidden, hw = S->hw, G2 = c->frame_w / c->patch, G1 = c->frame_h / c->patch, K = 6 * c->patch * c->patch;
    int32_t t = SPTT_TOK_VIDEO_START;
    if( (rc = gs_push_text_rows(S, &t, 1)) ) return rc;
    if( (rc = gs_grow(&L->xq, &L->capq, L->nq + hw, (size_t)C, L->nq)) ) return rc;
    if( !S->dPatch && (rc = gs_alloc(&S->dPatch, (size_t)hw * K)) ) return rc;
    patch_gather_host(S->hPatch, pixels, 1, G1, G2, c->patch, c->frame_h, c->frame_w);
    GS_CU(cudaMemcpy(S->dPatch, S->hPatch, sizeof(float) * (size_t)hw * K, cudaMemcpyHostToDevice));
    linear_fwd(m, L->xq + (size_t)L->nq * C, S->dPatch, m->P.patch_w, m->P.patch_b, hw, K, C);
    L->nq += hw;
    int32_t p = S->posCounter, top = (G1 > G2 ? G1 : G2) - 1;
    for(int v = 0; v < hw && rc == SPTT_OK; v++) rc = gs_meta_append(S, p, p + v / G2, p + v % G2, S->nGroup);
    if( rc ) return rc;
    S->posCounter += top + 1;
    S->nGroup++;
    t = SPTT_TOK_VIDEO_END;
    if( (rc = gs_push_text_rows(S, &t, 1)) ) return rc;
    return gs_pump(S);
}

static int gs_create(sptt_cuda_model *m, int anchorWindow, int official, int keepLogits, sptt_cuda_stream **pS)
{
    const sptt_config *c = &m->cfg;
    int rc = SPTT_OK, H = c->ttt_heads, d = sptt_ttt_dim(c), C = c->hidden, P = c->chunk + 1;
    size_t dd = (size_t)d * d;
    *pS = NULL;
    if( anchorWindow < 0 ) return sptt_fail(SPTT_EINVAL, "stream: anchor window %d is negative", anchorWindow);
    sptt_cuda_stream *S = (sptt_cuda_stream *)calloc(1, sizeof *S);
    if( !S ) return SPTT_ENOMEM;
    S->m = m;
    S->anchorWindow = anchorWindow;
    S->official = official != 0;
    S->keepLogits = keepLogits != 0;
    S->hw = (c->frame_h / c->patch) * (c->frame_w / c->patch);
    S->endGroup = -1;
    S->dm.C = C; S->dm.H = H; S->dm.d = d; S->dm.chunk = c->chunk;
    S->dm.muon = official ? 0 : c->use_muon;
    S->dm.prenorm = official ? 0 : c->prenorm;
    S->dm.momentum = c->use_momentum;
    S->lay = (gslayer *)calloc((size_t)c->n_layer, sizeof *S->lay);
    S->logits = (float *)calloc((size_t)c->vocab_size, sizeof(float));
    S->halfFrame = (float *)malloc(sizeof(float) * (size_t)c->frame_h * c->frame_w * 3);
    S->hPatch = (float *)malloc(sizeof(float) * (size_t)S->hw * 6 * c->patch * c->patch + 1);
    if( !S->lay || !S->logits || !S->halfFrame || !S->hPatch ){ rc = SPTT_ENOMEM; goto fail; }
    for(int l = 0; l < c->n_layer; l++){
        gslayer *L = &S->lay[l];
        L->kind = m->P.L[l].kind;
        int W = L->kind == SPTT_LAYER_FULL ? anchorWindow : c->window;
        L->kv.keep = W > 0 ? W - 1 : -1;
        if( L->kind != SPTT_LAYER_TTT ) continue;
        gsttt *t = &L->t;
        const gttt *tp = &m->P.L[l].t;
        t->prevGroup = -1;
        if( (rc = gs_alloc(&t->W, 3 * H * dd)) || (rc = gs_alloc(&t->Wm, 3 * H * dd)) || (rc = gs_alloc(&t->M, 3 * H * dd)) ||
            (rc = gs_alloc(&t->n0, 3 * (size_t)H * d)) || (rc = gs_alloc(&t->pk, (size_t)P * C)) ||
            (rc = gs_alloc(&t->pv, (size_t)P * C)) || (rc = gs_alloc(&t->peta, (size_t)P * 3 * H)) ||
            (rc = gs_alloc(&t->pmu, (size_t)P * H)) || (rc = gs_alloc(&t->cprev, 3 * (size_t)S->hw * C)) ) goto fail;
        if( official && ((rc = gs_alloc(&t->qk, (size_t)P * C)) || (rc = gs_alloc(&t->qv, (size_t)P * C)) ||
                         (rc = gs_alloc(&t->qeta, (size_t)P * 3 * H)) || (rc = gs_alloc(&t->qmu, (size_t)P * H))) ) goto fail;
        zero(t->M, 3 * H * dd);
        zero(t->pmu, (size_t)P * H);
        k_ttt_w0<<<nblk((long)(3 * H * dd)), NT>>>(t->W, NULL, tp->w0, tp->w1, tp->w2, H, (long)dd);
        copyd(t->Wm, t->W, 3 * H * dd);
        k_row_norms<<<wblk(3L * H * d), NT>>>(t->n0, t->W, 3L * H * d, d);
    }
    {
        // a sequence starts with BOS, as every training sample does
        int32_t bos = SPTT_TOK_BOS;
        if( (rc = gs_push_text_rows(S, &bos, 1)) ) goto fail;
    }
    *pS = S;
    return SPTT_OK;
fail:
    gs_free(S);
    return rc;
}

// ----------------------------------------------------------------------------
// Copies: an answer runs on one, so the stream goes on from the question

static int gs_dup(float **pDst, const float *src, size_t n)
{
    *pDst = NULL;
    if( !src ) return SPTT_OK;
    int rc = gs_alloc(pDst, n);
    if( rc == SPTT_OK ) copyd(*pDst, src, n);
    return rc;
}

static int gs_clone(const sptt_cuda_stream *S, sptt_cuda_stream **pOut)
{
    const sptt_config *c = &S->m->cfg;
    int H = c->ttt_heads, d = sptt_ttt_dim(c), C = c->hidden, KVD = sptt_kv_dim(c), P = c->chunk + 1, rc = SPTT_OK;
    size_t dd = (size_t)d * d, nFrame = (size_t)c->frame_h * c->frame_w * 3;
    *pOut = NULL;
    sptt_cuda_stream *D = (sptt_cuda_stream *)calloc(1, sizeof *D);
    if( !D ) return SPTT_ENOMEM;
    *D = *S;
    // nothing of S's is shared: the pointers below are D's own or NULL
    D->lay = NULL; D->meta = NULL; D->halfFrame = NULL; D->logits = NULL; D->allLogits = NULL; D->allCap = 0;
    D->arena = NULL; D->arenaCap = 0; D->sn = D->sg = D->stk = 0; memset(&D->sc, 0, sizeof D->sc);
    D->mv = NULL; D->mvCap = 0; D->dI = NULL; D->dICap = 0; D->hI = NULL; D->hICap = 0; D->hPatch = D->dPatch = NULL;
    D->keepLogits = 0;
    D->lay = (gslayer *)calloc((size_t)c->n_layer, sizeof *D->lay);
    D->meta = (gstok *)malloc(sizeof(gstok) * (size_t)(S->metaCap ? S->metaCap : 1));
    D->halfFrame = (float *)malloc(sizeof(float) * nFrame);
    D->logits = (float *)malloc(sizeof(float) * (size_t)c->vocab_size);
    D->hPatch = (float *)malloc(sizeof(float) * (size_t)S->hw * 6 * c->patch * c->patch + 1);
    if( !D->lay || !D->meta || !D->halfFrame || !D->logits || !D->hPatch ){
        // the layers are zeroed (or absent): gs_free frees what D holds and nothing of S's
        rc = SPTT_ENOMEM;
        goto fail;
    }
    memcpy(D->meta, S->meta, sizeof(gstok) * (size_t)(S->nTok - S->metaBase));
    memcpy(D->halfFrame, S->halfFrame, sizeof(float) * nFrame);
    memcpy(D->logits, S->logits, sizeof(float) * (size_t)c->vocab_size);
    for(int l = 0; l < c->n_layer; l++){
        const gslayer *A = &S->lay[l];
        gslayer *B = &D->lay[l];
        *B = *A;
        B->kv.k = B->kv.v = B->xq = NULL;
        B->t.W = B->t.Wm = B->t.M = B->t.n0 = B->t.pk = B->t.pv = B->t.peta = B->t.pmu = NULL;
        B->t.qk = B->t.qv = B->t.qeta = B->t.qmu = B->t.cprev = NULL;
        size_t kvn = (size_t)A->kv.cap * KVD;
        if( (rc = gs_dup(&B->kv.k, A->kv.k, kvn)) || (rc = gs_dup(&B->kv.v, A->kv.v, kvn)) ||
            (rc = gs_dup(&B->xq, A->xq, (size_t)A->capq * C)) ) goto fail;
        if( A->kind != SPTT_LAYER_TTT ) continue;
        const gsttt *s = &A->t;
        gsttt *t = &B->t;
        if( (rc = gs_dup(&t->W, s->W, 3 * H * dd)) || (rc = gs_dup(&t->Wm, s->Wm, 3 * H * dd)) ||
            (rc = gs_dup(&t->M, s->M, 3 * H * dd)) || (rc = gs_dup(&t->n0, s->n0, 3 * (size_t)H * d)) ||
            (rc = gs_dup(&t->pk, s->pk, (size_t)P * C)) || (rc = gs_dup(&t->pv, s->pv, (size_t)P * C)) ||
            (rc = gs_dup(&t->peta, s->peta, (size_t)P * 3 * H)) || (rc = gs_dup(&t->pmu, s->pmu, (size_t)P * H)) ||
            (rc = gs_dup(&t->qk, s->qk, (size_t)P * C)) || (rc = gs_dup(&t->qv, s->qv, (size_t)P * C)) ||
            (rc = gs_dup(&t->qeta, s->qeta, (size_t)P * 3 * H)) || (rc = gs_dup(&t->qmu, s->qmu, (size_t)P * H)) ||
            (rc = gs_dup(&t->cprev, s->cprev, 3 * (size_t)S->hw * C)) ) goto fail;
    }
    *pOut = D;
    return SPTT_OK;
fail:
    gs_free(D);
    return rc;
}

/* Official variant, where the prompt ends: each TTT layer's pending rows become the last chunk
** rows (overlapping the chunk consumed last when the prompt's length is not a multiple of the
** chunk); from then on updates run as soon as a chunk is pending */
static int gs_official_reset(sptt_cuda_stream *S)
{
    int C = S->dm.C, H = S->dm.H, n = S->dm.chunk, rc;
    for(int l = 0; l < S->m->cfg.n_layer; l++){
        gsttt *t = &S->lay[l].t;
        if( S->lay[l].kind != SPTT_LAYER_TTT || t->nq == 0 || t->np >= n ) continue;
        int k = n - t->np;   /* rows taken from the end of the consumed chunk */
        if( (rc = gs_move(S, t->pk + (size_t)k * C, t->pk, (size_t)t->np * C)) ||
            (rc = gs_move(S, t->pv + (size_t)k * C, t->pv, (size_t)t->np * C)) ||
            (rc = gs_move(S, t->peta + (size_t)k * 3 * H, t->peta, (size_t)t->np * 3 * H)) ||
            (rc = gs_move(S, t->pmu + (size_t)k * H, t->pmu, (size_t)t->np * H)) ) return rc;
        copyd(t->pk, t->qk + (size_t)(n - k) * C, (size_t)k * C);
        copyd(t->pv, t->qv + (size_t)(n - k) * C, (size_t)k * C);
        copyd(t->peta, t->qeta + (size_t)(n - k) * 3 * H, (size_t)k * 3 * H);
        copyd(t->pmu, t->qmu + (size_t)(n - k) * H, (size_t)k * H);
        t->np = n;
    }
    S->decode = 1;
    return SPTT_OK;
}

// ----------------------------------------------------------------------------
// The API

extern "C" int sptt_cuda_stream_create(sptt_cuda_model *m, int anchorWindow, int official, int keepLogits,
                                       sptt_cuda_stream **ppS)
{
    // the stream's products in plain fp32: its batches are small, and its answers are checked
    // against the CPU stream's within float32 noise
    sptt_cuda_set_math(m, SPTT_CUDA_MATH_FP32);
    return gs_create(m, anchorWindow, official, keepLogits, ppS);
}

extern "C" void sptt_cuda_stream_free(sptt_cuda_stream *s) { gs_free(s); }

extern "C" int sptt_cuda_stream_push_tokens(sptt_cuda_stream *s, const int32_t *aTok, int n)
{
    int rc = gs_push_text_rows(s, aTok, n);
    return rc ? rc : gs_pump(s);
}

extern "C" int sptt_cuda_stream_push_frame(sptt_cuda_stream *s, const float *frame)
{
    const sptt_config *c = &s->m->cfg;
    size_t nPix = (size_t)c->frame_h * c->frame_w * 3;
    if( !s->haveHalf ){
        memcpy(s->halfFrame, frame, sizeof(float) * nPix);
        s->haveHalf = 1;
        return SPTT_OK;
    }
    float *pair = (float *)malloc(sizeof(float) * 2 * nPix);
    if( !pair ) return SPTT_ENOMEM;
    memcpy(pair, s->halfFrame, sizeof(float) * nPix);
    memcpy(pair + nPix, frame, sizeof(float) * nPix);
    s->haveHalf = 0;
    int rc = gs_push_group(s, pair);
    free(pair);
    return rc;
}

extern "C" int sptt_cuda_stream_flush(sptt_cuda_stream *s)
{
    if( s->nGroup > 0 ) s->endGroup = s->nGroup - 1;
    return gs_pump(s);
}

extern "C" const float *sptt_cuda_stream_logits(const sptt_cuda_stream *s, int64_t *pAt)
{
    if( pAt ) *pAt = s->nFinal - 1;
    return s->nFinal > 0 ? s->logits : NULL;
}

extern "C" const float *sptt_cuda_stream_all_logits(const sptt_cuda_stream *s, int64_t *pn)
{
    if( pn ) *pn = s->keepLogits ? s->nFinal : 0;
    return s->keepLogits ? s->allLogits : NULL;
}

extern "C" int sptt_cuda_stream_ask(sptt_cuda_stream *s, const int32_t *aPrompt, int nPrompt, int maxNew, int32_t *aOut,
                                    int *pnOut)
{
    sptt_cuda_stream *A = NULL;
    int rc, n = 0, V = s->m->cfg.vocab_size;
    int32_t t = SPTT_TOK_ANSWER;
    *pnOut = 0;
    if( (rc = sptt_cuda_stream_push_tokens(s, aPrompt, nPrompt)) ) return rc;
    if( (rc = gs_clone(s, &A)) ) return rc;
    if( (rc = gs_push_text_rows(A, &t, 1)) || (rc = sptt_cuda_stream_flush(A)) ) goto done;
    if( A->official && (rc = gs_official_reset(A)) ) goto done;
    while( n < maxNew ){
        // greedy, ties to the lowest id
        int best = 0;
        for(int v = 1; v < V; v++) if( A->logits[v] > A->logits[best] ) best = v;
        if( best == SPTT_TOK_EOS ) break;
        aOut[n++] = t = best;
        if( n < maxNew && (rc = sptt_cuda_stream_push_tokens(A, &t, 1)) ) break;
    }
    *pnOut = n;
done:
    gs_free(A);
    return rc;
}

extern "C" void sptt_cuda_stream_info(const sptt_cuda_stream *s, int64_t *pTokens, int64_t *pFinal, int *pGroups,
                                      size_t *pStateBytes, size_t *pScratchBytes)
{
    const sptt_config *c = &s->m->cfg;
    size_t b = sizeof(gstok) * (size_t)s->metaCap + sizeof(float) * (size_t)c->vocab_size;
    for(int l = 0; l < c->n_layer; l++) b += gs_bytes_layer(s, &s->lay[l]);
    *pTokens = s->nTok;
    *pFinal = s->nFinal;
    *pGroups = s->nGroup;
    *pStateBytes = b;
    *pScratchBytes = sizeof(float) * s->arenaCap;
}

extern "C" void sptt_cuda_stream_layer(const sptt_cuda_stream *s, int l, int *pKind, int *pKvRows, int *pKvCap,
                                       int *pPending, int *pQueued, int64_t *pDone, int64_t *pUpdates, int64_t *pLastUpdateAt)
{
    const gslayer *L = &s->lay[l];
    *pKind = L->kind;
    *pKvRows = L->kv.n;
    *pKvCap = L->kv.cap;
    *pQueued = L->nq;
    *pDone = L->done;
    *pPending = L->kind == SPTT_LAYER_TTT ? L->t.np : 0;
    *pUpdates = L->kind == SPTT_LAYER_TTT ? L->t.nUpd : 0;
    *pLastUpdateAt = L->kind == SPTT_LAYER_TTT ? L->t.lastUpdAt : 0;
}

#endif
