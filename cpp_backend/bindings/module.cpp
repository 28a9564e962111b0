// The pybind11 module pto_wsp._core. Each concern binds itself in its own file;
// this file only assembles the submodules.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_ir(py::module_& m);       // ir_bindings.cpp
void bind_runtime(py::module_& m);  // runtime_bindings.cpp (tile-op library)
void bind_sim(py::module_& m);      // sim_bindings.cpp (scheduler / cycle model)
void bind_codegen(py::module_& m);  // codegen_bindings.cpp (cpu_sim codegen + runner)
void bind_ascend(py::module_& m);   // ascend_bindings.cpp (ascend_npu source-tree emitter)
void bind_csp(py::module_& m);      // csp_bindings.cpp (CSP engine trace and benchmark)
void bind_textrows(py::module_& m);  // textrows_bindings.cpp (JSON rows of the trace export)

PYBIND11_MODULE(_core, m) {
    m.doc() = "PTO-WSP C++ backend: IR, code generation and the cycle-level simulator";
    m.attr("BACKEND_VERSION") = "0.1.0";
    auto ir = m.def_submodule("ir", "IR nodes, verifier and printer");
    bind_ir(ir);
    auto rt = m.def_submodule("runtime", "tile-op library and simulator runtime");
    bind_runtime(rt);
    auto sim = m.def_submodule("sim", "cycle-level scheduling simulator");
    bind_sim(sim);
    auto cg = m.def_submodule("codegen", "cpu_sim code generation and generated-library runner");
    bind_codegen(cg);
    auto asc = m.def_submodule("ascend", "ascend_npu source-tree emission"); bind_ascend(asc);
    auto csp = m.def_submodule("csp", "CSP engine: pipeline trace and benchmark");
    bind_csp(csp);
    auto rows = m.def_submodule("textrows", "column-wise text rows (the Chrome trace export)");
    bind_textrows(rows);
}
