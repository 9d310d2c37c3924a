/*
** Z-buffer rasterisation with near-plane clipping and perspective-correct barycentrics.
**
** Pixel centres sit on integer coordinates, matching the pinhole intrinsics of ScanNet and
** ARKitScenes (cx is about (width-1)/2). Coverage uses closed edges, so a pixel on an edge shared
** by two triangles is drawn twice and the depth test picks one; ties keep the earlier triangle,
** which makes the output independent of anything but the face order.
*/
#include "sptt_common.h"
#include "sptt_raster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sptt_zbuf_init(sptt_zbuf *z, int width, int height, int withBary)
{
    size_t n = (size_t)width * (size_t)height;
    memset(z, 0, sizeof *z);
    z->width = width;
    z->height = height;
    z->depth = sptt_malloc(n * sizeof(float));
    z->face = sptt_malloc(n * sizeof(int32_t));
    if( withBary ) z->bary = sptt_malloc(2 * n * sizeof(float));
    if( !z->depth || !z->face || (withBary && !z->bary) ){
        sptt_zbuf_free(z);
        return SPTT_ENOMEM;
    }
    sptt_zbuf_clear(z);
    return SPTT_OK;
}

void sptt_zbuf_clear(sptt_zbuf *z)
{
    size_t n = (size_t)z->width * (size_t)z->height;
    for(size_t i = 0; i < n; i++){
        z->depth[i] = INFINITY;
        z->face[i] = -1;
    }
}

void sptt_zbuf_free(sptt_zbuf *z)
{
    free(z->depth);
    free(z->face);
    free(z->bary);
    memset(z, 0, sizeof *z);
}

/* A clipped vertex: camera-space position and its barycentric weights in the source triangle. */
typedef struct cvert {
    double p[3];
    double b[3];
} cvert;

/* Branch-only min/max and rounding: the libm versions are calls at -O2 (they honour NaN rules
** the rasteriser never needs), and draw() is the hot path. */
static inline double min3(double a, double b, double c)
{
    double m = a < b ? a : b;
    return m < c ? m : c;
}

static inline double max3(double a, double b, double c)
{
    double m = a > b ? a : b;
    return m > c ? m : c;
}

/* ceil and floor for values well inside the int range */
static inline int iceil(double x)
{
    int i = (int)x;
    return i + (x > (double)i);
}

static inline int ifloor(double x)
{
    int i = (int)x;
    return i - (x < (double)i);
}

static void draw(const sptt_camera *cam, const cvert *a, const cvert *b, const cvert *c, int32_t face, sptt_zbuf *z)
{
    const cvert *v[3] = { a, b, c };
    double u[3], w[3], iz[3];
    double area, minU, maxU, minV, maxV;
    int x0, x1, y0, y1;
    for(int i = 0; i < 3; i++){
        iz[i] = 1.0 / v[i]->p[2];
        u[i] = cam->fx * v[i]->p[0] * iz[i] + cam->cx;
        w[i] = cam->fy * v[i]->p[1] * iz[i] + cam->cy;
    }
    minU = min3(u[0], u[1], u[2]);
    maxU = max3(u[0], u[1], u[2]);
    minV = min3(w[0], w[1], w[2]);
    maxV = max3(w[0], w[1], w[2]);
    if( maxU < 0 || maxV < 0 || minU > z->width - 1 || minV > z->height - 1 ) return;
    x0 = minU < 0 ? 0 : iceil(minU);
    y0 = minV < 0 ? 0 : iceil(minV);
    x1 = maxU > z->width - 1 ? z->width - 1 : ifloor(maxU);
    y1 = maxV > z->height - 1 ? z->height - 1 : ifloor(maxV);
    /* Most triangles of a scan seen at a few hundred pixels cover no pixel centre at all. */
    if( x0 > x1 || y0 > y1 ) return;
    area = (u[1] - u[0]) * (w[2] - w[0]) - (w[1] - w[0]) * (u[2] - u[0]);
    if( !(fabs(area) > 1e-12) ) return;
    {
        double inv = 1.0 / area;
        /* Edge functions e_i(x, y) = A_i x + B_i y + C_i, normalised so e0 + e1 + e2 = 1. */
        double A0 = (w[1] - w[2]) * inv, B0 = (u[2] - u[1]) * inv, C0 = (u[1] * w[2] - u[2] * w[1]) * inv;
        double A1 = (w[2] - w[0]) * inv, B1 = (u[0] - u[2]) * inv, C1 = (u[2] * w[0] - u[0] * w[2]) * inv;
        double A2 = (w[0] - w[1]) * inv, B2 = (u[1] - u[0]) * inv, C2 = (u[0] * w[1] - u[1] * w[0]) * inv;
        for(int y = y0; y <= y1; y++){
            double e0 = A0 * x0 + B0 * y + C0;
            double e1 = A1 * x0 + B1 * y + C1;
            double e2 = A2 * x0 + B2 * y + C2;
            size_t row = (size_t)y * (size_t)z->width;
            for(int x = x0; x <= x1; x++, e0 += A0, e1 += A1, e2 += A2){
                double q0, q1, q2, s, d;
                size_t i;
                if( e0 < -1e-12 || e1 < -1e-12 || e2 < -1e-12 ) continue;
                q0 = e0 * iz[0];
                q1 = e1 * iz[1];
                q2 = e2 * iz[2];
                s = q0 + q1 + q2;
                if( !(s > 0) ) continue;
                d = 1.0 / s;
                i = row + (size_t)x;
                if( !(d < z->depth[i]) ) continue;
                z->depth[i] = (float)d;
                z->face[i] = face;
                if( z->bary ){
                    double b1 = (q0 * v[0]->b[1] + q1 * v[1]->b[1] + q2 * v[2]->b[1]) * d;
                    double b2 = (q0 * v[0]->b[2] + q1 * v[1]->b[2] + q2 * v[2]->b[2]) * d;
                    z->bary[2 * i] = (float)b1;
                    z->bary[2 * i + 1] = (float)b2;
                }
            }
        }
    }
}

/* Intersection of edge a-b with the plane z = zn, attributes interpolated linearly in 3D. */
static void cut(const cvert *a, const cvert *b, double zn, cvert *out)
{
    double t = (zn - a->p[2]) / (b->p[2] - a->p[2]);
    for(int k = 0; k < 3; k++){
        out->p[k] = a->p[k] + t * (b->p[k] - a->p[k]);
        out->b[k] = a->b[k] + t * (b->b[k] - a->b[k]);
    }
    out->p[2] = zn;
}

/* Outcode bits: which side of the view frustum a camera-space point is on. A triangle whose
** three corners share a bit lies wholly outside and is skipped before any setup; in a room most
** triangles are behind or beside the camera, so this is where most of the time is saved. */
#define OUT_NEAR   1
#define OUT_LEFT   2
#define OUT_RIGHT  4
#define OUT_TOP    8
#define OUT_BOTTOM 16

#define RUN_FACES 256

int sptt_raster_index_build(const float *xyz, uint64_t nVerts, const uint32_t *faces, uint64_t nFaces,
                            sptt_raster_index *idx)
{
    uint64_t n = (nFaces + RUN_FACES - 1) / RUN_FACES;
    memset(idx, 0, sizeof *idx);
    idx->faceStart = sptt_malloc(sizeof(uint64_t) * (size_t)(n + 1));
    idx->vmin = sptt_malloc(sizeof(uint32_t) * (size_t)(n + 1));
    idx->vmax = sptt_malloc(sizeof(uint32_t) * (size_t)(n + 1));
    idx->sphere = sptt_malloc(sizeof(double) * 4 * (size_t)(n + 1));
    if( !idx->faceStart || !idx->vmin || !idx->vmax || !idx->sphere ){
        sptt_raster_index_free(idx);
        return SPTT_ENOMEM;
    }
    idx->nRuns = n;
    (void)nVerts;
    for(uint64_t r = 0; r < n; r++){
        uint64_t f0 = r * RUN_FACES, f1 = f0 + RUN_FACES < nFaces ? f0 + RUN_FACES : nFaces;
        double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY }, c[3], rad = 0;
        uint32_t vmin = UINT32_MAX, vmax = 0;
        idx->faceStart[r] = f0;
        for(uint64_t f = f0; f < f1; f++){
            for(int k = 0; k < 3; k++){
                uint32_t v = faces[3 * f + (uint64_t)k];
                if( v < vmin ) vmin = v;
                if( v > vmax ) vmax = v;
                for(int j = 0; j < 3; j++){
                    lo[j] = fmin(lo[j], xyz[3 * (size_t)v + (size_t)j]);
                    hi[j] = fmax(hi[j], xyz[3 * (size_t)v + (size_t)j]);
                }
            }
        }
        for(int j = 0; j < 3; j++) c[j] = (lo[j] + hi[j]) / 2;
        for(uint64_t f = f0; f < f1; f++){
            for(int k = 0; k < 3; k++){
                const float *p = xyz + 3 * (size_t)faces[3 * f + (uint64_t)k];
                double d = sqrt((p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]) + (p[2] - c[2]) * (p[2] - c[2]));
                if( d > rad ) rad = d;
            }
        }
        idx->vmin[r] = vmin;
        idx->vmax[r] = vmax;
        idx->sphere[4 * r] = c[0];
        idx->sphere[4 * r + 1] = c[1];
        idx->sphere[4 * r + 2] = c[2];
        /* a hair larger than the farthest corner, so rounding never culls a visible run */
        idx->sphere[4 * r + 3] = rad * (1 + 1e-9) + 1e-9;
    }
    idx->faceStart[n] = nFaces;
    return SPTT_OK;
}

void sptt_raster_index_free(sptt_raster_index *idx)
{
    free(idx->faceStart);
    free(idx->vmin);
    free(idx->vmax);
    free(idx->sphere);
    memset(idx, 0, sizeof *idx);
}

/* A sphere (camera coordinates) wholly outside one of the frustum's planes. The side planes
** are those where a point projects to the border half a pixel outside the image. */
static int sphere_outside(const sptt_camera *cam, double zn, const double *c, double r, int W, int H)
{
    double n[4][3] = {
        { cam->fx, 0, cam->cx + 0.5 },          /* u >= -0.5 */
        { -cam->fx, 0, -(cam->cx - W + 0.5) },  /* u <= W - 0.5 */
        { 0, cam->fy, cam->cy + 0.5 },          /* v >= -0.5 */
        { 0, -cam->fy, -(cam->cy - H + 0.5) },  /* v <= H - 0.5 */
    };
    if( c[2] + r < zn ) return 1;
    for(int i = 0; i < 4; i++){
        double len = sqrt(n[i][0] * n[i][0] + n[i][1] * n[i][1] + n[i][2] * n[i][2]);
        if( n[i][0] * c[0] + n[i][1] * c[1] + n[i][2] * c[2] < -r * len ) return 1;
    }
    return 0;
}

int sptt_rasterize(const float *xyz, uint64_t nVerts, const uint32_t *faces, uint64_t nFaces,
                   const sptt_camera *cam, sptt_zbuf *z)
{
    return sptt_rasterize_indexed(xyz, nVerts, faces, nFaces, NULL, cam, z);
}

int sptt_rasterize_indexed(const float *xyz, uint64_t nVerts, const uint32_t *faces, uint64_t nFaces,
                           const sptt_raster_index *idx, const sptt_camera *cam, sptt_zbuf *z)
{
    double *cp = sptt_malloc(sptt_mul_size((size_t)nVerts, 3 * sizeof(double)));
    uint8_t *code = sptt_malloc((size_t)nVerts + 1);
    uint8_t *done = idx ? sptt_calloc((size_t)nVerts + 1, 1) : NULL;
    const double *T = cam->w2c;
    const double zn = cam->znear > 0 ? cam->znear : 1e-3;
    /* Pixel centres span [0, W-1]; a triangle can still touch a centre from half a pixel out. */
    const double uMin = -0.5, uMax = z->width - 0.5, vMin = -0.5, vMax = z->height - 0.5;
    uint64_t nRuns = idx ? idx->nRuns : 1;
    if( cp==NULL || code==NULL || (idx && done==NULL) ){
        free(cp);
        free(code);
        free(done);
        return SPTT_ENOMEM;
    }
    for(uint64_t r = 0; r < nRuns; r++){
        uint64_t f0 = idx ? idx->faceStart[r] : 0, f1 = idx ? idx->faceStart[r + 1] : nFaces;
        uint64_t v0 = idx ? idx->vmin[r] : 0, v1 = idx ? (uint64_t)idx->vmax[r] + 1 : nVerts;
        if( f1 > nFaces ) f1 = nFaces;
        if( f0 >= f1 ) continue;
        if( idx ){
            const double *sp = idx->sphere + 4 * r;
            double c[3] = { T[0] * sp[0] + T[1] * sp[1] + T[2] * sp[2] + T[3], T[4] * sp[0] + T[5] * sp[1] + T[6] * sp[2] + T[7],
                            T[8] * sp[0] + T[9] * sp[1] + T[10] * sp[2] + T[11] };
            if( sphere_outside(cam, zn, c, sp[3], z->width, z->height) ) continue;
        }
        for(uint64_t i = v0; i < v1; i++){
            double x, y, w, cx, cy, cz;
            uint8_t c = 0;
            if( done ){
                if( done[i] ) continue;
                done[i] = 1;
            }
            x = xyz[3 * i];
            y = xyz[3 * i + 1];
            w = xyz[3 * i + 2];
            cx = T[0] * x + T[1] * y + T[2] * w + T[3];
            cy = T[4] * x + T[5] * y + T[6] * w + T[7];
            cz = T[8] * x + T[9] * y + T[10] * w + T[11];
            cp[3 * i] = cx;
            cp[3 * i + 1] = cy;
            cp[3 * i + 2] = cz;
            if( cz < zn ){
                c = OUT_NEAR;
            }else{
                /* u = fx x / z + cx, compared without dividing (z > 0 here). */
                if( cam->fx * cx + (cam->cx - uMin) * cz < 0 ) c |= OUT_LEFT;
                if( cam->fx * cx + (cam->cx - uMax) * cz > 0 ) c |= OUT_RIGHT;
                if( cam->fy * cy + (cam->cy - vMin) * cz < 0 ) c |= OUT_TOP;
                if( cam->fy * cy + (cam->cy - vMax) * cz > 0 ) c |= OUT_BOTTOM;
            }
            code[i] = c;
        }
        for(uint64_t f = f0; f < f1; f++){
            const uint32_t *t = faces + 3 * f;
            cvert in[3], poly[4];
            int nPoly = 0;
            uint8_t all = code[t[0]] & code[t[1]] & code[t[2]];
            uint8_t any = code[t[0]] | code[t[1]] | code[t[2]];
            if( all ) continue;
            for(int k = 0; k < 3; k++){
                memcpy(in[k].p, cp + 3 * (size_t)t[k], sizeof in[k].p);
                in[k].b[0] = in[k].b[1] = in[k].b[2] = 0;
                in[k].b[k] = 1;
            }
            if( !(any & OUT_NEAR) ){
                draw(cam, &in[0], &in[1], &in[2], (int32_t)f, z);
                continue;
            }
            /* Sutherland-Hodgman against z >= zn: one or two vertices in front give a triangle
            ** or a quad, drawn as a fan. */
            for(int k = 0; k < 3; k++){
                const cvert *a = &in[k], *b = &in[(k + 1) % 3];
                int aIn = a->p[2] >= zn, bIn = b->p[2] >= zn;
                if( aIn ) poly[nPoly++] = *a;
                if( aIn!=bIn ) cut(a, b, zn, &poly[nPoly++]);
            }
            for(int k = 1; k + 1 < nPoly; k++) draw(cam, &poly[0], &poly[k], &poly[k + 1], (int32_t)f, z);
        }
    }
    free(cp);
    free(code);
    free(done);
    return SPTT_OK;
}

int sptt_shade_rgb(const sptt_zbuf *z, const uint32_t *faces, const uint8_t *vertexRgb, uint8_t *rgb)
{
    if( z->bary==NULL ) return sptt_fail(SPTT_EINVAL, "shading needs barycentric weights (init with withBary)");
    for(int i = 0; i < z->width * z->height; i++){
        int32_t f = z->face[i];
        if( f < 0 ){
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 0;
            continue;
        }
        {
            const uint32_t *t = faces + 3 * (size_t)f;
            double b1 = z->bary[2 * i], b2 = z->bary[2 * i + 1], b0 = 1 - b1 - b2;
            for(int k = 0; k < 3; k++){
                double c = b0 * vertexRgb[3 * t[0] + k] + b1 * vertexRgb[3 * t[1] + k] + b2 * vertexRgb[3 * t[2] + k];
                rgb[3 * i + k] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : lrint(c));
            }
        }
    }
    return SPTT_OK;
}
