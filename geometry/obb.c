/*
** Oriented bounding boxes: minimal-volume, upright (yaw only), PCA and axis-aligned.
**
** Minimal-volume algorithm and what it guarantees
** ------------------------------------------------
** 1. Qhull builds the convex hull H of the points: a box holds the points iff it holds H. Large
**    inputs first lose the points strictly inside a polytope spanned by some of them: the 26
**    extreme points (Akl-Toussaint), grown for a few rounds by the point farthest above each
**    facet (see prefilter). Such points cannot be hull vertices, and Qhull builds the same H.
** 2. Candidate directions n: every distinct facet normal of H and, while H has at most 48 distinct
**    edge directions, the normal of every pair of them (a plane parallel to two hull edges).
** 3. For each n, the exact best box with one axis along n: the minimum-area rectangle of H's
**    shadow on the plane orthogonal to n, by rotating calipers (geo_util.c), times the extent
**    along n. Directions are visited by increasing lower bound (extent x shadow area; the
**    rectangle is never smaller than the shadow) and the rest skipped once the bound reaches the
**    best volume found, which finds the same best box as visiting all.
**    This contains the reference's search (Open3D's minimal OBB tries each hull triangle's normal
**    with one of its edges as second axis; we take the best in-plane rotation for that normal),
**    so our volume is never larger than the reference's.
** 4. The PCA, axis-aligned and best upright frames are candidates too.
** 5. The three best candidates are refined by a pattern search on rotations (turns about 13 axes
**    of the box's own frame, step halved from 0.1 down to 1e-6 rad), which accepts only decreases.
** Guarantee: the volume is at most that of every face-flush box, every box with a face parallel
** to two hull edges (small hulls), and the PCA, axis-aligned and upright boxes. O'Rourke (1985)
** showed an optimal box has two adjacent faces each flush with a hull edge, a case steps 2 and 5
** cover in practice (the regular tetrahedron's optimum, the cube, touches only edges and is found
** exactly) but without a certificate of global optimality: this is not O'Rourke's exact O(n^3)
** algorithm. On random point sets it beat 200,000 random orientations every time we tried.
**
** The final box is measured on every input point, not only on hull vertices, so it contains all
** of them whatever rounding Qhull did. Inputs are sorted and deduplicated first, which makes the
** result bit-identical for any order of the same points. The room's cloud (every point of a
** scene, sptt_obb_minimal_cloud) is too large to sort for that: it goes through the prefilter as
** given, made order-independent instead (see prefilter), and only the points kept, a superset of
** the hull's vertices, are sorted; so the room box too does not depend on the order.
**
** Speed (ScanNet's scene0000_00: 81,000 points for the room, 45 objects) comes from doing the same
** arithmetic with less work around it, so the results are those of the straightforward code bit
** for bit: a radix sort (geo_util.c), the prefilter's cell lists, lower bounds taken four
** directions at a time, and in the pattern search an early-out volume test with the extremes
** first, a pool the active sets are drawn from, turns about one box axis measured on the two rows
** that turn, and the table of turns computed once per thread. The one exception is the Qhull input
** for large sets (more points dropped by the prefilter): Qhull then can merge coplanar facets in
** another order, which moves a facet normal in its last bit or so (volumes agree to 1e-15). Two
** choices trade a little for time: only the three best candidates are refined, and Qhull first
** runs without facet merging (see hull3_build).
*/
#include "geo_util.h"
#include "sptt_common.h"
#include "sptt_math.h"

#include <libqhull_r/qhull_ra.h>

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Relative thickness below which points count as coplanar (or collinear): float coordinates of a
** flat surface scatter about 1e-7 of their magnitude off the plane. */
#define FLAT_TOL 1e-6

/* The input after sorting, deduplication and centring, plus its principal frame. */
typedef struct prepared {
    double *p;          /* (m, 3), centred on mean */
    size_t m;
    size_t n;           /* before deduplication */
    double mean[3];
    double pca[9];      /* rows, by decreasing variance */
    double ext[3];      /* extents along the pca rows */
    double lo[3], hi[3];  /* bounding box of p */
    unsigned flags;
} prepared;

static void prepared_free(prepared *pp) { free(pp->p); }

static int prepare(const double *xyz, size_t n, prepared *pp)
{
    size_t nDup;
    double C[9] = {0}, vals[3];
    int rc;
    memset(pp, 0, sizeof *pp);
    if( n==0 ) return sptt_fail(SPTT_EINVAL, "box: no points");
    rc = geo_sorted_unique(xyz, n, 3, &pp->p, &pp->m, &nDup);
    if( rc ) return rc;
    pp->n = n;
    if( nDup ) pp->flags |= SPTT_BOX_DUPLICATES;
    if( pp->m < 4 ) pp->flags |= SPTT_BOX_FEW_POINTS;
    for(size_t i = 0; i < pp->m; i++)
        for(int k = 0; k < 3; k++) pp->mean[k] += pp->p[3 * i + k];
    for(int k = 0; k < 3; k++) pp->mean[k] /= (double)pp->m;
    {
        /* The six distinct sums of the scatter matrix (q[a] q[b] and q[b] q[a] are the same
        ** product, summed in the same order), in registers. */
        const double m0 = pp->mean[0], m1 = pp->mean[1], m2 = pp->mean[2];
        double c00 = 0, c01 = 0, c02 = 0, c11 = 0, c12 = 0, c22 = 0;
        for(size_t i = 0; i < pp->m; i++){
            double *q = pp->p + 3 * i;
            const double x = q[0] - m0, y = q[1] - m1, z = q[2] - m2;
            q[0] = x;
            q[1] = y;
            q[2] = z;
            c00 += x * x;
            c01 += x * y;
            c02 += x * z;
            c11 += y * y;
            c12 += y * z;
            c22 += z * z;
        }
        C[0] = c00;
        C[1] = C[3] = c01;
        C[2] = C[6] = c02;
        C[4] = c11;
        C[5] = C[7] = c12;
        C[8] = c22;
    }
    geo_eig3_sym(C, vals, pp->pca);
    {
        /* Extents along the principal axes (what geo_box_in_frame measures, inline). */
        const double *R = pp->pca;
        const double r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
        double lo0 = INFINITY, lo1 = INFINITY, lo2 = INFINITY, hi0 = -INFINITY, hi1 = -INFINITY, hi2 = -INFINITY;
        double bx0 = INFINITY, by0 = INFINITY, bz0 = INFINITY, bx1 = -INFINITY, by1 = -INFINITY, bz1 = -INFINITY;
        for(size_t i = 0; i < pp->m; i++){
            const double x = pp->p[3 * i], y = pp->p[3 * i + 1], z = pp->p[3 * i + 2];
            const double d0 = r0 * x + r1 * y + r2 * z, d1 = r3 * x + r4 * y + r5 * z, d2 = r6 * x + r7 * y + r8 * z;
            lo0 = d0 < lo0 ? d0 : lo0;
            hi0 = d0 > hi0 ? d0 : hi0;
            lo1 = d1 < lo1 ? d1 : lo1;
            hi1 = d1 > hi1 ? d1 : hi1;
            lo2 = d2 < lo2 ? d2 : lo2;
            hi2 = d2 > hi2 ? d2 : hi2;
            bx0 = x < bx0 ? x : bx0;
            bx1 = x > bx1 ? x : bx1;
            by0 = y < by0 ? y : by0;
            by1 = y > by1 ? y : by1;
            bz0 = z < bz0 ? z : bz0;
            bz1 = z > bz1 ? z : bz1;
        }
        pp->ext[0] = hi0 - lo0;
        pp->ext[1] = hi1 - lo1;
        pp->ext[2] = hi2 - lo2;
        pp->lo[0] = bx0;
        pp->lo[1] = by0;
        pp->lo[2] = bz0;
        pp->hi[0] = bx1;
        pp->hi[1] = by1;
        pp->hi[2] = bz1;
    }
    return SPTT_OK;
}

/* 0: general, 1: coplanar, 2: collinear, 3: a single point. */
static int dimension_class(const prepared *pp)
{
    double L = fmax(pp->ext[0], fmax(pp->ext[1], pp->ext[2]));
    double mid, small;
    if( pp->m==1 || L==0 ) return 3;
    /* Sorted extents: the PCA order is by variance, not by extent. */
    small = fmin(pp->ext[0], fmin(pp->ext[1], pp->ext[2]));
    mid = pp->ext[0] + pp->ext[1] + pp->ext[2] - L - small;
    if( mid <= FLAT_TOL * L ) return 2;
    if( small <= FLAT_TOL * L || pp->m==3 ) return 1;
    return 0;
}

static void finish_box(const prepared *pp, const double *R, unsigned flags, sptt_box *box)
{
    geo_box_in_frame(R, pp->p, pp->m, pp->mean, box);
    box->flags = pp->flags | flags;
    box->nPoints = pp->n;
    box->nDistinct = pp->m;
    geo_box_canonical(box);
}

/* Frame whose third row is n, first two spanning the orthogonal plane. */
static void plane_basis(const double *n, double *R)
{
    double a[3] = {0};
    int k = fabs(n[0]) <= fabs(n[1]) && fabs(n[0]) <= fabs(n[2]) ? 0 : fabs(n[1]) <= fabs(n[2]) ? 1 : 2;
    a[k] = 1;
    memcpy(R + 6, n, 3 * sizeof(double));
    sptt_cross3(n, a, R);
    sptt_normalize3(R);
    sptt_cross3(R + 6, R, R + 3);
}

/*
** Best box with its third axis along R[6..8]: projects pts onto rows 0 and 1 of R, takes the
** minimum-area rectangle, and rotates rows 0 and 1 to it. work holds WORK_DOUBLES(m) doubles.
** Returns the rectangle's area (the caller multiplies by the extent along row 2).
*/
#define WORK_DOUBLES(m) (6 * (size_t)(m) + 8)
/* What refine needs besides: its active set, dots and pool. */
#define REFINE_WORK_DOUBLES(m) (9 * (size_t)(m) + 8)
static double flush_rect(double *R, const double *pts, int m, double *work)
{
    double *xy = work, *hull = work + 2 * (size_t)m, *sortbuf = work + 4 * (size_t)m + 4;
    double r0[3], r1[3];
    geo_rect rect;
    int h;
    for(int i = 0; i < m; i++){
        xy[2 * i] = sptt_dot3(R, pts + 3 * i);
        xy[2 * i + 1] = sptt_dot3(R + 3, pts + 3 * i);
    }
    h = geo_hull2d(xy, m, sortbuf, hull);
    geo_min_rect(hull, h, &rect);
    for(int k = 0; k < 3; k++){
        r0[k] = rect.u[0] * R[k] + rect.u[1] * R[3 + k];
        r1[k] = -rect.u[1] * R[k] + rect.u[0] * R[3 + k];
    }
    memcpy(R, r0, sizeof r0);
    memcpy(R + 3, r1, sizeof r1);
    return rect.area;
}

/* Volume of the box of v (nv x 3) in frame R. The hot loop of the search: scalars and
** branch-free min/max so the compiler keeps everything in registers. */
static double frame_volume(const double *R, const double *v, int nv)
{
    const double r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
    double lo0 = INFINITY, lo1 = INFINITY, lo2 = INFINITY, hi0 = -INFINITY, hi1 = -INFINITY, hi2 = -INFINITY;
    for(int i = 0; i < nv; i++){
        const double x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
        const double d0 = r0 * x + r1 * y + r2 * z, d1 = r3 * x + r4 * y + r5 * z, d2 = r6 * x + r7 * y + r8 * z;
        lo0 = d0 < lo0 ? d0 : lo0;
        hi0 = d0 > hi0 ? d0 : hi0;
        lo1 = d1 < lo1 ? d1 : lo1;
        hi1 = d1 > hi1 ? d1 : hi1;
        lo2 = d2 < lo2 ? d2 : lo2;
        hi2 = d2 > hi2 ? d2 : hi2;
    }
    return (hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2);
}

/*
** Whether the volume of the box of v in frame R is below limit, decided exactly as comparing
** frame_volume(R, v, nv) with it would: the extents only grow as points are added, and a product
** of growing non-negative factors only grows under rounding too, so once the partial volume
** reaches the limit the full one does. Most trial turns of the pattern search are rejected, and
** with the current extremes first in v (active_set puts them there) they are rejected after a
** handful of points instead of the whole active set.
*/
static int frame_volume_below(const double *R, const double *v, int nv, double limit)
{
    const double r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
    double lo0 = INFINITY, lo1 = INFINITY, lo2 = INFINITY, hi0 = -INFINITY, hi1 = -INFINITY, hi2 = -INFINITY;
    int i = 0, stop = nv < 6 ? nv : 6;
    for(;;){
        for(; i < stop; i++){
            const double x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
            const double d0 = r0 * x + r1 * y + r2 * z, d1 = r3 * x + r4 * y + r5 * z, d2 = r6 * x + r7 * y + r8 * z;
            lo0 = d0 < lo0 ? d0 : lo0;
            hi0 = d0 > hi0 ? d0 : hi0;
            lo1 = d1 < lo1 ? d1 : lo1;
            hi1 = d1 > hi1 ? d1 : hi1;
            lo2 = d2 < lo2 ? d2 : lo2;
            hi2 = d2 > hi2 ? d2 : hi2;
        }
        if( !((hi0 - lo0) * (hi1 - lo1) * (hi2 - lo2) < limit) ) return 0;
        if( i==nv ) return 1;
        stop = nv - i > 4 ? i + 4 : nv;
    }
}

/* frame_volume, keeping the three extents. */
static double frame_extents(const double *R, const double *v, int nv, double *ext)
{
    const double r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7], r8 = R[8];
    double lo0 = INFINITY, lo1 = INFINITY, lo2 = INFINITY, hi0 = -INFINITY, hi1 = -INFINITY, hi2 = -INFINITY;
    for(int i = 0; i < nv; i++){
        const double x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
        const double d0 = r0 * x + r1 * y + r2 * z, d1 = r3 * x + r4 * y + r5 * z, d2 = r6 * x + r7 * y + r8 * z;
        lo0 = d0 < lo0 ? d0 : lo0;
        hi0 = d0 > hi0 ? d0 : hi0;
        lo1 = d1 < lo1 ? d1 : lo1;
        hi1 = d1 > hi1 ? d1 : hi1;
        lo2 = d2 < lo2 ? d2 : lo2;
        hi2 = d2 > hi2 ? d2 : hi2;
    }
    ext[0] = hi0 - lo0;
    ext[1] = hi1 - lo1;
    ext[2] = hi2 - lo2;
    return ext[0] * ext[1] * ext[2];
}

/*
** frame_volume_below for a turn about axis k alone: row k of the turned frame equals row k of the
** current one, so its extent is the current one, extK, and only the other two rows are measured
** (rows a < b of T). The volume is multiplied in the same order as frame_volume, so the verdict
** is the one frame_volume_below would give.
*/
static int frame_volume_below_axis(const double *T, int k, double extK, const double *v, int nv, double limit)
{
    const int a = k==0 ? 1 : 0, b = k==2 ? 1 : 2;
    const double p0 = T[3 * a], p1 = T[3 * a + 1], p2 = T[3 * a + 2], q0 = T[3 * b], q1 = T[3 * b + 1], q2 = T[3 * b + 2];
    double loA = INFINITY, hiA = -INFINITY, loB = INFINITY, hiB = -INFINITY, e[3];
    int i = 0, stop = nv < 6 ? nv : 6;
    e[k] = extK;
    for(;;){
        for(; i < stop; i++){
            const double x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
            const double dA = p0 * x + p1 * y + p2 * z, dB = q0 * x + q1 * y + q2 * z;
            loA = dA < loA ? dA : loA;
            hiA = dA > hiA ? dA : hiA;
            loB = dB < loB ? dB : loB;
            hiB = dB > hiB ? dB : hiB;
        }
        e[a] = hiA - loA;
        e[b] = hiB - loB;
        if( !(e[0] * e[1] * e[2] < limit) ) return 0;
        if( i==nv ) return 1;
        stop = nv - i > 4 ? i + 4 : nv;
    }
}

/*
** Vertices that can still be extreme along some row of R after the frame turns by at most
** `angle` radians: a turn moves the projection of v by at most |v| * angle, so anything farther
** than twice that from the current extremes cannot overtake them. Returns the count copied, the
** current extremes first (the order changes no volume, only how soon frame_volume_below stops).
** dots holds 3*nv doubles.
*/
static int active_set(const double *R, const double *v, int nv, double rmax, double angle, double *out, double *dots)
{
    double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    double margin = 2 * rmax * angle * 1.01 + 1e-12;
    int n = 0, ext[6] = { 0, 0, 0, 0, 0, 0 };
    for(int i = 0; i < nv; i++){
        for(int k = 0; k < 3; k++){
            double d = sptt_dot3(R + 3 * k, v + 3 * i);
            dots[3 * i + k] = d;
            if( d < lo[k] ){
                lo[k] = d;
                ext[2 * k] = i;
            }
            if( d > hi[k] ){
                hi[k] = d;
                ext[2 * k + 1] = i;
            }
        }
    }
    for(int e = 0; e < 6 && nv > 0; e++){
        int dup = 0;
        for(int f = 0; f < e && !dup; f++) dup = ext[f]==ext[e];
        if( dup ) continue;
        memcpy(out + 3 * n++, v + 3 * ext[e], 3 * sizeof(double));
    }
    /* The extremes are out already: NaN fails every test below. */
    for(int e = 0; e < 6 && nv > 0; e++) dots[3 * ext[e]] = dots[3 * ext[e] + 1] = dots[3 * ext[e] + 2] = NAN;
    for(int i = 0; i < nv; i++){
        const double d0 = dots[3 * i], d1 = dots[3 * i + 1], d2 = dots[3 * i + 2];
        if( d0 <= lo[0] + margin || d0 >= hi[0] - margin || d1 <= lo[1] + margin || d1 >= hi[1] - margin || d2 <= lo[2] + margin ||
            d2 >= hi[2] - margin )
            memcpy(out + 3 * n++, v + 3 * i, 3 * sizeof(double));
    }
    return n;
}

/*
** The pattern search's turns for every step it uses: the same for every start, so a search
** computes them once.
*/
#define REFINE_STEPS 17      /* 0.1 halved down to the last step above 1e-6 */
typedef struct refine_moves {
    double G[REFINE_STEPS][26][9];
    signed char axis[REFINE_STEPS][26];   /* k for a turn about the box's axis k alone, else -1 */
} refine_moves;

static void refine_moves_init(refine_moves *M)
{
    int s = 0;
    for(double step = 0.1; step > 1e-6; step *= 0.5, s++){
        int nG = 0;
        /* Below a degree the single-axis turns suffice and cost a quarter. */
        int axesOnly = step < 0.015;
        assert(s < REFINE_STEPS);
        for(int a = -1; a <= 1; a++)
            for(int b = -1; b <= 1; b++)
                for(int c = -1; c <= 1; c++){
                    double w[3] = { a, b, c }, len = sqrt((double)(a * a + b * b + c * c));
                    if( len==0 || a < 0 || (a==0 && b < 0) || (a==0 && b==0 && c < 0) ) continue;
                    if( axesOnly && len > 1 ) continue;
                    for(int sgn = -1; sgn <= 1; sgn += 2){
                        double ww[3] = { sgn * step * w[0] / len, sgn * step * w[1] / len, sgn * step * w[2] / len };
                        /* R' = G R mixes the rows: a turn about an axis of the box's own frame. */
                        double *G = M->G[s][nG];
                        sptt_axis_angle_to_matrix(ww, G);
                        /* A turn about axis k keeps row k of the frame (G's row and column k
                        ** are exactly those of the identity). */
                        M->axis[s][nG] = -1;
                        for(int k = 0; k < 3; k++){
                            int j1 = (k + 1) % 3, j2 = (k + 2) % 3;
                            if( G[4 * k]==1 && G[3 * k + j1]==0 && G[3 * k + j2]==0 && G[3 * j1 + k]==0 && G[3 * j2 + k]==0 )
                                M->axis[s][nG] = (signed char)k;
                        }
                        nG++;
                    }
                }
        assert(nG==(axesOnly ? 6 : 26));
    }
    assert(s==REFINE_STEPS);
}

/*
** The vertices of v, in their order, within 2 * rmax * angle of the extremes along a row of R:
** the same test as active_set, used to keep a larger pool that later active sets can be taken
** from instead of all of v. dots holds 3*nv doubles.
*/
static int pool_set(const double *R, const double *v, int nv, double rmax, double angle, double *out, double *dots)
{
    double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    double margin = 2 * rmax * angle * 1.01 + 1e-12;
    int n = 0;
    for(int i = 0; i < nv; i++){
        for(int k = 0; k < 3; k++){
            double d = sptt_dot3(R + 3 * k, v + 3 * i);
            dots[3 * i + k] = d;
            lo[k] = d < lo[k] ? d : lo[k];
            hi[k] = d > hi[k] ? d : hi[k];
        }
    }
    for(int i = 0; i < nv; i++){
        const double *d = dots + 3 * i;
        if( d[0] <= lo[0] + margin || d[0] >= hi[0] - margin || d[1] <= lo[1] + margin || d[1] >= hi[1] - margin ||
            d[2] <= lo[2] + margin || d[2] >= hi[2] - margin )
            memcpy(out + 3 * n++, v + 3 * i, 3 * sizeof(double));
    }
    return n;
}

/* The table, computed once per thread (it is the same every time; no locking needed). */
static const refine_moves *refine_moves_get(void)
{
    static _Thread_local refine_moves table;
    static _Thread_local int ready;
    if( !ready ){
        refine_moves_init(&table);
        ready = 1;
    }
    return &table;
}

/*
** Pattern search on SO(3): turns of +-step about 13 axes given in the box's own frame (its 3
** axes, 6 face diagonals, 4 body diagonals), the first strict decrease taken, the step halved
** when none decreases. The diagonal turns let it leave the ridges where turning about one axis
** at a time cannot decrease the volume. Monotone, so it can only improve its start. Volumes are
** measured on the active set, rebuilt before the frame has turned far enough to leave it.
** v must be centred (|v| bounds the motion); work holds 9*nv doubles.
**
** Active sets are taken from a pool, the vertices near the extremes for a wider turn (poolAngle)
** at the frame the pool was built for. A vertex outside the pool stays more than
** 2 * rmax * (poolAngle - turned) from the extremes, so while poolAngle >= 4 step + 1.1 turned
** (plus a hair for rounding) the pool holds every vertex the active set would take from v, in
** the same order: the active sets, and so every volume compared, are the same as from v.
*/
#define MOVES_PER_SET 3
static double refine(double *R, const double *v, int nv, double vol, const refine_moves *M, double *work)
{
    double rmax = 0, *act = work, *dots = work + 3 * (size_t)nv, *pool = work + 6 * (size_t)nv;
    double poolAngle = 0, turned = 0, ext[3];
    int s = 0, nPool = 0;
    for(int i = 0; i < nv; i++) rmax = fmax(rmax, sptt_norm3(v + 3 * i));
    /* The extents of the current frame: its active sets hold its extremes, so they are the
    ** same over any of them. */
    frame_extents(R, v, nv, ext);
    for(double step = 0.1; step > 1e-6; step *= 0.5, s++){
        int nG = step < 0.015 ? 6 : 26, nAct, moves = 0;
        double angle = (MOVES_PER_SET + 1) * step;
        for(int iter = 0;; iter++){
            int improved = 0;
            if( iter==0 || moves % MOVES_PER_SET==0 ){
                /* (Re)build the active set, and first the pool when it is too narrow for the turns
                ** made since it was built, or needlessly wide for this step. */
                if( nPool==0 || !(poolAngle >= angle + 1.1 * turned + 1e-9) || poolAngle > 8 * angle ){
                    poolAngle = 2 * angle;
                    turned = 0;
                    nPool = pool_set(R, v, nv, rmax, poolAngle, pool, dots);
                }
                nAct = active_set(R, pool, nPool, rmax, angle, act, dots);
            }
            if( iter==256 ) break;
            for(int g = 0; g < nG && !improved; g++){
                const double *G = M->G[s][g], limit = vol * (1 - 1e-13);
                const int k = M->axis[s][g];
                double T[9];
                int below;
                if( k >= 0 ){
                    /* Only the two rows that turn, each as sptt_mul3 computes it. */
                    for(int r = 0; r < 3; r++){
                        if( r==k ) continue;
                        for(int j = 0; j < 3; j++) T[3 * r + j] = G[3 * r] * R[j] + G[3 * r + 1] * R[3 + j] + G[3 * r + 2] * R[6 + j];
                    }
                    below = frame_volume_below_axis(T, k, ext[k], act, nAct, limit);
                }else{
                    sptt_mul3(G, R, T);
                    below = frame_volume_below(T, act, nAct, limit);
                }
                if( below ){
                    sptt_mul3(G, R, T);
                    memcpy(R, T, sizeof T);
                    geo_orthonormalize(R);
                    vol = frame_extents(R, act, nAct, ext);
                    turned += step;
                    improved = 1;
                }
            }
            if( !improved ) break;
            ++moves;
        }
    }
    return frame_volume(R, v, nv);
}

/* ---------------------------------------------------------------------------------------------
** Convex hull through Qhull.
*/
typedef struct hull3 {
    int nv;
    double *v;       /* (nv, 3) hull vertices */
    int nf;
    double *nrm;     /* (nf, 3) outward unit normals */
    double *area;    /* (nf) facet areas */
    int *fStart;     /* (nf + 1) */
    int *fVert;      /* vertex indices of each facet */
    int ne;
    int *edges;      /* (ne, 2) vertex pairs: the ridges between neighbouring facets */
    int *edgeFacets; /* (ne, 2) the two facets of each ridge */
} hull3;

static void hull3_free(hull3 *h)
{
    free(h->v);
    free(h->nrm);
    free(h->area);
    free(h->fStart);
    free(h->fVert);
    free(h->edges);
    free(h->edgeFacets);
    memset(h, 0, sizeof *h);
}

/* SPTT_OK with the hull, SPTT_ECORRUPT when Qhull refuses (message: its first line), ENOMEM. */
static int hull3_build(double *pts, int m, hull3 *h)
{
    qhT *qh = NULL;
    geo_errstream es;
    /* Q5: no check of outer planes after the build. That pass only widens each facet's outer
    ** plane bound (facet->maxoutside) by testing every point; the vertices, facets and normals
    ** read below are the same without it. Q0 first: without facet merging Qhull saves a tenth
    ** of its time, and it stops with an error rather than leave a concave ridge or a flipped
    ** facet, so what it returns is a hull; at worst two nearly coplanar facets stay apart,
    ** which only adds a candidate direction. Scanned objects rarely need a merge (none of the
    ** real scene's 45 did); flat, exactly coplanar input falls back to the default merging. */
    char cmd[] = "qhull Q5", fast[] = "qhull Q0 Q5";
    int rc = SPTT_OK, exitcode, nInc = 0;
    int *map = NULL, *fmap = NULL;
    facetT *facet, *neighbor, **neighborp;
    vertexT *vertex, **vertexp;

    memset(h, 0, sizeof *h);
    if( (rc = geo_errstream_open(&es)) ) return rc;
    /* qh_zero clears the whole qhT: no need for calloc to clear it first. */
    qh = sptt_malloc(sizeof(qhT));
    if( qh ) qh_zero(qh, es.fp);
    map = sptt_malloc((size_t)m * sizeof(int));
    if( qh==NULL || map==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(int i = 0; i < m; i++) map[i] = -1;
    exitcode = qh_new_qhull(qh, 3, m, pts, False, fast, NULL, es.fp);
    if( exitcode ){
        /* Q0 stopped on a precision problem: the default merging, from a clean slate. */
        if( (rc = geo_qhull_restart(qh, &es)) ){
            free(qh);
            qh = NULL;
            goto cleanup;
        }
        exitcode = qh_new_qhull(qh, 3, m, pts, False, cmd, NULL, es.fp);
    }
    if( exitcode ){
        rc = sptt_fail(SPTT_ECORRUPT, "qhull exit %d: %s", exitcode, geo_errstream_text(&es));
        goto cleanup;
    }
    FORALLvertices h->nv++;
    FORALLfacets {
        h->nf++;
        nInc += qh_setsize(qh, facet->vertices);
        h->ne += qh_setsize(qh, facet->neighbors);
    }
    h->v = sptt_malloc((size_t)h->nv * 3 * sizeof(double));
    h->nrm = sptt_malloc((size_t)h->nf * 3 * sizeof(double));
    h->area = sptt_malloc((size_t)h->nf * sizeof(double));
    h->fStart = sptt_malloc((size_t)(h->nf + 1) * sizeof(int));
    h->fVert = sptt_malloc((size_t)(nInc ? nInc : 1) * sizeof(int));
    h->edges = sptt_malloc((size_t)(h->ne ? h->ne : 1) * 2 * sizeof(int));
    h->edgeFacets = sptt_malloc((size_t)(h->ne ? h->ne : 1) * 2 * sizeof(int));
    fmap = sptt_malloc(((size_t)qh->facet_id + 1) * sizeof(int));
    if( !h->v || !h->nrm || !h->area || !h->fStart || !h->fVert || !h->edges || !h->edgeFacets || !fmap ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    {
        int nv = 0, nf = 0, ni = 0;
        FORALLvertices {
            int id = qh_pointid(qh, vertex->point);
            assert(id >= 0 && id < m);
            map[id] = nv;
            memcpy(h->v + 3 * nv, pts + 3 * id, 3 * sizeof(double));
            nv++;
        }
        FORALLfacets {
            fmap[facet->id] = nf;
            memcpy(h->nrm + 3 * nf, facet->normal, 3 * sizeof(double));
            h->area[nf] = qh_facetarea(qh, facet);
            h->fStart[nf] = ni;
            FOREACHvertex_(facet->vertices) h->fVert[ni++] = map[qh_pointid(qh, vertex->point)];
            nf++;
        }
        h->fStart[nf] = ni;
        /* Hull edges: two neighbouring facets share exactly the two ends of their ridge (vertex
        ** sets are small, so a plain double loop finds them). */
        h->ne = 0;
        FORALLfacets {
            FOREACHneighbor_(facet) {
                int e[2], ne = 0;
                vertexT *other, **otherp;
                if( neighbor->id < facet->id ) continue;
                FOREACHvertex_(facet->vertices) {
                    FOREACHsetelement_(vertexT, neighbor->vertices, other) {
                        if( other!=vertex ) continue;
                        if( ne < 2 ) e[ne] = map[qh_pointid(qh, vertex->point)];
                        ne++;
                    }
                }
                if( ne >= 2 ){
                    h->edges[2 * h->ne] = e[0];
                    h->edges[2 * h->ne + 1] = e[1];
                    h->edgeFacets[2 * h->ne] = fmap[facet->id];
                    h->edgeFacets[2 * h->ne + 1] = fmap[neighbor->id];
                    h->ne++;
                }
            }
        }
    }
cleanup:
    if( qh ){
        geo_qhull_release(qh);   /* always, even after an error */
        free(qh);
    }
    geo_errstream_close(&es);
    free(map);
    free(fmap);
    if( rc ) hull3_free(h);
    return rc;
}

typedef struct cand {
    double vol;
    int index;
    double R[9];
} cand;

/* Sort key of a candidate or a bound: volume, then creation order (unique), so that equal
** volumes are not ordered by chance and any sort gives the same order. */
typedef struct vkey {
    double vol;
    int index;
    int pos;             /* where the keyed item is */
} vkey;

static int vkey_less(const vkey *x, const vkey *y)
{
    return x->vol!=y->vol ? x->vol < y->vol : x->index < y->index;
}

/* Bottom-up merge sort of keys, tmp holding n more. */
static void vkey_sort(vkey *k, vkey *tmp, int n)
{
    vkey *src = k, *dst = tmp;
    for(int lo = 0; lo < n; lo += 8){
        int hi = lo + 8 < n ? lo + 8 : n;
        for(int i = lo + 1; i < hi; i++){
            vkey v = k[i];
            int j = i;
            while( j > lo && vkey_less(&v, &k[j - 1]) ){
                k[j] = k[j - 1];
                j--;
            }
            k[j] = v;
        }
    }
    for(int width = 8; width < n; width *= 2){
        vkey *t;
        for(int lo = 0; lo < n; lo += 2 * width){
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, o = lo;
            while( i < mid && j < hi ) dst[o++] = vkey_less(&src[j], &src[i]) ? src[j++] : src[i++];
            while( i < mid ) dst[o++] = src[i++];
            while( j < hi ) dst[o++] = src[j++];
        }
        t = src;
        src = dst;
        dst = t;
    }
    if( src!=k ) memcpy(k, src, (size_t)n * sizeof(vkey));
}

#define N_REFINE 3

/* Upright frame: minimum-area rectangle of the XY shadow. work: WORK_DOUBLES(m) doubles. */
static void upright_frame(const double *pts, int m, double *work, double *R)
{
    static const double up[3] = { 0, 0, 1 };
    double I[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    memcpy(R, I, sizeof I);
    memcpy(R + 6, up, sizeof up);
    flush_rect(R, pts, m, work);
}

/* Sign convention for a direction: its first clearly non-zero component is positive. */
static void canonical_sign(double *d)
{
    for(int k = 0; k < 3; k++){
        if( fabs(d[k]) <= 1e-12 ) continue;
        if( d[k] < 0 ) for(int j = 0; j < 3; j++) d[j] = -d[j];
        return;
    }
}

/* Sorts n directions and drops repeats; returns the count kept. */
static int unique_dirs(double *dirs, int n)
{
    int w = 0;
    if( geo_sort_lex3(dirs, (size_t)n) ) qsort(dirs, (size_t)n, 3 * sizeof(double), geo_cmp_lex3);
    for(int i = 0; i < n; i++){
        const double *d = dirs + 3 * i, *p = dirs + 3 * (w - 1);
        if( w > 0 && fabs(d[0] - p[0]) <= 1e-12 && fabs(d[1] - p[1]) <= 1e-12 && fabs(d[2] - p[2]) <= 1e-12 ) continue;
        memmove(dirs + 3 * w, d, 3 * sizeof(double));
        w++;
    }
    return w;
}

/* Edge pairs are tried only while they are few: each costs as much as a facet normal. */
#define MAX_EDGE_DIRS 48

/* Rbest: the minimal box's frame. Rup, when not NULL: the upright frame, whose shadow rectangle
** is the same from the hull's vertices as from all points (the hull's XY shadow is the shadow of
** the points, and its corners are hull vertices). */
static int search_hull(const prepared *pp, const hull3 *h, double *Rbest, double *Rup)
{
    int rc = SPTT_OK, nDir = 0, nCand = 0, nEdgeDir = 0, capDir;
    double *dirs = NULL, *sil = NULL, *work = NULL, *edirs = NULL;
    signed char *side = NULL;
    int *stamp = NULL;
    cand *cands = NULL;
    vkey *bounds = NULL, *keys = NULL;
    const refine_moves *moves = refine_moves_get();
    double incumbent = INFINITY;

    edirs = sptt_malloc((size_t)(h->ne ? h->ne : 1) * 3 * sizeof(double));
    if( edirs==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(int e = 0; e < h->ne; e++){
        double *d = edirs + 3 * nEdgeDir;
        for(int k = 0; k < 3; k++) d[k] = h->v[3 * h->edges[2 * e + 1] + k] - h->v[3 * h->edges[2 * e] + k];
        if( sptt_norm3(d)==0 ) continue;
        sptt_normalize3(d);
        canonical_sign(d);
        nEdgeDir++;
    }
    nEdgeDir = unique_dirs(edirs, nEdgeDir);
    if( nEdgeDir > MAX_EDGE_DIRS ) nEdgeDir = 0;

    capDir = h->nf + nEdgeDir * (nEdgeDir - 1) / 2;
    dirs = sptt_malloc((size_t)(capDir ? capDir : 1) * 3 * sizeof(double));
    side = sptt_malloc((size_t)h->nf);
    stamp = sptt_calloc((size_t)h->nv, sizeof(int));
    sil = sptt_malloc((size_t)h->nv * 3 * sizeof(double));
    work = sptt_malloc(REFINE_WORK_DOUBLES(h->nv) * sizeof(double));
    cands = sptt_malloc((size_t)(capDir + 3) * sizeof(cand));
    bounds = sptt_malloc((size_t)(capDir ? capDir : 1) * sizeof(vkey));
    keys = sptt_malloc((size_t)(capDir + 3) * 2 * sizeof(vkey));
    if( !dirs || !side || !stamp || !sil || !work || !cands || !bounds || !keys ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }

    /* Facet normals (opposite faces give the same box), and, for small hulls, the normals of
    ** planes parallel to two hull edges: a box face can touch an edge of the hull without
    ** touching a facet (the regular tetrahedron's best box, a cube, touches only edges). */
    for(int f = 0; f < h->nf; f++){
        double *d = dirs + 3 * nDir++;
        memcpy(d, h->nrm + 3 * f, 3 * sizeof(double));
        canonical_sign(d);
    }
    for(int i = 0; i < nEdgeDir; i++){
        for(int j = i + 1; j < nEdgeDir; j++){
            double *d = dirs + 3 * nDir;
            sptt_cross3(edirs + 3 * i, edirs + 3 * j, d);
            if( sptt_norm3(d) < 1e-9 ) continue;
            sptt_normalize3(d);
            canonical_sign(d);
            nDir++;
        }
    }
    nDir = unique_dirs(dirs, nDir);

    /* Lower bounds first: a box along n is at least (extent along n) x (shadow area), and the
    ** shadow of a convex body has area sum(area_f |n . normal_f|) / 2. Directions are tried by
    ** increasing bound against the best volume so far, and the rest skipped once the bound
    ** passes it: the same best face-flush box as trying all, usually for a fraction of the work. */
    /* Four directions at a time: four independent sums in flight instead of one chain of
    ** dependent additions. Each sum is still taken in facet order, so the bounds are the same. */
    for(int i0 = 0; i0 < nDir; i0 += 4){
        const int nb = nDir - i0 < 4 ? nDir - i0 : 4;
        double n[4][3], lo[4], hi[4], a[4];
        for(int j = 0; j < 4; j++) memcpy(n[j], dirs + 3 * (i0 + (j < nb ? j : 0)), 3 * sizeof(double));
        {
            /* Named scalars rather than arrays: the compiler then keeps the twelve running
            ** values in registers instead of storing and reloading them every iteration. The
            ** arithmetic is sptt_dot3's, term for term. */
            const double n00 = n[0][0], n01 = n[0][1], n02 = n[0][2], n10 = n[1][0], n11 = n[1][1], n12 = n[1][2];
            const double n20 = n[2][0], n21 = n[2][1], n22 = n[2][2], n30 = n[3][0], n31 = n[3][1], n32 = n[3][2];
            double lo0 = INFINITY, lo1 = INFINITY, lo2 = INFINITY, lo3 = INFINITY;
            double hi0 = -INFINITY, hi1 = -INFINITY, hi2 = -INFINITY, hi3 = -INFINITY;
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for(int v = 0; v < h->nv; v++){
                const double x = h->v[3 * v], y = h->v[3 * v + 1], z = h->v[3 * v + 2];
                const double d0 = n00 * x + n01 * y + n02 * z, d1 = n10 * x + n11 * y + n12 * z;
                const double d2 = n20 * x + n21 * y + n22 * z, d3 = n30 * x + n31 * y + n32 * z;
                lo0 = d0 < lo0 ? d0 : lo0;
                hi0 = d0 > hi0 ? d0 : hi0;
                lo1 = d1 < lo1 ? d1 : lo1;
                hi1 = d1 > hi1 ? d1 : hi1;
                lo2 = d2 < lo2 ? d2 : lo2;
                hi2 = d2 > hi2 ? d2 : hi2;
                lo3 = d3 < lo3 ? d3 : lo3;
                hi3 = d3 > hi3 ? d3 : hi3;
            }
            for(int f = 0; f < h->nf; f++){
                const double x = h->nrm[3 * f], y = h->nrm[3 * f + 1], z = h->nrm[3 * f + 2], ar = h->area[f];
                a0 += ar * fabs(n00 * x + n01 * y + n02 * z);
                a1 += ar * fabs(n10 * x + n11 * y + n12 * z);
                a2 += ar * fabs(n20 * x + n21 * y + n22 * z);
                a3 += ar * fabs(n30 * x + n31 * y + n32 * z);
            }
            lo[0] = lo0, lo[1] = lo1, lo[2] = lo2, lo[3] = lo3;
            hi[0] = hi0, hi[1] = hi1, hi[2] = hi2, hi[3] = hi3;
            a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;
        }
        for(int j = 0; j < nb; j++){
            bounds[i0 + j].vol = (hi[j] - lo[j]) * a[j] / 2 * (1 - 1e-9);
            bounds[i0 + j].index = i0 + j;
            bounds[i0 + j].pos = i0 + j;
        }
    }
    vkey_sort(bounds, keys, nDir);
    /* The frames the result must never be worse than come first: they set the incumbent. */
    memcpy(cands[nCand++].R, pp->pca, 9 * sizeof(double));
    {
        double I[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        memcpy(cands[nCand++].R, I, sizeof I);
    }
    upright_frame(h->v, h->nv, work, cands[nCand++].R);
    if( Rup ) memcpy(Rup, cands[nCand - 1].R, 9 * sizeof(double));
    for(int c = 0; c < nCand; c++){
        cands[c].vol = frame_volume(cands[c].R, h->v, h->nv);
        cands[c].index = nDir + c;
        if( cands[c].vol < incumbent ) incumbent = cands[c].vol;
    }
    for(int b = 0; b < nDir; b++){
        const double *n = dirs + 3 * bounds[b].index;
        double R[9];
        int ns = 0;
        if( bounds[b].vol >= incumbent ) break;
        /* Shadow vertices: a vertex projects onto the shadow's boundary only if the facets around
        ** it face both ways along n (then a ridge between a front and a back facet ends at it) or
        ** one of them is seen edge-on; one whose facets all face one way projects inside. */
        for(int f = 0; f < h->nf; f++){
            double d = sptt_dot3(n, h->nrm + 3 * f);
            side[f] = (signed char)((d > 1e-7) - (d < -1e-7));
            if( side[f]==0 )
                for(int t = h->fStart[f]; t < h->fStart[f + 1]; t++) stamp[h->fVert[t]] = b + 1;
        }
        /* Without branches: which ridges separate a front from a back facet is unpredictable. */
        for(int e = 0; e < h->ne; e++){
            const int cross = side[h->edgeFacets[2 * e]] * side[h->edgeFacets[2 * e + 1]] < 0;
            const int v0 = h->edges[2 * e], v1 = h->edges[2 * e + 1];
            stamp[v0] = cross ? b + 1 : stamp[v0];
            stamp[v1] = cross ? b + 1 : stamp[v1];
        }
        for(int v = 0; v < h->nv; v++)
            if( stamp[v]==b + 1 ) memcpy(sil + 3 * ns++, h->v + 3 * v, 3 * sizeof(double));
        plane_basis(n, R);
        if( ns > 0 ) flush_rect(R, sil, ns, work);
        /* Measured on the hull itself: the shadow can miss a vertex the tolerance dropped. */
        cands[nCand].vol = frame_volume(R, h->v, h->nv);
        cands[nCand].index = bounds[b].index;
        memcpy(cands[nCand].R, R, sizeof R);
        if( cands[nCand].vol < incumbent ) incumbent = cands[nCand].vol;
        nCand++;
    }
    for(int c = 0; c < nCand; c++){
        keys[c].vol = cands[c].vol;
        keys[c].index = cands[c].index;
        keys[c].pos = c;
    }
    vkey_sort(keys, keys + nCand, nCand);
    {
        /* Only the best few: on the real scene, refining every candidate of the small hulls
        ** took a fifth of the boxes' time and lowered 3 of 45 volumes, by 1e-5 at most. */
        double best = INFINITY;
        for(int c = 0; c < nCand && c < N_REFINE; c++){
            double R[9], vol;
            const cand *cd = &cands[keys[c].pos];
            memcpy(R, cd->R, sizeof R);
            vol = refine(R, h->v, h->nv, cd->vol, moves, work);
            if( vol < best ){
                best = vol;
                memcpy(Rbest, R, sizeof R);
            }
        }
    }
cleanup:
    free(edirs);
    free(dirs);
    free(side);
    free(stamp);
    free(sil);
    free(work);
    free(cands);
    free(bounds);
    free(keys);
    return rc;
}

/* Box of flat points: minimum-area rectangle in the best-fit plane, thickness as measured. */
static int planar_frame(const prepared *pp, double *R)
{
    double *work = sptt_malloc(WORK_DOUBLES(pp->m) * sizeof(double));
    if( work==NULL ) return SPTT_ENOMEM;
    memcpy(R, pp->pca, 9 * sizeof(double));
    flush_rect(R, pp->p, (int)pp->m, work);
    free(work);
    return SPTT_OK;
}

/*
** Prefilter for large inputs: points strictly inside the hull P of some of the points are no
** hull vertices, so Qhull need not see them (Akl-Toussaint). P starts as the hull of the points
** extreme along 26 directions among every few thousandth point (any points will do: P only has to
** be spanned by input points); an axis-aligned box inside it answers the points deep inside with
** six comparisons. Then, as quickhull does, each facet of P adds the farthest point found above
** it, and the survivors are tested against the larger P, for a few rounds while that pays: the
** room of scene0000_00 (81,000 points) comes down to under 2,000 candidates for its 356 hull
** vertices. Every P lies inside the true hull, so a point more than tol inside it is no hull
** vertex: Qhull gets every hull vertex, in sorted order, and builds the same hull (with many
** coplanar points it may merge facets in another order; see the top of this file). Ties go to
** the first point in sorted order, so what is dropped depends on the points, not on their order.
**
** Most survivors of the first round are points of walls and floors close to P's boundary, and a
** point strictly inside P has to be checked against every facet. A coarse grid cuts that down:
** for each cell, a facet whose plane the whole cell lies clearly behind cannot reject any point of
** the cell (its computed distance is below -tol even with rounding, see PLANE_SLACK), so the cell
** lists only the facets that might. The verdict for each point is exactly that of testing every
** facet (same expression, and a facet left out is one that would have passed). A point outside
** stops at the first facet it is above, and is the candidate for that facet if it is the
** farthest there so far.
*/
#define PREFILTER_MIN 4096
#define PREFILTER_ROUNDS 3
#define PREFILTER_SAMPLE 8192   /* points looked at for the first polytope */
/* Rounding of n.(q - v) is a few ulps of |q| + |v|; this is a thousand times that. */
#define PLANE_SLACK 1e-12

typedef struct plane3 {
    double n[3], v[3];   /* outward unit normal and a vertex of the facet */
} plane3;

static int inside_poly(const hull3 *h, const double *q, double tol)
{
    for(int f = 0; f < h->nf; f++){
        const double *v = h->v + 3 * h->fVert[h->fStart[f]];
        double d[3] = { q[0] - v[0], q[1] - v[1], q[2] - v[2] };
        if( sptt_dot3(h->nrm + 3 * f, d) >= -tol ) return 0;
    }
    return 1;
}

/* Grid of G^3 cells over [lo, hi]; cell index of a point, clamped. */
typedef struct cell_grid {
    int G;
    double lo[3], inv[3], size[3];
} cell_grid;

static int grid_cell(const cell_grid *g, const double *q)
{
    int c[3];
    for(int k = 0; k < 3; k++){
        /* Truncation is floor for t >= 1; below that the cell is 0 anyway. */
        double t = (q[k] - g->lo[k]) * g->inv[k];
        c[k] = t < 1 ? 0 : t >= g->G ? g->G - 1 : (int)t;
    }
    return (c[2] * g->G + c[1]) * g->G + c[0];
}

/* One round's polytope: its facets and, per grid cell, the facets that may reject a point there. */
typedef struct cull_poly {
    int nf;
    plane3 *pl;
    int *cStart, *cList;
    cell_grid g;
} cull_poly;

static void cull_poly_free(cull_poly *c)
{
    free(c->pl);
    free(c->cStart);
    free(c->cList);
    memset(c, 0, sizeof *c);
}

/* lo, hi: bounds of every point that will be tested; B: largest |coordinate|. */
static int cull_poly_build(const hull3 *h, const double *lo, const double *hi, int G, double B, double L, double tol,
                           cull_poly *c)
{
    /* A cell is widened by a tenth on each side, which covers any rounding in grid_cell. */
    double slack = tol + PLANE_SLACK * (B + L);
    int nCells = G * G * G, w = 0;
    memset(c, 0, sizeof *c);
    c->nf = h->nf;
    c->g.G = G;
    for(int k = 0; k < 3; k++){
        c->g.lo[k] = lo[k];
        c->g.size[k] = (hi[k] - lo[k]) / G;
        c->g.inv[k] = c->g.size[k] > 0 ? 1 / c->g.size[k] : 0;
    }
    c->pl = sptt_malloc((size_t)(h->nf ? h->nf : 1) * sizeof(plane3));
    c->cStart = sptt_malloc((size_t)(nCells + 1) * sizeof(int));
    c->cList = sptt_malloc((size_t)nCells * (h->nf ? h->nf : 1) * sizeof(int));
    if( c->pl==NULL || c->cStart==NULL || c->cList==NULL ){
        cull_poly_free(c);
        return SPTT_ENOMEM;
    }
    for(int f = 0; f < h->nf; f++){
        memcpy(c->pl[f].n, h->nrm + 3 * f, 3 * sizeof(double));
        memcpy(c->pl[f].v, h->v + 3 * h->fVert[h->fStart[f]], 3 * sizeof(double));
    }
    {
        /* A cell's farthest point along a facet's normal is a sum over the three axes, each
        ** term depending on one cell coordinate: the terms are tabled per facet and axis. */
        double *term = sptt_malloc((size_t)3 * G * (h->nf ? h->nf : 1) * sizeof(double));
        if( term==NULL ){
            cull_poly_free(c);
            return SPTT_ENOMEM;
        }
        for(int f = 0; f < h->nf; f++)
            for(int k = 0; k < 3; k++)
                for(int ci = 0; ci < G; ci++){
                    const plane3 *pf = c->pl + f;
                    double clo = c->g.lo[k] + (ci - 0.1) * c->g.size[k], chi = c->g.lo[k] + (ci + 1.1) * c->g.size[k];
                    term[((size_t)k * G + ci) * h->nf + f] = pf->n[k] * ((pf->n[k] > 0 ? chi : clo) - pf->v[k]);
                }
        for(int cz = 0; cz < G; cz++)
            for(int cy = 0; cy < G; cy++)
                for(int cx = 0; cx < G; cx++){
                    const double *t0 = term + (size_t)cx * h->nf, *t1 = term + ((size_t)G + cy) * h->nf,
                                 *t2 = term + ((size_t)2 * G + cz) * h->nf;
                    c->cStart[(cz * G + cy) * G + cx] = w;
                    for(int f = 0; f < h->nf; f++){
                        double far = 0;
                        far += t0[f];
                        far += t1[f];
                        far += t2[f];
                        if( far >= -slack ) c->cList[w++] = f;
                    }
                }
        free(term);
    }
    c->cStart[nCells] = w;
    return SPTT_OK;
}

/* Point a before point b in lexicographic order (x, then y, then z). */
static int lex_before(const double *p, int a, int b)
{
    const double *u = p + 3 * (size_t)a, *v = p + 3 * (size_t)b;
    if( u[0]!=v[0] ) return u[0] < v[0];
    if( u[1]!=v[1] ) return u[1] < v[1];
    return u[2] < v[2];
}

/*
** 1 when point id is not strictly inside the polytope; then the first facet it is above (in the
** cell's order) records it if it is the farthest above that facet so far, a tie going to the
** point first in lexicographic order. Sorted input meets its points in that order, so there the
** rule is "the first one met"; unsorted input gets the same choice whatever its order.
*/
static int cull_point(const cull_poly *c, const double *p, int id, double tol, int *far, double *farD)
{
    const double *q = p + 3 * (size_t)id;
    const int cell = grid_cell(&c->g, q), *lst = c->cList + c->cStart[cell], nl = c->cStart[cell + 1] - c->cStart[cell];
    for(int t = 0; t < nl; t++){
        const plane3 *pf = c->pl + lst[t];
        double d[3] = { q[0] - pf->v[0], q[1] - pf->v[1], q[2] - pf->v[2] }, dist = sptt_dot3(pf->n, d);
        if( dist >= -tol ){
            if( dist > farD[lst[t]] || (dist==farD[lst[t]] && lex_before(p, id, far[lst[t]])) ){
                farD[lst[t]] = dist;
                far[lst[t]] = id;
            }
            return 1;
        }
    }
    return 0;
}

/* Keeps the points ids[0..n) that are not strictly inside the polytope (returns the new count,
** order kept), with far and farD as cull_point leaves them (far[f] = -1: no point above f). */
static int cull_points(const cull_poly *c, const double *p, int *ids, int n, double tol, int *far, double *farD)
{
    int m = 0;
    for(int f = 0; f < c->nf; f++){
        far[f] = -1;
        farD[f] = -INFINITY;
    }
    for(int i = 0; i < n; i++){
        ids[m] = ids[i];
        m += cull_point(c, p, ids[i], tol, far, farD);
    }
    return m;
}

/* About 64 points a cell, and at most 2^22 cell-facet pairs. */
static int grid_size(int n, int nf)
{
    int G = (int)fmin(16, fmax(2, cbrt((double)n / 32)));
    while( G > 2 && (double)G * G * G * nf > 4194304.0 ) G--;
    return G;
}

/* Sorts n points (x, y, z) and drops repeats; returns the count kept. */
static int unique_points(double *e, int n)
{
    int w = 0;
    if( geo_sort_lex3(e, (size_t)n) ) qsort(e, (size_t)n, 3 * sizeof(double), geo_cmp_lex3);
    for(int i = 0; i < n; i++){
        const double *a = e + 3 * i, *b = e + 3 * (w - 1);
        if( w > 0 && a[0]==b[0] && a[1]==b[1] && a[2]==b[2] ) continue;
        memmove(e + 3 * w, e + 3 * i, 3 * sizeof(double));
        w++;
    }
    return w;
}

/* Whether a point is in a sample of about one in 2^bits chosen by its coordinates alone, so
** that the same points are drawn whatever their order. */
static int in_sample(const double *q, int bits)
{
    uint64_t h = 0;
    if( bits==0 ) return 1;
    for(int k = 0; k < 3; k++){
        uint64_t u;
        memcpy(&u, q + k, sizeof u);
        h = (h ^ u) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return (h >> (64 - bits))==0;
}

/* cloud: pp->p is in any order and may repeat points (see sptt_obb_minimal_cloud). Then the
** points looked at for the extremes are drawn by their coordinates, ties go to the point first in
** lexicographic order, and the polytope's vertices are sorted and deduplicated: nothing depends on
** the order of the points. */
static double *prefilter(const prepared *pp, int *pm, int cloud)
{
    double ext[26][3], *out = NULL, *E = NULL, L = fmax(pp->ext[0], fmax(pp->ext[1], pp->ext[2])), tol = 1e-9 * L;
    double hiv[13], lov[13], lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    double blo[3], bhi[3], c[3] = {0}, B = 0, *farD = NULL;
    int nExt = 0, ihi[13], ilo[13], m = 0, sc = 0, *ids = NULL, *far = NULL, *eIds = NULL, nE = 0;
    uint8_t *inE = NULL;
    size_t stride = !cloud && pp->m / PREFILTER_SAMPLE > 1 ? pp->m / PREFILTER_SAMPLE : 1;
    int sampleBits = 0;
    int nTested = 0;
    cull_poly cp;
    hull3 h;
    memset(&cp, 0, sizeof cp);
    memset(&h, 0, sizeof h);
    while( cloud && sampleBits < 20 && ((size_t)PREFILTER_SAMPLE << (sampleBits + 1)) <= pp->m ) sampleBits++;
    for(int d = 0; d < 13; d++){
        hiv[d] = -INFINITY;
        lov[d] = INFINITY;
        ihi[d] = ilo[d] = 0;
    }
    /* Each direction and its opposite from one projection: strict comparisons keep the first
    ** (lowest sorted) point on ties. Every few thousandth point is enough: P need only be the
    ** hull of some points, and the rounds below grow it. */
    for(size_t i = 0; i < pp->m; i += stride){
        const double x = pp->p[3 * i], y = pp->p[3 * i + 1], z = pp->p[3 * i + 2];
        if( cloud && !in_sample(pp->p + 3 * i, sampleBits) ) continue;
        const double v[13] = { x, y, z, x + y, x - y, x + z, x - z, y + z, y - z, x + y + z, x + y - z, x - y + z, x - y - z };
        for(int d = 0; d < 13; d++){
            if( v[d] > hiv[d] || (cloud && v[d]==hiv[d] && lex_before(pp->p, (int)i, ihi[d])) ){
                hiv[d] = v[d];
                ihi[d] = (int)i;
            }
            if( v[d] < lov[d] || (cloud && v[d]==lov[d] && lex_before(pp->p, (int)i, ilo[d])) ){
                lov[d] = v[d];
                ilo[d] = (int)i;
            }
        }
    }
    eIds = sptt_malloc((size_t)pp->m * sizeof(int));
    inE = sptt_calloc(pp->m, 1);
    ids = sptt_malloc((size_t)pp->m * sizeof(int));
    if( eIds==NULL || inE==NULL || ids==NULL ) goto cleanup;
    for(int d = 0; d < 26; d++){
        int idx = d < 13 ? ihi[d] : ilo[d - 13];
        if( inE[idx] ) continue;
        inE[idx] = 1;
        eIds[nE++] = idx;
        memcpy(ext[nExt++], pp->p + 3 * idx, 3 * sizeof(double));
    }
    if( cloud ) nExt = unique_points(&ext[0][0], nExt);
    if( nExt < 4 ) goto cleanup;
    if( hull3_build(&ext[0][0], nExt, &h) ) goto cleanup;   /* flat extremes: no filtering */
    /* The largest scaled copy of the extremes' bounding box, about their centroid, that P holds. */
    for(int e = 0; e < nExt; e++)
        for(int k = 0; k < 3; k++){
            c[k] += ext[e][k] / nExt;
            lo[k] = fmin(lo[k], ext[e][k]);
            hi[k] = fmax(hi[k], ext[e][k]);
        }
    for(sc = 9; sc > 0; sc--){
        int ok = 1;
        for(int k = 0; k < 3; k++){
            blo[k] = c[k] + (lo[k] - c[k]) * sc / 10.0;
            bhi[k] = c[k] + (hi[k] - c[k]) * sc / 10.0;
        }
        for(int corner = 0; corner < 8 && ok; corner++){
            double q[3] = { corner & 1 ? bhi[0] : blo[0], corner & 2 ? bhi[1] : blo[1], corner & 4 ? bhi[2] : blo[2] };
            ok = inside_poly(&h, q, tol);
        }
        if( ok ) break;
    }
    /* The grids span the points. */
    for(int k = 0; k < 3; k++){
        lo[k] = pp->lo[k];
        hi[k] = pp->hi[k];
        B = fmax(B, fmax(fabs(lo[k]), fabs(hi[k])));
    }
    /* The first round over all points, with the box inside P answering most of those deep
    ** inside. */
    if( cull_poly_build(&h, lo, hi, grid_size((int)pp->m, h.nf), B, L, tol, &cp) ) goto cleanup;
    far = sptt_malloc((size_t)(cp.nf ? cp.nf : 1) * sizeof(int));
    farD = sptt_malloc((size_t)(cp.nf ? cp.nf : 1) * sizeof(double));
    if( far==NULL || farD==NULL ) goto cleanup;
    for(int f = 0; f < cp.nf; f++){
        far[f] = -1;
        farD[f] = -INFINITY;
    }
    for(size_t i = 0; i < pp->m; i++){
        const double *q = pp->p + 3 * i;
        /* P is convex, so the box inside it (corners inside) is inside it too. */
        if( sc > 0 && q[0] > blo[0] && q[0] < bhi[0] && q[1] > blo[1] && q[1] < bhi[1] && q[2] > blo[2] && q[2] < bhi[2] ) continue;
        ids[m] = (int)i;
        m += cull_point(&cp, pp->p, ids[m], tol, far, farD);
        nTested++;
    }
    for(int round = 1; round < PREFILTER_ROUNDS && m >= 256 && m <= nTested / 4 * 3; round++){
        int before = m, grown = 0;
        {
            /* P grows by the farthest point above each of its facets. */
            double *e2;
            for(int f = 0; f < cp.nf; f++){
                if( far[f] < 0 || inE[far[f]] ) continue;
                inE[far[f]] = 1;
                eIds[nE++] = far[f];
                grown++;
            }
            cull_poly_free(&cp);
            if( grown==0 ) break;
            e2 = sptt_realloc(E, (size_t)nE * 3 * sizeof(double));
            if( e2==NULL ) goto cleanup;
            E = e2;
            for(int e = 0; e < nE; e++) memcpy(E + 3 * e, pp->p + 3 * eIds[e], 3 * sizeof(double));
            hull3_free(&h);
            if( hull3_build(E, cloud ? unique_points(E, nE) : nE, &h) ) break;   /* keep what the last polytope left */
        }
        if( cull_poly_build(&h, lo, hi, grid_size(m, h.nf), B, L, tol, &cp) ) goto cleanup;
        free(far);
        free(farD);
        far = sptt_malloc((size_t)(cp.nf ? cp.nf : 1) * sizeof(int));
        farD = sptt_malloc((size_t)(cp.nf ? cp.nf : 1) * sizeof(double));
        if( far==NULL || farD==NULL ) goto cleanup;
        m = cull_points(&cp, pp->p, ids, m, tol, far, farD);
        /* Another round costs a small hull and a pass over the survivors: worth it while they
        ** are many and still shrinking fast. */
        if( m < 256 || m > before / 4 * 3 ) break;
    }
    out = sptt_malloc((size_t)(m ? m : 1) * 3 * sizeof(double));
    if( out ){
        for(int i = 0; i < m; i++) memcpy(out + 3 * i, pp->p + 3 * ids[i], 3 * sizeof(double));
        *pm = m;
    }
cleanup:
    cull_poly_free(&cp);
    hull3_free(&h);
    free(E);
    free(ids);
    free(eIds);
    free(inE);
    free(far);
    free(farD);
    return out;
}

/* The minimal box of prepared points; and, when upright is not NULL, the upright box too if the
** hull gives it on the way (*pUpDone set then). */
static int minimal_prepared(const prepared *pp, sptt_box *box, sptt_box *upright, int *pUpDone)
{
    double Rup[9];
    hull3 h;
    double R[9];
    unsigned flags = 0;
    int rc = SPTT_OK, dim;

    memset(&h, 0, sizeof h);
    dim = dimension_class(pp);
    memcpy(R, pp->pca, sizeof R);
    if( dim==3 || dim==2 ){
        flags = dim==2 ? SPTT_BOX_COLLINEAR : 0;
    }else if( dim==1 ){
        flags = SPTT_BOX_COPLANAR;
        rc = planar_frame(pp, R);
    }else{
        double *kept = NULL;
        int nKept = (int)pp->m;
        if( pp->m >= PREFILTER_MIN ) kept = prefilter(pp, &nKept, 0);
        rc = hull3_build(kept ? kept : pp->p, nKept, &h);
        free(kept);
        if( rc==SPTT_ECORRUPT ){
            /* Qhull refused (precision, or flat beyond our tolerance): the best of the frames that
            ** need no hull, refined on all points. */
            double *work = sptt_malloc(REFINE_WORK_DOUBLES(pp->m) * sizeof(double));
            double U[9], vP, vU;
            const refine_moves *moves = refine_moves_get();
            if( work==NULL ){
                rc = SPTT_ENOMEM;
                goto cleanup;
            }
            flags = SPTT_BOX_HULL_FAILED;
            upright_frame(pp->p, (int)pp->m, work, U);
            vP = frame_volume(pp->pca, pp->p, (int)pp->m);
            vU = frame_volume(U, pp->p, (int)pp->m);
            if( vU < vP ) memcpy(R, U, sizeof U);
            refine(R, pp->p, (int)pp->m, fmin(vP, vU), moves, work);
            free(work);
            rc = SPTT_OK;
        }else if( rc==SPTT_OK ){
            rc = search_hull(pp, &h, R, upright ? Rup : NULL);
            if( rc==SPTT_OK && upright ){
                finish_box(pp, Rup, 0, upright);
                *pUpDone = 1;
            }
        }
    }
    if( rc ) goto cleanup;
    finish_box(pp, R, flags, box);
cleanup:
    hull3_free(&h);
    return rc;
}

/* The upright box of prepared points. */
static int upright_prepared(const prepared *pp, sptt_box *box)
{
    double R[9], *work = NULL;
    unsigned flags = 0;
    int dim = dimension_class(pp);
    if( dim==1 ) flags = SPTT_BOX_COPLANAR;
    if( dim==2 || dim==3 ) flags = SPTT_BOX_COLLINEAR;
    work = sptt_malloc(WORK_DOUBLES(pp->m) * sizeof(double));
    if( work==NULL ) return SPTT_ENOMEM;
    upright_frame(pp->p, (int)pp->m, work, R);
    finish_box(pp, R, flags, box);
    free(work);
    return SPTT_OK;
}

int sptt_obb_minimal(const double *xyz, size_t n, sptt_box *box)
{
    prepared pp;
    int rc;
    memset(box, 0, sizeof *box);
    if( n > (size_t)0x7fffffff ) return sptt_fail(SPTT_EINVAL, "box: %zu points is more than Qhull takes", n);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    rc = minimal_prepared(&pp, box, NULL, NULL);
    prepared_free(&pp);
    return rc;
}

/*
** Large clouds (the room's every point) skip the sort and deduplication of all their points: the
** prefilter runs on them as given, in an order-independent way (see prefilter), centred on their
** bounding box, and only what it keeps, a superset of the hull's vertices, is prepared and
** searched as usual. The box is the one the search finds for those points, whose extents in any
** frame are those of the whole cloud. nDistinct is then not counted (0).
*/
int sptt_obb_minimal_cloud(const float *xyz, size_t n, sptt_box *box)
{
    prepared pc, pp;
    double c[3], *kept = NULL;
    float lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    int nKept = 0, rc = SPTT_OK;
    memset(box, 0, sizeof *box);
    memset(&pc, 0, sizeof pc);
    memset(&pp, 0, sizeof pp);
    if( n==0 ) return sptt_fail(SPTT_EINVAL, "box: no points");
    if( n > (size_t)0x7fffffff ) return sptt_fail(SPTT_EINVAL, "box: %zu points is more than Qhull takes", n);
    for(size_t i = 0; i < n; i++)
        for(int k = 0; k < 3; k++){
            const float v = xyz[3 * i + k];
            if( !isfinite(v) ) return sptt_fail(SPTT_EINVAL, "point %zu: non-finite coordinate", i);
            lo[k] = v < lo[k] ? v : lo[k];
            hi[k] = v > hi[k] ? v : hi[k];
        }
    pc.p = sptt_malloc(sptt_mul_size(n, 3 * sizeof(double)));
    if( pc.p==NULL ) return SPTT_ENOMEM;
    if( n < PREFILTER_MIN ){
        for(size_t i = 0; i < 3 * n; i++) pc.p[i] = xyz[i];
        rc = sptt_obb_minimal(pc.p, n, box);
        goto cleanup;
    }
    for(int k = 0; k < 3; k++){
        c[k] = ((double)lo[k] + (double)hi[k]) / 2;
        pc.lo[k] = lo[k] - c[k];
        pc.hi[k] = hi[k] - c[k];
        pc.ext[k] = (double)hi[k] - (double)lo[k];
    }
    for(size_t i = 0; i < n; i++)
        for(int k = 0; k < 3; k++) pc.p[3 * i + k] = xyz[3 * i + k] - c[k];
    pc.m = pc.n = n;
    kept = prefilter(&pc, &nKept, 1);
    rc = kept ? prepare(kept, (size_t)nKept, &pp) : prepare(pc.p, n, &pp);
    if( rc ) goto cleanup;
    rc = minimal_prepared(&pp, box, NULL, NULL);
    if( rc ) goto cleanup;
    for(int k = 0; k < 3; k++) box->center[k] += c[k];
    box->nPoints = n;
    if( kept ){
        box->nDistinct = 0;
        box->flags &= ~(unsigned)SPTT_BOX_DUPLICATES;
    }
cleanup:
    prepared_free(&pc);
    prepared_free(&pp);
    free(kept);
    return rc;
}

int sptt_obb_upright(const double *xyz, size_t n, sptt_box *box)
{
    prepared pp;
    int rc;
    memset(box, 0, sizeof *box);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    rc = upright_prepared(&pp, box);
    prepared_free(&pp);
    return rc;
}

int sptt_obb_fit(const double *xyz, size_t n, sptt_box *minimal, sptt_box *upright)
{
    prepared pp;
    int rc, upDone = 0;
    memset(minimal, 0, sizeof *minimal);
    memset(upright, 0, sizeof *upright);
    if( n > (size_t)0x7fffffff ) return sptt_fail(SPTT_EINVAL, "box: %zu points is more than Qhull takes", n);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    rc = minimal_prepared(&pp, minimal, upright, &upDone);
    if( rc==SPTT_OK && !upDone ) rc = upright_prepared(&pp, upright);
    prepared_free(&pp);
    return rc;
}

int sptt_obb_pca(const double *xyz, size_t n, sptt_box *box)
{
    prepared pp;
    int rc;
    memset(box, 0, sizeof *box);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    finish_box(&pp, pp.pca, 0, box);
    prepared_free(&pp);
    return SPTT_OK;
}

int sptt_obb_aabb(const double *xyz, size_t n, sptt_box *box)
{
    prepared pp;
    double I[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    int rc;
    memset(box, 0, sizeof *box);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    finish_box(&pp, I, 0, box);
    prepared_free(&pp);
    return SPTT_OK;
}

int sptt_box_contains(const sptt_box *b, const double *p, double tol)
{
    double d[3] = { p[0] - b->center[0], p[1] - b->center[1], p[2] - b->center[2] };
    for(int k = 0; k < 3; k++)
        if( fabs(sptt_dot3(b->axes + 3 * k, d)) > b->size[k] / 2 + tol ) return 0;
    return 1;
}

void sptt_box_corners(const sptt_box *b, double *corners)
{
    for(int i = 0; i < 8; i++){
        double s[3] = { (i & 1) ? 0.5 : -0.5, (i & 2) ? 0.5 : -0.5, (i & 4) ? 0.5 : -0.5 };
        for(int k = 0; k < 3; k++){
            corners[3 * i + k] = b->center[k];
            for(int r = 0; r < 3; r++) corners[3 * i + k] += s[r] * b->size[r] * b->axes[3 * r + k];
        }
    }
}
