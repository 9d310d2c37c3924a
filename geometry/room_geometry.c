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

/*
** Heights are float coordinates, and the k-th smallest float is found from its bits: a float maps
** to an unsigned key with the same order, and three histogram passes over 11, 11 and 10 bits of
** the key narrow down to the one key that is k-th. Linear, with no data-dependent branches to
** mispredict, and the same value any exact selection gives (-0.0 is taken as 0.0).
*/
static uint32_t float_key(float f)
{
    uint32_t u;
    if( f==0 ) f = 0;
    memcpy(&u, &f, sizeof u);
    return (u >> 31) ? ~u : u | 0x80000000u;
}

static double key_float(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? k & 0x7fffffffu : ~k;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* k-th smallest (0-based) of the n keys in a, which it reorders. */
static double select_kth_key(uint32_t *a, size_t n, size_t k)
{
    static const int shift[3] = { 21, 10, 0 }, bits[3] = { 11, 11, 10 };
    uint32_t prefix = 0, hist[2048];
    for(int pass = 0; pass < 3; pass++){
        uint32_t mask = (1u << bits[pass]) - 1;
        size_t below = 0, m = 0;
        int b = 0;
        memset(hist, 0, sizeof hist);
        for(size_t i = 0; i < n; i++) hist[(a[i] >> shift[pass]) & mask]++;
        while( below + hist[b] <= k ) below += hist[b++];
        k -= below;
        prefix |= (uint32_t)b << shift[pass];
        /* Keep only the keys in the chosen bucket. */
        for(size_t i = 0; i < n; i++)
            if( ((a[i] >> shift[pass]) & mask)==(uint32_t)b ) a[m++] = a[i];
        n = m;
    }
    return key_float(prefix);
}

static size_t percentile_rank(size_t n, double p)
{
    return (size_t)floor(p * (double)(n - 1));
}

int sptt_room_compute(const float *xyz, const uint8_t *nyu40, size_t n, const sptt_room_opts *o, sptt_room *r)
{
    double *xy = NULL;
    uint32_t *z = NULL;
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
    ** of all heights (robust to a few stray points below the floor or above the ceiling). One
    ** pass collects both labels, floor keys from the front of z, ceiling keys from the back. */
    z = sptt_malloc(n * sizeof(uint32_t));
    if( z==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    {
        size_t nFloor = 0, nCeil = 0;
        r->floorZ = r->ceilingZ = NAN;
        for(size_t i = 0; i < n && nyu40; i++){
            if( nyu40[i]==SPTT_NYU40_FLOOR ) z[nFloor++] = float_key(xyz[3 * i + 2]);
            else if( nyu40[i]==SPTT_NYU40_CEILING ) z[n - 1 - nCeil++] = float_key(xyz[3 * i + 2]);
        }
        if( nFloor >= MIN_LABELLED ) r->floorZ = select_kth_key(z, nFloor, percentile_rank(nFloor, 0.5));
        if( nCeil >= MIN_LABELLED ) r->ceilingZ = select_kth_key(z + n - nCeil, nCeil, percentile_rank(nCeil, 0.5));
    }
    if( isnan(r->floorZ) || isnan(r->ceilingZ) ){
        if( isnan(r->floorZ) ){
            for(size_t i = 0; i < n; i++) z[i] = float_key(xyz[3 * i + 2]);
            r->flags |= SPTT_ROOM_NO_FLOOR;
            r->floorZ = select_kth_key(z, n, percentile_rank(n, 0.01));
        }
        if( isnan(r->ceilingZ) ){
            for(size_t i = 0; i < n; i++) z[i] = float_key(xyz[3 * i + 2]);
            r->flags |= SPTT_ROOM_NO_CEILING;
            r->ceilingZ = select_kth_key(z, n, percentile_rank(n, 0.99));
        }
    }
    r->height = fmax(0.0, r->ceilingZ - r->floorZ);

    /* Centre: the minimal-volume box of every point, as the reference defines it. */
    rc = sptt_obb_minimal_cloud(xyz, n, &r->box);
    if( rc ) goto cleanup;
    memcpy(r->center, r->box.center, sizeof r->center);
    if( r->box.flags & (SPTT_BOX_FEW_POINTS | SPTT_BOX_COLLINEAR | SPTT_BOX_COPLANAR | SPTT_BOX_HULL_FAILED) )
        r->flags |= SPTT_ROOM_BOX_DEGENERATE;
cleanup:
    free(xy);
    free(z);
    if( rc ) sptt_room_free(r);
    return rc;
}

void sptt_room_free(sptt_room *r)
{
    sptt_alpha_shape_free(&r->shape);
    memset(r, 0, sizeof *r);
}
