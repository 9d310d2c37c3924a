/*
** Oriented boxes: exact recovery of cuboids, the minimal box against PCA, axis-aligned, upright
** and brute-force boxes, containment, order independence, the axis convention, rotating calipers
** against brute force, and every degenerate input.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo_util.h"
#include "sptt_common.h"
#include "sptt_geometry.h"
#include "sptt_math.h"

static void random_rotation(sptt_rng *r, double *R)
{
    double w[3];
    for(int k = 0; k < 3; k++) w[k] = sptt_rng_normal(r);
    sptt_normalize3(w);
    {
        double th = sptt_rng_uniform(r, 0, SPTT_PI);
        for(int k = 0; k < 3; k++) w[k] *= th;
    }
    sptt_axis_angle_to_matrix(w, R);
}

/* n points on the surface of a cuboid of sizes s, rotated by R (columns = box axes), centred at c. */
static double *cuboid_points(sptt_rng *r, const double *R, const double *s, const double *c, int n)
{
    double *p = malloc((size_t)n * 3 * sizeof(double));
    for(int i = 0; i < n; i++){
        double l[3];
        int f = (int)sptt_rng_below(r, 3);
        for(int k = 0; k < 3; k++) l[k] = sptt_rng_uniform(r, -0.5, 0.5) * s[k];
        l[f] = (sptt_rng_below(r, 2) ? 0.5 : -0.5) * s[f];
        /* The 8 corners, so the cuboid is the exact minimal box. */
        if( i < 8 )
            for(int k = 0; k < 3; k++) l[k] = ((i >> k) & 1 ? 0.5 : -0.5) * s[k];
        for(int k = 0; k < 3; k++) p[3 * i + k] = c[k] + R[3 * k] * l[0] + R[3 * k + 1] * l[1] + R[3 * k + 2] * l[2];
    }
    return p;
}

static void assert_contains_all(const sptt_box *b, const double *p, size_t n, double tol)
{
    for(size_t i = 0; i < n; i++) cr_assert(sptt_box_contains(b, p + 3 * i, tol), "point %zu outside the box", i);
}

static void assert_right_handed_unit(const sptt_box *b)
{
    double c[3];
    for(int k = 0; k < 3; k++) cr_assert_float_eq(sptt_norm3(b->axes + 3 * k), 1.0, 1e-12);
    cr_assert_float_eq(sptt_dot3(b->axes, b->axes + 3), 0.0, 1e-12);
    cr_assert_float_eq(sptt_dot3(b->axes, b->axes + 6), 0.0, 1e-12);
    sptt_cross3(b->axes, b->axes + 3, c);
    cr_assert_float_eq(sptt_dot3(c, b->axes + 6), 1.0, 1e-12, "axes are not right-handed");
}

/* Size of the box along the direction closest to axis d (unit), and that closeness. */
static double size_along(const sptt_box *b, const double *d, double *pCos)
{
    int best = 0;
    for(int k = 1; k < 3; k++)
        if( fabs(sptt_dot3(b->axes + 3 * k, d)) > fabs(sptt_dot3(b->axes + 3 * best, d)) ) best = k;
    *pCos = fabs(sptt_dot3(b->axes + 3 * best, d));
    return b->size[best];
}

static double aabb_volume(const double *p, size_t n)
{
    double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    for(size_t i = 0; i < n; i++)
        for(int k = 0; k < 3; k++){
            lo[k] = fmin(lo[k], p[3 * i + k]);
            hi[k] = fmax(hi[k], p[3 * i + k]);
        }
    return (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
}

Test(obb, rotated_cuboids_are_recovered_exactly)
{
    sptt_rng r;
    sptt_rng_seed(&r, 1);
    for(int t = 0; t < 20; t++){
        double R[9], s[3], c[3] = { sptt_rng_uniform(&r, -5, 5), sptt_rng_uniform(&r, -5, 5), sptt_rng_uniform(&r, 0, 3) };
        sptt_box b;
        double *p;
        random_rotation(&r, R);
        for(int k = 0; k < 3; k++) s[k] = sptt_rng_uniform(&r, 0.05, 2.0);
        p = cuboid_points(&r, R, s, c, 600);
        cr_assert_eq(sptt_obb_minimal(p, 600, &b), SPTT_OK, "%s", sptt_errmsg());
        for(int k = 0; k < 3; k++){
            double col[3] = { R[k], R[3 + k], R[6 + k] }, cosv, got = size_along(&b, col, &cosv);
            cr_assert_float_eq(got, s[k], 1e-9, "cuboid %d axis %d: size %.12f, expected %.12f", t, k, got, s[k]);
            cr_assert_gt(cosv, cos(1e-6), "cuboid %d axis %d off by %g rad", t, k, acos(fmin(1, cosv)));
            cr_assert_float_eq(b.center[k], c[k], 1e-9);
        }
        cr_assert_float_eq(b.volume, s[0] * s[1] * s[2], 1e-9);
        cr_assert_eq(b.flags, 0u);
        assert_right_handed_unit(&b);
        assert_contains_all(&b, p, 600, 1e-9);
        free(p);
    }
}

Test(obb, upright_box_of_a_yawed_cuboid_and_its_axis_convention)
{
    sptt_rng r;
    sptt_rng_seed(&r, 2);
    for(int t = 0; t < 20; t++){
        double yaw = sptt_rng_uniform(&r, -SPTT_PI, SPTT_PI), R[9], s[3] = { 0.3, 1.2, 0.7 }, c[3] = { 1, -2, 0.35 };
        double *p;
        sptt_box b;
        double expectYaw;
        sptt_rot_z(yaw, R);
        p = cuboid_points(&r, R, s, c, 400);
        cr_assert_eq(sptt_obb_upright(p, 400, &b), SPTT_OK);
        /* Longer horizontal side first (1.2, along the box's local y), height last, z up. */
        cr_assert_float_eq(b.size[0], 1.2, 1e-9);
        cr_assert_float_eq(b.size[1], 0.3, 1e-9);
        cr_assert_float_eq(b.size[2], 0.7, 1e-9);
        cr_assert_float_eq(b.axes[8], 1.0, 1e-15);
        cr_assert_geq(b.axes[0], 0.0);
        /* Local y rotated by yaw, folded into (-90, 90]. */
        expectYaw = yaw + SPTT_PI / 2;
        while( expectYaw > SPTT_PI / 2 ) expectYaw -= SPTT_PI;
        while( expectYaw <= -SPTT_PI / 2 ) expectYaw += SPTT_PI;
        cr_assert_float_eq(atan2(b.axes[1], b.axes[0]), expectYaw, 1e-9, "yaw %.9f expected %.9f", atan2(b.axes[1], b.axes[0]), expectYaw);
        assert_right_handed_unit(&b);
        assert_contains_all(&b, p, 400, 1e-9);
        free(p);
    }
}

/* Point sets of several kinds: Gaussian blobs, a uniform cube, a sphere shell, clusters. */
static double *random_set(sptt_rng *r, int kind, int n)
{
    double *p = malloc((size_t)n * 3 * sizeof(double));
    double ctr[4][3];
    for(int c = 0; c < 4; c++)
        for(int k = 0; k < 3; k++) ctr[c][k] = sptt_rng_uniform(r, -2, 2);
    for(int i = 0; i < n; i++){
        double *q = p + 3 * i;
        switch( kind ){
        case 0:
            for(int k = 0; k < 3; k++) q[k] = sptt_rng_normal(r) * (0.3 + 0.4 * k);
            break;
        case 1:
            for(int k = 0; k < 3; k++) q[k] = sptt_rng_uniform(r, -1, 1);
            break;
        case 2:
            for(int k = 0; k < 3; k++) q[k] = sptt_rng_normal(r);
            sptt_normalize3(q);
            q[2] *= 0.4;
            break;
        default: {
            int c = (int)sptt_rng_below(r, 4);
            for(int k = 0; k < 3; k++) q[k] = ctr[c][k] + 0.2 * sptt_rng_normal(r);
        }
        }
    }
    return p;
}

Test(obb, minimal_is_never_larger_than_pca_aabb_or_upright)
{
    sptt_rng r;
    sptt_rng_seed(&r, 3);
    for(int t = 0; t < 40; t++){
        int n = 20 + (int)sptt_rng_below(&r, 400);
        double *p = random_set(&r, t % 4, n), R[9];
        sptt_box mn, pca, up, aa;
        /* Turn the set so that no frame is special. */
        random_rotation(&r, R);
        for(int i = 0; i < n; i++){
            double q[3];
            for(int k = 0; k < 3; k++) q[k] = sptt_dot3(R + 3 * k, p + 3 * i);
            memcpy(p + 3 * i, q, sizeof q);
        }
        cr_assert_eq(sptt_obb_minimal(p, (size_t)n, &mn), SPTT_OK);
        cr_assert_eq(sptt_obb_pca(p, (size_t)n, &pca), SPTT_OK);
        cr_assert_eq(sptt_obb_upright(p, (size_t)n, &up), SPTT_OK);
        cr_assert_eq(sptt_obb_aabb(p, (size_t)n, &aa), SPTT_OK);
        cr_assert_leq(mn.volume, pca.volume * (1 + 1e-12), "set %d: minimal %g > PCA %g", t, mn.volume, pca.volume);
        cr_assert_leq(mn.volume, up.volume * (1 + 1e-12), "set %d: minimal %g > upright %g", t, mn.volume, up.volume);
        cr_assert_leq(mn.volume, aabb_volume(p, (size_t)n) * (1 + 1e-12), "set %d: minimal > AABB", t);
        cr_assert_float_eq(aa.volume, aabb_volume(p, (size_t)n), 1e-9 * aa.volume);
        assert_contains_all(&mn, p, (size_t)n, 1e-9);
        assert_contains_all(&pca, p, (size_t)n, 1e-9);
        assert_contains_all(&up, p, (size_t)n, 1e-9);
        assert_right_handed_unit(&mn);
        free(p);
    }
}

Test(obb, minimal_beats_a_dense_random_orientation_search)
{
    sptt_rng r;
    sptt_rng_seed(&r, 4);
    for(int t = 0; t < 6; t++){
        int n = 60;
        double *p = random_set(&r, t % 4, n), best = INFINITY;
        sptt_box b;
        cr_assert_eq(sptt_obb_minimal(p, (size_t)n, &b), SPTT_OK);
        for(int s = 0; s < 20000; s++){
            double R[9], lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
            random_rotation(&r, R);
            for(int i = 0; i < n; i++)
                for(int k = 0; k < 3; k++){
                    double d = sptt_dot3(R + 3 * k, p + 3 * i);
                    lo[k] = fmin(lo[k], d);
                    hi[k] = fmax(hi[k], d);
                }
            best = fmin(best, (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
        }
        cr_assert_leq(b.volume, best, "set %d: %g, a random orientation gave %g", t, b.volume, best);
        free(p);
    }
}

/* The regular tetrahedron's minimal box is the cube it is inscribed in: no face of that cube
** lies on a face of the tetrahedron, so a face-flush search alone finds only 2x its volume. */
Test(obb, regular_tetrahedron_gets_its_cube)
{
    sptt_rng r;
    sptt_rng_seed(&r, 5);
    for(int t = 0; t < 10; t++){
        static const double T[4][3] = { { 1, 1, 1 }, { 1, -1, -1 }, { -1, 1, -1 }, { -1, -1, 1 } };
        double R[9], p[12];
        sptt_box b;
        random_rotation(&r, R);
        for(int i = 0; i < 4; i++)
            for(int k = 0; k < 3; k++) p[3 * i + k] = sptt_dot3(R + 3 * k, T[i]);
        cr_assert_eq(sptt_obb_minimal(p, 4, &b), SPTT_OK);
        cr_assert_float_eq(b.volume, 8.0, 1e-6, "trial %d: volume %.9f, the cube has 8", t, b.volume);
    }
}

Test(obb, result_does_not_depend_on_point_order)
{
    sptt_rng r;
    sptt_rng_seed(&r, 6);
    for(int t = 0; t < 8; t++){
        int n = 300;
        double *p = random_set(&r, t % 4, n), *q = malloc((size_t)n * 3 * sizeof(double));
        sptt_box a, b, ua, ub;
        memcpy(q, p, (size_t)n * 3 * sizeof(double));
        sptt_rng_shuffle(&r, q, (size_t)n, 3 * sizeof(double));
        cr_assert_eq(sptt_obb_minimal(p, (size_t)n, &a), SPTT_OK);
        cr_assert_eq(sptt_obb_minimal(q, (size_t)n, &b), SPTT_OK);
        cr_assert_eq(sptt_obb_upright(p, (size_t)n, &ua), SPTT_OK);
        cr_assert_eq(sptt_obb_upright(q, (size_t)n, &ub), SPTT_OK);
        /* Bit for bit: the input is sorted before anything else happens. */
        cr_assert(memcmp(a.center, b.center, sizeof a.center)==0 && memcmp(a.size, b.size, sizeof a.size)==0 &&
                  memcmp(a.axes, b.axes, sizeof a.axes)==0, "set %d: shuffled points gave another minimal box", t);
        cr_assert(memcmp(&ua.axes, &ub.axes, sizeof ua.axes)==0 && memcmp(ua.size, ub.size, sizeof ua.size)==0);
        free(p);
        free(q);
    }
}

/* A large set goes through the interior prefilter; the box must not change because of it. */
Test(obb, prefiltered_large_set_matches_its_hull)
{
    sptt_rng r;
    int n = 20000;
    double *p, R[9], s[3] = { 4.0, 3.0, 2.5 }, c[3] = { 0, 0, 1.25 };
    sptt_box b;
    sptt_rng_seed(&r, 7);
    sptt_rot_z(0.3, R);
    p = cuboid_points(&r, R, s, c, n);
    /* Push most points inside, like furniture in a room. */
    for(int i = 8; i < n; i += 2)
        for(int k = 0; k < 3; k++) p[3 * i + k] = c[k] + 0.7 * (p[3 * i + k] - c[k]);
    cr_assert_eq(sptt_obb_minimal(p, (size_t)n, &b), SPTT_OK);
    cr_assert_float_eq(b.volume, 30.0, 1e-9);
    cr_assert_float_eq(b.size[0], 4.0, 1e-9);
    cr_assert_float_eq(b.size[1], 3.0, 1e-9);
    cr_assert_float_eq(b.size[2], 2.5, 1e-9);
    assert_contains_all(&b, p, (size_t)n, 1e-9);
    free(p);
}

/* A large set goes through the prefilter: the result must still not depend on the order. */
Test(obb, prefiltered_result_does_not_depend_on_point_order)
{
    sptt_rng r;
    int n = 30000;
    double *p, *q, R[9], s[3] = { 6.0, 5.0, 2.6 }, c[3] = { 1, 2, 1.3 };
    sptt_box a, b, ua, ub;
    sptt_rng_seed(&r, 17);
    random_rotation(&r, R);
    p = cuboid_points(&r, R, s, c, n);
    for(int i = 8; i < n; i += 3)
        for(int k = 0; k < 3; k++) p[3 * i + k] = c[k] + 0.8 * (p[3 * i + k] - c[k]);
    for(int i = 0; i < 3 * n; i++) p[i] += 1e-3 * sptt_rng_normal(&r);   /* a scan's noise */
    q = malloc((size_t)n * 3 * sizeof(double));
    memcpy(q, p, (size_t)n * 3 * sizeof(double));
    sptt_rng_shuffle(&r, q, (size_t)n, 3 * sizeof(double));
    cr_assert_eq(sptt_obb_fit(p, (size_t)n, &a, &ua), SPTT_OK);
    cr_assert_eq(sptt_obb_fit(q, (size_t)n, &b, &ub), SPTT_OK);
    cr_assert(memcmp(a.center, b.center, sizeof a.center)==0 && memcmp(a.size, b.size, sizeof a.size)==0 &&
              memcmp(a.axes, b.axes, sizeof a.axes)==0, "shuffled points gave another minimal box");
    cr_assert(memcmp(ua.axes, ub.axes, sizeof ua.axes)==0 && memcmp(ua.size, ub.size, sizeof ua.size)==0);
    assert_contains_all(&a, p, (size_t)n, 1e-9);
    free(p);
    free(q);
}

/* The room's entry: float points as given, with repeats, in any order. It finds the box the
** sorted path finds (same volume and extents), the same box bit for bit for any order, and it
** contains every point. */
Test(obb, cloud_box_matches_the_sorted_path_and_ignores_order)
{
    sptt_rng r;
    sptt_rng_seed(&r, 27);
    for(int t = 0; t < 3; t++){
        int n = 20000 + 15000 * t;
        double *p, R[9], s[3] = { 6.0 - t, 5.0, 2.6 }, c[3] = { 1, -2, 1.3 };
        float *f, *g;
        sptt_box a, b, d;
        random_rotation(&r, R);
        if( t==2 ) sptt_rot_z(0.4, R);
        p = cuboid_points(&r, R, s, c, n);
        for(int i = 8; i < n; i += 3)
            for(int k = 0; k < 3; k++) p[3 * i + k] = c[k] + 0.8 * (p[3 * i + k] - c[k]);
        f = malloc((size_t)n * 3 * sizeof(float));
        g = malloc((size_t)n * 3 * sizeof(float));
        for(int i = 0; i < 3 * n; i++) f[i] = (float)(p[i] + 1e-3 * sptt_rng_normal(&r));
        /* Repeats: a tenth of the points twice. */
        for(int i = 0; i < n / 10; i++) memcpy(f + 3 * (n - 1 - i), f + 3 * i, 3 * sizeof(float));
        for(int i = 0; i < 3 * n; i++) p[i] = f[i];
        memcpy(g, f, (size_t)n * 3 * sizeof(float));
        sptt_rng_shuffle(&r, g, (size_t)n, 3 * sizeof(float));
        cr_assert_eq(sptt_obb_minimal(p, (size_t)n, &a), SPTT_OK);
        cr_assert_eq(sptt_obb_minimal_cloud(f, (size_t)n, &b), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(sptt_obb_minimal_cloud(g, (size_t)n, &d), SPTT_OK);
        cr_assert_float_eq(b.volume, a.volume, 1e-12 * a.volume, "set %d: %.17g vs %.17g", t, b.volume, a.volume);
        for(int k = 0; k < 3; k++){
            cr_assert_float_eq(b.size[k], a.size[k], 1e-12);
            cr_assert_float_eq(b.center[k], a.center[k], 1e-12);
        }
        cr_assert(memcmp(&b, &d, sizeof b)==0, "set %d: shuffled points gave another box", t);
        cr_assert_eq(b.nPoints, (size_t)n);
        cr_assert_eq(b.nDistinct, 0u);
        assert_contains_all(&b, p, (size_t)n, 1e-9);
        free(p);
        free(f);
        free(g);
    }
    {
        float bad[3 * 5000];
        sptt_box b;
        for(int i = 0; i < 3 * 5000; i++) bad[i] = (float)sptt_rng_uniform(&r, -1, 1);
        bad[3 * 4321 + 1] = NAN;
        cr_assert_eq(sptt_obb_minimal_cloud(bad, 5000, &b), SPTT_EINVAL);
        cr_assert(strstr(sptt_errmsg(), "point 4321")!=NULL, "%s", sptt_errmsg());
    }
}

/* The combined call is the two calls, bit for bit, on every kind of input. */
Test(obb, fit_equals_minimal_and_upright)
{
    sptt_rng r;
    sptt_rng_seed(&r, 18);
    for(int t = 0; t < 12; t++){
        int n = t < 4 ? 5000 + 3000 * t : 5 + (int)sptt_rng_below(&r, 800);
        double *p = random_set(&r, t % 4, n);
        sptt_box m1, u1, m2, u2;
        cr_assert_eq(sptt_obb_minimal(p, (size_t)n, &m1), SPTT_OK);
        cr_assert_eq(sptt_obb_upright(p, (size_t)n, &u1), SPTT_OK);
        cr_assert_eq(sptt_obb_fit(p, (size_t)n, &m2, &u2), SPTT_OK);
        cr_assert(memcmp(&m1, &m2, sizeof m1)==0, "set %d: minimal boxes differ", t);
        cr_assert(memcmp(&u1, &u2, sizeof u1)==0, "set %d: upright boxes differ", t);
        free(p);
    }
}

static int cmp_lex_dim(const void *a, const void *b, int dim)
{
    const double *p = a, *q = b;
    for(int k = 0; k < dim; k++)
        if( p[k]!=q[k] ) return p[k] < q[k] ? -1 : 1;
    return 0;
}
static int cmp_lex2(const void *a, const void *b) { return cmp_lex_dim(a, b, 2); }
static int cmp_lex3(const void *a, const void *b) { return cmp_lex_dim(a, b, 3); }

/* The radix sort behind geo_sorted_unique against a plain sort and deduplication: float and
** double coordinates, both zeros, many duplicates, long runs of equal first coordinates. */
Test(obb, sorted_unique_matches_a_plain_sort)
{
    sptt_rng r;
    sptt_rng_seed(&r, 19);
    for(int t = 0; t < 24; t++){
        int dim = 2 + t % 2;
        size_t n = t < 4 ? (size_t)(100 + 60 * t) : 300 + (size_t)sptt_rng_below(&r, 20000);
        double *p = malloc(n * (size_t)dim * sizeof(double)), *q, *ref = malloc(n * (size_t)dim * sizeof(double));
        size_t m, nDup, mRef = 0;
        for(size_t i = 0; i < n * (size_t)dim; i++){
            double v;
            switch( (t / 2) % 5 ){
            case 0: v = sptt_rng_normal(&r); break;                               /* doubles */
            case 1: v = (float)sptt_rng_normal(&r); break;                        /* floats */
            case 2: v = (double)sptt_rng_below(&r, 7) - 3; break;                 /* few values: runs, duplicates */
            case 3: v = sptt_rng_below(&r, 2) ? 0.0 : -0.0; break;                /* both zeros */
            default: v = (i % (size_t)dim)==0 ? (float)sptt_rng_below(&r, 3) : sptt_rng_uniform(&r, -1e6, 1e6); break;
            }
            p[i] = v;
        }
        memcpy(ref, p, n * (size_t)dim * sizeof(double));
        for(size_t i = 0; i < n * (size_t)dim; i++)
            if( ref[i]==0 ) ref[i] = 0;
        qsort(ref, n, (size_t)dim * sizeof(double), dim==2 ? cmp_lex2 : cmp_lex3);
        for(size_t i = 0; i < n; i++)
            if( mRef==0 || cmp_lex_dim(ref + (size_t)dim * i, ref + (size_t)dim * (mRef - 1), dim)!=0 )
                memmove(ref + (size_t)dim * mRef++, ref + (size_t)dim * i, (size_t)dim * sizeof(double));
        cr_assert_eq(geo_sorted_unique(p, n, dim, &q, &m, &nDup), SPTT_OK);
        cr_assert_eq(m, mRef, "set %d: %zu distinct, expected %zu", t, m, mRef);
        cr_assert_eq(nDup, n - mRef);
        cr_assert(memcmp(q, ref, m * (size_t)dim * sizeof(double))==0, "set %d: another order", t);
        free(p);
        free(q);
        free(ref);
    }
}

Test(obb, rotating_calipers_match_brute_force)
{
    sptt_rng r;
    sptt_rng_seed(&r, 8);
    for(int t = 0; t < 200; t++){
        int n = 3 + (int)sptt_rng_below(&r, 40), h;
        double xy[86], work[86], hull[88], best = INFINITY;
        geo_rect rect;
        for(int i = 0; i < n; i++){
            xy[2 * i] = sptt_rng_normal(&r) * (1 + t % 3);
            xy[2 * i + 1] = sptt_rng_normal(&r);
        }
        h = geo_hull2d(xy, n, work, hull);
        cr_assert_geq(h, 3);
        geo_min_rect(hull, h, &rect);
        /* Brute force: every edge direction, every vertex. */
        for(int i = 0; i < h; i++){
            const double *a = hull + 2 * i, *b = hull + 2 * ((i + 1) % h);
            double u[2] = { b[0] - a[0], b[1] - a[1] }, len = hypot(u[0], u[1]), lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
            u[0] /= len;
            u[1] /= len;
            for(int j = 0; j < n; j++){
                double du = u[0] * xy[2 * j] + u[1] * xy[2 * j + 1], dv = -u[1] * xy[2 * j] + u[0] * xy[2 * j + 1];
                lo[0] = fmin(lo[0], du);
                hi[0] = fmax(hi[0], du);
                lo[1] = fmin(lo[1], dv);
                hi[1] = fmax(hi[1], dv);
            }
            best = fmin(best, (hi[0] - lo[0]) * (hi[1] - lo[1]));
        }
        cr_assert_float_eq(rect.area, best, 1e-12 * best, "polygon %d: calipers %.15g, brute force %.15g", t, rect.area, best);
    }
}

/* ---------------------------------------------------------------------------------------------
** Degenerate input: never an error, always a defined box and a flag.
*/
Test(obb_degenerate, single_point_and_all_duplicates)
{
    double p[3 * 50];
    sptt_box b;
    for(int i = 0; i < 50; i++){
        p[3 * i] = 1.5;
        p[3 * i + 1] = -2;
        p[3 * i + 2] = 0.25;
    }
    cr_assert_eq(sptt_obb_minimal(p, 1, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)SPTT_BOX_FEW_POINTS);
    cr_assert_eq(sptt_obb_minimal(p, 50, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)(SPTT_BOX_FEW_POINTS | SPTT_BOX_DUPLICATES));
    cr_assert_eq(b.nPoints, 50u);
    cr_assert_eq(b.nDistinct, 1u);
    cr_assert_float_eq(b.volume, 0.0, 0);
    for(int k = 0; k < 3; k++){
        cr_assert_float_eq(b.size[k], 0.0, 0);
        cr_assert_float_eq(b.center[k], p[k], 1e-15);
    }
    assert_right_handed_unit(&b);
    cr_assert_eq(sptt_obb_upright(p, 50, &b), SPTT_OK);
    cr_assert(b.flags & SPTT_BOX_FEW_POINTS);
}

Test(obb_degenerate, two_and_three_points)
{
    double two[6] = { 0, 0, 0, 3, 4, 0 }, three[9] = { 0, 0, 0, 2, 0, 0, 0, 1, 1 };
    sptt_box b;
    cr_assert_eq(sptt_obb_minimal(two, 2, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)(SPTT_BOX_FEW_POINTS | SPTT_BOX_COLLINEAR));
    cr_assert_float_eq(b.size[0] + b.size[1] + b.size[2], 5.0, 1e-12);
    cr_assert_float_eq(b.volume, 0.0, 1e-24);
    assert_contains_all(&b, two, 2, 1e-12);
    cr_assert_eq(sptt_obb_minimal(three, 3, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)(SPTT_BOX_FEW_POINTS | SPTT_BOX_COPLANAR));
    cr_assert_float_eq(b.volume, 0.0, 1e-12);
    assert_contains_all(&b, three, 3, 1e-12);
    assert_right_handed_unit(&b);
}

Test(obb_degenerate, collinear_points)
{
    double p[3 * 100];
    sptt_box b;
    for(int i = 0; i < 100; i++){
        double t = i * 0.013;
        p[3 * i] = 1 + 0.6 * t;
        p[3 * i + 1] = 2 - 0.48 * t;
        p[3 * i + 2] = 0.64 * t;
    }
    cr_assert_eq(sptt_obb_minimal(p, 100, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)SPTT_BOX_COLLINEAR);
    cr_assert_float_eq(fmax(b.size[0], fmax(b.size[1], b.size[2])), 99 * 0.013, 1e-12);
    cr_assert_lt(b.volume, 1e-20);
    assert_contains_all(&b, p, 100, 1e-12);
    cr_assert_eq(sptt_obb_upright(p, 100, &b), SPTT_OK);
    cr_assert(b.flags & SPTT_BOX_COLLINEAR);
    assert_contains_all(&b, p, 100, 1e-12);
}

/* The room's entry on large flat and straight clouds: the prefilter's first polytope is flat,
** so every point goes to the sorted path, which flags the box. */
Test(obb_degenerate, large_flat_and_collinear_clouds)
{
    enum { N = 6000 };
    static float f[3 * N];
    sptt_rng r;
    sptt_box b;
    sptt_rng_seed(&r, 29);
    /* A floor: z = 0.25 everywhere, a 4 x 3 m rectangle. */
    for(int i = 0; i < N; i++){
        f[3 * i] = (float)sptt_rng_uniform(&r, 0, 4);
        f[3 * i + 1] = (float)sptt_rng_uniform(&r, 0, 3);
        f[3 * i + 2] = 0.25f;
    }
    f[0] = 0, f[1] = 0, f[3] = 4, f[4] = 3;
    cr_assert_eq(sptt_obb_minimal_cloud(f, N, &b), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(b.flags & SPTT_BOX_COPLANAR, "flags %#x", b.flags);
    cr_assert_float_eq(b.center[2], 0.25, 1e-9);
    cr_assert_eq(b.nPoints, (size_t)N);
    /* A line along x + y. */
    for(int i = 0; i < N; i++){
        float t = (float)sptt_rng_uniform(&r, 0, 2);
        f[3 * i] = t;
        f[3 * i + 1] = t;
        f[3 * i + 2] = 1;
    }
    cr_assert_eq(sptt_obb_minimal_cloud(f, N, &b), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(b.flags & SPTT_BOX_COLLINEAR, "flags %#x", b.flags);
}

Test(obb_degenerate, coplanar_points_in_a_tilted_plane)
{
    sptt_rng r;
    double p[3 * 200], R[9];
    sptt_box b;
    sptt_rng_seed(&r, 9);
    random_rotation(&r, R);
    for(int i = 0; i < 200; i++){
        /* A 1.0 x 0.5 rectangle in its own plane, then turned. */
        double l[3] = { sptt_rng_uniform(&r, -0.5, 0.5), sptt_rng_uniform(&r, -0.25, 0.25), 0 };
        if( i < 4 ){
            l[0] = i & 1 ? 0.5 : -0.5;
            l[1] = i & 2 ? 0.25 : -0.25;
        }
        for(int k = 0; k < 3; k++) p[3 * i + k] = sptt_dot3(R + 3 * k, l) + 2;
    }
    cr_assert_eq(sptt_obb_minimal(p, 200, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)SPTT_BOX_COPLANAR);
    {
        double s[3];
        memcpy(s, b.size, sizeof s);
        /* Sorted sizes: ~0, 0.5, 1.0. */
        for(int i = 0; i < 2; i++)
            for(int j = i + 1; j < 3; j++)
                if( s[j] < s[i] ){
                    double t = s[i];
                    s[i] = s[j];
                    s[j] = t;
                }
        cr_assert_lt(s[0], 1e-9);
        cr_assert_float_eq(s[1], 0.5, 1e-9);
        cr_assert_float_eq(s[2], 1.0, 1e-9);
    }
    assert_contains_all(&b, p, 200, 1e-9);
    assert_right_handed_unit(&b);
}

Test(obb_degenerate, duplicated_cube_corners)
{
    double p[3 * 800];
    sptt_box b;
    for(int i = 0; i < 800; i++)
        for(int k = 0; k < 3; k++) p[3 * i + k] = ((i % 8) >> k) & 1 ? 0.5 : -0.5;
    cr_assert_eq(sptt_obb_minimal(p, 800, &b), SPTT_OK);
    cr_assert_eq(b.flags, (unsigned)SPTT_BOX_DUPLICATES);
    cr_assert_eq(b.nDistinct, 8u);
    cr_assert_float_eq(b.volume, 1.0, 1e-12);
}

Test(obb_degenerate, bad_input_is_refused)
{
    double p[6] = { 0, 0, 0, NAN, 1, 1 };
    sptt_box b;
    cr_assert_eq(sptt_obb_minimal(p, 0, &b), SPTT_EINVAL);
    cr_assert_eq(sptt_obb_minimal(p, 2, &b), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "non-finite")!=NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_obb_upright(p, 0, &b), SPTT_EINVAL);
}
