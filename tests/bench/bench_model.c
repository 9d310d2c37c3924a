/*
** Benchmark of the model's training step (forward + backward), on one core and on all.
**
** Figures are ratios measured in the same run so they compare across machines:
**   - the sgemm peak: best of several 1024^3 products through oneDNN's sgemm, which the model's
**     float products use, at the same thread count (OpenBLAS's rate beside it, for comparison);
**   - tokens/s and MFU = model FLOPs / step time / sgemm peak, where model FLOPs count the matrix
**     products of the forward and the backward (no recomputation), attention over the pairs a
**     causal (or windowed) mask keeps, and the fast-weight apply, update and Newton-Schulz;
**   - the step's time split by component and by layer kind;
**   - time per token against sequence length (linear models keep it flat);
**   - the text workload of issue #14 (text only, every position supervised, vocabulary 2048,
**     heads of 64 with as many KV heads, FFN 4C, TTT with Muon, momentum and pre-norm, no conv,
**     chunk = window = T/4): tokens/s, best of 3 steps after a warm-up, at 1 thread and at all,
**     each against the sgemm peak at the same thread count.
**
** `bench_model C L T [threads...] [video]` runs only the text workload (or, with `video`, the same
** with video groups and the conv, as the PyTorch twin's video batch) at that size and thread counts.
*/
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_model.h"

/* Both pools: OpenMP's (the model's loops and products, oneDNN's threads) and OpenBLAS's (the
** comparison column). */
static void set_threads(int n)
{
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

/* Best of six 1024^3 products through xMul (C = A B), in FLOP/s. */
static double peak_of(void (*xMul)(int n, const float *a, const float *b, float *c))
{
    int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    if( !a || !b || !c ){ free(a); free(b); free(c); return 0; }
    for(int i = 0; i < n * n; i++){ a[i] = (float)((i % 13) - 6) * 0.01f; b[i] = (float)((i % 7) - 3) * 0.01f; }
    double best = 0;
    for(int r = 0; r < 6; r++){
        double t0 = sptt_now();
        xMul(n, a, b, c);
        double dt = sptt_now() - t0;
        double f = 2.0 * n * n * n / dt;
        if( f > best ) best = f;
    }
    free(a); free(b); free(c);
    return best;
}

/* oneDNN's sgemm (the model's float products) on OpenMP's threads. */
static void mul_onednn(int n, const float *a, const float *b, float *c)
{
    dnnl_sgemm('N', 'N', n, n, n, 1, a, n, b, n, 0, c, n);
}

/* OpenBLAS's on its own threads, for comparison. */
static void mul_openblas(int n, const float *a, const float *b, float *c)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
}

static double sgemm_peak(void) { return peak_of(mul_onednn); }

/*
** The rate of nThr one-thread oneDNN products of 1024^3 side by side, one per thread on its own
** operands, in FLOP/s summed over the threads (best of four rounds). This is the ceiling the
** model's product tiles can reach (each tile is a one-thread product), and it is lower than nThr
** times the one-thread rate where the cores slow each other down when all are busy.
*/
static double side_by_side_peak(int nThr)
{
    int n = 1024, bad = 0;
    double best = 0;
    #pragma omp parallel num_threads(nThr) reduction(+:bad)
    {
        float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
        bad += !a || !b || !c;
        if( a && b && c ) for(int i = 0; i < n * n; i++){ a[i] = (float)((i % 13) - 6) * 0.01f; b[i] = (float)((i % 7) - 3) * 0.01f; }
        omp_set_num_threads(1);   // each product on its own thread, as gemm1 runs a tile
        for(int r = 0; r < 4; r++){
            #pragma omp barrier
            double t0 = sptt_now();
            #pragma omp barrier
            if( a && b && c ) dnnl_sgemm('N', 'N', n, n, n, 1, a, n, b, n, 0, c, n);
            #pragma omp barrier
            #pragma omp single
            {
                double f = 2.0 * n * n * n * nThr / (sptt_now() - t0);
                if( f > best ) best = f;
            }
        }
        free(a); free(b); free(c);
    }
    return bad ? 0 : best;
}
static double openblas_peak(void) { return peak_of(mul_openblas); }

/* A sequence of about T tokens: video groups, a prompt, an answer of nAnswer tokens. */
static int make_sample(const sptt_config *c, int T, int nAnswer, sptt_sample *s)
{
    int hw = (c->frame_h / c->patch) * (c->frame_w / c->patch);
    int groups = (T - 4 - nAnswer - 16) / (hw + 2);
    if( groups < 1 ) groups = 1;
    int nPrompt = T - 3 - nAnswer - groups * (hw + 2);
    if( nPrompt < 0 ) nPrompt = 0;
    int32_t *prompt = malloc(sizeof(int32_t) * (size_t)(nPrompt + 1)), *answer = malloc(sizeof(int32_t) * (size_t)nAnswer);
    sptt_rng r;
    sptt_rng_seed(&r, 1);
    for(int i = 0; i < nPrompt; i++) prompt[i] = SPTT_TOK_BYTE0 + (int32_t)sptt_rng_below(&r, (uint32_t)(c->vocab_size - SPTT_TOK_BYTE0));
    for(int i = 0; i < nAnswer; i++) answer[i] = SPTT_TOK_BYTE0 + (int32_t)sptt_rng_below(&r, (uint32_t)(c->vocab_size - SPTT_TOK_BYTE0));
    size_t nPix = (size_t)2 * groups * c->frame_h * c->frame_w * 3;
    float *pix = malloc(sizeof(float) * nPix);
    for(size_t i = 0; i < nPix; i++) pix[i] = (float)sptt_rng_uniform(&r, -1, 1);
    int rc = sptt_sample_build(c, prompt, nPrompt, answer, nAnswer, 2 * groups, pix, s);
    free(prompt); free(answer); free(pix);
    return rc;
}

typedef struct result {
    double sec;          /* per step */
    double loss, gsum;   /* text workload: the last step's loss and sum of squared gradients */
    int T;
    sptt_stats st;       /* per step */
} result;

static int run_steps(const sptt_config *c, int T, int nStep, result *res)
{
    sptt_model *m;
    sptt_sample s;
    int rc = sptt_model_create(c, 1, &m);
    if( rc ) return rc;
    if( (rc = make_sample(c, T, 32, &s)) ){ sptt_model_free(m); return rc; }
    float loss;
    int nLab;
    // one untimed step: page in the arena and the weights
    rc = sptt_model_forward(m, &s, 0, &loss, &nLab);
    if( !rc ) rc = sptt_model_backward(m, 1.0f / nLab);
    sptt_model_reset_stats(m);
    double t0 = sptt_now();
    for(int i = 0; i < nStep && !rc; i++){
        sptt_model_zero_grad(m);
        rc = sptt_model_forward(m, &s, 0, &loss, &nLab);
        if( !rc ) rc = sptt_model_backward(m, 1.0f / nLab);
    }
    res->sec = (sptt_now() - t0) / nStep;
    res->T = s.n_tokens;
    res->st = *sptt_model_stats(m);
    for(int k = 0; k < SPTT_T_COUNT; k++){ res->st.seconds[k] /= nStep; res->st.flops[k] /= nStep; }
    for(int k = 0; k < 3; k++) res->st.layer_seconds[k] /= nStep;
    sptt_sample_free(&s);
    sptt_model_free(m);
    return rc;
}

/* The issue #14 workload: hidden C, L layers, T tokens of text, every position supervised. */
static void text_config(sptt_config *c, int C, int L, int T)
{
    sptt_config_default(c);
    c->vocab_size = 2048;
    c->hidden = C;
    c->n_layer = L;
    c->n_head = C / 64;
    c->n_kv_head = C / 64;
    c->head_dim = 64;
    c->ffn = 4 * C;
    c->use_conv = 0;
    c->chunk = T / 4;
    c->window = T / 4;
}

/* Best of 3 steps after a warm-up; the stats are the best step's. */
/*
** The sequence of the text workload: T random text tokens, each predicting the next. With video,
** the PyTorch twin's video batch (python/sptt_twin/bench.py): BOS, then as many groups
** (VIDEO_START, one token per patch, VIDEO_END) as leave 64 tokens of text, then the text; every
** position whose next token is not a patch is supervised.
*/
static int text_sample(const sptt_config *c, int T, int video, sptt_sample *s)
{
    int hw = (c->frame_h / c->patch) * (c->frame_w / c->patch);
    int groups = video ? (T - 64) / (hw + 2) : 0;
    if( video && groups < 1 ) groups = 1;
    memset(s, 0, sizeof *s);
    s->n_tokens = T;
    s->n_frames = 2 * groups;
    s->tokens = malloc(sizeof(int32_t) * (size_t)T);
    s->targets = malloc(sizeof(int32_t) * (size_t)T);
    size_t nPix = (size_t)s->n_frames * c->frame_h * c->frame_w * 3;
    if( nPix ) s->pixels = malloc(sizeof(float) * nPix);
    if( !s->tokens || !s->targets || (nPix && !s->pixels) ){ sptt_sample_free(s); return SPTT_ENOMEM; }
    sptt_rng r;
    sptt_rng_seed(&r, 2);
    int i = 0;
    if( video ){
        s->tokens[i++] = SPTT_TOK_BOS;
        for(int g = 0; g < groups; g++){
            s->tokens[i++] = SPTT_TOK_VIDEO_START;
            for(int p = 0; p < hw; p++) s->tokens[i++] = SPTT_TOK_PATCH;
            s->tokens[i++] = SPTT_TOK_VIDEO_END;
        }
    }
    for(; i < T; i++) s->tokens[i] = SPTT_TOK_BYTE0 + (int32_t)sptt_rng_below(&r, (uint32_t)(c->vocab_size - SPTT_TOK_BYTE0));
    for(i = 0; i < T; i++){
        int32_t next = i + 1 < T ? s->tokens[i + 1] : (video ? -1 : SPTT_TOK_EOS);
        s->targets[i] = next == SPTT_TOK_PATCH ? -1 : next;
    }
    for(size_t k = 0; k < nPix; k++) s->pixels[k] = (float)sptt_rng_uniform(&r, -1, 1);
    return SPTT_OK;
}

static int run_text(const sptt_config *c, int T, int video, result *res)
{
    sptt_model *m;
    sptt_sample s;
    int rc = sptt_model_create(c, 1, &m);
    if( rc ) return rc;
    if( (rc = text_sample(c, T, video, &s)) ){ sptt_model_free(m); return rc; }
    res->sec = 1e30;
    res->T = T;
    for(int i = 0; i < 4 && !rc; i++){
        float loss;
        int nLab;
        sptt_model_reset_stats(m);
        double t0 = sptt_now();
        sptt_model_zero_grad(m);
        rc = sptt_model_forward(m, &s, 0, &loss, &nLab);
        if( !rc ) rc = sptt_model_backward(m, 1.0f / nLab);
        double dt = sptt_now() - t0;
        if( i > 0 && dt < res->sec ){ res->sec = dt; res->st = *sptt_model_stats(m); }
        res->loss = loss;
    }
    // a fingerprint of the gradients, to show the results do not depend on the thread count
    size_t n;
    const float *g = sptt_model_grads(m, &n);
    res->gsum = 0;
    for(size_t i = 0; i < n; i++) res->gsum += (double)g[i] * g[i];
    sptt_sample_free(&s);
    sptt_model_free(m);
    return rc;
}

static const char *const azBucket[SPTT_T_COUNT] = { "embed", "proj", "attn-full", "attn-window", "ttt", "ffn", "head" };

static void report(const char *zName, const sptt_config *c, const result *r, double peak)
{
    double flops = 0;
    for(int k = 0; k < SPTT_T_COUNT; k++) flops += r->st.flops[k];
    printf("| %-6s | %4d | %2d | %5d | %5d/%-5d | %6.3f | %8.0f | %6.1f | %5.1f%% |\n", zName, c->hidden, c->n_layer,
           r->T, c->chunk, c->window, r->sec, r->T / r->sec, flops / r->sec * 1e-9, 100 * flops / r->sec / peak);
}

static void split(const char *zName, const result *r, double peak)
{
    printf("\n%s: time and model FLOP rate by component (forward + backward, one step)\n\n", zName);
    printf("| component   | seconds | share  | GFLOP  | %% of sgemm peak |\n");
    printf("|-------------|---------|--------|--------|-----------------|\n");
    double tot = 0;
    for(int k = 0; k < SPTT_T_COUNT; k++) tot += r->st.seconds[k];
    for(int k = 0; k < SPTT_T_COUNT; k++){
        double s = r->st.seconds[k], f = r->st.flops[k];
        printf("| %-11s | %7.3f | %5.1f%% | %6.1f | %14.1f%% |\n", azBucket[k], s, 100 * s / tot, f * 1e-9,
               s > 0 ? 100 * f / s / peak : 0.0);
    }
    printf("\nby layer kind (whole blocks, their FFN included):");
    const char *azKind[3] = { "full attention", "sliding window", "ttt" };
    for(int k = 0; k < 3; k++){
        if( r->st.layer_seconds[k] > 0 ) printf(" %s %.3f s (%.1f%%)", azKind[k], r->st.layer_seconds[k], 100 * r->st.layer_seconds[k] / r->sec);
    }
    printf("\n");
}

static int text_table(int C, int L, int T, int video, const int *aThr, int nThr)
{
    sptt_config c;
    text_config(&c, C, L, T);
    c.use_conv = video;
    result r1 = {0};
    printf("\n%s workload C %d, L %d, T %d (chunk = window = %d), forward + backward, best of 3 steps\n\n",
           video ? "Video (frames and the conv)" : "Text", C, L, T, T / 4);
    printf("| threads | sgemm peak GFLOP/s (oneDNN) | one-thread sgemms side by side | OpenBLAS sgemm GFLOP/s | s/step | tokens/s | GFLOP/s | MFU    | speed-up over 1 thread | loss, sum of squared gradients |\n");
    printf("|---------|-----------------------------|--------------------------------|------------------------|--------|----------|---------|--------|------------------------|--------------------------------|\n");
    result *aRes = calloc((size_t)nThr, sizeof *aRes);
    double *aPeak = calloc((size_t)nThr, sizeof *aPeak);
    if( !aRes || !aPeak ){ free(aRes); free(aPeak); return SPTT_ENOMEM; }
    for(int i = 0; i < nThr; i++){
        set_threads(aThr[i]);
        double threaded = sgemm_peak(), side = aThr[i] > 1 ? side_by_side_peak(aThr[i]) : threaded;
        aPeak[i] = threaded > side ? threaded : side;   // MFU against the better of the two
        double blas = openblas_peak();
        int rc = run_text(&c, T, video, &aRes[i]);
        if( rc ){ free(aRes); free(aPeak); return rc; }
        result *r = &aRes[i];
        if( aThr[i] == 1 ) r1 = *r;
        double flops = 0;
        for(int k = 0; k < SPTT_T_COUNT; k++) flops += r->st.flops[k];
        /* one line per run for scripts (tests/bench/model_vs_twin.sh); peak_tokens_per_s is the
           rate if every model FLOP ran at the sgemm peak, the ceiling any implementation of these
           FLOPs meets on this machine, which turns a target ratio into a needed share of peak.
           ffn_tokens_per_s is the rate if every FLOP ran as fast as this step's own feed-forward:
           its products are the step's largest and plainest, so no other part can be expected to
           beat their rate, and this is what the step would reach with attention and the TTT
           branch as efficient as a large sgemm in the model's own surroundings */
        double ffnRate = r->st.seconds[SPTT_T_FFN] > 0 ? r->st.flops[SPTT_T_FFN] / r->st.seconds[SPTT_T_FFN] : 0;
        printf("bench=sptt_model hidden=%d layers=%d tokens=%d video=%d threads=%d step_s=%.4f tokens_per_s=%.1f "
               "peak_tokens_per_s=%.1f ffn_tokens_per_s=%.1f\n", C, L, T, video, aThr[i], r->sec, T / r->sec,
               T * aPeak[i] / flops, T * ffnRate / flops);
        char zUp[32] = "";
        if( r1.sec > 0 && aThr[i] != 1 ) snprintf(zUp, sizeof zUp, "%.2fx", r1.sec / r->sec);
        printf("| %7d | %27.1f | %30.1f | %22.1f | %6.3f | %8.0f | %7.1f | %5.1f%% | %22s | %.7f, %.9e |\n", aThr[i],
               threaded * 1e-9, side * 1e-9, blas * 1e-9, r->sec, T / r->sec, flops / r->sec * 1e-9, 100 * flops / r->sec / aPeak[i], zUp,
               r->loss, r->gsum);
        fflush(stdout);
    }
    for(int i = 0; i < nThr; i++){
        char zName[64];
        snprintf(zName, sizeof zName, "C %d L %d T %d, %d thread%s", C, L, T, aThr[i], aThr[i] > 1 ? "s" : "");
        split(zName, &aRes[i], aPeak[i]);
    }
    free(aRes);
    free(aPeak);
    return SPTT_OK;
}

int main(int argc, char **argv)
{
    int nMax = omp_get_num_procs();
    if( argc >= 4 ){
        int aThr[16], nThr = 0, video = 0;
        for(int i = 4; i < argc && nThr < 16; i++){
            if( strcmp(argv[i], "video")==0 ) video = 1;
            else aThr[nThr++] = atoi(argv[i]);
        }
        if( nThr == 0 ) aThr[nThr++] = 1;
        if( text_table(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), video, aThr, nThr) ){
            fprintf(stderr, "bench_model: %s\n", sptt_errmsg());
            return 1;
        }
        return 0;
    }
    // one core: the element-wise loops too
    set_threads(1);
    double peak = sgemm_peak();
    /* Which of its kernels OpenBLAS chose for this CPU: a virtual machine that hides its CPU model
    ** can leave it on a generic one, several times slower, which is why the model's float products
    ** go through oneDNN (the double ones, for the gradient checks, still through OpenBLAS). */
    printf("OpenBLAS: %s; kernel for %s; sgemm (1024^3, 1 thread) %.1f GFLOP/s\n", openblas_get_config(),
           openblas_get_corename(), openblas_peak() * 1e-9);
    printf("sgemm peak (oneDNN, 1024^3, 1 thread): %.1f GFLOP/s\n\n", peak * 1e-9);

    sptt_config small, medium;
    sptt_config_default(&small);
    small.vocab_size = 4096;
    medium = small;
    medium.hidden = 512;
    medium.n_head = 8;
    medium.n_kv_head = 4;
    medium.head_dim = 64;
    medium.ffn = 1536;
    medium.chunk = 512;
    medium.window = 512;

    result rs, rm;
    int rc = run_steps(&small, 2048, 3, &rs);
    if( !rc ) rc = run_steps(&medium, 2048, 2, &rm);
    if( rc ){
        fprintf(stderr, "bench_train: %s\n", sptt_errmsg());
        return 1;
    }
    printf("Training step (forward + backward), one core, 32 supervised tokens\n\n");
    printf("| config | C    | L  | T     | chunk/win   | s/step | tokens/s | GFLOP/s | MFU    |\n");
    printf("|--------|------|----|-------|-------------|--------|----------|---------|--------|\n");
    report("small", &small, &rs, peak);
    report("medium", &medium, &rm, peak);
    split("small", &rs, peak);
    split("medium", &rm, peak);

    printf("\nScaling with sequence length (small config): microseconds per token, forward + backward.\n");
    printf("Linear-time parts keep a flat column; full attention grows with T.\n\n");
    printf("| T     | ttt blocks | ttt branch | window attn | full blocks | full attn | step   |\n");
    printf("|-------|------------|------------|-------------|-------------|-----------|--------|\n");
    int aT[] = { 512, 1024, 2048, 4096 };
    for(int i = 0; i < 4; i++){
        result r;
        if( (rc = run_steps(&small, aT[i], 2, &r)) ){
            fprintf(stderr, "bench_train: %s\n", sptt_errmsg());
            return 1;
        }
        double u = 1e6 / r.T;
        printf("| %5d | %10.0f | %10.0f | %11.0f | %11.0f | %9.0f | %6.0f |\n", r.T, u * r.st.layer_seconds[SPTT_LAYER_TTT],
               u * r.st.seconds[SPTT_T_TTT], u * r.st.seconds[SPTT_T_WINDOW], u * r.st.layer_seconds[SPTT_LAYER_FULL],
               u * r.st.seconds[SPTT_T_FULL], u * r.sec);
    }
    int aThr[2] = { 1, nMax };
    if( text_table(256, 4, 1024, 0, aThr, nMax > 1 ? 2 : 1) ){
        fprintf(stderr, "bench_model: %s\n", sptt_errmsg());
        return 1;
    }
    return 0;
}
