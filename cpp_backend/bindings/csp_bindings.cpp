// pto_wsp._core.csp: the CSP engine's trace of a finished cpu_sim run.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "ir/workload.h"
#include "runtime/csp.h"
#include "runtime/csp_deadlock.h"
#include "runtime/csp_trace.h"
#include "runtime/exec.h"
#include "runtime/sim.h"

namespace py = pybind11;

namespace {

py::dtype occupancy_dtype() {
    py::list f;
    f.append(py::make_tuple("time", "<i8"));
    f.append(py::make_tuple("channel", "<i4"));
    f.append(py::make_tuple("occupancy", "<i4"));
    return py::dtype(py::module_::import("numpy").attr("dtype")(f));
}

py::dtype wait_dtype() {
    py::list f;
    f.append(py::make_tuple("start", "<i8"));
    f.append(py::make_tuple("end", "<i8"));
    f.append(py::make_tuple("process", "<i4"));
    f.append(py::make_tuple("object", "<i4"));
    f.append(py::make_tuple("kind", "<i4"));
    f.append(py::make_tuple("reserved", "<i4"));
    return py::dtype(py::module_::import("numpy").attr("dtype")(f));
}

py::dtype segment_dtype() {
    py::list f;
    f.append(py::make_tuple("first_task", "<u4"));
    f.append(py::make_tuple("process", "<i4"));
    return py::dtype(py::module_::import("numpy").attr("dtype")(f));
}

template <class T>
py::array to_array(const pto::csp::RecordBuf<T>& v, const py::dtype& dt) {
    const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(v.size())};
    const std::vector<py::ssize_t> strides{static_cast<py::ssize_t>(sizeof(T))};
    py::array arr(dt, shape, strides);
    if (!v.empty()) std::memcpy(arr.mutable_data(), v.data(), v.size() * sizeof(T));
    return arr;
}

py::object take_trace(const py::object& result) {
    auto& r = result.cast<pto::exec::RunResult&>();
    pto::csp::Trace tr;
    if (r.sim == nullptr || !pto::csp::take_trace(r.sim, tr)) return py::none();
    py::dict d;
    d["processes"] = tr.processes;
    d["channels"] = tr.channels;
    d["events"] = tr.events;
    d["process_start"] = tr.process_start;
    d["process_end"] = tr.process_end;
    d["occupancy"] = to_array(tr.occupancy, occupancy_dtype());
    d["waits"] = to_array(tr.waits, wait_dtype());
    d["task_segments"] = to_array(tr.task_segments, segment_dtype());
    d["deadlock"] = tr.deadlock ? py::cast(std::move(*tr.deadlock)) : py::none();
    return d;
}

}  // namespace

void bind_csp(py::module_& m) {
    using pto::csp::Deadlock;
    using pto::csp::DeadlockWait;
    py::enum_<pto_csp_wait_kind>(m, "WaitKind", "The side a process waits on.")
        .value("SEND", PTO_CSP_WAIT_SEND)
        .value("TAKE", PTO_CSP_WAIT_TAKE)
        .value("EVENT", PTO_CSP_WAIT_EVENT);
    py::class_<DeadlockWait>(m, "DeadlockWait", "One party of a deadlock and what it waits on.")
        .def_readonly("process", &DeadlockWait::process, "process name; '' for the driver")
        .def_readonly("kind", &DeadlockWait::kind)
        .def_readonly("channel", &DeadlockWait::channel)
        .def_readonly("event", &DeadlockWait::event)
        .def_readonly("slots_used", &DeadlockWait::slots_used)
        .def_readonly("slots", &DeadlockWait::slots)
        .def_readonly("unfed", &DeadlockWait::unfed)
        .def_readonly("where", &DeadlockWait::where);
    py::class_<Deadlock>(m, "Deadlock", "Why a CSP run stopped: its cycle, wait cycle and waits.")
        .def_readonly("cycle", &Deadlock::cycle)
        .def_readonly("wait_cycle", &Deadlock::wait_cycle)
        .def_readonly("waits", &Deadlock::waits)
        .def_property_readonly("processes", &Deadlock::processes)
        .def_property_readonly("channels", &Deadlock::channels)
        .def_property_readonly("events", &Deadlock::events)
        .def_property_readonly("message", &Deadlock::message);
    m.def("take_trace", &take_trace, py::arg("result"),
          "The CSP trace of a finished run (dict: processes, channels, events, process_start, "
          "process_end, occupancy, waits, task_segments, deadlock: a Deadlock or None), or None when the run had no pipeline / event. "
          "Taken once: a second call returns None.");
    m.attr("WAIT_SEND") = int(PTO_CSP_WAIT_SEND);
    m.attr("WAIT_TAKE") = int(PTO_CSP_WAIT_TAKE);
    m.attr("WAIT_EVENT") = int(PTO_CSP_WAIT_EVENT);
}
