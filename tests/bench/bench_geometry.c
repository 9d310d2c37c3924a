/*
** Geometry benchmark: one real scene end to end, the alpha shape from 1e4 to 1e6 points, and the
** box quality against the reference's search. Figures are ratios measured in this run (to the
** issue's targets, or between methods), so they compare across machines.
*/
#include <libqhull_r/qhull_ra.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/geometry_testutil.h"
#include "geo_util.h"
#include "sptt_geometry.h"

#define TARGET_SCENE_S 0.050
#define TARGET_ALPHA_1E6_S 1.5

/* Best of k runs: the machine is shared, the minimum is the least disturbed. */
#define BEST_OF(k, out, stmt)                  \
    do{                                        \
        out = INFINITY;                        \
        for(int rep_ = 0; rep_ < (k); rep_++){ \
            double t0_ = sptt_now();           \
            stmt;                              \
            double t1_ = sptt_now() - t0_;     \
            if( t1_ < out ) out = t1_;         \
        }                                      \
    }while( 0 )

typedef struct scene_times {
    double alpha, roomBox, room, boxes, total;
    int nBoxes;
} scene_times;

/* Both boxes of every instance, one instance per thread, with the one call the tool makes. */
static void fit_all(double **pts, const size_t *np, int n)
{
#pragma omp parallel for schedule(dynamic, 1)
    for(int i = 0; i < n; i++){
        sptt_box mn, up;
        sptt_obb_fit(pts[i], np[i], &mn, &up);
    }
}

/* What sptt-geometry computes for a scene once its pack is in memory. */
static scene_times time_scene(const gt_scene *s, int reps)
{
    scene_times t;
    double *xy = malloc(20000 * sizeof(double));
    sptt_rng r;
    sptt_alpha_shape a;
    sptt_box b;
    sptt_room room;
    sptt_room_opts o = { 5, 10000, 0 };
    memset(&t, 0, sizeof t);
    sptt_rng_seed(&r, 0);
    for(int i = 0; i < 10000; i++){
        size_t k = sptt_rng_below(&r, (uint32_t)s->n);
        xy[2 * i] = s->xyz[3 * k];
        xy[2 * i + 1] = s->xyz[3 * k + 1];
    }
    BEST_OF(reps, t.alpha, (sptt_alpha_shape_compute(xy, 10000, 0.2, &a), sptt_alpha_shape_free(&a)));
    BEST_OF(reps, t.roomBox, sptt_obb_minimal_cloud(s->xyz, s->n, &b));
    BEST_OF(reps, t.room, (sptt_room_compute(s->xyz, s->nyu40, s->n, &o, &room), sptt_room_free(&room)));
    {
        /* Instance points gathered once (the tool does it with one counting sort). */
        double *pts[256];
        size_t np[256];
        int n = 0;
        for(int i = 0; i < s->nObj && n < 256; i++){
            if( sptt_nyu40_is_structure(s->obj[i].nyu40) ) continue;
            pts[n] = gt_points(s, s->obj[i].id, &np[n]);
            if( np[n] >= 4 ) n++;
            else free(pts[n]);
        }
        t.nBoxes = n;
        BEST_OF(reps, t.boxes, fit_all(pts, np, n));
        for(int i = 0; i < n; i++) free(pts[i]);
    }
    t.total = t.room + t.boxes;
    free(xy);
    return t;
}

/* Random room-like point sets: an L-shaped 10 x 8 m floor with a round hole. */
static double *random_room(size_t n, uint64_t seed)
{
    double *xy = malloc(n * 2 * sizeof(double));
    sptt_rng r;
    size_t k = 0;
    sptt_rng_seed(&r, seed);
    while( k < n ){
        double x = sptt_rng_uniform(&r, 0, 10), y = sptt_rng_uniform(&r, 0, 8);
        if( (x > 6 && y > 5) || hypot(x - 3, y - 3) < 0.8 ) continue;
        xy[2 * k] = x;
        xy[2 * k + 1] = y;
        k++;
    }
    return xy;
}

/*
** The reference's minimal box (Open3D's OrientedBoundingBox::CreateFromPointsMinimal): for each
** hull triangle, the axis-aligned box in the frame (first edge, normal, their cross product).
*/
static double reference_minimal_volume(const double *p, size_t n)
{
    qhT qh_qh, *qh = &qh_qh;
    char cmd[] = "qhull Qt";
    FILE *err = fopen("/dev/null", "w");
    double *q = malloc(n * 3 * sizeof(double)), best = INFINITY;
    int curlong, totlong;
    facetT *facet;
    memcpy(q, p, n * 3 * sizeof(double));
    qh_zero(qh, err);
    if( qh_new_qhull(qh, 3, (int)n, q, False, cmd, NULL, err)==0 ){
        FORALLfacets {
            double R[9], *a = ((vertexT *)facet->vertices->e[0].p)->point, *b = ((vertexT *)facet->vertices->e[1].p)->point;
            double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
            for(int k = 0; k < 3; k++) R[k] = b[k] - a[k];
            sptt_normalize3(R);
            memcpy(R + 3, facet->normal, 3 * sizeof(double));
            sptt_cross3(R, R + 3, R + 6);
            sptt_normalize3(R + 6);
            for(size_t i = 0; i < n; i++)
                for(int k = 0; k < 3; k++){
                    double d = sptt_dot3(R + 3 * k, p + 3 * i);
                    lo[k] = fmin(lo[k], d);
                    hi[k] = fmax(hi[k], d);
                }
            best = fmin(best, (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]));
        }
    }
    qh_freeqhull(qh, !qh_ALL);
    qh_memfreeshort(qh, &curlong, &totlong);
    fclose(err);
    free(q);
    return best;
}

int main(void)
{
    gt_scene s;
    int haveReal = gt_load_fixture(&s)==0, threads = omp_get_max_threads();
    char zRoot[64] = "";

    printf("%-58s %12s %10s\n", "measure", "value", "ratio");
    if( !haveReal ){
        /* A ScanNet-sized synthetic scene stands in for the real one. */
        char zDir[200];
        printf("# SKIP real scene0000_00: no fixture; a synthetic ScanNet-scale scene instead\n");
        if( gt_make_synth(zRoot, sizeof zRoot, 1, 0, SPTT_SYNTH_SCANNET, SPTT_SCALE_SCANNET) ) return 1;
        snprintf(zDir, sizeof zDir, "%s/scannet/scans/scene0700_00", zRoot);
        if( gt_load_synth(zDir, &s) ) return 1;
    }
    {
        scene_times one, all;
        omp_set_num_threads(1);
        one = time_scene(&s, 5);
        omp_set_num_threads(threads);
        all = time_scene(&s, 5);
        printf("%s: %zu points, %d object boxes\n", haveReal ? "real scene0000_00" : "synthetic scene", s.n, one.nBoxes);
        printf("%-58s %9.1f ms %10s\n", "  room alpha shape, 10,000-point draw", one.alpha * 1e3, "");
        printf("%-58s %9.1f ms %10s\n", "  room centre: minimal box of all points", one.roomBox * 1e3, "");
        printf("%-58s %9.1f ms %10s\n", "  room total (alpha, heights, centre)", one.room * 1e3, "");
        printf("%-58s %9.1f ms %10s\n", "  object boxes, minimal + upright", one.boxes * 1e3, "");
        printf("%-58s %9.1f ms %9.2fx\n", "  scene, 1 core (ratio to the 50 ms target)", one.total * 1e3, one.total / TARGET_SCENE_S);
        printf("%-58s %9.1f ms %9.2fx\n", "  scene, all cores (ratio to the 50 ms target)", all.total * 1e3, all.total / TARGET_SCENE_S);
        printf("  (threads: %d)\n", threads);
    }
    {
        /* Box quality on the scene's instances: volume ratios to other boxes of the same points. */
        double sumRef = 0, sumPca = 0, sumAabb = 0, worstRef = 0;
        int n = 0;
        for(int i = 0; i < s.nObj; i++){
            size_t np;
            double *p, ref;
            sptt_box mn, pca, aa;
            if( sptt_nyu40_is_structure(s.obj[i].nyu40) ) continue;
            p = gt_points(&s, s.obj[i].id, &np);
            if( np >= 4 ){
                sptt_obb_minimal(p, np, &mn);
                sptt_obb_pca(p, np, &pca);
                sptt_obb_aabb(p, np, &aa);
                ref = reference_minimal_volume(p, np);
                sumRef += log(mn.volume / ref);
                sumPca += log(mn.volume / pca.volume);
                sumAabb += log(mn.volume / aa.volume);
                worstRef = fmax(worstRef, mn.volume / ref);
                n++;
            }
            free(p);
        }
        printf("%-58s %12d %9.3fx\n", "  minimal box volume / reference's (geometric mean)", n, exp(sumRef / n));
        printf("%-58s %12s %9.3fx\n", "  minimal box volume / reference's (worst instance)", "", worstRef);
        printf("%-58s %12s %9.3fx\n", "  minimal box volume / PCA box (geometric mean)", "", exp(sumPca / n));
        printf("%-58s %12s %9.3fx\n", "  minimal box volume / axis-aligned box (geometric mean)", "", exp(sumAabb / n));
    }
    gt_free(&s);
    if( zRoot[0] ) gt_remove_tree(zRoot);

    {
        static const size_t aN[3] = { 10000, 100000, 1000000 };
        double tAuto1[3], tAutoN[3], tSingle[2];
        printf("alpha shape, random points on an L-shaped 10 x 8 m floor with a hole, R < 0.2 m:\n");
        for(int i = 0; i < 3; i++){
            double *xy = random_room(aN[i], 1 + i);
            sptt_alpha_shape a, b;
            int reps = i==2 ? 2 : 3;
            omp_set_num_threads(1);
            BEST_OF(reps, tAuto1[i], (sptt_alpha_shape_compute(xy, aN[i], 0.2, &a), sptt_alpha_shape_free(&a)));
            omp_set_num_threads(threads);
            BEST_OF(reps, tAutoN[i], (sptt_alpha_shape_compute(xy, aN[i], 0.2, &a), sptt_alpha_shape_free(&a)));
            if( i < 2 ){
                BEST_OF(i==0 ? 3 : 1, tSingle[i], (geo_alpha_shape_mode(xy, aN[i], 0.2, 1, &b), sptt_alpha_shape_free(&b)));
            }
            printf("%-46s %8zu pts %9.1f ms %9.2fx\n", "  1 core", aN[i], tAuto1[i] * 1e3, tAuto1[i] / tAuto1[0] / ((double)aN[i] / aN[0]));
            free(xy);
        }
        printf("    (ratio: time per point relative to 1e4 points)\n");
        printf("%-58s %9.2f\n", "  growth exponent 1e4 -> 1e6 (time ~ n^k), 1 core", log(tAuto1[2] / tAuto1[0]) / log(100.0));
        printf("%-58s %9.1f ms %9.2fx\n", "  1e6 points, 1 core (ratio to the 1.5 s target)", tAuto1[2] * 1e3, tAuto1[2] / TARGET_ALPHA_1E6_S);
        printf("%-58s %9.1f ms %9.2fx\n", "  1e6 points, all cores (ratio to the 1.5 s target)", tAutoN[2] * 1e3, tAutoN[2] / TARGET_ALPHA_1E6_S);
        printf("%-58s %9.1f ms %9.2fx\n", "  1e4 points, one Qhull call (ratio: automatic / one call)", tSingle[0] * 1e3, tAuto1[0] / tSingle[0]);
        printf("%-58s %9.1f ms %9.2fx\n", "  1e5 points, one Qhull call (ratio: tiled / one call)", tSingle[1] * 1e3, tAuto1[1] / tSingle[1]);
        printf("    (automatic: one Qhull call below 16,000 points, exact tiles above)\n");
    }
    return 0;
}
