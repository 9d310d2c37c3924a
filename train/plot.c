/*
** Line plots of training curves on the shared canvas.
**
** Layout, top to bottom: the title, the legend rows, the frame with the data, the x tick labels
** and the x-axis title; left to right: the y-axis title (turned), the y tick labels, the frame.
** Every block's size follows from the text scale, so the frame takes what is left and nothing
** overlaps: the y ticks are chosen from the frame's height first, their widest label fixes the
** left margin, then the x ticks are chosen from the frame's width with their labels' widths.
*/
#include "sptt_canvas.h"
#include "sptt_common.h"
#include "sptt_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values beyond this are dropped with the non-finite ones: spans and steps of what is kept stay
** finite. */
#define VALUE_MAX 1e300
/* Data keeps this fraction of the span clear of the frame on each side. */
#define MARGIN_FRAC 0.03
/* Ticks and labels per axis: a tick needs at least a label's height, so a side of 8192 pixels
** never reaches this; it only bounds the arrays. */
#define MAX_TICKS 512
#define MAX_MINOR 1024
#define LABEL_MAX 40
/* Legend rows at most; series beyond them are summed up as "+N". Four rows of 8192 pixels hold
** fewer entries than LEGEND_MAX, which bounds the entries' memory whatever the series count. */
#define LEGEND_ROWS 4
#define LEGEND_MAX 1024
/* Sparse series get a dot at every point: points this many pixels apart on average. */
#define MARKER_SPACING 12

static const uint8_t aInk[3] = { 25, 25, 25 };
static const uint8_t aFrame[3] = { 0, 0, 0 };
static const uint8_t aGrid[3] = { 226, 226, 226 };
static const uint8_t aFaint[3] = { 130, 130, 130 };

typedef struct axis {
    double lo, hi;                 /* shown range in axis units: y's log10 on a log axis */
    int log;
    int n;                         /* labelled ticks */
    double at[MAX_TICKS];          /* their positions, axis units */
    char lab[MAX_TICKS][LABEL_MAX];
    int nMinor;                    /* unlabelled short ticks (log axis) */
    double minor[MAX_MINOR];
} axis;

static int plottable(double x, double y, int logY)
{
    return isfinite(x) && isfinite(y) && fabs(x) <= VALUE_MAX && fabs(y) <= VALUE_MAX && (!logY || y > 0);
}

/* floor(log10(v)) for v > 0, robust to log10 landing just under an exact power. */
static int exp10_of(double v)
{
    double e = floor(log10(v) + 1e-9);
    return e > -400 && e < 400 ? (int)e : 0;
}

/* The smallest 1, 2 or 5 times a power of ten at or above raw (> 0, finite). */
static double nice_step(double raw)
{
    double mag = pow(10, exp10_of(raw)), m = raw / mag;
    return (m <= 1 + 1e-9 ? 1 : m <= 2 + 1e-9 ? 2 : m <= 5 + 1e-9 ? 5 : 10) * mag;
}

/* The shown range from the data's [lo, hi] (n points): a margin on each side, a range around a
** constant, a default for no data. */
static void set_range(axis *ax, double lo, double hi, size_t n)
{
    if( n==0 ){
        ax->lo = 0;
        ax->hi = 1;
    }else if( hi - lo <= 1e-9 * fmax(fabs(lo), fabs(hi)) ){
        double c = (lo + hi) / 2, half = ax->log ? 0.1 : c!=0 ? 0.1 * fabs(c) : 1;
        /* Around a denormal, a tenth of it could vanish. */
        if( !ax->log && half < 1e-300 ) half = 1e-300;
        ax->lo = c - half;
        ax->hi = c + half;
    }else{
        ax->lo = lo - MARGIN_FRAC * (hi - lo);
        ax->hi = hi + MARGIN_FRAC * (hi - lo);
    }
}

/* "1.5e-4" from v with d decimals in the mantissa: trailing zeros and a bare exponent sign go. */
static void fmt_sci(char *z, double v, int d)
{
    char buf[64], *e;
    int len;
    snprintf(buf, sizeof buf, "%.*e", d, v);
    e = strchr(buf, 'e');
    if( e==NULL ){
        snprintf(z, LABEL_MAX, "%s", buf);
        return;
    }
    len = (int)(e - buf);
    if( memchr(buf, '.', (size_t)len) ){
        while( len > 0 && buf[len - 1]=='0' ) len--;
        if( len > 0 && buf[len - 1]=='.' ) len--;
    }
    snprintf(z, LABEL_MAX, "%.*se%d", len, buf, atoi(e + 1));
}

/* Labels of ticks that are multiples of step: decimals enough for the step, or scientific
** notation for very large or very small numbers. */
static void label_linear(char *z, double v, double step, int sci)
{
    int k = exp10_of(step);
    if( v==0 && sci ){
        snprintf(z, LABEL_MAX, "0");
    }else if( sci ){
        int d = exp10_of(fabs(v)) - k;
        fmt_sci(z, v, d < 0 ? 0 : d > 15 ? 15 : d);
    }else{
        snprintf(z, LABEL_MAX, "%.*f", k < 0 ? -k : 0, v);
    }
}

/* A value m * 10^k (m a digit) of a log axis: decimal from 0.001 to 10000, else "2e-5". */
static void label_log(char *z, double v)
{
    int k = exp10_of(v);
    if( k >= -3 && k <= 4 ) snprintf(z, LABEL_MAX, "%.*f", k < 0 ? -k : 0, v);
    else fmt_sci(z, v, 0);
}

/* Ticks at the multiples of step within the range, in data units [vlo, vhi]; on a log axis at
** their log10 (non-positive ones skipped). Returns the count, or -1 when there would be more than
** MAX_TICKS. */
static int ticks_linear(axis *ax, double vlo, double vhi, double step)
{
    double i0 = ceil(vlo / step - 1e-7), i1 = floor(vhi / step + 1e-7), vmax = 0, v[MAX_TICKS];
    int sci;
    ax->n = 0;
    ax->nMinor = 0;
    if( !(i1 - i0 < MAX_TICKS) ) return -1;
    /* Multiples counted by an int: the indices may be too large for i++ to change a double. */
    for(int j = 0; j <= (int)(i1 - i0); j++){
        double t = (i0 + j) * step;
        if( fabs(t) < step * 1e-6 ) t = 0;
        if( ax->log && t <= 0 ) continue;
        v[ax->n] = t;
        ax->at[ax->n++] = ax->log ? log10(t) : t;
        vmax = fmax(vmax, fabs(t));
    }
    sci = (vmax > 0 && exp10_of(vmax) >= 6) || exp10_of(step) <= -5;
    for(int k = 0; k < ax->n; k++) label_linear(ax->lab[k], v[k], step, sci);
    return ax->n;
}

/* Smallest pixel distance between neighbouring ticks, for an axis len pixels long. */
static double min_gap(const axis *ax, int len)
{
    double g = INFINITY;
    for(int k = 1; k < ax->n; k++) g = fmin(g, fabs(ax->at[k] - ax->at[k - 1]) * len / (ax->hi - ax->lo));
    return g;
}

static int label_width(const axis *ax, int s)
{
    int w = 0;
    for(int k = 0; k < ax->n; k++){
        int lw = sptt_canvas_text_width(s, ax->lab[k]);
        if( lw > w ) w = lw;
    }
    return w;
}

/*
** Linear ticks for an axis len pixels long: the finest 1-2-5 step whose neighbouring ticks are
** at least gap pixels apart and, when labelWidth is set, leave room between their labels (each
** label's width plus spare pixels).
*/
static void choose_linear(axis *ax, double vlo, double vhi, int len, double gap, int labelWidth, int s, int spare)
{
    double span = vhi - vlo, step = nice_step(span * gap / (len > 1 ? len : 1));
    for(int iter = 0; iter < 64 && isfinite(step) && step > 0; iter++, step = nice_step(step * 1.5)){
        int n = ticks_linear(ax, vlo, vhi, step);
        double g;
        if( n < 0 ) continue;
        g = min_gap(ax, len);
        if( n > 1 && g < gap ) continue;
        if( labelWidth && n > 1 && g < label_width(ax, s) + spare ) continue;
        return;
    }
    ax->n = 0;
}

/* Log ticks at m * 10^k for the mantissas given (stride: every stride-th decade only). */
static int ticks_log(axis *ax, const int *aM, int nM, int stride)
{
    int k0 = (int)floor(ax->lo), k1 = (int)ceil(ax->hi);
    ax->n = 0;
    for(int k = k0; k <= k1; k++){
        if( ((k % stride) + stride) % stride ) continue;
        for(int j = 0; j < nM; j++){
            double t = k + log10((double)aM[j]), v = aM[j] * pow(10, k);
            if( t < ax->lo - 1e-9 || t > ax->hi + 1e-9 || !isfinite(v) || v==0 ) continue;
            if( ax->n==MAX_TICKS ) return ax->n;
            ax->at[ax->n] = t;
            label_log(ax->lab[ax->n], v);
            ax->n++;
        }
    }
    return ax->n;
}

static void minor_log(axis *ax, const int *aM, int nM)
{
    int k0 = (int)floor(ax->lo), k1 = (int)ceil(ax->hi);
    ax->nMinor = 0;
    for(int k = k0; k <= k1 && ax->nMinor < MAX_MINOR; k++)
        for(int j = 0; j < nM && ax->nMinor < MAX_MINOR; j++){
            double t = k + log10((double)aM[j]);
            if( t >= ax->lo && t <= ax->hi ) ax->minor[ax->nMinor++] = t;
        }
}

/*
** Ticks of a log axis len pixels long. Candidates from sparse to dense: every decade (or every
** 2nd, 5th, ... when decades are tight), 1-2-5 in each decade, 1 to 9 in each decade, the finer
** ones only where their smallest gap fits. The densest with at most about as many ticks as a
** linear axis of that length would get wins; under three ticks, plain linear steps within the
** range take over when they give more (1, 2, 3, 4 on a range of 0.7 to 4).
*/
static void choose_log(axis *ax, int len, double gap)
{
    static const int a1[] = { 1 }, a125[] = { 1, 2, 5 }, a19[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    static const int aMinor2[] = { 2, 3, 4, 5, 6, 7, 8, 9 }, aMinor125[] = { 3, 4, 6, 7, 8, 9 };
    static const int aStride[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500 };
    double pxd = len / (ax->hi - ax->lo);   /* pixels per decade */
    int stride = aStride[8], best = 0, nBest = -1, maxCount = (int)(len / (1.5 * gap));
    if( maxCount < 3 ) maxCount = 3;
    for(int i = 0; i < 9; i++){
        if( aStride[i] * pxd >= gap ){
            stride = aStride[i];
            break;
        }
    }
    for(int c = 0; c < 3; c++){
        int n;
        if( c==1 && (stride > 1 || log10(2.0) * pxd < gap) ) break;
        if( c==2 && log10(10.0 / 9) * pxd < gap ) break;
        n = c==0 ? ticks_log(ax, a1, 1, stride) : c==1 ? ticks_log(ax, a125, 3, 1) : ticks_log(ax, a19, 9, 1);
        if( c > 0 && n > maxCount ) break;
        nBest = n;
        best = c;
    }
    if( nBest < 3 ){
        choose_linear(ax, pow(10, ax->lo), pow(10, ax->hi), len, gap, 0, 0, 0);
        if( ax->n > nBest ) return;
    }
    if( best==0 ) ticks_log(ax, a1, 1, stride);
    else if( best==1 ) ticks_log(ax, a125, 3, 1);
    else ticks_log(ax, a19, 9, 1);
    ax->nMinor = 0;
    if( best==0 && stride==1 && log10(10.0 / 9) * pxd >= 3 ) minor_log(ax, aMinor2, 8);
    if( best==1 && log10(10.0 / 9) * pxd >= 3 ) minor_log(ax, aMinor125, 6);
}

/* z cut to fit maxW pixels at scale s, ending in ".." when cut. */
static void fit_text(char *zOut, size_t nOut, const char *z, int s, int maxW)
{
    size_t n = strlen(z);
    if( n >= nOut ) n = nOut - 1;
    memcpy(zOut, z, n);
    zOut[n] = 0;
    if( sptt_canvas_text_width(s, zOut) <= maxW ) return;
    while( n > 0 && sptt_canvas_text_width(s, zOut) + sptt_canvas_text_width(s, "..") + 6 * s > maxW ) zOut[--n] = 0;
    if( n + 3 <= nOut ) memcpy(zOut + n, "..", 3);
}

typedef struct legend_entry {
    int series;
    int row, x;       /* row and offset within it */
    char zText[128];
} legend_entry;

/* Pixel column and row of a data point. */
static double map_x(const sptt_plot_axes *a, double x)
{
    return a->left + (x - a->xlo) / (a->xhi - a->xlo) * (a->right - a->left);
}

static double map_y(const sptt_plot_axes *a, double y, int logY)
{
    double t = logY ? log10(y) : y;
    return a->bottom - (t - a->ylo) / (a->yhi - a->ylo) * (a->bottom - a->top);
}

int sptt_plot_png_axes(const char *zPath, const char *zTitle, const char *zXLabel, const char *zYLabel,
                       const sptt_series *aSeries, int nSeries, int width, int height, int logY,
                       sptt_plot_axes *pAxes)
{
    sptt_canvas c = {0};
    sptt_plot_axes A;
    axis *ax = NULL, *ay = NULL;
    legend_entry *aLeg = NULL;
    double xr[2] = { INFINITY, -INFINITY }, yr[2] = { INFINITY, -INFINITY };
    size_t nPts = 0;
    int rc = SPTT_OK, nLeg = 0, nRows = 0, nLeft = 0, full = 0;
    int s, th, adv, pad, tickLen, ts = 0, swatch, r, y;
    char zTitleFit[256], zBuf[256];

    if( zPath==NULL ) return sptt_fail(SPTT_EINVAL, "plot: no output path");
    if( width < SPTT_PLOT_MIN_W || height < SPTT_PLOT_MIN_H || width > SPTT_PLOT_MAX_SIDE || height > SPTT_PLOT_MAX_SIDE ){
        return sptt_fail(SPTT_EINVAL, "%s: plot of %dx%d pixels: from %dx%d to %dx%d", zPath, width, height,
                         SPTT_PLOT_MIN_W, SPTT_PLOT_MIN_H, SPTT_PLOT_MAX_SIDE, SPTT_PLOT_MAX_SIDE);
    }
    if( nSeries < 0 || (nSeries > 0 && aSeries==NULL) ){
        return sptt_fail(SPTT_EINVAL, "%s: plot of %d series without the series", zPath, nSeries);
    }
    for(int i = 0; i < nSeries; i++){
        const sptt_series *p = &aSeries[i];
        if( p->n < 0 || (p->n > 0 && (p->x==NULL || p->y==NULL)) ){
            return sptt_fail(SPTT_EINVAL, "%s: series %d has %d points and %s", zPath, i, p->n,
                             p->n < 0 ? "a negative count" : "no x or y values");
        }
        for(int k = 0; k < p->n; k++){
            double vy;
            if( !plottable(p->x[k], p->y[k], logY) ) continue;
            vy = logY ? log10(p->y[k]) : p->y[k];
            xr[0] = fmin(xr[0], p->x[k]);
            xr[1] = fmax(xr[1], p->x[k]);
            yr[0] = fmin(yr[0], vy);
            yr[1] = fmax(yr[1], vy);
            nPts++;
        }
    }

    ax = sptt_calloc(1, sizeof *ax);
    ay = sptt_calloc(1, sizeof *ay);
    aLeg = sptt_calloc(nSeries > 0 && nSeries < LEGEND_MAX ? (size_t)nSeries : LEGEND_MAX, sizeof *aLeg);
    if( ax==NULL || ay==NULL || aLeg==NULL ){
        rc = SPTT_ENOMEM;
        goto cleanup;
    }
    rc = sptt_canvas_create(&c, width, height, NULL);
    if( rc ) goto cleanup;

    /* Text scale from the smaller side: 2 for the usual 800x500, 1 below 375 pixels. */
    s = ((width < height ? width : height) + 125) / 250;
    if( s < 1 ) s = 1;
    if( s > 4 ) s = 4;
    th = SPTT_FONT_H * s;
    adv = SPTT_FONT_ADVANCE * s;
    pad = 8 + 4 * s;
    tickLen = 3 * s + 1;
    swatch = 4 * adv;
    r = s / 2;

    /* Title: one scale larger than the rest, smaller again if it would not fit. */
    zTitleFit[0] = 0;
    if( zTitle && zTitle[0] ){
        for(ts = s + 1; ts > 1 && sptt_canvas_text_width(ts, zTitle) > width - 2 * pad; ts--){}
        fit_text(zTitleFit, sizeof zTitleFit, zTitle, ts, width - 2 * pad);
    }

    /* Legend entries, wrapped into rows as wide as the picture. */
    for(int i = 0; i < nSeries; i++){
        legend_entry *e;
        int w, rowW = 0;
        if( aSeries[i].zLabel==NULL || aSeries[i].zLabel[0]==0 ) continue;
        if( full || nLeg==LEGEND_MAX ){
            nLeft++;
            continue;
        }
        e = &aLeg[nLeg];
        e->series = i;
        fit_text(e->zText, sizeof e->zText, aSeries[i].zLabel, s, width - 2 * pad - swatch - adv);
        w = swatch + adv + sptt_canvas_text_width(s, e->zText);
        if( nLeg > 0 ){
            const legend_entry *p = &aLeg[nLeg - 1];
            rowW = p->x + swatch + adv + sptt_canvas_text_width(s, p->zText) + 3 * adv;
        }
        if( nLeg==0 ){
            e->row = 0;
            e->x = 0;
        }else if( rowW + w <= width - 2 * pad ){
            e->row = aLeg[nLeg - 1].row;
            e->x = rowW;
        }else{
            e->row = aLeg[nLeg - 1].row + 1;
            e->x = 0;
        }
        if( e->row >= LEGEND_ROWS ){
            full = 1;
            nLeft++;
            continue;
        }
        nLeg++;
    }
    /* The "+N" of series left out must fit after the last entry: entries give way to it. */
    while( nLeft > 0 && nLeg > 0 ){
        const legend_entry *e = &aLeg[nLeg - 1];
        snprintf(zBuf, sizeof zBuf, "+%d", nLeft);
        if( e->x + swatch + adv + sptt_canvas_text_width(s, e->zText) + 2 * adv + sptt_canvas_text_width(s, zBuf)
            <= width - 2 * pad ){
            break;
        }
        nLeg--;
        nLeft++;
    }
    nRows = nLeg ? aLeg[nLeg - 1].row + 1 : nLeft ? 1 : 0;

    /* Vertical layout. */
    y = pad;
    if( zTitleFit[0] ) y += SPTT_FONT_H * ts + th;
    if( nRows ) y += nRows * (th + th / 2) - th / 2 + th;
    A.top = y + th / 2;
    A.bottom = height - 1 - pad - (zXLabel && zXLabel[0] ? 2 * th : 0) - th - 3 * s - tickLen;
    if( A.bottom - A.top < 2 * th ){
        rc = sptt_fail(SPTT_EINVAL, "%s: a plot of %dx%d pixels leaves no room for the data under %d legend rows",
                       zPath, width, height, nRows);
        goto cleanup;
    }

    /* y ticks from the frame's height, then the left margin from their labels. */
    ay->log = logY;
    set_range(ay, yr[0], yr[1], nPts);
    if( logY ) choose_log(ay, A.bottom - A.top, 3.0 * th);
    else choose_linear(ay, ay->lo, ay->hi, A.bottom - A.top, 3.0 * th, 0, s, 0);
    A.left = pad + (zYLabel && zYLabel[0] ? 2 * th : 0) + label_width(ay, s) + 2 * s + 1 + tickLen;

    /* x ticks from the frame's width; the last label may stick out right of the frame by half
    ** its width, so the frame gives way when the pad is too narrow for that. */
    set_range(ax, xr[0], xr[1], nPts);
    A.right = width - 1 - pad;
    for(int pass = 0; pass < 2; pass++){
        int half;
        /* Labels too wide for the picture (numbers of 15 digits): they give way, clipped. */
        if( A.right - A.left < 4 * adv ) A.left = A.right - 4 * adv;
        choose_linear(ax, ax->lo, ax->hi, A.right - A.left, 5.0 * adv, 1, s, 3 * adv);
        half = ax->n ? sptt_canvas_text_width(s, ax->lab[ax->n - 1]) / 2 : 0;
        if( half + 2 <= pad || A.right != width - 1 - pad ) break;
        A.right = width - 1 - 2 - half;
    }
    A.xlo = ax->lo;
    A.xhi = ax->hi;
    A.ylo = ay->lo;
    A.yhi = ay->hi;

    /* Grid, under everything. */
    for(int k = 0; k < ax->n; k++){
        int px = sptt_canvas_coord(map_x(&A, ax->at[k]));
        sptt_canvas_rect(&c, px, A.top, px, A.bottom, aGrid);
    }
    for(int k = 0; k < ay->n; k++){
        int py = sptt_canvas_coord(A.bottom - (ay->at[k] - A.ylo) / (A.yhi - A.ylo) * (A.bottom - A.top));
        sptt_canvas_rect(&c, A.left, py, A.right, py, aGrid);
    }

    /* The series. */
    for(int i = 0; i < nSeries; i++){
        const sptt_series *p = &aSeries[i];
        double px = 0, py = 0;
        int nValid = 0;
        for(int k = 0; k < p->n; k++){
            double qx, qy;
            if( !plottable(p->x[k], p->y[k], logY) ) continue;
            qx = map_x(&A, p->x[k]);
            qy = map_y(&A, p->y[k], logY);
            if( nValid ) sptt_canvas_line(&c, px, py, qx, qy, r, p->rgb);
            px = qx;
            py = qy;
            nValid++;
        }
        if( nValid==1 || (nValid > 0 && (A.right - A.left) / nValid >= MARKER_SPACING) ){
            for(int k = 0; k < p->n; k++){
                if( !plottable(p->x[k], p->y[k], logY) ) continue;
                sptt_canvas_dot(&c, sptt_canvas_coord(map_x(&A, p->x[k])), sptt_canvas_coord(map_y(&A, p->y[k], logY)),
                                r + 2, p->rgb);
            }
        }
    }
    if( nPts==0 ){
        const char *z = "no data";
        sptt_canvas_text(&c, (A.left + A.right - sptt_canvas_text_width(s, z)) / 2, (A.top + A.bottom - th) / 2, s, z, aFaint);
    }

    /* Frame, ticks and their labels. */
    {
        int fw = s >= 3 ? 1 : 0, tw = s >= 3 ? 1 : 0;
        sptt_canvas_rect(&c, A.left - fw, A.top - fw, A.right + fw, A.top, aFrame);
        sptt_canvas_rect(&c, A.left - fw, A.bottom, A.right + fw, A.bottom + fw, aFrame);
        sptt_canvas_rect(&c, A.left - fw, A.top, A.left, A.bottom, aFrame);
        sptt_canvas_rect(&c, A.right, A.top, A.right + fw, A.bottom, aFrame);
        for(int k = 0; k < ax->n; k++){
            int px = sptt_canvas_coord(map_x(&A, ax->at[k])), lw = sptt_canvas_text_width(s, ax->lab[k]);
            sptt_canvas_rect(&c, px - tw, A.bottom + 1, px, A.bottom + tickLen, aFrame);
            sptt_canvas_text(&c, px - lw / 2, A.bottom + tickLen + 3 * s, s, ax->lab[k], aInk);
        }
        for(int k = 0; k < ay->n; k++){
            int py = sptt_canvas_coord(A.bottom - (ay->at[k] - A.ylo) / (A.yhi - A.ylo) * (A.bottom - A.top));
            int lw = sptt_canvas_text_width(s, ay->lab[k]);
            sptt_canvas_rect(&c, A.left - tickLen, py - tw, A.left - 1, py, aFrame);
            sptt_canvas_text(&c, A.left - tickLen - 2 * s - 1 - lw, py - th / 2, s, ay->lab[k], aInk);
        }
        for(int k = 0; k < ay->nMinor; k++){
            int py = sptt_canvas_coord(A.bottom - (ay->minor[k] - A.ylo) / (A.yhi - A.ylo) * (A.bottom - A.top));
            sptt_canvas_rect(&c, A.left - (tickLen + 1) / 2, py, A.left - 1, py, aFrame);
        }
    }

    /* Axis titles: x centred under the frame, y turned and centred beside it. */
    if( zXLabel && zXLabel[0] ){
        int w;
        fit_text(zBuf, sizeof zBuf, zXLabel, s, width - 2 * pad);
        w = sptt_canvas_text_width(s, zBuf);
        sptt_canvas_text(&c, w <= A.right - A.left ? (A.left + A.right - w) / 2 : (width - w) / 2,
                         A.bottom + tickLen + 3 * s + 2 * th, s, zBuf, aInk);
    }
    if( zYLabel && zYLabel[0] ){
        int w;
        fit_text(zBuf, sizeof zBuf, zYLabel, s, A.bottom - A.top);
        w = sptt_canvas_text_width(s, zBuf);
        sptt_canvas_text_up(&c, pad, (A.top + A.bottom - w) / 2, s, zBuf, aInk);
    }

    /* Title centred over the picture; legend rows right-aligned with the frame. */
    y = pad;
    if( zTitleFit[0] ){
        int w = sptt_canvas_text_width(ts, zTitleFit);
        sptt_canvas_text(&c, (width - w) / 2, y, ts, zTitleFit, aInk);
        y += SPTT_FONT_H * ts + th;
    }
    for(int row = 0; row < nRows; row++){
        int rowW = 0, x0;
        for(int k = 0; k < nLeg; k++)
            if( aLeg[k].row==row ) rowW = aLeg[k].x + swatch + adv + sptt_canvas_text_width(s, aLeg[k].zText);
        if( row==nRows - 1 && nLeft ){
            snprintf(zBuf, sizeof zBuf, "+%d", nLeft);
            rowW += 2 * adv + sptt_canvas_text_width(s, zBuf);
        }
        x0 = A.right - rowW;
        if( x0 < pad ) x0 = pad;
        for(int k = 0; k < nLeg; k++){
            const legend_entry *e = &aLeg[k];
            int yc = y + row * (th + th / 2) + th / 2;
            if( e->row!=row ) continue;
            sptt_canvas_line(&c, x0 + e->x, yc, x0 + e->x + swatch - 1, yc, r + (s >= 2), aSeries[e->series].rgb);
            sptt_canvas_text(&c, x0 + e->x + swatch + adv, yc - th / 2, s, e->zText, aInk);
        }
        if( row==nRows - 1 && nLeft ){
            sptt_canvas_text(&c, x0 + rowW - sptt_canvas_text_width(s, zBuf), y + row * (th + th / 2), s, zBuf, aFaint);
        }
    }

    rc = sptt_canvas_write_png(&c, zPath);
    if( rc==SPTT_OK && pAxes ) *pAxes = A;
cleanup:
    sptt_canvas_free(&c);
    free(ax);
    free(ay);
    free(aLeg);
    return rc;
}

int sptt_plot_png(const char *zPath, const char *zTitle, const char *zXLabel, const char *zYLabel,
                  const sptt_series *aSeries, int nSeries, int width, int height, int logY)
{
    return sptt_plot_png_axes(zPath, zTitle, zXLabel, zYLabel, aSeries, nSeries, width, height, logY, NULL);
}
