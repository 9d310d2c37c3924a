/*
** VSI-Bench scoring, exactly as the benchmark's evaluation computes it, so that a score printed
** here can be set beside published numbers.
**
**   Reading a prediction. The text up to its first space character (' ' only: the benchmark
**   splits on one space, so a tab or newline stays in the token), then every trailing '.'
**   removed, then leading and trailing whitespace removed as Python's str.strip() removes it
**   (space, \t \n \v \f \r, 0x1c-0x1f, and in UTF-8 U+0085, U+00A0, U+1680, U+2000-U+200A,
**   U+2028, U+2029, U+202F, U+205F, U+3000).
**
**   Multiple choice: 1 when that token equals the option letter ignoring ASCII case, else 0.
**
**   Numeric: the token parsed as Python's float() parses (sptt_vsi_parse_float); a token that
**   does not parse scores 0. Otherwise the mean relative accuracy over ten thresholds
**   theta_i = 0.5 + i * (0.45 / 9), i = 0..8, and theta_9 = 0.95 (numpy's linspace): the share of
**   thresholds with |pred - gt| / gt <= 1 - theta_i, in double. gt is divided as is (the
**   benchmark's code, not the absolute value its paper writes). A gt of 0, on which the
**   benchmark's Python would stop with a division error, scores 0 here (IEEE: x/0 is inf or nan,
**   neither <= a finite bound).
**
**   Aggregation. The mean score per question type; the three object_rel_direction levels
**   (_easy, _medium, _hard) are averaged into one task object_rel_direction; the overall score
**   is the mean of the task scores (eight on VSI-Bench), reported x 100.
*/
#ifndef SPTT_SCORE_H
#define SPTT_SCORE_H

#include <stddef.h>

#define SPTT_VSI_THRESHOLDS 10

/* The prediction as the benchmark reads it (the rule above), into z of n bytes (n >= 1; a
** longer token is cut). Returns the token's full length. */
size_t sptt_vsi_token(const char *zPred, char *z, size_t n);

/* Python's float() over a whole string: optional sign, then digits with an optional '.' and
** exponent (single underscores allowed between digits), or inf / infinity / nan in any case.
** Leading and trailing whitespace are allowed. Returns 0 and sets *pv, or -1 (not a number). */
int sptt_vsi_parse_float(const char *z, double *pv);

/* The ten thresholds of the rule above. */
double sptt_vsi_threshold(int i);

/* Mean relative accuracy of pred against gt. */
double sptt_vsi_mra(double pred, double gt);

/* One question: the prediction's score against zTarget, the option letter (isNumeric 0) or the
** number as text (isNumeric 1; a target that does not parse scores 0). */
double sptt_vsi_score(const char *zPred, const char *zTarget, int isNumeric);

/* The task a question type counts toward: the direction levels share one. Writes into z. */
void sptt_vsi_task(const char *zType, char *z, size_t n);

/* Means per question type, then per task, then overall. */
typedef struct sptt_vsi_tally sptt_vsi_tally;
typedef struct sptt_vsi_row {
    const char *zName;      /* question type or task */
    double score;           /* mean, 0..1 */
    int n;                  /* questions */
} sptt_vsi_row;

int sptt_vsi_tally_new(sptt_vsi_tally **pp);
void sptt_vsi_tally_free(sptt_vsi_tally *t);
int sptt_vsi_tally_add(sptt_vsi_tally *t, const char *zType, double score);
/* Rows sorted by name, valid until the next add or the free. */
int sptt_vsi_tally_types(sptt_vsi_tally *t, const sptt_vsi_row **paRow, int *pn);
int sptt_vsi_tally_tasks(sptt_vsi_tally *t, const sptt_vsi_row **paRow, int *pn);
/* The mean of the task scores (0..1), or 0 with no questions. */
double sptt_vsi_tally_overall(sptt_vsi_tally *t);

#endif
