/*
** One scene of a build (sptt_build.h): ingest, geometry, annotate, each in its own transaction as
** the single tools do it, each skipped when what it would write is already there:
**
**   ingest     by its own rule: the same input hash (inputs and the options that shape the pack)
**              and a readable pack;
**   geometry   computed on the present input with the same options (sptt_scene_stage_current);
**   annotate   made from the present geometry with the same options.
**
** So a build killed at any point loses at most the stage in flight, and the next run with the
** same options does only what is missing.
*/
#include "sptt_build.h"
#include "sptt_dataset.h"

#include <stdio.h>
#include <string.h>

const char *sptt_build_stage_name(int stage)
{
    static const char *const az[SPTT_STAGE_COUNT] = { "ingest", "geometry", "annotate" };
    return stage >= 0 && stage < SPTT_STAGE_COUNT ? az[stage] : "?";
}

static void line_stage(sptt_build_result *r, int stage)
{
    size_t n = strlen(r->zLine);
    if( r->aRan[stage] > 0 )
        snprintf(r->zLine + n, sizeof r->zLine - n, "%s %s %.2f s", stage ? "," : ":", sptt_build_stage_name(stage), r->aSeconds[stage]);
    else if( r->aRan[stage]==0 )
        snprintf(r->zLine + n, sizeof r->zLine - n, "%s %s unchanged", stage ? "," : ":", sptt_build_stage_name(stage));
}

int sptt_build_scene(sqlite3 *db, const sptt_build_item *it, const sptt_build_opts *o, sptt_build_result *r)
{
    sptt_ingest_opts io = o->ingest;
    sptt_ingest_result ir;
    char zName[SPTT_SCENE_NAME_MAX], zKey[SPTT_GEOMETRY_PARAMS_MAX > SPTT_ANNOTATE_PARAMS_MAX ? SPTT_GEOMETRY_PARAMS_MAX : SPTT_ANNOTATE_PARAMS_MAX];
    int rc = SPTT_OK, current = 0, stage = SPTT_STAGE_INGEST;
    double t0 = sptt_now();

    memset(r, 0, sizeof *r);
    r->failedStage = -1;
    for(int s = 0; s < SPTT_STAGE_COUNT; s++) r->aRan[s] = -1;

    if( o->zCopyFrom ){
        /* A rank's shard starts from the dataset's rows of the scene, so the checks below see
        ** what an earlier run finished. */
        int found;
        if( (rc = sptt_dataset_copy_scene(db, o->zCopyFrom, it->zName, &found)) ) goto done;
    }

    t0 = sptt_now();
    io.zLabels = it->zLabels;
    if( io.fps < 0 ) io.fps = it->source==SPTT_BUILD_ARKIT ? 10 : 24;
    io.force = o->force;
    rc = it->source==SPTT_BUILD_ARKIT ? sptt_ingest_arkit(db, it->zPath, &io, &ir) : sptt_ingest_scannet(db, it->zPath, &io, &ir);
    r->aSeconds[stage] = sptt_now() - t0;
    if( rc ) goto done;
    r->aRan[stage] = !ir.skipped;
    snprintf(zName, sizeof zName, "%s", ir.zName[0] ? ir.zName : it->zName);

    stage = SPTT_STAGE_GEOMETRY;
    t0 = sptt_now();
    sptt_geometry_params_key(&o->geometry, zKey, sizeof zKey);
    if( !o->force && (rc = sptt_scene_stage_current(db, zName, SPTT_STATE_GEOMETRY, zKey, &current)) ) goto done;
    if( o->force || !current ){
        sptt_geometry_report rep;
        if( (rc = sptt_geometry_scene(db, zName, &o->geometry, &rep)) ) goto done;
    }
    r->aRan[stage] = o->force || !current;
    r->aSeconds[stage] = sptt_now() - t0;

    stage = SPTT_STAGE_ANNOTATE;
    t0 = sptt_now();
    sptt_annotate_params_key(&o->annotate, zKey, sizeof zKey);
    if( !o->force && (rc = sptt_scene_stage_current(db, zName, SPTT_STATE_ANNOTATED, zKey, &current)) ) goto done;
    if( o->force || !current ){
        sptt_annotate_result ar;
        if( (rc = sptt_annotate_scene(db, zName, &o->annotate, &ar)) ) goto done;
    }
    r->aRan[stage] = o->force || !current;
    r->aSeconds[stage] = sptt_now() - t0;

done:
    if( rc ){
        r->failedStage = stage;
        r->aSeconds[stage] = sptt_now() - t0;
    }
    snprintf(r->zLine, sizeof r->zLine, "%s", it->zName);
    for(int s = 0; s < SPTT_STAGE_COUNT; s++) line_stage(r, s);
    return rc;
}
