/*
** Projection: hand-built scenes whose visible pixels and boxes are known exactly, occlusion,
** masks read back from PNG, first appearances, and thread-count independence.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotate.h"
#include "sptt_common.h"

/*
** A scene of axis-aligned squares facing a camera at the origin that looks along +y (world),
** so the square at depth d with half-size h covers an exact pixel range.
*/
typedef struct quad_spec {
    double x, z, d, h;    /* centre x, centre z, depth along +y, half size */
    int id;
} quad_spec;

static void build_scene(ann_scene *s, const quad_spec *q, int nq, int nFrames)
{
    memset(s, 0, sizeof *s);
    snprintf(s->zName, sizeof s->zName, "unit");
    sptt_pack *k = &s->pack;
    k->nPoints = 4 * (uint64_t)nq;
    k->nFaces = 2 * (uint64_t)nq;
    k->xyz = calloc(k->nPoints, 12);
    k->rgb = calloc(k->nPoints, 3);
    k->instance = calloc(k->nPoints, 2);
    k->nyu40 = calloc(k->nPoints, 1);
    k->faces = calloc(k->nFaces, 12);
    s->obj = calloc((size_t)nq, sizeof(ann_object));
    s->nObj = nq;
    for(int i = 0; i < nq; i++){
        double c[4][2] = { { -1, -1 }, { 1, -1 }, { 1, 1 }, { -1, 1 } };
        for(int v = 0; v < 4; v++){
            k->xyz[3 * (4 * i + v)] = (float)(q[i].x + c[v][0] * q[i].h);
            k->xyz[3 * (4 * i + v) + 1] = (float)q[i].d;
            k->xyz[3 * (4 * i + v) + 2] = (float)(q[i].z + c[v][1] * q[i].h);
            k->instance[4 * i + v] = (uint16_t)q[i].id;
            k->nyu40[4 * i + v] = (uint8_t)(q[i].id + 2);
        }
        uint32_t b = 4 * (uint32_t)i, t[6] = { b, b + 1, b + 2, b, b + 2, b + 3 };
        memcpy(k->faces + 6 * i, t, sizeof t);
        s->obj[i].id = q[i].id;
    }
    k->nFrames = (uint64_t)nFrames;
    k->frames = calloc((size_t)nFrames, sizeof(sptt_frame_info));
    for(int f = 0; f < nFrames; f++){
        sptt_frame_info *fr = &k->frames[f];
        /* camera x = world x, camera y (down) = world -z, camera z (forward) = world y; frame f
        ** slides the camera f metres along -x, so objects drift right in the image */
        float m[16] = { 1, 0, 0, -(float)f, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1 };
        memcpy(fr->c2w, m, sizeof m);
        fr->timestamp = f * 0.5;
        fr->fx = fr->fy = 100;
        fr->cx = 49.5f;
        fr->cy = 39.5f;
        fr->width = 100;
        fr->height = 80;
        fr->sourceIndex = (uint32_t)f;
    }
}

static const ann_vis *find(const ann_projection *p, int frame, int id)
{
    for(size_t i = 0; i < p->nVis; i++) if( p->vis[i].frame == frame && p->vis[i].instance == id ) return &p->vis[i];
    return NULL;
}

Test(project, exact_pixels_boxes_and_occlusion)
{
    /* Square 1 at depth 2, half size 0.2: u = 100 * x / 2 + 49.5 spans [39.5, 59.5], so pixel
    ** centres 40..59 (closed edges include the .5 boundaries? no: 39.5 and 59.5 are not
    ** centres), 20 columns; likewise rows 30..49: 400 pixels. Square 2, farther and larger,
    ** sits behind it and loses exactly those 400 pixels. */
    quad_spec q[2] = { { 0, 0, 2, 0.2, 1 }, { 0, 0, 4, 0.6, 7 } };
    ann_scene s;
    ann_projection p;
    ann_project_opts o = { 0 };
    build_scene(&s, q, 2, 1);
    o.width = 100;
    o.height = 80;
    o.minPixels = 1;
    cr_assert_eq(ann_project(&s, &o, &p), SPTT_OK, "%s", sptt_errmsg());
    const ann_vis *a = find(&p, 0, 1), *b = find(&p, 0, 7);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_eq(a->pixels, 400);
    cr_assert(a->x0 == 40 && a->x1 == 59 && a->y0 == 30 && a->y1 == 49, "box %d %d %d %d", a->x0, a->y0, a->x1, a->y1);
    /* square 2: u in [34.5, 64.5] -> 35..64, 30 columns, 30 rows: 900 - 400 hidden */
    cr_assert_eq(b->pixels, 900 - 400);
    cr_assert(b->x0 == 35 && b->x1 == 64 && b->y0 == 25 && b->y1 == 54);
    cr_assert_eq(s.obj[0].firstFrame, 0);
    cr_assert_float_eq(s.obj[0].firstTime, 0.0, 0);
    ann_projection_free(&p);
    ann_scene_free(&s);
}

Test(project, raster_size_scales_intrinsics)
{
    quad_spec q[1] = { { 0, 0, 2, 0.2, 3 } };
    ann_scene s;
    ann_projection p;
    ann_project_opts o = { 0 };
    build_scene(&s, q, 1, 1);
    o.width = 200;   /* twice the frame's size: four times the pixels */
    o.height = 160;
    o.minPixels = 1;
    cr_assert_eq(ann_project(&s, &o, &p), SPTT_OK);
    cr_assert_eq(find(&p, 0, 3)->pixels, 1600);
    ann_projection_free(&p);
    ann_scene_free(&s);
}

Test(project, first_appearance_needs_min_pixels_and_walks_in)
{
    /* The camera slides 1 m along -x per frame, so a square at x = -3 enters the view from the
    ** left edge. At depth 2 the view spans x - cam in [-1.0, 1.0]. */
    quad_spec q[1] = { { -3.0, 0, 2, 0.1, 5 } };
    ann_scene s;
    ann_projection p;
    ann_project_opts o = { 0 };
    build_scene(&s, q, 1, 5);
    o.width = 100;
    o.height = 80;
    o.minPixels = 60;
    cr_assert_eq(ann_project(&s, &o, &p), SPTT_OK);
    /* frames 0-1: out of view; 2: x - cam in [-1.1, -0.9], pixel columns 0..4 only (5 of its
    ** 10); 3: fully inside, 10 x 10 pixels */
    cr_assert_null(find(&p, 0, 5));
    const ann_vis *v2 = find(&p, 2, 5);
    cr_assert_not_null(v2);
    cr_assert_eq(v2->pixels, 50, "5 columns of 10 rows");
    cr_assert_eq(find(&p, 3, 5)->pixels, 100);
    cr_assert_eq(s.obj[0].firstFrame, 3, "partial view below the threshold does not count");
    cr_assert_float_eq(s.obj[0].firstTime, 1.5, 1e-12);
    cr_assert_eq(s.obj[0].maxPixels, 100);
    ann_projection_free(&p);

    o.nFrames = 3;   /* frames 0, 2, 4 */
    cr_assert_eq(ann_project(&s, &o, &p), SPTT_OK);
    cr_assert_eq(p.nFrames, 3);
    cr_assert(p.frames[0] == 0 && p.frames[1] == 2 && p.frames[2] == 4);
    /* frames 2 and 4 both catch it half out of view: sampled this way it never appears */
    cr_assert_eq(s.obj[0].firstFrame, -1);
    cr_assert(isnan(s.obj[0].firstTime));
    ann_projection_free(&p);
    ann_scene_free(&s);
}

static uint16_t *read_png(const char *zPath, int bits16, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPath), "%s", img.message);
    img.format = bits16 ? PNG_FORMAT_LINEAR_Y : PNG_FORMAT_GRAY;
    *w = (int)img.width;
    *h = (int)img.height;
    uint16_t *out = calloc((size_t)*w * *h, 2);
    if( bits16 ){
        cr_assert(png_image_finish_read(&img, NULL, out, 0, NULL));
    }else{
        uint8_t *b = calloc((size_t)*w * *h, 1);
        cr_assert(png_image_finish_read(&img, NULL, b, 0, NULL));
        for(int i = 0; i < *w * *h; i++) out[i] = b[i];
        free(b);
    }
    return out;
}

Test(project, masks_round_trip)
{
    char zDir[] = "/tmp/sptt_masks_XXXXXX";
    cr_assert_not_null(mkdtemp(zDir));
    quad_spec q[2] = { { 0, 0, 2, 0.2, 1000 }, { 0.5, 0, 3, 0.1, 2 } };
    ann_scene s;
    ann_projection p;
    ann_project_opts o = { 0 };
    build_scene(&s, q, 2, 2);
    o.width = 100;
    o.height = 80;
    o.minPixels = 1;
    o.zMaskDir = zDir;
    cr_assert_eq(ann_project(&s, &o, &p), SPTT_OK, "%s", sptt_errmsg());
    char zPath[256];
    int w, h;
    snprintf(zPath, sizeof zPath, "%s/unit/instance/000000.png", zDir);
    uint16_t *m = read_png(zPath, 1, &w, &h);
    cr_assert(w == 100 && h == 80);
    int count[2] = { 0, 0 };
    for(int i = 0; i < w * h; i++){
        cr_assert(m[i] == 0 || m[i] == 1000 || m[i] == 2, "value %d", m[i]);
        count[0] += m[i] == 1000;
        count[1] += m[i] == 2;
    }
    cr_assert_eq(count[0], find(&p, 0, 1000)->pixels, "16-bit ids round-trip exactly");
    cr_assert_eq(count[1], find(&p, 0, 2)->pixels);
    free(m);
    snprintf(zPath, sizeof zPath, "%s/unit/label/000000.png", zDir);
    m = read_png(zPath, 0, &w, &h);
    int n4 = 0;
    for(int i = 0; i < w * h; i++) n4 += m[i] == 4;   /* nyu40 = id + 2 for id 2 */
    cr_assert_eq(n4, find(&p, 0, 2)->pixels);
    free(m);
    ann_projection_free(&p);
    ann_scene_free(&s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

Test(project, same_result_with_any_thread_count)
{
    quad_spec q[4] = { { 0, 0, 2, 0.2, 1 }, { -1.5, 0.1, 3, 0.3, 2 }, { -3, -0.2, 4, 0.5, 3 }, { -5, 0, 2.5, 0.2, 4 } };
    ann_scene s;
    ann_projection p1, p2;
    ann_project_opts o = { 0 };
    build_scene(&s, q, 4, 7);
    o.width = 64;
    o.height = 48;
    o.minPixels = 1;
    omp_set_num_threads(1);
    cr_assert_eq(ann_project(&s, &o, &p1), SPTT_OK);
    omp_set_num_threads(2);
    cr_assert_eq(ann_project(&s, &o, &p2), SPTT_OK);
    cr_assert_eq(p1.nVis, p2.nVis);
    cr_assert_gt(p1.nVis, 6);
    cr_assert(memcmp(p1.vis, p2.vis, p1.nVis * sizeof(ann_vis)) == 0);
    for(size_t i = 1; i < p1.nVis; i++) cr_assert(p1.vis[i].frame >= p1.vis[i - 1].frame, "frame order");
    ann_projection_free(&p1);
    ann_projection_free(&p2);
    ann_scene_free(&s);
}

/* ---------------------------------------------------------------------------------------------
** On a synthetic scene: an object cannot appear before any part of its true box is in view.
*/
#include <jansson.h>
#include "sptt_ingest.h"
#include "sptt_math.h"
#include "sptt_dataset.h"
#include "sptt_synth.h"

static int box_in_view(json_t *ob, const sptt_frame_info *fr)
{
    json_t *c = json_object_get(ob, "center"), *sz = json_object_get(ob, "size"), *ax = json_object_get(ob, "axes");
    double c2w[16], w2c[16];
    for(int k = 0; k < 16; k++) c2w[k] = fr->c2w[k];
    sptt_rigid_inverse(c2w, w2c);
    /* points on a 9 x 9 grid over each face of the box */
    for(int a = 0; a < 3; a++) for(int side = -1; side <= 1; side += 2) for(int i = 0; i <= 8; i++) for(int j = 0; j <= 8; j++){
        double s[3];
        s[a] = side * 0.5;
        s[(a + 1) % 3] = i / 8.0 - 0.5;
        s[(a + 2) % 3] = j / 8.0 - 0.5;
        double p[3], q[3];
        for(int d = 0; d < 3; d++){
            p[d] = json_number_value(json_array_get(c, (size_t)d));
            for(int e = 0; e < 3; e++) p[d] += s[e] * json_number_value(json_array_get(sz, (size_t)e)) *
                                               json_number_value(json_array_get(ax, (size_t)(3 * e + d)));
        }
        sptt_xform_point(w2c, p, q);
        if( q[2] < 0.05 ) continue;
        double u = fr->fx * q[0] / q[2] + fr->cx, v = fr->fy * q[1] / q[2] + fr->cy;
        if( u > -1 && u < fr->width && v > -1 && v < fr->height ) return 1;
    }
    return 0;
}

Test(project, synthetic_scene_appearance_respects_the_camera)
{
    char zDir[] = "/tmp/sptt_projsyn_XXXXXX";
    cr_assert_not_null(mkdtemp(zDir));
    sptt_synth_opts so;
    memset(&so, 0, sizeof so);
    so.zOut = zDir;
    so.nScenes = 1;
    so.seed = 12;
    so.formats = SPTT_SYNTH_SCANNET;
    so.nFrames = 120;
    so.quiet = 1;
    cr_assert_eq(sptt_synth_run(&so), SPTT_OK, "%s", sptt_errmsg());
    char zScene[256], zTsv[256], zDb[256], zTruth[300];
    snprintf(zScene, sizeof zScene, "%s/scannet/scans/scene0700_00", zDir);
    snprintf(zTsv, sizeof zTsv, "%s/scannet/scannetv2-labels.combined.tsv", zDir);
    snprintf(zDb, sizeof zDb, "%s/d.db", zDir);
    snprintf(zTruth, sizeof zTruth, "%s/ground_truth.json", zScene);
    sqlite3 *db;
    sptt_ingest_opts io;
    sptt_ingest_result ir;
    memset(&io, 0, sizeof io);
    io.zLabels = zTsv;
    io.fps = 24;
    io.sourceFps = 24;
    io.noFrames = 1;
    io.quiet = 1;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK);
    cr_assert_eq(sptt_ingest_scannet(db, zScene, &io, &ir), SPTT_OK, "%s", sptt_errmsg());
    sptt_scene_row row;
    cr_assert_eq(sptt_scene_get(db, "scene0700_00", &row), SPTT_OK, "%s", sptt_errmsg());
    ann_scene s;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "scene0700_00");
    cr_assert_eq(sptt_scene_read_pack(&row, SPTT_PACK_SKIP_IMAGES, &s.pack), SPTT_OK, "%s", sptt_errmsg());
    sptt_scene_row_free(&row);
    sptt_dataset_close(db);

    json_error_t e;
    json_t *gt = json_load_file(zTruth, 0, &e), *objs = json_object_get(gt, "objects");
    cr_assert_not_null(gt);
    s.obj = calloc(json_array_size(objs), sizeof(ann_object));
    for(size_t i = 0; i < json_array_size(objs); i++){
        int id = (int)json_integer_value(json_object_get(json_array_get(objs, i), "instance_id"));
        if( id > 0 ) s.obj[s.nObj++].id = id;
    }
    ann_project_opts po;
    ann_projection pj;
    memset(&po, 0, sizeof po);
    po.width = 320;
    po.height = 240;
    po.minPixels = 20;
    cr_assert_eq(ann_project(&s, &po, &pj), SPTT_OK);
    int nSeen = 0;
    for(size_t i = 0; i < json_array_size(objs); i++){
        json_t *ob = json_array_get(objs, i);
        ann_object *o = ann_object_by_id(&s, (int)json_integer_value(json_object_get(ob, "instance_id")));
        if( o == NULL || o->firstFrame < 0 ) continue;
        nSeen++;
        cr_assert(box_in_view(ob, &s.pack.frames[o->firstFrame]), "object %d seen where its box is out of view", o->id);
        for(int f = 0; f < o->firstFrame; f++){
            /* an earlier frame may show it below the pixel threshold, never with a clear view of
            ** many pixels: the projection recorded the true maximum for such frames */
            const ann_vis *v = find(&pj, f, o->id);
            cr_assert(v == NULL || v->pixels < 20, "object %d: frame %d already shows %d pixels", o->id, f, v ? v->pixels : 0);
        }
    }
    cr_assert_gt(nSeen, 5, "the walk sees a good part of the room");
    json_decref(gt);
    ann_projection_free(&pj);
    ann_scene_free(&s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}
