/*
** The dataset's bookkeeping: which scenes it holds, where their packs are, which stages have run on
** what, and the loop every tool runs over scenes. This module is the only code that reads or
** writes the `scenes` table and the stage state hanging off it; the stages write their own
** content rows (objects, frames, boxes, qa, ...) inside the transactions it opens for them.
**
** Pack paths. A dataset folder must keep working when it is moved or used from another working
** directory, so `scenes.pack_path` is stored relative to the database's folder, or absolute when
** the user put the packs outside it, and is resolved here, the same way for every reader. A pack
** read through sptt_scene_read_pack() is also checked to be the scene's own: its name and input
** hash must equal the row's, so a pack copied over another scene's is refused.
**
** Stage state. Geometry records the input hash it ran on and a hash of its results; annotate
** records the geometry hash its annotations were made from. A geometry run whose results differ
** deletes the scene's annotations in the same transaction, and annotate refuses a scene whose
** geometry is missing or was computed on another input. So a row is never "annotated" with
** answers that disagree with the boxes beside it.
*/
#ifndef SPTT_DATASET_H
#define SPTT_DATASET_H

#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_schemas.h"

#include <sqlite3.h>
#include <stdint.h>

#define SPTT_SCENE_NAME_MAX 128    /* bytes, NUL included; longer names are refused at ingest */
#define SPTT_PATH_MAX       4096

/* ---------------------------------------------------------------------------------------------
** One scene's row
*/
typedef struct sptt_scene_row {
    int64_t id;
    char zName[SPTT_SCENE_NAME_MAX];
    char zSource[16];                  /* scannet, arkitscenes, mesh */
    char zSplit[8];                    /* train, val, test; "" when not assigned */
    char zInputHash[17];
    char zPack[SPTT_PATH_MAX];         /* resolved, ready to open; "" when the scene has none */
    int64_t nPoints, nFaces, nFrames;
    double fps;
    /* Stage state: "" where the stage has not run. */
    char zIngestedAt[32], zGeometryAt[32], zAnnotatedAt[32];
    char zGeometryInput[17];           /* input hash geometry ran on */
    char zGeometryHash[17];            /* hash of the geometry results */
    char zAnnotatedGeometry[17];       /* geometry hash the annotations were made from */
    /* Geometry results (valid when zGeometryAt[0]). */
    double roomArea, roomHeight, roomCenter[3];
    int64_t roomFlags;
    char *zPolygon;                    /* JSON, owned; NULL when absent */
    char *zGeometryParams;             /* JSON, owned; NULL when absent */
} sptt_scene_row;

/* The row of scene zName. SPTT_EINVAL, with a message naming the dataset, when there is none. */
int sptt_scene_get(sqlite3 *db, const char *zName, sptt_scene_row *r);
void sptt_scene_row_free(sptt_scene_row *r);

/* Reads the scene's pack (flags as sptt_pack_read) and checks that it is this scene's: the name
** and input hash in its metadata must equal the row's. */
int sptt_scene_read_pack(const sptt_scene_row *r, int flags, sptt_pack *p);

/* ---------------------------------------------------------------------------------------------
** Selecting scenes
*/
#define SPTT_STATE_ANY       0
#define SPTT_STATE_PACK      1   /* ingested, with a pack */
#define SPTT_STATE_GEOMETRY  2   /* geometry current */
#define SPTT_STATE_ANNOTATED 3   /* annotations current */

typedef struct sptt_scene_query {
    const char *const *azName;   /* these scenes (each must exist), or all when nName is 0 */
    int nName;
    const char *zSource;         /* NULL: any */
    const char *zSplit;          /* NULL: any */
    int state;                   /* SPTT_STATE_*: only scenes that reached it */
} sptt_scene_query;

/* The names of the matching scenes, in name order, in *pList (strings owned by the list: free
** with sptt_scene_names_free). A named scene that does not exist is an SPTT_EINVAL error. */
typedef struct sptt_scene_names {
    char **az;
    int n;
} sptt_scene_names;
int sptt_scene_select(sqlite3 *db, const sptt_scene_query *q, sptt_scene_names *pList);
void sptt_scene_names_free(sptt_scene_names *l);

/* Assigns splits (SPTT_EINVAL for a name that is not train, val or test). */
int sptt_scene_set_split(sqlite3 *db, const char *zName, const char *zSplit);

/*
** Splits for training and evaluation. Scenes with current annotations and no split yet are
** shuffled by the seed and the first round(valFraction * n) of them (at least one when
** valFraction > 0 and there are two or more) become "val", the rest "train"; a scene that has a
** split keeps it, so the trainer and the evaluation always agree. The counts after assignment are
** returned. Runs in its own transaction.
*/
int sptt_split_assign(sqlite3 *db, double valFraction, uint64_t seed, int *pnTrain, int *pnVal);

/* ---------------------------------------------------------------------------------------------
** Training examples, in a fixed order (scene name, then question id or description variant).
*/
#define SPTT_EXAMPLES_DESCRIPTIONS 1
#define SPTT_EXAMPLES_QA           2

typedef struct sptt_example {
    int64_t id;           /* qa_id, or scene_id * 1000 + variant for a description */
    char *zScene;         /* the scene's name: its pack gives the frames */
    char *zSource;        /* the scene's source: scannet, arkitscenes, mesh */
    char *zKind;          /* "description" or the question_type */
    char *zPrompt;        /* QA: the wrapped prompt as stored; descriptions: NULL */
    char *zAnswer;        /* QA: the option letter (multiple choice) or the number as text;
                          ** descriptions: the text */
} sptt_example;

typedef struct sptt_examples {
    sptt_example *a;
    int n;
} sptt_examples;

/* The examples of one kind from the scenes of zSplit ("train", "val", or NULL for every scene)
** whose annotations are current and that have a camera walk (the model learns from video: a mesh
** ingested without one gives no examples). */
int sptt_examples_load(sqlite3 *db, int kind, const char *zSplit, sptt_examples *pOut);
void sptt_examples_free(sptt_examples *e);

/* ---------------------------------------------------------------------------------------------
** QA rows as stored, for exports: every question of the scenes whose annotations are current, in
** scene name then question id order, with or without a camera walk.
*/
typedef struct sptt_qa_row {
    int64_t id;           /* qa_id */
    char *zScene;
    char *zSource;        /* scannet, arkitscenes, mesh */
    int64_t nFrames;      /* the scene's camera walk, 0 when it has none */
    char *zType;          /* question_type */
    char *zQuestion;
    char *zOptions;       /* JSON array of "A. ..." strings; NULL for numeric answers */
    char *zGroundTruth;   /* the answer text (multiple choice) or the number as text */
    char *zMcAnswer;      /* the option letter; NULL for numeric answers */
    char *zPrompt;        /* the wrapped prompt */
} sptt_qa_row;

typedef struct sptt_qa_rows {
    sptt_qa_row *a;
    int n;
} sptt_qa_rows;

/* zSplit and zScene restrict the rows when not NULL. A named scene that does not exist is an
** SPTT_EINVAL error. */
int sptt_qa_rows_load(sqlite3 *db, const char *zSplit, const char *zScene, sptt_qa_rows *pOut);
void sptt_qa_rows_free(sptt_qa_rows *r);

/* ---------------------------------------------------------------------------------------------
** Long-horizon streams (version 4, schemas/streams.c): several scenes walked one after another
** as one video, with questions asked at a frame of the walk. The stream rows are bookkeeping and
** live here; the questions are annotate's (annotate/stream_qa.c).
**
** A stream names its scenes and keeps, per scene, the annotation state its questions were made
** from (annotated_geometry and annotate_params). It is current while every scene still has
** current annotations in exactly that state and the same number of frames; readers see only
** current streams, and sptt-annotate --streams remakes the others. Streams are not children of
** a scene: deleting or replacing a scene leaves its streams stale, not broken.
*/

/* A scene a stream may walk: current annotations and a camera walk. */
typedef struct sptt_stream_source {
    char zName[SPTT_SCENE_NAME_MAX];
    char zSource[16];
    char zSplit[8];                    /* "" when not assigned */
    int64_t nFrames;
    double fps;
    char zAnnotatedGeometry[17];
    char *zAnnotateParams;             /* owned; NULL when unknown */
} sptt_stream_source;

typedef struct sptt_stream_sources {
    sptt_stream_source *a;
    int n;
} sptt_stream_sources;

/* The scenes streams may walk, in name order, of split zSplit only when not NULL. */
int sptt_stream_sources_load(sqlite3 *db, const char *zSplit, sptt_stream_sources *pOut);
void sptt_stream_sources_free(sptt_stream_sources *p);

/* In the caller's transaction. *pUnchanged: a current stream named zName exists with exactly
** the params zParams (the JSON the maker stores). */
int sptt_stream_unchanged(sqlite3 *db, const char *zName, const char *zParams, int *pUnchanged);
/* In the caller's transaction: replaces the stream named zName (its questions go with it) by one
** walking apScene in order, and returns its id for the questions (stream_qa rows). */
int sptt_stream_replace(sqlite3 *db, const char *zName, uint64_t seed, const char *zParams, const sptt_stream_source *const *apScene,
                        int nScene, int64_t *pId);

/* Streams and their questions as readers (sptt-eval, sptt-export) see them. */
typedef struct sptt_stream_scene {
    char *zName;
    char *zSource;                     /* scannet, arkitscenes, mesh */
    int64_t offset, nFrames;           /* the scene's frames are global frames offset .. offset+nFrames-1 */
} sptt_stream_scene;

typedef struct sptt_stream_question {
    int64_t id;                        /* stream_qa_id */
    char *zType;
    int64_t queryFrame;
    char *zQuestion;
    char *zOptions;                    /* JSON array, NULL for numeric answers */
    char *zGroundTruth;                /* the letter or the number as text */
    char *zPrompt;
} sptt_stream_question;

typedef struct sptt_stream_row {
    int64_t id;
    char *zName;
    int64_t seed, nFrames;
    int nScene;
    sptt_stream_scene *aScene;
    int nQuestion;
    sptt_stream_question *aQuestion;   /* by query frame, then id */
} sptt_stream_row;

typedef struct sptt_streams {
    sptt_stream_row *a;
    int n;
} sptt_streams;

/* The current streams (name order); with zSplit, only those whose every scene is of that split
** (so a validation stream shows no training room). */
int sptt_streams_load(sqlite3 *db, const char *zSplit, sptt_streams *pOut);
void sptt_streams_free(sptt_streams *p);

/* ---------------------------------------------------------------------------------------------
** Writing stage state: each call runs inside the caller's transaction (sptt_db_begin).
*/

/* Pack locations. The folder packs go to: zPackDir as given (made absolute), or packs/ beside the
** database; created when absent. */
int sptt_dataset_pack_dir(sqlite3 *db, const char *zPackDir, char *zOut, size_t nOut);
/* A stored pack_path resolved to a path to open. */
int sptt_dataset_resolve_pack(sqlite3 *db, const char *zStored, char *zOut, size_t nOut);

/* Ingest. sptt_scene_unchanged: true when the scene exists from zSource with input hash zHash and
** its pack is readable, so it may be skipped. */
int sptt_scene_unchanged(sqlite3 *db, const char *zName, const char *zSource, const char *zHash);
typedef struct sptt_scene_new {
    const char *zName, *zSource, *zInputHash;
    const char *zPack;                /* where the pack was written */
    int64_t nPoints, nFaces, nFrames;
    double fps;
    const double *alignment;          /* 16 numbers */
    int replace;                      /* --replace: a scene of that name from another source may go */
} sptt_scene_new;
/* Replaces the scene's row (its old children cascade away) and returns the new id. A scene of the
** same name from another source is refused (SPTT_EINVAL) unless n->replace. *zOldPack receives
** the resolved path of the pack the old row pointed at ("" when none), to remove after COMMIT. */
int sptt_scene_insert(sqlite3 *db, const sptt_scene_new *n, int64_t *pId, char *zOldPack, size_t nOldPack);

/* Warnings of one stage, replacing that stage's earlier ones. */
int sptt_scene_set_warnings(sqlite3 *db, int64_t id, const char *zStage, int n, char *const *azCode, char *const *azMsg);

/* Geometry. The row must still hold zInputHash (the scene was not re-ingested meanwhile). When
** zResultHash differs from the stored geometry hash, the scene's annotations are deleted and
** *pInvalidated set. */
typedef struct sptt_scene_geometry {
    const char *zInputHash;
    const char *zResultHash;
    double roomArea, roomHeight, roomCenter[3];
    const char *zPolygon;
    int64_t roomFlags;
    const char *zParams;
} sptt_scene_geometry;
int sptt_scene_set_geometry(sqlite3 *db, int64_t id, const sptt_scene_geometry *g, int *pInvalidated);

/* Annotate. sptt_scene_check_geometry: SPTT_ESTATE, with the command to run, unless the row's
** geometry is current. sptt_scene_clear_annotations deletes every annotation record of the scene
** and marks it not annotated. sptt_scene_set_annotated marks the annotations current, made with
** the options zParams (JSON, may be NULL: unknown); it fails when the geometry changed since
** zGeometryHash was read. */
int sptt_scene_check_geometry(sqlite3 *db, const sptt_scene_row *r);
int sptt_scene_clear_annotations(sqlite3 *db, int64_t id);
int sptt_scene_set_annotated(sqlite3 *db, int64_t id, const char *zGeometryHash, const char *zParams);

/*
** Whether a stage's results for scene zName are current and were made with the options zParams
** (a JSON object the stage makes from its options: sptt_geometry_params_key,
** sptt_annotate_params_key), so that running the stage again would write the same rows.
** stage is SPTT_STATE_GEOMETRY (computed on the present input; every member of zParams equals
** the stored geometry_params') or SPTT_STATE_ANNOTATED (made from the present geometry with
** exactly these options). *pCurrent is 0 for a scene that is absent or not current.
*/
int sptt_scene_stage_current(sqlite3 *db, const char *zName, int stage, const char *zParams, int *pCurrent);

/* A pack_path stored in the attached schema zFromSchema (relative to that file's folder, or
** absolute) in the form db's main schema stores it. */
int sptt_dataset_rebase_pack(sqlite3 *db, const char *zFromSchema, const char *zStored, char *zOut, size_t nOut);

/* ---------------------------------------------------------------------------------------------
** Shards (schemas/merge.c): datasets built by the ranks of one sptt-build, merged into one.
**
** A scene is copied whole: its scenes row and every row of every table that has a scene_id
** column (found from the schema, so a table added later is merged too), with scene_id and qa_id
** given new values in the target and rows kept in their order. The runs table is each file's own
** history and is not copied. A scene already in the target under that name is replaced, and its
** old pack removed when the new row points elsewhere (as a re-ingest does).
*/

/* Copies scene zName from the dataset file zFrom into db in one transaction; *pFound is 0 (and
** nothing is done) when zFrom has no such scene. Both must be datasets of this version. */
int sptt_dataset_copy_scene(sqlite3 *db, const char *zFrom, const char *zName, int *pFound);
/* Every scene of the dataset file zShard into db, one transaction per scene, in name order. */
int sptt_dataset_merge(sqlite3 *db, const char *zShard, int *pnScenes);

/* ---------------------------------------------------------------------------------------------
** The per-scene run loop every dataset tool shares
*/

/* What a stage reports for one scene. */
typedef struct sptt_scene_result {
    int skipped;                 /* unchanged: nothing was written */
    char zLine[1024];            /* the scene's summary line ("" for none) */
} sptt_scene_result;

typedef struct sptt_tool {
    sptt_cli cli;
    const char *zCommands;       /* "a|b|c": the first argument must be one of them; NULL: none */
    int *pCommand;               /* out: its index */
    const char **pzDb;           /* where --db landed (required) */
    int *pQuiet;                 /* out, may be NULL: --quiet, set before xCheck runs */
    int create;                  /* the tool may create the dataset */
    const sptt_strlist *pScenes; /* --scene values; NULL when the tool's items are its arguments */
    int state;                   /* SPTT_STATE_* a scene needs to be picked by default */
    const char *zVerb;           /* past participle for the summary: "ingested" */
    /* Checks the arguments taken together, before anything is touched: a message and SPTT_EINVAL
    ** make a usage error. May be NULL. */
    int (*xCheck)(void *pCtx, int nArg, char **azArg);
    /* One scene (or one input, for ingest) in its own transaction. */
    int (*xScene)(void *pCtx, sqlite3 *db, const char *zItem, sptt_scene_result *r);
    /* Extra members for the run's JSON summary (after a comma), and extra lines after the summary
    ** line. Either may be NULL. */
    void (*xSummaryJson)(void *pCtx, sptt_buf *pJson);
    void (*xReport)(void *pCtx, FILE *out);
    /* Work on the dataset as a whole after the scenes (NULL: none), such as annotate's streams:
    ** a failure is reported on one line and sets the status as a failed scene's would. */
    int (*xAfter)(void *pCtx, sqlite3 *db);
    /* Read after xCheck: when it points at a non-zero value the run selects and does no scene,
    ** only xAfter (sptt-annotate --streams without --scene). May be NULL. */
    const int *pNoScenes;
    void *pCtx;
} sptt_tool;

/* Parses the command line, checks it, opens the dataset, selects the scenes, runs xScene on each
** with progress, prints one error line per failed scene and a summary line, records the run in
** the `runs` table, and returns the exit status (sptt_cli.h and the README say which). */
int sptt_tool_main(const sptt_tool *t, int argc, char **argv);

#endif
