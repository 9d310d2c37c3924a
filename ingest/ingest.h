/*
** Ingest internals: a scene as read from any source, before it becomes a pack and rows.
** Each source reader (scannet.c, arkit.c, mesh_import.c) fills a scene_data; scene_commit.c
** turns it into a pack and the scene's rows in one transaction.
*/
#ifndef SPTT_INGEST_INTERNAL_H
#define SPTT_INGEST_INTERNAL_H

#include "sptt_common.h"
#include "sptt_image.h"
#include "sptt_ingest.h"
#include "sptt_schemas.h"

typedef struct scene_instance {
    int id;                   /* instance id, > 0 */
    char zRaw[96];            /* raw label as the annotation writes it */
    int nyu40;                /* 0 when unknown */
    const char *zCategory;    /* QA category or NULL (static string) */
    uint64_t nPoints;
    int hasBox;               /* ARKitScenes: the annotation box */
    double center[3], size[3], axes[9];
} scene_instance;

typedef struct scene_warning {
    char zCode[32];
    char zMessage[300];
} scene_warning;

typedef struct scene_data {
    char zName[128];
    const char *zSource;      /* "scannet", "arkitscenes", "mesh" */
    char zSceneType[64];
    sptt_pack pack;           /* points, faces, frames, images (owned); zMeta built at commit */
    double alignment[16];     /* raw -> output transform that was applied */
    double fps;
    int upRotation;           /* quarter turns clockwise applied to frames (ARKitScenes) */
    int nInst;
    scene_instance *inst;
    int nWarn;
    scene_warning *warn;
    sptt_hash inputHash;      /* fed with every input byte and the options that shape output */
} scene_data;

void ingest_scene_init(scene_data *d, const char *zName, const char *zSource);
void ingest_scene_free(scene_data *d);
void ingest_scene_warn(scene_data *d, const char *zCode, const char *zFormat, ...) __attribute__((format(printf, 3, 4)));
scene_instance *ingest_scene_add_instance(scene_data *d, int id);
/* Reads a whole input file and feeds it to the input hash. */
int ingest_scene_read_input(scene_data *d, const char *zPath, uint8_t **pData, size_t *pSize);
/* Feeds a file to the input hash in pieces without keeping it (large streams). */
int ingest_scene_hash_file(scene_data *d, const char *zPath);
/* Applies d->alignment to points and poses; checks the result is finite. */
void ingest_scene_apply_alignment(scene_data *d);
/* Area-weighted uniform samples of the mesh surface (opts nSample, seed). */
int ingest_scene_sample_surface(scene_data *d, uint64_t n, uint64_t seed);

/*
** Checks the input hash against the dataset (sets r->skipped and returns SPTT_OK when unchanged),
** otherwise writes the pack under a name carrying the hash, then replaces the scene's rows in one
** BEGIN IMMEDIATE transaction; the previous pack is removed only after the commit.
*/
int ingest_scene_commit(sqlite3 *db, scene_data *d, const sptt_ingest_opts *o, sptt_ingest_result *r);
/* Unless --force: when the inputs hashed so far match the dataset's, marks r skipped (with its
** summary line) and returns 1; the caller then stops before any costly decoding. */
int ingest_scene_skip_if_unchanged(sqlite3 *db, const scene_data *d, const sptt_ingest_opts *o, sptt_ingest_result *r);
/* Reads a coloured PLY mesh into the pack (points, colours, faces; labels zeroed), hashing it. */
int ingest_scene_take_ply(scene_data *d, const char *zPath);

/* Small file-system helpers shared by the sources. */
int ingest_file_exists(const char *zPath);
int ingest_dir_exists(const char *zPath);
/* SPTT_EFORMAT "<path>: missing file" unless zPath is a regular file. */
int ingest_need_file(const char *zPath);
/* The last component of a path, trailing slashes ignored (a scene folder's name). */
const char *ingest_base_name(const char *zPath, char *zBuf, size_t n);

/* JSON helpers with file-and-position messages. */
struct json_t;
int ingest_json_parse(const char *zPath, const uint8_t *data, size_t n, struct json_t **pJ);


/*
** Chooses which source frames to keep: valid ones only, at most fps per second. Ticks fall every
** 1/fps seconds from the first kept frame and each keeps the first valid frame at or after it;
** a frame may come up to min(a quarter step, 5 ms) early, so timestamps jittered by a
** millisecond or two (ARKitScenes) do not drop every other frame. With fps at or above the
** source rate every valid frame is kept. t must be non-decreasing.
*/
void ingest_frames_choose(const double *t, const int *valid, uint64_t n, double fps, uint64_t *keep, uint64_t *pKept);

/* True for the lost-tracking marker of ScanNet poses: -inf entries (the official writer fills
** all 16) and no NaN or +inf, which mark damage instead. */
int ingest_frames_pose_lost(const double *m);
/* The pack's frame rule (sptt_frame_ok) and timestamp order over the frames now in d->pack,
** after alignment and turns: the last check before commit, naming zSource and the frame. */
int ingest_frames_check(const scene_data *d, const char *zSource);

/* Frames of a scene being ingested, before they go into the pack. */
typedef struct frame_list {
    sptt_frame_info *info;
    uint8_t **jpeg;           /* encoded frame for the pack, or NULL */
    size_t *jpegSize;
    uint64_t n, cap;
} frame_list;
int ingest_frames_push(frame_list *fl, const sptt_frame_info *f);
/* Moves frames (and images when every frame has one) into the pack. */
int ingest_frames_to_pack(frame_list *fl, scene_data *d, int w, int h);
void ingest_frames_free(frame_list *fl);

/* ---------------------------------------------------------------------------------------------
** Parsers of single input files, on bytes already read. Each source reads (and hashes) a file,
** then hands its bytes to one of these; the fuzz harnesses in tests/fuzz call them directly, so
** every input byte reaches the parser without a file system in between. zPath only names the
** input in messages. A `char *` input must be NUL-terminated (as sptt_read_file leaves it) and
** is modified in place; the others are only read, but still need the NUL after the last byte
** where they call strtod (PLY ASCII). On failure the outputs own no memory, except a scene_data
** or label_map, which the caller frees as it always does.
*/

/* PLY (sptt_ply_read without the file). */
int ingest_parse_ply(const char *zPath, const uint8_t *data, size_t n, sptt_ply *p);
/* ScanNet .sens from an open stream of size bytes; takes fp: sptt_sens_free closes it, and so does
** a failure. */
int ingest_parse_sens(const char *zPath, FILE *fp, uint64_t size, sptt_sens *s);
/* ScanNet label table (sptt_labels_load without the file). */
int ingest_parse_labels(const char *zPath, char *data, sptt_label_table **pT);

/* ScanNet *.segs.json: the segment id of every vertex, in *pSeg (caller frees), *pN of them. */
int ingest_parse_segs(const char *zPath, const uint8_t *data, size_t n, uint32_t **pSeg, uint64_t *pN);
/* ScanNet *.aggregation.json: one instance per segGroup (id objectId + 1), raw label -> NYU40 by t,
** and the instance and NYU40 id of each of the d->pack.nPoints vertices, whose segments are seg. */
int ingest_parse_aggregation(scene_data *d, const char *zPath, const uint8_t *data, size_t n, const uint32_t *seg,
                             const sptt_label_table *t);

/* ScanNet <scene>.txt: "key = value" lines; an axisAlignment line must hold a rigid transform. */
typedef struct scannet_meta {
    int hasAlign;
    double M[16];
    int colorW, colorH;
    double fx, fy, cx, cy;
    char zType[64];
} scannet_meta;
int ingest_parse_scannet_txt(const char *zPath, char *data, scannet_meta *m);

/* ARKitScenes lowres_wide.traj: one pose per line, inverted to camera->world and sorted by time;
** *pPoses (caller frees) holds *pN of them. */
typedef struct traj_pose {
    double t;
    int64_t ms;               /* t rounded to the millisecond: the official loader's key */
    uint32_t line;            /* 0-based line of the .traj file */
    double c2w[16];
} traj_pose;
int ingest_parse_traj(const char *zPath, char *data, traj_pose **pPoses, uint64_t *pN);
/* ARKitScenes .pincam: "width height fx fy cx cy"; K gets fx fy cx cy. */
int ingest_parse_pincam(const char *zPath, const char *data, int *pW, int *pH, double *K);
/* ARKitScenes *_3dod_annotation.json: one instance with its box per data[] entry, added to d. */
int ingest_parse_arkit_annotation(scene_data *d, const char *zPath, const uint8_t *data, size_t n);

/* Mesh import name table: "name<TAB>raw label[<TAB>nyu40 id]" per line; rows appended to m
** (free m->rows, also after a failure). */
typedef struct map_row {
    char zName[96];
    char zRaw[96];
    int nyu40;                /* -1: not given, found by the raw label's NYU40 class name */
} map_row;
typedef struct label_map {
    map_row *rows;
    int n;
} label_map;
int ingest_parse_label_map(const char *zPath, char *data, label_map *m);

#endif
