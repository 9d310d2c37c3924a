/*
** The safetensors writer: the same bytes as the step dump's former private writer (kept below as
** the reference), the layout of every dtype, refusals, the file checksum, and atomic failure.
*/
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_st_write.h"

static char *tmp_dir(void)
{
    char *z = strdup("/tmp/sptt-stw-XXXXXX");
    cr_assert(mkdtemp(z) != NULL);
    return z;
}

static void rm_dir(char *zDir)
{
    char zCmd[512];
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", zDir);
    cr_assert_eq(system(zCmd), 0);
    free(zDir);
}

static uint8_t *read_all(const char *zPath, size_t *pn)
{
    uint8_t *p;
    cr_assert_eq(sptt_read_file(zPath, &p, pn), SPTT_OK, "%s", sptt_errmsg());
    return p;
}

/* ---------------------------------------------------------------------------------------------
** The step dump's writer as it was before the shared one, verbatim but for names: the shared
** writer must reproduce its bytes so that dumps stay comparable across the change.
*/
typedef struct ref_entry {
    char zName[96];
    const char *zType;
    int ndim;
    long shape[4];
    const void *p;
    size_t nByte;
} ref_entry;

static int ref_write(const ref_entry *a, int n, json_t *meta, const char *zPath)
{
    int rc = SPTT_OK;
    json_t *h = json_object();
    char *zJson = NULL;
    sptt_atomic at;
    int open = 0;
    json_object_set(h, "__metadata__", meta);
    size_t off = 0;
    for(int i = 0; i < n; i++){
        const ref_entry *e = &a[i];
        json_t *o = json_object(), *sh = json_array(), *of = json_array();
        for(int k = 0; k < e->ndim; k++) json_array_append_new(sh, json_integer(e->shape[k]));
        json_array_append_new(of, json_integer((json_int_t)off));
        json_array_append_new(of, json_integer((json_int_t)(off + e->nByte)));
        json_object_set_new(o, "dtype", json_string(e->zType));
        json_object_set_new(o, "shape", sh);
        json_object_set_new(o, "data_offsets", of);
        json_object_set_new(h, e->zName, o);
        off += e->nByte;
    }
    zJson = json_dumps(h, JSON_COMPACT);
    size_t nJson = strlen(zJson), nPad = (8 - nJson % 8) % 8;
    if( (rc = sptt_atomic_open(&at, zPath)) ) goto done;
    open = 1;
    uint8_t len[8];
    for(int k = 0; k < 8; k++) len[k] = (uint8_t)((uint64_t)(nJson + nPad) >> (8 * k));
    if( (rc = sptt_atomic_write(&at, len, 8)) ) goto done;
    if( (rc = sptt_atomic_write(&at, zJson, nJson)) ) goto done;
    if( (rc = sptt_atomic_write(&at, "        ", nPad)) ) goto done;
    for(int i = 0; i < n; i++){
        const uint8_t *p = a[i].p;
        uint8_t buf[4096];
        for(size_t k = 0; k < a[i].nByte; k += sizeof buf){
            size_t m = a[i].nByte - k < sizeof buf ? a[i].nByte - k : sizeof buf;
            for(size_t j = 0; j < m; j += 4){
                uint32_t u;
                memcpy(&u, p + k + j, 4);
                buf[j] = (uint8_t)u; buf[j + 1] = (uint8_t)(u >> 8);
                buf[j + 2] = (uint8_t)(u >> 16); buf[j + 3] = (uint8_t)(u >> 24);
            }
            if( (rc = sptt_atomic_write(&at, buf, m)) ) goto done;
        }
    }
    rc = sptt_atomic_commit(&at);
    open = 0;
done:
    if( open ) sptt_atomic_abort(&at);
    free(zJson);
    json_decref(h);
    return rc;
}

Test(st_write, same_bytes_as_the_former_step_dump_writer)
{
    char *zDir = tmp_dir(), zA[600], zB[600];
    snprintf(zA, sizeof zA, "%s/ref.st", zDir);
    snprintf(zB, sizeof zB, "%s/new.st", zDir);
    /* A little of everything a dump holds: matrices over 4096 bytes, a 4-d tensor, a scalar-like
    ** (1) tensor, integer tensors, metadata with quotes, backslashes and non-ASCII text. */
    enum { R = 37, C = 53 };
    static float aW[R * C], aPix[2 * 3 * 4 * 3], loss = 5.25f;
    static int32_t aTok[29], aMerge[6 * 2];
    for(int i = 0; i < R * C; i++) aW[i] = (float)i * 0.001f - 1.0f;
    for(int i = 0; i < 2 * 3 * 4 * 3; i++) aPix[i] = (float)(i % 7) - 3.5f;
    for(int i = 0; i < 29; i++) aTok[i] = i * 11 - 40;
    for(int i = 0; i < 12; i++) aMerge[i] = 7 + i;
    ref_entry a[] = {
        { "param.wte", "F32", 2, { R, C }, aW, sizeof aW },
        { "batch.0.tokens", "I32", 1, { 29 }, aTok, sizeof aTok },
        { "batch.0.pixels", "F32", 4, { 2, 3, 4, 3 }, aPix, sizeof aPix },
        { "loss", "F32", 1, { 1 }, &loss, sizeof loss },
        { "tokenizer.merges", "I32", 2, { 6, 2 }, aMerge, sizeof aMerge },
    };
    static const char *const azMeta[] = {
        "format", "sptt-step-dump", "version", "1", "config", "{\"hidden\":32,\"rope_theta\":10000.0}",
        "loss", "5.25", "note", "back\\slash, tab\t, caf\xc3\xa9",
    };
    int n = (int)(sizeof a / sizeof a[0]);
    json_t *meta = json_object();
    sptt_stw w;
    sptt_stw_init(&w);
    for(size_t i = 0; i < sizeof azMeta / sizeof azMeta[0]; i += 2){
        json_object_set_new(meta, azMeta[i], json_string(azMeta[i + 1]));
        cr_assert_eq(sptt_stw_meta(&w, azMeta[i], azMeta[i + 1]), SPTT_OK);
    }
    for(int i = 0; i < n; i++){
        int64_t sh[4];
        for(int k = 0; k < a[i].ndim; k++) sh[k] = a[i].shape[k];
        cr_assert_eq(sptt_stw_add(&w, a[i].zName, a[i].zType, a[i].p, a[i].ndim, sh), SPTT_OK, "%s", sptt_errmsg());
    }
    cr_assert_eq(ref_write(a, n, meta, zA), SPTT_OK);
    cr_assert_eq(sptt_stw_write_atomic(&w, zB), SPTT_OK, "%s", sptt_errmsg());
    size_t nA, nB;
    uint8_t *pA = read_all(zA, &nA), *pB = read_all(zB, &nB);
    cr_assert_eq(nA, nB);
    cr_assert(memcmp(pA, pB, nA)==0, "the shared writer's bytes differ from the former writer's");
    free(pA);
    free(pB);
    json_decref(meta);
    sptt_stw_free(&w);
    rm_dir(zDir);
}

Test(st_write, every_dtype_laid_out_little_endian_without_gaps)
{
    char *zDir = tmp_dir(), zPath[600];
    snprintf(zPath, sizeof zPath, "%s/t.st", zDir);
    uint64_t u64[3] = { 0x0102030405060708ULL, 1, UINT64_MAX };
    int64_t i64 = -2, shape[2] = { 3, 0 };
    uint8_t u8[5] = { 1, 2, 3, 4, 5 };
    float f = 1.5f;
    sptt_stw w;
    sptt_stw_init(&w);
    cr_assert_eq(sptt_stw_add(&w, "u8", "U8", u8, 1, (int64_t[]){ 5 }), SPTT_OK);
    cr_assert_eq(sptt_stw_add(&w, "u64", "U64", u64, 1, (int64_t[]){ 3 }), SPTT_OK);
    cr_assert_eq(sptt_stw_add(&w, "scalar", "I64", &i64, 0, NULL), SPTT_OK);
    cr_assert_eq(sptt_stw_add(&w, "empty", "F32", NULL, 2, shape), SPTT_OK);
    cr_assert_eq(sptt_stw_add(&w, "f", "F32", &f, 1, (int64_t[]){ 1 }), SPTT_OK);
    cr_assert_eq(sptt_stw_write_atomic(&w, zPath), SPTT_OK, "%s", sptt_errmsg());
    sptt_stw_free(&w);

    size_t n;
    uint8_t *p = read_all(zPath, &n);
    uint64_t nHdr = sptt_le64(p);
    cr_assert_eq(nHdr % 8, 0);
    cr_assert_eq(n, 8 + nHdr + 5 + 24 + 8 + 0 + 4);
    json_error_t err;
    json_t *h = json_loadb((const char *)p + 8, (size_t)nHdr, 0, &err);
    cr_assert(h != NULL, "%s", err.text);
    cr_assert_null(json_object_get(h, "__metadata__"), "no metadata key when none was set");
    static const struct { const char *z, *zType; int b, e; } aExp[] = {
        { "u8", "U8", 0, 5 }, { "u64", "U64", 5, 29 }, { "scalar", "I64", 29, 37 }, { "empty", "F32", 37, 37 }, { "f", "F32", 37, 41 },
    };
    for(size_t i = 0; i < sizeof aExp / sizeof aExp[0]; i++){
        json_t *o = json_object_get(h, aExp[i].z);
        cr_assert(o != NULL, "%s", aExp[i].z);
        cr_assert_str_eq(json_string_value(json_object_get(o, "dtype")), aExp[i].zType);
        json_t *of = json_object_get(o, "data_offsets");
        cr_assert_eq(json_integer_value(json_array_get(of, 0)), aExp[i].b, "%s", aExp[i].z);
        cr_assert_eq(json_integer_value(json_array_get(of, 1)), aExp[i].e, "%s", aExp[i].z);
    }
    cr_assert_eq(json_array_size(json_object_get(json_object_get(h, "scalar"), "shape")), 0);
    json_decref(h);
    const uint8_t *d = p + 8 + nHdr;
    cr_assert(memcmp(d, u8, 5)==0);
    cr_assert_eq(sptt_le64(d + 5), 0x0102030405060708ULL);
    cr_assert_eq(sptt_le64(d + 21), UINT64_MAX);
    cr_assert_eq((int64_t)sptt_le64(d + 29), -2);
    cr_assert_eq(sptt_lef32(d + 37), 1.5f);
    free(p);
    rm_dir(zDir);
}

Test(st_write, refusals_are_sticky_and_leave_no_file)
{
    char *zDir = tmp_dir(), zPath[600];
    snprintf(zPath, sizeof zPath, "%s/t.st", zDir);
    float f[2] = { 0 };
    sptt_stw w;
    static const struct { const char *zName, *zType; int ndim; int64_t d; const char *zMsg; } a[] = {
        { "x", "F16", 1, 2, "unknown dtype F16" },
        { "__metadata__", "F32", 1, 2, "reserved" },
        { "", "F32", 1, 2, "reserved" },
        { "x", "F32", 1, -1, "negative" },
        { "x", "F32", 9, 1, "dimensions" },
        { "x", "F32", 2, INT64_MAX / 2, "overflows" },
    };
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++){
        int64_t sh[9];
        for(int k = 0; k < 9; k++) sh[k] = a[i].d;
        sptt_stw_init(&w);
        cr_assert_eq(sptt_stw_add(&w, a[i].zName, a[i].zType, f, a[i].ndim, sh), SPTT_EINVAL, "case %zu", i);
        cr_assert(strstr(sptt_errmsg(), a[i].zMsg) != NULL, "case %zu: %s", i, sptt_errmsg());
        /* later calls are refused with the first failure, and the write reports it */
        cr_assert_eq(sptt_stw_add(&w, "y", "F32", f, 1, (int64_t[]){ 2 }), SPTT_EINVAL);
        cr_assert_eq(sptt_stw_write_atomic(&w, zPath), SPTT_EINVAL);
        cr_assert_neq(access(zPath, F_OK), 0, "case %zu: a refused writer wrote a file", i);
        sptt_stw_free(&w);
    }
    sptt_stw_init(&w);
    cr_assert_eq(sptt_stw_add(&w, "x", "F32", f, 1, (int64_t[]){ 2 }), SPTT_OK);
    cr_assert_eq(sptt_stw_add(&w, "x", "F32", f, 1, (int64_t[]){ 2 }), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "x added twice") != NULL, "%s", sptt_errmsg());
    sptt_stw_free(&w);
    sptt_stw_init(&w);
    cr_assert_eq(sptt_stw_meta(&w, "k", "1"), SPTT_OK);
    cr_assert_eq(sptt_stw_meta(&w, "k", "2"), SPTT_EINVAL);
    sptt_stw_free(&w);
    sptt_stw_init(&w);
    cr_assert_eq(sptt_stw_checksum(&w, "Bad-Key"), SPTT_EINVAL);
    sptt_stw_free(&w);
    /* a missing folder: the open fails, nothing appears */
    char zMissing[700];
    snprintf(zMissing, sizeof zMissing, "%s/no/such/dir/t.st", zDir);
    sptt_stw_init(&w);
    cr_assert_eq(sptt_stw_add(&w, "x", "F32", f, 1, (int64_t[]){ 2 }), SPTT_OK);
    cr_assert_eq(sptt_stw_write_atomic(&w, zMissing), SPTT_EIO);
    cr_assert(strstr(sptt_errmsg(), "no/such/dir/t.st") != NULL, "%s", sptt_errmsg());
    sptt_stw_free(&w);
    rm_dir(zDir);
}

Test(st_write, checksum_covers_the_whole_file)
{
    char *zDir = tmp_dir(), zPath[600];
    snprintf(zPath, sizeof zPath, "%s/t.st", zDir);
    float f[100];
    for(int i = 0; i < 100; i++) f[i] = (float)i;
    sptt_stw w;
    sptt_stw_init(&w);
    cr_assert_eq(sptt_stw_meta(&w, "format", "x"), SPTT_OK);
    cr_assert_eq(sptt_stw_checksum(&w, "checksum"), SPTT_OK);
    cr_assert_eq(sptt_stw_meta(&w, "after", "\"checksum\":\"0000000000000000\""), SPTT_OK);
    cr_assert_eq(sptt_stw_add(&w, "f", "F32", f, 2, (int64_t[]){ 10, 10 }), SPTT_OK);
    cr_assert_eq(sptt_stw_write_atomic(&w, zPath), SPTT_OK, "%s", sptt_errmsg());
    sptt_stw_free(&w);
    size_t n;
    uint8_t *p = read_all(zPath, &n);
    /* the reader's rule: the 16 digits after "checksum":" read as '0' */
    char *z = strstr((char *)p + 8, "\"checksum\":\"");
    cr_assert(z != NULL);
    z += strlen("\"checksum\":\"");
    char zHex[17];
    memcpy(zHex, z, 16);
    zHex[16] = 0;
    memset(z, '0', 16);
    char zExp[17];
    snprintf(zExp, sizeof zExp, "%016llx", (unsigned long long)sptt_hash64(p, n));
    cr_assert_str_eq(zHex, zExp);
    /* the value that looks like the placeholder inside another string stayed as it was */
    cr_assert(strstr((char *)p + 8, "\"after\":\"\\\"checksum\\\":\\\"0000000000000000\\\"\"") != NULL);
    free(p);
    rm_dir(zDir);
}
