/*
** Parity of the generated QA with the public references: the 33 ScanNet categories with their
** merges.
*/
#include <criterion/criterion.h>

#include "annotate_testutil.h"
#include "sptt_annotate.h"

/* ---------------------------------------------------------------------------------------------
** ScanNet categories
*/
Test(parity, scannet_categories_are_vsibench_33)
{
    /* the object_counts names of VSI-Bench's ScanNet metadata */
    static const char *const azRef[33] = {
        "backpack", "bed", "bookshelf", "chair", "clock", "closet", "computer mouse", "counter", "door", "fan",
        "guitar", "keyboard", "lamp", "mattress", "microwave", "mirror", "monitor", "nightstand", "oven", "piano",
        "pillow", "plant", "printer", "radiator", "refrigerator", "sofa", "table", "telephone", "towel", "trash bin",
        "tv", "washing machine", "window" };
    int n;
    const char *const *az = sptt_scannet_categories(&n);
    cr_assert_eq(n, 33);
    for(int i = 0; i < 33; i++){
        cr_assert_str_eq(az[i], azRef[i]);
        cr_assert_str_eq(sptt_scannet_category(azRef[i]), azRef[i]);
    }
    cr_assert_str_eq(sptt_scannet_category("desk"), "table");
    cr_assert_str_eq(sptt_scannet_category("trash can"), "trash bin");
    cr_assert_str_eq(sptt_scannet_category("recycling bin"), "trash bin");
    cr_assert_str_eq(sptt_scannet_category("mouse"), "computer mouse");
    cr_assert_null(sptt_scannet_category("bicycle"));
    cr_assert_null(sptt_scannet_category("cabinet"));
    cr_assert_null(sptt_scannet_category("air mattress"));
}

/* Against the real label table: every raw category maps into the 33, and every one of the 33 is
** reached by some raw category. */
Test(parity, real_label_table_reaches_every_category)
{
    const char *zFix = getenv("SPTT_FIXTURES");
    char zPath[1024], zLine[4096];
    int seen[33] = {0}, n, nRow = 0;
    const char *const *az = sptt_scannet_categories(&n);
    FILE *f;
    snprintf(zPath, sizeof zPath, "%s/scannet/scannetv2-labels.combined.tsv", zFix ? zFix : "../shared/fixtures");
    f = fopen(zPath, "r");
    if( !f ){
        cr_log_warn("SKIP real label table: no %s", zPath);
        return;
    }
    while( fgets(zLine, sizeof zLine, f) ){
        char *tab1 = strchr(zLine, '\t'), *tab2, *zRaw;
        const char *zCat;
        if( nRow++==0 || !tab1 ) continue;
        zRaw = tab1 + 1;
        tab2 = strchr(zRaw, '\t');
        if( !tab2 ) continue;
        *tab2 = 0;
        zCat = sptt_scannet_category(zRaw);
        if( !zCat ) continue;
        for(int i = 0; i < n; i++) if( strcmp(zCat, az[i])==0 ) seen[i] = 1;
    }
    fclose(f);
    cr_assert_gt(nRow, 600);
    for(int i = 0; i < n; i++) cr_assert(seen[i], "no raw category maps to %s", az[i]);
}
