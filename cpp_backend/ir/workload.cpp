#include "ir/workload.h"

#include <stdexcept>
#include <utility>

#include "ir/printer.h"

namespace pto::wsp::ir {
namespace {

void require(const ExprPtr& e, const std::string& what) {
    if (!e) throw std::invalid_argument(what + " must be an Expr, not None");
}

void require_nodes(const std::vector<NodePtr>& nodes, const std::string& what) {
    for (const auto& n : nodes)
        if (!n) throw std::invalid_argument(what + " must hold Nodes, not None");
}

NodePtr fresh(NodeKind kind, std::string loc) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->loc = std::move(loc);
    return n;
}

}  // namespace

std::string to_string(AxisKind k) {
    switch (k) {
        case AxisKind::Dense: return "dense";
        case AxisKind::DenseDyn: return "dense_dyn";
        case AxisKind::Ragged: return "ragged";
        case AxisKind::Sparse: return "sparse";
    }
    return "?";
}

std::string to_string(NodeKind k) {
    switch (k) {
        case NodeKind::Task: return "task";
        case NodeKind::ParallelFor: return "parallel_for";
        case NodeKind::SeqFor: return "seq_for";
        case NodeKind::SelectFor: return "select_for";
        case NodeKind::Cond: return "cond";
        case NodeKind::Pipe: return "pipe";
        case NodeKind::Combine: return "combine";
        case NodeKind::Sequential: return "sequential";
        case NodeKind::Process: return "process";
        case NodeKind::Send: return "send";
        case NodeKind::Consume: return "consume";
        case NodeKind::Connect: return "connect";
        case NodeKind::Record: return "record";
        case NodeKind::Synchronize: return "synchronize";
        case NodeKind::SlotSet: return "slot_set";
        case NodeKind::SlotLoad: return "slot_load";
        case NodeKind::Close: return "close";
        case NodeKind::Block: return "block";
        case NodeKind::Collective: return "collective";
    }
    return "?";
}

Axis Axis::dense(std::string name, int64_t size) {
    Axis a;
    a.kind = AxisKind::Dense;
    a.name = std::move(name);
    a.size = size;
    return a;
}

Axis Axis::dense_dyn(std::string name, ExprPtr size) {
    require(size, "Axis.dense_dyn size");
    Axis a;
    a.kind = AxisKind::DenseDyn;
    a.name = std::move(name);
    a.size_expr = std::move(size);
    return a;
}

Axis Axis::ragged(std::string name, ExprPtr outer, int64_t lengths_tensor, ExprPtr row) {
    require(outer, "Axis.ragged outer");
    Axis a;
    a.kind = AxisKind::Ragged;
    a.name = std::move(name);
    a.outer = std::move(outer);
    a.lengths_tensor = lengths_tensor;
    a.row = std::move(row);
    return a;
}

Axis Axis::sparse(std::string name, ExprPtr outer, int64_t indptr_tensor, int64_t indices_tensor) {
    require(outer, "Axis.sparse outer");
    Axis a;
    a.kind = AxisKind::Sparse;
    a.name = std::move(name);
    a.outer = std::move(outer);
    a.indptr_tensor = indptr_tensor;
    a.indices_tensor = indices_tensor;
    return a;
}

ExprPtr Axis::extent() const {
    switch (kind) {
        case AxisKind::Dense: return Expr::make_int(size);
        case AxisKind::DenseDyn: return size_expr;
        case AxisKind::Ragged:
            if (row) return Expr::load(View(lengths_tensor, {Index::point(row)}));
            return outer;
        case AxisKind::Sparse: return outer;
    }
    return nullptr;
}

std::vector<ExprPtr> Axis::exprs() const {
    std::vector<ExprPtr> out;
    for (const ExprPtr& e : {size_expr, outer, row})
        if (e) out.push_back(e);
    return out;
}

Arg::Arg(std::string param_, View view_) : param(std::move(param_)), kind(Kind::View), view(std::move(view_)) {}

Arg Arg::scalar(std::string param, ExprPtr value) {
    require(value, "Arg.scalar value");
    Arg a;
    a.param = std::move(param);
    a.kind = Kind::Scalar;
    a.value = std::move(value);
    return a;
}

NodePtr Node::task(int64_t kernel_id, std::vector<ExprPtr> axis_values, std::vector<Arg> args,
                   std::string loc) {
    for (const auto& e : axis_values) require(e, "Node.task axis value");
    auto n = fresh(NodeKind::Task, std::move(loc));
    n->kernel_id = kernel_id;
    n->axis_values = std::move(axis_values);
    n->args = std::move(args);
    return n;
}

NodePtr Node::parallel_for(std::vector<VarDef> vars, std::vector<Axis> axes,
                           std::vector<NodePtr> body, std::string loc) {
    if (vars.size() != axes.size())
        throw std::invalid_argument("Node.parallel_for: " + std::to_string(vars.size()) +
                                    " vars for " + std::to_string(axes.size()) +
                                    " axes; give one var per axis");
    if (vars.empty()) throw std::invalid_argument("Node.parallel_for: needs at least one axis");
    require_nodes(body, "Node.parallel_for body");
    auto n = fresh(NodeKind::ParallelFor, std::move(loc));
    n->vars = std::move(vars);
    n->axes = std::move(axes);
    n->children = std::move(body);
    return n;
}

NodePtr Node::seq_for(VarDef var, Axis axis, std::vector<NodePtr> body, std::string loc) {
    require_nodes(body, "Node.seq_for body");
    auto n = fresh(NodeKind::SeqFor, std::move(loc));
    n->vars = {std::move(var)};
    n->axes = {std::move(axis)};
    n->children = std::move(body);
    return n;
}

NodePtr Node::select_for(VarDef var, Axis sparse, ExprPtr row, std::vector<NodePtr> body,
                         std::string loc) {
    require(row, "Node.select_for row");
    require_nodes(body, "Node.select_for body");
    auto n = fresh(NodeKind::SelectFor, std::move(loc));
    n->vars = {std::move(var)};
    n->axes = {std::move(sparse)};
    n->row = std::move(row);
    n->children = std::move(body);
    return n;
}

NodePtr Node::cond(std::vector<CondBranch> branches, std::string loc) {
    for (const auto& b : branches) require_nodes(b.body, "Node.cond branch body");
    auto n = fresh(NodeKind::Cond, std::move(loc));
    n->branches = std::move(branches);
    return n;
}

NodePtr Node::pipe(std::vector<NodePtr> body, std::string loc) {
    require_nodes(body, "Node.pipe body");
    auto n = fresh(NodeKind::Pipe, std::move(loc));
    n->children = std::move(body);
    return n;
}

NodePtr Node::combine(std::vector<NodePtr> children, std::string loc) {
    require_nodes(children, "Node.combine children");
    auto n = fresh(NodeKind::Combine, std::move(loc));
    n->children = std::move(children);
    return n;
}

NodePtr Node::sequential(std::vector<NodePtr> children, std::string loc) {
    require_nodes(children, "Node.sequential children");
    auto n = fresh(NodeKind::Sequential, std::move(loc));
    n->children = std::move(children);
    return n;
}

NodePtr Node::process(std::string name, std::vector<int64_t> consumes, std::vector<int64_t> produces,
                      std::vector<NodePtr> body, int64_t replicas, std::string loc) {
    require_nodes(body, "Node.process body");
    auto n = fresh(NodeKind::Process, std::move(loc));
    n->name = std::move(name);
    n->consumes = std::move(consumes);
    n->produces = std::move(produces);
    n->children = std::move(body);
    n->replicas = replicas;
    return n;
}

NodePtr Node::send(int64_t channel_id, NodePtr value, std::string loc, bool block) {
    auto n = fresh(NodeKind::Send, std::move(loc));
    n->channel_id = channel_id;
    n->value = std::move(value);
    if (!block) n->attrs["block"] = false;  // send(..., block=False): ChannelFull, never waits
    return n;
}

NodePtr Node::consume(int64_t channel_id, VarDef var, std::vector<NodePtr> body, std::string loc,
                      bool first_axis) {
    require_nodes(body, "Node.consume body");
    auto n = fresh(NodeKind::Consume, std::move(loc));
    n->channel_id = channel_id;
    n->vars = {std::move(var)};
    n->children = std::move(body);
    if (first_axis) n->attrs["first_axis"] = true;  // the reference builder's consume(ch, fn)
    return n;
}

bool Node::binds_first_axis() const {
    if (kind != NodeKind::Consume) return false;
    auto it = attrs.find("first_axis");
    return it != attrs.end() && it->second == AttrValue(true);
}

NodePtr Node::connect(std::vector<NodePtr> processes, std::vector<int64_t> channels,
                      std::string loc) {
    require_nodes(processes, "Node.connect processes");
    auto n = fresh(NodeKind::Connect, std::move(loc));
    n->children = std::move(processes);
    n->channels = std::move(channels);
    return n;
}

NodePtr Node::record(int64_t event_id, std::string loc) {
    auto n = fresh(NodeKind::Record, std::move(loc));
    n->event_id = event_id;
    return n;
}

NodePtr Node::synchronize(int64_t event_id, std::string loc) {
    auto n = fresh(NodeKind::Synchronize, std::move(loc));
    n->event_id = event_id;
    return n;
}

NodePtr Node::slot_set(int64_t slot, ExprPtr value, std::string loc) {
    require(value, "Node.slot_set value");
    auto n = fresh(NodeKind::SlotSet, std::move(loc));
    n->slot = slot;
    n->expr = std::move(value);
    return n;
}

NodePtr Node::slot_load(int64_t slot, View view, ExprPtr row, ExprPtr col, std::string loc) {
    require(row, "Node.slot_load row");
    require(col, "Node.slot_load col");
    auto n = fresh(NodeKind::SlotLoad, std::move(loc));
    n->slot = slot;
    n->view = std::move(view);
    n->row = std::move(row);
    n->col = std::move(col);
    return n;
}

NodePtr Node::close(int64_t channel_id, std::string loc) {
    auto n = fresh(NodeKind::Close, std::move(loc));
    n->channel_id = channel_id;
    return n;
}

NodePtr Node::block(std::vector<NodePtr> children, std::string loc) {
    require_nodes(children, "Node.block children");
    auto n = fresh(NodeKind::Block, std::move(loc));
    n->children = std::move(children);
    return n;
}

NodePtr Node::collective(std::string kind, View source, int64_t result_tensor,
                         std::vector<int64_t> dist, AttrMap attrs, std::string loc) {
    auto n = fresh(NodeKind::Collective, std::move(loc));
    n->name = std::move(kind);
    n->view = std::move(source);
    n->tensor_id = result_tensor;
    n->dist = std::move(dist);
    n->attrs = std::move(attrs);
    return n;
}

DepType Node::dep_type() const {
    switch (kind) {
        case NodeKind::ParallelFor: return DepType::Independent;
        case NodeKind::SeqFor: return DepType::Sequential;
        case NodeKind::SelectFor: return DepType::Selected;
        case NodeKind::Pipe: return DepType::Pipeline;
        case NodeKind::Connect: return DepType::Pipeline;
        case NodeKind::Cond: return DepType::Conditional;
        case NodeKind::Combine: return DepType::Combined;
        case NodeKind::Block: return DepType::Combined;  // sibling statements, ordered by data
        case NodeKind::Sequential: return DepType::Sequential;
        case NodeKind::Process: return DepType::Sequential;  // a process runs its body in order
        case NodeKind::Consume: return DepType::Sequential;  // items are handled in order
        default: return DepType::Independent;                // leaves
    }
}

std::vector<NodePtr> Node::nested() const {
    std::vector<NodePtr> out = children;
    for (const auto& b : branches) out.insert(out.end(), b.body.begin(), b.body.end());
    if (value) out.push_back(value);
    return out;
}

std::string Node::print(bool with_locs) const { return print_node(*this, nullptr, with_locs); }

}  // namespace pto::wsp::ir
