/*
** The per-scene run loop every dataset tool shares (sptt_dataset.h): one option parser, one way
** of choosing scenes, one transaction per scene inside the stage, one error line per failed
** scene, one summary line and one rule for the exit status.
*/
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Picks the subcommand (argv[1]) of a tool that has them. Returns -1 to go on, or the status. */
static int pick_command(const sptt_tool *t, sptt_cli *cli, int argc, char **argv)
{
    char zList[128];
    int i = 0;
    if( argc >= 2 && (strcmp(argv[1], "--help")==0 || strcmp(argv[1], "-h")==0) ){
        sptt_cli_help(cli, stdout);
        return 0;
    }
    if( argc >= 2 && strcmp(argv[1], "--version")==0 ){
        printf("%s %s\n", cli->zTool, SPTT_VERSION);
        return 0;
    }
    {
        size_t n = 0;
        for(const char *z = t->zCommands; *z && n + 3 < sizeof zList; z++){
            if( *z=='|' ){
                zList[n++] = ',';
                zList[n++] = ' ';
            }else{
                zList[n++] = *z;
            }
        }
        zList[n] = 0;
    }
    if( argc < 2 ) return sptt_cli_usage_error(cli, "no command given: expected one of %s", zList);
    if( argv[1][0]=='-' ) return sptt_cli_usage_error(cli, "unknown option '%s'", argv[1]);
    for(const char *z = t->zCommands; ; i++){
        const char *bar = strchr(z, '|');
        size_t n = bar ? (size_t)(bar - z) : strlen(z);
        if( strlen(argv[1])==n && strncmp(z, argv[1], n)==0 ){
            *t->pCommand = i;
            return -1;
        }
        if( bar==NULL ) break;
        z = bar + 1;
    }
    return sptt_cli_usage_error(cli, "unknown command '%s': expected one of %s", argv[1], zList);
}

/* Refuses, before SQLite creates anything, a dataset path that cannot work: a missing file when
** the tool may not create one, or a folder that does not exist. */
static int check_dataset_path(const sptt_tool *t, const char *zDb)
{
    struct stat sb;
    if( stat(zDb, &sb)==0 ){
        if( !S_ISREG(sb.st_mode) ) return sptt_fail(SPTT_EINVAL, "%s: not a regular file", zDb);
        return SPTT_OK;
    }
    if( !t->create ) return sptt_fail(SPTT_EINVAL, "%s: no such dataset (sptt-ingest creates it)", zDb);
    {
        char zDir[SPTT_PATH_MAX];
        const char *slash = strrchr(zDb, '/');
        if( slash==NULL ) snprintf(zDir, sizeof zDir, ".");
        else if( slash==zDb ) snprintf(zDir, sizeof zDir, "/");
        else snprintf(zDir, sizeof zDir, "%.*s", (int)(slash - zDb), zDb);
        if( stat(zDir, &sb)!=0 || !S_ISDIR(sb.st_mode) )
            return sptt_fail(SPTT_EINVAL, "%s: cannot create the dataset: folder %s does not exist", zDb, zDir);
        if( access(zDir, W_OK)!=0 )
            return sptt_fail(SPTT_EINVAL, "%s: cannot create the dataset: folder %s is not writable", zDb, zDir);
    }
    return SPTT_OK;
}

static void summary_line(const sptt_tool *t, int n, int nDone, int nSkipped, int nFailed, double seconds)
{
    printf("%s: %s: %d %s, %d unchanged, %d failed in %.1f s\n", t->cli.zTool, sptt_plural(n, "scene", NULL), nDone, t->zVerb,
           nSkipped, nFailed, seconds);
}

int sptt_tool_main(const sptt_tool *t, int argc, char **argv)
{
    sptt_cli cli = t->cli;
    sptt_scene_names items = {0};
    sqlite3 *db = NULL;
    int64_t runId = 0;
    int off = 0, first = 0, status = -1, rc = SPTT_OK, haveRun = 0;
    int nDone = 0, nSkipped = 0, nFailed = 0, noScenes = 0;
    double t0 = sptt_now();
    char **argvTyped;

    sptt_memory_keep();
    /* getopt reorders argv; the runs table records the command line as typed. */
    argvTyped = sptt_malloc(sizeof(char *) * (size_t)(argc + 1));
    if( argvTyped==NULL ){
        fprintf(stderr, "%s: out of memory\n", cli.zTool);
        return 1;
    }
    memcpy(argvTyped, argv, sizeof(char *) * (size_t)(argc + 1));
    cli.dataset = 1;
    if( t->zCommands ){
        if( (status = pick_command(t, &cli, argc, argv)) >= 0 ) goto done;
        off = 1;
    }
    if( (status = sptt_cli_parse(&cli, argc - off, argv + off, &first)) >= 0 ) goto done;
    first += off;
    if( t->pQuiet ) *t->pQuiet = cli.quiet;
    if( t->xCheck && (rc = t->xCheck(t->pCtx, argc - first, argv + first)) ){
        status = sptt_cli_usage_error(&cli, "%s", sptt_errmsg());
        goto done;
    }
    noScenes = t->pNoScenes && *t->pNoScenes;
    if( (rc = check_dataset_path(t, *t->pzDb)) || (rc = sptt_dataset_open(*t->pzDb, t->create ? SPTT_DB_CREATE : 0, &db)) ){
        sptt_report(cli.zTool, "%s", sptt_errmsg());
        status = 2;
        goto done;
    }
    if( noScenes ){
        /* nothing to select: the run is xAfter's */
    }else if( t->pScenes ){
        sptt_scene_query q;
        memset(&q, 0, sizeof q);
        q.azName = t->pScenes->az;
        q.nName = t->pScenes->n;
        q.state = t->state;
        rc = sptt_scene_select(db, &q, &items);
    }else{
        items.az = sptt_calloc((size_t)(argc - first) + 1, sizeof(char *));
        if( items.az==NULL ) rc = SPTT_ENOMEM;
        for(int i = first; i < argc && rc==SPTT_OK; i++){
            items.az[items.n] = strdup(argv[i]);
            if( items.az[items.n]==NULL ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
            else items.n++;
        }
    }
    if( rc ){
        sptt_report(cli.zTool, "%s", sptt_errmsg());
        status = sptt_exit_status(rc)==1 ? 1 : 2;
        goto done;
    }
    if( items.n==0 && !cli.quiet && !noScenes ){
        sptt_report(cli.zTool, "%s holds no scene %s needs (%s)", *t->pzDb, cli.zTool,
                    t->state==SPTT_STATE_GEOMETRY ? "run sptt-geometry first" : "run sptt-ingest first");
    }
    if( (rc = sptt_run_begin(db, cli.zTool, argc, argvTyped, &runId)) ){
        sptt_report(cli.zTool, "%s", sptt_errmsg());
        status = 1;
        goto done;
    }
    haveRun = 1;
    status = 0;
    {
        sptt_progress prog;
        sptt_progress_start(&prog, "scenes", (uint64_t)items.n);
        for(int i = 0; i < items.n; i++){
            sptt_scene_result r;
            memset(&r, 0, sizeof r);
            rc = t->xScene(t->pCtx, db, items.az[i], &r);
            if( rc ){
                /* One line for the scene; the others go on. */
                int s = sptt_exit_status(rc);
                sptt_progress_end(&prog);
                sptt_report(cli.zTool, "%s", sptt_errmsg());
                nFailed++;
                if( s > status || (status==1 && s==2) ) status = s;
            }else{
                if( r.skipped ) nSkipped++;
                else nDone++;
                if( !cli.quiet && r.zLine[0] ){
                    sptt_progress_end(&prog);
                    printf("%s\n", r.zLine);
                    fflush(stdout);
                }
            }
            sptt_progress_step(&prog, 1);
        }
        sptt_progress_end(&prog);
    }
    if( !cli.quiet && !noScenes ){
        summary_line(t, items.n, nDone, nSkipped, nFailed, sptt_now() - t0);
        if( t->xReport ) t->xReport(t->pCtx, stdout);
    }
    if( t->xAfter && (rc = t->xAfter(t->pCtx, db)) ){
        int s = sptt_exit_status(rc);
        sptt_report(cli.zTool, "%s", sptt_errmsg());
        if( s > status || (status==1 && s==2) ) status = s;
    }

done:
    if( haveRun ){
        sptt_buf b = {0};
        sptt_buf_printf(&b, "{\"scenes\":%d,\"%s\":%d,\"unchanged\":%d,\"failed\":%d", items.n, t->zVerb, nDone, nSkipped, nFailed);
        if( t->xSummaryJson ){
            sptt_buf_put(&b, ",", 1);
            t->xSummaryJson(t->pCtx, &b);
        }
        sptt_buf_put(&b, "}", 2);
        if( b.rc || sptt_run_end(db, runId, status, (const char *)b.p) ){
            sptt_report(cli.zTool, "%s", b.rc ? "out of memory" : sptt_errmsg());
            if( status==0 ) status = 1;
        }
        sptt_buf_free(&b);
    }
    sptt_dataset_close(db);
    sptt_scene_names_free(&items);
    free(argvTyped);
    return status < 0 ? 0 : status;
}
