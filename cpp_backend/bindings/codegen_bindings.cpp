// pybind11 bindings of the cpu_sim code generator and the generated-library runner
// (pto_wsp._core.codegen). Only glue: argument marshalling, the GIL release around a run, and
// the zero-copy trace view whose base object keeps the run (and its simulator) alive.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bindings/policy_casters.h"
#include "codegen/cpu_sim.h"
#include "codegen/sim_config.h"
#include "ir/module.h"
#include "runtime/exec.h"
#include "runtime/run_values.h"

namespace py = pybind11;
using pto::exec::Library;
using pto::exec::RunInputs;
using pto::exec::RunResult;
using pto::exec::RunValues;
using pto::wsp::codegen::CodegenError;
using pto::wsp::codegen::RunCosts;
using pto::wsp::codegen::SimConfig;

namespace {

py::dict emit(const pto::wsp::ir::Module& m, const std::vector<std::vector<int64_t>>& strides) {
    pto::wsp::codegen::CpuSimOptions opts;
    opts.tensor_strides = strides;
    auto src = pto::wsp::codegen::emit_cpu_sim(m, opts);
    py::dict d;
    d["files"] = src.files;
    d["main_file"] = src.main_file;
    d["symbols"] = src.symbols;
    d["params"] = src.params;
    d["num_slots"] = src.num_slots;
    d["arena_bytes"] = src.arena_bytes;
    d["tracked_tensors"] = src.tracked_tensors;
    d["ptoisa_files"] = src.ptoisa_files;
    return d;
}

/// A read/write property of a plain struct field whose setter, given a value of the wrong type,
/// raises TypeError naming the class, the field and the expected type (pybind11's own message
/// names neither).
template <typename C, typename T>
void typed_field(py::class_<C>& cls, const char* cls_name, const char* name, T C::*member,
                 const char* expected) {
    cls.def_property(
        name, [member](const C& c) { return c.*member; },
        [member, cls_name, name, expected](C& c, const py::object& v) {
            try {
                c.*member = v.cast<T>();
            } catch (const py::cast_error&) {
                throw py::type_error(std::string(cls_name) + "." + name + " must be " + expected + ", got " +
                                     std::string(py::str(py::type::of(v).attr("__name__"))) + " " +
                                     std::string(py::repr(v)));
            }
        });
}

std::shared_ptr<RunResult> run(const Library& lib, const py::list& tensors,
                               const RunValues& symbols, const RunValues& params,
                               py::array_t<uint64_t, py::array::c_style> slots,
                               const SimConfig& config, const RunCosts& costs) {
    RunInputs in;
    for (const auto& item : tensors) {
        auto tup = item.cast<py::tuple>();
        auto arr = tup[0].cast<py::array>();
        const int32_t code = tup[1].cast<int32_t>();
        pto_abi_tensor t{};
        t.data = const_cast<void*>(arr.data());
        t.dtype = code;
        t.ndim = static_cast<int32_t>(arr.ndim());
        if (t.ndim > PTO_ABI_MAX_DIMS)
            throw py::value_error("run: a tensor has rank " + std::to_string(t.ndim) +
                                  " > " + std::to_string(PTO_ABI_MAX_DIMS));
        const auto item_size = static_cast<int64_t>(arr.itemsize());
        for (int32_t d = 0; d < t.ndim; ++d) {
            t.shape[d] = static_cast<int64_t>(arr.shape(d));
            const auto sb = static_cast<int64_t>(arr.strides(d));
            if (sb % item_size != 0)
                throw py::value_error("run: a tensor's strides are not a multiple of its item size");
            t.strides[d] = sb / item_size;
        }
        in.tensors.push_back(t);
    }
    in.symbols = symbols.values();
    in.params = params.values();
    in.slots = slots.mutable_data();
    in.n_slots = static_cast<int32_t>(slots.size());
    in.kernel_cycles = costs.kernel_cycles;
    in.load_rate = costs.load_rate;
    in.store_rate = costs.store_rate;
    in.config = pto::wsp::codegen::to_pto_sim(config, costs);  // pool tables point into config
    std::unique_ptr<RunResult> res;
    {
        py::gil_scoped_release release;
        res = pto::exec::run(lib, in);
    }
    return std::shared_ptr<RunResult>(std::move(res));
}

void bind_sim_config(py::module_& m) {
    py::class_<SimConfig> sc(m, "SimConfig",
                             "Simulator settings of a cpu_sim run, as the IR schedule gives them "
                             "(sim_config(module)); typed fields, no logic.");
    sc.def(py::init<>());
    typed_field(sc, "SimConfig", "workers", &SimConfig::workers, "int");
    typed_field(sc, "SimConfig", "dispatch", &SimConfig::dispatch, "DispatchKind");
    typed_field(sc, "SimConfig", "streams", &SimConfig::streams, "int");
    typed_field(sc, "SimConfig", "timing", &SimConfig::timing, "TimingKind");
    typed_field(sc, "SimConfig", "timing_param", &SimConfig::timing_param, "float");
    typed_field(sc, "SimConfig", "window", &SimConfig::window, "int");
    typed_field(sc, "SimConfig", "trace", &SimConfig::trace, "bool");
    typed_field(sc, "SimConfig", "ready", &SimConfig::ready, "ReadyKind");
    typed_field(sc, "SimConfig", "start_threshold", &SimConfig::start_threshold, "int");
    typed_field(sc, "SimConfig", "pool_sizes", &SimConfig::pool_sizes, "list[int]");
    typed_field(sc, "SimConfig", "kernel_pools", &SimConfig::kernel_pools, "list[int]");
    typed_field(sc, "SimConfig", "mesh_cols", &SimConfig::mesh_cols, "int");
    py::class_<RunCosts> rc(m, "RunCosts",
                            "The cost table's run-time numbers for one cpu_sim run; typed fields.");
    rc.def(py::init<>());
    typed_field(rc, "RunCosts", "kernel_cycles", &RunCosts::kernel_cycles, "list[int]");
    typed_field(rc, "RunCosts", "load_rate", &RunCosts::load_rate, "float");
    typed_field(rc, "RunCosts", "store_rate", &RunCosts::store_rate, "float");
    typed_field(rc, "RunCosts", "ns_per_cycle", &RunCosts::ns_per_cycle, "float");
    typed_field(rc, "RunCosts", "issue_cycles", &RunCosts::issue_cycles, "float");
    typed_field(rc, "RunCosts", "hop", &RunCosts::hop, "float");
    typed_field(rc, "RunCosts", "trace_reserve", &RunCosts::trace_reserve, "int");
    m.def("sim_config", &pto::wsp::codegen::sim_config, py::arg("module"),
          "The simulator settings a lowered module's schedule asks for. Raises CodegenError.");
}

py::array trace_of(const py::object& self) {
    auto& r = self.cast<RunResult&>();
    py::dtype dt = py::module_::import("pto_wsp._core").attr("sim").attr("trace_dtype")();
    if (r.sim == nullptr) return py::array(dt, {0}, {static_cast<py::ssize_t>(sizeof(pto_sim_record))});
    const pto_sim_record* data = pto_sim_trace_view(r.sim);
    const auto n = static_cast<py::ssize_t>(pto_sim_trace_length(r.sim));
    py::array arr(dt, {n}, {static_cast<py::ssize_t>(sizeof(pto_sim_record))}, data, self);
    py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return arr;
}

}  // namespace

void bind_codegen(py::module_& m) {
    // Leaked on purpose: never destroyed after the interpreter finalises.
    static auto& codegen_error = *new py::exception<CodegenError>(m, "CodegenError");
    static auto& load_error = *new py::exception<pto::exec::LoadError>(m, "LoadError");
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const CodegenError& e) {
            // args = (message, loc) so Python can point at the user's line.
            PyErr_SetObject(codegen_error.ptr(), py::make_tuple(e.what(), e.loc).ptr());
        } catch (const pto::exec::LoadError& e) {
            PyErr_SetString(load_error.ptr(), e.what());
        }
    });
    m.attr("ABI_VERSION") = PTO_ABI_VERSION;
    m.attr("SOURCE_TOKEN") = PTO_SOURCE_TOKEN;
    bind_sim_config(m);
    m.def("emit_cpu_sim", &emit, py::arg("module"), py::arg("tensor_strides") = std::vector<std::vector<int64_t>>{},
          "C++ sources of the cpu_sim library of a verified module: dict(files=[(name, text)], "
          "main_file, symbols, params, num_slots, arena_bytes, tracked_tensors, ptoisa_files). Raises "
          "CodegenError(message, loc).");
    py::class_<Library, std::shared_ptr<Library>>(m, "Library",
                                                  "A dlopen'ed generated cpu_sim library.")
        .def(py::init<const std::string&, std::vector<std::string>>(), py::arg("path"),
             py::arg("sources") = std::vector<std::string>{},
             "Load the library; sources[N] is the path its source token N stands for.")
        .def_property_readonly("path", &Library::path)
        .def_property_readonly("sources", &Library::sources)
        .def_property_readonly("abi_version", &Library::abi_version)
        .def_property_readonly("symbol_names", &Library::symbol_names)
        .def_property_readonly("param_names", &Library::param_names)
        .def_property_readonly("kernel_names", &Library::kernel_names)
        .def_property_readonly("num_tensors", &Library::num_tensors)
        .def_property_readonly("num_slots", &Library::num_slots)
        .def_property_readonly("arena_bytes", &Library::arena_bytes);
    py::class_<RunValues>(m, "RunValues",
                          "Named 64-bit run-time inputs of a library (its runtime symbols or its "
                          "params), in the library's order; a value never set is 0.")
        .def(py::init<std::vector<std::string>>(), py::arg("names"))
        .def_property_readonly("names", &RunValues::names)
        .def_property_readonly("values", &RunValues::values)
        .def("set_u64", &RunValues::set_u64, py::arg("name"), py::arg("bits"),
             "Set name to a 64-bit pattern; False (nothing set) when the library reads no such value.")
        .def("set_f32", &RunValues::set_f32, py::arg("name"), py::arg("value"),
             "Set name to the bits of an f32 (low half); False when the library reads no such value.")
        .def("u64", &RunValues::u64, py::arg("name"), "The 64-bit pattern of name (0 when never set).");
    py::class_<RunResult, std::shared_ptr<RunResult>>(m, "RunResult", "Outcome of one run.")
        .def_readonly("ok", &RunResult::ok)
        .def_readonly("error", &RunResult::error)
        .def_readonly("task_count", &RunResult::task_count)
        .def_readonly("total_cycles", &RunResult::total_cycles)
        .def_readonly("execute_ms", &RunResult::execute_ms)
        .def_readonly("worker_busy", &RunResult::worker_busy)
        .def_property_readonly("trace", &trace_of,
                               "Per-task trace (zero-copy numpy structured array, read-only).");
    m.def("run", &run, py::arg("library"), py::arg("tensors"), py::arg("symbols"),
          py::arg("params"), py::arg("slots"), py::arg("config"), py::arg("costs"),
          "Run a generated library once with the GIL released. tensors: [(ndarray, dtype code)] "
          "by IR tensor id; symbols / params: the RunValues of the library's names; config: the SimConfig of the module; costs: the RunCosts of the run.");
}
