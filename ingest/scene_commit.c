/*
** From a scene read by any source to its pack and its rows.
**
** Atomicity: the pack is written first, under a name that carries the input hash, so the old pack
** stays valid; then one BEGIN IMMEDIATE transaction deletes the scene's old rows (children cascade)
** and inserts the new ones; only after COMMIT is the old pack removed. A failure at any point
** leaves the previous state: old rows, old pack, and no stray new pack.
*/
#include "ingest.h"
#include "sptt_dataset.h"
#include "sptt_db.h"
#include "sptt_math.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ingest_scene_init(scene_data *d, const char *zName, const char *zSource)
{
    memset(d, 0, sizeof *d);
    snprintf(d->zName, sizeof d->zName, "%s", zName);
    d->zSource = zSource;
    sptt_identity4(d->alignment);
    sptt_hash_init(&d->inputHash);
    /* The QA categories ingest assigns come from the label tables: when those change, every scene
    ** must be ingested again rather than skipped as unchanged. */
    {
        uint64_t v = sptt_label_tables_hash();
        sptt_hash_update(&d->inputHash, &v, sizeof v);
    }
}

void ingest_scene_free(scene_data *d)
{
    sptt_pack_free(&d->pack);
    free(d->inst);
    free(d->warn);
    memset(d, 0, sizeof *d);
}

void ingest_scene_warn(scene_data *d, const char *zCode, const char *zFormat, ...)
{
    scene_warning *w = sptt_realloc(d->warn, sizeof *w * (size_t)(d->nWarn + 1));
    va_list ap;
    if( w==NULL ) return;
    d->warn = w;
    w = &d->warn[d->nWarn++];
    snprintf(w->zCode, sizeof w->zCode, "%s", zCode);
    va_start(ap, zFormat);
    vsnprintf(w->zMessage, sizeof w->zMessage, zFormat, ap);
    va_end(ap);
}

scene_instance *ingest_scene_add_instance(scene_data *d, int id)
{
    scene_instance *p = sptt_realloc(d->inst, sizeof *p * (size_t)(d->nInst + 1));
    if( p==NULL ) return NULL;
    d->inst = p;
    p = &d->inst[d->nInst++];
    memset(p, 0, sizeof *p);
    p->id = id;
    return p;
}

int ingest_scene_read_input(scene_data *d, const char *zPath, uint8_t **pData, size_t *pSize)
{
    int rc = sptt_read_file(zPath, pData, pSize);
    if( rc==SPTT_OK ) sptt_hash_update(&d->inputHash, *pData, *pSize);
    return rc;
}

int ingest_scene_hash_file(scene_data *d, const char *zPath)
{
    FILE *fp = NULL;
    uint8_t *buf;
    size_t n;
    int rc = sptt_open_regular(zPath, &fp);
    if( rc ) return rc;
    buf = sptt_malloc(1 << 20);
    if( buf==NULL ){
        fclose(fp);
        return SPTT_ENOMEM;
    }
    while( (n = fread(buf, 1, 1 << 20, fp)) > 0 ) sptt_hash_update(&d->inputHash, buf, n);
    if( ferror(fp) ) rc = sptt_fail(SPTT_EIO, "%s: read failed", zPath);
    free(buf);
    fclose(fp);
    return rc;
}

void ingest_scene_apply_alignment(scene_data *d)
{
    const double *M = d->alignment;
    sptt_pack *p = &d->pack;
    for(uint64_t i = 0; i < p->nPoints; i++){
        double a[3] = { p->xyz[3 * i], p->xyz[3 * i + 1], p->xyz[3 * i + 2] }, b[3];
        sptt_xform_point(M, a, b);
        p->xyz[3 * i] = (float)b[0];
        p->xyz[3 * i + 1] = (float)b[1];
        p->xyz[3 * i + 2] = (float)b[2];
    }
    for(uint64_t f = 0; f < p->nFrames; f++){
        double c[16], out[16];
        for(int k = 0; k < 16; k++) c[k] = p->frames[f].c2w[k];
        sptt_mul4(M, c, out);
        for(int k = 0; k < 16; k++) p->frames[f].c2w[k] = (float)out[k];
    }
}

/* Counts points per instance. */
static void scene_count_points(scene_data *d)
{
    for(int i = 0; i < d->nInst; i++) d->inst[i].nPoints = 0;
    for(uint64_t v = 0; v < d->pack.nPoints; v++){
        int id = d->pack.instance[v];
        if( id==0 ) continue;
        /* Instances are few; a linear scan keeps the table simple and is not the hot path
        ** for real scenes (tens of instances). */
        for(int i = 0; i < d->nInst; i++){
            if( d->inst[i].id==id ){
                d->inst[i].nPoints++;
                break;
            }
        }
    }
}

int ingest_scene_sample_surface(scene_data *d, uint64_t n, uint64_t seed)
{
    sptt_pack *p = &d->pack;
    double *cum = NULL, total = 0;
    sptt_rng rng;
    if( p->nFaces==0 ) return sptt_fail(SPTT_EINVAL, "%s: --sample needs a mesh with faces", d->zName);
    cum = sptt_malloc(sizeof(double) * (size_t)p->nFaces);
    p->sxyz = sptt_malloc(sptt_mul_size((size_t)n, 12));
    p->srgb = sptt_malloc(sptt_mul_size((size_t)n, 3));
    p->sinstance = sptt_malloc(sptt_mul_size((size_t)n, 2));
    p->snyu40 = sptt_malloc((size_t)n);
    if( !cum || !p->sxyz || !p->srgb || !p->sinstance || !p->snyu40 ){
        free(cum);
        return SPTT_ENOMEM;
    }
    for(uint64_t f = 0; f < p->nFaces; f++){
        const float *a = p->xyz + 3 * (size_t)p->faces[3 * f], *b = p->xyz + 3 * (size_t)p->faces[3 * f + 1];
        const float *c = p->xyz + 3 * (size_t)p->faces[3 * f + 2];
        double u[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] }, v[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] }, x[3];
        sptt_cross3(u, v, x);
        total += 0.5 * sptt_norm3(x);
        cum[f] = total;
    }
    if( !(total > 0) ){
        free(cum);
        return sptt_fail(SPTT_EFORMAT, "%s: --sample: the mesh has no area", d->zName);
    }
    sptt_rng_seed(&rng, seed);
    for(uint64_t i = 0; i < n; i++){
        double t = sptt_rng_unit(&rng) * total, r1 = sptt_rng_unit(&rng), r2 = sptt_rng_unit(&rng);
        uint64_t lo = 0, hi = p->nFaces - 1;
        double w[3];
        int best = 0;
        while( lo < hi ){
            uint64_t mid = (lo + hi) / 2;
            if( cum[mid] < t ) lo = mid + 1;
            else hi = mid;
        }
        /* Uniform point in a triangle: the square-root warp of two uniforms. */
        r1 = sqrt(r1);
        w[0] = 1 - r1;
        w[1] = r1 * (1 - r2);
        w[2] = r1 * r2;
        for(int k = 1; k < 3; k++) if( w[k] > w[best] ) best = k;
        for(int k = 0; k < 3; k++){
            double s = 0, col = 0;
            for(int j = 0; j < 3; j++){
                uint32_t vi = p->faces[3 * lo + (uint64_t)j];
                s += w[j] * p->xyz[3 * (size_t)vi + (size_t)k];
                col += w[j] * p->rgb[3 * (size_t)vi + (size_t)k];
            }
            p->sxyz[3 * i + k] = (float)s;
            p->srgb[3 * i + k] = (uint8_t)lrint(col);
        }
        /* Labels are not interpolated: a sample takes its nearest corner's. */
        p->sinstance[i] = p->instance[p->faces[3 * lo + (uint64_t)best]];
        p->snyu40[i] = p->nyu40[p->faces[3 * lo + (uint64_t)best]];
    }
    p->nSamples = n;
    free(cum);
    return SPTT_OK;
}

int ingest_file_exists(const char *zPath)
{
    struct stat st;
    return stat(zPath, &st)==0 && S_ISREG(st.st_mode);
}

int ingest_dir_exists(const char *zPath)
{
    struct stat st;
    return stat(zPath, &st)==0 && S_ISDIR(st.st_mode);
}

int ingest_need_file(const char *zPath)
{
    if( !ingest_file_exists(zPath) ) return sptt_fail(SPTT_EFORMAT, "%s: missing file", zPath);
    return SPTT_OK;
}

const char *ingest_base_name(const char *zPath, char *zBuf, size_t n)
{
    size_t len = strlen(zPath);
    const char *z;
    while( len > 1 && zPath[len - 1]=='/' ) len--;
    z = zPath + len;
    while( z > zPath && z[-1]!='/' ) z--;
    snprintf(zBuf, n, "%.*s", (int)(zPath + len - z), z);
    return zBuf;
}

int ingest_json_parse(const char *zPath, const uint8_t *data, size_t n, json_t **pJ)
{
    json_error_t e;
    *pJ = json_loadb((const char *)data, n, JSON_REJECT_DUPLICATES, &e);
    if( *pJ==NULL ){
        return sptt_fail(SPTT_EFORMAT, "%s: line %d column %d: JSON syntax error: %s", zPath, e.line, e.column, e.text);
    }
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Frames
*/
void ingest_frames_choose(const double *t, const int *valid, uint64_t n, double fps, uint64_t *keep, uint64_t *pKept)
{
    uint64_t k = 0;
    /* Tick m falls at t0 + m * step. Counting ticks, rather than adding step until one passes
    ** a frame, keeps the work proportional to the frames: a jump of years in the timestamps
    ** costs one division, not one addition per step. */
    double step = 1.0 / fps, slack = fmin(0.25 * step, 0.005), t0 = 0, m = 0;
    for(uint64_t i = 0; i < n; i++){
        double limit;
        if( !valid[i] ) continue;
        if( k && t[i] < t0 + m * step - slack ) continue;
        if( k==0 ){
            t0 = t[i];
            m = 0;
        }
        keep[k++] = i;
        /* The next tick is the first after t[i] + slack. The division may round the count one
        ** off either way; two corrections each way are enough for any finite time, and at times
        ** so large that a step no longer moves a double the next frame simply is not held back. */
        limit = t[i] + slack;
        if( t0 + m * step <= limit ){
            double q = floor((limit - t0) / step) + 1;
            if( q > m ) m = q;
            for(int g = 0; g < 2 && t0 + m * step <= limit; g++) m += 1;
            for(int g = 0; g < 2 && t0 + (m - 1) * step > limit; g++) m -= 1;
        }
    }
    *pKept = k;
}

int ingest_frames_pose_lost(const double *m)
{
    int minusInf = 0;
    for(int i = 0; i < 16; i++){
        if( isnan(m[i]) || m[i]==INFINITY ) return 0;
        minusInf |= m[i]==-INFINITY;
    }
    return minusInf;
}

int ingest_frames_check(const scene_data *d, const char *zSource)
{
    const sptt_pack *p = &d->pack;
    for(uint64_t f = 0; f < p->nFrames; f++){
        char zWhy[200];
        const sptt_frame_info *fr = &p->frames[f];
        if( !sptt_frame_ok(fr, zWhy, sizeof zWhy) ){
            return sptt_fail(SPTT_EFORMAT, "%s: frame %u: %s once aligned and converted to the pack's float32", zSource,
                             fr->sourceIndex, zWhy);
        }
        if( f && fr->timestamp < p->frames[f - 1].timestamp ){
            return sptt_fail(SPTT_EFORMAT, "%s: frame %u: timestamp goes backwards", zSource, fr->sourceIndex);
        }
    }
    return SPTT_OK;
}

int ingest_frames_push(frame_list *fl, const sptt_frame_info *f)
{
    if( fl->n==fl->cap ){
        uint64_t cap = fl->cap ? 2 * fl->cap : 256;
        sptt_frame_info *a = sptt_realloc(fl->info, sizeof *a * (size_t)cap);
        uint8_t **j = a ? sptt_realloc(fl->jpeg, sizeof *j * (size_t)cap) : NULL;
        size_t *s = j ? sptt_realloc(fl->jpegSize, sizeof *s * (size_t)cap) : NULL;
        if( a ) fl->info = a;
        if( j ) fl->jpeg = j;
        if( s==NULL ) return SPTT_ENOMEM;
        fl->jpegSize = s;
        fl->cap = cap;
    }
    fl->info[fl->n] = *f;
    fl->jpeg[fl->n] = NULL;
    fl->jpegSize[fl->n] = 0;
    fl->n++;
    return SPTT_OK;
}

void ingest_frames_free(frame_list *fl)
{
    for(uint64_t i = 0; i < fl->n; i++) free(fl->jpeg ? fl->jpeg[i] : NULL);
    free(fl->info);
    free(fl->jpeg);
    free(fl->jpegSize);
    memset(fl, 0, sizeof *fl);
}

int ingest_frames_to_pack(frame_list *fl, scene_data *d, int w, int h)
{
    sptt_pack *p = &d->pack;
    int all = fl->n > 0;
    for(uint64_t i = 0; i < fl->n; i++) if( fl->jpeg[i]==NULL ) all = 0;
    p->nFrames = fl->n;
    p->frames = fl->info;
    fl->info = NULL;
    if( all ){
        size_t total = 0, at = 0;
        for(uint64_t i = 0; i < fl->n; i++) total += fl->jpegSize[i];
        p->imgOffsets = sptt_malloc(sizeof(uint64_t) * (size_t)(fl->n + 1));
        p->imgData = sptt_malloc(total);
        if( !p->imgOffsets || !p->imgData ) return SPTT_ENOMEM;
        for(uint64_t i = 0; i < fl->n; i++){
            p->imgOffsets[i] = at;
            memcpy(p->imgData + at, fl->jpeg[i], fl->jpegSize[i]);
            at += fl->jpegSize[i];
        }
        p->imgOffsets[fl->n] = at;
        p->imgEncoding = SPTT_IMG_JPEG;
        p->imgWidth = (uint32_t)w;
        p->imgHeight = (uint32_t)h;
    }
    ingest_frames_free(fl);
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Commit
*/
static void hex64(uint64_t h, char z[17])
{
    snprintf(z, 17, "%016llx", (unsigned long long)h);
}

int ingest_scene_skip_if_unchanged(sqlite3 *db, const scene_data *d, const sptt_ingest_opts *o, sptt_ingest_result *r)
{
    char zHash[17];
    sptt_hash h = d->inputHash;
    if( o->force ) return 0;
    hex64(sptt_hash_final(&h), zHash);
    if( !sptt_scene_unchanged(db, d->zName, d->zSource, zHash) ) return 0;
    {
        /* Resolving the pack folder removes what killed writers left in it (once per process):
        ** a run that only skips scenes must do it too, or the temporary of a killed --force
        ** ingest would stay for good. Failing to resolve it changes nothing for the skip. */
        char zDir[SPTT_PATH_MAX];
        (void)sptt_dataset_pack_dir(db, o->zPackDir, zDir, sizeof zDir);
    }
    r->skipped = 1;
    snprintf(r->zSummary, sizeof r->zSummary, "%s: unchanged since the last ingest, skipped", d->zName);
    return 1;
}

int ingest_scene_take_ply(scene_data *d, const char *zPath)
{
    sptt_ply ply;
    int rc = sptt_ply_read(zPath, &ply);
    if( rc ) return rc;
    rc = ingest_scene_hash_file(d, zPath);
    if( rc==SPTT_OK && ply.rgb==NULL ) rc = sptt_fail(SPTT_EFORMAT, "%s: vertices have no red/green/blue properties", zPath);
    if( rc==SPTT_OK ){
        d->pack.nPoints = ply.nVerts;
        d->pack.xyz = ply.xyz;
        d->pack.rgb = ply.rgb;
        d->pack.nFaces = ply.nFaces;
        d->pack.faces = ply.faces;
        ply.xyz = NULL;
        ply.rgb = NULL;
        ply.faces = NULL;
        d->pack.instance = sptt_calloc((size_t)ply.nVerts, 2);
        d->pack.nyu40 = sptt_calloc((size_t)ply.nVerts, 1);
        if( !d->pack.instance || !d->pack.nyu40 ) rc = SPTT_ENOMEM;
    }
    sptt_ply_free(&ply);
    return rc;
}

static char *build_meta(const scene_data *d, const char *zHash)
{
    json_t *m = json_object(), *inst = json_array(), *warn = json_array();
    char *z;
    json_object_set_new(m, "name", json_string(d->zName));
    json_object_set_new(m, "source", json_string(d->zSource));
    if( d->zSceneType[0] ) json_object_set_new(m, "scene_type", json_string(d->zSceneType));
    {
        json_t *a = json_array();
        for(int i = 0; i < 16; i++) json_array_append_new(a, json_real(d->alignment[i]));
        json_object_set_new(m, "alignment", a);
    }
    json_object_set_new(m, "fps", json_real(d->fps));
    json_object_set_new(m, "up_rotation", json_integer(d->upRotation));
    json_object_set_new(m, "input_hash", json_string(zHash));
    for(int i = 0; i < d->nInst; i++){
        const scene_instance *s = &d->inst[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(s->id));
        json_object_set_new(o, "raw_label", json_string(s->zRaw));
        json_object_set_new(o, "nyu40", json_integer(s->nyu40));
        json_object_set_new(o, "category", s->zCategory ? json_string(s->zCategory) : json_null());
        if( s->hasBox ){
            json_t *b = json_object(), *c = json_array(), *sz = json_array(), *ax = json_array();
            for(int k = 0; k < 3; k++){
                json_array_append_new(c, json_real(s->center[k]));
                json_array_append_new(sz, json_real(s->size[k]));
            }
            for(int k = 0; k < 9; k++) json_array_append_new(ax, json_real(s->axes[k]));
            json_object_set_new(b, "center", c);
            json_object_set_new(b, "size", sz);
            json_object_set_new(b, "axes", ax);
            json_object_set_new(o, "box", b);
        }
        json_array_append_new(inst, o);
    }
    json_object_set_new(m, "instances", inst);
    for(int i = 0; i < d->nWarn; i++) json_array_append_new(warn, json_string(d->warn[i].zMessage));
    json_object_set_new(m, "warnings", warn);
    z = json_dumps(m, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(m);
    return z;
}

/* The pack's file name carries the input hash, so the old pack stays valid until the new rows
** commit. */
static int pack_path(sqlite3 *db, const scene_data *d, const sptt_ingest_opts *o, const char *zHash, char *z, size_t n)
{
    char zDir[SPTT_PATH_MAX];
    int rc = sptt_dataset_pack_dir(db, o->zPackDir, zDir, sizeof zDir);
    if( rc ) return rc;
    return sptt_pathf(z, n, "%s/%s.%.8s.sptt", zDir, d->zName, zHash);
}

static int insert_rows(sqlite3 *db, const scene_data *d, const sptt_ingest_opts *o, const char *zPack, const char *zHash, int64_t *pId)
{
    sqlite3_stmt *s = NULL;
    int rc;
    int64_t id;
    const sptt_pack *p = &d->pack;
    sptt_scene_new n;
    char zOld[SPTT_PATH_MAX];

    memset(&n, 0, sizeof n);
    n.zName = d->zName;
    n.zSource = d->zSource;
    n.zInputHash = zHash;
    n.zPack = zPack;
    n.nPoints = (int64_t)p->nPoints;
    n.nFaces = (int64_t)p->nFaces;
    n.nFrames = (int64_t)p->nFrames;
    n.fps = d->fps;
    n.alignment = d->alignment;
    n.replace = o->replace;
    /* The old row's children (objects, frames, annotations) cascade away with it. */
    if( (rc = sptt_scene_insert(db, &n, &id, zOld, sizeof zOld)) ) goto done;
    {
        char **az = sptt_malloc(sizeof(char *) * 2 * (size_t)(d->nWarn + 1));
        if( az==NULL ){
            rc = SPTT_ENOMEM;
            goto done;
        }
        for(int i = 0; i < d->nWarn; i++){
            az[i] = (char *)d->warn[i].zCode;
            az[d->nWarn + i] = (char *)d->warn[i].zMessage;
        }
        rc = sptt_scene_set_warnings(db, id, "ingest", d->nWarn, az, az + d->nWarn);
        free(az);
        if( rc ) goto done;
    }

    rc = sptt_db_prepare(db, "INSERT INTO objects(scene_id, instance_id, raw_label, nyu40_id, label, category, n_points) "
                             "VALUES(?,?,?,?,?,?,?)", &s);
    if( rc ) goto done;
    for(int i = 0; i < d->nInst; i++){
        const scene_instance *in = &d->inst[i];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int(s, 2, in->id);
        sqlite3_bind_text(s, 3, in->zRaw, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, in->nyu40);
        sqlite3_bind_text(s, 5, sptt_nyu40_name(in->nyu40), -1, SQLITE_STATIC);
        if( in->zCategory ) sqlite3_bind_text(s, 6, in->zCategory, -1, SQLITE_STATIC);
        else sqlite3_bind_null(s, 6);
        sqlite3_bind_int64(s, 7, (int64_t)in->nPoints);
        if( (rc = sptt_db_step_done(db, s, "insert object")) ) goto done;
    }
    sqlite3_finalize(s);
    s = NULL;

    rc = sptt_db_prepare(db, "INSERT INTO frames(scene_id, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, "
                             "height, has_image) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &s);
    if( rc ) goto done;
    for(uint64_t f = 0; f < p->nFrames; f++){
        const sptt_frame_info *fr = &p->frames[f];
        double pose[16];
        for(int k = 0; k < 16; k++) pose[k] = fr->c2w[k];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, (int64_t)f);
        sqlite3_bind_int64(s, 3, fr->sourceIndex);
        sqlite3_bind_double(s, 4, fr->timestamp);
        sptt_db_bind_floats(s, 5, pose, 16);
        sqlite3_bind_double(s, 6, fr->fx);
        sqlite3_bind_double(s, 7, fr->fy);
        sqlite3_bind_double(s, 8, fr->cx);
        sqlite3_bind_double(s, 9, fr->cy);
        sqlite3_bind_int(s, 10, (int)fr->width);
        sqlite3_bind_int(s, 11, (int)fr->height);
        sqlite3_bind_int(s, 12, p->imgEncoding!=SPTT_IMG_NONE);
        if( (rc = sptt_db_step_done(db, s, "insert frame")) ) goto done;
    }
    *pId = id;

done:
    sqlite3_finalize(s);
    return rc;
}

int ingest_scene_commit(sqlite3 *db, scene_data *d, const sptt_ingest_opts *o, sptt_ingest_result *r)
{
    char zHash[17], zPack[SPTT_PATH_MAX], zOld[SPTT_PATH_MAX] = "";
    int rc = SPTT_OK;
    int packWritten = 0;
    int64_t id = 0;
    sptt_scene_row old;

    hex64(sptt_hash_final(&d->inputHash), zHash);
    scene_count_points(d);
    free(d->pack.zMeta);
    d->pack.zMeta = build_meta(d, zHash);
    if( d->pack.zMeta==NULL ) return sptt_fail(SPTT_ENOMEM, "json: out of memory");
    if( (rc = pack_path(db, d, o, zHash, zPack, sizeof zPack)) ) return rc;

    /* The previous pack, removed after a successful commit when its name differs. */
    if( sptt_scene_get(db, d->zName, &old)==SPTT_OK ){
        snprintf(zOld, sizeof zOld, "%s", old.zPack);
        sptt_scene_row_free(&old);
    }

    rc = sptt_pack_write(zPack, &d->pack, 3);
    if( rc ) goto done;
    packWritten = strcmp(zOld, zPack)!=0;
    rc = sptt_db_begin(db);
    if( rc ) goto done;
    rc = insert_rows(db, d, o, zPack, zHash, &id);
    if( rc==SPTT_OK ) rc = sptt_db_commit(db);
    if( rc ){
        sptt_db_rollback(db);
        goto done;
    }
    packWritten = 0;
    if( zOld[0] && strcmp(zOld, zPack)!=0 ) unlink(zOld);

    r->nPoints = d->pack.nPoints;
    r->nFaces = d->pack.nFaces;
    r->nFrames = d->pack.nFrames;
    r->nInstances = (uint64_t)d->nInst;
    r->nWarnings = (uint64_t)d->nWarn;

done:
    if( packWritten ) unlink(zPack);
    return rc;
}
