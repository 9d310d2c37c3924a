/*
** Gradient sums across ranks with NCCL on the GPUs (sptt_cuda.h).
**
** libnccl.so.2 is opened with dlopen on first use rather than linked, so the CUDA binaries still
** start on a machine without it (the trainer then sums on the host through MPI). The entry points
** are typed from nccl.h where the build sees it; a build without nccl.h (or with SPTT_NO_NCCL
** defined) has no NCCL path: sptt_cuda_nccl_load reports that and nothing else here is reached.
**
** Ordering: each sum runs on this module's own stream, made to wait (through an event) for the
** work the calling thread has enqueued on its per-thread default stream up to the call, i.e. the
** backward kernels that produced the block's gradient; the backward of the next blocks goes on
** in parallel. NCCL's sum over a fixed set of ranks runs in a fixed order, so the result repeats
** bit for bit from run to run.
*/
#include <dlfcn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

extern "C" {
#include "sptt_common.h"
}
#include "sptt_cuda.h"

#if !defined(SPTT_NO_NCCL) && __has_include(<nccl.h>)
#include <nccl.h>
#define SPTT_HAVE_NCCL 1
#endif

#ifdef SPTT_HAVE_NCCL

static_assert(sizeof(ncclUniqueId) == SPTT_CUDA_NCCL_ID_BYTES, "ncclUniqueId is not the size sptt_cuda.h gives it");

/* The entry points used, with nccl.h's own types. */
static struct {
    int tried, ok, version;
    char zWhy[300];
    decltype(&ncclGetVersion) xGetVersion;
    decltype(&ncclGetErrorString) xGetErrorString;
    decltype(&ncclGetUniqueId) xGetUniqueId;
    decltype(&ncclCommInitRank) xCommInitRank;
    decltype(&ncclAllReduce) xAllReduce;
    decltype(&ncclCommDestroy) xCommDestroy;
} lib;

struct sptt_cuda_nccl {
    ncclComm_t comm;
    cudaStream_t stream;
    cudaEvent_t ready;         /* recorded on the caller's stream: the block's gradient is done */
};

static int nccl_fail(ncclResult_t r, const char *zCall)
{
    return sptt_fail(SPTT_EIO, "nccl: %s: %s", zCall, lib.xGetErrorString ? lib.xGetErrorString(r) : "failed");
}

#define NC(call, name) do { ncclResult_t r_ = (call); if( r_ != ncclSuccess ) return nccl_fail(r_, name); } while(0)
#define CU(x) do { cudaError_t e_ = (x); if( e_ != cudaSuccess ){ \
    return sptt_fail(SPTT_EIO, "nccl: %s: %s", #x, cudaGetErrorString(e_)); } } while(0)

/* dlsym into a typed pointer: the cast goes through void * as POSIX allows. */
template <typename F> static int sym(void *h, const char *zName, F *pFn)
{
    void *p = dlsym(h, zName);
    if( !p ){
        snprintf(lib.zWhy, sizeof lib.zWhy, "libnccl.so.2 lacks %s", zName);
        return 0;
    }
    memcpy(pFn, &p, sizeof p);
    return 1;
}

extern "C" int sptt_cuda_nccl_load(int *pVersion)
{
    if( !lib.tried ){
        lib.tried = 1;
        void *h = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
        if( !h ){
            const char *z = dlerror();
            snprintf(lib.zWhy, sizeof lib.zWhy, "libnccl.so.2 did not load (%s)", z ? z : "not found");
        }else if( sym(h, "ncclGetVersion", &lib.xGetVersion) && sym(h, "ncclGetErrorString", &lib.xGetErrorString) &&
                  sym(h, "ncclGetUniqueId", &lib.xGetUniqueId) && sym(h, "ncclCommInitRank", &lib.xCommInitRank) &&
                  sym(h, "ncclAllReduce", &lib.xAllReduce) && sym(h, "ncclCommDestroy", &lib.xCommDestroy) ){
            /* The calls used keep their signatures through NCCL 2.x; another major may not. */
            if( lib.xGetVersion(&lib.version) != ncclSuccess || lib.version / 10000 != 2 )
                snprintf(lib.zWhy, sizeof lib.zWhy, "libnccl.so.2 reports version %d, not 2.x", lib.version);
            else
                lib.ok = 1;
        }
        /* The handle stays open for the life of the process: the pointers point into it. */
    }
    if( pVersion ) *pVersion = lib.version;
    return lib.ok ? SPTT_OK : sptt_fail(SPTT_EINVAL, "%s", lib.zWhy);
}

extern "C" int sptt_cuda_nccl_unique_id(unsigned char aId[SPTT_CUDA_NCCL_ID_BYTES])
{
    ncclUniqueId id;
    int rc = sptt_cuda_nccl_load(NULL);
    if( rc ) return rc;
    NC(lib.xGetUniqueId(&id), "ncclGetUniqueId");
    memcpy(aId, &id, sizeof id);
    return SPTT_OK;
}

extern "C" int sptt_cuda_nccl_open(const unsigned char aId[SPTT_CUDA_NCCL_ID_BYTES], int nRank, int rank, sptt_cuda_nccl **ppComm)
{
    ncclUniqueId id;
    sptt_cuda_nccl *x;
    int rc;
    *ppComm = NULL;
    if( (rc = sptt_cuda_nccl_load(NULL)) ) return rc;
    if( (x = (sptt_cuda_nccl *)calloc(1, sizeof *x)) == NULL ) return SPTT_ENOMEM;
    memcpy(&id, aId, sizeof id);
    if( cudaStreamCreateWithFlags(&x->stream, cudaStreamNonBlocking) != cudaSuccess ){
        rc = sptt_fail(SPTT_EIO, "nccl: cannot create the sums' stream");
        goto fail;
    }
    if( cudaEventCreateWithFlags(&x->ready, cudaEventDisableTiming) != cudaSuccess ){
        rc = sptt_fail(SPTT_EIO, "nccl: cannot create the sums' event");
        goto fail;
    }
    {
        ncclResult_t r = lib.xCommInitRank(&x->comm, nRank, id, rank);
        if( r != ncclSuccess ){
            x->comm = NULL;
            rc = nccl_fail(r, "ncclCommInitRank");
            goto fail;
        }
    }
    *ppComm = x;
    return SPTT_OK;
fail:
    sptt_cuda_nccl_close(x);
    return rc;
}

extern "C" int sptt_cuda_nccl_sum_start(sptt_cuda_nccl *x, float *p, size_t n)
{
    if( n == 0 ) return SPTT_OK;
    CU(cudaEventRecord(x->ready, cudaStreamPerThread));
    CU(cudaStreamWaitEvent(x->stream, x->ready, 0));
    NC(lib.xAllReduce(p, p, n, ncclFloat32, ncclSum, x->comm, x->stream), "ncclAllReduce");
    return SPTT_OK;
}

extern "C" int sptt_cuda_nccl_wait(sptt_cuda_nccl *x)
{
    CU(cudaStreamSynchronize(x->stream));
    return SPTT_OK;
}

extern "C" void sptt_cuda_nccl_close(sptt_cuda_nccl *x)
{
    if( !x ) return;
    if( x->stream ) cudaStreamSynchronize(x->stream);
    if( x->comm ) lib.xCommDestroy(x->comm);
    if( x->ready ) cudaEventDestroy(x->ready);
    if( x->stream ) cudaStreamDestroy(x->stream);
    free(x);
}

#else /* no nccl.h at build time: the NCCL path is absent */

struct sptt_cuda_nccl {
    int unused;
};

extern "C" int sptt_cuda_nccl_load(int *pVersion)
{
    if( pVersion ) *pVersion = 0;
    return sptt_fail(SPTT_EINVAL, "this build has no NCCL (nccl.h was not found by make cuda)");
}

extern "C" int sptt_cuda_nccl_unique_id(unsigned char aId[SPTT_CUDA_NCCL_ID_BYTES])
{
    (void)aId;
    return sptt_cuda_nccl_load(NULL);
}

extern "C" int sptt_cuda_nccl_open(const unsigned char aId[SPTT_CUDA_NCCL_ID_BYTES], int nRank, int rank, sptt_cuda_nccl **ppComm)
{
    (void)aId;
    (void)nRank;
    (void)rank;
    *ppComm = NULL;
    return sptt_cuda_nccl_load(NULL);
}

extern "C" int sptt_cuda_nccl_sum_start(sptt_cuda_nccl *x, float *p, size_t n)
{
    (void)x;
    (void)p;
    (void)n;
    return sptt_cuda_nccl_load(NULL);
}

extern "C" int sptt_cuda_nccl_wait(sptt_cuda_nccl *x)
{
    (void)x;
    return sptt_cuda_nccl_load(NULL);
}

extern "C" void sptt_cuda_nccl_close(sptt_cuda_nccl *x) { (void)x; }

#endif
