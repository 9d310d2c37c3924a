/*
** A small RGB8 drawing surface for the pictures the tools write: top-down views of scenes and
** plots of training curves.
**
** Pixel (x, y) has its centre at integer coordinates, x to the right, y down, (0, 0) top left.
** Every primitive clips to the canvas: coordinates far outside it, huge, infinite or NaN never
** write outside the pixel buffer and never overflow a conversion; a line with a non-finite end
** is not drawn at all.
**
** Text uses a built-in 5x7 bitmap font, one cell 6 pixels wide (a column of space between glyphs)
** and 7 high, each pixel drawn as an s x s block at scale s. It has digits, lower-case letters
** (upper case is drawn as lower case) and . , _ - + = : ; / ( ) [ ] < > % * ! ? ' # and space;
** '^' draws a superscript 2 (for "m^"). Any other byte leaves its cell blank.
*/
#ifndef SPTT_CANVAS_H
#define SPTT_CANVAS_H

#include <stdint.h>

#define SPTT_CANVAS_MAX_SIDE 65535
/* Glyph cells: what a text of n characters at scale s covers is text_width x 7s. */
#define SPTT_FONT_W 5
#define SPTT_FONT_H 7
#define SPTT_FONT_ADVANCE 6
/* Line half-widths and text scales are clamped to these: a stray argument costs no minutes. */
#define SPTT_CANVAS_MAX_RADIUS 32
#define SPTT_CANVAS_MAX_SCALE 64

typedef struct sptt_canvas {
    int w, h;
    uint8_t *rgb;    /* (h, w, 3) rows top to bottom, no padding */
} sptt_canvas;

/* Allocates a w x h canvas filled with bg (white when bg is NULL). SPTT_EINVAL for a side outside
** [1, SPTT_CANVAS_MAX_SIDE], SPTT_ENOMEM. On failure *c is left empty (safe to free). */
int sptt_canvas_create(sptt_canvas *c, int w, int h, const uint8_t *bg);
void sptt_canvas_free(sptt_canvas *c);

/* A pixel coordinate as an int: rounded to nearest; NaN and values beyond +-2^20 become +-2^20,
** far off any canvas, so the callers' sums stay far inside int. */
int sptt_canvas_coord(double v);

/* One pixel; outside the canvas nothing happens. */
void sptt_canvas_set(sptt_canvas *c, int x, int y, const uint8_t rgb[3]);
/* A filled disc of radius r (0: one pixel) centred on (x, y). */
void sptt_canvas_dot(sptt_canvas *c, int x, int y, int r, const uint8_t rgb[3]);
/* The filled rectangle between corners (x0, y0) and (x1, y1), both included; empty when x1 < x0
** or y1 < y0. */
void sptt_canvas_rect(sptt_canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]);
/*
** A line from (x0, y0) to (x1, y1) of width 2r+1: Bresenham between the rounded ends, stamping a
** disc of radius r at each step. The segment is first clipped (Liang-Barsky, in doubles) to the
** canvas grown by a margin wider than the disc, so an end far outside keeps the line's direction
** and the work is bounded by the canvas size. Nothing is drawn when an end is not finite.
*/
void sptt_canvas_line(sptt_canvas *c, double x0, double y0, double x1, double y1, int r, const uint8_t rgb[3]);

/* Width in pixels of z at scale s, from the left edge of the first glyph to the right edge of
** the last cell's glyph: (6n - 1) s for n characters, 0 for "". Saturates at INT_MAX. */
int sptt_canvas_text_width(int s, const char *z);
/* Text with its top-left corner at (x, y), one line (a '\n' is an unknown byte). Returns its
** width, as sptt_canvas_text_width. */
int sptt_canvas_text(sptt_canvas *c, int x, int y, int s, const char *z, const uint8_t rgb[3]);
/* The same text turned a quarter counter-clockwise, reading upwards, as a y-axis title: it
** fills the box with top-left corner (x, y), 7s wide and sptt_canvas_text_width tall. */
int sptt_canvas_text_up(sptt_canvas *c, int x, int y, int s, const char *z, const uint8_t rgb[3]);

/* Writes the canvas to zPath as an 8-bit RGB PNG, atomically (sptt_png_write). */
int sptt_canvas_write_png(const sptt_canvas *c, const char *zPath);

#endif
