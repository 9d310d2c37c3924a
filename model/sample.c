/*
** Training sequences: layout of one video plus text, supervision targets and 3D positions.
*/
#include "sptt_model.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void sptt_sample_grid(const sptt_config *cfg, const sptt_sample *s, int grid[3])
{
    grid[0] = s->n_frames / cfg->temporal_patch;
    grid[1] = cfg->frame_h / cfg->patch;
    grid[2] = cfg->frame_w / cfg->patch;
}

int sptt_sample_build(const sptt_config *cfg, const int32_t *aPrompt, int nPrompt,
                      const int32_t *aAnswer, int nAnswer, int n_frames, const float *pixels,
                      sptt_sample *s)
{
    memset(s, 0, sizeof *s);
    if( n_frames < 0 || n_frames % cfg->temporal_patch ){
        return sptt_fail(SPTT_EINVAL, "sample: %d frames; an even number is needed", n_frames);
    }
    if( nPrompt < 0 || nAnswer < 0 ) return sptt_fail(SPTT_EINVAL, "sample: negative text length");
    int gt = n_frames / cfg->temporal_patch;
    int hw = (cfg->frame_h / cfg->patch) * (cfg->frame_w / cfg->patch);
    long T = 1 + (long)gt * (hw + 2) + nPrompt + 1 + nAnswer + 1;
    if( T > (1L << 26) ) return sptt_fail(SPTT_EINVAL, "sample: %ld tokens is too long", T);
    size_t nPix = (size_t)n_frames * cfg->frame_h * cfg->frame_w * 3;
    s->tokens = sptt_malloc(sizeof(int32_t) * (size_t)T);
    s->targets = sptt_malloc(sizeof(int32_t) * (size_t)T);
    s->pixels = nPix ? sptt_calloc(nPix, sizeof(float)) : NULL;
    if( !s->tokens || !s->targets || (nPix && !s->pixels) ){
        sptt_sample_free(s);
        return SPTT_ENOMEM;
    }
    int i = 0;
    s->tokens[i++] = SPTT_TOK_BOS;
    for(int t = 0; t < gt; t++){
        s->tokens[i++] = SPTT_TOK_VIDEO_START;
        for(int k = 0; k < hw; k++) s->tokens[i++] = SPTT_TOK_PATCH;
        s->tokens[i++] = SPTT_TOK_VIDEO_END;
    }
    for(int k = 0; k < nPrompt; k++) s->tokens[i++] = aPrompt[k];
    int iAnswer = i;
    s->tokens[i++] = SPTT_TOK_ANSWER;
    for(int k = 0; k < nAnswer; k++) s->tokens[i++] = aAnswer[k];
    s->tokens[i++] = SPTT_TOK_EOS;
    assert(i == T);
    /* the answer marker's position predicts the first answer token, ... the last predicts EOS */
    for(int k = 0; k < T; k++) s->targets[k] = -1;
    for(int k = iAnswer; k < T - 1; k++) s->targets[k] = s->tokens[k + 1];
    if( pixels && nPix ) memcpy(s->pixels, pixels, nPix * sizeof(float));
    s->n_tokens = (int)T;
    s->n_frames = n_frames;
    return SPTT_OK;
}

void sptt_sample_free(sptt_sample *s)
{
    free(s->tokens);
    free(s->targets);
    free(s->pixels);
    memset(s, 0, sizeof *s);
}

int sptt_sample_positions(const sptt_config *cfg, const sptt_sample *s, int32_t *aPos, int32_t *aVid)
{
    int grid[3];
    sptt_sample_grid(cfg, s, grid);
    long nVideo = (long)grid[0] * grid[1] * grid[2];
    long nPatch = 0;
    for(int i = 0; i < s->n_tokens; i++) nPatch += s->tokens[i] == SPTT_TOK_PATCH;
    if( nPatch != nVideo ){
        return sptt_fail(SPTT_EFORMAT, "sample: %ld patch tokens but the %d frames give a %dx%dx%d grid",
                         nPatch, s->n_frames, grid[0], grid[1], grid[2]);
    }
    int hw = grid[1] * grid[2];
    int32_t c = 0;          /* running position counter */
    long v = 0;             /* next video token in (t, h, w) order */
    for(int i = 0; i < s->n_tokens; ){
        if( s->tokens[i] != SPTT_TOK_PATCH ){
            aPos[3 * i] = aPos[3 * i + 1] = aPos[3 * i + 2] = c++;
            i++;
            continue;
        }
        int t0 = (int)(v / hw);
        int32_t top = 0;
        for(; i < s->n_tokens && s->tokens[i] == SPTT_TOK_PATCH; i++, v++){
            int32_t tt = (int32_t)(v / hw) - t0;
            int32_t hh = (int32_t)((v % hw) / grid[2]);
            int32_t ww = (int32_t)(v % grid[2]);
            aPos[3 * i] = c + tt;
            aPos[3 * i + 1] = c + hh;
            aPos[3 * i + 2] = c + ww;
            if( tt > top ) top = tt;
            if( hh > top ) top = hh;
            if( ww > top ) top = ww;
            if( aVid ) aVid[v] = i;
        }
        c += top + 1;
    }
    return SPTT_OK;
}
