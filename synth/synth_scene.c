/*
** Synthetic scene builder: rooms, furniture, meshes and the camera walk.
**
** Everything is drawn from one seeded stream per scene, in a fixed order, so a seed always gives
** the same scene. Geometry is exact by construction: every object is a union of parts whose
** bounding box is exactly the object's declared box, so the ground truth box is the true
** minimal box of the object's vertices (up to float rounding), which the geometry tests rely on.
*/
#include "synth.h"
#include "sptt_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG (SPTT_PI / 180.0)

/* ---------------------------------------------------------------------------------------------
** Categories. Sizes are plausible real ranges (metres). Raw names are rows of the v2 label table;
** zOld spellings come from older releases and are absent from it, as in real data.
*/
static const synth_category aCat[] = {
    /* key            name             alt                 old         arkit          nyu shape      place    lo                  hi                  zLo   zHi   on                                  color            tilt */
    {"bed",          "bed",            NULL,               NULL,       "bed",          0, SH_BED,     PL_BACK, {1.35, 1.95, 0.85}, {1.90, 2.15, 1.15}, 0, 0, NULL,                                  {190, 172, 150}, 0},
    {"chair",        "chair",          "office chair",     NULL,       "chair",        0, SH_CHAIR,   PL_FREE, {0.44, 0.44, 0.80}, {0.58, 0.58, 1.00}, 0, 0, NULL,                                  {125, 82, 50},   0},
    {"sofa",         "sofa",           "couch",            NULL,       "sofa",         0, SH_SOFA,    PL_BACK, {1.60, 0.80, 0.75}, {2.30, 1.00, 0.95}, 0, 0, NULL,                                  {105, 110, 145}, 0},
    {"table",        "table",          "coffee table",     NULL,       "table",        0, SH_TABLE,   PL_FREE, {0.80, 0.60, 0.70}, {1.60, 1.00, 0.78}, 0, 0, NULL,                                  {150, 110, 70},  0},
    {"desk",         "desk",           NULL,               NULL,       "table",        0, SH_TABLE,   PL_BACK, {1.00, 0.60, 0.72}, {1.60, 0.80, 0.76}, 0, 0, NULL,                                  {172, 140, 100}, 0},
    {"nightstand",   "nightstand",     NULL,               NULL,       "cabinet",      0, SH_BOX,     PL_BACK, {0.40, 0.35, 0.45}, {0.55, 0.45, 0.62}, 0, 0, NULL,                                  {140, 100, 62},  0},
    {"cabinet",      "cabinet",        "kitchen cabinets", NULL,       "cabinet",      0, SH_BOX,     PL_BACK, {0.60, 0.40, 0.80}, {1.20, 0.60, 1.90}, 0, 0, NULL,                                  {205, 192, 170}, 0},
    {"bookshelf",    "bookshelf",      NULL,               NULL,       "shelf",        0, SH_SHELF,   PL_BACK, {0.60, 0.28, 1.40}, {1.20, 0.40, 2.00}, 0, 0, NULL,                                  {120, 86, 55},   0},
    {"dresser",      "dresser",        NULL,               NULL,       "cabinet",      0, SH_BOX,     PL_BACK, {0.90, 0.45, 0.80}, {1.50, 0.55, 1.10}, 0, 0, NULL,                                  {160, 120, 80},  0},
    {"refrigerator", "refrigerator",   NULL,               NULL,       "refrigerator", 0, SH_BOX,     PL_BACK, {0.60, 0.60, 1.60}, {0.90, 0.75, 1.90}, 0, 0, NULL,                                  {226, 226, 230}, 0},
    {"trash_can",    "trash can",      "recycling bin",    "trashcan", NULL,           0, SH_CYL,     PL_FREE, {0.25, 0.25, 0.35}, {0.40, 0.40, 0.70}, 0, 0, NULL,                                  {62, 62, 68},    0},
    {"plant",        "plant",          NULL,               NULL,       NULL,           0, SH_PLANT,   PL_FREE, {0.30, 0.30, 0.50}, {0.60, 0.60, 1.40}, 0, 0, NULL,                                  {62, 140, 52},   0},
    {"lamp_floor",   "lamp",           NULL,               NULL,       NULL,           0, SH_LAMP,    PL_FREE, {0.30, 0.30, 1.40}, {0.45, 0.45, 1.80}, 0, 0, NULL,                                  {236, 226, 192}, 0},
    {"toilet",       "toilet",         NULL,               NULL,       "toilet",       0, SH_TOILET,  PL_BACK, {0.38, 0.65, 0.70}, {0.45, 0.75, 0.80}, 0, 0, NULL,                                  {242, 242, 242}, 0},
    {"bathtub",      "bathtub",        NULL,               NULL,       "bathtub",      0, SH_TUB,     PL_BACK, {0.70, 1.50, 0.50}, {0.80, 1.70, 0.60}, 0, 0, NULL,                                  {236, 236, 242}, 0},
    {"stool",        "stool",          NULL,               NULL,       "stool",        0, SH_STOOL,   PL_FREE, {0.32, 0.32, 0.45}, {0.42, 0.42, 0.75}, 0, 0, NULL,                                  {100, 70, 42},   0},
    {"piano",        "piano",          NULL,               NULL,       NULL,           0, SH_PIANO,   PL_BACK, {1.40, 0.50, 1.10}, {1.55, 0.62, 1.30}, 0, 0, NULL,                                  {32, 26, 26},    0},
    {"washer",       "washing machine", NULL,              NULL,       "washer",       0, SH_BOX,     PL_BACK, {0.58, 0.55, 0.82}, {0.62, 0.65, 0.88}, 0, 0, NULL,                                  {230, 230, 236}, 0},
    {"stove",        "stove",          NULL,               NULL,       "stove",        0, SH_BOX,     PL_BACK, {0.60, 0.60, 0.88}, {0.76, 0.66, 0.94}, 0, 0, NULL,                                  {90, 90, 96},    0},
    {"dishwasher",   "dishwasher",     NULL,               NULL,       "dishwasher",   0, SH_BOX,     PL_BACK, {0.58, 0.58, 0.82}, {0.62, 0.62, 0.88}, 0, 0, NULL,                                  {200, 200, 206}, 0},
    {"fireplace",    "fireplace",      NULL,               NULL,       "fireplace",    0, SH_BOX,     PL_BACK, {1.20, 0.35, 1.00}, {1.60, 0.50, 1.20}, 0, 0, NULL,                                  {150, 92, 70},   0},
    {"counter",      "counter",        NULL,               NULL,       NULL,           0, SH_BOX,     PL_BACK, {1.20, 0.60, 0.88}, {2.40, 0.65, 0.94}, 0, 0, NULL,                                  {192, 182, 170}, 0},
    {"guitar",       "guitar",         NULL,               NULL,       NULL,           0, SH_BOX,     PL_FREE, {0.33, 0.09, 0.95}, {0.40, 0.12, 1.05}, 0, 0, NULL,                                  {172, 102, 42},  1.0},
    {"backpack",     "backpack",       NULL,               NULL,       NULL,           0, SH_BOX,     PL_FREE, {0.28, 0.16, 0.38}, {0.35, 0.24, 0.50}, 0, 0, NULL,                                  {42, 62, 122},   0.6},
    {"box",          "box",            NULL,               NULL,       NULL,           0, SH_BOX,     PL_FREE, {0.25, 0.20, 0.20}, {0.60, 0.50, 0.50}, 0, 0, NULL,                                  {182, 142, 92},  0.2},
    {"fan",          "fan",            NULL,               NULL,       NULL,           0, SH_FAN,     PL_FREE, {0.35, 0.30, 1.00}, {0.45, 0.40, 1.30}, 0, 0, NULL,                                  {222, 222, 226}, 0},
    {"radiator",     "radiator",       NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.60, 0.10, 0.50}, {1.20, 0.14, 0.70}, 0.08, 0.15, NULL,                         {236, 236, 236}, 0},
    {"tv_wall",      "tv",             NULL,               NULL,       "tv_monitor",   0, SH_BOX,     PL_WALL, {0.90, 0.06, 0.55}, {1.40, 0.09, 0.80}, 0.90, 1.20, NULL,                         {22, 22, 26},    0},
    {"tv_top",       "tv",             NULL,               NULL,       "tv_monitor",   0, SH_MONITOR, PL_TOP,  {0.80, 0.22, 0.52}, {1.20, 0.30, 0.78}, 0, 0, "dresser|table|cabinet",             {22, 22, 26},    0},
    {"door",         "door",           NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.80, 0.04, 2.00}, {0.95, 0.06, 2.10}, 0, 0, NULL,                                  {172, 132, 92},  0},
    {"window",       "window",         NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.80, 0.06, 0.90}, {1.60, 0.10, 1.40}, 0.80, 1.00, NULL,                         {200, 222, 242}, 0},
    {"picture",      "picture",        NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.40, 0.03, 0.30}, {1.00, 0.04, 0.80}, 1.10, 1.40, NULL,                         {182, 62, 62},   0.3},
    {"mirror",       "mirror",         NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.40, 0.02, 0.60}, {0.80, 0.03, 1.20}, 0.90, 1.10, NULL,                         {202, 212, 216}, 0},
    {"whiteboard",   "whiteboard",     NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {1.20, 0.03, 0.90}, {2.00, 0.05, 1.20}, 0.80, 1.00, NULL,                         {246, 246, 246}, 0},
    {"clock",        "clock",          NULL,               NULL,       NULL,           0, SH_CYL,     PL_WALL, {0.25, 0.05, 0.25}, {0.35, 0.06, 0.35}, 1.80, 2.00, NULL,                         {242, 242, 232}, 0},
    {"curtain",      "curtain",        NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.80, 0.08, 2.00}, {1.60, 0.12, 2.30}, 0.05, 0.15, NULL,                         {152, 42, 62},   0},
    {"towel",        "towel",          NULL,               NULL,       NULL,           0, SH_BOX,     PL_WALL, {0.40, 0.04, 0.60}, {0.60, 0.06, 0.90}, 1.00, 1.20, NULL,                         {232, 202, 160}, 0},
    {"monitor",      "monitor",        NULL,               NULL,       NULL,           0, SH_MONITOR, PL_TOP,  {0.50, 0.16, 0.38}, {0.65, 0.22, 0.50}, 0, 0, "desk|table",                        {26, 26, 32},    0},
    {"keyboard",     "keyboard",       NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.42, 0.13, 0.02}, {0.46, 0.16, 0.035}, 0, 0, "desk|table",                       {42, 42, 42},    0},
    {"mouse",        "mouse",          NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.06, 0.10, 0.03}, {0.07, 0.12, 0.04}, 0, 0, "desk|table",                        {52, 52, 58},    0},
    {"pillow",       "pillow",         NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.45, 0.30, 0.10}, {0.70, 0.45, 0.18}, 0, 0, "bed|sofa",                          {242, 236, 222}, 0},
    {"microwave",    "microwave",      NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.45, 0.33, 0.26}, {0.55, 0.40, 0.32}, 0, 0, "counter|cabinet|table",             {202, 202, 202}, 0},
    {"printer",      "printer",        NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.40, 0.35, 0.20}, {0.50, 0.45, 0.30}, 0, 0, "desk|table|cabinet",                {212, 212, 216}, 0},
    {"telephone",    "telephone",      NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.18, 0.18, 0.06}, {0.22, 0.22, 0.10}, 0, 0, "desk|table|nightstand",             {32, 32, 32},    0},
    {"lamp_table",   "lamp",           NULL,               NULL,       NULL,           0, SH_LAMP,    PL_TOP,  {0.20, 0.20, 0.35}, {0.32, 0.32, 0.60}, 0, 0, "nightstand|desk|table|dresser",     {240, 230, 202}, 0},
    {"books",        "books",          NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.15, 0.20, 0.05}, {0.30, 0.28, 0.20}, 0, 0, "table|desk|nightstand|dresser",     {152, 52, 52},   0},
    {"laptop",       "laptop",         NULL,               NULL,       NULL,           0, SH_BOX,     PL_TOP,  {0.32, 0.22, 0.02}, {0.38, 0.26, 0.03}, 0, 0, "desk|table",                        {92, 92, 100},   0},
};
#define N_CAT ((int)(sizeof aCat / sizeof aCat[0]))

const synth_category *synth_categories(int *pCount)
{
    *pCount = N_CAT;
    return aCat;
}

static const synth_category *cat_by_key(const char *zKey)
{
    for(int i = 0; i < N_CAT; i++) if( strcmp(aCat[i].zKey, zKey)==0 ) return &aCat[i];
    return NULL;
}

/* nyu40 id the v2 table gives a raw label, 0 when the table lacks it. */
static int tsv_nyu40(const char *zRaw)
{
    int n;
    const char *const *az = synth_tsv_rows(&n);
    size_t len = strlen(zRaw);
    for(int i = 0; i < n; i++){
        const char *z = strchr(az[i], '\t');
        int col = 1;
        if( z==NULL || strncmp(z + 1, zRaw, len)!=0 || z[1 + len]!='\t' ) continue;
        /* nyu40id is the fifth column. */
        for(z = az[i]; *z && col < 5; z++) if( *z=='\t' ) col++;
        return atoi(z);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
** Room recipes: which objects a room of a type holds, as (key, min, max) counts.
*/
typedef struct recipe_item {
    const char *zKey;
    int lo, hi;
} recipe_item;

typedef struct room_type {
    const char *zType;          /* ScanNet sceneType text */
    double wLo, wHi, dLo, dHi;  /* room size range */
    recipe_item items[24];
} room_type;

static const room_type aRoom[] = {
    {"Bedroom / Hotel", 3.2, 4.6, 3.6, 5.0,
     {{"door", 1, 1}, {"bed", 1, 1}, {"nightstand", 1, 2}, {"dresser", 0, 1}, {"desk", 0, 1}, {"chair", 0, 1},
      {"window", 1, 2}, {"curtain", 0, 2}, {"picture", 0, 2}, {"mirror", 0, 1}, {"clock", 0, 1},
      {"trash_can", 0, 1}, {"plant", 0, 1}, {"box", 0, 2}, {"guitar", 0, 1}, {"backpack", 0, 1},
      {"pillow", 1, 3}, {"lamp_table", 0, 2}, {"tv_top", 0, 1}, {"books", 0, 1}}},
    {"Office", 4.0, 6.5, 4.0, 7.0,
     {{"door", 1, 1}, {"desk", 2, 4}, {"bookshelf", 0, 2}, {"cabinet", 1, 2}, {"chair", 2, 5},
      {"trash_can", 1, 2}, {"whiteboard", 0, 1}, {"window", 1, 3}, {"radiator", 0, 1}, {"clock", 0, 1},
      {"plant", 0, 2}, {"box", 0, 3}, {"lamp_floor", 0, 1}, {"fan", 0, 1}, {"backpack", 0, 2},
      {"monitor", 1, 3}, {"keyboard", 1, 2}, {"mouse", 0, 2}, {"printer", 0, 1}, {"telephone", 0, 1},
      {"laptop", 0, 1}}},
    {"Living room / Lounge", 4.0, 6.5, 4.5, 7.0,
     {{"door", 1, 1}, {"sofa", 1, 2}, {"bookshelf", 0, 2}, {"piano", 0, 1}, {"fireplace", 0, 1},
      {"dresser", 0, 1}, {"table", 1, 2}, {"chair", 1, 4}, {"stool", 0, 2}, {"tv_wall", 0, 1},
      {"window", 1, 3}, {"picture", 1, 3}, {"curtain", 0, 2}, {"radiator", 0, 1}, {"clock", 0, 1},
      {"lamp_floor", 1, 2}, {"plant", 1, 2}, {"fan", 0, 1}, {"trash_can", 0, 1}, {"box", 0, 2},
      {"guitar", 0, 1}, {"pillow", 1, 4}, {"books", 0, 2}}},
    {"Kitchen", 3.0, 4.5, 3.5, 5.0,
     {{"door", 1, 1}, {"refrigerator", 1, 1}, {"counter", 1, 1}, {"cabinet", 1, 3}, {"stove", 1, 1},
      {"dishwasher", 0, 1}, {"washer", 0, 1}, {"table", 1, 1}, {"chair", 2, 4}, {"stool", 0, 2},
      {"trash_can", 1, 2}, {"window", 1, 2}, {"clock", 0, 1}, {"plant", 0, 1}, {"box", 0, 1},
      {"microwave", 1, 1}}},
    {"Bathroom", 2.2, 3.0, 2.5, 3.5,
     {{"door", 1, 1}, {"toilet", 1, 1}, {"bathtub", 0, 1}, {"cabinet", 0, 1}, {"washer", 0, 1},
      {"mirror", 1, 1}, {"towel", 1, 2}, {"window", 0, 1}, {"trash_can", 1, 1}, {"box", 0, 1}}},
};
#define N_ROOM ((int)(sizeof aRoom / sizeof aRoom[0]))

/* ---------------------------------------------------------------------------------------------
** Small geometry helpers for placement (2D, the floor plane).
*/
typedef struct quad2 {
    double p[4][2];
} quad2;

/* Footprint of a box: centre, half sizes along its first two axes, axes' XY parts. */
static void footprint(const synth_object *o, double margin, quad2 *q)
{
    double hx, hy;
    /* A tilted box projects larger than its size; bound it by the projection of all 8 corners
    ** onto the yaw axes. */
    double yaw = atan2(o->axes[1], o->axes[0]);
    double ux[2] = { cos(yaw), sin(yaw) }, uy[2] = { -sin(yaw), cos(yaw) };
    hx = 0;
    hy = 0;
    for(int k = 0; k < 3; k++){
        double h = o->size[k] / 2;
        hx += h * fabs(o->axes[3 * k] * ux[0] + o->axes[3 * k + 1] * ux[1]);
        hy += h * fabs(o->axes[3 * k] * uy[0] + o->axes[3 * k + 1] * uy[1]);
    }
    hx += margin;
    hy += margin;
    for(int i = 0; i < 4; i++){
        double sx = (i==1 || i==2) ? 1 : -1, sy = (i >= 2) ? 1 : -1;
        q->p[i][0] = o->center[0] + sx * hx * ux[0] + sy * hy * uy[0];
        q->p[i][1] = o->center[1] + sx * hx * ux[1] + sy * hy * uy[1];
    }
}

static int quads_overlap(const quad2 *a, const quad2 *b)
{
    const quad2 *q[2] = { a, b };
    for(int s = 0; s < 2; s++){
        for(int e = 0; e < 4; e++){
            const double *p0 = q[s]->p[e], *p1 = q[s]->p[(e + 1) % 4];
            double n[2] = { p0[1] - p1[1], p1[0] - p0[0] };
            double amin = 1e300, amax = -1e300, bmin = 1e300, bmax = -1e300;
            for(int i = 0; i < 4; i++){
                double da = n[0] * a->p[i][0] + n[1] * a->p[i][1];
                double db = n[0] * b->p[i][0] + n[1] * b->p[i][1];
                amin = fmin(amin, da);
                amax = fmax(amax, da);
                bmin = fmin(bmin, db);
                bmax = fmax(bmax, db);
            }
            if( amax < bmin || bmax < amin ) return 0;
        }
    }
    return 1;
}

static int point_in_rect(const synth_rect *r, double x, double y, double inset)
{
    return x >= r->x0 + inset && x <= r->x1 - inset && y >= r->y0 + inset && y <= r->y1 - inset;
}

static int quad_in_rect(const quad2 *q, const synth_rect *r, double inset)
{
    for(int i = 0; i < 4; i++) if( !point_in_rect(r, q->p[i][0], q->p[i][1], inset) ) return 0;
    return 1;
}

/* Distance from point p to segment a-b. */
static double seg_dist(const double *p, const double *a, const double *b)
{
    double d[2] = { b[0] - a[0], b[1] - a[1] };
    double l2 = d[0] * d[0] + d[1] * d[1];
    double t = l2 > 0 ? ((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1]) / l2 : 0;
    double x, y;
    if( t < 0 ) t = 0;
    if( t > 1 ) t = 1;
    x = a[0] + t * d[0] - p[0];
    y = a[1] + t * d[1] - p[1];
    return sqrt(x * x + y * y);
}

static int segs_cross(const double *a, const double *b, const double *c, const double *d)
{
    double d1 = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    double d2 = (b[0] - a[0]) * (d[1] - a[1]) - (b[1] - a[1]) * (d[0] - a[0]);
    double d3 = (d[0] - c[0]) * (a[1] - c[1]) - (d[1] - c[1]) * (a[0] - c[0]);
    double d4 = (d[0] - c[0]) * (b[1] - c[1]) - (d[1] - c[1]) * (b[0] - c[0]);
    return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0));
}

/* Distance between a quad and a polyline, 0 when they cross or the quad holds a vertex. */
static double quad_path_dist(const quad2 *q, const double (*path)[2], int n)
{
    double best = 1e300;
    for(int i = 0; i + 1 < n; i++){
        for(int e = 0; e < 4; e++){
            const double *a = q->p[e], *b = q->p[(e + 1) % 4];
            if( segs_cross(a, b, path[i], path[i + 1]) ) return 0;
            best = fmin(best, seg_dist(a, path[i], path[i + 1]));
            best = fmin(best, seg_dist(path[i], a, b));
        }
    }
    for(int i = 0; i < n; i++){
        /* A path point strictly inside the quad. */
        int inside = 1;
        for(int e = 0; e < 4 && inside; e++){
            const double *a = q->p[e], *b = q->p[(e + 1) % 4];
            double c = (b[0] - a[0]) * (path[i][1] - a[1]) - (b[1] - a[1]) * (path[i][0] - a[0]);
            if( c < 0 ) inside = 0;
        }
        if( inside ) return 0;
    }
    return best;
}

/* ---------------------------------------------------------------------------------------------
** Room outline: union of one or two axis-aligned rectangles, traced on the grid of their
** coordinates so that L-shapes and joined rooms need no special cases.
*/
static void trace_outline(synth_scene *s)
{
    double xs[4], ys[4];
    int nx = 0, ny = 0;
    int cover[3][3];
    double edges[24][4];
    int nEdges = 0;
    int used[24] = {0};

    for(int r = 0; r < s->nRects; r++){
        double cx[2] = { s->rects[r].x0, s->rects[r].x1 }, cy[2] = { s->rects[r].y0, s->rects[r].y1 };
        for(int k = 0; k < 2; k++){
            int seen = 0;
            for(int i = 0; i < nx; i++) if( fabs(xs[i] - cx[k]) < 1e-9 ) seen = 1;
            if( !seen ) xs[nx++] = cx[k];
            seen = 0;
            for(int i = 0; i < ny; i++) if( fabs(ys[i] - cy[k]) < 1e-9 ) seen = 1;
            if( !seen ) ys[ny++] = cy[k];
        }
    }
    for(int i = 0; i < nx; i++) for(int j = i + 1; j < nx; j++) if( xs[j] < xs[i] ){ double t = xs[i]; xs[i] = xs[j]; xs[j] = t; }
    for(int i = 0; i < ny; i++) for(int j = i + 1; j < ny; j++) if( ys[j] < ys[i] ){ double t = ys[i]; ys[i] = ys[j]; ys[j] = t; }
    for(int i = 0; i + 1 < nx; i++){
        for(int j = 0; j + 1 < ny; j++){
            double mx = (xs[i] + xs[i + 1]) / 2, my = (ys[j] + ys[j + 1]) / 2;
            cover[i][j] = 0;
            for(int r = 0; r < s->nRects; r++) if( point_in_rect(&s->rects[r], mx, my, 0) ) cover[i][j] = 1;
        }
    }
#define COVERED(i, j) ((i) >= 0 && (j) >= 0 && (i) < nx - 1 && (j) < ny - 1 && cover[i][j])
    /* Directed boundary edges with the covered cell on their left (counter-clockwise loop). */
    for(int i = 0; i + 1 < nx; i++){
        for(int j = 0; j + 1 < ny; j++){
            if( !cover[i][j] ) continue;
            if( !COVERED(i, j - 1) ){ double e[4] = { xs[i], ys[j], xs[i + 1], ys[j] }; memcpy(edges[nEdges++], e, sizeof e); }
            if( !COVERED(i + 1, j) ){ double e[4] = { xs[i + 1], ys[j], xs[i + 1], ys[j + 1] }; memcpy(edges[nEdges++], e, sizeof e); }
            if( !COVERED(i, j + 1) ){ double e[4] = { xs[i + 1], ys[j + 1], xs[i], ys[j + 1] }; memcpy(edges[nEdges++], e, sizeof e); }
            if( !COVERED(i - 1, j) ){ double e[4] = { xs[i], ys[j + 1], xs[i], ys[j] }; memcpy(edges[nEdges++], e, sizeof e); }
        }
    }
#undef COVERED
    /* Chain the edges, starting from the lowest-left one, dropping collinear joints. */
    {
        int cur = 0;
        double pts[32][2];
        int np = 0;
        for(int e = 1; e < nEdges; e++){
            if( edges[e][1] < edges[cur][1] - 1e-9 || (fabs(edges[e][1] - edges[cur][1]) < 1e-9 && edges[e][0] < edges[cur][0]) ) cur = e;
        }
        for(int k = 0; k < nEdges; k++){
            used[cur] = 1;
            pts[np][0] = edges[cur][0];
            pts[np][1] = edges[cur][1];
            np++;
            for(int e = 0; e < nEdges; e++){
                if( !used[e] && fabs(edges[e][0] - edges[cur][2]) < 1e-9 && fabs(edges[e][1] - edges[cur][3]) < 1e-9 ){
                    cur = e;
                    break;
                }
            }
        }
        s->nPoly = 0;
        for(int i = 0; i < np; i++){
            const double *a = pts[(i + np - 1) % np], *b = pts[i], *c = pts[(i + 1) % np];
            double cr = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
            if( fabs(cr) < 1e-12 ) continue;
            s->poly[s->nPoly][0] = b[0];
            s->poly[s->nPoly][1] = b[1];
            s->nPoly++;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
** Mesh building. Vertices are emitted object by object so each instance owns a contiguous range.
*/
static int mesh_reserve(synth_mesh *m, uint32_t nv, uint32_t nf)
{
    if( m->rc ) return m->rc;
    if( m->nVerts + nv > m->capVerts ){
        uint32_t cap = m->capVerts ? m->capVerts : 4096;
        while( cap < m->nVerts + nv ) cap *= 2;
        float *xyz = sptt_realloc(m->xyz, (size_t)cap * 12);
        if( xyz ) m->xyz = xyz;
        uint8_t *rgb = xyz ? sptt_realloc(m->rgb, (size_t)cap * 3) : NULL;
        if( rgb ) m->rgb = rgb;
        uint32_t *seg = rgb ? sptt_realloc(m->seg, (size_t)cap * 4) : NULL;
        if( seg ) m->seg = seg;
        int32_t *own = seg ? sptt_realloc(m->owner, (size_t)cap * 4) : NULL;
        if( own==NULL ) return m->rc = SPTT_ENOMEM;
        m->owner = own;
        m->capVerts = cap;
    }
    if( m->nFaces + nf > m->capFaces ){
        uint32_t cap = m->capFaces ? m->capFaces : 8192;
        while( cap < m->nFaces + nf ) cap *= 2;
        uint32_t *f = sptt_realloc(m->faces, (size_t)cap * 12);
        if( f==NULL ) return m->rc = SPTT_ENOMEM;
        m->faces = f;
        m->capFaces = cap;
    }
    return SPTT_OK;
}

/* Where the current object's vertices go: its transform, colour and owner. */
typedef struct emitter {
    synth_mesh *m;
    sptt_rng *rng;
    double T[12];          /* local -> output frame, 3x4 row-major */
    int owner;
    double res;            /* target edge length */
    double segSize;        /* target segment size */
    uint8_t color[3];
} emitter;

static void emit_vertex(emitter *e, const double *l, const double *nrm, uint32_t seg)
{
    synth_mesh *m = e->m;
    uint32_t i = m->nVerts++;
    double w[3], nw[3], shade;
    for(int r = 0; r < 3; r++){
        w[r] = e->T[4 * r] * l[0] + e->T[4 * r + 1] * l[1] + e->T[4 * r + 2] * l[2] + e->T[4 * r + 3];
        nw[r] = e->T[4 * r] * nrm[0] + e->T[4 * r + 1] * nrm[1] + e->T[4 * r + 2] * nrm[2];
    }
    m->xyz[3 * i] = (float)w[0];
    m->xyz[3 * i + 1] = (float)w[1];
    m->xyz[3 * i + 2] = (float)w[2];
    /* Baked lighting: brighter facing up and towards a fixed sun direction, so the rendered
    ** frames show shape, plus a little per-vertex noise like a real scan's texture. */
    shade = 0.72 + 0.18 * nw[2] + 0.10 * (0.48 * nw[0] + 0.6 * nw[1]);
    for(int k = 0; k < 3; k++){
        double v = e->color[k] * shade + 4.0 * sptt_rng_normal(e->rng);
        m->rgb[3 * i + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
    }
    m->seg[i] = seg;
    m->owner[i] = e->owner;
}

static void emit_face(synth_mesh *m, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t f = m->nFaces++;
    m->faces[3 * f] = a;
    m->faces[3 * f + 1] = b;
    m->faces[3 * f + 2] = c;
}

static int div_count(double len, double res)
{
    int n = (int)ceil(len / res - 1e-9);
    return n < 1 ? 1 : n;
}

/* A planar grid o + i/na * a + j/nb * b, split into segments of about segSize. */
static int emit_grid(emitter *e, const double *o, const double *a, const double *b, const double *nrm)
{
    double la = sptt_norm3(a), lb = sptt_norm3(b);
    int na = div_count(la, e->res), nb = div_count(lb, e->res);
    int ta = div_count(la, e->segSize), tb = div_count(lb, e->segSize);
    uint32_t base;
    int rc = mesh_reserve(e->m, (uint32_t)((na + 1) * (nb + 1)), (uint32_t)(2 * na * nb));
    if( rc ) return rc;
    base = e->m->nVerts;
    for(int i = 0; i <= na; i++){
        for(int j = 0; j <= nb; j++){
            double l[3];
            int si = i * ta / (na + 1), sj = j * tb / (nb + 1);
            /* First vertex of the tile: smallest row, then column, inside it. */
            int fi = (si * (na + 1) + ta - 1) / ta, fj = (sj * (nb + 1) + tb - 1) / tb;
            uint32_t seg = base + (uint32_t)(fi * (nb + 1) + fj);
            for(int k = 0; k < 3; k++) l[k] = o[k] + a[k] * i / na + b[k] * j / nb;
            emit_vertex(e, l, nrm, seg);
        }
    }
    for(int i = 0; i < na; i++){
        for(int j = 0; j < nb; j++){
            uint32_t v00 = base + (uint32_t)(i * (nb + 1) + j), v01 = v00 + 1;
            uint32_t v10 = v00 + (uint32_t)(nb + 1), v11 = v10 + 1;
            emit_face(e->m, v00, v10, v11);
            emit_face(e->m, v00, v11, v01);
        }
    }
    return SPTT_OK;
}

/* An axis-aligned box [lo, hi] in local coordinates: six grids with outward normals. */
static int emit_box(emitter *e, const double *lo, const double *hi)
{
    double d[3] = { hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2] };
    int rc = 0;
    for(int ax = 0; ax < 3 && rc==0; ax++){
        int u = (ax + 1) % 3, v = (ax + 2) % 3;
        for(int side = 0; side < 2 && rc==0; side++){
            double o[3], a[3] = {0}, b[3] = {0}, n[3] = {0};
            o[ax] = side ? hi[ax] : lo[ax];
            o[u] = lo[u];
            o[v] = lo[v];
            n[ax] = side ? 1 : -1;
            a[u] = d[u];
            b[v] = d[v];
            rc = emit_grid(e, o, a, b, n);
        }
    }
    return rc;
}

/* A vertical elliptic cylinder with caps. The side has a multiple of 4 columns, so its extreme
** points touch the enclosing box exactly. */
static int emit_cylinder(emitter *e, double cx, double cy, double rx, double ry, double z0, double z1)
{
    double circ = SPTT_PI * (rx + ry);
    int nt = 4 * div_count(circ / 4, e->res);
    int nz = div_count(z1 - z0, e->res);
    int tiles = div_count(circ, e->segSize);
    uint32_t base;
    int rc;
    if( nt < 12 ) nt = 12;
    rc = mesh_reserve(e->m, (uint32_t)(nt * (nz + 1) + 2 * (nt + 1)), (uint32_t)(2 * nt * nz + 2 * nt));
    if( rc ) return rc;
    base = e->m->nVerts;
    for(int i = 0; i <= nz; i++){
        for(int j = 0; j < nt; j++){
            double th = 2 * SPTT_PI * j / nt;
            double l[3] = { cx + rx * cos(th), cy + ry * sin(th), z0 + (z1 - z0) * i / nz };
            double n[3] = { cos(th), sin(th), 0 };
            int tile = j * tiles / nt;
            int firstJ = (tile * nt + tiles - 1) / tiles;
            emit_vertex(e, l, n, base + (uint32_t)firstJ);
        }
    }
    for(int i = 0; i < nz; i++){
        for(int j = 0; j < nt; j++){
            uint32_t a = base + (uint32_t)(i * nt + j), b = base + (uint32_t)(i * nt + (j + 1) % nt);
            emit_face(e->m, a, b, b + (uint32_t)nt);
            emit_face(e->m, a, b + (uint32_t)nt, a + (uint32_t)nt);
        }
    }
    for(int cap = 0; cap < 2; cap++){
        double z = cap ? z1 : z0;
        double n[3] = { 0, 0, cap ? 1.0 : -1.0 };
        uint32_t c = e->m->nVerts;
        double lc[3] = { cx, cy, z };
        emit_vertex(e, lc, n, c);
        for(int j = 0; j < nt; j++){
            double th = 2 * SPTT_PI * j / nt;
            double l[3] = { cx + rx * cos(th), cy + ry * sin(th), z };
            emit_vertex(e, l, n, c);
        }
        for(int j = 0; j < nt; j++) emit_face(e->m, c, c + 1 + (uint32_t)j, c + 1 + (uint32_t)((j + 1) % nt));
    }
    return SPTT_OK;
}

/* An ellipsoid; latitude rings include the equator and longitudes the four axis directions. */
static int emit_ellipsoid(emitter *e, const double *c, const double *r)
{
    double circ = SPTT_PI * (r[0] + r[1]);
    int nl = 4 * div_count(circ / 4, e->res);
    int nh = 2 * div_count(SPTT_PI * r[2] / 2, e->res);
    uint32_t base, top;
    int rc;
    if( nl < 12 ) nl = 12;
    if( nh < 4 ) nh = 4;
    rc = mesh_reserve(e->m, (uint32_t)(nl * (nh - 1) + 2), (uint32_t)(2 * nl * nh));
    if( rc ) return rc;
    base = e->m->nVerts;
    for(int i = 1; i < nh; i++){
        double ph = SPTT_PI * i / nh - SPTT_PI / 2;
        for(int j = 0; j < nl; j++){
            double th = 2 * SPTT_PI * j / nl;
            double n[3] = { cos(ph) * cos(th), cos(ph) * sin(th), sin(ph) };
            double l[3] = { c[0] + r[0] * n[0], c[1] + r[1] * n[1], c[2] + r[2] * n[2] };
            emit_vertex(e, l, n, base + (uint32_t)(i - 1 < (nh - 1) / 2 ? 0 : (nh - 1) / 2 * nl));
        }
    }
    {
        /* Two segments: the lower and the upper half, each named by its first vertex. */
        double nb[3] = { 0, 0, -1 }, nt[3] = { 0, 0, 1 };
        double lb[3] = { c[0], c[1], c[2] - r[2] }, lt[3] = { c[0], c[1], c[2] + r[2] };
        emit_vertex(e, lb, nb, base);
        top = e->m->nVerts;
        emit_vertex(e, lt, nt, base + (uint32_t)((nh - 1) / 2 * nl));
    }
    for(int i = 0; i + 1 < nh - 1; i++){
        for(int j = 0; j < nl; j++){
            uint32_t a = base + (uint32_t)(i * nl + j), b = base + (uint32_t)(i * nl + (j + 1) % nl);
            emit_face(e->m, a, b, b + (uint32_t)nl);
            emit_face(e->m, a, b + (uint32_t)nl, a + (uint32_t)nl);
        }
    }
    for(int j = 0; j < nl; j++){
        emit_face(e->m, top - 1, base + (uint32_t)((j + 1) % nl), base + (uint32_t)j);
        emit_face(e->m, top, base + (uint32_t)((nh - 2) * nl + j), base + (uint32_t)((nh - 2) * nl + (j + 1) % nl));
    }
    return SPTT_OK;
}

/* Emits a box part given in fractions of the object's box (0..1 along each axis). */
static int part(emitter *e, const double *size, double x0, double y0, double z0, double x1, double y1, double z1)
{
    double lo[3] = { (x0 - 0.5) * size[0], (y0 - 0.5) * size[1], (z0 - 0.5) * size[2] };
    double hi[3] = { (x1 - 0.5) * size[0], (y1 - 0.5) * size[1], (z1 - 0.5) * size[2] };
    return emit_box(e, lo, hi);
}

/* Four legs of thickness (fx, fy) at the corners of the footprint, inset by `in`, from the floor
** to height top (fractions of the box). */
static int four_legs(emitter *e, const double *size, double in, double fx, double fy, double top)
{
    int rc = part(e, size, in, in, 0, in + fx, in + fy, top);
    if( !rc ) rc = part(e, size, 1 - in - fx, in, 0, 1 - in, in + fy, top);
    if( !rc ) rc = part(e, size, in, 1 - in - fy, 0, in + fx, 1 - in, top);
    if( !rc ) rc = part(e, size, 1 - in - fx, 1 - in - fy, 0, 1 - in, 1 - in, top);
    return rc;
}

static void set_color(emitter *e, const uint8_t *base, double f)
{
    for(int k = 0; k < 3; k++){
        double v = base[k] * f;
        e->color[k] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/*
** The parts of each shape, as fractions of the object's box. Every shape's parts reach all six
** faces of the box, so the box stays the minimal one. Local frame: x width, y depth with +y the
** back (towards the wall), z up.
*/
static int emit_object_shape(emitter *e, synth_object *o, const uint8_t *col)
{
    const double *s = o->size;
    double fx = fmin(0.05 / s[0], 0.2), fy = fmin(0.05 / s[1], 0.2);   /* leg thickness */
    int rc = 0;
    set_color(e, col, 1.0);
    switch( o->cat->shape ){
    case SH_BOX:
        rc = part(e, s, 0, 0, 0, 1, 1, 1);
        break;
    case SH_TABLE: {
        double t = fmin(0.04 / s[2], 0.1);
        rc = part(e, s, 0, 0, 1 - t, 1, 1, 1);
        set_color(e, col, 0.75);
        if( !rc ) rc = four_legs(e, s, 0.02, fx, fy, 1 - t);
        break;
    }
    case SH_CHAIR: {
        double seat = 0.46 / s[2];
        rc = part(e, s, 0, 0, seat - 0.05, 1, 1, seat);
        if( !rc ) rc = part(e, s, 0, 0.9, seat, 1, 1, 1);
        set_color(e, col, 0.7);
        if( !rc ) rc = four_legs(e, s, 0, fx, fy, seat - 0.05);
        break;
    }
    case SH_STOOL: {
        double t = 0.05 / s[2];
        rc = emit_cylinder(e, 0, 0, s[0] / 2, s[1] / 2, s[2] / 2 - t * s[2], s[2] / 2);
        set_color(e, col, 0.7);
        if( !rc ) rc = four_legs(e, s, 0.15, fx, fy, 1 - t);
        break;
    }
    case SH_BED: {
        double hb = 0.5 / s[2];
        set_color(e, col, 0.85);
        rc = part(e, s, 0, 0, 0, 1, 0.97, hb);
        set_color(e, col, 0.6);
        if( !rc ) rc = part(e, s, 0, 0.97, 0, 1, 1, 1);
        break;
    }
    case SH_SOFA: {
        double seat = 0.45 / s[2], arm = fmin(0.65 / s[2], 0.9), ax = 0.15 / s[0], back = 0.22 / s[1];
        rc = part(e, s, 0, 0, 0, 1, 1, seat);
        if( !rc ) rc = part(e, s, 0, 1 - back, seat, 1, 1, 1);
        if( !rc ) rc = part(e, s, 0, 0, seat, ax, 1 - back, arm);
        if( !rc ) rc = part(e, s, 1 - ax, 0, seat, 1, 1 - back, arm);
        break;
    }
    case SH_SHELF: {
        double t = 0.02 / s[2], w = 0.03 / s[0];
        int nShelf = (int)floor(s[2] / 0.35);
        rc = part(e, s, 0, 0, 0, w, 1, 1);
        if( !rc ) rc = part(e, s, 1 - w, 0, 0, 1, 1, 1);
        set_color(e, col, 0.8);
        if( !rc ) rc = part(e, s, w, 0.94, 0, 1 - w, 1, 1);
        set_color(e, col, 1.0);
        for(int k = 0; k <= nShelf && !rc; k++){
            double z = k==nShelf ? 1 - t : (double)k / nShelf * (1 - t);
            rc = part(e, s, w, 0, z, 1 - w, 0.94, z + t);
        }
        break;
    }
    case SH_CYL:
        if( o->cat->place==PL_WALL ){
            /* A wall clock: a disc whose axis is the box's y axis. */
            double lo[3] = { -s[0] / 2, -s[1] / 2, -s[2] / 2 }, hi[3] = { s[0] / 2, s[1] / 2, s[2] / 2 };
            rc = emit_box(e, lo, hi);
        }else{
            rc = emit_cylinder(e, 0, 0, s[0] / 2, s[1] / 2, -s[2] / 2, s[2] / 2);
        }
        break;
    case SH_LAMP: {
        double shade = fmin(0.3, 0.4 * s[2]);
        rc = emit_cylinder(e, 0, 0, s[0] / 2, s[1] / 2, s[2] / 2 - shade, s[2] / 2);
        set_color(e, col, 0.5);
        if( !rc ) rc = emit_cylinder(e, 0, 0, 0.015, 0.015, -s[2] / 2 + 0.03, s[2] / 2 - shade);
        if( !rc ) rc = emit_cylinder(e, 0, 0, s[0] * 0.3, s[1] * 0.3, -s[2] / 2, -s[2] / 2 + 0.03);
        break;
    }
    case SH_PLANT: {
        double pot = 0.35;
        double c[3] = { 0, 0, -s[2] / 2 + pot * s[2] + (1 - pot) * s[2] / 2 };
        double r[3] = { s[0] / 2, s[1] / 2, (1 - pot) * s[2] / 2 };
        set_color(e, (const uint8_t[]){ 150, 80, 50 }, 1.0);
        rc = emit_cylinder(e, 0, 0, s[0] * 0.3, s[1] * 0.3, -s[2] / 2, -s[2] / 2 + pot * s[2]);
        set_color(e, col, 1.0);
        if( !rc ) rc = emit_ellipsoid(e, c, r);
        break;
    }
    case SH_TOILET:
        rc = part(e, s, 0.1, 0, 0, 0.9, 0.72, 0.42 / s[2]);
        if( !rc ) rc = part(e, s, 0, 0.75, 0, 1, 1, 1);
        break;
    case SH_TUB: {
        double w = 0.06 / s[0], d = 0.06 / s[1];
        rc = part(e, s, 0, 0, 0, 1, 1, 0.1);
        if( !rc ) rc = part(e, s, 0, 0, 0.1, w, 1, 1);
        if( !rc ) rc = part(e, s, 1 - w, 0, 0.1, 1, 1, 1);
        if( !rc ) rc = part(e, s, w, 0, 0.1, 1 - w, d, 1);
        if( !rc ) rc = part(e, s, w, 1 - d, 0.1, 1 - w, 1, 1);
        break;
    }
    case SH_PIANO:
        rc = part(e, s, 0, 0.4, 0, 1, 1, 1);
        set_color(e, (const uint8_t[]){ 235, 235, 230 }, 1.0);
        if( !rc ) rc = part(e, s, 0.05, 0, 0.62, 0.95, 0.4, 0.68);
        break;
    case SH_MONITOR:
        rc = part(e, s, 0, 0.4, 0.15, 1, 0.6, 1);
        set_color(e, col, 1.4);
        if( !rc ) rc = part(e, s, 0.3, 0, 0, 0.7, 1, 0.04);
        if( !rc ) rc = part(e, s, 0.46, 0.45, 0.04, 0.54, 0.55, 0.15);
        break;
    case SH_FAN:
        rc = part(e, s, 0.2, 0.2, 0, 0.8, 0.8, 0.04);
        if( !rc ) rc = emit_cylinder(e, 0, 0, 0.02, 0.02, -s[2] / 2 + 0.04 * s[2], s[2] / 2 - 0.3 * s[2]);
        if( !rc ) rc = part(e, s, 0, 0, 0.7, 1, 1, 1);
        break;
    }
    return rc;
}

/*
** The surface other objects may stand on, in the box's local frame, matching the parts above:
** the top of boxes and tables, the mattress of a bed, the seat of a sofa.
*/
static void support_surface(synth_object *o)
{
    const double *s = o->size;
    o->supportTop = 0;
    if( o->cat->place==PL_WALL || o->cat->place==PL_TOP ) return;
    switch( o->cat->shape ){
    case SH_BOX:
    case SH_TABLE:
        o->supportTop = s[2];
        o->topRegion[0] = -s[0] / 2; o->topRegion[1] = -s[1] / 2; o->topRegion[2] = s[0] / 2; o->topRegion[3] = s[1] / 2;
        break;
    case SH_BED:
        o->supportTop = 0.5;
        o->topRegion[0] = -s[0] / 2; o->topRegion[1] = -s[1] / 2; o->topRegion[2] = s[0] / 2; o->topRegion[3] = s[1] * 0.47;
        break;
    case SH_SOFA:
        o->supportTop = 0.45;
        o->topRegion[0] = -s[0] / 2 + 0.15; o->topRegion[1] = -s[1] / 2; o->topRegion[2] = s[0] / 2 - 0.15;
        o->topRegion[3] = s[1] / 2 - 0.22;
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------------------------------------
** Scene assembly
*/
static synth_object *new_object(synth_scene *s)
{
    if( s->nObjs==s->capObjs ){
        int cap = s->capObjs ? 2 * s->capObjs : 64;
        synth_object *p = sptt_realloc(s->objs, (size_t)cap * sizeof *p);
        if( p==NULL ) return NULL;
        s->objs = p;
        s->capObjs = cap;
    }
    memset(&s->objs[s->nObjs], 0, sizeof s->objs[0]);
    return &s->objs[s->nObjs++];
}

/* Rotation with yaw about z, then tilt about the object's own x axis (pitch), then roll about
** its own y axis: axes rows = rotated unit vectors. */
static void set_axes(synth_object *o, double yawDeg, double tiltXDeg, double tiltYDeg)
{
    double Rz[9], Rx[9], Ry[9], T[9], R[9];
    double cx = cos(tiltXDeg * DEG), sx = sin(tiltXDeg * DEG), cy = cos(tiltYDeg * DEG), sy = sin(tiltYDeg * DEG);
    double mx[9] = { 1, 0, 0, 0, cx, -sx, 0, sx, cx };
    double my[9] = { cy, 0, sy, 0, 1, 0, -sy, 0, cy };
    sptt_rot_z(yawDeg * DEG, Rz);
    memcpy(Rx, mx, sizeof mx);
    memcpy(Ry, my, sizeof my);
    sptt_mul3(Rz, Rx, T);
    sptt_mul3(T, Ry, R);
    /* Columns of R are the box axes in the output frame; store them as rows. */
    for(int i = 0; i < 3; i++)
        for(int j = 0; j < 3; j++) o->axes[3 * i + j] = R[3 * j + i];
    o->yaw = yawDeg;
    o->tilt = acos(fmin(1.0, fabs(o->axes[8]))) / DEG;
}

/* Lowest point of a box relative to its centre. */
static double box_half_height(const synth_object *o)
{
    double h = 0;
    for(int k = 0; k < 3; k++) h += o->size[k] / 2 * fabs(o->axes[3 * k + 2]);
    return h;
}

typedef struct wall_item {
    int wall;
    double a, b, z0, z1;   /* interval along the wall and height range */
} wall_item;

typedef struct placer {
    synth_scene *s;
    sptt_rng *rng;
    double (*path)[2];
    int nPath;
    wall_item items[128];
    int nItems;
    double keepOut[8][4];   /* rectangles (x0 y0 x1 y1) kept free: doorways */
    int nKeep;
} placer;

static void random_size(sptt_rng *rng, const synth_category *c, double *size)
{
    for(int k = 0; k < 3; k++) size[k] = sptt_rng_uniform(rng, c->lo[k], c->hi[k]);
}

/* Floor footprint checks shared by every floor-standing placement. */
static int floor_ok(placer *P, synth_object *o, int room)
{
    synth_scene *s = P->s;
    quad2 q, qm;
    footprint(o, 0.0, &q);
    footprint(o, 0.05, &qm);
    if( !quad_in_rect(&q, &s->rects[room], 0.02) ) return 0;
    for(int k = 0; k < P->nKeep; k++){
        synth_object tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.center[0] = (P->keepOut[k][0] + P->keepOut[k][2]) / 2;
        tmp.center[1] = (P->keepOut[k][1] + P->keepOut[k][3]) / 2;
        tmp.size[0] = P->keepOut[k][2] - P->keepOut[k][0];
        tmp.size[1] = P->keepOut[k][3] - P->keepOut[k][1];
        tmp.size[2] = 1;
        set_axes(&tmp, 0, 0, 0);
        quad2 kq;
        footprint(&tmp, 0, &kq);
        if( quads_overlap(&q, &kq) ) return 0;
    }
    for(int i = 0; i < s->nObjs - 1; i++){
        const synth_object *p = &s->objs[i];
        quad2 pq;
        double pz0, pz1, oz0, oz1;
        if( p->cat==NULL || p->cat->place==PL_TOP ) continue;
        pz0 = p->center[2] - box_half_height(p);
        pz1 = p->center[2] + box_half_height(p);
        oz0 = o->center[2] - box_half_height(o);
        oz1 = o->center[2] + box_half_height(o);
        if( pz1 < oz0 || oz1 < pz0 ) continue;
        footprint(p, 0.0, &pq);
        if( quads_overlap(&qm, &pq) ) return 0;
    }
    /* Tall things stay clear of the camera walk; low ones may pass beneath it. */
    if( o->center[2] + box_half_height(o) > 1.15 && quad_path_dist(&q, (const double (*)[2])P->path, P->nPath) < 0.5 ) return 0;
    return 1;
}

/* Outline edges usable as walls for room r: those bordering the rectangle. */
static int wall_of_rect(const synth_scene *s, int e, int room)
{
    const double *a = s->poly[e], *b = s->poly[(e + 1) % s->nPoly];
    const synth_rect *r = &s->rects[room];
    double mx = (a[0] + b[0]) / 2, my = (a[1] + b[1]) / 2;
    double len = hypot(b[0] - a[0], b[1] - a[1]);
    double nx = -(b[1] - a[1]) / len, ny = (b[0] - a[0]) / len;   /* inward for a CCW outline */
    return point_in_rect(r, mx + 0.01 * nx, my + 0.01 * ny, 0) ||
           /* an edge longer than the rectangle's side still borders it if its inner side does */
           point_in_rect(r, a[0] + 0.3 * (b[0] - a[0]) / len + 0.01 * nx, a[1] + 0.3 * (b[1] - a[1]) / len + 0.01 * ny, 0) ||
           point_in_rect(r, b[0] - 0.3 * (b[0] - a[0]) / len + 0.01 * nx, b[1] - 0.3 * (b[1] - a[1]) / len + 0.01 * ny, 0);
}

static int wall_free(placer *P, int wall, double a, double b, double z0, double z1)
{
    for(int i = 0; i < P->nItems; i++){
        const wall_item *w = &P->items[i];
        if( w->wall!=wall ) continue;
        if( b + 0.05 < w->a || w->b + 0.05 < a ) continue;
        if( z1 < w->z0 || w->z1 < z0 ) continue;
        return 0;
    }
    return 1;
}

static int place_on_wall(placer *P, synth_object *o, int room, double gap, double zBottom)
{
    synth_scene *s = P->s;
    for(int tries = 0; tries < 40; tries++){
        int e = (int)sptt_rng_below(P->rng, (uint32_t)s->nPoly);
        const double *a = s->poly[e], *b = s->poly[(e + 1) % s->nPoly];
        double len = hypot(b[0] - a[0], b[1] - a[1]);
        double d[2] = { (b[0] - a[0]) / len, (b[1] - a[1]) / len };
        double n[2] = { -d[1], d[0] };
        double t, yaw;
        if( !wall_of_rect(s, e, room) || len < o->size[0] + 0.3 ) continue;
        t = sptt_rng_uniform(P->rng, 0.15 + o->size[0] / 2, len - 0.15 - o->size[0] / 2);
        /* Local +y (the back) points into the wall: y = -n, x = y cross z. */
        yaw = atan2(-d[1], -d[0]) / DEG;
        set_axes(o, yaw, 0, 0);
        o->center[0] = a[0] + d[0] * t + n[0] * (gap + o->size[1] / 2);
        o->center[1] = a[1] + d[1] * t + n[1] * (gap + o->size[1] / 2);
        o->center[2] = zBottom + o->size[2] / 2;
        if( o->center[2] + o->size[2] / 2 > s->height - 0.05 ) continue;
        if( !wall_free(P, e, t - o->size[0] / 2, t + o->size[0] / 2, zBottom, zBottom + o->size[2]) ) continue;
        if( o->cat->place==PL_BACK && !floor_ok(P, o, room) ) continue;
        if( P->nItems < (int)(sizeof P->items / sizeof P->items[0]) ){
            wall_item *w = &P->items[P->nItems++];
            w->wall = e;
            w->a = t - o->size[0] / 2;
            w->b = t + o->size[0] / 2;
            w->z0 = zBottom;
            w->z1 = zBottom + o->size[2];
            /* Keep the floor in front of a door free so nothing blocks it. */
            if( strcmp(o->cat->zKey, "door")==0 && P->nKeep < 8 ){
                double c0[2] = { a[0] + d[0] * w->a, a[1] + d[1] * w->a };
                double c1[2] = { a[0] + d[0] * w->b + n[0] * 0.9, a[1] + d[1] * w->b + n[1] * 0.9 };
                double *k = P->keepOut[P->nKeep++];
                k[0] = fmin(c0[0], c1[0]);
                k[1] = fmin(c0[1], c1[1]);
                k[2] = fmax(c0[0], c1[0]);
                k[3] = fmax(c0[1], c1[1]);
            }
        }
        o->supportedBy = o->cat->place==PL_WALL && zBottom > 0.01 ? -1 : 0;
        return 1;
    }
    return 0;
}

static int place_free(placer *P, synth_object *o, int room)
{
    synth_scene *s = P->s;
    const synth_rect *r = &s->rects[room];
    for(int tries = 0; tries < 60; tries++){
        double yaw = sptt_rng_uniform(P->rng, -180, 180);
        double tx = 0, ty = 0;
        if( o->cat->tilt > 0 && sptt_rng_unit(P->rng) < o->cat->tilt ){
            /* Leaning objects tip about their own x axis, a few like a guitar by more. */
            double mag = strcmp(o->cat->zKey, "guitar")==0 ? sptt_rng_uniform(P->rng, 8, 15) : sptt_rng_uniform(P->rng, 4, 10);
            tx = sptt_rng_unit(P->rng) < 0.5 ? -mag : mag;
            ty = sptt_rng_uniform(P->rng, -3, 3);
        }
        set_axes(o, yaw, tx, ty);
        o->center[0] = sptt_rng_uniform(P->rng, r->x0 + 0.2, r->x1 - 0.2);
        o->center[1] = sptt_rng_uniform(P->rng, r->y0 + 0.2, r->y1 - 0.2);
        o->center[2] = box_half_height(o);
        if( floor_ok(P, o, room) ){
            o->supportedBy = 0;
            return 1;
        }
    }
    return 0;
}

static int key_in_list(const char *zKey, const char *zList)
{
    size_t n = strlen(zKey);
    const char *z = zList;
    while( z && *z ){
        const char *bar = strchr(z, '|');
        size_t len = bar ? (size_t)(bar - z) : strlen(z);
        if( len==n && strncmp(z, zKey, n)==0 ) return 1;
        z = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int place_on_top(placer *P, synth_object *o, int room)
{
    synth_scene *s = P->s;
    int cand[64], nCand = 0;
    for(int i = 0; i < s->nObjs - 1 && nCand < 64; i++){
        const synth_object *p = &s->objs[i];
        if( p->cat && p->supportTop > 0 && p->tilt < 0.01 && (p->room==room || s->kind==1) && key_in_list(p->cat->zKey, o->cat->zOn) ) cand[nCand++] = i;
    }
    if( nCand==0 ) return 0;
    for(int tries = 0; tries < 40; tries++){
        const synth_object *p = &s->objs[cand[sptt_rng_below(P->rng, (uint32_t)nCand)]];
        double rel = o->cat->shape==SH_MONITOR || strcmp(o->cat->zKey, "keyboard")==0 || strcmp(o->cat->zKey, "pillow")==0
                         ? sptt_rng_uniform(P->rng, -12, 12) : sptt_rng_uniform(P->rng, -180, 180);
        double c = fabs(cos(rel * DEG)), sn = fabs(sin(rel * DEG));
        double hx = c * o->size[0] / 2 + sn * o->size[1] / 2 + 0.02, hy = sn * o->size[0] / 2 + c * o->size[1] / 2 + 0.02;
        double u, v, lift;
        quad2 q;
        int clash = 0;
        if( p->topRegion[2] - p->topRegion[0] < 2 * hx || p->topRegion[3] - p->topRegion[1] < 2 * hy ) continue;
        u = sptt_rng_uniform(P->rng, p->topRegion[0] + hx, p->topRegion[2] - hx);
        v = sptt_rng_uniform(P->rng, p->topRegion[1] + hy, p->topRegion[3] - hy);
        /* Box-derived instances in ARKitScenes need a clear gap between touching boxes. */
        lift = s->isArkit ? 0.005 : 0.0;
        set_axes(o, p->yaw + rel, 0, 0);
        for(int k = 0; k < 3; k++){
            o->center[k] = p->center[k] + u * p->axes[k] + v * p->axes[3 + k] + (-p->size[2] / 2 + p->supportTop) * p->axes[6 + k];
        }
        o->center[2] += o->size[2] / 2 + lift;
        if( o->center[2] + o->size[2] / 2 > s->height - 0.1 ) continue;
        footprint(o, 0.02, &q);
        for(int i = 0; i < s->nObjs - 1 && !clash; i++){
            const synth_object *other = &s->objs[i];
            quad2 oq;
            if( other->cat==NULL || other==p ) continue;
            if( other->center[2] + box_half_height(other) < o->center[2] - o->size[2] / 2 + 1e-6 ) continue;
            if( other->center[2] - box_half_height(other) > o->center[2] + o->size[2] / 2 ) continue;
            footprint(other, 0, &oq);
            if( quads_overlap(&q, &oq) ) clash = 1;
        }
        if( clash ) continue;
        return 1;
    }
    return 0;
}

static int place_order(const synth_category *c)
{
    if( strcmp(c->zKey, "door")==0 ) return 0;
    switch( c->place ){
    case PL_BACK: return 1;
    case PL_WALL: return 2;
    case PL_FREE: return 3;
    case PL_TOP: return 4;
    }
    return 5;
}

/* ---------------------------------------------------------------------------------------------
** Camera walk
*/
typedef struct walk {
    double pts[40][2];
    int room[40];            /* the room a segment starting here looks into; -1 in a doorway */
    int n;
} walk;

/* Inward offset of a rectangle's outline, a closed loop starting at the corner nearest p. */
static void inset_loop(const synth_rect *r, double d, const double *p, int room, walk *w)
{
    double c[4][2] = { { r->x0 + d, r->y0 + d }, { r->x1 - d, r->y0 + d }, { r->x1 - d, r->y1 - d }, { r->x0 + d, r->y1 - d } };
    int best = 0;
    for(int i = 1; i < 4; i++){
        if( hypot(c[i][0] - p[0], c[i][1] - p[1]) < hypot(c[best][0] - p[0], c[best][1] - p[1]) ) best = i;
    }
    for(int k = 0; k <= 4; k++){
        w->pts[w->n][0] = c[(best + k) % 4][0];
        w->pts[w->n][1] = c[(best + k) % 4][1];
        w->room[w->n] = room;
        w->n++;
    }
}

static void build_walk(synth_scene *s, sptt_rng *rng, walk *w)
{
    w->n = 0;
    if( s->kind==1 ){
        /* L-shape: offset the outline itself; for a rectilinear polygon each vertex moves along
        ** the sum of its two edges' inward normals. */
        double d = 0.8;
        int start = (int)sptt_rng_below(rng, (uint32_t)s->nPoly);
        for(int k = 0; k <= s->nPoly; k++){
            int i = (start + k) % s->nPoly;
            const double *a = s->poly[(i + s->nPoly - 1) % s->nPoly], *b = s->poly[i], *c = s->poly[(i + 1) % s->nPoly];
            double l1 = hypot(b[0] - a[0], b[1] - a[1]), l2 = hypot(c[0] - b[0], c[1] - b[1]);
            double n1[2] = { -(b[1] - a[1]) / l1, (b[0] - a[0]) / l1 }, n2[2] = { -(c[1] - b[1]) / l2, (c[0] - b[0]) / l2 };
            double px = b[0] + d * (n1[0] + n2[0]), py = b[1] + d * (n1[1] + n2[1]);
            w->pts[w->n][0] = px;
            w->pts[w->n][1] = py;
            w->room[w->n] = point_in_rect(&s->rects[0], px, py, 0) ? 0 : 1;
            w->n++;
        }
    }else if( s->kind==2 ){
        double door[2] = { (s->door[0] + s->door[2]) / 2, (s->door[1] + s->door[3]) / 2 };
        double dA = fmin(0.9, 0.3 * fmin(s->rects[0].x1 - s->rects[0].x0, s->rects[0].y1 - s->rects[0].y0));
        double dB = fmin(0.9, 0.3 * fmin(s->rects[1].x1 - s->rects[1].x0, s->rects[1].y1 - s->rects[1].y0));
        inset_loop(&s->rects[0], dA, door, 0, w);
        /* Through the doorway: the shared wall is vertical at x = door[0]. */
        w->pts[w->n][0] = door[0] - 0.5; w->pts[w->n][1] = door[1]; w->room[w->n++] = -1;
        w->pts[w->n][0] = door[0] + 0.5; w->pts[w->n][1] = door[1]; w->room[w->n++] = -1;
        inset_loop(&s->rects[1], dB, door, 1, w);
    }else{
        const synth_rect *r = &s->rects[0];
        double d = fmin(1.0, 0.3 * fmin(r->x1 - r->x0, r->y1 - r->y0));
        double p[2] = { sptt_rng_uniform(rng, r->x0, r->x1), sptt_rng_uniform(rng, r->y0, r->y1) };
        inset_loop(r, d, p, 0, w);
    }
}

/* Camera-to-world for an OpenCV camera at eye looking along yaw/pitch, rolled by k quarter turns
** about its forward axis (k = 1: world up appears at the image's left edge). */
static void camera_pose(const double *eye, double yaw, double pitch, double roll, int k, double *c2w)
{
    double f[3] = { cos(pitch) * cos(yaw), cos(pitch) * sin(yaw), sin(pitch) };
    double up[3] = { 0, 0, 1 }, r[3], d[3], r2[3], d2[3];
    sptt_cross3(f, up, r);
    sptt_normalize3(r);
    sptt_cross3(f, r, d);
    /* small hand-held roll */
    for(int i = 0; i < 3; i++){
        r2[i] = cos(roll) * r[i] + sin(roll) * d[i];
        d2[i] = -sin(roll) * r[i] + cos(roll) * d[i];
    }
    for(int q = 0; q < k; q++){
        /* quarter turn: right <- down, down <- -right keeps right x down = forward */
        double t[3] = { r2[0], r2[1], r2[2] };
        memcpy(r2, d2, sizeof r2);
        d2[0] = -t[0];
        d2[1] = -t[1];
        d2[2] = -t[2];
    }
    for(int i = 0; i < 3; i++){
        c2w[4 * i] = r2[i];
        c2w[4 * i + 1] = d2[i];
        c2w[4 * i + 2] = f[i];
        c2w[4 * i + 3] = eye[i];
    }
    c2w[12] = c2w[13] = c2w[14] = 0;
    c2w[15] = 1;
}

static double wrap_angle(double a)
{
    while( a > SPTT_PI ) a -= 2 * SPTT_PI;
    while( a < -SPTT_PI ) a += 2 * SPTT_PI;
    return a;
}

static int make_camera(synth_scene *s, sptt_rng *rng, const walk *w, int nFrames)
{
    double len = 0, *cum;
    double phase1 = sptt_rng_uniform(rng, 0, 2 * SPTT_PI), phase2 = sptt_rng_uniform(rng, 0, 2 * SPTT_PI);
    double yawSmooth = 0;
    int nInvalid;
    s->c2w = sptt_malloc((size_t)nFrames * 16 * sizeof(double));
    s->times = sptt_malloc((size_t)nFrames * sizeof(double));
    s->invalid = sptt_calloc((size_t)nFrames, 1);
    cum = sptt_malloc((size_t)w->n * sizeof(double));
    if( !s->c2w || !s->times || !s->invalid || !cum ){
        free(cum);
        return SPTT_ENOMEM;
    }
    s->nFrames = nFrames;
    cum[0] = 0;
    for(int i = 1; i < w->n; i++){
        len += hypot(w->pts[i][0] - w->pts[i - 1][0], w->pts[i][1] - w->pts[i - 1][1]);
        cum[i] = len;
    }
    for(int f = 0; f < nFrames; f++){
        double t = f / s->fps;
        double at = len * f / (nFrames > 1 ? nFrames - 1 : 1);
        int seg = 0;
        double eye[3], target[2], yaw, pitch, roll;
        const synth_rect *r;
        while( seg + 2 < w->n && cum[seg + 1] < at ) seg++;
        {
            double sl = cum[seg + 1] - cum[seg];
            double u = sl > 0 ? (at - cum[seg]) / sl : 0;
            if( u > 1 ) u = 1;
            eye[0] = w->pts[seg][0] + u * (w->pts[seg + 1][0] - w->pts[seg][0]);
            eye[1] = w->pts[seg][1] + u * (w->pts[seg + 1][1] - w->pts[seg][1]);
        }
        eye[2] = 1.45 + 0.03 * sin(2 * SPTT_PI * t / 1.1 + phase1);
        r = &s->rects[w->room[seg] < 0 ? 1 : w->room[seg]];
        target[0] = (r->x0 + r->x1) / 2;
        target[1] = (r->y0 + r->y1) / 2;
        /* Scanning the way people do: the loops run counter-clockwise, so the walls pass on the
        ** right; the camera faces them, sweeping between the wall and the room's middle. Objects
        ** then come into view one stretch of wall at a time, as in real walkthroughs, instead
        ** of all at once. Between rooms it looks where it goes. */
        {
            double travel = atan2(w->pts[seg + 1][1] - w->pts[seg][1], w->pts[seg + 1][0] - w->pts[seg][0]);
            double inward = atan2(target[1] - eye[1], target[0] - eye[0]);
            /* 0 faces the wall, 1 the room's middle; starting at the wall and never swinging
            ** all the way in keeps most of the room for later in the walk. */
            double sweep = 0.4 * (0.5 - 0.5 * cos(2 * SPTT_PI * at / 3.0));
            if( w->room[seg] < 0 ) yaw = travel;
            else yaw = travel - 75 * DEG + sweep * wrap_angle(inward - (travel - 75 * DEG));
        }
        /* Smooth the heading so a change of room is a quick turn rather than a jump. */
        if( f==0 ) yawSmooth = yaw;
        else yawSmooth += (24.0 / s->fps) * 0.12 * wrap_angle(yaw - yawSmooth);
        pitch = -(20 + 8 * sin(2 * SPTT_PI * t / 5.0 + phase1)) * DEG;
        roll = 2 * DEG * sin(2 * SPTT_PI * t / 3.0 + phase2);
        camera_pose(eye, yawSmooth, pitch, roll, s->skyIndex, s->c2w + 16 * f);
        s->times[f] = t;
    }
    /* About one frame in a hundred loses tracking, as in real .sens files (never the first). */
    nInvalid = nFrames >= 20 ? 1 + nFrames / 100 : 0;
    for(int k = 0; k < nInvalid; k++) s->invalid[1 + sptt_rng_below(rng, (uint32_t)(nFrames - 1))] = 1;
    free(cum);
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Structure: floor, ceiling and walls, each an instance with its own segments.
*/
/* A new floor, ceiling or wall instance whose vertices the emitter writes next. */
static synth_object *begin_structure(synth_scene *s, emitter *e, const char *zRaw, const uint8_t *color)
{
    synth_object *o = new_object(s);
    if( o==NULL ) return NULL;
    o->zRaw = zRaw;
    o->zShape = "plane";
    o->v0 = s->mesh.nVerts;
    e->owner = s->nObjs - 1;
    memcpy(e->color, color, 3);
    return o;
}

static int emit_structure(synth_scene *s, sptt_rng *rng, double res)
{
    int rc = SPTT_OK;
    const uint8_t floorCol[3] = { 150, 128, 100 }, wallCol[3] = { 218, 214, 202 }, ceilCol[3] = { 236, 236, 232 };
    emitter e;
    memset(&e, 0, sizeof e);
    e.m = &s->mesh;
    e.rng = rng;
    e.res = res;
    e.segSize = 1.0;
    e.T[0] = e.T[5] = e.T[10] = 1;

    for(int part = 0; part < 2 && rc==0; part++){
        /* part 0: floors; part 1: ceilings. Two rooms get one floor and ceiling each. */
        int nInst = s->kind==2 ? 2 : 1;
        for(int inst = 0; inst < nInst && rc==0; inst++){
            synth_object *o = begin_structure(s, &e, part ? "ceiling" : "floor", part ? ceilCol : floorCol);
            if( o==NULL ) return SPTT_ENOMEM;
            o->room = inst;
            for(int r = 0; r < s->nRects && rc==0; r++){
                const synth_rect *R = &s->rects[r];
                double z = part ? s->height : 0;
                double org[3] = { R->x0, R->y0, z }, a[3] = { R->x1 - R->x0, 0, 0 }, b[3] = { 0, R->y1 - R->y0, 0 };
                double n[3] = { 0, 0, part ? -1 : 1 };
                if( nInst==2 && r!=inst ) continue;
                rc = emit_grid(&e, org, a, b, n);
            }
            o->v1 = s->mesh.nVerts;
        }
    }
    for(int i = 0; i < s->nPoly && rc==0; i++){
        const double *a = s->poly[i], *b = s->poly[(i + 1) % s->nPoly];
        double len = hypot(b[0] - a[0], b[1] - a[1]);
        double org[3] = { a[0], a[1], 0 }, da[3] = { b[0] - a[0], b[1] - a[1], 0 }, db[3] = { 0, 0, s->height };
        double n[3] = { -(b[1] - a[1]) / len, (b[0] - a[0]) / len, 0 };
        synth_object *o = begin_structure(s, &e, "wall", wallCol);
        if( o==NULL ) return SPTT_ENOMEM;
        rc = emit_grid(&e, org, da, db, n);
        o->v1 = s->mesh.nVerts;
    }
    if( rc==0 && s->kind==2 ){
        /* The shared wall, with the doorway left open and a lintel above it. */
        const synth_rect *A = &s->rects[0], *B = &s->rects[1];
        double x = A->x1, y0 = fmax(A->y0, B->y0), y1 = fmin(A->y1, B->y1);
        double n[3] = { -1, 0, 0 };
        synth_object *o = begin_structure(s, &e, "wall", wallCol);
        if( o==NULL ) return SPTT_ENOMEM;
        {
            double org[3] = { x, y0, 0 }, a[3] = { 0, s->door[1] - y0, 0 }, b[3] = { 0, 0, s->height };
            rc = emit_grid(&e, org, a, b, n);
        }
        if( rc==0 ){
            double org[3] = { x, s->door[3], 0 }, a[3] = { 0, y1 - s->door[3], 0 }, b[3] = { 0, 0, s->height };
            rc = emit_grid(&e, org, a, b, n);
        }
        if( rc==0 ){
            double org[3] = { x, s->door[1], 2.05 }, a[3] = { 0, s->door[3] - s->door[1], 0 }, b[3] = { 0, 0, s->height - 2.05 };
            rc = emit_grid(&e, org, a, b, n);
        }
        o->v1 = s->mesh.nVerts;
    }
    return rc;
}

/* Surface area of an object's parts, approximated by its box, for the resolution budget. */
static double object_area(const synth_object *o)
{
    return 2 * (o->size[0] * o->size[1] + o->size[1] * o->size[2] + o->size[0] * o->size[2]);
}

/* ---------------------------------------------------------------------------------------------
** The scene
*/
static void choose_rooms(synth_scene *s, sptt_rng *rng, const room_type **pTypes)
{
    int t0 = (int)sptt_rng_below(rng, N_ROOM);
    double r = sptt_rng_unit(rng);
    const room_type *A = &aRoom[t0];
    double w = sptt_rng_uniform(rng, A->wLo, A->wHi), d = sptt_rng_uniform(rng, A->dLo, A->dHi);
    pTypes[0] = pTypes[1] = A;
    s->zType = A->zType;
    if( r < 0.5 || t0==4 ){
        s->kind = 0;
        s->nRects = 1;
        s->rects[0] = (synth_rect){ 0, 0, w, d };
    }else if( r < 0.75 ){
        /* L: a larger rectangle missing one corner, stored as two rectangles. */
        double W = w * 1.35, D = d * 1.25;
        double cutW = W * sptt_rng_uniform(rng, 0.3, 0.45), cutD = D * sptt_rng_uniform(rng, 0.3, 0.45);
        s->kind = 1;
        s->nRects = 2;
        s->rects[0] = (synth_rect){ 0, 0, W, D - cutD };
        s->rects[1] = (synth_rect){ 0, D - cutD, W - cutW, D };
    }else{
        /* Two rooms joined by a doorway in their shared wall. */
        int t1 = (int)sptt_rng_below(rng, N_ROOM - 1);   /* no bathroom as the second room */
        const room_type *B = &aRoom[t1];
        double w2 = sptt_rng_uniform(rng, B->wLo, B->wHi), d2 = sptt_rng_uniform(rng, B->dLo, B->dHi);
        double yB = sptt_rng_uniform(rng, -0.3 * d2, d - 0.7 * d2 > 0 ? d - 0.7 * d2 : 0);
        double lo, hi, c;
        s->kind = 2;
        s->nRects = 2;
        s->rects[0] = (synth_rect){ 0, 0, w, d };
        s->rects[1] = (synth_rect){ w, yB, w + w2, yB + d2 };
        lo = fmax(0, yB) + 0.3;
        hi = fmin(d, yB + d2) - 0.3;
        if( hi - lo < 1.0 ){
            /* Not enough shared wall for a doorway: slide the second room to share more. */
            yB = 0;
            s->rects[1] = (synth_rect){ w, 0, w + w2, d2 };
            lo = 0.3;
            hi = fmin(d, d2) - 0.3;
        }
        c = sptt_rng_uniform(rng, lo + 0.45, hi - 0.45);
        s->door[0] = w;
        s->door[1] = c - 0.45;
        s->door[2] = w;
        s->door[3] = c + 0.45;
        pTypes[1] = B;
        s->zType = "Apartment";
    }
}

static void centre_scene(synth_scene *s)
{
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300, cx, cy;
    for(int r = 0; r < s->nRects; r++){
        x0 = fmin(x0, s->rects[r].x0);
        y0 = fmin(y0, s->rects[r].y0);
        x1 = fmax(x1, s->rects[r].x1);
        y1 = fmax(y1, s->rects[r].y1);
    }
    cx = (x0 + x1) / 2;
    cy = (y0 + y1) / 2;
    for(int r = 0; r < s->nRects; r++){
        s->rects[r].x0 -= cx;
        s->rects[r].x1 -= cx;
        s->rects[r].y0 -= cy;
        s->rects[r].y1 -= cy;
    }
    s->door[0] -= cx;
    s->door[2] -= cx;
    s->door[1] -= cy;
    s->door[3] -= cy;
}

int synth_build_scene(synth_scene *s, sptt_rng *rng, const sptt_synth_opts *o, int isArkit, int index)
{
    const room_type *types[2];
    walk w;
    placer P;
    int rc = SPTT_OK;
    int nFrames;
    double areaObj = 0, areaStruct = 0, target;
    int firstObject;

    memset(s, 0, sizeof *s);
    s->isArkit = isArkit;
    if( isArkit ){
        /* ARKitScenes video ids are 8-digit numbers. */
        snprintf(s->zName, sizeof s->zName, "%08u", 40000000u + (unsigned)sptt_rng_below(rng, 9000000u));
        (void)index;
    }else{
        snprintf(s->zName, sizeof s->zName, "scene%04d_00", 700 + index);
    }
    s->fps = isArkit ? 10.0 : 24.0;
    choose_rooms(s, rng, types);
    centre_scene(s);
    trace_outline(s);
    s->area = 0;
    for(int r = 0; r < s->nRects; r++) s->area += (s->rects[r].x1 - s->rects[r].x0) * (s->rects[r].y1 - s->rects[r].y0);
    s->height = sptt_rng_uniform(rng, 2.5, 3.0);
    if( isArkit ){
        /* Most videos are held upright; some in portrait (a quarter turn) and a few upside down. */
        double u = sptt_rng_unit(rng);
        s->skyIndex = u < 0.55 ? 0 : u < 0.75 ? 1 : u < 0.92 ? 3 : 2;
    }

    build_walk(s, rng, &w);
    memset(&P, 0, sizeof P);
    P.s = s;
    P.rng = rng;
    P.path = w.pts;
    P.nPath = w.n;
    if( s->kind==2 ){
        /* Keep both sides of the doorway clear. */
        P.keepOut[0][0] = s->door[0] - 0.9; P.keepOut[0][1] = s->door[1] - 0.1;
        P.keepOut[0][2] = s->door[0] + 0.9; P.keepOut[0][3] = s->door[3] + 0.1;
        P.nKeep = 1;
    }

    /* Objects: draw every room's recipe, then place in a fixed order (doors, large furniture
    ** against walls, wall hangings, free-standing, things on top). */
    {
        typedef struct want { const synth_category *c; int room; } want;
        want list[128];
        int n = 0;
        for(int r = 0; r < (s->kind==2 ? 2 : 1); r++){
            for(const recipe_item *it = types[r]->items; it->zKey; it++){
                int cnt = it->lo + (int)sptt_rng_below(rng, (uint32_t)(it->hi - it->lo + 1));
                const synth_category *c = cat_by_key(it->zKey);
                for(int k = 0; k < cnt && n < 128 && c; k++){
                    list[n].c = c;
                    /* In an L the objects spread over both parts of the room. */
                    list[n].room = s->kind==1 ? (int)sptt_rng_below(rng, 2) : r;
                    n++;
                }
            }
        }
        /* At least ten objects: top up with common free-standing things. */
        {
            static const char *const azFill[] = { "chair", "box", "trash_can", "plant", "stool", "backpack" };
            int tries = 0;
            while( n < 14 && tries++ < 20 ){
                list[n].c = cat_by_key(azFill[sptt_rng_below(rng, 6)]);
                list[n].room = (int)sptt_rng_below(rng, (uint32_t)s->nRects);
                n++;
            }
        }
        firstObject = s->nObjs;
        for(int pass = 0; pass <= 4; pass++){
            for(int i = 0; i < n; i++){
                synth_object *ob;
                int ok = 0;
                if( place_order(list[i].c)!=pass ) continue;
                /* ARKitScenes annotates a tv on furniture with a box that would touch the box
                ** below; real captures of that kind are ambiguous, so the generator hangs it. */
                if( isArkit && strcmp(list[i].c->zKey, "tv_top")==0 ) continue;
                ob = new_object(s);
                if( ob==NULL ) return SPTT_ENOMEM;
                ob->cat = list[i].c;
                ob->room = list[i].room;
                ob->zShape = "box";
                random_size(rng, ob->cat, ob->size);
                support_surface(ob);
                switch( ob->cat->place ){
                case PL_BACK: ok = place_on_wall(&P, ob, ob->room, sptt_rng_uniform(rng, 0.02, 0.05), 0); break;
                case PL_WALL: ok = place_on_wall(&P, ob, ob->room, 0.005, sptt_rng_uniform(rng, ob->cat->zLo, ob->cat->zHi)); break;
                case PL_FREE: ok = place_free(&P, ob, ob->room); break;
                case PL_TOP:  ok = place_on_top(&P, ob, ob->room); break;
                }
                if( ok && ob->cat->place==PL_WALL && ob->cat->tilt > 0 && sptt_rng_unit(rng) < ob->cat->tilt ){
                    /* A crooked picture: rotated within the wall plane about its y axis. */
                    double yaw = ob->yaw;
                    set_axes(ob, yaw, 0, sptt_rng_uniform(rng, 3, 8) * (sptt_rng_unit(rng) < 0.5 ? -1 : 1));
                }
                if( !ok ) s->nObjs--;
            }
        }
    }

    /* Instance ids in a shuffled annotation order, as annotators work. ScanNet annotators skip
    ** some small clutter: those objects stay unannotated (instance 0), as in real scans. */
    {
        int nInst = 0;
        int *order = sptt_malloc((size_t)(s->nObjs ? s->nObjs : 1) * sizeof(int));
        if( order==NULL ) return SPTT_ENOMEM;
        for(int i = firstObject; i < s->nObjs; i++){
            const char *k = s->objs[i].cat->zKey;
            int skip = !isArkit && (strcmp(k, "books")==0 || strcmp(k, "laptop")==0 || strcmp(k, "box")==0) &&
                       sptt_rng_unit(rng) < 0.3;
            if( !skip ) order[nInst++] = i;
        }
        sptt_rng_shuffle(rng, order, (size_t)nInst, sizeof(int));
        for(int i = 0; i < nInst; i++) s->objs[order[i]].id = i + 1;
        s->nAnnotated = nInst;
        free(order);
    }
    /* Raw labels: mostly the canonical name, sometimes the table's other spelling or an older one. */
    for(int i = firstObject; i < s->nObjs; i++){
        synth_object *ob = &s->objs[i];
        double u = sptt_rng_unit(rng);
        ob->zRaw = ob->cat->zName;
        if( ob->cat->zOld && u < 0.35 ) ob->zRaw = ob->cat->zOld;
        else if( ob->cat->zAlt && u > 0.7 ) ob->zRaw = ob->cat->zAlt;
        if( strcmp(ob->cat->zKey, "desk")==0 ) ob->zShape = "table";
        switch( ob->cat->shape ){
        case SH_BOX: ob->zShape = "box"; break;
        case SH_CYL: ob->zShape = ob->cat->place==PL_WALL ? "box" : "cylinder"; break;
        case SH_TABLE: ob->zShape = "table"; break;
        case SH_CHAIR: ob->zShape = "chair"; break;
        case SH_STOOL: ob->zShape = "stool"; break;
        case SH_BED: ob->zShape = "bed"; break;
        case SH_SOFA: ob->zShape = "sofa"; break;
        case SH_SHELF: ob->zShape = "shelf"; break;
        case SH_LAMP: ob->zShape = "lamp"; break;
        case SH_PLANT: ob->zShape = "plant"; break;
        case SH_TOILET: ob->zShape = "toilet"; break;
        case SH_TUB: ob->zShape = "bathtub"; break;
        case SH_PIANO: ob->zShape = "piano"; break;
        case SH_MONITOR: ob->zShape = "monitor"; break;
        case SH_FAN: ob->zShape = "fan"; break;
        }
        areaObj += object_area(ob);
    }

    /* Mesh resolution from the vertex budget: about 6k vertices at the small scale, about 115k
    ** at the real one, 55% on objects. Vertices per square metre are about 1/res^2. */
    for(int r = 0; r < s->nRects; r++){
        double W = s->rects[r].x1 - s->rects[r].x0, D = s->rects[r].y1 - s->rects[r].y0;
        areaStruct += 2 * W * D;
    }
    for(int i = 0; i < s->nPoly; i++){
        areaStruct += s->height * hypot(s->poly[(i + 1) % s->nPoly][0] - s->poly[i][0], s->poly[(i + 1) % s->nPoly][1] - s->poly[i][1]);
    }
    target = o->scale==SPTT_SCALE_SCANNET ? 115000.0 : 6000.0;
    s->resObj = sqrt(areaObj / (0.55 * target));
    s->resStruct = sqrt(areaStruct / (0.45 * target));
    if( s->resStruct > 0.25 ) s->resStruct = 0.25;

    /* Geometry: objects first (their ids are fixed), then floor, ceiling and walls. */
    {
        emitter e;
        memset(&e, 0, sizeof e);
        e.m = &s->mesh;
        e.rng = rng;
        e.res = s->resObj;
        e.segSize = 0.5;
        for(int i = firstObject; i < s->nObjs && rc==0; i++){
            synth_object *ob = &s->objs[i];
            uint8_t col[3];
            for(int k = 0; k < 3; k++){
                double v = ob->cat->color[k] * sptt_rng_uniform(rng, 0.85, 1.15);
                col[k] = (uint8_t)(v > 255 ? 255 : v);
            }
            for(int r = 0; r < 3; r++){
                for(int c = 0; c < 3; c++) e.T[4 * r + c] = ob->axes[3 * c + r];
                e.T[4 * r + 3] = ob->center[r];
            }
            e.owner = i;
            ob->v0 = s->mesh.nVerts;
            rc = emit_object_shape(&e, ob, col);
            ob->v1 = s->mesh.nVerts;
        }
    }
    if( rc==0 ){
        int before = s->nObjs;
        rc = emit_structure(s, rng, s->resStruct);
        /* Structure instances get ids after the objects'. */
        for(int i = before; i < s->nObjs; i++) s->objs[i].id = s->nAnnotated + 1 + (i - before);
    }
    if( rc==0 ) rc = s->mesh.rc;
    if( rc ) return rc;

    /* Support relations by geometry: the object whose top surface the bottom rests on. */
    for(int i = firstObject; i < s->nObjs; i++){
        synth_object *ob = &s->objs[i];
        if( ob->cat==NULL || ob->cat->place!=PL_TOP ) continue;
        ob->supportedBy = 0;
        for(int j = firstObject; j < s->nObjs; j++){
            const synth_object *p = &s->objs[j];
            double bottom = ob->center[2] - ob->size[2] / 2, top;
            double rel[3], u, v;
            if( j==i || p->cat==NULL || p->cat->place==PL_TOP || p->cat->place==PL_WALL ) continue;
            top = p->center[2] - p->size[2] / 2 + (p->cat->shape==SH_BED ? 0.5 : p->cat->shape==SH_SOFA ? 0.45 : p->size[2]);
            if( fabs(bottom - top) > 0.01 ) continue;
            for(int k = 0; k < 3; k++) rel[k] = ob->center[k] - p->center[k];
            u = rel[0] * p->axes[0] + rel[1] * p->axes[1];
            v = rel[0] * p->axes[3] + rel[1] * p->axes[4];
            if( fabs(u) <= p->size[0] / 2 && fabs(v) <= p->size[1] / 2 ) ob->supportedBy = p->id;
        }
    }
    for(int i = 0; i < s->nObjs; i++) s->objs[i].nyu40 = tsv_nyu40(s->objs[i].zRaw);

    /* Raw frames. ScanNet: a yaw and a translation that put the raw coordinates roughly in the
    ** positive octant, as real scans are; axisAlignment is the inverse. ARKitScenes: a world frame
    ** with arbitrary heading whose origin is where the device started, about eye height. */
    {
        double yaw = sptt_rng_uniform(rng, -SPTT_PI, SPTT_PI), R[9], minx = 1e300, miny = 1e300, off[3];
        sptt_rot_z(yaw, R);
        for(int i = 0; i < s->nPoly; i++){
            double x = R[0] * s->poly[i][0] + R[1] * s->poly[i][1], y = R[3] * s->poly[i][0] + R[4] * s->poly[i][1];
            minx = fmin(minx, x);
            miny = fmin(miny, y);
        }
        off[0] = sptt_rng_uniform(rng, 0.0, 0.5) - minx;
        off[1] = sptt_rng_uniform(rng, 0.0, 0.5) - miny;
        off[2] = sptt_rng_uniform(rng, 0.0, 0.1);
        /* toRaw = [R | off]; alignment = toRaw^-1 */
        {
            double T[16] = { R[0], R[1], R[2], off[0], R[3], R[4], R[5], off[1], R[6], R[7], R[8], off[2], 0, 0, 0, 1 };
            if( isArkit ){
                T[3] = sptt_rng_uniform(rng, -2, 2);
                T[7] = sptt_rng_uniform(rng, -2, 2);
                T[11] = -sptt_rng_uniform(rng, 1.2, 1.5);
                memcpy(s->world, T, sizeof T);
                sptt_identity4(s->alignment);
            }else{
                sptt_rigid_inverse(T, s->alignment);
                sptt_identity4(s->world);
            }
        }
    }

    nFrames = o->nFrames > 0 ? o->nFrames : o->scale==SPTT_SCALE_SCANNET ? (isArkit ? 600 : 1600) : (isArkit ? 40 : 96);
    rc = make_camera(s, rng, &w, nFrames);
    if( rc==SPTT_OK ) rc = sptt_raster_index_build(s->mesh.xyz, s->mesh.nVerts, s->mesh.faces, s->mesh.nFaces, &s->raster);
    return rc;
}

void synth_free_scene(synth_scene *s)
{
    free(s->objs);
    free(s->mesh.xyz);
    free(s->mesh.rgb);
    free(s->mesh.faces);
    free(s->mesh.seg);
    free(s->mesh.owner);
    free(s->c2w);
    free(s->times);
    free(s->invalid);
    sptt_raster_index_free(&s->raster);
    memset(s, 0, sizeof *s);
}
