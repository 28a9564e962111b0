// Small text helpers shared by the code generators (cpu_sim, ascend_npu): C++ literals of
// values and strings, identifiers, element types. Emitted code must be byte-stable, so every
// helper here is deterministic and locale-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ir/module.h"
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

/// IR scalar expressions (ir/expr.h) as C, the one translation both emitters use, so that an
/// index, a loop extent or a schedule key means the same on the simulator and on the device.
/// A backend says how its generated code reaches the run inputs (Spelling) and overrides the
/// hooks below for what differs in its program: tensor shapes/strides/elements, event queries
/// and how a failing run-time check reports. Symbols and params are interned in first-use order
/// (the backend exports the tables); slots raise max_slot_.
class ScalarEmitter : protected CodeWriter {
public:
    virtual ~ScalarEmitter() = default;
    ScalarEmitter(const ScalarEmitter&) = delete;
    ScalarEmitter& operator=(const ScalarEmitter&) = delete;

protected:
    struct Spelling {
        const char* run;      ///< pointer to the run inputs (->symbols, ->params, ->slots)
        const char* runtime;  ///< prefix of the checked floordiv/mod helpers
        const char* half;     ///< prefix of the f16/bf16 -> f32 conversions
    };
    ScalarEmitter(const ir::Module& m, Spelling sp) : m_(m), sp_(sp) {}

    /// `e` as a C expression (int64_t or double); `ctx` names the construct for messages.
    std::string ex(const ir::ExprPtr& e, const std::string& ctx);
    /// Whether `e` evaluates as a double in the generated code.
    bool expr_is_float(const ir::ExprPtr& e) const;
    /// Whether every variable `e` reads is bound here.
    bool in_scope(const ir::ExprPtr& e) const;
    /// Extent of dim `d` of tensor `tid`: a literal when static, else dim_ref().
    std::string dim_size(int64_t tid, std::size_t d) const;

    // ---- hooks ------------------------------------------------------------------------------
    /// The run-time extent of dim `d` of tensor `tid`.
    virtual std::string dim_ref(int64_t tid, std::size_t d) const = 0;
    /// The run-time stride (in elements) of dim `d` of tensor `tid`.
    virtual std::string stride(int64_t tid, std::size_t d) const = 0;
    /// Element `off` of tensor `tid`, as an lvalue of its storage type.
    virtual std::string element(int64_t tid, const std::string& off) const = 0;
    /// A statement that ends the run with `msg` (no format arguments) about `ctx`.
    virtual std::string fail_stmt(const std::string& ctx, const std::string& msg) const = 0;
    /// A statement that ends the run because index `i` is outside [0, n) in dim `d` of `tensor`.
    virtual std::string index_fail(const std::string& ctx, std::size_t d, const std::string& tensor,
                                   const std::string& i, const std::string& n) const = 0;
    /// A CSP event query (ExprKind::EventQuery of event `e.id`).
    virtual std::string event_query(const ir::Expr& e, const std::string& ctx) = 0;
    /// What an emit-time error message appends to name `ctx` ("" for none).
    virtual std::string error_context(const std::string& ctx) const = 0;

    const ir::Module& m_;
    std::vector<std::string> symbols_, params_;  ///< interned in first-use order
    int64_t max_slot_ = -1;

private:
    std::string binary(const ir::ExprPtr& e, const std::string& ctx);
    /// A checked point read of one tensor element, as a statement expression.
    std::string load(const ir::View& v, const std::string& ctx);

    Spelling sp_;
};

/// The workload-tree walk both emitters share on top of ScalarEmitter: children in program
/// order, parallel_for loop nests and P.when chains; the backend emits every node.
class NestEmitter : public ScalarEmitter {
protected:
    using ScalarEmitter::ScalarEmitter;

    virtual void emit_node(const ir::Node& n) = 0;
    void emit_children(const std::vector<ir::NodePtr>& cs);
    /// The loops over vars i.. of a parallel_for, its children innermost.
    void emit_parallel_for(const ir::Node& n, std::size_t i);
    /// `if (p0) {..} else if (p1) {..} else {..}` of a P.when node.
    void emit_cond(const ir::Node& n);

    /// The CSR axis of a select_for node, checked: sparse, with 1-D indptr and indices tensors.
    struct SparseAxis {
        const ir::Axis* axis;
        const ir::Tensor* indptr;
        const ir::Tensor* indices;
        std::string ctx;  ///< "select_for <var> at <loc>", for messages
    };
    SparseAxis sparse_axis(const ir::Node& n) const;
    /// `for (k = lo; k < hi; ++k)` binding the select_for variable to indices[k] around the
    /// node's children; lo..hi is the row's indptr range, already checked by the backend.
    void emit_sparse_loop(const ir::Node& n, const std::string& k, const std::string& lo,
                          const std::string& hi);
};

}  // namespace pto::wsp::codegen
