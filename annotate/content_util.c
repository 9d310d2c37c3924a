/*
** Helpers shared by the content annotators: the category catalogue, rounding as the reference
** does it, and plane geometry on box footprints and the room outline.
*/
#include "ann_content.h"
#include "sptt_math.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
** Catalogue
*/
void ann_catalog_free(ann_catalog *c)
{
    free(c->cat);
    free(c->member);
    free(c->catOf);
    free(c->dist);
    free(c->pairObj);
    memset(c, 0, sizeof *c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ann_catalog_build(const ann_scene *s, ann_catalog *c)
{
    int rc = SPTT_OK;
    const char **az = NULL;
    int nName = 0, at = 0;

    memset(c, 0, sizeof *c);
    az = sptt_calloc((size_t)s->nObj + 1, sizeof *az);
    c->catOf = sptt_calloc((size_t)s->nObj + 1, sizeof *c->catOf);
    c->member = sptt_calloc((size_t)s->nObj + 1, sizeof *c->member);
    if( !az || !c->catOf || !c->member ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < s->nObj; i++) if( s->obj[i].zCategory[0] ) az[nName++] = s->obj[i].zCategory;
    qsort(az, (size_t)nName, sizeof *az, cmp_str);
    c->cat = sptt_calloc((size_t)nName + 1, sizeof *c->cat);
    if( !c->cat ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < nName; i++){
        if( i > 0 && strcmp(az[i], az[i - 1])==0 ) continue;
        snprintf(c->cat[c->nCat++].zName, sizeof c->cat[0].zName, "%s", az[i]);
    }
    for(int i = 0; i < s->nObj; i++){
        c->catOf[i] = -1;
        for(int k = 0; k < c->nCat && s->obj[i].zCategory[0]; k++){
            if( strcmp(c->cat[k].zName, s->obj[i].zCategory)==0 ){ c->catOf[i] = k; break; }
        }
    }
    /* Members grouped by category, boxed instances first; instances counted by distinct id
    ** (two rows with one id are one object seen twice, not two objects). */
    for(int k = 0; k < c->nCat; k++){
        ann_cat *K = &c->cat[k];
        K->first = at;
        for(int pass = 0; pass < 2; pass++){
            for(int i = 0; i < s->nObj; i++){
                int dup = 0;
                if( c->catOf[i]!=k || s->obj[i].hasBox!=(pass==0) ) continue;
                for(int j = K->first; j < at; j++) if( s->obj[c->member[j]].id==s->obj[i].id ) dup = 1;
                if( dup ) continue;
                c->member[at++] = i;
                K->nInst++;
                if( pass==0 ) K->nBox++;
            }
        }
    }
    c->dist = sptt_calloc((size_t)c->nCat * (size_t)c->nCat + 1, sizeof *c->dist);
    c->pairObj = sptt_calloc((size_t)c->nCat * (size_t)c->nCat + 1, sizeof *c->pairObj);
    if( !c->dist || !c->pairObj ){ rc = SPTT_ENOMEM; goto done; }
    for(int a = 0; a < c->nCat; a++){
        for(int b = 0; b < c->nCat; b++){
            const ann_cat *A = &c->cat[a], *B = &c->cat[b];
            double best = INFINITY;
            int who = -1;
            for(int i = 0; i < A->nBox && a!=b; i++){
                for(int j = 0; j < B->nBox; j++){
                    const ann_object *oa = &s->obj[c->member[A->first + i]], *ob = &s->obj[c->member[B->first + j]];
                    double d = sptt_box_distance(&oa->box, &ob->box);
                    if( d < best ){ best = d; who = c->member[A->first + i]; }
                }
            }
            c->dist[a * c->nCat + b] = best;
            c->pairObj[a * c->nCat + b] = who;
        }
    }

done:
    free(az);
    if( rc ) ann_catalog_free(c);
    return rc;
}

int ann_catalog_unique(const ann_catalog *c, int k)
{
    return c->cat[k].nInst==1 && c->cat[k].nBox==1;
}

int ann_catalog_only(const ann_catalog *c, int k)
{
    assert(ann_catalog_unique(c, k));
    return c->member[c->cat[k].first];
}

/* ---------------------------------------------------------------------------------------------
** Rounding
*/
void ann_fmt_round(double x, int d, char *z, size_t n)
{
    /* glibc's printf rounds the exact binary value correctly, ties to even, which is what
    ** Python's round() does; the reference rounds with round(). */
    snprintf(z, n, "%.*f", d, x);
    if( z[0]=='-' ){
        /* "-0.0" reads badly and is 0 */
        int allZero = 1;
        for(const char *p = z + 1; *p; p++) if( *p!='0' && *p!='.' ) allZero = 0;
        if( allZero ) memmove(z, z + 1, strlen(z));
    }
}

double ann_round(double x, int d)
{
    char z[64];
    ann_fmt_round(x, d, z, sizeof z);
    return strtod(z, NULL);
}

/* ---------------------------------------------------------------------------------------------
** Plane geometry
*/
static double cross2(const double *o, const double *a, const double *b)
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static int cmp_pt(const void *a, const void *b)
{
    const double *p = a, *q = b;
    if( p[0]!=q[0] ) return p[0] < q[0] ? -1 : 1;
    if( p[1]!=q[1] ) return p[1] < q[1] ? -1 : 1;
    return 0;
}

int ann_box_footprint(const sptt_box *b, double hull[8][2])
{
    double c[24], pts[8][2], h[17][2];
    int k = 0;
    sptt_box_corners(b, c);
    for(int i = 0; i < 8; i++){
        pts[i][0] = c[3 * i];
        pts[i][1] = c[3 * i + 1];
    }
    qsort(pts, 8, sizeof pts[0], cmp_pt);
    /* Andrew's monotone chain; collinear points dropped. */
    for(int i = 0; i < 8; i++){
        while( k >= 2 && cross2(h[k - 2], h[k - 1], pts[i]) <= 1e-12 ) k--;
        h[k][0] = pts[i][0]; h[k][1] = pts[i][1]; k++;
    }
    for(int i = 6, lo = k + 1; i >= 0; i--){
        while( k >= lo && cross2(h[k - 2], h[k - 1], pts[i]) <= 1e-12 ) k--;
        h[k][0] = pts[i][0]; h[k][1] = pts[i][1]; k++;
    }
    k--;
    if( k < 1 ) k = 1;
    assert(k <= 8);
    for(int i = 0; i < k; i++){ hull[i][0] = h[i][0]; hull[i][1] = h[i][1]; }
    return k;
}

void ann_box_zrange(const sptt_box *b, double *z0, double *z1)
{
    double h = 0;
    /* Half the vertical extent is the sum of each half edge's vertical component. */
    for(int a = 0; a < 3; a++) h += fabs(b->axes[3 * a + 2]) * b->size[a] / 2;
    *z0 = b->center[2] - h;
    *z1 = b->center[2] + h;
}

static double seg_distance(const double *a, const double *b, const double *p)
{
    double d[2] = { b[0] - a[0], b[1] - a[1] }, l2 = d[0] * d[0] + d[1] * d[1], t = 0;
    if( l2 > 0 ) t = ((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / l2;
    if( t < 0 ) t = 0;
    if( t > 1 ) t = 1;
    return hypot(a[0] + t * d[0] - p[0], a[1] + t * d[1] - p[1]);
}

double ann_poly_distance(const double (*poly)[2], int n, const double *p)
{
    int inside = n >= 3;
    double best = INFINITY;
    for(int i = 0; i < n; i++){
        const double *a = poly[i], *b = poly[(i + 1) % n];
        if( cross2(a, b, p) < 0 ) inside = 0;
        best = fmin(best, seg_distance(a, b, p));
    }
    return inside ? 0 : best;
}

double ann_poly_area(const double (*poly)[2], int n)
{
    double a = 0;
    for(int i = 0; i < n; i++){
        const double *p = poly[i], *q = poly[(i + 1) % n];
        a += p[0] * q[1] - q[0] * p[1];
    }
    return fabs(a) / 2;
}

int ann_room_contains(const ann_scene *s, const double *p)
{
    int in = 0, at = 0;
    for(int l = 0; l < s->nLoops; l++){
        int n = s->loopLen[l];
        for(int i = 0, j = n - 1; i < n; j = i++){
            const double *a = s->loopPts[at + i], *b = s->loopPts[at + j];
            if( (a[1] > p[1])!=(b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] ) in = !in;
        }
        at += n;
    }
    return in;
}

double ann_room_edge_distance(const ann_scene *s, const double *p)
{
    double best = INFINITY;
    int at = 0;
    for(int l = 0; l < s->nLoops; l++){
        int n = s->loopLen[l];
        for(int i = 0; i < n; i++) best = fmin(best, seg_distance(s->loopPts[at + i], s->loopPts[at + (i + 1) % n], p));
        at += n;
    }
    return best;
}

double ann_turn_angle(const double *u, const double *v)
{
    double a = atan2(u[0] * v[1] - u[1] * v[0], u[0] * v[0] + u[1] * v[1]) * 180.0 / SPTT_PI;
    if( a <= -180.0 ) a += 360.0;
    return a;
}

/* ---------------------------------------------------------------------------------------------
** Names
*/
const char *ann_object_name(const ann_object *o)
{
    if( o->zCategory[0] ) return o->zCategory;
    /* wall, floor, ceiling and the catch-all classes name nothing a reader could find */
    if( o->nyu40==1 || o->nyu40==2 || o->nyu40==22 ) return "";
    if( o->nyu40 >= 38 && o->nyu40 <= 40 ) return "";
    if( o->zLabel[0] && strncmp(o->zLabel, "other", 5)!=0 ) return o->zLabel;
    if( strcmp(o->zRaw, "wall")==0 || strcmp(o->zRaw, "floor")==0 || strcmp(o->zRaw, "ceiling")==0 ) return "";
    return o->zRaw;
}
