/*
** Rasteriser: exact coverage and depth of hand-placed triangles, perspective-correct
** barycentrics through near-plane clipping, and the culling index changing nothing.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_common.h"
#include "sptt_math.h"
#include "sptt_raster.h"

/* Camera at the origin looking along +z (world = camera frame). */
static void camera(sptt_camera *c, int w, int h, double f)
{
    memset(c, 0, sizeof *c);
    sptt_identity4(c->w2c);
    c->fx = c->fy = f;
    c->cx = (w - 1) / 2.0;
    c->cy = (h - 1) / 2.0;
    c->width = w;
    c->height = h;
    c->znear = 0.1;
}

Test(raster, square_at_known_depth)
{
    /* a 1 x 1 square at z = 2 with f = 20 on a 41 x 41 image centred at pixel 20: it spans
    ** u in [15, 25], both ends on pixel centres, so 11 x 11 pixels with closed edges */
    float xyz[12] = { -0.5f, -0.5f, 2, 0.5f, -0.5f, 2, 0.5f, 0.5f, 2, -0.5f, 0.5f, 2 };
    uint32_t faces[6] = { 0, 1, 2, 0, 2, 3 };
    sptt_camera c;
    sptt_zbuf z;
    camera(&c, 41, 41, 20);
    cr_assert_eq(sptt_zbuf_init(&z, 41, 41, 1), SPTT_OK);
    cr_assert_eq(sptt_rasterize(xyz, 4, faces, 2, &c, &z), SPTT_OK);
    int n = 0;
    for(int y = 0; y < 41; y++){
        for(int x = 0; x < 41; x++){
            int in = x >= 15 && x <= 25 && y >= 15 && y <= 25;
            int32_t f = z.face[y * 41 + x];
            cr_assert_eq(f >= 0, in, "pixel %d,%d", x, y);
            if( in ){
                cr_assert_float_eq(z.depth[y * 41 + x], 2.0f, 1e-6);
                n++;
            }else{
                cr_assert(isinf(z.depth[y * 41 + x]));
            }
        }
    }
    cr_assert_eq(n, 121);
    /* the pixel at u = 25, v = 15 is vertex 1 of triangle 0 (x = 0.5, y = -0.5) */
    int i = 15 * 41 + 25;
    cr_assert_eq(z.face[i], 0);
    cr_assert_float_eq(z.bary[2 * i], 1.0f, 1e-6);
    cr_assert_float_eq(z.bary[2 * i + 1], 0.0f, 1e-6);
    sptt_zbuf_free(&z);
}

Test(raster, nearer_surface_wins_and_ties_keep_the_first)
{
    float xyz[18] = { -1, -1, 3, 1, -1, 3, 0, 1, 3,     /* far, face 0 */
                      -1, -1, 2, 1, -1, 2, 0, 1, 2 };   /* near, face 1 */
    uint32_t faces[9] = { 0, 1, 2, 3, 4, 5, 0, 1, 2 };  /* face 2 repeats face 0 */
    sptt_camera c;
    sptt_zbuf z;
    camera(&c, 21, 21, 10);
    sptt_zbuf_init(&z, 21, 21, 0);
    sptt_rasterize(xyz, 6, faces, 3, &c, &z);
    cr_assert_eq(z.face[10 * 21 + 10], 1);
    cr_assert_float_eq(z.depth[10 * 21 + 10], 2.0f, 1e-6);
    sptt_zbuf_clear(&z);
    uint32_t f2[6] = { 0, 1, 2, 0, 1, 2 };
    sptt_rasterize(xyz, 6, f2, 2, &c, &z);
    cr_assert_eq(z.face[10 * 21 + 10], 0, "an equal depth keeps the earlier triangle");
    sptt_zbuf_free(&z);
}

Test(raster, clipping_at_the_near_plane_keeps_barycentrics_exact)
{
    /* a floor triangle running from behind the camera to far ahead, below it: the part in
    ** front of z = 0.1 is drawn, and at every drawn pixel the interpolated world z equals the
    ** depth, which only holds when barycentrics refer to the unclipped triangle */
    float xyz[9] = { -3, 1, -2, 3, 1, -2, 0, 1, 10 };
    uint32_t faces[3] = { 0, 1, 2 };
    sptt_camera c;
    sptt_zbuf z;
    camera(&c, 64, 48, 30);
    sptt_zbuf_init(&z, 64, 48, 1);
    sptt_rasterize(xyz, 3, faces, 1, &c, &z);
    int n = 0;
    for(int i = 0; i < 64 * 48; i++){
        if( z.face[i] < 0 ) continue;
        double b1 = z.bary[2 * i], b2 = z.bary[2 * i + 1], b0 = 1 - b1 - b2;
        double wz = b0 * xyz[2] + b1 * xyz[5] + b2 * xyz[8];
        cr_assert_float_eq(wz, z.depth[i], 1e-4 * z.depth[i], "pixel %d: %g vs %g", i, wz, z.depth[i]);
        cr_assert_geq(z.depth[i], 0.1f - 1e-6);
        n++;
    }
    cr_assert_gt(n, 100);
    sptt_zbuf_free(&z);
}

Test(raster, culling_index_changes_nothing)
{
    /* clusters of small triangles around the camera (runs of consecutive faces stay within a
    ** cluster, so whole runs get culled), seen from several poses */
    enum { NT = 4000 };
    float *xyz = malloc(sizeof(float) * 9 * NT);
    uint32_t *faces = malloc(sizeof(uint32_t) * 3 * NT);
    sptt_rng r;
    sptt_rng_seed(&r, 9);
    double cl[3] = { 0, 0, 0 };
    for(int t = 0; t < NT; t++){
        if( t % 256 == 0 ) for(int j = 0; j < 3; j++) cl[j] = sptt_rng_uniform(&r, -5, 5);
        double c[3] = { cl[0] + sptt_rng_uniform(&r, -0.6, 0.6), cl[1] + sptt_rng_uniform(&r, -0.6, 0.6),
                        cl[2] + sptt_rng_uniform(&r, -0.6, 0.6) };
        for(int k = 0; k < 3; k++){
            for(int j = 0; j < 3; j++) xyz[9 * t + 3 * k + j] = (float)(c[j] + sptt_rng_uniform(&r, -0.3, 0.3));
            faces[3 * t + k] = (uint32_t)(3 * t + k);
        }
    }
    sptt_raster_index idx;
    cr_assert_eq(sptt_raster_index_build(xyz, 3 * NT, faces, NT, &idx), SPTT_OK);
    for(int pose = 0; pose < 6; pose++){
        sptt_camera c;
        sptt_zbuf a, b;
        double R[9], w[3] = { 0.3 * pose, 1.0 * pose, -0.2 * pose };
        camera(&c, 80, 60, 50);
        sptt_axis_angle_to_matrix(w, R);
        for(int i = 0; i < 3; i++) for(int j = 0; j < 3; j++) c.w2c[4 * i + j] = R[3 * i + j];
        c.w2c[3] = 0.2 * pose;
        sptt_zbuf_init(&a, 80, 60, 1);
        sptt_zbuf_init(&b, 80, 60, 1);
        sptt_rasterize(xyz, 3 * NT, faces, NT, &c, &a);
        sptt_rasterize_indexed(xyz, 3 * NT, faces, NT, &idx, &c, &b);
        cr_assert(memcmp(a.face, b.face, sizeof(int32_t) * 80 * 60) == 0, "pose %d", pose);
        cr_assert(memcmp(a.depth, b.depth, sizeof(float) * 80 * 60) == 0, "pose %d", pose);
        cr_assert(memcmp(a.bary, b.bary, sizeof(float) * 2 * 80 * 60) == 0, "pose %d", pose);
        int drawn = 0;
        for(int i = 0; i < 80 * 60; i++) drawn += a.face[i] >= 0;
        cr_assert_gt(drawn, 100, "pose %d draws something", pose);
        sptt_zbuf_free(&a);
        sptt_zbuf_free(&b);
    }
    sptt_raster_index_free(&idx);
    free(xyz);
    free(faces);
}
