// Mesh geometry, hop costs and the home blocks of sharded inputs (see mesh.h).
#include "runtime/mesh.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "runtime/regions.h"

namespace pto::sim {

HomeLayout::HomeLayout(int32_t ndim, const int64_t* shape, const int64_t* strides,
                       const int32_t* coord, const int64_t* coord_size) {
    ndim_ = std::clamp<int32_t>(ndim, 0, kMaxDims);
    bool empty = false;
    for (int d = 0; d < ndim_; ++d) {
        shape_[d] = shape[d];
        stride_[d] = strides[d];
        coord_[d] = coord[d] == kRowCoord || coord[d] == kColCoord ? coord[d] : kNoCoord;
        const int64_t m = std::max<int64_t>(coord_size[d], 1);
        block_[d] = std::max<int64_t>((shape_[d] + m - 1) / m, 1);  // ceil(D / m)
        empty = empty || shape_[d] <= 0;
        sharded_ = sharded_ || coord_[d] != kNoCoord;
    }
    sharded_ = sharded_ && !empty;
    // Dense up to a permutation: the dimensions of extent > 1, by increasing stride, nest exactly
    // (stride 1, then each stride = previous stride * previous extent). Then an element offset
    // decodes to one index per dimension.
    int order[kMaxDims];
    int n = 0;
    for (int d = 0; d < ndim_; ++d)
        if (shape_[d] > 1) order[n++] = d;
    std::sort(order, order + n, [&](int a, int b) { return stride_[a] < stride_[b]; });
    dense_ = true;
    int64_t expect = 1;
    for (int i = 0; i < n && dense_; ++i) {
        dense_ = stride_[order[i]] == expect;
        expect *= shape_[order[i]];
    }
}

std::pair<int64_t, int64_t> HomeLayout::index_range(int d, int64_t lo, int64_t hi) const {
    const int64_t span = stride_[d] * shape_[d];
    if (floor_div(lo, span) != floor_div(hi - 1, span)) return {0, shape_[d] - 1};
    return {floor_mod(floor_div(lo, stride_[d]), shape_[d]),
            floor_mod(floor_div(hi - 1, stride_[d]), shape_[d])};
}

HomeBox HomeLayout::blocks(const Region& part) const {
    HomeBox box;
    for (int d = 0; d < ndim_; ++d) {
        if (coord_[d] == kNoCoord) continue;
        std::pair<int64_t, int64_t> idx{0, shape_[d] - 1};
        if (dense_ && shape_[d] > 1) {
            // Runs that repeat with a period of whole spans of d cover the same indices of d as
            // the first run; otherwise the bounding range decides.
            const int64_t span = stride_[d] * shape_[d];
            if (part.count > 1 && part.stride % span == 0)
                idx = index_range(d, part.base, part.base + part.run_len);
            else
                idx = index_range(d, part.lo(), part.hi());
        } else if (shape_[d] == 1) {
            idx = {0, 0};
        }
        box.lo[coord_[d]] = idx.first / block_[d];
        box.hi[coord_[d]] = idx.second / block_[d];
    }
    return box;
}

void MeshNeeds::add_raw(int64_t end, int32_t writer, uint32_t task) {
    for (Raw& r : raw) {
        if (r.writer == writer) {
            if (end > r.end) r.end = end, r.task = task;
            return;
        }
    }
    raw.push_back(Raw{end, writer, task});
}

void MeshNeeds::add_home(const HomeBox& box) {
    for (const HomeBox& h : home)
        if (std::equal(h.lo, h.lo + 2, box.lo) && std::equal(h.hi, h.hi + 2, box.hi)) return;
    home.push_back(box);
}

int64_t Mesh::hops(int32_t a, int32_t b) const {
    return std::abs(row(a) - row(b)) + std::abs(col(a) - col(b));
}

int64_t Mesh::delay(int64_t n) const {
    if (n <= 0) return 0;
    return static_cast<int64_t>(std::ceil(static_cast<double>(n) * hop_ - 1e-9));
}

int64_t Mesh::ready(const MeshNeeds& needs, int32_t w) const { return ready_bound(needs, w).t; }

Bound Mesh::ready_bound(const MeshNeeds& needs, int32_t w) const {
    Bound b;
    for (const MeshNeeds::Raw& r : needs.raw)
        if (r.writer >= 0 && r.writer < workers_)
            b.raise(r.end + delay(hops(r.writer, w)), PTO_WAIT_MESH, r.task);
    const int64_t at[2] = {row(w), col(w)};
    for (const HomeBox& h : needs.home) {
        int64_t n = 0;
        for (int c = 0; c < 2; ++c)
            if (h.lo[c] <= h.hi[c]) n += std::max(std::abs(at[c] - h.lo[c]), std::abs(at[c] - h.hi[c]));
        b.raise(delay(n), PTO_WAIT_MESH, PTO_WAIT_NO_GATE);
    }
    return b;
}

}  // namespace pto::sim
