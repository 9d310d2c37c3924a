/*
** ARKitScenes 3DOD video -> scene pack + rows. The path a video takes, in order:
**
**   1. <vid>_3dod_mesh.ply          our PLY reader (never Assimp); colours required
**   2. <vid>_3dod_annotation.json   data[k] -> instance k+1 with its obbAligned box; the label
**                                   mapped to NYU40 and to the QA category
**   3. vertices -> instances        a vertex belongs to the boxes that hold it (within BOX_TOL);
**                                   of several, the smallest box wins
**   4. <vid>_frames/                lowres_wide.traj (world->camera axis-angle, inverted),
**                                   lowres_wide/<vid>_<ts>.png sorted by time, each matched to
**                                   its pose and to lowres_wide_intrinsics/<vid>_<ts>.pincam,
**                                   then resampled to --fps
**   5. sky direction                inferred from the poses; frames turned upright, and their
**                                   intrinsics, sizes and poses turned with them
**   6. pack and rows in one transaction (scene_commit.c). No alignment: the ARKitScenes world is
**      already z up, and the mesh, the boxes and the poses share it.
**
** Frames keep their native size (256x192 before the turn): --frame-size does not apply here.
*/
#include "ingest.h"
#include "sptt_math.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>

/*
** A vertex on a box face must count as inside even after the mesh's float32 rounding (about
** 5e-7 m at 5 m from the origin) and the annotation's printed precision; 0.1 mm is far above
** both and far below any gap between real objects.
*/
#define BOX_TOL 1e-4

/* Rows of normalizedAxes must be orthonormal to this; Apple writes them from float32. */
#define ROT_TOL 1e-3

static const char *const azSky[4] = { "Up", "Left", "Down", "Right" };

/* ---------------------------------------------------------------------------------------------
** Annotation boxes
*/

/* Reads n finite numbers from a JSON array field of an obbAligned box. */
static int box_numbers(json_t *obb, const char *zField, int n, double *out, const char *zPath, size_t item)
{
    json_t *a = json_object_get(obb, zField);
    if( !json_is_array(a) || json_array_size(a)!=(size_t)n ){
        return sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.%s: expected an array of %d numbers", zPath, item,
                         zField, n);
    }
    for(int i = 0; i < n; i++){
        json_t *e = json_array_get(a, (size_t)i);
        if( !json_is_number(e) || !isfinite(json_number_value(e)) ){
            return sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.%s[%d]: not a finite number", zPath, item,
                             zField, i);
        }
        out[i] = json_number_value(e);
    }
    return SPTT_OK;
}

static int check_rotation(const double *R, const char *zPath, size_t item)
{
    double det;
    for(int i = 0; i < 3; i++){
        for(int j = i; j < 3; j++){
            double dot = R[3 * i] * R[3 * j] + R[3 * i + 1] * R[3 * j + 1] + R[3 * i + 2] * R[3 * j + 2];
            if( fabs(dot - (i==j)) > ROT_TOL ){
                return sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.normalizedAxes: not a rotation (rows %d "
                                 "and %d have dot product %.6f, expected %d)", zPath, item, i, j, dot, i==j);
            }
        }
    }
    det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
    if( det < 0 ){
        return sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.normalizedAxes: a reflection (determinant %.4f), "
                         "not a rotation", zPath, item, det);
    }
    return SPTT_OK;
}

int ingest_parse_arkit_annotation(scene_data *d, const char *zPath, const uint8_t *buf, size_t n)
{
    json_t *root = NULL, *data;
    int rc;
    int nUnknown = 0, nUnknownInst = 0;
    char zUnknown[200] = "";

    if( (rc = ingest_json_parse(zPath, buf, n, &root)) ) goto done;
    data = json_object_get(root, "data");
    if( !json_is_array(data) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: field 'data': missing or not an array", zPath);
        goto done;
    }
    if( json_array_size(data) > 65535 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: field 'data': %zu boxes, more than the 65535 instance ids a pack holds", zPath,
                       json_array_size(data));
        goto done;
    }
    for(size_t k = 0; k < json_array_size(data); k++){
        json_t *item = json_array_get(data, k), *jl = json_object_get(item, "label");
        json_t *obb = json_object_get(json_object_get(item, "segments"), "obbAligned");
        scene_instance *in;
        const char *zLabel;
        int nyu;
        if( !json_is_string(jl) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: data[%zu].label: missing or not a string", zPath, k);
            goto done;
        }
        zLabel = json_string_value(jl);
        if( strlen(zLabel) >= sizeof in->zRaw ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: data[%zu].label: longer than %zu bytes", zPath, k, sizeof in->zRaw - 1);
            goto done;
        }
        if( !json_is_object(obb) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned: missing or not an object", zPath, k);
            goto done;
        }
        in = ingest_scene_add_instance(d, (int)k + 1);
        if( in==NULL ){ rc = SPTT_ENOMEM; goto done; }
        if( (rc = box_numbers(obb, "centroid", 3, in->center, zPath, k)) ) goto done;
        if( (rc = box_numbers(obb, "axesLengths", 3, in->size, zPath, k)) ) goto done;
        if( (rc = box_numbers(obb, "normalizedAxes", 9, in->axes, zPath, k)) ) goto done;
        /* Plausible ranges (sptt_ingest.h): a box of furniture near the scan, not a number that
        ** happens to parse. */
        for(int j = 0; j < 3; j++){
            if( !(in->size[j] > 0) ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.axesLengths[%d]: %g is not a positive length",
                               zPath, k, j, in->size[j]);
                goto done;
            }
            if( in->size[j] < SPTT_INGEST_BOX_MIN_EDGE || in->size[j] > SPTT_INGEST_BOX_MAX_EDGE ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.axesLengths[%d]: %g m is outside the plausible "
                               "%g to %g m of an object's edge", zPath, k, j, in->size[j], SPTT_INGEST_BOX_MIN_EDGE,
                               SPTT_INGEST_BOX_MAX_EDGE);
                goto done;
            }
            if( fabs(in->center[j]) > SPTT_INGEST_BOX_MAX_CENTER ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: data[%zu].segments.obbAligned.centroid[%d]: %g m is beyond the plausible "
                               "%g m from the scan's origin", zPath, k, j, in->center[j], SPTT_INGEST_BOX_MAX_CENTER);
                goto done;
            }
        }
        if( (rc = check_rotation(in->axes, zPath, k)) ) goto done;
        in->hasBox = 1;
        snprintf(in->zRaw, sizeof in->zRaw, "%s", zLabel);
        nyu = sptt_arkit_nyu40(zLabel);
        in->nyu40 = nyu < 0 ? 0 : nyu;
        in->zCategory = sptt_arkit_category(zLabel);
        if( nyu < 0 ){
            int seen = 0;
            nUnknownInst++;
            for(int i = 0; i < d->nInst - 1; i++) if( strcmp(d->inst[i].zRaw, zLabel)==0 ) seen = 1;
            if( !seen ){
                nUnknown++;
                if( strlen(zUnknown) + strlen(zLabel) + 4 < sizeof zUnknown ){
                    if( zUnknown[0] ) strcat(zUnknown, ", ");
                    strcat(zUnknown, zLabel);
                }
            }
        }
    }
    if( nUnknown ){
        ingest_scene_warn(d, "unknown_labels", "%d labels outside the 17 ARKitScenes classes, kept with NYU40 id 0 (%d boxes): %s",
                   nUnknown, nUnknownInst, zUnknown);
    }

done:
    json_decref(root);
    return rc;
}

static int read_annotation(scene_data *d, const char *zPath)
{
    uint8_t *buf;
    size_t n;
    int rc = ingest_scene_read_input(d, zPath, &buf, &n);
    if( rc ) return rc;
    rc = ingest_parse_arkit_annotation(d, zPath, buf, n);
    free(buf);
    return rc;
}

/*
** Vertex -> instance. A vertex is inside a box when its coordinates in the box's frame (the rows
** of normalizedAxes) are within half the edge lengths plus BOX_TOL. Where boxes overlap, the
** smallest box takes the vertex: overlaps in ARKitScenes are mostly a small object on or in a
** larger one (a stool under a table, a tv on a cabinet), whose box swallows the small object's
** points; giving them to the larger box would leave the small object empty, while the larger
** object only loses the part the small box covers. Ties in volume go to the earlier box, so the
** result does not depend on the order of the work.
*/
static int assign_vertices(scene_data *d)
{
    sptt_pack *p = &d->pack;
    int *order = NULL;
    int nBox = d->nInst;

    if( nBox==0 ) return SPTT_OK;
    order = sptt_malloc(sizeof(int) * (size_t)nBox);
    if( order==NULL ) return SPTT_ENOMEM;
    for(int i = 0; i < nBox; i++) order[i] = i;
    /* Insertion sort by volume, stable: boxes are few. */
    for(int i = 1; i < nBox; i++){
        int v = order[i], j = i;
        const double *s = d->inst[v].size;
        double vol = s[0] * s[1] * s[2];
        while( j > 0 ){
            const double *t = d->inst[order[j - 1]].size;
            if( t[0] * t[1] * t[2] <= vol ) break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    #pragma omp parallel for schedule(static)
    for(uint64_t v = 0; v < p->nPoints; v++){
        double x = p->xyz[3 * v], y = p->xyz[3 * v + 1], z = p->xyz[3 * v + 2];
        int id = 0, nyu = 0;
        for(int b = 0; b < nBox; b++){
            const scene_instance *in = &d->inst[order[b]];
            const double *A = in->axes;
            double q[3] = { x - in->center[0], y - in->center[1], z - in->center[2] };
            int inside = 1;
            for(int j = 0; j < 3 && inside; j++){
                double l = A[3 * j] * q[0] + A[3 * j + 1] * q[1] + A[3 * j + 2] * q[2];
                inside = fabs(l) <= in->size[j] / 2 + BOX_TOL;
            }
            if( inside ){
                id = in->id;
                nyu = in->nyu40;
                break;
            }
        }
        p->instance[v] = (uint16_t)id;
        p->nyu40[v] = (uint8_t)nyu;
    }
    free(order);
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Trajectory, frames, intrinsics
*/
typedef struct arkit_frame {
    char zTs[40];             /* the time as the file name writes it */
    double t;
    int64_t ms;
    int pose;                 /* index into the sorted poses, -1 when none matches */
} arkit_frame;

static int cmp_pose(const void *a, const void *b)
{
    const traj_pose *x = a, *y = b;
    if( x->t!=y->t ) return x->t < y->t ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_frame(const void *a, const void *b)
{
    const arkit_frame *x = a, *y = b;
    if( x->ms!=y->ms ) return x->ms < y->ms ? -1 : 1;
    return strcmp(x->zTs, y->zTs);
}

/*
** One pose per line: "timestamp rx ry rz tx ty tz", the world->camera transform with its
** rotation as an axis-angle vector. Stored inverted (camera->world) and sorted by time.
*/
int ingest_parse_traj(const char *zPath, char *buf, traj_pose **pPoses, uint64_t *pN)
{
    char *line, *next;
    traj_pose *P = NULL;
    uint64_t nP = 0, cap = 0;
    uint32_t lineNo = 0;
    int rc = SPTT_OK;

    *pPoses = NULL;
    *pN = 0;
    for(line = buf; line && *line; line = next){
        char *end = strchr(line, '\n'), *z;
        double v[7];
        int nv = 0;
        next = end ? end + 1 : NULL;
        if( end ) *end = 0;
        lineNo++;
        z = line;
        for(;;){
            char *e;
            double x;
            while( *z==' ' || *z=='\t' || *z=='\r' ) z++;
            if( *z==0 ) break;
            x = strtod(z, &e);
            if( e==z || (*e && *e!=' ' && *e!='\t' && *e!='\r') ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: line %u: value %d ('%.20s') is not a number", zPath, lineNo, nv + 1, z);
                goto done;
            }
            if( !isfinite(x) ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: line %u: value %d is not finite", zPath, lineNo, nv + 1);
                goto done;
            }
            if( nv < 7 ) v[nv] = x;
            nv++;
            z = e;
        }
        if( nv==0 ) continue;   /* a blank line, as at the end of a file */
        if( nv!=7 ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: line %u: expected 7 numbers (timestamp rx ry rz tx ty tz), found %d", zPath,
                           lineNo, nv);
            goto done;
        }
        /* Times are seconds since the device started; far beyond that they are damage, and
        ** their millisecond key would not fit an integer. */
        if( !(v[0] >= 0 && v[0] <= SPTT_INGEST_MAX_TIME) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: line %u: timestamp %g s is outside 0 to %g s", zPath, lineNo, v[0], SPTT_INGEST_MAX_TIME);
            goto done;
        }
        if( nP==cap ){
            traj_pose *p2 = sptt_realloc(P, sizeof *P * (size_t)(cap = cap ? 2 * cap : 1024));
            if( p2==NULL ){ rc = SPTT_ENOMEM; goto done; }
            P = p2;
        }
        {
            traj_pose *tp = &P[nP++];
            double R[9], w2c[16];
            sptt_axis_angle_to_matrix(v + 1, R);
            for(int r = 0; r < 3; r++){
                for(int c = 0; c < 3; c++) w2c[4 * r + c] = R[3 * r + c];
                w2c[4 * r + 3] = v[4 + r];
            }
            w2c[12] = w2c[13] = w2c[14] = 0;
            w2c[15] = 1;
            sptt_rigid_inverse(w2c, tp->c2w);
            /* A huge angle or translation is finite as text but not as a rotation, or not once
            ** stored as float32: checked as the pack will hold it. */
            {
                float c2w[16];
                char zWhy[160];
                for(int k = 0; k < 16; k++) c2w[k] = (float)tp->c2w[k];
                if( !sptt_frame_pose_ok(c2w, zWhy, sizeof zWhy) ){
                    rc = sptt_fail(SPTT_EFORMAT, "%s: line %u: pose (camera-to-world) %s", zPath, lineNo, zWhy);
                    goto done;
                }
            }
            tp->t = v[0];
            tp->ms = llround(v[0] * 1000.0);
            tp->line = lineNo - 1;
        }
    }
    if( nP==0 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: no poses (the trajectory is empty), yet the video has a lowres_wide folder", zPath);
        goto done;
    }
    qsort(P, (size_t)nP, sizeof *P, cmp_pose);
    *pPoses = P;
    *pN = nP;
    P = NULL;

done:
    free(P);
    return rc;
}

static int read_traj(scene_data *d, const char *zPath, traj_pose **pPoses, uint64_t *pN)
{
    uint8_t *buf;
    size_t n;
    int rc;
    *pPoses = NULL;
    *pN = 0;
    if( (rc = ingest_scene_read_input(d, zPath, &buf, &n)) ) return rc;
    rc = ingest_parse_traj(zPath, (char *)buf, pPoses, pN);
    free(buf);
    return rc;
}

/* Frame files "<vid>_<ts>.png", sorted by time; other names are counted and left alone. */
static int list_frames(const char *zDir, const char *zVid, arkit_frame **pF, uint64_t *pN, uint64_t *pIgnored)
{
    DIR *dir = opendir(zDir);
    struct dirent *de;
    arkit_frame *F = NULL;
    uint64_t n = 0, cap = 0, nIgnored = 0;
    size_t lv = strlen(zVid);
    int rc = SPTT_OK;

    *pF = NULL;
    *pN = 0;
    if( dir==NULL ) return sptt_fail(SPTT_EFORMAT, "%s: cannot open folder: %s", zDir, strerror(errno));
    while( (de = readdir(dir))!=NULL ){
        const char *z = de->d_name;
        size_t len = strlen(z);
        char zTs[40], *e;
        double t;
        if( z[0]=='.' ) continue;
        if( len <= lv + 5 || strncmp(z, zVid, lv)!=0 || z[lv]!='_' || strcmp(z + len - 4, ".png")!=0
            || len - lv - 5 >= sizeof zTs ){
            nIgnored++;
            continue;
        }
        snprintf(zTs, sizeof zTs, "%.*s", (int)(len - lv - 5), z + lv + 1);
        t = strtod(zTs, &e);
        if( e==zTs || *e || !isfinite(t) || t < 0 ){
            nIgnored++;
            continue;
        }
        if( t > SPTT_INGEST_MAX_TIME ){
            rc = sptt_fail(SPTT_EFORMAT, "%s/%s: frame time %g s is beyond %g s", zDir, z, t, SPTT_INGEST_MAX_TIME);
            break;
        }
        if( n==cap ){
            arkit_frame *f2 = sptt_realloc(F, sizeof *F * (size_t)(cap = cap ? 2 * cap : 1024));
            if( f2==NULL ){ rc = SPTT_ENOMEM; break; }
            F = f2;
        }
        memset(&F[n], 0, sizeof F[n]);
        snprintf(F[n].zTs, sizeof F[n].zTs, "%s", zTs);
        F[n].t = t;
        F[n].ms = llround(t * 1000.0);
        F[n].pose = -1;
        n++;
    }
    closedir(dir);
    if( rc ){
        free(F);
        return rc;
    }
    if( n ) qsort(F, (size_t)n, sizeof *F, cmp_frame);
    *pF = F;
    *pN = n;
    *pIgnored = nIgnored;
    return SPTT_OK;
}

/*
** The pose of a frame, as the official loader finds it: poses are keyed by their time rounded to
** the millisecond, and a frame named ts takes the pose keyed ts, ts - 0.001 or ts + 0.001 (frame
** names and pose times of one capture may land a millisecond apart). Of several candidates the
** nearest in raw time wins, then the earlier line. -1 when none.
*/
static int match_pose(const traj_pose *P, uint64_t nP, const arkit_frame *f)
{
    uint64_t lo = 0, hi = nP;
    int best = -1;
    double bestDt = 0;
    /* First pose at or after the earliest time whose key can be ts - 1 ms. */
    while( lo < hi ){
        uint64_t mid = (lo + hi) / 2;
        if( P[mid].t < f->t - 0.0016 ) lo = mid + 1;
        else hi = mid;
    }
    for(uint64_t i = lo; i < nP && P[i].t <= f->t + 0.0016; i++){
        double dt = fabs(P[i].t - f->t);
        if( P[i].ms < f->ms - 1 || P[i].ms > f->ms + 1 ) continue;
        if( best < 0 || dt < bestDt ){
            best = (int)i;
            bestDt = dt;
        }
    }
    return best;
}

/* "width height fx fy cx cy" on one line. */
int ingest_parse_pincam(const char *zPath, const char *buf, int *pW, int *pH, double *K)
{
    double v[6];
    int nv = 0;
    const char *z = buf;
    int rc = SPTT_OK;
    for(;;){
        char *e;
        double x;
        while( *z==' ' || *z=='\t' || *z=='\r' || *z=='\n' ) z++;
        if( *z==0 ) break;
        x = strtod(z, &e);
        if( e==z ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: value %d ('%.20s') is not a number", zPath, nv + 1, z);
            goto done;
        }
        if( !isfinite(x) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: value %d is not finite", zPath, nv + 1);
            goto done;
        }
        if( nv < 6 ) v[nv] = x;
        nv++;
        z = e;
    }
    if( nv!=6 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: expected 6 numbers (width height fx fy cx cy), found %d", zPath, nv);
        goto done;
    }
    /* Every frame is decoded at this size, a buffer per thread: bounded before anything is
    ** allocated. */
    if( v[0]!=floor(v[0]) || v[1]!=floor(v[1]) || v[0] < 1 || v[1] < 1 || v[0] > SPTT_INGEST_MAX_SIDE || v[1] > SPTT_INGEST_MAX_SIDE ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: width %g and height %g must be whole numbers from 1 to %d", zPath, v[0], v[1],
                       SPTT_INGEST_MAX_SIDE);
        goto done;
    }
    {
        char zWhy[160];
        if( !sptt_frame_intrinsics_ok((float)v[2], (float)v[3], (float)v[4], (float)v[5], zWhy, sizeof zWhy) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: %s", zPath, zWhy);
            goto done;
        }
    }
    *pW = (int)v[0];
    *pH = (int)v[1];
    memcpy(K, v + 2, 4 * sizeof(double));
done:
    return rc;
}

static int read_pincam(scene_data *d, const char *zPath, int *pW, int *pH, double *K)
{
    uint8_t *buf;
    size_t n;
    int rc = ingest_scene_read_input(d, zPath, &buf, &n);
    if( rc ) return rc;
    rc = ingest_parse_pincam(zPath, (const char *)buf, pW, pH, K);
    free(buf);
    return rc;
}

/*
** Which matched frames to keep at fps: ScanNet's rule (ticks every 1/fps s from the first kept
** frame; each tick keeps the first frame at or after it), except that a frame may come up to a
** quarter step early. ARKit frames are named to the millisecond and the 10 Hz stream jitters by
** a millisecond or two, so with ScanNet's 1 us slack about half the frames of a 10 Hz video would
** fall just short of their tick at --fps 10 and be dropped.
*/
/* frames_choose over the listed frames: those without a pose are not candidates, and those with
** one span at most SPTT_INGEST_MAX_SPAN seconds. */
static int choose_frames(const char *zImg, const char *zVid, const arkit_frame *F, uint64_t n, double fps, uint64_t *keep,
                         uint64_t *pKept)
{
    double *t = sptt_malloc(sizeof(double) * (size_t)(n + 1));
    int *valid = sptt_malloc(sizeof(int) * (size_t)(n + 1));
    int64_t first = -1;
    if( !t || !valid ){
        free(t);
        free(valid);
        return SPTT_ENOMEM;
    }
    for(uint64_t i = 0; i < n; i++){
        t[i] = F[i].t;
        valid[i] = F[i].pose >= 0;
        if( !valid[i] ) continue;
        if( first < 0 ) first = (int64_t)i;
        if( t[i] - t[first] > SPTT_INGEST_MAX_SPAN ){
            int rc = sptt_fail(SPTT_EFORMAT, "%s/%s_%s.png: frame time %s s is %.6g s after the first frame (%s_%s.png), more "
                               "than the %g s a video may span", zImg, zVid, F[i].zTs, F[i].zTs, t[i] - t[first], zVid,
                               F[first].zTs, SPTT_INGEST_MAX_SPAN);
            free(t);
            free(valid);
            return rc;
        }
    }
    ingest_frames_choose(t, valid, n, fps, keep, pKept);
    free(t);
    free(valid);
    return SPTT_OK;
}

/* ---------------------------------------------------------------------------------------------
** Sky direction
*/

/*
** Per video, as DUSt3R does it: average the camera's image-up direction (camera -y) and
** image-right direction (camera +x) in world coordinates over the matched frames and compare
** their z with world up. Returns the clockwise quarter turns that make the frames upright:
** 0 Up, 1 Left (world up toward the image's left edge), 2 Down, 3 Right.
*/
static int infer_sky(const traj_pose *P, const arkit_frame *F, uint64_t nF, double *pUp, double *pRight, uint64_t *pUsed)
{
    double up = 0, right = 0;
    uint64_t m = 0;
    for(uint64_t i = 0; i < nF; i++){
        const double *c2w;
        if( F[i].pose < 0 ) continue;
        c2w = P[F[i].pose].c2w;
        up += -c2w[9];        /* z of the world image of camera (0, -1, 0) */
        right += c2w[8];      /* z of the world image of camera (1, 0, 0) */
        m++;
    }
    *pUsed = m;
    if( m==0 ){
        *pUp = *pRight = 0;
        return 0;
    }
    up /= (double)m;
    right /= (double)m;
    *pUp = up;
    *pRight = right;
    if( fabs(up) >= fabs(right) ) return up >= 0 ? 0 : 2;
    return right > 0 ? 3 : 1;
}

/*
** Turns a frame's camera by k clockwise quarter turns of its image. One turn maps pixel (u, v) of
** a W x H image to (H-1-v, u) of an H x W image; the new camera x axis is the old -y axis and the
** new y axis the old x axis (z unchanged), so fx' = fy, fy' = fx, cx' = H-1-cy, cy' = cx, and in
** camera-to-world the new first column is minus the old second and the new second the old first.
*/
static void turn_frame(sptt_frame_info *f, int k)
{
    for(int q = 0; q < (k & 3); q++){
        float fx = f->fx, cx = f->cx;
        uint32_t w = f->width;
        f->fx = f->fy;
        f->fy = fx;
        f->cx = (float)f->height - 1.0f - f->cy;
        f->cy = cx;
        f->width = f->height;
        f->height = w;
        for(int r = 0; r < 3; r++){
            float x = f->c2w[4 * r];
            f->c2w[4 * r] = -f->c2w[4 * r + 1];
            f->c2w[4 * r + 1] = x;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
** Parallel work over frames: results land in their own slots and the reported error is the one
** of the earliest frame, so neither depends on the thread count or timing.
*/
typedef struct par_error {
    int rc;
    uint64_t at;
    char zMsg[600];
} par_error;

static void par_note(par_error *e, int rc, uint64_t at)
{
    if( rc==SPTT_OK ) return;
    #pragma omp critical(arkit_par_error)
    {
        if( e->rc==SPTT_OK || at < e->at ){
            e->rc = rc;
            e->at = at;
            snprintf(e->zMsg, sizeof e->zMsg, "%s", sptt_errmsg());
        }
    }
}

static int decode_png(const char *zPath, int w, int h, uint8_t *rgb)
{
    uint8_t *buf = NULL;
    size_t n;
    png_image img;
    png_color black = { 0, 0, 0 };
    int rc = sptt_read_file(zPath, &buf, &n);
    if( rc ) return rc;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if( !png_image_begin_read_from_memory(&img, buf, n) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: not a readable PNG: %s", zPath, img.message);
        goto done;
    }
    if( img.width!=(png_uint_32)w || img.height!=(png_uint_32)h ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: %ux%u pixels, but its intrinsics say %dx%d", zPath, (unsigned)img.width,
                       (unsigned)img.height, w, h);
        png_image_free(&img);
        goto done;
    }
    img.format = PNG_FORMAT_RGB;
    if( !png_image_finish_read(&img, &black, rgb, 0, NULL) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: PNG decode failed: %s", zPath, img.message);
    }
done:
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** The video
*/
typedef struct arkit_walk {
    traj_pose *poses;
    uint64_t nPoses;
    arkit_frame *frames;
    uint64_t nFrames;
    uint64_t *keep;           /* indices into frames */
    uint64_t nKeep;
    char (*azPincam)[1200];   /* the .pincam used by each kept frame */
    int W, H;                 /* native size of every kept frame */
} arkit_walk;

static void walk_free(arkit_walk *w)
{
    free(w->poses);
    free(w->frames);
    free(w->keep);
    free(w->azPincam);
    memset(w, 0, sizeof *w);
}

/* The .pincam of frame ts: its own name, else ts - 0.001, else ts + 0.001, as the official
** loader tries them. */
static int find_pincam(const char *zKDir, const char *zVid, const arkit_frame *f, char *zOut, size_t n)
{
    char zTry[3][48];
    int rc;
    snprintf(zTry[0], sizeof zTry[0], "%s", f->zTs);
    snprintf(zTry[1], sizeof zTry[1], "%.3f", (double)(f->ms - 1) / 1000.0);
    snprintf(zTry[2], sizeof zTry[2], "%.3f", (double)(f->ms + 1) / 1000.0);
    for(int i = 0; i < 3; i++){
        if( (rc = sptt_pathf(zOut, n, "%s/%s_%s.pincam", zKDir, zVid, zTry[i])) ) return rc;
        if( ingest_file_exists(zOut) ) return SPTT_OK;
    }
    sptt_pathf(zOut, n, "%s/%s_%s.pincam", zKDir, zVid, f->zTs);
    return sptt_fail(SPTT_EFORMAT, "%s: missing file (intrinsics of frame %s_%s.png)", zOut, zVid, f->zTs);
}

/* Reads the trajectory, lists and matches the frames, chooses those to keep and reads their
** intrinsics into fl (native orientation). Everything read here feeds the input hash. */
static int prepare_walk(scene_data *d, const char *zFramesDir, const char *zVid, const sptt_ingest_opts *o, arkit_walk *w,
                        frame_list *fl)
{
    char zTraj[1200], zImg[1200], zKDir[1200];
    uint64_t nIgnored = 0, nNoPose = 0;
    int rc;

    if( (rc = sptt_pathf(zTraj, sizeof zTraj, "%s/lowres_wide.traj", zFramesDir)) ) return rc;
    if( (rc = sptt_pathf(zImg, sizeof zImg, "%s/lowres_wide", zFramesDir)) ) return rc;
    if( (rc = sptt_pathf(zKDir, sizeof zKDir, "%s/lowres_wide_intrinsics", zFramesDir)) ) return rc;
    if( !ingest_dir_exists(zImg) ){
        ingest_scene_warn(d, "no_frames", "no %s folder: the video has no camera walk", zImg);
        return SPTT_OK;
    }
    if( (rc = ingest_need_file(zTraj)) ) return rc;
    if( (rc = read_traj(d, zTraj, &w->poses, &w->nPoses)) ) return rc;
    if( (rc = list_frames(zImg, zVid, &w->frames, &w->nFrames, &nIgnored)) ) return rc;
    if( nIgnored ) ingest_scene_warn(d, "ignored_files", "%llu files in %s are not named %s_<time>.png and were ignored",
                              (unsigned long long)nIgnored, zImg, zVid);
    if( w->nFrames==0 ){
        ingest_scene_warn(d, "no_frames", "%s holds no frames", zImg);
        return SPTT_OK;
    }
    /* The frame names shape the walk: they go into the input hash. */
    for(uint64_t i = 0; i < w->nFrames; i++){
        sptt_hash_update(&d->inputHash, w->frames[i].zTs, strlen(w->frames[i].zTs) + 1);
        w->frames[i].pose = match_pose(w->poses, w->nPoses, &w->frames[i]);
        nNoPose += w->frames[i].pose < 0;
    }
    if( nNoPose ){
        ingest_scene_warn(d, "frames_without_pose", "%llu of %llu frames have no pose within 1 ms in %s and were skipped",
                   (unsigned long long)nNoPose, (unsigned long long)w->nFrames, zTraj);
    }
    w->keep = sptt_malloc(sizeof(uint64_t) * (size_t)w->nFrames);
    if( w->keep==NULL ) return SPTT_ENOMEM;
    if( (rc = choose_frames(zImg, zVid, w->frames, w->nFrames, o->fps, w->keep, &w->nKeep)) ) return rc;
    if( w->nKeep==0 ) return SPTT_OK;
    w->azPincam = sptt_malloc(sizeof(*w->azPincam) * (size_t)w->nKeep);
    if( w->azPincam==NULL ) return SPTT_ENOMEM;
    for(uint64_t k = 0; k < w->nKeep; k++){
        const arkit_frame *f = &w->frames[w->keep[k]];
        const traj_pose *tp = &w->poses[f->pose];
        sptt_frame_info fi;
        double K[4] = { 0, 0, 0, 0 };
        int fw = 0, fh = 0;
        if( (rc = find_pincam(zKDir, zVid, f, w->azPincam[k], sizeof w->azPincam[k])) ) return rc;
        if( (rc = read_pincam(d, w->azPincam[k], &fw, &fh, K)) ) return rc;
        if( k==0 ){
            w->W = fw;
            w->H = fh;
        }else if( fw!=w->W || fh!=w->H ){
            return sptt_fail(SPTT_EFORMAT, "%s: frame size %dx%d differs from the %dx%d of %s", w->azPincam[k], fw, fh, w->W,
                             w->H, w->azPincam[0]);
        }
        memset(&fi, 0, sizeof fi);
        for(int j = 0; j < 16; j++) fi.c2w[j] = (float)tp->c2w[j];
        fi.timestamp = f->t - w->frames[w->keep[0]].t;
        fi.fx = (float)K[0];
        fi.fy = (float)K[1];
        fi.cx = (float)K[2];
        fi.cy = (float)K[3];
        fi.width = (uint32_t)fw;
        fi.height = (uint32_t)fh;
        fi.sourceIndex = tp->line;
        if( (rc = ingest_frames_push(fl, &fi)) ) return rc;
    }
    if( o->noFrames ) return SPTT_OK;

    /* The kept images feed the input hash too: one XXH64 per file, computed in parallel and
    ** folded in frame order. */
    {
        uint64_t *h = sptt_malloc(sizeof(uint64_t) * (size_t)w->nKeep);
        par_error err;
        memset(&err, 0, sizeof err);
        if( h==NULL ) return SPTT_ENOMEM;
        #pragma omp parallel for schedule(dynamic, 4)
        for(uint64_t k = 0; k < w->nKeep; k++){
            char zP[1300];
            uint8_t *buf = NULL;
            size_t n = 0;
            int r2 = sptt_pathf(zP, sizeof zP, "%s/%s_%s.png", zImg, zVid, w->frames[w->keep[k]].zTs);
            if( r2==SPTT_OK ) r2 = sptt_read_file(zP, &buf, &n);
            h[k] = r2==SPTT_OK ? sptt_hash64(buf, n) : 0;
            free(buf);
            par_note(&err, r2, k);
        }
        for(uint64_t k = 0; k < w->nKeep; k++) sptt_hash_update(&d->inputHash, &h[k], sizeof h[k]);
        free(h);
        if( err.rc ) return sptt_fail(err.rc, "%s", err.zMsg);
    }
    return SPTT_OK;
}

/* Decodes the kept frames, turns them upright and encodes them for the pack, in parallel. */
static int decode_frames(const char *zFramesDir, const char *zVid, const arkit_walk *w, int turns, frame_list *fl)
{
    par_error err;
    sptt_progress prog;
    int W = w->W, H = w->H;
    int OW = (turns & 1) ? H : W, OH = (turns & 1) ? W : H;
    const uint64_t B = 64;

    memset(&err, 0, sizeof err);
    sptt_progress_start(&prog, "frames decoded", w->nKeep);
    for(uint64_t b0 = 0; b0 < w->nKeep && err.rc==SPTT_OK; b0 += B){
        uint64_t b1 = b0 + B < w->nKeep ? b0 + B : w->nKeep;
        #pragma omp parallel
        {
            tjhandle enc = tjInitCompress();
            uint8_t *rgb = malloc((size_t)W * (size_t)H * 3), *up = malloc((size_t)W * (size_t)H * 3);
            #pragma omp for schedule(dynamic, 1)
            for(uint64_t k = b0; k < b1; k++){
                char zP[1300];
                int r2;
                if( !enc || !rgb || !up ){
                    r2 = sptt_fail(SPTT_ENOMEM, "out of memory decoding frames");
                }else{
                    r2 = sptt_pathf(zP, sizeof zP, "%s/lowres_wide/%s_%s.png", zFramesDir, zVid, w->frames[w->keep[k]].zTs);
                    if( r2==SPTT_OK ) r2 = decode_png(zP, W, H, rgb);
                    if( r2==SPTT_OK ){
                        sptt_image_rotate(rgb, W, H, turns, up);
                        r2 = sptt_image_rgb_to_jpeg(enc, up, OW, OH, &fl->jpeg[k], &fl->jpegSize[k]);
                    }
                }
                par_note(&err, r2, k);
            }
            free(rgb);
            free(up);
            if( enc ) tjDestroy(enc);
        }
        sptt_progress_step(&prog, b1 - b0);
    }
    sptt_progress_end(&prog);
    if( err.rc ) return sptt_fail(err.rc, "%s", err.zMsg);
    return SPTT_OK;
}

int sptt_ingest_arkit(sqlite3 *db, const char *zDir, const sptt_ingest_opts *o, sptt_ingest_result *r)
{
    char zVid[128], zMesh[1200], zAnn[1200], zFramesDir[1200];
    scene_data d;
    frame_list fl;
    arkit_walk w;
    int rc;
    int turns = 0;

    memset(&fl, 0, sizeof fl);
    memset(&w, 0, sizeof w);
    memset(r, 0, sizeof *r);
    ingest_base_name(zDir, zVid, sizeof zVid);
    snprintf(r->zName, sizeof r->zName, "%s", zVid);
    ingest_scene_init(&d, zVid, "arkitscenes");
    d.fps = o->fps;

    if( (rc = sptt_pathf(zMesh, sizeof zMesh, "%s/%s_3dod_mesh.ply", zDir, zVid)) ) goto done;
    if( (rc = sptt_pathf(zAnn, sizeof zAnn, "%s/%s_3dod_annotation.json", zDir, zVid)) ) goto done;
    if( (rc = sptt_pathf(zFramesDir, sizeof zFramesDir, "%s/%s_frames", zDir, zVid)) ) goto done;
    if( !ingest_dir_exists(zDir) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: missing folder", zDir);
        goto done;
    }
    if( (rc = ingest_need_file(zMesh)) || (rc = ingest_need_file(zAnn)) ) goto done;
    if( !(o->fps > 0) ){
        rc = sptt_fail(SPTT_EINVAL, "--fps must be positive for ARKitScenes videos");
        goto done;
    }

    /* Options that shape the output are part of the input hash. Frames keep their native size,
    ** so --frame-size is not one of them. */
    {
        char zOpt[256];
        snprintf(zOpt, sizeof zOpt, "arkitscenes fps=%g noframes=%d sample=%llu seed=%llu", o->fps, o->noFrames,
                 (unsigned long long)o->nSample, (unsigned long long)o->seed);
        sptt_hash_update(&d.inputHash, zOpt, strlen(zOpt));
    }

    if( (rc = ingest_scene_take_ply(&d, zMesh)) ) goto done;
    if( (rc = read_annotation(&d, zAnn)) ) goto done;

    if( ingest_dir_exists(zFramesDir) ){
        if( (rc = prepare_walk(&d, zFramesDir, zVid, o, &w, &fl)) ) goto done;
    }else{
        ingest_scene_warn(&d, "no_frames", "no %s folder: the video has no camera walk", zFramesDir);
    }

    if( ingest_scene_skip_if_unchanged(db, &d, o, r) ) goto done;

    if( (rc = assign_vertices(&d)) ) goto done;

    /* Sky direction from every matched pose, applied to the kept frames. */
    if( w.nKeep ){
        double up, right;
        uint64_t used;
        turns = infer_sky(w.poses, w.frames, w.nFrames, &up, &right, &used);
        d.upRotation = turns;
        if( turns ){
            ingest_scene_warn(&d, "sky_rotated", "sky direction %s (from %llu poses: mean image-up z %.3f, image-right z %.3f): "
                       "frames turned %d quarter turn%s clockwise to be upright, intrinsics and poses turned with them",
                       azSky[turns], (unsigned long long)used, up, right, turns, turns > 1 ? "s" : "");
        }
        if( fmax(fabs(up), fabs(right)) < 0.5 ){
            ingest_scene_warn(&d, "sky_uncertain", "sky direction %s is uncertain: mean image-up z %.3f, image-right z %.3f",
                       azSky[turns], up, right);
        }
        if( !o->noFrames && (rc = decode_frames(zFramesDir, zVid, &w, turns, &fl)) ) goto done;
        for(uint64_t k = 0; k < fl.n; k++) turn_frame(&fl.info[k], turns);
    }
    {
        int fw = fl.n ? (int)fl.info[0].width : 0, fh = fl.n ? (int)fl.info[0].height : 0;
        if( (rc = ingest_frames_to_pack(&fl, &d, fw, fh)) ) goto done;
    }
    /* Poses and intrinsics passed the frame rule as read; this checks what the turns made of
    ** them, exactly as the pack reader will. */
    if( d.pack.nFrames && (rc = ingest_frames_check(&d, zFramesDir)) ) goto done;
    if( o->nSample && (rc = ingest_scene_sample_surface(&d, o->nSample, o->seed)) ) goto done;
    rc = ingest_scene_commit(db, &d, o, r);
    if( rc==SPTT_OK ){
        int nNoLabel = 0;
        for(int i = 0; i < d.nInst; i++) nNoLabel += d.inst[i].nyu40==0;
        snprintf(r->zSummary, sizeof r->zSummary, "%s: %llu points, %llu faces, %d instances (%d without NYU40 label), "
                 "%llu frames%s, sky %s, %d warnings", zVid, (unsigned long long)d.pack.nPoints,
                 (unsigned long long)d.pack.nFaces, d.nInst, nNoLabel, (unsigned long long)d.pack.nFrames,
                 d.pack.imgEncoding ? " with images" : "", azSky[turns], d.nWarn);
    }

done:
    walk_free(&w);
    ingest_frames_free(&fl);
    ingest_scene_free(&d);
    return rc;
}
