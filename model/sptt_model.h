/*
** Spatial-TTT model: the public face of model/.
**
** The model is a decoder-only transformer whose attention layers come in three kinds:
**   full   causal attention over the whole sequence (the "anchor" layers, every 4th by default);
**   swa    causal sliding-window attention (a TTT layer with test-time training switched off);
**   ttt    the sliding-window branch plus a large-chunk test-time-training branch (SwiGLU fast
**          weights, per-token learning rates, momentum, Newton-Schulz, row-norm), summed in front
**          of the output projection, as in LaCT / Spatial-TTT.
** The equations and shapes follow the public Spatial-TTT and LaCT code; the backward is derived by
** hand and checked against finite differences in double precision (tests/unit/test_model_*.c).
** The decisions where the reference code is silent are listed in schemas/step_dump.md.
**
** Dimension legend used in the comments: T tokens, C hidden, V vocabulary, F feed-forward width,
** NH attention heads, KV key/value heads, D head dim, H fast (TTT) heads, d fast head width.
**
** Everything is fp32 and batch 1: a batch of several sequences is several forward/backward calls
** that accumulate into the same gradient buffer (the backward takes the loss weight).
*/
#ifndef SPTT_MODEL_H
#define SPTT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "sptt_common.h"

/* ---------------------------------------------------------------------------------------------
** Configuration (saved with every checkpoint and every step dump, as JSON).
*/
typedef struct sptt_config {
    int vocab_size;       /* rows of the token embedding and the LM head, e.g. 4096 */
    int hidden;           /* C, e.g. 256 */
    int n_layer;          /* e.g. 8 */
    int n_head;           /* attention query heads; n_head*head_dim == hidden */
    int n_kv_head;        /* key/value heads (GQA); divides n_head */
    int head_dim;         /* D, e.g. 64 */
    int ffn;              /* SwiGLU inner width F, e.g. 768 */
    int ttt_heads;        /* H fast heads, default 4; fast width d = hidden / ttt_heads */
    int ttt_rope_dim;     /* rotated dims at the start of each fast head, <= d and <= head_dim */
    int chunk;            /* TTT chunk in tokens */
    int window;           /* sliding window: each query sees this many keys, itself included */
    int anchor_every;     /* layer i is full attention when i % anchor_every == anchor_every-1 (0: none) */
    int frame_w;          /* frame size in pixels; multiples of patch */
    int frame_h;
    int patch;            /* P: one visual token per P x P patch over temporal_patch frames */
    int temporal_patch;   /* 2, fixed */
    int rope_sections[3]; /* frequency pairs given to t, h, w; sum == head_dim/2 */
    float rope_theta;     /* e.g. 10000 */
    float norm_eps;       /* RMSNorm epsilon, 1e-6 */
    float ttt_base_lr;    /* softplus(inv_softplus(base)) is the learning rate at a zero projection */
    int use_muon;         /* Newton-Schulz on the momentum before the update */
    int prenorm;          /* 1: row-norm of an un-normalised accumulator (training default); 0: post-norm */
    int use_momentum;
    int use_conv;         /* depthwise 3x3x3 conv on the video tokens of the TTT q, k, v */
    int use_ttt;          /* 0: the non-anchor layers are pure sliding-window attention */
    int all_full;         /* 1: every layer is full attention (the baseline) */
    int tie_embeddings;   /* LM head shares the token embedding */
} sptt_config;

#define SPTT_MAX_LAYERS 256

/* Defaults: the "small" research model (hidden 256, 8 layers). */
void sptt_config_default(sptt_config *cfg);
/* The tiny configuration the unit tests and the default step dump use. */
void sptt_config_tiny(sptt_config *cfg);
/* Checks every constraint; the message names the offending field. */
int sptt_config_validate(const sptt_config *cfg);
/* JSON text with every field (caller frees); and the reverse, which starts from the defaults,
** rejects unknown keys and validates. */
char *sptt_config_to_json(const sptt_config *cfg);
int sptt_config_from_json(const char *zJson, sptt_config *cfg);

/* Layer kinds, from the configuration. */
#define SPTT_LAYER_FULL 0
#define SPTT_LAYER_SWA  1
#define SPTT_LAYER_TTT  2
int sptt_layer_kind(const sptt_config *cfg, int layer);
int sptt_ttt_dim(const sptt_config *cfg);   /* d = hidden / ttt_heads */
int sptt_kv_dim(const sptt_config *cfg);    /* n_kv_head * head_dim */

/* ---------------------------------------------------------------------------------------------
** Tokens.
**
** Ids 0..6 are special; 7..262 are the 256 bytes; 263.. are learned byte-pair merges. A visual
** token is written as SPTT_TOK_PATCH in the id sequence and takes its embedding from the patch
** embedding of the next video token in (t, h, w) order.
*/
#define SPTT_TOK_PAD         0
#define SPTT_TOK_BOS         1
#define SPTT_TOK_EOS         2   /* end of the answer */
#define SPTT_TOK_VIDEO_START 3
#define SPTT_TOK_VIDEO_END   4
#define SPTT_TOK_ANSWER      5   /* the answer boundary: what follows is supervised */
#define SPTT_TOK_PATCH       6
#define SPTT_N_SPECIAL       7
#define SPTT_TOK_BYTE0       SPTT_N_SPECIAL
#define SPTT_TOK_BASE        (SPTT_N_SPECIAL + 256)

typedef struct sptt_tokenizer sptt_tokenizer;

/* Learns byte-pair merges from n texts until the vocabulary has vocab_size ids or no pair occurs
** twice. Deterministic: ties go to the smallest pair of ids. */
int sptt_tokenizer_fit(const char *const *azText, const size_t *anLen, int n, int vocab_size,
                       sptt_tokenizer **ppTok);
/* The same on one plain-text file (read whole; lines are not special). */
int sptt_tokenizer_fit_file(const char *zPath, int vocab_size, sptt_tokenizer **ppTok);
/* A tokenizer from its merge list (n pairs of ids), as stored in a checkpoint or a dump. */
int sptt_tokenizer_from_merges(const int32_t *aMerge, int nMerge, sptt_tokenizer **ppTok);
void sptt_tokenizer_free(sptt_tokenizer *tok);
int sptt_tokenizer_vocab(const sptt_tokenizer *tok);
const int32_t *sptt_tokenizer_merges(const sptt_tokenizer *tok, int *pnMerge);
/* Encodes text; *pnOut ids are written to a malloc'd array the caller frees. */
int sptt_tokenizer_encode(const sptt_tokenizer *tok, const char *zText, size_t nText,
                          int32_t **paOut, int *pnOut);
/* Decodes ids to a NUL-terminated malloc'd string; specials print as <|name|>. */
char *sptt_tokenizer_decode(const sptt_tokenizer *tok, const int32_t *aId, int n);
/* File form: "SPTTBPE1" magic, u32 merge count, then the pairs as i32, all little-endian. */
int sptt_tokenizer_save(const sptt_tokenizer *tok, const char *zPath);
int sptt_tokenizer_load(const char *zPath, sptt_tokenizer **ppTok);

/* ---------------------------------------------------------------------------------------------
** One training sequence: one video (n_frames frames, grouped in pairs) followed by text.
*/
typedef struct sptt_sample {
    int n_tokens;       /* T */
    int32_t *tokens;    /* (T) ids; SPTT_TOK_PATCH for visual tokens */
    int32_t *targets;   /* (T) the id position i must predict (token i+1), or -1 for no loss */
    int n_frames;       /* even; 0 for text only */
    float *pixels;      /* (n_frames, frame_h, frame_w, 3), values as the caller normalised them */
} sptt_sample;

/*
** Builds the sequence  BOS, per group t: VIDEO_START, Hg*Wg patches, VIDEO_END;  prompt, ANSWER,
** answer, EOS  and sets targets on the answer and the EOS. pixels may be NULL (zeros). The sample
** owns copies of everything; free with sptt_sample_free.
*/
int sptt_sample_build(const sptt_config *cfg, const int32_t *aPrompt, int nPrompt,
                      const int32_t *aAnswer, int nAnswer, int n_frames, const float *pixels,
                      sptt_sample *s);
void sptt_sample_free(sptt_sample *s);
/* Video grid of a sample: t groups, h x w patches. */
void sptt_sample_grid(const sptt_config *cfg, const sptt_sample *s, int grid[3]);
/*
** 3D rotary positions (T, 3) and the sequence index of each video token in (t, h, w) order.
** Text tokens take (c, c, c) from a running counter; a run of video tokens takes
** (c+t', c+h, c+w) with t' counted from the run's first group; the counter then continues from
** the run's largest position + 1. Fails when the patch count does not match the grid.
*/
int sptt_sample_positions(const sptt_config *cfg, const sptt_sample *s, int32_t *aPos, int32_t *aVid);

/* ---------------------------------------------------------------------------------------------
** The model (fp32).
*/
typedef struct sptt_model sptt_model;

typedef struct sptt_tensor_info {
    const char *zName;   /* e.g. "layers.2.ttt.w0" */
    int ndim;
    int shape[4];
    size_t offset;       /* in floats, into the parameter (and gradient) buffer */
    size_t numel;
} sptt_tensor_info;

/* Timing buckets (seconds, forward + backward, accumulated until reset). */
#define SPTT_T_EMBED   0   /* token and patch embedding */
#define SPTT_T_PROJ    1   /* q, k, v, o projections, their norms and rotary */
#define SPTT_T_FULL    2   /* causal full attention core */
#define SPTT_T_WINDOW  3   /* sliding-window attention core (swa layers and the ttt layers' branch) */
#define SPTT_T_TTT     4   /* the test-time-training branch */
#define SPTT_T_FFN     5   /* norms and SwiGLU feed-forward */
#define SPTT_T_HEAD    6   /* final norm, LM head, cross-entropy */
#define SPTT_T_COUNT   7

typedef struct sptt_stats {
    double seconds[SPTT_T_COUNT];
    double layer_seconds[3];   /* whole blocks by layer kind (SPTT_LAYER_*) */
    double flops[SPTT_T_COUNT];/* model FLOPs (matmuls, forward + backward, no recompute) */
} sptt_stats;

/* Parameters are initialised from the seed as the reference does (see schemas/step_dump.md). */
int sptt_model_create(const sptt_config *cfg, uint64_t seed, sptt_model **ppModel);
void sptt_model_free(sptt_model *m);
const sptt_config *sptt_model_config(const sptt_model *m);

int sptt_model_n_tensors(const sptt_model *m);
const sptt_tensor_info *sptt_model_tensor(const sptt_model *m, int i);
/* Index of a named tensor, or -1. */
int sptt_model_find(const sptt_model *m, const char *zName);
float *sptt_model_params(sptt_model *m, size_t *pn);
float *sptt_model_grads(sptt_model *m, size_t *pn);
void sptt_model_zero_grad(sptt_model *m);

#define SPTT_FWD_ALL_LOGITS 1   /* logits for every position, not only the supervised ones */

/*
** Forward over one sample, keeping what the backward needs. *pLoss is the mean cross-entropy over
** the supervised positions (0 when there are none) and *pnLabelled their count (either may be NULL).
*/
int sptt_model_forward(sptt_model *m, const sptt_sample *s, int flags, float *pLoss, int *pnLabelled);
/*
** Backward of the last forward: adds to the gradients d(sum of supervised CE)*weight, so weight =
** 1/n_labelled gives the gradient of the mean; over a batch use 1/(labelled tokens of the batch).
*/
int sptt_model_backward(sptt_model *m, float weight);
/* Logits of the last forward, (T, V); rows never computed are zero. */
const float *sptt_model_logits(const sptt_model *m, int *pnTokens);

/*
** Data parallelism: xHook(pCtx, layer) is called during the backward as soon as block `layer`'s
** gradients are complete (blocks finish from the last to the first; the embedding and the head
** are complete when the backward returns), so their sum across ranks can start early. Each
** block's parameters are one contiguous range of the buffer (sptt_model_layer_params).
*/
void sptt_model_set_backward_hook(sptt_model *m, void (*xHook)(void *pCtx, int layer), void *pCtx);
int sptt_model_layer_params(const sptt_model *m, int layer, size_t *pOffset, size_t *pN);

/* Compute threads of this process (OpenMP's; the products' tiles run on them too, the BLAS
** itself single-threaded, so the two never oversubscribe the cores). n < 1 leaves it as it is. */
void sptt_model_set_threads(int n);
int sptt_model_threads(void);
const sptt_stats *sptt_model_stats(const sptt_model *m);
void sptt_model_reset_stats(sptt_model *m);

/* ---------------------------------------------------------------------------------------------
** Step dump (schemas/step_dump.md): one forward and backward over a batch, written as a
** safetensors file with the config, parameters, inputs, logits, loss and every gradient.
*/
int sptt_step_dump(sptt_model *m, const sptt_sample *aBatch, int nBatch,
                   const sptt_tokenizer *tok, const char *zPath, float *pLoss);
/* The same step where the model's pass runs elsewhere (the CUDA model): m gives the configuration,
** the tensor table and the parameters written; p runs the pass on the same parameter values. */
typedef struct sptt_step_pass {
    void *pCtx;
    int (*xZeroGrad)(void *pCtx);
    int (*xForward)(void *pCtx, const sptt_sample *s, float *pLoss, int *pnLabelled);   /* all logits */
    int (*xBackward)(void *pCtx, float weight);
    int (*xLogits)(void *pCtx, float *aOut);   /* (T, V) of the last forward */
    int (*xGrads)(void *pCtx, float *aOut);    /* laid out as the parameters */
} sptt_step_pass;
int sptt_step_dump_pass(sptt_model *m, const sptt_step_pass *p, const sptt_sample *aBatch, int nBatch,
                        const sptt_tokenizer *tok, const char *zPath, float *pLoss);
/* The same step run in double precision (the kernels' double instantiation) on m's float
** parameters: logits, loss and gradients are written as F64, with metadata precision "f64". */
int sptt_step_dump_f64(sptt_model *m, const sptt_sample *aBatch, int nBatch,
                       const sptt_tokenizer *tok, const char *zPath, double *pLoss);

#endif
