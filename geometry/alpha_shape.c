/*
** 2D alpha shape: area with enclosed holes filled, and the outer boundary loops.
**
** Everything follows from the boundary edges of the union U of kept Delaunay triangles (those with
** circumradius R < Rmax): each is an edge with a kept triangle on one side and none on the other,
** directed with U on its left. Tracing them into loops gives, by the shoelace formula, the area of
** U (sum of all signed loop areas), the holes (clockwise loops) and the filled area (the area
** inside the outermost counter-clockwise loops). This is what the reference's polygon union
** computes, without building polygons.
**
** Small inputs go to one Qhull Delaunay call. Qhull's cost per point grows with the input (about
** 3 us at 1e3 points, 11 us at 1e6 here), so large inputs are cut into tiles, and a tile is
** triangulated with only the points that can matter to it. The argument that this is exact:
**
**   Lay a grid of cell size g and let r0 = 1.6 g, so that every open disk of radius r0 contains a
**   whole cell. Call a cell exposed when an empty cell lies within Chebyshev distance 4 of it
**   (within 2 r0 of any of its points). Then
**   (a) a point x in a cell that is not exposed is inside U: every disk of radius Rmax containing
**       x contains a disk of radius r0 containing x, hence a whole cell within 2 r0 of x, which is
**       occupied; so no empty disk of radius >= r0 contains x, and the Delaunay triangle holding
**       x has R < r0 (for r0 <= Rmax) and is kept. No boundary edge has its midpoint there.
**   (b) for an exposed cell C, let P_C be the points within 2 r0 of C plus the points of exposed
**       cells within 2 Rmax of C. Every Delaunay triangle with R < Rmax touching C has its
**       vertices in P_C (a vertex on an empty circle of radius >= r0 sees an empty cell within
**       2 r0, so its cell is exposed), and every triangle of DT(P_C) with R < Rmax touching C is
**       a triangle of DT(P): if its circle held a point q outside P_C, walking the whole cells
**       inside the circle from an empty one (there is one within 2 r0 of C, or the point found
**       is in P_C) to the occupied ones near q meets an occupied cell next to an empty one, whose
**       points are exposed and in P_C, a contradiction.
**   So the kept triangles touching an exposed cell, and with them the boundary edges whose
**   midpoint lies in it, are the same in DT(P_C) as in DT(P). Each tile triangulates the union of
**   P_C over its exposed cells and keeps the edges whose midpoint falls in its own exposed cells.
** In dense regions almost no cell is exposed, so only a thin band along the boundary is ever
** triangulated; tiles run in parallel, one qhT each. The unit tests check that both modes give
** the same edges.
*/
#include "geo_util.h"
#include "sptt_common.h"
#include "sptt_math.h"

#include <libqhull_r/qhull_ra.h>

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TILE_MIN_POINTS 16000   /* below this one Delaunay call is as fast */
#define CELL_POINTS 16.0        /* target points per occupied cell: empty cells then are rare */
#define TILE_POINTS 4096.0      /* target points per tile */
#define EXPOSE_K 4              /* Chebyshev radius covering 2 r0 = 3.2 g */

typedef struct edge_list {
    int32_t *e;          /* (n, 2) directed edges, global point ids */
    size_t n, cap;
    int rc;
} edge_list;

static void edge_push(edge_list *l, int32_t a, int32_t b)
{
    if( l->rc ) return;
    if( l->n==l->cap ){
        size_t cap = l->cap ? 2 * l->cap : 256;
        int32_t *p = sptt_realloc(l->e, cap * 2 * sizeof(int32_t));
        if( p==NULL ){
            l->rc = SPTT_ENOMEM;
            return;
        }
        l->e = p;
        l->cap = cap;
    }
    l->e[2 * l->n] = a;
    l->e[2 * l->n + 1] = b;
    l->n++;
}

/* Which boundary edges a Delaunay call reports: all, or those whose midpoint lies in one of the
** tile's exposed cells. The midpoint is computed from the global coordinates so that every tile
** decides an edge the same way. */
typedef struct owner {
    const double *xy;          /* global points */
    double ox, oy, g;
    int nx, ny;
    int cx0, cy0, cx1, cy1;    /* the tile's cells, [cx0, cx1) x [cy0, cy1) */
    const uint8_t *exposed;    /* NULL: own everything */
    int safeOnly;              /* Qhull's default options at once, no proven fast attempt */
} owner;

static int cell_of(double v, double o, double g, int n)
{
    double c = floor((v - o) / g);
    if( c < 0 ) return 0;
    if( c >= n ) return n - 1;
    return (int)c;
}

static int owns(const owner *w, int32_t a, int32_t b)
{
    double mx, my;
    int cx, cy;
    if( w->exposed==NULL ) return 1;
    mx = (w->xy[2 * a] + w->xy[2 * b]) / 2;
    my = (w->xy[2 * a + 1] + w->xy[2 * b + 1]) / 2;
    cx = cell_of(mx, w->ox, w->g, w->nx);
    cy = cell_of(my, w->oy, w->g, w->ny);
    return cx >= w->cx0 && cx < w->cx1 && cy >= w->cy0 && cy < w->cy1 && w->exposed[(size_t)cy * w->nx + cx];
}

/*
** Qhull first runs without facet merging ('Q0', so no 'Qt' either: every facet is a triangle),
** which skips the merge tests that cost it a tenth of its time. Without merging, rounding can go
** uncorrected, so that result is kept only when it is proven to be the Delaunay triangulation:
** every triangle clearly non-degenerate, the two triangles at each inner edge clearly on either
** side of it and each clearly outside the other's circumcircle (a triangulation whose edges are
** all strictly locally Delaunay is the Delaunay triangulation, and it is unique), the hull edges
** one convex cycle turning clearly left, and every point a vertex. "Clearly" is a relative margin
** far above rounding (and above what Qhull would merge). Otherwise, and on any Qhull error, the
** call is made again with the default options, merging included: near-degenerate input (points
** on a grid, nearly cocircular quadruples) gets exactly the result it always got, and the rest
** gets the same triangles, found faster.
*/
#define DELAUNAY_FAST "qhull d Qbb Qc Qz Q12 Q0"
#define DELAUNAY_SAFE "qhull d Qt Qbb Qc Qz Q12"
#define ORIENT_MARGIN 1e-12
#define INCIRCLE_MARGIN 1e-9

/* Twice the signed area of (a, b, c), or 0 when that is within the margin of rounding. */
static double orient_clear(const double *a, const double *b, const double *c)
{
    double l = (b[0] - a[0]) * (c[1] - a[1]), r = (b[1] - a[1]) * (c[0] - a[0]), det = l - r;
    return fabs(det) > ORIENT_MARGIN * (fabs(l) + fabs(r)) ? det : 0;
}

/* 1 when d is clearly outside the circumcircle of the counter-clockwise triangle (a, b, c). */
static int outside_circle_clear(const double *a, const double *b, const double *c, const double *d)
{
    double adx = a[0] - d[0], ady = a[1] - d[1], bdx = b[0] - d[0], bdy = b[1] - d[1], cdx = c[0] - d[0], cdy = c[1] - d[1];
    double al = adx * adx + ady * ady, bl = bdx * bdx + bdy * bdy, cl = cdx * cdx + cdy * cdy;
    double det = al * (bdx * cdy - cdx * bdy) + bl * (cdx * ady - adx * cdy) + cl * (adx * bdy - bdx * ady);
    double perm = al * (fabs(bdx * cdy) + fabs(cdx * bdy)) + bl * (fabs(cdx * ady) + fabs(adx * cdy)) + cl * (fabs(adx * bdy) + fabs(bdx * ady));
    return det < -INCIRCLE_MARGIN * perm;
}

/*
** What qh_new_qhull does, less qh_prepare_output: for 'd' that marks the "good" facets, a pass
** over every facet whose result nothing here reads (a twentieth of the call). 'Qt' triangulates
** in that step, so it is kept for the options that ask for it.
*/
static int run_delaunay(qhT *qh, int np, double *pts, char *cmd, FILE *errfp)
{
    int exitcode;
    if( !qh->qhmem.ferr ) qh_meminit(qh, errfp);
    else qh_memcheck(qh);
    qh_initqhull_start(qh, NULL, NULL, errfp);
    exitcode = setjmp(qh->errexit);
    if( !exitcode ){
        qh->NOerrexit = False;
        qh_initflags(qh, cmd);
        qh->PROJECTdelaunay = True;
        qh_init_B(qh, pts, np, 2, False);
        qh_qhull(qh);
        qh_check_output(qh);
        if( qh->TRIangulate ) qh_prepare_output(qh);
    }
    qh->NOerrexit = True;
    return exitcode;
}

/*
** The lower facets (the triangles) of a finished Delaunay call, copied out of Qhull's linked
** structures once, so that the proof, the radius test and the edge pass read flat arrays.
** v: the point ids of each triangle; nb[k]: the triangle across the edge opposite v[k], or -1
** for the outside (an upper-Delaunay facet). Returns 0 when a facet is not a triangle with three
** neighbours, or a vertex is not an input point (only the unproven fast path can meet that).
*/
typedef struct tri_mesh {
    int n;
    int32_t (*v)[3];
    int32_t (*nb)[3];
} tri_mesh;

static void tri_mesh_free(tri_mesh *t)
{
    free(t->v);
    free(t->nb);
    memset(t, 0, sizeof *t);
}

static int tri_mesh_extract(qhT *qh, int np, tri_mesh *t, int *pRc)
{
    facetT *facet, *neighbor, **neighborp;
    vertexT *vertex, **vertexp;
    int32_t *map = NULL;
    int ok = 1;
    memset(t, 0, sizeof *t);
    *pRc = SPTT_OK;
    t->v = sptt_malloc((size_t)(qh->num_facets ? qh->num_facets : 1) * sizeof *t->v);
    t->nb = sptt_malloc((size_t)(qh->num_facets ? qh->num_facets : 1) * sizeof *t->nb);
    map = sptt_malloc(((size_t)qh->facet_id + 1) * sizeof(int32_t));
    if( t->v==NULL || t->nb==NULL || map==NULL ){
        *pRc = SPTT_ENOMEM;
        ok = 0;
        goto cleanup;
    }
    /* Neighbours are recorded by Qhull id and translated afterwards, so that the walk reads each
    ** facet once and never follows a pointer into a neighbour. */
    FORALLfacets {
        int k = 0;
        if( facet->upperdelaunay ){
            map[facet->id] = -1;
            continue;
        }
        if( t->n >= qh->num_facets ){
            ok = 0;
            break;
        }
        map[facet->id] = t->n;
        FOREACHvertex_(facet->vertices) {
            int id;
            if( k==3 ){
                k++;
                break;
            }
            id = qh_pointid(qh, vertex->point);
            if( id < 0 || id >= np ) ok = 0;
            t->v[t->n][k++] = id;
        }
        if( k!=3 ) ok = 0;
        k = 0;
        FOREACHneighbor_(facet) {
            if( k==3 ){
                k++;
                break;
            }
            t->nb[t->n][k++] = (int32_t)neighbor->id;
        }
        if( k!=3 ) ok = 0;
        if( !ok ) break;
        t->n++;
    }
    for(int f = 0; ok && f < t->n; f++)
        for(int k = 0; k < 3; k++) t->nb[f][k] = map[t->nb[f][k]];
cleanup:
    free(map);
    if( !ok ) tri_mesh_free(t);
    return ok;
}

/* The proof described above, on the triangles of a fast call on pts (np points). */
static int proven_delaunay(const tri_mesh *t, const double *pts, int np)
{
    int32_t *next = sptt_malloc((size_t)np * sizeof(int32_t));
    uint8_t *seen = sptt_calloc((size_t)np, 1);
    int ok = next!=NULL && seen!=NULL, nHull = 0, nSeen = 0, start = -1;
    for(int i = 0; ok && i < np; i++) next[i] = -1;
    for(int f = 0; ok && f < t->n; f++){
        const int32_t *v = t->v[f];
        double o;
        for(int j = 0; j < 3; j++){
            if( !seen[v[j]] ){
                seen[v[j]] = 1;
                nSeen++;
            }
        }
        o = orient_clear(pts + 2 * v[0], pts + 2 * v[1], pts + 2 * v[2]);
        if( o==0 ){
            ok = 0;
            break;
        }
        for(int k = 0; k < 3; k++){
            const int a = v[(k + 1) % 3], b = v[(k + 2) % 3], c = v[k], g = t->nb[f][k];
            if( g < 0 ){
                /* A hull edge, directed with this triangle on its left. */
                const int from = o > 0 ? a : b, to = o > 0 ? b : a;
                if( next[from]!=-1 ){
                    ok = 0;
                    break;
                }
                next[from] = to;
                start = from;
                nHull++;
            }else if( g > f ){
                const int32_t *w = t->v[g];
                int d = -1;
                double oc, od;
                for(int j = 0; j < 3; j++)
                    if( w[j]!=a && w[j]!=b ) d = w[j];
                if( d < 0 ){
                    ok = 0;
                    break;
                }
                oc = orient_clear(pts + 2 * a, pts + 2 * b, pts + 2 * c);
                od = orient_clear(pts + 2 * a, pts + 2 * b, pts + 2 * d);
                if( oc==0 || od==0 || (oc > 0)==(od > 0) ){
                    ok = 0;
                    break;
                }
                /* (a, b, c) counter-clockwise: swap a and b when c is on the right. */
                if( !(oc > 0 ? outside_circle_clear(pts + 2 * a, pts + 2 * b, pts + 2 * c, pts + 2 * d)
                             : outside_circle_clear(pts + 2 * b, pts + 2 * a, pts + 2 * c, pts + 2 * d)) ){
                    ok = 0;
                    break;
                }
            }
        }
    }
    if( ok ) ok = nSeen==np && nHull >= 3 && start >= 0;
    if( ok ){
        /* One cycle through every hull edge, turning left at each vertex. */
        int at = start, steps = 0;
        do{
            int to = next[at], after = to >= 0 ? next[to] : -1;
            if( after < 0 || !(orient_clear(pts + 2 * at, pts + 2 * to, pts + 2 * after) > 0) ){
                ok = 0;
                break;
            }
            at = to;
            steps++;
        }while( at!=start && steps <= nHull );
        if( ok ) ok = at==start && steps==nHull;
    }
    free(next);
    free(seen);
    return ok;
}

/*
** One Qhull Delaunay call on np points (local copy, shifted to their centre for precision),
** reporting the owned boundary edges. *pSingular is set when Qhull finds the input flat
** (collinear), which means no triangles, not an error.
*/
static int delaunay_edges(const double *xy, const int32_t *ids, int np, double rmax, const owner *w, edge_list *out,
                          int *pSingular, size_t *pnKept)
{
    qhT *qh = NULL;
    geo_errstream es;
    char fast[] = DELAUNAY_FAST, safe[] = DELAUNAY_SAFE;
    double *pts = NULL, cx = 0, cy = 0, r2 = rmax * rmax;
    uint8_t *kept = NULL;
    int rc = SPTT_OK, exitcode, ok = 0;
    tri_mesh t = {0};

    *pSingular = 0;
    if( np < 3 ){
        *pSingular = 1;
        return SPTT_OK;
    }
    if( (rc = geo_errstream_open(&es)) ) return rc;
    qh = sptt_malloc(sizeof(qhT));
    pts = sptt_malloc((size_t)np * 2 * sizeof(double));
    if( qh==NULL || pts==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(int i = 0; i < np; i++){
        cx += xy[2 * ids[i]];
        cy += xy[2 * ids[i] + 1];
    }
    cx /= np;
    cy /= np;
    for(int i = 0; i < np; i++){
        pts[2 * i] = xy[2 * ids[i]] - cx;
        pts[2 * i + 1] = xy[2 * ids[i] + 1] - cy;
    }
    qh_zero(qh, es.fp);
    if( !w->safeOnly ){
        exitcode = run_delaunay(qh, np, pts, fast, es.fp);
        if( exitcode==0 ){
            ok = tri_mesh_extract(qh, np, &t, &rc);
            if( rc ) goto cleanup;
            ok = ok && proven_delaunay(&t, pts, np);
        }
        if( !ok ){
            /* Not proven: the default options, from a clean slate. */
            tri_mesh_free(&t);
            if( (rc = geo_qhull_restart(qh, &es)) ){
                free(qh);
                qh = NULL;
                goto cleanup;
            }
        }
    }
    if( !ok ){
        exitcode = run_delaunay(qh, np, pts, safe, es.fp);
        if( exitcode==qh_ERRsingular ){
            *pSingular = 1;
            goto cleanup;
        }
        if( exitcode ){
            rc = sptt_fail(SPTT_ECORRUPT, "alpha shape: qhull exit %d on %d points: %s", exitcode, np, geo_errstream_text(&es));
            goto cleanup;
        }
        if( !tri_mesh_extract(qh, np, &t, &rc) ){
            if( rc==SPTT_OK ) rc = sptt_fail(SPTT_ECORRUPT, "alpha shape: qhull gave a facet that is not a triangle on %d points", np);
            goto cleanup;
        }
    }
    kept = sptt_malloc(t.n ? (size_t)t.n : 1);
    if( kept==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(int f = 0; f < t.n; f++){
        const double *p[3];
        double ab2, bc2, ca2, cr;
        int32_t g[3];
        for(int k = 0; k < 3; k++) g[k] = ids[t.v[f][k]];
        /* The test is computed from the global coordinates with the vertices in id order, so
        ** that every tile that sees this triangle reaches the same verdict to the last bit. */
        for(int i = 0; i < 2; i++)
            for(int j = i + 1; j < 3; j++)
                if( g[j] < g[i] ){
                    int32_t s = g[i];
                    g[i] = g[j];
                    g[j] = s;
                }
        for(int i = 0; i < 3; i++) p[i] = xy + 2 * g[i];
        ab2 = (p[1][0] - p[0][0]) * (p[1][0] - p[0][0]) + (p[1][1] - p[0][1]) * (p[1][1] - p[0][1]);
        bc2 = (p[2][0] - p[1][0]) * (p[2][0] - p[1][0]) + (p[2][1] - p[1][1]) * (p[2][1] - p[1][1]);
        ca2 = (p[0][0] - p[2][0]) * (p[0][0] - p[2][0]) + (p[0][1] - p[2][1]) * (p[0][1] - p[2][1]);
        cr = (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[1][1] - p[0][1]) * (p[2][0] - p[0][0]);
        /* R = abc / (4 area) and |cr| = 2 area, so R < Rmax <=> a^2 b^2 c^2 < 4 cr^2 Rmax^2. A
        ** flat triangle (cr ~ 0) has an unbounded circle and fails. */
        kept[f] = ab2 * bc2 * ca2 < 4 * cr * cr * r2;
    }
    for(int f = 0; f < t.n; f++){
        const int32_t *v = t.v[f];
        int ccw;
        if( !kept[f] ) continue;
        (*pnKept)++;
        {
            const double *a = pts + 2 * v[0], *b = pts + 2 * v[1], *c = pts + 2 * v[2];
            ccw = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) > 0;
        }
        /* For a simplicial facet, neighbour k is across the edge opposite vertex k. */
        for(int k = 0; k < 3; k++){
            const int g = t.nb[f][k];
            if( g < 0 || !kept[g] ){
                int32_t a = ids[v[(k + 1) % 3]], b = ids[v[(k + 2) % 3]];
                if( !ccw ){
                    int32_t s = a;
                    a = b;
                    b = s;
                }
                if( owns(w, a, b) ) edge_push(out, a, b);
            }
        }
    }
    rc = out->rc;
cleanup:
    if( qh ){
        geo_qhull_release(qh);
        free(qh);
    }
    geo_errstream_close(&es);
    tri_mesh_free(&t);
    free(pts);
    free(kept);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Tiled mode
*/
typedef struct grid {
    double ox, oy, g;
    int nx, ny;
    uint32_t *start;     /* (nx*ny + 1) offsets of each cell's points in the sorted array */
    uint8_t *exposed;    /* (nx*ny) */
} grid;

static void grid_free(grid *G)
{
    free(G->start);
    free(G->exposed);
}

static int cmp2d(const void *a, const void *b)
{
    const double *p = a, *q = b;
    if( p[0]!=q[0] ) return p[0] < q[0] ? -1 : 1;
    if( p[1]!=q[1] ) return p[1] < q[1] ? -1 : 1;
    return 0;
}

/*
** Buckets the points into cells (counting sort), sorts and deduplicates each cell (duplicates
** share a cell), and marks exposed cells. *pOut: the distinct points in cell order.
*/
static int grid_build(const double *xy, size_t n, double g, double x0, double y0, double x1, double y1, grid *G,
                      double **pOut, size_t *pm)
{
    size_t nCells, m = 0;
    uint32_t *cell = NULL, *fill = NULL;
    double *sorted = NULL;
    int *rowE = NULL;
    int rc = SPTT_OK;

    memset(G, 0, sizeof *G);
    G->g = g;
    G->ox = x0;
    G->oy = y0;
    G->nx = (int)floor((x1 - x0) / g) + 1;
    G->ny = (int)floor((y1 - y0) / g) + 1;
    nCells = (size_t)G->nx * G->ny;
    G->start = sptt_calloc(nCells + 1, sizeof(uint32_t));
    G->exposed = sptt_calloc(nCells, 1);
    cell = sptt_malloc(n * sizeof(uint32_t));
    fill = sptt_malloc(nCells * sizeof(uint32_t));
    sorted = sptt_malloc(n * 2 * sizeof(double));
    rowE = sptt_malloc(nCells * sizeof(int));
    if( !G->start || !G->exposed || !cell || !fill || !sorted || !rowE ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(size_t i = 0; i < n; i++){
        cell[i] = (uint32_t)((size_t)cell_of(xy[2 * i + 1], y0, g, G->ny) * G->nx + cell_of(xy[2 * i], x0, g, G->nx));
        G->start[cell[i] + 1]++;
    }
    for(size_t c = 0; c < nCells; c++) G->start[c + 1] += G->start[c];
    memcpy(fill, G->start, nCells * sizeof(uint32_t));
    for(size_t i = 0; i < n; i++){
        uint32_t at = fill[cell[i]]++;
        sorted[2 * at] = xy[2 * i];
        sorted[2 * at + 1] = xy[2 * i + 1];
    }
    /* Per cell: sort, drop duplicates, compact; start[] is rewritten to the compacted offsets. */
    {
        uint32_t begin = 0;
        for(size_t c = 0; c < nCells; c++){
            uint32_t end = G->start[c + 1], first = (uint32_t)m;
            qsort(sorted + 2 * (size_t)begin, end - begin, 2 * sizeof(double), cmp2d);
            for(uint32_t i = begin; i < end; i++){
                if( m > first && sorted[2 * i]==sorted[2 * (m - 1)] && sorted[2 * i + 1]==sorted[2 * (m - 1) + 1] ) continue;
                sorted[2 * m] = sorted[2 * i];
                sorted[2 * m + 1] = sorted[2 * i + 1];
                m++;
            }
            G->start[c] = first;
            begin = end;
        }
        G->start[nCells] = (uint32_t)m;
    }
    /* Exposed = an empty cell (or the outside of the grid) within Chebyshev distance K:
    ** a row pass then a column pass, each with a running count. */
    for(int y = 0; y < G->ny; y++){
        const uint32_t *s = G->start + (size_t)y * G->nx;
        int emptyInWindow = 0;
        /* window [x-K, x+K]; cells outside the grid count as empty */
        for(int x = -EXPOSE_K; x <= EXPOSE_K; x++) emptyInWindow += x < 0 || x >= G->nx || s[x + 1]==s[x];
        for(int x = 0; x < G->nx; x++){
            int add = x + EXPOSE_K + 1, drop = x - EXPOSE_K;
            rowE[(size_t)y * G->nx + x] = emptyInWindow > 0;
            emptyInWindow += add >= G->nx || s[add + 1]==s[add];
            emptyInWindow -= drop < 0 || s[drop + 1]==s[drop];
        }
    }
    for(int x = 0; x < G->nx; x++){
        int inWindow = 0;
        for(int y = -EXPOSE_K; y <= EXPOSE_K; y++) inWindow += y < 0 || y >= G->ny || rowE[(size_t)y * G->nx + x];
        for(int y = 0; y < G->ny; y++){
            int add = y + EXPOSE_K + 1, drop = y - EXPOSE_K;
            G->exposed[(size_t)y * G->nx + x] = inWindow > 0;
            inWindow += add >= G->ny || rowE[(size_t)add * G->nx + x];
            inWindow -= drop < 0 || rowE[(size_t)drop * G->nx + x];
        }
    }
    *pOut = sorted;
    *pm = m;
    sorted = NULL;
cleanup:
    free(cell);
    free(fill);
    free(sorted);
    free(rowE);
    if( rc ) grid_free(G);
    return rc;
}

/* Chebyshev dilation of a W x H mask by k (a box max filter, separable). */
static void dilate(const uint8_t *in, uint8_t *out, int *tmp, int W, int H, int k)
{
    for(int y = 0; y < H; y++){
        int cnt = 0;
        for(int x = 0; x <= k && x < W; x++) cnt += in[(size_t)y * W + x];
        for(int x = 0; x < W; x++){
            tmp[(size_t)y * W + x] = cnt > 0;
            if( x + k + 1 < W ) cnt += in[(size_t)y * W + x + k + 1];
            if( x - k >= 0 ) cnt -= in[(size_t)y * W + x - k];
        }
    }
    for(int x = 0; x < W; x++){
        int cnt = 0;
        for(int y = 0; y <= k && y < H; y++) cnt += tmp[(size_t)y * W + x];
        for(int y = 0; y < H; y++){
            out[(size_t)y * W + x] = cnt > 0;
            if( y + k + 1 < H ) cnt += tmp[(size_t)(y + k + 1) * W + x];
            if( y - k >= 0 ) cnt -= tmp[(size_t)(y - k) * W + x];
        }
    }
}

/* One tile: gather P (the union of P_C over its exposed cells), triangulate, keep owned edges. */
static int tile_edges(const grid *G, const double *xy, int tx0, int ty0, int tx1, int ty1, int kR, double rmax,
                      edge_list *out, int *pCalled, size_t *pnKept)
{
    int wx0 = tx0 - kR, wy0 = ty0 - kR, wx1 = tx1 + kR, wy1 = ty1 + kR, W, H, singular, np = 0, rc = SPTT_OK;
    uint8_t *seed = NULL, *needAll = NULL, *needExp = NULL;
    int *tmp = NULL;
    int32_t *ids = NULL;
    size_t cap = 0;
    owner w;
    int any = 0;

    *pCalled = 0;
    for(int y = ty0; y < ty1 && !any; y++)
        for(int x = tx0; x < tx1 && !any; x++) any = G->exposed[(size_t)y * G->nx + x];
    if( !any ) return SPTT_OK;   /* every cell deep inside U: no boundary edge here */
    if( wx0 < 0 ) wx0 = 0;
    if( wy0 < 0 ) wy0 = 0;
    if( wx1 > G->nx ) wx1 = G->nx;
    if( wy1 > G->ny ) wy1 = G->ny;
    W = wx1 - wx0;
    H = wy1 - wy0;
    seed = sptt_calloc((size_t)W * H, 1);
    needAll = sptt_malloc((size_t)W * H);
    needExp = sptt_malloc((size_t)W * H);
    tmp = sptt_malloc((size_t)W * H * sizeof(int));
    if( !seed || !needAll || !needExp || !tmp ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(int y = ty0; y < ty1; y++)
        for(int x = tx0; x < tx1; x++) seed[(size_t)(y - wy0) * W + (x - wx0)] = G->exposed[(size_t)y * G->nx + x];
    dilate(seed, needAll, tmp, W, H, EXPOSE_K);
    dilate(seed, needExp, tmp, W, H, kR);
    for(int pass = 0; pass < 2; pass++){
        np = 0;
        for(int y = wy0; y < wy1; y++){
            for(int x = wx0; x < wx1; x++){
                size_t c = (size_t)y * G->nx + x, l = (size_t)(y - wy0) * W + (x - wx0);
                if( !needAll[l] && !(needExp[l] && G->exposed[c]) ) continue;
                for(uint32_t i = G->start[c]; i < G->start[c + 1]; i++){
                    if( pass==1 ) ids[np] = (int32_t)i;
                    np++;
                }
            }
        }
        if( pass==0 ){
            cap = (size_t)np;
            ids = sptt_malloc((cap ? cap : 1) * sizeof(int32_t));
            if( ids==NULL ){
                rc = SPTT_ENOMEM;
                goto cleanup;
            }
        }
    }
    w.xy = xy;
    w.ox = G->ox;
    w.oy = G->oy;
    w.g = G->g;
    w.nx = G->nx;
    w.ny = G->ny;
    w.cx0 = tx0;
    w.cy0 = ty0;
    w.cx1 = tx1;
    w.cy1 = ty1;
    w.exposed = G->exposed;
    w.safeOnly = 0;
    *pCalled = 1;
    rc = delaunay_edges(xy, ids, np, rmax, &w, out, &singular, pnKept);
cleanup:
    free(seed);
    free(needAll);
    free(needExp);
    free(tmp);
    free(ids);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Loops
*/
typedef struct loop_info {
    double area;         /* signed: > 0 counter-clockwise (outer), < 0 hole */
    size_t first, count; /* range in the traced vertex order */
    double bb[4];
} loop_info;

static int cmp_edge(const void *a, const void *b)
{
    const int32_t *p = a, *q = b;
    if( p[0]!=q[0] ) return p[0] < q[0] ? -1 : 1;
    return (p[1] > q[1]) - (p[1] < q[1]);
}

/* Largest first; equal areas by their lowest-left corner, which does not depend on edge order. */
static int cmp_loop_area(const void *a, const void *b)
{
    const loop_info *x = a, *y = b;
    if( x->area!=y->area ) return x->area > y->area ? -1 : 1;
    for(int k = 0; k < 4; k++)
        if( x->bb[k]!=y->bb[k] ) return x->bb[k] < y->bb[k] ? -1 : 1;
    return 0;
}

/* Even-odd test of point p against the polygon q (count vertices). */
static int point_in_loop(const double *p, const double *q, size_t count)
{
    int in = 0;
    for(size_t i = 0, j = count - 1; i < count; j = i++){
        const double *a = q + 2 * i, *b = q + 2 * j;
        if( (a[1] > p[1])!=(b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] ) in = !in;
    }
    return in;
}

/*
** Traces the directed boundary edges into loops and fills the result. Where several boundary
** edges meet at a vertex (U touching itself at a point), the loop turns onto the outgoing edge
** reached first counter-clockwise from the way it came: it follows the uncovered side. So a hole
** that touches the outer boundary at a vertex still comes out as its own clockwise loop and is
** filled, as the reference's polygonize-and-union fills every enclosed face, and parts of U that
** touch at a point share one outer loop.
*/
static int trace_loops(const double *xy, edge_list *E, sptt_alpha_shape *a)
{
    size_t n = E->n, nLoops = 0, nOut = 0;
    size_t *next = NULL, *order = NULL, *vStart = NULL;
    uint8_t *used = NULL;
    loop_info *loops = NULL;
    double *coords = NULL;
    int32_t maxV = -1;
    int rc = SPTT_OK;
    double kept = 0, filled = 0;

    a->nBoundaryEdges = n;
    if( n==0 ) return SPTT_OK;
    qsort(E->e, n, 2 * sizeof(int32_t), cmp_edge);
    for(size_t i = 0; i < n; i++) maxV = E->e[2 * i] > maxV ? E->e[2 * i] : maxV;
    for(size_t i = 0; i < n; i++) maxV = E->e[2 * i + 1] > maxV ? E->e[2 * i + 1] : maxV;
    next = sptt_malloc(n * sizeof(size_t));
    order = sptt_malloc(n * sizeof(size_t));
    used = sptt_calloc(n, 1);
    loops = sptt_malloc(n * sizeof(loop_info));
    coords = sptt_malloc(n * 2 * sizeof(double));
    vStart = sptt_calloc((size_t)maxV + 2, sizeof(size_t));
    if( !next || !order || !used || !loops || !coords || !vStart ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(size_t i = 0; i < n; i++) vStart[E->e[2 * i] + 1]++;
    for(int32_t v = 0; v <= maxV; v++) vStart[v + 1] += vStart[v];
    for(size_t i = 0; i < n; i++){
        int32_t from = E->e[2 * i], at = E->e[2 * i + 1];
        size_t lo = vStart[at], hi = vStart[at + 1];
        if( hi==lo ){
            /* A dangling edge: only possible if Qhull and our ownership disagreed. */
            rc = sptt_fail(SPTT_ECORRUPT, "alpha shape: boundary edge %d->%d has no continuation", from, at);
            goto cleanup;
        }
        if( hi - lo==1 ){
            next[i] = lo;
        }else{
            double back = atan2(xy[2 * from + 1] - xy[2 * at + 1], xy[2 * from] - xy[2 * at]), best = INFINITY;
            for(size_t j = lo; j < hi; j++){
                int32_t to = E->e[2 * j + 1];
                double out = atan2(xy[2 * to + 1] - xy[2 * at + 1], xy[2 * to] - xy[2 * at]);
                double ccw = fmod(out - back + 4 * SPTT_PI, 2 * SPTT_PI);
                if( ccw <= 0 ) ccw += 2 * SPTT_PI;
                if( ccw < best ){
                    best = ccw;
                    next[i] = j;
                }
            }
        }
    }
    for(size_t s = 0; s < n; s++){
        loop_info *L;
        size_t e = s, start = nOut, minAt, len;
        double sum = 0;
        const double *c0;
        if( used[s] ) continue;
        L = &loops[nLoops++];
        L->bb[0] = L->bb[1] = INFINITY;
        L->bb[2] = L->bb[3] = -INFINITY;
        while( !used[e] ){
            const double *p = xy + 2 * E->e[2 * e];
            used[e] = 1;
            order[nOut++] = e;
            L->bb[0] = fmin(L->bb[0], p[0]);
            L->bb[1] = fmin(L->bb[1], p[1]);
            L->bb[2] = fmax(L->bb[2], p[0]);
            L->bb[3] = fmax(L->bb[3], p[1]);
            e = next[e];
        }
        if( e!=order[start] ){
            rc = sptt_fail(SPTT_ECORRUPT, "alpha shape: boundary does not close into loops");
            goto cleanup;
        }
        /* Start each loop at its lexicographically smallest vertex and measure it from there:
        ** the same loop then gives the same bits whatever order its edges came in. */
        minAt = start;
        for(size_t k = start + 1; k < nOut; k++){
            const double *p = xy + 2 * E->e[2 * order[k]], *q = xy + 2 * E->e[2 * order[minAt]];
            if( p[0] < q[0] || (p[0]==q[0] && p[1] < q[1]) ) minAt = k;
        }
        len = nOut - start;
        for(size_t k = 0; k < len; k++){
            size_t src = start + (minAt - start + k) % len;
            coords[2 * (start + k)] = xy[2 * E->e[2 * order[src]]];
            coords[2 * (start + k) + 1] = xy[2 * E->e[2 * order[src]] + 1];
        }
        c0 = coords + 2 * start;
        for(size_t k = 0; k < len; k++){
            const double *p = coords + 2 * (start + k), *q = coords + 2 * (start + (k + 1) % len);
            sum += (p[0] - c0[0]) * (q[1] - c0[1]) - (q[0] - c0[0]) * (p[1] - c0[1]);
        }
        L->area = sum / 2;
        L->first = start;
        L->count = len;
    }
    qsort(loops, nLoops, sizeof(loop_info), cmp_loop_area);
    for(size_t l = 0; l < nLoops; l++){
        kept += loops[l].area;
        if( loops[l].area < 0 ) a->nHoles++;
    }
    /* Outermost outer loops: those not inside a larger outer loop (an island in a hole is). */
    {
        size_t nOuter = 0, nKeep = 0, nPts = 0;
        uint8_t *keep;
        while( nOuter < nLoops && loops[nOuter].area > 0 ) nOuter++;
        keep = sptt_calloc(nOuter ? nOuter : 1, 1);
        if( keep==NULL ){
            rc = SPTT_ENOMEM;
            goto cleanup;
        }
        for(size_t i = 0; i < nOuter; i++){
            const loop_info *L = &loops[i];
            const double *p0 = coords + 2 * L->first, *p1 = coords + 2 * (L->first + (L->count > 1 ? 1 : 0));
            double mid[2] = { (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2 };
            int inside = 0;
            for(size_t j = 0; j < i && !inside; j++){
                const loop_info *B = &loops[j];
                if( !keep[j] ) continue;
                if( L->bb[0] < B->bb[0] || L->bb[1] < B->bb[1] || L->bb[2] > B->bb[2] || L->bb[3] > B->bb[3] ) continue;
                inside = point_in_loop(mid, coords + 2 * B->first, B->count);
            }
            keep[i] = !inside;
            if( keep[i] ){
                filled += L->area;
                nKeep++;
                nPts += L->count;
            }
        }
        a->loopStart = sptt_malloc((nKeep + 1) * sizeof(int));
        a->loopXY = sptt_malloc((nPts ? nPts : 1) * 2 * sizeof(double));
        if( a->loopStart==NULL || a->loopXY==NULL ){
            free(keep);
            rc = SPTT_ENOMEM;
            goto cleanup;
        }
        a->loopStart[0] = 0;
        for(size_t i = 0; i < nOuter; i++){
            if( !keep[i] ) continue;
            memcpy(a->loopXY + 2 * (size_t)a->loopStart[a->nLoops], coords + 2 * loops[i].first, loops[i].count * 2 * sizeof(double));
            a->loopStart[a->nLoops + 1] = a->loopStart[a->nLoops] + (int)loops[i].count;
            a->nLoops++;
        }
        free(keep);
    }
    a->areaKept = kept;
    a->area = filled;
    a->holeArea = filled - kept;
    if( a->nLoops > 1 ) a->flags |= SPTT_ROOM_SPLIT;
cleanup:
    free(next);
    free(order);
    free(used);
    free(loops);
    free(coords);
    free(vStart);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Entry points
*/
/* All points on one line, up to rounding: every point within 1e-6 of the extent from the
** principal axis, which is what float32 coordinates of a straight wall scatter by. (The
** determinant of the scatter matrix cancels too badly to decide this.) */
static int collinear(const double *u, size_t m)
{
    double Sxx = 0, Syy = 0, Sxy = 0, mx = 0, my = 0, th, d[2], lo = INFINITY, hi = -INFINITY, off = 0;
    for(size_t i = 0; i < m; i++){
        mx += u[2 * i];
        my += u[2 * i + 1];
    }
    mx /= (double)m;
    my /= (double)m;
    for(size_t i = 0; i < m; i++){
        double dx = u[2 * i] - mx, dy = u[2 * i + 1] - my;
        Sxx += dx * dx;
        Syy += dy * dy;
        Sxy += dx * dy;
    }
    th = 0.5 * atan2(2 * Sxy, Sxx - Syy);
    d[0] = cos(th);
    d[1] = sin(th);
    for(size_t i = 0; i < m; i++){
        double dx = u[2 * i] - mx, dy = u[2 * i + 1] - my, along = dx * d[0] + dy * d[1];
        lo = fmin(lo, along);
        hi = fmax(hi, along);
        off = fmax(off, fabs(dy * d[0] - dx * d[1]));
    }
    return off <= 1e-6 * fmax(hi - lo, 1e-300);
}

static int convex_hull_shape(const double *xy, size_t m, sptt_alpha_shape *a)
{
    double *hull = sptt_malloc((m + 1) * 2 * sizeof(double)), area = 0;
    int h;
    if( hull==NULL ) return SPTT_ENOMEM;
    h = geo_hull2d_sorted(xy, (int)m, hull);
    a->flags |= SPTT_ROOM_CONVEX_HULL;
    if( h < 3 ){
        a->flags |= SPTT_ROOM_COLLINEAR;
        free(hull);
        a->loopStart = sptt_calloc(1, sizeof(int));
        return a->loopStart ? SPTT_OK : SPTT_ENOMEM;
    }
    for(int i = 0; i < h; i++){
        const double *p = hull + 2 * i, *q = hull + 2 * ((i + 1) % h);
        area += (p[0] - hull[0]) * (q[1] - hull[1]) - (q[0] - hull[0]) * (p[1] - hull[1]);
    }
    a->area = a->areaKept = area / 2;
    a->nLoops = 1;
    a->loopStart = sptt_malloc(2 * sizeof(int));
    if( a->loopStart==NULL ){
        free(hull);
        return SPTT_ENOMEM;
    }
    a->loopStart[0] = 0;
    a->loopStart[1] = h;
    a->loopXY = hull;
    return SPTT_OK;
}

int geo_alpha_shape_mode(const double *xy, size_t n, double rmax, int mode, sptt_alpha_shape *a)
{
    double *u = NULL, bb[4] = { INFINITY, INFINITY, -INFINITY, -INFINITY };
    size_t m = 0, nDup = 0, nKept = 0;
    edge_list E = {0};
    grid G;
    int rc = SPTT_OK, tiled;

    memset(a, 0, sizeof *a);
    memset(&G, 0, sizeof G);
    if( n > (size_t)0x7fffffff ) return sptt_fail(SPTT_EINVAL, "alpha shape: %zu points is more than Qhull takes", n);
    for(size_t i = 0; i < 2 * n; i++)
        if( !isfinite(xy[i]) ) return sptt_fail(SPTT_EINVAL, "alpha shape: point %zu: non-finite coordinate", i / 2);
    for(size_t i = 0; i < n; i++){
        bb[0] = fmin(bb[0], xy[2 * i]);
        bb[1] = fmin(bb[1], xy[2 * i + 1]);
        bb[2] = fmax(bb[2], xy[2 * i]);
        bb[3] = fmax(bb[3], xy[2 * i + 1]);
    }
    tiled = mode==2 || (mode==0 && n >= TILE_MIN_POINTS);
    if( !(rmax > 0) || isinf(rmax) || n < 4 ) tiled = 0;
    if( tiled ){
        double area = fmax((bb[2] - bb[0]) * (bb[3] - bb[1]), 1e-12);
        double g = sqrt(CELL_POINTS * area / (double)n);
        /* r0 = 1.6 g <= Rmax keeps the exposed band thin; the cap on cells bounds memory. */
        g = fmin(g, rmax / 1.6);
        g = fmax(g, sqrt(area / (4.0 * (double)n + 1024)));
        rc = grid_build(xy, n, g, bb[0], bb[1], bb[2], bb[3], &G, &u, &m);
    }else{
        rc = geo_sorted_unique(xy, n, 2, &u, &m, &nDup);
    }
    if( rc ) goto cleanup;
    a->nPoints = m;
    if( m < 4 || !(rmax > 0) || isinf(rmax) ){
        if( m < 4 ) a->flags |= SPTT_ROOM_FEW_POINTS;
        if( tiled ) qsort(u, m, 2 * sizeof(double), cmp2d);
        rc = convex_hull_shape(u, m, a);
        goto cleanup;
    }
    if( !tiled ){
        int32_t *ids = sptt_malloc(m * sizeof(int32_t));
        owner w;
        int singular;
        if( ids==NULL ){
            rc = SPTT_ENOMEM;
            goto cleanup;
        }
        for(size_t i = 0; i < m; i++) ids[i] = (int32_t)i;
        memset(&w, 0, sizeof w);
        w.safeOnly = mode==3;
        a->nTiles = 1;
        rc = delaunay_edges(u, ids, (int)m, rmax, &w, &E, &singular, &nKept);
        free(ids);
        if( rc ) goto cleanup;
        if( singular ) a->flags |= SPTT_ROOM_COLLINEAR;
    }else{
        double dens = (double)m / (double)(G.start[(size_t)G.nx * G.ny] ? (size_t)G.nx * G.ny : 1);
        int B = (int)fmax(8, fmin(256, sqrt(TILE_POINTS / fmax(dens, 1e-9))));
        int ntx = (G.nx + B - 1) / B, nty = (G.ny + B - 1) / B, nT = ntx * nty;
        int kR = (int)ceil(2 * rmax / G.g) + 1;
        edge_list *lists = sptt_calloc((size_t)nT, sizeof(edge_list));
        int *rcs = sptt_calloc((size_t)nT, sizeof(int)), calls = 0;
        size_t *kepts = sptt_calloc((size_t)nT, sizeof(size_t));
        if( lists==NULL || rcs==NULL || kepts==NULL ){
            free(lists);
            free(rcs);
            free(kepts);
            rc = SPTT_ENOMEM;
            goto cleanup;
        }
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : calls)
        for(int t = 0; t < nT; t++){
            int tx = t % ntx, ty = t / ntx, called = 0;
            int x1 = (tx + 1) * B < G.nx ? (tx + 1) * B : G.nx, y1 = (ty + 1) * B < G.ny ? (ty + 1) * B : G.ny;
            rcs[t] = tile_edges(&G, u, tx * B, ty * B, x1, y1, kR, rmax, &lists[t], &called, &kepts[t]);
            calls += called;
        }
        a->nTiles = calls;
        for(int t = 0; t < nT && rc==SPTT_OK; t++){
            rc = rcs[t];
            if( rc ){
                /* The message was left in the worker thread; name the failure here. */
                rc = sptt_fail(rcs[t], "alpha shape: tile %d of %d failed (%s)", t, nT, sptt_errname(rcs[t]));
            }
        }
        for(int t = 0; t < nT && rc==SPTT_OK; t++){
            nKept += kepts[t];
            for(size_t i = 0; i < lists[t].n; i++) edge_push(&E, lists[t].e[2 * i], lists[t].e[2 * i + 1]);
            rc = E.rc;
        }
        for(int t = 0; t < nT; t++) free(lists[t].e);
        free(lists);
        free(rcs);
        free(kepts);
        if( rc ) goto cleanup;
    }
    if( E.n==0 && nKept==0 ){
        /* No triangle at all: collinear input, or an alpha too small for the spacing. */
        if( collinear(u, m) ) a->flags |= SPTT_ROOM_COLLINEAR;
        if( !(a->flags & SPTT_ROOM_COLLINEAR) ) a->flags |= SPTT_ROOM_EMPTY;
    }
    rc = trace_loops(u, &E, a);
    if( rc==SPTT_OK && a->loopStart==NULL ){
        a->loopStart = sptt_calloc(1, sizeof(int));
        if( a->loopStart==NULL ) rc = SPTT_ENOMEM;
    }
cleanup:
    free(u);
    free(E.e);
    grid_free(&G);
    if( rc ) sptt_alpha_shape_free(a);
    return rc;
}

int sptt_alpha_shape_compute(const double *xy, size_t n, double maxCircumradius, sptt_alpha_shape *a)
{
    return geo_alpha_shape_mode(xy, n, maxCircumradius, 0, a);
}

void sptt_alpha_shape_free(sptt_alpha_shape *a)
{
    free(a->loopStart);
    free(a->loopXY);
    memset(a, 0, sizeof *a);
}
