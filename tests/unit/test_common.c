/*
** Unit tests for common/: hashing against the published XXH64 vectors, the random stream's
** determinism and range, argument parsing and atomic writes.
*/
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "sptt_common.h"

Test(hash, xxh64_published_vectors)
{
    cr_assert_eq(sptt_hash64("", 0), 0xEF46DB3751D8E999ull);
    cr_assert_eq(sptt_hash64("a", 1), 0xD24EC4F1A98C6E5Bull);
    cr_assert_eq(sptt_hash64("abc", 3), 0x44BC2CF5AD770999ull);
}

Test(hash, streaming_equals_one_shot)
{
    uint8_t data[1000];
    for(int i = 0; i < 1000; i++) data[i] = (uint8_t)(i * 37 + 11);
    uint64_t want = sptt_hash64(data, sizeof data);
    for(size_t cut = 0; cut < 100; cut += 7){
        sptt_hash h;
        sptt_hash_init(&h);
        sptt_hash_update(&h, data, cut);
        sptt_hash_update(&h, data + cut, 33);
        sptt_hash_update(&h, data + cut + 33, sizeof data - cut - 33);
        cr_assert_eq(sptt_hash_final(&h), want, "split at %zu", cut);
    }
}

Test(rng, same_seed_same_stream_and_ranges)
{
    sptt_rng a, b;
    sptt_rng_seed(&a, 7);
    sptt_rng_seed(&b, 7);
    for(int i = 0; i < 1000; i++) cr_assert_eq(sptt_rng_u64(&a), sptt_rng_u64(&b));
    int hist[5] = {0};
    for(int i = 0; i < 50000; i++){
        uint32_t v = sptt_rng_below(&a, 5);
        cr_assert_lt(v, 5u);
        hist[v]++;
        double u = sptt_rng_unit(&a);
        cr_assert(u >= 0.0 && u < 1.0);
    }
    for(int i = 0; i < 5; i++) cr_assert(hist[i] > 9500 && hist[i] < 10500, "bucket %d: %d", i, hist[i]);
}

Test(rng, fork_does_not_advance_parent)
{
    sptt_rng a, b, c1, c2;
    sptt_rng_seed(&a, 3);
    sptt_rng_seed(&b, 3);
    sptt_rng_fork(&a, 1, &c1);
    sptt_rng_fork(&a, 2, &c2);
    cr_assert_eq(sptt_rng_u64(&a), sptt_rng_u64(&b));
    cr_assert_neq(sptt_rng_u64(&c1), sptt_rng_u64(&c2));
}

Test(cli, parse_values_and_messages)
{
    long v;
    double d;
    int w, h;
    cr_assert_eq(sptt_parse_int("--scenes", "12", 1, 100, &v), SPTT_OK);
    cr_assert_eq(v, 12);
    cr_assert_eq(sptt_parse_int("--scenes", "0", 1, 100, &v), SPTT_EINVAL);
    cr_assert(strstr(sptt_errmsg(), "--scenes") != NULL);
    cr_assert_eq(sptt_parse_int("--scenes", "3x", 1, 100, &v), SPTT_EINVAL);
    cr_assert_eq(sptt_parse_double("--alpha", "2.5", 0, 10, &d), SPTT_OK);
    cr_assert_float_eq(d, 2.5, 0);
    cr_assert_eq(sptt_parse_double("--alpha", "nan", 0, 10, &d), SPTT_EINVAL);
    cr_assert_eq(sptt_parse_size("--image", "320x240", &w, &h), SPTT_OK);
    cr_assert(w == 320 && h == 240);
    cr_assert_eq(sptt_parse_size("--image", "320", &w, &h), SPTT_EINVAL);
}

Test(io, atomic_write_replaces_and_abort_leaves_nothing)
{
    char dir[] = "/tmp/sptt_io_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/file.bin", dir);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    cr_assert_eq(sptt_mkdirs(sub), SPTT_OK);
    cr_assert_eq(sptt_write_file(path, "hello", 5), SPTT_OK);
    cr_assert_eq(sptt_write_file(path, "bye", 3), SPTT_OK);
    uint8_t *p; size_t n;
    cr_assert_eq(sptt_read_file(path, &p, &n), SPTT_OK);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(p, "bye", 3) == 0);
    free(p);

    sptt_atomic a;
    char path2[256];
    snprintf(path2, sizeof path2, "%s/a/other.bin", dir);
    cr_assert_eq(sptt_atomic_open(&a, path2), SPTT_OK);
    cr_assert_eq(sptt_atomic_write(&a, "xyz", 3), SPTT_OK);
    sptt_atomic_abort(&a);
    cr_assert_neq(access(path2, F_OK), 0, "aborted write must leave no file");
    cr_assert_eq(sptt_read_file(path2, &p, &n), SPTT_EIO);
    cr_assert(strstr(sptt_errmsg(), "other.bin") != NULL);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ---------------------------------------------------------------------------------------------
** The shared option parser
*/
#include "sptt_cli.h"

static int g_flag, g_int, g_choice, g_size[2];
static uint64_t g_u64;
static double g_dbl;
static const char *g_str;
static sptt_strlist g_list;

static int parse_cli(int argc, const char **argvIn, int *pFirst)
{
    static const sptt_option aOpt[] = {
        { "flag", SPTT_ARG_FLAG, &g_flag, .zHelp = "a flag" },
        { "str", SPTT_ARG_STRING, &g_str, .zArg = "S", .zHelp = "a string", .flags = SPTT_OPT_REQUIRED },
        { "list", SPTT_ARG_LIST, &g_list, .zArg = "L", .zHelp = "repeatable" },
        { "int", SPTT_ARG_INT, &g_int, 1, 10, .zArg = "N", .zHelp = "an integer\nin [1, 10]" },
        { "u64", SPTT_ARG_U64, &g_u64, 0, 9007199254740992.0, .zArg = "N", .zHelp = "a seed" },
        { "dbl", SPTT_ARG_DOUBLE, &g_dbl, 0, 1, .zArg = "X", .zHelp = "a fraction" },
        { "size", SPTT_ARG_SIZE, g_size, .zArg = "WxH", .zHelp = "a size" },
        { "choice", SPTT_ARG_CHOICE, &g_choice, .zChoices = "a|bb|c", .zArg = "C", .zHelp = "a choice" },
        { 0 },
    };
    sptt_cli cli = { .zTool = "sptt-x", .zSynopsis = "--str S [options] FILE...", .zAbout = "About.", .aOpt = aOpt,
                     .nArgMin = 1, .nArgMax = 2, .zArgName = "FILE" };
    char *argv[32];
    for(int i = 0; i < argc; i++) argv[i] = (char *)argvIn[i];
    argv[argc] = NULL;
    sptt_strlist_free(&g_list);
    return sptt_cli_parse(&cli, argc, argv, pFirst);
}

Test(cli, table_parser_fills_every_kind)
{
    const char *argv[] = { "sptt-x", "f1", "--flag", "--str", "s", "--list=a", "--list", "b", "--int", "7", "--u64", "12345678901",
                           "--dbl", "0.5", "--size", "64x48", "--choice", "bb", "-q", "f2" };
    int first = -1;
    cr_assert_eq(parse_cli(20, argv, &first), -1);
    cr_assert_eq(g_flag, 1);
    cr_assert_str_eq(g_str, "s");
    cr_assert_eq(g_list.n, 2);
    cr_assert_str_eq(g_list.az[1], "b");
    cr_assert_eq(g_int, 7);
    cr_assert_eq(g_u64, 12345678901ULL);
    cr_assert_float_eq(g_dbl, 0.5, 0);
    cr_assert_eq(g_size[0], 64);
    cr_assert_eq(g_size[1], 48);
    cr_assert_eq(g_choice, 1);
    /* Positional arguments end up after the options, in their order. */
    cr_assert_eq(first, 18);
    sptt_strlist_free(&g_list);
}

Test(cli, usage_errors_are_status_2, .init = cr_redirect_stderr)
{
    int first;
    const char *a1[] = { "sptt-x", "--str", "s", "--bogus", "f" };
    cr_assert_eq(parse_cli(5, a1, &first), 2);
    const char *a2[] = { "sptt-x", "f" };
    cr_assert_eq(parse_cli(2, a2, &first), 2);                   /* --str required */
    const char *a3[] = { "sptt-x", "--str", "s", "--int", "11", "f" };
    cr_assert_eq(parse_cli(6, a3, &first), 2);                   /* out of range */
    const char *a4[] = { "sptt-x", "--str", "s", "--choice", "d", "f" };
    cr_assert_eq(parse_cli(6, a4, &first), 2);
    const char *a5[] = { "sptt-x", "--str", "s" };
    cr_assert_eq(parse_cli(3, a5, &first), 2);                   /* no FILE */
    const char *a6[] = { "sptt-x", "--str", "s", "a", "b", "c" };
    cr_assert_eq(parse_cli(6, a6, &first), 2);                   /* too many */
    const char *a7[] = { "sptt-x", "--str" };
    cr_assert_eq(parse_cli(2, a7, &first), 2);                   /* value missing */
    const char *a8[] = { "sptt-x", "--str", "s", "--u64", "1.5", "f" };
    cr_assert_eq(parse_cli(6, a8, &first), 2);
    fflush(stderr);
    sptt_strlist_free(&g_list);
}

Test(cli, unknown_flag_message, .init = cr_redirect_stderr)
{
    int first;
    const char *a1[] = { "sptt-x", "--str", "s", "--bogus", "f" };
    cr_assert_eq(parse_cli(5, a1, &first), 2);
    fflush(stderr);
    cr_assert_stderr_eq_str("sptt-x: unknown option '--bogus' (see sptt-x --help)\n");
    sptt_strlist_free(&g_list);
}

Test(cli, help_lists_every_option_and_exits_0, .init = cr_redirect_stdout)
{
    int first;
    const char *a1[] = { "sptt-x", "--help" };
    cr_assert_eq(parse_cli(2, a1, &first), 0);
    fflush(stdout);
    FILE *f = cr_get_redirected_stdout();
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    cr_assert(strstr(buf, "usage: sptt-x --str S [options] FILE...") != NULL, "%s", buf);
    cr_assert(strstr(buf, "  --int N               an integer\n                        in [1, 10]\n") != NULL, "%s", buf);
    cr_assert(strstr(buf, "  -q, --quiet") != NULL);
    cr_assert(strstr(buf, "  --version") != NULL);
    sptt_strlist_free(&g_list);
}

Test(cli, plural)
{
    cr_assert_str_eq(sptt_plural(1, "scene", NULL), "1 scene");
    cr_assert_str_eq(sptt_plural(0, "scene", NULL), "0 scenes");
    cr_assert_str_eq(sptt_plural(3, "box", "boxes"), "3 boxes");
    char z[64];
    snprintf(z, sizeof z, "%s, %s", sptt_plural(1, "a", NULL), sptt_plural(2, "b", NULL));
    cr_assert_str_eq(z, "1 a, 2 bs");
}

/* ---------------------------------------------------------------------------------------------
** Files left by killed writers, and paths that are not regular files
*/
#include <sys/stat.h>
#include <sys/wait.h>

Test(io, fifo_refused_without_blocking_and_stale_temporaries_cleaned)
{
    char zDir[] = "/tmp/sptt_io_XXXXXX", zPath[128];
    FILE *fp;
    cr_assert_not_null(mkdtemp(zDir));
    snprintf(zPath, sizeof zPath, "%s/fifo.sptt", zDir);
    cr_assert_eq(mkfifo(zPath, 0600), 0);
    cr_assert_eq(sptt_open_regular(zPath, &fp), SPTT_EIO);
    cr_assert(strstr(sptt_errmsg(), "not a regular file") != NULL, "%s", sptt_errmsg());
    uint8_t *p;
    size_t n;
    cr_assert_eq(sptt_read_file(zPath, &p, &n), SPTT_EIO);
    cr_assert_eq(sptt_read_file(zDir, &p, &n), SPTT_EIO);

    /* A pid that is gone: a child that has exited and been reaped. */
    pid_t dead = fork();
    if( dead==0 ) _exit(0);
    cr_assert_eq(waitpid(dead, NULL, 0), dead);
    char zDead[160], zLive[160], zKeep[160];
    snprintf(zDead, sizeof zDead, "%s/a.sptt.tmp.%d", zDir, (int)dead);
    snprintf(zLive, sizeof zLive, "%s/b.sptt.tmp.%d", zDir, (int)getpid());
    snprintf(zKeep, sizeof zKeep, "%s/c.sptt", zDir);
    cr_assert_eq(sptt_write_file(zDead, "x", 1), SPTT_OK);
    cr_assert_eq(sptt_write_file(zLive, "x", 1), SPTT_OK);
    cr_assert_eq(sptt_write_file(zKeep, "x", 1), SPTT_OK);
    sptt_clean_stale_tmp(zDir);
    cr_assert_neq(access(zDead, F_OK), 0, "the dead writer's file stays");
    cr_assert_eq(access(zLive, F_OK), 0, "a live writer's file was removed");
    cr_assert_eq(access(zKeep, F_OK), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}
