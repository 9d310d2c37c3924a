/*
** PLY reader and writer.
**
** The reader checks every count against the file size before it allocates, picks properties by
** name so extra per-vertex data (ScanNet's `label`, `objectId`) survives, and requires the data
** to end exactly at end of file for binary files, which catches truncation and stray bytes.
** The first data byte is never skipped, whatever its value (Assimp 5.2.5's 0x0A bug).
*/
#include "ingest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { T_NONE, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_F32, T_F64 };

static int type_of(const char *z)
{
    static const struct { const char *z; int t; } a[] = {
        {"char", T_I8}, {"int8", T_I8}, {"uchar", T_U8}, {"uint8", T_U8}, {"short", T_I16}, {"int16", T_I16},
        {"ushort", T_U16}, {"uint16", T_U16}, {"int", T_I32}, {"int32", T_I32}, {"uint", T_U32}, {"uint32", T_U32},
        {"float", T_F32}, {"float32", T_F32}, {"double", T_F64}, {"float64", T_F64},
    };
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++) if( strcmp(z, a[i].z)==0 ) return a[i].t;
    return T_NONE;
}

static const int aSize[] = { 0, 1, 1, 2, 2, 4, 4, 4, 8 };

#define MAX_PROPS 64
#define MAX_ELEMS 16

typedef struct prop {
    char zName[32];
    int type;
    int countType;    /* list properties: type of the count; 0 for scalars */
} prop;

typedef struct element {
    char zName[32];
    uint64_t count;
    int nProps;
    prop props[MAX_PROPS];
    int fixed;        /* no list property: every record has the same size */
    size_t stride;
} element;

static double load(const uint8_t *q, int type, int swap)
{
    uint8_t b[8];
    int n = aSize[type];
    if( swap ) for(int i = 0; i < n; i++) b[i] = q[n - 1 - i];
    else memcpy(b, q, (size_t)n);
    switch( type ){
    case T_I8:  return (int8_t)b[0];
    case T_U8:  return b[0];
    case T_I16: { int16_t v; memcpy(&v, b, 2); return v; }
    case T_U16: { uint16_t v; memcpy(&v, b, 2); return v; }
    case T_I32: { int32_t v; memcpy(&v, b, 4); return v; }
    case T_U32: { uint32_t v; memcpy(&v, b, 4); return v; }
    case T_F32: { float v; memcpy(&v, b, 4); return v; }
    case T_F64: { double v; memcpy(&v, b, 8); return v; }
    }
    return 0;
}

void sptt_ply_free(sptt_ply *p)
{
    free(p->xyz);
    free(p->rgb);
    free(p->alpha);
    free(p->faces);
    for(int i = 0; i < p->nExtra; i++) free(p->extra[i].values);
    free(p->extra);
    memset(p, 0, sizeof *p);
}

const double *sptt_ply_column_values(const sptt_ply *p, const char *zName)
{
    for(int i = 0; i < p->nExtra; i++) if( strcmp(p->extra[i].zName, zName)==0 ) return p->extra[i].values;
    return NULL;
}

/* Parses the header; on success *pData points at the first data byte. */
static int parse_header(const char *zPath, const uint8_t *buf, size_t size, int *pFormat, element *aE, int *pnE,
                        size_t *pHeader)
{
    size_t at = 0;
    int line = 0;
    int nE = 0;
    int sawFormat = 0;
    char z[256];

    *pnE = 0;
    while( 1 ){
        size_t start = at, len;
        char *tok, *save = NULL;
        while( at < size && buf[at]!='\n' ) at++;
        if( at >= size ) return sptt_fail(SPTT_EFORMAT, "%s: header: no end_header line", zPath);
        len = at - start;
        at++;
        line++;
        if( len && buf[start + len - 1]=='\r' ) len--;   /* CRLF headers exist in the wild */
        if( len >= sizeof z ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: too long", zPath, line);
        memcpy(z, buf + start, len);
        z[len] = 0;
        if( line==1 ){
            if( strcmp(z, "ply")!=0 ) return sptt_fail(SPTT_EFORMAT, "%s: header line 1: not a PLY file (no 'ply' magic)", zPath);
            continue;
        }
        tok = strtok_r(z, " \t", &save);
        if( tok==NULL ) continue;
        if( strcmp(tok, "comment")==0 || strcmp(tok, "obj_info")==0 ) continue;
        if( strcmp(tok, "end_header")==0 ) break;
        if( strcmp(tok, "format")==0 ){
            const char *f = strtok_r(NULL, " \t", &save), *v = strtok_r(NULL, " \t", &save);
            if( f==NULL || v==NULL || strcmp(v, "1.0")!=0 ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: bad format line", zPath, line);
            if( strcmp(f, "ascii")==0 ) *pFormat = SPTT_PLY_ASCII;
            else if( strcmp(f, "binary_little_endian")==0 ) *pFormat = SPTT_PLY_BINARY_LE;
            else if( strcmp(f, "binary_big_endian")==0 ) *pFormat = SPTT_PLY_BINARY_BE;
            else return sptt_fail(SPTT_EFORMAT, "%s: header line %d: unknown format '%s'", zPath, line, f);
            sawFormat = 1;
            continue;
        }
        if( strcmp(tok, "element")==0 ){
            const char *name = strtok_r(NULL, " \t", &save), *cnt = strtok_r(NULL, " \t", &save);
            char *end = NULL;
            unsigned long long n;
            if( name==NULL || cnt==NULL ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: bad element line", zPath, line);
            errno = 0;
            n = strtoull(cnt, &end, 10);
            if( errno || *end || cnt[0]=='-' ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: bad element count '%s'", zPath, line, cnt);
            if( nE==MAX_ELEMS ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: too many elements", zPath, line);
            memset(&aE[nE], 0, sizeof aE[nE]);
            snprintf(aE[nE].zName, sizeof aE[nE].zName, "%s", name);
            aE[nE].count = n;
            aE[nE].fixed = 1;
            nE++;
            continue;
        }
        if( strcmp(tok, "property")==0 ){
            element *e;
            prop *pr;
            const char *t = strtok_r(NULL, " \t", &save);
            if( nE==0 ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: property before any element", zPath, line);
            e = &aE[nE - 1];
            if( e->nProps==MAX_PROPS ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: too many properties", zPath, line);
            pr = &e->props[e->nProps];
            memset(pr, 0, sizeof *pr);
            if( t && strcmp(t, "list")==0 ){
                const char *ct = strtok_r(NULL, " \t", &save), *it = strtok_r(NULL, " \t", &save);
                const char *nm = strtok_r(NULL, " \t", &save);
                if( !ct || !it || !nm ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: bad list property", zPath, line);
                pr->countType = type_of(ct);
                pr->type = type_of(it);
                if( pr->countType==T_NONE || pr->countType==T_F32 || pr->countType==T_F64 ){
                    return sptt_fail(SPTT_EFORMAT, "%s: header line %d: unsupported list count type '%s'", zPath, line, ct);
                }
                if( pr->type==T_NONE ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: unsupported property type '%s'", zPath, line, it);
                snprintf(pr->zName, sizeof pr->zName, "%s", nm);
                e->fixed = 0;
            }else{
                const char *nm = strtok_r(NULL, " \t", &save);
                if( !t || !nm ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: bad property line", zPath, line);
                pr->type = type_of(t);
                if( pr->type==T_NONE ) return sptt_fail(SPTT_EFORMAT, "%s: header line %d: unsupported property type '%s'", zPath, line, t);
                snprintf(pr->zName, sizeof pr->zName, "%s", nm);
                e->stride += (size_t)aSize[pr->type];
            }
            e->nProps++;
            continue;
        }
        return sptt_fail(SPTT_EFORMAT, "%s: header line %d: unknown keyword '%s'", zPath, line, tok);
    }
    if( !sawFormat ) return sptt_fail(SPTT_EFORMAT, "%s: header: no format line", zPath);
    *pnE = nE;
    *pHeader = at;
    return SPTT_OK;
}

/* Reads values from ASCII or binary data, one property at a time. */
typedef struct reader {
    const char *zPath;
    const uint8_t *buf;
    size_t size, at;
    int format;
    int line;     /* ASCII: current line, for messages */
} reader;

static int next_value(reader *r, int type, double *pOut)
{
    if( r->format==SPTT_PLY_ASCII ){
        char *end;
        const char *s;
        while( r->at < r->size && (r->buf[r->at]==' ' || r->buf[r->at]=='\t' || r->buf[r->at]=='\r' || r->buf[r->at]=='\n') ){
            if( r->buf[r->at]=='\n' ) r->line++;
            r->at++;
        }
        if( r->at >= r->size ) return sptt_fail(SPTT_EFORMAT, "%s: data line %d: file ends early", r->zPath, r->line);
        s = (const char *)r->buf + r->at;
        errno = 0;
        *pOut = strtod(s, &end);
        if( end==s ) return sptt_fail(SPTT_EFORMAT, "%s: data line %d: expected a number", r->zPath, r->line);
        r->at += (size_t)(end - s);
        (void)type;
        return SPTT_OK;
    }
    if( r->size - r->at < (size_t)aSize[type] ){
        return sptt_fail(SPTT_EFORMAT, "%s: byte %zu: file ends inside a record (truncated?)", r->zPath, r->at);
    }
    *pOut = load(r->buf + r->at, type, r->format==SPTT_PLY_BINARY_BE);
    r->at += (size_t)aSize[type];
    return SPTT_OK;
}

static int prop_index(const element *e, const char *zName)
{
    for(int i = 0; i < e->nProps; i++) if( strcmp(e->props[i].zName, zName)==0 ) return i;
    return -1;
}

int sptt_ply_read(const char *zPath, sptt_ply *p)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    int rc;
    memset(p, 0, sizeof *p);
    rc = sptt_read_file(zPath, &buf, &size);
    if( rc==SPTT_OK ) rc = ingest_parse_ply(zPath, buf, size, p);
    free(buf);
    return rc;
}

int ingest_parse_ply(const char *zPath, const uint8_t *buf, size_t size, sptt_ply *p)
{
    int rc = SPTT_OK;
    element aE[MAX_ELEMS];
    int nE = 0;
    reader r;
    int iVert = -1, iFace = -1;
    int ix, iy, iz, iColor[4] = { -1, -1, -1, -1 };
    int colorFloat = 0;
    int *extraOf = NULL;        /* property -> extra column or -1 */
    uint32_t *faces = NULL;
    size_t nFaceCap = 0;

    memset(p, 0, sizeof *p);
    rc = parse_header(zPath, buf, size, &p->format, aE, &nE, &p->headerSize);
    if( rc ) goto done;
    for(int i = 0; i < nE; i++){
        if( strcmp(aE[i].zName, "vertex")==0 ) iVert = i;
        if( strcmp(aE[i].zName, "face")==0 ) iFace = i;
    }
    if( iVert < 0 ){ rc = sptt_fail(SPTT_EFORMAT, "%s: header: no 'vertex' element", zPath); goto done; }
    {
        element *v = &aE[iVert];
        static const char *const azCol[3][4] = { { "red", "green", "blue", "alpha" }, { "r", "g", "b", "a" },
                                                 { "diffuse_red", "diffuse_green", "diffuse_blue", "diffuse_alpha" } };
        ix = prop_index(v, "x");
        iy = prop_index(v, "y");
        iz = prop_index(v, "z");
        if( ix < 0 || iy < 0 || iz < 0 ){ rc = sptt_fail(SPTT_EFORMAT, "%s: header: vertex has no x, y and z properties", zPath); goto done; }
        if( !v->fixed ){ rc = sptt_fail(SPTT_EFORMAT, "%s: header: list property in the vertex element is not supported", zPath); goto done; }
        for(int set = 0; set < 3 && iColor[0] < 0; set++){
            int a = prop_index(v, azCol[set][0]), b = prop_index(v, azCol[set][1]), c = prop_index(v, azCol[set][2]);
            if( a >= 0 && b >= 0 && c >= 0 ){
                iColor[0] = a; iColor[1] = b; iColor[2] = c;
                iColor[3] = prop_index(v, azCol[set][3]);
            }
        }
        if( iColor[0] >= 0 ) colorFloat = v->props[iColor[0]].type==T_F32 || v->props[iColor[0]].type==T_F64;
        /* Check the counts against the file size before allocating anything. */
        if( p->format!=SPTT_PLY_ASCII ){
            uint64_t need = 0;
            for(int i = 0; i < nE; i++){
                if( aE[i].fixed ){
                    if( aE[i].stride && aE[i].count > (uint64_t)(size - p->headerSize) / aE[i].stride ){
                        rc = sptt_fail(SPTT_EFORMAT, "%s: header: element '%s' count %llu needs %llu bytes but the file has %zu after the header",
                                       zPath, aE[i].zName, (unsigned long long)aE[i].count,
                                       (unsigned long long)(aE[i].count * aE[i].stride), size - p->headerSize);
                        goto done;
                    }
                    need += aE[i].count * aE[i].stride;
                }else{
                    /* a list record holds at least its count byte(s) */
                    need += aE[i].count;
                }
            }
            if( need > size - p->headerSize ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: header: element counts need at least %llu data bytes, the file has %zu",
                               zPath, (unsigned long long)need, size - p->headerSize);
                goto done;
            }
        }else if( v->count > size ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: header: vertex count %llu is larger than the file", zPath, (unsigned long long)v->count);
            goto done;
        }
        p->nVerts = v->count;
        p->xyz = sptt_malloc(sptt_mul_size((size_t)p->nVerts, 12));
        if( iColor[0] >= 0 ) p->rgb = sptt_malloc(sptt_mul_size((size_t)p->nVerts, 3));
        if( iColor[3] >= 0 ) p->alpha = sptt_malloc((size_t)p->nVerts);
        extraOf = sptt_malloc(sizeof(int) * MAX_PROPS);
        if( !p->xyz || (iColor[0] >= 0 && !p->rgb) || (iColor[3] >= 0 && !p->alpha) || !extraOf ){ rc = SPTT_ENOMEM; goto done; }
        p->extra = sptt_calloc(MAX_PROPS, sizeof(sptt_ply_column));
        if( p->extra==NULL ){ rc = SPTT_ENOMEM; goto done; }
        for(int i = 0; i < v->nProps; i++){
            extraOf[i] = -1;
            if( i==ix || i==iy || i==iz || i==iColor[0] || i==iColor[1] || i==iColor[2] || i==iColor[3] ) continue;
            extraOf[i] = p->nExtra;
            snprintf(p->extra[p->nExtra].zName, sizeof p->extra[0].zName, "%s", v->props[i].zName);
            p->extra[p->nExtra].values = sptt_malloc(sptt_mul_size((size_t)p->nVerts, sizeof(double)));
            if( p->extra[p->nExtra].values==NULL ){ rc = SPTT_ENOMEM; goto done; }
            p->nExtra++;
        }
    }

    r.zPath = zPath;
    r.buf = buf;
    r.size = size;
    r.at = p->headerSize;
    r.format = p->format;
    r.line = 1;
    for(int ei = 0; ei < nE; ei++){
        element *e = &aE[ei];
        if( ei==iVert ){
            int swap = p->format==SPTT_PLY_BINARY_BE;
            for(uint64_t k = 0; k < e->count; k++){
                size_t recAt = r.at;
                double vals[MAX_PROPS];
                if( p->format!=SPTT_PLY_ASCII ){
                    const uint8_t *q;
                    if( size - r.at < e->stride ){
                        rc = sptt_fail(SPTT_EFORMAT, "%s: byte %zu: file ends inside vertex %llu (truncated?)", zPath, r.at, (unsigned long long)k);
                        goto done;
                    }
                    q = buf + r.at;
                    for(int i = 0; i < e->nProps; i++){
                        vals[i] = load(q, e->props[i].type, swap);
                        q += aSize[e->props[i].type];
                    }
                    r.at += e->stride;
                }else{
                    for(int i = 0; i < e->nProps; i++){
                        rc = next_value(&r, e->props[i].type, &vals[i]);
                        if( rc ) goto done;
                    }
                }
                for(int c = 0; c < 3; c++){
                    double x = vals[c==0 ? ix : c==1 ? iy : iz];
                    if( !isfinite(x) || fabs(x) > 3.4e38 ){
                        rc = sptt_fail(SPTT_EFORMAT, "%s: %s %zu: vertex %llu has a non-finite coordinate",
                                       zPath, p->format==SPTT_PLY_ASCII ? "data line" : "byte",
                                       p->format==SPTT_PLY_ASCII ? (size_t)r.line : recAt, (unsigned long long)k);
                        goto done;
                    }
                    p->xyz[3 * k + (uint64_t)c] = (float)x;
                }
                if( p->rgb ){
                    for(int c = 0; c < 3; c++){
                        double x = vals[iColor[c]];
                        if( colorFloat ) x *= 255.0;
                        p->rgb[3 * k + (uint64_t)c] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : lrint(x));
                    }
                }
                if( p->alpha ){
                    double x = vals[iColor[3]] * (colorFloat ? 255.0 : 1.0);
                    p->alpha[k] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : lrint(x));
                }
                for(int i = 0; i < e->nProps; i++) if( extraOf[i] >= 0 ) p->extra[extraOf[i]].values[k] = vals[i];
            }
            continue;
        }
        /* Records without properties hold no bytes; a count of 10^15 of them must not be walked. */
        if( e->nProps==0 ) continue;
        for(uint64_t k = 0; k < e->count; k++){
            size_t recAt = r.at;
            for(int i = 0; i < e->nProps; i++){
                const prop *pr = &e->props[i];
                double cnt;
                if( pr->countType==0 ){
                    double dummy;
                    rc = next_value(&r, pr->type, &dummy);
                    if( rc ) goto done;
                    continue;
                }
                rc = next_value(&r, pr->countType, &cnt);
                if( rc ) goto done;
                /* ASCII counts go through strtod: "nan" or "2.5" must not reach the int below. */
                if( !(cnt >= 0 && cnt <= 1e6) || cnt!=floor(cnt) ){
                    rc = sptt_fail(SPTT_EFORMAT, "%s: byte %zu: %s %llu has a list of %g items", zPath, recAt, e->zName,
                                   (unsigned long long)k, cnt);
                    goto done;
                }
                if( ei==iFace && (strcmp(pr->zName, "vertex_indices")==0 || strcmp(pr->zName, "vertex_index")==0) ){
                    uint32_t idx[64];
                    int n = (int)cnt;
                    if( n < 3 || n > 64 ){
                        rc = sptt_fail(SPTT_EFORMAT, "%s: %s %zu: face %llu has %d vertices", zPath,
                                       p->format==SPTT_PLY_ASCII ? "data line" : "byte",
                                       p->format==SPTT_PLY_ASCII ? (size_t)r.line : recAt, (unsigned long long)k, n);
                        goto done;
                    }
                    for(int j = 0; j < n; j++){
                        double x;
                        rc = next_value(&r, pr->type, &x);
                        if( rc ) goto done;
                        if( !(x >= 0) || x >= (double)p->nVerts ){
                            rc = sptt_fail(SPTT_EFORMAT, "%s: %s %zu: face %llu uses vertex %.0f of %llu", zPath,
                                           p->format==SPTT_PLY_ASCII ? "data line" : "byte",
                                           p->format==SPTT_PLY_ASCII ? (size_t)r.line : recAt, (unsigned long long)k, x,
                                           (unsigned long long)p->nVerts);
                            goto done;
                        }
                        idx[j] = (uint32_t)x;
                    }
                    if( p->nFaces + (uint64_t)(n - 2) > nFaceCap ){
                        /* One polygon may add more triangles than doubling makes room for (up
                        ** to 62), and an ASCII count is bounded by nothing: a face needs at least
                        ** a byte per index, so the first guess is capped by the bytes left. */
                        size_t need = (size_t)p->nFaces + (size_t)(n - 2);
                        size_t left = size - r.at;
                        size_t cap = nFaceCap ? 2 * nFaceCap : (size_t)(e->count < left ? e->count : left) + 16;
                        if( cap < need ) cap = need;
                        uint32_t *f2 = sptt_realloc(faces, sptt_mul_size(cap, 12));
                        if( f2==NULL ){ rc = SPTT_ENOMEM; goto done; }
                        faces = f2;
                        nFaceCap = cap;
                    }
                    for(int j = 1; j + 1 < n; j++){
                        faces[3 * p->nFaces] = idx[0];
                        faces[3 * p->nFaces + 1] = idx[j];
                        faces[3 * p->nFaces + 2] = idx[j + 1];
                        p->nFaces++;
                    }
                }else{
                    for(int j = 0; j < (int)cnt; j++){
                        double dummy;
                        rc = next_value(&r, pr->type, &dummy);
                        if( rc ) goto done;
                    }
                }
            }
        }
    }
    if( p->format!=SPTT_PLY_ASCII && r.at!=size ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: byte %zu: %zu bytes after the last element (counts disagree with the file size)",
                       zPath, r.at, size - r.at);
        goto done;
    }
    if( p->format==SPTT_PLY_ASCII ){
        for(size_t i = r.at; i < size; i++){
            if( buf[i]!=' ' && buf[i]!='\n' && buf[i]!='\r' && buf[i]!='\t' ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: data line %d: text after the last element", zPath, r.line);
                goto done;
            }
        }
    }
    p->faces = faces;
    faces = NULL;

done:
    free(faces);
    free(extraOf);
    if( rc ) sptt_ply_free(p);
    return rc;
}

int sptt_ply_write(const char *zPath, const char *zComment, uint64_t nVerts, const float *xyz, const uint8_t *rgb,
                   int withAlpha, uint64_t nFaces, const uint32_t *faces)
{
    sptt_buf b = {0};
    int rc;
    sptt_buf_printf(&b, "ply\nformat binary_little_endian 1.0\n");
    if( zComment ) sptt_buf_printf(&b, "comment %s\n", zComment);
    sptt_buf_printf(&b, "element vertex %llu\nproperty float x\nproperty float y\nproperty float z\n", (unsigned long long)nVerts);
    if( rgb ) sptt_buf_printf(&b, "property uchar red\nproperty uchar green\nproperty uchar blue\n");
    if( rgb && withAlpha ) sptt_buf_printf(&b, "property uchar alpha\n");
    sptt_buf_printf(&b, "element face %llu\nproperty list uchar int vertex_indices\nend_header\n", (unsigned long long)nFaces);
    for(uint64_t i = 0; i < nVerts; i++){
        sptt_buf_f32(&b, xyz[3 * i]);
        sptt_buf_f32(&b, xyz[3 * i + 1]);
        sptt_buf_f32(&b, xyz[3 * i + 2]);
        if( rgb ){
            sptt_buf_put(&b, rgb + 3 * i, 3);
            if( withAlpha ) sptt_buf_u8(&b, 255);
        }
    }
    for(uint64_t f = 0; f < nFaces; f++){
        sptt_buf_u8(&b, 3);
        sptt_buf_i32(&b, (int32_t)faces[3 * f]);
        sptt_buf_i32(&b, (int32_t)faces[3 * f + 1]);
        sptt_buf_i32(&b, (int32_t)faces[3 * f + 2]);
    }
    if( b.rc ){
        sptt_buf_free(&b);
        return SPTT_ENOMEM;
    }
    rc = sptt_write_file(zPath, b.p, b.n);
    sptt_buf_free(&b);
    return rc;
}
