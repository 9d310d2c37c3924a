/*
** Finding the scenes of a build (sptt_build.h): the datasets' own layouts, ScanNet's
** scans/<scene>/ and ARKitScenes' 3dod/<split>/<video>/, anywhere a few levels below the folders
** given, so that a user can point at the download folder as it is.
*/
#include "sptt_build.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUILD_PATH_MAX 4096
#define LABELS_NAME "scannetv2-labels.combined.tsv"

static int is_dir(const char *z)
{
    struct stat sb;
    return stat(z, &sb)==0 && S_ISDIR(sb.st_mode);
}

static const char *base_name(const char *z)
{
    const char *slash = strrchr(z, '/');
    return slash ? slash + 1 : z;
}

/* The visible sub-folders of zDir, sorted by name (scandir's alphasort is locale-independent for
** the C locale the tools run in), so that every walk sees the same order. */
static int list_dirs(const char *zDir, char ***pazOut, int *pn)
{
    struct dirent **a = NULL;
    char **az = NULL;
    int n = scandir(zDir, &a, NULL, alphasort), m = 0, rc = SPTT_OK;
    *pazOut = NULL;
    *pn = 0;
    if( n < 0 ) return sptt_fail(SPTT_EIO, "%s: cannot list: %s", zDir, strerror(errno));
    az = sptt_calloc((size_t)n + 1, sizeof(char *));
    if( az==NULL ) rc = SPTT_ENOMEM;
    for(int i = 0; i < n; i++){
        if( rc==SPTT_OK && a[i]->d_name[0]!='.' ){
            char zPath[BUILD_PATH_MAX];
            if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/%s", zDir, a[i]->d_name))==SPTT_OK && is_dir(zPath) ){
                if( (az[m] = strdup(zPath))==NULL ) rc = sptt_fail(SPTT_ENOMEM, "out of memory");
                else m++;
            }
        }
        free(a[i]);
    }
    free(a);
    if( rc ){
        for(int i = 0; i < m; i++) free(az[i]);
        free(az);
        return rc;
    }
    *pazOut = az;
    *pn = m;
    return SPTT_OK;
}

static void free_list(char **az, int n)
{
    for(int i = 0; i < n; i++) free(az[i]);
    free(az);
}

/* Bytes of the regular files in zDir and, below it, up to depth more levels. */
static uint64_t folder_bytes(const char *zDir, int depth)
{
    DIR *d = opendir(zDir);
    struct dirent *e;
    uint64_t n = 0;
    if( d==NULL ) return 0;
    while( (e = readdir(d))!=NULL ){
        char zPath[BUILD_PATH_MAX];
        struct stat sb;
        if( e->d_name[0]=='.' ) continue;
        if( sptt_pathf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name) || stat(zPath, &sb)!=0 ) continue;
        if( S_ISREG(sb.st_mode) ) n += (uint64_t)sb.st_size;
        else if( S_ISDIR(sb.st_mode) && depth > 0 ) n += folder_bytes(zPath, depth - 1);
    }
    closedir(d);
    return n;
}

static int add_item(sptt_build_items *p, const char *zPath, int source, const char *zLabels)
{
    sptt_build_item *it;
    if( p->n >= SPTT_BUILD_MAX_SCENES )
        return sptt_fail(SPTT_EINVAL, "%s: more than %d scenes in one build", zPath, SPTT_BUILD_MAX_SCENES);
    if( (p->n & (p->n - 1))==0 ){
        sptt_build_item *a = sptt_realloc(p->a, sizeof *a * (size_t)(p->n ? 2 * p->n : 1));
        if( a==NULL ) return SPTT_ENOMEM;
        p->a = a;
    }
    it = &p->a[p->n];
    memset(it, 0, sizeof *it);
    it->source = source;
    it->zPath = strdup(zPath);
    it->zName = strdup(base_name(zPath));
    it->zLabels = zLabels ? strdup(zLabels) : NULL;
    p->n++;
    if( it->zPath==NULL || it->zName==NULL || (zLabels && it->zLabels==NULL) ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    /* The files directly in the folder: ScanNet's .sens and meshes, ARKitScenes' mesh. Their
    ** frame folders (pose/, lowres_wide/: thousands of files a scene) are not walked, which on a
    ** cluster's file system would cost more than the ordering gains. */
    it->nBytes = folder_bytes(zPath, 0);
    return SPTT_OK;
}

static int add_scannet(sptt_build_items *p, const char *zScans, const char *zLabels)
{
    char zTable[BUILD_PATH_MAX];
    char **az;
    int n, rc;
    if( (rc = list_dirs(zScans, &az, &n)) ) return rc;
    if( n > 0 && zLabels==NULL ){
        /* The table ships beside scans/ in the ScanNet download. */
        struct stat sb;
        const char *slash = strrchr(zScans, '/');
        rc = sptt_pathf(zTable, sizeof zTable, "%.*s/" LABELS_NAME, slash ? (int)(slash - zScans) : 1, slash ? zScans : ".");
        if( rc==SPTT_OK && (stat(zTable, &sb)!=0 || !S_ISREG(sb.st_mode)) )
            rc = sptt_fail(SPTT_EINVAL, "%s: ScanNet scenes but no %s beside this folder; give --labels TSV", zScans, LABELS_NAME);
        zLabels = zTable;
    }
    for(int i = 0; i < n && rc==SPTT_OK; i++) rc = add_item(p, az[i], SPTT_BUILD_SCANNET, zLabels);
    free_list(az, n);
    return rc;
}

static int add_arkit(sptt_build_items *p, const char *z3dod)
{
    char **azSplit;
    int nSplit, rc;
    if( (rc = list_dirs(z3dod, &azSplit, &nSplit)) ) return rc;
    for(int i = 0; i < nSplit && rc==SPTT_OK; i++){
        char **az;
        int n;
        if( (rc = list_dirs(azSplit[i], &az, &n)) ) break;
        for(int k = 0; k < n && rc==SPTT_OK; k++) rc = add_item(p, az[k], SPTT_BUILD_ARKIT, NULL);
        free_list(az, n);
    }
    free_list(azSplit, nSplit);
    return rc;
}

static int walk(sptt_build_items *p, const char *zDir, const char *zLabels, int depth)
{
    char **az;
    int n, rc;
    if( strcmp(base_name(zDir), "scans")==0 ) return add_scannet(p, zDir, zLabels);
    if( strcmp(base_name(zDir), "3dod")==0 ) return add_arkit(p, zDir);
    if( depth >= SPTT_BUILD_MAX_DEPTH ) return SPTT_OK;
    if( (rc = list_dirs(zDir, &az, &n)) ) return rc;
    for(int i = 0; i < n && rc==SPTT_OK; i++) rc = walk(p, az[i], zLabels, depth + 1);
    free_list(az, n);
    return rc;
}

static int by_size(const void *a, const void *b)
{
    const sptt_build_item *x = a, *y = b;
    int c;
    if( x->nBytes!=y->nBytes ) return x->nBytes > y->nBytes ? -1 : 1;
    if( (c = strcmp(x->zName, y->zName))!=0 ) return c;
    return strcmp(x->zPath, y->zPath);
}

static int by_name(const void *a, const void *b)
{
    const sptt_build_item *x = a, *y = b;
    int c = strcmp(x->zName, y->zName);
    return c ? c : strcmp(x->zPath, y->zPath);
}

int sptt_build_discover(const char *const *azRoot, int nRoot, const char *zLabels, sptt_build_items *pOut)
{
    sptt_build_items l = {0};
    int rc = SPTT_OK, nBefore;
    memset(pOut, 0, sizeof *pOut);
    for(int i = 0; i < nRoot && rc==SPTT_OK; i++){
        char zRoot[BUILD_PATH_MAX];
        size_t len;
        if( !is_dir(azRoot[i]) ){
            rc = sptt_fail(SPTT_EINVAL, "%s: no such folder", azRoot[i]);
            break;
        }
        if( (rc = sptt_pathf(zRoot, sizeof zRoot, "%s", azRoot[i])) ) break;
        len = strlen(zRoot);
        while( len > 1 && zRoot[len - 1]=='/' ) zRoot[--len] = 0;
        nBefore = l.n;
        rc = walk(&l, zRoot, zLabels, 0);
        if( rc==SPTT_OK && l.n==nBefore )
            rc = sptt_fail(SPTT_EINVAL, "%s: no ScanNet scans/<scene>/ or ARKitScenes 3dod/<split>/<video>/ folders found "
                           "within %d levels", azRoot[i], SPTT_BUILD_MAX_DEPTH);
    }
    if( rc==SPTT_OK && l.n > 1 ){
        /* A scene name found twice would be built twice, by ranks racing for its row. The same
        ** folder reached through two roots is one scene. */
        int m = 1;
        qsort(l.a, (size_t)l.n, sizeof l.a[0], by_name);
        for(int i = 1; i < l.n; i++){
            sptt_build_item *prev = &l.a[m - 1];
            if( strcmp(prev->zName, l.a[i].zName)!=0 ){
                l.a[m++] = l.a[i];
                continue;
            }
            char *zA = realpath(prev->zPath, NULL), *zB = realpath(l.a[i].zPath, NULL);
            if( rc==SPTT_OK && !(zA && zB && strcmp(zA, zB)==0) )
                rc = sptt_fail(SPTT_EINVAL, "scene '%s' found twice: %s and %s", prev->zName, prev->zPath, l.a[i].zPath);
            free(zA);
            free(zB);
            free(l.a[i].zPath);
            free(l.a[i].zName);
            free(l.a[i].zLabels);
        }
        l.n = m;
    }
    if( rc ){
        sptt_build_items_free(&l);
        return rc;
    }
    if( l.n > 1 ) qsort(l.a, (size_t)l.n, sizeof l.a[0], by_size);
    *pOut = l;
    return SPTT_OK;
}

void sptt_build_items_free(sptt_build_items *p)
{
    for(int i = 0; i < p->n; i++){
        free(p->a[i].zPath);
        free(p->a[i].zName);
        free(p->a[i].zLabels);
    }
    free(p->a);
    memset(p, 0, sizeof *p);
}

/* Encoding: per item, source (u8), bytes (u64), then path, name and labels as NUL-terminated
** strings (labels empty for none). */
int sptt_build_items_encode(const sptt_build_items *p, sptt_buf *b)
{
    sptt_buf_u32(b, (uint32_t)p->n);
    for(int i = 0; i < p->n; i++){
        const sptt_build_item *it = &p->a[i];
        sptt_buf_u8(b, (uint8_t)it->source);
        sptt_buf_u64(b, it->nBytes);
        sptt_buf_put(b, it->zPath, strlen(it->zPath) + 1);
        sptt_buf_put(b, it->zName, strlen(it->zName) + 1);
        sptt_buf_put(b, it->zLabels ? it->zLabels : "", (it->zLabels ? strlen(it->zLabels) : 0) + 1);
    }
    return b->rc ? sptt_fail(SPTT_ENOMEM, "out of memory") : SPTT_OK;
}

static int take_string(const uint8_t *p, size_t n, size_t *pAt, char **pz)
{
    const uint8_t *end = memchr(p + *pAt, 0, n - *pAt);
    if( end==NULL ) return sptt_fail(SPTT_ECORRUPT, "scene list: string at byte %zu not terminated", *pAt);
    *pz = strdup((const char *)p + *pAt);
    *pAt = (size_t)(end - p) + 1;
    return *pz ? SPTT_OK : sptt_fail(SPTT_ENOMEM, "out of memory");
}

int sptt_build_items_decode(const uint8_t *p, size_t n, sptt_build_items *pOut)
{
    sptt_build_items l = {0};
    size_t at = 4;
    uint32_t count;
    int rc = SPTT_OK;
    memset(pOut, 0, sizeof *pOut);
    if( n < 4 ) return sptt_fail(SPTT_ECORRUPT, "scene list: %zu bytes", n);
    count = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if( count > SPTT_BUILD_MAX_SCENES ) return sptt_fail(SPTT_ECORRUPT, "scene list: %u scenes", count);
    l.a = sptt_calloc(count ? count : 1, sizeof l.a[0]);
    if( l.a==NULL ) return SPTT_ENOMEM;
    for(uint32_t i = 0; i < count && rc==SPTT_OK; i++){
        sptt_build_item *it = &l.a[i];
        if( n - at < 9 ){
            rc = sptt_fail(SPTT_ECORRUPT, "scene list: item %u cut at byte %zu", i, at);
            break;
        }
        it->source = p[at];
        it->nBytes = 0;
        for(int k = 0; k < 8; k++) it->nBytes |= (uint64_t)p[at + 1 + (size_t)k] << (8 * k);
        at += 9;
        l.n++;
        if( (rc = take_string(p, n, &at, &it->zPath)) ) break;
        if( (rc = take_string(p, n, &at, &it->zName)) ) break;
        if( (rc = take_string(p, n, &at, &it->zLabels)) ) break;
        if( it->zLabels[0]==0 ){
            free(it->zLabels);
            it->zLabels = NULL;
        }
    }
    if( rc ){
        sptt_build_items_free(&l);
        return rc;
    }
    *pOut = l;
    return SPTT_OK;
}
