/*
** Seed-corpus helper for make fuzz (tests/fuzz/make_corpus.sh): cuts real and synthetic inputs
** down to a few kilobytes, which keeps each fuzzer iteration fast, while keeping them valid so
** the fuzzer starts from inputs that reach deep into the parsers.
**
**   corpus_tool ply  IN OUTPREFIX MAXV      first MAXV vertices and the faces among them, written
**                                           as OUTPREFIX_le.ply, _be.ply and _ascii.ply
**   corpus_tool sens IN OUT NFRAMES BLOB    the first NFRAMES frames, blobs cut to BLOB bytes
**   corpus_tool segs IN OUT N               the first N entries of segIndices
**   corpus_tool pack IN OUT MAXP            first MAXP points, samples and the faces among
**                                           them, the first 3 frames and their images; also
**                                           OUT.raw, the same with uncompressed sections
**   corpus_tool st   IN OUT MAXBYTES        the metadata and the tensors of at most MAXBYTES
*/
#include <jansson.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_common.h"
#include "sptt_ingest.h"
#include "sptt_safetensors.h"
#include "sptt_schemas.h"

static int die(const char *zWhat)
{
    fprintf(stderr, "corpus_tool: %s: %s\n", zWhat, sptt_errmsg());
    return 1;
}

/* Big-endian or ASCII PLY with every property as float (the LE file keeps the usual layout). */
static int write_ply_text_or_be(const char *zPath, const sptt_ply *p, uint64_t nV, const uint32_t *faces, uint64_t nF, int be)
{
    sptt_buf b = {0};
    int rc;
    sptt_buf_printf(&b, "ply\nformat %s 1.0\ncomment corpus\nelement vertex %llu\nproperty float x\nproperty float y\n"
                    "property float z\n", be ? "binary_big_endian" : "ascii", (unsigned long long)nV);
    if( p->rgb ) sptt_buf_printf(&b, "property uchar red\nproperty uchar green\nproperty uchar blue\n");
    for(int i = 0; i < p->nExtra; i++) sptt_buf_printf(&b, "property float %s\n", p->extra[i].zName);
    sptt_buf_printf(&b, "element face %llu\nproperty list uchar int vertex_indices\nend_header\n", (unsigned long long)nF);
    for(uint64_t v = 0; v < nV; v++){
        float a[3 + 64];
        int n = 0;
        for(int k = 0; k < 3; k++) a[n++] = p->xyz[3 * v + (uint64_t)k];
        if( be ){
            for(int k = 0; k < n; k++){
                uint32_t u;
                memcpy(&u, &a[k], 4);
                uint8_t q[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };
                sptt_buf_put(&b, q, 4);
            }
            if( p->rgb ) sptt_buf_put(&b, p->rgb + 3 * v, 3);
            for(int i = 0; i < p->nExtra; i++){
                float f = (float)p->extra[i].values[v];
                uint32_t u;
                memcpy(&u, &f, 4);
                uint8_t q[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };
                sptt_buf_put(&b, q, 4);
            }
        }else{
            sptt_buf_printf(&b, "%.6g %.6g %.6g", (double)a[0], (double)a[1], (double)a[2]);
            if( p->rgb ) sptt_buf_printf(&b, " %d %d %d", p->rgb[3 * v], p->rgb[3 * v + 1], p->rgb[3 * v + 2]);
            for(int i = 0; i < p->nExtra; i++) sptt_buf_printf(&b, " %.6g", p->extra[i].values[v]);
            sptt_buf_printf(&b, "\n");
        }
    }
    for(uint64_t f = 0; f < nF; f++){
        if( be ){
            sptt_buf_u8(&b, 3);
            for(int k = 0; k < 3; k++){
                uint32_t u = faces[3 * f + (uint64_t)k];
                uint8_t q[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };
                sptt_buf_put(&b, q, 4);
            }
        }else{
            sptt_buf_printf(&b, "3 %u %u %u\n", faces[3 * f], faces[3 * f + 1], faces[3 * f + 2]);
        }
    }
    rc = b.rc ? b.rc : sptt_write_file(zPath, b.p, b.n);
    sptt_buf_free(&b);
    return rc;
}

static int cmd_ply(const char *zIn, const char *zPrefix, uint64_t maxV)
{
    sptt_ply p;
    char zOut[1024];
    uint32_t *faces;
    uint64_t nV, nF = 0;
    int rc;
    if( sptt_ply_read(zIn, &p) ) return die(zIn);
    nV = p.nVerts < maxV ? p.nVerts : maxV;
    faces = malloc(12 * (p.nFaces + 1));
    for(uint64_t f = 0; f < p.nFaces; f++){
        const uint32_t *t = p.faces + 3 * f;
        if( t[0] < nV && t[1] < nV && t[2] < nV ) memcpy(faces + 3 * nF++, t, 12);
    }
    snprintf(zOut, sizeof zOut, "%s_le.ply", zPrefix);
    rc = sptt_ply_write(zOut, "corpus", nV, p.xyz, p.rgb, p.alpha!=NULL, nF, faces);
    snprintf(zOut, sizeof zOut, "%s_be.ply", zPrefix);
    if( rc==SPTT_OK ) rc = write_ply_text_or_be(zOut, &p, nV, faces, nF, 1);
    snprintf(zOut, sizeof zOut, "%s_ascii.ply", zPrefix);
    if( rc==SPTT_OK ) rc = write_ply_text_or_be(zOut, &p, nV, faces, nF, 0);
    free(faces);
    sptt_ply_free(&p);
    return rc ? die(zOut) : 0;
}

static int cmd_sens(const char *zIn, const char *zOut, uint64_t nFrames, uint64_t nBlob)
{
    sptt_sens s, h;
    sptt_sens_writer *w = NULL;
    uint8_t *c = NULL, *d = NULL;
    int rc;
    if( sptt_sens_read(zIn, &s) ) return die(zIn);
    if( nFrames > s.nFrames ) nFrames = s.nFrames;
    h = s;
    h.nFrames = nFrames;
    rc = sptt_sens_create(zOut, &h, &w);
    for(uint64_t i = 0; i < nFrames && rc==SPTT_OK; i++){
        const sptt_sens_frame *f = &s.frames[i];
        uint64_t nc = f->colorSize < nBlob ? f->colorSize : nBlob, nd = f->depthSize < nBlob ? f->depthSize : nBlob;
        c = realloc(c, nc + 1);
        d = realloc(d, nd + 1);
        rc = sptt_sens_blob(&s, f->colorOffset, nc, c);
        if( rc==SPTT_OK ) rc = sptt_sens_blob(&s, f->depthOffset, nd, d);
        if( rc==SPTT_OK ) rc = sptt_sens_add_frame(w, f->c2w, f->tColor, f->tDepth, c, nc, d, nd);
    }
    if( w ) rc = sptt_sens_finish(w, rc==SPTT_OK);
    free(c);
    free(d);
    sptt_sens_free(&s);
    return rc ? die(zOut) : 0;
}

static int cmd_segs(const char *zIn, const char *zOut, size_t n)
{
    json_error_t e;
    json_t *j = json_load_file(zIn, 0, &e), *a;
    if( j==NULL ){
        fprintf(stderr, "corpus_tool: %s: %s\n", zIn, e.text);
        return 1;
    }
    a = json_object_get(j, "segIndices");
    while( json_is_array(a) && json_array_size(a) > n ) json_array_remove(a, json_array_size(a) - 1);
    if( json_dump_file(j, zOut, JSON_INDENT(0)) ){
        json_decref(j);
        fprintf(stderr, "corpus_tool: %s: cannot write\n", zOut);
        return 1;
    }
    json_decref(j);
    return 0;
}

/*
** The same pack with every section re-stored as a zstd frame of raw blocks (no compression, no
** checksum) and the CRCs recomputed: the fuzzer's byte mutations then land on decoded values
** (coordinates, face indices, poses, image offsets) instead of breaking the compressed stream.
*/
static void put_zstd_raw(sptt_buf *b, const uint8_t *p, uint64_t n)
{
    uint64_t at = 0;
    sptt_buf_u32(b, 0xFD2FB528u);   /* frame magic */
    sptt_buf_u8(b, 0xE0);           /* 8-byte content size, single segment, no checksum */
    sptt_buf_u64(b, n);
    do{
        uint32_t len = n - at > 131072 ? 131072 : (uint32_t)(n - at);
        uint32_t h = (len << 3) | (at + len==n ? 1u : 0u);   /* block type 0: raw */
        sptt_buf_u8(b, (uint8_t)h);
        sptt_buf_u8(b, (uint8_t)(h >> 8));
        sptt_buf_u8(b, (uint8_t)(h >> 16));
        sptt_buf_put(b, p + at, len);
        at += len;
    }while( at < n );
}

static int restore_raw(const char *zIn, const char *zOut)
{
    uint8_t *f = NULL;
    size_t n;
    uint32_t nE, crc;
    sptt_buf head = {0}, body = {0};
    int rc = sptt_read_file(zIn, &f, &n);
    if( rc ) return rc;
    nE = sptt_le32(f + 12);
    for(uint32_t i = 0; i < nE && rc==SPTT_OK; i++){
        uint8_t *q = f + 32 + 48 * i;
        uint64_t off = sptt_le64(q + 8), stored = sptt_le64(q + 16), raw = sptt_le64(q + 24);
        uint8_t *r = malloc(raw + 1);
        uint64_t at = body.n;
        if( ZSTD_decompress(r, raw, f + off, stored)!=raw ) rc = sptt_fail(SPTT_ECORRUPT, "%s: section %u", zIn, i);
        else put_zstd_raw(&body, r, raw);
        free(r);
        memcpy(q + 16, &(uint64_t){ body.n - at }, 8);
        memcpy(q + 8, &(uint64_t){ 32 + 48 * (uint64_t)nE + at }, 8);
        crc = (uint32_t)crc32(0, body.p + at, (uInt)(body.n - at));
        memcpy(q + 40, &crc, 4);
    }
    if( rc==SPTT_OK ){
        uint64_t total = 32 + 48 * (uint64_t)nE + body.n;
        memcpy(f + 16, &total, 8);
        crc = (uint32_t)crc32(0, f, 24);
        crc = (uint32_t)crc32(crc, f + 32, 48 * nE);
        memcpy(f + 24, &crc, 4);
        sptt_buf_put(&head, f, 32 + 48 * (size_t)nE);
        sptt_buf_put(&head, body.p, body.n);
        rc = head.rc ? head.rc : sptt_write_file(zOut, head.p, head.n);
    }
    free(f);
    sptt_buf_free(&head);
    sptt_buf_free(&body);
    return rc;
}

static int cmd_pack(const char *zIn, const char *zOut, uint64_t maxP)
{
    sptt_pack p;
    uint64_t nF = 0;
    char zRaw[1024];
    int rc;
    if( sptt_pack_read(zIn, 0, &p) ) return die(zIn);
    if( p.nPoints > maxP ) p.nPoints = maxP;
    if( p.nSamples > maxP ) p.nSamples = maxP;
    /* The arrays are laid out per point, so the first maxP of each stay where they are. */
    for(uint64_t f = 0; f < p.nFaces && nF < maxP; f++){
        const uint32_t *t = p.faces + 3 * f;
        if( t[0] < p.nPoints && t[1] < p.nPoints && t[2] < p.nPoints ) memmove(p.faces + 3 * nF++, t, 12);
    }
    p.nFaces = nF;
    if( p.nFrames > 3 ) p.nFrames = 3;
    rc = sptt_pack_write(zOut, &p, 3);
    sptt_pack_free(&p);
    if( rc ) return die(zOut);
    snprintf(zRaw, sizeof zRaw, "%s.raw", zOut);
    rc = restore_raw(zOut, zRaw);
    if( rc==SPTT_OK ) rc = sptt_pack_read(zRaw, 0, &p);   /* zstd reads the frames back */
    if( rc==SPTT_OK ) sptt_pack_free(&p);
    return rc ? die(zRaw) : 0;
}

static int cmd_st(const char *zIn, const char *zOut, uint64_t maxBytes)
{
    sptt_st *st;
    json_t *h = json_object(), *meta = json_object();
    sptt_buf body = {0}, file = {0};
    char *zJson;
    size_t nJson;
    int rc;
    if( sptt_st_read(zIn, &st) ) return die(zIn);
    for(int i = 0; i < sptt_st_meta_count(st); i++){
        const char *k, *v;
        sptt_st_meta_at(st, i, &k, &v);
        json_object_set_new(meta, k, json_string(v));
    }
    json_object_set_new(h, "__metadata__", meta);
    for(int i = 0, n = 0; i < sptt_st_count(st) && n < 12; i++){
        const sptt_st_tensor *t = sptt_st_at(st, i);
        json_t *o, *sh;
        if( t->end - t->begin > maxBytes ) continue;
        o = json_object();
        sh = json_array();
        for(int k = 0; k < t->ndim; k++) json_array_append_new(sh, json_integer((json_int_t)t->shape[k]));
        json_object_set_new(o, "dtype", json_string(sptt_st_dtype_name(t->dtype)));
        json_object_set_new(o, "shape", sh);
        json_object_set_new(o, "data_offsets", json_pack("[I, I]", (json_int_t)body.n, (json_int_t)(body.n + t->end - t->begin)));
        json_object_set_new(h, t->zName, o);
        sptt_buf_put(&body, t->data, (size_t)(t->end - t->begin));
        n++;
    }
    zJson = json_dumps(h, JSON_COMPACT);
    nJson = strlen(zJson);
    sptt_buf_u64(&file, (uint64_t)((nJson + 7) / 8 * 8));
    sptt_buf_put(&file, zJson, nJson);
    sptt_buf_put(&file, "       ", (8 - nJson % 8) % 8);
    sptt_buf_put(&file, body.p, body.n);
    rc = file.rc ? file.rc : sptt_write_file(zOut, file.p, file.n);
    free(zJson);
    json_decref(h);
    sptt_buf_free(&body);
    sptt_buf_free(&file);
    sptt_st_close(st);
    return rc ? die(zOut) : 0;
}

int main(int argc, char **argv)
{
    if( argc==5 && strcmp(argv[1], "ply")==0 ) return cmd_ply(argv[2], argv[3], strtoull(argv[4], NULL, 10));
    if( argc==6 && strcmp(argv[1], "sens")==0 ) return cmd_sens(argv[2], argv[3], strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
    if( argc==5 && strcmp(argv[1], "segs")==0 ) return cmd_segs(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10));
    if( argc==5 && strcmp(argv[1], "pack")==0 ) return cmd_pack(argv[2], argv[3], strtoull(argv[4], NULL, 10));
    if( argc==5 && strcmp(argv[1], "st")==0 ) return cmd_st(argv[2], argv[3], strtoull(argv[4], NULL, 10));
    fprintf(stderr, "usage: corpus_tool ply|sens|segs|pack|st IN OUT ARGS (see tests/fuzz/corpus_tool.c)\n");
    return 2;
}
