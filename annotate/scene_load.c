/*
** Loads one scene for annotation: its rows (written by ingest and geometry) and its pack.
*/
#include "annotate.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ann_scene_free(ann_scene *s)
{
    free(s->loopLen);
    free(s->loopPts);
    free(s->obj);
    sptt_pack_free(&s->pack);
    memset(s, 0, sizeof *s);
}

ann_object *ann_object_by_id(ann_scene *s, int id)
{
    for(int i = 0; i < s->nObj; i++) if( s->obj[i].id==id ) return &s->obj[i];
    return NULL;
}

static int parse_numbers(const char *zJson, double *out, int n)
{
    json_error_t e;
    json_t *a = json_loads(zJson, 0, &e);
    int ok = json_is_array(a) && (int)json_array_size(a)==n;
    for(int i = 0; ok && i < n; i++){
        json_t *v = json_array_get(a, (size_t)i);
        if( !json_is_number(v) ) ok = 0;
        else out[i] = json_number_value(v);
    }
    json_decref(a);
    return ok ? SPTT_OK : SPTT_EFORMAT;
}

static int parse_polygon(ann_scene *s, const char *zJson)
{
    json_error_t e;
    json_t *a = json_loads(zJson, 0, &e);
    size_t total = 0;
    int rc = SPTT_OK;
    if( !json_is_array(a) ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "scene %s: room_polygon is not a JSON array of loops", s->zName);
    }
    for(size_t i = 0; i < json_array_size(a); i++) total += json_array_size(json_array_get(a, i));
    s->nLoops = (int)json_array_size(a);
    s->loopLen = sptt_calloc((size_t)s->nLoops + 1, sizeof(int));
    s->loopPts = sptt_calloc(total + 1, sizeof(double[2]));
    if( !s->loopLen || !s->loopPts ){
        json_decref(a);
        return SPTT_ENOMEM;
    }
    total = 0;
    for(size_t i = 0; i < json_array_size(a) && rc==SPTT_OK; i++){
        json_t *loop = json_array_get(a, i);
        s->loopLen[i] = (int)json_array_size(loop);
        for(size_t k = 0; k < json_array_size(loop); k++){
            json_t *pt = json_array_get(loop, k);
            if( json_array_size(pt)!=2 ){
                rc = sptt_fail(SPTT_EFORMAT, "scene %s: room_polygon loop %zu point %zu is not [x, y]", s->zName, i, k);
                break;
            }
            s->loopPts[total][0] = json_number_value(json_array_get(pt, 0));
            s->loopPts[total][1] = json_number_value(json_array_get(pt, 1));
            total++;
        }
    }
    json_decref(a);
    return rc;
}

int ann_scene_load(sqlite3 *db, const char *zName, int withImages, ann_scene *s)
{
    sqlite3_stmt *st = NULL;
    sptt_scene_row row;
    int rc = SPTT_OK;

    memset(s, 0, sizeof *s);
    memset(&row, 0, sizeof row);
    snprintf(s->zName, sizeof s->zName, "%s", zName);
    if( (rc = sptt_scene_get(db, zName, &row)) ) goto done;
    if( (rc = sptt_scene_check_geometry(db, &row)) ) goto done;
    s->id = row.id;
    snprintf(s->zSource, sizeof s->zSource, "%s", row.zSource);
    snprintf(s->zPack, sizeof s->zPack, "%s", row.zPack);
    snprintf(s->zGeometryHash, sizeof s->zGeometryHash, "%s", row.zGeometryHash);
    s->fps = row.fps;
    s->roomArea = row.roomArea;
    s->roomHeight = row.roomHeight;
    for(int k = 0; k < 3; k++) s->roomCenter[k] = row.roomCenter[k];
    if( row.zPolygon && (rc = parse_polygon(s, row.zPolygon)) ) goto done;

    rc = sptt_db_prepare(db, "SELECT instance_id, raw_label, nyu40_id, label, category, n_points, center_x, center_y, "
                             "center_z, size_x, size_y, size_z, axes, box_flags FROM objects WHERE scene_id=? "
                             "ORDER BY instance_id", &st);
    if( rc ) goto done;
    sqlite3_bind_int64(st, 1, s->id);
    while( (rc = sqlite3_step(st))==SQLITE_ROW ){
        ann_object *o;
        ann_object *grown = sptt_realloc(s->obj, sizeof *grown * (size_t)(s->nObj + 1));
        if( grown==NULL ){ rc = SPTT_ENOMEM; goto done; }
        s->obj = grown;
        o = &s->obj[s->nObj++];
        memset(o, 0, sizeof *o);
        o->id = sqlite3_column_int(st, 0);
        snprintf(o->zRaw, sizeof o->zRaw, "%s", (const char *)sqlite3_column_text(st, 1));
        o->nyu40 = sqlite3_column_int(st, 2);
        snprintf(o->zLabel, sizeof o->zLabel, "%s", (const char *)sqlite3_column_text(st, 3));
        if( sqlite3_column_text(st, 4) ) snprintf(o->zCategory, sizeof o->zCategory, "%s", (const char *)sqlite3_column_text(st, 4));
        o->nPoints = sqlite3_column_int64(st, 5);
        o->firstFrame = -1;
        o->firstTime = NAN;
        if( sqlite3_column_type(st, 6)!=SQLITE_NULL && sqlite3_column_text(st, 12) ){
            for(int k = 0; k < 3; k++){
                o->box.center[k] = sqlite3_column_double(st, 6 + k);
                o->box.size[k] = sqlite3_column_double(st, 9 + k);
            }
            if( parse_numbers((const char *)sqlite3_column_text(st, 12), o->box.axes, 9) ){
                rc = sptt_fail(SPTT_EFORMAT, "scene %s: object %d: axes is not a JSON array of 9 numbers", zName, o->id);
                goto done;
            }
            o->box.volume = o->box.size[0] * o->box.size[1] * o->box.size[2];
            o->box.flags = (unsigned)sqlite3_column_int(st, 13);
            o->hasBox = 1;
        }
    }
    if( rc!=SQLITE_DONE ){
        rc = sptt_db_fail(db, "read objects");
        goto done;
    }
    rc = sptt_scene_read_pack(&row, withImages ? 0 : SPTT_PACK_SKIP_IMAGES, &s->pack);
    if( rc ) goto done;
    {
        json_error_t e;
        json_t *m = json_loads(s->pack.zMeta, 0, &e);
        const char *z = json_string_value(json_object_get(m, "scene_type"));
        if( z ) snprintf(s->zSceneType, sizeof s->zSceneType, "%s", z);
        json_decref(m);
    }

done:
    sqlite3_finalize(st);
    sptt_scene_row_free(&row);
    if( rc ) ann_scene_free(s);
    return rc;
}
