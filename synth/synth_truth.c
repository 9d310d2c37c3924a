/*
** ground_truth.json beside each synthetic scene: the floor polygon and its exact area, room
** height, every object's box, category and vertex range, every frame's pose, all mapped into the
** frame the dataset's tools produce. Called by the ScanNet leg of the driver (synth.c) and by the
** ARKitScenes writer (synth_arkit.c), which knows the frame times and names only once it has
** written the frames.
*/
#include "synth.h"
#include "sptt_math.h"
#include "sptt_schemas.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_t *reals(const double *a, int n)
{
    json_t *arr = json_array();
    for(int i = 0; i < n; i++) json_array_append_new(arr, json_real(a[i]));
    return arr;
}

static json_t *point2(double x, double y)
{
    double a[2] = { x, y };
    return reals(a, 2);
}

static const char *sky_name(int k)
{
    static const char *const az[4] = { "Up", "Left", "Down", "Right" };
    return az[k & 3];
}

int synth_write_truth(const synth_scene *s, const char *zPath, const char *zFrame, const double *T,
                      const double *frameTimes, const char *const *azFrameNames)
{
    json_t *root = json_object(), *room = json_object(), *objs = json_array(), *structure = json_array();
    json_t *cam = json_object(), *frames = json_array(), *poly = json_array(), *rooms = json_array();
    json_t *invalid = json_array();
    int rc = SPTT_OK;
    char *z;

    json_object_set_new(root, "generator", json_string("sptt-synth " SPTT_VERSION));
    json_object_set_new(root, "dataset", json_string(s->isArkit ? "arkitscenes" : "scannet"));
    json_object_set_new(root, "scene", json_string(s->zName));
    json_object_set_new(root, "frame", json_string(zFrame));
    json_object_set_new(root, "scene_type", json_string(s->zType));
    if( !s->isArkit ) json_object_set_new(root, "axis_alignment", reals(s->alignment, 16));

    /* Room, in the output frame. */
    for(int i = 0; i < s->nPoly; i++){
        double p[3] = { s->poly[i][0], s->poly[i][1], 0 }, q[3];
        sptt_xform_point(T, p, q);
        json_array_append_new(poly, point2(q[0], q[1]));
    }
    for(int r = 0; r < s->nRects; r++){
        const synth_rect *R = &s->rects[r];
        double c[4][2] = { { R->x0, R->y0 }, { R->x1, R->y0 }, { R->x1, R->y1 }, { R->x0, R->y1 } };
        json_t *o = json_object(), *pp = json_array();
        for(int k = 0; k < 4; k++){
            double p[3] = { c[k][0], c[k][1], 0 }, q[3];
            sptt_xform_point(T, p, q);
            json_array_append_new(pp, point2(q[0], q[1]));
        }
        json_object_set_new(o, "polygon", pp);
        json_object_set_new(o, "area", json_real((R->x1 - R->x0) * (R->y1 - R->y0)));
        json_array_append_new(rooms, o);
    }
    json_object_set_new(room, "shape", json_string(s->kind==0 ? "rectangle" : s->kind==1 ? "L" : "two_rooms"));
    json_object_set_new(room, "floor_area", json_real(s->area));
    json_object_set_new(room, "height", json_real(s->height));
    json_object_set_new(room, "floor_z", json_real(T[11]));
    json_object_set_new(room, "polygon", poly);
    json_object_set_new(room, "parts", rooms);
    if( s->kind==2 ){
        double a[3] = { s->door[0], s->door[1], 0 }, b[3] = { s->door[2], s->door[3], 0 }, qa[3], qb[3];
        json_t *d = json_array();
        sptt_xform_point(T, a, qa);
        sptt_xform_point(T, b, qb);
        json_array_append_new(d, point2(qa[0], qa[1]));
        json_array_append_new(d, point2(qb[0], qb[1]));
        json_object_set_new(room, "doorway", d);
    }
    json_object_set_new(root, "room", room);

    for(int i = 0; i < s->nObjs; i++){
        const synth_object *o = &s->objs[i];
        json_t *j = json_object();
        double c[3], axes[9], range[2] = { o->v0, o->v1 };
        sptt_xform_point(T, o->center, c);
        for(int r = 0; r < 3; r++)
            for(int k = 0; k < 3; k++) axes[3 * r + k] = T[4 * k] * o->axes[3 * r] + T[4 * k + 1] * o->axes[3 * r + 1] + T[4 * k + 2] * o->axes[3 * r + 2];
        json_object_set_new(j, "instance_id", json_integer(o->id));
        json_object_set_new(j, "raw_label", json_string(o->zRaw));
        json_object_set_new(j, "nyu40_id", json_integer(o->nyu40));
        json_object_set_new(j, "vertices", json_pack("[ii]", (int)range[0], (int)range[1]));
        if( o->cat==NULL ){
            json_array_append_new(structure, j);
            continue;
        }
        json_object_set_new(j, "category", json_string(o->cat->zName));
        {
            const char *zQa = s->isArkit ? (o->cat->zArkit ? sptt_arkit_category(o->cat->zArkit) : NULL)
                                         : sptt_scannet_category(o->cat->zName);
            json_object_set_new(j, "qa_category", zQa ? json_string(zQa) : json_null());
        }
        json_object_set_new(j, "arkit_label", o->cat->zArkit ? json_string(o->cat->zArkit) : json_null());
        json_object_set_new(j, "annotated", json_boolean(o->id > 0));
        json_object_set_new(j, "shape", json_string(o->zShape));
        json_object_set_new(j, "center", reals(c, 3));
        json_object_set_new(j, "size", reals(o->size, 3));
        json_object_set_new(j, "axes", reals(axes, 9));
        json_object_set_new(j, "yaw_deg", json_real(atan2(axes[1], axes[0]) * 180.0 / SPTT_PI));
        json_object_set_new(j, "tilt_deg", json_real(o->tilt));
        json_object_set_new(j, "supported_by", json_integer(o->supportedBy));
        json_array_append_new(objs, j);
    }
    json_object_set_new(root, "objects", objs);
    json_object_set_new(root, "structure", structure);
    json_object_set_new(root, "mesh", json_pack("{s:i,s:i,s:f,s:f}", "vertices", (int)s->mesh.nVerts, "faces",
                                               (int)s->mesh.nFaces, "resolution_objects", s->resObj,
                                               "resolution_structure", s->resStruct));

    json_object_set_new(cam, "fps", json_real(s->fps));
    json_object_set_new(cam, "frames", json_integer(s->nFrames));
    for(int f = 0; f < s->nFrames; f++) if( s->invalid[f] && !s->isArkit ) json_array_append_new(invalid, json_integer(f));
    json_object_set_new(cam, "invalid_frames", invalid);
    if( s->isArkit ) json_object_set_new(cam, "sky_direction", json_string(sky_name(s->skyIndex)));
    json_object_set_new(root, "camera", cam);
    for(int f = 0; f < s->nFrames; f++){
        double P[16];
        json_t *j = json_object();
        sptt_mul4(T, s->c2w + 16 * f, P);
        json_object_set_new(j, "index", json_integer(f));
        json_object_set_new(j, "time", json_real(frameTimes ? frameTimes[f] : s->times[f]));
        if( azFrameNames ) json_object_set_new(j, "name", json_string(azFrameNames[f]));
        json_object_set_new(j, "pose", reals(P, 16));
        json_array_append_new(frames, j);
    }
    json_object_set_new(root, "frames", frames);

    z = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if( z==NULL ) rc = sptt_fail(SPTT_ENOMEM, "json: out of memory");
    else rc = sptt_write_file(zPath, z, strlen(z));
    free(z);
    json_decref(root);
    return rc;
}
