/*
** sptt-annotate: visibility, scene graph, QA and descriptions for the scenes of a dataset.
*/
#include "sptt_annotate.h"
#include "sptt_dataset.h"

#include <stdio.h>
#include <string.h>

typedef struct annotate_run {
    sptt_annotate_opts o;
    int image[2], render[2];
    int quiet;
    int aQuestions[16], aScenesWithout[16];
    /* --streams */
    sptt_stream_opts so;
    int split;                   /* index in "train|val|test", -1: any */
    const sptt_strlist *pScenes; /* --scene given: annotate those scenes first */
    int streamsOnly;
    int streamsRan;
    sptt_stream_result sr;
} annotate_run;

static const char *const azSplit[] = { "train", "val", "test" };

static int annotate_check(void *pCtx, int nArg, char **azArg)
{
    annotate_run *a = pCtx;
    (void)nArg;
    (void)azArg;
    a->o.width = a->image[0];
    a->o.height = a->image[1];
    a->o.renderW = a->render[0];
    a->o.renderH = a->render[1];
    if( a->so.nStreams==0 && (a->so.nRooms > 0 || a->split >= 0) )
        return sptt_fail(SPTT_EINVAL, "--rooms and --split describe streams: give --streams N too");
    if( a->so.nRooms==0 ) a->so.nRooms = 3;
    a->so.zSplit = a->split >= 0 ? azSplit[a->split] : NULL;
    /* --streams alone walks the scenes already annotated; with --scene those are annotated first */
    a->streamsOnly = a->so.nStreams > 0 && a->pScenes->n==0;
    a->so.seed = a->o.seed;
    return SPTT_OK;
}

static int annotate_after(void *pCtx, sqlite3 *db)
{
    annotate_run *a = pCtx;
    int rc;
    if( a->so.nStreams==0 ) return SPTT_OK;
    if( (rc = sptt_annotate_streams(db, &a->so, &a->sr)) ) return rc;
    a->streamsRan = 1;
    if( !a->quiet ) printf("sptt-annotate: %s\n", a->sr.zSummary);
    return SPTT_OK;
}

static int annotate_scene(void *pCtx, sqlite3 *db, const char *zScene, sptt_scene_result *r)
{
    annotate_run *a = pCtx;
    sptt_annotate_result res;
    int rc = sptt_annotate_scene(db, zScene, &a->o, &res);
    if( rc ) return rc;
    for(int t = 0; t < 16; t++){
        a->aQuestions[t] += res.nPerTask[t];
        a->aScenesWithout[t] += (a->o.tasks & (1u << t)) && res.nPerTask[t]==0;
    }
    snprintf(r->zLine, sizeof r->zLine, "%s", res.zSummary);
    return SPTT_OK;
}

/* Per question type: the questions made and the scenes that got none (no frames, no unique
** objects, every candidate rejected). */
static void annotate_json(void *pCtx, sptt_buf *b)
{
    annotate_run *a = pCtx;
    int nTask;
    const char *const *azTask = sptt_annotate_task_names(&nTask);
    if( a->streamsOnly ){
        sptt_buf_printf(b, "\"streams\":{\"made\":%d,\"unchanged\":%d,\"questions\":%d}", a->sr.nMade, a->sr.nUnchanged,
                        a->sr.nQuestions);
        return;
    }
    sptt_buf_printf(b, "\"tasks\":{");
    for(int t = 0; t < nTask; t++)
        sptt_buf_printf(b, "%s\"%s\":{\"questions\":%d,\"scenes_without\":%d}", t ? "," : "", azTask[t], a->aQuestions[t],
                        a->aScenesWithout[t]);
    sptt_buf_printf(b, "}");
    if( a->streamsRan )
        sptt_buf_printf(b, ",\"streams\":{\"made\":%d,\"unchanged\":%d,\"questions\":%d}", a->sr.nMade, a->sr.nUnchanged,
                        a->sr.nQuestions);
}

static void annotate_report(void *pCtx, FILE *out)
{
    annotate_run *a = pCtx;
    int nTask;
    const char *const *azTask = sptt_annotate_task_names(&nTask);
    fprintf(out, "questions per type (scenes without any):\n");
    for(int t = 0; t < nTask; t++)
        if( a->o.tasks & (1u << t) ) fprintf(out, "  %-28s %6d (%d)\n", azTask[t], a->aQuestions[t], a->aScenesWithout[t]);
}

int main(int argc, char **argv)
{
    static annotate_run a;
    static const char *zDb;
    static sptt_strlist scenes;
    static char zNotes[1024];
    const sptt_option aOpt[] = {
        { "db", SPTT_ARG_STRING, &zDb, .zArg = "DB", .zHelp = "the dataset", .flags = SPTT_OPT_REQUIRED },
        { "scene", SPTT_ARG_LIST, &scenes, .zArg = "NAME", .zHelp = "a scene to annotate (repeatable; default: every scene with geometry)" },
        { "tasks", SPTT_ARG_FN, &a.o.tasks, .xParse = sptt_annotate_parse_tasks, .zArg = "LIST",
          .zHelp = "comma-separated question types (default: VSI-Bench's ten; listed below)" },
        { "frames", SPTT_ARG_INT, &a.o.nFrames, 1, 10000000, .zArg = "N", .zHelp = "frames to project, spread evenly (default: all)" },
        { "image", SPTT_ARG_SIZE, a.image, .zArg = "WxH", .zHelp = "projection raster size (default 320x240)" },
        { "min-pixels", SPTT_ARG_INT, &a.o.minPixels, 1, 100000000, .zArg = "N",
          .zHelp = "pixels an object needs in a frame to count as seen (default 20)" },
        { "masks", SPTT_ARG_STRING, &a.o.zMaskDir, .zArg = "DIR",
          .zHelp = "write per-frame masks: DIR/<scene>/instance/<frame>.png (16-bit\ninstance ids) and DIR/<scene>/label/<frame>.png (8-bit NYU40)" },
        { "render-frames", SPTT_ARG_SIZE, a.render, .zArg = "WxH",
          .zHelp = "scenes without frame images: render them from vertex colours\ninto the pack (the training input)" },
        { "descriptions", SPTT_ARG_INT, &a.o.nVariants, 0, 100, .zArg = "N", .zHelp = "walkthrough descriptions per scene (default 3)" },
        { "seed", SPTT_ARG_U64, &a.o.seed, 0, 9007199254740992.0, .zArg = "S", .zHelp = "seed of every random choice (default 0)" },
        { "streams", SPTT_ARG_INT, &a.so.nStreams, 1, 100000, .zArg = "N",
          .zHelp = "make N long-horizon streams: walks of --rooms scenes already\nannotated, with questions (no scene is annotated unless\n--scene names it)" },
        { "rooms", SPTT_ARG_INT, &a.so.nRooms, 1, 64, .zArg = "R", .zHelp = "streams: scenes walked one after another (default 3)" },
        { "split", SPTT_ARG_CHOICE, &a.split, .zChoices = "train|val|test", .zArg = "S", .zHelp = "streams: walk only the scenes of this split" },
        { 0 },
    };
    sptt_tool t = {
        .cli = {
            .zTool = "sptt-annotate",
            .zSynopsis = "--db DB [--scene NAME ...] [options]\n--db DB --streams N [--rooms R] [--seed S] [--split S]",
            .zAbout = "Projects each scene's mesh into its frames (visibility, first appearances), builds its scene\n"
                      "graph, generates VSI-Bench-style questions and dense walkthrough descriptions, and replaces\n"
                      "the scene's annotations in one transaction. Needs current geometry (sptt-geometry) for\n"
                      "each scene: a scene whose geometry is missing or older than its ingest is refused.",
            .aOpt = aOpt,
            .nArgMax = 0,
            .zNotes = zNotes,
        },
        .pzDb = &zDb,
        .pQuiet = &a.quiet,
        .pScenes = &scenes,
        .state = SPTT_STATE_GEOMETRY,
        .zVerb = "annotated",
        .xCheck = annotate_check,
        .xScene = annotate_scene,
        .xSummaryJson = annotate_json,
        .xReport = annotate_report,
        .xAfter = annotate_after,
        .pNoScenes = &a.streamsOnly,
        .pCtx = &a,
    };
    int status, nTask;
    const char *const *azTask = sptt_annotate_task_names(&nTask);
    size_t n = (size_t)snprintf(zNotes, sizeof zNotes, "Question types:");
    for(int i = 0; i < nTask && n < sizeof zNotes; i++)
        n += (size_t)snprintf(zNotes + n, sizeof zNotes - n, "%s%s", i % 3==0 ? "\n  " : ", ", azTask[i]);
    if( n < sizeof zNotes )
        snprintf(zNotes + n, sizeof zNotes - n, "\nThe default is VSI-Bench's ten; object_rel_distance_v2 and _v3 (3 and 2 choices, as the\n"
                 "public generator files them) only when --tasks names them.\n");
    sptt_annotate_opts_default(&a.o);
    a.split = -1;
    a.pScenes = &scenes;
    a.image[0] = a.o.width;
    a.image[1] = a.o.height;
    status = sptt_tool_main(&t, argc, argv);
    sptt_strlist_free(&scenes);
    return status;
}
