/*
** PNG output shared by the stages: synthetic frames, top-down pictures and annotation masks.
*/
#ifndef SPTT_PNG_H
#define SPTT_PNG_H

/*
** Writes a width x height image to zPath atomically (temporary name, sync, rename), so a crash
** never leaves half a picture under the final name.
**
** pixels: rows top to bottom without padding, channels interleaved: 1 grey, 2 grey + alpha,
** 3 RGB, 4 RGBA. bitDepth 8: one uint8_t per sample; 16: one uint16_t per sample in host byte
** order (the file gets PNG's big-endian). Samples are stored exactly as given, alpha is never
** premultiplied, so 16-bit instance ids read back unchanged.
**
** SPTT_EINVAL for a bad size, channel count or depth; SPTT_EIO (message naming the path) when
** the file cannot be written; SPTT_ENOMEM.
*/
int sptt_png_write(const char *zPath, const void *pixels, int width, int height, int channels, int bitDepth);

#endif
