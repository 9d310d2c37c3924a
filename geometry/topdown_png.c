/*
** Top-down picture of a scene: an orthographic view from above, north (+y) up.
**
** Points are splatted in their NYU40 colour, brighter the higher they are, the highest point of a
** pixel winning (so a table top hides the floor under it). The ceiling would hide everything, so
** ceiling-labelled points and anything in the top tenth of the room are left out. Boxes are drawn
** as the outline of their footprint (the hull of the 8 corners seen from above), the room outline
** in black, with a scale bar, an axis cross and a caption in a small built-in bitmap font.
*/
#include "geo_util.h"
#include "sptt_canvas.h"
#include "sptt_common.h"
#include "sptt_schemas.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN 36
#define CAPTION_LINE 20
#define FOOTER 44
#define TARGET_PX 900.0
/* The drawing's extent: the points between these percentiles (per axis), grown by PAD_FRAC of
** their span plus PAD_M metres, bounds everything drawn; one stray vertex kilometres away would
** otherwise set the picture's size. Percentiles come from at most PCT_SAMPLES evenly strided
** points, so their cost is bounded whatever the cloud. */
#define PCT_LO 0.005
#define PCT_HI 0.995
#define PCT_SAMPLES 65536
#define PAD_FRAC 0.1
#define PAD_M 0.5
/* And the pixels per side of the drawing, whatever the extent: memory stays under 200 MB. */
#define MAX_SIDE_PX 4096
typedef struct view {
    double x0, y1, ppm;    /* world x of pixel column 0 (after the margin), world y of the top row */
    int top;               /* pixel row where the drawing starts */
} view;

static double px_x(const view *v, double x) { return MARGIN + (x - v->x0) * v->ppm; }
static double px_y(const view *v, double y) { return v->top + (v->y1 - y) * v->ppm; }

static void to_px(const view *v, double x, double y, int *px, int *py)
{
    *px = sptt_canvas_coord(px_x(v, x));
    *py = sptt_canvas_coord(px_y(v, y));
}

/* A segment between world points; the canvas clips it before rasterising, so an end far outside
** keeps the segment's direction. */
static void seg(sptt_canvas *c, const view *v, double ax, double ay, double bx, double by, int r, const uint8_t *col)
{
    sptt_canvas_line(c, px_x(v, ax), px_y(v, ay), px_x(v, bx), px_y(v, by), r, col);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static int keep_point(const sptt_topdown *t, size_t i, double zCut)
{
    if( t->nyu40 && t->nyu40[i]==SPTT_NYU40_CEILING ) return 0;
    return t->xyz[3 * i + 2] <= zCut;
}

static const uint8_t aUnlabelled[3] = { 205, 205, 205 };

/* Class colour, brighter the higher the point: height reads at a glance. */
static void point_color(const sptt_topdown *t, size_t i, double zLo, double zSpan, uint8_t *col)
{
    const uint8_t *base = t->nyu40 && t->nyu40[i] ? sptt_nyu40_color(t->nyu40[i]) : aUnlabelled;
    double shade = 0.6 + 0.4 * fmin(1.0, fmax(0.0, (t->xyz[3 * i + 2] - zLo) / zSpan));
    for(int k = 0; k < 3; k++) col[k] = (uint8_t)lround(base[k] * shade);
}

/* A face takes the class two of its vertices agree on (else its first vertex's) at its mean height. */
static void face_color(const sptt_topdown *t, const uint32_t *tri, double zLo, double zSpan, uint8_t *col)
{
    size_t pick = tri[0];
    double z = (t->xyz[3 * (size_t)tri[0] + 2] + t->xyz[3 * (size_t)tri[1] + 2] + t->xyz[3 * (size_t)tri[2] + 2]) / 3;
    const uint8_t *base;
    double shade;
    if( t->nyu40 && t->nyu40[tri[1]]==t->nyu40[tri[2]] ) pick = tri[1];
    base = t->nyu40 && t->nyu40[pick] ? sptt_nyu40_color(t->nyu40[pick]) : aUnlabelled;
    shade = 0.6 + 0.4 * fmin(1.0, fmax(0.0, (z - zLo) / zSpan));
    for(int k = 0; k < 3; k++) col[k] = (uint8_t)lround(base[k] * shade);
}

int sptt_topdown_png(const char *zPath, const sptt_topdown *t)
{
    sptt_canvas c = {0};
    float *top = NULL;   /* highest z drawn at each pixel */
    view v;
    double bb[4] = { INFINITY, INFINITY, -INFINITY, -INFINITY }, zCut = INFINITY, zLo = 0, zSpan = 1, spacing;
    size_t nDrawn = 0;
    int nLines = 0, rc = SPTT_OK, splat;
    static const uint8_t black[3] = { 0, 0, 0 }, grey[3] = { 120, 120, 120 };

    if( t->room && t->room->height > 0.5 ){
        zLo = t->room->floorZ;
        zSpan = t->room->height;
        zCut = t->room->floorZ + 0.9 * t->room->height;
    }
    for(size_t i = 0; i < t->n; i++){
        if( !keep_point(t, i, zCut) ) continue;
        bb[0] = fmin(bb[0], t->xyz[3 * i]);
        bb[1] = fmin(bb[1], t->xyz[3 * i + 1]);
        bb[2] = fmax(bb[2], t->xyz[3 * i]);
        bb[3] = fmax(bb[3], t->xyz[3 * i + 1]);
        nDrawn++;
    }
    if( t->room ){
        const sptt_alpha_shape *a = &t->room->shape;
        for(int k = 0; k < (a->nLoops ? a->loopStart[a->nLoops] : 0); k++){
            bb[0] = fmin(bb[0], a->loopXY[2 * k]);
            bb[1] = fmin(bb[1], a->loopXY[2 * k + 1]);
            bb[2] = fmax(bb[2], a->loopXY[2 * k]);
            bb[3] = fmax(bb[3], a->loopXY[2 * k + 1]);
        }
    }
    for(int b = 0; b < t->nBoxes; b++){
        double corners[24];
        sptt_box_corners(&t->boxes[b], corners);
        for(int k = 0; k < 8; k++){
            bb[0] = fmin(bb[0], corners[3 * k]);
            bb[1] = fmin(bb[1], corners[3 * k + 1]);
            bb[2] = fmax(bb[2], corners[3 * k]);
            bb[3] = fmax(bb[3], corners[3 * k + 1]);
        }
    }
    /* Robust extent: what lies beyond the points' 0.5th-99.5th percentiles by more than the pad
    ** is drawn clipped instead of widening the picture. */
    if( nDrawn ){
        size_t stride = (nDrawn + PCT_SAMPLES - 1) / PCT_SAMPLES, m = 0, seen = 0;
        float *xs = sptt_malloc(sizeof(float) * (nDrawn / stride + 1)), *ys = sptt_malloc(sizeof(float) * (nDrawn / stride + 1));
        if( xs==NULL || ys==NULL ){
            free(xs);
            free(ys);
            return SPTT_ENOMEM;
        }
        for(size_t i = 0; i < t->n; i++){
            if( !keep_point(t, i, zCut) ) continue;
            if( seen++ % stride ) continue;
            xs[m] = t->xyz[3 * i];
            ys[m++] = t->xyz[3 * i + 1];
        }
        qsort(xs, m, sizeof *xs, cmp_float);
        qsort(ys, m, sizeof *ys, cmp_float);
        for(int k = 0; k < 2; k++){
            const float *a = k ? ys : xs;
            double lo = a[(size_t)floor(PCT_LO * (double)(m - 1))], hi = a[(size_t)ceil(PCT_HI * (double)(m - 1))];
            double pad = PAD_FRAC * (hi - lo) + PAD_M;
            bb[k] = fmax(bb[k], lo - pad);
            bb[k + 2] = fmin(bb[k + 2], hi + pad);
        }
        free(xs);
        free(ys);
    }
    if( !(bb[2] >= bb[0]) || !(bb[3] >= bb[1]) ){
        bb[0] = bb[1] = -0.5;
        bb[2] = bb[3] = 0.5;
    }
    /* At least a metre across, so a degenerate scene still gets a readable picture. */
    for(int k = 0; k < 2; k++){
        double mid = (bb[k] + bb[k + 2]) / 2, half = fmax((bb[k + 2] - bb[k]) / 2, 0.5);
        bb[k] = mid - half;
        bb[k + 2] = mid + half;
    }
    if( t->zTitle ){
        nLines = 1;
        for(const char *z = t->zTitle; *z; z++) nLines += *z=='\n';
    }
    v.ppm = fmin(400.0, fmax(20.0, floor(TARGET_PX / fmax(bb[2] - bb[0], bb[3] - bb[1]))));
    /* A scene larger than 200 m gets fewer than 20 pixels a metre rather than a giant picture. */
    v.ppm = fmin(v.ppm, MAX_SIDE_PX / fmax(bb[2] - bb[0], bb[3] - bb[1]));
    v.x0 = bb[0];
    v.y1 = bb[3];
    v.top = MARGIN / 2 + nLines * CAPTION_LINE + 8;
    {
        int w = 2 * MARGIN + (int)ceil((bb[2] - bb[0]) * v.ppm) + 1;
        int h = v.top + (int)ceil((bb[3] - bb[1]) * v.ppm) + 1 + MARGIN / 2 + FOOTER;
        rc = sptt_canvas_create(&c, w < 420 ? 420 : w, h, NULL);
        if( rc ) goto cleanup;
    }
    top = sptt_malloc((size_t)c.w * c.h * sizeof(float));
    if( top==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    for(size_t i = 0; i < (size_t)c.w * c.h; i++) top[i] = -INFINITY;

    /* Mesh faces, when given, fill the surfaces; points are splatted over them (and alone for
    ** a bare point cloud), sized from the mean spacing so surfaces read as surfaces. */
    for(size_t f = 0; f < t->nFaces; f++){
        const uint32_t *tri = t->faces + 3 * f;
        double px[3], py[3], pz[3], den;
        uint8_t col[3];
        int x0, x1, y0, y1, skip = 0;
        for(int k = 0; k < 3; k++){
            const float *p = t->xyz + 3 * (size_t)tri[k];
            skip |= tri[k] >= t->n || !keep_point(t, tri[k], zCut);
            if( skip ) break;
            px[k] = MARGIN + (p[0] - v.x0) * v.ppm;
            py[k] = v.top + (v.y1 - p[1]) * v.ppm;
            pz[k] = p[2];
        }
        if( skip ) continue;
        den = (py[1] - py[2]) * (px[0] - px[2]) + (px[2] - px[1]) * (py[0] - py[2]);
        if( fabs(den) < 1e-12 ) continue;
        face_color(t, tri, zLo, zSpan, col);
        /* The face's pixel box, clipped to the canvas while still in doubles: a vertex far out
        ** would not fit an int. */
        {
            double fx0 = fmin(px[0], fmin(px[1], px[2])), fx1 = fmax(px[0], fmax(px[1], px[2]));
            double fy0 = fmin(py[0], fmin(py[1], py[2])), fy1 = fmax(py[0], fmax(py[1], py[2]));
            if( !(fx1 >= 0 && fy1 >= 0 && fx0 <= c.w - 1 && fy0 <= c.h - 1) ) continue;
            x0 = fx0 > 0 ? (int)floor(fx0) : 0;
            y0 = fy0 > 0 ? (int)floor(fy0) : 0;
            x1 = fx1 < c.w - 1 ? (int)ceil(fx1) : c.w - 1;
            y1 = fy1 < c.h - 1 ? (int)ceil(fy1) : c.h - 1;
        }
        for(int y = y0; y <= y1; y++){
            for(int x = x0; x <= x1; x++){
                double a = ((py[1] - py[2]) * (x - px[2]) + (px[2] - px[1]) * (y - py[2])) / den;
                double b = ((py[2] - py[0]) * (x - px[2]) + (px[0] - px[2]) * (y - py[2])) / den;
                double g = 1 - a - b, z;
                size_t at = (size_t)y * c.w + x;
                /* A little slack keeps neighbouring triangles free of pinholes. */
                if( a < -1e-3 || b < -1e-3 || g < -1e-3 ) continue;
                z = a * pz[0] + b * pz[1] + g * pz[2];
                if( z < top[at] ) continue;
                top[at] = (float)z;
                memcpy(c.rgb + 3 * at, col, 3);
            }
        }
    }
    spacing = nDrawn ? sqrt((bb[2] - bb[0]) * (bb[3] - bb[1]) / (double)nDrawn) : 0.05;
    splat = t->nFaces ? 0 : (int)fmin(3, fmax(0, floor(spacing * v.ppm * 0.6)));
    for(size_t i = 0; i < t->n; i++){
        const float *p = t->xyz + 3 * i;
        uint8_t col[3];
        int px, py;
        if( !keep_point(t, i, zCut) ) continue;
        point_color(t, i, zLo, zSpan, col);
        to_px(&v, p[0], p[1], &px, &py);
        for(int dy = -splat; dy <= splat; dy++)
            for(int dx = -splat; dx <= splat; dx++){
                int x = px + dx, y = py + dy;
                size_t at;
                if( x < 0 || y < 0 || x >= c.w || y >= c.h ) continue;
                at = (size_t)y * c.w + x;
                if( p[2] < top[at] ) continue;
                top[at] = p[2];
                memcpy(c.rgb + 3 * at, col, 3);
            }
    }

    /* Box footprints: hull of the corners seen from above, outlined in a darker class colour. */
    for(int b = 0; b < t->nBoxes; b++){
        double corners[24], xy[16], work[16], hull[18];
        uint8_t col[3];
        const uint8_t *base = t->boxClass ? sptt_nyu40_color(t->boxClass[b]) : grey;
        int h;
        sptt_box_corners(&t->boxes[b], corners);
        for(int k = 0; k < 8; k++){
            xy[2 * k] = corners[3 * k];
            xy[2 * k + 1] = corners[3 * k + 1];
        }
        h = geo_hull2d(xy, 8, work, hull);
        for(int k = 0; k < 3; k++) col[k] = (uint8_t)(base[k] * 0.5);
        for(int k = 0; k < h; k++) seg(&c, &v, hull[2 * k], hull[2 * k + 1], hull[2 * ((k + 1) % h)], hull[2 * ((k + 1) % h) + 1], 1, col);
        {
            int cx, cy;
            to_px(&v, t->boxes[b].center[0], t->boxes[b].center[1], &cx, &cy);
            sptt_canvas_line(&c, cx - 3, cy, cx + 3, cy, 0, col);
            sptt_canvas_line(&c, cx, cy - 3, cx, cy + 3, 0, col);
        }
    }

    /* Room outline on top of everything. */
    if( t->room ){
        const sptt_alpha_shape *a = &t->room->shape;
        for(int l = 0; l < a->nLoops; l++){
            int s = a->loopStart[l], e = a->loopStart[l + 1];
            for(int k = s; k < e; k++){
                int kn = k + 1 < e ? k + 1 : s;
                seg(&c, &v, a->loopXY[2 * k], a->loopXY[2 * k + 1], a->loopXY[2 * kn], a->loopXY[2 * kn + 1], 1, black);
            }
        }
    }

    /* Caption. */
    if( t->zTitle ){
        const char *z = t->zTitle;
        for(int l = 0; l < nLines; l++){
            char buf[256];
            size_t len = strcspn(z, "\n");
            snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), z);
            sptt_canvas_text(&c, MARGIN, MARGIN / 2 + l * CAPTION_LINE, 2, buf, black);
            z += len + (z[len]=='\n');
        }
    }

    /* Scale bar: the longest round length within a quarter of the drawing, bottom left. */
    {
        static const double aLen[] = { 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50 };
        double len = aLen[0];
        char lab[32];
        int y = c.h - FOOTER / 2, x0 = MARGIN, x1;
        for(size_t k = 0; k < sizeof aLen / sizeof aLen[0]; k++)
            if( aLen[k] * v.ppm <= 0.25 * (c.w - 2 * MARGIN) ) len = aLen[k];
        x1 = x0 + (int)lround(len * v.ppm);
        sptt_canvas_rect(&c, x0, y - 2, x1, y + 2, black);
        sptt_canvas_rect(&c, x0, y - 8, x0 + 1, y + 8, black);
        sptt_canvas_rect(&c, x1 - 1, y - 8, x1, y + 8, black);
        if( len < 1 ) snprintf(lab, sizeof lab, "%g cm", len * 100);
        else snprintf(lab, sizeof lab, "%g m", len);
        sptt_canvas_text(&c, x1 + 10, y - 7, 2, lab, black);
        /* Axis cross, bottom right: x to the right, y up. */
        {
            int ax = c.w - MARGIN - 40, ay = y + 8;
            sptt_canvas_line(&c, ax, ay, ax + 30, ay, 0, black);
            sptt_canvas_line(&c, ax + 30, ay, ax + 25, ay - 4, 0, black);
            sptt_canvas_line(&c, ax + 30, ay, ax + 25, ay + 4, 0, black);
            sptt_canvas_line(&c, ax, ay, ax, ay - 30, 0, black);
            sptt_canvas_line(&c, ax, ay - 30, ax - 4, ay - 25, 0, black);
            sptt_canvas_line(&c, ax, ay - 30, ax + 4, ay - 25, 0, black);
            sptt_canvas_text(&c, ax + 33, ay - 3, 1, "x", black);
            sptt_canvas_text(&c, ax - 2, ay - 40, 1, "y", black);
        }
    }

    rc = sptt_canvas_write_png(&c, zPath);
cleanup:
    sptt_canvas_free(&c);
    free(top);
    return rc;
}
