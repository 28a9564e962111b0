/* Numerics of the layout collectives (relayout, allgather, allreduce, reduce_scatter).
 *
 * A generated cpu_sim driver evaluates a collective on global arrays (docs/semantics.md, "Layouts
 * and collectives"): a tensor whose dimension `dim` is sharded over a mesh axis of m coordinates
 * is m equal blocks along `dim`, and a collective copies blocks and folds them with a reduction.
 * These primitives work on strided N-d regions of any element type the tile ops support (f16 and
 * bf16 compute in f32 and round to nearest-even on store, like numpy), so the driver only
 * describes regions and calls them. Valid C and C++; implemented in collectives.cpp inside
 * libpto_runtime.
 */
#ifndef PTO_RUNTIME_COLLECTIVES_H
#define PTO_RUNTIME_COLLECTIVES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTO_ND_MAX_DIMS 8

/* Reductions of allreduce / reduce_scatter (REDUCE_OPS of pto_wsp/layout.py, in that order). On
 * bool, sum and max are logical or, prod and min logical and (numpy's add / multiply on bool).
 * Integer sum and prod wrap around like numpy's; max / min propagate a NaN operand. */
enum pto_coll_op { PTO_COLL_SUM = 0, PTO_COLL_PROD = 1, PTO_COLL_MAX = 2, PTO_COLL_MIN = 3 };

/* An N-d strided region: element (i_0, ..., i_{n-1}) is at data + sum_k i_k * strides[k]
 * elements. ndim 0 is a single element. */
typedef struct pto_nd {
    void* data;
    int32_t dtype; /* a pto_dtype_code (dtype.h) */
    int32_t ndim;
    int64_t shape[PTO_ND_MAX_DIMS];
    int64_t strides[PTO_ND_MAX_DIMS]; /* in elements */
} pto_nd;

/* Status codes (0 = ok). */
#define PTO_COLL_OK 0
#define PTO_COLL_ERR_SHAPE 1 /* regions of different shapes, or an invalid block split */
#define PTO_COLL_ERR_DTYPE 2 /* regions of different element types, or an unknown type/op */

/* dst = src, elementwise (same shape and dtype; the regions must not overlap). */
int32_t pto_nd_copy(const pto_nd* dst, const pto_nd* src);

/* acc = op(acc, src), elementwise (same shape and dtype). */
int32_t pto_nd_reduce(const pto_nd* acc, const pto_nd* src, int32_t op);

/* The k-th of the m equal blocks of `t` along dimension `dim` (t->shape[dim] % m == 0). */
pto_nd pto_nd_block(const pto_nd* t, int32_t dim, int64_t m, int64_t k);

/* dst = block_0 op block_1 op ... op block_{m-1}, the m equal blocks of src along `dim`, folded
 * left to right (dst has the shape of one block). reduce_scatter's numerics. */
int32_t pto_coll_fold_blocks(const pto_nd* dst, const pto_nd* src, int32_t dim, int64_t m,
                             int32_t op);

/* In place: each of the m equal blocks of `t` along `dim` becomes the left fold of all of them.
 * allreduce's numerics for one mesh axis. */
int32_t pto_coll_allreduce_blocks(const pto_nd* t, int32_t dim, int64_t m, int32_t op);

/* A message for a status code (static storage). */
const char* pto_coll_status_message(int32_t status);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PTO_RUNTIME_COLLECTIVES_H */
