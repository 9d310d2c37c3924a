/* PLY reader (ingest/ply.c): ASCII and binary headers, counts against the size, lists, faces. */
#include <math.h>

#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = fuzz_cstr(data, size);
    sptt_ply p;
    if( ingest_parse_ply("fuzz.ply", (const uint8_t *)z, size, &p)==SPTT_OK ){
        /* What the reader promises: finite coordinates, faces inside the vertex range. */
        for(uint64_t i = 0; i < 3 * p.nVerts; i++) FUZZ_CHECK(isfinite(p.xyz[i]));
        for(uint64_t i = 0; i < 3 * p.nFaces; i++) FUZZ_CHECK(p.faces[i] < p.nVerts);
        for(int i = 0; i < p.nExtra; i++) FUZZ_CHECK(sptt_ply_column_values(&p, p.extra[i].zName)!=NULL);
        FUZZ_CHECK(p.headerSize <= size);
        sptt_ply_free(&p);
    }
    free(z);
    return 0;
}
