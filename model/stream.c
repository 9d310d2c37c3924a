/*
** Streaming inference (sptt_stream.h): the float instantiation of kern_stream.inc over a model's
** parameters. The double instantiation runs in the tests.
*/
#pragma GCC diagnostic ignored "-Wunused-function"   /* the training pass's functions, unused here */
#include "sptt_stream.h"
#include "sptt_model_int.h"
#include "kern_stream.inc"

struct sptt_stream {
    kstream *k;
};

int sptt_stream_create(sptt_model *m, const sptt_stream_opts *o, sptt_stream **ppS)
{
    sptt_stream_opts d = { 0, SPTT_STREAM_TRAIN, 0 };
    *ppS = NULL;
    if( !o ) o = &d;
    if( o->variant != SPTT_STREAM_TRAIN && o->variant != SPTT_STREAM_OFFICIAL ){
        return sptt_fail(SPTT_EINVAL, "stream: variant %d is neither train nor official", o->variant);
    }
    sptt_stream *s = sptt_calloc(1, sizeof *s);
    if( !s ) return SPTT_ENOMEM;
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
    kstream_free(s->k);
    free(s);
}

int sptt_stream_push_frame(sptt_stream *s, const float *frame) { return kstream_push_frame(s->k, frame); }
int sptt_stream_push_tokens(sptt_stream *s, const int32_t *aTok, int n) { return kstream_push_tokens(s->k, aTok, n); }
int sptt_stream_flush(sptt_stream *s) { return kstream_flush(s->k); }

const float *sptt_stream_logits(const sptt_stream *s, int64_t *pAt)
{
    if( pAt ) *pAt = s->k->nFinal - 1;
    return s->k->nFinal > 0 ? s->k->logits : NULL;
}

const float *sptt_stream_all_logits(const sptt_stream *s, int64_t *pn)
{
    if( pn ) *pn = s->k->o.keep_logits ? s->k->nFinal : 0;
    return s->k->o.keep_logits ? s->k->allLogits : NULL;
}

int sptt_stream_ask(sptt_stream *s, const int32_t *aPrompt, int nPrompt, int maxNew, int32_t *aOut, int *pnOut)
{
    return kstream_ask(s->k, aPrompt, nPrompt, maxNew, aOut, pnOut);
}

void sptt_stream_info_get(const sptt_stream *s, sptt_stream_info *p)
{
    const kstream *k = s->k;
    memset(p, 0, sizeof *p);
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
    const kstream_layer *L = &s->k->lay[l];
    memset(p, 0, sizeof *p);
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
