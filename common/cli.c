/*
** Command-line helpers and progress reporting shared by every tool.
*/
#include "sptt_cli.h"
#include "sptt_common.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sptt_parse_int(const char *zOpt, const char *zVal, long lo, long hi, long *pOut)
{
    char *zEnd = NULL;
    long v;
    errno = 0;
    v = strtol(zVal, &zEnd, 10);
    if( errno || zEnd==zVal || *zEnd ){
        return sptt_fail(SPTT_EINVAL, "%s: '%s' is not an integer", zOpt, zVal);
    }
    if( v < lo || v > hi ){
        return sptt_fail(SPTT_EINVAL, "%s: %ld is out of range [%ld, %ld]", zOpt, v, lo, hi);
    }
    *pOut = v;
    return SPTT_OK;
}

int sptt_parse_double(const char *zOpt, const char *zVal, double lo, double hi, double *pOut)
{
    char *zEnd = NULL;
    double v;
    errno = 0;
    v = strtod(zVal, &zEnd);
    if( errno || zEnd==zVal || *zEnd || !isfinite(v) ){
        return sptt_fail(SPTT_EINVAL, "%s: '%s' is not a number", zOpt, zVal);
    }
    if( v < lo || v > hi ){
        return sptt_fail(SPTT_EINVAL, "%s: %g is out of range [%g, %g]", zOpt, v, lo, hi);
    }
    *pOut = v;
    return SPTT_OK;
}

int sptt_parse_size(const char *zOpt, const char *zVal, int *pW, int *pH)
{
    char *zEnd = NULL;
    long w, h;
    w = strtol(zVal, &zEnd, 10);
    if( zEnd==zVal || (*zEnd!='x' && *zEnd!='X') ) goto bad;
    zVal = zEnd + 1;
    h = strtol(zVal, &zEnd, 10);
    if( zEnd==zVal || *zEnd ) goto bad;
    if( w < 1 || h < 1 || w > 65535 || h > 65535 ){
        return sptt_fail(SPTT_EINVAL, "%s: %ldx%ld is out of range (1 to 65535 each)", zOpt, w, h);
    }
    *pW = (int)w;
    *pH = (int)h;
    return SPTT_OK;
bad:
    return sptt_fail(SPTT_EINVAL, "%s: expected WIDTHxHEIGHT, for example 320x240", zOpt);
}

char *sptt_join_args(int argc, char **argv)
{
    sptt_buf b = {0};
    for(int i = 0; i < argc; i++){
        if( i ) sptt_buf_put(&b, " ", 1);
        sptt_buf_put(&b, argv[i], strlen(argv[i]));
    }
    sptt_buf_put(&b, "", 1);
    if( b.rc ){
        sptt_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

void sptt_report(const char *zProg, const char *zFormat, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", zProg);
    va_start(ap, zFormat);
    vfprintf(stderr, zFormat, ap);
    va_end(ap);
    fputc('\n', stderr);
}

double sptt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --quiet anywhere in the tool silences every progress line, the nested ones included. */
static int g_progressQuiet;

void sptt_progress_quiet(int quiet)
{
    g_progressQuiet = quiet;
}

void sptt_progress_start(sptt_progress *p, const char *zWhat, uint64_t total)
{
    const char *zEnv = getenv("SPTT_PROGRESS");
    memset(p, 0, sizeof *p);
    p->zWhat = zWhat;
    p->total = total;
    p->t0 = p->tLast = sptt_now();
    /* SPTT_PROGRESS=0 silences, =1 forces the terminal form (for tests of it). */
    p->enabled = !g_progressQuiet && !(zEnv && strcmp(zEnv, "0")==0);
    p->tty = (zEnv && strcmp(zEnv, "1")==0) || isatty(2);
}

static void fmt_duration(double s, char *z, size_t n)
{
    if( !(s >= 0) || s > 1e7 ) snprintf(z, n, "?");
    else if( s < 60 ) snprintf(z, n, "%.0fs", s);
    else if( s < 3600 ) snprintf(z, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(z, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void sptt_progress_step(sptt_progress *p, uint64_t n)
{
    double t, el, rate;
    char zEta[32] = "";
    p->done += n;
    if( !p->enabled ) return;
    t = sptt_now();
    el = t - p->t0;
    /* Short work stays silent; a terminal line is refreshed a few times a second, a log gets a
    ** plain line every half minute. */
    if( el < 2.0 ) return;
    if( t - p->tLast < (p->tty ? 0.25 : 30.0) && p->shown ) return;
    p->tLast = t;
    p->shown = 1;
    rate = (double)p->done / (el + 1e-9);
    if( p->total && p->done < p->total && rate > 0 ){
        char z[24];
        fmt_duration((double)(p->total - p->done) / rate, z, sizeof z);
        snprintf(zEta, sizeof zEta, ", ETA %s", z);
    }
    if( p->total ){
        fprintf(stderr, "%s%s: %llu/%llu (%.0f%%), %.1f/%s%s%s", p->tty ? "\r" : "", p->zWhat, (unsigned long long)p->done,
                (unsigned long long)p->total, 100.0 * (double)p->done / (double)p->total, p->perHour ? rate * 3600 : rate,
                p->perHour ? "h" : "s", zEta, p->tty ? "\033[K" : "\n");
    }else{
        fprintf(stderr, "%s%s: %llu, %.1f/%s%s", p->tty ? "\r" : "", p->zWhat, (unsigned long long)p->done, p->perHour ? rate * 3600 : rate,
                p->perHour ? "h" : "s", p->tty ? "\033[K" : "\n");
    }
}

void sptt_progress_end(sptt_progress *p)
{
    if( p->enabled && p->tty && p->shown ) fputs("\r\033[K", stderr);
}

/* ---------------------------------------------------------------------------------------------
** The shared option parser (sptt_cli.h)
*/

int sptt_strlist_add(sptt_strlist *l, const char *z)
{
    if( l->n==l->cap ){
        int cap = l->cap ? 2 * l->cap : 8;
        const char **p = sptt_realloc(l->az, (size_t)cap * sizeof(char *));
        if( p==NULL ) return SPTT_ENOMEM;
        l->az = p;
        l->cap = cap;
    }
    l->az[l->n++] = z;
    return SPTT_OK;
}

void sptt_strlist_free(sptt_strlist *l)
{
    free(l->az);
    memset(l, 0, sizeof *l);
}

const char *sptt_plural(long n, const char *zSingular, const char *zPlural)
{
    static _Thread_local char aBuf[4][96];
    static _Thread_local int iBuf;
    char *z = aBuf[iBuf++ & 3];
    if( n==1 || n==-1 ) snprintf(z, sizeof aBuf[0], "%ld %s", n, zSingular);
    else if( zPlural ) snprintf(z, sizeof aBuf[0], "%ld %s", n, zPlural);
    else snprintf(z, sizeof aBuf[0], "%ld %ss", n, zSingular);
    return z;
}

/* The exit statuses of every tool that runs the per-scene loop; --help and the README say them. */
static const char zExitText[] =
    "Exit status: 0 when every scene was done or was unchanged; 2 for a usage error, a dataset\n"
    "that cannot be opened, or a scene whose input is bad or whose earlier stage has not run;\n"
    "1 when some scene failed for another reason (I/O, the database, memory). One scene's\n"
    "failure never stops the others: each is reported on one line and the rest go on.\n";

static void help_lines(FILE *out, const char *zText, int indent)
{
    /* Continuation lines of a help text sit under its first line. */
    for(const char *z = zText; *z; ){
        const char *nl = strchr(z, '\n');
        int len = nl ? (int)(nl - z) : (int)strlen(z);
        if( z!=zText ) fprintf(out, "%*s", indent, "");
        fprintf(out, "%.*s\n", len, z);
        z += len + (nl ? 1 : 0);
    }
}

void sptt_cli_help(const sptt_cli *cli, FILE *out)
{
    const int col = 24;
    size_t toolLen = strlen(cli->zTool);
    /* In the synopsis, '\n' starts another form of the command and "\n " continues one. */
    fprintf(out, "usage: %s ", cli->zTool);
    for(const char *z = cli->zSynopsis; *z; z++){
        fputc(*z, out);
        if( *z!='\n' ) continue;
        if( z[1]==' ' ){
            fprintf(out, "%*s", (int)toolLen + 8, "");
            z++;
        }else{
            fprintf(out, "       %s ", cli->zTool);
        }
    }
    fprintf(out, "\n\n%s\n\n", cli->zAbout);
    for(const sptt_option *o = cli->aOpt; o->kind!=SPTT_ARG_END; o++){
        char zLeft[64];
        int n = o->cShort ? snprintf(zLeft, sizeof zLeft, "  -%c, --%s%s%s", o->cShort, o->zName, o->zArg ? " " : "", o->zArg ? o->zArg : "")
                          : snprintf(zLeft, sizeof zLeft, "  --%s%s%s", o->zName, o->zArg ? " " : "", o->zArg ? o->zArg : "");
        if( n >= col - 1 ) fprintf(out, "%s\n%*s", zLeft, col, "");
        else fprintf(out, "%-*s", col, zLeft);
        help_lines(out, o->zHelp, col);
    }
    fprintf(out, "%-*s%s\n", col, "  -q, --quiet", "no per-scene lines and no progress; errors are still reported");
    fprintf(out, "%-*s%s\n", col, "  -h, --help", "this text");
    fprintf(out, "%-*s%s\n", col, "  --version", "the toolkit's version");
    if( cli->zNotes ) fprintf(out, "\n%s", cli->zNotes);
    if( cli->dataset ) fprintf(out, "\n%s", zExitText);
}

int sptt_cli_usage_error(const sptt_cli *cli, const char *zFormat, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cli->zTool);
    va_start(ap, zFormat);
    vfprintf(stderr, zFormat, ap);
    va_end(ap);
    fprintf(stderr, " (see %s --help)\n", cli->zTool);
    return 2;
}

static int parse_choice(const char *zOpt, const char *zChoices, const char *zVal, int *pOut)
{
    int i = 0;
    size_t len = strlen(zVal);
    for(const char *z = zChoices; ; i++){
        const char *bar = strchr(z, '|');
        size_t n = bar ? (size_t)(bar - z) : strlen(z);
        if( n==len && strncmp(z, zVal, n)==0 ){
            *pOut = i;
            return SPTT_OK;
        }
        if( bar==NULL ) break;
        z = bar + 1;
    }
    return sptt_fail(SPTT_EINVAL, "%s: '%s' is not one of %s", zOpt, zVal, zChoices);
}

static int parse_value(const sptt_option *o, const char *zVal)
{
    char zOpt[80];
    long v;
    double d;
    int rc = SPTT_OK;
    snprintf(zOpt, sizeof zOpt, "--%s", o->zName);
    switch( o->kind ){
    case SPTT_ARG_STRING:
        if( zVal[0]==0 ) return sptt_fail(SPTT_EINVAL, "%s: empty value", zOpt);
        *(const char **)o->pOut = zVal;
        break;
    case SPTT_ARG_LIST:
        if( zVal[0]==0 ) return sptt_fail(SPTT_EINVAL, "%s: empty value", zOpt);
        rc = sptt_strlist_add((sptt_strlist *)o->pOut, zVal);
        break;
    case SPTT_ARG_INT:
        rc = sptt_parse_int(zOpt, zVal, (long)o->lo, (long)o->hi, &v);
        if( rc==SPTT_OK ) *(int *)o->pOut = (int)v;
        break;
    case SPTT_ARG_U64:
        /* Doubles hold every integer up to 2^53 exactly, which bounds what a seed may be. */
        rc = sptt_parse_double(zOpt, zVal, o->lo, o->hi, &d);
        if( rc==SPTT_OK && d!=floor(d) ) rc = sptt_fail(SPTT_EINVAL, "%s: '%s' is not an integer", zOpt, zVal);
        if( rc==SPTT_OK ) *(uint64_t *)o->pOut = (uint64_t)d;
        break;
    case SPTT_ARG_DOUBLE:
        rc = sptt_parse_double(zOpt, zVal, o->lo, o->hi, (double *)o->pOut);
        break;
    case SPTT_ARG_SIZE: {
        int *wh = (int *)o->pOut;
        rc = sptt_parse_size(zOpt, zVal, &wh[0], &wh[1]);
        break;
    }
    case SPTT_ARG_CHOICE:
        rc = parse_choice(zOpt, o->zChoices, zVal, (int *)o->pOut);
        break;
    case SPTT_ARG_FN:
        rc = o->xParse(zOpt, zVal, o->pOut);
        break;
    default:
        assert(0);
    }
    return rc;
}

int sptt_cli_parse(sptt_cli *cli, int argc, char **argv, int *pFirst)
{
    int nOpt = 0, status = -1, nShort = 3;
    struct option *aLong;
    unsigned char *seen;
    char zShort[64] = ":hq";
    for(const sptt_option *o = cli->aOpt; o->kind!=SPTT_ARG_END; o++){
        nOpt++;
        /* aliases: letters other than h, q and V (--version), each once (a table fault, caught by any test) */
        assert(o->cShort==0 || (((o->cShort >= 'a' && o->cShort <= 'z') || (o->cShort >= 'A' && o->cShort <= 'Z'))
                                && o->cShort!='h' && o->cShort!='q' && o->cShort!='V' && strchr(zShort, o->cShort)==NULL));
        if( o->cShort && nShort + 3 < (int)sizeof zShort ){
            zShort[nShort++] = o->cShort;
            if( o->kind!=SPTT_ARG_FLAG ) zShort[nShort++] = ':';
            zShort[nShort] = 0;
        }
    }
    aLong = calloc((size_t)nOpt + 4, sizeof *aLong);
    seen = calloc((size_t)nOpt + 1, 1);
    if( aLong==NULL || seen==NULL ){
        free(aLong);
        free(seen);
        fprintf(stderr, "%s: out of memory\n", cli->zTool);
        return 1;
    }
    for(int i = 0; i < nOpt; i++){
        aLong[i].name = cli->aOpt[i].zName;
        aLong[i].has_arg = cli->aOpt[i].kind==SPTT_ARG_FLAG ? no_argument : required_argument;
        aLong[i].val = 256 + i;
    }
    aLong[nOpt] = (struct option){ "quiet", no_argument, 0, 'q' };
    aLong[nOpt + 1] = (struct option){ "help", no_argument, 0, 'h' };
    aLong[nOpt + 2] = (struct option){ "version", no_argument, 0, 'V' };
    cli->quiet = 0;
    /* 0 rather than 1 makes glibc start afresh, so a process may parse twice (tests do). */
    optind = 0;
    opterr = 0;
    for(;;){
        int longIndex = -1;
        int c = getopt_long(argc, argv, zShort, aLong, &longIndex);
        if( c==-1 ) break;
        if( c > 0 && c < 256 && c!='h' && c!='q' && c!='V' && c!='?' && c!=':' ){
            /* a one-letter alias: the option it stands for */
            for(int i = 0; i < nOpt; i++) if( cli->aOpt[i].cShort==c ) c = 256 + i;
        }
        if( c=='h' ){
            sptt_cli_help(cli, stdout);
            status = 0;
            goto done;
        }
        if( c=='V' ){
            printf("%s %s\n", cli->zTool, SPTT_VERSION);
            status = 0;
            goto done;
        }
        if( c=='q' ){
            cli->quiet = 1;
            continue;
        }
        if( c=='?' || c==':' ){
            /* getopt leaves the offending word at argv[optind - 1]. */
            const char *zWord = optind >= 1 && optind <= argc ? argv[optind - 1] : "?";
            if( c==':' ) status = sptt_cli_usage_error(cli, "option '%s' needs a value", zWord);
            else if( optopt && optopt < 256 && zWord[0]=='-' && zWord[1]!='-' ) status = sptt_cli_usage_error(cli, "unknown option '-%c'", optopt);
            else status = sptt_cli_usage_error(cli, "unknown option '%s'", zWord);
            goto done;
        }
        {
            const sptt_option *o = &cli->aOpt[c - 256];
            seen[c - 256] = 1;
            if( o->kind==SPTT_ARG_FLAG ){
                *(int *)o->pOut = 1;
            }else if( parse_value(o, optarg) ){
                status = sptt_cli_usage_error(cli, "%s", sptt_errmsg());
                goto done;
            }
        }
    }
    for(int i = 0; i < nOpt; i++){
        if( (cli->aOpt[i].flags & SPTT_OPT_REQUIRED) && !seen[i] ){
            status = sptt_cli_usage_error(cli, "--%s %s is required", cli->aOpt[i].zName, cli->aOpt[i].zArg ? cli->aOpt[i].zArg : "");
            goto done;
        }
    }
    {
        int nArg = argc - optind;
        if( nArg < cli->nArgMin ){
            status = sptt_cli_usage_error(cli, "no %s given", cli->zArgName ? cli->zArgName : "argument");
        }else if( cli->nArgMax >= 0 && nArg > cli->nArgMax ){
            status = sptt_cli_usage_error(cli, "unexpected argument '%s'", argv[optind + cli->nArgMax]);
        }
    }
    *pFirst = optind;
    sptt_progress_quiet(cli->quiet);
done:
    free(aLong);
    free(seen);
    return status;
}
