/*
** The `scenes` table and its stage state (sptt_dataset.h): the only code that reads or writes it.
*/
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <jansson.h>

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
** Pack paths
*/
static int schema_dir(sqlite3 *db, const char *zSchema, char *zOut, size_t nOut);
static int dataset_dir(sqlite3 *db, char *zOut, size_t nOut) { return schema_dir(db, "main", zOut, nOut); }


/* The database's folder, absolute and with symbolic links resolved, so that a pack folder given
** by the user compares with it however either was spelt. */
static int schema_dir(sqlite3 *db, const char *zSchema, char *zOut, size_t nOut)
{
    const char *zFile = sqlite3_db_filename(db, zSchema);
    char zDir[SPTT_PATH_MAX];
    const char *slash = zFile ? strrchr(zFile, '/') : NULL;
    if( zFile==NULL || zFile[0]==0 ){
        /* An in-memory or temporary database: the working directory stands in. */
        if( getcwd(zOut, nOut)==NULL ) return sptt_fail(SPTT_EIO, "cannot read the working directory: %s", strerror(errno));
        return SPTT_OK;
    }
    if( slash==zFile ) snprintf(zDir, sizeof zDir, "/");
    else if( slash ) snprintf(zDir, sizeof zDir, "%.*s", (int)(slash - zFile), zFile);
    else snprintf(zDir, sizeof zDir, ".");
    char *zReal = realpath(zDir, NULL);
    if( zReal==NULL ) return sptt_fail(SPTT_EIO, "%s: cannot resolve the dataset's folder: %s", zDir, strerror(errno));
    int rc = sptt_pathf(zOut, nOut, "%s", zReal);
    free(zReal);
    return rc;
}

int sptt_dataset_pack_dir(sqlite3 *db, const char *zPackDir, char *zOut, size_t nOut)
{
    char zDir[SPTT_PATH_MAX];
    int rc;
    if( zPackDir ){
        rc = sptt_pathf(zDir, sizeof zDir, "%s", zPackDir);
    }else{
        rc = dataset_dir(db, zDir, sizeof zDir);
        if( rc==SPTT_OK ) rc = sptt_pathf(zDir + strlen(zDir), sizeof zDir - strlen(zDir), "/packs");
    }
    if( rc ) return rc;
    if( (rc = sptt_mkdirs(zDir)) ) return rc;
    char *zReal = realpath(zDir, NULL);
    if( zReal==NULL ) return sptt_fail(SPTT_EIO, "%s: cannot resolve the pack folder: %s", zDir, strerror(errno));
    rc = sptt_pathf(zOut, nOut, "%s", zReal);
    free(zReal);
    if( rc==SPTT_OK ){
        /* Packs a killed ingest left under a temporary name go the first time a process uses
        ** the folder (once: scanning it for every scene of a large build would cost). */
        static _Thread_local char zCleaned[SPTT_PATH_MAX];
        if( strcmp(zCleaned, zOut)!=0 ){
            sptt_clean_stale_tmp(zOut);
            snprintf(zCleaned, sizeof zCleaned, "%s", zOut);
        }
    }
    return rc;
}

/* The form stored in pack_path: relative to the dataset's folder when the pack lies inside it. */
static int pack_ref(sqlite3 *db, const char *zPack, char *zOut, size_t nOut)
{
    char zDir[SPTT_PATH_MAX];
    int rc = dataset_dir(db, zDir, sizeof zDir);
    size_t n = strlen(zDir);
    if( rc ) return rc;
    if( zPack[0]=='/' && strncmp(zPack, zDir, n)==0 && zPack[n]=='/' ) return sptt_pathf(zOut, nOut, "%s", zPack + n + 1);
    return sptt_pathf(zOut, nOut, "%s", zPack);
}

int sptt_dataset_resolve_pack(sqlite3 *db, const char *zStored, char *zOut, size_t nOut)
{
    char zDir[SPTT_PATH_MAX];
    int rc;
    if( zStored[0]=='/' ) return sptt_pathf(zOut, nOut, "%s", zStored);
    if( (rc = dataset_dir(db, zDir, sizeof zDir)) ) return rc;
    return sptt_pathf(zOut, nOut, "%s/%s", zDir, zStored);
}

/* ---------------------------------------------------------------------------------------------
** Reading rows
*/
#define SCENE_COLUMNS                                                                                     \
    "scene_id, name, source, split, input_hash, pack_path, n_points, n_faces, n_frames, fps, ingested_at, " \
    "geometry_at, annotated_at, geometry_input, geometry_hash, annotated_geometry, room_area, room_height, "  \
    "room_center_x, room_center_y, room_center_z, room_flags, room_polygon, geometry_params"

static void copy_col(sqlite3_stmt *st, int i, char *z, size_t n)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    snprintf(z, n, "%s", v ? v : "");
}

static int dup_col(sqlite3_stmt *st, int i, char **pz)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    *pz = NULL;
    if( v==NULL ) return SPTT_OK;
    *pz = strdup(v);
    return *pz ? SPTT_OK : sptt_fail(SPTT_ENOMEM, "out of memory");
}

static int row_from_stmt(sqlite3 *db, sqlite3_stmt *st, sptt_scene_row *r)
{
    char zStored[SPTT_PATH_MAX];
    int rc;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    copy_col(st, 1, r->zName, sizeof r->zName);
    copy_col(st, 2, r->zSource, sizeof r->zSource);
    copy_col(st, 3, r->zSplit, sizeof r->zSplit);
    copy_col(st, 4, r->zInputHash, sizeof r->zInputHash);
    copy_col(st, 5, zStored, sizeof zStored);
    r->nPoints = sqlite3_column_int64(st, 6);
    r->nFaces = sqlite3_column_int64(st, 7);
    r->nFrames = sqlite3_column_int64(st, 8);
    r->fps = sqlite3_column_double(st, 9);
    copy_col(st, 10, r->zIngestedAt, sizeof r->zIngestedAt);
    copy_col(st, 11, r->zGeometryAt, sizeof r->zGeometryAt);
    copy_col(st, 12, r->zAnnotatedAt, sizeof r->zAnnotatedAt);
    copy_col(st, 13, r->zGeometryInput, sizeof r->zGeometryInput);
    copy_col(st, 14, r->zGeometryHash, sizeof r->zGeometryHash);
    copy_col(st, 15, r->zAnnotatedGeometry, sizeof r->zAnnotatedGeometry);
    r->roomArea = sqlite3_column_double(st, 16);
    r->roomHeight = sqlite3_column_double(st, 17);
    for(int k = 0; k < 3; k++) r->roomCenter[k] = sqlite3_column_double(st, 18 + k);
    r->roomFlags = sqlite3_column_int64(st, 21);
    if( (rc = dup_col(st, 22, &r->zPolygon)) ) return rc;
    if( (rc = dup_col(st, 23, &r->zGeometryParams)) ) return rc;
    if( zStored[0] && (rc = sptt_dataset_resolve_pack(db, zStored, r->zPack, sizeof r->zPack)) ) return rc;
    return SPTT_OK;
}

int sptt_scene_get(sqlite3 *db, const char *zName, sptt_scene_row *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, "SELECT " SCENE_COLUMNS " FROM scenes WHERE name=?", &st);
    memset(r, 0, sizeof *r);
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    switch( sqlite3_step(st) ){
    case SQLITE_ROW:
        rc = row_from_stmt(db, st, r);
        break;
    case SQLITE_DONE:
        rc = sptt_fail(SPTT_EINVAL, "scene '%s' is not in %s", zName, sqlite3_db_filename(db, "main"));
        break;
    default:
        rc = sptt_db_fail(db, "read scene");
    }
    sqlite3_finalize(st);
    if( rc ) sptt_scene_row_free(r);
    return rc;
}

void sptt_scene_row_free(sptt_scene_row *r)
{
    free(r->zPolygon);
    free(r->zGeometryParams);
    r->zPolygon = NULL;
    r->zGeometryParams = NULL;
}

int sptt_scene_read_pack(const sptt_scene_row *r, int flags, sptt_pack *p)
{
    json_error_t e;
    json_t *m;
    const char *zName, *zHash;
    int rc;
    if( r->zPack[0]==0 ) return sptt_fail(SPTT_ESTATE, "scene '%s' has no pack (run sptt-ingest on it)", r->zName);
    if( (rc = sptt_pack_read(r->zPack, flags, p)) ) return rc;
    m = json_loads(p->zMeta, 0, &e);
    zName = json_string_value(json_object_get(m, "name"));
    zHash = json_string_value(json_object_get(m, "input_hash"));
    if( zName==NULL || zHash==NULL || strcmp(zName, r->zName)!=0 || strcmp(zHash, r->zInputHash)!=0 ){
        rc = sptt_fail(SPTT_ECORRUPT, "%s: the pack holds scene '%s' (input %s), not scene '%s' (input %s) as the dataset says; "
                       "re-ingest '%s'", r->zPack, zName ? zName : "?", zHash ? zHash : "?", r->zName, r->zInputHash, r->zName);
        sptt_pack_free(p);
    }
    json_decref(m);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Selecting
*/
void sptt_scene_names_free(sptt_scene_names *l)
{
    for(int i = 0; i < l->n; i++) free(l->az[i]);
    free(l->az);
    memset(l, 0, sizeof *l);
}

static int names_add(sptt_scene_names *l, const char *z)
{
    char **p = sptt_realloc(l->az, sizeof(char *) * (size_t)(l->n + 1));
    if( p==NULL ) return SPTT_ENOMEM;
    l->az = p;
    l->az[l->n] = strdup(z);
    if( l->az[l->n]==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    l->n++;
    return SPTT_OK;
}

/* The SQL condition for a stage state; annotations are current only when made from the present
** geometry, and geometry only when computed on the present input. */
static const char *state_sql(int state)
{
    switch( state ){
    case SPTT_STATE_PACK: return "pack_path IS NOT NULL";
    case SPTT_STATE_GEOMETRY: return "pack_path IS NOT NULL AND geometry_at IS NOT NULL AND geometry_input=input_hash";
    case SPTT_STATE_ANNOTATED:
        return "pack_path IS NOT NULL AND geometry_at IS NOT NULL AND geometry_input=input_hash AND annotated_at IS NOT NULL "
               "AND annotated_geometry=geometry_hash";
    default: return "1";
    }
}

int sptt_scene_select(sqlite3 *db, const sptt_scene_query *q, sptt_scene_names *pList)
{
    sqlite3_stmt *st = NULL;
    char zSql[512];
    int rc;
    memset(pList, 0, sizeof *pList);
    snprintf(zSql, sizeof zSql, "SELECT name FROM scenes WHERE (?1 IS NULL OR name=?1) AND (?2 IS NULL OR source=?2) "
             "AND (?3 IS NULL OR split=?3) AND %s ORDER BY name", state_sql(q->state));
    if( (rc = sptt_db_prepare(db, zSql, &st)) ) return rc;
    sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, q->zSource, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->zSplit, -1, SQLITE_STATIC);
    if( q->nName > 0 ){
        /* Named scenes are taken in the order given, whatever their state: each must exist (a
        ** typo is an error, not silently nothing) and the stage says why it cannot run on one. */
        for(int i = 0; i < q->nName && rc==SPTT_OK; i++){
            int64_t id;
            if( (rc = sptt_scene_id(db, q->azName[i], &id)) ) break;
            rc = names_add(pList, q->azName[i]);
        }
    }else{
        int step;
        while( rc==SPTT_OK && (step = sqlite3_step(st))==SQLITE_ROW ) rc = names_add(pList, (const char *)sqlite3_column_text(st, 0));
        if( rc==SPTT_OK && step!=SQLITE_DONE ) rc = sptt_db_fail(db, "list scenes");
    }
    sqlite3_finalize(st);
    if( rc ) sptt_scene_names_free(pList);
    return rc;
}

static int exec_bound(sqlite3 *db, const char *zSql, int64_t id, const char *zText, const char *zWhat)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, zSql, &st);
    if( rc ) return rc;
    sqlite3_bind_int64(st, 1, id);
    if( zText ) sqlite3_bind_text(st, 2, zText, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, st, zWhat);
    sqlite3_finalize(st);
    return rc;
}

int sptt_scene_set_split(sqlite3 *db, const char *zName, const char *zSplit)
{
    int64_t id;
    int rc;
    if( zSplit && strcmp(zSplit, "train")!=0 && strcmp(zSplit, "val")!=0 && strcmp(zSplit, "test")!=0 )
        return sptt_fail(SPTT_EINVAL, "split '%s' is not train, val or test", zSplit);
    if( (rc = sptt_scene_id(db, zName, &id)) ) return rc;
    return exec_bound(db, "UPDATE scenes SET split=?2 WHERE scene_id=?1", id, zSplit, "set split");
}

/* ---------------------------------------------------------------------------------------------
** Ingest
*/
int sptt_scene_unchanged(sqlite3 *db, const char *zName, const char *zSource, const char *zHash)
{
    sptt_scene_row r;
    int same;
    if( sptt_scene_get(db, zName, &r) ) return 0;
    same = strcmp(r.zSource, zSource)==0 && strcmp(r.zInputHash, zHash)==0 && r.zPack[0] && access(r.zPack, R_OK)==0;
    sptt_scene_row_free(&r);
    return same;
}

int sptt_scene_insert(sqlite3 *db, const sptt_scene_new *n, int64_t *pId, char *zOldPack, size_t nOldPack)
{
    sqlite3_stmt *st = NULL;
    char zNow[32], zRef[SPTT_PATH_MAX];
    int rc;
    int64_t oldId = 0;

    zOldPack[0] = 0;
    if( strlen(n->zName) >= SPTT_SCENE_NAME_MAX )
        return sptt_fail(SPTT_EINVAL, "scene name '%.40s...' is longer than %d bytes", n->zName, SPTT_SCENE_NAME_MAX - 1);
    rc = sptt_db_prepare(db, "SELECT scene_id, source, pack_path FROM scenes WHERE name=?", &st);
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, n->zName, -1, SQLITE_STATIC);
    if( sqlite3_step(st)==SQLITE_ROW ){
        const char *zSource = (const char *)sqlite3_column_text(st, 1);
        const char *zPack = (const char *)sqlite3_column_text(st, 2);
        oldId = sqlite3_column_int64(st, 0);
        if( strcmp(zSource, n->zSource)!=0 && !n->replace ){
            rc = sptt_fail(SPTT_EINVAL, "scene '%s' already exists in %s from %s; pass --replace to replace it with this %s scene",
                           n->zName, sqlite3_db_filename(db, "main"), zSource, n->zSource);
        }else if( zPack ){
            rc = sptt_dataset_resolve_pack(db, zPack, zOldPack, nOldPack);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if( rc ) return rc;
    if( oldId && (rc = exec_bound(db, "DELETE FROM scenes WHERE scene_id=?1", oldId, NULL, "delete old scene")) ) return rc;

    if( (rc = pack_ref(db, n->zPack, zRef, sizeof zRef)) ) return rc;
    sptt_db_timestamp(zNow);
    rc = sptt_db_prepare(db, "INSERT INTO scenes(name, source, pack_path, input_hash, n_points, n_faces, n_frames, fps, "
                             "alignment, ingested_at) VALUES(?,?,?,?,?,?,?,?,?,?)", &st);
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, n->zName, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, n->zSource, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, zRef, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, n->zInputHash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, n->nPoints);
    sqlite3_bind_int64(st, 6, n->nFaces);
    sqlite3_bind_int64(st, 7, n->nFrames);
    sptt_db_bind_real(st, 8, n->fps);
    sptt_db_bind_floats(st, 9, n->alignment, 16);
    sqlite3_bind_text(st, 10, zNow, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, st, "insert scene");
    if( rc==SPTT_OK ) *pId = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    return rc;
}

int sptt_scene_set_warnings(sqlite3 *db, int64_t id, const char *zStage, int n, char *const *azCode, char *const *azMsg)
{
    sqlite3_stmt *st = NULL;
    int rc = exec_bound(db, "DELETE FROM scene_warnings WHERE scene_id=?1 AND stage=?2", id, zStage, "clear warnings");
    if( rc ) return rc;
    if( n==0 ) return SPTT_OK;
    if( (rc = sptt_db_prepare(db, "INSERT INTO scene_warnings(scene_id, stage, code, message) VALUES(?,?,?,?)", &st)) ) return rc;
    for(int i = 0; i < n && rc==SPTT_OK; i++){
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, zStage, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, azCode[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, azMsg[i], -1, SQLITE_STATIC);
        rc = sptt_db_step_done(db, st, "insert warning");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Geometry and annotations
*/
int sptt_scene_clear_annotations(sqlite3 *db, int64_t id)
{
    static const char *const azSql[] = {
        "DELETE FROM visibility WHERE scene_id=?1", "DELETE FROM relations WHERE scene_id=?1",
        "DELETE FROM qa WHERE scene_id=?1", "DELETE FROM descriptions WHERE scene_id=?1",
        "DELETE FROM scene_warnings WHERE scene_id=?1 AND stage='annotate'",
        "UPDATE scenes SET annotated_at=NULL, annotated_geometry=NULL, annotate_params=NULL WHERE scene_id=?1",
    };
    int rc = SPTT_OK;
    for(size_t i = 0; i < sizeof azSql / sizeof azSql[0] && rc==SPTT_OK; i++) rc = exec_bound(db, azSql[i], id, NULL, "clear annotations");
    return rc;
}

int sptt_scene_set_geometry(sqlite3 *db, int64_t id, const sptt_scene_geometry *g, int *pInvalidated)
{
    sqlite3_stmt *st = NULL;
    char zNow[32];
    int rc, hadAnnotations = 0, same = 0;

    *pInvalidated = 0;
    rc = sptt_db_prepare(db, "SELECT input_hash, geometry_hash, annotated_at IS NOT NULL OR EXISTS(SELECT 1 FROM qa WHERE scene_id=?1) "
                             "OR EXISTS(SELECT 1 FROM descriptions WHERE scene_id=?1) FROM scenes WHERE scene_id=?1", &st);
    if( rc ) return rc;
    sqlite3_bind_int64(st, 1, id);
    if( sqlite3_step(st)!=SQLITE_ROW || sqlite3_column_text(st, 0)==NULL ||
        strcmp((const char *)sqlite3_column_text(st, 0), g->zInputHash)!=0 ){
        sqlite3_finalize(st);
        return sptt_fail(SPTT_ESTATE, "the scene was removed or re-ingested while its geometry was computed; run again");
    }
    same = sqlite3_column_text(st, 1) && strcmp((const char *)sqlite3_column_text(st, 1), g->zResultHash)==0;
    hadAnnotations = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    st = NULL;
    if( !same && hadAnnotations ){
        /* Answers and descriptions were read off the old boxes: they go with them. */
        if( (rc = sptt_scene_clear_annotations(db, id)) ) return rc;
        *pInvalidated = 1;
    }
    sptt_db_timestamp(zNow);
    rc = sptt_db_prepare(db, "UPDATE scenes SET room_area=?, room_height=?, room_center_x=?, room_center_y=?, room_center_z=?, "
                             "room_polygon=?, room_flags=?, geometry_params=?, geometry_at=?, geometry_input=?, geometry_hash=? "
                             "WHERE scene_id=?", &st);
    if( rc ) return rc;
    sptt_db_bind_real(st, 1, g->roomArea);
    sptt_db_bind_real(st, 2, g->roomHeight);
    for(int k = 0; k < 3; k++) sptt_db_bind_real(st, 3 + k, g->roomCenter[k]);
    sqlite3_bind_text(st, 6, g->zPolygon, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, g->roomFlags);
    sqlite3_bind_text(st, 8, g->zParams, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, zNow, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, g->zInputHash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, g->zResultHash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, id);
    rc = sptt_db_step_done(db, st, "update scene geometry");
    sqlite3_finalize(st);
    return rc;
}

int sptt_scene_check_geometry(sqlite3 *db, const sptt_scene_row *r)
{
    const char *zDb = sqlite3_db_filename(db, "main");
    if( r->zGeometryAt[0]==0 || r->zGeometryHash[0]==0 )
        return sptt_fail(SPTT_ESTATE, "scene '%s': room and object geometry not computed; run first: sptt-geometry --db %s --scene %s",
                         r->zName, zDb, r->zName);
    if( strcmp(r->zGeometryInput, r->zInputHash)!=0 )
        return sptt_fail(SPTT_ESTATE, "scene '%s': its geometry was computed on an earlier ingest (input %s, now %s); run first: "
                         "sptt-geometry --db %s --scene %s", r->zName, r->zGeometryInput, r->zInputHash, zDb, r->zName);
    return SPTT_OK;
}

int sptt_scene_set_annotated(sqlite3 *db, int64_t id, const char *zGeometryHash, const char *zParams)
{
    sqlite3_stmt *st = NULL;
    char zNow[32];
    int rc;
    sptt_db_timestamp(zNow);
    rc = sptt_db_prepare(db, "UPDATE scenes SET annotated_at=?, annotated_geometry=geometry_hash, annotate_params=? "
                             "WHERE scene_id=? AND geometry_hash=?", &st);
    if( rc ) return rc;
    sqlite3_bind_text(st, 1, zNow, -1, SQLITE_STATIC);
    if( zParams ) sqlite3_bind_text(st, 2, zParams, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    sqlite3_bind_text(st, 4, zGeometryHash, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, st, "mark annotated");
    sqlite3_finalize(st);
    if( rc==SPTT_OK && sqlite3_changes(db)!=1 )
        rc = sptt_fail(SPTT_ESTATE, "the scene's geometry changed or it was re-ingested while it was annotated; run again");
    return rc;
}

/* True when every member of want equals the same member of the stored JSON text. */
static int json_members_equal(const char *zStored, json_t *want)
{
    json_error_t e;
    json_t *have = zStored ? json_loads(zStored, 0, &e) : NULL;
    const char *zKey;
    json_t *v;
    int same = json_is_object(have);
    json_object_foreach(want, zKey, v){
        json_t *h = json_object_get(have, zKey);
        if( !same ) break;
        /* Numbers by value: %.17g writes 5.0 as 5, which reads back as an integer. */
        if( json_is_number(v) && json_is_number(h) ) same = json_number_value(v)==json_number_value(h);
        else same = json_equal(v, h);
    }
    json_decref(have);
    return same;
}

int sptt_scene_stage_current(sqlite3 *db, const char *zName, int stage, const char *zParams, int *pCurrent)
{
    sqlite3_stmt *st = NULL;
    json_error_t e;
    json_t *want = NULL;
    int rc;

    assert( stage==SPTT_STATE_GEOMETRY || stage==SPTT_STATE_ANNOTATED );
    *pCurrent = 0;
    want = json_loads(zParams, 0, &e);
    assert( json_is_object(want) );   /* made by the stages from their options, never from input */
    if( want==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    rc = sptt_db_prepare(db, stage==SPTT_STATE_GEOMETRY
        ? "SELECT geometry_params FROM scenes WHERE name=? AND geometry_at IS NOT NULL AND geometry_input=input_hash"
        : "SELECT annotate_params FROM scenes WHERE name=? AND geometry_at IS NOT NULL AND geometry_input=input_hash "
          "AND annotated_at IS NOT NULL AND annotated_geometry=geometry_hash", &st);
    if( rc ) goto done;
    sqlite3_bind_text(st, 1, zName, -1, SQLITE_STATIC);
    switch( sqlite3_step(st) ){
    case SQLITE_ROW: {
        /* Annotate stores exactly its options: they must be the same set. Geometry stores results
        ** beside its options (points and tiles of the room): the options must match. */
        const char *zStored = (const char *)sqlite3_column_text(st, 0);
        *pCurrent = json_members_equal(zStored, want);
        if( *pCurrent && stage==SPTT_STATE_ANNOTATED ){
            json_t *have = json_loads(zStored, 0, &e);
            *pCurrent = json_object_size(have)==json_object_size(want);
            json_decref(have);
        }
        break;
    }
    case SQLITE_DONE:
        break;
    default:
        rc = sptt_db_fail(db, "read stage state");
    }
done:
    sqlite3_finalize(st);
    json_decref(want);
    return rc;
}

int sptt_dataset_rebase_pack(sqlite3 *db, const char *zFromSchema, const char *zStored, char *zOut, size_t nOut)
{
    char zDir[SPTT_PATH_MAX], zAbs[SPTT_PATH_MAX];
    int rc;
    if( zStored[0]=='/' ){
        rc = sptt_pathf(zAbs, sizeof zAbs, "%s", zStored);
    }else{
        if( (rc = schema_dir(db, zFromSchema, zDir, sizeof zDir)) ) return rc;
        rc = sptt_pathf(zAbs, sizeof zAbs, "%s/%s", zDir, zStored);
    }
    if( rc ) return rc;
    return pack_ref(db, zAbs, zOut, nOut);
}
