/*
** Scene pack reader (schemas/pack.c): table, sections, zstd frames and every decoded value. The
** fuzz build compiles the reader with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips the
** CRC and zstd checksum comparisons (only those), so mutated inputs reach the checks behind them.
*/
#include <math.h>

#include "fuzz_util.h"
#include "sptt_schemas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sptt_pack p;
    /* The last byte's low bit picks whether the image section is decoded. */
    int flags = size && (data[size - 1] & 1) ? SPTT_PACK_SKIP_IMAGES : 0;
    if( sptt_pack_read_buffer("fuzz.pack", data, size, flags, &p)==SPTT_OK ){
        FUZZ_CHECK(p.zMeta!=NULL);
        for(uint64_t i = 0; i < 3 * p.nFaces; i++) FUZZ_CHECK(p.faces[i] < p.nPoints);
        for(uint64_t i = 0; i < 3 * p.nPoints; i++) FUZZ_CHECK(isfinite(p.xyz[i]));
        for(uint64_t i = 0; i < p.nPoints; i++) FUZZ_CHECK(p.nyu40[i] <= 40);
        for(uint64_t i = 1; i < p.nFrames; i++) FUZZ_CHECK(p.frames[i - 1].timestamp <= p.frames[i].timestamp);
        if( p.imgEncoding ){
            FUZZ_CHECK(p.imgOffsets[0]==0);
            for(uint64_t i = 0; i < p.nFrames; i++) FUZZ_CHECK(p.imgOffsets[i] <= p.imgOffsets[i + 1]);
        }
        sptt_pack_free(&p);
    }
    return 0;
}
