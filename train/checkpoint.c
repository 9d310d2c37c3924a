/*
** Training checkpoints (sptt_ckpt.h, schemas/checkpoint.md).
**
** Writing goes through the shared safetensors writer. Reading is strict and in two layers: the
** container (load_tensors: header length, JSON, every tensor's dtype, shape and offsets, the data
** area tiled without gaps) and the checkpoint's meaning (checksum, metadata, the exact tensor set
** the stored config implies). Only load_tensors knows the container, so it can give way to a
** shared safetensors reader without touching the rest.
*/
#include "sptt_ckpt.h"
#include "sptt_st_write.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECKSUM_KEY    "checksum"
#define CHECKSUM_DIGITS 16
#define MAX_NDIM        8

/* ---------------------------------------------------------------------------------------------
** The container, read strictly.
*/
#define DT_F32 0
#define DT_I32 1
#define DT_U8  2
#define DT_I64 3
#define DT_U64 4

static const struct { const char *zName; int elem; } aDtype[] = {
    { "F32", 4 }, { "I32", 4 }, { "U8", 1 }, { "I64", 8 }, { "U64", 8 },
};

typedef struct ck_tensor {
    const char *zName;        /* owned by the parsed header */
    int dtype;                /* DT_* */
    int ndim;
    int64_t shape[MAX_NDIM];
    const uint8_t *p;         /* into the file's bytes; not aligned */
    size_t nByte;
    int used;                 /* claimed by the checkpoint reader; a tensor nobody claims is refused */
} ck_tensor;

typedef struct ck_file {
    json_t *root;             /* the header */
    json_t *meta;             /* its __metadata__, NULL when absent */
    ck_tensor *a;
    int n;
} ck_file;

static void ck_file_free(ck_file *f)
{
    json_decref(f->root);
    free(f->a);
    memset(f, 0, sizeof *f);
}

static int cmp_by_offset(const void *pA, const void *pB)
{
    const ck_tensor *a = pA, *b = pB;
    if( a->p != b->p ) return a->p < b->p ? -1 : 1;
    return a->nByte < b->nByte ? -1 : a->nByte > b->nByte;
}

/* A JSON integer in [lo, hi], or -1 when it is not one. */
static int json_int_in(const json_t *v, json_int_t lo, json_int_t hi, json_int_t *pOut)
{
    if( !json_is_integer(v) ) return -1;
    json_int_t x = json_integer_value(v);
    if( x < lo || x > hi ) return -1;
    *pOut = x;
    return 0;
}

/*
** Parses a safetensors file held in p[0..n): header length within the file, a JSON object with no
** duplicate key, string-only metadata, every tensor with exactly dtype, shape and data_offsets, a
** known dtype, a byte size that matches its shape (overflow-checked), offsets within the data
** area, and the tensors tiling the data area without gap or overlap. The result points into p.
*/
static int load_tensors(const char *zPath, const uint8_t *p, size_t n, ck_file *f)
{
    int rc = SPTT_OK;
    memset(f, 0, sizeof *f);
    if( n < 8 ) return sptt_fail(SPTT_EFORMAT, "%s: %zu bytes, too short for a header length: truncated", zPath, n);
    uint64_t nHdr = sptt_le64(p);
    if( nHdr > n - 8 )
        return sptt_fail(SPTT_EFORMAT, "%s: header length %llu runs past the end of the file (%zu bytes): truncated or corrupt",
                         zPath, (unsigned long long)nHdr, n);
    if( nHdr < 2 || p[8] != '{' ) return sptt_fail(SPTT_EFORMAT, "%s: header is not a JSON object", zPath);
    const uint8_t *pData = p + 8 + nHdr;
    size_t nData = n - 8 - (size_t)nHdr;

    json_error_t err;
    f->root = json_loadb((const char *)p + 8, (size_t)nHdr, JSON_REJECT_DUPLICATES, &err);
    if( f->root==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: header: byte %d: %s", zPath, err.position, err.text);
        goto fail;
    }
    if( !json_is_object(f->root) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: header is not a JSON object", zPath);
        goto fail;
    }
    size_t nKey = json_object_size(f->root);
    f->a = sptt_calloc(nKey ? nKey : 1, sizeof *f->a);
    if( f->a==NULL ){ rc = SPTT_ENOMEM; goto fail; }
    const char *zKey;
    json_t *v;
    json_object_foreach(f->root, zKey, v){
        if( strcmp(zKey, "__metadata__")==0 ){
            if( !json_is_object(v) ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: __metadata__ is not an object", zPath);
                goto fail;
            }
            const char *zMk;
            json_t *mv;
            json_object_foreach(v, zMk, mv){
                if( !json_is_string(mv) ){
                    rc = sptt_fail(SPTT_EFORMAT, "%s: metadata %s: not a string", zPath, zMk);
                    goto fail;
                }
            }
            f->meta = v;
            continue;
        }
        ck_tensor *t = &f->a[f->n];
        t->zName = zKey;
        json_t *jType = json_object_get(v, "dtype"), *jShape = json_object_get(v, "shape");
        json_t *jOff = json_object_get(v, "data_offsets");
        if( !json_is_object(v) || json_object_size(v) != 3 || !json_is_string(jType) || !json_is_array(jShape) ||
            !json_is_array(jOff) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: expected exactly dtype, shape and data_offsets", zPath, zKey);
            goto fail;
        }
        t->dtype = -1;
        for(int k = 0; k < (int)(sizeof aDtype / sizeof aDtype[0]); k++)
            if( strcmp(json_string_value(jType), aDtype[k].zName)==0 ) t->dtype = k;
        if( t->dtype < 0 ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: dtype %.20s is not one this reader knows", zPath, zKey,
                           json_string_value(jType));
            goto fail;
        }
        if( json_array_size(jShape) > MAX_NDIM ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: shape has %zu dimensions, at most %d", zPath, zKey,
                           json_array_size(jShape), MAX_NDIM);
            goto fail;
        }
        t->ndim = (int)json_array_size(jShape);
        size_t nByte = (size_t)aDtype[t->dtype].elem;
        for(int k = 0; k < t->ndim; k++){
            json_int_t d;
            if( json_int_in(json_array_get(jShape, (size_t)k), 0, INT64_MAX, &d) ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: shape[%d] is not a non-negative integer", zPath, zKey, k);
                goto fail;
            }
            t->shape[k] = d;
            if( (uint64_t)d > SIZE_MAX || (nByte = sptt_mul_size(nByte, (size_t)d))==SIZE_MAX ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: shape's byte size overflows", zPath, zKey);
                goto fail;
            }
        }
        json_int_t b, e;
        if( json_array_size(jOff) != 2 || json_int_in(json_array_get(jOff, 0), 0, INT64_MAX, &b) ||
            json_int_in(json_array_get(jOff, 1), 0, INT64_MAX, &e) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: data_offsets is not two non-negative integers", zPath, zKey);
            goto fail;
        }
        if( b > e || (uint64_t)e > nData ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: data_offsets [%lld, %lld] outside the data area of %zu bytes%s",
                           zPath, zKey, (long long)b, (long long)e, nData, (uint64_t)e > nData ? ": truncated" : "");
            goto fail;
        }
        if( (uint64_t)(e - b) != nByte ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: data_offsets span %lld bytes, its dtype and shape need %zu",
                           zPath, zKey, (long long)(e - b), nByte);
            goto fail;
        }
        t->p = pData + b;
        t->nByte = nByte;
        f->n++;
    }

    /* the tensors must tile the data area: a gap or an overlap means a damaged or foreign file */
    ck_tensor *aSorted = sptt_malloc(sizeof *aSorted * (size_t)(f->n ? f->n : 1));
    if( aSorted==NULL ){ rc = SPTT_ENOMEM; goto fail; }
    memcpy(aSorted, f->a, sizeof *aSorted * (size_t)f->n);
    qsort(aSorted, (size_t)f->n, sizeof *aSorted, cmp_by_offset);
    size_t off = 0;
    for(int i = 0; i < f->n; i++){
        size_t b = (size_t)(aSorted[i].p - pData);
        if( b != off ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: starts at byte %zu of the data area, expected %zu (%s)", zPath,
                           aSorted[i].zName, b, off, b > off ? "a gap" : "an overlap");
            free(aSorted);
            goto fail;
        }
        off = b + aSorted[i].nByte;
    }
    free(aSorted);
    if( off != nData ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: the tensors end at byte %zu of a data area of %zu bytes", zPath, off, nData);
        goto fail;
    }
    return SPTT_OK;
fail:
    ck_file_free(f);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Lookups with the checks every reader repeats.
*/
static ck_tensor *ck_find(ck_file *f, const char *zName)
{
    for(int i = 0; i < f->n; i++) if( strcmp(f->a[i].zName, zName)==0 ) return &f->a[i];
    return NULL;
}

/* A tensor of the given dtype and shape (a -1 in aShape takes any size) is claimed, or refused. */
static int ck_get(ck_file *f, const char *zPath, const char *zName, int dtype, int ndim, const int64_t *aShape,
                  ck_tensor **ppT)
{
    ck_tensor *t = ck_find(f, zName);
    *ppT = NULL;
    if( t==NULL ) return sptt_fail(SPTT_EFORMAT, "%s: tensor %s is missing", zPath, zName);
    if( t->dtype != dtype )
        return sptt_fail(SPTT_EFORMAT, "%s: tensor %s: dtype %s, expected %s", zPath, zName, aDtype[t->dtype].zName,
                         aDtype[dtype].zName);
    int ok = t->ndim==ndim;
    for(int k = 0; ok && k < ndim; k++) ok = aShape[k] < 0 || t->shape[k]==aShape[k];
    if( !ok ){
        char zHave[160] = "", zWant[160] = "";
        for(int k = 0; k < t->ndim; k++)
            snprintf(zHave + strlen(zHave), sizeof zHave - strlen(zHave), "%s%lld", k ? "," : "", (long long)t->shape[k]);
        for(int k = 0; k < ndim; k++){
            if( aShape[k] < 0 ) snprintf(zWant + strlen(zWant), sizeof zWant - strlen(zWant), "%s*", k ? "," : "");
            else snprintf(zWant + strlen(zWant), sizeof zWant - strlen(zWant), "%s%lld", k ? "," : "", (long long)aShape[k]);
        }
        return sptt_fail(SPTT_EFORMAT, "%s: tensor %s: shape [%s], expected [%s]", zPath, zName, zHave, zWant);
    }
    t->used = 1;
    *ppT = t;
    return SPTT_OK;
}

static const char *ck_meta(const ck_file *f, const char *zKey)
{
    return f->meta ? json_string_value(json_object_get(f->meta, zKey)) : NULL;
}

static int meta_str(const ck_file *f, const char *zPath, const char *zKey, const char **pz)
{
    if( (*pz = ck_meta(f, zKey))==NULL ) return sptt_fail(SPTT_EFORMAT, "%s: metadata %s is missing", zPath, zKey);
    return SPTT_OK;
}

/* A decimal integer in [lo, hi]: digits only (a leading '-' when lo < 0), nothing else. */
static int meta_i64(const ck_file *f, const char *zPath, const char *zKey, int64_t lo, int64_t hi, int64_t *pOut)
{
    const char *z;
    int rc = meta_str(f, zPath, zKey, &z);
    if( rc ) return rc;
    char *zEnd;
    errno = 0;
    long long x = strtoll(z, &zEnd, 10);
    if( z[0]==0 || (z[0] != '-' && (z[0] < '0' || z[0] > '9')) || *zEnd || errno || x < lo || x > hi )
        return sptt_fail(SPTT_EFORMAT, "%s: metadata %s: \"%.40s\" is not an integer in [%lld, %lld]", zPath, zKey, z,
                         (long long)lo, (long long)hi);
    *pOut = x;
    return SPTT_OK;
}

static int meta_u64(const ck_file *f, const char *zPath, const char *zKey, uint64_t *pOut)
{
    const char *z;
    int rc = meta_str(f, zPath, zKey, &z);
    if( rc ) return rc;
    char *zEnd;
    errno = 0;
    unsigned long long x = strtoull(z, &zEnd, 10);
    if( z[0] < '0' || z[0] > '9' || *zEnd || errno )
        return sptt_fail(SPTT_EFORMAT, "%s: metadata %s: \"%.40s\" is not an unsigned 64-bit integer", zPath, zKey, z);
    *pOut = x;
    return SPTT_OK;
}

/* Little-endian file bytes to host values. */
static int host_is_le(void)
{
    const uint16_t x = 1;
    uint8_t b;
    memcpy(&b, &x, 1);
    return b==1;
}

static void copy_le(void *pOut, const uint8_t *p, size_t nByte, int elem)
{
    if( host_is_le() || elem==1 ){
        memcpy(pOut, p, nByte);
        return;
    }
    uint8_t *q = pOut;
    for(size_t i = 0; i < nByte; i += (size_t)elem)
        for(int b = 0; b < elem; b++) q[i + (size_t)b] = p[i + (size_t)(elem - 1 - b)];
}

/*
** The checksum: XXH64 of the whole file with the 16 hex digits of the "checksum" metadata value
** read as '0'. Its place is the one occurrence of "checksum":" in the header bytes (the key is
** plain ASCII, so a header spells it as is; inside another string its quotes would be escaped).
*/
static int verify_checksum(const char *zPath, const uint8_t *p, size_t n, const char *zStored)
{
    static const char zPat[] = "\"" CHECKSUM_KEY "\":\"";
    size_t nPat = sizeof zPat - 1, nHdr = (size_t)sptt_le64(p), at = 0;
    int nFound = 0;
    for(size_t i = 8; i + nPat + CHECKSUM_DIGITS < 8 + nHdr; i++){
        if( memcmp(p + i, zPat, nPat)==0 ){
            nFound++;
            at = i + nPat;
        }
    }
    if( nFound != 1 || p[at + CHECKSUM_DIGITS] != '"' || strlen(zStored) != CHECKSUM_DIGITS ||
        memcmp(p + at, zStored, CHECKSUM_DIGITS) != 0 )
        return sptt_fail(SPTT_ECORRUPT, "%s: metadata %s: not found once as 16 hex digits in the header", zPath, CHECKSUM_KEY);
    for(int i = 0; i < CHECKSUM_DIGITS; i++){
        char c = zStored[i];
        if( !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) )
            return sptt_fail(SPTT_ECORRUPT, "%s: metadata %s: \"%s\" is not 16 lower-case hex digits", zPath, CHECKSUM_KEY, zStored);
    }
    char zZero[CHECKSUM_DIGITS], zHex[CHECKSUM_DIGITS + 1];
    memset(zZero, '0', sizeof zZero);
    sptt_hash h;
    sptt_hash_init(&h);
    sptt_hash_update(&h, p, at);
    sptt_hash_update(&h, zZero, CHECKSUM_DIGITS);
    sptt_hash_update(&h, p + at + CHECKSUM_DIGITS, n - at - CHECKSUM_DIGITS);
    snprintf(zHex, sizeof zHex, "%016llx", (unsigned long long)sptt_hash_final(&h));
    if( memcmp(zHex, zStored, CHECKSUM_DIGITS) != 0 )
        return sptt_fail(SPTT_ECORRUPT, "%s: checksum mismatch (stored %s, computed %s): the file is corrupt", zPath, zStored, zHex);
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** The optimiser's configuration and step as JSON. One table drives both directions; floats are
** printed with 9 significant digits, which read back to the same float.
*/
typedef struct ofield { const char *zName; size_t off; int kind; } ofield;
#define OF_F32 0
#define OF_I64 1
static const ofield aOptField[] = {
    { "lr", offsetof(sptt_optim_config, lr), OF_F32 },
    { "fast_lr", offsetof(sptt_optim_config, fast_lr), OF_F32 },
    { "beta1", offsetof(sptt_optim_config, beta1), OF_F32 },
    { "beta2", offsetof(sptt_optim_config, beta2), OF_F32 },
    { "eps", offsetof(sptt_optim_config, eps), OF_F32 },
    { "weight_decay", offsetof(sptt_optim_config, weight_decay), OF_F32 },
    { "warmup", offsetof(sptt_optim_config, warmup), OF_I64 },
    { "total", offsetof(sptt_optim_config, total), OF_I64 },
    { "min_ratio", offsetof(sptt_optim_config, min_ratio), OF_F32 },
    { "clip", offsetof(sptt_optim_config, clip), OF_F32 },
};
#define N_OPT_FIELD ((int)(sizeof aOptField / sizeof aOptField[0]))

static char *optim_to_json(const sptt_optim *o)
{
    json_t *j = json_object();
    int bad = j==NULL;
    for(int i = 0; i < N_OPT_FIELD && !bad; i++){
        const char *p = (const char *)&o->cfg + aOptField[i].off;
        json_t *v = aOptField[i].kind==OF_F32 ? json_real(*(const float *)p) : json_integer(*(const int64_t *)p);
        bad |= json_object_set_new(j, aOptField[i].zName, v);
    }
    if( !bad ) bad |= json_object_set_new(j, "step", json_integer(o->step));
    char *z = bad ? NULL : json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(j);
    if( z==NULL ) sptt_fail(SPTT_ENOMEM, "optimiser: cannot format JSON");
    return z;
}

/* Every field present, no other, each of its type; NaN and infinity cannot be spelled in JSON. */
static int optim_from_json(const char *zPath, const char *zJson, sptt_optim_config *c, int64_t *pStep)
{
    int rc = SPTT_OK;
    json_error_t err;
    json_t *j = json_loads(zJson, JSON_REJECT_DUPLICATES, &err);
    memset(c, 0, sizeof *c);
    if( j==NULL || !json_is_object(j) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: metadata optim: not a JSON object", zPath);
        goto done;
    }
    if( json_object_size(j) != (size_t)N_OPT_FIELD + 1 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: metadata optim: %zu fields, expected %d", zPath, json_object_size(j), N_OPT_FIELD + 1);
        goto done;
    }
    for(int i = 0; i < N_OPT_FIELD; i++){
        json_t *v = json_object_get(j, aOptField[i].zName);
        char *p = (char *)c + aOptField[i].off;
        json_int_t x;
        if( aOptField[i].kind==OF_F32 && json_is_number(v) ){
            *(float *)p = (float)json_number_value(v);
            if( isfinite(*(float *)p) ) continue;
        }else if( aOptField[i].kind==OF_I64 && json_int_in(v, 0, INT64_MAX, &x)==0 ){
            *(int64_t *)p = x;
            continue;
        }
        rc = sptt_fail(SPTT_EFORMAT, "%s: metadata optim: field %s missing or not a %s", zPath, aOptField[i].zName,
                       aOptField[i].kind==OF_F32 ? "finite number" : "non-negative integer");
        goto done;
    }
    json_int_t step;
    if( json_int_in(json_object_get(j, "step"), 0, INT64_MAX, &step) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: metadata optim: field step missing or not a non-negative integer", zPath);
        goto done;
    }
    *pStep = step;
done:
    json_decref(j);
    return rc;
}

/* The options string: a JSON object that fits sptt_train_state.zOptions; "" stands for {}. */
static int options_check(const char *zPath, const char *zOptions)
{
    size_t n = strlen(zOptions);
    if( n >= SPTT_CKPT_OPTIONS )
        return sptt_fail(SPTT_EFORMAT, "%s: options: %zu bytes, at most %d", zPath, n, SPTT_CKPT_OPTIONS - 1);
    if( n==0 ) return SPTT_OK;
    json_t *j = json_loads(zOptions, 0, NULL);
    int ok = json_is_object(j);
    json_decref(j);
    return ok ? SPTT_OK : sptt_fail(SPTT_EFORMAT, "%s: options: not a JSON object", zPath);
}

/* The model's tensors must cover its parameter buffer, or parts of it would not be saved. */
static int covers_params(const sptt_model *m, size_t n)
{
    size_t sum = 0;
    for(int i = 0; i < sptt_model_n_tensors(m); i++) sum += sptt_model_tensor(m, i)->numel;
    return sum==n;
}

static void tensor_shape(const sptt_tensor_info *t, int64_t *aShape)
{
    for(int k = 0; k < t->ndim; k++) aShape[k] = t->shape[k];
}

/* ---------------------------------------------------------------------------------------------
** Saving
*/
int sptt_ckpt_save(const char *zPath, const sptt_model *m, const sptt_optim *o, const sptt_tokenizer *tok,
                   const sptt_train_state *st)
{
    int rc = SPTT_OK;
    sptt_stw w;
    char *zCfg = NULL, *zOpt = NULL, **azName = NULL;
    char zNum[32];
    sptt_stw_init(&w);
    if( m==NULL || tok==NULL || st==NULL ) return sptt_fail(SPTT_EINVAL, "%s: checkpoint: model, tokenizer and state are required", zPath);
    if( memchr(st->zOptions, 0, sizeof st->zOptions)==NULL )
        return sptt_fail(SPTT_EINVAL, "%s: checkpoint: options are not NUL-terminated", zPath);
    if( (rc = options_check(zPath, st->zOptions)) ) return SPTT_EINVAL;
    if( st->step < 0 || st->position < 0 || st->stage < 1 || st->stage > 2 )
        return sptt_fail(SPTT_EINVAL, "%s: checkpoint: step %lld, position %lld, stage %d: out of range", zPath,
                         (long long)st->step, (long long)st->position, st->stage);
    const sptt_config *cfg = sptt_model_config(m);
    if( sptt_tokenizer_vocab(tok) > cfg->vocab_size )
        return sptt_fail(SPTT_EINVAL, "%s: checkpoint: the tokenizer's %d ids exceed vocab_size %d", zPath,
                         sptt_tokenizer_vocab(tok), cfg->vocab_size);
    /* The model is only read; its accessor is not const-qualified. */
    size_t nParam;
    const float *params = sptt_model_params((sptt_model *)m, &nParam);
    if( !covers_params(m, nParam) ) return sptt_fail(SPTT_EINVAL, "%s: checkpoint: the model's tensors do not cover its parameters", zPath);
    if( o && (o->n != nParam || o->m==NULL || o->v==NULL || o->step < 0) )
        return sptt_fail(SPTT_EINVAL, "%s: checkpoint: the optimiser holds %zu parameters, the model %zu", zPath, o->n, nParam);

    int nt = sptt_model_n_tensors(m);
    azName = sptt_calloc((size_t)nt * 3, sizeof *azName);
    zCfg = sptt_config_to_json(cfg);
    if( azName==NULL || zCfg==NULL ){ rc = SPTT_ENOMEM; goto done; }
    if( o && (zOpt = optim_to_json(o))==NULL ){ rc = SPTT_ENOMEM; goto done; }

    sptt_stw_meta(&w, "format", SPTT_CKPT_FORMAT);
    sptt_stw_meta(&w, "version", SPTT_CKPT_VERSION);
    sptt_stw_meta(&w, "toolkit", SPTT_VERSION);
    sptt_stw_meta(&w, "config", zCfg);
    snprintf(zNum, sizeof zNum, "%lld", (long long)st->step);
    sptt_stw_meta(&w, "step", zNum);
    snprintf(zNum, sizeof zNum, "%lld", (long long)st->position);
    sptt_stw_meta(&w, "position", zNum);
    snprintf(zNum, sizeof zNum, "%d", st->stage);
    sptt_stw_meta(&w, "stage", zNum);
    snprintf(zNum, sizeof zNum, "%llu", (unsigned long long)st->seed);
    sptt_stw_meta(&w, "seed", zNum);
    sptt_stw_meta(&w, "options", st->zOptions[0] ? st->zOptions : "{}");
    if( o ) sptt_stw_meta(&w, "optim", zOpt);
    sptt_stw_checksum(&w, CHECKSUM_KEY);

    /* the 8-byte values first: the data area starts 8-aligned, so they are aligned in a mapped file */
    sptt_stw_add(&w, "rng", "U64", st->rng, 1, (int64_t[]){ 4 });
    static const char *const azPrefix[3] = { "param.", "adam_m.", "adam_v." };
    for(int pass = 0; pass < (o ? 3 : 1); pass++){
        const float *base = pass==0 ? params : pass==1 ? o->m : o->v;
        for(int i = 0; i < nt; i++){
            const sptt_tensor_info *t = sptt_model_tensor(m, i);
            size_t nName = strlen(azPrefix[pass]) + strlen(t->zName) + 1;
            char *z = azName[pass * nt + i] = sptt_malloc(nName);
            if( z==NULL ){ rc = SPTT_ENOMEM; goto done; }
            snprintf(z, nName, "%s%s", azPrefix[pass], t->zName);
            int64_t sh[4];
            tensor_shape(t, sh);
            sptt_stw_add(&w, z, "F32", base + t->offset, t->ndim, sh);
        }
    }
    int nMerge;
    const int32_t *aMerge = sptt_tokenizer_merges(tok, &nMerge);
    sptt_stw_add(&w, "tokenizer.merges", "I32", aMerge, 2, (int64_t[]){ nMerge, 2 });
    /* a failed add or meta call above is kept by the writer and returned here */
    rc = sptt_stw_write_atomic(&w, zPath);
done:
    sptt_stw_free(&w);
    if( azName ) for(int i = 0; i < 3 * nt; i++) free(azName[i]);
    free(azName);
    free(zCfg);
    free(zOpt);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Loading
*/
int sptt_ckpt_load(const char *zPath, sptt_model **ppM, sptt_optim *o, sptt_tokenizer **ppTok, sptt_train_state *st)
{
    int rc = SPTT_OK;
    uint8_t *pFile = NULL;
    size_t nFile = 0;
    ck_file f = {0};
    sptt_model *m = NULL;
    sptt_tokenizer *tok = NULL;
    sptt_optim opt;
    int32_t *aMerge = NULL;
    sptt_train_state *s = NULL;
    const char *z;
    ck_tensor *t;

    memset(&opt, 0, sizeof opt);
    *ppM = NULL;
    if( ppTok ) *ppTok = NULL;
    if( o ) memset(o, 0, sizeof *o);
    s = sptt_calloc(1, sizeof *s);
    if( s==NULL ){ rc = SPTT_ENOMEM; goto done; }

    if( (rc = sptt_read_file(zPath, &pFile, &nFile)) ) goto done;
    if( (rc = load_tensors(zPath, pFile, nFile, &f)) ) goto done;
    /* The checksum first when there is one: a bit flip then reads as corruption, whatever it hit. */
    if( (z = ck_meta(&f, CHECKSUM_KEY)) && (rc = verify_checksum(zPath, pFile, nFile, z)) ) goto done;
    if( (z = ck_meta(&f, "format"))==NULL || strcmp(z, SPTT_CKPT_FORMAT) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: not a checkpoint (metadata format is %s%.40s%s)", zPath, z ? "\"" : "", z ? z : "missing",
                       z ? "\"" : "");
        goto done;
    }
    if( (rc = meta_str(&f, zPath, "version", &z)) ) goto done;
    if( strcmp(z, SPTT_CKPT_VERSION) ){
        rc = sptt_fail(SPTT_EVERSION, "%s: checkpoint version %.20s; this toolkit reads version %s", zPath, z, SPTT_CKPT_VERSION);
        goto done;
    }
    if( ck_meta(&f, CHECKSUM_KEY)==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: metadata %s is missing", zPath, CHECKSUM_KEY);
        goto done;
    }

    /* state */
    int64_t stage;
    if( (rc = meta_i64(&f, zPath, "step", 0, INT64_MAX, &s->step)) ) goto done;
    if( (rc = meta_i64(&f, zPath, "position", 0, INT64_MAX, &s->position)) ) goto done;
    if( (rc = meta_i64(&f, zPath, "stage", 1, 2, &stage)) ) goto done;
    s->stage = (int)stage;
    if( (rc = meta_u64(&f, zPath, "seed", &s->seed)) ) goto done;
    if( (rc = meta_str(&f, zPath, "options", &z)) ) goto done;
    if( (rc = options_check(zPath, z)) ) goto done;
    memcpy(s->zOptions, z, strlen(z) + 1);
    if( (rc = ck_get(&f, zPath, "rng", DT_U64, 1, (int64_t[]){ 4 }, &t)) ) goto done;
    copy_le(s->rng, t->p, t->nByte, 8);

    /* model */
    sptt_config cfg;
    if( (rc = meta_str(&f, zPath, "config", &z)) ) goto done;
    if( (rc = sptt_config_from_json(z, &cfg)) ){
        rc = sptt_fail_prefix(SPTT_EFORMAT, "%s: metadata ", zPath);
        goto done;
    }
    if( (rc = sptt_model_create(&cfg, s->seed, &m)) ) goto done;
    size_t nParam;
    float *params = sptt_model_params(m, &nParam);
    if( !covers_params(m, nParam) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: the model's tensors do not cover its parameters", zPath);
        goto done;
    }

    /* optimiser: its moments are checked even when only the weights are wanted */
    const char *zOptim = ck_meta(&f, "optim");
    if( o && zOptim==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: holds no optimiser state (saved weights-only); load it weights-only", zPath);
        goto done;
    }
    if( zOptim ){
        sptt_optim_config oc;
        int64_t step = 0;
        if( (rc = optim_from_json(zPath, zOptim, &oc, &step)) ) goto done;
        if( o ){
            if( (rc = sptt_optim_init(&opt, m, &oc)) ) goto done;
            opt.step = step;
        }
    }
    static const char *const azPrefix[3] = { "param.", "adam_m.", "adam_v." };
    for(int pass = 0; pass < (zOptim ? 3 : 1); pass++){
        float *base = pass==0 ? params : o==NULL ? NULL : pass==1 ? opt.m : opt.v;
        for(int i = 0; i < sptt_model_n_tensors(m); i++){
            const sptt_tensor_info *ti = sptt_model_tensor(m, i);
            char zName[256];
            int64_t sh[4];
            snprintf(zName, sizeof zName, "%s%s", azPrefix[pass], ti->zName);
            tensor_shape(ti, sh);
            if( (rc = ck_get(&f, zPath, zName, DT_F32, ti->ndim, sh, &t)) ) goto done;
            if( base ) copy_le(base + ti->offset, t->p, t->nByte, 4);
        }
    }

    /* tokenizer */
    if( (rc = ck_get(&f, zPath, "tokenizer.merges", DT_I32, 2, (int64_t[]){ -1, 2 }, &t)) ) goto done;
    if( t->shape[0] > cfg.vocab_size - SPTT_TOK_BASE ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: tensor tokenizer.merges: %lld merges make more ids than vocab_size %d", zPath,
                       (long long)t->shape[0], cfg.vocab_size);
        goto done;
    }
    aMerge = sptt_malloc(t->nByte ? t->nByte : 1);
    if( aMerge==NULL ){ rc = SPTT_ENOMEM; goto done; }
    copy_le(aMerge, t->p, t->nByte, 4);
    if( (rc = sptt_tokenizer_from_merges(aMerge, (int)t->shape[0], &tok)) ){
        sptt_fail_prefix(rc, "%s: tensor tokenizer.merges: ", zPath);
        goto done;
    }

    for(int i = 0; i < f.n; i++){
        if( !f.a[i].used ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: tensor %s: not part of a checkpoint of this model", zPath, f.a[i].zName);
            goto done;
        }
    }

    *ppM = m;
    m = NULL;
    if( ppTok ){
        *ppTok = tok;
        tok = NULL;
    }
    if( o ){
        *o = opt;
        memset(&opt, 0, sizeof opt);
    }
    if( st ) *st = *s;
done:
    /* every message names the file, whichever layer failed */
    if( rc && strncmp(sptt_errmsg(), zPath, strlen(zPath)) ) sptt_fail_prefix(rc, "%s: ", zPath);
    sptt_optim_free(&opt);
    sptt_model_free(m);
    sptt_tokenizer_free(tok);
    ck_file_free(&f);
    free(pFile);
    free(aMerge);
    free(s);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Run folders
*/
int sptt_ckpt_path(const char *zDir, int64_t step, char *zOut, size_t nOut)
{
    if( step < 0 ) return sptt_fail(SPTT_EINVAL, "checkpoint: step %lld is negative", (long long)step);
    return sptt_pathf(zOut, nOut, "%s/ckpt-%08lld.safetensors", zDir, (long long)step);
}

typedef struct ck_entry { int64_t step; char *zName; } ck_entry;

static int cmp_newest_first(const void *pA, const void *pB)
{
    const ck_entry *a = pA, *b = pB;
    return a->step > b->step ? -1 : a->step < b->step;
}

static void entries_free(ck_entry *a, int n)
{
    for(int i = 0; i < n; i++) free(a[i].zName);
    free(a);
}

/* The step of a checkpoint's file name, or -1: only the exact spelling sptt_ckpt_path makes. */
static int64_t name_step(const char *zName)
{
    static const char zPre[] = "ckpt-", zSuf[] = ".safetensors";
    size_t n = strlen(zName), nPre = sizeof zPre - 1, nSuf = sizeof zSuf - 1;
    if( n <= nPre + nSuf || strncmp(zName, zPre, nPre) || strcmp(zName + n - nSuf, zSuf) ) return -1;
    size_t nDigit = n - nPre - nSuf;
    if( nDigit < 8 || nDigit > 19 || strspn(zName + nPre, "0123456789") != nDigit ) return -1;
    errno = 0;
    long long x = strtoll(zName + nPre, NULL, 10);
    if( errno ) return -1;
    char zCanon[64];
    snprintf(zCanon, sizeof zCanon, "ckpt-%08lld.safetensors", x);
    return strcmp(zCanon, zName)==0 ? x : -1;
}

/* The checkpoints of a folder, newest first. A missing folder has none. */
static int list_checkpoints(const char *zDir, ck_entry **paE, int *pn)
{
    int rc = SPTT_OK, n = 0, nAlloc = 0;
    ck_entry *a = NULL;
    struct dirent *e;
    *paE = NULL;
    *pn = 0;
    DIR *d = opendir(zDir);
    if( d==NULL ){
        if( errno==ENOENT ) return SPTT_OK;
        return sptt_fail(SPTT_EIO, "%s: cannot open the folder: %s", zDir, strerror(errno));
    }
    while( (e = readdir(d))!=NULL ){
        int64_t step = name_step(e->d_name);
        if( step < 0 ) continue;
        if( n==nAlloc ){
            int nNew = nAlloc ? 2 * nAlloc : 16;
            ck_entry *aNew = sptt_realloc(a, sizeof *aNew * (size_t)nNew);
            if( aNew==NULL ){ rc = SPTT_ENOMEM; break; }
            a = aNew;
            nAlloc = nNew;
        }
        if( (a[n].zName = strdup(e->d_name))==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); break; }
        a[n++].step = step;
    }
    closedir(d);
    if( rc ){
        entries_free(a, n);
        return rc;
    }
    if( n > 1 ) qsort(a, (size_t)n, sizeof *a, cmp_newest_first);
    *paE = a;
    *pn = n;
    return SPTT_OK;
}

int sptt_ckpt_latest(const char *zDir, char *zOut, size_t nOut)
{
    ck_entry *a;
    int n, nRefused = 0;
    int rc = list_checkpoints(zDir, &a, &n);
    if( rc ) return rc;
    rc = SPTT_ESTATE;
    for(int i = 0; i < n; i++){
        char zPath[4096];
        sptt_model *m = NULL;
        sptt_tokenizer *tok = NULL;
        sptt_train_state *st = sptt_malloc(sizeof *st);
        int rcLoad;
        if( st==NULL ){ rc = SPTT_ENOMEM; break; }
        if( (rcLoad = sptt_pathf(zPath, sizeof zPath, "%s/%s", zDir, a[i].zName))==SPTT_OK ){
            rcLoad = sptt_ckpt_load(zPath, &m, NULL, &tok, st);
            if( rcLoad==SPTT_OK && st->step != a[i].step )
                rcLoad = sptt_fail(SPTT_EFORMAT, "%s: holds step %lld, its name says %lld", zPath, (long long)st->step,
                                   (long long)a[i].step);
        }
        sptt_model_free(m);
        sptt_tokenizer_free(tok);
        free(st);
        if( rcLoad==SPTT_ENOMEM ){ rc = rcLoad; break; }
        if( rcLoad==SPTT_OK ){
            rc = sptt_pathf(zOut, nOut, "%s", zPath);
            break;
        }
        /* one line per refused file, then the previous checkpoint */
        fprintf(stderr, "warning: %s; %s\n", sptt_errmsg(),
                i + 1 < n ? "falling back to the previous checkpoint" : "no older checkpoint is left");
        nRefused++;
    }
    if( rc==SPTT_ESTATE ){
        if( nRefused ) sptt_fail(rc, "%s: none of the %d checkpoints loads", zDir, nRefused);
        else sptt_fail(rc, "%s: no checkpoint", zDir);
    }
    entries_free(a, n);
    return rc;
}

int sptt_ckpt_prune(const char *zDir, int keep)
{
    ck_entry *a;
    int n;
    if( keep < 1 ) return sptt_fail(SPTT_EINVAL, "checkpoint prune: keep %d; at least 1", keep);
    int rc = list_checkpoints(zDir, &a, &n);
    if( rc ) return rc;
    for(int i = keep; i < n; i++){
        char zPath[4096];
        int rcPath = sptt_pathf(zPath, sizeof zPath, "%s/%s", zDir, a[i].zName);
        if( rcPath==SPTT_OK && unlink(zPath)!=0 && errno!=ENOENT && rc==SPTT_OK )
            rc = sptt_fail(SPTT_EIO, "%s: cannot remove: %s", zPath, strerror(errno));
        if( rcPath && rc==SPTT_OK ) rc = rcPath;
    }
    entries_free(a, n);
    sptt_clean_stale_tmp(zDir);
    return rc;
}
