/*
** sptt-synth: the files parse as the real formats, and the ground truth describes them exactly.
*/
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include "sptt_common.h"
#include "sptt_ingest.h"
#include "sptt_math.h"
#include "sptt_synth.h"

static char zDir[64];

/* One small scene of each format, shared by the tests of this file (Criterion forks per test,
** so each test generates its own copy; at this size that takes a fraction of a second). */
static void setup(void)
{
    sptt_synth_opts o;
    strcpy(zDir, "/tmp/sptt_synth_XXXXXX");
    cr_assert_not_null(mkdtemp(zDir));
    memset(&o, 0, sizeof o);
    o.zOut = zDir;
    o.nScenes = 1;
    o.seed = 11;
    o.formats = SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT;
    o.scale = SPTT_SCALE_SMALL;
    o.nFrames = 30;
    o.quiet = 1;
    cr_assert_eq(sptt_synth_run(&o), SPTT_OK, "%s", sptt_errmsg());
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(synth, .init = setup, .fini = teardown);

static json_t *load_json(const char *zPath)
{
    json_error_t e;
    json_t *j = json_load_file(zPath, JSON_REJECT_DUPLICATES, &e);
    cr_assert_not_null(j, "%s: line %d: %s", zPath, e.line, e.text);
    return j;
}

static double jnum(json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

#define SCENE "scene0700_00"

static void scannet_path(char *z, size_t n, const char *zFile)
{
    snprintf(z, n, "%s/scannet/scans/" SCENE "/%s", zDir, zFile);
}

/* The header lines of a PLY, with the numbers of its element lines removed. */
static void header_shape(const char *zPath, char *zOut, size_t n)
{
    uint8_t *d;
    size_t size, at = 0;
    cr_assert_eq(sptt_read_file(zPath, &d, &size), SPTT_OK, "%s", sptt_errmsg());
    zOut[0] = 0;
    while( at < size ){
        size_t e = at;
        char line[200];
        while( e < size && d[e]!='\n' ) e++;
        snprintf(line, sizeof line, "%.*s", (int)(e - at), (const char *)d + at);
        if( strncmp(line, "element ", 8)==0 ) *strrchr(line, ' ') = 0;
        strncat(zOut, line, n - strlen(zOut) - 2);
        strcat(zOut, "\n");
        if( strcmp(line, "end_header")==0 ) break;
        at = e + 1;
    }
    free(d);
}

Test(synth, scannet_mesh_has_the_real_header_layout)
{
    char zPath[256], zMine[2048], zReal[2048];
    scannet_path(zPath, sizeof zPath, SCENE "_vh_clean_2.ply");
    header_shape(zPath, zMine, sizeof zMine);
    const char *zFix = getenv("SPTT_FIXTURES");
    char zFixPly[512];
    snprintf(zFixPly, sizeof zFixPly, "%s/scannet/scene0000_00/scene0000_00_vh_clean_2.ply", zFix ? zFix : "../shared/fixtures");
    if( access(zFixPly, R_OK)!=0 ){
        cr_log_warn("SKIP header comparison: real fixture %s absent", zFixPly);
        cr_assert(strstr(zMine, "format binary_little_endian 1.0\ncomment VCGLIB generated\nelement vertex\n") != NULL);
        return;
    }
    header_shape(zFixPly, zReal, sizeof zReal);
    cr_assert_str_eq(zMine, zReal);

    sptt_ply p;
    cr_assert_eq(sptt_ply_read(zPath, &p), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(p.nVerts > 1000 && p.nFaces > 1000);
    cr_assert_not_null(p.rgb);
    cr_assert_not_null(p.alpha);
    cr_assert_eq(p.alpha[0], 255);
    sptt_ply_free(&p);
}

Test(synth, scannet_labels_follow_the_official_path)
{
    char zPath[256];
    sptt_ply p;
    scannet_path(zPath, sizeof zPath, SCENE "_vh_clean_2.ply");
    cr_assert_eq(sptt_ply_read(zPath, &p), SPTT_OK);

    scannet_path(zPath, sizeof zPath, SCENE "_vh_clean_2.0.010000.segs.json");
    json_t *segs = load_json(zPath);
    json_t *idx = json_object_get(segs, "segIndices");
    cr_assert_eq(json_array_size(idx), p.nVerts, "one segment id per vertex");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(segs, "params"), "kThresh")), "0.0001");

    scannet_path(zPath, sizeof zPath, SCENE ".aggregation.json");
    json_t *agg = load_json(zPath);
    cr_assert_str_eq(json_string_value(json_object_get(agg, "appId")), "Aggregator.v2");
    json_t *groups = json_object_get(agg, "segGroups");

    /* vertex -> segment -> group -> objectId + 1, computed here from the files alone. */
    int *inst = calloc(p.nVerts, sizeof(int));
    size_t maxSeg = 0;
    for(size_t v = 0; v < p.nVerts; v++) maxSeg = fmax(maxSeg, json_integer_value(json_array_get(idx, v)));
    int *segGroup = malloc((maxSeg + 1) * sizeof(int));
    for(size_t i = 0; i <= maxSeg; i++) segGroup[i] = -1;
    for(size_t g = 0; g < json_array_size(groups); g++){
        json_t *G = json_array_get(groups, g);
        cr_assert_eq(json_integer_value(json_object_get(G, "objectId")), (json_int_t)g, "objectIds are 0..n-1 in order");
        json_t *sl = json_object_get(G, "segments");
        cr_assert_gt(json_array_size(sl), 0);
        for(size_t k = 0; k < json_array_size(sl); k++){
            json_int_t sg = json_integer_value(json_array_get(sl, k));
            cr_assert(sg >= 0 && (size_t)sg <= maxSeg);
            cr_assert_eq(segGroup[sg], -1, "segment %lld used by two groups", (long long)sg);
            segGroup[sg] = (int)g;
        }
    }
    for(size_t v = 0; v < p.nVerts; v++){
        int g = segGroup[json_integer_value(json_array_get(idx, v))];
        inst[v] = g < 0 ? 0 : g + 1;
    }

    scannet_path(zPath, sizeof zPath, "ground_truth.json");
    json_t *gt = load_json(zPath);
    int nChecked = 0, nObjects = 0, nSplit = 0;
    const char *azList[2] = { "objects", "structure" };
    for(int l = 0; l < 2; l++){
        json_t *arr = json_object_get(gt, azList[l]);
        for(size_t i = 0; i < json_array_size(arr); i++){
            json_t *o = json_array_get(arr, i);
            int id = (int)json_integer_value(json_object_get(o, "instance_id"));
            json_t *r = json_object_get(o, "vertices");
            size_t v0 = json_integer_value(json_array_get(r, 0)), v1 = json_integer_value(json_array_get(r, 1));
            for(size_t v = v0; v < v1; v++){
                cr_assert_eq(inst[v], id, "vertex %zu: files say instance %d, truth %d", v, inst[v], id);
                nChecked++;
            }
            if( id > 0 ){
                json_t *G = json_array_get(groups, (size_t)id - 1);
                cr_assert_str_eq(json_string_value(json_object_get(G, "label")), json_string_value(json_object_get(o, "raw_label")));
                if( json_array_size(json_object_get(G, "segments")) > 1 ) nSplit++;
            }
            if( l==0 ) nObjects++;
        }
    }
    cr_assert_eq((size_t)nChecked, p.nVerts, "every vertex belongs to exactly one truth entry");
    cr_assert(nObjects >= 10 && nObjects <= 60, "%d objects", nObjects);
    cr_assert_gt(nSplit, nObjects / 2, "objects are split into several segments");
    free(inst);
    free(segGroup);
    json_decref(segs);
    json_decref(agg);
    json_decref(gt);
    sptt_ply_free(&p);
}

/* The truth boxes hold their vertices after alignment, and touch them on every face. */
Test(synth, truth_boxes_are_tight_after_alignment)
{
    char zPath[256];
    sptt_ply p;
    scannet_path(zPath, sizeof zPath, SCENE "_vh_clean_2.ply");
    cr_assert_eq(sptt_ply_read(zPath, &p), SPTT_OK);
    scannet_path(zPath, sizeof zPath, "ground_truth.json");
    json_t *gt = load_json(zPath);

    /* The alignment as the metadata file states it. */
    scannet_path(zPath, sizeof zPath, SCENE ".txt");
    uint8_t *txt; size_t n;
    cr_assert_eq(sptt_read_file(zPath, &txt, &n), SPTT_OK);
    cr_assert(strncmp((char *)txt, "axisAlignment = ", 16) == 0, "axisAlignment is the first line");
    double M[16];
    char *q = (char *)txt + 16;
    for(int i = 0; i < 16; i++) M[i] = strtod(q, &q);
    cr_assert(*q == '\r' && q[1] == '\n', "CRLF line ending as in real metadata files");
    free(txt);

    json_t *objs = json_object_get(gt, "objects");
    for(size_t i = 0; i < json_array_size(objs); i++){
        json_t *o = json_array_get(objs, i);
        json_t *c = json_object_get(o, "center"), *s = json_object_get(o, "size"), *a = json_object_get(o, "axes");
        json_t *r = json_object_get(o, "vertices");
        size_t v0 = json_integer_value(json_array_get(r, 0)), v1 = json_integer_value(json_array_get(r, 1));
        double lo[3] = { 1e9, 1e9, 1e9 }, hi[3] = { -1e9, -1e9, -1e9 };
        for(size_t v = v0; v < v1; v++){
            double raw[3] = { p.xyz[3 * v], p.xyz[3 * v + 1], p.xyz[3 * v + 2] }, al[3];
            sptt_xform_point(M, raw, al);
            for(int k = 0; k < 3; k++){
                double d = 0;
                for(int j = 0; j < 3; j++) d += (al[j] - jnum(c, j)) * jnum(a, 3 * k + j);
                lo[k] = fmin(lo[k], d);
                hi[k] = fmax(hi[k], d);
            }
        }
        for(int k = 0; k < 3; k++){
            double h = jnum(s, k) / 2;
            cr_assert(lo[k] >= -h - 1e-4 && hi[k] <= h + 1e-4, "object %zu axis %d: [%g, %g] outside +-%g", i, k, lo[k], hi[k], h);
            cr_assert(lo[k] <= -h + 1e-4 && hi[k] >= h - 1e-4, "object %zu axis %d: box not tight [%g, %g] vs %g", i, k, lo[k], hi[k], h);
        }
        cr_assert_geq(jnum(c, 2) - 1e-6, 0.0, "above the floor");
    }

    /* Exact floor area is the polygon's area; floor vertices lie at z = 0. */
    json_t *room = json_object_get(gt, "room");
    json_t *poly = json_object_get(room, "polygon");
    double area = 0;
    for(size_t i = 0; i < json_array_size(poly); i++){
        json_t *a = json_array_get(poly, i), *b = json_array_get(poly, (i + 1) % json_array_size(poly));
        area += jnum(a, 0) * jnum(b, 1) - jnum(b, 0) * jnum(a, 1);
    }
    cr_assert_float_eq(area / 2, json_number_value(json_object_get(room, "floor_area")), 1e-6);
    json_decref(gt);
    sptt_ply_free(&p);
}

Test(synth, sens_stream_and_exported_poses_agree)
{
    char zPath[256];
    sptt_sens s;
    scannet_path(zPath, sizeof zPath, SCENE ".sens");
    cr_assert_eq(sptt_sens_read(zPath, &s), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(s.nFrames, 30);
    cr_assert_eq(s.colorCompression, 2);
    cr_assert_eq(s.depthCompression, 1);
    cr_assert_eq(s.colorWidth, 320);
    cr_assert_float_eq(s.depthShift, 1000.0f, 0);
    scannet_path(zPath, sizeof zPath, "ground_truth.json");
    json_t *gt = load_json(zPath);
    json_t *frames = json_object_get(gt, "frames");
    json_t *inv = json_object_get(json_object_get(gt, "camera"), "invalid_frames");
    cr_assert_geq(json_array_size(inv), 1, "some frames lost tracking");
    double M[16];
    json_t *al = json_object_get(gt, "axis_alignment");
    for(int i = 0; i < 16; i++) M[i] = jnum(al, i);
    tjhandle tj = tjInitDecompress();
    int nInvalid = 0;
    for(uint64_t f = 0; f < s.nFrames; f++){
        sptt_sens_frame *fr = &s.frames[f];
        /* colour decodes at the declared size */
        uint8_t *blob = malloc(fr->colorSize);
        cr_assert_eq(sptt_sens_blob(&s, fr->colorOffset, fr->colorSize, blob), SPTT_OK);
        int w, h, sub, cs;
        cr_assert_eq(tjDecompressHeader3(tj, blob, fr->colorSize, &w, &h, &sub, &cs), 0);
        cr_assert(w == 320 && h == 240);
        free(blob);
        /* depth inflates to w*h uint16 */
        blob = malloc(fr->depthSize);
        cr_assert_eq(sptt_sens_blob(&s, fr->depthOffset, fr->depthSize, blob), SPTT_OK);
        uLongf nd = (uLongf)s.depthWidth * s.depthHeight * 2;
        uint16_t *dep = malloc(nd);
        cr_assert_eq(uncompress((Bytef *)dep, &nd, blob, fr->depthSize), Z_OK);
        cr_assert_eq(nd, (uLongf)s.depthWidth * s.depthHeight * 2);
        free(blob);
        free(dep);
        /* pose: raw frame in the stream; aligned it equals the truth; the export matches */
        char zPose[300];
        snprintf(zPose, sizeof zPose, "%s/scannet/scans/" SCENE "/pose/%llu.txt", zDir, (unsigned long long)f);
        FILE *fp = fopen(zPose, "r");
        cr_assert_not_null(fp);
        double e[16];
        for(int k = 0; k < 16; k++) cr_assert_eq(fscanf(fp, "%lf", &e[k]), 1);
        fclose(fp);
        if( isinf(fr->c2w[0]) ){
            for(int k = 0; k < 16; k++) cr_assert(isinf(fr->c2w[k]) && fr->c2w[k] < 0 && isinf(e[k]));
            nInvalid++;
            continue;
        }
        double raw[16], P[16];
        for(int k = 0; k < 16; k++){
            raw[k] = fr->c2w[k];
            cr_assert(fabs(e[k] - raw[k]) < 1e-5, "frame %llu: export %g vs stream %g", (unsigned long long)f, e[k], raw[k]);
        }
        sptt_mul4(M, raw, P);
        json_t *tp = json_object_get(json_array_get(frames, f), "pose");
        for(int k = 0; k < 16; k++) cr_assert(fabs(P[k] - jnum(tp, k)) < 1e-4, "frame %llu entry %d", (unsigned long long)f, k);
    }
    cr_assert_eq((size_t)nInvalid, json_array_size(inv));
    tjDestroy(tj);
    json_decref(gt);
    sptt_sens_free(&s);
}

Test(synth, label_table_is_the_real_17_column_format)
{
    char zPath[256];
    uint8_t *d; size_t n;
    snprintf(zPath, sizeof zPath, "%s/scannet/scannetv2-labels.combined.tsv", zDir);
    cr_assert_eq(sptt_read_file(zPath, &d, &n), SPTT_OK);
    int lines = 0, tabs = 0;
    for(size_t i = 0; i < n; i++){
        if( d[i] == '\t' ) tabs++;
        if( d[i] == '\n' ){
            cr_assert_eq(d[i - 1], '\r', "CRLF");
            cr_assert_eq(tabs, 16, "line %d has %d tabs", lines + 1, tabs);
            tabs = 0;
            lines++;
        }
    }
    cr_assert(strncmp((char *)d, "id\traw_category\tcategory\tcount\tnyu40id", 38) == 0);
    cr_assert(strstr((char *)d, "\ttrashcan\t") == NULL, "older spellings stay absent, as in the real table");
    cr_assert_gt(lines, 40);
    free(d);
}

Test(synth, arkit_files_parse_and_poses_invert)
{
    char zRoot[256], zPath[512];
    snprintf(zRoot, sizeof zRoot, "%s/arkitscenes/3dod/Training", zDir);
    char zCmd[400];
    snprintf(zCmd, sizeof zCmd, "ls %s", zRoot);
    FILE *ls = popen(zCmd, "r");
    char vid[64];
    cr_assert_not_null(fgets(vid, sizeof vid, ls));
    pclose(ls);
    vid[strcspn(vid, "\n")] = 0;
    cr_assert_eq(strlen(vid), 8, "video ids are 8 digits");

    snprintf(zPath, sizeof zPath, "%s/%s/%s_3dod_mesh.ply", zRoot, vid, vid);
    sptt_ply p;
    cr_assert_eq(sptt_ply_read(zPath, &p), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_not_null(p.rgb);
    snprintf(zPath, sizeof zPath, "%s/%s/%s_3dod_annotation.json", zRoot, vid, vid);
    json_t *ann = load_json(zPath);
    json_t *data = json_object_get(ann, "data");
    cr_assert_gt(json_array_size(data), 0);
    for(size_t i = 0; i < json_array_size(data); i++){
        json_t *obb = json_object_get(json_object_get(json_array_get(data, i), "segments"), "obbAligned");
        json_t *R = json_object_get(obb, "normalizedAxes");
        cr_assert_eq(json_array_size(R), 9);
        cr_assert_eq(json_array_size(json_object_get(obb, "centroid")), 3);
        /* rows are orthonormal */
        for(int a = 0; a < 3; a++) for(int b = 0; b < 3; b++){
            double d = 0;
            for(int k = 0; k < 3; k++) d += jnum(R, 3 * a + k) * jnum(R, 3 * b + k);
            cr_assert(fabs(d - (a == b)) < 1e-9);
        }
    }
    snprintf(zPath, sizeof zPath, "%s/%s/ground_truth.json", zRoot, vid);
    json_t *gt = load_json(zPath);
    json_t *frames = json_object_get(gt, "frames");

    snprintf(zPath, sizeof zPath, "%s/%s/%s_frames/lowres_wide.traj", zRoot, vid, vid);
    FILE *fp = fopen(zPath, "r");
    cr_assert_not_null(fp);
    char line[512];
    size_t f = 0;
    while( fgets(line, sizeof line, fp) ){
        double v[8];
        int got = sscanf(line, "%lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
        cr_assert_eq(got, 7, "7 numbers per traj line");
        /* world->camera from axis-angle, inverted, is the truth's camera-to-world */
        double R[9], w2c[16] = {0}, c2w[16];
        sptt_axis_angle_to_matrix(v + 1, R);
        for(int r = 0; r < 3; r++){
            for(int c = 0; c < 3; c++) w2c[4 * r + c] = R[3 * r + c];
            w2c[4 * r + 3] = v[4 + r];
        }
        w2c[15] = 1;
        sptt_rigid_inverse(w2c, c2w);
        json_t *fr = json_array_get(frames, f);
        json_t *tp = json_object_get(fr, "pose");
        for(int k = 0; k < 12; k++) cr_assert(fabs(c2w[k] - jnum(tp, k)) < 1e-6, "frame %zu entry %d: %g vs %g", f, k, c2w[k], jnum(tp, k));
        /* the frame file's 3-decimal name is within 1 ms of the pose time */
        const char *name = json_string_value(json_object_get(fr, "name"));
        cr_assert(fabs(atof(name) - v[0]) <= 0.001 + 1e-6);
        snprintf(zPath, sizeof zPath, "%s/%s/%s_frames/lowres_wide/%s_%s.png", zRoot, vid, vid, vid, name);
        png_image img;
        memset(&img, 0, sizeof img);
        img.version = PNG_IMAGE_VERSION;
        cr_assert(png_image_begin_read_from_file(&img, zPath), "%s: %s", zPath, img.message);
        cr_assert(img.width == 256 && img.height == 192);
        png_image_free(&img);
        snprintf(zPath, sizeof zPath, "%s/%s/%s_frames/lowres_wide_intrinsics/%s_%s.pincam", zRoot, vid, vid, vid, name);
        uint8_t *pc; size_t n;
        cr_assert_eq(sptt_read_file(zPath, &pc, &n), SPTT_OK);
        double pv[6];
        cr_assert_eq(sscanf((char *)pc, "%lf %lf %lf %lf %lf %lf", &pv[0], &pv[1], &pv[2], &pv[3], &pv[4], &pv[5]), 6);
        cr_assert(pv[0] == 256 && pv[1] == 192);
        free(pc);
        f++;
    }
    fclose(fp);
    cr_assert_eq(f, json_array_size(frames));
    json_decref(ann);
    json_decref(gt);
    sptt_ply_free(&p);
}
