// Growable trace buffer of pto_sim_record for the scheduling simulator.
//
// Python views the records as a numpy structured array without copying. A view must never
// dangle, so once the buffer has been "pinned" (a view was handed out), growing it keeps the old
// block alive until the buffer dies instead of freeing it: an old view then shows the records it
// had when it was taken.
//
// Writing a fresh 10^6-task trace costs more in page faults (the kernel zeroing 56 MB) than in
// simulation. Large blocks (>= 2 MiB) are anonymous mappings that grow with mremap, so a first
// execute(), which has no task count to reserve for, faults each page once instead of copying
// the records at every doubling (twice the pages); and the most recently released large block is
// kept for the next simulator of the process (sim_trace.cpp): a repeated execute() reuses memory
// that is already mapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/sim.h"

namespace pto::sim {

class TraceBuffer {
public:
    explicit TraceBuffer(std::size_t reserve) { grow_to(reserve < 1024 ? 1024 : reserve); }
    ~TraceBuffer();
    TraceBuffer(const TraceBuffer&) = delete;
    TraceBuffer& operator=(const TraceBuffer&) = delete;

    pto_sim_record* append() {
        if (r_.size == r_.cap) [[unlikely]]
            grow_to(r_.cap * 2);
        return &r_.data[r_.size++];
    }
    const pto_sim_record* data() const { return r_.data; }
    std::size_t size() const { return r_.size; }
    std::size_t capacity() const { return r_.cap; }
    /// The records as sim.h's C view, for pto_sim_submit_inline (appends in place while
    /// size < cap; growing stays here).
    pto_sim_trace_buf* raw() { return &r_; }
    /// Called when a zero-copy view of the current block is handed out.
    void pin() { pinned_ = true; }

private:
    struct Block {
        void* ptr;
        std::size_t bytes;
    };
    void grow_to(std::size_t cap);

    pto_sim_trace_buf r_{nullptr, 0, 0};  // the records: block, used, capacity
    std::size_t bytes_ = 0;  // size of the block behind r_.data
    bool pinned_ = false;
    std::vector<Block> retired_;  // blocks an old view may still point into
};

}  // namespace pto::sim
