/*
** sptt-ingest input checks: one test per kind of damaged input that used to hang ingest, be
** committed and then refused by the pack reader, pass silently wrong, exhaust memory, or reach
** undefined behaviour. Each damage is applied to a freshly synthesised scene or video; a refusal
** must be SPTT_EFORMAT with a one-line message naming the file and the place, and leave no rows.
*/
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_ingest.h"
#include "sptt_schemas.h"
#include "sptt_synth.h"

#define SCENE "scene0700_00"
#define NFRAMES 12

static char zTmp[64];
static char zDb[128];
static char zScene[256];     /* the synthetic ScanNet scene */
static char zTsv[256];
static char zVideo[256];     /* the synthetic ARKitScenes video */
static char zVid[32];        /* its id */

static void make_tmp(void)
{
    strcpy(zTmp, "/tmp/sptt_ingchk_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
}

static void synth(int formats, uint64_t seed)
{
    sptt_synth_opts o;
    char zRaw[128];
    snprintf(zRaw, sizeof zRaw, "%s/raw", zTmp);
    memset(&o, 0, sizeof o);
    o.zOut = zRaw;
    o.nScenes = 1;
    o.seed = seed;
    o.formats = formats;
    o.nFrames = NFRAMES;
    o.quiet = 1;
    cr_assert_eq(sptt_synth_run(&o), SPTT_OK, "%s", sptt_errmsg());
}

static void setup_scannet(void)
{
    make_tmp();
    synth(SPTT_SYNTH_SCANNET, 5);
    snprintf(zScene, sizeof zScene, "%s/raw/scannet/scans/" SCENE, zTmp);
    snprintf(zTsv, sizeof zTsv, "%s/raw/scannet/scannetv2-labels.combined.tsv", zTmp);
}

static void setup_arkit(void)
{
    char zTrain[200];
    DIR *d;
    struct dirent *de;
    make_tmp();
    synth(SPTT_SYNTH_ARKIT, 3);
    snprintf(zTrain, sizeof zTrain, "%s/raw/arkitscenes/3dod/Training", zTmp);
    d = opendir(zTrain);
    cr_assert_not_null(d);
    zVid[0] = 0;
    while( (de = readdir(d))!=NULL ) if( de->d_name[0]!='.' ) snprintf(zVid, sizeof zVid, "%s", de->d_name);
    closedir(d);
    cr_assert(zVid[0]);
    snprintf(zVideo, sizeof zVideo, "%s/%s", zTrain, zVid);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zTmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(scannet_checks, .init = setup_scannet, .fini = teardown);
TestSuite(arkit_checks, .init = setup_arkit, .fini = teardown);
TestSuite(ingest_helpers);

/* ---------------------------------------------------------------------------------------------
** Running ingest
*/
static void scannet_opts(sptt_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->zLabels = zTsv;
    o->fps = 24;
    o->sourceFps = 24;
    o->frameW = 160;
    o->frameH = 120;
    o->force = 1;
    o->quiet = 1;
}

static void arkit_opts(sptt_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fps = 10;
    o->sourceFps = 24;
    o->force = 1;
    o->quiet = 1;
}

static int run_ingest(int arkit, const sptt_ingest_opts *o)
{
    sqlite3 *db;
    sptt_ingest_result r;
    int rc;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    rc = arkit ? sptt_ingest_arkit(db, zVideo, o, &r) : sptt_ingest_scannet(db, zScene, o, &r);
    sptt_dataset_close(db);
    return rc;
}

static int query_int(const char *zSql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int v;
    cr_assert_eq(sqlite3_open(zDb, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}


/* SPTT_EFORMAT, one line holding every piece, no rows and no pack. */
static void expect_refused(int arkit, const sptt_ingest_opts *o, const char *zPiece1, const char *zPiece2, const char *zPiece3)
{
    char zPacks[200];
    DIR *d;
    int rc = run_ingest(arkit, o);
    const char *zMsg = sptt_errmsg();
    cr_assert_eq(rc, SPTT_EFORMAT, "rc %d: %s", rc, zMsg);
    cr_assert_not_null(strstr(zMsg, zPiece1), "'%s' lacks '%s'", zMsg, zPiece1);
    if( zPiece2 ) cr_assert_not_null(strstr(zMsg, zPiece2), "'%s' lacks '%s'", zMsg, zPiece2);
    if( zPiece3 ) cr_assert_not_null(strstr(zMsg, zPiece3), "'%s' lacks '%s'", zMsg, zPiece3);
    cr_assert_null(strchr(zMsg, '\n'), "one line: %s", zMsg);
    cr_assert_eq(query_int("SELECT count(*) FROM scenes"), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM frames"), 0);
    snprintf(zPacks, sizeof zPacks, "%s/packs", zTmp);
    d = opendir(zPacks);
    if( d ){
        struct dirent *de;
        while( (de = readdir(d))!=NULL ) cr_assert(de->d_name[0]=='.', "stray pack %s", de->d_name);
        closedir(d);
    }
}

static void expect_scannet_refused(const char *zPiece1, const char *zPiece2, const char *zPiece3)
{
    sptt_ingest_opts o;
    scannet_opts(&o);
    expect_refused(0, &o, zPiece1, zPiece2, zPiece3);
}

static void expect_poses_refused(const char *zPiece1, const char *zPiece2, const char *zPiece3)
{
    sptt_ingest_opts o;
    scannet_opts(&o);
    o.zPoses = zScene;
    expect_refused(0, &o, zPiece1, zPiece2, zPiece3);
}

static void expect_arkit_refused(const char *zPiece1, const char *zPiece2, const char *zPiece3)
{
    sptt_ingest_opts o;
    arkit_opts(&o);
    expect_refused(1, &o, zPiece1, zPiece2, zPiece3);
}

/* ---------------------------------------------------------------------------------------------
** .sens rewriting: the stream is read and written again through the library's own reader and
** writer, with an edit applied to the header (frame UINT64_MAX) and to each frame.
*/
typedef void (*sens_edit)(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor);

static void sens_path(char *z, size_t n) { snprintf(z, n, "%s/" SCENE ".sens", zScene); }

static void rewrite_sens(sens_edit fn)
{
    char zPath[300], zNew[320];
    sptt_sens s, h;
    sptt_sens_writer *w;
    sens_path(zPath, sizeof zPath);
    snprintf(zNew, sizeof zNew, "%s.new", zPath);
    cr_assert_eq(sptt_sens_read(zPath, &s), SPTT_OK, "%s", sptt_errmsg());
    h = s;
    h.frames = NULL;
    h.fp = NULL;
    fn(&h, UINT64_MAX, NULL, NULL, NULL, NULL);
    cr_assert_eq(sptt_sens_create(zNew, &h, &w), SPTT_OK, "%s", sptt_errmsg());
    for(uint64_t i = 0; i < s.nFrames; i++){
        const sptt_sens_frame *f = &s.frames[i];
        float c2w[16];
        uint64_t t = f->tColor, nColor = f->colorSize;
        uint8_t *color = malloc((size_t)f->colorSize + 1), *depth = malloc((size_t)f->depthSize + 1);
        cr_assert_eq(sptt_sens_blob(&s, f->colorOffset, f->colorSize, color), SPTT_OK);
        cr_assert_eq(sptt_sens_blob(&s, f->depthOffset, f->depthSize, depth), SPTT_OK);
        memcpy(c2w, f->c2w, sizeof c2w);
        fn(&h, i, c2w, &t, &color, &nColor);
        cr_assert_eq(sptt_sens_add_frame(w, c2w, t, t, color, nColor, depth, f->depthSize), SPTT_OK);
        free(color);
        free(depth);
    }
    cr_assert_eq(sptt_sens_finish(w, 1), SPTT_OK, "%s", sptt_errmsg());
    sptt_sens_free(&s);
    cr_assert_eq(rename(zNew, zPath), 0);
}

/* Defect: timestamps that jump by about 2^62 us made the frame choice step its ticks one by one. */
static void jump_time(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)h; (void)c2w; (void)color; (void)nColor;
    if( i!=UINT64_MAX && i >= 6 ) *t += 1ull << 62;
}

Test(scannet_checks, sens_timestamp_jump_refused_not_looped, .timeout = 60)
{
    rewrite_sens(jump_time);
    expect_scannet_refused(SCENE ".sens: frame 6", "timestamp", NULL);
}

Test(ingest_helpers, frame_choice_is_bounded_by_the_frame_count, .timeout = 10)
{
    double t[3] = { 0, 4.6e12, 4.6e12 + 1 };
    int valid[3] = { 1, 1, 1 };
    uint64_t keep[3], n = 0;
    ingest_frames_choose(t, valid, 3, 24, keep, &n);
    cr_assert_eq(n, 3);
    cr_assert(keep[0]==0 && keep[1]==1 && keep[2]==2);
    /* Steps of 1/fps are far below the spacing of doubles at 1e17 s: still no endless loop. */
    double u[3] = { 1e17, 1e17, 2e17 };
    ingest_frames_choose(u, valid, 3, 1000, keep, &n);
    cr_assert(n >= 2 && n <= 3, "%llu", (unsigned long long)n);
}

/* ---------------------------------------------------------------------------------------------
** Exported poses and intrinsics
*/
static void scene_file(const char *zName, char *z, size_t n) { snprintf(z, n, "%s/%s", zScene, zName); }

/* An exported pose numbered far beyond any real stream: its time is absurd, refused by name. */
Test(scannet_checks, exported_pose_index_absurd, .timeout = 60)
{
    char zFrom[300], zTo[300];
    scene_file("pose/11.txt", zFrom, sizeof zFrom);
    scene_file("pose/99999999999999.txt", zTo, sizeof zTo);
    cr_assert_eq(rename(zFrom, zTo), 0);
    expect_poses_refused("pose/99999999999999.txt", "frame index", NULL);
}

/* ---------------------------------------------------------------------------------------------
** ARKitScenes
*/
static void frames_file(const char *zName, char *z, size_t n) { snprintf(z, n, "%s/%s_frames/%s", zVideo, zVid, zName); }

/* Rewrites line `line` (1-based) of a text file. */
static void replace_line(const char *zPath, int line, const char *zNew)
{
    uint8_t *d;
    size_t n;
    sptt_buf b = { 0 };
    char *z, *next;
    int k = 0;
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    for(z = (char *)d; z && *z; z = next){
        char *e = strchr(z, '\n');
        next = e ? e + 1 : NULL;
        if( ++k==line ) sptt_buf_printf(&b, "%s\n", zNew);
        else sptt_buf_put(&b, z, e ? (size_t)(e - z) + 1 : strlen(z));
    }
    cr_assert_eq(sptt_write_file(zPath, b.p, b.n), SPTT_OK);
    sptt_buf_free(&b);
    free(d);
}

/* The greatest name in a folder (frame names of one video sort by time). */
static void last_name(const char *zDir, char *z, size_t n)
{
    DIR *d = opendir(zDir);
    struct dirent *de;
    z[0] = 0;
    cr_assert_not_null(d, "%s", zDir);
    while( (de = readdir(d))!=NULL ) if( de->d_name[0]!='.' && strcmp(de->d_name, z) > 0 ) snprintf(z, n, "%s", de->d_name);
    closedir(d);
}

/* Renames zDir/<vid>_<ts>.<ext> (the last one) to the time zNewTs. */
static void move_last(const char *zSub, const char *zExt, const char *zNewTs)
{
    char zDir[400], zName[200], zFrom[700], zTo[700];
    frames_file(zSub, zDir, sizeof zDir);
    last_name(zDir, zName, sizeof zName);
    snprintf(zFrom, sizeof zFrom, "%s/%s", zDir, zName);
    snprintf(zTo, sizeof zTo, "%s/%s_%s.%s", zDir, zVid, zNewTs, zExt);
    cr_assert_eq(rename(zFrom, zTo), 0, "%s", zFrom);
}

/* Defect: timestamps far apart were walked tick by tick; now refused by name. */
Test(arkit_checks, frame_times_absurd, .timeout = 60)
{
    char zTraj[400], zDir[400], zName[200], zLine[256], zNewTs[32];
    double t;
    uint8_t *d;
    size_t n;
    char *z, *sp;
    /* The last frame (pose, image and intrinsics) moved 10^9 s later. */
    frames_file("lowres_wide", zDir, sizeof zDir);
    last_name(zDir, zName, sizeof zName);
    t = strtod(zName + strlen(zVid) + 1, NULL);
    cr_assert_gt(t, 0);
    snprintf(zNewTs, sizeof zNewTs, "%.3f", t + 1e9);
    frames_file("lowres_wide.traj", zTraj, sizeof zTraj);
    cr_assert_eq(sptt_read_file(zTraj, &d, &n), SPTT_OK);
    z = (char *)d;
    for(int k = 1; k < NFRAMES; k++) z = strchr(z, '\n') + 1;
    sp = strchr(z, ' ');
    snprintf(zLine, sizeof zLine, "%.8f%.*s", t + 1e9, (int)strcspn(sp, "\n"), sp);
    free(d);
    replace_line(zTraj, NFRAMES, zLine);
    move_last("lowres_wide", "png", zNewTs);
    move_last("lowres_wide_intrinsics", "pincam", zNewTs);
    snprintf(zName, sizeof zName, "%s_%s.png", zVid, zNewTs);
    expect_arkit_refused(zName, "after the first frame", NULL);
}

/* Forgets what a successful ingest wrote, so the next refusal can be checked for leftovers. */
static void reset_db(void)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s/d.db %s/d.db-wal %s/d.db-shm %s/packs", zTmp, zTmp, zTmp, zTmp);
    cr_assert_eq(system(cmd), 0);
}

static void write_text(const char *zPath, const char *zText)
{
    cr_assert_eq(sptt_write_file(zPath, zText, strlen(zText)), SPTT_OK, "%s", sptt_errmsg());
}

/* ---------------------------------------------------------------------------------------------
** Poses and intrinsics: the pack's frame rule, checked where they are read
*/
/* Defect: zero, negative or NaN intrinsics in the .sens header went into the pack. */
static float sens_k_value;
static int sens_k_index;
static void bad_intrinsic(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)c2w; (void)t; (void)color; (void)nColor;
    if( i==UINT64_MAX ) h->intrinsicColor[sens_k_index] = sens_k_value;
}

Test(scannet_checks, sens_intrinsics_not_positive_or_not_finite)
{
    static const struct { int index; float value; const char *zField; } aCase[] = {
        { 0, 0.0f, "fx" }, { 5, -288.0f, "fy" }, { 0, NAN, "fx" }, { 2, NAN, "cx" }, { 6, INFINITY, "cy" },
    };
    char zPath[300], zOrig[320], cmd[700];
    sens_path(zPath, sizeof zPath);
    snprintf(zOrig, sizeof zOrig, "%s.orig", zPath);
    snprintf(cmd, sizeof cmd, "cp %s %s", zPath, zOrig);
    cr_assert_eq(system(cmd), 0);
    for(size_t k = 0; k < sizeof aCase / sizeof aCase[0]; k++){
        snprintf(cmd, sizeof cmd, "cp %s %s", zOrig, zPath);
        cr_assert_eq(system(cmd), 0);
        sens_k_index = aCase[k].index;
        sens_k_value = aCase[k].value;
        rewrite_sens(bad_intrinsic);
        expect_scannet_refused(SCENE ".sens", "intrinsic_color", aCase[k].zField);
    }
}

/* Defect: a pose that is not a rotation plus translation went into the pack. */
static void stretch_pose(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)h; (void)t; (void)color; (void)nColor;
    if( i==3 ) for(int r = 0; r < 3; r++) c2w[4 * r] *= 2;
}

static void nan_pose(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)h; (void)t; (void)color; (void)nColor;
    if( i==4 ) c2w[7] = NAN;
}

Test(scannet_checks, sens_pose_not_rigid_or_nan)
{
    char zPath[300], zOrig[320], cmd[700];
    sens_path(zPath, sizeof zPath);
    snprintf(zOrig, sizeof zOrig, "%s.orig", zPath);
    snprintf(cmd, sizeof cmd, "cp %s %s", zPath, zOrig);
    cr_assert_eq(system(cmd), 0);
    rewrite_sens(stretch_pose);
    expect_scannet_refused(SCENE ".sens: frame 3", "camera_to_world", "rigid");
    /* With --no-images the poses are still committed: the same check. */
    {
        sptt_ingest_opts o;
        scannet_opts(&o);
        o.noFrames = 1;
        expect_refused(0, &o, SCENE ".sens: frame 3", "camera_to_world", NULL);
    }
    snprintf(cmd, sizeof cmd, "cp %s %s", zOrig, zPath);
    cr_assert_eq(system(cmd), 0);
    rewrite_sens(nan_pose);
    expect_scannet_refused(SCENE ".sens: frame 4", "camera_to_world", "not finite");
}

Test(scannet_checks, exported_pose_not_rigid_nan_or_inf_partly)
{
    char zPath[300];
    scene_file("pose/5.txt", zPath, sizeof zPath);
    write_text(zPath, "1 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n");
    {
        /* The identity is fine: the scene goes in. */
        sptt_ingest_opts o;
        scannet_opts(&o);
        o.zPoses = zScene;
        cr_assert_eq(run_ingest(0, &o), SPTT_OK, "%s", sptt_errmsg());
        reset_db();
    }
    write_text(zPath, "1 0 0 0\n0 1 0 0\n0 0 3 0\n0 0 0 1\n");
    expect_poses_refused("pose/5.txt", "rigid", NULL);
    write_text(zPath, "0 1 0 0\n1 0 0 0\n0 0 1 0\n0 0 0 1\n");
    expect_poses_refused("pose/5.txt", "reflection", NULL);
    write_text(zPath, "1 0 0 0\n0 1 0 0\n0 0 1 0\n0.5 0 0 1\n");
    expect_poses_refused("pose/5.txt", "last row", NULL);
    write_text(zPath, "1 0 0 nan\n0 1 0 0\n0 0 1 0\n0 0 0 1\n");
    expect_poses_refused("pose/5.txt", "entry 3", "not finite");
}

Test(scannet_checks, exported_lost_pose_still_skipped_with_a_warning)
{
    char zPath[300];
    sptt_ingest_opts o;
    scene_file("pose/5.txt", zPath, sizeof zPath);
    write_text(zPath, "-inf -inf -inf -inf\n-inf -inf -inf -inf\n-inf -inf -inf -inf\n-inf -inf -inf -inf\n");
    scannet_opts(&o);
    o.zPoses = zScene;
    cr_assert_eq(run_ingest(0, &o), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(query_int("SELECT count(*) FROM frames WHERE source_index=5"), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='invalid_poses'"), 1);
}

Test(scannet_checks, exported_intrinsics_not_positive_or_not_finite)
{
    char zPath[300];
    scene_file("intrinsic/intrinsic_color.txt", zPath, sizeof zPath);
    write_text(zPath, "0 0 160 0\n0 288 120 0\n0 0 1 0\n0 0 0 1\n");
    expect_poses_refused("intrinsic_color.txt", "fx", NULL);
    write_text(zPath, "288 0 160 0\n0 nan 120 0\n0 0 1 0\n0 0 0 1\n");
    expect_poses_refused("intrinsic_color.txt", "fy", NULL);
    write_text(zPath, "288 0 -inf 0\n0 288 120 0\n0 0 1 0\n0 0 0 1\n");
    expect_poses_refused("intrinsic_color.txt", "cx", NULL);
}

Test(scannet_checks, exported_colour_size_out_of_range)
{
    char zPath[300];
    uint8_t *d;
    size_t n;
    scene_file(SCENE ".txt", zPath, sizeof zPath);
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    char *at = strstr((char *)d, "colorWidth = 320");
    cr_assert_not_null(at);
    memcpy(at, "colorWidth = -32", 16);
    cr_assert_eq(sptt_write_file(zPath, d, n), SPTT_OK);
    free(d);
    expect_poses_refused(SCENE ".txt", "colorWidth", NULL);
}

static void traj_line_time(int line, char *zTime, size_t n)
{
    char zPath[400];
    uint8_t *d;
    size_t len;
    char *z;
    frames_file("lowres_wide.traj", zPath, sizeof zPath);
    cr_assert_eq(sptt_read_file(zPath, &d, &len), SPTT_OK);
    z = (char *)d;
    for(int k = 1; k < line; k++) z = strchr(z, '\n') + 1;
    snprintf(zTime, n, "%.*s", (int)strcspn(z, " "), z);
    free(d);
}

/* Defect: a pose whose rotation or translation overflows went into the pack as NaN or inf. */
Test(arkit_checks, traj_pose_overflowing)
{
    char zPath[400], zT[64], zLine[256];
    frames_file("lowres_wide.traj", zPath, sizeof zPath);
    traj_line_time(3, zT, sizeof zT);
    snprintf(zLine, sizeof zLine, "%s 0.1 0.2 0.3 1e300 0 0", zT);
    replace_line(zPath, 3, zLine);
    expect_arkit_refused("lowres_wide.traj: line 3", "pose", NULL);
    snprintf(zLine, sizeof zLine, "%s 1e300 0.2 0.3 1 0 0", zT);
    replace_line(zPath, 3, zLine);
    expect_arkit_refused("lowres_wide.traj: line 3", "pose", NULL);
}

/* ---------------------------------------------------------------------------------------------
** .sens colour JPEGs
*/
/* Defect: a header colour size of 640x480 over 320x240 JPEGs halved fx and cx silently. */
static void double_header_size(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)c2w; (void)t; (void)color; (void)nColor;
    if( i==UINT64_MAX ){
        h->colorWidth *= 2;
        h->colorHeight *= 2;
    }
}

Test(scannet_checks, sens_jpeg_size_differs_from_header)
{
    rewrite_sens(double_header_size);
    expect_scannet_refused(SCENE ".sens: frame 0", "320x240", "640x480");
}

/* Defect: a JPEG whose body does not decode passed (libjpeg's warnings were ignored). */
static void cut_jpeg(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)h; (void)c2w; (void)t;
    if( i==2 ){
        /* Keep the headers and a little of the scan, then garbage where the rest was. */
        uint8_t *p = *color;
        size_t sos = 0;
        for(size_t k = 0; k + 1 < *nColor; k++) if( p[k]==0xFF && p[k + 1]==0xDA ){ sos = k; break; }
        cr_assert_gt(sos, 0);
        *nColor = sos + 40;
    }
}

Test(scannet_checks, sens_jpeg_body_undecodable)
{
    rewrite_sens(cut_jpeg);
    expect_scannet_refused(SCENE ".sens: frame 2", "JPEG", NULL);
}

/* Defect: a JPEG declaring 60000x60000 pixels inside a 320x240 stream was decoded at that size
** (tens of GB), and the scale choice multiplied its sides in int (signed overflow). */
static void huge_jpeg(sptt_sens *h, uint64_t i, float *c2w, uint64_t *t, uint8_t **color, uint64_t *nColor)
{
    (void)h; (void)c2w; (void)t;
    if( i==0 ){
        uint8_t *p = *color;
        int found = 0;
        for(size_t k = 0; k + 9 < *nColor; k++){
            if( p[k]==0xFF && (p[k + 1]==0xC0 || p[k + 1]==0xC2) ){
                p[k + 5] = 60000 >> 8; p[k + 6] = 60000 & 0xFF;   /* height */
                p[k + 7] = 60000 >> 8; p[k + 8] = 60000 & 0xFF;   /* width */
                found = 1;
                break;
            }
        }
        cr_assert(found, "no SOF marker");
    }
}

Test(scannet_checks, sens_jpeg_60000_pixels_refused_before_allocating)
{
    rewrite_sens(huge_jpeg);
    expect_scannet_refused(SCENE ".sens: frame 0", "60000x60000", "320x240");
    /* Without a frame size, frames keep the header's size: the same refusal. */
    {
        sptt_ingest_opts o;
        scannet_opts(&o);
        o.frameW = o.frameH = 0;
        expect_refused(0, &o, SCENE ".sens: frame 0", "60000x60000", NULL);
    }
}

/* ---------------------------------------------------------------------------------------------
** Aggregation segments
*/

static char *query_text(const char *zSql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char *z = NULL;
    cr_assert_eq(sqlite3_open(zDb, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    if( sqlite3_step(s)==SQLITE_ROW && sqlite3_column_text(s, 0) ) z = strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return z;
}

/* Defect: segment ids of the aggregation that no vertex uses were dropped without a word. */
static void add_missing_segments(json_t *j)
{
    json_t *g = json_object_get(j, "segGroups");
    json_t *s0 = json_object_get(json_array_get(g, 0), "segments");
    json_t *s2 = json_object_get(json_array_get(g, 2), "segments");
    json_array_append_new(s0, json_integer(987654321));
    json_array_append_new(s0, json_integer(987654322));
    json_array_append_new(s2, json_integer(2000000000));
}

Test(scannet_checks, aggregation_segments_absent_from_segindices_warned)
{
    char zPath[300], *zMsg;
    json_error_t e;
    json_t *j;
    sptt_ingest_opts o;
    scene_file(SCENE ".aggregation.json", zPath, sizeof zPath);
    j = json_load_file(zPath, 0, &e);
    cr_assert_not_null(j);
    add_missing_segments(j);
    cr_assert_eq(json_dump_file(j, zPath, 0), 0);
    json_decref(j);
    scannet_opts(&o);
    o.noFrames = 1;
    cr_assert_eq(run_ingest(0, &o), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='missing_segments'"), 1);
    zMsg = query_text("SELECT message FROM scene_warnings WHERE code='missing_segments'");
    cr_assert_not_null(zMsg);
    cr_log_info("%s", zMsg);
    cr_assert_not_null(strstr(zMsg, "3 segment ids"), "%s", zMsg);
    cr_assert_not_null(strstr(zMsg, "objectId 0: 2 of"), "%s", zMsg);
    cr_assert_not_null(strstr(zMsg, "objectId 2: 1 of"), "%s", zMsg);
    free(zMsg);
}

/* ---------------------------------------------------------------------------------------------
** ARKitScenes annotation boxes
*/
/* Defect: a 1e6 m box passed. */
static void set_box_value(const char *zField, int idx, double v)
{
    char zPath[400];
    json_error_t e;
    json_t *root, *obb;
    snprintf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zVideo, zVid);
    root = json_load_file(zPath, 0, &e);
    cr_assert_not_null(root);
    obb = json_object_get(json_object_get(json_array_get(json_object_get(root, "data"), 1), "segments"), "obbAligned");
    cr_assert_eq(json_array_set_new(json_object_get(obb, zField), (size_t)idx, json_real(v)), 0);
    cr_assert_eq(json_dump_file(root, zPath, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(root);
}

Test(arkit_checks, annotation_box_outside_plausible_ranges)
{
    char zPath[400], zOrig[420], cmd[900];
    snprintf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zVideo, zVid);
    snprintf(zOrig, sizeof zOrig, "%s.orig", zPath);
    snprintf(cmd, sizeof cmd, "cp %s %s", zPath, zOrig);
    cr_assert_eq(system(cmd), 0);
    set_box_value("axesLengths", 0, 1e6);
    expect_arkit_refused("data[1].segments.obbAligned.axesLengths[0]", "1e+06", "m");
    snprintf(cmd, sizeof cmd, "cp %s %s", zOrig, zPath);
    cr_assert_eq(system(cmd), 0);
    set_box_value("centroid", 2, -1e6);
    expect_arkit_refused("data[1].segments.obbAligned.centroid[2]", "-1e+06", NULL);
    snprintf(cmd, sizeof cmd, "cp %s %s", zOrig, zPath);
    cr_assert_eq(system(cmd), 0);
    set_box_value("axesLengths", 2, 1e-6);
    expect_arkit_refused("data[1].segments.obbAligned.axesLengths[2]", "1e-06", NULL);
}

/* ---------------------------------------------------------------------------------------------
** Frame sizes
*/
/* Resource bomb: a .pincam claiming 60000x60000 frames had each thread allocate 10 GB. */
Test(arkit_checks, pincam_size_beyond_the_limit)
{
    char zDir[400];
    DIR *d;
    struct dirent *de;
    frames_file("lowres_wide_intrinsics", zDir, sizeof zDir);
    d = opendir(zDir);
    cr_assert_not_null(d);
    while( (de = readdir(d))!=NULL ){
        char zPath[700];
        if( de->d_name[0]=='.' ) continue;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, de->d_name);
        write_text(zPath, "60000 60000 211.9 211.9 127.9 95.9\n");
    }
    closedir(d);
    expect_arkit_refused(".pincam", "60000", "16384");
}

/* ---------------------------------------------------------------------------------------------
** Undefined behaviour on empty input
*/
/* Defect: a zero-sized source divided by a zero weight and converted NaN to uint8. */
Test(ingest_helpers, resize_refuses_empty_images)
{
    uint8_t src[12] = { 0 }, dst[12];
    memset(dst, 7, sizeof dst);
    cr_assert_neq(sptt_image_resize_rgb(src, 0, 0, dst, 2, 2), SPTT_OK);
    cr_assert_neq(sptt_image_resize_rgb(src, 2, 2, dst, 0, 2), SPTT_OK);
    cr_assert_neq(sptt_image_resize_rgb(src, -2, 2, dst, 2, 2), SPTT_OK);
    for(int i = 0; i < 12; i++) cr_assert_eq(dst[i], 7, "nothing written");
    /* And an ordinary reduction still averages. */
    uint8_t four[12] = { 0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40 }, one[3];
    cr_assert_eq(sptt_image_resize_rgb(four, 2, 2, one, 1, 1), SPTT_OK);
    cr_assert_eq(one[0], 85);
}

/* Defect: a label table with its header and no rows reached qsort(NULL, 0) and was used. */
Test(scannet_checks, label_table_with_header_only)
{
    char zT[200];
    sptt_ingest_opts o;
    snprintf(zT, sizeof zT, "%s/header_only.tsv", zTmp);
    write_text(zT, "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\r\n");
    scannet_opts(&o);
    o.zLabels = zT;
    expect_refused(0, &o, "header_only.tsv", "empty label table", NULL);
    write_text(zT, "");
    expect_refused(0, &o, "header_only.tsv", "empty label table", NULL);
}

/* Defect: an empty trajectory reached qsort(NULL, 0) and gave a video without frames. */
Test(arkit_checks, empty_traj_refused)
{
    char zPath[400];
    frames_file("lowres_wide.traj", zPath, sizeof zPath);
    write_text(zPath, "");
    expect_arkit_refused("lowres_wide.traj", "no poses", NULL);
    write_text(zPath, "\n\n");
    expect_arkit_refused("lowres_wide.traj", "no poses", NULL);
}
