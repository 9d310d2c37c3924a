/* safetensors reader (schemas/safetensors.c): header, tensors, tiling of the data area. */
#include "fuzz_util.h"
#include "sptt_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sptt_st *st = NULL;
    if( sptt_st_open_buffer("fuzz.safetensors", data, size, &st)==SPTT_OK ){
        uint64_t at = 0, sum = 0;
        for(int i = 0; i < sptt_st_count(st); i++){
            const sptt_st_tensor *t = sptt_st_at(st, i), *u = NULL;
            /* Tiles the data area, and every byte can be read. */
            FUZZ_CHECK(t->begin==at && t->end - t->begin==t->nElem * sptt_st_dtype_size(t->dtype));
            for(uint64_t k = 0; k < t->end - t->begin; k++) sum += t->data[k];
            at = t->end;
            FUZZ_CHECK(sptt_st_find(st, t->zName)==t);
            FUZZ_CHECK(sptt_st_get(st, t->zName, t->dtype, t->ndim, t->shape, &u)==SPTT_OK && u==t);
        }
        FUZZ_CHECK(at <= size && (sum || 1));
        for(int i = 0; i < sptt_st_meta_count(st); i++){
            const char *k, *v;
            sptt_st_meta_at(st, i, &k, &v);
            FUZZ_CHECK(k && v && sptt_st_meta(st, k)!=NULL);
        }
        sptt_st_close(st);
    }
    return 0;
}
