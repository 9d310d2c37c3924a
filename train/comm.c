/*
** The one-rank communicator: every collective is the identity.
*/
#include "sptt_comm.h"

#include <stdlib.h>
#include <string.h>

static int single_iallreduce(sptt_comm *c, float *p, size_t n) { (void)c; (void)p; (void)n; return 0; }
static int single_wait(sptt_comm *c) { (void)c; return 0; }
static int single_sum(sptt_comm *c, double *p, int n) { (void)c; (void)p; (void)n; return 0; }
static int single_max(sptt_comm *c, int *p) { (void)c; (void)p; return 0; }
static int single_bcast(sptt_comm *c, void *p, size_t n) { (void)c; (void)p; (void)n; return 0; }
static void single_abort(sptt_comm *c, int status) { (void)c; exit(status); }

void sptt_comm_single(sptt_comm *c)
{
    memset(c, 0, sizeof *c);
    c->rank = 0;
    c->size = 1;
    c->nLocal = 1;
    c->xIallreduce = single_iallreduce;
    c->xWaitAll = single_wait;
    c->xAllreduceDouble = single_sum;
    c->xAllreduceMaxInt = single_max;
    c->xBcast = single_bcast;
    c->xAbort = single_abort;
}
