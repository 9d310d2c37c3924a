/*
** Unit tests for common/canvas.c: pixels, lines (ends, clipping, direction kept through the
** clip, non-finite ends ignored), rectangles, the 5x7 text and its width, the coordinate
** conversion, and the PNG it writes. Extreme arguments must never touch memory beside the pixel
** buffer: the canvas is drawn into the middle of a larger buffer whose guard bytes are checked.
*/
#include <criterion/criterion.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_canvas.h"
#include "sptt_common.h"

static const uint8_t red[3] = { 255, 0, 0 };
static const uint8_t white[3] = { 255, 255, 255 };

static int is(const sptt_canvas *c, int x, int y, const uint8_t *rgb)
{
    return memcmp(c->rgb + 3 * ((size_t)y * c->w + x), rgb, 3)==0;
}

static int count(const sptt_canvas *c, const uint8_t *rgb)
{
    int n = 0;
    for(int y = 0; y < c->h; y++)
        for(int x = 0; x < c->w; x++) n += is(c, x, y, rgb);
    return n;
}

Test(canvas, create_fills_and_refuses_bad_sizes)
{
    sptt_canvas c;
    static const uint8_t bg[3] = { 10, 20, 30 };
    cr_assert_eq(sptt_canvas_create(&c, 7, 5, bg), SPTT_OK);
    cr_assert_eq(count(&c, bg), 35);
    sptt_canvas_free(&c);
    cr_assert_null(c.rgb);
    cr_assert_eq(sptt_canvas_create(&c, 3, 4, NULL), SPTT_OK);
    cr_assert_eq(count(&c, white), 12, "white by default");
    sptt_canvas_free(&c);
    cr_assert_eq(sptt_canvas_create(&c, 0, 5, NULL), SPTT_EINVAL);
    cr_assert_null(c.rgb);
    cr_assert_eq(sptt_canvas_create(&c, 5, -1, NULL), SPTT_EINVAL);
    cr_assert_eq(sptt_canvas_create(&c, SPTT_CANVAS_MAX_SIDE + 1, 5, NULL), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "65536x5") != NULL, "%s", sptt_errmsg());
    sptt_canvas_free(&c);
}

Test(canvas, coord_rounds_and_bounds)
{
    cr_assert_eq(sptt_canvas_coord(2.4), 2);
    cr_assert_eq(sptt_canvas_coord(2.5), 3);
    cr_assert_eq(sptt_canvas_coord(-2.5), -3);
    cr_assert_eq(sptt_canvas_coord(NAN), -1048576);
    cr_assert_eq(sptt_canvas_coord(INFINITY), 1048576);
    cr_assert_eq(sptt_canvas_coord(-INFINITY), -1048576);
    cr_assert_eq(sptt_canvas_coord(1e300), 1048576);
    cr_assert_eq(sptt_canvas_coord(-DBL_MAX), -1048576);
}

Test(canvas, line_ends_and_length)
{
    sptt_canvas c;
    cr_assert_eq(sptt_canvas_create(&c, 30, 20, NULL), SPTT_OK);
    sptt_canvas_line(&c, 2, 3, 17, 9, 0, red);
    cr_assert(is(&c, 2, 3, red), "first end");
    cr_assert(is(&c, 17, 9, red), "last end");
    cr_assert_eq(count(&c, red), 16, "one pixel per column of an x-major line");
    /* every drawn pixel lies within half a pixel of the true segment */
    for(int y = 0; y < c.h; y++)
        for(int x = 0; x < c.w; x++){
            if( !is(&c, x, y, red) ) continue;
            double d = fabs((x - 2) * 6.0 - (y - 3) * 15.0) / sqrt(6.0 * 6 + 15.0 * 15);
            cr_assert_leq(d, 0.5 + 1e-9, "(%d, %d) is %g from the line", x, y, d);
        }
    sptt_canvas_free(&c);

    /* ends rounded to the nearest pixel; a zero-length line is one pixel */
    cr_assert_eq(sptt_canvas_create(&c, 30, 20, NULL), SPTT_OK);
    sptt_canvas_line(&c, 4.4, 5.6, 4.4, 5.6, 0, red);
    cr_assert_eq(count(&c, red), 1);
    cr_assert(is(&c, 4, 6, red));
    sptt_canvas_free(&c);

    /* width 2r+1 */
    cr_assert_eq(sptt_canvas_create(&c, 30, 20, NULL), SPTT_OK);
    sptt_canvas_line(&c, 5, 10, 20, 10, 1, red);
    for(int x = 5; x <= 20; x++)
        for(int y = 9; y <= 11; y++) cr_assert(is(&c, x, y, red), "(%d, %d)", x, y);
    cr_assert(!is(&c, 10, 8, red) && !is(&c, 10, 12, red));
    sptt_canvas_free(&c);
}

Test(canvas, line_far_outside_keeps_its_direction)
{
    sptt_canvas c;
    cr_assert_eq(sptt_canvas_create(&c, 40, 30, NULL), SPTT_OK);
    sptt_canvas_line(&c, -1e12, 5, 1e12, 5, 0, red);
    for(int x = 0; x < c.w; x++) cr_assert(is(&c, x, 5, red), "row 5, column %d", x);
    cr_assert_eq(count(&c, red), c.w);
    sptt_canvas_line(&c, -1e9, -1e9, 1e9, 1e9, 0, red);
    for(int k = 0; k < c.h; k++) cr_assert(is(&c, k, k, red), "diagonal at %d", k);
    /* one end inside, one far away: the inside end is exact */
    sptt_canvas_free(&c);
    cr_assert_eq(sptt_canvas_create(&c, 40, 30, NULL), SPTT_OK);
    sptt_canvas_line(&c, 10, 12, 10, 1e15, 0, red);
    cr_assert(is(&c, 10, 12, red) && !is(&c, 10, 11, red));
    cr_assert_eq(count(&c, red), c.h - 12);
    sptt_canvas_free(&c);
}

Test(canvas, non_finite_ends_draw_nothing)
{
    sptt_canvas c;
    const double bad[] = { NAN, INFINITY, -INFINITY };
    cr_assert_eq(sptt_canvas_create(&c, 20, 20, NULL), SPTT_OK);
    for(int i = 0; i < 3; i++){
        sptt_canvas_line(&c, bad[i], 5, 10, 10, 2, red);
        sptt_canvas_line(&c, 5, bad[i], 10, 10, 2, red);
        sptt_canvas_line(&c, 5, 5, bad[i], 10, 2, red);
        sptt_canvas_line(&c, 5, 5, 10, bad[i], 2, red);
        sptt_canvas_line(&c, bad[i], bad[i], bad[i], bad[i], 0, red);
    }
    cr_assert_eq(count(&c, white), 400, "nothing drawn");
    sptt_canvas_free(&c);
}

/* The canvas's pixels in the middle of a buffer with guard bytes on both sides. */
#define GUARD 4096
static void guarded(sptt_canvas *c, uint8_t **pBase, int w, int h)
{
    size_t n = (size_t)w * h * 3;
    uint8_t *base = malloc(n + 2 * GUARD);
    cr_assert_not_null(base);
    memset(base, 0xA5, GUARD);
    memset(base + GUARD, 255, n);
    memset(base + GUARD + n, 0xA5, GUARD);
    c->w = w;
    c->h = h;
    c->rgb = base + GUARD;
    *pBase = base;
}

static void check_guards(const sptt_canvas *c, const uint8_t *base)
{
    size_t n = (size_t)c->w * c->h * 3;
    for(size_t i = 0; i < GUARD; i++){
        cr_assert_eq(base[i], 0xA5, "guard byte %zu before the pixels written", GUARD - i);
        cr_assert_eq(base[GUARD + n + i], 0xA5, "guard byte %zu after the pixels written", i);
    }
}

Test(canvas, extreme_arguments_stay_inside_the_buffer)
{
    sptt_canvas c;
    uint8_t *base;
    const double far[] = { 0, 5, -1, 16, 17, 1e9, -1e9, 1e300, -1e300, DBL_MAX, -DBL_MAX, INT_MAX, INT_MIN,
                           2147483648.0, -2147483649.0, 1e-310, NAN, INFINITY, -INFINITY };
    const int nFar = (int)(sizeof far / sizeof far[0]);
    const int ints[] = { 0, 3, -1, 16, 17, 100000, -100000, INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1 };
    const int nInts = (int)(sizeof ints / sizeof ints[0]);
    guarded(&c, &base, 17, 13);
    for(int a = 0; a < nFar; a++)
        for(int b = 0; b < nFar; b++){
            sptt_canvas_line(&c, far[a], far[b], far[b], far[a], 0, red);
            sptt_canvas_line(&c, far[a], 6, far[b], 7, 3, red);
            /* wide discs cost r^2 a step: a few suffice */
            if( a==b ) sptt_canvas_line(&c, 4, far[a], 9, far[b], 1000, red);
        }
    for(int a = 0; a < nInts; a++)
        for(int b = 0; b < nInts; b++){
            sptt_canvas_set(&c, ints[a], ints[b], red);
            sptt_canvas_dot(&c, ints[a], ints[b], 5, red);
            sptt_canvas_dot(&c, ints[a], ints[b], INT_MAX, red);
            sptt_canvas_rect(&c, ints[a], ints[b], ints[b], ints[a], red);
            sptt_canvas_rect(&c, INT_MIN, ints[a], INT_MAX, ints[b], red);
            sptt_canvas_text(&c, ints[a], ints[b], 3, "0123 abc %()", red);
            sptt_canvas_text_up(&c, ints[a], ints[b], 3, "0123 abc %()", red);
            sptt_canvas_text(&c, ints[a], ints[b], INT_MAX, "w", red);
            sptt_canvas_text_up(&c, ints[a], ints[b], INT_MIN, "w", red);
        }
    check_guards(&c, base);
    free(base);
}

Test(canvas, rect_is_inclusive_and_clipped)
{
    sptt_canvas c;
    cr_assert_eq(sptt_canvas_create(&c, 10, 8, NULL), SPTT_OK);
    sptt_canvas_rect(&c, 2, 3, 4, 3, red);
    cr_assert_eq(count(&c, red), 3);
    sptt_canvas_rect(&c, 5, 5, 4, 6, red);
    cr_assert_eq(count(&c, red), 3, "x1 < x0 is empty");
    sptt_canvas_rect(&c, -5, -5, 100, 0, red);
    cr_assert_eq(count(&c, red), 13, "top row clipped in");
    sptt_canvas_free(&c);
}

Test(canvas, text_width)
{
    cr_assert_eq(sptt_canvas_text_width(1, ""), 0);
    cr_assert_eq(sptt_canvas_text_width(1, "a"), 5);
    cr_assert_eq(sptt_canvas_text_width(2, "abc"), 34);
    cr_assert_eq(sptt_canvas_text_width(3, "1e-5"), (6 * 4 - 1) * 3);
    cr_assert_eq(sptt_canvas_text_width(0, "ab"), 11, "scale below 1 is 1");
    cr_assert_eq(sptt_canvas_text_width(1000, "ab"), 11 * SPTT_CANVAS_MAX_SCALE, "scale clamped");
}

/* Bounding box of pixels of colour rgb; returns their count. */
static int bbox(const sptt_canvas *c, const uint8_t *rgb, int *x0, int *y0, int *x1, int *y1)
{
    int n = 0;
    *x0 = *y0 = INT_MAX;
    *x1 = *y1 = INT_MIN;
    for(int y = 0; y < c->h; y++)
        for(int x = 0; x < c->w; x++){
            if( !is(c, x, y, rgb) ) continue;
            n++;
            if( x < *x0 ) *x0 = x;
            if( y < *y0 ) *y0 = y;
            if( x > *x1 ) *x1 = x;
            if( y > *y1 ) *y1 = y;
        }
    return n;
}

Test(canvas, text_glyphs_and_cells)
{
    sptt_canvas a, b;
    int x0, y0, x1, y1, w;
    /* every character a plot needs draws something, within its cell */
    const char *z = "0123456789.-e+abcdefghijklmnopqrstuvwxyz()/:%";
    cr_assert_eq(sptt_canvas_create(&a, 8, 9, NULL), SPTT_OK);
    for(const char *p = z; *p; p++){
        char one[2] = { *p, 0 };
        memset(a.rgb, 255, (size_t)a.w * a.h * 3);
        cr_assert_eq(sptt_canvas_text(&a, 1, 1, 1, one, red), 5);
        cr_assert_gt(bbox(&a, red, &x0, &y0, &x1, &y1), 0, "'%c' draws nothing", *p);
        cr_assert(x0 >= 1 && y0 >= 1 && x1 <= 5 && y1 <= 7, "'%c' leaves its cell", *p);
    }
    /* a space and an unknown byte draw nothing but take their cell */
    memset(a.rgb, 255, (size_t)a.w * a.h * 3);
    sptt_canvas_text(&a, 0, 0, 1, " \x01~", red);
    cr_assert_eq(count(&a, red), 0);
    sptt_canvas_free(&a);

    /* upper case is drawn as lower case */
    cr_assert_eq(sptt_canvas_create(&a, 60, 10, NULL), SPTT_OK);
    cr_assert_eq(sptt_canvas_create(&b, 60, 10, NULL), SPTT_OK);
    sptt_canvas_text(&a, 1, 1, 1, "Loss E", red);
    sptt_canvas_text(&b, 1, 1, 1, "loss e", red);
    cr_assert(memcmp(a.rgb, b.rgb, (size_t)a.w * a.h * 3)==0);
    sptt_canvas_free(&b);
    sptt_canvas_free(&a);

    /* scale: "1" at scale 3 covers a multiple of 3 pixels, inside 15x21 */
    cr_assert_eq(sptt_canvas_create(&a, 40, 40, NULL), SPTT_OK);
    w = sptt_canvas_text(&a, 2, 4, 3, "1", red);
    cr_assert_eq(w, 15);
    cr_assert_gt(bbox(&a, red, &x0, &y0, &x1, &y1), 0);
    cr_assert(x0 >= 2 && y0 >= 4 && x1 <= 16 && y1 <= 24);
    cr_assert_eq(count(&a, red) % 9, 0);
    sptt_canvas_free(&a);
}

Test(canvas, text_turned_up)
{
    sptt_canvas c;
    int x0, y0, x1, y1;
    /* '-' is row 3, columns 0-4: turned, it is column x+3, rows y+4 (its left end) up to y */
    cr_assert_eq(sptt_canvas_create(&c, 20, 20, NULL), SPTT_OK);
    cr_assert_eq(sptt_canvas_text_up(&c, 5, 6, 1, "-", red), 5);
    cr_assert_eq(bbox(&c, red, &x0, &y0, &x1, &y1), 5);
    cr_assert(x0==8 && x1==8 && y0==6 && y1==10, "(%d,%d)-(%d,%d)", x0, y0, x1, y1);
    sptt_canvas_free(&c);
    /* two characters: the first at the bottom of the box */
    cr_assert_eq(sptt_canvas_create(&c, 20, 20, NULL), SPTT_OK);
    cr_assert_eq(sptt_canvas_text_up(&c, 0, 0, 1, "- ", red), 11);
    cr_assert_eq(bbox(&c, red, &x0, &y0, &x1, &y1), 5);
    cr_assert(y0==6 && y1==10, "rows %d-%d", y0, y1);
    sptt_canvas_free(&c);
}

Test(canvas, writes_png)
{
    sptt_canvas c;
    char zDir[] = "/tmp/sptt_canvas_XXXXXX", zPath[64], cmd[96];
    png_image img;
    uint8_t *back;
    cr_assert_not_null(mkdtemp(zDir));
    snprintf(zPath, sizeof zPath, "%s/c.png", zDir);
    cr_assert_eq(sptt_canvas_create(&c, 23, 11, NULL), SPTT_OK);
    sptt_canvas_line(&c, 0, 0, 22, 10, 1, red);
    sptt_canvas_text(&c, 1, 2, 1, "ok", red);
    cr_assert_eq(sptt_canvas_write_png(&c, zPath), SPTT_OK, "%s", sptt_errmsg());
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPath), "%s", img.message);
    cr_assert_eq(img.width, 23);
    cr_assert_eq(img.height, 11);
    img.format = PNG_FORMAT_RGB;
    back = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, back, 0, NULL), "%s", img.message);
    cr_assert(memcmp(back, c.rgb, (size_t)23 * 11 * 3)==0);
    free(back);
    sptt_canvas_free(&c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}
