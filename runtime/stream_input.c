/*
** The inputs of a stream (sptt_stream_input.h): frames from a scene pack, a folder of PNGs or raw
** RGB on standard input, each resized to the model's frame size; questions with the frame count
** they are asked after.
*/
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_image.h"
#include "sptt_stream_input.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* ---------------------------------------------------------------------------------------------
** Frame sources: each gives the next frame as RGB bytes at the model's size, or 0 at the end.
*/
struct sptt_frame_source {
    int kind;                 /* 0 scene pack, 1 PNG folder, 2 raw stdin */
    int W, H;                 /* the model's frame size */
    int64_t i, n;             /* next frame, frames in all (raw: unknown, -1) */
    sqlite3 *db;              /* scene */
    sptt_scene_row row;
    sptt_pack pack;
    tjhandle tj;
    const char *zScene;
    const char *zDir;         /* folder */
    struct dirent **aEnt;
    int rawW, rawH;           /* raw */
    uint8_t *buf;             /* a source frame before resizing */
};

static int png_name(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcasecmp(e->d_name + n - 4, ".png")==0;
}

void sptt_frame_source_free(sptt_frame_source *s)
{
    if( s==NULL ) return;
    if( s->kind==0 ){
        sptt_pack_free(&s->pack);
        sptt_scene_row_free(&s->row);
        sptt_dataset_close(s->db);
        if( s->tj ) tjDestroy(s->tj);
    }
    if( s->aEnt ){
        for(int64_t i = 0; i < s->n; i++) free(s->aEnt[i]);
        free(s->aEnt);
    }
    free(s->buf);
    free(s);
}

static int open_scene(sptt_frame_source *s, const char *zDb, const char *zScene, int64_t maxFrames)
{
    int rc;
    s->zScene = zScene;
    memset(&s->pack, 0, sizeof s->pack);
    if( (rc = sptt_dataset_open(zDb, SPTT_DB_READONLY, &s->db)) ) return rc;
    if( (rc = sptt_scene_get(s->db, zScene, &s->row)) ) return rc;
    if( (rc = sptt_scene_read_pack(&s->row, 0, &s->pack)) ) return rc;
    if( s->pack.nFrames==0 || s->pack.imgEncoding==SPTT_IMG_NONE ){
        return sptt_fail(SPTT_ESTATE, "scene '%s': its pack has no frame images (render them with sptt-annotate "
                         "--render-frames)", zScene);
    }
    if( s->pack.imgEncoding!=SPTT_IMG_JPEG && s->pack.imgEncoding!=SPTT_IMG_RGB8 ){
        return sptt_fail(SPTT_EFORMAT, "scene '%s': pack image encoding %u is not one this toolkit reads", zScene,
                         s->pack.imgEncoding);
    }
    if( (s->tj = tjInitDecompress())==NULL ) return sptt_fail(SPTT_ENOMEM, "turbojpeg: %s", tjGetErrorStr2(NULL));
    s->n = (int64_t)s->pack.nFrames;
    if( maxFrames > 0 && maxFrames < s->n ) s->n = maxFrames;
    return SPTT_OK;
}

static int open_dir(sptt_frame_source *s, const char *zDir, int64_t maxFrames)
{
    s->zDir = zDir;
    int n = scandir(zDir, &s->aEnt, png_name, alphasort);
    if( n < 0 ){
        s->aEnt = NULL;
        return sptt_fail(SPTT_EIO, "%s: %s", zDir, strerror(errno));
    }
    s->n = n;
    if( n==0 ) return sptt_fail(SPTT_EINVAL, "%s: no .png files", zDir);
    if( maxFrames > 0 && maxFrames < s->n ){
        for(int64_t i = maxFrames; i < s->n; i++) free(s->aEnt[i]);
        s->n = maxFrames;
    }
    return SPTT_OK;
}

/* A source of kind k at frame size W x H, zeroed; NULL when out of memory. */
static sptt_frame_source *source_new(int kind, int W, int H)
{
    sptt_frame_source *s = sptt_malloc(sizeof *s);
    if( s ){
        memset(s, 0, sizeof *s);
        s->kind = kind;
        s->W = W;
        s->H = H;
    }
    return s;
}

/* Hands s over on success; frees it and clears *pp on failure. */
static int source_done(int rc, sptt_frame_source *s, sptt_frame_source **pp)
{
    if( rc ){
        sptt_frame_source_free(s);
        s = NULL;
    }
    *pp = s;
    return rc;
}

int sptt_frame_source_scene(const char *zDb, const char *zScene, int W, int H, int64_t maxFrames, sptt_frame_source **pp)
{
    sptt_frame_source *s = source_new(0, W, H);
    if( s==NULL ) return source_done(SPTT_ENOMEM, s, pp);
    return source_done(open_scene(s, zDb, zScene, maxFrames), s, pp);
}

int sptt_frame_source_dir(const char *zDir, int W, int H, int64_t maxFrames, sptt_frame_source **pp)
{
    sptt_frame_source *s = source_new(1, W, H);
    if( s==NULL ) return source_done(SPTT_ENOMEM, s, pp);
    return source_done(open_dir(s, zDir, maxFrames), s, pp);
}

int sptt_frame_source_raw(int rawW, int rawH, int W, int H, int64_t maxFrames, sptt_frame_source **pp)
{
    sptt_frame_source *s = source_new(2, W, H);
    int rc = SPTT_OK;
    if( s==NULL ) return source_done(SPTT_ENOMEM, s, pp);
    s->rawW = rawW;
    s->rawH = rawH;
    s->n = maxFrames > 0 ? maxFrames : -1;
    if( (s->buf = sptt_malloc((size_t)rawW * rawH * 3))==NULL ) rc = SPTT_ENOMEM;
    return source_done(rc, s, pp);
}

int sptt_frame_source_next(sptt_frame_source *s, uint8_t *rgb, int *pGot)
{
    int rc = SPTT_OK;
    *pGot = 0;
    if( s->n >= 0 && s->i >= s->n ) return SPTT_OK;
    if( s->kind==0 ){
        const sptt_pack *p = &s->pack;
        const uint8_t *a = p->imgData + p->imgOffsets[s->i];
        size_t len = (size_t)(p->imgOffsets[s->i + 1] - p->imgOffsets[s->i]);
        if( p->imgEncoding==SPTT_IMG_JPEG ){
            char zWhat[SPTT_SCENE_NAME_MAX + 48];
            snprintf(zWhat, sizeof zWhat, "scene '%s' frame %lld", s->zScene, (long long)s->i);
            rc = sptt_image_jpeg_to_rgb(s->tj, a, len, (int)p->imgWidth, (int)p->imgHeight, s->W, s->H, rgb, zWhat);
        }else{
            rc = sptt_image_resize_rgb(a, (int)p->imgWidth, (int)p->imgHeight, rgb, s->W, s->H);
        }
    }else if( s->kind==1 ){
        char zPath[4096];
        png_image img;
        memset(&img, 0, sizeof img);
        img.version = PNG_IMAGE_VERSION;
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s", s->zDir, s->aEnt[s->i]->d_name)) ) return rc;
        if( !png_image_begin_read_from_file(&img, zPath) ) return sptt_fail(SPTT_EFORMAT, "%s: %s", zPath, img.message);
        img.format = PNG_FORMAT_RGB;
        free(s->buf);
        if( (s->buf = sptt_malloc((size_t)PNG_IMAGE_SIZE(img)))==NULL ){
            png_image_free(&img);
            return SPTT_ENOMEM;
        }
        if( !png_image_finish_read(&img, NULL, s->buf, 0, NULL) ) return sptt_fail(SPTT_EFORMAT, "%s: %s", zPath, img.message);
        rc = sptt_image_resize_rgb(s->buf, (int)img.width, (int)img.height, rgb, s->W, s->H);
        if( rc ) sptt_fail_prefix(rc, "%s: ", zPath);
    }else{
        size_t need = (size_t)s->rawW * s->rawH * 3;
        size_t got = fread(s->buf, 1, need, stdin);
        if( got==0 && feof(stdin) ) return SPTT_OK;
        if( got!=need ){
            return sptt_fail(SPTT_EFORMAT, "stdin: frame %lld: %zu bytes of %zu (offset %lld)", (long long)s->i, got, need,
                             (long long)(s->i * (int64_t)need + (int64_t)got));
        }
        rc = sptt_image_resize_rgb(s->buf, s->rawW, s->rawH, rgb, s->W, s->H);
    }
    if( rc==SPTT_OK ){
        s->i++;
        *pGot = 1;
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Questions.
*/
int sptt_questions_add(sptt_questions *q, int64_t at, const char *zText)
{
    sptt_question *a = realloc(q->a, sizeof(sptt_question) * (size_t)(q->n + 1));
    if( !a ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    q->a = a;
    a[q->n].at = at;
    a[q->n].seq = q->n;
    if( (a[q->n].zText = strdup(zText))==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    q->n++;
    return SPTT_OK;
}

int sptt_questions_read(FILE *f, const char *zName, sptt_questions *q)
{
    char *zLine = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineNo = 0;
    int rc = SPTT_OK;
    while( rc==SPTT_OK && (len = getline(&zLine, &cap, f)) >= 0 ){
        lineNo++;
        while( len > 0 && (zLine[len - 1]=='\n' || zLine[len - 1]=='\r') ) zLine[--len] = 0;
        char *z = zLine;
        while( *z==' ' || *z=='\t' ) z++;
        if( *z==0 || *z=='#' ) continue;
        char *zEnd;
        errno = 0;
        long long at = strtoll(z, &zEnd, 10);
        if( zEnd==z || errno || at < 0 || (*zEnd!=' ' && *zEnd!='\t') ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: line %lld: expected \"N question\" (N the frames before it)", zName,
                           (long long)lineNo);
            break;
        }
        while( *zEnd==' ' || *zEnd=='\t' ) zEnd++;
        rc = sptt_questions_add(q, at, zEnd);
    }
    free(zLine);
    return rc;
}

static int question_cmp(const void *a, const void *b)
{
    const sptt_question *x = a, *y = b;
    if( x->at!=y->at ) return x->at < y->at ? -1 : 1;
    return x->seq - y->seq;
}

void sptt_questions_sort(sptt_questions *q)
{
    if( q->n > 1 ) qsort(q->a, (size_t)q->n, sizeof *q->a, question_cmp);
}

void sptt_questions_free(sptt_questions *q)
{
    for(int i = 0; i < q->n; i++) free(q->a[i].zText);
    free(q->a);
    memset(q, 0, sizeof *q);
}
