// Scalar expressions and tensor views.
//
// Expr trees are immutable and shared (ExprPtr = shared_ptr<const Expr>): lowering builds them
// once, nodes, views and schedules point at them, and the backends only read them. A `load`
// expression selects one tensor element through a View, and a View indexes with Exprs, so the
// three types live together here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pto::wsp::ir {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

enum class ExprKind { Int, Float, Bool, Var, Symbol, Param, Slot, Load, Unary, Binary, Select, EventQuery, TaskParam };

/// Operators of unary / binary expressions (`None` for every other kind).
enum class ExprOp {
    None,
    // unary (ToInt: a float truncated toward zero, the DSL's cast_i64 / cast_u64 of a float)
    Neg, Not, Abs, ToInt,
    // binary
    Add, Sub, Mul, Div, FloorDiv, Mod, Lt, Le, Gt, Ge, Eq, Ne, And, Or, Xor, Shl, Shr, Min, Max,
    // binary on u64 operands (the DSL's types: slot_u64, symbol_u64, cast_u64): unsigned
    // comparisons, floor division (= truncation), modulo and logical right shift
    ULt, ULe, UGt, UGe, UFloorDiv, UMod, UShr,
};

std::string to_string(ExprKind k);
std::string to_string(ExprOp op);
ExprOp parse_unary_op(const std::string& s);   // throws std::invalid_argument listing valid ops
ExprOp parse_binary_op(const std::string& s);  // throws std::invalid_argument listing valid ops
bool is_unary(ExprOp op);
bool is_binary(ExprOp op);

/// One index of a View: a point (the dimension disappears) or a strided range (it stays).
struct Index {
    enum class Kind { Point, Range };
    Kind kind = Kind::Point;
    ExprPtr value;       // Point
    ExprPtr start;       // Range
    ExprPtr stop;        // Range (exclusive)
    int64_t step = 1;    // Range

    static Index point(ExprPtr e);
    static Index range(ExprPtr start, ExprPtr stop, int64_t step = 1);
};

/// A view of a module tensor. Dimensions beyond `indices` are taken whole.
struct View {
    int64_t tensor_id = -1;
    std::vector<Index> indices;
    /// Resulting shape (-1 where symbolic). A cache: Module::verify() and Module::print() fill it
    /// for every view reachable from the module; Module::view_shape() computes it on demand.
    mutable std::vector<int64_t> shape_hint;

    View() = default;
    View(int64_t tensor_id, std::vector<Index> indices);
    /// Shape of this view of a tensor of shape `tensor_shape` (-1 where not constant).
    std::vector<int64_t> shape_of(const std::vector<int64_t>& tensor_shape) const;
};

/// A node of a scalar expression tree. Which fields are meaningful depends on `kind`:
///   Int: int_value; Float: float_value; Bool: bool_value; Var: name, id;
///   Symbol / Param: name (Symbol: f32_bits = read its low 32 bits as an f32, see
///   symbol_f32); Slot: id (slot index); Load: view (point indices only);
///   Unary: op, children[0]; Binary: op, children[0..1]; Select: children = {cond, a, b};
///   EventQuery: id (event id);
///   TaskParam: id (i of a schedule key's t.params[i]: the task's i-th kernel[...] value, 0 when
///   the call has fewer; substitute_task_params replaces it per task node before emission).
struct Expr {
    ExprKind kind = ExprKind::Int;
    ExprOp op = ExprOp::None;
    std::vector<ExprPtr> children;
    int64_t int_value = 0;
    double float_value = 0.0;
    bool bool_value = false;
    std::string name;
    bool f32_bits = false;
    int64_t id = -1;
    std::shared_ptr<const View> view;

    static ExprPtr make_int(int64_t v);
    static ExprPtr make_float(double v);
    static ExprPtr make_bool(bool v);
    static ExprPtr var(std::string name, int64_t id);
    static ExprPtr symbol(std::string name);
    /// Runtime symbol `name` read as an f32: a symbol holds a 64-bit pattern, and one bound to a
    /// float scalar parameter holds the bits of an f32 in its low half (set_symbol_f32).
    static ExprPtr symbol_f32(std::string name);
    static ExprPtr param(std::string name);
    static ExprPtr slot(int64_t index);
    static ExprPtr load(View view);
    static ExprPtr unary(ExprOp op, ExprPtr a);
    static ExprPtr binary(ExprOp op, ExprPtr a, ExprPtr b);
    static ExprPtr select(ExprPtr cond, ExprPtr a, ExprPtr b);
    static ExprPtr event_query(int64_t event_id);
    static ExprPtr task_param(int64_t index);

    /// Value of an integer (or bool) constant, nullopt for anything else.
    std::optional<int64_t> as_const_int() const;
    /// Printer form, e.g. "(b + 1)", "load(%3[b])".
    std::string str() const;
};

/// `e` with every TaskParam(i) replaced by `axis_values[i]` (Int 0 when i is out of range);
/// `e` itself (shared) when it has none. Null stays null.
ExprPtr substitute_task_params(const ExprPtr& e, const std::vector<ExprPtr>& axis_values);

}  // namespace pto::wsp::ir
