/*
** Scenes for the geometry tests and benchmark, loaded without sptt-ingest: synthetic scenes from
** the generator's files and ground_truth.json, the real ScanNet fixture from its PLY, segments,
** aggregation, label table and separate alignment. Points are in the output frame (ScanNet:
** raw mesh mapped by axisAlignment), stored as float32 as a scene pack stores them.
*/
#ifndef GEOMETRY_TESTUTIL_H
#define GEOMETRY_TESTUTIL_H

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_ingest.h"
#include "sptt_math.h"
#include "sptt_schemas.h"
#include "sptt_synth.h"

typedef struct gt_obj {
    int id;                 /* instance id */
    int nyu40;
    char label[64];
    char shape[32];         /* synthetic: "box" for plain cuboids; real: "" */
    double center[3], size[3], axes[9], tilt;   /* synthetic truth */
    int hasTruth;
} gt_obj;

typedef struct gt_scene {
    size_t n;
    float *xyz;             /* (n, 3) output frame */
    uint8_t *nyu40;         /* (n) */
    uint16_t *inst;         /* (n), 0 = none */
    uint32_t *faces;        /* (nFaces, 3) */
    size_t nFaces;
    int nObj;
    gt_obj *obj;
    double floorArea, height;   /* synthetic truth, 0 for the real scene */
    int isArkit;
} gt_scene;

static void gt_free(gt_scene *s)
{
    free(s->xyz);
    free(s->nyu40);
    free(s->inst);
    free(s->faces);
    free(s->obj);
    memset(s, 0, sizeof *s);
}

/* Points of instance id as doubles; caller frees. */
static double *gt_points(const gt_scene *s, int id, size_t *pn)
{
    size_t n = 0, k = 0;
    double *p;
    for(size_t i = 0; i < s->n; i++) n += s->inst[i]==id;
    p = malloc((n ? n : 1) * 3 * sizeof(double));
    for(size_t i = 0; i < s->n; i++)
        if( s->inst[i]==id ){
            for(int d = 0; d < 3; d++) p[3 * k + d] = s->xyz[3 * i + d];
            k++;
        }
    *pn = n;
    return p;
}

static int gt_parse_alignment(const char *zPath, double *M)
{
    uint8_t *d;
    size_t size;
    const char *z;
    if( sptt_read_file(zPath, &d, &size) ) return -1;
    z = strstr((const char *)d, "axisAlignment");
    if( z==NULL || (z = strchr(z, '='))==NULL ){
        free(d);
        return -1;
    }
    z++;
    for(int k = 0; k < 16; k++){
        char *e;
        M[k] = strtod(z, &e);
        z = e;
    }
    free(d);
    return 0;
}

static void gt_apply(gt_scene *s, const sptt_ply *ply, const double *M)
{
    s->n = ply->nVerts;
    s->xyz = malloc(s->n * 3 * sizeof(float));
    s->nyu40 = calloc(s->n, 1);
    s->inst = calloc(s->n, sizeof(uint16_t));
    s->nFaces = ply->nFaces;
    s->faces = malloc((ply->nFaces ? ply->nFaces : 1) * 3 * sizeof(uint32_t));
    if( ply->nFaces ) memcpy(s->faces, ply->faces, ply->nFaces * 3 * sizeof(uint32_t));
    for(size_t i = 0; i < s->n; i++){
        double p[3] = { ply->xyz[3 * i], ply->xyz[3 * i + 1], ply->xyz[3 * i + 2] }, q[3];
        if( M ) sptt_xform_point(M, p, q);
        else memcpy(q, p, sizeof q);
        for(int d = 0; d < 3; d++) s->xyz[3 * i + d] = (float)q[d];
    }
}

/* A synthetic scene: zDir is the scene folder holding ground_truth.json. */
static int gt_load_synth(const char *zDir, gt_scene *s)
{
    char zPath[1200];
    json_t *t, *objs, *st;
    json_error_t e;
    sptt_ply ply;
    double M[16];
    const char *zName;
    int isArkit;
    memset(s, 0, sizeof *s);
    snprintf(zPath, sizeof zPath, "%s/ground_truth.json", zDir);
    t = json_load_file(zPath, 0, &e);
    if( t==NULL ) return -1;
    zName = json_string_value(json_object_get(t, "scene"));
    isArkit = strcmp(json_string_value(json_object_get(t, "dataset")), "arkitscenes")==0;
    if( isArkit ) snprintf(zPath, sizeof zPath, "%s/%s_3dod_mesh.ply", zDir, zName);
    else snprintf(zPath, sizeof zPath, "%s/%s_vh_clean_2.ply", zDir, zName);
    if( sptt_ply_read(zPath, &ply) ){
        json_decref(t);
        return -1;
    }
    if( !isArkit ){
        snprintf(zPath, sizeof zPath, "%s/%s.txt", zDir, zName);
        if( gt_parse_alignment(zPath, M) ){
            sptt_ply_free(&ply);
            json_decref(t);
            return -1;
        }
    }
    gt_apply(s, &ply, isArkit ? NULL : M);
    sptt_ply_free(&ply);
    s->isArkit = isArkit;
    s->floorArea = json_number_value(json_object_get(json_object_get(t, "room"), "floor_area"));
    s->height = json_number_value(json_object_get(json_object_get(t, "room"), "height"));
    objs = json_object_get(t, "objects");
    st = json_object_get(t, "structure");
    s->obj = calloc(json_array_size(objs) + json_array_size(st) + 1, sizeof(gt_obj));
    for(int pass = 0; pass < 2; pass++){
        json_t *arr = pass ? st : objs;
        for(size_t i = 0; i < json_array_size(arr); i++){
            json_t *j = json_array_get(arr, i), *v = json_object_get(j, "vertices");
            gt_obj *o = &s->obj[s->nObj];
            int v0 = (int)json_integer_value(json_array_get(v, 0)), v1 = (int)json_integer_value(json_array_get(v, 1));
            o->id = (int)json_integer_value(json_object_get(j, "instance_id"));
            if( o->id <= 0 ) continue;   /* unannotated clutter */
            o->nyu40 = (int)json_integer_value(json_object_get(j, "nyu40_id"));
            snprintf(o->label, sizeof o->label, "%s", json_string_value(json_object_get(j, "raw_label")));
            if( pass==0 ){
                snprintf(o->shape, sizeof o->shape, "%s", json_string_value(json_object_get(j, "shape")));
                for(int k = 0; k < 3; k++) o->center[k] = json_number_value(json_array_get(json_object_get(j, "center"), k));
                for(int k = 0; k < 3; k++) o->size[k] = json_number_value(json_array_get(json_object_get(j, "size"), k));
                for(int k = 0; k < 9; k++) o->axes[k] = json_number_value(json_array_get(json_object_get(j, "axes"), k));
                o->tilt = json_number_value(json_object_get(j, "tilt_deg"));
                o->hasTruth = 1;
            }
            for(int k = v0; k < v1 && (size_t)k < s->n; k++){
                s->inst[k] = (uint16_t)o->id;
                s->nyu40[k] = (uint8_t)o->nyu40;
            }
            s->nObj++;
        }
    }
    json_decref(t);
    return 0;
}

/* Generates scenes with the library (as sptt-synth would) below a fresh temporary folder. */
static int gt_make_synth(char *zRoot, size_t nRoot, int nScenes, uint64_t seed, int formats, int scale)
{
    sptt_synth_opts o;
    snprintf(zRoot, nRoot, "/tmp/sptt_geo_XXXXXX");
    if( mkdtemp(zRoot)==NULL ) return -1;
    memset(&o, 0, sizeof o);
    o.zOut = zRoot;
    o.nScenes = nScenes;
    o.seed = seed;
    o.formats = formats;
    o.scale = scale;
    o.nFrames = 4;
    o.quiet = 1;
    return sptt_synth_run(&o)==SPTT_OK ? 0 : -1;
}

static void gt_remove_tree(const char *zRoot)
{
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", zRoot);
    if( system(cmd)!=0 ) fprintf(stderr, "could not remove %s\n", zRoot);
}

/* NYU40 id of a raw category in the v2 label table (17 tab-separated columns), 0 when absent. */
static int gt_tsv_nyu40(const char *zTable, const char *zRaw)
{
    const char *z = zTable;
    size_t len = strlen(zRaw);
    while( z && *z ){
        const char *t = strchr(z, '\t');
        if( t && strncmp(t + 1, zRaw, len)==0 && t[1 + len]=='\t' ){
            int col = 1;
            const char *c = t + 1;
            while( *c && col < 4 ){
                if( *c=='\t' ) col++;
                c++;
            }
            return atoi(c);
        }
        z = strchr(z, '\n');
        if( z ) z++;
    }
    return 0;
}

/* The real ScanNet scene0000_00 fixture; -1 when the files are absent. */
static int gt_load_fixture(gt_scene *s)
{
    const char *zRoot = getenv("SPTT_FIXTURES");
    char zPath[1200], zDir[1100];
    sptt_ply ply;
    double M[16];
    uint8_t *tsv = NULL;
    size_t size;
    json_t *segs = NULL, *agg = NULL, *idx, *groups;
    json_error_t e;
    int *segGroup = NULL, rc = -1;
    size_t maxSeg = 0;

    memset(s, 0, sizeof *s);
    if( zRoot==NULL ) zRoot = "../shared/fixtures";
    snprintf(zDir, sizeof zDir, "%s/scannet/scene0000_00", zRoot);
    snprintf(zPath, sizeof zPath, "%s/scene0000_00_vh_clean_2.ply", zDir);
    if( access(zPath, R_OK)!=0 ) return -1;
    if( sptt_ply_read(zPath, &ply) ) return -1;
    snprintf(zPath, sizeof zPath, "%s/scannet/scene0000_00.axis_alignment.txt", zRoot);
    if( gt_parse_alignment(zPath, M) ) goto done;
    gt_apply(s, &ply, M);
    snprintf(zPath, sizeof zPath, "%s/scannet/scannetv2-labels.combined.tsv", zRoot);
    if( sptt_read_file(zPath, &tsv, &size) ) goto done;
    snprintf(zPath, sizeof zPath, "%s/scene0000_00_vh_clean_2.0.010000.segs.json", zDir);
    if( (segs = json_load_file(zPath, 0, &e))==NULL ) goto done;
    snprintf(zPath, sizeof zPath, "%s/scene0000_00.aggregation.json", zDir);
    if( (agg = json_load_file(zPath, 0, &e))==NULL ) goto done;
    idx = json_object_get(segs, "segIndices");
    if( json_array_size(idx)!=s->n ) goto done;
    for(size_t i = 0; i < s->n; i++){
        size_t v = (size_t)json_integer_value(json_array_get(idx, i));
        if( v > maxSeg ) maxSeg = v;
    }
    segGroup = malloc((maxSeg + 1) * sizeof(int));
    for(size_t k = 0; k <= maxSeg; k++) segGroup[k] = -1;
    groups = json_object_get(agg, "segGroups");
    s->obj = calloc(json_array_size(groups) + 1, sizeof(gt_obj));
    for(size_t g = 0; g < json_array_size(groups); g++){
        json_t *j = json_array_get(groups, g), *sg = json_object_get(j, "segments");
        gt_obj *o = &s->obj[s->nObj++];
        o->id = (int)json_integer_value(json_object_get(j, "objectId")) + 1;
        snprintf(o->label, sizeof o->label, "%s", json_string_value(json_object_get(j, "label")));
        o->nyu40 = gt_tsv_nyu40((const char *)tsv, o->label);
        for(size_t k = 0; k < json_array_size(sg); k++){
            size_t v = (size_t)json_integer_value(json_array_get(sg, k));
            if( v <= maxSeg ) segGroup[v] = (int)(s->nObj - 1);
        }
    }
    for(size_t i = 0; i < s->n; i++){
        int g = segGroup[json_integer_value(json_array_get(idx, i))];
        if( g < 0 ) continue;
        s->inst[i] = (uint16_t)s->obj[g].id;
        s->nyu40[i] = (uint8_t)s->obj[g].nyu40;
    }
    rc = 0;
done:
    sptt_ply_free(&ply);
    free(tsv);
    free(segGroup);
    json_decref(segs);
    json_decref(agg);
    if( rc ) gt_free(s);
    return rc;
}

#endif
