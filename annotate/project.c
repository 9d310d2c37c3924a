/*
** Projection: the aligned mesh rasterised into the scene's frames with a z-buffer, each triangle
** carrying its instance. Per frame and instance: visible pixels and a 2D box (the visibility
** table), optional instance/NYU40 masks, and each object's first appearance.
**
** Frames are independent, so they are projected in parallel; every frame writes only its own
** slots and the results are gathered in frame order, so output does not depend on threads.
*/
#include "annotate.h"
#include "sptt_dataset.h"
#include "sptt_math.h"
#include "sptt_png.h"
#include "sptt_raster.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

void ann_projection_free(ann_projection *p)
{
    free(p->vis);
    free(p->frames);
    memset(p, 0, sizeof *p);
}

/* A triangle's instance: the one at least two of its corners share, else its first corner's.
** Mesh triangles straddling two instances are rare (segment borders) and take one side. */
static int triangle_instance(const sptt_pack *k, uint64_t f)
{
    uint16_t a = k->instance[k->faces[3 * f]], b = k->instance[k->faces[3 * f + 1]], c = k->instance[k->faces[3 * f + 2]];
    if( a==b || a==c ) return a;
    if( b==c ) return b;
    return a;
}

/* The camera of pack frame f at the raster size, intrinsics scaled about pixel corners. */
static void frame_camera(const sptt_frame_info *fr, int w, int h, sptt_camera *cam)
{
    double c2w[16];
    memset(cam, 0, sizeof *cam);
    for(int k = 0; k < 16; k++) c2w[k] = fr->c2w[k];
    sptt_rigid_inverse(c2w, cam->w2c);
    cam->fx = fr->fx * (double)w / fr->width;
    cam->fy = fr->fy * (double)h / fr->height;
    cam->cx = (fr->cx + 0.5) * (double)w / fr->width - 0.5;
    cam->cy = (fr->cy + 0.5) * (double)h / fr->height - 0.5;
    cam->width = w;
    cam->height = h;
    cam->znear = 0.05;
}

int sptt_render_frame(const sptt_pack *p, uint64_t f, int w, int h, const sptt_raster_index *idx, uint8_t *rgb)
{
    sptt_zbuf z;
    sptt_camera cam;
    int rc;
    assert(f < p->nFrames && w > 0 && h > 0);
    if( (rc = sptt_zbuf_init(&z, w, h, 1)) ) return rc;
    frame_camera(&p->frames[f], w, h, &cam);
    sptt_zbuf_clear(&z);
    rc = sptt_rasterize_indexed(p->xyz, p->nPoints, p->faces, p->nFaces, idx, &cam, &z);
    if( rc==SPTT_OK ) rc = sptt_shade_rgb(&z, p->faces, p->rgb, rgb);
    sptt_zbuf_free(&z);
    return rc;
}

/* Per-frame results, gathered in frame order afterwards. */
typedef struct frame_out {
    ann_vis *vis;
    int nVis;
    uint8_t *jpeg;
    size_t jpegSize;
    int rc;
    char zErr[300];
} frame_out;

static int project_frame(const ann_scene *s, const ann_project_opts *o, const uint16_t *triInst,
                         const sptt_raster_index *idx, int f, sptt_zbuf *z, int *counts, int *boxes, int maxId, void *tj,
                         frame_out *out)
{
    const sptt_pack *k = &s->pack;
    sptt_camera cam;
    int rc;
    int W = o->width, H = o->height;
    int nVis = 0;
    uint16_t *mInst = NULL;
    uint8_t *mSem = NULL;

    frame_camera(&k->frames[f], W, H, &cam);
    sptt_zbuf_clear(z);
    rc = sptt_rasterize_indexed(k->xyz, k->nPoints, k->faces, k->nFaces, idx, &cam, z);
    if( rc ) return rc;
    for(int id = 0; id <= maxId; id++){
        counts[id] = 0;
        boxes[4 * id] = W;
        boxes[4 * id + 1] = H;
        boxes[4 * id + 2] = -1;
        boxes[4 * id + 3] = -1;
    }
    if( o->zMaskDir ){
        mInst = sptt_calloc((size_t)W * (size_t)H, 2);
        mSem = sptt_calloc((size_t)W * (size_t)H, 1);
        if( !mInst || !mSem ){ rc = SPTT_ENOMEM; goto done; }
    }
    for(int y = 0; y < H; y++){
        for(int x = 0; x < W; x++){
            int32_t t = z->face[y * W + x];
            int id;
            if( t < 0 ) continue;
            id = triInst[t];
            if( mInst ){
                mInst[y * W + x] = (uint16_t)id;
                /* NYU40 of the triangle's first corner: labels follow instances */
                mSem[y * W + x] = k->nyu40[k->faces[3 * (size_t)t]];
            }
            if( id==0 ) continue;
            if( counts[id]++==0 ) nVis++;
            if( x < boxes[4 * id] ) boxes[4 * id] = x;
            if( y < boxes[4 * id + 1] ) boxes[4 * id + 1] = y;
            if( x > boxes[4 * id + 2] ) boxes[4 * id + 2] = x;
            if( y > boxes[4 * id + 3] ) boxes[4 * id + 3] = y;
        }
    }
    out->vis = sptt_malloc(sizeof(ann_vis) * (size_t)(nVis + 1));
    if( out->vis==NULL ){ rc = SPTT_ENOMEM; goto done; }
    for(int id = 1; id <= maxId; id++){
        if( counts[id]==0 ) continue;
        ann_vis *v = &out->vis[out->nVis++];
        v->frame = f;
        v->instance = id;
        v->pixels = counts[id];
        v->x0 = boxes[4 * id];
        v->y0 = boxes[4 * id + 1];
        v->x1 = boxes[4 * id + 2];
        v->y1 = boxes[4 * id + 3];
    }
    if( o->zMaskDir ){
        char zPath[1200];
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s/instance/%06d.png", o->zMaskDir, s->zName, f)) ) goto done;
        if( (rc = sptt_png_write(zPath, mInst, W, H, 1, 16)) ) goto done;
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s/label/%06d.png", o->zMaskDir, s->zName, f)) ) goto done;
        if( (rc = sptt_png_write(zPath, mSem, W, H, 1, 8)) ) goto done;
    }
    if( tj ){
        /* Render at the render size: a second raster, with barycentrics, from vertex colours. */
        uint8_t *rgb = sptt_malloc((size_t)o->renderW * (size_t)o->renderH * 3);
        unsigned char *buf = NULL;
        unsigned long n = 0;
        if( rgb==NULL ){ rc = SPTT_ENOMEM; goto done; }
        rc = sptt_render_frame(k, (uint64_t)f, o->renderW, o->renderH, idx, rgb);
        if( rc==SPTT_OK && tjCompress2(tj, rgb, o->renderW, 0, o->renderH, TJPF_RGB, &buf, &n, TJSAMP_420, 90, 0)!=0 ){
            rc = sptt_fail(SPTT_EIO, "jpeg: %s", tjGetErrorStr2(tj));
        }
        if( rc==SPTT_OK ){
            out->jpeg = sptt_malloc(n);
            if( out->jpeg==NULL ) rc = SPTT_ENOMEM;
            else{
                memcpy(out->jpeg, buf, n);
                out->jpegSize = n;
            }
        }
        tjFree(buf);
        free(rgb);
    }

done:
    free(mInst);
    free(mSem);
    return rc;
}

/* Replaces the pack file with one that carries the rendered frames (same name, atomically). */
static int store_rendered(ann_scene *s, const ann_project_opts *o, frame_out *fo)
{
    sptt_pack *k = &s->pack;
    size_t total = 0, at = 0;
    for(uint64_t f = 0; f < k->nFrames; f++) total += fo[f].jpegSize;
    free(k->imgOffsets);
    free(k->imgData);
    k->imgOffsets = sptt_malloc(sizeof(uint64_t) * (size_t)(k->nFrames + 1));
    k->imgData = sptt_malloc(total + 1);
    if( !k->imgOffsets || !k->imgData ) return SPTT_ENOMEM;
    for(uint64_t f = 0; f < k->nFrames; f++){
        k->imgOffsets[f] = at;
        memcpy(k->imgData + at, fo[f].jpeg, fo[f].jpegSize);
        at += fo[f].jpegSize;
    }
    k->imgOffsets[k->nFrames] = at;
    k->imgEncoding = SPTT_IMG_JPEG;
    k->imgWidth = (uint32_t)o->renderW;
    k->imgHeight = (uint32_t)o->renderH;
    {
        /* A run killed while writing a pack left it under its temporary name; the rerun renders
        ** that scene again but writes its own temporary, so the old one goes here (once per
        ** folder and process, as ingest does it). */
        static char zCleaned[SPTT_PATH_MAX];
        char zDir[SPTT_PATH_MAX];
        const char *slash = strrchr(o->zPackPath, '/');
        if( slash && (size_t)(slash - o->zPackPath) < sizeof zDir ){
            snprintf(zDir, sizeof zDir, "%.*s", (int)(slash - o->zPackPath), o->zPackPath);
            if( strcmp(zDir, zCleaned)!=0 ){
                sptt_clean_stale_tmp(zDir);
                snprintf(zCleaned, sizeof zCleaned, "%s", zDir);
            }
        }
    }
    return sptt_pack_write(o->zPackPath, k, 3);
}

/* Rendered frames use the render size, so the trajectory's intrinsics follow it. They are changed
** before anything is projected: every later run reads these float values back from the pack, and
** projecting from the same values is what makes it find the same pixels as the run that rendered. */
static void scale_to_render_size(sptt_pack *k, const ann_project_opts *o)
{
    for(uint64_t f = 0; f < k->nFrames; f++){
        sptt_frame_info *fr = &k->frames[f];
        fr->fx = (float)(fr->fx * (double)o->renderW / fr->width);
        fr->fy = (float)(fr->fy * (double)o->renderH / fr->height);
        fr->cx = (float)((fr->cx + 0.5) * (double)o->renderW / fr->width - 0.5);
        fr->cy = (float)((fr->cy + 0.5) * (double)o->renderH / fr->height - 0.5);
        fr->width = (uint32_t)o->renderW;
        fr->height = (uint32_t)o->renderH;
    }
}

int ann_project(ann_scene *s, const ann_project_opts *o, ann_projection *p)
{
    const sptt_pack *k = &s->pack;
    int rc = SPTT_OK;
    uint16_t *triInst = NULL;
    sptt_raster_index idx;
    frame_out *fo = NULL;
    int maxId = 0;
    int nAll = (int)k->nFrames;
    int render = o->renderW > 0 && k->imgEncoding==SPTT_IMG_NONE && nAll > 0;
    char zErr[300] = "";

    memset(p, 0, sizeof *p);
    memset(&idx, 0, sizeof idx);
    for(int i = 0; i < s->nObj; i++){
        s->obj[i].firstFrame = -1;
        s->obj[i].firstTime = NAN;
        s->obj[i].maxPixels = 0;
        if( s->obj[i].id > maxId ) maxId = s->obj[i].id;
    }
    if( nAll==0 || k->nFaces==0 ) return SPTT_OK;

    /* Which frames: all, or n spread evenly from the first to the last (rendering needs all). */
    p->nFrames = (o->nFrames > 0 && o->nFrames < nAll && !render) ? o->nFrames : nAll;
    p->frames = sptt_malloc(sizeof(int) * (size_t)p->nFrames);
    triInst = sptt_malloc(sizeof(uint16_t) * (size_t)k->nFaces);
    fo = sptt_calloc((size_t)nAll, sizeof *fo);
    if( !p->frames || !triInst || !fo ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < p->nFrames; i++){
        p->frames[i] = p->nFrames==nAll ? i : (int)llround((double)i * (nAll - 1) / (p->nFrames > 1 ? p->nFrames - 1 : 1));
    }
    for(uint64_t f = 0; f < k->nFaces; f++){
        triInst[f] = (uint16_t)triangle_instance(k, f);
        /* the pack may hold instances the objects table lacks; count them all safely */
        if( triInst[f] > maxId ) maxId = triInst[f];
    }
    if( render ) scale_to_render_size(&s->pack, o);
    if( (rc = sptt_raster_index_build(k->xyz, k->nPoints, k->faces, k->nFaces, &idx)) ) goto done;
    if( o->zMaskDir ){
        char zPath[1200];
        /* Masks a killed run left half-written are removed as the folders are reused. */
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s/instance", o->zMaskDir, s->zName)) || (rc = sptt_mkdirs(zPath)) ) goto done;
        sptt_clean_stale_tmp(zPath);
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s/label", o->zMaskDir, s->zName)) || (rc = sptt_mkdirs(zPath)) ) goto done;
        sptt_clean_stale_tmp(zPath);
    }

    {
        int failed = SPTT_OK;
        sptt_progress prog;
        sptt_progress_start(&prog, render ? "frames projected and rendered" : "frames projected", (uint64_t)p->nFrames);
        #pragma omp parallel
        {
            sptt_zbuf z;
            int *counts = malloc(sizeof(int) * (size_t)(maxId + 1));
            int *boxes = malloc(sizeof(int) * 4 * (size_t)(maxId + 1));
            tjhandle tj = render ? tjInitCompress() : NULL;
            int ok = counts && boxes && (!render || tj) && sptt_zbuf_init(&z, o->width, o->height, 0)==SPTT_OK;
            #pragma omp for schedule(dynamic, 4)
            for(int i = 0; i < p->nFrames; i++){
                int f = p->frames[i];
                int r2 = ok ? project_frame(s, o, triInst, &idx, f, &z, counts, boxes, maxId, tj, &fo[f]) : SPTT_ENOMEM;
                #pragma omp critical(progress)
                sptt_progress_step(&prog, 1);
                if( r2 ){
                    #pragma omp critical
                    {
                        if( failed==SPTT_OK ){
                            failed = r2;
                            snprintf(zErr, sizeof zErr, "%s", r2==SPTT_ENOMEM && !ok ? "out of memory" : sptt_errmsg());
                        }
                    }
                }
            }
            if( ok ) sptt_zbuf_free(&z);
            free(counts);
            free(boxes);
            if( tj ) tjDestroy(tj);
        }
        sptt_progress_end(&prog);
        if( failed ){
            rc = sptt_fail(failed, "projection: %s", zErr);
            goto done;
        }
    }

    /* Gather in frame order and find each object's first appearance. */
    for(int i = 0; i < p->nFrames; i++){
        frame_out *o2 = &fo[p->frames[i]];
        for(int j = 0; j < o2->nVis; j++){
            const ann_vis *v = &o2->vis[j];
            ann_object *ob = ann_object_by_id(s, v->instance);
            if( p->nVis==p->capVis ){
                size_t cap = p->capVis ? 2 * p->capVis : 1024;
                ann_vis *g = sptt_realloc(p->vis, sizeof *g * cap);
                if( g==NULL ){ rc = SPTT_ENOMEM; goto done; }
                p->vis = g;
                p->capVis = cap;
            }
            p->vis[p->nVis++] = *v;
            if( ob==NULL ) continue;
            if( v->pixels > ob->maxPixels ) ob->maxPixels = v->pixels;
            if( ob->firstFrame < 0 && v->pixels >= o->minPixels ){
                ob->firstFrame = v->frame;
                ob->firstTime = k->frames[v->frame].timestamp;
            }
        }
    }
    if( render ) rc = store_rendered(s, o, fo);

done:
    if( fo ){
        for(int f = 0; f < nAll; f++){
            free(fo[f].vis);
            free(fo[f].jpeg);
        }
    }
    free(fo);
    free(triInst);
    sptt_raster_index_free(&idx);
    if( rc ) ann_projection_free(p);
    return rc;
}
