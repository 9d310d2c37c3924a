/*
** sptt-stream: a checkpoint watches a video frame by frame in constant memory (the dual cache of
** model/sptt_stream.h) and answers questions on the way. Frames come from a scene pack of a
** dataset, a folder of PNGs (in name order) or raw RGB on stdin; questions from --ask/--at pairs
** or, when frames do not come on stdin, from lines "N question" on stdin.
*/
#include "sptt_ckpt.h"
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_image.h"
#include "sptt_model.h"
#include "sptt_stream.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
** Frame sources: each gives the next frame as RGB bytes at the model's size, or 0 at the end.
*/
typedef struct source {
    int kind;                 /* 0 scene pack, 1 PNG folder, 2 raw stdin */
    int W, H;                 /* the model's frame size */
    int64_t i, n;             /* next frame, frames in all (raw: unknown, -1) */
    sqlite3 *db;              /* scene */
    sptt_scene_row row;
    sptt_pack pack;
    tjhandle tj;
    const char *zScene;
    const char *zDir;         /* folder */
    struct dirent **aEnt;
    int rawW, rawH;           /* raw */
    uint8_t *buf;             /* a source frame before resizing */
} source;

static int png_name(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcasecmp(e->d_name + n - 4, ".png")==0;
}

static void source_close(source *s)
{
    if( s->kind==0 ){
        sptt_pack_free(&s->pack);
        sptt_scene_row_free(&s->row);
        sptt_dataset_close(s->db);
        if( s->tj ) tjDestroy(s->tj);
    }
    if( s->aEnt ){
        for(int64_t i = 0; i < s->n; i++) free(s->aEnt[i]);
        free(s->aEnt);
    }
    free(s->buf);
    memset(s, 0, sizeof *s);
}

static int source_open_scene(source *s, const char *zDb, const char *zScene, int64_t maxFrames)
{
    int rc;
    s->kind = 0;
    s->zScene = zScene;
    memset(&s->pack, 0, sizeof s->pack);
    if( (rc = sptt_dataset_open(zDb, SPTT_DB_READONLY, &s->db)) ) return rc;
    if( (rc = sptt_scene_get(s->db, zScene, &s->row)) ) return rc;
    if( (rc = sptt_scene_read_pack(&s->row, 0, &s->pack)) ) return rc;
    if( s->pack.nFrames==0 || s->pack.imgEncoding==SPTT_IMG_NONE ){
        return sptt_fail(SPTT_ESTATE, "scene '%s': its pack has no frame images (render them with sptt-annotate "
                         "--render-frames)", zScene);
    }
    if( s->pack.imgEncoding!=SPTT_IMG_JPEG && s->pack.imgEncoding!=SPTT_IMG_RGB8 ){
        return sptt_fail(SPTT_EFORMAT, "scene '%s': pack image encoding %u is not one this toolkit reads", zScene,
                         s->pack.imgEncoding);
    }
    if( (s->tj = tjInitDecompress())==NULL ) return sptt_fail(SPTT_ENOMEM, "turbojpeg: %s", tjGetErrorStr2(NULL));
    s->n = (int64_t)s->pack.nFrames;
    if( maxFrames > 0 && maxFrames < s->n ) s->n = maxFrames;
    return SPTT_OK;
}

static int source_open_dir(source *s, const char *zDir, int64_t maxFrames)
{
    s->kind = 1;
    s->zDir = zDir;
    int n = scandir(zDir, &s->aEnt, png_name, alphasort);
    if( n < 0 ){
        s->aEnt = NULL;
        return sptt_fail(SPTT_EIO, "%s: %s", zDir, strerror(errno));
    }
    s->n = n;
    if( n==0 ) return sptt_fail(SPTT_EINVAL, "%s: no .png files", zDir);
    if( maxFrames > 0 && maxFrames < s->n ){
        for(int64_t i = maxFrames; i < s->n; i++) free(s->aEnt[i]);
        s->n = maxFrames;
    }
    return SPTT_OK;
}

/* The next frame into rgb (H, W, 3); *pGot 0 at the end. */
static int source_next(source *s, uint8_t *rgb, int *pGot)
{
    int rc = SPTT_OK;
    *pGot = 0;
    if( s->n >= 0 && s->i >= s->n ) return SPTT_OK;
    if( s->kind==0 ){
        const sptt_pack *p = &s->pack;
        const uint8_t *a = p->imgData + p->imgOffsets[s->i];
        size_t len = (size_t)(p->imgOffsets[s->i + 1] - p->imgOffsets[s->i]);
        if( p->imgEncoding==SPTT_IMG_JPEG ){
            char zWhat[SPTT_SCENE_NAME_MAX + 48];
            snprintf(zWhat, sizeof zWhat, "scene '%s' frame %lld", s->zScene, (long long)s->i);
            rc = sptt_image_jpeg_to_rgb(s->tj, a, len, (int)p->imgWidth, (int)p->imgHeight, s->W, s->H, rgb, zWhat);
        }else{
            rc = sptt_image_resize_rgb(a, (int)p->imgWidth, (int)p->imgHeight, rgb, s->W, s->H);
        }
    }else if( s->kind==1 ){
        char zPath[4096];
        png_image img;
        memset(&img, 0, sizeof img);
        img.version = PNG_IMAGE_VERSION;
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s", s->zDir, s->aEnt[s->i]->d_name)) ) return rc;
        if( !png_image_begin_read_from_file(&img, zPath) ) return sptt_fail(SPTT_EFORMAT, "%s: %s", zPath, img.message);
        img.format = PNG_FORMAT_RGB;
        free(s->buf);
        if( (s->buf = sptt_malloc((size_t)PNG_IMAGE_SIZE(img)))==NULL ){
            png_image_free(&img);
            return SPTT_ENOMEM;
        }
        if( !png_image_finish_read(&img, NULL, s->buf, 0, NULL) ) return sptt_fail(SPTT_EFORMAT, "%s: %s", zPath, img.message);
        rc = sptt_image_resize_rgb(s->buf, (int)img.width, (int)img.height, rgb, s->W, s->H);
        if( rc ) sptt_fail_prefix(rc, "%s: ", zPath);
    }else{
        size_t need = (size_t)s->rawW * s->rawH * 3;
        size_t got = fread(s->buf, 1, need, stdin);
        if( got==0 && feof(stdin) ) return SPTT_OK;
        if( got!=need ){
            return sptt_fail(SPTT_EFORMAT, "stdin: frame %lld: %zu bytes of %zu (offset %lld)", (long long)s->i, got, need,
                             (long long)(s->i * (int64_t)need + (int64_t)got));
        }
        rc = sptt_image_resize_rgb(s->buf, s->rawW, s->rawH, rgb, s->W, s->H);
    }
    if( rc==SPTT_OK ){
        s->i++;
        *pGot = 1;
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Questions: asked after frame `at` (1-based count of frames read; 0 before any).
*/
typedef struct question {
    int64_t at;
    int seq;                  /* the order given: questions after the same frame keep it */
    char *zText;
} question;

static int question_cmp(const void *a, const void *b)
{
    const question *x = a, *y = b;
    if( x->at!=y->at ) return x->at < y->at ? -1 : 1;
    return x->seq - y->seq;
}

/* Lines "N question" from stdin; blank lines and lines starting with # are skipped. */
static int questions_from_stdin(question **pa, int *pn)
{
    char *zLine = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineNo = 0;
    int rc = SPTT_OK;
    while( rc==SPTT_OK && (len = getline(&zLine, &cap, stdin)) >= 0 ){
        lineNo++;
        while( len > 0 && (zLine[len - 1]=='\n' || zLine[len - 1]=='\r') ) zLine[--len] = 0;
        char *z = zLine;
        while( *z==' ' || *z=='\t' ) z++;
        if( *z==0 || *z=='#' ) continue;
        char *zEnd;
        errno = 0;
        long long at = strtoll(z, &zEnd, 10);
        if( zEnd==z || errno || at < 0 || (*zEnd!=' ' && *zEnd!='\t') ){
            rc = sptt_fail(SPTT_EFORMAT, "stdin: line %lld: expected \"N question\" (N the frames before it)", (long long)lineNo);
            break;
        }
        while( *zEnd==' ' || *zEnd=='\t' ) zEnd++;
        question *a = realloc(*pa, sizeof(question) * (size_t)(*pn + 1));
        if( !a ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); break; }
        *pa = a;
        a[*pn].at = at;
        a[*pn].seq = *pn;
        if( (a[*pn].zText = strdup(zEnd))==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); break; }
        (*pn)++;
    }
    free(zLine);
    return rc;
}

static int parse_raw(const char *zOpt, const char *zVal, void *pOut)
{
    int *wh = pOut;
    char c;
    (void)zOpt;
    if( sscanf(zVal, "%dx%d%c", &wh[0], &wh[1], &c)!=2 || wh[0] < 1 || wh[1] < 1 || wh[0] > 65535 || wh[1] > 65535 ){
        return sptt_fail(SPTT_EINVAL, "'%s' is not WxH", zVal);
    }
    return SPTT_OK;
}

/* Answers question q with the stream and prints "frame N: Q -> A". */
static int ask(sptt_stream *st, const sptt_tokenizer *tok, const question *q, int64_t frames, int maxNew)
{
    int32_t *aPrompt = NULL, *aOut = NULL;
    int nPrompt = 0, nOut = 0, rc;
    char *zAns = NULL;
    if( (rc = sptt_tokenizer_encode(tok, q->zText, strlen(q->zText), &aPrompt, &nPrompt)) ) return rc;
    if( (aOut = sptt_malloc(sizeof(int32_t) * (size_t)maxNew))==NULL ){ rc = SPTT_ENOMEM; goto end; }
    if( (rc = sptt_stream_ask(st, aPrompt, nPrompt, maxNew, aOut, &nOut)) ) goto end;
    if( (zAns = sptt_tokenizer_decode(tok, aOut, nOut))==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); goto end; }
    printf("frame %lld: %s -> %s\n", (long long)frames, q->zText, zAns);
    fflush(stdout);
end:
    free(zAns);
    free(aPrompt);
    free(aOut);
    return rc;
}

int main(int argc, char **argv)
{
    static const char *zCkpt, *zScene, *zDb, *zDir;
    static sptt_strlist asks, ats;
    static int raw[2], anchorWindow, variant, threads, maxNew = 16, maxFrames, first, status;
    const sptt_option aOpt[] = {
        { "ckpt", SPTT_ARG_STRING, &zCkpt, .zArg = "FILE", .zHelp = "a checkpoint of sptt-train", .flags = SPTT_OPT_REQUIRED },
        { "scene", SPTT_ARG_STRING, &zScene, .zArg = "NAME", .zHelp = "frames of this scene's pack (with --db), in walk order" },
        { "db", SPTT_ARG_STRING, &zDb, .zArg = "DB", .zHelp = "the dataset holding --scene" },
        { "frames", SPTT_ARG_STRING, &zDir, .zArg = "DIR", .zHelp = "frames from the .png files of DIR, in name order" },
        { "raw", SPTT_ARG_FN, raw, .xParse = parse_raw, .zArg = "WxH", .zHelp = "frames as raw RGB bytes on stdin, W*H*3 each" },
        { "ask", SPTT_ARG_LIST, &asks, .zArg = "TEXT", .zHelp = "a question (repeatable; each with an --at)" },
        { "at", SPTT_ARG_LIST, &ats, .zArg = "N", .zHelp = "ask the matching --ask after N frames (0: before any)" },
        { "anchor-window", SPTT_ARG_INT, &anchorWindow, 0, 1 << 30, .zArg = "N",
          .zHelp = "keys an anchor layer keeps, itself included (default 0: all, memory grows)" },
        { "variant", SPTT_ARG_CHOICE, &variant, .zChoices = "train|official", .zArg = "V",
          .zHelp = "train (default): the config's training semantics; official: the released\ninference (no Newton-Schulz, post-norm, pending reset at an answer)" },
        { "max-new", SPTT_ARG_INT, &maxNew, 1, 4096, .zArg = "N", .zHelp = "answer tokens at most (default 16)" },
        { "max-frames", SPTT_ARG_INT, &maxFrames, 0, 1 << 30, .zArg = "N", .zHelp = "stop after N frames (default: all)" },
        { "threads", SPTT_ARG_INT, &threads, 0, 4096, .zArg = "N", .zHelp = "compute threads (default: OMP_NUM_THREADS or every core)" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-stream",
        .zSynopsis = "--ckpt FILE (--scene NAME --db DB | --frames DIR | --raw WxH) [--ask TEXT --at N]...\n"
                     " [--anchor-window N] [--variant train|official] [--max-new N] [--threads N]",
        .zAbout = "Feeds the frames one at a time to the model in constant memory (a sliding KV cache and a\n"
                  "pending fast-weight cache per TTT layer; anchor layers bounded by --anchor-window) and\n"
                  "answers each question after its frame, greedily, printing \"frame N: Q -> A\". The stream\n"
                  "goes on from the question, not the answer. Without --ask, and when frames do not come on\n"
                  "stdin, questions are read from stdin as lines \"N question\". Questions past the last frame\n"
                  "are asked at the end. The 3x3x3 conv looks one frame pair ahead in every TTT layer, so the\n"
                  "model works behind the newest frames; an answer treats the newest pair as the video's end.\n"
                  "Frames pair up (the model's temporal patch): an odd newest frame waits for its pair.",
        .aOpt = aOpt,
        .zNotes = "Exit status: 0 done; 1 a failure; 2 a usage error or bad input.\n",
    };
    sptt_model *m = NULL;
    sptt_tokenizer *tok = NULL;
    sptt_stream *st = NULL;
    question *aQ = NULL;
    int nQ = 0, rc = SPTT_OK;
    source src;
    uint8_t *rgb = NULL;
    float *frame = NULL;
    memset(&src, 0, sizeof src);

    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) return status;
    int nModes = (zScene || zDb) + (zDir!=NULL) + (raw[0] > 0);
    if( nModes!=1 ) status = sptt_cli_usage_error(&cli, "give exactly one of --scene with --db, --frames, --raw");
    else if( (zScene==NULL)!=(zDb==NULL) ) status = sptt_cli_usage_error(&cli, "--scene and --db go together");
    else if( asks.n!=ats.n ) status = sptt_cli_usage_error(&cli, "%d --ask but %d --at: give one --at per --ask", asks.n, ats.n);
    if( status >= 0 ) goto done;
    for(int i = 0; i < asks.n; i++){
        char *zEnd;
        errno = 0;
        long long at = strtoll(ats.az[i], &zEnd, 10);
        if( *ats.az[i]==0 || *zEnd || errno || at < 0 ){
            status = sptt_cli_usage_error(&cli, "--at '%s': not a frame count", ats.az[i]);
            goto done;
        }
        question *a = realloc(aQ, sizeof(question) * (size_t)(nQ + 1));
        if( !a ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); goto done; }
        aQ = a;
        aQ[nQ].at = at;
        aQ[nQ].seq = nQ;
        if( (aQ[nQ].zText = strdup(asks.az[i]))==NULL ){ rc = sptt_fail(SPTT_ENOMEM, "out of memory"); goto done; }
        nQ++;
    }
    sptt_progress_quiet(cli.quiet);
    sptt_model_set_threads(threads);
    if( asks.n==0 && raw[0]==0 && !isatty(0) && (rc = questions_from_stdin(&aQ, &nQ)) ) goto done;
    if( nQ > 1 ) qsort(aQ, (size_t)nQ, sizeof *aQ, question_cmp);

    if( (rc = sptt_ckpt_load(zCkpt, &m, NULL, &tok, NULL)) ) goto done;
    const sptt_config *cfg = sptt_model_config(m);
    src.W = cfg->frame_w;
    src.H = cfg->frame_h;
    if( zScene ) rc = source_open_scene(&src, zDb, zScene, maxFrames);
    else if( zDir ) rc = source_open_dir(&src, zDir, maxFrames);
    else{
        src.kind = 2;
        src.rawW = raw[0];
        src.rawH = raw[1];
        src.n = maxFrames > 0 ? maxFrames : -1;
        if( (src.buf = sptt_malloc((size_t)raw[0] * raw[1] * 3))==NULL ) rc = SPTT_ENOMEM;
    }
    if( rc ) goto done;
    sptt_stream_opts so = { anchorWindow, variant==1 ? SPTT_STREAM_OFFICIAL : SPTT_STREAM_TRAIN, 0 };
    if( (rc = sptt_stream_create(m, &so, &st)) ) goto done;
    size_t nPix = (size_t)cfg->frame_w * cfg->frame_h * 3;
    rgb = sptt_malloc(nPix);
    frame = sptt_malloc(sizeof(float) * nPix);
    if( !rgb || !frame ){ rc = SPTT_ENOMEM; goto done; }

    int64_t nFrames = 0;
    int iQ = 0;
    for(;;){
        while( iQ < nQ && aQ[iQ].at <= nFrames && rc==SPTT_OK ) rc = ask(st, tok, &aQ[iQ++], nFrames, maxNew);
        if( rc ) break;
        int got;
        if( (rc = source_next(&src, rgb, &got)) || !got ) break;
        for(size_t i = 0; i < nPix; i++) frame[i] = (float)(rgb[i] / 127.5 - 1.0);
        if( (rc = sptt_stream_push_frame(st, frame)) ) break;
        nFrames++;
    }
    while( rc==SPTT_OK && iQ < nQ ) rc = ask(st, tok, &aQ[iQ++], nFrames, maxNew);
    if( rc==SPTT_OK && !cli.quiet ){
        sptt_stream_info in;
        sptt_stream_info_get(st, &in);
        fprintf(stderr, "sptt-stream: %lld frames, %lld tokens, state %.1f KiB\n", (long long)nFrames, (long long)in.tokens,
                in.state_bytes / 1024.0);
    }
done:
    if( rc ){
        sptt_report("sptt-stream", "%s", sptt_errmsg());
        status = sptt_exit_status(rc);
    }
    for(int i = 0; i < nQ; i++) free(aQ[i].zText);
    free(aQ);
    free(rgb);
    free(frame);
    source_close(&src);
    sptt_stream_free(st);
    sptt_tokenizer_free(tok);
    sptt_model_free(m);
    sptt_strlist_free(&asks);
    sptt_strlist_free(&ats);
    return status >= 0 ? status : 0;
}
