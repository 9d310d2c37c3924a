/*
** Annotate: 2D projections, scene graphs, VSI-Bench-style spatial QA and dense descriptions.
** This header holds the pieces other stages reuse (box distance, direction sectors, the
** benchmark metrics) and the per-scene entry point of sptt-annotate.
*/
#ifndef SPTT_ANNOTATE_H
#define SPTT_ANNOTATE_H

#include <stddef.h>
#include <stdint.h>

#include "sptt_geometry.h"

/* ---------------------------------------------------------------------------------------------
** Distances between oriented boxes (sptt_box, from geometry: rows of axes are the box axes,
** size the full edge lengths)
*/
/* True when the two solid boxes share a point (separating-axis test, 15 axes). */
int sptt_box_overlap(const sptt_box *a, const sptt_box *b);
/* Exact Euclidean distance between two solid boxes, 0 when they touch or overlap. */
double sptt_box_distance(const sptt_box *a, const sptt_box *b);
/* Distance from a point to a solid box (0 inside). */
double sptt_box_point_distance(const sptt_box *b, const double *p);

/* ---------------------------------------------------------------------------------------------
** Relative direction (VSI-Bench): standing at A facing B, where is C?
*/
#define SPTT_DIR_EASY   0   /* left / right (back rejected) */
#define SPTT_DIR_MEDIUM 1   /* left / right / back */
#define SPTT_DIR_HARD   2   /* front-left / front-right / back-left / back-right */

/* Angle in degrees in [0, 360), counter-clockwise from the facing direction in the floor plane;
** [0, 180) is to the left. NaN when A coincides with B or C in the plane. */
double sptt_direction_angle(const double *a, const double *b, const double *c);
/* Sector index of an angle: hard 0 front-left, 1 back-left, 2 back-right, 3 front-right;
** medium and easy 0 left, 1 back, 2 right. */
int sptt_direction_sector(double theta, int level);
/* The reference's margin rule for the angle alone (10 degrees; hard checks only the next
** boundary, as the original does). */
int sptt_direction_near_boundary(double theta, int level);
const char *sptt_direction_name(int sector, int level);

/* ---------------------------------------------------------------------------------------------
** VSI-Bench metrics
*/
/* The first space-separated token with a trailing '.' removed and whitespace trimmed, as the
** reference's fuzzy matching does. Writes into out (size n). */
void sptt_answer_token(const char *zPred, char *out, size_t n);
/* 1 when the prediction's token equals the letter, ignoring case; else 0. */
double sptt_exact_match(const char *zPred, const char *zLetter);
/* Parses the prediction's token as a number the way Python's float() would; 0 on success. */
int sptt_parse_prediction(const char *zPred, double *pOut);
/* Mean relative accuracy over the thresholds 0.50, 0.55, ..., 0.95 (ten of them). */
double sptt_mra(double pred, double gt);
/* MRA of a text prediction: 0 when it does not parse as a number. */
double sptt_mra_text(const char *zPred, double gt);

/* ---------------------------------------------------------------------------------------------
** Frames rendered from a mesh's vertex colours, for packs without images: frame f's camera with
** its intrinsics scaled to w x h, nearest surface shaded by interpolated vertex colours, black
** where nothing is seen. rgb holds w * h * 3 bytes. idx (may be NULL) speeds up repeated draws.
*/
#include "sptt_raster.h"
#include "sptt_schemas.h"
int sptt_render_frame(const sptt_pack *p, uint64_t f, int w, int h, const sptt_raster_index *idx, uint8_t *rgb);

/* ---------------------------------------------------------------------------------------------
** sptt-annotate: one scene's annotations, replaced in one transaction
*/
#include <sqlite3.h>

typedef struct sptt_annotate_opts {
    unsigned tasks;          /* bit (1 << task index) per QA task; see sptt_annotate_task_names */
    int nFrames;             /* frames to project (0 = all) */
    int width, height;       /* projection raster size */
    int minPixels;           /* pixels that make an object count as seen in a frame */
    const char *zMaskDir;    /* write PNG masks below this folder, or NULL */
    int renderW, renderH;    /* render frames for scenes without images (0 = no) */
    uint64_t seed;
    int nVariants;           /* descriptions per scene */
} sptt_annotate_opts;

/* The tool's defaults: VSI-Bench's ten question types (not the 3- and 2-choice relative-distance
** variants), every frame at 320x240, 20 pixels to be seen, 3 descriptions,
** seed 0, no masks, no rendering. */
void sptt_annotate_opts_default(sptt_annotate_opts *o);

/* The options that shape a scene's annotation rows, as the JSON annotate stores beside them
** (scenes.annotate_params): a run with the same key would write the same rows. */
#define SPTT_ANNOTATE_PARAMS_MAX 256
void sptt_annotate_params_key(const sptt_annotate_opts *o, char *zOut, size_t nOut);

/* --tasks LIST (an sptt_cli FN option, pOut unsigned*: the task bit mask). Shared by sptt-annotate
** and sptt-build. */
int sptt_annotate_parse_tasks(const char *zOpt, const char *zList, void *pOut);

typedef struct sptt_annotate_result {
    int nVisibility, nRelations, nQa, nDescriptions;
    int nPerTask[16];
    int nSkippedPerTask[16];
    int rendered;            /* frames were rendered into the pack */
    char zSummary[600];
} sptt_annotate_result;

/* Task names in index order ("object_counting", ...); *pN receives the count. */
const char *const *sptt_annotate_task_names(int *pN);
int sptt_annotate_scene(sqlite3 *db, const char *zName, const sptt_annotate_opts *o, sptt_annotate_result *r);

/* ---------------------------------------------------------------------------------------------
** Long-horizon streams (annotate/stream_db.c; the rules in annotate/stream_qa.c): nStreams walks
** of nRooms distinct scenes each, drawn from the scenes with current annotations and a camera
** walk (of split zSplit only, when given), with their questions. Stream i is named
** "<split|all>-r<rooms>-s<seed>-<i>"; one already current with the same scenes is left as it is,
** the others are replaced. Everything in one transaction.
*/
typedef struct sptt_stream_opts {
    int nStreams, nRooms;
    uint64_t seed;
    const char *zSplit;      /* NULL: any scene */
} sptt_stream_opts;

typedef struct sptt_stream_result {
    int nMade, nUnchanged, nQuestions;
    int aPerType[3];         /* counting, appearance order, first room */
    char zSummary[300];
} sptt_stream_result;

int sptt_annotate_streams(sqlite3 *db, const sptt_stream_opts *o, sptt_stream_result *r);

#endif
