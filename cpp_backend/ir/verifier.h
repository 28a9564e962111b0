// Structural verification of a Module (docs/ir.md "Verifier").
#pragma once

#include <string>
#include <vector>

namespace pto::wsp::ir {

class Module;

/// Every problem found, in a deterministic order (tables first, then kernels, the workload in
/// pre-order, the schedule). Each message reads "<construct>[ at <loc>]: <problem>".
std::vector<std::string> verify_module(const Module& m);

}  // namespace pto::wsp::ir
