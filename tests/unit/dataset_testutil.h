/*
** Test helper shared by the stage tests: a scene's pack, found and checked the way every tool
** finds it (sptt_dataset.h).
*/
#ifndef DATASET_TESTUTIL_H
#define DATASET_TESTUTIL_H

#include <criterion/criterion.h>

#include "sptt_annotate.h"
#include "sptt_dataset.h"
#include "sptt_geometry.h"
#include "sptt_ingest.h"
#include "sptt_synth.h"

#include <stdio.h>
#include <string.h>

static inline void read_scene_pack(const char *zDbPath, const char *zName, sptt_pack *p, int flags)
{
    sqlite3 *db;
    sptt_scene_row r;
    cr_assert_eq(sptt_dataset_open(zDbPath, 0, &db), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_get(db, zName, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_scene_read_pack(&r, flags, p), SPTT_OK, "%s", sptt_errmsg());
    sptt_scene_row_free(&r);
    sptt_dataset_close(db);
}

/*
** A small real dataset built the way the tools build one: two synthetic ScanNet scenes (30 frames),
** the first ingested with 160x120 frames, the second with images only when bothWithImages, both
** with geometry and annotations. zDir must exist; the dataset is zDb.
*/
static inline void dataset_build_small(const char *zDir, const char *zDb, int bothWithImages)
{
    char zRaw[128], zScene[256], zTsv[256];
    sptt_synth_opts so;
    sptt_ingest_opts io;
    sptt_ingest_result ir;
    sptt_geometry_opts go;
    sptt_geometry_report gr;
    sptt_annotate_opts ao;
    sptt_annotate_result ar;
    sqlite3 *db;
    const char *azScene[2] = { "scene0700_00", "scene0701_00" };

    snprintf(zRaw, sizeof zRaw, "%s/raw", zDir);
    memset(&so, 0, sizeof so);
    so.zOut = zRaw;
    so.nScenes = 2;
    so.seed = 3;
    so.formats = SPTT_SYNTH_SCANNET;
    so.nFrames = 30;
    so.quiet = 1;
    cr_assert_eq(sptt_synth_run(&so), SPTT_OK, "%s", sptt_errmsg());
    snprintf(zTsv, sizeof zTsv, "%s/scannet/scannetv2-labels.combined.tsv", zRaw);
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_CREATE, &db), SPTT_OK, "%s", sptt_errmsg());
    memset(&io, 0, sizeof io);
    io.zLabels = zTsv;
    io.fps = 24;
    io.sourceFps = 24;
    io.frameW = 160;
    io.frameH = 120;
    io.quiet = 1;
    sptt_geometry_opts_default(&go);
    go.quiet = 1;
    sptt_annotate_opts_default(&ao);
    ao.nFrames = 8;
    ao.width = 160;
    ao.height = 120;
    ao.minPixels = 10;
    ao.nVariants = 3;
    for(int i = 0; i < 2; i++){
        snprintf(zScene, sizeof zScene, "%s/scannet/scans/%s", zRaw, azScene[i]);
        io.noFrames = i==1 && !bothWithImages;
        cr_assert_eq(sptt_ingest_scannet(db, zScene, &io, &ir), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(sptt_geometry_scene(db, azScene[i], &go, &gr), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(sptt_annotate_scene(db, azScene[i], &ao, &ar), SPTT_OK, "%s", sptt_errmsg());
    }
    sptt_dataset_close(db);
}

#endif
