/*
** VSI-Bench scoring (sptt_score.h).
*/
#include "sptt_score.h"
#include "sptt_common.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
** Reading a prediction
*/

/* Length of the whitespace character (as Python's str.isspace sees it) starting at z, or 0.
** UTF-8: U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
static size_t space_at(const unsigned char *z, size_t n)
{
    if( n==0 ) return 0;
    if( z[0]==' ' || (z[0] >= '\t' && z[0] <= '\r') || (z[0] >= 0x1c && z[0] <= 0x1f) ) return 1;
    if( n >= 2 && z[0]==0xc2 && (z[1]==0x85 || z[1]==0xa0) ) return 2;
    if( n >= 3 ){
        unsigned c = ((unsigned)(z[0] & 0x0f) << 12) | ((unsigned)(z[1] & 0x3f) << 6) | (unsigned)(z[2] & 0x3f);
        if( (z[0] & 0xf0)!=0xe0 || (z[1] & 0xc0)!=0x80 || (z[2] & 0xc0)!=0x80 ) return 0;
        if( c==0x1680 || (c >= 0x2000 && c <= 0x200a) || c==0x2028 || c==0x2029 || c==0x202f || c==0x205f || c==0x3000 ) return 3;
    }
    return 0;
}

/* Length of the whitespace character ending at z[n-1], or 0. */
static size_t space_before(const unsigned char *z, size_t n)
{
    for(size_t k = 1; k <= 3 && k <= n; k++){
        if( space_at(z + n - k, k)==k ) return k;
    }
    return 0;
}

/* The token of zPred as [*pStart, *pStart + *pLen). */
static void token_span(const char *zPred, size_t *pStart, size_t *pLen)
{
    const unsigned char *z = (const unsigned char *)zPred;
    size_t n = 0, a = 0, k;
    while( z[n] && z[n]!=' ' ) n++;             /* split(' ')[0] */
    while( n > 0 && z[n - 1]=='.' ) n--;        /* rstrip('.') */
    while( a < n && (k = space_at(z + a, n - a)) > 0 ) a += k;   /* strip() */
    while( n > a && (k = space_before(z + a, n - a)) > 0 ) n -= k;
    *pStart = a;
    *pLen = n - a;
}

size_t sptt_vsi_token(const char *zPred, char *z, size_t n)
{
    size_t a, len, k;
    assert(n >= 1);
    token_span(zPred, &a, &len);
    k = len < n - 1 ? len : n - 1;
    memcpy(z, zPred + a, k);
    z[k] = 0;
    return len;
}

/* ---------------------------------------------------------------------------------------------
** Python's float()
*/

/* Digits with single underscores between them, from z[*pi]; appends the digits to out. Returns
** how many digits, or -1 for a misplaced underscore. */
static int digit_part(const char *z, size_t *pi, char *out, size_t *pj)
{
    size_t i = *pi;
    int nd = 0;
    while( z[i]>='0' && z[i]<='9' ){
        out[(*pj)++] = z[i++];
        nd++;
        if( z[i]=='_' ){
            if( !(z[i + 1]>='0' && z[i + 1]<='9') ) return -1;
            i++;
        }
    }
    *pi = i;
    return nd;
}

static int word_ci(const char *z, const char *zWord)
{
    size_t n = strlen(zWord);
    for(size_t i = 0; i < n; i++){
        char c = z[i];
        if( c>='A' && c<='Z' ) c = (char)(c - 'A' + 'a');
        if( c!=zWord[i] ) return 0;
    }
    return 1;
}

int sptt_vsi_parse_float(const char *zIn, double *pv)
{
    const unsigned char *u = (const unsigned char *)zIn;
    size_t n = strlen(zIn), a = 0, k, i, j = 0;
    char *buf, *end;
    int rc = -1, nInt, nFrac = 0;
    while( a < n && (k = space_at(u + a, n - a)) > 0 ) a += k;
    while( n > a && (k = space_before(u + a, n - a)) > 0 ) n -= k;
    if( n==a ) return -1;
    /* Room for the digits without underscores, a sign, '.', 'e', a sign and a NUL. */
    if( (buf = malloc(n - a + 8))==NULL ) return -1;
    i = 0;
    {
        const char *z = zIn + a;
        size_t len = n - a;
        char *t = buf;
        if( z[i]=='+' || z[i]=='-' ) t[j++] = z[i++];
        if( (len - i==3 && word_ci(z + i, "inf")) || (len - i==8 && word_ci(z + i, "infinity")) ){
            *pv = t[0]=='-' ? -INFINITY : INFINITY;
            rc = 0;
            goto done;
        }
        if( len - i==3 && word_ci(z + i, "nan") ){
            *pv = NAN;
            rc = 0;
            goto done;
        }
        /* The grammar checks stop at the token's end: z is not NUL-terminated there, so each
        ** part is read from a copy bounded by len. */
        char *c = malloc(len + 1);
        if( c==NULL ) goto done;
        memcpy(c, z, len);
        c[len] = 0;
        if( (nInt = digit_part(c, &i, t, &j)) < 0 ) goto bad;
        if( c[i]=='.' ){
            t[j++] = c[i++];
            if( c[i]=='_' || (nFrac = digit_part(c, &i, t, &j)) < 0 ) goto bad;
        }
        if( nInt + nFrac==0 ) goto bad;
        if( c[i]=='e' || c[i]=='E' ){
            t[j++] = 'e';
            i++;
            if( c[i]=='+' || c[i]=='-' ) t[j++] = c[i++];
            if( c[i]=='_' || digit_part(c, &i, t, &j) <= 0 ) goto bad;
        }
        if( i!=len ) goto bad;
        t[j] = 0;
        *pv = strtod(t, &end);
        rc = *end==0 ? 0 : -1;
    bad:
        free(c);
    }
done:
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Scores
*/
double sptt_vsi_threshold(int i)
{
    /* numpy's linspace(0.5, 0.95, 10): start + i * step, the last point set to the stop. */
    const double start = 0.5, stop = 0.95, step = (stop - start) / 9;
    assert(i >= 0 && i < SPTT_VSI_THRESHOLDS);
    return i==SPTT_VSI_THRESHOLDS - 1 ? stop : (double)i * step + start;
}

double sptt_vsi_mra(double pred, double gt)
{
    double d = fabs(pred - gt) / gt;
    int hits = 0;
    for(int i = 0; i < SPTT_VSI_THRESHOLDS; i++) hits += d <= 1 - sptt_vsi_threshold(i);
    return hits / (double)SPTT_VSI_THRESHOLDS;
}

double sptt_vsi_score(const char *zPred, const char *zTarget, int isNumeric)
{
    size_t a, len;
    char *z;
    double score = 0, p, g;
    token_span(zPred, &a, &len);
    if( (z = malloc(len + 1))==NULL ) return 0;
    memcpy(z, zPred + a, len);
    z[len] = 0;
    if( isNumeric ){
        if( sptt_vsi_parse_float(z, &p)==0 && sptt_vsi_parse_float(zTarget, &g)==0 ) score = sptt_vsi_mra(p, g);
    }else{
        size_t n = strlen(zTarget), k = 0;
        if( n==len ){
            for(; k < n; k++){
                char x = z[k], y = zTarget[k];
                if( x>='A' && x<='Z' ) x = (char)(x - 'A' + 'a');
                if( y>='A' && y<='Z' ) y = (char)(y - 'A' + 'a');
                if( x!=y ) break;
            }
            score = k==n;
        }
    }
    free(z);
    return score;
}

void sptt_vsi_task(const char *zType, char *z, size_t n)
{
    static const char zDir[] = "object_rel_direction";
    size_t k = strlen(zDir);
    if( strncmp(zType, zDir, k)==0 && (strcmp(zType + k, "_easy")==0 || strcmp(zType + k, "_medium")==0 || strcmp(zType + k, "_hard")==0) ){
        snprintf(z, n, "%s", zDir);
    }else{
        snprintf(z, n, "%s", zType);
    }
}

/* ---------------------------------------------------------------------------------------------
** Tally
*/
struct sptt_vsi_tally {
    char **azType;
    double *aSum;
    int *aN;
    int nType, capType;
    sptt_vsi_row *aTypeRow, *aTaskRow;
    char **azTask;
    int nTask;
};

int sptt_vsi_tally_new(sptt_vsi_tally **pp)
{
    *pp = sptt_calloc(1, sizeof **pp);
    return *pp ? SPTT_OK : SPTT_ENOMEM;
}

static void free_rows(sptt_vsi_tally *t)
{
    for(int i = 0; i < t->nTask; i++) free(t->azTask[i]);
    free(t->azTask);
    free(t->aTaskRow);
    free(t->aTypeRow);
    t->azTask = NULL;
    t->aTaskRow = t->aTypeRow = NULL;
    t->nTask = 0;
}

void sptt_vsi_tally_free(sptt_vsi_tally *t)
{
    if( t==NULL ) return;
    free_rows(t);
    for(int i = 0; i < t->nType; i++) free(t->azType[i]);
    free(t->azType);
    free(t->aSum);
    free(t->aN);
    free(t);
}

int sptt_vsi_tally_add(sptt_vsi_tally *t, const char *zType, double score)
{
    int i;
    free_rows(t);
    for(i = 0; i < t->nType && strcmp(t->azType[i], zType)!=0; i++){}
    if( i==t->nType ){
        if( t->nType==t->capType ){
            int cap = t->capType ? 2 * t->capType : 16;
            char **az = realloc(t->azType, sizeof *az * (size_t)cap);
            if( az ) t->azType = az;
            double *s = realloc(t->aSum, sizeof *s * (size_t)cap);
            if( s ) t->aSum = s;
            int *nn = realloc(t->aN, sizeof *nn * (size_t)cap);
            if( nn ) t->aN = nn;
            if( !az || !s || !nn ) return sptt_fail(SPTT_ENOMEM, "out of memory");
            t->capType = cap;
        }
        if( (t->azType[i] = strdup(zType))==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
        t->aSum[i] = 0;
        t->aN[i] = 0;
        t->nType++;
    }
    t->aSum[i] += score;
    t->aN[i]++;
    return SPTT_OK;
}

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const sptt_vsi_row *)a)->zName, ((const sptt_vsi_row *)b)->zName);
}

/* Type rows, then task rows: a task's score is the mean of its types' means. */
static int build_rows(sptt_vsi_tally *t)
{
    if( t->aTypeRow ) return SPTT_OK;
    int n = t->nType ? t->nType : 1;
    t->aTypeRow = sptt_calloc((size_t)n, sizeof *t->aTypeRow);
    t->aTaskRow = sptt_calloc((size_t)n, sizeof *t->aTaskRow);
    t->azTask = sptt_calloc((size_t)n, sizeof *t->azTask);
    double *aSumMeans = sptt_calloc((size_t)n, sizeof *aSumMeans);
    int *aTypes = sptt_calloc((size_t)n, sizeof *aTypes);
    int rc = SPTT_OK;
    if( !t->aTypeRow || !t->aTaskRow || !t->azTask || !aSumMeans || !aTypes ){
        rc = SPTT_ENOMEM;
        goto done;
    }
    for(int i = 0; i < t->nType; i++) t->aTypeRow[i] = (sptt_vsi_row){ t->azType[i], t->aSum[i] / t->aN[i], t->aN[i] };
    /* In name order, so a task's sum of means does not depend on the order questions came in. */
    qsort(t->aTypeRow, (size_t)t->nType, sizeof *t->aTypeRow, row_cmp);
    for(int i = 0; i < t->nType; i++){
        char z[256];
        int k;
        double mean = t->aTypeRow[i].score;
        sptt_vsi_task(t->aTypeRow[i].zName, z, sizeof z);
        for(k = 0; k < t->nTask && strcmp(t->azTask[k], z)!=0; k++){}
        if( k==t->nTask ){
            if( (t->azTask[k] = strdup(z))==NULL ){
                rc = sptt_fail(SPTT_ENOMEM, "out of memory");
                goto done;
            }
            t->nTask++;
        }
        aSumMeans[k] += mean;
        aTypes[k]++;
        t->aTaskRow[k].n += t->aTypeRow[i].n;
    }
    for(int k = 0; k < t->nTask; k++){
        t->aTaskRow[k].zName = t->azTask[k];
        t->aTaskRow[k].score = aSumMeans[k] / aTypes[k];
    }
    qsort(t->aTaskRow, (size_t)t->nTask, sizeof *t->aTaskRow, row_cmp);
done:
    free(aSumMeans);
    free(aTypes);
    if( rc ) free_rows(t);
    return rc;
}

int sptt_vsi_tally_types(sptt_vsi_tally *t, const sptt_vsi_row **paRow, int *pn)
{
    int rc = build_rows(t);
    *paRow = rc ? NULL : t->aTypeRow;
    *pn = rc ? 0 : t->nType;
    return rc;
}

int sptt_vsi_tally_tasks(sptt_vsi_tally *t, const sptt_vsi_row **paRow, int *pn)
{
    int rc = build_rows(t);
    *paRow = rc ? NULL : t->aTaskRow;
    *pn = rc ? 0 : t->nTask;
    return rc;
}

double sptt_vsi_tally_overall(sptt_vsi_tally *t)
{
    const sptt_vsi_row *a;
    int n;
    double s = 0;
    if( sptt_vsi_tally_tasks(t, &a, &n) || n==0 ) return 0;
    /* Summed in name order: the same total whatever order the questions came in. */
    for(int k = 0; k < n; k++) s += a[k].score;
    return s / n;
}
