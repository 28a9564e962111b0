// cpu_sim code generation of the layout collectives (relayout, allgather, allreduce,
// reduce_scatter): their numerics over the mesh and their gang task (docs/semantics.md, "Layouts
// and collectives").
//
// The main emitter (cpu_sim.cpp) owns the driver; for a collective node it emits the source view
// and asks this emitter for the statements that follow: the block copies / folds of
// runtime/collectives.h on the global arrays, the region accesses (the whole source is read, the
// whole result written) and one pto_sim_submit_gang() on every tile of the mesh. Each collective
// node is a pseudo-kernel named after it, numbered after the module's kernels in pre-order of the
// workload tree; its cycles come from the run's kernel cost array (pto_wsp/backends/cost.py,
// collective_cycles), so a new cost table needs no rebuild.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ir/module.h"

namespace pto::wsp::codegen {

/// The source view of a collective as the driver computed it (locals of the emitted code).
struct CollectiveSource {
    std::string offset;                                     // element offset into the tensor
    std::vector<std::pair<std::string, std::string>> dims;  // (extent, stride) per view dim
};

/// The driver statement declaring that the next submitted task reads (or writes) the N-d region
/// `offset` + (extent, stride) `dims` of tensor `tensor` through region function `fn`
/// (pto_abi_access_view / pto_abi_access_bounding): shared by tasks and collectives, so both
/// follow the schedule's Deps mode. `ext_name` / `stride_name` name the local arrays.
std::string region_access(const std::string& fn, int64_t tensor, const std::string& offset,
                          const std::vector<std::pair<std::string, std::string>>& dims,
                          bool write, const std::string& ext_name, const std::string& stride_name);

/// Returns a statement that aborts the run: fail(printf format, extra printf arguments).
using CollectiveFail = std::function<std::string(const std::string&, const std::string&)>;

class CollectiveEmitter {
public:
    /// Numbers the collectives of `m` in pre-order. Throws CodegenError for a collective the
    /// cpu_sim backend cannot run (no mesh, inside a pipeline, inconsistent shapes or layouts).
    /// `target` names the backend in messages.
    explicit CollectiveEmitter(const ir::Module& m, std::string target = "cpu_sim");

    /// Pseudo-kernel names, by kernel id m.kernels.size() + i: one per collective, its kind.
    std::vector<std::string> kernel_names() const;

    /// The collectives of the module, in pre-order of the workload tree.
    const std::vector<const ir::Node*>& order() const { return order_; }

    /// What collective `n` computes, checked at construction: the static shape of its source
    /// view and the folds it applies, in order (allreduce: one (view dim, coordinates m) per
    /// sharding mesh axis, ascending; reduce_scatter: the partial dimension; none for relayout
    /// and allgather, which copy). The ascend_npu emitter issues the same folds as tasks.
    struct Folds {
        std::vector<int64_t> src_shape;
        std::vector<std::pair<int64_t, int64_t>> steps;
    };
    Folds folds(const ir::Node& n) const;

    /// Adds the source and result tensor of every collective to `tracked`: their accesses are
    /// declared at run time so tasks around the collective order against it.
    void track(std::set<int64_t>& tracked) const;

    /// The driver statements of collective `n` after its source view `src` was emitted.
    /// `in_seq`: inside a sequential scope (the gang's end joins the step's max end).
    /// `access_fn`: the region function of the schedule's Deps mode ("" under Deps.explicit():
    /// no region is declared, as for tasks).
    std::vector<std::string> emit(const ir::Node& n, const CollectiveSource& src,
                                  const CollectiveFail& fail, bool in_seq,
                                  const std::string& access_fn) const;

private:
    struct Plan {
        int64_t kernel_id = -1;
        std::vector<int64_t> src_dist;                    // per source view dim: mesh axis or -1
        std::vector<int64_t> src_shape;                   // static source view shape
        std::vector<std::pair<int64_t, int64_t>> steps;   // (view dim, coordinates m) to fold
    };

    void index(const ir::Node& n, bool in_pipeline);
    Plan plan(const ir::Node& n, int64_t kernel_id) const;

    const ir::Module& m_;
    std::string target_;
    std::vector<int64_t> grid_;
    int64_t tiles_ = 0;
    std::vector<const ir::Node*> order_;
    std::map<const ir::Node*, Plan> plans_;
};

}  // namespace pto::wsp::codegen
