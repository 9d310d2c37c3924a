/*
** Writes a synthetic scene in the ScanNet v2 download layout:
**
**   scans/<scene>/<scene>_vh_clean_2.ply                 mesh in the raw scan frame
**   scans/<scene>/<scene>_vh_clean_2.0.010000.segs.json   per-vertex segment ids
**   scans/<scene>/<scene>.aggregation.json                instances as groups of segments
**   scans/<scene>/<scene>.txt                             metadata, axisAlignment first
**   scans/<scene>/<scene>.sens                            RGB-D stream (JPEG colour, zlib depth)
**   scans/<scene>/pose/<i>.txt, intrinsic/<name>.txt          what the official exporter writes
**
** The JSON and metadata files use CRLF line endings and the tab layout of the real files.
*/
#include "synth.h"
#include "sptt_ingest.h"
#include "sptt_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

/* The real sensor's intrinsics at its native sizes, scaled to the sizes written. */
#define FX_COLOR 1170.187988
#define MX_COLOR 647.75
#define MY_COLOR 483.75
#define FX_DEPTH 571.623718
#define MX_DEPTH 319.5
#define MY_DEPTH 239.5

static int write_buf(const char *zPath, sptt_buf *b)
{
    int rc = b->rc ? b->rc : sptt_write_file(zPath, b->p, b->n);
    sptt_buf_free(b);
    return rc;
}

static int write_segs(const synth_scene *s, const char *zPath)
{
    sptt_buf b = {0};
    sptt_buf_printf(&b, "{\r\n\"params\": {\r\n\t\"kThresh\": \"0.0001\",\r\n\t\"segMinVerts\": \"20\",\r\n"
                        "\t\"minPoints\": \"750\",\r\n\t\"maxPoints\": \"30000\",\r\n\t\"thinThresh\": \"0.05\",\r\n"
                        "\t\"flatThresh\": \"0.001\",\r\n\t\"minLength\": \"0.02\",\r\n\t\"maxLength\": \"1\"\r\n}\r\n,\r\n"
                        "\"sceneId\": \"%s\",\r\n\"segIndices\": [", s->zName);
    for(uint32_t i = 0; i < s->mesh.nVerts; i++) sptt_buf_printf(&b, i ? ",%u" : "%u", s->mesh.seg[i]);
    sptt_buf_printf(&b, "]\r\n}\r\n");
    return write_buf(zPath, &b);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int write_aggregation(const synth_scene *s, const char *zPath)
{
    sptt_buf b = {0};
    int maxId = 0;
    uint32_t *segs = NULL;
    int first = 1;
    for(int i = 0; i < s->nObjs; i++) if( s->objs[i].id > maxId ) maxId = s->objs[i].id;
    segs = sptt_malloc(sizeof(uint32_t) * (s->mesh.nVerts + 1));
    if( segs==NULL ) return SPTT_ENOMEM;
    sptt_buf_printf(&b, "{\r\n\"sceneId\": \"scannet.%s\",\r\n\"appId\": \"Aggregator.v2\",\r\n\"segGroups\": [\r\n", s->zName);
    for(int id = 1; id <= maxId; id++){
        const synth_object *o = NULL;
        int n = 0;
        for(int i = 0; i < s->nObjs; i++) if( s->objs[i].id==id ) o = &s->objs[i];
        if( o==NULL ) continue;
        /* A segment's id is its first vertex, so sorted ids are in order of first appearance. */
        for(uint32_t v = o->v0; v < o->v1; v++) segs[n++] = s->mesh.seg[v];
        qsort(segs, (size_t)n, sizeof segs[0], cmp_u32);
        {
            int m = 0;
            for(int k = 0; k < n; k++) if( m==0 || segs[k]!=segs[m - 1] ) segs[m++] = segs[k];
            n = m;
        }
        sptt_buf_printf(&b, "%s\t{\r\n\t\"id\": %d,\r\n\t\"objectId\": %d,\r\n\t\"segments\": [", first ? "" : ",\r\n", id - 1, id - 1);
        for(int k = 0; k < n; k++) sptt_buf_printf(&b, k ? ",%u" : "%u", segs[k]);
        sptt_buf_printf(&b, "],\r\n\t\"label\": \"%s\"\r\n\t}", o->zRaw);
        first = 0;
    }
    sptt_buf_printf(&b, "\r\n],\r\n\"segmentsFile\": \"scannet.%s_vh_clean_2.0.010000.segs.json\"}\r\n", s->zName);
    free(segs);
    return write_buf(zPath, &b);
}

static int write_meta(const synth_scene *s, const char *zPath, int cw, int ch, int dw, int dh)
{
    sptt_buf b = {0};
    const double *M = s->alignment;
    sptt_buf_printf(&b, "axisAlignment =");
    for(int i = 0; i < 16; i++) sptt_buf_printf(&b, " %.9g", M[i]);
    sptt_buf_printf(&b, "\r\ncolorHeight = %d\r\n", ch);
    sptt_buf_printf(&b, "colorToDepthExtrinsics = 1.000000 0.000000 0.000000 0.000000 0.000000 1.000000 0.000000 0.000000 "
                        "0.000000 0.000000 1.000000 0.000000 0.000000 0.000000 0.000000 1.000000\r\n");
    sptt_buf_printf(&b, "colorWidth = %d\r\ndepthHeight = %d\r\ndepthWidth = %d\r\n", cw, dh, dw);
    sptt_buf_printf(&b, "fx_color = %f\r\nfx_depth = %f\r\nfy_color = %f\r\nfy_depth = %f\r\n", FX_COLOR * cw / 1296.0,
                    FX_DEPTH * dw / 640.0, FX_COLOR * cw / 1296.0, FX_DEPTH * dw / 640.0);
    sptt_buf_printf(&b, "mx_color = %f\r\nmx_depth = %f\r\nmy_color = %f\r\nmy_depth = %f\r\n", MX_COLOR * cw / 1296.0,
                    MX_DEPTH * dw / 640.0, MY_COLOR * ch / 968.0, MY_DEPTH * dh / 480.0);
    sptt_buf_printf(&b, "numColorFrames = %d\r\nnumDepthFrames = %d\r\nnumIMUmeasurements = 0\r\nsceneType = %s\r\n",
                    s->nFrames, s->nFrames, s->zType);
    return write_buf(zPath, &b);
}

static void mat4_text(sptt_buf *b, const double *m)
{
    for(int r = 0; r < 4; r++) sptt_buf_printf(b, "%f %f %f %f\n", m[4 * r], m[4 * r + 1], m[4 * r + 2], m[4 * r + 3]);
}

static int write_exports(const synth_scene *s, const char *zDir, const double (*rawPose)[16], double fxC, double mxC,
                         double myC, double fxD, double mxD, double myD)
{
    char zPath[1024];
    int rc;
    double K[16] = { fxC, 0, mxC, 0, 0, fxC, myC, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
    double D[16] = { fxD, 0, mxD, 0, 0, fxD, myD, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
    double I[16];
    sptt_identity4(I);
    sptt_pathf(zPath, sizeof zPath, "%s/pose", zDir);
    if( (rc = sptt_mkdirs(zPath)) ) return rc;
    sptt_pathf(zPath, sizeof zPath, "%s/intrinsic", zDir);
    if( (rc = sptt_mkdirs(zPath)) ) return rc;
    for(int f = 0; f < s->nFrames; f++){
        sptt_buf b = {0};
        mat4_text(&b, rawPose[f]);
        sptt_pathf(zPath, sizeof zPath, "%s/pose/%d.txt", zDir, f);
        if( (rc = write_buf(zPath, &b)) ) return rc;
    }
    {
        const char *azName[4] = { "intrinsic_color", "intrinsic_depth", "extrinsic_color", "extrinsic_depth" };
        const double *am[4] = { K, D, I, I };
        for(int k = 0; k < 4; k++){
            sptt_buf b = {0};
            mat4_text(&b, am[k]);
            sptt_pathf(zPath, sizeof zPath, "%s/intrinsic/%s.txt", zDir, azName[k]);
            if( (rc = write_buf(zPath, &b)) ) return rc;
        }
    }
    return SPTT_OK;
}

/* One encoded frame of the stream. */
typedef struct enc_frame {
    unsigned char *jpeg;
    unsigned long jpegSize;
    uint8_t *depth;
    uLongf depthSize;
    int rc;
    char zErr[256];   /* the worker thread's message, carried back to the writer's thread */
} enc_frame;

static void encode_frame(const synth_scene *s, int f, const synth_view *vc, const synth_view *vd, tjhandle tj, enc_frame *out)
{
    uint8_t *rgb = sptt_malloc((size_t)vc->width * (size_t)vc->height * 3);
    float *dep = sptt_malloc((size_t)vd->width * (size_t)vd->height * sizeof(float));
    uint16_t *mm = sptt_malloc((size_t)vd->width * (size_t)vd->height * 2);
    uLong nd = (uLong)vd->width * (uLong)vd->height * 2;
    memset(out, 0, sizeof *out);
    if( !rgb || !dep || !mm ){
        out->rc = SPTT_ENOMEM;
        goto done;
    }
    out->rc = synth_render(s, s->c2w + 16 * f, vc, rgb, NULL);
    if( out->rc==SPTT_OK ) out->rc = synth_render(s, s->c2w + 16 * f, vd, NULL, dep);
    if( out->rc ) goto done;
    if( tjCompress2(tj, rgb, vc->width, 0, vc->height, TJPF_RGB, &out->jpeg, &out->jpegSize, TJSAMP_420, 90, 0)!=0 ){
        out->rc = sptt_fail(SPTT_EIO, "jpeg: %s", tjGetErrorStr2(tj));
        goto done;
    }
    for(int i = 0; i < vd->width * vd->height; i++){
        double v = dep[i] * 1000.0;
        mm[i] = (uint16_t)(v <= 0 || v > 65535 ? 0 : lrint(v));
    }
    out->depthSize = compressBound(nd);
    out->depth = sptt_malloc(out->depthSize);
    if( out->depth==NULL ){
        out->rc = SPTT_ENOMEM;
        goto done;
    }
    if( compress2(out->depth, &out->depthSize, (const Bytef *)mm, nd, 1)!=Z_OK ) out->rc = sptt_fail(SPTT_EIO, "zlib: compress failed");
done:
    if( out->rc ) snprintf(out->zErr, sizeof out->zErr, "%s", sptt_errmsg());
    free(rgb);
    free(dep);
    free(mm);
}

int synth_write_scannet(const synth_scene *s, const sptt_synth_opts *o, const char *zRoot)
{
    char zDir[1024], zPath[1200];
    int rc = SPTT_OK;
    float *raw = NULL;
    double Minv[16];
    double (*rawPose)[16] = NULL;
    int cw, ch, dw, dh;
    synth_view vc, vd;
    sptt_sens hdr;
    sptt_sens_writer *sw = NULL;
    sptt_progress prog;
    enum { BATCH = 16 };
    enc_frame batch[BATCH];

    sptt_pathf(zDir, sizeof zDir, "%s/scans/%s", zRoot, s->zName);
    if( (rc = sptt_mkdirs(zDir)) ) return rc;
    sptt_rigid_inverse(s->alignment, Minv);

    /* Mesh in the raw frame: the inverse of the alignment the metadata file states. */
    raw = sptt_malloc(sptt_mul_size(s->mesh.nVerts, 12));
    if( raw==NULL ) return SPTT_ENOMEM;
    for(uint32_t i = 0; i < s->mesh.nVerts; i++){
        double p[3] = { s->mesh.xyz[3 * i], s->mesh.xyz[3 * i + 1], s->mesh.xyz[3 * i + 2] }, q[3];
        sptt_xform_point(Minv, p, q);
        raw[3 * i] = (float)q[0];
        raw[3 * i + 1] = (float)q[1];
        raw[3 * i + 2] = (float)q[2];
    }
    sptt_pathf(zPath, sizeof zPath, "%s/%s_vh_clean_2.ply", zDir, s->zName);
    rc = sptt_ply_write(zPath, "VCGLIB generated", s->mesh.nVerts, raw, s->mesh.rgb, 1, s->mesh.nFaces, s->mesh.faces);
    free(raw);
    if( rc ) return rc;
    sptt_pathf(zPath, sizeof zPath, "%s/%s_vh_clean_2.0.010000.segs.json", zDir, s->zName);
    if( (rc = write_segs(s, zPath)) ) return rc;
    sptt_pathf(zPath, sizeof zPath, "%s/%s.aggregation.json", zDir, s->zName);
    if( (rc = write_aggregation(s, zPath)) ) return rc;

    cw = o->colorW ? o->colorW : o->scale==SPTT_SCALE_SCANNET ? 1296 : 320;
    ch = o->colorH ? o->colorH : o->scale==SPTT_SCALE_SCANNET ? 968 : 240;
    dw = o->scale==SPTT_SCALE_SCANNET ? 640 : 160;
    dh = o->scale==SPTT_SCALE_SCANNET ? 480 : 120;
    vc = (synth_view){ cw, ch, FX_COLOR * cw / 1296.0, FX_COLOR * cw / 1296.0, MX_COLOR * cw / 1296.0, MY_COLOR * ch / 968.0 };
    vd = (synth_view){ dw, dh, FX_DEPTH * dw / 640.0, FX_DEPTH * dw / 640.0, MX_DEPTH * dw / 640.0, MY_DEPTH * dh / 480.0 };
    sptt_pathf(zPath, sizeof zPath, "%s/%s.txt", zDir, s->zName);
    if( (rc = write_meta(s, zPath, cw, ch, dw, dh)) ) return rc;

    rawPose = sptt_malloc(sizeof(double[16]) * (size_t)s->nFrames);
    if( rawPose==NULL ) return SPTT_ENOMEM;
    for(int f = 0; f < s->nFrames; f++){
        if( s->invalid[f] ){
            for(int k = 0; k < 16; k++) rawPose[f][k] = -INFINITY;
        }else{
            sptt_mul4(Minv, s->c2w + 16 * f, rawPose[f]);
        }
    }
    rc = write_exports(s, zDir, (const double (*)[16])rawPose, vc.fx, vc.cx, vc.cy, vd.fx, vd.cx, vd.cy);
    if( rc ) goto done;

    memset(&hdr, 0, sizeof hdr);
    snprintf(hdr.zSensor, sizeof hdr.zSensor, "StructureSensor");
    {
        float K[16] = { (float)vc.fx, 0, (float)vc.cx, 0, 0, (float)vc.fy, (float)vc.cy, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
        float D[16] = { (float)vd.fx, 0, (float)vd.cx, 0, 0, (float)vd.fy, (float)vd.cy, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
        float I[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
        memcpy(hdr.intrinsicColor, K, sizeof K);
        memcpy(hdr.intrinsicDepth, D, sizeof D);
        memcpy(hdr.extrinsicColor, I, sizeof I);
        memcpy(hdr.extrinsicDepth, I, sizeof I);
    }
    hdr.colorCompression = 2;
    hdr.depthCompression = 1;
    hdr.colorWidth = (uint32_t)cw;
    hdr.colorHeight = (uint32_t)ch;
    hdr.depthWidth = (uint32_t)dw;
    hdr.depthHeight = (uint32_t)dh;
    hdr.depthShift = 1000.0f;
    hdr.nFrames = (uint64_t)s->nFrames;
    sptt_pathf(zPath, sizeof zPath, "%s/%s.sens", zDir, s->zName);
    rc = sptt_sens_create(zPath, &hdr, &sw);
    if( rc ) goto done;

    sptt_progress_start(&prog, s->zName, (uint64_t)s->nFrames);
    for(int f0 = 0; f0 < s->nFrames && rc==SPTT_OK; f0 += BATCH){
        int n = s->nFrames - f0 < BATCH ? s->nFrames - f0 : BATCH;
        /* Frames are independent: render and encode a batch in parallel, write it in order. */
        #pragma omp parallel
        {
            tjhandle tj = tjInitCompress();
            #pragma omp for schedule(dynamic, 1)
            for(int k = 0; k < n; k++){
                if( tj ) encode_frame(s, f0 + k, &vc, &vd, tj, &batch[k]);
                else{
                    memset(&batch[k], 0, sizeof batch[k]);
                    batch[k].rc = SPTT_ENOMEM;
                    snprintf(batch[k].zErr, sizeof batch[k].zErr, "jpeg: cannot create a compressor");
                }
            }
            if( tj ) tjDestroy(tj);
        }
        for(int k = 0; k < n; k++){
            int f = f0 + k;
            float pose[16];
            uint64_t t = 1000000ull + (uint64_t)llround(s->times[f] * 1e6);
            for(int j = 0; j < 16; j++) pose[j] = (float)rawPose[f][j];
            if( rc==SPTT_OK && batch[k].rc ) rc = sptt_fail(batch[k].rc, "%s", batch[k].zErr);
            if( rc==SPTT_OK ) rc = sptt_sens_add_frame(sw, pose, t, t, batch[k].jpeg, batch[k].jpegSize, batch[k].depth, batch[k].depthSize);
            tjFree(batch[k].jpeg);
            free(batch[k].depth);
        }
        sptt_progress_step(&prog, (uint64_t)n);
    }
    sptt_progress_end(&prog);
    {
        int rc2 = sptt_sens_finish(sw, rc==SPTT_OK);
        if( rc==SPTT_OK ) rc = rc2;
    }

done:
    free(rawPose);
    return rc;
}
