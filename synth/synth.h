/*
** Synthetic scenes: the in-memory model shared by the scene builder (synth_scene.c), the format
** writers (synth_scannet.c, synth_arkit.c), the ground-truth writer (synth_truth.c) and the
** driver (synth.c). Internal to synth/, which reaches other stages through their public
** sptt_*.h headers only.
**
** A scene is built in its output frame: z up, floor at z = 0, the room's bounding box centred on
** the origin. Writers map it to each dataset's raw frame.
*/
#ifndef SPTT_SYNTH_INTERNAL_H
#define SPTT_SYNTH_INTERNAL_H

#include "sptt_common.h"
#include "sptt_raster.h"
#include "sptt_synth.h"

#include <stdint.h>

typedef enum synth_shape {
    SH_BOX, SH_TABLE, SH_CHAIR, SH_STOOL, SH_BED, SH_SOFA, SH_SHELF, SH_CYL, SH_LAMP, SH_PLANT,
    SH_TOILET, SH_TUB, SH_PIANO, SH_MONITOR, SH_FAN
} synth_shape;

typedef enum synth_place {
    PL_FREE,      /* on the floor, any yaw */
    PL_BACK,      /* on the floor, back against a wall */
    PL_WALL,      /* hanging on a wall at a height */
    PL_TOP        /* on top of another object */
} synth_place;

typedef struct synth_category {
    const char *zKey;       /* unique key used by the room recipes, e.g. "lamp_table" */
    const char *zName;      /* canonical raw category, a row of the v2 label table */
    const char *zAlt;       /* another raw spelling that the table also has, or NULL */
    const char *zOld;       /* an older spelling the v2 table lacks (real v1 data has it), or NULL */
    const char *zArkit;     /* ARKitScenes class, or NULL */
    int nyu40;
    synth_shape shape;
    synth_place place;
    double lo[3], hi[3];    /* size range: width (x), depth (y), height (z), metres */
    double zLo, zHi;        /* PL_WALL: height range of the bottom edge */
    const char *zOn;        /* PL_TOP: '|'-separated categories it may stand on */
    uint8_t color[3];
    double tilt;            /* probability of a visible tilt */
} synth_category;

/* Structural and object instances alike. */
typedef struct synth_object {
    int id;                      /* instance id = objectId + 1 in ScanNet terms; 0 = not annotated */
    const synth_category *cat;   /* NULL for wall, floor, ceiling */
    const char *zRaw;            /* raw label written to the annotation */
    int nyu40;                   /* what the v2 table maps zRaw to (0 when it lacks it) */
    double center[3], size[3];
    double axes[9];              /* rows are the box axes, size[k] along row k */
    double yaw, tilt;            /* degrees */
    int supportedBy;             /* instance id of the support, 0 = floor, -1 = wall */
    int room;                    /* index of the rectangle it stands in */
    uint32_t v0, v1;             /* its vertices are [v0, v1) in the mesh */
    double supportTop;           /* height above the box bottom of the surface others stand on, 0 = none */
    double topRegion[4];         /* that surface in the box's local frame: x0, y0, x1, y1 */
    const char *zShape;          /* shape name for the ground truth ("box" for plain cuboids) */
} synth_object;

typedef struct synth_rect {
    double x0, y0, x1, y1;
} synth_rect;

typedef struct synth_mesh {
    float *xyz;
    uint8_t *rgb;
    uint32_t nVerts, capVerts;
    uint32_t *faces;
    uint32_t nFaces, capFaces;
    uint32_t *seg;               /* (nVerts) segment id: the index of the segment's first vertex */
    int32_t *owner;              /* (nVerts) index into scene objects, -1 none */
    int rc;
} synth_mesh;

typedef struct synth_scene {
    char zName[48];
    int isArkit;
    const char *zType;           /* ScanNet sceneType text */
    int kind;                    /* 0 rectangle, 1 L-shape, 2 two rooms */
    synth_rect rects[2];
    int nRects;
    double door[4];              /* two rooms: the opening in the shared wall, x0 y0 x1 y1 */
    double poly[16][2];          /* floor outline, counter-clockwise */
    int nPoly;
    double area, height;
    synth_object *objs;
    int nObjs, capObjs;
    synth_mesh mesh;
    double alignment[16];        /* ScanNet: raw -> output (build) frame, the axisAlignment */
    double world[16];            /* ARKitScenes: build frame -> world frame of the files */
    int nAnnotated;              /* objects with an instance id (structure excluded) */
    /* camera walk in the output frame */
    int nFrames;
    double fps;
    double *c2w;                 /* (nFrames, 16) */
    double *times;               /* (nFrames) seconds */
    uint8_t *invalid;            /* (nFrames) 1 where the .sens stores a -inf pose */
    int skyIndex;                /* ARKitScenes: 0 up, 1 left, 2 down, 3 right (device roll) */
    double resObj, resStruct;    /* mesh resolutions used */
    sptt_raster_index raster;    /* culling index of the mesh, for rendering frames */
} synth_scene;

/* synth_scene.c */
int synth_build_scene(synth_scene *s, sptt_rng *rng, const sptt_synth_opts *o, int isArkit, int index);
void synth_free_scene(synth_scene *s);
const synth_category *synth_categories(int *pCount);
/* Rows of the real ScanNet v2 label table (17 tab-separated columns) for every raw label used. */
const char *const *synth_tsv_rows(int *pCount);
const char *synth_tsv_header(void);

/* synth_render.c: renders colour (RGB8) and depth (metres) for frame i; either may be NULL. */
typedef struct synth_view {
    int width, height;
    double fx, fy, cx, cy;
} synth_view;
int synth_render(const synth_scene *s, const double *c2w, const synth_view *v, uint8_t *rgb, float *depth);

/* synth_scannet.c, synth_arkit.c: write one scene below zDir (the dataset's root). */
int synth_write_scannet(const synth_scene *s, const sptt_synth_opts *o, const char *zRoot);
int synth_write_arkit(const synth_scene *s, const sptt_synth_opts *o, sptt_rng *rng, const char *zRoot);
/* synth_truth.c: ground_truth.json; toOut maps the scene's frame to the dataset's output frame. */
int synth_write_truth(const synth_scene *s, const char *zPath, const char *zFrame, const double *toOut,
                      const double *frameTimes, const char *const *azFrameNames);


#endif
