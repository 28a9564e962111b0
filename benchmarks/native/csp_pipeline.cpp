// The CSP engine benchmark (benchmarks/bench_csp.py): a producer sends `items` tokens through a
// channel of `depth` to a consumer, each side running one task of `cycles` per item on a fresh
// simulator. Built at benchmark time against the installed runtime (benchmarks/native_lib.py),
// so the runtime ships no benchmark code. The process bodies use the engine's public API the
// way generated drivers do (the inline fast paths of csp.h), so the figure is the engine's:
// fibers, the discrete-event order, channel bookkeeping, per-task submission and the traces.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstring>

#include "runtime/csp.h"
#include "runtime/csp_trace.h"
#include "runtime/sim.h"

// Read by benchmarks/native_lib.py through a ctypes.Structure of the same fields.
struct pto_bench_csp_result {
    double seconds;            // wall time of the pipeline run
    double cpu_seconds;        // CPU time of the calling thread (the machine may be shared)
    int64_t events;            // channel events: one send + one take per item
    int64_t engine_bytes;      // CSP records (occupancy, waits, task segments) + channel ring
    int64_t tasks;             // tasks submitted to the simulator
    int64_t task_trace_bytes;  // the simulator's per-task trace
    int64_t total_cycles;
};

namespace {

// Passed to the process bodies through their env pointer.
struct BenchCtx {
    int64_t items = 0;
    int64_t cycles = 0;
    pto_sim* sim = nullptr;
    pto_sim_hot* sim_hot = nullptr;  // for the inline submit, as generated drivers use it
    const uint64_t* counter = nullptr;  // the simulator's submission counter (the next task's id)
};

// Submits item i's task at the process clock `now`, whose gate is *gate (the task whose end
// gave it, as a channel action returned it); the task's end becomes the clock, gated by it.
int64_t bench_task(const BenchCtx& b, int64_t now, uint32_t* gate, int64_t i, int32_t kernel) {
    pto_sim_task t;
    std::memset(&t, 0, sizeof t);
    t.kernel = kernel;
    t.cycles = b.cycles;
    t.dispatch_key = t.stream_key = i;
    t.min_start = now;  // the process clock: program order within the process
    t.min_gate = *gate;
    t.min_cause = now > 0 ? PTO_WAIT_BARRIER : PTO_WAIT_NONE;  // sim.h: none at cycle 0
    t.idx[0] = static_cast<int32_t>(i);
    t.idx[1] = t.idx[2] = t.idx[3] = -1;
    const auto id = static_cast<uint32_t>(*b.counter);
    const int64_t e = pto_sim_submit_inline(b.sim, b.sim_hot, &t);
    if (e <= now) return now;
    *gate = id;
    return e;
}

int32_t bench_producer(pto_abi_run* R, int32_t self, const int64_t* env) {
    const auto& b = *reinterpret_cast<const BenchCtx*>(env);
    pto_csp* C = pto_csp_of(R);
    pto_csp_hot* H = pto_csp_hot_of(C);
    int64_t now = pto_csp_clock(C, self);
    uint32_t gate = pto_csp_start_gate(C);
    for (int64_t i = 0; i < b.items; ++i) {
        int64_t item = 0;
        now = pto_csp_reserve_fast(C, H, self, 0, now, 1, "bench send", &item, &gate);  // ordered
        now = bench_task(b, now, &gate, i, 0);
        pto_csp_commit_fast(C, H, self, 0, item, now, gate);
    }
    return pto_csp_exit(C, self, now, gate);
}

int32_t bench_consumer(pto_abi_run* R, int32_t self, const int64_t* env) {
    const auto& b = *reinterpret_cast<const BenchCtx*>(env);
    pto_csp* C = pto_csp_of(R);
    pto_csp_hot* H = pto_csp_hot_of(C);
    int64_t now = pto_csp_clock(C, self);
    uint32_t gate = pto_csp_start_gate(C);
    int64_t item = 0;
    while (pto_csp_take_fast(C, H, self, 0, &now, &item, &gate)) {  // ordered: no pto_csp_at
        now = bench_task(b, now, &gate, item, 1);
        pto_csp_release_fast(C, H, self, 0, now, gate);
    }
    return pto_csp_exit(C, self, now, gate);
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Times one pipeline on `sim`; -1 if the run failed.
double run_pipeline(pto_sim* sim, int64_t items, int64_t depth, int64_t cycles,
                    pto_bench_csp_result* out) {
    char error[1024] = {0};
    pto_abi_run R;
    std::memset(&R, 0, sizeof R);
    R.sim = sim;
    R.error = error;
    R.error_cap = sizeof error;
    const BenchCtx ctx{items, cycles, sim, pto_sim_hot_of(sim), pto_sim_task_counter(sim)};
    const auto* env = reinterpret_cast<const int64_t*>(&ctx);
    const char* names[] = {"bench"};
    const int64_t depths[] = {depth};
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    pto_csp* C = pto_csp_create(&R, 1, names, depths, 0, nullptr);
    pto_csp_pipe_begin(C, 0, PTO_WAIT_NO_GATE);
    pto_csp_pipe_channel(C, 0);
    const int32_t p = pto_csp_spawn(C, "producer", &bench_producer, env);
    const int32_t q = pto_csp_spawn(C, "consumer", &bench_consumer, env);
    pto_csp_role(C, p, 0, 1);
    pto_csp_role(C, q, 0, 0);
    int64_t end = 0;
    uint32_t end_gate = PTO_WAIT_NO_GATE;
    const int32_t rc = pto_csp_pipe_run(C, &end, &end_gate);
    const auto t1 = std::chrono::steady_clock::now();
    out->cpu_seconds = thread_cpu_seconds() - c0;
    const int64_t ring_bytes =
        pto_csp_hot_chan_at(pto_csp_hot_of(C), 0)->cap * static_cast<int64_t>(sizeof(pto_csp_item));
    pto_csp_destroy(C);  // publishes the engine's records as the run's trace: measured, dropped
    pto::csp::Trace trace;
    pto::csp::take_trace(sim, trace);
    out->events = 2 * items;
    out->engine_bytes =
        static_cast<int64_t>(trace.occupancy.size() * sizeof(pto_csp_occupancy) +
                             trace.waits.size() * sizeof(pto_csp_wait) +
                             trace.task_segments.size() * sizeof(pto::csp::TaskSegment)) +
        ring_bytes;
    if (rc != 0) return -1.0;
    return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

// Runs the pipeline on a fresh simulator of `workers` (task trace on or off); returns 0, or -1
// when the configuration is invalid or the run failed.
extern "C" int32_t pto_bench_csp_pipeline(int64_t items, int64_t depth, int64_t cycles,
                                          int32_t workers, int32_t trace,
                                          pto_bench_csp_result* out) {
    std::memset(out, 0, sizeof *out);
    pto_sim_config cfg;
    pto_sim_config_init(&cfg);
    cfg.workers = workers;
    cfg.trace = trace ? 1 : 0;
    cfg.trace_reserve = trace ? 2 * items : 0;
    if (pto_sim_config_check(&cfg) != nullptr) return -1;
    pto_sim* sim = pto_sim_create(&cfg);
    if (sim == nullptr) return -1;
    out->seconds = run_pipeline(sim, items, depth, cycles, out);
    out->tasks = static_cast<int64_t>(pto_sim_task_count(sim));
    out->task_trace_bytes = static_cast<int64_t>(pto_sim_trace_length(sim) * sizeof(pto_sim_record));
    out->total_cycles = pto_sim_total_cycles(sim);
    pto_sim_destroy(sim);
    return out->seconds < 0 ? -1 : 0;
}
