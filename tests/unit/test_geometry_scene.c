/*
** Geometry on whole scenes: synthetic scenes against their exact ground truth, the real ScanNet
** fixture, degenerate rooms, the dataset stage (rows written from a pack) and the picture.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "geometry_testutil.h"
#include "sptt_db.h"
#include "sptt_geometry.h"

#define DEG (SPTT_PI / 180.0)

/* Four scenes per format from seed 5: rectangles, L-shaped rooms and two joined rooms. */
static char zRoot[64];

static void make_scenes(void)
{
    cr_assert_eq(gt_make_synth(zRoot, sizeof zRoot, 4, 5, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, SPTT_SCALE_SMALL), 0, "%s", sptt_errmsg());
}

static void remove_scenes(void) { gt_remove_tree(zRoot); }

/* The scene folders below zRoot, in a fixed order. */
static int scene_dirs(char az[16][600])
{
    static const char *const azSub[2] = { "scannet/scans", "arkitscenes/3dod/Training" };
    int n = 0;
    for(int f = 0; f < 2; f++){
        char cmd[700];
        FILE *fp;
        snprintf(cmd, sizeof cmd, "ls -1 %s/%s", zRoot, azSub[f]);
        fp = popen(cmd, "r");
        cr_assert_not_null(fp);
        while( n < 16 && fgets(az[n], 600, fp) ){
            char name[128];
            az[n][strcspn(az[n], "\n")] = 0;
            snprintf(name, sizeof name, "%s", az[n]);
            snprintf(az[n], 600, "%s/%s/%s", zRoot, azSub[f], name);
            n++;
        }
        pclose(fp);
    }
    return n;
}

/* Angle between two lines (axes up to sign), degrees. */
static double axis_angle(const double *a, const double *b) { return acos(fmin(1.0, fabs(sptt_dot3(a, b)))) / DEG; }

/* For each truth axis, the fitted axis closest to it: size and angle errors. */
static void compare_box(const gt_obj *o, const sptt_box *b, int nAxes, double *dSize, double *dAngle)
{
    *dSize = 0;
    *dAngle = 0;
    for(int k = 0; k < nAxes; k++){
        int best = 0;
        for(int j = 1; j < 3; j++)
            if( fabs(sptt_dot3(o->axes + 3 * k, b->axes + 3 * j)) > fabs(sptt_dot3(o->axes + 3 * k, b->axes + 3 * best)) ) best = j;
        *dSize = fmax(*dSize, fabs(b->size[best] - o->size[k]));
        *dAngle = fmax(*dAngle, axis_angle(o->axes + 3 * k, b->axes + 3 * best));
    }
}

Test(scene, synthetic_room_area_and_height_match_the_truth, .init = make_scenes, .fini = remove_scenes)
{
    char az[16][600];
    int n = scene_dirs(az);
    cr_assert_eq(n, 8);
    for(int i = 0; i < n; i++){
        gt_scene s;
        sptt_room r;
        sptt_room_opts o = { 5, 0, 0 };
        double err;
        cr_assert_eq(gt_load_synth(az[i], &s), 0, "%s", az[i]);
        cr_assert_eq(sptt_room_compute(s.xyz, s.nyu40, s.n, &o, &r), SPTT_OK, "%s", sptt_errmsg());
        err = fabs(r.area - s.floorArea) / s.floorArea;
        cr_log_info("%s: area %.4f, truth %.4f (%.3f%%), height %.4f, truth %.4f", strrchr(az[i], '/') + 1, r.area, s.floorArea,
                    100 * err, r.height, s.height);
        cr_assert_lt(err, 0.01, "%s: area %.4f, truth %.4f", az[i], r.area, s.floorArea);
        cr_assert_float_eq(r.height, s.height, 0.01, "%s: height %.4f, truth %.4f", az[i], r.height, s.height);
        cr_assert_eq(r.shape.nLoops, 1, "%s: one room outline", az[i]);
        sptt_room_free(&r);
        gt_free(&s);
    }
}

Test(scene, synthetic_boxes_match_the_truth, .init = make_scenes, .fini = remove_scenes)
{
    char az[16][600];
    int n = scene_dirs(az), nBox = 0, nUpright = 0, nAll = 0;
    double worstSize = 0, worstAngle = 0;
    for(int i = 0; i < n; i++){
        gt_scene s;
        cr_assert_eq(gt_load_synth(az[i], &s), 0);
        for(int j = 0; j < s.nObj; j++){
            const gt_obj *o = &s.obj[j];
            size_t np;
            double *p, dSize, dAngle;
            sptt_box mn, up;
            if( !o->hasTruth ) continue;
            p = gt_points(&s, o->id, &np);
            if( np < 4 ){
                free(p);
                continue;
            }
            cr_assert_eq(sptt_obb_minimal(p, np, &mn), SPTT_OK);
            cr_assert_eq(sptt_obb_upright(p, np, &up), SPTT_OK);
            /* Every point inside both boxes. */
            for(size_t k = 0; k < np; k++){
                cr_assert(sptt_box_contains(&mn, p + 3 * k, 1e-4), "%s instance %d: point outside the minimal box", az[i], o->id);
                cr_assert(sptt_box_contains(&up, p + 3 * k, 1e-4), "%s instance %d: point outside the upright box", az[i], o->id);
            }
            /* The truth box holds every point, so the minimal one is no larger, whatever the shape
            ** (up to the float32 rounding of the coordinates, a micrometre at these distances). */
            cr_assert_leq(mn.volume, (o->size[0] + 4e-6) * (o->size[1] + 4e-6) * (o->size[2] + 4e-6), "%s instance %d (%s): %.9g > %.9g",
                          az[i], o->id, o->label, mn.volume, o->size[0] * o->size[1] * o->size[2]);
            nAll++;
            if( strcmp(o->shape, "box")==0 ){
                compare_box(o, &mn, 3, &dSize, &dAngle);
                cr_assert_lt(dSize, 0.01, "%s instance %d (%s): minimal box size off by %.4f m", az[i], o->id, o->label, dSize);
                cr_assert_lt(dAngle, 1.0, "%s instance %d (%s): minimal box axis off by %.3f deg", az[i], o->id, o->label, dAngle);
                worstSize = fmax(worstSize, dSize);
                worstAngle = fmax(worstAngle, dAngle);
                nBox++;
                if( o->tilt < 1e-6 ){
                    /* Upright objects: the upright box is the truth too; its yaw within 1 degree. */
                    compare_box(o, &up, 3, &dSize, &dAngle);
                    cr_assert_lt(dSize, 0.01, "%s instance %d: upright size off by %.4f", az[i], o->id, dSize);
                    cr_assert_lt(dAngle, 1.0, "%s instance %d: upright yaw off by %.3f deg", az[i], o->id, dAngle);
                    nUpright++;
                }
            }
            free(p);
        }
        gt_free(&s);
    }
    cr_log_info("%d objects, %d box-shaped (%d upright): worst size error %.2e m, worst axis error %.2e deg", nAll, nBox, nUpright,
                worstSize, worstAngle);
    cr_assert_gt(nBox, 20);
    cr_assert_gt(nUpright, 10);
}

/* ---------------------------------------------------------------------------------------------
** The real scene
*/
Test(scene_real, scannet_scene0000_00)
{
    gt_scene s;
    sptt_room r;
    sptt_room_opts o = { 5, 10000, 0 };
    int nBoxes = 0;
    if( gt_load_fixture(&s) ){
        cr_log_warn("SKIP scannet scene0000_00: fixture not found under $SPTT_FIXTURES");
        cr_skip_test("SKIP scannet scene0000_00: fixture not found under $SPTT_FIXTURES");
    }
    cr_assert_eq(s.n, 81369u);
    cr_assert_eq(sptt_room_compute(s.xyz, s.nyu40, s.n, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_log_info("scene0000_00: room area %.2f m^2, height %.2f m (floor %.3f, ceiling %.3f), centre %.2f %.2f %.2f, flags 0x%x",
                r.area, r.height, r.floorZ, r.ceilingZ, r.center[0], r.center[1], r.center[2], r.flags);
    /* A bedroom-and-more scan: VSI-Bench's ScanNet rooms span 2.4 to 52 m^2; ceilings 2.2-3.5 m. */
    cr_assert(r.area > 20 && r.area < 60, "room area %.2f", r.area);
    cr_assert(r.height > 2.2 && r.height < 3.5, "room height %.2f", r.height);
    cr_assert(fabs(r.floorZ) < 0.1, "the alignment puts the floor at z = 0, not %.3f", r.floorZ);
    cr_assert(r.flags & SPTT_ROOM_NO_CEILING, "the scan has no ceiling label");
    for(int i = 0; i < s.nObj; i++){
        size_t np;
        double *p;
        sptt_box mn, pca, aa;
        if( sptt_nyu40_is_structure(s.obj[i].nyu40) ) continue;
        p = gt_points(&s, s.obj[i].id, &np);
        cr_assert_gt(np, 0u, "instance %d has no points", s.obj[i].id);
        cr_assert_eq(sptt_obb_minimal(p, np, &mn), SPTT_OK);
        cr_assert_eq(sptt_obb_pca(p, np, &pca), SPTT_OK);
        cr_assert_eq(sptt_obb_aabb(p, np, &aa), SPTT_OK);
        for(size_t k = 0; k < np; k++) cr_assert(sptt_box_contains(&mn, p + 3 * k, 1e-4), "instance %d (%s)", s.obj[i].id, s.obj[i].label);
        cr_assert_leq(mn.volume, pca.volume * (1 + 1e-12), "instance %d (%s)", s.obj[i].id, s.obj[i].label);
        cr_assert_leq(mn.volume, aa.volume * (1 + 1e-12), "instance %d (%s)", s.obj[i].id, s.obj[i].label);
        /* Reversed order, same box. */
        for(size_t a = 0, b = np - 1; a < b; a++, b--)
            for(int k = 0; k < 3; k++){
                double t = p[3 * a + k];
                p[3 * a + k] = p[3 * b + k];
                p[3 * b + k] = t;
            }
        cr_assert_eq(sptt_obb_minimal(p, np, &pca), SPTT_OK);
        cr_assert(memcmp(pca.axes, mn.axes, sizeof mn.axes)==0 && memcmp(pca.size, mn.size, sizeof mn.size)==0);
        nBoxes++;
        free(p);
    }
    cr_log_info("scene0000_00: %d non-structural instances boxed", nBoxes);
    cr_assert_geq(nBoxes, 40);
    sptt_room_free(&r);
    gt_free(&s);
}

/* ---------------------------------------------------------------------------------------------
** Degenerate rooms
*/
Test(room_degenerate, a_single_wall)
{
    size_t n = 2000;
    float *xyz = malloc(n * 3 * sizeof(float));
    sptt_room r;
    sptt_room_opts o = { 5, 0, 0 };
    for(size_t i = 0; i < n; i++){
        double t = (double)(i % 50) / 49, h = (double)(i / 50) / 39;
        xyz[3 * i] = (float)(1 + 3 * t);
        xyz[3 * i + 1] = (float)(2 + 4 * t * 0.75);
        xyz[3 * i + 2] = (float)(2.5 * h);
    }
    cr_assert_eq(sptt_room_compute(xyz, NULL, n, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(r.flags & SPTT_ROOM_COLLINEAR, "flags 0x%x", r.flags);
    cr_assert(r.flags & SPTT_ROOM_BOX_DEGENERATE);
    cr_assert_float_eq(r.area, 0.0, 0);
    cr_assert_float_eq(r.height, 2.5 * 0.98, 0.05);
    cr_assert_eq(r.shape.nLoops, 0);
    sptt_room_free(&r);
    free(xyz);
}

Test(room_degenerate, three_points_and_no_points)
{
    float xyz[9] = { 0, 0, 0, 2, 0, 0, 0, 1, 1 };
    sptt_room r;
    sptt_room_opts o = { 5, 10000, 0 };
    cr_assert_eq(sptt_room_compute(xyz, NULL, 3, &o, &r), SPTT_OK);
    cr_assert(r.flags & SPTT_ROOM_FEW_POINTS);
    cr_assert(r.flags & SPTT_ROOM_BOX_DEGENERATE);
    cr_assert_float_eq(r.area, 1.0, 1e-9);
    sptt_room_free(&r);
    cr_assert_eq(sptt_room_compute(xyz, NULL, 0, &o, &r), SPTT_EINVAL);
}

Test(room, seeded_sample_is_reproducible)
{
    gt_scene s;
    sptt_room a, b, c;
    sptt_room_opts o = { 5, 3000, 7 };
    if( gt_load_fixture(&s) ){
        cr_log_warn("SKIP seeded sample: fixture not found");
        cr_skip_test("SKIP seeded sample: fixture not found");
    }
    cr_assert_eq(sptt_room_compute(s.xyz, s.nyu40, s.n, &o, &a), SPTT_OK);
    cr_assert_eq(sptt_room_compute(s.xyz, s.nyu40, s.n, &o, &b), SPTT_OK);
    o.seed = 8;
    cr_assert_eq(sptt_room_compute(s.xyz, s.nyu40, s.n, &o, &c), SPTT_OK);
    cr_assert_eq(a.area, b.area);
    cr_assert_neq(a.area, c.area);
    /* The draw moves the area by a little, not a lot. */
    cr_assert_float_eq(a.area, c.area, 0.05 * a.area);
    sptt_room_free(&a);
    sptt_room_free(&b);
    sptt_room_free(&c);
    gt_free(&s);
}

/* ---------------------------------------------------------------------------------------------
** The dataset stage: a dataset and packs built here from synthetic scenes, as sptt-ingest would
** (schemas/README.md), then sptt_geometry_scene.
*/
static sqlite3 *build_dataset(const char *zDb, const char *zPackDir, char az[16][600], int n, int extraDegenerate)
{
    sqlite3 *db;
    sqlite3_stmt *ins, *obj;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_db_prepare(db, "INSERT INTO scenes(name, source, pack_path, n_points, input_hash) VALUES(?,?,?,?,'0123456789abcdef')", &ins), SPTT_OK);
    cr_assert_eq(sptt_db_prepare(db,
                                 "INSERT INTO objects(scene_id, instance_id, raw_label, nyu40_id, label, n_points) "
                                 "VALUES(?,?,?,?,?,?)",
                                 &obj),
                 SPTT_OK);
    for(int i = 0; i < n; i++){
        gt_scene s;
        sptt_pack pk;
        sptt_buf meta = {0};
        const char *zName = strrchr(az[i], '/') + 1;
        char zPack[800];
        int64_t sceneId;
        cr_assert_eq(gt_load_synth(az[i], &s), 0);
        if( extraDegenerate ){
            /* Two more instances: 3 points (skipped) and a flat patch of 30 points. */
            s.obj = realloc(s.obj, (size_t)(s.nObj + 2) * sizeof(gt_obj));
            memset(s.obj + s.nObj, 0, 2 * sizeof(gt_obj));
            for(size_t k = 0; k < 3; k++) s.inst[k] = 900;
            for(size_t k = 3; k < 33; k++){
                /* A 6 x 5 grid on a tilted plane. */
                s.inst[k] = 901;
                s.xyz[3 * k] = 0.5f + 0.1f * (float)((k - 3) % 6);
                s.xyz[3 * k + 1] = 0.25f + 0.1f * (float)((k - 3) / 6);
                s.xyz[3 * k + 2] = 1.0f + 0.5f * s.xyz[3 * k];
            }
            s.obj[s.nObj].id = 900;
            s.obj[s.nObj].nyu40 = 40;
            strcpy(s.obj[s.nObj++].label, "speck");
            s.obj[s.nObj].id = 901;
            s.obj[s.nObj].nyu40 = 40;
            strcpy(s.obj[s.nObj++].label, "sheet");
        }
        snprintf(zPack, sizeof zPack, "%s/%s.sptt", zPackDir, zName);
        sptt_buf_printf(&meta, "{\"name\":\"%s\",\"source\":\"%s\",\"input_hash\":\"0123456789abcdef\",\"instances\":[", zName, s.isArkit ? "arkitscenes" : "scannet");
        for(int j = 0, first = 1; j < s.nObj; j++){
            const gt_obj *o = &s.obj[j];
            sptt_buf_printf(&meta, "%s{\"id\":%d,\"raw_label\":\"%s\",\"nyu40\":%d", first ? "" : ",", o->id, o->label, o->nyu40);
            first = 0;
            /* ARKitScenes: the annotation box (here the truth box) in the metadata. */
            if( s.isArkit && o->hasTruth ){
                sptt_buf_printf(&meta, ",\"box\":{\"center\":[%.9g,%.9g,%.9g],\"size\":[%.9g,%.9g,%.9g],\"axes\":[", o->center[0],
                                o->center[1], o->center[2], o->size[0], o->size[1], o->size[2]);
                for(int k = 0; k < 9; k++) sptt_buf_printf(&meta, "%s%.9g", k ? "," : "", o->axes[k]);
                sptt_buf_printf(&meta, "]}");
            }
            sptt_buf_printf(&meta, "}");
        }
        sptt_buf_printf(&meta, "]}");
        sptt_buf_put(&meta, "", 1);
        memset(&pk, 0, sizeof pk);
        pk.zMeta = (char *)meta.p;
        pk.nPoints = s.n;
        pk.xyz = s.xyz;
        pk.rgb = calloc(s.n * 3, 1);
        pk.instance = s.inst;
        pk.nyu40 = s.nyu40;
        pk.nFaces = s.nFaces;
        pk.faces = s.faces;
        cr_assert_eq(sptt_pack_write(zPack, &pk, 1), SPTT_OK, "%s", sptt_errmsg());
        free(pk.rgb);
        sptt_buf_free(&meta);
        sqlite3_bind_text(ins, 1, zName, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, s.isArkit ? "arkitscenes" : "scannet", -1, SQLITE_STATIC);
        /* ScanNet packs by an absolute path, ARKitScenes by one relative to the dataset. */
        if( s.isArkit ) sqlite3_bind_text(ins, 3, strrchr(zPack, '/') - 5, -1, SQLITE_TRANSIENT);
        else sqlite3_bind_text(ins, 3, zPack, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins, 4, (int64_t)s.n);
        cr_assert_eq(sptt_db_step_done(db, ins, "scene"), SPTT_OK, "%s", sptt_errmsg());
        sceneId = sqlite3_last_insert_rowid(db);
        for(int j = 0; j < s.nObj; j++){
            size_t np = 0;
            for(size_t k = 0; k < s.n; k++) np += s.inst[k]==s.obj[j].id;
            sqlite3_bind_int64(obj, 1, sceneId);
            sqlite3_bind_int(obj, 2, s.obj[j].id);
            sqlite3_bind_text(obj, 3, s.obj[j].label, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(obj, 4, s.obj[j].nyu40);
            sqlite3_bind_text(obj, 5, sptt_nyu40_name(s.obj[j].nyu40), -1, SQLITE_STATIC);
            sqlite3_bind_int64(obj, 6, (int64_t)np);
            cr_assert_eq(sptt_db_step_done(db, obj, "object"), SPTT_OK, "%s", sptt_errmsg());
        }
        gt_free(&s);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(obj);
    return db;
}

static double qd(sqlite3 *db, const char *zSql)
{
    sqlite3_stmt *st;
    double v = NAN;
    cr_assert_eq(sptt_db_prepare(db, zSql, &st), SPTT_OK, "%s", sptt_errmsg());
    if( sqlite3_step(st)==SQLITE_ROW && sqlite3_column_type(st, 0)!=SQLITE_NULL ) v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

Test(stage, writes_rooms_boxes_and_warnings, .init = make_scenes, .fini = remove_scenes)
{
    char az[16][600], zDb[128], zPacks[128], zPng[128];
    sqlite3 *db;
    sptt_geometry_opts o;
    snprintf(zDb, sizeof zDb, "%s/d.db", zRoot);
    snprintf(zPacks, sizeof zPacks, "%s/packs", zRoot);
    snprintf(zPng, sizeof zPng, "%s/png", zRoot);
    cr_assert_eq(sptt_mkdirs(zPacks), SPTT_OK);
    /* The first ScanNet and the first ARKitScenes scene, with two degenerate instances added. */
    cr_assert_eq(scene_dirs(az), 8);
    strcpy(az[1], az[4]);
    db = build_dataset(zDb, zPacks, az, 2, 1);
    memset(&o, 0, sizeof o);
    o.room.alpha = 5;
    o.room.sample = 0;
    o.obbKind = SPTT_OBB_MINIMAL;
    o.minPoints = 4;
    o.zPngDir = zPng;
    o.quiet = 1;
    for(int i = 0; i < 2; i++){
        sptt_geometry_report rep;
        const char *zName = strrchr(az[i], '/') + 1;
        gt_scene s;
        char sql[512];
        cr_assert_eq(gt_load_synth(az[i], &s), 0);
        cr_assert_eq(sptt_geometry_scene(db, zName, &o, &rep), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_float_eq(rep.roomArea, s.floorArea, 0.01 * s.floorArea);
        cr_assert_eq(rep.nSkipped, 1, "the 3-point instance");
        snprintf(sql, sizeof sql, "SELECT room_area FROM scenes WHERE name='%s'", zName);
        cr_assert_float_eq(qd(db, sql), rep.roomArea, 1e-12);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM scenes WHERE name='%s' AND room_polygon LIKE '[[[%%]]]' AND geometry_at IS NOT NULL "
                 "AND json_extract(geometry_params, '$.room_sample')='all' AND room_center_z BETWEEN 0 AND 5", zName);
        cr_assert_eq(qd(db, sql), 1.0);
        /* Structure has no box; every other instance but the skipped one has one. */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM objects JOIN scenes USING(scene_id) WHERE name='%s' AND nyu40_id IN (1,2,22) AND "
                 "(center_x IS NOT NULL OR box_kind IS NOT NULL)", zName);
        cr_assert_eq(qd(db, sql), 0.0);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM objects JOIN scenes USING(scene_id) WHERE name='%s' AND nyu40_id NOT IN (1,2,22) AND "
                 "center_x IS NULL", zName);
        cr_assert_eq(qd(db, sql), 1.0);
        snprintf(sql, sizeof sql, "SELECT box_flags FROM objects JOIN scenes USING(scene_id) WHERE name='%s' AND instance_id=900", zName);
        cr_assert_eq((int)qd(db, sql), SPTT_BOX_SKIPPED | SPTT_BOX_FEW_POINTS);
        snprintf(sql, sizeof sql, "SELECT box_flags & %d FROM objects JOIN scenes USING(scene_id) WHERE name='%s' AND instance_id=901",
                 SPTT_BOX_COPLANAR, zName);
        if( !s.isArkit ) cr_assert_eq((int)qd(db, sql), SPTT_BOX_COPLANAR);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM scene_warnings JOIN scenes USING(scene_id) WHERE name='%s' AND stage='geometry' AND "
                 "code IN ('box_skipped', %s)", zName, s.isArkit ? "'box_no_annotation'" : "'box_coplanar'");
        cr_assert_geq(qd(db, sql), 2.0);
        /* The stored box is the kind asked for, or ARKitScenes' annotation, equal to object_boxes. */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM objects o JOIN object_boxes b USING(scene_id, instance_id) JOIN scenes s USING(scene_id) "
                 "WHERE s.name='%s' AND b.kind=o.box_kind AND b.center_x=o.center_x AND b.size_z=o.size_z AND b.axes=o.axes", zName);
        cr_assert_eq(qd(db, sql), (double)rep.nBoxes);
        snprintf(sql, sizeof sql, "SELECT count(DISTINCT box_kind) FROM objects JOIN scenes USING(scene_id) WHERE name='%s' AND box_kind='%s'",
                 zName, s.isArkit ? "annotation" : "minimal");
        cr_assert_eq(qd(db, sql), 1.0);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM object_boxes JOIN scenes USING(scene_id) WHERE name='%s'", zName);
        /* minimal + upright per boxed instance, plus an annotation for each annotated ARKitScenes one. */
        cr_assert_geq(qd(db, sql), 2.0 * rep.nBoxes);
        gt_free(&s);
    }
    /* Again, upright this time: rows are replaced, not added. */
    {
        sptt_geometry_report rep;
        const char *zName = strrchr(az[0], '/') + 1;
        char sql[512];
        double before;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM object_boxes");
        before = qd(db, sql);
        o.obbKind = SPTT_OBB_UPRIGHT;
        o.zPngDir = NULL;
        cr_assert_eq(sptt_geometry_scene(db, zName, &o, &rep), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(qd(db, sql), before);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM objects JOIN scenes USING(scene_id) WHERE name='%s' AND box_kind='upright' AND "
                 "abs(json_extract(axes, '$[8]') - 1) < 1e-12", zName);
        cr_assert_eq(qd(db, sql), (double)rep.nBoxes);
        cr_assert_eq(qd(db, "SELECT count(*) FROM scene_warnings WHERE stage='geometry' AND code='box_skipped'"), 2.0, "not duplicated");
    }
    /* Unknown scene, and a scene without a pack. */
    {
        sptt_geometry_report rep;
        cr_assert_eq(sptt_geometry_scene(db, "nosuchscene", &o, &rep), SPTT_EINVAL);
        cr_assert_eq(sptt_db_exec(db, "INSERT INTO scenes(name, source) VALUES('bare', 'mesh')"), SPTT_OK);
        cr_assert_eq(sptt_geometry_scene(db, "bare", &o, &rep), SPTT_ESTATE);
        cr_assert(strstr(sptt_errmsg(), "sptt-ingest")!=NULL, "%s", sptt_errmsg());
    }
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** The picture
*/
Test(picture, shows_classes_outline_and_scale_bar, .init = make_scenes, .fini = remove_scenes)
{
    char az[16][600], zPng[128];
    gt_scene s;
    sptt_room r;
    sptt_room_opts o = { 5, 0, 0 };
    sptt_box boxes[128];
    uint8_t cls[128];
    int nb = 0, nBlack = 0, nFloor = 0, nObjColour = 0;
    sptt_topdown t;
    png_image img;
    uint8_t *px;
    const uint8_t *floorCol = sptt_nyu40_color(SPTT_NYU40_FLOOR);
    scene_dirs(az);
    cr_assert_eq(gt_load_synth(az[0], &s), 0);
    cr_assert_eq(sptt_room_compute(s.xyz, s.nyu40, s.n, &o, &r), SPTT_OK);
    for(int i = 0; i < s.nObj && nb < 128; i++){
        size_t np;
        double *p;
        if( !s.obj[i].hasTruth ) continue;
        p = gt_points(&s, s.obj[i].id, &np);
        if( np >= 4 && sptt_obb_minimal(p, np, &boxes[nb])==SPTT_OK ) cls[nb++] = (uint8_t)s.obj[i].nyu40;
        free(p);
    }
    memset(&t, 0, sizeof t);
    t.xyz = s.xyz;
    t.nyu40 = s.nyu40;
    t.n = s.n;
    t.faces = s.faces;
    t.nFaces = s.nFaces;
    t.room = &r;
    t.boxes = boxes;
    t.boxClass = cls;
    t.nBoxes = nb;
    t.zTitle = "test scene\narea";
    snprintf(zPng, sizeof zPng, "%s/top.png", zRoot);
    cr_assert_eq(sptt_topdown_png(zPng, &t), SPTT_OK, "%s", sptt_errmsg());
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPng), "%s", img.message);
    img.format = PNG_FORMAT_RGB;
    px = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    /* About 900 px across the room plus margins. */
    cr_assert(img.width >= 700 && img.width <= 1100, "width %u", img.width);
    for(size_t i = 0; i < (size_t)img.width * img.height; i++){
        const uint8_t *c = px + 3 * i;
        int isFloor = 1;
        if( c[0]==0 && c[1]==0 && c[2]==0 ) nBlack++;
        /* Floor points are drawn at floor height, i.e. at the darkest shade (0.6). */
        for(int k = 0; k < 3; k++) isFloor &= abs((int)c[k] - (int)lround(floorCol[k] * 0.6)) <= 1;
        nFloor += isFloor;
        nObjColour += !isFloor && !(c[0]==255 && c[1]==255 && c[2]==255) && !(c[0]==0 && c[1]==0 && c[2]==0);
    }
    cr_log_info("picture %ux%u: %d black (outline, text, scale bar), %d floor, %d other", img.width, img.height, nBlack, nFloor, nObjColour);
    cr_assert_gt(nFloor, (int)(img.width * img.height / 5), "the floor covers much of the picture");
    cr_assert_gt(nBlack, 2000, "room outline, caption and scale bar");
    cr_assert_gt(nObjColour, 10000, "objects in their class colours");
    /* The scale bar: a solid black run in the footer, left. */
    {
        int run = 0, best = 0;
        size_t y = img.height - 22;
        for(size_t x = 0; x < img.width / 2; x++){
            const uint8_t *c = px + 3 * (y * img.width + x);
            run = c[0]==0 && c[1]==0 && c[2]==0 ? run + 1 : 0;
            best = run > best ? run : best;
        }
        cr_assert_gt(best, 60, "scale bar of %d px", best);
    }
    png_image_free(&img);
    free(px);
    sptt_room_free(&r);
    gt_free(&s);
}
