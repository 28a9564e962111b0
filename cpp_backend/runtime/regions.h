// Run-time region tracking for the scheduling simulator.
//
// When the compiler cannot prove that the tensor regions touched by two tasks are disjoint, the
// driver declares each task's accessed element ranges and the simulator derives RAW / WAR / WAW
// dependencies from them. Each tensor keeps an interval map of non-overlapping segments; every
// segment remembers the end cycle of its last writer and the latest end of the reads issued since
// that write. Queries and updates cost O(log n + k) for k overlapped segments (amortised O(log n):
// an update erases or splits what it overlaps).
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

namespace pto::sim {

/// Interval map over the element index space of one tensor.
class IntervalMap {
public:
    /// Earliest cycle at which an access of [lo, hi) may start: a read waits for the last
    /// overlapping write (RAW); a write also waits for overlapping reads since then (WAR, WAW).
    int64_t dependency_end(int64_t lo, int64_t hi, bool is_write) const;

    /// Records that an access of [lo, hi) ending at cycle `end` happened. A write replaces the
    /// segment state (earlier reads and writes are ordered before it); a read raises read_end.
    void record(int64_t lo, int64_t hi, bool is_write, int64_t end);

    std::size_t segment_count() const { return segs_.size(); }

private:
    struct Seg {
        int64_t hi;
        int64_t write_end;  // end of the last write, 0 when never written
        int64_t read_end;   // max end of reads after that write, 0 when none
    };
    using Map = std::map<int64_t, Seg>;  // key: segment lo

    // Splits the segment containing `at` (if any) so that a segment boundary falls on `at`.
    void split_at(int64_t at);

    Map segs_;
};

/// One IntervalMap per tensor id.
class RegionTracker {
public:
    int64_t dependency_end(int32_t tensor, int64_t lo, int64_t hi, bool is_write) const;
    void record(int32_t tensor, int64_t lo, int64_t hi, bool is_write, int64_t end);
    bool empty() const { return tensors_.empty(); }

private:
    std::unordered_map<int32_t, IntervalMap> tensors_;
};

}  // namespace pto::sim
