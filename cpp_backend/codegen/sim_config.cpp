#include "codegen/sim_config.h"

#include <string>

#include "codegen/cpu_sim.h"

namespace pto::wsp::codegen {

using namespace ir;

namespace {

int32_t sim_dispatch(DispatchPolicy d) {
    switch (d) {
        case DispatchPolicy::RoundRobin: return PTO_SIM_ROUND_ROBIN;
        case DispatchPolicy::Affinity: return PTO_SIM_AFFINITY;
        case DispatchPolicy::Hash: return PTO_SIM_HASH;
        case DispatchPolicy::DispatchBy: return PTO_SIM_DISPATCH_BY;
        case DispatchPolicy::WorkSteal: return PTO_SIM_WORK_STEAL;
    }
    return PTO_SIM_ROUND_ROBIN;
}

int32_t sim_timing(TimingPolicy t) {
    switch (t) {
        case TimingPolicy::Immediate: return PTO_SIM_IMMEDIATE;
        case TimingPolicy::Batched: return PTO_SIM_BATCHED;
        case TimingPolicy::Interleaved: return PTO_SIM_INTERLEAVED;
        case TimingPolicy::RateLimit: return PTO_SIM_RATE_LIMIT;
    }
    return PTO_SIM_IMMEDIATE;
}

int32_t sim_ready(ReadyPolicy r) {
    switch (r) {
        case ReadyPolicy::InOrder: return PTO_SIM_READY_IN_ORDER;
        case ReadyPolicy::Fifo: return PTO_SIM_READY_FIFO;
        case ReadyPolicy::Lifo: return PTO_SIM_READY_LIFO;
        case ReadyPolicy::Priority: return PTO_SIM_READY_PRIORITY;
    }
    return PTO_SIM_READY_IN_ORDER;
}

}  // namespace

SimConfig sim_config(const Module& m) {
    SimConfig c;
    if (!m.schedule) return c;
    const Schedule& s = *m.schedule;
    c.workers = static_cast<int32_t>(s.workers);
    c.dispatch = s.dispatch;
    c.streams = static_cast<int32_t>(s.streams);
    c.timing = s.timing;
    c.timing_param = s.timing_param;
    c.window = s.window_size;
    c.trace = s.traced();
    c.ready = s.ready_policy.value_or(ReadyPolicy::InOrder);
    c.start_threshold = s.start_policy == StartPolicy::Threshold ? s.start_threshold : 0;
    // The workers ARE the mesh tiles: grid (r, c) is r x c, grid (n,) is 1 x n.
    c.mesh_cols = s.spatial_grid.empty() ? 0 : static_cast<int32_t>(s.spatial_grid.back());
    if (s.pools.empty()) return c;
    for (int64_t n : s.pools) c.pool_sizes.push_back(static_cast<int32_t>(n));
    c.kernel_pools.assign(m.kernels.size(), -1);
    for (const auto& [name, pool] : s.pool_kernels) {
        bool found = false;
        for (std::size_t k = 0; k < m.kernels.size(); ++k) {
            if (m.kernels[k]->name != name) continue;
            c.kernel_pools[k] = static_cast<int32_t>(pool);
            found = true;
        }
        if (!found) throw CodegenError("schedule pools name kernel " + name + ", which module " + m.name + " does not have", "");
    }
    return c;
}

pto_sim_config to_pto_sim(const SimConfig& cfg, const RunCosts& costs) {
    pto_sim_config out;
    pto_sim_config_init(&out);
    out.workers = cfg.workers;
    out.dispatch = sim_dispatch(cfg.dispatch);
    out.streams = cfg.streams;
    out.timing = sim_timing(cfg.timing);
    out.timing_param = cfg.timing_param;
    out.window = cfg.window;
    out.trace = cfg.trace ? 1 : 0;
    out.ready_policy = sim_ready(cfg.ready);
    out.start_threshold = cfg.start_threshold;
    out.n_pools = static_cast<int32_t>(cfg.pool_sizes.size());
    out.pool_sizes = cfg.pool_sizes.data();
    out.n_kernel_pools = static_cast<int32_t>(cfg.kernel_pools.size());
    out.kernel_pool = cfg.kernel_pools.data();
    out.mesh_cols = cfg.mesh_cols;
    out.ns_per_cycle = costs.ns_per_cycle;
    out.issue_cycles = costs.issue_cycles;
    out.hop = costs.hop;
    out.trace_reserve = costs.trace_reserve;
    return out;
}

}  // namespace pto::wsp::codegen
