/*
** Long-horizon stream questions (annotate/stream_qa.c): a hand-built walk of three rooms whose
** every answer is worked out by hand below, the ambiguity rules (an instance glimpsed but not
** seen, a category glimpsed in an earlier room, onsets within 1 s), letter balance, prompts and
** determinism; then streams made from a real synthetic dataset, recounted from its visibility
** rows by an independent query, re-run unchanged, and stale after a scene changes.
*/
#include <criterion/criterion.h>

#include "ann_content.h"
#include "dataset_testutil.h"
#include "sptt_db.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

/*
** The walk: three rooms of 10 frames, one second a frame, so global frame g is at g s. Query
** frames are the rooms' last frames: 9, 19, 29. Instances (room, id, category, glimpse -> seen):
**
**   chair  r0 #1 1->2, r0 #2 5->5, r1 #1 12->12, r2 #3 24->25      seen by 9: 2, by 19: 3, by 29: 4
**   table  r0 #3 3->3, r1 #4 15->never, r2 #1 21->21             r1 #4 is in doubt from frame 15
**   lamp   r0 #4 7->7, r0 #5 8->8                                 2 at every query
**   sofa   r1 #2 13->14, r2 #2 27->27                             by 19: 1, by 29: 2
**   bed    r1 #3 16->17
**   tv     r0 #6 9->never, r2 #4 22->22                           first seen in room 3, glimpsed in room 1
**
** Counting (categories seen twice or more, none in doubt): at 9 chair 2, lamp 2; at 19 chair 3,
** lamp 2; at 29 chair 4, lamp 2, sofa 2, and table (2 seen) refused: r1 #4 glimpsed, not seen.
**
** Appearance order at 19 (F first seen, G first glimpse): chair F2 G1, table F3 G3, lamp F7 G7,
** sofa F14 G13, bed F17 G16. chair and table are refused together (2 + 1 is not < 3); every other
** pair is apart (e.g. sofa then bed: 15 < 16). Of the five 4-sets only {chair, lamp, sofa, bed} and
** {table, lamp, sofa, bed} hold, and both span two rooms. At 29 tv joins with F22 G9, after sofa
** and bed (15 and 18 are not < 9): still the same two sets.
**
** First room: at 19 one room-1 category (chair, table or lamp) then one room-2 one (sofa or bed);
** at 29 room 3 has no candidate (tv was glimpsed in room 1), so again room 1 then room 2 (the tie
** between rooms 1 and 2, each asked once, goes to room 1), never a category twice.
*/
static const char *const azCat[6] = { "bed", "chair", "lamp", "sofa", "table", "tv" };
enum { BED, CHAIR, LAMP, SOFA, TABLE, TV };
static const ann_stream_inst aInst[] = {
    { 0, 1, CHAIR, 2, 1 }, { 0, 2, CHAIR, 5, 5 }, { 1, 1, CHAIR, 12, 12 }, { 2, 3, CHAIR, 25, 24 },
    { 0, 3, TABLE, 3, 3 }, { 1, 4, TABLE, -1, 15 }, { 2, 1, TABLE, 21, 21 },
    { 0, 4, LAMP, 7, 7 }, { 0, 5, LAMP, 8, 8 },
    { 1, 2, SOFA, 14, 13 }, { 2, 2, SOFA, 27, 27 },
    { 1, 3, BED, 17, 16 },
    { 0, 6, TV, -1, 9 }, { 2, 4, TV, 22, 22 },
};
static const int64_t aOffset[3] = { 0, 10, 20 }, aCount[3] = { 10, 10, 10 };
static double aTime[30];

static ann_stream_in walk_in(void)
{
    for(int g = 0; g < 30; g++) aTime[g] = g;
    ann_stream_in in = { 3, aOffset, aCount, 30, aTime, 6, azCat, (int)(sizeof aInst / sizeof aInst[0]), aInst };
    return in;
}

static void make(uint64_t seed, ann_stream_out *out)
{
    ann_stream_in in = walk_in();
    ann_stream_letters L;
    sptt_rng r;
    memset(&L, 0, sizeof L);
    memset(out, 0, sizeof *out);
    sptt_rng_seed(&r, seed);
    cr_assert_eq(ann_stream_questions(&in, &r, &L, out), SPTT_OK, "%s", sptt_errmsg());
}

/* The category a question names, by "a <cat> first" or "many <cat>(s)". */
static const char *named(const char *zQ)
{
    for(int c = 0; c < 6; c++){
        char a[64], b[64];
        snprintf(a, sizeof a, "many %s(s)", azCat[c]);
        snprintf(b, sizeof b, "did a %s first", azCat[c]);
        if( strstr(zQ, a) || strstr(zQ, b) ) return azCat[c];
    }
    return NULL;
}

Test(stream_qa, hand_built_walk)
{
    ann_stream_out out;
    int nType[3] = {0};
    char zCount[512] = "", zRooms[512] = "";
    int asked[6] = {0};
    make(7, &out);
    for(int i = 0; i < out.n; i++){
        const ann_stream_qa *q = &out.a[i];
        if( strcmp(q->zType, "stream_object_counting")==0 ){
            nType[0]++;
            cr_assert_null(q->zOptions);
            cr_assert_str_eq(q->zGroundTruth, q->zAnswerText);
            snprintf(zCount + strlen(zCount), sizeof zCount - strlen(zCount), "%lld:%s=%s ", (long long)q->queryFrame, named(q->zQuestion),
                     q->zGroundTruth);
            cr_assert(strstr(q->zPrompt, "\nPlease answer the question using a single word or phrase.") != NULL);
        }else if( strcmp(q->zType, "stream_appearance_order")==0 ){
            json_t *opt = json_loads(q->zOptions, 0, NULL);
            int letter = q->zGroundTruth[0] - 'A';
            nType[1]++;
            cr_assert(q->queryFrame==19 || q->queryFrame==29);
            cr_assert(strcmp(q->zAnswerText, "chair, lamp, sofa, bed")==0 || strcmp(q->zAnswerText, "table, lamp, sofa, bed")==0,
                      "%s", q->zAnswerText);
            cr_assert_eq(json_array_size(opt), 4);
            cr_assert_str_eq(json_string_value(json_array_get(opt, (size_t)letter)) + 3, q->zAnswerText);
            /* the other options are other orders of the same four */
            for(size_t k = 0; k < 4; k++) if( (int)k!=letter ) cr_assert_str_neq(json_string_value(json_array_get(opt, k)) + 3, q->zAnswerText);
            cr_assert(strstr(q->zPrompt, "\nOptions:\nA. ") != NULL);
            json_decref(opt);
        }else{
            json_t *opt = json_loads(q->zOptions, 0, NULL);
            const char *c = named(q->zQuestion);
            cr_assert_str_eq(q->zType, "stream_first_room");
            nType[2]++;
            cr_assert_not_null(c, "%s", q->zQuestion);
            for(int k = 0; k < 6; k++) if( strcmp(c, azCat[k])==0 ){ cr_assert_eq(asked[k], 0, "%s asked twice", c); asked[k] = 1; }
            cr_assert_eq(json_array_size(opt), q->queryFrame==19 ? 2 : 3);
            cr_assert_str_eq(json_string_value(json_array_get(opt, (size_t)(q->zGroundTruth[0] - 'A'))) + 3, q->zAnswerText);
            snprintf(zRooms + strlen(zRooms), sizeof zRooms - strlen(zRooms), "%lld:%s=%s ", (long long)q->queryFrame, c, q->zAnswerText);
            if( strcmp(c, "sofa")==0 || strcmp(c, "bed")==0 ) cr_assert_str_eq(q->zAnswerText, "room 2");
            else cr_assert(strcmp(c, "chair")==0 || strcmp(c, "table")==0 || strcmp(c, "lamp")==0, "%s", c);
            if( strcmp(c, "chair")==0 || strcmp(c, "table")==0 || strcmp(c, "lamp")==0 ) cr_assert_str_eq(q->zAnswerText, "room 1");
            json_decref(opt);
        }
    }
    cr_assert_eq(nType[0], 7, "%s", zCount);
    /* questions come in query order, counting first, each query's candidates shuffled */
    cr_assert(strstr(zCount, "9:chair=2") && strstr(zCount, "9:lamp=2") && strstr(zCount, "19:chair=3") && strstr(zCount, "19:lamp=2")
              && strstr(zCount, "29:chair=4") && strstr(zCount, "29:lamp=2") && strstr(zCount, "29:sofa=2"), "%s", zCount);
    cr_assert_eq(nType[1], 2);
    cr_assert_eq(nType[2], 4, "%s", zRooms);
    cr_assert_eq(out.aRejected[ANN_STREAM_COUNTING], 1);     /* table at 29 */
    cr_assert_eq(out.aRejected[ANN_STREAM_FIRST_ROOM], 1);   /* tv at 29 */
    cr_assert_eq(asked[TV], 0);
    ann_stream_out_free(&out);
}

Test(stream_qa, deterministic_for_a_seed)
{
    ann_stream_out a, b, c;
    int differ = 0;
    make(11, &a);
    make(11, &b);
    make(12, &c);
    cr_assert_eq(a.n, b.n);
    for(int i = 0; i < a.n; i++){
        cr_assert_str_eq(a.a[i].zQuestion, b.a[i].zQuestion);
        cr_assert_str_eq(a.a[i].zPrompt, b.a[i].zPrompt);
        cr_assert_str_eq(a.a[i].zGroundTruth, b.a[i].zGroundTruth);
        cr_assert_str_eq(a.a[i].zMeta, b.a[i].zMeta);
        cr_assert_eq(a.a[i].queryFrame, b.a[i].queryFrame);
    }
    /* another seed draws other picks and layouts, never other counts */
    cr_assert_eq(c.n, a.n);
    for(int i = 0; i < a.n; i++) differ |= strcmp(a.a[i].zPrompt, c.a[i].zPrompt)!=0;
    cr_assert(differ);
    ann_stream_out_free(&a);
    ann_stream_out_free(&b);
    ann_stream_out_free(&c);
}

Test(stream_qa, letters_balanced_over_a_run)
{
    ann_stream_in in = walk_in();
    ann_stream_letters L;
    sptt_rng root;
    int order[4] = {0}, two[2] = {0}, three[3] = {0};
    memset(&L, 0, sizeof L);
    sptt_rng_seed(&root, 5);
    for(int s = 0; s < 40; s++){
        ann_stream_out out;
        sptt_rng r;
        memset(&out, 0, sizeof out);
        sptt_rng_fork(&root, (uint64_t)s, &r);
        cr_assert_eq(ann_stream_questions(&in, &r, &L, &out), SPTT_OK);
        for(int i = 0; i < out.n; i++){
            const ann_stream_qa *q = &out.a[i];
            int k = q->zGroundTruth[0] - 'A';
            if( strcmp(q->zType, "stream_appearance_order")==0 ) order[k]++;
            else if( strcmp(q->zType, "stream_first_room")==0 && q->queryFrame==19 ) two[k]++;
            else if( strcmp(q->zType, "stream_first_room")==0 ) three[k]++;
        }
        ann_stream_out_free(&out);
    }
    /* the answer goes to the least-used letter, so no letter is ahead by more than one */
    for(int k = 0; k < 4; k++) cr_assert_eq(order[k], 20, "letter %c: %d", 'A' + k, order[k]);
    cr_assert_eq(two[0], 40);
    cr_assert_eq(two[1], 40);
    for(int k = 0; k < 3; k++) cr_assert(three[k] >= 26 && three[k] <= 27, "letter %c: %d", 'A' + k, three[k]);
}

/* ---------------------------------------------------------------------------------------------
** Streams of a real dataset
*/
static char zDir[256];

static void setup(void)
{
    snprintf(zDir, sizeof zDir, "/tmp/sptt_stream_test_%d", (int)getpid());
    sptt_mkdirs(zDir);
}

static void teardown(void)
{
    char zCmd[300];
    snprintf(zCmd, sizeof zCmd, "rm -rf %s", zDir);
    if( system(zCmd) ){}
}

static int64_t q64(sqlite3 *db, const char *zSql)
{
    sqlite3_stmt *s = NULL;
    int64_t v;
    cr_assert_eq(sqlite3_prepare_v2(db, zSql, -1, &s, NULL), SQLITE_OK, "%s: %s", zSql, sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s", zSql);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

Test(stream_db, counts_recomputed_from_visibility_unchanged_rerun_and_stale_after_change, .init = setup, .fini = teardown)
{
    char zDb[300];
    sqlite3 *db;
    sptt_stream_opts o = { 3, 2, 9, NULL };
    sptt_stream_result r;
    sptt_streams all;
    snprintf(zDb, sizeof zDb, "%s/d.db", zDir);
    dataset_build_small(zDir, zDb, 1);
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_annotate_streams(db, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.nMade, 3);
    cr_assert_eq(q64(db, "SELECT count(*) FROM streams"), 3);
    cr_assert_eq(q64(db, "SELECT count(*) FROM stream_scenes"), 6);
    /* each walk: its rooms back to back, two distinct scenes */
    cr_assert_eq(q64(db, "SELECT count(*) FROM stream_scenes x JOIN scenes s ON s.name=x.scene_name WHERE x.n_frames=s.n_frames AND "
                         "x.frame_offset=(SELECT coalesce(sum(y.n_frames), 0) FROM stream_scenes y WHERE y.stream_id=x.stream_id AND "
                         "y.position < x.position)"), 6);
    cr_assert_eq(q64(db, "SELECT count(*) FROM streams t WHERE n_frames=(SELECT sum(n_frames) FROM stream_scenes x WHERE "
                         "x.stream_id=t.stream_id) AND (SELECT count(DISTINCT scene_name) FROM stream_scenes x WHERE x.stream_id=t.stream_id)=2"), 3);
    cr_assert_gt(q64(db, "SELECT count(*) FROM stream_qa WHERE question_type='stream_object_counting'"), 0);
    /* every counting answer equals the instances of the category with min-pixels (10 here) in some
    ** frame of a room up to the query frame, counted straight from the visibility rows */
    cr_assert_eq(q64(db,
        "SELECT count(*) FROM stream_qa q WHERE q.question_type='stream_object_counting' AND CAST(q.ground_truth AS INTEGER) <> "
        "(SELECT count(DISTINCT x.position || '/' || o.instance_id) FROM stream_scenes x JOIN scenes s ON s.name=x.scene_name "
        " JOIN objects o ON o.scene_id=s.scene_id JOIN visibility v ON v.scene_id=o.scene_id AND v.instance_id=o.instance_id "
        " WHERE x.stream_id=q.stream_id AND o.category=json_extract(q.objects, '$.category') AND v.pixels >= 10 "
        " AND x.frame_offset + v.frame_index <= q.query_frame)"), 0);
    /* query frames are the rooms' last frames */
    cr_assert_eq(q64(db, "SELECT count(*) FROM stream_qa q WHERE NOT EXISTS(SELECT 1 FROM stream_scenes x WHERE x.stream_id=q.stream_id "
                         "AND x.frame_offset + x.n_frames - 1 = q.query_frame)"), 0);

    /* again: unchanged, rows as they were */
    {
        int64_t before = q64(db, "SELECT sum(length(prompt) + stream_qa_id) FROM stream_qa");
        cr_assert_eq(sptt_annotate_streams(db, &o, &r), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(r.nMade, 0);
        cr_assert_eq(r.nUnchanged, 3);
        cr_assert_eq(q64(db, "SELECT sum(length(prompt) + stream_qa_id) FROM stream_qa"), before);
    }
    cr_assert_eq(sptt_streams_load(db, NULL, &all), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(all.n, 3);
    cr_assert_eq(all.a[0].nScene, 2);
    cr_assert_eq(all.a[0].aScene[1].offset, all.a[0].aScene[0].nFrames);
    sptt_streams_free(&all);
    /* a scene annotated with other options: its streams are stale, then made again */
    {
        sptt_annotate_opts ao;
        sptt_annotate_result ar;
        sptt_annotate_opts_default(&ao);
        ao.nFrames = 6;
        ao.width = 160;
        ao.height = 120;
        ao.minPixels = 10;
        cr_assert_eq(sptt_annotate_scene(db, "scene0700_00", &ao, &ar), SPTT_OK, "%s", sptt_errmsg());
    }
    cr_assert_eq(sptt_streams_load(db, NULL, &all), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(all.n, 0);
    sptt_streams_free(&all);
    cr_assert_eq(sptt_annotate_streams(db, &o, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.nMade, 3);
    cr_assert_eq(sptt_streams_load(db, NULL, &all), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(all.n, 3);
    sptt_streams_free(&all);
    /* a split no scene has: no stream of it; more rooms than scenes: refused, nothing written */
    cr_assert_eq(sptt_streams_load(db, "val", &all), SPTT_OK);
    cr_assert_eq(all.n, 0);
    sptt_streams_free(&all);
    o.nRooms = 3;
    cr_assert_eq(sptt_annotate_streams(db, &o, &r), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), "3 rooms need 3") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(q64(db, "SELECT count(*) FROM streams"), 3);
    sptt_dataset_close(db);
}
