/*
** Deterministic random numbers (xoshiro256**, seeded by splitmix64) and XXH64 hashing.
**
** Both are written from their published definitions so that results do not depend on the C
** library: rand() and random() differ between libcs, which would break "same seed, same data".
*/
#include "sptt_common.h"

#include <math.h>
#include <string.h>

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sptt_rng_seed(sptt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for(int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

void sptt_rng_fork(sptt_rng *r, uint64_t stream, sptt_rng *child)
{
    /* Mixing the parent's state with the stream number without advancing the parent keeps
    ** every child independent of how many draws its siblings made. */
    uint64_t x = r->s[0] ^ rotl(r->s[2], 17) ^ (stream * 0xD1B54A32D192ED03ull);
    for(int i = 0; i < 4; i++) child->s[i] = splitmix64(&x);
}

uint64_t sptt_rng_u64(sptt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sptt_rng_unit(sptt_rng *r)
{
    return (double)(sptt_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double sptt_rng_uniform(sptt_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * sptt_rng_unit(r);
}

uint32_t sptt_rng_below(sptt_rng *r, uint32_t n)
{
    /* Lemire's multiply-and-reject: unbiased without a division in the common case. */
    uint64_t m;
    uint32_t lo;
    if( n==0 ) return 0;
    m = (uint64_t)(uint32_t)(sptt_rng_u64(r) >> 32) * n;
    lo = (uint32_t)m;
    if( lo < n ){
        uint32_t t = (uint32_t)(-n) % n;
        while( lo < t ){
            m = (uint64_t)(uint32_t)(sptt_rng_u64(r) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double sptt_rng_normal(sptt_rng *r)
{
    /* Box-Muller, one value per call: simpler to keep deterministic than a cached pair. */
    double u1 = sptt_rng_unit(r), u2 = sptt_rng_unit(r);
    if( u1 < 1e-300 ) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void sptt_rng_shuffle(sptt_rng *r, void *base, size_t n, size_t size)
{
    unsigned char tmp[256];
    unsigned char *a = base;
    if( n < 2 || size > sizeof tmp ) return;
    for(size_t i = n - 1; i > 0; i--){
        size_t j = sptt_rng_below(r, (uint32_t)(i + 1));
        if( j!=i ){
            memcpy(tmp, a + i * size, size);
            memcpy(a + i * size, a + j * size, size);
            memcpy(a + j * size, tmp, size);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
** XXH64
*/
#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static uint64_t xround(uint64_t acc, uint64_t in)
{
    acc += in * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}

static uint64_t xmerge(uint64_t acc, uint64_t v)
{
    acc ^= xround(0, v);
    return acc * P1 + P4;
}

void sptt_hash_init(sptt_hash *h)
{
    memset(h, 0, sizeof *h);
    h->v[0] = P1 + P2;
    h->v[1] = P2;
    h->v[2] = 0;
    h->v[3] = (uint64_t)0 - P1;
}

void sptt_hash_update(sptt_hash *h, const void *pData, size_t n)
{
    const uint8_t *p = pData;
    const uint8_t *end = p + n;
    h->total += n;
    if( h->memsize + n < 32 ){
        if( n ) memcpy(h->mem + h->memsize, p, n);
        h->memsize += (uint32_t)n;
        return;
    }
    if( h->memsize ){
        memcpy(h->mem + h->memsize, p, 32 - h->memsize);
        for(int i = 0; i < 4; i++) h->v[i] = xround(h->v[i], sptt_le64(h->mem + 8 * i));
        p += 32 - h->memsize;
        h->memsize = 0;
    }
    while( p + 32 <= end ){
        h->v[0] = xround(h->v[0], sptt_le64(p));
        h->v[1] = xround(h->v[1], sptt_le64(p + 8));
        h->v[2] = xround(h->v[2], sptt_le64(p + 16));
        h->v[3] = xround(h->v[3], sptt_le64(p + 24));
        p += 32;
    }
    if( p < end ){
        memcpy(h->mem, p, (size_t)(end - p));
        h->memsize = (uint32_t)(end - p);
    }
}

uint64_t sptt_hash_final(const sptt_hash *h)
{
    uint64_t acc;
    const uint8_t *p = h->mem;
    const uint8_t *end = p + h->memsize;
    if( h->total >= 32 ){
        acc = rotl(h->v[0], 1) + rotl(h->v[1], 7) + rotl(h->v[2], 12) + rotl(h->v[3], 18);
        for(int i = 0; i < 4; i++) acc = xmerge(acc, h->v[i]);
    }else{
        acc = h->v[2] + P5;
    }
    acc += h->total;
    while( p + 8 <= end ){
        acc ^= xround(0, sptt_le64(p));
        acc = rotl(acc, 27) * P1 + P4;
        p += 8;
    }
    if( p + 4 <= end ){
        acc ^= (uint64_t)sptt_le32(p) * P1;
        acc = rotl(acc, 23) * P2 + P3;
        p += 4;
    }
    while( p < end ){
        acc ^= (*p) * P5;
        acc = rotl(acc, 11) * P1;
        p++;
    }
    acc ^= acc >> 33;
    acc *= P2;
    acc ^= acc >> 29;
    acc *= P3;
    acc ^= acc >> 32;
    return acc;
}

uint64_t sptt_hash64(const void *p, size_t n)
{
    sptt_hash h;
    sptt_hash_init(&h);
    sptt_hash_update(&h, p, n);
    return sptt_hash_final(&h);
}
