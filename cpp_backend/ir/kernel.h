// Kernels: a signature (parameters) and, for traced kernels, a body of pto.* ops in SSA form.
//
// SSA values are numbered: parameters are values 0..n-1, the i-th op defines value n+i (ops
// without a result, such as store, still take a number so ids never shift).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ir/types.h"
#include "pto_tables.h"

namespace pto::wsp::ir {

/// An attribute / default value: int, float, str, bool or list[int]. bool comes first so that a
/// Python bool is never taken for an int.
using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>>;
using AttrMap = std::map<std::string, AttrValue>;  // ordered: deterministic printing

std::string attr_to_string(const AttrValue& v);

/// Known kernel ops, one per row of the op table (pto_wsp/language/op_table.py, generated into
/// pto_tables.h). `PtoIsa` covers every "ptoisa.<name>" op; `Unknown` is any other name (the
/// verifier reports it).
enum class OpCode {
    Unknown,
#define PTO_X(ident, ...) ident,
    PTO_OP_TABLE(PTO_X)
#undef PTO_X
    PtoIsa,
};

/// What the op table says of one op (see op_table.OpSpec).
struct OpInfo {
    OpCode code;
    const char* name;
    int min_arity, max_arity;  ///< tile operands
    pto::tables::OpRule rule;
    const char* runtime_fn;  ///< the runtime entry cpu_sim code calls (runtime/tile.h)
    const char* isa;         ///< the PTO-ISA instruction ascend_npu emits; nullptr: special
};

/// The table row of `code`; nullptr for Unknown and PtoIsa.
const OpInfo* op_info(OpCode code);

/// Classify an op name ("add", "ptoisa.foo", ...).
OpCode op_code_of(const std::string& name);
/// The op names of the pto.* set, in documentation order (for messages).
const std::vector<std::string>& known_op_names();
/// Whether the op defines a value (false for store).
bool op_has_result(OpCode code);

struct KernelParam {
    std::string name;
    Direction direction = Direction::In;
    ParamKind kind = ParamKind::Tensor;
    std::vector<int64_t> shape;
    DType dtype = DType::None;
    std::optional<AttrValue> default_value;
};

struct KernelOp {
    int64_t result = -1;  // SSA value id this op defines
    std::string name;     // op name as given ("add", "ptoisa.vadd")
    OpCode code = OpCode::Unknown;
    std::vector<int64_t> operands;
    std::vector<int64_t> shape;  // result type; [] and DType::None when the op has no result
    DType dtype = DType::None;
    AttrMap attrs;
    std::string loc;
};

class Kernel {
public:
    explicit Kernel(std::string name, std::string loc = "");

    /// Append a parameter; returns its SSA value id. Must precede every op.
    int64_t add_param(std::string name, Direction direction, ParamKind kind,
                      std::vector<int64_t> shape = {}, DType dtype = DType::None,
                      std::optional<AttrValue> default_value = std::nullopt);
    /// Append an op; returns the SSA value id it defines.
    int64_t add_op(std::string op, std::vector<int64_t> operands, std::vector<int64_t> shape,
                   DType dtype, AttrMap attrs = {}, std::string loc = "");

    /// Index of the parameter named `name`, or -1.
    int64_t find_param(const std::string& name) const;
    /// Total number of SSA values (params + ops).
    int64_t num_values() const { return static_cast<int64_t>(params.size() + ops.size()); }

    /// Printer form (see printer.h); `with_locs` appends source locations as comments.
    std::string print(bool with_locs = false) const;

    std::string name;
    std::string loc;
    std::vector<KernelParam> params;
    std::vector<KernelOp> ops;
    BodyKind body_kind = BodyKind::Traced;
    std::string cpp_src;
    std::vector<std::string> cpp_includes;
    /// How a C++ body (body_kind Cpp) sees its task: "native" (the body of a function of
    /// `pto_tile*` / scalar parameters, runtime/tile.h), "reference" (the body of
    /// `uint64_t k(const KernelTaskDesc* task, CSPTContext*)`, runtime/reference_abi.h) or "tu"
    /// (cpp_src is a whole translation unit defining that function under the kernel's name).
    std::string cpp_abi = "native";
    /// The C++ body is built against PTO-ISA (its own object, compiled with clang++-19 in
    /// PTO-ISA's CPU simulation mode, `<pto/pto-inst.hpp>` included first) and linked with the
    /// rest of the library.
    bool cpp_ptoisa = false;
    int64_t cost = -1;  // -1 = from the cost table
};

using KernelPtr = std::shared_ptr<Kernel>;

}  // namespace pto::wsp::ir
