/*
** Annotate internals: one scene as the annotators see it, and the records they produce.
**
** The flow of a scene (annotate_scene.c): load it (scene_load.c: rows written by ingest and
** geometry, plus its pack) -> project the mesh into frames (project.c: visibility, masks,
** appearance times) -> scene graph (relations.c) -> QA (qa.c, route.c, their records in
** qa_record.c) -> walkthrough descriptions (describe.c) -> every record replaced in one
** transaction.
*/
#ifndef SPTT_ANNOTATE_INTERNAL_H
#define SPTT_ANNOTATE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "sptt_annotate.h"
#include "sptt_common.h"
#include "sptt_geometry.h"
#include "sptt_schemas.h"

/* ---------------------------------------------------------------------------------------------
** The scene
*/
typedef struct ann_object {
    int id;                  /* instance id */
    char zRaw[96];           /* raw label */
    int nyu40;
    char zLabel[32];         /* NYU40 class name */
    char zCategory[48];      /* QA category, "" when the object takes no part in QA */
    int64_t nPoints;
    int hasBox;              /* geometry stored a box (structure and tiny instances have none) */
    sptt_box box;            /* the box chosen by sptt-geometry --obb (objects table) */
    /* Filled by the projection: the first frame (pack index) where the object shows at least
    ** the configured number of pixels, -1 when it never does, and that frame's time. */
    int firstFrame;
    double firstTime;
    int64_t maxPixels;       /* largest visible pixel count in any projected frame */
} ann_object;

typedef struct ann_scene {
    int64_t id;              /* scene_id */
    char zName[128];
    char zSource[16];        /* scannet, arkitscenes, mesh */
    char zSceneType[64];     /* from the pack metadata, may be empty */
    double roomArea, roomHeight, roomCenter[3];
    int nLoops;              /* room outline: loops of points, concatenated */
    int *loopLen;
    double (*loopPts)[2];
    int nObj;
    ann_object *obj;
    sptt_pack pack;          /* points, faces, frames; images only when loaded for rendering */
    double fps;
    char zPack[4096];        /* the pack's path, resolved (rendered frames are written back) */
    char zGeometryHash[17];  /* the geometry the annotations are made from */
} ann_scene;

/* Loads a scene by name. SPTT_ESTATE, with a message naming the command to run, when geometry
** has not been computed for it; SPTT_EINVAL when it is not in the dataset. */
int ann_scene_load(sqlite3 *db, const char *zName, int withImages, ann_scene *s);
void ann_scene_free(ann_scene *s);
/* The object with this instance id, or NULL. */
ann_object *ann_object_by_id(ann_scene *s, int id);

/* ---------------------------------------------------------------------------------------------
** Projection
*/
typedef struct ann_vis {
    int frame;               /* pack frame index */
    int instance;
    int pixels;
    int x0, y0, x1, y1;      /* inclusive pixel box */
} ann_vis;

typedef struct ann_project_opts {
    int nFrames;             /* frames to project, sampled uniformly; 0 = every frame */
    int width, height;       /* raster size (intrinsics are scaled to it) */
    int minPixels;           /* pixels an instance needs in a frame to count as having appeared */
    const char *zMaskDir;    /* write per-frame instance (16-bit) and NYU40 (8-bit) PNG masks */
    int renderW, renderH;    /* > 0: render RGB frames from vertex colours into the pack */
    const char *zPackPath;   /* the pack to rewrite when rendering */
} ann_project_opts;

typedef struct ann_projection {
    ann_vis *vis;
    size_t nVis, capVis;
    int *frames;             /* the projected pack frame indices, increasing */
    int nFrames;
} ann_projection;

/* Rasterises the mesh into the chosen frames, fills vis and each object's appearance fields. */
int ann_project(ann_scene *s, const ann_project_opts *o, ann_projection *p);
void ann_projection_free(ann_projection *p);

/* ---------------------------------------------------------------------------------------------
** Records the annotators produce
*/
typedef struct ann_relation {
    int subject;
    char zRelation[24];      /* supported_by, near, left_of, right_of, in_front_of, behind, between */
    int object;
    int object2;             /* 0 unless the relation has two objects ("between") */
    double value;            /* distance or angle behind it, NAN when none */
    int frame;               /* viewpoint frame for view-dependent relations, -1 otherwise */
} ann_relation;

typedef struct ann_qa {
    char zType[40];          /* VSI-Bench question_type */
    char *zQuestion;
    char *zOptions;          /* JSON array of "A. ..." strings, NULL for numeric answers */
    char *zGroundTruth;
    char *zMcAnswer;         /* letter, NULL for numeric answers */
    char *zObjects;          /* JSON: categories / instance ids involved */
    char *zPrompt;           /* full prompt with the reference's wrapper */
    char *zMeta;             /* JSON: the values behind the answer */
} ann_qa;

typedef struct ann_description {
    int variant;
    char *zText;
    char *zFacts;            /* JSON: every fact the text states, for checking */
} ann_description;

typedef struct ann_output {
    ann_relation *rel;
    size_t nRel, capRel;
    ann_qa *qa;
    size_t nQa, capQa;
    ann_description *desc;
    size_t nDesc, capDesc;
    /* per-task counts for the run summary: generated and skipped (with a reason) */
    int nGenerated[16];
    int nSkipped[16];
    char zSkipReason[16][96];
} ann_output;

void ann_output_free(ann_output *out);

/* ---------------------------------------------------------------------------------------------
** The annotators (each appends to out; all deterministic for a seed)
*/
/* The first ten are VSI-Bench's question types. The relative-distance variants with 3 and 2
** choices are the public generator's, filed under its own type names as it does, and are off by
** default (VSI-Bench's object_rel_distance always has 4 choices). */
enum {
    ANN_COUNTING, ANN_ABS_DISTANCE, ANN_SIZE, ANN_ROOM_SIZE, ANN_REL_DISTANCE, ANN_DIR_EASY, ANN_DIR_MEDIUM,
    ANN_DIR_HARD, ANN_ROUTE, ANN_APPEARANCE, ANN_REL_DISTANCE_V2, ANN_REL_DISTANCE_V3, ANN_TASK_COUNT
};
#define ANN_TASKS_VSIBENCH ((1u << (ANN_APPEARANCE + 1)) - 1)   /* the default task set */
/* VSI-Bench question_type of a task index, and the index of a name (-1 unknown). */
const char *ann_task_name(int task);
int ann_task_index(const char *zName);

typedef struct ann_qa_opts {
    uint64_t seed;
    unsigned tasks;          /* bit (1 << task) for each task to generate */
    int maxPerTask;          /* cap per scene and task (0 = the reference's defaults) */
} ann_qa_opts;

/* Scene graph: support, near, view-dependent left/right/front/behind, between. */
int ann_relations(ann_scene *s, ann_output *out);
/* VSI-Bench-style QA for the tasks in o->tasks. Appearance order needs the projection's
** appearance fields; scenes without frames skip it and say so in out->zSkipReason. */
int ann_generate_qa(ann_scene *s, const ann_qa_opts *o, ann_output *out);

typedef struct ann_describe_opts {
    uint64_t seed;
    int nVariants;           /* descriptions per scene, each with its own phrasing draw */
} ann_describe_opts;
/* Dense walkthrough descriptions, using the relations already in out. */
int ann_describe(ann_scene *s, const ann_describe_opts *o, ann_output *out);

/* ---------------------------------------------------------------------------------------------
** Long-horizon streams (stream_qa.c: the questions of one stream from its rooms' appearances;
** stream_db.c: the rooms read from the dataset, the streams drawn and written)
*/
/* One object instance of one room of the walk. Frames are global: the frames of the rooms
** before, then the index in the room's own walk. */
typedef struct ann_stream_inst {
    int room;                /* 0-based position in the walk */
    int instance;            /* instance id in its scene */
    int cat;                 /* index into ann_stream_in.azCat */
    int64_t seen;            /* first frame showing it with at least min-pixels, -1: never */
    int64_t glimpse;         /* first frame showing any pixel of it (<= seen), -1: never */
} ann_stream_inst;

typedef struct ann_stream_in {
    int nRoom;
    const int64_t *aOffset;  /* per room: its first global frame */
    const int64_t *aCount;   /* per room: its frames */
    int64_t nFrames;         /* the whole walk */
    const double *aTime;     /* per global frame: seconds from the walk's start */
    int nCat;
    const char *const *azCat;   /* QA categories, sorted by name */
    int nInst;
    const ann_stream_inst *aInst;
} ann_stream_in;

/* One question of a stream. */
typedef struct ann_stream_qa {
    char zType[40];
    int64_t queryFrame;
    char *zQuestion;
    char *zOptions;          /* JSON array of "A. ..." strings, NULL for numbers */
    char *zGroundTruth;      /* the letter, or the number as text */
    char *zAnswerText;       /* the correct option's text, or the number */
    char *zObjects, *zPrompt, *zMeta;
} ann_stream_qa;

typedef struct ann_stream_out {
    ann_stream_qa *a;
    int n, cap;
    int aPerType[3];
    int aRejected[3];
} ann_stream_out;
void ann_stream_out_free(ann_stream_out *o);

/* Correct-letter tallies kept over every stream of a run, so letters balance over the run. */
typedef struct ann_stream_letters {
    int order[8];
    int room[9][8];          /* by the number of options */
} ann_stream_letters;

#define ANN_STREAM_COUNTING   0
#define ANN_STREAM_APPEARANCE 1
#define ANN_STREAM_FIRST_ROOM 2
const char *ann_stream_type_name(int type);

/* Rooms a stream walks at most (the tools' --rooms bound). */
#define ANN_STREAM_MAX_ROOMS 64

/* Questions per query frame at most (documented in stream_qa.c). */
#define ANN_STREAM_CAP_COUNTING   3
#define ANN_STREAM_CAP_APPEARANCE 1
#define ANN_STREAM_CAP_FIRST_ROOM 2

/* The stream's questions (the rules in stream_qa.c), appended to out; deterministic for rng. */
int ann_stream_questions(const ann_stream_in *in, sptt_rng *rng, ann_stream_letters *letters, ann_stream_out *out);

#endif
