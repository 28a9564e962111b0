// ascend_npu code generation: an IR Module -> an NPU source tree for inspection (DESIGN.md §3,
// spec §5.0 / §5.3).
//
// The tree holds host code (ACL), an AICPU expander that expands the workload's tasks on the
// device from the compact plan (plan/plan.h: tables of tensors, kernels, symbols and the
// schedule) plus runtime symbols and index tensors, one AICore kernel source per kernel
// (PTO-ISA tile code), a host harness that runs the expander on the CPU, and a CMakeLists.txt for
// CANN. Nothing here is compiled for the device in this environment: the files are checked with
// `g++ -fsyntax-only` against pto_wsp/backends/ascend_stubs, and the expander is compiled on the host.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "codegen/cpu_sim.h"  // CodegenError
#include "ir/module.h"

namespace pto::wsp::codegen {

/// A kernel the emitter synthesizes for a collective (docs/ptoisa.md, "Collectives").
struct CollectiveKernel {
    int64_t kernel_id;
    std::string collective;  // allreduce, allgather, reduce_scatter, relayout
    std::string op;          // "copy", or the pto op that folds two blocks (add, mul, ...)
    int64_t tensor;          // the result tensor its tasks write
};

struct AscendSources {
    /// (relative path, text), in a fixed order: same module -> same bytes.
    std::vector<std::pair<std::string, std::string>> files;
    std::vector<std::string> symbols;  // runtime symbol names, in binding order
    std::vector<std::string> params;   // workload scalar params, in binding order
    int64_t num_slots = 0;
    /// Kernels after the module's (ids m.kernels.size() ...): one copy and one fold per collective.
    std::vector<CollectiveKernel> collective_kernels;
};

/// Emits the source tree of `m` (which must verify). Throws CodegenError naming what cannot be
/// emitted (C++-bodied kernels, ops without a PTO-ISA form, CSP forms without a device form).
AscendSources emit_ascend_npu(const ir::Module& m);

/// The AICore source of one kernel (`kernel_id` is its id in the module it belongs to; it only
/// names the entry point). Throws CodegenError.
std::string emit_ascend_kernel(const ir::Kernel& k, int64_t kernel_id = 0);

}  // namespace pto::wsp::codegen
