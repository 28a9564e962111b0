// Affine index analysis for the compile-time disjointness proofs of the cpu_sim code generator:
// which task instances touch separate parts of a tensor (cpu_sim.cpp: run-time region tracking
// is skipped; cpu_sim_csp.cpp: a staging buffer whose items write separate regions is written in
// place instead of rotating).
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ir/expr.h"

namespace pto::wsp::codegen {

/// sum(coef[v] * v) + c over IR variable ids.
struct Affine {
    std::map<int64_t, int64_t> coef;  // var id -> coefficient (non-zero)
    int64_t c = 0;
};

/// `e` as an affine form of variables, or nothing when it is not one (%, //, loads, slots...).
std::optional<Affine> affine(const ir::ExprPtr& e);

/// Whether two task instances whose values of `var` differ touch disjoint parts of index `ix`
/// (which depends on `var` alone).
bool separates(const ir::Index& ix, int64_t var);

}  // namespace pto::wsp::codegen
