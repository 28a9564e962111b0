#include "runtime/run_values.h"

#include <cstring>
#include <utility>

namespace pto::exec {

RunValues::RunValues(std::vector<std::string> names)
    : names_(std::move(names)), values_(names_.size(), 0) {}

int64_t RunValues::index(const std::string& name) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
        if (names_[i] == name) return static_cast<int64_t>(i);
    return -1;
}

bool RunValues::set_u64(const std::string& name, uint64_t bits) {
    const int64_t i = index(name);
    if (i < 0) return false;
    values_[static_cast<std::size_t>(i)] = static_cast<int64_t>(bits);
    return true;
}

bool RunValues::set_f32(const std::string& name, float value) {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    return set_u64(name, bits);
}

uint64_t RunValues::u64(const std::string& name) const {
    const int64_t i = index(name);
    return i < 0 ? 0 : static_cast<uint64_t>(values_[static_cast<std::size_t>(i)]);
}

}  // namespace pto::exec
