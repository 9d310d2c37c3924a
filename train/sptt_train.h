/*
** The trainer's building blocks: the optimiser and its schedule.
**
** AdamW with decoupled weight decay, as the reference recipe trains: parameters fall in groups by
** name. Norm gains, biases, gates and the fast weights' scale and offset get no decay; the fast-
** weight parameters (w0, w1, w2, the learning-rate and momentum projections, q/k scale and offset,
** the TTT output norm) follow their own peak learning rate. The rate warms up linearly, then
** follows a cosine down to a fraction of the peak. Gradients are clipped by their global norm.
** Everything is deterministic: the same gradients give the same parameters, bit for bit.
*/
#ifndef SPTT_TRAIN_H
#define SPTT_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "sptt_model.h"

typedef struct sptt_optim_config {
    float lr;             /* peak learning rate of the ordinary parameters */
    float fast_lr;        /* peak learning rate of the fast-weight parameters */
    float beta1, beta2;
    float eps;
    float weight_decay;   /* decoupled: p -= lr * wd * p, on the decaying groups only */
    int64_t warmup;       /* steps of linear warm-up from 0 */
    int64_t total;        /* steps of the whole schedule; the cosine ends there */
    float min_ratio;      /* the cosine's floor as a fraction of the peak (0.1) */
    float clip;           /* global-norm clip of the gradients; 0 = none */
} sptt_optim_config;

void sptt_optim_config_default(sptt_optim_config *c);

#define SPTT_GROUP_DECAY    0   /* weights: decay, the ordinary rate */
#define SPTT_GROUP_NO_DECAY 1   /* norms, biases, gates: no decay, the ordinary rate */
#define SPTT_GROUP_FAST     2   /* fast-weight matrices and projections: decay, the fast rate */
#define SPTT_GROUP_FAST_ND  3   /* fast-weight scale, offset, norm: no decay, the fast rate */

/* The group of a parameter tensor by its name. */
int sptt_optim_group(const char *zTensor);
/* The learning rate at a step (0-based) for the ordinary (fast = 0) or the fast group. */
double sptt_optim_lr(const sptt_optim_config *c, int64_t step, int fast);

typedef struct sptt_optim {
    sptt_optim_config cfg;
    size_t n;             /* parameters */
    float *m, *v;         /* (n) first and second moments */
    uint8_t *group;       /* (n) SPTT_GROUP_* per parameter */
    int64_t step;         /* updates done */
} sptt_optim;

int sptt_optim_init(sptt_optim *o, const sptt_model *m, const sptt_optim_config *c);
void sptt_optim_free(sptt_optim *o);
/* The global L2 norm of g (accumulated in double, in a fixed order). */
double sptt_grad_norm(const float *g, size_t n);
/* One update of p from g: clips g (in place) to cfg.clip, applies AdamW at the current step's
** rates, advances the step. *pNorm receives the norm before clipping (may be NULL). */
void sptt_optim_step(sptt_optim *o, float *p, float *g, double *pNorm);

/* What the update at the current step applies, from the gradients' norm: the scalars
** sptt_optim_step computes before its loop, for an optimiser that runs the loop elsewhere (the
** GPU's, model/cuda/sptt_cuda.h), which then advances o->step itself. */
typedef struct sptt_optim_plan {
    float scale;          /* the clip's factor on the gradients; 1: none */
    float lr[2];          /* the rates of the ordinary and the fast groups */
    float bc1, bc2;       /* the moments' bias corrections */
} sptt_optim_plan;
void sptt_optim_plan_step(const sptt_optim *o, double norm, sptt_optim_plan *p);

#endif
