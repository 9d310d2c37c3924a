/*
** sptt-ingest scannet: synthetic scenes against their ground truth, the real fixture scene against
** an independent label computation, and one test per kind of bad input.
*/
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ingest.h"
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_ingest.h"
#include "dataset_testutil.h"
#include "sptt_dataset.h"
#include "sptt_schemas.h"
#include "sptt_synth.h"

static char zTmp[64];
static char zRaw[128];       /* synthetic ScanNet root */
static char zScene[192];     /* the synthetic scene folder */
static char zTsv[192];
static char zDb[128];

#define SCENE "scene0700_00"

static void setup(void)
{
    sptt_synth_opts o;
    strcpy(zTmp, "/tmp/sptt_ings_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    snprintf(zRaw, sizeof zRaw, "%s/raw", zTmp);
    memset(&o, 0, sizeof o);
    o.zOut = zRaw;
    o.nScenes = 1;
    o.seed = 5;
    o.formats = SPTT_SYNTH_SCANNET;
    o.nFrames = 30;
    o.quiet = 1;
    cr_assert_eq(sptt_synth_run(&o), SPTT_OK, "%s", sptt_errmsg());
    snprintf(zScene, sizeof zScene, "%s/scannet/scans/" SCENE, zRaw);
    snprintf(zTsv, sizeof zTsv, "%s/scannet/scannetv2-labels.combined.tsv", zRaw);
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zTmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(ingest_scannet, .init = setup, .fini = teardown);

static void default_opts(sptt_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->zLabels = zTsv;
    o->fps = 24;
    o->sourceFps = 24;
    o->frameW = 160;
    o->frameH = 120;
    o->quiet = 1;
}

static int ingest(const char *zDir, const sptt_ingest_opts *o, const char *zDbPath, sptt_ingest_result *r)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDbPath, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    int rc = sptt_ingest_scannet(db, zDir, o, r);
    sptt_dataset_close(db);
    return rc;
}

static int query_int(const char *zDbPath, const char *zSql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(zDbPath, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}


static void pack_of(const char *zDbPath, const char *zName, sptt_pack *p, int flags)
{
    read_scene_pack(zDbPath, zName, p, flags);
}

static json_t *truth(void)
{
    char zPath[300];
    json_error_t e;
    snprintf(zPath, sizeof zPath, "%s/ground_truth.json", zScene);
    json_t *j = json_load_file(zPath, 0, &e);
    cr_assert_not_null(j);
    return j;
}

static double jnum(json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

Test(ingest_scannet, labels_points_and_poses_equal_the_truth)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    default_opts(&o);
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.skipped, 0);
    sptt_pack p;
    pack_of(zDb, SCENE, &p, 0);
    json_t *gt = truth();
    const char *azList[2] = { "objects", "structure" };
    int nInst = 0;
    for(int l = 0; l < 2; l++){
        json_t *arr = json_object_get(gt, azList[l]);
        for(size_t i = 0; i < json_array_size(arr); i++){
            json_t *ob = json_array_get(arr, i);
            int id = (int)json_integer_value(json_object_get(ob, "instance_id"));
            int nyu = (int)json_integer_value(json_object_get(ob, "nyu40_id"));
            json_t *rg = json_object_get(ob, "vertices");
            for(json_int_t v = json_integer_value(json_array_get(rg, 0)); v < json_integer_value(json_array_get(rg, 1)); v++){
                cr_assert_eq(p.instance[v], id, "vertex %lld", (long long)v);
                cr_assert_eq(p.nyu40[v], id ? nyu : 0, "vertex %lld", (long long)v);
            }
            /* Aligned points sit inside the true box: the alignment was applied. */
            if( l == 0 ){
                json_t *c = json_object_get(ob, "center"), *sz = json_object_get(ob, "size"), *ax = json_object_get(ob, "axes");
                for(json_int_t v = json_integer_value(json_array_get(rg, 0)); v < json_integer_value(json_array_get(rg, 1)); v++){
                    for(int k = 0; k < 3; k++){
                        double d = 0;
                        for(int j = 0; j < 3; j++) d += (p.xyz[3 * v + j] - jnum(c, j)) * jnum(ax, 3 * k + j);
                        cr_assert(fabs(d) <= jnum(sz, k) / 2 + 1e-4);
                    }
                }
            }
            nInst += id > 0;
        }
    }
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM objects"), nInst);
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM objects WHERE raw_label='trash can' AND category!='trash bin'"), 0);
    int nLabelled = 0;
    for(uint64_t v = 0; v < p.nPoints; v++) nLabelled += p.instance[v] > 0;
    cr_assert_eq(query_int(zDb, "SELECT sum(n_points) FROM objects"), nLabelled);

    /* Frames: every valid source frame, poses equal to the truth after alignment. */
    json_t *frames = json_object_get(gt, "frames");
    json_t *inv = json_object_get(json_object_get(gt, "camera"), "invalid_frames");
    cr_assert_eq(p.nFrames, 30 - json_array_size(inv));
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM frames"), (int)p.nFrames);
    cr_assert_eq(p.imgEncoding, SPTT_IMG_JPEG);
    cr_assert(p.imgWidth == 160 && p.imgHeight == 120);
    for(uint64_t f = 0; f < p.nFrames; f++){
        json_t *tp = json_object_get(json_array_get(frames, p.frames[f].sourceIndex), "pose");
        for(int k = 0; k < 16; k++) cr_assert(fabs(p.frames[f].c2w[k] - jnum(tp, k)) < 1e-4, "frame %llu", (unsigned long long)f);
        cr_assert_float_eq(p.frames[f].timestamp, (p.frames[f].sourceIndex - p.frames[0].sourceIndex) / 24.0, 1e-6);
        cr_assert_float_eq(p.frames[f].fx, 1170.187988 * 320 / 1296.0 / 2, 1e-3);
    }
    json_decref(gt);
    sptt_pack_free(&p);
}

Test(ingest_scannet, sens_and_exported_poses_give_the_same_walk)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    char zDb2[160];
    default_opts(&o);
    o.noFrames = 1;
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK, "%s", sptt_errmsg());
    snprintf(zDb2, sizeof zDb2, "%s/e.db", zTmp);
    default_opts(&o);
    o.zPoses = zScene;
    cr_assert_eq(ingest(zScene, &o, zDb2, &r), SPTT_OK, "%s", sptt_errmsg());
    sptt_pack a, b;
    pack_of(zDb, SCENE, &a, 0);
    pack_of(zDb2, SCENE, &b, 0);
    cr_assert_eq(a.nFrames, b.nFrames);
    cr_assert_gt(a.nFrames, 20);
    for(uint64_t f = 0; f < a.nFrames; f++){
        cr_assert_eq(a.frames[f].sourceIndex, b.frames[f].sourceIndex);
        for(int k = 0; k < 16; k++) cr_assert(fabs(a.frames[f].c2w[k] - b.frames[f].c2w[k]) < 2e-5);
        cr_assert_float_eq(a.frames[f].fx, b.frames[f].fx, 1e-3);
        cr_assert_float_eq(a.frames[f].cy, b.frames[f].cy, 1e-3);
        /* the stream's microsecond timestamps against index / 24 */
        cr_assert_float_eq(a.frames[f].timestamp, b.frames[f].timestamp, 1e-6);
    }
    sptt_pack_free(&a);
    sptt_pack_free(&b);
}

Test(ingest_scannet, fps_resampling_keeps_every_nth_valid_frame)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    default_opts(&o);
    o.fps = 6;
    o.noFrames = 1;
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK, "%s", sptt_errmsg());
    sptt_pack p;
    pack_of(zDb, SCENE, &p, 0);
    /* 30 frames at 24 fps last 1.21 s: ticks every 1/6 s give 8 frames, each 4 source frames
    ** apart unless a tick lands on a frame without pose, when the next frame is taken. */
    cr_assert(p.nFrames >= 7 && p.nFrames <= 8, "%llu frames", (unsigned long long)p.nFrames);
    for(uint64_t f = 1; f < p.nFrames; f++){
        uint32_t gap = p.frames[f].sourceIndex - p.frames[f - 1].sourceIndex;
        cr_assert(gap >= 3 && gap <= 5, "gap %u", gap);
    }
    sptt_pack_free(&p);
}

Test(ingest_scannet, unchanged_scene_skipped_and_reingest_replaces)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    default_opts(&o);
    o.noFrames = 1;
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK);
    int nObj = query_int(zDb, "SELECT count(*) FROM objects");
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK);
    cr_assert_eq(r.skipped, 1);
    o.fps = 12;   /* another option: another input hash */
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK);
    cr_assert_eq(r.skipped, 0);
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM scenes"), 1);
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM objects"), nObj, "replaced, not duplicated");
    char zPacks[200];
    snprintf(zPacks, sizeof zPacks, "%s/packs", zTmp);
    DIR *d = opendir(zPacks);
    int n = 0;
    struct dirent *de;
    while( (de = readdir(d)) ) n += de->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(n, 1, "the previous pack was removed after the commit");

    /* A failed re-ingest leaves the previous rows and pack as they were. */
    char zSegs[300];
    snprintf(zSegs, sizeof zSegs, "%s/" SCENE "_vh_clean_2.0.010000.segs.json", zScene);
    cr_assert_eq(sptt_write_file(zSegs, "{\"segIndices\": [1, 2", 20), SPTT_OK);
    o.force = 1;
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_EFORMAT);
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM objects"), nObj);
    sptt_pack p;
    pack_of(zDb, SCENE, &p, 0);
    sptt_pack_free(&p);
}

/* ---------------------------------------------------------------------------------------------
** Bad input: each case gets SPTT_EFORMAT, a message naming the file and the place, and leaves
** no rows and no pack.
*/
static char zBad[256];

static void copy_scene(void)
{
    char cmd[600];
    snprintf(zBad, sizeof zBad, "%s/bad/" SCENE, zTmp);
    snprintf(cmd, sizeof cmd, "rm -rf %s/bad && mkdir -p %s/bad && cp -r %s %s/bad/", zTmp, zTmp, zScene, zTmp);
    cr_assert_eq(system(cmd), 0);
}

static void bad_path(char *z, size_t n, const char *zFile)
{
    snprintf(z, n, "%s/%s", zBad, zFile);
}

static void expect_bad(const char *zNeedle1, const char *zNeedle2)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    char zDb3[200], cmd[300];
    snprintf(zDb3, sizeof zDb3, "%s/bad.db", zTmp);
    unlink(zDb3);
    snprintf(cmd, sizeof cmd, "rm -rf %s/packs", zTmp);
    cr_assert_eq(system(cmd), 0);
    default_opts(&o);
    int rc = ingest(zBad, &o, zDb3, &r);
    cr_assert_eq(rc, SPTT_EFORMAT, "rc %d: %s", rc, sptt_errmsg());
    cr_assert(strstr(sptt_errmsg(), zNeedle1) != NULL, "'%s' not in: %s", zNeedle1, sptt_errmsg());
    if( zNeedle2 ) cr_assert(strstr(sptt_errmsg(), zNeedle2) != NULL, "'%s' not in: %s", zNeedle2, sptt_errmsg());
    cr_assert(strchr(sptt_errmsg(), '\n') == NULL, "one line");
    cr_assert_eq(query_int(zDb3, "SELECT count(*) FROM scenes"), 0);
    char zPacks[200];
    snprintf(zPacks, sizeof zPacks, "%s/packs", zTmp);
    DIR *d = opendir(zPacks);
    if( d ){
        struct dirent *de;
        while( (de = readdir(d)) ) cr_assert(de->d_name[0] == '.', "stray pack %s", de->d_name);
        closedir(d);
    }
}

static void edit_bytes(const char *zFile, const char *zFind, const char *zReplace)
{
    char zPath[400];
    uint8_t *d;
    size_t n;
    bad_path(zPath, sizeof zPath, zFile);
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    char *at = strstr((char *)d, zFind);
    cr_assert_not_null(at, "'%s' not in %s", zFind, zFile);
    size_t lf = strlen(zFind), lr = strlen(zReplace), off = (size_t)(at - (char *)d);
    uint8_t *o = malloc(n - lf + lr);
    memcpy(o, d, off);
    memcpy(o + off, zReplace, lr);
    memcpy(o + off + lr, d + off + lf, n - off - lf);
    cr_assert_eq(sptt_write_file(zPath, o, n - lf + lr), SPTT_OK);
    free(d);
    free(o);
}

static void truncate_file(const char *zFile, size_t keepOrCut, int cut)
{
    char zPath[400];
    uint8_t *d;
    size_t n;
    bad_path(zPath, sizeof zPath, zFile);
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    cr_assert_eq(sptt_write_file(zPath, d, cut ? n - keepOrCut : keepOrCut), SPTT_OK);
    free(d);
}

static void edit_json(const char *zFile, void (*f)(json_t *))
{
    char zPath[400];
    json_error_t e;
    bad_path(zPath, sizeof zPath, zFile);
    json_t *j = json_load_file(zPath, 0, &e);
    cr_assert_not_null(j);
    f(j);
    cr_assert_eq(json_dump_file(j, zPath, 0), 0);
    json_decref(j);
}

static void drop_last_seg(json_t *j)
{
    json_t *a = json_object_get(j, "segIndices");
    json_array_remove(a, json_array_size(a) - 1);
}

static void share_segment(json_t *j)
{
    json_t *g = json_object_get(j, "segGroups");
    json_t *s0 = json_object_get(json_array_get(g, 0), "segments");
    json_array_append(json_object_get(json_array_get(g, 1), "segments"), json_array_get(s0, 0));
}

Test(ingest_scannet, missing_file)
{
    copy_scene();
    char zPath[400];
    bad_path(zPath, sizeof zPath, SCENE ".aggregation.json");
    unlink(zPath);
    expect_bad(SCENE ".aggregation.json", "missing file");
}

Test(ingest_scannet, ply_header_malformed)
{
    copy_scene();
    edit_bytes(SCENE "_vh_clean_2.ply", "format binary_little_endian", "format binary_middle_endian");
    expect_bad(SCENE "_vh_clean_2.ply", "header line 2: unknown format 'binary_middle_endian'");
}

Test(ingest_scannet, ply_counts_disagree_with_size)
{
    copy_scene();
    truncate_file(SCENE "_vh_clean_2.ply", 13, 1);
    expect_bad(SCENE "_vh_clean_2.ply", "byte ");
    copy_scene();
    edit_bytes(SCENE "_vh_clean_2.ply", "element face ", "element face 9");
    expect_bad(SCENE "_vh_clean_2.ply", "element counts need");
}

Test(ingest_scannet, ply_unsupported_property_type)
{
    copy_scene();
    edit_bytes(SCENE "_vh_clean_2.ply", "property float x", "property half  x");
    expect_bad(SCENE "_vh_clean_2.ply", "unsupported property type 'half'");
}

Test(ingest_scannet, ply_nan_coordinates)
{
    copy_scene();
    char zPath[400];
    uint8_t *d;
    size_t n;
    bad_path(zPath, sizeof zPath, SCENE "_vh_clean_2.ply");
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    size_t hdr = (size_t)(strstr((char *)d, "end_header\n") - (char *)d) + 11;
    uint32_t inf = 0x7f800000u;
    memcpy(d + hdr + 16 * 5 + 8, &inf, 4);   /* z of vertex 5 */
    cr_assert_eq(sptt_write_file(zPath, d, n), SPTT_OK);
    free(d);
    expect_bad(SCENE "_vh_clean_2.ply", "vertex 5 has a non-finite coordinate");
}

Test(ingest_scannet, segindices_length_differs)
{
    copy_scene();
    edit_json(SCENE "_vh_clean_2.0.010000.segs.json", drop_last_seg);
    expect_bad("segs.json: field 'segIndices'", "entries, the mesh has");
}

Test(ingest_scannet, segment_in_two_groups)
{
    copy_scene();
    edit_json(SCENE ".aggregation.json", share_segment);
    expect_bad(SCENE ".aggregation.json", "is used by segGroups[0] and segGroups[1]");
}

Test(ingest_scannet, json_syntax_error_with_line_and_column)
{
    copy_scene();
    edit_bytes(SCENE ".aggregation.json", "\"appId\": \"Aggregator.v2\",", "\"appId\": \"Aggregator.v2\" ,,");
    expect_bad(SCENE ".aggregation.json: line 3 column", "JSON syntax error");
}

Test(ingest_scannet, alignment_with_wrong_count_or_not_rigid)
{
    copy_scene();
    edit_bytes(SCENE ".txt", "axisAlignment = ", "axisAlignment = 1 ");
    expect_bad(SCENE ".txt: line 1: axisAlignment", "expected 16 numbers, found 17");
    copy_scene();
    edit_bytes(SCENE ".txt", "axisAlignment = ", "axisAlignment = 2 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1\r\nformerAlignment = ");
    expect_bad(SCENE ".txt: line 1: axisAlignment", "not a rigid transform");
}

Test(ingest_scannet, sens_wrong_version_truncated_and_overflowing)
{
    char zPath[400];
    uint8_t *d;
    size_t n;
    copy_scene();
    bad_path(zPath, sizeof zPath, SCENE ".sens");
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    d[0] = 3;
    cr_assert_eq(sptt_write_file(zPath, d, n), SPTT_OK);
    expect_bad(SCENE ".sens: byte 0", "version 3, expected 4");

    copy_scene();
    truncate_file(SCENE ".sens", n / 2, 0);
    expect_bad(SCENE ".sens: byte", "truncated");

    /* frame 0's colour size set to nearly 2^64: must not wrap around the bounds check */
    copy_scene();
    uint64_t nameLen;
    memcpy(&nameLen, d + 4, 8);
    size_t rec = 12 + nameLen + 292;
    d[0] = 4;
    uint64_t huge = 0xFFFFFFFFFFFFFF00ull;
    memcpy(d + rec + 80, &huge, 8);
    cr_assert_eq(sptt_write_file(zPath, d, n), SPTT_OK);
    expect_bad(SCENE ".sens: byte", "frame 0 declares");
    free(d);
}

Test(ingest_scannet, labels_table_required_and_checked)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    char zT[200];
    default_opts(&o);
    snprintf(zT, sizeof zT, "%s/v1.tsv", zTmp);
    const char *zV1 = "id\tcategory\tcount\tnyuId\tnyu40id\r\n1\twall\t8277\t1\t1\r\n";
    cr_assert_eq(sptt_write_file(zT, zV1, strlen(zV1)), SPTT_OK);
    o.zLabels = zT;
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "v1.tsv: line 1: header lacks the raw_category") != NULL, "%s", sptt_errmsg());
}

/* ---------------------------------------------------------------------------------------------
** The real scene
*/

/* The official rule, computed here from the files with nothing shared with the library. */
Test(ingest_scannet, real_fixture_scene)
{
    const char *zFix = getenv("SPTT_FIXTURES");
    char zDir[512], zAlign[512], zLab[512], zPath[600];
    snprintf(zDir, sizeof zDir, "%s/scannet/scene0000_00", zFix ? zFix : "../shared/fixtures");
    if( access(zDir, R_OK) != 0 ){
        cr_log_warn("SKIP real scene: fixture %s absent", zDir);
        return;
    }
    snprintf(zAlign, sizeof zAlign, "%s/scannet/scene0000_00.axis_alignment.txt", zFix);
    snprintf(zLab, sizeof zLab, "%s/scannet/scannetv2-labels.combined.tsv", zFix);
    sptt_ingest_opts o;
    sptt_ingest_result r;
    default_opts(&o);
    o.zLabels = zLab;
    o.zAlign = zAlign;
    cr_assert_eq(ingest(zDir, &o, zDb, &r), SPTT_OK, "%s", sptt_errmsg());
    sptt_pack p;
    pack_of(zDb, "scene0000_00", &p, 0);
    cr_assert_eq(p.nPoints, 81369);
    cr_assert_eq(p.nFaces, 153587);
    cr_assert_eq(p.nFrames, 0);

    /* raw category -> nyu40id from the table, parsed here */
    FILE *fp = fopen(zLab, "r");
    char line[4096];
    char *names[700];
    int ids[700], nRows = 0;
    cr_assert_not_null(fgets(line, sizeof line, fp));
    while( fgets(line, sizeof line, fp) && nRows < 700 ){
        char *cells[20];
        int c = 0;
        line[strcspn(line, "\r\n")] = 0;
        for(char *t = line; c < 20; ){
            cells[c++] = t;
            char *tab = strchr(t, '\t');
            if( !tab ) break;
            *tab = 0;
            t = tab + 1;
        }
        if( c < 5 || !cells[4][0] ) continue;
        names[nRows] = strdup(cells[1]);
        ids[nRows++] = atoi(cells[4]);
    }
    fclose(fp);

    json_error_t e;
    snprintf(zPath, sizeof zPath, "%s/scene0000_00_vh_clean_2.0.010000.segs.json", zDir);
    json_t *segs = json_load_file(zPath, 0, &e);
    snprintf(zPath, sizeof zPath, "%s/scene0000_00.aggregation.json", zDir);
    json_t *agg = json_load_file(zPath, 0, &e);
    cr_assert(segs && agg);
    json_t *idx = json_object_get(segs, "segIndices"), *groups = json_object_get(agg, "segGroups");
    int nMismatch = 0, nUnknownGroups = 0;
    for(size_t v = 0; v < p.nPoints; v++){
        json_int_t sg = json_integer_value(json_array_get(idx, v));
        int inst = 0, nyu = 0;
        for(size_t g = 0; g < json_array_size(groups) && !inst; g++){
            json_t *G = json_array_get(groups, g), *sl = json_object_get(G, "segments");
            for(size_t k = 0; k < json_array_size(sl); k++){
                if( json_integer_value(json_array_get(sl, k)) == sg ){
                    inst = (int)json_integer_value(json_object_get(G, "objectId")) + 1;
                    const char *zl = json_string_value(json_object_get(G, "label"));
                    for(int i = 0; i < nRows; i++) if( strcmp(names[i], zl) == 0 ) nyu = ids[i];
                    break;
                }
            }
        }
        nMismatch += p.instance[v] != inst || p.nyu40[v] != nyu;
    }
    cr_assert_eq(nMismatch, 0, "%d vertices differ from the official rule", nMismatch);
    for(size_t g = 0; g < json_array_size(groups); g++){
        const char *zl = json_string_value(json_object_get(json_array_get(groups, g), "label"));
        int found = 0;
        for(int i = 0; i < nRows; i++) if( strcmp(names[i], zl) == 0 ) found = 1;
        nUnknownGroups += !found;
    }
    cr_assert_gt(nUnknownGroups, 0, "this v1 scene has labels the v2 table lacks");
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM scene_warnings WHERE code='unknown_labels' AND message LIKE '%trashcan%'"), 1);
    cr_assert_eq(query_int(zDb, "SELECT count(*) FROM objects"), (int)json_array_size(groups));

    /* With its alignment the floor lands at z ~ 0: the median height of floor points. */
    float *fz = malloc(sizeof(float) * p.nPoints);
    size_t nf = 0;
    for(size_t v = 0; v < p.nPoints; v++) if( p.nyu40[v] == 2 ) fz[nf++] = p.xyz[3 * v + 2];
    cr_assert_gt(nf, 1000);
    for(size_t i = 0; i < nf / 2 + 1; i++){
        size_t m = i;
        for(size_t j = i + 1; j < nf; j++) if( fz[j] < fz[m] ) m = j;
        float t = fz[i]; fz[i] = fz[m]; fz[m] = t;
    }
    cr_log_info("real scene: %zu floor points, median floor z %.4f m", nf, fz[nf / 2]);
    cr_assert(fabsf(fz[nf / 2]) < 0.05f, "median floor z %g", fz[nf / 2]);
    free(fz);
    for(int i = 0; i < nRows; i++) free(names[i]);
    json_decref(segs);
    json_decref(agg);
    sptt_pack_free(&p);
}

/* --sample: area-weighted, seeded, labels carried from the mesh. */
Test(ingest_scannet, surface_samples_follow_area_and_seed)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    char zDb2[160];
    default_opts(&o);
    o.noFrames = 1;
    o.nSample = 40000;
    o.seed = 3;
    cr_assert_eq(ingest(zScene, &o, zDb, &r), SPTT_OK, "%s", sptt_errmsg());
    sptt_pack p;
    pack_of(zDb, SCENE, &p, 0);
    cr_assert_eq(p.nSamples, 40000u);
    /* the floor's share of the mesh area against its share of the samples */
    double floorArea = 0, total = 0;
    for(uint64_t f = 0; f < p.nFaces; f++){
        const float *a = p.xyz + 3 * p.faces[3 * f], *b = p.xyz + 3 * p.faces[3 * f + 1], *c = p.xyz + 3 * p.faces[3 * f + 2];
        double u[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] }, v[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] };
        double x = u[1] * v[2] - u[2] * v[1], y = u[2] * v[0] - u[0] * v[2], z = u[0] * v[1] - u[1] * v[0];
        double area = 0.5 * sqrt(x * x + y * y + z * z);
        total += area;
        if( p.nyu40[p.faces[3 * f]] == 2 && p.nyu40[p.faces[3 * f + 1]] == 2 && p.nyu40[p.faces[3 * f + 2]] == 2 ) floorArea += area;
    }
    int nFloor = 0;
    double zmin = 1e9, zmax = -1e9;
    for(uint64_t s = 0; s < p.nSamples; s++){
        nFloor += p.snyu40[s] == 2;
        zmin = fmin(zmin, p.sxyz[3 * s + 2]);
        zmax = fmax(zmax, p.sxyz[3 * s + 2]);
    }
    double share = (double)nFloor / (double)p.nSamples, want = floorArea / total;
    cr_assert(fabs(share - want) < 0.01, "floor samples %.4f vs floor area share %.4f", share, want);
    cr_assert(zmin > -0.01 && zmax < 3.1, "samples lie on the aligned mesh: z in [%g, %g]", zmin, zmax);

    /* same seed, same samples; another seed, other samples */
    snprintf(zDb2, sizeof zDb2, "%s/s2.db", zTmp);
    sptt_ingest_opts o2 = o;
    char zPk[200];
    snprintf(zPk, sizeof zPk, "%s/packs2", zTmp);
    o2.zPackDir = zPk;
    cr_assert_eq(ingest(zScene, &o2, zDb2, &r), SPTT_OK);
    sptt_pack q;
    pack_of(zDb2, SCENE, &q, 0);
    cr_assert(memcmp(p.sxyz, q.sxyz, 12 * p.nSamples) == 0);
    sptt_pack_free(&q);
    o2.seed = 4;
    o2.force = 1;
    cr_assert_eq(ingest(zScene, &o2, zDb2, &r), SPTT_OK);
    pack_of(zDb2, SCENE, &q, 0);
    cr_assert(memcmp(p.sxyz, q.sxyz, 12 * p.nSamples) != 0);
    sptt_pack_free(&q);
    sptt_pack_free(&p);
}

/*
** Segment ids are sparse and a file may use any id up to 2^31 - 1. The reader used to index a
** table by segment id, so one vertex in segment 2^31 - 1 made it allocate and fill 8 GiB; the
** table now holds the distinct ids the vertices use.
*/
Test(scannet_parse, sparse_segment_ids_take_no_memory)
{
    const char *zAgg = "{\"segGroups\":[{\"objectId\":4,\"label\":\"chair\",\"segments\":[2147483647,9]},"
                       "{\"objectId\":0,\"label\":\"wall\",\"segments\":[5,2147483646]}]}";
    char zLabels[] = "raw_category\tnyu40id\nchair\t5\nwall\t1\n";
    uint32_t seg[4] = { 2147483647, 5, 7, 5 };
    sptt_label_table *t = NULL;
    scene_data d;
    struct rusage ru0, ru1;

    cr_assert_eq(ingest_parse_labels("labels.tsv", zLabels, &t), SPTT_OK, "%s", sptt_errmsg());
    ingest_scene_init(&d, "scene0000_00", "scannet");
    d.pack.nPoints = 4;
    d.pack.instance = calloc(4, sizeof(uint16_t));
    d.pack.nyu40 = calloc(4, 1);
    getrusage(RUSAGE_SELF, &ru0);
    cr_assert_eq(ingest_parse_aggregation(&d, "agg.json", (const uint8_t *)zAgg, strlen(zAgg), seg, t), SPTT_OK, "%s",
                 sptt_errmsg());
    getrusage(RUSAGE_SELF, &ru1);
    cr_assert_lt(ru1.ru_maxrss - ru0.ru_maxrss, 64 * 1024, "peak memory grew by %ld KiB", ru1.ru_maxrss - ru0.ru_maxrss);
    cr_assert_eq(d.nInst, 2);
    cr_assert_eq(d.pack.instance[0], 5);
    cr_assert_eq(d.pack.nyu40[0], 5);
    cr_assert_eq(d.pack.instance[1], 1);
    cr_assert_eq(d.pack.nyu40[1], 1);
    cr_assert_eq(d.pack.instance[2], 0);
    cr_assert_eq(d.pack.instance[3], 1);
    ingest_scene_free(&d);

    /* A segment two groups share is still refused when a vertex uses it. */
    {
        const char *zTwice = "{\"segGroups\":[{\"objectId\":1,\"label\":\"chair\",\"segments\":[7]},"
                             "{\"objectId\":2,\"label\":\"wall\",\"segments\":[7]}]}";
        ingest_scene_init(&d, "scene0000_00", "scannet");
        d.pack.nPoints = 4;
        d.pack.instance = calloc(4, sizeof(uint16_t));
        d.pack.nyu40 = calloc(4, 1);
        cr_assert_eq(ingest_parse_aggregation(&d, "agg.json", (const uint8_t *)zTwice, strlen(zTwice), seg, t),
                     SPTT_EFORMAT);
        cr_assert(strstr(sptt_errmsg(), "agg.json: segment 7 is used by segGroups[0] and segGroups[1]"), "%s", sptt_errmsg());
        ingest_scene_free(&d);
    }
    sptt_labels_free(t);
}
