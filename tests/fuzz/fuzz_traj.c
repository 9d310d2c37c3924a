/* ARKitScenes lowres_wide.traj (ingest/arkit.c): 7 numbers a line, inverted and sorted by time. */
#include <math.h>

#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = fuzz_cstr(data, size);
    traj_pose *P = NULL;
    uint64_t n = 0;
    if( ingest_parse_traj("fuzz.traj", z, &P, &n)==SPTT_OK ){
        for(uint64_t i = 0; i < n; i++){
            FUZZ_CHECK(isfinite(P[i].t));
            FUZZ_CHECK(i==0 || P[i - 1].t <= P[i].t);
        }
    }
    free(P);
    free(z);
    return 0;
}
