#include "ir/verifier.h"

#include <algorithm>
#include <map>
#include <set>

#include "ir/module.h"
#include "ir/printer.h"
#include "ir/tile.h"

namespace pto::wsp::ir {
namespace {

class Verifier {
public:
    explicit Verifier(const Module& m) : m_(m) {}

    std::vector<std::string> run() {
        m_.refresh_shape_hints();
        check_tensors();
        check_channels();
        check_kernels();
        if (m_.workload) check_node(*m_.workload);
        if (m_.schedule) check_schedule(*m_.schedule);
        return std::move(msgs_);
    }

private:
    // ---- reporting -----------------------------------------------------------------------
    void error(const std::string& construct, const std::string& loc, const std::string& problem) {
        msgs_.push_back(construct + (loc.empty() ? "" : " at " + loc) + ": " + problem);
    }

    static std::string tensor_ref(const Tensor& t) { return "%" + std::to_string(t.id) + " '" + t.name + "'"; }

    std::string node_ref(const Node& n) const {
        std::string s = to_string(n.kind);
        if (n.kind == NodeKind::Task) {
            const Kernel* k = m_.kernel(n.kernel_id);
            s += " @" + (k ? k->name : std::to_string(n.kernel_id));
        } else if (n.kind == NodeKind::Process) {
            s += " '" + n.name + "'";
        }
        return s;
    }

    // ---- tables --------------------------------------------------------------------------
    void check_tensors() {
        for (const Tensor& t : m_.tensors) {
            const std::string what = "tensor " + tensor_ref(t);
            for (int64_t d : t.shape)
                if (d < -1) error(what, "", "dimension " + std::to_string(d) + " is negative (use -1 for symbolic)");
            if (t.role == TensorRole::Index && !dtype_is_int(t.dtype))
                error(what, "", "an index tensor needs an integer dtype, not " + to_string(t.dtype));
            if (!t.layout) continue;
            const Layout& l = *t.layout;
            if (l.dist.size() != t.shape.size())
                error(what, "", "layout dist has " + std::to_string(l.dist.size()) + " entries for rank " +
                                    std::to_string(t.shape.size()));
            for (int64_t d : l.dist)
                if (d < -1) error(what, "", "layout dist entry " + std::to_string(d) + " is neither -1 (replicate) nor a mesh axis >= 0");
            if (!l.mem_strides.empty() && l.mem_strides.size() != t.shape.size())
                error(what, "", "layout mem_strides has " + std::to_string(l.mem_strides.size()) +
                                    " entries for rank " + std::to_string(t.shape.size()));
        }
    }

    void check_channels() {
        for (const Channel& c : m_.channels) {
            const std::string what = "channel #ch" + std::to_string(c.id) + " '" + c.name + "'";
            if (c.depth < 0)
                error(what, "",
                      "depth " + std::to_string(c.depth) + " is negative (0 = rendezvous)");
            if (c.latency < -1)
                error(what, "",
                      "latency " + std::to_string(c.latency) +
                          " is negative (cycles >= 0, or -1 for the run's default)");
        }
    }

    void check_kernels() {
        std::map<std::string, std::size_t> first_index;
        for (std::size_t ki = 0; ki < m_.kernels.size(); ++ki) {
            const Kernel& k = *m_.kernels[ki];
            const std::string what = "kernel @" + k.name;
            auto [it, inserted] = first_index.emplace(k.name, ki);
            if (!inserted)
                error(what, k.loc, "name also used by kernel " + std::to_string(it->second) +
                                       "; kernel names must be unique in a module");
            check_kernel(k, what);
        }
    }

    void check_kernel(const Kernel& k, const std::string& what) {
        std::set<std::string> names;
        for (const KernelParam& p : k.params) {
            if (!names.insert(p.name).second) error(what, k.loc, "parameter '" + p.name + "' is declared twice");
            if (p.kind == ParamKind::Scalar && !p.shape.empty())
                error(what, k.loc, "scalar parameter '" + p.name + "' has a shape");
        }
        if (k.body_kind == BodyKind::Empty && !k.ops.empty())
            error(what, k.loc, "body_kind is 'empty' but the kernel has " + std::to_string(k.ops.size()) + " ops");
        if (k.body_kind == BodyKind::Cpp && k.cpp_src.empty())
            error(what, k.loc, "body_kind is 'cpp' but cpp_src is empty");
        if (k.body_kind != BodyKind::Cpp && !k.cpp_src.empty())
            error(what, k.loc, "cpp_src is set but body_kind is '" + to_string(k.body_kind) + "'");
        if (k.cpp_abi != "native" && k.cpp_abi != "reference" && k.cpp_abi != "tu")
            error(what, k.loc, "cpp_abi '" + k.cpp_abi + "' is not native, reference or tu");
        if (k.body_kind != BodyKind::Cpp && (k.cpp_abi != "native" || k.cpp_ptoisa))
            error(what, k.loc, "cpp_abi / cpp_ptoisa are set but the kernel has no C++ body");
        if (k.cost < -1) error(what, k.loc, "cost " + std::to_string(k.cost) + " is negative (-1 = from the cost table)");
        for (const TileProblem& bad : tile_problems(k)) error(bad.construct, bad.loc, bad.problem);

        const int64_t nparams = static_cast<int64_t>(k.params.size());
        for (const KernelOp& op : k.ops) {
            const std::string op_what = what + " op %" + std::to_string(op.result) + " '" + op.name + "'";
            const std::string loc = op.loc.empty() ? k.loc : op.loc;
            if (op.code == OpCode::Unknown) {
                std::string valid;
                for (const auto& n : known_op_names()) valid += (valid.empty() ? "" : ", ") + n;
                error(op_what, loc, "unknown op; valid ops: " + valid);
            }
            for (int64_t v : op.operands) {
                if (v < 0 || v >= k.num_values()) {
                    error(op_what, loc, "operand %" + std::to_string(v) + " is not a value of this kernel");
                } else if (v >= op.result) {
                    error(op_what, loc, "operand %" + std::to_string(v) + " is used before it is defined");
                } else if (v >= nparams) {
                    const KernelOp& def = k.ops[static_cast<std::size_t>(v - nparams)];
                    if (!op_has_result(def.code))
                        error(op_what, loc, "operand %" + std::to_string(v) + " is a '" + def.name +
                                                "', which defines no value");
                }
            }
            const bool typed = op.code != OpCode::Unknown && op.code != OpCode::PtoIsa;
            if (typed && op_has_result(op.code)) {
                if (op.dtype == DType::None) error(op_what, loc, "result dtype is missing");
                // A scalar (shape ()) is legal only where the tracer makes one: constant.
                if (op.shape.empty() && op.code != OpCode::Constant)
                    error(op_what, loc, "result shape is missing");
                for (int64_t d : op.shape)
                    if (d == 0 || d < -1)
                        error(op_what, loc, "result dimension " + std::to_string(d) +
                                                " is neither positive nor -1 (symbolic)");
            }
        }
    }

    // ---- expressions and views -------------------------------------------------------------
    bool var_in_scope(int64_t id, std::string* bound_name) const {
        for (auto it = scope_.rbegin(); it != scope_.rend(); ++it)
            if (it->id == id) {
                *bound_name = it->name;
                return true;
            }
        return false;
    }

    void check_expr(const ExprPtr& e, const std::string& what, const std::string& loc) {
        if (!e) return;
        switch (e->kind) {
            case ExprKind::Var: {
                std::string bound;
                if (!var_in_scope(e->id, &bound))
                    error(what, loc, "unbound variable '" + e->name + "' (id " + std::to_string(e->id) +
                                         ") is not bound by an enclosing loop or consume");
                else if (bound != e->name)
                    error(what, loc, "variable id " + std::to_string(e->id) + " is named '" + e->name +
                                         "' here but bound as '" + bound + "'");
                break;
            }
            case ExprKind::Param:
                if (!m_.param(e->name)) {
                    std::string declared;
                    for (const auto& p : m_.params) declared += (declared.empty() ? "" : ", ") + p.name;
                    error(what, loc, "unknown workload parameter '" + e->name + "'; declared: " +
                                         (declared.empty() ? "(none)" : declared));
                }
                break;
            case ExprKind::Slot:
                if (e->id < 0) error(what, loc, "slot index " + std::to_string(e->id) + " is negative");
                break;
            case ExprKind::EventQuery:
                check_event(e->id, what, loc);
                break;
            case ExprKind::Load:
                check_view(*e->view, what, loc, /*points_only=*/true);
                break;
            default: break;
        }
        for (const ExprPtr& c : e->children) check_expr(c, what, loc);
    }

    const Tensor* check_tensor_id(int64_t id, const std::string& what, const std::string& loc) {
        const Tensor* t = m_.tensor(id);
        if (!t) error(what, loc, "unknown tensor id " + std::to_string(id) + " (module has " +
                                     std::to_string(m_.tensors.size()) + " tensors)");
        return t;
    }

    void check_view(const View& v, const std::string& what, const std::string& loc, bool points_only) {
        for (const Index& ix : v.indices)
            for (const ExprPtr& e : {ix.value, ix.start, ix.stop}) check_expr(e, what, loc);
        const Tensor* t = check_tensor_id(v.tensor_id, what, loc);
        if (!t) return;
        const std::string vtext = print_view(v);
        if (v.indices.size() > t->shape.size()) {
            error(what, loc, "view " + vtext + " has " + std::to_string(v.indices.size()) +
                                 " indices but tensor " + tensor_ref(*t) + " has rank " +
                                 std::to_string(t->shape.size()));
            return;
        }
        if (points_only && v.indices.size() != t->shape.size())
            error(what, loc, "load(" + vtext + ") must select one element: give a point index for each of the " +
                                 std::to_string(t->shape.size()) + " dimensions");
        for (std::size_t d = 0; d < v.indices.size(); ++d) {
            const Index& ix = v.indices[d];
            const int64_t dim = t->shape[d];
            const std::string where = "dimension " + std::to_string(d) + " of " + tensor_ref(*t);
            if (ix.kind == Index::Kind::Point) {
                auto c = ix.value->as_const_int();
                if (c && (*c < 0 || (dim >= 0 && *c >= dim)))
                    error(what, loc, "index " + std::to_string(*c) + " is out of range [0, " +
                                         std::to_string(dim) + ") in " + where);
                continue;
            }
            if (points_only) error(what, loc, "load(" + vtext + ") has a range index in " + where);
            if (ix.step < 1) error(what, loc, "range step " + std::to_string(ix.step) + " is not positive in " + where);
            auto a = ix.start->as_const_int();
            auto b = ix.stop->as_const_int();
            if (a && *a < 0) error(what, loc, "range start " + std::to_string(*a) + " is negative in " + where);
            if (b && dim >= 0 && *b > dim)
                error(what, loc, "range stop " + std::to_string(*b) + " exceeds extent " + std::to_string(dim) + " in " + where);
            if (a && b && *a > *b)
                error(what, loc, "range " + std::to_string(*a) + ":" + std::to_string(*b) + " is reversed in " + where);
        }
    }

    void check_channel(int64_t id, const std::string& what, const std::string& loc) {
        if (!m_.channel(id))
            error(what, loc, "unknown channel id " + std::to_string(id) + " (module has " +
                                 std::to_string(m_.channels.size()) + " channels)");
    }

    void check_event(int64_t id, const std::string& what, const std::string& loc) {
        if (!m_.event(id))
            error(what, loc, "unknown event id " + std::to_string(id) + " (module has " +
                                 std::to_string(m_.events.size()) + " events)");
    }

    void check_axis(const Axis& a, const std::string& what, const std::string& loc) {
        const std::string ax = "axis '" + a.name + "': ";
        for (const ExprPtr& e : a.exprs()) check_expr(e, what, loc);
        switch (a.kind) {
            case AxisKind::Dense:
                if (a.size < 0) error(what, loc, ax + "size " + std::to_string(a.size) + " is negative");
                break;
            case AxisKind::DenseDyn: break;
            case AxisKind::Ragged:
                check_index_tensor(a.lengths_tensor, ax + "lengths", what, loc);
                break;
            case AxisKind::Sparse:
                check_index_tensor(a.indptr_tensor, ax + "indptr", what, loc);
                check_index_tensor(a.indices_tensor, ax + "indices", what, loc);
                break;
        }
    }

    void check_index_tensor(int64_t id, const std::string& field, const std::string& what, const std::string& loc) {
        const Tensor* t = m_.tensor(id);
        if (!t) {
            error(what, loc, field + " names unknown tensor id " + std::to_string(id));
            return;
        }
        if (!dtype_is_int(t->dtype))
            error(what, loc, field + " tensor " + tensor_ref(*t) + " needs an integer dtype, not " + to_string(t->dtype));
    }

    // ---- workload -----------------------------------------------------------------------------
    void bind(const VarDef& v, const std::string& what, const std::string& loc) {
        auto [it, inserted] = defined_.emplace(v.id, v.name);
        if (!inserted)
            error(what, loc, "variable '" + v.name + "' (id " + std::to_string(v.id) +
                                 ") is bound more than once; variable ids must be unique per module");
        scope_.push_back(v);
    }

    void check_task(const Node& n, const std::string& what) {
        for (const ExprPtr& e : n.axis_values) check_expr(e, what, n.loc);
        for (const Arg& a : n.args) {
            if (a.kind == Arg::Kind::View) check_view(a.view, what, n.loc, false);
            else check_expr(a.value, what, n.loc);
        }
        const Kernel* k = m_.kernel(n.kernel_id);
        if (!k) {
            error(what, n.loc, "unknown kernel id " + std::to_string(n.kernel_id) + " (module has " +
                                   std::to_string(m_.kernels.size()) + " kernels)");
            return;
        }
        std::set<std::string> seen;
        for (const Arg& a : n.args) {
            const int64_t pi = k->find_param(a.param);
            if (pi < 0) {
                error(what, n.loc, "kernel @" + k->name + " has no parameter '" + a.param + "'");
                continue;
            }
            if (!seen.insert(a.param).second) {
                error(what, n.loc, "parameter '" + a.param + "' is bound more than once");
                continue;
            }
            const KernelParam& p = k->params[static_cast<std::size_t>(pi)];
            const bool wants_scalar = p.kind == ParamKind::Scalar || p.direction == Direction::Constexpr;
            const bool is_scalar = a.kind == Arg::Kind::Scalar;
            if (wants_scalar != is_scalar) {
                error(what, n.loc, "parameter '" + a.param + "' (" + to_string(p.direction) + " " +
                                       to_string(p.kind) + ") needs a " + (wants_scalar ? "scalar" : "view") +
                                       " argument, got a " + (is_scalar ? "scalar" : "view"));
                continue;
            }
            if (!is_scalar && (p.direction == Direction::Out || p.direction == Direction::InOut)) {
                const Tensor* t = m_.tensor(a.view.tensor_id);
                if (t && t->role == TensorRole::Index)
                    error(what, n.loc, to_string(p.direction) + " parameter '" + a.param + "' writes index tensor " +
                                           tensor_ref(*t) + "; index tensors are read-only");
            }
        }
        for (const KernelParam& p : k->params)
            if (!seen.count(p.name) && !p.default_value)
                error(what, n.loc, "missing argument for parameter '" + p.name + "' of kernel @" + k->name);
    }

    void check_children(const Node& n) {
        for (const NodePtr& c : n.children) check_node(*c);
    }

    void check_node(const Node& n) {
        const std::string what = node_ref(n);
        const std::size_t depth = scope_.size();
        switch (n.kind) {
            case NodeKind::Task: check_task(n, what); break;
            case NodeKind::ParallelFor:
                // An axis may depend on the variables of the axes before it (P(batch, ragged[b])).
                for (std::size_t i = 0; i < n.axes.size(); ++i) {
                    check_axis(n.axes[i], what, n.loc);
                    bind(n.vars[i], what, n.loc);
                }
                check_children(n);
                break;
            case NodeKind::SeqFor:
                check_axis(n.axes[0], what, n.loc);
                bind(n.vars[0], what, n.loc);
                check_children(n);
                break;
            case NodeKind::SelectFor:
                check_axis(n.axes[0], what, n.loc);
                if (n.axes[0].kind != AxisKind::Sparse)
                    error(what, n.loc, "iterates a " + to_string(n.axes[0].kind) + " axis; select_for needs a sparse axis");
                check_expr(n.row, what, n.loc);
                bind(n.vars[0], what, n.loc);
                check_children(n);
                break;
            case NodeKind::Cond:
                if (n.branches.empty()) error(what, n.loc, "has no branches");
                for (std::size_t i = 0; i < n.branches.size(); ++i) {
                    const CondBranch& b = n.branches[i];
                    if (!b.pred && i + 1 != n.branches.size())
                        error(what, n.loc, "the otherwise branch (" + std::to_string(i) + ") must be the last one");
                    check_expr(b.pred, what, n.loc);
                    for (const NodePtr& c : b.body) check_node(*c);
                }
                break;
            case NodeKind::Pipe:
            case NodeKind::Combine:
            case NodeKind::Block:
            case NodeKind::Sequential: check_children(n); break;
            case NodeKind::Collective: {
                static const char* kinds[] = {"relayout", "allreduce", "allgather", "reduce_scatter"};
                if (std::find(std::begin(kinds), std::end(kinds), n.name) == std::end(kinds))
                    error(what, n.loc, "unknown collective '" + n.name +
                                           "'; valid: relayout, allreduce, allgather, reduce_scatter");
                check_view(*n.view, what, n.loc, false);
                if (const Tensor* t = check_tensor_id(n.tensor_id, what, n.loc))
                    if (!n.dist.empty() && n.dist.size() != t->shape.size())
                        error(what, n.loc, "collective distribution has " + std::to_string(n.dist.size()) +
                                               " entries but tensor " + tensor_ref(*t) + " has rank " +
                                               std::to_string(t->shape.size()));
                break;
            }
            case NodeKind::Process: {
                for (int64_t c : n.consumes) check_channel(c, what, n.loc);
                for (int64_t c : n.produces) check_channel(c, what, n.loc);
                if (n.replicas < 1) error(what, n.loc, "replicas " + std::to_string(n.replicas) + " is less than 1");
                const Node* outer = process_;
                process_ = &n;
                check_children(n);
                process_ = outer;
                break;
            }
            case NodeKind::Send:
                check_channel(n.channel_id, what, n.loc);
                if (process_ && std::find(process_->produces.begin(), process_->produces.end(), n.channel_id) ==
                                    process_->produces.end())
                    error(what, n.loc, "sends on #ch" + std::to_string(n.channel_id) + ", which process '" +
                                           process_->name + "' does not list in produces");
                if (n.value) check_node(*n.value);
                break;
            case NodeKind::Consume:
                check_channel(n.channel_id, what, n.loc);
                if (process_ && std::find(process_->consumes.begin(), process_->consumes.end(), n.channel_id) ==
                                    process_->consumes.end())
                    error(what, n.loc, "consumes #ch" + std::to_string(n.channel_id) + ", which process '" +
                                           process_->name + "' does not list in consumes");
                bind(n.vars[0], what, n.loc);
                check_children(n);
                break;
            case NodeKind::Connect:
                for (int64_t c : n.channels) check_channel(c, what, n.loc);
                for (std::size_t i = 0; i < n.children.size(); ++i)
                    if (n.children[i]->kind != NodeKind::Process)
                        error(what, n.loc, "member " + std::to_string(i) + " is a " + to_string(n.children[i]->kind) +
                                               ", not a process");
                check_children(n);
                break;
            case NodeKind::Record:
            case NodeKind::Synchronize: check_event(n.event_id, what, n.loc); break;
            case NodeKind::SlotSet:
                if (n.slot < 0) error(what, n.loc, "slot index " + std::to_string(n.slot) + " is negative");
                check_expr(n.expr, what, n.loc);
                break;
            case NodeKind::SlotLoad:
                if (n.slot < 0) error(what, n.loc, "slot index " + std::to_string(n.slot) + " is negative");
                check_view(*n.view, what, n.loc, false);
                check_expr(n.row, what, n.loc);
                check_expr(n.col, what, n.loc);
                break;
            case NodeKind::Close: check_channel(n.channel_id, what, n.loc); break;
        }
        scope_.resize(depth);
    }

    // ---- schedule ----------------------------------------------------------------------------
    void check_schedule(const Schedule& s) {
        const std::string what = "schedule";
        // Keys may use any variable of the workload (they are evaluated per task).
        scope_.clear();
        for (const auto& [id, name] : defined_) scope_.push_back(VarDef{name, id});
        check_expr(s.dispatch_key, what + " dispatch key", "");
        check_expr(s.stream_key, what + " stream key", "");
        check_expr(s.ready_key, what + " ready key", "");
        scope_.clear();
        const bool keyed = s.dispatch == DispatchPolicy::Affinity || s.dispatch == DispatchPolicy::Hash ||
                           s.dispatch == DispatchPolicy::DispatchBy;
        if (keyed && !s.dispatch_key) error(what, "", "dispatch " + to_string(s.dispatch) + " needs a dispatch key");
        if (s.workers < 1) error(what, "", "workers " + std::to_string(s.workers) + " is not positive");
        if (s.start_policy == StartPolicy::Threshold && s.start_threshold < 1)
            error(what, "", "start threshold " + std::to_string(s.start_threshold) + " is not positive");
        if (s.streams < 0) error(what, "", "streams " + std::to_string(s.streams) + " is negative");
        if (s.window_size < 0) error(what, "", "window size " + std::to_string(s.window_size) + " is negative");
        if (s.timing == TimingPolicy::RateLimit && !(s.timing_param > 0))
            error(what, "", "rate_limit needs a positive rate, got " + format_double(s.timing_param));
        if (s.timing_param < 0) error(what, "", "timing parameter " + format_double(s.timing_param) + " is negative");
        for (int64_t g : s.spatial_grid)
            if (g <= 0) error(what, "", "spatial grid extent " + std::to_string(g) + " is not positive");
        for (int64_t p : s.pools)
            if (p < 0) error(what, "", "pool " + std::to_string(p) + " is negative");
        for (const auto& [kname, pool] : s.pool_kernels) {
            if (pool < 0 || pool >= static_cast<int64_t>(s.pools.size()))
                error(what, "", "pool kernel " + kname + " names pool " + std::to_string(pool) + " of " +
                                    std::to_string(s.pools.size()));
            bool known = false;
            for (const auto& k : m_.kernels) known = known || (k && k->name == kname);
            if (!known) error(what, "", "pool kernel " + kname + " is not a kernel of the module");
        }
    }

    const Module& m_;
    std::vector<std::string> msgs_;
    std::vector<VarDef> scope_;
    std::map<int64_t, std::string> defined_;  // every variable the workload binds (ordered)
    const Node* process_ = nullptr;           // innermost enclosing process
};

}  // namespace

std::vector<std::string> verify_module(const Module& m) { return Verifier(m).run(); }

}  // namespace pto::wsp::ir
