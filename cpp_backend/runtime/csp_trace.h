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
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/csp.h"

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

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const T* data() const { return data_; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }
    T& back() { return data_[size_ - 1]; }
    const T& back() const { return data_[size_ - 1]; }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    /// Bytes mapped for the records (what the trace costs in memory).
    std::size_t capacity_bytes() const { return bytes_; }

    void push_back(const T& v) {
        if (size_ == cap_) [[unlikely]]
            grow();
        data_[size_++] = v;
    }
    void pop_back() { --size_; }
    void clear() { size_ = 0; }

  private:
    static constexpr std::size_t kFirstBytes = 64 * 1024;
    static constexpr std::size_t kHuge = 2 * 1024 * 1024;

    void grow() {
        const std::size_t want = bytes_ == 0 ? kFirstBytes : 2 * bytes_;
        void* p;
        if (data_ == nullptr) {
            std::size_t kept = 0;
            if (void* c = record_cache_take(sizeof(T), &kept)) {
                data_ = static_cast<T*>(c);
                bytes_ = kept;
                cap_ = kept / sizeof(T);
                return;
            }
            p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        } else {
            p = mremap(data_, bytes_, want, MREMAP_MAYMOVE);
        }
        if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
        if (want >= kHuge) madvise(p, want, MADV_HUGEPAGE);
#endif
        data_ = static_cast<T*>(p);
        bytes_ = want;
        cap_ = want / sizeof(T);
    }
    void release() {
        if (data_ != nullptr) {
            void* drop = data_;
            std::size_t drop_bytes = bytes_;
            if (bytes_ >= kHuge)  // keep it; unmap the one kept before
                drop = record_cache_put(sizeof(T), drop, drop_bytes, &drop_bytes);
            if (drop != nullptr) munmap(drop, drop_bytes);
        }
        data_ = nullptr;
        size_ = cap_ = bytes_ = 0;
    }
    void swap(RecordBuf& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        std::swap(cap_, o.cap_);
        std::swap(bytes_, o.bytes_);
    }

    T* data_ = nullptr;
    std::size_t size_ = 0, cap_ = 0, bytes_ = 0;
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
};

/// Removes and returns the trace published for `sim`; false when there is none (no CSP run).
bool take_trace(const pto_sim* sim, Trace& out);

}  // namespace pto::csp
