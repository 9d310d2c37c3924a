/*
** Frame images: JPEG decode at a reduced scale, area resize, JPEG encode, rotation. Shared by
** ingest (frames into packs) and the trainer (frames out of packs into the model's size).
*/
#ifndef SPTT_IMAGE_H
#define SPTT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Images: decode a JPEG at the smallest libjpeg-turbo scale that still covers (w, h), resize to
** exactly (w, h) by area averaging, and encode for the pack. The JPEG must be exactly ew x eh
** (the size its stream states) and decode without a warning; refusals start with zWhat.
** Resizing refuses empty sizes (SPTT_EINVAL). */
int sptt_image_resize_rgb(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh);
int sptt_image_jpeg_to_rgb(void *tjDec, const uint8_t *jpeg, size_t n, int ew, int eh, int w, int h, uint8_t *rgb,
                           const char *zWhat);
int sptt_image_rgb_to_jpeg(void *tjEnc, const uint8_t *rgb, int w, int h, uint8_t **pOut, size_t *pN);
/* Rotates an RGB image by quarter turns clockwise; dst has the rotated size. */
void sptt_image_rotate(const uint8_t *src, int w, int h, int quarterTurns, uint8_t *dst);

#endif
