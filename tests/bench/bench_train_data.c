/*
** Benchmark of the trainer's data path on demo-like data (what `make demo` builds: 3 ScanNet
** scenes at 320x240 and 3 ARKitScenes videos at 256x192, 240 frames each), the small model's
** frames (16 frames of 64x64):
**   - one scene's frames read cold (pack decompressed, 16 JPEGs decoded and resized);
**   - the loader thread alone: samples per second of its one thread, for questions and for
**     descriptions, and its frame cache's hit rate;
**   - against the training step: the loader's time per batch as a share of a forward + backward
**     of the same batch on one core, and the time the step loop actually waited for batches.
** The dataset is built in a temporary folder below build/bench-data and removed afterwards.
*/
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "sptt_annotate.h"
#include "sptt_build.h"
#include "sptt_data.h"
#include "sptt_geometry.h"
#include "sptt_ingest.h"
#include "sptt_synth.h"

static char zDir[64] = "build/bench-data/tdata_XXXXXX";
static char zDb[128];

#define FAIL(what) do { fprintf(stderr, "bench_train_data: %s: %s\n", what, sptt_errmsg()); return 1; } while(0)

/* Through sptt-build's library (pipeline/sptt_build.h), as `make demo` builds its dataset: every
** scene synth wrote, with each source's frame rate. */
static int build_dataset(void)
{
    char zRaw[128];
    const char *azRoot[1] = { zRaw };
    sptt_synth_opts so;
    sptt_build_items items;
    sptt_build_opts bo;
    sptt_build_result br;
    sqlite3 *db;

    snprintf(zRaw, sizeof zRaw, "%s/raw", zDir);
    snprintf(zDb, sizeof zDb, "%s/dataset.db", zDir);
    memset(&so, 0, sizeof so);
    so.zOut = zRaw;
    so.nScenes = 3;
    so.seed = 0;
    so.formats = SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT;
    so.nFrames = 240;
    so.quiet = 1;
    if( sptt_synth_run(&so) ) FAIL("synth");
    if( sptt_build_discover(azRoot, 1, NULL, &items) ) FAIL("discover");
    if( sptt_dataset_open(zDb, SPTT_DB_CREATE, &db) ) FAIL("dataset");
    memset(&bo, 0, sizeof bo);
    bo.ingest.fps = -1;
    bo.ingest.sourceFps = 24;
    bo.ingest.frameW = 320;
    bo.ingest.frameH = 240;
    bo.ingest.quiet = 1;
    sptt_geometry_opts_default(&bo.geometry);
    bo.geometry.quiet = 1;
    sptt_annotate_opts_default(&bo.annotate);
    bo.annotate.nFrames = 32;
    bo.annotate.width = 160;
    bo.annotate.height = 120;
    bo.annotate.minPixels = 5;
    bo.annotate.nVariants = 3;
    for(int i = 0; i < items.n; i++){
        if( sptt_build_scene(db, &items.a[i], &bo, &br) ) FAIL(items.a[i].zName);
    }
    sptt_build_items_free(&items);
    sptt_dataset_close(db);
    return 0;
}

/* The loader alone, its batches taken as fast as they come, for nEpoch epochs. */
static int loader_alone(const sptt_loader_opts *o, int nEpoch, const char *zWhat)
{
    sptt_loader *L;
    sptt_loader_stats st;
    const sptt_sample *a;
    int nStep = (nEpoch * o->ex->n + o->batch - 1) / o->batch;
    long nTok = 0;
    double t0 = sptt_now();
    if( sptt_loader_open(o, 0, &L) ) FAIL("loader");
    for(int k = 0; k < nStep; k++){
        if( sptt_loader_next(L, &a, NULL) ) FAIL("loader");
        for(int j = 0; j < o->batch; j++) nTok += a[j].n_tokens;
    }
    double dt = sptt_now() - t0;
    sptt_loader_stats_get(L, &st);
    sptt_loader_close(L);
    printf("%-52s %10.0f /s  (%d examples, %d epochs, %.0f tokens/sample)\n", zWhat, nStep * o->batch / dt, o->ex->n, nEpoch,
           (double)nTok / (nStep * o->batch));
    printf("%-52s %10.0f /s  (%.2f ms a sample; scene reads %lld, cache hits %.0f%%)\n", "  the thread's own rate",
           (double)st.nSamples / st.workSeconds, 1e3 * st.workSeconds / (double)st.nSamples, (long long)st.nSceneReads,
           100.0 * (double)st.nSceneHits / (double)(st.nSceneHits + st.nSceneReads));
    return 0;
}

int main(void)
{
    sqlite3 *db;
    sptt_examples qa, desc;
    sptt_config cfg;
    sptt_tokenizer *tok = NULL;
    sptt_scene_names names;
    sptt_scene_query q;
    sptt_loader_opts lo;
    char cmd[128];
    const int nFrames = 16, batch = 8;
    double t0, tMiss = 0;

    sptt_mkdirs("build/bench-data");
    if( mkdtemp(zDir)==NULL ){
        perror("bench_train_data: mkdtemp");
        return 1;
    }
    sptt_progress_quiet(1);
    omp_set_num_threads(omp_get_num_procs());
    t0 = sptt_now();
    if( build_dataset() ) return 1;
    fprintf(stderr, "bench: demo-like dataset built in %.1f s\n", sptt_now() - t0);
    omp_set_num_threads(1);

    sptt_config_default(&cfg);
    if( sptt_dataset_open(zDb, SPTT_DB_READONLY, &db) ) FAIL("dataset");
    if( sptt_examples_load(db, SPTT_EXAMPLES_QA, NULL, &qa) || sptt_examples_load(db, SPTT_EXAMPLES_DESCRIPTIONS, NULL, &desc) )
        FAIL("examples");
    {
        int n = 0;
        const char **az = malloc(sizeof(char *) * (size_t)(2 * qa.n + desc.n));
        for(int i = 0; i < qa.n; i++){ az[n++] = qa.a[i].zPrompt; az[n++] = qa.a[i].zAnswer; }
        for(int i = 0; i < desc.n; i++) az[n++] = desc.a[i].zAnswer;
        if( sptt_tokenizer_fit(az, NULL, n, cfg.vocab_size, &tok) ) FAIL("tokenizer");
        free(az);
    }

    printf("%-52s %12s\n", "trainer data path, demo-like data, one thread", "value");
    memset(&q, 0, sizeof q);
    if( sptt_scene_select(db, &q, &names) ) FAIL("scenes");
    {
        float *px = malloc(sizeof(float) * (size_t)nFrames * cfg.frame_h * cfg.frame_w * 3);
        t0 = sptt_now();
        for(int i = 0; i < names.n; i++) if( sptt_scene_frames(db, names.az[i], &cfg, nFrames, px) ) FAIL(names.az[i]);
        printf("%-52s %10.1f ms (%d scenes, %d QA, %d descriptions)\n", "a scene's 16 frames at 64x64, cold", 1e3 * (sptt_now() - t0) / names.n,
               names.n, qa.n, desc.n);
        free(px);
    }
    sptt_scene_names_free(&names);

    /* A real-size scene: what a cache miss costs on a dataset too large for the cache to help. */
    if( bench_scannet_scene()==0 ){
        sqlite3 *big;
        sptt_ingest_opts io;
        sptt_ingest_result ir;
        char zBig[160];
        float *px = malloc(sizeof(float) * (size_t)nFrames * cfg.frame_h * cfg.frame_w * 3);
        snprintf(zBig, sizeof zBig, "%s/big.db", zDir);
        memset(&io, 0, sizeof io);
        io.zLabels = BENCH_TSV;
        io.fps = 24;
        io.sourceFps = 24;
        io.frameW = 320;
        io.frameH = 240;
        io.quiet = 1;
        omp_set_num_threads(omp_get_num_procs());
        if( sptt_dataset_open(zBig, SPTT_DB_CREATE, &big) || sptt_ingest_scannet(big, BENCH_SCENE, &io, &ir) ) FAIL("scannet-scale scene");
        omp_set_num_threads(1);
        t0 = sptt_now();
        for(int r = 0; r < 3; r++) if( sptt_scene_frames(big, "scene0700_00", &cfg, nFrames, px) ) FAIL("scannet-scale scene");
        tMiss = (sptt_now() - t0) / 3;
        printf("%-52s %10.1f ms (%llu points, %llu frames)\n", "the same for a ScanNet-size scene (a cache miss)", 1e3 * tMiss,
               (unsigned long long)ir.nPoints, (unsigned long long)ir.nFrames);
        sptt_dataset_close(big);
        free(px);
    }

    memset(&lo, 0, sizeof lo);
    lo.zDb = zDb;
    lo.data.cfg = &cfg;
    lo.data.tok = tok;
    lo.data.nFrames = nFrames;
    lo.data.zInstruction = "Describe the room as you walk through it.";
    lo.data.maxAnswerTokens = 512;
    lo.seed = 1;
    lo.batch = batch;
    lo.nRank = 1;
    lo.ex = &qa;
    if( loader_alone(&lo, 3, "loader, questions: samples per second") ) return 1;
    lo.ex = &desc;
    if( loader_alone(&lo, 20, "loader, descriptions: samples per second") ) return 1;

    /* Against the step: forward + backward of each batch sample on one core. */
    {
        sptt_model *m;
        sptt_loader *L;
        sptt_loader_stats st;
        const sptt_sample *a;
        const int nStep = 3;
        double tStep = 0, tFirst = 0, tWait;
        long nTok = 0;
        lo.ex = &qa;
        if( sptt_model_create(&cfg, 1, &m) ) FAIL("model");
        if( sptt_loader_open(&lo, 0, &L) ) FAIL("loader");
        for(int k = 0; k < nStep; k++){
            double ts = sptt_now();
            if( sptt_loader_next(L, &a, NULL) ) FAIL("loader");
            if( k==0 ) tFirst = sptt_loader_wait_seconds(L);
            sptt_model_zero_grad(m);
            for(int j = 0; j < batch; j++){
                float loss;
                int nLab;
                if( sptt_model_forward(m, &a[j], 0, &loss, &nLab) || sptt_model_backward(m, 1.0f) ) FAIL("model");
                nTok += a[j].n_tokens;
            }
            if( k > 0 ) tStep += sptt_now() - ts;
        }
        tWait = sptt_loader_wait_seconds(L) - tFirst;
        sptt_loader_stats_get(L, &st);
        sptt_loader_close(L);
        sptt_model_free(m);
        tStep /= nStep - 1;
        double perBatch = st.workSeconds / ((double)st.nSamples / batch);
        printf("%-52s %10.2f s  (batch %d, %ld tokens a sample)\n", "training step, small model, one core", tStep, batch,
               nTok / (nStep * batch));
        printf("%-52s %10.2f %%  %10s\n", "loader's time per batch / step time", 100 * perBatch / tStep, "< 5 %");
        printf("%-52s %10.4f s  (first batch, cold: %.3f s)\n", "waited for batches in steps 2 and 3", tWait, tFirst);
        if( tMiss > 0 ) printf("%-52s %10.2f %%  %10s\n", "  the same, ScanNet-size scenes, every example a miss", 100 * batch * tMiss / tStep, "< 5 %");
    }

    sptt_tokenizer_free(tok);
    sptt_examples_free(&qa);
    sptt_examples_free(&desc);
    sptt_dataset_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", zDir);
    if( system(cmd) ) return 1;
    return 0;
}
