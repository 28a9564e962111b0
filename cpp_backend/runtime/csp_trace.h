// C++ access to the CSP trace of a finished run (for the Python bindings; see csp.h).
//
// A run's engine publishes its trace when it is destroyed, keyed by the run's simulator; the
// bindings take it (once) right after the run. Only the most recent few unclaimed traces are
// kept, so a caller that never asks leaks nothing lasting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/csp.h"

namespace pto::csp {

/// Tasks with submission index >= first_task (up to the next segment) were submitted by
/// `process` (-1: the driver, outside any pipeline process).
struct TaskSegment {
    int64_t first_task;
    int32_t process;
    int32_t reserved = 0;
};

struct Trace {
    std::vector<std::string> processes;  // by process index (replicas: "name[i]")
    std::vector<std::string> channels;   // by channel id
    std::vector<std::string> events;     // by event id
    std::vector<pto_csp_occupancy> occupancy;
    std::vector<pto_csp_wait> waits;
    std::vector<int64_t> process_start;  // per process: first clock
    std::vector<int64_t> process_end;    // per process: exit clock (-1 if it never finished)
    std::vector<TaskSegment> task_segments;  // which process submitted which tasks
};

/// Removes and returns the trace published for `sim`; false when there is none (no CSP run).
bool take_trace(const pto_sim* sim, Trace& out);

}  // namespace pto::csp
