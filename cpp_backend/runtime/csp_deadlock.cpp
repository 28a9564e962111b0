// Deadlock: the names it involves and its message (see csp_deadlock.h).
#include "runtime/csp_deadlock.h"

#include <algorithm>

namespace pto::csp {

namespace {

std::vector<std::string> distinct(const std::vector<DeadlockWait>& waits,
                                  std::string DeadlockWait::*field) {
    std::vector<std::string> out;
    for (const DeadlockWait& w : waits) {
        const std::string& name = w.*field;
        if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end())
            out.push_back(name);
    }
    return out;
}

std::string describe(const DeadlockWait& w) {
    if (w.process.empty())
        return w.where + ": synchronize(" + w.event +
               ") in the driver waits for a record that nothing can make (no record of it is "
               "pending)";
    if (w.kind == PTO_CSP_WAIT_EVENT)
        return "process " + w.process + " waits in synchronize(" + w.event +
               ") for a record that never comes";
    if (w.kind == PTO_CSP_WAIT_SEND)
        return "process " + w.process + " waits to send on channel " + w.channel + " (full, " +
               std::to_string(w.slots_used) + " of " + std::to_string(w.slots) +
               " slot(s) in use)";
    std::string s = "process " + w.process + " waits to consume from channel " + w.channel +
                    " (empty, not closed";
    if (w.unfed) s += "; no process produces to it and nothing closes it";
    return s + ")";
}

}  // namespace

std::vector<std::string> Deadlock::processes() const {
    return distinct(waits, &DeadlockWait::process);
}

std::vector<std::string> Deadlock::channels() const {
    return distinct(waits, &DeadlockWait::channel);
}

std::vector<std::string> Deadlock::events() const { return distinct(waits, &DeadlockWait::event); }

std::string Deadlock::message() const {
    std::string msg = "deadlock at cycle " + std::to_string(cycle) + ": ";
    if (!wait_cycle.empty()) {
        msg += "wait cycle ";
        for (const std::string& p : wait_cycle) msg += p + " -> ";
        msg += wait_cycle.front() + ": ";
    }
    for (std::size_t k = 0; k < waits.size(); ++k) msg += (k ? "; " : "") + describe(waits[k]);
    return msg;
}

}  // namespace pto::csp
