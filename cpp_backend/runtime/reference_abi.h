// The reference implementation's C++ kernel ABI, beside ours (runtime/tile.h).
//
// A C++ body written for the reference implementation of PTO-WSP is the inside of
//
//     extern "C" uint64_t k(const KernelTaskDesc* task, CSPTContext*)
//
// and reads its task from `task` (docs/kernels.md, "The reference ABI"):
//   - task->args[0 .. num_axis_args): the values bound with `kernel[...]`, in order;
//   - task->args[num_axis_args .. num_args): the scalar parameters in signature order; an f32
//     scalar is its bit pattern (low 32 bits), an f64 one its 64 bits, an integer its value;
//   - task->tensor_ptrs[i]: the i-th tile parameter (signature order), at its view's origin;
//   - task->tensor_strides[2i], [2i+1]: its row and column strides, in elements;
//   - task->tensor_shapes[2i], [2i+1]: its rows and columns (ours; the reference has none).
// `pto::cpu_sim::add_cycles(n)` adds n cycles to the task; so does a body that returns n. The
// task costs its kernel's `cost=` (or the empty-body model) plus what the body added.
//
// With a PTO-ISA root the kernel is built against PTO-ISA (<pto/pto-inst.hpp> is included first,
// PTO_WSP_PTOISA is defined), and `pto_wsp::ptoisa::TLOAD / TSTORE / TSORT32` are thin wrappers
// over PTO-ISA's instructions of those names.
#ifndef PTO_RUNTIME_REFERENCE_ABI_H
#define PTO_RUNTIME_REFERENCE_ABI_H

#include <stdint.h>
#include <string.h>

#include <utility>

#ifndef __CPU_SIM
#define __CPU_SIM 1  // the reference's kernels test it; PTO-ISA builds define it on the command line
#endif

/// The most axis values a task passes (the codegen checks each call site).
#define PTO_REF_MAX_AXES 16

struct KernelTaskDesc {
    const uint64_t* args;          // axis values, then scalar parameters
    uint32_t num_args;             // axis values + scalar parameters
    uint32_t num_axis_args;        // values bound with kernel[...]
    void** tensor_ptrs;            // one per tile parameter, at the view's origin
    const int64_t* tensor_strides; // (row, col) per tile parameter, in elements
    uint32_t num_tensors;          // tile parameters
    const int64_t* tensor_shapes;  // (rows, cols) per tile parameter
};

/// The reference passes its CSP runtime here; cpu_sim kernels have nothing to read from it.
struct CSPTContext {
    int reserved;
};

namespace pto {
namespace cpu_sim {
namespace pto_wsp_detail {
// One counter per translation unit (internal linkage): the entry of a kernel resets it before
// the body and reads it after, in the thread that runs the task.
static thread_local uint64_t added = 0;
}  // namespace pto_wsp_detail

/// Adds `n` cycles to the running task.
static inline void add_cycles(uint64_t n) { pto_wsp_detail::added += n; }
}  // namespace cpu_sim
}  // namespace pto

static inline uint64_t pto_ref_f32_bits(double v) {
    const float f = static_cast<float>(v);
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static inline uint64_t pto_ref_f64_bits(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

#if defined(PTO_WSP_PTOISA)
namespace pto_wsp {
namespace ptoisa {
// Thin wrappers: the reference spells these pto_wsp::ptoisa::*; each forwards to PTO-ISA.
template <typename... A>
inline auto TLOAD(A&&... a) -> decltype(pto::TLOAD(std::forward<A>(a)...)) {
    return pto::TLOAD(std::forward<A>(a)...);
}
template <typename... A>
inline auto TSTORE(A&&... a) -> decltype(pto::TSTORE(std::forward<A>(a)...)) {
    return pto::TSTORE(std::forward<A>(a)...);
}
/// Sorts each 32-element block of `src` by value, descending (ties: lower index first), into
/// (value, index) pairs; the index slot holds the uint32 index's bit pattern.
template <typename... A>
inline auto TSORT32(A&&... a) -> decltype(pto::TSORT32(std::forward<A>(a)...)) {
    return pto::TSORT32(std::forward<A>(a)...);
}
}  // namespace ptoisa
}  // namespace pto_wsp
#endif

#endif  // PTO_RUNTIME_REFERENCE_ABI_H
