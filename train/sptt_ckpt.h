/*
** Training checkpoints: the model, the optimiser, the tokenizer and the trainer's state in one
** safetensors file, so that a run stopped at any moment resumes exactly where its last checkpoint
** left it (the same parameters, moments, random stream and data position, bit for bit).
**
** The file layout, every tensor and metadata key, the naming in a run folder, the keep-last-K rule
** and the fallback rule are in schemas/checkpoint.md. Files are written atomically (a crash leaves
** the previous file or the new one) and carry a checksum of every byte, so a truncated or bit-
** flipped checkpoint is refused, never half loaded.
*/
#ifndef SPTT_CKPT_H
#define SPTT_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "sptt_model.h"
#include "sptt_train.h"

#define SPTT_CKPT_FORMAT  "sptt-checkpoint"
#define SPTT_CKPT_VERSION "1"
#define SPTT_CKPT_OPTIONS 4096

typedef struct sptt_train_state {
    int64_t step;           /* optimiser updates done */
    int64_t position;       /* training examples consumed globally (the data loader resumes from it) */
    int stage;              /* 1 descriptions, 2 qa */
    uint64_t seed;
    uint64_t rng[4];        /* the trainer's sptt_rng state */
    char zOptions[SPTT_CKPT_OPTIONS];   /* the run's options as a JSON object (lr, batch, ...); "" is {} */
} sptt_train_state;

/*
** Writes a checkpoint. o may be NULL: the file then holds no optimiser state and can only be loaded
** weights-only. tok and st are required; st->stage is 1 or 2, step and position are not negative,
** zOptions is a JSON object (or empty).
*/
int sptt_ckpt_save(const char *zPath, const sptt_model *m, const sptt_optim *o,
                   const sptt_tokenizer *tok, const sptt_train_state *st);

/*
** Loads a checkpoint: creates the model from the stored config (params exact), the tokenizer from
** its merges, and when o is not NULL the optimiser state (m, v, step, config; o must not hold
** memory, it is initialised here) — o NULL loads weights only (for --init). ppTok and st may be
** NULL when not wanted. The whole file is checked either way: a refused file sets nothing, and the
** message names the file and the tensor or key at fault.
*/
int sptt_ckpt_load(const char *zPath, sptt_model **ppM, sptt_optim *o, sptt_tokenizer **ppTok,
                   sptt_train_state *st);

/* The name of step's checkpoint in a run folder: DIR/ckpt-<step, at least 8 digits>.safetensors. */
int sptt_ckpt_path(const char *zDir, int64_t step, char *zOut, size_t nOut);

/*
** The newest checkpoint in zDir that loads cleanly (and whose stored step matches its name). Each
** newer one that is refused (truncated, corrupt: checksum mismatch, ...) is reported as one warning
** line on stderr naming the file and why, and the previous one is tried. SPTT_ESTATE, printing
** nothing, when the folder holds no checkpoint (or does not exist); SPTT_ESTATE after the warnings
** when none loads.
*/
int sptt_ckpt_latest(const char *zDir, char *zOut, size_t nOut);

/*
** Keeps the newest `keep` (>= 1) checkpoints in zDir by step and removes older ones, and removes
** stale *.tmp.<pid> files of dead processes (sptt_clean_stale_tmp). Call it after a save succeeded,
** so the newest kept file is a good one.
*/
int sptt_ckpt_prune(const char *zDir, int keep);

#endif
