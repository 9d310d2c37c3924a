/*
** Scene pack codec: one file per scene holding its labelled point cloud, mesh faces, camera walk
** and optional frames, each section a zstd frame with its own CRC-32. The byte layout is in
** schemas/README.md; the constants below are its C twin.
**
** The reader trusts nothing: every offset, size, count and decoded value is checked, and the
** first inconsistency is reported with the section it was found in.
*/
#include "sptt_common.h"
#include "sptt_schemas.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_d_forceIgnoreChecksum */
#endif
#include <zstd.h>

/*
** The fuzz build (make fuzz) ignores the outcome of the CRC-32 and zstd checksum comparisons,
** and only those: a mutated input would almost never get past them, and every check behind them
** is what the fuzzer is there to reach. Never defined in the tools or the tests.
*/
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CHECKSUMS_ENFORCED 0
#else
#define CHECKSUMS_ENFORCED 1
#endif

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the pack codec copies little-endian arrays as is");

#define HEADER_SIZE 32
#define ENTRY_SIZE  48
#define TRAJ_RECORD 104
#define IMGS_HEAD   16
#define MAX_SECTIONS 16

enum { SEC_META, SEC_PNTS, SEC_FACE, SEC_TRAJ, SEC_IMGS, SEC_SAMP, SEC_COUNT };
static const char azId[SEC_COUNT][5] = { "META", "PNTS", "FACE", "TRAJ", "IMGS", "SAMP" };
static const char *const azName[SEC_COUNT] = { "meta", "points", "faces", "trajectory", "images", "samples" };

typedef struct entry {
    int kind;
    uint64_t offset, stored, raw, count;
    uint32_t crc;
} entry;

/* ---------------------------------------------------------------------------------------------
** Writing
*/
static uint32_t crc32_big(uint32_t crc, const uint8_t *p, size_t n)
{
    while( n ){
        size_t piece = n > (1u << 30) ? (1u << 30) : n;
        crc = (uint32_t)crc32(crc, p, (uInt)piece);
        p += piece;
        n -= piece;
    }
    return crc;
}

static int compress_into(sptt_buf *out, ZSTD_CCtx *cctx, const uint8_t *raw, size_t n, entry *e)
{
    size_t bound = ZSTD_compressBound(n);
    size_t at = out->n;
    size_t got;
    uint8_t *q;
    if( out->rc ) return out->rc;
    q = sptt_realloc(out->p, at + bound);
    if( q==NULL ) return out->rc = SPTT_ENOMEM;
    out->p = q;
    out->cap = at + bound;
    got = ZSTD_compress2(cctx, out->p + at, bound, raw, n);
    if( ZSTD_isError(got) ) return sptt_fail(SPTT_EIO, "zstd: %s", ZSTD_getErrorName(got));
    out->n = at + got;
    e->stored = got;
    e->raw = n;
    e->crc = crc32_big(0, out->p + at, got);
    return SPTT_OK;
}

static void put_frame(uint8_t *q, const sptt_frame_info *f)
{
    memcpy(q, f->c2w, 64);
    memcpy(q + 64, &f->timestamp, 8);
    memcpy(q + 72, &f->fx, 4);
    memcpy(q + 76, &f->fy, 4);
    memcpy(q + 80, &f->cx, 4);
    memcpy(q + 84, &f->cy, 4);
    memcpy(q + 88, &f->width, 4);
    memcpy(q + 92, &f->height, 4);
    memcpy(q + 96, &f->sourceIndex, 4);
    memset(q + 100, 0, 4);
}

static void get_frame(const uint8_t *q, sptt_frame_info *f)
{
    memcpy(f->c2w, q, 64);
    memcpy(&f->timestamp, q + 64, 8);
    memcpy(&f->fx, q + 72, 4);
    memcpy(&f->fy, q + 76, 4);
    memcpy(&f->cx, q + 80, 4);
    memcpy(&f->cy, q + 84, 4);
    memcpy(&f->width, q + 88, 4);
    memcpy(&f->height, q + 92, 4);
    memcpy(&f->sourceIndex, q + 96, 4);
}

/* Lays out one section's raw bytes in a fresh buffer. */
static int build_raw(int kind, const sptt_pack *p, uint8_t **pRaw, size_t *pN, uint64_t *pCount)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    switch( kind ){
    case SEC_META:
        n = strlen(p->zMeta);
        *pCount = 1;
        raw = sptt_malloc(n);
        if( raw ) memcpy(raw, p->zMeta, n);
        break;
    case SEC_PNTS:
    case SEC_SAMP: {
        int s = kind==SEC_SAMP;
        size_t N = (size_t)(s ? p->nSamples : p->nPoints);
        n = sptt_mul_size(N, 18);
        *pCount = N;
        raw = sptt_malloc(n);
        if( raw ){
            memcpy(raw, s ? p->sxyz : p->xyz, N * 12);
            memcpy(raw + N * 12, s ? p->srgb : p->rgb, N * 3);
            memcpy(raw + N * 15, s ? p->sinstance : p->instance, N * 2);
            memcpy(raw + N * 17, s ? p->snyu40 : p->nyu40, N);
        }
        break;
    }
    case SEC_FACE:
        n = sptt_mul_size((size_t)p->nFaces, 12);
        *pCount = p->nFaces;
        raw = sptt_malloc(n);
        if( raw ) memcpy(raw, p->faces, n);
        break;
    case SEC_TRAJ:
        n = sptt_mul_size((size_t)p->nFrames, TRAJ_RECORD);
        *pCount = p->nFrames;
        raw = sptt_malloc(n);
        if( raw ) for(uint64_t i = 0; i < p->nFrames; i++) put_frame(raw + i * TRAJ_RECORD, &p->frames[i]);
        break;
    case SEC_IMGS: {
        size_t nOff = ((size_t)p->nFrames + 1) * 8;
        size_t nData = (size_t)p->imgOffsets[p->nFrames];
        n = IMGS_HEAD + nOff + nData;
        *pCount = p->nFrames;
        raw = sptt_malloc(n);
        if( raw ){
            uint32_t h[4] = { p->imgEncoding, p->imgWidth, p->imgHeight, 0 };
            memcpy(raw, h, IMGS_HEAD);
            memcpy(raw + IMGS_HEAD, p->imgOffsets, nOff);
            memcpy(raw + IMGS_HEAD + nOff, p->imgData, nData);
        }
        break;
    }
    }
    if( raw==NULL ) return SPTT_ENOMEM;
    *pRaw = raw;
    *pN = n;
    return SPTT_OK;
}

int sptt_pack_write(const char *zPath, const sptt_pack *p, int level)
{
    int rc = SPTT_OK;
    ZSTD_CCtx *cctx = NULL;
    sptt_buf body = {0};
    sptt_buf head = {0};
    entry aE[SEC_COUNT];
    int nE = 0;
    uint8_t *raw = NULL;
    sptt_atomic a;
    int atomicOpen = 0;

    if( p->zMeta==NULL ) return sptt_fail(SPTT_EINVAL, "%s: pack has no metadata", zPath);
    if( p->nPoints && (!p->xyz || !p->rgb || !p->instance || !p->nyu40) ){
        return sptt_fail(SPTT_EINVAL, "%s: pack points are incomplete", zPath);
    }
    if( p->nFrames && p->frames==NULL ) return sptt_fail(SPTT_EINVAL, "%s: pack frames missing", zPath);
    if( p->nSamples && (!p->sxyz || !p->srgb || !p->sinstance || !p->snyu40) ){
        return sptt_fail(SPTT_EINVAL, "%s: pack samples are incomplete", zPath);
    }
    if( p->imgEncoding!=SPTT_IMG_NONE && (p->imgOffsets==NULL || p->nFrames==0) ){
        return sptt_fail(SPTT_EINVAL, "%s: pack images without frames", zPath);
    }
    cctx = ZSTD_createCCtx();
    if( cctx==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "zstd: cannot create context"); goto done; }
    /* One worker thread count for every run: compressed bytes differ between settings, and
    ** packs should be byte-identical for identical inputs. */
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);

    for(int k = 0; k < SEC_COUNT; k++){
        size_t n = 0;
        entry *e;
        if( k==SEC_FACE && p->nFaces==0 ) continue;
        if( k==SEC_TRAJ && p->nFrames==0 ) continue;
        if( k==SEC_IMGS && p->imgEncoding==SPTT_IMG_NONE ) continue;
        if( k==SEC_SAMP && p->nSamples==0 ) continue;
        e = &aE[nE++];
        memset(e, 0, sizeof *e);
        e->kind = k;
        rc = build_raw(k, p, &raw, &n, &e->count);
        if( rc ) goto done;
        e->offset = body.n;   /* relative for now; made absolute once the table size is known */
        rc = compress_into(&body, cctx, raw, n, e);
        if( rc ){ rc = sptt_fail_prefix(rc, "%s: section '%s': ", zPath, azName[k]); goto done; }
        free(raw);
        raw = NULL;
    }

    {
        uint64_t base = HEADER_SIZE + (uint64_t)nE * ENTRY_SIZE;
        uint64_t total = base + body.n;
        uint32_t crc;
        sptt_buf_put(&head, SPTT_PACK_MAGIC, 8);
        sptt_buf_u32(&head, SPTT_PACK_VERSION);
        sptt_buf_u32(&head, (uint32_t)nE);
        sptt_buf_u64(&head, total);
        sptt_buf_u32(&head, 0);   /* CRC placeholder */
        sptt_buf_u32(&head, 0);
        for(int i = 0; i < nE; i++){
            sptt_buf_put(&head, azId[aE[i].kind], 4);
            sptt_buf_u32(&head, 0);
            sptt_buf_u64(&head, base + aE[i].offset);
            sptt_buf_u64(&head, aE[i].stored);
            sptt_buf_u64(&head, aE[i].raw);
            sptt_buf_u64(&head, aE[i].count);
            sptt_buf_u32(&head, aE[i].crc);
            sptt_buf_u32(&head, 0);
        }
        if( head.rc ){ rc = head.rc; goto done; }
        crc = crc32_big(0, head.p, 24);
        crc = crc32_big(crc, head.p + HEADER_SIZE, head.n - HEADER_SIZE);
        memcpy(head.p + 24, &crc, 4);
    }

    rc = sptt_atomic_open(&a, zPath);
    if( rc ) goto done;
    atomicOpen = 1;
    rc = sptt_atomic_write(&a, head.p, head.n);
    if( rc==SPTT_OK ) rc = sptt_atomic_write(&a, body.p, body.n);
    if( rc==SPTT_OK ){
        atomicOpen = 0;
        rc = sptt_atomic_commit(&a);
    }

done:
    if( atomicOpen ) sptt_atomic_abort(&a);
    free(raw);
    sptt_buf_free(&body);
    sptt_buf_free(&head);
    ZSTD_freeCCtx(cctx);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Reading
*/
void sptt_pack_free(sptt_pack *p)
{
    free(p->zMeta);
    free(p->xyz);
    free(p->rgb);
    free(p->instance);
    free(p->nyu40);
    free(p->faces);
    free(p->frames);
    free(p->imgOffsets);
    free(p->imgData);
    free(p->sxyz);
    free(p->srgb);
    free(p->sinstance);
    free(p->snyu40);
    memset(p, 0, sizeof *p);
}

static const char *section_name(int kind)
{
    return kind >= 0 && kind < SEC_COUNT ? azName[kind] : "?";
}

static int section_fail(const char *zPath, const entry *e, const char *zWhy)
{
    return sptt_fail(SPTT_ECORRUPT, "%s: section '%s' at byte %llu: %s", zPath, section_name(e->kind),
                     (unsigned long long)e->offset, zWhy);
}

static int decompress_section(const char *zPath, const uint8_t *file, const entry *e, uint8_t **pRaw)
{
    const uint8_t *src = file + e->offset;
    unsigned long long declared;
    uint32_t crc;
    uint8_t *raw;
    size_t got;
    char zWhy[160];

    crc = crc32_big(0, src, (size_t)e->stored);
    if( crc!=e->crc && CHECKSUMS_ENFORCED ){
        snprintf(zWhy, sizeof zWhy, "checksum mismatch (table 0x%08x, data 0x%08x)", e->crc, crc);
        return section_fail(zPath, e, zWhy);
    }
    declared = ZSTD_getFrameContentSize(src, (size_t)e->stored);
    if( declared==ZSTD_CONTENTSIZE_ERROR || declared==ZSTD_CONTENTSIZE_UNKNOWN || declared!=e->raw ){
        return section_fail(zPath, e, "zstd frame size disagrees with the table");
    }
    raw = sptt_malloc((size_t)e->raw);
    if( raw==NULL ) return SPTT_ENOMEM;
#if CHECKSUMS_ENFORCED
    got = ZSTD_decompress(raw, (size_t)e->raw, src, (size_t)e->stored);
#else
    {
        ZSTD_DCtx *dctx = ZSTD_createDCtx();
        if( dctx==NULL ){
            free(raw);
            return SPTT_ENOMEM;
        }
        ZSTD_DCtx_setParameter(dctx, ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
        got = ZSTD_decompressDCtx(dctx, raw, (size_t)e->raw, src, (size_t)e->stored);
        ZSTD_freeDCtx(dctx);
    }
#endif
    if( ZSTD_isError(got) || got!=e->raw ){
        snprintf(zWhy, sizeof zWhy, "zstd: %s", ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short output");
        free(raw);
        return section_fail(zPath, e, zWhy);
    }
    *pRaw = raw;
    return SPTT_OK;
}

int sptt_frame_pose_ok(const float *m, char *zWhy, size_t nWhy)
{
    double det;
    /* Camera-to-world must be a rotation plus translation: orthonormal 3x3, last row 0 0 0 1. */
    for(int i = 0; i < 16; i++){
        if( !isfinite(m[i]) ){
            snprintf(zWhy, nWhy, "entry %d is not finite", i);
            return 0;
        }
    }
    if( fabsf(m[12]) > 1e-6f || fabsf(m[13]) > 1e-6f || fabsf(m[14]) > 1e-6f || fabsf(m[15] - 1) > 1e-6f ){
        snprintf(zWhy, nWhy, "last row is %g %g %g %g, not 0 0 0 1", m[12], m[13], m[14], m[15]);
        return 0;
    }
    for(int i = 0; i < 3; i++){
        for(int j = i; j < 3; j++){
            double d = 0;
            for(int k = 0; k < 3; k++) d += (double)m[4 * k + i] * m[4 * k + j];
            if( fabs(d - (i==j)) > SPTT_FRAME_ROT_TOL ){
                snprintf(zWhy, nWhy, "is not rigid: rotation columns %d and %d have dot product %.6f, expected %d", i, j, d, i==j);
                return 0;
            }
        }
    }
    det = (double)m[0] * ((double)m[5] * m[10] - (double)m[6] * m[9]) - (double)m[1] * ((double)m[4] * m[10] - (double)m[6] * m[8])
        + (double)m[2] * ((double)m[4] * m[9] - (double)m[5] * m[8]);
    if( !(det > 0) ){
        snprintf(zWhy, nWhy, "is a reflection (determinant %.4f), not a rotation", det);
        return 0;
    }
    return 1;
}

int sptt_frame_intrinsics_ok(float fx, float fy, float cx, float cy, char *zWhy, size_t nWhy)
{
    if( !(fx > 0) || !isfinite(fx) ) snprintf(zWhy, nWhy, "fx %g is not a positive finite number", fx);
    else if( !(fy > 0) || !isfinite(fy) ) snprintf(zWhy, nWhy, "fy %g is not a positive finite number", fy);
    else if( !isfinite(cx) ) snprintf(zWhy, nWhy, "cx %g is not finite", cx);
    else if( !isfinite(cy) ) snprintf(zWhy, nWhy, "cy %g is not finite", cy);
    else return 1;
    return 0;
}

int sptt_frame_ok(const sptt_frame_info *f, char *zWhy, size_t nWhy)
{
    char z[200];
    if( !sptt_frame_pose_ok(f->c2w, z, sizeof z) ){
        snprintf(zWhy, nWhy, "camera-to-world %s", z);
        return 0;
    }
    if( !sptt_frame_intrinsics_ok(f->fx, f->fy, f->cx, f->cy, zWhy, nWhy) ) return 0;
    if( f->width==0 || f->height==0 ){
        snprintf(zWhy, nWhy, "image size %ux%u is empty", f->width, f->height);
        return 0;
    }
    if( !isfinite(f->timestamp) ){
        snprintf(zWhy, nWhy, "timestamp is not finite");
        return 0;
    }
    return 1;
}

static int decode_section(const char *zPath, const entry *e, uint8_t *raw, sptt_pack *p)
{
    char zWhy[200];
    switch( e->kind ){
    case SEC_META: {
        json_error_t err;
        json_t *j;
        if( e->count!=1 ) return section_fail(zPath, e, "count must be 1");
        p->zMeta = sptt_malloc((size_t)e->raw + 1);
        if( p->zMeta==NULL ) return SPTT_ENOMEM;
        memcpy(p->zMeta, raw, (size_t)e->raw);
        p->zMeta[e->raw] = 0;
        j = json_loadb(p->zMeta, (size_t)e->raw, JSON_REJECT_DUPLICATES, &err);
        if( j==NULL ){
            snprintf(zWhy, sizeof zWhy, "JSON line %d column %d: %s", err.line, err.column, err.text);
            return section_fail(zPath, e, zWhy);
        }
        if( !json_is_object(j) || !json_is_string(json_object_get(j, "name")) ||
            !json_is_string(json_object_get(j, "source")) ){
            json_decref(j);
            return section_fail(zPath, e, "metadata must be an object with string fields 'name' and 'source'");
        }
        json_decref(j);
        return SPTT_OK;
    }
    case SEC_PNTS:
    case SEC_SAMP: {
        size_t N = (size_t)e->count;
        int smp = e->kind==SEC_SAMP;
        float *xyz;
        uint8_t *rgb, *nyu;
        uint16_t *ins;
        if( sptt_mul_size(N, 18)!=e->raw ) return section_fail(zPath, e, "size is not 18 bytes per point");
        xyz = sptt_malloc(N * 12);
        rgb = sptt_malloc(N * 3);
        ins = sptt_malloc(N * 2);
        nyu = sptt_malloc(N);
        if( smp ){
            p->nSamples = N; p->sxyz = xyz; p->srgb = rgb; p->sinstance = ins; p->snyu40 = nyu;
        }else{
            p->nPoints = N; p->xyz = xyz; p->rgb = rgb; p->instance = ins; p->nyu40 = nyu;
        }
        if( !xyz || !rgb || !ins || !nyu ) return SPTT_ENOMEM;
        memcpy(xyz, raw, N * 12);
        memcpy(rgb, raw + N * 12, N * 3);
        memcpy(ins, raw + N * 15, N * 2);
        memcpy(nyu, raw + N * 17, N);
        for(size_t i = 0; i < N * 3; i++){
            if( !isfinite(xyz[i]) ){
                snprintf(zWhy, sizeof zWhy, "point %zu has a non-finite coordinate", i / 3);
                return section_fail(zPath, e, zWhy);
            }
        }
        for(size_t i = 0; i < N; i++){
            if( nyu[i] > 40 ){
                snprintf(zWhy, sizeof zWhy, "point %zu has NYU40 id %d (> 40)", i, nyu[i]);
                return section_fail(zPath, e, zWhy);
            }
        }
        return SPTT_OK;
    }
    case SEC_FACE: {
        size_t F = (size_t)e->count;
        if( sptt_mul_size(F, 12)!=e->raw ) return section_fail(zPath, e, "size is not 12 bytes per face");
        p->nFaces = F;
        p->faces = sptt_malloc(F * 12);
        if( p->faces==NULL ) return SPTT_ENOMEM;
        memcpy(p->faces, raw, F * 12);
        return SPTT_OK;   /* indices are checked once the points are known */
    }
    case SEC_TRAJ: {
        size_t M = (size_t)e->count;
        if( sptt_mul_size(M, TRAJ_RECORD)!=e->raw ) return section_fail(zPath, e, "size is not 104 bytes per frame");
        p->nFrames = M;
        p->frames = sptt_malloc(M * sizeof(sptt_frame_info));
        if( p->frames==NULL ) return SPTT_ENOMEM;
        for(size_t i = 0; i < M; i++){
            sptt_frame_info *f = &p->frames[i];
            get_frame(raw + i * TRAJ_RECORD, f);
            char zRule[200];
            if( !sptt_frame_ok(f, zRule, sizeof zRule) ){
                snprintf(zWhy, sizeof zWhy, "frame %zu: %s", i, zRule);
                return section_fail(zPath, e, zWhy);
            }
            if( i && f->timestamp < p->frames[i - 1].timestamp ){
                snprintf(zWhy, sizeof zWhy, "frame %zu: timestamp goes backwards", i);
                return section_fail(zPath, e, zWhy);
            }
        }
        return SPTT_OK;
    }
    case SEC_IMGS: {
        size_t M = (size_t)e->count, nOff;
        uint32_t h[4];
        /* The count is bounded by the section before M + 1 is formed: a count of 2^64 - 1 would
        ** otherwise wrap to an empty offset table that the checks below read past. */
        if( e->raw < IMGS_HEAD || e->count > (e->raw - IMGS_HEAD) / 8 ){
            return section_fail(zPath, e, "too short for its offset table");
        }
        nOff = (M + 1) * 8;
        if( e->raw - IMGS_HEAD < nOff ) return section_fail(zPath, e, "too short for its offset table");
        memcpy(h, raw, IMGS_HEAD);
        if( (h[0]!=SPTT_IMG_RGB8 && h[0]!=SPTT_IMG_JPEG) || h[1]==0 || h[2]==0 ){
            return section_fail(zPath, e, "unknown encoding or zero image size");
        }
        p->imgEncoding = h[0];
        p->imgWidth = h[1];
        p->imgHeight = h[2];
        p->imgOffsets = sptt_malloc(nOff);
        if( p->imgOffsets==NULL ) return SPTT_ENOMEM;
        memcpy(p->imgOffsets, raw + IMGS_HEAD, nOff);
        {
            uint64_t nData = e->raw - IMGS_HEAD - nOff;
            if( p->imgOffsets[0]!=0 || p->imgOffsets[M]!=nData ){
                return section_fail(zPath, e, "offset table does not cover the image data");
            }
            for(size_t i = 0; i < M; i++){
                uint64_t len = p->imgOffsets[i + 1] - p->imgOffsets[i];
                if( p->imgOffsets[i + 1] < p->imgOffsets[i] ){
                    snprintf(zWhy, sizeof zWhy, "image %zu: offsets go backwards", i);
                    return section_fail(zPath, e, zWhy);
                }
                if( h[0]==SPTT_IMG_RGB8 && len!=(uint64_t)h[1] * h[2] * 3 ){
                    snprintf(zWhy, sizeof zWhy, "image %zu: %llu bytes, expected %llu", i, (unsigned long long)len,
                             (unsigned long long)h[1] * h[2] * 3);
                    return section_fail(zPath, e, zWhy);
                }
                if( h[0]==SPTT_IMG_JPEG && (len < 4 || raw[IMGS_HEAD + nOff + p->imgOffsets[i]]!=0xFF ||
                                             raw[IMGS_HEAD + nOff + p->imgOffsets[i] + 1]!=0xD8) ){
                    snprintf(zWhy, sizeof zWhy, "image %zu: not a JPEG stream", i);
                    return section_fail(zPath, e, zWhy);
                }
            }
            p->imgData = sptt_malloc((size_t)nData);
            if( p->imgData==NULL ) return SPTT_ENOMEM;
            memcpy(p->imgData, raw + IMGS_HEAD + nOff, (size_t)nData);
        }
        return SPTT_OK;
    }
    }
    return section_fail(zPath, e, "unknown section");
}

int sptt_pack_read(const char *zPath, int flags, sptt_pack *p)
{
    uint8_t *file = NULL;
    size_t size = 0;
    int rc;

    memset(p, 0, sizeof *p);
    rc = sptt_read_file(zPath, &file, &size);
    if( rc==SPTT_OK ) rc = sptt_pack_read_buffer(zPath, file, size, flags, p);
    free(file);
    return rc;
}

int sptt_pack_read_buffer(const char *zPath, const uint8_t *file, size_t size, int flags, sptt_pack *p)
{
    int rc = SPTT_OK;
    uint8_t *raw = NULL;
    entry aE[MAX_SECTIONS];
    uint32_t version, nE, crc;
    uint64_t total;
    int seen[SEC_COUNT] = {0};

    memset(p, 0, sizeof *p);
    if( size < HEADER_SIZE || memcmp(file, SPTT_PACK_MAGIC, 8)!=0 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: not a scene pack (bad magic at byte 0)", zPath);
        goto done;
    }
    version = sptt_le32(file + 8);
    if( version!=SPTT_PACK_VERSION ){
        rc = sptt_fail(SPTT_EVERSION, "%s: byte 8: pack version %u, this toolkit reads version %d", zPath, version,
                       SPTT_PACK_VERSION);
        goto done;
    }
    nE = sptt_le32(file + 12);
    total = sptt_le64(file + 16);
    if( nE==0 || nE > MAX_SECTIONS || size < HEADER_SIZE + (size_t)nE * ENTRY_SIZE ){
        rc = sptt_fail(SPTT_ECORRUPT, "%s: byte 12: section count %u does not fit the file", zPath, nE);
        goto done;
    }
    crc = crc32_big(0, file, 24);
    crc = crc32_big(crc, file + HEADER_SIZE, (size_t)nE * ENTRY_SIZE);
    if( crc!=sptt_le32(file + 24) && CHECKSUMS_ENFORCED ){
        rc = sptt_fail(SPTT_ECORRUPT, "%s: section table checksum mismatch (header byte 24)", zPath);
        goto done;
    }
    if( total!=size ){
        rc = sptt_fail(SPTT_ECORRUPT, "%s: file is %zu bytes, header says %llu (truncated or extended)", zPath, size,
                       (unsigned long long)total);
        goto done;
    }

    for(uint32_t i = 0; i < nE; i++){
        const uint8_t *q = file + HEADER_SIZE + (size_t)i * ENTRY_SIZE;
        entry *e = &aE[i];
        e->kind = -1;
        for(int k = 0; k < SEC_COUNT; k++) if( memcmp(q, azId[k], 4)==0 ) e->kind = k;
        if( e->kind < 0 ){
            rc = sptt_fail(SPTT_ECORRUPT, "%s: table entry %u: unknown section id '%.4s'", zPath, i, (const char *)q);
            goto done;
        }
        if( seen[e->kind]++ ){
            rc = sptt_fail(SPTT_ECORRUPT, "%s: section '%s' appears twice", zPath, azName[e->kind]);
            goto done;
        }
        e->offset = sptt_le64(q + 8);
        e->stored = sptt_le64(q + 16);
        e->raw = sptt_le64(q + 24);
        e->count = sptt_le64(q + 32);
        e->crc = sptt_le32(q + 40);
        if( e->offset < HEADER_SIZE + (uint64_t)nE * ENTRY_SIZE || e->offset > size || e->stored > size - e->offset ){
            rc = section_fail(zPath, e, "extends past the end of the file");
            goto done;
        }
        if( e->raw > ((uint64_t)1 << 40) ){
            rc = section_fail(zPath, e, "declared size is implausibly large");
            goto done;
        }
    }
    if( !seen[SEC_META] || !seen[SEC_PNTS] ){
        rc = sptt_fail(SPTT_ECORRUPT, "%s: required section '%s' is missing", zPath,
                       seen[SEC_META] ? "points" : "meta");
        goto done;
    }

    for(uint32_t i = 0; i < nE; i++){
        if( aE[i].kind==SEC_IMGS && (flags & SPTT_PACK_SKIP_IMAGES) ) continue;
        rc = decompress_section(zPath, file, &aE[i], &raw);
        if( rc ) goto done;
        rc = decode_section(zPath, &aE[i], raw, p);
        free(raw);
        raw = NULL;
        if( rc ) goto done;
    }

    for(uint64_t f = 0; f < p->nFaces * 3; f++){
        if( p->faces[f] >= p->nPoints ){
            rc = sptt_fail(SPTT_ECORRUPT, "%s: section 'faces': face %llu uses vertex %u of %llu", zPath,
                           (unsigned long long)(f / 3), p->faces[f], (unsigned long long)p->nPoints);
            goto done;
        }
    }
    if( seen[SEC_IMGS] && p->nFrames==0 ){
        rc = sptt_fail(SPTT_ECORRUPT, "%s: section 'images' without a trajectory", zPath);
        goto done;
    }
    for(uint32_t i = 0; i < nE; i++){
        if( aE[i].kind==SEC_IMGS && p->imgEncoding!=SPTT_IMG_NONE && aE[i].count!=p->nFrames ){
            rc = sptt_fail(SPTT_ECORRUPT, "%s: section 'images' has %llu frames, trajectory has %llu", zPath,
                           (unsigned long long)aE[i].count, (unsigned long long)p->nFrames);
            goto done;
        }
    }

done:
    free(raw);
    if( rc ) sptt_pack_free(p);
    return rc;
}
