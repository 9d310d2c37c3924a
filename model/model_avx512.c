/*
** The model's forward and backward steps compiled a second time for AVX-512, chosen at run time
** by model.c (sptt_model_forward, sptt_model_backward) where the CPU has it.
**
** Why: the library is built for the baseline x86-64 instruction set, so the kernels' element-wise
** loops (exponentials of attention's scores, SiLU and its derivatives in the TTT branch and the
** FFN, the norms) run as 4-wide SSE without fused multiply-add, and the attention and TTT steps
** spent a third of their time there (measured on the 2-core AVX-512 machine). Here the same
** template code is compiled with AVX-512 enabled, every OpenMP loop body included, so those loops
** run 16 wide. Values: element-wise results are the same IEEE operations either way (this project
** compiles as ISO C, where gcc contracts nothing into fused multiply-adds); the vector reductions
** (row sums of the softmax, the norms) add in a different order, so the float results differ by
** rounding from the baseline build's, and stay the same at any thread count.
**
** Only gcc on x86-64: elsewhere this file compiles to nothing and the baseline steps run.
*/
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512")
#pragma GCC diagnostic ignored "-Wunused-function"   /* only the two steps are used */

#include "sptt_model_int.h"

void kmodel_forward_step_avx512(kmodel *m, kstep st);
void kmodel_backward_step_avx512(kmodel *m, kstep st);

void kmodel_forward_step_avx512(kmodel *m, kstep st) { kmodel_forward_step(m, st); }
void kmodel_backward_step_avx512(kmodel *m, kstep st) { kmodel_backward_step(m, st); }

#else
typedef int sptt_model_avx512_empty;   /* ISO C wants a declaration in every file */
#endif
