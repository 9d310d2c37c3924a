/*
** Step dump: one forward and backward over a batch, written as a safetensors file so any outside
** implementation (PyTorch, NumPy, another C port) can load the config, parameters, inputs,
** logits, loss and gradients and compare. The layout is documented in schemas/step_dump.md.
**
** safetensors: u64 little-endian header length N, N bytes of JSON (padded with spaces to a
** multiple of 8), then the tensor bytes; each JSON entry gives dtype, shape and [begin, end)
** offsets into the byte area. Chosen because it is a published, trivially parsed format that
** Python reads with one call, and it carries string metadata for the config and the loss. The
** bytes are laid out by the shared writer (sptt_st_write.h), as for checkpoints.
**
** Two passes feed the one writer: the library's float model (sptt_step_dump), and the same kernel
** templates instantiated with double on the float model's parameters (sptt_step_dump_f64, the
** instantiation the gradient-check tests use). The double pass is free of float32 rounding, so an
** outside implementation running in double can be compared with it near 1e-16 instead of through
** the float32 noise that Newton-Schulz amplifies to 1e-4 and more.
*/
#define SPTT_REAL_DOUBLE 1
#pragma GCC diagnostic ignored "-Wunused-function"   /* only kmodel_create/forward/backward are used */
#include "kern_model.inc"

#include "sptt_model.h"
#include "sptt_st_write.h"

#include <stdlib.h>
#include <string.h>

/* Adds one tensor with up to 4 dimensions; the step dump's tensors are F32, F64 or I32. */
static int dump_add(sptt_stw *w, const char *zName, const char *zType, const void *p, int ndim,
                    long d0, long d1, long d2, long d3)
{
    const int64_t aShape[4] = { d0, d1, d2, d3 };
    return sptt_stw_add(w, zName, zType, p, ndim, aShape);
}

/* The results of one pass over a batch, in float ("F32") or double ("F64"). */
typedef struct dump_result {
    const char *zType;
    const void *grads;        /* laid out as the parameters */
    void **aLogits;           /* (nBatch) of (T, V) */
    const void *loss;         /* one value */
    double lossValue;
    long nLabTotal;
} dump_result;

/* Writes the dump of m's parameters, the batch and the pass's results. */
static int dump_write(sptt_model *m, const sptt_sample *aBatch, int nBatch, const sptt_tokenizer *tok,
                      const char *zPath, const dump_result *r)
{
    int rc = SPTT_OK;
    const sptt_config *c = sptt_model_config(m);
    size_t elem = strcmp(r->zType, "F64") == 0 ? sizeof(double) : sizeof(float);
    sptt_stw w;
    int32_t **aPos = NULL;
    char *zCfg = NULL;
    char zName[160], zNum[64];
    sptt_stw_init(&w);
    aPos = sptt_calloc((size_t)nBatch, sizeof *aPos);
    if( !aPos ){ rc = SPTT_ENOMEM; goto done; }
    for(int b = 0; b < nBatch; b++){
        aPos[b] = sptt_malloc(sizeof(int32_t) * 3 * (size_t)aBatch[b].n_tokens);
        if( !aPos[b] ){ rc = SPTT_ENOMEM; goto done; }
        if( (rc = sptt_sample_positions(c, &aBatch[b], aPos[b], NULL)) ) goto done;
    }
    /* the parameters are the float32 values the pass ran on, whatever its precision */
    const float *params = sptt_model_params(m, NULL);
    for(int pass = 0; pass < 2; pass++){
        for(int i = 0; i < sptt_model_n_tensors(m); i++){
            const sptt_tensor_info *t = sptt_model_tensor(m, i);
            snprintf(zName, sizeof zName, "%s.%s", pass ? "grad" : "param", t->zName);
            const void *p = pass ? (const char *)r->grads + t->offset * elem : (const void *)(params + t->offset);
            rc = dump_add(&w, zName, pass ? r->zType : "F32", p, t->ndim, t->shape[0], t->shape[1], t->shape[2], 0);
            if( rc ) goto done;
        }
    }
    for(int b = 0; b < nBatch; b++){
        const sptt_sample *s = &aBatch[b];
        long T = s->n_tokens;
        snprintf(zName, sizeof zName, "batch.%d.tokens", b);
        if( (rc = dump_add(&w, zName, "I32", s->tokens, 1, T, 0, 0, 0)) ) goto done;
        snprintf(zName, sizeof zName, "batch.%d.targets", b);
        if( (rc = dump_add(&w, zName, "I32", s->targets, 1, T, 0, 0, 0)) ) goto done;
        snprintf(zName, sizeof zName, "batch.%d.positions", b);
        if( (rc = dump_add(&w, zName, "I32", aPos[b], 2, T, 3, 0, 0)) ) goto done;
        if( s->n_frames ){
            snprintf(zName, sizeof zName, "batch.%d.pixels", b);
            rc = dump_add(&w, zName, "F32", s->pixels, 4, s->n_frames, c->frame_h, c->frame_w, 3);
            if( rc ) goto done;
        }
        snprintf(zName, sizeof zName, "batch.%d.logits", b);
        if( (rc = dump_add(&w, zName, r->zType, r->aLogits[b], 2, T, c->vocab_size, 0, 0)) ) goto done;
    }
    if( (rc = dump_add(&w, "loss", r->zType, r->loss, 1, 1, 0, 0, 0)) ) goto done;
    int nMerge = 0;
    const int32_t *aMerge = tok ? sptt_tokenizer_merges(tok, &nMerge) : NULL;
    if( nMerge ){
        if( (rc = dump_add(&w, "tokenizer.merges", "I32", aMerge, 2, nMerge, 2, 0, 0)) ) goto done;
    }

    zCfg = sptt_config_to_json(c);
    if( !zCfg ){ rc = SPTT_ENOMEM; goto done; }
    sptt_stw_meta(&w, "format", "sptt-step-dump");
    sptt_stw_meta(&w, "version", "1");
    sptt_stw_meta(&w, "toolkit", SPTT_VERSION);
    sptt_stw_meta(&w, "config", zCfg);
    snprintf(zNum, sizeof zNum, elem == sizeof(double) ? "%.17g" : "%.9g", r->lossValue);
    sptt_stw_meta(&w, "loss", zNum);
    snprintf(zNum, sizeof zNum, "%ld", r->nLabTotal);
    sptt_stw_meta(&w, "n_labelled", zNum);
    snprintf(zNum, sizeof zNum, "%d", nBatch);
    sptt_stw_meta(&w, "batch", zNum);
    /* only the double pass says so: a float dump keeps the bytes it always had */
    if( elem == sizeof(double) ) sptt_stw_meta(&w, "precision", "f64");
    /* a failed meta call is kept by the writer and returned here */
    rc = sptt_stw_write_atomic(&w, zPath);
done:
    if( aPos ) for(int b = 0; b < nBatch; b++) free(aPos[b]);
    free(aPos);
    sptt_stw_free(&w);
    free(zCfg);
    return rc;
}

/* Labelled positions of the whole batch: the loss is their mean. */
static long batch_labelled(const sptt_sample *aBatch, int nBatch)
{
    long n = 0;
    for(int b = 0; b < nBatch; b++)
        for(int i = 0; i < aBatch[b].n_tokens; i++) n += aBatch[b].targets[i] >= 0;
    return n;
}

/* the host model behind a dump, as a pass */
static int host_zero(void *p) { sptt_model_zero_grad(p); return SPTT_OK; }
static int host_forward(void *p, const sptt_sample *s, float *pLoss, int *pnLab)
{
    return sptt_model_forward(p, s, SPTT_FWD_ALL_LOGITS, pLoss, pnLab);
}
static int host_backward(void *p, float w) { return sptt_model_backward(p, w); }
static int host_logits(void *p, float *aOut)
{
    int T;
    const float *lg = sptt_model_logits(p, &T);
    memcpy(aOut, lg, sizeof(float) * (size_t)T * sptt_model_config(p)->vocab_size);
    return SPTT_OK;
}
static int host_grads(void *p, float *aOut)
{
    size_t n;
    const float *g = sptt_model_grads(p, &n);
    if( aOut != g ) memcpy(aOut, g, sizeof(float) * n);
    return SPTT_OK;
}

int sptt_step_dump(sptt_model *m, const sptt_sample *aBatch, int nBatch, const sptt_tokenizer *tok,
                   const char *zPath, float *pLoss)
{
    sptt_step_pass p = { m, host_zero, host_forward, host_backward, host_logits, host_grads };
    return sptt_step_dump_pass(m, &p, aBatch, nBatch, tok, zPath, pLoss);
}

int sptt_step_dump_pass(sptt_model *m, const sptt_step_pass *p, const sptt_sample *aBatch, int nBatch,
                        const sptt_tokenizer *tok, const char *zPath, float *pLoss)
{
    int rc = SPTT_OK;
    const sptt_config *c = sptt_model_config(m);
    float **aLogits = NULL;
    if( nBatch < 1 ) return sptt_fail(SPTT_EINVAL, "dump: empty batch");
    aLogits = sptt_calloc((size_t)nBatch, sizeof *aLogits);
    if( !aLogits ) return SPTT_ENOMEM;

    long nLabTotal = batch_labelled(aBatch, nBatch);
    if( (rc = p->xZeroGrad(p->pCtx)) ) goto done;
    double lossSum = 0;
    for(int b = 0; b < nBatch; b++){
        const sptt_sample *s = &aBatch[b];
        float loss;
        int nLab, T = s->n_tokens;
        if( (rc = p->xForward(p->pCtx, s, &loss, &nLab)) ) goto done;
        lossSum += (double)loss * nLab;
        if( (rc = p->xBackward(p->pCtx, nLabTotal ? 1.0f / (float)nLabTotal : 0.0f)) ) goto done;
        aLogits[b] = sptt_malloc(sizeof(float) * (size_t)T * c->vocab_size);
        if( !aLogits[b] ){ rc = SPTT_ENOMEM; goto done; }
        if( (rc = p->xLogits(p->pCtx, aLogits[b])) ) goto done;
    }
    float loss = nLabTotal ? (float)(lossSum / (double)nLabTotal) : 0.0f;
    if( pLoss ) *pLoss = loss;
    /* the host model's gradient buffer receives the pass's gradients (a no-op for the host pass) */
    float *grads = sptt_model_grads(m, NULL);
    if( (rc = p->xGrads(p->pCtx, grads)) ) goto done;
    dump_result r = { "F32", grads, (void **)aLogits, &loss, (double)loss, nLabTotal };
    rc = dump_write(m, aBatch, nBatch, tok, zPath, &r);
done:
    if( aLogits ) for(int b = 0; b < nBatch; b++) free(aLogits[b]);
    free(aLogits);
    return rc;
}

int sptt_step_dump_f64(sptt_model *m, const sptt_sample *aBatch, int nBatch, const sptt_tokenizer *tok,
                       const char *zPath, double *pLoss)
{
    int rc = SPTT_OK;
    const sptt_config *c = sptt_model_config(m);
    kmodel *k = NULL;
    double **aLogits = NULL;
    if( nBatch < 1 ) return sptt_fail(SPTT_EINVAL, "dump: empty batch");
    size_t nParam;
    const float *params = sptt_model_params(m, &nParam);
    if( (rc = kmodel_create(c, 0, &k)) ) goto done;
    if( k->n_param != nParam ){
        rc = sptt_fail(SPTT_EINVAL, "dump: the double model holds %zu parameters, the float one %zu", k->n_param, nParam);
        goto done;
    }
    for(size_t i = 0; i < nParam; i++) k->params[i] = params[i];   /* exact: float to double */
    memset(k->grads, 0, sizeof(double) * nParam);
    aLogits = sptt_calloc((size_t)nBatch, sizeof *aLogits);
    if( !aLogits ){ rc = SPTT_ENOMEM; goto done; }

    long nLabTotal = batch_labelled(aBatch, nBatch);
    double lossSum = 0;
    for(int b = 0; b < nBatch; b++){
        double loss = 0;
        int nLab = 0;
        if( (rc = kmodel_forward(k, &aBatch[b], SPTT_FWD_ALL_LOGITS, &loss, &nLab)) ) goto done;
        lossSum += loss * nLab;
        if( (rc = kmodel_backward(k, nLabTotal ? 1.0 / (double)nLabTotal : 0.0)) ) goto done;
        size_t n = (size_t)k->T * c->vocab_size;
        aLogits[b] = sptt_malloc(sizeof(double) * n);
        if( !aLogits[b] ){ rc = SPTT_ENOMEM; goto done; }
        memcpy(aLogits[b], k->logits, sizeof(double) * n);
    }
    double loss = nLabTotal ? lossSum / (double)nLabTotal : 0.0;
    if( pLoss ) *pLoss = loss;
    dump_result r = { "F64", k->grads, (void **)aLogits, &loss, loss, nLabTotal };
    rc = dump_write(m, aBatch, nBatch, tok, zPath, &r);
done:
    if( aLogits ) for(int b = 0; b < nBatch; b++) free(aLogits[b]);
    free(aLogits);
    kmodel_free(k);
    return rc;
}
