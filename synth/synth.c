/*
** sptt-synth driver: builds each scene from its own random stream, writes it in the requested
** dataset formats, and writes ground_truth.json beside it (synth_truth.c).
**
** Scene i of a format draws from a stream forked off the seed by (format, i), so scene 3 is the
** same whether 4 or 40 scenes are generated.
*/
#include "synth.h"
#include "sptt_math.h"

#include <string.h>

static int write_label_table(const char *zRoot)
{
    char zPath[1024];
    sptt_buf b = {0};
    int n, rc;
    const char *const *az = synth_tsv_rows(&n);
    /* The public copy of the table has CRLF line endings; so does ours. */
    sptt_buf_printf(&b, "%s\r\n", synth_tsv_header());
    for(int i = 0; i < n; i++) sptt_buf_printf(&b, "%s\r\n", az[i]);
    sptt_pathf(zPath, sizeof zPath, "%s/scannetv2-labels.combined.tsv", zRoot);
    rc = b.rc ? b.rc : sptt_write_file(zPath, b.p, b.n);
    sptt_buf_free(&b);
    return rc;
}

static void summary(const synth_scene *s, const char *zWhere)
{
    int nObj = 0, nCat = 0, nInvalid = 0;
    const char *seen[128];
    for(int i = 0; i < s->nObjs; i++){
        int dup = 0;
        if( s->objs[i].cat==NULL ) continue;
        nObj++;
        for(int k = 0; k < nCat; k++) if( strcmp(seen[k], s->objs[i].cat->zName)==0 ) dup = 1;
        if( !dup && nCat < 128 ) seen[nCat++] = s->objs[i].cat->zName;
    }
    for(int f = 0; f < s->nFrames; f++) nInvalid += s->invalid[f];
    printf("%s %s: %u vertices, %u faces, %d objects in %d categories, %d frames", zWhere, s->zName, s->mesh.nVerts,
           s->mesh.nFaces, nObj, nCat, s->nFrames);
    if( !s->isArkit ) printf(" (%d without pose)", nInvalid);
    printf(", %s %.1f m2 x %.2f m%s\n", s->kind==0 ? "rectangle" : s->kind==1 ? "L-shaped room" : "two rooms", s->area,
           s->height, s->isArkit && s->skyIndex ? ", device rotated" : "");
}

int sptt_synth_run(const sptt_synth_opts *o)
{
    int rc = SPTT_OK;
    sptt_rng base;
    char zRoot[1024], zPath[1400];
    sptt_progress prog;
    int nFormats = !!(o->formats & SPTT_SYNTH_SCANNET) + !!(o->formats & SPTT_SYNTH_ARKIT);

    sptt_rng_seed(&base, o->seed);
    sptt_progress_start(&prog, "synthetic scenes", (uint64_t)(o->nScenes * nFormats));
    for(int fmt = 0; fmt < 2 && rc==SPTT_OK; fmt++){
        int isArkit = fmt==1;
        if( !(o->formats & (isArkit ? SPTT_SYNTH_ARKIT : SPTT_SYNTH_SCANNET)) ) continue;
        sptt_pathf(zRoot, sizeof zRoot, "%s/%s", o->zOut, isArkit ? "arkitscenes" : "scannet");
        if( (rc = sptt_mkdirs(zRoot)) ) break;
        if( !isArkit && (rc = write_label_table(zRoot)) ) break;
        for(int i = 0; i < o->nScenes && rc==SPTT_OK; i++){
            synth_scene s;
            sptt_rng rng;
            sptt_rng_fork(&base, (uint64_t)(fmt * 1000003 + i), &rng);
            rc = synth_build_scene(&s, &rng, o, isArkit, i);
            if( rc==SPTT_OK && !isArkit ){
                double I[16];
                sptt_identity4(I);
                rc = synth_write_scannet(&s, o, zRoot);
                sptt_pathf(zPath, sizeof zPath, "%s/scans/%s/ground_truth.json", zRoot, s.zName);
                if( rc==SPTT_OK ) rc = synth_write_truth(&s, zPath, "axis-aligned: raw mesh points mapped by axisAlignment", I, NULL, NULL);
            }else if( rc==SPTT_OK ){
                rc = synth_write_arkit(&s, o, &rng, zRoot);
            }
            if( rc==SPTT_OK && !o->quiet ){
                sptt_progress_end(&prog);
                summary(&s, isArkit ? "arkitscenes" : "scannet");
            }
            if( rc ) sptt_fail_prefix(rc, "scene %d: ", i);
            synth_free_scene(&s);
            sptt_progress_step(&prog, 1);
        }
    }
    sptt_progress_end(&prog);
    return rc;
}
