/*
** QA and description exports (sptt_export.h): VSI-Bench's JSONL test records and the conversation
** records of the Spatial-TTT / Qwen-VL fine-tuning code.
*/
#include "sptt_export.h"

#include "sptt_common.h"
#include "sptt_dataset.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int sptt_export_video_path(const char *zSource, const char *zScene, char *zOut, size_t n)
{
    return sptt_pathf(zOut, n, "%s/%s.mp4", zSource, zScene);
}

/* ---------------------------------------------------------------------------------------------
** Checks on the rows: what the readers would choke on is refused with the question's id
*/

/* A numeric answer: the whole text is a finite number, as Python's float() reads it. */
static int is_number(const char *z)
{
    char *end;
    double v;
    if( z==NULL || z[0]==0 ) return 0;
    errno = 0;
    v = strtod(z, &end);
    return *end==0 && errno==0 && isfinite(v);
}

/*
** The options of a multiple-choice row as a JSON array, checked: strings "A. ...", "B. ...", in
** order; the letter names one of them and that option's text is the ground truth. *ppOptions is
** NULL for a numeric row (whose ground truth must be a number).
*/
static int check_row(const sptt_qa_row *q, json_t **ppOptions)
{
    json_error_t e;
    json_t *a;
    size_t n;
    *ppOptions = NULL;
    if( q->zOptions==NULL ){
        if( q->zMcAnswer ) return sptt_fail(SPTT_EFORMAT, "question %lld: mc_answer '%s' without options", (long long)q->id, q->zMcAnswer);
        if( !is_number(q->zGroundTruth) ){
            return sptt_fail(SPTT_EFORMAT, "question %lld: ground_truth '%s' of a numeric question is not a number",
                             (long long)q->id, q->zGroundTruth ? q->zGroundTruth : "");
        }
        return SPTT_OK;
    }
    a = json_loads(q->zOptions, 0, &e);
    if( !json_is_array(a) ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "question %lld: options is not a JSON array (%s)", (long long)q->id, e.text);
    }
    n = json_array_size(a);
    if( n < 2 || n > 26 ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "question %lld: options has %zu entries", (long long)q->id, n);
    }
    for(size_t i = 0; i < n; i++){
        const char *z = json_string_value(json_array_get(a, i));
        if( z==NULL || z[0]!='A' + (int)i || z[1]!='.' || z[2]!=' ' ){
            json_decref(a);
            return sptt_fail(SPTT_EFORMAT, "question %lld: options entry %zu is not \"%c. ...\"", (long long)q->id, i, 'A' + (int)i);
        }
    }
    if( q->zMcAnswer==NULL || strlen(q->zMcAnswer)!=1 || q->zMcAnswer[0] < 'A' || q->zMcAnswer[0] >= 'A' + (int)n ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "question %lld: mc_answer '%s' is not one of the %zu option letters", (long long)q->id,
                         q->zMcAnswer ? q->zMcAnswer : "(null)", n);
    }
    if( strcmp(json_string_value(json_array_get(a, (size_t)(q->zMcAnswer[0] - 'A'))) + 3, q->zGroundTruth)!=0 ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "question %lld: option %s is not the ground truth '%s'", (long long)q->id, q->zMcAnswer,
                         q->zGroundTruth);
    }
    *ppOptions = a;
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Output helpers
*/
static int write_json_line(sptt_atomic *f, json_t *j, const char *zSep)
{
    char *z = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc;
    if( z==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory formatting a record");
    rc = sptt_atomic_write(f, zSep, strlen(zSep));
    if( rc==SPTT_OK ) rc = sptt_atomic_write(f, z, strlen(z));
    free(z);
    return rc;
}

/* The folder part of a path ("." when there is none), for videos written beside a file. */
static int dir_of(const char *zPath, char *zDir, size_t n)
{
    const char *zSlash = strrchr(zPath, '/');
    if( zSlash==NULL ) return sptt_pathf(zDir, n, ".");
    if( zSlash==zPath ) return sptt_pathf(zDir, n, "/");
    return sptt_pathf(zDir, n, "%.*s", (int)(zSlash - zPath), zPath);
}

/* A list of distinct scenes (name and source), in first-seen order. Names are not copied. */
typedef struct scene_set {
    const char **azName, **azSource;
    int n, cap;
} scene_set;

static int scene_set_add(scene_set *s, const char *zName, const char *zSource)
{
    /* rows come sorted by scene name, so a repeat is always the last one added */
    if( s->n > 0 && strcmp(s->azName[s->n - 1], zName)==0 ) return SPTT_OK;
    if( s->n==s->cap ){
        int c = s->cap ? 2 * s->cap : 16;
        const char **a = sptt_realloc(s->azName, sizeof *a * (size_t)c), **b;
        if( a==NULL ) return SPTT_ENOMEM;
        s->azName = a;
        b = sptt_realloc(s->azSource, sizeof *b * (size_t)c);
        if( b==NULL ) return SPTT_ENOMEM;
        s->azSource = b;
        s->cap = c;
    }
    s->azName[s->n] = zName;
    s->azSource[s->n++] = zSource;
    return SPTT_OK;
}

static void scene_set_free(scene_set *s)
{
    free(s->azName);
    free(s->azSource);
    memset(s, 0, sizeof *s);
}

/* Each scene's video below zDir at its export path. Scenes without a camera walk are refused by
** sptt_export_video (SPTT_ESTATE). */
static int write_videos(sqlite3 *db, const scene_set *s, const char *zDir, const sptt_video_opts *vo, int *pnVideos)
{
    int rc = SPTT_OK;
    for(int i = 0; i < s->n && rc==SPTT_OK; i++){
        char zRel[SPTT_PATH_MAX], zPath[SPTT_PATH_MAX], zFolder[SPTT_PATH_MAX];
        sptt_video_result vr;
        if( (rc = sptt_export_video_path(s->azSource[i], s->azName[i], zRel, sizeof zRel)) ) break;
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s", zDir, zRel)) ) break;
        if( (rc = dir_of(zPath, zFolder, sizeof zFolder)) ) break;
        if( (rc = sptt_mkdirs(zFolder)) ) break;
        rc = sptt_export_video(db, s->azName[i], vo, zPath, NULL, &vr);
        if( rc==SPTT_OK ){
            (*pnVideos)++;
            if( !vo->quiet ) fprintf(stderr, "  %s: %d frames%s\n", zPath, vr.nFrames, vr.rendered ? " (rendered)" : "");
        }
    }
    return rc;
}

/*
** The ending every writer shares. The videos go first, since the file should appear only when
** everything it points at exists; then the file is committed, or abandoned after an error. The
** scene set is released either way. Takes and returns the writer's code so far.
*/
static int finish_export(sqlite3 *db, const sptt_export_qa_opts *o, sptt_atomic *f, scene_set *scenes,
                         sptt_export_result *r, int rc)
{
    if( rc==SPTT_OK && o->zVideoDir ) rc = write_videos(db, scenes, o->zVideoDir, &o->video, &r->nVideos);
    if( rc==SPTT_OK ) rc = sptt_atomic_commit(f);
    else sptt_atomic_abort(f);
    r->nScenes = scenes->n;
    scene_set_free(scenes);
    return rc;
}

/* One record as a line of JSON Lines. */
static int write_record_line(sptt_atomic *f, json_t *rec)
{
    int rc = write_json_line(f, rec, "");
    if( rc==SPTT_OK ) rc = sptt_atomic_write(f, "\n", 1);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** VSI-Bench
*/
static int wanted(const sptt_export_qa_opts *o, const char *zScene)
{
    if( o->nScene==0 ) return 1;
    for(int i = 0; i < o->nScene; i++) if( strcmp(o->azScene[i], zScene)==0 ) return 1;
    return 0;
}

int sptt_export_vsibench(sqlite3 *db, const sptt_export_qa_opts *o, const char *zOut, sptt_export_result *r)
{
    sptt_qa_rows rows;
    int rc;
    sptt_atomic f;
    scene_set scenes = {0};
    memset(r, 0, sizeof *r);
    /* a named scene that is not in the dataset is an error, not an empty export */
    for(int i = 0; i < o->nScene; i++){
        int64_t id;
        if( (rc = sptt_scene_id(db, o->azScene[i], &id)) ) return rc;
    }
    if( (rc = sptt_qa_rows_load(db, o->zSplit, NULL, &rows)) ) return rc;
    if( (rc = sptt_atomic_open(&f, zOut)) ) goto done;
    for(int i = 0; i < rows.n && rc==SPTT_OK; i++){
        const sptt_qa_row *q = &rows.a[i];
        json_t *options, *rec;
        if( !wanted(o, q->zScene) ) continue;
        if( q->nFrames==0 ){
            r->nNoVideo++;
            continue;
        }
        if( (rc = check_row(q, &options)) ) break;
        rec = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s}", "id", (json_int_t)q->id, "dataset", q->zSource, "scene_name",
                        q->zScene, "question_type", q->zType, "question", q->zQuestion, "options",
                        options ? options : json_null(), "ground_truth", options ? q->zMcAnswer : q->zGroundTruth);
        if( rec==NULL ){
            rc = sptt_fail(SPTT_EFORMAT, "question %lld: a text field is not valid UTF-8", (long long)q->id);
            break;
        }
        rc = write_record_line(&f, rec);
        json_decref(rec);
        if( rc==SPTT_OK ){
            r->nRecords++;
            rc = scene_set_add(&scenes, q->zScene, q->zSource);
        }
    }
    rc = finish_export(db, o, &f, &scenes, r, rc);

done:
    sptt_qa_rows_free(&rows);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Training conversations
*/
int sptt_export_training(sqlite3 *db, int stage, const char *zInstruction, const sptt_export_qa_opts *o,
                         const char *zOut, sptt_export_result *r)
{
    sptt_examples ex;
    sptt_atomic f;
    int rc;
    scene_set scenes = {0};
    memset(r, 0, sizeof *r);
    if( stage!=SPTT_EXPORT_QA && stage!=SPTT_EXPORT_DESCRIPTIONS ) return sptt_fail(SPTT_EINVAL, "unknown training stage %d", stage);
    if( stage==SPTT_EXPORT_DESCRIPTIONS && zInstruction==NULL ) return sptt_fail(SPTT_EINVAL, "descriptions need an instruction");
    rc = sptt_examples_load(db, stage==SPTT_EXPORT_QA ? SPTT_EXAMPLES_QA : SPTT_EXAMPLES_DESCRIPTIONS, o->zSplit, &ex);
    if( rc ) return rc;
    if( (rc = sptt_atomic_open(&f, zOut)) ) goto done;
    rc = sptt_atomic_write(&f, "[", 1);
    for(int i = 0; i < ex.n && rc==SPTT_OK; i++){
        const sptt_example *e = &ex.a[i];
        const char *zPrompt = stage==SPTT_EXPORT_QA ? e->zPrompt : zInstruction;
        char zVideo[SPTT_PATH_MAX];
        sptt_buf human = {0};
        json_t *rec;
        if( zPrompt==NULL || e->zAnswer==NULL ){
            rc = sptt_fail(SPTT_EFORMAT, "%s %lld of scene '%s': no %s", e->zKind, (long long)e->id, e->zScene,
                           zPrompt==NULL ? "prompt" : "answer");
            break;
        }
        /* the one media placeholder of the record; a second in the text would ask for a second
        ** video the record does not have */
        if( strstr(zPrompt, "<video>") || strstr(zPrompt, "<image>") ){
            rc = sptt_fail(SPTT_EFORMAT, "%s %lld of scene '%s': the prompt already holds a media placeholder", e->zKind,
                           (long long)e->id, e->zScene);
            break;
        }
        if( (rc = sptt_export_video_path(e->zSource, e->zScene, zVideo, sizeof zVideo)) ) break;
        sptt_buf_printf(&human, "<video>\n%s", zPrompt);
        sptt_buf_u8(&human, 0);
        if( human.rc ){
            rc = human.rc;
            sptt_buf_free(&human);
            break;
        }
        rec = json_pack("{s:I,s:s,s:[{s:s,s:s},{s:s,s:s}]}", "id", (json_int_t)e->id, "video", zVideo, "conversations",
                        "from", "human", "value", (const char *)human.p, "from", "gpt", "value", e->zAnswer);
        sptt_buf_free(&human);
        if( rec==NULL ){
            rc = sptt_fail(SPTT_EFORMAT, "%s %lld of scene '%s': a text field is not valid UTF-8", e->zKind, (long long)e->id,
                           e->zScene);
            break;
        }
        rc = write_json_line(&f, rec, i ? ",\n" : "\n");
        json_decref(rec);
        if( rc==SPTT_OK ){
            r->nRecords++;
            rc = scene_set_add(&scenes, e->zScene, e->zSource);
        }
    }
    if( rc==SPTT_OK ) rc = sptt_atomic_write(&f, ex.n ? "\n]\n" : "]\n", ex.n ? 3 : 2);
    rc = finish_export(db, o, &f, &scenes, r, rc);

done:
    sptt_examples_free(&ex);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Long-horizon streams
*/

/* A stream question's options and ground truth, checked as check_row checks a scene's: *ppOptions
** is NULL for a number. */
static int check_stream_question(const sptt_stream_row *t, const sptt_stream_question *q, json_t **ppOptions)
{
    json_error_t e;
    json_t *a;
    size_t n;
    *ppOptions = NULL;
    if( q->queryFrame < 0 || q->queryFrame >= t->nFrames )
        return sptt_fail(SPTT_EFORMAT, "stream question %lld: query_frame %lld outside the walk's %lld frames", (long long)q->id,
                         (long long)q->queryFrame, (long long)t->nFrames);
    if( q->zOptions==NULL ){
        if( !is_number(q->zGroundTruth) )
            return sptt_fail(SPTT_EFORMAT, "stream question %lld: ground_truth '%s' of a numeric question is not a number", (long long)q->id,
                             q->zGroundTruth ? q->zGroundTruth : "");
        return SPTT_OK;
    }
    a = json_loads(q->zOptions, 0, &e);
    n = json_array_size(a);
    if( !json_is_array(a) || n < 2 || n > 8 ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "stream question %lld: options is not a JSON array of 2 to 8 choices", (long long)q->id);
    }
    for(size_t i = 0; i < n; i++){
        const char *z = json_string_value(json_array_get(a, i));
        if( z==NULL || z[0]!=(char)('A' + i) || z[1]!='.' || z[2]!=' ' ){
            json_decref(a);
            return sptt_fail(SPTT_EFORMAT, "stream question %lld: option %zu is not \"%c. ...\"", (long long)q->id, i, (char)('A' + i));
        }
    }
    if( strlen(q->zGroundTruth)!=1 || q->zGroundTruth[0] < 'A' || q->zGroundTruth[0] >= (char)('A' + n) ){
        json_decref(a);
        return sptt_fail(SPTT_EFORMAT, "stream question %lld: ground_truth '%s' is not one of the option letters", (long long)q->id,
                         q->zGroundTruth);
    }
    *ppOptions = a;
    return SPTT_OK;
}

int sptt_export_streams(sqlite3 *db, const sptt_export_qa_opts *o, const char *zOut, sptt_export_result *r)
{
    sptt_streams st;
    scene_set scenes = {0};
    sptt_atomic f;
    int rc;
    memset(r, 0, sizeof *r);
    if( (rc = sptt_streams_load(db, o->zSplit, &st)) ) return rc;
    if( (rc = sptt_atomic_open(&f, zOut)) ) goto done;
    for(int i = 0; i < st.n && rc==SPTT_OK; i++){
        const sptt_stream_row *t = &st.a[i];
        for(int k = 0; k < t->nScene && rc==SPTT_OK; k++){
            int seen = 0;
            for(int m = 0; m < scenes.n && !seen; m++) seen = strcmp(scenes.azName[m], t->aScene[k].zName)==0;
            if( !seen ) rc = scene_set_add(&scenes, t->aScene[k].zName, t->aScene[k].zSource);
        }
        for(int k = 0; k < t->nQuestion && rc==SPTT_OK; k++){
            const sptt_stream_question *q = &t->aQuestion[k];
            json_t *options, *rooms = json_array(), *rec;
            if( (rc = check_stream_question(t, q, &options)) ) break;
            for(int m = 0; m < t->nScene && rc==SPTT_OK; m++){
                const sptt_stream_scene *s = &t->aScene[m];
                char zVideo[SPTT_PATH_MAX];
                if( (rc = sptt_export_video_path(s->zSource, s->zName, zVideo, sizeof zVideo)) ) break;
                json_array_append_new(rooms, json_pack("{s:s,s:s,s:s,s:I,s:I}", "dataset", s->zSource, "scene_name", s->zName, "video",
                                                       zVideo, "frame_offset", (json_int_t)s->offset, "n_frames", (json_int_t)s->nFrames));
            }
            rec = rc ? NULL : json_pack("{s:I,s:s,s:s,s:s,s:o,s:s,s:I,s:I,s:o}", "id", (json_int_t)q->id, "stream", t->zName, "question_type",
                                        q->zType, "question", q->zQuestion, "options", options ? options : json_null(), "ground_truth",
                                        q->zGroundTruth, "query_frame", (json_int_t)q->queryFrame, "n_frames", (json_int_t)t->nFrames,
                                        "scenes", rooms);
            if( rc ){
                json_decref(options);
                json_decref(rooms);
                break;
            }
            if( rec==NULL ){
                rc = sptt_fail(SPTT_EFORMAT, "stream question %lld: a text field is not valid UTF-8", (long long)q->id);
                break;
            }
            rc = write_record_line(&f, rec);
            json_decref(rec);
            if( rc==SPTT_OK ) r->nRecords++;
        }
    }
    rc = finish_export(db, o, &f, &scenes, r, rc);

done:
    sptt_streams_free(&st);
    return rc;
}
