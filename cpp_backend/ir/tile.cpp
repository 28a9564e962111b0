// The tile rank rule (see tile.h).
#include "ir/tile.h"

namespace pto::wsp::ir {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
    return s + "]";
}

const char* const kRule = "a tile has at most 2 dimensions once leading 1s are dropped";

}  // namespace

std::optional<TileDims> tile_dims(const std::vector<int64_t>& shape) {
    std::size_t lead = 0;
    while (shape.size() - lead > 2 && shape[lead] == 1) ++lead;
    const std::size_t rank = shape.size() - lead;
    if (rank > 2) return std::nullopt;
    if (rank == 0) return TileDims{1, 1};
    if (rank == 1) return TileDims{1, shape.back()};
    return TileDims{shape[shape.size() - 2], shape.back()};
}

std::vector<TileProblem> tile_problems(const Kernel& k) {
    std::vector<TileProblem> out;
    const std::string construct = "kernel @" + k.name;
    for (const KernelParam& p : k.params) {
        if (p.kind == ParamKind::Scalar || p.shape.empty() || tile_dims(p.shape)) continue;
        out.push_back({construct,
                       "parameter '" + p.name + "' is a tile of shape " + shape_text(p.shape) +
                           "; " + kRule,
                       k.loc});
    }
    for (const KernelOp& op : k.ops) {
        if (tile_dims(op.shape)) continue;
        out.push_back({construct,
                       "op %" + std::to_string(op.result) + " '" + op.name +
                           "' has a result tile of shape " + shape_text(op.shape) + "; " + kRule,
                       op.loc.empty() ? k.loc : op.loc});
    }
    return out;
}

std::string view_tile_problem(const std::vector<int64_t>& view_shape,
                              const std::vector<int64_t>& tile_shape, const std::string& what) {
    // A leading extent that is known and not 1 is an error now; an unknown one is checked at
    // run time, so drop only what is known to be 1 and judge the known extents that remain.
    std::size_t lead = 0;
    while (view_shape.size() - lead > 2 && view_shape[lead] == 1) ++lead;
    for (std::size_t j = lead; j + 2 < view_shape.size(); ++j)
        if (view_shape[j] >= 0)
            return what + " has shape " + shape_text(view_shape) + "; " + kRule;
    if (tile_shape.empty()) return "";
    const auto want = tile_dims(tile_shape);
    if (!want) return "";  // the kernel's own problem (tile_problems), reported with the kernel
    std::vector<int64_t> core(view_shape.end() - std::min<std::size_t>(2, view_shape.size()),
                              view_shape.end());
    while (core.size() < 2) core.insert(core.begin(), 1);
    if ((core[0] >= 0 && core[0] != want->rows) || (core[1] >= 0 && core[1] != want->cols))
        return what + " has shape " + shape_text(view_shape) + " but the tile is " +
               std::to_string(want->rows) + "x" + std::to_string(want->cols) +
               " (a view must have the tile's shape once leading 1s are dropped)";
    return "";
}

std::string view_leading_extent_message(const std::string& what) {
    return what + " has a leading extent %lld; " + kRule;
}

}  // namespace pto::wsp::ir
