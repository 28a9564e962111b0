// The cycle-level scheduling simulator behind sim.h.
//
// Model (docs/semantics.md, "Scheduling model"): tasks arrive in program order. Each task is
// first *issued* (the issue clock, monotonic in issue order, models the timing policy and the
// task window) and then *placed*: start = max(ready, issue, stream free, worker free) where
// ready = max(min_start, region dependencies); end = start + cycles.
//
// The plain path (immediate timing, no window, no region accesses) does no allocation, no map
// lookup and no virtual call: a worker choice, a few max() and one trace record.
#include "runtime/sim.h"

#include <algorithm>
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

struct Access {
    int32_t tensor;
    bool write;
    int64_t lo;
    int64_t hi;
};

inline bool conflicts(const Access& a, const Access& b) {
    return a.tensor == b.tensor && (a.write || b.write) && a.lo < b.hi && b.lo < a.hi;
}

// A task held back by a buffering timing policy.
struct Pending {
    pto_sim_task task;
    uint32_t index;
    int64_t ready;
    std::vector<Access> accesses;
};

// Interleaved timing buffers at most this many tasks per lane before it stops waiting for empty
// lanes (keeps memory bounded when some lane never receives work).
constexpr std::size_t kInterleaveDepth = 256;

inline int64_t norm_mod(int64_t key, int64_t n) { return ((key % n) + n) % n; }

}  // namespace

struct pto_sim {
    explicit pto_sim(const pto_sim_config& c)
        : cfg(c),
          free_at(static_cast<std::size_t>(c.workers), 0),
          busy(static_cast<std::size_t>(c.workers), 0),
          stream_end(static_cast<std::size_t>(c.streams), 0),
          trace(c.trace ? static_cast<std::size_t>(std::max<int64_t>(c.trace_reserve, 0)) : 0) {
        const auto n = static_cast<uint32_t>(c.workers);
        worker_mask = (n & (n - 1)) == 0 ? n - 1 : 0;
        plain = c.timing == PTO_SIM_IMMEDIATE && c.window == 0;
        round_robin_plain = plain && c.streams == 0 && c.dispatch == PTO_SIM_ROUND_ROBIN;
        buffering = c.timing == PTO_SIM_BATCHED || c.timing == PTO_SIM_INTERLEAVED;
        if (c.timing == PTO_SIM_BATCHED || c.timing == PTO_SIM_INTERLEAVED)
            group = static_cast<std::size_t>(c.timing_param);
        if (c.timing == PTO_SIM_INTERLEAVED) lanes.resize(group);
        if (c.timing == PTO_SIM_RATE_LIMIT)
            rate_period = 1.0e6 / c.timing_param / c.ns_per_cycle;  // cycles between issues
        if (buffering && c.trace_reserve > 0) ends.reserve(static_cast<std::size_t>(c.trace_reserve));
    }

    // ---- placement (the hot part) -------------------------------------------------------------

    uint32_t home_worker(uint32_t index) const {
        return worker_mask != 0 || cfg.workers == 1 ? (index & worker_mask)
                                                    : index % static_cast<uint32_t>(cfg.workers);
    }

    // Fixes start/end of a task that has been issued at `issue` and is ready at `ready`.
    int64_t place(const pto_sim_task& t, uint32_t index, int64_t ready, int64_t issue,
                  const Access* acc, std::size_t n_acc) {
        int64_t t0 = ready > issue ? ready : issue;
        int32_t stream = -1;
        if (cfg.streams > 0) {
            stream = static_cast<int32_t>(norm_mod(t.stream_key, cfg.streams));
            t0 = std::max(t0, stream_end[static_cast<std::size_t>(stream)]);
        }
        uint32_t w;
        switch (cfg.dispatch) {
            case PTO_SIM_AFFINITY:
            case PTO_SIM_DISPATCH_BY:
                w = static_cast<uint32_t>(norm_mod(t.dispatch_key, cfg.workers));
                break;
            case PTO_SIM_HASH:
                w = static_cast<uint32_t>(pto_sim_splitmix64(static_cast<uint64_t>(t.dispatch_key)) %
                                          static_cast<uint64_t>(cfg.workers));
                break;
            case PTO_SIM_WORK_STEAL: {
                // Earliest possible start wins; ties go to the home worker, then the lowest index.
                w = home_worker(index);
                int64_t best = std::max(t0, free_at[w]);
                for (uint32_t k = 0; k < static_cast<uint32_t>(cfg.workers); ++k) {
                    const int64_t s = std::max(t0, free_at[k]);
                    if (s < best) {
                        best = s;
                        w = k;
                    }
                }
                break;
            }
            default:
                w = home_worker(index);
        }
        const int64_t start = std::max(t0, free_at[w]);
        const int64_t end = start + t.cycles;
        free_at[w] = end;
        busy[w] += t.cycles;
        if (stream >= 0) stream_end[static_cast<std::size_t>(stream)] = end;
        if (end > makespan) makespan = end;
        if (cfg.window > 0) inflight.push(end);
        for (std::size_t i = 0; i < n_acc; ++i)
            regions.record(acc[i].tensor, acc[i].lo, acc[i].hi, acc[i].write, end);
        if (buffering) ends[index] = end;
        if (cfg.trace) {
            pto_sim_record* r = trace.append();
            r->task = index;
            r->kernel = t.kernel;
            r->worker = static_cast<int32_t>(w);
            r->stream = stream;
            r->start = start;
            r->end = end;
            std::memcpy(r->idx, t.idx, sizeof r->idx);
        }
        return end;
    }

    // ---- issue clock: timing policy constraints and the task window --------------------------

    int64_t next_issue_time(int64_t constraint) {
        int64_t t = std::max(issue_clock, constraint);
        if (cfg.timing == PTO_SIM_RATE_LIMIT) {
            // The i-th issue (0-based) is not before i * period; the epsilon absorbs float noise.
            const double at = static_cast<double>(issued) * rate_period;
            t = std::max(t, static_cast<int64_t>(std::ceil(at - 1e-9)));
        }
        if (cfg.window > 0) {
            while (!inflight.empty() && inflight.top() <= t) inflight.pop();
            if (static_cast<int64_t>(inflight.size()) >= cfg.window) {
                t = std::max(t, inflight.top());  // stall until the earliest in-flight task ends
                inflight.pop();
            }
        }
        issue_clock = t;
        ++issued;
        return t;
    }

    int64_t issue(const Pending& p, int64_t constraint) {
        const int64_t at = next_issue_time(constraint);
        return place(p.task, p.index, p.ready, at, p.accesses.data(), p.accesses.size());
    }

    // ---- buffering timing policies -------------------------------------------------------------

    void issue_batch() {
        if (batch.empty()) return;
        int64_t group_ready = 0;  // a group is issued when its last member is ready
        for (const Pending& p : batch) group_ready = std::max(group_ready, p.ready);
        for (const Pending& p : batch) issue(p, group_ready);
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
            issue(p, 0);
            if (!p.accesses.empty()) --pending_with_access;
            lanes[lane_ptr].pop_front();
            --buffered;
            lane_ptr = (lane_ptr + 1) % group;
        }
    }

    void flush() {
        if (cfg.timing == PTO_SIM_BATCHED) issue_batch();
        if (cfg.timing == PTO_SIM_INTERLEAVED) pump(true);
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
        return false;
    }

    // ---- submit --------------------------------------------------------------------------------

    int64_t region_ready() const {
        int64_t dep = 0;
        for (const Access& a : next_acc)
            dep = std::max(dep, regions.dependency_end(a.tensor, a.lo, a.hi, a.write));
        return dep;
    }

    /// The common case, kept small enough to inline into pto_sim_submit(): immediate timing,
    /// no window, no streams, round-robin dispatch and no declared accesses. Same placement as
    /// place() with issue 0: start = max(min_start, 0, worker free), so the callee-saved
    /// register spills and policy branches of the general path are skipped.
    int64_t submit(const pto_sim_task& t) {
        if (round_robin_plain && next_acc.empty()) [[likely]] {
            const uint32_t index = static_cast<uint32_t>(task_count++);
            const uint32_t w = home_worker(index);
            int64_t start = t.min_start > 0 ? t.min_start : 0;
            if (free_at[w] > start) start = free_at[w];
            const int64_t end = start + t.cycles;
            free_at[w] = end;
            busy[w] += t.cycles;
            if (end > makespan) makespan = end;
            if (cfg.trace) {
                pto_sim_record* r = trace.append();
                r->task = index;
                r->kernel = t.kernel;
                r->worker = static_cast<int32_t>(w);
                r->stream = -1;
                r->start = start;
                r->end = end;
                std::memcpy(r->idx, t.idx, sizeof r->idx);
            }
            return end;
        }
        return submit_general(t);
    }

    __attribute__((noinline)) int64_t submit_general(const pto_sim_task& t) {
        const uint32_t index = static_cast<uint32_t>(task_count++);
        if (plain && next_acc.empty()) [[likely]]
            return place(t, index, t.min_start, 0, nullptr, 0);
        if (!buffering) {
            const int64_t ready = std::max(t.min_start, region_ready());
            const int64_t at = next_issue_time(0);
            const int64_t end = place(t, index, ready, at, next_acc.data(), next_acc.size());
            next_acc.clear();
            return end;
        }
        // Buffering policies: a task whose accesses conflict with a buffered task's accesses
        // needs that task's end, so the buffer is issued first.
        if (!next_acc.empty() && pending_with_access > 0 && conflicts_with_pending(next_acc))
            flush();
        ends.push_back(PTO_SIM_PENDING);
        Pending p{t, index, std::max(t.min_start, region_ready()), std::move(next_acc)};
        next_acc = std::vector<Access>();
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

    int64_t task_end(uint32_t index) {
        if (index >= task_count) return -1;
        if (buffering) {
            if (ends[index] == PTO_SIM_PENDING) flush();
            return ends[index];
        }
        return cfg.trace ? trace.data()[index].end : -1;
    }

    pto_sim_config cfg;
    std::vector<int64_t> free_at;     // per worker: cycle at which it becomes free
    std::vector<int64_t> busy;        // per worker: cycles spent running tasks
    std::vector<int64_t> stream_end;  // per stream: end of its last task
    pto::sim::TraceBuffer trace;
    uint32_t worker_mask = 0;
    bool plain = true;
    bool round_robin_plain = true;  // plain, no streams, round robin: submit()'s inline path
    bool buffering = false;
    uint64_t task_count = 0;
    int64_t makespan = 0;

    // issue clock
    int64_t issue_clock = 0;
    uint64_t issued = 0;
    double rate_period = 0.0;
    std::priority_queue<int64_t, std::vector<int64_t>, std::greater<int64_t>> inflight;

    // regions
    pto::sim::RegionTracker regions;
    std::vector<Access> next_acc;  // accesses declared for the next submit

    // buffering
    std::size_t group = 0;          // batched n / interleaved k
    std::vector<int64_t> ends;      // by submission index (buffering policies only)
    std::vector<Pending> batch;
    std::vector<std::deque<Pending>> lanes;
    std::size_t lane_ptr = 0;
    std::size_t buffered = 0;
    std::size_t pending_with_access = 0;
    std::size_t batch_with_access = 0;
};

extern "C" {

uint64_t pto_sim_splitmix64(uint64_t x) {
    uint64_t z = x + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pto_sim_config_init(pto_sim_config* cfg) {
    cfg->workers = 4;
    cfg->dispatch = PTO_SIM_ROUND_ROBIN;
    cfg->streams = 0;
    cfg->timing = PTO_SIM_IMMEDIATE;
    cfg->timing_param = 0.0;
    cfg->window = 0;
    cfg->ns_per_cycle = 1.0;
    cfg->trace = 1;
    cfg->trace_reserve = 0;
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
    sim->next_acc.push_back(Access{tensor, is_write != 0, lo, hi});
}

int64_t pto_sim_submit(pto_sim* sim, const pto_sim_task* task) { return sim->submit(*task); }

int64_t pto_sim_task_end(pto_sim* sim, uint32_t task) { return sim->task_end(task); }

void pto_sim_flush(pto_sim* sim) { sim->flush(); }

void pto_sim_finish(pto_sim* sim) { sim->flush(); }

int64_t pto_sim_total_cycles(const pto_sim* sim) { return sim->makespan; }

uint64_t pto_sim_task_count(const pto_sim* sim) { return sim->task_count; }

const uint64_t* pto_sim_task_counter(const pto_sim* sim) { return &sim->task_count; }

int32_t pto_sim_workers(const pto_sim* sim) { return sim->cfg.workers; }

int64_t pto_sim_worker_busy(const pto_sim* sim, int32_t worker) {
    if (worker < 0 || worker >= sim->cfg.workers) return -1;
    return sim->busy[static_cast<std::size_t>(worker)];
}

const pto_sim_record* pto_sim_trace_data(const pto_sim* sim) { return sim->trace.data(); }

const pto_sim_record* pto_sim_trace_view(pto_sim* sim) {
    sim->trace.pin();
    return sim->trace.data();
}

uint64_t pto_sim_trace_length(const pto_sim* sim) { return sim->trace.size(); }

}  // extern "C"
