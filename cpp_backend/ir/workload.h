// Workload nodes: the task tree a workload describes (spec §3).
//
// One Node type with a `kind` tag and per-kind fields keeps traversal simple: a backend switches
// on `kind` and reads the fields listed for it. Nested nodes sit in `children` (loop / scope
// bodies, combine / sequential members, connected processes), `branches` (cond) or `value` (send);
// `Node::nested()` returns all of them in order.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/expr.h"
#include "ir/kernel.h"
#include "ir/types.h"

namespace pto::wsp::ir {

enum class AxisKind { Dense, DenseDyn, Ragged, Sparse };
std::string to_string(AxisKind k);

/// An iteration space.
///   Dense: size;  DenseDyn: size_expr;
///   Ragged: outer, lengths_tensor, row (optional; inner extent is lengths[row]);
///   Sparse: outer (rows), indptr_tensor, indices_tensor (CSR).
struct Axis {
    AxisKind kind = AxisKind::Dense;
    std::string name;
    int64_t size = -1;
    ExprPtr size_expr;
    ExprPtr outer;
    int64_t lengths_tensor = -1;
    int64_t indptr_tensor = -1;
    int64_t indices_tensor = -1;
    ExprPtr row;

    static Axis dense(std::string name, int64_t size);
    static Axis dense_dyn(std::string name, ExprPtr size);
    static Axis ragged(std::string name, ExprPtr outer, int64_t lengths_tensor, ExprPtr row);
    static Axis sparse(std::string name, ExprPtr outer, int64_t indptr_tensor, int64_t indices_tensor);

    /// Iteration count: size; size_expr; load(lengths[row]) for a ragged axis with a row, else
    /// outer; for a sparse axis the row count `outer` (a select_for iterates one row's entries).
    ExprPtr extent() const;
    /// Every expression this axis holds (for walks).
    std::vector<ExprPtr> exprs() const;
};

/// A task argument binding one kernel parameter: a view (tensor / tile parameters) or a scalar
/// expression (scalar / constexpr parameters).
struct Arg {
    enum class Kind { View, Scalar };
    std::string param;
    Kind kind = Kind::View;
    View view;      // Kind::View
    ExprPtr value;  // Kind::Scalar

    Arg() = default;
    Arg(std::string param, View view);
    static Arg scalar(std::string param, ExprPtr value);
};

/// A loop / consume variable binder (name, module-unique id).
struct VarDef {
    std::string name;
    int64_t id = -1;
};

struct Node;
using NodePtr = std::shared_ptr<Node>;

/// One arm of a cond: `pred` is null for the otherwise arm.
struct CondBranch {
    ExprPtr pred;
    std::vector<NodePtr> body;
};

enum class NodeKind {
    Task, ParallelFor, SeqFor, SelectFor, Cond, Pipe, Combine, Sequential, Process, Send,
    Consume, Connect, Record, Synchronize, SlotSet, SlotLoad, Close, Block, Collective,
};
std::string to_string(NodeKind k);

/// A workload node. Fields by kind:
///   Task:        kernel_id, axis_values, args
///   ParallelFor: vars, axes, children (body)
///   SeqFor:      vars[0], axes[0], children
///   SelectFor:   vars[0], axes[0] (sparse), row, children
///   Cond:        branches
///   Pipe / Combine / Sequential: children
///   Process:     name, consumes, produces, replicas, children
///   Send:        channel_id, value (may be null), attrs["block"] = false for a non-blocking send
///   Consume:     channel_id, vars[0], children; attrs["first_axis"] = true when vars[0] is the
///                first axis value of the task that sent the item (the reference builder's
///                consume), not the item's sequence number
///   Connect:     children (process nodes), channels
///   Record / Synchronize: event_id
///   SlotSet:     slot, expr
///   SlotLoad:    slot, view, row, col
///   Close:       channel_id
///   Block:       children (statements in program order)
///   Collective:  name (relayout | allreduce | allgather | reduce_scatter), view (source),
///                tensor_id (result tensor), dist (result distribution), attrs (op, dim)
struct Node {
    NodeKind kind = NodeKind::Task;
    std::string loc;

    int64_t kernel_id = -1;
    std::vector<ExprPtr> axis_values;
    std::vector<Arg> args;

    std::vector<VarDef> vars;
    std::vector<Axis> axes;
    ExprPtr row;
    ExprPtr col;
    ExprPtr expr;
    std::optional<View> view;

    std::vector<NodePtr> children;
    std::vector<CondBranch> branches;
    NodePtr value;

    std::string name;
    std::vector<int64_t> consumes;
    std::vector<int64_t> produces;
    int64_t replicas = 1;
    std::vector<int64_t> channels;
    int64_t channel_id = -1;
    int64_t event_id = -1;
    int64_t slot = -1;
    int64_t tensor_id = -1;
    std::vector<int64_t> dist;
    AttrMap attrs;

    static NodePtr task(int64_t kernel_id, std::vector<ExprPtr> axis_values, std::vector<Arg> args,
                        std::string loc = "");
    static NodePtr parallel_for(std::vector<VarDef> vars, std::vector<Axis> axes,
                                std::vector<NodePtr> body, std::string loc = "");
    static NodePtr seq_for(VarDef var, Axis axis, std::vector<NodePtr> body, std::string loc = "");
    static NodePtr select_for(VarDef var, Axis sparse, ExprPtr row, std::vector<NodePtr> body,
                              std::string loc = "");
    static NodePtr cond(std::vector<CondBranch> branches, std::string loc = "");
    static NodePtr pipe(std::vector<NodePtr> body, std::string loc = "");
    static NodePtr combine(std::vector<NodePtr> children, std::string loc = "");
    static NodePtr sequential(std::vector<NodePtr> children, std::string loc = "");
    static NodePtr process(std::string name, std::vector<int64_t> consumes,
                           std::vector<int64_t> produces, std::vector<NodePtr> body,
                           int64_t replicas = 1, std::string loc = "");
    static NodePtr send(int64_t channel_id, NodePtr value, std::string loc = "", bool block = true);
    static NodePtr consume(int64_t channel_id, VarDef var, std::vector<NodePtr> body,
                           std::string loc = "", bool first_axis = false);
    /// A Consume node whose variable is the sent task's first axis value (attrs["first_axis"]).
    bool binds_first_axis() const;
    static NodePtr connect(std::vector<NodePtr> processes, std::vector<int64_t> channels,
                           std::string loc = "");
    static NodePtr record(int64_t event_id, std::string loc = "");
    static NodePtr synchronize(int64_t event_id, std::string loc = "");
    static NodePtr slot_set(int64_t slot, ExprPtr value, std::string loc = "");
    static NodePtr slot_load(int64_t slot, View view, ExprPtr row, ExprPtr col, std::string loc = "");
    static NodePtr close(int64_t channel_id, std::string loc = "");
    static NodePtr block(std::vector<NodePtr> children, std::string loc = "");
    static NodePtr collective(std::string kind, View source, int64_t result_tensor,
                              std::vector<int64_t> dist, AttrMap attrs, std::string loc = "");

    /// Dependency type (spec §3): see docs/ir.md for the table.
    DepType dep_type() const;
    /// All nested nodes in order: children, then each branch body, then value.
    std::vector<NodePtr> nested() const;
    /// Printer form without module context (kernels print as @<id>).
    std::string print(bool with_locs = false) const;
};

}  // namespace pto::wsp::ir
