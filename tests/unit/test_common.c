/*
** Unit tests for common/: hashing against the published XXH64 vectors, the random stream's
** determinism and range, argument parsing and atomic writes.
*/
#include <criterion/criterion.h>
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
