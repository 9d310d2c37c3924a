/*
** The RGB8 canvas: pixels, discs, rectangles, clipped lines and 5x7 bitmap text.
**
** Every primitive reduces to filling a clipped rectangle or setting one checked pixel, and every
** double becomes an int through sptt_canvas_coord() or after clipping, so no input reaches an
** out-of-range conversion or an index outside the buffer.
*/
#include "sptt_canvas.h"
#include "sptt_common.h"
#include "sptt_png.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Beyond the largest canvas by far, and small enough that sums of a few coordinates fit an int. */
#define COORD_FAR 1048576.0
/* Lines are clipped to the canvas grown by this (or by the disc radius and a pixel, if wider):
** rounding the clipped ends then never moves a pixel that lands on the canvas. */
#define CLIP_MARGIN 8

int sptt_canvas_create(sptt_canvas *c, int w, int h, const uint8_t *bg)
{
    static const uint8_t white[3] = { 255, 255, 255 };
    size_t n;
    memset(c, 0, sizeof *c);
    if( w < 1 || h < 1 || w > SPTT_CANVAS_MAX_SIDE || h > SPTT_CANVAS_MAX_SIDE ){
        return sptt_fail(SPTT_EINVAL, "canvas of %dx%d pixels: each side must be 1 to %d", w, h, SPTT_CANVAS_MAX_SIDE);
    }
    n = sptt_mul_size(sptt_mul_size((size_t)w, (size_t)h), 3);
    if( n==SIZE_MAX ) return sptt_fail(SPTT_ENOMEM, "canvas of %dx%d pixels: size overflows", w, h);
    c->rgb = sptt_malloc(n);
    if( c->rgb==NULL ) return SPTT_ENOMEM;
    c->w = w;
    c->h = h;
    if( bg==NULL ) bg = white;
    if( bg[0]==bg[1] && bg[1]==bg[2] ){
        memset(c->rgb, bg[0], n);
    }else{
        for(size_t i = 0; i < n; i += 3) memcpy(c->rgb + i, bg, 3);
    }
    return SPTT_OK;
}

void sptt_canvas_free(sptt_canvas *c)
{
    free(c->rgb);
    memset(c, 0, sizeof *c);
}

int sptt_canvas_coord(double v)
{
    if( !(v > -COORD_FAR) ) return (int)-COORD_FAR;
    if( v > COORD_FAR ) return (int)COORD_FAR;
    return (int)lround(v);
}

void sptt_canvas_set(sptt_canvas *c, int x, int y, const uint8_t rgb[3])
{
    if( x < 0 || y < 0 || x >= c->w || y >= c->h ) return;
    memcpy(c->rgb + 3 * ((size_t)y * c->w + x), rgb, 3);
}

/* The rectangle in 64-bit coordinates, so a text cell's corner far out cannot overflow. */
static void fill(sptt_canvas *c, long long x0, long long y0, long long x1, long long y1, const uint8_t rgb[3])
{
    if( x0 < 0 ) x0 = 0;
    if( y0 < 0 ) y0 = 0;
    if( x1 > c->w - 1 ) x1 = c->w - 1;
    if( y1 > c->h - 1 ) y1 = c->h - 1;
    for(long long y = y0; y <= y1; y++){
        uint8_t *row = c->rgb + 3 * (size_t)y * c->w;
        for(long long x = x0; x <= x1; x++) memcpy(row + 3 * x, rgb, 3);
    }
}

void sptt_canvas_rect(sptt_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3])
{
    fill(c, x0, y0, x1, y1, rgb);
}

static int clamp_radius(int r)
{
    return r < 0 ? 0 : r > SPTT_CANVAS_MAX_RADIUS ? SPTT_CANVAS_MAX_RADIUS : r;
}

static void disc(sptt_canvas *c, int x, int y, int r, const uint8_t rgb[3])
{
    /* A disc wholly off the canvas costs nothing: long lines stamp one per step. */
    if( x < -r || y < -r || x - r >= c->w || y - r >= c->h ) return;
    for(int dy = -r; dy <= r; dy++)
        for(int dx = -r; dx <= r; dx++)
            if( dx * dx + dy * dy <= r * r + r ) sptt_canvas_set(c, x + dx, y + dy, rgb);
}

void sptt_canvas_dot(sptt_canvas *c, int x, int y, int r, const uint8_t rgb[3])
{
    disc(c, x, y, clamp_radius(r), rgb);
}

/* Bresenham between ends the caller has clipped near the canvas. */
static void bresenham(sptt_canvas *c, int x0, int y0, int x1, int y1, int r, const uint8_t rgb[3])
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for(;;){
        disc(c, x0, y0, r, rgb);
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

static void clip_and_draw(sptt_canvas *c, double x0, double y0, double x1, double y1, int r, const uint8_t rgb[3])
{
    double m = r + 1 > CLIP_MARGIN ? r + 1 : CLIP_MARGIN;
    double dx = x1 - x0, dy = y1 - y0, t0 = 0, t1 = 1;
    double p[4] = { -dx, dx, -dy, dy };
    double q[4] = { x0 + m, c->w + m - x0, y0 + m, c->h + m - y0 };
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
    /* The clipped ends lie within the grown canvas up to rounding; sptt_canvas_coord bounds them
    ** whatever precision the clip lost on ends of 1e300. */
    bresenham(c, sptt_canvas_coord(x0 + t0 * dx), sptt_canvas_coord(y0 + t0 * dy), sptt_canvas_coord(x0 + t1 * dx),
              sptt_canvas_coord(y0 + t1 * dy), r, rgb);
}

void sptt_canvas_line(sptt_canvas *c, double x0, double y0, double x1, double y1, int r, const uint8_t rgb[3])
{
    r = clamp_radius(r);
    if( !isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) ) return;
    if( !isfinite(x1 - x0) || !isfinite(y1 - y0) ){
        /* Ends near +-DBL_MAX on both sides: the differences overflow, the halves' do not. */
        double mx = x0 / 2 + x1 / 2, my = y0 / 2 + y1 / 2;
        clip_and_draw(c, x0, y0, mx, my, r, rgb);
        clip_and_draw(c, mx, my, x1, y1, r, rgb);
        return;
    }
    clip_and_draw(c, x0, y0, x1, y1, r, rgb);
}

/* ---------------------------------------------------------------------------------------------
** 5x7 font: 7 rows of 5 bits, most significant bit leftmost. Letters are lower case only (upper
** case is drawn as lower case); '^' draws a superscript 2 for "m^".
*/
static const char zGlyphs[] = "0123456789abcdefghijklmnopqrstuvwxyz.,_-:/()=%^ +;[]<>*!?'#";
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
    { 0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00 }, { 0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08 },
    { 0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E }, { 0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E },
    { 0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02 }, { 0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08 },
    { 0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00 }, { 0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04 },
    { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04 }, { 0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00 },
    { 0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A },
};

_Static_assert(sizeof aGlyph / sizeof aGlyph[0]==sizeof zGlyphs - 1, "one glyph per character");

static const uint8_t *glyph(char ch)
{
    const char *g;
    if( ch >= 'A' && ch <= 'Z' ) ch = (char)(ch - 'A' + 'a');
    g = ch ? strchr(zGlyphs, ch) : NULL;
    return g ? aGlyph[g - zGlyphs] : NULL;
}

static int clamp_scale(int s)
{
    return s < 1 ? 1 : s > SPTT_CANVAS_MAX_SCALE ? SPTT_CANVAS_MAX_SCALE : s;
}

int sptt_canvas_text_width(int s, const char *z)
{
    size_t n = strlen(z);
    long long w;
    s = clamp_scale(s);
    if( n==0 ) return 0;
    if( n > (size_t)INT_MAX / SPTT_FONT_ADVANCE ) return INT_MAX;
    w = ((long long)n * SPTT_FONT_ADVANCE - 1) * s;
    return w > INT_MAX ? INT_MAX : (int)w;
}

/*
** Draws z glyph by glyph. up = 0: left to right from (x, y). up = 1: turned a quarter counter-
** clockwise inside the box (x, y, 7s wide, width tall): the glyph's column u lands at screen row
** y + width - 1 - u, its row v at screen column x + v.
*/
static int draw_text(sptt_canvas *c, int x, int y, int s, const char *z, const uint8_t rgb[3], int up)
{
    int width = sptt_canvas_text_width(s, z);
    long long u = 0;   /* left edge of the current cell along the text */
    s = clamp_scale(s);
    for(; *z; z++, u += (long long)SPTT_FONT_ADVANCE * s){
        const uint8_t *rows = glyph(*z);
        if( rows==NULL ) continue;
        for(int r = 0; r < SPTT_FONT_H; r++){
            for(int b = 0; b < SPTT_FONT_W; b++){
                long long gu = u + (long long)b * s, gv = (long long)r * s;
                if( !(rows[r] & (0x10 >> b)) ) continue;
                if( up ){
                    long long sy = (long long)y + width - gu - s;
                    fill(c, x + gv, sy, x + gv + s - 1, sy + s - 1, rgb);
                }else{
                    fill(c, x + gu, y + gv, x + gu + s - 1, y + gv + s - 1, rgb);
                }
            }
        }
        /* Past the canvas along the text, the rest draws nothing. */
        if( up ? (long long)y + width - u < 0 : x + u > c->w ) break;
    }
    return width;
}

int sptt_canvas_text(sptt_canvas *c, int x, int y, int s, const char *z, const uint8_t rgb[3])
{
    return draw_text(c, x, y, s, z, rgb, 0);
}

int sptt_canvas_text_up(sptt_canvas *c, int x, int y, int s, const char *z, const uint8_t rgb[3])
{
    return draw_text(c, x, y, s, z, rgb, 1);
}

int sptt_canvas_write_png(const sptt_canvas *c, const char *zPath)
{
    return sptt_png_write(zPath, c->rgb, c->w, c->h, 3, 8);
}
