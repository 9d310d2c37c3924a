/*
** Open MPI behind sptt_build_comm. Scenes are shared out through two counters in a window on
** rank 0 (the next scene to take, the scenes finished), advanced with MPI_Fetch_and_op under a
** passive lock held for the whole build: a rank takes its next scene the moment it is free,
** without rank 0 having to answer, so rank 0 builds scenes like the others.
*/
#include "sptt_build.h"
#include "sptt_build_mpi.h"
#include "sptt_mpi.h"

#include <mpi.h>
#include <string.h>

typedef struct build_mpi_ctx {
    MPI_Win win;
    int64_t *base;            /* rank 0: [next, finished] */
} build_mpi_ctx;

static int fetch_add(sptt_build_comm *c, MPI_Aint disp, int64_t *pOld)
{
    build_mpi_ctx *x = c->ctx;
    int64_t one = 1;
    int err = MPI_Fetch_and_op(&one, pOld, MPI_INT64_T, 0, disp, MPI_SUM, x->win);
    if( err==MPI_SUCCESS ) err = MPI_Win_flush(0, x->win);
    return err==MPI_SUCCESS ? SPTT_OK : sptt_mpi_fail(err, "Fetch_and_op");
}

static int c_next(sptt_build_comm *c, int64_t *p)
{
    return fetch_add(c, 0, p);
}

static int c_finished(sptt_build_comm *c, int64_t *p)
{
    int rc = fetch_add(c, 1, p);
    if( rc==SPTT_OK ) (*p)++;
    return rc;
}

static int c_bcast(sptt_build_comm *c, void *p, size_t n)
{
    (void)c;
    return sptt_mpi_bcast(p, n);
}

static int c_sum(sptt_build_comm *c, double *p, int n)
{
    (void)c;
    return sptt_mpi_sum_double(p, n);
}

static int c_max(sptt_build_comm *c, int *p)
{
    (void)c;
    return sptt_mpi_max_int(p);
}

static int c_barrier(sptt_build_comm *c)
{
    (void)c;
    return sptt_mpi_barrier();
}

int sptt_build_comm_mpi_init(int *pArgc, char ***pArgv, sptt_build_comm *c)
{
    static build_mpi_ctx x;
    int err;
    memset(c, 0, sizeof *c);
    int rc = sptt_mpi_init(pArgc, pArgv, &c->rank, &c->size);
    if( rc ) return rc;
    err = MPI_Win_allocate(c->rank==0 ? 2 * (MPI_Aint)sizeof(int64_t) : 0, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &x.base, &x.win);
    if( err!=MPI_SUCCESS ) return sptt_mpi_fail(err, "Win_allocate");
    if( c->rank==0 ){
        /* Rank 0's own window memory is written under its exclusive lock, before anyone reads. */
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, x.win);
        x.base[0] = x.base[1] = 0;
        MPI_Win_unlock(0, x.win);
    }
    if( (err = MPI_Barrier(MPI_COMM_WORLD))!=MPI_SUCCESS ) return sptt_mpi_fail(err, "Barrier");
    if( (err = MPI_Win_lock_all(0, x.win))!=MPI_SUCCESS ) return sptt_mpi_fail(err, "Win_lock_all");
    c->ctx = &x;
    c->xNext = c_next;
    c->xFinished = c_finished;
    c->xBcast = c_bcast;
    c->xSumDouble = c_sum;
    c->xMaxInt = c_max;
    c->xBarrier = c_barrier;
    return SPTT_OK;
}

void sptt_build_comm_mpi_finalize(sptt_build_comm *c)
{
    build_mpi_ctx *x = c->ctx;
    if( x ){
        MPI_Win_unlock_all(x->win);
        MPI_Win_free(&x->win);
    }
    MPI_Finalize();
}
