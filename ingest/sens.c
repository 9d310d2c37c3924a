/*
** ScanNet .sens (version 4) reader and writer.
**
** The layout is the official SensorData one: a header with the sensor name, four 4x4 float
** matrices, compression types, image sizes, depth shift and frame count; then per frame a 96-byte
** record (camera-to-world, two microsecond timestamps, two blob sizes) followed by the colour and
** depth blobs; then an IMU block, which the official exporter ignores and so do we.
**
** The reader walks the frame records with seeks and never trusts a size: each blob must fit in
** what is left of the file, so a truncated or corrupt file is refused with the frame and byte
** offset where it went wrong, before any large allocation.
*/
#include "ingest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SENS_VERSION 4
#define FIXED_AFTER_NAME 292
#define FRAME_RECORD 96

void sptt_sens_free(sptt_sens *s)
{
    if( s->fp ) fclose((FILE *)s->fp);
    free(s->frames);
    memset(s, 0, sizeof *s);
}

static int read_at(FILE *fp, const char *zPath, uint64_t off, void *buf, size_t n)
{
    if( fseeko(fp, (off_t)off, SEEK_SET)!=0 || fread(buf, 1, n, fp)!=n ){
        return sptt_fail(SPTT_EFORMAT, "%s: byte %llu: cannot read %zu bytes (truncated?)", zPath, (unsigned long long)off, n);
    }
    return SPTT_OK;
}

int sptt_sens_read(const char *zPath, sptt_sens *s)
{
    FILE *fp = NULL;
    struct stat st;
    int rc;

    memset(s, 0, sizeof *s);
    snprintf(s->zPath, sizeof s->zPath, "%s", zPath);
    if( (rc = sptt_open_regular(zPath, &fp)) ) return rc;
    if( fstat(fileno(fp), &st)!=0 ){
        fclose(fp);
        return sptt_fail(SPTT_EIO, "%s: cannot stat: %s", zPath, strerror(errno));
    }
    return ingest_parse_sens(zPath, fp, (uint64_t)st.st_size, s);
}

int ingest_parse_sens(const char *zPath, FILE *fp, uint64_t size, sptt_sens *s)
{
    int rc = SPTT_OK;
    uint8_t head[12 + 255 + FIXED_AFTER_NAME];
    uint64_t nameLen, at;
    const uint8_t *q;

    memset(s, 0, sizeof *s);
    snprintf(s->zPath, sizeof s->zPath, "%s", zPath);
    s->fp = fp;
    s->fileSize = size;
    rc = read_at(fp, zPath, 0, head, 12);
    if( rc ) goto done;
    if( sptt_le32(head)!=SENS_VERSION ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: byte 0: version %u, expected 4", zPath, sptt_le32(head));
        goto done;
    }
    nameLen = sptt_le64(head + 4);
    if( nameLen > 255 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: byte 4: sensor name length %llu is implausible", zPath, (unsigned long long)nameLen);
        goto done;
    }
    rc = read_at(fp, zPath, 12, head + 12, (size_t)nameLen + FIXED_AFTER_NAME);
    if( rc ) goto done;
    memcpy(s->zSensor, head + 12, (size_t)nameLen);
    s->zSensor[nameLen] = 0;
    q = head + 12 + nameLen;
    for(int i = 0; i < 16; i++){
        s->intrinsicColor[i] = sptt_lef32(q + 4 * i);
        s->extrinsicColor[i] = sptt_lef32(q + 64 + 4 * i);
        s->intrinsicDepth[i] = sptt_lef32(q + 128 + 4 * i);
        s->extrinsicDepth[i] = sptt_lef32(q + 192 + 4 * i);
    }
    s->colorCompression = (int32_t)sptt_le32(q + 256);
    s->depthCompression = (int32_t)sptt_le32(q + 260);
    s->colorWidth = sptt_le32(q + 264);
    s->colorHeight = sptt_le32(q + 268);
    s->depthWidth = sptt_le32(q + 272);
    s->depthHeight = sptt_le32(q + 276);
    s->depthShift = sptt_lef32(q + 280);
    s->nFrames = sptt_le64(q + 284);
    at = 12 + nameLen + FIXED_AFTER_NAME;
    if( s->colorWidth==0 || s->colorHeight==0 || s->colorWidth > SPTT_INGEST_MAX_SIDE || s->colorHeight > SPTT_INGEST_MAX_SIDE ||
        s->depthWidth > SPTT_INGEST_MAX_SIDE || s->depthHeight > SPTT_INGEST_MAX_SIDE ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: byte %llu: image sizes %ux%u / %ux%u are implausible", zPath,
                       (unsigned long long)(at - 28), s->colorWidth, s->colorHeight, s->depthWidth, s->depthHeight);
        goto done;
    }
    /* Each frame needs at least its record: bound the count before allocating. */
    if( s->nFrames > (s->fileSize - at) / FRAME_RECORD ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: byte %llu: %llu frames cannot fit in the %llu bytes left", zPath,
                       (unsigned long long)(at - 8), (unsigned long long)s->nFrames, (unsigned long long)(s->fileSize - at));
        goto done;
    }
    s->frames = sptt_calloc((size_t)s->nFrames ? (size_t)s->nFrames : 1, sizeof(sptt_sens_frame));
    if( s->frames==NULL ){ rc = SPTT_ENOMEM; goto done; }
    for(uint64_t i = 0; i < s->nFrames; i++){
        uint8_t rec[FRAME_RECORD];
        sptt_sens_frame *f = &s->frames[i];
        rc = read_at(fp, zPath, at, rec, FRAME_RECORD);
        if( rc ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: byte %llu: frame %llu record is truncated", zPath, (unsigned long long)at,
                           (unsigned long long)i);
            goto done;
        }
        for(int k = 0; k < 16; k++) f->c2w[k] = sptt_lef32(rec + 4 * k);
        f->tColor = sptt_le64(rec + 64);
        f->tDepth = sptt_le64(rec + 72);
        f->colorSize = sptt_le64(rec + 80);
        f->depthSize = sptt_le64(rec + 88);
        at += FRAME_RECORD;
        if( f->colorSize > s->fileSize - at || f->depthSize > s->fileSize - at - f->colorSize ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: byte %llu: frame %llu declares %llu + %llu image bytes but %llu remain (truncated or corrupt)",
                           zPath, (unsigned long long)(at - 16), (unsigned long long)i, (unsigned long long)f->colorSize,
                           (unsigned long long)f->depthSize, (unsigned long long)(s->fileSize - at));
            goto done;
        }
        f->colorOffset = at;
        f->depthOffset = at + f->colorSize;
        at += f->colorSize + f->depthSize;
    }

done:
    if( rc ) sptt_sens_free(s);
    return rc;
}

int sptt_sens_blob(sptt_sens *s, uint64_t offset, uint64_t size, uint8_t *buf)
{
    if( offset > s->fileSize || size > s->fileSize - offset ){
        return sptt_fail(SPTT_EFORMAT, "%s: byte %llu: blob of %llu bytes runs past the end", s->zPath,
                         (unsigned long long)offset, (unsigned long long)size);
    }
    return read_at((FILE *)s->fp, s->zPath, offset, buf, (size_t)size);
}

/* ---------------------------------------------------------------------------------------------
** Writer
*/
struct sptt_sens_writer {
    sptt_atomic out;
    uint64_t nDeclared;
    uint64_t nWritten;
    int rc;
};

static void put(sptt_sens_writer *w, const void *p, size_t n)
{
    if( w->rc==SPTT_OK ) w->rc = sptt_atomic_write(&w->out, p, n);
}

static void put_u32(sptt_sens_writer *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    put(w, b, 4);
}

static void put_u64(sptt_sens_writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_floats(sptt_sens_writer *w, const float *a, int n)
{
    for(int i = 0; i < n; i++){
        uint32_t u;
        memcpy(&u, &a[i], 4);
        put_u32(w, u);
    }
}

int sptt_sens_create(const char *zPath, const sptt_sens *h, sptt_sens_writer **pw)
{
    sptt_sens_writer *w = sptt_calloc(1, sizeof *w);
    size_t nameLen = strlen(h->zSensor);
    int rc;
    *pw = NULL;
    if( w==NULL ) return SPTT_ENOMEM;
    rc = sptt_atomic_open(&w->out, zPath);
    if( rc ){
        free(w);
        return rc;
    }
    put_u32(w, SENS_VERSION);
    put_u64(w, nameLen);
    put(w, h->zSensor, nameLen);
    put_floats(w, h->intrinsicColor, 16);
    put_floats(w, h->extrinsicColor, 16);
    put_floats(w, h->intrinsicDepth, 16);
    put_floats(w, h->extrinsicDepth, 16);
    put_u32(w, (uint32_t)h->colorCompression);
    put_u32(w, (uint32_t)h->depthCompression);
    put_u32(w, h->colorWidth);
    put_u32(w, h->colorHeight);
    put_u32(w, h->depthWidth);
    put_u32(w, h->depthHeight);
    put_floats(w, &h->depthShift, 1);
    put_u64(w, h->nFrames);
    w->nDeclared = h->nFrames;
    *pw = w;
    return w->rc;
}

int sptt_sens_add_frame(sptt_sens_writer *w, const float *c2w, uint64_t tColor, uint64_t tDepth, const uint8_t *color,
                        uint64_t colorSize, const uint8_t *depth, uint64_t depthSize)
{
    put_floats(w, c2w, 16);
    put_u64(w, tColor);
    put_u64(w, tDepth);
    put_u64(w, colorSize);
    put_u64(w, depthSize);
    put(w, color, (size_t)colorSize);
    put(w, depth, (size_t)depthSize);
    w->nWritten++;
    return w->rc;
}

int sptt_sens_finish(sptt_sens_writer *w, int ok)
{
    int rc = w->rc;
    if( ok && rc==SPTT_OK && w->nWritten!=w->nDeclared ){
        rc = sptt_fail(SPTT_EINVAL, "%s: %llu frames written, %llu declared", w->out.zPath,
                       (unsigned long long)w->nWritten, (unsigned long long)w->nDeclared);
    }
    if( ok && rc==SPTT_OK ){
        put_u64(w, 0);   /* no IMU frames */
        rc = w->rc;
    }
    if( ok && rc==SPTT_OK ) rc = sptt_atomic_commit(&w->out);
    else sptt_atomic_abort(&w->out);
    free(w);
    return rc;
}
