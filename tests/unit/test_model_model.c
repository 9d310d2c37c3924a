/*
** Whole-model tests of model/: finite-difference gradients of every parameter tensor of a tiny
** hybrid model (2 TTT and 2 full-attention layers, 3 chunks, a 2x2x2 video grid plus text), in
** double precision; the model-level invariants; the fp32 library against the double build.
*/
#include <criterion/criterion.h>

#include <omp.h>

#include "model_testutil.h"

/* Bound on the relative error of every checked gradient (see model_testutil.h for why). */
#define GRAD_TOL 1e-5

typedef struct fdreport {
    double worst;
    char zWorst[96];
} fdreport;

/* The directional derivative along a random unit direction, then the largest-gradient element
** and one random element, each against a 4-point central difference. */
static void check_tensor(kmodel *m, const sptt_sample *s, int ti, const REAL *g, fdreport *rep, sptt_rng *r)
{
    const sptt_tensor_info *t = &m->tab[ti].info;
    REAL *p = m->params + t->offset;
    const REAL *gt = g + t->offset;
    size_t n = t->numel;
    double h = 1e-5;
    double gmax = 0;
    for(size_t i = 0; i < n; i++) if( fabs(gt[i]) > gmax ) gmax = fabs(gt[i]);
    /* gradients the Newton-Schulz normalisation makes tiny (the rate projections, ~1e-5) are
    ** compared against an absolute floor of 1e-4, i.e. to 1e-9 absolute; the others (1e-3 to 5)
    ** to 1e-5 relative */
    double floor = 1e-4;
    cr_expect_gt(gmax, 0, "%s: the gradient is zero, so the check would prove nothing", t->zName);

    REAL *u = malloc(sizeof(REAL) * n), *save = malloc(sizeof(REAL) * n);
    memcpy(save, p, sizeof(REAL) * n);
    fill_normal(u, n, 1.0, r);
    double un = 0;
    for(size_t i = 0; i < n; i++) un += u[i] * u[i];
    for(size_t i = 0; i < n; i++) u[i] /= sqrt(un);       // unit direction: the step is h itself
    double an = 0;
    for(size_t i = 0; i < n; i++) an += gt[i] * u[i];
    double f[4];
    for(int k = 0; k < 4; k++){
        double step = (k < 2 ? 1 : 2) * (k % 2 ? -h : h);
        for(size_t i = 0; i < n; i++) p[i] = save[i] + step * u[i];
        f[k] = model_loss(m, s);
    }
    memcpy(p, save, sizeof(REAL) * n);
    double fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
    double e = rel_err(fd, an, floor);
    if( e > rep->worst ){
        rep->worst = e;
        snprintf(rep->zWorst, sizeof rep->zWorst, "%s (direction)", t->zName);
    }
    cr_expect(e < GRAD_TOL, "%s: directional derivative %.10g vs finite difference %.10g (rel %.3g)",
              t->zName, an, fd, e);

    size_t imax = 0;
    for(size_t i = 0; i < n; i++) if( fabs(gt[i]) > fabs(gt[imax]) ) imax = i;
    size_t pick[2] = { imax, (size_t)sptt_rng_below(r, (uint32_t)n) };
    for(int k = 0; k < 2; k++){
        size_t i = pick[k];
        REAL v = p[i];
        for(int k2 = 0; k2 < 4; k2++){
            p[i] = v + (k2 < 2 ? 1 : 2) * (k2 % 2 ? -h : h);
            f[k2] = model_loss(m, s);
        }
        p[i] = v;
        fd = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * h);
        e = rel_err(fd, gt[i], floor);
        if( e > rep->worst ){
            rep->worst = e;
            snprintf(rep->zWorst, sizeof rep->zWorst, "%s[%zu]", t->zName, i);
        }
        cr_expect(e < GRAD_TOL, "%s[%zu]: analytic %.10g vs finite difference %.10g (rel %.3g, max |g| %.3g)",
                  t->zName, i, (double)gt[i], fd, e, gmax);
    }
    free(u);
    free(save);
}

static void whole_model_check(sptt_config *c, int n_frames, int nPrompt, int nAnswer, const char *zWhat)
{
    kmodel *m;
    cr_assert_eq(kmodel_create(c, 42, &m), SPTT_OK, "%s", sptt_errmsg());
    perturb_params(m, 0.05, 7);
    sptt_sample s;
    tiny_sample(c, &s, n_frames, nPrompt, nAnswer, 3);
    model_grad(m, &s);
    REAL *g = malloc(sizeof(REAL) * m->n_param);
    memcpy(g, m->grads, sizeof(REAL) * m->n_param);
    fdreport rep = { 0, "" };
    sptt_rng r;
    sptt_rng_seed(&r, 11);
    for(int i = 0; i < m->n_tensor; i++) check_tensor(m, &s, i, g, &rep, &r);
    fprintf(stderr, "# %s: %d tensors, T=%d, %d chunks; worst relative error %.3g at %s\n",
            zWhat, m->n_tensor, s.n_tokens, ttt_n_chunk(s.n_tokens, c->chunk), rep.worst, rep.zWorst);
    free(g);
    sptt_sample_free(&s);
    kmodel_free(m);
}

Test(model_grad, tiny_hybrid_every_tensor, .timeout = 120)
{
    sptt_config c;
    sptt_config_tiny(&c);
    // T = 1 + 2*(4+2) + 3 + 1 + 3 + 1 = 21 tokens: chunks of 8 give 3 chunks, 2 updates, so the
    // momentum gate receives gradient too
    whole_model_check(&c, 4, 3, 3, "prenorm, muon, momentum, conv");
}

Test(model_grad, tiny_postnorm_no_muon_two_chunks, .timeout = 120)
{
    sptt_config c;
    sptt_config_tiny(&c);
    c.prenorm = 0;
    c.use_muon = 0;
    c.use_momentum = 0;
    c.tie_embeddings = 1;
    // T = 1 + 2*(4+2) + 1 + 1 + 1 + 1 = 17 tokens in chunks of 9: 2 chunks, one update
    c.chunk = 9;
    whole_model_check(&c, 4, 1, 1, "postnorm, plain update, tied embeddings, 2 chunks");
}

// ----------------------------------------------------------------------------
// Invariants

/* Copies every tensor of `from` that `to` has, by name. */
static void copy_by_name(kmodel *to, const kmodel *from)
{
    for(int i = 0; i < to->n_tensor; i++){
        int j;
        for(j = 0; j < from->n_tensor; j++) if( strcmp(to->tab[i].zName, from->tab[j].zName) == 0 ) break;
        cr_assert_lt(j, from->n_tensor, "%s missing", to->tab[i].zName);
        cr_assert_eq(to->tab[i].info.numel, from->tab[j].info.numel);
        memcpy(to->params + to->tab[i].info.offset, from->params + from->tab[j].info.offset,
               sizeof(REAL) * to->tab[i].info.numel);
    }
}

static double max_logit_diff(kmodel *a, kmodel *b, const sptt_sample *s)
{
    cr_assert_eq(kmodel_forward(a, s, SPTT_FWD_ALL_LOGITS, NULL, NULL), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(kmodel_forward(b, s, SPTT_FWD_ALL_LOGITS, NULL, NULL), SPTT_OK, "%s", sptt_errmsg());
    double d = 0;
    for(size_t i = 0; i < (size_t)s->n_tokens * a->cfg.vocab_size; i++) d = fmax(d, fabs(a->logits[i] - b->logits[i]));
    return d;
}

Test(invariants, closed_gate_makes_a_ttt_layer_its_window_layer)
{
    sptt_config c, cs;
    sptt_config_tiny(&c);
    cs = c;
    cs.use_ttt = 0;
    kmodel *a, *b;
    cr_assert_eq(kmodel_create(&c, 1, &a), SPTT_OK);
    cr_assert_eq(kmodel_create(&cs, 2, &b), SPTT_OK);
    perturb_params(a, 0.05, 3);
    for(int l = 0; l < c.n_layer; l++){
        if( a->P.L[l].kind != SPTT_LAYER_TTT ) continue;
        memset(a->P.L[l].t.w_gate, 0, sizeof(REAL) * c.ttt_heads * c.hidden);
        memset(a->P.L[l].t.b_gate, 0, sizeof(REAL) * c.ttt_heads);
    }
    copy_by_name(b, a);
    sptt_sample s;
    tiny_sample(&c, &s, 4, 3, 3, 5);
    cr_expect_eq(max_logit_diff(a, b, &s), 0, "a closed gate must leave exactly the window branch");
    // and every TTT parameter but the gate then gets an exactly zero gradient
    model_grad(a, &s);
    for(int i = 0; i < a->n_tensor; i++){
        const char *z = a->tab[i].zName;
        if( !strstr(z, ".ttt.") || strstr(z, "gate_proj") ) continue;
        for(size_t k = 0; k < a->tab[i].info.numel; k++) cr_assert_eq(a->grads[a->tab[i].info.offset + k], 0, "%s", z);
    }
    sptt_sample_free(&s);
    kmodel_free(a);
    kmodel_free(b);
}

Test(invariants, window_covering_the_sequence_without_ttt_is_the_full_baseline)
{
    sptt_config c, cf;
    sptt_config_tiny(&c);
    c.use_ttt = 0;
    c.window = 64;
    cf = c;
    cf.all_full = 1;
    kmodel *a, *b;
    cr_assert_eq(kmodel_create(&c, 1, &a), SPTT_OK);
    cr_assert_eq(kmodel_create(&cf, 2, &b), SPTT_OK);
    perturb_params(a, 0.05, 3);
    copy_by_name(b, a);
    sptt_sample s;
    tiny_sample(&c, &s, 4, 3, 3, 5);
    cr_assert_lt(s.n_tokens, 64);
    cr_expect_eq(max_logit_diff(a, b, &s), 0);
    // a window shorter than the sequence does change the result
    a->cfg.window = 4;
    cr_expect_gt(max_logit_diff(a, b, &s), 1e-6);
    sptt_sample_free(&s);
    kmodel_free(a);
    kmodel_free(b);
}

/* BOS, 3 text, per group: VIDEO_START, 4 patches, VIDEO_END; 2 text, ANSWER, 2 answer, EOS. */
static void causal_sample(const sptt_config *c, sptt_sample *s)
{
    int32_t tok[] = { SPTT_TOK_BOS, 40, 41, 42,
                      SPTT_TOK_VIDEO_START, 6, 6, 6, 6, SPTT_TOK_VIDEO_END,
                      SPTT_TOK_VIDEO_START, 6, 6, 6, 6, SPTT_TOK_VIDEO_END,
                      43, 44, SPTT_TOK_ANSWER, 50, 51, SPTT_TOK_EOS };
    int T = (int)(sizeof tok / sizeof tok[0]);
    s->n_tokens = T;
    s->tokens = malloc(sizeof tok);
    memcpy(s->tokens, tok, sizeof tok);
    s->targets = malloc(sizeof tok);
    for(int i = 0; i < T; i++) s->targets[i] = i >= 18 && i + 1 < T ? tok[i + 1] : -1;
    s->n_frames = 4;
    size_t n = (size_t)4 * c->frame_h * c->frame_w * 3;
    s->pixels = malloc(sizeof(float) * n);
    sptt_rng r;
    sptt_rng_seed(&r, 9);
    for(size_t i = 0; i < n; i++) s->pixels[i] = (float)sptt_rng_uniform(&r, -1, 1);
}

/* First row whose logits differ between the model's saved logits and `ref`, or T. */
static int first_changed_row(kmodel *m, const REAL *ref)
{
    int V = m->cfg.vocab_size;
    for(int i = 0; i < m->T; i++)
        for(int k = 0; k < V; k++) if( m->logits[(size_t)i * V + k] != ref[(size_t)i * V + k] ) return i;
    return m->T;
}

static void causality_case(int conv)
{
    sptt_config c;
    sptt_config_tiny(&c);
    c.use_conv = conv;
    c.chunk = 6;      // 22 tokens: 4 chunks, so updates carry information forward
    c.window = 6;
    kmodel *m;
    cr_assert_eq(kmodel_create(&c, 4, &m), SPTT_OK);
    perturb_params(m, 0.1, 5);
    sptt_sample s;
    causal_sample(&c, &s);
    int T = s.n_tokens, V = c.vocab_size;
    cr_assert_eq(kmodel_forward(m, &s, SPTT_FWD_ALL_LOGITS, NULL, NULL), SPTT_OK, "%s", sptt_errmsg());
    REAL *ref = malloc(sizeof(REAL) * (size_t)T * V);
    memcpy(ref, m->logits, sizeof(REAL) * (size_t)T * V);
    // text tokens before the video (1..4), between its groups (9, 10) and after it (15..). With the
    // conv on, causality is promised only before the first and after the last video token: the
    // conv looks one group ahead, so a token between groups reaches the previous group through it.
    int jsOff[] = { 1, 2, 3, 4, 9, 10, 15, 16, 17, 19, 20 }, jsOn[] = { 1, 2, 3, 4, 15, 16, 17, 19, 20 };
    const int *js = conv ? jsOn : jsOff;
    int nj = conv ? (int)(sizeof jsOn / sizeof jsOn[0]) : (int)(sizeof jsOff / sizeof jsOff[0]);
    for(int k = 0; k < nj; k++){
        int j = js[k];
        int32_t old = s.tokens[j];
        s.tokens[j] = old == 45 ? 46 : 45;
        kmodel_forward(m, &s, SPTT_FWD_ALL_LOGITS, NULL, NULL);
        int first = first_changed_row(m, ref);
        cr_expect_eq(first, j, "conv %d: changing token %d changed row %d", conv, j, first);
        s.tokens[j] = old;
    }
    // video: change the pixels of the second group (tokens 11..14)
    size_t fr = (size_t)c.frame_h * c.frame_w * 3;
    for(size_t i = 2 * fr; i < 4 * fr; i++) s.pixels[i] += 0.5f;
    kmodel_forward(m, &s, SPTT_FWD_ALL_LOGITS, NULL, NULL);
    int first = first_changed_row(m, ref);
    if( conv ){
        // the conv looks one group ahead: the first group's tokens (5..8) see the change
        cr_expect(first >= 5 && first <= 8, "conv on: look-ahead expected in group 0, first changed row %d", first);
    }else{
        cr_expect_eq(first, 11, "conv off: first changed row %d", first);
    }
    free(ref);
    sptt_sample_free(&s);
    kmodel_free(m);
}

Test(invariants, causality_without_conv) { causality_case(0); }
Test(invariants, causality_with_conv_on_text_and_the_one_group_look_ahead) { causality_case(1); }

Test(invariants, conv_at_identity_init_changes_nothing)
{
    sptt_config c, cn;
    sptt_config_tiny(&c);
    cn = c;
    cn.use_conv = 0;
    kmodel *a, *b;
    cr_assert_eq(kmodel_create(&c, 1, &a), SPTT_OK);
    cr_assert_eq(kmodel_create(&cn, 1, &b), SPTT_OK);
    sptt_rng r;
    sptt_rng_seed(&r, 3);
    for(int i = 0; i < a->n_tensor; i++){   // move everything but the convs
        if( strstr(a->tab[i].zName, "conv_") ) continue;
        REAL *p = a->params + a->tab[i].info.offset;
        for(size_t k = 0; k < a->tab[i].info.numel; k++) p[k] += (REAL)(0.05 * sptt_rng_normal(&r));
    }
    copy_by_name(b, a);
    sptt_sample s;
    tiny_sample(&c, &s, 4, 3, 3, 5);
    cr_expect_eq(max_logit_diff(a, b, &s), 0);
    sptt_sample_free(&s);
    kmodel_free(a);
    kmodel_free(b);
}

// ----------------------------------------------------------------------------
// The fp32 library against this double build

Test(precision, float_library_matches_double_build)
{
    sptt_config c;
    sptt_config_tiny(&c);
    kmodel *k;
    sptt_model *f;
    cr_assert_eq(kmodel_create(&c, 1, &k), SPTT_OK);
    cr_assert_eq(sptt_model_create(&c, 1, &f), SPTT_OK);
    perturb_params(k, 0.05, 2);
    size_t n;
    float *fp = sptt_model_params(f, &n);
    cr_assert_eq(n, k->n_param);
    for(size_t i = 0; i < n; i++){
        fp[i] = (float)k->params[i];
        k->params[i] = (REAL)fp[i];     // both start from the same float values
    }
    sptt_sample s;
    tiny_sample(&c, &s, 4, 3, 3, 5);
    double ld = model_grad(k, &s);
    float lf;
    int nLab;
    sptt_model_zero_grad(f);
    cr_assert_eq(sptt_model_forward(f, &s, 0, &lf, &nLab), SPTT_OK);
    cr_assert_eq(sptt_model_backward(f, 1.0f / nLab), SPTT_OK);
    cr_expect(fabs(lf - ld) < 1e-5 * fabs(ld), "loss %g (float) vs %g (double)", lf, ld);
    const float *fg = sptt_model_grads(f, NULL);
    double worst = 0;
    for(int i = 0; i < k->n_tensor; i++){
        const sptt_tensor_info *t = &k->tab[i].info;
        double num = 0, den = 0;
        for(size_t j = 0; j < t->numel; j++){
            double a = fg[t->offset + j], b = k->grads[t->offset + j];
            num += (a - b) * (a - b);
            den += b * b;
        }
        // an RMS floor of 1e-3: the rate projections' gradients are ~1e-5 because Newton-Schulz
        // normalises their scale away, so they are what is left of a large cancellation and
        // float rounding is large relative to them (absolute differences stay ~1e-7)
        double e = sqrt(num / fmax(den, 1e-6 * (double)t->numel));
        worst = fmax(worst, e);
        cr_expect(e < 1e-3, "%s: relative L2 difference %g between float and double", t->zName, e);
    }
    fprintf(stderr, "# float vs double: loss %.8f vs %.8f; worst per-tensor relative gradient difference %.3g\n",
            lf, ld, worst);
    sptt_sample_free(&s);
    sptt_model_free(f);
    kmodel_free(k);
}

/* One step of model c on s at 1, 2 and 3 threads (more than the test machine may have: the
** attention blocks, the TTT row tiles and matrices, and the product tiles then fall to the
** threads differently): the gradients must be the same bits. */
static void same_bits_case(const sptt_config *c, const sptt_sample *s)
{
    float *g[3];
    size_t n = 0;
    for(int k = 0; k < 3; k++){
        omp_set_num_threads(k + 1);
        sptt_model *m;
        cr_assert_eq(sptt_model_create(c, 3, &m), SPTT_OK, "%s", sptt_errmsg());
        float *p = sptt_model_params(m, &n);
        sptt_rng r;
        sptt_rng_seed(&r, 8);
        for(size_t i = 0; i < n; i++) p[i] += (float)(0.05 * sptt_rng_normal(&r));
        float loss;
        int nLab;
        cr_assert_eq(sptt_model_forward(m, s, 0, &loss, &nLab), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(sptt_model_backward(m, 1.0f / nLab), SPTT_OK);
        g[k] = malloc(sizeof(float) * n);
        memcpy(g[k], sptt_model_grads(m, NULL), sizeof(float) * n);
        sptt_model_free(m);
    }
    cr_expect(memcmp(g[0], g[1], sizeof(float) * n) == 0, "gradients differ between 1 and 2 threads");
    cr_expect(memcmp(g[0], g[2], sizeof(float) * n) == 0, "gradients differ between 1 and 3 threads");
    free(g[0]);
    free(g[1]);
    free(g[2]);
}

/* Big enough that the element-wise and conv loops go parallel (OMP_MIN elements). */
static void threads_config(sptt_config *c)
{
    sptt_config_tiny(c);
    c->hidden = 64;
    c->head_dim = 16;
    c->ttt_rope_dim = 8;
    c->rope_sections[0] = 4;
    c->rope_sections[1] = 2;
    c->rope_sections[2] = 2;
    c->ffn = 96;
    c->chunk = 64;
    c->window = 64;
    c->frame_w = 32;
    c->frame_h = 32;
    c->patch = 4;            // 64 patches a group
}

Test(precision, same_bits_for_any_thread_count)
{
    sptt_config c;
    threads_config(&c);
    sptt_sample s;
    tiny_sample(&c, &s, 8, 20, 10, 4);   // 4 groups: 1 + 4*66 + 20 + 12 = 297 tokens
    same_bits_case(&c, &s);
    sptt_sample_free(&s);
}

Test(precision, same_bits_for_any_thread_count_with_fast_heads_of_128, .timeout = 120)
{
    // fast heads of 128 over chunks of 64: the per-matrix products are large enough to be cut
    // in halves (tgemm_halves), which other threads take at 2 and 3 threads and the one thread
    // runs itself at 1
    sptt_config c;
    threads_config(&c);
    c.hidden = 256;
    c.n_head = 16;
    c.ttt_heads = 2;
    sptt_sample s;
    tiny_sample(&c, &s, 8, 20, 10, 4);
    same_bits_case(&c, &s);
    sptt_sample_free(&s);
}

// ----------------------------------------------------------------------------
// Timing and FLOP bookkeeping of the library (model.c times the kernels' steps)

/* One forward and backward through the public API; returns the stats. */
static sptt_stats stats_of_step(const sptt_config *c)
{
    sptt_model *f;
    sptt_sample s;
    float loss;
    int nLab;
    cr_assert_eq(sptt_model_create(c, 1, &f), SPTT_OK, "%s", sptt_errmsg());
    tiny_sample(c, &s, 4, 3, 3, 5);
    cr_assert_eq(sptt_model_forward(f, &s, 0, &loss, &nLab), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_model_backward(f, 1.0f / nLab), SPTT_OK, "%s", sptt_errmsg());
    sptt_stats st = *sptt_model_stats(f);
    sptt_model_reset_stats(f);
    const sptt_stats *z = sptt_model_stats(f);
    for(int k = 0; k < SPTT_T_COUNT; k++) cr_assert(z->seconds[k] == 0 && z->flops[k] == 0, "reset clears %d", k);
    sptt_sample_free(&s);
    sptt_model_free(f);
    return st;
}

Test(stats, components_cover_the_step_and_follow_the_layer_kinds)
{
    sptt_config c;
    sptt_config_tiny(&c);   // ttt, full, ttt, full
    sptt_stats st = stats_of_step(&c);
    double blocks = 0, parts = 0;
    for(int k = 0; k < SPTT_T_COUNT; k++){
        cr_expect_gt(st.seconds[k], 0, "component %d timed", k);
        cr_expect_gt(st.flops[k], 0, "component %d counted", k);
    }
    for(int k = SPTT_T_PROJ; k <= SPTT_T_FFN; k++) parts += st.seconds[k];
    for(int k = 0; k < 3; k++) blocks += st.layer_seconds[k];
    cr_expect_gt(st.layer_seconds[SPTT_LAYER_TTT], 0);
    cr_expect_gt(st.layer_seconds[SPTT_LAYER_FULL], 0);
    cr_expect_eq(st.layer_seconds[SPTT_LAYER_SWA], 0);
    // the blocks' components and the blocks are the same intervals, summed in another order
    cr_expect(fabs(parts - blocks) <= 1e-9 * blocks + 1e-12, "components %.9g s, blocks %.9g s", parts, blocks);

    c.all_full = 1;
    st = stats_of_step(&c);
    cr_expect_eq(st.seconds[SPTT_T_WINDOW], 0);
    cr_expect_eq(st.seconds[SPTT_T_TTT], 0);
    cr_expect_eq(st.flops[SPTT_T_TTT], 0);
    cr_expect_gt(st.seconds[SPTT_T_FULL], 0);
    cr_expect_eq(st.layer_seconds[SPTT_LAYER_TTT] + st.layer_seconds[SPTT_LAYER_SWA], 0);
}
