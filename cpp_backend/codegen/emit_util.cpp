#include "codegen/emit_util.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "codegen/cpu_sim.h"  // CodegenError

namespace pto::wsp::codegen {

using ir::DType;

const char* ctype(DType d) {
    switch (d) {
#define PTO_X(ident, abi, name, code, size, c_type, ...) \
    case DType::ident: return #c_type;
        PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
        case DType::None: break;
    }
    return "int64_t";
}

std::string cstr(const std::string& s, bool fmt) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += c;
        } else if (c == '\n') {
            o += "\\n";
        } else if (c == '%' && fmt) {
            o += "%%";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            o += ' ';
        } else {
            o += c;
        }
    }
    return o + "\"";
}

std::string i64(int64_t v) {
    if (v == INT64_MIN) return "INT64_MIN";
    return "((int64_t)" + std::to_string(v) + "LL)";
}

std::string f64(double v) {
    if (std::isnan(v)) return "(__builtin_nan(\"\"))";
    if (std::isinf(v)) return v > 0 ? "(__builtin_inf())" : "(-__builtin_inf())";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return "(" + s + ")";
}

std::string where(const std::string& what, const std::string& loc) {
    return loc.empty() ? what : what + " at " + loc;
}

std::string ident(const std::string& s) {
    std::string o;
    for (char c : s) o += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    return o;
}

void CodeWriter::open_loop(const ir::VarDef& v, const std::string& extent) {
    const std::string e = fresh("n"), id = "v" + std::to_string(v.id);
    put("{");
    ++indent_;
    put("const int64_t " + e + " = " + extent + ";");
    put("for (int64_t " + id + " = 0; " + id + " < " + e + "; ++" + id + ") {");
    ++indent_;
    vars_.insert(v.id);
}

void CodeWriter::close_loop(const ir::VarDef& v) {
    vars_.erase(v.id);
    --indent_;
    put("}");
    --indent_;
    put("}");
}

// ---- ScalarEmitter ----------------------------------------------------------------------------

namespace {

std::size_t intern(std::vector<std::string>& v, const std::string& s) {
    auto it = std::find(v.begin(), v.end(), s);
    if (it != v.end()) return static_cast<std::size_t>(it - v.begin());
    v.push_back(s);
    return v.size() - 1;
}

}  // namespace

std::string ScalarEmitter::dim_size(int64_t tid, std::size_t d) const {
    const ir::Tensor* t = m_.tensor(tid);
    if (t != nullptr && d < t->shape.size() && t->shape[d] >= 0) return i64(t->shape[d]);
    return dim_ref(tid, d);
}

bool ScalarEmitter::expr_is_float(const ir::ExprPtr& e) const {
    using ir::ExprKind, ir::ExprOp;
    switch (e->kind) {
        case ExprKind::Float: return true;
        case ExprKind::Symbol: return e->f32_bits;
        case ExprKind::Load: {
            const ir::Tensor* t = m_.tensor(e->view->tensor_id);
            return t && ir::dtype_is_float(t->dtype);
        }
        case ExprKind::Binary:
            if (e->op == ExprOp::Div) return true;
            if (e->op == ExprOp::Lt || e->op == ExprOp::Le || e->op == ExprOp::Gt ||
                e->op == ExprOp::Ge || e->op == ExprOp::Eq || e->op == ExprOp::Ne ||
                e->op == ExprOp::ULt || e->op == ExprOp::ULe || e->op == ExprOp::UGt ||
                e->op == ExprOp::UGe || e->op == ExprOp::UFloorDiv || e->op == ExprOp::UMod ||
                e->op == ExprOp::UShr)
                return false;
            return expr_is_float(e->children[0]) || expr_is_float(e->children[1]);
        case ExprKind::Unary:
            return e->op != ExprOp::Not && e->op != ExprOp::ToInt && expr_is_float(e->children[0]);
        case ExprKind::Select:
            return expr_is_float(e->children[1]) || expr_is_float(e->children[2]);
        default: return false;
    }
}

bool ScalarEmitter::in_scope(const ir::ExprPtr& e) const {
    if (!e) return true;
    if (e->kind == ir::ExprKind::Var && !vars_.count(e->id)) return false;
    if (e->kind == ir::ExprKind::Load)
        for (const auto& ix : e->view->indices)
            if (!in_scope(ix.value) || !in_scope(ix.start) || !in_scope(ix.stop)) return false;
    for (const auto& c : e->children)
        if (!in_scope(c)) return false;
    return true;
}

std::string ScalarEmitter::ex(const ir::ExprPtr& e, const std::string& ctx) {
    using ir::ExprKind, ir::ExprOp;
    const std::string run = sp_.run;
    switch (e->kind) {
        case ExprKind::Int: return i64(e->int_value);
        case ExprKind::Float: return f64(e->float_value);
        case ExprKind::Bool: return e->bool_value ? "((int64_t)1)" : "((int64_t)0)";
        case ExprKind::Var:
            if (!vars_.count(e->id))
                throw CodegenError("variable " + e->name + " is used outside its loop" +
                                       error_context(ctx),
                                   "");
            return "v" + std::to_string(e->id);
        case ExprKind::Symbol: {
            const std::string v = run + "->symbols[" + std::to_string(intern(symbols_, e->name)) + "]";
            return e->f32_bits ? "((double)" + std::string(sp_.runtime) + "bits_f32(" + v + "))" : v;
        }
        case ExprKind::Param:
            return run + "->params[" + std::to_string(intern(params_, e->name)) + "]";
        case ExprKind::Slot:
            if (e->id < 0) throw CodegenError("slot index " + std::to_string(e->id) + " < 0", "");
            max_slot_ = std::max(max_slot_, e->id);
            return "((int64_t)" + run + "->slots[" + std::to_string(e->id) + "])";
        case ExprKind::Load: return load(*e->view, ctx);
        case ExprKind::Unary: {
            const std::string a = ex(e->children[0], ctx);
            if (e->op == ExprOp::Neg) return "(-" + a + ")";
            if (e->op == ExprOp::Not) return "((int64_t)!" + a + ")";
            if (e->op == ExprOp::ToInt) return "((int64_t)(" + a + "))";
            return "(" + a + " < 0 ? -" + a + " : " + a + ")";
        }
        case ExprKind::Binary: return binary(e, ctx);
        case ExprKind::Select: {
            // Operands of an overloaded + are unsequenced: translate in order so fresh names and
            // interned symbols are numbered the same with every compiler.
            const std::string c = ex(e->children[0], ctx);
            const std::string a = ex(e->children[1], ctx);
            const std::string b = ex(e->children[2], ctx);
            return "(" + c + " ? " + a + " : " + b + ")";
        }
        case ExprKind::EventQuery: return event_query(*e, ctx);
        case ExprKind::TaskParam:  // substitute_task_params replaced it in every schedule key
            throw CodegenError("t.params[" + std::to_string(e->id) +
                                   "] is only meaningful in a schedule key" + error_context(ctx),
                               "");
    }
    return "0";
}

std::string ScalarEmitter::binary(const ir::ExprPtr& e, const std::string& ctx) {
    using ir::ExprOp;
    const std::string a = ex(e->children[0], ctx);
    const std::string b = ex(e->children[1], ctx);
    const bool fl = expr_is_float(e->children[0]) || expr_is_float(e->children[1]);
    // Floor division and modulo by zero end the run with a message instead of trapping.
    auto checked = [&](const char* fn, const char* what) {
        const std::string t = fresh("z");
        return "__extension__ ({ " + std::string(fl ? "double " : "int64_t ") + t + " = " + b +
               "; if (" + t + " == 0) { " + fail_stmt(ctx, std::string(what) + " by zero") +
               "; } " + sp_.runtime + fn + "(" + a + ", " + t + "); })";
    };
    switch (e->op) {
        case ExprOp::Add: return "(" + a + " + " + b + ")";
        case ExprOp::Sub: return "(" + a + " - " + b + ")";
        case ExprOp::Mul: return "(" + a + " * " + b + ")";
        case ExprOp::Div: return "((double)" + a + " / (double)" + b + ")";
        case ExprOp::FloorDiv: return checked(fl ? "ffloordiv" : "floordiv", "floor division");
        case ExprOp::Mod: return checked(fl ? "fmod" : "mod", "modulo");
        case ExprOp::Lt: return "((int64_t)(" + a + " < " + b + "))";
        case ExprOp::Le: return "((int64_t)(" + a + " <= " + b + "))";
        case ExprOp::Gt: return "((int64_t)(" + a + " > " + b + "))";
        case ExprOp::Ge: return "((int64_t)(" + a + " >= " + b + "))";
        case ExprOp::Eq: return "((int64_t)(" + a + " == " + b + "))";
        case ExprOp::Ne: return "((int64_t)(" + a + " != " + b + "))";
        case ExprOp::And: return "((int64_t)" + a + " & (int64_t)" + b + ")";
        case ExprOp::Or: return "((int64_t)" + a + " | (int64_t)" + b + ")";
        case ExprOp::Xor: return "((int64_t)" + a + " ^ (int64_t)" + b + ")";
        case ExprOp::Shl: return "((int64_t)((uint64_t)" + a + " << ((int64_t)" + b + " & 63)))";
        case ExprOp::Shr: return "((int64_t)" + a + " >> ((int64_t)" + b + " & 63))";
        // u64 operands: the same bits read as unsigned (floor division of non-negative values
        // is truncation); a zero divisor ends the run like the signed forms.
        case ExprOp::ULt: return "((int64_t)((uint64_t)" + a + " < (uint64_t)" + b + "))";
        case ExprOp::ULe: return "((int64_t)((uint64_t)" + a + " <= (uint64_t)" + b + "))";
        case ExprOp::UGt: return "((int64_t)((uint64_t)" + a + " > (uint64_t)" + b + "))";
        case ExprOp::UGe: return "((int64_t)((uint64_t)" + a + " >= (uint64_t)" + b + "))";
        case ExprOp::UFloorDiv:
        case ExprOp::UMod: {
            const std::string t = fresh("z");
            const bool div = e->op == ExprOp::UFloorDiv;
            return "__extension__ ({ uint64_t " + t + " = (uint64_t)" + b + "; if (" + t +
                   " == 0) { " + fail_stmt(ctx, div ? "floor division by zero" : "modulo by zero") +
                   "; } (int64_t)((uint64_t)" + a + (div ? " / " : " % ") + t + "); })";
        }
        case ExprOp::UShr: return "((int64_t)((uint64_t)" + a + " >> ((int64_t)" + b + " & 63)))";
        case ExprOp::Min: return "(" + a + " < " + b + " ? " + a + " : " + b + ")";
        case ExprOp::Max: return "(" + a + " > " + b + " ? " + a + " : " + b + ")";
        default: break;
    }
    throw CodegenError("binary operator " + ir::to_string(e->op) + " is not supported" +
                           error_context(ctx),
                       "");
}

std::string ScalarEmitter::load(const ir::View& v, const std::string& ctx) {
    const ir::Tensor* t = m_.tensor(v.tensor_id);
    if (t == nullptr) throw CodegenError("load from unknown tensor" + error_context(ctx), "");
    if (v.indices.size() != t->shape.size())
        throw CodegenError("load(" + t->name + "[...]) must index every dimension with a point" +
                               error_context(ctx),
                           "");
    const std::string off = fresh("lo");
    std::string s = "__extension__ ({ int64_t " + off + " = 0; ";
    for (std::size_t d = 0; d < v.indices.size(); ++d) {
        const ir::Index& ix = v.indices[d];
        if (ix.kind != ir::Index::Kind::Point)
            throw CodegenError("load(" + t->name + "[...]) with a range index" + error_context(ctx),
                               "");
        const std::string i = fresh("li");
        const std::string n = dim_size(v.tensor_id, d);
        s += "int64_t " + i + " = " + ex(ix.value, ctx) + "; ";
        s += "if ((uint64_t)" + i + " >= (uint64_t)" + n + ") { " +
             index_fail(ctx, d, t->name, i, n) + "; } ";
        s += off + " += " + i + " * " + stride(v.tensor_id, d) + "; ";
    }
    const std::string el = element(v.tensor_id, off);
    const std::string half = sp_.half;
    switch (t->dtype) {
        case ir::DType::F16: s += "(double)" + half + "f16_to_f32(" + el + ");"; break;
        case ir::DType::BF16: s += "(double)" + half + "bf16_to_f32(" + el + ");"; break;
        case ir::DType::F32:
        case ir::DType::F64: s += "(double)" + el + ";"; break;
        default: s += "(int64_t)" + el + ";"; break;
    }
    return s + " })";
}

// ---- NestEmitter ------------------------------------------------------------------------------

void NestEmitter::emit_children(const std::vector<ir::NodePtr>& cs) {
    for (const auto& c : cs)
        if (c) emit_node(*c);
}

void NestEmitter::emit_parallel_for(const ir::Node& n, std::size_t i) {
    if (i == n.vars.size()) {
        emit_children(n.children);
        return;
    }
    if (i >= n.axes.size()) throw CodegenError("parallel_for with fewer axes than vars", n.loc);
    open_loop(n.vars[i], ex(n.axes[i].extent(), where("loop " + n.vars[i].name, n.loc)));
    emit_parallel_for(n, i + 1);
    close_loop(n.vars[i]);
}

void NestEmitter::emit_cond(const ir::Node& n) {
    const std::string ctx = where("P.when", n.loc);
    bool first = true;
    for (const auto& br : n.branches) {
        if (br.pred)
            put(std::string(first ? "if (" : "else if (") + ex(br.pred, ctx) + ") {");
        else
            put(first ? "{" : "else {");
        ++indent_;
        emit_children(br.body);
        --indent_;
        put("}");
        first = false;
        if (!br.pred) break;
    }
}

NestEmitter::SparseAxis NestEmitter::sparse_axis(const ir::Node& n) const {
    if (n.vars.empty() || n.axes.empty()) throw CodegenError("malformed select_for", n.loc);
    const ir::Axis& ax = n.axes[0];
    if (ax.kind != ir::AxisKind::Sparse)
        throw CodegenError("select_for over a non-sparse axis " + ax.name, n.loc);
    const ir::Tensor* ip = m_.tensor(ax.indptr_tensor);
    const ir::Tensor* ix = m_.tensor(ax.indices_tensor);
    if (!ip || !ix || ip->shape.size() != 1 || ix->shape.size() != 1)
        throw CodegenError("select_for needs 1-D indptr and indices tensors", n.loc);
    return {&ax, ip, ix, where("select_for " + n.vars[0].name, n.loc)};
}

void NestEmitter::emit_sparse_loop(const ir::Node& n, const std::string& k, const std::string& lo,
                                   const std::string& hi) {
    const int64_t ixt = n.axes[0].indices_tensor;
    put("for (int64_t " + k + " = " + lo + "; " + k + " < " + hi + "; ++" + k + ") {");
    ++indent_;
    put("const int64_t v" + std::to_string(n.vars[0].id) + " = (int64_t)" +
        element(ixt, k + " * " + stride(ixt, 0)) + ";");
    vars_.insert(n.vars[0].id);
    emit_children(n.children);
    vars_.erase(n.vars[0].id);
    --indent_;
    put("}");
}

}  // namespace pto::wsp::codegen
