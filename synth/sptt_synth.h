/*
** sptt-synth: synthetic scenes written in the on-disk formats of ScanNet v2 and ARKitScenes 3DOD,
** each with a ground_truth.json of the exact geometry they were built from.
*/
#ifndef SPTT_SYNTH_H
#define SPTT_SYNTH_H

#include <stdint.h>

#define SPTT_SYNTH_SCANNET 0x1
#define SPTT_SYNTH_ARKIT   0x2

#define SPTT_SCALE_SMALL   0   /* a few thousand vertices, about a hundred frames: for tests */
#define SPTT_SCALE_SCANNET 1   /* real sizes: 80k-150k vertices, 1,500+ frames */

typedef struct sptt_synth_opts {
    const char *zOut;       /* output root; scannet/ and arkitscenes/ are created below it */
    int nScenes;            /* per format */
    uint64_t seed;
    int formats;            /* SPTT_SYNTH_* bits */
    int scale;              /* SPTT_SCALE_* */
    int colorW, colorH;     /* .sens colour size; 0 = the scale's default */
    int nFrames;            /* 0 = the scale's default */
    int quiet;              /* no per-scene lines on stdout */
} sptt_synth_opts;

/* Writes every scene; returns SPTT_OK or the first error (with sptt_errmsg()). */
int sptt_synth_run(const sptt_synth_opts *o);

#endif
