/*
** sptt-export's writers against the dataset's rows, read back independently: the VSI-Bench JSONL
** and the training JSON with jansson against SQL of their own, the PLY with ingest's PLY reader
** against the pack, the PNG frames against an independent decode of the pack's JPEGs. Bad rows
** are refused naming the question and field, with nothing left under the output name. (The MP4 is
** decoded by ffprobe in tests/e2e/export.sh.)
*/
#include <criterion/criterion.h>

#include "dataset_testutil.h"
#include "sptt_db.h"
#include "sptt_export.h"
#include "sptt_image.h"

#include <dirent.h>
#include <jansson.h>
#include <png.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

static char zTmp[64];
static char zDb[128];

static void setup(void)
{
    snprintf(zTmp, sizeof zTmp, "/tmp/sptt_export_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
    /* scene0700_00 with 160x120 frame images, scene0701_00 with a camera walk but no images */
    dataset_build_small(zTmp, zDb, 0);
}

static void teardown(void)
{
    char z[160];
    snprintf(z, sizeof z, "rm -rf '%s'", zTmp);
    cr_assert_eq(system(z), 0);
}

TestSuite(export, .init = setup, .fini = teardown);

static sqlite3 *open_ro(void)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDb, SPTT_DB_READONLY, &db), SPTT_OK, "%s", sptt_errmsg());
    return db;
}

static int file_exists(const char *z)
{
    struct stat st;
    return stat(z, &st)==0;
}

/* No file of the folder starts with zPrefix (the final name and its temporary ones). */
static int nothing_named(const char *zDir, const char *zPrefix)
{
    DIR *d = opendir(zDir);
    struct dirent *e;
    int n = 0;
    cr_assert_not_null(d);
    while( (e = readdir(d)) ) n += strncmp(e->d_name, zPrefix, strlen(zPrefix))==0;
    closedir(d);
    return n==0;
}

static const char *text_or_null(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ---------------------------------------------------------------------------------------------
** VSI-Bench JSONL
*/
Test(export, vsibench_records_equal_the_rows)
{
    sqlite3 *db = open_ro();
    sqlite3_stmt *st;
    sptt_export_qa_opts o;
    sptt_export_result r;
    char zOut[192], zLine[16384];
    FILE *f;
    int n = 0, nMc = 0, nNum = 0;
    memset(&o, 0, sizeof o);
    snprintf(zOut, sizeof zOut, "%s/vsi.jsonl", zTmp);
    cr_assert_eq(sptt_export_vsibench(db, &o, zOut, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.nScenes, 2);
    cr_assert_eq(r.nVideos, 0);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT q.qa_id, s.source, s.name, q.question_type, q.question, q.options, "
                                        "q.ground_truth, q.mc_answer FROM qa q JOIN scenes s USING(scene_id) ORDER BY s.name, q.qa_id",
                                    -1, &st, NULL), SQLITE_OK);
    f = fopen(zOut, "r");
    cr_assert_not_null(f);
    while( fgets(zLine, sizeof zLine, f) ){
        json_error_t e;
        json_t *j = json_loads(zLine, 0, &e), *opt;
        const char *zOpt, *zMc;
        void *it;
        static const char *const azKey[7] = { "id", "dataset", "scene_name", "question_type", "question", "options", "ground_truth" };
        int k = 0;
        cr_assert_not_null(j, "line %d: %s", n + 1, e.text);
        cr_assert_eq(zLine[strlen(zLine) - 1], '\n');
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "more records than rows");
        /* exactly VSI-Bench's keys, in its order */
        for(it = json_object_iter(j); it; it = json_object_iter_next(j, it), k++){
            cr_assert_lt(k, 7);
            cr_assert_str_eq(json_object_iter_key(it), azKey[k]);
        }
        cr_assert_eq(k, 7);
        cr_assert_eq(json_integer_value(json_object_get(j, "id")), sqlite3_column_int64(st, 0));
        cr_assert_str_eq(json_string_value(json_object_get(j, "dataset")), text_or_null(st, 1));
        cr_assert_str_eq(json_string_value(json_object_get(j, "scene_name")), text_or_null(st, 2));
        cr_assert_str_eq(json_string_value(json_object_get(j, "question_type")), text_or_null(st, 3));
        cr_assert_str_eq(json_string_value(json_object_get(j, "question")), text_or_null(st, 4));
        zOpt = text_or_null(st, 5);
        zMc = text_or_null(st, 7);
        opt = json_object_get(j, "options");
        if( zOpt ){
            json_t *stored = json_loads(zOpt, 0, &e);
            const char *zLetter = json_string_value(json_object_get(j, "ground_truth"));
            cr_assert(json_equal(opt, stored), "options of %lld", (long long)sqlite3_column_int64(st, 0));
            /* multiple choice: the letter, and that option is the stored answer text */
            cr_assert_str_eq(zLetter, zMc);
            cr_assert_eq(strlen(zLetter), 1);
            cr_assert_str_eq(json_string_value(json_array_get(opt, (size_t)(zLetter[0] - 'A'))) + 3, text_or_null(st, 6));
            json_decref(stored);
            nMc++;
        }else{
            char *end;
            cr_assert(json_is_null(opt));
            cr_assert_null(zMc);
            cr_assert_str_eq(json_string_value(json_object_get(j, "ground_truth")), text_or_null(st, 6));
            (void)strtod(text_or_null(st, 6), &end);
            cr_assert_eq(*end, 0, "numeric ground truth '%s'", text_or_null(st, 6));
            nNum++;
        }
        json_decref(j);
        n++;
    }
    fclose(f);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "fewer records than rows");
    sqlite3_finalize(st);
    cr_assert_eq(n, r.nRecords);
    cr_assert_gt(nMc, 10);
    cr_assert_gt(nNum, 5);

    /* one scene only */
    {
        const char *az[1] = { "scene0701_00" };
        sptt_export_result r1;
        o.azScene = az;
        o.nScene = 1;
        cr_assert_eq(sptt_export_vsibench(db, &o, zOut, &r1), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(r1.nScenes, 1);
        cr_assert_lt(r1.nRecords, r.nRecords);
        az[0] = "scene9999_00";
        cr_assert_eq(sptt_export_vsibench(db, &o, zOut, &r1), SPTT_EINVAL);
        cr_assert(strstr(sptt_errmsg(), "scene9999_00"), "%s", sptt_errmsg());
    }
    sptt_dataset_close(db);

    /* a scene without a camera walk has no video to ask about: its questions are left out */
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK);
    cr_assert_eq(sqlite3_exec(db, "BEGIN; UPDATE scenes SET n_frames=0 WHERE name='scene0701_00'", NULL, NULL, NULL), SQLITE_OK);
    {
        sptt_export_result r2;
        int nOf0701 = 0;
        cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM qa q JOIN scenes s USING(scene_id) WHERE s.name='scene0701_00'",
                                        -1, &st, NULL), SQLITE_OK);
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        nOf0701 = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        o.nScene = 0;
        cr_assert_eq(sptt_export_vsibench(db, &o, zOut, &r2), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_gt(nOf0701, 0);
        cr_assert_eq(r2.nNoVideo, nOf0701);
        cr_assert_eq(r2.nRecords, r.nRecords - nOf0701);
        cr_assert_eq(r2.nScenes, 1);
    }
    cr_assert_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sptt_dataset_close(db);
}

/* A row broken by hand (inside a transaction rolled back afterwards) is refused, naming the
** question and the field; no file appears. */
static void broken_row(sqlite3 *db, int numeric, const char *zSet, const char *zField)
{
    sptt_export_qa_opts o;
    sptt_export_result r;
    sqlite3_stmt *st;
    char zOut[192], zSql[512], zWant[96];
    long long id;
    cr_assert_eq(sqlite3_prepare_v2(db, numeric ? "SELECT max(qa_id) FROM qa WHERE options IS NULL"
                                                : "SELECT max(qa_id) FROM qa WHERE options IS NOT NULL", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    snprintf(zSql, sizeof zSql, "BEGIN; UPDATE qa SET %s WHERE qa_id=%lld", zSet, id);
    cr_assert_eq(sqlite3_exec(db, zSql, NULL, NULL, NULL), SQLITE_OK);
    memset(&o, 0, sizeof o);
    snprintf(zOut, sizeof zOut, "%s/bad.jsonl", zTmp);
    cr_assert_eq(sptt_export_vsibench(db, &o, zOut, &r), SPTT_EFORMAT, "%s", zSet);
    snprintf(zWant, sizeof zWant, "question %lld: %s", id, zField);
    cr_assert(strstr(sptt_errmsg(), zWant), "%s (wanted %s)", sptt_errmsg(), zWant);
    cr_assert(nothing_named(zTmp, "bad.jsonl"));
    cr_assert_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
}

Test(export, vsibench_refuses_broken_rows_and_writes_nothing)
{
    sqlite3 *db;
    cr_assert_eq(sptt_dataset_open(zDb, 0, &db), SPTT_OK);
    broken_row(db, 0, "mc_answer='Z'", "mc_answer 'Z' is not one of the");
    broken_row(db, 0, "options='[\"A. x\", \"C. y\"]'", "options entry 1 is not \"B. ...\"");
    broken_row(db, 0, "options='not json'", "options is not a JSON array");
    broken_row(db, 0, "ground_truth='elsewhere'", "option ");
    broken_row(db, 1, "ground_truth='x'", "ground_truth 'x' of a numeric question is not a number");
    broken_row(db, 1, "mc_answer='A'", "mc_answer 'A' without options");
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** Training JSON
*/
Test(export, training_records_equal_the_examples)
{
    sqlite3 *db = open_ro();
    sptt_export_qa_opts o;
    sptt_export_result r;
    char zOut[192];
    json_error_t e;
    json_t *a;
    sqlite3_stmt *st;
    size_t i = 0;
    memset(&o, 0, sizeof o);
    snprintf(zOut, sizeof zOut, "%s/train_qa.json", zTmp);
    cr_assert_eq(sptt_export_training(db, SPTT_EXPORT_QA, NULL, &o, zOut, &r), SPTT_OK, "%s", sptt_errmsg());
    a = json_load_file(zOut, 0, &e);
    cr_assert(json_is_array(a), "%s", e.text);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT q.qa_id, s.name, q.prompt, coalesce(q.mc_answer, q.ground_truth) FROM qa q "
                                        "JOIN scenes s USING(scene_id) ORDER BY s.name, q.qa_id", -1, &st, NULL), SQLITE_OK);
    while( sqlite3_step(st)==SQLITE_ROW ){
        json_t *rec = json_array_get(a, i++), *conv = json_object_get(rec, "conversations");
        char zVideo[160], zHuman[8192];
        const char *zValue;
        cr_assert_not_null(rec);
        cr_assert_eq(json_object_size(rec), 3);
        cr_assert_eq(json_integer_value(json_object_get(rec, "id")), sqlite3_column_int64(st, 0));
        snprintf(zVideo, sizeof zVideo, "scannet/%s.mp4", text_or_null(st, 1));
        cr_assert_str_eq(json_string_value(json_object_get(rec, "video")), zVideo);
        cr_assert_eq(json_array_size(conv), 2);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conv, 0), "from")), "human");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conv, 1), "from")), "gpt");
        zValue = json_string_value(json_object_get(json_array_get(conv, 0), "value"));
        snprintf(zHuman, sizeof zHuman, "<video>\n%s", text_or_null(st, 2));
        cr_assert_str_eq(zValue, zHuman);
        /* one video, one placeholder */
        cr_assert_eq(strstr(zValue + 1, "<video>"), NULL);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conv, 1), "value")), text_or_null(st, 3));
    }
    sqlite3_finalize(st);
    cr_assert_eq(i, json_array_size(a));
    cr_assert_eq((int)i, r.nRecords);
    cr_assert_gt(i, 10);
    json_decref(a);

    /* stage 1: the instruction, then the description */
    snprintf(zOut, sizeof zOut, "%s/train_desc.json", zTmp);
    cr_assert_eq(sptt_export_training(db, SPTT_EXPORT_DESCRIPTIONS, "Describe the room.", &o, zOut, &r), SPTT_OK);
    a = json_load_file(zOut, 0, &e);
    cr_assert(json_is_array(a));
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT d.text FROM descriptions d JOIN scenes s USING(scene_id) ORDER BY s.name, d.variant",
                                    -1, &st, NULL), SQLITE_OK);
    i = 0;
    while( sqlite3_step(st)==SQLITE_ROW ){
        json_t *conv = json_object_get(json_array_get(a, i++), "conversations");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conv, 0), "value")), "<video>\nDescribe the room.");
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conv, 1), "value")), text_or_null(st, 0));
    }
    sqlite3_finalize(st);
    cr_assert_eq(i, 6);
    cr_assert_eq(json_array_size(a), 6);
    json_decref(a);
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** PLY
*/
Test(export, ply_reads_back_with_the_ingest_reader)
{
    sqlite3 *db = open_ro();
    sptt_ply_result r;
    sptt_ply ply;
    sptt_pack p;
    char zOut[192];
    const double *inst, *label;
    snprintf(zOut, sizeof zOut, "%s/scene.ply", zTmp);
    cr_assert_eq(sptt_export_ply(db, "scene0700_00", 1, zOut, &r), SPTT_OK, "%s", sptt_errmsg());
    read_scene_pack(zDb, "scene0700_00", &p, SPTT_PACK_SKIP_IMAGES);
    memset(&ply, 0, sizeof ply);
    cr_assert_eq(sptt_ply_read(zOut, &ply), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(ply.format, SPTT_PLY_BINARY_LE);
    cr_assert_eq(ply.nVerts, p.nPoints);
    cr_assert_eq(r.nVerts, p.nPoints);
    cr_assert_eq(ply.nFaces, p.nFaces);
    cr_assert_gt(ply.nFaces, 100);
    cr_assert_eq(memcmp(ply.xyz, p.xyz, sizeof(float) * 3 * p.nPoints), 0);
    cr_assert_eq(memcmp(ply.rgb, p.rgb, 3 * p.nPoints), 0);
    cr_assert_eq(memcmp(ply.faces, p.faces, sizeof(uint32_t) * 3 * p.nFaces), 0);
    inst = sptt_ply_column_values(&ply, "instance");
    label = sptt_ply_column_values(&ply, "label");
    cr_assert_not_null(inst);
    cr_assert_not_null(label);
    {
        uint64_t nInst = 0, nLabel = 0;
        for(uint64_t i = 0; i < p.nPoints; i++){
            cr_assert_eq(inst[i], p.instance[i], "vertex %llu", (unsigned long long)i);
            cr_assert_eq(label[i], p.nyu40[i], "vertex %llu", (unsigned long long)i);
            nInst += inst[i] > 0;
            nLabel += label[i] > 0;
        }
        /* real values, not zeros: most of a synthetic room is labelled */
        cr_assert_gt(nInst, p.nPoints / 4);
        cr_assert_gt(nLabel, p.nPoints / 2);
    }
    sptt_ply_free(&ply);

    /* points only */
    cr_assert_eq(sptt_export_ply(db, "scene0700_00", 0, zOut, &r), SPTT_OK);
    memset(&ply, 0, sizeof ply);
    cr_assert_eq(sptt_ply_read(zOut, &ply), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(ply.nFaces, 0);
    cr_assert_eq(ply.nVerts, p.nPoints);
    sptt_ply_free(&ply);
    sptt_pack_free(&p);

    cr_assert_eq(sptt_export_ply(db, "nope", 1, zOut, &r), SPTT_EINVAL);
    sptt_dataset_close(db);
}

/* ---------------------------------------------------------------------------------------------
** Frames
*/
static uint8_t *read_png_rgb(const char *zPath, int *pw, int *ph)
{
    png_image img;
    uint8_t *buf;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    cr_assert(png_image_begin_read_from_file(&img, zPath), "%s", zPath);
    img.format = PNG_FORMAT_RGB;
    buf = malloc(PNG_IMAGE_SIZE(img));
    cr_assert(png_image_finish_read(&img, NULL, buf, 0, NULL));
    *pw = (int)img.width;
    *ph = (int)img.height;
    return buf;
}

Test(export, png_frames_are_the_pack_frames)
{
    sqlite3 *db = open_ro();
    sptt_video_opts o;
    sptt_video_result r;
    sptt_pack p;
    char zDir[192];
    tjhandle tj = tjInitDecompress();
    sptt_video_opts_default(&o);
    o.width = 64;
    o.height = 48;
    o.quiet = 1;
    snprintf(zDir, sizeof zDir, "%s/png", zTmp);
    cr_assert_eq(sptt_export_video(db, "scene0700_00", &o, NULL, zDir, &r), SPTT_OK, "%s", sptt_errmsg());
    read_scene_pack(zDb, "scene0700_00", &p, 0);
    cr_assert_eq((uint64_t)r.nFrames, p.nFrames);
    cr_assert_eq(r.rendered, 0);
    cr_assert_float_eq(r.fps, 24, 1e-9);
    for(uint64_t f = 0; f < p.nFrames; f += 7){
        char zPath[256];
        int w, h;
        uint8_t *got, want[64 * 48 * 3];
        snprintf(zPath, sizeof zPath, "%s/%06llu.png", zDir, (unsigned long long)f);
        got = read_png_rgb(zPath, &w, &h);
        cr_assert_eq(w, 64);
        cr_assert_eq(h, 48);
        cr_assert_eq(sptt_image_jpeg_to_rgb(tj, p.imgData + p.imgOffsets[f], (size_t)(p.imgOffsets[f + 1] - p.imgOffsets[f]),
                                            (int)p.imgWidth, (int)p.imgHeight, 64, 48, want, "frame"), SPTT_OK);
        cr_assert_eq(memcmp(got, want, sizeof want), 0, "frame %llu", (unsigned long long)f);
        free(got);
    }
    {
        char zPath[256];
        snprintf(zPath, sizeof zPath, "%s/%06llu.png", zDir, (unsigned long long)p.nFrames);
        cr_assert_not(file_exists(zPath));
    }
    sptt_pack_free(&p);
    tjDestroy(tj);
    sptt_dataset_close(db);
}

/* A pack without images: frames rendered from the mesh, showing the room (mostly not black). */
Test(export, frames_rendered_where_the_pack_has_none)
{
    sqlite3 *db = open_ro();
    sptt_video_opts o;
    sptt_video_result r;
    char zDir[192], zPath[256];
    int w, h, nLit = 0;
    uint8_t *px;
    sptt_video_opts_default(&o);
    o.width = 64;
    o.height = 48;
    o.fps = 5;
    o.quiet = 1;
    snprintf(zDir, sizeof zDir, "%s/rendered", zTmp);
    cr_assert_eq(sptt_export_video(db, "scene0701_00", &o, NULL, zDir, &r), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(r.rendered, 1);
    {
        sptt_pack p;
        read_scene_pack(zDb, "scene0701_00", &p, 0);
        cr_assert_eq(p.imgEncoding, SPTT_IMG_NONE);
        cr_assert_eq((uint64_t)r.nFrames, p.nFrames);
        cr_assert_gt(r.nFrames, 20);
        sptt_pack_free(&p);
    }
    cr_assert_float_eq(r.fps, 5, 1e-12);
    snprintf(zPath, sizeof zPath, "%s/000010.png", zDir);
    px = read_png_rgb(zPath, &w, &h);
    for(int i = 0; i < w * h; i++) nLit += px[3 * i] | px[3 * i + 1] | px[3 * i + 2] ? 1 : 0;
    cr_assert_gt(nLit, w * h / 2);
    free(px);
    sptt_dataset_close(db);
}

Test(export, video_refuses_bad_sizes_and_missing_scenes)
{
    sqlite3 *db = open_ro();
    sptt_video_opts o;
    sptt_video_result r;
    char zOut[192];
    snprintf(zOut, sizeof zOut, "%s/v.mp4", zTmp);
    sptt_video_opts_default(&o);
    cr_assert_eq(o.width, 480);
    cr_assert_eq(o.height, 352);
    o.width = 63;
    cr_assert_eq(sptt_export_video(db, "scene0700_00", &o, zOut, NULL, &r), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "even"), "%s", sptt_errmsg());
    o.width = 64;
    cr_assert_eq(sptt_export_video(db, "scene0700_00", &o, NULL, NULL, &r), SPTT_EINVAL);
    cr_assert_eq(sptt_export_video(db, "scene9999_00", &o, zOut, NULL, &r), SPTT_EINVAL);
    cr_assert(nothing_named(zTmp, "v.mp4"));
    sptt_dataset_close(db);
}
