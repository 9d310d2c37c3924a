/*
** Label tables: NYU40 names and colours, ARKitScenes classes, and the category names QA uses.
**
** The NYU40 palette is the one the ScanNet benchmark scripts use for label images, so masks and
** pictures made here look like the ones researchers already know.
*/
#include "sptt_common.h"
#include "sptt_schemas.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *const azNyu40[SPTT_NYU40_COUNT] = {
    "unannotated", "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window",
    "bookshelf", "picture", "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow",
    "mirror", "floor mat", "clothes", "ceiling", "books", "refrigerator", "television", "paper",
    "towel", "shower curtain", "box", "whiteboard", "person", "night stand", "toilet", "sink",
    "lamp", "bathtub", "bag", "otherstructure", "otherfurniture", "otherprop",
};

static const uint8_t aNyu40Color[SPTT_NYU40_COUNT][3] = {
    {0, 0, 0},       {174, 199, 232}, {152, 223, 138}, {31, 119, 180},  {255, 187, 120},
    {188, 189, 34},  {140, 86, 75},   {255, 152, 150}, {214, 39, 40},   {197, 176, 213},
    {148, 103, 189}, {196, 156, 148}, {23, 190, 207},  {178, 76, 76},   {247, 182, 210},
    {66, 188, 102},  {219, 219, 141}, {140, 57, 197},  {202, 185, 52},  {51, 176, 203},
    {200, 54, 131},  {92, 193, 61},   {78, 71, 183},   {172, 114, 82},  {255, 127, 14},
    {91, 163, 138},  {153, 98, 156},  {140, 153, 101}, {158, 218, 229}, {100, 125, 154},
    {178, 127, 135}, {120, 185, 128}, {146, 111, 194}, {44, 160, 44},   {112, 128, 144},
    {96, 207, 209},  {227, 119, 194}, {213, 92, 176},  {94, 106, 211},  {82, 84, 163},
    {100, 85, 144},
};

const char *sptt_nyu40_name(int id)
{
    if( id < 0 || id >= SPTT_NYU40_COUNT ) return NULL;
    return azNyu40[id];
}

const uint8_t *sptt_nyu40_color(int id)
{
    if( id < 0 || id >= SPTT_NYU40_COUNT ) id = 0;
    return aNyu40Color[id];
}

int sptt_nyu40_is_structure(int id)
{
    return id==SPTT_NYU40_WALL || id==SPTT_NYU40_FLOOR || id==SPTT_NYU40_CEILING;
}

/* ---------------------------------------------------------------------------------------------
** ARKitScenes: Apple's 17 3DOD classes. NYU40 ids follow the ScanNet v2 label table's rows for the
** same words (stove, oven, dishwasher and fireplace are 'otherstructure' there; washer follows
** 'washing machine'; stool is 'otherprop'). QA categories follow the reference: sink, shelf, oven
** and cabinet take no part, tv_monitor is called tv.
*/
typedef struct arkit_class {
    const char *zName;
    int nyu40;
    const char *zCategory;
} arkit_class;

static const arkit_class aArkit[] = {
    {"cabinet", 3, NULL},          {"refrigerator", 24, "refrigerator"}, {"shelf", 15, NULL},
    {"stove", 38, "stove"},        {"bed", 4, "bed"},                    {"sink", 34, NULL},
    {"washer", 39, "washer"},      {"toilet", 33, "toilet"},             {"bathtub", 36, "bathtub"},
    {"oven", 38, NULL},            {"dishwasher", 38, "dishwasher"},     {"fireplace", 38, "fireplace"},
    {"stool", 40, "stool"},        {"chair", 5, "chair"},                {"table", 7, "table"},
    {"tv_monitor", 25, "tv"},      {"sofa", 6, "sofa"},
};

static const arkit_class *arkit_find(const char *zLabel)
{
    char z[64];
    size_t n = strlen(zLabel);
    if( n >= sizeof z ) return NULL;
    for(size_t i = 0; i <= n; i++){
        char c = zLabel[i];
        z[i] = (c==' ' || c=='-' || c=='/') ? '_' : c;
    }
    for(size_t i = 0; i < sizeof aArkit / sizeof aArkit[0]; i++){
        if( strcasecmp(z, aArkit[i].zName)==0 ) return &aArkit[i];
    }
    return NULL;
}

int sptt_arkit_nyu40(const char *zLabel)
{
    const arkit_class *c = arkit_find(zLabel);
    return c ? c->nyu40 : -1;
}

const char *sptt_arkit_category(const char *zLabel)
{
    const arkit_class *c = arkit_find(zLabel);
    return c ? c->zCategory : NULL;
}

/* ---------------------------------------------------------------------------------------------
** ScanNet: exactly the 33 category names of VSI-Bench's ScanNet metadata (its object_counts), in
** alphabetical order. The public generator's lists also hold desk, which its frame-level code
** merges into table, and bicycle, which never reaches the benchmark; mattress is in the benchmark
** though not in those lists. Raw categories are matched by exact name after the merges below.
*/
static const char *const azScannetQa[SPTT_SCANNET_QA_COUNT] = {
    "backpack", "bed", "bookshelf", "chair", "clock", "closet", "computer mouse", "counter", "door", "fan",
    "guitar", "keyboard", "lamp", "mattress", "microwave", "mirror", "monitor", "nightstand", "oven", "piano",
    "pillow", "plant", "printer", "radiator", "refrigerator", "sofa", "table", "telephone", "towel", "trash bin",
    "tv", "washing machine", "window",
};

/* Raw category -> benchmark category, for the raw names that differ. */
static const struct { const char *zRaw, *zCategory; } aScannetMerge[] = {
    { "desk", "table" },
    { "trash can", "trash bin" },
    { "recycling bin", "trash bin" },
    { "mouse", "computer mouse" },
};

const char *const *sptt_scannet_categories(int *pN)
{
    *pN = SPTT_SCANNET_QA_COUNT;
    return azScannetQa;
}

const char *sptt_scannet_category(const char *zRaw)
{
    for(size_t i = 0; i < sizeof aScannetMerge / sizeof aScannetMerge[0]; i++){
        if( strcmp(zRaw, aScannetMerge[i].zRaw)==0 ) return aScannetMerge[i].zCategory;
    }
    for(size_t i = 0; i < sizeof azScannetQa / sizeof azScannetQa[0]; i++){
        if( strcmp(zRaw, azScannetQa[i])==0 ) return azScannetQa[i];
    }
    return NULL;
}

uint64_t sptt_label_tables_hash(void)
{
    sptt_hash h;
    sptt_hash_init(&h);
    for(size_t i = 0; i < sizeof azScannetQa / sizeof azScannetQa[0]; i++) sptt_hash_update(&h, azScannetQa[i], strlen(azScannetQa[i]) + 1);
    for(size_t i = 0; i < sizeof aScannetMerge / sizeof aScannetMerge[0]; i++){
        sptt_hash_update(&h, aScannetMerge[i].zRaw, strlen(aScannetMerge[i].zRaw) + 1);
        sptt_hash_update(&h, aScannetMerge[i].zCategory, strlen(aScannetMerge[i].zCategory) + 1);
    }
    for(size_t i = 0; i < sizeof aArkit / sizeof aArkit[0]; i++){
        const char *z = aArkit[i].zCategory ? aArkit[i].zCategory : "";
        sptt_hash_update(&h, aArkit[i].zName, strlen(aArkit[i].zName) + 1);
        sptt_hash_update(&h, z, strlen(z) + 1);
        sptt_hash_update(&h, &aArkit[i].nyu40, sizeof aArkit[i].nyu40);
    }
    return sptt_hash_final(&h);
}
