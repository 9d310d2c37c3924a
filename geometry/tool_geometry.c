/*
** sptt-geometry: room size, height and centre, and object boxes, for ingested scenes.
*/
#include "sptt_common.h"
#include "sptt_db.h"
#include "sptt_geometry.h"
#include "sptt_schemas.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char zUsage[] =
    "usage: sptt-geometry --db DB [--scene NAME ...] [--alpha A] [--room-sample N|all] [--seed S]\n"
    "                     [--obb minimal|upright] [--min-points N] [--png DIR] [--quiet]\n"
    "\n"
    "Computes, for each ingested scene, the room (alpha-shape area with enclosed holes filled,\n"
    "outline, height, centre of the minimal box of all points) and a minimal-volume and an\n"
    "upright box per object, and writes them in one transaction per scene. Wall, floor and\n"
    "ceiling get no box. ARKitScenes objects keep their annotation box; the fitted ones are\n"
    "stored beside it in object_boxes.\n"
    "\n"
    "  --db DB              dataset written by sptt-ingest\n"
    "  --scene NAME         only this scene (repeatable; default every scene with a pack)\n"
    "  --alpha A            alpha shape parameter, 1/metres: triangles with circumradius < 1/A\n"
    "                       are kept (default 5, i.e. 0.2 m); 0 gives the convex hull\n"
    "  --room-sample N|all  points drawn (seeded, with replacement) for the alpha shape\n"
    "                       (default 10000, as the reference); all = every distinct point\n"
    "  --seed S             seed of that draw (default 0)\n"
    "  --obb KIND           box stored in objects: minimal (default, the reference's) or upright\n"
    "  --min-points N       instances with fewer points get no box (default 4)\n"
    "  --png DIR            also write DIR/<scene>.png, a top-down picture\n"
    "  --quiet              no per-scene lines and no warnings on stderr\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 when every scene was done, 2 for bad arguments or input, 1 otherwise.\n";

typedef struct name_list {
    char **az;
    int n, cap;
} name_list;

static int name_add(name_list *l, const char *z)
{
    if( l->n==l->cap ){
        int cap = l->cap ? 2 * l->cap : 16;
        char **p = sptt_realloc(l->az, (size_t)cap * sizeof(char *));
        if( p==NULL ) return SPTT_ENOMEM;
        l->az = p;
        l->cap = cap;
    }
    l->az[l->n] = strdup(z);
    if( l->az[l->n]==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    l->n++;
    return SPTT_OK;
}

static void name_free(name_list *l)
{
    for(int i = 0; i < l->n; i++) free(l->az[i]);
    free(l->az);
}

static int list_scenes(sqlite3 *db, name_list *l)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, "SELECT name FROM scenes WHERE pack_path IS NOT NULL ORDER BY name", &st);
    while( rc==SPTT_OK && sqlite3_step(st)==SQLITE_ROW ) rc = name_add(l, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc;
}

int main(int argc, char **argv)
{
    sptt_geometry_opts o;
    name_list scenes = {0};
    const char *zDb = NULL;
    sqlite3 *db = NULL;
    int64_t runId = 0;
    int rc = SPTT_OK, status = 0, nDone = 0, nFailed = 0, nBoxes = 0, nSkipped = 0, nWarn = 0, haveRun = 0;
    static const struct option aOpt[] = {
        {"db", required_argument, 0, 'd'},          {"scene", required_argument, 0, 's'},
        {"alpha", required_argument, 0, 'a'},       {"room-sample", required_argument, 0, 'r'},
        {"seed", required_argument, 0, 'S'},        {"obb", required_argument, 0, 'o'},
        {"min-points", required_argument, 0, 'm'},  {"png", required_argument, 0, 'p'},
        {"quiet", no_argument, 0, 'q'},             {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},           {0, 0, 0, 0},
    };

    memset(&o, 0, sizeof o);
    sptt_memory_keep();
    o.room.alpha = 5;
    o.room.sample = 10000;
    o.obbKind = SPTT_OBB_MINIMAL;
    o.minPoints = 4;
    for(;;){
        int c = getopt_long(argc, argv, "", aOpt, NULL);
        long v;
        double d;
        if( c==-1 ) break;
        rc = SPTT_OK;
        switch( c ){
        case 'd': zDb = optarg; break;
        case 's': rc = name_add(&scenes, optarg); break;
        case 'a': rc = sptt_parse_double("--alpha", optarg, 0, 1e6, &o.room.alpha); break;
        case 'r':
            if( strcmp(optarg, "all")==0 ){
                o.room.sample = 0;
            }else{
                rc = sptt_parse_int("--room-sample", optarg, 1, 1000000000L, &v);
                o.room.sample = (uint64_t)v;
            }
            break;
        case 'S':
            rc = sptt_parse_double("--seed", optarg, 0, 9007199254740992.0, &d);
            o.room.seed = (uint64_t)d;
            break;
        case 'o':
            if( strcmp(optarg, "minimal")==0 ) o.obbKind = SPTT_OBB_MINIMAL;
            else if( strcmp(optarg, "upright")==0 ) o.obbKind = SPTT_OBB_UPRIGHT;
            else rc = sptt_fail(SPTT_EINVAL, "--obb: '%s' is not minimal or upright", optarg);
            break;
        case 'm':
            rc = sptt_parse_int("--min-points", optarg, 1, 1000000000L, &v);
            o.minPoints = (int)v;
            break;
        case 'p': o.zPngDir = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'h': fputs(zUsage, stdout); return 0;
        case 'V': printf("sptt-geometry %s\n", SPTT_VERSION); return 0;
        default: fputs(zUsage, stderr); return 2;
        }
        if( rc ){
            sptt_report("sptt-geometry", "%s", sptt_errmsg());
            name_free(&scenes);
            return 2;
        }
    }
    if( optind < argc ){
        sptt_report("sptt-geometry", "unexpected argument '%s' (see --help)", argv[optind]);
        name_free(&scenes);
        return 2;
    }
    if( zDb==NULL ){
        sptt_report("sptt-geometry", "--db DB is required (see --help)");
        name_free(&scenes);
        return 2;
    }
    if( access(zDb, F_OK)!=0 ){
        sptt_report("sptt-geometry", "%s: no such dataset (sptt-ingest creates it)", zDb);
        name_free(&scenes);
        return 2;
    }
    rc = sptt_dataset_open(zDb, 0, &db);
    if( rc ){
        sptt_report("sptt-geometry", "%s", sptt_errmsg());
        name_free(&scenes);
        return sptt_exit_status(rc);
    }
    if( scenes.n==0 ){
        rc = list_scenes(db, &scenes);
    }else{
        /* Every named scene must exist before any work starts. */
        for(int i = 0; i < scenes.n && rc==SPTT_OK; i++){
            int64_t id;
            if( sptt_scene_id(db, scenes.az[i], &id) ) rc = sptt_fail(SPTT_EINVAL, "--scene %s: not in %s", scenes.az[i], zDb);
        }
    }
    if( rc==SPTT_OK ){
        rc = sptt_run_begin(db, "sptt-geometry", argc, argv, &runId);
        haveRun = rc==SPTT_OK;
    }
    if( rc ){
        sptt_report("sptt-geometry", "%s", sptt_errmsg());
        status = sptt_exit_status(rc);
        goto done;
    }
    for(int i = 0; i < scenes.n; i++){
        sptt_geometry_report rep;
        int src = sptt_geometry_scene(db, zDb, scenes.az[i], &o, &rep);
        if( src ){
            /* One line for the scene; the others go on. */
            sptt_report("sptt-geometry", "%s", sptt_errmsg());
            nFailed++;
            status = status==2 || sptt_exit_status(src)==2 ? 2 : 1;
            continue;
        }
        nDone++;
        nBoxes += rep.nBoxes;
        nSkipped += rep.nSkipped;
        nWarn += rep.nWarnings;
        if( !o.quiet )
            printf("%s: room %.1f m2, %.2f m high; %d boxes, %d skipped, %d structural; %d warnings; %.0f ms\n", scenes.az[i],
                   rep.roomArea, rep.roomHeight, rep.nBoxes, rep.nSkipped, rep.nStructure, rep.nWarnings, rep.seconds * 1e3);
    }
done:
    if( haveRun ){
        char zSummary[256];
        snprintf(zSummary, sizeof zSummary, "{\"scenes\":%d,\"failed\":%d,\"boxes\":%d,\"skipped\":%d,\"warnings\":%d}", nDone,
                 nFailed, nBoxes, nSkipped, nWarn);
        if( sptt_run_end(db, runId, status, zSummary) ){
            sptt_report("sptt-geometry", "%s", sptt_errmsg());
            if( status==0 ) status = 1;
        }
    }
    sptt_dataset_close(db);
    name_free(&scenes);
    return status;
}
