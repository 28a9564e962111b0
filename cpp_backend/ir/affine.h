// The one affine analysis of index expressions (issue #14: "one affine analysis").
//
// It runs on the IR, so every consumer of a lowered module shares it:
//   - View::shape_of (ir/expr.cpp): a slice [i*T : (i+1)*T] has the static extent T although
//     neither bound is a constant, so the emitters check such a view against a tile at compile
//     time instead of at run time;
//   - the cpu_sim emitter's disjointness proofs (codegen/cpu_sim.cpp: run-time region tracking
//     is skipped; codegen/cpu_sim_csp.cpp: a staging buffer whose items write separate regions
//     is written in place instead of rotating).
// The Python front end keeps only what tracing needs before any IR exists: the constant length
// of a slice (pto_wsp/language/affine.py, used by language/tensor.py and the Studio's
// app/model/shape_checks.py), so a kernel call can check a view against its tile parameter where
// the user wrote the call. Tracing also sees a repeated non-affine base (s[b] : s[b] + 4); here
// such an extent stays -1 and the emitters check it at run time. Python proves no disjointness.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "ir/expr.h"

namespace pto::wsp::ir {

/// sum(coef[v] * v) + c over IR variable ids.
struct Affine {
    std::map<int64_t, int64_t> coef;  // var id -> coefficient (non-zero)
    int64_t c = 0;
};

/// `e` as an affine form of variables, or nothing when it is not one (%, //, loads, slots...).
std::optional<Affine> affine(const ExprPtr& e);

/// `a - b` when it is a constant (both affine with the same variable terms), else nothing:
/// (i + 1) * T - i * T is T.
std::optional<int64_t> constant_difference(const ExprPtr& a, const ExprPtr& b);

/// Whether two task instances whose values of `var` differ touch disjoint parts of index `ix`
/// (which depends on `var` alone).
bool separates(const Index& ix, int64_t var);

}  // namespace pto::wsp::ir
