/*
** Model configuration: defaults, validation and the JSON form stored in dumps and checkpoints.
*/
#include "sptt_model.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sptt_config_default(sptt_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->vocab_size = 4096;
    cfg->hidden = 256;
    cfg->n_layer = 8;
    cfg->n_head = 4;
    cfg->n_kv_head = 2;
    cfg->head_dim = 64;
    cfg->ffn = 768;
    cfg->ttt_heads = 4;
    cfg->ttt_rope_dim = 64;
    cfg->chunk = 256;
    cfg->window = 256;
    cfg->anchor_every = 4;
    cfg->frame_w = 64;
    cfg->frame_h = 64;
    cfg->patch = 8;           /* 8x8 = 64 tokens a group: a 256-token chunk spans 4 groups */
    cfg->temporal_patch = 2;
    cfg->rope_sections[0] = 12;  /* the reference's 24:20:20 split of the pairs */
    cfg->rope_sections[1] = 10;
    cfg->rope_sections[2] = 10;
    cfg->rope_theta = 10000.0f;
    cfg->norm_eps = 1e-6f;
    cfg->ttt_base_lr = 1e-3f;
    cfg->use_muon = 1;
    cfg->prenorm = 1;
    cfg->use_momentum = 1;
    cfg->use_conv = 1;
    cfg->use_ttt = 1;
    cfg->all_full = 0;
    cfg->tie_embeddings = 0;
}

void sptt_config_tiny(sptt_config *cfg)
{
    sptt_config_default(cfg);
    cfg->vocab_size = 300;
    cfg->hidden = 32;
    cfg->n_layer = 4;
    cfg->n_head = 4;
    cfg->n_kv_head = 2;
    cfg->head_dim = 8;
    cfg->ffn = 48;
    cfg->ttt_heads = 4;
    cfg->ttt_rope_dim = 4;    /* narrower than head_dim: exercises the partial-width rule */
    cfg->chunk = 8;
    cfg->window = 10;
    cfg->anchor_every = 2;    /* layers: ttt, full, ttt, full */
    cfg->frame_w = 8;
    cfg->frame_h = 8;
    cfg->patch = 4;
    cfg->rope_sections[0] = 2;
    cfg->rope_sections[1] = 1;
    cfg->rope_sections[2] = 1;
}

int sptt_ttt_dim(const sptt_config *cfg) { return cfg->hidden / cfg->ttt_heads; }
int sptt_kv_dim(const sptt_config *cfg) { return cfg->n_kv_head * cfg->head_dim; }

int sptt_layer_kind(const sptt_config *cfg, int layer)
{
    if( cfg->all_full ) return SPTT_LAYER_FULL;
    if( cfg->anchor_every > 0 && layer % cfg->anchor_every == cfg->anchor_every - 1 ) return SPTT_LAYER_FULL;
    return cfg->use_ttt ? SPTT_LAYER_TTT : SPTT_LAYER_SWA;
}

#define CHECK(cond, ...) do { if( !(cond) ) return sptt_fail(SPTT_EINVAL, "config: " __VA_ARGS__); } while(0)

int sptt_config_validate(const sptt_config *c)
{
    CHECK(c->vocab_size >= SPTT_TOK_BASE && c->vocab_size <= (1 << 24),
          "vocab_size: %d must be in [%d, 16777216]", c->vocab_size, SPTT_TOK_BASE);
    CHECK(c->hidden > 0 && c->hidden <= 65536, "hidden: %d out of range", c->hidden);
    CHECK(c->n_layer > 0 && c->n_layer <= SPTT_MAX_LAYERS, "n_layer: %d out of range", c->n_layer);
    CHECK(c->n_head > 0 && c->head_dim > 0 && c->n_head * c->head_dim == c->hidden,
          "n_head*head_dim: %d*%d must equal hidden %d", c->n_head, c->head_dim, c->hidden);
    CHECK(c->head_dim % 2 == 0, "head_dim: %d must be even", c->head_dim);
    CHECK(c->n_kv_head > 0 && c->n_head % c->n_kv_head == 0,
          "n_kv_head: %d must divide n_head %d", c->n_kv_head, c->n_head);
    CHECK(c->ffn > 0 && c->ffn <= (1 << 20), "ffn: %d out of range", c->ffn);
    CHECK(c->ttt_heads > 0 && c->hidden % c->ttt_heads == 0,
          "ttt_heads: %d must divide hidden %d", c->ttt_heads, c->hidden);
    int d = c->hidden / c->ttt_heads;
    CHECK(c->ttt_rope_dim >= 0 && c->ttt_rope_dim % 2 == 0 && c->ttt_rope_dim <= d &&
          c->ttt_rope_dim <= c->head_dim,
          "ttt_rope_dim: %d must be even and at most the fast width %d and head_dim %d",
          c->ttt_rope_dim, d, c->head_dim);
    CHECK(c->chunk > 0, "chunk: %d must be positive", c->chunk);
    CHECK(c->window >= c->chunk, "window: %d must be at least chunk %d so every token sees its chunk prefix",
          c->window, c->chunk);
    CHECK(c->anchor_every >= 0, "anchor_every: %d must not be negative", c->anchor_every);
    CHECK(c->patch > 0 && c->frame_w > 0 && c->frame_h > 0 &&
          c->frame_w % c->patch == 0 && c->frame_h % c->patch == 0,
          "frame_w/frame_h: %dx%d must be positive multiples of patch %d", c->frame_w, c->frame_h, c->patch);
    CHECK(c->temporal_patch == 2, "temporal_patch: %d; only 2 is supported", c->temporal_patch);
    CHECK(c->rope_sections[0] >= 0 && c->rope_sections[1] >= 0 && c->rope_sections[2] >= 0 &&
          c->rope_sections[0] + c->rope_sections[1] + c->rope_sections[2] == c->head_dim / 2,
          "rope_sections: %d+%d+%d must equal head_dim/2 = %d",
          c->rope_sections[0], c->rope_sections[1], c->rope_sections[2], c->head_dim / 2);
    CHECK(isfinite(c->rope_theta) && c->rope_theta > 1.0f, "rope_theta: must be > 1");
    CHECK(isfinite(c->norm_eps) && c->norm_eps > 0.0f, "norm_eps: must be > 0");
    CHECK(isfinite(c->ttt_base_lr) && c->ttt_base_lr > 0.0f, "ttt_base_lr: must be > 0");
    const int *sw[] = { &c->use_muon, &c->prenorm, &c->use_momentum, &c->use_conv, &c->use_ttt,
                        &c->all_full, &c->tie_embeddings };
    for(size_t i = 0; i < sizeof sw / sizeof sw[0]; i++) CHECK(*sw[i] == 0 || *sw[i] == 1, "switches must be 0 or 1");
    return SPTT_OK;
}

/* One table drives both directions of the JSON form, so a new field cannot be forgotten in one. */
typedef struct field { const char *zName; size_t off; int isFloat; } field;
#define FI(n) { #n, offsetof(sptt_config, n), 0 }
#define FF(n) { #n, offsetof(sptt_config, n), 1 }
static const field aField[] = {
    FI(vocab_size), FI(hidden), FI(n_layer), FI(n_head), FI(n_kv_head), FI(head_dim), FI(ffn),
    FI(ttt_heads), FI(ttt_rope_dim), FI(chunk), FI(window), FI(anchor_every), FI(frame_w),
    FI(frame_h), FI(patch), FI(temporal_patch), FF(rope_theta), FF(norm_eps), FF(ttt_base_lr),
    FI(use_muon), FI(prenorm), FI(use_momentum), FI(use_conv), FI(use_ttt), FI(all_full),
    FI(tie_embeddings),
};

char *sptt_config_to_json(const sptt_config *cfg)
{
    json_t *o = json_object();
    if( !o ) return NULL;
    for(size_t i = 0; i < sizeof aField / sizeof aField[0]; i++){
        const char *p = (const char *)cfg + aField[i].off;
        json_t *v = aField[i].isFloat ? json_real(*(const float *)p) : json_integer(*(const int *)p);
        json_object_set_new(o, aField[i].zName, v);
    }
    json_t *a = json_array();
    for(int k = 0; k < 3; k++) json_array_append_new(a, json_integer(cfg->rope_sections[k]));
    json_object_set_new(o, "rope_sections", a);
    char *z = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    if( !z ) sptt_fail(SPTT_ENOMEM, "config: cannot format JSON");
    return z;
}

int sptt_config_from_json(const char *zJson, sptt_config *cfg)
{
    int rc = SPTT_OK;
    json_error_t err;
    sptt_config c;
    sptt_config_default(&c);
    json_t *o = json_loads(zJson, 0, &err);
    if( !o ) return sptt_fail(SPTT_EFORMAT, "config: line %d: %s", err.line, err.text);
    if( !json_is_object(o) ){
        rc = sptt_fail(SPTT_EFORMAT, "config: top level must be an object");
        goto done;
    }
    const char *zKey;
    json_t *v;
    json_object_foreach(o, zKey, v){
        if( strcmp(zKey, "rope_sections") == 0 ){
            if( !json_is_array(v) || json_array_size(v) != 3 ){
                rc = sptt_fail(SPTT_EFORMAT, "config: rope_sections: expected an array of 3 integers");
                goto done;
            }
            for(int k = 0; k < 3; k++){
                json_t *e = json_array_get(v, k);
                if( !json_is_integer(e) ){
                    rc = sptt_fail(SPTT_EFORMAT, "config: rope_sections: expected integers");
                    goto done;
                }
                c.rope_sections[k] = (int)json_integer_value(e);
            }
            continue;
        }
        size_t i;
        for(i = 0; i < sizeof aField / sizeof aField[0]; i++) if( strcmp(zKey, aField[i].zName) == 0 ) break;
        if( i == sizeof aField / sizeof aField[0] ){
            rc = sptt_fail(SPTT_EFORMAT, "config: %s: unknown field", zKey);
            goto done;
        }
        char *p = (char *)&c + aField[i].off;
        if( aField[i].isFloat ){
            if( !json_is_number(v) ){
                rc = sptt_fail(SPTT_EFORMAT, "config: %s: expected a number", zKey);
                goto done;
            }
            *(float *)p = (float)json_number_value(v);
        }else{
            if( !json_is_integer(v) || json_integer_value(v) < -2147483647 || json_integer_value(v) > 2147483647 ){
                rc = sptt_fail(SPTT_EFORMAT, "config: %s: expected an integer", zKey);
                goto done;
            }
            *(int *)p = (int)json_integer_value(v);
        }
    }
    rc = sptt_config_validate(&c);
    if( rc == SPTT_OK ) *cfg = c;
done:
    json_decref(o);
    return rc;
}
