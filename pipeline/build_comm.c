/*
** The one-process build: scenes are taken in order and every collective is the identity.
*/
#include "sptt_build.h"

#include <string.h>

typedef struct single_ctx {
    int64_t next, finished;
} single_ctx;

static int single_next(sptt_build_comm *c, int64_t *p)
{
    single_ctx *x = c->ctx;
    *p = x->next++;
    return SPTT_OK;
}

static int single_finished(sptt_build_comm *c, int64_t *p)
{
    single_ctx *x = c->ctx;
    *p = ++x->finished;
    return SPTT_OK;
}

static int single_bcast(sptt_build_comm *c, void *p, size_t n) { (void)c; (void)p; (void)n; return SPTT_OK; }
static int single_sum(sptt_build_comm *c, double *p, int n) { (void)c; (void)p; (void)n; return SPTT_OK; }
static int single_max(sptt_build_comm *c, int *p) { (void)c; (void)p; return SPTT_OK; }
static int single_barrier(sptt_build_comm *c) { (void)c; return SPTT_OK; }

void sptt_build_comm_single(sptt_build_comm *c)
{
    static _Thread_local single_ctx x;
    memset(&x, 0, sizeof x);
    memset(c, 0, sizeof *c);
    c->size = 1;
    c->ctx = &x;
    c->xNext = single_next;
    c->xFinished = single_finished;
    c->xBcast = single_bcast;
    c->xSumDouble = single_sum;
    c->xMaxInt = single_max;
    c->xBarrier = single_barrier;
}
