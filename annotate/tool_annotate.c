/*
** sptt-annotate: visibility, scene graph, QA and descriptions for the scenes of a dataset.
*/
#include "sptt_annotate.h"
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_schemas.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zUsage[] =
    "usage: sptt-annotate --db DB [--scene NAME ...] [options]\n"
    "\n"
    "Projects each scene's mesh into its frames (visibility, first appearances), builds its scene\n"
    "graph, generates VSI-Bench-style questions and dense walkthrough descriptions, and replaces\n"
    "the scene's annotations in one transaction. Needs sptt-geometry to have run on the scene.\n"
    "\n"
    "  --db DB                 the dataset\n"
    "  --scene NAME            a scene to annotate (repeatable; default: every scene)\n"
    "  --tasks LIST            comma-separated question types (default: all), among:\n"
    "                          %s\n"
    "  --frames N              frames to project, spread evenly (default: all)\n"
    "  --image WxH             projection raster size (default 320x240)\n"
    "  --min-pixels N          pixels an object needs in a frame to count as seen (default 20)\n"
    "  --masks DIR             write per-frame masks: DIR/<scene>/instance/<frame>.png (16-bit\n"
    "                          instance ids) and DIR/<scene>/label/<frame>.png (8-bit NYU40)\n"
    "  --render-frames WxH     scenes without frame images: render them from vertex colours\n"
    "                          into the pack (the training input)\n"
    "  --descriptions N        walkthrough descriptions per scene (default 3)\n"
    "  --seed S                seed of every random choice (default 0)\n"
    "  --quiet                 no per-scene summary lines\n"
    "  --help, --version\n";

static int parse_tasks(const char *zList, unsigned *pMask)
{
    int n;
    const char *const *az = sptt_annotate_task_names(&n);
    const char *z = zList;
    *pMask = 0;
    while( *z ){
        const char *comma = strchr(z, ',');
        size_t len = comma ? (size_t)(comma - z) : strlen(z);
        int found = 0;
        for(int i = 0; i < n; i++){
            if( strlen(az[i])==len && strncmp(az[i], z, len)==0 ){
                *pMask |= 1u << i;
                found = 1;
            }
        }
        if( !found ) return sptt_fail(SPTT_EINVAL, "--tasks: unknown question type '%.*s' (see --help)", (int)len, z);
        z = comma ? comma + 1 : z + len;
    }
    return SPTT_OK;
}

int main(int argc, char **argv)
{
    sptt_annotate_opts o;
    const char *zDb = NULL;
    const char **azScene = NULL;
    int nScene = 0, quiet = 0, status = 0, nDone = 0, nFailed = 0;
    int aQuestions[16] = {0}, aScenesWithout[16] = {0};
    sqlite3 *db = NULL;
    int64_t runId = 0;
    int rc;
    char *argvCopy[argc + 1];
    static const struct option aOpt[] = {
        {"db", required_argument, 0, 'd'},          {"scene", required_argument, 0, 's'},
        {"tasks", required_argument, 0, 't'},       {"frames", required_argument, 0, 'f'},
        {"image", required_argument, 0, 'i'},       {"min-pixels", required_argument, 0, 'm'},
        {"masks", required_argument, 0, 'M'},       {"render-frames", required_argument, 0, 'r'},
        {"descriptions", required_argument, 0, 'D'}, {"seed", required_argument, 0, 'S'},
        {"quiet", no_argument, 0, 'q'},             {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},           {0, 0, 0, 0},
    };
    memcpy(argvCopy, argv, sizeof(char *) * (size_t)(argc + 1));
    memset(&o, 0, sizeof o);
    o.tasks = ~0u;
    o.width = 320;
    o.height = 240;
    o.minPixels = 20;
    o.nVariants = 3;
    sptt_memory_keep();
    azScene = malloc(sizeof(char *) * (size_t)(argc + 1));
    if( azScene==NULL ) return 1;
    for(;;){
        int c = getopt_long(argc, argv, "", aOpt, NULL);
        long v;
        double d;
        if( c==-1 ) break;
        rc = SPTT_OK;
        switch( c ){
        case 'd': zDb = optarg; break;
        case 's': azScene[nScene++] = optarg; break;
        case 't': rc = parse_tasks(optarg, &o.tasks); break;
        case 'f': rc = sptt_parse_int("--frames", optarg, 1, 10000000, &v); o.nFrames = (int)v; break;
        case 'i': rc = sptt_parse_size("--image", optarg, &o.width, &o.height); break;
        case 'm': rc = sptt_parse_int("--min-pixels", optarg, 1, 100000000, &v); o.minPixels = (int)v; break;
        case 'M': o.zMaskDir = optarg; break;
        case 'r': rc = sptt_parse_size("--render-frames", optarg, &o.renderW, &o.renderH); break;
        case 'D': rc = sptt_parse_int("--descriptions", optarg, 0, 100, &v); o.nVariants = (int)v; break;
        case 'S': rc = sptt_parse_double("--seed", optarg, 0, 9007199254740992.0, &d); o.seed = (uint64_t)d; break;
        case 'q': quiet = 1; break;
        case 'h': {
            int n;
            const char *const *az = sptt_annotate_task_names(&n);
            char zList[600] = "";
            for(int i = 0; i < n; i++){
                if( i ) strcat(zList, i % 3==0 ? ",\n                          " : ", ");
                strcat(zList, az[i]);
            }
            printf(zUsage, zList);
            free(azScene);
            return 0;
        }
        case 'V': printf("sptt-annotate %s\n", SPTT_VERSION); free(azScene); return 0;
        default: fputs("see sptt-annotate --help\n", stderr); free(azScene); return 2;
        }
        if( rc ){
            sptt_report("sptt-annotate", "%s", sptt_errmsg());
            free(azScene);
            return 2;
        }
    }
    if( optind < argc ){
        sptt_report("sptt-annotate", "unexpected argument '%s' (see --help)", argv[optind]);
        free(azScene);
        return 2;
    }
    if( zDb==NULL ){
        sptt_report("sptt-annotate", "--db DB is required (see --help)");
        free(azScene);
        return 2;
    }
    rc = sptt_dataset_open(zDb, 0, &db);
    if( rc==SPTT_OK ) rc = sptt_run_begin(db, "sptt-annotate", argc, argvCopy, &runId);
    if( rc==SPTT_OK && nScene==0 ){
        /* Every scene, in name order. */
        sqlite3_stmt *s;
        rc = sptt_db_prepare(db, "SELECT name FROM scenes ORDER BY name", &s);
        while( rc==SPTT_OK && sqlite3_step(s)==SQLITE_ROW ){
            const char **grown = realloc(azScene, sizeof(char *) * (size_t)(nScene + 1));
            if( grown==NULL ){ rc = SPTT_ENOMEM; break; }
            azScene = grown;
            azScene[nScene++] = strdup((const char *)sqlite3_column_text(s, 0));
        }
        if( rc==SPTT_OK ) sqlite3_finalize(s);
        if( nScene==0 && rc==SPTT_OK ) sptt_report("sptt-annotate", "%s holds no scenes (run sptt-ingest first)", zDb);
    }else if( rc==SPTT_OK ){
        /* Names from the command line are not ours to free. */
        for(int i = 0; i < nScene; i++) azScene[i] = strdup(azScene[i]);
    }
    if( rc ){
        sptt_report("sptt-annotate", "%s", sptt_errmsg());
        sptt_dataset_close(db);
        free(azScene);
        return sptt_exit_status(rc);
    }
    for(int i = 0; i < nScene; i++){
        sptt_annotate_result r;
        rc = sptt_annotate_scene(db, azScene[i], &o, &r);
        if( rc ){
            sptt_report("sptt-annotate", "%s", sptt_errmsg());
            nFailed++;
            if( status==0 || sptt_exit_status(rc) > status ) status = sptt_exit_status(rc);
            continue;
        }
        nDone++;
        for(int t = 0; t < 16; t++){
            aQuestions[t] += r.nPerTask[t];
            aScenesWithout[t] += (o.tasks & (1u << t)) && r.nPerTask[t]==0;
        }
        if( !quiet ) printf("%s\n", r.zSummary);
    }
    {
        /* The run's summary: per question type, the questions made and the scenes that got
        ** none (no frames, no unique objects, every candidate rejected). */
        int nTask;
        const char *const *azTask = sptt_annotate_task_names(&nTask);
        char zSummary[2048];
        size_t n = (size_t)snprintf(zSummary, sizeof zSummary, "{\"annotated\":%d,\"failed\":%d,\"tasks\":{", nDone, nFailed);
        for(int t = 0; t < nTask && n < sizeof zSummary; t++){
            n += (size_t)snprintf(zSummary + n, sizeof zSummary - n, "%s\"%s\":{\"questions\":%d,\"scenes_without\":%d}",
                                  t ? "," : "", azTask[t], aQuestions[t], aScenesWithout[t]);
        }
        if( n < sizeof zSummary ) snprintf(zSummary + n, sizeof zSummary - n, "}}");
        if( sptt_run_end(db, runId, status, zSummary) ) sptt_report("sptt-annotate", "%s", sptt_errmsg());
        if( !quiet && nScene > 1 ){
            printf("%d annotated, %d failed; questions per type (scenes without any):\n", nDone, nFailed);
            for(int t = 0; t < nTask; t++){
                if( o.tasks & (1u << t) ) printf("  %-28s %6d (%d)\n", azTask[t], aQuestions[t], aScenesWithout[t]);
            }
        }
    }
    for(int i = 0; i < nScene; i++) free((char *)azScene[i]);
    free(azScene);
    sptt_dataset_close(db);
    return status;
}
