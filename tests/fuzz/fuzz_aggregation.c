/*
** ScanNet *.aggregation.json (ingest/scannet.c): segGroups -> instances, labelled through a small
** label table, over a fixed mesh whose vertex v is in segment v (segment ids the file names
** beyond them belong to no vertex, which the reader allows).
*/
#include "fuzz_util.h"
#include "ingest.h"

#define NV 2048

static sptt_label_table *gLabels;
static uint32_t aSeg[NV];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char zTsv[] = "id\traw_category\tcategory\tcount\tnyu40id\n"
                  "1\twall\twall\t1\t1\n2\tchair\tchair\t1\t5\n3\tfloor\tfloor\t1\t2\n"
                  "4\ttable\ttable\t1\t7\n5\ttrash can\ttrash can\t1\t39\n6\tbed\tbed\t1\t4\n";
    (void)argc;
    (void)argv;
    if( ingest_parse_labels("fuzz.tsv", zTsv, &gLabels) ) abort();
    for(uint32_t v = 0; v < NV; v++) aSeg[v] = v;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scene_data d;
    ingest_scene_init(&d, "scene0000_00", "scannet");
    d.pack.nPoints = NV;
    d.pack.instance = calloc(NV, 2);
    d.pack.nyu40 = calloc(NV, 1);
    if( !d.pack.instance || !d.pack.nyu40 ) abort();
    if( ingest_parse_aggregation(&d, "fuzz.aggregation.json", data, size, aSeg, gLabels)==SPTT_OK ){
        for(uint64_t v = 0; v < NV; v++){
            FUZZ_CHECK(d.pack.nyu40[v] <= 40);
            FUZZ_CHECK(d.pack.instance[v] <= 65534);
        }
        for(int i = 0; i < d.nInst; i++) FUZZ_CHECK(d.inst[i].id > 0 && d.inst[i].nyu40 >= 0 && d.inst[i].nyu40 <= 40);
    }
    ingest_scene_free(&d);
    return 0;
}
