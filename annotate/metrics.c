/*
** VSI-Bench scoring: exact match for multiple choice, mean relative accuracy for numbers.
**
** Reproduces the reference code's arithmetic, not just its formula: the thresholds come from
** numpy.linspace(0.5, 0.95, 10), whose floating-point values decide ties such as a prediction
** exactly 5% off, and the comparison is <= (the paper writes <).
*/
#include "sptt_annotate.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sptt_answer_token(const char *zPred, char *out, size_t n)
{
    /* Python: pred.split(' ')[0].rstrip('.').strip(). split(' ') splits on single spaces only,
    ** so a leading space yields an empty first token, as in the reference. */
    size_t len = 0, b = 0;
    const char *sp = strchr(zPred, ' ');
    size_t tok = sp ? (size_t)(sp - zPred) : strlen(zPred);
    if( n==0 ) return;
    while( tok > 0 && zPred[tok - 1]=='.' ) tok--;
    while( b < tok && isspace((unsigned char)zPred[b]) ) b++;
    while( tok > b && isspace((unsigned char)zPred[tok - 1]) ) tok--;
    len = tok - b;
    if( len >= n ) len = n - 1;
    memcpy(out, zPred + b, len);
    out[len] = 0;
}

double sptt_exact_match(const char *zPred, const char *zLetter)
{
    char tok[256];
    sptt_answer_token(zPred, tok, sizeof tok);
    if( strlen(tok)!=strlen(zLetter) ) return 0;
    for(size_t i = 0; tok[i]; i++){
        if( tolower((unsigned char)tok[i])!=tolower((unsigned char)zLetter[i]) ) return 0;
    }
    return 1;
}

int sptt_parse_prediction(const char *zPred, double *pOut)
{
    char tok[256], clean[256];
    char *end;
    size_t k = 0;
    sptt_answer_token(zPred, tok, sizeof tok);
    if( tok[0]==0 ) return -1;
    /* Python's float() allows digit-separating underscores but not hexadecimal, which strtod
    ** would accept. */
    for(size_t i = 0; tok[i] && k + 1 < sizeof clean; i++){
        if( tok[i]=='_' ){
            if( i==0 || !isdigit((unsigned char)tok[i - 1]) || !isdigit((unsigned char)tok[i + 1]) ) return -1;
            continue;
        }
        clean[k++] = tok[i];
    }
    clean[k] = 0;
    if( strchr(clean, 'x') || strchr(clean, 'X') ) return -1;
    *pOut = strtod(clean, &end);
    if( end==clean || *end ) return -1;
    return 0;
}

double sptt_mra(double pred, double gt)
{
    /* numpy.linspace(0.5, 0.95, 10): step = (stop - start) / 9, value i = start + i * step, and
    ** the last value is set to stop exactly. */
    const double start = 0.5, stop = 0.95;
    const double step = (stop - start) / 9;
    double err, acc = 0;
    if( !isfinite(pred) || gt==0 ) return 0;
    err = fabs(pred - gt) / fabs(gt);
    for(int i = 0; i < 10; i++){
        double theta = i==9 ? stop : i * step + start;
        if( err <= 1 - theta ) acc += 1;
    }
    return acc / 10;
}

double sptt_mra_text(const char *zPred, double gt)
{
    double v;
    if( sptt_parse_prediction(zPred, &v) ) return 0;
    return sptt_mra(v, gt);
}
