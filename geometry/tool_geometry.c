/*
** sptt-geometry: room size, height and centre, and object boxes, for ingested scenes.
*/
#include "sptt_dataset.h"
#include "sptt_geometry.h"

#include <stdio.h>
#include <string.h>

typedef struct geometry_run {
    sptt_geometry_opts o;
    int obb;                     /* --obb choice index */
    int nBoxes, nSkipped, nWarn, nInvalidated;
} geometry_run;

static int geometry_check(void *pCtx, int nArg, char **azArg)
{
    geometry_run *g = pCtx;
    (void)nArg;
    (void)azArg;
    g->o.obbKind = g->obb==1 ? SPTT_OBB_UPRIGHT : SPTT_OBB_MINIMAL;
    return SPTT_OK;
}

static int geometry_scene(void *pCtx, sqlite3 *db, const char *zScene, sptt_scene_result *r)
{
    geometry_run *g = pCtx;
    sptt_geometry_report rep;
    int rc = sptt_geometry_scene(db, zScene, &g->o, &rep);
    if( rc ) return rc;
    g->nBoxes += rep.nBoxes;
    g->nSkipped += rep.nSkipped;
    g->nWarn += rep.nWarnings;
    g->nInvalidated += rep.invalidated;
    snprintf(r->zLine, sizeof r->zLine, "%s: room %.1f m2, %.2f m high; %s, %d skipped, %d structural; %s; %.0f ms%s", zScene,
             rep.roomArea, rep.roomHeight, sptt_plural(rep.nBoxes, "box", "boxes"), rep.nSkipped, rep.nStructure,
             sptt_plural(rep.nWarnings, "warning", NULL), rep.seconds * 1e3,
             rep.invalidated ? "; results changed: its annotations were deleted (run sptt-annotate)" : "");
    return SPTT_OK;
}

static void geometry_json(void *pCtx, sptt_buf *b)
{
    geometry_run *g = pCtx;
    sptt_buf_printf(b, "\"boxes\":%d,\"objects_skipped\":%d,\"warnings\":%d,\"annotations_invalidated\":%d", g->nBoxes, g->nSkipped,
                    g->nWarn, g->nInvalidated);
}

static void geometry_report(void *pCtx, FILE *out)
{
    geometry_run *g = pCtx;
    if( g->nInvalidated )
        fprintf(out, "%s changed: their annotations were deleted; run sptt-annotate on the dataset again\n",
                sptt_plural(g->nInvalidated, "scene's geometry", "scenes' geometry"));
}

int main(int argc, char **argv)
{
    static geometry_run g;
    static const char *zDb;
    static sptt_strlist scenes;
    const sptt_option aOpt[] = {
        { "db", SPTT_ARG_STRING, &zDb, .zArg = "DB", .zHelp = "dataset written by sptt-ingest", .flags = SPTT_OPT_REQUIRED },
        { "scene", SPTT_ARG_LIST, &scenes, .zArg = "NAME", .zHelp = "only this scene (repeatable; default: every ingested scene)" },
        { "alpha", SPTT_ARG_DOUBLE, &g.o.room.alpha, 0, 1e6, .zArg = "A",
          .zHelp = "alpha shape parameter, 1/metres: triangles with circumradius < 1/A\nare kept (default 5, i.e. 0.2 m); 0 gives the convex hull" },
        { "room-sample", SPTT_ARG_FN, &g.o.room.sample, .xParse = sptt_geometry_parse_room_sample, .zArg = "N|all",
          .zHelp = "points drawn (seeded, with replacement) for the alpha shape\n(default 10000, as the reference); all = every distinct point" },
        { "seed", SPTT_ARG_U64, &g.o.room.seed, 0, 9007199254740992.0, .zArg = "S", .zHelp = "seed of that draw (default 0)" },
        { "obb", SPTT_ARG_CHOICE, &g.obb, .zChoices = "minimal|upright", .zArg = "KIND",
          .zHelp = "box stored in objects: minimal (default, the reference's) or upright" },
        { "min-points", SPTT_ARG_INT, &g.o.minPoints, 1, 1e9, .zArg = "N", .zHelp = "instances with fewer points get no box (default 4)" },
        { "png", SPTT_ARG_STRING, &g.o.zPngDir, .zArg = "DIR", .zHelp = "also write DIR/<scene>.png, a top-down picture" },
        { 0 },
    };
    sptt_tool t = {
        .cli = {
            .zTool = "sptt-geometry",
            .zSynopsis = "--db DB [--scene NAME ...] [--alpha A] [--room-sample N|all] [--seed S]\n"
                         " [--obb minimal|upright] [--min-points N] [--png DIR] [--quiet]",
            .zAbout = "Computes, for each ingested scene, the room (alpha-shape area with enclosed holes filled,\n"
                      "outline, height, centre of the minimal box of all points) and a minimal-volume and an\n"
                      "upright box per object, and writes them in one transaction per scene. Wall, floor and\n"
                      "ceiling get no box. ARKitScenes objects keep their annotation box; the fitted ones are\n"
                      "stored beside it in object_boxes. When a scene's results change (other options, a new\n"
                      "ingest), its annotations are deleted in the same transaction: run sptt-annotate again.",
            .aOpt = aOpt,
            .nArgMax = 0,
        },
        .pzDb = &zDb,
        .pQuiet = &g.o.quiet,
        .pScenes = &scenes,
        .state = SPTT_STATE_PACK,
        .zVerb = "computed",
        .xCheck = geometry_check,
        .xScene = geometry_scene,
        .xSummaryJson = geometry_json,
        .xReport = geometry_report,
        .pCtx = &g,
    };
    int status;
    sptt_geometry_opts_default(&g.o);
    status = sptt_tool_main(&t, argc, argv);
    sptt_strlist_free(&scenes);
    return status;
}
