/*
** The shared MPI calls of sptt_mpi.h.
*/
#include "sptt_common.h"
#include "sptt_mpi.h"

#include <mpi.h>

int sptt_mpi_fail(int err, const char *zWhat)
{
    char z[MPI_MAX_ERROR_STRING];
    int n = 0;
    MPI_Error_string(err, z, &n);
    return sptt_fail(SPTT_EIO, "MPI %s: %.*s", zWhat, n, z);
}

int sptt_mpi_init(int *pArgc, char ***pArgv, int *pRank, int *pSize)
{
    int err = MPI_Init(pArgc, pArgv);
    if( err!=MPI_SUCCESS ) return sptt_mpi_fail(err, "Init");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, pRank);
    MPI_Comm_size(MPI_COMM_WORLD, pSize);
    return SPTT_OK;
}

int sptt_mpi_bcast(void *p, size_t n)
{
    int err = MPI_SUCCESS;
    for(size_t at = 0; at < n && err==MPI_SUCCESS; at += (size_t)1 << 30){
        size_t k = n - at < (size_t)1 << 30 ? n - at : (size_t)1 << 30;
        err = MPI_Bcast((char *)p + at, (int)k, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
    return err==MPI_SUCCESS ? SPTT_OK : sptt_mpi_fail(err, "Bcast");
}

int sptt_mpi_sum_double(double *p, int n)
{
    int err = MPI_Allreduce(MPI_IN_PLACE, p, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return err==MPI_SUCCESS ? SPTT_OK : sptt_mpi_fail(err, "Allreduce");
}

int sptt_mpi_max_int(int *p)
{
    int err = MPI_Allreduce(MPI_IN_PLACE, p, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return err==MPI_SUCCESS ? SPTT_OK : sptt_mpi_fail(err, "Allreduce");
}

int sptt_mpi_barrier(void)
{
    int err = MPI_Barrier(MPI_COMM_WORLD);
    return err==MPI_SUCCESS ? SPTT_OK : sptt_mpi_fail(err, "Barrier");
}
