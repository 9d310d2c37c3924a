/* ARKitScenes *_3dod_annotation.json (ingest/arkit.c): labels and obbAligned boxes. */
#include <math.h>

#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scene_data d;
    ingest_scene_init(&d, "40753679", "arkitscenes");
    if( ingest_parse_arkit_annotation(&d, "fuzz_3dod_annotation.json", data, size)==SPTT_OK ){
        for(int i = 0; i < d.nInst; i++){
            const scene_instance *in = &d.inst[i];
            FUZZ_CHECK(in->id==i + 1 && in->hasBox && in->nyu40 >= 0 && in->nyu40 <= 40);
            for(int k = 0; k < 3; k++) FUZZ_CHECK(in->size[k] > 0 && isfinite(in->center[k]));
            FUZZ_CHECK(memchr(in->zRaw, 0, sizeof in->zRaw)!=NULL);
        }
    }
    ingest_scene_free(&d);
    return 0;
}
