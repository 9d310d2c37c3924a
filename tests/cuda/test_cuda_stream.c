/*
** The GPU stream (sptt_cuda_stream_*, model/cuda/cuda_stream.cuh) against the training pass and
** the CPU stream (built by `make cuda`; exits 77 with a SKIP line where no GPU is found).
**
** Logits: a stream of frames pushed one at a time, text between the groups and a flush at the
** end gives every token's logits; against the double training pass over the same sequence,
** norm-wise, the GPU's error must stay within test_cuda_model's bound e_gpu <= 16 e_cpu + 64 u,
** e_cpu the CPU float stream's error against the same reference (u = 2^-24).
** Schedule: after every push each layer's counters (cached rows, pending and queued rows, rows
** done, updates and the token that ran the last one) equal the CPU stream's: the same batches,
** the same conv delay, updates at the same tokens.
** Answers: the GPU's greedy answers equal the CPU's token for token, in both variants, and after
** an answer the stream goes on from the question: frames pushed after it, then a flush, give the
** training pass's logits over frames, question, frames.
** Anchor window: the caches stay bounded and the state's size constant; no training pass sees
** only a window of anchors, so the reference is the stream itself in double (the kernels' double
** instantiation of kern_stream.inc), with the same bound over the newest logits after each group.
*/
#include "model_testutil.h"   /* the double kernels (kmodel), build_sequence */
#include "kern_stream.inc"    /* and the double stream */
#include "sptt_cuda.h"
#include "sptt_stream.h"

#include <stdarg.h>
#include <stdlib.h>

#define U32 (1.0 / 16777216.0)

static int nFail;

static void report(int ok, const char *zFmt, ...)
{
    va_list ap;
    va_start(ap, zFmt);
    printf("%s - ", ok ? "ok" : "not ok");
    vprintf(zFmt, ap);
    printf("\n");
    va_end(ap);
    nFail += !ok;
}

/* |x - ref| / |ref| over n values (ref double or float) */
static double rel_d(const float *x, const double *ref, size_t n)
{
    double se = 0, sr = 0;
    for(size_t i = 0; i < n; i++){
        double e = (double)x[i] - ref[i];
        se += e * e;
        sr += ref[i] * ref[i];
    }
    return se != se ? se : sqrt(se) / (sr > 0 ? sqrt(sr) : 1e-300);
}

/* both streams' layers after a push: 1 where every counter agrees */
static int same_schedule(const sptt_config *c, sptt_stream *cs, sptt_cuda_stream *gs, const char *zCase, const char *zWhen)
{
    for(int l = 0; l < c->n_layer; l++){
        sptt_stream_layer a;
        sptt_stream_layer_get(cs, l, &a);
        int kind, kvRows, kvCap, pending, queued;
        int64_t done, upd, lastAt;
        sptt_cuda_stream_layer(gs, l, &kind, &kvRows, &kvCap, &pending, &queued, &done, &upd, &lastAt);
        if( kind != a.kind || kvRows != a.kv_rows || pending != a.pending || queued != a.queued || done != a.done ||
            upd != a.updates || lastAt != a.last_update_at ){
            report(0, "%s: %s, layer %d: gpu cached %d pending %d queued %d done %lld updates %lld (last at %lld); "
                   "cpu %d %d %d %lld %lld (%lld)", zCase, zWhen, l, kvRows, pending, queued, (long long)done, (long long)upd,
                   (long long)lastAt, a.kv_rows, a.pending, a.queued, (long long)a.done, (long long)a.updates,
                   (long long)a.last_update_at);
            return 0;
        }
    }
    return 1;
}

/* One case's pieces: a host model with its parameters moved by sd (the gates off zero), its
** double twin, a GPU copy, and a CPU and a GPU stream over them (anchor window, variant, every
** token's logits kept or not); the sequence and its text, where the case builds one */
typedef struct rig {
    sptt_model *h;
    kmodel *k;
    sptt_cuda_model *g;
    sptt_stream *cs;
    sptt_cuda_stream *gs;
    sptt_sample s;
    int32_t *aText;
} rig;

static int rig_open(rig *r, const sptt_config *c, double sd, uint64_t seed, int anchor, int variant, int keep)
{
    size_t n = 0;
    memset(r, 0, sizeof *r);
    if( sptt_model_create(c, 11, &r->h) || kmodel_create(c, 11, &r->k) ) return 1;
    float *p = sptt_model_params(r->h, &n);
    sptt_rng rng;
    sptt_rng_seed(&rng, seed);
    for(size_t i = 0; i < n; i++) p[i] += (float)(sd * sptt_rng_normal(&rng));
    for(size_t i = 0; i < n; i++) r->k->params[i] = p[i];
    sptt_stream_opts o = { anchor, variant, keep, 0 };
    return sptt_cuda_model_create(r->h, &r->g) || sptt_stream_create(r->h, &o, &r->cs) ||
           sptt_cuda_stream_create(r->g, anchor, variant == SPTT_STREAM_OFFICIAL, keep, &r->gs);
}

static void rig_close(rig *r)
{
    sptt_cuda_stream_free(r->gs);
    sptt_stream_free(r->cs);
    sptt_sample_free(&r->s);
    free(r->aText);
    sptt_cuda_model_free(r->g);
    kmodel_free(r->k);
    sptt_model_free(r->h);
}

/* Pushes segment i of the sequence (its frames one at a time, then its text) into both streams,
** checking the schedule after every push; f and kt count frames and text tokens pushed */
static int push_segment(const sptt_config *c, const seg *sg, const sptt_sample *s, const int32_t *aText, int *f, int *kt,
                        sptt_stream *cs, sptt_cuda_stream *gs, const char *zCase)
{
    size_t nFrame = (size_t)c->frame_h * c->frame_w * 3;
    char zWhen[64];
    for(int g = 0; g < 2 * sg->groups; g++, (*f)++){
        const float *fr = s->pixels + (size_t)*f * nFrame;
        if( sptt_stream_push_frame(cs, fr) || sptt_cuda_stream_push_frame(gs, fr) ) return 0;
        snprintf(zWhen, sizeof zWhen, "after frame %d", *f);
        if( !same_schedule(c, cs, gs, zCase, zWhen) ) return 0;
    }
    for(int t = 0; t < sg->nText; t++, (*kt)++){
        if( sptt_stream_push_tokens(cs, aText + *kt, 1) || sptt_cuda_stream_push_tokens(gs, aText + *kt, 1) ) return 0;
        snprintf(zWhen, sizeof zWhen, "after text token %d", *kt);
        if( !same_schedule(c, cs, gs, zCase, zWhen) ) return 0;
    }
    return 1;
}

/* Every token's logits of both streams against the double training pass over s */
static void check_logits(const char *zCase, const sptt_config *c, kmodel *k, const sptt_sample *s, sptt_stream *cs,
                         sptt_cuda_stream *gs)
{
    int T = s->n_tokens, V = c->vocab_size;
    int64_t nc = 0, ng = 0;
    const float *lc = sptt_stream_all_logits(cs, &nc), *lg = sptt_cuda_stream_all_logits(gs, &ng);
    if( nc != T || ng != T ){
        report(0, "%s: %lld (cpu) and %lld (gpu) tokens finished of %d", zCase, (long long)nc, (long long)ng, T);
        return;
    }
    double loss;
    kmodel_forward(k, s, SPTT_FWD_ALL_LOGITS, &loss, NULL);
    double eC = rel_d(lc, k->logits, (size_t)T * V), eG = rel_d(lg, k->logits, (size_t)T * V), bound = 16 * eC + 64 * U32;
    report(eG <= bound, "%s: %d tokens, logits against the training pass: rel err cpu %.2e gpu %.2e bound %.2e", zCase, T, eC, eG,
           bound);
}

static void logits_case(const char *zCase, const sptt_config *c, const seg *aSeg, int nSeg, int variant)
{
    rig r;
    if( rig_open(&r, c, 0.05, 5, 0, variant, 1) ){
        report(0, "%s: create: %s", zCase, sptt_errmsg());
        goto end;
    }
    build_sequence(c, aSeg, nSeg, 3, &r.s, &r.aText);
    int f = 0, kt = 0, ok = 1;
    for(int i = 0; i < nSeg && ok; i++) ok = push_segment(c, &aSeg[i], &r.s, r.aText, &f, &kt, r.cs, r.gs, zCase);
    if( ok && (sptt_stream_flush(r.cs) || sptt_cuda_stream_flush(r.gs)) ){
        report(0, "%s: flush: %s", zCase, sptt_errmsg());
        goto end;
    }
    if( !ok ){
        report(0, "%s: the pushes stopped (%s)", zCase, sptt_errmsg());
        goto end;
    }
    report(same_schedule(c, r.cs, r.gs, zCase, "after the flush"), "%s: the same schedule after every push and the flush", zCase);
    check_logits(zCase, c, r.k, &r.s, r.cs, r.gs);
end:
    rig_close(&r);
}

/* Questions after 5 groups and after 7; then frames and a flush, against the training pass over
** frames, questions, frames (the answers left no trace) */
static void answers_case(const char *zCase, const sptt_config *c, int variant)
{
    rig r;
    // larger weights, so greedy answers are not one token repeated
    if( rig_open(&r, c, 0.3, 8, 0, variant, 1) ){
        report(0, "%s: create: %s", zCase, sptt_errmsg());
        goto end;
    }
    // the sequence: 5 groups, question 1 (5 tokens), 2 groups, question 2 (4 tokens), 2 groups
    seg a[] = { { 5, 5 }, { 2, 4 }, { 2, 0 } };
    build_sequence(c, a, 3, 3, &r.s, &r.aText);
    int f = 0, kt = 0, ok = 1, nSame = 0, nTok = 0;
    for(int i = 0; i < 3 && ok; i++){
        seg frames = { a[i].groups, 0 };
        ok = push_segment(c, &frames, &r.s, r.aText, &f, &kt, r.cs, r.gs, zCase);
        if( !ok || a[i].nText == 0 ) continue;
        int32_t ac[12], ag[12];
        int nc = 0, ng = 0;
        if( sptt_stream_ask(r.cs, r.aText + kt, a[i].nText, 12, ac, &nc) ||
            sptt_cuda_stream_ask(r.gs, r.aText + kt, a[i].nText, 12, ag, &ng) ){
            report(0, "%s: ask: %s", zCase, sptt_errmsg());
            goto end;
        }
        kt += a[i].nText;
        int same = nc == ng && memcmp(ac, ag, sizeof(int32_t) * (size_t)nc) == 0;
        nSame += same;
        nTok += nc;
        printf("#   question %d: cpu answer", i + 1);
        for(int j = 0; j < nc; j++) printf(" %d", ac[j]);
        printf(" | gpu");
        for(int j = 0; j < ng; j++) printf(" %d", ag[j]);
        printf("\n");
        ok = same_schedule(c, r.cs, r.gs, zCase, "after an answer");
    }
    if( !ok ) goto end;
    report(nSame == 2 && nTok > 0, "%s: both answers the CPU stream's, token for token (%d tokens)", zCase, nTok);
    if( sptt_stream_flush(r.cs) || sptt_cuda_stream_flush(r.gs) ){
        report(0, "%s: flush: %s", zCase, sptt_errmsg());
        goto end;
    }
    check_logits(zCase, c, r.k, &r.s, r.cs, r.gs);
end:
    rig_close(&r);
}

/* 40 groups with an anchor window of 16: cached rows bounded, the state's size constant from group
** 20 on, the schedule the CPU's; the newest logits after each group against the double stream's */
static void anchor_case(const sptt_config *c)
{
    const char *zCase = "anchor window 16";
    rig r;
    kstream *ks = NULL;
    float *frame = NULL;
    kstream_opts ko = { 16, 0, 0 };
    if( rig_open(&r, c, 0.05, 5, 16, SPTT_STREAM_TRAIN, 0) || kstream_create(r.k, &ko, &ks) ){
        report(0, "%s: create: %s", zCase, sptt_errmsg());
        goto end;
    }
    size_t nPix = (size_t)c->frame_h * c->frame_w * 3, b20 = 0, b40 = 0, scratch;
    frame = calloc(nPix, sizeof(float));
    int ok = 1, bounded = 1, V = c->vocab_size;
    double seC = 0, seG = 0, sr = 0;
    for(int grp = 1; grp <= 40 && ok; grp++){
        for(size_t i = 0; i < nPix; i++) frame[i] = (float)sin(0.37 * (double)i + grp);
        for(int twice = 0; twice < 2 && ok; twice++)
            ok = !sptt_stream_push_frame(r.cs, frame) && !sptt_cuda_stream_push_frame(r.gs, frame) && !kstream_push_frame(ks, frame);
        int32_t q = SPTT_TOK_BYTE0 + grp;
        if( ok && grp % 7 == 0 )
            ok = !sptt_stream_push_tokens(r.cs, &q, 1) && !sptt_cuda_stream_push_tokens(r.gs, &q, 1) && !kstream_push_tokens(ks, &q, 1);
        if( !ok ) break;
        ok = same_schedule(c, r.cs, r.gs, zCase, "after a group");
        for(int l = 0; l < c->n_layer && ok; l++){
            int kind, kvRows, kvCap, pending, queued;
            int64_t done, upd, lastAt;
            sptt_cuda_stream_layer(r.gs, l, &kind, &kvRows, &kvCap, &pending, &queued, &done, &upd, &lastAt);
            bounded &= kvRows <= (kind == SPTT_LAYER_FULL ? 15 : c->window - 1);
        }
        int64_t t0, t1;
        int ng;
        size_t bytes;
        sptt_cuda_stream_info(r.gs, &t0, &t1, &ng, &bytes, &scratch);
        if( grp == 20 ) b20 = bytes;
        if( grp == 40 ) b40 = bytes;
        int64_t ac = 0, ag = 0;
        const float *lc = sptt_stream_logits(r.cs, &ac), *lg = sptt_cuda_stream_logits(r.gs, &ag);
        if( !lc || !lg || ac != ag || ac != ks->nFinal - 1 ){
            report(0, "%s: group %d: the newest logits are after tokens %lld (cpu), %lld (gpu), %lld (double)", zCase, grp,
                   (long long)ac, (long long)ag, (long long)ks->nFinal - 1);
            goto end;
        }
        for(int v = 0; v < V; v++){
            double ref = ks->logits[v];
            seC += (lc[v] - ref) * (lc[v] - ref);
            seG += (lg[v] - ref) * (lg[v] - ref);
            sr += ref * ref;
        }
    }
    if( !ok ){
        report(0, "%s: the pushes stopped (%s)", zCase, sptt_errmsg());
        goto end;
    }
    report(bounded && b20 == b40, "%s: 40 groups, cached rows within the windows, state %zu bytes at group 20 and %zu at 40",
           zCase, b20, b40);
    double eC = sqrt(seC / sr), eG = seG == seG ? sqrt(seG / sr) : seG, bound = 16 * eC + 64 * U32;
    report(eG <= bound, "%s: the newest logits after each group against the double stream's: rel err cpu %.2e gpu %.2e bound %.2e",
           zCase, eC, eG, bound);
end:
    free(frame);
    kstream_free(ks);
    rig_close(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if( sptt_cuda_device_count() < 1 ){
        printf("SKIP test_cuda_stream: no CUDA device\n");
        return 77;
    }
    sptt_cuda_set_device(0);
    printf("# %s\n", sptt_cuda_device_name());
    sptt_config c;
    // the CPU stream test's tiny hybrid (ttt, full, ttt, full), chunk 8, window 10, one group = 6 tokens
    sptt_config_tiny(&c);
    c.chunk = 8;
    c.window = 10;
    seg a1[] = { { 6, 11 } };
    logits_case("video then text", &c, a1, 1, SPTT_STREAM_TRAIN);
    seg a2[] = { { 3, 5 }, { 2, 3 }, { 4, 9 } };
    logits_case("text between groups", &c, a2, 3, SPTT_STREAM_TRAIN);
    answers_case("answers, train variant", &c, SPTT_STREAM_TRAIN);
    sptt_config e = c;
    e.use_muon = 0;       // the official variant's pass: post-norm, no Newton-Schulz
    e.prenorm = 0;
    answers_case("answers, official variant", &e, SPTT_STREAM_OFFICIAL);
    anchor_case(&c);
    sptt_config d = c;
    d.n_layer = 8;
    d.anchor_every = 4;   // ttt ttt ttt full ...
    seg a3[] = { { 7, 4 }, { 2, 6 } };
    logits_case("eight layers", &d, a3, 2, SPTT_STREAM_TRAIN);
    d.use_ttt = 0;        // swa swa swa full ...
    logits_case("sliding-window layers", &d, a3, 2, SPTT_STREAM_TRAIN);
    seg a4[] = { { 4, 7 }, { 3, 6 } };
    logits_case("official variant over frames and text", &e, a4, 2, SPTT_STREAM_OFFICIAL);
    e.use_conv = 0;
    logits_case("post-norm, no Newton-Schulz, no conv", &e, a4, 2, SPTT_STREAM_TRAIN);
    sptt_config w = c;
    w.hidden = 128;       // wider: heads of 32, fast heads of 64, 16 patches a frame, a chunk of 16
    w.head_dim = 32;
    w.ttt_heads = 2;
    w.ffn = 192;
    w.ttt_rope_dim = 8;
    w.rope_sections[0] = 8;
    w.rope_sections[1] = 4;
    w.rope_sections[2] = 4;
    w.frame_w = w.frame_h = 16;
    w.chunk = 16;
    w.window = 24;
    seg a5[] = { { 5, 9 }, { 3, 20 } };
    logits_case("hidden 128", &w, a5, 2, SPTT_STREAM_TRAIN);
    printf("%s: %d failed\n", nFail ? "FAIL" : "PASS", nFail);
    return nFail ? 1 : 0;
}
