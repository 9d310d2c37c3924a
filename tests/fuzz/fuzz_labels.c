/* ScanNet label table (ingest/labels_tsv.c): columns by header name, CRLF, empty cells. */
#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = fuzz_cstr(data, size);
    sptt_label_table *t = NULL;
    if( ingest_parse_labels("fuzz.tsv", z, &t)==SPTT_OK ){
        int v = sptt_labels_nyu40(t, "chair");
        FUZZ_CHECK(v >= -1 && v <= 40);
        v = sptt_labels_nyu40(t, "");
        FUZZ_CHECK(v >= -1 && v <= 40);
        sptt_labels_free(t);
    }
    free(z);
    return 0;
}
