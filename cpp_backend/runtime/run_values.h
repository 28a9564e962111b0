// Named 64-bit run-time inputs of a generated library: its runtime symbols and its workload
// params (DenseDyn loop bounds), each in the order the library lists them
// (pto_lib_symbol_names / pto_lib_param_names, runtime/abi.h).
//
// A value is a 64-bit pattern, not only an integer: set_f32 stores the bits of an f32 in the
// low half (the reference implementation's set_symbol_f32), and a symbol bound to a float
// scalar parameter reads them back as that f32 (Expr.symbol_f32). A value never set is 0.
// Setting a name the library does not read changes nothing and says so (returns false), so
// the caller can tell the user.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pto::exec {

class RunValues {
public:
    explicit RunValues(std::vector<std::string> names);

    const std::vector<std::string>& names() const { return names_; }
    /// The values in names() order, as the run binds them (pto_abi_run::symbols / params).
    const std::vector<int64_t>& values() const { return values_; }

    /// Sets `name` to the 64-bit pattern `bits`; false (nothing set) when it is not read.
    bool set_u64(const std::string& name, uint64_t bits);
    /// Sets `name` to the bits of the f32 `value` (upper half zero); false when not read.
    bool set_f32(const std::string& name, float value);
    /// The 64-bit pattern of `name` (0 when never set or not read).
    uint64_t u64(const std::string& name) const;

private:
    int64_t index(const std::string& name) const;

    std::vector<std::string> names_;
    std::vector<int64_t> values_;
};

}  // namespace pto::exec
