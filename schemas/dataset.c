/*
** Opening, creating and identifying a Spatial-TTT dataset.
**
** The schema text is schemas/dataset.sql, compiled in as sptt_dataset_sql by the Makefile, so the
** SQL file is the single source of truth for the tables.
*/
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_dataset.h"
#include "sptt_schemas.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char sptt_dataset_sql[];

static int pragma_int(sqlite3 *db, const char *zSql, int *pOut)
{
    sqlite3_stmt *pStmt = NULL;
    int rc = SPTT_OK;
    if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, NULL)!=SQLITE_OK ){
        rc = sptt_db_fail(db, zSql);
        goto done;
    }
    if( sqlite3_step(pStmt)!=SQLITE_ROW ){
        rc = sptt_db_fail(db, zSql);
        goto done;
    }
    *pOut = sqlite3_column_int(pStmt, 0);
done:
    sqlite3_finalize(pStmt);
    return rc;
}

/* What the file is: its application id, schema version, and whether it holds any table, read in
** one snapshot so that another process creating the schema meanwhile is seen whole or not at all. */
typedef struct db_ident {
    int appId, version, empty;
} db_ident;

static int identify(sqlite3 *db, db_ident *id, int *pErrCode)
{
    int rc = sptt_db_exec(db, "BEGIN");
    if( rc ) return rc;
    rc = pragma_int(db, "PRAGMA application_id", &id->appId);
    if( rc==SPTT_OK ) rc = pragma_int(db, "PRAGMA user_version", &id->version);
    if( rc==SPTT_OK ) rc = pragma_int(db, "SELECT count(*)=0 FROM sqlite_schema", &id->empty);
    /* The caller tells the reasons apart by SQLite's code, which COMMIT would overwrite. */
    *pErrCode = sqlite3_errcode(db);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

/* Refuses a file that is not ours: another application's, or of a newer schema. */
static int check_ident(const char *zPath, const db_ident *id, int flags)
{
    if( id->appId==0 && id->version==0 && id->empty ){
        if( !(flags & SPTT_DB_CREATE) || (flags & SPTT_DB_READONLY) )
            return sptt_fail(SPTT_EVERSION, "%s: empty file, not a Spatial-TTT dataset (run ingest to create one)", zPath);
        return SPTT_OK;
    }
    if( id->appId!=(int)SPTT_DATASET_APP_ID )
        return sptt_fail(SPTT_EVERSION, "%s: not a Spatial-TTT dataset (application_id 0x%08x, expected 0x%08x)", zPath,
                         (unsigned)id->appId, (unsigned)SPTT_DATASET_APP_ID);
    if( id->version > SPTT_DATASET_VERSION )
        return sptt_fail(SPTT_EVERSION, "%s: dataset schema version %d is newer than this toolkit's %d; upgrade the toolkit", zPath,
                         id->version, SPTT_DATASET_VERSION);
    if( id->version < 1 ) return sptt_fail(SPTT_EVERSION, "%s: dataset schema version %d is not supported", zPath, id->version);
    if( id->version < SPTT_DATASET_VERSION && (flags & SPTT_DB_READONLY) )
        return sptt_fail(SPTT_EVERSION, "%s: dataset schema version %d must be upgraded to %d: run any writing tool on it once "
                         "(for example sptt-geometry --db %s)", zPath, id->version, SPTT_DATASET_VERSION, zPath);
    return SPTT_OK;
}

/*
** Version 1 -> 2: the stage-state columns, and pack paths relative to the database's folder.
** Version 1 stored pack paths as ingest was given them, relative to ingest's working directory;
** each is rewritten when its pack is found that way from here, otherwise left for the open to
** report. Existing geometry and annotations are kept and marked as made from an unknown
** geometry ('v1'), so a later geometry run, whatever it finds, renews the annotations.
*/
static int migrate_v1(sqlite3 *db)
{
    sqlite3_stmt *st = NULL, *up = NULL;
    int rc = sptt_db_exec(db,
        "ALTER TABLE scenes ADD COLUMN split TEXT CHECK (split IN ('train', 'val', 'test'));"
        "ALTER TABLE scenes ADD COLUMN geometry_input TEXT;"
        "ALTER TABLE scenes ADD COLUMN geometry_hash TEXT;"
        "ALTER TABLE scenes ADD COLUMN annotated_geometry TEXT;"
        "UPDATE scenes SET geometry_input=input_hash, geometry_hash='v1' WHERE geometry_at IS NOT NULL;"
        "UPDATE scenes SET annotated_geometry='v1' WHERE annotated_at IS NOT NULL;");
    if( rc ) return rc;
    rc = sptt_db_prepare(db, "SELECT scene_id, pack_path FROM scenes WHERE pack_path IS NOT NULL AND pack_path NOT LIKE '/%'", &st);
    if( rc==SPTT_OK ) rc = sptt_db_prepare(db, "UPDATE scenes SET pack_path=? WHERE scene_id=?", &up);
    while( rc==SPTT_OK && sqlite3_step(st)==SQLITE_ROW ){
        const char *zOld = (const char *)sqlite3_column_text(st, 1);
        char zHere[4096], zCwd[4096];
        char *zReal;
        if( sptt_dataset_resolve_pack(db, zOld, zHere, sizeof zHere)==SPTT_OK && access(zHere, R_OK)==0 ) continue;
        if( access(zOld, R_OK)!=0 || (zReal = realpath(zOld, NULL))==NULL ) continue;
        /* Found from the working directory: store it the version 2 way. */
        rc = sptt_dataset_pack_dir(db, NULL, zCwd, sizeof zCwd);   /* the dataset's packs/ folder */
        if( rc==SPTT_OK ){
            size_t n = strlen(zCwd) - strlen("/packs");
            const char *zStore = strncmp(zReal, zCwd, n)==0 && zReal[n]=='/' ? zReal + n + 1 : zReal;
            sqlite3_bind_text(up, 1, zStore, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(up, 2, sqlite3_column_int64(st, 0));
            rc = sptt_db_step_done(db, up, "rewrite pack path");
        }
        free(zReal);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return rc;
}

/*
** Version 2 -> 3: annotate_params, the options the annotations were made with. Existing
** annotations get NULL, "made with unknown options", so sptt-build redoes them once rather than
** trusting them.
*/
static int migrate_v2(sqlite3 *db)
{
    return sptt_db_exec(db, "ALTER TABLE scenes ADD COLUMN annotate_params TEXT;");
}

/*
** Version 3 -> 4: the long-horizon stream tables. Their text is dataset.sql's own from the
** "VERSION 4 TABLES" line on, so the upgrade and a new file cannot disagree. Nothing existing
** changes: a dataset upgraded has no streams until sptt-annotate --streams makes them.
*/
static int migrate_v3(sqlite3 *db)
{
    const char *z = strstr(sptt_dataset_sql, "\n-- VERSION 4 TABLES.");
    assert( z!=NULL );
    if( z==NULL ) return sptt_fail(SPTT_ECORRUPT, "dataset.sql: the version 4 marker is missing");
    return sptt_db_exec(db, z + 1);
}

/* Creates the schema or upgrades it, under the write lock, after checking again what the file is:
** another process may have done it between our first look and our lock. */
static int create_or_upgrade(sqlite3 *db, const char *zPath, int flags)
{
    db_ident id;
    char zSql[96];
    int rc = sptt_db_begin(db);
    if( rc ) return rc;
    if( (rc = pragma_int(db, "PRAGMA application_id", &id.appId)) ) goto done;
    if( (rc = pragma_int(db, "PRAGMA user_version", &id.version)) ) goto done;
    if( (rc = pragma_int(db, "SELECT count(*)=0 FROM sqlite_schema", &id.empty)) ) goto done;
    if( (rc = check_ident(zPath, &id, flags)) ) goto done;
    if( id.empty ) rc = sptt_db_exec(db, sptt_dataset_sql);
    else if( id.version < SPTT_DATASET_VERSION ){
        /* Each step upgrades by one version, oldest first. */
        if( id.version<=1 ) rc = migrate_v1(db);
        if( rc==SPTT_OK && id.version<=2 ) rc = migrate_v2(db);
        if( rc==SPTT_OK && id.version<=3 ) rc = migrate_v3(db);
    }else goto done;
    if( rc ) goto done;
    snprintf(zSql, sizeof zSql, "PRAGMA application_id=%d; PRAGMA user_version=%d;", (int)SPTT_DATASET_APP_ID, SPTT_DATASET_VERSION);
    if( (rc = sptt_db_exec(db, zSql)) ) goto done;
    rc = sptt_db_commit(db);
done:
    /* After COMMIT this does nothing; otherwise it ends the failed or unneeded transaction. */
    sptt_db_rollback(db);
    return rc;
}

/* journal_mode=WAL needs a moment alone with the file; another process opening it at the same
** time makes it report busy without waiting, so it is retried. */
static int set_wal(sqlite3 *db)
{
    for(int attempt = 0; attempt < 50; attempt++){
        int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if( rc==SQLITE_OK ) return sptt_db_exec(db, "PRAGMA synchronous=NORMAL");
        if( (rc & 0xff)!=SQLITE_BUSY && (rc & 0xff)!=SQLITE_LOCKED ) break;
        usleep(10000);
    }
    return sptt_db_fail(db, "PRAGMA journal_mode=WAL");
}

int sptt_dataset_open(const char *zPath, int flags, sqlite3 **pDb)
{
    sqlite3 *db = NULL;
    int rc = SPTT_OK;
    int oflags, code = SQLITE_OK;
    db_ident id;

    *pDb = NULL;
    if( flags & SPTT_DB_READONLY ) oflags = SQLITE_OPEN_READONLY;
    else oflags = SQLITE_OPEN_READWRITE | ((flags & SPTT_DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if( sqlite3_open_v2(zPath, &db, oflags, NULL)!=SQLITE_OK ){
        rc = sptt_fail(SPTT_EIO, "%s: cannot open dataset: %s", zPath, db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 10000);
    if( identify(db, &id, &code) ){
        /* A file that is not SQLite at all fails on its first read, here; so does one SQLite
        ** cannot read for another reason, which must not be called "not a dataset". */
        if( code==SQLITE_NOTADB ){
            rc = sptt_fail(SPTT_EVERSION, "%s: not a Spatial-TTT dataset (not an SQLite database: %s)", zPath, sqlite3_errmsg(db));
        }else{
            char zDir[4096];
            const char *slash = strrchr(zPath, '/');
            snprintf(zDir, sizeof zDir, "%.*s", slash ? (int)(slash - zPath) : 1, slash ? zPath : ".");
            rc = sptt_fail(SPTT_EIO, "%s: cannot read the dataset: %s%s", zPath, sqlite3_errmsg(db),
                           access(zDir, W_OK)!=0 ? " (its folder is not writable, and SQLite keeps its -wal and -shm files there)" : "");
        }
        goto done;
    }
    if( (rc = check_ident(zPath, &id, flags)) ) goto done;

    if( !(flags & SPTT_DB_READONLY) ){
        /* WAL lets readers run beside one writer; NORMAL sync is safe under WAL and the dataset
        ** can be rebuilt from its inputs. */
        if( (rc = set_wal(db)) ) goto done;
        if( id.empty || id.version < SPTT_DATASET_VERSION ){
            if( (rc = create_or_upgrade(db, zPath, flags)) ) goto done;
        }
    }
    /* foreign_keys must be set outside any transaction. */
    if( (rc = sptt_db_exec(db, "PRAGMA foreign_keys=ON;")) ) goto done;
    *pDb = db;
    db = NULL;

done:
    sqlite3_close(db);
    return rc;
}

void sptt_dataset_close(sqlite3 *db)
{
    sqlite3_close(db);
}

int sptt_run_begin(sqlite3 *db, const char *zTool, int argc, char **argv, int64_t *pRunId)
{
    sqlite3_stmt *pStmt = NULL;
    char zNow[32];
    char *zArgs = sptt_join_args(argc, argv);
    int rc = SPTT_OK;
    if( zArgs==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    sptt_db_timestamp(zNow);
    rc = sptt_db_prepare(db, "INSERT INTO runs(tool, version, arguments, started_at) VALUES(?,?,?,?)", &pStmt);
    if( rc ) goto done;
    sqlite3_bind_text(pStmt, 1, zTool, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, SPTT_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 3, zArgs, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 4, zNow, -1, SQLITE_STATIC);
    rc = sptt_db_step_done(db, pStmt, "insert run");
    if( rc ) goto done;
    *pRunId = sqlite3_last_insert_rowid(db);
done:
    sqlite3_finalize(pStmt);
    free(zArgs);
    return rc;
}

int sptt_run_end(sqlite3 *db, int64_t runId, int status, const char *zSummaryJson)
{
    sqlite3_stmt *pStmt = NULL;
    char zNow[32];
    int rc;
    sptt_db_timestamp(zNow);
    rc = sptt_db_prepare(db, "UPDATE runs SET ended_at=?, status=?, summary=? WHERE run_id=?", &pStmt);
    if( rc ) goto done;
    sqlite3_bind_text(pStmt, 1, zNow, -1, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 2, status);
    if( zSummaryJson ) sqlite3_bind_text(pStmt, 3, zSummaryJson, -1, SQLITE_STATIC);
    sqlite3_bind_int64(pStmt, 4, runId);
    rc = sptt_db_step_done(db, pStmt, "update run");
done:
    sqlite3_finalize(pStmt);
    return rc;
}

int sptt_scene_id(sqlite3 *db, const char *zName, int64_t *pId)
{
    sqlite3_stmt *pStmt = NULL;
    int rc;
    rc = sptt_db_prepare(db, "SELECT scene_id FROM scenes WHERE name=?", &pStmt);
    if( rc ) return rc;
    sqlite3_bind_text(pStmt, 1, zName, -1, SQLITE_STATIC);
    switch( sqlite3_step(pStmt) ){
    case SQLITE_ROW:
        *pId = sqlite3_column_int64(pStmt, 0);
        rc = SPTT_OK;
        break;
    case SQLITE_DONE:
        rc = sptt_fail(SPTT_EINVAL, "scene '%s' is not in %s", zName, sqlite3_db_filename(db, "main"));
        break;
    default:
        rc = sptt_db_fail(db, "look up scene");
    }
    sqlite3_finalize(pStmt);
    return rc;
}
