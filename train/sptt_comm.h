/*
** Communication between data-parallel ranks, behind a small table of functions so that the
** trainer never includes mpi.h: train/comm_mpi.c fills it with Open MPI, sptt_comm_single() with
** the one-rank identity (a run without mpirun, and the unit tests).
*/
#ifndef SPTT_COMM_H
#define SPTT_COMM_H

#include <stddef.h>
#include <stdint.h>

typedef struct sptt_comm sptt_comm;
struct sptt_comm {
    int rank, size;
    int nLocal;                /* ranks on this machine, which share its cores */
    void *ctx;
    /* Starts summing n floats in place across ranks; the sum is there after xWaitAll. */
    int (*xIallreduce)(sptt_comm *c, float *p, size_t n);
    int (*xWaitAll)(sptt_comm *c);
    /* Sums n doubles in place, blocking (losses, token counts). */
    int (*xAllreduceDouble)(sptt_comm *c, double *p, int n);
    /* The largest of an int over the ranks, blocking (a stop request seen by any rank). */
    int (*xAllreduceMaxInt)(sptt_comm *c, int *p);
    /* Rank 0's n bytes to every rank. */
    int (*xBcast)(sptt_comm *c, void *p, size_t n);
    /* Ends the whole job at once (a rank that cannot go on). */
    void (*xAbort)(sptt_comm *c, int status);
    double seconds;            /* time spent waiting on communication */
};

void sptt_comm_single(sptt_comm *c);

#endif
