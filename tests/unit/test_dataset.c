/*
** Dataset schema: creation, reopening, identity checks, constraints, runs.
*/
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_schemas.h"

static char zDir[64];
static char zDb[128];

static void setup(void)
{
    strcpy(zDir, "/tmp/sptt_db_XXXXXX");
    cr_assert_not_null(mkdtemp(zDir));
    snprintf(zDb, sizeof zDb, "%s/dataset.db", zDir);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

static int query_int(sqlite3 *db, const char *zSql)
{
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

TestSuite(dataset, .init = setup, .fini = teardown);

Test(dataset, create_then_reopen)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(query_int(db, "PRAGMA application_id"), 0x53505454);
    cr_assert_eq(query_int(db, "PRAGMA user_version"), 2);
    cr_assert_eq(query_int(db, "PRAGMA foreign_keys"), 1);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name IN "
                               "('scenes','objects','object_boxes','frames','visibility','relations','qa',"
                               "'descriptions','runs','scene_warnings')"), 10);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM pragma_table_list WHERE strict=1 AND schema='main' "
                               "AND name NOT LIKE 'sqlite_%'"), 10);
    cr_assert_eq(sptt_db_exec(db, "INSERT INTO scenes(name, source) VALUES('scene0000_00','scannet')"), SPTT_OK);
    sptt_dataset_close(db);

    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(query_int(db, "SELECT count(*) FROM scenes"), 1);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
    sqlite3_step(s);
    cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    int64_t id;
    cr_assert_eq(sptt_scene_id(db, "scene0000_00", &id), SPTT_OK);
    cr_assert_eq(id, 1);
    cr_assert_eq(sptt_scene_id(db, "nope", &id), SPTT_EINVAL);
    sptt_dataset_close(db);
}

Test(dataset, strict_types_and_foreign_keys_enforced)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    cr_assert_eq(sptt_db_exec(db, "INSERT INTO scenes(name, source, n_points) VALUES('a','scannet','many')"), SPTT_EDB);
    cr_assert(strstr(sptt_errmsg(), "cannot store TEXT value in INTEGER column") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_db_exec(db, "INSERT INTO scenes(name, source) VALUES('a','kinect')"), SPTT_EDB);
    cr_assert_eq(sptt_db_exec(db, "INSERT INTO objects(scene_id, instance_id, raw_label, nyu40_id, label, n_points) "
                                  "VALUES(99, 1, 'chair', 5, 'chair', 10)"), SPTT_EDB);
    cr_assert(strstr(sptt_errmsg(), "FOREIGN KEY") != NULL, "%s", sptt_errmsg());
    /* Deleting a scene removes everything that hangs off it. */
    cr_assert_eq(sptt_db_exec(db,
        "INSERT INTO scenes(scene_id, name, source) VALUES(1,'s','scannet');"
        "INSERT INTO objects(scene_id, instance_id, raw_label, nyu40_id, label, n_points) VALUES(1,1,'chair',5,'chair',10);"
        "INSERT INTO object_boxes VALUES(1,1,'minimal',0,0,0,1,1,1,'[1,0,0,0,1,0,0,0,1]',1,0);"
        "INSERT INTO frames(scene_id, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, height)"
        "  VALUES(1,0,0,0,'[]',1,1,1,1,2,2);"
        "INSERT INTO visibility VALUES(1,0,1,5,0,0,1,1);"), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_db_exec(db, "DELETE FROM scenes WHERE name='s'"), SPTT_OK);
    cr_assert_eq(query_int(db, "SELECT (SELECT count(*) FROM objects)+(SELECT count(*) FROM object_boxes)+"
                               "(SELECT count(*) FROM frames)+(SELECT count(*) FROM visibility)"), 0);
    sptt_dataset_close(db);
}

Test(dataset, refuses_other_application_and_newer_version)
{
    sqlite3 *raw;
    sqlite3 *db;
    char zOther[160];
    snprintf(zOther, sizeof zOther, "%s/other.db", zDir);
    cr_assert_eq(sqlite3_open(zOther, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "PRAGMA application_id=1234; CREATE TABLE t(x);", 0, 0, 0), SQLITE_OK);
    sqlite3_close(raw);
    cr_assert_eq(sptt_dataset_open(zOther, SPTT_DB_CREATE, &db), SPTT_EVERSION);
    cr_assert_null(db);
    cr_assert(strstr(sptt_errmsg(), "not a Spatial-TTT dataset (application_id 0x000004d2") != NULL, "%s", sptt_errmsg());

    /* A foreign database with tables but no application id is not ours either. */
    snprintf(zOther, sizeof zOther, "%s/plain.db", zDir);
    cr_assert_eq(sqlite3_open(zOther, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "CREATE TABLE t(x);", 0, 0, 0), SQLITE_OK);
    sqlite3_close(raw);
    cr_assert_eq(sptt_dataset_open(zOther, SPTT_DB_CREATE, &db), SPTT_EVERSION);

    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    cr_assert_eq(sptt_db_exec(db, "PRAGMA user_version=3"), SPTT_OK);
    sptt_dataset_close(db);
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_EVERSION);
    cr_assert(strstr(sptt_errmsg(), "version 3 is newer") != NULL, "%s", sptt_errmsg());

    /* Not SQLite at all. */
    snprintf(zOther, sizeof zOther, "%s/text.db", zDir);
    cr_assert_eq(sptt_write_file(zOther, "this is not a database, just some text that is long enough to look like "
                                         "a header of a file of one hundred bytes or so..........", 128), SPTT_OK);
    cr_assert_eq(sptt_dataset_open(zOther, SPTT_DB_CREATE, &db), SPTT_EVERSION);
    cr_assert(strstr(sptt_errmsg(), "text.db: not a Spatial-TTT dataset") != NULL, "%s", sptt_errmsg());

    /* Opening without CREATE does not make a file. */
    snprintf(zOther, sizeof zOther, "%s/absent.db", zDir);
    cr_assert_eq(sptt_dataset_open(zOther, 0, &db), SPTT_EIO);
    cr_assert_neq(access(zOther, F_OK), 0);
}

Test(dataset, runs_recorded)
{
    sqlite3 *db;
    int64_t run;
    char *argv[] = { "sptt-ingest", "scannet", "dir" };
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    cr_assert_eq(sptt_run_begin(db, "sptt-ingest", 3, argv, &run), SPTT_OK);
    cr_assert_eq(sptt_run_end(db, run, 0, "{\"scenes\":1}"), SPTT_OK);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "SELECT tool, arguments, status, summary, ended_at IS NOT NULL FROM runs", -1, &s, NULL);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(s, 1), "sptt-ingest scannet dir");
    cr_assert_eq(sqlite3_column_int(s, 2), 0);
    cr_assert_str_eq((const char *)sqlite3_column_text(s, 3), "{\"scenes\":1}");
    cr_assert_eq(sqlite3_column_int(s, 4), 1);
    sqlite3_finalize(s);
    sptt_dataset_close(db);
}

Test(labels, nyu40_and_arkit_tables)
{
    cr_assert_str_eq(sptt_nyu40_name(0), "unannotated");
    cr_assert_str_eq(sptt_nyu40_name(5), "chair");
    cr_assert_str_eq(sptt_nyu40_name(22), "ceiling");
    cr_assert_str_eq(sptt_nyu40_name(40), "otherprop");
    cr_assert_null(sptt_nyu40_name(41));
    cr_assert(sptt_nyu40_is_structure(1) && sptt_nyu40_is_structure(2) && sptt_nyu40_is_structure(22));
    cr_assert(!sptt_nyu40_is_structure(5));
    cr_assert_eq(sptt_nyu40_color(1)[0], 174);
    cr_assert_eq(sptt_arkit_nyu40("tv_monitor"), 25);
    cr_assert_eq(sptt_arkit_nyu40("tv monitor"), 25);
    cr_assert_str_eq(sptt_arkit_category("tv_monitor"), "tv");
    cr_assert_null(sptt_arkit_category("sink"));
    cr_assert_eq(sptt_arkit_nyu40("sink"), 34);
    cr_assert_eq(sptt_arkit_nyu40("lamp"), -1);
    cr_assert_str_eq(sptt_scannet_category("trash can"), "trash bin");
    cr_assert_str_eq(sptt_scannet_category("mouse"), "computer mouse");
    cr_assert_null(sptt_scannet_category("cabinet"));
}
