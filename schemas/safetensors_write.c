/*
** safetensors writer (sptt_st_write.h).
**
** The header is built with jansson, whose compact output keeps insertion order: the layout a
** reader sees is exactly the order of the calls. Tensor bytes are written little-endian whatever
** the host, so a file is the same on every machine.
*/
#include "sptt_st_write.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define CHECKSUM_DIGITS 16

static const struct { const char *zName; int elem; } aDtype[] = {
    { "F32", 4 }, { "F64", 8 }, { "I32", 4 }, { "U8", 1 }, { "I64", 8 }, { "U64", 8 },
};

int sptt_stw_dtype_size(const char *zDtype)
{
    for(size_t i = 0; i < sizeof aDtype / sizeof aDtype[0]; i++)
        if( strcmp(zDtype, aDtype[i].zName)==0 ) return aDtype[i].elem;
    return 0;
}

static const char *dtype_static(const char *zDtype)
{
    for(size_t i = 0; i < sizeof aDtype / sizeof aDtype[0]; i++)
        if( strcmp(zDtype, aDtype[i].zName)==0 ) return aDtype[i].zName;
    return NULL;
}

void sptt_stw_init(sptt_stw *w)
{
    memset(w, 0, sizeof *w);
    w->iChecksum = -1;
}

void sptt_stw_free(sptt_stw *w)
{
    for(int i = 0; i < w->nT; i++) free(w->aT[i].zName);
    for(int i = 0; i < 2 * w->nMeta; i++) free(w->azMeta[i]);
    free(w->aT);
    free(w->azMeta);
    sptt_stw_init(w);
}

/* Records the first failure; later calls keep returning it. */
static int stw_fail(sptt_stw *w, int rc)
{
    if( w->rc==SPTT_OK ) w->rc = rc;
    return rc;
}

static char *dup_string(const char *z)
{
    size_t n = strlen(z) + 1;
    char *p = sptt_malloc(n);
    if( p ) memcpy(p, z, n);
    return p;
}

int sptt_stw_add(sptt_stw *w, const char *zName, const char *zDtype, const void *pData, int ndim,
                 const int64_t *aShape)
{
    if( w->rc ) return w->rc;
    const char *zType = dtype_static(zDtype);
    if( zType==NULL ) return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor %s: unknown dtype %s", zName, zDtype));
    if( zName[0]==0 || strcmp(zName, "__metadata__")==0 )
        return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor name \"%s\" is reserved", zName));
    if( ndim < 0 || ndim > SPTT_STW_MAX_NDIM )
        return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor %s: %d dimensions, at most %d", zName, ndim, SPTT_STW_MAX_NDIM));
    for(int i = 0; i < w->nT; i++)
        if( strcmp(w->aT[i].zName, zName)==0 ) return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor %s added twice", zName));
    size_t nByte = (size_t)sptt_stw_dtype_size(zType);
    for(int k = 0; k < ndim; k++){
        if( aShape[k] < 0 )
            return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor %s: dimension %d is negative", zName, k));
        if( (uint64_t)aShape[k] > SIZE_MAX || (nByte = sptt_mul_size(nByte, (size_t)aShape[k]))==SIZE_MAX )
            return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor %s: byte size overflows", zName));
    }
    if( nByte > 0 && pData==NULL ) return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: tensor %s: no data", zName));
    if( w->nT==w->nTAlloc ){
        int nNew = w->nTAlloc ? 2 * w->nTAlloc : 64;
        sptt_stw_tensor *aNew = sptt_realloc(w->aT, sizeof *aNew * (size_t)nNew);
        if( aNew==NULL ) return stw_fail(w, SPTT_ENOMEM);
        w->aT = aNew;
        w->nTAlloc = nNew;
    }
    sptt_stw_tensor *t = &w->aT[w->nT];
    memset(t, 0, sizeof *t);
    if( (t->zName = dup_string(zName))==NULL ) return stw_fail(w, SPTT_ENOMEM);
    t->zDtype = zType;
    t->elem = sptt_stw_dtype_size(zType);
    t->ndim = ndim;
    for(int k = 0; k < ndim; k++) t->shape[k] = aShape[k];
    t->pData = pData;
    t->nByte = nByte;
    w->nT++;
    return SPTT_OK;
}

int sptt_stw_meta(sptt_stw *w, const char *zKey, const char *zValue)
{
    if( w->rc ) return w->rc;
    for(int i = 0; i < w->nMeta; i++)
        if( strcmp(w->azMeta[2 * i], zKey)==0 ) return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: metadata %s set twice", zKey));
    if( w->nMeta==w->nMetaAlloc ){
        int nNew = w->nMetaAlloc ? 2 * w->nMetaAlloc : 16;
        char **aNew = sptt_realloc(w->azMeta, sizeof *aNew * 2 * (size_t)nNew);
        if( aNew==NULL ) return stw_fail(w, SPTT_ENOMEM);
        w->azMeta = aNew;
        w->nMetaAlloc = nNew;
    }
    char *zK = dup_string(zKey), *zV = dup_string(zValue);
    if( zK==NULL || zV==NULL ){
        free(zK);
        free(zV);
        return stw_fail(w, SPTT_ENOMEM);
    }
    w->azMeta[2 * w->nMeta] = zK;
    w->azMeta[2 * w->nMeta + 1] = zV;
    w->nMeta++;
    return SPTT_OK;
}

int sptt_stw_checksum(sptt_stw *w, const char *zKey)
{
    if( w->rc ) return w->rc;
    if( w->iChecksum >= 0 ) return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: a checksum key is already set"));
    if( zKey[0]==0 || strspn(zKey, "abcdefghijklmnopqrstuvwxyz0123456789_")!=strlen(zKey) )
        return stw_fail(w, sptt_fail(SPTT_EINVAL, "safetensors: checksum key \"%s\": only [a-z0-9_]", zKey));
    char zZero[CHECKSUM_DIGITS + 1];
    memset(zZero, '0', CHECKSUM_DIGITS);
    zZero[CHECKSUM_DIGITS] = 0;
    int rc = sptt_stw_meta(w, zKey, zZero);
    if( rc ) return rc;
    w->iChecksum = w->nMeta - 1;
    return SPTT_OK;
}

/* The header JSON, unpadded (caller frees). */
static int build_header(const sptt_stw *w, const char *zPath, char **pzJson)
{
    int rc = SPTT_OK;
    json_t *h = json_object(), *meta = NULL;
    *pzJson = NULL;
    if( h==NULL ) return sptt_fail(SPTT_ENOMEM, "%s: cannot build the header", zPath);
    if( w->nMeta ){
        if( (meta = json_object())==NULL || json_object_set_new(h, "__metadata__", meta) ){
            rc = sptt_fail(SPTT_ENOMEM, "%s: cannot build the header", zPath);
            goto done;
        }
        for(int i = 0; i < w->nMeta; i++){
            json_t *v = json_string(w->azMeta[2 * i + 1]);
            if( v==NULL || json_object_set_new(meta, w->azMeta[2 * i], v) ){
                rc = sptt_fail(SPTT_EINVAL, "%s: metadata %s: not valid UTF-8", zPath, w->azMeta[2 * i]);
                goto done;
            }
        }
    }
    size_t off = 0;
    for(int i = 0; i < w->nT; i++){
        const sptt_stw_tensor *t = &w->aT[i];
        json_t *o = json_object(), *sh = json_array(), *of = json_array();
        int bad = o==NULL || sh==NULL || of==NULL;
        for(int k = 0; k < t->ndim && !bad; k++) bad |= json_array_append_new(sh, json_integer(t->shape[k]));
        if( !bad ){
            bad |= json_array_append_new(of, json_integer((json_int_t)off));
            bad |= json_array_append_new(of, json_integer((json_int_t)(off + t->nByte)));
            bad |= json_object_set_new(o, "dtype", json_string(t->zDtype));
            bad |= json_object_set_new(o, "shape", sh);
            sh = NULL;
            bad |= json_object_set_new(o, "data_offsets", of);
            of = NULL;
        }
        if( !bad ){
            bad |= json_object_set_new(h, t->zName, o);
            o = NULL;
        }
        json_decref(o);
        json_decref(sh);
        json_decref(of);
        if( bad ){
            rc = sptt_fail(SPTT_EINVAL, "%s: tensor %s: cannot enter it in the header (name not UTF-8?)", zPath, t->zName);
            goto done;
        }
        if( t->nByte > SIZE_MAX - off ){
            rc = sptt_fail(SPTT_EINVAL, "%s: tensor %s: the data area overflows", zPath, t->zName);
            goto done;
        }
        off += t->nByte;
    }
    if( (*pzJson = json_dumps(h, JSON_COMPACT))==NULL ) rc = sptt_fail(SPTT_ENOMEM, "%s: cannot format the header", zPath);
done:
    json_decref(h);
    return rc;
}

static int host_is_le(void)
{
    const uint16_t x = 1;
    uint8_t b;
    memcpy(&b, &x, 1);
    return b==1;
}

/* Feeds the data area, little-endian, to a sink: the hash or the file. */
typedef int (*sink_fn)(void *pCtx, const void *p, size_t n);

static int emit_data(const sptt_stw *w, sink_fn xSink, void *pCtx)
{
    int le = host_is_le();
    for(int i = 0; i < w->nT; i++){
        const sptt_stw_tensor *t = &w->aT[i];
        const uint8_t *p = t->pData;
        if( t->nByte==0 ) continue;
        if( le || t->elem==1 ){
            int rc = xSink(pCtx, p, t->nByte);
            if( rc ) return rc;
            continue;
        }
        uint8_t buf[4096];
        for(size_t k = 0; k < t->nByte; k += sizeof buf){
            size_t m = t->nByte - k < sizeof buf ? t->nByte - k : sizeof buf;
            for(size_t j = 0; j < m; j += (size_t)t->elem)
                for(int b = 0; b < t->elem; b++) buf[j + (size_t)b] = p[k + j + (size_t)(t->elem - 1 - b)];
            int rc = xSink(pCtx, buf, m);
            if( rc ) return rc;
        }
    }
    return SPTT_OK;
}

static int sink_hash(void *pCtx, const void *p, size_t n)
{
    sptt_hash_update((sptt_hash *)pCtx, p, n);
    return SPTT_OK;
}

static int sink_file(void *pCtx, const void *p, size_t n)
{
    return sptt_atomic_write((sptt_atomic *)pCtx, p, n);
}

/* Where the checksum's digits sit in the header: right after "KEY":" (only [a-z0-9_] in KEY, so
** the header spells it as is, and a quote followed by the key and ":" cannot occur elsewhere in
** valid JSON but as this member). */
static char *find_checksum(char *zJson, const char *zKey)
{
    char zPat[80];
    snprintf(zPat, sizeof zPat, "\"%s\":\"", zKey);
    char *z = strstr(zJson, zPat);
    return z ? z + strlen(zPat) : NULL;
}

int sptt_stw_write_atomic(sptt_stw *w, const char *zPath)
{
    int rc = w->rc;
    char *zJson = NULL;
    sptt_atomic at;
    int open = 0;
    static const char zSpaces[8] = "        ";
    if( rc ) return rc;
    if( (rc = build_header(w, zPath, &zJson)) ) goto done;
    size_t nJson = strlen(zJson), nPad = (8 - nJson % 8) % 8;
    uint8_t len[8];
    for(int k = 0; k < 8; k++) len[k] = (uint8_t)((uint64_t)(nJson + nPad) >> (8 * k));

    if( w->iChecksum >= 0 ){
        char *zDigits = find_checksum(zJson, w->azMeta[2 * w->iChecksum]);
        if( zDigits==NULL ){
            rc = sptt_fail(SPTT_EINVAL, "%s: checksum key %s not found in the header", zPath, w->azMeta[2 * w->iChecksum]);
            goto done;
        }
        sptt_hash h;
        sptt_hash_init(&h);
        sptt_hash_update(&h, len, 8);
        sptt_hash_update(&h, zJson, nJson);
        sptt_hash_update(&h, zSpaces, nPad);
        if( (rc = emit_data(w, sink_hash, &h)) ) goto done;
        char zHex[CHECKSUM_DIGITS + 1];
        snprintf(zHex, sizeof zHex, "%016llx", (unsigned long long)sptt_hash_final(&h));
        memcpy(zDigits, zHex, CHECKSUM_DIGITS);
    }

    if( (rc = sptt_atomic_open(&at, zPath)) ) goto done;
    open = 1;
    if( (rc = sptt_atomic_write(&at, len, 8)) ) goto done;
    if( (rc = sptt_atomic_write(&at, zJson, nJson)) ) goto done;
    if( (rc = sptt_atomic_write(&at, zSpaces, nPad)) ) goto done;
    if( (rc = emit_data(w, sink_file, &at)) ) goto done;
    open = 0;
    rc = sptt_atomic_commit(&at);
done:
    if( open ) sptt_atomic_abort(&at);
    free(zJson);
    return rc;
}
