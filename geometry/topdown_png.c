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
#include "sptt_common.h"
#include "sptt_png.h"
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
/* Pixel coordinates are clamped to this before becoming ints: far outside any canvas, far inside
** int. */
#define PX_FAR 1048576.0

typedef struct canvas {
    int w, h;
    uint8_t *rgb;
    float *top;       /* highest z drawn at each pixel */
} canvas;

static void put(canvas *c, int x, int y, const uint8_t *col)
{
    if( x < 0 || y < 0 || x >= c->w || y >= c->h ) return;
    memcpy(c->rgb + 3 * ((size_t)y * c->w + x), col, 3);
}

static void disc(canvas *c, int x, int y, int r, const uint8_t *col)
{
    for(int dy = -r; dy <= r; dy++)
        for(int dx = -r; dx <= r; dx++)
            if( dx * dx + dy * dy <= r * r + r ) put(c, x + dx, y + dy, col);
}

/* A line of width 2r+1 (Bresenham, stamping a disc). */
static void line(canvas *c, int x0, int y0, int x1, int y1, int r, const uint8_t *col)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for(int guard = 0; guard < 100000; guard++){
        disc(c, x0, y0, r, col);
        if( x0==x1 && y0==y1 ) break;
        {
            int e2 = 2 * err;
            if( e2 >= dy ){
                err += dy;
                x0 += sx;
            }
            if( e2 <= dx ){
                err += dx;
                y0 += sy;
            }
        }
    }
}

static void rect(canvas *c, int x0, int y0, int x1, int y1, const uint8_t *col)
{
    for(int y = y0; y <= y1; y++)
        for(int x = x0; x <= x1; x++) put(c, x, y, col);
}

/* ---------------------------------------------------------------------------------------------
** 5x7 font: 7 rows of 5 bits, most significant bit leftmost. Letters are lower case only (upper
** case is drawn as lower case); '^' draws a superscript 2 for "m^".
*/
static const char zGlyphs[] = "0123456789abcdefghijklmnopqrstuvwxyz.,_-:/()=%^ +";
static const uint8_t aGlyph[][7] = {
    { 0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E }, { 0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E },
    { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F }, { 0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E },
    { 0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02 }, { 0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E },
    { 0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E }, { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 },
    { 0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E }, { 0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C },
    { 0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F }, { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E },
    { 0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E }, { 0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F },
    { 0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E }, { 0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08 },
    { 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E }, { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11 },
    { 0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E }, { 0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C },
    { 0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12 }, { 0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E },
    { 0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11 }, { 0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11 },
    { 0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E }, { 0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10 },
    { 0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01 }, { 0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10 },
    { 0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E }, { 0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06 },
    { 0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D }, { 0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04 },
    { 0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A }, { 0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11 },
    { 0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E }, { 0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C }, { 0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08 },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F }, { 0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00 },
    { 0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00 }, { 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00 },
    { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 }, { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 },
    { 0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00 }, { 0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03 },
    { 0x0C, 0x12, 0x04, 0x08, 0x1E, 0x00, 0x00 }, { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
    { 0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00 },
};

_Static_assert(sizeof aGlyph / sizeof aGlyph[0]==sizeof zGlyphs - 1, "one glyph per character");

/* Draws text at (x, y) (top-left) with pixel scale s; returns the width drawn. */
static int text(canvas *c, int x, int y, int s, const char *z, const uint8_t *col)
{
    int x0 = x;
    for(; *z; z++){
        char ch = *z >= 'A' && *z <= 'Z' ? (char)(*z - 'A' + 'a') : *z;
        const char *g = strchr(zGlyphs, ch);
        if( ch && g ){
            const uint8_t *rows = aGlyph[g - zGlyphs];
            for(int r = 0; r < 7; r++)
                for(int b = 0; b < 5; b++)
                    if( rows[r] & (0x10 >> b) ) rect(c, x + b * s, y + r * s, x + b * s + s - 1, y + r * s + s - 1, col);
        }
        x += 6 * s;
    }
    return x - x0;
}

/* ---------------------------------------------------------------------------------------------
*/
typedef struct view {
    double x0, y1, ppm;    /* world x of pixel column 0 (after the margin), world y of the top row */
    int top;               /* pixel row where the drawing starts */
} view;

static double px_x(const view *v, double x) { return MARGIN + (x - v->x0) * v->ppm; }
static double px_y(const view *v, double y) { return v->top + (v->y1 - y) * v->ppm; }

static int px_int(double p)
{
    /* NaN and far values land off the canvas instead of overflowing the conversion. */
    if( !(p > -PX_FAR) ) return (int)-PX_FAR;
    if( p > PX_FAR ) return (int)PX_FAR;
    return (int)lround(p);
}

static void to_px(const view *v, double x, double y, int *px, int *py)
{
    *px = px_int(px_x(v, x));
    *py = px_int(px_y(v, y));
}

/* A segment between world points, clipped to the canvas (and a few pixels around it) before it
** is rasterised, so an end far outside keeps the segment's direction. Liang-Barsky. */
static void seg(canvas *c, const view *v, double ax, double ay, double bx, double by, int r, const uint8_t *col)
{
    double x0 = px_x(v, ax), y0 = px_y(v, ay), x1 = px_x(v, bx), y1 = px_y(v, by);
    double dx = x1 - x0, dy = y1 - y0, t0 = 0, t1 = 1;
    double p[4] = { -dx, dx, -dy, dy };
    double q[4] = { x0 + 8, c->w + 8 - x0, y0 + 8, c->h + 8 - y0 };
    if( !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) ) return;
    for(int i = 0; i < 4; i++){
        if( p[i]==0 ){
            if( q[i] < 0 ) return;
            continue;
        }
        {
            double t = q[i] / p[i];
            if( p[i] < 0 ){
                if( t > t1 ) return;
                if( t > t0 ) t0 = t;
            }else{
                if( t < t0 ) return;
                if( t < t1 ) t1 = t;
            }
        }
    }
    line(c, px_int(x0 + t0 * dx), px_int(y0 + t0 * dy), px_int(x0 + t1 * dx), px_int(y0 + t1 * dy), r, col);
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
    canvas c = {0};
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
    c.w = 2 * MARGIN + (int)ceil((bb[2] - bb[0]) * v.ppm) + 1;
    c.h = v.top + (int)ceil((bb[3] - bb[1]) * v.ppm) + 1 + MARGIN / 2 + FOOTER;
    if( c.w < 420 ) c.w = 420;
    c.rgb = sptt_malloc((size_t)c.w * c.h * 3);
    c.top = sptt_malloc((size_t)c.w * c.h * sizeof(float));
    if( c.rgb==NULL || c.top==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    memset(c.rgb, 255, (size_t)c.w * c.h * 3);
    for(size_t i = 0; i < (size_t)c.w * c.h; i++) c.top[i] = -INFINITY;

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
                if( z < c.top[at] ) continue;
                c.top[at] = (float)z;
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
                if( p[2] < c.top[at] ) continue;
                c.top[at] = p[2];
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
            line(&c, cx - 3, cy, cx + 3, cy, 0, col);
            line(&c, cx, cy - 3, cx, cy + 3, 0, col);
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
            text(&c, MARGIN, MARGIN / 2 + l * CAPTION_LINE, 2, buf, black);
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
        rect(&c, x0, y - 2, x1, y + 2, black);
        rect(&c, x0, y - 8, x0 + 1, y + 8, black);
        rect(&c, x1 - 1, y - 8, x1, y + 8, black);
        if( len < 1 ) snprintf(lab, sizeof lab, "%g cm", len * 100);
        else snprintf(lab, sizeof lab, "%g m", len);
        text(&c, x1 + 10, y - 7, 2, lab, black);
        /* Axis cross, bottom right: x to the right, y up. */
        {
            int ax = c.w - MARGIN - 40, ay = y + 8;
            line(&c, ax, ay, ax + 30, ay, 0, black);
            line(&c, ax + 30, ay, ax + 25, ay - 4, 0, black);
            line(&c, ax + 30, ay, ax + 25, ay + 4, 0, black);
            line(&c, ax, ay, ax, ay - 30, 0, black);
            line(&c, ax, ay - 30, ax - 4, ay - 25, 0, black);
            line(&c, ax, ay - 30, ax + 4, ay - 25, 0, black);
            text(&c, ax + 33, ay - 3, 1, "x", black);
            text(&c, ax - 2, ay - 40, 1, "y", black);
        }
    }

    rc = sptt_png_write(zPath, c.rgb, c.w, c.h, 3, 8);
cleanup:
    free(c.rgb);
    free(c.top);
    return rc;
}
