// The bound that fixed a task's start, as the scheduling simulator records it (sim.h,
// pto_sim_record.cause / gate; the kinds are pto_wsp/runtime/wait_causes.py, generated into
// pto_tables.h as PTO_WAIT_*).
#pragma once

#include <cstdint>

#include "pto_tables.h"

namespace pto::sim {

/// A lower bound on a start: the cycle `t`, its PTO_WAIT_* kind and the task whose end produced
/// it (PTO_WAIT_NO_GATE: none). Bounds combine by raise(): the later one wins, equal ones go by
/// kind order (the tie order of wait_causes.py), so the result of raising a start's bounds in any
/// order is the gating cause. A bound at cycle 0 never replaces "none".
struct Bound {
    int64_t t = 0;
    uint32_t gate = PTO_WAIT_NO_GATE;
    int32_t kind = PTO_WAIT_NONE;

    void raise(int64_t at, int32_t k, uint32_t g) {
        if (at > t || (at == t && k < kind)) {
            t = at;
            kind = k;
            gate = g;
        }
    }
    void raise(const Bound& b) { raise(b.t, b.kind, b.gate); }
};

}  // namespace pto::sim
