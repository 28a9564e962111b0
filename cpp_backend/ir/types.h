// Enumerations of the IR and their string forms.
//
// Every enum that crosses the Python boundary as a string has a `parse_*` function that raises
// std::invalid_argument naming the field and listing the valid spellings (pybind11 turns it into
// ValueError), and a `to_string` that returns the canonical spelling used by the printer. The
// schedule's policy enums never cross as strings (see below): they have `to_string` only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pto_tables.h"

namespace pto::wsp::ir {

/// Element type: one per row of the dtype table (pto_wsp/language/dtype_table.py, generated
/// into pto_tables.h). `None` stands for "no type" (an op without a result, an untyped
/// parameter).
enum class DType {
    None,
#define PTO_X(ident, ...) ident,
    PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
};

/// Memory location of a tensor.
enum class Location { Global, L2, UB, L1 };

/// Direction of a kernel parameter.
enum class Direction { In, Out, InOut, Constexpr };

/// What a kernel parameter carries.
enum class ParamKind { Tensor, Tile, Scalar };

/// Role of a module tensor: ordinary data, or an index table (routing, lengths, indptr ...) that
/// tasks may read but never write.
enum class TensorRole { Data, Index };

/// Memory order of a tensor layout ("" = unspecified).
enum class MemOrder { Unspecified, RowMajor, ColMajor };

/// How a kernel body is given: traced pto.* ops, no body, or user C++ source.
enum class BodyKind { Traced, Empty, Cpp };

/// Dependency type of a workload node (spec §3).
enum class DepType { Independent, Sequential, Selected, Pipeline, Conditional, Combined };

/// Task dispatch policy of a schedule.
enum class DispatchPolicy { RoundRobin, Affinity, Hash, DispatchBy, WorkSteal };

/// Issue timing policy of a schedule.
enum class TimingPolicy { Immediate, Batched, Interleaved, RateLimit };

/// Full task window: wait, stop the run, or count would-be stalls (WindowMode of the DSL).
enum class WindowMode { Stall, Abort, Benchmark };

/// Where task dependencies come from (Deps of the DSL): exact regions, bounding ranges, none.
enum class DepsMode { Infer, InferBounding, Explicit };

/// Order in which a worker takes its ready tasks (ReadyPolicy of the DSL).
enum class ReadyPolicy { InOrder, Fifo, Lifo, Priority };

/// When execution starts (StartPolicy of the DSL); Threshold carries its count separately.
enum class StartPolicy { Eager, Threshold };

/// What a run records (TracePolicy of the DSL).
enum class TracePolicy { Full, None };

// The policy enums above cross into Python as the DSL's own enums (pto_wsp/language/
// policy_kinds.py), member i of the Python enum being enumerator i here: the binding's caster
// (bindings/policy_casters.h) maps them by position and checks the spellings once at first use.

std::string to_string(DType v);
std::string to_string(Location v);
std::string to_string(Direction v);
std::string to_string(ParamKind v);
std::string to_string(TensorRole v);
std::string to_string(MemOrder v);
std::string to_string(BodyKind v);
std::string to_string(DepType v);
std::string to_string(DispatchPolicy v);
std::string to_string(TimingPolicy v);
std::string to_string(WindowMode v);
std::string to_string(DepsMode v);
std::string to_string(ReadyPolicy v);
std::string to_string(StartPolicy v);
std::string to_string(TracePolicy v);

/// Parse a dtype. "" is accepted (as DType::None) only when `allow_none` is set.
DType parse_dtype(std::string_view s, std::string_view field, bool allow_none = false);
Location parse_location(std::string_view s, std::string_view field);
Direction parse_direction(std::string_view s, std::string_view field);
ParamKind parse_param_kind(std::string_view s, std::string_view field);
TensorRole parse_tensor_role(std::string_view s, std::string_view field);
MemOrder parse_mem_order(std::string_view s, std::string_view field);
BodyKind parse_body_kind(std::string_view s, std::string_view field);

/// Size in bytes of one element (0 for DType::None).
int dtype_size(DType d);
bool dtype_is_float(DType d);
bool dtype_is_int(DType d);  // signed or unsigned integer (not bool)

/// Comma-separated rendering of a list of integers, e.g. "4, 8, 16".
std::string join_ints(const std::vector<int64_t>& v);

}  // namespace pto::wsp::ir
