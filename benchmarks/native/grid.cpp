// The simulator grid benchmark (benchmarks/bench_sim.py): the tightest loop a generated driver
// could run, so that the benchmark measures the simulator and not Python. It calls the exported
// pto_sim_submit() like generated code does. Built at benchmark time against the installed
// runtime (benchmarks/native_lib.py), so the runtime ships no benchmark code.
#include <chrono>
#include <cstdint>

#include "runtime/sim.h"

// A simulator of `workers` workers, round robin, immediate (the defaults of pto_sim_config_init),
// with the task trace on or off and room for `trace_reserve` records; NULL for an invalid
// configuration. The caller destroys it with pto_sim_destroy().
extern "C" pto_sim* pto_bench_grid_sim(int32_t workers, int32_t trace, int64_t trace_reserve) {
    pto_sim_config cfg;
    pto_sim_config_init(&cfg);
    cfg.workers = workers;
    cfg.trace = trace ? 1 : 0;
    cfg.trace_reserve = trace_reserve;
    return pto_sim_create(&cfg);
}

// Submits n_tasks tasks of a flat grid (kernel 0, idx0 = i, dispatch and stream key = i,
// `cycles` each) through pto_sim_submit(), finishes the run and returns the wall time in seconds.
extern "C" double pto_bench_grid_run(pto_sim* sim, uint64_t n_tasks, int64_t cycles) {
    pto_sim_task t{};
    t.kernel = 0;
    t.cycles = cycles;
    t.idx[1] = t.idx[2] = t.idx[3] = -1;
    t.min_gate = PTO_WAIT_NO_GATE;  // min_start 0: no gate, cause PTO_WAIT_NONE
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
