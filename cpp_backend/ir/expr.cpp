#include "ir/expr.h"

#include <array>
#include <stdexcept>
#include <utility>

#include "ir/affine.h"
#include "ir/printer.h"

namespace pto::wsp::ir {
namespace {

constexpr std::array<std::pair<ExprOp, const char*>, 4> kUnary{
    {{ExprOp::Neg, "neg"}, {ExprOp::Not, "not"}, {ExprOp::Abs, "abs"}, {ExprOp::ToInt, "to_int"}}};
constexpr std::array<std::pair<ExprOp, const char*>, 26> kBinary{{
    {ExprOp::Add, "add"},   {ExprOp::Sub, "sub"}, {ExprOp::Mul, "mul"}, {ExprOp::Div, "div"},
    {ExprOp::FloorDiv, "floordiv"}, {ExprOp::Mod, "mod"}, {ExprOp::Lt, "lt"}, {ExprOp::Le, "le"},
    {ExprOp::Gt, "gt"},     {ExprOp::Ge, "ge"},   {ExprOp::Eq, "eq"},   {ExprOp::Ne, "ne"},
    {ExprOp::And, "and"},   {ExprOp::Or, "or"},   {ExprOp::Xor, "xor"}, {ExprOp::Shl, "shl"},
    {ExprOp::Shr, "shr"},   {ExprOp::Min, "min"}, {ExprOp::Max, "max"},
    {ExprOp::ULt, "ult"},   {ExprOp::ULe, "ule"}, {ExprOp::UGt, "ugt"}, {ExprOp::UGe, "uge"},
    {ExprOp::UFloorDiv, "ufloordiv"}, {ExprOp::UMod, "umod"}, {ExprOp::UShr, "ushr"},
}};

template <typename Table>
ExprOp parse_op(const Table& table, const std::string& s, const char* field) {
    for (const auto& [op, name] : table)
        if (s == name) return op;
    std::string msg = std::string("invalid ") + field + " '" + s + "'; valid values: ";
    for (std::size_t i = 0; i < table.size(); ++i) msg += (i ? ", " : "") + std::string(table[i].second);
    throw std::invalid_argument(msg);
}

std::shared_ptr<Expr> fresh(ExprKind kind) {
    auto e = std::make_shared<Expr>();
    e->kind = kind;
    return e;
}

void require(const ExprPtr& e, const char* what) {
    if (!e) throw std::invalid_argument(std::string(what) + " must be an Expr, not None");
}

}  // namespace

std::string to_string(ExprKind k) {
    switch (k) {
        case ExprKind::Int: return "int";
        case ExprKind::Float: return "float";
        case ExprKind::Bool: return "bool";
        case ExprKind::Var: return "var";
        case ExprKind::Symbol: return "symbol";
        case ExprKind::Param: return "param";
        case ExprKind::Slot: return "slot";
        case ExprKind::Load: return "load";
        case ExprKind::Unary: return "unary";
        case ExprKind::Binary: return "binary";
        case ExprKind::Select: return "select";
        case ExprKind::EventQuery: return "event_query";
        case ExprKind::TaskParam: return "task_param";
    }
    return "?";
}

std::string to_string(ExprOp op) {
    if (op == ExprOp::None) return "";
    for (const auto& [o, name] : kUnary)
        if (o == op) return name;
    for (const auto& [o, name] : kBinary)
        if (o == op) return name;
    return "?";
}

ExprOp parse_unary_op(const std::string& s) { return parse_op(kUnary, s, "Expr.unary op"); }
ExprOp parse_binary_op(const std::string& s) { return parse_op(kBinary, s, "Expr.binary op"); }
bool is_unary(ExprOp op) {
    return op == ExprOp::Neg || op == ExprOp::Not || op == ExprOp::Abs || op == ExprOp::ToInt;
}
bool is_binary(ExprOp op) { return op != ExprOp::None && !is_unary(op); }

Index Index::point(ExprPtr e) {
    require(e, "Index.point value");
    Index i;
    i.kind = Kind::Point;
    i.value = std::move(e);
    return i;
}

Index Index::range(ExprPtr start, ExprPtr stop, int64_t step) {
    require(start, "Index.range start");
    require(stop, "Index.range stop");
    Index i;
    i.kind = Kind::Range;
    i.start = std::move(start);
    i.stop = std::move(stop);
    i.step = step;
    return i;
}

View::View(int64_t tensor_id_, std::vector<Index> indices_)
    : tensor_id(tensor_id_), indices(std::move(indices_)) {}

std::vector<int64_t> View::shape_of(const std::vector<int64_t>& tensor_shape) const {
    std::vector<int64_t> out;
    for (std::size_t d = 0; d < tensor_shape.size(); ++d) {
        if (d >= indices.size()) {
            out.push_back(tensor_shape[d]);
            continue;
        }
        const Index& ix = indices[d];
        if (ix.kind == Index::Kind::Point) continue;
        // [i*T : (i+1)*T] has the static extent T: the one affine analysis (ir/affine.h).
        const auto diff = constant_difference(ix.stop, ix.start);
        if (diff && ix.step > 0)
            out.push_back(*diff > 0 ? (*diff + ix.step - 1) / ix.step : 0);
        else
            out.push_back(-1);
    }
    return out;
}

ExprPtr Expr::make_int(int64_t v) {
    auto e = fresh(ExprKind::Int);
    e->int_value = v;
    return e;
}
ExprPtr Expr::make_float(double v) {
    auto e = fresh(ExprKind::Float);
    e->float_value = v;
    return e;
}
ExprPtr Expr::make_bool(bool v) {
    auto e = fresh(ExprKind::Bool);
    e->bool_value = v;
    e->int_value = v ? 1 : 0;
    return e;
}
ExprPtr Expr::var(std::string name, int64_t id) {
    auto e = fresh(ExprKind::Var);
    e->name = std::move(name);
    e->id = id;
    return e;
}
ExprPtr Expr::symbol(std::string name) {
    auto e = fresh(ExprKind::Symbol);
    e->name = std::move(name);
    return e;
}
ExprPtr Expr::symbol_f32(std::string name) {
    auto e = fresh(ExprKind::Symbol);
    e->name = std::move(name);
    e->f32_bits = true;
    return e;
}
ExprPtr Expr::param(std::string name) {
    auto e = fresh(ExprKind::Param);
    e->name = std::move(name);
    return e;
}
ExprPtr Expr::slot(int64_t index) {
    auto e = fresh(ExprKind::Slot);
    e->id = index;
    return e;
}
ExprPtr Expr::load(View view) {
    auto e = fresh(ExprKind::Load);
    e->id = view.tensor_id;
    e->view = std::make_shared<const View>(std::move(view));
    return e;
}
ExprPtr Expr::unary(ExprOp op, ExprPtr a) {
    if (!is_unary(op)) throw std::invalid_argument("Expr.unary: '" + to_string(op) + "' is not a unary op");
    require(a, "Expr.unary operand");
    auto e = fresh(ExprKind::Unary);
    e->op = op;
    e->children = {std::move(a)};
    return e;
}
ExprPtr Expr::binary(ExprOp op, ExprPtr a, ExprPtr b) {
    if (!is_binary(op)) throw std::invalid_argument("Expr.binary: '" + to_string(op) + "' is not a binary op");
    require(a, "Expr.binary lhs");
    require(b, "Expr.binary rhs");
    auto e = fresh(ExprKind::Binary);
    e->op = op;
    e->children = {std::move(a), std::move(b)};
    return e;
}
ExprPtr Expr::select(ExprPtr cond, ExprPtr a, ExprPtr b) {
    require(cond, "Expr.select condition");
    require(a, "Expr.select true value");
    require(b, "Expr.select false value");
    auto e = fresh(ExprKind::Select);
    e->children = {std::move(cond), std::move(a), std::move(b)};
    return e;
}
ExprPtr Expr::event_query(int64_t event_id) {
    auto e = fresh(ExprKind::EventQuery);
    e->id = event_id;
    return e;
}

ExprPtr Expr::task_param(int64_t index) {
    if (index < 0) throw std::invalid_argument("Expr.task_param: index " + std::to_string(index) + " < 0");
    auto e = fresh(ExprKind::TaskParam);
    e->id = index;
    return e;
}

ExprPtr substitute_task_params(const ExprPtr& e, const std::vector<ExprPtr>& axis_values) {
    if (!e) return e;
    if (e->kind == ExprKind::TaskParam) {
        const auto i = static_cast<std::size_t>(e->id);
        return i < axis_values.size() ? axis_values[i] : Expr::make_int(0);
    }
    std::vector<ExprPtr> kids;
    bool changed = false;
    for (const auto& c : e->children) {
        kids.push_back(substitute_task_params(c, axis_values));
        changed = changed || kids.back() != c;
    }
    if (!changed) return e;
    auto copy = std::make_shared<Expr>(*e);
    copy->children = std::move(kids);
    return copy;
}

std::optional<int64_t> Expr::as_const_int() const {
    if (kind == ExprKind::Int || kind == ExprKind::Bool) return int_value;
    return std::nullopt;
}

std::string Expr::str() const { return print_expr(*this); }

}  // namespace pto::wsp::ir
