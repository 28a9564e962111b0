// Python bindings of the IR (pto_wsp._core.ir). Binding only: string <-> enum conversion happens
// in the ir:: parse functions (std::invalid_argument -> ValueError), the schedule's policy enums
// cross as the DSL's enums (policy_casters.h), and the few lambdas here only marshal Python
// shapes (tuples, "Node or list of Nodes") to the C++ types.
#include <optional>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "ir/expr.h"
#include "ir/kernel.h"
#include "ir/module.h"
#include "ir/printer.h"
#include "ir/schedule.h"
#include "ir/tile.h"
#include "ir/types.h"
#include "ir/workload.h"
#include "bindings/policy_casters.h"

namespace py = pybind11;
using namespace pto::wsp::ir;

namespace {

using VarTuple = std::pair<std::string, int64_t>;

VarDef to_var(const VarTuple& t) { return VarDef{t.first, t.second}; }

/// A body may be given as one Node or as a list of Nodes.
std::vector<NodePtr> to_body(const py::handle& body) {
    if (py::isinstance<Node>(body)) return {body.cast<NodePtr>()};
    return body.cast<std::vector<NodePtr>>();
}

py::object expr_or_none(const ExprPtr& e) { return e ? py::cast(e) : py::none(); }

void bind_expr(py::module_& m) {
    // Expr.load takes a View, bound below: the signature names the Python class only when the
    // class exists first, so `load` is added after View (pybind11-stubgen reads the signatures).
    py::classh<Expr> expr_cls(m, "Expr", "An immutable scalar expression (docs/ir.md).");
    expr_cls.def_static("int", &Expr::make_int, py::arg("v"))
        .def_static("float", &Expr::make_float, py::arg("v"))
        .def_static("bool", &Expr::make_bool, py::arg("v"))
        .def_static("var", &Expr::var, py::arg("name"), py::arg("id"))
        .def_static("symbol", &Expr::symbol, py::arg("name"))
        .def_static("symbol_f32", &Expr::symbol_f32, py::arg("name"))
        .def_static("param", &Expr::param, py::arg("name"))
        .def_static("slot", &Expr::slot, py::arg("i"))
        .def_static(
            "unary", [](const std::string& op, ExprPtr a) { return Expr::unary(parse_unary_op(op), std::move(a)); },
            py::arg("op"), py::arg("a"))
        .def_static(
            "binary",
            [](const std::string& op, ExprPtr a, ExprPtr b) {
                return Expr::binary(parse_binary_op(op), std::move(a), std::move(b));
            },
            py::arg("op"), py::arg("a"), py::arg("b"))
        .def_static("select", &Expr::select, py::arg("c"), py::arg("a"), py::arg("b"))
        .def_static("event_query", &Expr::event_query, py::arg("event_id"))
        .def_static("task_param", &Expr::task_param, py::arg("i"))
        .def_property_readonly("kind", [](const Expr& e) { return to_string(e.kind); })
        .def_property_readonly("op", [](const Expr& e) { return to_string(e.op); })
        .def_readonly("children", &Expr::children)
        .def_readonly("int_value", &Expr::int_value)
        .def_readonly("float_value", &Expr::float_value)
        .def_readonly("bool_value", &Expr::bool_value)
        .def_readonly("name", &Expr::name)
        .def_readonly("id", &Expr::id)
        .def_property_readonly("view", [](const Expr& e) { return e.view ? py::cast(*e.view) : py::none(); })
        .def("__str__", &Expr::str)
        .def("__repr__", [](const Expr& e) { return "Expr(" + e.str() + ")"; });

    py::class_<Index>(m, "Index", "One index of a View: a point or a strided range.")
        .def_static("point", &Index::point, py::arg("e"))
        .def_static("range", &Index::range, py::arg("start"), py::arg("stop"), py::arg("step") = 1)
        .def_property_readonly("kind",
                               [](const Index& i) { return i.kind == Index::Kind::Point ? "point" : "range"; })
        .def_property_readonly("value", [](const Index& i) { return expr_or_none(i.value); })
        .def_property_readonly("start", [](const Index& i) { return expr_or_none(i.start); })
        .def_property_readonly("stop", [](const Index& i) { return expr_or_none(i.stop); })
        .def_readonly("step", &Index::step);

    py::class_<View>(m, "View", "A view of a module tensor; dimensions not indexed are taken whole.")
        .def(py::init<int64_t, std::vector<Index>>(), py::arg("tensor_id"), py::arg("indices") = std::vector<Index>{})
        .def_readonly("tensor_id", &View::tensor_id)
        .def_readonly("indices", &View::indices)
        .def_property_readonly("shape_hint", [](const View& v) { return v.shape_hint; })
        .def("__str__", &print_view)
        .def("__repr__", [](const View& v) { return "View(" + print_view(v) + ")"; });
    expr_cls.def_static("load", &Expr::load, py::arg("view"));
}

void bind_workload(py::module_& m) {
    py::class_<Axis>(m, "Axis", "An iteration space (dense, dense_dyn, ragged, sparse).")
        .def_static("dense", &Axis::dense, py::arg("name"), py::arg("size"))
        .def_static("dense_dyn", &Axis::dense_dyn, py::arg("name"), py::arg("size"))
        .def_static(  // optional<>: the signature says `row: Expr | None` (a null ExprPtr)
            "ragged",
            [](std::string name, ExprPtr outer, int64_t lengths_tensor, std::optional<ExprPtr> row) {
                return Axis::ragged(std::move(name), std::move(outer), lengths_tensor, row.value_or(nullptr));
            },
            py::arg("name"), py::arg("outer"), py::arg("lengths_tensor"), py::arg("row") = py::none())
        .def_static("sparse", &Axis::sparse, py::arg("name"), py::arg("outer"), py::arg("indptr_tensor"),
                    py::arg("indices_tensor"))
        .def_property_readonly("kind", [](const Axis& a) { return to_string(a.kind); })
        .def_readonly("name", &Axis::name)
        .def_readonly("size", &Axis::size)
        .def_property_readonly("size_expr", [](const Axis& a) { return expr_or_none(a.size_expr); })
        .def_property_readonly("outer", [](const Axis& a) { return expr_or_none(a.outer); })
        .def_property_readonly("row", [](const Axis& a) { return expr_or_none(a.row); })
        .def_readonly("lengths_tensor", &Axis::lengths_tensor)
        .def_readonly("indptr_tensor", &Axis::indptr_tensor)
        .def_readonly("indices_tensor", &Axis::indices_tensor)
        .def("extent", &Axis::extent)
        .def("__str__", &print_axis);

    py::class_<Arg>(m, "Arg", "A task argument: a view (tensor/tile parameter) or a scalar.")
        .def(py::init<std::string, View>(), py::arg("param_name"), py::arg("view"))
        .def_static("scalar", &Arg::scalar, py::arg("param_name"), py::arg("e"))
        .def_readonly("param", &Arg::param)
        .def_property_readonly("kind", [](const Arg& a) { return a.kind == Arg::Kind::View ? "view" : "scalar"; })
        .def_property_readonly("view",
                               [](const Arg& a) { return a.kind == Arg::Kind::View ? py::cast(a.view) : py::none(); })
        .def_property_readonly("value", [](const Arg& a) { return expr_or_none(a.value); });

    py::classh<Node>(m, "Node", "A workload node (docs/ir.md); built by the static constructors.")
        .def_static("task", &Node::task, py::arg("kernel_id"), py::arg("axis_values"), py::arg("args"),
                    py::arg("loc") = "")
        .def_static(
            "parallel_for",
            [](const std::vector<VarTuple>& vars, std::vector<Axis> axes, const py::object& body, std::string loc) {
                std::vector<VarDef> defs;
                for (const auto& v : vars) defs.push_back(to_var(v));
                return Node::parallel_for(std::move(defs), std::move(axes), to_body(body), std::move(loc));
            },
            py::arg("vars"), py::arg("axes"), py::arg("body"), py::arg("loc") = "")
        .def_static(
            "seq_for",
            [](const VarTuple& var, Axis axis, const py::object& body, std::string loc) {
                return Node::seq_for(to_var(var), std::move(axis), to_body(body), std::move(loc));
            },
            py::arg("var"), py::arg("axis"), py::arg("body"), py::arg("loc") = "")
        .def_static(
            "select_for",
            [](const VarTuple& var, Axis sparse, ExprPtr row, const py::object& body, std::string loc) {
                return Node::select_for(to_var(var), std::move(sparse), std::move(row), to_body(body),
                                        std::move(loc));
            },
            py::arg("var"), py::arg("sparse"), py::arg("row"), py::arg("body"), py::arg("loc") = "")
        .def_static(
            "cond",
            [](const std::vector<std::pair<std::optional<ExprPtr>, py::object>>& branches, std::string loc) {
                std::vector<CondBranch> bs;  // a None predicate is the `otherwise` branch
                for (const auto& [pred, body] : branches)
                    bs.push_back(CondBranch{pred.value_or(nullptr), to_body(body)});
                return Node::cond(std::move(bs), std::move(loc));
            },
            py::arg("branches"), py::arg("loc") = "")
        .def_static(
            "pipe", [](const py::object& body, std::string loc) { return Node::pipe(to_body(body), std::move(loc)); },
            py::arg("body"), py::arg("loc") = "")
        .def_static("combine", &Node::combine, py::arg("children"), py::arg("loc") = "")
        .def_static("sequential", &Node::sequential, py::arg("children"), py::arg("loc") = "")
        .def_static(
            "process",
            [](std::string name, std::vector<int64_t> consumes, std::vector<int64_t> produces, const py::object& body,
               int64_t replicas, std::string loc) {
                return Node::process(std::move(name), std::move(consumes), std::move(produces), to_body(body),
                                     replicas, std::move(loc));
            },
            py::arg("name"), py::arg("consumes"), py::arg("produces"), py::arg("body"), py::arg("replicas") = 1,
            py::arg("loc") = "")
        .def_static(
            "send",
            [](int64_t channel_id, std::optional<NodePtr> value, std::string loc, bool block) {
                return Node::send(channel_id, value.value_or(nullptr), std::move(loc), block);
            },
            py::arg("channel_id"), py::arg("value") = py::none(), py::arg("loc") = "", py::arg("block") = true)
        .def_static(
            "consume",
            [](int64_t channel_id, const VarTuple& var, const py::object& body, std::string loc,
               bool first_axis) {
                return Node::consume(channel_id, to_var(var), to_body(body), std::move(loc),
                                     first_axis);
            },
            py::arg("channel_id"), py::arg("var"), py::arg("body"), py::arg("loc") = "",
            py::arg("first_axis") = false)
        .def_static("connect", &Node::connect, py::arg("processes"), py::arg("channels"), py::arg("loc") = "")
        .def_static("record", &Node::record, py::arg("event_id"), py::arg("loc") = "")
        .def_static("synchronize", &Node::synchronize, py::arg("event_id"), py::arg("loc") = "")
        .def_static("slot_set", &Node::slot_set, py::arg("slot"), py::arg("value"), py::arg("loc") = "")
        .def_static("slot_load", &Node::slot_load, py::arg("slot"), py::arg("view"), py::arg("row"), py::arg("col"),
                    py::arg("loc") = "")
        .def_static("close", &Node::close, py::arg("channel_id"), py::arg("loc") = "")
        .def_static("block", &Node::block, py::arg("children"), py::arg("loc") = "")
        .def_static("collective", &Node::collective, py::arg("kind"), py::arg("source"), py::arg("result_tensor"),
                    py::arg("dist"), py::arg("attrs"), py::arg("loc") = "")
        .def_readonly("tensor_id", &Node::tensor_id)
        .def_readonly("dist", &Node::dist)
        .def_readonly("attrs", &Node::attrs)
        .def_property_readonly("kind", [](const Node& n) { return to_string(n.kind); })
        .def_property_readonly("dep_type", [](const Node& n) { return to_string(n.dep_type()); })
        .def_readonly("loc", &Node::loc)
        .def_readonly("kernel_id", &Node::kernel_id)
        .def_readonly("axis_values", &Node::axis_values)
        .def_readonly("args", &Node::args)
        .def_property_readonly("vars",
                               [](const Node& n) {
                                   std::vector<VarTuple> out;
                                   for (const auto& v : n.vars) out.emplace_back(v.name, v.id);
                                   return out;
                               })
        .def_readonly("axes", &Node::axes)
        .def_property_readonly("row", [](const Node& n) { return expr_or_none(n.row); })
        .def_property_readonly("col", [](const Node& n) { return expr_or_none(n.col); })
        .def_property_readonly("expr", [](const Node& n) { return expr_or_none(n.expr); })
        .def_property_readonly("view", [](const Node& n) { return n.view ? py::cast(*n.view) : py::none(); })
        .def_readonly("children", &Node::children)
        .def_readonly("body", &Node::children)
        .def_property_readonly("branches",
                               [](const Node& n) {
                                   py::list out;
                                   for (const auto& b : n.branches)
                                       out.append(py::make_tuple(expr_or_none(b.pred), py::cast(b.body)));
                                   return out;
                               })
        .def_property_readonly("value", [](const Node& n) { return n.value ? py::cast(n.value) : py::none(); })
        .def_readonly("name", &Node::name)
        .def_readonly("consumes", &Node::consumes)
        .def_readonly("produces", &Node::produces)
        .def_readonly("replicas", &Node::replicas)
        .def_readonly("channels", &Node::channels)
        .def_readonly("channel_id", &Node::channel_id)
        .def_readonly("event_id", &Node::event_id)
        .def_readonly("slot", &Node::slot)
        .def("nested", &Node::nested)
        .def("print", &Node::print, py::arg("locs") = false)
        .def("__str__", [](const Node& n) { return n.print(false); });
}

void bind_kernel(py::module_& m) {
    py::class_<KernelParam>(m, "KernelParam", "A kernel parameter (read access).")
        .def_readonly("name", &KernelParam::name)
        .def_property_readonly("direction", [](const KernelParam& p) { return to_string(p.direction); })
        .def_property_readonly("kind", [](const KernelParam& p) { return to_string(p.kind); })
        .def_readonly("shape", &KernelParam::shape)
        .def_property_readonly("dtype", [](const KernelParam& p) { return to_string(p.dtype); })
        .def_readonly("default", &KernelParam::default_value);

    py::class_<KernelOp>(m, "KernelOp", "One op of a traced kernel body (read access).")
        .def_readonly("result", &KernelOp::result)
        .def_readonly("op", &KernelOp::name)
        .def_property_readonly("known", [](const KernelOp& o) { return o.code != OpCode::Unknown; })
        .def_readonly("operands", &KernelOp::operands)
        .def_readonly("shape", &KernelOp::shape)
        .def_property_readonly("dtype", [](const KernelOp& o) { return to_string(o.dtype); })
        .def_readonly("attrs", &KernelOp::attrs)
        .def_readonly("loc", &KernelOp::loc);

    // Bound before Kernel, whose tile_problems returns it (stubgen reads the signature).
    py::class_<TileProblem>(m, "TileProblem", "A tile that breaks the tile rank rule (ir/tile.h).")
        .def_readonly("construct", &TileProblem::construct)
        .def_readonly("problem", &TileProblem::problem)
        .def_readonly("loc", &TileProblem::loc)
        .def_property_readonly("message", &TileProblem::message);

    py::classh<Kernel>(m, "Kernel", "A kernel: signature and (traced) body of pto.* ops in SSA form.")
        .def(py::init<std::string, std::string>(), py::arg("name"), py::arg("loc") = "")
        .def(
            "add_param",
            [](Kernel& k, std::string name, const std::string& direction, const std::string& kind,
               std::vector<int64_t> shape, const std::string& dtype, std::optional<AttrValue> def) {
                return k.add_param(std::move(name), parse_direction(direction, "kernel parameter direction"),
                                   parse_param_kind(kind, "kernel parameter kind"), std::move(shape),
                                   parse_dtype(dtype, "kernel parameter dtype", true), std::move(def));
            },
            py::arg("name"), py::arg("direction"), py::arg("kind"), py::arg("shape") = std::vector<int64_t>{},
            py::arg("dtype") = "", py::arg("default") = py::none())
        .def(
            "add_op",
            [](Kernel& k, std::string op, std::vector<int64_t> operands, std::vector<int64_t> shape,
               const std::string& dtype, AttrMap attrs, std::string loc) {
                return k.add_op(std::move(op), std::move(operands), std::move(shape),
                                parse_dtype(dtype, "kernel op dtype", true), std::move(attrs), std::move(loc));
            },
            py::arg("op"), py::arg("operands"), py::arg("shape"), py::arg("dtype"), py::arg("attrs") = AttrMap{},
            py::arg("loc") = "")
        .def_readonly("name", &Kernel::name)
        .def_readonly("loc", &Kernel::loc)
        .def_readonly("params", &Kernel::params)
        .def_readonly("ops", &Kernel::ops)
        .def_property(
            "body_kind", [](const Kernel& k) { return to_string(k.body_kind); },
            [](Kernel& k, const std::string& s) { k.body_kind = parse_body_kind(s, "Kernel.body_kind"); })
        .def_readwrite("cpp_src", &Kernel::cpp_src)
        .def_readwrite("cpp_includes", &Kernel::cpp_includes)
        .def_readwrite("cpp_abi", &Kernel::cpp_abi)
        .def_readwrite("cpp_ptoisa", &Kernel::cpp_ptoisa)
        .def_readwrite("cost", &Kernel::cost)
        .def("find_param", &Kernel::find_param, py::arg("name"))
        .def("tile_problems", &tile_problems, "The tiles that break the tile rank rule (ir/tile.h).")
        .def("print", &Kernel::print, py::arg("locs") = false)
        .def("__str__", [](const Kernel& k) { return k.print(false); });

    m.def(
        "tile_dims",
        [](const std::vector<int64_t>& shape) -> std::optional<std::pair<int64_t, int64_t>> {
            const auto t = tile_dims(shape);
            if (!t) return std::nullopt;
            return std::make_pair(t->rows, t->cols);
        },
        py::arg("shape"), "(rows, cols) of a tile of `shape` (leading 1s dropped), None above 2-D.");
}

void bind_schedule(py::module_& m) {
    // Policy fields take and return the DSL's enum members (policy_casters.h); unset optional
    // policies are None. `workers` is the run's worker count, resolved once at lowering.
    py::classh<Schedule>(m, "Schedule", "Schedule attached to a module (plain data).")
        .def(py::init<>())
        .def_readwrite("dispatch", &Schedule::dispatch)
        .def_readwrite("workers", &Schedule::workers)
        .def_readwrite("dispatch_key", &Schedule::dispatch_key)
        .def_readwrite("streams", &Schedule::streams)
        .def_readwrite("stream_key", &Schedule::stream_key)
        .def_readwrite("timing", &Schedule::timing)
        .def_readwrite("timing_param", &Schedule::timing_param)
        .def_readwrite("window_size", &Schedule::window_size)
        .def_readwrite("window_unit", &Schedule::window_unit)
        .def_readwrite("window_mode", &Schedule::window_mode)
        .def_readwrite("spatial_grid", &Schedule::spatial_grid)
        .def_readwrite("deps", &Schedule::deps)
        .def_readwrite("ready_policy", &Schedule::ready_policy)
        .def_readwrite("ready_key", &Schedule::ready_key)
        .def_readwrite("start_policy", &Schedule::start_policy)
        .def_readwrite("start_threshold", &Schedule::start_threshold)
        .def_readwrite("trace_policy", &Schedule::trace_policy)
        .def_readwrite("pools", &Schedule::pools)
        .def_readwrite("pool_kernels", &Schedule::pool_kernels)
        .def("print", &Schedule::print)
        .def("__str__", &Schedule::print);
    m.attr("DEFAULT_WORKERS") = kDefaultWorkers;
}

void bind_module(py::module_& m) {
    py::class_<Layout>(m, "Layout", "Distribution (-1 = Replicate, k = Shard on mesh axis k) and memory layout.")
        .def(py::init([](std::vector<int64_t> dist, std::vector<int64_t> strides, const std::string& order) {
                 return Layout{std::move(dist), std::move(strides), parse_mem_order(order, "Layout.mem_order")};
             }),
             py::arg("dist"), py::arg("mem_strides") = std::vector<int64_t>{}, py::arg("mem_order") = "")
        .def_readonly("dist", &Layout::dist)
        .def_readonly("mem_strides", &Layout::mem_strides)
        .def_property_readonly("mem_order", [](const Layout& l) { return to_string(l.mem_order); });

    py::class_<Tensor>(m, "Tensor", "A module tensor (read access).")
        .def_readonly("id", &Tensor::id)
        .def_readonly("name", &Tensor::name)
        .def_readonly("shape", &Tensor::shape)
        .def_property_readonly("dtype", [](const Tensor& t) { return to_string(t.dtype); })
        .def_property_readonly("location", [](const Tensor& t) { return to_string(t.location); })
        .def_readonly("layout", &Tensor::layout)
        .def_property_readonly("role", [](const Tensor& t) { return to_string(t.role); });

    py::class_<Channel>(m, "Channel", "A module channel (read access).")
        .def_readonly("id", &Channel::id)
        .def_readonly("name", &Channel::name)
        .def_readonly("depth", &Channel::depth)
        .def_readonly("elem", &Channel::elem)
        .def_readonly("latency", &Channel::latency);

    py::class_<Event>(m, "Event", "A module event (read access).")
        .def_readonly("id", &Event::id)
        .def_readonly("name", &Event::name);

    py::class_<ScalarParam>(m, "ScalarParam", "A workload scalar parameter (read access).")
        .def_readonly("name", &ScalarParam::name)
        .def_property_readonly("dtype", [](const ScalarParam& p) { return to_string(p.dtype); });

    py::classh<Module>(m, "Module", "A compilation unit: tables, one workload and one schedule.")
        .def(py::init<std::string>(), py::arg("name"))
        .def(
            "add_tensor",
            [](Module& mod, std::string name, std::vector<int64_t> shape, const std::string& dtype,
               const std::string& location, std::optional<Layout> layout, const std::string& role) {
                return mod.add_tensor(std::move(name), std::move(shape), parse_dtype(dtype, "tensor dtype"),
                                      parse_location(location, "tensor location"), std::move(layout),
                                      parse_tensor_role(role, "tensor role"));
            },
            py::arg("name"), py::arg("shape"), py::arg("dtype"), py::arg("location") = "global",
            py::arg("layout") = py::none(), py::arg("role") = "data")
        .def("add_kernel", &Module::add_kernel, py::arg("k"))
        .def("add_channel", &Module::add_channel, py::arg("name"), py::arg("depth"), py::arg("elem") = "",
             py::arg("latency") = 0)
        .def("add_event", &Module::add_event, py::arg("name"))
        .def(
            "add_param",
            [](Module& mod, std::string name, const std::string& dtype) {
                return mod.add_param(std::move(name), parse_dtype(dtype, "parameter dtype"));
            },
            py::arg("name"), py::arg("dtype") = "i64")
        .def("set_workload", &Module::set_workload, py::arg("node"))
        .def("set_schedule", &Module::set_schedule, py::arg("s"))
        .def("view_shape", &Module::view_shape, py::arg("view"))
        .def("verify", &Module::verify)
        .def("print", &Module::print, py::arg("locs") = false)
        .def("__str__", [](const Module& mod) { return mod.print(false); })
        .def_readonly("name", &Module::name)
        .def_readonly("tensors", &Module::tensors)
        .def_readonly("kernels", &Module::kernels)
        .def_readonly("channels", &Module::channels)
        .def_readonly("events", &Module::events)
        .def_readonly("params", &Module::params)
        .def_readonly("workload", &Module::workload)
        .def_readonly("schedule", &Module::schedule);
}

}  // namespace

void bind_ir(py::module_& m) {
    bind_expr(m);
    bind_workload(m);
    bind_kernel(m);
    bind_schedule(m);
    bind_module(m);
#define PTO_X(ident, abi, name, ...) name,
    m.attr("DTYPES") = std::vector<std::string>{PTO_DTYPE_TABLE(PTO_X)};
#undef PTO_X
}
