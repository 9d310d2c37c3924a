/*
** sptt-train: trains the Spatial-TTT model from a dataset, in two stages, on one process or as
** `mpirun -np N sptt-train ...`; or, with --dump-step, writes one forward and backward over a
** seeded synthetic batch (schemas/step_dump.md) for comparison with other implementations.
*/
#include "sptt_ckpt.h"
#include "sptt_cli.h"
#include "sptt_comm_mpi.h"
#include "sptt_model.h"
#include "sptt_trainer.h"
#ifdef SPTT_CUDA
#include "sptt_cuda.h"
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const azBuiltinCorpus[] = {
    "How many chairs are in the room? 3",
    "What is the distance between the table and the sofa in meters? 2.4",
    "Is the lamp to the left or to the right of the bed? left",
    "Which object is closer to the door, the chair or the table? the chair",
    "How big is the room in square meters? 18.5",
    "How many tables are there in the kitchen? 2",
};

/* The options of both modes. */
static const char *zDump, *zConfig, *zCorpus, *zDb, *zOut, *zInit;
static const char *zPrompt = "How many chairs are in the room?", *zAnswer = "3";
static int seed = 1, nBatch = 1, nFrames = 4, stageChoice = 2, resume, accum = 1, f64, device, tf32, bf16, allreduce;
static double perturb = -1, epochs = 1, valFraction = 0.2;
static int64_t steps;
static sptt_train_opts T;

static int parse_steps(const char *zOpt, const char *zVal, void *pOut)
{
    long v;
    int rc = sptt_parse_int(zOpt, zVal, 1, 1000000000L, &v);
    if( rc==SPTT_OK ) *(int64_t *)pOut = v;
    return rc;
}

static int parse_float(const char *zOpt, const char *zVal, void *pOut)
{
    double d;
    int rc = sptt_parse_double(zOpt, zVal, 0, 10, &d);
    if( rc==SPTT_OK ) *(float *)pOut = (float)d;
    return rc;
}

static void on_sigterm(int sig)
{
    (void)sig;
    sptt_train_request_stop();
}

#ifdef SPTT_CUDA
/* --dump-step --device cuda: the pass on a GPU copy of the model */
static int gpu_zero(void *p) { return sptt_cuda_zero_grad(p); }
static int gpu_forward(void *p, const sptt_sample *s, float *pLoss, int *pnLab)
{
    return sptt_cuda_forward(p, s, SPTT_FWD_ALL_LOGITS, pLoss, pnLab);
}
static int gpu_backward(void *p, float w) { return sptt_cuda_backward(p, w); }
static int gpu_logits(void *p, float *aOut) { return sptt_cuda_get_logits(p, aOut, NULL); }
static int gpu_grads(void *p, float *aOut) { return sptt_cuda_get_grads(p, aOut); }

static int dump_step_cuda(sptt_model *m, const sptt_sample *aBatch, int n, const sptt_tokenizer *tok, float *pLoss)
{
    sptt_cuda_model *g = NULL;
    int rc = sptt_cuda_model_create(m, &g);
    if( rc==SPTT_OK && tf32 ) sptt_cuda_set_tf32(g, 1);
    if( rc==SPTT_OK && bf16 ) sptt_cuda_set_bf16(g, 1);
    if( rc==SPTT_OK ){
        sptt_step_pass p = { g, gpu_zero, gpu_forward, gpu_backward, gpu_logits, gpu_grads };
        rc = sptt_step_dump_pass(m, &p, aBatch, n, tok, zDump, pLoss);
    }
    sptt_cuda_model_free(g);
    return rc;
}
#endif

/* --dump-step: one forward and backward on a seeded synthetic batch. */
static int dump_step(void)
{
    const char *zProg = "sptt-train";
    int rc = SPTT_OK;
    sptt_config cfg;
    sptt_model *m = NULL;
    sptt_tokenizer *tok = NULL;
    sptt_sample *aBatch = NULL;
    int32_t *aPrompt = NULL, *aAnswer = NULL;
    float *pix = NULL;

    if( zInit ){
        /* a checkpoint's model and tokenizer as they are (e.g. one written back from PyTorch by
        ** python/sptt_twin), so an outside implementation can check a trained model */
        if( (rc = sptt_ckpt_load(zInit, &m, NULL, &tok, NULL)) ) goto fail;
        cfg = *sptt_model_config(m);
    }else if( zConfig ){
        uint8_t *p;
        size_t n;
        if( (rc = sptt_read_file(zConfig, &p, &n)) ) goto fail;
        rc = sptt_config_from_json((const char *)p, &cfg);
        free(p);
        if( rc ){ sptt_fail_prefix(rc, "%s: ", zConfig); goto fail; }
    }else{
        sptt_config_tiny(&cfg);
    }

    if( zInit ){
        rc = SPTT_OK;
    }else if( zCorpus ){
        rc = sptt_tokenizer_fit_file(zCorpus, cfg.vocab_size, &tok);
    }else{
        int nText = (int)(sizeof azBuiltinCorpus / sizeof azBuiltinCorpus[0]);
        rc = sptt_tokenizer_fit(azBuiltinCorpus, NULL, nText, cfg.vocab_size, &tok);
    }
    if( rc ) goto fail;
    int nPrompt, nAnswer;
    if( (rc = sptt_tokenizer_encode(tok, zPrompt, strlen(zPrompt), &aPrompt, &nPrompt)) ) goto fail;
    if( (rc = sptt_tokenizer_encode(tok, zAnswer, strlen(zAnswer), &aAnswer, &nAnswer)) ) goto fail;

    if( !m && (rc = sptt_model_create(&cfg, (uint64_t)seed, &m)) ) goto fail;
    sptt_rng r;
    sptt_rng_seed(&r, (uint64_t)seed ^ 0x5eedULL);
    size_t nParam;
    float *params = sptt_model_params(m, &nParam);
    if( perturb < 0 ) perturb = zInit ? 0 : 0.02;   /* a checkpoint's weights are kept unless asked */
    if( perturb > 0 ) for(size_t i = 0; i < nParam; i++) params[i] += (float)(perturb * sptt_rng_normal(&r));

    aBatch = sptt_calloc((size_t)nBatch, sizeof *aBatch);
    size_t nPix = (size_t)nFrames * cfg.frame_h * cfg.frame_w * 3;
    pix = sptt_malloc(sizeof(float) * (nPix ? nPix : 1));
    if( !aBatch || !pix ){ rc = SPTT_ENOMEM; goto fail; }
    for(int b = 0; b < nBatch; b++){
        for(size_t i = 0; i < nPix; i++) pix[i] = (float)sptt_rng_uniform(&r, -1, 1);
        rc = sptt_sample_build(&cfg, aPrompt, nPrompt, aAnswer, nAnswer, (int)nFrames, pix, &aBatch[b]);
        if( rc ) goto fail;
    }
    double loss;
    if( f64 ){
        rc = sptt_step_dump_f64(m, aBatch, (int)nBatch, tok, zDump, &loss);
    }else{
        float loss32;
#ifdef SPTT_CUDA
        if( device==SPTT_DEVICE_CUDA ) rc = dump_step_cuda(m, aBatch, (int)nBatch, tok, &loss32);
        else
#endif
        rc = sptt_step_dump(m, aBatch, (int)nBatch, tok, zDump, &loss32);
        loss = loss32;
    }
    if( rc ) goto fail;
    printf("sptt-train: wrote %s: %d tensors, %zu parameters, %s of %d tokens, loss %.6f%s\n",
           zDump, sptt_model_n_tensors(m), nParam, sptt_plural(nBatch, "sequence", NULL), aBatch[0].n_tokens, loss,
           f64 ? " (double precision)" : device==SPTT_DEVICE_CUDA ? " (cuda)" : "");

fail:
    if( rc ) sptt_report(zProg, "%s", sptt_errmsg());
    if( aBatch ) for(int b = 0; b < nBatch; b++) sptt_sample_free(&aBatch[b]);
    free(aBatch);
    free(pix);
    free(aPrompt);
    free(aAnswer);
    sptt_tokenizer_free(tok);
    sptt_model_free(m);
    return rc ? sptt_exit_status(rc) : 0;
}

static int train(sptt_comm *c, int quiet)
{
    int rc;
    T.zDb = zDb;
    T.zOut = zOut;
    T.zConfig = zConfig;
    T.zInit = zInit;
    T.firstStage = stageChoice==1 ? SPTT_STAGE_QA : SPTT_STAGE_DESCRIPTIONS;
    T.lastStage = stageChoice==0 ? SPTT_STAGE_DESCRIPTIONS : SPTT_STAGE_QA;
    T.resume = resume;
    T.steps = steps;
    T.epochs = epochs;
    T.batch = nBatch;
    T.accum = accum;
    T.seed = (uint64_t)seed;
    T.valFraction = valFraction;
    T.nFrames = nFrames;
    T.device = device;
    T.tf32 = tf32;
    T.bf16 = bf16;
    T.allreduce = allreduce;
    T.quiet = quiet || c->rank!=0;
    rc = sptt_train(&T, c);
    if( rc && c->rank==0 ) sptt_report("sptt-train", "%s", sptt_errmsg());
    if( rc==SPTT_OK && c->rank==0 && !quiet )
        printf("sptt-train: checkpoints in %s/stage*/, metrics in %s/metrics.jsonl, loss curve %s/loss.png\n", zOut, zOut, zOut);
    return rc;
}

int main(int argc, char **argv)
{
    int rc, first, status;
    sptt_comm comm;
    sptt_train_opts_default(&T);
    const sptt_option aOpt[] = {
        { "db", SPTT_ARG_STRING, &zDb, .zArg = "DB", .zHelp = "the dataset to train on (its train/val split is assigned once and stored)" },
        { "out", SPTT_ARG_STRING, &zOut, .zArg = "DIR", .zHelp = "the run folder: stage1/ and stage2/ checkpoints, metrics.jsonl, loss.png" },
        { "config", SPTT_ARG_STRING, &zConfig, .zArg = "FILE",
          .zHelp = "model configuration as JSON (fields of schemas/step_dump.md; missing\nfields take the defaults of the small model); default: the tiny model" },
        { "stage", SPTT_ARG_CHOICE, &stageChoice, .zChoices = "descriptions|qa|both", .zArg = "S",
          .zHelp = "descriptions (stage 1), qa (stage 2) or both, chained (default)" },
        { "resume", SPTT_ARG_FLAG, &resume, .zHelp = "continue from the newest good checkpoint in DIR, exactly" },
        { "init", SPTT_ARG_STRING, &zInit, .zArg = "CKPT", .zHelp = "start from this checkpoint's weights and tokenizer" },
        { "steps", SPTT_ARG_FN, &steps, .xParse = parse_steps, .zArg = "N", .zHelp = "optimiser steps per stage (default: from --epochs)" },
        { "epochs", SPTT_ARG_DOUBLE, &epochs, 0.001, 1e6, .zArg = "E", .zHelp = "passes over the training examples per stage (default 1)" },
        { "batch", SPTT_ARG_INT, &nBatch, 1, 4096, .zArg = "B", .zHelp = "examples per rank per micro-step (default 1)" },
        { "accum", SPTT_ARG_INT, &accum, 1, 4096, .zArg = "K", .zHelp = "micro-steps per optimiser step (default 1)" },
        { "lr", SPTT_ARG_FN, &T.optim.lr, .xParse = parse_float, .zArg = "LR", .zHelp = "peak learning rate (default 1e-3)" },
        { "fast-lr", SPTT_ARG_FN, &T.optim.fast_lr, .xParse = parse_float, .zArg = "LR",
          .zHelp = "peak learning rate of the fast-weight parameters (default 1e-3)" },
        { "warmup", SPTT_ARG_FN, &T.optim.warmup, .xParse = parse_steps, .zArg = "N", .zHelp = "warm-up steps (default 10)" },
        { "weight-decay", SPTT_ARG_FN, &T.optim.weight_decay, .xParse = parse_float, .zArg = "W", .zHelp = "AdamW decay (default 0.05)" },
        { "clip", SPTT_ARG_FN, &T.optim.clip, .xParse = parse_float, .zArg = "C", .zHelp = "global gradient-norm clip, 0 = none (default 1)" },
        { "max-examples", SPTT_ARG_INT, &T.maxExamples, 0, 1000000000, .zArg = "N",
          .zHelp = "train on the first N examples only (0: all), e.g. to overfit a few" },
        { "check-every", SPTT_ARG_INT, &T.checkEvery, 0, 1000000000, .zArg = "N",
          .zHelp = "steps between the check that every rank holds the same parameters (default 50)" },
        { "val-fraction", SPTT_ARG_DOUBLE, &valFraction, 0, 0.9, .zArg = "F", .zHelp = "share of scenes for validation, seeded (default 0.2)" },
        { "val-every", SPTT_ARG_INT, &T.valEvery, 0, 1000000000, .zArg = "N", .zHelp = "steps between validation losses (default: at the end)" },
        { "ckpt-every", SPTT_ARG_INT, &T.ckptEvery, 0, 1000000000, .zArg = "N", .zHelp = "steps between checkpoints (default: at the end)" },
        { "keep", SPTT_ARG_INT, &T.keep, 1, 1000000, .zArg = "K", .zHelp = "checkpoints kept per stage (default 2)" },
        { "log-every", SPTT_ARG_INT, &T.logEvery, 1, 1000000000, .zArg = "N", .zHelp = "steps between progress lines (default 10)" },
        { "seed", SPTT_ARG_INT, &seed, 0, 2147483647.0, .zArg = "N", .zHelp = "seed of the initialisation, split and data order (default 1)" },
        { "group-by-length", SPTT_ARG_INT, &T.lengthWindow, 0, 1000000, .zArg = "W",
          .zHelp = "give each global batch examples of about one length, so ranks wait\nless for each other: sorted in windows of W batches (default 16; 0: off)" },
        { "threads", SPTT_ARG_INT, &T.threads, 0, 4096, .zArg = "N",
          .zHelp = "compute threads per rank (default: OMP_NUM_THREADS if set, else the\ncores this rank is bound to, or its share of the machine's cores)" },
        { "device", SPTT_ARG_CHOICE, &device, .zChoices = "cpu|cuda", .zArg = "D",
          .zHelp = "where forward, backward and the optimiser run: cpu (default) or cuda\n(a build by make cuda, bin-cuda/sptt-train; rank k uses GPU k mod count)" },
        { "tf32", SPTT_ARG_FLAG, &tf32,
          .zHelp = "--device cuda: products on TF32 tensor cores (10-bit mantissa inputs,\nfp32 sums; several times faster, no longer float32 noise of the CPU\nmodel). Also SPTT_CUDA_TF32=1" },
        { "bf16", SPTT_ARG_FLAG, &bf16,
          .zHelp = "--device cuda: products on bf16 tensor cores (8-bit mantissa inputs,\nfp32 storage and sums; faster than --tf32 where products dominate,\ncoarser). Also SPTT_CUDA_BF16=1" },
        { "allreduce", SPTT_ARG_CHOICE, &allreduce, .zChoices = "auto|mpi|nccl", .zArg = "A",
          .zHelp = "how the gradients are summed across ranks with --device cuda: nccl on\nthe GPUs (each rank needs a GPU of its own and libnccl.so.2), mpi on\nthe host, or auto (default): nccl where it can run, else mpi; rank 0\nsays which on stderr" },
        { "frames", SPTT_ARG_INT, &nFrames, 0, 4096, .zArg = "N", .zHelp = "video frames per sequence, even (default 4)" },
        { "dump-step", SPTT_ARG_STRING, &zDump, .zArg = "FILE", .zHelp = "instead of training: write one step's dump to FILE" },
        { "perturb", SPTT_ARG_DOUBLE, &perturb, 0, 10, .zArg = "S",
          .zHelp = "--dump-step: add N(0, S^2) noise to every parameter after the\ninitialisation, so every gradient is informative (default 0.02;\n0 with --init, whose checkpoint gives the model and tokenizer)" },
        { "f64", SPTT_ARG_FLAG, &f64, .zHelp = "--dump-step: run the pass in double precision on the same float\nparameters; logits, loss and gradients are written as F64" },
        { "corpus", SPTT_ARG_STRING, &zCorpus, .zArg = "FILE", .zHelp = "--dump-step: fit the tokenizer on this text file" },
        { "prompt", SPTT_ARG_STRING, &zPrompt, .zArg = "TEXT", .zHelp = "--dump-step: question text" },
        { "answer", SPTT_ARG_STRING, &zAnswer, .zArg = "TEXT", .zHelp = "--dump-step: answer text (default \"3\")" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-train",
        .zSynopsis = "--db DB --out DIR [--stage descriptions|qa|both] [--resume] [--init CKPT]\n"
                     " [--steps N | --epochs E] [--batch B] [--accum K] [--lr LR] [--seed S] [options]\n"
                     "--dump-step FILE [options]",
        .zAbout = "Trains the Spatial-TTT model on a dataset: stage 1 on the scenes' dense descriptions, stage 2\n"
                  "on their spatial questions, starting from stage 1's weights. Run it directly (one process)\n"
                  "or as `mpirun -np N sptt-train ...`: each rank takes its slice of every global batch and the\n"
                  "gradients are summed across ranks. Checkpoints resume exactly; SIGTERM ends the run after\n"
                  "the current step with a checkpoint.",
        .aOpt = aOpt,
        .zNotes = "Exit status: 0 done; 1 a failure or a stop (SIGTERM) after its checkpoint; 2 a usage error or bad input.\n",
    };
    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) return status;
    if( nFrames % 2 ) return sptt_cli_usage_error(&cli, "--frames: %d is odd; frames come in pairs", nFrames);
    if( zDump && zInit && (zConfig || zCorpus) )
        return sptt_cli_usage_error(&cli, "--dump-step with --init takes the model and tokenizer from the checkpoint: drop --config and --corpus");
#ifndef SPTT_CUDA
    if( device==SPTT_DEVICE_CUDA ) return sptt_cli_usage_error(&cli, "--device cuda: this build has no CUDA; run make cuda");
#endif
    if( tf32 && device!=SPTT_DEVICE_CUDA ) return sptt_cli_usage_error(&cli, "--tf32 is for the GPU: add --device cuda");
    if( bf16 && device!=SPTT_DEVICE_CUDA ) return sptt_cli_usage_error(&cli, "--bf16 is for the GPU: add --device cuda");
    if( allreduce==SPTT_ALLREDUCE_NCCL && device!=SPTT_DEVICE_CUDA )
        return sptt_cli_usage_error(&cli, "--allreduce nccl is for the GPU: add --device cuda");
    if( bf16 && tf32 ) return sptt_cli_usage_error(&cli, "--tf32 and --bf16 exclude each other");
    if( device==SPTT_DEVICE_CUDA && f64 ) return sptt_cli_usage_error(&cli, "--f64 runs on the host: drop --device cuda");
    if( zDump ) return dump_step();
    if( zDb==NULL || zOut==NULL ) return sptt_cli_usage_error(&cli, "--db DB and --out DIR are required to train (or --dump-step FILE)");
    if( resume && zInit ) return sptt_cli_usage_error(&cli, "--resume and --init exclude each other");
    if( (rc = sptt_comm_mpi_init(&argc, &argv, &comm)) ){
        sptt_report("sptt-train", "%s", sptt_errmsg());
        return 1;
    }
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigterm;
        sigaction(SIGTERM, &sa, NULL);
    }
    rc = train(&comm, cli.quiet);
    sptt_comm_mpi_finalize(&comm);
    return rc==SPTT_OK ? 0 : sptt_exit_status(rc)==2 && rc!=SPTT_ESTATE ? 2 : 1;
}
