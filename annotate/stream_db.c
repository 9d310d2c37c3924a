/*
** Long-horizon streams in the dataset (sptt_annotate.h): the walks drawn, each room's instances
** and their first seen and glimpsed frames read from annotate's rows, the questions made
** (stream_qa.c) and every stream written in one transaction.
**
** Drawing. The scenes a stream may walk are those with current annotations and a camera walk
** (sptt_stream_sources_load), in name order. Stream i takes the first nRooms of that list after a
** shuffle drawn from the seed's child i + 1 (its child 0), and makes its questions from that
** child's child 1; so stream i does not depend on how many streams are asked for.
**
** Stream time. Room 0 starts at 0 s; each room's frames keep their own timestamps, and the next
** room starts one frame period (1 / the scene's fps) after the last frame of the room before.
*/
#include "ann_content.h"
#include "sptt_cli.h"
#include "sptt_dataset.h"
#include "sptt_db.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The pixels an instance needs to be seen, as the scene's annotations were made (annotate's
** default when they were made with unknown options). */
static int scene_min_pixels(const char *zParams)
{
    sptt_annotate_opts d;
    json_t *j = zParams ? json_loads(zParams, 0, NULL) : NULL;
    int n;
    sptt_annotate_opts_default(&d);
    n = (int)json_integer_value(json_object_get(j, "min_pixels"));
    json_decref(j);
    return n > 0 ? n : d.minPixels;
}

typedef struct walk {
    int nRoom;
    int64_t *aOffset, *aCount;
    double *aTime;
    int64_t nFrames;
    int nCat, capCat;
    char **azCat;
    int nInst, capInst;
    ann_stream_inst *aInst;
} walk;

static void walk_free(walk *w)
{
    for(int i = 0; i < w->nCat; i++) free(w->azCat[i]);
    free(w->azCat);
    free(w->aOffset);
    free(w->aCount);
    free(w->aTime);
    free(w->aInst);
    memset(w, 0, sizeof *w);
}

/* The index of category z, added when new (sorted afterwards). */
static int cat_index(walk *w, const char *z, int *pIdx)
{
    for(int i = 0; i < w->nCat; i++) if( strcmp(w->azCat[i], z)==0 ){ *pIdx = i; return SPTT_OK; }
    if( w->nCat==w->capCat ){
        int c = w->capCat ? 2 * w->capCat : 32;
        char **g = sptt_realloc(w->azCat, sizeof *g * (size_t)c);
        if( g==NULL ) return SPTT_ENOMEM;
        w->azCat = g;
        w->capCat = c;
    }
    if( (w->azCat[w->nCat] = strdup(z))==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    *pIdx = w->nCat++;
    return SPTT_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Reads the rooms' frames and instances. */
static int walk_load(sqlite3 *db, const sptt_stream_source *const *ap, int nRoom, walk *w)
{
    sqlite3_stmt *fr = NULL, *in = NULL;
    double tStart = 0;
    int rc;
    memset(w, 0, sizeof *w);
    w->nRoom = nRoom;
    for(int j = 0; j < nRoom; j++) w->nFrames += ap[j]->nFrames;
    w->aOffset = sptt_calloc((size_t)nRoom, sizeof *w->aOffset);
    w->aCount = sptt_calloc((size_t)nRoom, sizeof *w->aCount);
    w->aTime = sptt_calloc((size_t)w->nFrames, sizeof *w->aTime);
    if( !w->aOffset || !w->aCount || !w->aTime ) return SPTT_ENOMEM;
    rc = sptt_db_prepare(db, "SELECT timestamp FROM frames WHERE scene_id=? ORDER BY frame_index", &fr);
    /* one pass over the scene's visibility rows, grouped by instance */
    if( rc==SPTT_OK ) rc = sptt_db_prepare(db,
        "SELECT o.instance_id, o.category, v.seen, v.glimpse FROM objects o LEFT JOIN (SELECT instance_id, "
        "min(frame_index) FILTER (WHERE pixels >= ?2) AS seen, min(frame_index) AS glimpse FROM visibility WHERE scene_id=?1 "
        "GROUP BY instance_id) AS v USING(instance_id) WHERE o.scene_id=?1 AND o.category IS NOT NULL ORDER BY o.instance_id", &in);
    for(int j = 0, off = 0; j < nRoom && rc==SPTT_OK; j++){
        const sptt_stream_source *s = ap[j];
        int64_t k = 0, id = 0;
        double last = 0;
        w->aOffset[j] = off;
        w->aCount[j] = s->nFrames;
        if( (rc = sptt_scene_id(db, s->zName, &id)) ) break;
        sqlite3_bind_int64(fr, 1, id);
        while( sqlite3_step(fr)==SQLITE_ROW ){
            if( k < s->nFrames ) w->aTime[off + k] = tStart + (last = sqlite3_column_double(fr, 0));
            k++;
        }
        sqlite3_reset(fr);
        if( k!=s->nFrames ){
            rc = sptt_fail(SPTT_ECORRUPT, "scene %s: %lld frame rows for a walk of %lld frames", s->zName, (long long)k, (long long)s->nFrames);
            break;
        }
        tStart += last + (s->fps > 0 ? 1.0 / s->fps : 0.0);
        sqlite3_bind_int64(in, 1, id);
        sqlite3_bind_int(in, 2, scene_min_pixels(s->zAnnotateParams));
        while( rc==SPTT_OK && sqlite3_step(in)==SQLITE_ROW ){
            ann_stream_inst *o;
            if( w->nInst==w->capInst ){
                int c = w->capInst ? 2 * w->capInst : 128;
                ann_stream_inst *g = sptt_realloc(w->aInst, sizeof *g * (size_t)c);
                if( g==NULL ){ rc = SPTT_ENOMEM; break; }
                w->aInst = g;
                w->capInst = c;
            }
            o = &w->aInst[w->nInst];
            o->room = j;
            o->instance = sqlite3_column_int(in, 0);
            if( (rc = cat_index(w, (const char *)sqlite3_column_text(in, 1), &o->cat)) ) break;
            o->seen = sqlite3_column_type(in, 2)==SQLITE_NULL ? -1 : off + sqlite3_column_int64(in, 2);
            o->glimpse = sqlite3_column_type(in, 3)==SQLITE_NULL ? -1 : off + sqlite3_column_int64(in, 3);
            w->nInst++;
        }
        sqlite3_reset(in);
        off += (int)s->nFrames;
    }
    sqlite3_finalize(fr);
    sqlite3_finalize(in);
    if( rc==SPTT_OK ){
        /* categories in name order: the generator's candidate lists follow it */
        char **old = sptt_malloc(sizeof *old * (size_t)(w->nCat + 1));
        int *map = sptt_malloc(sizeof *map * (size_t)(w->nCat + 1));
        if( !old || !map ) rc = SPTT_ENOMEM;
        else{
            memcpy(old, w->azCat, sizeof *old * (size_t)w->nCat);
            qsort(w->azCat, (size_t)w->nCat, sizeof *w->azCat, cmp_str);
            for(int a = 0; a < w->nCat; a++)
                for(int b = 0; b < w->nCat; b++) if( old[a]==w->azCat[b] ) map[a] = b;
            for(int i = 0; i < w->nInst; i++) w->aInst[i].cat = map[w->aInst[i].cat];
        }
        free(old);
        free(map);
    }
    return rc;
}

static int insert_questions(sqlite3 *db, int64_t id, const ann_stream_out *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sptt_db_prepare(db, "INSERT INTO stream_qa(stream_id, question_type, query_frame, question, options, ground_truth, answer_text, "
                                 "objects, prompt, meta) VALUES(?,?,?,?,?,?,?,?,?,?)", &st);
    for(int i = 0; i < out->n && rc==SPTT_OK; i++){
        const ann_stream_qa *q = &out->a[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, q->zType, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, q->queryFrame);
        sqlite3_bind_text(st, 4, q->zQuestion, -1, SQLITE_STATIC);
        if( q->zOptions ) sqlite3_bind_text(st, 5, q->zOptions, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, q->zGroundTruth, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, q->zAnswerText, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, q->zObjects, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, q->zPrompt, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, q->zMeta, -1, SQLITE_STATIC);
        rc = sptt_db_step_done(db, st, "insert a stream question");
    }
    sqlite3_finalize(st);
    return rc;
}

/* One stream: drawn, then left as it is or made again. */
static int one_stream(sqlite3 *db, const sptt_stream_opts *o, const sptt_stream_sources *src, int i, ann_stream_letters *L,
                      sptt_stream_result *r)
{
    sptt_rng root, rs, pick, ask;
    int *perm = sptt_malloc(sizeof *perm * (size_t)src->n);
    const sptt_stream_source **ap = sptt_malloc(sizeof *ap * (size_t)o->nRooms);
    char zName[128];
    char *zParams = NULL;
    json_t *jp = NULL, *names = json_array();
    walk w;
    ann_stream_out out;
    int rc = SPTT_OK, same = 0;
    int64_t id;

    memset(&w, 0, sizeof w);
    memset(&out, 0, sizeof out);
    if( !perm || !ap || !names ){ rc = SPTT_ENOMEM; goto done; }
    sptt_rng_seed(&root, o->seed);
    sptt_rng_fork(&root, (uint64_t)i + 1, &rs);
    sptt_rng_fork(&rs, 0, &pick);
    sptt_rng_fork(&rs, 1, &ask);
    for(int k = 0; k < src->n; k++) perm[k] = k;
    sptt_rng_shuffle(&pick, perm, (size_t)src->n, sizeof *perm);
    for(int k = 0; k < o->nRooms; k++){
        ap[k] = &src->a[perm[k]];
        json_array_append_new(names, json_string(ap[k]->zName));
    }
    snprintf(zName, sizeof zName, "%s-r%d-s%llu-%d", o->zSplit ? o->zSplit : "all", o->nRooms, (unsigned long long)o->seed, i);
    jp = json_pack("{s:i,s:I,s:i,s:s?,s:O,s:s}", "rooms", o->nRooms, "seed", (json_int_t)o->seed, "index", i, "split", o->zSplit,
                   "scenes", names, "version", SPTT_VERSION);
    zParams = jp ? json_dumps(jp, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if( zParams==NULL ){ rc = SPTT_ENOMEM; goto done; }
    if( (rc = sptt_stream_unchanged(db, zName, zParams, &same)) ) goto done;
    if( (rc = walk_load(db, ap, o->nRooms, &w)) ) goto done;
    {
        ann_stream_in in = { w.nRoom, w.aOffset, w.aCount, w.nFrames, w.aTime, w.nCat, (const char *const *)w.azCat, w.nInst, w.aInst };
        /* made even when unchanged, so the letter tallies of the streams after it are the same */
        if( (rc = ann_stream_questions(&in, &ask, L, &out)) ) goto done;
    }
    if( same ){
        r->nUnchanged++;
        goto done;
    }
    if( (rc = sptt_stream_replace(db, zName, o->seed, zParams, ap, o->nRooms, &id)) ) goto done;
    if( (rc = insert_questions(db, id, &out)) ) goto done;
    r->nMade++;
    r->nQuestions += out.n;
    for(int t = 0; t < 3; t++) r->aPerType[t] += out.aPerType[t];

done:
    if( rc ) sptt_fail_prefix(rc, "stream %d: ", i);
    ann_stream_out_free(&out);
    walk_free(&w);
    free(zParams);
    json_decref(jp);
    json_decref(names);
    free(perm);
    free(ap);
    return rc;
}

int sptt_annotate_streams(sqlite3 *db, const sptt_stream_opts *o, sptt_stream_result *r)
{
    sptt_stream_sources src = {0};
    ann_stream_letters L;
    int rc;
    memset(r, 0, sizeof *r);
    memset(&L, 0, sizeof L);
    if( o->nStreams < 1 || o->nRooms < 1 ) return sptt_fail(SPTT_EINVAL, "streams: %d streams of %d rooms", o->nStreams, o->nRooms);
    if( (rc = sptt_db_begin(db)) ) return rc;
    if( (rc = sptt_stream_sources_load(db, o->zSplit, &src)) ) goto done;
    if( src.n < o->nRooms ){
        rc = sptt_fail(SPTT_ESTATE, "%s holds %d scene%s with current annotations and a camera walk%s%s; %d rooms need %d "
                       "(run sptt-annotate on more scenes, or ask for fewer rooms)", sqlite3_db_filename(db, "main"), src.n,
                       src.n==1 ? "" : "s", o->zSplit ? " in the split " : "", o->zSplit ? o->zSplit : "", o->nRooms, o->nRooms);
        goto done;
    }
    for(int i = 0; i < o->nStreams && rc==SPTT_OK; i++) rc = one_stream(db, o, &src, i, &L, r);
    if( rc==SPTT_OK ) rc = sptt_db_commit(db);
done:
    if( rc ) sptt_db_rollback(db);
    sptt_stream_sources_free(&src);
    if( rc==SPTT_OK ){
        snprintf(r->zSummary, sizeof r->zSummary, "%s of %d rooms: %d made, %d unchanged; %d questions (%d counting, %d appearance order, "
                 "%d first room)", sptt_plural(o->nStreams, "stream", NULL), o->nRooms, r->nMade, r->nUnchanged, r->nQuestions,
                 r->aPerType[0], r->aPerType[1], r->aPerType[2]);
    }
    return rc;
}
