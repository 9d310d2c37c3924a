/*
** Kernel templates, part 4: the whole model. Parameters live in one buffer with named views (the
** gradients in a second buffer with the same views); the activations of a forward pass, and the
** scratch of the backward, in one arena laid out for the sample's length.
**
** Block l:  h = x + o_proj(attn(RMSNorm(x)))   out = h + SwiGLU(RMSNorm(h))
** where attn is full causal attention (anchor), sliding-window attention, or sliding-window
** attention plus the TTT branch, summed in front of o_proj.
*/
#ifndef SPTT_KERN_MODEL_H
#define SPTT_KERN_MODEL_H

#include <stdio.h>

#include "kern_common.h"
#include "kern_layers.h"
#include "kern_attention.h"
#include "kern_ttt.h"

// ----------------------------------------------------------------------------
// Parameters

typedef struct layer_params {
    int kind;                                  /* SPTT_LAYER_* */
    REAL *ln1, *ln2;                           /* (C) */
    REAL *wq, *wk, *wv, *wo;                   /* (C, C), (KVD, C), (KVD, C), (C, C) */
    REAL *qnorm, *knorm;                       /* (D) */
    REAL *wg, *wu, *wd;                        /* (F, C), (F, C), (C, F) */
    ttt_params t;                              /* TTT layers only */
} layer_params;

typedef struct model_params {
    REAL *wte;                                 /* (V, C) */
    REAL *patch_w, *patch_b;                   /* (C, 6 P^2), (C) */
    REAL *lnf;                                 /* (C) */
    REAL *lm_head;                             /* (V, C); the same memory as wte when tied */
    layer_params *L;                           /* (n_layer) */
} model_params;

#define INIT_ZERO    0
#define INIT_ONE     1
#define INIT_NORMAL  2   /* scale is the standard deviation */
#define INIT_UNIFORM 3   /* scale is the bound */
#define INIT_DIRAC   4   /* (C, 27) with the centre tap 1 */

typedef struct ptensor {
    char zName[64];
    sptt_tensor_info info;
    int init;
    double scale;
} ptensor;

typedef struct pwalk {
    ptensor *a;        /* recorded when non-NULL */
    int n;
    size_t off;
    REAL *base;        /* views point here when non-NULL */
} pwalk;

static void ptake(pwalk *w, REAL **view, int init, double scale, int ndim, int d0, int d1, int d2,
                  const char *zFmt, int layer)
{
    size_t numel = (size_t)d0 * (ndim > 1 ? (size_t)d1 : 1) * (ndim > 2 ? (size_t)d2 : 1);
    if( w->a ){
        ptensor *t = &w->a[w->n];
        memset(t, 0, sizeof *t);
        snprintf(t->zName, sizeof t->zName, zFmt, layer);
        t->info.zName = t->zName;
        t->info.ndim = ndim;
        t->info.shape[0] = d0;
        t->info.shape[1] = d1;
        t->info.shape[2] = d2;
        t->info.offset = w->off;
        t->info.numel = numel;
        t->init = init;
        t->scale = scale;
    }
    *view = w->base ? w->base + w->off : NULL;
    w->n++;
    w->off += numel;
}

/* Walks every tensor in a fixed order: counts, records names and shapes, or binds views. */
static void param_walk(const sptt_config *c, pwalk *w, model_params *p)
{
    int C = c->hidden, V = c->vocab_size, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim;
    int H = c->ttt_heads, d = sptt_ttt_dim(c), K = 6 * c->patch * c->patch;
    double bC = 1.0 / sqrt((double)C);
    ptake(w, &p->wte, INIT_NORMAL, 0.02, 2, V, C, 0, "wte", 0);
    ptake(w, &p->patch_w, INIT_NORMAL, 0.02, 2, C, K, 0, "patch.w", 0);
    ptake(w, &p->patch_b, INIT_ZERO, 0, 1, C, 0, 0, "patch.b", 0);
    for(int l = 0; l < c->n_layer; l++){
        layer_params *L = &p->L[l];
        memset(L, 0, sizeof *L);
        L->kind = sptt_layer_kind(c, l);
        ptake(w, &L->ln1, INIT_ONE, 0, 1, C, 0, 0, "layers.%d.ln1", l);
        ptake(w, &L->wq, INIT_NORMAL, 0.02, 2, C, C, 0, "layers.%d.attn.wq", l);
        ptake(w, &L->wk, INIT_NORMAL, 0.02, 2, KVD, C, 0, "layers.%d.attn.wk", l);
        ptake(w, &L->wv, INIT_NORMAL, 0.02, 2, KVD, C, 0, "layers.%d.attn.wv", l);
        ptake(w, &L->wo, INIT_NORMAL, 0.02, 2, C, C, 0, "layers.%d.attn.wo", l);
        ptake(w, &L->qnorm, INIT_ONE, 0, 1, D, 0, 0, "layers.%d.attn.q_norm", l);
        ptake(w, &L->knorm, INIT_ONE, 0, 1, D, 0, 0, "layers.%d.attn.k_norm", l);
        if( L->kind == SPTT_LAYER_TTT ){
            ttt_params *t = &L->t;
            ptake(w, &t->q_scale, INIT_ONE, 0, 1, C, 0, 0, "layers.%d.ttt.q_scale", l);
            ptake(w, &t->q_off, INIT_ZERO, 0, 1, C, 0, 0, "layers.%d.ttt.q_offset", l);
            ptake(w, &t->k_scale, INIT_ONE, 0, 1, C, 0, 0, "layers.%d.ttt.k_scale", l);
            ptake(w, &t->k_off, INIT_ZERO, 0, 1, C, 0, 0, "layers.%d.ttt.k_offset", l);
            if( c->use_conv ){
                ptake(w, &t->conv_q, INIT_DIRAC, 0, 2, C, 27, 0, "layers.%d.ttt.conv_q", l);
                ptake(w, &t->conv_k, INIT_DIRAC, 0, 2, C, 27, 0, "layers.%d.ttt.conv_k", l);
                ptake(w, &t->conv_v, INIT_DIRAC, 0, 2, C, 27, 0, "layers.%d.ttt.conv_v", l);
            }
            ptake(w, &t->w_lr, INIT_UNIFORM, bC, 2, 3 * H, C, 0, "layers.%d.ttt.lr_proj.w", l);
            ptake(w, &t->b_lr, INIT_UNIFORM, bC, 1, 3 * H, 0, 0, "layers.%d.ttt.lr_proj.b", l);
            if( c->use_momentum ){
                ptake(w, &t->w_mom, INIT_UNIFORM, bC, 2, H, C, 0, "layers.%d.ttt.momentum_proj.w", l);
                ptake(w, &t->b_mom, INIT_UNIFORM, bC, 1, H, 0, 0, "layers.%d.ttt.momentum_proj.b", l);
            }
            ptake(w, &t->w_gate, INIT_ZERO, 0, 2, H, C, 0, "layers.%d.ttt.gate_proj.w", l);
            ptake(w, &t->b_gate, INIT_ZERO, 0, 1, H, 0, 0, "layers.%d.ttt.gate_proj.b", l);
            ptake(w, &t->norm, INIT_ONE, 0, 1, d, 0, 0, "layers.%d.ttt.norm", l);
            ptake(w, &t->w0, INIT_NORMAL, 1.0 / sqrt((double)d), 3, H, d, d, "layers.%d.ttt.w0", l);
            ptake(w, &t->w1, INIT_NORMAL, 1.0 / sqrt((double)d), 3, H, d, d, "layers.%d.ttt.w1", l);
            ptake(w, &t->w2, INIT_NORMAL, 1.0 / sqrt((double)d), 3, H, d, d, "layers.%d.ttt.w2", l);
        }
        ptake(w, &L->ln2, INIT_ONE, 0, 1, C, 0, 0, "layers.%d.ln2", l);
        ptake(w, &L->wg, INIT_NORMAL, 0.02, 2, F, C, 0, "layers.%d.ffn.w_gate", l);
        ptake(w, &L->wu, INIT_NORMAL, 0.02, 2, F, C, 0, "layers.%d.ffn.w_up", l);
        ptake(w, &L->wd, INIT_NORMAL, 0.02, 2, C, F, 0, "layers.%d.ffn.w_down", l);
    }
    ptake(w, &p->lnf, INIT_ONE, 0, 1, C, 0, 0, "lnf", 0);
    if( c->tie_embeddings ){
        p->lm_head = p->wte;
    }else{
        ptake(w, &p->lm_head, INIT_NORMAL, 0.02, 2, V, C, 0, "lm_head", 0);
    }
}

static void param_init(REAL *base, const ptensor *tab, int n, uint64_t seed)
{
    sptt_rng root;
    sptt_rng_seed(&root, seed);
    for(int i = 0; i < n; i++){
        const ptensor *t = &tab[i];
        REAL *p = base + t->info.offset;
        sptt_rng r;
        sptt_rng_fork(&root, (uint64_t)i, &r);   // each tensor its own stream: adding one moves no other
        for(size_t k = 0; k < t->info.numel; k++){
            switch( t->init ){
            case INIT_ZERO:    p[k] = 0; break;
            case INIT_ONE:     p[k] = 1; break;
            case INIT_NORMAL:  p[k] = (REAL)(t->scale * sptt_rng_normal(&r)); break;
            case INIT_UNIFORM: p[k] = (REAL)sptt_rng_uniform(&r, -t->scale, t->scale); break;
            case INIT_DIRAC:   p[k] = (k % 27 == 13) ? 1 : 0; break;
            }
        }
    }
}

// ----------------------------------------------------------------------------
// Activations

typedef struct layer_acts {
    REAL *x;                 /* (T, C) block input */
    REAL *xn1, *rstd1;       /* (T, C), (T) */
    REAL *q, *k, *v;         /* (T, C), (T, KVD), (T, KVD) projections */
    REAL *qh, *kh;           /* per-head RMSNorm of q, k */
    REAL *rstdq, *rstdk;     /* (T, NH), (T, KV) */
    REAL *qr, *kr;           /* rotated */
    REAL *att, *lse;         /* (T, C), (T, NH) */
    REAL *s;                 /* (T, C) input of o_proj: att (+ the TTT branch) */
    REAL *h;                 /* (T, C) */
    REAL *hn, *rstd2;        /* (T, C), (T) */
    REAL *fg, *fu, *fa;      /* (T, F) gate, up, silu(gate)*up */
    ttt_acts t;
} layer_acts;

typedef struct kmodel {
    sptt_config cfg;
    ptensor *tab;
    int n_tensor;
    size_t n_param;
    REAL *params, *grads;
    model_params P, G;
    /* the last forward */
    int T, Nv, nLab, nRows, haveForward;
    int grid[3];
    double loss;
    REAL *arenaBase;
    size_t arenaCap;
    layer_acts *A;
    REAL *xL, *xf, *rstdf, *logits, *lseLab, *patches, *cosT, *sinT;
    /* backward scratch */
    REAL *dx, *dxn, *dq, *dk, *dv, *ds, *dhn, *dfa, *dfg, *dfu, *dqr, *dkr, *dlog, *xrows, *attS, *attdS, *tttS;
    int32_t *tokens, *targets, *pos, *vid, *lab, *rows;
    uint8_t *isvid;
    int intCap;
    const float *pixels;
    ttt_ctx tc;
    sptt_stats stats;
} kmodel;

static void kmodel_free(kmodel *m)
{
    if( !m ) return;
    free(m->tab);
    free(m->params);
    free(m->grads);
    free(m->P.L);
    free(m->G.L);
    free(m->arenaBase);
    free(m->A);
    free(m->tokens);
    free(m->targets);
    free(m->pos);
    free(m->vid);
    free(m->lab);
    free(m->rows);
    free(m->isvid);
    free(m);
}

static int kmodel_create(const sptt_config *cfg, uint64_t seed, kmodel **pm)
{
    int rc = sptt_config_validate(cfg);
    *pm = NULL;
    if( rc ) return rc;
    kmodel *m = sptt_calloc(1, sizeof *m);
    if( !m ) return SPTT_ENOMEM;
    m->cfg = *cfg;
    m->P.L = sptt_calloc((size_t)cfg->n_layer, sizeof(layer_params));
    m->G.L = sptt_calloc((size_t)cfg->n_layer, sizeof(layer_params));
    m->A = sptt_calloc((size_t)cfg->n_layer, sizeof(layer_acts));
    if( !m->P.L || !m->G.L || !m->A ){ rc = SPTT_ENOMEM; goto fail; }
    pwalk w = {0};
    param_walk(cfg, &w, &m->P);
    m->n_tensor = w.n;
    m->n_param = w.off;
    m->tab = sptt_calloc((size_t)w.n, sizeof *m->tab);
    m->params = sptt_calloc(m->n_param, sizeof(REAL));
    m->grads = sptt_calloc(m->n_param, sizeof(REAL));
    if( !m->tab || !m->params || !m->grads ){ rc = SPTT_ENOMEM; goto fail; }
    pwalk wr = { m->tab, 0, 0, m->params };
    param_walk(cfg, &wr, &m->P);
    pwalk wg = { NULL, 0, 0, m->grads };
    param_walk(cfg, &wg, &m->G);
    assert(wr.off == m->n_param && wg.off == m->n_param);
    param_init(m->params, m->tab, m->n_tensor, seed);
    *pm = m;
    return SPTT_OK;
fail:
    kmodel_free(m);
    return rc;
}

/* Lays out the arena for T tokens and Nv video tokens (measuring when a->base is NULL). */
static void acts_layout(kmodel *m, arena *a)
{
    const sptt_config *c = &m->cfg;
    size_t T = (size_t)m->T, C = (size_t)c->hidden, KVD = (size_t)sptt_kv_dim(c), F = (size_t)c->ffn;
    size_t NH = (size_t)c->n_head, KV = (size_t)c->n_kv_head, V = (size_t)c->vocab_size;
    size_t TC = T * C;
    int Wmax = 0;
    for(int l = 0; l < c->n_layer; l++){
        layer_acts *A = &m->A[l];
        int kind = m->P.L[l].kind;
        A->x = arena_take(a, TC);
        A->xn1 = arena_take(a, TC);
        A->rstd1 = arena_take(a, T);
        A->q = arena_take(a, TC);
        A->k = arena_take(a, T * KVD);
        A->v = arena_take(a, T * KVD);
        A->qh = arena_take(a, TC);
        A->kh = arena_take(a, T * KVD);
        A->rstdq = arena_take(a, T * NH);
        A->rstdk = arena_take(a, T * KV);
        A->qr = arena_take(a, TC);
        A->kr = arena_take(a, T * KVD);
        A->att = arena_take(a, TC);
        A->lse = arena_take(a, T * NH);
        A->s = kind == SPTT_LAYER_TTT ? arena_take(a, TC) : A->att;
        A->h = arena_take(a, TC);
        A->hn = arena_take(a, TC);
        A->rstd2 = arena_take(a, T);
        A->fg = arena_take(a, T * F);
        A->fu = arena_take(a, T * F);
        A->fa = arena_take(a, T * F);
        if( kind == SPTT_LAYER_TTT ) ttt_acts_layout(a, &A->t, &m->tc);
        int W = kind == SPTT_LAYER_FULL ? m->T : c->window;
        if( W > Wmax ) Wmax = W;
    }
    m->xL = arena_take(a, TC);
    m->xf = arena_take(a, TC);
    m->rstdf = arena_take(a, T);
    m->logits = arena_take(a, T * V);
    m->lseLab = arena_take(a, T);
    m->patches = arena_take(a, (size_t)m->Nv * 6 * c->patch * c->patch);
    m->cosT = arena_take(a, T * (size_t)(c->head_dim / 2));
    m->sinT = arena_take(a, T * (size_t)(c->head_dim / 2));
    m->dx = arena_take(a, TC);
    m->dxn = arena_take(a, TC);
    m->dq = arena_take(a, TC);
    m->dk = arena_take(a, T * KVD);
    m->dv = arena_take(a, T * KVD);
    m->ds = arena_take(a, TC);
    m->dhn = arena_take(a, TC);
    m->dfa = arena_take(a, T * F);
    m->dfg = arena_take(a, T * F);
    m->dfu = arena_take(a, T * F);
    m->dqr = arena_take(a, TC);
    m->dkr = arena_take(a, T * KVD);
    m->dlog = arena_take(a, T * V);
    m->xrows = arena_take(a, TC);
    m->attS = arena_take(a, attention_scratch(m->T, Wmax));
    m->attdS = arena_take(a, attention_scratch(m->T, Wmax));
    m->tttS = arena_take(a, ttt_scratch(&m->tc));
}

static int grow_ints(kmodel *m, int T)
{
    if( T <= m->intCap ) return SPTT_OK;
    int32_t **arr[] = { &m->tokens, &m->targets, &m->vid, &m->lab, &m->rows };
    for(size_t i = 0; i < sizeof arr / sizeof arr[0]; i++){
        free(*arr[i]);
        *arr[i] = sptt_malloc(sizeof(int32_t) * (size_t)T);
        if( !*arr[i] ) return SPTT_ENOMEM;
    }
    free(m->pos);
    free(m->isvid);
    m->pos = sptt_malloc(sizeof(int32_t) * 3 * (size_t)T);
    m->isvid = sptt_malloc((size_t)T);
    if( !m->pos || !m->isvid ) return SPTT_ENOMEM;
    m->intCap = T;
    return SPTT_OK;
}

// ----------------------------------------------------------------------------
// Model FLOPs of one forward + backward (matrix products only, recomputation not counted)

static void count_flops(kmodel *m)
{
    const sptt_config *c = &m->cfg;
    double T = m->T, C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim, NH = c->n_head;
    double H = c->ttt_heads, d = sptt_ttt_dim(c), V = c->vocab_size;
    double *f = m->stats.flops;
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
            double nUpd = ttt_n_chunk(m->T, c->chunk) - 1, Tu = nUpd * c->chunk;
            f[SPTT_T_TTT] += 6.0 * T * C * (3 * H + H + (c->use_momentum ? H : 0));
            f[SPTT_T_TTT] += 18.0 * d * d * T * H + 36.0 * d * d * Tu * H;
            if( c->use_muon ) f[SPTT_T_TTT] += 80.0 * d * d * d * 3 * H * nUpd;
        }
    }
    f[SPTT_T_HEAD] += 2.0 * m->nRows * C * V + 4.0 * m->nLab * C * V;
}

// ----------------------------------------------------------------------------
// Forward

static void block_forward(kmodel *m, int l, REAL *out)
{
    const sptt_config *c = &m->cfg;
    const layer_params *L = &m->P.L[l];
    layer_acts *A = &m->A[l];
    int T = m->T, C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim;
    int NH = c->n_head, KV = c->n_kv_head, half = D / 2;
    double t0 = sptt_now(), t1;

    rmsnorm_forward(A->xn1, A->rstd1, A->x, L->ln1, T, C, c->norm_eps);
    linear_forward(A->q, A->xn1, L->wq, NULL, T, C, C);
    linear_forward(A->k, A->xn1, L->wk, NULL, T, C, KVD);
    linear_forward(A->v, A->xn1, L->wv, NULL, T, C, KVD);
    rmsnorm_forward(A->qh, A->rstdq, A->q, L->qnorm, (long)T * NH, D, c->norm_eps);
    rmsnorm_forward(A->kh, A->rstdk, A->k, L->knorm, (long)T * KV, D, c->norm_eps);
    memcpy(A->qr, A->qh, sizeof(REAL) * (size_t)T * C);
    memcpy(A->kr, A->kh, sizeof(REAL) * (size_t)T * KVD);
    rope_rotate(A->qr, m->cosT, m->sinT, T, NH, D, C, D, half, 1);
    rope_rotate(A->kr, m->cosT, m->sinT, T, KV, D, KVD, D, half, 1);
    t1 = sptt_now();
    m->stats.seconds[SPTT_T_PROJ] += t1 - t0;

    int W = L->kind == SPTT_LAYER_FULL ? T : c->window;
    attention_forward(A->att, A->lse, A->qr, A->kr, A->v, T, NH, KV, D, W, m->attS);
    t0 = sptt_now();
    m->stats.seconds[L->kind == SPTT_LAYER_FULL ? SPTT_T_FULL : SPTT_T_WINDOW] += t0 - t1;

    if( L->kind == SPTT_LAYER_TTT ){
        ttt_forward(&A->t, &L->t, &m->tc, A->xn1, A->qh, A->kh, A->v, m->tttS);
        size_t n = (size_t)T * C;
        for(size_t i = 0; i < n; i++) A->s[i] = A->att[i] + A->t.y[i];
        t1 = sptt_now();
        m->stats.seconds[SPTT_T_TTT] += t1 - t0;
        t0 = t1;
    }

    linear_forward(A->h, A->s, L->wo, NULL, T, C, C);
    for(size_t i = 0; i < (size_t)T * C; i++) A->h[i] += A->x[i];
    t1 = sptt_now();
    m->stats.seconds[SPTT_T_PROJ] += t1 - t0;

    rmsnorm_forward(A->hn, A->rstd2, A->h, L->ln2, T, C, c->norm_eps);
    linear_forward(A->fg, A->hn, L->wg, NULL, T, C, F);
    linear_forward(A->fu, A->hn, L->wu, NULL, T, C, F);
    swiglu_forward(A->fa, A->fg, A->fu, (long)T * F);
    linear_forward(out, A->fa, L->wd, NULL, T, F, C);
    for(size_t i = 0; i < (size_t)T * C; i++) out[i] += A->h[i];
    m->stats.seconds[SPTT_T_FFN] += sptt_now() - t1;
}

static int kmodel_forward(kmodel *m, const sptt_sample *s, int flags, double *pLoss, int *pnLab)
{
    const sptt_config *c = &m->cfg;
    int rc;
    int T = s->n_tokens, V = c->vocab_size, C = c->hidden;
    m->haveForward = 0;
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
    if( (rc = grow_ints(m, T)) ) return rc;
    if( (rc = sptt_sample_positions(c, s, m->pos, m->vid)) ) return rc;
    sptt_sample_grid(c, s, m->grid);
    m->T = T;
    m->Nv = m->grid[0] * m->grid[1] * m->grid[2];
    m->pixels = s->pixels;
    memcpy(m->tokens, s->tokens, sizeof(int32_t) * (size_t)T);
    memcpy(m->targets, s->targets, sizeof(int32_t) * (size_t)T);
    memset(m->isvid, 0, (size_t)T);
    for(int v = 0; v < m->Nv; v++) m->isvid[m->vid[v]] = 1;
    m->nLab = 0;
    for(int i = 0; i < T; i++) if( s->targets[i] >= 0 ) m->lab[m->nLab++] = i;
    if( flags & SPTT_FWD_ALL_LOGITS ){
        for(int i = 0; i < T; i++) m->rows[i] = i;
        m->nRows = T;
    }else{
        memcpy(m->rows, m->lab, sizeof(int32_t) * (size_t)m->nLab);
        m->nRows = m->nLab;
    }

    ttt_ctx *x = &m->tc;
    memset(x, 0, sizeof *x);
    x->T = T; x->C = C; x->NH = c->n_head; x->KV = c->n_kv_head; x->D = c->head_dim;
    x->H = c->ttt_heads; x->d = sptt_ttt_dim(c); x->r = c->ttt_rope_dim; x->half = c->head_dim / 2;
    x->conv = c->use_conv;
    x->c0 = (REAL)log(expm1((double)c->ttt_base_lr));
    x->vid = m->vid;
    x->isvid = m->isvid;
    for(int k = 0; k < 3; k++) x->G[k] = m->grid[k];
    x->dm.T = T; x->dm.C = C; x->dm.H = x->H; x->dm.d = x->d; x->dm.chunk = c->chunk;
    x->dm.muon = c->use_muon; x->dm.momentum = c->use_momentum; x->dm.prenorm = c->prenorm;

    arena a = { NULL, 0 };
    acts_layout(m, &a);
    if( a.used > m->arenaCap ){
        free(m->arenaBase);
        m->arenaCap = 0;
        m->arenaBase = sptt_malloc(sizeof(REAL) * a.used);
        if( !m->arenaBase ) return SPTT_ENOMEM;
        m->arenaCap = a.used;
    }
    a.base = m->arenaBase;
    a.used = 0;
    acts_layout(m, &a);
    x->cosT = m->cosT;
    x->sinT = m->sinT;

    double t0 = sptt_now();
    rope_table(m->cosT, m->sinT, m->pos, T, c->head_dim / 2, c->rope_sections, c->rope_theta);
    REAL *x0 = m->A[0].x;
    embed_forward(x0, m->tokens, m->P.wte, T, C);
    if( m->Nv ){
        int K = 6 * c->patch * c->patch;
        patch_gather(m->patches, s->pixels, m->grid[0], m->grid[1], m->grid[2], c->patch, c->frame_h, c->frame_w);
        linear_forward(m->xrows, m->patches, m->P.patch_w, m->P.patch_b, m->Nv, K, C);
        for(int v = 0; v < m->Nv; v++) memcpy(x0 + (size_t)m->vid[v] * C, m->xrows + (size_t)v * C, sizeof(REAL) * C);
    }
    m->stats.seconds[SPTT_T_EMBED] += sptt_now() - t0;

    for(int l = 0; l < c->n_layer; l++){
        double tl = sptt_now();
        block_forward(m, l, l + 1 < c->n_layer ? m->A[l + 1].x : m->xL);
        m->stats.layer_seconds[m->P.L[l].kind] += sptt_now() - tl;
    }

    t0 = sptt_now();
    rmsnorm_forward(m->xf, m->rstdf, m->xL, m->P.lnf, T, C, c->norm_eps);
    memset(m->logits, 0, sizeof(REAL) * (size_t)T * V);
    for(int r = 0; r < m->nRows; r++) memcpy(m->xrows + (size_t)r * C, m->xf + (size_t)m->rows[r] * C, sizeof(REAL) * C);
    gemm(0, 1, m->nRows, V, C, 1, m->xrows, C, m->P.lm_head, C, 0, m->dlog, V);
    for(int r = 0; r < m->nRows; r++) memcpy(m->logits + (size_t)m->rows[r] * V, m->dlog + (size_t)r * V, sizeof(REAL) * V);
    // the loss reads the supervised rows (a subset of the computed ones) packed together
    for(int r = 0; r < m->nLab; r++) memcpy(m->dlog + (size_t)r * V, m->logits + (size_t)m->lab[r] * V, sizeof(REAL) * V);
    int32_t *tg = m->rows;   // rows are no longer needed: reuse for the label targets
    for(int r = 0; r < m->nLab; r++) tg[r] = m->targets[m->lab[r]];
    double sum = ce_forward(m->lseLab, m->dlog, tg, m->nLab, V);
    m->loss = m->nLab ? sum / m->nLab : 0;
    m->stats.seconds[SPTT_T_HEAD] += sptt_now() - t0;
    count_flops(m);
    m->haveForward = 1;
    if( pLoss ) *pLoss = m->loss;
    if( pnLab ) *pnLab = m->nLab;
    return SPTT_OK;
}

// ----------------------------------------------------------------------------
// Backward

/* dx holds the gradient of the block output on entry and of the block input on return. */
static void block_backward(kmodel *m, int l, REAL *dx)
{
    const sptt_config *c = &m->cfg;
    const layer_params *L = &m->P.L[l];
    const layer_params *G = &m->G.L[l];
    layer_acts *A = &m->A[l];
    int T = m->T, C = c->hidden, KVD = sptt_kv_dim(c), F = c->ffn, D = c->head_dim;
    int NH = c->n_head, KV = c->n_kv_head, half = D / 2;
    size_t TC = (size_t)T * C;
    double t0 = sptt_now(), t1;

    // feed-forward:  out = h + wd (silu(wg hn) * (wu hn))
    gemm(0, 0, T, F, C, 1, dx, C, L->wd, F, 0, m->dfa, F);
    gemm(1, 0, C, F, T, 1, dx, C, A->fa, F, 1, G->wd, F);
    swiglu_backward(m->dfg, m->dfu, m->dfa, A->fg, A->fu, (long)T * F);
    memset(m->dhn, 0, sizeof(REAL) * TC);
    linear_backward(m->dhn, G->wg, NULL, m->dfg, A->hn, L->wg, T, C, F);
    linear_backward(m->dhn, G->wu, NULL, m->dfu, A->hn, L->wu, T, C, F);
    rmsnorm_backward(dx, G->ln2, m->dhn, A->h, L->ln2, A->rstd2, T, C);
    t1 = sptt_now();
    m->stats.seconds[SPTT_T_FFN] += t1 - t0;

    // output projection:  h = x + wo s
    memset(m->ds, 0, sizeof(REAL) * TC);
    linear_backward(m->ds, G->wo, NULL, dx, A->s, L->wo, T, C, C);
    t0 = sptt_now();
    m->stats.seconds[SPTT_T_PROJ] += t0 - t1;

    // attention core
    memset(m->dqr, 0, sizeof(REAL) * TC);
    memset(m->dkr, 0, sizeof(REAL) * (size_t)T * KVD);
    memset(m->dv, 0, sizeof(REAL) * (size_t)T * KVD);
    int W = L->kind == SPTT_LAYER_FULL ? T : c->window;
    attention_backward(m->dqr, m->dkr, m->dv, m->ds, A->qr, A->kr, A->v, A->att, A->lse, T, NH, KV, D, W,
                       m->attS, m->attdS);
    t1 = sptt_now();
    m->stats.seconds[L->kind == SPTT_LAYER_FULL ? SPTT_T_FULL : SPTT_T_WINDOW] += t1 - t0;
    // undo the rotation: dqr, dkr become the gradients of qh, kh
    rope_rotate(m->dqr, m->cosT, m->sinT, T, NH, D, C, D, half, -1);
    rope_rotate(m->dkr, m->cosT, m->sinT, T, KV, D, KVD, D, half, -1);
    memset(m->dxn, 0, sizeof(REAL) * TC);
    t0 = sptt_now();
    m->stats.seconds[SPTT_T_PROJ] += t0 - t1;

    if( L->kind == SPTT_LAYER_TTT ){
        ttt_backward(&G->t, m->dxn, m->dqr, m->dkr, m->dv, m->ds, &A->t, &L->t, &m->tc, A->xn1, A->qh, m->tttS);
        t1 = sptt_now();
        m->stats.seconds[SPTT_T_TTT] += t1 - t0;
        t0 = t1;
    }

    // per-head norms, projections, block norm
    memset(m->dq, 0, sizeof(REAL) * TC);
    memset(m->dk, 0, sizeof(REAL) * (size_t)T * KVD);
    rmsnorm_backward(m->dq, G->qnorm, m->dqr, A->q, L->qnorm, A->rstdq, (long)T * NH, D);
    rmsnorm_backward(m->dk, G->knorm, m->dkr, A->k, L->knorm, A->rstdk, (long)T * KV, D);
    linear_backward(m->dxn, G->wq, NULL, m->dq, A->xn1, L->wq, T, C, C);
    linear_backward(m->dxn, G->wk, NULL, m->dk, A->xn1, L->wk, T, C, KVD);
    linear_backward(m->dxn, G->wv, NULL, m->dv, A->xn1, L->wv, T, C, KVD);
    rmsnorm_backward(dx, G->ln1, m->dxn, A->x, L->ln1, A->rstd1, T, C);
    m->stats.seconds[SPTT_T_PROJ] += sptt_now() - t0;
}

static int kmodel_backward(kmodel *m, REAL weight)
{
    const sptt_config *c = &m->cfg;
    if( !m->haveForward ) return sptt_fail(SPTT_ESTATE, "model: backward without a forward");
    int T = m->T, C = c->hidden, V = c->vocab_size;
    size_t TC = (size_t)T * C;
    double t0 = sptt_now();

    // head: only the supervised rows carry gradient
    int32_t *tg = m->rows;
    for(int r = 0; r < m->nLab; r++){
        tg[r] = m->targets[m->lab[r]];
        memcpy(m->xrows + (size_t)r * C, m->xf + (size_t)m->lab[r] * C, sizeof(REAL) * C);
    }
    for(int r = 0; r < m->nLab; r++) memcpy(m->dlog + (size_t)r * V, m->logits + (size_t)m->lab[r] * V, sizeof(REAL) * V);
    ce_backward(m->dlog, m->dlog, m->lseLab, tg, m->nLab, V, weight);
    gemm(1, 0, V, C, m->nLab, 1, m->dlog, V, m->xrows, C, 1, m->G.lm_head, C);
    gemm(0, 0, m->nLab, C, V, 1, m->dlog, V, m->P.lm_head, C, 0, m->dq, C);
    memset(m->ds, 0, sizeof(REAL) * TC);
    for(int r = 0; r < m->nLab; r++) memcpy(m->ds + (size_t)m->lab[r] * C, m->dq + (size_t)r * C, sizeof(REAL) * C);
    memset(m->dx, 0, sizeof(REAL) * TC);
    rmsnorm_backward(m->dx, m->G.lnf, m->ds, m->xL, m->P.lnf, m->rstdf, T, C);
    m->stats.seconds[SPTT_T_HEAD] += sptt_now() - t0;

    for(int l = c->n_layer - 1; l >= 0; l--){
        double tl = sptt_now();
        block_backward(m, l, m->dx);
        m->stats.layer_seconds[m->P.L[l].kind] += sptt_now() - tl;
    }

    t0 = sptt_now();
    embed_backward(m->G.wte, m->dx, m->tokens, T, C);
    if( m->Nv ){
        int K = 6 * c->patch * c->patch;
        for(int v = 0; v < m->Nv; v++) memcpy(m->dq + (size_t)v * C, m->dx + (size_t)m->vid[v] * C, sizeof(REAL) * C);
        linear_backward(NULL, m->G.patch_w, m->G.patch_b, m->dq, m->patches, m->P.patch_w, m->Nv, K, C);
    }
    m->stats.seconds[SPTT_T_EMBED] += sptt_now() - t0;
    return SPTT_OK;
}

#endif
