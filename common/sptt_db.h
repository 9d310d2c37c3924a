/*
** SQLite helpers shared by the stages: write transactions that survive several writer
** processes, prepared statements, and errors that carry SQLite's own message and code.
*/
#ifndef SPTT_DB_H
#define SPTT_DB_H

#include <sqlite3.h>
#include <stdint.h>

/* Records "what: sqlite message (extended code N)" and returns SPTT_EDB. */
int sptt_db_fail(sqlite3 *db, const char *zWhat);
int sptt_db_exec(sqlite3 *db, const char *zSql);
int sptt_db_prepare(sqlite3 *db, const char *zSql, sqlite3_stmt **ppStmt);
/* Steps a statement that returns no row, then resets it. */
int sptt_db_step_done(sqlite3 *db, sqlite3_stmt *pStmt, const char *zWhat);
/*
** BEGIN IMMEDIATE, retried with back-off while another process holds the write lock: a deferred
** BEGIN would let two readers deadlock on their upgrade and fail at once with SQLITE_BUSY.
*/
int sptt_db_begin(sqlite3 *db);
int sptt_db_commit(sqlite3 *db);
/* Rolls back if a transaction is open; safe to call in any cleanup path. */
void sptt_db_rollback(sqlite3 *db);
/* Binds a double, or NULL when v is not finite (SQLite would store NaN as NULL anyway). */
int sptt_db_bind_real(sqlite3_stmt *pStmt, int i, double v);
/* Binds a JSON array of n floats written with enough digits to round-trip. */
int sptt_db_bind_floats(sqlite3_stmt *pStmt, int i, const double *a, int n);
/* The current UTC time as ISO 8601 text, for the *_at columns. */
void sptt_db_timestamp(char zOut[32]);

#endif
