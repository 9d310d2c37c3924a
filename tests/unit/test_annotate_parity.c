/*
** Parity of the generated QA with the public references: the question templates as VSI-Bench's
** records have them (second sentences on a new line), four choices for object_rel_distance
** (the 3- and 2-choice variants under their own type names, off by default), the 33 ScanNet
** categories with their merges, and relative-direction answers spread over their options.
*/
#include <criterion/criterion.h>

#include "annotate_testutil.h"
#include "sptt_annotate.h"

static ann_qa_opts opts(uint64_t seed, unsigned tasks, int cap)
{
    ann_qa_opts o;
    memset(&o, 0, sizeof o);
    o.seed = seed;
    o.tasks = tasks;
    o.maxPerTask = cap;
    return o;
}

static json_t *jparse(const char *z)
{
    json_error_t e;
    json_t *j = json_loads(z, 0, &e);
    cr_assert_not_null(j, "bad JSON %s: %s", z, e.text);
    return j;
}

static const char *obj_cat(json_t *objs, const char *zRole)
{
    return json_string_value(json_object_get(json_object_get(objs, zRole), "category"));
}

/* ---------------------------------------------------------------------------------------------
** Templates
*/

/* bed at the origin, lamp 2 m north, sofa 1.6 m at 45 degrees left of north; a chair, a door,
** a pillow and a table around them for relative distance (5 other categories for the bed). */
static void template_scene(ann_scene *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->zName, sizeof s->zName, "templates");
    tu_room_rect(s, -5, -5, 5, 5, 2.5);
    s->roomArea = 23.45;
    tu_add(s, 1, "bed", 0, 0, 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 2, "lamp", 0, 2, 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 3, "sofa", -1.6 * sin(SPTT_PI / 4), 1.6 * cos(SPTT_PI / 4), 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 4, "chair", 3.0, -0.5, 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 5, "door", -4.0, -3.5, 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 6, "pillow", 1.5, -4.2, 0.4, 0.2, 0.2, 0.2, 0);
}

static const ann_qa *find_dir(const ann_output *out, const char *zType)
{
    for(size_t q = 0; q < out->nQa; q++){
        json_t *o;
        int hit;
        if( strcmp(out->qa[q].zType, zType) ) continue;
        o = jparse(out->qa[q].zObjects);
        hit = strcmp(obj_cat(o, "positioning"), "bed")==0 && strcmp(obj_cat(o, "orienting"), "lamp")==0
              && strcmp(obj_cat(o, "querying"), "sofa")==0;
        json_decref(o);
        if( hit ) return &out->qa[q];
    }
    return NULL;
}

Test(parity, templates_put_second_sentences_on_a_new_line)
{
    ann_scene s;
    ann_output out;
    ann_qa_opts o = opts(2, (1u << ANN_ROOM_SIZE) | (1u << ANN_REL_DISTANCE) | (1u << ANN_DIR_EASY) | (1u << ANN_DIR_MEDIUM)
                                | (1u << ANN_DIR_HARD), 1000);
    const ann_qa *q;
    int nRel = 0;
    template_scene(&s);
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);

    q = find_dir(&out, "object_rel_direction_hard");
    cr_assert_not_null(q);
    cr_assert_str_eq(q->zQuestion, "If I am standing by the bed and facing the lamp, is the sofa to my front-left, "
                                   "front-right, back-left, or back-right?\nThe directions refer to the quadrants of a "
                                   "Cartesian plane (if I am standing at the origin and facing along the positive y-axis).");
    cr_assert_str_eq(q->zGroundTruth, "front-left");
    q = find_dir(&out, "object_rel_direction_medium");
    cr_assert_not_null(q);
    cr_assert_str_eq(q->zQuestion, "If I am standing by the bed and facing the lamp, is the sofa to my left, right, or "
                                   "back?\nAn object is to my back if I would have to turn at least 135 degrees in order "
                                   "to face it.");
    cr_assert_str_eq(q->zGroundTruth, "left");
    q = find_dir(&out, "object_rel_direction_easy");
    cr_assert_not_null(q);
    cr_assert_str_eq(q->zQuestion, "If I am standing by the bed and facing the lamp, is the sofa to the left or the right "
                                   "of the lamp?");

    for(size_t i = 0; i < out.nQa; i++){
        const ann_qa *r = &out.qa[i];
        if( strcmp(r->zType, "room_size_estimation")==0 ){
            cr_assert_str_eq(r->zQuestion, "What is the size of this room (in square meters)?\nIf multiple rooms are "
                                           "shown, estimate the size of the combined space.");
            cr_assert_str_eq(r->zGroundTruth, "23.4");   /* 23.45 is stored as 23.4499...: rounds down */
            /* the prompt wraps the question as the reference does */
            cr_assert_str_eq(r->zPrompt, "These are frames of a video.\nWhat is the size of this room (in square "
                                         "meters)?\nIf multiple rooms are shown, estimate the size of the combined space."
                                         "\nPlease answer the question using a single word or phrase.");
        }else if( strcmp(r->zType, "object_rel_distance")==0 ){
            const char *z = strstr(r->zQuestion, ") is the closest to the ");
            cr_assert_not_null(z, "%s", r->zQuestion);
            cr_assert(strncmp(r->zQuestion, "Measuring from the closest point of each object, which of these objects (",
                              strlen("Measuring from the closest point of each object, which of these objects ("))==0);
            z = strchr(z, '?');
            cr_assert_not_null(z);
            cr_assert_str_eq(z, "?\nIf there are multiple instances of an object category, measure to the closest.");
            nRel++;
        }
    }
    cr_assert_gt(nRel, 0, "%s", out.zSkipReason[ANN_REL_DISTANCE]);
    ann_output_free(&out);
    ann_scene_free(&s);
}

/* ---------------------------------------------------------------------------------------------
** Relative distance: four choices, or its own variant names
*/

/* A primary bed and nOther other categories on a line east of it, 1, 1.5, 2, ... m away. */
static void rel_scene(ann_scene *s, int nOther)
{
    static const char *const az[5] = { "chair", "door", "lamp", "pillow", "table" };
    memset(s, 0, sizeof *s);
    snprintf(s->zName, sizeof s->zName, "rel_%d", nOther);
    tu_room_rect(s, -2, -2, 8, 2, 2.5);
    tu_add(s, 1, "bed", 0, 0, 0.5, 1, 1, 1, 0);
    for(int k = 0; k < nOther; k++) tu_add(s, k + 2, az[k], 0.5 + 1.0 + 0.5 * k + 0.05, 0, 0.5, 0.1, 0.1, 0.1, 0);
}

static int count_type(const ann_output *out, const char *zType, int nOptions)
{
    int n = 0;
    for(size_t q = 0; q < out->nQa; q++){
        json_t *opt;
        if( strcmp(out->qa[q].zType, zType) ) continue;
        opt = jparse(out->qa[q].zOptions);
        cr_assert_eq((int)json_array_size(opt), nOptions, "%s: %s", zType, out->qa[q].zOptions);
        json_decref(opt);
        n++;
    }
    return n;
}

Test(parity, relative_distance_has_four_choices_and_variants_their_own_names)
{
    ann_scene s;
    ann_output out;
    unsigned all = (1u << ANN_REL_DISTANCE) | (1u << ANN_REL_DISTANCE_V2) | (1u << ANN_REL_DISTANCE_V3);
    ann_qa_opts o = opts(5, all, 1000);
    cr_assert_str_eq(ann_task_name(ANN_REL_DISTANCE_V2), "object_rel_distance_v2");
    cr_assert_str_eq(ann_task_name(ANN_REL_DISTANCE_V3), "object_rel_distance_v3");

    /* three other categories: no 4-choice question (never a shorter one under its name), but the
    ** 3- and 2-choice variants. Seen from the chair, door or lamp the bed is one of the others too. */
    rel_scene(&s, 3);
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
    cr_assert_eq(count_type(&out, "object_rel_distance", 4), 0);
    cr_assert(strstr(out.zSkipReason[ANN_REL_DISTANCE], "fewer than four other categories"), "%s",
              out.zSkipReason[ANN_REL_DISTANCE]);
    cr_assert_gt(count_type(&out, "object_rel_distance_v2", 3), 0);
    cr_assert_gt(count_type(&out, "object_rel_distance_v3", 2), 0);
    ann_output_free(&out);
    ann_scene_free(&s);

    /* five others: every 4-choice question has 4 options */
    rel_scene(&s, 5);
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
    cr_assert_gt(count_type(&out, "object_rel_distance", 4), 0);
    ann_output_free(&out);
    ann_scene_free(&s);
}

Test(parity, default_tasks_are_vsibench_ten)
{
    sptt_annotate_opts o;
    int n;
    const char *const *az = sptt_annotate_task_names(&n);
    sptt_annotate_opts_default(&o);
    cr_assert_eq(n, 12);
    for(int t = 0; t < n; t++){
        int on = (o.tasks >> t) & 1;
        cr_assert_eq(on, strncmp(az[t], "object_rel_distance_v", 21)!=0, "%s", az[t]);
    }
}

/* On synthetic scenes with the default task set: every relative-distance question has 4 options,
** and no variant is made. */
Test(parity, synthetic_scenes_relative_distance_always_four)
{
    char zDir[64];
    glob_t gl;
    int nRel = 0;
    tu_synth(zDir, sizeof zDir, 21, 3, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 20);
    tu_truth_paths(zDir, &gl);
    for(size_t p = 0; p < gl.gl_pathc; p++){
        ann_scene s;
        ann_output out;
        ann_qa_opts o = opts(0, ANN_TASKS_VSIBENCH, 0);
        cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, NULL), 0);
        memset(&out, 0, sizeof out);
        cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
        nRel += count_type(&out, "object_rel_distance", 4);
        cr_assert_eq(out.nGenerated[ANN_REL_DISTANCE_V2] + out.nGenerated[ANN_REL_DISTANCE_V3], 0);
        ann_output_free(&out);
        ann_scene_free(&s);
    }
    cr_assert_gt(nRel, 5);
    globfree(&gl);
    tu_rmdir(zDir);
}

/* ---------------------------------------------------------------------------------------------
** ScanNet categories
*/
Test(parity, scannet_categories_are_vsibench_33)
{
    /* the object_counts names of VSI-Bench's ScanNet metadata */
    static const char *const azRef[33] = {
        "backpack", "bed", "bookshelf", "chair", "clock", "closet", "computer mouse", "counter", "door", "fan",
        "guitar", "keyboard", "lamp", "mattress", "microwave", "mirror", "monitor", "nightstand", "oven", "piano",
        "pillow", "plant", "printer", "radiator", "refrigerator", "sofa", "table", "telephone", "towel", "trash bin",
        "tv", "washing machine", "window" };
    int n;
    const char *const *az = sptt_scannet_categories(&n);
    cr_assert_eq(n, 33);
    for(int i = 0; i < 33; i++){
        cr_assert_str_eq(az[i], azRef[i]);
        cr_assert_str_eq(sptt_scannet_category(azRef[i]), azRef[i]);
    }
    cr_assert_str_eq(sptt_scannet_category("desk"), "table");
    cr_assert_str_eq(sptt_scannet_category("trash can"), "trash bin");
    cr_assert_str_eq(sptt_scannet_category("recycling bin"), "trash bin");
    cr_assert_str_eq(sptt_scannet_category("mouse"), "computer mouse");
    cr_assert_null(sptt_scannet_category("bicycle"));
    cr_assert_null(sptt_scannet_category("cabinet"));
    cr_assert_null(sptt_scannet_category("air mattress"));
}

/* Against the real label table: every raw category maps into the 33, and every one of the 33 is
** reached by some raw category. */
Test(parity, real_label_table_reaches_every_category)
{
    const char *zFix = getenv("SPTT_FIXTURES");
    char zPath[1024], zLine[4096];
    int seen[33] = {0}, n, nRow = 0;
    const char *const *az = sptt_scannet_categories(&n);
    FILE *f;
    snprintf(zPath, sizeof zPath, "%s/scannet/scannetv2-labels.combined.tsv", zFix ? zFix : "../shared/fixtures");
    f = fopen(zPath, "r");
    if( !f ){
        cr_log_warn("SKIP real label table: no %s", zPath);
        return;
    }
    while( fgets(zLine, sizeof zLine, f) ){
        char *tab1 = strchr(zLine, '\t'), *tab2, *zRaw;
        const char *zCat;
        if( nRow++==0 || !tab1 ) continue;
        zRaw = tab1 + 1;
        tab2 = strchr(zRaw, '\t');
        if( !tab2 ) continue;
        *tab2 = 0;
        zCat = sptt_scannet_category(zRaw);
        if( !zCat ) continue;
        for(int i = 0; i < n; i++) if( strcmp(zCat, az[i])==0 ) seen[i] = 1;
    }
    fclose(f);
    cr_assert_gt(nRow, 600);
    for(int i = 0; i < n; i++) cr_assert(seen[i], "no raw category maps to %s", az[i]);
}

/* ---------------------------------------------------------------------------------------------
** Direction answers balanced
*/
static int sector_of(const char *zGt, int task)
{
    static const char *const azHard[4] = { "front-left", "back-left", "back-right", "front-right" };
    static const char *const azMid[3] = { "left", "back", "right" };
    for(int k = 0; k < (task==ANN_DIR_HARD ? 4 : 3); k++)
        if( strcmp(zGt, task==ANN_DIR_HARD ? azHard[k] : azMid[k])==0 ) return k;
    cr_assert_fail("unknown answer %s", zGt);
    return -1;
}

/*
** With every candidate kept (cap 100000) the counts per answer are what the scene allows; with
** the default cap the kept questions take one of each available answer in turn: an answer is
** short of another by more than one only when its candidates ran out.
*/
Test(parity, direction_answers_balanced_as_the_scene_allows)
{
    char zDir[64];
    glob_t gl;
    int nBackMedium = 0, nMedium = 0;
    tu_synth(zDir, sizeof zDir, 8, 3, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 20);
    tu_truth_paths(zDir, &gl);
    for(size_t p = 0; p < gl.gl_pathc; p++){
        for(int task = ANN_DIR_EASY; task <= ANN_DIR_HARD; task++){
            ann_scene s;
            ann_output all, kept;
            ann_qa_opts oa = opts(1, 1u << task, 100000), ok = opts(1, 1u << task, 0);
            int pool[4] = {0}, got[4] = {0};
            cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, NULL), 0);
            memset(&all, 0, sizeof all);
            memset(&kept, 0, sizeof kept);
            cr_assert_eq(ann_generate_qa(&s, &oa, &all), SPTT_OK);
            cr_assert_eq(ann_generate_qa(&s, &ok, &kept), SPTT_OK);
            for(size_t q = 0; q < all.nQa; q++) pool[sector_of(all.qa[q].zGroundTruth, task)]++;
            for(size_t q = 0; q < kept.nQa; q++) got[sector_of(kept.qa[q].zGroundTruth, task)]++;
            cr_assert_eq(kept.nQa, all.nQa < 10 ? all.nQa : 10);
            for(int a = 0; a < 4; a++){
                cr_assert_leq(got[a], pool[a]);
                for(int b = 0; b < 4; b++)
                    if( got[a] < pool[a] ) cr_assert_leq(got[b], got[a] + 1, "%s %s: %d/%d vs %d", s.zName, ann_task_name(task),
                                                         got[a], pool[a], got[b]);
            }
            if( task==ANN_DIR_MEDIUM ){
                nBackMedium += got[1];
                nMedium += (int)kept.nQa;
            }
            ann_output_free(&all);
            ann_output_free(&kept);
            ann_scene_free(&s);
        }
    }
    /* "back" is a quarter of the circle; the reference's sample gave it a few per cent */
    cr_log_info("medium: back %d of %d", nBackMedium, nMedium);
    cr_assert_gt(nMedium, 0);
    cr_assert_geq(nBackMedium * 10, nMedium, "back %d of %d", nBackMedium, nMedium);
    globfree(&gl);
    tu_rmdir(zDir);
}
