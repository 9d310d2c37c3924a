/*
** Shared helpers of the train tests: the double-precision instantiation of the kernel templates,
** a tiny sample, and finite-difference checks.
**
** Finite differences run in double, on the same template code the library compiles in float.
** The 4-point stencil (8(f(h) - f(-h)) - (f(2h) - f(-2h))) / 12h has truncation error O(h^4) and
** rounding error about |L| * 1e-16 / h; with h = 1e-5 that is about 1e-10 absolute, far below the
** 1e-5 relative bound the tests state for gradients of order 1e-4 and larger. Smaller gradients
** are compared against an absolute floor: those of the learning-rate projections stay about 1e-4
** of the others (~1e-5), because Newton-Schulz normalises the update and a global rescale of the
** rates cancels. A plain 2-point difference is not enough here: five Newton-Schulz steps make the
** loss a polynomial of high degree in the fast-weight inputs.
*/
#ifndef SPTT_TRAIN_TESTUTIL_H
#define SPTT_TRAIN_TESTUTIL_H

#define SPTT_REAL_DOUBLE 1
#pragma GCC diagnostic ignored "-Wunused-function"
#include "kern_model.inc"

#include <math.h>
#include <stdio.h>

/* Random values in place: N(0, sd). */
static void fill_normal(REAL *p, size_t n, double sd, sptt_rng *r)
{
    for(size_t i = 0; i < n; i++) p[i] = (REAL)(sd * sptt_rng_normal(r));
}

/* A sample: BOS, g groups of the video (4 frames = 2 groups by default), prompt, answer. */
static void tiny_sample(const sptt_config *c, sptt_sample *s, int n_frames, int nPrompt, int nAnswer, uint64_t seed)
{
    sptt_rng r;
    sptt_rng_seed(&r, seed);
    int32_t prompt[64], answer[64];
    for(int i = 0; i < nPrompt; i++) prompt[i] = SPTT_TOK_BASE - 200 + (int32_t)sptt_rng_below(&r, 200);
    for(int i = 0; i < nAnswer; i++) answer[i] = SPTT_TOK_BYTE0 + (int32_t)sptt_rng_below(&r, (uint32_t)(c->vocab_size - SPTT_TOK_BYTE0));
    size_t nPix = (size_t)n_frames * c->frame_h * c->frame_w * 3;
    float *pix = malloc(sizeof(float) * (nPix ? nPix : 1));
    for(size_t i = 0; i < nPix; i++) pix[i] = (float)sptt_rng_uniform(&r, -1, 1);
    int rc = sptt_sample_build(c, prompt, nPrompt, answer, nAnswer, n_frames, pix, s);
    free(pix);
    if( rc ) fprintf(stderr, "tiny_sample: %s\n", sptt_errmsg());
}

/* Moves every parameter off its initial value (the gate included), so no gradient is zero by
** construction: with the output gate at its zero init every TTT parameter but the gate gets an
** exactly zero gradient. */
static void perturb_params(kmodel *m, double sd, uint64_t seed)
{
    sptt_rng r;
    sptt_rng_seed(&r, seed);
    for(size_t i = 0; i < m->n_param; i++) m->params[i] += (REAL)(sd * sptt_rng_normal(&r));
}

static double model_loss(kmodel *m, const sptt_sample *s)
{
    double loss = 0;
    int rc = kmodel_forward(m, s, 0, &loss, NULL);
    if( rc ) fprintf(stderr, "forward: %s\n", sptt_errmsg());
    return loss;
}

/* Gradient of the mean loss into m->grads. */
static double model_grad(kmodel *m, const sptt_sample *s)
{
    memset(m->grads, 0, sizeof(REAL) * m->n_param);
    double loss = 0;
    int nLab = 0;
    kmodel_forward(m, s, 0, &loss, &nLab);
    kmodel_backward(m, (REAL)1 / (REAL)(nLab ? nLab : 1));
    return loss;
}

/* Relative error with an absolute floor below which differences do not count. */
static double rel_err(double a, double b, double floor)
{
    double den = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if( den < floor ) den = floor;
    return fabs(a - b) / den;
}

/* Streaming tests: the sequence BOS, then per segment: g groups of video, then nText text tokens (so text sits
** between groups), as an sptt_sample with every target -1 and the pixels of all groups in order. */
typedef struct seg { int groups, nText; } seg;

static void build_sequence(const sptt_config *c, const seg *aSeg, int nSeg, uint64_t seed, sptt_sample *s, int32_t **paText)
{
    sptt_rng r;
    sptt_rng_seed(&r, seed);
    int hw = (c->frame_h / c->patch) * (c->frame_w / c->patch), G = 0, nT = 1, nText = 0;
    for(int i = 0; i < nSeg; i++){
        G += aSeg[i].groups;
        nT += aSeg[i].groups * (hw + 2) + aSeg[i].nText;
        nText += aSeg[i].nText;
    }
    memset(s, 0, sizeof *s);
    s->n_tokens = nT;
    s->tokens = malloc(sizeof(int32_t) * (size_t)nT);
    s->targets = malloc(sizeof(int32_t) * (size_t)nT);
    s->n_frames = 2 * G;
    size_t nPix = (size_t)s->n_frames * c->frame_h * c->frame_w * 3;
    s->pixels = malloc(sizeof(float) * (nPix ? nPix : 1));
    for(size_t i = 0; i < nPix; i++) s->pixels[i] = (float)sptt_rng_uniform(&r, -1, 1);
    *paText = malloc(sizeof(int32_t) * (size_t)(nText ? nText : 1));
    int k = 0, kt = 0;
    s->tokens[k++] = SPTT_TOK_BOS;
    for(int i = 0; i < nSeg; i++){
        for(int g = 0; g < aSeg[i].groups; g++){
            s->tokens[k++] = SPTT_TOK_VIDEO_START;
            for(int v = 0; v < hw; v++) s->tokens[k++] = SPTT_TOK_PATCH;
            s->tokens[k++] = SPTT_TOK_VIDEO_END;
        }
        for(int t = 0; t < aSeg[i].nText; t++){
            int32_t id = SPTT_TOK_BYTE0 + (int32_t)sptt_rng_below(&r, (uint32_t)(c->vocab_size - SPTT_TOK_BYTE0));
            s->tokens[k++] = id;
            (*paText)[kt++] = id;
        }
    }
    for(int i = 0; i < nT; i++) s->targets[i] = -1;
}

#endif
