/*
** Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): each harness feeds one parser the
** fuzzer's bytes and frees everything it got back, so leaks show.
**
** The input is copied into a buffer of exactly size + 1 bytes ending in a NUL, as sptt_read_file
** leaves a file in memory: the parsers that split lines in place or call strtod rely on that NUL,
** and AddressSanitizer then catches any read past it.
*/
#ifndef SPTT_FUZZ_UTIL_H
#define SPTT_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sptt_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *z = malloc(size + 1);
    if( z==NULL ) abort();
    if( size ) memcpy(z, data, size);
    z[size] = 0;
    return z;
}

/* A broken promise of the parser (a result it says it never returns): crash, so libFuzzer keeps
** the input. */
#define FUZZ_CHECK(x) do{ if( !(x) ) __builtin_trap(); }while(0)

#endif
