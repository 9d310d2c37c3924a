/*
** Unit tests for train/plot.c: plots of known data read back with libpng. The data lands where
** the reported axes say, in the series' colour and only inside the frame; the frame is dark; the
** legend shows each colour; degenerate inputs (no series, no finite point, one point, a constant,
** values out of range, a log axis with nothing positive) still give a valid picture; bad
** arguments are refused without leaving a file.
*/
#include <criterion/criterion.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_common.h"
#include "sptt_plot.h"

static char zDir[] = "/tmp/sptt_plot_XXXXXX";

static void make_dir(void)
{
    cr_assert_not_null(mkdtemp(zDir));
}

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(plot, .init = make_dir, .fini = remove_dir);

typedef struct image {
    int w, h;
    uint8_t *rgb;
} image;

static image read_png(const char *zPath)
{
    png_image img;
    image im;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPath), "%s: %s", zPath, img.message);
    img.format = PNG_FORMAT_RGB;
    im.w = (int)img.width;
    im.h = (int)img.height;
    im.rgb = malloc(PNG_IMAGE_SIZE(img));
    cr_assert_not_null(im.rgb);
    cr_assert(png_image_finish_read(&img, NULL, im.rgb, 0, NULL), "%s", img.message);
    return im;
}

static const uint8_t *px(const image *im, int x, int y)
{
    cr_assert(x >= 0 && y >= 0 && x < im->w && y < im->h, "(%d, %d) outside %dx%d", x, y, im->w, im->h);
    return im->rgb + 3 * ((size_t)y * im->w + x);
}

static int is(const image *im, int x, int y, const uint8_t *rgb)
{
    return memcmp(px(im, x, y), rgb, 3)==0;
}

static int dark(const image *im, int x, int y)
{
    const uint8_t *p = px(im, x, y);
    return p[0] < 60 && p[1] < 60 && p[2] < 60;
}

static int map_x(const sptt_plot_axes *a, double x)
{
    return (int)lround(a->left + (x - a->xlo) / (a->xhi - a->xlo) * (a->right - a->left));
}

static int map_y(const sptt_plot_axes *a, double y)
{
    return (int)lround(a->bottom - (y - a->ylo) / (a->yhi - a->ylo) * (a->bottom - a->top));
}

/* Pixels of colour rgb in the rectangle [x0, x1] x [y0, y1] (clipped to the image). */
static int count_in(const image *im, const uint8_t *rgb, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for(int y = y0 < 0 ? 0 : y0; y <= y1 && y < im->h; y++)
        for(int x = x0 < 0 ? 0 : x0; x <= x1 && x < im->w; x++) n += is(im, x, y, rgb);
    return n;
}

/* The frame: every pixel of its four sides dark; something dark (tick labels) below and left. */
static void check_frame(const image *im, const sptt_plot_axes *a)
{
    int n = 0;
    cr_assert(a->left > 0 && a->right < im->w - 1 && a->top > 0 && a->bottom < im->h - 1);
    cr_assert_gt(a->right - a->left, im->w / 2, "the frame takes most of the width");
    cr_assert_gt(a->bottom - a->top, im->h / 3, "and a good part of the height");
    for(int x = a->left; x <= a->right; x++) cr_assert(dark(im, x, a->top) && dark(im, x, a->bottom), "frame at column %d", x);
    for(int y = a->top; y <= a->bottom; y++) cr_assert(dark(im, a->left, y) && dark(im, a->right, y), "frame at row %d", y);
    for(int y = a->bottom + 2; y < im->h; y++)
        for(int x = a->left; x <= a->right; x++) n += dark(im, x, y);
    cr_assert_gt(n, 20, "x tick labels under the frame");
    n = 0;
    for(int y = a->top; y <= a->bottom; y++)
        for(int x = 0; x < a->left - 1; x++) n += dark(im, x, y);
    cr_assert_gt(n, 20, "y tick labels left of the frame");
}

static void path(char *z, size_t n, const char *zName)
{
    snprintf(z, n, "%s/%s", zDir, zName);
}

Test(plot, known_data_lands_at_its_mapped_pixels)
{
    static const double x[] = { 0, 5, 10 }, y[] = { 0, 10, 5 };
    sptt_series s = { "loss", x, y, 3, { 200, 30, 40 } };
    sptt_plot_axes a;
    char z[256];
    image im;
    path(z, sizeof z, "known.png");
    cr_assert_eq(sptt_plot_png_axes(z, "Known", "step", "loss", &s, 1, 800, 500, 0, &a), SPTT_OK, "%s", sptt_errmsg());
    im = read_png(z);
    cr_assert_eq(im.w, 800);
    cr_assert_eq(im.h, 500);
    /* 3% of the span clear of the frame on each side */
    cr_assert_float_eq(a.xlo, -0.3, 1e-9);
    cr_assert_float_eq(a.xhi, 10.3, 1e-9);
    cr_assert_float_eq(a.ylo, -0.3, 1e-9);
    cr_assert_float_eq(a.yhi, 10.3, 1e-9);
    for(int i = 0; i < 3; i++)
        cr_assert(is(&im, map_x(&a, x[i]), map_y(&a, y[i]), s.rgb), "point %d at (%d, %d)", i, map_x(&a, x[i]), map_y(&a, y[i]));
    /* midpoints of the segments too */
    cr_assert(is(&im, map_x(&a, 2.5), map_y(&a, 5), s.rgb));
    cr_assert(is(&im, map_x(&a, 7.5), map_y(&a, 7.5), s.rgb));
    /* nowhere else: no data pixel outside the frame except the legend's swatch above it */
    cr_assert_eq(count_in(&im, s.rgb, 0, a.top, a.left, im.h - 1), 0);
    cr_assert_eq(count_in(&im, s.rgb, a.right, a.top, im.w - 1, im.h - 1), 0);
    cr_assert_eq(count_in(&im, s.rgb, 0, a.bottom, im.w - 1, im.h - 1), 0);
    cr_assert_gt(count_in(&im, s.rgb, 0, 0, im.w - 1, a.top - 1), 20, "legend swatch");
    /* a corner far from the data stays background or grid */
    {
        const uint8_t *p = px(&im, a.right - 3, a.bottom - 3);
        cr_assert(p[0]==p[1] && p[1]==p[2] && p[0] > 200, "light corner");
    }
    check_frame(&im, &a);
    free(im.rgb);
}

Test(plot, two_series_and_skipped_points)
{
    double x[] = { 0, 1, 2, 3, 4 }, y1[] = { 4, NAN, 2, INFINITY, 1 }, x2[] = { 0, 2, 4, NAN }, y2[] = { 1, 3, 5, 7 };
    sptt_series s[2] = { { "train", x, y1, 5, { 31, 119, 180 } }, { "val", x2, y2, 4, { 255, 127, 14 } } };
    sptt_plot_axes a;
    char z[256];
    image im;
    path(z, sizeof z, "two.png");
    cr_assert_eq(sptt_plot_png_axes(z, "Two", "step", "loss", s, 2, 640, 400, 0, &a), SPTT_OK, "%s", sptt_errmsg());
    im = read_png(z);
    cr_assert_eq(im.w, 640);
    cr_assert_eq(im.h, 400);
    /* the skipped NaN at x=1 is bridged: the line from (0,4) to (2,2) passes (1,3) */
    cr_assert(is(&im, map_x(&a, 1), map_y(&a, 3), s[0].rgb));
    cr_assert(is(&im, map_x(&a, 3), map_y(&a, 1.5), s[0].rgb), "bridged over the infinity at x=3");
    /* the NaN x of the second series is skipped, not drawn at 7 */
    cr_assert_float_eq(a.yhi, 5 + 0.03 * 4, 1e-9);
    /* the second series's own point */
    cr_assert(is(&im, map_x(&a, 2), map_y(&a, 3), s[1].rgb));
    cr_assert_gt(count_in(&im, s[0].rgb, 0, 0, im.w - 1, a.top - 1), 10, "both in the legend");
    cr_assert_gt(count_in(&im, s[1].rgb, 0, 0, im.w - 1, a.top - 1), 10);
    check_frame(&im, &a);
    free(im.rgb);
}

Test(plot, log_axis)
{
    double x[] = { 1, 2, 3, 4 }, y[] = { 1000, -5, 10, 0.1 };
    sptt_series s = { "loss", x, y, 4, { 0, 150, 0 } };
    sptt_plot_axes a;
    char z[256];
    image im;
    path(z, sizeof z, "log.png");
    cr_assert_eq(sptt_plot_png_axes(z, "Log", "step", "loss", &s, 1, 800, 500, 1, &a), SPTT_OK, "%s", sptt_errmsg());
    im = read_png(z);
    /* log10 units: -1 to 3 with the margin; the negative value is skipped */
    cr_assert_float_eq(a.ylo, -1 - 0.12, 1e-9);
    cr_assert_float_eq(a.yhi, 3 + 0.12, 1e-9);
    cr_assert(is(&im, map_x(&a, 1), map_y(&a, 3), s.rgb));
    cr_assert(is(&im, map_x(&a, 3), map_y(&a, 1), s.rgb));
    cr_assert(is(&im, map_x(&a, 4), map_y(&a, -1), s.rgb));
    /* the line from 1000 to 10 bridges the skipped -5 straight, in log space */
    cr_assert(is(&im, map_x(&a, 2), map_y(&a, 2), s.rgb));
    check_frame(&im, &a);
    free(im.rgb);
}

Test(plot, one_point_draws_a_dot_in_the_middle)
{
    double x = 7, y = 2.5;
    sptt_series s = { "only", &x, &y, 1, { 214, 39, 40 } };
    sptt_plot_axes a;
    char z[256];
    image im;
    int n;
    path(z, sizeof z, "one.png");
    cr_assert_eq(sptt_plot_png_axes(z, "One", "step", "loss", &s, 1, 800, 500, 0, &a), SPTT_OK, "%s", sptt_errmsg());
    im = read_png(z);
    cr_assert(a.xlo < 7 && a.xhi > 7 && a.ylo < 2.5 && a.yhi > 2.5);
    cr_assert(is(&im, map_x(&a, 7), map_y(&a, 2.5), s.rgb));
    cr_assert(abs(map_x(&a, 7) - (a.left + a.right) / 2) <= 1 && abs(map_y(&a, 2.5) - (a.top + a.bottom) / 2) <= 1, "centred");
    n = count_in(&im, s.rgb, a.left + 1, a.top + 1, a.right - 1, a.bottom - 1);
    cr_assert(n >= 5 && n <= 81, "a dot, not a line: %d pixels", n);
    check_frame(&im, &a);
    free(im.rgb);
}

/* A valid PNG of the asked size with a dark frame, whatever the data. */
static void plot_ok(const char *zName, const sptt_series *s, int n, int w, int h, int logY, const char *zTitle)
{
    sptt_plot_axes a;
    char z[256];
    image im;
    path(z, sizeof z, zName);
    cr_assert_eq(sptt_plot_png_axes(z, zTitle, "step", "loss", s, n, w, h, logY, &a), SPTT_OK, "%s: %s", zName, sptt_errmsg());
    im = read_png(z);
    cr_assert_eq(im.w, w, "%s", zName);
    cr_assert_eq(im.h, h, "%s", zName);
    cr_assert(isfinite(a.xlo) && isfinite(a.xhi) && a.xlo < a.xhi, "%s: x %g..%g", zName, a.xlo, a.xhi);
    cr_assert(isfinite(a.ylo) && isfinite(a.yhi) && a.ylo < a.yhi, "%s: y %g..%g", zName, a.ylo, a.yhi);
    for(int x = a.left; x <= a.right; x++) cr_assert(dark(&im, x, a.top) && dark(&im, x, a.bottom), "%s", zName);
    free(im.rgb);
}

Test(plot, degenerate_inputs_give_a_valid_picture)
{
    double x[] = { 0, 1, 2, 3 }, nan4[] = { NAN, NAN, INFINITY, -INFINITY }, c4[] = { 2.3, 2.3, 2.3, 2.3 };
    double zero4[] = { 0, 0, 0, 0 }, neg4[] = { -1, 0, -3, -0.5 }, huge4[] = { 1e300, -1e300, 1e-300, 0 };
    double over4[] = { DBL_MAX, 1e301, -DBL_MAX, 5 }, tiny4[] = { 5e-324, 5e-324, 5e-324, 5e-324 };
    double bigx[] = { 1e15, 1e15 + 1, 1e15 + 2, 1e15 + 3 }, close4[] = { 1, 1 + 1e-12, 1, 1 + 2e-12 };
    sptt_series s = { "s", x, nan4, 4, { 0, 0, 255 } };
    plot_ok("none.png", NULL, 0, 800, 500, 0, "No series");
    plot_ok("none_log.png", NULL, 0, 800, 500, 1, NULL);
    plot_ok("all_nan.png", &s, 1, 800, 500, 0, "All NaN");
    s.y = c4;
    plot_ok("constant.png", &s, 1, 800, 500, 0, "Constant");
    plot_ok("constant_log.png", &s, 1, 800, 500, 1, "Constant log");
    s.y = zero4;
    plot_ok("zero.png", &s, 1, 800, 500, 0, "Zero");
    plot_ok("zero_log.png", &s, 1, 800, 500, 1, "Zero log");
    s.y = neg4;
    plot_ok("negative_log.png", &s, 1, 800, 500, 1, "Negative log");
    s.y = huge4;
    plot_ok("huge.png", &s, 1, 800, 500, 0, "Huge");
    plot_ok("huge_log.png", &s, 1, 800, 500, 1, "Huge log");
    s.y = over4;
    plot_ok("over.png", &s, 1, 800, 500, 0, "Beyond 1e300");
    s.y = tiny4;
    plot_ok("denormal.png", &s, 1, 800, 500, 0, "Denormal");
    plot_ok("denormal_log.png", &s, 1, 800, 500, 1, "Denormal log");
    s.x = bigx;
    s.y = close4;
    plot_ok("close.png", &s, 1, 800, 500, 0, "Close values");
    s.x = x;
    s.n = 0;
    plot_ok("empty_series.png", &s, 1, 800, 500, 0, "Empty series");
    s.x = s.y = NULL;
    plot_ok("null_empty_series.png", &s, 1, 800, 500, 0, NULL);
}

Test(plot, sizes_labels_and_many_series)
{
    enum { N = 300, NS = 12 };
    static double x[N], y[N];
    sptt_series s[NS];
    char zLong[600];
    for(int i = 0; i < N; i++){
        x[i] = i * 37;
        y[i] = 3 * exp(-i / 50.0) + 0.5;
    }
    memset(zLong, 'w', sizeof zLong - 1);
    zLong[sizeof zLong - 1] = 0;
    for(int k = 0; k < NS; k++){
        s[k] = (sptt_series){ k==3 ? zLong : k==5 ? NULL : "a series", x, y, N, { (uint8_t)(20 * k), 90, 160 } };
    }
    plot_ok("min.png", s, 2, SPTT_PLOT_MIN_W, SPTT_PLOT_MIN_H, 0, "Smallest");
    plot_ok("min_log.png", s, 2, SPTT_PLOT_MIN_W, SPTT_PLOT_MIN_H, 1, zLong);
    plot_ok("wide.png", s, NS, 2000, SPTT_PLOT_MIN_H, 0, zLong);
    plot_ok("tall.png", s, NS, SPTT_PLOT_MIN_W, 2000, 1, "Tall");
    plot_ok("many.png", s, NS, 800, 500, 0, "Many");
    plot_ok("big.png", s, 2, 2400, 1600, 0, "Big");
    /* more series than the legend could ever hold */
    {
        enum { NB = 3000 };
        sptt_series *many = calloc(NB, sizeof *many);
        cr_assert_not_null(many);
        for(int k = 0; k < NB; k++) many[k] = (sptt_series){ "s", x + k % 10, y + k % 10, 2, { 0, (uint8_t)k, 0 } };
        plot_ok("thousands.png", many, NB, 8192, 400, 0, "Thousands");
        free(many);
    }
}

static int dir_entries(void)
{
    DIR *d = opendir(zDir);
    struct dirent *e;
    int n = 0;
    cr_assert_not_null(d);
    while( (e = readdir(d))!=NULL ) n += strcmp(e->d_name, ".")!=0 && strcmp(e->d_name, "..")!=0;
    closedir(d);
    return n;
}

Test(plot, bad_arguments_are_refused)
{
    double x[] = { 1, 2 }, y[] = { 3, 4 };
    sptt_series ok = { "a", x, y, 2, { 0, 0, 0 } }, noY = { "b", x, NULL, 2, { 0, 0, 0 } }, neg = { "c", x, y, -1, { 0, 0, 0 } };
    char z[256], zMissing[300];
    path(z, sizeof z, "bad.png");
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", &ok, 1, SPTT_PLOT_MIN_W - 1, 500, 0), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "bad.png")!=NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", &ok, 1, 800, SPTT_PLOT_MAX_SIDE + 1, 0), SPTT_EINVAL);
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", &ok, -1, 800, 500, 0), SPTT_EINVAL);
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", NULL, 2, 800, 500, 0), SPTT_EINVAL);
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", &noY, 1, 800, 500, 0), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "series 0")!=NULL, "%s", sptt_errmsg());
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", &neg, 1, 800, 500, 0), SPTT_EINVAL);
    cr_assert_eq(sptt_plot_png(NULL, "t", "x", "y", &ok, 1, 800, 500, 0), SPTT_EINVAL);
    snprintf(zMissing, sizeof zMissing, "%s/no/such/dir/p.png", zDir);
    cr_assert_eq(sptt_plot_png(zMissing, "t", "x", "y", &ok, 1, 800, 500, 0), SPTT_EIO);
    cr_assert(strstr(sptt_errmsg(), "p.png")!=NULL, "%s", sptt_errmsg());
    cr_assert_eq(dir_entries(), 0, "nothing written");
    /* and a good call still works after them, replacing nothing half-written */
    cr_assert_eq(sptt_plot_png(z, "t", "x", "y", &ok, 1, 800, 500, 0), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(dir_entries(), 1, "the PNG, no temporary file");
}
