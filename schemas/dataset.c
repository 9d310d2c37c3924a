/*
** Opening, creating and identifying a Spatial-TTT dataset.
**
** The schema text is schemas/dataset.sql, compiled in as sptt_dataset_sql by the Makefile, so the
** SQL file is the single source of truth for the tables.
*/
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_schemas.h"

#include <stdlib.h>
#include <string.h>

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

/* True when the database has no table of its own: a file we may claim for the toolkit. */
static int is_empty_database(sqlite3 *db, int *pEmpty)
{
    return pragma_int(db, "SELECT count(*)=0 FROM sqlite_schema", pEmpty);
}

static int create_schema(sqlite3 *db)
{
    int rc = sptt_db_begin(db);
    char zSql[96];
    int empty = 0;
    if( rc ) return rc;
    /* Another process may have created it between our check and our lock. */
    rc = is_empty_database(db, &empty);
    if( rc || !empty ) goto done;
    rc = sptt_db_exec(db, sptt_dataset_sql);
    if( rc ) goto done;
    snprintf(zSql, sizeof zSql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
             (int)SPTT_DATASET_APP_ID, SPTT_DATASET_VERSION);
    rc = sptt_db_exec(db, zSql);
    if( rc ) goto done;
    rc = sptt_db_commit(db);
done:
    if( rc ) sptt_db_rollback(db);
    return rc;
}

int sptt_dataset_open(const char *zPath, int flags, sqlite3 **pDb)
{
    sqlite3 *db = NULL;
    int rc = SPTT_OK;
    int oflags;
    int appId = 0, version = 0, empty = 0;

    *pDb = NULL;
    if( flags & SPTT_DB_READONLY ) oflags = SQLITE_OPEN_READONLY;
    else oflags = SQLITE_OPEN_READWRITE | ((flags & SPTT_DB_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if( sqlite3_open_v2(zPath, &db, oflags, NULL)!=SQLITE_OK ){
        rc = sptt_fail(SPTT_EIO, "%s: cannot open dataset: %s", zPath, db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    /* A file that is not SQLite at all fails on its first read, here. */
    if( pragma_int(db, "PRAGMA application_id", &appId) ){
        rc = sptt_fail(SPTT_EVERSION, "%s: not a Spatial-TTT dataset (not an SQLite database: %s)", zPath,
                       sqlite3_errmsg(db));
        goto done;
    }
    rc = pragma_int(db, "PRAGMA user_version", &version);
    if( rc ) goto done;
    rc = is_empty_database(db, &empty);
    if( rc ) goto done;

    if( appId==0 && version==0 && empty ){
        if( !(flags & SPTT_DB_CREATE) || (flags & SPTT_DB_READONLY) ){
            rc = sptt_fail(SPTT_EVERSION, "%s: empty file, not a Spatial-TTT dataset (run ingest to create one)", zPath);
            goto done;
        }
    }else if( appId!=(int)SPTT_DATASET_APP_ID ){
        rc = sptt_fail(SPTT_EVERSION, "%s: not a Spatial-TTT dataset (application_id 0x%08x, expected 0x%08x)",
                       zPath, (unsigned)appId, (unsigned)SPTT_DATASET_APP_ID);
        goto done;
    }else if( version > SPTT_DATASET_VERSION ){
        rc = sptt_fail(SPTT_EVERSION, "%s: dataset schema version %d is newer than this toolkit's %d; "
                       "upgrade the toolkit", zPath, version, SPTT_DATASET_VERSION);
        goto done;
    }else if( version < 1 ){
        rc = sptt_fail(SPTT_EVERSION, "%s: dataset schema version %d is not supported", zPath, version);
        goto done;
    }

    if( !(flags & SPTT_DB_READONLY) ){
        /* WAL lets readers run beside one writer; NORMAL sync is safe under WAL and the dataset
        ** can be rebuilt from its inputs. foreign_keys must be set outside any transaction. */
        rc = sptt_db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        if( rc ) goto done;
    }
    rc = sptt_db_exec(db, "PRAGMA foreign_keys=ON;");
    if( rc ) goto done;
    if( empty && appId==0 ){
        rc = create_schema(db);
        if( rc ) goto done;
    }
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
        rc = sptt_fail(SPTT_EINVAL, "scene '%s' is not in the dataset", zName);
        break;
    default:
        rc = sptt_db_fail(db, "look up scene");
    }
    sqlite3_finalize(pStmt);
    return rc;
}
