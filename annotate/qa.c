/*
** VSI-Bench-style spatial QA for one scene, by the public reference generator's rules: its
** categories, rounding, rejection rules and distractors.
**
** Every task follows one pattern: enumerate its candidates in a fixed order, apply the
** reference's rejection rules to all of them (the rejections are counted per reason for the run
** summary), shuffle the survivors with the task's own random stream and keep up to the cap
** (relative distance, whose combinations run into millions, samples a reservoir instead).
** The stream of a task is forked from the seed, the scene name and the task index, so the same
** seed gives byte-identical records and one task's draws never shift another's.
**
** Choices the reference leaves open, made here:
** - Numeric tasks store options and mc_answer as NULL (the schema's rule and VSI-Bench's test
**   format); the reference generator's multiple-choice variant of them (distractors by its
**   rules, answer at the least-used letter) is kept in meta as "mc_options" / "mc_answer".
** - Multiple-choice ground_truth is the answer text, mc_answer its letter (the raw record).
** - Letter balance is kept per scene and task, ties between least-used letters are broken by
**   the stream rather than always favouring A, so balance also holds over many scenes.
** - "Differs by at least EPS" between distractors is compared in whole units of the last decimal,
**   so two rounded values exactly EPS apart are accepted despite binary representation.
** - Default caps per scene (maxPerTask = 0) are in aDefaultCap below.
*/
#include "ann_content.h"
#include "sptt_math.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Questions per scene and task when the caller sets no cap. Counting, size and room size take
** every candidate, as the reference does; the pairwise and combinatorial tasks are capped so a
** cluttered scene does not dominate the dataset. */
static const int aDefaultCap[ANN_TASK_COUNT] = { INT_MAX, 10, INT_MAX, 1, 10, 10, 10, 10, 5, 10, 10, 10 };

/* ---------------------------------------------------------------------------------------------
** Multiple-choice distractors for numeric answers, by the reference's rules
*/
/*
** Three values drawn uniformly from [lo*gt, hi*gt] and rounded to d decimals, the whole draw
** repeated until every pair, and each value against gt, differ by at least
** EPS = ceil(gt * 0.2 * 10^d) / 10^d. gt is the rounded answer. Values go out as integers in
** units of 10^-d. Returns 0, or -1 when 1000 draws found no such set (the reference gives up too).
*/
int ann_numeric_distractors(sptt_rng *r, double gt, int d, double lo, double hi, long out[3])
{
    double scale = pow(10.0, d);
    long g = lround(gt * scale), eps;
    if( !(gt > 0) ) return -1;
    /* the same floating-point steps as the formula, so the boundary cases agree with it */
    eps = lround(ceil(gt * 0.2 * scale) / scale * scale);
    if( eps < 1 ) eps = 1;
    for(int tries = 0; tries < 1000; tries++){
        long v[3];
        int ok = 1;
        for(int k = 0; k < 3; k++) v[k] = lround(ann_round(sptt_rng_uniform(r, lo * gt, hi * gt), d) * scale);
        for(int k = 0; k < 3 && ok; k++){
            if( labs(v[k] - g) < eps ) ok = 0;
            for(int m = k + 1; m < 3 && ok; m++) if( labs(v[k] - v[m]) < eps ) ok = 0;
        }
        if( ok ){
            memcpy(out, v, sizeof v);
            return 0;
        }
    }
    return -1;
}

/*
** Count distractors: gt + offset for offsets drawn from {-3..3} without 0, each floored at 1;
** values equal to gt or already taken are passed over, and when the six offsets cannot give
** three values (small gt) +5 and -5 are tried. Returns 0 or -1.
*/
int ann_count_distractors(sptt_rng *r, long gt, long out[3])
{
    int off[6] = { -3, -2, -1, 1, 2, 3 }, extra[2] = { 5, -5 }, n = 0;
    sptt_rng_shuffle(r, off, 6, sizeof off[0]);
    for(int pass = 0; pass < 2 && n < 3; pass++){
        const int *src = pass==0 ? off : extra;
        int nSrc = pass==0 ? 6 : 2;
        for(int i = 0; i < nSrc && n < 3; i++){
            long v = gt + src[i];
            int dup = 0;
            if( v < 1 ) v = 1;
            if( v==gt ) continue;
            for(int k = 0; k < n; k++) if( out[k]==v ) dup = 1;
            if( !dup ) out[n++] = v;
        }
    }
    return n==3 ? 0 : -1;
}

/* The numeric record with its distractors; a failed draw rejects the question. */
static int numeric_question(ann_qa_ctx *c, const char *zQuestion, double gt, int d, double lo, double hi, int isCount,
                            json_t *objects, json_t *meta)
{
    char az[4][32];
    long v[3];
    int bad = isCount ? ann_count_distractors(&c->rng, lround(gt), v) : ann_numeric_distractors(&c->rng, gt, d, lo, hi, v);
    if( bad ){
        json_decref(objects);
        json_decref(meta);
        ann_qa_reject(c, "no distinct distractors");
        return SPTT_OK;
    }
    ann_fmt_round(gt, d, az[0], sizeof az[0]);
    for(int k = 0; k < 3; k++) ann_fmt_round(isCount ? (double)v[k] : (double)v[k] / pow(10.0, d), d, az[k + 1], sizeof az[0]);
    return ann_qa_push_numeric(c, zQuestion, az, objects, meta);
}

/* ---------------------------------------------------------------------------------------------
** Helpers for candidate lists
*/
static json_t *ids_of(const ann_qa_ctx *c, int k)
{
    const ann_cat *K = &c->cat->cat[k];
    json_t *a = json_array();
    for(int i = 0; i < K->nInst; i++) json_array_append_new(a, json_integer(c->s->obj[c->cat->member[K->first + i]].id));
    return a;
}

static json_t *cat_ref(const ann_qa_ctx *c, int k)
{
    return json_pack("{s:s,s:o}", "category", c->cat->cat[k].zName, "ids", ids_of(c, k));
}

static const char *cname(const ann_qa_ctx *c, int k) { return c->cat->cat[k].zName; }

/* ---------------------------------------------------------------------------------------------
** object_counting, object_size_estimation, room_size_estimation, object_abs_distance
*/
static int task_counting(ann_qa_ctx *c)
{
    int *cand = sptt_calloc((size_t)c->cat->nCat + 1, sizeof *cand), n = 0, keep, rc = SPTT_OK;
    if( !cand ) return SPTT_ENOMEM;
    for(int k = 0; k < c->cat->nCat; k++) if( c->cat->cat[k].nInst >= 2 ) cand[n++] = k;
    if( n==0 ) ann_qa_reject(c, "no category with two or more instances");
    keep = ann_qa_keep(c, cand, n, sizeof *cand);
    for(int i = 0; i < keep && rc==SPTT_OK; i++){
        char zQ[256];
        int k = cand[i];
        snprintf(zQ, sizeof zQ, "How many %s(s) are in this room?", cname(c, k));
        rc = numeric_question(c, zQ, c->cat->cat[k].nInst, 0, 0, 0, 1, cat_ref(c, k),
                              json_pack("{s:i}", "count", c->cat->cat[k].nInst));
    }
    free(cand);
    return rc;
}

static int task_size(ann_qa_ctx *c)
{
    int *cand = sptt_calloc((size_t)c->cat->nCat + 1, sizeof *cand), n = 0, keep, rc = SPTT_OK, nUnique = 0;
    if( !cand ) return SPTT_ENOMEM;
    for(int k = 0; k < c->cat->nCat; k++){
        const ann_object *o;
        if( !ann_catalog_unique(c->cat, k) ) continue;
        nUnique++;
        o = &c->s->obj[ann_catalog_only(c->cat, k)];
        if( ann_round(100 * fmax(o->box.size[0], fmax(o->box.size[1], o->box.size[2])), 0) < 1 ){
            ann_qa_reject(c, "longest edge under 1 cm");
            continue;
        }
        cand[n++] = k;
    }
    if( nUnique==0 ) ann_qa_reject(c, "no unique object");
    keep = ann_qa_keep(c, cand, n, sizeof *cand);
    for(int i = 0; i < keep && rc==SPTT_OK; i++){
        char zQ[256];
        int k = cand[i];
        const ann_object *o = &c->s->obj[ann_catalog_only(c->cat, k)];
        double longest = fmax(o->box.size[0], fmax(o->box.size[1], o->box.size[2]));
        snprintf(zQ, sizeof zQ, "What is the length of the longest dimension (length, width, or height) of the %s, "
                 "measured in centimeters?", cname(c, k));
        rc = numeric_question(c, zQ, ann_round(100 * longest, 0), 0, 0.4, 1.8, 0, cat_ref(c, k),
                              json_pack("{s:f,s:[f,f,f],s:i}", "longest_m", longest, "size_m", o->box.size[0],
                                        o->box.size[1], o->box.size[2], "id", o->id));
    }
    free(cand);
    return rc;
}

static int task_room_size(ann_qa_ctx *c)
{
    if( !(c->s->roomArea > 0) || c->cap < 1 ){
        ann_qa_reject(c, "room area unknown");
        return SPTT_OK;
    }
    return numeric_question(c, "What is the size of this room (in square meters)?\nIf multiple rooms are shown, "
                               "estimate the size of the combined space.",
                            ann_round(c->s->roomArea, 1), 1, 0.25, 1.75, 0, NULL,
                            json_pack("{s:f}", "area_m2", c->s->roomArea));
}

static int task_abs_distance(ann_qa_ctx *c)
{
    int (*cand)[2] = sptt_calloc((size_t)c->cat->nCat * (size_t)c->cat->nCat + 1, sizeof *cand), n = 0, keep, nU = 0;
    int rc = SPTT_OK;
    if( !cand ) return SPTT_ENOMEM;
    for(int a = 0; a < c->cat->nCat; a++){
        if( !ann_catalog_unique(c->cat, a) ) continue;
        nU++;
        for(int b = a + 1; b < c->cat->nCat; b++){
            if( !ann_catalog_unique(c->cat, b) ) continue;
            if( c->cat->dist[a * c->cat->nCat + b] < 0.2 ){
                ann_qa_reject(c, "closer than 0.2 m");
                continue;
            }
            cand[n][0] = a;
            cand[n++][1] = b;
        }
    }
    if( nU < 2 ) ann_qa_reject(c, "fewer than two unique objects");
    keep = ann_qa_keep(c, cand, n, sizeof *cand);
    for(int i = 0; i < keep && rc==SPTT_OK; i++){
        char zQ[384];
        int a = cand[i][0], b = cand[i][1];
        double d = c->cat->dist[a * c->cat->nCat + b];
        if( sptt_rng_below(&c->rng, 2) ){ int t = a; a = b; b = t; }
        snprintf(zQ, sizeof zQ, "Measuring from the closest point of each object, what is the direct distance between "
                 "the %s and the %s (in meters)?", cname(c, a), cname(c, b));
        rc = numeric_question(c, zQ, ann_round(d, 1), 1, 0.25, 1.75, 0,
                              json_pack("{s:o,s:o}", "object1", cat_ref(c, a), "object2", cat_ref(c, b)),
                              json_pack("{s:f}", "distance_m", d));
    }
    free(cand);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** object_rel_distance
*/
typedef struct rel_cand {
    int primary;
    int n;                   /* choices: 4, or 3 / 2 for the _v2 / _v3 variants */
    int choice[4];
} rel_cand;

static int rel_check(ann_qa_ctx *c, const rel_cand *r, double thr)
{
    const double *D = c->cat->dist + r->primary * c->cat->nCat;
    double lo = INFINITY;
    for(int i = 0; i < r->n; i++) lo = fmin(lo, D[r->choice[i]]);
    if( lo < 0.15 ){
        ann_qa_reject(c, "closest choice under 0.15 m");
        return 0;
    }
    for(int i = 0; i < r->n; i++){
        for(int j = i + 1; j < r->n; j++){
            if( fabs(D[r->choice[i]] - D[r->choice[j]]) <= thr ){
                ann_qa_reject(c, "two choices within the threshold");
                return 0;
            }
        }
    }
    return 1;
}

static int task_rel_distance(ann_qa_ctx *c)
{
    const ann_catalog *K = c->cat;
    /* The reference's room-dependent margin (its 4-choice script computes it but then checks
    ** 0.15; the reference document says to use the room-dependent rule everywhere). */
    double thr = c->s->roomArea > 40 ? 0.30 : 0.15;
    rel_cand *cand = NULL;
    size_t n = 0, cap = 0, nValid = 0;
    int rc = SPTT_OK, keep, nPrimary = 0;
    /* Each type has one choice count: a scene with too few other categories gets no question of
    ** it, never a shorter one under the same name. */
    int nCh = c->task==ANN_REL_DISTANCE_V3 ? 2 : c->task==ANN_REL_DISTANCE_V2 ? 3 : 4;
    int *other = sptt_calloc((size_t)K->nCat + 1, sizeof *other);
    if( !other ) return SPTT_ENOMEM;
    for(int p = 0; p < K->nCat; p++){
        int nOther = 0;
        if( !ann_catalog_unique(K, p) ) continue;
        nPrimary++;
        for(int k = 0; k < K->nCat; k++) if( k!=p && K->cat[k].nBox > 0 ) other[nOther++] = k;
        if( nOther < nCh ){
            ann_qa_reject(c, nCh==4 ? "fewer than four other categories" : nCh==3 ? "fewer than three other categories"
                                                                                : "fewer than two other categories");
            continue;
        }
        /* every m-combination of the others, in lexicographic order */
        int idx[4];
        for(int i = 0; i < nCh; i++) idx[i] = i;
        for(;;){
            rel_cand r;
            r.primary = p;
            r.n = nCh;
            for(int i = 0; i < nCh; i++) r.choice[i] = other[idx[i]];
            if( rel_check(c, &r, thr) ){
                /* Millions of combinations can pass in a cluttered scene: keep a uniform sample
                ** of c->cap of them (reservoir sampling), which is what shuffling them all and
                ** keeping the first c->cap would give. */
                if( nValid < (size_t)c->cap ){
                    if( n==cap ){
                        size_t nc = cap ? 2 * cap : 256;
                        rel_cand *g = sptt_realloc(cand, nc * sizeof *g);
                        if( !g ){ rc = SPTT_ENOMEM; goto done; }
                        cand = g;
                        cap = nc;
                    }
                    cand[n++] = r;
                }else{
                    uint64_t j = sptt_rng_u64(&c->rng) % (nValid + 1);
                    if( j < (uint64_t)c->cap ) cand[j] = r;
                }
                nValid++;
            }
            int i = nCh - 1;
            while( i >= 0 && idx[i]==nOther - nCh + i ) i--;
            if( i < 0 ) break;
            idx[i]++;
            for(int j = i + 1; j < nCh; j++) idx[j] = idx[j - 1] + 1;
        }
    }
    if( nPrimary==0 ) ann_qa_reject(c, "no unique object");
    keep = ann_qa_keep(c, cand, (int)n, sizeof *cand);
    for(int i = 0; i < keep && rc==SPTT_OK; i++){
        rel_cand *r = &cand[i];
        const double *D = K->dist + r->primary * K->nCat;
        int best = 0, order[4];
        const char *az[4];
        char zList[256] = "", zQ[640];
        json_t *choices = json_array(), *dists = json_object();
        ann_mc m;
        for(int k = 1; k < r->n; k++) if( D[r->choice[k]] < D[r->choice[best]] ) best = k;
        /* the answer first, then the others in candidate order */
        order[0] = best;
        for(int k = 0, at = 1; k < r->n; k++) if( k!=best ) order[at++] = k;
        for(int k = 0; k < r->n; k++) az[k] = cname(c, r->choice[order[k]]);
        ann_qa_layout(&c->rng, c->letters, az, r->n, &m);
        /* the question lists the choices in option order */
        for(int slot = 0; slot < r->n; slot++){
            int k;
            for(k = 0; k < r->n && ann_mc_slot(&m, k)!=slot; k++){}
            assert(k < r->n);
            snprintf(zList + strlen(zList), sizeof zList - strlen(zList), "%s%s", slot ? ", " : "", az[k]);
            json_array_append_new(choices, cat_ref(c, r->choice[order[k]]));
        }
        snprintf(zQ, sizeof zQ, "Measuring from the closest point of each object, which of these objects (%s) is the "
                 "closest to the %s?\nIf there are multiple instances of an object category, measure to the closest.",
                 zList, cname(c, r->primary));
        for(int k = 0; k < r->n; k++) json_object_set_new(dists, cname(c, r->choice[k]), json_real(D[r->choice[k]]));
        rc = ann_qa_push_layout(c, zQ, &m, az[0],
                                json_pack("{s:o,s:o}", "category", cat_ref(c, r->primary), "choices", choices),
                                json_pack("{s:o,s:f}", "distances_m", dists, "threshold_m", thr));
    }

done:
    free(cand);
    free(other);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** object_rel_direction_{easy,medium,hard}
*/
typedef struct dir_cand {
    int role[3];             /* positioning (A), orienting (B), querying (C): category indices */
    double theta;
    double corner[8];
    int nOff;
} dir_cand;

static int dir_level(int task)
{
    return task==ANN_DIR_HARD ? SPTT_DIR_HARD : task==ANN_DIR_MEDIUM ? SPTT_DIR_MEDIUM : SPTT_DIR_EASY;
}

/* The reference's rules for one role assignment at one level; 1 when the question stands. */
static int dir_check(ann_qa_ctx *c, dir_cand *d, int level)
{
    const ann_scene *s = c->s;
    const sptt_box *A = &s->obj[ann_catalog_only(c->cat, d->role[0])].box;
    const sptt_box *B = &s->obj[ann_catalog_only(c->cat, d->role[1])].box;
    const sptt_box *C = &s->obj[ann_catalog_only(c->cat, d->role[2])].box;
    double corners[24];
    int sector;
    d->theta = sptt_direction_angle(A->center, B->center, C->center);
    if( isnan(d->theta) ){
        ann_qa_reject(c, "centres coincide in the floor plane");
        return 0;
    }
    if( sptt_direction_near_boundary(d->theta, level) ){
        ann_qa_reject(c, "within 10 degrees of a sector boundary");
        return 0;
    }
    sector = sptt_direction_sector(d->theta, level);
    sptt_box_corners(C, corners);
    d->nOff = 0;
    for(int k = 0; k < 8; k++){
        d->corner[k] = sptt_direction_angle(A->center, B->center, corners + 3 * k);
        if( isnan(d->corner[k]) || sptt_direction_sector(d->corner[k], level)!=sector ) d->nOff++;
    }
    if( d->nOff > 2 ){
        ann_qa_reject(c, "more than 2 corners in another sector");
        return 0;
    }
    if( level==SPTT_DIR_EASY && sector==1 ){
        ann_qa_reject(c, "answer is back (easy has left/right only)");
        return 0;
    }
    return 1;
}

/*
** Keeps up to the cap of the candidates with their answers spread as evenly over the sectors as
** the scene allows. The candidates are shuffled with the task's stream, each is given its rank
** among the candidates of its own answer (0 for the first of each sector, 1 for the second, ...),
** and they are kept by rank, ties in shuffled order: every sector that has a candidate left gives
** one before any gives a second. Keeping a uniform sample instead would copy the scene's skew
** (standing by one object and facing another, most third objects lie ahead), which the model
** would learn as a prior. Returns the count kept; cand is reordered so they come first.
*/
typedef struct dir_rank { int rank, pos; } dir_rank;

static int cmp_dir_rank(const void *a, const void *b)
{
    const dir_rank *p = a, *q = b;
    if( p->rank!=q->rank ) return p->rank < q->rank ? -1 : 1;
    return (p->pos > q->pos) - (p->pos < q->pos);
}

static int dir_keep_balanced(ann_qa_ctx *c, dir_cand *cand, int n, int level)
{
    int rank[4] = {0}, rc = SPTT_OK;
    dir_rank *key = NULL;
    dir_cand *tmp = NULL;
    if( n==0 ) return 0;
    sptt_rng_shuffle(&c->rng, cand, (size_t)n, sizeof *cand);
    key = sptt_calloc((size_t)n, sizeof *key);
    tmp = sptt_calloc((size_t)n, sizeof *tmp);
    if( !key || !tmp ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < n; i++){
        int sector = sptt_direction_sector(cand[i].theta, level);
        assert(sector >= 0 && sector < 4);
        key[i].rank = rank[sector]++;
        key[i].pos = i;
    }
    qsort(key, (size_t)n, sizeof *key, cmp_dir_rank);
    for(int i = 0; i < n; i++) tmp[i] = cand[key[i].pos];
    for(int i = 0; i < n; i++) cand[i] = tmp[i];

done:
    free(key);
    free(tmp);
    return rc ? -1 : n < c->cap ? n : c->cap;
}

static int task_direction(ann_qa_ctx *c)
{
    const ann_catalog *K = c->cat;
    int level = dir_level(c->task), rc = SPTT_OK, keep, nU = 0;
    int *u = sptt_calloc((size_t)K->nCat + 1, sizeof *u);
    dir_cand *cand = NULL;
    size_t n = 0, cap = 0;
    if( !u ) return SPTT_ENOMEM;
    for(int k = 0; k < K->nCat; k++) if( ann_catalog_unique(K, k) ) u[nU++] = k;
    if( nU < 3 ) ann_qa_reject(c, "fewer than three unique objects");
    for(int i = 0; i < nU; i++){
        for(int j = i + 1; j < nU; j++){
            for(int k = j + 1; k < nU; k++){
                int t[3] = { u[i], u[j], u[k] };
                /* The public generator tries three of the six role assignments, so the object
                ** in the middle of a line of three is never the one asked about, and "back"
                ** answers (the query behind the viewer) are rare. All six are tried here. */
                int roles[6][3] = { { t[0], t[1], t[2] }, { t[0], t[2], t[1] }, { t[1], t[0], t[2] },
                                    { t[1], t[2], t[0] }, { t[2], t[0], t[1] }, { t[2], t[1], t[0] } };
                int ok = 1;
                for(int p = 0; p < 3 && ok; p++){
                    double d = K->dist[t[p] * K->nCat + t[(p + 1) % 3]];
                    if( d < 0.30 || d > 5.0 ) ok = 0;
                }
                if( !ok ){
                    ann_qa_reject(c, "a pair outside 0.3-5 m");
                    continue;
                }
                for(int r = 0; r < 6; r++){
                    dir_cand d;
                    memcpy(d.role, roles[r], sizeof d.role);
                    if( !dir_check(c, &d, level) ) continue;
                    if( n==cap ){
                        size_t nc = cap ? 2 * cap : 64;
                        dir_cand *g = sptt_realloc(cand, nc * sizeof *g);
                        if( !g ){ rc = SPTT_ENOMEM; goto done; }
                        cand = g;
                        cap = nc;
                    }
                    cand[n++] = d;
                }
            }
        }
    }
    keep = dir_keep_balanced(c, cand, (int)n, level);
    if( keep < 0 ){ rc = SPTT_ENOMEM; goto done; }
    for(int i = 0; i < keep && rc==SPTT_OK; i++){
        dir_cand *d = &cand[i];
        const char *zA = cname(c, d->role[0]), *zB = cname(c, d->role[1]), *zC = cname(c, d->role[2]);
        int nSector = level==SPTT_DIR_HARD ? 4 : 3, sector = sptt_direction_sector(d->theta, level), nChoice = 1;
        const char *az[4];
        char zQ[512];
        json_t *corners = json_array();
        az[0] = sptt_direction_name(sector, level);
        for(int k = 0; k < nSector; k++){
            if( k==sector || (level==SPTT_DIR_EASY && k==1) ) continue;
            az[nChoice++] = sptt_direction_name(k, level);
        }
        if( nChoice > 2 ) sptt_rng_shuffle(&c->rng, az + 1, (size_t)nChoice - 1, sizeof az[0]);
        if( level==SPTT_DIR_HARD ){
            snprintf(zQ, sizeof zQ, "If I am standing by the %s and facing the %s, is the %s to my front-left, "
                     "front-right, back-left, or back-right?\nThe directions refer to the quadrants of a Cartesian "
                     "plane (if I am standing at the origin and facing along the positive y-axis).", zA, zB, zC);
        }else if( level==SPTT_DIR_MEDIUM ){
            snprintf(zQ, sizeof zQ, "If I am standing by the %s and facing the %s, is the %s to my left, right, or back?\n"
                     "An object is to my back if I would have to turn at least 135 degrees in order to face it.",
                     zA, zB, zC);
        }else{
            snprintf(zQ, sizeof zQ, "If I am standing by the %s and facing the %s, is the %s to the left or the right "
                     "of the %s?", zA, zB, zC, zB);
        }
        for(int k = 0; k < 8; k++) json_array_append_new(corners, json_real(d->corner[k]));
        rc = ann_qa_push_mc(c, zQ, az, nChoice,
                            json_pack("{s:o,s:o,s:o}", "positioning", cat_ref(c, d->role[0]), "orienting",
                                      cat_ref(c, d->role[1]), "querying", cat_ref(c, d->role[2])),
                            json_pack("{s:f,s:o,s:i}", "angle_deg", d->theta, "corner_angles_deg", corners,
                                      "corners_in_other_sector", d->nOff));
    }

done:
    free(cand);
    free(u);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** obj_appearance_order
*/
typedef struct app_cat {
    int cat;
    int frame;
    double time;             /* seconds, as the projection found it */
    double rounded;          /* whole seconds, as the reference keeps them */
} app_cat;

static int cmp_app_time(const void *a, const void *b)
{
    const app_cat *p = a, *q = b;
    if( p->time!=q->time ) return p->time < q->time ? -1 : 1;
    return p->cat - q->cat;
}

static int task_appearance(ann_qa_ctx *c)
{
    const ann_catalog *K = c->cat;
    app_cat *T = NULL;
    int (*cand)[4] = NULL;
    size_t n = 0, cap = 0;
    int nT = 0, rc = SPTT_OK, keep;
    if( c->s->pack.nFrames==0 ){
        ann_qa_reject(c, "scene has no frames");
        return SPTT_OK;
    }
    T = sptt_calloc((size_t)K->nCat + 1, sizeof *T);
    if( !T ) return SPTT_ENOMEM;
    /* A category appears with the first of its instances. */
    for(int k = 0; k < K->nCat; k++){
        app_cat a = { k, -1, INFINITY, 0 };
        for(int i = 0; i < K->cat[k].nInst; i++){
            const ann_object *o = &c->s->obj[K->member[K->cat[k].first + i]];
            if( o->firstFrame < 0 || !isfinite(o->firstTime) ) continue;
            if( o->firstTime < a.time || (o->firstTime==a.time && o->firstFrame < a.frame) ){
                a.time = o->firstTime;
                a.frame = o->firstFrame;
            }
        }
        if( a.frame < 0 ) continue;
        /* The reference stores round(frame_id / fps): whole seconds. */
        a.rounded = ann_round(a.time, 0);
        T[nT++] = a;
    }
    if( nT < 4 ){
        ann_qa_reject(c, "fewer than four categories appear");
        goto done;
    }
    {
        int idx[4] = { 0, 1, 2, 3 };
        for(;;){
            int ok = 1;
            for(int i = 0; i < 4 && ok; i++)
                for(int j = i + 1; j < 4 && ok; j++) if( fabs(T[idx[i]].rounded - T[idx[j]].rounded) <= 1.0 ) ok = 0;
            if( !ok ) ann_qa_reject(c, "two first appearances within 1 s");
            else{
                if( n==cap ){
                    size_t nc = cap ? 2 * cap : 64;
                    int (*g)[4] = sptt_realloc(cand, nc * sizeof *g);
                    if( !g ){ rc = SPTT_ENOMEM; goto done; }
                    cand = g;
                    cap = nc;
                }
                memcpy(cand[n++], idx, sizeof idx);
            }
            int i = 3;
            while( i >= 0 && idx[i]==nT - 4 + i ) i--;
            if( i < 0 ) break;
            idx[i]++;
            for(int j = i + 1; j < 4; j++) idx[j] = idx[j - 1] + 1;
        }
    }
    keep = ann_qa_keep(c, cand, (int)n, sizeof *cand);
    for(int q = 0; q < keep && rc==SPTT_OK; q++){
        app_cat set[4], shown[4];
        static const int perms[24][4] = {
            {0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},
            {1,3,0,2},{1,3,2,0},{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},{3,0,1,2},{3,0,2,1},
            {3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0} };
        int other[23];
        char azText[4][160], zQ[512];
        const char *az[4];
        json_t *times = json_object(), *rounded = json_object(), *frames = json_object(), *objs = json_array();
        for(int i = 0; i < 4; i++) set[i] = T[cand[q][i]];
        qsort(set, 4, sizeof set[0], cmp_app_time);
        /* the answer is the identity permutation of the sorted set; three others are distractors */
        for(int i = 0; i < 23; i++) other[i] = i + 1;
        sptt_rng_shuffle(&c->rng, other, 23, sizeof other[0]);
        for(int k = 0; k < 4; k++){
            const int *p = perms[k==0 ? 0 : other[k - 1]];
            snprintf(azText[k], sizeof azText[k], "%s, %s, %s, %s", cname(c, set[p[0]].cat), cname(c, set[p[1]].cat),
                     cname(c, set[p[2]].cat), cname(c, set[p[3]].cat));
            az[k] = azText[k];
        }
        memcpy(shown, set, sizeof shown);
        sptt_rng_shuffle(&c->rng, shown, 4, sizeof shown[0]);
        snprintf(zQ, sizeof zQ, "What will be the first-time appearance order of the following categories in the video: "
                 "%s, %s, %s, %s?", cname(c, shown[0].cat), cname(c, shown[1].cat), cname(c, shown[2].cat),
                 cname(c, shown[3].cat));
        for(int i = 0; i < 4; i++){
            json_object_set_new(times, cname(c, set[i].cat), json_real(set[i].time));
            json_object_set_new(rounded, cname(c, set[i].cat), json_integer((json_int_t)set[i].rounded));
            json_object_set_new(frames, cname(c, set[i].cat), json_integer(set[i].frame));
            json_array_append_new(objs, cat_ref(c, shown[i].cat));
        }
        rc = ann_qa_push_mc(c, zQ, az, 4, json_pack("{s:o}", "categories", objs),
                            json_pack("{s:o,s:o,s:o}", "first_time_s", times, "rounded_s", rounded, "first_frame", frames));
    }

done:
    free(cand);
    free(T);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Entry point
*/
static uint64_t scene_stream(const ann_scene *s)
{
    return sptt_hash64(s->zName, strlen(s->zName));
}

int ann_generate_qa(ann_scene *s, const ann_qa_opts *o, ann_output *out)
{
    ann_catalog cat;
    sptt_rng root, scene;
    int rc = ann_catalog_build(s, &cat);
    if( rc ) return rc;
    sptt_rng_seed(&root, o->seed);
    sptt_rng_fork(&root, scene_stream(s), &scene);
    for(int t = 0; t < ANN_TASK_COUNT && rc==SPTT_OK; t++){
        ann_qa_ctx c;
        if( !(o->tasks & (1u << t)) ) continue;
        memset(&c, 0, sizeof c);
        c.s = s;
        c.out = out;
        c.cat = &cat;
        c.task = t;
        c.cap = t==ANN_ROOM_SIZE ? 1 : o->maxPerTask > 0 ? o->maxPerTask : aDefaultCap[t];
        sptt_rng_fork(&scene, (uint64_t)t + 1, &c.rng);
        switch( t ){
        case ANN_COUNTING:     rc = task_counting(&c); break;
        case ANN_ABS_DISTANCE: rc = task_abs_distance(&c); break;
        case ANN_SIZE:         rc = task_size(&c); break;
        case ANN_ROOM_SIZE:    rc = task_room_size(&c); break;
        case ANN_REL_DISTANCE:
        case ANN_REL_DISTANCE_V2:
        case ANN_REL_DISTANCE_V3: rc = task_rel_distance(&c); break;
        case ANN_DIR_EASY:
        case ANN_DIR_MEDIUM:
        case ANN_DIR_HARD:     rc = task_direction(&c); break;
        case ANN_ROUTE:        rc = ann_route_questions(&c); break;
        case ANN_APPEARANCE:   rc = task_appearance(&c); break;
        default: assert(0);
        }
        ann_qa_skip_summary(&c);
    }
    ann_catalog_free(&cat);
    return rc;
}
