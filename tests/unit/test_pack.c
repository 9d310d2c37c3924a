/*
** Scene pack codec: exact round trip, and refusal of damaged files with the section named.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sptt_common.h"
#include "sptt_schemas.h"

static char zDir[64];

static void setup(void)
{
    strcpy(zDir, "/tmp/sptt_pack_XXXXXX");
    cr_assert_not_null(mkdtemp(zDir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zDir);
    cr_assert_eq(system(cmd), 0);
}

/* A small pack with every section, values chosen so any byte shift shows. */
static void make_pack(sptt_pack *p, int withImages)
{
    memset(p, 0, sizeof *p);
    p->zMeta = strdup("{\"name\":\"scene0001_00\",\"source\":\"scannet\",\"alignment\":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}");
    p->nPoints = 1000;
    p->xyz = malloc(12 * p->nPoints);
    p->rgb = malloc(3 * p->nPoints);
    p->instance = malloc(2 * p->nPoints);
    p->nyu40 = malloc(p->nPoints);
    for(uint64_t i = 0; i < p->nPoints; i++){
        p->xyz[3 * i] = (float)i * 0.01f;
        p->xyz[3 * i + 1] = -(float)i * 0.02f;
        p->xyz[3 * i + 2] = 1.5f + (float)(i % 7);
        p->rgb[3 * i] = (uint8_t)i; p->rgb[3 * i + 1] = (uint8_t)(i * 3); p->rgb[3 * i + 2] = (uint8_t)(i * 7);
        p->instance[i] = (uint16_t)(i % 300);
        p->nyu40[i] = (uint8_t)(i % 41);
    }
    p->nFaces = 300;
    p->faces = malloc(12 * p->nFaces);
    for(uint64_t f = 0; f < 3 * p->nFaces; f++) p->faces[f] = (uint32_t)((f * 13) % p->nPoints);
    p->nFrames = 5;
    p->frames = calloc(p->nFrames, sizeof(sptt_frame_info));
    for(uint64_t i = 0; i < p->nFrames; i++){
        sptt_frame_info *fr = &p->frames[i];
        float c = cosf(0.3f * (float)i), s = sinf(0.3f * (float)i);
        float m[16] = { c, -s, 0, 1.0f + (float)i, s, c, 0, 2.0f, 0, 0, 1, 1.5f, 0, 0, 0, 1 };
        memcpy(fr->c2w, m, sizeof m);
        fr->timestamp = (double)i / 24.0;
        fr->fx = 300; fr->fy = 301; fr->cx = 160; fr->cy = 120;
        fr->width = 320; fr->height = 240;
        fr->sourceIndex = (uint32_t)(i * 10);
    }
    p->nSamples = 7;
    p->sxyz = malloc(12 * 7); p->srgb = malloc(21); p->sinstance = malloc(14); p->snyu40 = malloc(7);
    for(int i = 0; i < 7; i++){
        p->sxyz[3 * i] = (float)i; p->sxyz[3 * i + 1] = 0.5f; p->sxyz[3 * i + 2] = -(float)i;
        p->srgb[3 * i] = p->srgb[3 * i + 1] = p->srgb[3 * i + 2] = (uint8_t)(40 * i);
        p->sinstance[i] = (uint16_t)(i + 1); p->snyu40[i] = (uint8_t)(i + 2);
    }
    if( withImages ){
        p->imgEncoding = SPTT_IMG_RGB8;
        p->imgWidth = 4;
        p->imgHeight = 3;
        p->imgOffsets = malloc(8 * (p->nFrames + 1));
        p->imgData = malloc(36 * p->nFrames);
        for(uint64_t i = 0; i <= p->nFrames; i++) p->imgOffsets[i] = 36 * i;
        for(uint64_t i = 0; i < 36 * p->nFrames; i++) p->imgData[i] = (uint8_t)(i * 5);
    }
}

static void path_of(char *z, size_t n, const char *zName)
{
    snprintf(z, n, "%s/%s", zDir, zName);
}

TestSuite(pack, .init = setup, .fini = teardown);

Test(pack, round_trip_is_exact)
{
    sptt_pack a, b;
    char path[128];
    make_pack(&a, 1);
    path_of(path, sizeof path, "a.sptt");
    cr_assert_eq(sptt_pack_write(path, &a, 3), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_eq(sptt_pack_read(path, 0, &b), SPTT_OK, "%s", sptt_errmsg());
    cr_assert_str_eq(a.zMeta, b.zMeta);
    cr_assert_eq(b.nPoints, a.nPoints);
    cr_assert(memcmp(a.xyz, b.xyz, 12 * a.nPoints) == 0);
    cr_assert(memcmp(a.rgb, b.rgb, 3 * a.nPoints) == 0);
    cr_assert(memcmp(a.instance, b.instance, 2 * a.nPoints) == 0);
    cr_assert(memcmp(a.nyu40, b.nyu40, a.nPoints) == 0);
    cr_assert_eq(b.nFaces, a.nFaces);
    cr_assert(memcmp(a.faces, b.faces, 12 * a.nFaces) == 0);
    cr_assert_eq(b.nFrames, a.nFrames);
    for(uint64_t i = 0; i < a.nFrames; i++){
        cr_assert(memcmp(a.frames[i].c2w, b.frames[i].c2w, 64) == 0);
        cr_assert_eq(a.frames[i].timestamp, b.frames[i].timestamp);
        cr_assert_eq(a.frames[i].fy, b.frames[i].fy);
        cr_assert_eq(a.frames[i].sourceIndex, b.frames[i].sourceIndex);
        cr_assert_eq(a.frames[i].height, b.frames[i].height);
    }
    cr_assert_eq(b.imgEncoding, SPTT_IMG_RGB8);
    cr_assert(memcmp(a.imgData, b.imgData, 36 * a.nFrames) == 0);
    cr_assert_eq(b.nSamples, 7);
    cr_assert(memcmp(a.sxyz, b.sxyz, 84) == 0 && memcmp(a.sinstance, b.sinstance, 14) == 0 && memcmp(a.snyu40, b.snyu40, 7) == 0);
    sptt_pack_free(&b);

    /* Skipping images still validates the rest. */
    cr_assert_eq(sptt_pack_read(path, SPTT_PACK_SKIP_IMAGES, &b), SPTT_OK);
    cr_assert_eq(b.imgEncoding, SPTT_IMG_NONE);
    cr_assert_null(b.imgData);
    cr_assert_eq(b.nFrames, 5);
    sptt_pack_free(&b);
    sptt_pack_free(&a);
}

Test(pack, same_content_same_bytes)
{
    sptt_pack a;
    char p1[128], p2[128];
    uint8_t *d1, *d2;
    size_t n1, n2;
    make_pack(&a, 0);
    path_of(p1, sizeof p1, "1.sptt");
    path_of(p2, sizeof p2, "2.sptt");
    cr_assert_eq(sptt_pack_write(p1, &a, 3), SPTT_OK);
    cr_assert_eq(sptt_pack_write(p2, &a, 3), SPTT_OK);
    cr_assert_eq(sptt_read_file(p1, &d1, &n1), SPTT_OK);
    cr_assert_eq(sptt_read_file(p2, &d2, &n2), SPTT_OK);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(d1, d2, n1) == 0);
    free(d1); free(d2);
    sptt_pack_free(&a);
}

/* Writes a pack, damages it with f, and returns the reader's verdict. */
static int read_damaged(void (*f)(uint8_t *, size_t *), const char *zName)
{
    sptt_pack a, b;
    char path[128];
    uint8_t *d;
    size_t n;
    make_pack(&a, 1);
    path_of(path, sizeof path, zName);
    cr_assert_eq(sptt_pack_write(path, &a, 3), SPTT_OK);
    sptt_pack_free(&a);
    cr_assert_eq(sptt_read_file(path, &d, &n), SPTT_OK);
    f(d, &n);
    cr_assert_eq(sptt_write_file(path, d, n), SPTT_OK);
    free(d);
    int rc = sptt_pack_read(path, 0, &b);
    cr_assert_null(b.xyz, "a refused pack must leave nothing allocated");
    return rc;
}

/* Offset of a section's payload, read from the table like any reader would. */
static size_t section_offset(const uint8_t *d, const char *zId)
{
    uint32_t n = sptt_le32(d + 12);
    for(uint32_t i = 0; i < n; i++){
        const uint8_t *q = d + 32 + 48 * i;
        if( memcmp(q, zId, 4) == 0 ) return (size_t)sptt_le64(q + 8);
    }
    cr_assert_fail("section %s not in table", zId);
    return 0;
}

static void flip_points(uint8_t *d, size_t *n) { (void)n; d[section_offset(d, "PNTS") + 20] ^= 0x10; }
static void flip_traj(uint8_t *d, size_t *n) { (void)n; d[section_offset(d, "TRAJ") + 9] ^= 0x01; }
static void truncate_end(uint8_t *d, size_t *n) { (void)d; *n -= 7; }
static void flip_table(uint8_t *d, size_t *n) { (void)n; d[32 + 48 + 20] ^= 0x40; }
static void bad_magic(uint8_t *d, size_t *n) { (void)n; d[3] = 'X'; }
static void newer_version(uint8_t *d, size_t *n) { (void)n; d[8] = 2; }

Test(pack, bit_flip_names_the_section)
{
    cr_assert_eq(read_damaged(flip_points, "f1.sptt"), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "section 'points'") != NULL, "%s", sptt_errmsg());
    cr_assert(strstr(sptt_errmsg(), "checksum") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(read_damaged(flip_traj, "f2.sptt"), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "section 'trajectory'") != NULL, "%s", sptt_errmsg());
}

Test(pack, truncation_and_header_damage_refused)
{
    cr_assert_eq(read_damaged(truncate_end, "t.sptt"), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "truncated") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(read_damaged(flip_table, "h.sptt"), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "table checksum") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(read_damaged(bad_magic, "m.sptt"), SPTT_EFORMAT);
    cr_assert(strstr(sptt_errmsg(), "magic") != NULL, "%s", sptt_errmsg());
    cr_assert_eq(read_damaged(newer_version, "v.sptt"), SPTT_EVERSION);
    cr_assert(strstr(sptt_errmsg(), "version 2") != NULL, "%s", sptt_errmsg());
}

Test(pack, invalid_values_refused_at_write_time_content)
{
    sptt_pack a, b;
    char path[128];
    make_pack(&a, 0);
    a.faces[10] = 5000;   /* beyond the 1000 points */
    path_of(path, sizeof path, "bad_face.sptt");
    cr_assert_eq(sptt_pack_write(path, &a, 1), SPTT_OK);
    cr_assert_eq(sptt_pack_read(path, 0, &b), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "section 'faces': face 3 uses vertex 5000") != NULL, "%s", sptt_errmsg());
    a.faces[10] = 0;
    a.xyz[7] = NAN;
    path_of(path, sizeof path, "nan.sptt");
    cr_assert_eq(sptt_pack_write(path, &a, 1), SPTT_OK);
    cr_assert_eq(sptt_pack_read(path, 0, &b), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "point 2 has a non-finite") != NULL, "%s", sptt_errmsg());
    a.xyz[7] = 0;
    a.frames[2].c2w[0] = 2.0f;   /* no longer a rotation */
    path_of(path, sizeof path, "pose.sptt");
    cr_assert_eq(sptt_pack_write(path, &a, 1), SPTT_OK);
    cr_assert_eq(sptt_pack_read(path, 0, &b), SPTT_ECORRUPT);
    cr_assert(strstr(sptt_errmsg(), "frame 2: camera-to-world") != NULL, "%s", sptt_errmsg());
    sptt_pack_free(&a);
}

Test(pack, missing_file_named)
{
    sptt_pack b;
    cr_assert_eq(sptt_pack_read("/nonexistent/x.sptt", 0, &b), SPTT_EIO);
    cr_assert(strstr(sptt_errmsg(), "/nonexistent/x.sptt") != NULL);
}
