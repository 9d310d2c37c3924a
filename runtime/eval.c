/*
** sptt-eval (sptt_eval.h): a split's questions answered by a checkpoint and scored as VSI-Bench.
** The story of a run: load the checkpoint, read the split's questions and the training split's
** targets, answer each question, tally its score and the baseline's, print and write the report.
*/
#include "sptt_eval.h"
#include "sptt_ckpt.h"
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_data.h"
#include "sptt_dataset.h"
#include "sptt_model.h"
#include "sptt_score.h"
#include "sptt_stream.h"
#ifdef SPTT_CUDA
#include "sptt_cuda.h"
#endif

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
** The frequency baseline
*/
typedef struct baseline {
    int n;
    char **azType;
    char **azAnswer;          /* the answer given to every question of the type; NULL: none */
} baseline;

static void baseline_free(baseline *b)
{
    for(int i = 0; i < b->n; i++){
        free(b->azType[i]);
        free(b->azAnswer[i]);
    }
    free(b->azType);
    free(b->azAnswer);
    memset(b, 0, sizeof *b);
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* For each type of the training examples: the most common letter, or the mean as "%.17g". */
static int baseline_fit(const sptt_examples *tr, baseline *b)
{
    int rc = SPTT_OK;
    const char **az = NULL;
    memset(b, 0, sizeof *b);
    if( tr->n==0 ) return SPTT_OK;
    if( (b->azType = sptt_calloc((size_t)tr->n, sizeof *b->azType))==NULL ) return SPTT_ENOMEM;
    if( (b->azAnswer = sptt_calloc((size_t)tr->n, sizeof *b->azAnswer))==NULL ) return SPTT_ENOMEM;
    if( (az = sptt_calloc((size_t)tr->n, sizeof *az))==NULL ) return SPTT_ENOMEM;
    for(int i = 0; i < tr->n && rc==SPTT_OK; i++){
        const char *zType = tr->a[i].zKind;
        int seen = 0, nAns = 0, numeric = 1;
        double sum = 0;
        for(int k = 0; k < b->n && !seen; k++) seen = strcmp(b->azType[k], zType)==0;
        if( seen ) continue;
        for(int j = i; j < tr->n; j++){
            double v;
            if( strcmp(tr->a[j].zKind, zType)!=0 ) continue;
            az[nAns++] = tr->a[j].zAnswer;
            if( sptt_vsi_parse_float(tr->a[j].zAnswer, &v) ) numeric = 0;
            else sum += v;
        }
        char zAns[64];
        if( numeric ){
            snprintf(zAns, sizeof zAns, "%.17g", sum / nAns);
        }else{
            /* The most common target; sorted, so ties go to the first in byte order. */
            int best = 0, bestN = 0;
            qsort(az, (size_t)nAns, sizeof *az, str_cmp);
            for(int s = 0; s < nAns;){
                int e = s;
                while( e < nAns && strcmp(az[e], az[s])==0 ) e++;
                if( e - s > bestN ){ best = s; bestN = e - s; }
                s = e;
            }
            snprintf(zAns, sizeof zAns, "%s", az[best]);
        }
        b->azType[b->n] = strdup(zType);
        b->azAnswer[b->n] = strdup(zAns);
        if( !b->azType[b->n] || !b->azAnswer[b->n] ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        b->n++;
    }
    free(az);
    return rc;
}

static const char *baseline_answer(const baseline *b, const char *zType)
{
    for(int i = 0; i < b->n; i++) if( strcmp(b->azType[i], zType)==0 ) return b->azAnswer[i];
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
** Answering one question
*/

/* Where the answers' forwards run: the host model, or (a CUDA build, opts.device) its copy on the
** GPU, the same float32 model; per decoded token only the row it needs comes back from the
** device. Streamed questions run on sptt_stream's GPU path in that case (a GPU copy per stream). */
typedef struct answerer {
    sptt_model *m;
    const float *aRow;        /* the last answerer_row */
#ifdef SPTT_CUDA
    sptt_cuda_model *g;       /* NULL: forwards on the host */
    float *aBuf;              /* one logits row from the device */
#endif
} answerer;

static int answerer_open(answerer *a, sptt_model *m, int device)
{
    memset(a, 0, sizeof *a);
    a->m = m;
    if( !device ) return SPTT_OK;
#ifdef SPTT_CUDA
    int rc;
    if( sptt_cuda_device_count() < 1 ) return sptt_fail(SPTT_EIO, "--device cuda: no CUDA device here");
    if( (rc = sptt_cuda_set_device(0)) || (rc = sptt_cuda_model_create(m, &a->g)) ) return rc;
    if( (a->aBuf = sptt_malloc(sizeof *a->aBuf * (size_t)sptt_model_config(m)->vocab_size))==NULL ) return SPTT_ENOMEM;
    return SPTT_OK;
#else
    return sptt_fail(SPTT_EINVAL, "--device cuda: this build has no CUDA; run make cuda");
#endif
}

static void answerer_close(answerer *a)
{
#ifdef SPTT_CUDA
    sptt_cuda_model_free(a->g);
    free(a->aBuf);
#endif
    memset(a, 0, sizeof *a);
}

/* The forward over s; a->aRow = its logits' row `at` */
static int answerer_row(answerer *a, const sptt_sample *s, int at)
{
    int rc, T;
#ifdef SPTT_CUDA
    if( a->g ){
        if( (rc = sptt_cuda_forward(a->g, s, 0, NULL, NULL)) || (rc = sptt_cuda_get_logits_row(a->g, at, a->aBuf)) ) return rc;
        a->aRow = a->aBuf;
        return SPTT_OK;
    }
#endif
    if( (rc = sptt_model_forward(a->m, s, 0, NULL, NULL)) ) return rc;
    const float *logits = sptt_model_logits(a->m, &T);
    assert(at >= 0 && at < T);
    a->aRow = logits + (size_t)at * (size_t)sptt_model_config(a->m)->vocab_size;
    return SPTT_OK;
}

/* Greedy answer to zPrompt over the frames: up to maxNew tokens, decoded into *pzOut. */
static int answer(answerer *a, const sptt_tokenizer *tok, const char *zPrompt, int nFrames, const float *pixels, int maxNew,
                  char **pzOut)
{
    const sptt_config *cfg = sptt_model_config(a->m);
    int32_t *aPrompt = NULL, *aGen = NULL;
    int nPrompt = 0, nGen = 0, rc;
    *pzOut = NULL;
    if( (rc = sptt_tokenizer_encode(tok, zPrompt, strlen(zPrompt), &aPrompt, &nPrompt)) ) return rc;
    if( (aGen = sptt_malloc(sizeof *aGen * (size_t)(maxNew + 1)))==NULL ){
        free(aPrompt);
        return SPTT_ENOMEM;
    }
    while( nGen < maxNew ){
        sptt_sample s;
        int at = -1, best = 0;
        if( (rc = sptt_sample_build(cfg, aPrompt, nPrompt, aGen, nGen, nFrames, pixels, &s)) ) break;
        /* The row that predicts the next token: the answer boundary's, moved on by the tokens so far. */
        for(int i = s.n_tokens - 1; i >= 0 && at < 0; i--) if( s.tokens[i]==SPTT_TOK_ANSWER ) at = i + nGen;
        rc = answerer_row(a, &s, at);
        sptt_sample_free(&s);
        if( rc ) break;
        const float *row = a->aRow;
        for(int v = 1; v < cfg->vocab_size; v++) if( row[v] > row[best] ) best = v;
        if( best==SPTT_TOK_EOS ) break;
        aGen[nGen++] = best;
    }
    if( rc==SPTT_OK && (*pzOut = sptt_tokenizer_decode(tok, aGen, nGen))==NULL ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
    free(aPrompt);
    free(aGen);
    return rc;
}

/* A decoded answer may stop inside a character or hold bytes that are not UTF-8 at all; JSON
** needs valid UTF-8, so each invalid byte becomes U+FFFD, as a Python reader decoding with
** errors='replace' would show it. Scores are computed on the raw bytes before this. */
static char *utf8_clean(const char *z)
{
    const unsigned char *u = (const unsigned char *)z;
    size_t n = strlen(z), j = 0;
    char *out = sptt_malloc(3 * n + 1);
    if( out==NULL ) return NULL;
    for(size_t i = 0; i < n;){
        int len = u[i] < 0x80 ? 1 : (u[i] & 0xe0)==0xc0 && u[i] >= 0xc2 ? 2 : (u[i] & 0xf0)==0xe0 ? 3 : (u[i] & 0xf8)==0xf0 && u[i] <= 0xf4 ? 4 : 0;
        int good = len > 0 && i + (size_t)len <= n;
        for(int k = 1; good && k < len; k++) good = (u[i + k] & 0xc0)==0x80;
        if( good && len==3 ){
            unsigned c = ((unsigned)(u[i] & 0x0f) << 12) | ((unsigned)(u[i + 1] & 0x3f) << 6);
            good = c >= 0x800 && !(c >= 0xd800 && c <= 0xdfff);   /* no overlong forms, no surrogates */
        }
        if( good && len==4 ){
            unsigned c = ((unsigned)(u[i] & 0x07) << 18) | ((unsigned)(u[i + 1] & 0x3f) << 12);
            good = c >= 0x10000 && c <= 0x10ffff;
        }
        if( good ){
            memcpy(out + j, z + i, (size_t)len);
            j += (size_t)len;
            i += (size_t)len;
        }else{
            memcpy(out + j, "\xef\xbf\xbd", 3);
            j += 3;
            i++;
        }
    }
    out[j] = 0;
    return out;
}

/* ---------------------------------------------------------------------------------------------
** The run
*/
static int checkpoint_frames(const sptt_train_state *st)
{
    json_t *j = json_loads(st->zOptions[0] ? st->zOptions : "{}", 0, NULL);
    int n = (int)json_integer_value(json_object_get(j, "frames"));
    json_decref(j);
    return n > 0 ? n : 4;
}

static void print_table(sptt_vsi_tally *model, sptt_vsi_tally *base, const char *zSplit, int nQ)
{
    const sptt_vsi_row *a, *b;
    int n, nb;
    if( sptt_vsi_tally_tasks(model, &a, &n) || sptt_vsi_tally_tasks(base, &b, &nb) ) return;
    printf("%-28s %9s %9s %9s\n", "task", "questions", "model", "baseline");
    for(int i = 0; i < n; i++){
        double bs = -1;
        for(int k = 0; k < nb; k++) if( strcmp(b[k].zName, a[i].zName)==0 ) bs = b[k].score;
        if( bs < 0 ) printf("%-28s %9d %9.1f %9s\n", a[i].zName, a[i].n, 100 * a[i].score, "-");
        else printf("%-28s %9d %9.1f %9.1f\n", a[i].zName, a[i].n, 100 * a[i].score, 100 * bs);
    }
    printf("%-28s %9d %9.1f %9.1f   (the %s split; mean of the task scores)\n", "overall", nQ, 100 * sptt_vsi_tally_overall(model),
           100 * sptt_vsi_tally_overall(base), zSplit);
}

static json_t *rows_json(sptt_vsi_tally *t, int tasks)
{
    const sptt_vsi_row *a;
    int n;
    json_t *arr = json_array();
    if( (tasks ? sptt_vsi_tally_tasks(t, &a, &n) : sptt_vsi_tally_types(t, &a, &n)) ) return arr;
    for(int i = 0; i < n; i++) json_array_append_new(arr, json_pack("{s:s,s:i,s:f}", "name", a[i].zName, "questions", a[i].n, "score", 100 * a[i].score));
    return arr;
}

/* ---------------------------------------------------------------------------------------------
** Long-horizon streams: questions asked at a frame of several scenes walked one after another,
** scored per question type, outside the VSI-Bench overall. By default each stream is watched by
** one sptt_stream, frame after frame, and each question asked when the walk reaches its query
** frame; with offlineStreams each question is answered like a scene's, from nFrames frames spread
** evenly over the walk up to its query frame.
*/
static int stream_baseline_fit(const sptt_streams *tr, baseline *b)
{
    sptt_examples ex = {0};
    int n = 0, rc;
    for(int i = 0; i < tr->n; i++) n += tr->a[i].nQuestion;
    memset(b, 0, sizeof *b);
    if( n==0 ) return SPTT_OK;
    if( (ex.a = sptt_calloc((size_t)n, sizeof *ex.a))==NULL ) return SPTT_ENOMEM;
    /* borrowed strings: baseline_fit copies what it keeps */
    for(int i = 0; i < tr->n; i++){
        for(int k = 0; k < tr->a[i].nQuestion; k++){
            ex.a[ex.n].zKind = tr->a[i].aQuestion[k].zType;
            ex.a[ex.n].zAnswer = tr->a[i].aQuestion[k].zGroundTruth;
            ex.n++;
        }
    }
    rc = baseline_fit(&ex, b);
    free(ex.a);
    return rc;
}

/* The frames a stream feeds: every k-th of the walk, k = o->streamStride or, when 0, the smallest
** that feeds at most SPTT_EVAL_STREAM_FRAMES of a walk of n frames. */
static int64_t stream_stride(const sptt_eval_opts *o, int64_t n)
{
    if( o->streamStride > 0 ) return o->streamStride;
    return n <= SPTT_EVAL_STREAM_FRAMES ? 1 : (n + SPTT_EVAL_STREAM_FRAMES - 1) / SPTT_EVAL_STREAM_FRAMES;
}

static void print_streams(const sptt_eval_opts *o, sptt_vsi_tally *model, sptt_vsi_tally *base, const sptt_streams *st, int nFrames,
                          int nQ)
{
    const sptt_vsi_row *a, *b;
    int n, nb;
    char zHow[96];
    if( sptt_vsi_tally_types(model, &a, &n) || sptt_vsi_tally_types(base, &b, &nb) ) return;
    if( o->offlineStreams ){
        snprintf(zHow, sizeof zHow, "offline, %d frames a question", nFrames);
    }else{
        int64_t lo = INT64_MAX, hi = 0;
        for(int i = 0; i < st->n; i++){
            int64_t k = stream_stride(o, st->a[i].nFrames);
            if( k < lo ) lo = k;
            if( k > hi ) hi = k;
        }
        if( lo==hi ) snprintf(zHow, sizeof zHow, "streamed, frame stride %lld", (long long)lo);
        else snprintf(zHow, sizeof zHow, "streamed, frame strides %lld-%lld", (long long)lo, (long long)hi);
    }
    printf("%-28s %9s %9s %9s   (%s, %s; not in the overall)\n", "long-horizon", "questions", "model", "baseline",
           sptt_plural(st->n, "stream", NULL), zHow);
    for(int i = 0; i < n; i++){
        double bs = -1;
        for(int k = 0; k < nb; k++) if( strcmp(b[k].zName, a[i].zName)==0 ) bs = b[k].score;
        if( bs < 0 ) printf("%-28s %9d %9.1f %9s\n", a[i].zName, a[i].n, 100 * a[i].score, "-");
        else printf("%-28s %9d %9.1f %9.1f\n", a[i].zName, a[i].n, 100 * a[i].score, 100 * bs);
    }
    if( n==0 ) printf("%-28s %9d\n", "(no questions)", nQ);
}

/* The stored prompt with o->zSuffix after a space, into *pz (freed first). */
static int with_suffix(const sptt_eval_opts *o, const char *zPrompt, char **pz)
{
    size_t n = strlen(zPrompt) + (o->zSuffix ? strlen(o->zSuffix) + 1 : 0) + 1;
    free(*pz);
    if( (*pz = sptt_malloc(n))==NULL ) return SPTT_ENOMEM;
    snprintf(*pz, n, "%s%s%s", zPrompt, o->zSuffix ? " " : "", o->zSuffix ? o->zSuffix : "");
    return SPTT_OK;
}

/* Scores a stream question's prediction, tallies it and appends its report row: the common
** fields, then those of `extra` (taken). */
static int stream_record(const sptt_stream_row *t, const sptt_stream_question *q, const char *zPred, json_t *extra, const baseline *base,
                         sptt_vsi_tally *tModel, sptt_vsi_tally *tBase, json_t *aPred)
{
    double v;
    int numeric = sptt_vsi_parse_float(q->zGroundTruth, &v)==0, rc;
    double score = sptt_vsi_score(zPred, q->zGroundTruth, numeric);
    const char *zBase = baseline_answer(base, q->zType);
    if( (rc = sptt_vsi_tally_add(tModel, q->zType, score))==SPTT_OK && zBase )
        rc = sptt_vsi_tally_add(tBase, q->zType, sptt_vsi_score(zBase, q->zGroundTruth, numeric));
    if( rc ){
        json_decref(extra);
        return rc;
    }
    char *zShow = utf8_clean(zPred);
    json_t *row = zShow ? json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:f}", "id", (json_int_t)q->id, "stream", t->zName, "query_frame",
                                    (json_int_t)q->queryFrame, "question_type", q->zType, "target", q->zGroundTruth,
                                    "prediction", zShow, "score", score) : NULL;
    free(zShow);
    rc = row==NULL || extra==NULL || json_object_update(row, extra);
    json_decref(extra);
    if( rc ){
        json_decref(row);
        return sptt_fail(SPTT_ENOMEM, "out of memory");
    }
    /* the array takes the row, on failure too */
    return json_array_append_new(aPred, row) ? sptt_fail(SPTT_ENOMEM, "out of memory") : SPTT_OK;
}

/* The walk of stream t as parts for sptt_walk_frames and the walk reader; free the result. */
static sptt_walk_part *walk_parts(const sptt_stream_row *t)
{
    sptt_walk_part *a = sptt_calloc((size_t)t->nScene + 1, sizeof *a);
    for(int k = 0; a && k < t->nScene; k++){
        a[k].zScene = t->aScene[k].zName;
        a[k].nFrames = (uint64_t)t->aScene[k].nFrames;
    }
    return a;
}

/* Stream t watched by one sptt_stream: every k-th frame of the walk pushed in order and each
** question (by query frame, then id) asked when the walk has reached its query frame, that is
** after the last pushed frame at or before it. The stream goes on from the question. *pnQ counts
** the questions answered, at most nMax. */
static int stream_watch(const sptt_eval_opts *o, sqlite3 *db, sptt_model *m, const sptt_tokenizer *tok, int maxNew,
                        const sptt_stream_row *t, int nMax, const baseline *base, sptt_vsi_tally *tModel, sptt_vsi_tally *tBase,
                        json_t *aPred, sptt_progress *prog, int *pnQ)
{
    const sptt_config *cfg = sptt_model_config(m);
    sptt_stream_opts so = { o->anchorWindow, o->variant, 0, o->device };
    sptt_walk_part *aPart = walk_parts(t);
    sptt_walk_reader *rd = NULL;
    sptt_stream *s = NULL;
    float *frame = sptt_malloc(sizeof *frame * (size_t)cfg->frame_h * (size_t)cfg->frame_w * 3);
    int32_t *aPrompt = NULL, *aOut = sptt_malloc(sizeof *aOut * (size_t)maxNew);
    char *zPrompt = NULL;
    int64_t stride = stream_stride(o, t->nFrames), next = 0, last = -1, nFed = 0;
    int rc = SPTT_OK, nQ = 0;
    if( aPart==NULL || frame==NULL || aOut==NULL ){ rc = SPTT_ENOMEM; goto end; }
    if( (rc = sptt_walk_reader_open(db, aPart, t->nScene, cfg, &rd)) ) goto end;
    if( (rc = sptt_stream_create(m, &so, &s)) ) goto end;
    for(int k = 0; k < t->nQuestion && nQ < nMax; k++){
        const sptt_stream_question *q = &t->aQuestion[k];
        char *zPred = NULL;
        int nPrompt = 0, nOut = 0;
        assert(k==0 || q->queryFrame >= t->aQuestion[k - 1].queryFrame);
        for(; next <= q->queryFrame; next += stride){
            if( (rc = sptt_walk_reader_frame(rd, (uint64_t)next, frame)) || (rc = sptt_stream_push_frame(s, frame)) ) goto end;
            last = next;
            nFed++;
        }
        if( (rc = with_suffix(o, q->zPrompt, &zPrompt)) ) goto end;
        free(aPrompt);
        aPrompt = NULL;
        if( (rc = sptt_tokenizer_encode(tok, zPrompt, strlen(zPrompt), &aPrompt, &nPrompt)) ) goto end;
        if( (rc = sptt_stream_ask(s, aPrompt, nPrompt, maxNew, aOut, &nOut)) ) goto end;
        if( (zPred = sptt_tokenizer_decode(tok, aOut, nOut))==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); goto end; }
        rc = stream_record(t, q, zPred, json_pack("{s:I,s:I,s:I}", "asked_at", (json_int_t)last, "frames_streamed", (json_int_t)nFed,
                                                  "stride", (json_int_t)stride), base, tModel, tBase, aPred);
        free(zPred);
        if( rc ) goto end;
        nQ++;
        sptt_progress_step(prog, 1);
    }
end:
    if( rc ) sptt_fail_prefix(rc, "stream %s: ", t->zName);
    *pnQ = nQ;
    sptt_stream_free(s);
    sptt_walk_reader_close(rd);
    free(frame);
    free(aPrompt);
    free(aOut);
    free(zPrompt);
    free(aPart);
    return rc;
}

/* Stream t's questions answered offline, each from nFrames frames spread evenly over the walk up
** to its query frame (one decode serves the questions asked at one frame). */
static int stream_offline(const sptt_eval_opts *o, sqlite3 *db, answerer *a, const sptt_tokenizer *tok, int nFrames, float *pixels,
                          int maxNew, const sptt_stream_row *t, int nMax, const baseline *base, sptt_vsi_tally *tModel,
                          sptt_vsi_tally *tBase, json_t *aPred, sptt_progress *prog, int *pnQ)
{
    sptt_walk_part *aPart = walk_parts(t);
    char *zPrompt = NULL;
    int64_t loaded = -1;
    int rc = SPTT_OK, nQ = 0;
    if( aPart==NULL ) rc = SPTT_ENOMEM;
    for(int k = 0; k < t->nQuestion && nQ < nMax && rc==SPTT_OK; k++){
        const sptt_stream_question *q = &t->aQuestion[k];
        char *zPred = NULL;
        if( nFrames > 0 && q->queryFrame!=loaded ){
            if( (rc = sptt_walk_frames(db, aPart, t->nScene, (uint64_t)q->queryFrame + 1, sptt_model_config(a->m), nFrames, pixels)) ){
                sptt_fail_prefix(rc, "stream %s: ", t->zName);
                break;
            }
            loaded = q->queryFrame;
        }
        if( (rc = with_suffix(o, q->zPrompt, &zPrompt)) ) break;
        if( (rc = answer(a, tok, zPrompt, nFrames, pixels, maxNew, &zPred)) ) break;
        rc = stream_record(t, q, zPred, json_pack("{s:I,s:i}", "asked_at", (json_int_t)q->queryFrame, "frames", nFrames), base, tModel,
                           tBase, aPred);
        free(zPred);
        if( rc ) break;
        nQ++;
        sptt_progress_step(prog, 1);
    }
    free(aPart);
    free(zPrompt);
    *pnQ = nQ;
    return rc;
}

/* Every question of the split's streams (the first maxQuestions), tallied and listed in aPred. */
static int eval_streams(const sptt_eval_opts *o, sqlite3 *db, answerer *a, const sptt_tokenizer *tok, int nFrames, float *pixels,
                        int maxNew, const sptt_streams *st, const baseline *base, sptt_vsi_tally *tModel, sptt_vsi_tally *tBase,
                        json_t *aPred, int *pnQ)
{
    int rc = SPTT_OK, nQ = 0, nAll = 0;
    sptt_progress prog;
    for(int i = 0; i < st->n; i++) nAll += st->a[i].nQuestion;
    if( o->maxQuestions > 0 && o->maxQuestions < nAll ) nAll = o->maxQuestions;
    sptt_progress_start(&prog, "stream questions", (uint64_t)nAll);
    for(int i = 0; i < st->n && rc==SPTT_OK && nQ < nAll; i++){
        int n = 0;
        if( o->offlineStreams ){
            rc = stream_offline(o, db, a, tok, nFrames, pixels, maxNew, &st->a[i], nAll - nQ, base, tModel, tBase, aPred, &prog, &n);
        }else{
            rc = stream_watch(o, db, a->m, tok, maxNew, &st->a[i], nAll - nQ, base, tModel, tBase, aPred, &prog, &n);
        }
        nQ += n;
    }
    sptt_progress_end(&prog);
    *pnQ = nQ;
    return rc;
}

int sptt_eval_run(const sptt_eval_opts *o, double *pOverall)
{
    const char *zSplit = o->zSplit ? o->zSplit : "val";
    sptt_model *m = NULL;
    answerer ans = {0};
    sptt_tokenizer *tok = NULL;
    sptt_train_state st;
    sqlite3 *db = NULL;
    sptt_examples qs = {0}, tr = {0};
    sptt_streams sq = {0}, str = {0};
    baseline base = {0}, sbase = {0};
    sptt_vsi_tally *tModel = NULL, *tBase = NULL, *tStream = NULL, *tStreamBase = NULL;
    json_t *aStreamPred = json_array();
    int nStreamQ = 0;
    float *pixels = NULL;
    char *zLoaded = NULL, *zPrompt = NULL;
    json_t *aPred = json_array();
    sptt_progress prog;
    int rc, nFrames, maxNew = o->maxNew > 0 ? o->maxNew : 16, nQ;

    if( (rc = sptt_ckpt_load(o->zCkpt, &m, NULL, &tok, &st)) ) goto done;
    if( (rc = answerer_open(&ans, m, o->device)) ) goto done;
    nFrames = o->nFrames > 0 ? o->nFrames : checkpoint_frames(&st);
    if( (rc = sptt_dataset_open(o->zDb, SPTT_DB_READONLY, &db)) ) goto done;
    if( (rc = sptt_examples_load(db, SPTT_EXAMPLES_QA, zSplit, &qs)) ) goto done;
    if( (rc = sptt_examples_load(db, SPTT_EXAMPLES_QA, "train", &tr)) ) goto done;
    if( qs.n==0 ){
        rc = sptt_fail(SPTT_ESTATE, "%s: no questions in the %s split (sptt-train stores the split; annotate writes the questions)",
                       o->zDb, zSplit);
        goto done;
    }
    if( (rc = baseline_fit(&tr, &base)) ) goto done;
    if( (rc = sptt_vsi_tally_new(&tModel)) || (rc = sptt_vsi_tally_new(&tBase)) ) goto done;
    if( (rc = sptt_streams_load(db, zSplit, &sq)) || (rc = sptt_streams_load(db, "train", &str)) ) goto done;
    if( (rc = stream_baseline_fit(&str, &sbase)) ) goto done;
    if( (rc = sptt_vsi_tally_new(&tStream)) || (rc = sptt_vsi_tally_new(&tStreamBase)) ) goto done;
    {
        const sptt_config *cfg = sptt_model_config(m);
        size_t nPix = (size_t)nFrames * (size_t)cfg->frame_h * (size_t)cfg->frame_w * 3;
        if( nFrames > 0 && (pixels = sptt_malloc(sizeof *pixels * nPix))==NULL ){ rc = SPTT_ENOMEM; goto done; }
    }
    nQ = o->maxQuestions > 0 && o->maxQuestions < qs.n ? o->maxQuestions : qs.n;
    sptt_progress_start(&prog, "questions", (uint64_t)nQ);
    for(int i = 0; i < nQ && rc==SPTT_OK; i++){
        const sptt_example *e = &qs.a[i];
        char *zPred = NULL;
        double v;
        int numeric = sptt_vsi_parse_float(e->zAnswer, &v)==0;
        if( nFrames > 0 && (zLoaded==NULL || strcmp(zLoaded, e->zScene)!=0) ){
            free(zLoaded);
            zLoaded = NULL;
            if( (rc = sptt_scene_frames(db, e->zScene, sptt_model_config(m), nFrames, pixels)) ) break;
            if( (zLoaded = strdup(e->zScene))==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); break; }
        }
        if( (rc = with_suffix(o, e->zPrompt, &zPrompt)) ) break;
        if( (rc = answer(&ans, tok, zPrompt, nFrames, pixels, maxNew, &zPred)) ) break;
        double score = sptt_vsi_score(zPred, e->zAnswer, numeric);
        const char *zBase = baseline_answer(&base, e->zKind);
        if( (rc = sptt_vsi_tally_add(tModel, e->zKind, score))==SPTT_OK && zBase )
            rc = sptt_vsi_tally_add(tBase, e->zKind, sptt_vsi_score(zBase, e->zAnswer, numeric));
        char *zShow = utf8_clean(zPred);
        json_t *row = zShow ? json_pack("{s:I,s:s,s:s,s:s,s:s,s:f}", "id", (json_int_t)e->id, "scene", e->zScene, "question_type", e->zKind,
                                        "target", e->zAnswer, "prediction", zShow, "score", score) : NULL;
        free(zShow);
        free(zPred);
        if( row==NULL || json_array_append_new(aPred, row) ){
            rc = sptt_fail(SPTT_ENOMEM, "out of memory");
            break;
        }
        sptt_progress_step(&prog, 1);
    }
    sptt_progress_end(&prog);
    if( rc ) goto done;
    if( sq.n > 0 && (rc = eval_streams(o, db, &ans, tok, nFrames, pixels, maxNew, &sq, &sbase, tStream, tStreamBase, aStreamPred, &nStreamQ)) )
        goto done;
    if( !o->quiet ) print_table(tModel, tBase, zSplit, nQ);
    if( !o->quiet && sq.n > 0 ) print_streams(o, tStream, tStreamBase, &sq, nFrames, nStreamQ);
    if( pOverall ) *pOverall = 100 * sptt_vsi_tally_overall(tModel);
    if( o->zReport ){
        json_t *lh = json_pack("{s:i,s:i,s:s,s:i,s:s,s:o,s:o,s:o}", "streams", sq.n, "questions", nStreamQ, "mode",
                               o->offlineStreams ? "offline" : "stream", "anchor_window", o->anchorWindow, "variant",
                               o->variant==SPTT_STREAM_OFFICIAL ? "official" : "train", "types", rows_json(tStream, 0),
                               "baseline_types", rows_json(tStreamBase, 0), "predictions", aStreamPred);
        json_t *rep = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:f,s:f,s:o,s:o,s:o,s:o,s:o}", "checkpoint", o->zCkpt, "dataset", o->zDb,
                                "device", o->device ? "cuda" : "cpu", "split", zSplit, "frames", nFrames, "questions", nQ, "overall", 100 * sptt_vsi_tally_overall(tModel),
                                "baseline_overall", 100 * sptt_vsi_tally_overall(tBase), "tasks", rows_json(tModel, 1),
                                "baseline_tasks", rows_json(tBase, 1), "types", rows_json(tModel, 0), "predictions", aPred,
                                "long_horizon", lh);
        aPred = NULL;
        aStreamPred = NULL;
        char *z = rep ? json_dumps(rep, JSON_INDENT(1)) : NULL;
        rc = z ? sptt_write_file(o->zReport, z, strlen(z)) : sptt_fail(SPTT_ENOMEM, "out of memory");
        free(z);
        json_decref(rep);
    }
done:
    json_decref(aPred);
    json_decref(aStreamPred);
    sptt_vsi_tally_free(tStream);
    sptt_vsi_tally_free(tStreamBase);
    baseline_free(&sbase);
    sptt_streams_free(&sq);
    sptt_streams_free(&str);
    free(zPrompt);
    free(zLoaded);
    free(pixels);
    sptt_vsi_tally_free(tModel);
    sptt_vsi_tally_free(tBase);
    baseline_free(&base);
    sptt_examples_free(&qs);
    sptt_examples_free(&tr);
    sptt_dataset_close(db);
    sptt_tokenizer_free(tok);
    answerer_close(&ans);
    sptt_model_free(m);
    return rc;
}
