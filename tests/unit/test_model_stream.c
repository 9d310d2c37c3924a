/*
** Streaming inference (model/sptt_stream.h, model/kern/kern_stream.inc) against the training pass:
** the logits of every token of a stream (video frames one at a time, text between and after them)
** equal sptt_model_forward's over the same sequence, in float through the library and in double
** through the templates, across several chunk boundaries, with the conv's delay, momentum and
** Newton-Schulz on; with an anchor window the caches stop growing; updates run exactly when token
** (c+1)C arrives; answers equal the greedy decoding of the training pass (sptt-eval's method).
*/
#include <criterion/criterion.h>

#include "model_testutil.h"
#include "kern_stream.inc"
#include "sptt_stream.h"

/* A tiny hybrid (ttt, full, ttt, full) with chunk 8 and window 10; one group is 6 tokens. */
static void stream_config(sptt_config *c)
{
    sptt_config_tiny(c);
    c->chunk = 8;
    c->window = 10;
}

/* Streams the sequence through the float library, frame by frame; flush at the end. */
static void stream_sequence(sptt_stream *st, const sptt_config *c, const seg *aSeg, int nSeg, const sptt_sample *s,
                            const int32_t *aText)
{
    size_t nFrame = (size_t)c->frame_h * c->frame_w * 3;
    int f = 0, kt = 0;
    for(int i = 0; i < nSeg; i++){
        for(int g = 0; g < 2 * aSeg[i].groups; g++, f++){
            cr_assert_eq(sptt_stream_push_frame(st, s->pixels + (size_t)f * nFrame), SPTT_OK, "%s", sptt_errmsg());
        }
        for(int t = 0; t < aSeg[i].nText; t++, kt++){
            cr_assert_eq(sptt_stream_push_tokens(st, aText + kt, 1), SPTT_OK, "%s", sptt_errmsg());
        }
    }
    cr_assert_eq(sptt_stream_flush(st), SPTT_OK);
}

static double max_abs_diff(const float *a, const float *b, size_t n, size_t *pAt)
{
    double w = 0;
    for(size_t i = 0; i < n; i++){
        double e = fabs((double)a[i] - (double)b[i]);
        if( !(e <= w) ){ w = e; *pAt = i; }
    }
    return w;
}

/* Float: the stream's logits of every token against the training pass's. */
static void float_case(sptt_config *c, const seg *aSeg, int nSeg, int variant, double tol)
{
    sptt_model *m;
    cr_assert_eq(sptt_model_create(c, 11, &m), SPTT_OK, "%s", sptt_errmsg());
    size_t nP;
    float *p = sptt_model_params(m, &nP);
    sptt_rng r;
    sptt_rng_seed(&r, 5);
    for(size_t i = 0; i < nP; i++) p[i] += (float)(0.05 * sptt_rng_normal(&r));   // gates off zero
    sptt_sample s;
    int32_t *aText;
    build_sequence(c, aSeg, nSeg, 3, &s, &aText);
    cr_assert_eq(sptt_model_forward(m, &s, SPTT_FWD_ALL_LOGITS, NULL, NULL), SPTT_OK, "%s", sptt_errmsg());
    int T;
    const float *ref = sptt_model_logits(m, &T);
    sptt_stream_opts o = { 0, variant, 1, 0 };
    sptt_stream *st;
    cr_assert_eq(sptt_stream_create(m, &o, &st), SPTT_OK, "%s", sptt_errmsg());
    stream_sequence(st, c, aSeg, nSeg, &s, aText);
    int64_t n;
    const float *got = sptt_stream_all_logits(st, &n);
    cr_assert_eq(n, T, "the stream finished %lld tokens of %d", (long long)n, T);
    size_t at = 0;
    double w = max_abs_diff(ref, got, (size_t)T * c->vocab_size, &at);
    double scale = 0;
    for(size_t i = 0; i < (size_t)T * c->vocab_size; i++) if( fabs(ref[i]) > scale ) scale = fabs(ref[i]);
    cr_expect(w < tol, "worst logit difference %.3g at token %zu (logits up to %.3g)", w, at / c->vocab_size, scale);
    // the update counter of the first TTT layer: every chunk but the newest
    sptt_stream_layer li;
    sptt_stream_layer_get(st, 0, &li);
    if( li.kind == SPTT_LAYER_TTT ) cr_expect_eq(li.updates, (T - 1) / c->chunk, "%lld updates over %d tokens", (long long)li.updates, T);
    if( li.kind == SPTT_LAYER_TTT ) cr_expect_eq(li.pending, T - li.updates * c->chunk);
    sptt_stream_free(st);
    sptt_sample_free(&s);
    free(aText);
    sptt_model_free(m);
}

Test(stream_float, equals_the_training_pass_video_then_text)
{
    sptt_config c;
    stream_config(&c);
    seg a[] = { { 6, 11 } };   // 48 tokens: 5 chunk boundaries, some inside groups
    float_case(&c, a, 1, SPTT_STREAM_TRAIN, 1e-4);
}

Test(stream_float, equals_the_training_pass_with_text_between_groups)
{
    sptt_config c;
    stream_config(&c);
    seg a[] = { { 3, 5 }, { 2, 3 }, { 4, 9 } };
    float_case(&c, a, 3, SPTT_STREAM_TRAIN, 1e-4);
}

Test(stream_float, equals_the_training_pass_postnorm_no_muon_no_conv)
{
    sptt_config c;
    stream_config(&c);
    c.use_muon = 0;
    c.prenorm = 0;
    c.use_conv = 0;
    seg a[] = { { 4, 7 }, { 3, 6 } };
    float_case(&c, a, 2, SPTT_STREAM_TRAIN, 1e-4);
}

Test(stream_float, official_variant_equals_the_postnorm_no_muon_training_pass)
{
    // the official variant differs from training only at an answer: over frames and text it is
    // the post-norm, Newton-Schulz-free pass
    sptt_config c;
    stream_config(&c);
    c.use_muon = 0;
    c.prenorm = 0;
    sptt_model *m;
    cr_assert_eq(sptt_model_create(&c, 11, &m), SPTT_OK);
    sptt_model_free(m);
    seg a[] = { { 5, 9 } };
    float_case(&c, a, 1, SPTT_STREAM_OFFICIAL, 1e-4);
}

Test(stream_float, swa_layers_and_a_model_of_eight_layers)
{
    sptt_config c;
    stream_config(&c);
    c.n_layer = 8;
    c.anchor_every = 4;   // ttt ttt ttt full ...
    seg a[] = { { 7, 4 }, { 2, 6 } };
    float_case(&c, a, 2, SPTT_STREAM_TRAIN, 1e-4);
    c.use_ttt = 0;        // swa swa swa full ...
    float_case(&c, a, 2, SPTT_STREAM_TRAIN, 1e-4);
}

/* Double, through the templates: the same equality to 1e-9. */
Test(stream_double, equals_the_training_pass)
{
    sptt_config c;
    stream_config(&c);
    kmodel *m;
    cr_assert_eq(kmodel_create(&c, 9, &m), SPTT_OK);
    perturb_params(m, 0.05, 4);
    seg a[] = { { 3, 5 }, { 3, 10 } };
    sptt_sample s;
    int32_t *aText;
    build_sequence(&c, a, 2, 7, &s, &aText);
    double loss;
    cr_assert_eq(kmodel_forward(m, &s, SPTT_FWD_ALL_LOGITS, &loss, NULL), SPTT_OK, "%s", sptt_errmsg());
    kstream_opts o = { 0, 0, 1 };
    kstream *st;
    cr_assert_eq(kstream_create(m, &o, &st), SPTT_OK);
    size_t nFrame = (size_t)c.frame_h * c.frame_w * 3;
    int f = 0, kt = 0;
    for(int i = 0; i < 2; i++){
        for(int g = 0; g < 2 * a[i].groups; g++, f++) cr_assert_eq(kstream_push_frame(st, s.pixels + (size_t)f * nFrame), SPTT_OK);
        cr_assert_eq(kstream_push_tokens(st, aText + kt, a[i].nText), SPTT_OK);
        kt += a[i].nText;
    }
    cr_assert_eq(kstream_flush(st), SPTT_OK);
    cr_assert_eq(st->nFinal, s.n_tokens);
    double w = 0;
    for(size_t i = 0; i < (size_t)s.n_tokens * c.vocab_size; i++){
        double e = fabs(st->allLogits[i] - m->logits[i]);
        if( e > w ) w = e;
    }
    cr_expect(w < 1e-9, "worst logit difference %.3g in double", w);
    kstream_free(st);
    sptt_sample_free(&s);
    free(aText);
    kmodel_free(m);
}

/* The delay: a conv layer holds the newest group back; without the conv nothing waits. */
Test(stream_float, the_conv_holds_back_one_group_per_ttt_layer)
{
    sptt_config c;
    stream_config(&c);   // ttt full ttt full: two TTT layers, so a group leaves the top two groups later
    sptt_model *m;
    cr_assert_eq(sptt_model_create(&c, 2, &m), SPTT_OK);
    sptt_stream *st;
    cr_assert_eq(sptt_stream_create(m, NULL, &st), SPTT_OK);
    float *frame = calloc((size_t)c.frame_h * c.frame_w * 3, sizeof(float));
    sptt_stream_info in;
    for(int g = 1; g <= 5; g++){
        cr_assert_eq(sptt_stream_push_frame(st, frame), SPTT_OK);
        cr_assert_eq(sptt_stream_push_frame(st, frame), SPTT_OK);
        sptt_stream_info_get(st, &in);
        // BOS and VIDEO_START 0 at once; group t (6 tokens with the next VIDEO_START) leaves the
        // top when group t+2 is pushed
        int64_t want = g < 3 ? 2 : 2 + 6 * (g - 2);
        cr_expect_eq(in.final, want, "after %d groups: %lld tokens finished, not %lld", g, (long long)in.final, (long long)want);
    }
    cr_assert_eq(sptt_stream_flush(st), SPTT_OK);
    sptt_stream_info_get(st, &in);
    cr_expect_eq(in.final, in.tokens);
    free(frame);
    sptt_stream_free(st);
    sptt_model_free(m);
}

/* (b) With an anchor window every cache stops growing: the state's bytes are the same after 20 and
** after 60 groups; without one the anchors' caches keep every token. */
Test(stream_float, anchor_window_keeps_the_caches_constant)
{
    sptt_config c;
    stream_config(&c);
    sptt_model *m;
    cr_assert_eq(sptt_model_create(&c, 2, &m), SPTT_OK);
    for(int bounded = 0; bounded < 2; bounded++){
        sptt_stream_opts o = { bounded ? 16 : 0, SPTT_STREAM_TRAIN, 0, 0 };
        sptt_stream *st;
        cr_assert_eq(sptt_stream_create(m, &o, &st), SPTT_OK);
        float *frame = calloc((size_t)c.frame_h * c.frame_w * 3, sizeof(float));
        size_t bytes20 = 0;
        for(int g = 1; g <= 60; g++){
            frame[0] = (float)g / 60;
            cr_assert_eq(sptt_stream_push_frame(st, frame), SPTT_OK);
            cr_assert_eq(sptt_stream_push_frame(st, frame), SPTT_OK);
            int32_t q = SPTT_TOK_BYTE0 + g;
            if( g % 7 == 0 ) cr_assert_eq(sptt_stream_push_tokens(st, &q, 1), SPTT_OK);
            sptt_stream_info in;
            sptt_stream_info_get(st, &in);
            for(int l = 0; l < c.n_layer; l++){
                sptt_stream_layer li;
                sptt_stream_layer_get(st, l, &li);
                int keep = li.kind == SPTT_LAYER_FULL ? (bounded ? 15 : -1) : c.window - 1;
                if( keep >= 0 ) cr_expect_leq(li.kv_rows, keep, "layer %d: %d cached rows", l, li.kv_rows);
                else cr_expect_eq(li.kv_rows, li.done, "layer %d: %d cached rows of %lld", l, li.kv_rows, (long long)li.done);
                if( li.kind == SPTT_LAYER_TTT ) cr_expect_leq(li.pending, c.chunk);
                cr_expect_leq(li.queued, 2 * 6 + 1, "layer %d: %d queued", l, li.queued);
            }
            if( g == 20 ) bytes20 = in.state_bytes;
            if( g == 60 ){
                if( bounded ) cr_expect_eq(in.state_bytes, bytes20, "state %zu bytes after 60 groups, %zu after 20", in.state_bytes, bytes20);
                else cr_expect_gt(in.state_bytes, bytes20);
            }
        }
        free(frame);
        sptt_stream_free(st);
    }
    sptt_model_free(m);
}

/* (c) Updates run exactly when token (c+1)C arrives: pushed one at a time, text only. */
Test(stream_float, updates_at_multiples_of_the_chunk)
{
    sptt_config c;
    stream_config(&c);
    sptt_model *m;
    cr_assert_eq(sptt_model_create(&c, 2, &m), SPTT_OK);
    sptt_stream *st;
    cr_assert_eq(sptt_stream_create(m, NULL, &st), SPTT_OK);
    for(int N = 2; N <= 5 * c.chunk + 3; N++){
        int32_t t = SPTT_TOK_BYTE0 + N % 200;
        cr_assert_eq(sptt_stream_push_tokens(st, &t, 1), SPTT_OK);
        for(int l = 0; l < c.n_layer; l++){
            sptt_stream_layer li;
            sptt_stream_layer_get(st, l, &li);
            if( li.kind != SPTT_LAYER_TTT ) continue;
            int64_t want = (N - 1) / c.chunk;
            cr_expect_eq(li.updates, want, "layer %d after %d tokens: %lld updates", l, N, (long long)li.updates);
            if( want ) cr_expect_eq(li.last_update_at, want * c.chunk);
            cr_expect_eq(li.pending, N - want * c.chunk);
        }
    }
    sptt_stream_free(st);
    sptt_model_free(m);
}

/* Greedy answers of the training pass, as sptt-eval decodes: the whole sequence again per token. */
static int offline_answer(sptt_model *m, const sptt_sample *base, const int32_t *aQ, int nQ, int maxNew, int32_t *aOut)
{
    const sptt_config *c = sptt_model_config(m);
    int n = 0;
    for(;;){
        sptt_sample s = *base;
        int T = base->n_tokens + nQ + 1 + n;
        s.n_tokens = T;
        s.tokens = malloc(sizeof(int32_t) * (size_t)T);
        s.targets = malloc(sizeof(int32_t) * (size_t)T);
        memcpy(s.tokens, base->tokens, sizeof(int32_t) * (size_t)base->n_tokens);
        memcpy(s.tokens + base->n_tokens, aQ, sizeof(int32_t) * (size_t)nQ);
        s.tokens[base->n_tokens + nQ] = SPTT_TOK_ANSWER;
        memcpy(s.tokens + base->n_tokens + nQ + 1, aOut, sizeof(int32_t) * (size_t)n);
        for(int i = 0; i < T; i++) s.targets[i] = -1;
        cr_assert_eq(sptt_model_forward(m, &s, SPTT_FWD_ALL_LOGITS, NULL, NULL), SPTT_OK);
        const float *row = sptt_model_logits(m, NULL) + (size_t)(T - 1) * c->vocab_size;
        int best = 0;
        for(int v = 1; v < c->vocab_size; v++) if( row[v] > row[best] ) best = v;
        free(s.tokens);
        free(s.targets);
        if( best == SPTT_TOK_EOS || n == maxNew ) break;
        aOut[n++] = best;
        if( n == maxNew ) break;
    }
    return n;
}

Test(stream_float, answers_equal_greedy_decoding_of_the_training_pass_and_the_stream_goes_on)
{
    sptt_config c;
    stream_config(&c);
    sptt_model *m;
    cr_assert_eq(sptt_model_create(&c, 21, &m), SPTT_OK);
    size_t nP;
    float *p = sptt_model_params(m, &nP);
    sptt_rng r;
    sptt_rng_seed(&r, 8);
    for(size_t i = 0; i < nP; i++) p[i] += (float)(0.3 * sptt_rng_normal(&r));
    seg a[] = { { 5, 0 } };
    sptt_sample s;
    int32_t *aText;
    build_sequence(&c, a, 1, 3, &s, &aText);
    sptt_stream *st;
    sptt_stream_opts o = { 0, SPTT_STREAM_TRAIN, 1, 0 };
    cr_assert_eq(sptt_stream_create(m, &o, &st), SPTT_OK);
    size_t nFrame = (size_t)c.frame_h * c.frame_w * 3;
    for(int f = 0; f < s.n_frames; f++) cr_assert_eq(sptt_stream_push_frame(st, s.pixels + (size_t)f * nFrame), SPTT_OK);
    int32_t q[5] = { 40, 41, 42, 43, 44 }, got[12], want[12];
    int nGot;
    cr_assert_eq(sptt_stream_ask(st, q, 5, 12, got, &nGot), SPTT_OK, "%s", sptt_errmsg());
    int nWant = offline_answer(m, &s, q, 5, 12, want);
    cr_expect_eq(nGot, nWant, "%d answer tokens, the training pass %d", nGot, nWant);
    cr_expect(nGot > 0);
    for(int i = 0; i < nGot && i < nWant; i++) cr_expect_eq(got[i], want[i], "answer token %d: %d, not %d", i, got[i], want[i]);
    // the stream holds the question, not the answer, and its video is not flushed: more frames
    // then a flush equal the training pass over frames, question, frames
    sptt_stream_info in;
    sptt_stream_info_get(st, &in);
    cr_expect_eq(in.tokens, s.n_tokens + 5);
    seg b[] = { { 5, 5 }, { 2, 0 } };
    sptt_sample s2;
    int32_t *aText2;
    build_sequence(&c, b, 2, 3, &s2, &aText2);
    memcpy(s2.tokens + 1 + 5 * 6, q, sizeof q);
    for(int f = s.n_frames; f < s2.n_frames; f++) cr_assert_eq(sptt_stream_push_frame(st, s2.pixels + (size_t)f * nFrame), SPTT_OK);
    cr_assert_eq(sptt_stream_flush(st), SPTT_OK);
    // build_sequence draws the pixels first, so the first 5 groups are the same
    cr_assert_eq(memcmp(s.pixels, s2.pixels, sizeof(float) * (size_t)s.n_frames * nFrame), 0);
    cr_assert_eq(sptt_model_forward(m, &s2, SPTT_FWD_ALL_LOGITS, NULL, NULL), SPTT_OK);
    int64_t n;
    const float *all = sptt_stream_all_logits(st, &n);
    cr_assert_eq(n, s2.n_tokens);
    size_t at = 0;
    double w = max_abs_diff(sptt_model_logits(m, NULL), all, (size_t)n * c.vocab_size, &at);
    double scale = 0;
    for(size_t i = 0; i < (size_t)n * c.vocab_size; i++) if( fabs(all[i]) > scale ) scale = fabs(all[i]);
    // a fresh stream over the same sequence, for the rounding this model amplifies
    sptt_stream *fresh;
    cr_assert_eq(sptt_stream_create(m, &o, &fresh), SPTT_OK);
    for(int f = 0; f < 10; f++) cr_assert_eq(sptt_stream_push_frame(fresh, s2.pixels + (size_t)f * nFrame), SPTT_OK);
    cr_assert_eq(sptt_stream_push_tokens(fresh, q, 5), SPTT_OK);
    for(int f = 10; f < 14; f++) cr_assert_eq(sptt_stream_push_frame(fresh, s2.pixels + (size_t)f * nFrame), SPTT_OK);
    cr_assert_eq(sptt_stream_flush(fresh), SPTT_OK);
    size_t at2 = 0;
    double w2 = max_abs_diff(sptt_model_logits(m, NULL), sptt_stream_all_logits(fresh, NULL), (size_t)n * c.vocab_size, &at2);
    size_t at3 = 0;
    double w3 = max_abs_diff(all, sptt_stream_all_logits(fresh, NULL), (size_t)n * c.vocab_size, &at3);
    sptt_stream_free(fresh);
    // the answer left no trace: the stream is the fresh one to the bit; both equal the training
    // pass to float rounding, which this model's larger weights (logits up to ~8) scale up
    cr_expect_eq(w3, 0, "the stream after an answer differs from a fresh one by %.3g at token %zu", w3, at3 / c.vocab_size);
    cr_expect(w < 1e-4 * scale && w2 < 1e-4 * scale, "after the answer: worst logit difference %.3g at token %zu "
              "(logits up to %.3g; fresh %.3g at %zu)", w, at / c.vocab_size, scale, w2, at2 / c.vocab_size);
    sptt_stream_free(st);
    sptt_sample_free(&s);
    sptt_sample_free(&s2);
    free(aText);
    free(aText2);
    sptt_model_free(m);
}

/* The official variant at an answer: each pending cache becomes the last C tokens, overlapping
** the chunk consumed last, and the first answer token runs an update training never runs. */
Test(stream_double, official_reset_to_the_last_chunk_and_the_extra_update)
{
    sptt_config c;
    stream_config(&c);
    kmodel *m;
    cr_assert_eq(kmodel_create(&c, 9, &m), SPTT_OK);
    perturb_params(m, 0.05, 4);
    for(int official = 0; official < 2; official++){
        kstream_opts o = { 0, official, 0 };
        kstream *S, *A;
        cr_assert_eq(kstream_create(m, &o, &S), SPTT_OK);
        int32_t text[12];
        for(int i = 0; i < 12; i++) text[i] = SPTT_TOK_BYTE0 + 3 * i;
        cr_assert_eq(kstream_push_tokens(S, text, 12), SPTT_OK);   // 13 tokens: one update, 5 pending
        kstream_ttt *t = &S->lay[0].t;
        cr_assert_eq(t->nUpd, 1);
        cr_assert_eq(t->np, 5);
        cr_assert_eq(kstream_clone(S, &A), SPTT_OK);
        int32_t ans = SPTT_TOK_ANSWER;
        cr_assert_eq(kstream_push_tokens(A, &ans, 1), SPTT_OK);  // 14 tokens, 6 pending
        kstream_ttt *a = &A->lay[0].t;
        REAL *pend = malloc(sizeof(REAL) * 6 * c.hidden), *last2 = malloc(sizeof(REAL) * 2 * c.hidden);
        memcpy(pend, a->pk, sizeof(REAL) * 6 * c.hidden);
        if( official ){
            cr_assert_eq(a->nq, c.chunk);
            memcpy(last2, a->qk + (size_t)6 * c.hidden, sizeof(REAL) * 2 * c.hidden);   // tokens 6 and 7
            ks_official_reset(A);
            cr_expect_eq(a->np, c.chunk, "pending after the reset: %d", a->np);
            cr_expect_eq(memcmp(a->pk, last2, sizeof(REAL) * 2 * c.hidden), 0, "the reset starts with tokens 6 and 7");
            cr_expect_eq(memcmp(a->pk + (size_t)2 * c.hidden, pend, sizeof(REAL) * 6 * c.hidden), 0, "then tokens 8 .. 13");
        }
        int32_t one = SPTT_TOK_BYTE0 + 1;
        cr_assert_eq(kstream_push_tokens(A, &one, 1), SPTT_OK);  // token 14, the first answer token
        cr_expect_eq(a->nUpd, official ? 2 : 1, "variant %d: %lld updates after the first answer token", official, (long long)a->nUpd);
        cr_expect_eq(a->np, official ? 1 : 7);
        if( official ) cr_expect_eq(a->lastUpdAt, 14);
        // the stream itself is untouched
        cr_expect_eq(t->nUpd, 1);
        cr_expect_eq(t->np, 5);
        free(pend);
        free(last2);
        kstream_free(A);
        kstream_free(S);
    }
    kmodel_free(m);
}

/* The same bits at any thread count: every parallel loop of the stream gives each task its own
** outputs, and products are tiled by shape only. A model wide enough for the loops to fork. */
Test(stream_float, same_bits_for_any_thread_count)
{
    sptt_config c;
    stream_config(&c);
    c.hidden = 64; c.n_head = 4; c.head_dim = 16; c.n_kv_head = 2; c.ffn = 128;
    c.rope_sections[0] = 4; c.rope_sections[1] = 2; c.rope_sections[2] = 2; c.ttt_rope_dim = 8;
    c.chunk = 48; c.window = 64; c.frame_w = c.frame_h = 16;
    sptt_model *m;
    cr_assert_eq(sptt_model_create(&c, 3, &m), SPTT_OK, "%s", sptt_errmsg());
    size_t nP;
    float *p = sptt_model_params(m, &nP);
    sptt_rng r;
    sptt_rng_seed(&r, 5);
    for(size_t i = 0; i < nP; i++) p[i] += (float)(0.05 * sptt_rng_normal(&r));
    seg a[] = { { 4, 70 }, { 3, 40 } };
    sptt_sample s;
    int32_t *aText;
    build_sequence(&c, a, 2, 3, &s, &aText);
    float *ref = NULL;
    int64_t n0 = 0;
    for(int thr = 1; thr <= 3; thr++){
        sptt_model_set_threads(thr);
        sptt_stream_opts o = { 0, SPTT_STREAM_TRAIN, 1, 0 };
        sptt_stream *st;
        cr_assert_eq(sptt_stream_create(m, &o, &st), SPTT_OK);
        stream_sequence(st, &c, a, 2, &s, aText);
        int64_t n;
        const float *got = sptt_stream_all_logits(st, &n);
        if( thr == 1 ){
            n0 = n;
            ref = malloc(sizeof(float) * (size_t)n * c.vocab_size);
            memcpy(ref, got, sizeof(float) * (size_t)n * c.vocab_size);
        }else{
            cr_assert_eq(n, n0);
            cr_expect_eq(memcmp(ref, got, sizeof(float) * (size_t)n * c.vocab_size), 0, "%d threads give other logits", thr);
        }
        sptt_stream_free(st);
    }
    free(ref);
    sptt_sample_free(&s);
    free(aText);
    sptt_model_free(m);
}
