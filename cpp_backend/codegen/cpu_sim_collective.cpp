// cpu_sim code generation of the layout collectives (see cpu_sim_collective.h).
#include "codegen/cpu_sim_collective.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <variant>

#include "codegen/cpu_sim.h"
#include "codegen/emit_util.h"

namespace pto::wsp::codegen {

using namespace ir;

namespace {

std::string dtype_code(DType d) {
    std::string s = to_string(d);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return "PTO_" + s;
}

std::string list(const std::vector<int64_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + (v.size() == 1 ? ",)" : ")");
}

std::optional<int64_t> int_attr(const Node& n, const char* key) {
    auto it = n.attrs.find(key);
    if (it == n.attrs.end()) return std::nullopt;
    if (const auto* v = std::get_if<int64_t>(&it->second)) return *v;
    return std::nullopt;
}

int reduce_code(const Node& n) {
    auto it = n.attrs.find("op");
    const std::string op =
        it != n.attrs.end() && std::holds_alternative<std::string>(it->second)
            ? std::get<std::string>(it->second)
            : "";
    if (op == "sum") return 0;
    if (op == "prod") return 1;
    if (op == "max") return 2;
    if (op == "min") return 3;
    throw CodegenError("collective " + n.name + " has no valid reduction op (sum, prod, max, min)",
                       n.loc);
}

}  // namespace

CollectiveEmitter::CollectiveEmitter(const Module& m, std::string target)
    : m_(m), target_(std::move(target)) {
    if (m.schedule) grid_ = m.schedule->spatial_grid;
    tiles_ = 1;
    for (int64_t g : grid_) tiles_ *= g;
    if (m.workload) index(*m.workload, false);
}

void CollectiveEmitter::index(const Node& n, bool in_pipeline) {
    if (n.kind == NodeKind::Collective) {
        if (in_pipeline)
            throw CodegenError("collective " + n.name +
                                   " inside a pipeline (P.pipe / process / consume) is not "
                                   "supported by " + target_ + "; call it outside the pipeline",
                               n.loc);
        const int64_t id = static_cast<int64_t>(m_.kernels.size() + order_.size());
        plans_[&n] = plan(n, id);
        order_.push_back(&n);
    }
    const bool csp = in_pipeline || n.kind == NodeKind::Pipe || n.kind == NodeKind::Process ||
                     n.kind == NodeKind::Connect || n.kind == NodeKind::Consume;
    for (const auto& c : n.nested())
        if (c) index(*c, csp);
}

CollectiveEmitter::Plan CollectiveEmitter::plan(const Node& n, int64_t kernel_id) const {
    auto fail = [&](const std::string& why) {
        return CodegenError("collective " + n.name + ": " + why, n.loc);
    };
    if (grid_.empty())
        throw fail("there is no mesh; add .spatial_map(grid=...) to the workload's schedule");
    if (!n.view) throw fail("missing source view");
    const Tensor* src = m_.tensor(n.view->tensor_id);
    const Tensor* dst = m_.tensor(n.tensor_id);
    if (src == nullptr || dst == nullptr) throw fail("unknown source or result tensor");
    if (src->dtype != dst->dtype)
        throw fail("the result tensor " + dst->name + " has dtype " + to_string(dst->dtype) +
                   " but the source " + src->name + " has " + to_string(src->dtype));
    Plan p;
    p.kernel_id = kernel_id;
    for (std::size_t d = 0; d < src->shape.size(); ++d) {
        const bool point = d < n.view->indices.size() &&
                           n.view->indices[d].kind == Index::Kind::Point;
        if (point) continue;
        const bool has = src->layout && d < src->layout->dist.size();
        p.src_dist.push_back(has ? src->layout->dist[d] : -1);
    }
    p.src_shape = m_.view_shape(*n.view);
    if (p.src_shape.size() != p.src_dist.size() ||
        std::any_of(p.src_shape.begin(), p.src_shape.end(), [](int64_t e) { return e < 0; }))
        throw fail("the source view of tensor " + src->name + " has no static shape");
    const std::vector<int64_t> dst_dist =
        !n.dist.empty() ? n.dist
                        : (dst->layout ? dst->layout->dist
                                       : std::vector<int64_t>(dst->shape.size(), -1));
    auto coords = [&](int64_t axis, const std::string& what) {
        if (axis < 0 || axis >= static_cast<int64_t>(grid_.size()))
            throw fail(what + " is sharded on mesh axis " + std::to_string(axis) +
                       ", but spatial_map(grid=" + list(grid_) + ") has " +
                       std::to_string(grid_.size()) + " axes");
        return grid_[static_cast<std::size_t>(axis)];
    };
    auto check_split = [&](const std::vector<int64_t>& shape, const std::vector<int64_t>& dist,
                           const std::string& name) {
        for (std::size_t d = 0; d < dist.size() && d < shape.size(); ++d) {
            if (dist[d] < 0) continue;
            const std::string what = "dimension " + std::to_string(d) + " of " + name;
            const int64_t m = coords(dist[d], what);
            if (shape[d] % m != 0)
                throw fail(what + " has extent " + std::to_string(shape[d]) +
                           ", not divisible by the " + std::to_string(m) +
                           " coordinates of mesh axis " + std::to_string(dist[d]));
        }
    };
    check_split(p.src_shape, p.src_dist, "tensor " + src->name);
    check_split(dst->shape, dst_dist, "the result tensor " + dst->name);
    std::vector<int64_t> expect = p.src_shape;
    if (n.name == "allreduce") {
        std::vector<std::pair<int64_t, int64_t>> by_axis;  // (mesh axis, view dim)
        for (std::size_t d = 0; d < p.src_dist.size(); ++d)
            if (p.src_dist[d] >= 0) by_axis.emplace_back(p.src_dist[d], static_cast<int64_t>(d));
        if (by_axis.empty())
            throw fail("tensor " + src->name + " is fully replicated: no partial values");
        std::sort(by_axis.begin(), by_axis.end());
        for (auto [axis, d] : by_axis) p.steps.emplace_back(d, grid_[static_cast<std::size_t>(axis)]);
    } else if (n.name == "reduce_scatter") {
        const auto dim = int_attr(n, "dim");
        if (!dim || *dim < 0 || *dim >= static_cast<int64_t>(dst_dist.size()))
            throw fail("missing or invalid 'dim' attribute");
        const int64_t axis = dst_dist[static_cast<std::size_t>(*dim)];
        auto s = std::find(p.src_dist.begin(), p.src_dist.end(), axis);
        if (axis < 0 || s == p.src_dist.end())
            throw fail("no dimension of tensor " + src->name + " is sharded on the mesh axis of "
                       "the scatter");
        const int64_t sd = s - p.src_dist.begin();
        const int64_t m = coords(axis, "the partial dimension");
        expect[static_cast<std::size_t>(sd)] /= m;
        p.steps.emplace_back(sd, m);
    } else if (n.name == "allgather") {
        const auto dim = int_attr(n, "dim");
        if (!dim || *dim < 0 || *dim >= static_cast<int64_t>(p.src_dist.size()) ||
            p.src_dist[static_cast<std::size_t>(*dim)] < 0)
            throw fail("the gathered dimension is not sharded");
    } else if (n.name != "relayout") {
        throw fail("unknown collective");
    }
    if (expect != dst->shape)
        throw fail("the result tensor " + dst->name + " has shape " + list(dst->shape) +
                   " but the collective produces " + list(expect));
    return p;
}

CollectiveEmitter::Folds CollectiveEmitter::folds(const Node& n) const {
    auto it = plans_.find(&n);
    if (it == plans_.end()) throw CodegenError("collective " + n.name + " was not indexed", n.loc);
    return Folds{it->second.src_shape, it->second.steps};
}

std::vector<std::string> CollectiveEmitter::kernel_names() const {
    std::vector<std::string> out;
    for (const Node* n : order_) out.push_back(n->name);
    return out;
}

void CollectiveEmitter::track(std::set<int64_t>& tracked) const {
    for (const Node* n : order_) {
        tracked.insert(n->view->tensor_id);
        tracked.insert(n->tensor_id);
    }
}

std::string region_access(const std::string& fn, int64_t tensor, const std::string& offset,
                          const std::vector<std::pair<std::string, std::string>>& dims,
                          bool write, const std::string& ext_name, const std::string& stride_name) {
    std::string ext = "{", st = "{";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        ext += (i ? ", " : "") + dims[i].first;
        st += (i ? ", " : "") + dims[i].second;
    }
    if (dims.empty()) {  // a scalar: one element
        ext += "1";
        st += "1";
    }
    return "{ const int64_t " + ext_name + "[] = " + ext + "}; const int64_t " + stride_name +
           "[] = " + st + "}; " + fn + "(sim, " + std::to_string(tensor) + ", " + offset + ", " +
           std::to_string(dims.size()) + ", " + ext_name + ", " + stride_name + ", " +
           (write ? "1" : "0") + "); }";
}

std::vector<std::string> CollectiveEmitter::emit(const Node& n, const CollectiveSource& src,
                                                 const CollectiveFail& fail, bool in_seq,
                                                 const std::string& access_fn) const {
    auto it = plans_.find(&n);
    if (it == plans_.end()) throw CodegenError("collective " + n.name + " was not indexed", n.loc);
    const Plan& p = it->second;
    const Tensor& s = *m_.tensor(n.view->tensor_id);
    const Tensor& r = *m_.tensor(n.tensor_id);
    const std::string sid = std::to_string(s.id), rid = std::to_string(r.id);
    const std::string kid = std::to_string(p.kernel_id);
    const std::string what = "collective " + n.name;
    std::vector<std::string> o;
    o.push_back("// " + what + ": %" + rid + " " + r.name + " <- %" + sid + " " + s.name);
    o.push_back("if (pto_sim_workers(sim) < " + std::to_string(tiles_) + ") { " +
                fail(what + " runs on the " + std::to_string(tiles_) +
                         " tiles of spatial_map(grid=" + list(grid_) +
                         "), but the simulator has %d workers (one per tile is needed)",
                     "(int)pto_sim_workers(sim)") +
                "; }");
    // Source and result as N-d regions of the global arrays.
    std::string ext, st;
    for (std::size_t i = 0; i < src.dims.size(); ++i) {
        ext += (i ? ", " : "") + src.dims[i].first;
        st += (i ? ", " : "") + src.dims[i].second;
    }
    const std::size_t k = src.dims.size();
    o.push_back("const pto_nd pto_c_src = {(void*)(T" + sid + " + " + src.offset + "), " +
                dtype_code(s.dtype) + ", " + std::to_string(k) + ", {" + (k ? ext : "0") +
                "}, {" + (k ? st : "0") + "}};");
    std::string rext, rst;
    std::vector<std::pair<std::string, std::string>> rdims;
    for (std::size_t d = 0; d < r.shape.size(); ++d) {
        rdims.emplace_back("T" + rid + "_n" + std::to_string(d), "T" + rid + "_s" + std::to_string(d));
        rext += (d ? ", " : "") + rdims.back().first;
        rst += (d ? ", " : "") + rdims.back().second;
    }
    const std::size_t rk = r.shape.size();
    o.push_back("const pto_nd pto_c_dst = {(void*)T" + rid + ", " + dtype_code(r.dtype) + ", " +
                std::to_string(rk) + ", {" + (rk ? rext : "0") + "}, {" + (rk ? rst : "0") + "}};");
    // Numerics (program order, like every task's).
    if (n.name == "reduce_scatter") {
        o.push_back("int32_t pto_c_rc = pto_coll_fold_blocks(&pto_c_dst, &pto_c_src, " +
                    std::to_string(p.steps[0].first) + ", " + std::to_string(p.steps[0].second) +
                    ", " + std::to_string(reduce_code(n)) + ");");
    } else {
        o.push_back("int32_t pto_c_rc = pto_nd_copy(&pto_c_dst, &pto_c_src);");
        if (n.name == "allreduce") {
            const std::string op = std::to_string(reduce_code(n));
            for (auto [d, m] : p.steps)
                o.push_back("if (pto_c_rc == 0) pto_c_rc = pto_coll_allreduce_blocks(&pto_c_dst, " +
                            std::to_string(d) + ", " + std::to_string(m) + ", " + op + ");");
        }
    }
    o.push_back("if (pto_c_rc != 0) { " +
                fail(what + " on tensor " + s.name + ": %s", "pto_coll_status_message(pto_c_rc)") +
                "; }");
    // Regions: the whole source is read, the whole result written.
    if (!access_fn.empty()) {
        o.push_back(region_access(access_fn, s.id, src.offset, src.dims, false, "pto_c_e", "pto_c_s"));
        o.push_back(region_access(access_fn, r.id, "0", rdims, true, "pto_c_e", "pto_c_s"));
    }
    // One gang task on every tile of the mesh.
    std::string tiles;
    for (int64_t w = 0; w < tiles_; ++w) tiles += (w ? ", " : "") + std::to_string(w);
    o.push_back("static const int32_t pto_c_tiles[] = {" + tiles + "};");
    o.push_back("pto_sim_task pto_c_t{};");
    o.push_back("pto_c_t.kernel = " + kid + "; pto_c_t.cycles = KC[" + kid +
                "]; pto_c_t.min_start = pto_barrier; pto_c_t.min_cause = pto_bcause; "
                "pto_c_t.min_gate = pto_bgate;");
    o.push_back("pto_c_t.idx[0] = pto_c_t.idx[1] = pto_c_t.idx[2] = pto_c_t.idx[3] = -1;");
    o.push_back("const int64_t pto_c_end = pto_sim_submit_gang(sim, &pto_c_t, pto_c_tiles, " +
                std::to_string(tiles_) + ");");
    o.push_back("if (pto_c_end < 0) { " + fail(what + ": the simulator rejected its tiles", "") +
                "; }");
    if (in_seq)
        o.push_back("if (pto_c_end > pto_max) { pto_max = pto_c_end; pto_mgate = (uint32_t)pto_ntask; }");
    o.push_back("pto_ntask += " + std::to_string(tiles_) + ";");
    return o;
}

}  // namespace pto::wsp::codegen
