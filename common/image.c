/*
** Frame images for the pack: JPEG decode at a reduced scale, area resize, JPEG encode, rotation.
**
** libjpeg-turbo can decode directly at scales k/8, which is several times faster than a full
** decode followed by a resize; we pick the smallest scale whose image still covers the target,
** then average down to the exact size.
*/
#include "sptt_common.h"
#include "sptt_image.h"

#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

int sptt_image_resize_rgb(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
    /* Area averaging with fractional pixel footprints: each output pixel is the mean of the
    ** source area it covers, so downscaling does not alias. */
    double fx, fy;
    if( sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 ){
        /* An empty source covers no area: every weight would be zero and every mean 0/0. */
        return sptt_fail(SPTT_EINVAL, "image resize: %dx%d -> %dx%d, both sizes must be positive", sw, sh, dw, dh);
    }
    fx = (double)sw / dw;
    fy = (double)sh / dh;
    for(int y = 0; y < dh; y++){
        double y0 = y * fy, y1 = y0 + fy;
        for(int x = 0; x < dw; x++){
            double x0 = x * fx, x1 = x0 + fx;
            double acc[3] = { 0, 0, 0 }, wsum = 0;
            int iy0 = (int)y0, ix0 = (int)x0;
            for(int sy = iy0; sy < sh && sy < y1; sy++){
                double wy = (sy + 1 < y1 ? sy + 1 : y1) - (sy > y0 ? sy : y0);
                if( wy <= 0 ) continue;
                for(int sx = ix0; sx < sw && sx < x1; sx++){
                    double wx = (sx + 1 < x1 ? sx + 1 : x1) - (sx > x0 ? sx : x0);
                    const uint8_t *p = src + 3 * ((size_t)sy * (size_t)sw + (size_t)sx);
                    if( wx <= 0 ) continue;
                    acc[0] += wx * wy * p[0];
                    acc[1] += wx * wy * p[1];
                    acc[2] += wx * wy * p[2];
                    wsum += wx * wy;
                }
            }
            for(int k = 0; k < 3; k++){
                /* A footprint always covers some source area for positive sizes; should rounding
                ** ever leave it none, the pixel is black rather than 0/0 cast to a byte. */
                double v = wsum > 0 ? acc[k] / wsum + 0.5 : 0;
                dst[3 * ((size_t)y * (size_t)dw + (size_t)x) + (size_t)k] = (uint8_t)(v < 255 ? v : 255);
            }
        }
    }
    return SPTT_OK;
}

int sptt_image_jpeg_to_rgb(void *tjDec, const uint8_t *jpeg, size_t n, int ew, int eh, int w, int h, uint8_t *rgb,
                             const char *zWhat)
{
    int jw, jh, sub, cs, nsf;
    tjscalingfactor *sf = tjGetScalingFactors(&nsf);
    int bw = 0, bh = 0;
    uint8_t *full = NULL;
    int rc = SPTT_OK;
    if( tjDecompressHeader3(tjDec, jpeg, (unsigned long)n, &jw, &jh, &sub, &cs)!=0 ){
        return sptt_fail(SPTT_EFORMAT, "%s: not a readable JPEG: %s", zWhat, tjGetErrorStr2(tjDec));
    }
    /* The intrinsics are scaled from the stated size: an image of another size would get wrong
    ** ones silently, and a huge one would be decoded before anything noticed. */
    if( jw!=ew || jh!=eh ){
        return sptt_fail(SPTT_EFORMAT, "%s: JPEG is %dx%d pixels, the header's colour size is %dx%d", zWhat, jw, jh, ew, eh);
    }
    /* Smallest scaled size that still covers the target in both directions (64-bit areas: the
    ** sides are up to SPTT_INGEST_MAX_SIDE). */
    for(int i = 0; i < nsf; i++){
        int sw = TJSCALED(jw, sf[i]), sh = TJSCALED(jh, sf[i]);
        if( sw >= w && sh >= h && (bw==0 || (int64_t)sw * sh < (int64_t)bw * bh) ){
            bw = sw;
            bh = sh;
        }
    }
    if( bw==0 ){
        bw = jw;
        bh = jh;
    }
    full = sptt_malloc((size_t)bw * (size_t)bh * 3);
    if( full==NULL ) return SPTT_ENOMEM;
    /* Warnings too: libjpeg warns on corrupt or truncated entropy data and fills the rest grey. */
    if( tjDecompress2(tjDec, jpeg, (unsigned long)n, full, bw, 0, bh, TJPF_RGB, TJFLAG_ACCURATEDCT)!=0 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: JPEG decode failed: %s", zWhat, tjGetErrorStr2(tjDec));
        goto done;
    }
    if( bw==w && bh==h ) memcpy(rgb, full, (size_t)w * (size_t)h * 3);
    else rc = sptt_image_resize_rgb(full, bw, bh, rgb, w, h);
done:
    free(full);
    return rc;
}

int sptt_image_rgb_to_jpeg(void *tjEnc, const uint8_t *rgb, int w, int h, uint8_t **pOut, size_t *pN)
{
    unsigned char *buf = NULL;
    unsigned long n = 0;
    if( tjCompress2(tjEnc, rgb, w, 0, h, TJPF_RGB, &buf, &n, TJSAMP_420, 90, TJFLAG_ACCURATEDCT)!=0 ){
        return sptt_fail(SPTT_EIO, "jpeg encode: %s", tjGetErrorStr2(tjEnc));
    }
    *pOut = sptt_malloc(n);
    if( *pOut==NULL ){
        tjFree(buf);
        return SPTT_ENOMEM;
    }
    memcpy(*pOut, buf, n);
    *pN = n;
    tjFree(buf);
    return SPTT_OK;
}

void sptt_image_rotate(const uint8_t *src, int w, int h, int k, uint8_t *dst)
{
    k &= 3;
    for(int y = 0; y < h; y++){
        for(int x = 0; x < w; x++){
            int nx, ny, nw;
            /* Clockwise quarter turn: (x, y) -> (h-1-y, x) in an image h wide. */
            switch( k ){
            case 0: nx = x; ny = y; nw = w; break;
            case 1: nx = h - 1 - y; ny = x; nw = h; break;
            case 2: nx = w - 1 - x; ny = h - 1 - y; nw = w; break;
            default: nx = y; ny = w - 1 - x; nw = h; break;
            }
            memcpy(dst + 3 * ((size_t)ny * (size_t)nw + (size_t)nx), src + 3 * ((size_t)y * (size_t)w + (size_t)x), 3);
        }
    }
}
