/*
** Spatial-TTT toolkit: what every stage shares.
**
** Errors follow SQLite's manner: a function returns one int code (SPTT_OK or an SPTT_E* value)
** and, on failure, leaves a one-line message for the calling thread, read with sptt_errmsg().
** The message names the file and the field or byte offset at fault, so a tool prints it as is.
*/
#ifndef SPTT_COMMON_H
#define SPTT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SPTT_VERSION "0.1.0"

/* ---------------------------------------------------------------------------------------------
** Error codes
*/
#define SPTT_OK       0
#define SPTT_EIO      1   /* the operating system refused: open, read, write, rename */
#define SPTT_EFORMAT  2   /* the input breaks its format: bad header, bad field, bad size */
#define SPTT_ECORRUPT 3   /* a checksum or an internal consistency check failed */
#define SPTT_ENOMEM   4
#define SPTT_EINVAL   5   /* a caller or command-line argument is wrong */
#define SPTT_EDB      6   /* SQLite reported an error */
#define SPTT_EVERSION 7   /* a file of another application or of a newer version */
#define SPTT_ESTATE   8   /* a prerequisite stage has not run */

/* Records a message for the calling thread and returns rc, so `return sptt_fail(...)` reads well. */
int sptt_fail(int rc, const char *zFormat, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the current message, e.g. with the file being read: "scene.ply: " + message. */
int sptt_fail_prefix(int rc, const char *zFormat, ...) __attribute__((format(printf, 2, 3)));
const char *sptt_errmsg(void);
const char *sptt_errname(int rc);
/* The exit status a tool uses for rc: 2 for bad input, 1 for everything else. */
int sptt_exit_status(int rc);

/* ---------------------------------------------------------------------------------------------
** Memory: allocation failure is reported, not fatal; these set the message.
*/
void *sptt_malloc(size_t n);
void *sptt_calloc(size_t n, size_t size);
void *sptt_realloc(void *p, size_t n);
/* A large block that is walked over and over (the model's activations, weights and gradients),
** zeroed, released with free(). From 2 MiB on it starts on a 2 MiB boundary and asks Linux for huge pages:
** with 4 KiB pages the model's passes over tens of MB miss the TLB at every page; one thread's
** training step ran 2% faster on huge pages (measured; the kernel may still refuse them, which
** changes speed, never values). */
void *sptt_calloc_big(size_t n, size_t size);
/* n*size with overflow check; returns SIZE_MAX on overflow. */
size_t sptt_mul_size(size_t n, size_t size);
/* For tools that process scene after scene: memory freed by one step stays with the process for
** the next instead of going back to the system and being faulted in again (glibc otherwise maps
** each large block afresh and trims the heap on free). Call once, first thing in main. */
void sptt_memory_keep(void);

/* ---------------------------------------------------------------------------------------------
** Files
*/
/* Opens a regular file for reading; a FIFO, device or folder is refused without blocking. */
int sptt_open_regular(const char *zPath, FILE **pFp);
/* Removes "<name>.tmp.<pid>" files in zDir whose process no longer exists: what a writer killed
** between creating its temporary file and renaming it leaves behind. */
void sptt_clean_stale_tmp(const char *zDir);
/* Reads a whole file; *pData is NUL-terminated (not counted in *pSize). Caller frees. */
int sptt_read_file(const char *zPath, uint8_t **pData, size_t *pSize);
/* snprintf for file paths; returns SPTT_EINVAL (with a message) when the path does not fit. */
int sptt_pathf(char *zBuf, size_t n, const char *zFormat, ...) __attribute__((format(printf, 3, 4)));
/* Creates the directory and its parents. */
int sptt_mkdirs(const char *zPath);

/*
** Atomic output: bytes go to "<path>.tmp.<pid>", and sptt_atomic_commit() syncs, closes, renames
** onto the path and syncs the directory. sptt_atomic_abort() removes the temporary file.
*/
typedef struct sptt_atomic {
    FILE *fp;
    char *zPath;
    char *zTmp;
} sptt_atomic;
int sptt_atomic_open(sptt_atomic *a, const char *zPath);
int sptt_atomic_write(sptt_atomic *a, const void *pData, size_t n);
int sptt_atomic_commit(sptt_atomic *a);
void sptt_atomic_abort(sptt_atomic *a);
/* Whole buffer to a file, atomically. */
int sptt_write_file(const char *zPath, const void *pData, size_t n);

/* Growable byte buffer, for writers that build a file in memory. */
typedef struct sptt_buf {
    uint8_t *p;
    size_t n;
    size_t cap;
    int rc;              /* first allocation failure, sticky */
} sptt_buf;
void sptt_buf_put(sptt_buf *b, const void *pData, size_t n);
void sptt_buf_printf(sptt_buf *b, const char *zFormat, ...) __attribute__((format(printf, 2, 3)));
void sptt_buf_u8(sptt_buf *b, uint8_t v);
void sptt_buf_u32(sptt_buf *b, uint32_t v);   /* little-endian */
void sptt_buf_u64(sptt_buf *b, uint64_t v);
void sptt_buf_i32(sptt_buf *b, int32_t v);
void sptt_buf_f32(sptt_buf *b, float v);
void sptt_buf_free(sptt_buf *b);

/* Little-endian loads from unaligned bytes. */
uint16_t sptt_le16(const uint8_t *p);
uint32_t sptt_le32(const uint8_t *p);
uint64_t sptt_le64(const uint8_t *p);
float sptt_lef32(const uint8_t *p);

/* ---------------------------------------------------------------------------------------------
** Deterministic random numbers: xoshiro256** seeded through splitmix64. The same seed gives the
** same stream on every machine, which is what "same seed, same dataset" rests on.
*/
typedef struct sptt_rng {
    uint64_t s[4];
} sptt_rng;
void sptt_rng_seed(sptt_rng *r, uint64_t seed);
/* A child stream, independent of later draws from the parent: keeps one scene's content stable
** when another scene's generation changes. */
void sptt_rng_fork(sptt_rng *r, uint64_t stream, sptt_rng *child);
uint64_t sptt_rng_u64(sptt_rng *r);
double sptt_rng_unit(sptt_rng *r);                    /* [0, 1) */
double sptt_rng_uniform(sptt_rng *r, double lo, double hi);
uint32_t sptt_rng_below(sptt_rng *r, uint32_t n);     /* [0, n), unbiased */
double sptt_rng_normal(sptt_rng *r);                  /* mean 0, sd 1 */
void sptt_rng_shuffle(sptt_rng *r, void *base, size_t n, size_t size);

/* ---------------------------------------------------------------------------------------------
** Command line: shared parsing of values, with messages naming the option.
*/
int sptt_parse_int(const char *zOpt, const char *zVal, long lo, long hi, long *pOut);
int sptt_parse_double(const char *zOpt, const char *zVal, double lo, double hi, double *pOut);
/* "WxH", both in [1, 65535]. */
int sptt_parse_size(const char *zOpt, const char *zVal, int *pW, int *pH);
/* The whole command line as one string, for the runs table. Caller frees. */
char *sptt_join_args(int argc, char **argv);
/* Prints "prog: message" on stderr. */
void sptt_report(const char *zProg, const char *zFormat, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------------------------------------
** Progress on work that lasts over two seconds: done/total, rate and ETA, as one rewritten line
** on stderr when it is a terminal, as a plain line every half minute otherwise (a log).
** sptt_progress_quiet(1) (the tools' --quiet) or SPTT_PROGRESS=0 silences it.
*/
typedef struct sptt_progress {
    const char *zWhat;
    uint64_t total;
    uint64_t done;
    double t0;
    double tLast;
    int enabled;
    int tty;
    int shown;
    int perHour;        /* set after start: the rate per hour, for slow items such as scenes */
} sptt_progress;
void sptt_progress_quiet(int quiet);
void sptt_progress_start(sptt_progress *p, const char *zWhat, uint64_t total);
void sptt_progress_step(sptt_progress *p, uint64_t n);
void sptt_progress_end(sptt_progress *p);
/* Monotonic seconds. */
double sptt_now(void);

/* ---------------------------------------------------------------------------------------------
** Hashing: XXH64 (the published algorithm, seed 0), streaming. Used for content hashes of inputs,
** always of decoded bytes, never of compressed ones (those differ between zstd settings).
*/
typedef struct sptt_hash {
    uint64_t v[4];
    uint64_t total;
    uint8_t mem[32];
    uint32_t memsize;
} sptt_hash;
void sptt_hash_init(sptt_hash *h);
void sptt_hash_update(sptt_hash *h, const void *p, size_t n);
uint64_t sptt_hash_final(const sptt_hash *h);
uint64_t sptt_hash64(const void *p, size_t n);

#endif
