/*
** Exact distance between two solid oriented boxes.
**
** The reference samples points on each box (5 cm grid) and takes the closest pair, which is off
** by up to a few centimetres. For two disjoint convex polyhedra the closest pair of points is
** realised either at a vertex of one of them or on an edge of each: when the closest set is a
** patch of parallel faces, or an edge lying along a face, that set is a convex polygon or
** segment whose corners are vertices or edge crossings. So the exact distance is the minimum of
** (vertex of A to solid B), (vertex of B to solid A) and (edge of A to edge of B), each computed in
** closed form. Overlap is decided first by the separating-axis test, which is exact for boxes.
*/
#include "sptt_annotate.h"
#include "sptt_math.h"

#include <float.h>
#include <math.h>

/* Corner k has sign (k&1, k&2, k&4) on axes 0, 1, 2. */
static void corners(const sptt_box *b, double out[8][3])
{
    for(int k = 0; k < 8; k++){
        double s[3] = { (k & 1) ? 0.5 : -0.5, (k & 2) ? 0.5 : -0.5, (k & 4) ? 0.5 : -0.5 };
        for(int j = 0; j < 3; j++){
            out[k][j] = b->center[j];
            for(int a = 0; a < 3; a++) out[k][j] += s[a] * b->size[a] * b->axes[3 * a + j];
        }
    }
}

double sptt_box_point_distance(const sptt_box *b, const double *p)
{
    double d2 = 0;
    for(int a = 0; a < 3; a++){
        double t = 0, h = b->size[a] / 2;
        for(int j = 0; j < 3; j++) t += (p[j] - b->center[j]) * b->axes[3 * a + j];
        if( t > h ) d2 += (t - h) * (t - h);
        else if( t < -h ) d2 += (t + h) * (t + h);
    }
    return sqrt(d2);
}

int sptt_box_overlap(const sptt_box *a, const sptt_box *b)
{
    double axes[15][3];
    int n = 0;
    double ca[8][3], cb[8][3];
    corners(a, ca);
    corners(b, cb);
    for(int i = 0; i < 3; i++){
        for(int j = 0; j < 3; j++){
            axes[n][j] = a->axes[3 * i + j];
            axes[n + 1][j] = b->axes[3 * i + j];
        }
        n += 2;
    }
    for(int i = 0; i < 3; i++){
        for(int k = 0; k < 3; k++){
            sptt_cross3(a->axes + 3 * i, b->axes + 3 * k, axes[n]);
            /* Parallel edges give a zero cross product: that axis is already covered. */
            if( sptt_norm3(axes[n]) > 1e-9 ) n++;
        }
    }
    for(int i = 0; i < n; i++){
        double amin = DBL_MAX, amax = -DBL_MAX, bmin = DBL_MAX, bmax = -DBL_MAX;
        for(int k = 0; k < 8; k++){
            double pa = sptt_dot3(axes[i], ca[k]), pb = sptt_dot3(axes[i], cb[k]);
            amin = fmin(amin, pa);
            amax = fmax(amax, pa);
            bmin = fmin(bmin, pb);
            bmax = fmax(bmax, pb);
        }
        if( amax < bmin || bmax < amin ) return 0;
    }
    return 1;
}

/* Closest distance between segments p0-p1 and q0-q1 (the classic clamped parameter solve). */
static double segment_distance(const double *p0, const double *p1, const double *q0, const double *q1)
{
    double d1[3], d2[3], r[3], a, e, f, s, t, c, b, denom;
    for(int j = 0; j < 3; j++){
        d1[j] = p1[j] - p0[j];
        d2[j] = q1[j] - q0[j];
        r[j] = p0[j] - q0[j];
    }
    a = sptt_dot3(d1, d1);
    e = sptt_dot3(d2, d2);
    f = sptt_dot3(d2, r);
    c = sptt_dot3(d1, r);
    b = sptt_dot3(d1, d2);
    denom = a * e - b * b;
    s = denom > 1e-18 ? (b * f - c * e) / denom : 0;
    if( s < 0 ) s = 0;
    if( s > 1 ) s = 1;
    t = e > 0 ? (b * s + f) / e : 0;
    if( t < 0 ){
        t = 0;
        s = a > 0 ? -c / a : 0;
    }else if( t > 1 ){
        t = 1;
        s = a > 0 ? (b - c) / a : 0;
    }
    if( s < 0 ) s = 0;
    if( s > 1 ) s = 1;
    {
        double d2s = 0;
        for(int j = 0; j < 3; j++){
            double x = p0[j] + s * d1[j] - q0[j] - t * d2[j];
            d2s += x * x;
        }
        return sqrt(d2s);
    }
}

/* The 12 edges of a box as corner pairs (corners differ in one sign bit). */
static const int aEdge[12][2] = {
    {0, 1}, {2, 3}, {4, 5}, {6, 7}, {0, 2}, {1, 3}, {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6}, {3, 7},
};

double sptt_box_distance(const sptt_box *a, const sptt_box *b)
{
    double ca[8][3], cb[8][3], best = DBL_MAX;
    if( sptt_box_overlap(a, b) ) return 0;
    corners(a, ca);
    corners(b, cb);
    for(int k = 0; k < 8; k++){
        best = fmin(best, sptt_box_point_distance(b, ca[k]));
        best = fmin(best, sptt_box_point_distance(a, cb[k]));
    }
    for(int i = 0; i < 12; i++){
        for(int j = 0; j < 12; j++){
            best = fmin(best, segment_distance(ca[aEdge[i][0]], ca[aEdge[i][1]], cb[aEdge[j][0]], cb[aEdge[j][1]]));
        }
    }
    return best;
}
