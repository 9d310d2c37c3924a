/*
** Benchmark of streaming inference (model/sptt_stream.h): memory and time per frame as a video
** grows, for three models of one size in one run:
**   (i)   the hybrid (TTT layers, every 4th layer an anchor) with anchors bounded by a window;
**   (ii)  the same hybrid with growing anchors, as the reference keeps them;
**   (iii) the all-full-attention baseline (every layer a growing KV cache).
** At 64, 256, 1024 and 4096 frames: the stream's state (caches, fast-weight state, queues), the
** process's peak resident memory and the mean milliseconds per frame since the previous mark. Each
** model runs in its own child process, so its resident memory is its own. The last lines say
** whether the bounded hybrid stays flat (state and RSS within 5% from 256 frames on) and the time
** and memory ratios at the largest mark; nothing is asserted.
**
** bench_stream [--hidden C] [--layers L] [--frame S] [--patch P] [--chunk N] [--anchor-window N]
**              [--frames N] [--threads N] [--device cpu|cuda]
** Defaults: 64, 8, 16, 8, 64, 256, 4096, 1 thread (a frame is a few tokens; their products are too
** small to share among threads): about a minute on one core. --device cuda (the build of make
** cuda, build-cuda/bench/bench_stream) streams on GPU 0; the peak RSS is then the host's alone.
*/
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sptt_model.h"
#include "sptt_stream.h"

#define NMARK 4

typedef struct mark {
    int frames;
    double stateKiB, rssMiB, msPerFrame;
} mark;

/* Peak resident memory of this process so far (VmHWM), MiB. */
static double rss_mib(void)
{
    char zLine[256];
    double kib = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if( !f ) return 0;
    while( fgets(zLine, sizeof zLine, f) ) if( strncmp(zLine, "VmHWM:", 6) == 0 ) kib = atof(zLine + 6);
    fclose(f);
    return kib / 1024.0;
}

/* Streams frames through one model, filling marks; in the child. */
static int device;   /* 0 the CPU, 1 GPU 0 (sptt_stream_opts.device) */

static int run_model(const sptt_config *c, int anchorWindow, const int *aMark, int nMark, mark *out)
{
    sptt_model *m;
    sptt_stream *st;
    if( sptt_model_create(c, 1, &m) ) return 1;
    size_t nP;
    float *p = sptt_model_params(m, &nP);
    for(size_t i = 0; i < nP; i++) p[i] += 0.01f * (float)((int)(i % 17) - 8) / 8;   // the gates open
    sptt_stream_opts o = { anchorWindow, SPTT_STREAM_TRAIN, 0, device };
    if( sptt_stream_create(m, &o, &st) ){
        fprintf(stderr, "bench_stream: %s\n", sptt_errmsg());
        return 1;
    }
    size_t nPix = (size_t)c->frame_h * c->frame_w * 3;
    float *frame = malloc(sizeof(float) * nPix);
    int f = 0;
    for(int k = 0; k < nMark; k++){
        double t0 = sptt_now();
        int f0 = f;
        for(; f < aMark[k]; f++){
            for(size_t i = 0; i < nPix; i++) frame[i] = (float)(((i * 31 + (size_t)f * 7) % 255) / 127.5 - 1.0);
            if( sptt_stream_push_frame(st, frame) ) return 1;
        }
        double t1 = sptt_now();
        sptt_stream_info in;
        sptt_stream_info_get(st, &in);
        out[k].frames = f;
        out[k].stateKiB = in.state_bytes / 1024.0;
        out[k].rssMiB = rss_mib();
        out[k].msPerFrame = 1e3 * (t1 - t0) / (f - f0);
    }
    free(frame);
    sptt_stream_free(st);
    sptt_model_free(m);
    return 0;
}

/* Runs run_model in a child and reads its marks back through a pipe. */
static int run_child(const sptt_config *c, int anchorWindow, const int *aMark, int nMark, mark *out)
{
    int fd[2];
    if( pipe(fd) ) return 1;
    fflush(stdout);
    pid_t pid = fork();
    if( pid < 0 ) return 1;
    if( pid == 0 ){
        close(fd[0]);
        mark a[NMARK];
        int rc = run_model(c, anchorWindow, aMark, nMark, a);
        if( rc == 0 && write(fd[1], a, sizeof(mark) * (size_t)nMark) != (ssize_t)(sizeof(mark) * (size_t)nMark) ) rc = 1;
        _exit(rc);
    }
    close(fd[1]);
    size_t want = sizeof(mark) * (size_t)nMark, got = 0;
    while( got < want ){
        ssize_t r = read(fd[0], (char *)out + got, want - got);
        if( r <= 0 ) break;
        got += (size_t)r;
    }
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return got == want && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int hidden = 64, layers = 8, frame = 16, patch = 8, chunk = 64, window = 256, maxFrames = 4096, threads = 1;
    for(int i = 1; i + 1 < argc; i += 2){
        int v = atoi(argv[i + 1]);
        if( strcmp(argv[i], "--device") == 0 && (strcmp(argv[i + 1], "cpu") == 0 || strcmp(argv[i + 1], "cuda") == 0) ){
            device = strcmp(argv[i + 1], "cuda") == 0;
        }else if( strcmp(argv[i], "--hidden") == 0 ) hidden = v;
        else if( strcmp(argv[i], "--layers") == 0 ) layers = v;
        else if( strcmp(argv[i], "--frame") == 0 ) frame = v;
        else if( strcmp(argv[i], "--patch") == 0 ) patch = v;
        else if( strcmp(argv[i], "--chunk") == 0 ) chunk = v;
        else if( strcmp(argv[i], "--anchor-window") == 0 ) window = v;
        else if( strcmp(argv[i], "--frames") == 0 ) maxFrames = v;
        else if( strcmp(argv[i], "--threads") == 0 ) threads = v;
        else{
            fprintf(stderr, "bench_stream: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    // one thread by default: a frame is a few tokens, whose products are too small to share
    sptt_model_set_threads(threads);
    sptt_config c;
    sptt_config_default(&c);
    c.vocab_size = 512;
    c.hidden = hidden;
    c.n_layer = layers;
    c.head_dim = 16;
    c.n_head = hidden / 16;
    c.n_kv_head = c.n_head / 2 > 0 ? c.n_head / 2 : 1;
    c.ffn = 3 * hidden;
    c.ttt_heads = 4;
    c.ttt_rope_dim = 8;
    c.rope_sections[0] = 4; c.rope_sections[1] = 2; c.rope_sections[2] = 2;
    c.chunk = chunk;
    c.window = chunk;
    c.anchor_every = 4;
    c.frame_w = c.frame_h = frame;
    c.patch = patch;
    if( sptt_config_validate(&c) ){
        fprintf(stderr, "bench_stream: %s\n", sptt_errmsg());
        return 2;
    }
    int aMark[NMARK] = { 64, 256, 1024, 4096 }, nMark = 0;
    for(int k = 0; k < NMARK && aMark[k] <= maxFrames; k++) nMark++;
    if( nMark == 0 ){ aMark[0] = maxFrames; nMark = 1; }
    int tpp = (frame / patch) * (frame / patch) + 2;
    char zOn[32];
    if( device ) snprintf(zOn, sizeof zOn, "on the GPU");
    else snprintf(zOn, sizeof zOn, "%d threads", omp_get_max_threads());   /* tokens per frame pair: its patches, video start and end */
    printf("streaming: hidden %d, %d layers (every 4th an anchor), chunk = window = %d, %dx%d frames of %d tokens per pair,\n"
           "anchor window %d for (i); %s\n", hidden, layers, chunk, frame, frame, tpp, window, zOn);
    const char *azName[3] = { "(i) hybrid, anchors bounded", "(ii) hybrid, anchors grow", "(iii) all full attention" };
    mark res[3][NMARK];
    for(int v = 0; v < 3; v++){
        sptt_config cv = c;
        if( v == 2 ) cv.all_full = 1;
        if( run_child(&cv, v == 0 ? window : 0, aMark, nMark, res[v]) ){
            fprintf(stderr, "bench_stream: %s failed\n", azName[v]);
            return 1;
        }
        for(int k = 0; k < nMark; k++){
            printf("%-30s %5d frames  state %9.1f KiB  peak RSS %7.1f MiB  %7.3f ms/frame\n", azName[v], res[v][k].frames,
                   res[v][k].stateKiB, res[v][k].rssMiB, res[v][k].msPerFrame);
        }
    }
    int K = nMark - 1, k0 = nMark > 1 ? 1 : 0;
    double sr = res[0][K].stateKiB / res[0][k0].stateKiB, rr = res[0][K].rssMiB / res[0][k0].rssMiB;
    int flat = sr < 1.05 && sr > 0.95 && rr < 1.05 && rr > 0.95;
    double tr = res[0][K].msPerFrame / res[0][k0].msPerFrame;
    printf("bounded hybrid from %d to %d frames: state x%.3f, peak RSS x%.3f: memory %s within 5%%; ms/frame x%.2f: time %s within 5%%\n",
           res[0][k0].frames, res[0][K].frames, sr, rr, flat ? "flat" : "NOT flat", tr, tr < 1.05 && tr > 0.95 ? "flat" : "NOT flat");
    printf("growing anchors from %d to %d frames: state x%.2f; all full attention: state x%.2f, ms/frame x%.2f\n",
           res[1][k0].frames, res[1][K].frames, res[1][K].stateKiB / res[1][k0].stateKiB,
           res[2][K].stateKiB / res[2][k0].stateKiB, res[2][K].msPerFrame / res[2][k0].msPerFrame);
    printf("at %d frames against all full attention: bounded hybrid state x%.3f, %.2fx the speed; growing anchors state x%.3f\n",
           res[0][K].frames, res[0][K].stateKiB / res[2][K].stateKiB, res[2][K].msPerFrame / res[0][K].msPerFrame,
           res[1][K].stateKiB / res[2][K].stateKiB);
    return 0;
}
