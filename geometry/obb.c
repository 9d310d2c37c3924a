/*
** Oriented bounding boxes: minimal-volume, upright (yaw only), PCA and axis-aligned.
**
** Minimal-volume algorithm and what it guarantees
** ------------------------------------------------
** 1. Qhull builds the convex hull H of the points: a box holds the points iff it holds H. Large
**    inputs first lose the points strictly inside the polytope of their 26 extreme points
**    (Akl-Toussaint), which cannot be hull vertices.
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
** result bit-identical for any order of the same points.
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
    for(size_t i = 0; i < pp->m; i++){
        double *q = pp->p + 3 * i;
        for(int k = 0; k < 3; k++) q[k] -= pp->mean[k];
        for(int a = 0; a < 3; a++)
            for(int b = 0; b < 3; b++) C[3 * a + b] += q[a] * q[b];
    }
    geo_eig3_sym(C, vals, pp->pca);
    {
        sptt_box b;
        double zero[3] = {0};
        geo_box_in_frame(pp->pca, pp->p, pp->m, zero, &b);
        memcpy(pp->ext, b.size, sizeof pp->ext);
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
** Vertices that can still be extreme along some row of R after the frame turns by at most
** `angle` radians: a turn moves the projection of v by at most |v| * angle, so anything farther
** than twice that from the current extremes cannot overtake them. Returns the count copied.
*/
static int active_set(const double *R, const double *v, int nv, double rmax, double angle, double *out)
{
    double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    double margin = 2 * rmax * angle * 1.01 + 1e-12;
    int n = 0;
    for(int i = 0; i < nv; i++){
        for(int k = 0; k < 3; k++){
            double d = sptt_dot3(R + 3 * k, v + 3 * i);
            if( d < lo[k] ) lo[k] = d;
            if( d > hi[k] ) hi[k] = d;
        }
    }
    for(int i = 0; i < nv; i++){
        int keep = 0;
        for(int k = 0; k < 3 && !keep; k++){
            double d = sptt_dot3(R + 3 * k, v + 3 * i);
            keep = d <= lo[k] + margin || d >= hi[k] - margin;
        }
        if( keep ) memcpy(out + 3 * n++, v + 3 * i, 3 * sizeof(double));
    }
    return n;
}

/*
** Pattern search on SO(3): turns of +-step about 13 axes given in the box's own frame (its 3
** axes, 6 face diagonals, 4 body diagonals), the first strict decrease taken, the step halved
** when none decreases. The diagonal turns let it leave the ridges where turning about one axis
** at a time cannot decrease the volume. Monotone, so it can only improve its start. Volumes are
** measured on the active set, rebuilt before the frame has turned far enough to leave it.
** v must be centred (|v| bounds the motion); work holds 3*nv doubles.
*/
#define MOVES_PER_SET 3
static double refine(double *R, const double *v, int nv, double vol, double *work)
{
    double rmax = 0;
    for(int i = 0; i < nv; i++) rmax = fmax(rmax, sptt_norm3(v + 3 * i));
    for(double step = 0.1; step > 1e-6; step *= 0.5){
        double G[26][9];
        int nG = 0, nAct, moves = 0;
        /* Below a degree the single-axis turns suffice and cost a quarter. */
        int axesOnly = step < 0.015;
        for(int a = -1; a <= 1; a++)
            for(int b = -1; b <= 1; b++)
                for(int c = -1; c <= 1; c++){
                    double w[3] = { a, b, c }, len = sqrt((double)(a * a + b * b + c * c));
                    if( len==0 || a < 0 || (a==0 && b < 0) || (a==0 && b==0 && c < 0) ) continue;
                    if( axesOnly && len > 1 ) continue;
                    for(int sgn = -1; sgn <= 1; sgn += 2){
                        double ww[3] = { sgn * step * w[0] / len, sgn * step * w[1] / len, sgn * step * w[2] / len };
                        /* R' = G R mixes the rows: a turn about an axis of the box's own frame. */
                        sptt_axis_angle_to_matrix(ww, G[nG++]);
                    }
                }
        assert(nG==(axesOnly ? 6 : 26));
        nAct = active_set(R, v, nv, rmax, (MOVES_PER_SET + 1) * step, work);
        for(int iter = 0; iter < 256; iter++){
            int improved = 0;
            for(int g = 0; g < nG && !improved; g++){
                double T[9], t;
                sptt_mul3(G[g], R, T);
                t = frame_volume(T, work, nAct);
                if( t < vol * (1 - 1e-13) ){
                    memcpy(R, T, sizeof T);
                    geo_orthonormalize(R);
                    vol = frame_volume(R, work, nAct);
                    improved = 1;
                }
            }
            if( !improved ) break;
            if( ++moves % MOVES_PER_SET==0 ) nAct = active_set(R, v, nv, rmax, (MOVES_PER_SET + 1) * step, work);
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
    char cmd[] = "qhull ";
    int rc = SPTT_OK, exitcode, curlong, totlong, nInc = 0;
    int *map = NULL, *fmap = NULL;
    facetT *facet, *neighbor, **neighborp;
    vertexT *vertex, **vertexp;

    memset(h, 0, sizeof *h);
    if( (rc = geo_errstream_open(&es)) ) return rc;
    qh = sptt_calloc(1, sizeof(qhT));
    map = sptt_malloc((size_t)m * sizeof(int));
    if( qh==NULL || map==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(int i = 0; i < m; i++) map[i] = -1;
    qh_zero(qh, es.fp);
    exitcode = qh_new_qhull(qh, 3, m, pts, False, cmd, NULL, es.fp);
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
        /* Always, even after an error: long memory first, then the short-memory pools. */
        qh_freeqhull(qh, !qh_ALL);
        qh_memfreeshort(qh, &curlong, &totlong);
        assert(curlong==0 && totlong==0);
        free(qh);
    }
    geo_errstream_close(&es);
    free(map);
    free(fmap);
    if( rc ) hull3_free(h);
    return rc;
}

static int cmp_dir(const void *a, const void *b)
{
    const double *p = a, *q = b;
    for(int k = 0; k < 3; k++)
        if( p[k]!=q[k] ) return p[k] < q[k] ? -1 : 1;
    return 0;
}

typedef struct cand {
    double vol;
    int index;
    double R[9];
} cand;

/* Volume, then creation order: equal volumes must not be ordered by chance. */
static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if( x->vol!=y->vol ) return x->vol < y->vol ? -1 : 1;
    return x->index - y->index;
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
    qsort(dirs, (size_t)n, 3 * sizeof(double), cmp_dir);
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
/* Every candidate is refined while this is cheap (candidates x hull vertices). */
#define REFINE_ALL_BUDGET 1024

static int search_hull(const prepared *pp, const hull3 *h, double *Rbest)
{
    int rc = SPTT_OK, nDir = 0, nCand = 0, nEdgeDir = 0, capDir;
    double *dirs = NULL, *sil = NULL, *work = NULL, *edirs = NULL;
    signed char *side = NULL;
    int *stamp = NULL;
    cand *cands = NULL, *bounds = NULL;
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
    work = sptt_malloc(WORK_DOUBLES(h->nv) * sizeof(double));
    cands = sptt_malloc((size_t)(capDir + 3) * sizeof(cand));
    bounds = sptt_malloc((size_t)(capDir ? capDir : 1) * sizeof(cand));
    if( !dirs || !side || !stamp || !sil || !work || !cands || !bounds ){
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
    for(int i = 0; i < nDir; i++){
        const double *n = dirs + 3 * i;
        double lo = INFINITY, hi = -INFINITY, a = 0;
        for(int v = 0; v < h->nv; v++){
            double d = sptt_dot3(n, h->v + 3 * v);
            if( d < lo ) lo = d;
            if( d > hi ) hi = d;
        }
        for(int f = 0; f < h->nf; f++) a += h->area[f] * fabs(sptt_dot3(n, h->nrm + 3 * f));
        bounds[i].vol = (hi - lo) * a / 2 * (1 - 1e-9);
        bounds[i].index = i;
    }
    qsort(bounds, (size_t)nDir, sizeof(cand), cmp_cand);
    /* The frames the result must never be worse than come first: they set the incumbent. */
    memcpy(cands[nCand++].R, pp->pca, 9 * sizeof(double));
    {
        double I[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        memcpy(cands[nCand++].R, I, sizeof I);
    }
    upright_frame(h->v, h->nv, work, cands[nCand++].R);
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
            side[f] = (signed char)(d > 1e-7 ? 1 : d < -1e-7 ? -1 : 0);
            if( side[f]==0 )
                for(int t = h->fStart[f]; t < h->fStart[f + 1]; t++) stamp[h->fVert[t]] = b + 1;
        }
        for(int e = 0; e < h->ne; e++)
            if( side[h->edgeFacets[2 * e]] * side[h->edgeFacets[2 * e + 1]] < 0 ){
                stamp[h->edges[2 * e]] = b + 1;
                stamp[h->edges[2 * e + 1]] = b + 1;
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
    qsort(cands, (size_t)nCand, sizeof(cand), cmp_cand);
    {
        double best = INFINITY;
        int all = (double)nCand * h->nv <= REFINE_ALL_BUDGET;
        for(int c = 0; c < nCand; c++){
            double R[9], vol;
            if( !all && c >= N_REFINE ) break;
            memcpy(R, cands[c].R, sizeof R);
            vol = refine(R, h->v, h->nv, cands[c].vol, work);
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
** Akl-Toussaint prefilter for large inputs: the points extreme along 26 directions span a polytope
** P inside the hull; a point strictly inside P is no hull vertex, so Qhull need not see it. Ties
** go to the first point in sorted order, so what is dropped depends on the points, not on their
** order. An axis-aligned box inside P answers most points with six comparisons. Returns the
** kept points (caller frees) or NULL to use all of them.
*/
#define PREFILTER_MIN 4096
static int inside_poly(const hull3 *h, const double *q, double tol)
{
    for(int f = 0; f < h->nf; f++){
        const double *v = h->v + 3 * h->fVert[h->fStart[f]];
        double d[3] = { q[0] - v[0], q[1] - v[1], q[2] - v[2] };
        if( sptt_dot3(h->nrm + 3 * f, d) >= -tol ) return 0;
    }
    return 1;
}

static double *prefilter(const prepared *pp, int *pm)
{
    double ext[26][3], *out = NULL, L = fmax(pp->ext[0], fmax(pp->ext[1], pp->ext[2])), tol = 1e-9 * L;
    double hiv[13], lov[13], lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    double blo[3], bhi[3], c[3] = {0};
    int nExt = 0, ihi[13], ilo[13], m = 0, sc = 0;
    hull3 h;
    for(int d = 0; d < 13; d++){
        hiv[d] = -INFINITY;
        lov[d] = INFINITY;
        ihi[d] = ilo[d] = 0;
    }
    /* Each direction and its opposite from one projection: strict comparisons keep the first
    ** (lowest sorted) point on ties. */
    for(size_t i = 0; i < pp->m; i++){
        const double x = pp->p[3 * i], y = pp->p[3 * i + 1], z = pp->p[3 * i + 2];
        const double v[13] = { x, y, z, x + y, x - y, x + z, x - z, y + z, y - z, x + y + z, x + y - z, x - y + z, x - y - z };
        for(int d = 0; d < 13; d++){
            if( v[d] > hiv[d] ){
                hiv[d] = v[d];
                ihi[d] = (int)i;
            }
            if( v[d] < lov[d] ){
                lov[d] = v[d];
                ilo[d] = (int)i;
            }
        }
    }
    for(int d = 0; d < 26; d++){
        int idx = d < 13 ? ihi[d] : ilo[d - 13], dup = 0;
        for(int e = 0; e < d && !dup; e++) dup = (e < 13 ? ihi[e] : ilo[e - 13])==idx;
        if( dup ) continue;
        memcpy(ext[nExt++], pp->p + 3 * idx, 3 * sizeof(double));
    }
    if( nExt < 4 ) return NULL;
    if( hull3_build(&ext[0][0], nExt, &h) ) return NULL;   /* flat extremes: no filtering */
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
    out = sptt_malloc(pp->m * 3 * sizeof(double));
    if( out ){
        for(size_t i = 0; i < pp->m; i++){
            const double *q = pp->p + 3 * i;
            /* P is convex, so the box inside it (corners inside) is inside it too. */
            if( sc > 0 && q[0] > blo[0] && q[0] < bhi[0] && q[1] > blo[1] && q[1] < bhi[1] && q[2] > blo[2] && q[2] < bhi[2] ) continue;
            if( !inside_poly(&h, q, tol) ) memcpy(out + 3 * m++, q, 3 * sizeof(double));
        }
        *pm = m;
    }
    hull3_free(&h);
    return out;
}

int sptt_obb_minimal(const double *xyz, size_t n, sptt_box *box)
{
    prepared pp;
    hull3 h;
    double R[9];
    unsigned flags = 0;
    int rc, dim;

    memset(box, 0, sizeof *box);
    memset(&h, 0, sizeof h);
    if( n > (size_t)0x7fffffff ) return sptt_fail(SPTT_EINVAL, "box: %zu points is more than Qhull takes", n);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    dim = dimension_class(&pp);
    memcpy(R, pp.pca, sizeof R);
    if( dim==3 || dim==2 ){
        flags = dim==2 ? SPTT_BOX_COLLINEAR : 0;
    }else if( dim==1 ){
        flags = SPTT_BOX_COPLANAR;
        rc = planar_frame(&pp, R);
    }else{
        double *kept = NULL;
        int nKept = (int)pp.m;
        if( pp.m >= PREFILTER_MIN ) kept = prefilter(&pp, &nKept);
        rc = hull3_build(kept ? kept : pp.p, nKept, &h);
        free(kept);
        if( rc==SPTT_ECORRUPT ){
            /* Qhull refused (precision, or flat beyond our tolerance): the best of the frames that
            ** need no hull, refined on all points. */
            double *work = sptt_malloc(WORK_DOUBLES(pp.m) * sizeof(double));
            double U[9], vP, vU;
            if( work==NULL ){
                rc = SPTT_ENOMEM;
                goto cleanup;
            }
            flags = SPTT_BOX_HULL_FAILED;
            upright_frame(pp.p, (int)pp.m, work, U);
            vP = frame_volume(pp.pca, pp.p, (int)pp.m);
            vU = frame_volume(U, pp.p, (int)pp.m);
            if( vU < vP ) memcpy(R, U, sizeof U);
            refine(R, pp.p, (int)pp.m, fmin(vP, vU), work);
            free(work);
            rc = SPTT_OK;
        }else if( rc==SPTT_OK ){
            rc = search_hull(&pp, &h, R);
        }
    }
    if( rc ) goto cleanup;
    finish_box(&pp, R, flags, box);
cleanup:
    hull3_free(&h);
    prepared_free(&pp);
    return rc;
}

int sptt_obb_upright(const double *xyz, size_t n, sptt_box *box)
{
    prepared pp;
    double R[9], *work = NULL;
    unsigned flags = 0;
    int rc, dim;

    memset(box, 0, sizeof *box);
    rc = prepare(xyz, n, &pp);
    if( rc ) return rc;
    dim = dimension_class(&pp);
    if( dim==1 ) flags = SPTT_BOX_COPLANAR;
    if( dim==2 || dim==3 ) flags = SPTT_BOX_COLLINEAR;
    work = sptt_malloc(WORK_DOUBLES(pp.m) * sizeof(double));
    if( work==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    upright_frame(pp.p, (int)pp.m, work, R);
    finish_box(&pp, R, flags, box);
cleanup:
    free(work);
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
