// pybind11 bindings of the scheduling simulator (pto_wsp._core.sim). Only binding glue: policies
// arrive as the DSL's enums (policy_casters.h), arguments are validated, and the trace is exposed as a
// zero-copy numpy structured array whose base object keeps the simulator alive.
#include <pybind11/gil_safe_call_once.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/policy_casters.h"
#include "codegen/sim_config.h"
#include "runtime/sim.h"

namespace py = pybind11;
using pto::wsp::codegen::RunCosts;
using pto::wsp::codegen::SimConfig;
using pto::wsp::ir::DispatchPolicy;
using pto::wsp::ir::ReadyPolicy;
using pto::wsp::ir::TimingPolicy;

namespace {

// The numpy dtype of pto_sim_record, with explicit offsets so it matches the C layout exactly.
py::dtype record_dtype() {
    py::list names, formats, offsets;
    auto field = [&](const char* name, const char* fmt, std::size_t off) {
        names.append(name);
        formats.append(fmt);
        offsets.append(off);
    };
    field("task", "<u4", offsetof(pto_sim_record, task));
    field("kernel", "<i4", offsetof(pto_sim_record, kernel));
    field("worker", "<i4", offsetof(pto_sim_record, worker));
    field("stream", "<i4", offsetof(pto_sim_record, stream));
    field("start", "<i8", offsetof(pto_sim_record, start));
    field("end", "<i8", offsetof(pto_sim_record, end));
    for (int i = 0; i < 4; ++i)
        field(("idx" + std::to_string(i)).c_str(), "<i4",
              offsetof(pto_sim_record, idx) + static_cast<std::size_t>(i) * sizeof(int32_t));
    field("gate", "<u4", offsetof(pto_sim_record, gate));
    field("cause", "<i4", offsetof(pto_sim_record, cause));
    py::dict spec;
    spec["names"] = names;
    spec["formats"] = formats;
    spec["offsets"] = offsets;
    spec["itemsize"] = sizeof(pto_sim_record);
    return py::dtype::from_args(spec);
}

// Owns a pto_sim; Python holds it by value in the pybind11 instance.
class PySimulator {
public:
    // Policies are the DSL's enum members (policy_casters.h); unset = round robin, immediate,
    // in order. The mapping to the C enums is codegen::to_pto_sim's, the one the runs use.
    PySimulator(int32_t workers, std::optional<DispatchPolicy> dispatch, int32_t streams,
                std::optional<TimingPolicy> timing, double timing_param, int64_t window,
                double ns_per_cycle, bool trace, int64_t trace_reserve, double issue_cycles,
                std::optional<ReadyPolicy> ready, int64_t start_threshold,
                const std::vector<int32_t>& pools, const std::vector<int32_t>& kernel_pools,
                int32_t mesh_cols, double hop) {
        SimConfig c;
        c.workers = workers;
        c.dispatch = dispatch.value_or(DispatchPolicy::RoundRobin);
        c.streams = streams;
        c.timing = timing.value_or(TimingPolicy::Immediate);
        c.timing_param = timing_param;
        c.window = window;
        c.trace = trace;
        c.ready = ready.value_or(ReadyPolicy::InOrder);
        c.start_threshold = start_threshold;
        c.pool_sizes = pools;
        c.kernel_pools = kernel_pools;
        c.mesh_cols = mesh_cols;
        RunCosts costs;
        costs.ns_per_cycle = ns_per_cycle;
        costs.trace_reserve = trace_reserve;
        costs.issue_cycles = issue_cycles;
        costs.hop = hop;
        const pto_sim_config cfg = pto::wsp::codegen::to_pto_sim(c, costs);  // pools point into c
        if (const char* err = pto_sim_config_check(&cfg))
            throw py::value_error(std::string("Simulator: ") + err);
        sim_ = pto_sim_create(&cfg);
        trace_ = trace;
    }
    ~PySimulator() { pto_sim_destroy(sim_); }
    PySimulator(const PySimulator&) = delete;
    PySimulator& operator=(const PySimulator&) = delete;

    int64_t submit(int32_t kernel, int64_t cycles, int64_t dispatch_key, int64_t stream_key,
                   const std::vector<int32_t>& idx, int64_t min_start, int64_t ready_key,
                   int32_t min_cause, int64_t min_gate) {
        if (cycles < 0) throw py::value_error("submit: cycles must be >= 0");
        if (min_cause < 0 || min_cause >= PTO_WAIT_COUNT)
            throw py::value_error("submit: min_cause must be a wait-cause code in [0, " +
                                  std::to_string(PTO_WAIT_COUNT) + "), got " +
                                  std::to_string(min_cause));
        if (min_start > 0 && min_cause == PTO_WAIT_NONE)
            throw py::value_error("submit: min_cause must name what set min_start > 0, not none");
        if (min_gate < -1 || min_gate >= static_cast<int64_t>(pto_sim_task_count(sim_)))
            throw py::value_error("submit: min_gate must be -1 (none) or an earlier task, got " +
                                  std::to_string(min_gate));
        if (idx.size() > 4)
            throw py::value_error("submit: at most 4 loop indices, got " +
                                  std::to_string(idx.size()));
        pto_sim_task t{};
        t.kernel = kernel;
        t.cycles = cycles;
        t.dispatch_key = dispatch_key;
        t.stream_key = stream_key;
        t.min_start = min_start;
        t.ready_key = ready_key;
        const bool bound = min_start > 0;  // sim.h: no kind or gate for a bound at 0
        t.min_cause = bound ? min_cause : PTO_WAIT_NONE;
        t.min_gate = bound && min_gate >= 0 ? static_cast<uint32_t>(min_gate) : PTO_WAIT_NO_GATE;
        for (std::size_t i = 0; i < 4; ++i) t.idx[i] = i < idx.size() ? idx[i] : -1;
        return pto_sim_submit(sim_, &t);
    }

    void access_strided(int32_t tensor, int64_t base, int64_t run_len, int64_t stride,
                        int64_t count, bool write) {
        if (run_len < 0 || count < 0)
            throw py::value_error("access_strided: run_len and count must be >= 0, got run_len=" +
                                  std::to_string(run_len) + ", count=" + std::to_string(count));
        pto_sim_access_strided(sim_, tensor, base, run_len, stride, count, write ? 1 : 0);
    }

    void tensor_home(int32_t tensor, const std::vector<int64_t>& shape,
                     const std::vector<int64_t>& strides, const std::vector<int32_t>& coord,
                     const std::vector<int64_t>& coord_size) {
        const std::size_t n = shape.size();
        if (n > 8 || strides.size() != n || coord.size() != n || coord_size.size() != n)
            throw py::value_error(
                "tensor_home: shape, strides, coord and coord_size need one entry per dimension "
                "(at most 8)");
        for (std::size_t d = 0; d < n; ++d)
            if (coord[d] < -1 || coord[d] > 1 || coord_size[d] < 1)
                throw py::value_error("tensor_home: coord is -1 (replicated), 0 (mesh row) or 1 "
                                      "(mesh column) and coord_size >= 1");
        pto_sim_tensor_home(sim_, tensor, static_cast<int32_t>(n), shape.data(), strides.data(),
                            coord.data(), coord_size.data());
    }

    void access(int32_t tensor, int64_t lo, int64_t hi, bool write) {
        if (lo > hi)
            throw py::value_error("access: empty range needs lo <= hi, got [" +
                                  std::to_string(lo) + ", " + std::to_string(hi) + ")");
        pto_sim_access(sim_, tensor, lo, hi, write ? 1 : 0);
    }

    int64_t task_end(int64_t task) {
        if (task < 0 || static_cast<uint64_t>(task) >= pto_sim_task_count(sim_))
            throw py::index_error("task_end: no task " + std::to_string(task));
        const int64_t end = pto_sim_task_end(sim_, static_cast<uint32_t>(task));
        if (end < 0)
            throw py::value_error(
                "task_end: ends are not retained with trace=False when nothing holds tasks (no "
                "buffering timing, ready policy or start threshold); use the value submit() "
                "returned");
        return end;
    }

    std::vector<int64_t> worker_busy() const {
        std::vector<int64_t> out;
        for (int32_t w = 0; w < pto_sim_workers(sim_); ++w)
            out.push_back(pto_sim_worker_busy(sim_, w));
        return out;
    }

    pto_sim* raw() const { return sim_; }
    bool traced() const { return trace_; }

private:
    pto_sim* sim_ = nullptr;
    bool trace_ = true;
};

py::array trace_view(const py::object& self) {
    auto& s = self.cast<PySimulator&>();
    if (!s.traced())
        throw py::value_error("Simulator.trace: the trace is disabled (Simulator(trace=False))");
    // Built once and kept for the life of the interpreter (never destroyed after finalisation).
    PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::dtype> dtype_once;
    const py::dtype& dt = dtype_once.call_once_and_store_result(record_dtype).get_stored();
    const pto_sim_record* data = pto_sim_trace_view(s.raw());
    const auto n = static_cast<py::ssize_t>(pto_sim_trace_length(s.raw()));
    py::array arr(dt, {n}, {static_cast<py::ssize_t>(sizeof(pto_sim_record))}, data, self);
    py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return arr;
}

}  // namespace

void bind_sim(py::module_& m) {
    m.attr("RECORD_SIZE") = sizeof(pto_sim_record);
    m.attr("PENDING") = PTO_SIM_PENDING;
    m.def("trace_dtype", &record_dtype, "numpy dtype of one trace record");
    m.def("splitmix64", &pto_sim_splitmix64, py::arg("x"),
          "The splitmix64 mix used by the hash dispatch policy (x is taken modulo 2**64).");

    py::class_<PySimulator>(m, "Simulator", "Cycle-level scheduling simulator (see sim.h)")
        .def(py::init<int32_t, std::optional<DispatchPolicy>, int32_t, std::optional<TimingPolicy>,
                      double, int64_t, double, bool, int64_t, double, std::optional<ReadyPolicy>,
                      int64_t, const std::vector<int32_t>&, const std::vector<int32_t>&, int32_t,
                      double>(),
             py::arg("workers") = int32_t{PTO_SIM_DEFAULT_WORKERS}, py::arg("dispatch") = py::none(),
             py::arg("streams") = 0, py::arg("timing") = py::none(), py::arg("timing_param") = 0.0,
             py::arg("window") = 0, py::arg("ns_per_cycle") = 1.0, py::arg("trace") = true,
             py::arg("trace_reserve") = 0, py::arg("issue_cycles") = 0.0,
             py::arg("ready") = py::none(), py::arg("start_threshold") = 0,
             py::arg("pools") = std::vector<int32_t>{},
             py::arg("kernel_pools") = std::vector<int32_t>{}, py::arg("mesh_cols") = 0,
             py::arg("hop") = 16.0,
             "Policies: dispatch (DispatchKind), timing (TimingKind), ready (ReadyKind); None = "
             "round robin, immediate, in order. Task-graph policies: issue_cycles (dispatcher cost "
             "per issued task), start_threshold (0 = eager), pools (worker counts, "
             "contiguous from worker 0) and kernel_pools (pool by kernel id, -1 = any worker). "
             "Mesh: mesh_cols (0 = none; workers form a (workers / mesh_cols) x mesh_cols grid) "
             "and hop (cycles per hop).")
        .def("submit", &PySimulator::submit, py::arg("kernel"), py::arg("cycles"),
             py::arg("dispatch_key") = 0, py::arg("stream_key") = 0,
             py::arg("idx") = std::vector<int32_t>{}, py::arg("min_start") = 0,
             py::arg("ready_key") = 0, py::arg("min_cause") = int32_t{PTO_WAIT_BARRIER},
             py::arg("min_gate") = int64_t{-1},
             "Submit the next task; returns its end cycle or PENDING when held. min_start is a "
             "static bound on its start, of wait-cause kind min_cause (a code of "
             "pto_wsp.runtime.wait_causes; default: the sequential barrier) set by the end of task "
             "min_gate (-1: none).")
        .def("access_strided", &PySimulator::access_strided, py::arg("tensor"), py::arg("base"),
             py::arg("run_len"), py::arg("stride"), py::arg("count"), py::arg("write"),
             "Declare a strided access of the next task: count runs of run_len elements, run i "
             "at base + i * stride.")
        .def("tensor_home", &PySimulator::tensor_home, py::arg("tensor"), py::arg("shape"),
             py::arg("strides"), py::arg("coord"), py::arg("coord_size"),
             "Mesh: where the blocks of a sharded tensor live (coord per dimension: -1 "
             "replicated, 0 mesh row, 1 mesh column; coord_size: the mesh extent along it).")
        .def("region_pitch",
             [](const PySimulator& s, int32_t tensor) { return pto_sim_region_pitch(s.raw(), tensor); },
             py::arg("tensor"),
             "0 while the tensor's regions are a 1-D interval map, else the pitch of its 2-D map.")
        .def("access", &PySimulator::access, py::arg("tensor"), py::arg("lo"), py::arg("hi"),
             py::arg("write"), "Declare a [lo, hi) access of the next submitted task.")
        .def("task_end", &PySimulator::task_end, py::arg("task"),
             "End cycle of a task by submission index (issues the buffer if it is pending).")
        .def("flush", [](PySimulator& s) { pto_sim_flush(s.raw()); })
        .def("finish", [](PySimulator& s) { pto_sim_finish(s.raw()); })
        .def_property_readonly("trace", &trace_view)
        .def_property_readonly("total_cycles",
                               [](const PySimulator& s) { return pto_sim_total_cycles(s.raw()); })
        .def_property_readonly("task_count",
                               [](const PySimulator& s) { return pto_sim_task_count(s.raw()); })
        .def_property_readonly("workers",
                               [](const PySimulator& s) { return pto_sim_workers(s.raw()); })
        .def_property_readonly("worker_busy", &PySimulator::worker_busy);
}
