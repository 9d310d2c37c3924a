/*
** safetensors writer: the one place that lays out the toolkit's safetensors files (step dumps,
** checkpoints).
**
** The file is: u64 little-endian header length N; N bytes of JSON padded with spaces to a multiple
** of 8; the tensor bytes, little-endian, row-major, in the order the tensors were added, without
** gaps. The header holds "__metadata__" first (string values, in the order they were set), then one
** entry per tensor {"dtype", "shape", "data_offsets": [begin, end)} relative to the data area.
** The same tensors and metadata added in the same order give the same bytes on every host.
**
** Usage:
**     sptt_stw w;
**     sptt_stw_init(&w);
**     sptt_stw_meta(&w, "format", "my-format");
**     sptt_stw_add(&w, "weights", "F32", p, 2, (int64_t[]){ rows, cols });
**     rc = sptt_stw_write_atomic(&w, zPath);
**     sptt_stw_free(&w);
** The first failure of an add or a meta call is kept and returned again by the write, so a caller
** may check only the write. Tensor data is referenced, not copied: it must stay valid and unchanged
** until the write returns.
*/
#ifndef SPTT_ST_WRITE_H
#define SPTT_ST_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "sptt_common.h"

#define SPTT_STW_MAX_NDIM 8

typedef struct sptt_stw_tensor {
    char *zName;
    const char *zDtype;          /* one of the static names below */
    int elem;                    /* bytes per element */
    int ndim;
    int64_t shape[SPTT_STW_MAX_NDIM];
    const void *pData;
    size_t nByte;
} sptt_stw_tensor;

/* Fields are the writer's own; use the functions. */
typedef struct sptt_stw {
    sptt_stw_tensor *aT;
    int nT, nTAlloc;
    char **azMeta;               /* key, value, key, value, ... */
    int nMeta, nMetaAlloc;
    int iChecksum;               /* metadata entry that receives the file checksum, or -1 */
    int rc;                      /* first failure, sticky */
} sptt_stw;

void sptt_stw_init(sptt_stw *w);
void sptt_stw_free(sptt_stw *w);

/*
** Adds a tensor. zDtype is "F32", "I32", "U8", "I64" or "U64"; pData holds the values in host byte
** order (written little-endian). ndim is 0 (a scalar) to SPTT_STW_MAX_NDIM; dimensions may be 0.
** Refused: an unknown dtype, an empty, duplicate or "__metadata__" name, a negative dimension, a
** byte size that overflows.
*/
int sptt_stw_add(sptt_stw *w, const char *zName, const char *zDtype, const void *pData, int ndim,
                 const int64_t *aShape);
/* Sets a metadata string (copied); a key set twice is refused. */
int sptt_stw_meta(sptt_stw *w, const char *zKey, const char *zValue);
/*
** Declares a metadata key whose value becomes the file's checksum: the XXH64 (sptt_hash64, 16 lower-
** case hex digits) of every byte of the file, with those 16 digits counted as the ASCII digit '0'.
** A bit flip anywhere in the file, header included, then changes the checksum. The key is made of
** [a-z0-9_] only, so its place in the header is found by a plain search for "KEY":" (see
** schemas/checkpoint.md for the reader's side).
*/
int sptt_stw_checksum(sptt_stw *w, const char *zKey);

/* Writes the file through sptt_atomic_*: a failure leaves no file (and no old file changed) at zPath. */
int sptt_stw_write_atomic(sptt_stw *w, const char *zPath);

/* Bytes of one element of a dtype name, or 0 when the writer does not know it. */
int sptt_stw_dtype_size(const char *zDtype);

#endif
