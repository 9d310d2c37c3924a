/*
** Long-horizon streams (sptt_dataset.h): the scenes a stream may walk, a stream's rows written and
** checked, and the current streams with their questions for the readers.
**
** "Current" is one SQL condition (STREAM_STALE below, negated): a stream is stale when any of its
** scenes is gone, has no current annotations, holds annotations made from another geometry or
** with other options than the ones the questions were made from, or has another frame count.
** A scene annotated again with the same options on the same geometry writes the same rows, so it
** leaves its streams current (a merge of shards does exactly that).
*/
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <stdlib.h>
#include <string.h>

/* Annotations current, as every reader of annotations asks (examples.c). */
#define SCENE_CURRENT "s.annotated_at IS NOT NULL AND s.annotated_geometry=s.geometry_hash AND s.geometry_input=s.input_hash"

/* True for a stream ?1 (a stream_id expression) that is not current. */
#define STREAM_STALE(ID) \
    "EXISTS(SELECT 1 FROM stream_scenes AS x LEFT JOIN scenes AS s ON s.name=x.scene_name WHERE x.stream_id=" ID " AND " \
    "(s.scene_id IS NULL OR NOT (" SCENE_CURRENT ") OR s.annotated_geometry IS NOT x.annotated_geometry OR " \
    "s.annotate_params IS NOT x.annotate_params OR s.n_frames IS NOT x.n_frames))"

static char *dup_col(sqlite3_stmt *st, int i, int *pRc)
{
    const char *z = (const char *)sqlite3_column_text(st, i);
    char *p;
    if( z==NULL ) return NULL;
    if( (p = strdup(z))==NULL ) *pRc = sptt_fail(SPTT_ENOMEM, "out of memory");
    return p;
}

static void copy_col(sqlite3_stmt *st, int i, char *z, size_t n)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    snprintf(z, n, "%s", v ? v : "");
}

int sptt_stream_sources_load(sqlite3 *db, const char *zSplit, sptt_stream_sources *pOut)
{
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_DONE, cap = 0;
    memset(pOut, 0, sizeof *pOut);
    rc = sptt_db_prepare(db, "SELECT s.name, s.source, s.split, s.n_frames, s.fps, s.annotated_geometry, s.annotate_params FROM scenes s "
                             "WHERE " SCENE_CURRENT " AND s.pack_path IS NOT NULL AND s.n_frames > 0 AND (?1 IS NULL OR s.split=?1) "
                             "ORDER BY s.name", &st);
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, zSplit, -1, SQLITE_STATIC);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        sptt_stream_source *s;
        if( pOut->n==cap ){
            int c = cap ? 2 * cap : 64;
            sptt_stream_source *p = sptt_realloc(pOut->a, sizeof *p * (size_t)c);
            if( p==NULL ){
                rc = SPTT_ENOMEM;
                break;
            }
            pOut->a = p;
            cap = c;
        }
        s = &pOut->a[pOut->n++];
        memset(s, 0, sizeof *s);
        copy_col(st, 0, s->zName, sizeof s->zName);
        copy_col(st, 1, s->zSource, sizeof s->zSource);
        copy_col(st, 2, s->zSplit, sizeof s->zSplit);
        s->nFrames = sqlite3_column_int64(st, 3);
        s->fps = sqlite3_column_double(st, 4);
        copy_col(st, 5, s->zAnnotatedGeometry, sizeof s->zAnnotatedGeometry);
        s->zAnnotateParams = dup_col(st, 6, &rc);
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "read the scenes streams may walk");
    sqlite3_finalize(st);
    if( rc ) sptt_stream_sources_free(pOut);
    return rc;
}

void sptt_stream_sources_free(sptt_stream_sources *p)
{
    for(int i = 0; i < p->n; i++) free(p->a[i].zAnnotateParams);
    free(p->a);
    memset(p, 0, sizeof *p);
}

int sptt_stream_unchanged(sqlite3 *db, const char *zName, const char *zParams, int *pUnchanged)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, "SELECT NOT " STREAM_STALE("t.stream_id") " FROM streams AS t WHERE t.name=?1 AND t.params=?2", &st);
    *pUnchanged = 0;
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, zParams, -1, SQLITE_STATIC);
    switch( sqlite3_step(st) ){
    case SQLITE_ROW: *pUnchanged = sqlite3_column_int(st, 0); break;
    case SQLITE_DONE: break;
    default: rc = sptt_db_fail(db, "look up a stream");
    }
    sqlite3_finalize(st);
    return rc;
}

int sptt_stream_replace(sqlite3 *db, const char *zName, uint64_t seed, const char *zParams, const sptt_stream_source *const *apScene,
                        int nScene, int64_t *pId)
{
    sqlite3_stmt *st = NULL;
    char zNow[32];
    int64_t nFrames = 0, id;
    int rc;
    if( nScene < 1 ) return sptt_fail(SPTT_EINVAL, "stream %s: no scene", zName);
    for(int i = 0; i < nScene; i++) nFrames += apScene[i]->nFrames;
    if( (rc = sptt_db_prepare(db, "DELETE FROM streams WHERE name=?1", &st)) ) return rc;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, st, "delete the stream replaced");
    sqlite3_finalize(st);
    st = NULL;
    if( rc ) return rc;
    sptt_db_timestamp(zNow);
    if( (rc = sptt_db_prepare(db, "INSERT INTO streams(name, seed, n_rooms, n_frames, params, created_at) VALUES(?,?,?,?,?,?)", &st)) ) return rc;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)seed);
    sqlite3_bind_int(st, 3, nScene);
    sqlite3_bind_int64(st, 4, nFrames);
    sqlite3_bind_text(st, 5, zParams, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, zNow, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, st, "insert a stream");
    sqlite3_finalize(st);
    st = NULL;
    if( rc ) return rc;
    id = sqlite3_last_insert_rowid(db);
    if( (rc = sptt_db_prepare(db, "INSERT INTO stream_scenes VALUES(?,?,?,?,?,?,?)", &st)) ) return rc;
    nFrames = 0;
    for(int i = 0; i < nScene && rc==SPTT_OK; i++){
        const sptt_stream_source *s = apScene[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_text(st, 3, s->zName, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, nFrames);
        sqlite3_bind_int64(st, 5, s->nFrames);
        sqlite3_bind_text(st, 6, s->zAnnotatedGeometry, -1, SQLITE_STATIC);
        if( s->zAnnotateParams ) sqlite3_bind_text(st, 7, s->zAnnotateParams, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 7);
        rc = sptt_db_step_done(db, st, "insert a stream's scene");
        nFrames += s->nFrames;
    }
    sqlite3_finalize(st);
    if( rc==SPTT_OK ) *pId = id;
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Readers
*/
static int grow(void **pp, int n, int *pCap, size_t sz)
{
    if( n < *pCap ) return SPTT_OK;
    int c = *pCap ? 2 * *pCap : 16;
    void *p = sptt_realloc(*pp, sz * (size_t)c);
    if( p==NULL ) return SPTT_ENOMEM;
    *pp = p;
    *pCap = c;
    return SPTT_OK;
}

int sptt_streams_load(sqlite3 *db, const char *zSplit, sptt_streams *pOut)
{
    sqlite3_stmt *st = NULL, *sc = NULL, *qs = NULL;
    int rc, step = SQLITE_DONE, cap = 0;
    memset(pOut, 0, sizeof *pOut);
    rc = sptt_db_prepare(db, "SELECT t.stream_id, t.name, t.seed, t.n_frames FROM streams AS t WHERE NOT " STREAM_STALE("t.stream_id")
                             " AND (?1 IS NULL OR NOT EXISTS(SELECT 1 FROM stream_scenes AS y JOIN scenes AS z ON z.name=y.scene_name "
                             "WHERE y.stream_id=t.stream_id AND z.split IS NOT ?1)) ORDER BY t.name", &st);
    if( rc==SPTT_OK ) rc = sptt_db_prepare(db, "SELECT x.scene_name, s.source, x.frame_offset, x.n_frames FROM stream_scenes AS x "
                                               "JOIN scenes AS s ON s.name=x.scene_name WHERE x.stream_id=? ORDER BY x.position", &sc);
    if( rc==SPTT_OK ) rc = sptt_db_prepare(db, "SELECT stream_qa_id, question_type, query_frame, question, options, ground_truth, prompt "
                                               "FROM stream_qa WHERE stream_id=? ORDER BY query_frame, stream_qa_id", &qs);
    if( rc ) goto done;
    sqlite3_bind_text(st, 1, zSplit, -1, SQLITE_STATIC);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        sptt_stream_row *t;
        int capS = 0, capQ = 0;
        if( (rc = grow((void **)&pOut->a, pOut->n, &cap, sizeof *pOut->a)) ) break;
        t = &pOut->a[pOut->n++];
        memset(t, 0, sizeof *t);
        t->id = sqlite3_column_int64(st, 0);
        t->zName = dup_col(st, 1, &rc);
        t->seed = sqlite3_column_int64(st, 2);
        t->nFrames = sqlite3_column_int64(st, 3);
        sqlite3_bind_int64(sc, 1, t->id);
        while( rc==SPTT_OK && sqlite3_step(sc)==SQLITE_ROW ){
            sptt_stream_scene *s;
            if( (rc = grow((void **)&t->aScene, t->nScene, &capS, sizeof *t->aScene)) ) break;
            s = &t->aScene[t->nScene++];
            memset(s, 0, sizeof *s);
            s->zName = dup_col(sc, 0, &rc);
            s->zSource = dup_col(sc, 1, &rc);
            s->offset = sqlite3_column_int64(sc, 2);
            s->nFrames = sqlite3_column_int64(sc, 3);
        }
        sqlite3_reset(sc);
        sqlite3_bind_int64(qs, 1, t->id);
        while( rc==SPTT_OK && sqlite3_step(qs)==SQLITE_ROW ){
            sptt_stream_question *q;
            if( (rc = grow((void **)&t->aQuestion, t->nQuestion, &capQ, sizeof *t->aQuestion)) ) break;
            q = &t->aQuestion[t->nQuestion++];
            memset(q, 0, sizeof *q);
            q->id = sqlite3_column_int64(qs, 0);
            q->zType = dup_col(qs, 1, &rc);
            q->queryFrame = sqlite3_column_int64(qs, 2);
            q->zQuestion = dup_col(qs, 3, &rc);
            q->zOptions = dup_col(qs, 4, &rc);
            q->zGroundTruth = dup_col(qs, 5, &rc);
            q->zPrompt = dup_col(qs, 6, &rc);
        }
        sqlite3_reset(qs);
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "read streams");
done:
    sqlite3_finalize(st);
    sqlite3_finalize(sc);
    sqlite3_finalize(qs);
    if( rc ) sptt_streams_free(pOut);
    return rc;
}

void sptt_streams_free(sptt_streams *p)
{
    for(int i = 0; i < p->n; i++){
        sptt_stream_row *t = &p->a[i];
        for(int k = 0; k < t->nScene; k++){
            free(t->aScene[k].zName);
            free(t->aScene[k].zSource);
        }
        for(int k = 0; k < t->nQuestion; k++){
            sptt_stream_question *q = &t->aQuestion[k];
            free(q->zType);
            free(q->zQuestion);
            free(q->zOptions);
            free(q->zGroundTruth);
            free(q->zPrompt);
        }
        free(t->zName);
        free(t->aScene);
        free(t->aQuestion);
    }
    free(p->a);
    memset(p, 0, sizeof *p);
}
