/*
** PNG writer: libpng's full API streaming rows into an atomic output file.
**
** Not the simplified API (png_image_write_*): it treats 16-bit data with alpha as premultiplied
** linear light and divides the colour by alpha on the way out, which would change stored values.
** The colour-space chunks are the ones the simplified API writes, so files read the same
** everywhere: 8-bit images are marked sRGB; 16-bit ones linear (gAMA 1.0) with sRGB primaries,
** which tells libpng's simplified reader to hand 16-bit samples back untouched.
*/
#include "sptt_common.h"
#include "sptt_png.h"

#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

typedef struct png_sink {
    sptt_atomic *a;
    int rc;                  /* a failure whose message is already recorded: a write, memory */
    char zErr[160];          /* libpng's message when it stopped */
} png_sink;

static void sink_write(png_structp png, png_bytep p, size_t n)
{
    png_sink *k = png_get_io_ptr(png);
    int rc = sptt_atomic_write(k->a, p, n);
    if( rc ){
        k->rc = rc;
        png_error(png, "write failed");
    }
}

static void sink_flush(png_structp png)
{
    (void)png;   /* sptt_atomic_commit flushes and syncs once, at the end */
}

static void on_error(png_structp png, png_const_charp zMsg)
{
    png_sink *k = png_get_error_ptr(png);
    snprintf(k->zErr, sizeof k->zErr, "%s", zMsg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp zMsg)
{
    (void)png;   /* libpng warns about nothing this writer can act on */
    (void)zMsg;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one==1;
}

/* Encodes the image into k's file. Returns 1, or 0 when libpng stopped (reason in k). Nothing
** assigned after setjmp is read on the longjmp path, so no local needs to be volatile. */
static int encode(png_sink *k, const uint8_t *pixels, int w, int h, int channels, int bitDepth)
{
    static const int aColorType[5] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA };
    size_t rowBytes = (size_t)w * (size_t)channels * (size_t)(bitDepth / 8);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, k, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if( info==NULL ){
        k->rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        png_destroy_write_struct(&png, NULL);
        return 0;
    }
    if( setjmp(png_jmpbuf(png)) ){
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_benign_errors(png, 0);
    png_set_write_fn(png, k, sink_write, sink_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bitDepth, aColorType[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if( bitDepth==16 ){
        png_set_gAMA_fixed(png, info, PNG_GAMMA_LINEAR);
        /* sRGB primaries and white point, in units of 1e-5 */
        png_set_cHRM_fixed(png, info, 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000);
    }else{
        png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    }
    png_write_info(png, info);
    /* Transformations go after png_write_info: libpng applies them to the rows only. */
    if( bitDepth==16 && host_is_little_endian() ) png_set_swap(png);
    for(int y = 0; y < h; y++) png_write_row(png, pixels + (size_t)y * rowBytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 1;
}

int sptt_png_write(const char *zPath, const void *pixels, int width, int height, int channels, int bitDepth)
{
    sptt_atomic a;
    png_sink k;
    int rc;

    if( width < 1 || height < 1 || channels < 1 || channels > 4 || (bitDepth!=8 && bitDepth!=16) || pixels==NULL ){
        return sptt_fail(SPTT_EINVAL, "%s: cannot write a PNG of %dx%d pixels, %d channels, %d bits", zPath, width,
                         height, channels, bitDepth);
    }
    rc = sptt_atomic_open(&a, zPath);
    if( rc ) return rc;
    memset(&k, 0, sizeof k);
    k.a = &a;
    if( !encode(&k, pixels, width, height, channels, bitDepth) ){
        rc = k.rc ? k.rc : sptt_fail(SPTT_EIO, "%s: libpng: %s", zPath, k.zErr);
        sptt_atomic_abort(&a);
        return rc;
    }
    return sptt_atomic_commit(&a);
}
