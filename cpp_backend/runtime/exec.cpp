// Loading and running generated cpu_sim libraries; see exec.h and abi.h.
#include "runtime/exec.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

extern "C" int32_t pto_abi_fail(pto_abi_run* run, const char* fmt, ...) {
    if (run != nullptr && run->error != nullptr && run->error_cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(run->error, static_cast<std::size_t>(run->error_cap), fmt, ap);
        va_end(ap);
    }
    return 1;
}

namespace {

// Declares the elements of a strided view (element `offset + sum_i k_i * str[i]`) as strided
// regions (docs/semantics.md, "Regions"). Dimensions of extent 1 or stride 0 are dropped, negative
// strides mirrored (same element set), dimensions ordered by stride and merged where they nest
// contiguously. The innermost stride-1 dimension forms the runs and the next one their stride: one
// pto_sim_access_strided() call, however many runs. A view with more levels is declared as one
// strided region per index of its outer levels while there are at most PTO_ABI_MAX_PIECES of them,
// else as its bounding range.
void access_view(pto_sim* sim, int32_t tensor, int64_t offset, int32_t ndim, const int64_t* ext,
                 const int64_t* str, int32_t is_write) {
    int64_t e[PTO_ABI_MAX_DIMS], s[PTO_ABI_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < ndim && i < PTO_ABI_MAX_DIMS; ++i) {
        if (ext[i] <= 0) return;  // empty view touches nothing
        if (ext[i] == 1 || str[i] == 0) continue;
        int64_t st = str[i];
        if (st < 0) {  // the touched set is the same from the other end
            offset += st * (ext[i] - 1);
            st = -st;
        }
        // Insertion by decreasing stride (views are tiny).
        int j = n++;
        for (; j > 0 && s[j - 1] < st; --j) {
            e[j] = e[j - 1];
            s[j] = s[j - 1];
        }
        e[j] = ext[i];
        s[j] = st;
    }
    // Merge dimension i + 1 into i where i steps exactly over all of i + 1.
    int m = 0;
    for (int i = 0; i < n; ++i) {
        if (m > 0 && s[m - 1] == e[i] * s[i]) {
            e[m - 1] *= e[i];
            s[m - 1] = s[i];
        } else {
            e[m] = e[i];
            s[m] = s[i];
            ++m;
        }
    }
    int64_t run_len = 1;
    if (m > 0 && s[m - 1] == 1) run_len = e[--m];
    if (m == 0) {
        pto_sim_access(sim, tensor, offset, offset + run_len, is_write);
        return;
    }
    // Level m - 1 strides the runs; levels 0 .. m - 2 repeat that strided region.
    const int inner = m - 1;
    int64_t pieces = 1;
    for (int i = 0; i < inner && pieces <= PTO_ABI_MAX_PIECES; ++i) pieces *= e[i];
    if (pieces > PTO_ABI_MAX_PIECES) {
        int64_t hi = offset + run_len;
        for (int i = 0; i < m; ++i) hi += (e[i] - 1) * s[i];
        pto_sim_access(sim, tensor, offset, hi, is_write);
        return;
    }
    int64_t k[PTO_ABI_MAX_DIMS] = {0};
    for (int64_t p = 0; p < pieces; ++p) {
        int64_t off = offset;
        for (int i = 0; i < inner; ++i) off += k[i] * s[i];
        pto_sim_access_strided(sim, tensor, off, run_len, s[inner], e[inner], is_write);
        for (int i = inner - 1; i >= 0; --i) {
            if (++k[i] < e[i]) break;
            k[i] = 0;
        }
    }
}

// The bounding element range of a strided view (Deps.infer("bounding")).
void access_bounding(pto_sim* sim, int32_t tensor, int64_t offset, int32_t ndim,
                     const int64_t* ext, const int64_t* str, int32_t is_write) {
    int64_t lo = offset, hi = offset + 1;
    for (int i = 0; i < ndim && i < PTO_ABI_MAX_DIMS; ++i) {
        if (ext[i] <= 0) return;  // empty view touches nothing
        const int64_t span = (ext[i] - 1) * str[i];
        (span < 0 ? lo : hi) += span;
    }
    pto_sim_access(sim, tensor, lo, hi, is_write);
}

std::vector<std::string> names_of(pto_lib_names_fn fn) {
    std::vector<std::string> out;
    for (const char* const* p = fn(); p != nullptr && *p != nullptr; ++p) out.emplace_back(*p);
    return out;
}

}  // namespace

extern "C" void pto_abi_access_view(pto_sim* sim, int32_t tensor, int64_t offset, int32_t ndim,
                                    const int64_t* extents, const int64_t* strides,
                                    int32_t is_write) {
    access_view(sim, tensor, offset, ndim, extents, strides, is_write);
}

extern "C" void pto_abi_access_bounding(pto_sim* sim, int32_t tensor, int64_t offset, int32_t ndim,
                                        const int64_t* extents, const int64_t* strides,
                                        int32_t is_write) {
    access_bounding(sim, tensor, offset, ndim, extents, strides, is_write);
}

namespace pto::exec {

Library::Library(const std::string& path, std::vector<std::string> sources)
    : path_(path), sources_(std::move(sources)) {
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
        const char* why = dlerror();
        throw LoadError("cannot load generated library " + path + ": " + (why ? why : "?"));
    }
    auto version = reinterpret_cast<pto_lib_abi_version_fn>(resolve("pto_lib_abi_version"));
    abi_version_ = version();
    if (abi_version_ != PTO_ABI_VERSION) {
        dlclose(handle_);
        handle_ = nullptr;
        throw LoadError("generated library " + path + " has ABI version " +
                        std::to_string(abi_version_) + ", the runtime expects " +
                        std::to_string(PTO_ABI_VERSION));
    }
    run_ = reinterpret_cast<pto_lib_run_fn>(resolve("pto_lib_run"));
    symbols_ = names_of(reinterpret_cast<pto_lib_names_fn>(resolve("pto_lib_symbol_names")));
    params_ = names_of(reinterpret_cast<pto_lib_names_fn>(resolve("pto_lib_param_names")));
    kernels_ = names_of(reinterpret_cast<pto_lib_names_fn>(resolve("pto_lib_kernel_names")));
    num_tensors_ = reinterpret_cast<pto_lib_int_fn>(resolve("pto_lib_num_tensors"))();
    num_slots_ = reinterpret_cast<pto_lib_int_fn>(resolve("pto_lib_num_slots"))();
    arena_bytes_ = reinterpret_cast<pto_lib_int_fn>(resolve("pto_lib_arena_bytes"))();
}

Library::~Library() {
    if (handle_ != nullptr) dlclose(handle_);
}

void* Library::resolve(const char* name) {
    dlerror();
    void* p = dlsym(handle_, name);
    if (p == nullptr) {
        const char* why = dlerror();
        std::string msg = "generated library " + path_ + " lacks entry " + name + ": " +
                          (why ? why : "?");
        dlclose(handle_);
        handle_ = nullptr;
        throw LoadError(msg);
    }
    return p;
}

RunResult::~RunResult() {
    if (sim != nullptr) pto_sim_destroy(sim);
}

std::unique_ptr<RunResult> run(const Library& lib, const RunInputs& in) {
    auto mismatch = [&](const char* what, std::size_t have, int64_t want) {
        throw std::invalid_argument(std::string("run of ") + lib.path() + ": " + what + " " +
                                    std::to_string(have) + " given, the library expects " +
                                    std::to_string(want));
    };
    if (static_cast<int64_t>(in.tensors.size()) != lib.num_tensors())
        mismatch("tensors:", in.tensors.size(), lib.num_tensors());
    if (in.symbols.size() != lib.symbol_names().size())
        mismatch("symbols:", in.symbols.size(), static_cast<int64_t>(lib.symbol_names().size()));
    if (in.params.size() != lib.param_names().size())
        mismatch("params:", in.params.size(), static_cast<int64_t>(lib.param_names().size()));
    if (in.kernel_cycles.size() != lib.kernel_names().size())
        mismatch("kernel costs:", in.kernel_cycles.size(),
                 static_cast<int64_t>(lib.kernel_names().size()));
    if (in.n_slots < lib.num_slots())
        mismatch("slots:", static_cast<std::size_t>(in.n_slots), lib.num_slots());

    auto res = std::make_unique<RunResult>();
    if (const char* bad = pto_sim_config_check(&in.config)) {
        res->error = std::string("invalid simulator configuration: ") + bad;
        return res;
    }
    const auto t0 = std::chrono::steady_clock::now();
    res->sim = pto_sim_create(&in.config);
    if (res->sim == nullptr) {
        res->error = "the simulator could not be created";
        return res;
    }
    const std::size_t arena_bytes = static_cast<std::size_t>(std::max<int64_t>(lib.arena_bytes(), 64));
    void* arena = std::aligned_alloc(64, (arena_bytes + 63) / 64 * 64);
    if (arena == nullptr) {
        res->error = "out of memory for the kernel tile arena";
        return res;
    }
    char error[1024];
    error[0] = '\0';
    pto_abi_run r{};
    r.tensors = in.tensors.data();
    r.n_tensors = static_cast<int32_t>(in.tensors.size());
    r.symbols = in.symbols.data();
    r.n_symbols = static_cast<int32_t>(in.symbols.size());
    r.params = in.params.data();
    r.n_params = static_cast<int32_t>(in.params.size());
    r.slots = in.slots;
    r.n_slots = in.n_slots;
    r.kernel_cycles = in.kernel_cycles.data();
    r.n_kernels = static_cast<int32_t>(in.kernel_cycles.size());
    r.load_rate = in.load_rate;
    r.store_rate = in.store_rate;
    r.sim = res->sim;
    r.arena = arena;
    r.arena_bytes = static_cast<int64_t>(arena_bytes);
    r.error = error;
    r.error_cap = sizeof error;
    r.current = pto_abi_current_task();  // this thread's record; arms the crash handlers
    std::vector<const char*> sources;
    for (const auto& s : lib.sources()) sources.push_back(s.c_str());
    pto_abi_set_sources(sources.data(), static_cast<int32_t>(sources.size()));
    const int32_t rc = lib.run_fn()(&r);
    *r.current = pto_abi_current{};  // a kernel that threw returned without clearing it
    char expanded[sizeof error + 4096];  // the error, naming the real source files
    pto_abi_expand_sources(error, expanded, sizeof expanded);
    pto_abi_set_sources(nullptr, 0);
    std::free(arena);
    pto_sim_finish(res->sim);
    res->execute_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    res->ok = rc == 0;
    if (!res->ok) res->error = expanded[0] != '\0' ? expanded : "the generated program failed";
    res->task_count = pto_sim_task_count(res->sim);
    res->total_cycles = pto_sim_total_cycles(res->sim);
    for (int32_t w = 0; w < pto_sim_workers(res->sim); ++w)
        res->worker_busy.push_back(pto_sim_worker_busy(res->sim, w));
    return res;
}

}  // namespace pto::exec
