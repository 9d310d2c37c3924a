/*
** The fp32 model: the kernel templates instantiated with float, behind the public API of
** sptt_model.h. The gradient-check tests instantiate the same templates with double.
*/
#include "sptt_model.h"
#include "kern_model.inc"

struct sptt_model {
    kmodel *k;
};

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

int sptt_model_forward(sptt_model *m, const sptt_sample *s, int flags, float *pLoss, int *pnLabelled)
{
    double loss = 0;
    int rc = kmodel_forward(m->k, s, flags, &loss, pnLabelled);
    if( pLoss ) *pLoss = (float)loss;
    return rc;
}

int sptt_model_backward(sptt_model *m, float weight)
{
    return kmodel_backward(m->k, weight);
}

const float *sptt_model_logits(const sptt_model *m, int *pnTokens)
{
    if( pnTokens ) *pnTokens = m->k->haveForward ? m->k->T : 0;
    return m->k->haveForward ? m->k->logits : NULL;
}

const sptt_stats *sptt_model_stats(const sptt_model *m) { return &m->k->stats; }
void sptt_model_reset_stats(sptt_model *m) { memset(&m->k->stats, 0, sizeof m->k->stats); }
