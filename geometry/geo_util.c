/*
** Geometry helpers: deduplication, 2D hulls, rotating calipers, eigenvectors, box frames.
*/
#include "geo_util.h"
#include "sptt_common.h"
#include "sptt_math.h"

#include <libqhull_r/qhull_ra.h>

#include <assert.h>
#include <stddef.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp2(const void *a, const void *b)
{
    const double *p = a, *q = b;
    if( p[0]!=q[0] ) return p[0] < q[0] ? -1 : 1;
    if( p[1]!=q[1] ) return p[1] < q[1] ? -1 : 1;
    return 0;
}

/*
** Lexicographic merge sort of point records, bottom-up with inline comparisons and fixed-size
** copies (one instance per dimension): several times faster than qsort's function-pointer calls
** on the 1e5-point rooms.
*/
typedef struct pt2 {
    double v[2];
} pt2;
typedef struct pt3 {
    double v[3];
} pt3;

static int less2(const pt2 *a, const pt2 *b) { return a->v[0]!=b->v[0] ? a->v[0] < b->v[0] : a->v[1] < b->v[1]; }
static int less3(const pt3 *a, const pt3 *b)
{
    if( a->v[0]!=b->v[0] ) return a->v[0] < b->v[0];
    if( a->v[1]!=b->v[1] ) return a->v[1] < b->v[1];
    return a->v[2] < b->v[2];
}

#define DEFINE_MERGE_SORT(NAME, T, LESS)                                                          \
    static int NAME(T *p, size_t n)                                                               \
    {                                                                                             \
        T *tmp, *src = p, *dst;                                                                   \
        if( n < 2 ) return SPTT_OK;                                                               \
        tmp = sptt_malloc(n * sizeof(T));                                                         \
        if( tmp==NULL ) return SPTT_ENOMEM;                                                       \
        dst = tmp;                                                                                \
        for(size_t lo = 0; lo < n; lo += 8){                                                      \
            size_t hi = lo + 8 < n ? lo + 8 : n;                                                  \
            for(size_t i = lo + 1; i < hi; i++){                                                  \
                T v = p[i];                                                                       \
                size_t j = i;                                                                     \
                while( j > lo && LESS(&v, &p[j - 1]) ){                                           \
                    p[j] = p[j - 1];                                                              \
                    j--;                                                                          \
                }                                                                                 \
                p[j] = v;                                                                         \
            }                                                                                     \
        }                                                                                         \
        for(size_t width = 8; width < n; width *= 2){                                             \
            for(size_t lo = 0; lo < n; lo += 2 * width){                                          \
                size_t mid = lo + width < n ? lo + width : n;                                     \
                size_t hi = lo + 2 * width < n ? lo + 2 * width : n;                              \
                size_t i = lo, j = mid, k = lo;                                                   \
                while( i < mid && j < hi ) dst[k++] = LESS(&src[j], &src[i]) ? src[j++] : src[i++]; \
                while( i < mid ) dst[k++] = src[i++];                                             \
                while( j < hi ) dst[k++] = src[j++];                                              \
            }                                                                                     \
            T *t = src;                                                                           \
            src = dst;                                                                            \
            dst = t;                                                                              \
        }                                                                                         \
        if( src!=p ) memcpy(p, src, n * sizeof(T));                                               \
        free(tmp);                                                                                \
        return SPTT_OK;                                                                           \
    }

DEFINE_MERGE_SORT(sort2, pt2, less2)
DEFINE_MERGE_SORT(sort3, pt3, less3)

/*
** Larger inputs: an LSD radix sort on the first coordinate, then each run of equal first
** coordinates sorted by the others and deduplicated. The key maps a double to an unsigned integer
** with the same order (finite values, -0.0 made +0.0), so the result is exactly the
** lexicographic order the merge sort gives, in a few linear passes instead of log2(n) branchy
** ones. When every first coordinate is a float (scan coordinates are), the key is the float's
** 32 bits: half the bytes to move per pass, and fewer passes. Digits that every key shares (a
** common exponent, say) are skipped.
*/
#define RADIX_MIN 256

typedef struct key64 {
    uint64_t k;
    uint32_t i;
} key64;

typedef struct key32 {
    uint32_t k;
    uint32_t i;
} key32;

static uint64_t order_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u | ((uint64_t)1 << 63);
}

static uint32_t order_key32(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 31) ? ~u : u | 0x80000000u;
}

/* LSD radix sort of records with a `k` member over `bytes` key bytes; a and b hold n each, the
** sorted records end in *pa. */
#define DEFINE_RADIX(NAME, T)                                                                 \
    static void NAME(T **pa, T **pb, size_t n, int bytes, uint32_t (*hist)[256])              \
    {                                                                                         \
        T *a = *pa, *b = *pb;                                                                 \
        for(int s = 0; s < bytes; s++){                                                       \
            uint32_t off = 0, *h = hist[s];                                                   \
            T *t;                                                                             \
            if( h[(a[0].k >> (8 * s)) & 255]==n ) continue; /* every key has this digit */   \
            for(int c = 0; c < 256; c++){                                                     \
                uint32_t cnt = h[c];                                                          \
                h[c] = off;                                                                   \
                off += cnt;                                                                   \
            }                                                                                 \
            for(size_t i = 0; i < n; i++) b[h[(a[i].k >> (8 * s)) & 255]++] = a[i];          \
            t = a;                                                                            \
            a = b;                                                                            \
            b = t;                                                                            \
        }                                                                                     \
        *pa = a;                                                                              \
        *pb = b;                                                                              \
    }

DEFINE_RADIX(radix64, key64)
DEFINE_RADIX(radix32, key32)

/* The value with -0.0 made +0.0: the same point must not depend on which zero it came with. */
static double plus_zero(double v) { return v==0 ? 0 : v; }

/*
** Sorted, deduplicated copy of n >= RADIX_MIN finite points into q (n * dim doubles); returns the
** distinct count, or -1 when out of memory.
*/
static ptrdiff_t radix_sorted_unique(const double *p, size_t n, int dim, double *q)
{
    const size_t d = (size_t)dim;
    uint32_t (*hist)[256] = sptt_calloc(8, sizeof *hist);
    void *bufA = sptt_malloc(n * sizeof(key64)), *bufB = sptt_malloc(n * sizeof(key64));
    uint32_t *order = NULL;
    uint8_t *isEnd = sptt_malloc(n);
    size_t m = 0;
    int floats = 1;
    ptrdiff_t rc = -1;
    if( hist==NULL || bufA==NULL || bufB==NULL || isEnd==NULL ) goto cleanup;
    for(size_t i = 0; i < n && floats; i++){
        double x = p[d * i];
        floats = fabs(x) <= FLT_MAX && (double)(float)x==x;
    }
    if( floats ){
        key32 *a = bufA, *b = bufB;
        for(size_t i = 0; i < n; i++){
            uint32_t k = order_key32((float)plus_zero(p[d * i]));
            a[i].k = k;
            a[i].i = (uint32_t)i;
            for(int s = 0; s < 4; s++) hist[s][(k >> (8 * s)) & 255]++;
        }
        radix32(&a, &b, n, 4, hist);
        /* Where each run of equal keys ends, then the order alone (in the free buffer). */
        for(size_t i = 0; i < n; i++) isEnd[i] = (uint8_t)(i + 1==n || a[i + 1].k!=a[i].k);
        order = (uint32_t *)b;
        for(size_t i = 0; i < n; i++) order[i] = a[i].i;
    }else{
        key64 *a = bufA, *b = bufB;
        for(size_t i = 0; i < n; i++){
            uint64_t k = order_key(plus_zero(p[d * i]));
            a[i].k = k;
            a[i].i = (uint32_t)i;
            for(int s = 0; s < 8; s++) hist[s][(k >> (8 * s)) & 255]++;
        }
        radix64(&a, &b, n, 8, hist);
        for(size_t i = 0; i < n; i++) isEnd[i] = (uint8_t)(i + 1==n || a[i + 1].k!=a[i].k);
        order = (uint32_t *)b;
        for(size_t i = 0; i < n; i++) order[i] = a[i].i;
    }
    {
        size_t start = 0;
        for(size_t i = 0; i < n; i++){
            double *w = q + d * m;
            size_t len, u;
            for(size_t k = 0; k < d; k++) w[d * (i - start) + k] = plus_zero(p[d * order[i] + k]);
            if( !isEnd[i] ) continue;
            /* A run of equal first coordinates: by the others, then its repeats dropped. */
            len = i + 1 - start;
            if( len > 1 ){
                if( len <= 16 ){
                    if( dim==2 ){
                        pt2 *v = (pt2 *)w;
                        for(size_t x = 1; x < len; x++){
                            pt2 t = v[x];
                            size_t y = x;
                            while( y > 0 && less2(&t, &v[y - 1]) ){
                                v[y] = v[y - 1];
                                y--;
                            }
                            v[y] = t;
                        }
                    }else{
                        pt3 *v = (pt3 *)w;
                        for(size_t x = 1; x < len; x++){
                            pt3 t = v[x];
                            size_t y = x;
                            while( y > 0 && less3(&t, &v[y - 1]) ){
                                v[y] = v[y - 1];
                                y--;
                            }
                            v[y] = t;
                        }
                    }
                }else if( (dim==2 ? sort2((pt2 *)w, len) : sort3((pt3 *)w, len))!=SPTT_OK ){
                    goto cleanup;
                }
            }
            u = 1;
            for(size_t x = 1; x < len; x++){
                const double *c = w + d * x, *prev = w + d * (u - 1);
                /* Equal values are equal bits here: no NaN, and zeros were made +0.0. */
                if( c[0]==prev[0] && c[1]==prev[1] && (d==2 || c[2]==prev[2]) ) continue;
                memmove(w + d * u, c, d * sizeof(double));
                u++;
            }
            m += u;
            start = i + 1;
        }
    }
    rc = (ptrdiff_t)m;
cleanup:
    free(hist);
    free(bufA);
    free(bufB);
    free(isEnd);
    return rc;
}

int geo_sort_lex3(double *p, size_t n)
{
    return sort3((pt3 *)p, n);
}

int geo_cmp_lex3(const void *a, const void *b)
{
    const double *p = a, *q = b;
    for(int k = 0; k < 3; k++)
        if( p[k]!=q[k] ) return p[k] < q[k] ? -1 : 1;
    return 0;
}

int geo_sorted_unique(const double *p, size_t n, int dim, double **pOut, size_t *pm, size_t *pnDup)
{
    double *q;
    size_t m = 0, d = (size_t)dim;
    int rc;
    assert(dim==2 || dim==3);
    *pOut = NULL;
    *pm = 0;
    *pnDup = 0;
    for(size_t i = 0; i < n * d; i++)
        if( !isfinite(p[i]) ) return sptt_fail(SPTT_EINVAL, "point %zu: non-finite coordinate", i / d);
    q = sptt_malloc(sptt_mul_size(n ? n : 1, d * sizeof(double)));
    if( q==NULL ) return SPTT_ENOMEM;
    if( n >= RADIX_MIN && n <= UINT32_MAX ){
        ptrdiff_t mm = radix_sorted_unique(p, n, dim, q);
        if( mm < 0 ){
            free(q);
            return SPTT_ENOMEM;
        }
        *pOut = q;
        *pm = (size_t)mm;
        *pnDup = n - (size_t)mm;
        return SPTT_OK;
    }
    if( n ) memcpy(q, p, n * d * sizeof(double));
    /* -0.0 and 0.0 are the same point and must not depend on which came first. */
    for(size_t i = 0; i < n * d; i++)
        if( q[i]==0 ) q[i] = 0;
    rc = dim==2 ? sort2((pt2 *)q, n) : sort3((pt3 *)q, n);
    if( rc ){
        free(q);
        return rc;
    }
    for(size_t i = 0; i < n; i++){
        const double *a = q + d * i;
        /* Equal values are equal bits here: no NaN, and zeros were made +0.0. */
        if( m > 0 ){
            const double *b = q + d * (m - 1);
            if( a[0]==b[0] && a[1]==b[1] && (d==2 || a[2]==b[2]) ) continue;
        }
        memmove(q + d * m, a, d * sizeof(double));
        m++;
    }
    *pOut = q;
    *pm = m;
    *pnDup = n - m;
    return SPTT_OK;
}

static double cross2(const double *o, const double *a, const double *b)
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

int geo_hull2d_sorted(const double *xy, int m, double *hull)
{
    int k = 0;
    if( m <= 0 ) return 0;
    if( m==1 ){
        hull[0] = xy[0];
        hull[1] = xy[1];
        return 1;
    }
    /* Lower chain left to right, then upper chain right to left; a non-left turn pops, which
    ** also drops collinear points so the calipers never see zero-length edges. */
    for(int i = 0; i < m; i++){
        while( k >= 2 && cross2(hull + 2 * (k - 2), hull + 2 * (k - 1), xy + 2 * i) <= 0 ) k--;
        hull[2 * k] = xy[2 * i];
        hull[2 * k + 1] = xy[2 * i + 1];
        k++;
    }
    for(int i = m - 2, t = k + 1; i >= 0; i--){
        while( k >= t && cross2(hull + 2 * (k - 2), hull + 2 * (k - 1), xy + 2 * i) <= 0 ) k--;
        hull[2 * k] = xy[2 * i];
        hull[2 * k + 1] = xy[2 * i + 1];
        k++;
    }
    k--;   /* the first point closes the chain */
    if( k < 2 ){
        /* All points equal after all (the caller did not deduplicate). */
        return 1;
    }
    return k;
}

int geo_hull2d(const double *xy, int m, double *work, double *hull)
{
    pt2 *w = (pt2 *)work;
    if( m <= 0 ) return 0;
    memcpy(work, xy, (size_t)m * 2 * sizeof(double));
    /* Insertion sort for the small shadows the box search makes, merge sort beyond; nothing for
    ** input that is sorted already (the XY of points sorted in 3D, for upright boxes). */
    if( m > 32 ){
        int i = 1;
        while( i < m && !less2(&w[i], &w[i - 1]) ) i++;
        if( i==m ) return geo_hull2d_sorted(work, m, hull);
    }
    if( m <= 32 ){
        for(int i = 1; i < m; i++){
            pt2 v = w[i];
            int j = i;
            while( j > 0 && less2(&v, &w[j - 1]) ){
                w[j] = w[j - 1];
                j--;
            }
            w[j] = v;
        }
    }else if( sort2(w, (size_t)m) ){
        qsort(work, (size_t)m, 2 * sizeof(double), cmp2);   /* out of memory for the merge buffer */
    }
    return geo_hull2d_sorted(work, m, hull);
}

static double dot2(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1]; }

/*
** Rotating calipers (Toussaint 1983): some minimum-area rectangle has a side flush with a hull
** edge (Freeman & Shapira 1975), so trying every edge is exact. For edge i the three other
** supporting vertices (farthest along u, farthest along v, least along u) only move forward as
** i advances, which makes the whole sweep O(h).
*/
void geo_min_rect(const double *hull, int h, geo_rect *r)
{
    int j = 0, k = 0, l = 0;
    memset(r, 0, sizeof *r);
    r->u[0] = 1;
    if( h==1 ){
        r->lo[0] = r->hi[0] = hull[0];
        r->lo[1] = r->hi[1] = hull[1];
        return;
    }
    if( h==2 ){
        double d[2] = { hull[2] - hull[0], hull[3] - hull[1] }, len = sqrt(d[0] * d[0] + d[1] * d[1]);
        double v[2];
        r->u[0] = d[0] / len;
        r->u[1] = d[1] / len;
        v[0] = -r->u[1];
        v[1] = r->u[0];
        r->lo[0] = dot2(r->u, hull);
        r->hi[0] = dot2(r->u, hull + 2);
        r->lo[1] = r->hi[1] = dot2(v, hull);
        return;
    }
    r->area = INFINITY;
    for(int i = 0; i < h; i++){
        const double *a = hull + 2 * i, *b = hull + 2 * (i + 1==h ? 0 : i + 1);
        double u[2] = { b[0] - a[0], b[1] - a[1] }, len = sqrt(u[0] * u[0] + u[1] * u[1]), v[2], area;
        double dj, dk, dl;
        u[0] /= len;
        u[1] /= len;
        v[0] = -u[1];
        v[1] = u[0];
        if( i==0 ){
            for(int t = 1; t < h; t++){
                if( dot2(u, hull + 2 * t) > dot2(u, hull + 2 * j) ) j = t;
                if( dot2(v, hull + 2 * t) > dot2(v, hull + 2 * k) ) k = t;
                if( dot2(u, hull + 2 * t) < dot2(u, hull + 2 * l) ) l = t;
            }
            dj = dot2(u, hull + 2 * j);
            dk = dot2(v, hull + 2 * k);
            dl = dot2(u, hull + 2 * l);
        }else{
            /* Bounded loops: on a plateau (an edge parallel to a caliper) the pointer may stop
            ** on either end, both are extreme. Each projection is computed once (the same
            ** expression as comparing both every time), and no modulo. */
            double dn;
            int jn, kn, ln;
            dj = dot2(u, hull + 2 * j);
            for(int s = 0; s < h; s++){
                jn = j + 1==h ? 0 : j + 1;
                dn = dot2(u, hull + 2 * jn);
                if( !(dn >= dj) ) break;
                j = jn;
                dj = dn;
            }
            dk = dot2(v, hull + 2 * k);
            for(int s = 0; s < h; s++){
                kn = k + 1==h ? 0 : k + 1;
                dn = dot2(v, hull + 2 * kn);
                if( !(dn >= dk) ) break;
                k = kn;
                dk = dn;
            }
            dl = dot2(u, hull + 2 * l);
            for(int s = 0; s < h; s++){
                ln = l + 1==h ? 0 : l + 1;
                dn = dot2(u, hull + 2 * ln);
                if( !(dn <= dl) ) break;
                l = ln;
                dl = dn;
            }
        }
        {
            double u0 = dl, u1 = dj;
            double v0 = dot2(v, a), v1 = dk;
            area = (u1 - u0) * (v1 - v0);
            if( area < r->area ){
                r->area = area;
                r->u[0] = u[0];
                r->u[1] = u[1];
                r->lo[0] = u0;
                r->hi[0] = u1;
                r->lo[1] = v0;
                r->hi[1] = v1;
            }
        }
    }
}

/* Cyclic Jacobi rotations: for 3x3 it converges in a handful of sweeps to full precision. */
void geo_eig3_sym(const double *A, double *vals, double *vecs)
{
    double a[9], V[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    int order[3] = { 0, 1, 2 };
    memcpy(a, A, sizeof a);
    for(int sweep = 0; sweep < 50; sweep++){
        double off = fabs(a[1]) + fabs(a[2]) + fabs(a[5]);
        double scale = fabs(a[0]) + fabs(a[4]) + fabs(a[8]);
        if( off <= 1e-300 || off <= 1e-17 * scale ) break;
        for(int p = 0; p < 2; p++){
            for(int q = p + 1; q < 3; q++){
                double apq = a[3 * p + q], theta, t, c, s;
                if( apq==0 ) continue;
                theta = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
                t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                c = 1 / sqrt(t * t + 1);
                s = t * c;
                /* a <- J^T a J with J the rotation in the (p, q) plane. */
                for(int k = 0; k < 3; k++){
                    double akp = a[3 * k + p], akq = a[3 * k + q];
                    a[3 * k + p] = c * akp - s * akq;
                    a[3 * k + q] = s * akp + c * akq;
                }
                for(int k = 0; k < 3; k++){
                    double apk = a[3 * p + k], aqk = a[3 * q + k];
                    a[3 * p + k] = c * apk - s * aqk;
                    a[3 * q + k] = s * apk + c * aqk;
                }
                for(int k = 0; k < 3; k++){
                    double vkp = V[3 * k + p], vkq = V[3 * k + q];
                    V[3 * k + p] = c * vkp - s * vkq;
                    V[3 * k + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    for(int i = 0; i < 3; i++)
        for(int j = i + 1; j < 3; j++)
            if( a[4 * order[j]] > a[4 * order[i]] ){
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for(int i = 0; i < 3; i++){
        vals[i] = a[4 * order[i]];
        for(int k = 0; k < 3; k++) vecs[3 * i + k] = V[3 * k + order[i]];
    }
    geo_orthonormalize(vecs);
}

void geo_orthonormalize(double *R)
{
    double d;
    sptt_normalize3(R);
    d = sptt_dot3(R, R + 3);
    for(int k = 0; k < 3; k++) R[3 + k] -= d * R[k];
    sptt_normalize3(R + 3);
    sptt_cross3(R, R + 3, R + 6);
}

void geo_box_in_frame(const double *R, const double *p, size_t m, const double *offset, sptt_box *b)
{
    double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
    for(size_t i = 0; i < m; i++){
        for(int k = 0; k < 3; k++){
            double d = sptt_dot3(R + 3 * k, p + 3 * i);
            if( d < lo[k] ) lo[k] = d;
            if( d > hi[k] ) hi[k] = d;
        }
    }
    memcpy(b->axes, R, 9 * sizeof(double));
    b->volume = 1;
    for(int k = 0; k < 3; k++){
        b->size[k] = hi[k] - lo[k];
        b->volume *= b->size[k];
    }
    for(int k = 0; k < 3; k++){
        b->center[k] = offset[k];
        for(int r = 0; r < 3; r++) b->center[k] += R[3 * r + k] * (lo[r] + hi[r]) / 2;
    }
}

void geo_box_canonical(sptt_box *b)
{
    double R[9], s[3];
    int up = 0, a, c;
    for(int k = 1; k < 3; k++)
        if( fabs(b->axes[3 * k + 2]) > fabs(b->axes[3 * up + 2]) ) up = k;
    a = (up + 1) % 3;
    c = (up + 2) % 3;
    /* The longer horizontal axis first; equal sizes keep the lower index, so the choice is
    ** still a function of the box alone. */
    if( b->size[c] > b->size[a] || (b->size[c]==b->size[a] && c < a) ){
        int t = a;
        a = c;
        c = t;
    }
    memcpy(R + 6, b->axes + 3 * up, 3 * sizeof(double));
    if( R[8] < 0 || (R[8]==0 && (R[6] < 0 || (R[6]==0 && R[7] < 0))) )
        for(int k = 6; k < 9; k++) R[k] = -R[k];
    memcpy(R, b->axes + 3 * a, 3 * sizeof(double));
    if( R[0] < -1e-12 || (fabs(R[0]) <= 1e-12 && R[1] < 0) )
        for(int k = 0; k < 3; k++) R[k] = -R[k];
    sptt_cross3(R + 6, R, R + 3);
    s[0] = b->size[a];
    s[1] = b->size[c];
    s[2] = b->size[up];
    /* -0.0 would print as "-0" in the JSON; it is the same number. */
    for(int k = 0; k < 9; k++)
        if( R[k]==0 ) R[k] = 0;
    memcpy(b->axes, R, sizeof R);
    memcpy(b->size, s, sizeof s);
}

int geo_errstream_open(geo_errstream *e)
{
    memset(e, 0, sizeof *e);
    e->fp = open_memstream(&e->z, &e->n);
    if( e->fp==NULL ) return sptt_fail(SPTT_ENOMEM, "qhull: cannot open an error stream");
    return SPTT_OK;
}

const char *geo_errstream_text(geo_errstream *e)
{
    char *nl;
    if( e->fp ){
        fclose(e->fp);
        e->fp = NULL;
    }
    if( e->z==NULL ) return "";
    /* Qhull starts its report with a blank line or two; keep the first line with text. */
    while( *e->z=='\n' ) memmove(e->z, e->z + 1, strlen(e->z));
    nl = strchr(e->z, '\n');
    if( nl ) *nl = 0;
    return e->z;
}

void geo_errstream_close(geo_errstream *e)
{
    if( e->fp ) fclose(e->fp);
    free(e->z);
    memset(e, 0, sizeof *e);
}

void geo_qhull_release(qhT *qh)
{
    int curlong, totlong;
    qh_freeqhull(qh, !qh_ALL);
    qh_memfreeshort(qh, &curlong, &totlong);
    assert(curlong==0 && totlong==0);
}

int geo_qhull_restart(qhT *qh, geo_errstream *es)
{
    int rc;
    geo_qhull_release(qh);
    geo_errstream_close(es);
    if( (rc = geo_errstream_open(es)) ) return rc;
    qh_zero(qh, es->fp);
    return SPTT_OK;
}
