/* The ABI between a generated cpu_sim library and the runtime (libpto_runtime).
 *
 * A generated library (emitted by cpp_backend/codegen/cpu_sim.cpp, built by
 * pto_wsp/backends/cpu_sim.py) exports the `pto_lib_*` entries below. The runtime side
 * (runtime/exec.cpp) dlopens it, checks `pto_lib_abi_version()`, fills one `pto_abi_run` from the
 * user's buffers, the cost table and a simulator it created from the IR schedule, and calls
 * `pto_lib_run()`. The library enumerates the tasks, runs each task's numerics on the user's
 * buffers, and submits each task to the simulator; nothing else crosses the boundary.
 *
 * Everything a run needs is in `pto_abi_run`, so a library holds no mutable global state and two
 * runs (of one library, in two threads) never share anything but the read-only code.
 *
 * This header is valid C and C++ and pulls in only <stdint.h> plus the runtime's C headers, so a
 * generated translation unit stays cheap to compile.
 */
#ifndef PTO_RUNTIME_ABI_H
#define PTO_RUNTIME_ABI_H

#include <stdint.h>

#include "fault.h"
#include "sim.h"
#include "tile.h"

/* Bump whenever pto_abi_run or the exported entries change: the cache key includes the runtime
 * library hash, and exec.cpp refuses a library built against another version. */
#define PTO_ABI_VERSION 2
#define PTO_ABI_MAX_DIMS 8

#ifdef __cplusplus
extern "C" {
#endif

/* One module tensor as the run binds it: the user's numpy buffer. Strides are in ELEMENTS. */
typedef struct pto_abi_tensor {
    void* data;
    int32_t dtype; /* a pto_dtype_code */
    int32_t ndim;
    int64_t shape[PTO_ABI_MAX_DIMS];
    int64_t strides[PTO_ABI_MAX_DIMS];
} pto_abi_tensor;

/* Everything one run of a generated library reads or writes. */
typedef struct pto_abi_run {
    const pto_abi_tensor* tensors; /* by IR tensor id */
    int32_t n_tensors;
    int32_t n_symbols;
    const int64_t* symbols; /* values, in the order of pto_lib_symbol_names() */
    const int64_t* params;  /* values, in the order of pto_lib_param_names() */
    int32_t n_params;
    int32_t n_slots;
    uint64_t* slots; /* runtime slots (slot_set / slot_load / Expr.slot) */
    /* Cost of one task of kernel k, in cycles, from the cost table (computed at run time, so a
     * new cost table needs no rebuild). -1: derived from the task's views as
     * load_rate * (elements of In/InOut views) + store_rate * (elements of Out/InOut views). */
    const int64_t* kernel_cycles;
    int32_t n_kernels;
    int32_t reserved;
    double load_rate;  /* cycles per element loaded */
    double store_rate; /* cycles per element stored */
    pto_sim* sim;
    void* arena; /* scratch for kernel-local tiles, >= pto_lib_arena_bytes(), 64-byte aligned */
    int64_t arena_bytes;
    char* error; /* message of a failed run (NUL-terminated, truncated to error_cap) */
    int64_t error_cap;
    /* The run thread's current-task record (fault.h): the driver points it at each kernel
     * task it runs, for crash, exit and exception messages. Never NULL. */
    pto_abi_current* current;
} pto_abi_run;

/* ---- exported by every generated library ----------------------------------------------- */
typedef int32_t (*pto_lib_abi_version_fn)(void);
typedef int32_t (*pto_lib_run_fn)(pto_abi_run* run); /* 0 = ok, else run->error says why */
/* NULL-terminated name lists */
typedef const char* const* (*pto_lib_names_fn)(void);
typedef int64_t (*pto_lib_int_fn)(void);
/*   int32_t pto_lib_abi_version(void);
 *   int32_t pto_lib_run(pto_abi_run*);
 *   const char* const* pto_lib_symbol_names(void);   runtime symbols (Expr.symbol)
 *   const char* const* pto_lib_param_names(void);    workload scalar params (Expr.param)
 *   const char* const* pto_lib_kernel_names(void);   by IR kernel id
 *   int64_t pto_lib_num_tensors(void);
 *   int64_t pto_lib_num_slots(void);                 slots the program uses (max index + 1)
 *   int64_t pto_lib_arena_bytes(void);               */

/* ---- provided by libpto_runtime for generated code -------------------------------------- */

/* Formats a message into run->error and returns 1 (so generated code writes
 * `return pto_abi_fail(R, ...)`). printf-style. */
int32_t pto_abi_fail(pto_abi_run* run, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A C++ exception left the kernel of `site` while it ran `task`: formats
 * "[pto:KernelError] kernel K threw a C++ exception in task K[i, j] (FILE:LINE): WHAT" into
 * run->error and returns 1 (generated code writes `return pto_abi_kernel_error(...)`).
 * `what` NULL: the exception was not a std::exception. */
int32_t pto_abi_kernel_error(pto_abi_run* run, const pto_abi_site* site, const pto_sim_task* task,
                             const char* what);

/* Declares to the simulator the elements of tensor `tensor` that a strided view touches
 * (element `offset + sum_i k_i * strides[i]` for 0 <= k_i < extents[i]), for the NEXT submitted
 * task (Deps.infer()). Contiguous views give one range; a view with one strided level (a column
 * tile, a 2-D box) one strided region, compared exactly whatever its number of runs; deeper views
 * one strided region per index of their outer levels while there are at most PTO_ABI_MAX_PIECES,
 * else one bounding range (conservative: it may order tasks that touch interleaved but disjoint
 * elements). */
#define PTO_ABI_MAX_PIECES 4096
void pto_abi_access_view(pto_sim* sim, int32_t tensor, int64_t offset, int32_t ndim,
                         const int64_t* extents, const int64_t* strides, int32_t is_write);

/* Deps.infer("bounding"): declares the bounding element range of the same view (one range per
 * access; cheaper, may order tasks that touch disjoint elements). */
void pto_abi_access_bounding(pto_sim* sim, int32_t tensor, int64_t offset, int32_t ndim,
                             const int64_t* extents, const int64_t* strides, int32_t is_write);

#ifdef __cplusplus
} /* extern "C" */

/* Scalar-expression helpers (Python semantics for // and %). Inline: generated drivers only. */
static inline int64_t pto_abi_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}
static inline int64_t pto_abi_mod(int64_t a, int64_t b) {
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline double pto_abi_fmod(double a, double b) {
    double r = __builtin_fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline double pto_abi_ffloordiv(double a, double b) { return __builtin_floor(a / b); }
/* A runtime symbol bound to a float parameter (Expr.symbol_f32): the f32 whose bits are the
 * symbol's low 32 bits (Program.set_symbol_f32 stores them there). */
static inline float pto_abi_bits_f32(int64_t v) {
    const uint32_t u = (uint32_t)(uint64_t)v;
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
}
/* Cycles ptoisa.cpu_sim_add_cycles adds to a task: rounded to the nearest integer; a negative
 * or NaN value adds nothing, a huge one at most 2^62 (a task's cycles stay a valid int64). */
static inline int64_t pto_abi_add_cycles(double v) {
    if (!(v > 0)) return 0;
    return v >= 4611686018427387904.0 ? (int64_t)4611686018427387904LL : (int64_t)(v + 0.5);
}
#endif

#endif /* PTO_RUNTIME_ABI_H */
