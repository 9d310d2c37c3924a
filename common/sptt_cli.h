/*
** The command-line convention every tool shares: options described once in a table, from which
** both the parser and the --help text come, so the two cannot drift apart.
**
**   - long options (`--name VALUE` or `--name=VALUE`), plus -h, -q and the one-letter aliases
**     an option table gives (-o FILE);
**   - -h/--help and --version print to stdout and exit 0;
**   - --quiet silences per-scene lines and progress, never errors;
**   - any usage error is one line "tool: message (see tool --help)" on stderr and exit status 2,
**     decided before the tool touches a file.
*/
#ifndef SPTT_CLI_H
#define SPTT_CLI_H

#include <stdint.h>
#include <stdio.h>

enum {
    SPTT_ARG_END = 0,   /* terminates an option table */
    SPTT_ARG_FLAG,      /* int*, set to 1 */
    SPTT_ARG_STRING,    /* const char**, the last one given wins */
    SPTT_ARG_LIST,      /* sptt_strlist*, repeatable (and comma-free: each use adds one) */
    SPTT_ARG_INT,       /* int*, within [lo, hi] */
    SPTT_ARG_U64,       /* uint64_t*, an integer within [lo, hi] (seeds, counts) */
    SPTT_ARG_DOUBLE,    /* double*, finite, within [lo, hi] */
    SPTT_ARG_SIZE,      /* int[2], "WxH" with both in [1, 65535] */
    SPTT_ARG_CHOICE,    /* int*, the index of the value in zChoices "a|b|c" */
    SPTT_ARG_FN         /* anything else: xParse(zOpt, zVal, pOut) returns SPTT_OK or a message */
};

#define SPTT_OPT_REQUIRED 0x1   /* a usage error when absent */

/* A growable list of strings that point into argv (not copied). */
typedef struct sptt_strlist {
    const char **az;
    int n, cap;
} sptt_strlist;
int sptt_strlist_add(sptt_strlist *l, const char *z);
void sptt_strlist_free(sptt_strlist *l);

typedef struct sptt_option {
    const char *zName;        /* long name without the dashes */
    int kind;                 /* SPTT_ARG_* */
    void *pOut;
    double lo, hi;            /* INT, U64, DOUBLE */
    const char *zChoices;     /* CHOICE */
    int (*xParse)(const char *zOpt, const char *zVal, void *pOut);   /* FN */
    const char *zArg;         /* the value's name in --help ("DB", "WxH"); NULL for a flag */
    const char *zHelp;        /* '\n' starts a continuation line, indented under the first */
    int flags;                /* SPTT_OPT_* */
    char cShort;              /* a one-letter alias ('o' makes -o FILE), 0 for none */
} sptt_option;

typedef struct sptt_cli {
    const char *zTool;        /* "sptt-geometry" */
    const char *zSynopsis;    /* what follows "usage: sptt-geometry "; '\n' starts another form,
                              ** "\n " continues the same one on the next line */
    const char *zAbout;       /* a paragraph on what the tool does */
    const sptt_option *aOpt;  /* ends with an entry of kind SPTT_ARG_END */
    int nArgMin, nArgMax;     /* positional arguments accepted (nArgMax < 0: no limit) */
    const char *zArgName;     /* named in the message when too few are given: "scene folder" */
    const char *zNotes;       /* printed after the options; may be NULL */
    int dataset;              /* the tool runs the per-scene loop: --help documents its statuses */
    int quiet;                /* out: --quiet or -q was given */
} sptt_cli;

/*
** Parses argv (reordering it, as getopt does). Returns -1 when the tool should go on, with the
** positional arguments in argv[*pFirst .. argc); otherwise the exit status: 0 after --help or
** --version (printed), 2 after a usage error (reported on one line).
*/
int sptt_cli_parse(sptt_cli *cli, int argc, char **argv, int *pFirst);
void sptt_cli_help(const sptt_cli *cli, FILE *out);
/* Reports a usage error found after parsing (a combination of options) and returns 2. */
int sptt_cli_usage_error(const sptt_cli *cli, const char *zFormat, ...) __attribute__((format(printf, 2, 3)));

/* "1 scene", "3 scenes": zPlural NULL means zSingular + "s". Returns a static per-thread buffer
** of four rotating slots, so up to four may appear in one printf. */
const char *sptt_plural(long n, const char *zSingular, const char *zPlural);

#endif
