/*
** The trainer loop in one process (the one-rank communicator), so that the sanitizer build checks
** its memory, leaks included (the mpirun tests cannot: Open MPI's own allocations are never
** freed). Two stages on a small real dataset; an exact resume; a stop request.
*/
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset_testutil.h"
#include "sptt_trainer.h"

static char zTmp[64], zDb[128];

static void setup(void)
{
    strcpy(zTmp, "/tmp/sptt_trun_XXXXXX");
    cr_assert_not_null(mkdtemp(zTmp));
    snprintf(zDb, sizeof zDb, "%s/d.db", zTmp);
    dataset_build_small(zTmp, zDb, 1);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", zTmp);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(train_run, .init = setup, .fini = teardown);

static char *read_text(const char *zPath)
{
    uint8_t *p;
    size_t n;
    cr_assert_eq(sptt_read_file(zPath, &p, &n), SPTT_OK, "%s", sptt_errmsg());
    return (char *)p;
}

static void opts(sptt_train_opts *o, const char *zOut)
{
    sptt_train_opts_default(o);
    o->zDb = zDb;
    o->zOut = zOut;
    o->steps = 3;
    o->batch = 2;
    o->nFrames = 2;
    o->valFraction = 0.5;
    o->ckptEvery = 1;
    o->keep = 5;
    o->quiet = 1;
    o->maxAnswerTokens = 64;
}

Test(train_run, two_stages_then_an_exact_resume)
{
    sptt_comm c;
    sptt_train_opts o;
    char zA[256], zB[256], zPath[320];
    sptt_comm_single(&c);
    snprintf(zA, sizeof zA, "%s/a", zTmp);
    opts(&o, zA);
    cr_assert_eq(sptt_train(&o, &c), SPTT_OK, "%s", sptt_errmsg());
    snprintf(zPath, sizeof zPath, "%s/stage2/ckpt-00000003.safetensors", zA);
    cr_assert_eq(access(zPath, R_OK), 0);
    snprintf(zPath, sizeof zPath, "%s/loss.png", zA);
    cr_assert_eq(access(zPath, R_OK), 0);

    /* The same run, its stage-2 checkpoints after step 1 removed as if it had been killed there,
    ** then resumed: the rows equal the run in one go, step for step. */
    snprintf(zB, sizeof zB, "%s/b", zTmp);
    opts(&o, zB);
    cr_assert_eq(sptt_train(&o, &c), SPTT_OK, "%s", sptt_errmsg());
    for(int k = 2; k <= 3; k++){
        snprintf(zPath, sizeof zPath, "%s/stage2/ckpt-%08d.safetensors", zB, k);
        cr_assert_eq(unlink(zPath), 0);
    }
    opts(&o, zB);
    o.resume = 1;
    cr_assert_eq(sptt_train(&o, &c), SPTT_OK, "%s", sptt_errmsg());
    snprintf(zPath, sizeof zPath, "%s/metrics.jsonl", zA);
    char *a = read_text(zPath);
    snprintf(zPath, sizeof zPath, "%s/metrics.jsonl", zB);
    char *b = read_text(zPath);
    /* The "seconds" field differs; everything up to it must not. A stage's summary row is about
    ** the steps run by that invocation, so the resumed run's has fewer: those rows are skipped. */
    int nRows = 0;
    for(char *p = a, *q = b; p && q; nRows++){
        char *pn = strchr(p, '\n'), *qn = strchr(q, '\n');
        if( !pn || !qn ) break;
        char *ps = strstr(p, "\"summary\""), *qs = strstr(q, "\"summary\"");
        if( ps && ps < pn ){ p = pn + 1; nRows--; continue; }
        if( qs && qs < qn ){ q = qn + 1; nRows--; continue; }
        char *pe = strstr(p, "\"seconds\""), *qe = strstr(q, "\"seconds\"");
        if( pe && pe < pn ) cr_assert(qe && qe < qn && pe - p==qe - q && memcmp(p, q, (size_t)(pe - p))==0, "row %d differs", nRows);
        p = pn + 1;
        q = qn + 1;
    }
    cr_assert_geq(nRows, 6);
    free(a);
    free(b);
}

Test(train_run, a_stop_request_ends_with_a_checkpoint)
{
    sptt_comm c;
    sptt_train_opts o;
    char zA[256], zPath[320];
    sptt_comm_single(&c);
    snprintf(zA, sizeof zA, "%s/s", zTmp);
    opts(&o, zA);
    o.firstStage = o.lastStage = SPTT_STAGE_QA;
    o.ckptEvery = 0;
    sptt_train_request_stop();   /* as SIGTERM would, before the first step ends */
    cr_assert_eq(sptt_train(&o, &c), SPTT_ESTATE);
    cr_assert(strstr(sptt_errmsg(), "stopped at step 1") != NULL, "%s", sptt_errmsg());
    snprintf(zPath, sizeof zPath, "%s/stage2/ckpt-00000001.safetensors", zA);
    cr_assert_eq(access(zPath, R_OK), 0);
}
