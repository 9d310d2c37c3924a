/* ScanNet <scene>.txt (ingest/scannet.c): "key = value" lines, the axisAlignment matrix. */
#include <math.h>

#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = fuzz_cstr(data, size);
    scannet_meta m;
    memset(&m, 0, sizeof m);
    if( ingest_parse_scannet_txt("fuzz.txt", z, &m)==SPTT_OK && m.hasAlign ){
        for(int i = 0; i < 16; i++) FUZZ_CHECK(isfinite(m.M[i]));
    }
    FUZZ_CHECK(memchr(m.zType, 0, sizeof m.zType)!=NULL);
    free(z);
    return 0;
}
