// The public C API of the PTO-WSP tile-op runtime (libpto_runtime).
//
// Generated per-workload code is thin glue that includes this header and calls one `pto_<op>`
// entry per `pto.*` op; the numerics live in the library, compiled once at -O3 with the host's
// vector extensions (DESIGN.md §2). The exceptions are a small tile's load, store and f32/f64
// add/sub/mul/div, which tile_inline.h does inline, with the library's results. The API is plain
// C so that including it costs the generated code's compiler nothing.
//
// Tiles
//   A `pto_tile` is a 2-D strided view: element (r, c) lives at
//   `(char*)data + (r * row_stride + c * col_stride) * itemsize(dtype)`. Strides are in elements
//   and may be zero or negative, so a tile can be a window of a user's numpy buffer (load/store)
//   or a contiguous local tile.
//
// Semantics shared by every op
//   - Inputs are converted to the OUTPUT tile's dtype for compute (the DSL picks the output dtype
//     by numpy promotion). f16/bf16 compute in f32 and round to nearest-even on store.
//   - Binary ops (add ... minimum, rowmul/rowadd/colmul/coladd, broadcast) broadcast inputs of
//     shape [r,1], [1,c] and [1,1] against the output shape, as numpy does.
//   - Integer add/sub/mul/neg/abs wrap modulo 2^bits (numpy). `div` is TRUE division: on an
//     integer output it computes np.divide in f64 and converts toward zero; that conversion and
//     every float -> integer conversion in the library saturates at the type's range and maps
//     NaN to 0 (numpy leaves those cases undefined), so x/0 gives the type's max/min and 0/0
//     gives 0.
//   - Float maximum/minimum/relu/rowmax/colmax propagate NaN like numpy.
//   - `out` may be the very same view as an input of an elementwise op (in-place update) and
//     `acc` may be the very same view as `out` in matmul; any other overlap between `out` and an
//     input is undefined. The `pto_<op>` entries do not validate shapes or dtypes (the DSL has
//     type-checked the kernel); `pto_run_op` does, and reports what is wrong.
#pragma once

#include <stdint.h>

#include "dtype.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pto_tile {
    void* data;
    int64_t rows, cols;
    int64_t row_stride;  // in elements
    int64_t col_stride;  // in elements
    int32_t dtype;       // a pto_dtype_code
} pto_tile;

// Size in bytes of one element of `dtype`, 0 for an unknown code.
int64_t pto_dtype_size(int32_t dtype);
// Canonical name ("f16", "bf16", ..., "bool") of `dtype`, "?" for an unknown code.
const char* pto_dtype_name(int32_t dtype);

// ---- memory -------------------------------------------------------------------------------
void pto_load(pto_tile* out, const pto_tile* src);   // out = src (converted)
void pto_store(pto_tile* dst, const pto_tile* src);  // dst = src (converted)
void pto_alloc(pto_tile* out);                       // zero fill

// ---- elementwise binary (numpy broadcasting of [r,1] / [1,c] / [1,1]) -----------------------
void pto_add(pto_tile* out, const pto_tile* a, const pto_tile* b);
void pto_sub(pto_tile* out, const pto_tile* a, const pto_tile* b);
void pto_mul(pto_tile* out, const pto_tile* a, const pto_tile* b);
void pto_div(pto_tile* out, const pto_tile* a, const pto_tile* b);
void pto_maximum(pto_tile* out, const pto_tile* a, const pto_tile* b);
void pto_minimum(pto_tile* out, const pto_tile* a, const pto_tile* b);

// ---- elementwise unary (math ops assume a float output) ------------------------------------
void pto_exp(pto_tile* out, const pto_tile* a);
void pto_log(pto_tile* out, const pto_tile* a);
void pto_sqrt(pto_tile* out, const pto_tile* a);
void pto_rsqrt(pto_tile* out, const pto_tile* a);
void pto_tanh(pto_tile* out, const pto_tile* a);
void pto_sigmoid(pto_tile* out, const pto_tile* a);
void pto_sin(pto_tile* out, const pto_tile* a);
void pto_cos(pto_tile* out, const pto_tile* a);
void pto_relu(pto_tile* out, const pto_tile* a);
void pto_gelu(pto_tile* out, const pto_tile* a);  // exact: 0.5 x (1 + erf(x / sqrt 2))
void pto_silu(pto_tile* out, const pto_tile* a);  // x * sigmoid(x)
void pto_neg(pto_tile* out, const pto_tile* a);
void pto_abs(pto_tile* out, const pto_tile* a);

// ---- reductions: row ops give [r,1], column ops give [1,c] ----------------------------------
void pto_rowsum(pto_tile* out, const pto_tile* a);
void pto_rowmax(pto_tile* out, const pto_tile* a);
void pto_rowmean(pto_tile* out, const pto_tile* a);
void pto_colsum(pto_tile* out, const pto_tile* a);
void pto_colmax(pto_tile* out, const pto_tile* a);

// ---- broadcast ops: vec is [r,1] for row ops, [1,c] for column ops --------------------------
void pto_rowmul(pto_tile* out, const pto_tile* tile, const pto_tile* vec);
void pto_rowadd(pto_tile* out, const pto_tile* tile, const pto_tile* vec);
void pto_colmul(pto_tile* out, const pto_tile* tile, const pto_tile* vec);
void pto_coladd(pto_tile* out, const pto_tile* tile, const pto_tile* vec);
void pto_broadcast(pto_tile* out, const pto_tile* a);  // a is [1,1], [r,1], [1,c] or [r,c]

// ---- matrix: out[M,N] = a[M,K] @ b[K,N] (+ acc[M,N] when acc is not NULL) --------------------
void pto_matmul(pto_tile* out, const pto_tile* a, const pto_tile* b, const pto_tile* acc);

// ---- special --------------------------------------------------------------------------------
void pto_constant(pto_tile* out, double value);  // fill, value converted to out's dtype
void pto_slice_even(pto_tile* out, const pto_tile* a);  // out = a[:, 0::2]
void pto_slice_odd(pto_tile* out, const pto_tile* a);   // out = a[:, 1::2]
// out[:, 0::2] = a, out[:, 1::2] = b; a has as many columns as b or one more.
void pto_interleave(pto_tile* out, const pto_tile* a, const pto_tile* b);

// ---- sorting (tile_ops_sort.cpp): spec §6.1's TopK route ------------------------------------
// A (score, index) pair is two f32 slots: the score, then the uint32 index's bit pattern.
// Order: score descending, ties to the lower index (tsort32) or the first list (mrgsort).
void pto_iota_u32(pto_tile* out);  // u32: out[r, c] = c
// out f32 [r, 2c] = the pairs of each 32-element block of src f32 [r, c] with idx u32 [r, c]
// (or [1, c], shared by every row), sorted.
void pto_tsort32(pto_tile* out, const pto_tile* src, const pto_tile* idx);
// out f32 [1, 2(n + m)] = the sorted pair rows a [1, 2n] and b [1, 2m] merged.
void pto_mrgsort(pto_tile* out, const pto_tile* a, const pto_tile* b);
// out i32 [r, k] = the index slots of the first k pairs of pairs f32 [r, 2n], bit for bit.
void pto_extract_topk_indices(pto_tile* out, const pto_tile* pairs);

// ---- by name, for tests and tools ----------------------------------------------------------
// Runs op `op` ("add", "max", "matmul", ...; "max"/"min" alias "maximum"/"minimum") after
// validating arity, shapes and dtypes. Inputs in `ins` follow the pto_<op> parameter order
// (matmul: a, b[, acc]); `store` writes into `out`. `attrs` holds the op's numeric attributes:
// constant reads attrs[0] (the value); no other op reads it (it may then be NULL).
// Returns PTO_OK, or an error code with a message in pto_last_error().
enum pto_status { PTO_OK = 0, PTO_ERR_UNKNOWN_OP = 1, PTO_ERR_INVALID = 2 };
int pto_run_op(const char* op, pto_tile* out, const pto_tile* const* ins, int n_ins,
               const double* attrs);

// Validates like pto_run_op, then runs the op `iterations` (> 0) times in a compiled loop and
// stores the mean wall time per call in nanoseconds in *ns_per_op. Returns a pto_status.
int pto_time_op(const char* op, pto_tile* out, const pto_tile* const* ins, int n_ins,
                const double* attrs, int64_t iterations, double* ns_per_op);

// The message of the last failed pto_run_op / pto_time_op on this thread ("" if none).
const char* pto_last_error(void);

// Names of all ops pto_run_op knows, comma-separated (for error messages and tools).
const char* pto_op_names(void);

#ifdef __cplusplus
}  // extern "C"
#endif
