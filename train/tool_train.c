/*
** sptt-train: trains the Spatial-TTT model. This first version has the reference-dump mode only:
**   sptt-train --dump-step FILE [options]
** runs one forward and backward over a synthetic batch (seeded video frames plus tokenized
** question and answer) and writes config, parameters, inputs, logits, loss and gradients as
** described in schemas/step_dump.md.
*/
#include "sptt_model.h"

#include <stdlib.h>
#include <string.h>

static const char zUsage[] =
    "usage: sptt-train --dump-step FILE [options]\n"
    "\n"
    "One forward and backward pass of the Spatial-TTT model on a seeded synthetic batch, written\n"
    "as a safetensors file (schemas/step_dump.md) for comparison with other implementations.\n"
    "\n"
    "options:\n"
    "  --dump-step FILE   write the step dump to FILE\n"
    "  --config FILE      model configuration as JSON (fields of schemas/step_dump.md; missing\n"
    "                     fields take the defaults of the small model); default: the tiny model\n"
    "  --seed N           seed of the initialisation, perturbation and batch (default 1)\n"
    "  --batch N          sequences in the batch (default 1)\n"
    "  --frames N         video frames per sequence, even (default 4)\n"
    "  --perturb S        add N(0, S^2) noise to every parameter after the initialisation, so the\n"
    "                     zero-initialised gate opens and every gradient is informative (default 0.02;\n"
    "                     0 dumps the initial state)\n"
    "  --corpus FILE      fit the tokenizer on this plain-text file (default: a built-in sample)\n"
    "  --prompt TEXT      question text (default: a counting question)\n"
    "  --answer TEXT      answer text (default: \"3\")\n"
    "  --help             this text\n"
    "  --version          the toolkit version\n";

static const char *const azBuiltinCorpus[] = {
    "How many chairs are in the room? 3",
    "What is the distance between the table and the sofa in meters? 2.4",
    "Is the lamp to the left or to the right of the bed? left",
    "Which object is closer to the door, the chair or the table? the chair",
    "How big is the room in square meters? 18.5",
    "How many tables are there in the kitchen? 2",
};

int main(int argc, char **argv)
{
    const char *zProg = "sptt-train";
    const char *zDump = NULL, *zConfig = NULL, *zCorpus = NULL;
    const char *zPrompt = "How many chairs are in the room?", *zAnswer = "3";
    long seed = 1, nBatch = 1, nFrames = 4;
    double perturb = 0.02;
    int rc = SPTT_OK;
    sptt_config cfg;
    sptt_model *m = NULL;
    sptt_tokenizer *tok = NULL;
    sptt_sample *aBatch = NULL;
    int32_t *aPrompt = NULL, *aAnswer = NULL;
    float *pix = NULL;

    for(int i = 1; i < argc; i++){
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if( strcmp(a, "--help") == 0 ){ fputs(zUsage, stdout); return 0; }
        if( strcmp(a, "--version") == 0 ){ printf("sptt-train %s\n", SPTT_VERSION); return 0; }
        int takes = strcmp(a, "--dump-step") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--seed") == 0 ||
                    strcmp(a, "--batch") == 0 || strcmp(a, "--frames") == 0 || strcmp(a, "--perturb") == 0 ||
                    strcmp(a, "--corpus") == 0 || strcmp(a, "--prompt") == 0 || strcmp(a, "--answer") == 0;
        if( !takes ){
            sptt_report(zProg, "unknown option '%s' (try --help)", a);
            return 2;
        }
        if( !v ){
            sptt_report(zProg, "%s needs a value", a);
            return 2;
        }
        i++;
        if( strcmp(a, "--dump-step") == 0 ) zDump = v;
        else if( strcmp(a, "--config") == 0 ) zConfig = v;
        else if( strcmp(a, "--corpus") == 0 ) zCorpus = v;
        else if( strcmp(a, "--prompt") == 0 ) zPrompt = v;
        else if( strcmp(a, "--answer") == 0 ) zAnswer = v;
        else if( strcmp(a, "--seed") == 0 ) rc = sptt_parse_int(a, v, 0, 2147483647L, &seed);
        else if( strcmp(a, "--batch") == 0 ) rc = sptt_parse_int(a, v, 1, 64, &nBatch);
        else if( strcmp(a, "--frames") == 0 ) rc = sptt_parse_int(a, v, 0, 4096, &nFrames);
        else if( strcmp(a, "--perturb") == 0 ) rc = sptt_parse_double(a, v, 0, 10, &perturb);
        if( rc ) goto fail;
    }
    if( !zDump ){
        sptt_report(zProg, "nothing to do: only --dump-step FILE is implemented so far (try --help)");
        return 2;
    }
    if( nFrames % 2 ){
        rc = sptt_fail(SPTT_EINVAL, "--frames: %ld is odd; frames come in pairs", nFrames);
        goto fail;
    }

    if( zConfig ){
        uint8_t *p;
        size_t n;
        if( (rc = sptt_read_file(zConfig, &p, &n)) ) goto fail;
        rc = sptt_config_from_json((const char *)p, &cfg);
        free(p);
        if( rc ){ sptt_fail_prefix(rc, "%s: ", zConfig); goto fail; }
    }else{
        sptt_config_tiny(&cfg);
    }

    if( zCorpus ){
        rc = sptt_tokenizer_fit_file(zCorpus, cfg.vocab_size, &tok);
    }else{
        int nText = (int)(sizeof azBuiltinCorpus / sizeof azBuiltinCorpus[0]);
        rc = sptt_tokenizer_fit(azBuiltinCorpus, NULL, nText, cfg.vocab_size, &tok);
    }
    if( rc ) goto fail;
    int nPrompt, nAnswer;
    if( (rc = sptt_tokenizer_encode(tok, zPrompt, strlen(zPrompt), &aPrompt, &nPrompt)) ) goto fail;
    if( (rc = sptt_tokenizer_encode(tok, zAnswer, strlen(zAnswer), &aAnswer, &nAnswer)) ) goto fail;

    if( (rc = sptt_model_create(&cfg, (uint64_t)seed, &m)) ) goto fail;
    sptt_rng r;
    sptt_rng_seed(&r, (uint64_t)seed ^ 0x5eedULL);
    size_t nParam;
    float *params = sptt_model_params(m, &nParam);
    if( perturb > 0 ) for(size_t i = 0; i < nParam; i++) params[i] += (float)(perturb * sptt_rng_normal(&r));

    aBatch = sptt_calloc((size_t)nBatch, sizeof *aBatch);
    size_t nPix = (size_t)nFrames * cfg.frame_h * cfg.frame_w * 3;
    pix = sptt_malloc(sizeof(float) * (nPix ? nPix : 1));
    if( !aBatch || !pix ){ rc = SPTT_ENOMEM; goto fail; }
    for(long b = 0; b < nBatch; b++){
        for(size_t i = 0; i < nPix; i++) pix[i] = (float)sptt_rng_uniform(&r, -1, 1);
        rc = sptt_sample_build(&cfg, aPrompt, nPrompt, aAnswer, nAnswer, (int)nFrames, pix, &aBatch[b]);
        if( rc ) goto fail;
    }
    float loss;
    if( (rc = sptt_step_dump(m, aBatch, (int)nBatch, tok, zDump, &loss)) ) goto fail;
    printf("sptt-train: wrote %s: %d tensors, %zu parameters, %ld sequence(s) of %d tokens, loss %.6f\n",
           zDump, sptt_model_n_tensors(m), nParam, nBatch, aBatch[0].n_tokens, (double)loss);

fail:
    if( rc ) sptt_report(zProg, "%s", sptt_errmsg());
    if( aBatch ) for(long b = 0; b < nBatch; b++) sptt_sample_free(&aBatch[b]);
    free(aBatch);
    free(pix);
    free(aPrompt);
    free(aAnswer);
    sptt_tokenizer_free(tok);
    sptt_model_free(m);
    return rc ? sptt_exit_status(rc) : 0;
}
