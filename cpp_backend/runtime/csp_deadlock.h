// Why a CSP run stopped with a deadlock, as data.
//
// The engine (csp.cpp) fills a Deadlock when no process can act and some have not finished (or
// when the driver synchronizes on an event nothing can record). The error message is rendered
// from it (message()), and the run's published trace carries it (csp_trace.h), so the Python
// DeadlockError holds the same facts as typed fields instead of parsing them out of the text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/csp.h"

namespace pto::csp {

/// One party that waits forever: a blocked process (or the driver) and what it waits on.
struct DeadlockWait {
    std::string process;           // process name (replicas "name[i]"); empty: the driver
    pto_csp_wait_kind kind = PTO_CSP_WAIT_SEND;  // the side it waits on: send, take or event
    std::string channel;           // kind SEND / TAKE: the channel's name, else empty
    std::string event;             // kind EVENT: the event's name, else empty
    int64_t slots_used = 0;        // kind SEND: slots in use of the channel's `slots`
    int64_t slots = 0;
    bool unfed = false;            // kind TAKE: no process produces to the channel or closes it
    std::string where;             // the driver's synchronize statement ("file:line"), else empty
};

/// A deadlock: the cycle it was detected at, the wait cycle (process names in wait-for order,
/// empty when none was found) and the waits it names (the cycle's, else every blocked process).
struct __attribute__((visibility("default"))) Deadlock {
    int64_t cycle = 0;
    std::vector<std::string> wait_cycle;
    std::vector<DeadlockWait> waits;

    /// Distinct names the waits involve, in order of first mention.
    std::vector<std::string> processes() const;
    std::vector<std::string> channels() const;
    std::vector<std::string> events() const;
    /// The error message: "deadlock at cycle N: wait cycle a -> b -> a: process a waits ...".
    std::string message() const;
};

}  // namespace pto::csp
