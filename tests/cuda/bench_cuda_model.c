/*
** Forward + backward speed of the CUDA model (make cuda; run on a GPU machine):
**
**   build-cuda/bench/bench_cuda_model [--fp32] [--tf32] [--bf16] [--flash] [--profile] [H,L,T ...]
**                   default: all three math modes, strips; 512,8,2048 1024,8,8192 2048,8,4096
**
** --profile runs, per math mode, one warm-up step and one step inside sptt_cuda_profiler, and
** nothing else: under  ncu --profile-from-start off  it gives that step's kernels one by one.
**
** The workload is the PyTorch twin's bench (python -m sptt_twin bench --hidden H --layers L
** --tokens T [--device cuda]), so the two compare line by line: one text sequence, every position
** supervised, vocabulary 2048, heads of 64 with as many KV heads, SwiGLU 4H, 4 fast heads, TTT
** with Muon, momentum and pre-norm, chunk = window = T/4, conv off, every 4th layer full.
** Per configuration: best of 3 timed steps after one warm-up, in these modes: fp32 with the TTT
** chunk loops launched kernel by kernel (graphs=0, the model before CUDA Graphs, when fp32 is
** asked for), then each math mode asked for (fp32, TF32, bf16 products; fp32 storage and sums)
** with graphs; --flash adds each mode with the fused attention kernels (attention=flash, fp32
** SIMT in every mode) instead of the cuBLAS strips; TF32 and bf16 run once more with the
** tensor-core fused kernels (attention=tc, those modes' default; their strips rows are the
** comparison). Then, per math mode, one more step with
** per-step synchronisation for the split by component (that step is slower; only its shares are
** reported), and one eager step with the TTT chunk loops' split by part (sptt_cuda_ttt_split).
** cuBLAS's rate on an 8192^3 product in each math mode, measured in the same run,
** gives that mode's peak for MFU (model FLOPs as the CPU model counts them: products only).
** Prints key=value lines; asserts nothing about timings.
*/
#include "sptt_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *azBucket[SPTT_T_COUNT] = { "embed", "proj", "full", "window", "ttt", "ffn", "head" };

static const char *azMath[3] = { "fp32", "tf32", "bf16" };

/* modes: bit k math mode k (SPTT_CUDA_MATH_*: fp32, TF32, bf16); flash: bit 0 rows with the
** fused SIMT attention too, bit 1 the TF32 and bf16 rows with the tensor-core attention */
static int bench_one(int H, int L, int T, int modes, int flash, int profile)
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

    /* rows: fp32 without graphs, then each math mode with graphs; then (flash) each with the fused
    ** attention, and TF32 and bf16 with the tensor-core one */
    enum { NROW = 9 };
    static const int aMath[NROW] = { 0, 0, 1, 2, 0, 1, 2, 1, 2 }, aGr[NROW] = { 0, 1, 1, 1, 1, 1, 1, 1, 1 },
                     aFl[NROW] = { 0, 0, 0, 0, 1, 1, 1, 2, 2 };
    static const char *azAtt[3] = { "strips", "flash", "tc" };
    double peak[3] = { 0, 0, 0 }, best[NROW], flops = 0;
    float loss = 0;
    int nLab = 0;
    for(int row = 0; row < NROW; row++) best[row] = 1e30;
    if( profile ){
        /* per math mode asked for, its default attention, graphs on: a warm-up step (it captures
        ** the graphs), then one step with the profiler's collection on */
        for(int mm = 0; mm < 3 && rc==SPTT_OK; mm++){
            if( !(modes >> mm & 1) ) continue;
            sptt_cuda_set_math(g, mm);
            sptt_cuda_set_flash(g, mm ? SPTT_CUDA_ATT_TC : SPTT_CUDA_ATT_STRIPS);
            sptt_cuda_set_graphs(g, 1);
            for(int it = 0; it < 2 && rc==SPTT_OK; it++){
                if( it ) sptt_cuda_profiler(1);
                rc = sptt_cuda_zero_grad(g);
                if( rc==SPTT_OK ) rc = sptt_cuda_forward(g, &s, 0, &loss, &nLab);
                if( rc==SPTT_OK ) rc = sptt_cuda_backward(g, 1.0f / (float)nLab);
                if( rc==SPTT_OK ) rc = sptt_cuda_synchronize();
                if( it ) sptt_cuda_profiler(0);
            }
            printf("profiled hidden=%d layers=%d tokens=%d math=%s loss=%.4f\n", H, L, T, azMath[mm], loss);
        }
        goto done;
    }
    for(int row = 0; row < NROW && rc==SPTT_OK; row++){
        int mm = aMath[row];
        if( !(modes >> mm & 1) || (aFl[row] && !(flash >> (aFl[row] - 1) & 1)) ) continue;
        sptt_cuda_set_math(g, mm);
        sptt_cuda_set_flash(g, aFl[row]);
        sptt_cuda_set_graphs(g, aGr[row]);
        if( peak[mm] == 0 ) peak[mm] = sptt_cuda_sgemm_flops(g, 8192, 3);
        for(int it = 0; it < 4 && rc==SPTT_OK; it++){   // one warm-up (captures the graphs), three timed
            sptt_cuda_reset_stats(g);
            double t0 = sptt_now();
            rc = sptt_cuda_zero_grad(g);
            if( rc==SPTT_OK ) rc = sptt_cuda_forward(g, &s, 0, &loss, &nLab);
            if( rc==SPTT_OK ) rc = sptt_cuda_backward(g, 1.0f / (float)nLab);
            if( rc==SPTT_OK ) rc = sptt_cuda_synchronize();
            double dt = sptt_now() - t0;
            if( it > 0 && dt < best[row] ) best[row] = dt;
        }
        flops = 0;
        for(int k = 0; k < SPTT_T_COUNT; k++) flops += sptt_cuda_stats(g)->flops[k];
    }
    if( rc==SPTT_OK ){
        int nRep = 0, nCap = sptt_cuda_graph_counts(g, &nRep);
        for(int row = 0; row < NROW; row++){
            int mm = aMath[row];
            if( !(modes >> mm & 1) || (aFl[row] && !(flash >> (aFl[row] - 1) & 1)) ) continue;
            printf("bench=cuda_model hidden=%d layers=%d tokens=%d math=%s tf32=%d graphs=%d attention=%s loss=%.4f "
                   "step_s=%.4f tokens_per_s=%.1f model_tflops=%.2f gemm_peak_tflops=%.2f mfu=%.3f best_of=3\n", H, L,
                   T, azMath[mm], mm != 0, aGr[row], azAtt[aFl[row]], loss, best[row], T / best[row],
                   flops / best[row] * 1e-12, peak[mm] * 1e-12, flops / best[row] / peak[mm]);
        }
        if( modes & 1 )
            printf("graphs hidden=%d layers=%d tokens=%d captured=%d replayed=%d speedup_fp32=%.3f\n", H, L, T, nCap,
                   nRep, best[0] / best[1]);
        // split by component per math mode asked for (graphs on, synchronised after every step),
        // with the strips and (flash) with the fused attention, (tc: TF32, bf16) the tensor-core one
        for(int mm = 0; mm < 3 && rc==SPTT_OK; mm++){
            if( !(modes >> mm & 1) ) continue;
            for(int fl = 0; fl < 3 && rc==SPTT_OK; fl++){
                if( fl && (!(flash >> (fl - 1) & 1) || (fl == 2 && mm == 0)) ) continue;
                sptt_cuda_set_math(g, mm);
                sptt_cuda_set_graphs(g, 1);
                sptt_cuda_set_flash(g, fl);
                sptt_cuda_set_timing(g, 1);
                sptt_cuda_reset_stats(g);
                rc = sptt_cuda_forward(g, &s, 0, &loss, &nLab);
                if( rc==SPTT_OK ) rc = sptt_cuda_backward(g, 1.0f / (float)nLab);
                if( rc==SPTT_OK ) rc = sptt_cuda_synchronize();
                sptt_cuda_set_timing(g, 0);
                const sptt_stats *st = sptt_cuda_stats(g);
                double tot = 0;
                for(int k = 0; k < SPTT_T_COUNT; k++) tot += st->seconds[k];
                printf("split hidden=%d layers=%d tokens=%d math=%s attention=%s synced_step_s=%.4f", H, L, T, azMath[mm],
                       azAtt[fl], tot);
                for(int k = 0; k < SPTT_T_COUNT; k++){
                    printf(" %s=%.1f%%(%.1fTF/s)", azBucket[k], 100 * st->seconds[k] / tot,
                           st->seconds[k] > 0 ? st->flops[k] / st->seconds[k] * 1e-12 : 0.0);
                }
                printf("\n");
            }
        }
        // the TTT chunk loops by part, per math mode (its default attention; one eager step)
        for(int mm = 0; mm < 3 && rc==SPTT_OK; mm++){
            if( !(modes >> mm & 1) ) continue;
            double sec[SPTT_CUDA_TS_COUNT], fl[SPTT_CUDA_TS_COUNT], tot = 0;
            const char *azPart[SPTT_CUDA_TS_COUNT];
            sptt_cuda_set_math(g, mm);
            sptt_cuda_set_flash(g, mm ? SPTT_CUDA_ATT_TC : SPTT_CUDA_ATT_STRIPS);
            sptt_cuda_set_ttt_split(g, 1);
            sptt_cuda_ttt_split(g, NULL, NULL, NULL);
            rc = sptt_cuda_forward(g, &s, 0, &loss, &nLab);
            if( rc==SPTT_OK ) rc = sptt_cuda_backward(g, 1.0f / (float)nLab);
            if( rc==SPTT_OK ) rc = sptt_cuda_synchronize();
            int nPart = sptt_cuda_ttt_split(g, sec, fl, azPart);
            sptt_cuda_set_ttt_split(g, 0);
            for(int k = 0; k < nPart; k++) tot += sec[k];
            printf("ttt_split hidden=%d layers=%d tokens=%d math=%s chunk_loops_s=%.4f", H, L, T, azMath[mm], tot);
            for(int k = 0; k < nPart; k++)
                printf(" %s=%.1f%%(%.1fTF/s)", azPart[k], tot > 0 ? 100 * sec[k] / tot : 0.0,
                       sec[k] > 0 ? fl[k] / sec[k] * 1e-12 : 0.0);
            printf("\n");
        }
    }
done:
    fflush(stdout);
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
    int nFail = 0, modes = 0, flash = 2, profile = 0, i0 = 1;   // bit 1: the tensor-core rows, always
    for(; i0 < argc && argv[i0][0] == '-'; i0++){
        if( strcmp(argv[i0], "--fp32") == 0 ) modes |= 1;
        else if( strcmp(argv[i0], "--tf32") == 0 ) modes |= 2;
        else if( strcmp(argv[i0], "--bf16") == 0 ) modes |= 4;
        else if( strcmp(argv[i0], "--flash") == 0 ) flash |= 1;
        else if( strcmp(argv[i0], "--profile") == 0 ) profile = 1;
        else{
            fprintf(stderr, "bench_cuda_model: %s: unknown option (--fp32, --tf32, --bf16, --flash, --profile)\n", argv[i0]);
            return 2;
        }
    }
    if( !modes ) modes = 7;
    if( argc > i0 ){
        for(int i = i0; i < argc; i++){
            int H, L, T;
            if( sscanf(argv[i], "%d,%d,%d", &H, &L, &T) != 3 || H < 64 || H % 64 || L < 1 || T < 4 || T % 4 ){
                fprintf(stderr, "bench_cuda_model: %s: expected H,L,T with H a multiple of 64 and T of 4\n", argv[i]);
                return 2;
            }
            nFail += bench_one(H, L, T, modes, flash, profile) != SPTT_OK;
        }
    }else{
        for(int i = 0; i < 3; i++) nFail += bench_one(aDef[i][0], aDef[i][1], aDef[i][2], modes, flash, profile) != SPTT_OK;
    }
    return nFail ? 1 : 0;
}
