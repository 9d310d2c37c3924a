/*
** Option values of annotate that more than one tool parses (sptt-annotate, sptt-build).
*/
#include "sptt_annotate.h"
#include "sptt_common.h"

#include <string.h>

int sptt_annotate_parse_tasks(const char *zOpt, const char *zList, void *pOut)
{
    int n;
    const char *const *az = sptt_annotate_task_names(&n);
    const char *z = zList;
    unsigned *pMask = pOut;
    *pMask = 0;
    while( *z ){
        const char *comma = strchr(z, ',');
        size_t len = comma ? (size_t)(comma - z) : strlen(z);
        int found = 0;
        for(int i = 0; i < n; i++){
            if( strlen(az[i])==len && strncmp(az[i], z, len)==0 ){
                *pMask |= 1u << i;
                found = 1;
            }
        }
        if( !found ) return sptt_fail(SPTT_EINVAL, "%s: unknown question type '%.*s'", zOpt, (int)len, z);
        z = comma ? comma + 1 : z + len;
    }
    return SPTT_OK;
}
