/*
** Renders the synthetic scene's mesh into colour and depth frames, the way a camera on the walk
** would have seen it, with the shared z-buffer rasteriser.
*/
#include "synth.h"
#include "sptt_math.h"
#include "sptt_raster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int synth_render(const synth_scene *s, const double *c2w, const synth_view *v, uint8_t *rgb, float *depth)
{
    sptt_camera cam;
    sptt_zbuf z;
    int rc;
    const synth_mesh *m = &s->mesh;

    memset(&cam, 0, sizeof cam);
    sptt_rigid_inverse(c2w, cam.w2c);
    cam.fx = v->fx;
    cam.fy = v->fy;
    cam.cx = v->cx;
    cam.cy = v->cy;
    cam.width = v->width;
    cam.height = v->height;
    cam.znear = 0.05;
    rc = sptt_zbuf_init(&z, v->width, v->height, rgb!=NULL);
    if( rc ) return rc;
    rc = sptt_rasterize_indexed(m->xyz, m->nVerts, m->faces, m->nFaces, &s->raster, &cam, &z);
    if( rc ) goto done;
    if( depth ){
        for(int i = 0; i < v->width * v->height; i++) depth[i] = z.face[i] < 0 ? 0.0f : z.depth[i];
    }
    if( rgb ) rc = sptt_shade_rgb(&z, m->faces, m->rgb, rgb);
done:
    sptt_zbuf_free(&z);
    return rc;
}
