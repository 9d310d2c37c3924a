/*
** SQLite helpers: transactions, statements, error text.
*/
#include "sptt_common.h"
#include "sptt_db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sptt_db_fail(sqlite3 *db, const char *zWhat)
{
    return sptt_fail(SPTT_EDB, "%s: %s: %s (extended code %d)", sqlite3_db_filename(db, "main"), zWhat,
                     sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

int sptt_db_exec(sqlite3 *db, const char *zSql)
{
    char *zErr = NULL;
    if( sqlite3_exec(db, zSql, NULL, NULL, &zErr)!=SQLITE_OK ){
        int rc = sptt_fail(SPTT_EDB, "%s: %s (extended code %d) in: %.80s", sqlite3_db_filename(db, "main"),
                           zErr ? zErr : sqlite3_errmsg(db), sqlite3_extended_errcode(db), zSql);
        sqlite3_free(zErr);
        return rc;
    }
    return SPTT_OK;
}

int sptt_db_prepare(sqlite3 *db, const char *zSql, sqlite3_stmt **ppStmt)
{
    if( sqlite3_prepare_v3(db, zSql, -1, SQLITE_PREPARE_PERSISTENT, ppStmt, NULL)!=SQLITE_OK ){
        return sptt_db_fail(db, "prepare");
    }
    return SPTT_OK;
}

int sptt_db_step_done(sqlite3 *db, sqlite3_stmt *pStmt, const char *zWhat)
{
    int rc = sqlite3_step(pStmt);
    sqlite3_reset(pStmt);
    if( rc!=SQLITE_DONE ) return sptt_db_fail(db, zWhat);
    return SPTT_OK;
}

int sptt_db_begin(sqlite3 *db)
{
    /* busy_timeout already waits inside SQLite; this outer loop covers the cases where SQLite
    ** returns BUSY without calling the handler, with a bounded, growing pause. */
    for(int attempt = 0; attempt < 20; attempt++){
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if( rc==SQLITE_OK ) return SPTT_OK;
        if( (rc & 0xff)!=SQLITE_BUSY && (rc & 0xff)!=SQLITE_LOCKED ) break;
        usleep((useconds_t)(10000u << (attempt < 6 ? attempt : 6)));
    }
    return sptt_db_fail(db, "BEGIN IMMEDIATE");
}

int sptt_db_commit(sqlite3 *db)
{
    for(int attempt = 0; attempt < 20; attempt++){
        int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if( rc==SQLITE_OK ) return SPTT_OK;
        if( (rc & 0xff)!=SQLITE_BUSY ) break;
        usleep((useconds_t)(10000u << (attempt < 6 ? attempt : 6)));
    }
    return sptt_db_fail(db, "COMMIT");
}

void sptt_db_rollback(sqlite3 *db)
{
    if( db && !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int sptt_db_bind_real(sqlite3_stmt *pStmt, int i, double v)
{
    if( !isfinite(v) ) return sqlite3_bind_null(pStmt, i);
    return sqlite3_bind_double(pStmt, i, v);
}

int sptt_db_bind_floats(sqlite3_stmt *pStmt, int i, const double *a, int n)
{
    sptt_buf b = {0};
    sptt_buf_put(&b, "[", 1);
    for(int k = 0; k < n; k++) sptt_buf_printf(&b, "%s%.9g", k ? "," : "", a[k]);
    sptt_buf_put(&b, "]", 1);
    if( b.rc ){
        sptt_buf_free(&b);
        return SQLITE_NOMEM;
    }
    return sqlite3_bind_text(pStmt, i, (const char *)b.p, (int)b.n, free);
}

void sptt_db_timestamp(char zOut[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(zOut, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
