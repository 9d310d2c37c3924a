/*
** The two-stage trainer (sptt_trainer.h): a run is a sequence of stages; a stage is a loop of
** steps; a step is accum micro-batches of forward and backward, one gradient sum across ranks
** and one AdamW update. Rank 0 alone writes checkpoints, metrics and the loss picture.
*/
#define _GNU_SOURCE   /* sched_getaffinity: the cores this rank may run on */
#include "sptt_ckpt.h"
#include "sptt_common.h"
#include "sptt_data.h"
#include "sptt_dataset.h"
#include "sptt_plot.h"
#include "sptt_trainer.h"
#ifdef SPTT_CUDA
#include "sptt_cuda.h"
#endif

#include <jansson.h>

#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

void sptt_train_request_stop(void)
{
    g_stop = 1;
}

void sptt_train_opts_default(sptt_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->firstStage = SPTT_STAGE_DESCRIPTIONS;
    o->lastStage = SPTT_STAGE_QA;
    o->epochs = 1;
    o->batch = 1;
    o->accum = 1;
    sptt_optim_config_default(&o->optim);
    o->optim.warmup = 10;
    o->valFraction = 0.2;
    o->nFrames = 4;
    o->maxAnswerTokens = 256;
    o->zInstruction = "These are frames of a video.\nDescribe this scene in detail as the camera walks through it.";
    o->logEvery = 10;
    o->valEvery = 0;
    o->valExamples = 64;
    o->ckptEvery = 0;
    o->keep = 2;
    o->checkEvery = 50;
    o->lengthWindow = 16;
}

static const char *stage_name(int stage)
{
    return stage==SPTT_STAGE_DESCRIPTIONS ? "descriptions" : "qa";
}

typedef struct run {
    const sptt_train_opts *o;
    sptt_comm *c;
    sqlite3 *db;
    sptt_model *m;
    sptt_tokenizer *tok;
    sptt_optim opt;
    int haveOpt;
    sptt_train_state st;
    sptt_examples train, val;
    sptt_loader *L;
    int64_t total;            /* steps of the current stage */
    char zStageDir[4096];
    char zMetrics[4096];
    /* Gradient buckets: block l's parameters are summed as soon as its backward is done. */
    float *grads;
    size_t nParam;
    int bucketsOn;
    int rcHook;
    int tailSent;             /* the head's bucket is in flight */
    /* Where a stage's time went on this rank, in seconds: forward + backward, waiting for the
    ** gradient sums and the step's totals (communication not hidden by compute, and waiting for
    ** slower ranks), the optimiser. Waiting for data is the loader's own count. */
    double tCompute, tComm, tOptim;
    double tSlowest;          /* over the steps, the slowest rank's compute in each: what a run
                              ** whose communication cost nothing would have taken */
    double *aRed;             /* a step's totals, then each rank's compute in its own slot */
#ifdef SPTT_CUDA
    sptt_cuda_model *g;       /* --device cuda: the pass runs here, and AdamW too (devOptim);
                              ** r->m's parameters and r->opt's moments are then current only
                              ** after sync_host. With the host optimiser (SPTT_TRAIN_HOST_OPTIM=1)
                              ** r->m keeps the parameters it updates, r->grads the gradients. */
    int devOptim;             /* the optimiser's state and update on the GPU */
    int hostStale;            /* the device has updated the parameters since the last sync_host */
    sptt_cuda_nccl *nccl;     /* the gradient sums on the GPUs (NULL: MPI on the host), chosen
                              ** once for the whole run by pick_allreduce */
    int allreducePicked;
#endif
} run;

/* ---------------------------------------------------------------------------------------------
** Gradient sums across ranks
*/
/* The sums run on the GPUs through NCCL (a one-rank job included, when asked for). */
static int has_nccl(const run *r)
{
#ifdef SPTT_CUDA
    return r->nccl!=NULL;
#else
    (void)r;
    return 0;
#endif
}

/* Starts the sum of the gradient range [off, off + n): on the GPUs through NCCL, else through the
** communicator from the host buffer. */
static int sum_start(run *r, size_t off, size_t n)
{
#ifdef SPTT_CUDA
    if( r->nccl ) return sptt_cuda_nccl_sum_start(r->nccl, sptt_cuda_grads_dev(r->g) + off, n);
#endif
    return r->c->xIallreduce(r->c, r->grads + off, n);
}

/* Waits for every sum started. */
static int sum_wait(run *r)
{
#ifdef SPTT_CUDA
    if( r->nccl ) return sptt_cuda_nccl_wait(r->nccl);
#endif
    return r->c->xWaitAll(r->c);
}

static void on_block_done(void *pCtx, int layer)
{
    run *r = pCtx;
    size_t off, n;
    if( !r->bucketsOn || r->rcHook ) return;
    if( !r->tailSent ){
        /* The head's gradient (the final norm and the output projection, after the last block)
        ** was finished before any block's: its sum starts first. */
        const sptt_config *cfg = sptt_model_config(r->m);
        r->tailSent = 1;
        if( (r->rcHook = sptt_model_layer_params(r->m, cfg->n_layer - 1, &off, &n)) ) return;
        if( off + n < r->nParam && (r->rcHook = sum_start(r, off + n, r->nParam - off - n)) ) return;
    }
    if( (r->rcHook = sptt_model_layer_params(r->m, layer, &off, &n))==SPTT_OK ) r->rcHook = sum_start(r, off, n);
}

/* After the last backward of a step: the embedding's range (done last in the backward) and the
** head's if no block reported, then wait for every bucket; with NCCL the summed gradients, all of
** them, then go to the host. */
static int finish_gradient_sum(run *r)
{
    const sptt_config *cfg = sptt_model_config(r->m);
    size_t off0, n0, offL, nL;
    int rc = r->rcHook, tailSent = r->tailSent, rc2;
    r->bucketsOn = 0;
    r->rcHook = 0;
    r->tailSent = 0;
    if( !has_nccl(r) && r->c->size==1 ) return rc;
    if( rc==SPTT_OK ) rc = sptt_model_layer_params(r->m, 0, &off0, &n0);
    if( rc==SPTT_OK ) rc = sptt_model_layer_params(r->m, cfg->n_layer - 1, &offL, &nL);
    if( rc==SPTT_OK && !tailSent && offL + nL < r->nParam ) rc = sum_start(r, offL + nL, r->nParam - offL - nL);
    if( rc==SPTT_OK && off0 > 0 ) rc = sum_start(r, 0, off0);
    rc2 = sum_wait(r);
    if( rc==SPTT_OK ) rc = rc2;
#ifdef SPTT_CUDA
    if( rc==SPTT_OK && r->nccl && !r->devOptim ) rc = sptt_cuda_get_grads(r->g, r->grads);
#endif
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** The pass on the host model or, with --device cuda, on the GPU copy
*/
static int pass_forward(run *r, const sptt_sample *s, float *pLoss, int *pnLab)
{
#ifdef SPTT_CUDA
    if( r->g ) return sptt_cuda_forward(r->g, s, 0, pLoss, pnLab);
#endif
    return sptt_model_forward(r->m, s, 0, pLoss, pnLab);
}

static int pass_backward(run *r, float weight)
{
#ifdef SPTT_CUDA
    if( r->g ) return sptt_cuda_backward(r->g, weight);
#endif
    return sptt_model_backward(r->m, weight);
}

static int pass_zero_grad(run *r)
{
#ifdef SPTT_CUDA
    if( r->g ) return sptt_cuda_zero_grad(r->g);
#endif
    sptt_model_zero_grad(r->m);
    return SPTT_OK;
}

#ifdef SPTT_CUDA
/* A block's gradient is complete on the device. With NCCL: its sum (and, the first time, the
** head's) starts on the GPU, ordered after the kernels that made it, while the backward goes on.
** Otherwise: copy it (and the head's) into the host buffer first. Then, either way, as the host
** model's hook. */
static void on_block_done_cuda(void *pCtx, int layer)
{
    run *r = pCtx;
    size_t off, n;
    if( !r->bucketsOn || r->rcHook ) return;
    if( r->nccl ){
        on_block_done(pCtx, layer);
        return;
    }
    if( !r->tailSent ){
        const sptt_config *cfg = sptt_model_config(r->m);
        if( (r->rcHook = sptt_model_layer_params(r->m, cfg->n_layer - 1, &off, &n)) ) return;
        if( (r->rcHook = sptt_cuda_get_grads_range(r->g, off + n, r->nParam - off - n, r->grads + off + n)) ) return;
    }
    if( (r->rcHook = sptt_model_layer_params(r->m, layer, &off, &n)) ) return;
    if( (r->rcHook = sptt_cuda_get_grads_range(r->g, off, n, r->grads + off)) ) return;
    on_block_done(pCtx, layer);
}
#endif

/* After the last backward of a step, before the sums: the gradients the hook has not copied to
** the host yet (all of them on one rank; the embedding's range, and the head's if no block
** reported, on several). */
static int grads_to_host(run *r)
{
#ifdef SPTT_CUDA
    if( r->g ){
        size_t off0, n0, offL, nL;
        const sptt_config *cfg = sptt_model_config(r->m);
        int rc;
        if( r->nccl ) return SPTT_OK;   /* finish_gradient_sum copies the sums (host optimiser) */
        if( r->c->size==1 ) return r->devOptim ? SPTT_OK : sptt_cuda_get_grads(r->g, r->grads);
        if( (rc = sptt_model_layer_params(r->m, 0, &off0, &n0)) ) return rc;
        if( (rc = sptt_model_layer_params(r->m, cfg->n_layer - 1, &offL, &nL)) ) return rc;
        if( (rc = sptt_cuda_get_grads_range(r->g, 0, off0, r->grads)) ) return rc;
        if( !r->tailSent ) rc = sptt_cuda_get_grads_range(r->g, offL + nL, r->nParam - offL - nL, r->grads + offL + nL);
        return rc;
    }
#endif
    (void)r;
    return SPTT_OK;
}

/* After the host optimiser: the device takes the updated parameters. */
static int params_to_device(run *r)
{
#ifdef SPTT_CUDA
    if( r->g ) return sptt_cuda_set_params(r->g, sptt_model_params(r->m, NULL));
#endif
    (void)r;
    return SPTT_OK;
}

/* The step's update: the gradients (summed over the ranks) divided by the step's supervised
** tokens nLab, then AdamW, on the host or, with the optimiser on the device, there (the same
** arithmetic, bit for bit); either way the device then holds the new parameters. */
static int optim_step(run *r, double nLab, double *pNorm)
{
#ifdef SPTT_CUDA
    if( r->g && r->devOptim ){
        const sptt_optim_config *c = &r->opt.cfg;
        sptt_optim_plan pl;
        int rc;
        /* summed on the host through MPI: back to the device first; otherwise they never left */
        if( !r->nccl && r->c->size > 1 && (rc = sptt_cuda_set_grads(r->g, r->grads)) ) return rc;
        if( (rc = sptt_cuda_grad_norm(r->g, nLab > 0 ? (float)(1.0 / nLab) : 1.0f, nLab > 0, pNorm)) ) return rc;
        sptt_optim_plan_step(&r->opt, *pNorm, &pl);
        rc = sptt_cuda_adamw_step(r->g, pl.scale, pl.lr[0], pl.lr[1], pl.bc1, pl.bc2, c->beta1, c->beta2, c->eps, c->weight_decay);
        if( rc ) return rc;
        r->opt.step++;
        r->hostStale = 1;
        return SPTT_OK;
    }
#endif
    if( nLab > 0 ){
        float inv = (float)(1.0 / nLab);
        for(size_t i = 0; i < r->nParam; i++) r->grads[i] *= inv;
    }
    sptt_optim_step(&r->opt, sptt_model_params(r->m, NULL), r->grads, pNorm);
    return params_to_device(r);
}

/* With the optimiser on the device: the host's parameters and moments brought up to date, for a
** checkpoint or a comparison across ranks. */
static int sync_host(run *r)
{
#ifdef SPTT_CUDA
    int rc;
    if( r->g && r->devOptim && r->hostStale ){
        if( (rc = sptt_cuda_get_params(r->g, sptt_model_params(r->m, NULL))) ) return rc;
        if( (rc = sptt_cuda_adamw_moments(r->g, r->opt.m, r->opt.v)) ) return rc;
        r->hostStale = 0;
    }
#endif
    (void)r;
    return SPTT_OK;
}

#ifdef SPTT_CUDA
/* How the gradient sums go with --device cuda, decided once and by all ranks alike: NCCL needs a
** GPU per rank (it refuses two ranks on one device) and the library on every rank. Each rank's
** device UUID (as four 32-bit words, exact in a double) and its own verdicts go to every rank in
** one sum of a vector where only the rank's slots are non-zero. Rank 0 says which path runs. */
static int pick_allreduce(run *r)
{
    sptt_comm *c = r->c;
    const int want = r->o->allreduce;
    size_t nA = 4 * (size_t)c->size + 2;
    double *a = NULL;
    unsigned char aUuid[16], aId[SPTT_CUDA_NCCL_ID_BYTES + 1];
    char zWhy[400] = "";
    int rc = SPTT_OK, version = 0, libOk, uuidOk, i, j, sh0 = -1, sh1 = -1;
    if( r->allreducePicked ) return SPTT_OK;
    r->allreducePicked = 1;
    if( want==SPTT_ALLREDUCE_MPI || (want==SPTT_ALLREDUCE_AUTO && c->size==1) ){
        if( c->rank==0 && c->size > 1 ) sptt_report("sptt-train", "gradient sums: MPI on the host (--allreduce mpi)");
        return SPTT_OK;
    }
    if( (a = sptt_calloc(nA, sizeof *a))==NULL ) return SPTT_ENOMEM;
    libOk = sptt_cuda_nccl_load(&version)==SPTT_OK;
    if( !libOk ) snprintf(zWhy, sizeof zWhy, "%s", sptt_errmsg());
    uuidOk = sptt_cuda_device_uuid(aUuid)==SPTT_OK;
    for(int k = 0; uuidOk && k < 4; k++)
        a[4 * c->rank + k] = (double)((uint32_t)aUuid[4 * k] << 24 | (uint32_t)aUuid[4 * k + 1] << 16 | (uint32_t)aUuid[4 * k + 2] << 8 | aUuid[4 * k + 3]);
    a[nA - 2] = !libOk;
    a[nA - 1] = !uuidOk;
    if( (rc = c->xAllreduceDouble(c, a, (int)nA)) ) goto done;
    if( a[nA - 1] > 0 ){
        rc = sptt_fail(SPTT_EIO, "--device cuda: %.0f rank(s) could not read their GPU's UUID", a[nA - 1]);
        goto done;
    }
    for(i = 0; i < c->size && sh0 < 0; i++){
        for(j = i + 1; j < c->size; j++){
            if( memcmp(&a[4 * i], &a[4 * j], 4 * sizeof *a)==0 ){
                sh0 = i;
                sh1 = j;
                break;
            }
        }
    }
    if( sh0 >= 0 ) snprintf(zWhy, sizeof zWhy, "ranks %d and %d share one GPU, and NCCL takes one GPU per rank", sh0, sh1);
    else if( a[nA - 2] > 0 && libOk ) snprintf(zWhy, sizeof zWhy, "%.0f rank(s) cannot load NCCL", a[nA - 2]);
    if( sh0 < 0 && a[nA - 2]==0 ){
        /* Rank 0 makes the id; the byte after it says whether that worked. */
        int bad;
        memset(aId, 0, sizeof aId);
        if( c->rank==0 && sptt_cuda_nccl_unique_id(aId)==SPTT_OK ) aId[SPTT_CUDA_NCCL_ID_BYTES] = 1;
        if( c->rank==0 && !aId[SPTT_CUDA_NCCL_ID_BYTES] ) snprintf(zWhy, sizeof zWhy, "%s", sptt_errmsg());
        if( (rc = c->xBcast(c, aId, sizeof aId)) ) goto done;
        bad = !aId[SPTT_CUDA_NCCL_ID_BYTES] || sptt_cuda_nccl_open(aId, c->size, c->rank, &r->nccl)!=SPTT_OK;
        if( bad && aId[SPTT_CUDA_NCCL_ID_BYTES] ) snprintf(zWhy, sizeof zWhy, "%s", sptt_errmsg());
        if( (rc = c->xAllreduceMaxInt(c, &bad)) ) goto done;
        if( bad ){
            sptt_cuda_nccl_close(r->nccl);
            r->nccl = NULL;
            if( !zWhy[0] ) snprintf(zWhy, sizeof zWhy, "another rank could not join the NCCL communicator");
        }
    }
    if( r->nccl ){
        if( c->rank==0 )
            sptt_report("sptt-train", "gradient sums: NCCL %d.%d.%d on the GPUs (%d rank%s, one GPU each)", version / 10000,
                        version / 100 % 100, version % 100, c->size, c->size==1 ? "" : "s");
    }else if( want==SPTT_ALLREDUCE_NCCL ){
        rc = sptt_fail(sh0 >= 0 || a[nA - 2] > 0 ? SPTT_EINVAL : SPTT_EIO, "--allreduce nccl: %s", zWhy);
    }else if( c->rank==0 ){
        sptt_report("sptt-train", "gradient sums: MPI on the host (%s)", zWhy);
    }
done:
    free(a);
    return rc;
}
#endif

/* --device cuda: a GPU copy of the host model (rank k on GPU k mod count: ranks may share one). */
static int open_device(run *r)
{
#ifdef SPTT_CUDA
    sptt_cuda_model_free(r->g);
    r->g = NULL;
    if( r->o->device==SPTT_DEVICE_CUDA ){
        int rc, nDev = sptt_cuda_device_count();
        if( nDev < 1 ) return sptt_fail(SPTT_EINVAL, "--device cuda: no CUDA device found");
        if( (rc = sptt_cuda_set_device(r->c->rank % nDev)) ) return rc;
        if( (rc = sptt_cuda_model_create(r->m, &r->g)) ) return rc;
        if( r->o->tf32 ) sptt_cuda_set_tf32(r->g, 1);
        if( r->o->bf16 ) sptt_cuda_set_bf16(r->g, 1);
        if( (rc = pick_allreduce(r)) ) return rc;
        /* NCCL's sums wait for their block by an event: the backward need not stop at each block. */
        if( r->nccl ) sptt_cuda_set_backward_hook_async(r->g, on_block_done_cuda, r);
        else sptt_cuda_set_backward_hook(r->g, on_block_done_cuda, r);
        /* The optimiser's state goes to the device with the parameters (SPTT_TRAIN_HOST_OPTIM=1
        ** keeps it on the host, the same update bit for bit, for comparison) */
        const char *zHost = getenv("SPTT_TRAIN_HOST_OPTIM");
        r->devOptim = !(zHost && zHost[0]=='1');
        r->hostStale = 0;
        if( r->devOptim && (rc = sptt_cuda_adamw_open(r->g, r->opt.group, r->opt.m, r->opt.v)) ) return rc;
        if( r->c->rank==0 && !r->o->quiet )
            printf("sptt-train: forward, backward and %s optimiser on CUDA (%s; %d rank%s on %d device%s%s)\n",
                   r->devOptim ? "the" : "(SPTT_TRAIN_HOST_OPTIM=1) not the", sptt_cuda_device_name(), r->c->size,
                   r->c->size==1 ? "" : "s", nDev, nDev==1 ? "" : "s",
                   r->o->tf32 ? "; TF32 products" : r->o->bf16 ? "; bf16 products" : "");
    }
    return SPTT_OK;
#else
    if( r->o->device==SPTT_DEVICE_CUDA ) return sptt_fail(SPTT_EINVAL, "--device cuda: this build has no CUDA; run make cuda");
    return SPTT_OK;
#endif
}

/* ---------------------------------------------------------------------------------------------
** Metrics and the loss picture (rank 0)
*/
static void metrics_line(run *r, const char *zJson)
{
    FILE *f;
    if( r->c->rank!=0 ) return;
    f = fopen(r->zMetrics, "a");
    if( f==NULL ) return;
    fprintf(f, "%s\n", zJson);
    fclose(f);
}

/* On resume, the rows logged after the checkpoint are dropped: the resumed run logs them again,
** and the file then reads as one uninterrupted run. */
static int metrics_truncate(run *r, int stage, int64_t step)
{
    uint8_t *data = NULL;
    size_t n;
    sptt_buf b = {0};
    int rc;
    if( r->c->rank!=0 ) return SPTT_OK;
    if( sptt_read_file(r->zMetrics, &data, &n) ) return SPTT_OK;
    for(char *line = (char *)data, *next; line && *line; line = next){
        json_error_t e;
        next = strchr(line, '\n');
        if( next ) *next++ = 0;
        json_t *j = json_loads(line, 0, &e);
        int s = (int)json_integer_value(json_object_get(j, "stage"));
        int64_t k = (int64_t)json_integer_value(json_object_get(j, "step"));
        if( j && (s < stage || (s==stage && k <= step)) ) sptt_buf_printf(&b, "%s\n", line);
        json_decref(j);
    }
    rc = b.rc ? b.rc : sptt_write_file(r->zMetrics, b.p ? b.p : (uint8_t *)"", b.n);
    sptt_buf_free(&b);
    free(data);
    return rc;
}

/* loss.png from metrics.jsonl: training and validation loss against the step, stage 2 after
** stage 1 on one axis. */
static void plot_losses(run *r)
{
    uint8_t *data = NULL;
    size_t n;
    double *x[2] = { NULL, NULL }, *y[2] = { NULL, NULL };
    int cnt[2] = { 0, 0 }, cap = 0;
    int64_t lastStage1 = 0;
    char zPng[4200];
    if( r->c->rank!=0 || sptt_read_file(r->zMetrics, &data, &n) ) return;
    for(int pass = 0; pass < 2; pass++){
        /* Pass 0 counts and finds where stage 1 ends; pass 1 fills. */
        for(char *line = (char *)data, *next; line && *line; line = next){
            json_error_t e;
            next = strchr(line, '\n');
            if( next ) *next = 0;
            json_t *j = json_loads(line, 0, &e);
            if( next ) *next++ = '\n';
            if( j==NULL ) continue;
            int stage = (int)json_integer_value(json_object_get(j, "stage"));
            int64_t step = (int64_t)json_integer_value(json_object_get(j, "step"));
            json_t *loss = json_object_get(j, "loss"), *vl = json_object_get(j, "val_loss");
            if( pass==0 ){
                if( stage==1 && step > lastStage1 ) lastStage1 = step;
                cap++;
            }else{
                double xs = (double)step + (stage==2 ? (double)lastStage1 : 0);
                if( json_is_number(loss) ){ x[0][cnt[0]] = xs; y[0][cnt[0]++] = json_number_value(loss); }
                if( json_is_number(vl) ){ x[1][cnt[1]] = xs; y[1][cnt[1]++] = json_number_value(vl); }
            }
            json_decref(j);
        }
        if( pass==0 ){
            for(int k = 0; k < 2; k++){
                x[k] = malloc(sizeof(double) * (size_t)(cap + 1));
                y[k] = malloc(sizeof(double) * (size_t)(cap + 1));
            }
            if( !x[0] || !x[1] || !y[0] || !y[1] ) goto done;
        }
    }
    {
        sptt_series s[2] = {
            { "training loss", x[0], y[0], cnt[0], { 31, 119, 180 } },
            { "validation loss", x[1], y[1], cnt[1], { 214, 39, 40 } },
        };
        snprintf(zPng, sizeof zPng, "%s/loss.png", r->o->zOut);
        if( sptt_plot_png(zPng, "Spatial-TTT training", "step", "cross-entropy", s, cnt[1] ? 2 : 1, 800, 500, 0) && !r->o->quiet )
            fprintf(stderr, "sptt-train: warning: %s\n", sptt_errmsg());
    }
done:
    for(int k = 0; k < 2; k++){
        free(x[k]);
        free(y[k]);
    }
    free(data);
}

/* ---------------------------------------------------------------------------------------------
** Model, tokenizer and examples of a stage
*/
static int stage_examples(run *r, int stage)
{
    int kind = stage==SPTT_STAGE_DESCRIPTIONS ? SPTT_EXAMPLES_DESCRIPTIONS : SPTT_EXAMPLES_QA;
    int rc;
    sptt_examples_free(&r->train);
    sptt_examples_free(&r->val);
    if( (rc = sptt_examples_load(r->db, kind, "train", &r->train)) ) return rc;
    if( (rc = sptt_examples_load(r->db, kind, "val", &r->val)) ) return rc;
    if( r->o->maxExamples > 0 && r->train.n > r->o->maxExamples ){
        /* The first N in the dataset's fixed order: a small set to overfit, or a quick run. */
        sptt_examples keep = r->train;
        for(int i = r->o->maxExamples; i < keep.n; i++){
            free(keep.a[i].zScene);
            free(keep.a[i].zKind);
            free(keep.a[i].zPrompt);
            free(keep.a[i].zAnswer);
        }
        r->train.n = r->o->maxExamples;
    }
    if( r->train.n==0 )
        return sptt_fail(SPTT_ESTATE, "%s: no %s examples in the training split (run sptt-annotate on the dataset first)", r->o->zDb,
                         stage_name(stage));
    return SPTT_OK;
}

/* The tokenizer of a fresh run is fitted on the training text of every stage it will train,
** so stage 2 continues with stage 1's vocabulary. */
static int fit_tokenizer(run *r, int vocab)
{
    sptt_examples ex[2];
    const char **az = NULL;
    int n = 0, rc = SPTT_OK, nEx = 0;
    memset(ex, 0, sizeof ex);
    for(int s = r->o->firstStage; s <= r->o->lastStage && rc==SPTT_OK; s++){
        rc = sptt_examples_load(r->db, s==SPTT_STAGE_DESCRIPTIONS ? SPTT_EXAMPLES_DESCRIPTIONS : SPTT_EXAMPLES_QA, "train", &ex[nEx++]);
    }
    for(int k = 0; k < nEx; k++) n += 2 * ex[k].n;
    az = sptt_malloc(sizeof(char *) * (size_t)(n + 2));
    if( az==NULL && rc==SPTT_OK ) rc = SPTT_ENOMEM;
    n = 0;
    if( rc==SPTT_OK ){
        az[n++] = r->o->zInstruction;
        for(int k = 0; k < nEx; k++){
            for(int i = 0; i < ex[k].n; i++){
                if( ex[k].a[i].zPrompt ) az[n++] = ex[k].a[i].zPrompt;
                az[n++] = ex[k].a[i].zAnswer;
            }
        }
        rc = sptt_tokenizer_fit(az, NULL, n, vocab, &r->tok);
    }
    free(az);
    for(int k = 0; k < nEx; k++) sptt_examples_free(&ex[k]);
    return rc;
}

static int fresh_model(run *r)
{
    sptt_config cfg;
    int rc;
    if( r->o->zConfig ){
        uint8_t *p;
        size_t n;
        if( (rc = sptt_read_file(r->o->zConfig, &p, &n)) ) return rc;
        rc = sptt_config_from_json((const char *)p, &cfg);
        free(p);
        if( rc ) return sptt_fail_prefix(rc, "%s: ", r->o->zConfig);
    }else{
        sptt_config_tiny(&cfg);
    }
    if( (rc = fit_tokenizer(r, r->o->vocab > 0 && r->o->vocab < cfg.vocab_size ? r->o->vocab : cfg.vocab_size)) ) return rc;
    return sptt_model_create(&cfg, r->o->seed, &r->m);
}

static void drop_model(run *r)
{
#ifdef SPTT_CUDA
    sptt_cuda_model_free(r->g);
    r->g = NULL;
#endif
    sptt_model_free(r->m);
    sptt_tokenizer_free(r->tok);
    if( r->haveOpt ) sptt_optim_free(&r->opt);
    r->m = NULL;
    r->tok = NULL;
    r->haveOpt = 0;
}

/* ---------------------------------------------------------------------------------------------
** Validation: each rank takes every size-th example; the mean over all supervised tokens.
*/
static int validate(run *r, double *pLoss)
{
    const sptt_config *cfg = sptt_model_config(r->m);
    int nVal = r->o->valExamples > 0 && r->o->valExamples < r->val.n ? r->o->valExamples : r->val.n;
    size_t nPix = (size_t)r->o->nFrames * (size_t)cfg->frame_h * (size_t)cfg->frame_w * 3;
    float *pix = sptt_malloc(sizeof(float) * (nPix ? nPix : 1));
    double sum[2] = { 0, 0 };
    int rc = pix ? SPTT_OK : SPTT_ENOMEM;
    sptt_data_opts d;
    memset(&d, 0, sizeof d);
    d.cfg = cfg;
    d.tok = r->tok;
    d.nFrames = r->o->nFrames;
    d.zInstruction = r->o->zInstruction;
    d.maxAnswerTokens = r->o->maxAnswerTokens;
    for(int i = r->c->rank; i < nVal && rc==SPTT_OK; i += r->c->size){
        sptt_sample s;
        float loss;
        int nLab;
        memset(&s, 0, sizeof s);
        if( r->o->nFrames ) rc = sptt_scene_frames(r->db, r->val.a[i].zScene, cfg, r->o->nFrames, pix);
        if( rc==SPTT_OK ) rc = sptt_example_sample(r->db, &d, &r->val.a[i], pix, &s);
        if( rc==SPTT_OK ) rc = pass_forward(r, &s, &loss, &nLab);
        if( rc==SPTT_OK ){
            sum[0] += (double)loss * nLab;
            sum[1] += nLab;
        }
        sptt_sample_free(&s);
    }
    free(pix);
    if( rc ) return rc;
    if( (rc = r->c->xAllreduceDouble(r->c, sum, 2)) ) return rc;
    *pLoss = sum[1] > 0 ? sum[0] / sum[1] : NAN;
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Checkpoints (rank 0 writes; every rank reads)
*/
static int save_checkpoint(run *r)
{
    char zPath[4200];
    int rc = sync_host(r);
    if( rc==SPTT_OK && r->c->rank==0 ){
        snprintf(zPath, sizeof zPath, "%s/ckpt-%08lld.safetensors", r->zStageDir, (long long)r->st.step);
        rc = sptt_ckpt_save(zPath, r->m, &r->opt, r->tok, &r->st);
        if( rc==SPTT_OK ) rc = sptt_ckpt_prune(r->zStageDir, r->o->keep);
    }
    /* Every rank learns whether rank 0 succeeded, so none goes on alone. */
    int bad = rc!=SPTT_OK;
    int rc2 = r->c->xAllreduceMaxInt(r->c, &bad);
    if( rc ) return rc;
    if( rc2 ) return rc2;
    if( bad ) return sptt_fail(SPTT_EIO, "rank 0 could not write the checkpoint at step %lld", (long long)r->st.step);
    return SPTT_OK;
}

static void options_json(run *r, int stage, char *z, size_t n)
{
    const sptt_train_opts *o = r->o;
    snprintf(z, n,
             "{\"stage\":\"%s\",\"steps\":%lld,\"batch\":%d,\"accum\":%d,\"ranks\":%d,\"lr\":%g,\"fast_lr\":%g,\"warmup\":%lld,"
             "\"weight_decay\":%g,\"clip\":%g,\"frames\":%d,\"val_fraction\":%g,\"seed\":%llu,\"group_by_length\":%d}",
             stage_name(stage), (long long)r->total, o->batch, o->accum, r->c->size, (double)o->optim.lr, (double)o->optim.fast_lr,
             (long long)o->optim.warmup, (double)o->optim.weight_decay, (double)o->optim.clip, o->nFrames, o->valFraction,
             (unsigned long long)o->seed, o->lengthWindow);
}

/* ---------------------------------------------------------------------------------------------
** One stage
*/
static int params_differ(run *r, int *pDiffer)
{
    size_t n;
    int rc = sync_host(r);
    const float *p = sptt_model_params(r->m, &n);
    uint64_t h = sptt_hash64(p, n * sizeof(float)), h0 = h;
    if( rc==SPTT_OK ) rc = r->c->xBcast(r->c, &h0, sizeof h0);
    *pDiffer = h!=h0;
    if( rc==SPTT_OK ) rc = r->c->xAllreduceMaxInt(r->c, pDiffer);
    return rc;
}

static void fmt_eta(double s, char *z, size_t n)
{
    if( !(s >= 0) || s > 1e7 ) snprintf(z, n, "?");
    else if( s < 60 ) snprintf(z, n, "%.0fs", s);
    else if( s < 3600 ) snprintf(z, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(z, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

/* Where the stage's time went, over every rank: a metrics row (its keys name no loss, so the
** loss curve and the resume check pass it by) and, on a terminal, one line. Compute is reported
** as the mean and the slowest rank; the gap between them is what the others spend waiting. */
static int stage_summary(run *r, int stage, int64_t steps, double tokens, double seconds)
{
    double a[5] = { r->tCompute, r->tComm, r->tOptim, sptt_loader_wait_seconds(r->L), seconds };
    int rc, n = r->c->size, nt = sptt_model_threads();
    char z[768];
    if( steps <= 0 ) return SPTT_OK;
    if( (rc = r->c->xAllreduceDouble(r->c, a, 5)) ) return rc;
    for(int i = 0; i < 5; i++) a[i] /= n;
    double rate = tokens / (a[4] > 0 ? a[4] : 1e-9);
    /* Of the time spent waiting for the sums, the part the slowest rank of each step explains;
    ** the rest is communication that compute did not hide. */
    double skew = r->tSlowest - a[0], exposed = a[1] - skew;
    if( exposed < 0 ) exposed = 0;
    snprintf(z, sizeof z, "{\"stage\":%d,\"step\":%lld,\"summary\":{\"steps\":%lld,\"ranks\":%d,\"threads\":%d,\"seconds\":%.3f,"
             "\"tokens\":%.0f,\"tokens_per_s\":%.1f,\"compute_s\":%.3f,\"compute_s_slowest\":%.3f,\"comm_wait_s\":%.3f,"
             "\"comm_exposed_s\":%.3f,\"optimizer_s\":%.3f,\"data_wait_s\":%.3f}}",
             stage, (long long)r->st.step, (long long)steps, n, nt, a[4], tokens, rate, a[0], r->tSlowest, a[1], exposed, a[2], a[3]);
    metrics_line(r, z);
    if( r->c->rank==0 && !r->o->quiet ){
        printf("sptt-train: stage %d: %.0f tokens/s on %d rank%s x %d thread%s; a rank's %.1f s: %.1f computing, %.1f waiting for the "
               "slowest rank, %.1f communicating, %.1f in the optimiser, %.1f waiting for data\n", stage, rate, n, n==1 ? "" : "s",
               nt, nt==1 ? "" : "s", a[4], a[0], skew > 0 ? skew : 0, exposed, a[2], a[3]);
    }
    return SPTT_OK;
}

/* Threads per rank: asked for, or OMP_NUM_THREADS, or this rank's cores: those it is bound to
** when mpirun binds ranks, else an equal share of the machine among the ranks on it. */
static int choose_threads(const sptt_train_opts *o, const sptt_comm *c)
{
    cpu_set_t set;
    long nOnline = sysconf(_SC_NPROCESSORS_ONLN);
    int n;
    if( o->threads > 0 ) return o->threads;
    if( getenv("OMP_NUM_THREADS") ) return sptt_model_threads();
    if( sched_getaffinity(0, sizeof set, &set)!=0 ) return sptt_model_threads();
    n = CPU_COUNT(&set);
    if( nOnline > 0 && n >= nOnline ) n = (int)(nOnline / (c->nLocal > 0 ? c->nLocal : 1));
    return n < 1 ? 1 : n;
}

static int run_stage(run *r, int stage, const char *zResume, const char *zInit)
{
    const sptt_train_opts *o = r->o;
    sptt_loader_opts lo;
    int rc = SPTT_OK;
    double t0, tokens = 0, tLog;
    int64_t stepsLogged = 0;

    if( (rc = stage_examples(r, stage)) ) return rc;
    if( zResume ){
        if( (rc = sptt_ckpt_load(zResume, &r->m, &r->opt, &r->tok, &r->st)) ) return rc;
        r->haveOpt = 1;
        if( r->st.stage!=stage ) return sptt_fail(SPTT_ECORRUPT, "%s: a checkpoint of stage %d in the folder of stage %d", zResume, r->st.stage, stage);
    }else{
        sptt_train_state init;
        if( zInit ){
            if( (rc = sptt_ckpt_load(zInit, &r->m, NULL, &r->tok, &init)) ) return rc;
        }else if( (rc = fresh_model(r)) ){
            return rc;
        }
        memset(&r->st, 0, sizeof r->st);
        r->st.stage = stage;
        r->st.seed = o->seed;
        sptt_rng r0;
        sptt_rng_seed(&r0, o->seed);
        memcpy(r->st.rng, r0.s, sizeof r->st.rng);
    }
    /* Steps of the stage: given, or enough global batches for the epochs asked. */
    {
        int64_t perStep = (int64_t)o->batch * r->c->size * o->accum;
        r->total = o->steps > 0 ? o->steps : (int64_t)ceil(o->epochs * r->train.n / (double)perStep);
        if( r->total < 1 ) r->total = 1;
    }
    if( !r->haveOpt ){
        sptt_optim_config oc = o->optim;
        oc.total = r->total;
        if( oc.warmup >= r->total ) oc.warmup = r->total / 10;
        if( (rc = sptt_optim_init(&r->opt, r->m, &oc)) ) return rc;
        r->haveOpt = 1;
    }
    options_json(r, stage, r->st.zOptions, sizeof r->st.zOptions);
    r->grads = sptt_model_grads(r->m, &r->nParam);
    sptt_model_set_backward_hook(r->m, on_block_done, r);
    if( (rc = open_device(r)) ) return rc;
    if( zResume && (rc = metrics_truncate(r, stage, r->st.step)) ) return rc;

    memset(&lo, 0, sizeof lo);
    lo.zDb = o->zDb;
    lo.data.cfg = sptt_model_config(r->m);
    lo.data.tok = r->tok;
    lo.data.nFrames = o->nFrames;
    lo.data.zInstruction = o->zInstruction;
    lo.data.maxAnswerTokens = o->maxAnswerTokens;
    lo.ex = &r->train;
    lo.seed = o->seed + (uint64_t)stage;
    lo.batch = o->batch;
    lo.rank = r->c->rank;
    lo.nRank = r->c->size;
    lo.depth = 2;
    lo.lengthWindow = o->lengthWindow;
    if( (rc = sptt_loader_open(&lo, r->st.position, &r->L)) ) return rc;

    if( r->c->rank==0 && !o->quiet )
        printf("sptt-train: stage %d (%s): %s, %d validation; step %lld of %lld; %d rank%s x batch %d x accum %d\n", stage,
               stage_name(stage), sptt_plural(r->train.n, "training example", NULL), r->val.n, (long long)r->st.step,
               (long long)r->total, r->c->size, r->c->size==1 ? "" : "s", o->batch, o->accum);
    r->tCompute = r->tComm = r->tOptim = r->tSlowest = 0;
    tokens = 0;
    int64_t step0 = r->st.step;
    t0 = tLog = sptt_now();
    free(r->aRed);
    if( (r->aRed = sptt_calloc((size_t)r->c->size + 3, sizeof *r->aRed))==NULL ) return SPTT_ENOMEM;
    while( r->st.step < r->total ){
        double *red = r->aRed;   /* loss * tokens, supervised tokens, all tokens; compute by rank */
        double norm = 0, tStep = 0;
        memset(red, 0, sizeof *red * ((size_t)r->c->size + 3));
        int64_t position = r->st.position;
        if( (rc = pass_zero_grad(r)) ) break;
        for(int a = 0; a < o->accum && rc==SPTT_OK; a++){
            const sptt_sample *aBatch;
            if( (rc = sptt_loader_next(r->L, &aBatch, &position)) ) break;
            for(int j = 0; j < o->batch && rc==SPTT_OK; j++){
                float loss;
                int nLab;
                double tc = sptt_now();
                r->bucketsOn = (r->c->size > 1 || has_nccl(r)) && a==o->accum - 1 && j==o->batch - 1;
                rc = pass_forward(r, &aBatch[j], &loss, &nLab);
                /* The gradient of the summed cross-entropy; divided by the step's token count
                ** once every rank's part is in. */
                if( rc==SPTT_OK ) rc = pass_backward(r, 1.0f);
                tStep += sptt_now() - tc;
                red[0] += (double)loss * nLab;
                red[1] += nLab;
                red[2] += aBatch[j].n_tokens;
            }
        }
        if( rc==SPTT_OK ) rc = grads_to_host(r);
        double tw = sptt_now();
        {
            int rc2 = finish_gradient_sum(r);
            if( rc==SPTT_OK ) rc = rc2;
        }
        red[3 + r->c->rank] = tStep;
        if( rc==SPTT_OK ) rc = r->c->xAllreduceDouble(r->c, red, r->c->size + 3);
        if( rc ) break;
        double to = sptt_now();
        r->tComm += to - tw;
        r->tCompute += tStep;
        {
            double slowest = 0;
            for(int k = 0; k < r->c->size; k++) if( red[3 + k] > slowest ) slowest = red[3 + k];
            r->tSlowest += slowest;
        }
        double lr = sptt_optim_lr(&r->opt.cfg, r->opt.step, 0);
        if( (rc = optim_step(r, red[1], &norm)) ) break;
        r->tOptim += sptt_now() - to;
        r->st.step++;
        r->st.position = position;
        tokens += red[2];
        double loss = red[1] > 0 ? red[0] / red[1] : 0;
        {
            char z[512];
            snprintf(z, sizeof z, "{\"stage\":%d,\"step\":%lld,\"loss\":%.9g,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%.0f,\"seconds\":%.3f}",
                     stage, (long long)r->st.step, loss, lr, norm, red[2], sptt_now() - t0);
            metrics_line(r, z);
        }
        stepsLogged++;
        if( r->c->rank==0 && !o->quiet && (r->st.step % o->logEvery==0 || r->st.step==r->total) ){
            double now = sptt_now(), el = now - t0;
            char zEta[32];
            fmt_eta(el / (double)stepsLogged * (double)(r->total - r->st.step), zEta, sizeof zEta);
            printf("sptt-train: stage %d step %lld/%lld: loss %.4f, lr %.2e, %.0f tokens/s, ETA %s\n", stage, (long long)r->st.step,
                   (long long)r->total, loss, lr, tokens / (el > 0 ? el : 1e-9), zEta);
            fflush(stdout);
            tLog = now;
        }
        if( o->checkEvery > 0 && r->c->size > 1 && r->st.step % o->checkEvery==0 ){
            int differ = 0;
            if( (rc = params_differ(r, &differ)) ) break;
            if( differ ){
                rc = sptt_fail(SPTT_ECORRUPT, "the parameters differ between ranks after step %lld", (long long)r->st.step);
                break;
            }
        }
        if( o->valEvery > 0 && r->st.step % o->valEvery==0 && r->st.step < r->total && r->val.n > 0 ){
            double vl;
            char z[160];
            if( (rc = validate(r, &vl)) ) break;
            snprintf(z, sizeof z, "{\"stage\":%d,\"step\":%lld,\"val_loss\":%.9g}", stage, (long long)r->st.step, vl);
            metrics_line(r, z);
            plot_losses(r);
        }
        {
            int stop = g_stop;
            if( (rc = r->c->xAllreduceMaxInt(r->c, &stop)) ) break;
            if( stop ){
                if( (rc = save_checkpoint(r))==SPTT_OK ){
                    plot_losses(r);
                    rc = sptt_fail(SPTT_ESTATE, "stopped at step %lld of stage %d; a checkpoint was written: continue with --resume",
                                   (long long)r->st.step, stage);
                }
                break;
            }
        }
        if( o->ckptEvery > 0 && r->st.step % o->ckptEvery==0 && r->st.step < r->total && (rc = save_checkpoint(r)) ) break;
    }
    (void)tLog;
    if( rc==SPTT_OK ) rc = stage_summary(r, stage, r->st.step - step0, tokens, sptt_now() - t0);
    if( rc==SPTT_OK ){
        double vl = NAN;
        if( r->val.n > 0 && (rc = validate(r, &vl))==SPTT_OK ){
            char z[160];
            snprintf(z, sizeof z, "{\"stage\":%d,\"step\":%lld,\"val_loss\":%.9g}", stage, (long long)r->st.step, vl);
            metrics_line(r, z);
        }
        if( rc==SPTT_OK ) rc = save_checkpoint(r);
        if( rc==SPTT_OK && r->c->rank==0 && !o->quiet ){
            if( isnan(vl) ) printf("sptt-train: stage %d done: %lld steps (no validation examples)\n", stage, (long long)r->st.step);
            else printf("sptt-train: stage %d done: %lld steps, validation loss %.4f\n", stage, (long long)r->st.step, vl);
        }
        plot_losses(r);
    }
    sptt_loader_close(r->L);
    r->L = NULL;
    return rc;
}

/* ---------------------------------------------------------------------------------------------
*/
int sptt_train(const sptt_train_opts *o, sptt_comm *c)
{
    run r;
    int rc = SPTT_OK, first = o->firstStage;
    char zResume[4200] = "", zInit[4200] = "";
    memset(&r, 0, sizeof r);
    r.o = o;
    r.c = c;
    sptt_model_set_threads(choose_threads(o, c));

    if( c->rank==0 ) rc = sptt_mkdirs(o->zOut);
    /* Rank 0 assigns the split (once for the dataset); the others read it after. */
    if( rc==SPTT_OK && c->rank==0 ){
        int nTrain, nVal;
        rc = sptt_dataset_open(o->zDb, 0, &r.db);
        if( rc==SPTT_OK ) rc = sptt_split_assign(r.db, o->valFraction, o->seed, &nTrain, &nVal);
        if( rc==SPTT_OK && !o->quiet ) printf("sptt-train: %s: %d training and %d validation scenes\n", o->zDb, nTrain, nVal);
    }
    {
        int bad = rc!=SPTT_OK, rc2 = c->xAllreduceMaxInt(c, &bad);
        if( rc ) goto done;
        if( rc2 ){ rc = rc2; goto done; }
        if( bad ){ rc = sptt_fail(SPTT_EIO, "rank 0 could not prepare the dataset"); goto done; }
    }
    if( c->rank!=0 && (rc = sptt_dataset_open(o->zDb, SPTT_DB_READONLY, &r.db)) ) goto done;
    snprintf(r.zMetrics, sizeof r.zMetrics, "%s/metrics.jsonl", o->zOut);

    /* Where to start: the newest good checkpoint of the latest stage that has one. */
    if( o->resume ){
        for(int s = o->lastStage; s >= o->firstStage && !zResume[0]; s--){
            char zDir[4200];
            snprintf(zDir, sizeof zDir, "%s/stage%d", o->zOut, s);
            if( sptt_ckpt_latest(zDir, zResume, sizeof zResume)==SPTT_OK ) first = s;
            else zResume[0] = 0;
        }
        if( !zResume[0] && c->rank==0 && !o->quiet ) printf("sptt-train: no checkpoint in %s: starting afresh\n", o->zOut);
    }else if( c->rank==0 ){
        /* A fresh run starts a fresh log. */
        remove(r.zMetrics);
    }
    if( o->zInit ) snprintf(zInit, sizeof zInit, "%s", o->zInit);

    for(int s = first; s <= o->lastStage && rc==SPTT_OK; s++){
        snprintf(r.zStageDir, sizeof r.zStageDir, "%s/stage%d", o->zOut, s);
        if( c->rank==0 && (rc = sptt_mkdirs(r.zStageDir)) ) break;
        rc = run_stage(&r, s, zResume[0] ? zResume : NULL, zResume[0] ? NULL : zInit[0] ? zInit : NULL);
        if( rc==SPTT_OK && zResume[0] && r.st.step >= r.total && s < o->lastStage ){
            /* A resumed stage that was already complete hands over like a finished one. */
        }
        zResume[0] = 0;
        /* The next stage starts from this one's final weights. */
        if( rc==SPTT_OK ) snprintf(zInit, sizeof zInit, "%s/ckpt-%08lld.safetensors", r.zStageDir, (long long)r.st.step);
        drop_model(&r);
    }

done:
    free(r.aRed);
    if( r.L ) sptt_loader_close(r.L);
    drop_model(&r);
#ifdef SPTT_CUDA
    sptt_cuda_nccl_close(r.nccl);
#endif
    sptt_examples_free(&r.train);
    sptt_examples_free(&r.val);
    sptt_dataset_close(r.db);
    return rc;
}
