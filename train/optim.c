/*
** AdamW, parameter groups and the warm-up + cosine schedule (sptt_train.h).
*/
#include "sptt_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sptt_optim_config_default(sptt_optim_config *c)
{
    memset(c, 0, sizeof *c);
    c->lr = 1e-3f;
    c->fast_lr = 1e-3f;
    c->beta1 = 0.9f;
    c->beta2 = 0.95f;
    c->eps = 1e-8f;
    c->weight_decay = 0.05f;
    c->warmup = 100;
    c->total = 1000;
    c->min_ratio = 0.1f;
    c->clip = 1.0f;
}

static int ends_with(const char *z, const char *zTail)
{
    size_t n = strlen(z), k = strlen(zTail);
    return n >= k && strcmp(z + n - k, zTail)==0;
}

int sptt_optim_group(const char *z)
{
    int fast = strstr(z, ".ttt.")!=NULL && strstr(z, ".ttt.conv_")==NULL && strstr(z, ".ttt.gate_proj.")==NULL;
    int noDecay = ends_with(z, ".b") || ends_with(z, "norm") || ends_with(z, ".ln1") || ends_with(z, ".ln2") || strcmp(z, "lnf")==0 ||
                  ends_with(z, "_scale") || ends_with(z, "_offset") || strstr(z, ".gate_proj.")!=NULL;
    if( fast ) return noDecay ? SPTT_GROUP_FAST_ND : SPTT_GROUP_FAST;
    return noDecay ? SPTT_GROUP_NO_DECAY : SPTT_GROUP_DECAY;
}

double sptt_optim_lr(const sptt_optim_config *c, int64_t step, int fast)
{
    double peak = fast ? c->fast_lr : c->lr;
    if( step < c->warmup ) return peak * (double)(step + 1) / (double)c->warmup;
    if( c->total <= c->warmup ) return peak;
    double t = (double)(step - c->warmup) / (double)(c->total - c->warmup);
    if( t > 1 ) t = 1;
    return peak * (c->min_ratio + (1 - c->min_ratio) * 0.5 * (1 + cos(M_PI * t)));
}

int sptt_optim_init(sptt_optim *o, const sptt_model *m, const sptt_optim_config *c)
{
    size_t n = 0;
    int nt = sptt_model_n_tensors(m);
    memset(o, 0, sizeof *o);
    o->cfg = *c;
    for(int i = 0; i < nt; i++){
        const sptt_tensor_info *t = sptt_model_tensor(m, i);
        if( t->offset + t->numel > n ) n = t->offset + t->numel;
    }
    o->n = n;
    o->m = sptt_calloc(n ? n : 1, sizeof(float));
    o->v = sptt_calloc(n ? n : 1, sizeof(float));
    o->group = sptt_calloc(n ? n : 1, 1);
    if( !o->m || !o->v || !o->group ){
        sptt_optim_free(o);
        return SPTT_ENOMEM;
    }
    for(int i = 0; i < nt; i++){
        const sptt_tensor_info *t = sptt_model_tensor(m, i);
        memset(o->group + t->offset, sptt_optim_group(t->zName), t->numel);
    }
    return SPTT_OK;
}

void sptt_optim_free(sptt_optim *o)
{
    free(o->m);
    free(o->v);
    free(o->group);
    memset(o, 0, sizeof *o);
}

double sptt_grad_norm(const float *g, size_t n)
{
    /* Blocks of fixed size summed in order: the same result for any thread count. */
    enum { B = 4096 };
    size_t nb = (n + B - 1) / B;
    double total = 0;
    double *part = malloc(sizeof(double) * (nb ? nb : 1));
    if( part==NULL ){
        for(size_t i = 0; i < n; i++) total += (double)g[i] * g[i];
        return sqrt(total);
    }
    #pragma omp parallel for schedule(static)
    for(size_t b = 0; b < nb; b++){
        double s = 0;
        size_t end = (b + 1) * B < n ? (b + 1) * B : n;
        for(size_t i = b * B; i < end; i++) s += (double)g[i] * g[i];
        part[b] = s;
    }
    for(size_t b = 0; b < nb; b++) total += part[b];
    free(part);
    return sqrt(total);
}

/* AdamW over n parameters of one group: a loop without branches or lookups, so that the
** compiler makes it vector code. Each value is computed exactly as written, element by element. */
static void adamw_run(const sptt_optim_config *c, float *restrict p, float *restrict g, float *restrict m, float *restrict v,
                      size_t n, float scale, float a, int decay, float bc1, float bc2)
{
    float b1 = c->beta1, b2 = c->beta2, eps = c->eps, ad = a * c->weight_decay;
    if( decay ){
        #pragma omp simd
        for(size_t i = 0; i < n; i++) p[i] -= ad * p[i];
    }
    #pragma omp simd
    for(size_t i = 0; i < n; i++){
        float gi = g[i] * scale;
        g[i] = gi;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= a * (m[i] / bc1) / (sqrtf(v[i] / bc2) + eps);
    }
}

void sptt_optim_plan_step(const sptt_optim *o, double norm, sptt_optim_plan *p)
{
    const sptt_optim_config *c = &o->cfg;
    double t = (double)(o->step + 1);
    p->scale = c->clip > 0 && norm > c->clip ? (float)(c->clip / (norm + 1e-6)) : 1.0f;
    p->lr[0] = (float)sptt_optim_lr(c, o->step, 0);
    p->lr[1] = (float)sptt_optim_lr(c, o->step, 1);
    p->bc1 = (float)(1.0 - pow(c->beta1, t));
    p->bc2 = (float)(1.0 - pow(c->beta2, t));
}

void sptt_optim_step(sptt_optim *o, float *p, float *g, double *pNorm)
{
    enum { B = 16384 };
    const sptt_optim_config *c = &o->cfg;
    double norm = sptt_grad_norm(g, o->n);
    sptt_optim_plan pl;
    sptt_optim_plan_step(o, norm, &pl);
    size_t nb = (o->n + B - 1) / B;
    if( pNorm ) *pNorm = norm;
    /* Blocks over the threads; within a block, runs of one group (tensors are long runs). */
    #pragma omp parallel for schedule(static)
    for(size_t b = 0; b < nb; b++){
        size_t i = b * B, end = i + B < o->n ? i + B : o->n;
        while( i < end ){
            int grp = o->group[i];
            size_t j = i + 1;
            while( j < end && o->group[j]==grp ) j++;
            adamw_run(c, p + i, g + i, o->m + i, o->v + i, j - i, pl.scale, pl.lr[grp >= SPTT_GROUP_FAST],
                      grp==SPTT_GROUP_DECAY || grp==SPTT_GROUP_FAST, pl.bc1, pl.bc2);
            i = j;
        }
    }
    o->step++;
}
