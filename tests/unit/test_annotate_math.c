/*
** Exact box-box distance, direction sectors and the VSI-Bench metrics, against hand-computed
** values and (for the distance) a dense brute-force sampling.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "sptt_annotate.h"
#include "sptt_common.h"
#include "sptt_math.h"

static sptt_box box(double cx, double cy, double cz, double ex, double ey, double ez, double yawDeg)
{
    sptt_box b;
    double R[9];
    sptt_rot_z(yawDeg * SPTT_PI / 180, R);
    memset(&b, 0, sizeof b);
    b.center[0] = cx; b.center[1] = cy; b.center[2] = cz;
    b.size[0] = ex; b.size[1] = ey; b.size[2] = ez;
    for(int i = 0; i < 3; i++) for(int j = 0; j < 3; j++) b.axes[3 * i + j] = R[3 * j + i];
    return b;
}

Test(box_distance, parallel_boxes)
{
    sptt_box a = box(0, 0, 0, 1, 1, 1, 0), b = box(3, 0, 0, 1, 1, 1, 0);
    cr_assert_float_eq(sptt_box_distance(&a, &b), 2.0, 1e-12);
    b = box(3, 4, 0, 1, 1, 1, 0);   /* corner to corner: gaps 2 and 3 */
    cr_assert_float_eq(sptt_box_distance(&a, &b), sqrt(13.0), 1e-12);
    b = box(0, 0, 5, 2, 2, 1, 0);   /* stacked with a 4 m gap above */
    cr_assert_float_eq(sptt_box_distance(&a, &b), 4.0, 1e-12);
}

Test(box_distance, rotated_corner_towards_a_face)
{
    /* B is a unit square turned 45 degrees, its corner pointing at A's face x = 0.5: the corner
    ** sits at 3 - sqrt(2)/2 on the x axis. */
    sptt_box a = box(0, 0, 0, 1, 1, 1, 0), b = box(3, 0, 0, 1, 1, 1, 45);
    cr_assert_float_eq(sptt_box_distance(&a, &b), 3 - sqrt(2) / 2 - 0.5, 1e-12);
}

Test(box_distance, touching_overlapping_and_nested_are_zero)
{
    sptt_box a = box(0, 0, 0, 1, 1, 1, 0), b = box(1, 0, 0, 1, 1, 1, 0);
    cr_assert_eq(sptt_box_distance(&a, &b), 0.0);
    b = box(0.7, 0.2, 0.1, 1, 1, 1, 30);
    cr_assert_eq(sptt_box_distance(&a, &b), 0.0);
    b = box(0.05, 0, 0, 0.2, 0.2, 0.2, 17);   /* inside */
    cr_assert_eq(sptt_box_distance(&a, &b), 0.0);
    cr_assert(sptt_box_overlap(&a, &b));
    /* Separated only along a cross-product axis: two long thin bars crossing like an X above
    ** each other. */
    sptt_box p = box(0, 0, 0, 4, 0.1, 0.1, 45), q = box(0, 0, 0.2, 4, 0.1, 0.1, -45);
    cr_assert(!sptt_box_overlap(&p, &q));
    cr_assert_float_eq(sptt_box_distance(&p, &q), 0.1, 1e-12);
}

/* Brute force: the closest pair of two dense point grids filling the boxes' surfaces. */
static double sampled(const sptt_box *a, const sptt_box *b, int n)
{
    static double pa[20000][3], pb[20000][3];
    int na = 0, nb = 0;
    const sptt_box *bx[2] = { a, b };
    for(int w = 0; w < 2; w++){
        double (*pp)[3] = w ? pb : pa;
        int *cnt = w ? &nb : &na;
        for(int i = 0; i <= n; i++) for(int j = 0; j <= n; j++) for(int k = 0; k <= n; k++){
            if( i && j && k && i < n && j < n && k < n ) continue;
            double s[3] = { (double)i / n - 0.5, (double)j / n - 0.5, (double)k / n - 0.5 };
            for(int d = 0; d < 3; d++){
                pp[*cnt][d] = bx[w]->center[d];
                for(int ax = 0; ax < 3; ax++) pp[*cnt][d] += s[ax] * bx[w]->size[ax] * bx[w]->axes[3 * ax + d];
            }
            (*cnt)++;
        }
    }
    double best = 1e300;
    for(int i = 0; i < na; i++) for(int j = 0; j < nb; j++){
        double d = 0;
        for(int k = 0; k < 3; k++) d += (pa[i][k] - pb[j][k]) * (pa[i][k] - pb[j][k]);
        if( d < best ) best = d;
    }
    return sqrt(best);
}

Test(box_distance, random_boxes_against_sampling)
{
    sptt_rng r;
    sptt_rng_seed(&r, 42);
    for(int t = 0; t < 12; t++){
        sptt_box a, b;
        sptt_box *bx[2] = { &a, &b };
        for(int w = 0; w < 2; w++){
            double ang[3] = { sptt_rng_uniform(&r, 0, 6.28), sptt_rng_uniform(&r, -1, 1), sptt_rng_uniform(&r, 0, 6.28) };
            double w3[3] = { sptt_rng_normal(&r), sptt_rng_normal(&r), sptt_rng_normal(&r) };
            double R[9];
            sptt_normalize3(w3);
            for(int k = 0; k < 3; k++) w3[k] *= ang[0];
            sptt_axis_angle_to_matrix(w3, R);
            for(int i = 0; i < 3; i++){
                bx[w]->center[i] = w ? sptt_rng_uniform(&r, 1.0, 2.5) * (i == 0 ? 1 : 0.3) : 0;
                bx[w]->size[i] = sptt_rng_uniform(&r, 0.3, 1.2);
                for(int j = 0; j < 3; j++) bx[w]->axes[3 * i + j] = R[3 * j + i];
            }
            (void)ang;
        }
        double exact = sptt_box_distance(&a, &b);
        double approx = sampled(&a, &b, 24);
        /* the sampled pair is a real pair of surface points: never closer than the truth, and
        ** no farther than half a grid diagonal per box */
        double slack = 0.5 * sqrt(2.0) * 1.2 / 24 * 2;
        cr_assert(approx >= exact - 1e-9, "case %d: sampled %g < exact %g", t, approx, exact);
        cr_assert(approx - exact <= slack, "case %d: sampled %g vs exact %g", t, approx, exact);
    }
}

Test(direction, sectors_and_margins)
{
    double A[2] = { 0, 0 }, B[2] = { 0, 1 };   /* facing +y */
    struct { double x, y, th; int hard, mid; } c[] = {
        { -1, 1, 45, 0, 0 },     /* front-left */
        { -1, -1, 135, 1, 1 },   /* back-left; on the medium left/back boundary */
        { 1, -1, 225, 2, 2 },    /* back-right; medium boundary 225 starts 'right' */
        { 1, 1, 315, 3, 2 },     /* front-right */
        { 0, -1, 180, 2, 1 },    /* straight behind */
    };
    for(size_t i = 0; i < sizeof c / sizeof c[0]; i++){
        double C[2] = { c[i].x, c[i].y };
        double th = sptt_direction_angle(A, B, C);
        cr_assert_float_eq(th, c[i].th, 1e-9, "case %zu: %g", i, th);
        cr_assert_eq(sptt_direction_sector(th, SPTT_DIR_HARD), c[i].hard, "case %zu", i);
        cr_assert_eq(sptt_direction_sector(th, SPTT_DIR_MEDIUM), c[i].mid, "case %zu", i);
    }
    cr_assert_str_eq(sptt_direction_name(0, SPTT_DIR_HARD), "front-left");
    cr_assert_str_eq(sptt_direction_name(2, SPTT_DIR_MEDIUM), "right");
    /* hard: only the next multiple of 90 counts */
    cr_assert(sptt_direction_near_boundary(85, SPTT_DIR_HARD));
    cr_assert(!sptt_direction_near_boundary(95, SPTT_DIR_HARD), "the previous boundary is not checked");
    cr_assert(!sptt_direction_near_boundary(45, SPTT_DIR_HARD));
    cr_assert(sptt_direction_near_boundary(355, SPTT_DIR_HARD));
    /* medium: 10 degrees around 0, 135, 225, 360 */
    cr_assert(sptt_direction_near_boundary(5, SPTT_DIR_MEDIUM));
    cr_assert(sptt_direction_near_boundary(140, SPTT_DIR_MEDIUM));
    cr_assert(sptt_direction_near_boundary(216, SPTT_DIR_MEDIUM));
    cr_assert(!sptt_direction_near_boundary(90, SPTT_DIR_MEDIUM));
    cr_assert(!sptt_direction_near_boundary(180, SPTT_DIR_MEDIUM));
    cr_assert(sptt_direction_near_boundary(351, SPTT_DIR_EASY));
    double C0[2] = { 0, 0 };
    cr_assert(isnan(sptt_direction_angle(A, B, C0)));
}

Test(metrics, mra_matches_the_reference_arithmetic)
{
    /* Values from the reference's numpy.linspace thresholds, computed independently. */
    cr_assert_float_eq(sptt_mra(10, 10), 1.0, 1e-12);
    cr_assert_float_eq(sptt_mra(12, 10), 0.6, 1e-12, "20%% off falls just outside 0.8");
    cr_assert_float_eq(sptt_mra(10.5, 10), 1.0, 1e-12);
    cr_assert_float_eq(sptt_mra(1.05, 1), 1.0, 1e-12, "<= at the 0.95 threshold");
    cr_assert_float_eq(sptt_mra(15, 10), 0.1, 1e-12);
    cr_assert_float_eq(sptt_mra(5, 10), 0.1, 1e-12);
    cr_assert_float_eq(sptt_mra(4.9, 10), 0.0, 1e-12);
    cr_assert_float_eq(sptt_mra(13, 10), 0.5, 1e-12);
    cr_assert_float_eq(sptt_mra(11.5, 10), 0.8, 1e-12);
    cr_assert_float_eq(sptt_mra(NAN, 10), 0.0, 0);
    cr_assert_float_eq(sptt_mra_text("12 meters", 10), 0.6, 1e-12);
    cr_assert_float_eq(sptt_mra_text("about 12", 10), 0.0, 0, "unparsable first token scores 0");
    cr_assert_float_eq(sptt_mra_text("1_0.", 10), 1.0, 1e-12, "Python float accepts digit underscores");
    cr_assert_float_eq(sptt_mra_text("0xA", 10), 0.0, 0, "but no hexadecimal");
    cr_assert_float_eq(sptt_mra_text("inf", 10), 0.0, 0);
}

Test(metrics, exact_match_uses_the_first_token)
{
    cr_assert_eq(sptt_exact_match("A", "A"), 1.0);
    cr_assert_eq(sptt_exact_match("b. because it is closer", "B"), 1.0);
    cr_assert_eq(sptt_exact_match("C.", "C"), 1.0);
    cr_assert_eq(sptt_exact_match("A.\n", "A"), 0.0, "a trailing newline stops the dot strip, as in the reference");
    cr_assert_eq(sptt_exact_match(" A", "A"), 0.0, "a leading space gives an empty first token, as in the reference");
    cr_assert_eq(sptt_exact_match("D", "A"), 0.0);
    cr_assert_eq(sptt_exact_match("", "A"), 0.0);
    char tok[16];
    sptt_answer_token("Answer: C", tok, sizeof tok);
    cr_assert_str_eq(tok, "Answer:");
}
