// The schedule attached to a module (spec §4): plain data, interpreted by the backends.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ir/expr.h"
#include "ir/types.h"

namespace pto::wsp::ir {

struct Schedule {
    DispatchPolicy dispatch = DispatchPolicy::RoundRobin;
    int64_t num_workers = 0;  // 0 = backend default
    ExprPtr dispatch_key;     // may be null
    int64_t streams = 0;      // 0 = none
    ExprPtr stream_key;       // may be null
    TimingPolicy timing = TimingPolicy::Immediate;
    double timing_param = 0.0;
    int64_t window_size = 0;  // 0 = no task window
    std::string window_unit = "tasks";
    std::string window_mode = "stall";
    std::vector<int64_t> spatial_grid;
    std::string deps;
    std::string ready_policy;  // "" (in order), "fifo", "lifo", "priority"
    ExprPtr ready_key;         // priority key (may be null)
    std::string start_policy;
    std::string trace_policy;
    std::vector<int64_t> pools;  // worker count of each pool (contiguous from worker 0)
    std::vector<std::pair<std::string, int64_t>> pool_kernels;  // (kernel name, pool index)

    /// One-line printer form ("schedule dispatch=... timing=...").
    std::string print() const;
};

}  // namespace pto::wsp::ir
