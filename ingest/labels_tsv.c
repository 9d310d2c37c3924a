/*
** The ScanNet label table (scannetv2-labels.combined.tsv): raw category -> NYU40 id.
**
** As the official reader: columns are found by their header names, and a raw category that
** appears on several rows keeps the last one (the official code builds a dictionary row by row).
** CRLF endings and empty cells are handled; a row with an empty nyu40id is skipped.
*/
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

typedef struct label_row {
    char *zRaw;
    int nyu40;
} label_row;

struct sptt_label_table {
    label_row *rows;
    int n;
};

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const label_row *)a)->zRaw, ((const label_row *)b)->zRaw);
}

void sptt_labels_free(sptt_label_table *t)
{
    if( t==NULL ) return;
    for(int i = 0; i < t->n; i++) free(t->rows[i].zRaw);
    free(t->rows);
    free(t);
}

/* Splits a line in place on tabs; returns the number of cells. */
static int split_tabs(char *z, char **az, int nMax)
{
    int n = 0;
    az[n++] = z;
    for(; *z; z++){
        if( *z=='\t' ){
            *z = 0;
            if( n < nMax ) az[n++] = z + 1;
        }
    }
    return n;
}

int sptt_labels_load(const char *zPath, sptt_label_table **pT)
{
    uint8_t *data = NULL;
    size_t size;
    int rc;

    *pT = NULL;
    rc = sptt_read_file(zPath, &data, &size);
    if( rc ) return rc;
    rc = ingest_parse_labels(zPath, (char *)data, pT);
    free(data);
    return rc;
}

int ingest_parse_labels(const char *zPath, char *data, sptt_label_table **pT)
{
    int rc = SPTT_OK, line = 0, colRaw = -1, colNyu = -1;
    char *z, *next;
    sptt_label_table *t = NULL;

    *pT = NULL;
    t = sptt_calloc(1, sizeof *t);
    if( t==NULL ){ rc = SPTT_ENOMEM; goto done; }
    for(z = data; z && *z; z = next){
        char *az[64];
        int n;
        char *end = strchr(z, '\n');
        next = end ? end + 1 : NULL;
        if( end ) *end = 0;
        if( end && end > z && end[-1]=='\r' ) end[-1] = 0;
        line++;
        if( *z==0 ) continue;
        n = split_tabs(z, az, 64);
        if( colRaw < 0 ){
            for(int i = 0; i < n; i++){
                if( strcmp(az[i], "raw_category")==0 ) colRaw = i;
                if( strcmp(az[i], "nyu40id")==0 ) colNyu = i;
            }
            if( colRaw < 0 || colNyu < 0 ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: line 1: header lacks the raw_category and nyu40id columns "
                               "(is this the v1 table? ScanNet v2's scannetv2-labels.combined.tsv is needed)", zPath);
                goto done;
            }
            continue;
        }
        if( n <= colRaw || n <= colNyu ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: line %d: %d columns, expected at least %d", zPath, line, n,
                           (colRaw > colNyu ? colRaw : colNyu) + 1);
            goto done;
        }
        if( az[colNyu][0]==0 || az[colRaw][0]==0 ) continue;
        {
            char *e;
            long v = strtol(az[colNyu], &e, 10);
            label_row *r;
            if( *e || v < 0 || v > 40 ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: line %d: nyu40id '%s' is not an id in 0..40", zPath, line, az[colNyu]);
                goto done;
            }
            r = sptt_realloc(t->rows, sizeof *r * (size_t)(t->n + 1));
            if( r==NULL ){ rc = SPTT_ENOMEM; goto done; }
            t->rows = r;
            t->rows[t->n].zRaw = strdup(az[colRaw]);
            t->rows[t->n].nyu40 = (int)v;
            if( t->rows[t->n].zRaw==NULL ){ rc = SPTT_ENOMEM; goto done; }
            t->n++;
        }
    }
    if( colRaw < 0 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: empty label table", zPath);
        goto done;
    }
    /* A header and no usable row maps nothing: every object would go in unlabelled. */
    if( t->n==0 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: empty label table (a header and no row with a raw_category and an nyu40id)", zPath);
        goto done;
    }
    /* Last row wins: keep the later of equal keys by a stable pass before sorting. */
    for(int i = 0; i < t->n; i++){
        for(int j = i + 1; j < t->n; j++){
            if( strcmp(t->rows[i].zRaw, t->rows[j].zRaw)==0 ){
                t->rows[i].nyu40 = -2;   /* superseded */
                break;
            }
        }
    }
    {
        int m = 0;
        for(int i = 0; i < t->n; i++){
            if( t->rows[i].nyu40==-2 ) free(t->rows[i].zRaw);
            else t->rows[m++] = t->rows[i];
        }
        t->n = m;
    }
    qsort(t->rows, (size_t)t->n, sizeof t->rows[0], cmp_row);
    *pT = t;
    t = NULL;

done:
    sptt_labels_free(t);
    return rc;
}

int sptt_labels_nyu40(const sptt_label_table *t, const char *zRaw)
{
    label_row key = { (char *)zRaw, 0 };
    const label_row *r = bsearch(&key, t->rows, (size_t)t->n, sizeof key, cmp_row);
    return r ? r->nyu40 : -1;
}
