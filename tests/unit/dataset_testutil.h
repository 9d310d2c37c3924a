/*
** Test helper shared by the stage tests: a scene's pack, found and checked the way every tool
** finds it (sptt_dataset.h).
*/
#ifndef DATASET_TESTUTIL_H
#define DATASET_TESTUTIL_H

#include <criterion/criterion.h>

#include "sptt_dataset.h"

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

#endif
