// C++ access to the CSP trace of a finished run (for the Python bindings; see csp.h).
//
// A run's engine publishes its trace when it is destroyed, keyed by the run's simulator; the
// bindings take it (once) right after the run. Only the most recent few unclaimed traces are
// kept, so a caller that never asks leaks nothing lasting.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/csp.h"
#include "runtime/csp_deadlock.h"

namespace pto::csp {

/// Tasks with submission index >= first_task (up to the next segment) were submitted by
/// `process` (-1: the driver, outside any pipeline process). 8 bytes: the simulator numbers
/// tasks with 32 bits, and a pipeline that alternates processes per item has one segment per
/// task, so the record size is part of the per-event memory budget.
struct TaskSegment {
    uint32_t first_task;
    int32_t process;
};

/// The mapping kept for the next RecordBuf of records of `record_size` bytes (null when none),
/// its size in *bytes. Out of line in libpto_runtime, so the engine (which fills traces) and the
/// bindings (which drop them) share one cache.
void* record_cache_take(std::size_t record_size, std::size_t* bytes);
/// Keeps mapping (p, bytes) for `record_size`; returns the one kept before (to unmap; null when
/// none) with its size in *old_bytes.
void* record_cache_put(std::size_t record_size, void* p, std::size_t bytes, std::size_t* old_bytes);

/// An append-only array of trivially copyable records for traces of 10^6+ entries.
///
/// Why not std::vector: doubling growth copies every record again and touches twice the final
/// memory, and 4 KiB first-touch page faults dominated the engine's run time. This buffer maps
/// anonymous memory with transparent huge pages requested (madvise) and grows with mremap, which
/// moves page tables rather than bytes. Small traces stay in one small mapping.
///
/// The last large mapping released (per record type) is kept for the next buffer of that type,
/// with its pages already faulted in: a benchmark or GUI re-running the same pipeline otherwise
/// paid for zeroing megabytes of fresh pages inside every timed run (the simulator trace keeps
/// its last block the same way).
template <class T>
class RecordBuf {
    static_assert(std::is_trivially_copyable_v<T>, "RecordBuf holds plain records only");

  public:
    RecordBuf() = default;
    RecordBuf(const RecordBuf&) = delete;
    RecordBuf& operator=(const RecordBuf&) = delete;
    RecordBuf(RecordBuf&& o) noexcept { swap(o); }
    RecordBuf& operator=(RecordBuf&& o) noexcept {
        if (this != &o) {
            release();
            swap(o);
        }
        return *this;
    }
    ~RecordBuf() { release(); }

    std::size_t size() const { return r_.size; }
    bool empty() const { return r_.size == 0; }
    const T* data() const { return r_.data; }
    T* begin() { return r_.data; }
    T* end() { return r_.data + r_.size; }
    const T* begin() const { return r_.data; }
    const T* end() const { return r_.data + r_.size; }
    T& back() { return r_.data[r_.size - 1]; }
    const T& back() const { return r_.data[r_.size - 1]; }
    T& operator[](std::size_t i) { return r_.data[i]; }
    const T& operator[](std::size_t i) const { return r_.data[i]; }
    /// The fields as a plain struct, for code that appends in place while size < cap (csp.h's
    /// inline fast paths see the occupancy buffer as a pto_csp_occ_buf).
    struct Raw {
        T* data;
        std::size_t size, cap, bytes;
    };
    Raw* raw() { return &r_; }
    /// Bytes mapped for the records (what the trace costs in memory).
    std::size_t capacity_bytes() const { return r_.bytes; }

    void push_back(const T& v) {
        if (r_.size == r_.cap) [[unlikely]]
            grow();
        r_.data[r_.size++] = v;
    }
    void pop_back() { --r_.size; }
    void clear() { r_.size = 0; }

  private:
    static constexpr std::size_t kFirstBytes = 64 * 1024;
    static constexpr std::size_t kHuge = 2 * 1024 * 1024;

    void grow() {
        const std::size_t want = r_.bytes == 0 ? kFirstBytes : 2 * r_.bytes;
        void* p;
        if (r_.data == nullptr) {
            std::size_t kept = 0;
            if (void* c = record_cache_take(sizeof(T), &kept)) {
                r_.data = static_cast<T*>(c);
                r_.bytes = kept;
                r_.cap = kept / sizeof(T);
                return;
            }
            p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        } else {
            p = mremap(r_.data, r_.bytes, want, MREMAP_MAYMOVE);
        }
        if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
        if (want >= kHuge) madvise(p, want, MADV_HUGEPAGE);
#endif
        r_.data = static_cast<T*>(p);
        r_.bytes = want;
        r_.cap = want / sizeof(T);
    }
    void release() {
        if (r_.data != nullptr) {
            void* drop = r_.data;
            std::size_t drop_bytes = r_.bytes;
            if (r_.bytes >= kHuge)  // keep it; unmap the one kept before
                drop = record_cache_put(sizeof(T), drop, drop_bytes, &drop_bytes);
            if (drop != nullptr) munmap(drop, drop_bytes);
        }
        r_.data = nullptr;
        r_.size = r_.cap = r_.bytes = 0;
    }
    void swap(RecordBuf& o) noexcept {
        std::swap(r_.data, o.r_.data);
        std::swap(r_.size, o.r_.size);
        std::swap(r_.cap, o.r_.cap);
        std::swap(r_.bytes, o.r_.bytes);
    }

    Raw r_{};
};

struct Trace {
    std::vector<std::string> processes;  // by process index (replicas: "name[i]")
    std::vector<std::string> channels;   // by channel id
    std::vector<std::string> events;     // by event id
    RecordBuf<pto_csp_occupancy> occupancy;
    RecordBuf<pto_csp_wait> waits;
    std::vector<int64_t> process_start;  // per process: first clock
    std::vector<int64_t> process_end;    // per process: exit clock (-1 if it never finished)
    RecordBuf<TaskSegment> task_segments;  // which process submitted which tasks
    std::optional<Deadlock> deadlock;      // set when the run stopped on a deadlock
};

/// Removes and returns the trace published for `sim`; false when there is none (no CSP run).
bool take_trace(const pto_sim* sim, Trace& out);

}  // namespace pto::csp
