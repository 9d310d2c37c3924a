/* Mesh import name table (ingest/mesh_import.c): "name<TAB>raw label[<TAB>nyu40 id]" lines. */
#include "fuzz_util.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *z = fuzz_cstr(data, size);
    label_map m;
    memset(&m, 0, sizeof m);
    if( ingest_parse_label_map("fuzz.names.tsv", z, &m)==SPTT_OK ){
        for(int i = 0; i < m.n; i++){
            FUZZ_CHECK(m.rows[i].zName[0] && m.rows[i].nyu40 >= -1 && m.rows[i].nyu40 <= 40);
            FUZZ_CHECK(memchr(m.rows[i].zRaw, 0, sizeof m.rows[i].zRaw)!=NULL);
        }
    }
    free(m.rows);
    free(z);
    return 0;
}
