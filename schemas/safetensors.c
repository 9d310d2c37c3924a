/*
** safetensors reader (sptt_safetensors.h). The header is parsed with jansson and kept for the
** life of the handle: tensor names and metadata strings point into it, tensor data into the
** file bytes, so opening copies nothing but the small tensor table.
*/
#include "sptt_common.h"
#include "sptt_safetensors.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct sptt_st {
    char *zFile;                  /* for the messages of sptt_st_get */
    uint8_t *owned;               /* the file bytes when sptt_st_read read them */
    json_t *header;
    int nTensor;
    sptt_st_tensor *aTensor;      /* data-area order */
    sptt_st_tensor **apByName;    /* sorted by name, for lookups */
    int nMeta;
    const char **azMetaKey;
    const char **azMetaValue;
};

static const struct {
    const char *z;
    size_t size;
} aType[SPTT_ST_NDTYPE] = {
    {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8},
};

const char *sptt_st_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < SPTT_ST_NDTYPE ? aType[dtype].z : NULL;
}

size_t sptt_st_dtype_size(int dtype)
{
    return dtype >= 0 && dtype < SPTT_ST_NDTYPE ? aType[dtype].size : 0;
}

/* "[2, 3]" into z; long shapes are cut, which only shortens a message. */
static const char *shape_text(const uint64_t *shape, int ndim, char *z, size_t n)
{
    size_t at = 0;
    at += (size_t)snprintf(z, n, "[");
    for(int i = 0; i < ndim && at < n; i++){
        at += (size_t)snprintf(z + at, n - at, "%s%llu", i ? ", " : "", (unsigned long long)shape[i]);
    }
    if( at < n ) snprintf(z + at, n - at, "]");
    return z;
}

/* A non-negative JSON integer, or -1. */
static int64_t json_count(const json_t *j)
{
    json_int_t v;
    if( !json_is_integer(j) ) return -1;
    v = json_integer_value(j);
    return v < 0 ? -1 : (int64_t)v;
}

/* One header entry -> t, checked on its own; the tiling of the data area is checked later. */
static int parse_tensor(const char *zFile, const char *zKey, json_t *v, uint64_t dataSize, sptt_st_tensor *t)
{
    const char *k;
    json_t *f, *jd, *js, *jo;
    uint64_t nByte;
    int64_t b, e;
    char zShape[160];

    memset(t, 0, sizeof *t);
    t->zName = zKey;
    if( !json_is_object(v) ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': not an object with dtype, shape and data_offsets", zFile, zKey);
    }
    json_object_foreach(v, k, f){
        if( strcmp(k, "dtype")!=0 && strcmp(k, "shape")!=0 && strcmp(k, "data_offsets")!=0 ){
            return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': unknown field '%.60s'", zFile, zKey, k);
        }
    }

    jd = json_object_get(v, "dtype");
    if( !json_is_string(jd) ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'dtype': missing or not a string", zFile, zKey);
    }
    t->dtype = -1;
    for(int i = 0; i < SPTT_ST_NDTYPE; i++) if( strcmp(json_string_value(jd), aType[i].z)==0 ) t->dtype = i;
    if( t->dtype < 0 ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'dtype': unknown type '%.40s'", zFile, zKey,
                         json_string_value(jd));
    }

    js = json_object_get(v, "shape");
    if( !json_is_array(js) ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'shape': missing or not an array", zFile, zKey);
    }
    if( json_array_size(js) > SPTT_ST_MAX_DIMS ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'shape': %zu dimensions, at most %d", zFile, zKey,
                         json_array_size(js), SPTT_ST_MAX_DIMS);
    }
    t->ndim = (int)json_array_size(js);
    t->nElem = 1;
    for(int i = 0; i < t->ndim; i++){
        int64_t d = json_count(json_array_get(js, (size_t)i));
        if( d < 0 ){
            return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'shape': entry %d is not a non-negative integer",
                             zFile, zKey, i);
        }
        t->shape[i] = (uint64_t)d;
    }
    for(int i = 0; i < t->ndim; i++){
        if( t->shape[i] && t->nElem > UINT64_MAX / t->shape[i] ){
            return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'shape': %s has more elements than 64 bits count",
                             zFile, zKey, shape_text(t->shape, t->ndim, zShape, sizeof zShape));
        }
        t->nElem *= t->shape[i];
    }
    if( t->nElem > UINT64_MAX / aType[t->dtype].size ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'shape': %s of %s needs more bytes than 64 bits count",
                         zFile, zKey, shape_text(t->shape, t->ndim, zShape, sizeof zShape), aType[t->dtype].z);
    }
    nByte = t->nElem * aType[t->dtype].size;

    jo = json_object_get(v, "data_offsets");
    if( !json_is_array(jo) || json_array_size(jo)!=2 ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': missing or not [begin, end]", zFile, zKey);
    }
    b = json_count(json_array_get(jo, 0));
    e = json_count(json_array_get(jo, 1));
    if( b < 0 || e < 0 ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': begin and end must be non-negative integers",
                         zFile, zKey);
    }
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    if( t->begin > t->end ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': begin %llu is after end %llu", zFile, zKey,
                         (unsigned long long)t->begin, (unsigned long long)t->end);
    }
    if( t->end > dataSize ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': [%llu, %llu] runs past the %llu-byte data area",
                         zFile, zKey, (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)dataSize);
    }
    if( t->end - t->begin!=nByte ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': [%llu, %llu] holds %llu bytes, %s %s needs %llu",
                         zFile, zKey, (unsigned long long)t->begin, (unsigned long long)t->end,
                         (unsigned long long)(t->end - t->begin), aType[t->dtype].z,
                         shape_text(t->shape, t->ndim, zShape, sizeof zShape), (unsigned long long)nByte);
    }
    return SPTT_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const sptt_st_tensor *x = a, *y = b;
    if( x->begin!=y->begin ) return x->begin < y->begin ? -1 : 1;
    if( x->end!=y->end ) return x->end < y->end ? -1 : 1;
    return strcmp(x->zName, y->zName);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const sptt_st_tensor *const *)a)->zName, (*(const sptt_st_tensor *const *)b)->zName);
}

void sptt_st_close(sptt_st *st)
{
    if( st==NULL ) return;
    json_decref(st->header);
    free(st->zFile);
    free(st->aTensor);
    free(st->apByName);
    free(st->azMetaKey);
    free(st->azMetaValue);
    free(st->owned);
    free(st);
}

int sptt_st_open_buffer(const char *zFile, const uint8_t *data, size_t n, sptt_st **pSt)
{
    int rc = SPTT_OK;
    sptt_st *st = NULL;
    uint64_t N, dataSize;
    json_error_t err;
    const char *zKey;
    json_t *v, *meta;
    const uint8_t *area;
    size_t nKey;
    int i;

    *pSt = NULL;
    if( n < 8 ){
        return sptt_fail(SPTT_EFORMAT, "%s: %zu bytes, too short for the 8-byte header length", zFile, n);
    }
    N = sptt_le64(data);
    if( N > SPTT_ST_MAX_HEADER ){
        return sptt_fail(SPTT_EFORMAT, "%s: byte 0: header length %llu is over the %llu-byte limit", zFile,
                         (unsigned long long)N, (unsigned long long)SPTT_ST_MAX_HEADER);
    }
    if( N > n - 8 ){
        return sptt_fail(SPTT_EFORMAT, "%s: byte 0: header length %llu runs past the end of the %zu-byte file", zFile,
                         (unsigned long long)N, n);
    }
    if( N < 2 || data[8]!='{' ){
        return sptt_fail(SPTT_EFORMAT, "%s: byte 8: the header is not a JSON object (it must start with '{')", zFile);
    }
    dataSize = n - 8 - N;
    area = data + 8 + N;

    st = sptt_calloc(1, sizeof *st);
    if( st==NULL ) return SPTT_ENOMEM;
    st->zFile = sptt_malloc(strlen(zFile) + 1);
    if( st->zFile==NULL ){ rc = SPTT_ENOMEM; goto done; }
    memcpy(st->zFile, zFile, strlen(zFile) + 1);
    /* Trailing spaces (the padding to a multiple of 8) are whitespace to the parser; anything
    ** else after the object is an error. */
    st->header = json_loadb((const char *)data + 8, (size_t)N, JSON_REJECT_DUPLICATES, &err);
    if( st->header==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: header: JSON line %d column %d: %s", zFile, err.line, err.column, err.text);
        goto done;
    }
    if( !json_is_object(st->header) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: header: not a JSON object", zFile);
        goto done;
    }

    meta = json_object_get(st->header, "__metadata__");
    if( meta ){
        if( !json_is_object(meta) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: field '__metadata__': not an object of strings", zFile);
            goto done;
        }
        nKey = json_object_size(meta);
        st->azMetaKey = sptt_malloc(sizeof(char *) * (nKey ? nKey : 1));
        st->azMetaValue = sptt_malloc(sizeof(char *) * (nKey ? nKey : 1));
        if( !st->azMetaKey || !st->azMetaValue ){ rc = SPTT_ENOMEM; goto done; }
        json_object_foreach(meta, zKey, v){
            if( !json_is_string(v) ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: field '__metadata__': value of '%.200s' is not a string", zFile, zKey);
                goto done;
            }
            st->azMetaKey[st->nMeta] = zKey;
            st->azMetaValue[st->nMeta] = json_string_value(v);
            st->nMeta++;
        }
    }

    nKey = json_object_size(st->header) - (meta ? 1 : 0);
    if( nKey > INT32_MAX ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: header: %zu tensors is too many", zFile, nKey);
        goto done;
    }
    st->aTensor = sptt_malloc(sizeof(sptt_st_tensor) * (nKey ? nKey : 1));
    st->apByName = sptt_malloc(sizeof(sptt_st_tensor *) * (nKey ? nKey : 1));
    if( !st->aTensor || !st->apByName ){ rc = SPTT_ENOMEM; goto done; }
    json_object_foreach(st->header, zKey, v){
        if( strcmp(zKey, "__metadata__")==0 ) continue;
        if( (rc = parse_tensor(zFile, zKey, v, dataSize, &st->aTensor[st->nTensor])) ) goto done;
        st->nTensor++;
    }

    /* Sorted by offset, the tensors must tile the data area: each begins where the one before
    ** ends, the first at 0 and the last ending at the end of the file. */
    if( st->nTensor > 1 ) qsort(st->aTensor, (size_t)st->nTensor, sizeof(sptt_st_tensor), cmp_offset);
    {
        uint64_t at = 0;
        for(i = 0; i < st->nTensor; i++){
            const sptt_st_tensor *t = &st->aTensor[i];
            if( t->begin < at ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': [%llu, %llu] overlaps tensor '%.200s' "
                               "[%llu, %llu]", zFile, t->zName, (unsigned long long)t->begin, (unsigned long long)t->end,
                               st->aTensor[i - 1].zName, (unsigned long long)st->aTensor[i - 1].begin,
                               (unsigned long long)st->aTensor[i - 1].end);
                goto done;
            }
            if( t->begin > at ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'data_offsets': begins at %llu, leaving data bytes "
                               "%llu to %llu to no tensor", zFile, t->zName, (unsigned long long)t->begin,
                               (unsigned long long)at, (unsigned long long)t->begin);
                goto done;
            }
            at = t->end;
        }
        if( at!=dataSize ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: the data area holds %llu bytes after the last tensor's end at %llu", zFile,
                           (unsigned long long)(dataSize - at), (unsigned long long)at);
            goto done;
        }
    }
    for(i = 0; i < st->nTensor; i++){
        st->aTensor[i].data = area + st->aTensor[i].begin;
        st->apByName[i] = &st->aTensor[i];
    }
    if( st->nTensor > 1 ) qsort(st->apByName, (size_t)st->nTensor, sizeof(sptt_st_tensor *), cmp_name);
    *pSt = st;
    st = NULL;

done:
    sptt_st_close(st);
    return rc;
}

int sptt_st_read(const char *zPath, sptt_st **pSt)
{
    uint8_t *data = NULL;
    size_t n = 0;
    int rc;
    *pSt = NULL;
    if( (rc = sptt_read_file(zPath, &data, &n)) ) return rc;
    rc = sptt_st_open_buffer(zPath, data, n, pSt);
    if( rc ){
        free(data);
        return rc;
    }
    (*pSt)->owned = data;
    return SPTT_OK;
}

int sptt_st_count(const sptt_st *st)
{
    return st->nTensor;
}

const sptt_st_tensor *sptt_st_at(const sptt_st *st, int i)
{
    return i >= 0 && i < st->nTensor ? &st->aTensor[i] : NULL;
}

const sptt_st_tensor *sptt_st_find(const sptt_st *st, const char *zName)
{
    sptt_st_tensor key, *pKey = &key;
    sptt_st_tensor **pp;
    if( st->nTensor==0 ) return NULL;
    key.zName = zName;
    pp = bsearch(&pKey, st->apByName, (size_t)st->nTensor, sizeof(sptt_st_tensor *), cmp_name);
    return pp ? *pp : NULL;
}

int sptt_st_get(const sptt_st *st, const char *zName, int dtype, int ndim, const uint64_t *shape,
                const sptt_st_tensor **pT)
{
    const sptt_st_tensor *t = sptt_st_find(st, zName);
    char zHave[160], zWant[160];
    *pT = NULL;
    if( t==NULL ) return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': missing", st->zFile, zName);
    if( t->dtype!=dtype ){
        return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'dtype': %s, expected %s", st->zFile, zName,
                         aType[t->dtype].z, sptt_st_dtype_name(dtype) ? sptt_st_dtype_name(dtype) : "?");
    }
    if( shape ){
        int same = t->ndim==ndim;
        for(int i = 0; same && i < ndim; i++) same = t->shape[i]==shape[i];
        if( !same ){
            return sptt_fail(SPTT_EFORMAT, "%s: tensor '%.200s': field 'shape': %s, expected %s", st->zFile, zName,
                             shape_text(t->shape, t->ndim, zHave, sizeof zHave),
                             shape_text(shape, ndim > SPTT_ST_MAX_DIMS ? SPTT_ST_MAX_DIMS : ndim, zWant, sizeof zWant));
        }
    }
    *pT = t;
    return SPTT_OK;
}

const char *sptt_st_meta(const sptt_st *st, const char *zKey)
{
    for(int i = 0; i < st->nMeta; i++) if( strcmp(st->azMetaKey[i], zKey)==0 ) return st->azMetaValue[i];
    return NULL;
}

int sptt_st_meta_count(const sptt_st *st)
{
    return st->nMeta;
}

void sptt_st_meta_at(const sptt_st *st, int i, const char **pKey, const char **pValue)
{
    *pKey = i >= 0 && i < st->nMeta ? st->azMetaKey[i] : NULL;
    *pValue = i >= 0 && i < st->nMeta ? st->azMetaValue[i] : NULL;
}
