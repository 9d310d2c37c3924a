/*
** Forward + backward speed of the CUDA model (make cuda; run on a GPU machine):
**
**   build-cuda/bench/bench_cuda_model [H,L,T ...]     default 512,8,2048 1024,8,8192 2048,8,4096
**
** The workload is the PyTorch twin's bench (python -m sptt_twin bench --hidden H --layers L
** --tokens T [--device cuda]), so the two compare line by line: one text sequence, every position
** supervised, vocabulary 2048, heads of 64 with as many KV heads, SwiGLU 4H, 4 fast heads, TTT
** with Muon, momentum and pre-norm, chunk = window = T/4, conv off, every 4th layer full.
** Per configuration: best of 3 timed steps after one warm-up, for fp32 and for TF32 products;
** then one more step with per-step synchronisation for the split by component (that step is
** slower; only its shares are reported). cuBLAS sgemm's rate on an 8192^3 product, measured in
** the same run, gives the peak for MFU (model FLOPs as the CPU model counts them: products only).
** Prints key=value lines; asserts nothing about timings.
*/
#include "sptt_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *azBucket[SPTT_T_COUNT] = { "embed", "proj", "full", "window", "ttt", "ffn", "head" };

static int bench_one(int H, int L, int T)
{
    sptt_config c;
    sptt_config_default(&c);
    c.vocab_size = 2048; c.hidden = H; c.n_layer = L; c.n_head = H / 64; c.n_kv_head = H / 64; c.head_dim = 64;
    c.ffn = 4 * H; c.ttt_heads = 4; c.ttt_rope_dim = H / 4 < 64 ? H / 4 : 64; c.chunk = T / 4; c.window = T / 4;
    c.anchor_every = 4; c.use_muon = 1; c.prenorm = 1; c.use_momentum = 1; c.use_conv = 0; c.use_ttt = 1;
    c.all_full = 0; c.tie_embeddings = 0;
    sptt_model *h = NULL;
    sptt_cuda_model *g = NULL;
    sptt_sample s;
    memset(&s, 0, sizeof s);
    int rc = sptt_model_create(&c, 1, &h);
    if( rc==SPTT_OK ) rc = sptt_cuda_model_create(h, &g);
    if( rc ){
        fprintf(stderr, "bench_cuda_model: %s\n", sptt_errmsg());
        sptt_model_free(h);
        return rc;
    }
    sptt_rng r;
    sptt_rng_seed(&r, 1);
    s.n_tokens = T;
    s.tokens = malloc(sizeof(int32_t) * (size_t)T);
    s.targets = malloc(sizeof(int32_t) * (size_t)T);
    for(int i = 0; i < T; i++) s.tokens[i] = 7 + (int32_t)sptt_rng_below(&r, (uint32_t)(c.vocab_size - 7));
    for(int i = 0; i < T; i++) s.targets[i] = i + 1 < T ? s.tokens[i + 1] : 7 + (int32_t)sptt_rng_below(&r, 100);

    double peak[2] = { 0, 0 }, best[2] = { 1e30, 1e30 }, flops = 0;
    float loss = 0;
    int nLab = 0;
    for(int tf = 0; tf < 2 && rc==SPTT_OK; tf++){
        sptt_cuda_set_tf32(g, tf);
        peak[tf] = sptt_cuda_sgemm_flops(g, 8192, 3);
        for(int it = 0; it < 4 && rc==SPTT_OK; it++){   // one warm-up, three timed
            sptt_cuda_reset_stats(g);
            double t0 = sptt_now();
            rc = sptt_cuda_zero_grad(g);
            if( rc==SPTT_OK ) rc = sptt_cuda_forward(g, &s, 0, &loss, &nLab);
            if( rc==SPTT_OK ) rc = sptt_cuda_backward(g, 1.0f / (float)nLab);
            if( rc==SPTT_OK ) rc = sptt_cuda_synchronize();
            double dt = sptt_now() - t0;
            if( it > 0 && dt < best[tf] ) best[tf] = dt;
        }
        flops = 0;
        for(int k = 0; k < SPTT_T_COUNT; k++) flops += sptt_cuda_stats(g)->flops[k];
    }
    if( rc==SPTT_OK ){
        for(int tf = 0; tf < 2; tf++){
            printf("bench=cuda_model hidden=%d layers=%d tokens=%d tf32=%d loss=%.4f step_s=%.4f tokens_per_s=%.1f "
                   "model_tflops=%.2f sgemm_peak_tflops=%.2f mfu=%.3f best_of=3\n", H, L, T, tf, loss, best[tf],
                   T / best[tf], flops / best[tf] * 1e-12, peak[tf] * 1e-12, flops / best[tf] / peak[tf]);
        }
        // split by component (fp32, synchronised after every step)
        sptt_cuda_set_tf32(g, 0);
        sptt_cuda_set_timing(g, 1);
        sptt_cuda_reset_stats(g);
        rc = sptt_cuda_forward(g, &s, 0, &loss, &nLab);
        if( rc==SPTT_OK ) rc = sptt_cuda_backward(g, 1.0f / (float)nLab);
        if( rc==SPTT_OK ) rc = sptt_cuda_synchronize();
        const sptt_stats *st = sptt_cuda_stats(g);
        double tot = 0;
        for(int k = 0; k < SPTT_T_COUNT; k++) tot += st->seconds[k];
        printf("split hidden=%d layers=%d tokens=%d synced_step_s=%.4f", H, L, T, tot);
        for(int k = 0; k < SPTT_T_COUNT; k++){
            printf(" %s=%.1f%%(%.1fTF/s)", azBucket[k], 100 * st->seconds[k] / tot,
                   st->seconds[k] > 0 ? st->flops[k] / st->seconds[k] * 1e-12 : 0.0);
        }
        printf("\n");
        fflush(stdout);
    }
    if( rc ) fprintf(stderr, "bench_cuda_model: H %d L %d T %d: %s\n", H, L, T, sptt_errmsg());
    sptt_cuda_model_free(g);
    sptt_model_free(h);
    sptt_sample_free(&s);
    return rc;
}

int main(int argc, char **argv)
{
    if( sptt_cuda_device_count() < 1 ){
        printf("SKIP: no CUDA device found; bench_cuda_model needs a GPU\n");
        return 77;
    }
    printf("# device: %s\n", sptt_cuda_device_name());
    int aDef[3][3] = { { 512, 8, 2048 }, { 1024, 8, 8192 }, { 2048, 8, 4096 } };
    int nFail = 0;
    if( argc > 1 ){
        for(int i = 1; i < argc; i++){
            int H, L, T;
            if( sscanf(argv[i], "%d,%d,%d", &H, &L, &T) != 3 || H < 64 || H % 64 || L < 1 || T < 4 || T % 4 ){
                fprintf(stderr, "bench_cuda_model: %s: expected H,L,T with H a multiple of 64 and T of 4\n", argv[i]);
                return 2;
            }
            nFail += bench_one(H, L, T) != SPTT_OK;
        }
    }else{
        for(int i = 0; i < 3; i++) nFail += bench_one(aDef[i][0], aDef[i][1], aDef[i][2]) != SPTT_OK;
    }
    return nFail ? 1 : 0;
}
