/*
** The CUDA model against the CPU model: loss, logits and every gradient tensor, by name, for
** several configurations (built by `make cuda`; exits 77 with a SKIP line where no GPU is found).
**
** The reference is the kernels' double instantiation on the same float parameters. Per quantity
** (the loss, the logits, each gradient tensor) the error is norm-wise: |x - ref| / |ref| over the
** tensor. The CPU float model's error e_cpu measures the float32 rounding noise of that very
** quantity (about u times its condition number, u = 2^-24: large through Newton-Schulz, which
** lifts rounding noise in small matrices); the GPU model sums in other orders (cuBLAS blocking,
** atomics), so its error is noise of the same size, not the same bits. The bound is the twin's
** (python/sptt_twin check):  e_gpu <= 16 e_cpu + 64 u.  A wrong formula shows as an error of order
** 1, orders above it. The max-abs errors are printed beside, for reading.
** One table per configuration lists every tensor, so one run on the device diagnoses everything.
**
** By default the TF32 and bf16 checks of the cases with heads of 32 or 64 run attention through
** the tensor-core kernels (cuda_flash_tc.cuh), everything else through the cuBLAS strips;
** SPTT_CUDA_FLASH=0 runs all on the strips, SPTT_CUDA_FLASH=1 all through the fused fp32 kernels
** (cuda_flash.cuh).
**
** Each configuration runs two steps on one GPU model: the first captures the TTT chunk loops into
** CUDA Graphs, the second replays them; both must pass, and the second must give the first's
** loss, logits and gradients bit for bit (the model sums in fixed orders, no atomics: a killed
** GPU training run resumes to exactly the uninterrupted run's losses only so).
**
** TF32 (the same configurations, a second GPU model with TF32 products): TF32 rounds the product
** inputs to 10 explicit mantissa bits, unit roundoff u_tf32 = 2^-11 instead of 2^-24. The error
** analysis behind the fp32 bound is linear in the unit roundoff (e ~ u times the condition
** number), so the TF32 bound is the fp32 one with u scaled to u_tf32:
**     e_tf32 <= (16 e_cpu + 64 u) 2^13.
** A wrong formula still shows as an error of order 1. The TF32 lines also print the error over
** the fp32 bound, for reading (expected well above 1).
**
** bf16 (a third GPU model, products on bf16 tensor cores, fp32 storage and sums): bf16 keeps 7
** explicit mantissa bits, unit roundoff u_bf16 = 2^-8, so by the same argument
**     e_bf16 <= (16 e_cpu + 64 u) 2^16.
** Its lines print the worst error over that bound and over the fp32 bound, as for TF32. The
** test sets SPTT_CUDA_BF16_MIN=0, so every single product takes the path that large products
** take in bf16 mode (operands rounded to bf16 copies), not only those past the size limit, and
** Newton-Schulz runs in bf16 storage as it does in bf16 mode from heads of 256 on (its iterates
** rounded to bf16 at every step: the bound's argument still holds, each rounding being u_bf16).
**
** Last, per mode, the parameters change between steps, as the optimiser changes them: the step
** after sptt_cuda_set_params must give, bit for bit, the loss and gradients of a new GPU model
** made with those parameters, so that nothing derived from the old ones (the weights' bf16
** copies in bf16 mode, the captured graphs) outlives them.
*/
#include "model_testutil.h"   /* the double kernels (kmodel), tiny_sample */
#include "sptt_cuda.h"

#include <stdlib.h>

#define U32 (1.0 / 16777216.0)
#define TF32_SCALE 8192.0   /* u_tf32 / u = 2^-11 / 2^-24 */
#define BF16_SCALE 65536.0  /* u_bf16 / u = 2^-8 / 2^-24 */

static const char *azMode[3] = { "fp32", "tf32", "bf16" };

typedef struct cmp_stat {
    double eCpu, eGpu;        /* norm-wise relative errors against the double reference */
    double aCpu, aGpu, scale; /* max-abs errors, max |ref| */
} cmp_stat;

static cmp_stat compare(const float *cpu, const float *gpu, const double *ref, size_t n)
{
    cmp_stat s = { 0, 0, 0, 0, 0 };
    double sc = 0, sg = 0, sr = 0;
    for(size_t i = 0; i < n; i++){
        double a = (double)cpu[i] - ref[i], b = (double)gpu[i] - ref[i], r = fabs(ref[i]);
        sc += a * a;
        sg += b * b;
        sr += ref[i] * ref[i];
        if( fabs(a) > s.aCpu ) s.aCpu = fabs(a);
        if( !(fabs(b) <= s.aGpu) ) s.aGpu = fabs(b);   // NaN propagates as a failure
        if( r > s.scale ) s.scale = r;
    }
    double den = sr > 0 ? sqrt(sr) : 1e-30;
    s.eCpu = sqrt(sc) / den;
    s.eGpu = sqrt(sg) / den;
    if( sr == 0 && sg == 0 ) s.eGpu = 0;
    if( sr == 0 && sc == 0 ) s.eCpu = 0;
    if( s.aGpu != s.aGpu ) s.eGpu = s.aGpu;
    return s;
}

static double bound_of(cmp_stat s) { return 16 * s.eCpu + 64 * U32; }

static int check(const char *zName, cmp_stat s, int verbose, double scale)
{
    double bound = scale * bound_of(s);
    int ok = s.eGpu <= bound;
    if( verbose || !ok ){
        printf("  %-34s rel err cpu %9.2e gpu %9.2e bound %9.2e | max|ref| %9.2e max err cpu %9.2e gpu %9.2e  %s\n",
               zName, s.eCpu, s.eGpu, bound, s.scale, s.aCpu, s.aGpu, ok ? "ok" : "FAIL");
    }
    return ok;
}

/* T tokens of text, every position supervised */
static void text_sample(const sptt_config *c, sptt_sample *s, int T, uint64_t seed)
{
    sptt_rng r;
    sptt_rng_seed(&r, seed);
    memset(s, 0, sizeof *s);
    s->n_tokens = T;
    s->tokens = malloc(sizeof(int32_t) * (size_t)T);
    s->targets = malloc(sizeof(int32_t) * (size_t)T);
    for(int i = 0; i < T; i++) s->tokens[i] = SPTT_TOK_BYTE0 + (int32_t)sptt_rng_below(&r, (uint32_t)(c->vocab_size - SPTT_TOK_BYTE0));
    for(int i = 0; i < T; i++) s->targets[i] = i + 1 < T ? s->tokens[i + 1] : SPTT_TOK_EOS;
}

/* one configuration; returns the number of failed checks */
/* One step on g (fresh gradients); its loss and gradients into *pLoss and gg */
static int gpu_step(sptt_cuda_model *g, const sptt_sample *s, float *pLoss, float *gg)
{
    int nLab = 0;
    if( sptt_cuda_zero_grad(g) || sptt_cuda_forward(g, s, SPTT_FWD_ALL_LOGITS, pLoss, &nLab) ||
        sptt_cuda_backward(g, 1.0f / (float)(nLab ? nLab : 1)) || sptt_cuda_synchronize() || sptt_cuda_get_grads(g, gg) )
        return 1;
    return 0;
}

/* The parameters changed between steps: g's next step against a new model's with p2, bit for bit */
static int check_new_params(const char *zCase, int tf, sptt_cuda_model *g, sptt_model *h, const sptt_sample *s,
                            size_t n)
{
    const float *p = sptt_model_params(h, NULL);
    float *p2 = malloc(sizeof(float) * n), *ga = malloc(sizeof(float) * n), *gb = malloc(sizeof(float) * n);
    sptt_cuda_model *g2 = NULL;
    float la = 0, lb = 0;
    int rc = !p2 || !ga || !gb;
    for(size_t i = 0; !rc && i < n; i++) p2[i] = p[i] * 0.97f + 0.002f;
    sptt_cuda_set_ttt_split(g, 0);
    if( !rc ) rc = sptt_cuda_set_params(g, p2) || gpu_step(g, s, &la, ga);
    if( !rc ) rc = sptt_cuda_model_create(h, &g2);
    if( !rc ){
        sptt_cuda_set_math(g2, sptt_cuda_get_math(g));
        rc = sptt_cuda_set_params(g2, p2) || gpu_step(g2, s, &lb, gb);
    }
    size_t nDiff = 0;
    for(size_t i = 0; !rc && i < n; i++) nDiff += memcmp(ga + i, gb + i, sizeof(float)) != 0;
    int bad = rc || nDiff || memcmp(&la, &lb, sizeof la) != 0;
    printf("%s - %s (%s): new parameters between steps: loss %.9f against a new model's %.9f, %zu of %zu gradients "
           "differ in any bit%s\n", bad ? "not ok" : "ok", zCase, azMode[tf], la, lb, nDiff, n, rc ? " (a step failed)" : "");
    sptt_cuda_model_free(g2);
    free(p2);
    free(ga);
    free(gb);
    return bad;
}

static int run_case(const char *zCase, const sptt_config *cfg, int nFrames, int textT, int verbose)
{
    int nFail = 0;
    sptt_model *h = NULL;
    sptt_cuda_model *g = NULL;
    kmodel *k = NULL;
    float *gg0 = NULL;   /* the first GPU step's gradients */
    sptt_sample s;
    memset(&s, 0, sizeof s);
    printf("# case %s: hidden %d, layers %d, heads %d/%d, ttt %d, conv %d, muon %d, momentum %d, prenorm %d, all_full %d\n",
           zCase, cfg->hidden, cfg->n_layer, cfg->n_head, cfg->n_kv_head, cfg->use_ttt, cfg->use_conv, cfg->use_muon,
           cfg->use_momentum, cfg->prenorm, cfg->all_full);
    if( sptt_model_create(cfg, 7, &h) || kmodel_create(cfg, 7, &k) ){
        printf("not ok - %s: create: %s\n", zCase, sptt_errmsg());
        return 1;
    }
    size_t n = 0;
    float *p = sptt_model_params(h, &n);
    sptt_rng r;
    sptt_rng_seed(&r, 99);
    for(size_t i = 0; i < n; i++) p[i] += (float)(0.05 * sptt_rng_normal(&r));   // gates off zero: no gradient is 0 by construction
    for(size_t i = 0; i < n; i++) k->params[i] = p[i];
    if( textT ) text_sample(cfg, &s, textT, 5);
    else tiny_sample(cfg, &s, nFrames, 6, 5, 5);

    // CPU float and double
    float lossC = 0, lossG = 0;
    int nLab = 0, nLabG = 0;
    double lossD = 0;
    sptt_model_zero_grad(h);
    if( sptt_model_forward(h, &s, SPTT_FWD_ALL_LOGITS, &lossC, &nLab) || sptt_model_backward(h, 1.0f / (float)(nLab ? nLab : 1)) ){
        printf("not ok - %s: cpu: %s\n", zCase, sptt_errmsg());
        nFail++;
        goto end;
    }
    memset(k->grads, 0, sizeof(double) * n);
    kmodel_forward(k, &s, SPTT_FWD_ALL_LOGITS, &lossD, NULL);
    kmodel_backward(k, 1.0 / (nLab ? nLab : 1));

    // GPU: fp32, TF32 then bf16, three steps each (graphs captured, then replayed; then eager with
    // the TTT loops' split by part, whose events must not change a bit)
    gg0 = malloc(sizeof(float) * n);
    for(int tf = 0; tf < 3; tf++){
        int nBadMode = 0;
        double scale = tf == 2 ? BF16_SCALE : tf ? TF32_SCALE : 1.0, worstF = 0, worstT = 0, worstR = 0;
        sptt_cuda_model_free(g);
        g = NULL;
        if( sptt_cuda_model_create(h, &g) ){
            printf("not ok - %s: gpu: %s\n", zCase, sptt_errmsg());
            nFail++;
            goto end;
        }
        sptt_cuda_set_math(g, tf == 2 ? SPTT_CUDA_MATH_BF16 : tf ? SPTT_CUDA_MATH_TF32 : SPTT_CUDA_MATH_FP32);
        for(int pass = 0; pass < 3; pass++){
            sptt_cuda_set_ttt_split(g, pass == 2);
            if( sptt_cuda_zero_grad(g) || sptt_cuda_forward(g, &s, SPTT_FWD_ALL_LOGITS, &lossG, &nLabG) ||
                sptt_cuda_backward(g, 1.0f / (float)(nLab ? nLab : 1)) || sptt_cuda_synchronize() ){
                printf("not ok - %s: gpu: %s\n", zCase, sptt_errmsg());
                nFail++;
                goto end;
            }
            int T = s.n_tokens, V = cfg->vocab_size, v = verbose && !tf && pass == 0;
            float *gg = malloc(sizeof(float) * n), *lg = malloc(sizeof(float) * (size_t)T * V);
            double *lref = malloc(sizeof(double) * (size_t)T * V);
            const float *lc = sptt_model_logits(h, NULL);
            sptt_cuda_get_grads(g, gg);
            sptt_cuda_get_logits(g, lg, NULL);
            for(size_t i = 0; i < (size_t)T * V; i++) lref[i] = k->logits[i];
            int nRep = 0, nCap = sptt_cuda_graph_counts(g, &nRep);
            if( pass == 2 ){
                double sec[SPTT_CUDA_TS_COUNT], tot = 0;
                int nPart = sptt_cuda_ttt_split(g, sec, NULL, NULL);
                for(int i = 0; i < nPart; i++) tot += sec[i];
                printf("  %s step 3 (eager, split by part): TTT branch %.3f ms\n", azMode[tf], tot * 1e3);
                int nTtt = 0;
                for(int l = 0; l < cfg->n_layer; l++) nTtt += sptt_layer_kind(cfg, l) == SPTT_LAYER_TTT;
                if( (tot > 0) != (nTtt > 0) ){
                    printf("  %s: the split measured %.3g s with %d TTT layers\n", azMode[tf], tot, nTtt);
                    nBadMode++;
                }
            }
            printf("  %s step %d (%s): T %d, labelled %d; loss cpu %.9f gpu %.9f f64 %.9f; graphs captured %d, replayed %d\n",
                   azMode[tf], pass + 1, pass == 2 ? "eager" : pass ? "replay" : "capture", T, nLab, lossC, lossG, lossD, nCap, nRep);
            float lc1 = lossC, lg1 = lossG;
            cmp_stat ls = compare(&lc1, &lg1, &lossD, 1);
            int nBad = 0;
            nBad += !check("loss", ls, !tf, scale);
            nBad += !check("logits", compare(lc, lg, lref, (size_t)T * V), !tf, scale);
            const float *gc = sptt_model_grads(h, NULL);
            int nT = sptt_model_n_tensors(h);
            double worst = 0, worstFp = 0, worstRel = 0;   /* worstRel: the largest norm-wise gradient error */
            for(int i = 0; i < nT; i++){
                const sptt_tensor_info *t = sptt_model_tensor(h, i);
                cmp_stat st = compare(gc + t->offset, gg + t->offset, k->grads + t->offset, t->numel);
                nBad += !check(t->zName, st, v, scale);
                double ratio = st.eGpu / (scale * bound_of(st));
                if( ratio > worst ) worst = ratio;
                if( st.eGpu > worstRel ) worstRel = st.eGpu;
                if( st.eGpu / bound_of(st) > worstFp ) worstFp = st.eGpu / bound_of(st);
            }
            if( tf ){
                printf("  %s: %d tensors, %d over the %s bound; worst gpu err / %s bound %.3f, / fp32 bound %.1f; "
                       "largest gradient rel err %.2e\n", azMode[tf], nT, nBad, tf == 2 ? "bf16" : "TF32",
                       tf == 2 ? "bf16" : "TF32", worst, worstFp, worstRel);
            }else{
                printf("  %d tensors, %d over their bound; worst gpu err / bound %.3f; largest gradient rel err %.2e\n", nT,
                       nBad, worst, worstRel);
            }
            if( worst > worstT ) worstT = worst;
            if( worstFp > worstF ) worstF = worstFp;
            if( worstRel > worstR ) worstR = worstRel;
            if( pass == 0 ){
                memcpy(gg0, gg, sizeof(float) * n);
            }else{
                size_t nDiff = 0;
                for(size_t i = 0; i < n; i++) nDiff += memcmp(gg0 + i, gg + i, sizeof(float)) != 0;
                printf("  %s: step %d against step 1: %zu of %zu gradients differ in any bit\n", azMode[tf], pass + 1, nDiff, n);
                if( nDiff ) nBad++;
            }
            nBadMode += nBad;
            free(gg);
            free(lg);
            free(lref);
        }
        const char *zFl = getenv("SPTT_CUDA_FLASH");
        int fl = zFl ? atoi(zFl) : 2, tcw = cfg->head_dim == 32 || cfg->head_dim == 64;
        printf("%s - %s (%s%s)\n", nBadMode ? "not ok" : "ok", zCase, azMode[tf],
               fl == 1 ? ", flash attention" : fl == 2 && tf && tcw ? ", tensor-core attention" : "");
        printf("# %s %s: worst err / %s bound %.3f, / fp32 bound %.3g; largest gradient rel err %.2e\n", azMode[tf], zCase,
               tf == 2 ? "bf16" : tf ? "TF32" : "fp32", worstT, worstF, worstR);
        nFail += nBadMode;
        nFail += check_new_params(zCase, tf, g, h, &s, n);
    }
    printf("%s - %s\n", nFail ? "not ok" : "ok", zCase);
end:
    free(gg0);
    sptt_cuda_model_free(g);
    sptt_model_free(h);
    kmodel_free(k);
    sptt_sample_free(&s);
    return nFail;
}

int main(int argc, char **argv)
{
    /* -v: every tensor's line, not only the failures; SPTT_CUDA_CASE=n: only the n-th case */
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    if( sptt_cuda_device_count() < 1 ){
        printf("SKIP: no CUDA device found; test_cuda_model needs a GPU\n");
        return 77;
    }
    printf("# device: %s\n", sptt_cuda_device_name());
    setenv("SPTT_CUDA_BF16_MIN", "0", 0);
    int nFail = 0, only = getenv("SPTT_CUDA_CASE") ? atoi(getenv("SPTT_CUDA_CASE")) : 0;
    sptt_config c;
#define RUN(...) (only && ++iCase != only ? 0 : run_case(__VA_ARGS__))
    int iCase = 0;

    sptt_config_tiny(&c);   // video + text, conv, TTT with Muon, momentum and pre-norm; GQA
    nFail += RUN("video+text, conv", &c, 4, 0, verbose);
    nFail += RUN("text only", &c, 0, 0, verbose);
    sptt_config_tiny(&c);
    c.prenorm = 0;
    nFail += RUN("post-norm", &c, 4, 0, verbose);
    sptt_config_tiny(&c);
    c.use_muon = 0;
    c.use_momentum = 0;
    nFail += RUN("no muon, no momentum", &c, 4, 0, verbose);
    sptt_config_tiny(&c);
    c.use_ttt = 0;
    nFail += RUN("TTT off (sliding window)", &c, 4, 0, verbose);
    sptt_config_tiny(&c);
    c.all_full = 1;
    c.tie_embeddings = 1;
    nFail += RUN("all full attention, tied head", &c, 4, 0, verbose);
    // wider and longer: several attention strips, fast heads of 32, windows across strips
    sptt_config_tiny(&c);
    c.hidden = 64; c.n_head = 2; c.n_kv_head = 1; c.head_dim = 32; c.ttt_heads = 2; c.ttt_rope_dim = 16;
    c.rope_sections[0] = 6; c.rope_sections[1] = 5; c.rope_sections[2] = 5;
    c.ffn = 96; c.chunk = 96; c.window = 150; c.n_layer = 3; c.anchor_every = 3; c.use_conv = 0;
    nFail += RUN("long text, T 600, every position supervised", &c, 0, 600, verbose);
    // heads of 64 (the benchmarks' width), grouped KV heads, tiles cut by T and the window
    sptt_config_tiny(&c);
    c.hidden = 256; c.n_head = 4; c.n_kv_head = 2; c.head_dim = 64; c.ttt_heads = 4; c.ttt_rope_dim = 16;
    c.rope_sections[0] = 12; c.rope_sections[1] = 10; c.rope_sections[2] = 10;
    c.ffn = 128; c.chunk = 100; c.window = 200; c.n_layer = 2; c.anchor_every = 2; c.use_conv = 0;
    nFail += RUN("heads of 64, T 520", &c, 0, 520, verbose);
    printf("%s: %d failed checks\n", nFail ? "FAIL" : "PASS", nFail);
    return nFail ? 1 : 0;
}
