// Run-time region tracking for the scheduling simulator.
//
// When the compiler cannot prove that the tensor regions touched by two tasks are disjoint, the
// driver declares each task's accessed elements and the simulator derives RAW / WAR / WAW
// dependencies from them (docs/semantics.md, "Regions").
//
// A declared region is strided: `count` runs of `run_len` elements, run i starting at
// `base + i * stride` (a contiguous range is one run). Each tensor starts with an interval map of
// non-overlapping segments over its element index space; every segment remembers the end cycle
// and worker of its last writer and the latest end of the reads issued since that write. Queries
// and updates cost O(log n + k) for k overlapped segments (amortised O(log n): an update erases or
// splits what it overlaps).
//
// The first strided region of a tensor whose runs stay inside one period of the stride switches
// the tensor to a 2-D view: element e is (row e / pitch, column e % pitch) with pitch = that
// stride, and the state lives in an interval map over columns whose segments each hold an
// interval map over rows (BoxMap). A strided region with the pitch as its stride is then ONE box,
// compared exactly at a cost that does not depend on its number of runs; a contiguous range is at
// most three boxes. Other strides are split into their runs (still exact, cost per run).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

#include "runtime/mesh.h"
#include "runtime/wait_bound.h"

namespace pto::sim {

/// Floor division and modulo (round toward minus infinity), shared by the region and mesh maps:
/// element indices of strided views can lie below a region's base.
inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

inline int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

/// A set of elements of one tensor: `count` runs of `run_len` elements, run i starting at
/// `base + i * stride`. Normalised (make_region): run_len >= 1, count >= 1, and count > 1 only
/// when the runs are disjoint and apart (stride > run_len).
struct Region {
    int64_t base = 0;
    int64_t run_len = 1;
    int64_t stride = 0;
    int64_t count = 1;

    int64_t lo() const { return base; }
    int64_t hi() const { return base + (count - 1) * stride + run_len; }  // bounding end
    bool contiguous() const { return count == 1; }
};

/// The normalised region of (base, run_len, stride, count); false when it is empty. A negative
/// stride is mirrored (same element set); runs that touch or overlap merge into one range.
bool make_region(int64_t base, int64_t run_len, int64_t stride, int64_t count, Region& out);

/// Whether two regions share an element: exact for two contiguous ranges, a range against a
/// strided region, and two regions of equal stride whose runs stay inside one stride period;
/// otherwise conservative (their bounding ranges overlap).
bool overlaps(const Region& a, const Region& b);

/// SegState::writer of a piece never written, and of a piece written on every worker at once (a
/// gang task such as a collective: its result is local everywhere).
constexpr int32_t kNoWriter = -1;
constexpr int32_t kEveryWorker = -2;

/// State of a piece of a tensor.
struct SegState {
    int64_t write_end = 0;      // end of the last write, 0 when never written
    int64_t read_end = 0;       // max end of reads after that write, 0 when none
    int32_t writer = kNoWriter;  // worker of the last write (or kEveryWorker)
    uint32_t write_task = PTO_WAIT_NO_GATE;  // submission index of the last write
    uint32_t read_task = PTO_WAIT_NO_GATE;   // the read that ends at read_end
};

/// Interval map over a 1-D index space.
class IntervalMap {
public:
    IntervalMap() = default;
    // Copies and moves take the segments; the finger always points into its own map.
    IntervalMap(const IntervalMap& o) : segs_(o.segs_) {}
    IntervalMap(IntervalMap&& o) noexcept : segs_(std::move(o.segs_)) { o.finger_ = o.segs_.end(); }
    IntervalMap& operator=(const IntervalMap& o) {
        if (this != &o) {
            segs_ = o.segs_;
            finger_ = segs_.end();
        }
        return *this;
    }
    IntervalMap& operator=(IntervalMap&& o) noexcept {
        if (this != &o) {
            segs_ = std::move(o.segs_);
            finger_ = segs_.end();
            o.finger_ = o.segs_.end();
        }
        return *this;
    }

    /// Raises `dep` to the earliest cycle at which an access of [lo, hi) may start: a read waits
    /// for the last overlapping write (RAW); a write also waits for overlapping reads since then
    /// (WAR) and the last write (WAW); the bound names the task whose end it is.
    void dependency(int64_t lo, int64_t hi, bool is_write, Bound& dep) const;

    /// Records that an access of [lo, hi) by task `task` ending at cycle `end` happened on worker
    /// `worker`. A write replaces the segment state (earlier reads and writes are ordered before
    /// it); a read raises read_end.
    void record(int64_t lo, int64_t hi, bool is_write, int64_t end, int32_t worker, uint32_t task);

    /// Calls f(lo, hi, const SegState*) for each piece of [lo, hi), in order; the state is
    /// nullptr for a piece never accessed.
    template <class F>
    void visit(int64_t lo, int64_t hi, F&& f) const;

    /// Overwrites [lo, hi) with `state` (a tensor's map changing shape).
    void assign(int64_t lo, int64_t hi, const SegState& state);

    std::size_t segment_count() const { return segs_.size(); }
    bool empty() const { return segs_.empty(); }

private:
    friend class TensorRegions;
    struct Seg {
        int64_t hi;
        SegState st;
    };
    using Map = std::map<int64_t, Seg>;  // key: segment lo

    // The first segment that may overlap [lo, ...). Tries the segment of the previous lookup and
    // its successor first (a finger: sweeps over neighbouring tiles skip the tree descent).
    Map::const_iterator first_overlap(int64_t lo) const;
    // Splits the segment containing `at` (if any) so that a segment boundary falls on `at`.
    void split_at(int64_t at);
    // Erases [first, last) and forgets the finger (it may point into the erased range).
    void erase(Map::const_iterator first, Map::const_iterator last);

    Map segs_;
    mutable Map::const_iterator finger_ = segs_.end();
};

/// A box [r0, r1) x [c0, c1) of a 2-D index space.
struct Box {
    int64_t r0, r1, c0, c1;
};

/// Region state of a tensor seen as rows of `pitch` elements: an interval map over columns whose
/// segments each hold an interval map over rows.
class BoxMap {
public:
    explicit BoxMap(int64_t pitch) : pitch_(pitch) {}
    int64_t pitch() const { return pitch_; }

    void dependency(const Box& b, bool is_write, Bound& dep) const;
    void record(const Box& b, bool is_write, int64_t end, int32_t worker, uint32_t task);
    void assign(const Box& b, const SegState& state);
    /// Calls f(const Box& piece, const SegState*) for each piece of b (nullptr: never accessed).
    template <class F>
    void visit(const Box& b, F&& f) const;

    /// Calls f(const Box&) for the boxes that make up `r` in this pitch (one for a region whose
    /// stride is the pitch, at most three for a contiguous range, else per run).
    template <class F>
    void for_each_box(const Region& r, F&& f) const;

private:
    struct Col {
        int64_t hi;
        IntervalMap rows;
    };
    using Map = std::map<int64_t, Col>;  // key: column segment lo

    void split_at(int64_t c);
    // Makes [c0, c1) exactly covered by column segments and calls f(IntervalMap&) on each.
    template <class F>
    void update(int64_t c0, int64_t c1, F&& f);

    int64_t pitch_;
    Map cols_;
};

/// The region state of one tensor: an interval map, or a BoxMap once it was seen through a
/// stride.
class TensorRegions {
public:
    /// Switches to a BoxMap of pitch r.stride when r is the first strided region whose runs stay
    /// inside one stride period (called when an access is declared, before any query).
    void adopt(const Region& r);

    void dependency(const Region& r, bool is_write, Bound& dep) const;
    void record(const Region& r, bool is_write, int64_t end, int32_t worker, uint32_t task);
    /// Calls f(const Region& piece, const SegState*) for each piece of r (nullptr: never
    /// accessed).
    template <class F>
    void visit(const Region& r, F&& f) const;

    int64_t pitch() const { return boxes_ ? boxes_->pitch() : 0; }

private:
    IntervalMap flat_;
    std::unique_ptr<BoxMap> boxes_;
};

/// Region state per tensor id, plus the home layouts of sharded inputs (mesh only).
class RegionTracker {
public:
    void adopt(int32_t tensor, const Region& r) { tensors_[tensor].adopt(r); }
    /// Raises `dep` by the RAW / WAR / WAW dependencies of an access of r (see IntervalMap).
    void dependency(int32_t tensor, const Region& r, bool is_write, Bound& dep) const;
    void record(int32_t tensor, const Region& r, bool is_write, int64_t end, int32_t worker,
                uint32_t task);

    /// Declares where the blocks of tensor `tensor` live (its layout over the mesh).
    void set_home(int32_t tensor, const HomeLayout& home);
    /// Adds to `needs` what a read of r needs from other tiles: the last writes of the pieces it
    /// reads (with their workers) and, for a tensor with a sharded home, the blocks of the pieces
    /// never written.
    void read_needs(int32_t tensor, const Region& r, MeshNeeds& needs) const;

    /// 0 while the tensor is tracked as a 1-D interval map, else the pitch of its BoxMap.
    int64_t pitch(int32_t tensor) const;
    bool empty() const { return tensors_.empty(); }

private:
    std::unordered_map<int32_t, TensorRegions> tensors_;
    std::unordered_map<int32_t, HomeLayout> homes_;
};

}  // namespace pto::sim
