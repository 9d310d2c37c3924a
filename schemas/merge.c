/*
** Copying scenes between datasets (sptt_dataset.h): the shards the ranks of one sptt-build write
** are merged into its dataset, and a rank starts a scene from the dataset's rows so that what is
** unchanged is skipped there as it would be in a single process.
**
** The other file is ATTACHed as "src" and each scene goes in one transaction. The tables copied
** are found from the target's schema: every table with a scene_id column. Rows keep their order
** (ORDER BY rowid), scene_id becomes the target's new id, and qa_id (the one other surrogate key)
** is left to the target to number. Foreign keys are checked at COMMIT (defer_foreign_keys), so
** the tables need no particular order.
**
** Streams (version 4) span scenes and have no scene_id: after the scenes, sptt_dataset_merge
** carries the shard's streams, each in its own transaction, replacing a stream of the same name,
** with stream_id and stream_qa_id numbered by the target. They name their scenes, whose rows were
** copied verbatim, so a stream current in the shard is current in the target.
*/
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Tables in a dataset: dataset.sql has thirteen; a bound on the schema scan. */
#define MERGE_MAX_TABLES 64

typedef struct merge_table {
    char zName[64];
    char *zCols;          /* the copied columns, in the target's order */
    char *zSelect;        /* the same, with scene_id as ?1 */
} merge_table;

typedef struct merge_ctx {
    merge_table a[MERGE_MAX_TABLES];
    int n;
} merge_ctx;

static void ctx_free(merge_ctx *c)
{
    for(int i = 0; i < c->n; i++){
        free(c->a[i].zCols);
        free(c->a[i].zSelect);
    }
    memset(c, 0, sizeof *c);
}

/* The child tables of scenes and their columns, read from the target's schema. */
static int ctx_load(sqlite3 *db, merge_ctx *c)
{
    sqlite3_stmt *st = NULL, *col = NULL;
    int rc, step;
    memset(c, 0, sizeof *c);
    rc = sptt_db_prepare(db, "SELECT m.name FROM main.sqlite_schema AS m WHERE m.type='table' AND m.name NOT LIKE 'sqlite_%' "
                             "AND m.name<>'scenes' AND EXISTS(SELECT 1 FROM pragma_table_info(m.name, 'main') AS p "
                             "WHERE p.name='scene_id') ORDER BY m.name", &st);
    if( rc==SPTT_OK ) rc = sptt_db_prepare(db, "SELECT name FROM pragma_table_info(?, 'main') ORDER BY cid", &col);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        merge_table *t;
        sptt_buf cols = {0}, sel = {0};
        const char *zTab = (const char *)sqlite3_column_text(st, 0);
        if( c->n==MERGE_MAX_TABLES ){
            rc = sptt_fail(SPTT_ECORRUPT, "%s: more than %d tables", sqlite3_db_filename(db, "main"), MERGE_MAX_TABLES);
            break;
        }
        t = &c->a[c->n];
        snprintf(t->zName, sizeof t->zName, "%s", zTab);
        sqlite3_bind_text(col, 1, zTab, -1, SQLITE_TRANSIENT);
        while( sqlite3_step(col)==SQLITE_ROW ){
            const char *zCol = (const char *)sqlite3_column_text(col, 0);
            if( strcmp(zCol, "qa_id")==0 ) continue;
            sptt_buf_printf(&cols, "%s\"%s\"", cols.n ? "," : "", zCol);
            if( strcmp(zCol, "scene_id")==0 ) sptt_buf_printf(&sel, "%s?1", sel.n ? "," : "");
            else sptt_buf_printf(&sel, "%s\"%s\"", sel.n ? "," : "", zCol);
        }
        sqlite3_reset(col);
        sptt_buf_put(&cols, "", 1);
        sptt_buf_put(&sel, "", 1);
        if( cols.rc || sel.rc ){
            sptt_buf_free(&cols);
            sptt_buf_free(&sel);
            rc = sptt_fail(SPTT_ENOMEM, "out of memory");
            break;
        }
        t->zCols = (char *)cols.p;
        t->zSelect = (char *)sel.p;
        c->n++;
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "read the schema");
    sqlite3_finalize(st);
    sqlite3_finalize(col);
    if( rc ) ctx_free(c);
    return rc;
}

/* The scenes columns other than scene_id and pack_path, in the target's order. */
static int scene_columns(sqlite3 *db, sptt_buf *b)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, "SELECT name FROM pragma_table_info('scenes', 'main') WHERE name NOT IN ('scene_id', 'pack_path') "
                                 "ORDER BY cid", &st);
    while( rc==SPTT_OK && sqlite3_step(st)==SQLITE_ROW ) sptt_buf_printf(b, ",\"%s\"", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sptt_buf_put(b, "", 1);
    if( rc==SPTT_OK && b->rc ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
    return rc;
}

static int exec_id(sqlite3 *db, const char *zSql, int64_t a, int64_t b, const char *zWhat)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, zSql, &st);
    if( rc ) return rc;
    sqlite3_bind_int64(st, 1, a);
    if( sqlite3_bind_parameter_count(st) >= 2 ) sqlite3_bind_int64(st, 2, b);
    rc = sptt_db_step_done(db, st, zWhat);
    sqlite3_finalize(st);
    return rc;
}

/*
** One scene from src into main, inside the caller's transaction. *pFound 0: src lacks it.
** zOldPack receives the pack the replaced row pointed at when the new row points elsewhere ("" if
** none), to remove after COMMIT.
*/
static int copy_scene(sqlite3 *db, const merge_ctx *c, const char *zName, int *pFound, char *zOldPack, size_t nOldPack)
{
    sqlite3_stmt *st = NULL;
    sptt_buf cols = {0}, sql = {0};
    char zPack[SPTT_PATH_MAX] = "", zNewPack[SPTT_PATH_MAX] = "";
    int64_t srcId = 0, newId = 0, oldId = 0;
    int rc, hasPack = 0;

    *pFound = 0;
    zOldPack[0] = 0;
    if( (rc = sptt_db_prepare(db, "SELECT scene_id, pack_path FROM src.scenes WHERE name=?", &st)) ) goto done;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    if( sqlite3_step(st)==SQLITE_ROW ){
        *pFound = 1;
        srcId = sqlite3_column_int64(st, 0);
        if( sqlite3_column_text(st, 1) ){
            hasPack = 1;
            rc = sptt_dataset_rebase_pack(db, "src", (const char *)sqlite3_column_text(st, 1), zPack, sizeof zPack);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if( rc || !*pFound ) goto done;
    if( hasPack && (rc = sptt_dataset_resolve_pack(db, zPack, zNewPack, sizeof zNewPack)) ) goto done;

    if( (rc = sptt_db_prepare(db, "SELECT scene_id, pack_path FROM main.scenes WHERE name=?", &st)) ) goto done;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    if( sqlite3_step(st)==SQLITE_ROW ){
        oldId = sqlite3_column_int64(st, 0);
        if( sqlite3_column_text(st, 1) )
            rc = sptt_dataset_resolve_pack(db, (const char *)sqlite3_column_text(st, 1), zOldPack, nOldPack);
        if( rc==SPTT_OK && strcmp(zOldPack, zNewPack)==0 ) zOldPack[0] = 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    if( rc ) goto done;
    /* Every child row of the old scene goes with it (ON DELETE CASCADE). */
    if( oldId && (rc = exec_id(db, "DELETE FROM main.scenes WHERE scene_id=?1", oldId, 0, "delete the replaced scene")) ) goto done;

    if( (rc = scene_columns(db, &cols)) ) goto done;
    sptt_buf_printf(&sql, "INSERT INTO main.scenes(pack_path%s) SELECT ?1%s FROM src.scenes WHERE scene_id=?2", (const char *)cols.p,
                    (const char *)cols.p);
    sptt_buf_put(&sql, "", 1);
    if( sql.rc ){
        rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        goto done;
    }
    if( (rc = sptt_db_prepare(db, (const char *)sql.p, &st)) ) goto done;
    if( hasPack ) sqlite3_bind_text(st, 1, zPack, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, srcId);
    if( (rc = sptt_db_step_done(db, st, "copy the scene row")) ) goto done;
    newId = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    st = NULL;

    for(int i = 0; i < c->n && rc==SPTT_OK; i++){
        const merge_table *t = &c->a[i];
        sql.n = 0;
        sptt_buf_printf(&sql, "INSERT INTO main.\"%s\"(%s) SELECT %s FROM src.\"%s\" WHERE scene_id=?2 ORDER BY rowid", t->zName, t->zCols,
                        t->zSelect, t->zName);
        sptt_buf_put(&sql, "", 1);
        if( sql.rc ){
            rc = sptt_fail(SPTT_ENOMEM, "out of memory");
            break;
        }
        rc = exec_id(db, (const char *)sql.p, newId, srcId, "copy the scene's rows");
    }

done:
    sqlite3_finalize(st);
    sptt_buf_free(&cols);
    sptt_buf_free(&sql);
    return rc;
}

/* Attaches zFrom as src after checking it is a dataset of this version (opened alone first, so
** that a foreign or newer file is refused with the usual message). */
static int attach(sqlite3 *db, const char *zFrom)
{
    sqlite3 *chk = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sptt_dataset_open(zFrom, SPTT_DB_READONLY, &chk);
    sptt_dataset_close(chk);
    if( rc ) return rc;
    if( (rc = sptt_db_prepare(db, "ATTACH ? AS src", &st)) ) return rc;
    sqlite3_bind_text(st, 1, zFrom, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, st, "attach");
    sqlite3_finalize(st);
    if( rc ) sptt_fail_prefix(rc, "%s: ", zFrom);
    return rc;
}

static void detach(sqlite3 *db)
{
    sqlite3_exec(db, "DETACH src", NULL, NULL, NULL);
}

/* A write transaction on main alone. BEGIN IMMEDIATE would take the write lock of every attached
** file too, src included: the dataset that all the ranks of a build copy their scenes from. A
** write that changes nothing, first in a deferred transaction, takes main's lock (waiting on the
** busy timeout) before anything is read. */
static int begin_main(sqlite3 *db)
{
    int rc = sptt_db_exec(db, "BEGIN");
    if( rc ) return rc;
    if( (rc = sptt_db_exec(db, "DELETE FROM main.scenes WHERE 0")) ) sptt_db_rollback(db);
    return rc;
}

/* One scene in its own transaction, then its replaced pack removed. */
static int copy_one(sqlite3 *db, const merge_ctx *c, const char *zName, int *pFound)
{
    char zOldPack[SPTT_PATH_MAX];
    int rc = begin_main(db);
    if( rc ) return rc;
    if( (rc = sptt_db_exec(db, "PRAGMA defer_foreign_keys=ON")) ) goto done;
    if( (rc = copy_scene(db, c, zName, pFound, zOldPack, sizeof zOldPack)) ) goto done;
    rc = sptt_db_commit(db);
done:
    if( rc ){
        sptt_db_rollback(db);
        sptt_fail_prefix(rc, "scene %s: ", zName);
        return rc;
    }
    if( zOldPack[0] && unlink(zOldPack)!=0 && errno!=ENOENT ){
        /* The rows are right; a leftover file only takes space. */
        fprintf(stderr, "warning: %s: cannot remove the replaced pack: %s\n", zOldPack, strerror(errno));
    }
    return SPTT_OK;
}

int sptt_dataset_copy_scene(sqlite3 *db, const char *zFrom, const char *zName, int *pFound)
{
    merge_ctx c;
    int rc;
    *pFound = 0;
    if( (rc = ctx_load(db, &c)) ) return rc;
    if( (rc = attach(db, zFrom))==SPTT_OK ){
        rc = copy_one(db, &c, zName, pFound);
        detach(db);
    }
    ctx_free(&c);
    return rc;
}

/* Every stream of src into main, one transaction each, in name order. */
static int copy_streams(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    sptt_scene_names names = {0};
    int rc, step = SQLITE_DONE;
    rc = sptt_db_prepare(db, "SELECT name FROM src.streams ORDER BY name", &st);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        char **p = sptt_realloc(names.az, sizeof(char *) * (size_t)(names.n + 1));
        if( p==NULL ){
            rc = SPTT_ENOMEM;
            break;
        }
        names.az = p;
        if( (names.az[names.n] = strdup((const char *)sqlite3_column_text(st, 0)))==NULL ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        else names.n++;
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "list the shard's streams");
    sqlite3_finalize(st);
    st = NULL;
    for(int i = 0; i < names.n && rc==SPTT_OK; i++){
        static const char *const azSql[] = {
            "DELETE FROM main.streams WHERE name=?1",
            "INSERT INTO main.streams(name, seed, n_rooms, n_frames, params, created_at) "
            "SELECT name, seed, n_rooms, n_frames, params, created_at FROM src.streams WHERE name=?1",
            "INSERT INTO main.stream_scenes SELECT (SELECT stream_id FROM main.streams WHERE name=?1), x.position, x.scene_name, "
            "x.frame_offset, x.n_frames, x.annotated_geometry, x.annotate_params FROM src.stream_scenes AS x JOIN src.streams AS t "
            "USING(stream_id) WHERE t.name=?1 ORDER BY x.position",
            "INSERT INTO main.stream_qa(stream_id, question_type, query_frame, question, options, ground_truth, answer_text, objects, "
            "prompt, meta) SELECT (SELECT stream_id FROM main.streams WHERE name=?1), q.question_type, q.query_frame, q.question, "
            "q.options, q.ground_truth, q.answer_text, q.objects, q.prompt, q.meta FROM src.stream_qa AS q JOIN src.streams AS t "
            "USING(stream_id) WHERE t.name=?1 ORDER BY q.stream_qa_id",
        };
        if( (rc = begin_main(db)) ) break;
        for(size_t k = 0; k < sizeof azSql / sizeof azSql[0] && rc==SPTT_OK; k++){
            if( (rc = sptt_db_prepare(db, azSql[k], &st)) ) break;
            sqlite3_bind_text(st, 1, names.az[i], -1, SQLITE_STATIC);
            rc = sptt_db_step_done(db, st, "copy a stream");
            sqlite3_finalize(st);
            st = NULL;
        }
        if( rc==SPTT_OK ) rc = sptt_db_commit(db);
        if( rc ){
            sptt_db_rollback(db);
            sptt_fail_prefix(rc, "stream %s: ", names.az[i]);
        }
    }
    sptt_scene_names_free(&names);
    return rc;
}

int sptt_dataset_merge(sqlite3 *db, const char *zShard, int *pnScenes)
{
    merge_ctx c;
    sptt_scene_names names = {0};
    sqlite3_stmt *st = NULL;
    int rc, step = SQLITE_DONE;

    *pnScenes = 0;
    if( (rc = ctx_load(db, &c)) ) return rc;
    if( (rc = attach(db, zShard)) ){
        ctx_free(&c);
        return rc;
    }
    /* The names first: each scene's transaction must not run under an open read of src. */
    rc = sptt_db_prepare(db, "SELECT name FROM src.scenes ORDER BY name", &st);
    while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ){
        char **p = sptt_realloc(names.az, sizeof(char *) * (size_t)(names.n + 1));
        if( p==NULL ){
            rc = SPTT_ENOMEM;
            break;
        }
        names.az = p;
        if( (names.az[names.n] = strdup((const char *)sqlite3_column_text(st, 0)))==NULL ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        else names.n++;
    }
    if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "list the shard's scenes");
    sqlite3_finalize(st);
    for(int i = 0; i < names.n && rc==SPTT_OK; i++){
        int found;
        rc = copy_one(db, &c, names.az[i], &found);
        assert( rc || found );
        if( rc==SPTT_OK ) (*pnScenes)++;
    }
    if( rc==SPTT_OK ) rc = copy_streams(db);
    detach(db);
    if( rc ) sptt_fail_prefix(rc, "merging %s: ", zShard);
    sptt_scene_names_free(&names);
    ctx_free(&c);
    return rc;
}
