/*
** Spatial-TTT data contracts: the SQLite dataset, the zstd scene pack, and the label tables.
** Byte layouts are documented in schemas/README.md; this header is the C side of them.
*/
#ifndef SPTT_SCHEMAS_H
#define SPTT_SCHEMAS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
** Dataset (SQLite)
*/
#define SPTT_DATASET_APP_ID  0x53505454   /* 'SPTT' */
#define SPTT_DATASET_VERSION 4

#define SPTT_DB_READONLY 0x1   /* open an existing dataset read-only */
#define SPTT_DB_CREATE   0x2   /* create the file and its schema when absent */

/*
** Opens a dataset with the pragmas every connection needs (WAL, foreign keys, busy timeout,
** synchronous NORMAL). A new or empty file gets the schema when SPTT_DB_CREATE is set. Refuses,
** with SPTT_EVERSION and a message saying what the file is, a file of another application or of
** a newer schema version. On failure *pDb is NULL.
*/
int sptt_dataset_open(const char *zPath, int flags, sqlite3 **pDb);
void sptt_dataset_close(sqlite3 *db);

/* The `runs` row of this invocation: begun when a tool starts writing, ended when it exits. */
int sptt_run_begin(sqlite3 *db, const char *zTool, int argc, char **argv, int64_t *pRunId);
int sptt_run_end(sqlite3 *db, int64_t runId, int status, const char *zSummaryJson);

/* scene_id of a scene by name: SPTT_OK and *pId, or SPTT_EINVAL when absent. */
int sptt_scene_id(sqlite3 *db, const char *zName, int64_t *pId);

/* ---------------------------------------------------------------------------------------------
** Scene pack
*/
#define SPTT_PACK_MAGIC   "SPTTPACK"
#define SPTT_PACK_VERSION 1

/* One camera of the walk, in the scene's output frame. */
typedef struct sptt_frame_info {
    float c2w[16];          /* row-major camera-to-world; camera x right, y down, z forward */
    double timestamp;       /* seconds from the first kept frame */
    float fx, fy, cx, cy;   /* pinhole intrinsics for width x height */
    uint32_t width, height;
    uint32_t sourceIndex;   /* index in the source stream (.sens frame, traj line) */
} sptt_frame_info;

/*
** The frame rule: what every trajectory frame of a pack satisfies. The pack reader refuses a pack
** that breaks it, and ingest applies the same functions to its sources (naming the file, field
** and frame) so that nothing it commits is refused later.
**
**   | value       | rule                                                                    |
**   |-------------|-------------------------------------------------------------------------|
**   | c2w         | 16 finite entries; last row 0 0 0 1 within 1e-6; the 3x3 rotation part   |
**   |             | orthonormal (column dot products within SPTT_FRAME_ROT_TOL of 0 or 1),   |
**   |             | determinant > 0                                                          |
**   | fx, fy      | finite and > 0                                                           |
**   | cx, cy      | finite                                                                   |
**   | width, height | > 0                                                                    |
**   | timestamp   | finite, non-decreasing along the walk (checked by the caller)            |
**
** Each returns 1 when the values pass, else 0 with the reason in zWhy, written to follow the
** value's name: "entry 7 is not finite", "fx 0 is not a positive finite number".
*/
#define SPTT_FRAME_ROT_TOL 1e-3
int sptt_frame_pose_ok(const float *c2w, char *zWhy, size_t nWhy);
int sptt_frame_intrinsics_ok(float fx, float fy, float cx, float cy, char *zWhy, size_t nWhy);
/* All of a frame but the timestamp order; zWhy starts with the value's name. */
int sptt_frame_ok(const sptt_frame_info *f, char *zWhy, size_t nWhy);

#define SPTT_IMG_NONE 0
#define SPTT_IMG_RGB8 1     /* width*height*3 bytes per frame */
#define SPTT_IMG_JPEG 2     /* one JPEG per frame */

typedef struct sptt_pack {
    char *zMeta;              /* JSON object: name, source, alignment, instances, warnings, ... */
    uint64_t nPoints;
    float *xyz;               /* (nPoints, 3) */
    uint8_t *rgb;             /* (nPoints, 3) */
    uint16_t *instance;       /* (nPoints) instance id, 0 = none */
    uint8_t *nyu40;           /* (nPoints) NYU40 id, 0 = unannotated */
    uint64_t nFaces;
    uint32_t *faces;          /* (nFaces, 3) vertex indices */
    uint64_t nSamples;        /* optional uniform surface samples (ingest --sample), same layout */
    float *sxyz;
    uint8_t *srgb;
    uint16_t *sinstance;
    uint8_t *snyu40;
    uint64_t nFrames;
    sptt_frame_info *frames;  /* (nFrames) */
    uint32_t imgEncoding;     /* SPTT_IMG_*; images, when present, cover every frame */
    uint32_t imgWidth, imgHeight;
    uint64_t *imgOffsets;     /* (nFrames + 1) byte offsets into imgData */
    uint8_t *imgData;
} sptt_pack;

#define SPTT_PACK_SKIP_IMAGES 0x1   /* reader: leave the image section compressed and unread */

/* Writes atomically (temporary name, fsync, rename). Arrays may be NULL when their count is 0. */
int sptt_pack_write(const char *zPath, const sptt_pack *p, int level);
/*
** Reads and validates everything: magic, version, table, checksums, sizes, decoded values.
** The message of a refusal names the first inconsistency and the section it is in.
*/
int sptt_pack_read(const char *zPath, int flags, sptt_pack *p);
/* The same on a pack already in memory; zName names it in messages. The bytes are only read. */
int sptt_pack_read_buffer(const char *zName, const uint8_t *data, size_t n, int flags, sptt_pack *p);
void sptt_pack_free(sptt_pack *p);

/* ---------------------------------------------------------------------------------------------
** Labels
*/
#define SPTT_NYU40_COUNT 41     /* ids 0 (unannotated) to 40 */
#define SPTT_NYU40_WALL    1
#define SPTT_NYU40_FLOOR   2
#define SPTT_NYU40_CEILING 22

const char *sptt_nyu40_name(int id);            /* "unannotated" for 0, NULL when out of range */
const uint8_t *sptt_nyu40_color(int id);        /* RGB, the ScanNet benchmark palette */
int sptt_nyu40_is_structure(int id);            /* wall, floor, ceiling */

/* ARKitScenes 3DOD class -> NYU40 id; -1 for a class outside Apple's 17. Accepts the
** spellings with ' ', '-' or '/' that Apple normalises to '_'. */
int sptt_arkit_nyu40(const char *zLabel);
/* The category name QA uses, or NULL when the class takes no part in QA. */
const char *sptt_arkit_category(const char *zLabel);
/* ScanNet raw category -> QA category, or NULL: VSI-Bench's 33 ScanNet categories, with desk
** merged into table, trash can and recycling bin into trash bin, mouse into computer mouse. */
const char *sptt_scannet_category(const char *zRaw);
/* Those 33 names, alphabetical; *pN receives the count. */
#define SPTT_SCANNET_QA_COUNT 33
const char *const *sptt_scannet_categories(int *pN);
/* A hash of every table above that decides a QA category (names, merges, ARKitScenes classes),
** for inputs hashes: a scene ingested under other tables is not "unchanged". */
uint64_t sptt_label_tables_hash(void);

#endif
