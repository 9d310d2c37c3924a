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

/*
** Optional acceleration for meshes drawn many times: faces grouped in runs of consecutive
** triangles (mesh files keep nearby triangles together), each run with a bounding sphere and
** the range of vertices it uses. A run whose sphere lies outside the view is skipped without
** transforming its vertices. Drawing with or without the index gives identical buffers.
*/
typedef struct sptt_raster_index {
    uint64_t nRuns;
    uint64_t *faceStart;   /* (nRuns + 1) run r covers faces [faceStart[r], faceStart[r + 1]) */
    uint32_t *vmin, *vmax; /* (nRuns) vertex index range the run's faces use */
    double *sphere;        /* (nRuns, 4) centre and radius */
} sptt_raster_index;

int sptt_raster_index_build(const float *xyz, uint64_t nVerts, const uint32_t *faces, uint64_t nFaces,
                            sptt_raster_index *idx);
void sptt_raster_index_free(sptt_raster_index *idx);
/* sptt_rasterize with an index built for the same mesh (NULL: no index). */
int sptt_rasterize_indexed(const float *xyz, uint64_t nVerts, const uint32_t *faces, uint64_t nFaces,
                           const sptt_raster_index *idx, const sptt_camera *cam, sptt_zbuf *z);

/* Colours each covered pixel by interpolating its triangle's vertex colours (black where empty). */
int sptt_shade_rgb(const sptt_zbuf *z, const uint32_t *faces, const uint8_t *vertexRgb, uint8_t *rgb);

#endif
