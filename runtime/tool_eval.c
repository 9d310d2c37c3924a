/*
** sptt-eval: answers a dataset split's questions with a trained checkpoint and scores them as
** VSI-Bench does, beside a frequency baseline (runtime/sptt_eval.h).
*/
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_eval.h"
#include "sptt_model.h"
#include "sptt_stream.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    static sptt_eval_opts o;
    static int split, threads, variant, device;
    int rc, first, status;
    const sptt_option aOpt[] = {
        { "ckpt", SPTT_ARG_STRING, &o.zCkpt, .zArg = "FILE", .zHelp = "a checkpoint of sptt-train", .flags = SPTT_OPT_REQUIRED },
        { "db", SPTT_ARG_STRING, &o.zDb, .zArg = "DB", .zHelp = "the dataset the model was trained on (its stored split)",
          .flags = SPTT_OPT_REQUIRED },
        { "split", SPTT_ARG_CHOICE, &split, .zChoices = "val|train", .zArg = "S", .zHelp = "the questions to answer (default val)" },
        { "frames", SPTT_ARG_INT, &o.nFrames, 0, 4096, .zArg = "N", .zHelp = "frames per question (default: as the checkpoint trained)" },
        { "suffix", SPTT_ARG_STRING, &o.zSuffix, .zArg = "TEXT", .zHelp = "a sentence appended to every prompt" },
        { "max-new", SPTT_ARG_INT, &o.maxNew, 1, 4096, .zArg = "N", .zHelp = "answer tokens at most (default 16)" },
        { "max-questions", SPTT_ARG_INT, &o.maxQuestions, 0, 1000000000, .zArg = "N", .zHelp = "the first N questions only (default all)" },
        { "stream-stride", SPTT_ARG_INT, &o.streamStride, 0, 1 << 30, .zArg = "K",
          .zHelp = "long-horizon: feed every K-th frame of a stream's walk (default 0:\nthe smallest K that feeds at most 256 frames)" },
        { "anchor-window", SPTT_ARG_INT, &o.anchorWindow, 0, 1 << 30, .zArg = "N",
          .zHelp = "long-horizon: keys a stream's anchor layers keep (as sptt-stream;\ndefault 0: all)" },
        { "variant", SPTT_ARG_CHOICE, &variant, .zChoices = "train|official", .zArg = "V",
          .zHelp = "long-horizon: the streams' semantics, as sptt-stream (default train)" },
        { "offline-streams", SPTT_ARG_FLAG, &o.offlineStreams,
          .zHelp = "long-horizon: answer each question offline from --frames frames of the\nwalk up to its query frame instead of streaming" },
        { "threads", SPTT_ARG_INT, &threads, 0, 4096, .zArg = "N", .zHelp = "compute threads (default: OMP_NUM_THREADS or every core)" },
        { "device", SPTT_ARG_CHOICE, &device, .zChoices = "cpu|cuda", .zArg = "D",
          .zHelp = "where the answers' forwards run: cpu (default) or cuda (GPU 0; a build\nby make cuda, bin-cuda/sptt-eval), streamed questions included" },
        { "out", SPTT_ARG_STRING, &o.zReport, .zArg = "FILE", .zHelp = "the report as JSON: scores per task and type, every prediction",
          .cShort = 'o' },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-eval",
        .zSynopsis = "--ckpt FILE --db DB [--split val|train] [--frames N] [--suffix TEXT] [-o REPORT.json]\n"
                     " [--stream-stride K] [--anchor-window N] [--variant train|official] [--offline-streams]\n"
                     " [--device cpu|cuda]",
        .zAbout = "Answers every question of the split greedily and scores the answers exactly as VSI-Bench:\n"
                  "the prediction's first space-separated token, trailing dots and whitespace removed;\n"
                  "multiple choice by the option letter, numbers by mean relative accuracy over ten\n"
                  "thresholds; a mean per question type, the direction levels averaged into one task,\n"
                  "the overall score the mean of the tasks. The baseline column answers each type with\n"
                  "its most common training answer (numbers: the training mean). Long-horizon stream\n"
                  "questions (sptt-annotate --streams) of streams whose every scene is in the split follow\n"
                  "in their own section, not part of the overall score: each stream is fed frame by frame\n"
                  "to one streaming model (as sptt-stream), every --stream-stride-th frame of its walk, and\n"
                  "each question is asked when the walk reaches its query frame; the stream goes on from\n"
                  "the question. --offline-streams answers them as scene questions instead, from --frames\n"
                  "frames of the walk up to the query frame.",
        .aOpt = aOpt,
        .zNotes = "Exit status: 0 done; 1 a failure; 2 a usage error or bad input.\n",
    };
    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) return status;
#ifndef SPTT_CUDA
    if( device==1 ) return sptt_cli_usage_error(&cli, "--device cuda: this build has no CUDA; run make cuda");
#endif
    o.device = device==1;
    o.zSplit = split==1 ? "train" : "val";
    o.variant = variant==1 ? SPTT_STREAM_OFFICIAL : SPTT_STREAM_TRAIN;
    if( o.offlineStreams && (o.streamStride || o.anchorWindow || variant) ){
        return sptt_cli_usage_error(&cli, "--stream-stride, --anchor-window and --variant are for streamed questions, not --offline-streams");
    }
    o.quiet = cli.quiet;
    sptt_progress_quiet(cli.quiet);
    sptt_model_set_threads(threads);
    rc = sptt_eval_run(&o, NULL);
    if( rc ){
        sptt_report("sptt-eval", "%s", sptt_errmsg());
        return sptt_exit_status(rc);
    }
    if( o.zReport && !o.quiet ) printf("sptt-eval: report in %s\n", o.zReport);
    return 0;
}
