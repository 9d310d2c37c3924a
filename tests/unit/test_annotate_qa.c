/*
** VSI-Bench-style QA: every task against sptt-synth's ground truth, hand-built cases for the
** reference's rejection rules (direction sectors and margins with the corner rule, the relative
** distance thresholds, the 1 s appearance margin), the distractor rules, answer-letter balance,
** prompts and determinism.
*/
#include <criterion/criterion.h>

#include "annotate_testutil.h"

#define ALL_TASKS ((1u << ANN_TASK_COUNT) - 1)

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

/* Objects of a category in a ground truth (annotated instances). */
static int truth_count(json_t *g, const char *zCat, int *pIdx)
{
    json_t *objs = json_object_get(g, "objects");
    int n = 0;
    for(size_t i = 0; i < json_array_size(objs); i++){
        json_t *o = json_array_get(objs, i), *c = json_object_get(o, "qa_category");
        if( json_integer_value(json_object_get(o, "instance_id")) <= 0 || !json_is_string(c) ) continue;
        if( strcmp(json_string_value(c), zCat)==0 ){
            if( pIdx ) *pIdx = (int)i;
            n++;
        }
    }
    return n;
}

static sptt_box truth_box(json_t *g, int idx)
{
    json_t *o = json_array_get(json_object_get(g, "objects"), (size_t)idx);
    sptt_box b;
    memset(&b, 0, sizeof b);
    for(int k = 0; k < 3; k++){
        b.center[k] = tu_num(json_object_get(o, "center"), (size_t)k);
        b.size[k] = tu_num(json_object_get(o, "size"), (size_t)k);
    }
    for(int k = 0; k < 9; k++) b.axes[k] = tu_num(json_object_get(o, "axes"), (size_t)k);
    return b;
}

static const char *obj_cat(json_t *objs, const char *zRole)
{
    return json_string_value(json_object_get(json_object_get(objs, zRole), "category"));
}

Test(qa, task_names_are_vsibench_question_types)
{
    static const char *const az[ANN_TASK_COUNT] = {
        "object_counting", "object_abs_distance", "object_size_estimation", "room_size_estimation",
        "object_rel_distance", "object_rel_direction_easy", "object_rel_direction_medium",
        "object_rel_direction_hard", "route_planning", "obj_appearance_order", "object_rel_distance_v2",
        "object_rel_distance_v3" };
    for(int t = 0; t < ANN_TASK_COUNT; t++){
        cr_assert_str_eq(ann_task_name(t), az[t]);
        cr_assert_eq(ann_task_index(az[t]), t);
    }
    cr_assert_null(ann_task_name(ANN_TASK_COUNT));
    cr_assert_eq(ann_task_index("object_count"), -1);
}

/* Counting, size, room size and absolute distance against the generator's truth, every
** candidate asked (cap 1000), so the candidate sets can be compared too. */
Test(qa, numeric_tasks_match_the_synthetic_truth)
{
    char zDir[64];
    glob_t gl;
    int nCount = 0, nSize = 0, nRoom = 0, nAbs = 0;
    tu_synth(zDir, sizeof zDir, 31, 2, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 20);
    tu_truth_paths(zDir, &gl);
    cr_assert_eq(gl.gl_pathc, 4);
    for(size_t p = 0; p < gl.gl_pathc; p++){
        ann_scene s;
        json_t *g;
        ann_output out;
        ann_qa_opts o = opts(5, (1u << ANN_COUNTING) | (1u << ANN_SIZE) | (1u << ANN_ROOM_SIZE) | (1u << ANN_ABS_DISTANCE), 1000);
        int expectCount = 0, expectSize = 0, expectAbs = 0;
        cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, &g), 0);
        memset(&out, 0, sizeof out);
        cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK, "%s", sptt_errmsg());
        /* expected candidate counts, from the truth file alone */
        {
            json_t *objs = json_object_get(g, "objects");
            const char *seen[64];
            int nSeen = 0, uniq[64], nUniq = 0;
            for(size_t i = 0; i < json_array_size(objs); i++){
                json_t *c = json_object_get(json_array_get(objs, i), "qa_category");
                int dup = 0, idx, n;
                if( !json_is_string(c) || json_integer_value(json_object_get(json_array_get(objs, i), "instance_id")) <= 0 ) continue;
                for(int k = 0; k < nSeen; k++) if( strcmp(seen[k], json_string_value(c))==0 ) dup = 1;
                if( dup ) continue;
                seen[nSeen++] = json_string_value(c);
                n = truth_count(g, json_string_value(c), &idx);
                if( n >= 2 ) expectCount++;
                if( n==1 ){ expectSize++; uniq[nUniq++] = idx; }
            }
            for(int a = 0; a < nUniq; a++){
                for(int b = a + 1; b < nUniq; b++){
                    sptt_box A = truth_box(g, uniq[a]), B = truth_box(g, uniq[b]);
                    double dd = sptt_box_distance(&A, &B);
                    /* an answer of 0.2 m leaves only 0.1 and 0.3 as distractors: the reference
                    ** drops such questions, and so do we */
                    if( dd >= 0.2 && ann_round(dd, 1) > 0.2 ) expectAbs++;
                }
            }
        }
        cr_assert_eq(out.nGenerated[ANN_COUNTING], expectCount, "%s", s.zName);
        cr_assert_eq(out.nGenerated[ANN_SIZE], expectSize, "%s", s.zName);
        cr_assert_eq(out.nGenerated[ANN_ABS_DISTANCE], expectAbs, "%s", s.zName);
        cr_assert_eq(out.nGenerated[ANN_ROOM_SIZE], 1);
        for(size_t q = 0; q < out.nQa; q++){
            ann_qa *Q = &out.qa[q];
            json_t *objs = jparse(Q->zObjects ? Q->zObjects : "{}");
            char zWant[64];
            cr_assert_null(Q->zOptions, "numeric answers carry no options");
            cr_assert_null(Q->zMcAnswer);
            if( strcmp(Q->zType, "object_counting")==0 ){
                int n = truth_count(g, json_string_value(json_object_get(objs, "category")), NULL);
                snprintf(zWant, sizeof zWant, "%d", n);
                cr_assert_str_eq(Q->zGroundTruth, zWant);
                cr_assert_geq(n, 2);
                nCount++;
            }else if( strcmp(Q->zType, "object_size_estimation")==0 ){
                int idx, n = truth_count(g, json_string_value(json_object_get(objs, "category")), &idx);
                sptt_box b = truth_box(g, idx);
                cr_assert_eq(n, 1, "size only for unique categories");
                snprintf(zWant, sizeof zWant, "%.0f", 100 * fmax(b.size[0], fmax(b.size[1], b.size[2])));
                cr_assert_str_eq(Q->zGroundTruth, zWant);
                nSize++;
            }else if( strcmp(Q->zType, "room_size_estimation")==0 ){
                snprintf(zWant, sizeof zWant, "%.1f", json_number_value(json_object_get(json_object_get(g, "room"), "floor_area")));
                cr_assert_str_eq(Q->zGroundTruth, zWant);
                nRoom++;
            }else{
                int ia, ib;
                cr_assert_eq(truth_count(g, obj_cat(objs, "object1"), &ia), 1);
                cr_assert_eq(truth_count(g, obj_cat(objs, "object2"), &ib), 1);
                sptt_box A = truth_box(g, ia), B = truth_box(g, ib);
                double d = sptt_box_distance(&A, &B);
                cr_assert_geq(d, 0.2);
                snprintf(zWant, sizeof zWant, "%.1f", d);
                cr_assert_str_eq(Q->zGroundTruth, zWant);
                cr_assert(strstr(Q->zQuestion, obj_cat(objs, "object1")) && strstr(Q->zQuestion, obj_cat(objs, "object2")));
                nAbs++;
            }
            json_decref(objs);
        }
        ann_output_free(&out);
        ann_scene_free(&s);
        json_decref(g);
    }
    cr_assert(nCount > 0 && nSize > 0 && nRoom==4 && nAbs > 0, "%d %d %d %d", nCount, nSize, nRoom, nAbs);
    globfree(&gl);
    tu_rmdir(zDir);
}

/* The test's own reading of the reference's sector rule. */
static const char *sector_name(double th, int level)
{
    if( level==SPTT_DIR_HARD ) return th < 90 ? "front-left" : th < 180 ? "back-left" : th < 270 ? "back-right" : "front-right";
    return th < 135 ? "left" : th < 225 ? "back" : "right";
}

static double plane_angle(const double *a, const double *b, const double *c)
{
    double f = atan2(b[1] - a[1], b[0] - a[0]), q = atan2(c[1] - a[1], c[0] - a[0]);
    double th = (q - f) * 180 / SPTT_PI;
    while( th < 0 ) th += 360;
    while( th >= 360 ) th -= 360;
    return th;
}

/* Each direction question of a synthetic scene: the answer is the sector of the angle computed
** here from the truth centres, the angle is clear of the margins, and at most 2 corners of the
** queried box fall in another sector. */
Test(qa, directions_match_the_synthetic_truth)
{
    char zDir[64];
    glob_t gl;
    int nQ[3] = {0};
    tu_synth(zDir, sizeof zDir, 32, 2, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 20);
    tu_truth_paths(zDir, &gl);
    for(size_t p = 0; p < gl.gl_pathc; p++){
        ann_scene s;
        json_t *g;
        ann_output out;
        ann_qa_opts o = opts(9, (1u << ANN_DIR_EASY) | (1u << ANN_DIR_MEDIUM) | (1u << ANN_DIR_HARD), 1000);
        cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, &g), 0);
        memset(&out, 0, sizeof out);
        cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
        for(size_t q = 0; q < out.nQa; q++){
            ann_qa *Q = &out.qa[q];
            json_t *objs = jparse(Q->zObjects), *opt = jparse(Q->zOptions);
            int level = strstr(Q->zType, "hard") ? SPTT_DIR_HARD : strstr(Q->zType, "medium") ? SPTT_DIR_MEDIUM : SPTT_DIR_EASY;
            int ia, ib, ic, off = 0;
            double corners[24], th;
            const char *zAns;
            cr_assert_eq(truth_count(g, obj_cat(objs, "positioning"), &ia), 1);
            cr_assert_eq(truth_count(g, obj_cat(objs, "orienting"), &ib), 1);
            cr_assert_eq(truth_count(g, obj_cat(objs, "querying"), &ic), 1);
            sptt_box A = truth_box(g, ia), B = truth_box(g, ib), C = truth_box(g, ic);
            th = plane_angle(A.center, B.center, C.center);
            zAns = sector_name(th, level);
            cr_assert_str_eq(Q->zGroundTruth, zAns, "%s: angle %.2f", Q->zQuestion, th);
            /* the letter points at the answer */
            {
                char zOpt[64];
                int k = Q->zMcAnswer[0] - 'A';
                snprintf(zOpt, sizeof zOpt, "%c. %s", Q->zMcAnswer[0], zAns);
                cr_assert_str_eq(json_string_value(json_array_get(opt, (size_t)k)), zOpt);
                cr_assert_eq(json_array_size(opt), level==SPTT_DIR_HARD ? 4u : level==SPTT_DIR_MEDIUM ? 3u : 2u);
            }
            if( level==SPTT_DIR_HARD ) cr_assert_geq(90 - fmod(th, 90), 10 - 1e-9);
            else for(int k = 0; k < 4; k++) cr_assert_geq(fabs(th - (double[]){ 0, 135, 225, 360 }[k]), 10 - 1e-9);
            if( level==SPTT_DIR_EASY ) cr_assert_str_neq(zAns, "back");
            {
                double pa = sptt_box_distance(&A, &B), pb = sptt_box_distance(&B, &C), pc = sptt_box_distance(&A, &C);
                cr_assert(pa >= 0.3 && pa <= 5 && pb >= 0.3 && pb <= 5 && pc >= 0.3 && pc <= 5);
            }
            sptt_box_corners(&C, corners);
            for(int k = 0; k < 8; k++) off += strcmp(sector_name(plane_angle(A.center, B.center, corners + 3 * k), level), zAns)!=0;
            cr_assert_leq(off, 2);
            nQ[level]++;
            json_decref(objs);
            json_decref(opt);
        }
        ann_output_free(&out);
        ann_scene_free(&s);
        json_decref(g);
    }
    cr_assert(nQ[0] > 5 && nQ[1] > 5 && nQ[2] > 5, "%d %d %d", nQ[0], nQ[1], nQ[2]);
    globfree(&gl);
    tu_rmdir(zDir);
}

/* ---------------------------------------------------------------------------------------------
** Hand-built relative direction: standing at A (origin) facing B (2 m along +y); C at a chosen
** angle counter-clockwise from forward, 1.6 m from A. Every role assignment of the triple is
** asked (qa.c says why); the questions with A = bed and B = lamp are the ones looked at.
*/
static void dir_scene(ann_scene *s, double thetaDeg, double cSize)
{
    double t = thetaDeg * SPTT_PI / 180;
    memset(s, 0, sizeof *s);
    snprintf(s->zName, sizeof s->zName, "dir_case");
    tu_room_rect(s, -5, -5, 5, 5, 2.5);
    tu_add(s, 1, "bed", 0, 0, 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 2, "lamp", 0, 2, 0.4, 0.2, 0.2, 0.2, 0);
    tu_add(s, 3, "sofa", -1.6 * sin(t), 1.6 * cos(t), 0.4, cSize, cSize, 0.2, 0);
}

/* Whether a question with A = bed, B = lamp, C = sofa was asked at the task's level; zGt gets
** its answer. */
static int dir_answer(double thetaDeg, double cSize, int task, char *zGt, size_t n)
{
    ann_scene s;
    ann_output out;
    ann_qa_opts o = opts(1, 1u << task, 100);
    int found = 0;
    dir_scene(&s, thetaDeg, cSize);
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
    for(size_t q = 0; q < out.nQa; q++){
        json_t *objs = jparse(out.qa[q].zObjects);
        if( strcmp(obj_cat(objs, "positioning"), "bed")==0 && strcmp(obj_cat(objs, "orienting"), "lamp")==0 ){
            cr_assert_str_eq(obj_cat(objs, "querying"), "sofa");
            snprintf(zGt, n, "%s", out.qa[q].zGroundTruth);
            found = 1;
        }
        json_decref(objs);
    }
    ann_output_free(&out);
    ann_scene_free(&s);
    return found;
}

Test(qa, direction_sectors_by_construction)
{
    char z[32];
    static const struct { double th; const char *hard, *medium; } a[] = {
        { 45, "front-left", "left" }, { 120, "back-left", "left" }, { 160, "back-left", "back" },
        { 200, "back-right", "back" }, { 240, "back-right", "right" }, { 315, "front-right", "right" },
    };
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++){
        cr_assert(dir_answer(a[i].th, 0.2, ANN_DIR_HARD, z, sizeof z), "hard %.0f", a[i].th);
        cr_assert_str_eq(z, a[i].hard, "hard %.0f", a[i].th);
        cr_assert(dir_answer(a[i].th, 0.2, ANN_DIR_MEDIUM, z, sizeof z), "medium %.0f", a[i].th);
        cr_assert_str_eq(z, a[i].medium, "medium %.0f", a[i].th);
        if( strcmp(a[i].medium, "back")==0 ){
            cr_assert_not(dir_answer(a[i].th, 0.2, ANN_DIR_EASY, z, sizeof z), "easy rejects back");
        }else{
            cr_assert(dir_answer(a[i].th, 0.2, ANN_DIR_EASY, z, sizeof z));
            cr_assert_str_eq(z, a[i].medium);
        }
    }
}

Test(qa, direction_margins_as_the_reference)
{
    char z[32];
    /* hard checks only the next boundary: 85 (5 below 90) is out, 95 (5 past 90) stays */
    /* (a 5 cm query box keeps the corner rule out of these) */
    cr_assert_not(dir_answer(85, 0.05, ANN_DIR_HARD, z, sizeof z));
    cr_assert(dir_answer(95, 0.05, ANN_DIR_HARD, z, sizeof z));
    cr_assert_str_eq(z, "back-left");
    cr_assert_not(dir_answer(355, 0.05, ANN_DIR_HARD, z, sizeof z));
    cr_assert_not(dir_answer(81, 0.05, ANN_DIR_HARD, z, sizeof z));
    cr_assert(dir_answer(79, 0.05, ANN_DIR_HARD, z, sizeof z));
    cr_assert_str_eq(z, "front-left");
    cr_assert(dir_answer(12, 0.05, ANN_DIR_HARD, z, sizeof z));   /* only the next boundary (90) counts */
    cr_assert_str_eq(z, "front-left");
    /* medium and easy: 10 degrees either side of 0, 135, 225, 360 */
    cr_assert_not(dir_answer(130, 0.05, ANN_DIR_MEDIUM, z, sizeof z));
    cr_assert_not(dir_answer(140, 0.05, ANN_DIR_MEDIUM, z, sizeof z));
    cr_assert_not(dir_answer(5, 0.05, ANN_DIR_MEDIUM, z, sizeof z));
    cr_assert_not(dir_answer(352, 0.05, ANN_DIR_MEDIUM, z, sizeof z));
    cr_assert_not(dir_answer(232, 0.05, ANN_DIR_EASY, z, sizeof z));
    cr_assert(dir_answer(124, 0.05, ANN_DIR_MEDIUM, z, sizeof z));
    cr_assert_str_eq(z, "left");
    cr_assert(dir_answer(146, 0.05, ANN_DIR_MEDIUM, z, sizeof z));
    cr_assert_str_eq(z, "back");
    cr_assert(dir_answer(236, 0.05, ANN_DIR_EASY, z, sizeof z));
    cr_assert_str_eq(z, "right");
    /* the corner rule: at 62 degrees the centre is 0.75 m ahead of A; a 1.8 m box reaches
    ** behind A with 4 of its 8 corners (angles past 90), a 0.4 m box keeps all 8 in front */
    cr_assert(dir_answer(62, 0.4, ANN_DIR_HARD, z, sizeof z));
    cr_assert_str_eq(z, "front-left");
    cr_assert_not(dir_answer(62, 1.8, ANN_DIR_HARD, z, sizeof z));
    cr_assert(dir_answer(62, 0.4, ANN_DIR_MEDIUM, z, sizeof z));
}

/* ---------------------------------------------------------------------------------------------
** Relative distance: primary "bed" (unique); four choice categories with two instances each
** (so none of them is a primary), the nearer instance at the given gap, the other 3 m farther.
*/
static int rel_case(const double gap[4], double area, char *zGt, size_t n, char *zReason, size_t nr)
{
    static const char *const az[4] = { "chair", "lamp", "pillow", "door" };
    static const double dir[4][2] = { { 1, 0 }, { 0, 1 }, { -1, 0 }, { 0, -1 } };
    ann_scene s;
    ann_output out;
    ann_qa_opts o = opts(3, 1u << ANN_REL_DISTANCE, 100);
    int id = 1, found = 0;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "rel_case");
    tu_room_rect(&s, -8, -8, 8, 8, 2.5);
    s.roomArea = area;
    tu_add(&s, id++, "bed", 0, 0, 0.5, 1, 1, 1, 0);
    for(int k = 0; k < 4; k++){
        for(int far = 0; far < 2; far++){
            double r = 0.5 + gap[k] + 0.25 + far * 3;
            tu_add(&s, id++, az[k], dir[k][0] * r, dir[k][1] * r, 0.5, 0.5, 0.5, 1, 0);
        }
    }
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
    cr_assert_leq(out.nQa, 1);
    if( out.nQa==1 ){
        ann_qa *Q = &out.qa[0];
        json_t *opt = jparse(Q->zOptions), *meta = jparse(Q->zMeta);
        char zOpt[64];
        snprintf(zGt, n, "%s", Q->zGroundTruth);
        snprintf(zOpt, sizeof zOpt, "%c. %s", Q->zMcAnswer[0], Q->zGroundTruth);
        cr_assert_str_eq(json_string_value(json_array_get(opt, (size_t)(Q->zMcAnswer[0] - 'A'))), zOpt);
        cr_assert_eq(json_array_size(opt), 4);
        cr_assert_float_eq(json_number_value(json_object_get(meta, "threshold_m")), area > 40 ? 0.30 : 0.15, 1e-12);
        for(int k = 0; k < 4; k++){
            /* the category distance is the nearer instance's */
            cr_assert_float_eq(json_number_value(json_object_get(json_object_get(meta, "distances_m"), az[k])), gap[k], 1e-9);
        }
        cr_assert(strstr(Q->zQuestion, "is the closest to the bed?"));
        json_decref(opt);
        json_decref(meta);
        found = 1;
    }
    snprintf(zReason, nr, "%s", out.zSkipReason[ANN_REL_DISTANCE]);
    ann_output_free(&out);
    ann_scene_free(&s);
    return found;
}

Test(qa, relative_distance_rejection_rules)
{
    char z[64], r[128];
    cr_assert(rel_case((double[]){ 1.0, 1.5, 2.0, 2.5 }, 20, z, sizeof z, r, sizeof r));
    cr_assert_str_eq(z, "chair");
    cr_assert(rel_case((double[]){ 2.5, 1.5, 0.8, 2.0 }, 20, z, sizeof z, r, sizeof r));
    cr_assert_str_eq(z, "pillow");
    /* two choices 0.1 m apart: within 0.15 */
    cr_assert_not(rel_case((double[]){ 1.0, 1.1, 2.0, 2.5 }, 20, z, sizeof z, r, sizeof r));
    cr_assert(strstr(r, "two choices within the threshold"), "%s", r);
    /* the closest under 0.15 m */
    cr_assert_not(rel_case((double[]){ 0.1, 1.0, 2.0, 3.0 }, 20, z, sizeof z, r, sizeof r));
    cr_assert(strstr(r, "closest choice under 0.15 m"), "%s", r);
    /* 0.25 m apart: fine in a small room, too close once the room exceeds 40 m2 (0.30) */
    cr_assert(rel_case((double[]){ 1.0, 1.25, 2.0, 2.6 }, 40, z, sizeof z, r, sizeof r));
    cr_assert_str_eq(z, "chair");
    cr_assert_not(rel_case((double[]){ 1.0, 1.25, 2.0, 2.6 }, 40.5, z, sizeof z, r, sizeof r));
    cr_assert(rel_case((double[]){ 1.0, 1.35, 2.0, 2.6 }, 40.5, z, sizeof z, r, sizeof r));
}

/* ---------------------------------------------------------------------------------------------
** Appearance order with first-appearance times set by hand
*/
static int appearance_case(const double *times, int n, int withFrames, ann_output *out)
{
    static const char *const az[6] = { "bed", "chair", "lamp", "sofa", "table", "tv" };
    ann_scene s;
    ann_qa_opts o = opts(4, 1u << ANN_APPEARANCE, 100);
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "appearance_case");
    tu_room_rect(&s, -5, -5, 5, 5, 2.5);
    if( withFrames ){
        s.pack.nFrames = 100;
        s.pack.frames = calloc(100, sizeof *s.pack.frames);
        for(int f = 0; f < 100; f++) s.pack.frames[f].timestamp = f * 0.1;
    }
    for(int i = 0; i < n; i++){
        int k = tu_add(&s, i + 1, az[i], i, 0, 0.5, 0.5, 0.5, 0.5, 0);
        if( times[i] >= 0 ){
            s.obj[k].firstTime = times[i];
            s.obj[k].firstFrame = (int)lround(times[i] * 10);
        }
    }
    memset(out, 0, sizeof *out);
    cr_assert_eq(ann_generate_qa(&s, &o, out), SPTT_OK);
    ann_scene_free(&s);
    return (int)out->nQa;
}

Test(qa, appearance_order_and_its_one_second_margin)
{
    ann_output out;
    /* five categories, times 2+ s apart: every 4-set is asked */
    cr_assert_eq(appearance_case((double[]){ 6.6, 0.0, 2.2, 8.8, 4.4 }, 5, 1, &out), 5);
    for(size_t q = 0; q < out.nQa; q++){
        json_t *opt = jparse(out.qa[q].zOptions), *meta = jparse(out.qa[q].zMeta);
        char zOpt[200];
        /* the answer lists its categories by time */
        const char *z = out.qa[q].zGroundTruth, *prev = NULL;
        double tPrev = -1;
        const char *names[5] = { "bed", "chair", "lamp", "sofa", "table" };
        double t[5] = { 6.6, 0.0, 2.2, 8.8, 4.4 };
        int nIn = 0;
        for(int k = 0; k < 5; k++){
            const char *at = strstr(z, names[k]);
            if( !at ) continue;
            nIn++;
            (void)prev;
        }
        cr_assert_eq(nIn, 4);
        for(const char *at = z; at && *at; ){
            for(int k = 0; k < 5; k++){
                if( strncmp(at, names[k], strlen(names[k]))==0 ){
                    cr_assert_gt(t[k], tPrev, "%s", z);
                    tPrev = t[k];
                }
            }
            at = strchr(at, ',');
            if( at ) at += 2;
        }
        snprintf(zOpt, sizeof zOpt, "%c. %s", out.qa[q].zMcAnswer[0], z);
        cr_assert_str_eq(json_string_value(json_array_get(opt, (size_t)(out.qa[q].zMcAnswer[0] - 'A'))), zOpt);
        {
            static const char zHead[] = "What will be the first-time appearance order of the following categories in the video: ";
            cr_assert(strncmp(out.qa[q].zQuestion, zHead, strlen(zHead))==0, "%s", out.qa[q].zQuestion);
        }
        cr_assert_not_null(json_object_get(meta, "first_time_s"));
        json_decref(opt);
        json_decref(meta);
    }
    ann_output_free(&out);
    /* times are whole seconds as the reference keeps them (round(frame/fps)), and sets with
    ** two of them at most 1 s apart are dropped */
    cr_assert_eq(appearance_case((double[]){ 0.0, 1.2, 4.0, 7.0 }, 4, 1, &out), 0);       /* 0 and 1 */
    cr_assert(strstr(out.zSkipReason[ANN_APPEARANCE], "within 1 s"));
    ann_output_free(&out);
    cr_assert_eq(appearance_case((double[]){ 0.0, 2.6, 3.4, 7.0 }, 4, 1, &out), 0);       /* 3 and 3 */
    ann_output_free(&out);
    cr_assert_eq(appearance_case((double[]){ 0.0, 1.4, 2.6, 7.0 }, 4, 1, &out), 0);       /* 1 and 3 fine, 0 and 1 not */
    ann_output_free(&out);
    cr_assert_eq(appearance_case((double[]){ 0.0, 3.4, 5.6, 7.6 }, 4, 1, &out), 1);       /* 0, 3, 6, 8 */
    ann_output_free(&out);
    cr_assert_eq(appearance_case((double[]){ 0.0, 3.0, 4.0, 7.0 }, 4, 1, &out), 0);       /* exactly 1 s */
    ann_output_free(&out);
    cr_assert_eq(appearance_case((double[]){ 0.0, 3.0, 5.0, 7.0 }, 4, 1, &out), 1);       /* exactly 2 s */
    ann_output_free(&out);
    /* a category that never appears takes no part */
    cr_assert_eq(appearance_case((double[]){ 0.0, 3.0, -1, 7.0, 9.0 }, 5, 1, &out), 1);
    cr_assert_null(strstr(out.qa[0].zQuestion, "lamp"));
    ann_output_free(&out);
    /* no frames: the task is skipped with its reason, nothing crashes */
    cr_assert_eq(appearance_case((double[]){ 0.0, 3.0, 5.0, 7.0 }, 4, 0, &out), 0);
    cr_assert(strstr(out.zSkipReason[ANN_APPEARANCE], "no frames"), "%s", out.zSkipReason[ANN_APPEARANCE]);
    cr_assert_eq(out.nSkipped[ANN_APPEARANCE], 1);
    ann_output_free(&out);
}

/* ---------------------------------------------------------------------------------------------
** Distractors and letters
*/
Test(qa, numeric_distractors_follow_the_reference_rules)
{
    sptt_rng r;
    static const struct { double gt; int d; double lo, hi; } a[] = {
        { 2.3, 1, 0.25, 1.75 }, { 0.6, 1, 0.25, 1.75 }, { 15.4, 1, 0.25, 1.75 }, { 47, 0, 0.4, 1.8 }, { 212, 0, 0.4, 1.8 },
        { 8, 0, 0.4, 1.8 }, { 1.5, 1, 0.25, 1.75 },
    };
    sptt_rng_seed(&r, 77);
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++){
        double scale = pow(10, a[i].d);
        long g = lround(a[i].gt * scale), eps = lround(ceil(a[i].gt * 0.2 * scale));
        for(int rep = 0; rep < 200; rep++){
            long v[3];
            cr_assert_eq(ann_numeric_distractors(&r, a[i].gt, a[i].d, a[i].lo, a[i].hi, v), 0);
            for(int k = 0; k < 3; k++){
                /* drawn from the range, then rounded */
                cr_assert_geq(v[k], lround(floor(a[i].lo * a[i].gt * scale)));
                cr_assert_leq(v[k], lround(ceil(a[i].hi * a[i].gt * scale)));
                cr_assert_geq(labs(v[k] - g), eps, "gt %g: %ld vs %ld", a[i].gt, v[k], g);
                for(int m = k + 1; m < 3; m++) cr_assert_geq(labs(v[k] - v[m]), eps);
            }
        }
    }
    /* 1.5 * 0.2 * 10 is 3.0000000000000004 in binary: the reference's ceil makes EPS 0.4 */
    {
        long v[3];
        for(int rep = 0; rep < 200; rep++){
            cr_assert_eq(ann_numeric_distractors(&r, 1.5, 1, 0.25, 1.75, v), 0);
            for(int k = 0; k < 3; k++) cr_assert_geq(labs(v[k] - 15), 4);
        }
        /* 0.2 m: only 0.1 and 0.3 lie in range and far enough apart; no set of three exists */
        cr_assert_eq(ann_numeric_distractors(&r, 0.2, 1, 0.25, 1.75, v), -1);
    }
}

Test(qa, count_distractors_offsets_floored_at_one)
{
    sptt_rng r;
    sptt_rng_seed(&r, 5);
    for(long gt = 2; gt <= 15; gt++){
        int seen[32] = {0};
        for(int rep = 0; rep < 300; rep++){
            long v[3];
            cr_assert_eq(ann_count_distractors(&r, gt, v), 0);
            for(int k = 0; k < 3; k++){
                cr_assert_geq(v[k], 1);
                cr_assert_neq(v[k], gt);
                cr_assert_leq(labs(v[k] - gt), 3);
                for(int m = k + 1; m < 3; m++) cr_assert_neq(v[k], v[m]);
                seen[v[k]]++;
            }
        }
        /* every allowed value turns up; for gt 2 the offsets -2 and -3 land on 1 */
        for(long x = gt - 3 < 1 ? 1 : gt - 3; x <= gt + 3; x++) if( x!=gt ) cr_assert_gt(seen[x], 0, "gt %ld value %ld", gt, x);
        if( gt==2 ) cr_assert_eq(seen[0] + seen[2], 0);
    }
}

Test(qa, answer_letters_go_to_the_least_used)
{
    sptt_rng r;
    int counts[5] = {0};
    const char *az[4] = { "right", "w1", "w2", "w3" };
    sptt_rng_seed(&r, 2);
    for(int i = 0; i < 1000; i++){
        ann_mc m;
        int lo = 1 << 30, hi = 0;
        ann_qa_layout(&r, counts, az, 4, &m);
        cr_assert(strncmp(m.az[m.answer] + 3, "right", 5)==0);
        for(int k = 0; k < 4; k++){
            lo = counts[k] < lo ? counts[k] : lo;
            hi = counts[k] > hi ? counts[k] : hi;
            cr_assert_eq(m.az[k][0], 'A' + k);
        }
        cr_assert_leq(hi - lo, 1);
    }
    /* and in generated data: per scene and task the letters stay within one of each other, and
    ** over several scenes every letter is used */
    {
        char zDir[64];
        glob_t gl;
        int total[ANN_TASK_COUNT][4] = {{0}};
        tu_synth(zDir, sizeof zDir, 33, 2, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 20);
        tu_truth_paths(zDir, &gl);
        for(size_t p = 0; p < gl.gl_pathc; p++){
            ann_scene s;
            ann_output out;
            ann_qa_opts o = opts(12, ALL_TASKS, 40);
            int per[ANN_TASK_COUNT][4] = {{0}}, numPer[ANN_TASK_COUNT][4] = {{0}};
            cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, NULL), 0);
            memset(&out, 0, sizeof out);
            cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
            for(size_t q = 0; q < out.nQa; q++){
                int t = ann_task_index(out.qa[q].zType);
                if( out.qa[q].zMcAnswer ){
                    per[t][out.qa[q].zMcAnswer[0] - 'A']++;
                    total[t][out.qa[q].zMcAnswer[0] - 'A']++;
                }else{
                    json_t *meta = jparse(out.qa[q].zMeta);
                    numPer[t][json_string_value(json_object_get(meta, "mc_answer"))[0] - 'A']++;
                    json_decref(meta);
                }
            }
            for(int t = 0; t < ANN_TASK_COUNT; t++){
                int n = t==ANN_DIR_EASY || t==ANN_REL_DISTANCE_V3 ? 2 : t==ANN_DIR_MEDIUM || t==ANN_REL_DISTANCE_V2 ? 3 : 4, lo = 1 << 30, hi = 0, nlo = 1 << 30, nhi = 0;
                for(int k = 0; k < n; k++){
                    lo = per[t][k] < lo ? per[t][k] : lo;
                    hi = per[t][k] > hi ? per[t][k] : hi;
                }
                for(int k = 0; k < 4; k++){
                    nlo = numPer[t][k] < nlo ? numPer[t][k] : nlo;
                    nhi = numPer[t][k] > nhi ? numPer[t][k] : nhi;
                }
                cr_assert_leq(hi - lo, 1, "%s: task %s", s.zName, ann_task_name(t));
                cr_assert_leq(nhi - nlo, 1);
            }
            ann_output_free(&out);
            ann_scene_free(&s);
        }
        for(int k = 0; k < 4; k++) cr_assert_gt(total[ANN_DIR_HARD][k], 0);
        globfree(&gl);
        tu_rmdir(zDir);
    }
}

/* ---------------------------------------------------------------------------------------------
** Prompts, determinism, bad input
*/
static void gen_scene(const char *zPath, uint64_t seed, ann_output *out)
{
    ann_scene s;
    ann_qa_opts o = opts(seed, ALL_TASKS, 0);
    cr_assert_eq(tu_scene_from_truth(zPath, &s, NULL), 0);
    tu_set_appearance(&s);
    /* spread the walk so appearance questions exist: one frame = one second */
    for(int i = 0; i < s.nObj; i++) if( s.obj[i].firstFrame >= 0 ) s.obj[i].firstTime = s.obj[i].firstFrame;
    memset(out, 0, sizeof *out);
    cr_assert_eq(ann_relations(&s, out), SPTT_OK);
    cr_assert_eq(ann_generate_qa(&s, &o, out), SPTT_OK);
    ann_scene_free(&s);
}

static int same_text(const char *a, const char *b)
{
    return (a==NULL && b==NULL) || (a && b && strcmp(a, b)==0);
}

Test(qa, same_seed_same_records_and_prompts_wrap_as_the_reference)
{
    char zDir[64];
    glob_t gl;
    ann_output a, b, c;
    int differ = 0, nMc = 0, nNum = 0;
    tu_synth(zDir, sizeof zDir, 38, 1, SPTT_SYNTH_SCANNET, 40);
    tu_truth_paths(zDir, &gl);
    gen_scene(gl.gl_pathv[0], 21, &a);
    gen_scene(gl.gl_pathv[0], 21, &b);
    gen_scene(gl.gl_pathv[0], 22, &c);
    cr_assert_gt(a.nQa, 20);
    cr_assert_eq(a.nQa, b.nQa);
    for(size_t q = 0; q < a.nQa; q++){
        ann_qa *x = &a.qa[q], *y = &b.qa[q];
        cr_assert_str_eq(x->zType, y->zType);
        cr_assert(same_text(x->zQuestion, y->zQuestion) && same_text(x->zOptions, y->zOptions)
                  && same_text(x->zGroundTruth, y->zGroundTruth) && same_text(x->zMcAnswer, y->zMcAnswer)
                  && same_text(x->zObjects, y->zObjects) && same_text(x->zPrompt, y->zPrompt) && same_text(x->zMeta, y->zMeta));
        if( x->zOptions ){
            json_t *opt = jparse(x->zOptions);
            sptt_buf want = {0};
            sptt_buf_printf(&want, "These are frames of a video.\n%s\nOptions:", x->zQuestion);
            for(size_t k = 0; k < json_array_size(opt); k++) sptt_buf_printf(&want, "\n%s", json_string_value(json_array_get(opt, k)));
            sptt_buf_printf(&want, "\nAnswer with the option's letter from the given choices directly.");
            sptt_buf_u8(&want, 0);
            cr_assert_str_eq(x->zPrompt, (char *)want.p);
            sptt_buf_free(&want);
            json_decref(opt);
            nMc++;
        }else{
            char zWant[2048];
            snprintf(zWant, sizeof zWant, "These are frames of a video.\n%s\nPlease answer the question using a single word or phrase.",
                     x->zQuestion);
            cr_assert_str_eq(x->zPrompt, zWant);
            nNum++;
        }
    }
    for(int t = 0; t < ANN_TASK_COUNT; t++){
        cr_assert_eq(a.nGenerated[t], b.nGenerated[t]);
        cr_assert_gt(a.nGenerated[t], 0, "task %s made nothing: %s", ann_task_name(t), a.zSkipReason[t]);
    }
    for(size_t q = 0; q < a.nQa && q < c.nQa; q++) if( !same_text(a.qa[q].zPrompt, c.qa[q].zPrompt) ) differ++;
    cr_assert(differ > 0 || a.nQa!=c.nQa, "another seed changes the draw");
    cr_assert(nMc > 0 && nNum > 0);
    ann_output_free(&a);
    ann_output_free(&b);
    ann_output_free(&c);
    globfree(&gl);
    tu_rmdir(zDir);
}

Test(qa, scene_without_unique_objects_or_frames)
{
    ann_scene s;
    ann_output out;
    ann_qa_opts o = opts(1, ALL_TASKS, 0);
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "pairs_only");
    tu_room_rect(&s, 0, 0, 4, 5, 2.5);
    tu_add(&s, 1, "chair", 1, 1, 0.45, 0.5, 0.5, 0.9, 0);
    tu_add(&s, 2, "chair", 2, 1, 0.45, 0.5, 0.5, 0.9, 30);
    tu_add(&s, 3, "chair", 3, 1, 0.45, 0.5, 0.5, 0.9, 60);
    tu_add(&s, 4, "table", 2, 3, 0.4, 1.2, 0.8, 0.8, 0);
    tu_add(&s, 5, "table", 2, 4.3, 0.4, 1.2, 0.6, 0.8, 0);
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_generate_qa(&s, &o, &out), SPTT_OK);
    cr_assert_eq(out.nGenerated[ANN_COUNTING], 2);
    cr_assert_eq(out.nGenerated[ANN_ROOM_SIZE], 1);
    for(int t = 0; t < ANN_TASK_COUNT; t++){
        if( t==ANN_COUNTING || t==ANN_ROOM_SIZE ) continue;
        cr_assert_eq(out.nGenerated[t], 0, "%s", ann_task_name(t));
        cr_assert_gt(out.nSkipped[t], 0, "%s", ann_task_name(t));
        cr_assert_neq(out.zSkipReason[t][0], 0, "%s", ann_task_name(t));
    }
    cr_assert(strstr(out.zSkipReason[ANN_SIZE], "no unique object"));
    cr_assert(strstr(out.zSkipReason[ANN_APPEARANCE], "no frames"));
    for(size_t q = 0; q < out.nQa; q++){
        if( strcmp(out.qa[q].zType, "object_counting")==0 ){
            json_t *meta = jparse(out.qa[q].zMeta), *mc = json_object_get(meta, "mc_options");
            cr_assert_eq(json_array_size(mc), 4);
            cr_assert(strstr(out.qa[q].zQuestion, "chair(s)") || strstr(out.qa[q].zQuestion, "table(s)"));
            json_decref(meta);
        }
    }
    ann_output_free(&out);
    ann_scene_free(&s);
}
