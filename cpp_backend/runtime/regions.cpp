// Interval maps and 2-D box maps for run-time RAW / WAR / WAW tracking (see regions.h).
#include "runtime/regions.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace pto::sim {

namespace {

// Runs of r stay inside one period of its stride (r seen with pitch = stride is one box).
bool fits_period(const Region& r) { return floor_mod(r.base, r.stride) + r.run_len <= r.stride; }

// Whether strided region b has an element in [lo, hi).
bool hits_range(const Region& b, int64_t lo, int64_t hi) {
    // First run that ends after lo: base + i * stride + run_len > lo.
    const int64_t i = std::max<int64_t>(0, floor_div(lo - b.base - b.run_len, b.stride) + 1);
    return i < b.count && b.base + i * b.stride < hi;
}

Region range(int64_t lo, int64_t hi) { return Region{lo, hi - lo, 0, 1}; }

// The state of a piece that task `task` on `worker` has just written (ending at `end`), and of a
// piece only read (by `task`, ending at `end`) since it was last written or ever.
SegState written(int64_t end, int32_t worker, uint32_t task) {
    return SegState{end, 0, worker, task, PTO_WAIT_NO_GATE};
}
SegState read_only(int64_t end, uint32_t task) {
    return SegState{0, end, kNoWriter, PTO_WAIT_NO_GATE, task};
}
// Adds a read by `task` ending at `end`; the read that ends last names read_end's task.
void add_read(SegState& st, int64_t end, uint32_t task) {
    if (end > st.read_end || st.read_task == PTO_WAIT_NO_GATE) {
        st.read_end = std::max(st.read_end, end);
        st.read_task = task;
    }
}

}  // namespace

bool make_region(int64_t base, int64_t run_len, int64_t stride, int64_t count, Region& out) {
    if (run_len <= 0 || count <= 0) return false;
    if (count == 1) {
        out = Region{base, run_len, 0, 1};
        return true;
    }
    if (stride < 0) {  // the same elements, walked from the other end
        base += stride * (count - 1);
        stride = -stride;
    }
    if (stride <= run_len)  // runs touch or overlap: one range
        out = Region{base, (count - 1) * stride + run_len, 0, 1};
    else
        out = Region{base, run_len, stride, count};
    return true;
}

bool overlaps(const Region& a, const Region& b) {
    if (a.hi() <= b.lo() || b.hi() <= a.lo()) return false;
    if (a.contiguous() && b.contiguous()) return true;
    if (a.contiguous()) return hits_range(b, a.lo(), a.hi());
    if (b.contiguous()) return hits_range(a, b.lo(), b.hi());
    if (a.stride == b.stride && fits_period(a) && fits_period(b)) {
        const int64_t s = a.stride;
        const int64_t ra = floor_div(a.base, s), rb = floor_div(b.base, s);
        const int64_t ca = floor_mod(a.base, s), cb = floor_mod(b.base, s);
        return ra < rb + b.count && rb < ra + a.count && ca < cb + b.run_len &&
               cb < ca + a.run_len;
    }
    return true;  // conservative
}

// ---- IntervalMap -----------------------------------------------------------------------------

IntervalMap::Map::const_iterator IntervalMap::first_overlap(int64_t lo) const {
    // The answer is the first segment with hi > lo. From the finger f (f->first <= lo): f itself
    // when it contains lo, else its successor when that one starts after lo or contains lo.
    if (segs_.empty()) return segs_.end();
    const auto last = std::prev(segs_.end());  // O(1): the tree keeps its rightmost node
    const auto f = finger_ == segs_.end() ? last : finger_;  // appends: try the last segment
    if (f->first <= lo) {
        if (f->second.hi > lo) return f;
        if (f == last) return finger_ = segs_.end();  // past every segment
        auto next = std::next(f);
        if (next == segs_.end() || next->first > lo || next->second.hi > lo) return finger_ = next;
    }
    auto it = segs_.upper_bound(lo);
    if (it != segs_.begin()) {
        auto prev = std::prev(it);
        if (prev->second.hi > lo) it = prev;
    }
    return finger_ = it;
}

void IntervalMap::erase(Map::const_iterator first, Map::const_iterator last) {
    segs_.erase(first, last);
    finger_ = segs_.end();
}

void IntervalMap::dependency(int64_t lo, int64_t hi, bool is_write, Bound& dep) const {
    if (lo >= hi || segs_.empty()) return;
    const int32_t write_kind = is_write ? PTO_WAIT_WAW : PTO_WAIT_RAW;
    for (auto it = first_overlap(lo); it != segs_.end() && it->first < hi; ++it) {
        const SegState& st = it->second.st;
        dep.raise(st.write_end, write_kind, st.write_task);
        if (is_write) dep.raise(st.read_end, PTO_WAIT_WAR, st.read_task);
    }
}

void IntervalMap::split_at(int64_t at) {
    auto it = segs_.upper_bound(at);
    if (it == segs_.begin()) return;
    --it;
    Seg& seg = it->second;
    if (it->first < at && at < seg.hi) {
        Seg right{seg.hi, seg.st};
        seg.hi = at;
        segs_.emplace_hint(std::next(it), at, right);
    }
}

void IntervalMap::record(int64_t lo, int64_t hi, bool is_write, int64_t end, int32_t worker,
                         uint32_t task) {
    if (lo >= hi) return;
    // Fast paths (one tree descent): a range nothing overlaps, and a range that is exactly one
    // segment (the same tile accessed again).
    auto at = first_overlap(lo);
    if (at == segs_.end() || at->first >= hi) {
        finger_ = segs_.emplace_hint(at, lo, is_write ? Seg{hi, written(end, worker, task)}
                                                      : Seg{hi, read_only(end, task)});
        return;
    }
    if (at->first == lo && at->second.hi == hi) {
        SegState& st = segs_.erase(at, at)->second.st;  // the same element, writable
        if (is_write)
            st = written(std::max({st.write_end, st.read_end, end}), worker, task);
        else
            add_read(st, end, task);
        return;
    }
    split_at(lo);
    split_at(hi);
    if (is_write) {
        // Every earlier access of [lo, hi) is ordered before this write: one fresh segment.
        auto first = segs_.lower_bound(lo);
        auto last = segs_.lower_bound(hi);
        int64_t prior = 0;
        for (auto it = first; it != last; ++it)
            prior = std::max({prior, it->second.st.write_end, it->second.st.read_end});
        erase(first, last);
        segs_.emplace(lo, Seg{hi, written(std::max(prior, end), worker, task)});
        return;
    }
    // A read: raise read_end on covered segments and fill the gaps with read-only segments.
    int64_t cursor = lo;
    auto it = segs_.lower_bound(lo);
    while (cursor < hi) {
        if (it == segs_.end() || it->first >= hi) {
            segs_.emplace_hint(it, cursor, Seg{hi, read_only(end, task)});
            break;
        }
        if (it->first > cursor) segs_.emplace_hint(it, cursor, Seg{it->first, read_only(end, task)});
        add_read(it->second.st, end, task);
        cursor = it->second.hi;
        ++it;
    }
}

void IntervalMap::assign(int64_t lo, int64_t hi, const SegState& state) {
    if (lo >= hi) return;
    split_at(lo);
    split_at(hi);
    erase(segs_.lower_bound(lo), segs_.lower_bound(hi));
    segs_.emplace(lo, Seg{hi, state});
}

template <class F>
void IntervalMap::visit(int64_t lo, int64_t hi, F&& f) const {
    int64_t cursor = lo;
    auto it = first_overlap(lo);
    while (cursor < hi) {
        if (it == segs_.end() || it->first >= hi) {
            f(cursor, hi, static_cast<const SegState*>(nullptr));
            return;
        }
        if (it->first > cursor) {
            f(cursor, it->first, static_cast<const SegState*>(nullptr));
            cursor = it->first;
        }
        const int64_t piece_hi = std::min(it->second.hi, hi);
        f(cursor, piece_hi, &it->second.st);
        cursor = piece_hi;
        ++it;
    }
}

// ---- BoxMap ----------------------------------------------------------------------------------

void BoxMap::split_at(int64_t c) {
    auto it = cols_.upper_bound(c);
    if (it == cols_.begin()) return;
    --it;
    Col& col = it->second;
    if (it->first < c && c < col.hi) {
        Col right{col.hi, col.rows};
        col.hi = c;
        cols_.emplace_hint(std::next(it), c, std::move(right));
    }
}

template <class F>
void BoxMap::update(int64_t c0, int64_t c1, F&& f) {
    split_at(c0);
    split_at(c1);
    int64_t cursor = c0;
    auto it = cols_.lower_bound(c0);
    while (cursor < c1) {
        if (it == cols_.end() || it->first >= c1) {
            f(cols_.emplace_hint(it, cursor, Col{c1, {}})->second.rows);
            return;
        }
        if (it->first > cursor) f(cols_.emplace_hint(it, cursor, Col{it->first, {}})->second.rows);
        f(it->second.rows);
        cursor = it->second.hi;
        ++it;
    }
}

void BoxMap::dependency(const Box& b, bool is_write, Bound& dep) const {
    if (b.r0 >= b.r1 || b.c0 >= b.c1) return;
    auto it = cols_.upper_bound(b.c0);
    if (it != cols_.begin() && std::prev(it)->second.hi > b.c0) --it;
    for (; it != cols_.end() && it->first < b.c1; ++it)
        it->second.rows.dependency(b.r0, b.r1, is_write, dep);
}

void BoxMap::record(const Box& b, bool is_write, int64_t end, int32_t worker, uint32_t task) {
    if (b.r0 >= b.r1 || b.c0 >= b.c1) return;
    update(b.c0, b.c1,
           [&](IntervalMap& rows) { rows.record(b.r0, b.r1, is_write, end, worker, task); });
}

void BoxMap::assign(const Box& b, const SegState& state) {
    if (b.r0 >= b.r1 || b.c0 >= b.c1) return;
    update(b.c0, b.c1, [&](IntervalMap& rows) { rows.assign(b.r0, b.r1, state); });
}

template <class F>
void BoxMap::visit(const Box& b, F&& f) const {
    int64_t cursor = b.c0;
    auto it = cols_.upper_bound(b.c0);
    if (it != cols_.begin() && std::prev(it)->second.hi > b.c0) --it;
    while (cursor < b.c1) {
        if (it == cols_.end() || it->first >= b.c1) {
            f(Box{b.r0, b.r1, cursor, b.c1}, static_cast<const SegState*>(nullptr));
            return;
        }
        if (it->first > cursor) {
            f(Box{b.r0, b.r1, cursor, it->first}, static_cast<const SegState*>(nullptr));
            cursor = it->first;
        }
        const int64_t c_hi = std::min(it->second.hi, b.c1);
        it->second.rows.visit(b.r0, b.r1, [&](int64_t r0, int64_t r1, const SegState* st) {
            f(Box{r0, r1, cursor, c_hi}, st);
        });
        cursor = c_hi;
        ++it;
    }
}

template <class F>
void BoxMap::for_each_box(const Region& r, F&& f) const {
    const int64_t p = pitch_;
    if (r.contiguous()) {
        // A partial first row, whole rows, a partial last row.
        const int64_t lo = r.lo(), hi = r.hi();
        const int64_t r_first = floor_div(lo, p), c_first = floor_mod(lo, p);
        const int64_t r_last = floor_div(hi - 1, p), c_last = floor_mod(hi - 1, p) + 1;
        if (r_first == r_last) {
            f(Box{r_first, r_first + 1, c_first, c_last});
            return;
        }
        int64_t full0 = r_first, full1 = r_last + 1;
        if (c_first > 0) {
            f(Box{r_first, r_first + 1, c_first, p});
            full0 = r_first + 1;
        }
        if (c_last < p) full1 = r_last;
        if (full0 < full1) f(Box{full0, full1, 0, p});
        if (c_last < p) f(Box{r_last, r_last + 1, 0, c_last});
        return;
    }
    const int64_t col = floor_mod(r.base, p);
    if (r.stride % p == 0 && col + r.run_len <= p) {
        const int64_t row = floor_div(r.base, p);
        if (r.stride == p) {  // the common case: one box
            f(Box{row, row + r.count, col, col + r.run_len});
            return;
        }
        const int64_t step = r.stride / p;
        for (int64_t i = 0; i < r.count; ++i)
            f(Box{row + i * step, row + i * step + 1, col, col + r.run_len});
        return;
    }
    for (int64_t i = 0; i < r.count; ++i) {
        const int64_t lo = r.base + i * r.stride;
        for_each_box(range(lo, lo + r.run_len), f);
    }
}

// ---- TensorRegions ---------------------------------------------------------------------------

void TensorRegions::adopt(const Region& r) {
    if (boxes_ || r.contiguous() || !fits_period(r)) return;
    auto boxes = std::make_unique<BoxMap>(r.stride);
    for (const auto& [lo, seg] : flat_.segs_)
        boxes->for_each_box(range(lo, seg.hi), [&](const Box& b) { boxes->assign(b, seg.st); });
    flat_ = IntervalMap();
    boxes_ = std::move(boxes);
}

void TensorRegions::dependency(const Region& r, bool is_write, Bound& dep) const {
    if (!boxes_) {
        for (int64_t i = 0; i < r.count; ++i) {
            const int64_t lo = r.base + i * r.stride;
            flat_.dependency(lo, lo + r.run_len, is_write, dep);
        }
        return;
    }
    boxes_->for_each_box(r, [&](const Box& b) { boxes_->dependency(b, is_write, dep); });
}

void TensorRegions::record(const Region& r, bool is_write, int64_t end, int32_t worker,
                           uint32_t task) {
    if (!boxes_) {
        for (int64_t i = 0; i < r.count; ++i) {
            const int64_t lo = r.base + i * r.stride;
            flat_.record(lo, lo + r.run_len, is_write, end, worker, task);
        }
        return;
    }
    boxes_->for_each_box(r, [&](const Box& b) { boxes_->record(b, is_write, end, worker, task); });
}

template <class F>
void TensorRegions::visit(const Region& r, F&& f) const {
    if (!boxes_) {
        for (int64_t i = 0; i < r.count; ++i) {
            const int64_t lo = r.base + i * r.stride;
            flat_.visit(lo, lo + r.run_len, [&](int64_t a, int64_t b, const SegState* st) {
                f(range(a, b), st);
            });
        }
        return;
    }
    const int64_t p = boxes_->pitch();
    boxes_->for_each_box(r, [&](const Box& box) {
        boxes_->visit(box, [&](const Box& piece, const SegState* st) {
            Region part;
            if (make_region(piece.r0 * p + piece.c0, piece.c1 - piece.c0, p, piece.r1 - piece.r0,
                            part))
                f(part, st);
        });
    });
}

// ---- RegionTracker ---------------------------------------------------------------------------

void RegionTracker::dependency(int32_t tensor, const Region& r, bool is_write, Bound& dep) const {
    auto it = tensors_.find(tensor);
    if (it != tensors_.end()) it->second.dependency(r, is_write, dep);
}

void RegionTracker::record(int32_t tensor, const Region& r, bool is_write, int64_t end,
                           int32_t worker, uint32_t task) {
    tensors_[tensor].record(r, is_write, end, worker, task);
}

void RegionTracker::set_home(int32_t tensor, const HomeLayout& home) {
    if (home.sharded())
        homes_.insert_or_assign(tensor, home);
    else
        homes_.erase(tensor);
}

void RegionTracker::read_needs(int32_t tensor, const Region& r, MeshNeeds& needs) const {
    auto h = homes_.find(tensor);
    const HomeLayout* home = h == homes_.end() ? nullptr : &h->second;
    auto it = tensors_.find(tensor);
    if (it == tensors_.end()) {
        if (home != nullptr) needs.add_home(home->blocks(r));
        return;
    }
    it->second.visit(r, [&](const Region& piece, const SegState* st) {
        if (st != nullptr && st->writer != kNoWriter) {
            if (st->writer >= 0) needs.add_raw(st->write_end, st->writer, st->write_task);
        } else if (home != nullptr) {
            needs.add_home(home->blocks(piece));
        }
    });
}

int64_t RegionTracker::pitch(int32_t tensor) const {
    auto it = tensors_.find(tensor);
    return it == tensors_.end() ? 0 : it->second.pitch();
}

}  // namespace pto::sim
