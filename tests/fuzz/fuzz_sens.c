/*
** ScanNet .sens (ingest/sens.c): the header and frame table, every size checked against the
** stream, then each frame's colour and depth blob read back. The bytes reach the reader through
** fmemopen, so no file is written.
*/
#include <stdio.h>

#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fmemopen needs a writable buffer of at least one byte; the stream still ends at size. */
    uint8_t *copy = malloc(size ? size : 1);
    FILE *fp;
    sptt_sens s;
    if( copy==NULL ) abort();
    if( size ) memcpy(copy, data, size);
    fp = size ? fmemopen(copy, size, "rb") : fopen("/dev/null", "rb");
    if( fp==NULL ) abort();
    if( ingest_parse_sens("fuzz.sens", fp, size, &s)==SPTT_OK ){
        for(uint64_t i = 0; i < s.nFrames; i++){
            const sptt_sens_frame *f = &s.frames[i];
            uint8_t *blob;
            FUZZ_CHECK(f->colorOffset + f->colorSize <= size && f->depthOffset + f->depthSize <= size);
            blob = malloc(f->colorSize + f->depthSize + 1);
            if( blob==NULL ) abort();
            FUZZ_CHECK(sptt_sens_blob(&s, f->colorOffset, f->colorSize, blob)==SPTT_OK);
            FUZZ_CHECK(sptt_sens_blob(&s, f->depthOffset, f->depthSize, blob)==SPTT_OK);
            FUZZ_CHECK(memcmp(blob, data + f->depthOffset, f->depthSize)==0);
            free(blob);
        }
        FUZZ_CHECK(sptt_sens_blob(&s, size, 1, copy)!=SPTT_OK);
        sptt_sens_free(&s);
    }
    free(copy);
    return 0;
}
