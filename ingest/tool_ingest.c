/*
** sptt-ingest: raw dataset scenes -> scene packs + dataset rows.
*/
#include "sptt_dataset.h"
#include "sptt_ingest.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef int (*ingest_fn)(sqlite3 *, const char *, const sptt_ingest_opts *, sptt_ingest_result *);

typedef struct ingest_run {
    sptt_ingest_opts o;
    int command;                 /* 0 scannet, 1 arkitscenes, 2 mesh */
    int up;                      /* --up choice: 0 z, 1 y; -1 when not given */
    int frame[2];
    uint64_t nFrames, nInstances, nWarnings;
} ingest_run;

static const ingest_fn aFn[3] = { sptt_ingest_scannet, sptt_ingest_arkit, sptt_ingest_mesh };

/* Everything that can be known wrong before a file is touched: a missing required table, a
** source option given to the wrong source, inputs that do not exist. */
static int ingest_check(void *pCtx, int nArg, char **azArg)
{
    ingest_run *g = pCtx;
    sptt_ingest_opts *o = &g->o;
    static const char *const azCmd[3] = { "scannet", "arkitscenes", "mesh" };
    struct stat sb;
    if( g->command==0 && o->zLabels==NULL ) return sptt_fail(SPTT_EINVAL, "scannet: --labels TSV (scannetv2-labels.combined.tsv) is required");
    if( g->command!=0 && (o->zAlign || o->zSens || o->zPoses) )
        return sptt_fail(SPTT_EINVAL, "%s: --align, --sens and --poses apply to scannet only", azCmd[g->command]);
    if( g->command!=2 && g->up >= 0 ) return sptt_fail(SPTT_EINVAL, "%s: --up applies to mesh only", azCmd[g->command]);
    if( g->command==1 && o->zLabels ) return sptt_fail(SPTT_EINVAL, "arkitscenes: --labels does not apply (classes are Apple's)");
    if( o->zSens && o->zPoses ) return sptt_fail(SPTT_EINVAL, "--sens and --poses exclude each other");
    if( (o->zSens || o->zAlign || o->zPoses) && nArg > 1 )
        return sptt_fail(SPTT_EINVAL, "--sens, --align and --poses name one scene's files: give one scene folder");
    if( o->zLabels && (stat(o->zLabels, &sb)!=0 || !S_ISREG(sb.st_mode)) ) return sptt_fail(SPTT_EINVAL, "--labels %s: no such file", o->zLabels);
    if( o->zAlign && (stat(o->zAlign, &sb)!=0 || !S_ISREG(sb.st_mode)) ) return sptt_fail(SPTT_EINVAL, "--align %s: no such file", o->zAlign);
    if( o->zSens && (stat(o->zSens, &sb)!=0 || !S_ISREG(sb.st_mode)) ) return sptt_fail(SPTT_EINVAL, "--sens %s: no such file", o->zSens);
    if( o->zPoses && (stat(o->zPoses, &sb)!=0 || !S_ISDIR(sb.st_mode)) ) return sptt_fail(SPTT_EINVAL, "--poses %s: no such folder", o->zPoses);
    for(int i = 0; i < nArg; i++){
        if( stat(azArg[i], &sb)!=0 ) return sptt_fail(SPTT_EINVAL, "%s: no such %s", azArg[i], g->command==2 ? "file" : "folder");
        if( g->command!=2 && !S_ISDIR(sb.st_mode) ) return sptt_fail(SPTT_EINVAL, "%s: not a folder", azArg[i]);
        if( g->command==2 && !S_ISREG(sb.st_mode) ) return sptt_fail(SPTT_EINVAL, "%s: not a regular file", azArg[i]);
    }
    if( o->fps < 0 ) o->fps = g->command==1 ? 10 : 24;
    if( g->up >= 0 ) o->zUp = g->up ? "y" : "z";
    o->frameW = g->frame[0];
    o->frameH = g->frame[1];
    return SPTT_OK;
}

static int ingest_scene(void *pCtx, sqlite3 *db, const char *zInput, sptt_scene_result *r)
{
    ingest_run *g = pCtx;
    sptt_ingest_result res;
    int rc = aFn[g->command](db, zInput, &g->o, &res);
    if( rc ) return rc;
    r->skipped = res.skipped;
    if( !res.skipped ){
        g->nFrames += res.nFrames;
        g->nInstances += res.nInstances;
        g->nWarnings += res.nWarnings;
    }
    snprintf(r->zLine, sizeof r->zLine, "%s", res.zSummary);
    return SPTT_OK;
}

static void ingest_json(void *pCtx, sptt_buf *b)
{
    ingest_run *g = pCtx;
    sptt_buf_printf(b, "\"frames\":%llu,\"instances\":%llu,\"warnings\":%llu", (unsigned long long)g->nFrames,
                    (unsigned long long)g->nInstances, (unsigned long long)g->nWarnings);
}

int main(int argc, char **argv)
{
    static ingest_run g;
    static const char *zDb;
    const sptt_option aOpt[] = {
        { "db", SPTT_ARG_STRING, &zDb, .zArg = "DB", .zHelp = "dataset (created when absent)", .flags = SPTT_OPT_REQUIRED },
        { "pack-dir", SPTT_ARG_STRING, &g.o.zPackDir, .zArg = "DIR", .zHelp = "where packs go (default: packs/ beside DB)" },
        { "labels", SPTT_ARG_STRING, &g.o.zLabels, .zArg = "FILE",
          .zHelp = "scannet: scannetv2-labels.combined.tsv (required);\nmesh: a table 'name<TAB>raw label[<TAB>nyu40 id]' (optional)" },
        { "align", SPTT_ARG_STRING, &g.o.zAlign, .zArg = "FILE", .zHelp = "scannet: a file holding the axisAlignment line, for scenes without one" },
        { "sens", SPTT_ARG_STRING, &g.o.zSens, .zArg = "FILE", .zHelp = "scannet: the RGB-D stream (default SCENE_DIR/<scene>.sens)" },
        { "poses", SPTT_ARG_STRING, &g.o.zPoses, .zArg = "DIR", .zHelp = "scannet: exported pose/ and intrinsic/ instead of the .sens" },
        { "fps", SPTT_ARG_DOUBLE, &g.o.fps, 0.01, 1000, .zArg = "F", .zHelp = "frames kept per second (default 24; arkitscenes 10)" },
        { "source-fps", SPTT_ARG_DOUBLE, &g.o.sourceFps, 0.01, 1000, .zArg = "F",
          .zHelp = "scannet: frame rate assumed when .sens timestamps are 0 (default 24)" },
        { "frame-size", SPTT_ARG_FN, g.frame, .xParse = sptt_ingest_parse_frame_size, .zArg = "WxH",
          .zHelp = "size of the frames stored in the pack (default 320x240; arkitscenes\nkeeps 256x192, turned upright)" },
        { "no-images", SPTT_ARG_FLAG, &g.o.noFrames, .zHelp = "keep the camera walk but store no frame images" },
        { "sample", SPTT_ARG_U64, &g.o.nSample, 1, 1e9, .zArg = "N", .zHelp = "also store N uniform surface samples (area-weighted, seeded)" },
        { "seed", SPTT_ARG_U64, &g.o.seed, 0, 9007199254740992.0, .zArg = "S", .zHelp = "seed for --sample (default 0)" },
        { "up", SPTT_ARG_CHOICE, &g.up, .zChoices = "z|y", .zArg = "z|y", .zHelp = "mesh: the file's up axis (default z; y for .gltf/.glb)" },
        { "force", SPTT_ARG_FLAG, &g.o.force, .zHelp = "re-ingest even when the inputs are unchanged" },
        { "replace", SPTT_ARG_FLAG, &g.o.replace, .zHelp = "replace a scene of the same name that came from another source\n(refused otherwise)" },
        { 0 },
    };
    sptt_tool t = {
        .cli = {
            .zTool = "sptt-ingest",
            .zSynopsis = "scannet SCENE_DIR... --labels TSV --db DB [options]\n"
                         "arkitscenes VIDEO_DIR... --db DB [options]\n"
                         "mesh FILE... --db DB [--labels MAP] [--up y|z] [options]",
            .zAbout = "Reads raw scenes and writes, per scene, a scene pack and its rows (scenes, objects, frames)\n"
                      "in one transaction. A scene whose inputs are unchanged since its last ingest is skipped.\n"
                      "Scene names are unique in a dataset: a scene of the same name from another source is\n"
                      "refused unless --replace is given.",
            .aOpt = aOpt,
            .nArgMin = 1,
            .nArgMax = -1,
            .zArgName = "scene folder or file",
        },
        .zCommands = "scannet|arkitscenes|mesh",
        .pCommand = &g.command,
        .pzDb = &zDb,
        .pQuiet = &g.o.quiet,
        .create = 1,
        .zVerb = "ingested",
        .xCheck = ingest_check,
        .xScene = ingest_scene,
        .xSummaryJson = ingest_json,
        .pCtx = &g,
    };
    g.o.fps = -1;
    g.o.sourceFps = 24;
    g.frame[0] = 320;
    g.frame[1] = 240;
    g.up = -1;
    return sptt_tool_main(&t, argc, argv);
}
