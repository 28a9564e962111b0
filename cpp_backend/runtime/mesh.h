// The mesh of the scheduling simulator (spatial_map): worker geometry and hop costs.
//
// With `spatial_map(grid=(r, c))` the cpu_sim workers ARE the mesh tiles: worker w sits at row
// w / c, column w % c, and moving data between two tiles costs `hop` cycles per hop of Manhattan
// distance. Two kinds of data movement delay a task (docs/semantics.md, "Spatial map"):
//  - RAW across tiles: a read of a region last written on another worker is ready no earlier than
//    that write's end + hops * hop;
//  - sharded inputs: a read of never-written elements of a tensor whose layout shards a dimension
//    over a mesh axis is ready no earlier than hops * hop from the nearest tile holding them.
// The region tracker (regions.h) finds both for each read access and collects them in MeshNeeds;
// Mesh::ready() turns them into the earliest start on a given worker.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "runtime/wait_bound.h"

namespace pto::sim {

struct Region;

/// Which mesh coordinate a sharded tensor dimension follows.
enum MeshCoord : int32_t { kNoCoord = -1, kRowCoord = 0, kColCoord = 1 };

/// Block range a never-written part of a sharded tensor needs, per mesh coordinate (row, col):
/// inclusive [lo, hi]; lo > hi means the coordinate is unconstrained (the part is replicated
/// along it, so the reader's own row / column holds it).
struct HomeBox {
    int64_t lo[2] = {1, 1};
    int64_t hi[2] = {0, 0};
};

/// Where the blocks of an input tensor live (its TensorLayout over the mesh). Dimension d of
/// extent D sharded over a mesh coordinate of size m is split into m blocks of ceil(D / m)
/// indices; block k lives on the tiles whose coordinate is k.
class HomeLayout {
public:
    static constexpr int kMaxDims = 8;

    /// `coord[d]` is a MeshCoord, `coord_size[d]` the mesh extent along it (ignored for kNoCoord).
    HomeLayout(int32_t ndim, const int64_t* shape, const int64_t* strides, const int32_t* coord,
               const int64_t* coord_size);

    bool sharded() const { return sharded_; }

    /// The blocks that the elements of `part` (element offsets of the tensor) fall in.
    HomeBox blocks(const Region& part) const;

private:
    // Inclusive index range of dimension d covered by [lo, hi) (bounding when it wraps).
    std::pair<int64_t, int64_t> index_range(int d, int64_t lo, int64_t hi) const;

    int32_t ndim_ = 0;
    int64_t shape_[kMaxDims] = {};
    int64_t stride_[kMaxDims] = {};
    int32_t coord_[kMaxDims] = {};
    int64_t block_[kMaxDims] = {};
    bool dense_ = false;  // offsets decode to indices (a permutation of a dense layout)
    bool sharded_ = false;
};

/// What one task's reads need from other tiles; refilled for every task that declares accesses.
struct MeshNeeds {
    struct Raw {
        int64_t end;    // end of a write it reads (the latest one of `writer`)
        int32_t writer; // the worker that wrote it
        uint32_t task;  // the task that wrote it
    };
    std::vector<Raw> raw;
    std::vector<HomeBox> home;  // blocks of never-written sharded data
    void clear() {
        raw.clear();
        home.clear();
    }
    bool empty() const { return raw.empty() && home.empty(); }
    void add_raw(int64_t end, int32_t writer, uint32_t task);
    void add_home(const HomeBox& box);
};

/// Worker geometry and the hop cost.
class Mesh {
public:
    Mesh() = default;
    Mesh(int32_t workers, int32_t cols, double hop) : workers_(workers), cols_(cols), hop_(hop) {}

    bool enabled() const { return cols_ > 0; }
    int32_t row(int32_t w) const { return w / cols_; }
    int32_t col(int32_t w) const { return w % cols_; }
    int64_t hops(int32_t a, int32_t b) const;

    /// Cycles of moving data over `hops` hops (hops * hop, rounded up).
    int64_t delay(int64_t hops) const;

    /// Earliest cycle at which worker w has all the data `needs` describes.
    int64_t ready(const MeshNeeds& needs, int32_t w) const;
    /// The same as a PTO_WAIT_MESH bound naming the writer whose data arrives last (a sharded
    /// input's block: no task).
    Bound ready_bound(const MeshNeeds& needs, int32_t w) const;

private:
    int32_t workers_ = 0;
    int32_t cols_ = 0;
    double hop_ = 0.0;
};

}  // namespace pto::sim
