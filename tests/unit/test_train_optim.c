/*
** The optimiser: parameter groups by name, the schedule, AdamW against a hand computation, and
** clipping by the global norm.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_train.h"

Test(optim, groups_by_name)
{
    static const struct { const char *z; int g; } a[] = {
        { "wte", SPTT_GROUP_DECAY }, { "lm_head", SPTT_GROUP_DECAY }, { "patch.w", SPTT_GROUP_DECAY },
        { "patch.b", SPTT_GROUP_NO_DECAY }, { "lnf", SPTT_GROUP_NO_DECAY }, { "layers.3.ln1", SPTT_GROUP_NO_DECAY },
        { "layers.3.attn.q_norm", SPTT_GROUP_NO_DECAY }, { "layers.3.attn.wq", SPTT_GROUP_DECAY },
        { "layers.3.ffn.w_down", SPTT_GROUP_DECAY }, { "layers.3.ttt.w0", SPTT_GROUP_FAST }, { "layers.3.ttt.w2", SPTT_GROUP_FAST },
        { "layers.3.ttt.lr_proj.w", SPTT_GROUP_FAST }, { "layers.3.ttt.lr_proj.b", SPTT_GROUP_FAST_ND },
        { "layers.3.ttt.momentum_proj.w", SPTT_GROUP_FAST }, { "layers.3.ttt.q_scale", SPTT_GROUP_FAST_ND },
        { "layers.3.ttt.k_offset", SPTT_GROUP_FAST_ND }, { "layers.3.ttt.norm", SPTT_GROUP_FAST_ND },
        { "layers.3.ttt.gate_proj.w", SPTT_GROUP_NO_DECAY }, { "layers.3.ttt.gate_proj.b", SPTT_GROUP_NO_DECAY },
        { "layers.3.ttt.conv_q", SPTT_GROUP_DECAY },
    };
    for(size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        cr_assert_eq(sptt_optim_group(a[i].z), a[i].g, "%s: %d, expected %d", a[i].z, sptt_optim_group(a[i].z), a[i].g);
}

Test(optim, warmup_then_cosine_to_the_floor)
{
    sptt_optim_config c;
    sptt_optim_config_default(&c);
    c.lr = 1e-3f;
    c.fast_lr = 4e-3f;
    c.warmup = 10;
    c.total = 110;
    c.min_ratio = 0.1f;
    cr_assert_float_eq(sptt_optim_lr(&c, 0, 0), 1e-4, 1e-9);
    cr_assert_float_eq(sptt_optim_lr(&c, 9, 0), 1e-3, 1e-9);
    cr_assert_float_eq(sptt_optim_lr(&c, 10, 0), 1e-3, 1e-9);
    /* Half way through the cosine: the mean of peak and floor. */
    cr_assert_float_eq(sptt_optim_lr(&c, 60, 0), 0.55e-3, 1e-9);
    cr_assert_float_eq(sptt_optim_lr(&c, 110, 0), 1e-4, 1e-9);
    cr_assert_float_eq(sptt_optim_lr(&c, 500, 0), 1e-4, 1e-9);
    cr_assert_float_eq(sptt_optim_lr(&c, 60, 1), 4 * 0.55e-3, 1e-9);
}

Test(optim, adamw_matches_a_hand_computation_and_clips)
{
    sptt_config cfg;
    sptt_model *m;
    sptt_optim o;
    sptt_optim_config c;
    size_t n;
    sptt_config_tiny(&cfg);
    cr_assert_eq(sptt_model_create(&cfg, 1, &m), SPTT_OK);
    sptt_optim_config_default(&c);
    c.warmup = 2;
    c.total = 10;
    c.clip = 0.5f;
    cr_assert_eq(sptt_optim_init(&o, m, &c), SPTT_OK);
    float *p = sptt_model_params(m, &n);
    cr_assert_eq(n, o.n);
    float *g = malloc(n * sizeof(float));
    double *pd = malloc(n * sizeof(double)), *md = calloc(n, sizeof(double)), *vd = calloc(n, sizeof(double));
    for(size_t i = 0; i < n; i++) pd[i] = p[i];
    for(int step = 0; step < 3; step++){
        double norm2 = 0, norm;
        for(size_t i = 0; i < n; i++){
            g[i] = (float)(0.01 * sin(0.37 * (double)i + step));
            norm2 += (double)g[i] * g[i];
        }
        norm = sqrt(norm2);
        double scale = norm > c.clip ? c.clip / (norm + 1e-6) : 1;
        double got;
        sptt_optim_step(&o, p, g, &got);
        cr_assert_float_eq(got, norm, 1e-9 * norm);
        for(size_t i = 0; i < n; i++){
            int grp = o.group[i];
            double gi = (double)(float)((float)(0.01 * sin(0.37 * (double)i + step)) * (float)scale);
            double lr = sptt_optim_lr(&c, step, grp >= SPTT_GROUP_FAST);
            md[i] = c.beta1 * md[i] + (1 - c.beta1) * gi;
            vd[i] = c.beta2 * vd[i] + (1 - c.beta2) * gi * gi;
            if( grp==SPTT_GROUP_DECAY || grp==SPTT_GROUP_FAST ) pd[i] -= lr * c.weight_decay * pd[i];
            pd[i] -= lr * (md[i] / (1 - pow(c.beta1, step + 1))) / (sqrt(vd[i] / (1 - pow(c.beta2, step + 1))) + c.eps);
        }
        /* The clipped gradient is what the update used. */
        cr_assert_float_eq(sptt_grad_norm(g, n), c.clip, 1e-4);
    }
    for(size_t i = 0; i < n; i++) cr_assert_float_eq(p[i], pd[i], 2e-6 + 1e-5 * fabs(pd[i]), "param %zu: %g vs %g", i, p[i], pd[i]);
    cr_assert_eq(o.step, 3);
    free(g);
    free(pd);
    free(md);
    free(vd);
    sptt_optim_free(&o);
    sptt_model_free(m);
}
