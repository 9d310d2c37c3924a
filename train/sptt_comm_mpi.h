/*
** The Open MPI communicator (train/comm_mpi.c), for the tools built with mpicc.
*/
#ifndef SPTT_COMM_MPI_H
#define SPTT_COMM_MPI_H

#include "sptt_comm.h"

/* MPI_Init and the table; a process started without mpirun is a job of one rank. */
int sptt_comm_mpi_init(int *pArgc, char ***pArgv, sptt_comm *c);
void sptt_comm_mpi_finalize(sptt_comm *c);

#endif
