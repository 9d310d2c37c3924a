/*
** Streaming inference (sptt_stream.h): the float instantiation of kern_stream.inc over a model's
** parameters. The double instantiation runs in the tests. Built with SPTT_CUDA (bin-cuda's
** sptt-stream), a stream of device 1 runs on a GPU copy of the model instead (sptt_cuda.h), each
** call handed to its sptt_cuda_stream_* twin.
*/
#pragma GCC diagnostic ignored "-Wunused-function"   /* the training pass's functions, unused here */
#include "sptt_stream.h"
#include "sptt_model_int.h"
#include "kern_stream.inc"
#ifdef SPTT_CUDA
#include "sptt_cuda.h"
#endif

struct sptt_stream {
    kstream *k;
#ifdef SPTT_CUDA
    sptt_cuda_model *gm;     /* device 1: the model's GPU copy (owned) and the stream on it */
    sptt_cuda_stream *g;
#endif
};

#ifdef SPTT_CUDA
static int cuda_create(sptt_model *m, const sptt_stream_opts *o, sptt_stream *s)
{
    int rc;
    if( sptt_cuda_device_count() < 1 ) return sptt_fail(SPTT_EIO, "stream: device cuda: no CUDA device here");
    if( (rc = sptt_cuda_set_device(0)) || (rc = sptt_cuda_model_create(m, &s->gm)) ) return rc;
    return sptt_cuda_stream_create(s->gm, o->anchor_window, o->variant == SPTT_STREAM_OFFICIAL, o->keep_logits, &s->g);
}
#define ON_GPU(s, call) do{ if( (s)->g ) return call; }while(0)
#else
#define ON_GPU(s, call) do{}while(0)
#endif

int sptt_stream_create(sptt_model *m, const sptt_stream_opts *o, sptt_stream **ppS)
{
    sptt_stream_opts d = { 0, SPTT_STREAM_TRAIN, 0, 0 };
    *ppS = NULL;
    if( !o ) o = &d;
    if( o->variant != SPTT_STREAM_TRAIN && o->variant != SPTT_STREAM_OFFICIAL ){
        return sptt_fail(SPTT_EINVAL, "stream: variant %d is neither train nor official", o->variant);
    }
    if( o->device != 0 && o->device != 1 ) return sptt_fail(SPTT_EINVAL, "stream: device %d is neither cpu nor cuda", o->device);
    sptt_stream *s = sptt_calloc(1, sizeof *s);
    if( !s ) return SPTT_ENOMEM;
    if( o->device == 1 ){
#ifdef SPTT_CUDA
        int rc = cuda_create(m, o, s);
        if( rc ){
            sptt_stream_free(s);
            return rc;
        }
        *ppS = s;
        return SPTT_OK;
#else
        free(s);
        return sptt_fail(SPTT_EINVAL, "stream: device cuda: this build has no CUDA; make cuda builds bin-cuda/sptt-stream");
#endif
    }
    kstream_opts ko = { o->anchor_window, o->variant == SPTT_STREAM_OFFICIAL, o->keep_logits };
    int rc = kstream_create(m->k, &ko, &s->k);
    if( rc ){
        free(s);
        return rc;
    }
    *ppS = s;
    return SPTT_OK;
}

void sptt_stream_free(sptt_stream *s)
{
    if( !s ) return;
#ifdef SPTT_CUDA
    sptt_cuda_stream_free(s->g);
    sptt_cuda_model_free(s->gm);
#endif
    kstream_free(s->k);
    free(s);
}

int sptt_stream_push_frame(sptt_stream *s, const float *frame)
{
    ON_GPU(s, sptt_cuda_stream_push_frame(s->g, frame));
    return kstream_push_frame(s->k, frame);
}

int sptt_stream_push_tokens(sptt_stream *s, const int32_t *aTok, int n)
{
    ON_GPU(s, sptt_cuda_stream_push_tokens(s->g, aTok, n));
    return kstream_push_tokens(s->k, aTok, n);
}

int sptt_stream_flush(sptt_stream *s)
{
    ON_GPU(s, sptt_cuda_stream_flush(s->g));
    return kstream_flush(s->k);
}

const float *sptt_stream_logits(const sptt_stream *s, int64_t *pAt)
{
    ON_GPU(s, sptt_cuda_stream_logits(s->g, pAt));
    if( pAt ) *pAt = s->k->nFinal - 1;
    return s->k->nFinal > 0 ? s->k->logits : NULL;
}

const float *sptt_stream_all_logits(const sptt_stream *s, int64_t *pn)
{
    ON_GPU(s, sptt_cuda_stream_all_logits(s->g, pn));
    if( pn ) *pn = s->k->o.keep_logits ? s->k->nFinal : 0;
    return s->k->o.keep_logits ? s->k->allLogits : NULL;
}

int sptt_stream_ask(sptt_stream *s, const int32_t *aPrompt, int nPrompt, int maxNew, int32_t *aOut, int *pnOut)
{
    ON_GPU(s, sptt_cuda_stream_ask(s->g, aPrompt, nPrompt, maxNew, aOut, pnOut));
    return kstream_ask(s->k, aPrompt, nPrompt, maxNew, aOut, pnOut);
}

void sptt_stream_info_get(const sptt_stream *s, sptt_stream_info *p)
{
    const kstream *k = s->k;
    memset(p, 0, sizeof *p);
#ifdef SPTT_CUDA
    if( s->g ){
        sptt_cuda_stream_info(s->g, &p->tokens, &p->final, &p->groups, &p->state_bytes, &p->scratch_bytes);
        return;
    }
#endif
    p->tokens = k->nTok;
    p->final = k->nFinal;
    p->groups = k->nGroup;
    size_t b = sizeof(ktok) * (size_t)k->metaCap + sizeof(REAL) * (size_t)k->m->cfg.vocab_size;
    for(int l = 0; l < k->m->cfg.n_layer; l++) b += ks_bytes_layer(k, &k->lay[l]);
    p->state_bytes = b;
    p->scratch_bytes = sizeof(REAL) * k->sc.cap;
}

void sptt_stream_layer_get(const sptt_stream *s, int l, sptt_stream_layer *p)
{
    memset(p, 0, sizeof *p);
#ifdef SPTT_CUDA
    if( s->g ){
        sptt_cuda_stream_layer(s->g, l, &p->kind, &p->kv_rows, &p->kv_cap, &p->pending, &p->queued, &p->done, &p->updates,
                               &p->last_update_at);
        return;
    }
#endif
    const kstream_layer *L = &s->k->lay[l];
    p->kind = L->kind;
    p->kv_rows = L->kv.n;
    p->kv_cap = L->kv.cap;
    p->queued = L->nq;
    p->done = L->done;
    if( L->kind == SPTT_LAYER_TTT ){
        p->pending = L->t.np;
        p->updates = L->t.nUpd;
        p->last_update_at = L->t.lastUpdAt;
    }
}
