// A compilation unit: tensors, kernels, channels, events, scalar parameters, one workload tree
// and one schedule. Ids handed out by the add_* methods are indices into the tables.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/expr.h"
#include "ir/kernel.h"
#include "ir/schedule.h"
#include "ir/types.h"
#include "ir/workload.h"

namespace pto::wsp::ir {

/// Distribution and memory layout of a tensor. dist[d] = -1: replicated, k >= 0: sharded on mesh
/// axis k.
struct Layout {
    std::vector<int64_t> dist;
    std::vector<int64_t> mem_strides;
    MemOrder mem_order = MemOrder::Unspecified;
};

struct Tensor {
    int64_t id = -1;
    std::string name;
    std::vector<int64_t> shape;  // -1 where symbolic
    DType dtype = DType::F32;
    Location location = Location::Global;
    std::optional<Layout> layout;
    TensorRole role = TensorRole::Data;
};

struct Channel {
    int64_t id = -1;
    std::string name;
    int64_t depth = 0;    // 0 = rendezvous
    std::string elem;     // "", "tile", "tensor", ...
    /// Cycles from a send's commit until a consumer can take the item; -1 = not given: the
    /// run's default, the runtime symbol __pto_wsp_channel_latency_cycles (0 when unset).
    int64_t latency = 0;
};

struct Event {
    int64_t id = -1;
    std::string name;
};

struct ScalarParam {
    std::string name;
    DType dtype = DType::I64;
};

class Module {
public:
    explicit Module(std::string name);

    int64_t add_tensor(std::string name, std::vector<int64_t> shape, DType dtype,
                       Location location = Location::Global,
                       std::optional<Layout> layout = std::nullopt,
                       TensorRole role = TensorRole::Data);
    int64_t add_kernel(KernelPtr kernel);
    int64_t add_channel(std::string name, int64_t depth, std::string elem = "",
                        int64_t latency = 0);
    int64_t add_event(std::string name);
    int64_t add_param(std::string name, DType dtype = DType::I64);
    void set_workload(NodePtr node) { workload = std::move(node); }
    void set_schedule(std::shared_ptr<Schedule> s) { schedule = std::move(s); }

    const Tensor* tensor(int64_t id) const;
    const Kernel* kernel(int64_t id) const;
    const Channel* channel(int64_t id) const;
    const Event* event(int64_t id) const;
    const ScalarParam* param(const std::string& name) const;

    /// Shape of `view` (-1 where symbolic); empty when the tensor id is unknown.
    std::vector<int64_t> view_shape(const View& view) const;
    /// Recompute View::shape_hint of every view reachable from the workload and schedule.
    void refresh_shape_hints() const;

    /// Structural checks; empty when well formed. Each message names the construct and its loc.
    std::vector<std::string> verify() const;
    /// Deterministic text form.
    std::string print(bool with_locs = false) const;

    std::string name;
    std::vector<Tensor> tensors;
    std::vector<KernelPtr> kernels;
    std::vector<Channel> channels;
    std::vector<Event> events;
    std::vector<ScalarParam> params;
    NodePtr workload;
    std::shared_ptr<Schedule> schedule;
};

}  // namespace pto::wsp::ir
