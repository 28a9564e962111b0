#include "ir/types.h"

#include <array>
#include <stdexcept>
#include <utility>

namespace pto::wsp::ir {
namespace {

// One table per enum: (enum value, canonical spelling), in declaration order.
template <typename E, std::size_t N>
using Table = std::array<std::pair<E, const char*>, N>;

constexpr Table<DType, PTO_TABLE_NUM_DTYPES + 1> kDTypes{{
    {DType::None, ""},
#define PTO_X(ident, abi, name, ...) {DType::ident, name},
    PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
}};
constexpr Table<Location, 4> kLocations{
    {{Location::Global, "global"}, {Location::L2, "l2"}, {Location::UB, "ub"}, {Location::L1, "l1"}}};
constexpr Table<Direction, 4> kDirections{{{Direction::In, "in"},
                                           {Direction::Out, "out"},
                                           {Direction::InOut, "inout"},
                                           {Direction::Constexpr, "constexpr"}}};
constexpr Table<ParamKind, 3> kParamKinds{
    {{ParamKind::Tensor, "tensor"}, {ParamKind::Tile, "tile"}, {ParamKind::Scalar, "scalar"}}};
constexpr Table<TensorRole, 2> kRoles{{{TensorRole::Data, "data"}, {TensorRole::Index, "index"}}};
constexpr Table<MemOrder, 3> kMemOrders{{{MemOrder::Unspecified, ""},
                                         {MemOrder::RowMajor, "row_major"},
                                         {MemOrder::ColMajor, "col_major"}}};
constexpr Table<BodyKind, 3> kBodyKinds{
    {{BodyKind::Traced, "traced"}, {BodyKind::Empty, "empty"}, {BodyKind::Cpp, "cpp"}}};
constexpr Table<DepType, 6> kDepTypes{{{DepType::Independent, "Independent"},
                                       {DepType::Sequential, "Sequential"},
                                       {DepType::Selected, "Selected"},
                                       {DepType::Pipeline, "Pipeline"},
                                       {DepType::Conditional, "Conditional"},
                                       {DepType::Combined, "Combined"}}};
constexpr Table<DispatchPolicy, 5> kDispatch{{{DispatchPolicy::RoundRobin, "round_robin"},
                                              {DispatchPolicy::Affinity, "affinity"},
                                              {DispatchPolicy::Hash, "hash"},
                                              {DispatchPolicy::DispatchBy, "dispatch_by"},
                                              {DispatchPolicy::WorkSteal, "work_steal"}}};
constexpr Table<TimingPolicy, 4> kTiming{{{TimingPolicy::Immediate, "immediate"},
                                          {TimingPolicy::Batched, "batched"},
                                          {TimingPolicy::Interleaved, "interleaved"},
                                          {TimingPolicy::RateLimit, "rate_limit"}}};
constexpr Table<WindowMode, 3> kWindowModes{
    {{WindowMode::Stall, "stall"}, {WindowMode::Abort, "abort"}, {WindowMode::Benchmark, "benchmark"}}};
constexpr Table<DepsMode, 3> kDeps{{{DepsMode::Infer, "infer"},
                                    {DepsMode::InferBounding, "infer_bounding"},
                                    {DepsMode::Explicit, "explicit"}}};
constexpr Table<ReadyPolicy, 4> kReady{{{ReadyPolicy::InOrder, "in_order"},
                                        {ReadyPolicy::Fifo, "fifo"},
                                        {ReadyPolicy::Lifo, "lifo"},
                                        {ReadyPolicy::Priority, "priority"}}};
constexpr Table<StartPolicy, 2> kStart{{{StartPolicy::Eager, "eager"}, {StartPolicy::Threshold, "threshold"}}};
constexpr Table<TracePolicy, 2> kTrace{{{TracePolicy::Full, "full"}, {TracePolicy::None, "none"}}};

template <typename E, std::size_t N>
std::string name_of(const Table<E, N>& table, E v) {
    for (const auto& [e, s] : table)
        if (e == v) return s;
    return "?";
}

template <typename E, std::size_t N>
E parse(const Table<E, N>& table, std::string_view s, std::string_view field, bool allow_empty) {
    for (const auto& [e, name] : table) {
        if (!allow_empty && name[0] == '\0') continue;
        if (s == name) return e;
    }
    std::string msg = "invalid " + std::string(field) + " '" + std::string(s) + "'; valid values: ";
    bool first = true;
    for (const auto& [e, name] : table) {
        if (!allow_empty && name[0] == '\0') continue;
        if (!first) msg += ", ";
        first = false;
        msg += name[0] == '\0' ? std::string("\"\"") : std::string(name);
    }
    throw std::invalid_argument(msg);
}

}  // namespace

std::string to_string(DType v) { return name_of(kDTypes, v); }
std::string to_string(Location v) { return name_of(kLocations, v); }
std::string to_string(Direction v) { return name_of(kDirections, v); }
std::string to_string(ParamKind v) { return name_of(kParamKinds, v); }
std::string to_string(TensorRole v) { return name_of(kRoles, v); }
std::string to_string(MemOrder v) { return name_of(kMemOrders, v); }
std::string to_string(BodyKind v) { return name_of(kBodyKinds, v); }
std::string to_string(DepType v) { return name_of(kDepTypes, v); }
std::string to_string(DispatchPolicy v) { return name_of(kDispatch, v); }
std::string to_string(TimingPolicy v) { return name_of(kTiming, v); }
std::string to_string(WindowMode v) { return name_of(kWindowModes, v); }
std::string to_string(DepsMode v) { return name_of(kDeps, v); }
std::string to_string(ReadyPolicy v) { return name_of(kReady, v); }
std::string to_string(StartPolicy v) { return name_of(kStart, v); }
std::string to_string(TracePolicy v) { return name_of(kTrace, v); }

DType parse_dtype(std::string_view s, std::string_view field, bool allow_none) {
    return parse(kDTypes, s, field, allow_none);
}
Location parse_location(std::string_view s, std::string_view field) {
    return parse(kLocations, s, field, false);
}
Direction parse_direction(std::string_view s, std::string_view field) {
    return parse(kDirections, s, field, false);
}
ParamKind parse_param_kind(std::string_view s, std::string_view field) {
    return parse(kParamKinds, s, field, false);
}
TensorRole parse_tensor_role(std::string_view s, std::string_view field) {
    return parse(kRoles, s, field, false);
}
MemOrder parse_mem_order(std::string_view s, std::string_view field) {
    return parse(kMemOrders, s, field, true);
}
BodyKind parse_body_kind(std::string_view s, std::string_view field) {
    return parse(kBodyKinds, s, field, false);
}

int dtype_size(DType d) {
    switch (d) {
#define PTO_X(ident, abi, name, code, size, ...) \
    case DType::ident: return size;
        PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
        case DType::None: break;
    }
    return 0;
}

bool dtype_is_float(DType d) {
    switch (d) {
#define PTO_X(ident, abi, name, code, size, c_type, npu_type, is_float, ...) \
    case DType::ident: return is_float;
        PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
        case DType::None: break;
    }
    return false;
}

bool dtype_is_int(DType d) {
    return d != DType::None && d != DType::Bool && !dtype_is_float(d);
}

std::string join_ints(const std::vector<int64_t>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(v[i]);
    }
    return out;
}

}  // namespace pto::wsp::ir
