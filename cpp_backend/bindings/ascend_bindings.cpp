// pybind11 bindings of the ascend_npu source-tree emitter (pto_wsp._core.ascend). Only glue:
// CodegenError is the one registered by codegen_bindings.cpp (same C++ type), so errors arrive
// in Python as pto_wsp._core.codegen.CodegenError(message, loc).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "codegen/ascend_npu.h"
#include "ir/kernel.h"
#include "ir/module.h"

namespace py = pybind11;

void bind_ascend(py::module_& m) {
    m.def(
        "emit_ascend_npu",
        [](const pto::wsp::ir::Module& mod) {
            auto src = pto::wsp::codegen::emit_ascend_npu(mod);
            py::dict d;
            d["files"] = src.files;
            d["symbols"] = src.symbols;
            d["params"] = src.params;
            d["num_slots"] = src.num_slots;
            py::list coll;
            for (const auto& c : src.collective_kernels) {
                py::dict k;
                k["kernel_id"] = c.kernel_id;
                k["collective"] = c.collective;
                k["op"] = c.op;
                k["tensor"] = c.tensor;
                coll.append(k);
            }
            d["collective_kernels"] = coll;
            return d;
        },
        py::arg("module"),
        "Source tree of a verified module for Ascend NPUs: dict(files=[(relative path, text)], "
        "symbols, params, num_slots, collective_kernels=[dict(kernel_id, collective, op, tensor)]). "
        "Raises codegen.CodegenError(message, loc).");
    m.def(
        "emit_kernel",
        [](const pto::wsp::ir::Kernel& k, int64_t kernel_id) {
            return pto::wsp::codegen::emit_ascend_kernel(k, kernel_id);
        },
        py::arg("kernel"), py::arg("kernel_id") = 0,
        "AICore (PTO-ISA) source of one kernel. Raises codegen.CodegenError(message, loc).");
}
