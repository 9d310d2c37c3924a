/*
** One scene of sptt-geometry: read its rows and pack, compute room and boxes, write them back in
** one transaction.
**
** The heavy work happens before BEGIN, so the write lock is held for milliseconds; inside the
** transaction the scene's input hash is checked again, and a scene re-ingested meanwhile is
** refused rather than given boxes of a pack it no longer has. Results that differ from the
** stored ones take the scene's annotations with them (sptt_dataset.h).
*/
#include "geo_util.h"
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"
#include "sptt_schemas.h"

#include <assert.h>
#include <jansson.h>

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct obj_row {
    int id;
    int nyu40;
    char *zLabel;
    size_t nPts;
    int structural;
    int skipped;
    int hasFit, hasAnno;
    sptt_box minimal, upright, anno;
    int rc;                      /* fit error (ENOMEM) */
} obj_row;

typedef struct warn_list {
    char **azCode, **azMsg;
    int n, cap;
    int rc;
} warn_list;

static void warn_add(warn_list *w, const char *zCode, const char *zFormat, ...) __attribute__((format(printf, 3, 4)));
static void warn_add(warn_list *w, const char *zCode, const char *zFormat, ...)
{
    va_list ap;
    char buf[512];
    if( w->rc ) return;
    if( w->n==w->cap ){
        int cap = w->cap ? 2 * w->cap : 8;
        char **a = sptt_realloc(w->azCode, (size_t)cap * sizeof(char *)), **b;
        if( a==NULL ){
            w->rc = SPTT_ENOMEM;
            return;
        }
        w->azCode = a;
        b = sptt_realloc(w->azMsg, (size_t)cap * sizeof(char *));
        if( b==NULL ){
            w->rc = SPTT_ENOMEM;
            return;
        }
        w->azMsg = b;
        w->cap = cap;
    }
    va_start(ap, zFormat);
    vsnprintf(buf, sizeof buf, zFormat, ap);
    va_end(ap);
    w->azCode[w->n] = strdup(zCode);
    w->azMsg[w->n] = strdup(buf);
    if( w->azCode[w->n]==NULL || w->azMsg[w->n]==NULL ){
        free(w->azCode[w->n]);
        free(w->azMsg[w->n]);
        w->rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        return;
    }
    w->n++;
}

static void warn_free(warn_list *w)
{
    for(int i = 0; i < w->n; i++){
        free(w->azCode[i]);
        free(w->azMsg[i]);
    }
    free(w->azCode);
    free(w->azMsg);
    memset(w, 0, sizeof *w);
}

/* Describes the warning flags of a box in words, for the warning text. Repeated points are
** normal in meshes (vertices along seams); they are named only when the box is degenerate. */
static void box_warnings(warn_list *w, const obj_row *o, const char *zKind, unsigned flags)
{
    char zDup[96] = "";
    if( flags & SPTT_BOX_SKIPPED ){
        warn_add(w, "box_skipped", "instance %d (%s): %zu points, fewer than the minimum: no box", o->id, o->zLabel, o->nPts);
        return;
    }
    if( (flags & SPTT_BOX_DUPLICATES) && o->hasFit )
        snprintf(zDup, sizeof zDup, " (%zu of its %zu points repeat others exactly)", o->minimal.nPoints - o->minimal.nDistinct,
                 o->minimal.nPoints);
    if( flags & SPTT_BOX_FEW_POINTS )
        warn_add(w, "box_few_points", "instance %d (%s): fewer than 4 distinct points%s: %s box is degenerate", o->id, o->zLabel, zDup, zKind);
    if( flags & SPTT_BOX_COLLINEAR )
        warn_add(w, "box_collinear", "instance %d (%s): points on one line%s: %s box has two zero sizes", o->id, o->zLabel, zDup, zKind);
    else if( flags & SPTT_BOX_COPLANAR )
        warn_add(w, "box_coplanar", "instance %d (%s): points on one plane%s: %s box is flat", o->id, o->zLabel, zDup, zKind);
    if( flags & SPTT_BOX_HULL_FAILED )
        warn_add(w, "box_hull_failed", "instance %d (%s): Qhull refused the points: %s box searched without a hull", o->id, o->zLabel, zKind);
    if( flags & SPTT_BOX_NO_ANNOTATION )
        warn_add(w, "box_no_annotation", "instance %d (%s): no annotation box in the pack: fitted %s box stored", o->id, o->zLabel, zKind);
}

static void room_warnings(warn_list *w, unsigned flags, const sptt_room *r)
{
    if( flags & SPTT_ROOM_COLLINEAR ) warn_add(w, "room_collinear", "room points are collinear seen from above (a single wall?): area 0");
    else if( flags & SPTT_ROOM_FEW_POINTS ) warn_add(w, "room_few_points", "fewer than 4 distinct room points: area of their convex hull");
    if( flags & SPTT_ROOM_EMPTY ) warn_add(w, "room_empty", "no Delaunay triangle has a circumradius under 1/alpha: area 0");
    if( flags & SPTT_ROOM_BOX_DEGENERATE )
        warn_add(w, "room_box_degenerate", "the points are flat or collinear: room centre from a degenerate box (sizes %.3f %.3f %.3f)",
                 r->box.size[0], r->box.size[1], r->box.size[2]);
}

/* ---------------------------------------------------------------------------------------------
** Inputs
*/
static int json_box(json_t *j, sptt_box *b)
{
    json_t *c = json_object_get(j, "center"), *s = json_object_get(j, "size"), *a = json_object_get(j, "axes");
    if( json_array_size(c)!=3 || json_array_size(s)!=3 || json_array_size(a)!=9 ) return 0;
    memset(b, 0, sizeof *b);
    b->volume = 1;
    for(int k = 0; k < 3; k++){
        b->center[k] = json_number_value(json_array_get(c, k));
        b->size[k] = json_number_value(json_array_get(s, k));
        b->volume *= b->size[k];
    }
    for(int k = 0; k < 9; k++) b->axes[k] = json_number_value(json_array_get(a, k));
    for(int k = 0; k < 3; k++)
        if( !isfinite(b->center[k]) || !isfinite(b->size[k]) || b->size[k] < 0 ) return 0;
    for(int k = 0; k < 9; k++)
        if( !isfinite(b->axes[k]) ) return 0;
    return 1;
}

/* Annotation boxes from the pack metadata ("instances": [{"id", ..., "box": {...}}]). */
static void read_annotations(const char *zMeta, obj_row *objs, int nObj)
{
    json_error_t e;
    json_t *m = zMeta ? json_loads(zMeta, 0, &e) : NULL, *inst = json_object_get(m, "instances");
    for(size_t i = 0; i < json_array_size(inst); i++){
        json_t *j = json_array_get(inst, i), *box = json_object_get(j, "box");
        int id = (int)json_integer_value(json_object_get(j, "id"));
        if( box==NULL ) continue;
        for(int k = 0; k < nObj; k++)
            if( objs[k].id==id ) objs[k].hasAnno = json_box(box, &objs[k].anno);
    }
    json_decref(m);
}

/* ---------------------------------------------------------------------------------------------
** Output
*/
static char *polygon_json(const sptt_alpha_shape *a)
{
    sptt_buf b = {0};
    sptt_buf_put(&b, "[", 1);
    for(int l = 0; l < a->nLoops; l++){
        sptt_buf_put(&b, l ? ",[" : "[", l ? 2 : 1);
        for(int k = a->loopStart[l]; k < a->loopStart[l + 1]; k++)
            sptt_buf_printf(&b, "%s[%.4f,%.4f]", k > a->loopStart[l] ? "," : "", a->loopXY[2 * k], a->loopXY[2 * k + 1]);
        sptt_buf_put(&b, "]", 1);
    }
    sptt_buf_put(&b, "]", 2);   /* and the terminating NUL */
    if( b.rc ){
        sptt_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

static int bind_box(sqlite3_stmt *st, int i, const sptt_box *b)
{
    for(int k = 0; k < 3; k++) sptt_db_bind_real(st, i + k, b->center[k]);
    for(int k = 0; k < 3; k++) sptt_db_bind_real(st, i + 3 + k, b->size[k]);
    return sptt_db_bind_floats(st, i + 6, b->axes, 9)==SQLITE_OK ? SPTT_OK : sptt_fail(SPTT_ENOMEM, "out of memory");
}

static const char *kind_name(int kind) { return kind==SPTT_OBB_UPRIGHT ? "upright" : "minimal"; }

/* The hash of everything geometry writes that later stages read: when it changes, the scene's
** annotations were made from other boxes. */
static void result_hash(const sptt_room *room, const char *zPoly, const obj_row *objs, int nObj, const sptt_geometry_opts *o,
                        char zOut[17])
{
    sptt_hash h;
    double v[5] = { room->area, room->height, room->center[0], room->center[1], room->center[2] };
    sptt_hash_init(&h);
    sptt_hash_update(&h, v, sizeof v);
    sptt_hash_update(&h, zPoly, strlen(zPoly));
    for(int i = 0; i < nObj; i++){
        const obj_row *ob = &objs[i];
        const sptt_box *b = ob->hasAnno ? &ob->anno : !ob->hasFit ? NULL : o->obbKind==SPTT_OBB_UPRIGHT ? &ob->upright : &ob->minimal;
        sptt_hash_update(&h, &ob->id, sizeof ob->id);
        if( b ){
            sptt_hash_update(&h, b->center, sizeof b->center);
            sptt_hash_update(&h, b->size, sizeof b->size);
            sptt_hash_update(&h, b->axes, sizeof b->axes);
        }
    }
    snprintf(zOut, 17, "%016llx", (unsigned long long)sptt_hash_final(&h));
}

static int write_rows(sqlite3 *db, const sptt_scene_row *row, const sptt_room *room, const char *zParams, obj_row *objs, int nObj,
                      const sptt_geometry_opts *o, const warn_list *w, int *pInvalidated)
{
    sqlite3_stmt *st = NULL;
    char *zPoly = NULL, zHash[17];
    int64_t sceneId = row->id;
    sptt_scene_geometry g;
    int rc;

    zPoly = polygon_json(&room->shape);
    if( zPoly==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    result_hash(room, zPoly, objs, nObj, o, zHash);
    memset(&g, 0, sizeof g);
    g.zInputHash = row->zInputHash;
    g.zResultHash = zHash;
    g.roomArea = room->area;
    g.roomHeight = room->height;
    for(int k = 0; k < 3; k++) g.roomCenter[k] = room->center[k];
    g.zPolygon = zPoly;
    g.roomFlags = room->flags;
    g.zParams = zParams;
    rc = sptt_db_begin(db);
    if( rc ) goto done;
    if( (rc = sptt_scene_set_geometry(db, sceneId, &g, pInvalidated)) ) goto done;

    rc = sptt_db_prepare(db,
                         "UPDATE objects SET center_x=?, center_y=?, center_z=?, size_x=?, size_y=?, size_z=?, axes=?, "
                         "box_kind=?, box_flags=? WHERE scene_id=? AND instance_id=?",
                         &st);
    if( rc ) goto done;
    for(int i = 0; i < nObj && rc==SPTT_OK; i++){
        const obj_row *ob = &objs[i];
        const sptt_box *b = NULL;
        const char *zKind = NULL;
        unsigned flags = 0;
        if( ob->hasAnno ){
            b = &ob->anno;
            zKind = "annotation";
            flags = 0;   /* given, not fitted: nothing to flag */
        }else if( ob->hasFit ){
            b = o->obbKind==SPTT_OBB_UPRIGHT ? &ob->upright : &ob->minimal;
            zKind = kind_name(o->obbKind);
            flags = b->flags;
        }
        sqlite3_clear_bindings(st);
        if( b ){
            rc = bind_box(st, 1, b);
            if( rc ) break;
            sqlite3_bind_text(st, 8, zKind, -1, SQLITE_STATIC);
        }
        if( b || ob->skipped ) sqlite3_bind_int64(st, 9, flags | (ob->skipped ? SPTT_BOX_SKIPPED | (ob->nPts < 4 ? SPTT_BOX_FEW_POINTS : 0) : 0));
        sqlite3_bind_int64(st, 10, sceneId);
        sqlite3_bind_int(st, 11, ob->id);
        rc = sptt_db_step_done(db, st, "update object box");
    }
    if( rc ) goto done;
    sqlite3_finalize(st);
    st = NULL;

    rc = sptt_db_prepare(db, "DELETE FROM object_boxes WHERE scene_id=?", &st);
    if( rc ) goto done;
    sqlite3_bind_int64(st, 1, sceneId);
    if( (rc = sptt_db_step_done(db, st, "clear object boxes")) ) goto done;
    sqlite3_finalize(st);
    st = NULL;
    rc = sptt_db_prepare(db,
                         "INSERT INTO object_boxes(scene_id, instance_id, kind, center_x, center_y, center_z, size_x, size_y, "
                         "size_z, axes, volume, flags) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                         &st);
    if( rc ) goto done;
    for(int i = 0; i < nObj && rc==SPTT_OK; i++){
        const obj_row *ob = &objs[i];
        const sptt_box *boxes[3] = { ob->hasFit ? &ob->minimal : NULL, ob->hasFit ? &ob->upright : NULL, ob->hasAnno ? &ob->anno : NULL };
        static const char *const azKind[3] = { "minimal", "upright", "annotation" };
        for(int k = 0; k < 3 && rc==SPTT_OK; k++){
            if( boxes[k]==NULL ) continue;
            sqlite3_bind_int64(st, 1, sceneId);
            sqlite3_bind_int(st, 2, ob->id);
            sqlite3_bind_text(st, 3, azKind[k], -1, SQLITE_STATIC);
            if( (rc = bind_box(st, 4, boxes[k])) ) break;
            sptt_db_bind_real(st, 11, boxes[k]->size[0] * boxes[k]->size[1] * boxes[k]->size[2]);
            sqlite3_bind_int64(st, 12, k==2 ? 0 : boxes[k]->flags);
            rc = sptt_db_step_done(db, st, "insert object box");
        }
    }
    if( rc ) goto done;
    sqlite3_finalize(st);
    st = NULL;

    if( (rc = sptt_scene_set_warnings(db, sceneId, "geometry", w->n, w->azCode, w->azMsg)) ) goto done;
    rc = sptt_db_commit(db);
done:
    sqlite3_finalize(st);
    if( rc ) sptt_db_rollback(db);
    free(zPoly);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
*/
void sptt_geometry_opts_default(sptt_geometry_opts *o)
{
    memset(o, 0, sizeof *o);
    o->room.alpha = 5;
    o->room.sample = 10000;
    o->obbKind = SPTT_OBB_MINIMAL;
    o->minPoints = 4;
}

void sptt_geometry_params_key(const sptt_geometry_opts *o, char *zOut, size_t nOut)
{
    char zSample[32], zRmax[32];
    int n;
    if( o->room.sample ) snprintf(zSample, sizeof zSample, "%llu", (unsigned long long)o->room.sample);
    else snprintf(zSample, sizeof zSample, "\"all\"");
    /* alpha <= 0 means the convex hull: no radius at all. */
    if( o->room.alpha > 0 ) snprintf(zRmax, sizeof zRmax, "%.17g", 1.0 / o->room.alpha);
    else snprintf(zRmax, sizeof zRmax, "null");
    n = snprintf(zOut, nOut, "{\"alpha\":%.17g,\"max_circumradius\":%s,\"room_sample\":%s,\"seed\":%llu,\"obb\":\"%s\","
                 "\"min_points\":%d,\"version\":\"%s\"}", o->room.alpha, zRmax, zSample, (unsigned long long)o->room.seed,
                 kind_name(o->obbKind), o->minPoints, SPTT_VERSION);
    assert( n > 0 && (size_t)n < nOut );
    (void)n;
}

int sptt_geometry_scene(sqlite3 *db, const char *zScene, const sptt_geometry_opts *o, sptt_geometry_report *rep)
{
    sqlite3_stmt *st = NULL;
    sptt_scene_row row;
    sptt_pack pack;
    sptt_room room;
    warn_list w = {0};
    obj_row *objs = NULL;
    int nObj = 0, capObj = 0, rc = SPTT_OK, isArkit = 0;
    int64_t sceneId = 0;
    char zParams[512];
    uint32_t *start = NULL, *order = NULL;
    double t0;

    memset(&pack, 0, sizeof pack);
    memset(&room, 0, sizeof room);
    memset(rep, 0, sizeof *rep);

    if( (rc = sptt_scene_get(db, zScene, &row)) ) goto cleanup;
    sceneId = row.id;
    isArkit = strcmp(row.zSource, "arkitscenes")==0;

    rc = sptt_db_prepare(db, "SELECT instance_id, nyu40_id, raw_label FROM objects WHERE scene_id=? ORDER BY instance_id", &st);
    if( rc ) goto cleanup;
    sqlite3_bind_int64(st, 1, sceneId);
    while( sqlite3_step(st)==SQLITE_ROW ){
        obj_row *ob;
        if( nObj==capObj ){
            int cap = capObj ? 2 * capObj : 64;
            obj_row *p = sptt_realloc(objs, (size_t)cap * sizeof(obj_row));
            if( p==NULL ){
                rc = SPTT_ENOMEM;
                goto cleanup;
            }
            objs = p;
            capObj = cap;
        }
        ob = &objs[nObj++];
        memset(ob, 0, sizeof *ob);
        ob->id = sqlite3_column_int(st, 0);
        ob->nyu40 = sqlite3_column_int(st, 1);
        ob->zLabel = strdup((const char *)sqlite3_column_text(st, 2));
        if( ob->zLabel==NULL ){
            rc = sptt_fail(SPTT_ENOMEM, "out of memory");
            goto cleanup;
        }
    }
    sqlite3_finalize(st);
    st = NULL;

    rc = sptt_scene_read_pack(&row, SPTT_PACK_SKIP_IMAGES, &pack);
    if( rc ) goto cleanup;
    if( pack.nSamples > 0 ){
        /* ingest --sample: the uniform surface samples replace the mesh vertices as the point
        ** cloud (schemas/README.md); the faces index the vertices, so they go too. */
        float *x = pack.xyz;
        uint8_t *c = pack.rgb, *l = pack.nyu40;
        uint16_t *in = pack.instance;
        uint64_t n = pack.nPoints;
        pack.xyz = pack.sxyz; pack.sxyz = x;
        pack.rgb = pack.srgb; pack.srgb = c;
        pack.nyu40 = pack.snyu40; pack.snyu40 = l;
        pack.instance = pack.sinstance; pack.sinstance = in;
        pack.nPoints = pack.nSamples; pack.nSamples = n;
        free(pack.faces);
        pack.faces = NULL;
        pack.nFaces = 0;
    }
    t0 = sptt_now();

    rc = sptt_room_compute(pack.xyz, pack.nyu40, (size_t)pack.nPoints, &o->room, &room);
    if( rc ){
        sptt_fail_prefix(rc, "room: ");
        goto cleanup;
    }
    room_warnings(&w, room.flags, &room);

    /* Points grouped by instance: a counting sort of the uint16 ids. */
    start = sptt_calloc(65537, sizeof(uint32_t));
    order = sptt_malloc((size_t)(pack.nPoints ? pack.nPoints : 1) * sizeof(uint32_t));
    if( start==NULL || order==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(uint64_t i = 0; i < pack.nPoints; i++) start[pack.instance[i] + 1]++;
    for(int k = 0; k < 65536; k++) start[k + 1] += start[k];
    {
        uint32_t *fill = sptt_malloc(65536 * sizeof(uint32_t));
        if( fill==NULL ){
            rc = SPTT_ENOMEM;
            goto cleanup;
        }
        memcpy(fill, start, 65536 * sizeof(uint32_t));
        for(uint64_t i = 0; i < pack.nPoints; i++) order[fill[pack.instance[i]]++] = (uint32_t)i;
        free(fill);
    }
    if( isArkit ) read_annotations(pack.zMeta, objs, nObj);

    /* Objects are independent: one per thread, each with its own Qhull. */
#pragma omp parallel for schedule(dynamic, 1)
    for(int i = 0; i < nObj; i++){
        obj_row *ob = &objs[i];
        double *p;
        size_t n;
        if( ob->id < 0 || ob->id > 65535 ) continue;
        n = start[ob->id + 1] - start[ob->id];
        ob->nPts = n;
        ob->structural = sptt_nyu40_is_structure(ob->nyu40);
        if( ob->structural ) continue;
        if( n < (size_t)o->minPoints || n==0 ){
            ob->skipped = 1;
            continue;
        }
        p = sptt_malloc(n * 3 * sizeof(double));
        if( p==NULL ){
            ob->rc = SPTT_ENOMEM;
            continue;
        }
        for(size_t k = 0; k < n; k++){
            const float *q = pack.xyz + 3 * (size_t)order[start[ob->id] + k];
            p[3 * k] = q[0];
            p[3 * k + 1] = q[1];
            p[3 * k + 2] = q[2];
        }
        ob->rc = sptt_obb_fit(p, n, &ob->minimal, &ob->upright);
        ob->hasFit = ob->rc==SPTT_OK;
        if( isArkit && !ob->hasAnno && ob->hasFit ){
            ob->minimal.flags |= SPTT_BOX_NO_ANNOTATION;
            ob->upright.flags |= SPTT_BOX_NO_ANNOTATION;
        }
        free(p);
    }
    for(int i = 0; i < nObj; i++){
        obj_row *ob = &objs[i];
        if( ob->rc ){
            rc = sptt_fail(ob->rc, "instance %d: box fit failed (%s)", ob->id, sptt_errname(ob->rc));
            goto cleanup;
        }
        if( ob->structural ){
            rep->nStructure++;
            continue;
        }
        if( ob->skipped ){
            rep->nSkipped++;
            box_warnings(&w, ob, "", SPTT_BOX_SKIPPED);
            continue;
        }
        rep->nBoxes++;
        if( ob->hasFit ){
            const sptt_box *chosen = o->obbKind==SPTT_OBB_UPRIGHT ? &ob->upright : &ob->minimal;
            box_warnings(&w, ob, kind_name(o->obbKind), chosen->flags);
        }
    }
    rep->seconds = sptt_now() - t0;
    rep->roomArea = room.area;
    rep->roomHeight = room.height;
    if( w.rc ){
        rc = w.rc;
        goto cleanup;
    }

    if( o->zPngDir ){
        char zPng[4096], zTitle[256];
        sptt_box *boxes = sptt_malloc((size_t)(nObj ? nObj : 1) * sizeof(sptt_box));
        uint8_t *cls = sptt_malloc((size_t)(nObj ? nObj : 1));
        int nb = 0;
        if( boxes==NULL || cls==NULL ){
            free(boxes);
            free(cls);
            rc = SPTT_ENOMEM;
            goto cleanup;
        }
        for(int i = 0; i < nObj; i++){
            const obj_row *ob = &objs[i];
            if( !ob->hasFit && !ob->hasAnno ) continue;
            boxes[nb] = ob->hasAnno ? ob->anno : o->obbKind==SPTT_OBB_UPRIGHT ? ob->upright : ob->minimal;
            cls[nb++] = (uint8_t)ob->nyu40;
        }
        snprintf(zTitle, sizeof zTitle, "%s (%s)\narea %.1f m^  height %.2f m  %d %s boxes", zScene, isArkit ? "arkitscenes" : "scannet",
                 room.area, room.height, nb, isArkit ? "annotation" : kind_name(o->obbKind));
        rc = sptt_mkdirs(o->zPngDir);
        if( rc==SPTT_OK ) sptt_clean_stale_tmp(o->zPngDir);
        if( rc==SPTT_OK ) rc = sptt_pathf(zPng, sizeof zPng, "%s/%s.png", o->zPngDir, zScene);
        if( rc==SPTT_OK ){
            sptt_topdown t;
            memset(&t, 0, sizeof t);
            t.xyz = pack.xyz;
            t.nyu40 = pack.nyu40;
            t.n = (size_t)pack.nPoints;
            t.faces = pack.faces;
            t.nFaces = (size_t)pack.nFaces;
            t.room = &room;
            t.boxes = boxes;
            t.boxClass = cls;
            t.nBoxes = nb;
            t.zTitle = zTitle;
            rc = sptt_topdown_png(zPng, &t);
        }
        free(boxes);
        free(cls);
        if( rc ) goto cleanup;
    }

    {
        /* The options, then what the room was drawn from. */
        char zKey[SPTT_GEOMETRY_PARAMS_MAX];
        size_t n;
        sptt_geometry_params_key(o, zKey, sizeof zKey);
        n = strlen(zKey) - 1;   /* without its closing brace */
        snprintf(zParams, sizeof zParams, "%.*s,\"room_points\":%zu,\"room_tiles\":%d}", (int)n, zKey, room.shape.nPoints,
                 room.shape.nTiles);
    }
    rc = write_rows(db, &row, &room, zParams, objs, nObj, o, &w, &rep->invalidated);
    if( rc ) goto cleanup;
    rep->nWarnings = w.n;
    if( !o->quiet )
        for(int i = 0; i < w.n; i++) fprintf(stderr, "sptt-geometry: %s: warning: %s\n", zScene, w.azMsg[i]);
cleanup:
    sqlite3_finalize(st);
    for(int i = 0; i < nObj; i++) free(objs[i].zLabel);
    free(objs);
    free(start);
    free(order);
    warn_free(&w);
    sptt_scene_row_free(&row);
    sptt_room_free(&room);
    sptt_pack_free(&pack);
    if( rc ) sptt_fail_prefix(rc, "%s: ", zScene);
    return rc;
}
