/*
** Scene graph: support equals sptt-synth's supported_by on every synthetic object; hand-built
** cases for support, near, the view-dependent relations and between.
*/
#include <criterion/criterion.h>

#include "annotate_testutil.h"

static const ann_relation *find_rel(const ann_output *out, int subject, const char *zRel, int object)
{
    for(size_t i = 0; i < out->nRel; i++){
        const ann_relation *r = &out->rel[i];
        if( r->subject==subject && strcmp(r->zRelation, zRel)==0 && (object < 0 || r->object==object) ) return r;
    }
    return NULL;
}

static int count_rel(const ann_output *out, const char *zRel)
{
    int n = 0;
    for(size_t i = 0; i < out->nRel; i++) n += strcmp(out->rel[i].zRelation, zRel)==0;
    return n;
}

Test(relations, support_equals_the_generator)
{
    int nSupported = 0, nChecked = 0;
    for(uint64_t seed = 41; seed <= 42; seed++){
        char zDir[64];
        glob_t gl;
        tu_synth(zDir, sizeof zDir, seed, 2, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 10);
        tu_truth_paths(zDir, &gl);
        cr_assert_eq(gl.gl_pathc, 4);
        for(size_t p = 0; p < gl.gl_pathc; p++){
            ann_scene s;
            json_t *g, *objs;
            ann_output out;
            cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, &g), 0);
            memset(&out, 0, sizeof out);
            cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
            objs = json_object_get(g, "objects");
            for(size_t i = 0; i < json_array_size(objs); i++){
                json_t *o = json_array_get(objs, i);
                int id = (int)json_integer_value(json_object_get(o, "instance_id"));
                int truth = (int)json_integer_value(json_object_get(o, "supported_by"));
                const ann_relation *r;
                if( id <= 0 ) continue;
                r = find_rel(&out, id, "supported_by", -1);
                /* a supporter without an instance of its own (unannotated) cannot be named */
                if( truth > 0 ){
                    cr_assert_not_null(r, "%s: %s %d should rest on %d", s.zName,
                                       json_string_value(json_object_get(o, "category")), id, truth);
                    cr_assert_eq(r->object, truth, "%s: object %d", s.zName, id);
                    /* on a top face (gap about 0) or on a seat or mattress inside the box (negative) */
                    cr_assert_lt(r->value, 0.02);
                    nSupported++;
                }else{
                    cr_assert_null(r, "%s: %s %d (truth %d) is said to rest on %d", s.zName,
                                   json_string_value(json_object_get(o, "category")), id, truth, r ? r->object : 0);
                }
                nChecked++;
            }
            ann_output_free(&out);
            ann_scene_free(&s);
            json_decref(g);
        }
        globfree(&gl);
        tu_rmdir(zDir);
    }
    cr_assert_gt(nSupported, 5);
    cr_assert_gt(nChecked, 50);
}

Test(relations, support_by_construction)
{
    ann_scene s;
    ann_output out;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "support");
    tu_room_rect(&s, 0, 0, 6, 6, 2.6);
    tu_add(&s, 1, "table", 2, 2, 0.375, 1.2, 0.8, 0.75, 0);
    tu_add(&s, 2, "laptop", 2.1, 2.0, 0.765, 0.35, 0.25, 0.03, 20);       /* on the table top */
    tu_add(&s, 3, "lamp", 1.5, 2.2, 0.93, 0.2, 0.2, 0.2, 0);               /* floats 8 cm above it */
    tu_add(&s, 4, "chair", 2, 2.9, 0.45, 0.5, 0.5, 0.9, 0);                /* on the floor beside it */
    /* a bed whose box includes a 1 m headboard; the pillow lies on the mattress at 0.5 m */
    tu_add(&s, 5, "bed", 4.5, 4.5, 0.5, 2.0, 1.6, 1.0, 0);
    tu_add(&s, 6, "pillow", 4.0, 4.5, 0.575, 0.6, 0.4, 0.15, 90);
    /* a picture on the wall, its lower edge level with a desk top below it */
    tu_add(&s, 7, "desk", 0.35, 4.5, 0.375, 0.7, 1.4, 0.75, 0);
    tu_add(&s, 8, "picture", 0.02, 4.5, 1.0, 0.03, 0.8, 0.5, 0);
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
    cr_assert_not_null(find_rel(&out, 2, "supported_by", 1));
    cr_assert_float_eq(find_rel(&out, 2, "supported_by", 1)->value, 0, 1e-9);
    cr_assert_null(find_rel(&out, 3, "supported_by", -1));
    cr_assert_null(find_rel(&out, 4, "supported_by", -1));
    cr_assert_not_null(find_rel(&out, 6, "supported_by", 5));
    cr_assert_float_eq(find_rel(&out, 6, "supported_by", 5)->value, -0.5, 1e-9);
    cr_assert_null(find_rel(&out, 8, "supported_by", -1));
    cr_assert_eq(count_rel(&out, "supported_by"), 2);
    /* a supported pair is not also "near" */
    for(size_t i = 0; i < out.nRel; i++){
        const ann_relation *r = &out.rel[i];
        if( strcmp(r->zRelation, "near")==0 ) cr_assert_not((r->subject==1 && r->object==2) || (r->subject==2 && r->object==1));
    }
    ann_output_free(&out);
    ann_scene_free(&s);
}

Test(relations, near_under_half_a_metre)
{
    ann_scene s;
    ann_output out;
    const ann_relation *r;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "near");
    tu_room_rect(&s, 0, 0, 10, 4, 2.6);
    tu_add(&s, 1, "sofa", 1, 1, 0.4, 1, 1, 0.8, 0);
    tu_add(&s, 2, "table", 2.4, 1, 0.4, 1, 1, 0.8, 0);       /* 0.4 m from the sofa */
    tu_add(&s, 3, "tv", 3.5, 1, 0.4, 0.6, 0.6, 0.8, 0);      /* 0.3 m from the table */
    tu_add(&s, 4, "bed", 6.5, 1, 0.4, 2, 1.6, 0.8, 0);       /* 1.7 m from the tv */
    tu_add(&s, 5, "lamp", 7.95, 1, 0.4, 0.4, 0.4, 0.8, 0);   /* 0.25 m from the bed */
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
    r = find_rel(&out, 1, "near", 2);
    cr_assert_not_null(r);
    cr_assert_float_eq(r->value, 0.4, 1e-9);
    cr_assert_float_eq(find_rel(&out, 2, "near", 3)->value, 0.3, 1e-9);
    cr_assert_null(find_rel(&out, 1, "near", 3));
    cr_assert_null(find_rel(&out, 3, "near", 4));
    cr_assert_float_eq(find_rel(&out, 4, "near", 5)->value, 0.25, 1e-9);
    cr_assert_eq(count_rel(&out, "near"), 3);
    ann_output_free(&out);
    ann_scene_free(&s);
}

/* A camera at (cx, cy, 1.5) looking horizontally along yaw (0 = +x), in the pack's convention:
** row-major camera-to-world, camera x right, y down, z forward. */
static void set_camera(ann_scene *s, int f, double cx, double cy, double yawDeg)
{
    double y = yawDeg * SPTT_PI / 180, fwd[3] = { cos(y), sin(y), 0 }, right[3] = { sin(y), -cos(y), 0 }, down[3] = { 0, 0, -1 };
    float *M = s->pack.frames[f].c2w;
    for(int r = 0; r < 3; r++){
        M[4 * r + 0] = (float)right[r];
        M[4 * r + 1] = (float)down[r];
        M[4 * r + 2] = (float)fwd[r];
    }
    M[3] = (float)cx;
    M[7] = (float)cy;
    M[11] = 1.5f;
    M[15] = 1;
}

Test(relations, left_right_front_behind_from_the_first_view)
{
    ann_scene s;
    ann_output out;
    const ann_relation *r;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "view");
    tu_room_rect(&s, -6, -6, 6, 6, 2.6);
    s.pack.nFrames = 2;
    s.pack.frames = calloc(2, sizeof *s.pack.frames);
    set_camera(&s, 0, 0, 0, 90);     /* looking north: left is west */
    set_camera(&s, 1, -3, 2, 0);     /* looking east: left is north */
    tu_add(&s, 1, "chair", -0.6, 3, 0.4, 0.4, 0.4, 0.8, 0);
    tu_add(&s, 2, "table", 0.6, 3, 0.4, 0.4, 0.4, 0.8, 0);
    tu_add(&s, 3, "lamp", 0.6, 4.5, 0.4, 0.4, 0.4, 0.8, 0);
    tu_add(&s, 4, "plant", 0.4, 4.0, 0.4, 0.4, 0.4, 0.8, 0);    /* 45 degrees from the chair: ambiguous */
    s.obj[0].firstFrame = 0;
    s.obj[1].firstFrame = 1;
    s.obj[2].firstFrame = 0;
    s.obj[3].firstFrame = 0;
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
    /* frame 0, looking north: the chair is west of the table, so to its left */
    r = find_rel(&out, 1, "left_of", 2);
    cr_assert_not_null(r);
    cr_assert_eq(r->frame, 0);
    cr_assert_float_eq(r->value, -90, 1e-4);
    /* frame 1, looking east: the table (subject) is 1.2 m farther along the view than the chair */
    r = find_rel(&out, 2, "behind", 1);
    cr_assert_not_null(r);
    cr_assert_eq(r->frame, 1);
    /* the lamp, seen first looking north, is 1.5 m farther than the table: behind it */
    cr_assert_not_null(find_rel(&out, 3, "behind", 2));
    /* the table's own view is frame 1, looking east: the lamp is north of it, i.e. to the left,
    ** so the table is to the lamp's right (and not in front of it) */
    cr_assert_not_null(find_rel(&out, 2, "right_of", 3));
    cr_assert_null(find_rel(&out, 2, "in_front_of", 3));
    /* chair-plant sits on the diagonal: no view relation either way */
    cr_assert_null(find_rel(&out, 1, "left_of", 4));
    cr_assert_null(find_rel(&out, 1, "in_front_of", 4));
    cr_assert_null(find_rel(&out, 4, "right_of", 1));
    cr_assert_null(find_rel(&out, 4, "behind", 1));
    ann_output_free(&out);
    ann_scene_free(&s);
}

Test(relations, between_on_the_segment)
{
    ann_scene s;
    ann_output out;
    const ann_relation *r;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "between");
    tu_room_rect(&s, -1, -3, 6, 3, 2.6);
    tu_add(&s, 1, "bed", 0, 0, 0.4, 0.6, 0.6, 0.8, 0);
    tu_add(&s, 2, "sofa", 4, 0, 0.4, 0.6, 0.6, 0.8, 0);
    tu_add(&s, 3, "table", 2, 0.1, 0.4, 0.4, 0.4, 0.8, 0);    /* on the segment, 0.1 m off */
    tu_add(&s, 4, "lamp", 2.2, 1.5, 0.4, 0.3, 0.3, 0.8, 0);   /* 1.5 m off */
    tu_add(&s, 5, "tv", -0.6, -0.5, 0.4, 0.2, 0.2, 0.8, 0);   /* beyond the bed's end */
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
    r = find_rel(&out, 3, "between", 1);
    cr_assert_not_null(r);
    cr_assert_eq(r->object2, 2);
    cr_assert_float_eq(r->value, 0.1, 1e-9);
    cr_assert_null(find_rel(&out, 4, "between", -1));
    cr_assert_null(find_rel(&out, 5, "between", -1));
    ann_output_free(&out);
    ann_scene_free(&s);
}
