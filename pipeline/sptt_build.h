/*
** sptt-build: every scene found under the given folders through ingest, geometry and annotate,
** resumably, on one process or shared out over the ranks of an Open MPI job.
**
**   discovery     build_discover.c   ScanNet scans/<scene>/ and ARKitScenes 3dod/<split>/<video>/,
**                                    largest first
**   one scene     build_scene.c      the three stages, each skipped when its rows are current for
**                                    the same inputs and options
**   ranks         build_comm.c       one process; build_comm_mpi.c: Open MPI (the only file that
**                                    includes mpi.h), behind sptt_build_comm
**   the tool      tool_build_mpi.c   options, shards, merge, progress, summary
*/
#ifndef SPTT_BUILD_H
#define SPTT_BUILD_H

#include "sptt_annotate.h"
#include "sptt_common.h"
#include "sptt_geometry.h"
#include "sptt_ingest.h"

#include <sqlite3.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
** Discovery
*/
#define SPTT_BUILD_SCANNET 0
#define SPTT_BUILD_ARKIT   1

/* Scenes in one build: far above ScanNet's 1,513 and ARKitScenes' 5,047 videos; a bound on what a
** folder walk may collect. */
#define SPTT_BUILD_MAX_SCENES 1000000
/* Folder levels searched below each source folder for scans/ and 3dod/. */
#define SPTT_BUILD_MAX_DEPTH 4

typedef struct sptt_build_item {
    char *zPath;          /* the scene's folder */
    char *zName;          /* its name: the folder's */
    char *zLabels;        /* ScanNet: the label table; NULL for ARKitScenes */
    int source;           /* SPTT_BUILD_* */
    uint64_t nBytes;      /* size of the files directly in its folder, to hand out the largest first */
} sptt_build_item;

typedef struct sptt_build_items {
    sptt_build_item *a;
    int n;
} sptt_build_items;

/*
** Finds the scenes under each root: a folder named scans (each sub-folder a ScanNet scene), 3dod
** (each <split>/<video> an ARKitScenes video), or any folder holding those within
** SPTT_BUILD_MAX_DEPTH levels. A ScanNet scene's label table is zLabels, or else
** scannetv2-labels.combined.tsv beside its scans/ folder. Sorted largest first, then by name.
** SPTT_EINVAL, naming the folder: a root that is not a folder, ScanNet scenes without a label
** table, two scenes of one name.
*/
int sptt_build_discover(const char *const *azRoot, int nRoot, const char *zLabels, sptt_build_items *pOut);
void sptt_build_items_free(sptt_build_items *p);

/* The list as bytes (rank 0 sends it to the others) and back. */
int sptt_build_items_encode(const sptt_build_items *p, sptt_buf *b);
int sptt_build_items_decode(const uint8_t *p, size_t n, sptt_build_items *pOut);

/* ---------------------------------------------------------------------------------------------
** One scene
*/
enum { SPTT_STAGE_INGEST, SPTT_STAGE_GEOMETRY, SPTT_STAGE_ANNOTATE, SPTT_STAGE_COUNT };
const char *sptt_build_stage_name(int stage);

typedef struct sptt_build_opts {
    sptt_ingest_opts ingest;      /* fps < 0: each source's default */
    sptt_geometry_opts geometry;
    sptt_annotate_opts annotate;
    int force;                    /* redo every stage */
    /* A rank's shard: the dataset whose rows of the scene are copied in first, so that what is
    ** current there is skipped here. NULL when building into the dataset itself. */
    const char *zCopyFrom;
} sptt_build_opts;

typedef struct sptt_build_result {
    int failedStage;                       /* SPTT_STAGE_* that failed, -1 when none */
    int aRan[SPTT_STAGE_COUNT];            /* 1 ran, 0 skipped (current), -1 not reached */
    double aSeconds[SPTT_STAGE_COUNT];
    char zLine[1024];                      /* one line on the scene */
} sptt_build_result;

/* Runs the scene's stages; a stage failure is returned with the message (sptt_errmsg) and
** r->failedStage, the earlier stages' rows kept. */
int sptt_build_scene(sqlite3 *db, const sptt_build_item *it, const sptt_build_opts *o, sptt_build_result *r);

/* ---------------------------------------------------------------------------------------------
** Ranks, behind a table so that only build_comm_mpi.c includes mpi.h.
*/
typedef struct sptt_build_comm sptt_build_comm;
struct sptt_build_comm {
    int rank, size;
    void *ctx;
    /* The next scene index nobody has taken (0, 1, 2, ... over every rank): dynamic sharing. */
    int (*xNext)(sptt_build_comm *c, int64_t *pIndex);
    /* Counts one more finished scene and returns the count over every rank. */
    int (*xFinished)(sptt_build_comm *c, int64_t *pTotal);
    int (*xBcast)(sptt_build_comm *c, void *p, size_t n);            /* rank 0's bytes to all */
    int (*xSumDouble)(sptt_build_comm *c, double *p, int n);         /* in place, every rank */
    int (*xMaxInt)(sptt_build_comm *c, int *p);
    int (*xBarrier)(sptt_build_comm *c);
};
void sptt_build_comm_single(sptt_build_comm *c);

#endif
