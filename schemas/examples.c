/*
** Splits and training examples (sptt_dataset.h): what the trainer and the evaluation read.
*/
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <stdlib.h>
#include <string.h>

/* Annotations current: the condition every reader of examples applies. */
#define CURRENT "s.annotated_at IS NOT NULL AND s.annotated_geometry=s.geometry_hash AND s.geometry_input=s.input_hash"

int sptt_split_assign(sqlite3 *db, double valFraction, uint64_t seed, int *pnTrain, int *pnVal)
{
    sqlite3_stmt *st = NULL;
    sptt_scene_names fresh = {0};
    int rc, nVal = 0, nAll = 0;
    if( !(valFraction >= 0 && valFraction < 1) ) return sptt_fail(SPTT_EINVAL, "validation fraction %g is not in [0, 1)", valFraction);
    if( (rc = sptt_db_begin(db)) ) return rc;
    rc = sptt_db_prepare(db, "SELECT name, split FROM scenes s WHERE " CURRENT " ORDER BY name", &st);
    while( rc==SPTT_OK && sqlite3_step(st)==SQLITE_ROW ){
        nAll++;
        if( sqlite3_column_type(st, 1)!=SQLITE_NULL ) continue;
        char **p = sptt_realloc(fresh.az, sizeof(char *) * (size_t)(fresh.n + 1));
        if( p==NULL ){
            rc = SPTT_ENOMEM;
            break;
        }
        fresh.az = p;
        fresh.az[fresh.n] = strdup((const char *)sqlite3_column_text(st, 0));
        if( fresh.az[fresh.n]==NULL ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        else fresh.n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if( rc==SPTT_OK && fresh.n > 0 ){
        sptt_rng r;
        sptt_rng_seed(&r, seed ^ 0x53504c4954ULL);   /* 'SPLIT': its own stream of the seed */
        sptt_rng_shuffle(&r, fresh.az, (size_t)fresh.n, sizeof(char *));
        nVal = (int)(valFraction * fresh.n + 0.5);
        if( valFraction > 0 && nVal==0 && fresh.n >= 2 ) nVal = 1;
        if( nVal >= fresh.n && fresh.n > 0 ) nVal = fresh.n - 1;
        for(int i = 0; i < fresh.n && rc==SPTT_OK; i++) rc = sptt_scene_set_split(db, fresh.az[i], i < nVal ? "val" : "train");
    }
    if( rc==SPTT_OK ) rc = sptt_db_prepare(db, "SELECT count(*) FILTER (WHERE split='train'), count(*) FILTER (WHERE split='val') "
                                               "FROM scenes s WHERE " CURRENT, &st);
    if( rc==SPTT_OK && sqlite3_step(st)==SQLITE_ROW ){
        *pnTrain = sqlite3_column_int(st, 0);
        *pnVal = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if( rc==SPTT_OK ) rc = sptt_db_commit(db);
    if( rc ) sptt_db_rollback(db);
    sptt_scene_names_free(&fresh);
    (void)nAll;
    return rc;
}

static char *dup_text(sqlite3_stmt *st, int i, int *pRc)
{
    const char *z = (const char *)sqlite3_column_text(st, i);
    char *p;
    if( z==NULL ) return NULL;
    p = strdup(z);
    if( p==NULL ) *pRc = sptt_fail(SPTT_ENOMEM, "out of memory");
    return p;
}

int sptt_examples_load(sqlite3 *db, int kind, const char *zSplit, sptt_examples *pOut)
{
    sqlite3_stmt *st = NULL;
    int rc, cap = 0, step;
    const char *zSql = kind==SPTT_EXAMPLES_DESCRIPTIONS
        ? "SELECT s.scene_id * 1000 + d.variant, s.name, 'description', NULL, d.text, s.source FROM descriptions d JOIN scenes s USING(scene_id) "
          "WHERE (?1 IS NULL OR s.split=?1) AND s.n_frames > 0 AND " CURRENT " ORDER BY s.name, d.variant"
        : "SELECT q.qa_id, s.name, q.question_type, q.prompt, coalesce(q.mc_answer, q.ground_truth), s.source FROM qa q JOIN scenes s "
          "USING(scene_id) WHERE (?1 IS NULL OR s.split=?1) AND s.n_frames > 0 AND " CURRENT " ORDER BY s.name, q.qa_id";
    memset(pOut, 0, sizeof *pOut);
    if( kind!=SPTT_EXAMPLES_DESCRIPTIONS && kind!=SPTT_EXAMPLES_QA ) return sptt_fail(SPTT_EINVAL, "unknown example kind %d", kind);
    if( (rc = sptt_db_prepare(db, zSql, &st)) ) return rc;
    sqlite3_bind_text(st, 1, zSplit, -1, SQLITE_STATIC);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        sptt_example *e;
        if( pOut->n==cap ){
            int c = cap ? 2 * cap : 256;
            sptt_example *p = sptt_realloc(pOut->a, sizeof *p * (size_t)c);
            if( p==NULL ){
                rc = SPTT_ENOMEM;
                break;
            }
            pOut->a = p;
            cap = c;
        }
        e = &pOut->a[pOut->n++];
        memset(e, 0, sizeof *e);
        e->id = sqlite3_column_int64(st, 0);
        e->zScene = dup_text(st, 1, &rc);
        e->zKind = dup_text(st, 2, &rc);
        e->zPrompt = dup_text(st, 3, &rc);
        e->zAnswer = dup_text(st, 4, &rc);
        e->zSource = dup_text(st, 5, &rc);
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "read examples");
    sqlite3_finalize(st);
    if( rc ) sptt_examples_free(pOut);
    return rc;
}

void sptt_examples_free(sptt_examples *e)
{
    for(int i = 0; i < e->n; i++){
        free(e->a[i].zScene);
        free(e->a[i].zKind);
        free(e->a[i].zPrompt);
        free(e->a[i].zAnswer);
        free(e->a[i].zSource);
    }
    free(e->a);
    memset(e, 0, sizeof *e);
}

int sptt_qa_rows_load(sqlite3 *db, const char *zSplit, const char *zScene, sptt_qa_rows *pOut)
{
    sqlite3_stmt *st = NULL;
    int rc, cap = 0, step;
    memset(pOut, 0, sizeof *pOut);
    if( zScene ){
        int64_t id;
        if( (rc = sptt_scene_id(db, zScene, &id)) ) return rc;
    }
    rc = sptt_db_prepare(db, "SELECT q.qa_id, s.name, s.source, q.question_type, q.question, q.options, q.ground_truth, "
                             "q.mc_answer, q.prompt, s.n_frames FROM qa q JOIN scenes s USING(scene_id) WHERE (?1 IS NULL OR s.split=?1) "
                             "AND (?2 IS NULL OR s.name=?2) AND " CURRENT " ORDER BY s.name, q.qa_id", &st);
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, zSplit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, zScene, -1, SQLITE_STATIC);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        sptt_qa_row *q;
        if( pOut->n==cap ){
            int c = cap ? 2 * cap : 256;
            sptt_qa_row *p = sptt_realloc(pOut->a, sizeof *p * (size_t)c);
            if( p==NULL ){
                rc = SPTT_ENOMEM;
                break;
            }
            pOut->a = p;
            cap = c;
        }
        q = &pOut->a[pOut->n++];
        memset(q, 0, sizeof *q);
        q->id = sqlite3_column_int64(st, 0);
        q->zScene = dup_text(st, 1, &rc);
        q->zSource = dup_text(st, 2, &rc);
        q->zType = dup_text(st, 3, &rc);
        q->zQuestion = dup_text(st, 4, &rc);
        q->zOptions = dup_text(st, 5, &rc);
        q->zGroundTruth = dup_text(st, 6, &rc);
        q->zMcAnswer = dup_text(st, 7, &rc);
        q->zPrompt = dup_text(st, 8, &rc);
        q->nFrames = sqlite3_column_int64(st, 9);
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "read questions");
    sqlite3_finalize(st);
    if( rc ) sptt_qa_rows_free(pOut);
    return rc;
}

void sptt_qa_rows_free(sptt_qa_rows *r)
{
    for(int i = 0; i < r->n; i++){
        sptt_qa_row *q = &r->a[i];
        free(q->zScene);
        free(q->zSource);
        free(q->zType);
        free(q->zQuestion);
        free(q->zOptions);
        free(q->zGroundTruth);
        free(q->zMcAnswer);
        free(q->zPrompt);
    }
    free(r->a);
    memset(r, 0, sizeof *r);
}
