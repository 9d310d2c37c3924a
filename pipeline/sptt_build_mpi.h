/*
** The Open MPI side of sptt-build (pipeline/build_comm_mpi.c), for the tool built with mpicc.
*/
#ifndef SPTT_BUILD_MPI_H
#define SPTT_BUILD_MPI_H

#include "sptt_build.h"

/* MPI_Init and the table; a process started without mpirun is a job of one rank. */
int sptt_build_comm_mpi_init(int *pArgc, char ***pArgv, sptt_build_comm *c);
void sptt_build_comm_mpi_finalize(sptt_build_comm *c);

#endif
