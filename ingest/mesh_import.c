/*
** Any mesh Assimp reads (OBJ, glTF/GLB, FBX, ...) -> scene pack + rows; for Matterport-,
** 3D-FRONT- or HM3D-style exports where each object is its own node or mesh.
**
**   1. PLY is refused: Debian's Assimp 5.2.5 shifts binary PLY data by a byte when the first data
**      byte is 0x0A (fixed upstream in 5.3.0) and drops custom properties such as label and
**      objectId; the scannet and arkitscenes sources read PLY with our own reader.
**   2. Import with aiProcess_Triangulate (and the read-only validation) only: every other
**      post-process step renumbers, merges or splits vertices.
**   3. Walk the node tree accumulating transforms (glTF keeps them in the nodes); each (node,
**      mesh) pair becomes one instance, named after the node, or the mesh when the node is unnamed.
**   4. --labels MAP names the instances; --up y turns y-up files to z up (the default for glTF).
**
** Every file Assimp opens (the mesh, and e.g. an OBJ's .mtl or a glTF's .bin) goes through our
** file callbacks, so all of them feed the input hash.
*/
#include "ingest.h"
#include "sptt_math.h"

#include <assimp/cfileio.h>
#include <assimp/cimport.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_DEPTH 256     /* node nesting beyond this is taken for a broken file */

/* ---------------------------------------------------------------------------------------------
** Label map: "name<TAB>raw label[<TAB>nyu40 id]" per line
*/
int ingest_parse_label_map(const char *zPath, char *buf, label_map *m)
{
    char *line, *next;
    int lineNo = 0, cap = 0;
    int rc = SPTT_OK;
    for(line = buf; line && *line; line = next){
        char *end = strchr(line, '\n'), *tab1, *tab2;
        map_row *row;
        next = end ? end + 1 : NULL;
        if( end ) *end = 0;
        if( end && end > line && end[-1]=='\r' ) end[-1] = 0;
        lineNo++;
        if( line[0]==0 || line[0]=='#' ) continue;
        tab1 = strchr(line, '\t');
        if( tab1==NULL || tab1==line || tab1[1]==0 || tab1[1]=='\t' ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: line %d: expected 'name<TAB>raw label[<TAB>nyu40 id]'", zPath, lineNo);
            break;
        }
        *tab1 = 0;
        tab2 = strchr(tab1 + 1, '\t');
        if( tab2 ) *tab2 = 0;
        if( strlen(line) >= sizeof row->zName || strlen(tab1 + 1) >= sizeof row->zRaw ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: line %d: name or raw label longer than %zu bytes", zPath, lineNo,
                           sizeof row->zName - 1);
            break;
        }
        if( m->n==cap ){
            map_row *r2 = sptt_realloc(m->rows, sizeof *r2 * (size_t)(cap = cap ? 2 * cap : 64));
            if( r2==NULL ){ rc = SPTT_ENOMEM; break; }
            m->rows = r2;
        }
        row = &m->rows[m->n++];
        snprintf(row->zName, sizeof row->zName, "%s", line);
        snprintf(row->zRaw, sizeof row->zRaw, "%s", tab1 + 1);
        row->nyu40 = -1;
        if( tab2 && tab2[1] ){
            char *e;
            long v = strtol(tab2 + 1, &e, 10);
            if( e==tab2 + 1 || *e || v < 0 || v > 40 ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: line %d: column 3: '%.20s' is not an NYU40 id (0 to 40)", zPath, lineNo,
                               tab2 + 1);
                break;
            }
            row->nyu40 = (int)v;
        }
    }
    return rc;
}

static int read_map(scene_data *d, const char *zPath, label_map *m)
{
    uint8_t *buf;
    size_t n;
    int rc = ingest_scene_read_input(d, zPath, &buf, &n);
    if( rc ) return rc;
    rc = ingest_parse_label_map(zPath, (char *)buf, m);
    free(buf);
    return rc;
}

/* Case-insensitive substring test. */
static int contains_nocase(const char *zHay, const char *zNeedle)
{
    size_t n = strlen(zNeedle);
    if( n==0 ) return 0;
    for(; *zHay; zHay++) if( strncasecmp(zHay, zNeedle, n)==0 ) return 1;
    return 0;
}

/* NYU40 id whose class name equals the label, ignoring case and treating '_' and '-' as spaces;
** 0 when none does. */
static int nyu40_by_name(const char *zLabel)
{
    char z[96];
    size_t i;
    for(i = 0; zLabel[i] && i + 1 < sizeof z; i++) z[i] = (zLabel[i]=='_' || zLabel[i]=='-') ? ' ' : zLabel[i];
    z[i] = 0;
    for(int id = 1; id < SPTT_NYU40_COUNT; id++){
        const char *zName = sptt_nyu40_name(id);
        if( zName && strcasecmp(z, zName)==0 ) return id;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
** File callbacks: plain stdio, plus a record of every file opened.
*/
typedef struct io_log {
    char **az;
    int n;
    int nomem;
} io_log;

static size_t io_read(struct aiFile *f, char *buf, size_t size, size_t count)
{
    return fread(buf, size, count, (FILE *)f->UserData);
}

static size_t io_write(struct aiFile *f, const char *buf, size_t size, size_t count)
{
    (void)f;
    (void)buf;
    (void)size;
    (void)count;
    return 0;     /* import only */
}

static size_t io_tell(struct aiFile *f)
{
    long p = ftell((FILE *)f->UserData);
    return p < 0 ? 0 : (size_t)p;
}

static size_t io_size(struct aiFile *f)
{
    struct stat st;
    if( fstat(fileno((FILE *)f->UserData), &st)!=0 ) return 0;
    return (size_t)st.st_size;
}

static enum aiReturn io_seek(struct aiFile *f, size_t off, enum aiOrigin origin)
{
    int whence = origin==aiOrigin_SET ? SEEK_SET : origin==aiOrigin_CUR ? SEEK_CUR : SEEK_END;
    /* Assimp passes backward offsets as wrapped size_t values, as its own stdio stream reads them. */
    return fseek((FILE *)f->UserData, (long)off, whence)==0 ? aiReturn_SUCCESS : aiReturn_FAILURE;
}

static void io_flush(struct aiFile *f)
{
    (void)f;
}

static struct aiFile *io_open(struct aiFileIO *io, const char *zPath, const char *zMode)
{
    io_log *log = (io_log *)io->UserData;
    struct aiFile *f;
    FILE *fp;
    if( strchr(zMode, 'w') || strchr(zMode, 'a') || strchr(zMode, '+') ) return NULL;
    /* A FIFO at the path must not block the import (Assimp opens through this). */
    if( sptt_open_regular(zPath, &fp) ) return NULL;
    f = calloc(1, sizeof *f);
    if( f==NULL ){
        fclose(fp);
        log->nomem = 1;
        return NULL;
    }
    f->ReadProc = io_read;
    f->WriteProc = io_write;
    f->TellProc = io_tell;
    f->FileSizeProc = io_size;
    f->SeekProc = io_seek;
    f->FlushProc = io_flush;
    f->UserData = (aiUserData)fp;
    {
        int seen = 0;
        for(int i = 0; i < log->n; i++) if( strcmp(log->az[i], zPath)==0 ) seen = 1;
        if( !seen ){
            char **a2 = realloc(log->az, sizeof *a2 * (size_t)(log->n + 1));
            char *z = strdup(zPath);
            if( a2 ) log->az = a2;
            if( a2==NULL || z==NULL ){
                free(z);
                log->nomem = 1;
            }else{
                log->az[log->n++] = z;
            }
        }
    }
    return f;
}

static void io_close(struct aiFileIO *io, struct aiFile *f)
{
    (void)io;
    if( f==NULL ) return;
    fclose((FILE *)f->UserData);
    free(f);
}

static void io_log_free(io_log *log)
{
    for(int i = 0; i < log->n; i++) free(log->az[i]);
    free(log->az);
    memset(log, 0, sizeof *log);
}

/* ---------------------------------------------------------------------------------------------
** Node tree -> (node, mesh, transform) parts
*/
typedef struct mesh_part {
    const struct aiNode *node;
    unsigned mesh;
    double T[16];             /* node -> file frame, row-major */
} mesh_part;

typedef struct part_list {
    mesh_part *a;
    int n, cap;
} part_list;

static int collect_parts(const struct aiScene *s, const struct aiNode *node, const double *parent, int depth, part_list *pl,
                         const char *zPath)
{
    const struct aiMatrix4x4 *m = &node->mTransformation;
    double L[16] = { m->a1, m->a2, m->a3, m->a4, m->b1, m->b2, m->b3, m->b4,
                     m->c1, m->c2, m->c3, m->c4, m->d1, m->d2, m->d3, m->d4 };
    double G[16];
    int rc;
    if( depth > MAX_DEPTH ) return sptt_fail(SPTT_EFORMAT, "%s: node tree deeper than %d levels", zPath, MAX_DEPTH);
    for(int i = 0; i < 16; i++){
        if( !isfinite(L[i]) ){
            return sptt_fail(SPTT_EFORMAT, "%s: node '%s': transform entry %d is not finite", zPath, node->mName.data, i);
        }
    }
    sptt_mul4(parent, L, G);
    for(unsigned i = 0; i < node->mNumMeshes; i++){
        if( node->mMeshes[i] >= s->mNumMeshes ){
            return sptt_fail(SPTT_EFORMAT, "%s: node '%s': mesh %u does not exist", zPath, node->mName.data, node->mMeshes[i]);
        }
        if( pl->n==pl->cap ){
            mesh_part *a2 = sptt_realloc(pl->a, sizeof *a2 * (size_t)(pl->cap = pl->cap ? 2 * pl->cap : 64));
            if( a2==NULL ) return SPTT_ENOMEM;
            pl->a = a2;
        }
        pl->a[pl->n].node = node;
        pl->a[pl->n].mesh = node->mMeshes[i];
        memcpy(pl->a[pl->n].T, G, sizeof G);
        pl->n++;
    }
    for(unsigned i = 0; i < node->mNumChildren; i++){
        if( (rc = collect_parts(s, node->mChildren[i], G, depth + 1, pl, zPath)) ) return rc;
    }
    return SPTT_OK;
}

static uint8_t unit_to_byte(float c)
{
    if( !(c > 0) ) return 0;
    if( c >= 1 ) return 255;
    return (uint8_t)lrintf(c * 255.0f);
}

/* A mesh's uniform colour: the material's diffuse colour, else its base colour (glTF), else grey. */
static void material_color(const struct aiScene *s, const struct aiMesh *me, uint8_t *rgb)
{
    struct aiColor4D c;
    rgb[0] = rgb[1] = rgb[2] = 128;
    if( me->mMaterialIndex >= s->mNumMaterials ) return;
    if( aiGetMaterialColor(s->mMaterials[me->mMaterialIndex], AI_MATKEY_COLOR_DIFFUSE, &c)==aiReturn_SUCCESS ||
        aiGetMaterialColor(s->mMaterials[me->mMaterialIndex], AI_MATKEY_BASE_COLOR, &c)==aiReturn_SUCCESS ){
        rgb[0] = unit_to_byte(c.r);
        rgb[1] = unit_to_byte(c.g);
        rgb[2] = unit_to_byte(c.b);
    }
}

static const char *stem_of(const char *zPath, char *zBuf, size_t n)
{
    const char *zBase = strrchr(zPath, '/');
    const char *zDot;
    zBase = zBase ? zBase + 1 : zPath;
    zDot = strrchr(zBase, '.');
    snprintf(zBuf, n, "%.*s", (int)(zDot && zDot > zBase ? (size_t)(zDot - zBase) : strlen(zBase)), zBase);
    return zBuf;
}

static int is_ply(const char *zPath)
{
    const char *zDot = strrchr(zPath, '.');
    char head[5] = "";
    FILE *fp;
    if( zDot && strcasecmp(zDot, ".ply")==0 ) return 1;
    /* Assimp also recognises a PLY by its first line, whatever the file is called. */
    if( sptt_open_regular(zPath, &fp)==SPTT_OK ){
        size_t n = fread(head, 1, 4, fp);
        head[n] = 0;
        fclose(fp);
    }
    return strncmp(head, "ply\n", 4)==0 || strncmp(head, "ply\r", 4)==0;
}

/* Builds points, faces and instances from the parts; positions in the file's frame. */
static int build_scene(scene_data *d, const struct aiScene *s, const part_list *pl, const label_map *map, const char *zPath)
{
    sptt_pack *p = &d->pack;
    uint64_t nV = 0, nF = 0, at = 0, atF = 0, nSkippedFaces = 0;
    int nUnmatched = 0;
    int rc = SPTT_OK;

    if( pl->n > 65535 ){
        return sptt_fail(SPTT_EFORMAT, "%s: %d node meshes, more than the 65535 instance ids a pack holds", zPath, pl->n);
    }
    for(int i = 0; i < pl->n; i++){
        const struct aiMesh *me = s->mMeshes[pl->a[i].mesh];
        nV += me->mNumVertices;
        for(unsigned f = 0; f < me->mNumFaces; f++) nF += me->mFaces[f].mNumIndices==3;
    }
    if( nV==0 ) return sptt_fail(SPTT_EFORMAT, "%s: the file holds no mesh vertices", zPath);
    if( nV > UINT32_MAX ) return sptt_fail(SPTT_EFORMAT, "%s: %llu vertices, more than a pack indexes", zPath, (unsigned long long)nV);
    p->nPoints = nV;
    p->nFaces = nF;
    p->xyz = sptt_malloc(sptt_mul_size((size_t)nV, 12));
    p->rgb = sptt_malloc(sptt_mul_size((size_t)nV, 3));
    p->instance = sptt_malloc(sptt_mul_size((size_t)nV, 2));
    p->nyu40 = sptt_malloc((size_t)nV);
    p->faces = nF ? sptt_malloc(sptt_mul_size((size_t)nF, 12)) : NULL;
    if( !p->xyz || !p->rgb || !p->instance || !p->nyu40 || (nF && !p->faces) ) return SPTT_ENOMEM;

    for(int i = 0; i < pl->n; i++){
        const mesh_part *part = &pl->a[i];
        const struct aiMesh *me = s->mMeshes[part->mesh];
        const char *zNode = part->node->mName.data, *zMesh = me->mName.data;
        scene_instance *in = ingest_scene_add_instance(d, i + 1);
        const map_row *row = NULL;
        uint8_t col[3];
        if( in==NULL ) return SPTT_ENOMEM;
        if( zNode[0] ) snprintf(in->zRaw, sizeof in->zRaw, "%s", zNode);
        else if( zMesh[0] ) snprintf(in->zRaw, sizeof in->zRaw, "%s", zMesh);
        else snprintf(in->zRaw, sizeof in->zRaw, "mesh%u", part->mesh);
        for(int k = 0; k < (map ? map->n : 0) && row==NULL; k++){
            if( contains_nocase(zNode, map->rows[k].zName) || contains_nocase(zMesh, map->rows[k].zName) ) row = &map->rows[k];
        }
        if( row ){
            snprintf(in->zRaw, sizeof in->zRaw, "%s", row->zRaw);
            in->nyu40 = row->nyu40 >= 0 ? row->nyu40 : nyu40_by_name(row->zRaw);
        }else{
            in->nyu40 = 0;
            nUnmatched++;
        }
        /* The ScanNet category list is the one that names everyday objects by their plain names. */
        in->zCategory = sptt_scannet_category(in->zRaw);
        material_color(s, me, col);
        for(unsigned v = 0; v < me->mNumVertices; v++){
            double a[3] = { me->mVertices[v].x, me->mVertices[v].y, me->mVertices[v].z }, b[3];
            sptt_xform_point(part->T, a, b);
            for(int k = 0; k < 3; k++){
                if( !isfinite(b[k]) || fabs(b[k]) > 3.0e38 ){
                    return sptt_fail(SPTT_EFORMAT, "%s: mesh '%s' vertex %u: coordinate %d is not finite", zPath, zMesh, v, k);
                }
                p->xyz[3 * (at + v) + (uint64_t)k] = (float)b[k];
            }
            if( me->mColors[0] ){
                p->rgb[3 * (at + v)] = unit_to_byte(me->mColors[0][v].r);
                p->rgb[3 * (at + v) + 1] = unit_to_byte(me->mColors[0][v].g);
                p->rgb[3 * (at + v) + 2] = unit_to_byte(me->mColors[0][v].b);
            }else{
                memcpy(p->rgb + 3 * (at + v), col, 3);
            }
            p->instance[at + v] = (uint16_t)in->id;
            p->nyu40[at + v] = (uint8_t)in->nyu40;
        }
        for(unsigned f = 0; f < me->mNumFaces; f++){
            const struct aiFace *fc = &me->mFaces[f];
            if( fc->mNumIndices!=3 ){
                nSkippedFaces++;
                continue;
            }
            for(int k = 0; k < 3; k++){
                if( fc->mIndices[k] >= me->mNumVertices ){
                    return sptt_fail(SPTT_EFORMAT, "%s: mesh '%s' face %u: vertex index %u out of range", zPath, zMesh, f,
                                     fc->mIndices[k]);
                }
                p->faces[3 * atF + (uint64_t)k] = (uint32_t)(at + fc->mIndices[k]);
            }
            atF++;
        }
        at += me->mNumVertices;
    }
    if( nSkippedFaces ){
        ingest_scene_warn(d, "non_triangles", "%llu point or line primitives kept as points only (no faces)",
                   (unsigned long long)nSkippedFaces);
    }
    if( nUnmatched ){
        if( map ){
            ingest_scene_warn(d, "unmatched_names", "%d of %d instances match no row of the label map: kept with their node names "
                       "as raw labels and NYU40 id 0", nUnmatched, pl->n);
        }else{
            ingest_scene_warn(d, "unmatched_names", "no --labels map: %d instances keep their node names as raw labels with NYU40 "
                       "id 0", nUnmatched);
        }
    }
    return rc;
}

int sptt_ingest_mesh(sqlite3 *db, const char *zFile, const sptt_ingest_opts *o, sptt_ingest_result *r)
{
    char zName[128];
    const char *zMap = o->zMap ? o->zMap : o->zLabels;
    const char *zDot = strrchr(zFile, '.');
    int upY;
    scene_data d;
    label_map map;
    io_log log;
    struct aiFileIO io;
    const struct aiScene *s = NULL;
    part_list pl;
    int rc;

    memset(&map, 0, sizeof map);
    memset(&log, 0, sizeof log);
    memset(&pl, 0, sizeof pl);
    memset(r, 0, sizeof *r);
    stem_of(zFile, zName, sizeof zName);
    snprintf(r->zName, sizeof r->zName, "%s", zName);
    ingest_scene_init(&d, zName, "mesh");
    d.fps = 0;
    if( o->zUp ) upY = strcmp(o->zUp, "y")==0;
    else upY = zDot && (strcasecmp(zDot, ".gltf")==0 || strcasecmp(zDot, ".glb")==0);

    {
        struct stat st;
        if( stat(zFile, &st)!=0 || !S_ISREG(st.st_mode) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: missing file", zFile);
            goto done;
        }
    }
    if( is_ply(zFile) ){
        rc = sptt_fail(SPTT_EINVAL, "%s: PLY is not read through Assimp (Debian's Assimp 5.2.5 silently shifts binary PLY "
                       "data when the first data byte is 0x0A and drops custom properties); use 'sptt-ingest scannet' or "
                       "'sptt-ingest arkitscenes', which read PLY with the toolkit's own reader", zFile);
        goto done;
    }
    {
        char zOpt[128];
        snprintf(zOpt, sizeof zOpt, "mesh up=%c map=%d sample=%llu seed=%llu", upY ? 'y' : 'z', zMap!=NULL,
                 (unsigned long long)o->nSample, (unsigned long long)o->seed);
        sptt_hash_update(&d.inputHash, zOpt, strlen(zOpt));
    }
    if( zMap ){
        struct stat st;
        if( stat(zMap, &st)!=0 || !S_ISREG(st.st_mode) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: missing file", zMap);
            goto done;
        }
        if( (rc = read_map(&d, zMap, &map)) ) goto done;
    }

    memset(&io, 0, sizeof io);
    io.OpenProc = io_open;
    io.CloseProc = io_close;
    io.UserData = (aiUserData)&log;
    /* Triangulate splits faces only; validation reads and never rewrites. Nothing else: e.g.
    ** JoinIdenticalVertices merges vertices and drops unreferenced ones, SortByPType and
    ** SplitLargeMeshes split a mesh into vertex subsets, the realtime presets include all three. */
    s = aiImportFileEx(zFile, aiProcess_Triangulate | aiProcess_ValidateDataStructure, &io);
    if( log.nomem ){ rc = sptt_fail(SPTT_ENOMEM, "%s: out of memory while importing", zFile); goto done; }
    if( s==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: Assimp cannot import it: %s", zFile, aiGetErrorString());
        goto done;
    }
    if( (s->mFlags & AI_SCENE_FLAGS_INCOMPLETE) || s->mRootNode==NULL ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: Assimp imported an incomplete scene (no node tree or no meshes)", zFile);
        goto done;
    }
    /* Files in the order Assimp opened them, each with its base name (a renamed .mtl is a change). */
    for(int i = 0; i < log.n; i++){
        const char *zBase = strrchr(log.az[i], '/');
        zBase = zBase ? zBase + 1 : log.az[i];
        sptt_hash_update(&d.inputHash, zBase, strlen(zBase) + 1);
        if( (rc = ingest_scene_hash_file(&d, log.az[i])) ) goto done;
    }
    if( ingest_scene_skip_if_unchanged(db, &d, o, r) ) goto done;

    {
        double I[16];
        sptt_identity4(I);
        if( (rc = collect_parts(s, s->mRootNode, I, 0, &pl, zFile)) ) goto done;
    }
    if( (rc = build_scene(&d, s, &pl, zMap ? &map : NULL, zFile)) ) goto done;
    if( upY ){
        /* y up -> z up: a quarter turn about x, (x, y, z) -> (x, -z, y). */
        double M[16] = { 1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1 };
        memcpy(d.alignment, M, sizeof M);
        ingest_scene_apply_alignment(&d);
    }
    if( o->nSample && (rc = ingest_scene_sample_surface(&d, o->nSample, o->seed)) ) goto done;
    rc = ingest_scene_commit(db, &d, o, r);
    if( rc==SPTT_OK ){
        int nNoLabel = 0;
        for(int i = 0; i < d.nInst; i++) nNoLabel += d.inst[i].nyu40==0;
        snprintf(r->zSummary, sizeof r->zSummary, "%s: %llu points, %llu faces, %d instances (%d without NYU40 label), "
                 "up %c, %d warnings", zName, (unsigned long long)d.pack.nPoints, (unsigned long long)d.pack.nFaces, d.nInst,
                 nNoLabel, upY ? 'y' : 'z', d.nWarn);
    }

done:
    if( s ) aiReleaseImport(s);
    io_log_free(&log);
    free(map.rows);
    free(pl.a);
    ingest_scene_free(&d);
    return rc;
}
