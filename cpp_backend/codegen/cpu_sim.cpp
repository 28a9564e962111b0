// cpu_sim code generation (see cpu_sim.h). The emitted code is plain C-like C++: typed pointers
// to the user's buffers, int64_t loop variables, `pto_tile` structs and calls into
// libpto_runtime. Run-time checks (index bounds, view shapes) use GNU statement expressions so
// that a failing check returns from `pto_lib_run` with a message naming the task and kernel.
#include "codegen/cpu_sim.h"
#include "ir/affine.h"
#include "ir/tile.h"
#include "codegen/cpu_sim_collective.h"
#include "codegen/cpu_sim_csp.h"
#include "codegen/emit_util.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace pto::wsp::codegen {

using namespace ir;

namespace {

constexpr std::size_t PTO_CODEGEN_MAX_DIMS = 8;  // PTO_ABI_MAX_DIMS
constexpr std::size_t PTO_REF_MAX_AXES = 16;     // runtime/reference_abi.h

// ---- small helpers ------------------------------------------------------------------------

const char* dcode(DType d) {
    switch (d) {
#define PTO_X(ident, abi, ...) \
    case DType::ident: return #abi;
        PTO_DTYPE_TABLE(PTO_X)
#undef PTO_X
        case DType::None: break;
    }
    return "PTO_I64";
}

/// `pto_i_copy(dst, src, ...)` (runtime/tile_inline.h): a load or store of a rows x cols tile of
/// `d`, inline when both sides are one block of that dtype, else the library's pto_load.
std::string inline_copy(const std::string& dst, const std::string& src, const TileDims& t, DType d) {
    const int64_t bytes = t.rows * t.cols * dtype_size(d);
    return "pto_i_copy(" + dst + ", " + src + ", " + std::to_string(t.rows) + ", " +
           std::to_string(t.cols) + ", " + dcode(d) + ", " + std::to_string(bytes) + ")";
}

/// The C operator of an elementwise op that PTO_I_BINARY computes inline on f32/f64 (the same
/// IEEE operation as the library's on a float compute type), else nullptr.
const char* inline_binary_operator(OpCode code) {
    switch (code) {
        case OpCode::Add: return "+";
        case OpCode::Sub: return "-";
        case OpCode::Mul: return "*";
        case OpCode::Div: return "/";
        default: return nullptr;
    }
}

bool is_csp(const std::string& kind) {
    return kind == "pipe" || kind == "process" || kind == "send" || kind == "consume" ||
           kind == "connect" || kind == "record" || kind == "synchronize" || kind == "close";
}

// ---- the emitter --------------------------------------------------------------------------

struct LoopVar {
    int64_t id;
    bool injective;  // distinct iterations give distinct values (not a select_for var)
};

struct Access {
    const Node* task;
    std::size_t arg;
    bool write;
    std::vector<LoopVar> loops;
};

struct ViewCode {
    std::string off;                                   // element offset expression (a local)
    std::vector<std::pair<std::string, std::string>> dims;  // (extent, stride) locals
    std::vector<int64_t> static_ext;                   // -1 where not constant
};

class Emitter : public CspHost, private NestEmitter {
public:
    Emitter(const Module& m, const CpuSimOptions& opts)
        : NestEmitter(m, Spelling{"R", "pto_abi_", "pto::"}), opts_(opts), csp_(m, *this),
          coll_(m) {}

    CpuSimSources run() {
        CpuSimSources out;
        if (!m_.workload) throw CodegenError("module " + m_.name + " has no workload", "");
        prove_disjointness();
        coll_.track(tracked_);  // collectives order against the tasks around them
        choose_tracked();  // Deps mode and mesh (after everything that adds tracked tensors)
        for (std::size_t k = 0; k < m_.kernels.size(); ++k)
            out.files.emplace_back(kernel_file_name(k), emit_kernel(k));
        emit_node(*m_.workload);
        csp_.intern_run_symbols();  // before driver(): it lists the symbols
        out.main_file = "driver.cpp";
        out.files.emplace_back(out.main_file, driver());
        out.symbols = symbols_;
        out.params = params_;
        out.num_slots = max_slot_ + 1;
        out.arena_bytes = arena_bytes_;
        out.tracked_tensors.assign(tracked_.begin(), tracked_.end());
        for (std::size_t k = 0; k < m_.kernels.size(); ++k)
            if (separate(k)) out.ptoisa_files.push_back(kernel_file_name(k));
        return out;
    }

private:
    // ---- kernels --------------------------------------------------------------------
    std::string kernel_file_name(std::size_t k) const {
        return "kernel_" + std::to_string(k) + "_" + m_.kernels[k]->name + ".cpp";
    }
    static std::string kernel_fn(std::size_t k) { return "pto_kernel_" + std::to_string(k); }
    /// The kernel's static `pto_abi_site` (name and @kernel file:line) in the driver.
    static std::string site_name(std::size_t k) { return "pto_site_" + std::to_string(k); }

    static bool scalar_param(const KernelParam& p) { return p.kind == ParamKind::Scalar; }
    static DType scalar_dtype(const KernelParam& p) {
        return p.dtype == DType::None ? DType::I64 : p.dtype;
    }
    static const char* scalar_ctype(const KernelParam& p) {
        return dtype_is_float(scalar_dtype(p)) ? "double" : "int64_t";
    }

    /// A C++ body built on its own against PTO-ISA (linked, not #included).
    bool separate(std::size_t k) const {
        return m_.kernels[k]->body_kind == BodyKind::Cpp && m_.kernels[k]->cpp_ptoisa;
    }
    /// A C++ body written against the reference ABI (runtime/reference_abi.h): its entry takes
    /// the task's axis values and returns the cycles the body added.
    static bool reference_abi(const Kernel& K) {
        return K.body_kind == BodyKind::Cpp && K.cpp_abi != "native";
    }

    std::string signature(std::size_t k) const {
        const Kernel& K = *m_.kernels[k];
        std::string s = separate(k) ? "extern \"C\" __attribute__((visibility(\"hidden\"))) "
                                    : "static ";
        s += reference_abi(K) ? "uint64_t " : "void ";
        s += kernel_fn(k) + "(char* pto_arena";
        if (reference_abi(K)) s += ", const uint64_t* pto_axes, uint32_t pto_naxes";
        for (const auto& p : K.params) {
            s += ", ";
            s += scalar_param(p) ? std::string(scalar_ctype(p)) + " " : "pto_tile* ";
            s += "p_" + p.name;
        }
        return s + ")";
    }

    /// The headers a kernel built on its own needs: PTO-ISA first (its headers need <cstdint>
    /// and pto-inst.hpp before any single instruction header), then what the driver includes.
    static std::string ptoisa_prologue() {
        return "// Built on its own against PTO-ISA (CPU simulation, clang++-19) and linked with\n"
               "// the driver (docs/kernels.md).\n"
               "#include <cstdint>\n#include <pto/pto-inst.hpp>\n#define PTO_WSP_PTOISA 1\n"
               "#include <exception>\n#include \"runtime/abi.h\"\n#include \"runtime/dtype.h\"\n";
    }

    /// The reference ABI's glue: the body (or translation unit) and the entry the driver calls,
    /// which packs the task into a KernelTaskDesc (runtime/reference_abi.h).
    std::string reference_kernel(std::size_t k) const {
        const Kernel& K = *m_.kernels[k];
        std::ostringstream o;
        const std::string line = "#line 1 " + cstr("cpp_src of kernel " + K.name) + "\n";
        std::string fn;
        if (K.cpp_abi == "tu") {
            fn = K.name;
            o << "extern \"C\" uint64_t " << fn << "(const KernelTaskDesc*, CSPTContext*);\n"
              << line << K.cpp_src << "\n#line 1 " << cstr("glue of kernel " + K.name) << "\n";
        } else {
            fn = "pto_ref_" + std::to_string(k);
            o << "static uint64_t " << fn << "(const KernelTaskDesc* task, CSPTContext*) {\n"
              << "    (void)task;\n    {\n" << line << K.cpp_src << "\n    }\n    return 0;\n}\n";
        }
        std::vector<std::string> scalars, tiles;
        for (const auto& p : K.params) {
            if (!scalar_param(p)) {
                tiles.push_back("p_" + p.name);
                continue;
            }
            const DType d = scalar_dtype(p);
            const std::string v = "p_" + p.name;
            if (d == DType::F64) scalars.push_back("pto_ref_f64_bits(" + v + ")");
            else if (dtype_is_float(d)) scalars.push_back("pto_ref_f32_bits(" + v + ")");
            else scalars.push_back("(uint64_t)" + v);
        }
        const std::string nt = std::to_string(tiles.size()), n1 = std::to_string(std::max<std::size_t>(tiles.size(), 1));
        o << signature(k) << " {\n    (void)pto_arena;\n"
          << "    uint64_t pto_args[PTO_REF_MAX_AXES + " << scalars.size() << " + 1];\n"
          << "    uint32_t pto_n = 0;\n"
          << "    for (uint32_t i = 0; i < pto_naxes; ++i) pto_args[pto_n++] = pto_axes[i];\n";
        for (const auto& v : scalars) o << "    pto_args[pto_n++] = " << v << ";\n";
        o << "    void* pto_ptrs[" << n1 << "] = {";
        for (const auto& t : tiles) o << t << "->data, ";
        o << "};\n    int64_t pto_strides[2 * " << n1 << "] = {";
        for (const auto& t : tiles) o << t << "->row_stride, " << t << "->col_stride, ";
        o << "};\n    int64_t pto_shapes[2 * " << n1 << "] = {";
        for (const auto& t : tiles) o << t << "->rows, " << t << "->cols, ";
        o << "};\n    KernelTaskDesc pto_task = {pto_args, pto_n, pto_naxes, pto_ptrs, pto_strides, "
          << nt << ", pto_shapes};\n"
          << "    CSPTContext pto_ctx = {0};\n"
          << "    pto::cpu_sim::pto_wsp_detail::added = 0;\n"
          << "    const uint64_t pto_ret = " << fn << "(&pto_task, &pto_ctx);\n"
          << "    return pto_ret + pto::cpu_sim::pto_wsp_detail::added;\n}\n";
        return o.str();
    }

    std::string emit_kernel(std::size_t k) {
        const Kernel& K = *m_.kernels[k];
        for (const TileProblem& bad : tile_problems(K))  // the one tile rank rule (ir/tile.h)
            throw CodegenError(bad.message(), bad.loc);
        std::ostringstream o;
        o << "// kernel @" << K.name << " (" << to_string(K.body_kind) << ")"
          << (K.loc.empty() ? "" : " defined at " + K.loc) << "\n";
        if (K.body_kind == BodyKind::Empty) {
            o << "// empty body: its tasks run no numerics; they cost the load of each In and the"
                 " store of each Out view.\n";
            return o.str();
        }
        if (K.body_kind == BodyKind::Cpp) {
            if (separate(k)) o << ptoisa_prologue();
            if (reference_abi(K)) o << "#include \"runtime/reference_abi.h\"\n";
            for (const auto& inc : K.cpp_includes)
                o << "#include " << (inc.size() && (inc[0] == '<' || inc[0] == '"') ? inc : "\"" + inc + "\"")
                  << "\n";
            if (reference_abi(K)) {
                o << reference_kernel(k);
                return o.str();
            }
            // The body sees each tensor/tile parameter as `pto_tile* <name>` and each scalar as
            // int64_t/double <name>, plus the runtime's C API (tile.h).
            o << signature(k) << " {\n";
            for (const auto& p : K.params)
                o << "    " << (scalar_param(p) ? scalar_ctype(p) : "pto_tile*") << " const "
                  << p.name << " = p_" << p.name << "; (void)" << p.name << ";\n";
            o << "    (void)pto_arena;\n    {\n#line 1 " << cstr("cpp_src of kernel " + K.name) << "\n"
              << K.cpp_src << "\n    }\n}\n";
            return o.str();
        }
        // Traced: one pto_<op> call per op on arena tiles; the hottest small ones inline
        // (runtime/tile_inline.h).
        const std::size_t np = K.params.size();
        std::vector<std::vector<int64_t>> shape(np + K.ops.size());
        std::vector<DType> dtype(np + K.ops.size(), DType::None);
        std::vector<bool> arena_tile(np + K.ops.size(), false);  // dense, of its static shape
        o << signature(k) << " {\n";
        std::set<int64_t> used;
        for (const auto& op : K.ops)
            for (int64_t v : op.operands) used.insert(v);
        for (std::size_t i = 0; i < np; ++i) {
            const auto& p = K.params[i];
            shape[i] = p.shape;
            dtype[i] = p.dtype;
            if (!scalar_param(p)) {
                o << "    pto_tile* const v" << i << " = p_" << p.name << ";\n";
            } else if (used.count(static_cast<int64_t>(i))) {
                const DType d = scalar_dtype(p);
                dtype[i] = d;
                shape[i] = {};
                o << "    " << ctype(d) << " s" << i << "_v = " << convert_scalar("p_" + p.name, d)
                  << ";\n    pto_tile s" << i << " = {&s" << i << "_v, 1, 1, 1, 1, " << dcode(d)
                  << "};\n    pto_tile* const v" << i << " = &s" << i << ";\n";
            }
        }
        int64_t arena = 0;
        for (std::size_t j = 0; j < K.ops.size(); ++j) {
            const KernelOp& op = K.ops[j];
            const std::size_t id = np + j;
            shape[id] = op.shape;
            dtype[id] = op.dtype;
            auto v = [&](std::size_t n) {
                if (n >= op.operands.size())
                    throw CodegenError("op " + op.name + " of kernel " + K.name +
                                           " has too few operands",
                                       op.loc);
                return "v" + std::to_string(op.operands[n]);
            };
            auto unsupported = [&]() {
                return CodegenError("op '" + op.name + "' in kernel " + K.name +
                                        " cannot be lowered by the cpu_sim backend",
                                    op.loc.empty() ? K.loc : op.loc);
            };
            if (op.name == PTO_ADD_CYCLES_OP) continue;  // the task's cycles (task_cycles)
            if (op.code == OpCode::Unknown || op.code == OpCode::PtoIsa) throw unsupported();
            if (op.code == OpCode::Store) {
                const auto& dst = shape[op.operands.at(0)];
                const auto& src = shape[op.operands.at(1)];
                const DType d = dtype[op.operands.at(1)];
                if (dst == src && d == dtype[op.operands.at(0)] && d != DType::None &&
                    tile_dims(src))
                    o << "    " << inline_copy(v(0), v(1), *tile_dims(src), d) << ";\n";
                else
                    o << "    " << (dst == src ? "pto_store(" : "pto_broadcast(") << v(0)
                      << ", " << v(1) << ");\n";
                continue;
            }
            const bool implicit = op.code == OpCode::Load && op.attrs.count("implicit") &&
                                  std::holds_alternative<bool>(op.attrs.at("implicit")) &&
                                  std::get<bool>(op.attrs.at("implicit"));
            if (implicit) {  // the op library reads strided views directly: no copy needed
                o << "    pto_tile* const v" << id << " = " << v(0) << ";\n";
                continue;
            }
            const TileDims td = *tile_dims(op.shape);  // checked on entry (ir/tile.h)
            const int64_t rows = td.rows, cols = td.cols;
            if (rows <= 0 || cols <= 0 || op.dtype == DType::None)
                throw CodegenError("op " + op.name + " of kernel " + K.name +
                                       " has no static result type",
                                   op.loc);
            o << "    pto_tile t" << id << " = {pto_arena + " << arena << ", " << rows << ", "
              << cols << ", " << cols << ", 1, " << dcode(op.dtype) << "};\n    pto_tile* const v"
              << id << " = &t" << id << ";\n";
            arena += (rows * cols * dtype_size(op.dtype) + 63) / 64 * 64;
            arena_tile[id] = true;
            const std::string out = "v" + std::to_string(id);
            if (op.code == OpCode::Load && dtype[op.operands.at(0)] == op.dtype) {
                o << "    " << inline_copy(out, v(0), td, op.dtype) << ";\n";
                continue;
            }
            if (const char* sym = inline_binary_operator(op.code);
                sym != nullptr && (op.dtype == DType::F32 || op.dtype == DType::F64) &&
                op.operands.size() == 2) {
                const bool same = std::all_of(op.operands.begin(), op.operands.end(), [&](int64_t x) {
                    return arena_tile[x] && shape[x] == op.shape && dtype[x] == op.dtype;
                });
                if (same) {
                    o << "    PTO_I_BINARY(" << ctype(op.dtype) << ", " << sym << ", " << out
                      << ", " << v(0) << ", " << v(1) << ", " << rows * cols << ");\n";
                    continue;
                }
            }
            switch (op.code) {
                case OpCode::Constant: {
                    auto it = op.attrs.find("value");
                    if (it == op.attrs.end()) throw unsupported();
                    std::string val;
                    if (auto* b = std::get_if<bool>(&it->second)) val = *b ? "1.0" : "0.0";
                    else if (auto* i = std::get_if<int64_t>(&it->second)) val = "(double)" + i64(*i);
                    else if (auto* d = std::get_if<double>(&it->second)) val = f64(*d);
                    else throw unsupported();
                    o << "    pto_constant(" << out << ", " << val << ");\n";
                    break;
                }
                case OpCode::Matmul:
                    o << "    pto_matmul(" << out << ", " << v(0) << ", " << v(1) << ", "
                      << (op.operands.size() > 2 ? v(2) : std::string("(const pto_tile*)0"))
                      << ");\n";
                    break;
                default: {  // every other op: one runtime call, pto_<op>(out, operands...)
                    const OpInfo* info = op_info(op.code);
                    if (info == nullptr) throw unsupported();
                    o << "    " << info->runtime_fn << "(" << out;
                    for (int n = 0; n < info->max_arity; ++n) o << ", " << v(n);
                    o << ");\n";
                    break;
                }
            }
        }
        o << "    (void)pto_arena;\n}\n";
        arena_bytes_ = std::max(arena_bytes_, arena);
        return o.str();
    }

    /// The run-time terms ` + ...` of a task's cycles from the kernel's
    /// ptoisa.cpu_sim_add_cycles ops that read the task (its constants are in KC): a scalar
    /// parameter's value, or C++ expression text, evaluated in a lambda whose parameters are
    /// the kernel's scalar parameters by name, so the text sees those and nothing of the driver.
    /// A negative value adds nothing (a task's cycles are >= 0); `cost=` on the kernel
    /// overrides the model, these terms included.
    std::string task_cycles(const Kernel& K, const std::vector<std::string>& args,
                            const std::string& loc) const {
        std::string out;
        if (K.cost >= 0) return out;
        auto arg = [&](std::size_t pi) {
            if (args[pi].empty())
                throw CodegenError("ptoisa.cpu_sim_add_cycles of kernel " + K.name +
                                       " reads scalar parameter " + K.params[pi].name +
                                       ", which this task does not bind",
                                   loc);
            return args[pi];
        };
        for (const KernelOp& op : K.ops) {
            if (op.name != PTO_ADD_CYCLES_OP) continue;
            std::string term;
            if (!op.operands.empty()) {
                const int64_t pi = op.operands[0];
                if (pi < 0 || pi >= (int64_t)K.params.size() || !scalar_param(K.params[pi]))
                    throw CodegenError("ptoisa.cpu_sim_add_cycles of kernel " + K.name +
                                           " reads %" + std::to_string(pi) +
                                           ", which is not a scalar parameter",
                                       op.loc.empty() ? K.loc : op.loc);
                term = arg((std::size_t)pi);
            } else if (auto it = op.attrs.find("cpp"); it != op.attrs.end()) {
                const auto* text = std::get_if<std::string>(&it->second);
                if (text == nullptr)
                    throw CodegenError("ptoisa.cpu_sim_add_cycles of kernel " + K.name +
                                           ": attr cpp is not text",
                                       op.loc.empty() ? K.loc : op.loc);
                std::string params, values, unused;
                for (std::size_t i = 0; i < K.params.size(); ++i) {
                    if (!scalar_param(K.params[i])) continue;
                    params += std::string(params.empty() ? "" : ", ") + scalar_ctype(K.params[i]) +
                              " " + K.params[i].name;
                    values += std::string(values.empty() ? "" : ", ") + arg(i);
                    unused += "(void)" + K.params[i].name + "; ";
                }
                term = "[](" + params + ") { " + unused + "return (double)(" + *text + "); }(" +
                       values + ")";
            } else {
                continue;  // a constant: already in the kernel's cycles (KC)
            }
            out += " + pto_abi_add_cycles((double)(" + term + "))";
        }
        return out;
    }

    static std::string convert_scalar(const std::string& v, DType d) {
        switch (d) {
            case DType::F16: return "pto::f32_to_f16((float)(" + v + "))";
            case DType::BF16: return "pto::f32_to_bf16((float)(" + v + "))";
            case DType::Bool: return "(uint8_t)((" + v + ") != 0)";
            default: return "(" + std::string(ctype(d)) + ")(" + v + ")";
        }
    }

    // ---- disjointness proof ---------------------------------------------------------
    void collect(const Node& n, std::vector<LoopVar>& loops, std::vector<Access>& acc) {
        const std::string kind = to_string(n.kind);
        if (n.kind == NodeKind::Task) {
            const Kernel* K = m_.kernel(n.kernel_id);
            for (std::size_t a = 0; a < n.args.size(); ++a) {
                const Arg& arg = n.args[a];
                if (arg.kind != Arg::Kind::View || K == nullptr) continue;
                const int64_t pi = K->find_param(arg.param);
                const bool write = pi >= 0 && (K->params[pi].direction == Direction::Out ||
                                               K->params[pi].direction == Direction::InOut);
                acc.push_back(Access{&n, a, write, loops});
            }
            return;
        }
        std::size_t pushed = 0;
        if (n.kind == NodeKind::ParallelFor || n.kind == NodeKind::SeqFor ||
            n.kind == NodeKind::SelectFor || n.kind == NodeKind::Consume) {
            // A consume variable is the item's sequence number: distinct for every item of a
            // pipeline run (also across replicas), so it separates like a loop variable. Not
            // when it is the sent task's first axis (the reference builder's consume): two
            // items may carry one value.
            for (const auto& v : n.vars) {
                loops.push_back({v.id, n.kind != NodeKind::SelectFor && !n.binds_first_axis()});
                ++pushed;
            }
        }
        for (const auto& c : n.nested())
            if (c) collect(*c, loops, acc);
        loops.resize(loops.size() - pushed);
    }

    void prove_disjointness() {
        std::vector<LoopVar> loops;
        std::vector<Access> acc;
        collect(*m_.workload, loops, acc);
        std::map<int64_t, std::vector<const Access*>> by_tensor;
        for (const auto& a : acc) by_tensor[a.task->args[a.arg].view.tensor_id].push_back(&a);
        for (const auto& [tid, list] : by_tensor) {
            const bool any_write =
                std::any_of(list.begin(), list.end(), [](const Access* a) { return a->write; });
            if (!any_write) continue;
            if (list.size() > 1) {
                tracked_.insert(tid);
                continue;
            }
            // One access site: its instances are disjoint when every enclosing loop variable
            // is separated by an index that depends on it alone.
            const Access& a = *list[0];
            const View& view = a.task->args[a.arg].view;
            for (const LoopVar& lv : a.loops) {
                bool ok = lv.injective && std::any_of(view.indices.begin(), view.indices.end(),
                                                      [&](const Index& ix) {
                                                          return separates(ix, lv.id);
                                                      });
                if (!ok) {
                    tracked_.insert(tid);
                    break;
                }
            }
        }
    }

    // ---- dependency mode and the mesh (docs/semantics.md "Regions", "Spatial map") --------

    DepsMode deps_mode() const { return m_.schedule ? m_.schedule->deps_mode() : DepsMode::Infer; }
    bool has_mesh() const { return m_.schedule && !m_.schedule->spatial_grid.empty(); }
    /// The run-time region function of the Deps mode: exact (strided) regions for Deps.infer(),
    /// one bounding range each for Deps.infer("bounding"), none ("") for Deps.explicit().
    std::string region_fn() const {
        const DepsMode mode = deps_mode();
        if (mode == DepsMode::Explicit) return "";
        return mode == DepsMode::InferBounding ? "pto_abi_access_bounding" : "pto_abi_access_view";
    }
    static bool sharded(const Tensor& t) {
        return t.layout && std::any_of(t.layout->dist.begin(), t.layout->dist.end(),
                                       [](int64_t d) { return d >= 0; });
    }

    /// Deps.explicit(): no region is declared (structure alone orders tasks). With a mesh, the
    /// reads of sharded tensors are declared too: their home blocks decide the hop delay.
    void choose_tracked() {
        if (deps_mode() == DepsMode::Explicit) {
            tracked_.clear();
            return;
        }
        if (has_mesh())
            for (const auto& t : m_.tensors)
                if (sharded(t)) tracked_.insert(t.id);
    }

    /// Driver lines declaring where the blocks of each sharded tensor live (mesh only). Mesh axis
    /// a of grid (r, c) is the row coordinate (a = 0, size r) or the column one (a = 1, size c);
    /// the only axis of grid (n,) is the column coordinate (the mesh is 1 x n).
    std::string mesh_homes() const {
        if (!has_mesh() || deps_mode() == DepsMode::Explicit) return "";
        const auto& grid = m_.schedule->spatial_grid;
        std::string o;
        for (const auto& t : m_.tensors) {
            if (!sharded(t)) continue;
            std::string coord, size;
            for (std::size_t d = 0; d < t.layout->dist.size(); ++d) {
                const int64_t a = t.layout->dist[d];
                const bool valid = a >= 0 && static_cast<std::size_t>(a) < grid.size();
                const int64_t c = !valid ? -1 : grid.size() == 1 ? 1 : a;
                coord += (d ? ", " : "") + std::to_string(c);
                size += (d ? ", " : "") + std::to_string(valid ? grid[static_cast<std::size_t>(a)] : 1);
            }
            const std::string id = std::to_string(t.id);
            o += "    { const int32_t c[] = {" + coord + "}; const int64_t m[] = {" + size +
                 "}; pto_sim_tensor_home(sim, " + id + ", R->tensors[" + id + "].ndim, R->tensors[" +
                 id + "].shape, R->tensors[" + id + "].strides, c, m); }  // " + t.name + "\n";
        }
        return o;
    }

    // ---- driver: expressions ----------------------------------------------------------

    /// `return pto_abi_fail(...)` with the printf format `fmt` (about `ctx`) and its `args`.
    std::string fail(const std::string& ctx, const std::string& fmt, const std::string& args) const {
        return "return pto_abi_fail(R, " + cstr(ctx, true) + " \" (task #%llu): \" " +
               cstr(fmt) + ", (unsigned long long)pto_ntask" +
               (args.empty() ? "" : ", " + args) + ")";
    }

    // ---- ScalarEmitter hooks ----------------------------------------------------------------
    std::string fail_stmt(const std::string& ctx, const std::string& msg) const override {
        std::string fmt;
        for (char c : msg) fmt += c == '%' ? std::string("%%") : std::string(1, c);
        return fail(ctx, fmt, "");
    }
    std::string index_fail(const std::string& ctx, std::size_t d, const std::string& tensor,
                           const std::string& i, const std::string& n) const override {
        return fail(ctx, "index %lld out of range [0, %lld) in dim " + std::to_string(d) +
                             " of tensor " + tensor,
                    "(long long)" + i + ", (long long)" + n);
    }
    std::string dim_ref(int64_t tid, std::size_t d) const override {
        return "T" + std::to_string(tid) + "_n" + std::to_string(d);
    }
    std::string stride(int64_t tid, std::size_t d) const override {
        return "T" + std::to_string(tid) + "_s" + std::to_string(d);
    }
    std::string element(int64_t tid, const std::string& off) const override {
        return "T" + std::to_string(tid) + "[" + off + "]";
    }
    std::string event_query(const Expr& e, const std::string&) override { return csp_.query(e.id); }
    std::string error_context(const std::string&) const override { return ""; }

    std::string tensor_name(int64_t tid) const {
        const Tensor* t = m_.tensor(tid);
        return t ? t->name : "%" + std::to_string(tid);
    }

    /// Emits statements computing a task argument's view; returns the locals holding it.
    ViewCode emit_view(const View& v, const std::string& ctx) {
        const Tensor* t = m_.tensor(v.tensor_id);
        if (t == nullptr) throw CodegenError("view of unknown tensor", "");
        ViewCode vc;
        const std::string tid = std::to_string(v.tensor_id);
        vc.off = fresh("off");
        put("int64_t " + vc.off + " = 0;");
        for (std::size_t d = 0; d < t->shape.size(); ++d) {
            const std::string n = dim_size(v.tensor_id, d);
            if (d < v.indices.size() && v.indices[d].kind == Index::Kind::Point) {
                const Index& ix = v.indices[d];
                auto c = ix.value->as_const_int();
                if (c && t->shape[d] >= 0 && *c >= 0 && *c < t->shape[d]) {
                    put(vc.off + " += " + i64(*c) + " * " + stride(v.tensor_id, d) + ";");
                    continue;
                }
                const std::string i = fresh("ix");
                put("const int64_t " + i + " = " + ex(ix.value, ctx) + ";");
                put("if ((uint64_t)" + i + " >= (uint64_t)" + n + ") { " +
                    index_fail(ctx, d, t->name, i, n) + "; }");
                put(vc.off + " += " + i + " * " + stride(v.tensor_id, d) + ";");
            } else if (d < v.indices.size()) {
                const Index& ix = v.indices[d];
                if (ix.step <= 0)
                    throw CodegenError("a view of tensor " + t->name + " has slice step " +
                                           std::to_string(ix.step) + "; only positive steps",
                                       "");
                const std::string lo = fresh("lo"), hi = fresh("hi"), ext = fresh("ext"),
                                  st = fresh("st");
                const std::string lo_x = ex(ix.start, ctx);  // in order: see ScalarEmitter::ex
                const std::string hi_x = ex(ix.stop, ctx);
                put("const int64_t " + lo + " = " + lo_x + ", " + hi + " = " + hi_x + ";");
                auto cl = ix.start->as_const_int();
                auto ch = ix.stop->as_const_int();
                const bool static_ok = cl && ch && t->shape[d] >= 0 && *cl >= 0 && *cl <= *ch &&
                                       *ch <= t->shape[d];
                if (!static_ok)
                    put("if (" + lo + " < 0 || " + lo + " > " + hi + " || " + hi + " > " + n +
                        ") { " +
                        fail(ctx, "slice [%lld:%lld] out of range [0, %lld] in dim " +
                                      std::to_string(d) + " of tensor " + t->name,
                             "(long long)" + lo + ", (long long)" + hi + ", (long long)" + n) +
                        "; }");
                put("const int64_t " + ext + " = (" + hi + " - " + lo + " + " +
                    std::to_string(ix.step - 1) + ") / " + std::to_string(ix.step) + ";");
                put("const int64_t " + st + " = " + stride(v.tensor_id, d) + " * " +
                    std::to_string(ix.step) + ";");
                put(vc.off + " += " + lo + " * " + stride(v.tensor_id, d) + ";");
                vc.dims.emplace_back(ext, st);
                // [i*T : (i+1)*T] has the static extent T (the one affine analysis, ir/affine.h)
                const auto diff = constant_difference(ix.stop, ix.start);
                vc.static_ext.push_back(!diff ? -1 : *diff > 0 ? (*diff + ix.step - 1) / ix.step : 0);
            } else {
                vc.dims.emplace_back(n, stride(v.tensor_id, d));
                vc.static_ext.push_back(t->shape[d]);
            }
        }
        return vc;
    }

    static std::string elems(const ViewCode& vc) {
        std::string s = "((int64_t)1";
        for (const auto& [e, st] : vc.dims) s += " * " + e;
        return s + ")";
    }

    // ---- driver: nodes ----------------------------------------------------------------

    // A loop nest or task with no enclosing loop variable is emitted as its own noinline
    // function (a "part"): the compiler's optimiser is superlinear in function size, and a
    // workload of a few hundred top-level loops in one function took tens of seconds and a GB
    // to compile at -O1. A part shares the run state (task counter, barrier, step max, pending
    // flag) with its caller through a pto_state; loop variables never cross a part boundary.
    bool starts_part(const Node& n) const {
        if (in_part_ || !vars_.empty()) return false;
        return n.kind == NodeKind::Task || n.kind == NodeKind::ParallelFor ||
               n.kind == NodeKind::SeqFor || n.kind == NodeKind::SelectFor;
    }

    void emit_part(const Node& n) {
        std::string saved = std::move(body_);
        const int saved_indent = indent_;
        body_.clear();
        indent_ = 1;
        in_part_ = true;
        emit_node(n);
        in_part_ = false;
        std::string part = std::move(body_);
        body_ = std::move(saved);
        indent_ = saved_indent;
        const std::string fn = "pto_part_" + std::to_string(parts_.size());
        parts_.push_back(std::move(part));
        put("pto_st.ntask = pto_ntask; pto_st.barrier = pto_barrier; pto_st.max = pto_max; "
            "pto_st.pending = pto_pending; pto_st.bgate = pto_bgate; pto_st.bcause = pto_bcause; "
            "pto_st.mgate = pto_mgate;");
        put("if (const int32_t rc = " + fn + "(R, &pto_st)) return rc;");
        put("pto_ntask = pto_st.ntask; pto_barrier = pto_st.barrier; pto_max = pto_st.max; "
            "pto_pending = pto_st.pending; pto_bgate = pto_st.bgate; pto_bcause = pto_st.bcause; "
            "pto_mgate = pto_st.mgate;");
    }

    void emit_node(const Node& n) override {
        if (starts_part(n)) {
            emit_part(n);
            return;
        }
        const std::string kind = to_string(n.kind);
        if (is_csp(kind)) {  // pipelines, processes, channels, events: cpu_sim_csp.cpp
            csp_.emit(n);
            return;
        }
        if (n.kind == NodeKind::Collective) {  // numerics + gang task: cpu_sim_collective.cpp
            emit_collective(n);
            return;
        }
        switch (n.kind) {
            case NodeKind::Task: emit_task(n); return;
            case NodeKind::ParallelFor: emit_parallel_for(n, 0); return;
            case NodeKind::SeqFor: emit_seq_for(n); return;
            case NodeKind::SelectFor: emit_select_for(n); return;
            case NodeKind::Cond: emit_cond(n); return;
            case NodeKind::Combine: emit_children(n.children); return;
            case NodeKind::Sequential: emit_sequential(n); return;
            case NodeKind::SlotSet: {
                if (n.slot < 0) throw CodegenError("slot_set of a negative slot", n.loc);
                max_slot_ = std::max(max_slot_, n.slot);
                const std::string ctx = where("slot_set", n.loc);
                put("R->slots[" + std::to_string(n.slot) + "] = (uint64_t)(int64_t)(" +
                    ex(n.expr, ctx) + ");");
                return;
            }
            case NodeKind::SlotLoad: {
                if (n.slot < 0 || !n.view) throw CodegenError("malformed slot_load", n.loc);
                max_slot_ = std::max(max_slot_, n.slot);
                emit_slot_load(n);
                return;
            }
            default: break;
        }
        if (kind == "block") {  // children run in program order, no ordering constraint
            emit_children(n.children);
            return;
        }
        throw CodegenError("workload node '" + kind + "' is not supported by cpu_sim", n.loc);
    }

    void emit_collective(const Node& n) {
        const std::string ctx = where("collective " + n.name, n.loc);
        put("{");
        ++indent_;
        const ViewCode vc = emit_view(*n.view, ctx);
        auto fail_stmt = [&](const std::string& fmt, const std::string& args) {
            return fail(ctx, fmt, args);
        };
        for (const auto& s : coll_.emit(n, CollectiveSource{vc.off, vc.dims}, fail_stmt,
                                        seq_depth_ > 0, region_fn()))
            put(s);
        --indent_;
        put("}");
    }

    void emit_slot_load(const Node& n) {
        const std::string ctx = where("slot_load", n.loc);
        put("{");
        ++indent_;
        ViewCode vc = emit_view(*n.view, ctx);
        const Tensor* t = m_.tensor(n.view->tensor_id);
        // The view as 2-D (row, col): missing dims count as extent 1.
        std::vector<std::pair<std::string, std::string>> d = vc.dims;
        while (d.size() < 2) d.insert(d.begin(), {"((int64_t)1)", "((int64_t)0)"});
        if (d.size() > 2)
            throw CodegenError("slot_load needs a view with at most 2 dimensions", n.loc);
        const std::string r = fresh("r"), c = fresh("c");
        const std::string row_x = ex(n.row, ctx);  // in order: see ScalarEmitter::ex
        const std::string col_x = ex(n.col, ctx);
        put("const int64_t " + r + " = " + row_x + ", " + c + " = " + col_x + ";");
        put("if ((uint64_t)" + r + " >= (uint64_t)" + d[0].first + " || (uint64_t)" + c +
            " >= (uint64_t)" + d[1].first + ") { " +
            fail(ctx, "element [%lld, %lld] out of range of a view of tensor " + t->name,
                 "(long long)" + r + ", (long long)" + c) +
            "; }");
        const std::string el = "T" + std::to_string(n.view->tensor_id) + "[" + vc.off + " + " +
                               r + " * " + d[0].second + " + " + c + " * " + d[1].second + "]";
        std::string val;
        switch (t->dtype) {
            case DType::F16: val = "(int64_t)pto::f16_to_f32(" + el + ")"; break;
            case DType::BF16: val = "(int64_t)pto::bf16_to_f32(" + el + ")"; break;
            case DType::U64: val = "(uint64_t)" + el; break;
            default: val = "(uint64_t)(int64_t)" + el; break;
        }
        put("R->slots[" + std::to_string(n.slot) + "] = " + val + ";");
        --indent_;
        put("}");
    }

    // A sequential scope: each step (iteration / child) starts after every task of the
    // previous one ends. pto_max tracks the max end of tasks submitted in the current step;
    // pto_pending notes tasks a buffering timing policy still holds (their end is fixed on
    // demand with pto_sim_task_end()). Beside each clock goes the task whose end set it
    // (pto_bgate, pto_mgate; PTO_WAIT_NO_GATE: none) and, for the barrier, its wait-cause kind
    // (pto_bcause): the simulator records them as the task's gating cause (sim.h).
    struct SeqScope {
        std::string barrier, acc, saved_max, saved_pending, first, bgate, bcause, acc_gate,
            saved_mgate;
    };
    SeqScope open_seq() {
        SeqScope s{fresh("sq_barrier"), fresh("sq_acc"),   fresh("sq_max"),
                   fresh("sq_pend"),    fresh("sq_first"), fresh("sq_bgate"),
                   fresh("sq_bcause"),  fresh("sq_agate"), fresh("sq_mgate")};
        put("const int64_t " + s.barrier + " = pto_barrier;");
        put("const uint32_t " + s.bgate + " = pto_bgate;");
        put("const int32_t " + s.bcause + " = pto_bcause;");
        put("const int64_t " + s.saved_max + " = pto_max;");
        put("const uint32_t " + s.saved_mgate + " = pto_mgate;");
        put("const int " + s.saved_pending + " = pto_pending;");
        put("int64_t " + s.acc + " = 0;");
        put("uint32_t " + s.acc_gate + " = PTO_WAIT_NO_GATE;");
        ++seq_depth_;
        return s;
    }
    void step_begin(const SeqScope& s) {
        put("const uint64_t " + s.first + " = pto_ntask;");
        put("pto_max = 0; pto_pending = 0; pto_mgate = PTO_WAIT_NO_GATE;");
    }
    void step_end(const SeqScope& s) {
        put("if (pto_pending) {");
        put("    for (uint64_t q = " + s.first + "; q < pto_ntask; ++q) {");
        put("        const int64_t e = pto_sim_task_end(sim, (uint32_t)q);");
        put("        if (e > pto_max) { pto_max = e; pto_mgate = (uint32_t)q; }");
        put("    }");
        put("}");
        put("if (pto_max > pto_barrier) { pto_barrier = pto_max; pto_bgate = pto_mgate; "
            "pto_bcause = PTO_WAIT_BARRIER; }");
        put("if (pto_max > " + s.acc + ") { " + s.acc + " = pto_max; " + s.acc_gate +
            " = pto_mgate; }");
    }
    void close_seq(const SeqScope& s) {
        --seq_depth_;
        put("pto_barrier = " + s.barrier + "; pto_bgate = " + s.bgate + "; pto_bcause = " +
            s.bcause + ";");
        put("if (" + s.saved_max + " > " + s.acc + ") { pto_max = " + s.saved_max +
            "; pto_mgate = " + s.saved_mgate + "; } else { pto_max = " + s.acc +
            "; pto_mgate = " + s.acc_gate + "; }");
        put("pto_pending = " + s.saved_pending + ";");
    }

    void emit_seq_for(const Node& n) {
        if (n.vars.empty() || n.axes.empty()) throw CodegenError("malformed seq_for", n.loc);
        put("{");
        ++indent_;
        SeqScope s = open_seq();
        open_loop(n.vars[0], ex(n.axes[0].extent(), where("loop " + n.vars[0].name, n.loc)));
        step_begin(s);
        emit_children(n.children);
        step_end(s);
        close_loop(n.vars[0]);
        close_seq(s);
        --indent_;
        put("}");
    }

    void emit_sequential(const Node& n) {
        put("{");
        ++indent_;
        SeqScope s = open_seq();
        for (const auto& c : n.children) {
            if (!c) continue;
            put("{");
            ++indent_;
            step_begin(s);
            emit_node(*c);
            step_end(s);
            --indent_;
            put("}");
        }
        close_seq(s);
        --indent_;
        put("}");
    }

    void emit_select_for(const Node& n) {
        const SparseAxis sa = sparse_axis(n);
        const Axis& ax = *sa.axis;
        const std::string& ctx = sa.ctx;
        put("{");
        ++indent_;
        const std::string row = fresh("row"), lo = fresh("klo"), hi = fresh("khi"),
                          k = fresh("k");
        const std::string ipn = dim_size(ax.indptr_tensor, 0), ixn = dim_size(ax.indices_tensor, 0);
        const std::string ipst = stride(ax.indptr_tensor, 0);
        put("const int64_t " + row + " = " + ex(n.row, ctx) + ";");
        put("if (" + row + " < 0 || " + row + " + 1 >= " + ipn + ") { " +
            fail(ctx, "row %lld out of range of indptr tensor " + sa.indptr->name + " (size %lld)",
                 "(long long)" + row + ", (long long)" + ipn) +
            "; }");
        put("const int64_t " + lo + " = (int64_t)" + element(ax.indptr_tensor, row + " * " + ipst) +
            ", " + hi + " = (int64_t)" + element(ax.indptr_tensor, "(" + row + " + 1) * " + ipst) +
            ";");
        put("if (" + lo + " < 0 || " + lo + " > " + hi + " || " + hi + " > " + ixn + ") { " +
            fail(ctx, "indptr[%lld..%lld] = %lld..%lld is not a valid range of indices tensor " +
                          sa.indices->name + " (size %lld)",
                 "(long long)" + row + ", (long long)(" + row + " + 1), (long long)" + lo +
                     ", (long long)" + hi + ", (long long)" + ixn) +
            "; }");
        emit_sparse_loop(n, k, lo, hi);
        --indent_;
        put("}");
    }

    void emit_task(const Node& n) {
        const Kernel* K = m_.kernel(n.kernel_id);
        if (K == nullptr) throw CodegenError("task of unknown kernel", n.loc);
        const std::string ctx = "kernel " + K->name + (n.loc.empty() ? "" : " at " + n.loc);
        put("{  // task @" + K->name + (n.loc.empty() ? "" : " " + n.loc));
        ++indent_;
        csp_.task_prologue();
        // Arguments by parameter order.
        std::vector<std::string> call_args(K->params.size());
        std::vector<bool> bound(K->params.size(), false);
        std::string in_elems = "((int64_t)0)", out_elems = "((int64_t)0)";
        const bool numerics = K->body_kind != BodyKind::Empty;
        struct Tracked {
            int64_t tid;
            ViewCode vc;
            bool write;
        };
        std::vector<Tracked> tracked;
        for (const Arg& arg : n.args) {
            const int64_t pi = K->find_param(arg.param);
            if (pi < 0)
                throw CodegenError("task of kernel " + K->name + " binds unknown parameter " +
                                       arg.param,
                                   n.loc);
            const KernelParam& p = K->params[pi];
            bound[pi] = true;
            if (arg.kind == Arg::Kind::Scalar) {
                const std::string s = fresh("sc");
                put("const " + std::string(scalar_ctype(p)) + " " + s + " = (" + scalar_ctype(p) +
                    ")" + ex(arg.value, ctx) + ";");
                call_args[pi] = s;
                continue;
            }
            if (p.kind == ParamKind::Scalar)
                throw CodegenError("scalar parameter " + p.name + " of kernel " + K->name +
                                       " is bound to a view",
                                   n.loc);
            ViewCode vc = emit_view(arg.view, ctx + " argument " + p.name);
            const bool reads = p.direction == Direction::In || p.direction == Direction::InOut;
            const bool writes = p.direction == Direction::Out || p.direction == Direction::InOut;
            if (reads) in_elems += " + " + elems(vc);
            if (writes) out_elems += " + " + elems(vc);
            if (numerics) call_args[pi] = "&" + emit_tile(arg.view, vc, *K, p, ctx);
            if (tracked_.count(arg.view.tensor_id) && csp_.tracks(arg.view.tensor_id)) {
                // With a mesh an InOut view is a read (it may cross tiles) and a write.
                if (reads && writes && has_mesh()) tracked.push_back({arg.view.tensor_id, vc, false});
                tracked.push_back({arg.view.tensor_id, vc, writes});
            }
        }
        for (std::size_t i = 0; i < bound.size(); ++i)
            if (!bound[i] && numerics)
                throw CodegenError("task of kernel " + K->name + " does not bind parameter " +
                                       K->params[i].name,
                                   n.loc);
        // Cost: the cost table's per-kernel cycles, or (-1) from the views.
        const std::string kid = std::to_string(n.kernel_id);
        // KC<id> is the prologue's local copy of KC[id]: unlike a load through KC it is
        // loop-invariant across the (opaque) submit calls, so a view-independent cost is
        // evaluated once per function instead of once per task.
        if (K->body_kind == BodyKind::Traced)
            put("const int64_t cyc = KC" + kid + task_cycles(*K, call_args, n.loc) + ";");
        else
            put("const int64_t cyc = KC" + kid + " >= 0 ? KC" + kid +
                " : (int64_t)(LR * (double)(" + in_elems + ") + SR * (double)(" + out_elems +
                ") + 0.5);");
        // The task record. A task that runs numerics fills it before its kernel runs: the
        // current-task record (fault.h) points at it so that a crash, exit() or C++ exception
        // names the task's indices. Without numerics it is filled just before the submit.
        auto task_record = [&]() {
            put("pto_sim_task t;");
            put("t.kernel = " + kid +
                "; t.cycles = cyc; t.min_start = pto_barrier; t.min_cause = pto_bcause; "
                "t.min_gate = pto_bgate; t.reserved = 0;");
            put("t.dispatch_key = " + key(schedule_key(true), n, ctx) + ";");
            put("t.stream_key = " + key(schedule_key(false), n, ctx) + ";");
            // The priority ready policy's key, traced once like the dispatch key (0 otherwise).
            const ExprPtr rk = m_.schedule ? m_.schedule->ready_key : nullptr;
            put("t.ready_key = " + (rk ? key(rk, n, ctx) : std::string("0")) + ";");
            for (int i = 0; i < 4; ++i) {
                std::string v = "-1";
                if (i < static_cast<int>(n.axis_values.size()))
                    v = "(int32_t)(" + ex(n.axis_values[i], ctx) + ")";
                put("t.idx[" + std::to_string(i) + "] = " + v + ";");
            }
        };
        if (numerics) {
            task_record();
            std::string call = kernel_fn(n.kernel_id) + "(pto_arena";
            if (reference_abi(*K)) {  // the task's axis values, then the parameters
                if (n.axis_values.size() > PTO_REF_MAX_AXES)
                    throw CodegenError("a task of kernel " + K->name + " binds " +
                                           std::to_string(n.axis_values.size()) +
                                           " axis values; the reference ABI takes at most " +
                                           std::to_string(PTO_REF_MAX_AXES),
                                       n.loc);
                const std::string ax = fresh("ax");
                std::string init;
                for (const auto& v : n.axis_values)
                    init += "(uint64_t)(int64_t)(" + ex(v, ctx) + "), ";
                put("const uint64_t " + ax + "[" + std::to_string(std::max<std::size_t>(n.axis_values.size(), 1)) +
                    "] = {" + (init.empty() ? "0" : init) + "};");
                call = "t.cycles += (int64_t)" + call + ", " + ax + ", " +
                       std::to_string(n.axis_values.size()) + "u";
            }
            for (const auto& a : call_args) call += ", " + a;
            call += ");";
            const std::string site = "&" + site_name(n.kernel_id);
            // The barriers keep the stores where they are: an inlined kernel that writes no
            // memory the compiler can see would otherwise let it drop them as dead.
            put("pto_cur->site = " + site + "; pto_cur->task = &t; PTO_ABI_BARRIER();");
            if (K->body_kind == BodyKind::Cpp)  // user C++ may throw: a KernelError, not a crash
                call = "try { " + call + " } catch (const std::exception& pto_e) { return "
                       "pto_abi_kernel_error(R, " + site + ", &t, pto_e.what()); } catch (...) { "
                       "return pto_abi_kernel_error(R, " + site + ", &t, 0); }";
            put(call);
            put("PTO_ABI_BARRIER(); pto_cur->site = 0;");
        }
        for (const auto& t : tracked) {  // empty under Deps.explicit() (choose_tracked)
            const std::string e = fresh("rex"), s = fresh("rst");
            put(region_access(region_fn(), t.tid, t.vc.off, t.vc.dims, t.write, e, s));
        }
        // Submit.
        if (!numerics) task_record();
        if (seq_depth_ > 0) {
            put("const int64_t e = pto_sim_submit_inline(sim, pto_SH, &t);");
            put("if (e == PTO_SIM_PENDING) pto_pending = 1; else if (e > pto_max) { pto_max = e; "
                "pto_mgate = (uint32_t)pto_ntask; }");
        } else {
            put("pto_sim_submit_inline(sim, pto_SH, &t);");
        }
        put("++pto_ntask;");
        csp_.task_epilogue();
        --indent_;
        put("}");
    }

    ExprPtr schedule_key(bool dispatch) const {
        if (!m_.schedule) return nullptr;
        return dispatch ? m_.schedule->dispatch_key : m_.schedule->stream_key;
    }
    /// A schedule key for task node `n` (its t.params[i] are n's kernel[...] values); without a
    /// key (or where its variables are not bound, e.g. a task outside the loop the key names)
    /// the submission index.
    std::string key(const ExprPtr& key_expr, const Node& n, const std::string& ctx) {
        const ExprPtr k = ir::substitute_task_params(key_expr, n.axis_values);
        if (!k || !in_scope(k)) return "(int64_t)pto_ntask";
        return "(int64_t)(" + ex(k, ctx) + ")";
    }

    /// Emits the pto_tile of a tensor/tile argument; returns its local name. The view becomes a
    /// 2-D tile by the one tile rank rule (ir/tile.h): its leading extents must be 1 (checked
    /// here when known, at run time otherwise) and a shaped parameter takes exactly its shape.
    std::string emit_tile(const View& view, const ViewCode& vc, const Kernel& K,
                          const KernelParam& p, const std::string& ctx) {
        const Tensor* t = m_.tensor(view.tensor_id);
        const std::string what = "the view bound to parameter " + p.name + " of kernel " + K.name;
        const std::size_t k = vc.dims.size();
        // A traced kernel was specialised for a static shape, a Tile[r, c] declares one.
        const bool shaped =
            !p.shape.empty() && (K.body_kind == BodyKind::Traced || p.kind == ParamKind::Tile);
        const std::string problem =
            view_tile_problem(vc.static_ext, shaped ? p.shape : std::vector<int64_t>{}, what);
        if (!problem.empty()) throw CodegenError(problem, "");
        for (std::size_t j = 0; j + 2 < k; ++j) {
            if (vc.static_ext[j] == 1) continue;
            put("if (" + vc.dims[j].first + " != 1) { " +
                fail(ctx, view_leading_extent_message(what), "(long long)" + vc.dims[j].first) +
                "; }");
        }
        std::string rows = "1", cols = "1", rs = "0", cs = "1";
        int64_t srows = 1, scols = 1;
        if (k >= 1) {
            cols = vc.dims[k - 1].first;
            cs = vc.dims[k - 1].second;
            scols = vc.static_ext[k - 1];
        }
        if (k >= 2) {
            rows = "(" + vc.dims[k - 2].first + ")";
            rs = vc.dims[k - 2].second;
            srows = vc.static_ext[k - 2];
        }
        if (shaped && (srows < 0 || scols < 0)) {
            const TileDims want = *tile_dims(p.shape);  // the kernel passed tile_problems
            const std::string er = std::to_string(want.rows), ec = std::to_string(want.cols);
            put("if (" + rows + " != " + er + " || " + cols + " != " + ec + ") { " +
                fail(ctx, what + " is %lldx%lld but the kernel takes a " + er + "x" + ec + " tile",
                     "(long long)" + rows + ", (long long)" + cols) +
                "; }");
        }
        const std::string name = fresh("tile");
        const std::string base = csp_.tensor_base(view.tensor_id, "T" + std::to_string(view.tensor_id),
                                                  ctype(t->dtype), ctx);
        put("pto_tile " + name + " = {(void*)(" + base + " + " + vc.off +
            "), " + rows + ", " + cols + ", " + rs + ", " + cs + ", " + dcode(t->dtype) + "};");
        return name;
    }

    // ---- driver file --------------------------------------------------------------------
    std::string driver() {
        std::ostringstream o;
        o << "// Generated by pto_wsp (cpu_sim backend) for module " << m_.name
          << ". Do not edit.\n"
             "// Workload driver: enumerates tasks in program order, runs their numerics and\n"
             "// submits them to the simulator (runtime/abi.h).\n"
             "#include <stdint.h>\n#include \"runtime/abi.h\"\n#include \"runtime/collectives.h\"\n"
             "#include \"runtime/dtype.h\"\n#include \"runtime/tile_inline.h\"\n"
          << csp_.includes() << "\n";
        for (const auto& k : m_.kernels)  // custom C++ may throw (std::exception is caught)
            if (k->body_kind == BodyKind::Cpp) {
                o << "#include <exception>\n";
                break;
            }
        for (std::size_t k = 0; k < m_.kernels.size(); ++k) {
            if (separate(k)) o << signature(k) << ";  // " << kernel_file_name(k) << ", linked\n";
            else o << "#include \"" << kernel_file_name(k) << "\"\n";
        }
        o << "\n";
        auto names = [&](const char* fn, const std::vector<std::string>& v) {
            o << "extern \"C\" const char* const* " << fn << "(void) {\n    static const char* const n[] = {";
            for (const auto& s : v) o << cstr(s) << ", ";
            o << "0};\n    return n;\n}\n";
        };
        std::vector<std::string> kn;
        for (const auto& k : m_.kernels) kn.push_back(k->name);
        for (const auto& c : coll_.kernel_names()) kn.push_back(c);  // collective pseudo-kernels
        o << "extern \"C\" int32_t pto_lib_abi_version(void) { return PTO_ABI_VERSION; }\n";
        names("pto_lib_symbol_names", symbols_);
        names("pto_lib_param_names", params_);
        names("pto_lib_kernel_names", kn);
        o << "extern \"C\" int64_t pto_lib_num_tensors(void) { return " << m_.tensors.size()
          << "; }\n";
        o << "extern \"C\" int64_t pto_lib_num_slots(void) { return " << (max_slot_ + 1) << "; }\n";
        o << "extern \"C\" int64_t pto_lib_arena_bytes(void) { return " << arena_bytes_
          << "; }\n\n";
        o << "struct pto_state {\n    uint64_t ntask;\n    int64_t barrier, max;\n    int pending;\n"
             "    uint32_t bgate, mgate;\n    int32_t bcause;\n};\n\n";
        for (std::size_t k = 0; k < m_.kernels.size(); ++k)
            o << "static const pto_abi_site " << site_name(k) << " = {" << cstr(m_.kernels[k]->name)
              << ", " << cstr(m_.kernels[k]->loc) << "};\n";
        o << "\n";
        for (const auto& [sig, fbody] : csp_.functions()) {  // CSP processes
            o << sig << " {\n";
            prologue(o, fbody);
            o << fbody << "}\n\n";
        }
        for (std::size_t i = 0; i < parts_.size(); ++i) {
            o << "__attribute__((noinline)) static int32_t pto_part_" << i
              << "(pto_abi_run* R, pto_state* S) {\n";
            prologue(o, parts_[i]);
            o << "    uint64_t pto_ntask = S->ntask;\n"
                 "    int64_t pto_barrier = S->barrier, pto_max = S->max;\n"
                 "    int pto_pending = S->pending;\n"
                 "    uint32_t pto_bgate = S->bgate, pto_mgate = S->mgate;\n"
                 "    int32_t pto_bcause = S->bcause;\n"
                 "    (void)pto_barrier; (void)pto_max; (void)pto_pending; (void)pto_bgate; "
                 "(void)pto_mgate; (void)pto_bcause;\n";
            o << parts_[i];
            o << "    S->ntask = pto_ntask; S->barrier = pto_barrier; S->max = pto_max; "
                 "S->pending = pto_pending;\n    S->bgate = pto_bgate; S->mgate = pto_mgate; "
                 "S->bcause = pto_bcause;\n    return 0;\n}\n\n";
        }
        o << "extern \"C\" int32_t pto_lib_run(pto_abi_run* R) {\n";
        o << csp_.run_setup();
        prologue(o, body_);
        o << mesh_homes();
        o << "    uint64_t pto_ntask = 0;\n"
             "    int64_t pto_barrier = 0, pto_max = 0;\n"
             "    int pto_pending = 0;\n"
             "    uint32_t pto_bgate = PTO_WAIT_NO_GATE, pto_mgate = PTO_WAIT_NO_GATE;\n"
             "    int32_t pto_bcause = PTO_WAIT_NONE;\n"
             "    pto_state pto_st;\n"
             "    (void)pto_max; (void)pto_pending; (void)pto_st; (void)pto_bgate; (void)pto_mgate; "
             "(void)pto_bcause;\n";
        o << body_;
        o << "    return 0;\n}\n";
        return o.str();
    }

    /// The locals a driver function reads: run inputs and the tensors its body names (`T<id>`;
    /// a match inside a message string only declares an unused local).
    void prologue(std::ostringstream& o, const std::string& body) const {
        std::set<int64_t> kc_declared;
        o << "    pto_sim* const sim = R->sim;\n"
             "    char* const pto_arena = (char*)R->arena;\n"
             "    const int64_t* const KC = R->kernel_cycles;\n"
             "    const double LR = R->load_rate, SR = R->store_rate;\n"
             "    pto_abi_current* const pto_cur = R->current;\n"
             // sim.h's inline submit reads the simulator's hot state (where it stays put)
             "    pto_sim_hot* const pto_SH = pto_sim_hot_of(sim);\n"
             "    (void)sim; (void)pto_arena; (void)KC; (void)LR; (void)SR; (void)pto_cur; "
             "(void)pto_SH;\n";
        o << csp_.prologue_line();
        // The cost-table entries the body reads (`KC<id>`), copied into locals.
        for (std::size_t i = 0; i + 2 < body.size(); ++i) {
            if (body[i] != 'K' || body[i + 1] != 'C' ||
                !std::isdigit(static_cast<unsigned char>(body[i + 2])))
                continue;
            if (i > 0 && (std::isalnum(static_cast<unsigned char>(body[i - 1])) || body[i - 1] == '_'))
                continue;
            int64_t id = 0;
            std::size_t j = i + 2;
            while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j])) && id < INT32_MAX)
                id = id * 10 + (body[j++] - '0');
            i = j - 1;
            if (j < body.size() && (std::isalnum(static_cast<unsigned char>(body[j])) || body[j] == '_'))
                continue;
            if (!m_.kernel(id) || !kc_declared.insert(id).second) continue;
            o << "    const int64_t KC" << id << " = KC[" << id << "]; (void)KC" << id << ";\n";
        }
        std::set<int64_t> used;
        for (std::size_t i = 0; i + 1 < body.size(); ++i) {
            if (body[i] != 'T' || !std::isdigit(static_cast<unsigned char>(body[i + 1]))) continue;
            if (i > 0 && (std::isalnum(static_cast<unsigned char>(body[i - 1])) || body[i - 1] == '_'))
                continue;
            int64_t id = 0;
            std::size_t j = i + 1;
            while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j])) && id < INT32_MAX)
                id = id * 10 + (body[j++] - '0');
            used.insert(id);
            i = j - 1;
        }
        for (const auto& t : m_.tensors) {
            if (!used.count(t.id)) continue;
            const std::string id = std::to_string(t.id);
            o << "    " << ctype(t.dtype) << "* const T" << id << " = (" << ctype(t.dtype)
              << "*)R->tensors[" << id << "].data; (void)T" << id << ";  // " << t.name << "\n";
            for (std::size_t d = 0; d < t.shape.size(); ++d) {
                o << "    const int64_t T" << id << "_s" << d << " = R->tensors[" << id
                  << "].strides[" << d << "]; (void)T" << id << "_s" << d << ";\n";
                o << "    const int64_t T" << id << "_n" << d << " = R->tensors[" << id
                  << "].shape[" << d << "]; (void)T" << id << "_n" << d << ";\n";
            }
        }
    }

    // ---- CspHost (the CSP emitter reuses this emitter's statement and task code) ----------
    void csp_put(const std::string& s) override { put(s); }
    void csp_indent(int delta) override { indent_ += delta; }
    std::string csp_fresh(const char* base) override { return fresh(base); }
    void csp_emit(const Node& n) override { emit_node(n); }
    std::string csp_expr(const ExprPtr& e, const std::string& ctx) override { return ex(e, ctx); }
    std::set<int64_t> csp_vars() const override { return vars_; }
    void csp_bind(int64_t id, bool bound) override {
        if (bound) vars_.insert(id);
        else vars_.erase(id);
    }
    std::string csp_capture(const std::function<void()>& fn) override {
        std::string saved = std::move(body_);
        const int saved_indent = indent_, saved_depth = seq_depth_;
        const bool saved_part = in_part_;
        body_.clear();
        indent_ = 1;
        in_part_ = true;
        seq_depth_ = 1;
        fn();
        std::string out = std::move(body_);
        body_ = std::move(saved);
        indent_ = saved_indent;
        seq_depth_ = saved_depth;
        in_part_ = saved_part;
        return out;
    }

    const CpuSimOptions& opts_;
    CspEmitter csp_;
    CollectiveEmitter coll_;
    std::vector<std::string> parts_;  // bodies of the pto_part_<i> functions
    bool in_part_ = false;
    int seq_depth_ = 0;
    std::set<int64_t> tracked_;
    int64_t arena_bytes_ = 0;
};

}  // namespace

CpuSimSources emit_cpu_sim(const Module& m, const CpuSimOptions& opts) {
    for (const auto& t : m.tensors)
        if (t.shape.size() > PTO_CODEGEN_MAX_DIMS)
            throw CodegenError("tensor " + t.name + " has rank " + std::to_string(t.shape.size()) +
                                   "; cpu_sim supports up to " +
                                   std::to_string(PTO_CODEGEN_MAX_DIMS),
                               "");
    return Emitter(m, opts).run();
}

}  // namespace pto::wsp::codegen
