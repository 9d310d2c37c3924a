/*
** One scene through annotate: load, project, relate, ask, describe, then replace every record of
** the scene in one BEGIN IMMEDIATE transaction, so a failure leaves the previous annotations.
*/
#include "annotate.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ann_output_free(ann_output *out)
{
    for(size_t i = 0; i < out->nQa; i++){
        ann_qa *q = &out->qa[i];
        free(q->zQuestion);
        free(q->zOptions);
        free(q->zGroundTruth);
        free(q->zMcAnswer);
        free(q->zObjects);
        free(q->zPrompt);
        free(q->zMeta);
    }
    for(size_t i = 0; i < out->nDesc; i++){
        free(out->desc[i].zText);
        free(out->desc[i].zFacts);
    }
    free(out->qa);
    free(out->rel);
    free(out->desc);
    memset(out, 0, sizeof *out);
}

const char *const *sptt_annotate_task_names(int *pN)
{
    static const char *az[ANN_TASK_COUNT];
    for(int i = 0; i < ANN_TASK_COUNT; i++) az[i] = ann_task_name(i);
    *pN = ANN_TASK_COUNT;
    return az;
}

static int bind_text_or_null(sqlite3_stmt *s, int i, const char *z)
{
    return z ? sqlite3_bind_text(s, i, z, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static int write_records(sqlite3 *db, ann_scene *sc, const ann_projection *pj, const ann_output *out,
                         const sptt_annotate_opts *o, int framesFromPack, const char *zWarn)
{
    sqlite3_stmt *s = NULL;
    int rc;
    if( (rc = sptt_scene_clear_annotations(db, sc->id)) ) goto done;
    if( (rc = sptt_db_prepare(db, "INSERT INTO visibility VALUES(?,?,?,?,?,?,?,?)", &s)) ) goto done;
    for(size_t i = 0; i < pj->nVis; i++){
        const ann_vis *v = &pj->vis[i];
        sqlite3_bind_int64(s, 1, sc->id);
        sqlite3_bind_int(s, 2, v->frame);
        sqlite3_bind_int(s, 3, v->instance);
        sqlite3_bind_int(s, 4, v->pixels);
        sqlite3_bind_int(s, 5, v->x0);
        sqlite3_bind_int(s, 6, v->y0);
        sqlite3_bind_int(s, 7, v->x1);
        sqlite3_bind_int(s, 8, v->y1);
        if( (rc = sptt_db_step_done(db, s, "insert visibility")) ) goto done;
    }
    sqlite3_finalize(s);
    s = NULL;
    if( (rc = sptt_db_prepare(db, "INSERT INTO relations VALUES(?,?,?,?,?,?,?)", &s)) ) goto done;
    for(size_t i = 0; i < out->nRel; i++){
        const ann_relation *r = &out->rel[i];
        sqlite3_bind_int64(s, 1, sc->id);
        sqlite3_bind_int(s, 2, r->subject);
        sqlite3_bind_text(s, 3, r->zRelation, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, r->object);
        if( r->object2 ) sqlite3_bind_int(s, 5, r->object2);
        else sqlite3_bind_null(s, 5);
        sptt_db_bind_real(s, 6, r->value);
        if( r->frame >= 0 ) sqlite3_bind_int(s, 7, r->frame);
        else sqlite3_bind_null(s, 7);
        if( (rc = sptt_db_step_done(db, s, "insert relation")) ) goto done;
    }
    sqlite3_finalize(s);
    s = NULL;
    if( (rc = sptt_db_prepare(db, "INSERT INTO qa(scene_id, question_type, question, options, ground_truth, mc_answer, objects, "
                                  "prompt, meta, seed) VALUES(?,?,?,?,?,?,?,?,?,?)", &s)) ) goto done;
    for(size_t i = 0; i < out->nQa; i++){
        const ann_qa *q = &out->qa[i];
        sqlite3_bind_int64(s, 1, sc->id);
        sqlite3_bind_text(s, 2, q->zType, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, q->zQuestion, -1, SQLITE_STATIC);
        bind_text_or_null(s, 4, q->zOptions);
        sqlite3_bind_text(s, 5, q->zGroundTruth, -1, SQLITE_STATIC);
        bind_text_or_null(s, 6, q->zMcAnswer);
        bind_text_or_null(s, 7, q->zObjects);
        sqlite3_bind_text(s, 8, q->zPrompt, -1, SQLITE_STATIC);
        bind_text_or_null(s, 9, q->zMeta);
        sqlite3_bind_int64(s, 10, (int64_t)o->seed);
        if( (rc = sptt_db_step_done(db, s, "insert qa")) ) goto done;
    }
    sqlite3_finalize(s);
    s = NULL;
    if( (rc = sptt_db_prepare(db, "INSERT INTO descriptions VALUES(?,?,?,?,?)", &s)) ) goto done;
    for(size_t i = 0; i < out->nDesc; i++){
        const ann_description *d = &out->desc[i];
        sqlite3_bind_int64(s, 1, sc->id);
        sqlite3_bind_int(s, 2, d->variant);
        sqlite3_bind_text(s, 3, d->zText, -1, SQLITE_STATIC);
        bind_text_or_null(s, 4, d->zFacts);
        sqlite3_bind_int64(s, 5, (int64_t)o->seed);
        if( (rc = sptt_db_step_done(db, s, "insert description")) ) goto done;
    }
    sqlite3_finalize(s);
    s = NULL;
    if( zWarn[0] ){
        char *azCode[1] = { (char *)"skipped_tasks" }, *azMsg[1] = { (char *)zWarn };
        if( (rc = sptt_scene_set_warnings(db, sc->id, "annotate", 1, azCode, azMsg)) ) goto done;
    }
    if( framesFromPack ){
        /* The pack's frames carry images at the render size; the rows follow. */
        if( (rc = sptt_db_prepare(db, "UPDATE frames SET has_image=1, fx=?, fy=?, cx=?, cy=?, width=?, height=? "
                                      "WHERE scene_id=? AND frame_index=?", &s)) ) goto done;
        for(uint64_t f = 0; f < sc->pack.nFrames; f++){
            const sptt_frame_info *fr = &sc->pack.frames[f];
            sqlite3_bind_double(s, 1, fr->fx);
            sqlite3_bind_double(s, 2, fr->fy);
            sqlite3_bind_double(s, 3, fr->cx);
            sqlite3_bind_double(s, 4, fr->cy);
            sqlite3_bind_int(s, 5, (int)fr->width);
            sqlite3_bind_int(s, 6, (int)fr->height);
            sqlite3_bind_int64(s, 7, sc->id);
            sqlite3_bind_int64(s, 8, (int64_t)f);
            if( (rc = sptt_db_step_done(db, s, "update frame")) ) goto done;
        }
        sqlite3_finalize(s);
        s = NULL;
    }
    {
        char zParams[SPTT_ANNOTATE_PARAMS_MAX];
        sptt_annotate_params_key(o, zParams, sizeof zParams);
        rc = sptt_scene_set_annotated(db, sc->id, sc->zGeometryHash, zParams);
    }

done:
    sqlite3_finalize(s);
    return rc;
}

void sptt_annotate_opts_default(sptt_annotate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->tasks = ANN_TASKS_VSIBENCH;
    o->width = 320;
    o->height = 240;
    o->minPixels = 20;
    o->nVariants = 3;
}

void sptt_annotate_params_key(const sptt_annotate_opts *o, char *zOut, size_t nOut)
{
    /* The mask folder is where copies go, not what the rows hold: it is left out. */
    int n = snprintf(zOut, nOut, "{\"tasks\":%u,\"frames\":%d,\"image\":[%d,%d],\"min_pixels\":%d,\"render\":[%d,%d],"
                     "\"descriptions\":%d,\"seed\":%llu,\"version\":\"%s\"}", o->tasks, o->nFrames, o->width, o->height,
                     o->minPixels, o->renderW, o->renderH, o->nVariants, (unsigned long long)o->seed, SPTT_VERSION);
    assert( n > 0 && (size_t)n < nOut );
    (void)n;
}

int sptt_annotate_scene(sqlite3 *db, const char *zName, const sptt_annotate_opts *o, sptt_annotate_result *r)
{
    ann_scene sc;
    ann_projection pj;
    ann_output out;
    ann_project_opts po;
    ann_qa_opts qo;
    ann_describe_opts dopt;
    int rc;
    char zWarn[512] = "";
    int rendered = 0;

    memset(r, 0, sizeof *r);
    memset(&pj, 0, sizeof pj);
    memset(&out, 0, sizeof out);
    rc = ann_scene_load(db, zName, o->renderW > 0, &sc);
    if( rc ) return rc;
    memset(&po, 0, sizeof po);
    po.nFrames = o->nFrames;
    po.width = o->width;
    po.height = o->height;
    po.minPixels = o->minPixels;
    po.zMaskDir = o->zMaskDir;
    po.renderW = o->renderW;
    po.renderH = o->renderH;
    po.zPackPath = sc.zPack;
    rendered = po.renderW > 0 && sc.pack.imgEncoding==SPTT_IMG_NONE && sc.pack.nFrames > 0;
    if( (rc = ann_project(&sc, &po, &pj)) ) goto done;
    if( (rc = ann_relations(&sc, &out)) ) goto done;
    memset(&qo, 0, sizeof qo);
    qo.seed = o->seed;
    qo.tasks = o->tasks;
    if( (rc = ann_generate_qa(&sc, &qo, &out)) ) goto done;
    memset(&dopt, 0, sizeof dopt);
    dopt.seed = o->seed;
    dopt.nVariants = o->nVariants;
    if( (rc = ann_describe(&sc, &dopt, &out)) ) goto done;

    for(int t = 0; t < ANN_TASK_COUNT; t++){
        r->nPerTask[t] = out.nGenerated[t];
        r->nSkippedPerTask[t] = out.nSkipped[t];
        if( (o->tasks & (1u << t)) && out.nGenerated[t]==0 && out.zSkipReason[t][0] ){
            size_t n = strlen(zWarn);
            snprintf(zWarn + n, sizeof zWarn - n, "%s%s: %s", n ? "; " : "", ann_task_name(t), out.zSkipReason[t]);
        }
    }
    if( (rc = sptt_db_begin(db)) ) goto done;
    /* The pack is rewritten before this transaction: a run killed in between leaves a rendered pack
    ** whose frame rows still say "no image" at the ingested size, and the next run, finding images
    ** in the pack, renders nothing. So with --render-frames the rows are always set from the pack
    ** (for a pack that had its images from ingest they are the same values). */
    rc = write_records(db, &sc, &pj, &out, o, o->renderW > 0 && sc.pack.imgEncoding!=SPTT_IMG_NONE, zWarn);
    if( rc==SPTT_OK ) rc = sptt_db_commit(db);
    if( rc ){
        sptt_db_rollback(db);
        goto done;
    }
    r->nVisibility = (int)pj.nVis;
    r->nRelations = (int)out.nRel;
    r->nQa = (int)out.nQa;
    r->nDescriptions = (int)out.nDesc;
    r->rendered = rendered;
    {
        int nSeen = 0;
        for(int i = 0; i < sc.nObj; i++) nSeen += sc.obj[i].firstFrame >= 0;
        snprintf(r->zSummary, sizeof r->zSummary, "%s: %d frames projected (%d objects seen), %d relations, %d questions, "
                 "%d descriptions%s%s%s", zName, pj.nFrames, nSeen, r->nRelations, r->nQa, r->nDescriptions,
                 rendered ? ", frames rendered" : "", zWarn[0] ? "; skipped " : "", zWarn);
    }

done:
    if( rc ) sptt_fail_prefix(rc, "scene %s: ", zName);
    ann_output_free(&out);
    ann_projection_free(&pj);
    ann_scene_free(&sc);
    return rc;
}
