/*
** Export: the dataset's QA, descriptions, point clouds and frames in the formats the tools of the
** wider ecosystem read. Every reader goes through schemas/ (sptt_dataset.h); nothing here writes
** to the dataset.
**
**   | export   | writes                                                   | read by                    |
**   |----------|----------------------------------------------------------|----------------------------|
**   | vsibench | JSONL, one question a line: id, dataset, scene_name,     | VSI-Bench's evaluation     |
**   |          | question_type, question, options, ground_truth (the      | (lmms-eval task), Python's |
**   |          | letter for multiple choice, the number as text otherwise)| json                       |
**   | training | a JSON list of {id, video, conversations}: "<video>\n" + | Spatial-TTT / Qwen-VL      |
**   |          | the wrapped prompt, then the answer                      | fine-tuning data loader    |
**   | streams  | JSONL, one long-horizon stream question a line: id,      | Python's json               |
**   |          | stream, question_type, question, options, ground_truth,  |                            |
**   |          | query_frame, n_frames and the walk's scenes (dataset,    |                            |
**   |          | scene_name, video, frame_offset, n_frames)               |                            |
**   | video    | H.264 MP4 (libavcodec/libavformat), or PNG frames        | FFmpeg, decord, any player |
**   | ply      | binary PLY: x y z, colour, instance and NYU40 label      | Open3D, MeshLab, ingest's  |
**   |          |                                                          | PLY reader                 |
**
** Every file is written under a temporary name, synced and renamed, so a failed export leaves no
** half-written file under the final name. Errors follow sptt_common.h: a row that breaks the
** format it is exported to is SPTT_EFORMAT with a message naming the question or scene and the
** field.
*/
#ifndef SPTT_EXPORT_H
#define SPTT_EXPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
** Videos
*/
typedef struct sptt_video_opts {
    int width, height;       /* output size, both even (H.264 4:2:0); default 480 x 352, the size
                             ** the Spatial-TTT evaluation resizes to */
    double fps;              /* frames per second; 0 = the scene's own rate */
    int quiet;               /* no progress line */
} sptt_video_opts;

void sptt_video_opts_default(sptt_video_opts *o);

typedef struct sptt_video_result {
    int nFrames;
    int rendered;            /* the pack had no images: frames were rendered from the mesh */
    double fps;
} sptt_video_result;

/*
** The camera walk of scene zScene as an MP4 at zMp4 and/or PNG frames DIR/000000.png, ... in
** zPngDir (either may be NULL, not both). Frames are the pack's images resized by area averaging
** (without keeping the aspect ratio, as the evaluation's resize does), or rendered from the mesh's
** vertex colours when the pack has none. A scene without a camera walk is SPTT_ESTATE.
*/
int sptt_export_video(sqlite3 *db, const char *zScene, const sptt_video_opts *o, const char *zMp4, const char *zPngDir,
                      sptt_video_result *r);

/* The relative path a scene's video has in both QA exports: "{dataset}/{scene_name}.mp4", with
** the scene's source as the dataset. */
int sptt_export_video_path(const char *zSource, const char *zScene, char *zOut, size_t n);

/* ---------------------------------------------------------------------------------------------
** QA and descriptions
*/
typedef struct sptt_export_qa_opts {
    const char *zSplit;      /* train, val, test, or NULL for every scene */
    const char *const *azScene;   /* these scenes only (nScene > 0) */
    int nScene;
    const char *zVideoDir;   /* also write each scene's video below this folder; NULL: none */
    sptt_video_opts video;
    int quiet;
} sptt_export_qa_opts;

typedef struct sptt_export_result {
    int nRecords;
    int nNoVideo;            /* vsibench: questions left out, their scene having no camera walk */
    int nScenes;
    int nVideos;
} sptt_export_result;

/* VSI-Bench's test records, one JSON object per line (the table above). The benchmark asks about
** a video, so questions of scenes without a camera walk are left out (counted in nNoVideo). */
int sptt_export_vsibench(sqlite3 *db, const sptt_export_qa_opts *o, const char *zOut, sptt_export_result *r);

/* The current long-horizon streams' questions (sptt_dataset.h), of the streams whose every scene is
** of opts->zSplit when given, one JSON object a line (the table above); query_frame is a global
** frame: the frames of the scenes before, then the frame's index in its scene's walk, so it falls
** in the scene whose frame_offset <= query_frame < frame_offset + n_frames. With zVideoDir, every
** scene's video is written below it at its "video" path. opts->azScene is ignored. */
int sptt_export_streams(sqlite3 *db, const sptt_export_qa_opts *o, const char *zOut, sptt_export_result *r);

#define SPTT_EXPORT_QA           1
#define SPTT_EXPORT_DESCRIPTIONS 2

/*
** Conversation records for fine-tuning, as a JSON list. QA (stage 2): the human turn is
** "<video>\n" + the stored prompt (VSI-Bench's wrapper around question and options, the same text
** the trainer learns from), the gpt turn the option letter or the number. Descriptions (stage 1):
** "<video>\n" + zInstruction, then the description. Only scenes with a camera walk have records
** (the records point at their video). Scenes filtered by split only (opts->azScene is ignored).
*/
int sptt_export_training(sqlite3 *db, int stage, const char *zInstruction, const sptt_export_qa_opts *o,
                         const char *zOut, sptt_export_result *r);

/* ---------------------------------------------------------------------------------------------
** Point clouds
*/
typedef struct sptt_ply_result {
    uint64_t nVerts, nFaces;
} sptt_ply_result;

/*
** The scene's aligned points (the pack's vertices, in the dataset's output frame) as binary
** little-endian PLY: float x y z; uchar red green blue; ushort instance (0 = none); ushort label
** (NYU40 id, 0 = unannotated); and the pack's triangles as face vertex_indices (uchar, int) unless
** withFaces is 0.
*/
int sptt_export_ply(sqlite3 *db, const char *zScene, int withFaces, const char *zOut, sptt_ply_result *r);

#endif
