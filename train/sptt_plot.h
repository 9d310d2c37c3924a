/*
** Line plots of training curves (train and validation loss against the step) as PNG files.
*/
#ifndef SPTT_PLOT_H
#define SPTT_PLOT_H

#include <stdint.h>

/* Sides of a plot, in pixels: smaller leaves no room for the labels; larger is not a chart. */
#define SPTT_PLOT_MIN_W 200
#define SPTT_PLOT_MIN_H 150
#define SPTT_PLOT_MAX_SIDE 8192

typedef struct sptt_series {
    const char *zLabel;    /* legend text; NULL or "" leaves the series out of the legend */
    const double *x;       /* (n) */
    const double *y;       /* (n) */
    int n;
    uint8_t rgb[3];
} sptt_series;

/*
** Line plot of the series over a shared x axis: a frame with "nice" ticks (steps of 1, 2 or 5
** times a power of ten) and numeric tick labels, light grid lines, the x-axis title under it,
** the y-axis title turned upwards on its left, the title on top and between title and frame a
** legend with each labelled series' colour and label. zTitle, zXLabel and zYLabel may be NULL.
**
** Each series is a line through its points in the order given; a point whose x or y is not finite
** or beyond +-1e300 (with logY, whose y is not positive) is skipped and the line joins its
** neighbours. A series with a single point draws a dot; sparse series (points over 12 pixels
** apart on average) get a dot at every point. The axes span the points of all series with a
** margin of 3% on each side, so no point sits on the frame; a constant x or y gets a range
** around its value, no points at all a default range and the words "no data".
**
** logY: the y axis is logarithmic, with ticks at powers of ten (or at 1, 2, 5 or 1 to 9 times
** them when the range is short).
**
** width x height in [SPTT_PLOT_MIN_W, SPTT_PLOT_MAX_SIDE] x [SPTT_PLOT_MIN_H, SPTT_PLOT_MAX_SIDE];
** text is drawn at a scale that grows with the smaller side. The file is written atomically.
** SPTT_EINVAL for a bad size, a negative count, or a series with points but no x or y;
** SPTT_EIO when the file cannot be written; SPTT_ENOMEM.
*/
int sptt_plot_png(const char *zPath, const char *zTitle, const char *zXLabel, const char *zYLabel,
                  const sptt_series *aSeries, int nSeries, int width, int height, int logY);

/* Where sptt_plot_png put the data: value xlo at pixel column left, xhi at right, ylo at row
** bottom, yhi at row top, linearly in between (ylo and yhi are log10 of y when logY). The frame
** is drawn on those columns and rows. */
typedef struct sptt_plot_axes {
    int left, top, right, bottom;
    double xlo, xhi, ylo, yhi;
} sptt_plot_axes;

/* sptt_plot_png that also reports the axes (pAxes may be NULL), for tests and overlays. */
int sptt_plot_png_axes(const char *zPath, const char *zTitle, const char *zXLabel, const char *zYLabel,
                       const sptt_series *aSeries, int nSeries, int width, int height, int logY,
                       sptt_plot_axes *pAxes);

#endif
