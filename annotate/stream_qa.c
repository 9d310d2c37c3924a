/*
** The questions of one long-horizon stream: rooms walked one after another as one video, asked
** at the last frame of each room (the query frame q_j of room j; frames are global, so q_j is
** the frames of rooms 0..j less one).
**
** What "seen" means. Annotate's projection stores, per projected frame and instance, the visible
** pixels (the visibility table). An instance is *seen* from the first frame where it shows at
** least its scene's min-pixels (annotate's own appearance rule), and *glimpsed* from the first
** frame where it shows any pixel. An instance glimpsed but not yet seen at q is in doubt at q: a
** viewer may or may not have counted it, so no question whose answer it could change is asked.
** Only instances with a QA category take part (the same categories as the scene questions).
**
** The three types, at q = q_j:
**
**   stream_object_counting   "How many <category>(s) have appeared so far ...?": the instances
**       of the category seen by q, over every room so far (instances of different rooms are
**       different objects). Asked when that count is 2 or more (VSI-Bench counts only categories
**       of two or more) and no instance of the category is in doubt at q. Numeric, MRA.
**
**   stream_appearance_order  (j >= 1) four categories seen by q, in the order they were first
**       seen. A category's onset runs from its first glimpse G to its first seen frame F (over its
**       instances); a set is asked only when, sorted by F, each category's F lies more than 1 s
**       (stream time) before the next one's G, so no order is a matter of pixels or of a tie, and
**       when the four first appeared in at least two rooms (the question spans the walk). The
**       answer and three other orders, 4 options, answer at the least-used letter.
**
**   stream_first_room        (j >= 1) "In which room did a <category> first appear?": the room
**       of F. Asked only when G lies in the same room (the category was not glimpsed in an earlier
**       room), and once per category per stream (the answer cannot change later). Options: the
**       rooms 1..j+1, or the answer and three other rooms drawn when there are more than four.
**       The categories asked are taken room by room in turn (the room this stream asked least first),
**       so answers spread over the rooms, and the letter is the least-used one.
**
** Each query frame keeps at most ANN_STREAM_CAP_* questions of a type, drawn after a shuffle.
** Every draw comes from the stream's own random stream forked per type and query frame, and every
** candidate list is built in category-name order, so a seed gives the same questions byte for
** byte.
*/
#include "ann_content.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const azType[3] = { "stream_object_counting", "stream_appearance_order", "stream_first_room" };

const char *ann_stream_type_name(int type)
{
    return type >= 0 && type < 3 ? azType[type] : NULL;
}

void ann_stream_out_free(ann_stream_out *o)
{
    for(int i = 0; i < o->n; i++){
        ann_stream_qa *q = &o->a[i];
        free(q->zQuestion);
        free(q->zOptions);
        free(q->zGroundTruth);
        free(q->zAnswerText);
        free(q->zObjects);
        free(q->zPrompt);
        free(q->zMeta);
    }
    free(o->a);
    memset(o, 0, sizeof *o);
}

/* The onset of each category at query frame q. */
typedef struct cat_state {
    int nSeen;               /* instances seen by q */
    int doubt;               /* an instance glimpsed by q but not seen by q */
    int64_t first;           /* F: first seen frame, -1 none */
    int64_t glimpse;         /* G: first glimpsed frame, -1 none */
    int firstRoom, glimpseRoom;
} cat_state;

static void cat_states(const ann_stream_in *in, int64_t q, cat_state *a)
{
    for(int c = 0; c < in->nCat; c++){
        memset(&a[c], 0, sizeof a[c]);
        a[c].first = a[c].glimpse = -1;
        a[c].firstRoom = a[c].glimpseRoom = -1;
    }
    for(int i = 0; i < in->nInst; i++){
        const ann_stream_inst *o = &in->aInst[i];
        cat_state *s = &a[o->cat];
        assert(o->cat >= 0 && o->cat < in->nCat);
        if( o->glimpse < 0 || o->glimpse > q ) continue;
        if( s->glimpse < 0 || o->glimpse < s->glimpse ){
            s->glimpse = o->glimpse;
            s->glimpseRoom = o->room;
        }
        if( o->seen < 0 || o->seen > q ){
            s->doubt = 1;
            continue;
        }
        s->nSeen++;
        if( s->first < 0 || o->seen < s->first ){
            s->first = o->seen;
            s->firstRoom = o->room;
        }
    }
}

static char *json_text(json_t *j)
{
    char *z = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(j);
    return z;
}

/* Appends a question; takes objects and meta. m NULL: numeric, zAnswer the number. */
static int push(ann_stream_out *out, int type, int64_t q, const char *zQuestion, const ann_mc *m, const char *zAnswer,
                json_t *objects, json_t *meta)
{
    ann_stream_qa *r;
    sptt_buf b = {0};
    int rc = SPTT_OK;
    if( out->n==out->cap ){
        int cap = out->cap ? 2 * out->cap : 32;
        ann_stream_qa *g = sptt_realloc(out->a, sizeof *g * (size_t)cap);
        if( g==NULL ){
            json_decref(objects);
            json_decref(meta);
            return SPTT_ENOMEM;
        }
        out->a = g;
        out->cap = cap;
    }
    r = &out->a[out->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->zType, sizeof r->zType, "%s", azType[type]);
    r->queryFrame = q;
    r->zQuestion = strdup(zQuestion);
    r->zAnswerText = strdup(zAnswer);
    if( m ){
        json_t *opt = json_array();
        char zL[2] = { (char)('A' + m->answer), 0 };
        for(int i = 0; i < m->n; i++) json_array_append_new(opt, json_string(m->az[i]));
        r->zOptions = json_text(opt);
        r->zGroundTruth = strdup(zL);
    }else{
        r->zGroundTruth = strdup(zAnswer);
    }
    ann_qa_prompt(&b, zQuestion, m);
    r->zPrompt = b.rc ? NULL : strdup((const char *)b.p);
    sptt_buf_free(&b);
    r->zObjects = json_text(objects);
    r->zMeta = json_text(meta);
    if( !r->zQuestion || !r->zAnswerText || (m && !r->zOptions) || !r->zGroundTruth || !r->zPrompt || !r->zObjects || !r->zMeta )
        rc = sptt_fail(SPTT_ENOMEM, "annotate: out of memory building a %s question", azType[type]);
    else out->aPerType[type]++;
    return rc;
}

/* The instances of category c seen by q, as [[room, instance], ...]. */
static json_t *seen_list(const ann_stream_in *in, int c, int64_t q)
{
    json_t *a = json_array();
    for(int i = 0; i < in->nInst; i++){
        const ann_stream_inst *o = &in->aInst[i];
        if( o->cat==c && o->seen >= 0 && o->seen <= q ) json_array_append_new(a, json_pack("[i,i]", o->room, o->instance));
    }
    return a;
}

/* ---------------------------------------------------------------------------------------------
** stream_object_counting
*/
static int counting(const ann_stream_in *in, const cat_state *st, int64_t q, sptt_rng *r, ann_stream_out *out)
{
    int *cand = sptt_calloc((size_t)in->nCat + 1, sizeof *cand), n = 0, rc = SPTT_OK;
    if( cand==NULL ) return SPTT_ENOMEM;
    for(int c = 0; c < in->nCat; c++){
        if( st[c].nSeen < 2 ) continue;
        if( st[c].doubt ){
            out->aRejected[ANN_STREAM_COUNTING]++;
            continue;
        }
        cand[n++] = c;
    }
    sptt_rng_shuffle(r, cand, (size_t)n, sizeof *cand);
    for(int i = 0; i < n && i < ANN_STREAM_CAP_COUNTING && rc==SPTT_OK; i++){
        int c = cand[i];
        char zQ[256], zA[16];
        snprintf(zQ, sizeof zQ, "How many %s(s) have appeared so far in this video, counting every room it has walked through?",
                 in->azCat[c]);
        snprintf(zA, sizeof zA, "%d", st[c].nSeen);
        rc = push(out, ANN_STREAM_COUNTING, q, zQ, NULL, zA, json_pack("{s:s,s:o}", "category", in->azCat[c], "seen", seen_list(in, c, q)),
                  json_pack("{s:i}", "count", st[c].nSeen));
    }
    free(cand);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** stream_appearance_order
*/
typedef struct first_key {
    int64_t first;
    int cat;
} first_key;

static int cmp_first(const void *a, const void *b)
{
    const first_key *x = a, *y = b;
    if( x->first!=y->first ) return x->first < y->first ? -1 : 1;
    return x->cat - y->cat;
}

static int appearance(const ann_stream_in *in, const cat_state *st, int64_t q, sptt_rng *r, ann_stream_letters *L,
                      ann_stream_out *out)
{
    int *el = sptt_calloc((size_t)in->nCat + 1, sizeof *el), nEl = 0, rc = SPTT_OK;
    first_key *key = sptt_calloc((size_t)in->nCat + 1, sizeof *key);
    int (*cand)[4] = NULL;
    size_t n = 0, cap = 0;
    if( el==NULL || key==NULL ){
        free(el);
        free(key);
        return SPTT_ENOMEM;
    }
    for(int c = 0; c < in->nCat; c++) if( st[c].first >= 0 ) key[nEl++] = (first_key){ st[c].first, c };
    /* by first seen frame, so a combination's members come sorted */
    qsort(key, (size_t)nEl, sizeof *key, cmp_first);
    for(int i = 0; i < nEl; i++) el[i] = key[i].cat;
    free(key);
    if( nEl >= 4 ){
        int idx[4] = { 0, 1, 2, 3 };
        for(;;){
            int ok = 1, multiRoom = 0;
            for(int a = 0; a < 3 && ok; a++){
                /* el is sorted by F, so each member only needs to end before the later ones begin */
                for(int b = a + 1; b < 4 && ok; b++){
                    const cat_state *x = &st[el[idx[a]]], *y = &st[el[idx[b]]];
                    if( !(in->aTime[x->first] + 1.0 < in->aTime[y->glimpse]) ) ok = 0;
                }
            }
            for(int a = 1; a < 4; a++) multiRoom |= st[el[idx[a]]].firstRoom!=st[el[idx[0]]].firstRoom;
            if( ok && multiRoom ){
                if( n==cap ){
                    size_t nc = cap ? 2 * cap : 64;
                    int (*g)[4] = sptt_realloc(cand, nc * sizeof *g);
                    if( g==NULL ){ rc = SPTT_ENOMEM; goto done; }
                    cand = g;
                    cap = nc;
                }
                for(int k = 0; k < 4; k++) cand[n][k] = el[idx[k]];
                n++;
            }else{
                out->aRejected[ANN_STREAM_APPEARANCE]++;
            }
            int i = 3;
            while( i >= 0 && idx[i]==nEl - 4 + i ) i--;
            if( i < 0 ) break;
            idx[i]++;
            for(int j = i + 1; j < 4; j++) idx[j] = idx[j - 1] + 1;
        }
    }
    if( n > 1 ) sptt_rng_shuffle(r, cand, n, sizeof *cand);
    for(size_t k = 0; k < n && k < ANN_STREAM_CAP_APPEARANCE && rc==SPTT_OK; k++){
        static const int perms[24][4] = {
            {0,1,2,3},{0,1,3,2},{0,2,1,3},{0,2,3,1},{0,3,1,2},{0,3,2,1},{1,0,2,3},{1,0,3,2},{1,2,0,3},{1,2,3,0},
            {1,3,0,2},{1,3,2,0},{2,0,1,3},{2,0,3,1},{2,1,0,3},{2,1,3,0},{2,3,0,1},{2,3,1,0},{3,0,1,2},{3,0,2,1},
            {3,1,0,2},{3,1,2,0},{3,2,0,1},{3,2,1,0} };
        const int *set = cand[k];
        int other[23], shown[4];
        char azText[4][200], zQ[600];
        const char *az[4];
        ann_mc m;
        json_t *objs = json_array(), *first = json_object(), *glimpse = json_object(), *rooms = json_object();
        for(int i = 0; i < 23; i++) other[i] = i + 1;
        sptt_rng_shuffle(r, other, 23, sizeof other[0]);
        for(int c = 0; c < 4; c++){
            const int *p = perms[c==0 ? 0 : other[c - 1]];
            snprintf(azText[c], sizeof azText[c], "%s, %s, %s, %s", in->azCat[set[p[0]]], in->azCat[set[p[1]]], in->azCat[set[p[2]]],
                     in->azCat[set[p[3]]]);
            az[c] = azText[c];
        }
        memcpy(shown, set, sizeof shown);
        sptt_rng_shuffle(r, shown, 4, sizeof shown[0]);
        snprintf(zQ, sizeof zQ, "What has been the first-time appearance order of the following categories in this video so far: "
                 "%s, %s, %s, %s?", in->azCat[shown[0]], in->azCat[shown[1]], in->azCat[shown[2]], in->azCat[shown[3]]);
        ann_qa_layout(r, L->order, az, 4, &m);
        for(int i = 0; i < 4; i++){
            const cat_state *s = &st[set[i]];
            json_array_append_new(objs, json_string(in->azCat[shown[i]]));
            json_object_set_new(first, in->azCat[set[i]], json_integer(s->first));
            json_object_set_new(glimpse, in->azCat[set[i]], json_integer(s->glimpse));
            json_object_set_new(rooms, in->azCat[set[i]], json_integer(s->firstRoom + 1));
        }
        rc = push(out, ANN_STREAM_APPEARANCE, q, zQ, &m, azText[0], json_pack("{s:o}", "categories", objs),
                  json_pack("{s:o,s:o,s:o}", "first_frame", first, "first_glimpse", glimpse, "first_room", rooms));
    }

done:
    free(cand);
    free(el);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** stream_first_room
*/
static int first_room(const ann_stream_in *in, const cat_state *st, int j, int64_t q, sptt_rng *r, ann_stream_letters *L,
                      unsigned char *asked, int *roomTally, ann_stream_out *out)
{
    int nRoom = j + 1, rc = SPTT_OK, nPicked = 0;
    int *cand = sptt_calloc((size_t)in->nCat + 1, sizeof *cand), *perRoom = sptt_calloc((size_t)nRoom, sizeof *perRoom);
    int *start = sptt_calloc((size_t)nRoom + 1, sizeof *start), *taken = sptt_calloc((size_t)nRoom, sizeof *taken), n = 0;
    if( !cand || !perRoom || !start || !taken ){ rc = SPTT_ENOMEM; goto done; }
    /* candidates grouped by answer room, in name order within a room, then shuffled per room */
    for(int room = 0; room < nRoom; room++){
        start[room] = n;
        for(int c = 0; c < in->nCat; c++){
            if( asked[c] || st[c].first < 0 || st[c].firstRoom!=room ) continue;
            if( st[c].glimpseRoom!=st[c].firstRoom ){
                out->aRejected[ANN_STREAM_FIRST_ROOM]++;
                continue;
            }
            cand[n++] = c;
        }
        perRoom[room] = n - start[room];
        if( perRoom[room] > 1 ) sptt_rng_shuffle(r, cand + start[room], (size_t)perRoom[room], sizeof *cand);
    }
    start[nRoom] = n;
    while( nPicked < ANN_STREAM_CAP_FIRST_ROOM && rc==SPTT_OK ){
        int room = -1, c, nOpt;
        int aOpt[4];
        char azText[4][32], zQ[300];
        const char *az[4];
        ann_mc m;
        /* the room the stream has asked least so far that has a candidate left; ties to the earlier room */
        for(int k = 0; k < nRoom; k++)
            if( taken[k] < perRoom[k] && (room < 0 || roomTally[k] < roomTally[room]) ) room = k;
        if( room < 0 ) break;
        c = cand[start[room] + taken[room]++];
        roomTally[room]++;
        asked[c] = 1;
        nPicked++;
        /* options: the answer, then the other rooms (three of them drawn when more) */
        aOpt[0] = room;
        {
            int others[ANN_STREAM_MAX_ROOMS], nO = 0;
            for(int k = 0; k < nRoom; k++) if( k!=room ) others[nO++] = k;
            if( nO > 3 ) sptt_rng_shuffle(r, others, (size_t)nO, sizeof others[0]);
            nOpt = 1 + (nO < 3 ? nO : 3);
            for(int k = 1; k < nOpt; k++) aOpt[k] = others[k - 1];
        }
        for(int k = 0; k < nOpt; k++){
            snprintf(azText[k], sizeof azText[k], "room %d", aOpt[k] + 1);
            az[k] = azText[k];
        }
        snprintf(zQ, sizeof zQ, "This video walks through several rooms, one after another; they are numbered in the order the video "
                 "enters them. In which room did a %s first appear?", in->azCat[c]);
        ann_qa_layout(r, L->room[nOpt], az, nOpt, &m);
        rc = push(out, ANN_STREAM_FIRST_ROOM, q, zQ, &m, azText[0],
                  json_pack("{s:s,s:o}", "category", in->azCat[c], "seen", seen_list(in, c, q)),
                  json_pack("{s:i,s:I,s:I}", "room", room + 1, "first_frame", (json_int_t)st[c].first, "first_glimpse",
                            (json_int_t)st[c].glimpse));
    }

done:
    free(cand);
    free(perRoom);
    free(start);
    free(taken);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
*/
int ann_stream_questions(const ann_stream_in *in, sptt_rng *rng, ann_stream_letters *letters, ann_stream_out *out)
{
    cat_state *st = sptt_calloc((size_t)in->nCat + 1, sizeof *st);
    unsigned char *asked = sptt_calloc((size_t)in->nCat + 1, 1);
    int *roomTally = sptt_calloc((size_t)in->nRoom + 1, sizeof *roomTally);
    int rc = SPTT_OK;
    if( in->nRoom > ANN_STREAM_MAX_ROOMS ){
        free(st);
        free(asked);
        free(roomTally);
        return sptt_fail(SPTT_EINVAL, "streams: %d rooms; at most %d", in->nRoom, ANN_STREAM_MAX_ROOMS);
    }
    if( !st || !asked || !roomTally ){
        free(st);
        free(asked);
        free(roomTally);
        return SPTT_ENOMEM;
    }
    for(int j = 0; j < in->nRoom && rc==SPTT_OK; j++){
        int64_t q = in->aOffset[j] + in->aCount[j] - 1;
        sptt_rng r;
        assert(q >= 0 && q < in->nFrames);
        cat_states(in, q, st);
        sptt_rng_fork(rng, 3 * (uint64_t)j + 1, &r);
        rc = counting(in, st, q, &r, out);
        if( rc==SPTT_OK && j >= 1 ){
            sptt_rng_fork(rng, 3 * (uint64_t)j + 2, &r);
            rc = appearance(in, st, q, &r, letters, out);
        }
        if( rc==SPTT_OK && j >= 1 ){
            sptt_rng_fork(rng, 3 * (uint64_t)j + 3, &r);
            rc = first_room(in, st, j, q, &r, letters, asked, roomTally, out);
        }
    }
    free(st);
    free(asked);
    free(roomTally);
    return rc;
}
