/*
** 2D alpha shape: exact areas on grids, hole filling, islands, pinches, the convex-hull mode, the
** tiled mode against one Delaunay call, order independence, and degenerate input.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo_util.h"
#include "sptt_common.h"
#include "sptt_geometry.h"
#include "sptt_math.h"

typedef struct pts {
    double *xy;
    size_t n, cap;
} pts;

static void add(pts *p, double x, double y)
{
    if( p->n==p->cap ){
        p->cap = p->cap ? 2 * p->cap : 1024;
        p->xy = realloc(p->xy, p->cap * 2 * sizeof(double));
    }
    p->xy[2 * p->n] = x;
    p->xy[2 * p->n + 1] = y;
    p->n++;
}

/* A grid of spacing s over [x0,x1] x [y0,y1] where keep(x, y) says so. */
static void grid(pts *p, double x0, double y0, double x1, double y1, double s, int (*keep)(double, double))
{
    int nx = (int)lround((x1 - x0) / s), ny = (int)lround((y1 - y0) / s);
    for(int i = 0; i <= nx; i++)
        for(int j = 0; j <= ny; j++){
            double x = x0 + i * s, y = y0 + j * s;
            if( keep==NULL || keep(x, y) ) add(p, x, y);
        }
}

static double loop_area(const sptt_alpha_shape *a, int l)
{
    double s = 0;
    for(int k = a->loopStart[l]; k < a->loopStart[l + 1]; k++){
        int kn = k + 1 < a->loopStart[l + 1] ? k + 1 : a->loopStart[l];
        s += a->loopXY[2 * k] * a->loopXY[2 * kn + 1] - a->loopXY[2 * kn] * a->loopXY[2 * k + 1];
    }
    return s / 2;
}

Test(alpha, square_grid_area_is_exact)
{
    pts p = {0};
    sptt_alpha_shape a;
    grid(&p, 0, 0, 3, 2, 0.1, NULL);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_float_eq(a.area, 6.0, 1e-9);
    cr_assert_float_eq(a.areaKept, 6.0, 1e-9);
    cr_assert_eq(a.nLoops, 1);
    cr_assert_eq(a.nHoles, 0);
    cr_assert_gt(loop_area(&a, 0), 0, "outer loops run counter-clockwise");
    cr_assert_float_eq(loop_area(&a, 0), 6.0, 1e-9);
    cr_assert_eq(a.flags, 0u);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

static int l_shape(double x, double y) { return x <= 2.0 + 1e-9 || y <= 1.0 + 1e-9; }

Test(alpha, l_shaped_room_with_walls)
{
    pts p = {0};
    sptt_alpha_shape a;
    /* Floor grid at 0.125 m plus denser wall lines on part of the outline, like a synthetic scan. */
    grid(&p, 0, 0, 4, 3, 0.125, l_shape);
    for(double t = 0; t <= 4.0001; t += 0.05) add(&p, t, 0);
    for(double t = 0; t <= 3.0001; t += 0.05) add(&p, 0, t);
    /* Area: 4 x 1 plus 2 x 2, plus what the alpha shape adds at the concave corner: the grid's
    ** triangle (2, 1.125) (2.125, 1) (2.25, 1) has R = 0.198 < 0.2 and is kept, as are its like
    ** along the diagonal (1/128 m^2 each). A true alpha shape does that; the reference too. */
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert_float_eq(a.area, 8.0 + 4 / 128.0, 1e-9, "area %.12f", a.area);
    cr_assert_eq(a.nLoops, 1);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

static int annulus(double x, double y)
{
    double r = hypot(x, y);
    return r >= 0.6 && r <= 1.5;
}

Test(alpha, enclosed_hole_is_filled)
{
    pts p = {0};
    sptt_alpha_shape a;
    grid(&p, -1.6, -1.6, 1.6, 1.6, 0.05, annulus);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert_eq(a.nHoles, 1);
    cr_assert_eq(a.nLoops, 1, "the hole's loop is not an outer boundary");
    /* Filled area: the outer disc, as the grid polygon inside r = 1.5 approximates it (a band
    ** of at most one grid step short of the circle); the hole likewise from outside r = 0.6. */
    cr_assert(a.area > SPTT_PI * 1.45 * 1.45 && a.area < SPTT_PI * 1.5 * 1.5, "filled %.4f", a.area);
    cr_assert(a.holeArea > SPTT_PI * 0.6 * 0.6 && a.holeArea < SPTT_PI * 0.65 * 0.65, "hole %.4f", a.holeArea);
    cr_assert_float_eq(a.holeArea, a.area - a.areaKept, 1e-9);
    cr_assert_float_eq(loop_area(&a, 0), a.area, 1e-9);
    sptt_alpha_shape_free(&a);
    /* A small gap (under 2 Rmax) is bridged by triangles, not a hole at all. */
    free(p.xy);
}

static int ring_with_island(double x, double y)
{
    double r = hypot(x, y);
    return (r >= 0.8 && r <= 1.5) || r <= 0.25;
}

Test(alpha, island_inside_a_hole_is_not_counted_twice)
{
    pts p = {0};
    sptt_alpha_shape a;
    grid(&p, -1.6, -1.6, 1.6, 1.6, 0.05, ring_with_island);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert_eq(a.nLoops, 1, "the island is inside the filled outer loop");
    cr_assert_float_eq(a.area, loop_area(&a, 0), 1e-9);
    cr_assert(a.area > SPTT_PI * 1.45 * 1.45 && a.area < SPTT_PI * 1.5 * 1.5, "filled %.4f", a.area);
    /* Not the outer disc plus the island again. */
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

Test(alpha, separate_parts_are_separate_loops)
{
    pts p = {0};
    sptt_alpha_shape a;
    grid(&p, 0, 0, 1, 1, 0.1, NULL);
    grid(&p, 2, 0, 4, 1, 0.1, NULL);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert_eq(a.nLoops, 2);
    cr_assert(a.flags & SPTT_ROOM_SPLIT);
    cr_assert_float_eq(a.area, 3.0, 1e-9);
    cr_assert_float_eq(loop_area(&a, 0), 2.0, 1e-9, "largest loop first");
    cr_assert_float_eq(loop_area(&a, 1), 1.0, 1e-9);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

static int not_11(double x, double y) { return !(fabs(x - 1) < 1e-9 && fabs(y - 1) < 1e-9); }

Test(alpha, hole_touching_the_outline_at_a_vertex_is_still_filled)
{
    /* A 1 m grid over 4 x 4 m, kept squares having R = 0.707 < 0.75. Without the point (1,1) its
    ** four cells become a diamond of R = 1 (dropped), whose corners (1,0) and (0,1) lie on the
    ** outline: the corner triangle hangs on by two vertices. The diamond is still an enclosed
    ** face, so it is filled, as the reference's polygonize-and-union fills it. */
    pts p = {0};
    sptt_alpha_shape a;
    grid(&p, 0, 0, 4, 4, 1, not_11);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.75, &a), SPTT_OK);
    cr_assert_float_eq(a.areaKept, 14.0, 1e-9);
    cr_assert_float_eq(a.area, 16.0, 1e-9);
    cr_assert_eq(a.nHoles, 1);
    cr_assert_eq(a.nLoops, 1);
    cr_assert_float_eq(loop_area(&a, 0), 16.0, 1e-9);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

Test(alpha, convex_hull_when_alpha_is_off)
{
    pts p = {0};
    sptt_alpha_shape a;
    add(&p, 0, 0);
    add(&p, 4, 0);
    add(&p, 4, 3);
    add(&p, 0, 3);
    add(&p, 2, 1);
    add(&p, 1, 2);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0, &a), SPTT_OK);
    cr_assert_eq(a.flags, (unsigned)SPTT_ROOM_CONVEX_HULL);
    cr_assert_float_eq(a.area, 12.0, 1e-12);
    cr_assert_eq(a.loopStart[1], 4);
    sptt_alpha_shape_free(&a);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, INFINITY, &a), SPTT_OK);
    cr_assert_float_eq(a.area, 12.0, 1e-12);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

/* Points whose random layout, holes and density vary; the tiled computation must give the very
** same boundary as one global Delaunay call. */
static void random_room(sptt_rng *r, pts *p, size_t n, double w, double h, int holes)
{
    double hc[6][3];
    for(int k = 0; k < holes; k++){
        hc[k][0] = sptt_rng_uniform(r, 0, w);
        hc[k][1] = sptt_rng_uniform(r, 0, h);
        hc[k][2] = sptt_rng_uniform(r, 0.1, 0.7);
    }
    while( p->n < n ){
        double x = sptt_rng_uniform(r, 0, w), y = sptt_rng_uniform(r, 0, h);
        int out = x > 0.6 * w && y > 0.6 * h;
        for(int k = 0; k < holes && !out; k++) out = hypot(x - hc[k][0], y - hc[k][1]) < hc[k][2];
        if( !out ) add(p, x, y);
    }
}

Test(alpha, tiles_give_exactly_the_global_result)
{
    sptt_rng r;
    static const struct {
        size_t n;
        double w, h, rmax;
        int holes;
    } aCase[] = {
        { 3000, 6, 4, 0.2, 3 },   /* sparse: almost every cell exposed */
        { 20000, 6, 4, 0.2, 4 },  /* dense: only the band along the boundary is triangulated */
        { 20000, 30, 20, 0.2, 6 },/* about one point per Rmax^2: many small parts */
        { 15000, 5, 5, 0.05, 2 }, /* small alpha radius */
        { 15000, 5, 5, 1.0, 5 },  /* large alpha radius: wide halo */
    };
    sptt_rng_seed(&r, 11);
    for(size_t c = 0; c < sizeof aCase / sizeof aCase[0]; c++){
        pts p = {0};
        sptt_alpha_shape one, tiled;
        random_room(&r, &p, aCase[c].n, aCase[c].w, aCase[c].h, aCase[c].holes);
        cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, aCase[c].rmax, 1, &one), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, aCase[c].rmax, 2, &tiled), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_gt(tiled.nTiles, 1, "case %zu was not tiled", c);
        cr_assert_eq(one.nBoundaryEdges, tiled.nBoundaryEdges, "case %zu: %zu edges vs %zu", c, one.nBoundaryEdges, tiled.nBoundaryEdges);
        cr_assert_eq(one.area, tiled.area, "case %zu: area %.15g vs %.15g", c, one.area, tiled.area);
        cr_assert_eq(one.areaKept, tiled.areaKept);
        cr_assert_eq(one.nLoops, tiled.nLoops);
        cr_assert_eq(one.nHoles, tiled.nHoles);
        cr_assert_eq(one.loopStart[one.nLoops], tiled.loopStart[tiled.nLoops]);
        cr_assert(memcmp(one.loopXY, tiled.loopXY, (size_t)one.loopStart[one.nLoops] * 2 * sizeof(double))==0, "case %zu: loops differ", c);
        sptt_alpha_shape_free(&one);
        sptt_alpha_shape_free(&tiled);
        free(p.xy);
    }
}

Test(alpha, tiles_agree_on_cocircular_grids_at_the_threshold)
{
    /* Every grid square is cocircular and its circumradius is the threshold itself: the
    ** triangulation of each square is arbitrary and the test is decided by rounding. */
    pts p = {0};
    sptt_alpha_shape one, tiled;
    grid(&p, 0, 0, 12, 12, 0.1, NULL);
    cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, 0.1 * sqrt(0.5), 1, &one), SPTT_OK);
    cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, 0.1 * sqrt(0.5), 2, &tiled), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(one.area, tiled.area);
    cr_assert_eq(one.nBoundaryEdges, tiled.nBoundaryEdges);
    sptt_alpha_shape_free(&one);
    sptt_alpha_shape_free(&tiled);
    free(p.xy);
}

Test(alpha, result_does_not_depend_on_point_order)
{
    sptt_rng r;
    pts p = {0};
    sptt_alpha_shape a, b;
    double *q;
    sptt_rng_seed(&r, 12);
    random_room(&r, &p, 20000, 5, 4, 3);   /* above the tiling threshold */
    q = malloc(p.n * 2 * sizeof(double));
    memcpy(q, p.xy, p.n * 2 * sizeof(double));
    sptt_rng_shuffle(&r, q, p.n, 2 * sizeof(double));
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert_eq(sptt_alpha_shape_compute(q, p.n, 0.2, &b), SPTT_OK);
    cr_assert_eq(a.area, b.area);
    cr_assert_eq(a.loopStart[a.nLoops], b.loopStart[b.nLoops]);
    cr_assert(memcmp(a.loopXY, b.loopXY, (size_t)a.loopStart[a.nLoops] * 2 * sizeof(double))==0);
    sptt_alpha_shape_free(&a);
    sptt_alpha_shape_free(&b);
    free(q);
    free(p.xy);
}

/* The Delaunay call first tries Qhull without facet merging and keeps that only when it proves
** to be the Delaunay triangulation; the result must be exactly that of Qhull's default options,
** on random rooms, float coordinates, grids (cocircular everywhere: the proof must fail and fall
** back) and grids with rounding noise. */
Test(alpha, proven_fast_delaunay_matches_the_default_options)
{
    sptt_rng r;
    sptt_rng_seed(&r, 21);
    for(int c = 0; c < 12; c++){
        pts p = {0};
        sptt_alpha_shape fast, safe;
        double rmax = c % 3==0 ? 0.05 : c % 3==1 ? 0.2 : 0.6;
        if( c < 4 ){
            random_room(&r, &p, 2000 + 2500 * (size_t)c, 6, 4, c);
        }else if( c < 8 ){
            /* Scan-like: float coordinates, dense walls and a sparse floor. */
            for(int i = 0; i < 6000; i++){
                double x = sptt_rng_uniform(&r, 0, 5), y = sptt_rng_uniform(&r, 0, 4);
                if( i % 3==0 ) x = (float)(0.002 * sptt_rng_normal(&r));
                if( i % 3==1 ) y = (float)(4 + 0.002 * sptt_rng_normal(&r));
                add(&p, (float)x, (float)y);
            }
        }else{
            grid(&p, 0, 0, 3, 2, 0.05, NULL);
            if( c >= 10 )
                for(size_t i = 0; i < 2 * p.n; i++) p.xy[i] += 1e-7 * sptt_rng_normal(&r);
        }
        cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, rmax, 1, &fast), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, rmax, 3, &safe), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(fast.nBoundaryEdges, safe.nBoundaryEdges, "case %d: %zu edges vs %zu", c, fast.nBoundaryEdges, safe.nBoundaryEdges);
        cr_assert_eq(fast.area, safe.area, "case %d: area %.17g vs %.17g", c, fast.area, safe.area);
        cr_assert_eq(fast.areaKept, safe.areaKept);
        cr_assert_eq(fast.flags, safe.flags);
        cr_assert_eq(fast.nLoops, safe.nLoops);
        cr_assert_eq(fast.nHoles, safe.nHoles);
        cr_assert_eq(fast.loopStart[fast.nLoops], safe.loopStart[safe.nLoops]);
        cr_assert(memcmp(fast.loopXY, safe.loopXY, (size_t)fast.loopStart[fast.nLoops] * 2 * sizeof(double))==0, "case %d: loops differ", c);
        sptt_alpha_shape_free(&fast);
        sptt_alpha_shape_free(&safe);
        free(p.xy);
    }
}

/* ---------------------------------------------------------------------------------------------
** Degenerate input
*/
Test(alpha_degenerate, fewer_than_four_points_give_the_convex_hull)
{
    double tri[6] = { 0, 0, 2, 0, 0, 1 };
    sptt_alpha_shape a;
    cr_assert_eq(sptt_alpha_shape_compute(tri, 3, 0.2, &a), SPTT_OK);
    cr_assert_eq(a.flags, (unsigned)(SPTT_ROOM_FEW_POINTS | SPTT_ROOM_CONVEX_HULL));
    cr_assert_float_eq(a.area, 1.0, 1e-12);
    cr_assert_eq(a.nLoops, 1);
    sptt_alpha_shape_free(&a);
    cr_assert_eq(sptt_alpha_shape_compute(tri, 1, 0.2, &a), SPTT_OK);
    cr_assert(a.flags & SPTT_ROOM_FEW_POINTS);
    cr_assert(a.flags & SPTT_ROOM_COLLINEAR);
    cr_assert_float_eq(a.area, 0.0, 0);
    cr_assert_eq(a.nLoops, 0);
    sptt_alpha_shape_free(&a);
}

Test(alpha_degenerate, duplicates_collapse)
{
    double p[2 * 400];
    sptt_alpha_shape a;
    /* 100 copies of each corner of a 0.1 m square. */
    for(int i = 0; i < 400; i++){
        p[2 * i] = (i % 4) & 1 ? 0.1 : 0;
        p[2 * i + 1] = (i % 4) & 2 ? 0.1 : 0;
    }
    cr_assert_eq(sptt_alpha_shape_compute(p, 400, 0.2, &a), SPTT_OK);
    cr_assert_eq(a.nPoints, 4u);
    cr_assert_float_eq(a.area, 0.01, 1e-15);
    sptt_alpha_shape_free(&a);
}

Test(alpha_degenerate, collinear_points_a_single_wall)
{
    pts p = {0};
    sptt_alpha_shape a;
    /* A wall seen from above: many points on one line (with repeats, as a mesh has). */
    for(int i = 0; i < 3000; i++) add(&p, 1 + 0.001 * (i % 1500) * 3, 2 + 0.001 * (i % 1500) * 4);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert(a.flags & SPTT_ROOM_COLLINEAR, "flags %x", a.flags);
    cr_assert_float_eq(a.area, 0.0, 0);
    cr_assert_eq(a.nLoops, 0);
    sptt_alpha_shape_free(&a);
    /* Same through the tiled path. */
    for(int i = 0; i < 20000; i++) add(&p, 1 + 0.0002 * i * 3, 2 + 0.0002 * i * 4);
    cr_assert_eq(geo_alpha_shape_mode(p.xy, p.n, 0.2, 2, &a), SPTT_OK, "%s", sptt_errmsg());
    cr_assert(a.flags & SPTT_ROOM_COLLINEAR);
    cr_assert_float_eq(a.area, 0.0, 0);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

Test(alpha_degenerate, too_sparse_for_alpha)
{
    pts p = {0};
    sptt_alpha_shape a;
    grid(&p, 0, 0, 10, 10, 1.0, NULL);
    cr_assert_eq(sptt_alpha_shape_compute(p.xy, p.n, 0.2, &a), SPTT_OK);
    cr_assert_eq(a.flags, (unsigned)SPTT_ROOM_EMPTY);
    cr_assert_float_eq(a.area, 0.0, 0);
    sptt_alpha_shape_free(&a);
    free(p.xy);
}

Test(alpha_degenerate, non_finite_is_refused)
{
    double p[8] = { 0, 0, 1, 0, 0, INFINITY, 1, 1 };
    sptt_alpha_shape a;
    cr_assert_eq(sptt_alpha_shape_compute(p, 4, 0.2, &a), SPTT_EINVAL);
}
