/*
** Annotate: 2D projections, scene graphs, VSI-Bench-style spatial QA and dense descriptions.
** This header holds the pieces other stages reuse (box distance, direction sectors, the
** benchmark metrics) and the per-scene entry point of sptt-annotate.
*/
#ifndef SPTT_ANNOTATE_H
#define SPTT_ANNOTATE_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
** Oriented boxes
*/
typedef struct sptt_obb {
    double c[3];    /* centre */
    double e[3];    /* full edge lengths along the axes */
    double R[9];    /* rows are the box axes (unit, orthogonal) */
} sptt_obb;

/* Its 8 corners, corner k having sign (k&1, k&2, k&4) on axes 0, 1, 2. */
void sptt_obb_corners(const sptt_obb *b, double out[8][3]);
/* True when the two solid boxes share a point (separating-axis test, 15 axes). */
int sptt_obb_overlap(const sptt_obb *a, const sptt_obb *b);
/* Exact Euclidean distance between two solid boxes, 0 when they touch or overlap. */
double sptt_obb_distance(const sptt_obb *a, const sptt_obb *b);
/* Distance from a point to a solid box (0 inside). */
double sptt_obb_point_distance(const sptt_obb *b, const double *p);

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

#endif
