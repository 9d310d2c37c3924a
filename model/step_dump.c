/*
** Step dump: one forward and backward over a batch, written as a safetensors file so any outside
** implementation (PyTorch, NumPy, another C port) can load the config, parameters, inputs,
** logits, loss and gradients and compare. The layout is documented in schemas/step_dump.md.
**
** safetensors: u64 little-endian header length N, N bytes of JSON (padded with spaces to a
** multiple of 8), then the tensor bytes; each JSON entry gives dtype, shape and [begin, end)
** offsets into the byte area. Chosen because it is a published, trivially parsed format that
** Python reads with one call, and it carries string metadata for the config and the loss.
*/
#include "sptt_model.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct dump_entry {
    char zName[96];
    const char *zType;     /* "F32" or "I32" */
    int ndim;
    long shape[4];
    const void *p;
    size_t nByte;
} dump_entry;

typedef struct dump {
    dump_entry *a;
    int n, nAlloc;
} dump;

static int dump_add(dump *d, const char *zName, const char *zType, const void *p, int ndim,
                    long d0, long d1, long d2, long d3)
{
    if( d->n == d->nAlloc ){
        int nNew = d->nAlloc ? 2 * d->nAlloc : 64;
        dump_entry *aNew = sptt_realloc(d->a, sizeof *aNew * (size_t)nNew);
        if( !aNew ) return SPTT_ENOMEM;
        d->a = aNew;
        d->nAlloc = nNew;
    }
    dump_entry *e = &d->a[d->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->zName, sizeof e->zName, "%s", zName);
    e->zType = zType;
    e->ndim = ndim;
    long s[4] = { d0, d1, d2, d3 };
    size_t n = 1;
    for(int i = 0; i < ndim; i++){
        e->shape[i] = s[i];
        n *= (size_t)s[i];
    }
    e->p = p;
    e->nByte = n * 4;
    return SPTT_OK;
}

/* Writes the entries; metadata values are strings, as safetensors requires. */
static int dump_write(const dump *d, json_t *meta, const char *zPath)
{
    int rc = SPTT_OK;
    json_t *h = json_object();
    char *zJson = NULL;
    sptt_atomic at;
    int open = 0;
    if( !h ) return SPTT_ENOMEM;
    json_object_set(h, "__metadata__", meta);
    size_t off = 0;
    for(int i = 0; i < d->n; i++){
        const dump_entry *e = &d->a[i];
        json_t *o = json_object(), *sh = json_array(), *of = json_array();
        for(int k = 0; k < e->ndim; k++) json_array_append_new(sh, json_integer(e->shape[k]));
        json_array_append_new(of, json_integer((json_int_t)off));
        json_array_append_new(of, json_integer((json_int_t)(off + e->nByte)));
        json_object_set_new(o, "dtype", json_string(e->zType));
        json_object_set_new(o, "shape", sh);
        json_object_set_new(o, "data_offsets", of);
        json_object_set_new(h, e->zName, o);
        off += e->nByte;
    }
    zJson = json_dumps(h, JSON_COMPACT);
    if( !zJson ){ rc = sptt_fail(SPTT_ENOMEM, "%s: cannot format the header", zPath); goto done; }
    size_t nJson = strlen(zJson), nPad = (8 - nJson % 8) % 8;
    if( (rc = sptt_atomic_open(&at, zPath)) ) goto done;
    open = 1;
    uint8_t len[8];
    for(int k = 0; k < 8; k++) len[k] = (uint8_t)((uint64_t)(nJson + nPad) >> (8 * k));
    if( (rc = sptt_atomic_write(&at, len, 8)) ) goto done;
    if( (rc = sptt_atomic_write(&at, zJson, nJson)) ) goto done;
    if( (rc = sptt_atomic_write(&at, "        ", nPad)) ) goto done;
    for(int i = 0; i < d->n; i++){
        // every value is 4 bytes; written little-endian whatever the host
        const uint8_t *p = d->a[i].p;
        uint8_t buf[4096];
        for(size_t k = 0; k < d->a[i].nByte; k += sizeof buf){
            size_t m = d->a[i].nByte - k < sizeof buf ? d->a[i].nByte - k : sizeof buf;
            for(size_t j = 0; j < m; j += 4){
                uint32_t u;
                memcpy(&u, p + k + j, 4);
                buf[j] = (uint8_t)u; buf[j + 1] = (uint8_t)(u >> 8);
                buf[j + 2] = (uint8_t)(u >> 16); buf[j + 3] = (uint8_t)(u >> 24);
            }
            if( (rc = sptt_atomic_write(&at, buf, m)) ) goto done;
        }
    }
    rc = sptt_atomic_commit(&at);
    open = 0;
done:
    if( open ) sptt_atomic_abort(&at);
    free(zJson);
    json_decref(h);
    return rc;
}

int sptt_step_dump(sptt_model *m, const sptt_sample *aBatch, int nBatch, const sptt_tokenizer *tok,
                   const char *zPath, float *pLoss)
{
    int rc = SPTT_OK;
    const sptt_config *c = sptt_model_config(m);
    dump d = {0};
    float **aLogits = NULL;
    int32_t **aPos = NULL;
    char *zCfg = NULL;
    json_t *meta = NULL;
    char zName[160], zNum[64];
    if( nBatch < 1 ) return sptt_fail(SPTT_EINVAL, "dump: empty batch");
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
            rc = dump_add(&d, zName, "F32", (pass ? grads : params) + t->offset, t->ndim,
                          t->shape[0], t->shape[1], t->shape[2], 0);
            if( rc ) goto done;
        }
    }
    for(int b = 0; b < nBatch; b++){
        const sptt_sample *s = &aBatch[b];
        long T = s->n_tokens;
        snprintf(zName, sizeof zName, "batch.%d.tokens", b);
        if( (rc = dump_add(&d, zName, "I32", s->tokens, 1, T, 0, 0, 0)) ) goto done;
        snprintf(zName, sizeof zName, "batch.%d.targets", b);
        if( (rc = dump_add(&d, zName, "I32", s->targets, 1, T, 0, 0, 0)) ) goto done;
        snprintf(zName, sizeof zName, "batch.%d.positions", b);
        if( (rc = dump_add(&d, zName, "I32", aPos[b], 2, T, 3, 0, 0)) ) goto done;
        if( s->n_frames ){
            snprintf(zName, sizeof zName, "batch.%d.pixels", b);
            rc = dump_add(&d, zName, "F32", s->pixels, 4, s->n_frames, c->frame_h, c->frame_w, 3);
            if( rc ) goto done;
        }
        snprintf(zName, sizeof zName, "batch.%d.logits", b);
        if( (rc = dump_add(&d, zName, "F32", aLogits[b], 2, T, c->vocab_size, 0, 0)) ) goto done;
    }
    if( (rc = dump_add(&d, "loss", "F32", &loss, 1, 1, 0, 0, 0)) ) goto done;
    int nMerge = 0;
    const int32_t *aMerge = tok ? sptt_tokenizer_merges(tok, &nMerge) : NULL;
    if( nMerge ){
        if( (rc = dump_add(&d, "tokenizer.merges", "I32", aMerge, 2, nMerge, 2, 0, 0)) ) goto done;
    }

    zCfg = sptt_config_to_json(c);
    meta = json_object();
    if( !zCfg || !meta ){ rc = SPTT_ENOMEM; goto done; }
    json_object_set_new(meta, "format", json_string("sptt-step-dump"));
    json_object_set_new(meta, "version", json_string("1"));
    json_object_set_new(meta, "toolkit", json_string(SPTT_VERSION));
    json_object_set_new(meta, "config", json_string(zCfg));
    snprintf(zNum, sizeof zNum, "%.9g", (double)loss);
    json_object_set_new(meta, "loss", json_string(zNum));
    snprintf(zNum, sizeof zNum, "%ld", nLabTotal);
    json_object_set_new(meta, "n_labelled", json_string(zNum));
    snprintf(zNum, sizeof zNum, "%d", nBatch);
    json_object_set_new(meta, "batch", json_string(zNum));
    rc = dump_write(&d, meta, zPath);
done:
    if( aLogits ) for(int b = 0; b < nBatch; b++) free(aLogits[b]);
    if( aPos ) for(int b = 0; b < nBatch; b++) free(aPos[b]);
    free(aLogits);
    free(aPos);
    free(d.a);
    free(zCfg);
    json_decref(meta);
    return rc;
}
