/*
** The trainer's data path (sptt_data.h): frames out of scene packs, examples made into samples,
** and the loader thread that prepares batches ahead of the training step.
**
** Determinism. A batch is a pure function of (options, position): the thread makes batches in
** position order, and the frame cache only decides whether a scene's frames are decoded again,
** never what they are. So thread timing changes when a batch is ready, not what it holds.
**
** Hand-over. The loader owns depth + 1 slots: the batch the caller holds (valid until its next
** call) and up to depth batches made ahead. Batch k lives in slot k % (depth + 1); the thread may
** make batch k only while k < taken + depth, which keeps it off the caller's slot. Slots are
** written by the thread outside the lock and read by the caller after the count that publishes
** them was raised under the lock.
*/
#include "sptt_data.h"
#include "sptt_image.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* ---------------------------------------------------------------------------------------------
** Frames
*/

uint64_t sptt_frame_index(int i, int n, uint64_t N)
{
    if( n <= 1 || N <= 1 || i <= 0 ) return 0;
    if( i >= n ) i = n - 1;
    /* floor(i * (N-1) / (n-1) + 1/2) in integers, so no walk length meets a rounding surprise. */
    return (2 * (uint64_t)i * (N - 1) + (uint64_t)(n - 1)) / (2 * (uint64_t)(n - 1));
}

/* Makes the message name the scene, unless it already does (the dataset's own messages do). */
static int name_scene(int rc, const char *zScene)
{
    char zNeedle[SPTT_SCENE_NAME_MAX + 16];
    snprintf(zNeedle, sizeof zNeedle, "scene '%s'", zScene);
    if( strstr(sptt_errmsg(), zNeedle)==NULL ) sptt_fail_prefix(rc, "%s: ", zNeedle);
    return rc;
}

/* RGB bytes to the model's values (the rule in sptt_data.h). */
static void rgb_to_float(const uint8_t *rgb, size_t n, float *out)
{
    float aLut[256];
    for(int v = 0; v < 256; v++) aLut[v] = (float)(v / 127.5 - 1.0);
    for(size_t i = 0; i < n; i++) out[i] = aLut[rgb[i]];
}

/* Refuses a pack that has no frames to show. */
static int pack_check(const sptt_pack *p, const char *zScene, const char *zDb)
{
    if( p->nFrames==0 ){
        return sptt_fail(SPTT_ESTATE, "scene '%s': its pack has no camera walk, so there are no frames to train on "
                         "(train it text only, with 0 frames)", zScene);
    }
    if( p->imgEncoding==SPTT_IMG_NONE ){
        return sptt_fail(SPTT_ESTATE, "scene '%s': its pack has no frame images; render them with "
                         "`sptt-annotate --db %s --scene %s --render-frames WxH`", zScene, zDb, zScene);
    }
    if( p->imgEncoding!=SPTT_IMG_JPEG && p->imgEncoding!=SPTT_IMG_RGB8 ){
        return sptt_fail(SPTT_EFORMAT, "scene '%s': pack image encoding %u is not one this toolkit reads", zScene,
                         p->imgEncoding);
    }
    return SPTT_OK;
}

/* Frame k of a checked pack as RGB bytes (H, W, 3) at the model's frame size. */
static int pack_frame(void *tj, const sptt_pack *p, const char *zScene, const sptt_config *cfg, uint64_t k, uint8_t *out)
{
    int W = cfg->frame_w, H = cfg->frame_h, rc = SPTT_OK;
    size_t nPix = (size_t)W * (size_t)H * 3;
    const uint8_t *a = p->imgData + p->imgOffsets[k];
    size_t len = (size_t)(p->imgOffsets[k + 1] - p->imgOffsets[k]);
    if( p->imgEncoding==SPTT_IMG_JPEG ){
        char zWhat[SPTT_SCENE_NAME_MAX + 48];
        snprintf(zWhat, sizeof zWhat, "scene '%s' frame %llu", zScene, (unsigned long long)k);
        rc = sptt_image_jpeg_to_rgb(tj, a, len, (int)p->imgWidth, (int)p->imgHeight, W, H, out, zWhat);
    }else if( (uint32_t)W==p->imgWidth && (uint32_t)H==p->imgHeight ){
        memcpy(out, a, nPix);
    }else{
        rc = sptt_image_resize_rgb(a, (int)p->imgWidth, (int)p->imgHeight, out, W, H);
        if( rc ) sptt_fail_prefix(rc, "scene '%s' frame %llu: ", zScene, (unsigned long long)k);
    }
    return rc;
}

/* The frames of a pack already read, as RGB bytes (n, H, W, 3). */
static int pack_frames(void *tj, const sptt_pack *p, const char *zScene, const char *zDb, const sptt_config *cfg, int n,
                       uint8_t *rgb)
{
    size_t nPix = (size_t)cfg->frame_w * (size_t)cfg->frame_h * 3;
    uint64_t prev = UINT64_MAX;
    int rc = pack_check(p, zScene, zDb);
    for(int i = 0; i < n && rc==SPTT_OK; i++){
        uint64_t k = sptt_frame_index(i, n, p->nFrames);
        uint8_t *out = rgb + (size_t)i * nPix;
        if( k==prev ){
            /* a walk shorter than n: the same frame again, already decoded */
            memcpy(out, out - nPix, nPix);
            continue;
        }
        prev = k;
        rc = pack_frame(tj, p, zScene, cfg, k, out);
    }
    return rc;
}

/* A scene's frames as RGB bytes, with the caller's decoder. */
static int scene_frames_rgb(sqlite3 *db, void *tj, const char *zScene, const sptt_config *cfg, int n, uint8_t *rgb)
{
    sptt_scene_row r;
    sptt_pack p;
    const char *zDb = sqlite3_db_filename(db, "main");
    int rc;
    memset(&p, 0, sizeof p);
    if( (rc = sptt_scene_get(db, zScene, &r)) ) return rc;
    rc = sptt_scene_read_pack(&r, 0, &p);
    if( rc ) name_scene(rc, zScene);
    else rc = pack_frames(tj, &p, zScene, zDb && zDb[0] ? zDb : "DB", cfg, n, rgb);
    sptt_pack_free(&p);
    sptt_scene_row_free(&r);
    return rc;
}

int sptt_scene_frames(sqlite3 *db, const char *zScene, const sptt_config *cfg, int nFrames, float *pixels)
{
    tjhandle tj;
    uint8_t *rgb;
    size_t nPix;
    int rc;
    if( db==NULL || zScene==NULL || cfg==NULL || pixels==NULL ) return sptt_fail(SPTT_EINVAL, "scene frames: an argument is NULL");
    if( (rc = sptt_config_validate(cfg)) ) return rc;
    if( nFrames < 1 ) return sptt_fail(SPTT_EINVAL, "scene '%s': %d frames asked for; at least 1 is needed", zScene, nFrames);
    nPix = (size_t)nFrames * (size_t)cfg->frame_h * (size_t)cfg->frame_w * 3;
    if( (rgb = sptt_malloc(nPix))==NULL ) return SPTT_ENOMEM;
    if( (tj = tjInitDecompress())==NULL ){
        free(rgb);
        return sptt_fail(SPTT_ENOMEM, "turbojpeg: %s", tjGetErrorStr2(NULL));
    }
    rc = scene_frames_rgb(db, tj, zScene, cfg, nFrames, rgb);
    if( rc==SPTT_OK ) rgb_to_float(rgb, nPix, pixels);
    tjDestroy(tj);
    free(rgb);
    return rc;
}

/* A walk read frame by frame: the pack of the scene being walked is kept, so a scene is read once
** when the frames asked for only grow. */
struct sptt_walk_reader {
    sqlite3 *db;
    const char *zDb;
    const sptt_walk_part *aPart;
    int nPart;
    sptt_config cfg;
    uint64_t nAll;
    int at;                       /* the part whose pack p holds; -1: none */
    uint64_t off;                 /* frames of the parts before it */
    uint64_t prev;                /* the last frame read; UINT64_MAX: none */
    sptt_pack p;
    tjhandle tj;
    uint8_t *rgb;                 /* one frame (H, W, 3) */
};

int sptt_walk_reader_open(sqlite3 *db, const sptt_walk_part *aPart, int nPart, const sptt_config *cfg, sptt_walk_reader **ppR)
{
    sptt_walk_reader *r;
    int rc;
    *ppR = NULL;
    if( db==NULL || aPart==NULL || cfg==NULL ) return sptt_fail(SPTT_EINVAL, "walk frames: an argument is NULL");
    if( (rc = sptt_config_validate(cfg)) ) return rc;
    if( (r = sptt_calloc(1, sizeof *r))==NULL ) return SPTT_ENOMEM;
    r->db = db;
    r->zDb = sqlite3_db_filename(db, "main");
    if( r->zDb==NULL || r->zDb[0]==0 ) r->zDb = "DB";
    r->aPart = aPart;
    r->nPart = nPart;
    r->cfg = *cfg;
    r->at = -1;
    r->prev = UINT64_MAX;
    for(int j = 0; j < nPart; j++) r->nAll += aPart[j].nFrames;
    r->rgb = sptt_malloc((size_t)cfg->frame_h * (size_t)cfg->frame_w * 3);
    r->tj = tjInitDecompress();
    if( r->rgb==NULL || r->tj==NULL ){
        rc = r->rgb ? sptt_fail(SPTT_ENOMEM, "turbojpeg: %s", tjGetErrorStr2(NULL)) : SPTT_ENOMEM;
        sptt_walk_reader_close(r);
        return rc;
    }
    *ppR = r;
    return SPTT_OK;
}

int sptt_walk_reader_frame(sptt_walk_reader *r, uint64_t g, float *pixels)
{
    int rc;
    if( g >= r->nAll || (r->prev!=UINT64_MAX && g < r->prev) ){
        return sptt_fail(SPTT_EINVAL, "walk frames: frame %llu of a walk of %llu, after frame %lld", (unsigned long long)g,
                         (unsigned long long)r->nAll, r->prev==UINT64_MAX ? -1LL : (long long)r->prev);
    }
    /* frames only grow, so the scenes are read in walking order, each once */
    int j = r->at < 0 ? 0 : r->at;
    uint64_t off = r->at < 0 ? 0 : r->off;
    while( g >= off + r->aPart[j].nFrames ){
        off += r->aPart[j].nFrames;
        j++;
    }
    if( j!=r->at ){
        const char *zScene = r->aPart[j].zScene;
        sptt_scene_row row;
        sptt_pack_free(&r->p);
        memset(&r->p, 0, sizeof r->p);
        r->at = -1;
        if( (rc = sptt_scene_get(r->db, zScene, &row)) ) return rc;
        rc = sptt_scene_read_pack(&row, 0, &r->p);
        sptt_scene_row_free(&row);
        if( rc ) return name_scene(rc, zScene);
        if( (rc = pack_check(&r->p, zScene, r->zDb)) ) return rc;
        if( r->p.nFrames!=r->aPart[j].nFrames ){
            return sptt_fail(SPTT_ESTATE, "scene '%s': its walk has %llu frames where the stream expects %llu (make the streams again)",
                             zScene, (unsigned long long)r->p.nFrames, (unsigned long long)r->aPart[j].nFrames);
        }
        r->at = j;
        r->off = off;
    }
    if( (rc = pack_frame(r->tj, &r->p, r->aPart[j].zScene, &r->cfg, g - off, r->rgb)) ) return rc;
    rgb_to_float(r->rgb, (size_t)r->cfg.frame_h * (size_t)r->cfg.frame_w * 3, pixels);
    r->prev = g;
    return SPTT_OK;
}

void sptt_walk_reader_close(sptt_walk_reader *r)
{
    if( r==NULL ) return;
    sptt_pack_free(&r->p);
    if( r->tj ) tjDestroy(r->tj);
    free(r->rgb);
    free(r);
}

int sptt_walk_frames(sqlite3 *db, const sptt_walk_part *aPart, int nPart, uint64_t nUpTo, const sptt_config *cfg, int nFrames,
                     float *pixels)
{
    sptt_walk_reader *r = NULL;
    uint64_t nAll = 0, prev = UINT64_MAX;
    size_t nPix;
    int rc;
    if( db==NULL || aPart==NULL || cfg==NULL || pixels==NULL ) return sptt_fail(SPTT_EINVAL, "walk frames: an argument is NULL");
    if( (rc = sptt_config_validate(cfg)) ) return rc;
    for(int j = 0; j < nPart; j++) nAll += aPart[j].nFrames;
    if( nFrames < 1 || nUpTo < 1 || nUpTo > nAll ){
        return sptt_fail(SPTT_EINVAL, "walk frames: %d frames of the first %llu of a walk of %llu", nFrames, (unsigned long long)nUpTo,
                         (unsigned long long)nAll);
    }
    nPix = (size_t)cfg->frame_h * (size_t)cfg->frame_w * 3;
    if( (rc = sptt_walk_reader_open(db, aPart, nPart, cfg, &r)) ) return rc;
    for(int i = 0; i < nFrames && rc==SPTT_OK; i++){
        uint64_t g = sptt_frame_index(i, nFrames, nUpTo);
        float *out = pixels + (size_t)i * nPix;
        if( g==prev ){
            memcpy(out, out - nPix, sizeof *out * nPix);
            continue;
        }
        prev = g;
        rc = sptt_walk_reader_frame(r, g, out);
    }
    sptt_walk_reader_close(r);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Samples
*/

static int check_data_opts(const sptt_data_opts *o)
{
    int rc;
    if( o==NULL || o->cfg==NULL || o->tok==NULL ) return sptt_fail(SPTT_EINVAL, "data options: cfg and tok are required");
    if( (rc = sptt_config_validate(o->cfg)) ) return rc;
    if( o->nFrames < 0 || o->nFrames % o->cfg->temporal_patch ){
        return sptt_fail(SPTT_EINVAL, "data options: nFrames %d; an even number is needed (0 for text only)", o->nFrames);
    }
    if( o->maxAnswerTokens < 0 ) return sptt_fail(SPTT_EINVAL, "data options: maxAnswerTokens %d is negative", o->maxAnswerTokens);
    if( sptt_tokenizer_vocab(o->tok) > o->cfg->vocab_size ){
        return sptt_fail(SPTT_EINVAL, "data options: the tokenizer's %d ids do not fit the model's vocab_size %d",
                         sptt_tokenizer_vocab(o->tok), o->cfg->vocab_size);
    }
    return SPTT_OK;
}

/* The sample of an example whose frames (when o->nFrames > 0) are in px, or as bytes in rgb;
** options checked. */
static int make_sample(const sptt_data_opts *o, const sptt_example *e, const float *px, const uint8_t *rgb, sptt_sample *s)
{
    const char *zPrompt;
    int32_t *aPrompt = NULL, *aAnswer = NULL;
    int nPrompt = 0, nAnswer = 0, cut = 0, rc;
    memset(s, 0, sizeof *s);
    if( e->zKind && strcmp(e->zKind, "description")==0 ){
        zPrompt = o->zInstruction ? o->zInstruction : "";
    }else if( e->zPrompt==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "a %s question without a stored prompt", e->zKind ? e->zKind : "(kindless)");
        goto done;
    }else{
        zPrompt = e->zPrompt;
    }
    if( e->zAnswer==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "no answer");
        goto done;
    }
    if( (rc = sptt_tokenizer_encode(o->tok, zPrompt, strlen(zPrompt), &aPrompt, &nPrompt)) ) goto done;
    if( (rc = sptt_tokenizer_encode(o->tok, e->zAnswer, strlen(e->zAnswer), &aAnswer, &nAnswer)) ) goto done;
    if( o->maxAnswerTokens > 0 && nAnswer > o->maxAnswerTokens ){
        nAnswer = o->maxAnswerTokens;
        cut = 1;
    }
    rc = sptt_sample_build(o->cfg, aPrompt, nPrompt, aAnswer, nAnswer, o->nFrames, px, s);
    if( rc==SPTT_OK && rgb && o->nFrames > 0 ){
        rgb_to_float(rgb, (size_t)o->nFrames * (size_t)o->cfg->frame_h * (size_t)o->cfg->frame_w * 3, s->pixels);
    }
    /* The last answer token predicts the EOS; after a cut that would teach stopping mid-text. */
    if( rc==SPTT_OK && cut ) s->targets[s->n_tokens - 2] = -1;
done:
    if( rc ) sptt_fail_prefix(rc, "example %lld of scene '%s': ", (long long)e->id, e->zScene ? e->zScene : "?");
    free(aPrompt);
    free(aAnswer);
    return rc;
}

int sptt_example_sample(sqlite3 *db, const sptt_data_opts *o, const sptt_example *e, const float *pixels, sptt_sample *s)
{
    float *own = NULL;
    int rc;
    memset(s, 0, sizeof *s);
    if( e==NULL ) return sptt_fail(SPTT_EINVAL, "example sample: no example");
    if( (rc = check_data_opts(o)) ) return rc;
    if( o->nFrames > 0 && pixels==NULL ){
        size_t n = (size_t)o->nFrames * (size_t)o->cfg->frame_h * (size_t)o->cfg->frame_w * 3;
        if( db==NULL ) return sptt_fail(SPTT_EINVAL, "example %lld: neither frames nor a dataset to read them from", (long long)e->id);
        if( e->zScene==NULL ) return sptt_fail(SPTT_EINVAL, "example %lld: no scene", (long long)e->id);
        own = sptt_malloc(n * sizeof(float));
        if( own==NULL ) return SPTT_ENOMEM;
        rc = sptt_scene_frames(db, e->zScene, o->cfg, o->nFrames, own);
        pixels = own;
    }
    if( rc==SPTT_OK ) rc = make_sample(o, e, pixels, NULL, s);
    free(own);
    return rc;
}

int sptt_epoch_permutation(uint64_t seed, int64_t epoch, int n, int *aPerm)
{
    sptt_rng root, r;
    if( n < 0 || epoch < 0 ) return sptt_fail(SPTT_EINVAL, "epoch permutation: epoch %lld of %d examples", (long long)epoch, n);
    for(int i = 0; i < n; i++) aPerm[i] = i;
    /* Its own stream of the seed ('EPOCH'), one child per epoch: epoch e's order does not depend
    ** on how many epochs came before, so a resumed run draws it directly. */
    sptt_rng_seed(&root, seed ^ 0x45504f4348ULL);
    sptt_rng_fork(&root, (uint64_t)epoch, &r);
    sptt_rng_shuffle(&r, aPerm, (size_t)n, sizeof(int));
    return SPTT_OK;
}

size_t sptt_example_length(const sptt_data_opts *o, const sptt_example *e)
{
    const char *zPrompt = e->zPrompt ? e->zPrompt : o->zInstruction ? o->zInstruction : "";
    size_t nAnswer = e->zAnswer ? strlen(e->zAnswer) : 0;
    /* About four bytes a token: an answer the sample will cut counts as its cut length. */
    if( o->maxAnswerTokens > 0 && nAnswer > (size_t)o->maxAnswerTokens * 4 ) nAnswer = (size_t)o->maxAnswerTokens * 4;
    return strlen(zPrompt) + nAnswer;
}

typedef struct len_key {
    size_t len;
    int at;                   /* position in the window: ties keep the permutation's order */
    int ex;
} len_key;

static int len_key_cmp(const void *a, const void *b)
{
    const len_key *x = a, *y = b;
    if( x->len!=y->len ) return x->len < y->len ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

int sptt_epoch_order(uint64_t seed, int64_t epoch, int n, const size_t *aLen, int64_t nGlobal, int nWindow, int *aOrder)
{
    sptt_rng root, r;
    len_key *aKey = NULL;
    int64_t lead, per;
    int rc = sptt_epoch_permutation(seed, epoch, n, aOrder);
    if( rc || nWindow <= 0 || n==0 ) return rc;
    if( nGlobal < 1 || aLen==NULL ) return sptt_fail(SPTT_EINVAL, "epoch order: global batch %lld", (long long)nGlobal);
    /* The global batches of a run begin at multiples of nGlobal: the epoch's first `lead`
    ** positions finish the batch begun in the epoch before and keep their place. */
    lead = (nGlobal - ((epoch % nGlobal) * (n % nGlobal)) % nGlobal) % nGlobal;
    if( lead > n ) lead = n;
    per = nGlobal * nWindow;
    if( per > n - lead ) per = n - lead;
    if( per > 0 && (aKey = sptt_malloc(sizeof *aKey * (size_t)per))==NULL ) return SPTT_ENOMEM;
    sptt_rng_seed(&root, seed ^ 0x4c454e475448ULL);   /* its own stream ('LENGTH') */
    sptt_rng_fork(&root, (uint64_t)epoch, &r);
    for(int64_t w0 = lead; w0 < n; w0 += per){
        int64_t m = n - w0 < per ? n - w0 : per, nFull = m / nGlobal;
        for(int64_t i = 0; i < m; i++){
            aKey[i].ex = aOrder[w0 + i];
            aKey[i].len = aLen[aKey[i].ex];
            aKey[i].at = (int)i;
        }
        qsort(aKey, (size_t)m, sizeof *aKey, len_key_cmp);
        /* The window's full batches in a drawn order; a partial batch (the epoch's last) stays
        ** last, where the next epoch's lead completes it. */
        {
            int64_t *aB = sptt_malloc(sizeof *aB * (size_t)(nFull ? nFull : 1));
            if( aB==NULL ){
                free(aKey);
                return SPTT_ENOMEM;
            }
            for(int64_t b = 0; b < nFull; b++) aB[b] = b;
            sptt_rng_shuffle(&r, aB, (size_t)nFull, sizeof *aB);
            for(int64_t b = 0; b < nFull; b++){
                for(int64_t j = 0; j < nGlobal; j++) aOrder[w0 + b * nGlobal + j] = aKey[aB[b] * nGlobal + j].ex;
            }
            for(int64_t i = nFull * nGlobal; i < m; i++) aOrder[w0 + i] = aKey[i].ex;
            free(aB);
        }
    }
    free(aKey);
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** The loader
*/

/* The frame cache keeps RGB bytes, a quarter of the floats' size, so its budget holds four times
** the scenes; the float map is redone per sample, at about the cost of the copy it replaces.
** Examples come in random order, so only a cache that holds a good part of the split's scenes
** saves reads. */
#define LOADER_CACHE_MIN 1
#define LOADER_CACHE_MAX 8192
#define LOADER_CACHE_MB  64
#define LOADER_MAX_DEPTH 64

typedef struct frame_entry {
    char *zScene;       /* NULL: the entry is empty */
    uint8_t *rgb;       /* (nFrames, frame_h, frame_w, 3) */
    uint64_t used;      /* tick of its last use */
} frame_entry;

typedef struct loader_slot {
    sptt_sample *a;     /* (batch) */
    int *aIndex;        /* (batch) indices into ex->a */
    int64_t posAfter;
    int rc;
    char zErr[1024];
} loader_slot;

struct sptt_loader {
    sptt_loader_opts o;       /* zDb and data.zInstruction point at the copies below */
    char *zDb, *zInstruction;
    int nSlot;                /* depth + 1 */
    loader_slot *aSlot;
    int64_t start;            /* position at the open */
    int64_t nGlobal;          /* batch * nRank */
    size_t nFrameBytes;       /* one scene's frames as RGB bytes */

    /* The thread's own. */
    sqlite3 *db;
    tjhandle tj;
    int *aPerm;
    int64_t permEpoch;        /* the epoch aPerm holds; -1: none */
    size_t *aLen;             /* each example's sptt_example_length, when grouping by length */
    frame_entry *aCache;
    int nCache;
    uint64_t tick;

    /* Shared, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int syncInit;             /* mu and cv exist */
    pthread_t thread;
    int started;
    int64_t nMade, nTaken;    /* batches made, batches handed to the caller */
    int stop;
    int failed;               /* the thread met an error and makes no more batches */
    double workSeconds;
    int64_t nSamples, nSceneReads, nSceneHits;
    atomic_int abortNow;      /* close: leave the batch being made at the next example */

    /* The caller's. */
    double waitSeconds;
    int rcSticky;
    char zSticky[1024];
    const int *aLastIndex;
};

/* The frames of a scene, from the cache or read into its least recently used entry. */
static int cached_frames(sptt_loader *L, const char *zScene, const uint8_t **pRgb, int64_t *pReads, int64_t *pHits)
{
    frame_entry *victim = NULL;
    int rc;
    for(int i = 0; i < L->nCache; i++){
        frame_entry *c = &L->aCache[i];
        if( c->zScene && strcmp(c->zScene, zScene)==0 ){
            c->used = ++L->tick;
            *pRgb = c->rgb;
            (*pHits)++;
            return SPTT_OK;
        }
        if( victim==NULL || (victim->zScene && (c->zScene==NULL || c->used < victim->used)) ) victim = c;
    }
    free(victim->zScene);
    victim->zScene = NULL;
    if( victim->rgb==NULL && (victim->rgb = sptt_malloc(L->nFrameBytes))==NULL ) return SPTT_ENOMEM;
    rc = scene_frames_rgb(L->db, L->tj, zScene, L->o.data.cfg, L->o.data.nFrames, victim->rgb);
    if( rc ) return rc;
    if( (victim->zScene = strdup(zScene))==NULL ) return sptt_fail(SPTT_ENOMEM, "out of memory");
    victim->used = ++L->tick;
    *pRgb = victim->rgb;
    (*pReads)++;
    return SPTT_OK;
}

/* Batch of this rank at global position pos into slot s. Returns -1 when close interrupted it. */
static int make_batch(sptt_loader *L, loader_slot *s, int64_t pos, int64_t *pReads, int64_t *pHits)
{
    const sptt_examples *ex = L->o.ex;
    int rc = SPTT_OK;
    for(int j = 0; j < L->o.batch; j++) sptt_sample_free(&s->a[j]);
    for(int j = 0; j < L->o.batch && rc==SPTT_OK; j++){
        int64_t q = pos + (int64_t)L->o.rank * L->o.batch + j;
        int64_t epoch = q / ex->n;
        const uint8_t *rgb = NULL;
        const sptt_example *e;
        if( atomic_load(&L->abortNow) ) return -1;
        if( epoch!=L->permEpoch ){
            if( (rc = sptt_epoch_order(L->o.seed, epoch, ex->n, L->aLen, L->nGlobal, L->o.lengthWindow, L->aPerm)) ) break;
            L->permEpoch = epoch;
        }
        s->aIndex[j] = L->aPerm[q % ex->n];
        e = &ex->a[s->aIndex[j]];
        if( L->o.data.nFrames > 0 ){
            if( e->zScene==NULL ){
                rc = sptt_fail(SPTT_EFORMAT, "example %lld: no scene", (long long)e->id);
                break;
            }
            rc = cached_frames(L, e->zScene, &rgb, pReads, pHits);
        }
        if( rc==SPTT_OK ) rc = make_sample(&L->o.data, e, NULL, rgb, &s->a[j]);
    }
    s->posAfter = pos + L->nGlobal;
    return rc;
}

static void *loader_main(void *pArg)
{
    sptt_loader *L = pArg;
    pthread_mutex_lock(&L->mu);
    for(;;){
        while( !L->stop && (L->failed || L->nMade >= L->nTaken + L->o.depth) ) pthread_cond_wait(&L->cv, &L->mu);
        if( L->stop ) break;
        int64_t k = L->nMade, nReads = 0, nHits = 0;
        loader_slot *s = &L->aSlot[k % L->nSlot];
        pthread_mutex_unlock(&L->mu);

        double t0 = sptt_now();
        int rc = make_batch(L, s, L->start + k * L->nGlobal, &nReads, &nHits);
        s->rc = rc;
        if( rc > 0 ) snprintf(s->zErr, sizeof s->zErr, "%s", sptt_errmsg());

        pthread_mutex_lock(&L->mu);
        L->workSeconds += sptt_now() - t0;
        L->nSceneReads += nReads;
        L->nSceneHits += nHits;
        if( rc < 0 || L->stop ) break;
        L->nSamples += rc ? 0 : L->o.batch;
        L->nMade++;
        if( rc ) L->failed = 1;
        pthread_cond_broadcast(&L->cv);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

int sptt_loader_open(const sptt_loader_opts *o, int64_t position, sptt_loader **pL)
{
    sptt_loader *L = NULL;
    int rc, err;
    *pL = NULL;
    if( o==NULL || o->zDb==NULL ) return sptt_fail(SPTT_EINVAL, "loader: no dataset");
    if( o->ex==NULL || o->ex->n < 1 ) return sptt_fail(SPTT_EINVAL, "loader: %s: no examples to train on", o->zDb);
    if( o->batch < 1 ) return sptt_fail(SPTT_EINVAL, "loader: batch %d; at least 1 is needed", o->batch);
    if( o->nRank < 1 || o->rank < 0 || o->rank >= o->nRank ){
        return sptt_fail(SPTT_EINVAL, "loader: rank %d of %d ranks is not one of them", o->rank, o->nRank);
    }
    if( o->depth < 0 || o->depth > LOADER_MAX_DEPTH ){
        return sptt_fail(SPTT_EINVAL, "loader: depth %d is not in [0, %d]", o->depth, LOADER_MAX_DEPTH);
    }
    if( position < 0 ) return sptt_fail(SPTT_EINVAL, "loader: position %lld is negative", (long long)position);
    if( o->cacheMB < 0 ) return sptt_fail(SPTT_EINVAL, "loader: cacheMB %d is negative", o->cacheMB);
    if( o->lengthWindow < 0 ) return sptt_fail(SPTT_EINVAL, "loader: length window %d is negative", o->lengthWindow);
    if( (rc = check_data_opts(&o->data)) ) return rc;

    if( (L = sptt_calloc(1, sizeof *L))==NULL ) return SPTT_ENOMEM;
    L->o = *o;
    if( L->o.depth==0 ) L->o.depth = 2;
    L->nSlot = L->o.depth + 1;
    L->start = position;
    L->nGlobal = (int64_t)o->batch * o->nRank;
    L->nFrameBytes = (size_t)o->data.nFrames * (size_t)o->data.cfg->frame_h * (size_t)o->data.cfg->frame_w * 3;
    if( L->nFrameBytes > 0 ){
        size_t budget = (size_t)(o->cacheMB ? o->cacheMB : LOADER_CACHE_MB) << 20, n = budget / L->nFrameBytes;
        L->nCache = n < LOADER_CACHE_MIN ? LOADER_CACHE_MIN : n > LOADER_CACHE_MAX ? LOADER_CACHE_MAX : (int)n;
    }
    L->permEpoch = -1;
    atomic_init(&L->abortNow, 0);
    L->zDb = strdup(o->zDb);
    L->zInstruction = o->data.zInstruction ? strdup(o->data.zInstruction) : NULL;
    if( L->zDb==NULL || (o->data.zInstruction && L->zInstruction==NULL) ){
        rc = sptt_fail(SPTT_ENOMEM, "out of memory");
        goto fail;
    }
    L->o.zDb = L->zDb;
    L->o.data.zInstruction = L->zInstruction;
    L->aSlot = sptt_calloc((size_t)L->nSlot, sizeof *L->aSlot);
    L->aPerm = sptt_malloc(sizeof(int) * (size_t)o->ex->n);
    L->aCache = L->nCache ? sptt_calloc((size_t)L->nCache, sizeof *L->aCache) : NULL;
    if( L->aSlot==NULL || L->aPerm==NULL || (L->nCache && L->aCache==NULL) ){
        rc = SPTT_ENOMEM;
        goto fail;
    }
    if( o->lengthWindow > 0 ){
        if( (L->aLen = sptt_malloc(sizeof *L->aLen * (size_t)o->ex->n))==NULL ){
            rc = SPTT_ENOMEM;
            goto fail;
        }
        for(int i = 0; i < o->ex->n; i++) L->aLen[i] = sptt_example_length(&L->o.data, &o->ex->a[i]);
    }
    for(int i = 0; i < L->nSlot; i++){
        L->aSlot[i].a = sptt_calloc((size_t)o->batch, sizeof(sptt_sample));
        L->aSlot[i].aIndex = sptt_calloc((size_t)o->batch, sizeof(int));
        if( L->aSlot[i].a==NULL || L->aSlot[i].aIndex==NULL ){
            rc = SPTT_ENOMEM;
            goto fail;
        }
    }
    if( (rc = sptt_dataset_open(L->zDb, SPTT_DB_READONLY, &L->db)) ) goto fail;
    if( (L->tj = tjInitDecompress())==NULL ){
        rc = sptt_fail(SPTT_ENOMEM, "turbojpeg: %s", tjGetErrorStr2(NULL));
        goto fail;
    }
    if( pthread_mutex_init(&L->mu, NULL) ){
        rc = sptt_fail(SPTT_ENOMEM, "loader: cannot make its lock");
        goto fail;
    }
    if( pthread_cond_init(&L->cv, NULL) ){
        pthread_mutex_destroy(&L->mu);
        rc = sptt_fail(SPTT_ENOMEM, "loader: cannot make its condition variable");
        goto fail;
    }
    L->syncInit = 1;
    if( (err = pthread_create(&L->thread, NULL, loader_main, L))!=0 ){
        rc = sptt_fail(SPTT_ENOMEM, "loader: cannot start its thread: %s", strerror(err));
        goto fail;
    }
    L->started = 1;
    *pL = L;
    return SPTT_OK;

fail:
    sptt_loader_close(L);
    return rc;
}

int sptt_loader_next(sptt_loader *L, const sptt_sample **paBatch, int64_t *pPosition)
{
    double t0 = sptt_now();
    loader_slot *s;
    *paBatch = NULL;
    if( L->rcSticky ) return sptt_fail(L->rcSticky, "%s", L->zSticky);
    pthread_mutex_lock(&L->mu);
    while( L->nMade <= L->nTaken ) pthread_cond_wait(&L->cv, &L->mu);
    s = &L->aSlot[L->nTaken % L->nSlot];
    L->nTaken++;
    /* the batch held until now is released: its slot may take the next batch ahead */
    pthread_cond_broadcast(&L->cv);
    pthread_mutex_unlock(&L->mu);
    L->waitSeconds += sptt_now() - t0;
    if( s->rc ){
        L->rcSticky = s->rc;
        snprintf(L->zSticky, sizeof L->zSticky, "%s", s->zErr);
        L->aLastIndex = NULL;
        return sptt_fail(L->rcSticky, "%s", L->zSticky);
    }
    *paBatch = s->a;
    L->aLastIndex = s->aIndex;
    if( pPosition ) *pPosition = s->posAfter;
    return SPTT_OK;
}

const int *sptt_loader_indices(const sptt_loader *L)
{
    return L->aLastIndex;
}

double sptt_loader_wait_seconds(const sptt_loader *L)
{
    return L->waitSeconds;
}

void sptt_loader_stats_get(sptt_loader *L, sptt_loader_stats *p)
{
    memset(p, 0, sizeof *p);
    p->waitSeconds = L->waitSeconds;
    pthread_mutex_lock(&L->mu);
    p->workSeconds = L->workSeconds;
    p->nSamples = L->nSamples;
    p->nSceneReads = L->nSceneReads;
    p->nSceneHits = L->nSceneHits;
    pthread_mutex_unlock(&L->mu);
}

void sptt_loader_close(sptt_loader *L)
{
    if( L==NULL ) return;
    if( L->started ){
        pthread_mutex_lock(&L->mu);
        L->stop = 1;
        atomic_store(&L->abortNow, 1);
        pthread_cond_broadcast(&L->cv);
        pthread_mutex_unlock(&L->mu);
        pthread_join(L->thread, NULL);
    }
    if( L->syncInit ){
        pthread_cond_destroy(&L->cv);
        pthread_mutex_destroy(&L->mu);
    }
    for(int i = 0; L->aSlot && i < L->nSlot; i++){
        for(int j = 0; L->aSlot[i].a && j < L->o.batch; j++) sptt_sample_free(&L->aSlot[i].a[j]);
        free(L->aSlot[i].a);
        free(L->aSlot[i].aIndex);
    }
    for(int i = 0; L->aCache && i < L->nCache; i++){
        free(L->aCache[i].zScene);
        free(L->aCache[i].rgb);
    }
    free(L->aCache);
    if( L->tj ) tjDestroy(L->tj);
    sptt_dataset_close(L->db);
    free(L->aSlot);
    free(L->aPerm);
    free(L->aLen);
    free(L->zDb);
    free(L->zInstruction);
    free(L);
}
