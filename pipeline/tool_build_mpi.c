/*
** sptt-build: every scene under the given folders through ingest, geometry and annotate, on one
** process or under mpirun.
**
** Ranks. Rank 0 opens the dataset, merges what a killed earlier run left in shards, finds the
** scenes and sends the list (largest first) to the others. Each rank then takes the next scene
** nobody has taken (sptt_build_comm.xNext) until none is left. Alone, a rank writes into the
** dataset itself; in a job of several, each writes its own shard, DB.shard-<rank>, beside the
** dataset (so the packs, all written into the one pack folder, are found from both by the same
** relative path), starting each scene from the dataset's rows so that finished work is skipped.
** At the end rank 0 merges the shards into the dataset, one transaction per scene, and removes
** them. The merged rows equal a one-process build's (tests/e2e/build.sh says how exactly).
**
** Resuming. Every stage of every scene commits on its own and is skipped when current, and a
** shard is merged at the start of the next run when the last one died before merging it; so a
** kill loses at most the scenes in flight.
*/
#include "sptt_build.h"
#include "sptt_build_mpi.h"
#include "sptt_cli.h"
#include "sptt_dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOOL "sptt-build"
#define BUILD_PATH_MAX 4096
/* Shards one build may leave: one per rank. */
#define BUILD_MAX_SHARDS 65536

/* Per-stage tallies, summed over the ranks as doubles. */
enum { T_DONE, T_SKIPPED, T_FAILED, T_SECONDS, T_COLS };
typedef struct build_tally {
    double a[SPTT_STAGE_COUNT + 1][T_COLS];   /* the stages, then whole scenes */
} build_tally;

typedef struct build_args {
    sptt_build_opts o;
    sptt_stream_opts streams;     /* nStreams 0: none */
    const char *zDb, *zMerge, *zLabels;
    int frame[2], image[2], render[2], obb;
    int quiet;
} build_args;

/* ---------------------------------------------------------------------------------------------
** Shards
*/
static int shard_path(const char *zDb, int rank, char *z, size_t n)
{
    return sptt_pathf(z, n, "%s.shard-%d", zDb, rank);
}

static void shard_remove(const char *zShard)
{
    static const char *const azSuffix[] = { "", "-wal", "-shm", "-journal" };
    for(size_t i = 0; i < sizeof azSuffix / sizeof azSuffix[0]; i++){
        char z[BUILD_PATH_MAX];
        if( sptt_pathf(z, sizeof z, "%s%s", zShard, azSuffix[i])==SPTT_OK ) unlink(z);
    }
}

/* Merges zShard into db and removes it; one line unless quiet. */
static int merge_one(sqlite3 *db, const char *zShard, int quiet, int remove)
{
    int n = 0, rc = sptt_dataset_merge(db, zShard, &n);
    if( rc ) return rc;
    if( !quiet ) printf("%s: merged %s from %s\n", TOOL, sptt_plural(n, "scene", NULL), zShard);
    if( remove ) shard_remove(zShard);
    return SPTT_OK;
}

/* Shards an earlier run left (it was killed before merging them): DB.shard-<digits>. */
static int merge_leftovers(sqlite3 *db, const char *zDb, int quiet)
{
    char zDir[BUILD_PATH_MAX], zShard[BUILD_PATH_MAX];
    const char *slash = strrchr(zDb, '/');
    const char *zBase = slash ? slash + 1 : zDb;
    size_t nBase = strlen(zBase);
    struct dirent **a = NULL;
    int n, rc = SPTT_OK, nShard = 0;
    if( slash==zDb ) snprintf(zDir, sizeof zDir, "/");
    else if( slash ) snprintf(zDir, sizeof zDir, "%.*s", (int)(slash - zDb), zDb);
    else snprintf(zDir, sizeof zDir, ".");
    n = scandir(zDir, &a, NULL, alphasort);
    if( n < 0 ) return sptt_fail(SPTT_EIO, "%s: cannot list: %s", zDir, strerror(errno));
    for(int i = 0; i < n; i++){
        const char *z = a[i]->d_name;
        if( rc==SPTT_OK && strncmp(z, zBase, nBase)==0 && strncmp(z + nBase, ".shard-", 7)==0 && z[nBase + 7] &&
            strspn(z + nBase + 7, "0123456789")==strlen(z + nBase + 7) ){
            if( ++nShard > BUILD_MAX_SHARDS ) rc = sptt_fail(SPTT_EINVAL, "%s: more than %d shards", zDir, BUILD_MAX_SHARDS);
            else if( (rc = sptt_pathf(zShard, sizeof zShard, "%s/%s", zDir, z))==SPTT_OK ){
                if( !quiet ) printf("%s: %s was left by an earlier run: merging it first\n", TOOL, zShard);
                rc = merge_one(db, zShard, quiet, 1);
            }
        }
        free(a[i]);
    }
    free(a);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** The summary
*/
static void print_summary(const build_tally *t, int nScenes, int nRanks, double seconds)
{
    static const char *const azRow[SPTT_STAGE_COUNT + 1] = { "ingest", "geometry", "annotate", "scenes" };
    double done = t->a[SPTT_STAGE_COUNT][T_DONE] + t->a[SPTT_STAGE_COUNT][T_SKIPPED];
    printf("%s: %s on %s in %.1f s: %.0f scenes/hour\n", TOOL, sptt_plural(nScenes, "scene", NULL), sptt_plural(nRanks, "rank", NULL),
           seconds, seconds > 0 ? done * 3600.0 / seconds : 0.0);
    printf("  %-9s %8s %8s %8s %10s\n", "", "done", "skipped", "failed", "seconds");
    for(int s = 0; s <= SPTT_STAGE_COUNT; s++)
        printf("  %-9s %8.0f %8.0f %8.0f %10.2f\n", azRow[s], t->a[s][T_DONE], t->a[s][T_SKIPPED], t->a[s][T_FAILED],
               s==SPTT_STAGE_COUNT ? seconds : t->a[s][T_SECONDS]);
}

static void summary_json(const build_tally *t, int nScenes, int nRanks, double seconds, sptt_buf *b)
{
    const double *w = t->a[SPTT_STAGE_COUNT];
    sptt_buf_printf(b, "{\"scenes\":%d,\"done\":%.0f,\"skipped\":%.0f,\"failed\":%.0f,\"seconds\":%.3f,\"ranks\":%d,\"stages\":{", nScenes,
                    w[T_DONE], w[T_SKIPPED], w[T_FAILED], seconds, nRanks);
    for(int s = 0; s < SPTT_STAGE_COUNT; s++)
        sptt_buf_printf(b, "%s\"%s\":{\"done\":%.0f,\"skipped\":%.0f,\"failed\":%.0f,\"seconds\":%.3f}", s ? "," : "",
                        sptt_build_stage_name(s), t->a[s][T_DONE], t->a[s][T_SKIPPED], t->a[s][T_FAILED], t->a[s][T_SECONDS]);
    sptt_buf_put(b, "}}", 3);
}

/* ---------------------------------------------------------------------------------------------
** The build
*/

/* This rank's share: scenes taken one at a time until none is left. */
static void build_loop(sptt_build_comm *c, sqlite3 *db, const sptt_build_items *items, const build_args *g, build_tally *t,
                       int *pStatus)
{
    sptt_progress prog;
    int64_t i;
    sptt_progress_start(&prog, "scenes", (uint64_t)items->n);
    prog.perHour = 1;
    if( c->rank!=0 ) prog.enabled = 0;
    for(;;){
        if( c->xNext(c, &i) ){
            sptt_report(TOOL, "rank %d: %s", c->rank, sptt_errmsg());
            *pStatus = 1;
            break;
        }
        if( i >= items->n ) break;
        const sptt_build_item *it = &items->a[i];
        sptt_build_result r;
        int64_t nFinished = 0;
        int rc = sptt_build_scene(db, it, &g->o, &r), ran = 0;
        for(int s = 0; s < SPTT_STAGE_COUNT; s++){
            if( r.aRan[s] > 0 ) t->a[s][T_DONE]++;
            if( r.aRan[s]==0 ) t->a[s][T_SKIPPED]++;
            t->a[s][T_SECONDS] += r.aSeconds[s];
            ran |= r.aRan[s] > 0;
        }
        sptt_progress_end(&prog);
        if( rc ){
            /* One line for the scene: its name, the stage, the message; the others go on. */
            t->a[r.failedStage][T_FAILED]++;
            t->a[SPTT_STAGE_COUNT][T_FAILED]++;
            fprintf(stderr, "%s: %s: %s failed: %s\n", TOOL, it->zName, sptt_build_stage_name(r.failedStage), sptt_errmsg());
            *pStatus = 1;
        }else{
            t->a[SPTT_STAGE_COUNT][ran ? T_DONE : T_SKIPPED]++;
            /* Under mpirun each line says which rank built the scene. */
            if( !g->quiet && c->size > 1 ) printf("[rank %d] %s\n", c->rank, r.zLine);
            else if( !g->quiet ) printf("%s\n", r.zLine);
        }
        fflush(stdout);
        if( c->xFinished(c, &nFinished)==SPTT_OK && nFinished > (int64_t)prog.done )
            sptt_progress_step(&prog, (uint64_t)nFinished - prog.done);
    }
    sptt_progress_end(&prog);
}

/* Rank 0's start: the scenes found (before anything is written, so that a wrong folder is a
** usage error that leaves no file), the dataset opened (created when absent), shards of an
** earlier run merged. Returns the exit status on failure, -1 to go on. */
static int build_start(build_args *g, const char *const *azRoot, int nRoot, sqlite3 **pDb, sptt_build_items *pItems)
{
    int rc;
    if( (rc = sptt_build_discover(azRoot, nRoot, g->zLabels, pItems)) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        return sptt_exit_status(rc)==1 ? 1 : 2;
    }
    if( (rc = sptt_dataset_open(g->zDb, SPTT_DB_CREATE, pDb)) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        return 2;
    }
    if( (rc = merge_leftovers(*pDb, g->zDb, g->quiet)) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        return 1;
    }
    return -1;
}

static int run_build(sptt_build_comm *c, build_args *g, int argc, char **argvTyped, const char *const *azRoot, int nRoot)
{
    sptt_build_items items = {0};
    sqlite3 *db = NULL, *shard = NULL;
    sptt_buf list = {0};
    build_tally t;
    char zShard[BUILD_PATH_MAX] = "";
    int64_t runId = 0;
    int status = -1, rc;
    uint64_t nList = 0;
    double t0 = sptt_now();

    memset(&t, 0, sizeof t);
    if( c->rank==0 ){
        status = build_start(g, azRoot, nRoot, &db, &items);
        if( status < 0 && (rc = sptt_build_items_encode(&items, &list)) ) status = 1;
        if( status < 0 && (rc = sptt_run_begin(db, TOOL, argc, argvTyped, &runId)) ){
            sptt_report(TOOL, "%s", sptt_errmsg());
            status = 1;
        }
        nList = status < 0 ? list.n : 0;
    }
    /* Every rank learns the start's outcome and the list from rank 0. */
    if( c->xBcast(c, &status, sizeof status) || c->xBcast(c, &nList, sizeof nList) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        status = 1;
        goto done;
    }
    if( status >= 0 ) goto done;
    if( c->rank!=0 ){
        list.p = sptt_malloc(nList ? nList : 1);
        list.n = list.cap = nList;
        if( list.p==NULL ) list.rc = SPTT_ENOMEM;
    }
    {
        int bad = list.rc!=0;
        if( !bad && c->xBcast(c, list.p, nList) ) bad = 1;
        if( !bad && c->rank!=0 && sptt_build_items_decode(list.p, nList, &items) ) bad = 1;
        if( bad ) sptt_report(TOOL, "rank %d: %s", c->rank, sptt_errmsg());
        if( c->xMaxInt(c, &bad) || bad ){
            status = 1;
            goto done;
        }
    }
    if( items.n==0 && !g->quiet && c->rank==0 ) sptt_report(TOOL, "no scenes found");

    status = 0;
    if( c->size > 1 ){
        /* Each rank its own shard beside the dataset. A stale one of this name was merged above. */
        int bad = 0;
        if( (rc = shard_path(g->zDb, c->rank, zShard, sizeof zShard))==SPTT_OK ){
            shard_remove(zShard);
            rc = sptt_dataset_open(zShard, SPTT_DB_CREATE, &shard);
        }
        if( rc ){
            sptt_report(TOOL, "rank %d: %s", c->rank, sptt_errmsg());
            bad = 1;
        }
        if( c->xMaxInt(c, &bad) || bad ){
            status = 1;
            goto done;
        }
        g->o.zCopyFrom = g->zDb;
    }
    build_loop(c, shard ? shard : db, &items, g, &t, &status);
    if( shard ){
        sptt_dataset_close(shard);
        shard = NULL;
    }
    /* Every shard is closed before rank 0 reads them. */
    if( c->xBarrier(c) || c->xSumDouble(c, &t.a[0][0], (SPTT_STAGE_COUNT + 1) * T_COLS) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        status = 1;
    }
    if( c->rank==0 ){
        for(int r = 0; r < c->size && c->size > 1; r++){
            if( shard_path(g->zDb, r, zShard, sizeof zShard) || merge_one(db, zShard, 1, 1) ){
                /* The shard stays: the next run merges it first. */
                sptt_report(TOOL, "%s", sptt_errmsg());
                status = 1;
            }
        }
        /* Streams walk the finished scenes, so they come after the merge, on the dataset itself. */
        if( g->streams.nStreams > 0 ){
            sptt_stream_result sr;
            g->streams.seed = g->o.annotate.seed;
            if( (rc = sptt_annotate_streams(db, &g->streams, &sr)) ){
                sptt_report(TOOL, "streams: %s", sptt_errmsg());
                if( status==0 ) status = sptt_exit_status(rc)==2 ? 2 : 1;
            }else if( !g->quiet ){
                printf("%s: %s\n", TOOL, sr.zSummary);
            }
        }
        if( !g->quiet ) print_summary(&t, items.n, c->size, sptt_now() - t0);
        {
            sptt_buf b = {0};
            summary_json(&t, items.n, c->size, sptt_now() - t0, &b);
            if( b.rc || sptt_run_end(db, runId, status, (const char *)b.p) ){
                sptt_report(TOOL, "%s", b.rc ? "out of memory" : sptt_errmsg());
                status = 1;
            }
            sptt_buf_free(&b);
        }
    }

done:
    if( c->xMaxInt(c, &status) ) status = 1;
    sptt_dataset_close(shard);
    sptt_dataset_close(db);
    sptt_build_items_free(&items);
    sptt_buf_free(&list);
    return status;
}

static int run_merge(sptt_build_comm *c, const build_args *g, int nShard, char **azShard)
{
    sqlite3 *db = NULL;
    int status = 0, rc;
    if( c->rank!=0 ) return 0;
    if( (rc = sptt_dataset_open(g->zMerge, SPTT_DB_CREATE, &db)) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        return 2;
    }
    for(int i = 0; i < nShard; i++){
        char *zA = realpath(g->zMerge, NULL), *zB = realpath(azShard[i], NULL);
        int self = zA && zB && strcmp(zA, zB)==0;
        free(zA);
        free(zB);
        if( self ){
            sptt_report(TOOL, "%s: is the dataset merged into, not a shard", azShard[i]);
            status = 2;
            continue;
        }
        if( (rc = merge_one(db, azShard[i], g->quiet, 0)) ){
            sptt_report(TOOL, "%s", sptt_errmsg());
            status = sptt_exit_status(rc)==1 ? 1 : 2;
        }
    }
    sptt_dataset_close(db);
    return status;
}

/* ---------------------------------------------------------------------------------------------
*/

/* Parses the command line; only rank 0 speaks (every rank decides the same). Returns -1 to go on. */
static int parse(sptt_build_comm *c, sptt_cli *cli, int argc, char **argv, int *pFirst)
{
    int saved[2] = { -1, -1 }, status;
    if( c->rank!=0 ){
        int null = open("/dev/null", O_WRONLY);
        fflush(stdout);
        fflush(stderr);
        saved[0] = dup(1);
        saved[1] = dup(2);
        if( null >= 0 ){
            dup2(null, 1);
            dup2(null, 2);
            close(null);
        }
    }
    status = sptt_cli_parse(cli, argc, argv, pFirst);
    if( c->rank!=0 ){
        fflush(stdout);
        fflush(stderr);
        for(int k = 0; k < 2; k++){
            if( saved[k] >= 0 ){
                dup2(saved[k], k + 1);
                close(saved[k]);
            }
        }
    }
    return status;
}

static int check_args(sptt_build_comm *c, sptt_cli *cli, build_args *g, int nArg)
{
    struct stat sb;
    const char *zErr = NULL;
    char zMsg[512];
    if( g->zMerge ){
        if( g->zDb ) zErr = "--merge DB takes the dataset itself: give no --db";
        else if( nArg==0 ) zErr = "--merge DB SHARD...: no shard given";
    }else{
        if( g->zDb==NULL ) zErr = "--db DB is required";
        else if( nArg==0 ) zErr = "no source folder given";
        else if( g->zLabels && (stat(g->zLabels, &sb)!=0 || !S_ISREG(sb.st_mode)) ){
            snprintf(zMsg, sizeof zMsg, "--labels %s: no such file", g->zLabels);
            zErr = zMsg;
        }
    }
    if( zErr==NULL && g->streams.nRooms > 0 && g->streams.nStreams==0 ) zErr = "--rooms describes streams: give --streams N too";
    if( zErr==NULL && g->zMerge && g->streams.nStreams > 0 ) zErr = "--streams is made by a build, not by --merge";
    if( zErr==NULL ) return -1;
    if( c->rank!=0 ) return 2;
    return sptt_cli_usage_error(cli, "%s", zErr);
}

int main(int argc, char **argv)
{
    static build_args g;
    sptt_build_comm c;
    char **argvTyped;
    int first = 0, status, argcTyped = argc;
    const sptt_option aOpt[] = {
        { "db", SPTT_ARG_STRING, &g.zDb, .zArg = "DB", .zHelp = "the dataset (created when absent)" },
        { "merge", SPTT_ARG_STRING, &g.zMerge, .zArg = "DB", .zHelp = "merge the shard datasets given as arguments into DB, and stop" },
        { "force", SPTT_ARG_FLAG, &g.o.force, .zHelp = "redo every stage of every scene, current or not" },
        /* ingest */
        { "labels", SPTT_ARG_STRING, &g.zLabels, .zArg = "TSV",
          .zHelp = "ingest: ScanNet's scannetv2-labels.combined.tsv (default: the one beside\neach scans/ folder)" },
        { "pack-dir", SPTT_ARG_STRING, &g.o.ingest.zPackDir, .zArg = "DIR", .zHelp = "ingest: where packs go (default: packs/ beside DB)" },
        { "fps", SPTT_ARG_DOUBLE, &g.o.ingest.fps, 0.01, 1000, .zArg = "F", .zHelp = "ingest: frames kept per second (default 24; ARKitScenes 10)" },
        { "source-fps", SPTT_ARG_DOUBLE, &g.o.ingest.sourceFps, 0.01, 1000, .zArg = "F",
          .zHelp = "ingest: ScanNet frame rate assumed when .sens timestamps are 0 (default 24)" },
        { "frame-size", SPTT_ARG_FN, g.frame, .xParse = sptt_ingest_parse_frame_size, .zArg = "WxH",
          .zHelp = "ingest: size of the frames stored in the pack (default 320x240;\nARKitScenes keeps 256x192, turned upright)" },
        { "no-images", SPTT_ARG_FLAG, &g.o.ingest.noFrames, .zHelp = "ingest: keep the camera walk but store no frame images" },
        { "sample", SPTT_ARG_U64, &g.o.ingest.nSample, 1, 1e9, .zArg = "N", .zHelp = "ingest: also store N uniform surface samples" },
        { "sample-seed", SPTT_ARG_U64, &g.o.ingest.seed, 0, 9007199254740992.0, .zArg = "S", .zHelp = "ingest: seed for --sample (sptt-ingest --seed; default 0)" },
        { "replace", SPTT_ARG_FLAG, &g.o.ingest.replace, .zHelp = "ingest: replace a scene of the same name from another source" },
        /* geometry */
        { "alpha", SPTT_ARG_DOUBLE, &g.o.geometry.room.alpha, 0, 1e6, .zArg = "A", .zHelp = "geometry: alpha shape parameter, 1/metres (default 5)" },
        { "room-sample", SPTT_ARG_FN, &g.o.geometry.room.sample, .xParse = sptt_geometry_parse_room_sample, .zArg = "N|all",
          .zHelp = "geometry: points drawn for the alpha shape (default 10000)" },
        { "room-seed", SPTT_ARG_U64, &g.o.geometry.room.seed, 0, 9007199254740992.0, .zArg = "S",
          .zHelp = "geometry: seed of that draw (sptt-geometry --seed; default 0)" },
        { "obb", SPTT_ARG_CHOICE, &g.obb, .zChoices = "minimal|upright", .zArg = "KIND", .zHelp = "geometry: box stored in objects (default minimal)" },
        { "min-points", SPTT_ARG_INT, &g.o.geometry.minPoints, 1, 1e9, .zArg = "N", .zHelp = "geometry: instances with fewer points get no box (default 4)" },
        { "png", SPTT_ARG_STRING, &g.o.geometry.zPngDir, .zArg = "DIR", .zHelp = "geometry: also write DIR/<scene>.png, a top-down picture" },
        /* annotate */
        { "tasks", SPTT_ARG_FN, &g.o.annotate.tasks, .xParse = sptt_annotate_parse_tasks, .zArg = "LIST",
          .zHelp = "annotate: comma-separated question types (default: all)" },
        { "frames", SPTT_ARG_INT, &g.o.annotate.nFrames, 1, 10000000, .zArg = "N", .zHelp = "annotate: frames to project, spread evenly (default: all)" },
        { "image", SPTT_ARG_SIZE, g.image, .zArg = "WxH", .zHelp = "annotate: projection raster size (default 320x240)" },
        { "min-pixels", SPTT_ARG_INT, &g.o.annotate.minPixels, 1, 100000000, .zArg = "N",
          .zHelp = "annotate: pixels an object needs in a frame to count as seen (default 20)" },
        { "masks", SPTT_ARG_STRING, &g.o.annotate.zMaskDir, .zArg = "DIR", .zHelp = "annotate: write per-frame instance and label masks below DIR" },
        { "render-frames", SPTT_ARG_SIZE, g.render, .zArg = "WxH", .zHelp = "annotate: render frames into packs that have none" },
        { "descriptions", SPTT_ARG_INT, &g.o.annotate.nVariants, 0, 100, .zArg = "N", .zHelp = "annotate: walkthrough descriptions per scene (default 3)" },
        { "seed", SPTT_ARG_U64, &g.o.annotate.seed, 0, 9007199254740992.0, .zArg = "S", .zHelp = "annotate: seed of every random choice (default 0)" },
        { "streams", SPTT_ARG_INT, &g.streams.nStreams, 1, 100000, .zArg = "N",
          .zHelp = "after every scene: N long-horizon streams of --rooms annotated scenes\n(sptt-annotate --streams, with --seed)" },
        { "rooms", SPTT_ARG_INT, &g.streams.nRooms, 1, 64, .zArg = "R", .zHelp = "streams: scenes walked one after another (default 3)" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = TOOL,
        .zSynopsis = "--db DB [--labels TSV] [--pack-dir DIR] [stage options] SOURCE_DIR...\n"
                     "--merge DB SHARD...",
        .zAbout = "Finds the ScanNet scenes (scans/<scene>/) and ARKitScenes videos (3dod/<split>/<video>/)\n"
                  "under the source folders and runs ingest, geometry and annotate on each, largest first,\n"
                  "with the single tools' options. A stage whose rows are current for the same inputs and\n"
                  "options is skipped, so a stopped or killed build run again finishes the rest. A failing\n"
                  "scene is reported (name, stage, message) and the others go on; the run ends with a\n"
                  "table of scenes and stages done, skipped and failed, and status 1 if any failed.\n"
                  "Under Open MPI, mpirun -np N sptt-build --db DB ... SOURCE_DIR..., the scenes are shared\n"
                  "out as ranks become free; each rank writes a shard, DB.shard-<rank>, which rank 0 merges\n"
                  "into DB at the end (or the next run, after a kill). DB, the packs and the sources must be\n"
                  "on a file system every rank sees.",
        .aOpt = aOpt,
        .nArgMin = 0,
        .nArgMax = -1,
        .zArgName = "source folder",
        .zNotes = "Pictures (--png) and masks (--masks) are written when their stage runs: a stage skipped as\n"
                  "current writes none (--force redoes it).\n"
                  "Exit status: 0 every scene built or current; 1 some scene failed, or a shard could not be\n"
                  "merged; 2 a usage error or a dataset that cannot be opened.\n",
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    sptt_memory_keep();
    /* getopt reorders argv; the runs table records the command line as typed. */
    argvTyped = malloc(sizeof(char *) * (size_t)(argc + 1));
    if( argvTyped==NULL ){
        fprintf(stderr, "%s: out of memory\n", TOOL);
        return 1;
    }
    memcpy(argvTyped, argv, sizeof(char *) * (size_t)(argc + 1));
    if( sptt_build_comm_mpi_init(&argc, &argv, &c) ){
        sptt_report(TOOL, "%s", sptt_errmsg());
        free(argvTyped);
        return 1;
    }
    g.o.ingest.fps = -1;
    g.o.ingest.sourceFps = 24;
    g.frame[0] = 320;
    g.frame[1] = 240;
    sptt_geometry_opts_default(&g.o.geometry);
    sptt_annotate_opts_default(&g.o.annotate);
    g.image[0] = g.o.annotate.width;
    g.image[1] = g.o.annotate.height;
    status = parse(&c, &cli, argc, argv, &first);
    if( status < 0 ) status = check_args(&c, &cli, &g, argc - first);
    if( status < 0 ){
        g.quiet = cli.quiet;
        sptt_progress_quiet(g.quiet);
        g.o.ingest.quiet = g.o.geometry.quiet = g.quiet;
        g.o.ingest.frameW = g.frame[0];
        g.o.ingest.frameH = g.frame[1];
        g.o.geometry.obbKind = g.obb==1 ? SPTT_OBB_UPRIGHT : SPTT_OBB_MINIMAL;
        g.o.annotate.width = g.image[0];
        g.o.annotate.height = g.image[1];
        g.o.annotate.renderW = g.render[0];
        g.o.annotate.renderH = g.render[1];
        if( g.streams.nRooms==0 ) g.streams.nRooms = 3;
        if( g.zMerge ) status = run_merge(&c, &g, argc - first, argv + first);
        else status = run_build(&c, &g, argcTyped, argvTyped, (const char *const *)(argv + first), argc - first);
    }
    sptt_build_comm_mpi_finalize(&c);
    free(argvTyped);
    return status;
}
