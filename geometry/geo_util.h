/*
** Helpers shared by the geometry files: sorted deduplicated copies, 2D hulls, minimum-area
** rectangles, a 3x3 symmetric eigensolver, Qhull plumbing. Internal to geometry/.
*/
#ifndef SPTT_GEO_UTIL_H
#define SPTT_GEO_UTIL_H

#include "sptt_geometry.h"

#include <stddef.h>
#include <stdio.h>

/*
** A sorted (lexicographic), deduplicated copy of n points of dimension dim (2 or 3). Sorting
** first is what makes every result independent of input order. *pnDup counts removed points.
** Fails with SPTT_EINVAL on a non-finite coordinate.
*/
int geo_sorted_unique(const double *p, size_t n, int dim, double **pOut, size_t *pm, size_t *pnDup);

/* Stable lexicographic merge sort of n 3D points with the comparisons of geo_cmp_lex3 (so -0.0
** equals 0.0); SPTT_ENOMEM when its buffer cannot be had (then sort with qsort and
** geo_cmp_lex3). */
int geo_sort_lex3(double *p, size_t n);
int geo_cmp_lex3(const void *a, const void *b);

/*
** Convex hull of m 2D points that are already sorted lexicographically (Andrew's monotone
** chain). Writes h counter-clockwise vertices, no collinear ones, to hull (capacity m + 1) and
** returns h: 1 for a single point, 2 when everything is collinear.
*/
int geo_hull2d_sorted(const double *xy, int m, double *hull);
/* Same for unsorted points; work needs 2*m doubles. */
int geo_hull2d(const double *xy, int m, double *work, double *hull);

/* A rectangle in the plane: axis u (unit) and v = (-u.y, u.x), extents along each. */
typedef struct geo_rect {
    double u[2];
    double lo[2], hi[2];     /* [u extent, v extent] */
    double area;
} geo_rect;
/* Minimum-area enclosing rectangle of a convex CCW polygon of h >= 1 vertices. */
void geo_min_rect(const double *hull, int h, geo_rect *r);

/* Eigen-decomposition of a symmetric 3x3 matrix: values descending, vectors as rows. */
void geo_eig3_sym(const double *A, double *vals, double *vecs);
/* Makes the rows of R orthonormal and right-handed (Gram-Schmidt on rows 0 and 1). */
void geo_orthonormalize(double *R);
/* The box of points (m, 3) in the frame R (rows), offset added to the centre; flags kept. */
void geo_box_in_frame(const double *R, const double *p, size_t m, const double *offset, sptt_box *b);
/* Reorders and flips the axes to the documented convention (sptt_geometry.h). */
void geo_box_canonical(sptt_box *b);

/* The alpha shape with a forced mode: 0 automatic, 1 one Delaunay call, 2 tiles, 3 one Delaunay
** call with Qhull's default (merging) options only, without the proven fast attempt (tests use
** these to check that all give the same result). */
int geo_alpha_shape_mode(const double *xy, size_t n, double rmax, int mode, sptt_alpha_shape *a);

/* Qhull error text goes to a memory stream so that a failure can be reported in a warning. */
typedef struct geo_errstream {
    FILE *fp;
    char *z;
    size_t n;
} geo_errstream;
int geo_errstream_open(geo_errstream *e);
/* First line of what Qhull wrote, or "" (valid until geo_errstream_close). */
const char *geo_errstream_text(geo_errstream *e);
void geo_errstream_close(geo_errstream *e);

struct qhT;
/* Frees everything a Qhull run allocated, long memory first, then the short-memory pools. */
void geo_qhull_release(struct qhT *qh);
/* Makes qh ready for another run from a clean slate: releases the last one and opens a fresh
** error stream. On failure (out of memory for the stream) qh is released and not usable. */
int geo_qhull_restart(struct qhT *qh, geo_errstream *es);

#endif
