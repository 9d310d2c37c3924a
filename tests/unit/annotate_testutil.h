/*
** Test helpers for the content annotators: ann_scene values built in memory, from sptt-synth's
** ground_truth.json or by hand. Header-only (static), included by the test_annotate_* files.
*/
#ifndef ANNOTATE_TESTUTIL_H
#define ANNOTATE_TESTUTIL_H

#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann_content.h"
#include "sptt_math.h"
#include "sptt_synth.h"

static inline double tu_num(json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

/* Adds an object with a yaw-only box; returns its index. */
static inline int tu_add(ann_scene *s, int id, const char *zCat, double cx, double cy, double cz, double ex, double ey,
                  double ez, double yawDeg)
{
    ann_object *o;
    double c = cos(yawDeg * SPTT_PI / 180), sn = sin(yawDeg * SPTT_PI / 180);
    s->obj = realloc(s->obj, sizeof *s->obj * (size_t)(s->nObj + 1));
    o = &s->obj[s->nObj];
    memset(o, 0, sizeof *o);
    o->id = id;
    snprintf(o->zRaw, sizeof o->zRaw, "%s", zCat[0] ? zCat : "obstacle");
    snprintf(o->zLabel, sizeof o->zLabel, "%s", zCat[0] ? zCat : "obstacle");
    snprintf(o->zCategory, sizeof o->zCategory, "%s", zCat);
    o->nyu40 = 39;
    o->hasBox = 1;
    o->box.center[0] = cx; o->box.center[1] = cy; o->box.center[2] = cz;
    o->box.size[0] = ex; o->box.size[1] = ey; o->box.size[2] = ez;
    /* rows are the box axes: x turned by yaw, y turned by yaw, z up */
    o->box.axes[0] = c;   o->box.axes[1] = sn; o->box.axes[2] = 0;
    o->box.axes[3] = -sn; o->box.axes[4] = c;  o->box.axes[5] = 0;
    o->box.axes[6] = 0;   o->box.axes[7] = 0;  o->box.axes[8] = 1;
    o->box.volume = ex * ey * ez;
    o->firstFrame = -1;
    o->firstTime = NAN;
    return s->nObj++;
}

/* A rectangular room outline (one loop, counter-clockwise). */
static inline void tu_room_rect(ann_scene *s, double x0, double y0, double x1, double y1, double height)
{
    s->nLoops = 1;
    s->loopLen = calloc(1, sizeof(int));
    s->loopLen[0] = 4;
    s->loopPts = calloc(4, sizeof(double[2]));
    s->loopPts[0][0] = x0; s->loopPts[0][1] = y0;
    s->loopPts[1][0] = x1; s->loopPts[1][1] = y0;
    s->loopPts[2][0] = x1; s->loopPts[2][1] = y1;
    s->loopPts[3][0] = x0; s->loopPts[3][1] = y1;
    s->roomArea = (x1 - x0) * (y1 - y0);
    s->roomHeight = height;
    s->roomCenter[0] = (x0 + x1) / 2;
    s->roomCenter[1] = (y0 + y1) / 2;
    s->roomCenter[2] = height / 2;
}

/* The scene of a ground_truth.json: objects (annotated instances only), room outline, frames. */
static inline int tu_scene_from_truth(const char *zPath, ann_scene *s, json_t **pTruth)
{
    json_error_t e;
    json_t *g = json_load_file(zPath, 0, &e), *room, *poly, *objs, *frames;
    memset(s, 0, sizeof *s);
    if( !g ) return -1;
    snprintf(s->zName, sizeof s->zName, "%s", json_string_value(json_object_get(g, "scene")));
    snprintf(s->zSource, sizeof s->zSource, "%s", json_string_value(json_object_get(g, "dataset")));
    snprintf(s->zSceneType, sizeof s->zSceneType, "%s", json_string_value(json_object_get(g, "scene_type")));
    room = json_object_get(g, "room");
    poly = json_object_get(room, "polygon");
    s->nLoops = 1;
    s->loopLen = calloc(1, sizeof(int));
    s->loopLen[0] = (int)json_array_size(poly);
    s->loopPts = calloc(json_array_size(poly) + 1, sizeof(double[2]));
    for(size_t i = 0; i < json_array_size(poly); i++){
        s->loopPts[i][0] = tu_num(json_array_get(poly, i), 0);
        s->loopPts[i][1] = tu_num(json_array_get(poly, i), 1);
        s->roomCenter[0] += s->loopPts[i][0] / (double)json_array_size(poly);
        s->roomCenter[1] += s->loopPts[i][1] / (double)json_array_size(poly);
    }
    s->roomArea = json_number_value(json_object_get(room, "floor_area"));
    s->roomHeight = json_number_value(json_object_get(room, "height"));
    s->roomCenter[2] = json_number_value(json_object_get(room, "floor_z")) + s->roomHeight / 2;
    s->fps = json_number_value(json_object_get(json_object_get(g, "camera"), "fps"));
    objs = json_object_get(g, "objects");
    s->obj = calloc(json_array_size(objs) + 1, sizeof *s->obj);
    for(size_t i = 0; i < json_array_size(objs); i++){
        json_t *o = json_array_get(objs, i);
        ann_object *a = &s->obj[s->nObj];
        json_t *qa = json_object_get(o, "qa_category");
        if( json_integer_value(json_object_get(o, "instance_id")) <= 0 ) continue;
        memset(a, 0, sizeof *a);
        a->id = (int)json_integer_value(json_object_get(o, "instance_id"));
        snprintf(a->zRaw, sizeof a->zRaw, "%s", json_string_value(json_object_get(o, "raw_label")));
        snprintf(a->zLabel, sizeof a->zLabel, "%s", json_string_value(json_object_get(o, "category")));
        if( json_is_string(qa) ) snprintf(a->zCategory, sizeof a->zCategory, "%s", json_string_value(qa));
        a->nyu40 = (int)json_integer_value(json_object_get(o, "nyu40_id"));
        a->hasBox = 1;
        for(int k = 0; k < 3; k++){
            a->box.center[k] = tu_num(json_object_get(o, "center"), (size_t)k);
            a->box.size[k] = tu_num(json_object_get(o, "size"), (size_t)k);
        }
        for(int k = 0; k < 9; k++) a->box.axes[k] = tu_num(json_object_get(o, "axes"), (size_t)k);
        a->box.volume = a->box.size[0] * a->box.size[1] * a->box.size[2];
        a->firstFrame = -1;
        a->firstTime = NAN;
        s->nObj++;
    }
    frames = json_object_get(g, "frames");
    s->pack.nFrames = json_array_size(frames);
    s->pack.frames = calloc(s->pack.nFrames + 1, sizeof *s->pack.frames);
    for(size_t f = 0; f < s->pack.nFrames; f++){
        json_t *fr = json_array_get(frames, f);
        for(int k = 0; k < 16; k++) s->pack.frames[f].c2w[k] = (float)tu_num(json_object_get(fr, "pose"), (size_t)k);
        s->pack.frames[f].timestamp = json_number_value(json_object_get(fr, "time"));
        s->pack.frames[f].width = 320;
        s->pack.frames[f].height = 240;
    }
    if( pTruth ) *pTruth = g;
    else json_decref(g);
    return 0;
}

/*
** First appearances for a test: the first frame whose camera has the object's centre in front,
** within a 35 degree half-angle cone and 5 m. A stand-in for the lead's projection with values
** known to the test.
*/
static inline void tu_set_appearance(ann_scene *s)
{
    for(int i = 0; i < s->nObj; i++){
        ann_object *o = &s->obj[i];
        o->firstFrame = -1;
        o->firstTime = NAN;
        for(uint64_t f = 0; f < s->pack.nFrames; f++){
            const float *M = s->pack.frames[f].c2w;
            double d[3] = { o->box.center[0] - M[3], o->box.center[1] - M[7], o->box.center[2] - M[11] };
            double z = d[0] * M[2] + d[1] * M[6] + d[2] * M[10], len = sptt_norm3(d);
            if( !isfinite(z) || len > 5 || z <= 0 || z / len < cos(35 * SPTT_PI / 180) ) continue;
            o->firstFrame = (int)f;
            o->firstTime = s->pack.frames[f].timestamp;
            break;
        }
    }
}

/* Writes synthetic scenes below a fresh temporary directory; returns the directory. */
static inline void tu_synth(char *zDir, size_t n, uint64_t seed, int nScenes, int formats, int nFrames)
{
    sptt_synth_opts o;
    snprintf(zDir, n, "/tmp/sptt_ann_XXXXXX");
    if( !mkdtemp(zDir) ) abort();
    memset(&o, 0, sizeof o);
    o.zOut = zDir;
    o.nScenes = nScenes;
    o.seed = seed;
    o.formats = formats;
    o.scale = SPTT_SCALE_SMALL;
    o.nFrames = nFrames;
    o.quiet = 1;
    if( sptt_synth_run(&o) ) abort();
}

static inline void tu_rmdir(const char *zDir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", zDir);
    if( system(cmd) ) abort();
}

/* The ground_truth.json files below a synth directory, sorted; globfree() after. */
static inline void tu_truth_paths(const char *zDir, glob_t *g)
{
    char pat[2][300];
    snprintf(pat[0], sizeof pat[0], "%s/scannet/scans/*/ground_truth.json", zDir);
    snprintf(pat[1], sizeof pat[1], "%s/arkitscenes/3dod/Training/*/ground_truth.json", zDir);
    memset(g, 0, sizeof *g);
    glob(pat[0], 0, NULL, g);
    glob(pat[1], GLOB_APPEND, NULL, g);
}

#endif
