// The schedule attached to a module (spec §4): plain data, interpreted by the backends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/expr.h"
#include "ir/types.h"
#include "runtime/sim.h"  // PTO_SIM_DEFAULT_WORKERS: the one default worker count

namespace pto::wsp::ir {

/// Workers of a run whose schedule asks for none (no round_robin count, streams, pools or
/// spatial grid). The simulator's own default, so a hand-built module and a lowered one agree.
inline constexpr int64_t kDefaultWorkers = PTO_SIM_DEFAULT_WORKERS;

struct Schedule {
    DispatchPolicy dispatch = DispatchPolicy::RoundRobin;
    /// Workers of the run, resolved once at lowering (compiler/workers.py: the spatial grid's
    /// tiles, else the larger of round_robin's count and streams, kDefaultWorkers when neither
    /// is given, and at least the pools' total). Both backends read it here; neither recomputes.
    int64_t workers = kDefaultWorkers;
    ExprPtr dispatch_key;     // may be null
    int64_t streams = 0;      // 0 = none
    ExprPtr stream_key;       // may be null
    TimingPolicy timing = TimingPolicy::Immediate;
    double timing_param = 0.0;
    int64_t window_size = 0;  // 0 = no task window
    std::string window_unit = "tasks";
    WindowMode window_mode = WindowMode::Stall;
    std::vector<int64_t> spatial_grid;
    std::optional<DepsMode> deps;             // unset = infer
    std::optional<ReadyPolicy> ready_policy;  // unset = in order
    ExprPtr ready_key;                        // priority key (may be null)
    std::optional<StartPolicy> start_policy;  // unset = eager
    int64_t start_threshold = 0;              // the n of StartPolicy::Threshold
    std::optional<TracePolicy> trace_policy;  // unset = full
    std::vector<int64_t> pools;  // worker count of each pool (contiguous from worker 0)
    std::vector<std::pair<std::string, int64_t>> pool_kernels;  // (kernel name, pool index)

    DepsMode deps_mode() const { return deps.value_or(DepsMode::Infer); }
    bool traced() const { return trace_policy.value_or(TracePolicy::Full) == TracePolicy::Full; }

    /// One-line printer form ("schedule dispatch=... timing=...").
    std::string print() const;
};

}  // namespace pto::wsp::ir
