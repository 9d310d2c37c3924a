/*
** Streaming inference with the dual cache: a model reads a video frame by frame, and text, in
** memory that stays constant as the stream grows (with bounded anchors), and answers questions
** on the way. Kernels are the training pass's (model/kern/kern_stream.inc).
**
** What a stream holds, per layer kind:
**   swa, ttt   a KV cache of the last window-1 tokens (rotated keys, values);
**   ttt        the fast weights (the pre-norm accumulator, the momentum) and the pending cache:
**              the fast keys, values, rates and momentum gates of the current chunk. Chunk c
**              [cC, (c+1)C) updates the weights when token (c+1)C arrives, as training's rule
**              "update only if tokens follow the chunk": updates fall at global multiples of C
**              and the newest chunk only applies;
**   full       (the anchors) a KV cache of every token, as the reference keeps it, so memory
**              grows with the stream; anchor_window N bounds it to the last N-1 tokens, each
**              anchor query then seeing N keys. That is a trade-off the reference does not make:
**              beyond N tokens the anchors no longer see the whole stream, and the stream no
**              longer equals the training pass (whose anchors see everything).
**
** The conv and its delay. A TTT layer convolves video group t with groups t-1 and t+1 (3x3x3, at
** the same layer), so each such layer holds back the newest group, and every token after it, until
** group t+1 reaches the layer. Through k TTT layers the delay adds up: group t leaves the top
** when group t+k has been pushed (k = the number of TTT layers; one group = two frames). A flush
** (and every answer) declares the newest group the end of the video, replicate-padded as the
** training pass pads its last group, and runs everything through. With no flush, and an anchor
** window of 0, the logits of every token equal the training pass's over the same sequence
** (sptt_model_forward) to rounding; a flush makes the flushed group's tokens those of a sequence
** whose video ends there, so later frames see the earlier groups as neighbours but not the reverse.
**
** Answers. sptt_stream_ask pushes the question into the stream and answers on a copy of it: the
** answer marker, a flush, greedy decoding. The stream then goes on from the question (not the
** answer), its video not flushed, so later frames complete the held-back group exactly.
**
** Variants:
**   SPTT_STREAM_TRAIN     (default) the training semantics of the config: Newton-Schulz and
**                         pre-norm as configured, updates at multiples of C, no extra update.
**   SPTT_STREAM_OFFICIAL  the released inference code: Newton-Schulz off, post-norm row-norm;
**                         and when an answer starts, each pending cache is reset to the last C
**                         tokens (overlapping the chunk consumed last when the prompt's length
**                         is not a multiple of C), after which updates run as soon as C tokens
**                         are pending, not at multiples of C, so the first answer token runs an
**                         update training never does. The stream itself (frames and questions)
**                         updates as in training, with those two switches.
*/
#ifndef SPTT_STREAM_H
#define SPTT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "sptt_model.h"

#define SPTT_STREAM_TRAIN    0
#define SPTT_STREAM_OFFICIAL 1

typedef struct sptt_stream_opts {
    int anchor_window;   /* keys an anchor query sees, itself included; 0: all (the reference) */
    int variant;         /* SPTT_STREAM_TRAIN or SPTT_STREAM_OFFICIAL */
    int keep_logits;     /* keep the logits of every token (sptt_stream_all_logits); for tests */
    int device;          /* 0: the CPU; 1: GPU 0 (a build by make cuda; model/cuda/sptt_cuda.h), the
                         ** state in device memory, products in fp32, the same schedule */
} sptt_stream_opts;

typedef struct sptt_stream sptt_stream;

/* One layer's state. */
typedef struct sptt_stream_layer {
    int kind;            /* SPTT_LAYER_* */
    int kv_rows;         /* tokens in the KV cache */
    int kv_cap;          /* rows allocated */
    int pending;         /* TTT: tokens in the pending cache */
    int queued;          /* tokens waiting at the layer's input (the conv's delay) */
    int64_t done;        /* tokens the layer has processed */
    int64_t updates;     /* TTT: fast-weight updates run */
    int64_t last_update_at;   /* TTT: the token whose arrival ran the last update (a multiple of C) */
} sptt_stream_layer;

typedef struct sptt_stream_info {
    int64_t tokens;      /* pushed, the leading BOS included */
    int64_t final;       /* through every layer (logits exist for them) */
    int groups;          /* video groups (frame pairs) pushed */
    size_t state_bytes;  /* memory the stream holds: caches, fast-weight state, queues (not scratch) */
    size_t scratch_bytes;/* per-batch work memory */
} sptt_stream_info;

/* The model must outlive the stream; its parameters are read, never written. */
int sptt_stream_create(sptt_model *m, const sptt_stream_opts *o, sptt_stream **ppS);
void sptt_stream_free(sptt_stream *s);
/* One frame (frame_h, frame_w, 3), values as training normalises them (bytes/127.5 - 1). The
** frames pair into groups: every second frame pushes a group; an odd frame waits for its pair. */
int sptt_stream_push_frame(sptt_stream *s, const float *frame);
/* Text tokens (no SPTT_TOK_PATCH). */
int sptt_stream_push_tokens(sptt_stream *s, const int32_t *aTok, int n);
/* Declares the newest group the end of the video and runs every held-back token through. */
int sptt_stream_flush(sptt_stream *s);
/* Logits (vocab_size) after token *pAt, the last that went through every layer; NULL if none. */
const float *sptt_stream_logits(const sptt_stream *s, int64_t *pAt);
/* With keep_logits: (final, vocab_size), row i after token i. */
const float *sptt_stream_all_logits(const sptt_stream *s, int64_t *pn);
/* Pushes the question's tokens, then answers greedily on a copy of the stream (answer marker,
** flush, decoding until EOS or maxNew tokens); aOut receives *pnOut tokens. */
int sptt_stream_ask(sptt_stream *s, const int32_t *aPrompt, int nPrompt, int maxNew, int32_t *aOut, int *pnOut);
void sptt_stream_info_get(const sptt_stream *s, sptt_stream_info *pInfo);
/* Layer l's state, 0 <= l < n_layer. */
void sptt_stream_layer_get(const sptt_stream *s, int l, sptt_stream_layer *pOut);

#endif
