/*
** Room geometry: alpha-shape area and outline, floor and ceiling heights, and the room centre.
**
** The reference draws its 10,000 points unseeded; we draw them with the seeded generator so the
** same dataset always gets the same room, and offer every point (deduplicated) for a figure that
** does not depend on a draw at all.
*/
#include "sptt_geometry.h"
#include "sptt_common.h"
#include "sptt_schemas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Labelled floor (or ceiling) points needed before their median is trusted over percentiles. */
#define MIN_LABELLED 100

/* k-th smallest of a[0..n), reordering a: quickselect with a three-way partition, which stays
** linear when many values are equal (a flat floor). */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while( hi - lo > 1 ){
        double pivot = a[lo + (hi - lo) / 2], t;
        size_t lt = lo, i = lo, gt = hi;
        while( i < gt ){
            if( a[i] < pivot ){
                t = a[lt];
                a[lt++] = a[i];
                a[i++] = t;
            }else if( a[i] > pivot ){
                t = a[--gt];
                a[gt] = a[i];
                a[i] = t;
            }else{
                i++;
            }
        }
        if( k < lt ) hi = lt;
        else if( k >= gt ) lo = gt;
        else return pivot;
    }
    return a[lo];
}

static double percentile(double *a, size_t n, double p)
{
    return select_kth(a, n, (size_t)floor(p * (double)(n - 1)));
}

/* Median of z over points labelled `label`, or NAN when fewer than MIN_LABELLED. */
static double labelled_median(const float *xyz, const uint8_t *nyu40, size_t n, int label, double *work)
{
    size_t m = 0;
    if( nyu40==NULL ) return NAN;
    for(size_t i = 0; i < n; i++)
        if( nyu40[i]==label ) work[m++] = xyz[3 * i + 2];
    if( m < MIN_LABELLED ) return NAN;
    return percentile(work, m, 0.5);
}

int sptt_room_compute(const float *xyz, const uint8_t *nyu40, size_t n, const sptt_room_opts *o, sptt_room *r)
{
    double *xy = NULL, *p = NULL, *z = NULL;
    size_t m;
    int rc = SPTT_OK;

    memset(r, 0, sizeof *r);
    if( n==0 ) return sptt_fail(SPTT_EINVAL, "room: no points");
    if( n > 0xffffffffu ) return sptt_fail(SPTT_EINVAL, "room: %zu points is too many", n);

    /* Alpha shape of the XY of all points or of a draw with replacement. */
    m = o->sample ? (size_t)o->sample : n;
    xy = sptt_malloc(sptt_mul_size(m, 2 * sizeof(double)));
    if( xy==NULL ) return SPTT_ENOMEM;
    if( o->sample ){
        sptt_rng rng;
        sptt_rng_seed(&rng, o->seed);
        for(size_t i = 0; i < m; i++){
            size_t k = sptt_rng_below(&rng, (uint32_t)n);
            xy[2 * i] = xyz[3 * k];
            xy[2 * i + 1] = xyz[3 * k + 1];
        }
    }else{
        for(size_t i = 0; i < n; i++){
            xy[2 * i] = xyz[3 * i];
            xy[2 * i + 1] = xyz[3 * i + 1];
        }
    }
    rc = sptt_alpha_shape_compute(xy, m, o->alpha > 0 ? 1.0 / o->alpha : INFINITY, &r->shape);
    if( rc ) goto cleanup;
    r->area = r->shape.area;
    r->flags |= r->shape.flags;

    /* Floor and ceiling: labelled medians when there are enough such points, else percentiles
    ** of all heights (robust to a few stray points below the floor or above the ceiling). */
    z = sptt_malloc(n * sizeof(double));
    if( z==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    r->floorZ = labelled_median(xyz, nyu40, n, SPTT_NYU40_FLOOR, z);
    r->ceilingZ = labelled_median(xyz, nyu40, n, SPTT_NYU40_CEILING, z);
    if( isnan(r->floorZ) || isnan(r->ceilingZ) ){
        for(size_t i = 0; i < n; i++) z[i] = xyz[3 * i + 2];
        if( isnan(r->floorZ) ){
            r->flags |= SPTT_ROOM_NO_FLOOR;
            r->floorZ = percentile(z, n, 0.01);
        }
        if( isnan(r->ceilingZ) ){
            r->flags |= SPTT_ROOM_NO_CEILING;
            r->ceilingZ = percentile(z, n, 0.99);
        }
    }
    r->height = fmax(0.0, r->ceilingZ - r->floorZ);

    /* Centre: the minimal-volume box of every point, as the reference defines it. */
    p = sptt_malloc(sptt_mul_size(n, 3 * sizeof(double)));
    if( p==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(size_t i = 0; i < 3 * n; i++) p[i] = xyz[i];
    rc = sptt_obb_minimal(p, n, &r->box);
    if( rc ) goto cleanup;
    memcpy(r->center, r->box.center, sizeof r->center);
    if( r->box.flags & (SPTT_BOX_FEW_POINTS | SPTT_BOX_COLLINEAR | SPTT_BOX_COPLANAR | SPTT_BOX_HULL_FAILED) )
        r->flags |= SPTT_ROOM_BOX_DEGENERATE;
cleanup:
    free(xy);
    free(z);
    free(p);
    if( rc ) sptt_room_free(r);
    return rc;
}

void sptt_room_free(sptt_room *r)
{
    sptt_alpha_shape_free(&r->shape);
    memset(r, 0, sizeof *r);
}
