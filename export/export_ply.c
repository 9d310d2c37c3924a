/*
** Point cloud export (sptt_export.h): the pack's aligned vertices as binary little-endian PLY with
** the per-vertex instance and NYU40 label as extra properties, named and typed as ScanNet's
** *_vh_clean_2.labels.ply names its label (ushort label), so tools written for ScanNet read them.
*/
#include "sptt_export.h"

#include "sptt_common.h"
#include "sptt_dataset.h"

#include <stdlib.h>
#include <string.h>

/* Vertex record: 3 floats, 3 uchar colours, ushort instance, ushort label. */
#define PLY_VERTEX_BYTES (12 + 3 + 2 + 2)
/* Face record: uchar count 3, three int32 indices. */
#define PLY_FACE_BYTES (1 + 12)
/* Records written per buffered chunk. */
#define PLY_CHUNK 65536

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for(int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(p, v);
}

int sptt_export_ply(sqlite3 *db, const char *zScene, int withFaces, const char *zOut, sptt_ply_result *r)
{
    sptt_scene_row row;
    sptt_pack p;
    sptt_atomic f;
    sptt_buf h = {0};
    uint8_t *chunk = NULL;
    uint64_t nFaces;
    int rc, open = 0;
    memset(r, 0, sizeof *r);
    memset(&p, 0, sizeof p);
    memset(&row, 0, sizeof row);
    if( (rc = sptt_scene_get(db, zScene, &row)) ) return rc;
    if( (rc = sptt_scene_read_pack(&row, SPTT_PACK_SKIP_IMAGES, &p)) ){
        sptt_fail_prefix(rc, "scene '%s': ", zScene);
        goto done;
    }
    if( p.nPoints==0 ){
        rc = sptt_fail(SPTT_EFORMAT, "scene '%s': the pack has no points", zScene);
        goto done;
    }
    /* PLY face indices are int32 here: a pack larger than that cannot be indexed */
    if( p.nPoints > INT32_MAX ){
        rc = sptt_fail(SPTT_EFORMAT, "scene '%s': %llu points do not fit PLY's int indices", zScene, (unsigned long long)p.nPoints);
        goto done;
    }
    nFaces = withFaces ? p.nFaces : 0;
    sptt_buf_printf(&h, "ply\nformat binary_little_endian 1.0\n");
    sptt_buf_printf(&h, "comment sptt-export scene %s (%s), aligned output frame, metres, z up\n", row.zName, row.zSource);
    sptt_buf_printf(&h, "comment instance: instance id, 0 = none; label: NYU40 id, 0 = unannotated\n");
    sptt_buf_printf(&h, "element vertex %llu\n", (unsigned long long)p.nPoints);
    sptt_buf_printf(&h, "property float x\nproperty float y\nproperty float z\n");
    sptt_buf_printf(&h, "property uchar red\nproperty uchar green\nproperty uchar blue\n");
    sptt_buf_printf(&h, "property ushort instance\nproperty ushort label\n");
    if( nFaces > 0 ) sptt_buf_printf(&h, "element face %llu\nproperty list uchar int vertex_indices\n", (unsigned long long)nFaces);
    sptt_buf_printf(&h, "end_header\n");
    if( h.rc ){
        rc = h.rc;
        goto done;
    }
    chunk = sptt_malloc((size_t)PLY_CHUNK * PLY_VERTEX_BYTES);
    if( chunk==NULL ){
        rc = SPTT_ENOMEM;
        goto done;
    }
    if( (rc = sptt_atomic_open(&f, zOut)) ) goto done;
    open = 1;
    rc = sptt_atomic_write(&f, h.p, h.n);
    for(uint64_t i0 = 0; i0 < p.nPoints && rc==SPTT_OK; i0 += PLY_CHUNK){
        uint64_t n = p.nPoints - i0 < PLY_CHUNK ? p.nPoints - i0 : PLY_CHUNK;
        for(uint64_t k = 0; k < n; k++){
            uint64_t i = i0 + k;
            uint8_t *o = chunk + k * PLY_VERTEX_BYTES;
            for(int c = 0; c < 3; c++) put_f32(o + 4 * c, p.xyz[3 * i + (uint64_t)c]);
            for(int c = 0; c < 3; c++) o[12 + c] = p.rgb ? p.rgb[3 * i + (uint64_t)c] : 0;
            put_u16(o + 15, p.instance ? p.instance[i] : 0);
            put_u16(o + 17, p.nyu40 ? p.nyu40[i] : 0);
        }
        rc = sptt_atomic_write(&f, chunk, (size_t)n * PLY_VERTEX_BYTES);
    }
    for(uint64_t i0 = 0; i0 < nFaces && rc==SPTT_OK; i0 += PLY_CHUNK){
        uint64_t n = nFaces - i0 < PLY_CHUNK ? nFaces - i0 : PLY_CHUNK;
        for(uint64_t k = 0; k < n; k++){
            uint8_t *o = chunk + k * PLY_FACE_BYTES;
            o[0] = 3;
            for(int c = 0; c < 3; c++) put_u32(o + 1 + 4 * c, p.faces[3 * (i0 + k) + (uint64_t)c]);
        }
        rc = sptt_atomic_write(&f, chunk, (size_t)n * PLY_FACE_BYTES);
    }
    if( rc==SPTT_OK ){
        rc = sptt_atomic_commit(&f);
        open = 0;
    }
    if( rc==SPTT_OK ){
        r->nVerts = p.nPoints;
        r->nFaces = nFaces;
    }

done:
    if( open ) sptt_atomic_abort(&f);
    free(chunk);
    sptt_buf_free(&h);
    sptt_pack_free(&p);
    sptt_scene_row_free(&row);
    return rc;
}
