/*
** Scene graph: pairwise relations between the objects that have a box (structure excluded).
**
** supported_by  S rests on P. S's footprint centre (XY) lies inside P's footprint, and either
**               (a) S's lowest corner is within ANN_REL_SUPPORT_TOL (5 cm) of P's highest corner
**               (S stands on P's top face), or (b) S's bottom lies inside P's height range, at
**               least 15 cm above P's bottom, with S's whole footprint inside P's (a seat or a
**               mattress below a back or headboard, a shelf inside a cabinet). (a) wins over
**               (b); within (a) the smallest gap, within (b) the smallest supporter. value = S's
**               bottom minus P's top (negative for (b)). At most one supporter per object.
**               Objects that hang on a wall get none: footprint thinner than 12 cm, at least three
**               times as tall as thick, centre within 20 cm of the room outline (a picture whose
**               lower edge happens to be level with a desk below it does not stand on the desk).
** near          closest-box distance (sptt_box_distance) at most ANN_REL_NEAR (0.5 m), for pairs
**               not already linked by support; stored once per pair, subject = the earlier
**               object; value = the distance.
** left_of, right_of, in_front_of, behind
**               S relative to O as seen from the camera of S's first frame (firstFrame): the
**               camera's viewing direction flattened onto the floor gives forward, and right is
**               forward turned clockwise. d = centre(S) - centre(O) in the floor plane: left/right
**               when the sideways part dominates, in front (nearer the camera) / behind when the
**               depth part does; pairs within ANN_REL_VIEW_MARGIN (10 degrees) of a diagonal, or
**               whose centres are under 10 cm apart, or whose boxes are more than
**               ANN_REL_VIEW_RANGE (2 m) apart, or with either centre behind the camera, get
**               none. Skipped when the camera looks (nearly) straight down. value = bearing of S
**               from O in degrees, clockwise from the viewing direction (0 = farther away, 90 =
**               to the right, -90 = to the left, 180 = nearer).
** between       S lies between A and B: S's centre is within ANN_REL_BETWEEN_PERP (0.3 m) of the
**               segment joining A's and B's centres (floor plane), projecting onto its middle
**               60 %, the segment is 0.6 - 6 m long, S's height range meets theirs, S overlaps
**               neither and is not stacked on or under either. Only the best pair per S (the
**               smallest offset) is kept. value = the offset.
*/
#include "ann_content.h"
#include "sptt_math.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WALL_THICK 0.12      /* metres: thinner objects ... */
#define WALL_NEAR  0.20      /* ... this close to the outline, and three times as tall as thick, hang */

typedef struct rel_obj {
    int idx;                 /* object index */
    double hull[8][2];
    int nHull;
    double area;
    double z0, z1;
    int wallHung;            /* thin, upright and at the outline: hangs on the wall */
} rel_obj;

/* The smallest width of a convex polygon (rotating calipers over its edges). */
static double hull_width(const double (*h)[2], int n)
{
    double best = INFINITY;
    for(int i = 0; i < n && n >= 3; i++){
        const double *a = h[i], *b = h[(i + 1) % n];
        double e[2] = { b[0] - a[0], b[1] - a[1] }, l = hypot(e[0], e[1]), far = 0;
        if( l <= 0 ) continue;
        for(int k = 0; k < n; k++) far = fmax(far, fabs((h[k][0] - a[0]) * e[1] - (h[k][1] - a[1]) * e[0]) / l);
        best = fmin(best, far);
    }
    return n >= 3 ? best : 0;
}

static int push_rel(ann_output *out, int subject, const char *zRel, int object, int object2, double value, int frame)
{
    ann_relation *r;
    if( out->nRel==out->capRel ){
        size_t cap = out->capRel ? 2 * out->capRel : 64;
        ann_relation *g = sptt_realloc(out->rel, cap * sizeof *g);
        if( !g ) return SPTT_ENOMEM;
        out->rel = g;
        out->capRel = cap;
    }
    r = &out->rel[out->nRel++];
    memset(r, 0, sizeof *r);
    r->subject = subject;
    snprintf(r->zRelation, sizeof r->zRelation, "%s", zRel);
    r->object = object;
    r->object2 = object2;
    r->value = value;
    r->frame = frame;
    return SPTT_OK;
}

static int inside_hull(const rel_obj *P, const double *p, double tol)
{
    return ann_poly_distance((const double (*)[2])P->hull, P->nHull, p) <= tol;
}

/* The supporter of S among the objects, or -1; *pGap gets value. */
static int find_support(const ann_scene *s, const rel_obj *R, int n, int iS, double *pGap)
{
    const rel_obj *S = &R[iS];
    const double *c = s->obj[S->idx].box.center;
    int bestA = -1, bestB = -1;
    double gapA = INFINITY, areaB = INFINITY;
    for(int j = 0; j < n; j++){
        const rel_obj *P = &R[j];
        if( S->wallHung ) break;
        if( j==iS || !inside_hull(P, c, 0) ) continue;
        if( fabs(S->z0 - P->z1) <= ANN_REL_SUPPORT_TOL ){
            if( fabs(S->z0 - P->z1) < gapA ){ gapA = fabs(S->z0 - P->z1); bestA = j; }
            continue;
        }
        if( S->z0 >= P->z0 + 0.15 && S->z0 < P->z1 ){
            int all = 1;
            for(int k = 0; k < S->nHull && all; k++) if( !inside_hull(P, S->hull[k], 0.02) ) all = 0;
            if( all && P->area < areaB ){ areaB = P->area; bestB = j; }
        }
    }
    if( bestA >= 0 ){
        *pGap = S->z0 - R[bestA].z1;
        return bestA;
    }
    if( bestB >= 0 ) *pGap = S->z0 - R[bestB].z1;
    return bestB;
}

int ann_relations(ann_scene *s, ann_output *out)
{
    rel_obj *R = sptt_calloc((size_t)s->nObj + 1, sizeof *R);
    int *sup = sptt_calloc((size_t)s->nObj + 1, sizeof *sup);
    int n = 0, rc = SPTT_OK;
    if( !R || !sup ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < s->nObj; i++){
        const ann_object *o = &s->obj[i];
        if( !o->hasBox || o->nyu40==1 || o->nyu40==2 || o->nyu40==22 ) continue;
        R[n].idx = i;
        R[n].nHull = ann_box_footprint(&o->box, R[n].hull);
        R[n].area = ann_poly_area((const double (*)[2])R[n].hull, R[n].nHull);
        ann_box_zrange(&o->box, &R[n].z0, &R[n].z1);
        {
            double w = hull_width((const double (*)[2])R[n].hull, R[n].nHull);
            R[n].wallHung = s->nLoops > 0 && w < WALL_THICK && R[n].z1 - R[n].z0 >= 3 * w
                            && ann_room_edge_distance(s, o->box.center) < WALL_NEAR;
        }
        n++;
    }

    /* support */
    for(int i = 0; i < n; i++){
        double gap = 0;
        sup[i] = find_support(s, R, n, i, &gap);
        if( sup[i] >= 0 && (rc = push_rel(out, s->obj[R[i].idx].id, "supported_by", s->obj[R[sup[i]].idx].id, 0, gap, -1)) )
            goto done;
    }

    /* near */
    for(int i = 0; i < n; i++){
        for(int j = i + 1; j < n; j++){
            double d;
            if( sup[i]==j || sup[j]==i ) continue;
            d = sptt_box_distance(&s->obj[R[i].idx].box, &s->obj[R[j].idx].box);
            if( d <= ANN_REL_NEAR && (rc = push_rel(out, s->obj[R[i].idx].id, "near", s->obj[R[j].idx].id, 0, d, -1)) )
                goto done;
        }
    }

    /* view-dependent, from the subject's first frame */
    for(int i = 0; i < n; i++){
        const ann_object *S = &s->obj[R[i].idx];
        const float *M;
        double cam[2], fwd[2], right[2], fl;
        if( S->firstFrame < 0 || (uint64_t)S->firstFrame >= s->pack.nFrames ) continue;
        M = s->pack.frames[S->firstFrame].c2w;
        /* camera z (forward) is the third column of the rotation */
        fwd[0] = M[2];
        fwd[1] = M[6];
        fl = hypot(fwd[0], fwd[1]);
        if( fl < 0.2 ) continue;
        fwd[0] /= fl;
        fwd[1] /= fl;
        right[0] = fwd[1];
        right[1] = -fwd[0];
        cam[0] = M[3];
        cam[1] = M[7];
        for(int j = 0; j < n; j++){
            const ann_object *O = &s->obj[R[j].idx];
            double d[2], lat, dep, ang, off;
            const char *zRel;
            if( j==i ) continue;
            if( (S->box.center[0] - cam[0]) * fwd[0] + (S->box.center[1] - cam[1]) * fwd[1] <= 0 ) continue;
            if( (O->box.center[0] - cam[0]) * fwd[0] + (O->box.center[1] - cam[1]) * fwd[1] <= 0 ) continue;
            d[0] = S->box.center[0] - O->box.center[0];
            d[1] = S->box.center[1] - O->box.center[1];
            if( hypot(d[0], d[1]) < 0.10 ) continue;
            if( sptt_box_distance(&S->box, &O->box) > ANN_REL_VIEW_RANGE ) continue;
            lat = d[0] * right[0] + d[1] * right[1];
            dep = d[0] * fwd[0] + d[1] * fwd[1];
            /* angle from the nearest diagonal */
            off = fabs(atan2(fabs(dep), fabs(lat)) * 180.0 / SPTT_PI - 45.0);
            if( off < ANN_REL_VIEW_MARGIN ) continue;
            if( fabs(lat) > fabs(dep) ) zRel = lat < 0 ? "left_of" : "right_of";
            else zRel = dep < 0 ? "in_front_of" : "behind";
            ang = atan2(lat, dep) * 180.0 / SPTT_PI;
            if( (rc = push_rel(out, S->id, zRel, O->id, 0, ang, S->firstFrame)) ) goto done;
        }
    }

    /* between */
    for(int i = 0; i < n; i++){
        const ann_object *S = &s->obj[R[i].idx];
        int bestA = -1, bestB = -1;
        double best = INFINITY;
        for(int a = 0; a < n; a++){
            if( a==i || sup[a]==i || sup[i]==a ) continue;
            for(int b = a + 1; b < n; b++){
                const double *pa = s->obj[R[a].idx].box.center, *pb = s->obj[R[b].idx].box.center, *ps = S->box.center;
                double ab[2] = { pb[0] - pa[0], pb[1] - pa[1] }, L2 = ab[0] * ab[0] + ab[1] * ab[1], t, perp;
                if( b==i || sup[b]==i || sup[i]==b ) continue;
                if( L2 < 0.36 || L2 > 36 ) continue;
                t = ((ps[0] - pa[0]) * ab[0] + (ps[1] - pa[1]) * ab[1]) / L2;
                if( t < 0.2 || t > 0.8 ) continue;
                perp = fabs((ps[0] - pa[0]) * ab[1] - (ps[1] - pa[1]) * ab[0]) / sqrt(L2);
                if( perp > ANN_REL_BETWEEN_PERP || perp >= best ) continue;
                if( R[i].z1 < fmin(R[a].z0, R[b].z0) || R[i].z0 > fmax(R[a].z1, R[b].z1) ) continue;
                if( sptt_box_overlap(&S->box, &s->obj[R[a].idx].box) || sptt_box_overlap(&S->box, &s->obj[R[b].idx].box) )
                    continue;
                best = perp;
                bestA = a;
                bestB = b;
            }
        }
        if( bestA >= 0 && (rc = push_rel(out, S->id, "between", s->obj[R[bestA].idx].id, s->obj[R[bestB].idx].id, best, -1)) )
            goto done;
    }

done:
    free(R);
    free(sup);
    return rc;
}
