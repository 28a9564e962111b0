#include "ir/kernel.h"

#include <iterator>
#include <stdexcept>
#include <utility>

#include "ir/printer.h"

namespace pto::wsp::ir {
namespace {

#define PTO_X(ident, name, nmin, nmax, rule, float_only, bool_ok, fn, isa) \
    OpInfo{OpCode::ident, name, nmin, nmax, pto::tables::OpRule::rule, #fn, isa},
constexpr OpInfo kOps[] = {PTO_OP_TABLE(PTO_X)};
#undef PTO_X

}  // namespace

std::string attr_to_string(const AttrValue& v) {
    if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
    if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (const double* d = std::get_if<double>(&v)) return format_double(*d);
    if (const std::string* s = std::get_if<std::string>(&v)) return quote_string(*s);
    std::string out = "[";  // appended, not "[" + tmp: avoids a GCC 12 -Wrestrict false positive
    out += join_ints(std::get<std::vector<int64_t>>(v));
    return out + "]";
}

OpCode op_code_of(const std::string& name) {
    if (name.rfind("ptoisa.", 0) == 0) return name.size() > 7 ? OpCode::PtoIsa : OpCode::Unknown;
    for (const auto& e : kOps)
        if (name == e.name) return e.code;
    return OpCode::Unknown;
}

const OpInfo* op_info(OpCode code) {
    // The enumerators follow Unknown in table order, so a row's index is its code - 1.
    const auto i = static_cast<std::size_t>(code) - 1;
    return code != OpCode::Unknown && i < std::size(kOps) ? &kOps[i] : nullptr;
}

const std::vector<std::string>& known_op_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& e : kOps) v.emplace_back(e.name);
        v.emplace_back("ptoisa.<name>");
        return v;
    }();
    return names;
}

bool op_has_result(OpCode code) {
    const OpInfo* info = op_info(code);
    return info == nullptr || info->rule != pto::tables::OpRule::Store;
}

Kernel::Kernel(std::string name_, std::string loc_) : name(std::move(name_)), loc(std::move(loc_)) {}

int64_t Kernel::add_param(std::string pname, Direction direction, ParamKind kind,
                          std::vector<int64_t> shape, DType dtype,
                          std::optional<AttrValue> default_value) {
    if (!ops.empty())
        throw std::invalid_argument("Kernel.add_param: kernel @" + name + ": parameter '" + pname +
                                    "' added after ops; parameters are SSA values 0..n-1 and must "
                                    "all be added before the first op");
    KernelParam p;
    p.name = std::move(pname);
    p.direction = direction;
    p.kind = kind;
    p.shape = std::move(shape);
    p.dtype = dtype;
    p.default_value = std::move(default_value);
    params.push_back(std::move(p));
    return static_cast<int64_t>(params.size()) - 1;
}

int64_t Kernel::add_op(std::string op, std::vector<int64_t> operands, std::vector<int64_t> shape,
                       DType dtype, AttrMap attrs, std::string op_loc) {
    KernelOp o;
    o.result = num_values();
    o.code = op_code_of(op);
    o.name = std::move(op);
    o.operands = std::move(operands);
    o.shape = std::move(shape);
    o.dtype = dtype;
    o.attrs = std::move(attrs);
    o.loc = std::move(op_loc);
    ops.push_back(std::move(o));
    return ops.back().result;
}

int64_t Kernel::find_param(const std::string& pname) const {
    for (std::size_t i = 0; i < params.size(); ++i)
        if (params[i].name == pname) return static_cast<int64_t>(i);
    return -1;
}

std::string Kernel::print(bool with_locs) const { return print_kernel(*this, with_locs); }

}  // namespace pto::wsp::ir
