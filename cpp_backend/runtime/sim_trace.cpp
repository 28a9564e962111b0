// Memory blocks of the simulator trace (see sim_trace.h).
#include "runtime/sim_trace.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace pto::sim {
namespace {

constexpr std::size_t kHuge = std::size_t{2} << 20;

// One cached large block per process: the last one released.
std::mutex g_cache_mutex;
void* g_cache_ptr = nullptr;
std::size_t g_cache_bytes = 0;

// Returns a block of at least `bytes` bytes and sets `bytes` to its real size.
void* acquire(std::size_t& bytes) {
    if (bytes < kHuge) {
        void* p = std::malloc(bytes);
        if (p == nullptr) throw std::bad_alloc();
        return p;
    }
    bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    {
        // Reuse the cached block when it fits without wasting more than half of it.
        std::lock_guard<std::mutex> lock(g_cache_mutex);
        if (g_cache_ptr != nullptr && g_cache_bytes >= bytes && g_cache_bytes / 2 <= bytes) {
            void* p = g_cache_ptr;
            bytes = g_cache_bytes;
            g_cache_ptr = nullptr;
            g_cache_bytes = 0;
            return p;
        }
    }
    // Plain 4 KiB pages: on this kind of VM a fault of a huge page (MADV_HUGEPAGE, with
    // compaction) cost 2.5x the system time of the 4 KiB faults of the same bytes.
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
}

void release(void* p, std::size_t bytes) {
    if (p == nullptr) return;
    if (bytes < kHuge) {
        std::free(p);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(g_cache_mutex);
        std::swap(p, g_cache_ptr);
        std::swap(bytes, g_cache_bytes);
        // `p`, `bytes` are now the previously cached block (or null), unmapped below.
    }
    if (p != nullptr) munmap(p, bytes);
}

}  // namespace

TraceBuffer::~TraceBuffer() {
    release(r_.data, bytes_);
    for (const Block& b : retired_) release(b.ptr, b.bytes);
}

void TraceBuffer::grow_to(std::size_t cap) {
    std::size_t bytes = cap * sizeof(pto_sim_record);
    if (r_.data != nullptr && !pinned_ && bytes_ >= kHuge) {
        // A mapping with no view: the kernel extends or moves it (page tables, not bytes), so
        // the records already written are neither copied nor faulted in a second time.
        bytes = (bytes + kHuge - 1) / kHuge * kHuge;
        void* p = mremap(r_.data, bytes_, bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) throw std::bad_alloc();
        r_.data = static_cast<pto_sim_record*>(p);
        bytes_ = bytes;
        r_.cap = bytes / sizeof(pto_sim_record);
        return;
    }
    void* p = acquire(bytes);
    if (r_.data != nullptr) {
        std::memcpy(p, r_.data, r_.size * sizeof(pto_sim_record));
        if (pinned_)
            retired_.push_back(Block{r_.data, bytes_});  // a view may still point here
        else
            release(r_.data, bytes_);
    }
    pinned_ = false;  // the new block has no view yet
    r_.data = static_cast<pto_sim_record*>(p);
    bytes_ = bytes;
    r_.cap = bytes / sizeof(pto_sim_record);
}

}  // namespace pto::sim
