/*
** The trainer's data path: training examples (sptt_dataset.h) made into model samples
** (sptt_model.h), and a loader that prepares them on a background thread.
**
** Rules, each pinned by tests/unit/test_train_data.c:
**
**   Frames of a scene. n frames are taken from the pack's camera walk of N frames at the indices
**   round(i * (N - 1) / (n - 1)), i = 0 .. n-1, rounding halves up (n = 1 takes frame 0). They are
**   spread evenly over the walk, its first and last frame included; with N < n some frames repeat.
**   Each is decoded (JPEG at the smallest libjpeg-turbo scale covering the target, as ingest does)
**   and area-resized to cfg->frame_w x frame_h without keeping the aspect ratio (the model's grid
**   is fixed), then each RGB byte v becomes (float)(v / 127.5 - 1.0), computed in double, so
**   values lie in [-1, 1]. Layout (n, frame_h, frame_w, 3), row-major, RGB.
**
**   A pack without frame images (ingested with --no-images, or from a mesh) is refused with
**   SPTT_ESTATE and a message naming the scene and the command that renders them,
**   `sptt-annotate --render-frames WxH`. A pack without a camera walk has nothing to show and is
**   refused the same way.
**
**   One example as a sample (sptt_sample_build's layout): BOS, n/2 video groups, the prompt, ANSWER,
**   the answer, EOS; the loss is on the answer and the EOS. The prompt of a description
**   (zKind "description") is opts.zInstruction ("" when NULL); a QA example uses its stored
**   prompt. The answer is zAnswer tokenized; when it has more than maxAnswerTokens tokens only the
**   first maxAnswerTokens are kept, and the EOS after a cut answer carries no loss (its last
**   token's target is -1), so a cut description does not teach the model to stop mid-sentence.
**
**   The loader's order. Examples are visited epoch after epoch. Epoch e visits them in the
**   permutation sptt_epoch_permutation(seed, e); global position q (examples consumed by all
**   ranks together) holds example ex->a[perm_e[q % n]], e = q / n. A step consumes a global batch
**   of batch * nRank consecutive positions starting at the current position p; rank r takes
**   positions [p + r*batch, p + (r+1)*batch), so the ranks' batches laid side by side are the
**   global batch. Batches may straddle epochs. Everything is a function of (seed, position): the
**   same on every machine, whatever the thread timing, and a loader opened at a checkpoint's
**   position gives exactly the batches the uninterrupted run gave from there.
**
**   Grouping by length (lengthWindow W > 0). Every rank waits, each step, for the rank with the
**   longest examples; so that the examples of one global batch have about the same length, epoch
**   e's order is sptt_epoch_order: the permutation above, whose first `lead` positions (those
**   finishing the global batch that straddles from epoch e - 1) stay in place, and the rest is cut
**   into windows of W global batches. In a window the examples are sorted by
**   sptt_example_length (ties in permutation order) and cut into global batches, whose order is
**   then drawn (stream 'LENGTH' of the seed, one child per epoch); a partial batch, the epoch's
**   last, stays last. The order depends on the global batch size, never on how it is split into
**   ranks, so 1 rank x batch 2B and 2 ranks x batch B still see the same global batches.
**
** Errors follow sptt_common.h. Messages name the scene (and the example where the fault is the
** example's own).
*/
#ifndef SPTT_DATA_H
#define SPTT_DATA_H

#include <sqlite3.h>
#include <stdint.h>

#include "sptt_dataset.h"
#include "sptt_model.h"

/* ---------------------------------------------------------------------------------------------
** Frames and samples
*/
typedef struct sptt_data_opts {
    const sptt_config *cfg;      /* frame size and patch grid; validated */
    const sptt_tokenizer *tok;   /* its vocabulary must fit cfg->vocab_size */
    int nFrames;                 /* video frames per sample, even (the model groups frames in
                                 ** pairs); 0 = text only */
    const char *zInstruction;    /* the prompt of descriptions; NULL = none */
    int maxAnswerTokens;         /* answers longer than this are cut; 0 = no cut */
} sptt_data_opts;

/* The frame index i of n taken from a walk of N frames (the rule above). */
uint64_t sptt_frame_index(int i, int n, uint64_t N);

/* The n frames of scene zScene (the rule above) into pixels, n * frame_h * frame_w * 3 floats.
** Reads the pack through sptt_scene_read_pack, so a pack that is not the scene's is refused. */
int sptt_scene_frames(sqlite3 *db, const char *zScene, const sptt_config *cfg, int nFrames, float *pixels);

/* One scene of a walk made of several, laid end to end (a long-horizon stream): global frame g
** of the walk is frame g - offset of the scene it falls in, offset being the frames before it. */
typedef struct sptt_walk_part {
    const char *zScene;
    uint64_t nFrames;           /* its pack's walk; a pack of another length is refused (SPTT_ESTATE) */
} sptt_walk_part;

/* n frames of such a walk, cut at its first nUpTo frames (the frames seen by a question asked at
** global frame nUpTo - 1): global indices by the rule above with N = nUpTo, each decoded from its
** scene's pack as sptt_scene_frames does, into pixels (n * frame_h * frame_w * 3 floats). */
int sptt_walk_frames(sqlite3 *db, const sptt_walk_part *aPart, int nPart, uint64_t nUpTo, const sptt_config *cfg, int nFrames,
                     float *pixels);

/* The same walk read frame by frame, for a stream: frame g of the walk decoded as
** sptt_walk_frames decodes it, into pixels (frame_h * frame_w * 3 floats). Frames must not go
** back (g at least the previous call's), so each scene's pack is read once; aPart must outlive the
** reader. A pack of the wrong length, without images or missing is refused when first reached. */
typedef struct sptt_walk_reader sptt_walk_reader;
int sptt_walk_reader_open(sqlite3 *db, const sptt_walk_part *aPart, int nPart, const sptt_config *cfg, sptt_walk_reader **ppR);
int sptt_walk_reader_frame(sptt_walk_reader *r, uint64_t g, float *pixels);
void sptt_walk_reader_close(sptt_walk_reader *r);

/* One example as a model sample (the rule above). pixels holds o->nFrames frames of the example's
** scene as sptt_scene_frames gives them; when it is NULL and o->nFrames > 0 they are read here
** from db (db is not used otherwise and may be NULL then). Free s with sptt_sample_free. */
int sptt_example_sample(sqlite3 *db, const sptt_data_opts *o, const sptt_example *e, const float *pixels,
                        sptt_sample *s);

/* The visiting order of epoch e over n examples: aPerm receives a permutation of 0 .. n-1 drawn
** from sptt_rng streams of (seed, epoch). */
int sptt_epoch_permutation(uint64_t seed, int64_t epoch, int n, int *aPerm);

/* An example's length for grouping: bytes of its prompt (a description's: the instruction) and
** of its answer, an answer longer than maxAnswerTokens * 4 bytes counted as that (the sample
** cuts it). Bytes stand in for tokens: the order must not wait for the tokenizer. */
size_t sptt_example_length(const sptt_data_opts *o, const sptt_example *e);

/* Epoch e's order grouped by length (the rule above) for global batches of nGlobal examples and
** windows of nWindow of them; nWindow 0 gives sptt_epoch_permutation's order. aLen holds the n
** examples' lengths. */
int sptt_epoch_order(uint64_t seed, int64_t epoch, int n, const size_t *aLen, int64_t nGlobal, int nWindow, int *aOrder);

/* ---------------------------------------------------------------------------------------------
** The loader: a background thread (pthreads) that prepares batches ahead, so the training step
** never waits on SQLite, zstd, JPEG decoding or resizing. The decoded frames of the scenes used
** last are kept, as many as cacheMB holds (examples of a scene share them, and reading a pack
** decompresses it whole); the cache changes how fast batches come, never what they hold.
*/
typedef struct sptt_loader sptt_loader;

typedef struct sptt_loader_opts {
    const char *zDb;           /* the dataset; the loader opens its own read-only connection */
    sptt_data_opts data;       /* cfg and tok must outlive the loader; zInstruction is copied */
    const sptt_examples *ex;   /* the split's examples, at least one (not copied: must outlive the
                               ** loader) */
    uint64_t seed;             /* of the epochs' permutations */
    int batch;                 /* examples per rank per step, >= 1 */
    int rank, nRank;           /* data parallelism: 0 <= rank < nRank */
    int depth;                 /* batches prepared ahead; 0 = 2 */
    int lengthWindow;          /* group by length in windows of this many global batches (the
                               ** rule above); 0 = the plain permutation */
    int cacheMB;               /* the frame cache's budget in MiB (RGB bytes, nFrames * frame_h *
                               ** frame_w * 3 a scene; at least one scene); 0 = 64 */
} sptt_loader_opts;

/* Opens the dataset, checks the options and starts the thread, which begins at global position
** `position` (>= 0; what a checkpoint stores). On failure *pL is NULL. */
int sptt_loader_open(const sptt_loader_opts *o, int64_t position, sptt_loader **pL);

/* The next batch of this rank: *paBatch points to `batch` samples owned by the loader, valid until
** the next call or the close. *pPosition (may be NULL) receives the global position after this
** step's global batch, the position to store with a checkpoint taken after the step. An example
** that cannot be made (a pack without images, a damaged pack, ...) is reported by the call that
** would have returned its batch, with its message; that error is returned again by every later
** call. */
int sptt_loader_next(sptt_loader *L, const sptt_sample **paBatch, int64_t *pPosition);

/* The examples of the batch the last sptt_loader_next returned: `batch` indices into ex->a. */
const int *sptt_loader_indices(const sptt_loader *L);

/* Seconds the caller spent inside sptt_loader_next, waiting for batches. */
double sptt_loader_wait_seconds(const sptt_loader *L);

typedef struct sptt_loader_stats {
    double waitSeconds;        /* as sptt_loader_wait_seconds */
    double workSeconds;        /* the thread's time making batches */
    int64_t nSamples;          /* samples made */
    int64_t nSceneReads;       /* packs read and decoded (frame cache misses) */
    int64_t nSceneHits;        /* frames found in the cache */
} sptt_loader_stats;
void sptt_loader_stats_get(sptt_loader *L, sptt_loader_stats *p);

/* Stops the thread without finishing the batch it is making (it stops before its next example),
** joins it and frees everything. NULL is a no-op. */
void sptt_loader_close(sptt_loader *L);

#endif
