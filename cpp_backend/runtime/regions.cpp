// Interval maps for run-time RAW / WAR / WAW tracking (see regions.h).
#include "runtime/regions.h"

#include <algorithm>
#include <iterator>

namespace pto::sim {

int64_t IntervalMap::dependency_end(int64_t lo, int64_t hi, bool is_write) const {
    if (lo >= hi || segs_.empty()) return 0;
    // First segment that may overlap: the one starting at or before lo, else the next one.
    auto it = segs_.upper_bound(lo);
    if (it != segs_.begin()) {
        auto prev = std::prev(it);
        if (prev->second.hi > lo) it = prev;
    }
    int64_t dep = 0;
    for (; it != segs_.end() && it->first < hi; ++it) {
        dep = std::max(dep, it->second.write_end);
        if (is_write) dep = std::max(dep, it->second.read_end);
    }
    return dep;
}

void IntervalMap::split_at(int64_t at) {
    auto it = segs_.upper_bound(at);
    if (it == segs_.begin()) return;
    --it;
    const int64_t lo = it->first;
    Seg& seg = it->second;
    if (lo < at && at < seg.hi) {
        Seg right{seg.hi, seg.write_end, seg.read_end};
        seg.hi = at;
        segs_.emplace_hint(std::next(it), at, right);
    }
}

void IntervalMap::record(int64_t lo, int64_t hi, bool is_write, int64_t end) {
    if (lo >= hi) return;
    split_at(lo);
    split_at(hi);
    if (is_write) {
        // Every earlier access of [lo, hi) is ordered before this write: one fresh segment.
        auto first = segs_.lower_bound(lo);
        auto last = segs_.lower_bound(hi);
        int64_t prior = 0;
        for (auto it = first; it != last; ++it)
            prior = std::max({prior, it->second.write_end, it->second.read_end});
        segs_.erase(first, last);
        segs_.emplace(lo, Seg{hi, std::max(prior, end), 0});
        return;
    }
    // A read: raise read_end on covered segments and fill the gaps with read-only segments.
    int64_t cursor = lo;
    auto it = segs_.lower_bound(lo);
    while (cursor < hi) {
        if (it == segs_.end() || it->first >= hi) {
            segs_.emplace_hint(it, cursor, Seg{hi, 0, end});
            break;
        }
        if (it->first > cursor) segs_.emplace_hint(it, cursor, Seg{it->first, 0, end});
        it->second.read_end = std::max(it->second.read_end, end);
        cursor = it->second.hi;
        ++it;
    }
}

int64_t RegionTracker::dependency_end(int32_t tensor, int64_t lo, int64_t hi,
                                      bool is_write) const {
    auto it = tensors_.find(tensor);
    return it == tensors_.end() ? 0 : it->second.dependency_end(lo, hi, is_write);
}

void RegionTracker::record(int32_t tensor, int64_t lo, int64_t hi, bool is_write, int64_t end) {
    tensors_[tensor].record(lo, hi, is_write, end);
}

}  // namespace pto::sim
