/*
** The QA records every task appends: task names, the rejection tally, multiple-choice layout
** with balanced answer letters, and the full prompt around each question.
**
** These helpers sit apart from the tasks (qa.c, route.c) so that the tasks depend on them and
** never the other way round.
*/
#include "ann_content.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

static const char *const azTaskName[ANN_TASK_COUNT] = {
    "object_counting", "object_abs_distance", "object_size_estimation", "room_size_estimation",
    "object_rel_distance", "object_rel_direction_easy", "object_rel_direction_medium",
    "object_rel_direction_hard", "route_planning", "obj_appearance_order", "object_rel_distance_v2",
    "object_rel_distance_v3",
};

#define LETTERS "ABCDEFGH"

static const char zWrapHead[] = "These are frames of a video.\n";
static const char zNumWrapTail[] = "\nPlease answer the question using a single word or phrase.";
static const char zMcWrapTail[] = "\nAnswer with the option's letter from the given choices directly.";

const char *ann_task_name(int task)
{
    return task >= 0 && task < ANN_TASK_COUNT ? azTaskName[task] : NULL;
}

int ann_task_index(const char *zName)
{
    for(int i = 0; zName && i < ANN_TASK_COUNT; i++) if( strcmp(zName, azTaskName[i])==0 ) return i;
    return -1;
}

/* ---------------------------------------------------------------------------------------------
** Records
*/
void ann_qa_reject(ann_qa_ctx *c, const char *zReason)
{
    int k;
    c->out->nSkipped[c->task]++;
    for(k = 0; k < c->nReason; k++) if( strcmp(c->azReason[k], zReason)==0 ) break;
    if( k==c->nReason ){
        if( k==(int)(sizeof c->anReason / sizeof c->anReason[0]) ) k--;   /* tally full: lump into the last */
        else snprintf(c->azReason[c->nReason++], sizeof c->azReason[0], "%s", zReason);
    }
    c->anReason[k]++;
}

void ann_qa_layout(sptt_rng *r, int *counts, const char *const *azChoice, int nChoice, ann_mc *m)
{
    int least = INT_MAX, nTie = 0, pick, at = 1;
    assert(nChoice >= 2 && nChoice <= 8);
    for(int i = 0; i < nChoice; i++) least = counts[i] < least ? counts[i] : least;
    for(int i = 0; i < nChoice; i++) nTie += counts[i]==least;
    pick = (int)sptt_rng_below(r, (uint32_t)nTie);
    for(int i = 0; i < nChoice; i++){
        if( counts[i]!=least ) continue;
        if( pick--==0 ){ pick = i; break; }
    }
    counts[pick]++;
    m->n = nChoice;
    m->answer = pick;
    for(int i = 0; i < nChoice; i++){
        const char *z = i==pick ? azChoice[0] : azChoice[at++];
        snprintf(m->az[i], sizeof m->az[i], "%c. %s", LETTERS[i], z);
    }
}

void ann_qa_prompt(sptt_buf *b, const char *zQuestion, const ann_mc *m)
{
    if( m==NULL ){
        sptt_buf_printf(b, "%s%s%s", zWrapHead, zQuestion, zNumWrapTail);
    }else{
        sptt_buf_printf(b, "%s%s\nOptions:", zWrapHead, zQuestion);
        for(int i = 0; i < m->n; i++) sptt_buf_printf(b, "\n%s", m->az[i]);
        sptt_buf_printf(b, "%s", zMcWrapTail);
    }
    sptt_buf_u8(b, 0);
}

int ann_mc_slot(const ann_mc *m, int iChoice)
{
    if( iChoice==0 ) return m->answer;
    return iChoice - 1 < m->answer ? iChoice - 1 : iChoice;
}

static char *dup_json(json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
}

static int push_record(ann_qa_ctx *c, const char *zQuestion, json_t *options, const char *zGt, const char *zLetter,
                       const char *zPrompt, json_t *objects, json_t *meta)
{
    ann_output *out = c->out;
    ann_qa *q;
    int rc = SPTT_OK;
    if( out->nQa==out->capQa ){
        size_t cap = out->capQa ? 2 * out->capQa : 32;
        ann_qa *grown = sptt_realloc(out->qa, cap * sizeof *grown);
        if( grown==NULL ){ rc = SPTT_ENOMEM; goto done; }
        out->qa = grown;
        out->capQa = cap;
    }
    q = &out->qa[out->nQa];
    memset(q, 0, sizeof *q);
    snprintf(q->zType, sizeof q->zType, "%s", azTaskName[c->task]);
    q->zQuestion = strdup(zQuestion);
    q->zOptions = options ? dup_json(options) : NULL;
    q->zGroundTruth = strdup(zGt);
    q->zMcAnswer = zLetter ? strdup(zLetter) : NULL;
    q->zObjects = objects ? dup_json(objects) : NULL;
    q->zPrompt = strdup(zPrompt);
    q->zMeta = meta ? dup_json(meta) : NULL;
    if( !q->zQuestion || !q->zGroundTruth || !q->zPrompt || (options && !q->zOptions) || (zLetter && !q->zMcAnswer)
        || (objects && !q->zObjects) || (meta && !q->zMeta) ){
        out->nQa++;   /* so ann_output_free releases the parts that were made */
        rc = sptt_fail(SPTT_ENOMEM, "annotate: out of memory building a %s question", azTaskName[c->task]);
        goto done;
    }
    out->nQa++;
    out->nGenerated[c->task]++;

done:
    json_decref(objects);
    json_decref(meta);
    return rc;
}

int ann_qa_push_layout(ann_qa_ctx *c, const char *zQuestion, const ann_mc *m, const char *zAnswer, json_t *objects,
                       json_t *meta)
{
    char zLetter[2] = { LETTERS[m->answer], 0 };
    json_t *options = json_array();
    sptt_buf b = {0};
    int rc;
    for(int i = 0; i < m->n; i++) json_array_append_new(options, json_string(m->az[i]));
    ann_qa_prompt(&b, zQuestion, m);
    rc = push_record(c, zQuestion, options, zAnswer, zLetter, (const char *)b.p, objects, meta);
    json_decref(options);
    sptt_buf_free(&b);
    return rc;
}

int ann_qa_push_mc(ann_qa_ctx *c, const char *zQuestion, const char *const *azChoice, int nChoice,
                   json_t *objects, json_t *meta)
{
    ann_mc m;
    ann_qa_layout(&c->rng, c->letters, azChoice, nChoice, &m);
    return ann_qa_push_layout(c, zQuestion, &m, azChoice[0], objects, meta);
}

int ann_qa_push_numeric(ann_qa_ctx *c, const char *zQuestion, char azChoice[4][32], json_t *objects, json_t *meta)
{
    const char *ap[4] = { azChoice[0], azChoice[1], azChoice[2], azChoice[3] };
    json_t *mc = json_array();
    sptt_buf b = {0};
    ann_mc m;
    int rc;
    ann_qa_layout(&c->rng, c->numLetters, ap, 4, &m);
    for(int i = 0; i < 4; i++) json_array_append_new(mc, json_string(m.az[i]));
    if( meta==NULL ) meta = json_object();
    json_object_set_new(meta, "mc_options", mc);
    json_object_set_new(meta, "mc_answer", json_sprintf("%c", LETTERS[m.answer]));
    ann_qa_prompt(&b, zQuestion, NULL);
    rc = push_record(c, zQuestion, NULL, azChoice[0], NULL, (const char *)b.p, objects, meta);
    sptt_buf_free(&b);
    return rc;
}

int ann_qa_keep(ann_qa_ctx *c, void *items, int n, size_t sz)
{
    if( n > 1 ) sptt_rng_shuffle(&c->rng, items, (size_t)n, sz);
    return n < c->cap ? n : c->cap;
}

/* The commonest reasons first, as many as fit the summary field. */
void ann_qa_skip_summary(ann_qa_ctx *c)
{
    char *z = c->out->zSkipReason[c->task];
    size_t n = sizeof c->out->zSkipReason[0];
    int used[12] = {0};
    z[0] = 0;
    for(int round = 0; round < c->nReason; round++){
        int best = -1;
        for(int k = 0; k < c->nReason; k++) if( !used[k] && (best < 0 || c->anReason[k] > c->anReason[best]) ) best = k;
        used[best] = 1;
        if( strlen(z) + strlen(c->azReason[best]) + 12 >= n ) break;
        snprintf(z + strlen(z), n - strlen(z), "%s%s (%d)", round ? "; " : "", c->azReason[best], c->anReason[best]);
    }
}
