/*
** Small fixed-size linear algebra in double precision, header-only.
**
** Matrices are row-major arrays: m3 is double[9], m4 is double[16]. A rigid transform T maps a
** point p to R p + t with R = T[0..2][0..2] and t = T[0..2][3].
*/
#ifndef SPTT_MATH_H
#define SPTT_MATH_H

#include <math.h>
#include <string.h>

#define SPTT_PI 3.14159265358979323846

static inline double sptt_dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static inline void sptt_cross3(const double *a, const double *b, double *out)
{
    double x = a[1] * b[2] - a[2] * b[1];
    double y = a[2] * b[0] - a[0] * b[2];
    double z = a[0] * b[1] - a[1] * b[0];
    out[0] = x;
    out[1] = y;
    out[2] = z;
}

static inline double sptt_norm3(const double *a) { return sqrt(sptt_dot3(a, a)); }

static inline void sptt_normalize3(double *a)
{
    double n = sptt_norm3(a);
    if( n > 0 ){
        a[0] /= n;
        a[1] /= n;
        a[2] /= n;
    }
}

/* out = a * b for 3x3 row-major matrices; out may alias neither input. */
static inline void sptt_mul3(const double *a, const double *b, double *out)
{
    for(int i = 0; i < 3; i++)
        for(int j = 0; j < 3; j++) out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

static inline void sptt_mul4(const double *a, const double *b, double *out)
{
    for(int i = 0; i < 4; i++)
        for(int j = 0; j < 4; j++){
            double s = 0;
            for(int k = 0; k < 4; k++) s += a[4 * i + k] * b[4 * k + j];
            out[4 * i + j] = s;
        }
}

static inline void sptt_identity4(double *m)
{
    memset(m, 0, 16 * sizeof(double));
    m[0] = m[5] = m[10] = m[15] = 1;
}

/* p' = T p for a point (w = 1). */
static inline void sptt_xform_point(const double *T, const double *p, double *out)
{
    double x = T[0] * p[0] + T[1] * p[1] + T[2] * p[2] + T[3];
    double y = T[4] * p[0] + T[5] * p[1] + T[6] * p[2] + T[7];
    double z = T[8] * p[0] + T[9] * p[1] + T[10] * p[2] + T[11];
    out[0] = x;
    out[1] = y;
    out[2] = z;
}

/* Inverse of a rigid transform: [R t; 0 1]^-1 = [R^T, -R^T t; 0 1]. */
static inline void sptt_rigid_inverse(const double *T, double *out)
{
    double r[16];
    for(int i = 0; i < 3; i++)
        for(int j = 0; j < 3; j++) r[4 * i + j] = T[4 * j + i];
    for(int i = 0; i < 3; i++) r[4 * i + 3] = -(r[4 * i] * T[3] + r[4 * i + 1] * T[7] + r[4 * i + 2] * T[11]);
    r[12] = r[13] = r[14] = 0;
    r[15] = 1;
    memcpy(out, r, sizeof r);
}

/* Rotation matrix about z by yaw (radians). */
static inline void sptt_rot_z(double yaw, double *R)
{
    double c = cos(yaw), s = sin(yaw);
    double m[9] = { c, -s, 0, s, c, 0, 0, 0, 1 };
    memcpy(R, m, sizeof m);
}

/* Rodrigues: axis-angle vector (radians * unit axis) to a rotation matrix. */
static inline void sptt_axis_angle_to_matrix(const double *w, double *R)
{
    double th = sptt_norm3(w);
    double k[3], c, s, v;
    if( th < 1e-15 ){
        double m[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        memcpy(R, m, sizeof m);
        return;
    }
    k[0] = w[0] / th;
    k[1] = w[1] / th;
    k[2] = w[2] / th;
    c = cos(th);
    s = sin(th);
    v = 1 - c;
    R[0] = c + k[0] * k[0] * v;
    R[1] = k[0] * k[1] * v - k[2] * s;
    R[2] = k[0] * k[2] * v + k[1] * s;
    R[3] = k[1] * k[0] * v + k[2] * s;
    R[4] = c + k[1] * k[1] * v;
    R[5] = k[1] * k[2] * v - k[0] * s;
    R[6] = k[2] * k[0] * v - k[1] * s;
    R[7] = k[2] * k[1] * v + k[0] * s;
    R[8] = c + k[2] * k[2] * v;
}

/* Inverse Rodrigues, stable near 0 and near pi. */
static inline void sptt_matrix_to_axis_angle(const double *R, double *w)
{
    double tr = R[0] + R[4] + R[8];
    double c = (tr - 1) / 2;
    double th;
    if( c > 1 ) c = 1;
    if( c < -1 ) c = -1;
    th = acos(c);
    if( th < 1e-7 ){
        w[0] = (R[7] - R[5]) / 2;
        w[1] = (R[2] - R[6]) / 2;
        w[2] = (R[3] - R[1]) / 2;
        return;
    }
    if( th > SPTT_PI - 1e-4 ){
        /* Near pi the antisymmetric part vanishes; take the axis from the symmetric part's
        ** largest diagonal entry instead. */
        double k[3];
        int i = 0;
        if( R[4] > R[0] ) i = 1;
        if( R[8] > R[4 * i] ) i = 2;
        k[i] = sqrt((R[4 * i] + 1) / 2);
        for(int j = 0; j < 3; j++)
            if( j!=i ) k[j] = (R[3 * i + j] + R[3 * j + i]) / (4 * k[i]);
        /* Fix the sign with the antisymmetric part when it is still informative. */
        if( k[0] * (R[7] - R[5]) + k[1] * (R[2] - R[6]) + k[2] * (R[3] - R[1]) < 0 ){
            k[0] = -k[0];
            k[1] = -k[1];
            k[2] = -k[2];
        }
        sptt_normalize3(k);
        w[0] = th * k[0];
        w[1] = th * k[1];
        w[2] = th * k[2];
        return;
    }
    {
        double f = th / (2 * sin(th));
        w[0] = f * (R[7] - R[5]);
        w[1] = f * (R[2] - R[6]);
        w[2] = f * (R[3] - R[1]);
    }
}

#endif
