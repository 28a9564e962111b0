// The simulator settings of a cpu_sim run, as typed plain structs: `SimConfig` is what the IR
// schedule says (read once from a lowered module by `sim_config`), `RunCosts` the cost table's
// run-time numbers. Both cross into Python as typed pybind classes (codegen_bindings.cpp) and
// become the runtime's `pto_sim_config` in `to_pto_sim`; no policy travels as text or as a
// number the caller has to know.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/module.h"
#include "runtime/sim.h"

namespace pto::wsp::codegen {

struct SimConfig {
    int32_t workers = PTO_SIM_DEFAULT_WORKERS;  // ir::Schedule::workers (resolved at lowering)
    ir::DispatchPolicy dispatch = ir::DispatchPolicy::RoundRobin;
    int32_t streams = 0;  // 0 = none
    ir::TimingPolicy timing = ir::TimingPolicy::Immediate;
    double timing_param = 0.0;
    int64_t window = 0;  // tasks in flight, 0 = unlimited
    bool trace = true;
    ir::ReadyPolicy ready = ir::ReadyPolicy::InOrder;
    int64_t start_threshold = 0;  // 0 = eager
    std::vector<int32_t> pool_sizes;
    std::vector<int32_t> kernel_pools;  // by kernel id: its pool, -1 = any worker; empty = none
    int32_t mesh_cols = 0;              // spatial_map grid columns, 0 = no mesh
};

struct RunCosts {
    std::vector<int64_t> kernel_cycles;  // by IR kernel id; -1 = from views
    double load_rate = 1.0;
    double store_rate = 1.0;
    double ns_per_cycle = 1.0;
    double issue_cycles = 0.0;
    double hop = 16.0;
    int64_t trace_reserve = 0;  // expected task count (the trace buffer is reserved up front)
};

/// The simulator settings a lowered module's schedule asks for (docs/semantics.md, "Scheduling
/// model", "Task-graph policies", "Spatial map"). Raises CodegenError for a pooled kernel the
/// module does not have.
SimConfig sim_config(const ir::Module& m);

/// The runtime's config of one run. Its pool tables point into `cfg`, which must outlive it.
pto_sim_config to_pto_sim(const SimConfig& cfg, const RunCosts& costs);

}  // namespace pto::wsp::codegen
