/*
** Spatial-TTT model on one CUDA GPU: the same model as sptt_model.h, fp32, batch 1, with the
** parameters and their gradients in one device buffer laid out exactly as sptt_model_params().
**
** Built only by `make cuda` (nvcc, sm_90); the CPU build never includes this header. The GPU model
** takes its tensor table and initial values from a host sptt_model, so names, offsets and
** initialisation are the CPU model's by construction.
**
** Products go through cuBLAS (sgemm and strided-batched sgemm), the rest through element-wise
** kernels that follow model/kern/ (the .inc files) step by step (the TTT branch's hand-written backward
** included). No atomics: every sum runs in a fixed order, so a step repeats bit for bit.
**
** TF32: sptt_cuda_set_tf32(m, 1) lets cuBLAS use TF32 tensor cores for the products (about 10
** bits of mantissa in the inputs, fp32 accumulation): several times the fp32 rate on an H200, but
** no longer within float32 noise of the CPU model: test_cuda_model checks it against the fp32
** bound scaled from u = 2^-24 to TF32's unit roundoff 2^-11. Off by default; SPTT_CUDA_TF32=1
** switches it on at creation, and sptt-train --tf32 / bench_cuda_model --tf32 ask for it.
**
** bf16: sptt_cuda_set_bf16(m, 1) runs the large single products (2^30 multiply-adds or more,
** every side 256 or more; SPTT_CUDA_BF16_MIN=n moves the limit, 0 takes every one) on bfloat16
** copies of their operands (8 bits of mantissa) on the tensor cores, fp32 storage and fp32
** accumulation; the other products get cuBLAS's FAST_16BF compute type, which on fp32 operands
** runs as TF32; from fast heads of 256 (SPTT_CUDA_BF16_MIN=0: at every width) the TTT chunk loops
** run their products on bf16 operands and Newton-Schulz in bf16 storage. Activations that only
** bf16 products read are kept as bf16 alone. Unit roundoff 2^-8, so test_cuda_model's bound is
** the fp32 one scaled by 2^16.
** SPTT_CUDA_BF16=1 at creation, sptt-train --bf16 / bench_cuda_model --bf16. One math mode at a
** time: the last one set wins. A forward's activations are laid out for its math mode and
** attention kind, so changing either discards it: the next backward needs a new forward.
*/
#ifndef SPTT_CUDA_H
#define SPTT_CUDA_H

#include "sptt_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One host thread drives a model: its work goes to that thread's default stream (the library is
** built with nvcc --default-stream per-thread), and the copies below wait on that stream only. */
typedef struct sptt_cuda_model sptt_cuda_model;

/* Number of CUDA devices usable by this process (0 when there is no GPU or no driver). */
int sptt_cuda_device_count(void);
/* Short description of the current device ("NVIDIA H200, 132 SMs, cc 9.0"), static storage. */
const char *sptt_cuda_device_name(void);
/* Binds the calling process to device `dev` (rank % count for data parallelism). */
int sptt_cuda_set_device(int dev);
/* The current device's UUID: ranks that report the same one share a GPU. */
int sptt_cuda_device_uuid(unsigned char aUuid[16]);

/* A GPU copy of host model h: same configuration, tensor table and current parameter values;
** gradients zero. */
int sptt_cuda_model_create(const sptt_model *h, sptt_cuda_model **ppModel);
void sptt_cuda_model_free(sptt_cuda_model *m);
/* The products' math mode: SPTT_CUDA_MATH_FP32 (plain fp32, the default), _TF32 or _BF16 (tensor
** cores on inputs rounded to that format; fp32 storage and sums). set_tf32 / set_bf16 (m, 1)
** select that mode, (m, 0) goes back to fp32 if that mode was the one on. */
enum { SPTT_CUDA_MATH_FP32 = 0, SPTT_CUDA_MATH_TF32 = 1, SPTT_CUDA_MATH_BF16 = 2 };
void sptt_cuda_set_math(sptt_cuda_model *m, int math);
int sptt_cuda_get_math(const sptt_cuda_model *m);
void sptt_cuda_set_tf32(sptt_cuda_model *m, int on);
void sptt_cuda_set_bf16(sptt_cuda_model *m, int on);

/* CUDA Graphs for the TTT chunk loops (on by default; SPTT_CUDA_GRAPHS=0 at creation turns them
** off): off replays nothing and launches every kernel. Results are the same either way. */
void sptt_cuda_set_graphs(sptt_cuda_model *m, int on);
/* How attention runs: SPTT_CUDA_ATT_STRIPS (cuBLAS strips of queries), SPTT_CUDA_ATT_FLASH (fused
** flash-style kernels, fp32 SIMT, also under TF32 and bf16; head_dim 8, 16, 32, 64 or 128, other
** sizes keep the strips) or SPTT_CUDA_ATT_TC (the default: fused kernels on the tensor cores with
** the mode's operands, bf16 or TF32, for head_dim 32 or 64; the strips in fp32 and other widths).
** SPTT_CUDA_FLASH=0, 1 or 2 at creation selects the first, second or third. */
enum { SPTT_CUDA_ATT_STRIPS = 0, SPTT_CUDA_ATT_FLASH = 1, SPTT_CUDA_ATT_TC = 2 };
void sptt_cuda_set_flash(sptt_cuda_model *m, int mode);
/* Graphs captured so far (and, in *pnReplayed, replays): 0 captured with graphs on means capture
** failed and the loops run eagerly. */
int sptt_cuda_graph_counts(const sptt_cuda_model *m, int *pnReplayed);

size_t sptt_cuda_n_params(const sptt_cuda_model *m);
/* Device pointers of the parameter and gradient buffers (n_params floats each). */
float *sptt_cuda_params_dev(sptt_cuda_model *m);
float *sptt_cuda_grads_dev(sptt_cuda_model *m);
/* Host <-> device copies of the whole buffers. */
int sptt_cuda_set_params(sptt_cuda_model *m, const float *aHost);
int sptt_cuda_get_params(sptt_cuda_model *m, float *aHost);
int sptt_cuda_get_grads(sptt_cuda_model *m, float *aHost);
int sptt_cuda_set_grads(sptt_cuda_model *m, const float *aHost);
int sptt_cuda_zero_grad(sptt_cuda_model *m);
/* n gradients from offset off (in floats) to aHost[0..n) */
int sptt_cuda_get_grads_range(sptt_cuda_model *m, size_t off, size_t n, float *aHost);

/* As sptt_model_forward / sptt_model_backward (flags: SPTT_FWD_ALL_LOGITS). */
int sptt_cuda_forward(sptt_cuda_model *m, const sptt_sample *s, int flags, float *pLoss, int *pnLabelled);
int sptt_cuda_backward(sptt_cuda_model *m, float weight);
/* Copies the (T, V) logits of the last forward to aHost (T*V floats; rows never computed are 0). */
int sptt_cuda_get_logits(sptt_cuda_model *m, float *aHost, int *pnTokens);
/* Copies row `row` (V floats) of the last forward's logits to aHost: what greedy decoding needs
** of a step, without moving the whole T x V table. */
int sptt_cuda_get_logits_row(sptt_cuda_model *m, int row, float *aHost);

/* As sptt_model_set_backward_hook: called once block `layer`'s gradients are complete on the
** device (the device is synchronised first, so the hook may copy them). */
void sptt_cuda_set_backward_hook(sptt_cuda_model *m, void (*xHook)(void *pCtx, int layer), void *pCtx);
/* The same hook without the synchronisation: it is called as soon as block `layer`'s gradient
** work is enqueued on the calling thread's stream, and may only enqueue work ordered after it
** (sptt_cuda_nccl_sum_start does), so the rest of the backward overlaps with that work. */
void sptt_cuda_set_backward_hook_async(sptt_cuda_model *m, void (*xHook)(void *pCtx, int layer), void *pCtx);

/* Gradient sums across ranks on the GPUs through NCCL, one GPU per rank (NCCL refuses two ranks
** on one device). The library is loaded at run time (dlopen of libnccl.so.2), so the binaries
** run where it is missing; a build made without nccl.h has no NCCL path at all.
** sptt_cuda_nccl_load: SPTT_OK where the library is usable, else an error whose message says
** why (this build has no NCCL, or the library did not load); *pVersion receives its version
** (major * 10000 + minor * 100 + patch) when it loaded. */
int sptt_cuda_nccl_load(int *pVersion);
#define SPTT_CUDA_NCCL_ID_BYTES 128
/* Rank 0 makes the job's id; the caller hands it to the other ranks (MPI_Bcast). */
int sptt_cuda_nccl_unique_id(unsigned char aId[SPTT_CUDA_NCCL_ID_BYTES]);
typedef struct sptt_cuda_nccl sptt_cuda_nccl;
/* Joins the job's communicator as `rank` of nRank on the current device (blocks until every rank
** has joined), with its own stream for the sums. */
int sptt_cuda_nccl_open(const unsigned char aId[SPTT_CUDA_NCCL_ID_BYTES], int nRank, int rank, sptt_cuda_nccl **ppComm);
/* Starts summing n floats of device memory at p in place across the ranks, ordered after all
** the work the calling thread has enqueued on its stream so far (an event) and running beside
** what it enqueues next. No two sums may overlap in memory. */
int sptt_cuda_nccl_sum_start(sptt_cuda_nccl *x, float *p, size_t n);
/* Waits until every sum started is complete. */
int sptt_cuda_nccl_wait(sptt_cuda_nccl *x);
void sptt_cuda_nccl_close(sptt_cuda_nccl *x);

/* AdamW on the device, over the gradient buffer into the parameters, for a trainer that keeps
** its optimiser state on the GPU. The arithmetic is train/optim.c's, operation by operation (no
** fused multiply-adds; the norm's double sums in sptt_grad_norm's blocks and order), so an update
** here leaves the parameters and moments the host's would, bit for bit.
** sptt_cuda_adamw_open: the per-parameter groups (SPTT_GROUP_*, n_params bytes) and the moments
** (n_params floats each) go to the device; sptt_cuda_adamw_moments brings the moments back (for a
** checkpoint). sptt_cuda_grad_norm: the gradients times inv first where scale is set (the step's
** mean over its tokens), then their global L2 norm. sptt_cuda_adamw_step: one update with the
** scalars of sptt_optim_plan_step (clip factor, the two groups' rates, bias corrections) and the
** optimiser's constants. */
int sptt_cuda_adamw_open(sptt_cuda_model *m, const unsigned char *aGroup, const float *aM, const float *aV);
int sptt_cuda_adamw_moments(sptt_cuda_model *m, float *aM, float *aV);
int sptt_cuda_grad_norm(sptt_cuda_model *m, float inv, int scale, double *pNorm);
int sptt_cuda_adamw_step(sptt_cuda_model *m, float clipScale, float lrPlain, float lrFast, float bc1, float bc2, float beta1,
                         float beta2, float eps, float weightDecay);
/* Streaming inference on the GPU: sptt_stream.h's dual cache with its state in device memory
** (model/cuda/cuda_stream.cuh). The same schedule as the CPU stream, so the same logits to float32
** noise; products in fp32 (create sets the model's math mode to fp32). The model must outlive the
** stream and is read, never written. Streams on one model (an answer runs on a copy) are driven
** from one thread: they share its cuBLAS handle and column-sum scratch, each has its own arena.
** sptt_stream.h documents each call; sptt_stream_create with opts.device = 1 runs one of these. */
typedef struct sptt_cuda_stream sptt_cuda_stream;
int sptt_cuda_stream_create(sptt_cuda_model *m, int anchorWindow, int official, int keepLogits, sptt_cuda_stream **ppS);
void sptt_cuda_stream_free(sptt_cuda_stream *s);
int sptt_cuda_stream_push_frame(sptt_cuda_stream *s, const float *frame);
int sptt_cuda_stream_push_tokens(sptt_cuda_stream *s, const int32_t *aTok, int n);
int sptt_cuda_stream_flush(sptt_cuda_stream *s);
const float *sptt_cuda_stream_logits(const sptt_cuda_stream *s, int64_t *pAt);
const float *sptt_cuda_stream_all_logits(const sptt_cuda_stream *s, int64_t *pn);
int sptt_cuda_stream_ask(sptt_cuda_stream *s, const int32_t *aPrompt, int nPrompt, int maxNew, int32_t *aOut, int *pnOut);
void sptt_cuda_stream_info(const sptt_cuda_stream *s, int64_t *pTokens, int64_t *pFinal, int *pGroups, size_t *pStateBytes,
                           size_t *pScratchBytes);
void sptt_cuda_stream_layer(const sptt_cuda_stream *s, int l, int *pKind, int *pKvRows, int *pKvCap, int *pPending,
                            int *pQueued, int64_t *pDone, int64_t *pUpdates, int64_t *pLastUpdateAt);

/* Per-component timing: with timing on, the device is synchronised after every step (slower) and
** each step's time goes to its SPTT_T_* bucket; flops are counted as the CPU model does. */
void sptt_cuda_set_timing(sptt_cuda_model *m, int on);
const sptt_stats *sptt_cuda_stats(const sptt_cuda_model *m);
void sptt_cuda_reset_stats(sptt_cuda_model *m);
int sptt_cuda_synchronize(void);
/* Starts (on) or stops the collection of a profiler started with collection off (Nsight Compute's
** --profile-from-start off), so that it sees one chosen step. */
void sptt_cuda_profiler(int on);

/* The TTT chunk loops' time by part, a diagnostic for the bench: with the split on, the loops run
** without graphs and an event is recorded after each group of launches (forward: the apply, the
** update's products, momentum, Newton-Schulz, the row norm; backward likewise, the inner
** gradient's rows and the weight gradients apart; and the branch's work outside the loops: the
** gates' small products, the rows' activations, the rest).
** sptt_cuda_ttt_split adds up what the events measured since the last call into seconds[] and the
** groups' product FLOPs into flops[], names the parts and returns SPTT_CUDA_TS_COUNT. */
#define SPTT_CUDA_TS_COUNT 16
void sptt_cuda_set_ttt_split(sptt_cuda_model *m, int on);
int sptt_cuda_ttt_split(sptt_cuda_model *m, double *seconds, double *flops, const char **azName);

/* Measured rate (FLOP/s) of an n x n x n product, best of reps, in the current math mode of m
** (fp32, TF32 or bf16 compute on fp32 operands). */
double sptt_cuda_sgemm_flops(sptt_cuda_model *m, int n, int reps);

#ifdef __cplusplus
}
#endif

#endif
