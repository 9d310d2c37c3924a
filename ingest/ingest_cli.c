/*
** Option values of ingest that more than one tool parses (sptt-ingest, sptt-build).
*/
#include "sptt_common.h"
#include "sptt_ingest.h"

/* Frames stored in packs stay within the size ingest accepts from its sources. */
int sptt_ingest_parse_frame_size(const char *zOpt, const char *zVal, void *pOut)
{
    int *wh = pOut;
    int rc = sptt_parse_size(zOpt, zVal, &wh[0], &wh[1]);
    if( rc==SPTT_OK && (wh[0] > SPTT_INGEST_MAX_SIDE || wh[1] > SPTT_INGEST_MAX_SIDE) )
        rc = sptt_fail(SPTT_EINVAL, "%s: %dx%d is larger than %d a side", zOpt, wh[0], wh[1], SPTT_INGEST_MAX_SIDE);
    return rc;
}
