/*
** sptt-train: trains the Spatial-TTT model. This first version has the reference-dump mode only:
**   sptt-train --dump-step FILE [options]
** runs one forward and backward over a synthetic batch (seeded video frames plus tokenized
** question and answer) and writes config, parameters, inputs, logits, loss and gradients as
** described in schemas/step_dump.md.
*/
#include "sptt_cli.h"
#include "sptt_model.h"

#include <stdlib.h>
#include <string.h>

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
    static const char *zDump, *zConfig, *zCorpus;
    static const char *zPrompt = "How many chairs are in the room?", *zAnswer = "3";
    static int seed = 1, nBatch = 1, nFrames = 4;
    static double perturb = 0.02;
    int rc = SPTT_OK, first, status;
    sptt_config cfg;
    sptt_model *m = NULL;
    sptt_tokenizer *tok = NULL;
    sptt_sample *aBatch = NULL;
    int32_t *aPrompt = NULL, *aAnswer = NULL;
    float *pix = NULL;
    const sptt_option aOpt[] = {
        { "dump-step", SPTT_ARG_STRING, &zDump, .zArg = "FILE", .zHelp = "write the step dump to FILE", .flags = SPTT_OPT_REQUIRED },
        { "config", SPTT_ARG_STRING, &zConfig, .zArg = "FILE",
          .zHelp = "model configuration as JSON (fields of schemas/step_dump.md; missing\nfields take the defaults of the small model); default: the tiny model" },
        { "seed", SPTT_ARG_INT, &seed, 0, 2147483647.0, .zArg = "N", .zHelp = "seed of the initialisation, perturbation and batch (default 1)" },
        { "batch", SPTT_ARG_INT, &nBatch, 1, 64, .zArg = "N", .zHelp = "sequences in the batch (default 1)" },
        { "frames", SPTT_ARG_INT, &nFrames, 0, 4096, .zArg = "N", .zHelp = "video frames per sequence, even (default 4)" },
        { "perturb", SPTT_ARG_DOUBLE, &perturb, 0, 10, .zArg = "S",
          .zHelp = "add N(0, S^2) noise to every parameter after the initialisation, so the\nzero-initialised gate opens and every gradient is informative (default 0.02;\n0 dumps the initial state)" },
        { "corpus", SPTT_ARG_STRING, &zCorpus, .zArg = "FILE", .zHelp = "fit the tokenizer on this plain-text file (default: a built-in sample)" },
        { "prompt", SPTT_ARG_STRING, &zPrompt, .zArg = "TEXT", .zHelp = "question text (default: a counting question)" },
        { "answer", SPTT_ARG_STRING, &zAnswer, .zArg = "TEXT", .zHelp = "answer text (default: \"3\")" },
        { 0 },
    };
    sptt_cli cli = {
        .zTool = "sptt-train",
        .zSynopsis = "--dump-step FILE [options]",
        .zAbout = "One forward and backward pass of the Spatial-TTT model on a seeded synthetic batch, written\n"
                  "as a safetensors file (schemas/step_dump.md) for comparison with other implementations.\n"
                  "Training from a dataset is not implemented yet.",
        .aOpt = aOpt,
    };
    if( (status = sptt_cli_parse(&cli, argc, argv, &first)) >= 0 ) return status;
    if( nFrames % 2 ){
        rc = sptt_fail(SPTT_EINVAL, "--frames: %d is odd; frames come in pairs", nFrames);
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
    for(int b = 0; b < nBatch; b++){
        for(size_t i = 0; i < nPix; i++) pix[i] = (float)sptt_rng_uniform(&r, -1, 1);
        rc = sptt_sample_build(&cfg, aPrompt, nPrompt, aAnswer, nAnswer, (int)nFrames, pix, &aBatch[b]);
        if( rc ) goto fail;
    }
    float loss;
    if( (rc = sptt_step_dump(m, aBatch, (int)nBatch, tok, zDump, &loss)) ) goto fail;
    printf("sptt-train: wrote %s: %d tensors, %zu parameters, %s of %d tokens, loss %.6f\n",
           zDump, sptt_model_n_tensors(m), nParam, sptt_plural(nBatch, "sequence", NULL), aBatch[0].n_tokens, (double)loss);

fail:
    if( rc ) sptt_report(zProg, "%s", sptt_errmsg());
    if( aBatch ) for(int b = 0; b < nBatch; b++) sptt_sample_free(&aBatch[b]);
    free(aBatch);
    free(pix);
    free(aPrompt);
    free(aAnswer);
    sptt_tokenizer_free(tok);
    sptt_model_free(m);
    return rc ? sptt_exit_status(rc) : 0;
}
