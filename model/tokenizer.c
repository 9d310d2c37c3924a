/*
** Text tokenizer: byte-level byte-pair encoding with digits split.
**
** Why this choice. The dataset's text is templated spatial question answering: object names, room
** words, numbers with units ("2.4 meters", "3 chairs"), short answers. Three properties matter:
**   - nothing is ever unknown: every byte has an id, so an unseen object name or a stray UTF-8
**     character still encodes losslessly and decodes back to the same bytes;
**   - numbers are compositional: each digit is its own piece and is never merged, so "12" and "21"
**     share their parts and the model can learn counting and distance answers digit by digit
**     instead of memorising one id per number seen in training;
**   - a small vocabulary fits the small from-scratch model: merges are learned from the corpus
**     itself, so frequent words become one id while the budget stays a few thousand ids.
** Word pieces would need an unknown token or a byte fallback to get the first property; BPE over
** bytes gets it for free. Merges never cross piece boundaries: a piece is one digit, a run of
** letters (bytes >= 0x80 count as letters so UTF-8 words stay whole) or of punctuation, each
** optionally led by one space, or a run of other white space.
**
** Ids: 7 specials, then the 256 bytes, then merge k as id SPTT_TOK_BASE + k. Training takes the
** most frequent adjacent pair, ties broken by the smallest (left, right) ids, so the same corpus
** always gives the same merges.
*/
#include "sptt_model.h"

#include <stdlib.h>
#include <string.h>

struct sptt_tokenizer {
    int nMerge;
    int32_t *aMerge;        /* (nMerge, 2) */
    /* pair -> rank, open addressing; key (a<<32)|b, 0 = empty (ids are >= 7 so no real key is 0) */
    uint64_t *aKey;
    int32_t *aRank;
    size_t nSlot;
    /* bytes of every id, for decoding */
    uint32_t *aOff;         /* (vocab + 1) offsets into zPool */
    uint8_t *zPool;
};

static const char *const azSpecial[SPTT_N_SPECIAL] = {
    "<|pad|>", "<|bos|>", "<|eos|>", "<|video_start|>", "<|video_end|>", "<|answer|>", "<|patch|>"
};

/* ---------------------------------------------------------------------------------------------
** Pre-tokenisation
*/
#define CL_SPACE 0    /* ' ' */
#define CL_WS    1    /* other white space */
#define CL_DIGIT 2
#define CL_ALPHA 3
#define CL_PUNCT 4

static int byte_class(uint8_t c)
{
    if( c == ' ' ) return CL_SPACE;
    if( c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' ) return CL_WS;
    if( c >= '0' && c <= '9' ) return CL_DIGIT;
    if( (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ) return CL_ALPHA;
    return CL_PUNCT;
}

/* Length of the piece starting at z[0] (n > 0 bytes left). */
static size_t piece_len(const uint8_t *z, size_t n)
{
    int c0 = byte_class(z[0]);
    if( c0 == CL_SPACE && n > 1 && (byte_class(z[1]) == CL_ALPHA || byte_class(z[1]) == CL_PUNCT) ){
        int cls = byte_class(z[1]);
        size_t q = 2;
        while( q < n && byte_class(z[q]) == cls ) q++;
        return q;
    }
    if( c0 == CL_DIGIT ) return 1;
    if( c0 == CL_ALPHA || c0 == CL_PUNCT ){
        size_t q = 1;
        while( q < n && byte_class(z[q]) == c0 ) q++;
        return q;
    }
    size_t q = 1;
    while( q < n && (byte_class(z[q]) == CL_SPACE || byte_class(z[q]) == CL_WS) ) q++;
    /* leave a final space to lead the next word */
    if( q < n && q > 1 && z[q - 1] == ' ' && (byte_class(z[q]) == CL_ALPHA || byte_class(z[q]) == CL_PUNCT) ) q--;
    return q;
}

/* ---------------------------------------------------------------------------------------------
** A small u64 -> i64 hash map (open addressing, key 0 is empty).
*/
typedef struct u64map {
    uint64_t *aKey;
    int64_t *aVal;
    size_t nSlot;
    size_t nUsed;
} u64map;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static int u64map_init(u64map *m, size_t nHint)
{
    size_t n = 64;
    while( n < 2 * nHint ) n *= 2;
    m->aKey = sptt_calloc(n, sizeof *m->aKey);
    m->aVal = sptt_calloc(n, sizeof *m->aVal);
    m->nSlot = n;
    m->nUsed = 0;
    if( !m->aKey || !m->aVal ) return SPTT_ENOMEM;
    return SPTT_OK;
}

static void u64map_free(u64map *m)
{
    free(m->aKey);
    free(m->aVal);
    memset(m, 0, sizeof *m);
}

/* Slot of key, inserting it with value 0 if absent; -1 on allocation failure. */
static int64_t u64map_slot(u64map *m, uint64_t key)
{
retry:
    if( 2 * (m->nUsed + 1) > m->nSlot ){
        u64map g;
        if( u64map_init(&g, m->nSlot) ) { u64map_free(&g); return -1; }
        for(size_t i = 0; i < m->nSlot; i++){
            if( !m->aKey[i] ) continue;
            size_t j = mix64(m->aKey[i]) & (g.nSlot - 1);
            while( g.aKey[j] ) j = (j + 1) & (g.nSlot - 1);
            g.aKey[j] = m->aKey[i];
            g.aVal[j] = m->aVal[i];
            g.nUsed++;
        }
        u64map_free(m);
        *m = g;
        goto retry;
    }
    size_t j = mix64(key) & (m->nSlot - 1);
    while( m->aKey[j] && m->aKey[j] != key ) j = (j + 1) & (m->nSlot - 1);
    if( !m->aKey[j] ){
        m->aKey[j] = key;
        m->aVal[j] = 0;
        m->nUsed++;
    }
    return (int64_t)j;
}

/* ---------------------------------------------------------------------------------------------
** Building a tokenizer from its merges
*/
static int32_t merge_rank(const sptt_tokenizer *t, int32_t a, int32_t b)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t j = mix64(key) & (t->nSlot - 1);
    while( t->aKey[j] ){
        if( t->aKey[j] == key ) return t->aRank[j];
        j = (j + 1) & (t->nSlot - 1);
    }
    return -1;
}

int sptt_tokenizer_from_merges(const int32_t *aMerge, int nMerge, sptt_tokenizer **ppTok)
{
    int rc = SPTT_OK;
    *ppTok = NULL;
    if( nMerge < 0 || nMerge > (1 << 24) ) return sptt_fail(SPTT_EFORMAT, "tokenizer: %d merges out of range", nMerge);
    sptt_tokenizer *t = sptt_calloc(1, sizeof *t);
    if( !t ) return SPTT_ENOMEM;
    int nVocab = SPTT_TOK_BASE + nMerge;
    t->nMerge = nMerge;
    t->aMerge = sptt_malloc(sizeof(int32_t) * 2 * (size_t)(nMerge ? nMerge : 1));
    t->nSlot = 64;
    while( t->nSlot < 2 * (size_t)nMerge + 2 ) t->nSlot *= 2;
    t->aKey = sptt_calloc(t->nSlot, sizeof *t->aKey);
    t->aRank = sptt_calloc(t->nSlot, sizeof *t->aRank);
    t->aOff = sptt_calloc((size_t)nVocab + 1, sizeof *t->aOff);
    if( !t->aMerge || !t->aKey || !t->aRank || !t->aOff ){ rc = SPTT_ENOMEM; goto fail; }
    memcpy(t->aMerge, aMerge, sizeof(int32_t) * 2 * (size_t)nMerge);

    /* byte lengths first, then the pool */
    size_t nPool = 0;
    uint32_t *aLen = sptt_calloc((size_t)nVocab, sizeof *aLen);
    if( !aLen ){ rc = SPTT_ENOMEM; goto fail; }
    for(int i = 0; i < SPTT_N_SPECIAL; i++) aLen[i] = (uint32_t)strlen(azSpecial[i]);
    for(int i = 0; i < 256; i++) aLen[SPTT_TOK_BYTE0 + i] = 1;
    for(int k = 0; k < nMerge; k++){
        int32_t a = aMerge[2 * k], b = aMerge[2 * k + 1];
        if( a < SPTT_TOK_BYTE0 || b < SPTT_TOK_BYTE0 || a >= SPTT_TOK_BASE + k || b >= SPTT_TOK_BASE + k ){
            free(aLen);
            rc = sptt_fail(SPTT_EFORMAT, "tokenizer: merge %d: (%d, %d) refers to an undefined id", k, a, b);
            goto fail;
        }
        uint64_t len = (uint64_t)aLen[a] + aLen[b];
        if( len > (1u << 20) ){
            free(aLen);
            rc = sptt_fail(SPTT_EFORMAT, "tokenizer: merge %d is too long", k);
            goto fail;
        }
        aLen[SPTT_TOK_BASE + k] = (uint32_t)len;
        uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
        size_t j = mix64(key) & (t->nSlot - 1);
        while( t->aKey[j] && t->aKey[j] != key ) j = (j + 1) & (t->nSlot - 1);
        if( t->aKey[j] ){
            free(aLen);
            rc = sptt_fail(SPTT_EFORMAT, "tokenizer: merge %d repeats an earlier pair", k);
            goto fail;
        }
        t->aKey[j] = key;
        t->aRank[j] = k;
    }
    for(int i = 0; i < nVocab; i++){
        t->aOff[i] = (uint32_t)nPool;
        nPool += aLen[i];
    }
    t->aOff[nVocab] = (uint32_t)nPool;
    free(aLen);
    t->zPool = sptt_malloc(nPool + 1);
    if( !t->zPool ){ rc = SPTT_ENOMEM; goto fail; }
    for(int i = 0; i < SPTT_N_SPECIAL; i++) memcpy(t->zPool + t->aOff[i], azSpecial[i], strlen(azSpecial[i]));
    for(int i = 0; i < 256; i++) t->zPool[t->aOff[SPTT_TOK_BYTE0 + i]] = (uint8_t)i;
    for(int k = 0; k < nMerge; k++){
        int32_t a = aMerge[2 * k], b = aMerge[2 * k + 1];
        uint8_t *p = t->zPool + t->aOff[SPTT_TOK_BASE + k];
        uint32_t la = t->aOff[a + 1] - t->aOff[a];
        memcpy(p, t->zPool + t->aOff[a], la);
        memcpy(p + la, t->zPool + t->aOff[b], t->aOff[b + 1] - t->aOff[b]);
    }
    *ppTok = t;
    return SPTT_OK;
fail:
    sptt_tokenizer_free(t);
    return rc;
}

void sptt_tokenizer_free(sptt_tokenizer *t)
{
    if( !t ) return;
    free(t->aMerge);
    free(t->aKey);
    free(t->aRank);
    free(t->aOff);
    free(t->zPool);
    free(t);
}

int sptt_tokenizer_vocab(const sptt_tokenizer *t) { return SPTT_TOK_BASE + t->nMerge; }

const int32_t *sptt_tokenizer_merges(const sptt_tokenizer *t, int *pnMerge)
{
    *pnMerge = t->nMerge;
    return t->aMerge;
}

/* ---------------------------------------------------------------------------------------------
** Fitting
*/
typedef struct piece {
    int32_t *aSym;
    int nSym;
    int64_t count;
} piece;

/* Replaces every left-to-right, non-overlapping (a, b) in the symbols by id; returns the new length. */
static int merge_pair(int32_t *aSym, int n, int32_t a, int32_t b, int32_t id)
{
    int w = 0;
    for(int r = 0; r < n; ){
        if( r + 1 < n && aSym[r] == a && aSym[r + 1] == b ){
            aSym[w++] = id;
            r += 2;
        }else{
            aSym[w++] = aSym[r++];
        }
    }
    return w;
}

int sptt_tokenizer_fit(const char *const *azText, const size_t *anLen, int n, int vocab_size,
                       sptt_tokenizer **ppTok)
{
    int rc = SPTT_OK;
    u64map pieceMap = {0};    /* hash of piece bytes -> index+1 (collisions chained by probing on hash+k) */
    u64map pairs = {0};
    piece *aPiece = NULL;
    int nPiece = 0, nPieceAlloc = 0;
    int32_t *aMerge = NULL;
    int nMerge = 0;
    *ppTok = NULL;
    if( vocab_size < SPTT_TOK_BASE ){
        return sptt_fail(SPTT_EINVAL, "tokenizer: vocab_size %d is below the %d base ids", vocab_size, SPTT_TOK_BASE);
    }
    int nMergeMax = vocab_size - SPTT_TOK_BASE;
    aMerge = sptt_malloc(sizeof(int32_t) * 2 * (size_t)(nMergeMax ? nMergeMax : 1));
    if( !aMerge || u64map_init(&pieceMap, 1024) || u64map_init(&pairs, 1024) ){ rc = SPTT_ENOMEM; goto done; }

    /* unique pieces with counts; the piece's bytes are compared on a hash hit */
    for(int i = 0; i < n; i++){
        const uint8_t *z = (const uint8_t *)azText[i];
        size_t nz = anLen ? anLen[i] : strlen(azText[i]);
        for(size_t p = 0; p < nz; ){
            size_t len = piece_len(z + p, nz - p);
            uint64_t h = sptt_hash64(z + p, len);
            for(uint64_t probe = 0; ; probe++){
                uint64_t key = (h + probe) | 1;   /* never 0 */
                int64_t s = u64map_slot(&pieceMap, key);
                if( s < 0 ){ rc = SPTT_ENOMEM; goto done; }
                int64_t idx = pieceMap.aVal[s];
                if( idx == 0 ){
                    if( nPiece == nPieceAlloc ){
                        int nNew = nPieceAlloc ? 2 * nPieceAlloc : 256;
                        piece *pNew = sptt_realloc(aPiece, sizeof *aPiece * (size_t)nNew);
                        if( !pNew ){ rc = SPTT_ENOMEM; goto done; }
                        aPiece = pNew;
                        nPieceAlloc = nNew;
                    }
                    piece *pc = &aPiece[nPiece];
                    pc->aSym = sptt_malloc(sizeof(int32_t) * len);
                    if( !pc->aSym ){ rc = SPTT_ENOMEM; goto done; }
                    for(size_t k = 0; k < len; k++) pc->aSym[k] = SPTT_TOK_BYTE0 + z[p + k];
                    pc->nSym = (int)len;
                    pc->count = 1;
                    pieceMap.aVal[s] = ++nPiece;
                    break;
                }
                piece *pc = &aPiece[idx - 1];
                int same = pc->nSym == (int)len;
                for(size_t k = 0; same && k < len; k++) same = pc->aSym[k] == SPTT_TOK_BYTE0 + z[p + k];
                if( same ){ pc->count++; break; }
            }
            p += len;
        }
    }

    /* merges; digits never pair, so numbers stay one digit per id */
    while( nMerge < nMergeMax ){
        memset(pairs.aKey, 0, sizeof *pairs.aKey * pairs.nSlot);
        pairs.nUsed = 0;
        for(int i = 0; i < nPiece; i++){
            const piece *pc = &aPiece[i];
            for(int k = 0; k + 1 < pc->nSym; k++){
                uint64_t key = ((uint64_t)(uint32_t)pc->aSym[k] << 32) | (uint32_t)pc->aSym[k + 1];
                int64_t s = u64map_slot(&pairs, key);
                if( s < 0 ){ rc = SPTT_ENOMEM; goto done; }
                pairs.aVal[s] += pc->count;
            }
        }
        uint64_t best = 0;
        int64_t bestCount = 1;
        for(size_t s = 0; s < pairs.nSlot; s++){
            if( !pairs.aKey[s] ) continue;
            if( pairs.aVal[s] > bestCount || (pairs.aVal[s] == bestCount && bestCount > 1 && pairs.aKey[s] < best) ){
                best = pairs.aKey[s];
                bestCount = pairs.aVal[s];
            }
        }
        if( bestCount < 2 ) break;
        int32_t a = (int32_t)(best >> 32), b = (int32_t)(best & 0xffffffffu);
        int32_t id = SPTT_TOK_BASE + nMerge;
        aMerge[2 * nMerge] = a;
        aMerge[2 * nMerge + 1] = b;
        nMerge++;
        for(int i = 0; i < nPiece; i++) aPiece[i].nSym = merge_pair(aPiece[i].aSym, aPiece[i].nSym, a, b, id);
    }
    rc = sptt_tokenizer_from_merges(aMerge, nMerge, ppTok);
done:
    for(int i = 0; i < nPiece; i++) free(aPiece[i].aSym);
    free(aPiece);
    free(aMerge);
    u64map_free(&pieceMap);
    u64map_free(&pairs);
    return rc;
}

int sptt_tokenizer_fit_file(const char *zPath, int vocab_size, sptt_tokenizer **ppTok)
{
    uint8_t *p;
    size_t n;
    int rc = sptt_read_file(zPath, &p, &n);
    if( rc ) return rc;
    const char *z = (const char *)p;
    rc = sptt_tokenizer_fit(&z, &n, 1, vocab_size, ppTok);
    free(p);
    if( rc ) sptt_fail_prefix(rc, "%s: ", zPath);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Encoding and decoding
*/
int sptt_tokenizer_encode(const sptt_tokenizer *t, const char *zText, size_t nText,
                          int32_t **paOut, int *pnOut)
{
    const uint8_t *z = (const uint8_t *)zText;
    *paOut = NULL;
    *pnOut = 0;
    if( nText > (size_t)1 << 30 ) return sptt_fail(SPTT_EINVAL, "tokenizer: text of %zu bytes is too long", nText);
    int32_t *aOut = sptt_malloc(sizeof(int32_t) * (nText ? nText : 1));
    if( !aOut ) return SPTT_ENOMEM;
    int nOut = 0;
    for(size_t p = 0; p < nText; ){
        size_t len = piece_len(z + p, nText - p);
        int32_t *s = aOut + nOut;
        int ns = (int)len;
        for(size_t k = 0; k < len; k++) s[k] = SPTT_TOK_BYTE0 + z[p + k];
        for(;;){
            int32_t bestRank = -1;
            int32_t a = 0, b = 0;
            for(int k = 0; k + 1 < ns; k++){
                int32_t r = merge_rank(t, s[k], s[k + 1]);
                if( r >= 0 && (bestRank < 0 || r < bestRank) ){
                    bestRank = r;
                    a = s[k];
                    b = s[k + 1];
                }
            }
            if( bestRank < 0 ) break;
            ns = merge_pair(s, ns, a, b, SPTT_TOK_BASE + bestRank);
        }
        nOut += ns;
        p += len;
    }
    *paOut = aOut;
    *pnOut = nOut;
    return SPTT_OK;
}

char *sptt_tokenizer_decode(const sptt_tokenizer *t, const int32_t *aId, int n)
{
    sptt_buf b = {0};
    int nVocab = sptt_tokenizer_vocab(t);
    for(int i = 0; i < n; i++){
        if( aId[i] < 0 || aId[i] >= nVocab ){
            sptt_buf_printf(&b, "<|%d|>", aId[i]);
            continue;
        }
        sptt_buf_put(&b, t->zPool + t->aOff[aId[i]], t->aOff[aId[i] + 1] - t->aOff[aId[i]]);
    }
    sptt_buf_put(&b, "", 1);
    if( b.rc ){
        sptt_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

int sptt_tokenizer_save(const sptt_tokenizer *t, const char *zPath)
{
    sptt_buf b = {0};
    sptt_buf_put(&b, "SPTTBPE1", 8);
    sptt_buf_u32(&b, (uint32_t)t->nMerge);
    for(int k = 0; k < 2 * t->nMerge; k++) sptt_buf_i32(&b, t->aMerge[k]);
    int rc = b.rc ? b.rc : sptt_write_file(zPath, b.p, b.n);
    sptt_buf_free(&b);
    return rc;
}

int sptt_tokenizer_load(const char *zPath, sptt_tokenizer **ppTok)
{
    uint8_t *p = NULL;
    size_t n;
    int32_t *aMerge = NULL;
    *ppTok = NULL;
    int rc = sptt_read_file(zPath, &p, &n);
    if( rc ) return rc;
    if( n < 12 || memcmp(p, "SPTTBPE1", 8) != 0 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: not a tokenizer file (magic SPTTBPE1 expected)", zPath);
        goto done;
    }
    uint32_t nMerge = sptt_le32(p + 8);
    if( nMerge > (1u << 24) || n != 12 + (size_t)nMerge * 8 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: size %zu does not match %u merges", zPath, n, nMerge);
        goto done;
    }
    aMerge = sptt_malloc(sizeof(int32_t) * 2 * (nMerge ? nMerge : 1));
    if( !aMerge ){ rc = SPTT_ENOMEM; goto done; }
    for(uint32_t k = 0; k < 2 * nMerge; k++) aMerge[k] = (int32_t)sptt_le32(p + 12 + 4 * (size_t)k);
    rc = sptt_tokenizer_from_merges(aMerge, (int)nMerge, ppTok);
    if( rc ) sptt_fail_prefix(rc, "%s: ", zPath);
done:
    free(aMerge);
    free(p);
    return rc;
}
