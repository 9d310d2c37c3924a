/*
** Dataset schema: creation, reopening, identity checks, constraints, runs.
*/
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"
#include "sptt_schemas.h"

#include "child_testutil.h"

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
    cr_assert_eq(query_int(db, "PRAGMA user_version"), 4);
    cr_assert_eq(query_int(db, "PRAGMA foreign_keys"), 1);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name IN "
                               "('scenes','objects','object_boxes','frames','visibility','relations','qa',"
                               "'descriptions','runs','scene_warnings','streams','stream_scenes','stream_qa')"), 13);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM pragma_table_list WHERE strict=1 AND schema='main' "
                               "AND name NOT LIKE 'sqlite_%'"), 13);
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
    cr_assert_eq(sptt_db_exec(db, "PRAGMA user_version=5"), SPTT_OK);
    sptt_dataset_close(db);
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_EVERSION);
    cr_assert(strstr(sptt_errmsg(), "version 5 is newer") != NULL, "%s", sptt_errmsg());

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

/* ---------------------------------------------------------------------------------------------
** Version 1 datasets: upgraded on the first writing open, pack paths rewritten
*/
Test(dataset, version_1_upgraded_with_pack_paths_relative_to_the_dataset)
{
    sqlite3 *db, *raw;
    char zSub[600], zV1[700], zPackDir[700], zPack[800], zCwd[600];
    snprintf(zSub, sizeof zSub, "%s/sub", zDir);
    snprintf(zV1, sizeof zV1, "%s/d.db", zSub);
    snprintf(zPackDir, sizeof zPackDir, "%s/packs", zSub);
    snprintf(zPack, sizeof zPack, "%s/x.sptt", zPackDir);
    cr_assert_eq(sptt_mkdirs(zPackDir), SPTT_OK);
    cr_assert_eq(sptt_write_file(zPack, "pack", 4), SPTT_OK);
    cr_assert_eq(sptt_dataset_open(zV1, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    sptt_dataset_close(db);
    /* What version 1 wrote: no stage-state columns, the pack path as ingest's working directory
    ** (here zDir) saw it. */
    cr_assert_eq(sqlite3_open(zV1, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw,
                              "PRAGMA foreign_keys=OFF; DROP TABLE scenes; DROP TABLE stream_qa; DROP TABLE stream_scenes; "
                              "DROP TABLE streams;"
                              "CREATE TABLE scenes (scene_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL "
                              "CHECK (source IN ('scannet', 'arkitscenes', 'mesh')), pack_path TEXT, input_hash TEXT, "
                              "n_points INTEGER, n_faces INTEGER, n_frames INTEGER, fps REAL, alignment TEXT, room_area REAL, "
                              "room_height REAL, room_center_x REAL, room_center_y REAL, room_center_z REAL, room_polygon TEXT, "
                              "room_flags INTEGER, geometry_params TEXT, ingested_at TEXT, geometry_at TEXT, annotated_at TEXT) STRICT;"
                              "INSERT INTO scenes(name, source, pack_path, input_hash, geometry_at, annotated_at) "
                              "VALUES('x', 'scannet', 'sub/packs/x.sptt', 'abcd', 't', 't');"
                              "INSERT INTO scenes(name, source, pack_path, input_hash) VALUES('y', 'scannet', 'gone/y.sptt', 'ef');"
                              "PRAGMA user_version=1;", 0, 0, 0), SQLITE_OK, "%s", sqlite3_errmsg(raw));
    sqlite3_close(raw);

    cr_assert_eq(sptt_dataset_open(zV1, SPTT_DB_READONLY, &db), SPTT_EVERSION);
    cr_assert(strstr(sptt_errmsg(), "must be upgraded") != NULL, "%s", sptt_errmsg());
    cr_assert(getcwd(zCwd, sizeof zCwd) != NULL);
    cr_assert_eq(chdir(zDir), 0);
    cr_assert_eq(sptt_dataset_open(zV1, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(chdir(zCwd), 0);
    cr_assert_eq(query_int(db, "PRAGMA user_version"), 4);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('streams', 'stream_scenes', 'stream_qa')"), 3);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM pragma_table_info('scenes') WHERE name='annotate_params'"), 1);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM scenes WHERE name='x' AND pack_path='packs/x.sptt' AND geometry_input='abcd' "
                               "AND geometry_hash='v1' AND annotated_geometry='v1'"), 1);
    /* A pack found neither way keeps its path, for the open to report. */
    cr_assert_eq(query_int(db, "SELECT count(*) FROM scenes WHERE name='y' AND pack_path='gone/y.sptt' AND geometry_hash IS NULL"), 1);
    sptt_scene_row r;
    cr_assert_eq(sptt_scene_get(db, "x", &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_str_eq(r.zPack + strlen(r.zPack) - strlen("/sub/packs/x.sptt"), "/sub/packs/x.sptt");
    cr_assert_eq(access(r.zPack, R_OK), 0, "%s", r.zPack);
    sptt_scene_row_free(&r);
    sptt_dataset_close(db);
}

Test(dataset, version_3_upgraded_with_the_stream_tables)
{
    sqlite3 *db, *raw, *fresh;
    char zV3[600], zNew[600];
    snprintf(zV3, sizeof zV3, "%s/v3.db", zDir);
    snprintf(zNew, sizeof zNew, "%s/new.db", zDir);
    cr_assert_eq(sptt_dataset_open(zV3, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    sptt_dataset_close(db);
    /* What version 3 wrote: every table but the stream ones, and a scene in it. */
    cr_assert_eq(sqlite3_open(zV3, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "DROP TABLE stream_qa; DROP TABLE stream_scenes; DROP TABLE streams;"
                                   "INSERT INTO scenes(name, source, annotate_params) VALUES('x', 'scannet', '{}');"
                                   "PRAGMA user_version=3;", 0, 0, 0), SQLITE_OK, "%s", sqlite3_errmsg(raw));
    sqlite3_close(raw);

    cr_assert_eq(sptt_dataset_open(zV3, SPTT_DB_READONLY, &db), SPTT_EVERSION);
    cr_assert(strstr(sptt_errmsg(), "version 3 must be upgraded to 4") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_dataset_open(zV3, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(query_int(db, "PRAGMA user_version"), 4);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM scenes WHERE name='x' AND annotate_params='{}'"), 1);
    /* The upgraded schema is a new file's, table for table and column for column. */
    cr_assert_eq(sptt_dataset_open(zNew, SPTT_DB_CREATE, &fresh), SPTT_OK, "%s", sptt_errmsg());
    {
        static const char zShape[] = "SELECT group_concat(m.name || '.' || p.name || ':' || p.type || ':' || p.pk, ' ') FROM "
                                     "(SELECT name FROM sqlite_schema WHERE type='table' ORDER BY name) AS m, pragma_table_info(m.name) AS p";
        static const char zIdx[] = "SELECT group_concat(name || ':' || sql, ' ') FROM (SELECT name, sql FROM sqlite_schema "
                                   "WHERE type='index' AND sql IS NOT NULL ORDER BY name)";
        const char *azQ[2] = { zShape, zIdx };
        for(int k = 0; k < 2; k++){
            sqlite3_stmt *a = NULL, *b = NULL;
            cr_assert_eq(sqlite3_prepare_v2(db, azQ[k], -1, &a, NULL), SQLITE_OK);
            cr_assert_eq(sqlite3_prepare_v2(fresh, azQ[k], -1, &b, NULL), SQLITE_OK);
            cr_assert_eq(sqlite3_step(a), SQLITE_ROW);
            cr_assert_eq(sqlite3_step(b), SQLITE_ROW);
            cr_assert_str_eq((const char *)sqlite3_column_text(a, 0), (const char *)sqlite3_column_text(b, 0));
            cr_assert(strstr((const char *)sqlite3_column_text(a, 0), k ? "stream_qa_stream" : "stream_qa.query_frame") != NULL);
            sqlite3_finalize(a);
            sqlite3_finalize(b);
        }
    }
    sptt_dataset_close(fresh);
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** Stage state through the module's calls
*/
Test(dataset, geometry_change_clears_annotations_and_annotate_checks_it)
{
    sqlite3 *db;
    sptt_scene_row r;
    int64_t id;
    char zOld[600];
    int invalidated = -1;
    double align[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
    char zPack[600];
    snprintf(zPack, sizeof zPack, "%s/packs/s.sptt", zDir);
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    sptt_scene_new n = { .zName = "s", .zSource = "scannet", .zInputHash = "1111", .zPack = zPack, .alignment = align };
    cr_assert_eq(sptt_scene_insert(db, &n, &id, zOld, sizeof zOld), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_str_eq(zOld, "");
    cr_assert_eq(query_int(db, "SELECT pack_path='packs/s.sptt' FROM scenes"), 1);

    /* Annotate before geometry: refused with the command to run. */
    cr_assert_eq(sptt_scene_get(db, "s", &r), SPTT_OK);
    cr_assert_eq(sptt_scene_check_geometry(db, &r), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), "sptt-geometry --db") != NULL, "%s", sptt_errmsg());
    sptt_scene_row_free(&r);

    sptt_scene_geometry g = { .zInputHash = "1111", .zResultHash = "aaaa", .roomArea = 12, .zPolygon = "[]", .zParams = "{}" };
    cr_assert_eq(sptt_scene_set_geometry(db, id, &g, &invalidated), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(invalidated, 0);
    cr_assert_eq(sptt_scene_get(db, "s", &r), SPTT_OK);
    cr_assert_eq(sptt_scene_check_geometry(db, &r), SPTT_OK, "%s", sptt_errmsg());
    sptt_scene_row_free(&r);
    cr_assert_eq(sptt_db_exec(db, "INSERT INTO qa(scene_id, question_type, question, ground_truth, prompt, seed) "
                                  "VALUES(1, 'room_size_estimation', 'q', '12.0', 'p', 0)"), SPTT_OK);
    cr_assert_eq(sptt_scene_set_annotated(db, id, "aaaa", NULL), SPTT_OK, "%s", sptt_errmsg());
    sptt_scene_names l;
    sptt_scene_query qa = { .state = SPTT_STATE_ANNOTATED };
    cr_assert_eq(sptt_scene_select(db, &qa, &l), SPTT_OK);
    cr_assert_eq(l.n, 1);
    sptt_scene_names_free(&l);

    /* The same results keep the annotations; other results take them away. */
    cr_assert_eq(sptt_scene_set_geometry(db, id, &g, &invalidated), SPTT_OK);
    cr_assert_eq(invalidated, 0);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM qa"), 1);
    g.zResultHash = "bbbb";
    cr_assert_eq(sptt_scene_set_geometry(db, id, &g, &invalidated), SPTT_OK);
    cr_assert_eq(invalidated, 1);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM qa"), 0);
    cr_assert_eq(query_int(db, "SELECT annotated_at IS NULL AND annotated_geometry IS NULL FROM scenes"), 1);
    cr_assert_eq(sptt_scene_select(db, &qa, &l), SPTT_OK);
    cr_assert_eq(l.n, 0);
    sptt_scene_names_free(&l);
    /* Annotations made from the old geometry cannot be marked current. */
    cr_assert_eq(sptt_scene_set_annotated(db, id, "aaaa", NULL), SPTT_ESTATE);
    /* A re-ingest while geometry ran: its results are refused. */
    g.zInputHash = "2222";
    cr_assert_eq(sptt_scene_set_geometry(db, id, &g, &invalidated), SPTT_ESTATE);

    /* Another source under the same name: refused without replace. */
    sptt_scene_new m = { .zName = "s", .zSource = "mesh", .zInputHash = "3333", .zPack = zPack, .alignment = align };
    cr_assert_eq(sptt_scene_insert(db, &m, &id, zOld, sizeof zOld), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "already exists") != NULL, "%s", sptt_errmsg());
    m.replace = 1;
    cr_assert_eq(sptt_scene_insert(db, &m, &id, zOld, sizeof zOld), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(strstr(zOld, "/packs/s.sptt") != NULL, "%s", zOld);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM scenes WHERE source='mesh'"), 1);
    sptt_dataset_close(db);
}

/* Two processes creating the same new dataset at the same moment both succeed. Each is this
** binary run again (child_testutil.h), whose constructor creates the file SPTT_TEST_CHILD names. */
__attribute__((constructor)) static void create_as_child(void)
{
    const char *zNew = getenv(SPTT_TEST_CHILD);
    if( zNew==NULL ) return;
    sqlite3 *db;
    int rc = sptt_dataset_open(zNew, SPTT_DB_CREATE, &db);
    if( rc ) fprintf(stderr, "%s: %s\n", zNew, sptt_errmsg());
    sptt_dataset_close(db);
    _exit(rc);
}

Test(dataset, concurrent_creation)
{
    for(int trial = 0; trial < 20; trial++){
        char zNew[700];
        pid_t pid[2];
        snprintf(zNew, sizeof zNew, "%s/race%d.db", zDir, trial);
        for(int k = 0; k < 2; k++){
            pid[k] = child_start(zNew);
            cr_assert(pid[k] > 0);
        }
        for(int k = 0; k < 2; k++) cr_assert_eq(child_wait(pid[k]), 0, "trial %d: process %d failed", trial, k);
    }
}

/* ---------------------------------------------------------------------------------------------
** Splits and examples
*/
Test(dataset, splits_are_seeded_kept_and_examples_come_in_a_fixed_order)
{
    sqlite3 *db;
    int nTrain = -1, nVal = -1;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    for(int i = 0; i < 10; i++){
        char zSql[2000];
        snprintf(zSql, sizeof zSql,
                 "INSERT INTO scenes(scene_id, name, source, input_hash, geometry_input, geometry_hash, annotated_geometry, annotated_at, n_frames) "
                 "VALUES(%d, 's%02d', 'scannet', 'h', 'h', 'g', 'g', 't', 10);"
                 "INSERT INTO qa(scene_id, question_type, question, options, ground_truth, mc_answer, prompt, seed) "
                 "VALUES(%d, 'object_rel_distance', 'q', '[\"A. x\",\"B. y\"]', 'y', 'B', 'prompt %d', 0);"
                 "INSERT INTO qa(scene_id, question_type, question, ground_truth, prompt, seed) "
                 "VALUES(%d, 'room_size_estimation', 'q', '12.5', 'room %d', 0);"
                 "INSERT INTO descriptions(scene_id, variant, text, seed) VALUES(%d, 1, 'second %d', 0), (%d, 0, 'first %d', 0);",
                 i + 1, i, i + 1, i, i + 1, i, i + 1, i, i + 1, i);
        cr_assert_eq(sptt_db_exec(db, zSql), SPTT_OK, "%s", sptt_errmsg());
    }
    /* A scene whose annotations are stale takes no part. */
    cr_assert_eq(sptt_db_exec(db, "UPDATE scenes SET annotated_geometry='old' WHERE name='s09'"), SPTT_OK);
    cr_assert_eq(sptt_split_assign(db, 0.2, 7, &nTrain, &nVal), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(nVal, 2);
    cr_assert_eq(nTrain, 7);
    cr_assert_eq(query_int(db, "SELECT count(*) FROM scenes WHERE split IS NULL"), 1);
    /* Kept: another fraction or seed changes nothing already assigned. */
    char zBefore[64] = "", zAfter[64] = "";
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT group_concat(name) FROM scenes WHERE split='val'", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(zBefore, sizeof zBefore, "%s", sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    cr_assert_eq(sptt_split_assign(db, 0.5, 8, &nTrain, &nVal), SPTT_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(zAfter, sizeof zAfter, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    cr_assert_str_eq(zBefore, zAfter);

    sptt_examples ex;
    cr_assert_eq(sptt_examples_load(db, SPTT_EXAMPLES_QA, "train", &ex), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(ex.n, 14);
    cr_assert_str_eq(ex.a[0].zAnswer, "B");          /* the letter for multiple choice */
    cr_assert_str_eq(ex.a[1].zAnswer, "12.5");       /* the number for numeric tasks */
    cr_assert(strncmp(ex.a[0].zPrompt, "prompt ", 7)==0);
    for(int i = 1; i < ex.n; i++) cr_assert(strcmp(ex.a[i - 1].zScene, ex.a[i].zScene) <= 0);
    sptt_examples_free(&ex);
    cr_assert_eq(sptt_examples_load(db, SPTT_EXAMPLES_DESCRIPTIONS, "val", &ex), SPTT_OK);
    cr_assert_eq(ex.n, 4);
    cr_assert(strncmp(ex.a[0].zAnswer, "first", 5)==0, "%s", ex.a[0].zAnswer);
    cr_assert_null(ex.a[0].zPrompt);
    sptt_examples_free(&ex);
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** What sptt-build skips, and copying scenes between datasets
*/
Test(dataset, stage_current_compares_options)
{
    sqlite3 *db;
    int64_t id;
    char zOld[600], zPack[600];
    int cur = -1, inv;
    double align[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
    snprintf(zPack, sizeof zPack, "%s/packs/s.sptt", zDir);
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    /* Absent scene, then a scene without geometry: not current. */
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_GEOMETRY, "{\"alpha\":5}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    sptt_scene_new n = { .zName = "s", .zSource = "scannet", .zInputHash = "1111", .zPack = zPack, .alignment = align };
    cr_assert_eq(sptt_scene_insert(db, &n, &id, zOld, sizeof zOld), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_GEOMETRY, "{\"alpha\":5}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    /* Geometry stores results beside its options: the options given must all match. */
    sptt_scene_geometry g = { .zInputHash = "1111", .zResultHash = "aaaa", .zPolygon = "[]",
                              .zParams = "{\"alpha\":5.0,\"obb\":\"minimal\",\"room_points\":812}" };
    cr_assert_eq(sptt_scene_set_geometry(db, id, &g, &inv), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_GEOMETRY, "{\"alpha\":5,\"obb\":\"minimal\"}", &cur), SPTT_OK);
    cr_assert_eq(cur, 1);
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_GEOMETRY, "{\"alpha\":5,\"obb\":\"upright\"}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_GEOMETRY, "{\"alpha\":5,\"min_points\":4}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0, "an option the stored parameters lack is not a match");
    /* Annotations: made with exactly these options, from the present geometry. */
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_ANNOTATED, "{\"seed\":0}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    cr_assert_eq(sptt_scene_set_annotated(db, id, "aaaa", "{\"seed\":0,\"frames\":8}"), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_ANNOTATED, "{\"frames\":8,\"seed\":0}", &cur), SPTT_OK);
    cr_assert_eq(cur, 1);
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_ANNOTATED, "{\"seed\":0}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_ANNOTATED, "{\"seed\":1,\"frames\":8}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    /* Annotations without recorded options (sptt-annotate before version 3): never trusted. */
    cr_assert_eq(sptt_scene_set_annotated(db, id, "aaaa", NULL), SPTT_OK);
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_ANNOTATED, "{\"seed\":0,\"frames\":8}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    /* New geometry results take the annotations and their options away. */
    cr_assert_eq(sptt_scene_set_annotated(db, id, "aaaa", "{\"seed\":0}"), SPTT_OK);
    g.zResultHash = "bbbb";
    cr_assert_eq(sptt_scene_set_geometry(db, id, &g, &inv), SPTT_OK);
    cr_assert_eq(query_int(db, "SELECT annotate_params IS NULL FROM scenes"), 1);
    cr_assert_eq(sptt_scene_stage_current(db, "s", SPTT_STATE_ANNOTATED, "{\"seed\":0}", &cur), SPTT_OK);
    cr_assert_eq(cur, 0);
    sptt_dataset_close(db);
}

Test(dataset, copy_scene_and_merge)
{
    sqlite3 *a, *b;
    int64_t id;
    char zOld[600], zPack[600], zB[200];
    int found = -1, n = -1;
    double align[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
    snprintf(zB, sizeof zB, "%s/b.db", zDir);
    snprintf(zPack, sizeof zPack, "%s/packs/x.sptt", zDir);
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &a), SPTT_OK);
    cr_assert_eq(sptt_dataset_open(zB, SPTT_DB_CREATE, &b), SPTT_OK);
    /* b: scenes x and y with children; a: an old x (id 1) and z, so ids differ between files. */
    sptt_scene_new n1 = { .zName = "z", .zSource = "scannet", .zInputHash = "0000", .zPack = zPack, .alignment = align };
    cr_assert_eq(sptt_scene_insert(a, &n1, &id, zOld, sizeof zOld), SPTT_OK);
    n1.zName = "x";
    cr_assert_eq(sptt_scene_insert(a, &n1, &id, zOld, sizeof zOld), SPTT_OK);
    cr_assert_eq(sptt_db_exec(a, "INSERT INTO qa(scene_id, question_type, question, ground_truth, prompt, seed) "
                                 "VALUES(2, 'old', 'old?', '1', 'p', 0)"), SPTT_OK);
    sptt_scene_new n2 = { .zName = "y", .zSource = "arkitscenes", .zInputHash = "2222", .zPack = zPack, .alignment = align };
    cr_assert_eq(sptt_scene_insert(b, &n2, &id, zOld, sizeof zOld), SPTT_OK);
    n2.zName = "x";
    n2.zInputHash = "1111";
    cr_assert_eq(sptt_scene_insert(b, &n2, &id, zOld, sizeof zOld), SPTT_OK);
    cr_assert_eq(sptt_db_exec(b,
        "INSERT INTO objects(scene_id, instance_id, raw_label, nyu40_id, label, n_points) VALUES(2, 1, 'chair', 5, 'chair', 10);"
        "INSERT INTO object_boxes VALUES(2, 1, 'minimal', 0, 0, 0, 1, 1, 1, '[]', 1, 0);"
        "INSERT INTO frames(scene_id, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, height) "
        "  VALUES(2, 0, 0, 0, '[]', 1, 1, 0, 0, 4, 3);"
        "INSERT INTO visibility VALUES(2, 0, 1, 5, 0, 0, 1, 1);"
        "INSERT INTO qa(scene_id, question_type, question, ground_truth, prompt, seed) VALUES(2, 't', 'second?', '2', 'p', 0);"
        "INSERT INTO qa(scene_id, question_type, question, ground_truth, prompt, seed) VALUES(1, 't', 'of y', '3', 'p', 0);"
        "INSERT INTO qa(scene_id, question_type, question, ground_truth, prompt, seed) VALUES(2, 't', 'first?', '1', 'p', 0);"
        "INSERT INTO descriptions VALUES(2, 0, 'text', NULL, 0);"
        "INSERT INTO scene_warnings VALUES(2, 'ingest', 'w', 'm');"), SPTT_OK, "%s", sptt_errmsg());
    sptt_dataset_close(b);

    cr_assert_eq(sptt_dataset_copy_scene(a, zB, "nope", &found), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(found, 0);
    cr_assert_eq(sptt_dataset_copy_scene(a, zB, "x", &found), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(found, 1);
    /* x replaced: the old row and its question gone, b's rows under a's new id, in b's order. */
    cr_assert_eq(query_int(a, "SELECT count(*) FROM scenes"), 2);
    cr_assert_eq(query_int(a, "SELECT input_hash='1111' AND source='arkitscenes' AND pack_path='packs/x.sptt' FROM scenes WHERE name='x'"), 1);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM qa WHERE question='old?'"), 0);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM qa q JOIN scenes s USING(scene_id) WHERE s.name='x'"), 2);
    cr_assert_eq(query_int(a, "SELECT question='second?' FROM qa ORDER BY qa_id LIMIT 1"), 1);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM objects o JOIN object_boxes b USING(scene_id, instance_id) JOIN visibility v "
                              "USING(scene_id, instance_id) JOIN frames f USING(scene_id, frame_index) JOIN scenes s "
                              "ON s.scene_id=o.scene_id WHERE s.name='x'"), 1);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM descriptions JOIN scene_warnings USING(scene_id)"), 1);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* The whole shard: y added, x replaced again by the same rows; a's z untouched; runs not copied. */
    cr_assert_eq(sptt_dataset_merge(a, zB, &n), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(n, 2);
    cr_assert_eq(query_int(a, "SELECT group_concat(name, ',')='x,y,z' FROM (SELECT name FROM scenes ORDER BY name)"), 1);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM qa"), 3);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM visibility"), 1);
    cr_assert_eq(query_int(a, "SELECT count(*) FROM runs"), 0);
    /* Not a dataset: refused with the file's name, nothing changed. */
    {
        static const char zText[] = "not a database at all, but long enough to be read as a header by SQLite";
        cr_assert_eq(sptt_write_file(zB, zText, sizeof zText - 1), SPTT_OK);
    }
    cr_assert_neq(sptt_dataset_merge(a, zB, &n), SPTT_OK);
    cr_assert(strstr(sptt_errmsg(), "b.db") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(query_int(a, "SELECT count(*) FROM scenes"), 3);
    sptt_dataset_close(a);
}
