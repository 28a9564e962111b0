#include "ir/module.h"

#include <stdexcept>
#include <utility>

#include "ir/printer.h"
#include "ir/verifier.h"

namespace pto::wsp::ir {
namespace {

template <typename T>
const T* lookup(const std::vector<T>& table, int64_t id) {
    if (id < 0 || id >= static_cast<int64_t>(table.size())) return nullptr;
    return &table[static_cast<std::size_t>(id)];
}

void hint_expr(const Module& m, const ExprPtr& e);

void hint_view(const Module& m, const View& v) {
    v.shape_hint = m.view_shape(v);
    for (const Index& ix : v.indices)
        for (const ExprPtr& e : {ix.value, ix.start, ix.stop}) hint_expr(m, e);
}

void hint_expr(const Module& m, const ExprPtr& e) {
    if (!e) return;
    if (e->view) hint_view(m, *e->view);
    for (const ExprPtr& c : e->children) hint_expr(m, c);
}

void hint_node(const Module& m, const Node& n) {
    for (const ExprPtr& e : n.axis_values) hint_expr(m, e);
    for (const Arg& a : n.args) {
        if (a.kind == Arg::Kind::View) hint_view(m, a.view);
        hint_expr(m, a.value);
    }
    for (const Axis& a : n.axes)
        for (const ExprPtr& e : a.exprs()) hint_expr(m, e);
    for (const ExprPtr& e : {n.row, n.col, n.expr}) hint_expr(m, e);
    if (n.view) hint_view(m, *n.view);
    for (const CondBranch& b : n.branches) hint_expr(m, b.pred);
    for (const NodePtr& c : n.nested()) hint_node(m, *c);
}

}  // namespace

void Module::refresh_shape_hints() const {
    if (workload) hint_node(*this, *workload);
    if (schedule) {
        hint_expr(*this, schedule->dispatch_key);
        hint_expr(*this, schedule->stream_key);
    }
}

Module::Module(std::string name_) : name(std::move(name_)) {}

int64_t Module::add_tensor(std::string tname, std::vector<int64_t> shape, DType dtype,
                           Location location, std::optional<Layout> layout, TensorRole role) {
    if (dtype == DType::None)
        throw std::invalid_argument("Module.add_tensor: tensor '" + tname + "' needs a dtype");
    Tensor t;
    t.id = static_cast<int64_t>(tensors.size());
    t.name = std::move(tname);
    t.shape = std::move(shape);
    t.dtype = dtype;
    t.location = location;
    t.layout = std::move(layout);
    t.role = role;
    tensors.push_back(std::move(t));
    return tensors.back().id;
}

int64_t Module::add_kernel(KernelPtr k) {
    if (!k) throw std::invalid_argument("Module.add_kernel: kernel must be a Kernel, not None");
    kernels.push_back(std::move(k));
    return static_cast<int64_t>(kernels.size()) - 1;
}

int64_t Module::add_channel(std::string cname, int64_t depth, std::string elem, int64_t latency) {
    Channel c;
    c.id = static_cast<int64_t>(channels.size());
    c.name = std::move(cname);
    c.depth = depth;
    c.elem = std::move(elem);
    c.latency = latency;
    channels.push_back(std::move(c));
    return channels.back().id;
}

int64_t Module::add_event(std::string ename) {
    Event e;
    e.id = static_cast<int64_t>(events.size());
    e.name = std::move(ename);
    events.push_back(std::move(e));
    return events.back().id;
}

int64_t Module::add_param(std::string pname, DType dtype) {
    if (param(pname))
        throw std::invalid_argument("Module.add_param: parameter '" + pname + "' already declared");
    if (dtype == DType::None)
        throw std::invalid_argument("Module.add_param: parameter '" + pname + "' needs a dtype");
    params.push_back(ScalarParam{std::move(pname), dtype});
    return static_cast<int64_t>(params.size()) - 1;
}

const Tensor* Module::tensor(int64_t id) const { return lookup(tensors, id); }
const Channel* Module::channel(int64_t id) const { return lookup(channels, id); }
const Event* Module::event(int64_t id) const { return lookup(events, id); }

const Kernel* Module::kernel(int64_t id) const {
    const KernelPtr* k = lookup(kernels, id);
    return k ? k->get() : nullptr;
}

const ScalarParam* Module::param(const std::string& pname) const {
    for (const auto& p : params)
        if (p.name == pname) return &p;
    return nullptr;
}

std::vector<int64_t> Module::view_shape(const View& view) const {
    const Tensor* t = tensor(view.tensor_id);
    if (!t) return {};
    return view.shape_of(t->shape);
}

std::vector<std::string> Module::verify() const { return verify_module(*this); }

std::string Module::print(bool with_locs) const { return print_module(*this, with_locs); }

}  // namespace pto::wsp::ir
