/*
** safetensors reader: the container of step dumps (schemas/step_dump.md) and of the trainer's
** checkpoints.
**
** The file is an unsigned 64-bit little-endian header length N, N bytes of JSON, then the data
** area. The reader is strict and trusts nothing: the header length must fit the file (and stay
** under 100 MiB, the cap the reference implementation uses), the JSON must be a well-formed
** UTF-8 object without duplicate keys, `__metadata__` (optional) must map strings to strings,
** and every other key must describe a tensor with exactly the fields dtype (a known name), shape
** (at most SPTT_ST_MAX_DIMS non-negative integers) and data_offsets ([begin, end], begin <= end).
** Sizes are computed with overflow checks; each tensor's byte range must equal its element count
** times its element size, and the ranges, sorted by offset, must tile the data area exactly: no
** overlap, no gap, nothing past the end, no byte after the last tensor. The order of the keys in
** the header is free, as the format allows. A refusal is one line naming the file, the tensor
** and the field.
*/
#ifndef SPTT_SAFETENSORS_H
#define SPTT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define SPTT_ST_MAX_DIMS 8
#define SPTT_ST_MAX_HEADER ((uint64_t)100 << 20)

/* Element types: the safetensors names, each a whole number of bytes. */
enum {
    SPTT_ST_BOOL, SPTT_ST_U8, SPTT_ST_I8, SPTT_ST_F8_E5M2, SPTT_ST_F8_E4M3, SPTT_ST_I16, SPTT_ST_U16, SPTT_ST_F16,
    SPTT_ST_BF16, SPTT_ST_I32, SPTT_ST_U32, SPTT_ST_F32, SPTT_ST_F64, SPTT_ST_I64, SPTT_ST_U64, SPTT_ST_NDTYPE
};

typedef struct sptt_st_tensor {
    const char *zName;
    int dtype;                          /* SPTT_ST_* */
    int ndim;                           /* 0 for a scalar */
    uint64_t shape[SPTT_ST_MAX_DIMS];
    uint64_t nElem;                     /* product of the shape (1 for a scalar) */
    uint64_t begin, end;                /* byte range within the data area */
    const uint8_t *data;                /* end - begin bytes, little-endian, no alignment promised */
} sptt_st_tensor;

typedef struct sptt_st sptt_st;

/*
** Validates a whole file held in memory. The bytes are not copied: they must outlive the handle.
** zName names the file in messages. On failure *pSt is NULL.
*/
int sptt_st_open_buffer(const char *zName, const uint8_t *data, size_t n, sptt_st **pSt);
/* Reads and validates a file; the handle owns the bytes. */
int sptt_st_read(const char *zPath, sptt_st **pSt);
void sptt_st_close(sptt_st *st);

/* Tensors in data-area order. */
int sptt_st_count(const sptt_st *st);
const sptt_st_tensor *sptt_st_at(const sptt_st *st, int i);
/* By name, or NULL. */
const sptt_st_tensor *sptt_st_find(const sptt_st *st, const char *zName);
/*
** By name, checking what the caller needs: the dtype, and the shape when shape is not NULL
** (ndim entries). Missing tensors and mismatches fail with SPTT_EFORMAT and a message naming
** the file, the tensor and the field.
*/
int sptt_st_get(const sptt_st *st, const char *zName, int dtype, int ndim, const uint64_t *shape,
                const sptt_st_tensor **pT);

/* __metadata__: the value of a key or NULL; all entries in header order. */
const char *sptt_st_meta(const sptt_st *st, const char *zKey);
int sptt_st_meta_count(const sptt_st *st);
void sptt_st_meta_at(const sptt_st *st, int i, const char **pKey, const char **pValue);

/* "F32" for SPTT_ST_F32, NULL when out of range; the element size in bytes, 0 when out of range. */
const char *sptt_st_dtype_name(int dtype);
size_t sptt_st_dtype_size(int dtype);

#endif
