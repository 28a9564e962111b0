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
    void* p = std::aligned_alloc(kHuge, bytes);
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);  // advisory: ignored where transparent huge pages are off
#endif
    return p;
}

void release(void* p, std::size_t bytes) {
    if (p == nullptr) return;
    if (bytes >= kHuge) {
        std::lock_guard<std::mutex> lock(g_cache_mutex);
        std::swap(p, g_cache_ptr);
        g_cache_bytes = bytes;
        // `p` is now the previously cached block (or null), freed below.
    }
    std::free(p);
}

}  // namespace

TraceBuffer::~TraceBuffer() {
    release(data_, bytes_);
    for (const Block& b : retired_) release(b.ptr, b.bytes);
}

void TraceBuffer::grow_to(std::size_t cap) {
    std::size_t bytes = cap * sizeof(pto_sim_record);
    void* p = acquire(bytes);
    if (data_ != nullptr) {
        std::memcpy(p, data_, size_ * sizeof(pto_sim_record));
        if (pinned_)
            retired_.push_back(Block{data_, bytes_});  // a view may still point here
        else
            release(data_, bytes_);
    }
    pinned_ = false;  // the new block has no view yet
    data_ = static_cast<pto_sim_record*>(p);
    bytes_ = bytes;
    cap_ = bytes / sizeof(pto_sim_record);
}

}  // namespace pto::sim
