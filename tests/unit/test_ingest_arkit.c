/*
** sptt-ingest arkitscenes: synthetic videos (some recorded with the device turned) against their
** ground truth and against an independent computation from the annotation; one test per kind of
** bad input.
**
** The videos are synthesised once for the whole binary, in a child process of the runner (so the
** runner itself never starts OpenMP threads before forking tests); their folder reaches the tests
** through the environment. Tests that damage a video work on their own copy.
*/
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_ingest.h"
#include "sptt_math.h"
#include "sptt_dataset.h"
#include "sptt_schemas.h"
#include "sptt_synth.h"

#define ENV_ROOT "SPTT_TEST_ARKIT_ROOT"
#define NFRAMES 20

static char zRunRoot[64];    /* set in the runner only, for the final clean-up */

/*
** The fixture videos are written by the sptt-synth tool run as its own process, not by the
** library in a fork of this runner: the runner has a messaging thread, and a child forked while
** that thread allocates inherits the allocator's lock held (under AddressSanitizer the child then
** waits on it forever).
*/
ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    const char *zBin = getenv("SPTT_BIN") ? getenv("SPTT_BIN") : "bin";
    (void)tests;
    strcpy(zRunRoot, "/tmp/sptt_arkfix_XXXXXX");
    if( mkdtemp(zRunRoot)==NULL ) return;
    /* Seed 3 gives four videos, one held in each orientation. Should the generator change, later
    ** seeds are tried until at least one video is rotated. */
    for(uint64_t seed = 3; seed < 40; seed++){
        char cmd[1400], zDir[128], zTruth[400];
        int rotated = 0;
        DIR *dir;
        struct dirent *de;
        snprintf(cmd, sizeof cmd, "'%s/sptt-synth' --out %s --scenes 4 --seed %llu --format arkitscenes --scale small "
                 "--frames %d -q", zBin, zRunRoot, (unsigned long long)seed, NFRAMES);
        if( system(cmd)!=0 ){
            fprintf(stderr, "could not run: %s\n", cmd);
            return;
        }
        snprintf(zDir, sizeof zDir, "%s/arkitscenes/3dod/Training", zRunRoot);
        dir = opendir(zDir);
        while( dir && (de = readdir(dir))!=NULL ){
            json_t *j;
            if( de->d_name[0]=='.' ) continue;
            snprintf(zTruth, sizeof zTruth, "%s/%s/ground_truth.json", zDir, de->d_name);
            j = json_load_file(zTruth, 0, NULL);
            if( j && strcmp(json_string_value(json_object_get(json_object_get(j, "camera"), "sky_direction")), "Up")!=0 ) rotated = 1;
            json_decref(j);
        }
        if( dir ) closedir(dir);
        if( rotated ){
            setenv(ENV_ROOT, zRunRoot, 1);
            return;
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s/arkitscenes", zRunRoot);
        if( system(cmd)!=0 ) return;
    }
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    char cmd[128];
    (void)stats;
    if( zRunRoot[0]==0 ) return;
    snprintf(cmd, sizeof cmd, "rm -rf %s", zRunRoot);
    if( system(cmd)!=0 ) fprintf(stderr, "could not remove %s\n", zRunRoot);
}

/* ---------------------------------------------------------------------------------------------
** Per-test state
*/
static char zTmp[64];
static char zDb[128];
static char zTrain[256];      /* the shared videos */
static char azVid[8][16];
static int nVid;

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void setup(void)
{
    const char *zRoot = getenv(ENV_ROOT);
    DIR *dir;
    struct dirent *de;
    cr_assert_not_null(zRoot, "the synthetic videos were not generated (see the runner's log)");
    snprintf(zTrain, sizeof zTrain, "%s/arkitscenes/3dod/Training", zRoot);
    strcpy(zTmp, "/tmp/sptt_ingark_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
    nVid = 0;
    dir = opendir(zTrain);
    cr_assert_not_null(dir);
    while( (de = readdir(dir))!=NULL && nVid < 8 ){
        if( de->d_name[0]!='.' ) snprintf(azVid[nVid++], sizeof azVid[0], "%s", de->d_name);
    }
    closedir(dir);
    qsort(azVid, (size_t)nVid, sizeof azVid[0], cmp_str);
    cr_assert_geq(nVid, 2);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zTmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(ingest_arkit, .init = setup, .fini = teardown);

static void default_opts(sptt_ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->fps = 10;
    o->sourceFps = 24;
    o->frameW = 320;     /* the CLI default; ARKitScenes frames keep their own size */
    o->frameH = 240;
    o->quiet = 1;
}

static int ingest(const char *zDir, const sptt_ingest_opts *o, sptt_ingest_result *r)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    int rc = sptt_ingest_arkit(db, zDir, o, r);
    sptt_dataset_close(db);
    return rc;
}

static void video_dir(int i, char *z, size_t n) { snprintf(z, n, "%s/%s", zTrain, azVid[i]); }

static json_t *load_json(const char *zPath)
{
    json_error_t e;
    json_t *j = json_load_file(zPath, 0, &e);
    cr_assert_not_null(j, "%s: %s", zPath, e.text);
    return j;
}

static json_t *truth_of(int i)
{
    char z[400];
    snprintf(z, sizeof z, "%s/%s/ground_truth.json", zTrain, azVid[i]);
    return load_json(z);
}

static const char *sky_of(json_t *truth)
{
    return json_string_value(json_object_get(json_object_get(truth, "camera"), "sky_direction"));
}

static int turns_of(const char *zSky)
{
    if( strcmp(zSky, "Up")==0 ) return 0;
    if( strcmp(zSky, "Left")==0 ) return 1;
    if( strcmp(zSky, "Down")==0 ) return 2;
    cr_assert_str_eq(zSky, "Right");
    return 3;
}

static double jnum(json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

static int query_int(const char *zSql, const char *zArg)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_open(zDb, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    if( zArg ) sqlite3_bind_text(s, 1, zArg, -1, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void pack_path_of(const char *zName, char *z, size_t n)
{
    sqlite3 *db;
    sptt_scene_row r;
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_get(db, zName, &r), SPTT_OK, "%s", sptt_errmsg());
    snprintf(z, n, "%s", r.zPack);
    sptt_scene_row_free(&r);
    sptt_dataset_close(db);
}

static void pack_of(const char *zName, sptt_pack *p, int flags)
{
    char z[512];
    pack_path_of(zName, z, sizeof z);
    cr_assert_eq(sptt_pack_read(z, flags, p), SPTT_OK, "%s", sptt_errmsg());
}

/* ---------------------------------------------------------------------------------------------
** Instances: the rule computed here from the files alone
*/
typedef struct test_box {
    double c[3], l[3], A[9], vol;
    const char *zLabel;
} test_box;

static int load_boxes(const char *zAnn, json_t **pRoot, test_box **pB)
{
    json_t *root = load_json(zAnn), *data = json_object_get(root, "data");
    int n = (int)json_array_size(data);
    test_box *B = calloc((size_t)n + 1, sizeof *B);
    for(int k = 0; k < n; k++){
        json_t *it = json_array_get(data, (size_t)k);
        json_t *obb = json_object_get(json_object_get(it, "segments"), "obbAligned");
        for(int j = 0; j < 3; j++){
            B[k].c[j] = jnum(json_object_get(obb, "centroid"), (size_t)j);
            B[k].l[j] = jnum(json_object_get(obb, "axesLengths"), (size_t)j);
        }
        for(int j = 0; j < 9; j++) B[k].A[j] = jnum(json_object_get(obb, "normalizedAxes"), (size_t)j);
        B[k].vol = B[k].l[0] * B[k].l[1] * B[k].l[2];
        B[k].zLabel = json_string_value(json_object_get(it, "label"));
    }
    *pRoot = root;
    *pB = B;
    return n;
}

/* Instance of a point: the smallest box (earliest on ties) holding it within 0.1 mm, else 0. */
static int instance_of(const test_box *B, int n, const float *p)
{
    int best = 0;
    for(int k = 0; k < n; k++){
        int in = 1;
        for(int j = 0; j < 3; j++){
            double s = 0;
            for(int i = 0; i < 3; i++) s += B[k].A[3 * j + i] * ((double)p[i] - B[k].c[i]);
            if( fabs(s) > B[k].l[j] / 2 + 1e-4 ) in = 0;
        }
        if( in && (best==0 || B[k].vol < B[best - 1].vol) ) best = k + 1;
    }
    return best;
}

Test(ingest_arkit, instances_labels_and_boxes_equal_an_independent_computation)
{
    uint64_t nAnnotatedVerts = 0, nAgree = 0, nOverlap = 0;
    for(int i = 0; i < nVid; i++){
        char zDir[300], zPath[400];
        sptt_ingest_opts o;
        sptt_ingest_result r;
        sptt_pack p;
        sptt_ply ply;
        json_t *ann, *truth = truth_of(i), *meta, *insts, *objs;
        test_box *B;
        int nB;
        video_dir(i, zDir, sizeof zDir);
        default_opts(&o);
        cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_str_eq(r.zName, azVid[i]);
        pack_of(azVid[i], &p, SPTT_PACK_SKIP_IMAGES);

        snprintf(zPath, sizeof zPath, "%s/%s_3dod_mesh.ply", zDir, azVid[i]);
        cr_assert_eq(sptt_ply_read(zPath, &ply), SPTT_OK);
        cr_assert_eq(p.nPoints, ply.nVerts);
        cr_assert_eq(p.nFaces, ply.nFaces);
        cr_assert(memcmp(p.xyz, ply.xyz, ply.nVerts * 12)==0, "points kept exactly in the world frame");
        cr_assert(memcmp(p.rgb, ply.rgb, ply.nVerts * 3)==0);
        snprintf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zDir, azVid[i]);
        nB = load_boxes(zPath, &ann, &B);
        cr_assert_gt(nB, 2);

        /* Every vertex, against the rule computed here. */
        uint64_t *count = calloc((size_t)nB + 1, sizeof *count);
        for(uint64_t v = 0; v < ply.nVerts; v++){
            int id = instance_of(B, nB, ply.xyz + 3 * v);
            cr_assert_eq(p.instance[v], id, "%s vertex %llu: instance %d, expected %d", azVid[i], (unsigned long long)v,
                         p.instance[v], id);
            int nyu = id ? sptt_arkit_nyu40(B[id - 1].zLabel) : 0;
            cr_assert_eq(p.nyu40[v], nyu < 0 ? 0 : nyu);
            count[id]++;
        }

        /* Instances in the pack metadata and the objects rows. */
        meta = json_loads(p.zMeta, 0, NULL);
        cr_assert_not_null(meta);
        cr_assert_str_eq(json_string_value(json_object_get(meta, "source")), "arkitscenes");
        insts = json_object_get(meta, "instances");
        cr_assert_eq(json_array_size(insts), (size_t)nB);
        for(int k = 0; k < nB; k++){
            json_t *in = json_array_get(insts, (size_t)k), *box = json_object_get(in, "box");
            const char *zCat = sptt_arkit_category(B[k].zLabel);
            char zSql[200];
            cr_assert_eq(json_integer_value(json_object_get(in, "id")), k + 1);
            cr_assert_str_eq(json_string_value(json_object_get(in, "raw_label")), B[k].zLabel);
            cr_assert_eq(json_integer_value(json_object_get(in, "nyu40")), sptt_arkit_nyu40(B[k].zLabel));
            if( zCat ) cr_assert_str_eq(json_string_value(json_object_get(in, "category")), zCat);
            else cr_assert(json_is_null(json_object_get(in, "category")));
            cr_assert_not_null(box, "the annotation box is in the metadata");
            for(int j = 0; j < 3; j++){
                cr_assert_float_eq(jnum(json_object_get(box, "center"), (size_t)j), B[k].c[j], 1e-8);
                cr_assert_float_eq(jnum(json_object_get(box, "size"), (size_t)j), B[k].l[j], 1e-8);
            }
            for(int j = 0; j < 9; j++) cr_assert_float_eq(jnum(json_object_get(box, "axes"), (size_t)j), B[k].A[j], 1e-8);
            snprintf(zSql, sizeof zSql, "SELECT objects.n_points FROM objects JOIN scenes USING(scene_id) WHERE name=? AND "
                     "instance_id=%d", k + 1);
            cr_assert_eq((uint64_t)query_int(zSql, azVid[i]), count[k + 1]);
        }
        json_decref(meta);

        /* Against the generator: each annotated object's vertices lie in its own box. Objects
        ** carrying another object's box are counted, not failed: the smaller box takes them. */
        objs = json_object_get(truth, "objects");
        int k = 0;
        for(size_t t = 0; t < json_array_size(objs); t++){
            json_t *ob = json_array_get(objs, t);
            json_t *lab = json_object_get(ob, "arkit_label"), *range = json_object_get(ob, "vertices");
            if( !json_is_string(lab) ) continue;
            const char *zLab = json_string_value(lab);
            cr_assert_eq(sptt_arkit_nyu40(B[k].zLabel), sptt_arkit_nyu40(zLab), "annotation item %d is truth object %zu", k, t);
            const char *zQa = json_string_value(json_object_get(ob, "qa_category"));
            const char *zCat = sptt_arkit_category(B[k].zLabel);
            cr_assert((zQa==NULL && zCat==NULL) || (zQa && zCat && strcmp(zQa, zCat)==0));
            for(json_int_t v = json_integer_value(json_array_get(range, 0)); v < json_integer_value(json_array_get(range, 1)); v++){
                nAnnotatedVerts++;
                if( p.instance[v]==k + 1 ) nAgree++;
                else nOverlap++;
            }
            k++;
        }
        cr_assert_eq(k, nB);
        free(count);
        free(B);
        json_decref(ann);
        json_decref(truth);
        sptt_ply_free(&ply);
        sptt_pack_free(&p);
    }
    cr_log_info("annotated vertices: %llu, in their own box's instance: %llu, taken by a smaller box: %llu",
                (unsigned long long)nAnnotatedVerts, (unsigned long long)nAgree, (unsigned long long)nOverlap);
    cr_assert_gt(nAnnotatedVerts, 1000);
    cr_assert_geq((double)nAgree, 0.99 * (double)nAnnotatedVerts, "%llu of %llu", (unsigned long long)nAgree,
                  (unsigned long long)nAnnotatedVerts);
}

/* ---------------------------------------------------------------------------------------------
** Camera walk
*/

/* Pinhole projection of a world point; returns the depth. */
static double project(const double *c2w, double fx, double fy, double cx, double cy, const double *P, double *u, double *v)
{
    double w2c[16], q[3];
    sptt_rigid_inverse(c2w, w2c);
    sptt_xform_point(w2c, P, q);
    *u = fx * q[0] / q[2] + cx;
    *v = fy * q[1] / q[2] + cy;
    return q[2];
}

/* Where pixel (u, v) of a W x H image lands after k clockwise quarter turns. */
static void turn_pixel(double u, double v, int W, int H, int k, double *pu, double *pv)
{
    for(int q = 0; q < k; q++){
        double nu = H - 1 - v, nv = u;
        int t = W;
        u = nu;
        v = nv;
        W = H;
        H = t;
    }
    *pu = u;
    *pv = v;
}

Test(ingest_arkit, poses_intrinsics_and_sky_follow_the_truth)
{
    int nRotated = 0;
    for(int i = 0; i < nVid; i++){
        char zDir[300], zPath[500];
        sptt_ingest_opts o;
        sptt_ingest_result r;
        sptt_pack p;
        json_t *truth = truth_of(i), *tf = json_object_get(truth, "frames"), *meta;
        int k = turns_of(sky_of(truth));
        video_dir(i, zDir, sizeof zDir);
        default_opts(&o);
        cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
        pack_of(azVid[i], &p, SPTT_PACK_SKIP_IMAGES);
        meta = json_loads(p.zMeta, 0, NULL);
        cr_assert_eq(json_integer_value(json_object_get(meta, "up_rotation")), k, "%s: sky %s", azVid[i], sky_of(truth));
        json_decref(meta);
        cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings JOIN scenes USING(scene_id) WHERE name=? AND "
                               "code='sky_rotated'", azVid[i]), k ? 1 : 0);
        nRotated += k!=0;
        cr_assert_eq(p.nFrames, (uint64_t)NFRAMES, "every frame has a pose within 1 ms and 10 fps keeps them all");
        cr_assert_eq(json_array_size(tf), (size_t)NFRAMES);
        for(uint64_t f = 0; f < p.nFrames; f++){
            const sptt_frame_info *fi = &p.frames[f];
            json_t *t = json_array_get(tf, fi->sourceIndex), *jp = json_object_get(t, "pose");
            double T[16], S[16];
            int W, H;
            double K[4];
            for(int j = 0; j < 16; j++){
                T[j] = jnum(jp, (size_t)j);
                S[j] = fi->c2w[j];
            }
            cr_assert_eq(fi->sourceIndex, f, "traj line of frame %llu", (unsigned long long)f);
            /* The raw intrinsics of this frame. */
            snprintf(zPath, sizeof zPath, "%s/%s_frames/lowres_wide_intrinsics/%s_%s.pincam", zDir, azVid[i], azVid[i],
                     json_string_value(json_object_get(t, "name")));
            FILE *fp = fopen(zPath, "r");
            cr_assert_not_null(fp, "%s", zPath);
            cr_assert_eq(fscanf(fp, "%d %d %lf %lf %lf %lf", &W, &H, &K[0], &K[1], &K[2], &K[3]), 6);
            fclose(fp);
            cr_assert_float_eq(fi->timestamp, atof(json_string_value(json_object_get(t, "name"))) -
                               atof(json_string_value(json_object_get(json_array_get(tf, 0), "name"))), 1e-6);

            /* Camera centre unchanged; sizes and focal lengths swap with odd turns. */
            for(int j = 0; j < 3; j++) cr_assert_float_eq(S[4 * j + 3], T[4 * j + 3], 2e-5);
            cr_assert_eq(fi->width, (uint32_t)(k & 1 ? H : W));
            cr_assert_eq(fi->height, (uint32_t)(k & 1 ? W : H));
            cr_assert_float_eq(fi->fx, (float)(k & 1 ? K[1] : K[0]), 1e-4);
            cr_assert_float_eq(fi->fy, (float)(k & 1 ? K[0] : K[1]), 1e-4);
            /* The truth pose turned with the image: per quarter turn the new x axis is the old -y
            ** and the new y axis the old x; the forward axis stays. */
            double E[16];
            memcpy(E, T, sizeof E);
            for(int q = 0; q < k; q++){
                for(int j = 0; j < 3; j++){
                    double x = E[4 * j];
                    E[4 * j] = -E[4 * j + 1];
                    E[4 * j + 1] = x;
                }
            }
            for(int j = 0; j < 12; j++) cr_assert_float_eq(S[j], E[j], 2e-5, "pose entry %d: %f, want %f", j, S[j], E[j]);
            /* The camera's down axis now points down the world. */
            cr_assert_lt(S[9], -0.5, "%s frame %llu: image down axis z = %f", azVid[i], (unsigned long long)f, S[9]);

            /* A world point ahead of the camera lands where the turned raw pixel lands, and a point
            ** above it lands higher in the stored image. */
            double P[3], Pup[3], u, v, ut, vt, us, vs, uu, vu;
            for(int j = 0; j < 3; j++){
                P[j] = T[4 * j + 3] + 2.0 * T[4 * j + 2] + 0.35 * T[4 * j] - 0.2 * T[4 * j + 1];
                Pup[j] = P[j] + (j==2 ? 0.3 : 0);
            }
            cr_assert_gt(project(T, K[0], K[1], K[2], K[3], P, &u, &v), 0);
            turn_pixel(u, v, W, H, k, &ut, &vt);
            cr_assert_gt(project(S, fi->fx, fi->fy, fi->cx, fi->cy, P, &us, &vs), 0);
            cr_assert_float_eq(us, ut, 1e-2, "frame %llu: u %f, turned raw %f", (unsigned long long)f, us, ut);
            cr_assert_float_eq(vs, vt, 1e-2, "frame %llu: v %f, turned raw %f", (unsigned long long)f, vs, vt);
            project(S, fi->fx, fi->fy, fi->cx, fi->cy, Pup, &uu, &vu);
            cr_assert_lt(vu, vs - 10, "a higher point is higher in the upright image");
        }
        sptt_pack_free(&p);
        json_decref(truth);
    }
    cr_assert_gt(nRotated, 0, "at least one synthetic video was recorded turned");
}

static uint8_t *read_png_rgb(const char *zPath, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPath), "%s", zPath);
    img.format = PNG_FORMAT_RGB;
    uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, rgb, 0, NULL));
    *w = (int)img.width;
    *h = (int)img.height;
    return rgb;
}

Test(ingest_arkit, stored_frames_are_the_source_frames_turned_upright)
{
    int nChecked = 0;
    for(int i = 0; i < nVid; i++){
        char zDir[300], zPath[500];
        sptt_ingest_opts o;
        sptt_ingest_result r;
        sptt_pack p;
        json_t *truth = truth_of(i), *tf = json_object_get(truth, "frames");
        int k = turns_of(sky_of(truth));
        video_dir(i, zDir, sizeof zDir);
        default_opts(&o);
        cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
        pack_of(azVid[i], &p, 0);
        cr_assert_eq(p.imgEncoding, SPTT_IMG_JPEG);
        for(uint64_t f = 0; f < p.nFrames; f += 7){
            int W, H;
            snprintf(zPath, sizeof zPath, "%s/%s_frames/lowres_wide/%s_%s.png", zDir, azVid[i], azVid[i],
                     json_string_value(json_object_get(json_array_get(tf, p.frames[f].sourceIndex), "name")));
            uint8_t *src = read_png_rgb(zPath, &W, &H);
            int OW = k & 1 ? H : W, OH = k & 1 ? W : H;
            cr_assert_eq(p.imgWidth, (uint32_t)OW);
            cr_assert_eq(p.imgHeight, (uint32_t)OH);
            tjhandle dec = tjInitDecompress();
            uint8_t *got = malloc((size_t)OW * OH * 3);
            cr_assert_eq(tjDecompress2(dec, p.imgData + p.imgOffsets[f], p.imgOffsets[f + 1] - p.imgOffsets[f], got, OW, 0,
                                       OH, TJPF_RGB, 0), 0);
            tjDestroy(dec);
            /* Each source pixel, sent through the turn computed here, against the stored pixel. */
            double err = 0;
            for(int y = 0; y < H; y++){
                for(int x = 0; x < W; x++){
                    double ut, vt;
                    turn_pixel(x, y, W, H, k, &ut, &vt);
                    const uint8_t *a = src + 3 * ((size_t)y * W + x), *b = got + 3 * ((size_t)lround(vt) * OW + lround(ut));
                    for(int c = 0; c < 3; c++) err += fabs((double)a[c] - b[c]);
                }
            }
            err /= (double)W * H * 3;
            cr_assert_lt(err, 4.0, "%s frame %llu: mean difference %.2f after a %d-turn", azVid[i], (unsigned long long)f, err, k);
            free(src);
            free(got);
            nChecked++;
        }
        sptt_pack_free(&p);
        json_decref(truth);
    }
    cr_assert_gt(nChecked, 4);
}

Test(ingest_arkit, fps_resampling_keeps_every_other_frame_at_5)
{
    char zDir[300];
    sptt_ingest_opts o;
    sptt_ingest_result r;
    sptt_pack p;
    video_dir(0, zDir, sizeof zDir);
    default_opts(&o);
    o.fps = 5;
    o.noFrames = 1;
    cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    pack_of(azVid[0], &p, 0);
    cr_assert_eq(p.nFrames, (uint64_t)NFRAMES / 2);
    cr_assert_eq(p.imgEncoding, SPTT_IMG_NONE, "--no-images keeps poses only");
    for(uint64_t f = 0; f < p.nFrames; f++){
        cr_assert_eq(p.frames[f].sourceIndex, 2 * f);
        cr_assert_float_eq(p.frames[f].timestamp, 0.2 * (double)f, 0.0025);
    }
    sptt_pack_free(&p);
}

static void read_bytes(const char *zPath, uint8_t **p, size_t *n)
{
    cr_assert_eq(sptt_read_file(zPath, p, n), SPTT_OK, "%s", sptt_errmsg());
}

Test(ingest_arkit, unchanged_video_skipped_and_output_independent_of_threads)
{
    char zDir[300], zPack[512];
    sptt_ingest_opts o;
    sptt_ingest_result r;
    uint8_t *a, *b;
    size_t na, nb;
    int last = nVid - 1;
    video_dir(last, zDir, sizeof zDir);
    default_opts(&o);
    omp_set_num_threads(2);
    cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.skipped, 0);
    cr_assert_eq(r.nFrames, (uint64_t)NFRAMES);
    cr_assert_not_null(strstr(r.zSummary, " frames with images"), "%s", r.zSummary);
    pack_path_of(azVid[last], zPack, sizeof zPack);
    read_bytes(zPack, &a, &na);

    cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.skipped, 1);
    cr_assert_not_null(strstr(r.zSummary, "unchanged"));

    o.force = 1;
    omp_set_num_threads(1);
    cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.skipped, 0);
    read_bytes(zPack, &b, &nb);
    cr_assert_eq(na, nb);
    cr_assert(memcmp(a, b, na)==0, "one thread and two write the same pack bytes");
    free(a);
    free(b);
    cr_assert_eq(query_int("SELECT count(*) FROM scenes WHERE name=?", azVid[last]), 1);
}

/* ---------------------------------------------------------------------------------------------
** Damaged copies
*/
static void copy_video(int i, char *zOut, size_t n)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cp -r %s/%s %s/", zTrain, azVid[i], zTmp);
    cr_assert_eq(system(cmd), 0);
    snprintf(zOut, n, "%s/%s", zTmp, azVid[i]);
}

/* Rewrites line `line` (1-based) of a text file through fn. */
static void edit_line(const char *zPath, int line, void (*fn)(char *zLine, size_t n))
{
    uint8_t *d;
    size_t n;
    read_bytes(zPath, &d, &n);
    FILE *fp = fopen(zPath, "w");
    char *z = (char *)d;
    int k = 0;
    while( *z ){
        char *e = strchr(z, '\n');
        char buf[1024];
        size_t len = e ? (size_t)(e - z) : strlen(z);
        snprintf(buf, sizeof buf, "%.*s", (int)len, z);
        if( ++k==line ) fn(buf, sizeof buf);
        if( buf[0] || k!=line ) fprintf(fp, "%s\n", buf);
        z += len + (e ? 1 : 0);
    }
    fclose(fp);
    free(d);
}

static void drop_last_number(char *z, size_t n) { (void)n; *strrchr(z, ' ') = 0; }

static void nan_fourth(char *z, size_t n)
{
    char *p = z;
    for(int i = 0; i < 3; i++) p = strchr(p, ' ') + 1;
    char *e = strchr(p, ' ');
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", e);
    snprintf(p, n - (size_t)(p - z), "nan%s", rest);
}

static void delete_line(char *z, size_t n) { (void)n; z[0] = 0; }

/* Bad input: SPTT_EFORMAT, a message with every expected piece, and no rows nor pack. */
static void expect_refused(const char *zDir, const char *zPiece1, const char *zPiece2)
{
    sptt_ingest_opts o;
    sptt_ingest_result r;
    char zPacks[200];
    default_opts(&o);
    int rc = ingest(zDir, &o, &r);
    cr_assert_eq(rc, SPTT_EFORMAT, "rc %d: %s", rc, sptt_errmsg());
    cr_assert_not_null(strstr(sptt_errmsg(), zPiece1), "message '%s' lacks '%s'", sptt_errmsg(), zPiece1);
    if( zPiece2 ) cr_assert_not_null(strstr(sptt_errmsg(), zPiece2), "message '%s' lacks '%s'", sptt_errmsg(), zPiece2);
    cr_assert_null(strchr(sptt_errmsg(), '\n'), "one line");
    cr_assert_eq(query_int("SELECT count(*) FROM scenes", NULL), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM objects", NULL), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM frames", NULL), 0);
    snprintf(zPacks, sizeof zPacks, "%s/packs", zTmp);
    DIR *dir = opendir(zPacks);
    if( dir ){
        struct dirent *de;
        while( (de = readdir(dir))!=NULL ) cr_assert(de->d_name[0]=='.', "stray pack %s", de->d_name);
        closedir(dir);
    }
}

static void traj_path(const char *zDir, const char *zVid, char *z, size_t n)
{
    snprintf(z, n, "%s/%s_frames/lowres_wide.traj", zDir, zVid);
}

Test(ingest_arkit, traj_line_with_six_numbers)
{
    char zDir[300], zTraj[400];
    copy_video(0, zDir, sizeof zDir);
    traj_path(zDir, azVid[0], zTraj, sizeof zTraj);
    edit_line(zTraj, 3, drop_last_number);
    expect_refused(zDir, "lowres_wide.traj: line 3:", "expected 7 numbers");
}

Test(ingest_arkit, nan_in_traj)
{
    char zDir[300], zTraj[400];
    copy_video(0, zDir, sizeof zDir);
    traj_path(zDir, azVid[0], zTraj, sizeof zTraj);
    edit_line(zTraj, 2, nan_fourth);
    expect_refused(zDir, "lowres_wide.traj: line 2: value 4", "not finite");
}

Test(ingest_arkit, missing_pincam)
{
    char zDir[300], zPath[600], cmd[700];
    json_t *truth = truth_of(0);
    const char *zTs = json_string_value(json_object_get(json_array_get(json_object_get(truth, "frames"), 4), "name"));
    copy_video(0, zDir, sizeof zDir);
    snprintf(zPath, sizeof zPath, "%s/%s_frames/lowres_wide_intrinsics/%s_%s.pincam", zDir, azVid[0], azVid[0], zTs);
    snprintf(cmd, sizeof cmd, "rm %s", zPath);
    cr_assert_eq(system(cmd), 0);
    expect_refused(zDir, zPath, "missing file");
    json_decref(truth);
}

Test(ingest_arkit, malformed_annotation_json_names_line_and_column)
{
    char zDir[300], zPath[400];
    copy_video(1, zDir, sizeof zDir);
    snprintf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zDir, azVid[1]);
    /* Line 4 of the pretty-printed file is '"uid": "...",'; drop its colon. */
    uint8_t *d;
    size_t n;
    read_bytes(zPath, &d, &n);
    char *z = (char *)d;
    for(int line = 1; line < 4; line++) z = strchr(z, '\n') + 1;
    cr_assert(strncmp(z, "      \"uid\":", 12)==0, "line 4 is '%.20s'", z);
    z[11] = ' ';
    FILE *fp = fopen(zPath, "wb");
    fwrite(d, 1, n, fp);
    fclose(fp);
    free(d);
    expect_refused(zDir, "_3dod_annotation.json: line 4 column", "JSON syntax error");
}

static void damage_box(int vid, const char *zField, int idx, double value, const char *zPiece1, const char *zPiece2)
{
    char zDir[300], zPath[400];
    copy_video(vid, zDir, sizeof zDir);
    snprintf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zDir, azVid[vid]);
    json_t *root = load_json(zPath);
    json_t *obb = json_object_get(json_object_get(json_array_get(json_object_get(root, "data"), 1), "segments"), "obbAligned");
    cr_assert_eq(json_array_set_new(json_object_get(obb, zField), (size_t)idx, json_real(value)), 0);
    cr_assert_eq(json_dump_file(root, zPath, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(root);
    expect_refused(zDir, zPiece1, zPiece2);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

Test(ingest_arkit, normalized_axes_not_a_rotation)
{
    /* Rows no longer orthonormal. */
    damage_box(0, "normalizedAxes", 1, 0.5, "data[1].segments.obbAligned.normalizedAxes", "not a rotation");
    /* A mirrored third row: orthonormal but a reflection. */
    damage_box(0, "normalizedAxes", 8, -1.0, "data[1].segments.obbAligned.normalizedAxes", "reflection");
    /* And the lengths. */
    damage_box(0, "axesLengths", 2, -0.3, "data[1].segments.obbAligned.axesLengths[2]", "not a positive length");
}

Test(ingest_arkit, missing_mesh)
{
    char zDir[300], cmd[700];
    copy_video(0, zDir, sizeof zDir);
    snprintf(cmd, sizeof cmd, "rm %s/%s_3dod_mesh.ply", zDir, azVid[0]);
    cr_assert_eq(system(cmd), 0);
    expect_refused(zDir, "_3dod_mesh.ply: missing file", azVid[0]);
}

Test(ingest_arkit, frame_without_pose_skipped_unknown_label_kept_and_samples)
{
    char zDir[300], zTraj[400], zPath[400];
    sptt_ingest_opts o;
    sptt_ingest_result r;
    sptt_pack p;
    copy_video(0, zDir, sizeof zDir);
    traj_path(zDir, azVid[0], zTraj, sizeof zTraj);
    edit_line(zTraj, 6, delete_line);
    /* A class outside Apple's 17. */
    snprintf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zDir, azVid[0]);
    json_t *root = load_json(zPath);
    cr_assert_eq(json_object_set_new(json_array_get(json_object_get(root, "data"), 0), "label", json_string("piano")), 0);
    cr_assert_eq(json_dump_file(root, zPath, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(root);

    default_opts(&o);
    o.nSample = 500;
    o.seed = 9;
    o.noFrames = 1;
    cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    pack_of(azVid[0], &p, 0);
    cr_assert_eq(p.nFrames, (uint64_t)NFRAMES - 1);
    /* The frame of the deleted pose (truth frame 5) is the one missing. */
    json_t *truth = truth_of(0), *tf = json_object_get(truth, "frames");
    double t0 = atof(json_string_value(json_object_get(json_array_get(tf, 0), "name")));
    for(uint64_t f = 0; f < p.nFrames; f++){
        size_t t = f < 5 ? f : f + 1;
        double tt = atof(json_string_value(json_object_get(json_array_get(tf, t), "name"))) - t0;
        cr_assert_float_eq(p.frames[f].timestamp, tt, 1e-6, "frame %llu is truth frame %zu", (unsigned long long)f, t);
    }
    json_decref(truth);
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='frames_without_pose' AND message LIKE '1 of 20 %'",
                           NULL), 1);
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='unknown_labels' AND message LIKE '%piano%'", NULL), 1);
    cr_assert_eq(query_int("SELECT nyu40_id FROM objects WHERE instance_id=1", NULL), 0);
    cr_assert_eq(query_int("SELECT count(*) FROM objects WHERE instance_id=1 AND raw_label='piano'", NULL), 1);
    cr_assert_eq(p.nSamples, 500u);
    int nLabelled = 0;
    for(uint64_t s = 0; s < p.nSamples; s++){
        nLabelled += p.sinstance[s]!=0;
        if( p.sinstance[s]==1 ) cr_assert_eq(p.snyu40[s], 0);
    }
    cr_assert_gt(nLabelled, 0);
    sptt_pack_free(&p);
}

static void rename_file(const char *zFrom, const char *zTo)
{
    cr_assert_eq(rename(zFrom, zTo), 0, "%s -> %s", zFrom, zTo);
}

Test(ingest_arkit, pincam_and_pose_found_a_millisecond_off_and_not_further)
{
    char zDir[300], zFrom[600], zTo[600];
    sptt_ingest_opts o;
    sptt_ingest_result r;
    sptt_pack p;
    json_t *truth = truth_of(0), *tf = json_object_get(truth, "frames");
    const char *zV = azVid[0];
    copy_video(0, zDir, sizeof zDir);
    /* Frame 3's intrinsics named one millisecond early: found as the official loader finds them. */
    const char *zTs3 = json_string_value(json_object_get(json_array_get(tf, 3), "name"));
    snprintf(zFrom, sizeof zFrom, "%s/%s_frames/lowres_wide_intrinsics/%s_%s.pincam", zDir, zV, zV, zTs3);
    snprintf(zTo, sizeof zTo, "%s/%s_frames/lowres_wide_intrinsics/%s_%.3f.pincam", zDir, zV, zV, atof(zTs3) - 0.001);
    rename_file(zFrom, zTo);
    /* Frame 7 renamed 3 ms after its pose's time: no pose keyed within 1 ms, skipped. */
    const char *zTs7 = json_string_value(json_object_get(json_array_get(tf, 7), "name"));
    double t7 = json_number_value(json_object_get(json_array_get(tf, 7), "time"));
    snprintf(zFrom, sizeof zFrom, "%s/%s_frames/lowres_wide/%s_%s.png", zDir, zV, zV, zTs7);
    snprintf(zTo, sizeof zTo, "%s/%s_frames/lowres_wide/%s_%.3f.png", zDir, zV, zV, (double)llround(t7 * 1000 + 3) / 1000);
    rename_file(zFrom, zTo);

    default_opts(&o);
    cr_assert_eq(ingest(zDir, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    pack_of(zV, &p, SPTT_PACK_SKIP_IMAGES);
    cr_assert_eq(p.nFrames, (uint64_t)NFRAMES - 1);
    for(uint64_t f = 0; f < p.nFrames; f++) cr_assert_neq(p.frames[f].sourceIndex, 7u);
    cr_assert_eq(p.frames[3].sourceIndex, 3u);
    cr_assert_float_eq(p.frames[3].fx, 211.949f, 1e-3, "intrinsics read from the renamed .pincam");
    cr_assert_eq(query_int("SELECT count(*) FROM scene_warnings WHERE code='frames_without_pose' AND message LIKE '1 of 20 %'",
                           NULL), 1);
    sptt_pack_free(&p);
    json_decref(truth);
}
