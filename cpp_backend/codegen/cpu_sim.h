// cpu_sim code generation: an IR Module -> C++ sources of a shared library (DESIGN.md §2).
//
// The emitted library follows runtime/abi.h: `pto_lib_run()` walks the workload tree in program
// order, evaluates each task's argument views on the user's buffers, runs the kernel's numerics
// (traced kernels: one `pto_<op>` call per IR op; cpp kernels: the user's body), computes its
// cost, dispatch/stream keys, static dependencies (P.seq / sequential barriers) and - only for
// tensors where the compile-time disjointness proof fails - its accessed element ranges, and
// submits it to the simulator. Sources: one file per kernel plus the driver, which #includes
// them, so the compiler sees one translation unit; a kernel built against PTO-ISA is its own
// translation unit instead (`ptoisa_files`), linked with the driver.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ir/module.h"

namespace pto::wsp::codegen {

/// A construct the cpu_sim backend cannot lower. `loc` is the IR loc ("file:line" or "").
class CodegenError : public std::runtime_error {
public:
    CodegenError(const std::string& message, std::string loc)
        : std::runtime_error(message), loc(std::move(loc)) {}
    std::string loc;
};

struct CpuSimSources {
    /// (file name, text); the last one is the driver, the translation unit to compile.
    std::vector<std::pair<std::string, std::string>> files;
    std::string main_file;
    std::vector<std::string> symbols;  // runtime symbol names, in binding order
    std::vector<std::string> params;   // workload scalar params, in binding order
    int64_t num_slots = 0;
    int64_t arena_bytes = 0;
    /// Tensor ids whose accesses are tracked at run time (the disjointness proof failed).
    std::vector<int64_t> tracked_tensors;
    /// Kernel files built on their own against PTO-ISA (kernels with `cpp_ptoisa`): compiled
    /// with PTO-ISA's toolchain into objects linked with the driver, which declares their
    /// entries instead of #including them.
    std::vector<std::string> ptoisa_files;
};

struct CpuSimOptions {
    /// Per tensor id, the element strides of the buffer that will be bound (may be empty: then
    /// only run-time checks guard the flattening of >2-D views).
    std::vector<std::vector<int64_t>> tensor_strides;
};

/// Emits the library sources for `m` (which must verify). Throws CodegenError.
CpuSimSources emit_cpu_sim(const ir::Module& m, const CpuSimOptions& opts = {});

}  // namespace pto::wsp::codegen
