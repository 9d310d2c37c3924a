/*
** route_planning: no public generator exists (VSI-Bench's routes are believed to be drawn by
** hand), so this is our own design.
**
** 1. Occupancy grid (ANN_ROUTE_CELL = 0.1 m) over the room outline. A cell is free when its centre
**    is inside the outline, at least the walker radius (ANN_ROUTE_RADIUS = 0.25 m) from the
**    outline's edges, and at least that far from the floor footprint (XY hull of the 8 box
**    corners) of every object that reaches below ROUTE_HEAD (1.5 m above the floor): things on
**    the wall higher up do not block a walker.
**    Only the largest connected free region is kept: that is the floor the walker moves on.
** 2. Each unique object (a QA category with one instance, with a box) is reached at its approach
**    cell: the free cell nearest to its footprint, no farther than ROUTE_REACH (0.6 m) beyond the
**    radius.
** 3. Legs: Dijkstra from each approach cell on the 8-connected grid (steps 1 and sqrt 2, no corner
**    cutting, the heap ordered by distance then cell index, so ties always resolve alike). The
**    grid path is then pulled straight (each vertex jumps to the farthest following cell still in
**    line of sight), which removes the staircase of 8-connected paths. A leg is usable when it is
**    reachable, its chord is at least ROUTE_MIN_LEG (0.8 m) long and the pulled path stays within
**    ROUTE_MAX_DEVIATION (0.5 m) of the chord, or 25 % of the chord on legs over 2 m: "go forward
**    until the X" must describe it honestly.
** 4. A route is start -> one or two waypoints -> destination, all distinct unique objects, every
**    leg usable. The walker starts at the start object facing a category none of whose objects is
**    a stop of the route: facing the first waypoint would need no turn, and facing the destination
**    would give the question away. That category may have several instances when each of them,
**    seen from the start, gives the same clear first turn. A turn is the signed angle between the
**    incoming and outgoing directions (the facing direction, then the leg chords): left in
**    [40, 130] degrees, right in [-130, -40], back beyond +-150. Anything else is rejected: under
**    40 degrees is hardly a turn (the options cannot say "go straight"), and between 130 and 150
**    left and back are both fair answers. "Back" is allowed for the first turn only: at a
**    waypoint it would retrace the leg just walked. Stops (approach cells) that are not
**    consecutive must be at least ROUTE_MIN_LEG apart, so a route never doubles back to a place
**    it has left.
**    These limits were set on furnished rooms with real object layouts (VSI-Bench's own ARKitScenes
**    and ScanNet object boxes): with approach cells within 0.5 m, a 1 m shortest leg, 60-120
**    degree side turns and only single-instance facing objects, most of them got no question.
** 5. The question lists every step; with two turns both are "[please fill in]", with three two or
**    all three are. Options are turn sequences for the blanks: the answer and three other
**    sequences, drawn from all 3^k.
*/
#include "ann_content.h"
#include "sptt_math.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE_HEAD          1.5    /* metres above the floor: lower objects block the walker */
#define ROUTE_REACH         0.6    /* approach cell at most radius + this from the footprint */
#define ROUTE_MIN_LEG       0.8    /* metres */
#define ROUTE_MAX_DEVIATION 0.5    /* metres between the pulled path and the leg's chord, */
#define ROUTE_MAX_BEND      0.25   /* or this fraction of the chord if more */
#define ROUTE_MAX_CELLS     250000
#define ROUTE_SIDE_MIN      40.0   /* degrees: a left or right turn is 40 to 130 degrees, */
#define ROUTE_SIDE_MAX      130.0
#define ROUTE_BACK_MIN      150.0  /* turning back at least 150 */

enum { TURN_NONE = -1, TURN_LEFT, TURN_RIGHT, TURN_BACK };
static const char *const azTurn[3] = { "Turn Left", "Turn Right", "Turn Back" };

typedef struct route_grid {
    double x0, y0, cell;
    int nx, ny;
    unsigned char *free;
} route_grid;

typedef struct route_leg {
    int ok;                  /* usable */
    double chord[2];         /* unit direction */
    double length;           /* chord, metres */
    double pathLength;       /* pulled path, metres */
    double deviation;
} route_leg;

typedef struct route_cand {
    int obj[4];              /* start, waypoint(s), destination: object indices; -1 unused */
    int nWay;
    int facing;              /* category index of what the walker faces at the start */
    int turn[3];
    double angle[3];
} route_cand;

static void cell_centre(const route_grid *g, int idx, double *p)
{
    p[0] = g->x0 + (idx % g->nx + 0.5) * g->cell;
    p[1] = g->y0 + (idx / g->nx + 0.5) * g->cell;
}

static int cell_at(const route_grid *g, const double *p)
{
    int ix = (int)floor((p[0] - g->x0) / g->cell), iy = (int)floor((p[1] - g->y0) / g->cell);
    if( ix < 0 || iy < 0 || ix >= g->nx || iy >= g->ny ) return -1;
    return iy * g->nx + ix;
}

static int is_obstacle(const ann_object *o, double floorZ)
{
    double z0, z1;
    if( !o->hasBox || o->nyu40==1 || o->nyu40==2 || o->nyu40==22 ) return 0;
    ann_box_zrange(&o->box, &z0, &z1);
    return z0 < floorZ + ROUTE_HEAD;
}

/*
** Clears every free cell outside the largest 8-connected free region (same moves as the path
** search). Pockets between furniture and a wall would otherwise become the approach cell of an
** object that the walker can in fact reach from the open floor a little farther away.
*/
static int keep_largest_component(route_grid *g)
{
    static const int dx[8] = { 1, -1, 0, 0, 1, 1, -1, -1 }, dy[8] = { 0, 0, 1, -1, 1, -1, 1, -1 };
    int nCell = g->nx * g->ny, best = 0, bestLabel = 0, nLabel = 0, rc = SPTT_OK;
    int *label = sptt_calloc((size_t)nCell + 1, sizeof *label), *stack = sptt_calloc((size_t)nCell + 1, sizeof *stack);
    if( !label || !stack ){ rc = SPTT_ENOMEM; goto done; }
    for(int seed = 0; seed < nCell; seed++){
        int top = 0, size = 0;
        if( !g->free[seed] || label[seed] ) continue;
        label[seed] = ++nLabel;
        stack[top++] = seed;
        while( top > 0 ){
            int c = stack[--top], x = c % g->nx, y = c / g->nx;
            size++;
            for(int k = 0; k < 8; k++){
                int nx = x + dx[k], ny = y + dy[k], nb;
                if( nx < 0 || ny < 0 || nx >= g->nx || ny >= g->ny ) continue;
                nb = ny * g->nx + nx;
                if( !g->free[nb] || label[nb] ) continue;
                if( k >= 4 && (!g->free[y * g->nx + nx] || !g->free[ny * g->nx + x]) ) continue;
                label[nb] = nLabel;
                stack[top++] = nb;
            }
        }
        /* ties go to the first region found, so the choice is deterministic */
        if( size > best ){ best = size; bestLabel = nLabel; }
    }
    for(int c = 0; c < nCell; c++) if( g->free[c] && label[c]!=bestLabel ) g->free[c] = 0;

done:
    free(label);
    free(stack);
    return rc;
}

static int grid_build(const ann_scene *s, route_grid *g)
{
    double lo[2] = { DBL_MAX, DBL_MAX }, hi[2] = { -DBL_MAX, -DBL_MAX }, floorZ = DBL_MAX;
    int nPts = 0, nObs = 0, rc = SPTT_OK;
    double (*hull)[8][2] = NULL;
    int *nHull = NULL;
    double (*bb)[4] = NULL;

    memset(g, 0, sizeof *g);
    for(int l = 0; l < s->nLoops; l++) nPts += s->loopLen[l];
    for(int i = 0; i < nPts; i++){
        for(int k = 0; k < 2; k++){
            lo[k] = fmin(lo[k], s->loopPts[i][k]);
            hi[k] = fmax(hi[k], s->loopPts[i][k]);
        }
    }
    g->cell = ANN_ROUTE_CELL;
    while( ceil((hi[0] - lo[0]) / g->cell) * ceil((hi[1] - lo[1]) / g->cell) > ROUTE_MAX_CELLS ) g->cell *= 1.25;
    g->x0 = lo[0];
    g->y0 = lo[1];
    g->nx = (int)ceil((hi[0] - lo[0]) / g->cell);
    g->ny = (int)ceil((hi[1] - lo[1]) / g->cell);
    if( g->nx < 1 || g->ny < 1 ) return SPTT_OK;
    g->free = sptt_calloc((size_t)g->nx * (size_t)g->ny, 1);
    hull = sptt_calloc((size_t)s->nObj + 1, sizeof *hull);
    nHull = sptt_calloc((size_t)s->nObj + 1, sizeof *nHull);
    bb = sptt_calloc((size_t)s->nObj + 1, sizeof *bb);
    if( !g->free || !hull || !nHull || !bb ){ rc = SPTT_ENOMEM; goto done; }

    for(int i = 0; i < s->nObj; i++){
        double z0, z1;
        if( !s->obj[i].hasBox ) continue;
        ann_box_zrange(&s->obj[i].box, &z0, &z1);
        floorZ = fmin(floorZ, z0);
    }
    if( floorZ==DBL_MAX ) floorZ = s->roomCenter[2] - s->roomHeight / 2;
    for(int i = 0; i < s->nObj; i++){
        if( !is_obstacle(&s->obj[i], floorZ) ) continue;
        nHull[nObs] = ann_box_footprint(&s->obj[i].box, hull[nObs]);
        bb[nObs][0] = bb[nObs][1] = DBL_MAX;
        bb[nObs][2] = bb[nObs][3] = -DBL_MAX;
        for(int k = 0; k < nHull[nObs]; k++){
            bb[nObs][0] = fmin(bb[nObs][0], hull[nObs][k][0]);
            bb[nObs][1] = fmin(bb[nObs][1], hull[nObs][k][1]);
            bb[nObs][2] = fmax(bb[nObs][2], hull[nObs][k][0]);
            bb[nObs][3] = fmax(bb[nObs][3], hull[nObs][k][1]);
        }
        nObs++;
    }
    for(int idx = 0; idx < g->nx * g->ny; idx++){
        double p[2];
        int ok;
        cell_centre(g, idx, p);
        ok = ann_room_contains(s, p) && ann_room_edge_distance(s, p) >= ANN_ROUTE_RADIUS;
        for(int k = 0; k < nObs && ok; k++){
            if( p[0] < bb[k][0] - ANN_ROUTE_RADIUS || p[0] > bb[k][2] + ANN_ROUTE_RADIUS
                || p[1] < bb[k][1] - ANN_ROUTE_RADIUS || p[1] > bb[k][3] + ANN_ROUTE_RADIUS ) continue;
            if( ann_poly_distance((const double (*)[2])hull[k], nHull[k], p) < ANN_ROUTE_RADIUS ) ok = 0;
        }
        g->free[idx] = (unsigned char)ok;
    }

    rc = keep_largest_component(g);

done:
    free(hull);
    free(nHull);
    free(bb);
    return rc;
}

/* Every point of segment a-b (sampled at a quarter cell) lies in a free cell. */
static int line_of_sight(const route_grid *g, const double *a, const double *b)
{
    double len = hypot(b[0] - a[0], b[1] - a[1]);
    int n = (int)ceil(len / (g->cell / 4)) + 1;
    for(int i = 0; i <= n; i++){
        double t = (double)i / n, p[2] = { a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]) };
        int c = cell_at(g, p);
        if( c < 0 || !g->free[c] ) return 0;
    }
    return 1;
}

/* The free cell nearest to an object's footprint, or -1. */
static int approach_cell(const route_grid *g, const ann_object *o)
{
    double hull[8][2], best = ANN_ROUTE_RADIUS + ROUTE_REACH;
    int n = ann_box_footprint(&o->box, hull), who = -1;
    for(int idx = 0; idx < g->nx * g->ny; idx++){
        double p[2], d;
        if( !g->free[idx] ) continue;
        cell_centre(g, idx, p);
        d = ann_poly_distance((const double (*)[2])hull, n, p);
        if( d < best - 1e-12 ){ best = d; who = idx; }
    }
    return who;
}

/* Binary heap of (distance, cell), ordered by distance then cell index. */
typedef struct heap_item { double d; int c; } heap_item;

static int heap_less(const heap_item *a, const heap_item *b)
{
    return a->d < b->d || (a->d==b->d && a->c < b->c);
}

static void heap_push(heap_item *h, int *n, heap_item x)
{
    int i = (*n)++;
    h[i] = x;
    while( i > 0 && heap_less(&h[i], &h[(i - 1) / 2]) ){
        heap_item t = h[i]; h[i] = h[(i - 1) / 2]; h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static heap_item heap_pop(heap_item *h, int *n)
{
    heap_item top = h[0];
    int i = 0;
    h[0] = h[--(*n)];
    for(;;){
        int l = 2 * i + 1, r = l + 1, m = i;
        if( l < *n && heap_less(&h[l], &h[m]) ) m = l;
        if( r < *n && heap_less(&h[r], &h[m]) ) m = r;
        if( m==i ) break;
        heap_item t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
    return top;
}

/* Dijkstra from one cell: dist (cells, INFINITY unreachable) and parent. heap holds 8 x cells. */
static void dijkstra(const route_grid *g, int src, double *dist, int *parent, heap_item *heap)
{
    static const int dx[8] = { 1, -1, 0, 0, 1, 1, -1, -1 }, dy[8] = { 0, 0, 1, -1, 1, -1, 1, -1 };
    int nCell = g->nx * g->ny, nHeap = 0;
    for(int i = 0; i < nCell; i++){ dist[i] = INFINITY; parent[i] = -1; }
    dist[src] = 0;
    heap_push(heap, &nHeap, (heap_item){ 0, src });
    while( nHeap > 0 ){
        heap_item it = heap_pop(heap, &nHeap);
        int x = it.c % g->nx, y = it.c / g->nx;
        if( it.d > dist[it.c] ) continue;
        for(int k = 0; k < 8; k++){
            int nx = x + dx[k], ny = y + dy[k], nb;
            double nd;
            if( nx < 0 || ny < 0 || nx >= g->nx || ny >= g->ny ) continue;
            nb = ny * g->nx + nx;
            if( !g->free[nb] ) continue;
            /* no squeezing diagonally between two blocked cells */
            if( k >= 4 && (!g->free[y * g->nx + nx] || !g->free[ny * g->nx + x]) ) continue;
            nd = it.d + (k >= 4 ? 1.4142135623730951 : 1.0);
            if( nd < dist[nb] ){
                dist[nb] = nd;
                parent[nb] = it.c;
                assert(nHeap < 8 * nCell);
                heap_push(heap, &nHeap, (heap_item){ nd, nb });
            }
        }
    }
}

/* Pulls the grid path from src to dst straight and measures it against the chord. */
static void measure_leg(const route_grid *g, const int *parent, int src, int dst, int *path, route_leg *leg)
{
    int m = 0;
    double a[2], b[2], len, pulled = 0, dev = 0;
    for(int c = dst; c >= 0; c = parent[c]){
        path[m++] = c;
        if( c==src ) break;
    }
    assert(path[m - 1]==src);
    /* path runs dst .. src; walk it from src */
    cell_centre(g, src, a);
    cell_centre(g, dst, b);
    len = hypot(b[0] - a[0], b[1] - a[1]);
    leg->length = len;
    leg->chord[0] = len > 0 ? (b[0] - a[0]) / len : 0;
    leg->chord[1] = len > 0 ? (b[1] - a[1]) / len : 0;
    {
        int at = m - 1;
        double p[2];
        cell_centre(g, path[at], p);
        while( at > 0 ){
            int next = at - 1;
            double q[2];
            /* jump to the farthest cell still visible, stopping at the first that is not */
            while( next > 0 ){
                double r[2];
                cell_centre(g, path[next - 1], r);
                if( !line_of_sight(g, p, r) ) break;
                next--;
            }
            cell_centre(g, path[next], q);
            pulled += hypot(q[0] - p[0], q[1] - p[1]);
            /* distance of the vertex from the chord line */
            if( len > 0 ) dev = fmax(dev, fabs((q[0] - a[0]) * leg->chord[1] - (q[1] - a[1]) * leg->chord[0]));
            p[0] = q[0];
            p[1] = q[1];
            at = next;
        }
    }
    leg->pathLength = pulled;
    leg->deviation = dev;
}

/* atWaypoint: turning back at a waypoint would retrace the last leg, so only the first turn
** (from the facing direction) may be "back". */
static int classify_turn(double a, int atWaypoint)
{
    double m = fabs(a);
    if( m >= ROUTE_BACK_MIN ) return atWaypoint ? TURN_NONE : TURN_BACK;
    if( m >= ROUTE_SIDE_MIN && m <= ROUTE_SIDE_MAX ) return a > 0 ? TURN_LEFT : TURN_RIGHT;
    return TURN_NONE;
}

static const char *turn_reason(double a)
{
    if( fabs(a) < ROUTE_SIDE_MIN ) return "a step with no turn";
    return fabs(a) >= ROUTE_BACK_MIN ? "turning back at a waypoint" : "an ambiguous turn angle";
}

/* The instance ids of a category, for the record's objects. */
static json_t *facing_ids(const ann_qa_ctx *c, int k)
{
    const ann_cat *C = &c->cat->cat[k];
    json_t *a = json_array();
    for(int i = 0; i < C->nInst; i++) json_array_append_new(a, json_integer(c->s->obj[c->cat->member[C->first + i]].id));
    return a;
}

int ann_route_questions(ann_qa_ctx *c)
{
    ann_scene *s = c->s;
    const ann_catalog *K = c->cat;
    route_grid g;
    int rc = SPTT_OK, nU = 0, nCell, keep;
    int *u = NULL, *appr = NULL, *parent = NULL, *path = NULL;
    double *dist = NULL;
    heap_item *heap = NULL;
    route_leg *leg = NULL;
    route_cand *cand = NULL;
    size_t n = 0, cap = 0;

    memset(&g, 0, sizeof g);
    if( s->nLoops==0 ){
        ann_qa_reject(c, "no room outline");
        return SPTT_OK;
    }
    u = sptt_calloc((size_t)K->nCat + 1, sizeof *u);
    appr = sptt_calloc((size_t)K->nCat + 1, sizeof *appr);
    if( !u || !appr ){ rc = SPTT_ENOMEM; goto done; }
    for(int k = 0; k < K->nCat; k++) if( ann_catalog_unique(K, k) ) u[nU++] = ann_catalog_only(K, k);
    if( nU < 3 ){
        ann_qa_reject(c, "fewer than three unique objects");
        goto done;
    }
    if( (rc = grid_build(s, &g)) ) goto done;
    nCell = g.nx * g.ny;
    dist = sptt_calloc((size_t)nCell + 1, sizeof *dist);
    parent = sptt_calloc((size_t)nCell + 1, sizeof *parent);
    path = sptt_calloc((size_t)nCell + 1, sizeof *path);
    heap = sptt_calloc(8 * (size_t)nCell + 1, sizeof *heap);
    leg = sptt_calloc((size_t)nU * (size_t)nU + 1, sizeof *leg);
    if( !dist || !parent || !path || !heap || !leg ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < nU; i++){
        appr[i] = approach_cell(&g, &s->obj[u[i]]);
        if( appr[i] < 0 ) ann_qa_reject(c, "object without a free cell within reach");
    }
    for(int i = 0; i < nU; i++){
        if( appr[i] < 0 ) continue;
        dijkstra(&g, appr[i], dist, parent, heap);
        for(int j = 0; j < nU; j++){
            route_leg *L = &leg[i * nU + j];
            if( j==i || appr[j] < 0 ) continue;
            if( !isfinite(dist[appr[j]]) ){
                ann_qa_reject(c, "leg unreachable");
                continue;
            }
            measure_leg(&g, parent, appr[i], appr[j], path, L);
            if( L->length < ROUTE_MIN_LEG ) ann_qa_reject(c, "leg shorter than 1 m");
            else if( L->deviation > fmax(ROUTE_MAX_DEVIATION, ROUTE_MAX_BEND * L->length) ) ann_qa_reject(c, "leg bends around obstacles");
            else L->ok = 1;
        }
    }

    /* Routes: start, one or two waypoints, destination; then a facing object that makes the
    ** first turn clear. */
    for(int nWay = 1; nWay <= 2; nWay++){
        int seq[4];
        int nObj = nWay + 2;
        for(int a = 0; a < nU; a++){
            seq[0] = a;
            for(int b = 0; b < nU; b++){
                if( b==a || !leg[a * nU + b].ok ) continue;
                seq[1] = b;
                for(int d = 0; d < nU; d++){
                    route_cand r;
                    int ok = 1, nF = 0, aF[64];
                    double aAng[64];
                    if( d==a || d==b || !leg[b * nU + d].ok ) continue;
                    seq[2] = d;
                    for(int e = (nWay==2 ? 0 : -1); e < (nWay==2 ? nU : 0); e++){
                        if( nWay==2 ){
                            if( e==a || e==b || e==d || !leg[d * nU + e].ok ) continue;
                            seq[3] = e;
                        }
                        ok = 1;
                        /* the walk never comes back to a stop it has left */
                        for(int x = 0; x < nObj && ok; x++){
                            for(int y = x + 2; y < nObj && ok; y++){
                                double px[2], py[2];
                                cell_centre(&g, appr[seq[x]], px);
                                cell_centre(&g, appr[seq[y]], py);
                                if( hypot(px[0] - py[0], px[1] - py[1]) < ROUTE_MIN_LEG ) ok = 0;
                            }
                        }
                        if( !ok ){
                            ann_qa_reject(c, "route returns to an earlier stop");
                            continue;
                        }
                        memset(&r, 0, sizeof r);
                        r.nWay = nWay;
                        for(int k = 0; k < 4; k++) r.obj[k] = k < nObj ? u[seq[k]] : -1;
                        /* turns at the waypoints */
                        for(int w = 1; w <= nWay && ok; w++){
                            const route_leg *in = &leg[seq[w - 1] * nU + seq[w]], *out = &leg[seq[w] * nU + seq[w + 1]];
                            double ang = ann_turn_angle(in->chord, out->chord);
                            r.angle[w] = ang;
                            r.turn[w] = classify_turn(ang, 1);
                            if( r.turn[w]==TURN_NONE ){
                                ann_qa_reject(c, turn_reason(ang));
                                ok = 0;
                            }
                        }
                        if( !ok ) continue;
                        /* What the walker faces at the start: a category none of whose objects is
                        ** a stop of the route (facing the first waypoint needs no turn; facing the
                        ** destination would give the answer away). It may have several instances
                        ** when every one of them gives the same clear first turn, so "facing the
                        ** chair" means one thing whichever chair is meant. */
                        nF = 0;
                        for(int f = 0; f < K->nCat && nF < 64; f++){
                            double p[2], ang0 = 0;
                            int used = 0, turn0 = TURN_NONE, agree = K->cat[f].nBox > 0 && K->cat[f].nBox==K->cat[f].nInst;
                            for(int x = 0; x < nObj; x++) used |= K->catOf[u[seq[x]]]==f;
                            if( used || !agree ) continue;
                            cell_centre(&g, appr[seq[0]], p);
                            for(int i = 0; i < K->cat[f].nInst && agree; i++){
                                const ann_object *o = &s->obj[K->member[K->cat[f].first + i]];
                                double h[2] = { o->box.center[0] - p[0], o->box.center[1] - p[1] }, ang;
                                int t;
                                if( hypot(h[0], h[1]) < 0.5 ){ agree = 0; break; }
                                ang = ann_turn_angle(h, leg[seq[0] * nU + seq[1]].chord);
                                t = classify_turn(ang, 0);
                                if( t==TURN_NONE || (i > 0 && t!=turn0) ) agree = 0;
                                if( i==0 ){ turn0 = t; ang0 = ang; }
                            }
                            if( !agree ) continue;
                            aAng[nF] = ang0;
                            aF[nF++] = f;
                        }
                        if( nF==0 ){
                            ann_qa_reject(c, "no facing object gives a clear first turn");
                            continue;
                        }
                        {
                            int pick = (int)sptt_rng_below(&c->rng, (uint32_t)nF);
                            r.facing = aF[pick];
                            r.angle[0] = aAng[pick];
                            r.turn[0] = classify_turn(aAng[pick], 0);
                        }
                        if( n==cap ){
                            size_t nc = cap ? 2 * cap : 64;
                            route_cand *gr = sptt_realloc(cand, nc * sizeof *gr);
                            if( !gr ){ rc = SPTT_ENOMEM; goto done; }
                            cand = gr;
                            cap = nc;
                        }
                        cand[n++] = r;
                    }
                }
            }
        }
    }

    keep = ann_qa_keep(c, cand, (int)n, sizeof *cand);
    for(int q = 0; q < keep && rc==SPTT_OK; q++){
        route_cand *r = &cand[q];
        int nTurn = r->nWay + 1, blank[3] = { 1, 1, 1 }, nBlank = nTurn, answer = 0, step = 1, nSeq = 1;
        int nObj = r->nWay + 2;
        const char *az[4];
        char azText[4][160], zQ[1024], zSteps[640] = "";
        int seqs[27];
        json_t *turns = json_array(), *angles = json_array(), *ways = json_array(), *legs = json_array();
        json_t *pts = json_array();
        /* with three turns, one of them may be given away */
        if( nTurn==3 && sptt_rng_below(&c->rng, 2) ){
            blank[sptt_rng_below(&c->rng, 3)] = 0;
            nBlank = 2;
        }
        for(int t = 0; t < nTurn; t++){
            const char *zNext = K->cat[K->catOf[r->obj[t + 1]]].zName;
            snprintf(zSteps + strlen(zSteps), sizeof zSteps - strlen(zSteps), "%s%d. %s %d. Go forward until the %s",
                     t ? " " : "", step, blank[t] ? "[please fill in]" : azTurn[r->turn[t]], step + 1, zNext);
            step += 2;
            if( blank[t] ) answer = answer * 3 + r->turn[t];
        }
        for(int k = 0; k < nBlank; k++) nSeq *= 3;
        for(int k = 0, at = 0; k < nSeq; k++) if( k!=answer ) seqs[at++] = k;
        sptt_rng_shuffle(&c->rng, seqs, (size_t)nSeq - 1, sizeof seqs[0]);
        for(int o = 0; o < 4; o++){
            int code = o==0 ? answer : seqs[o - 1], digits[3];
            azText[o][0] = 0;
            for(int k = nBlank - 1; k >= 0; k--){ digits[k] = code % 3; code /= 3; }
            for(int k = 0; k < nBlank; k++)
                snprintf(azText[o] + strlen(azText[o]), sizeof azText[o] - strlen(azText[o]), "%s%s", k ? ", " : "",
                         azTurn[digits[k]]);
            az[o] = azText[o];
        }
        snprintf(zQ, sizeof zQ, "You are a robot beginning at the %s facing the %s. You want to navigate to the %s. "
                 "You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' "
                 "'turn left,' or 'turn right.'): %s. You have reached the final destination.",
                 K->cat[K->catOf[r->obj[0]]].zName, K->cat[r->facing].zName,
                 K->cat[K->catOf[r->obj[nObj - 1]]].zName, zSteps);
        for(int t = 0; t < nTurn; t++){
            json_array_append_new(turns, json_string(azTurn[r->turn[t]]));
            json_array_append_new(angles, json_real(r->angle[t]));
        }
        for(int w = 1; w <= r->nWay; w++) json_array_append_new(ways, json_integer(s->obj[r->obj[w]].id));
        for(int k = 0; k < nObj; k++){
            int ui = 0;
            double p[2];
            while( u[ui]!=r->obj[k] ) ui++;
            cell_centre(&g, appr[ui], p);
            json_array_append_new(pts, json_pack("[f,f]", p[0], p[1]));
            if( k + 1 < nObj ){
                int uj = 0;
                while( u[uj]!=r->obj[k + 1] ) uj++;
                const route_leg *L = &leg[ui * nU + uj];
                json_array_append_new(legs, json_pack("{s:f,s:f,s:f}", "chord_m", L->length, "path_m", L->pathLength,
                                                      "deviation_m", L->deviation));
            }
        }
        rc = ann_qa_push_mc(c, zQ, az, 4,
                            json_pack("{s:i,s:o,s:o,s:i}", "start", s->obj[r->obj[0]].id, "facing", facing_ids(c, r->facing),
                                      "waypoints", ways, "destination", s->obj[r->obj[nObj - 1]].id),
                            json_pack("{s:o,s:o,s:o,s:o,s:f,s:f}", "turns", turns, "turn_angles_deg", angles, "legs", legs,
                                      "stops", pts, "walker_radius_m", ANN_ROUTE_RADIUS, "cell_m", g.cell));
    }

done:
    free(g.free);
    free(u);
    free(appr);
    free(dist);
    free(parent);
    free(path);
    free(heap);
    free(leg);
    free(cand);
    return rc;
}
