/* ARKitScenes .pincam (ingest/arkit.c): "width height fx fy cx cy". */
#include <math.h>

#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = fuzz_cstr(data, size);
    int w = 0, h = 0;
    double K[4];
    if( ingest_parse_pincam("fuzz.pincam", z, &w, &h, K)==SPTT_OK ){
        FUZZ_CHECK(w >= 1 && w <= 65535 && h >= 1 && h <= 65535);
        FUZZ_CHECK(K[0] > 0 && K[1] > 0 && isfinite(K[0]) && isfinite(K[1]) && isfinite(K[2]) && isfinite(K[3]));
    }
    free(z);
    return 0;
}
