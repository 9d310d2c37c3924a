/*
** Command-line helpers and progress reporting shared by every tool.
*/
#include "sptt_common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sptt_parse_int(const char *zOpt, const char *zVal, long lo, long hi, long *pOut)
{
    char *zEnd = NULL;
    long v;
    errno = 0;
    v = strtol(zVal, &zEnd, 10);
    if( errno || zEnd==zVal || *zEnd ){
        return sptt_fail(SPTT_EINVAL, "%s: '%s' is not an integer", zOpt, zVal);
    }
    if( v < lo || v > hi ){
        return sptt_fail(SPTT_EINVAL, "%s: %ld is out of range [%ld, %ld]", zOpt, v, lo, hi);
    }
    *pOut = v;
    return SPTT_OK;
}

int sptt_parse_double(const char *zOpt, const char *zVal, double lo, double hi, double *pOut)
{
    char *zEnd = NULL;
    double v;
    errno = 0;
    v = strtod(zVal, &zEnd);
    if( errno || zEnd==zVal || *zEnd || !isfinite(v) ){
        return sptt_fail(SPTT_EINVAL, "%s: '%s' is not a number", zOpt, zVal);
    }
    if( v < lo || v > hi ){
        return sptt_fail(SPTT_EINVAL, "%s: %g is out of range [%g, %g]", zOpt, v, lo, hi);
    }
    *pOut = v;
    return SPTT_OK;
}

int sptt_parse_size(const char *zOpt, const char *zVal, int *pW, int *pH)
{
    char *zEnd = NULL;
    long w, h;
    w = strtol(zVal, &zEnd, 10);
    if( zEnd==zVal || (*zEnd!='x' && *zEnd!='X') ) goto bad;
    zVal = zEnd + 1;
    h = strtol(zVal, &zEnd, 10);
    if( zEnd==zVal || *zEnd ) goto bad;
    if( w < 1 || h < 1 || w > 65535 || h > 65535 ){
        return sptt_fail(SPTT_EINVAL, "%s: %ldx%ld is out of range (1 to 65535 each)", zOpt, w, h);
    }
    *pW = (int)w;
    *pH = (int)h;
    return SPTT_OK;
bad:
    return sptt_fail(SPTT_EINVAL, "%s: expected WIDTHxHEIGHT, for example 320x240", zOpt);
}

char *sptt_join_args(int argc, char **argv)
{
    sptt_buf b = {0};
    for(int i = 0; i < argc; i++){
        if( i ) sptt_buf_put(&b, " ", 1);
        sptt_buf_put(&b, argv[i], strlen(argv[i]));
    }
    sptt_buf_put(&b, "", 1);
    if( b.rc ){
        sptt_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

void sptt_report(const char *zProg, const char *zFormat, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", zProg);
    va_start(ap, zFormat);
    vfprintf(stderr, zFormat, ap);
    va_end(ap);
    fputc('\n', stderr);
}

double sptt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sptt_progress_start(sptt_progress *p, const char *zWhat, uint64_t total)
{
    const char *zEnv = getenv("SPTT_PROGRESS");
    memset(p, 0, sizeof *p);
    p->zWhat = zWhat;
    p->total = total;
    p->t0 = p->tLast = sptt_now();
    if( zEnv ) p->enabled = strcmp(zEnv, "0")!=0;
    else p->enabled = isatty(2);
}

void sptt_progress_step(sptt_progress *p, uint64_t n)
{
    double t;
    p->done += n;
    if( !p->enabled ) return;
    t = sptt_now();
    if( t - p->tLast < 0.25 && p->done < p->total ) return;
    p->tLast = t;
    if( p->total ){
        fprintf(stderr, "\r%s: %llu/%llu (%.0f%%) %.1f/s   ", p->zWhat, (unsigned long long)p->done,
                (unsigned long long)p->total, 100.0 * (double)p->done / (double)p->total,
                (double)p->done / (t - p->t0 + 1e-9));
    }else{
        fprintf(stderr, "\r%s: %llu   ", p->zWhat, (unsigned long long)p->done);
    }
}

void sptt_progress_end(sptt_progress *p)
{
    if( p->enabled && p->done ) fputs("\r\033[K", stderr);
}
