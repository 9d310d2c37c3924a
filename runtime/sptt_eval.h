/*
** sptt-eval's library: answers every question of a dataset split with a trained checkpoint and
** scores the answers as VSI-Bench does (runtime/sptt_score.h), beside a frequency baseline.
**
**   A question is the trainer's stage-2 sample (train/sptt_data.h): the scene's frames, the stored
**   prompt (with opts.zSuffix appended after one space), the answer boundary. The answer is
**   decoded greedily, the most likely token at each step (ties to the lowest id), until the end
**   token or maxNew tokens; each step runs the model over the whole sequence so far (the exact
**   training-path forward; a streaming runtime with caches would give the same tokens faster).
**
**   Numeric or multiple choice: a question is numeric when its target parses as a number
**   (sptt_vsi_parse_float); multiple-choice targets are option letters.
**
**   Long-horizon streams (sptt_dataset.h) whose every scene is of the split are evaluated after
**   the scene questions, in a section of their own outside the overall score. Each stream is
**   watched by one sptt_stream (model/sptt_stream.h, options anchorWindow and variant): every
**   k-th frame of its walk (k = streamStride, or when 0 the smallest stride that feeds at most
**   SPTT_EVAL_STREAM_FRAMES frames of the walk) is decoded as sptt_walk_frames decodes it and
**   pushed in order, and each question (by query frame, then id) is asked with sptt_stream_ask
**   once the walk reaches its query frame: after the last pushed frame at or before it, the
**   prompt as for a scene question. The stream goes on from the question, not the answer. With
**   offlineStreams a stream question is answered as a scene question is instead, its sample
**   holding nFrames frames spread evenly over the walk's frames 0 .. query frame
**   (sptt_walk_frames). The baseline is fitted on the training split's streams. maxQuestions caps
**   the stream questions separately.
**
**   The baseline answers every question of a type with the type's most common target in the
**   training split (ties to the first in byte order) when it is multiple choice, or the mean of
**   its training targets when numeric. Types absent from the training split have no baseline.
*/
#ifndef SPTT_EVAL_H
#define SPTT_EVAL_H

/* The most frames a stream's walk feeds when no stride is given, so that a walk of ScanNet-scale
** rooms (1,600 frames each) costs about what a walk of small rooms does. */
#define SPTT_EVAL_STREAM_FRAMES 256

typedef struct sptt_eval_opts {
    const char *zCkpt;        /* a checkpoint of sptt-train (train/sptt_ckpt.h) */
    const char *zDb;          /* the dataset; its split was stored by the trainer */
    const char *zSplit;       /* "val" (default when NULL) or "train" */
    const char *zSuffix;      /* appended to every prompt after a space; NULL: none */
    const char *zReport;      /* the JSON report, written atomically; NULL: none */
    int nFrames;              /* frames per question; 0: the checkpoint's training setting */
    int maxNew;               /* answer tokens at most; 0: 16 */
    int maxQuestions;         /* the first N questions of the split (0: all) */
    int quiet;                /* no table, no progress */
    int offlineStreams;       /* stream questions answered offline from nFrames frames, not streamed */
    int streamStride;         /* feed every k-th frame of a stream's walk; 0: SPTT_EVAL_STREAM_FRAMES at most */
    int anchorWindow;         /* sptt_stream_opts.anchor_window of the streams; 0: anchors keep every token */
    int variant;              /* SPTT_STREAM_TRAIN (0) or SPTT_STREAM_OFFICIAL */
    int device;               /* 1: the answers' forwards and the streams on GPU 0 (a build with
                                 SPTT_CUDA, make cuda; elsewhere an error) */
} sptt_eval_opts;

/* Runs the evaluation; prints the table unless quiet. *pOverall (may be NULL) receives the
** overall score in 0..100. */
int sptt_eval_run(const sptt_eval_opts *o, double *pOverall);

#endif
