/* Inline forms of the hottest small tile ops, for generated code (DESIGN.md §2: "small static
 * tile ops may be inlined into the generated code where that keeps the cold-compile target").
 *
 * A traced kernel's tiles have static shapes; on a small tile the library call's set-up (a dtype
 * dispatch, the view checks, the call itself) costs more than the work: a 1x8 f32 load, add and
 * store task spent ~250 of its ~490 instructions there (issue #18, callgrind). These helpers do
 * the same thing the library entry does on the case they cover and call the entry for anything
 * else, so the results are the library's, bit for bit:
 *   - pto_i_copy: load / store between tiles of one dtype and shape that are each one block of
 *     rows * cols elements (pto_load's own fast path, tile_ops_memory.cpp), with the byte count
 *     known to the compiler;
 *   - PTO_I_BINARY: add / sub / mul / div of two f32 or f64 arena tiles of the output's shape
 *     and dtype (dense, distinct): the same IEEE operation per element as the library's
 *     AddOp/SubOp/MulOp/DivOp on a float compute type.
 * Plain C, so that including it costs the generated code's compiler nothing.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "tile.h"

#if defined(__GNUC__)
#define PTO_I_INLINE static inline __attribute__((always_inline))
#else
#define PTO_I_INLINE static inline
#endif

/* One block of rows * cols elements in row order: tile_ops_memory.cpp's dense_block. */
PTO_I_INLINE int pto_i_block(const pto_tile* t, int64_t rows, int64_t cols) {
    return t->rows == rows && t->cols == cols && (cols == 1 || t->col_stride == 1) &&
           (rows == 1 || t->row_stride == cols);
}

/* dst = src for a rows x cols tile of `dtype` (`bytes` = rows * cols * its size). */
PTO_I_INLINE void pto_i_copy(pto_tile* dst, const pto_tile* src, int64_t rows, int64_t cols,
                             int32_t dtype, size_t bytes) {
    if (dst->dtype == dtype && src->dtype == dtype && pto_i_block(dst, rows, cols) &&
        pto_i_block(src, rows, cols)) {
        memcpy(dst->data, src->data, bytes);
        return;
    }
    pto_load(dst, src);
}

/* out = a OP b elementwise over n elements of C (float or double) in dense arena tiles. */
#define PTO_I_BINARY(C, OP, out, a, b, n)                            \
    do {                                                             \
        C* const pto_i_o = (C*)(out)->data;                          \
        const C* const pto_i_a = (const C*)(a)->data;                \
        const C* const pto_i_b = (const C*)(b)->data;                \
        for (int64_t pto_i = 0; pto_i < (n); ++pto_i)                \
            pto_i_o[pto_i] = pto_i_a[pto_i] OP pto_i_b[pto_i];       \
    } while (0)
