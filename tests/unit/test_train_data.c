/*
** The trainer's data path: frames against an independent decode and resize of the pack's JPEGs,
** samples' token layout and supervision, the epoch permutation, and the loader's order (same seed,
** same batches; every epoch a permutation; ranks that add up to the one-rank run; a resume that
** continues the uninterrupted run), its errors and its close.
**
** Each test builds a small real dataset the way the tools do: two synthetic ScanNet scenes, the
** first ingested with 160x120 frames, the second with --no-images, both with geometry and
** annotations.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

#include "dataset_testutil.h"
#include "sptt_annotate.h"
#include "sptt_data.h"
#include "sptt_geometry.h"
#include "sptt_ingest.h"
#include "sptt_synth.h"

#define SCENE_A "scene0700_00"   /* frames in its pack */
#define SCENE_B "scene0701_00"   /* no images */

static char zTmp[64];
static char zDb[128];
static sptt_config cfg;           /* 32x24 frames, 8x8 patches: 3x4 patches a group */
static sptt_tokenizer *tok;
static sptt_examples qa, desc;    /* every scene's */
static sptt_examples qaA;         /* scene A's questions (shallow copies of qa's) */

static void build_dataset(void)
{
    sqlite3 *db;
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
    dataset_build_small(zTmp, zDb, 0);
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_examples_load(db, SPTT_EXAMPLES_QA, NULL, &qa), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_examples_load(db, SPTT_EXAMPLES_DESCRIPTIONS, NULL, &desc), SPTT_OK, "%s", sptt_errmsg());
    sptt_dataset_close(db);
}

static void setup(void)
{
    strcpy(zTmp, "/tmp/sptt_tdata_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    build_dataset();
    cr_assert_gt(qa.n, 10);
    cr_assert_gt(desc.n, 0);
    qaA.a = calloc((size_t)qa.n, sizeof(sptt_example));
    for(int i = 0; i < qa.n; i++) if( strcmp(qa.a[i].zScene, SCENE_A)==0 ) qaA.a[qaA.n++] = qa.a[i];
    cr_assert_gt(qaA.n, 10);
    cr_assert_lt(qaA.n, qa.n, "scene B has questions too");

    sptt_config_tiny(&cfg);
    cfg.vocab_size = 512;
    cfg.frame_w = 32;
    cfg.frame_h = 24;
    cfg.patch = 8;
    cr_assert_eq(sptt_config_validate(&cfg), SPTT_OK, "%s", sptt_errmsg());
    /* the tokenizer learns from the texts it will encode, like the trainer's */
    int nText = 0;
    const char **az = calloc((size_t)(2 * qa.n + desc.n), sizeof(char *));
    for(int i = 0; i < qa.n; i++){
        az[nText++] = qa.a[i].zPrompt;
        az[nText++] = qa.a[i].zAnswer;
    }
    for(int i = 0; i < desc.n; i++) az[nText++] = desc.a[i].zAnswer;
    cr_assert_eq(sptt_tokenizer_fit(az, NULL, nText, cfg.vocab_size, &tok), SPTT_OK, "%s", sptt_errmsg());
    free(az);
}

static void teardown(void)
{
    char cmd[128];
    sptt_tokenizer_free(tok);
    free(qaA.a);
    memset(&qaA, 0, sizeof qaA);
    sptt_examples_free(&qa);
    sptt_examples_free(&desc);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", zTmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(train_data, .init = setup, .fini = teardown);

static sqlite3 *open_ro(void)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_READONLY, &db), SPTT_OK, "%s", sptt_errmsg());
    return db;
}

static sptt_data_opts data_opts(int nFrames)
{
    sptt_data_opts o;
    memset(&o, 0, sizeof o);
    o.cfg = &cfg;
    o.tok = tok;
    o.nFrames = nFrames;
    o.zInstruction = "Describe the room as you walk through it.";
    return o;
}

/* ---------------------------------------------------------------------------------------------
** Frames
*/

/* The reference: libjpeg-turbo at the smallest of its scales that covers the target, a plain
** area average written here from its definition, and the (v / 127.5 - 1) map. */
static void reference_frame(tjhandle tj, const uint8_t *jpeg, size_t n, int W, int H, float *out)
{
    int jw, jh, sub, cs, nsf, bw = 0, bh = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&nsf);
    cr_assert_eq(tjDecompressHeader3(tj, jpeg, (unsigned long)n, &jw, &jh, &sub, &cs), 0);
    for(int i = 0; i < nsf; i++){
        int w = TJSCALED(jw, sf[i]), h = TJSCALED(jh, sf[i]);
        if( w >= W && h >= H && (bw==0 || w * h < bw * bh) ){
            bw = w;
            bh = h;
        }
    }
    uint8_t *full = malloc((size_t)bw * bh * 3);
    cr_assert_eq(tjDecompress2(tj, jpeg, (unsigned long)n, full, bw, 0, bh, TJPF_RGB, TJFLAG_ACCURATEDCT), 0);
    double sx = (double)bw / W, sy = (double)bh / H;
    for(int y = 0; y < H; y++){
        for(int x = 0; x < W; x++){
            double a[3] = { 0, 0, 0 }, wsum = 0;
            for(int v = (int)(y * sy); v < bh && v < (y + 1) * sy; v++){
                double wy = fmin(v + 1, (y + 1) * sy) - fmax(v, y * sy);
                if( wy <= 0 ) continue;
                for(int u = (int)(x * sx); u < bw && u < (x + 1) * sx; u++){
                    double wx = fmin(u + 1, (x + 1) * sx) - fmax(u, x * sx);
                    if( wx <= 0 ) continue;
                    for(int c = 0; c < 3; c++) a[c] += wx * wy * full[3 * (v * bw + u) + c];
                    wsum += wx * wy;
                }
            }
            for(int c = 0; c < 3; c++){
                int b = (int)(a[c] / wsum + 0.5);
                out[3 * (y * W + x) + c] = (float)((b > 255 ? 255 : b) / 127.5 - 1.0);
            }
        }
    }
    free(full);
}

static void check_frames(const sptt_config *c, int n)
{
    sptt_pack p;
    sqlite3 *db = open_ro();
    tjhandle tj = tjInitDecompress();
    size_t nPix = (size_t)c->frame_w * c->frame_h * 3;
    float *got = calloc((size_t)n * nPix, sizeof(float)), *want = calloc(nPix, sizeof(float));
    read_scene_pack(zDb, SCENE_A, &p, 0);
    cr_assert_eq(p.imgEncoding, SPTT_IMG_JPEG);
    cr_assert_eq(sptt_scene_frames(db, SCENE_A, c, n, got), SPTT_OK, "%s", sptt_errmsg());
    float lo = 1, hi = -1;
    for(int i = 0; i < n; i++){
        /* round(i * (N-1) / (n-1)) */
        uint64_t k = (uint64_t)lround((double)i * (double)(p.nFrames - 1) / (n - 1));
        cr_assert_eq(sptt_frame_index(i, n, p.nFrames), k);
        reference_frame(tj, p.imgData + p.imgOffsets[k], p.imgOffsets[k + 1] - p.imgOffsets[k], c->frame_w, c->frame_h, want);
        for(size_t j = 0; j < nPix; j++){
            cr_assert(got[i * nPix + j]==want[j], "%dx%d, frame %d (pack frame %llu), value %zu: %.9g, the reference %.9g",
                      c->frame_w, c->frame_h, i, (unsigned long long)k, j, got[i * nPix + j], want[j]);
            lo = fminf(lo, got[i * nPix + j]);
            hi = fmaxf(hi, got[i * nPix + j]);
        }
    }
    cr_assert(lo >= -1 && hi <= 1 && lo < -0.5f && hi > 0.5f, "values in [%g, %g]", lo, hi);
    free(got);
    free(want);
    tjDestroy(tj);
    sptt_pack_free(&p);
    sptt_dataset_close(db);
}

Test(train_data, frames_equal_an_independent_decode_and_resize)
{
    sptt_config c = cfg;
    check_frames(&cfg, 4);       /* 160x120 decoded at 1/4 (40x30), then averaged to 32x24 */
    c.frame_w = 40;
    c.frame_h = 30;
    c.patch = 10;
    check_frames(&c, 6);         /* the 1/4 scale alone */
    c.frame_w = 96;
    c.frame_h = 96;
    c.patch = 8;
    check_frames(&c, 2);         /* decoded at 7/8 (140x105), averaged to a square: first and last */
}

Test(train_data, a_walk_shorter_than_the_frames_repeats_them_evenly)
{
    sptt_pack p;
    read_scene_pack(zDb, SCENE_A, &p, SPTT_PACK_SKIP_IMAGES);
    int n = 2 * (int)p.nFrames + 4;
    check_frames(&cfg, n);
    /* every walk frame is used, in order, each one twice or three times */
    int count[256] = { 0 };
    uint64_t prev = 0;
    for(int i = 0; i < n; i++){
        uint64_t k = sptt_frame_index(i, n, p.nFrames);
        cr_assert(k >= prev && k < p.nFrames);
        prev = k;
        count[k]++;
    }
    for(uint64_t k = 0; k < p.nFrames; k++) cr_assert(count[k]==2 || count[k]==3, "frame %llu: %d", (unsigned long long)k, count[k]);
    cr_assert_eq(sptt_frame_index(0, 1, 7), 0);
    cr_assert_eq(sptt_frame_index(1, 2, 7), 6);
    cr_assert_eq(sptt_frame_index(1, 4, 4), 1);
    cr_assert_eq(sptt_frame_index(1, 3, 4), 2, "1.5 rounds up");
    sptt_pack_free(&p);
}

Test(train_data, a_pack_without_images_is_refused_with_the_command)
{
    sqlite3 *db = open_ro();
    float *px = calloc(4 * 32 * 24 * 3, sizeof(float));
    int rc = sptt_scene_frames(db, SCENE_B, &cfg, 4, px);
    cr_assert_eq(rc, SPTT_ESTATE, "%d: %s", rc, sptt_errmsg());
    cr_assert(strstr(sptt_errmsg(), "scene '" SCENE_B "'") && strstr(sptt_errmsg(), "sptt-annotate") &&
              strstr(sptt_errmsg(), "--render-frames WxH") && strstr(sptt_errmsg(), zDb), "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_frames(db, "nosuch", &cfg, 4, px), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "nosuch"), "%s", sptt_errmsg());
    free(px);
    sptt_dataset_close(db);
}

Test(train_data, walk_frames_of_scenes_laid_end_to_end)
{
    sptt_pack p;
    sqlite3 *db = open_ro();
    tjhandle tj = tjInitDecompress();
    size_t nPix = (size_t)cfg.frame_w * cfg.frame_h * 3;
    float *got = calloc(5 * nPix, sizeof(float)), *want = calloc(5 * nPix, sizeof(float));
    read_scene_pack(zDb, SCENE_A, &p, 0);
    uint64_t N = p.nFrames;
    /* one scene cut at its end: its frames as a scene question sees them */
    sptt_walk_part one[1] = { { SCENE_A, N } };
    cr_assert_eq(sptt_walk_frames(db, one, 1, N, &cfg, 5, got), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_frames(db, SCENE_A, &cfg, 5, want), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(memcmp(got, want, 5 * nPix * sizeof(float)), 0);
    /* A walked twice, cut 10 frames into the second room: global frames 0, round((N + 9) / 2),
    ** N + 9, the last being the second room's frame 9 */
    sptt_walk_part two[2] = { { SCENE_A, N }, { SCENE_A, N } };
    cr_assert_eq(sptt_walk_frames(db, two, 2, N + 10, &cfg, 3, got), SPTT_OK, "%s", sptt_errmsg());
    uint64_t aWant[3] = { 0, (N + 9 + 1) / 2, 9 };
    cr_assert_eq(sptt_frame_index(1, 3, N + 10), (N + 9 + 1) / 2);
    for(int i = 0; i < 3; i++){
        uint64_t k = aWant[i] >= N ? aWant[i] - N : aWant[i];
        reference_frame(tj, p.imgData + p.imgOffsets[k], p.imgOffsets[k + 1] - p.imgOffsets[k], cfg.frame_w, cfg.frame_h, want);
        cr_assert_eq(memcmp(got + i * nPix, want, nPix * sizeof(float)), 0, "frame %d (scene frame %llu)", i, (unsigned long long)k);
    }
    /* a room without images is refused only when a frame falls in it */
    sptt_walk_part ab[2] = { { SCENE_A, N }, { SCENE_B, 30 } };
    cr_assert_eq(sptt_walk_frames(db, ab, 2, N, &cfg, 2, got), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_walk_frames(db, ab, 2, N + 1, &cfg, 2, got), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), "scene '" SCENE_B "'") != NULL, "%s", sptt_errmsg());
    /* a walk of another length than the stream recorded: the stream is out of date */
    sptt_walk_part bad[1] = { { SCENE_A, N + 1 } };
    cr_assert_eq(sptt_walk_frames(db, bad, 1, N, &cfg, 2, got), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), "make the streams again") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_walk_frames(db, one, 1, N + 1, &cfg, 2, got), SPTT_EINVAL);
    sptt_pack_free(&p);
    tjDestroy(tj);
    free(got);
    free(want);
    sptt_dataset_close(db);
}

/* The reader a stream uses: every frame of a two-room walk, one at a time, is the frame a
** question's sample holds at that global index (sptt_walk_frames, which reads through it, and the
** decoder of the reference). */
Test(train_data, walk_reader_gives_the_walk_frame_by_frame)
{
    sptt_pack p;
    sqlite3 *db = open_ro();
    tjhandle tj = tjInitDecompress();
    size_t nPix = (size_t)cfg.frame_w * cfg.frame_h * 3;
    read_scene_pack(zDb, SCENE_A, &p, 0);
    uint64_t N = p.nFrames;
    float *got = calloc(nPix, sizeof(float)), *want = calloc(nPix, sizeof(float)), *all = calloc(2 * N * nPix, sizeof(float));
    sptt_walk_part two[2] = { { SCENE_A, N }, { SCENE_A, N } };
    sptt_walk_reader *r = NULL;
    cr_assert_eq(sptt_walk_frames(db, two, 2, 2 * N, &cfg, (int)(2 * N), all), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_walk_reader_open(db, two, 2, &cfg, &r), SPTT_OK, "%s", sptt_errmsg());
    for(uint64_t g = 0; g < 2 * N; g += 3){
        uint64_t k = g % N;
        cr_assert_eq(sptt_walk_reader_frame(r, g, got), SPTT_OK, "%s", sptt_errmsg());
        reference_frame(tj, p.imgData + p.imgOffsets[k], p.imgOffsets[k + 1] - p.imgOffsets[k], cfg.frame_w, cfg.frame_h, want);
        cr_assert_eq(memcmp(got, want, nPix * sizeof(float)), 0, "frame %llu", (unsigned long long)g);
        cr_assert_eq(memcmp(got, all + g * nPix, nPix * sizeof(float)), 0, "frame %llu", (unsigned long long)g);
    }
    /* the same frame again is fine; going back or past the walk is refused */
    uint64_t last = (2 * N - 1) / 3 * 3;
    cr_assert_eq(sptt_walk_reader_frame(r, last, got), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_walk_reader_frame(r, last - 1, got), SPTT_EINVAL);
    cr_assert_eq(sptt_walk_reader_frame(r, 2 * N, got), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "of a walk of") != NULL, "%s", sptt_errmsg());
    sptt_walk_reader_close(r);
    /* a stale walk is refused when its room is reached */
    sptt_walk_part bad[2] = { { SCENE_A, N }, { SCENE_A, N + 1 } };
    cr_assert_eq(sptt_walk_reader_open(db, bad, 2, &cfg, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_walk_reader_frame(r, N - 1, got), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_walk_reader_frame(r, N, got), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), "make the streams again") != NULL, "%s", sptt_errmsg());
    sptt_walk_reader_close(r);
    sptt_pack_free(&p);
    tjDestroy(tj);
    free(got);
    free(want);
    free(all);
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** Samples
*/

static int count_of(const sptt_sample *s, int32_t id)
{
    int n = 0;
    for(int i = 0; i < s->n_tokens; i++) n += s->tokens[i]==id;
    return n;
}

/* Checks the layout of s made from prompt and answer texts; nKeep answer tokens (< 0: all). */
static void check_layout(const sptt_sample *s, int nFrames, const char *zPrompt, const char *zAnswer, int nKeep)
{
    int32_t *aP, *aA;
    int nP, nA;
    cr_assert_eq(sptt_tokenizer_encode(tok, zPrompt, strlen(zPrompt), &aP, &nP), SPTT_OK);
    cr_assert_eq(sptt_tokenizer_encode(tok, zAnswer, strlen(zAnswer), &aA, &nA), SPTT_OK);
    int cut = nKeep >= 0 && nKeep < nA;
    if( cut ) nA = nKeep;
    int groups = nFrames / 2, hw = (cfg.frame_h / cfg.patch) * (cfg.frame_w / cfg.patch);
    int T = 1 + groups * (hw + 2) + nP + 1 + nA + 1;
    cr_assert_eq(s->n_tokens, T);
    cr_assert_eq(s->n_frames, nFrames);
    cr_assert_eq(count_of(s, SPTT_TOK_PATCH), groups * hw, "video tokens: (nFrames/2) * (h/patch) * (w/patch)");
    cr_assert_eq(count_of(s, SPTT_TOK_VIDEO_START), groups);
    cr_assert_eq(count_of(s, SPTT_TOK_VIDEO_END), groups);
    cr_assert_eq(s->tokens[0], SPTT_TOK_BOS);
    int i = 1 + groups * (hw + 2);
    cr_assert_arr_eq(s->tokens + i, aP, sizeof(int32_t) * (size_t)nP, "the prompt follows the video");
    int iAns = i + nP;
    cr_assert_eq(s->tokens[iAns], SPTT_TOK_ANSWER);
    cr_assert_arr_eq(s->tokens + iAns + 1, aA, sizeof(int32_t) * (size_t)nA);
    cr_assert_eq(s->tokens[T - 1], SPTT_TOK_EOS);
    for(int k = 0; k < iAns; k++) cr_assert_eq(s->targets[k], -1, "no loss before the answer (position %d)", k);
    for(int k = iAns; k < T - 2; k++) cr_assert_eq(s->targets[k], s->tokens[k + 1]);
    cr_assert_eq(s->targets[T - 2], cut ? -1 : SPTT_TOK_EOS, "%s", cut ? "no EOS after a cut" : "EOS supervised");
    cr_assert_eq(s->targets[T - 1], -1);
    char *z = sptt_tokenizer_decode(tok, s->tokens + iAns + 1, nA);
    if( cut ) cr_assert(strncmp(z, zAnswer, strlen(z))==0 && strlen(z) < strlen(zAnswer));
    else cr_assert_str_eq(z, zAnswer, "the decoded answer is zAnswer");
    free(z);
    free(aP);
    free(aA);
}

Test(train_data, samples_of_questions_and_descriptions)
{
    sqlite3 *db = open_ro();
    sptt_data_opts o = data_opts(4);
    size_t nPix = 4 * 32 * 24 * 3;
    float *px = malloc(nPix * sizeof(float));
    sptt_sample s;
    cr_assert_eq(sptt_scene_frames(db, SCENE_A, &cfg, 4, px), SPTT_OK, "%s", sptt_errmsg());
    int nMc = 0;
    for(int i = 0; i < qaA.n; i++){
        const sptt_example *e = &qaA.a[i];
        /* the frames read here (pixels NULL) and given by the caller make the same sample */
        cr_assert_eq(sptt_example_sample(i % 5==0 ? db : NULL, &o, e, i % 5==0 ? NULL : px, &s), SPTT_OK, "%s", sptt_errmsg());
        check_layout(&s, 4, e->zPrompt, e->zAnswer, -1);
        cr_assert_arr_eq(s.pixels, px, nPix * sizeof(float));
        nMc += strlen(e->zAnswer)==1 && e->zAnswer[0] >= 'A' && e->zAnswer[0] <= 'D';
        sptt_sample_free(&s);
    }
    cr_assert_gt(nMc, 0, "some multiple-choice questions, answered by their letter");
    int nDesc = 0;
    for(int i = 0; i < desc.n; i++){
        if( strcmp(desc.a[i].zScene, SCENE_A) ) continue;
        cr_assert_eq(sptt_example_sample(db, &o, &desc.a[i], px, &s), SPTT_OK, "%s", sptt_errmsg());
        check_layout(&s, 4, o.zInstruction, desc.a[i].zAnswer, -1);
        sptt_sample_free(&s);
        nDesc++;
    }
    cr_assert_gt(nDesc, 0);
    o.zInstruction = NULL;
    cr_assert_eq(sptt_example_sample(db, &o, &desc.a[0], px, &s), SPTT_OK);
    check_layout(&s, 4, "", desc.a[0].zAnswer, -1);
    sptt_sample_free(&s);
    free(px);
    sptt_dataset_close(db);
}

Test(train_data, long_answers_are_cut_without_an_eos_target)
{
    sptt_data_opts o = data_opts(2);
    sptt_sample s;
    o.maxAnswerTokens = 16;
    float *px = calloc(2 * 32 * 24 * 3, sizeof(float));
    cr_assert_eq(sptt_example_sample(NULL, &o, &desc.a[0], px, &s), SPTT_OK, "%s", sptt_errmsg());
    check_layout(&s, 2, o.zInstruction, desc.a[0].zAnswer, 16);
    sptt_sample_free(&s);
    /* a short answer is left whole, its EOS supervised */
    cr_assert_eq(sptt_example_sample(NULL, &o, &qaA.a[0], px, &s), SPTT_OK, "%s", sptt_errmsg());
    check_layout(&s, 2, qaA.a[0].zPrompt, qaA.a[0].zAnswer, 16);
    sptt_sample_free(&s);
    free(px);
}

Test(train_data, text_only_samples_and_bad_options)
{
    sptt_data_opts o = data_opts(0);
    sptt_sample s;
    cr_assert_eq(sptt_example_sample(NULL, &o, &qaA.a[0], NULL, &s), SPTT_OK, "%s", sptt_errmsg());
    check_layout(&s, 0, qaA.a[0].zPrompt, qaA.a[0].zAnswer, -1);
    cr_assert_null(s.pixels);
    sptt_sample_free(&s);

    o.nFrames = 3;
    cr_assert_eq(sptt_example_sample(NULL, &o, &qaA.a[0], NULL, &s), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "nFrames 3"), "%s", sptt_errmsg());
    o.nFrames = 2;
    cr_assert_eq(sptt_example_sample(NULL, &o, &qaA.a[0], NULL, &s), SPTT_EINVAL, "no frames and no dataset");
    o = data_opts(0);
    sptt_config small = cfg;
    small.vocab_size = SPTT_TOK_BASE;
    o.cfg = &small;
    cr_assert_eq(sptt_example_sample(NULL, &o, &qaA.a[0], NULL, &s), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "vocab_size"), "%s", sptt_errmsg());
    /* a question that lost its prompt names the example and its scene */
    sptt_example e = qaA.a[0];
    e.zPrompt = NULL;
    o = data_opts(0);
    cr_assert_eq(sptt_example_sample(NULL, &o, &e, NULL, &s), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "scene '" SCENE_A "'") && strstr(sptt_errmsg(), "prompt"), "%s", sptt_errmsg());
}

Test(train_data, a_sample_from_a_scene_without_images_is_refused)
{
    sqlite3 *db = open_ro();
    sptt_data_opts o = data_opts(2);
    sptt_sample s;
    int i = 0;
    while( strcmp(qa.a[i].zScene, SCENE_B) ) i++;
    cr_assert_eq(sptt_example_sample(db, &o, &qa.a[i], NULL, &s), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), SCENE_B) && strstr(sptt_errmsg(), "--render-frames"), "%s", sptt_errmsg());
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** The loader
*/

/* What a run saw: per step, the position after it, and per sample its example and a hash of its
** tokens, targets and pixels. */
typedef struct run_log {
    int nStep, batch;
    int64_t *aPos;
    int *aIndex;
    uint64_t *aHash;
} run_log;

static uint64_t sample_hash(const sptt_sample *s, const sptt_config *c)
{
    sptt_hash h;
    sptt_hash_init(&h);
    sptt_hash_update(&h, &s->n_tokens, sizeof s->n_tokens);
    sptt_hash_update(&h, s->tokens, sizeof(int32_t) * (size_t)s->n_tokens);
    sptt_hash_update(&h, s->targets, sizeof(int32_t) * (size_t)s->n_tokens);
    if( s->n_frames ) sptt_hash_update(&h, s->pixels, sizeof(float) * (size_t)s->n_frames * c->frame_h * c->frame_w * 3);
    return sptt_hash_final(&h);
}

static sptt_loader_opts loader_opts(const sptt_examples *ex, int nFrames, uint64_t seed, int batch)
{
    sptt_loader_opts o;
    memset(&o, 0, sizeof o);
    o.zDb = zDb;
    o.data = data_opts(nFrames);
    o.ex = ex;
    o.seed = seed;
    o.batch = batch;
    o.nRank = 1;
    return o;
}

static run_log run(const sptt_loader_opts *o, int64_t position, int nStep)
{
    run_log r;
    sptt_loader *L;
    r.nStep = nStep;
    r.batch = o->batch;
    r.aPos = calloc((size_t)nStep, sizeof(int64_t));
    r.aIndex = calloc((size_t)nStep * o->batch, sizeof(int));
    r.aHash = calloc((size_t)nStep * o->batch, sizeof(uint64_t));
    cr_assert_eq(sptt_loader_open(o, position, &L), SPTT_OK, "%s", sptt_errmsg());
    for(int k = 0; k < nStep; k++){
        const sptt_sample *a;
        cr_assert_eq(sptt_loader_next(L, &a, &r.aPos[k]), SPTT_OK, "step %d: %s", k, sptt_errmsg());
        const int *aIdx = sptt_loader_indices(L);
        for(int j = 0; j < o->batch; j++){
            r.aIndex[k * o->batch + j] = aIdx[j];
            r.aHash[k * o->batch + j] = sample_hash(&a[j], o->data.cfg);
        }
    }
    cr_assert_geq(sptt_loader_wait_seconds(L), 0);
    sptt_loader_close(L);
    return r;
}

static void run_free(run_log *r)
{
    free(r->aPos);
    free(r->aIndex);
    free(r->aHash);
}

Test(train_data, same_seed_same_batches_and_each_epoch_a_permutation)
{
    sptt_loader_opts o = loader_opts(&qaA, 4, 11, 3);
    int n = qaA.n, nStep = (2 * n + 5) / 3 + 1;    /* past two epochs, batches across the seams */
    run_log a = run(&o, 0, nStep), b = run(&o, 0, nStep);
    cr_assert_arr_eq(a.aIndex, b.aIndex, sizeof(int) * (size_t)nStep * 3);
    cr_assert_arr_eq(a.aHash, b.aHash, sizeof(uint64_t) * (size_t)nStep * 3);
    cr_assert_arr_eq(a.aPos, b.aPos, sizeof(int64_t) * (size_t)nStep);
    for(int k = 0; k < nStep; k++) cr_assert_eq(a.aPos[k], 3 * (k + 1));

    /* position q holds ex[perm_{q/n}[q % n]]; each epoch visits every example once */
    int *perm = malloc(sizeof(int) * (size_t)n), *seen = calloc((size_t)n, sizeof(int));
    for(int e = 0; e < 2; e++){
        cr_assert_eq(sptt_epoch_permutation(11, e, n, perm), SPTT_OK);
        memset(seen, 0, sizeof(int) * (size_t)n);
        for(int i = 0; i < n; i++){
            cr_assert_eq(a.aIndex[e * n + i], perm[i], "epoch %d, position %d", e, i);
            seen[a.aIndex[e * n + i]]++;
        }
        for(int i = 0; i < n; i++) cr_assert_eq(seen[i], 1, "epoch %d: example %d seen %d times", e, i, seen[i]);
    }
    cr_assert(memcmp(a.aIndex, a.aIndex + n, sizeof(int) * (size_t)n)!=0, "the second epoch has its own order");

    /* each sample is the one sptt_example_sample makes of its example */
    sqlite3 *db = open_ro();
    float *px = malloc(sizeof(float) * 4 * 32 * 24 * 3);
    cr_assert_eq(sptt_scene_frames(db, SCENE_A, &cfg, 4, px), SPTT_OK);
    for(int q = 0; q < nStep * 3; q++){
        sptt_sample s;
        cr_assert_eq(sptt_example_sample(NULL, &o.data, &qaA.a[a.aIndex[q]], px, &s), SPTT_OK);
        cr_assert_eq(sample_hash(&s, &cfg), a.aHash[q], "position %d", q);
        sptt_sample_free(&s);
    }
    free(px);
    sptt_dataset_close(db);

    /* another seed, another order */
    o.seed = 12;
    run_log c = run(&o, 0, nStep);
    cr_assert(memcmp(a.aIndex, c.aIndex, sizeof(int) * (size_t)n)!=0);
    run_free(&a);
    run_free(&b);
    run_free(&c);
    free(perm);
    free(seen);
}

Test(train_data, ranks_add_up_to_the_one_rank_batch)
{
    int nStep = 12;
    sptt_loader_opts o = loader_opts(&qaA, 2, 5, 4);
    run_log one = run(&o, 0, nStep);
    o.batch = 2;
    o.nRank = 2;
    o.rank = 0;
    run_log r0 = run(&o, 0, nStep);
    o.rank = 1;
    o.depth = 5;   /* prepared further ahead: the same batches */
    run_log r1 = run(&o, 0, nStep);
    for(int k = 0; k < nStep; k++){
        cr_assert_eq(r0.aPos[k], one.aPos[k]);
        cr_assert_eq(r1.aPos[k], one.aPos[k]);
        for(int j = 0; j < 2; j++){
            cr_assert_eq(r0.aIndex[2 * k + j], one.aIndex[4 * k + j], "step %d", k);
            cr_assert_eq(r1.aIndex[2 * k + j], one.aIndex[4 * k + 2 + j], "step %d", k);
            cr_assert_eq(r0.aHash[2 * k + j], one.aHash[4 * k + j]);
            cr_assert_eq(r1.aHash[2 * k + j], one.aHash[4 * k + 2 + j]);
        }
    }
    run_free(&one);
    run_free(&r0);
    run_free(&r1);
}

Test(train_data, a_resumed_loader_continues_the_uninterrupted_run)
{
    int n = qaA.n, nStep = n;    /* three epochs of batch 3 */
    sptt_loader_opts o = loader_opts(&qaA, 2, 9, 3);
    o.depth = 1;
    run_log full = run(&o, 0, nStep);
    int j = n / 3 + 1;           /* a checkpoint taken after step j - 1, in the second epoch's reach */
    run_log rest = run(&o, full.aPos[j - 1], nStep - j);
    cr_assert_arr_eq(rest.aIndex, full.aIndex + 3 * j, sizeof(int) * (size_t)(nStep - j) * 3);
    cr_assert_arr_eq(rest.aHash, full.aHash + 3 * j, sizeof(uint64_t) * (size_t)(nStep - j) * 3);
    cr_assert_arr_eq(rest.aPos, full.aPos + j, sizeof(int64_t) * (size_t)(nStep - j));
    /* any position, not only a batch boundary */
    run_log odd = run(&o, 7, 10);
    cr_assert_arr_eq(odd.aIndex, full.aIndex + 7, sizeof(int) * 30);
    cr_assert_arr_eq(odd.aHash, full.aHash + 7, sizeof(uint64_t) * 30);
    cr_assert_eq(odd.aPos[0], 10);
    run_free(&full);
    run_free(&rest);
    run_free(&odd);
}

Test(train_data, text_only_loader_and_the_frame_cache)
{
    sptt_loader *L;
    const sptt_sample *a;
    sptt_loader_stats st;
    sptt_loader_opts o = loader_opts(&qaA, 0, 1, 4);
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK, "%s", sptt_errmsg());
    for(int k = 0; k < 5; k++){
        cr_assert_eq(sptt_loader_next(L, &a, NULL), SPTT_OK, "%s", sptt_errmsg());
        for(int j = 0; j < 4; j++) cr_assert(a[j].n_frames==0 && a[j].pixels==NULL);
    }
    sptt_loader_stats_get(L, &st);
    cr_assert_eq(st.nSceneReads, 0);
    sptt_loader_close(L);

    /* one scene: its pack is read once, whatever the number of batches */
    o = loader_opts(&qaA, 4, 1, 4);
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK, "%s", sptt_errmsg());
    for(int k = 0; k < 5; k++) cr_assert_eq(sptt_loader_next(L, &a, NULL), SPTT_OK, "%s", sptt_errmsg());
    sptt_loader_stats_get(L, &st);
    cr_assert_eq(st.nSceneReads, 1);
    cr_assert_geq(st.nSceneHits, 19);
    cr_assert_geq(st.nSamples, 20);
    cr_assert_geq(st.workSeconds, 0);
    sptt_loader_close(L);
}

/* Scene B ingested again, with frames, and annotated: two scenes to train on. */
static void give_b_frames(void)
{
    char zScene[256], zTsv[256];
    sptt_ingest_opts io;
    sptt_ingest_result ir;
    sptt_geometry_opts go;
    sptt_geometry_report gr;
    sptt_annotate_opts ao;
    sptt_annotate_result ar;
    sqlite3 *db;
    snprintf(zScene, sizeof zScene, "%s/raw/scannet/scans/" SCENE_B, zTmp);
    snprintf(zTsv, sizeof zTsv, "%s/raw/scannet/scannetv2-labels.combined.tsv", zTmp);
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    memset(&io, 0, sizeof io);
    io.zLabels = zTsv;
    io.fps = 24;
    io.sourceFps = 24;
    io.frameW = 120;
    io.frameH = 90;
    io.force = 1;
    io.quiet = 1;
    cr_assert_eq(sptt_ingest_scannet(db, zScene, &io, &ir), SPTT_OK, "%s", sptt_errmsg());
    sptt_geometry_opts_default(&go);
    go.quiet = 1;
    cr_assert_eq(sptt_geometry_scene(db, SCENE_B, &go, &gr), SPTT_OK, "%s", sptt_errmsg());
    sptt_annotate_opts_default(&ao);
    ao.nFrames = 8;
    ao.width = 160;
    ao.height = 120;
    ao.minPixels = 10;
    ao.nVariants = 3;
    cr_assert_eq(sptt_annotate_scene(db, SCENE_B, &ao, &ar), SPTT_OK, "%s", sptt_errmsg());
    sptt_examples_free(&qa);
    free(qaA.a);
    memset(&qaA, 0, sizeof qaA);
    cr_assert_eq(sptt_examples_load(db, SPTT_EXAMPLES_QA, NULL, &qa), SPTT_OK, "%s", sptt_errmsg());
    sptt_dataset_close(db);
}

Test(train_data, two_scenes_through_a_one_scene_cache)
{
    give_b_frames();
    /* 32 frames of 96x96 are 884,736 bytes: a 1 MiB cache holds one scene */
    sptt_config big = cfg;
    big.frame_w = 96;
    big.frame_h = 96;
    const int nFrames = 32, nStep = 12, batch = 4;
    size_t nPix = (size_t)nFrames * 96 * 96 * 3;
    float *px[2] = { malloc(nPix * sizeof(float)), malloc(nPix * sizeof(float)) };
    sqlite3 *db = open_ro();
    cr_assert_eq(sptt_scene_frames(db, SCENE_A, &big, nFrames, px[0]), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_frames(db, SCENE_B, &big, nFrames, px[1]), SPTT_OK, "%s", sptt_errmsg());
    sptt_dataset_close(db);
    cr_assert(memcmp(px[0], px[1], nPix * sizeof(float))!=0);
    for(int cacheMB = 1; cacheMB <= 64; cacheMB += 63){
        sptt_loader_opts o = loader_opts(&qa, nFrames, 3, batch);
        sptt_loader *L;
        sptt_loader_stats st;
        const sptt_sample *a;
        o.data.cfg = &big;
        o.cacheMB = cacheMB;
        cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK, "%s", sptt_errmsg());
        int nSwitch = 0;
        const char *zPrev = NULL;
        for(int k = 0; k < nStep; k++){
            cr_assert_eq(sptt_loader_next(L, &a, NULL), SPTT_OK, "%s", sptt_errmsg());
            for(int j = 0; j < batch; j++){
                const sptt_example *e = &qa.a[sptt_loader_indices(L)[j]];
                int b = strcmp(e->zScene, SCENE_B)==0;
                cr_assert_arr_eq(a[j].pixels, px[b], nPix * sizeof(float), "step %d, sample %d: %s's frames", k, j, e->zScene);
                nSwitch += zPrev && strcmp(zPrev, e->zScene);
                zPrev = e->zScene;
            }
        }
        /* the thread goes on to the depth (2) batches ahead, then waits: count the switches of
        ** everything it made, from the order the permutation gives */
        int nMade = (nStep + 2) * batch, *perm = malloc(sizeof(int) * (size_t)qa.n);
        cr_assert_lt(nMade, qa.n);
        for(int i = 0; i < 5000; i++){
            struct timespec ts = { 0, 1000000 };
            sptt_loader_stats_get(L, &st);
            if( st.nSamples >= nMade ) break;
            nanosleep(&ts, NULL);
        }
        sptt_loader_stats_get(L, &st);
        sptt_loader_close(L);
        cr_assert_eq(st.nSamples, nMade);
        cr_assert_eq(sptt_epoch_permutation(3, 0, qa.n, perm), SPTT_OK);
        for(int q = nStep * batch; q < nMade; q++){
            const char *z = qa.a[perm[q]].zScene;
            nSwitch += strcmp(zPrev, z)!=0;
            zPrev = z;
        }
        free(perm);
        if( cacheMB==1 ){
            cr_assert_gt(nSwitch, 4);
            cr_assert_eq(st.nSceneReads, 1 + nSwitch, "one scene kept: every switch reads the other again");
        }else{
            cr_assert_eq(st.nSceneReads, 2, "both kept");
        }
    }
    free(px[0]);
    free(px[1]);
}

Test(train_data, an_example_that_cannot_be_made_surfaces_on_next)
{
    /* scene A's questions and one of scene B's, which has no frame images */
    sptt_examples mix;
    int iB = 0;
    while( strcmp(qa.a[iB].zScene, SCENE_B) ) iB++;
    mix.n = qaA.n + 1;
    mix.a = calloc((size_t)mix.n, sizeof(sptt_example));
    memcpy(mix.a, qaA.a, sizeof(sptt_example) * (size_t)qaA.n);
    mix.a[qaA.n] = qa.a[iB];
    int *perm = malloc(sizeof(int) * (size_t)mix.n), q = 0;
    cr_assert_eq(sptt_epoch_permutation(4, 0, mix.n, perm), SPTT_OK);
    while( perm[q]!=qaA.n ) q++;

    sptt_loader_opts o = loader_opts(&mix, 2, 4, 2);
    sptt_loader *L;
    const sptt_sample *a;
    int64_t pos = -1;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK, "%s", sptt_errmsg());
    for(int k = 0; k < q / 2; k++) cr_assert_eq(sptt_loader_next(L, &a, &pos), SPTT_OK, "step %d: %s", k, sptt_errmsg());
    cr_assert_eq(sptt_loader_next(L, &a, &pos), SPTT_ESTATE, "the step holding position %d", q);
    cr_assert_null(a);
    cr_assert(strstr(sptt_errmsg(), "scene '" SCENE_B "'") && strstr(sptt_errmsg(), "--render-frames"), "%s", sptt_errmsg());
    /* and again: a failed loader does not go on */
    cr_assert_eq(sptt_loader_next(L, &a, &pos), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), SCENE_B), "%s", sptt_errmsg());
    sptt_loader_close(L);

    /* a damaged pack: the message names the scene and the pack's fault */
    sptt_scene_row r;
    sqlite3 *db = open_ro();
    cr_assert_eq(sptt_scene_get(db, SCENE_A, &r), SPTT_OK);
    sptt_dataset_close(db);
    FILE *f = fopen(r.zPack, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, -100, SEEK_END), 0);
    int byte = fgetc(f);
    cr_assert_eq(fseek(f, -100, SEEK_END), 0);
    fputc(byte ^ 0x5a, f);
    fclose(f);
    sptt_scene_row_free(&r);
    o = loader_opts(&qaA, 2, 4, 2);
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK, "%s", sptt_errmsg());
    int rc = sptt_loader_next(L, &a, &pos);
    cr_assert(rc==SPTT_ECORRUPT || rc==SPTT_EFORMAT, "%d: %s", rc, sptt_errmsg());
    cr_assert(strstr(sptt_errmsg(), "scene '" SCENE_A "'"), "%s", sptt_errmsg());
    sptt_loader_close(L);
    free(perm);
    free(mix.a);
}

Test(train_data, close_at_any_moment)
{
    sptt_loader *L;
    const sptt_sample *a;
    sptt_loader_opts o = loader_opts(&qaA, 8, 2, 4);
    o.depth = 8;
    /* closed at once, while the first batches are being made */
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK, "%s", sptt_errmsg());
    sptt_loader_close(L);
    /* closed holding a batch, with others ahead */
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK);
    cr_assert_eq(sptt_loader_next(L, &a, NULL), SPTT_OK);
    sptt_loader_close(L);
    /* closed with the thread waiting for room */
    o.depth = 1;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_OK);
    cr_assert_eq(sptt_loader_next(L, &a, NULL), SPTT_OK);
    cr_assert_eq(sptt_loader_next(L, &a, NULL), SPTT_OK);
    for(int i = 0; i < 2000; i++){
        /* until the thread has made the one batch it may make ahead and waits */
        sptt_loader_stats st;
        struct timespec ts = { 0, 1000000 };
        sptt_loader_stats_get(L, &st);
        if( st.nSamples >= 12 ) break;
        nanosleep(&ts, NULL);
    }
    sptt_loader_close(L);
    sptt_loader_close(NULL);
}

Test(train_data, open_checks_its_options)
{
    sptt_loader *L = (sptt_loader *)1;
    sptt_loader_opts o = loader_opts(&qaA, 2, 1, 2);
    sptt_examples none = { 0 };
    o.batch = 0;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_EINVAL);
    cr_assert_null(L);
    cr_assert(strstr(sptt_errmsg(), "batch"), "%s", sptt_errmsg());
    o.batch = 2;
    o.nRank = 2;
    o.rank = 2;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "rank 2 of 2"), "%s", sptt_errmsg());
    o.rank = 1;
    cr_assert_eq(sptt_loader_open(&o, -1, &L), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "position"), "%s", sptt_errmsg());
    o.depth = -1;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_EINVAL);
    o.depth = 0;
    o.data.nFrames = 5;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_EINVAL);
    o.data.nFrames = 2;
    o.ex = &none;
    cr_assert_eq(sptt_loader_open(&o, 0, &L), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "no examples"), "%s", sptt_errmsg());
    o.ex = &qaA;
    char zMissing[200];
    snprintf(zMissing, sizeof zMissing, "%s/missing.db", zTmp);
    o.zDb = zMissing;
    cr_assert_neq(sptt_loader_open(&o, 0, &L), SPTT_OK);
    cr_assert_null(L);
    cr_assert(strstr(sptt_errmsg(), "missing.db"), "%s", sptt_errmsg());
}

/* ---------------------------------------------------------------------------------------------
** The permutation, without a dataset
*/
Test(train_data_perm, seeded_epochs_are_fixed_permutations)
{
    int a[10], b[10];
    cr_assert_eq(sptt_epoch_permutation(7, 0, 10, a), SPTT_OK);
    cr_assert_eq(sptt_epoch_permutation(7, 0, 10, b), SPTT_OK);
    cr_assert_arr_eq(a, b, sizeof a);
    int seen[10] = { 0 };
    for(int i = 0; i < 10; i++) seen[a[i]]++;
    for(int i = 0; i < 10; i++) cr_assert_eq(seen[i], 1);
    cr_assert_eq(sptt_epoch_permutation(7, 1, 10, b), SPTT_OK);
    cr_assert(memcmp(a, b, sizeof a)!=0);
    /* pinned: a checkpoint resumed on another machine, or by a later build, must see this order */
    static const int aGold[2][10] = { { 7, 4, 9, 5, 6, 0, 8, 2, 1, 3 }, { 5, 4, 2, 8, 9, 3, 0, 1, 6, 7 } };
    cr_assert_arr_eq(a, aGold[0], sizeof a);
    cr_assert_arr_eq(b, aGold[1], sizeof b);
    cr_assert_eq(sptt_epoch_permutation(7, -1, 10, b), SPTT_EINVAL);
    cr_assert_eq(sptt_epoch_permutation(7, 0, 0, b), SPTT_OK);
}

/* The length-grouped order for global batches of G in windows of W batches: per epoch a
** permutation; the lead positions (finishing the batch that straddles from the previous epoch)
** as the plain permutation has them; within each window every full batch a run of the window's
** sorted lengths, so no two batches' length ranges overlap; a partial batch last. */
static void check_grouped(uint64_t seed, int n, const size_t *aLen, int G, int W, int nEpoch)
{
    int *perm = malloc(sizeof(int) * (size_t)n), *ord = malloc(sizeof(int) * (size_t)n);
    int *seen = malloc(sizeof(int) * (size_t)n);
    for(int e = 0; e < nEpoch; e++){
        cr_assert_eq(sptt_epoch_permutation(seed, e, n, perm), SPTT_OK);
        cr_assert_eq(sptt_epoch_order(seed, e, n, aLen, G, W, ord), SPTT_OK);
        memset(seen, 0, sizeof(int) * (size_t)n);
        for(int i = 0; i < n; i++) seen[ord[i]]++;
        for(int i = 0; i < n; i++) cr_assert_eq(seen[i], 1, "epoch %d: example %d seen %d times", e, i, seen[i]);
        int lead = (int)((G - ((int64_t)e * n) % G) % G);
        if( lead > n ) lead = n;
        /* global positions e * n + lead are batch starts */
        cr_assert_eq(((int64_t)e * n + lead) % G, lead==n ? ((int64_t)e * n + n) % G : 0);
        for(int i = 0; i < lead; i++) cr_assert_eq(ord[i], perm[i], "epoch %d: lead position %d", e, i);
        for(int w0 = lead; w0 < n; w0 += G * W){
            int m = n - w0 < G * W ? n - w0 : G * W, nFull = m / G;
            /* the window holds the permutation's window */
            memset(seen, 0, sizeof(int) * (size_t)n);
            for(int i = 0; i < m; i++) seen[perm[w0 + i]]++;
            for(int i = 0; i < m; i++) cr_assert_eq(seen[ord[w0 + i]], 1, "epoch %d window %d", e, w0);
            for(int b = 0; b < nFull; b++){
                size_t lo = (size_t)-1, hi = 0;
                for(int j = 0; j < G; j++){
                    size_t l = aLen[ord[w0 + b * G + j]];
                    if( l < lo ) lo = l;
                    if( l > hi ) hi = l;
                }
                /* no example of another batch of the window lies strictly inside (lo, hi) */
                for(int i = 0; i < m; i++){
                    if( i / G==b ) continue;
                    size_t l = aLen[ord[w0 + i]];
                    cr_assert(!(l > lo && l < hi), "epoch %d: batch %d spans [%zu, %zu], holding %zu elsewhere", e, b, lo, hi, l);
                }
            }
            for(int i = nFull * G; i < m; i++){
                /* the partial batch holds the window's longest */
                for(int k = 0; k < nFull * G; k++) cr_assert_leq(aLen[ord[w0 + k]], aLen[ord[w0 + i]]);
            }
        }
    }
    free(perm);
    free(ord);
    free(seen);
}

Test(train_data_perm, length_grouped_orders)
{
    enum { N = 103 };
    size_t aLen[N];
    int a[N], b[N];
    sptt_rng r;
    sptt_rng_seed(&r, 99);
    for(int i = 0; i < N; i++) aLen[i] = 20 + sptt_rng_below(&r, 200);
    check_grouped(5, N, aLen, 4, 3, 4);    /* 103 = 25 batches + 3: leads of 1, 2, 3 in later epochs */
    check_grouped(6, N, aLen, 8, 16, 3);   /* one window covers an epoch */
    check_grouped(7, N, aLen, 1, 5, 2);    /* batches of one: sorted runs of 5, shuffled */
    /* window 0 is the plain permutation; the order is fixed by (seed, epoch, G, W) */
    cr_assert_eq(sptt_epoch_order(5, 2, N, aLen, 4, 0, a), SPTT_OK);
    cr_assert_eq(sptt_epoch_permutation(5, 2, N, b), SPTT_OK);
    cr_assert_arr_eq(a, b, sizeof a);
    cr_assert_eq(sptt_epoch_order(5, 2, N, aLen, 4, 3, a), SPTT_OK);
    cr_assert_eq(sptt_epoch_order(5, 2, N, aLen, 4, 3, b), SPTT_OK);
    cr_assert_arr_eq(a, b, sizeof a);
    cr_assert_eq(sptt_epoch_order(5, 3, N, aLen, 4, 3, b), SPTT_OK);
    cr_assert(memcmp(a, b, sizeof a)!=0);
    /* equal lengths: the batches are the permutation's, in a drawn order */
    for(int i = 0; i < N; i++) aLen[i] = 7;
    check_grouped(5, N, aLen, 4, 3, 2);
}

Test(train_data, grouped_by_length_ranks_and_resume_still_agree)
{
    int n = qaA.n, nStep = n;
    sptt_loader_opts o = loader_opts(&qaA, 2, 5, 4);
    o.lengthWindow = 3;
    run_log one = run(&o, 0, nStep);
    /* 2 ranks x batch 2 see the one-rank run's global batches */
    o.batch = 2;
    o.nRank = 2;
    o.rank = 1;
    run_log r1 = run(&o, 0, nStep);
    for(int k = 0; k < nStep; k++)
        for(int j = 0; j < 2; j++) cr_assert_eq(r1.aIndex[2 * k + j], one.aIndex[4 * k + 2 + j], "step %d", k);
    /* the order is sptt_epoch_order's, and a loader opened mid-run continues it */
    size_t *aLen = malloc(sizeof *aLen * (size_t)n);
    int *ord = malloc(sizeof(int) * (size_t)n);
    for(int i = 0; i < n; i++) aLen[i] = sptt_example_length(&o.data, &qaA.a[i]);
    cr_assert_eq(sptt_epoch_order(5, 1, n, aLen, 4, 3, ord), SPTT_OK);
    for(int i = 0; i < n && n + i < 4 * nStep; i++) cr_assert_eq(one.aIndex[n + i], ord[i], "epoch 1, position %d", i);
    o.batch = 4;
    o.nRank = 1;
    o.rank = 0;
    run_log rest = run(&o, one.aPos[4], nStep - 5);
    cr_assert_arr_eq(rest.aIndex, one.aIndex + 4 * 5, sizeof(int) * (size_t)(nStep - 5) * 4);
    free(aLen);
    free(ord);
    run_free(&one);
    run_free(&r1);
    run_free(&rest);
}
