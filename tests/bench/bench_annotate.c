/*
** Annotate benchmark on a --scale scannet synthetic scene (1,600 frames), one core:
** projection at 320x240 (frames per second), relations + QA, descriptions, the whole scene;
** then how projection time grows with the number of triangles and of frames.
*/
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotate.h"
#include "bench_data.h"
#include "sptt_common.h"
#include "sptt_geometry.h"
#include "sptt_ingest.h"

static const char zDb[] = "build/bench-data/annotate.db";

static int prepare(void)
{
    sqlite3 *db;
    sptt_ingest_opts io;
    sptt_ingest_result ir;
    sptt_geometry_opts go;
    sptt_geometry_report gr;
    int rc;
    unlink(zDb);
    if( sptt_dataset_open(zDb, SPTT_DB_CREATE, &db) ) return -1;
    memset(&io, 0, sizeof io);
    io.zLabels = BENCH_TSV;
    io.fps = 24;
    io.sourceFps = 24;
    io.noFrames = 1;
    io.quiet = 1;
    rc = sptt_ingest_scannet(db, BENCH_SCENE, &io, &ir);
    sptt_geometry_opts_default(&go);
    go.quiet = 1;
    if( rc==SPTT_OK ) rc = sptt_geometry_scene(db, "scene0700_00", &go, &gr);
    if( rc ) fprintf(stderr, "bench_annotate: %s\n", sptt_errmsg());
    sptt_dataset_close(db);
    return rc;
}

static double time_projection(ann_scene *s, int nFrames, uint64_t nFaces)
{
    ann_project_opts po;
    ann_projection pj;
    uint64_t keep = s->pack.nFaces;
    double t0;
    memset(&po, 0, sizeof po);
    po.nFrames = nFrames;
    po.width = 320;
    po.height = 240;
    po.minPixels = 20;
    s->pack.nFaces = nFaces;   /* a prefix of the faces: fewer triangles, same scene */
    t0 = sptt_now();
    if( ann_project(s, &po, &pj) ) fprintf(stderr, "bench_annotate: %s\n", sptt_errmsg());
    t0 = sptt_now() - t0;
    ann_projection_free(&pj);
    s->pack.nFaces = keep;
    return t0;
}

int main(void)
{
    sqlite3 *db;
    ann_scene s;
    ann_output out;
    ann_qa_opts qo;
    ann_describe_opts dopt;
    double tProj, tRel, tQa, tDesc;

    if( bench_scannet_scene() || prepare() ) return 1;
    omp_set_num_threads(1);
    if( sptt_dataset_open(zDb, 0, &db) || ann_scene_load(db, "scene0700_00", 0, &s) ){
        fprintf(stderr, "bench_annotate: %s\n", sptt_errmsg());
        return 1;
    }
    memset(&out, 0, sizeof out);
    tProj = time_projection(&s, 0, s.pack.nFaces);
    /* keep the appearance fields of the full projection for QA */
    {
        ann_project_opts po;
        ann_projection pj;
        memset(&po, 0, sizeof po);
        po.width = 320;
        po.height = 240;
        po.minPixels = 20;
        ann_project(&s, &po, &pj);
        ann_projection_free(&pj);
    }
    tRel = sptt_now();
    ann_relations(&s, &out);
    tRel = sptt_now() - tRel;
    memset(&qo, 0, sizeof qo);
    qo.tasks = ANN_TASKS_VSIBENCH;   /* what sptt-annotate makes by default */
    tQa = sptt_now();
    ann_generate_qa(&s, &qo, &out);
    tQa = sptt_now() - tQa;
    memset(&dopt, 0, sizeof dopt);
    dopt.nVariants = 3;
    tDesc = sptt_now();
    ann_describe(&s, &dopt, &out);
    tDesc = sptt_now() - tDesc;

    printf("%-54s %12s %10s\n", "annotate, scannet-scale scene, one core", "value", "target");
    printf("%-54s %12llu\n", "points / triangles", (unsigned long long)s.pack.nPoints);
    printf("%-54s %12llu\n", "", (unsigned long long)s.pack.nFaces);
    printf("%-54s %10.2f s  %10s\n", "projection of every frame at 320x240", tProj, "");
    printf("%-54s %10.0f /s\n", "  frames per second", s.pack.nFrames / tProj);
    printf("%-54s %10.3f s  (%zu relations)\n", "scene graph", tRel, out.nRel);
    printf("%-54s %10.3f s  (%zu questions)\n", "QA, every task", tQa, out.nQa);
    printf("%-54s %10.3f s  (%zu texts)\n", "descriptions", tDesc, out.nDesc);
    printf("%-54s %10.2f s  %10s\n", "whole scene", tProj + tRel + tQa + tDesc, "<= 5 s");

    printf("\nprojection time against triangles (every frame) and frames (all triangles):\n");
    printf("%-12s %10s %14s   %-10s %10s %14s\n", "triangles", "seconds", "us/tri/frame", "frames", "seconds", "ms/frame");
    for(int k = 0; k < 4; k++){
        uint64_t nf = s.pack.nFaces >> (3 - k);
        int fr = (int)(s.pack.nFrames >> (3 - k));
        double a = time_projection(&s, 0, nf), b = time_projection(&s, fr, s.pack.nFaces);
        printf("%-12llu %10.2f %14.4f   %-10d %10.2f %14.2f\n", (unsigned long long)nf, a, 1e6 * a / (double)nf / (double)s.pack.nFrames,
               fr, b, 1e3 * b / fr);
    }
    ann_output_free(&out);
    ann_scene_free(&s);
    sptt_dataset_close(db);
    return 0;
}
