/*
** Relative direction in the floor plane, as VSI-Bench defines it: standing at A and facing B,
** the angle of C counter-clockwise from the facing direction, and the sector it falls in.
*/
#include "sptt_annotate.h"
#include "sptt_math.h"

#include <math.h>

double sptt_direction_angle(const double *a, const double *b, const double *c)
{
    double f[2] = { b[0] - a[0], b[1] - a[1] }, q[2] = { c[0] - a[0], c[1] - a[1] };
    double nf = hypot(f[0], f[1]), nq = hypot(q[0], q[1]);
    double cosv, th;
    if( nf==0 || nq==0 ) return NAN;
    cosv = (f[0] * q[0] + f[1] * q[1]) / (nf * nq);
    if( cosv > 1 ) cosv = 1;
    if( cosv < -1 ) cosv = -1;
    th = acos(cosv) * 180.0 / SPTT_PI;
    /* The z of f x q says which side: negative means clockwise, i.e. to the right. */
    if( f[0] * q[1] - f[1] * q[0] < 0 ) th = 360.0 - th;
    if( th >= 360.0 ) th -= 360.0;
    return th;
}

int sptt_direction_sector(double th, int level)
{
    if( level==SPTT_DIR_HARD ){
        if( th < 90 ) return 0;
        if( th < 180 ) return 1;
        if( th < 270 ) return 2;
        return 3;
    }
    if( th < 135 ) return 0;
    if( th < 225 ) return 1;
    return 2;
}

int sptt_direction_near_boundary(double th, int level)
{
    if( level==SPTT_DIR_HARD ){
        /* The original tests only the distance to the next multiple of 90 degrees. */
        return 90.0 - fmod(th, 90.0) < 10.0;
    }
    return fabs(th) < 10 || fabs(th - 135) < 10 || fabs(th - 225) < 10 || fabs(th - 360) < 10;
}

const char *sptt_direction_name(int sector, int level)
{
    static const char *const azHard[4] = { "front-left", "back-left", "back-right", "front-right" };
    static const char *const azMid[3] = { "left", "back", "right" };
    if( level==SPTT_DIR_HARD ) return sector >= 0 && sector < 4 ? azHard[sector] : "?";
    return sector >= 0 && sector < 3 ? azMid[sector] : "?";
}
