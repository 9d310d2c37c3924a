/*
** Shared internals of the content annotators: the category catalogue, the per-task QA context
** (random stream, answer-letter balance, rejection tally) and small plane-geometry helpers.
** Used by qa.c, qa_record.c, route.c, relations.c and describe.c only.
*/
#ifndef SPTT_ANN_CONTENT_H
#define SPTT_ANN_CONTENT_H

#include <jansson.h>

#include "annotate.h"

/* ---------------------------------------------------------------------------------------------
** Categories as the QA sees them: distinct instances per ann_object.zCategory.
*/
typedef struct ann_cat {
    char zName[48];
    int nInst;               /* distinct instance ids */
    int nBox;                /* of those, instances with a box */
    int first;               /* first member in ann_catalog.member (boxed members first) */
} ann_cat;

typedef struct ann_catalog {
    int nCat;                /* sorted by name, so every loop over them is deterministic */
    ann_cat *cat;
    int *member;             /* object indices, grouped by category */
    int *catOf;              /* per object: its category or -1 */
    double *dist;            /* nCat x nCat: closest distance over boxed instance pairs, INFINITY if none */
    int *pairObj;            /* nCat x nCat: the object of the row category realising dist, -1 if none */
} ann_catalog;

int ann_catalog_build(const ann_scene *s, ann_catalog *c);
void ann_catalog_free(ann_catalog *c);
/* A category with exactly one instance, and that instance has a box. */
int ann_catalog_unique(const ann_catalog *c, int k);
/* The object index of a unique category's instance. */
int ann_catalog_only(const ann_catalog *c, int k);

/* ---------------------------------------------------------------------------------------------
** One task of one scene while its questions are made.
*/
typedef struct ann_qa_ctx {
    ann_scene *s;
    ann_output *out;
    const ann_catalog *cat;
    int task;
    int cap;                 /* questions to keep at most */
    sptt_rng rng;            /* this task's stream: forked from the seed, the scene name and the task */
    int letters[5];          /* correct-letter use for the options shown */
    int numLetters[5];       /* the same for numeric tasks' multiple-choice variant (kept in meta) */
    int nReason;
    char azReason[12][64];
    int anReason[12];
} ann_qa_ctx;

/* The records a task appends (qa_record.c). The tasks (qa.c, route.c) call these; these call
** no task. */

/* Counts one rejected candidate under a reason (out->nSkipped and the tally behind zSkipReason). */
void ann_qa_reject(ann_qa_ctx *c, const char *zReason);
/* Writes the task's rejection tally into out->zSkipReason, the commonest reasons first. */
void ann_qa_skip_summary(ann_qa_ctx *c);

/* A multiple-choice layout: "A. text" strings with the answer at the least-used letter so far
** (ties broken by the stream); the other slots take the distractors in the order given. */
typedef struct ann_mc {
    int n;
    int answer;              /* slot of the answer */
    char az[8][160];
} ann_mc;
/* azChoice[0] is the answer. counts is the letter tally to balance (and is updated). */
void ann_qa_layout(sptt_rng *r, int *counts, const char *const *azChoice, int nChoice, ann_mc *m);
/* The full prompt around a question, as the reference wraps it: the numeric wrapper when m is
** NULL, else the multiple-choice one with m's options. NUL-terminated in b. */
void ann_qa_prompt(sptt_buf *b, const char *zQuestion, const ann_mc *m);
/* The slot a choice index (0 = answer) went to. */
int ann_mc_slot(const ann_mc *m, int iChoice);

/* Appends a multiple-choice record laid out by ann_qa_layout; ground_truth is the answer text.
** Takes ownership of objects and meta (either may be NULL). */
int ann_qa_push_layout(ann_qa_ctx *c, const char *zQuestion, const ann_mc *m, const char *zAnswer, json_t *objects,
                       json_t *meta);
/* Shuffles n candidates of size sz with the task's stream; returns how many to keep (the cap). */
int ann_qa_keep(ann_qa_ctx *c, void *items, int n, size_t sz);
/* Layout with the task's letter tally, then push. */
int ann_qa_push_mc(ann_qa_ctx *c, const char *zQuestion, const char *const *azChoice, int nChoice,
                   json_t *objects, json_t *meta);
/* A numeric record: options and mc_answer stay NULL; azChoice holds the answer then three
** distractors, all formatted, for the multiple-choice variant kept in meta (laid out with the
** task's numeric letter tally). Takes ownership of objects and meta (either may be NULL). */
int ann_qa_push_numeric(ann_qa_ctx *c, const char *zQuestion, char azChoice[4][32], json_t *objects, json_t *meta);

/* ---------------------------------------------------------------------------------------------
** Numbers
*/
/* x rounded to d decimals the way Python's round() and printf do (correctly rounded, ties to
** even on the exact binary value), as text and as a number. */
void ann_fmt_round(double x, int d, char *z, size_t n);
double ann_round(double x, int d);

/* Numeric distractors (qa.c): three values in units of 10^-d; 0, or -1 when none can be drawn. */
int ann_numeric_distractors(sptt_rng *r, double gt, int d, double lo, double hi, long out[3]);
int ann_count_distractors(sptt_rng *r, long gt, long out[3]);

/* ---------------------------------------------------------------------------------------------
** Plane geometry (XY)
*/
/* Convex hull of the 8 box corners in XY, counter-clockwise; returns the point count (<= 8). */
int ann_box_footprint(const sptt_box *b, double hull[8][2]);
/* Lowest and highest corner z. */
void ann_box_zrange(const sptt_box *b, double *z0, double *z1);
/* Distance from p to a convex polygon (0 inside). */
double ann_poly_distance(const double (*poly)[2], int n, const double *p);
double ann_poly_area(const double (*poly)[2], int n);
/* Even-odd test over every loop of the room outline. */
int ann_room_contains(const ann_scene *s, const double *p);
/* Distance from p to the nearest edge of the room outline. */
double ann_room_edge_distance(const ann_scene *s, const double *p);
/* Signed angle from u to v in degrees, (-180, 180], counter-clockwise positive. */
double ann_turn_angle(const double *u, const double *v);

/* ---------------------------------------------------------------------------------------------
** Tasks split out of qa.c
*/
int ann_route_questions(ann_qa_ctx *c);

/* Route-planning parameters (route.c), documented there. */
#define ANN_ROUTE_CELL      0.10   /* grid cell, metres */
#define ANN_ROUTE_RADIUS    0.25   /* walker radius, metres */

/* Scene-graph thresholds (relations.c), documented there. */
#define ANN_REL_SUPPORT_TOL   0.05   /* bottom face to top face, metres */
#define ANN_REL_NEAR          0.50   /* closest-box distance for "near", metres */
#define ANN_REL_VIEW_RANGE    2.00   /* view-dependent relations only between objects this close */
#define ANN_REL_VIEW_MARGIN   10.0   /* degrees kept clear of the diagonals between two view relations */
#define ANN_REL_BETWEEN_PERP  0.30   /* centre to segment, metres */

/* The name a walkthrough uses for an object: its QA category, else its NYU40 class, else its raw
** label; "" for structure and the catch-all classes. */
const char *ann_object_name(const ann_object *o);

/* Words and outline measures of the descriptions (describe.c). */
void ann_plural(const char *zName, char *zOut, size_t n);
const char *ann_count_word(int n);          /* "one" .. "twelve", NULL beyond */
/* How the text names one and several objects of a name: "chair" / "chairs", but "set of books" /
** "sets of books" for names already plural. */
void ann_display_names(const char *zName, char *zSing, size_t nSing, char *zPlural, size_t nPlural);
/* Minimum-area rectangle around the room outline: sides and area (0 when there is no outline). */
int ann_outline_extent(const ann_scene *s, double *pLong, double *pShort, double *pArea);
/* "rectangular", "L-shaped", "irregular" or "split" (several loops); NULL without an outline.
** pFill: outline area over its rectangle's; pCorners: corners after simplification. */
const char *ann_outline_shape(const ann_scene *s, double *pFill, int *pCorners);

#endif
