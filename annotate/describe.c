/*
** Dense walkthrough descriptions: one text per variant and scene, in four paragraphs.
**
**   1. The room: its type guessed from the objects in it, floor area (roomArea), the extent of its
**      outline (the minimum-area rectangle around every outline point), its shape, its height.
**   2. The walk: each group of same-named objects when the camera first meets it (the earliest
**      firstFrame of its members), with its count, longest edge (cm, rounded as the size task
**      does), up to two relations from the scene graph and its distance to the group met before.
**   3. Also in the room: groups none of whose members the camera ever shows.
**   4. A summary of counts.
**
** Every fact comes from the data as stored and is rounded the way the text prints it; the facts
** also go to zFacts as JSON. The phrasing is drawn per fact from several templates with the
** variant's stream (forked from the seed, the scene name and the variant), so a seed gives the
** same texts. Templates keep the subject of every sentence as the first object named in it,
** never use words that name objects, and print numbers in fixed forms ("%.1f m", "%d cm",
** "%.1f square meters", counts as words up to twelve), so a reader program can check them.
*/
#include "ann_content.h"
#include "sptt_math.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REL_PER_GROUP 2
#define TOUCH 0.05           /* metres: closer than this reads "touches" rather than a distance */

typedef struct desc_group {
    char zName[48];          /* the object name (facts) */
    char zSing[64];          /* as the text says one of them */
    char zPlural[72];
    int n;
    int *member;             /* object indices */
    int firstFrame;          /* earliest of the members, -1 if none is ever seen */
    double firstTime;
} desc_group;

typedef struct desc_ctx {
    ann_scene *s;
    const ann_output *out;
    sptt_rng rng;
    desc_group *g;
    int nGroup;
    int *groupOf;            /* per object: its group, -1 if it has no name */
    int *order;              /* groups in walk order */
    sptt_buf text;
    json_t *facts;
    int nearPair[256][2];    /* groups already linked by a "near" sentence: no distance repeats it */
    int nNear;
} desc_ctx;

/* ---------------------------------------------------------------------------------------------
** Words
*/
void ann_plural(const char *z, char *zOut, size_t n)
{
    size_t len = strlen(z);
    const char *e = len ? z + len - 1 : z;
    if( len >= 5 && strcmp(z + len - 5, "mouse")==0 ){
        snprintf(zOut, n, "%.*smice", (int)(len - 5), z);
    }else if( len >= 5 && strcmp(z + len - 5, "shelf")==0 ){
        snprintf(zOut, n, "%.*sshelves", (int)(len - 5), z);
    }else if( len >= 2 && *e=='s' && z[len - 2]!='s' ){
        snprintf(zOut, n, "%s", z);   /* already plural ("shelves", "books") */
    }else if( len && (*e=='s' || *e=='x' || (len >= 2 && (strcmp(e - 1, "ch")==0 || strcmp(e - 1, "sh")==0))) ){
        snprintf(zOut, n, "%ses", z);
    }else if( len >= 2 && *e=='y' && !strchr("aeiou", z[len - 2]) ){
        snprintf(zOut, n, "%.*sies", (int)(len - 1), z);
    }else{
        snprintf(zOut, n, "%ss", z);
    }
}

void ann_display_names(const char *zName, char *zSing, size_t nSing, char *zPlural, size_t nPlural)
{
    char z[96];
    ann_plural(zName, z, sizeof z);
    if( strcmp(z, zName)==0 ){
        /* a name that is already plural ("books") counts sets of it */
        snprintf(zSing, nSing, "set of %s", zName);
        snprintf(zPlural, nPlural, "sets of %s", zName);
    }else{
        snprintf(zSing, nSing, "%s", zName);
        snprintf(zPlural, nPlural, "%s", z);
    }
}

const char *ann_count_word(int n)
{
    static const char *const az[13] = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                        "nine", "ten", "eleven", "twelve" };
    return n >= 0 && n <= 12 ? az[n] : NULL;
}

static void count_phrase(int n, const char *zName, const char *zPlural, char *z, size_t sz)
{
    const char *w = ann_count_word(n);
    if( w ) snprintf(z, sz, "%s %s", w, n==1 ? zName : zPlural);   /* zName: the singular display form */
    else snprintf(z, sz, "%d %s", n, zPlural);
}

static const char *article(const char *z)
{
    return strchr("aeiou", z[0]) ? "an" : "a";
}

static const char *pick(sptt_rng *r, const char *const *az, int n)
{
    return az[sptt_rng_below(r, (uint32_t)n)];
}

#define PICK(r, arr) pick((r), (arr), (int)(sizeof(arr) / sizeof((arr)[0])))

/* Appends one sentence; templates are chosen by PICK and so are not literals. */
static void say(desc_ctx *d, const char *zFmt, ...)
{
    char z[1024];
    va_list ap;
    va_start(ap, zFmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(z, sizeof z, zFmt, ap);
#pragma GCC diagnostic pop
    va_end(ap);
    if( d->text.n > 0 && d->text.p[d->text.n - 1]!='\n' ) sptt_buf_u8(&d->text, ' ');
    sptt_buf_printf(&d->text, "%s", z);
}

static void paragraph(desc_ctx *d)
{
    if( d->text.n > 0 ) sptt_buf_printf(&d->text, "\n\n");
}

/* "the desk" when the name is unique in the room, else "a chair": true of some instance. */
static void ref_object(const desc_ctx *d, int iObj, char *z, size_t n)
{
    const desc_group *G = &d->g[d->groupOf[iObj]];
    if( G->n==1 ) snprintf(z, n, "the %s", G->zSing);
    else snprintf(z, n, "%s %s", article(G->zSing), G->zSing);
}

/* ---------------------------------------------------------------------------------------------
** Room: type, size, outline
*/
typedef struct room_hint { const char *zName; const char *zType; int weight; } room_hint;

static const room_hint aHint[] = {
    { "bed", "bedroom", 4 }, { "nightstand", "bedroom", 2 }, { "night stand", "bedroom", 2 }, { "dresser", "bedroom", 1 },
    { "toilet", "bathroom", 4 }, { "bathtub", "bathroom", 4 }, { "shower curtain", "bathroom", 3 }, { "sink", "bathroom", 1 },
    { "towel", "bathroom", 1 },
    { "refrigerator", "kitchen", 2 }, { "stove", "kitchen", 3 }, { "oven", "kitchen", 2 }, { "dishwasher", "kitchen", 3 },
    { "microwave", "kitchen", 2 }, { "counter", "kitchen", 2 },
    { "sofa", "living room", 3 }, { "fireplace", "living room", 3 }, { "tv", "living room", 1 }, { "piano", "living room", 1 },
    { "desk", "office", 2 }, { "monitor", "office", 2 }, { "keyboard", "office", 2 }, { "computer mouse", "office", 1 },
    { "printer", "office", 2 }, { "whiteboard", "office", 2 },
    { "washing machine", "laundry room", 4 }, { "washer", "laundry room", 4 },
};
static const char *const azRoomType[] = { "bedroom", "bathroom", "kitchen", "living room", "office", "laundry room" };
#define N_TYPE ((int)(sizeof azRoomType / sizeof azRoomType[0]))

/* The best-scoring type (ties to the earlier in azRoomType), or NULL when nothing hints at one;
** ev gets the names behind it. */
static const char *room_type(const desc_ctx *d, const char **ev, int *nEv)
{
    int score[N_TYPE] = {0}, best = -1;
    *nEv = 0;
    for(int k = 0; k < d->nGroup; k++){
        for(size_t h = 0; h < sizeof aHint / sizeof aHint[0]; h++){
            if( strcmp(aHint[h].zName, d->g[k].zName)!=0 ) continue;
            for(int t = 0; t < N_TYPE; t++) if( strcmp(azRoomType[t], aHint[h].zType)==0 ) score[t] += aHint[h].weight;
        }
    }
    for(int t = 0; t < N_TYPE; t++) if( score[t] > 0 && (best < 0 || score[t] > score[best]) ) best = t;
    if( best < 0 ) return NULL;
    /* the evidence, strongest first, at most three */
    for(int w = 4; w >= 1; w--){
        for(size_t h = 0; h < sizeof aHint / sizeof aHint[0] && *nEv < 3; h++){
            if( aHint[h].weight!=w || strcmp(aHint[h].zType, azRoomType[best])!=0 ) continue;
            for(int k = 0; k < d->nGroup; k++) if( strcmp(d->g[k].zName, aHint[h].zName)==0 ) ev[(*nEv)++] = d->g[k].zName;
        }
    }
    return azRoomType[best];
}

static double cross2(const double *o, const double *a, const double *b)
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static int cmp_pt(const void *a, const void *b)
{
    const double *p = a, *q = b;
    if( p[0]!=q[0] ) return p[0] < q[0] ? -1 : 1;
    return p[1] < q[1] ? -1 : p[1] > q[1];
}

/*
** The minimum-area rectangle around the outline (its convex hull's edges as candidate
** directions): the longer and shorter side, and the rectangle's area. 0 when there is none.
*/
int ann_outline_extent(const ann_scene *s, double *pLong, double *pShort, double *pArea)
{
    int n = 0, k = 0;
    double (*p)[2], (*h)[2], best = INFINITY;
    for(int l = 0; l < s->nLoops; l++) n += s->loopLen[l];
    *pLong = *pShort = *pArea = 0;
    if( n < 3 ) return 0;
    p = malloc(sizeof *p * (size_t)n);
    h = malloc(sizeof *h * (size_t)(2 * n + 1));
    if( !p || !h ){
        free(p);
        free(h);
        return SPTT_ENOMEM;
    }
    memcpy(p, s->loopPts, sizeof *p * (size_t)n);
    qsort(p, (size_t)n, sizeof *p, cmp_pt);
    for(int i = 0; i < n; i++){
        while( k >= 2 && cross2(h[k - 2], h[k - 1], p[i]) <= 0 ) k--;
        h[k][0] = p[i][0]; h[k][1] = p[i][1]; k++;
    }
    for(int i = n - 2, lo = k + 1; i >= 0; i--){
        while( k >= lo && cross2(h[k - 2], h[k - 1], p[i]) <= 0 ) k--;
        h[k][0] = p[i][0]; h[k][1] = p[i][1]; k++;
    }
    k--;
    for(int i = 0; i < k; i++){
        double e[2] = { h[(i + 1) % k][0] - h[i][0], h[(i + 1) % k][1] - h[i][1] }, l = hypot(e[0], e[1]);
        double u0 = DBL_MAX, u1 = -DBL_MAX, v0 = DBL_MAX, v1 = -DBL_MAX;
        if( l <= 0 ) continue;
        e[0] /= l;
        e[1] /= l;
        for(int j = 0; j < k; j++){
            double u = h[j][0] * e[0] + h[j][1] * e[1], v = -h[j][0] * e[1] + h[j][1] * e[0];
            u0 = fmin(u0, u); u1 = fmax(u1, u); v0 = fmin(v0, v); v1 = fmax(v1, v);
        }
        if( (u1 - u0) * (v1 - v0) < best ){
            best = (u1 - u0) * (v1 - v0);
            *pLong = fmax(u1 - u0, v1 - v0);
            *pShort = fmin(u1 - u0, v1 - v0);
        }
    }
    *pArea = isfinite(best) ? best : 0;
    free(p);
    free(h);
    return 0;
}

/* Douglas-Peucker on the chain pts[i..j] (indices modulo n): marks the kept vertices. */
static void simplify(const double (*pts)[2], int n, int i, int j, double tol, unsigned char *keep)
{
    const double *a = pts[i % n], *b = pts[j % n];
    double e[2] = { b[0] - a[0], b[1] - a[1] }, l = hypot(e[0], e[1]), far = -1;
    int at = -1;
    for(int k = i + 1; k < j; k++){
        const double *p = pts[k % n];
        double dd = l > 0 ? fabs((p[0] - a[0]) * e[1] - (p[1] - a[1]) * e[0]) / l : hypot(p[0] - a[0], p[1] - a[1]);
        if( dd > far ){ far = dd; at = k; }
    }
    if( at < 0 || far <= tol ) return;
    keep[at % n] = 1;
    simplify(pts, n, i, at, tol, keep);
    simplify(pts, n, at, j, tol, keep);
}

/*
** The outline's shape in words: "L-shaped" when the single loop simplifies (25 cm) to six
** corners all within 20 degrees of square, "rectangular" when it fills at least 90 % of its
** minimum rectangle, "irregular" otherwise, "split" for more than one loop.
*/
const char *ann_outline_shape(const ann_scene *s, double *pFill, int *pCorners)
{
    double lng, sht, rect, area = 0;
    int n, far = 0, nKeep = 0, square = 1;
    unsigned char *keep;
    double (*c)[2];
    *pFill = 0;
    *pCorners = 0;
    if( s->nLoops==0 ) return NULL;
    for(int l = 0, at = 0; l < s->nLoops; l++){
        area += ann_poly_area((const double (*)[2])(s->loopPts + at), s->loopLen[l]);
        at += s->loopLen[l];
    }
    if( ann_outline_extent(s, &lng, &sht, &rect) || rect <= 0 ) return NULL;
    *pFill = area / rect;
    if( s->nLoops > 1 ) return "split";
    n = s->loopLen[0];
    keep = calloc((size_t)n + 1, 1);
    c = calloc((size_t)n + 1, sizeof *c);
    if( !keep || !c ){
        free(keep);
        free(c);
        return NULL;
    }
    /* anchor at vertex 0 and the vertex farthest from it */
    for(int i = 1; i < n; i++){
        if( hypot(s->loopPts[i][0] - s->loopPts[0][0], s->loopPts[i][1] - s->loopPts[0][1])
            > hypot(s->loopPts[far][0] - s->loopPts[0][0], s->loopPts[far][1] - s->loopPts[0][1]) ) far = i;
    }
    keep[0] = 1;
    keep[far] = 1;
    simplify((const double (*)[2])s->loopPts, n, 0, far, 0.25, keep);
    simplify((const double (*)[2])s->loopPts, n, far, n, 0.25, keep);
    for(int i = 0; i < n; i++) if( keep[i] ){ c[nKeep][0] = s->loopPts[i][0]; c[nKeep][1] = s->loopPts[i][1]; nKeep++; }
    /* vertex 0 may sit on a straight stretch; drop corners that do not turn */
    {
        int m = 0;
        double (*t)[2] = calloc((size_t)nKeep + 1, sizeof *t);
        for(int i = 0; t && i < nKeep; i++){
            const double *a = c[(i + nKeep - 1) % nKeep], *b = c[i], *q = c[(i + 1) % nKeep];
            double u[2] = { b[0] - a[0], b[1] - a[1] }, v[2] = { q[0] - b[0], q[1] - b[1] };
            double ang = fabs(ann_turn_angle(u, v));
            if( ang < 20 ) continue;
            if( fabs(ang - 90) > 20 ) square = 0;
            t[m][0] = b[0]; t[m][1] = b[1]; m++;
        }
        free(t);
        nKeep = m;
    }
    free(keep);
    free(c);
    *pCorners = nKeep;
    if( nKeep==6 && square ) return "L-shaped";
    if( *pFill >= 0.9 ) return "rectangular";
    return "irregular";
}

static void room_paragraph(desc_ctx *d)
{
    ann_scene *s = d->s;
    const char *ev[3], *zType;
    int nEv;
    char zArea[32], zA[32], zB[32], zH[32];
    double lng, sht, rect, fill;
    int corners;
    const char *zShape;

    zType = room_type(d, ev, &nEv);
    if( zType ){
        char zEv[200] = "";
        static const char *const azType[] = {
            "This looks like %s %s, going by %s.",
            "Judging by %3$s, this is %1$s %2$s.",
            "The objects in it (%3$s) suggest %1$s %2$s.",
        };
        for(int i = 0; i < nEv; i++){
            snprintf(zEv + strlen(zEv), sizeof zEv - strlen(zEv), "%s%s %s", i==0 ? "" : i==nEv - 1 ? " and " : ", ",
                     "the", ev[i]);
        }
        say(d, PICK(&d->rng, azType), article(zType), zType, zEv);
        json_t *jev = json_array();
        for(int i = 0; i < nEv; i++) json_array_append_new(jev, json_string(ev[i]));
        json_array_append_new(d->facts, json_pack("{s:s,s:s,s:o}", "kind", "room_type", "value", zType, "evidence", jev));
    }else{
        say(d, "Nothing in it says clearly what kind of space this is.");
        json_array_append_new(d->facts, json_pack("{s:s,s:n}", "kind", "room_type", "value"));
    }
    if( s->roomArea > 0 ){
        static const char *const az[] = {
            "It covers about %s square meters.",
            "The floor area is about %s square meters.",
            "The space measures roughly %s square meters.",
        };
        ann_fmt_round(s->roomArea, 1, zArea, sizeof zArea);
        say(d, PICK(&d->rng, az), zArea);
        json_array_append_new(d->facts, json_pack("{s:s,s:f}", "kind", "area_m2", "value", ann_round(s->roomArea, 1)));
    }
    zShape = ann_outline_shape(s, &fill, &corners);
    if( ann_outline_extent(s, &lng, &sht, &rect)==0 && rect > 0 && zShape ){
        static const char *const azSplit[] = {
            "Its outline falls into separate parts, together about %s m by %s m across.",
            "It is made of separate parts that span about %s m by %s m together.",
        };
        static const char *const azShape[] = {
            "Its outline is %s, about %s m by %s m.",
            "The outline is %s and spans about %s m by %s m.",
            "Seen from above it is %s, spanning about %s m by %s m.",
        };
        ann_fmt_round(lng, 1, zA, sizeof zA);
        ann_fmt_round(sht, 1, zB, sizeof zB);
        if( strcmp(zShape, "split")==0 ) say(d, PICK(&d->rng, azSplit), zA, zB);
        else say(d, PICK(&d->rng, azShape), strcmp(zShape, "rectangular")==0 ? "roughly rectangular" : zShape, zA, zB);
        json_array_append_new(d->facts, json_pack("{s:s,s:[f,f],s:s,s:f,s:i}", "kind", "extent_m", "value",
                                                  ann_round(lng, 1), ann_round(sht, 1), "shape", zShape, "fill", fill,
                                                  "corners", corners));
    }
    if( s->roomHeight > 0 ){
        static const char *const az[] = {
            "The ceiling is about %s m high.",
            "The ceiling sits about %s m above the floor.",
            "From floor to ceiling it is about %s m.",
        };
        ann_fmt_round(s->roomHeight, 1, zH, sizeof zH);
        say(d, PICK(&d->rng, az), zH);
        json_array_append_new(d->facts, json_pack("{s:s,s:f}", "kind", "height_m", "value", ann_round(s->roomHeight, 1)));
    }
}

/* ---------------------------------------------------------------------------------------------
** The walk
*/
static double longest_cm(const ann_object *o)
{
    return ann_round(100 * fmax(o->box.size[0], fmax(o->box.size[1], o->box.size[2])), 0);
}

/* Closest box distance between two groups, and the pair. */
static double group_distance(const desc_ctx *d, int ga, int gb, int *pa, int *pb)
{
    double best = INFINITY;
    for(int i = 0; i < d->g[ga].n; i++){
        for(int j = 0; j < d->g[gb].n; j++){
            const ann_object *a = &d->s->obj[d->g[ga].member[i]], *b = &d->s->obj[d->g[gb].member[j]];
            double x;
            if( !a->hasBox || !b->hasBox ) continue;
            x = sptt_box_distance(&a->box, &b->box);
            if( x < best ){ best = x; *pa = d->g[ga].member[i]; *pb = d->g[gb].member[j]; }
        }
    }
    return best;
}

static int object_index(const ann_scene *s, int id)
{
    for(int i = 0; i < s->nObj; i++) if( s->obj[i].id==id ) return i;
    return -1;
}

static json_t *rel_fact(const ann_relation *r)
{
    return json_pack("{s:s,s:s,s:i,s:i,s:i,s:f,s:i}", "kind", "relation", "relation", r->zRelation, "subject",
                     r->subject, "object", r->object, "object2", r->object2, "value", isfinite(r->value) ? r->value : 0.0,
                     "frame", r->frame);
}

/* The relation edges of the scene graph that group gi can state, per kind (support, between,
** view, near), with partners that have names and belong to other groups. */
static void relation_candidates(const desc_ctx *d, int gi, int cand[4][256], int nCand[4])
{
    static const char *const azKind[4] = { "supported_by", "between", "view", "near" };
    for(int kind = 0; kind < 4; kind++){
        nCand[kind] = 0;
        for(size_t r = 0; r < d->out->nRel && nCand[kind] < 256; r++){
            const ann_relation *R = &d->out->rel[r];
            int is = object_index(d->s, R->subject), io = object_index(d->s, R->object), mine, other;
            int isView = strcmp(R->zRelation, "left_of")==0 || strcmp(R->zRelation, "right_of")==0
                         || strcmp(R->zRelation, "in_front_of")==0 || strcmp(R->zRelation, "behind")==0;
            if( is < 0 || io < 0 ) continue;
            if( kind==2 ? !isView : strcmp(R->zRelation, azKind[kind])!=0 ) continue;
            if( R->object2 ){
                int io2 = object_index(d->s, R->object2);
                /* "between a window and a window" says little: both ends must differ in name */
                if( io2 < 0 || d->groupOf[io2] < 0 || d->groupOf[io2]==gi || d->groupOf[io2]==d->groupOf[io] ) continue;
            }
            mine = d->groupOf[is]==gi;
            /* near is stored once per pair: either end may be ours */
            if( kind==3 && !mine && d->groupOf[io]==gi ) mine = 1;
            if( !mine ) continue;
            other = d->groupOf[is]==gi ? io : is;
            if( d->groupOf[other] < 0 || d->groupOf[other]==gi ) continue;
            cand[kind][nCand[kind]++] = (int)r;
        }
    }
}

static void remember_near(desc_ctx *d, int ga, int gb)
{
    if( d->nNear < (int)(sizeof d->nearPair / sizeof d->nearPair[0]) ){
        d->nearPair[d->nNear][0] = ga;
        d->nearPair[d->nNear][1] = gb;
        d->nNear++;
    }
}

static int said_near(const desc_ctx *d, int ga, int gb)
{
    for(int i = 0; i < d->nNear; i++){
        if( (d->nearPair[i][0]==ga && d->nearPair[i][1]==gb) || (d->nearPair[i][0]==gb && d->nearPair[i][1]==ga) ) return 1;
    }
    return 0;
}

/*
** Up to MAX_REL_PER_GROUP relations of the group: its support when it has one, then kinds drawn
** from the stream among between, view and near; the edge within a kind drawn too.
*/
static void group_relations(desc_ctx *d, int gi, const char *zSubject)
{
    int cand[4][256], nCand[4], said = 0, used[4] = {0};
    relation_candidates(d, gi, cand, nCand);
    while( said < MAX_REL_PER_GROUP ){
        int kind = -1, avail[3], nAvail = 0;
        if( nCand[0] > 0 && !used[0] ) kind = 0;
        else{
            for(int k = 1; k < 4; k++) if( nCand[k] > 0 && !used[k] ) avail[nAvail++] = k;
            if( nAvail==0 ) break;
            kind = avail[sptt_rng_below(&d->rng, (uint32_t)nAvail)];
        }
        used[kind] = 1;
        {
            const ann_relation *R = &d->out->rel[cand[kind][sptt_rng_below(&d->rng, (uint32_t)nCand[kind])]];
            int is = object_index(d->s, R->subject), io = object_index(d->s, R->object);
            int other = d->groupOf[is]==gi ? io : is;
            char zO[120], zO2[120];
            ref_object(d, other, zO, sizeof zO);
            if( kind==0 ){
                static const char *const az[] = { "%s sits on %s.", "%s rests on top of %s.", "%s stands on %s." };
                say(d, PICK(&d->rng, az), zSubject, zO);
            }else if( kind==1 ){
                static const char *const az[] = { "%s stands between %s and %s.", "%s is placed between %s and %s." };
                ref_object(d, object_index(d->s, R->object2), zO2, sizeof zO2);
                say(d, PICK(&d->rng, az), zSubject, zO, zO2);
            }else if( kind==2 ){
                static const char *const az[] = {
                    "From the spot where %s first comes into view, it is %s %s.",
                    "In its first view, %s is %s %s.",
                    "As %s first shows up, it is %s %s.",
                };
                const char *zRel = strcmp(R->zRelation, "left_of")==0 ? "to the left of"
                                 : strcmp(R->zRelation, "right_of")==0 ? "to the right of"
                                 : strcmp(R->zRelation, "in_front_of")==0 ? "in front of" : "behind";
                char zLow[160];
                snprintf(zLow, sizeof zLow, "%s", zSubject);
                zLow[0] = (char)(zLow[0]=='T' ? 't' : zLow[0]=='O' ? 'o' : zLow[0]);
                say(d, PICK(&d->rng, az), zLow, zRel, zO);
            }else{
                char zD[32];
                if( R->value < TOUCH ){
                    static const char *const az[] = { "%s touches %s.", "%s is right up against %s." };
                    say(d, PICK(&d->rng, az), zSubject, zO);
                }else{
                    static const char *const az[] = {
                        "%s is close to %s, about %s m away.",
                        "%s stands near %s, about %s m apart.",
                        "%s is near %s, leaving a gap of about %s m.",
                    };
                    ann_fmt_round(R->value, 1, zD, sizeof zD);
                    say(d, PICK(&d->rng, az), zSubject, zO, zD);
                }
                remember_near(d, gi, d->groupOf[other]);
            }
            json_array_append_new(d->facts, rel_fact(R));
            said++;
        }
    }
}

static void walk_paragraph(desc_ctx *d, int *pnSeen)
{
    int prev = -1, nSeen = 0;
    for(int oi = 0; oi < d->nGroup; oi++){
        int gi = d->order[oi];
        desc_group *G = &d->g[gi];
        char zSubj[160], zCount[96];
        double lo = INFINITY, hi = -INFINITY;
        if( G->firstFrame < 0 ) continue;
        /* introduction */
        if( G->n==1 ){
            static const char *const azFirst[] = { "The walk starts at %s %s.", "First the camera finds %s %s.",
                                                   "The first thing in view is %s %s." };
            static const char *const azNext[] = { "Next comes %s %s.", "Then the camera reaches %s %s.",
                                                  "Further on there is %s %s." };
            say(d, nSeen==0 ? PICK(&d->rng, azFirst) : PICK(&d->rng, azNext), article(G->zSing), G->zSing);
            snprintf(zSubj, sizeof zSubj, "The %s", G->zSing);
        }else{
            static const char *const azFirst[] = { "The walk starts with %s.", "First the camera finds %s.",
                                                   "The first things in view are %s." };
            static const char *const azNext[] = { "Next come %s.", "Then the camera reaches %s.", "Further on there are %s." };
            count_phrase(G->n, G->zSing, G->zPlural, zCount, sizeof zCount);
            say(d, nSeen==0 ? PICK(&d->rng, azFirst) : PICK(&d->rng, azNext), zCount);
            snprintf(zSubj, sizeof zSubj, "One of the %s", G->zPlural);
        }
        json_array_append_new(d->facts, json_pack("{s:s,s:s,s:i,s:i,s:f}", "kind", "group", "name", G->zName, "count",
                                                  G->n, "first_frame", G->firstFrame, "first_time_s",
                                                  isfinite(G->firstTime) ? G->firstTime : -1.0));
        nSeen++;
        /* size */
        for(int i = 0; i < G->n; i++){
            const ann_object *o = &d->s->obj[G->member[i]];
            if( !o->hasBox ) continue;
            lo = fmin(lo, longest_cm(o));
            hi = fmax(hi, longest_cm(o));
        }
        if( isfinite(lo) ){
            if( G->n==1 ){
                static const char *const az[] = { "The %s measures about %.0f cm along its longest side.",
                                                  "At its longest, the %s is about %.0f cm.",
                                                  "The %s is roughly %.0f cm long at its longest." };
                say(d, PICK(&d->rng, az), G->zSing, lo);
            }else if( lo==hi ){
                say(d, "Each of the %s is about %.0f cm at its longest.", G->zPlural, lo);
            }else{
                static const char *const az[] = { "The %s range from %.0f to %.0f cm at their longest.",
                                                  "At their longest, the %s run from %.0f to %.0f cm." };
                say(d, PICK(&d->rng, az), G->zPlural, lo, hi);
            }
            json_array_append_new(d->facts, json_pack("{s:s,s:s,s:[f,f]}", "kind", "longest_cm", "name", G->zName,
                                                      "value", lo, hi));
        }
        group_relations(d, gi, zSubj);
        /* the distance back to the group met before, for a sense of the layout */
        if( prev >= 0 ){
            int a = -1, b = -1;
            double x = group_distance(d, gi, prev, &a, &b);
            if( isfinite(x) && x >= TOUCH && !said_near(d, gi, prev) ){
                char zD[32], zP[160];
                const desc_group *P = &d->g[prev];
                ann_fmt_round(x, 1, zD, sizeof zD);
                if( P->n==1 ) snprintf(zP, sizeof zP, "the %s", P->zSing);
                else snprintf(zP, sizeof zP, "the closest of the %s", P->zPlural);
                if( G->n==1 ){
                    static const char *const az[] = { "The %s is about %s m from %s.", "The %s stands about %s m away from %s.",
                                                      "Measured from closest point to closest point, the %s is about %s m from %s." };
                    say(d, PICK(&d->rng, az), G->zSing, zD, zP);
                }else{
                    static const char *const az[] = { "The nearest of the %s is about %s m from %s.",
                                                      "The closest of the %s stands about %s m away from %s." };
                    say(d, PICK(&d->rng, az), G->zPlural, zD, zP);
                }
                json_array_append_new(d->facts, json_pack("{s:s,s:s,s:s,s:f,s:i,s:i}", "kind", "distance_m", "a", G->zName,
                                                          "b", P->zName, "value", ann_round(x, 1), "a_id",
                                                          d->s->obj[a].id, "b_id", d->s->obj[b].id));
            }
        }
        prev = gi;
    }
    *pnSeen = nSeen;
}

static void list_groups(desc_ctx *d, const int *gs, int n, char *z, size_t sz)
{
    z[0] = 0;
    for(int i = 0; i < n; i++){
        const desc_group *G = &d->g[gs[i]];
        char zc[120];
        count_phrase(G->n, G->zSing, G->zPlural, zc, sizeof zc);
        snprintf(z + strlen(z), sz - strlen(z), "%s%s", i==0 ? "" : i==n - 1 ? " and " : ", ", zc);
    }
}

static void unseen_and_summary(desc_ctx *d)
{
    int *gs = calloc((size_t)d->nGroup + 1, sizeof *gs), n = 0;
    char *z = calloc(8192, 1);
    if( !gs || !z ) goto done;
    for(int oi = 0; oi < d->nGroup; oi++) if( d->g[d->order[oi]].firstFrame < 0 ) gs[n++] = d->order[oi];
    if( n > 0 ){
        static const char *const az[] = { "Also in the room, though the camera never shows them: %s.",
                                          "The walk misses a few things that are also here: %s.",
                                          "Out of view the whole time: %s." };
        json_t *names = json_array();
        paragraph(d);
        list_groups(d, gs, n, z, 8192);
        say(d, PICK(&d->rng, az), z);
        for(int i = 0; i < n; i++) json_array_append_new(names, json_pack("{s:s,s:i}", "name", d->g[gs[i]].zName, "count", d->g[gs[i]].n));
        json_array_append_new(d->facts, json_pack("{s:s,s:o}", "kind", "unseen", "groups", names));
    }
    if( d->nGroup > 0 ){
        static const char *const az[] = { "In total the room holds %s.", "Altogether there are %s.",
                                          "Counting everything, the room has %s." };
        json_t *counts = json_object();
        /* largest groups first, then by name */
        for(int i = 0; i < d->nGroup; i++) gs[i] = i;
        for(int i = 1; i < d->nGroup; i++){
            int t = gs[i], j = i;
            while( j > 0 && (d->g[gs[j - 1]].n < d->g[t].n
                             || (d->g[gs[j - 1]].n==d->g[t].n && strcmp(d->g[gs[j - 1]].zName, d->g[t].zName) > 0)) ){
                gs[j] = gs[j - 1];
                j--;
            }
            gs[j] = t;
        }
        paragraph(d);
        list_groups(d, gs, d->nGroup, z, 8192);
        say(d, PICK(&d->rng, az), z);
        for(int i = 0; i < d->nGroup; i++) json_object_set_new(counts, d->g[i].zName, json_integer(d->g[i].n));
        json_array_append_new(d->facts, json_pack("{s:s,s:o}", "kind", "counts", "value", counts));
    }else{
        paragraph(d);
        say(d, "No furniture or objects were recorded in it.");
    }

done:
    free(gs);
    free(z);
}

/* ---------------------------------------------------------------------------------------------
** Entry point
*/
static void ctx_free(desc_ctx *d)
{
    for(int i = 0; i < d->nGroup; i++) free(d->g[i].member);
    free(d->g);
    free(d->groupOf);
    free(d->order);
    sptt_buf_free(&d->text);
    json_decref(d->facts);
}

static int build_groups(desc_ctx *d)
{
    ann_scene *s = d->s;
    d->g = sptt_calloc((size_t)s->nObj + 1, sizeof *d->g);
    d->groupOf = sptt_calloc((size_t)s->nObj + 1, sizeof *d->groupOf);
    d->order = sptt_calloc((size_t)s->nObj + 1, sizeof *d->order);
    if( !d->g || !d->groupOf || !d->order ) return SPTT_ENOMEM;
    for(int i = 0; i < s->nObj; i++){
        const char *z = ann_object_name(&s->obj[i]);
        int k;
        d->groupOf[i] = -1;
        if( !z[0] ) continue;
        for(k = 0; k < d->nGroup; k++) if( strcmp(d->g[k].zName, z)==0 ) break;
        if( k==d->nGroup ){
            desc_group *G = &d->g[d->nGroup++];
            snprintf(G->zName, sizeof G->zName, "%s", z);
            ann_display_names(G->zName, G->zSing, sizeof G->zSing, G->zPlural, sizeof G->zPlural);
            G->member = sptt_calloc((size_t)s->nObj + 1, sizeof *G->member);
            G->firstFrame = -1;
            G->firstTime = NAN;
            if( !G->member ) return SPTT_ENOMEM;
        }
        d->g[k].member[d->g[k].n++] = i;
        d->groupOf[i] = k;
        if( s->obj[i].firstFrame >= 0 && (d->g[k].firstFrame < 0 || s->obj[i].firstFrame < d->g[k].firstFrame) ){
            d->g[k].firstFrame = s->obj[i].firstFrame;
            d->g[k].firstTime = s->obj[i].firstTime;
        }
    }
    /* walk order: by first frame, unseen groups last, then by name */
    for(int i = 0; i < d->nGroup; i++) d->order[i] = i;
    for(int i = 1; i < d->nGroup; i++){
        int t = d->order[i], j = i;
        for(; j > 0; j--){
            const desc_group *a = &d->g[d->order[j - 1]], *b = &d->g[t];
            long fa = a->firstFrame < 0 ? 0x7fffffffL : a->firstFrame, fb = b->firstFrame < 0 ? 0x7fffffffL : b->firstFrame;
            if( fa < fb || (fa==fb && strcmp(a->zName, b->zName) <= 0) ) break;
            d->order[j] = d->order[j - 1];
        }
        d->order[j] = t;
    }
    return SPTT_OK;
}

int ann_describe(ann_scene *s, const ann_describe_opts *o, ann_output *out)
{
    int rc = SPTT_OK, nVar = o->nVariants > 0 ? o->nVariants : 1;
    sptt_rng root, scene;
    sptt_rng_seed(&root, o->seed);
    sptt_rng_fork(&root, sptt_hash64(s->zName, strlen(s->zName)), &scene);
    for(int v = 0; v < nVar && rc==SPTT_OK; v++){
        desc_ctx d;
        int nSeen = 0;
        ann_description *D;
        memset(&d, 0, sizeof d);
        d.s = s;
        d.out = out;
        sptt_rng_fork(&scene, 0x10000u + (uint64_t)v, &d.rng);
        d.facts = json_array();
        if( !d.facts || (rc = build_groups(&d)) ){
            rc = rc ? rc : SPTT_ENOMEM;
            ctx_free(&d);
            break;
        }
        room_paragraph(&d);
        paragraph(&d);
        walk_paragraph(&d, &nSeen);
        if( nSeen==0 && d.nGroup > 0 ) say(&d, "The camera does not get a clear look at any object.");
        unseen_and_summary(&d);
        sptt_buf_u8(&d.text, 0);
        if( out->nDesc==out->capDesc ){
            size_t cap = out->capDesc ? 2 * out->capDesc : 4;
            ann_description *g = sptt_realloc(out->desc, cap * sizeof *g);
            if( !g ){ rc = SPTT_ENOMEM; ctx_free(&d); break; }
            out->desc = g;
            out->capDesc = cap;
        }
        D = &out->desc[out->nDesc];
        memset(D, 0, sizeof *D);
        D->variant = v;
        D->zText = strdup((const char *)d.text.p);
        D->zFacts = json_dumps(d.facts, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        out->nDesc++;
        if( !D->zText || !D->zFacts ) rc = sptt_fail(SPTT_ENOMEM, "describe: out of memory");
        ctx_free(&d);
    }
    return rc;
}
