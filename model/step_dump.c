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
*/
#include "sptt_model.h"
#include "sptt_st_write.h"

#include <stdlib.h>
#include <string.h>

/* Adds one tensor with up to 4 dimensions; the step dump's tensors are F32 or I32. */
static int dump_add(sptt_stw *w, const char *zName, const char *zType, const void *p, int ndim,
                    long d0, long d1, long d2, long d3)
{
    const int64_t aShape[4] = { d0, d1, d2, d3 };
    return sptt_stw_add(w, zName, zType, p, ndim, aShape);
}

int sptt_step_dump(sptt_model *m, const sptt_sample *aBatch, int nBatch, const sptt_tokenizer *tok,
                   const char *zPath, float *pLoss)
{
    int rc = SPTT_OK;
    const sptt_config *c = sptt_model_config(m);
    sptt_stw w;
    float **aLogits = NULL;
    int32_t **aPos = NULL;
    char *zCfg = NULL;
    char zName[160], zNum[64];
    if( nBatch < 1 ) return sptt_fail(SPTT_EINVAL, "dump: empty batch");
    sptt_stw_init(&w);
    aLogits = sptt_calloc((size_t)nBatch, sizeof *aLogits);
    aPos = sptt_calloc((size_t)nBatch, sizeof *aPos);
    if( !aLogits || !aPos ){ rc = SPTT_ENOMEM; goto done; }

    // labelled tokens of the whole batch: the loss is their mean
    long nLabTotal = 0;
    for(int b = 0; b < nBatch; b++)
        for(int i = 0; i < aBatch[b].n_tokens; i++) nLabTotal += aBatch[b].targets[i] >= 0;
    sptt_model_zero_grad(m);
    double lossSum = 0;
    for(int b = 0; b < nBatch; b++){
        const sptt_sample *s = &aBatch[b];
        float loss;
        int nLab, T;
        if( (rc = sptt_model_forward(m, s, SPTT_FWD_ALL_LOGITS, &loss, &nLab)) ) goto done;
        lossSum += (double)loss * nLab;
        if( (rc = sptt_model_backward(m, nLabTotal ? 1.0f / (float)nLabTotal : 0.0f)) ) goto done;
        const float *lg = sptt_model_logits(m, &T);
        aLogits[b] = sptt_malloc(sizeof(float) * (size_t)T * c->vocab_size);
        aPos[b] = sptt_malloc(sizeof(int32_t) * 3 * (size_t)T);
        if( !aLogits[b] || !aPos[b] ){ rc = SPTT_ENOMEM; goto done; }
        memcpy(aLogits[b], lg, sizeof(float) * (size_t)T * c->vocab_size);
        if( (rc = sptt_sample_positions(c, s, aPos[b], NULL)) ) goto done;
    }
    float loss = nLabTotal ? (float)(lossSum / (double)nLabTotal) : 0.0f;
    if( pLoss ) *pLoss = loss;

    float *params = sptt_model_params(m, NULL), *grads = sptt_model_grads(m, NULL);
    for(int pass = 0; pass < 2; pass++){
        for(int i = 0; i < sptt_model_n_tensors(m); i++){
            const sptt_tensor_info *t = sptt_model_tensor(m, i);
            snprintf(zName, sizeof zName, "%s.%s", pass ? "grad" : "param", t->zName);
            rc = dump_add(&w, zName, "F32", (pass ? grads : params) + t->offset, t->ndim,
                          t->shape[0], t->shape[1], t->shape[2], 0);
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
        if( (rc = dump_add(&w, zName, "F32", aLogits[b], 2, T, c->vocab_size, 0, 0)) ) goto done;
    }
    if( (rc = dump_add(&w, "loss", "F32", &loss, 1, 1, 0, 0, 0)) ) goto done;
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
    snprintf(zNum, sizeof zNum, "%.9g", (double)loss);
    sptt_stw_meta(&w, "loss", zNum);
    snprintf(zNum, sizeof zNum, "%ld", nLabTotal);
    sptt_stw_meta(&w, "n_labelled", zNum);
    snprintf(zNum, sizeof zNum, "%d", nBatch);
    sptt_stw_meta(&w, "batch", zNum);
    /* a failed meta call is kept by the writer and returned here */
    rc = sptt_stw_write_atomic(&w, zPath);
done:
    if( aLogits ) for(int b = 0; b < nBatch; b++) free(aLogits[b]);
    if( aPos ) for(int b = 0; b < nBatch; b++) free(aPos[b]);
    free(aLogits);
    free(aPos);
    sptt_stw_free(&w);
    free(zCfg);
    return rc;
}
