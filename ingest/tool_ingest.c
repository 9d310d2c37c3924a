/*
** sptt-ingest: raw dataset scenes -> scene packs + dataset rows.
*/
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_ingest.h"
#include "sptt_schemas.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zUsage[] =
    "usage: sptt-ingest scannet SCENE_DIR... --labels TSV --db DB [options]\n"
    "       sptt-ingest arkitscenes VIDEO_DIR... --db DB [options]\n"
    "       sptt-ingest mesh FILE... --db DB [--labels MAP] [--up y|z] [options]\n"
    "\n"
    "Reads raw scenes and writes, per scene, a scene pack and its rows (scenes, objects, frames)\n"
    "in one transaction. A scene whose inputs are unchanged since its last ingest is skipped.\n"
    "A scene with bad input is reported on one line and left untouched; the others go on.\n"
    "\n"
    "  --db DB              dataset (created when absent)\n"
    "  --pack-dir DIR       where packs go (default: packs/ beside DB)\n"
    "  --labels FILE        scannet: scannetv2-labels.combined.tsv (required);\n"
    "                       mesh: a table 'name<TAB>raw label[<TAB>nyu40 id]' (optional)\n"
    "  --align FILE         scannet: a file holding the axisAlignment line, for scenes without one\n"
    "  --sens FILE          scannet: the RGB-D stream (default SCENE_DIR/<scene>.sens)\n"
    "  --poses DIR          scannet: exported pose/ and intrinsic/ instead of the .sens\n"
    "  --fps F              frames kept per second (default 24; arkitscenes 10)\n"
    "  --source-fps F       scannet: frame rate assumed when .sens timestamps are 0 (default 24)\n"
    "  --frame-size WxH     size of the frames stored in the pack (default 320x240; arkitscenes\n"
    "                       keeps 256x192, turned upright)\n"
    "  --no-images          keep the camera walk but store no frame images\n"
    "  --sample N           also store N uniform surface samples (area-weighted, seeded)\n"
    "  --seed S             seed for --sample (default 0)\n"
    "  --up y|z             mesh: the file's up axis (default z; y for .gltf/.glb)\n"
    "  --force              re-ingest even when the inputs are unchanged\n"
    "  --quiet              no per-scene summary lines\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 when every scene was ingested or skipped, 2 when some input was bad,\n"
    "1 on other errors.\n";

typedef int (*ingest_fn)(sqlite3 *, const char *, const sptt_ingest_opts *, sptt_ingest_result *);

int main(int argc, char **argv)
{
    sptt_ingest_opts o;
    const char *zDb = NULL, *zCmd;
    ingest_fn fn = NULL;
    sqlite3 *db = NULL;
    int64_t runId = 0;
    int status = 0, nDone = 0, nSkipped = 0, nFailed = 0;
    int rc;
    static const struct option aOpt[] = {
        {"db", required_argument, 0, 'd'},        {"pack-dir", required_argument, 0, 'p'},
        {"labels", required_argument, 0, 'l'},    {"align", required_argument, 0, 'a'},
        {"sens", required_argument, 0, 's'},      {"poses", required_argument, 0, 'P'},
        {"fps", required_argument, 0, 'f'},       {"source-fps", required_argument, 0, 'F'},
        {"frame-size", required_argument, 0, 'z'}, {"no-images", no_argument, 0, 'I'},
        {"sample", required_argument, 0, 'n'},    {"seed", required_argument, 0, 'S'},
        {"up", required_argument, 0, 'u'},        {"force", no_argument, 0, 'x'},
        {"quiet", no_argument, 0, 'q'},           {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},         {0, 0, 0, 0},
    };

    if( argc >= 2 && (strcmp(argv[1], "--help")==0 || strcmp(argv[1], "-h")==0) ){
        fputs(zUsage, stdout);
        return 0;
    }
    if( argc >= 2 && strcmp(argv[1], "--version")==0 ){
        printf("sptt-ingest %s\n", SPTT_VERSION);
        return 0;
    }
    sptt_memory_keep();
    if( argc < 2 ){
        fputs(zUsage, stderr);
        return 2;
    }
    zCmd = argv[1];
    /* getopt_long reorders argv; the runs table records the command line as typed. */
    char *argvCopy[argc + 1];
    memcpy(argvCopy, argv, sizeof(char *) * (size_t)(argc + 1));
    memset(&o, 0, sizeof o);
    o.fps = -1;
    o.sourceFps = 24;
    o.frameW = 320;
    o.frameH = 240;
    if( strcmp(zCmd, "scannet")==0 ) fn = sptt_ingest_scannet;
    else if( strcmp(zCmd, "arkitscenes")==0 ) fn = sptt_ingest_arkit;
    else if( strcmp(zCmd, "mesh")==0 ) fn = sptt_ingest_mesh;
    else{
        sptt_report("sptt-ingest", "unknown source '%s': expected scannet, arkitscenes or mesh (see --help)", zCmd);
        return 2;
    }
    optind = 2;
    for(;;){
        int c = getopt_long(argc, argv, "", aOpt, NULL);
        long v;
        double dv;
        if( c==-1 ) break;
        rc = SPTT_OK;
        switch( c ){
        case 'd': zDb = optarg; break;
        case 'p': o.zPackDir = optarg; break;
        case 'l': o.zLabels = optarg; break;
        case 'a': o.zAlign = optarg; break;
        case 's': o.zSens = optarg; break;
        case 'P': o.zPoses = optarg; break;
        case 'f': rc = sptt_parse_double("--fps", optarg, 0.01, 1000, &o.fps); break;
        case 'F': rc = sptt_parse_double("--source-fps", optarg, 0.01, 1000, &o.sourceFps); break;
        case 'z': rc = sptt_parse_size("--frame-size", optarg, &o.frameW, &o.frameH); break;
        case 'I': o.noFrames = 1; break;
        case 'n': rc = sptt_parse_int("--sample", optarg, 1, 1000000000L, &v); o.nSample = (uint64_t)v; break;
        case 'S': rc = sptt_parse_double("--seed", optarg, 0, 9007199254740992.0, &dv); o.seed = (uint64_t)dv; break;
        case 'u':
            if( strcmp(optarg, "y")!=0 && strcmp(optarg, "z")!=0 ) rc = sptt_fail(SPTT_EINVAL, "--up: '%s' is not y or z", optarg);
            o.zUp = optarg;
            break;
        case 'x': o.force = 1; break;
        case 'q': o.quiet = 1; break;
        case 'h': fputs(zUsage, stdout); return 0;
        case 'V': printf("sptt-ingest %s\n", SPTT_VERSION); return 0;
        default: fputs(zUsage, stderr); return 2;
        }
        if( rc ){
            sptt_report("sptt-ingest", "%s", sptt_errmsg());
            return 2;
        }
    }
    if( zDb==NULL ){
        sptt_report("sptt-ingest", "--db DB is required (see --help)");
        return 2;
    }
    if( optind >= argc ){
        sptt_report("sptt-ingest", "no %s given (see --help)", strcmp(zCmd, "mesh")==0 ? "FILE" : "scene folder");
        return 2;
    }
    if( o.fps < 0 ) o.fps = strcmp(zCmd, "arkitscenes")==0 ? 10 : 24;
    o.zDbPath = zDb;

    rc = sptt_dataset_open(zDb, SPTT_DB_CREATE, &db);
    if( rc==SPTT_OK ) rc = sptt_run_begin(db, "sptt-ingest", argc, argvCopy, &runId);
    if( rc ){
        sptt_report("sptt-ingest", "%s", sptt_errmsg());
        sptt_dataset_close(db);
        return sptt_exit_status(rc);
    }
    for(int i = optind; i < argc; i++){
        sptt_ingest_result r;
        rc = fn(db, argv[i], &o, &r);
        if( rc ){
            /* One line per bad scene; the others go on. */
            sptt_report("sptt-ingest", "%s", sptt_errmsg());
            nFailed++;
            if( sptt_exit_status(rc) > status || status==0 ) status = sptt_exit_status(rc);
            continue;
        }
        if( r.skipped ) nSkipped++;
        else nDone++;
        if( !o.quiet ) printf("%s\n", r.zSummary);
    }
    {
        char zSummary[128];
        snprintf(zSummary, sizeof zSummary, "{\"ingested\":%d,\"skipped\":%d,\"failed\":%d}", nDone, nSkipped, nFailed);
        if( sptt_run_end(db, runId, status, zSummary) ) sptt_report("sptt-ingest", "%s", sptt_errmsg());
        if( !o.quiet && argc - optind > 1 ) printf("%d ingested, %d unchanged, %d failed\n", nDone, nSkipped, nFailed);
    }
    sptt_dataset_close(db);
    return status;
}
