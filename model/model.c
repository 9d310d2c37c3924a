/*
** The fp32 model: the kernel templates instantiated with float, behind the public API of
** sptt_model.h. The gradient-check tests instantiate the same templates with double.
**
** The time per component (sptt_stats) is measured here, between the steps of a pass, so the
** kernels stay free of bookkeeping and the double instantiation runs exactly the same steps.
*/
#include "sptt_model_int.h"

#include <omp.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* model_avx512.c: the same steps compiled for AVX-512 */
void kmodel_forward_step_avx512(kmodel *m, kstep st);
void kmodel_backward_step_avx512(kmodel *m, kstep st);

/* The steps to run: the AVX-512 build where the CPU has the instructions it was compiled for.
** SPTT_MODEL_BASELINE=1 in the environment runs the baseline build anyway, to measure against it
** or to reproduce a baseline machine's float results. */
static void (*step_fn(int backward))(kmodel *, kstep)
{
    int have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
    const char *z = getenv("SPTT_MODEL_BASELINE");
    if( have && !(z && z[0]=='1') ) return backward ? kmodel_backward_step_avx512 : kmodel_forward_step_avx512;
    return backward ? kmodel_backward_step : kmodel_forward_step;
}
#else
static void (*step_fn(int backward))(kmodel *, kstep) { return backward ? kmodel_backward_step : kmodel_forward_step; }
#endif

int sptt_model_create(const sptt_config *cfg, uint64_t seed, sptt_model **ppModel)
{
    *ppModel = NULL;
    sptt_model *m = sptt_calloc(1, sizeof *m);
    if( !m ) return SPTT_ENOMEM;
    int rc = kmodel_create(cfg, seed, &m->k);
    if( rc ){
        free(m);
        return rc;
    }
    *ppModel = m;
    return SPTT_OK;
}

void sptt_model_free(sptt_model *m)
{
    if( !m ) return;
    kmodel_free(m->k);
    free(m);
}

const sptt_config *sptt_model_config(const sptt_model *m) { return &m->k->cfg; }
int sptt_model_n_tensors(const sptt_model *m) { return m->k->n_tensor; }

const sptt_tensor_info *sptt_model_tensor(const sptt_model *m, int i)
{
    assert(i >= 0 && i < m->k->n_tensor);
    return &m->k->tab[i].info;
}

int sptt_model_find(const sptt_model *m, const char *zName)
{
    for(int i = 0; i < m->k->n_tensor; i++) if( strcmp(m->k->tab[i].zName, zName) == 0 ) return i;
    return -1;
}

float *sptt_model_params(sptt_model *m, size_t *pn)
{
    if( pn ) *pn = m->k->n_param;
    return m->k->params;
}

float *sptt_model_grads(sptt_model *m, size_t *pn)
{
    if( pn ) *pn = m->k->n_param;
    return m->k->grads;
}

void sptt_model_zero_grad(sptt_model *m)
{
    memset(m->k->grads, 0, sizeof(float) * m->k->n_param);
}

/* The component (SPTT_T_*) a step's time goes to. */
static int step_bucket(const kmodel *k, kstep st)
{
    switch( st.phase ){
    case KSTEP_EMBED: return SPTT_T_EMBED;
    case KSTEP_ATTN:  return k->P.L[st.layer].kind == SPTT_LAYER_FULL ? SPTT_T_FULL : SPTT_T_WINDOW;
    case KSTEP_TTT:   return SPTT_T_TTT;
    case KSTEP_FFN:   return SPTT_T_FFN;
    case KSTEP_HEAD:  return SPTT_T_HEAD;
    default:          return SPTT_T_PROJ;   /* QKV, OUT, UNROPE: projections, norms, rotation */
    }
}

/* Runs the steps of a pass, each one's time to its component and a block's steps to its layer
** kind. One clock reading per step boundary, so the components add up to the whole pass. */
static void run_steps(sptt_model *m, const kstep *aStep, int nStep, int backward)
{
    kmodel *k = m->k;
    void (*xStep)(kmodel *, kstep) = step_fn(backward);
    double t0 = sptt_now();
    for(int i = 0; i < nStep; i++){
        xStep(k, aStep[i]);
        double t1 = sptt_now();
        m->stats.seconds[step_bucket(k, aStep[i])] += t1 - t0;
        if( aStep[i].layer >= 0 ) m->stats.layer_seconds[k->P.L[aStep[i].layer].kind] += t1 - t0;
        /* A block's gradients are complete once the backward has left it. */
        if( backward && m->xHook && aStep[i].layer >= 0 && (i + 1==nStep || aStep[i + 1].layer!=aStep[i].layer) ){
            m->xHook(m->pHookCtx, aStep[i].layer);
            t1 = sptt_now();
        }
        t0 = t1;
    }
}

int sptt_model_forward(sptt_model *m, const sptt_sample *s, int flags, float *pLoss, int *pnLabelled)
{
    double loss = 0;
    int rc = kmodel_forward_begin(m->k, s, flags);
    if( rc==SPTT_OK ){
        run_steps(m, m->k->fwd, m->k->nFwd, 0);
        kmodel_flops(m->k, m->stats.flops);
        kmodel_forward_end(m->k, &loss, pnLabelled);
    }
    if( pLoss ) *pLoss = (float)loss;
    return rc;
}

int sptt_model_backward(sptt_model *m, float weight)
{
    int rc = kmodel_backward_begin(m->k, weight);
    if( rc==SPTT_OK ) run_steps(m, m->k->bwd, m->k->nBwd, 1);
    return rc;
}

const float *sptt_model_logits(const sptt_model *m, int *pnTokens)
{
    if( pnTokens ) *pnTokens = m->k->haveForward ? m->k->T : 0;
    return m->k->haveForward ? m->k->logits : NULL;
}

void sptt_model_set_backward_hook(sptt_model *m, void (*xHook)(void *, int), void *pCtx)
{
    m->xHook = xHook;
    m->pHookCtx = pCtx;
}

int sptt_model_layer_params(const sptt_model *m, int layer, size_t *pOffset, size_t *pN)
{
    char zPrefix[32];
    size_t lo = (size_t)-1, hi = 0;
    snprintf(zPrefix, sizeof zPrefix, "layers.%d.", layer);
    for(int i = 0; i < m->k->n_tensor; i++){
        const sptt_tensor_info *t = &m->k->tab[i].info;
        if( strncmp(t->zName, zPrefix, strlen(zPrefix))!=0 ) continue;
        if( t->offset < lo ) lo = t->offset;
        if( t->offset + t->numel > hi ) hi = t->offset + t->numel;
    }
    if( hi==0 ) return sptt_fail(SPTT_EINVAL, "layer %d: no such layer", layer);
    *pOffset = lo;
    *pN = hi - lo;
    return SPTT_OK;
}

const sptt_stats *sptt_model_stats(const sptt_model *m) { return &m->stats; }
void sptt_model_reset_stats(sptt_model *m) { memset(&m->stats, 0, sizeof m->stats); }

void sptt_model_set_threads(int n)
{
    if( n < 1 ) return;
    /* OpenMP's threads only: the kernels hold OpenBLAS to one thread and share a product's
    ** tiles among OpenMP's (model/kern/kern_common.inc). */
    omp_set_num_threads(n);
}

int sptt_model_threads(void) { return omp_get_max_threads(); }
