/*
** sptt-stream: a checkpoint watches a video frame by frame in constant memory (the dual cache of
** model/sptt_stream.h) and answers questions on the way. Frames come from a scene pack of a
** dataset, a folder of PNGs (in name order) or raw RGB on stdin; questions from --ask/--at pairs
** or, when frames do not come on stdin, from lines "N question" on stdin.
*/
#include "sptt_ckpt.h"
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_model.h"
#include "sptt_stream.h"
#include "sptt_stream_input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
static int ask(sptt_stream *st, const sptt_tokenizer *tok, const sptt_question *q, int64_t frames, int maxNew)
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
    static int raw[2], anchorWindow, variant, threads, maxNew = 16, maxFrames, device, first, status;
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
        { "device", SPTT_ARG_CHOICE, &device, .zChoices = "cpu|cuda", .zArg = "D",
          .zHelp = "where the model runs: cpu (default) or cuda (GPU 0, fp32; a build by make\ncuda, bin-cuda/sptt-stream)" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-stream",
        .zSynopsis = "--ckpt FILE (--scene NAME --db DB | --frames DIR | --raw WxH) [--ask TEXT --at N]...\n"
                     " [--anchor-window N] [--variant train|official] [--max-new N] [--threads N] [--device cpu|cuda]",
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
    sptt_questions q = {0};
    int rc = SPTT_OK;
    sptt_frame_source *src = NULL;
    uint8_t *rgb = NULL;
    float *frame = NULL;

    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) return status;
    int nModes = (zScene || zDb) + (zDir!=NULL) + (raw[0] > 0);
    if( nModes!=1 ) status = sptt_cli_usage_error(&cli, "give exactly one of --scene with --db, --frames, --raw");
    else if( (zScene==NULL)!=(zDb==NULL) ) status = sptt_cli_usage_error(&cli, "--scene and --db go together");
    else if( asks.n!=ats.n ) status = sptt_cli_usage_error(&cli, "%d --ask but %d --at: give one --at per --ask", asks.n, ats.n);
#ifndef SPTT_CUDA
    else if( device==1 ) status = sptt_cli_usage_error(&cli, "--device cuda: this build has no CUDA; run make cuda");
#endif
    if( status >= 0 ) goto done;
    for(int i = 0; i < asks.n; i++){
        char *zEnd;
        errno = 0;
        long long at = strtoll(ats.az[i], &zEnd, 10);
        if( *ats.az[i]==0 || *zEnd || errno || at < 0 ){
            status = sptt_cli_usage_error(&cli, "--at '%s': not a frame count", ats.az[i]);
            goto done;
        }
        if( (rc = sptt_questions_add(&q, at, asks.az[i])) ) goto done;
    }
    sptt_progress_quiet(cli.quiet);
    sptt_model_set_threads(threads);
    if( asks.n==0 && raw[0]==0 && !isatty(0) && (rc = sptt_questions_read(stdin, "stdin", &q)) ) goto done;
    sptt_questions_sort(&q);

    if( (rc = sptt_ckpt_load(zCkpt, &m, NULL, &tok, NULL)) ) goto done;
    const sptt_config *cfg = sptt_model_config(m);
    if( zScene ) rc = sptt_frame_source_scene(zDb, zScene, cfg->frame_w, cfg->frame_h, maxFrames, &src);
    else if( zDir ) rc = sptt_frame_source_dir(zDir, cfg->frame_w, cfg->frame_h, maxFrames, &src);
    else rc = sptt_frame_source_raw(raw[0], raw[1], cfg->frame_w, cfg->frame_h, maxFrames, &src);
    if( rc ) goto done;
    sptt_stream_opts so = { anchorWindow, variant==1 ? SPTT_STREAM_OFFICIAL : SPTT_STREAM_TRAIN, 0, device };
    if( (rc = sptt_stream_create(m, &so, &st)) ) goto done;
    size_t nPix = (size_t)cfg->frame_w * cfg->frame_h * 3;
    rgb = sptt_malloc(nPix);
    frame = sptt_malloc(sizeof(float) * nPix);
    if( !rgb || !frame ){ rc = SPTT_ENOMEM; goto done; }

    int64_t nFrames = 0;
    int iQ = 0;
    for(;;){
        while( iQ < q.n && q.a[iQ].at <= nFrames && rc==SPTT_OK ) rc = ask(st, tok, &q.a[iQ++], nFrames, maxNew);
        if( rc ) break;
        int got;
        if( (rc = sptt_frame_source_next(src, rgb, &got)) || !got ) break;
        for(size_t i = 0; i < nPix; i++) frame[i] = (float)(rgb[i] / 127.5 - 1.0);
        if( (rc = sptt_stream_push_frame(st, frame)) ) break;
        nFrames++;
    }
    while( rc==SPTT_OK && iQ < q.n ) rc = ask(st, tok, &q.a[iQ++], nFrames, maxNew);
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
    sptt_questions_free(&q);
    free(rgb);
    free(frame);
    sptt_frame_source_free(src);
    sptt_stream_free(st);
    sptt_tokenizer_free(tok);
    sptt_model_free(m);
    sptt_strlist_free(&asks);
    sptt_strlist_free(&ats);
    return status >= 0 ? status : 0;
}
