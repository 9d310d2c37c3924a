/*
** VSI-Bench scoring: the prediction's token, Python's float(), the ten thresholds and the mean
** relative accuracy, and the aggregation. The expected values were computed with the
** benchmark's own expressions in Python 3.11 and numpy (pred.split(' ')[0].rstrip('.').strip(),
** float(), np.linspace(.5, .95, int((.95 - .5) / .05 + 2))) and are pinned here.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "sptt_score.h"

Test(score, the_token_is_read_as_the_benchmark_reads_it)
{
    static const struct { const char *zPred, *zTok; } a[] = {
        { "A. The answer", "A" }, { "  B", "" }, { "b.", "b" }, { "3.5.\n", "3.5." }, { "\tC\n", "C" },
        { "D,", "D," }, { "4 meters", "4" }, { "\xc2\xa0 7 ..", "" }, { "...", "" }, { "\xc2\xa0" "7\xe3\x80\x80", "7" },
    };
    char z[32];
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++){
        cr_assert_eq(sptt_vsi_token(a[i].zPred, z, sizeof z), strlen(a[i].zTok), "%zu", i);
        cr_assert_str_eq(z, a[i].zTok, "prediction %zu", i);
    }
    /* a cut token still reports its length */
    cr_assert_eq(sptt_vsi_token("abcdef", z, 4), 6);
    cr_assert_str_eq(z, "abc");
}

Test(score, python_float_grammar)
{
    static const struct { const char *z; double v; } ok[] = {
        { "1_000", 1000.0 }, { ".5", 0.5 }, { "5.", 5.0 }, { "1e5", 1e5 }, { "+.5e-3", 0.0005 }, { " 2 ", 2.0 },
        { "1.5e+2_0", 1.5e20 }, { "0.1", 0.1 }, { "-3", -3.0 }, { "007", 7.0 },
    };
    static const char *bad[] = { "1__0", "_1", "1_", ".", "1e", "1e+_5", "0x10", "1,5", "", "1._5", "1_.5", "infx", "in", "+", "e5",
                                 "1 2", "--1" };
    double v;
    for(size_t i = 0; i < sizeof ok / sizeof ok[0]; i++){
        cr_assert_eq(sptt_vsi_parse_float(ok[i].z, &v), 0, "'%s'", ok[i].z);
        cr_assert_eq(v, ok[i].v, "'%s': %.17g", ok[i].z, v);
    }
    for(size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) cr_assert_eq(sptt_vsi_parse_float(bad[i], &v), -1, "'%s'", bad[i]);
    cr_assert_eq(sptt_vsi_parse_float("-Infinity", &v), 0);
    cr_assert(isinf(v) && v < 0);
    cr_assert_eq(sptt_vsi_parse_float("NaN", &v), 0);
    cr_assert(isnan(v));
    cr_assert_eq(sptt_vsi_parse_float("inf", &v), 0);
    cr_assert(isinf(v) && v > 0);
}

Test(score, thresholds_and_mean_relative_accuracy)
{
    static const double aTheta[10] = { 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95 };
    for(int i = 0; i < 10; i++) cr_assert_eq(sptt_vsi_threshold(i), aTheta[i], "theta %d = %.17g", i, sptt_vsi_threshold(i));
    static const struct { double p, g, mra; } a[] = {
        { 1.5, 1, 0.1 }, { 1.45, 1, 0.2 }, { 1.05, 1, 1.0 }, { 0.95, 1, 1.0 }, { 3, 3, 1.0 }, { 2, 3, 0.4 }, { 4, 3, 0.4 },
        { 5.5, 10, 0.1 }, { 10.5, 10, 1.0 }, { 0.3, 0.2, 0.1 }, { 1.1, 1.0, 0.9 }, { 2.7, 3, 0.9 }, { 0.35, 0.5, 0.5 },
        { 12, 10, 0.6 }, { 1.25, 1.0, 0.6 }, { 30, 3, 0.0 },
    };
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        cr_assert_eq(sptt_vsi_mra(a[i].p, a[i].g), a[i].mra, "pred %g gt %g: %g", a[i].p, a[i].g, sptt_vsi_mra(a[i].p, a[i].g));
    cr_assert_eq(sptt_vsi_mra(7, 0), 0);
    cr_assert_eq(sptt_vsi_mra(0, 0), 0);
}

Test(score, one_question)
{
    cr_assert_eq(sptt_vsi_score("A. because", "A", 0), 1);
    cr_assert_eq(sptt_vsi_score("a", "A", 0), 1);
    cr_assert_eq(sptt_vsi_score("A.\n", "A", 0), 0);      /* the newline stays: "A." */
    cr_assert_eq(sptt_vsi_score(" A", "A", 0), 0);        /* the first token is empty */
    cr_assert_eq(sptt_vsi_score("B", "A", 0), 0);
    cr_assert_eq(sptt_vsi_score("2.7 metres", "3", 1), 0.9);
    cr_assert_eq(sptt_vsi_score("three", "3", 1), 0);
    cr_assert_eq(sptt_vsi_score("3.", "3", 1), 1);
    cr_assert_eq(sptt_vsi_score("3", "x", 1), 0);
    /* the cases: "B.", "b", "3.0 meters", "about 3", an empty answer */
    cr_assert_eq(sptt_vsi_score("B.", "B", 0), 1);
    cr_assert_eq(sptt_vsi_score("b", "B", 0), 1);
    cr_assert_eq(sptt_vsi_score("3.0 meters", "3", 1), 1);
    cr_assert_eq(sptt_vsi_score("about 3", "3", 1), 0);
    cr_assert_eq(sptt_vsi_score("", "3", 1), 0);
    cr_assert_eq(sptt_vsi_score("", "A", 0), 0);
}

Test(score, per_type_then_task_then_overall)
{
    sptt_vsi_tally *t;
    const sptt_vsi_row *a;
    int n;
    char z[64];
    sptt_vsi_task("object_rel_direction_medium", z, sizeof z);
    cr_assert_str_eq(z, "object_rel_direction");
    sptt_vsi_task("object_rel_distance", z, sizeof z);
    cr_assert_str_eq(z, "object_rel_distance");
    cr_assert_eq(sptt_vsi_tally_new(&t), 0);
    /* direction: easy 1/1, medium 0/2, hard 1/4 -> task mean (1 + 0 + 0.25) / 3, not 2/7 pooled */
    cr_assert_eq(sptt_vsi_tally_add(t, "object_rel_direction_hard", 1), 0);
    cr_assert_eq(sptt_vsi_tally_add(t, "object_counting", 0.6), 0);
    cr_assert_eq(sptt_vsi_tally_add(t, "object_rel_direction_easy", 1), 0);
    for(int i = 0; i < 3; i++) cr_assert_eq(sptt_vsi_tally_add(t, "object_rel_direction_hard", 0), 0);
    for(int i = 0; i < 2; i++) cr_assert_eq(sptt_vsi_tally_add(t, "object_rel_direction_medium", 0), 0);
    cr_assert_eq(sptt_vsi_tally_add(t, "object_counting", 0.2), 0);
    cr_assert_eq(sptt_vsi_tally_types(t, &a, &n), 0);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(a[0].zName, "object_counting");
    cr_assert_float_eq(a[0].score, 0.4, 1e-15);
    cr_assert_eq(a[0].n, 2);
    cr_assert_str_eq(a[1].zName, "object_rel_direction_easy");
    cr_assert_str_eq(a[2].zName, "object_rel_direction_hard");
    cr_assert_eq(a[2].score, 0.25);
    cr_assert_eq(sptt_vsi_tally_tasks(t, &a, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(a[1].zName, "object_rel_direction");
    cr_assert_eq(a[1].n, 7);
    cr_assert_float_eq(a[1].score, 1.25 / 3, 1e-15);
    cr_assert_float_eq(sptt_vsi_tally_overall(t), (0.4 + 1.25 / 3) / 2, 1e-15);
    sptt_vsi_tally_free(t);
}
