/*
** ScanNet v2 scene -> scene pack + rows. The path a scene takes, in order:
**
**   1. <scene>_vh_clean_2.ply            our PLY reader (never Assimp)
**   2. <scene>_vh_clean_2.0.010000.segs.json, <scene>.aggregation.json, the label table:
**      vertex -> segIndices -> segGroups -> raw category -> nyu40id; instance = objectId + 1
**   3. <scene>.txt axisAlignment (or --align FILE, or identity with a warning)
**   4. the camera walk from <scene>.sens (or exported pose/ + intrinsic/), -inf poses skipped,
**      resampled to --fps, colour decoded and resized to --frame-size
**   5. alignment applied to points and poses; pack and rows in one transaction (scene_commit.c)
*/
#include "ingest.h"
#include "sptt_math.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
** Labels
*/
int ingest_parse_segs(const char *zPath, const uint8_t *data, size_t n, uint32_t **pSeg, uint64_t *pN)
{
    json_t *segs = NULL, *idx;
    uint32_t *seg = NULL;
    size_t N;
    int rc;

    *pSeg = NULL;
    *pN = 0;
    if( (rc = ingest_json_parse(zPath, data, n, &segs)) ) goto done;
    idx = json_object_get(segs, "segIndices");
    if( !json_is_array(idx) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: field 'segIndices': missing or not an array", zPath);
        goto done;
    }
    N = json_array_size(idx);
    seg = sptt_malloc(sizeof(uint32_t) * (N ? N : 1));
    if( seg==NULL ){ rc = SPTT_ENOMEM; goto done; }
    for(size_t v = 0; v < N; v++){
        json_t *e = json_array_get(idx, v);
        json_int_t s = json_integer_value(e);
        if( !json_is_integer(e) || s < 0 || s > 0x7fffffff ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: field 'segIndices': entry %zu is not a segment id", zPath, v);
            goto done;
        }
        seg[v] = (uint32_t)s;
    }
    *pSeg = seg;
    *pN = N;
    seg = NULL;

done:
    free(seg);
    json_decref(segs);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of id in the sorted, distinct ids[n], or -1. */
static int64_t find_u32(const uint32_t *ids, uint64_t n, uint32_t id)
{
    uint64_t lo = 0, hi = n;
    while( lo < hi ){
        uint64_t mid = lo + (hi - lo) / 2;
        if( ids[mid] < id ) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && ids[lo]==id ? (int64_t)lo : -1;
}

int ingest_parse_aggregation(scene_data *d, const char *zAgg, const uint8_t *data, size_t n, const uint32_t *seg,
                             const sptt_label_table *t)
{
    json_t *agg = NULL, *groups;
    int rc;
    uint64_t N = d->pack.nPoints;
    uint32_t *ids = NULL;         /* the distinct segment ids of the vertices, sorted */
    uint64_t nIds = 0;
    int32_t *segGroup = NULL;     /* ids[i] -> group index, -1 none */
    int *groupId = NULL;
    uint64_t *groupMissing = NULL;   /* per group: its segments no vertex uses */
    uint64_t nMissing = 0;
    int nUnknown = 0;
    uint64_t nUnknownPts = 0;
    char zUnknown[200] = "";

    if( (rc = ingest_json_parse(zAgg, data, n, &agg)) ) goto done;
    groups = json_object_get(agg, "segGroups");
    if( !json_is_array(groups) ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: field 'segGroups': missing or not an array", zAgg);
        goto done;
    }
    /* Segment ids are sparse (ScanNet's are vertex indices of the segmentation) and may go up to
    ** 2^31 - 1: a table over the distinct ids the vertices use, not over every id up to the
    ** largest, which a one-vertex mesh could make gigabytes long. */
    ids = sptt_malloc(sizeof(uint32_t) * (N ? (size_t)N : 1));
    groupId = sptt_malloc(sizeof(int) * (json_array_size(groups) + 1));
    groupMissing = sptt_calloc(json_array_size(groups) + 1, sizeof(uint64_t));
    if( !ids || !groupId || !groupMissing ){ rc = SPTT_ENOMEM; goto done; }
    if( N ) memcpy(ids, seg, sizeof(uint32_t) * (size_t)N);
    if( N > 1 ) qsort(ids, (size_t)N, sizeof(uint32_t), cmp_u32);
    for(uint64_t v = 0; v < N; v++) if( v==0 || ids[v]!=ids[nIds - 1] ) ids[nIds++] = ids[v];
    segGroup = sptt_malloc(sizeof(int32_t) * (nIds ? (size_t)nIds : 1));
    if( !segGroup ){ rc = SPTT_ENOMEM; goto done; }
    for(uint64_t i = 0; i < nIds; i++) segGroup[i] = -1;
    for(size_t g = 0; g < json_array_size(groups); g++){
        json_t *G = json_array_get(groups, g);
        json_t *jo = json_object_get(G, "objectId"), *jl = json_object_get(G, "label"), *js = json_object_get(G, "segments");
        json_int_t oid;
        const char *zRaw;
        scene_instance *in;
        int nyu;
        if( !json_is_integer(jo) || !json_is_string(jl) || !json_is_array(js) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: segGroups[%zu]: needs integer 'objectId', string 'label', array 'segments'", zAgg, g);
            goto done;
        }
        oid = json_integer_value(jo);
        if( oid < 0 || oid > 65533 ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: segGroups[%zu]: objectId %lld out of range", zAgg, g, (long long)oid);
            goto done;
        }
        for(size_t h = 0; h < g; h++){
            if( groupId[h]==(int)oid + 1 ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: segGroups[%zu]: objectId %lld already used by segGroups[%zu]", zAgg, g, (long long)oid, h);
                goto done;
            }
        }
        groupId[g] = (int)oid + 1;
        for(size_t k = 0; k < json_array_size(js); k++){
            json_t *e = json_array_get(js, k);
            json_int_t s = json_integer_value(e);
            if( !json_is_integer(e) || s < 0 ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: segGroups[%zu].segments[%zu]: not a segment id", zAgg, g, k);
                goto done;
            }
            /* A segment no vertex uses labels nothing (it may come from another mesh resolution,
            ** or the files may not belong together): counted, and reported below. */
            int64_t at = s > UINT32_MAX ? -1 : find_u32(ids, nIds, (uint32_t)s);
            if( at < 0 ){
                groupMissing[g]++;
                nMissing++;
                continue;
            }
            if( segGroup[at] >= 0 ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: segment %lld is used by segGroups[%d] and segGroups[%zu]", zAgg,
                               (long long)s, segGroup[at], g);
                goto done;
            }
            segGroup[at] = (int32_t)g;
        }
        zRaw = json_string_value(jl);
        nyu = sptt_labels_nyu40(t, zRaw);
        in = ingest_scene_add_instance(d, (int)oid + 1);
        if( in==NULL ){ rc = SPTT_ENOMEM; goto done; }
        snprintf(in->zRaw, sizeof in->zRaw, "%s", zRaw);
        in->nyu40 = nyu < 0 ? 0 : nyu;
        in->zCategory = sptt_scannet_category(zRaw);
        if( nyu < 0 ){
            int seen = 0;
            for(int i = 0; i < d->nInst - 1; i++) if( strcmp(d->inst[i].zRaw, zRaw)==0 ) seen = 1;
            if( !seen ){
                nUnknown++;
                if( strlen(zUnknown) + strlen(zRaw) + 4 < sizeof zUnknown ){
                    if( zUnknown[0] ) strcat(zUnknown, ", ");
                    strcat(zUnknown, zRaw);
                }
            }
        }
    }
    for(uint64_t v = 0; v < N; v++){
        int32_t g = segGroup[find_u32(ids, nIds, seg[v])];
        int id = g < 0 ? 0 : groupId[g];
        d->pack.instance[v] = (uint16_t)id;
        d->pack.nyu40[v] = 0;
        if( id ){
            /* d->inst[g] is the instance of group g: they were appended in order. */
            d->pack.nyu40[v] = (uint8_t)d->inst[g].nyu40;
            if( sptt_labels_nyu40(t, d->inst[g].zRaw) < 0 ) nUnknownPts++;
        }
    }
    if( nUnknown ){
        ingest_scene_warn(d, "unknown_labels", "%d raw categories missing from the label table, kept with NYU40 id 0 "
                   "(%llu points): %s", nUnknown, (unsigned long long)nUnknownPts, zUnknown);
    }
    if( nMissing ){
        /* One row per scene: objects with their count of absent segments, as many as fit. */
        char zList[200] = "", zBase[128];
        size_t nObj = 0, nListed = 0;
        for(size_t g = 0; g < json_array_size(groups); g++){
            char zOne[64];
            if( groupMissing[g]==0 ) continue;
            nObj++;
            snprintf(zOne, sizeof zOne, "%sobjectId %d: %llu of %zu", nListed ? ", " : "", groupId[g] - 1,
                     (unsigned long long)groupMissing[g], json_array_size(json_object_get(json_array_get(groups, g), "segments")));
            if( strlen(zList) + strlen(zOne) + 24 < sizeof zList ){
                strcat(zList, zOne);
                nListed++;
            }
        }
        ingest_scene_warn(d, "missing_segments", "%llu segment ids in %s are absent from segIndices and label nothing (%zu objects): "
                          "%s%s", (unsigned long long)nMissing, ingest_base_name(zAgg, zBase, sizeof zBase), nObj, zList,
                          nListed < nObj ? ", ..." : "");
    }

done:
    free(ids);
    free(segGroup);
    free(groupId);
    free(groupMissing);
    json_decref(agg);
    return rc;
}

/* vertex -> segIndices -> segGroups -> raw category -> nyu40id, for the d->pack.nPoints vertices. */
static int read_labels(scene_data *d, const char *zSegs, const char *zAgg, const sptt_label_table *t)
{
    uint8_t *buf = NULL;
    size_t n;
    uint32_t *seg = NULL;
    uint64_t nSeg = 0;
    int rc;

    if( (rc = ingest_scene_read_input(d, zSegs, &buf, &n)) ) goto done;
    rc = ingest_parse_segs(zSegs, buf, n, &seg, &nSeg);
    free(buf);
    buf = NULL;
    if( rc ) goto done;
    if( nSeg!=d->pack.nPoints ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: field 'segIndices': %llu entries, the mesh has %llu vertices", zSegs,
                       (unsigned long long)nSeg, (unsigned long long)d->pack.nPoints);
        goto done;
    }
    if( (rc = ingest_scene_read_input(d, zAgg, &buf, &n)) ) goto done;
    rc = ingest_parse_aggregation(d, zAgg, buf, n, seg, t);

done:
    free(buf);
    free(seg);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Alignment
*/
static int check_rigid(const double *M, const char *zWhere)
{
    for(int i = 0; i < 16; i++){
        if( !isfinite(M[i]) ) return sptt_fail(SPTT_EFORMAT, "%s: axisAlignment: entry %d is not finite", zWhere, i);
    }
    if( fabs(M[12]) > 1e-6 || fabs(M[13]) > 1e-6 || fabs(M[14]) > 1e-6 || fabs(M[15] - 1) > 1e-6 ){
        return sptt_fail(SPTT_EFORMAT, "%s: axisAlignment: last row is not 0 0 0 1", zWhere);
    }
    for(int i = 0; i < 3; i++){
        for(int j = 0; j < 3; j++){
            double dot = 0;
            for(int k = 0; k < 3; k++) dot += M[4 * k + i] * M[4 * k + j];
            if( fabs(dot - (i==j)) > 1e-4 ){
                return sptt_fail(SPTT_EFORMAT, "%s: axisAlignment: not a rigid transform (columns %d and %d have dot product %.6f)",
                                 zWhere, i, j, dot);
            }
        }
    }
    {
        double det = M[0] * (M[5] * M[10] - M[6] * M[9]) - M[1] * (M[4] * M[10] - M[6] * M[8]) + M[2] * (M[4] * M[9] - M[5] * M[8]);
        if( det < 0 ) return sptt_fail(SPTT_EFORMAT, "%s: axisAlignment: a reflection, not a rotation", zWhere);
    }
    return SPTT_OK;
}

/* Parses "axisAlignment = m00 ... m33" (or the bare 16 numbers) from a line. */
static int parse_alignment(const char *zLine, const char *zWhere, double *M)
{
    const char *z = zLine;
    int n = 0;
    const char *eq = strchr(zLine, '=');
    if( strncmp(zLine, "axisAlignment", 13)==0 && eq ) z = eq + 1;
    while( *z ){
        char *e;
        double v;
        while( *z==' ' || *z=='\t' ) z++;
        if( *z==0 || *z=='\r' || *z=='\n' ) break;
        v = strtod(z, &e);
        if( e==z ) return sptt_fail(SPTT_EFORMAT, "%s: axisAlignment: '%.20s' is not a number", zWhere, z);
        if( n < 16 ) M[n] = v;
        n++;
        z = e;
    }
    if( n!=16 ) return sptt_fail(SPTT_EFORMAT, "%s: axisAlignment: expected 16 numbers, found %d", zWhere, n);
    return check_rigid(M, zWhere);
}

int ingest_parse_scannet_txt(const char *zPath, char *buf, scannet_meta *m)
{
    char *line, *next;
    int lineNo = 0;
    int rc = SPTT_OK;
    for(line = buf; line && *line && rc==SPTT_OK; line = next){
        char *end = strchr(line, '\n');
        char *eq;
        next = end ? end + 1 : NULL;
        if( end ) *end = 0;
        if( end && end > line && end[-1]=='\r' ) end[-1] = 0;
        lineNo++;
        eq = strstr(line, " = ");
        if( eq==NULL ) continue;
        *eq = 0;
        if( strcmp(line, "axisAlignment")==0 ){
            char zWhere[600];
            snprintf(zWhere, sizeof zWhere, "%s: line %d", zPath, lineNo);
            rc = parse_alignment(eq + 3, zWhere, m->M);
            m->hasAlign = rc==SPTT_OK;
        }else if( strcmp(line, "colorWidth")==0 || strcmp(line, "colorHeight")==0 ){
            /* The frames' size and the scale of their intrinsics with --poses: a whole number of
            ** pixels within the frame limit, not whatever atoi makes of the text. */
            char *e;
            long v = strtol(eq + 3, &e, 10);
            while( *e==' ' || *e=='\t' ) e++;
            if( e==eq + 3 || *e || v < 1 || v > SPTT_INGEST_MAX_SIDE ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: line %d: %s '%.20s' is not a whole number of pixels from 1 to %d", zPath,
                               lineNo, line, eq + 3, SPTT_INGEST_MAX_SIDE);
                break;
            }
            if( line[5]=='W' ) m->colorW = (int)v;
            else m->colorH = (int)v;
        }
        else if( strcmp(line, "fx_color")==0 ) m->fx = atof(eq + 3);
        else if( strcmp(line, "fy_color")==0 ) m->fy = atof(eq + 3);
        else if( strcmp(line, "mx_color")==0 ) m->cx = atof(eq + 3);
        else if( strcmp(line, "my_color")==0 ) m->cy = atof(eq + 3);
        else if( strcmp(line, "sceneType")==0 ) snprintf(m->zType, sizeof m->zType, "%s", eq + 3);
    }
    return rc;
}

static int read_meta(scene_data *d, const char *zPath, scannet_meta *m)
{
    uint8_t *buf;
    size_t n;
    int rc = ingest_scene_read_input(d, zPath, &buf, &n);
    if( rc ) return rc;
    rc = ingest_parse_scannet_txt(zPath, (char *)buf, m);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** Camera walk
*/

static int walk_from_sens(scene_data *d, const char *zSens, const sptt_ingest_opts *o, frame_list *fl)
{
    sptt_sens s;
    int rc;
    double *t = NULL;
    int *valid = NULL;
    uint64_t *keep = NULL, nKeep = 0, nInvalid = 0;
    int fw = o->frameW, fh = o->frameH;
    int allZero = 1;
    sptt_progress prog;

    rc = sptt_sens_read(zSens, &s);
    if( rc ) return rc;
    if( s.nFrames==0 ){
        ingest_scene_warn(d, "no_frames", "%s holds no frames", zSens);
        goto done;
    }
    if( !o->noFrames && s.colorCompression!=2 ){
        rc = sptt_fail(SPTT_EFORMAT, "%s: color_compression_type %d is not JPEG (2)", zSens, s.colorCompression);
        goto done;
    }
    {
        char zWhy[160];
        const float *K = s.intrinsicColor;
        if( !sptt_frame_intrinsics_ok(K[0], K[5], K[2], K[6], zWhy, sizeof zWhy) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: header intrinsic_color: %s", zSens, zWhy);
            goto done;
        }
    }
    t = sptt_malloc(sizeof(double) * (size_t)s.nFrames);
    valid = sptt_malloc(sizeof(int) * (size_t)s.nFrames);
    keep = sptt_malloc(sizeof(uint64_t) * (size_t)s.nFrames);
    if( !t || !valid || !keep ){ rc = SPTT_ENOMEM; goto done; }
    for(uint64_t i = 0; i < s.nFrames; i++) if( s.frames[i].tColor ) allZero = 0;
    for(uint64_t i = 0; i < s.nFrames; i++){
        const sptt_sens_frame *sf = &s.frames[i];
        double m[16];
        char zWhy[160];
        int finite = 1;
        for(int k = 0; k < 16; k++){
            m[k] = sf->c2w[k];
            finite &= isfinite(m[k]) != 0;
        }
        /* -inf marks lost tracking: skipped. Any other pose goes into the pack, so it must pass
        ** the pack's frame rule here, where the frame can be named. */
        valid[i] = 1;
        if( !finite && ingest_frames_pose_lost(m) ){
            valid[i] = 0;
            nInvalid++;
        }else if( !sptt_frame_pose_ok(sf->c2w, zWhy, sizeof zWhy) ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: frame %llu: camera_to_world %s", zSens, (unsigned long long)i, zWhy);
            goto done;
        }
        /* Timestamps are often all zero in real files: then the frame index at the source rate.
        ** Recorded ones are compared as integers, before any subtraction can wrap. */
        if( allZero ){
            t[i] = (double)i / o->sourceFps;
            continue;
        }
        if( i && sf->tColor < s.frames[i - 1].tColor ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: frame %llu: colour timestamp goes backwards (%llu us after %llu us)", zSens,
                           (unsigned long long)i, (unsigned long long)sf->tColor, (unsigned long long)s.frames[i - 1].tColor);
            goto done;
        }
        t[i] = (double)(sf->tColor - s.frames[0].tColor) * 1e-6;
        if( t[i] > SPTT_INGEST_MAX_SPAN ){
            rc = sptt_fail(SPTT_EFORMAT, "%s: frame %llu: colour timestamp is %.6g s after frame 0's, more than the %g s a scan "
                           "may span", zSens, (unsigned long long)i, t[i], SPTT_INGEST_MAX_SPAN);
            goto done;
        }
    }
    if( nInvalid ){
        ingest_scene_warn(d, "invalid_poses", "%llu of %llu frames have no pose (-inf) and were skipped", (unsigned long long)nInvalid,
                   (unsigned long long)s.nFrames);
    }
    ingest_frames_choose(t, valid, s.nFrames, o->fps, keep, &nKeep);
    if( fw==0 ){
        fw = (int)s.colorWidth;
        fh = (int)s.colorHeight;
    }
    for(uint64_t k = 0; k < nKeep; k++){
        sptt_frame_info f;
        const sptt_sens_frame *sf = &s.frames[keep[k]];
        memset(&f, 0, sizeof f);
        memcpy(f.c2w, sf->c2w, sizeof f.c2w);
        f.timestamp = t[keep[k]] - t[keep[0]];
        f.fx = s.intrinsicColor[0] * (float)fw / (float)s.colorWidth;
        f.fy = s.intrinsicColor[5] * (float)fh / (float)s.colorHeight;
        /* Pixel centres on integers: scale about the half-pixel corner. */
        f.cx = (float)((s.intrinsicColor[2] + 0.5) * fw / s.colorWidth - 0.5);
        f.cy = (float)((s.intrinsicColor[6] + 0.5) * fh / s.colorHeight - 0.5);
        f.width = (uint32_t)fw;
        f.height = (uint32_t)fh;
        f.sourceIndex = (uint32_t)keep[k];
        if( (rc = ingest_frames_push(fl, &f)) ) goto done;
    }
    if( o->noFrames ) goto done;

    /* Decode, resize and re-encode in parallel batches; results land in their own slots, so the
    ** output does not depend on the thread count. */
    sptt_progress_start(&prog, "frames decoded", nKeep);
    {
        int failed = SPTT_OK;
        uint64_t failedAt = 0;    /* the earliest failing frame of the batch: the message does not
                                  ** depend on which thread got there first */
        char zErr[512] = "";
        const uint64_t B = 64;
        for(uint64_t b0 = 0; b0 < nKeep && failed==SPTT_OK; b0 += B){
            uint64_t b1 = b0 + B < nKeep ? b0 + B : nKeep;
            uint8_t **blob = sptt_calloc((size_t)(b1 - b0), sizeof(uint8_t *));
            if( blob==NULL ){ failed = SPTT_ENOMEM; break; }
            /* File reads stay sequential (one FILE); decoding is the parallel part. */
            for(uint64_t k = b0; k < b1 && failed==SPTT_OK; k++){
                const sptt_sens_frame *sf = &s.frames[keep[k]];
                blob[k - b0] = sptt_malloc((size_t)sf->colorSize + 1);
                if( blob[k - b0]==NULL ) failed = SPTT_ENOMEM;
                else if( sptt_sens_blob(&s, sf->colorOffset, sf->colorSize, blob[k - b0]) ){
                    failed = SPTT_EFORMAT;
                    snprintf(zErr, sizeof zErr, "%s", sptt_errmsg());
                }
            }
            if( failed==SPTT_OK ){
                #pragma omp parallel
                {
                    tjhandle dec = tjInitDecompress(), enc = tjInitCompress();
                    uint8_t *rgb = malloc((size_t)fw * (size_t)fh * 3);
                    #pragma omp for schedule(dynamic, 1)
                    for(uint64_t k = b0; k < b1; k++){
                        int r2;
                        char zWhat[600];
                        const sptt_sens_frame *sf = &s.frames[keep[k]];
                        if( !dec || !enc || !rgb ){
                            r2 = sptt_fail(SPTT_ENOMEM, "out of memory decoding frames");
                        }else{
                            snprintf(zWhat, sizeof zWhat, "%s: frame %llu (byte %llu)", zSens, (unsigned long long)keep[k],
                                     (unsigned long long)sf->colorOffset);
                            r2 = sptt_image_jpeg_to_rgb(dec, blob[k - b0], (size_t)sf->colorSize, (int)s.colorWidth,
                                                          (int)s.colorHeight, fw, fh, rgb, zWhat);
                            if( r2==SPTT_OK ) r2 = sptt_image_rgb_to_jpeg(enc, rgb, fw, fh, &fl->jpeg[k], &fl->jpegSize[k]);
                        }
                        if( r2 ){
                            #pragma omp critical
                            {
                                if( failed==SPTT_OK || k < failedAt ){
                                    failed = r2;
                                    failedAt = k;
                                    snprintf(zErr, sizeof zErr, "%s", sptt_errmsg());
                                }
                            }
                        }
                    }
                    free(rgb);
                    if( dec ) tjDestroy(dec);
                    if( enc ) tjDestroy(enc);
                }
            }
            for(uint64_t k = b0; k < b1; k++) free(blob[k - b0]);
            free(blob);
            sptt_progress_step(&prog, b1 - b0);
        }
        sptt_progress_end(&prog);
        if( failed ) rc = sptt_fail(failed, "%s", zErr[0] ? zErr : "out of memory decoding frames");
    }

done:
    free(t);
    free(valid);
    free(keep);
    sptt_sens_free(&s);
    return rc;
}

static int read_matrix_file(scene_data *d, const char *zPath, double *M)
{
    uint8_t *buf;
    size_t n;
    int rc = ingest_scene_read_input(d, zPath, &buf, &n);
    char *z, *e;
    if( rc ) return rc;
    z = (char *)buf;
    for(int i = 0; i < 16; i++){
        while( *z==' ' || *z=='\t' || *z=='\r' || *z=='\n' ) z++;
        /* strtod reads "-inf" as the exporter writes it for lost frames */
        M[i] = strtod(z, &e);
        if( e==z ){
            free(buf);
            return sptt_fail(SPTT_EFORMAT, "%s: entry %d: expected a number (a 4x4 matrix, 16 numbers)", zPath, i);
        }
        z = e;
    }
    while( *z==' ' || *z=='\t' || *z=='\r' || *z=='\n' ) z++;
    if( *z ){
        free(buf);
        return sptt_fail(SPTT_EFORMAT, "%s: more than 16 numbers", zPath);
    }
    free(buf);
    return SPTT_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int walk_from_poses(scene_data *d, const char *zDir, const scannet_meta *m, const sptt_ingest_opts *o, frame_list *fl)
{
    char zPath[1200];
    DIR *dir;
    struct dirent *de;
    uint64_t *ids = NULL, n = 0, cap = 0, nInvalid = 0, nKeep = 0;
    double K[16];
    double *t = NULL;
    int *valid = NULL;
    uint64_t *keep = NULL;
    double (*P)[16] = NULL;
    int rc = SPTT_OK;
    int W = m->colorW, H = m->colorH, fw = o->frameW, fh = o->frameH;

    if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/intrinsic/intrinsic_color.txt", zDir)) ) return rc;
    if( (rc = ingest_need_file(zPath)) ) return rc;
    if( (rc = read_matrix_file(d, zPath, K)) ) return rc;
    {
        char zWhy[160];
        if( !sptt_frame_intrinsics_ok((float)K[0], (float)K[5], (float)K[2], (float)K[6], zWhy, sizeof zWhy) ){
            return sptt_fail(SPTT_EFORMAT, "%s: %s (entries 0, 5, 2, 6 of the matrix are fx, fy, cx, cy)", zPath, zWhy);
        }
    }
    if( W==0 || H==0 ){
        return sptt_fail(SPTT_EFORMAT, "%s: colorWidth/colorHeight missing from the scene's .txt; needed with --poses", zDir);
    }
    if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/pose", zDir)) ) return rc;
    dir = opendir(zPath);
    if( dir==NULL ) return sptt_fail(SPTT_EFORMAT, "%s: missing folder: %s", zPath, strerror(errno));
    while( (de = readdir(dir))!=NULL ){
        char *e;
        unsigned long long v = strtoull(de->d_name, &e, 10);
        if( e==de->d_name || strcmp(e, ".txt")!=0 ) continue;
        /* The index becomes the frame's 32-bit source index and, over --source-fps, its time. */
        if( v > UINT32_MAX ){
            rc = sptt_fail(SPTT_EFORMAT, "%s/%s: frame index %s is beyond %u", zPath, de->d_name, de->d_name, UINT32_MAX);
            break;
        }
        if( n==cap ){
            uint64_t *p2 = sptt_realloc(ids, sizeof *ids * (size_t)(cap = cap ? 2 * cap : 1024));
            if( p2==NULL ){ rc = SPTT_ENOMEM; break; }
            ids = p2;
        }
        ids[n++] = v;
    }
    closedir(dir);
    if( rc ) goto done;
    if( n==0 ){
        ingest_scene_warn(d, "no_frames", "%s/pose holds no pose files", zDir);
        goto done;
    }
    qsort(ids, (size_t)n, sizeof *ids, cmp_u64);
    t = sptt_malloc(sizeof(double) * (size_t)n);
    valid = sptt_malloc(sizeof(int) * (size_t)n);
    keep = sptt_malloc(sizeof(uint64_t) * (size_t)n);
    P = sptt_malloc(sizeof(double[16]) * (size_t)n);
    if( !t || !valid || !keep || !P ){ rc = SPTT_ENOMEM; goto done; }
    for(uint64_t i = 0; i < n; i++){
        if( (rc = sptt_pathf(zPath, sizeof zPath, "%s/pose/%llu.txt", zDir, (unsigned long long)ids[i])) ) goto done;
        if( (rc = read_matrix_file(d, zPath, P[i])) ) goto done;
        valid[i] = !ingest_frames_pose_lost(P[i]);
        nInvalid += !valid[i];
        if( valid[i] ){
            /* Checked as the pack will hold it: float32. */
            float c2w[16];
            char zWhy[160];
            for(int k = 0; k < 16; k++) c2w[k] = (float)P[i][k];
            if( !sptt_frame_pose_ok(c2w, zWhy, sizeof zWhy) ){
                rc = sptt_fail(SPTT_EFORMAT, "%s: camera-to-world %s", zPath, zWhy);
                goto done;
            }
        }
        /* The exporter writes every frame_skip-th frame under its source index. */
        t[i] = (double)ids[i] / o->sourceFps;
    }
    if( nInvalid ){
        ingest_scene_warn(d, "invalid_poses", "%llu of %llu exported poses are -inf and were skipped", (unsigned long long)nInvalid,
                   (unsigned long long)n);
    }
    ingest_frames_choose(t, valid, n, o->fps, keep, &nKeep);
    if( fw==0 ){
        fw = W;
        fh = H;
    }
    for(uint64_t k = 0; k < nKeep; k++){
        sptt_frame_info f;
        uint64_t i = keep[k];
        memset(&f, 0, sizeof f);
        for(int j = 0; j < 16; j++) f.c2w[j] = (float)P[i][j];
        f.timestamp = t[i] - t[keep[0]];
        f.fx = (float)(K[0] * fw / W);
        f.fy = (float)(K[5] * fh / H);
        f.cx = (float)((K[2] + 0.5) * fw / W - 0.5);
        f.cy = (float)((K[6] + 0.5) * fh / H - 0.5);
        f.width = (uint32_t)fw;
        f.height = (uint32_t)fh;
        f.sourceIndex = (uint32_t)ids[i];
        if( (rc = ingest_frames_push(fl, &f)) ) goto done;
    }
    ingest_scene_warn(d, "no_images", "camera walk from exported poses: poses only, no frame images");

done:
    free(ids);
    free(t);
    free(valid);
    free(keep);
    free(P);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
** The scene
*/
int sptt_ingest_scannet(sqlite3 *db, const char *zDir, const sptt_ingest_opts *o, sptt_ingest_result *r)
{
    char zName[128], zPly[1200], zSegs[1200], zAgg[1200], zTxt[1200], zSens[1200];
    scene_data d;
    sptt_label_table *labels = NULL;
    scannet_meta meta;
    frame_list fl;
    int rc;
    int haveSens = 0, havePoses = 0;

    memset(&fl, 0, sizeof fl);
    memset(&meta, 0, sizeof meta);
    memset(r, 0, sizeof *r);
    ingest_base_name(zDir, zName, sizeof zName);
    snprintf(r->zName, sizeof r->zName, "%s", zName);
    ingest_scene_init(&d, zName, "scannet");
    d.fps = o->fps;

    if( (rc = sptt_pathf(zPly, sizeof zPly, "%s/%s_vh_clean_2.ply", zDir, zName)) ) goto done;
    if( (rc = sptt_pathf(zSegs, sizeof zSegs, "%s/%s_vh_clean_2.0.010000.segs.json", zDir, zName)) ) goto done;
    if( (rc = sptt_pathf(zAgg, sizeof zAgg, "%s/%s.aggregation.json", zDir, zName)) ) goto done;
    if( (rc = sptt_pathf(zTxt, sizeof zTxt, "%s/%s.txt", zDir, zName)) ) goto done;
    if( o->zSens ) rc = sptt_pathf(zSens, sizeof zSens, "%s", o->zSens);
    else rc = sptt_pathf(zSens, sizeof zSens, "%s/%s.sens", zDir, zName);
    if( rc ) goto done;
    if( (rc = ingest_need_file(zPly)) || (rc = ingest_need_file(zSegs)) || (rc = ingest_need_file(zAgg)) ) goto done;
    if( o->zLabels==NULL ){
        rc = sptt_fail(SPTT_EINVAL, "--labels scannetv2-labels.combined.tsv is required for ScanNet scenes");
        goto done;
    }
    if( (rc = ingest_need_file(o->zLabels)) ) goto done;
    if( o->zSens && (rc = ingest_need_file(o->zSens)) ) goto done;
    haveSens = !o->zPoses && ingest_file_exists(zSens);
    havePoses = o->zPoses!=NULL;

    /* Options that shape the output are part of the input hash. */
    {
        char zOpt[256];
        snprintf(zOpt, sizeof zOpt, "scannet fps=%g src=%g size=%dx%d noframes=%d sample=%llu seed=%llu poses=%d", o->fps,
                 o->sourceFps, o->frameW, o->frameH, o->noFrames, (unsigned long long)o->nSample,
                 (unsigned long long)o->seed, havePoses);
        sptt_hash_update(&d.inputHash, zOpt, strlen(zOpt));
    }

    if( (rc = sptt_labels_load(o->zLabels, &labels)) ) goto done;
    if( (rc = ingest_scene_hash_file(&d, o->zLabels)) ) goto done;
    if( (rc = ingest_scene_take_ply(&d, zPly)) ) goto done;
    if( (rc = read_labels(&d, zSegs, zAgg, labels)) ) goto done;

    /* Alignment and metadata. */
    if( ingest_file_exists(zTxt) && (rc = read_meta(&d, zTxt, &meta)) ) goto done;
    snprintf(d.zSceneType, sizeof d.zSceneType, "%s", meta.zType);
    if( o->zAlign ){
        uint8_t *buf;
        size_t n;
        char *z;
        if( (rc = ingest_need_file(o->zAlign)) ) goto done;
        if( (rc = ingest_scene_read_input(&d, o->zAlign, &buf, &n)) ) goto done;
        z = strstr((char *)buf, "axisAlignment");
        rc = parse_alignment(z ? z : (char *)buf, o->zAlign, d.alignment);
        free(buf);
        if( rc ) goto done;
        if( meta.hasAlign ) ingest_scene_warn(&d, "alignment_override", "--align %s replaces the axisAlignment of %s", o->zAlign, zTxt);
    }else if( meta.hasAlign ){
        memcpy(d.alignment, meta.M, sizeof meta.M);
    }else{
        ingest_scene_warn(&d, "no_alignment", "no axisAlignment in %s and no --align: the mesh is kept in its raw frame", zTxt);
    }

    if( haveSens && (rc = ingest_scene_hash_file(&d, zSens)) ) goto done;
    if( ingest_scene_skip_if_unchanged(db, &d, o, r) ) goto done;

    /* Camera walk. */
    if( havePoses ){
        rc = walk_from_poses(&d, o->zPoses, &meta, o, &fl);
    }else if( haveSens ){
        rc = walk_from_sens(&d, zSens, o, &fl);
    }else{
        char zPoseDir[1200];
        if( (rc = sptt_pathf(zPoseDir, sizeof zPoseDir, "%s/pose", zDir)) ) goto done;
        if( access(zPoseDir, F_OK)==0 ){
            rc = walk_from_poses(&d, zDir, &meta, o, &fl);
        }else{
            ingest_scene_warn(&d, "no_frames", "no %s and no exported poses: the scene has no camera walk", zSens);
        }
    }
    if( rc ) goto done;
    {
        int fw = fl.n ? (int)fl.info[0].width : 0, fh = fl.n ? (int)fl.info[0].height : 0;
        if( (rc = ingest_frames_to_pack(&fl, &d, fw, fh)) ) goto done;
    }
    ingest_scene_apply_alignment(&d);
    /* Each pose passed the frame rule as read; the alignment's rounding could still push one past
    ** the tolerance, and the pack reader would refuse what we commit. */
    if( d.pack.nFrames && (rc = ingest_frames_check(&d, havePoses || !haveSens ? (o->zPoses ? o->zPoses : zDir) : zSens)) ) goto done;
    if( o->nSample && (rc = ingest_scene_sample_surface(&d, o->nSample, o->seed)) ) goto done;
    rc = ingest_scene_commit(db, &d, o, r);
    if( rc==SPTT_OK ){
        int nNoLabel = 0;
        for(int i = 0; i < d.nInst; i++) nNoLabel += d.inst[i].nyu40==0;
        snprintf(r->zSummary, sizeof r->zSummary, "%s: %llu points, %llu faces, %d instances (%d without NYU40 label), "
                 "%llu frames%s, %d warnings", zName, (unsigned long long)d.pack.nPoints, (unsigned long long)d.pack.nFaces,
                 d.nInst, nNoLabel, (unsigned long long)d.pack.nFrames, d.pack.imgEncoding ? " with images" : "", d.nWarn);
    }

done:
    ingest_frames_free(&fl);
    sptt_labels_free(labels);
    ingest_scene_free(&d);
    return rc;
}
