// The one tile rank rule (issue #14), used by the verifier, both emitters (codegen/cpu_sim.cpp,
// codegen/ascend_npu.cpp) and, through the ir bindings, the cost model (pto_wsp/compiler/cost.py):
//
//   A tile has at most two dimensions once its leading 1s are dropped: [] is 1x1, [c] is 1xc,
//   [r, c] and [1, 1, r, c] are rxc; [2, 4, 8] is no tile, and every side says so in the same
//   words (tile_problems). A Tile[r, c] parameter takes a view whose shape, leading 1s dropped,
//   is exactly (r, c) (view_tile_problem; extents only known at run time are checked there).
//
// Nothing flattens: a view of shape [2, 16, 16] is three dimensions, not 32x16.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ir/kernel.h"

namespace pto::wsp::ir {

struct TileDims {
    int64_t rows = 1;
    int64_t cols = 1;
    bool operator==(const TileDims& o) const { return rows == o.rows && cols == o.cols; }
    bool operator!=(const TileDims& o) const { return !(*this == o); }
};

/// The rows and columns of a tile of `shape`, or nothing when more than two dimensions remain
/// after dropping leading 1s (-1, a run-time extent, is never dropped).
std::optional<TileDims> tile_dims(const std::vector<int64_t>& shape);

/// One tile that breaks the rank rule: `construct` names the kernel ("kernel @k"), `problem`
/// the tile ("parameter 'x' has shape [2, 4, 8]; ..."), `loc` where it was written.
struct TileProblem {
    std::string construct;
    std::string problem;
    std::string loc;
    /// "kernel @k: parameter 'x' has shape [2, 4, 8]; ..." (the text every side raises).
    std::string message() const { return construct + ": " + problem; }
};

/// The tiles of kernel `k` that break the rule: tile parameters, tensor parameters with a shape
/// (a traced kernel specialised for a view) and op results, in SSA order.
std::vector<TileProblem> tile_problems(const Kernel& k);

/// Why a view of `view_shape` (-1 = run-time extent) cannot bind a tile of `tile_shape` (empty
/// = any 2-D view), or "" when it can or only the run-time extents can tell. `what` names the
/// argument ("the view bound to parameter x of kernel k").
std::string view_tile_problem(const std::vector<int64_t>& view_shape,
                              const std::vector<int64_t>& tile_shape, const std::string& what);

/// The run-time check's message for a view whose leading extent (printed with %lld) is not 1.
std::string view_leading_extent_message(const std::string& what);

}  // namespace pto::wsp::ir
