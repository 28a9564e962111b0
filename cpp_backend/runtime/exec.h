// Loading and running a generated cpu_sim library (the runtime half of runtime/abi.h).
//
// `Library` dlopens a built artifact and resolves its `pto_lib_*` entries, refusing a library of
// another ABI version; its `sources` are the paths the library's source tokens stand for
// (runtime/fault.h: a cached build names no user path, the loader gives them). `run()` creates a simulator from the schedule's config, binds the user's
// buffers, the runtime symbols / params / slots and the cost table into one `pto_abi_run`, and
// calls the library. It touches no Python object, so the binding calls it with the GIL released.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/abi.h"

namespace pto::exec {

/// dlopen / symbol / ABI-version failure of a generated library.
class LoadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Library {
public:
    explicit Library(const std::string& path, std::vector<std::string> sources = {});
    ~Library();
    Library(const Library&) = delete;
    Library& operator=(const Library&) = delete;

    const std::string& path() const { return path_; }
    int32_t abi_version() const { return abi_version_; }
    const std::vector<std::string>& symbol_names() const { return symbols_; }
    const std::vector<std::string>& param_names() const { return params_; }
    const std::vector<std::string>& kernel_names() const { return kernels_; }
    int64_t num_tensors() const { return num_tensors_; }
    int64_t num_slots() const { return num_slots_; }
    int64_t arena_bytes() const { return arena_bytes_; }
    const std::vector<std::string>& sources() const { return sources_; }
    pto_lib_run_fn run_fn() const { return run_; }

private:
    void* resolve(const char* name);

    std::string path_;
    void* handle_ = nullptr;
    int32_t abi_version_ = 0;
    pto_lib_run_fn run_ = nullptr;
    std::vector<std::string> symbols_, params_, kernels_, sources_;
    int64_t num_tensors_ = 0, num_slots_ = 0, arena_bytes_ = 0;
};

/// Everything a run binds besides the library (see pto_abi_run).
struct RunInputs {
    std::vector<pto_abi_tensor> tensors;  // by IR tensor id
    std::vector<int64_t> symbols;         // in Library::symbol_names() order
    std::vector<int64_t> params;          // in Library::param_names() order
    uint64_t* slots = nullptr;            // caller-owned, n_slots entries
    int32_t n_slots = 0;
    std::vector<int64_t> kernel_cycles;   // by IR kernel id; -1 = from views
    double load_rate = 1.0;
    double store_rate = 1.0;
    pto_sim_config config{};
};

/// Outcome of one run. Owns the simulator, so the trace stays valid while the result lives.
struct RunResult {
    RunResult() = default;
    ~RunResult();
    RunResult(const RunResult&) = delete;
    RunResult& operator=(const RunResult&) = delete;

    pto_sim* sim = nullptr;
    bool ok = false;
    std::string error;  // set when !ok
    uint64_t task_count = 0;
    int64_t total_cycles = 0;
    double execute_ms = 0.0;  // wall time of pto_lib_run, simulator creation included
    std::vector<int64_t> worker_busy;
};

/// Runs `lib` once. Never throws for errors of the program itself (bad index, bad config):
/// those come back in RunResult::error; throws std::invalid_argument for a binding mismatch
/// (wrong number of tensors / symbols / params / kernels), which is a bug of the caller.
std::unique_ptr<RunResult> run(const Library& lib, const RunInputs& in);

}  // namespace pto::exec
