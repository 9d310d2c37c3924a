/*
** Unit tests for common/png.c: 8-bit RGB(A) and 16-bit grey images read back exactly through
** libpng's simplified reader, and the failures (missing directory, libpng refusing the image,
** bad arguments) leave no file behind and name the path.
*/
#include <criterion/criterion.h>
#include <dirent.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_png.h"

static char zDir[] = "/tmp/sptt_png_XXXXXX";

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

TestSuite(png, .init = make_dir, .fini = remove_dir);

/* Entries in the test directory other than . and .. */
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

/* Reads zPath in the given simplified-API format; checks the size and the file's own format. */
static void *read_back(const char *zPath, png_uint_32 format, png_uint_32 fileFormat, int w, int h)
{
    png_image img;
    void *px;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPath), "%s: %s", zPath, img.message);
    cr_assert_eq(img.width, (png_uint_32)w);
    cr_assert_eq(img.height, (png_uint_32)h);
    cr_assert_eq(img.format, fileFormat, "file format %#x", (unsigned)img.format);
    img.format = format;
    px = calloc(1, PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    return px;
}

/* Bytes 24 and 25 of every PNG: the IHDR's bit depth and colour type. */
static void check_ihdr(const char *zPath, int bitDepth, int colorType)
{
    uint8_t *p;
    size_t n;
    cr_assert_eq(sptt_read_file(zPath, &p, &n), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_gt(n, 26);
    cr_assert(memcmp(p + 12, "IHDR", 4)==0);
    cr_assert_eq(p[24], bitDepth);
    cr_assert_eq(p[25], colorType);
    free(p);
}

Test(png, rgb8_round_trip)
{
    enum { W = 37, H = 11 };
    uint8_t px[W * H * 3];
    char zPath[256];
    for(int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)(i * 7 + i / 3);
    snprintf(zPath, sizeof zPath, "%s/rgb.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, W, H, 3, 8), SPTT_OK, "%s", sptt_errmsg());
    check_ihdr(zPath, 8, PNG_COLOR_TYPE_RGB);
    uint8_t *back = read_back(zPath, PNG_FORMAT_RGB, PNG_FORMAT_RGB, W, H);
    cr_assert(memcmp(back, px, sizeof px)==0, "RGB samples differ");
    free(back);
    cr_assert_eq(dir_entries(), 1, "only the PNG, no temporary file");
}

Test(png, rgba8_round_trip)
{
    enum { W = 5, H = 4 };
    uint8_t px[W * H * 4];
    char zPath[256];
    for(int i = 0; i < W * H * 4; i++) px[i] = (uint8_t)(255 - 13 * i);
    snprintf(zPath, sizeof zPath, "%s/rgba.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, W, H, 4, 8), SPTT_OK, "%s", sptt_errmsg());
    check_ihdr(zPath, 8, PNG_COLOR_TYPE_RGB_ALPHA);
    uint8_t *back = read_back(zPath, PNG_FORMAT_RGBA, PNG_FORMAT_RGBA, W, H);
    cr_assert(memcmp(back, px, sizeof px)==0, "RGBA samples differ");
    free(back);
}

Test(png, gray16_round_trip_in_host_order)
{
    enum { W = 9, H = 7 };
    uint16_t px[W * H];
    char zPath[256];
    /* samples whose two bytes differ (0x00ff, 0xff00, ...): a missed byte swap cannot pass */
    for(int i = 0; i < W * H; i++) px[i] = (uint16_t)(0x0102u * (unsigned)i + 3u);
    px[0] = 0;
    px[1] = 65535;
    px[2] = 0x00ff;
    px[3] = 0xff00;
    snprintf(zPath, sizeof zPath, "%s/ids.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, W, H, 1, 16), SPTT_OK, "%s", sptt_errmsg());
    check_ihdr(zPath, 16, PNG_COLOR_TYPE_GRAY);
    /* the reader converts PNG's big-endian samples to host order: a missed swap shows here */
    uint16_t *back = read_back(zPath, PNG_FORMAT_LINEAR_Y, PNG_FORMAT_LINEAR_Y, W, H);
    for(int i = 0; i < W * H; i++) cr_assert_eq(back[i], px[i], "sample %d: %u, wrote %u", i, back[i], px[i]);
    free(back);
}

Test(png, gray8_round_trip)
{
    enum { W = 3, H = 300 };
    uint8_t px[W * H];
    char zPath[256];
    for(int i = 0; i < W * H; i++) px[i] = (uint8_t)(i % 41);
    snprintf(zPath, sizeof zPath, "%s/labels.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, W, H, 1, 8), SPTT_OK, "%s", sptt_errmsg());
    check_ihdr(zPath, 8, PNG_COLOR_TYPE_GRAY);
    uint8_t *back = read_back(zPath, PNG_FORMAT_GRAY, PNG_FORMAT_GRAY, W, H);
    cr_assert(memcmp(back, px, sizeof px)==0, "grey samples differ");
    free(back);
}

Test(png, unwritable_directory_names_the_path)
{
    uint8_t px[4 * 4 * 3] = { 0 };
    char zPath[256], zFile[256];
    /* a directory that does not exist, and one whose parent is a file: refused even for root */
    snprintf(zPath, sizeof zPath, "%s/missing/out.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, 4, 4, 3, 8), SPTT_EIO);
    cr_assert_not_null(strstr(sptt_errmsg(), zPath), "message: %s", sptt_errmsg());
    snprintf(zFile, sizeof zFile, "%s/plain", zDir);
    cr_assert_eq(sptt_write_file(zFile, "x", 1), SPTT_OK);
    snprintf(zPath, sizeof zPath, "%s/plain/out.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, 4, 4, 3, 8), SPTT_EIO);
    cr_assert_not_null(strstr(sptt_errmsg(), zPath), "message: %s", sptt_errmsg());
    cr_assert_eq(dir_entries(), 1, "nothing but the plain file");
}

Test(png, libpng_refusal_keeps_the_old_file)
{
    /* wider than libpng's default limit of a million columns: refused in the header, after the
    ** temporary file was opened */
    int w = 1000001;
    uint8_t *px = calloc((size_t)w, 1), *p;
    uint8_t small[2] = { 7, 9 };
    char zPath[256];
    size_t n, nOld;
    snprintf(zPath, sizeof zPath, "%s/keep.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, small, 2, 1, 1, 8), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_read_file(zPath, &p, &nOld), SPTT_OK);
    free(p);
    cr_assert_eq(sptt_png_write(zPath, px, w, 1, 1, 8), SPTT_EIO);
    cr_assert_not_null(strstr(sptt_errmsg(), zPath), "message: %s", sptt_errmsg());
    cr_assert_not_null(strstr(sptt_errmsg(), "libpng"), "message: %s", sptt_errmsg());
    cr_assert_eq(sptt_read_file(zPath, &p, &n), SPTT_OK);
    cr_assert_eq(n, nOld, "the earlier file stays");
    free(p);
    cr_assert_eq(dir_entries(), 1, "no temporary file left");
    free(px);
}

Test(png, bad_arguments)
{
    uint8_t px[16] = { 0 };
    char zPath[256];
    snprintf(zPath, sizeof zPath, "%s/bad.png", zDir);
    cr_assert_eq(sptt_png_write(zPath, px, 2, 2, 5, 8), SPTT_EINVAL);
    cr_assert_not_null(strstr(sptt_errmsg(), zPath));
    cr_assert_eq(sptt_png_write(zPath, px, 2, 2, 3, 12), SPTT_EINVAL);
    cr_assert_eq(sptt_png_write(zPath, px, 0, 2, 3, 8), SPTT_EINVAL);
    cr_assert_eq(sptt_png_write(zPath, NULL, 2, 2, 3, 8), SPTT_EINVAL);
    cr_assert_eq(dir_entries(), 0);
}
