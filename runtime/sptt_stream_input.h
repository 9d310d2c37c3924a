/*
** What a stream is fed (runtime/stream_input.c): frames one at a time from a scene pack, a folder
** of PNGs or raw RGB on standard input, resized to the model's frame size; and questions, each
** with the number of frames it is asked after.
*/
#ifndef SPTT_STREAM_INPUT_H
#define SPTT_STREAM_INPUT_H

#include <stdint.h>
#include <stdio.h>

typedef struct sptt_frame_source sptt_frame_source;

/* Frames at W x H from the scene's pack in dataset zDb (walk order), from the .png files of zDir
** (name order), or as rawW * rawH * 3 bytes each on standard input. maxFrames > 0 stops there.
** On failure nothing stays open and *pp is NULL. */
int sptt_frame_source_scene(const char *zDb, const char *zScene, int W, int H, int64_t maxFrames, sptt_frame_source **pp);
int sptt_frame_source_dir(const char *zDir, int W, int H, int64_t maxFrames, sptt_frame_source **pp);
int sptt_frame_source_raw(int rawW, int rawH, int W, int H, int64_t maxFrames, sptt_frame_source **pp);
/* The next frame into rgb (H, W, 3); *pGot is 0 at the end. A short raw frame is an error naming
** its byte offset. */
int sptt_frame_source_next(sptt_frame_source *s, uint8_t *rgb, int *pGot);
void sptt_frame_source_free(sptt_frame_source *s);

/* A question asked after `at` frames (0: before any); seq keeps the given order among questions
** after the same frame. */
typedef struct sptt_question {
    int64_t at;
    int seq;
    char *zText;
} sptt_question;

typedef struct sptt_questions {
    sptt_question *a;
    int n;
} sptt_questions;

int sptt_questions_add(sptt_questions *q, int64_t at, const char *zText);
/* Lines "N question" from f (named zName in messages); blank lines and lines starting with # are
** skipped. */
int sptt_questions_read(FILE *f, const char *zName, sptt_questions *q);
/* By frame, then in the order given. */
void sptt_questions_sort(sptt_questions *q);
void sptt_questions_free(sptt_questions *q);

#endif
