/*
** Inside the fp32 model: struct sptt_model over the float instantiation of the kernel templates,
** for the library's own files that run the kernels on a model's parameters (model.c, stream.c).
** Not a public header: everything in the templates is static to the including file.
*/
#ifndef SPTT_MODEL_INT_H
#define SPTT_MODEL_INT_H

#include "sptt_model.h"
#include "kern_model.inc"

struct sptt_model {
    kmodel *k;
    void (*xHook)(void *, int);   /* called as each block's backward completes */
    void *pHookCtx;
    sptt_stats stats;
};

#endif
