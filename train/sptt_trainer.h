/*
** The trainer: the paper's two-stage training from a dataset, data-parallel over the ranks of an
** sptt_comm, with checkpoints that resume exactly.
**
**   stage 1 (descriptions): each scene's dense walkthrough description is the answer to a fixed
**           instruction, so the fast weights learn to hold a whole scene;
**   stage 2 (qa):           each question as VSI-Bench wraps it; the answer is the option letter
**           or the number as text. Stage 2 starts from stage 1's weights.
**
** A step takes batch * ranks * accum examples; each rank's share comes from its own slice of
** the global batch (train/sptt_data.h). The gradient of the mean cross-entropy over every
** supervised token of the step is summed across ranks in per-block buckets started during the
** backward, then one AdamW update is made, identically on every rank.
*/
#ifndef SPTT_TRAINER_H
#define SPTT_TRAINER_H

#include <stdint.h>

#include "sptt_comm.h"
#include "sptt_train.h"

#define SPTT_STAGE_DESCRIPTIONS 1
#define SPTT_STAGE_QA           2

typedef struct sptt_train_opts {
    const char *zDb;            /* the dataset (read; the split is written to it once) */
    const char *zOut;           /* the run folder: checkpoints, metrics.jsonl, loss.png */
    const char *zConfig;        /* model configuration JSON; NULL: the tiny model */
    const char *zInit;          /* a checkpoint whose weights (and tokenizer) start the run */
    int firstStage, lastStage;  /* SPTT_STAGE_*: 1..1, 2..2 or 1..2 */
    int resume;                 /* continue from the newest good checkpoint in zOut */
    int64_t steps;              /* optimiser steps per stage; 0: from epochs */
    double epochs;              /* passes over the training examples per stage, when steps is 0 */
    int batch;                  /* examples per rank per micro-step */
    int accum;                  /* micro-steps per optimiser step */
    sptt_optim_config optim;    /* warmup in steps; total is set from the stage's steps */
    uint64_t seed;
    double valFraction;         /* scenes set aside for validation (stored in the dataset) */
    int nFrames;                /* video frames per example, even */
    int vocab;                  /* tokenizer size when it is fitted here (<= the model's vocab) */
    int maxAnswerTokens;        /* answers cut to this many tokens (0: none) */
    const char *zInstruction;   /* stage 1 prompt */
    int logEvery;               /* steps between progress lines and metrics rows */
    int valEvery;               /* steps between validation losses (0: at the end only) */
    int valExamples;            /* validation examples used (0: all) */
    int maxExamples;            /* training examples used (0: all): the first N in dataset order */
    int ckptEvery;              /* steps between checkpoints (0: at the end only) */
    int keep;                   /* checkpoints kept per stage */
    int checkEvery;             /* steps between the cross-rank parameter checksum */
    int lengthWindow;           /* group examples of about one length into each global batch, in
                                ** windows of this many batches (train/sptt_data.h); 0: off */
    int threads;                /* compute threads per rank; 0: OMP_NUM_THREADS if set, else the
                                ** rank's cores (those it is bound to, or its share of the machine) */
    int device;                 /* SPTT_DEVICE_*: where forward and backward run (the optimiser
                                ** stays on the host, so both devices update identically) */
    int tf32;                   /* SPTT_DEVICE_CUDA: TF32 tensor-core products */
    int bf16;                   /* SPTT_DEVICE_CUDA: bf16 tensor-core products (fp32 storage, sums) */
    int allreduce;              /* SPTT_ALLREDUCE_*: how gradients are summed across ranks */
    int quiet;
} sptt_train_opts;

#define SPTT_DEVICE_CPU  0
#define SPTT_DEVICE_CUDA 1   /* only in a CUDA build (make cuda, bin-cuda/); else an error */

/* The gradient sums: AUTO takes NCCL on the GPUs with --device cuda where every rank has a GPU
** of its own and libnccl.so.2 loads, MPI on the host otherwise; MPI always the host's; NCCL the
** GPUs' or an error (SPTT_EINVAL) where it cannot run. The CPU device always sums through MPI. */
#define SPTT_ALLREDUCE_AUTO 0
#define SPTT_ALLREDUCE_MPI  1
#define SPTT_ALLREDUCE_NCCL 2

void sptt_train_opts_default(sptt_train_opts *o);

/* Runs the stages. Returns SPTT_OK, or an error with its message (rank 0 reports it). A stop
** request (sptt_train_request_stop, e.g. from SIGTERM) ends the run after the current step with
** a checkpoint, returning SPTT_ESTATE and the message "stopped at step N". */
int sptt_train(const sptt_train_opts *o, sptt_comm *c);
void sptt_train_request_stop(void);

#endif
