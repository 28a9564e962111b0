// The CSP engine behind csp.h: fibers, a discrete-event loop, channels, events, rotating buffers
// and deadlock diagnosis.
//
// Fibers: each process runs on its own mmap'd stack; switching is a few instructions of assembly
// on x86-64 (callee-saved registers only: processes never change the floating-point control
// state, so MXCSR / x87 control words are shared, not switched) and ucontext elsewhere. A
// process that blocks, yields or exits switches straight to the runnable process with the
// smallest (clock, index); only when none is left does control return to the scheduler loop
// on the caller's stack (the pipeline is done, deadlocked or aborted). Nothing that
// owns memory lives on a fiber stack across a switch, so an aborted pipeline (deadlock, error)
// simply abandons its fibers.
#include "runtime/csp.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/csp_trace.h"
#include "runtime/sim.h"
#include "runtime/tile.h"

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

// ---- context switch --------------------------------------------------------------------------

#if defined(__x86_64__)
extern "C" void pto_csp_switch(void** save_sp, void* load_sp);
extern "C" void pto_csp_fiber_entry();
extern "C" [[noreturn]] void pto_csp_fiber_main(void* proc);
asm(R"(
    .text
    .globl pto_csp_switch
    .hidden pto_csp_switch
    .type pto_csp_switch,@function
pto_csp_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size pto_csp_switch,.-pto_csp_switch

    .globl pto_csp_fiber_entry
    .hidden pto_csp_fiber_entry
    .type pto_csp_fiber_entry,@function
pto_csp_fiber_entry:
    movq %r12, %rdi
    call pto_csp_fiber_main
    ud2
    .size pto_csp_fiber_entry,.-pto_csp_fiber_entry
)");
#endif

// csp.h's inline fast paths see these records through their C views.
static_assert(sizeof(pto::csp::RecordBuf<pto_csp_occupancy>::Raw) == sizeof(pto_csp_occ_buf) &&
                  offsetof(pto::csp::RecordBuf<pto_csp_occupancy>::Raw, size) ==
                      offsetof(pto_csp_occ_buf, size) &&
                  offsetof(pto::csp::RecordBuf<pto_csp_occupancy>::Raw, cap) ==
                      offsetof(pto_csp_occ_buf, cap),
              "RecordBuf::Raw must match pto_csp_occ_buf");

// The per-action helpers are small and called from every action; GCC declined to inline some
// of them (a call and spills per action), so they are forced inline.
#define PTO_CSP_HOT inline __attribute__((always_inline))

namespace {

constexpr std::size_t kStackBytes = 512 * 1024;
constexpr std::size_t kGuardBytes = 4096;
constexpr std::size_t kMaxPublished = 16;
constexpr uint64_t kNoTasks = 0;

enum class State { Runnable, Running, Blocked, Done };

struct Stack {
    char* base = nullptr;  // mapping start (guard page first)
    std::size_t bytes = 0;
};

Stack map_stack() {
    const std::size_t total = kStackBytes + kGuardBytes;
    void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) return {};
    mprotect(p, kGuardBytes, PROT_NONE);
    return {static_cast<char*>(p), total};
}

// The clock is the C-visible part (csp.h's inline fast paths read and advance it).
struct Proc : pto_csp_hot_proc {
    Proc() : pto_csp_hot_proc{0} {}
    std::string name;
    pto_csp_proc_fn fn = nullptr;
    const int64_t* env = nullptr;
    Stack stack;
    void* sp = nullptr;
#if !defined(__x86_64__)
    ucontext_t uc;
#endif
    int64_t start = 0;
    int64_t end = -1;
    State state = State::Runnable;
    int32_t wait_kind = -1;
    int32_t wait_obj = -1;
    int64_t wait_since = 0;
    // The task whose end gave `clock` its value as the engine last set it (PTO_WAIT_NO_GATE:
    // none): the caller's gate on entry to a waiting action, replaced by a waker's or an item's
    // when that moves the clock (docs/semantics.md, "Gates of CSP waits").
    uint32_t gate = PTO_WAIT_NO_GATE;
    uint32_t end_gate = PTO_WAIT_NO_GATE;  // the gate of `end`
    std::vector<int32_t> produces, consumes;
};

using Item = pto_csp_item;

// The C-visible part (csp.h) holds the slots, the ring of committed items (queued <= used <=
// cap, so it never overflows and never allocates per item), the item numbers, the occupancy
// trace state (see pto_csp::occupancy_changed: the channel's last record index, -1 when none may
// still be amended, the value it holds and the value before it) and the waiter counts.
struct Chan : pto_csp_hot_chan {
    Chan() : pto_csp_hot_chan{} {
        cap = 1;
        last_commit = occ_last = -1;
        occ_value = occ_before = -1;
    }
    std::string name;
    std::vector<Item> ring_store;  // `ring` points here
    int32_t live_producers = 0;
    std::vector<int32_t> wait_send, wait_take;
    // pto_csp_release_item: the lowest item whose slot is not yet free, and which items at or
    // above it were released (ring indexed by item mod cap; items in use span < cap numbers).
    int64_t release_floor = 0;
    std::vector<uint8_t> released;
    // pto_csp_item_tag: the tags of items sent but not yet taken (few: at most the slots)
    std::map<int64_t, int64_t> tags;

    /// Mirrors the waiter lists' sizes into the C-visible counts (after every change of them).
    void sync_waiters() {
        n_wait_send = static_cast<int32_t>(wait_send.size());
        n_wait_take = static_cast<int32_t>(wait_take.size());
    }

    void push(const Item& it) {
        int64_t at = head + queued;
        if (at >= cap) at -= cap;
        ring[static_cast<std::size_t>(at)] = it;
        ++queued;
    }
    Item pop() {
        const Item it = ring[static_cast<std::size_t>(head)];
        if (++head == cap) head = 0;
        --queued;
        return it;
    }
    void reset() {
        closed = 0;
        used = 0;
        ring_store.assign(static_cast<std::size_t>(cap), Item{0, 0, PTO_WAIT_NO_GATE, 0});
        ring = ring_store.data();
        head = queued = 0;
        next_item = 0;
        last_commit = -1;
        occ_last = -1;
        occ_value = occ_before = -1;
        occ_floor = 0;
        producers = live_producers = 0;
        release_floor = 0;
        released.assign(static_cast<std::size_t>(cap), 0);
        tags.clear();
        wait_send.clear();
        wait_take.clear();
        sync_waiters();
    }
};

/// A record of an event: its cycle and the task whose end gave the recorder that cycle.
struct Signal {
    int64_t time;
    uint32_t gate;
};

struct Event {
    std::string name;
    std::vector<Signal> pending;  // records not yet taken (FIFO)
    std::size_t head = 0;
    std::vector<int32_t> waiters;
};

struct Rot {
    int32_t tensor = -1, ch = -1;
    int64_t copies = 1;
    std::vector<char*> base;   // per copy: element 0's address (copy 0 = user's array)
    std::vector<char*> alloc;  // allocations of copies 1..
};

/// A runnable process and its clock; ordered by (clock, process index).
struct ReadyKey {
    int64_t clock;
    int32_t proc;
};

inline bool earlier(const ReadyKey& a, const ReadyKey& b) {
    return a.clock < b.clock || (a.clock == b.clock && a.proc < b.proc);
}

/// The runnable processes, earliest (clock, index) first.
///
/// Why not std::priority_queue: a pipeline has a handful of processes, and at steady state one
/// or two are runnable, so the heap's sift calls dominated each switch. Up to kLinear entries
/// the set is an inline array kept sorted latest first, so the earliest entry is the last one:
/// a pop is one load and the new minimum the next entry's clock, and a push moves only the
/// entries earlier than it (none or one at steady state; no allocation). Beyond that every
/// entry moves to a binary min-heap until it shrinks again.
class ReadySet {
  public:
    /// Where the clock of the earliest entry is kept (INT64_MAX when empty): the engine's hot
    /// state, read by csp.h's inline ordering checks.
    void bind_min(int64_t* slot) {
        min_ = slot;
        *min_ = INT64_MAX;
    }
    bool empty() const { return n_ == 0; }
    void clear() {
        n_ = 0;
        heap_.clear();
        *min_ = INT64_MAX;
    }
    /// Clock of the earliest entry; INT64_MAX when empty.
    PTO_CSP_HOT int64_t min_clock() const { return *min_; }
    PTO_CSP_HOT void push(ReadyKey k) {
        if (k.clock < *min_) *min_ = k.clock;
        if (heap_.empty() && n_ < kLinear) [[likely]] {
            std::size_t i = n_++;
            for (; i > 0 && earlier(small_[i - 1], k); --i) small_[i] = small_[i - 1];
            small_[i] = k;
            return;
        }
        push_heap(k);
    }
    /// Removes and returns the earliest entry (the set must not be empty).
    PTO_CSP_HOT ReadyKey pop() {
        if (!heap_.empty()) [[unlikely]]
            return pop_heap();
        const ReadyKey k = small_[--n_];
        *min_ = n_ > 0 ? small_[n_ - 1].clock : INT64_MAX;
        return k;
    }

  private:
    static constexpr std::size_t kLinear = 16;
    static bool later(const ReadyKey& a, const ReadyKey& b) { return earlier(b, a); }
    // Heap mode (more than kLinear runnable): every entry lives in heap_, until it empties.
    __attribute__((noinline)) void push_heap(ReadyKey k) {
        if (heap_.empty()) {
            heap_.assign(small_, small_ + n_);
            std::make_heap(heap_.begin(), heap_.end(), later);
        }
        heap_.push_back(k);
        std::push_heap(heap_.begin(), heap_.end(), later);
        n_ = heap_.size();
        *min_ = heap_.front().clock;
    }
    __attribute__((noinline)) ReadyKey pop_heap() {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        const ReadyKey k = heap_.back();
        heap_.pop_back();
        n_ = heap_.size();
        if (n_ <= kLinear) {  // back to the array, latest first
            std::copy(heap_.begin(), heap_.end(), small_);
            heap_.clear();
            std::sort(small_, small_ + n_, [](const ReadyKey& a, const ReadyKey& b) {
                return earlier(b, a);
            });
            *min_ = n_ > 0 ? small_[n_ - 1].clock : INT64_MAX;
        } else {
            *min_ = heap_.front().clock;
        }
        return k;
    }
    ReadyKey small_[kLinear];
    std::size_t n_ = 0;
    int64_t* min_ = nullptr;
    std::vector<ReadyKey> heap_;
};

std::mutex g_published_mu;
std::vector<std::pair<const pto_sim*, pto::csp::Trace>> g_published;
thread_local pto_csp* t_current = nullptr;

// Visits every element offset (in elements) of a strided tensor in row-major order.
template <class F>
void for_each_offset(const pto_abi_tensor& t, F&& f) {
    int64_t total = 1;
    for (int32_t d = 0; d < t.ndim; ++d) total *= t.shape[d];
    if (total <= 0) return;
    int64_t idx[PTO_ABI_MAX_DIMS] = {0};
    for (int64_t n = 0; n < total; ++n) {
        int64_t off = 0;
        for (int32_t d = 0; d < t.ndim; ++d) off += idx[d] * t.strides[d];
        f(off);
        for (int32_t d = t.ndim - 1; d >= 0; --d) {
            if (++idx[d] < t.shape[d]) break;
            idx[d] = 0;
        }
    }
}

}  // namespace

// Hidden: the engine's member functions are internal, so calls between them bind directly
// instead of through the PLT (only the extern "C" entries are exported).
struct __attribute__((visibility("hidden"))) pto_csp {
    pto_csp_hot hot{};  // what csp.h's inline fast paths read and update
    pto_abi_run* R = nullptr;
    pto_sim* sim = nullptr;
    // The simulator's submission counter (read on every switch; a zero without a simulator).
    const uint64_t* task_counter = &kNoTasks;
    std::vector<Chan> chans;
    std::vector<Event> events;
    std::vector<Proc> procs;
    std::vector<Rot> rots;
    std::vector<Stack> free_stacks;
    std::vector<int32_t> pipe_chans;
    std::size_t pipe_first = 0;
    int64_t pipe_start = 0;
    uint32_t pipe_start_gate = PTO_WAIT_NO_GATE;
    ReadySet ready;
    void* main_sp = nullptr;
#if !defined(__x86_64__)
    ucontext_t main_uc;
#endif
    int32_t current = -1;
    bool aborted = false;
    bool in_pipe = false;
    pto::csp::RecordBuf<pto_csp_occupancy> occupancy;
    pto::csp::RecordBuf<pto_csp_wait> waits;
    // Which process submitted each task: (first submission index, process) whenever the
    // running process changes; -1 is the driver. Coalesced, so it never outgrows the task count.
    pto::csp::RecordBuf<pto::csp::TaskSegment> segments;
    pto_csp* saved_current = nullptr;
    std::optional<pto::csp::Deadlock> deadlock;  // why the run stopped, when it deadlocked

    /// Makes `p` the running process (-1: the driver) and notes where its task run begins.
    PTO_CSP_HOT void set_current(int32_t p) {
        current = p;
        if (!segments.empty() && segments.back().process == p) return;
        const auto first = static_cast<uint32_t>(*task_counter);
        if (!segments.empty() && segments.back().first_task == first) {
            segments.back().process = p;
            if (segments.size() >= 2 && segments[segments.size() - 2].process == p)
                segments.pop_back();
            return;
        }
        segments.push_back({first, p});
    }

    // ---- fibers --------------------------------------------------------------------------
    void to_main(Proc& p) {
#if defined(__x86_64__)
        pto_csp_switch(&p.sp, main_sp);
#else
        swapcontext(&p.uc, &main_uc);
#endif
    }
    void to_other(Proc& p, Proc& q) {
#if defined(__x86_64__)
        pto_csp_switch(&p.sp, q.sp);
#else
        swapcontext(&p.uc, &q.uc);
#endif
    }

    /// Leaves process `p` (already queued, blocked or done) for the earliest runnable process,
    /// or for the scheduler loop when there is none. Returns when `p` is resumed.
    void switch_away(int32_t self) {
        Proc& p = proc(self);
        while (!ready.empty()) {
            const ReadyKey k = ready.pop();
            Proc& q = proc(k.proc);
            if (q.state != State::Runnable) continue;
            q.state = State::Running;
            set_current(k.proc);
            if (k.proc == self) return;
            to_other(p, q);
            return;
        }
        set_current(-1);
        to_main(p);
    }
    void to_proc(Proc& p) {
#if defined(__x86_64__)
        pto_csp_switch(&main_sp, p.sp);
#else
        swapcontext(&main_uc, &p.uc);
#endif
    }

    // ---- discrete-event core ---------------------------------------------------------------
    Proc& proc(int32_t i) { return procs[static_cast<std::size_t>(i)]; }

    /// Lets every process with an earlier clock act first. At equal clocks the running process
    /// goes on (fewer switches; the order of simultaneous actions stays deterministic).
    PTO_CSP_HOT void advance(int32_t self, int64_t now) {
        Proc& p = proc(self);
        if (now > p.clock) p.clock = now;
        if (ready.min_clock() < p.clock) {
            p.state = State::Runnable;
            ready.push({p.clock, self});
            switch_away(self);
        }
    }

    void block(int32_t self, int32_t kind, int32_t obj) {
        Proc& p = proc(self);
        p.state = State::Blocked;
        p.wait_kind = kind;
        p.wait_obj = obj;
        p.wait_since = p.clock;
        switch_away(self);
        // Resumed: the waker set our clock.
        if (p.clock > p.wait_since)
            waits.push_back({p.wait_since, p.clock, self, obj, kind, 0});
        p.wait_kind = -1;
    }

    /// Wakes blocked process `i` at cycle `t`, which task `gate`'s end gave the waker.
    PTO_CSP_HOT void wake(int32_t i, int64_t t, uint32_t gate) {
        Proc& q = proc(i);
        if (q.state != State::Blocked) return;
        if (t > q.clock) {
            q.clock = t;
            q.gate = gate;
        }
        q.state = State::Runnable;
        ready.push({q.clock, i});
    }
    PTO_CSP_HOT void wake_all(std::vector<int32_t>& list, int64_t t, uint32_t gate) {
        if (list.empty()) return;
        for (int32_t i : list) wake(i, t, gate);
        list.clear();
    }

    /// Records the occupancy of `ch` at `t` if it changed. Changes in the same cycle coalesce
    /// into one record, and a record whose coalesced value ends where the channel was before
    /// (release then reserve in one cycle: the steady state of double buffering) is dropped, so
    /// a pipeline running at full occupancy costs no record per item. `mark` always records
    /// (the pipeline's start and end bound every channel's curve).
    PTO_CSP_HOT void occupancy_changed(int32_t ch, int64_t t, bool mark = false) {
        Chan& c = chans[ch];
        const auto used = static_cast<int32_t>(c.used);
        const bool last_is_ours = c.occ_last >= 0 &&
                                  static_cast<std::size_t>(c.occ_last) + 1 == occupancy.size();
        if (last_is_ours && occupancy.back().time == t) {
            if (used == c.occ_before && !mark && occupancy.size() > c.occ_floor) {
                occupancy.pop_back();  // no net change in this cycle
                c.occ_last = -1;
                c.occ_value = used;
                return;
            }
            occupancy.back().occupancy = used;
            c.occ_value = used;
            return;
        }
        if (used == c.occ_value && !mark) return;
        c.occ_before = c.occ_value;
        c.occ_value = used;
        c.occ_last = static_cast<int64_t>(occupancy.size());
        occupancy.push_back({t, ch, used});
    }

    [[noreturn]] void abort_from(int32_t self) {
        aborted = true;
        Proc& p = proc(self);
        p.state = State::Done;
        to_main(p);
        __builtin_unreachable();
    }

    [[noreturn]] void fail(int32_t self, const char* kind, const std::string& msg) {
        pto_abi_fail(R, "[pto:%s] %s", kind, msg.c_str());
        abort_from(self);
    }

    std::string at_cycle(int32_t self) const {
        return " (process " + procs[static_cast<std::size_t>(self)].name + " at cycle " +
               std::to_string(procs[static_cast<std::size_t>(self)].clock) + ")";
    }

    // ---- channels --------------------------------------------------------------------------
    void close_channel(int32_t ch, int64_t t, uint32_t gate) {
        Chan& c = chans[ch];
        if (c.closed) return;
        c.closed = 1;
        wake_all(c.wait_take, t, gate);
        wake_all(c.wait_send, t, gate);  // they fail with ChannelClosed
        c.sync_waiters();
    }

    int64_t reserve(int32_t self, int32_t ch, int64_t now, int32_t blocking, const char* where,
                    int64_t* item, uint32_t* gate) {
        advance(self, now);
        proc(self).gate = *gate;
        Chan& c = chans[ch];
        for (;;) {
            if (c.closed)
                fail(self, "ChannelClosed",
                     std::string(where) + ": send on closed channel " + c.name + at_cycle(self));
            const bool room = c.used < c.cap && (c.depth > 0 || !c.wait_take.empty());
            if (room) break;
            if (!blocking)
                fail(self, "ChannelFull",
                     std::string(where) + ": send(..., block=False) on full channel " + c.name +
                         " (depth " + std::to_string(c.depth) + ", " + std::to_string(c.used) +
                         " slot(s) in use)" + at_cycle(self));
            c.wait_send.push_back(self);
            c.sync_waiters();
            block(self, PTO_CSP_WAIT_SEND, ch);
        }
        ++c.used;
        *item = c.next_item++;
        occupancy_changed(ch, proc(self).clock);
        *gate = proc(self).gate;
        return proc(self).clock;
    }

    /// The item can be taken from the commit cycle plus the channel's latency on (a waiting
    /// consumer wakes then; the latency is per channel, so items stay in commit order). With
    /// one producer the item is queued before the ordering point: that producer's later items
    /// come at later cycles, so a consumer may take it "from the future" (its clock jumps to
    /// the item's cycle, recorded as a take wait) with the same outcome as waiting for it, and
    /// a switch per item is saved. With several producers an earlier item of another one
    /// may still be on its way, so the commit waits for its turn first.
    void commit(int32_t self, int32_t ch, int64_t item, int64_t now, uint32_t gate) {
        Chan& c = chans[ch];
        const bool early = c.producers <= 1;
        if (!early) advance(self, now);
        Proc& p = proc(self);
        if (now > p.clock) p.clock = now;
        const int64_t t = p.clock;
        const int64_t arrives = t + c.latency;  // when a consumer can take it
        c.push({item, arrives, gate, 0});
        c.last_commit = item;
        wake_all(c.wait_take, arrives, gate);
        c.sync_waiters();
        if (early) advance(self, t);
    }

    int32_t take(int32_t self, int32_t ch, int64_t* now, int64_t* item, uint32_t* gate) {
        advance(self, *now);
        proc(self).gate = *gate;
        Chan& c = chans[ch];
        for (;;) {
            if (c.queued > 0) {
                const Item it = c.pop();
                Proc& p = proc(self);
                if (it.time > p.clock) {  // an early commit or an item in flight (see commit())
                    waits.push_back({p.clock, it.time, self, ch, PTO_CSP_WAIT_TAKE, 0});
                    // Wait for the item's cycle like any action: the caller is then the
                    // earliest process when take() returns (as after reserve()), so a task
                    // right after it needs no ordering point of its own.
                    advance(self, it.time);
                    p.gate = it.gate;
                }
                *item = it.item;
                *now = p.clock;
                *gate = p.gate;
                return 1;
            }
            if (c.closed) {
                *now = proc(self).clock;
                *gate = proc(self).gate;
                return 0;
            }
            c.wait_take.push_back(self);
            if (c.depth == 0)  // a rendezvous partner
                wake_all(c.wait_send, proc(self).clock, proc(self).gate);
            c.sync_waiters();
            block(self, PTO_CSP_WAIT_TAKE, ch);
        }
    }

    void release(int32_t self, int32_t ch, int64_t now, uint32_t gate) {
        advance(self, now);
        Chan& c = chans[ch];
        if (c.used > 0) --c.used;
        const int64_t t = proc(self).clock;
        occupancy_changed(ch, t);
        wake_all(c.wait_send, t, gate);
        c.sync_waiters();
    }

    void release_item(int32_t self, int32_t ch, int64_t item, int64_t now, uint32_t gate) {
        advance(self, now);
        Chan& c = chans[ch];
        if (c.released.size() != static_cast<std::size_t>(c.cap))
            c.released.assign(static_cast<std::size_t>(c.cap), 0);
        c.released[static_cast<std::size_t>(item % c.cap)] = 1;
        bool freed = false;
        while (c.release_floor < c.next_item &&
               c.released[static_cast<std::size_t>(c.release_floor % c.cap)]) {
            c.released[static_cast<std::size_t>(c.release_floor % c.cap)] = 0;
            ++c.release_floor;
            if (c.used > 0) --c.used;
            freed = true;
        }
        if (!freed) return;
        const int64_t t = proc(self).clock;
        occupancy_changed(ch, t);
        wake_all(c.wait_send, t, gate);
        c.sync_waiters();
    }

    void finish(int32_t self, int64_t now, uint32_t gate) {
        advance(self, now);
        Proc& p = proc(self);
        p.end = p.clock;
        p.end_gate = gate;
        for (int32_t ch : p.produces) {
            Chan& c = chans[ch];
            if (--c.live_producers == 0) close_channel(ch, p.clock, gate);
        }
        p.state = State::Done;
    }

    // ---- events ----------------------------------------------------------------------------
    void record(int32_t ev, int64_t t, uint32_t gate) {
        Event& e = events[ev];
        e.pending.push_back({t, gate});
        wake_all(e.waiters, t, gate);
    }

    // ---- deadlock ----------------------------------------------------------------------------
    /// Processes `i` waits for (empty when nothing could ever wake it).
    std::vector<int32_t> waits_for(int32_t i) const {
        const Proc& p = procs[static_cast<std::size_t>(i)];
        std::vector<int32_t> out;
        for (std::size_t j = pipe_first; j < procs.size(); ++j) {
            const Proc& q = procs[j];
            if (q.state == State::Done || static_cast<int32_t>(j) == i) continue;
            const auto& roles = p.wait_kind == PTO_CSP_WAIT_TAKE ? q.produces : q.consumes;
            const bool hit = p.wait_kind == PTO_CSP_WAIT_EVENT ||
                             std::find(roles.begin(), roles.end(), p.wait_obj) != roles.end();
            if (hit) out.push_back(static_cast<int32_t>(j));
        }
        return out;
    }

    pto::csp::DeadlockWait wait_of(int32_t i) const {
        const Proc& p = procs[static_cast<std::size_t>(i)];
        pto::csp::DeadlockWait w;
        w.process = p.name;
        w.kind = static_cast<pto_csp_wait_kind>(p.wait_kind);
        if (p.wait_kind == PTO_CSP_WAIT_EVENT) {
            w.event = events[static_cast<std::size_t>(p.wait_obj)].name;
            return w;
        }
        const Chan& c = chans[static_cast<std::size_t>(p.wait_obj)];
        w.channel = c.name;
        w.slots_used = c.used;
        w.slots = c.cap;
        w.unfed = p.wait_kind == PTO_CSP_WAIT_TAKE && c.producers == 0;
        return w;
    }

    /// The deadlock of the current pipeline: its cycle, the wait cycle and the waits it names.
    pto::csp::Deadlock find_deadlock() const {
        pto::csp::Deadlock d;
        std::vector<int32_t> blocked;
        for (std::size_t j = pipe_first; j < procs.size(); ++j) {
            d.cycle = std::max(d.cycle, procs[j].state == State::Done ? procs[j].end : procs[j].clock);
            if (procs[j].state == State::Blocked) blocked.push_back(static_cast<int32_t>(j));
        }
        // Follow wait-for edges from each blocked process looking for a cycle.
        std::vector<int32_t> cycle;
        for (int32_t s : blocked) {
            std::vector<int32_t> path{s};
            std::vector<bool> on_path(procs.size(), false);
            on_path[static_cast<std::size_t>(s)] = true;
            int32_t cur = s;
            while (true) {
                const auto next = waits_for(cur);
                int32_t pick = -1;
                for (int32_t n : next)
                    if (procs[static_cast<std::size_t>(n)].state == State::Blocked) {
                        pick = n;
                        break;
                    }
                if (pick < 0) break;
                if (on_path[static_cast<std::size_t>(pick)]) {
                    auto it = std::find(path.begin(), path.end(), pick);
                    cycle.assign(it, path.end());
                    break;
                }
                on_path[static_cast<std::size_t>(pick)] = true;
                path.push_back(pick);
                cur = pick;
            }
            if (!cycle.empty()) break;
        }
        for (int32_t i : cycle) d.wait_cycle.push_back(procs[static_cast<std::size_t>(i)].name);
        for (int32_t i : cycle.empty() ? blocked : cycle) d.waits.push_back(wait_of(i));
        return d;
    }

    // ---- rotating buffers ------------------------------------------------------------------
    void free_rots() {
        for (Rot& r : rots)
            for (char* a : r.alloc) std::free(a);
        rots.clear();
    }

    void copy_tensor(const pto_abi_tensor& t, char* dst, const char* src) {
        const int64_t es = pto_dtype_size(t.dtype);
        for_each_offset(t, [&](int64_t off) {
            std::memcpy(dst + off * es, src + off * es, static_cast<std::size_t>(es));
        });
    }
};

// ---- fiber entry ----------------------------------------------------------------------------

extern "C" [[noreturn]] void pto_csp_fiber_main(void* arg) {
    pto_csp* C = t_current;
    const auto self = static_cast<int32_t>(reinterpret_cast<intptr_t>(arg));
    Proc& p = C->proc(self);
    const int32_t rc = p.fn(C->R, self, p.env);
    Proc& q = C->proc(self);  // procs does not grow while a pipeline runs; re-read anyway
    q.state = State::Done;
    if (rc != 0) {
        C->aborted = true;
        C->to_main(q);
    } else {
        C->switch_away(self);
    }
    __builtin_trap();
}

#if !defined(__x86_64__)
static void fiber_start_uc(int hi, int lo) {
    const auto v = (static_cast<uintptr_t>(static_cast<unsigned>(hi)) << 32) |
                   static_cast<unsigned>(lo);
    pto_csp_fiber_main(reinterpret_cast<void*>(v));
}
#endif

// ---- C API ------------------------------------------------------------------------------------

extern "C" {

pto_csp* pto_csp_create(pto_abi_run* R, int32_t n_channels, const char* const* channel_names,
                        const int64_t* channel_depths, int32_t n_events,
                        const char* const* event_names) {
    auto* C = new pto_csp();
    C->R = R;
    C->sim = R->sim;
    if (C->sim != nullptr) C->task_counter = pto_sim_task_counter(C->sim);
    C->chans.resize(static_cast<std::size_t>(std::max(n_channels, 0)));
    for (int32_t i = 0; i < n_channels; ++i) {
        C->chans[i].name = channel_names[i];
        C->chans[i].depth = channel_depths[i];
        C->chans[i].cap = std::max<int64_t>(channel_depths[i], 1);
    }
    C->ready.bind_min(&C->hot.ready_min);
    C->hot.chans = reinterpret_cast<char*>(static_cast<pto_csp_hot_chan*>(C->chans.data()));
    C->hot.chan_stride = static_cast<int64_t>(sizeof(Chan));
    C->hot.proc_stride = static_cast<int64_t>(sizeof(Proc));
    C->hot.occupancy = reinterpret_cast<pto_csp_occ_buf*>(C->occupancy.raw());
    C->events.resize(static_cast<std::size_t>(std::max(n_events, 0)));
    for (int32_t i = 0; i < n_events; ++i) C->events[i].name = event_names[i];
    C->saved_current = t_current;
    t_current = C;
    return C;
}

void pto_csp_item_tag(pto_csp* C, int32_t ch, int64_t item, int64_t value) {
    C->chans[ch].tags[item] = value;
}

int64_t pto_csp_item_tag_take(pto_csp* C, int32_t ch, int64_t item) {
    auto& tags = C->chans[ch].tags;
    auto it = tags.find(item);
    if (it == tags.end()) return item;
    const int64_t value = it->second;
    tags.erase(it);
    return value;
}

void pto_csp_channel_latency(pto_csp* C, int32_t ch, int64_t cycles) {
    C->chans[ch].latency = cycles > 0 ? cycles : 0;
}

void pto_csp_destroy(pto_csp* C) {
    if (C == nullptr) return;
    C->free_rots();
    for (Proc& p : C->procs)
        if (p.stack.base) munmap(p.stack.base, p.stack.bytes);
    for (Stack& s : C->free_stacks) munmap(s.base, s.bytes);
    pto::csp::Trace tr;
    for (const Proc& p : C->procs) {
        tr.processes.push_back(p.name);
        tr.process_start.push_back(p.start);
        tr.process_end.push_back(p.end);
    }
    for (const Chan& c : C->chans) tr.channels.push_back(c.name);
    for (const Event& e : C->events) tr.events.push_back(e.name);
    tr.occupancy = std::move(C->occupancy);
    tr.waits = std::move(C->waits);
    tr.task_segments = std::move(C->segments);
    tr.deadlock = std::move(C->deadlock);
    if (C->sim != nullptr) {
        std::lock_guard<std::mutex> lock(g_published_mu);
        for (auto it = g_published.begin(); it != g_published.end(); ++it)
            if (it->first == C->sim) {
                g_published.erase(it);
                break;
            }
        if (g_published.size() >= kMaxPublished) g_published.erase(g_published.begin());
        g_published.emplace_back(C->sim, std::move(tr));
    }
    t_current = C->saved_current;
    delete C;
}

pto_csp* pto_csp_of(pto_abi_run* R) {
    return t_current != nullptr && t_current->R == R ? t_current : nullptr;
}

void pto_csp_pipe_begin(pto_csp* C, int64_t start, uint32_t gate) {
    C->pipe_first = C->procs.size();
    C->pipe_start = start;
    C->pipe_start_gate = gate;
    C->pipe_chans.clear();
    C->aborted = false;
    C->in_pipe = true;
    C->free_rots();
}

void pto_csp_pipe_channel(pto_csp* C, int32_t ch) {
    C->chans[ch].reset();
    C->pipe_chans.push_back(ch);
    C->occupancy_changed(ch, C->pipe_start, true);
    C->chans[ch].occ_floor = C->occupancy.size();
}

int32_t pto_csp_spawn(pto_csp* C, const char* name, pto_csp_proc_fn fn, const int64_t* env) {
    Proc p;
    p.name = name;
    p.fn = fn;
    p.env = env;
    p.clock = p.start = C->pipe_start;
    p.gate = C->pipe_start_gate;
    C->procs.push_back(std::move(p));
    C->hot.procs = reinterpret_cast<char*>(static_cast<pto_csp_hot_proc*>(C->procs.data()));
    return static_cast<int32_t>(C->procs.size() - 1);
}

void pto_csp_role(pto_csp* C, int32_t proc, int32_t ch, int32_t produces) {
    Proc& p = C->proc(proc);
    if (produces) {
        p.produces.push_back(ch);
        ++C->chans[ch].producers;
        ++C->chans[ch].live_producers;
    } else {
        p.consumes.push_back(ch);
    }
}

int32_t pto_csp_rotate(pto_csp* C, int32_t rot, int32_t tensor, int32_t ch, int64_t copies) {
    if (static_cast<std::size_t>(rot) >= C->rots.size())
        C->rots.resize(static_cast<std::size_t>(rot) + 1);
    Rot& r = C->rots[rot];
    r.tensor = tensor;
    r.ch = ch;
    r.copies = copies;
    const pto_abi_tensor& t = C->R->tensors[tensor];
    const int64_t es = pto_dtype_size(t.dtype);
    int64_t lo = 0, hi = 0;
    for (int32_t d = 0; d < t.ndim; ++d) {
        const int64_t span = (t.shape[d] - 1) * t.strides[d];
        if (t.shape[d] <= 0) return 0;
        (span < 0 ? lo : hi) += span;
    }
    r.base.assign(1, static_cast<char*>(t.data));
    for (int64_t k = 1; k < copies; ++k) {
        auto* a = static_cast<char*>(std::malloc(static_cast<std::size_t>((hi - lo + 1) * es)));
        if (a == nullptr)
            return pto_abi_fail(C->R, "out of memory for copy %lld of rotating buffer (tensor %d)",
                                static_cast<long long>(k), tensor);
        r.alloc.push_back(a);
        char* base = a - lo * es;
        r.base.push_back(base);
        C->copy_tensor(t, base, static_cast<const char*>(t.data));
    }
    return 0;
}

void* pto_csp_rot_base(pto_csp* C, int32_t rot, int64_t copy) {
    return C->rots[rot].base[static_cast<std::size_t>(copy)];
}

int32_t pto_csp_pipe_run(pto_csp* C, int64_t* end, uint32_t* end_gate) {
    // Start every process of the pipeline.
    for (std::size_t i = C->pipe_first; i < C->procs.size(); ++i) {
        Proc& p = C->procs[i];
        if (!C->free_stacks.empty()) {
            p.stack = C->free_stacks.back();
            C->free_stacks.pop_back();
        } else {
            p.stack = map_stack();
            if (p.stack.base == nullptr)
                return pto_abi_fail(C->R, "out of memory for the stack of process %s",
                                    p.name.c_str());
        }
        char* top = p.stack.base + p.stack.bytes;
#if defined(__x86_64__)
        // Popped by pto_csp_switch: r15 r14 r13 r12 rbx rbp, then `ret` to the entry thunk,
        // which leaves rsp 16-byte aligned before its call (the SysV ABI's requirement).
        // 9 slots: top - 72 is 8 mod 16, so after the 7 pops rsp == top - 16 (aligned).
        auto* sp = reinterpret_cast<uint64_t*>(top) - 9;
        sp[0] = 0;                         // r15
        sp[1] = 0;                         // r14
        sp[2] = 0;                         // r13
        sp[3] = static_cast<uint64_t>(i);  // r12: the process index
        sp[4] = 0;                         // rbx
        sp[5] = 0;                         // rbp
        sp[6] = reinterpret_cast<uint64_t>(&pto_csp_fiber_entry);
        sp[7] = sp[8] = 0;                 // padding above the aligned stack top
        p.sp = sp;
#else
        getcontext(&p.uc);
        p.uc.uc_stack.ss_sp = p.stack.base + kGuardBytes;
        p.uc.uc_stack.ss_size = kStackBytes;
        p.uc.uc_link = nullptr;
        makecontext(&p.uc, reinterpret_cast<void (*)()>(fiber_start_uc), 2,
                    static_cast<int>(static_cast<uint64_t>(i) >> 32),
                    static_cast<int>(static_cast<uint64_t>(i) & 0xffffffffu));
#endif
        p.state = State::Runnable;
        C->ready.push({p.clock, static_cast<int32_t>(i)});
    }
    // Channels with producers close when they all finish; those without never close implicitly.
    while (!C->ready.empty() && !C->aborted) {
        const ReadyKey k = C->ready.pop();
        Proc& p = C->proc(k.proc);
        if (p.state != State::Runnable) continue;
        p.state = State::Running;
        C->set_current(k.proc);
        C->to_proc(p);
        C->set_current(-1);
    }
    int32_t rc = 0;
    if (C->aborted) {
        rc = 1;
    } else {
        bool stuck = false;
        for (std::size_t i = C->pipe_first; i < C->procs.size(); ++i)
            if (C->procs[i].state != State::Done) stuck = true;
        if (stuck) {
            C->deadlock = C->find_deadlock();
            rc = pto_abi_fail(C->R, "[pto:DeadlockError] %s", C->deadlock->message().c_str());
        }
    }
    C->ready.clear();
    int64_t e = C->pipe_start;
    uint32_t eg = C->pipe_start_gate;
    for (std::size_t i = C->pipe_first; i < C->procs.size(); ++i) {
        Proc& p = C->procs[i];
        const int64_t pe = p.end >= 0 ? p.end : p.clock;
        if (pe > e) {
            e = pe;
            eg = p.end >= 0 ? p.end_gate : p.gate;
        }
        if (p.stack.base) C->free_stacks.push_back(p.stack);
        p.stack = {};
        p.sp = nullptr;
    }
    for (int32_t ch : C->pipe_chans) C->occupancy_changed(ch, e, true);
    // The user's array receives the last item's copy of each rotating buffer: what the
    // sequential program leaves in a buffer every item writes the same part of (the only kind
    // that rotates, cpu_sim_csp.cpp). Last = the highest item number (reservation order), the
    // last one the program as written sends, whichever producer's task ended last.
    for (Rot& r : C->rots) {
        const int64_t last = C->chans[r.ch].next_item - 1;
        const int64_t copy = last >= 0 ? last % r.copies : 0;
        if (copy > 0) C->copy_tensor(C->R->tensors[r.tensor], r.base[0], r.base[copy]);
    }
    C->free_rots();
    C->in_pipe = false;
    *end = e;
    *end_gate = eg;
    return rc;
}

int64_t pto_csp_clock(pto_csp* C, int32_t self) { return C->proc(self).clock; }

uint32_t pto_csp_start_gate(pto_csp* C) { return C->pipe_start_gate; }

void pto_csp_at(pto_csp* C, int32_t self, int64_t now) { C->advance(self, now); }

pto_csp_hot* pto_csp_hot_of(pto_csp* C) { return &C->hot; }

void pto_csp_note_occupancy(pto_csp* C, int32_t ch, int64_t t) { C->occupancy_changed(ch, t); }

int64_t pto_csp_reserve(pto_csp* C, int32_t self, int32_t ch, int64_t now, int32_t block,
                        const char* where, int64_t* item, uint32_t* gate) {
    return C->reserve(self, ch, now, block, where, item, gate);
}

void pto_csp_commit(pto_csp* C, int32_t self, int32_t ch, int64_t item, int64_t now,
                    uint32_t gate) {
    C->commit(self, ch, item, now, gate);
}

int32_t pto_csp_take(pto_csp* C, int32_t self, int32_t ch, int64_t* now, int64_t* item,
                     uint32_t* gate) {
    return C->take(self, ch, now, item, gate);
}

void pto_csp_release(pto_csp* C, int32_t self, int32_t ch, int64_t now, uint32_t gate) {
    C->release(self, ch, now, gate);
}

void pto_csp_release_item(pto_csp* C, int32_t self, int32_t ch, int64_t item, int64_t now,
                          uint32_t gate) {
    C->release_item(self, ch, item, now, gate);
}

void pto_csp_close(pto_csp* C, int32_t self, int32_t ch, int64_t now, uint32_t gate) {
    if (self >= 0) {
        C->advance(self, now);
        now = C->proc(self).clock;
    }
    C->close_channel(ch, now, gate);
}

int32_t pto_csp_exit(pto_csp* C, int32_t self, int64_t now, uint32_t gate) {
    C->finish(self, now, gate);
    return 0;
}

void pto_csp_record(pto_csp* C, int32_t self, int32_t ev, int64_t now, uint32_t gate) {
    if (self >= 0) {
        C->advance(self, now);
        now = C->proc(self).clock;
    }
    C->record(ev, now, gate);
}

int64_t pto_csp_synchronize(pto_csp* C, int32_t self, int32_t ev, int64_t now,
                            const char* where, uint32_t* gate) {
    Event& e = C->events[ev];
    if (self < 0) {
        if (e.head == e.pending.size()) {
            pto::csp::DeadlockWait w;
            w.kind = PTO_CSP_WAIT_EVENT;
            w.event = e.name;
            w.where = where;
            C->deadlock = pto::csp::Deadlock{now, {}, {w}};
            pto_abi_fail(C->R, "[pto:DeadlockError] %s", C->deadlock->message().c_str());
            return -1;
        }
        const Signal s = e.pending[e.head++];
        if (s.time <= now) return now;
        *gate = s.gate;
        return s.time;
    }
    C->advance(self, now);
    C->proc(self).gate = *gate;
    while (e.head == e.pending.size()) {
        e.waiters.push_back(self);
        C->block(self, PTO_CSP_WAIT_EVENT, ev);
    }
    Proc& p = C->proc(self);
    const Signal s = e.pending[e.head++];
    if (s.time > p.clock) {
        p.clock = s.time;
        p.gate = s.gate;
    }
    *gate = p.gate;
    return p.clock;
}

int64_t pto_csp_query(pto_csp* C, int32_t self, int32_t ev, int64_t now) {
    if (self >= 0) C->advance(self, now);
    const Event& e = C->events[ev];
    return e.head < e.pending.size() ? 1 : 0;
}

}  // extern "C"

// ---- trace access ---------------------------------------------------------------------------

namespace pto::csp {

namespace {
struct KeptMapping {
    std::size_t record_size = 0;
    void* ptr = nullptr;
    std::size_t bytes = 0;
};
std::mutex g_kept_mu;
KeptMapping g_kept[4];  // one per record type (occupancy, waits, task segments; one spare)
}  // namespace

void* record_cache_take(std::size_t record_size, std::size_t* bytes) {
    std::lock_guard<std::mutex> lock(g_kept_mu);
    for (KeptMapping& k : g_kept)
        if (k.record_size == record_size && k.ptr != nullptr) {
            void* p = k.ptr;
            *bytes = k.bytes;
            k.ptr = nullptr;
            k.bytes = 0;
            return p;
        }
    *bytes = 0;
    return nullptr;
}

void* record_cache_put(std::size_t record_size, void* p, std::size_t bytes,
                       std::size_t* old_bytes) {
    std::lock_guard<std::mutex> lock(g_kept_mu);
    KeptMapping* slot = nullptr;
    for (KeptMapping& k : g_kept)
        if (k.record_size == record_size) slot = &k;
    if (slot == nullptr)
        for (KeptMapping& k : g_kept)
            if (k.ptr == nullptr && (slot == nullptr || k.record_size == 0)) slot = &k;
    if (slot == nullptr) {  // every slot holds another record type: do not keep this one
        *old_bytes = bytes;
        return p;
    }
    void* old = slot->ptr;
    *old_bytes = slot->bytes;
    *slot = KeptMapping{record_size, p, bytes};
    return old;
}

bool take_trace(const pto_sim* sim, Trace& out) {
    std::lock_guard<std::mutex> lock(g_published_mu);
    for (auto it = g_published.begin(); it != g_published.end(); ++it)
        if (it->first == sim) {
            out = std::move(it->second);
            g_published.erase(it);
            return true;
        }
    return false;
}

}  // namespace pto::csp
