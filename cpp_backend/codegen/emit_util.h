// Small text helpers shared by the code generators (cpu_sim, ascend_npu): C++ literals of
// values and strings, identifiers, element types. Emitted code must be byte-stable, so every
// helper here is deterministic and locale-free.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "ir/types.h"
#include "ir/workload.h"

namespace pto::wsp::codegen {

/// The C element type that stores `d` (f16/bf16 as their 16-bit patterns, bool as uint8_t).
const char* ctype(ir::DType d);
/// A C++ string literal of `s`; control characters become spaces except '\n' (escaped).
/// `fmt`: also escape '%' (the literal is a printf format).
std::string cstr(const std::string& s, bool fmt = false);
/// An int64_t literal that compiles without warnings for every value (INT64_MIN included).
std::string i64(int64_t v);
/// A double literal that round-trips (nan/inf via builtins).
std::string f64(double v);
/// "what at loc" (or "what" without a location): for error messages naming user code.
std::string where(const std::string& what, const std::string& loc);
/// `s` with every character that cannot appear in a C identifier replaced by '_'.
std::string ident(const std::string& s);

/// The part every emitter shares: an indented body of generated statements, fresh local names,
/// and the loop nests over IR variables (`v<id>`) with the set of variables in scope.
class CodeWriter {
protected:
    std::string line(const std::string& s) const { return std::string(indent_ * 4, ' ') + s + "\n"; }
    void put(const std::string& s) { body_ += line(s); }
    std::string fresh(const char* base) { return std::string(base) + std::to_string(uniq_++); }
    /// `{ const int64_t n = extent; for (v = 0; v < n; ++v) {` with `v` in scope until close_loop.
    void open_loop(const ir::VarDef& v, const std::string& extent);
    void close_loop(const ir::VarDef& v);

    std::string body_;
    int indent_ = 1;
    int uniq_ = 0;
    std::set<int64_t> vars_;
};

}  // namespace pto::wsp::codegen
