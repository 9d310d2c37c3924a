/*
** Option values of geometry that more than one tool parses (sptt-geometry, sptt-build).
*/
#include "sptt_common.h"
#include "sptt_geometry.h"

#include <string.h>

int sptt_geometry_parse_room_sample(const char *zOpt, const char *zVal, void *pOut)
{
    long v;
    int rc;
    if( strcmp(zVal, "all")==0 ){
        *(uint64_t *)pOut = 0;
        return SPTT_OK;
    }
    rc = sptt_parse_int(zOpt, zVal, 1, 1000000000L, &v);
    if( rc==SPTT_OK ) *(uint64_t *)pOut = (uint64_t)v;
    return rc;
}
