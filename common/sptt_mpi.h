/*
** The MPI calls sptt-train and sptt-build make the same way, in one place (common/mpi_util_mpi.c,
** linked only into the tools built with mpicc). Errors come back as SPTT_ codes with the MPI
** message, not as MPI's default abort, so a failed collective is reported like any other error.
*/
#ifndef SPTT_MPI_H
#define SPTT_MPI_H

#include <stddef.h>

/* MPI_Init with errors returned rather than fatal, then this process's rank and the world's size. */
int sptt_mpi_init(int *pArgc, char ***pArgv, int *pRank, int *pSize);
/* Sets the error message for MPI error code err from call zWhat; returns SPTT_EIO. */
int sptt_mpi_fail(int err, const char *zWhat);
/* Collectives over MPI_COMM_WORLD, rooted at rank 0 where they have a root. n bytes of any size
** (sent in pieces of 1 GiB, since MPI counts are int). */
int sptt_mpi_bcast(void *p, size_t n);
int sptt_mpi_sum_double(double *p, int n);
int sptt_mpi_max_int(int *p);
int sptt_mpi_barrier(void);

#endif
