/*
** A z-buffer rasteriser for triangle meshes seen through a pinhole camera.
**
** Shared by the synthetic generator (which shades frames from vertex colours) and annotate
** (which projects instances into frames): both need, per pixel, the nearest triangle and where
** on it the pixel's ray lands.
*/
#ifndef SPTT_RASTER_H
#define SPTT_RASTER_H

#include <stdint.h>

typedef struct sptt_camera {
    double w2c[16];          /* world -> camera, rigid; camera x right, y down, z forward */
    double fx, fy, cx, cy;   /* pixel (x, y) has its centre at u = x, v = y */
    int width, height;
    double znear;            /* triangles are clipped at this camera depth */
} sptt_camera;

typedef struct sptt_zbuf {
    int width, height;
    float *depth;     /* (H, W) camera z of the nearest surface, INFINITY where none */
    int32_t *face;    /* (H, W) index of that triangle, -1 where none */
    float *bary;      /* (H, W, 2) weights of the triangle's vertices 1 and 2, or NULL */
} sptt_zbuf;

int sptt_zbuf_init(sptt_zbuf *z, int width, int height, int withBary);
void sptt_zbuf_clear(sptt_zbuf *z);
void sptt_zbuf_free(sptt_zbuf *z);

/*
** Draws every triangle into z (after sptt_zbuf_clear). Barycentric weights are perspective-
** correct and refer to the original triangle even where it was clipped at the near plane.
** Returns SPTT_OK or SPTT_ENOMEM.
*/
int sptt_rasterize(const float *xyz, uint64_t nVerts, const uint32_t *faces, uint64_t nFaces,
                   const sptt_camera *cam, sptt_zbuf *z);

/* Colours each covered pixel by interpolating its triangle's vertex colours (black where empty). */
int sptt_shade_rgb(const sptt_zbuf *z, const uint32_t *faces, const uint8_t *vertexRgb, uint8_t *rgb);

#endif
