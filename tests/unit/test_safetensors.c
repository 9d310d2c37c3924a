/*
** safetensors reader: a step dump written by sptt_step_dump reads back exactly, and crafted
** headers are refused, each with a message naming the file, the tensor and the field.
*/
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_model.h"
#include "sptt_safetensors.h"

static char zDir[64];

static void setup(void)
{
    strcpy(zDir, "/tmp/sptt_st_XXXXXX");
    cr_assert_not_null(mkdtemp(zDir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(safetensors, .init = setup, .fini = teardown);

Test(safetensors, step_dump_round_trip)
{
    sptt_config cfg;
    sptt_model *m = NULL;
    sptt_sample s;
    sptt_st *st = NULL;
    char zPath[128];
    float loss = 0;
    int32_t prompt[5] = { 200, 201, 202, 203, 204 }, answer[3] = { 100, 101, 102 };
    const sptt_st_tensor *t;
    sptt_config back;

    sptt_config_tiny(&cfg);
    cr_assert_eq(sptt_model_create(&cfg, 3, &m), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_sample_build(&cfg, prompt, 5, answer, 3, 2, NULL, &s), SPTT_OK, "%s", sptt_errmsg());
    snprintf(zPath, sizeof zPath, "%s/step.safetensors", zDir);
    cr_assert_eq(sptt_step_dump(m, &s, 1, NULL, zPath, &loss), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_st_read(zPath, &st), SPTT_OK, "%s", sptt_errmsg());

    /* Every tensor the format lists: params and grads, then the batch, then the loss. */
    cr_assert_eq(sptt_st_count(st), 2 * sptt_model_n_tensors(m) + 6);
    cr_assert_str_eq(sptt_st_meta(st, "format"), "sptt-step-dump");
    cr_assert_str_eq(sptt_st_meta(st, "version"), "1");
    cr_assert_str_eq(sptt_st_meta(st, "batch"), "1");
    cr_assert_eq(sptt_st_meta_count(st), 7);
    cr_assert_null(sptt_st_meta(st, "absent"));
    cr_assert_eq(sptt_config_from_json(sptt_st_meta(st, "config"), &back), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(memcmp(&back, &cfg, sizeof cfg), 0);

    for(int pass = 0; pass < 2; pass++){
        const float *base = pass ? sptt_model_grads(m, NULL) : sptt_model_params(m, NULL);
        for(int i = 0; i < sptt_model_n_tensors(m); i++){
            const sptt_tensor_info *ti = sptt_model_tensor(m, i);
            uint64_t shape[3] = { (uint64_t)ti->shape[0], (uint64_t)ti->shape[1], (uint64_t)ti->shape[2] };
            char zName[160];
            snprintf(zName, sizeof zName, "%s.%s", pass ? "grad" : "param", ti->zName);
            cr_assert_eq(sptt_st_get(st, zName, SPTT_ST_F32, ti->ndim, shape, &t), SPTT_OK, "%s", sptt_errmsg());
            cr_assert_eq(t->nElem, ti->numel);
            cr_assert_eq(memcmp(t->data, base + ti->offset, 4 * ti->numel), 0, "%s differs", zName);
        }
    }
    {
        uint64_t T = (uint64_t)s.n_tokens, one = 1;
        cr_assert_eq(sptt_st_get(st, "batch.0.tokens", SPTT_ST_I32, 1, &T, &t), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(memcmp(t->data, s.tokens, 4 * T), 0);
        cr_assert_eq(sptt_st_get(st, "batch.0.targets", SPTT_ST_I32, 1, &T, &t), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(memcmp(t->data, s.targets, 4 * T), 0);
        cr_assert_eq(sptt_st_get(st, "loss", SPTT_ST_F32, 1, &one, &t), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(memcmp(t->data, &loss, 4), 0);
        cr_assert_not_null(sptt_st_find(st, "batch.0.pixels"));
        cr_assert_null(sptt_st_find(st, "batch.1.tokens"));
    }
    /* Data order is the writer's order, each tensor where the one before ends. */
    cr_assert_str_eq(sptt_st_at(st, 0)->zName, "param.wte");
    for(int i = 1; i < sptt_st_count(st); i++) cr_assert_eq(sptt_st_at(st, i)->begin, sptt_st_at(st, i - 1)->end);
    cr_assert_null(sptt_st_at(st, sptt_st_count(st)));

    /* What the trainer asks for and does not get is named. */
    {
        uint64_t wrong[2] = { 7, 7 };
        cr_assert_eq(sptt_st_get(st, "param.nothing", SPTT_ST_F32, 0, NULL, &t), SPTT_EFORMAT);
        cr_assert(strstr(sptt_errmsg(), "step.safetensors: tensor 'param.nothing': missing"), "%s", sptt_errmsg());
        cr_assert_eq(sptt_st_get(st, "batch.0.tokens", SPTT_ST_F32, 0, NULL, &t), SPTT_EFORMAT);
        cr_assert(strstr(sptt_errmsg(), "tensor 'batch.0.tokens': field 'dtype': I32, expected F32"), "%s", sptt_errmsg());
        cr_assert_eq(sptt_st_get(st, "param.wte", SPTT_ST_F32, 2, wrong, &t), SPTT_EFORMAT);
        cr_assert(strstr(sptt_errmsg(), "tensor 'param.wte': field 'shape':"), "%s", sptt_errmsg());
        cr_assert(strstr(sptt_errmsg(), "expected [7, 7]"), "%s", sptt_errmsg());
        cr_assert_null(t);
    }
    sptt_st_close(st);
    sptt_sample_free(&s);
    sptt_model_free(m);
}

/* A file from header text and nData zero bytes of data; the buffer must outlive the handle. */
static uint8_t *craft(const char *zHeader, size_t nData, size_t *pN)
{
    size_t nH = strlen(zHeader);
    uint8_t *p = calloc(1, 8 + nH + nData + 1);
    for(int k = 0; k < 8; k++) p[k] = (uint8_t)((uint64_t)nH >> (8 * k));
    memcpy(p + 8, zHeader, nH);
    *pN = 8 + nH + nData;
    return p;
}

static void refused(const char *zHeader, size_t nData, const char *zWant)
{
    size_t n;
    uint8_t *p = craft(zHeader, nData, &n);
    sptt_st *st = (sptt_st *)p;
    int rc = sptt_st_open_buffer("bad.safetensors", p, n, &st);
    cr_assert_eq(rc, SPTT_EFORMAT, "accepted: %s", zHeader);
    cr_assert_null(st);
    cr_assert(strstr(sptt_errmsg(), zWant), "for %s\n  got:  %s\n  want: %s", zHeader, sptt_errmsg(), zWant);
    cr_assert(strncmp(sptt_errmsg(), "bad.safetensors: ", 17)==0, "%s", sptt_errmsg());
    free(p);
}

static sptt_st *accepted(const char *zHeader, size_t nData, uint8_t **pBuf)
{
    size_t n;
    sptt_st *st = NULL;
    *pBuf = craft(zHeader, nData, &n);
    cr_assert_eq(sptt_st_open_buffer("ok.safetensors", *pBuf, n, &st), SPTT_OK, "%s", sptt_errmsg());
    return st;
}

#define T(name, dtype, shape, b, e) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

Test(safetensors, refuses_bad_containers)
{
    uint8_t buf[16] = { 8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' ' };
    sptt_st *st = NULL;
    cr_assert_eq(sptt_st_open_buffer("bad.safetensors", buf, 5, &st), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "bad.safetensors: 5 bytes, too short for the 8-byte header length"), "%s", sptt_errmsg());
    buf[0] = 9;
    cr_assert_eq(sptt_st_open_buffer("bad.safetensors", buf, 16, &st), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "byte 0: header length 9 runs past the end of the 16-byte file"), "%s", sptt_errmsg());
    buf[0] = 0; buf[4] = 1;   /* 2^32 */
    cr_assert_eq(sptt_st_open_buffer("bad.safetensors", buf, 16, &st), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "byte 0: header length 4294967296 is over the 104857600-byte limit"), "%s", sptt_errmsg());
    buf[0] = 8; buf[4] = 0; buf[8] = ' ';
    cr_assert_eq(sptt_st_open_buffer("bad.safetensors", buf, 16, &st), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "byte 8: the header is not a JSON object"), "%s", sptt_errmsg());
    cr_assert_null(st);
    cr_assert_eq(sptt_st_read("/nonexistent/x.safetensors", &st), SPTT_EIO);

    refused("{\"a\":", 0, "header: JSON line 1 column");
    refused("{} x", 0, "header: JSON line 1 column");
    refused("{\"a\":1,\"a\":2}", 0, "header: JSON");
    refused("{\"\xff\":1}", 0, "header: JSON");
    refused("{}", 4, "the data area holds 4 bytes after the last tensor's end at 0");
    refused("{\"__metadata__\":[]}", 0, "field '__metadata__': not an object of strings");
    refused("{\"__metadata__\":{\"k\":1}}", 0, "field '__metadata__': value of 'k' is not a string");
}

Test(safetensors, refuses_bad_tensors)
{
    refused("{\"w\":[]}", 0, "tensor 'w': not an object with dtype, shape and data_offsets");
    refused("{" T("w", "F32", "[1]", 0, 4) "}", 0, "tensor 'w': field 'data_offsets': [0, 4] runs past the 0-byte data area");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"crc\":1}}", 4, "tensor 'w': unknown field 'crc'");
    refused("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'w': field 'dtype': missing or not a string");
    refused("{" T("w", "F33", "[1]", 0, 4) "}", 4, "tensor 'w': field 'dtype': unknown type 'F33'");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]}}", 4, "tensor 'w': field 'shape': missing or not an array");
    refused("{" T("w", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", 4, "tensor 'w': field 'shape': 9 dimensions, at most 8");
    refused("{" T("w", "F32", "[1,-1]", 0, 4) "}", 4, "tensor 'w': field 'shape': entry 1 is not a non-negative integer");
    refused("{" T("w", "F32", "[1.0]", 0, 4) "}", 4, "tensor 'w': field 'shape': entry 0 is not a non-negative integer");
    refused("{" T("w", "U8", "[4294967296,4294967296]", 0, 4) "}", 4,
            "tensor 'w': field 'shape': [4294967296, 4294967296] has more elements than 64 bits count");
    refused("{" T("w", "F64", "[4611686018427387904]", 0, 4) "}", 4,
            "tensor 'w': field 'shape': [4611686018427387904] of F64 needs more bytes than 64 bits count");
    refused("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "tensor 'w': field 'data_offsets': missing or not [begin, end]");
    refused("{" T("w", "F32", "[1]", -4, 0) "}", 4, "tensor 'w': field 'data_offsets': begin and end must be non-negative integers");
    refused("{" T("w", "F32", "[0]", 4, 0) "}", 4, "tensor 'w': field 'data_offsets': begin 4 is after end 0");
    refused("{" T("w", "F32", "[2]", 0, 4) "}", 4, "tensor 'w': field 'data_offsets': [0, 4] holds 4 bytes, F32 [2] needs 8");
    refused("{" T("w", "F32", "[1]", 0, 18446744073709551615) "}", 4, "header: JSON");
}

Test(safetensors, refuses_bad_tiling)
{
    refused("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[1]", 4, 8) "}", 8,
            "tensor 'b': field 'data_offsets': [4, 8] overlaps tensor 'a' [0, 8]");
    refused("{" T("a", "F32", "[1]", 0, 4) "," T("b", "F32", "[1]", 8, 12) "}", 12,
            "tensor 'b': field 'data_offsets': begins at 8, leaving data bytes 4 to 8 to no tensor");
    refused("{" T("a", "F32", "[1]", 4, 8) "}", 8, "tensor 'a': field 'data_offsets': begins at 4, leaving data bytes 0 to 4");
    refused("{" T("a", "F32", "[1]", 0, 4) "}", 6, "the data area holds 2 bytes after the last tensor's end at 4");
}

Test(safetensors, accepts_what_the_format_allows)
{
    uint8_t *buf;
    sptt_st *st;
    const sptt_st_tensor *t;
    /* Keys out of offset order, a scalar, an empty tensor, padding, metadata. */
    st = accepted("{\"__metadata__\":{\"k\":\"v\"}," T("z", "I64", "[]", 4, 12) "," T("e", "F32", "[0,3]", 4, 4) ","
                  T("a", "BF16", "[2]", 0, 4) "}      ", 12, &buf);
    cr_assert_eq(sptt_st_count(st), 3);
    cr_assert_str_eq(sptt_st_at(st, 0)->zName, "a");
    cr_assert_str_eq(sptt_st_at(st, 1)->zName, "e");
    cr_assert_str_eq(sptt_st_at(st, 2)->zName, "z");
    t = sptt_st_find(st, "z");
    cr_assert_not_null(t);
    cr_assert_eq(t->ndim, 0);
    cr_assert_eq(t->nElem, 1);
    cr_assert_eq(t->dtype, SPTT_ST_I64);
    cr_assert_eq(sptt_st_dtype_size(t->dtype), 8);
    cr_assert_str_eq(sptt_st_dtype_name(t->dtype), "I64");
    cr_assert_eq(t->data, buf + 8 + strlen((const char *)buf + 8) + 4);
    cr_assert_eq(sptt_st_find(st, "e")->nElem, 0);
    {
        const char *k, *v;
        sptt_st_meta_at(st, 0, &k, &v);
        cr_assert_str_eq(k, "k");
        cr_assert_str_eq(v, "v");
    }
    sptt_st_close(st);
    free(buf);
    st = accepted("{}", 0, &buf);
    cr_assert_eq(sptt_st_count(st), 0);
    cr_assert_null(sptt_st_find(st, "a"));
    cr_assert_eq(sptt_st_meta_count(st), 0);
    sptt_st_close(st);
    free(buf);
}
