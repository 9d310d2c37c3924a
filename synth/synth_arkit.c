/*
** Writes a synthetic scene in the ARKitScenes 3DOD layout:
**
**   3dod/Training/<vid>/<vid>_3dod_mesh.ply                       coloured mesh, world frame, z up
**   3dod/Training/<vid>/<vid>_3dod_annotation.json                boxes (segments.obbAligned)
**   3dod/Training/<vid>/<vid>_frames/lowres_wide.traj             world->camera, axis-angle
**   3dod/Training/<vid>/<vid>_frames/lowres_wide/<vid>_<ts>.png   256x192 frames
**   3dod/Training/<vid>/<vid>_frames/lowres_wide_intrinsics/<vid>_<ts>.pincam
**
** Frames are stored in sensor orientation: a video recorded with the device turned has its
** frames turned too, which ingest must detect from the poses.
*/
#include "synth.h"
#include "sptt_ingest.h"
#include "sptt_math.h"
#include "sptt_png.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W_LOW 256
#define H_LOW 192
#define FX_LOW 211.949
#define CX_LOW 127.933
#define CY_LOW 95.9333

/* A uid in the form of ARKitScenes' (8-4-4-4-12 hex), drawn from the scene's stream. */
static void make_uid(sptt_rng *rng, char *z)
{
    uint64_t a = sptt_rng_u64(rng), b = sptt_rng_u64(rng);
    snprintf(z, 40, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)((a >> 16) & 0xffff),
             (unsigned)(a & 0xffff), (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffull));
}

static json_t *real_array(const double *a, int n)
{
    json_t *arr = json_array();
    for(int i = 0; i < n; i++) json_array_append_new(arr, json_real(a[i]));
    return arr;
}

static int write_annotation(const synth_scene *s, sptt_rng *rng, const char *zPath)
{
    json_t *root = json_object(), *data = json_array();
    int rc = SPTT_OK;
    int k = 0;
    const double *W = s->world;
    for(int i = 0; i < s->nObjs; i++){
        const synth_object *o = &s->objs[i];
        json_t *item, *seg, *obb;
        double c[3], axes[9];
        char uid[40];
        const char *zLabel;
        if( o->cat==NULL || o->cat->zArkit==NULL ) continue;
        sptt_xform_point(W, o->center, c);
        for(int r = 0; r < 3; r++)
            for(int j = 0; j < 3; j++) axes[3 * r + j] = W[4 * j] * o->axes[3 * r] + W[4 * j + 1] * o->axes[3 * r + 1] + W[4 * j + 2] * o->axes[3 * r + 2];
        make_uid(rng, uid);
        /* Apple's raw labels sometimes carry a space or a dash where the class has '_'. */
        zLabel = o->cat->zArkit;
        if( strcmp(zLabel, "tv_monitor")==0 && sptt_rng_unit(rng) < 0.5 ) zLabel = "tv monitor";
        item = json_object();
        json_object_set_new(item, "uid", json_string(uid));
        json_object_set_new(item, "label", json_string(zLabel));
        json_object_set_new(item, "modelId", json_string(""));
        json_object_set_new(item, "children", json_array());
        json_object_set_new(item, "objectId", json_integer(k + 1));
        seg = json_object();
        obb = json_object();
        json_object_set_new(obb, "centroid", real_array(c, 3));
        json_object_set_new(obb, "axesLengths", real_array(o->size, 3));
        json_object_set_new(obb, "normalizedAxes", real_array(axes, 9));
        json_object_set_new(seg, "obbAligned", obb);
        json_object_set_new(item, "segments", seg);
        json_object_set_new(item, "hierarchy", json_integer(0));
        json_object_set_new(item, "isInGroup", json_false());
        json_object_set_new(item, "labelType", json_string("object"));
        json_object_set_new(item, "attributes", json_object());
        json_array_append_new(data, item);
        k++;
    }
    json_object_set_new(root, "data", data);
    {
        json_t *stats = json_object();
        json_object_set_new(stats, "numObjects", json_integer(k));
        json_object_set_new(root, "stats", stats);
    }
    json_object_set_new(root, "comment", json_string(""));
    json_object_set_new(root, "confirm", json_true());
    json_object_set_new(root, "skipped", json_false());
    {
        char *z = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if( z==NULL ) rc = sptt_fail(SPTT_ENOMEM, "json: out of memory");
        else rc = sptt_write_file(zPath, z, strlen(z));
        free(z);
    }
    json_decref(root);
    return rc;
}

int synth_write_arkit(const synth_scene *s, const sptt_synth_opts *o, sptt_rng *rng, const char *zRoot)
{
    char zDir[1024], zFrames[1100], zPath[1400];
    int rc = SPTT_OK;
    float *wxyz = NULL;
    double *worldPose = NULL;
    char (*azTs)[32] = NULL;
    double *trajTs = NULL;
    sptt_buf traj = {0};
    synth_view v = { W_LOW, H_LOW, FX_LOW, FX_LOW, CX_LOW, CY_LOW };
    sptt_progress prog;
    (void)o;

    sptt_pathf(zDir, sizeof zDir, "%s/3dod/Training/%s", zRoot, s->zName);
    sptt_pathf(zFrames, sizeof zFrames, "%s/%s_frames", zDir, s->zName);
    sptt_pathf(zPath, sizeof zPath, "%s/lowres_wide", zFrames);
    if( (rc = sptt_mkdirs(zPath)) ) return rc;
    sptt_pathf(zPath, sizeof zPath, "%s/lowres_wide_intrinsics", zFrames);
    if( (rc = sptt_mkdirs(zPath)) ) return rc;

    wxyz = sptt_malloc(sptt_mul_size(s->mesh.nVerts, 12));
    worldPose = sptt_malloc(sizeof(double) * 16 * (size_t)s->nFrames);
    azTs = sptt_malloc(sizeof(*azTs) * (size_t)s->nFrames);
    trajTs = sptt_malloc(sizeof(double) * (size_t)s->nFrames);
    if( !wxyz || !worldPose || !azTs || !trajTs ){ rc = SPTT_ENOMEM; goto done; }
    for(uint32_t i = 0; i < s->mesh.nVerts; i++){
        double p[3] = { s->mesh.xyz[3 * i], s->mesh.xyz[3 * i + 1], s->mesh.xyz[3 * i + 2] }, q[3];
        sptt_xform_point(s->world, p, q);
        wxyz[3 * i] = (float)q[0];
        wxyz[3 * i + 1] = (float)q[1];
        wxyz[3 * i + 2] = (float)q[2];
    }
    sptt_pathf(zPath, sizeof zPath, "%s/%s_3dod_mesh.ply", zDir, s->zName);
    rc = sptt_ply_write(zPath, NULL, s->mesh.nVerts, wxyz, s->mesh.rgb, 0, s->mesh.nFaces, s->mesh.faces);
    if( rc ) goto done;
    sptt_pathf(zPath, sizeof zPath, "%s/%s_3dod_annotation.json", zDir, s->zName);
    rc = write_annotation(s, rng, zPath);
    if( rc ) goto done;

    /* Timestamps: the trajectory keeps sub-millisecond digits; frame names have three decimals
    ** and, for a few frames, land one millisecond off the pose's rounded time, as real captures
    ** do (the official loader tries ts, ts - 0.001 and ts + 0.001). */
    {
        double t0 = 1000.0 + (double)sptt_rng_below(rng, 8000000) / 1000.0;
        for(int f = 0; f < s->nFrames; f++){
            double base = t0 + (double)llround(s->times[f] * 1000.0) / 1000.0;
            int shift = sptt_rng_unit(rng) < 0.1 ? (sptt_rng_unit(rng) < 0.5 ? -1 : 1) : 0;
            double frac = shift ? 0.0 : (double)sptt_rng_below(rng, 40) * 1e-5;
            trajTs[f] = base + frac;
            snprintf(azTs[f], sizeof azTs[f], "%.3f", base + 0.001 * shift);
            sptt_mul4(s->world, s->c2w + 16 * f, worldPose + 16 * f);
        }
    }
    for(int f = 0; f < s->nFrames; f++){
        const double *P = worldPose + 16 * f;
        double w2c[16], R[9], w[3];
        sptt_rigid_inverse(P, w2c);
        for(int r = 0; r < 3; r++)
            for(int c = 0; c < 3; c++) R[3 * r + c] = w2c[4 * r + c];
        sptt_matrix_to_axis_angle(R, w);
        sptt_buf_printf(&traj, "%.8f %.17g %.17g %.17g %.9g %.9g %.9g\n", trajTs[f], w[0], w[1], w[2], w2c[3], w2c[7], w2c[11]);
    }
    sptt_pathf(zPath, sizeof zPath, "%s/lowres_wide.traj", zFrames);
    if( traj.rc ){ rc = traj.rc; goto done; }
    rc = sptt_write_file(zPath, traj.p, traj.n);
    if( rc ) goto done;

    sptt_progress_start(&prog, s->zName, (uint64_t)s->nFrames);
    {
        int failed = SPTT_OK;
        char zErr[512] = "";
        #pragma omp parallel for schedule(dynamic, 1)
        for(int f = 0; f < s->nFrames; f++){
            uint8_t *rgb = NULL;
            char zP[1500];
            int r2 = SPTT_OK;
            #pragma omp atomic read
            r2 = failed;
            if( r2 ) continue;
            rgb = malloc((size_t)W_LOW * H_LOW * 3);
            if( rgb==NULL ) r2 = SPTT_ENOMEM;
            if( r2==SPTT_OK ) r2 = synth_render(s, s->c2w + 16 * f, &v, rgb, NULL);
            if( r2==SPTT_OK ){
                sptt_pathf(zP, sizeof zP, "%s/lowres_wide/%s_%s.png", zFrames, s->zName, azTs[f]);
                r2 = sptt_png_write(zP, rgb, W_LOW, H_LOW, 3, 8);
            }
            if( r2==SPTT_OK ){
                char zLine[160];
                snprintf(zLine, sizeof zLine, "%d %d %g %g %g %g\n", W_LOW, H_LOW, FX_LOW, FX_LOW, CX_LOW, CY_LOW);
                sptt_pathf(zP, sizeof zP, "%s/lowres_wide_intrinsics/%s_%s.pincam", zFrames, s->zName, azTs[f]);
                r2 = sptt_write_file(zP, zLine, strlen(zLine));
            }
            free(rgb);
            if( r2 ){
                /* Messages are per thread: carry the first one back to the caller's thread. */
                #pragma omp critical
                {
                    if( failed==SPTT_OK ){
                        failed = r2;
                        snprintf(zErr, sizeof zErr, "%s", sptt_errmsg());
                    }
                }
            }
        }
        rc = failed ? sptt_fail(failed, "%s", zErr) : SPTT_OK;
    }
    sptt_progress_step(&prog, (uint64_t)s->nFrames);
    sptt_progress_end(&prog);
    if( rc ) goto done;

    /* Ground truth in the world frame, each frame named by its file timestamp. */
    {
        const char **az = sptt_malloc(sizeof(char *) * (size_t)s->nFrames);
        if( az==NULL ){ rc = SPTT_ENOMEM; goto done; }
        for(int f = 0; f < s->nFrames; f++) az[f] = azTs[f];
        sptt_pathf(zPath, sizeof zPath, "%s/ground_truth.json", zDir);
        rc = synth_write_truth(s, zPath, "world: the mesh file's own frame", s->world, trajTs, az);
        free(az);
    }

done:
    sptt_buf_free(&traj);
    free(wxyz);
    free(worldPose);
    free(azTs);
    free(trajTs);
    return rc;
}
