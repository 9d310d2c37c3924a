/* ScanNet *.segs.json (ingest/scannet.c): segIndices, one segment id per vertex. */
#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t *seg = NULL;
    uint64_t n = 0;
    if( ingest_parse_segs("fuzz.segs.json", data, size, &seg, &n)==SPTT_OK ){
        for(uint64_t i = 0; i < n; i++) FUZZ_CHECK(seg[i] <= 0x7fffffff);
    }
    free(seg);
    return 0;
}
