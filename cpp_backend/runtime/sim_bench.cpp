// Benchmark helper: the tightest loop a generated driver could run, so that benchmarks measure
// the simulator and not Python. It calls the exported pto_sim_submit() like generated code does.
#include <chrono>

#include "runtime/sim.h"

extern "C" double pto_sim_bench_grid(pto_sim* sim, uint64_t n_tasks, int64_t cycles) {
    pto_sim_task t{};
    t.kernel = 0;
    t.cycles = cycles;
    t.idx[1] = t.idx[2] = t.idx[3] = -1;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < n_tasks; ++i) {
        t.dispatch_key = static_cast<int64_t>(i);
        t.stream_key = static_cast<int64_t>(i);
        t.idx[0] = static_cast<int32_t>(i);
        pto_sim_submit(sim, &t);
    }
    pto_sim_finish(sim);
    const auto t1 = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(t1 - t0).count();
}
