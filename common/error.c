/*
** Per-thread error messages and checked allocation.
**
** A thread-local buffer keeps the last failure's text, as sqlite3_errmsg() does for a
** connection; library code fails with `return sptt_fail(SPTT_EFORMAT, "%s: byte %zu: ...")`.
*/
#include "sptt_common.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static _Thread_local char zLastError[1024];

int sptt_fail(int rc, const char *zFormat, ...)
{
    va_list ap;
    va_start(ap, zFormat);
    vsnprintf(zLastError, sizeof zLastError, zFormat, ap);
    va_end(ap);
    return rc;
}

int sptt_fail_prefix(int rc, const char *zFormat, ...)
{
    char zPrefix[512];
    char zOld[sizeof zLastError];
    va_list ap;
    va_start(ap, zFormat);
    vsnprintf(zPrefix, sizeof zPrefix, zFormat, ap);
    va_end(ap);
    memcpy(zOld, zLastError, sizeof zOld);
    size_t n = strlen(zPrefix);
    if( n >= sizeof zLastError ) n = sizeof zLastError - 1;
    memcpy(zLastError, zPrefix, n);
    size_t m = strlen(zOld);
    if( m > sizeof zLastError - 1 - n ) m = sizeof zLastError - 1 - n;
    memcpy(zLastError + n, zOld, m);
    zLastError[n + m] = 0;
    return rc;
}

const char *sptt_errmsg(void)
{
    return zLastError[0] ? zLastError : "no error";
}

const char *sptt_errname(int rc)
{
    switch( rc ){
    case SPTT_OK:       return "ok";
    case SPTT_EIO:      return "i/o error";
    case SPTT_EFORMAT:  return "bad input";
    case SPTT_ECORRUPT: return "corrupt data";
    case SPTT_ENOMEM:   return "out of memory";
    case SPTT_EINVAL:   return "invalid argument";
    case SPTT_EDB:      return "database error";
    case SPTT_EVERSION: return "wrong application or version";
    case SPTT_ESTATE:   return "prerequisite missing";
    }
    return "unknown error";
}

int sptt_exit_status(int rc)
{
    /* Bad input and bad arguments share status 2 so scripts can tell them from crashes. */
    switch( rc ){
    case SPTT_OK:       return 0;
    case SPTT_EFORMAT:
    case SPTT_ECORRUPT:
    case SPTT_EINVAL:
    case SPTT_EVERSION:
    case SPTT_ESTATE:   return 2;
    }
    return 1;
}

size_t sptt_mul_size(size_t n, size_t size)
{
    if( size!=0 && n > SIZE_MAX / size ) return SIZE_MAX;
    return n * size;
}

void sptt_memory_keep(void)
{
    /* A scene's largest blocks (its point arrays, Qhull's pools) are tens of MB at most: below
    ** the mmap threshold they come from the heap, and the trim threshold keeps them there. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

void *sptt_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if( p==NULL ) sptt_fail(SPTT_ENOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *sptt_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if( p==NULL ) sptt_fail(SPTT_ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *sptt_calloc_big(size_t n, size_t size)
{
    const size_t huge = (size_t)2 << 20;
    size_t nb = sptt_mul_size(n ? n : 1, size ? size : 1);
    void *p = NULL;
    if( nb < huge ) return sptt_calloc(n, size);   /* less than one huge page: nothing to gain */
    if( nb > SIZE_MAX - huge || posix_memalign(&p, huge, (nb = (nb + huge - 1) & ~(huge - 1))) ){
        sptt_fail(SPTT_ENOMEM, "out of memory allocating %zu x %zu bytes", n, size);
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(p, nb, MADV_HUGEPAGE);   /* a hint: refused, the pages are ordinary ones */
#endif
    memset(p, 0, nb);
    return p;
}

void *sptt_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if( q==NULL ) sptt_fail(SPTT_ENOMEM, "out of memory allocating %zu bytes", n);
    return q;
}
