// The cycle-level scheduling simulator behind sim.h.
//
// Model (docs/semantics.md, "Scheduling model"): tasks arrive in program order. Each task is
// first *issued* (the issue clock, monotonic in issue order, models the timing policy, the
// dispatcher's per-task issue cost and the task window) and then *placed*:
// start = max(ready, issue, stream free, worker free) where ready = max(min_start, region
// dependencies); end = start + cycles.
//
// Every bound travels as a pto::sim::Bound (wait_bound.h): its cycle, its PTO_WAIT_* kind and the
// task whose end produced it. The start's gating cause is the bound that wins the max (equal ones
// go by kind order) and is recorded in the trace (pto_sim_record.cause / gate). The issue clock
// carries the bound that last moved it (timing policy, window stall, issue cost), so a task issued
// at the clock inherits the reason the clock is where it is.
//
// Task-graph policies (docs/semantics.md, "Task-graph policies") may *hold* issued tasks before
// placing them: a ready policy list-schedules groups of held tasks (a worker takes the policy's
// choice among its ready tasks instead of the next one in issue order), and a start threshold
// holds the first tasks until the n-th issue.
//
// The plain path (immediate timing, no window, no region accesses) does no allocation, no map
// lookup and no virtual call: a worker choice, a few max() and one trace record.
#include "runtime/sim.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "runtime/regions.h"
#include "runtime/sim_trace.h"

namespace {

// One declared access of the next task: a (strided) element region of a tensor (regions.h).
struct Access {
    int32_t tensor;
    bool write;
    pto::sim::Region r;
};

inline bool conflicts(const Access& a, const Access& b) {
    return a.tensor == b.tensor && (a.write || b.write) && pto::sim::overlaps(a.r, b.r);
}

// A task held back by a buffering timing policy, or issued and held by a ready-policy group or a
// closed start threshold (then `issue` is its issue time).
struct Pending {
    pto_sim_task task;
    uint32_t index;
    pto::sim::Bound ready;
    std::vector<Access> accesses;
    pto::sim::Bound issue{};
};

// Interleaved timing buffers at most this many tasks per lane before it stops waiting for empty
// lanes (keeps memory bounded when some lane never receives work).
constexpr std::size_t kInterleaveDepth = 256;

inline int64_t norm_mod(int64_t key, int64_t n) { return ((key % n) + n) % n; }

using pto::sim::Bound;

// The driver's static bound of task t (min_start, of kind min_cause set by task min_gate).
inline Bound min_bound(const pto_sim_task& t) {
    Bound b;
    b.raise(t.min_start, t.min_cause, t.min_gate);
    return b;
}

// gate and cause as the one 8-byte word they form in pto_sim_task and pto_sim_record (gate in
// the low half): the plain path moves them with one load and one store.
inline uint64_t pack_why(uint32_t gate, int32_t cause) {
    return static_cast<uint64_t>(gate) | static_cast<uint64_t>(static_cast<uint32_t>(cause)) << 32;
}
static_assert(offsetof(pto_sim_record, cause) == offsetof(pto_sim_record, gate) + 4);
static_assert(offsetof(pto_sim_task, min_cause) == offsetof(pto_sim_task, min_gate) + 4);

}  // namespace

struct pto_sim {
    explicit pto_sim(const pto_sim_config& c)
        : cfg(c),
          wk(static_cast<std::size_t>(c.workers),
             Worker{0, pack_why(PTO_WAIT_NO_GATE, PTO_WAIT_WORKER), 0}),
          stream_end(static_cast<std::size_t>(c.streams), 0),
          stream_last(static_cast<std::size_t>(c.streams), PTO_WAIT_NO_GATE),
          trace(c.trace ? static_cast<std::size_t>(std::max<int64_t>(c.trace_reserve, 0)) : 0) {
        const auto n = static_cast<uint32_t>(c.workers);
        worker_mask = (n & (n - 1)) == 0 ? n - 1 : 0;
        // The pool tables belong to the caller: copy them, keep no pointer.
        for (int32_t p = 0, base = 0; p < c.n_pools; base += c.pool_sizes[p], ++p) {
            pool_base.push_back(static_cast<uint32_t>(base));
            pool_size.push_back(static_cast<uint32_t>(c.pool_sizes[p]));
        }
        pool_next.assign(pool_size.size(), 0);
        if (c.n_kernel_pools > 0 && c.n_pools > 0)
            kernel_pool.assign(c.kernel_pool, c.kernel_pool + c.n_kernel_pools);
        cfg.pool_sizes = nullptr;
        cfg.kernel_pool = nullptr;
        ready_order = c.ready_policy != PTO_SIM_READY_IN_ORDER;
        gate_closed = c.start_threshold > 0;
        holding = ready_order || gate_closed;
        hold_limit = group_limit();
        plain = c.timing == PTO_SIM_IMMEDIATE && c.window == 0 && c.issue_cycles == 0.0 &&
                !holding;
        round_robin_plain = plain && c.streams == 0 && c.dispatch == PTO_SIM_ROUND_ROBIN &&
                            kernel_pool.empty();
        buffering = c.timing == PTO_SIM_BATCHED || c.timing == PTO_SIM_INTERLEAVED;
        keep_ends = buffering || holding;
        if (c.timing == PTO_SIM_BATCHED || c.timing == PTO_SIM_INTERLEAVED)
            group = static_cast<std::size_t>(c.timing_param);
        if (c.timing == PTO_SIM_INTERLEAVED) lanes.resize(group);
        if (c.timing == PTO_SIM_RATE_LIMIT)
            rate_period = 1.0e6 / c.timing_param / c.ns_per_cycle;  // cycles between issues
        if (c.mesh_cols > 0) mesh = pto::sim::Mesh(c.workers, c.mesh_cols, c.hop);
        if (keep_ends && c.trace_reserve > 0) ends.reserve(static_cast<std::size_t>(c.trace_reserve));
        hot.wk = wk.data();  // wk never resizes
        hot.trace = c.trace ? trace.raw() : nullptr;
        hot.worker_mask = worker_mask;
        sync_fast();
    }

    /// Whether sim.h's inline path applies to the next task: submit()'s plain round-robin case
    /// over a power-of-two number of workers, with no accesses declared for the task. Called
    /// after every change of next_acc.
    void sync_fast() {
        const auto n = static_cast<uint32_t>(cfg.workers);
        hot.fast = round_robin_plain && (n & (n - 1)) == 0 && next_acc.empty() ? 1 : 0;
    }

    // ---- placement (the hot part) -------------------------------------------------------------

    uint32_t home_worker(uint32_t index) const {
        return worker_mask != 0 || cfg.workers == 1 ? (index & worker_mask)
                                                    : index % static_cast<uint32_t>(cfg.workers);
    }

    // The workers [lo, lo + n) a task of `kernel` may run on: its pool's, else all; pool -1 = none.
    void worker_range(int32_t kernel, uint32_t& lo, uint32_t& n, int32_t& pool) const {
        pool = kernel >= 0 && static_cast<std::size_t>(kernel) < kernel_pool.size()
                   ? kernel_pool[static_cast<std::size_t>(kernel)]
                   : -1;
        lo = pool < 0 ? 0 : pool_base[static_cast<std::size_t>(pool)];
        n = pool < 0 ? static_cast<uint32_t>(cfg.workers) : pool_size[static_cast<std::size_t>(pool)];
    }

    // The dispatch policy applied within [lo, lo + n) with home worker `home`; t0 = the earliest
    // start from ready/issue/stream (work stealing compares possible starts, hop delays of the
    // data the task reads, `needs`, included).
    uint32_t pick_in(const pto_sim_task& t, uint32_t home, uint32_t lo, uint32_t n, int64_t t0,
                     const pto::sim::MeshNeeds* needs) const {
        switch (cfg.dispatch) {
            case PTO_SIM_AFFINITY:
            case PTO_SIM_DISPATCH_BY:
                return lo + static_cast<uint32_t>(norm_mod(t.dispatch_key, n));
            case PTO_SIM_HASH:
                return lo + static_cast<uint32_t>(
                                pto_sim_splitmix64(static_cast<uint64_t>(t.dispatch_key)) % n);
            case PTO_SIM_WORK_STEAL: {
                // Earliest possible start wins; ties go to the home worker, then the lowest index.
                uint32_t w = home;
                int64_t best = std::max(arrive(needs, t0, w), wk[w].free_at);
                for (uint32_t k = lo; k < lo + n; ++k) {
                    const int64_t s = std::max(arrive(needs, t0, k), wk[k].free_at);
                    if (s < best) {
                        best = s;
                        w = k;
                    }
                }
                return w;
            }
            default:
                return home;
        }
    }

    // The worker of task `index` under the dispatch policy; with pools, within its kernel's pool
    // (round robin / work-steal homes count per pool). Called once per task.
    uint32_t pick_worker(const pto_sim_task& t, uint32_t index, int64_t t0,
                         const pto::sim::MeshNeeds* needs) {
        if (kernel_pool.empty()) [[likely]]
            return pick_in(t, home_worker(index), 0, static_cast<uint32_t>(cfg.workers), t0, needs);
        uint32_t lo, n;
        int32_t pool;
        worker_range(t.kernel, lo, n, pool);
        const uint32_t home =
            pool < 0 ? home_worker(index)
                     : lo + static_cast<uint32_t>(pool_next[static_cast<std::size_t>(pool)]++ % n);
        return pick_in(t, home, lo, n, t0, needs);
    }

    // Fixes start/end of a task that has been issued at `issue` and is ready at `ready`.
    int64_t place(const pto_sim_task& t, uint32_t index, const Bound& ready, const Bound& issue,
                  const Access* acc, std::size_t n_acc) {
        Bound b = ready;
        b.raise(issue);
        int32_t stream = -1;
        if (cfg.streams > 0) {
            stream = static_cast<int32_t>(norm_mod(t.stream_key, cfg.streams));
            const auto s = static_cast<std::size_t>(stream);
            b.raise(stream_end[s], PTO_WAIT_STREAM, stream_last[s]);
        }
        const pto::sim::MeshNeeds* needs = mesh_needs(acc, n_acc);
        const uint32_t w = pick_worker(t, index, b.t, needs);
        if (needs != nullptr) b.raise(mesh.ready_bound(*needs, static_cast<int32_t>(w)));
        b.raise(wk[w].free_at, PTO_WAIT_WORKER, last_task(w));
        return commit(t, index, w, stream, b, acc, n_acc);
    }

    // ---- mesh (spatial_map): data that crosses tiles costs hops (mesh.h) ------------------------

    // What the reads among `acc` need from other tiles, or nullptr (no mesh, nothing to move).
    const pto::sim::MeshNeeds* mesh_needs(const Access* acc, std::size_t n_acc) {
        if (!mesh.enabled() || n_acc == 0) return nullptr;
        needs.clear();
        for (std::size_t i = 0; i < n_acc; ++i)
            if (!acc[i].write) regions.read_needs(acc[i].tensor, acc[i].r, needs);
        return needs.empty() ? nullptr : &needs;
    }

    // Earliest start on worker k given t0 and what the task reads from other tiles (`needs`,
    // from mesh_needs(); nullptr: nothing to move).
    int64_t arrive(const pto::sim::MeshNeeds* needs, int64_t t0, uint32_t k) const {
        return needs == nullptr ? t0 : std::max(t0, mesh.ready(*needs, static_cast<int32_t>(k)));
    }

    // The same for a held task placed by list_schedule() on worker k.
    int64_t arrive(const Pending& p, int64_t t0, uint32_t k) {
        return arrive(mesh_needs(p.accesses.data(), p.accesses.size()), t0, k);
    }

    // Raises `b` by the mesh arrival on worker k of what held task p reads.
    void raise_arrival(const Pending& p, uint32_t k, Bound& b) {
        if (const pto::sim::MeshNeeds* n = mesh_needs(p.accesses.data(), p.accesses.size()))
            b.raise(mesh.ready_bound(*n, static_cast<int32_t>(k)));
    }

    // Runs task `index` on worker w from `why.t` (why: the gating bound): updates the worker,
    // stream, window, regions, retained ends and the trace. Returns the end.
    int64_t commit(const pto_sim_task& t, uint32_t index, uint32_t w, int32_t stream,
                   const Bound& why, const Access* acc, std::size_t n_acc) {
        const int64_t start = why.t;
        const int64_t end = start + t.cycles;
        wk[w].free_at = end;
        wk[w].last = pack_why(index, PTO_WAIT_WORKER);
        wk[w].busy += t.cycles;
        if (stream >= 0) {
            stream_end[static_cast<std::size_t>(stream)] = end;
            stream_last[static_cast<std::size_t>(stream)] = index;
        }
        if (end > hot.makespan) hot.makespan = end;
        if (cfg.window > 0) inflight.emplace(end, index);
        for (std::size_t i = 0; i < n_acc; ++i)
            regions.record(acc[i].tensor, acc[i].r, acc[i].write, end, static_cast<int32_t>(w),
                           index);
        if (keep_ends) ends[index] = end;
        if (cfg.trace)
            record(t, index, static_cast<int32_t>(w), stream, start, end, pack_why(why.gate, why.kind));
        return end;
    }

    // The last task run on worker w (PTO_WAIT_NO_GATE: none yet).
    uint32_t last_task(uint32_t w) const { return static_cast<uint32_t>(wk[w].last); }

    // Appends task `index`'s trace record (the caller checked cfg.trace).
    // `why` = pack_why(gate, cause).
    void record(const pto_sim_task& t, uint32_t index, int32_t worker, int32_t stream,
                int64_t start, int64_t end, uint64_t why) {
        pto_sim_record* r = trace.append();
        r->task = index;
        r->kernel = t.kernel;
        r->worker = worker;
        r->stream = stream;
        r->start = start;
        r->end = end;
        std::memcpy(r->idx, t.idx, sizeof r->idx);
        std::memcpy(&r->gate, &why, sizeof why);
    }

    // ---- issue clock: timing policy constraints and the task window --------------------------

    // The next issue time and what fixed it: the clock (with the reason it is there), a timing
    // constraint (a batched group's ready), the rate limit, a window stall (the in-flight task
    // whose end released it) or the issue cost (no gate task: the dispatcher's own time).
    Bound next_issue_time(const Bound& constraint) {
        Bound b = issue_at;
        b.raise(constraint);
        if (cfg.timing == PTO_SIM_RATE_LIMIT) {
            // The i-th issue (0-based) is not before i * period; the epsilon absorbs float noise.
            const double at = static_cast<double>(issued) * rate_period;
            b.raise(static_cast<int64_t>(std::ceil(at - 1e-9)), PTO_WAIT_TIMING, PTO_WAIT_NO_GATE);
        }
        if (cfg.window > 0) {
            // Held tasks are issued and not placed yet: in flight. A group closes at the window
            // size, so at least one placed task is in flight when the window is full.
            while (!inflight.empty() && inflight.top().first <= b.t) inflight.pop();
            if (static_cast<int64_t>(inflight.size() + held.size()) >= cfg.window &&
                !inflight.empty()) {
                // Stall until the earliest in-flight task ends.
                b.raise(inflight.top().first, PTO_WAIT_WINDOW, inflight.top().second);
                inflight.pop();
            }
        }
        if (cfg.issue_cycles > 0.0) {
            // The dispatcher spends issue_cycles per task; fractions accumulate exactly.
            issue_frac += cfg.issue_cycles;
            const double whole = std::floor(issue_frac);
            issue_frac -= whole;
            if (whole > 0.0) b = Bound{b.t + static_cast<int64_t>(whole), PTO_WAIT_NO_GATE, PTO_WAIT_ISSUE};
        }
        issue_at = b;
        ++issued;
        return b;
    }

    // Issues `p` (moved from): places it, or holds it (ready-policy group / closed threshold).
    void issue(Pending& p, const Bound& constraint) {
        const Bound at = next_issue_time(constraint);
        if (!holding) {
            place(p.task, p.index, p.ready, at, p.accesses.data(), p.accesses.size());
            return;
        }
        p.issue = at;
        held_with_access += p.accesses.empty() ? 0 : 1;
        held.push_back(std::move(p));
        if (held.size() >= hold_limit) release();
    }

    // ---- task-graph policies: held tasks ---------------------------------------------------------

    // Tasks held before the next release: a ready-policy group is capped by the window (the
    // dispatcher cannot issue more before one ends) or PTO_SIM_READY_GROUP; the first group holds
    // at least start_threshold tasks. A threshold alone holds until the n-th issue (at most the
    // window).
    std::size_t group_limit() const {
        const auto window = static_cast<std::size_t>(cfg.window);
        const std::size_t group = window > 0 ? window : PTO_SIM_READY_GROUP;
        if (!gate_closed) return group;
        const auto n = static_cast<std::size_t>(cfg.start_threshold);
        if (!ready_order) return window > 0 ? std::min(n, window) : n;
        return window > 0 ? group : std::max(n, group);
    }

    // Places every held task. The first release opens the start gate: no held task starts before
    // the threshold-th issue (or the last one, when fewer tasks are held: a flush, a dependency,
    // the end of the program or a full window released them).
    void release() {
        if (held.empty()) return;
        Bound gate;  // the start gate: no task's end opens it, the n-th issue does
        if (gate_closed) {
            const auto n = static_cast<std::size_t>(cfg.start_threshold);
            gate.raise(held[std::min(n, held.size()) - 1].issue.t, PTO_WAIT_START_POLICY,
                       PTO_WAIT_NO_GATE);
            gate_closed = false;
            holding = ready_order;
            hold_limit = group_limit();
        }
        if (ready_order) {
            list_schedule(gate);
        } else {
            for (const Pending& p : held) {
                Bound at = p.issue;
                at.raise(gate);
                place(p.task, p.index, p.ready, at, p.accesses.data(), p.accesses.size());
            }
        }
        held.clear();
        held_with_access = 0;
    }

    // Whether held task i goes before held task j among ready tasks (i != j; held order = issue
    // order).
    bool before(std::size_t i, std::size_t j) const {
        switch (cfg.ready_policy) {
            case PTO_SIM_READY_LIFO:
                return i > j;
            case PTO_SIM_READY_PRIORITY: {
                const int64_t a = held[i].task.ready_key, b = held[j].task.ready_key;
                return a < b || (a == b && i < j);
            }
            default:
                return i < j;
        }
    }

    // List-schedules the held group with an event loop. Dispatch fixes each task's worker
    // (work_steal: any worker of its pool, or of all workers). The worker that is free first
    // (lowest index on ties) takes, among its tasks that are ready by then, the one the ready
    // policy prefers; with none ready it idles until its earliest ready one. A stream's tasks
    // stay in issue order: a task joins its queue when its stream predecessor has started (its
    // end is then known). Each queue keeps a heap by ready time and a heap by policy order of the
    // tasks ready by now (decisions are made in non-decreasing time), so a group of m tasks costs
    // O(m log m) plus O(workers) per decision.
    void list_schedule(const Bound& gate) {
        constexpr int64_t kNever = INT64_MAX;
        using Waiting = std::pair<int64_t, uint32_t>;  // (ready time, held index)
        struct Queue {
            std::vector<Waiting> waiting;  // min-heap by ready time
            std::vector<uint32_t> ready;   // heap, top = the policy's first choice
            uint32_t lo, n;                // the workers that take from it
        };
        const auto later = [](const Waiting& a, const Waiting& b) { return a > b; };
        const auto after = [this](uint32_t a, uint32_t b) { return before(b, a); };
        const std::size_t m = held.size();
        const auto nw = static_cast<uint32_t>(cfg.workers);
        const bool steal = cfg.dispatch == PTO_SIM_WORK_STEAL;
        const std::size_t n_pools = pool_size.size();
        // Queues 0..nw-1: by worker; work_steal adds one per pool, then one for all workers.
        std::vector<Queue> queue(nw + (steal ? n_pools + 1 : 0));
        for (uint32_t w = 0; w < nw; ++w) queue[w].lo = w, queue[w].n = 1;
        std::vector<int32_t> pool_of(nw, -1);
        if (steal) {
            for (std::size_t p = 0; p < n_pools; ++p) {
                queue[nw + p].lo = pool_base[p];
                queue[nw + p].n = pool_size[p];
                for (uint32_t k = 0; k < pool_size[p]; ++k)
                    pool_of[pool_base[p] + k] = static_cast<int32_t>(p);
            }
            queue[nw + n_pools].lo = 0;
            queue[nw + n_pools].n = nw;
        }
        std::vector<Bound> ready(m);  // what each task waits for before it can start
        std::vector<int32_t> stream(m, -1), next(m, -1);
        std::vector<uint32_t> queue_of(m);
        std::vector<char> placed(m, 0);
        std::vector<int32_t> last(static_cast<std::size_t>(cfg.streams), -1);
        const auto enqueue = [&](uint32_t i) {
            auto& w = queue[queue_of[i]].waiting;
            w.emplace_back(ready[i].t, i);
            std::push_heap(w.begin(), w.end(), later);
        };
        for (uint32_t i = 0; i < m; ++i) {
            const Pending& p = held[i];
            ready[i] = p.ready;
            ready[i].raise(p.issue);
            ready[i].raise(gate);
            if (steal) {
                uint32_t lo, n;
                int32_t pool;
                worker_range(p.task.kernel, lo, n, pool);
                queue_of[i] = static_cast<uint32_t>(nw + (pool < 0 ? n_pools : static_cast<std::size_t>(pool)));
            } else {
                queue_of[i] = pick_worker(p.task, p.index, 0, nullptr);
                // The worker is fixed: data from other tiles arrives hops * hop later (the
                // group's tasks do not conflict, so what they read was written before it).
                if (mesh.enabled()) raise_arrival(p, queue_of[i], ready[i]);
            }
            bool eligible = true;
            if (cfg.streams > 0) {
                stream[i] = static_cast<int32_t>(norm_mod(p.task.stream_key, cfg.streams));
                int32_t& prev = last[static_cast<std::size_t>(stream[i])];
                if (prev >= 0) {
                    next[static_cast<std::size_t>(prev)] = static_cast<int32_t>(i);
                    eligible = false;
                } else {
                    const auto s = static_cast<std::size_t>(stream[i]);
                    ready[i].raise(stream_end[s], PTO_WAIT_STREAM, stream_last[s]);
                }
                prev = static_cast<int32_t>(i);
            }
            if (eligible) enqueue(i);
        }
        std::vector<int64_t> wake(nw);
        for (uint32_t k = 0; k < nw; ++k) wake[k] = wk[k].free_at;
        for (std::size_t left = m; left > 0;) {
            uint32_t w = 0;
            int64_t now = kNever;
            for (uint32_t k = 0; k < nw; ++k)
                if (wake[k] < now) {
                    now = wake[k];
                    w = k;
                }
            // Unreachable (a stream's first unplaced task is always queued and wakes the workers
            // of its queue); kept so that a broken invariant cannot lose tasks.
            if (now == kNever) {
                for (uint32_t i = 0; i < m; ++i)
                    if (!placed[i])
                        place(held[i].task, held[i].index, ready[i], gate, held[i].accesses.data(),
                              held[i].accesses.size());
                return;
            }
            std::size_t mine[3] = {w, 0, 0}, n_mine = 1;
            if (steal) {
                if (pool_of[w] >= 0) mine[n_mine++] = nw + static_cast<std::size_t>(pool_of[w]);
                mine[n_mine++] = nw + n_pools;
            }
            int64_t idle_until = kNever;
            Queue* best = nullptr;
            for (std::size_t k = 0; k < n_mine; ++k) {
                Queue& q = queue[mine[k]];
                while (!q.waiting.empty() && q.waiting.front().first <= now) {
                    std::pop_heap(q.waiting.begin(), q.waiting.end(), later);
                    q.ready.push_back(q.waiting.back().second);
                    std::push_heap(q.ready.begin(), q.ready.end(), after);
                    q.waiting.pop_back();
                }
                if (!q.waiting.empty()) idle_until = std::min(idle_until, q.waiting.front().first);
                if (!q.ready.empty() && (best == nullptr || before(q.ready.front(), best->ready.front())))
                    best = &q;
            }
            if (best == nullptr) {
                wake[w] = idle_until;  // idle until the earliest ready task (kNever: none queued)
                continue;
            }
            uint32_t i;
            if (steal && mesh.enabled()) {
                // Shared queues on a mesh: "ready" depends on the worker (data from other tiles
                // arrives hops * hop later), so w takes the policy's first task whose data has
                // reached w by now, else idles until the soonest arrival. O(queued) per decision.
                Queue* bq = nullptr;
                std::size_t bpos = 0;
                int64_t soonest = idle_until;
                for (std::size_t k = 0; k < n_mine; ++k) {
                    Queue& q = queue[mine[k]];
                    for (std::size_t pos = 0; pos < q.ready.size(); ++pos) {
                        const uint32_t c = q.ready[pos];
                        const int64_t at = arrive(held[c], now, w);
                        if (at > now)
                            soonest = std::min(soonest, at);
                        else if (bq == nullptr || before(c, bq->ready[bpos]))
                            bq = &q, bpos = pos;
                    }
                }
                if (bq == nullptr) {
                    wake[w] = soonest;
                    continue;
                }
                i = bq->ready[bpos];
                bq->ready[bpos] = bq->ready.back();
                bq->ready.pop_back();
                std::make_heap(bq->ready.begin(), bq->ready.end(), after);
            } else {
                std::pop_heap(best->ready.begin(), best->ready.end(), after);
                i = best->ready.back();
                best->ready.pop_back();
            }
            const Pending& p = held[i];
            // Ready by now: started at its ready bound, else it waited for worker w (busy with
            // its previous task, or running the tasks the policy preferred).
            Bound why = ready[i];
            if (steal && mesh.enabled()) raise_arrival(p, w, why);
            if (now > why.t) why = Bound{now, last_task(w), PTO_WAIT_WORKER};
            const int64_t end =
                commit(p.task, p.index, w, stream[i], why, p.accesses.data(), p.accesses.size());
            placed[i] = 1;
            wake[w] = end;
            --left;
            if (next[i] >= 0) {  // the stream successor can start once this task ends
                const auto j = static_cast<uint32_t>(next[i]);
                ready[j].raise(end, PTO_WAIT_STREAM, p.index);
                enqueue(j);
                const Queue& q = queue[queue_of[j]];
                for (uint32_t k = q.lo; k < q.lo + q.n; ++k)
                    wake[k] = std::min(wake[k], std::max(ready[j].t, wk[k].free_at));
            }
        }
    }

    // ---- buffering timing policies -------------------------------------------------------------

    void issue_batch() {
        if (batch.empty()) return;
        // A group is issued when its last member is ready: a timing bound whose gate is the task
        // whose end made that member ready.
        Bound group_ready;
        for (const Pending& p : batch) group_ready.raise(p.ready);
        if (group_ready.t > 0) group_ready.kind = PTO_WAIT_TIMING;
        for (Pending& p : batch) issue(p, group_ready);
        pending_with_access -= batch_with_access;
        batch_with_access = 0;
        batch.clear();
    }

    // Issues from the interleave lanes in rotation. Waits at an empty lane unless draining or the
    // buffer is over its bound.
    void pump(bool drain) {
        const std::size_t cap = kInterleaveDepth * group;
        while (buffered > 0) {
            if (lanes[lane_ptr].empty()) {
                if (!drain && buffered <= cap) break;
                lane_ptr = (lane_ptr + 1) % group;
                continue;
            }
            Pending& p = lanes[lane_ptr].front();
            if (!p.accesses.empty()) --pending_with_access;
            issue(p, Bound{});
            lanes[lane_ptr].pop_front();
            --buffered;
            lane_ptr = (lane_ptr + 1) % group;
        }
    }

    void flush() {
        if (cfg.timing == PTO_SIM_BATCHED) issue_batch();
        if (cfg.timing == PTO_SIM_INTERLEAVED) pump(true);
        release();
    }

    bool conflicts_with_pending(const std::vector<Access>& acc) const {
        auto check = [&](const Pending& p) {
            for (const Access& a : p.accesses)
                for (const Access& b : acc)
                    if (conflicts(a, b)) return true;
            return false;
        };
        for (const Pending& p : batch)
            if (check(p)) return true;
        for (const auto& lane : lanes)
            for (const Pending& p : lane)
                if (check(p)) return true;
        if (held_with_access > 0)
            for (const Pending& p : held)
                if (check(p)) return true;
        return false;
    }

    // ---- submit --------------------------------------------------------------------------------

    // `b` raised by the region dependencies of the accesses declared for the next task.
    Bound region_ready(Bound b) const {
        for (const Access& a : next_acc) regions.dependency(a.tensor, a.r, a.write, b);
        return b;
    }

    /// The common case, kept small enough to inline into pto_sim_submit(): immediate timing,
    /// no window, no streams, round-robin dispatch and no declared accesses. Same placement as
    /// place() with issue 0: start = max(min_start, 0, worker free), so the callee-saved
    /// register spills and policy branches of the general path are skipped.
    int64_t submit(const pto_sim_task& t) {
        if (round_robin_plain && next_acc.empty()) [[likely]] {
            const uint32_t index = static_cast<uint32_t>(hot.task_count++);
            const uint32_t w = home_worker(index);
            Worker& k = wk[w];
            int64_t start = t.min_start > 0 ? t.min_start : 0;
            uint64_t why;  // (min_gate, min_cause): (PTO_WAIT_NO_GATE, PTO_WAIT_NONE) at 0 (sim.h)
            std::memcpy(&why, &t.min_gate, sizeof why);
            if (k.free_at > start) {  // every min_start kind goes before "worker" on ties
                start = k.free_at;
                why = k.last;  // (its last task, PTO_WAIT_WORKER)
            }
            const int64_t end = start + t.cycles;
            k.free_at = end;
            k.last = pack_why(index, PTO_WAIT_WORKER);
            k.busy += t.cycles;
            if (end > hot.makespan) hot.makespan = end;
            if (cfg.trace) record(t, index, static_cast<int32_t>(w), -1, start, end, why);
            return end;
        }
        return submit_general(t);
    }

    __attribute__((noinline)) int64_t submit_general(const pto_sim_task& t) {
        const int64_t end = submit_held_or_placed(t);
        sync_fast();  // next_acc was consumed
        return end;
    }

    int64_t submit_held_or_placed(const pto_sim_task& t) {
        const uint32_t index = static_cast<uint32_t>(hot.task_count++);
        if (plain && next_acc.empty()) [[likely]]
            return place(t, index, min_bound(t), Bound{}, nullptr, 0);
        if (!keep_ends) {
            const Bound ready = region_ready(min_bound(t));
            const Bound at = next_issue_time(Bound{});
            const int64_t end = place(t, index, ready, at, next_acc.data(), next_acc.size());
            next_acc.clear();
            return end;
        }
        // Buffering and holding policies: a task whose accesses conflict with a buffered or held
        // task's accesses needs that task's end, so everything held is issued and placed first.
        if (!next_acc.empty() && pending_with_access + held_with_access > 0 &&
            conflicts_with_pending(next_acc))
            flush();
        ends.push_back(PTO_SIM_PENDING);
        Pending p{t, index, region_ready(min_bound(t)), std::move(next_acc)};
        next_acc = std::vector<Access>();
        if (!buffering) {  // holding only: issued now, held or placed by issue()
            issue(p, Bound{});
            return ends[index];
        }
        const bool has_access = !p.accesses.empty();
        pending_with_access += has_access ? 1 : 0;
        if (cfg.timing == PTO_SIM_BATCHED) {
            batch.push_back(std::move(p));
            batch_with_access += has_access ? 1 : 0;
            if (batch.size() == group) issue_batch();
        } else {
            lanes[static_cast<std::size_t>(norm_mod(t.stream_key, static_cast<int64_t>(group)))]
                .push_back(std::move(p));
            ++buffered;
            pump(false);
        }
        return ends[index];
    }

    // A gang task (pto_sim_submit_gang): held tasks are placed first, then the gang starts on
    // every listed worker at once and takes one submission index (and trace record) per worker.
    int64_t submit_gang(const pto_sim_task& t, const int32_t* ws, int32_t n) {
        if (ws == nullptr || n < 1) return -2;
        for (int32_t i = 0; i < n; ++i) {
            if (ws[i] < 0 || ws[i] >= cfg.workers) return -2;
            for (int32_t j = 0; j < i; ++j)
                if (ws[j] == ws[i]) return -2;
        }
        flush();
        Bound why = region_ready(min_bound(t));
        why.raise(next_issue_time(Bound{}));
        for (int32_t i = 0; i < n; ++i) {
            const auto w = static_cast<std::size_t>(ws[i]);
            why.raise(wk[w].free_at, PTO_WAIT_WORKER, last_task(static_cast<uint32_t>(w)));
        }
        const int64_t start = why.t;
        const int64_t end = start + t.cycles;
        const auto first = static_cast<uint32_t>(hot.task_count);
        for (int32_t i = 0; i < n; ++i) {
            const auto w = static_cast<std::size_t>(ws[i]);
            const uint32_t index = static_cast<uint32_t>(hot.task_count++);
            wk[w].free_at = end;
            wk[w].last = pack_why(index, PTO_WAIT_WORKER);
            wk[w].busy += t.cycles;
            if (keep_ends) ends.push_back(end);
            if (cfg.window > 0) inflight.emplace(end, index);
            if (cfg.trace) record(t, index, ws[i], -1, start, end, pack_why(why.gate, why.kind));
        }
        if (end > hot.makespan) hot.makespan = end;
        for (const Access& a : next_acc)  // the result is local on every worker of the gang
            regions.record(a.tensor, a.r, a.write, end, pto::sim::kEveryWorker, first);
        next_acc.clear();
        sync_fast();
        return end;
    }

    int64_t task_end(uint32_t index) {
        if (index >= hot.task_count) return -1;
        if (keep_ends) {
            if (ends[index] == PTO_SIM_PENDING) flush();
            return ends[index];
        }
        return cfg.trace ? trace.data()[index].end : -1;
    }

    // What sim.h's pto_sim_submit_inline reads and updates: the submission counter, the
    // makespan, the worker records (wk's) and the trace buffer, and whether it applies.
    pto_sim_hot hot{};
    pto_sim_config cfg;
    // Per worker (free_at, last = pack_why(its last task, PTO_WAIT_WORKER), busy), together so
    // the plain path addresses one array; sim.h's C view, for the inline path.
    using Worker = pto_sim_worker;
    std::vector<Worker> wk;
    std::vector<int64_t> stream_end;    // per stream: end of its last task
    std::vector<uint32_t> stream_last;  // per stream: its last task
    pto::sim::TraceBuffer trace;
    uint32_t worker_mask = 0;
    bool plain = true;
    bool round_robin_plain = true;  // plain, no streams, round robin, no pools: submit()'s inline path
    bool buffering = false;
    bool keep_ends = false;  // ends retained by submission index (buffering or holding)

    // issue clock
    Bound issue_at;  // the issue clock and the bound that last moved it
    uint64_t issued = 0;
    double rate_period = 0.0;
    double issue_frac = 0.0;  // accumulated fraction of issue_cycles not yet on the clock
    using Inflight = std::pair<int64_t, uint32_t>;  // (end, task) of an in-flight task
    std::priority_queue<Inflight, std::vector<Inflight>, std::greater<Inflight>> inflight;

    // regions
    pto::sim::RegionTracker regions;
    std::vector<Access> next_acc;  // accesses declared for the next submit

    // mesh
    pto::sim::Mesh mesh;                             // disabled unless mesh_cols > 0
    pto::sim::MeshNeeds needs;  // scratch of mesh_needs()

    // buffering
    std::size_t group = 0;          // batched n / interleaved k
    std::vector<int64_t> ends;      // by submission index (buffering policies only)
    std::vector<Pending> batch;
    std::vector<std::deque<Pending>> lanes;
    std::size_t lane_ptr = 0;
    std::size_t buffered = 0;
    std::size_t pending_with_access = 0;
    std::size_t batch_with_access = 0;

    // task-graph policies
    std::vector<uint32_t> pool_base, pool_size;  // by pool: first worker, worker count
    std::vector<uint64_t> pool_next;             // by pool: round-robin counter
    std::vector<int32_t> kernel_pool;            // by kernel id: pool or -1 (empty: no pools)
    bool ready_order = false;                    // a ready policy list-schedules held groups
    bool gate_closed = false;                    // start threshold not reached yet
    bool holding = false;                        // issued tasks are held (ready_order || gate_closed)
    std::size_t hold_limit = 0;                  // release when this many tasks are held
    std::vector<Pending> held;                   // issued, not placed, in issue order
    std::size_t held_with_access = 0;
};

extern "C" {

uint64_t pto_sim_splitmix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pto_sim_config_init(pto_sim_config* cfg) {
    cfg->workers = PTO_SIM_DEFAULT_WORKERS;
    cfg->dispatch = PTO_SIM_ROUND_ROBIN;
    cfg->streams = 0;
    cfg->timing = PTO_SIM_IMMEDIATE;
    cfg->timing_param = 0.0;
    cfg->window = 0;
    cfg->ns_per_cycle = 1.0;
    cfg->trace = 1;
    cfg->trace_reserve = 0;
    cfg->issue_cycles = 0.0;
    cfg->ready_policy = PTO_SIM_READY_IN_ORDER;
    cfg->start_threshold = 0;
    cfg->n_pools = 0;
    cfg->n_kernel_pools = 0;
    cfg->pool_sizes = nullptr;
    cfg->kernel_pool = nullptr;
    cfg->mesh_cols = 0;
    cfg->hop = 16.0;
}

const char* pto_sim_config_check(const pto_sim_config* cfg) {
    if (cfg->workers < 1) return "workers must be >= 1";
    if (cfg->dispatch < PTO_SIM_ROUND_ROBIN || cfg->dispatch > PTO_SIM_WORK_STEAL)
        return "dispatch must be one of round_robin, affinity, hash, dispatch_by, work_steal";
    if (cfg->streams < 0) return "streams must be >= 0";
    if (cfg->window < 0) return "window must be >= 0 (0 = unlimited)";
    if (!(cfg->ns_per_cycle > 0.0) || !std::isfinite(cfg->ns_per_cycle))
        return "ns_per_cycle must be a finite number > 0";
    if (cfg->trace_reserve < 0) return "trace_reserve must be >= 0";
    if (cfg->mesh_cols < 0) return "mesh_cols must be >= 0 (0 = no mesh)";
    if (cfg->mesh_cols > 0 && cfg->workers % cfg->mesh_cols != 0)
        return "workers must be a multiple of mesh_cols (the mesh is workers / mesh_cols rows)";
    if (!(cfg->hop >= 0.0) || !std::isfinite(cfg->hop)) return "hop must be a finite number >= 0";
    if (!(cfg->issue_cycles >= 0.0) || !std::isfinite(cfg->issue_cycles))
        return "issue_cycles must be a finite number >= 0";
    if (cfg->ready_policy < PTO_SIM_READY_IN_ORDER || cfg->ready_policy > PTO_SIM_READY_PRIORITY)
        return "ready_policy must be one of in_order, fifo, lifo, priority";
    if (cfg->start_threshold < 0) return "start_threshold must be >= 0 (0 = eager)";
    if (cfg->n_pools < 0 || cfg->n_kernel_pools < 0) return "n_pools and n_kernel_pools must be >= 0";
    if (cfg->n_pools > 0) {
        if (cfg->pool_sizes == nullptr) return "pool_sizes is NULL while n_pools > 0";
        int64_t total = 0;
        for (int32_t p = 0; p < cfg->n_pools; ++p) {
            if (cfg->pool_sizes[p] < 1) return "every pool size must be >= 1";
            total += cfg->pool_sizes[p];
        }
        if (total > cfg->workers) return "the pool sizes add up to more than workers";
        if (cfg->n_kernel_pools > 0 && cfg->kernel_pool == nullptr)
            return "kernel_pool is NULL while n_kernel_pools > 0";
        for (int32_t k = 0; k < cfg->n_kernel_pools; ++k)
            if (cfg->kernel_pool[k] < -1 || cfg->kernel_pool[k] >= cfg->n_pools)
                return "kernel_pool entries must be -1 (any worker) or a pool index < n_pools";
    }
    switch (cfg->timing) {
        case PTO_SIM_IMMEDIATE:
            return nullptr;
        case PTO_SIM_BATCHED:
        case PTO_SIM_INTERLEAVED:
            if (!(cfg->timing_param >= 1.0) || cfg->timing_param > 1e9 ||
                cfg->timing_param != std::floor(cfg->timing_param))
                return cfg->timing == PTO_SIM_BATCHED
                           ? "batched(n) needs an integer n >= 1 (timing_param)"
                           : "interleaved(k) needs an integer k >= 1 (timing_param)";
            return nullptr;
        case PTO_SIM_RATE_LIMIT:
            if (!(cfg->timing_param > 0.0) || !std::isfinite(cfg->timing_param))
                return "rate_limit(tasks_per_ms) needs a finite tasks_per_ms > 0 (timing_param)";
            return nullptr;
        default:
            return "timing must be one of immediate, batched, interleaved, rate_limit";
    }
}

pto_sim* pto_sim_create(const pto_sim_config* cfg) {
    if (pto_sim_config_check(cfg) != nullptr) return nullptr;
    return new pto_sim(*cfg);
}

void pto_sim_destroy(pto_sim* sim) { delete sim; }

void pto_sim_access(pto_sim* sim, int32_t tensor, int64_t lo, int64_t hi, int32_t is_write) {
    if (lo >= hi) return;  // an empty range touches nothing
    sim->next_acc.push_back(Access{tensor, is_write != 0, pto::sim::Region{lo, hi - lo, 0, 1}});
    sim->hot.fast = 0;
}

void pto_sim_access_strided(pto_sim* sim, int32_t tensor, int64_t base, int64_t run_len,
                            int64_t stride, int64_t count, int32_t is_write) {
    pto::sim::Region r;
    if (!pto::sim::make_region(base, run_len, stride, count, r)) return;  // touches nothing
    sim->regions.adopt(tensor, r);
    sim->next_acc.push_back(Access{tensor, is_write != 0, r});
    sim->hot.fast = 0;
}

void pto_sim_tensor_home(pto_sim* sim, int32_t tensor, int32_t ndim, const int64_t* shape,
                         const int64_t* strides, const int32_t* coord, const int64_t* coord_size) {
    sim->regions.set_home(tensor, pto::sim::HomeLayout(ndim, shape, strides, coord, coord_size));
}

int64_t pto_sim_region_pitch(const pto_sim* sim, int32_t tensor) {
    return sim->regions.pitch(tensor);
}

int64_t pto_sim_submit(pto_sim* sim, const pto_sim_task* task) { return sim->submit(*task); }

int64_t pto_sim_submit_gang(pto_sim* sim, const pto_sim_task* task, const int32_t* workers,
                            int32_t n) {
    return sim->submit_gang(*task, workers, n);
}

int64_t pto_sim_task_end(pto_sim* sim, uint32_t task) { return sim->task_end(task); }

void pto_sim_flush(pto_sim* sim) { sim->flush(); }

void pto_sim_finish(pto_sim* sim) { sim->flush(); }

int64_t pto_sim_total_cycles(const pto_sim* sim) { return sim->hot.makespan; }

uint64_t pto_sim_task_count(const pto_sim* sim) { return sim->hot.task_count; }

const uint64_t* pto_sim_task_counter(const pto_sim* sim) { return &sim->hot.task_count; }

pto_sim_hot* pto_sim_hot_of(pto_sim* sim) { return sim != nullptr ? &sim->hot : nullptr; }

int32_t pto_sim_workers(const pto_sim* sim) { return sim->cfg.workers; }

int64_t pto_sim_worker_busy(const pto_sim* sim, int32_t worker) {
    if (worker < 0 || worker >= sim->cfg.workers) return -1;
    return sim->wk[static_cast<std::size_t>(worker)].busy;
}

const pto_sim_record* pto_sim_trace_data(const pto_sim* sim) { return sim->trace.data(); }

const pto_sim_record* pto_sim_trace_view(pto_sim* sim) {
    sim->trace.pin();
    return sim->trace.data();
}

uint64_t pto_sim_trace_length(const pto_sim* sim) { return sim->trace.size(); }

}  // extern "C"
