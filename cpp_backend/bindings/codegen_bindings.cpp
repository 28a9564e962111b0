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

#include "codegen/cpu_sim.h"
#include "ir/module.h"
#include "runtime/exec.h"

namespace py = pybind11;
using pto::exec::Library;
using pto::exec::RunInputs;
using pto::exec::RunResult;
using pto::wsp::codegen::CodegenError;

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
    return d;
}

int32_t config_int(const py::dict& c, const char* key, int32_t dflt) {
    return c.contains(key) ? c[key].cast<int32_t>() : dflt;
}

std::shared_ptr<RunResult> run(const Library& lib, const py::list& tensors,
                               std::vector<int64_t> symbols, std::vector<int64_t> params,
                               py::array_t<uint64_t, py::array::c_style> slots,
                               std::vector<int64_t> kernel_cycles, double load_rate,
                               double store_rate, const py::dict& config) {
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
    in.symbols = std::move(symbols);
    in.params = std::move(params);
    in.slots = slots.mutable_data();
    in.n_slots = static_cast<int32_t>(slots.size());
    in.kernel_cycles = std::move(kernel_cycles);
    in.load_rate = load_rate;
    in.store_rate = store_rate;
    pto_sim_config_init(&in.config);
    in.config.workers = config_int(config, "workers", in.config.workers);
    in.config.dispatch = config_int(config, "dispatch", in.config.dispatch);
    in.config.streams = config_int(config, "streams", in.config.streams);
    in.config.timing = config_int(config, "timing", in.config.timing);
    if (config.contains("timing_param")) in.config.timing_param = config["timing_param"].cast<double>();
    if (config.contains("window")) in.config.window = config["window"].cast<int64_t>();
    if (config.contains("ns_per_cycle")) in.config.ns_per_cycle = config["ns_per_cycle"].cast<double>();
    in.config.trace = config_int(config, "trace", in.config.trace);
    if (config.contains("trace_reserve"))
        in.config.trace_reserve = config["trace_reserve"].cast<int64_t>();
    // Task-graph policies; the pool tables live here until pto_sim_create() copies them.
    if (config.contains("issue_cycles")) in.config.issue_cycles = config["issue_cycles"].cast<double>();
    in.config.ready_policy = config_int(config, "ready_policy", in.config.ready_policy);
    if (config.contains("start_threshold"))
        in.config.start_threshold = config["start_threshold"].cast<int64_t>();
    std::vector<int32_t> pool_sizes, kernel_pools;
    if (config.contains("pool_sizes")) pool_sizes = config["pool_sizes"].cast<std::vector<int32_t>>();
    if (config.contains("kernel_pools"))
        kernel_pools = config["kernel_pools"].cast<std::vector<int32_t>>();
    in.config.n_pools = static_cast<int32_t>(pool_sizes.size());
    in.config.pool_sizes = pool_sizes.data();
    in.config.n_kernel_pools = static_cast<int32_t>(kernel_pools.size());
    in.config.kernel_pool = kernel_pools.data();
    // The mesh (spatial_map): grid columns and cycles per hop.
    in.config.mesh_cols = config_int(config, "mesh_cols", in.config.mesh_cols);
    if (config.contains("hop")) in.config.hop = config["hop"].cast<double>();
    std::unique_ptr<RunResult> res;
    {
        py::gil_scoped_release release;
        res = pto::exec::run(lib, in);
    }
    return std::shared_ptr<RunResult>(std::move(res));
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
    m.attr("DISPATCH") = py::dict(py::arg("round_robin") = int(PTO_SIM_ROUND_ROBIN),
                                  py::arg("affinity") = int(PTO_SIM_AFFINITY),
                                  py::arg("hash") = int(PTO_SIM_HASH),
                                  py::arg("dispatch_by") = int(PTO_SIM_DISPATCH_BY),
                                  py::arg("work_steal") = int(PTO_SIM_WORK_STEAL));
    m.attr("TIMING") = py::dict(py::arg("immediate") = int(PTO_SIM_IMMEDIATE),
                                py::arg("batched") = int(PTO_SIM_BATCHED),
                                py::arg("interleaved") = int(PTO_SIM_INTERLEAVED),
                                py::arg("rate_limit") = int(PTO_SIM_RATE_LIMIT));
    m.attr("READY") = py::dict(py::arg("in_order") = int(PTO_SIM_READY_IN_ORDER),
                               py::arg("fifo") = int(PTO_SIM_READY_FIFO),
                               py::arg("lifo") = int(PTO_SIM_READY_LIFO),
                               py::arg("priority") = int(PTO_SIM_READY_PRIORITY));
    m.def("emit_cpu_sim", &emit, py::arg("module"), py::arg("tensor_strides") = std::vector<std::vector<int64_t>>{},
          "C++ sources of the cpu_sim library of a verified module: dict(files=[(name, text)], "
          "main_file, symbols, params, num_slots, arena_bytes, tracked_tensors). Raises "
          "CodegenError(message, loc).");
    py::class_<Library, std::shared_ptr<Library>>(m, "Library",
                                                  "A dlopen'ed generated cpu_sim library.")
        .def(py::init<const std::string&>(), py::arg("path"))
        .def_property_readonly("path", &Library::path)
        .def_property_readonly("abi_version", &Library::abi_version)
        .def_property_readonly("symbol_names", &Library::symbol_names)
        .def_property_readonly("param_names", &Library::param_names)
        .def_property_readonly("kernel_names", &Library::kernel_names)
        .def_property_readonly("num_tensors", &Library::num_tensors)
        .def_property_readonly("num_slots", &Library::num_slots)
        .def_property_readonly("arena_bytes", &Library::arena_bytes);
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
          py::arg("params"), py::arg("slots"), py::arg("kernel_cycles"), py::arg("load_rate"),
          py::arg("store_rate"), py::arg("config"),
          "Run a generated library once with the GIL released. tensors: [(ndarray, dtype code)] "
          "by IR tensor id; config: simulator settings (workers, dispatch, streams, timing, "
          "timing_param, window, ns_per_cycle, trace, trace_reserve, issue_cycles, ready_policy, "
          "start_threshold, pool_sizes, kernel_pools, mesh_cols, hop).");
}
