/*
** Shared by the benchmarks: one --scale scannet synthetic scene, generated once into
** build/bench-data and reused by every later run.
*/
#ifndef SPTT_BENCH_DATA_H
#define SPTT_BENCH_DATA_H

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_synth.h"

#define BENCH_ROOT "build/bench-data/raw"
#define BENCH_SCENE BENCH_ROOT "/scannet/scans/scene0700_00"
#define BENCH_TSV BENCH_ROOT "/scannet/scannetv2-labels.combined.tsv"

static int bench_scannet_scene(void)
{
    sptt_synth_opts so;
    double t0 = sptt_now();
    int threads = omp_get_max_threads();
    if( access(BENCH_SCENE "/scene0700_00.sens", R_OK)==0 ) return 0;
    sptt_mkdirs("build/bench-data");
    memset(&so, 0, sizeof so);
    so.zOut = BENCH_ROOT;
    so.nScenes = 1;
    so.seed = 1;
    so.formats = SPTT_SYNTH_SCANNET;
    so.scale = SPTT_SCALE_SCANNET;
    so.quiet = 1;
    omp_set_num_threads(omp_get_num_procs());
    fprintf(stderr, "bench: generating a --scale scannet scene once (about a minute)...\n");
    if( sptt_synth_run(&so) ){
        fprintf(stderr, "bench: %s\n", sptt_errmsg());
        return -1;
    }
    fprintf(stderr, "bench: generated in %.1f s\n", sptt_now() - t0);
    omp_set_num_threads(threads);
    return 0;
}

#endif
