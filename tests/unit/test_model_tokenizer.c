/*
** Tests of the tokenizer, the configuration and the sample layout of model/.
*/
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_model.h"

static const char *const azCorpus[] = {
    "How many chairs are in the room? 3",
    "How many tables are in the room? 2",
    "What is the distance between the chair and the table? 1.25 meters",
    "the chair is to the left of the table",
    "the chair is to the right of the sofa",
};

static sptt_tokenizer *fit(int vocab)
{
    sptt_tokenizer *t = NULL;
    cr_assert_eq(sptt_tokenizer_fit(azCorpus, NULL, 5, vocab, &t), SPTT_OK, "%s", sptt_errmsg());
    return t;
}

Test(tokenizer, round_trip_and_merges)
{
    sptt_tokenizer *t = fit(400);
    cr_assert_gt(sptt_tokenizer_vocab(t), SPTT_TOK_BASE, "some merges must be learned");
    cr_assert_leq(sptt_tokenizer_vocab(t), 400);
    const char *z = "How many chairs are left of the sofa? 12.5 meters, déjà vu";
    int32_t *a;
    int n;
    cr_assert_eq(sptt_tokenizer_encode(t, z, strlen(z), &a, &n), SPTT_OK);
    cr_expect_lt(n, (int)strlen(z), "frequent words must merge");
    char *back = sptt_tokenizer_decode(t, a, n);
    cr_expect_str_eq(back, z, "byte-level BPE is lossless, UTF-8 included");
    free(back);
    free(a);
    // " chair" is frequent: one id
    cr_assert_eq(sptt_tokenizer_encode(t, " chair", 6, &a, &n), SPTT_OK);
    cr_expect_eq(n, 1);
    free(a);
    sptt_tokenizer_free(t);
}

Test(tokenizer, digits_are_single_tokens)
{
    sptt_tokenizer *t = fit(600);
    int32_t *a;
    int n;
    cr_assert_eq(sptt_tokenizer_encode(t, "1.25 3 2024", 11, &a, &n), SPTT_OK);
    // 1 . 2 5 ' ' 3 ' ' 2 0 2 4 : every digit alone, never merged with anything
    int nDigit = 0;
    for(int i = 0; i < n; i++){
        if( a[i] >= SPTT_TOK_BYTE0 + '0' && a[i] <= SPTT_TOK_BYTE0 + '9' ) nDigit++;
    }
    cr_expect_eq(nDigit, 8);
    free(a);
    sptt_tokenizer_free(t);
}

Test(tokenizer, deterministic_and_file_round_trip)
{
    sptt_tokenizer *t1 = fit(350), *t2 = fit(350), *t3 = NULL;
    int n1, n2, n3;
    const int32_t *m1 = sptt_tokenizer_merges(t1, &n1), *m2 = sptt_tokenizer_merges(t2, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(m1, m2, sizeof(int32_t) * 2 * (size_t)n1) == 0);
    char path[] = "/tmp/sptt_tok_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(sptt_tokenizer_save(t1, path), SPTT_OK);
    cr_assert_eq(sptt_tokenizer_load(path, &t3), SPTT_OK, "%s", sptt_errmsg());
    const int32_t *m3 = sptt_tokenizer_merges(t3, &n3);
    cr_assert_eq(n3, n1);
    cr_assert(memcmp(m1, m3, sizeof(int32_t) * 2 * (size_t)n1) == 0);
    // a damaged file is refused with its name in the message
    FILE *f = fopen(path, "r+b");
    fseek(f, 8, SEEK_SET);
    fputc(0x7f, f);
    fclose(f);
    sptt_tokenizer *t4 = NULL;
    cr_expect_eq(sptt_tokenizer_load(path, &t4), SPTT_EFORMAT);
    cr_expect(strstr(sptt_errmsg(), "sptt_tok_") != NULL);
    unlink(path);
    // the specials decode to their names
    int32_t sp[2] = { SPTT_TOK_VIDEO_START, SPTT_TOK_ANSWER };
    char *z = sptt_tokenizer_decode(t1, sp, 2);
    cr_expect_str_eq(z, "<|video_start|><|answer|>");
    free(z);
    sptt_tokenizer_free(t1);
    sptt_tokenizer_free(t2);
    sptt_tokenizer_free(t3);
}

Test(config, validation_and_json_round_trip)
{
    sptt_config c, d;
    sptt_config_default(&c);
    cr_assert_eq(sptt_config_validate(&c), SPTT_OK, "%s", sptt_errmsg());
    sptt_config_tiny(&c);
    cr_assert_eq(sptt_config_validate(&c), SPTT_OK, "%s", sptt_errmsg());
    c.prenorm = 0;
    c.rope_theta = 5e6f;
    char *z = sptt_config_to_json(&c);
    cr_assert_not_null(z);
    cr_assert_eq(sptt_config_from_json(z, &d), SPTT_OK, "%s", sptt_errmsg());
    cr_expect(memcmp(&c, &d, sizeof c) == 0, "JSON round trip must be exact");
    free(z);
    // each constraint names its field
    struct { const char *zJson; const char *zField; } bad[] = {
        { "{\"hidden\": 250}", "n_head" },
        { "{\"window\": 100}", "window" },
        { "{\"ttt_rope_dim\": 128}", "ttt_rope_dim" },
        { "{\"rope_sections\": [1, 1, 1]}", "rope_sections" },
        { "{\"frame_w\": 60}", "frame_w" },
        { "{\"prenorm\": 2}", "switches" },
        { "{\"size\": 2}", "size" },
        { "{\"hidden\": 1.5}", "hidden" },
    };
    for(size_t i = 0; i < sizeof bad / sizeof bad[0]; i++){
        cr_expect_neq(sptt_config_from_json(bad[i].zJson, &d), SPTT_OK, "%s accepted", bad[i].zJson);
        cr_expect(strstr(sptt_errmsg(), bad[i].zField) != NULL, "%s: message '%s'", bad[i].zJson, sptt_errmsg());
    }
    // layer kinds: every 4th is full attention by default
    sptt_config_default(&c);
    for(int l = 0; l < 8; l++) cr_expect_eq(sptt_layer_kind(&c, l), l % 4 == 3 ? SPTT_LAYER_FULL : SPTT_LAYER_TTT);
    c.use_ttt = 0;
    cr_expect_eq(sptt_layer_kind(&c, 0), SPTT_LAYER_SWA);
    c.all_full = 1;
    cr_expect_eq(sptt_layer_kind(&c, 0), SPTT_LAYER_FULL);
}

Test(sample, layout_targets_and_3d_positions)
{
    sptt_config c;
    sptt_config_tiny(&c);          // 8x8 frames, patch 4: 2x2 patches a group
    int32_t prompt[2] = { 300 - 1, 300 - 2 }, answer[1] = { 100 };
    sptt_sample s;
    cr_assert_eq(sptt_sample_build(&c, prompt, 2, answer, 1, 4, NULL, &s), SPTT_OK, "%s", sptt_errmsg());
    // BOS, [VS p p p p VE] x 2, prompt x 2, ANSWER, 100, EOS
    int32_t want[] = { 1, 3, 6, 6, 6, 6, 4, 3, 6, 6, 6, 6, 4, 299, 298, 5, 100, 2 };
    cr_assert_eq(s.n_tokens, 18);
    for(int i = 0; i < 18; i++) cr_expect_eq(s.tokens[i], want[i], "token %d", i);
    for(int i = 0; i < 18; i++) cr_expect_eq(s.targets[i], i == 15 ? 100 : i == 16 ? 2 : -1, "target %d", i);
    int32_t pos[54], vid[8];
    cr_assert_eq(sptt_sample_positions(&c, &s, pos, vid), SPTT_OK);
    // hand-computed: BOS 0, VS 1, group 0 at c=2 -> (2+0, 2+h, 2+w), counter 2+1+1 = 4: VE 4,
    // VS 5, group 1 is its own run: (6, 6+h, 6+w), then VE 8, prompt 9 10, ANSWER 11, 12, 13
    int32_t wantPos[18][3] = {
        {0,0,0}, {1,1,1}, {2,2,2}, {2,2,3}, {2,3,2}, {2,3,3}, {4,4,4}, {5,5,5},
        {6,6,6}, {6,6,7}, {6,7,6}, {6,7,7}, {8,8,8}, {9,9,9}, {10,10,10}, {11,11,11}, {12,12,12}, {13,13,13} };
    for(int i = 0; i < 18; i++) for(int k = 0; k < 3; k++) cr_expect_eq(pos[3 * i + k], wantPos[i][k], "pos %d.%d", i, k);
    int32_t wantVid[8] = { 2, 3, 4, 5, 8, 9, 10, 11 };
    for(int v = 0; v < 8; v++) cr_expect_eq(vid[v], wantVid[v]);
    // a patch count that does not match the frames is refused
    s.tokens[2] = 50;
    cr_expect_eq(sptt_sample_positions(&c, &s, pos, vid), SPTT_EFORMAT);
    sptt_sample_free(&s);
}

Test(sample, one_video_run_spans_groups_in_time)
{
    // four groups back to back without text between: one run, t' counts the groups
    sptt_config c;
    sptt_config_tiny(&c);
    int32_t tok[17] = { 1 };
    for(int i = 1; i < 17; i++) tok[i] = SPTT_TOK_PATCH;
    int32_t tgt[17];
    for(int i = 0; i < 17; i++) tgt[i] = -1;
    float pix[8 * 8 * 8 * 3] = { 0 };
    sptt_sample s = { 17, tok, tgt, 8, pix };
    int32_t pos[51], vid[16];
    cr_assert_eq(sptt_sample_positions(&c, &s, pos, vid), SPTT_OK);
    cr_expect(pos[3 * 16] == 1 + 3 && pos[3 * 16 + 1] == 1 + 1 && pos[3 * 16 + 2] == 1 + 1, "last patch at (t3, h1, w1)");
}
