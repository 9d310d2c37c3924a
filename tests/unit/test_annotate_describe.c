/*
** Walkthrough descriptions, read back. The checker below parses the TEXT: it finds the object
** names (singular and plural display forms), the numbers with their units, count words and
** relation phrases in every sentence, and checks each against values it computes itself from the
** scene: room area and height, the outline's minimum rectangle (a brute-force angle sweep),
** longest edges, closest box distances, counts, first-appearance order, supports against the
** generator's truth and the other relations against the scene graph. Every number in the text
** must be accounted for.
*/
#include <criterion/criterion.h>
#include <ctype.h>

#include "annotate_testutil.h"

/* ---------------------------------------------------------------------------------------------
** The scene, as the checker sees it
*/
typedef struct grp {
    char zName[48], zSing[64], zPlural[72];
    int n;
    int member[64];
    int firstFrame;
} grp;

typedef struct checker {
    ann_scene *s;
    const ann_output *out;
    json_t *truth;           /* ground truth, for supports (may be NULL) */
    grp g[128];
    int nG;
    int numbersChecked, numbersSeen, relationsChecked;
    int subjectOrder[128], nSubject;
} checker;

static void build_groups(checker *c)
{
    c->nG = 0;
    for(int i = 0; i < c->s->nObj; i++){
        const char *z = ann_object_name(&c->s->obj[i]);
        int k;
        if( !z[0] ) continue;
        for(k = 0; k < c->nG; k++) if( strcmp(c->g[k].zName, z)==0 ) break;
        if( k==c->nG ){
            memset(&c->g[k], 0, sizeof c->g[k]);
            snprintf(c->g[k].zName, sizeof c->g[k].zName, "%s", z);
            ann_display_names(z, c->g[k].zSing, sizeof c->g[k].zSing, c->g[k].zPlural, sizeof c->g[k].zPlural);
            c->g[k].firstFrame = -1;
            c->nG++;
        }
        c->g[k].member[c->g[k].n++] = i;
        if( c->s->obj[i].firstFrame >= 0 && (c->g[k].firstFrame < 0 || c->s->obj[i].firstFrame < c->g[k].firstFrame) )
            c->g[k].firstFrame = c->s->obj[i].firstFrame;
    }
}

/* A mention of a group in a sentence. */
typedef struct mention { int g; int plural; size_t at, len; } mention;

static int is_alpha(char ch) { return isalpha((unsigned char)ch) || ch=='-'; }

/* Every name mention, longest match first, left to right. */
static int find_mentions(const checker *c, const char *z, mention *m, int cap)
{
    int n = 0;
    size_t len = strlen(z);
    for(size_t i = 0; i < len && n < cap; ){
        size_t best = 0;
        int bg = -1, bp = 0;
        if( i > 0 && is_alpha(z[i - 1]) ){ i++; continue; }
        for(int k = 0; k < c->nG; k++){
            const char *forms[2] = { c->g[k].zSing, c->g[k].zPlural };
            for(int p = 0; p < 2; p++){
                size_t l = strlen(forms[p]);
                if( l > best && strncasecmp(z + i, forms[p], l)==0 && !is_alpha(z[i + l]) ){
                    best = l;
                    bg = k;
                    bp = p && strcmp(forms[1], forms[0])!=0;
                }
            }
        }
        if( bg >= 0 ){
            m[n].g = bg;
            m[n].plural = bp;
            m[n].at = i;
            m[n].len = best;
            n++;
            i += best;
        }else i++;
    }
    return n;
}

typedef struct number { double v; char unit[16]; size_t at; } number;

/* Numbers with their unit word: "cm", "m", "square" (meters), or "" (a bare count). */
static int find_numbers(const char *z, number *num, int cap)
{
    int n = 0;
    for(size_t i = 0; z[i] && n < cap; i++){
        char *end;
        if( !isdigit((unsigned char)z[i]) || (i > 0 && (isalnum((unsigned char)z[i - 1]) || z[i - 1]=='.')) ) continue;
        num[n].v = strtod(z + i, &end);
        num[n].at = i;
        num[n].unit[0] = 0;
        if( *end==' ' ){
            const char *u = end + 1;
            size_t l = 0;
            while( isalpha((unsigned char)u[l]) ) l++;
            snprintf(num[n].unit, sizeof num[n].unit, "%.*s", (int)(l < 15 ? l : 15), u);
        }
        n++;
        i = (size_t)(end - z);
    }
    return n;
}

static const char *const azWord[13] = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                        "ten", "eleven", "twelve" };

/* The count claimed right before a mention ("three chairs", "14 chairs"), or -1. */
static int count_before(const char *z, const mention *m)
{
    size_t e = m->at;
    size_t b;
    char w[16];
    if( e < 2 || z[e - 1]!=' ' ) return -1;
    b = e - 1;
    while( b > 0 && isalnum((unsigned char)z[b - 1]) ) b--;
    snprintf(w, sizeof w, "%.*s", (int)(e - 1 - b < 15 ? e - 1 - b : 15), z + b);
    for(int k = 1; k <= 12; k++) if( strcasecmp(w, azWord[k])==0 ) return k;
    if( isdigit((unsigned char)w[0]) ) return atoi(w);
    return -1;
}

static double longest_cm(const ann_object *o)
{
    char z[32];
    snprintf(z, sizeof z, "%.0f", 100 * fmax(o->box.size[0], fmax(o->box.size[1], o->box.size[2])));
    return atof(z);
}

static double r1(double x)
{
    char z[32];
    snprintf(z, sizeof z, "%.1f", x);
    return atof(z);
}

/* Brute-force minimum rectangle of the outline: sweep the angle in 0.005 degree steps. */
static void brute_extent(const ann_scene *s, double *pLong, double *pShort)
{
    double best = INFINITY;
    int n = 0;
    for(int l = 0; l < s->nLoops; l++) n += s->loopLen[l];
    for(int a = 0; a < 36000; a++){
        double t = a * 0.005 * SPTT_PI / 180, c = cos(t), sn = sin(t), u0 = 1e9, u1 = -1e9, v0 = 1e9, v1 = -1e9;
        for(int i = 0; i < n; i++){
            double u = s->loopPts[i][0] * c + s->loopPts[i][1] * sn, v = -s->loopPts[i][0] * sn + s->loopPts[i][1] * c;
            u0 = fmin(u0, u); u1 = fmax(u1, u); v0 = fmin(v0, v); v1 = fmax(v1, v);
        }
        if( (u1 - u0) * (v1 - v0) < best ){
            best = (u1 - u0) * (v1 - v0);
            *pLong = fmax(u1 - u0, v1 - v0);
            *pShort = fmin(u1 - u0, v1 - v0);
        }
    }
}

static double group_distance(const checker *c, int a, int b)
{
    double best = INFINITY;
    for(int i = 0; i < c->g[a].n; i++)
        for(int j = 0; j < c->g[b].n; j++)
            best = fmin(best, sptt_box_distance(&c->s->obj[c->g[a].member[i]].box, &c->s->obj[c->g[b].member[j]].box));
    return best;
}

/* A relation of the scene graph between some member of group a and some member of b (and c). */
static const ann_relation *graph_has(const checker *c, int a, const char *zRel, int b, int b2, int symmetric)
{
    for(size_t r = 0; r < c->out->nRel; r++){
        const ann_relation *R = &c->out->rel[r];
        int s = -1, o = -1, o2 = -1;
        if( strcmp(R->zRelation, zRel)!=0 ) continue;
        for(int k = 0; k < c->s->nObj; k++){
            if( c->s->obj[k].id==R->subject ) s = k;
            if( c->s->obj[k].id==R->object ) o = k;
            if( R->object2 && c->s->obj[k].id==R->object2 ) o2 = k;
        }
        for(int pass = 0; pass < (symmetric ? 2 : 1); pass++){
            int ss = pass ? o : s, oo = pass ? s : o, inA = 0, inB = 0, inB2 = b2 < 0;
            for(int i = 0; i < c->g[a].n; i++) inA |= c->g[a].member[i]==ss;
            for(int i = 0; i < c->g[b].n; i++) inB |= c->g[b].member[i]==oo || (b2 >= 0 && c->g[b].member[i]==o2);
            for(int i = 0; b2 >= 0 && i < c->g[b2].n; i++) inB2 |= c->g[b2].member[i]==o2 || c->g[b2].member[i]==oo;
            if( inA && inB && inB2 ) return R;
        }
    }
    return NULL;
}

/* The truth's supported_by between members (synthetic scenes only). */
static int truth_supports(const checker *c, int a, int b)
{
    json_t *objs = json_object_get(c->truth, "objects");
    for(size_t i = 0; i < json_array_size(objs); i++){
        json_t *o = json_array_get(objs, i);
        int id = (int)json_integer_value(json_object_get(o, "instance_id")), sb = (int)json_integer_value(json_object_get(o, "supported_by"));
        int inA = 0, inB = 0;
        for(int k = 0; k < c->g[a].n; k++) inA |= c->s->obj[c->g[a].member[k]].id==id;
        for(int k = 0; k < c->g[b].n; k++) inB |= c->s->obj[c->g[b].member[k]].id==sb;
        if( inA && inB ) return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
** Sentence checks
*/
static void check_room_sentence(checker *c, const char *z, const char *zTruthShape)
{
    number num[8];
    int nn = find_numbers(z, num, 8);
    c->numbersSeen += nn;
    if( strstr(z, "square meters") ){
        cr_assert_eq(nn, 1, "%s", z);
        cr_assert_float_eq(num[0].v, r1(c->s->roomArea), 1e-9, "%s", z);
        c->numbersChecked++;
    }else if( strstr(z, " m by ") ){
        double lng, sht;
        cr_assert_eq(nn, 2, "%s", z);
        brute_extent(c->s, &lng, &sht);
        cr_assert_leq(fabs(num[0].v - lng), 0.051, "%s (%.3f)", z, lng);
        cr_assert_leq(fabs(num[1].v - sht), 0.051, "%s (%.3f)", z, sht);
        if( zTruthShape && strcmp(zTruthShape, "rectangle")==0 ) cr_assert(strstr(z, "rectangular"), "%s", z);
        if( zTruthShape && strcmp(zTruthShape, "L")==0 ) cr_assert(strstr(z, "L-shaped"), "%s", z);
        c->numbersChecked += 2;
    }else if( strstr(z, "ceiling") ){
        cr_assert_eq(nn, 1, "%s", z);
        cr_assert_float_eq(num[0].v, r1(c->s->roomHeight), 1e-9, "%s", z);
        c->numbersChecked++;
    }else{
        /* the room type: its evidence must be in the room */
        mention m[8];
        int n = find_mentions(c, z, m, 8);
        cr_assert_eq(nn, 0, "%s", z);
        if( strstr(z, "Nothing in it") ) return;
        cr_assert(strstr(z, "bedroom") || strstr(z, "bathroom") || strstr(z, "kitchen") || strstr(z, "living room")
                  || strstr(z, "office") || strstr(z, "laundry room"), "%s", z);
        cr_assert_gt(n, 0, "%s", z);
    }
}

static void check_walk_sentence(checker *c, const char *z)
{
    mention m[8];
    number num[8];
    int n = find_mentions(c, z, m, 8), nn = find_numbers(z, num, 8), subj, kept = 0;
    cr_assert_gt(n, 0, "no object named: %s", z);
    subj = m[0].g;
    c->numbersSeen += nn;
    /* measures keep their place; counts in digits ("13 chairs") are checked with the names */
    for(int k = 0; k < nn; k++) if( strcmp(num[k].unit, "m")==0 || strcmp(num[k].unit, "cm")==0 || strcmp(num[k].unit, "to")==0 ) num[kept++] = num[k];
    nn = kept;
    /* the order the camera meets things */
    {
        int known = 0;
        for(int k = 0; k < c->nSubject; k++) known |= c->subjectOrder[k]==subj;
        if( !known ){
            cr_assert_geq(c->g[subj].firstFrame, 0, "%s is unseen but in the walk", c->g[subj].zName);
            if( c->nSubject > 0 ) cr_assert_geq(c->g[subj].firstFrame, c->g[c->subjectOrder[c->nSubject - 1]].firstFrame, "%s", z);
            c->subjectOrder[c->nSubject++] = subj;
        }else{
            cr_assert_eq(c->subjectOrder[c->nSubject - 1], subj, "sentences about one group stay together: %s", z);
        }
    }
    /* counts */
    for(int k = 0; k < n; k++){
        int cnt = count_before(z, &m[k]);
        if( cnt > 0 ){
            cr_assert_eq(cnt, c->g[m[k].g].n, "%s", z);
            if( isdigit((unsigned char)z[m[k].at - 2]) ) c->numbersChecked++;
        }
    }
    /* sizes */
    if( nn > 0 && strcmp(num[nn - 1].unit, "cm")==0 ){
        double lo = INFINITY, hi = -INFINITY;
        for(int i = 0; i < c->g[subj].n; i++){
            lo = fmin(lo, longest_cm(&c->s->obj[c->g[subj].member[i]]));
            hi = fmax(hi, longest_cm(&c->s->obj[c->g[subj].member[i]]));
        }
        if( nn==2 ){
            cr_assert(strstr(z, " from ") && strstr(z, " to "), "%s", z);
            cr_assert_float_eq(num[0].v, lo, 1e-9, "%s", z);
            cr_assert_float_eq(num[1].v, hi, 1e-9, "%s", z);
        }else{
            cr_assert_eq(nn, 1);
            cr_assert_float_eq(num[0].v, lo, 1e-9, "%s", z);
            cr_assert_float_eq(num[0].v, hi, 1e-9, "%s", z);
        }
        c->numbersChecked += nn;
        return;
    }
    /* relations */
    if( strstr(z, " between ") ){
        cr_assert_eq(n, 3, "%s", z);
        cr_assert_not_null(graph_has(c, subj, "between", m[1].g, m[2].g, 0), "%s", z);
        c->relationsChecked++;
        return;
    }
    if( strstr(z, " sits on ") || strstr(z, " rests on top of ") || strstr(z, " stands on ") ){
        cr_assert_eq(n, 2, "%s", z);
        cr_assert_not_null(graph_has(c, subj, "supported_by", m[1].g, -1, 0), "%s", z);
        if( c->truth ) cr_assert(truth_supports(c, subj, m[1].g), "the generator disagrees: %s", z);
        c->relationsChecked++;
        return;
    }
    if( strstr(z, " touches ") || strstr(z, " right up against ") ){
        const ann_relation *R = graph_has(c, subj, "near", m[1].g, -1, 1);
        cr_assert_not_null(R, "%s", z);
        cr_assert_lt(group_distance(c, subj, m[1].g), 0.05, "%s", z);
        c->relationsChecked++;
        return;
    }
    {
        static const struct { const char *zPhrase, *zRel; } view[4] = {
            { "to the left of", "left_of" }, { "to the right of", "right_of" }, { "in front of", "in_front_of" }, { "behind", "behind" } };
        for(int k = 0; k < 4; k++){
            if( !strstr(z, view[k].zPhrase) ) continue;
            cr_assert_eq(n, 2, "%s", z);
            cr_assert_not_null(graph_has(c, subj, view[k].zRel, m[1].g, -1, 0), "%s", z);
            c->relationsChecked++;
            return;
        }
    }
    if( nn > 0 ){
        /* a distance in metres to another group */
        cr_assert_eq(nn, 1, "%s", z);
        cr_assert_str_eq(num[0].unit, "m", "%s", z);
        cr_assert_eq(n, 2, "%s", z);
        if( strstr(z, "close to") || strstr(z, "near ") ){
            /* a "near" edge of the graph with this distance */
            int ok = 0;
            for(size_t r = 0; r < c->out->nRel && !ok; r++){
                const ann_relation *R = &c->out->rel[r];
                if( strcmp(R->zRelation, "near")==0 && r1(R->value)==num[0].v && graph_has(c, subj, "near", m[1].g, -1, 1) ) ok = 1;
            }
            cr_assert(ok, "%s", z);
            c->relationsChecked++;
        }else if( strstr(z, "nearest") || strstr(z, "closest") || (c->g[subj].n==1 && c->g[m[1].g].n==1) ){
            cr_assert_float_eq(num[0].v, r1(group_distance(c, subj, m[1].g)), 1e-9, "%s (%.4f)", z, group_distance(c, subj, m[1].g));
        }else{
            cr_assert_fail("unreadable distance sentence: %s", z);
        }
        c->numbersChecked++;
        return;
    }
    /* an introduction: the subject alone, maybe with its count */
    cr_assert_eq(n, 1, "%s", z);
}

static void check_list_sentence(checker *c, const char *z, int unseen)
{
    mention m[64];
    number num[64];
    int n = find_mentions(c, z, m, 64), nn = find_numbers(z, num, 64), seen[128] = {0};
    c->numbersSeen += nn;
    cr_assert_gt(n, 0, "%s", z);
    for(int k = 0; k < n; k++){
        int cnt = count_before(z, &m[k]);
        cr_assert_eq(cnt, c->g[m[k].g].n, "%s: %s", z, c->g[m[k].g].zName);
        if( isdigit((unsigned char)z[m[k].at - 2]) ) c->numbersChecked++;
        if( unseen ) cr_assert_lt(c->g[m[k].g].firstFrame, 0, "%s is seen", c->g[m[k].g].zName);
        seen[m[k].g]++;
    }
    if( !unseen ) for(int k = 0; k < c->nG; k++) cr_assert_eq(seen[k], 1, "summary names %s %d times", c->g[k].zName, seen[k]);
}

/* Reads one description; returns the number of sentences. */
static int check_text(checker *c, const char *zText, const char *zTruthShape)
{
    char *t = strdup(zText), *para = t;
    int iPara = 0, nSent = 0;
    build_groups(c);
    c->nSubject = 0;
    while( para ){
        char *next = strstr(para, "\n\n");
        int kind;
        if( next ){ *next = 0; next += 2; }
        /* paragraphs: room, walk, [unseen], summary */
        kind = iPara==0 ? 0 : (!next ? 3 : (strncmp(para, "Also in", 7)==0 || strncmp(para, "The walk misses", 15)==0
                                            || strncmp(para, "Out of view", 11)==0) ? 2 : 1);
        for(char *sent = para; sent && *sent; ){
            char *end = strstr(sent, ". ");
            if( end ){ *end = 0; end += 2; }
            else if( sent[strlen(sent) - 1]=='.' ) sent[strlen(sent) - 1] = 0;
            if( kind==0 ) check_room_sentence(c, sent, zTruthShape);
            else if( kind==1 ) check_walk_sentence(c, sent);
            else check_list_sentence(c, sent, kind==2);
            nSent++;
            sent = end;
        }
        para = next;
        iPara++;
    }
    free(t);
    return nSent;
}

/* ---------------------------------------------------------------------------------------------
** Tests
*/
Test(describe, synthetic_scenes_read_back)
{
    char zDir[64];
    glob_t gl;
    int nNumbers = 0, nRel = 0, nAgree = 0, nTyped = 0;
    tu_synth(zDir, sizeof zDir, 51, 2, SPTT_SYNTH_SCANNET | SPTT_SYNTH_ARKIT, 30);
    tu_truth_paths(zDir, &gl);
    for(size_t p = 0; p < gl.gl_pathc; p++){
        ann_scene s;
        json_t *g;
        ann_output out;
        ann_describe_opts o = { 13, 3 };
        checker c;
        cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[p], &s, &g), 0);
        tu_set_appearance(&s);
        memset(&out, 0, sizeof out);
        cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
        cr_assert_eq(ann_describe(&s, &o, &out), SPTT_OK, "%s", sptt_errmsg());
        cr_assert_eq(out.nDesc, 3);
        for(size_t d = 0; d < out.nDesc; d++){
            json_error_t e;
            json_t *facts = json_loads(out.desc[d].zFacts, 0, &e);
            memset(&c, 0, sizeof c);
            c.s = &s;
            c.out = &out;
            c.truth = g;
            cr_assert_eq(out.desc[d].variant, (int)d);
            cr_assert_gt(check_text(&c, out.desc[d].zText, json_string_value(json_object_get(json_object_get(g, "room"), "shape"))), 10);
            cr_assert_eq(c.numbersChecked, c.numbersSeen, "every number is checked (%d of %d)\n%s", c.numbersChecked,
                         c.numbersSeen, out.desc[d].zText);
            nNumbers += c.numbersChecked;
            nRel += c.relationsChecked;
            /* the facts are JSON with the kinds the text is built from */
            cr_assert(json_is_array(facts));
            cr_assert_gt(json_array_size(facts), 5);
            cr_assert_str_eq(json_string_value(json_object_get(json_array_get(facts, 0), "kind")), "room_type");
            if( d==0 ){
                /* the generator's scene type agrees with the guess most of the time */
                const char *zGuess = json_string_value(json_object_get(json_array_get(facts, 0), "value"));
                const char *zType = json_string_value(json_object_get(g, "scene_type"));
                if( zGuess && zType && strcmp(zType, "Apartment")!=0 ){
                    char zLow[64];
                    snprintf(zLow, sizeof zLow, "%s", zType);
                    for(char *q = zLow; *q; q++) *q = (char)tolower((unsigned char)*q);
                    nTyped++;
                    nAgree += strstr(zLow, zGuess)!=NULL;
                }
            }
            json_decref(facts);
        }
        cr_assert_str_neq(out.desc[0].zText, out.desc[1].zText, "variants are phrased differently");
        ann_output_free(&out);
        ann_scene_free(&s);
        json_decref(g);
    }
    cr_assert_gt(nNumbers, 100);
    cr_assert_gt(nRel, 20);
    cr_assert_geq(nAgree * 2, nTyped, "%d of %d scene types agree", nAgree, nTyped);
    globfree(&gl);
    tu_rmdir(zDir);
}

/* Hand-built: plural-named objects, large counts, an object never seen, an L-shaped outline. */
Test(describe, hand_built_room_reads_back)
{
    ann_scene s;
    ann_output out;
    ann_describe_opts o = { 3, 4 };
    checker c;
    int id = 1;
    memset(&s, 0, sizeof s);
    snprintf(s.zName, sizeof s.zName, "hand_built");
    s.nLoops = 1;
    s.loopLen = calloc(1, sizeof(int));
    s.loopLen[0] = 6;
    s.loopPts = calloc(6, sizeof(double[2]));
    {
        static const double L[6][2] = { { 0, 0 }, { 6, 0 }, { 6, 3 }, { 3, 3 }, { 3, 5 }, { 0, 5 } };
        memcpy(s.loopPts, L, sizeof L);
    }
    s.roomArea = 24.0;
    s.roomHeight = 2.75;
    s.pack.nFrames = 20;
    s.pack.frames = calloc(20, sizeof *s.pack.frames);
    tu_add(&s, id++, "desk", 1, 1, 0.375, 1.4, 0.7, 0.75, 0);
    tu_add(&s, id++, "monitor", 1, 1.1, 0.95, 0.55, 0.2, 0.4, 0);
    tu_add(&s, id++, "", 1.6, 0.9, 0.8, 0.25, 0.2, 0.1, 0);
    snprintf(s.obj[2].zRaw, sizeof s.obj[2].zRaw, "books");
    snprintf(s.obj[2].zLabel, sizeof s.obj[2].zLabel, "books");
    s.obj[2].nyu40 = 23;
    for(int k = 0; k < 13; k++) tu_add(&s, id++, "chair", 4 + 0.6 * (k % 3), 0.5 + 0.6 * (k / 3) * 0.4, 0.45, 0.45, 0.45, 0.9, 10 * k);
    tu_add(&s, id++, "bed", 1.5, 4, 0.4, 2.0, 1.5, 0.8, 0);
    tu_add(&s, id++, "computer mouse", 1.3, 0.8, 0.765, 0.06, 0.1, 0.03, 0);
    for(int i = 0; i < s.nObj; i++){
        s.obj[i].firstFrame = i < 16 ? i / 4 : -1;   /* the bed and the mouse are never seen */
        s.obj[i].firstTime = s.obj[i].firstFrame;
    }
    memset(&out, 0, sizeof out);
    cr_assert_eq(ann_relations(&s, &out), SPTT_OK);
    cr_assert_eq(ann_describe(&s, &o, &out), SPTT_OK);
    cr_assert_eq(out.nDesc, 4);
    for(size_t d = 0; d < out.nDesc; d++){
        const char *z = out.desc[d].zText;
        memset(&c, 0, sizeof c);
        c.s = &s;
        c.out = &out;
        check_text(&c, z, "L");
        cr_assert_eq(c.numbersChecked, c.numbersSeen, "%s", z);
        cr_assert(strstr(z, "L-shaped"), "%s", z);
        cr_assert(strstr(z, "13 chairs"), "%s", z);
        cr_assert(strstr(z, "set of books"), "%s", z);
        cr_assert(strstr(z, "office"), "%s", z);
        cr_assert(strstr(z, "one bed") && strstr(z, "one computer mouse"), "%s", z);
        cr_assert(strstr(z, "24.0 square meters"), "%s", z);
        cr_assert(strstr(z, "6.0 m by 5.0 m"), "%s", z);
        cr_assert(strstr(z, "2.8 m"), "the height rounds half to even on 2.75 exactly: %s", z);
        cr_assert(strstr(z, "sits on the desk") || strstr(z, "rests on top of the desk") || strstr(z, "stands on the desk"),
                  "the monitor's support is stated: %s", z);
    }
    ann_output_free(&out);
    ann_scene_free(&s);
}

Test(describe, same_seed_same_text)
{
    char zDir[64];
    glob_t gl;
    ann_output a, b, c;
    ann_describe_opts o1 = { 8, 2 }, o2 = { 9, 2 };
    ann_scene s;
    tu_synth(zDir, sizeof zDir, 52, 1, SPTT_SYNTH_SCANNET, 20);
    tu_truth_paths(zDir, &gl);
    cr_assert_eq(tu_scene_from_truth(gl.gl_pathv[0], &s, NULL), 0);
    tu_set_appearance(&s);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    cr_assert_eq(ann_relations(&s, &a), SPTT_OK);
    cr_assert_eq(ann_relations(&s, &b), SPTT_OK);
    cr_assert_eq(ann_relations(&s, &c), SPTT_OK);
    cr_assert_eq(ann_describe(&s, &o1, &a), SPTT_OK);
    cr_assert_eq(ann_describe(&s, &o1, &b), SPTT_OK);
    cr_assert_eq(ann_describe(&s, &o2, &c), SPTT_OK);
    for(int d = 0; d < 2; d++){
        cr_assert_str_eq(a.desc[d].zText, b.desc[d].zText);
        cr_assert_str_eq(a.desc[d].zFacts, b.desc[d].zFacts);
    }
    cr_assert(strcmp(a.desc[0].zText, c.desc[0].zText)!=0 || strcmp(a.desc[1].zText, c.desc[1].zText)!=0);
    ann_output_free(&a);
    ann_output_free(&b);
    ann_output_free(&c);
    ann_scene_free(&s);
    globfree(&gl);
    tu_rmdir(zDir);
}

Test(describe, plurals_and_counts)
{
    char z[64], p[72];
    ann_plural("chair", z, sizeof z);
    cr_assert_str_eq(z, "chairs");
    ann_plural("bench", z, sizeof z);
    cr_assert_str_eq(z, "benches");
    ann_plural("box", z, sizeof z);
    cr_assert_str_eq(z, "boxes");
    ann_plural("computer mouse", z, sizeof z);
    cr_assert_str_eq(z, "computer mice");
    ann_plural("shelf", z, sizeof z);
    cr_assert_str_eq(z, "shelves");
    ann_plural("dishwasher", z, sizeof z);
    cr_assert_str_eq(z, "dishwashers");
    ann_display_names("books", z, sizeof z, p, sizeof p);
    cr_assert_str_eq(z, "set of books");
    cr_assert_str_eq(p, "sets of books");
    cr_assert_str_eq(ann_count_word(12), "twelve");
    cr_assert_null(ann_count_word(13));
}
