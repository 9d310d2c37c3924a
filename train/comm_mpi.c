/*
** Open MPI behind sptt_comm.h. Gradient buckets are summed with non-blocking MPI_Iallreduce,
** started while the backward of earlier layers still runs, and waited for together before the
** optimiser step.
*/
#include "sptt_comm.h"
#include "sptt_common.h"
#include "sptt_comm_mpi.h"
#include "sptt_mpi.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

typedef struct mpi_ctx {
    MPI_Request *aReq;
    int nReq, capReq;
} mpi_ctx;

static int c_iallreduce(sptt_comm *c, float *p, size_t n)
{
    mpi_ctx *x = c->ctx;
    double t0 = MPI_Wtime();
    int rc = SPTT_OK;
    /* MPI counts are int: a bucket larger than that goes in pieces. */
    while( n > 0 && rc==SPTT_OK ){
        int k = n > ((size_t)1 << 30) ? 1 << 30 : (int)n, err;
        if( x->nReq==x->capReq ){
            int cap = x->capReq ? 2 * x->capReq : 64;
            MPI_Request *r = realloc(x->aReq, sizeof *r * (size_t)cap);
            if( r==NULL ){
                rc = sptt_fail(SPTT_ENOMEM, "out of memory");
                break;
            }
            x->aReq = r;
            x->capReq = cap;
        }
        err = MPI_Iallreduce(MPI_IN_PLACE, p, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &x->aReq[x->nReq]);
        if( err!=MPI_SUCCESS ) rc = sptt_mpi_fail(err, "Iallreduce");
        else x->nReq++;
        p += k;
        n -= (size_t)k;
    }
    /* Open MPI moves a non-blocking collective along only inside MPI calls: testing the earlier
    ** buckets here, between layers of the backward, is what lets them overlap with it. (A thread
    ** testing them every half millisecond was measured on 16 ranks of a 16-core machine: it hid
    ** more of the sums but slowed the compute sharing its core by as much.) */
    if( rc==SPTT_OK && x->nReq ){
        int flag;
        MPI_Testall(x->nReq, x->aReq, &flag, MPI_STATUSES_IGNORE);
    }
    c->seconds += MPI_Wtime() - t0;
    return rc;
}

static int c_wait(sptt_comm *c)
{
    mpi_ctx *x = c->ctx;
    double t0 = MPI_Wtime();
    int err = x->nReq ? MPI_Waitall(x->nReq, x->aReq, MPI_STATUSES_IGNORE) : MPI_SUCCESS;
    x->nReq = 0;
    c->seconds += MPI_Wtime() - t0;
    return err==MPI_SUCCESS ? SPTT_OK : sptt_mpi_fail(err, "Waitall");
}

/* The blocking collectives, timed into the communication total. */
static int c_sum(sptt_comm *c, double *p, int n)
{
    double t0 = MPI_Wtime();
    int rc = sptt_mpi_sum_double(p, n);
    c->seconds += MPI_Wtime() - t0;
    return rc;
}

static int c_max(sptt_comm *c, int *p)
{
    double t0 = MPI_Wtime();
    int rc = sptt_mpi_max_int(p);
    c->seconds += MPI_Wtime() - t0;
    return rc;
}

static int c_bcast(sptt_comm *c, void *p, size_t n)
{
    double t0 = MPI_Wtime();
    int rc = sptt_mpi_bcast(p, n);
    c->seconds += MPI_Wtime() - t0;
    return rc;
}

static void c_abort(sptt_comm *c, int status)
{
    (void)c;
    MPI_Abort(MPI_COMM_WORLD, status);
}

int sptt_comm_mpi_init(int *pArgc, char ***pArgv, sptt_comm *c)
{
    static mpi_ctx x;
    memset(c, 0, sizeof *c);
    int rc = sptt_mpi_init(pArgc, pArgv, &c->rank, &c->size);
    if( rc ) return rc;
    {
        /* The ranks that share this machine's cores: each takes its share of the threads. */
        MPI_Comm local;
        c->nLocal = 1;
        if( MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &local)==MPI_SUCCESS ){
            MPI_Comm_size(local, &c->nLocal);
            MPI_Comm_free(&local);
        }
    }
    c->ctx = &x;
    c->xIallreduce = c_iallreduce;
    c->xWaitAll = c_wait;
    c->xAllreduceDouble = c_sum;
    c->xAllreduceMaxInt = c_max;
    c->xBcast = c_bcast;
    c->xAbort = c_abort;
    return SPTT_OK;
}

void sptt_comm_mpi_finalize(sptt_comm *c)
{
    mpi_ctx *x = c->ctx;
    if( x ){
        free(x->aReq);
        x->aReq = NULL;
        x->nReq = x->capReq = 0;
    }
    MPI_Finalize();
}
