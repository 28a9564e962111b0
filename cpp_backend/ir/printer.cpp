#include "ir/printer.h"

#include <charconv>
#include <cmath>

#include "ir/module.h"

namespace pto::wsp::ir {
namespace {

std::string pad(int indent) { return std::string(static_cast<std::size_t>(indent), ' '); }

std::string channel_ref(int64_t id) { return "#ch" + std::to_string(id); }
std::string event_ref(int64_t id) { return "#ev" + std::to_string(id); }

std::string channel_list(const std::vector<int64_t>& ids) {
    std::string out = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + channel_ref(ids[i]);
    return out + "]";
}

std::string binary_symbol(ExprOp op) {
    switch (op) {
        case ExprOp::Add: return "+";
        case ExprOp::Sub: return "-";
        case ExprOp::Mul: return "*";
        case ExprOp::Div: return "/";
        case ExprOp::FloorDiv: return "//";
        case ExprOp::Mod: return "%";
        case ExprOp::Lt: return "<";
        case ExprOp::Le: return "<=";
        case ExprOp::Gt: return ">";
        case ExprOp::Ge: return ">=";
        case ExprOp::Eq: return "==";
        case ExprOp::Ne: return "!=";
        case ExprOp::And: return "&";
        case ExprOp::Or: return "|";
        case ExprOp::Xor: return "^";
        case ExprOp::Shl: return "<<";
        case ExprOp::Shr: return ">>";
        default: return "";  // min / max print as calls
    }
}

std::string print_index(const Index& ix) {
    if (ix.kind == Index::Kind::Point) return print_expr(*ix.value);
    std::string s = print_expr(*ix.start) + ":" + print_expr(*ix.stop);
    if (ix.step != 1) s += ":" + std::to_string(ix.step);
    return s;
}

std::string var_def(const VarDef& v) { return v.name + ":" + std::to_string(v.id); }

std::string type_suffix(DType dtype, const std::vector<int64_t>& shape) {
    if (dtype == DType::None && shape.empty()) return "";
    std::string s = dtype == DType::None ? "?" : to_string(dtype);
    if (!shape.empty()) s += "[" + join_ints(shape) + "]";
    return s;
}

std::string kernel_ref(int64_t id, const Module* module) {
    if (module)
        if (const Kernel* k = module->kernel(id)) return "@" + k->name;
    return "@" + std::to_string(id);
}

std::string arg_text(const Arg& a) {
    return a.param + "=" + (a.kind == Arg::Kind::View ? print_view(a.view) : print_expr(*a.value));
}

bool is_scope(NodeKind k) {
    switch (k) {
        case NodeKind::ParallelFor:
        case NodeKind::SeqFor:
        case NodeKind::SelectFor:
        case NodeKind::Cond:
        case NodeKind::Pipe:
        case NodeKind::Combine:
        case NodeKind::Block:
        case NodeKind::Sequential:
        case NodeKind::Process:
        case NodeKind::Consume:
        case NodeKind::Connect: return true;
        default: return false;
    }
}

std::string comment(const std::string& dep, const std::string& loc, bool with_locs) {
    std::string body = dep;
    if (with_locs && !loc.empty()) body += (body.empty() ? "at " : "; at ") + loc;
    return body.empty() ? "" : "   // " + body;
}

std::string node_head(const Node& n, const Module* module) {
    switch (n.kind) {
        case NodeKind::Task: {
            std::string s = "task " + kernel_ref(n.kernel_id, module);
            if (!n.axis_values.empty()) {
                s += "[";
                for (std::size_t i = 0; i < n.axis_values.size(); ++i)
                    s += (i ? ", " : "") + print_expr(*n.axis_values[i]);
                s += "]";
            }
            s += "(";
            for (std::size_t i = 0; i < n.args.size(); ++i) s += (i ? ", " : "") + arg_text(n.args[i]);
            return s + ")";
        }
        case NodeKind::ParallelFor: {
            std::string s = "parallel_for (";
            for (std::size_t i = 0; i < n.vars.size(); ++i)
                s += (i ? ", " : "") + var_def(n.vars[i]) + " in " + print_axis(n.axes[i]);
            return s + ")";
        }
        case NodeKind::SeqFor: return "seq_for " + var_def(n.vars[0]) + " in " + print_axis(n.axes[0]);
        case NodeKind::SelectFor:
            return "select_for " + var_def(n.vars[0]) + " in " + print_axis(n.axes[0]) +
                   " row=" + print_expr(*n.row);
        case NodeKind::Cond: return "cond";
        case NodeKind::Pipe: return "pipe";
        case NodeKind::Combine: return "combine";
        case NodeKind::Sequential: return "sequential";
        case NodeKind::Process: {
            std::string s = "process " + n.name;
            if (!n.consumes.empty()) s += " consumes=" + channel_list(n.consumes);
            if (!n.produces.empty()) s += " produces=" + channel_list(n.produces);
            if (n.replicas != 1) s += " replicas=" + std::to_string(n.replicas);
            return s;
        }
        case NodeKind::Send: {
            auto it = n.attrs.find("block");
            const bool nonblocking = it != n.attrs.end() && it->second == AttrValue(false);
            return "send " + channel_ref(n.channel_id) + (nonblocking ? " nonblocking" : "");
        }
        case NodeKind::Consume:
            return "consume " + channel_ref(n.channel_id) + " as " + var_def(n.vars[0]) +
                   (n.binds_first_axis() ? " first_axis" : "");
        case NodeKind::Connect: return "connect " + channel_list(n.channels);
        case NodeKind::Record: return "record " + event_ref(n.event_id);
        case NodeKind::Synchronize: return "synchronize " + event_ref(n.event_id);
        case NodeKind::SlotSet: return "slot_set " + std::to_string(n.slot) + " = " + print_expr(*n.expr);
        case NodeKind::SlotLoad:
            return "slot_load " + std::to_string(n.slot) + " = " + print_view(*n.view) + " at (" +
                   print_expr(*n.row) + ", " + print_expr(*n.col) + ")";
        case NodeKind::Close: return "close " + channel_ref(n.channel_id);
        case NodeKind::Block: return "block";
        case NodeKind::Collective: {
            std::string s = "collective " + n.name + " %" + std::to_string(n.tensor_id) + " = " +
                            print_view(*n.view);
            if (!n.dist.empty()) {
                s += " dist=[";
                for (std::size_t i = 0; i < n.dist.size(); ++i) s += (i ? ", " : "") + std::to_string(n.dist[i]);
                s += "]";
            }
            if (!n.attrs.empty()) {
                s += " {";
                bool first = true;
                for (const auto& [k, v] : n.attrs) {
                    s += (first ? "" : ", ") + k + "=" + attr_to_string(v);
                    first = false;
                }
                s += "}";
            }
            return s;
        }
    }
    return "?";
}

void emit_node(std::string& out, const Node& n, const Module* module, bool with_locs, int indent) {
    std::string dep = is_scope(n.kind) ? to_string(n.dep_type()) : "";
    out += pad(indent) + node_head(n, module) + comment(dep, n.loc, with_locs) + "\n";
    for (const auto& c : n.children) emit_node(out, *c, module, with_locs, indent + 2);
    for (const auto& b : n.branches) {
        out += pad(indent + 2) + (b.pred ? "when " + print_expr(*b.pred) : std::string("otherwise")) + "\n";
        for (const auto& c : b.body) emit_node(out, *c, module, with_locs, indent + 4);
    }
    if (n.value) emit_node(out, *n.value, module, with_locs, indent + 2);
}

std::string param_text(const KernelParam& p) {
    std::string s = to_string(p.direction) + " " + p.name + ": " + to_string(p.kind);
    std::string t = type_suffix(p.dtype, p.shape);
    if (!t.empty()) s += " " + t;
    if (p.default_value) s += " = " + attr_to_string(*p.default_value);
    return s;
}

std::string op_text(const KernelOp& op) {
    std::string s;
    if (op_has_result(op.code)) s += "%" + std::to_string(op.result) + " = ";
    s += op.name + "(";
    for (std::size_t i = 0; i < op.operands.size(); ++i) {
        if (i) s += ", ";
        s += '%';
        s += std::to_string(op.operands[i]);
    }
    s += ")";
    std::string t = type_suffix(op.dtype, op.shape);
    if (!t.empty()) s += " : " + t;
    if (!op.attrs.empty()) {
        s += " {";
        bool first = true;
        for (const auto& [k, v] : op.attrs) {
            s += (first ? "" : ", ") + k + "=" + attr_to_string(v);
            first = false;
        }
        s += "}";
    }
    return s;
}

}  // namespace

std::string format_double(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip, locale-free
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

std::string quote_string(const std::string& s) {
    static const char* hex = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string print_expr(const Expr& e) {
    switch (e.kind) {
        case ExprKind::Int: return std::to_string(e.int_value);
        case ExprKind::Float: return format_double(e.float_value);
        case ExprKind::Bool: return e.bool_value ? "true" : "false";
        case ExprKind::Var: return e.name.empty() ? "v" + std::to_string(e.id) : e.name;
        case ExprKind::Symbol: return (e.f32_bits ? "symbol_f32(" : "symbol(") + e.name + ")";
        case ExprKind::Param: return "param(" + e.name + ")";
        case ExprKind::Slot: return "slot(" + std::to_string(e.id) + ")";
        case ExprKind::Load: return "load(" + print_view(*e.view) + ")";
        case ExprKind::Unary: {
            const std::string a = print_expr(*e.children[0]);
            if (e.op == ExprOp::Neg) return "-(" + a + ")";
            if (e.op == ExprOp::Not) return "~(" + a + ")";
            if (e.op == ExprOp::ToInt) return "to_int(" + a + ")";
            return "abs(" + a + ")";
        }
        case ExprKind::Binary: {
            const std::string a = print_expr(*e.children[0]);
            const std::string b = print_expr(*e.children[1]);
            const std::string sym = binary_symbol(e.op);
            if (sym.empty()) return to_string(e.op) + "(" + a + ", " + b + ")";
            return "(" + a + " " + sym + " " + b + ")";
        }
        case ExprKind::Select:
            return "select(" + print_expr(*e.children[0]) + ", " + print_expr(*e.children[1]) + ", " +
                   print_expr(*e.children[2]) + ")";
        case ExprKind::EventQuery: return "query(" + event_ref(e.id) + ")";
        case ExprKind::TaskParam: return "t.params[" + std::to_string(e.id) + "]";
    }
    return "?";
}

std::string print_view(const View& v) {
    std::string s = "%" + std::to_string(v.tensor_id);
    if (v.indices.empty()) return s;
    s += "[";
    for (std::size_t i = 0; i < v.indices.size(); ++i) s += (i ? ", " : "") + print_index(v.indices[i]);
    return s + "]";
}

std::string print_axis(const Axis& a) {
    std::string s = to_string(a.kind) + " " + a.name + "[";
    switch (a.kind) {
        case AxisKind::Dense: s += std::to_string(a.size); break;
        case AxisKind::DenseDyn: s += print_expr(*a.size_expr); break;
        case AxisKind::Ragged:
            s += print_expr(*a.outer) + "; lengths=%" + std::to_string(a.lengths_tensor);
            if (a.row) s += "[" + print_expr(*a.row) + "]";
            break;
        case AxisKind::Sparse:
            s += print_expr(*a.outer) + "; indptr=%" + std::to_string(a.indptr_tensor) +
                 ", indices=%" + std::to_string(a.indices_tensor);
            break;
    }
    return s + "]";
}

std::string print_node(const Node& n, const Module* module, bool with_locs, int indent) {
    std::string out;
    emit_node(out, n, module, with_locs, indent);
    return out;
}

std::string print_kernel(const Kernel& k, bool with_locs, int indent) {
    std::string out = pad(indent) + "kernel @" + k.name + "(";
    for (std::size_t i = 0; i < k.params.size(); ++i) out += (i ? ", " : "") + param_text(k.params[i]);
    out += ") " + to_string(k.body_kind);
    if (k.cost != -1) out += " cost=" + std::to_string(k.cost);
    if (k.cpp_abi != "native") out += " abi=" + k.cpp_abi;
    if (k.cpp_ptoisa) out += " ptoisa";
    out += comment("", k.loc, with_locs) + "\n";
    for (const auto& inc : k.cpp_includes) out += pad(indent + 2) + "include " + quote_string(inc) + "\n";
    // User C++ source, one "| " line per source line (a trailing newline adds no line).
    const std::string& src = k.cpp_src;
    for (std::size_t start = 0; start < src.size();) {
        std::size_t end = src.find('\n', start);
        if (end == std::string::npos) end = src.size();
        const std::string line = src.substr(start, end - start);
        out += pad(indent + 2) + "|" + (line.empty() ? "" : " " + line) + "\n";
        start = end + 1;
    }
    for (const auto& op : k.ops) out += pad(indent + 2) + op_text(op) + comment("", op.loc, with_locs) + "\n";
    return out;
}

std::string print_schedule(const Schedule& s) {
    std::string out = "schedule dispatch=" + to_string(s.dispatch);
    if (s.dispatch_key) out += "(" + print_expr(*s.dispatch_key) + ")";
    out += " workers=" + std::to_string(s.workers);
    if (s.streams != 0) out += " streams=" + std::to_string(s.streams);
    if (s.stream_key) out += " stream_by=" + print_expr(*s.stream_key);
    out += " timing=" + to_string(s.timing);
    if (s.timing == TimingPolicy::RateLimit || s.timing_param != 0.0)
        out += "(" + format_double(s.timing_param) + ")";
    if (s.window_size != 0)
        out += " window=" + std::to_string(s.window_size) + "(" + s.window_unit + ", " + to_string(s.window_mode) + ")";
    if (!s.spatial_grid.empty()) out += " grid=[" + join_ints(s.spatial_grid) + "]";
    if (s.deps) out += " deps=" + to_string(*s.deps);
    if (s.ready_policy) out += " ready=" + to_string(*s.ready_policy);
    if (s.ready_key) out += "(" + print_expr(*s.ready_key) + ")";
    if (s.start_policy) {
        out += " start=" + to_string(*s.start_policy);
        if (*s.start_policy == StartPolicy::Threshold) out += "(" + std::to_string(s.start_threshold) + ")";
    }
    if (s.trace_policy) out += " trace=" + to_string(*s.trace_policy);
    if (!s.pools.empty()) out += " pools=[" + join_ints(s.pools) + "]";
    if (!s.pool_kernels.empty()) {
        out += " pool_kernels=[";
        for (std::size_t i = 0; i < s.pool_kernels.size(); ++i)
            out += (i ? ", " : "") + s.pool_kernels[i].first + ":" + std::to_string(s.pool_kernels[i].second);
        out += "]";
    }
    return out;
}

std::string print_module(const Module& m, bool with_locs) {
    m.refresh_shape_hints();
    std::string out = "module " + m.name + "\n";
    for (const auto& p : m.params) out += "  param " + p.name + " : " + to_string(p.dtype) + "\n";
    for (const auto& t : m.tensors) {
        out += "  tensor %" + std::to_string(t.id) + " " + t.name + " : " + to_string(t.dtype) + "[" +
               join_ints(t.shape) + "] " + to_string(t.location);
        if (t.role != TensorRole::Data) out += " role=" + to_string(t.role);
        if (t.layout) {
            out += " layout(dist=[" + join_ints(t.layout->dist) + "]";
            if (!t.layout->mem_strides.empty()) out += ", strides=[" + join_ints(t.layout->mem_strides) + "]";
            if (t.layout->mem_order != MemOrder::Unspecified) out += ", order=" + to_string(t.layout->mem_order);
            out += ")";
        }
        out += "\n";
    }
    for (const auto& c : m.channels) {
        out += "  channel " + channel_ref(c.id) + " " + c.name + " depth=" + std::to_string(c.depth);
        if (!c.elem.empty()) out += " elem=" + c.elem;
        if (c.latency > 0) out += " latency=" + std::to_string(c.latency);
        out += "\n";
    }
    for (const auto& e : m.events) out += "  event " + event_ref(e.id) + " " + e.name + "\n";
    for (const auto& k : m.kernels) out += print_kernel(*k, with_locs, 2);
    if (m.workload) {
        out += "  workload\n";
        out += print_node(*m.workload, &m, with_locs, 4);
    }
    if (m.schedule) out += "  " + print_schedule(*m.schedule) + "\n";
    return out;
}

}  // namespace pto::wsp::ir
