/*
** Checkpoints: an exact round trip (and training that continues bit for bit), weights-only loads,
** refusal of every bit flip, truncation and malformed header, the fallback of sptt_ckpt_latest,
** pruning, and atomic writes.
*/
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sptt_ckpt.h"
#include "sptt_st_write.h"

#include "child_testutil.h"

static const char *const azCorpus[] = {
    "How many chairs are in the room? 3",
    "What is the distance between the table and the sofa in meters? 2.4",
    "Is the lamp to the left or to the right of the bed? left",
};

/* Everything a trainer would checkpoint, in a state no fresh run has: perturbed weights and
** moments after a few updates. */
typedef struct fixture {
    sptt_model *m;
    sptt_optim o;
    sptt_tokenizer *tok;
    sptt_train_state st;
    char *zDir;
} fixture;

static void random_grads(sptt_model *m, uint64_t seed)
{
    size_t n;
    float *g = sptt_model_grads(m, &n);
    sptt_rng r;
    sptt_rng_seed(&r, seed);
    for(size_t i = 0; i < n; i++) g[i] = (float)(0.01 * sptt_rng_normal(&r));
}

/* A model of 2 small layers (one TTT, one full): for tests that read a file thousands of times. */
static void config_micro(sptt_config *c)
{
    sptt_config_tiny(c);
    c->hidden = 16;
    c->n_layer = 2;
    c->n_head = 2;
    c->n_kv_head = 1;
    c->ffn = 16;
    c->ttt_heads = 2;
}

static void fixture_make_with(fixture *f, const sptt_config *pCfg)
{
    sptt_config cfg = *pCfg;
    sptt_optim_config oc;
    memset(f, 0, sizeof *f);
    f->zDir = strdup("/tmp/sptt-ckpt-XXXXXX");
    cr_assert(mkdtemp(f->zDir) != NULL);
    cr_assert_eq(sptt_config_validate(&cfg), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_tokenizer_fit(azCorpus, NULL, 3, cfg.vocab_size, &f->tok), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_model_create(&cfg, 7, &f->m), SPTT_OK, "%s", sptt_errmsg());
    sptt_optim_config_default(&oc);
    oc.lr = 3e-4f;
    oc.fast_lr = 1.7e-3f;
    oc.warmup = 3;
    oc.total = 50;
    oc.clip = 0.7f;
    cr_assert_eq(sptt_optim_init(&f->o, f->m, &oc), SPTT_OK);
    size_t n;
    float *p = sptt_model_params(f->m, &n);
    for(int s = 0; s < 3; s++){
        random_grads(f->m, 100 + (uint64_t)s);
        sptt_optim_step(&f->o, p, sptt_model_grads(f->m, NULL), NULL);
    }
    f->st.step = f->o.step;
    f->st.position = 12345678901LL;
    f->st.stage = 2;
    f->st.seed = 0xfedcba9876543210ULL;
    sptt_rng r;
    sptt_rng_seed(&r, 99);
    sptt_rng_u64(&r);
    memcpy(f->st.rng, r.s, sizeof r.s);
    snprintf(f->st.zOptions, sizeof f->st.zOptions, "{\"lr\":0.0003,\"batch\":8,\"note\":\"\\\"checksum\\\":\\\"x\\\"\"}");
}

static void fixture_make(fixture *f)
{
    sptt_config cfg;
    sptt_config_tiny(&cfg);
    fixture_make_with(f, &cfg);
}

static void fixture_free(fixture *f)
{
    char zCmd[600];
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", f->zDir);
    cr_assert_eq(system(zCmd), 0);
    free(f->zDir);
    sptt_model_free(f->m);
    sptt_optim_free(&f->o);
    sptt_tokenizer_free(f->tok);
}

static void path_in(const fixture *f, const char *zName, char *zOut, size_t n)
{
    snprintf(zOut, n, "%s/%s", f->zDir, zName);
}

static uint8_t *slurp(const char *zPath, size_t *pn)
{
    uint8_t *p;
    cr_assert_eq(sptt_read_file(zPath, &p, pn), SPTT_OK, "%s", sptt_errmsg());
    return p;
}

/* A plain write, not atomic: these are test inputs, thousands of them. The old file is removed
** first: truncating and rewriting a file makes some file systems flush it on close. */
static void spill(const char *zPath, const void *p, size_t n)
{
    unlink(zPath);
    FILE *fp = fopen(zPath, "wb");
    cr_assert(fp != NULL);
    cr_assert_eq(fwrite(p, 1, n, fp), n);
    cr_assert_eq(fclose(fp), 0);
}

static void assert_same_model(sptt_model *a, sptt_model *b)
{
    size_t na, nb;
    float *pa = sptt_model_params(a, &na), *pb = sptt_model_params(b, &nb);
    cr_assert_eq(na, nb);
    cr_assert(memcmp(pa, pb, na * sizeof(float))==0, "parameters differ");
    char *za = sptt_config_to_json(sptt_model_config(a)), *zb = sptt_config_to_json(sptt_model_config(b));
    cr_assert_str_eq(za, zb);
    cr_assert(memcmp(sptt_model_config(a), sptt_model_config(b), sizeof(sptt_config))==0);
    free(za);
    free(zb);
    cr_assert_eq(sptt_model_n_tensors(a), sptt_model_n_tensors(b));
}

static void assert_same_tokenizer(const sptt_tokenizer *a, const sptt_tokenizer *b)
{
    int na, nb;
    const int32_t *ma = sptt_tokenizer_merges(a, &na), *mb = sptt_tokenizer_merges(b, &nb);
    cr_assert_gt(na, 0);
    cr_assert_eq(na, nb);
    cr_assert(memcmp(ma, mb, sizeof(int32_t) * 2 * (size_t)na)==0, "merges differ");
}

static void assert_same_state(const sptt_train_state *a, const sptt_train_state *b)
{
    cr_assert_eq(a->step, b->step);
    cr_assert_eq(a->position, b->position);
    cr_assert_eq(a->stage, b->stage);
    cr_assert_eq(a->seed, b->seed);
    cr_assert(memcmp(a->rng, b->rng, sizeof a->rng)==0);
    cr_assert_str_eq(a->zOptions, b->zOptions);
}

/* One real training step: forward, backward, AdamW. */
static void train_step(sptt_model *m, sptt_optim *o, const sptt_sample *s)
{
    float loss;
    int nLab;
    sptt_model_zero_grad(m);
    cr_assert_eq(sptt_model_forward(m, s, 0, &loss, &nLab), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_model_backward(m, 1.0f / (float)nLab), SPTT_OK);
    sptt_optim_step(o, sptt_model_params(m, NULL), sptt_model_grads(m, NULL), NULL);
}

Test(ckpt, round_trip_is_exact_and_training_continues_bit_for_bit)
{
    fixture f;
    fixture_make(&f);
    char zPath[600], zPath2[600];
    path_in(&f, "a.safetensors", zPath, sizeof zPath);
    path_in(&f, "b.safetensors", zPath2, sizeof zPath2);
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &f.st), SPTT_OK, "%s", sptt_errmsg());

    sptt_model *m;
    sptt_optim o;
    sptt_tokenizer *tok;
    sptt_train_state st;
    cr_assert_eq(sptt_ckpt_load(zPath, &m, &o, &tok, &st), SPTT_OK, "%s", sptt_errmsg());
    assert_same_model(f.m, m);
    assert_same_tokenizer(f.tok, tok);
    assert_same_state(&f.st, &st);
    cr_assert_eq(o.n, f.o.n);
    cr_assert_eq(o.step, 3);
    cr_assert(memcmp(o.m, f.o.m, o.n * sizeof(float))==0, "first moments differ");
    cr_assert(memcmp(o.v, f.o.v, o.n * sizeof(float))==0, "second moments differ");
    cr_assert(memcmp(o.group, f.o.group, o.n)==0);
    cr_assert(memcmp(&o.cfg, &f.o.cfg, sizeof o.cfg)==0, "optimiser configuration differs");

    /* saving what was loaded gives the same bytes */
    cr_assert_eq(sptt_ckpt_save(zPath2, m, &o, tok, &st), SPTT_OK, "%s", sptt_errmsg());
    size_t n1, n2;
    uint8_t *p1 = slurp(zPath, &n1), *p2 = slurp(zPath2, &n2);
    cr_assert(n1==n2 && memcmp(p1, p2, n1)==0, "a loaded checkpoint saves to other bytes");
    free(p1);
    free(p2);

    /* two more real steps on each: the same parameters, bit for bit */
    const sptt_config *c = sptt_model_config(m);
    int32_t prompt[5] = { 300 - 1, 40, 41, 42, 200 }, answer[2] = { 50, 51 };
    float pix[4 * 8 * 8 * 3];
    for(size_t i = 0; i < sizeof pix / sizeof pix[0]; i++) pix[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    sptt_sample s;
    cr_assert_eq(sptt_sample_build(c, prompt, 5, answer, 2, 4, pix, &s), SPTT_OK, "%s", sptt_errmsg());
    for(int k = 0; k < 2; k++){
        train_step(f.m, &f.o, &s);
        train_step(m, &o, &s);
    }
    assert_same_model(f.m, m);
    cr_assert(memcmp(o.m, f.o.m, o.n * sizeof(float))==0 && memcmp(o.v, f.o.v, o.n * sizeof(float))==0);
    cr_assert_eq(o.step, f.o.step);
    sptt_sample_free(&s);
    sptt_model_free(m);
    sptt_optim_free(&o);
    sptt_tokenizer_free(tok);
    fixture_free(&f);
}

Test(ckpt, weights_only)
{
    fixture f;
    fixture_make(&f);
    char zFull[600], zBare[600];
    path_in(&f, "full.safetensors", zFull, sizeof zFull);
    path_in(&f, "bare.safetensors", zBare, sizeof zBare);
    cr_assert_eq(sptt_ckpt_save(zFull, f.m, &f.o, f.tok, &f.st), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_ckpt_save(zBare, f.m, NULL, f.tok, &f.st), SPTT_OK, "%s", sptt_errmsg());

    /* weights only, from a full checkpoint: no optimiser, and tokenizer and state optional */
    sptt_model *m;
    sptt_tokenizer *tok;
    sptt_train_state st;
    cr_assert_eq(sptt_ckpt_load(zFull, &m, NULL, NULL, NULL), SPTT_OK, "%s", sptt_errmsg());
    assert_same_model(f.m, m);
    sptt_model_free(m);
    cr_assert_eq(sptt_ckpt_load(zBare, &m, NULL, &tok, &st), SPTT_OK, "%s", sptt_errmsg());
    assert_same_model(f.m, m);
    assert_same_tokenizer(f.tok, tok);
    assert_same_state(&f.st, &st);
    sptt_model_free(m);
    sptt_tokenizer_free(tok);

    /* a file without optimiser state cannot resume training */
    sptt_optim o;
    cr_assert_eq(sptt_ckpt_load(zBare, &m, &o, &tok, &st), SPTT_EFORMAT);
    cr_assert_null(m);
    cr_assert_null(tok);
    cr_assert_null(o.m);
    cr_assert(strstr(sptt_errmsg(), zBare) && strstr(sptt_errmsg(), "no optimiser state"), "%s", sptt_errmsg());
    size_t nFull, nBare;
    free(slurp(zFull, &nFull));
    free(slurp(zBare, &nBare));
    cr_assert_lt(nBare * 2, nFull, "a weights-only file holds no moments");
    fixture_free(&f);
}

/* Loads must refuse the file, with a message naming it; nothing is handed out. */
static void assert_refused(const char *zPath, const char *zWhy, const char *zExpect)
{
    sptt_model *m = (sptt_model *)1;
    sptt_optim o;
    sptt_tokenizer *tok = (sptt_tokenizer *)1;
    sptt_train_state st;
    int rc = sptt_ckpt_load(zPath, &m, &o, &tok, &st);
    cr_assert_neq(rc, SPTT_OK, "%s: accepted", zWhy);
    cr_assert_null(m, "%s", zWhy);
    cr_assert_null(tok, "%s", zWhy);
    cr_assert_null(o.m, "%s", zWhy);
    cr_assert(strstr(sptt_errmsg(), zPath) != NULL, "%s: message does not name the file: %s", zWhy, sptt_errmsg());
    if( zExpect ) cr_assert(strstr(sptt_errmsg(), zExpect) != NULL, "%s: %s", zWhy, sptt_errmsg());
}

Test(ckpt, every_sampled_bit_flip_is_refused)
{
    fixture f;
    sptt_config cfg;
    config_micro(&cfg);
    fixture_make_with(&f, &cfg);
    char zPath[600], zBad[600];
    path_in(&f, "a.safetensors", zPath, sizeof zPath);
    path_in(&f, "bad.safetensors", zBad, sizeof zBad);
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &f.st), SPTT_OK, "%s", sptt_errmsg());
    size_t n;
    uint8_t *p = slurp(zPath, &n);
    size_t nHdr = (size_t)sptt_le64(p);
    /* every bit of the length; every byte of the metadata (the checksum's own digits included) with
    ** a rotating bit; every 5th byte of the tensor entries and the padding; 300 random places in the
    ** data area */
    const char *zFirst = strstr((const char *)p + 8, "\"rng\":{");
    cr_assert(zFirst != NULL);
    size_t endMeta = (size_t)(zFirst - (const char *)p);
    size_t nMax = 64 + nHdr + 8 + 301, *aPos = malloc(sizeof *aPos * nMax);
    int *aBit = malloc(sizeof *aBit * nMax), nCase = 0;
    for(int i = 0; i < 64; i++){ aPos[nCase] = (size_t)i / 8; aBit[nCase++] = i % 8; }
    for(size_t i = 8; i < 8 + nHdr; i += i < endMeta ? 1 : 5){ aPos[nCase] = i; aBit[nCase++] = (int)(i % 8); }
    for(size_t i = 8 + nHdr - 8; i < 8 + nHdr; i++){ aPos[nCase] = i; aBit[nCase++] = 5; }
    sptt_rng r;
    sptt_rng_seed(&r, 5);
    for(int k = 0; k < 300; k++){
        aPos[nCase] = 8 + nHdr + (size_t)sptt_rng_below(&r, (uint32_t)(n - 8 - nHdr));
        aBit[nCase++] = (int)sptt_rng_below(&r, 8);
    }
    aPos[nCase] = n - 1; aBit[nCase++] = 7;
    int nCorrupt = 0;
    for(int k = 0; k < nCase; k++){
        p[aPos[k]] ^= (uint8_t)(1u << aBit[k]);
        spill(zBad, p, n);
        char zWhy[64];
        snprintf(zWhy, sizeof zWhy, "byte %zu bit %d", aPos[k], aBit[k]);
        assert_refused(zBad, zWhy, NULL);
        nCorrupt += strstr(sptt_errmsg(), "checksum mismatch") != NULL;
        p[aPos[k]] ^= (uint8_t)(1u << aBit[k]);
    }
    /* a flip in the data is always reported as corruption */
    cr_assert_geq(nCorrupt, 301, "%d of %d", nCorrupt, nCase);
    spill(zBad, p, n);
    sptt_model *m;
    cr_assert_eq(sptt_ckpt_load(zBad, &m, NULL, NULL, NULL), SPTT_OK, "the unflipped copy loads: %s", sptt_errmsg());
    sptt_model_free(m);
    free(aPos);
    free(aBit);
    free(p);
    fixture_free(&f);
}

Test(ckpt, truncation_is_refused)
{
    fixture f;
    fixture_make(&f);
    char zPath[600], zBad[600];
    path_in(&f, "a.safetensors", zPath, sizeof zPath);
    path_in(&f, "bad.safetensors", zBad, sizeof zBad);
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &f.st), SPTT_OK, "%s", sptt_errmsg());
    size_t n;
    uint8_t *p = slurp(zPath, &n);
    size_t nHdr = (size_t)sptt_le64(p);
    size_t aLen[] = { 0, 1, 7, 8, 9, 8 + nHdr / 2, 8 + nHdr - 1, 8 + nHdr, 8 + nHdr + 1, 8 + nHdr + 32, n / 2, n - 4, n - 1 };
    for(size_t i = 0; i < sizeof aLen / sizeof aLen[0]; i++){
        spill(zBad, p, aLen[i]);
        char zWhy[64];
        snprintf(zWhy, sizeof zWhy, "cut at %zu of %zu", aLen[i], n);
        assert_refused(zBad, zWhy, "truncated");
    }
    /* and a file that grew: a byte appended */
    uint8_t *q = malloc(n + 1);
    memcpy(q, p, n);
    q[n] = 0;
    spill(zBad, q, n + 1);
    assert_refused(zBad, "one byte appended", NULL);
    free(q);
    free(p);
    /* not a file at all */
    assert_refused(f.zDir, "a folder", NULL);
    char zMissing[700];
    path_in(&f, "missing.safetensors", zMissing, sizeof zMissing);
    assert_refused(zMissing, "missing", "cannot open");
    fixture_free(&f);
}

/* A raw file: 8-byte length, the header text (padded), then nData bytes of zeros. */
static void raw_file(const char *zPath, const char *zHeader, size_t nData)
{
    size_t nH = strlen(zHeader), nPad = (8 - nH % 8) % 8, n = 8 + nH + nPad + nData;
    uint8_t *p = calloc(1, n);
    for(int k = 0; k < 8; k++) p[k] = (uint8_t)((uint64_t)(nH + nPad) >> (8 * k));
    memcpy(p + 8, zHeader, nH);
    memset(p + 8 + nH, ' ', nPad);
    spill(zPath, p, n);
    free(p);
}

Test(ckpt, malformed_containers_are_refused_by_name)
{
    fixture f;
    fixture_make(&f);
    char zBad[600];
    path_in(&f, "bad.safetensors", zBad, sizeof zBad);
    static const struct { const char *zHeader; size_t nData; const char *zExpect; } a[] = {
        { "[1,2]", 0, "not a JSON object" },
        { "{\"a\":", 0, "header: byte" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate" },
        { "{\"__metadata__\":{\"format\":1}}", 0, "metadata format: not a string" },
        { "{\"__metadata__\":[]}", 0, "__metadata__ is not an object" },
        { "{\"t\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "tensor t: dtype F16" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "tensor t: expected exactly" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "tensor t: shape[0]" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "tensor t: shape has 9" },
        { "{\"t\":{\"dtype\":\"U64\",\"shape\":[4611686018427387904,8],\"data_offsets\":[0,8]}}", 8, "tensor t: shape's byte size overflows" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "tensor t: data_offsets span 8 bytes" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside the data area" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "outside the data area" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "tensor t: data_offsets is not" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "a gap" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"u\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "an overlap" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, "end at byte 8 of a data area of 16" },
        { "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "not a checkpoint (metadata format is missing)" },
        { "{\"__metadata__\":{\"format\":\"sptt-step-dump\"}}", 0, "not a checkpoint (metadata format is \"sptt-step-dump\")" },
        { "{\"__metadata__\":{\"format\":\"sptt-checkpoint\",\"version\":\"1\"}}", 0, "metadata checksum is missing" },
        { "{\"__metadata__\":{\"format\":\"sptt-checkpoint\",\"version\":\"1\",\"checksum\":\"0123\"}}", 0, "metadata checksum: not found once" },
    };
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++){
        raw_file(zBad, a[i].zHeader, a[i].nData);
        char zWhy[32];
        snprintf(zWhy, sizeof zWhy, "case %zu", i);
        assert_refused(zBad, zWhy, a[i].zExpect);
    }
    fixture_free(&f);
}

/*
** Checkpoint-like files with one thing wrong, each with a valid checksum so that the meaning, not
** the container, is what the reader refuses.
*/
enum { V_VERSION, V_STAGE, V_STEP, V_OPTIM, V_CONFIG, V_MISSING, V_EXTRA, V_SHAPE, V_DTYPE, V_MERGES, V_OPTIONS, V_COUNT };

static void write_variant(const fixture *f, const char *zPath, int variant)
{
    sptt_stw w;
    char *zCfg = sptt_config_to_json(sptt_model_config(f->m));
    sptt_stw_init(&w);
    sptt_stw_meta(&w, "format", "sptt-checkpoint");
    sptt_stw_meta(&w, "version", variant==V_VERSION ? "2" : "1");
    sptt_stw_meta(&w, "config", variant==V_CONFIG ? "{\"hidden\":33}" : zCfg);
    sptt_stw_meta(&w, "step", variant==V_STEP ? "3x" : "3");
    sptt_stw_meta(&w, "position", "0");
    sptt_stw_meta(&w, "stage", variant==V_STAGE ? "3" : "1");
    sptt_stw_meta(&w, "seed", "1");
    sptt_stw_meta(&w, "options", variant==V_OPTIONS ? "[1]" : "{}");
    sptt_stw_meta(&w, "optim", variant==V_OPTIM ? "{\"lr\":0.001}" :
                  "{\"lr\":0.001,\"fast_lr\":0.001,\"beta1\":0.9,\"beta2\":0.95,\"eps\":1e-8,\"weight_decay\":0.05,"
                  "\"warmup\":1,\"total\":10,\"min_ratio\":0.1,\"clip\":1.0,\"step\":3}");
    sptt_stw_checksum(&w, "checksum");
    uint64_t rng[4] = { 1, 2, 3, 4 };
    sptt_stw_add(&w, "rng", "U64", rng, 1, (int64_t[]){ 4 });
    size_t nParam;
    const float *params = sptt_model_params(f->m, &nParam);
    char azName[3][200][128];
    static const char *const azPre[3] = { "param.", "adam_m.", "adam_v." };
    int nt = sptt_model_n_tensors(f->m);
    cr_assert_leq(nt, 200);
    for(int pass = 0; pass < 3; pass++){
        for(int i = 0; i < nt; i++){
            const sptt_tensor_info *t = sptt_model_tensor(f->m, i);
            int64_t sh[4] = { t->shape[0], t->shape[1], t->shape[2], t->shape[3] };
            snprintf(azName[pass][i], 128, "%s%s", azPre[pass], t->zName);
            if( variant==V_MISSING && pass==2 && strcmp(t->zName, "lnf")==0 ) continue;
            if( variant==V_SHAPE && pass==1 && strcmp(t->zName, "layers.0.attn.wq")==0 ) sh[0] += 1;
            const char *zType = variant==V_DTYPE && pass==0 && strcmp(t->zName, "wte")==0 ? "I32" : "F32";
            /* the data is only read for its bytes; a larger shape reads from the parameter buffer */
            sptt_stw_add(&w, azName[pass][i], zType, params, t->ndim, sh);
        }
    }
    int nMerge;
    const int32_t *aMerge = sptt_tokenizer_merges(f->tok, &nMerge);
    int32_t aBad[4] = { 7, 8, 7, 8 };
    if( variant==V_MERGES ) sptt_stw_add(&w, "tokenizer.merges", "I32", aBad, 2, (int64_t[]){ 2, 2 });
    else sptt_stw_add(&w, "tokenizer.merges", "I32", aMerge, 2, (int64_t[]){ nMerge, 2 });
    if( variant==V_EXTRA ) sptt_stw_add(&w, "extra", "U8", "x", 1, (int64_t[]){ 1 });
    cr_assert_eq(sptt_stw_write_atomic(&w, zPath), SPTT_OK, "%s", sptt_errmsg());
    sptt_stw_free(&w);
    free(zCfg);
}

Test(ckpt, malformed_checkpoints_are_refused_by_name)
{
    fixture f;
    fixture_make(&f);
    char zBad[600];
    path_in(&f, "bad.safetensors", zBad, sizeof zBad);
    static const struct { int variant, rc; const char *zExpect; } a[] = {
        { V_VERSION, SPTT_EVERSION, "checkpoint version 2" },
        { V_STAGE, SPTT_EFORMAT, "metadata stage: \"3\" is not an integer in [1, 2]" },
        { V_STEP, SPTT_EFORMAT, "metadata step: \"3x\"" },
        { V_OPTIM, SPTT_EFORMAT, "metadata optim: 1 fields, expected 11" },
        { V_CONFIG, SPTT_EFORMAT, "metadata config: n_head*head_dim" },
        { V_MISSING, SPTT_EFORMAT, "tensor adam_v.lnf is missing" },
        { V_EXTRA, SPTT_EFORMAT, "tensor extra: not part of a checkpoint" },
        { V_SHAPE, SPTT_EFORMAT, "tensor adam_m.layers.0.attn.wq: shape [33,32], expected [32,32]" },
        { V_DTYPE, SPTT_EFORMAT, "tensor param.wte: dtype I32, expected F32" },
        { V_MERGES, SPTT_EFORMAT, "tensor tokenizer.merges: tokenizer: merge 1 repeats" },
        { V_OPTIONS, SPTT_EFORMAT, "options: not a JSON object" },
    };
    cr_assert_eq(sizeof a / sizeof a[0], V_COUNT);
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++){
        write_variant(&f, zBad, a[i].variant);
        sptt_model *m;
        sptt_optim o;
        int rc = sptt_ckpt_load(zBad, &m, &o, NULL, NULL);
        cr_assert_eq(rc, a[i].rc, "case %zu: rc %d: %s", i, rc, sptt_errmsg());
        cr_assert(strstr(sptt_errmsg(), zBad) && strstr(sptt_errmsg(), a[i].zExpect), "case %zu: %s", i, sptt_errmsg());
    }
    fixture_free(&f);
}

Test(ckpt, save_refuses_bad_arguments)
{
    fixture f;
    fixture_make(&f);
    char zPath[600];
    path_in(&f, "a.safetensors", zPath, sizeof zPath);
    sptt_train_state st = f.st;
    st.stage = 0;
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &st), SPTT_EINVAL);
    st = f.st;
    st.position = -1;
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &st), SPTT_EINVAL);
    st = f.st;
    snprintf(st.zOptions, sizeof st.zOptions, "lr=3");
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &st), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "options") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, NULL, &f.st), SPTT_EINVAL);
    cr_assert_neq(access(zPath, F_OK), 0);
    /* empty options are stored as {} */
    st = f.st;
    st.zOptions[0] = 0;
    cr_assert_eq(sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &st), SPTT_OK, "%s", sptt_errmsg());
    sptt_model *m;
    cr_assert_eq(sptt_ckpt_load(zPath, &m, NULL, NULL, &st), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_str_eq(st.zOptions, "{}");
    sptt_model_free(m);
    fixture_free(&f);
}

/* Runs sptt_ckpt_latest with stderr caught in a file; returns rc and the lines written. */
static int latest_caught(const char *zDir, char *zOut, size_t nOut, char *zErr, size_t nErr)
{
    char zLog[] = "/tmp/sptt-ckpt-err-XXXXXX";
    int fd = mkstemp(zLog);
    cr_assert(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = sptt_ckpt_latest(zDir, zOut, nOut);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, zErr, nErr - 1);
    zErr[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(zLog);
    return rc;
}

static int count_lines(const char *z)
{
    int n = 0;
    for(; *z; z++) n += *z=='\n';
    return n;
}

static void save_step(fixture *f, int64_t step)
{
    char zPath[600];
    cr_assert_eq(sptt_ckpt_path(f->zDir, step, zPath, sizeof zPath), SPTT_OK);
    f->st.step = step;
    cr_assert_eq(sptt_ckpt_save(zPath, f->m, &f->o, f->tok, &f->st), SPTT_OK, "%s", sptt_errmsg());
}

/* Flips a bit `at` bytes before the end: in the data area for small values. */
static void flip_byte(const char *zPath, size_t at)
{
    size_t n;
    uint8_t *p = slurp(zPath, &n);
    p[n - 1 - at % n] ^= 0x10;
    spill(zPath, p, n);
    free(p);
}

Test(ckpt, latest_falls_back_past_refused_files_and_says_so)
{
    fixture f;
    fixture_make(&f);
    char zOut[700], zErr[4096], zExp[700], z30[700], z40[700], z100[700];
    int rc;

    /* empty and missing folders: SPTT_ESTATE, and nothing on stderr */
    rc = latest_caught(f.zDir, zOut, sizeof zOut, zErr, sizeof zErr);
    cr_assert_eq(rc, SPTT_ESTATE);
    cr_assert_str_eq(zErr, "");
    cr_assert(strstr(sptt_errmsg(), "no checkpoint") != NULL, "%s", sptt_errmsg());
    char zMissing[700];
    path_in(&f, "nope", zMissing, sizeof zMissing);
    cr_assert_eq(latest_caught(zMissing, zOut, sizeof zOut, zErr, sizeof zErr), SPTT_ESTATE);
    cr_assert_str_eq(zErr, "");

    save_step(&f, 10);
    save_step(&f, 20);
    save_step(&f, 30);
    /* names that are not checkpoints are ignored, a temporary file included */
    char zJunk[700];
    static const char *const azJunk[] = { "ckpt-99.safetensors", "ckpt-000000099.safetensors", "ckpt-00000099.safetensors.tmp.1",
                                          "ckpt-0000009x.safetensors", "other.safetensors" };
    for(size_t i = 0; i < sizeof azJunk / sizeof azJunk[0]; i++){
        path_in(&f, azJunk[i], zJunk, sizeof zJunk);
        spill(zJunk, "junk", 4);
    }
    rc = latest_caught(f.zDir, zOut, sizeof zOut, zErr, sizeof zErr);
    cr_assert_eq(rc, SPTT_OK, "%s", sptt_errmsg());
    sptt_ckpt_path(f.zDir, 30, zExp, sizeof zExp);
    cr_assert_str_eq(zOut, zExp);
    cr_assert_str_eq(zErr, "");

    /* the newest corrupt, a newer one truncated, a newer one whose name lies about its step */
    sptt_ckpt_path(f.zDir, 30, z30, sizeof z30);
    flip_byte(z30, 100);
    sptt_ckpt_path(f.zDir, 40, z40, sizeof z40);
    spill(z40, "\x10\0\0\0\0\0\0\0{", 9);
    sptt_ckpt_path(f.zDir, 100, z100, sizeof z100);
    char zCmd[1600];
    path_in(&f, "ckpt-00000010.safetensors", zJunk, sizeof zJunk);
    snprintf(zCmd, sizeof zCmd, "cp '%s' '%s'", zJunk, z100);
    cr_assert_eq(system(zCmd), 0);
    rc = latest_caught(f.zDir, zOut, sizeof zOut, zErr, sizeof zErr);
    cr_assert_eq(rc, SPTT_OK, "%s", sptt_errmsg());
    sptt_ckpt_path(f.zDir, 20, zExp, sizeof zExp);
    cr_assert_str_eq(zOut, zExp);
    cr_assert_eq(count_lines(zErr), 3, "%s", zErr);
    /* newest first, one line each, naming the file and why */
    char *l100 = strstr(zErr, "ckpt-00000100.safetensors"), *l40 = strstr(zErr, "ckpt-00000040.safetensors");
    char *l30 = strstr(zErr, "ckpt-00000030.safetensors");
    cr_assert(l100 && l40 && l30 && l100 < l40 && l40 < l30, "%s", zErr);
    cr_assert(strstr(zErr, "holds step 10, its name says 100") != NULL, "%s", zErr);
    cr_assert(strstr(zErr, "truncated") != NULL, "%s", zErr);
    cr_assert(strstr(zErr, "checksum mismatch") != NULL, "%s", zErr);
    cr_assert(strncmp(zErr, "warning: ", 9)==0, "%s", zErr);

    /* nothing loads: SPTT_ESTATE after one warning per file */
    char z10[700], z20[700];
    sptt_ckpt_path(f.zDir, 10, z10, sizeof z10);
    sptt_ckpt_path(f.zDir, 20, z20, sizeof z20);
    flip_byte(z10, 100000);
    flip_byte(z20, 20);
    rc = latest_caught(f.zDir, zOut, sizeof zOut, zErr, sizeof zErr);
    cr_assert_eq(rc, SPTT_ESTATE);
    cr_assert_eq(count_lines(zErr), 5, "%s", zErr);
    cr_assert(strstr(sptt_errmsg(), "none of the 5 checkpoints loads") != NULL, "%s", sptt_errmsg());

    /* an output buffer too small is an error, not a truncated path */
    save_step(&f, 50);
    cr_assert_eq(latest_caught(f.zDir, zOut, 10, zErr, sizeof zErr), SPTT_EINVAL);
    fixture_free(&f);
}

Test(ckpt, prune_keeps_the_newest)
{
    fixture f;
    fixture_make(&f);
    cr_assert_eq(sptt_ckpt_prune(f.zDir, 0), SPTT_EINVAL);
    cr_assert_eq(sptt_ckpt_prune(f.zDir, 3), SPTT_OK, "an empty folder: %s", sptt_errmsg());
    char zMissing[700];
    path_in(&f, "nope", zMissing, sizeof zMissing);
    cr_assert_eq(sptt_ckpt_prune(zMissing, 3), SPTT_OK, "a missing folder: %s", sptt_errmsg());

    /* steps out of order, and past 8 digits: the order is by step, not by name */
    static const int64_t aStep[] = { 5, 100000000, 7, 1, 300, 99999999 };
    for(size_t i = 0; i < sizeof aStep / sizeof aStep[0]; i++) save_step(&f, aStep[i]);
    pid_t dead = fork();
    if( dead==0 ) _exit(0);
    cr_assert_eq(waitpid(dead, NULL, 0), dead);
    char zDead[700], zLive[700], zOther[700];
    snprintf(zDead, sizeof zDead, "%s/ckpt-00000400.safetensors.tmp.%d", f.zDir, (int)dead);
    snprintf(zLive, sizeof zLive, "%s/ckpt-00000401.safetensors.tmp.%d", f.zDir, (int)getpid());
    path_in(&f, "notes.txt", zOther, sizeof zOther);
    spill(zDead, "x", 1);
    spill(zLive, "x", 1);
    spill(zOther, "x", 1);
    cr_assert_eq(sptt_ckpt_prune(f.zDir, 3), SPTT_OK, "%s", sptt_errmsg());
    for(size_t i = 0; i < sizeof aStep / sizeof aStep[0]; i++){
        char zPath[700];
        sptt_ckpt_path(f.zDir, aStep[i], zPath, sizeof zPath);
        int kept = aStep[i] >= 300;
        cr_assert_eq(access(zPath, F_OK)==0, kept, "step %lld: %s", (long long)aStep[i], kept ? "removed" : "kept");
    }
    cr_assert_neq(access(zDead, F_OK), 0, "a dead writer's temporary file stays");
    cr_assert_eq(access(zLive, F_OK), 0, "a live writer's temporary file was removed");
    cr_assert_eq(access(zOther, F_OK), 0);
    char zOut[700];
    cr_assert_eq(sptt_ckpt_latest(f.zDir, zOut, sizeof zOut), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(strstr(zOut, "ckpt-100000000.safetensors") != NULL, "%s", zOut);
    cr_assert_eq(sptt_ckpt_prune(f.zDir, 1), SPTT_OK);
    cr_assert_eq(access(zOut, F_OK), 0, "the newest was removed");
    fixture_free(&f);
}

/*
** In a child, so that a file size limit can make the write fail part-way (SIGXFSZ ignored, the
** write returns EFBIG). The child is this binary run again (child_testutil.h) with the work in
** SPTT_TEST_CHILD as "LIMIT RCWANT PATH" (LIMIT 0: none); it makes its own fixture and exits 0
** when the save returned RCWANT, with a message naming the file on failure.
*/
__attribute__((constructor)) static void save_as_child(void)
{
    const char *zWork = getenv(SPTT_TEST_CHILD);
    unsigned long long nLimit;
    int rcWant, at = 0;
    if( zWork==NULL ) return;
    if( sscanf(zWork, "%llu %d %n", &nLimit, &rcWant, &at) < 2 || at==0 ) _exit(98);
    const char *zPath = zWork + at;
    fixture f;
    fixture_make(&f);
    rmdir(f.zDir);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = { (rlim_t)nLimit, (rlim_t)nLimit };
    if( nLimit ) setrlimit(RLIMIT_FSIZE, &rl);
    int rc = sptt_ckpt_save(zPath, f.m, &f.o, f.tok, &f.st);
    int named = rc==SPTT_OK || strstr(sptt_errmsg(), zPath) != NULL;
    _exit(rc==rcWant && named ? 0 : 1);
}

/* Runs save_as_child's work with a file size limit of nLimit bytes (0: none); its exit status. */
static int save_in_child(const char *zPath, unsigned long long nLimit, int rcWant)
{
    char zWork[800];
    snprintf(zWork, sizeof zWork, "%llu %d %s", nLimit, rcWant, zPath);
    return child_wait(child_start(zWork));
}

static int folder_is_empty(const char *zDir)
{
    char zCmd[700];
    snprintf(zCmd, sizeof zCmd, "test $(ls -A '%s' | wc -l) -eq 0", zDir);
    return system(zCmd)==0;
}

Test(ckpt, a_failed_write_leaves_no_file_and_the_old_one_intact)
{
    char zDir[] = "/tmp/sptt-ckpt-atomic-XXXXXX", zPath[200];
    cr_assert(mkdtemp(zDir) != NULL);
    snprintf(zPath, sizeof zPath, "%s/ckpt-00000001.safetensors", zDir);
    cr_assert_eq(save_in_child(zPath, 64 * 1024, SPTT_EIO), 0, "the save did not fail with an I/O error naming the file");
    cr_assert_neq(access(zPath, F_OK), 0, "a file at the final name after a failed write");
    cr_assert(folder_is_empty(zDir), "a temporary file was left behind");

    /* over an existing checkpoint: it stays, byte for byte */
    cr_assert_eq(save_in_child(zPath, 0, SPTT_OK), 0);
    size_t n0, n1;
    uint8_t *p0 = slurp(zPath, &n0);
    cr_assert_gt(n0, 64 * 1024);
    cr_assert_eq(save_in_child(zPath, 64 * 1024, SPTT_EIO), 0);
    uint8_t *p1 = slurp(zPath, &n1);
    cr_assert(n0==n1 && memcmp(p0, p1, n0)==0, "the old checkpoint changed");
    free(p0);
    free(p1);
    cr_assert_eq(unlink(zPath), 0);
    cr_assert(folder_is_empty(zDir), "a temporary file was left behind");

    /* a folder that does not exist, or (for a user other than root) cannot be written */
    fixture f;
    fixture_make(&f);
    char zNo[700];
    snprintf(zNo, sizeof zNo, "%s/missing/ckpt-00000001.safetensors", zDir);
    cr_assert_eq(sptt_ckpt_save(zNo, f.m, &f.o, f.tok, &f.st), SPTT_EIO);
    cr_assert(strstr(sptt_errmsg(), "missing/ckpt-00000001.safetensors") != NULL, "%s", sptt_errmsg());
    if( geteuid() != 0 ){
        char zRo[200], zRoFile[300];
        snprintf(zRo, sizeof zRo, "%s/ro", zDir);
        cr_assert_eq(mkdir(zRo, 0555), 0);
        snprintf(zRoFile, sizeof zRoFile, "%s/ckpt-00000001.safetensors", zRo);
        cr_assert_eq(sptt_ckpt_save(zRoFile, f.m, &f.o, f.tok, &f.st), SPTT_EIO);
        cr_assert_neq(access(zRoFile, F_OK), 0);
        chmod(zRo, 0755);
    }
    fixture_free(&f);
    char zCmd[300];
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", zDir);
    cr_assert_eq(system(zCmd), 0);
}
