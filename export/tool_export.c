/*
** sptt-export: the dataset's QA, descriptions, videos and point clouds in the formats of the tools
** that read them (export/sptt_export.h has the table).
*/
#include "sptt_cli.h"
#include "sptt_common.h"
#include "sptt_dataset.h"
#include "sptt_export.h"
#include "sptt_trainer.h"

#include <stdio.h>
#include <string.h>

enum { CMD_VSIBENCH, CMD_TRAINING, CMD_VIDEO, CMD_PLY, CMD_STREAMS, CMD_COUNT };
static const char *const azCmd[CMD_COUNT] = { "vsibench", "training", "video", "ply", "streams" };

/* The commands an option applies to, a bit each. */
#define ALL_CMDS 0x1fu
#define QA_CMDS ((1u << CMD_VSIBENCH) | (1u << CMD_TRAINING) | (1u << CMD_STREAMS))
#define VIDEO_CMDS (QA_CMDS | (1u << CMD_VIDEO))

static int command_index(const char *z)
{
    for(int i = 0; i < CMD_COUNT; i++) if( strcmp(z, azCmd[i])==0 ) return i;
    return -1;
}

int main(int argc, char **argv)
{
    static const char *zDb, *zOut, *zInstruction, *zVideoDir, *zPng;
    static sptt_strlist scenes;
    static int videos, noFaces, size[2], stage = -1, split = -1;
    static double fps;
    sptt_train_opts to;
    sptt_video_opts vo;
    sqlite3 *db = NULL;
    int first, status, cmd, rc = SPTT_OK;
    double t0 = sptt_now();
    const sptt_option aOpt[] = {
        { "db", SPTT_ARG_STRING, &zDb, .zArg = "DB", .zHelp = "the dataset (opened read-only)", .flags = SPTT_OPT_REQUIRED },
        { "out", SPTT_ARG_STRING, &zOut, .zArg = "FILE", .zHelp = "the file to write (vsibench: .jsonl, training: .json,\n"
          "video: .mp4, ply: .ply)", .cShort = 'o' },
        { "scene", SPTT_ARG_LIST, &scenes, .zArg = "NAME", .zHelp = "video, ply: the scene (one); vsibench: only these\n(repeatable)" },
        { "split", SPTT_ARG_CHOICE, &split, .zChoices = "train|val|test", .zArg = "S", .zHelp = "only the scenes of this split" },
        { "videos", SPTT_ARG_FLAG, &videos, .zHelp = "vsibench, streams: also write each scene's video as\n{dataset}/{scene_name}.mp4 beside FILE" },
        { "stage", SPTT_ARG_CHOICE, &stage, .zChoices = "qa|descriptions", .zArg = "S",
          .zHelp = "training: qa (stage 2, default) or descriptions (stage 1)" },
        { "instruction", SPTT_ARG_STRING, &zInstruction, .zArg = "TEXT",
          .zHelp = "training, descriptions: the prompt before each description\n(default: the trainer's)" },
        { "video-dir", SPTT_ARG_STRING, &zVideoDir, .zArg = "DIR",
          .zHelp = "training: also write the videos the records name below DIR\n(the folder their paths are relative to)" },
        { "size", SPTT_ARG_SIZE, size, .zArg = "WxH", .zHelp = "video size, both even (default 480x352: the evaluation's\n352 x 480, height x width)" },
        { "fps", SPTT_ARG_DOUBLE, &fps, 0.01, 1000, .zArg = "F", .zHelp = "video frame rate (default: the scene's)" },
        { "png", SPTT_ARG_STRING, &zPng, .zArg = "DIR", .zHelp = "video: write the frames as DIR/000000.png, ... (with or\ninstead of -o)" },
        { "no-faces", SPTT_ARG_FLAG, &noFaces, .zHelp = "ply: points only, no triangles" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-export",
        .zSynopsis = "vsibench --db DB -o FILE.jsonl [--split S] [--scene NAME ...] [--videos]\n"
                     "training --db DB -o FILE.json [--stage qa|descriptions] [--instruction TEXT]\n"
                     " [--video-dir DIR] [--split S]\n"
                     "video --db DB --scene NAME [-o FILE.mp4] [--png DIR] [--size WxH] [--fps F]\n"
                     "ply --db DB --scene NAME -o FILE.ply [--no-faces]\n"
                     "streams --db DB -o FILE.jsonl [--split S] [--videos]",
        .zAbout = "Writes the dataset's questions, descriptions, videos and point clouds for the tools that\n"
                  "read them, without changing the dataset:\n"
                  "  vsibench  one JSON object a line as VSI-Bench's test records: id, dataset, scene_name,\n"
                  "            question_type, question, options (null for numbers), ground_truth (the\n"
                  "            option letter, or the number as text); read by VSI-Bench's evaluation\n"
                  "  training  a JSON list of {id, video, conversations}: \"<video>\\n\" + the wrapped prompt,\n"
                  "            then the answer; read by the Spatial-TTT / Qwen-VL fine-tuning code\n"
                  "  video     the camera walk as H.264 MP4 (FFmpeg's libraries) or PNG frames; frames the\n"
                  "            pack lacks are rendered from the mesh\n"
                  "  ply       the aligned points with colour, instance and NYU40 label (ushort label, as\n"
                  "            ScanNet's labels.ply), and the mesh's triangles; read by Open3D and MeshLab\n"
                  "  streams   the long-horizon stream questions, one JSON object a line: id, stream,\n"
                  "            question_type, question, options, ground_truth, query_frame (a frame of the\n"
                  "            scenes' walks laid end to end), n_frames and the scenes in walking order\n"
                  "            (dataset, scene_name, video, frame_offset, n_frames)\n"
                  "Files appear complete or not at all (temporary name, sync, rename).",
        .aOpt = aOpt,
        .nArgMin = 1,
        .nArgMax = 1,
        .zArgName = "command (vsibench, training, video, ply or streams)",
    };
    sptt_video_opts_default(&vo);
    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) goto out;
    if( (cmd = command_index(argv[first])) < 0 ){
        status = sptt_cli_usage_error(&cli, "unknown command '%s'", argv[first]);
        goto out;
    }
    /* every option given must belong to the command (the defaults above say what was given) */
    {
        const struct { const char *zName; int given; unsigned cmds; } aUse[] = {
            { "out", zOut!=NULL, ALL_CMDS },
            { "scene", scenes.n > 0, (1u << CMD_VSIBENCH) | (1u << CMD_VIDEO) | (1u << CMD_PLY) },
            { "split", split >= 0, QA_CMDS },
            { "videos", videos, (1u << CMD_VSIBENCH) | (1u << CMD_STREAMS) },
            { "stage", stage >= 0, 1u << CMD_TRAINING },
            { "instruction", zInstruction!=NULL, 1u << CMD_TRAINING },
            { "video-dir", zVideoDir!=NULL, 1u << CMD_TRAINING },
            { "size", size[0] > 0, VIDEO_CMDS },
            { "fps", fps > 0, VIDEO_CMDS },
            { "png", zPng!=NULL, 1u << CMD_VIDEO },
            { "no-faces", noFaces, 1u << CMD_PLY },
        };
        for(size_t k = 0; k < sizeof aUse / sizeof aUse[0]; k++){
            if( aUse[k].given && !(aUse[k].cmds & (1u << cmd)) ){
                status = sptt_cli_usage_error(&cli, "--%s does not apply to %s", aUse[k].zName, azCmd[cmd]);
                goto out;
            }
        }
    }
    if( size[0]==0 ){
        size[0] = vo.width;
        size[1] = vo.height;
    }
    if( cmd!=CMD_VIDEO && zOut==NULL ){
        status = sptt_cli_usage_error(&cli, "%s needs -o FILE", azCmd[cmd]);
        goto out;
    }
    if( cmd==CMD_VIDEO && zOut==NULL && zPng==NULL ){
        status = sptt_cli_usage_error(&cli, "video needs -o FILE.mp4, --png DIR or both");
        goto out;
    }
    if( (cmd==CMD_VIDEO || cmd==CMD_PLY) && scenes.n!=1 ){
        status = sptt_cli_usage_error(&cli, "%s needs exactly one --scene NAME", azCmd[cmd]);
        goto out;
    }
    if( size[0] % 2 || size[1] % 2 ){
        status = sptt_cli_usage_error(&cli, "--size: %dx%d: both sides must be even (H.264 4:2:0)", size[0], size[1]);
        goto out;
    }
    if( zInstruction && stage!=1 ){
        status = sptt_cli_usage_error(&cli, "--instruction applies to --stage descriptions only");
        goto out;
    }
    vo.width = size[0];
    vo.height = size[1];
    vo.fps = fps;
    vo.quiet = cli.quiet;

    if( (rc = sptt_dataset_open(zDb, SPTT_DB_READONLY, &db)) ) goto fail;
    /* the output's folder is made when missing, as the stages make theirs */
    if( zOut && strrchr(zOut, '/') && strrchr(zOut, '/')!=zOut ){
        char zDir[SPTT_PATH_MAX];
        if( (rc = sptt_pathf(zDir, sizeof zDir, "%.*s", (int)(strrchr(zOut, '/') - zOut), zOut)) ) goto fail;
        if( (rc = sptt_mkdirs(zDir)) ) goto fail;
    }
    if( cmd==CMD_VSIBENCH || cmd==CMD_TRAINING || cmd==CMD_STREAMS ){
        static const char *const azSplit[3] = { "train", "val", "test" };
        sptt_export_qa_opts qo;
        sptt_export_result r;
        char zDir[SPTT_PATH_MAX];
        memset(&qo, 0, sizeof qo);
        qo.zSplit = split >= 0 ? azSplit[split] : NULL;
        qo.azScene = scenes.az;
        qo.nScene = scenes.n;
        qo.video = vo;
        qo.quiet = cli.quiet;
        if( cmd==CMD_VSIBENCH || cmd==CMD_STREAMS ){
            if( videos ){
                const char *zSlash = strrchr(zOut, '/');
                if( zSlash==NULL ) rc = sptt_pathf(zDir, sizeof zDir, ".");
                else rc = sptt_pathf(zDir, sizeof zDir, "%.*s", zSlash==zOut ? 1 : (int)(zSlash - zOut), zOut);
                if( rc ) goto fail;
                qo.zVideoDir = zDir;
            }
            rc = cmd==CMD_VSIBENCH ? sptt_export_vsibench(db, &qo, zOut, &r) : sptt_export_streams(db, &qo, zOut, &r);
        }else{
            sptt_train_opts_default(&to);
            qo.zVideoDir = zVideoDir;
            rc = sptt_export_training(db, stage==1 ? SPTT_EXPORT_DESCRIPTIONS : SPTT_EXPORT_QA,
                                      zInstruction ? zInstruction : to.zInstruction, &qo, zOut, &r);
        }
        if( rc ) goto fail;
        if( !cli.quiet ){
            printf("sptt-export %s: %s from %s to %s", azCmd[cmd], sptt_plural(r.nRecords, "record", NULL),
                   sptt_plural(r.nScenes, "scene", NULL), zOut);
            if( qo.zVideoDir ) printf(", %s below %s", sptt_plural(r.nVideos, "video", NULL), qo.zVideoDir);
            if( r.nNoVideo ) printf(" (%s of scenes without a camera walk left out)", sptt_plural(r.nNoVideo, "question", NULL));
            printf(" in %.1f s\n", sptt_now() - t0);
        }
    }else if( cmd==CMD_VIDEO ){
        sptt_video_result r;
        if( (rc = sptt_export_video(db, scenes.az[0], &vo, zOut, zPng, &r)) ) goto fail;
        if( !cli.quiet ){
            printf("sptt-export video: %s: %d frames at %dx%d, %.3g fps%s to %s%s%s in %.1f s\n", scenes.az[0], r.nFrames, vo.width,
                   vo.height, r.fps, r.rendered ? " (rendered from the mesh)" : "", zOut ? zOut : "", zOut && zPng ? " and " : "",
                   zPng ? zPng : "", sptt_now() - t0);
        }
    }else{
        sptt_ply_result r;
        if( (rc = sptt_export_ply(db, scenes.az[0], !noFaces, zOut, &r)) ) goto fail;
        if( !cli.quiet ){
            printf("sptt-export ply: %s: %llu points, %llu faces to %s in %.1f s\n", scenes.az[0], (unsigned long long)r.nVerts,
                   (unsigned long long)r.nFaces, zOut, sptt_now() - t0);
        }
    }
    status = 0;
    goto out;

fail:
    sptt_report("sptt-export", "%s", sptt_errmsg());
    status = sptt_exit_status(rc);
out:
    sptt_dataset_close(db);
    sptt_strlist_free(&scenes);
    return status;
}
