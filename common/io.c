/*
** Files: whole-file reads, directory creation, atomic writes, and a growable byte buffer.
**
** Every output file of the toolkit is written to a temporary name, synced, renamed and its
** directory synced, so a crash leaves either the old file or the new one, never half of one.
*/
#include "sptt_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sptt_open_regular(const char *zPath, FILE **pFp)
{
    struct stat st;
    int fd, flags;
    *pFp = NULL;
    /* O_NONBLOCK so that a FIFO (or a device) at the path cannot block the open; regular files
    ** ignore it, and it is cleared before reading. */
    fd = open(zPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if( fd < 0 ) return sptt_fail(SPTT_EIO, "%s: cannot open: %s", zPath, strerror(errno));
    if( fstat(fd, &st)!=0 || !S_ISREG(st.st_mode) ){
        close(fd);
        return sptt_fail(SPTT_EIO, "%s: not a regular file", zPath);
    }
    flags = fcntl(fd, F_GETFL);
    if( flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || (*pFp = fdopen(fd, "rb"))==NULL ){
        int e = errno;
        close(fd);
        return sptt_fail(SPTT_EIO, "%s: cannot open: %s", zPath, strerror(e));
    }
    return SPTT_OK;
}

void sptt_clean_stale_tmp(const char *zDir)
{
    DIR *d = opendir(zDir);
    struct dirent *e;
    if( d==NULL ) return;
    /* Only names this toolkit makes ("<name>.tmp.<pid>") whose writer is gone: a live writer's
    ** file, or one of another machine sharing the folder, is left alone while its pid lives. */
    while( (e = readdir(d))!=NULL ){
        const char *z = strstr(e->d_name, ".tmp.");
        char *zEnd = NULL;
        long pid;
        char zPath[4096];
        if( z==NULL ) continue;
        errno = 0;
        pid = strtol(z + 5, &zEnd, 10);
        if( errno || zEnd==z + 5 || *zEnd || pid <= 0 ) continue;
        if( kill((pid_t)pid, 0)==0 || errno!=ESRCH ) continue;
        if( snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name) >= (int)sizeof zPath ) continue;
        unlink(zPath);
    }
    closedir(d);
}

int sptt_read_file(const char *zPath, uint8_t **pData, size_t *pSize)
{
    int rc = SPTT_OK;
    FILE *fp = NULL;
    uint8_t *pBuf = NULL;
    struct stat st;

    *pData = NULL;
    *pSize = 0;
    if( (rc = sptt_open_regular(zPath, &fp)) ) goto done;
    if( fstat(fileno(fp), &st)!=0 ){
        rc = sptt_fail(SPTT_EIO, "%s: cannot stat: %s", zPath, strerror(errno));
        goto done;
    }
    pBuf = sptt_malloc((size_t)st.st_size + 1);
    if( pBuf==NULL ){ rc = SPTT_ENOMEM; goto done; }
    if( st.st_size>0 && fread(pBuf, 1, (size_t)st.st_size, fp)!=(size_t)st.st_size ){
        rc = sptt_fail(SPTT_EIO, "%s: read failed: %s", zPath, ferror(fp) ? strerror(errno) : "short read");
        goto done;
    }
    pBuf[st.st_size] = 0;
    *pData = pBuf;
    *pSize = (size_t)st.st_size;
    pBuf = NULL;

done:
    if( fp ) fclose(fp);
    free(pBuf);
    return rc;
}

int sptt_pathf(char *zBuf, size_t n, const char *zFormat, ...)
{
    va_list ap;
    int len;
    va_start(ap, zFormat);
    len = vsnprintf(zBuf, n, zFormat, ap);
    va_end(ap);
    if( len < 0 || (size_t)len >= n ) return sptt_fail(SPTT_EINVAL, "path too long: %.60s...", zBuf);
    return SPTT_OK;
}

int sptt_mkdirs(const char *zPath)
{
    char *z = NULL;
    size_t n = strlen(zPath);
    int rc = SPTT_OK;

    z = sptt_malloc(n + 1);
    if( z==NULL ) return SPTT_ENOMEM;
    memcpy(z, zPath, n + 1);
    for(size_t i = 1; i <= n; i++){
        if( z[i]=='/' || z[i]==0 ){
            char c = z[i];
            z[i] = 0;
            if( mkdir(z, 0777)!=0 && errno!=EEXIST ){
                rc = sptt_fail(SPTT_EIO, "%s: cannot create directory: %s", z, strerror(errno));
                break;
            }
            z[i] = c;
        }
    }
    free(z);
    return rc;
}

int sptt_atomic_open(sptt_atomic *a, const char *zPath)
{
    size_t n = strlen(zPath);
    memset(a, 0, sizeof *a);
    a->zPath = sptt_malloc(n + 1);
    a->zTmp = sptt_malloc(n + 32);
    if( a->zPath==NULL || a->zTmp==NULL ){
        sptt_atomic_abort(a);
        return SPTT_ENOMEM;
    }
    memcpy(a->zPath, zPath, n + 1);
    snprintf(a->zTmp, n + 32, "%s.tmp.%ld", zPath, (long)getpid());
    a->fp = fopen(a->zTmp, "wb");
    if( a->fp==NULL ){
        int rc = sptt_fail(SPTT_EIO, "%s: cannot create: %s", a->zTmp, strerror(errno));
        sptt_atomic_abort(a);
        return rc;
    }
    return SPTT_OK;
}

int sptt_atomic_write(sptt_atomic *a, const void *pData, size_t n)
{
    if( n==0 ) return SPTT_OK;
    if( fwrite(pData, 1, n, a->fp)!=n ){
        return sptt_fail(SPTT_EIO, "%s: write failed: %s", a->zTmp, strerror(errno));
    }
    return SPTT_OK;
}

static int sync_parent_dir(const char *zPath)
{
    const char *zSlash = strrchr(zPath, '/');
    char *zDir;
    int fd;
    if( zSlash==NULL ) zDir = strdup(".");
    else if( zSlash==zPath ) zDir = strdup("/");
    else zDir = strndup(zPath, (size_t)(zSlash - zPath));
    if( zDir==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    fd = open(zDir, O_RDONLY);
    if( fd>=0 ){
        /* Some file systems refuse fsync on a directory; the rename already happened, so
        ** that is not worth failing the write for. */
        (void)fsync(fd);
        close(fd);
    }
    free(zDir);
    return SPTT_OK;
}

int sptt_atomic_commit(sptt_atomic *a)
{
    int rc = SPTT_OK;
    if( fflush(a->fp)!=0 || fsync(fileno(a->fp))!=0 ){
        rc = sptt_fail(SPTT_EIO, "%s: cannot sync: %s", a->zTmp, strerror(errno));
        goto done;
    }
    if( fclose(a->fp)!=0 ){
        a->fp = NULL;
        rc = sptt_fail(SPTT_EIO, "%s: cannot close: %s", a->zTmp, strerror(errno));
        goto done;
    }
    a->fp = NULL;
    if( rename(a->zTmp, a->zPath)!=0 ){
        rc = sptt_fail(SPTT_EIO, "%s: cannot rename to %s: %s", a->zTmp, a->zPath, strerror(errno));
        goto done;
    }
    rc = sync_parent_dir(a->zPath);
    free(a->zTmp);
    a->zTmp = NULL;

done:
    sptt_atomic_abort(a);
    return rc;
}

void sptt_atomic_abort(sptt_atomic *a)
{
    if( a->fp ) fclose(a->fp);
    if( a->zTmp ) unlink(a->zTmp);
    free(a->zTmp);
    free(a->zPath);
    memset(a, 0, sizeof *a);
}

int sptt_write_file(const char *zPath, const void *pData, size_t n)
{
    sptt_atomic a;
    int rc = sptt_atomic_open(&a, zPath);
    if( rc!=SPTT_OK ) return rc;
    rc = sptt_atomic_write(&a, pData, n);
    if( rc!=SPTT_OK ){
        sptt_atomic_abort(&a);
        return rc;
    }
    return sptt_atomic_commit(&a);
}

/* ---------------------------------------------------------------------------------------------
** Byte buffer
*/
static int buf_reserve(sptt_buf *b, size_t n)
{
    size_t cap;
    uint8_t *p;
    if( b->rc ) return b->rc;
    if( b->n + n <= b->cap ) return SPTT_OK;
    cap = b->cap ? b->cap : 4096;
    while( cap < b->n + n ) cap *= 2;
    p = sptt_realloc(b->p, cap);
    if( p==NULL ) return b->rc = SPTT_ENOMEM;
    b->p = p;
    b->cap = cap;
    return SPTT_OK;
}

void sptt_buf_put(sptt_buf *b, const void *pData, size_t n)
{
    if( n==0 || buf_reserve(b, n) ) return;
    memcpy(b->p + b->n, pData, n);
    b->n += n;
}

void sptt_buf_printf(sptt_buf *b, const char *zFormat, ...)
{
    va_list ap;
    int n;
    va_start(ap, zFormat);
    n = vsnprintf(NULL, 0, zFormat, ap);
    va_end(ap);
    if( n<0 || buf_reserve(b, (size_t)n + 1) ) return;
    va_start(ap, zFormat);
    vsnprintf((char *)b->p + b->n, (size_t)n + 1, zFormat, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void sptt_buf_u8(sptt_buf *b, uint8_t v) { sptt_buf_put(b, &v, 1); }

void sptt_buf_u32(sptt_buf *b, uint32_t v)
{
    uint8_t a[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    sptt_buf_put(b, a, 4);
}

void sptt_buf_u64(sptt_buf *b, uint64_t v)
{
    sptt_buf_u32(b, (uint32_t)v);
    sptt_buf_u32(b, (uint32_t)(v >> 32));
}

void sptt_buf_i32(sptt_buf *b, int32_t v) { sptt_buf_u32(b, (uint32_t)v); }

void sptt_buf_f32(sptt_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    sptt_buf_u32(b, u);
}

void sptt_buf_free(sptt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

uint16_t sptt_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t sptt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t sptt_le64(const uint8_t *p) { return (uint64_t)sptt_le32(p) | ((uint64_t)sptt_le32(p + 4) << 32); }

float sptt_lef32(const uint8_t *p)
{
    uint32_t u = sptt_le32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
