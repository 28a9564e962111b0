/* PTO-WSP cycle-level scheduling simulator: the C interface generated drivers call.
 *
 * A generated workload driver enumerates tasks in program order, runs each task's numerics and
 * calls pto_sim_submit() to account its cycles. The simulator places the task on a worker, fixes
 * its start and end cycle under the configured dispatch, stream, timing and task-window policies,
 * and (optionally) appends a trace record. The full model is documented in docs/semantics.md,
 * section "Scheduling model".
 *
 * This header is deliberately light (only <stdint.h>) so that generated code compiles fast; it is
 * valid C and C++. All functions are implemented in sim.cpp inside libpto_runtime.
 */
#ifndef PTO_RUNTIME_SIM_H
#define PTO_RUNTIME_SIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Dispatch policies: how a task picks its worker. */
enum pto_sim_dispatch {
    PTO_SIM_ROUND_ROBIN = 0, /* submission index mod workers */
    PTO_SIM_AFFINITY = 1,    /* dispatch_key mod workers (normalised non-negative) */
    PTO_SIM_HASH = 2,        /* splitmix64(dispatch_key) mod workers */
    PTO_SIM_DISPATCH_BY = 3, /* same placement as AFFINITY; the key comes from a user function */
    PTO_SIM_WORK_STEAL = 4   /* home is round robin; an earlier-free worker steals the task */
};

/* Timing policies: when a task may be issued to its worker. */
enum pto_sim_timing {
    PTO_SIM_IMMEDIATE = 0,   /* no constraint */
    PTO_SIM_BATCHED = 1,     /* groups of timing_param submissions, issued when all are ready */
    PTO_SIM_INTERLEAVED = 2, /* issue rotates over timing_param lanes (stream_key mod k) */
    PTO_SIM_RATE_LIMIT = 3   /* at most timing_param tasks per millisecond of simulated time */
};

typedef struct pto_sim_config {
    int32_t workers;       /* >= 1 (default 4) */
    int32_t dispatch;      /* enum pto_sim_dispatch */
    int32_t streams;       /* 0 = no streams, else tasks go to stream stream_key mod streams */
    int32_t timing;        /* enum pto_sim_timing */
    double timing_param;   /* batched: n >= 1, interleaved: k >= 1, rate_limit: tasks/ms > 0 */
    int64_t window;        /* task window in tasks, 0 = unlimited; mode is always "stall" */
    double ns_per_cycle;   /* > 0 (default 1.0): converts rate_limit's milliseconds to cycles */
    int32_t trace;         /* non-zero: record one pto_sim_record per task */
    int64_t trace_reserve; /* expected task count: the trace buffer is reserved up front */
} pto_sim_config;

/* One task as the driver submits it. Unused loop indices are -1. */
typedef struct pto_sim_task {
    int32_t kernel;       /* kernel id (recorded in the trace) */
    int32_t reserved;     /* keep 0 */
    int64_t cycles;       /* cost of the task, >= 0 */
    int64_t dispatch_key; /* used by affinity / hash / dispatch_by */
    int64_t stream_key;   /* used when streams > 0 and by interleaved timing */
    int64_t min_start;    /* earliest start from static dependencies the driver resolved */
    int32_t idx[4];       /* loop indices, -1 when absent */
} pto_sim_task;

/* One trace record (48 bytes, naturally aligned; Python views it as a structured array). */
typedef struct pto_sim_record {
    uint32_t task;   /* submission index */
    int32_t kernel;
    int32_t worker;
    int32_t stream;  /* -1 when streams == 0 */
    int64_t start;
    int64_t end;
    int32_t idx[4];
} pto_sim_record;

/* Returned by pto_sim_submit() when a buffering timing policy (batched, interleaved) holds the
 * task, so its end is not fixed yet; pto_sim_task_end() then fixes and returns it. */
#define PTO_SIM_PENDING ((int64_t)-1)

typedef struct pto_sim pto_sim;

/* Fills *cfg with the defaults (4 workers, round robin, no streams, immediate, no window,
 * 1 ns per cycle, trace on). */
void pto_sim_config_init(pto_sim_config* cfg);

/* NULL when *cfg is valid, else a static message naming the offending field. */
const char* pto_sim_config_check(const pto_sim_config* cfg);

/* A new simulator, or NULL when pto_sim_config_check() rejects *cfg. */
pto_sim* pto_sim_create(const pto_sim_config* cfg);
void pto_sim_destroy(pto_sim* sim);

/* Declares a half-open element range [lo, hi) of tensor `tensor` that the NEXT submitted task
 * reads (is_write == 0) or writes. Call once per contiguous run for strided regions. */
void pto_sim_access(pto_sim* sim, int32_t tensor, int64_t lo, int64_t hi, int32_t is_write);

/* Submits the next task in program order. Returns its end cycle, or PTO_SIM_PENDING when the
 * timing policy buffers it (batched / interleaved). */
int64_t pto_sim_submit(pto_sim* sim, const pto_sim_task* task);

/* The end cycle of task `task` (a submission index). If the task is still buffered, the buffer is
 * issued now (something depends on it, so a real dispatcher could not hold it either). Returns -1
 * when the end was not retained (trace disabled under a non-buffering timing policy: the driver
 * already got it from pto_sim_submit) or `task` was never submitted. */
int64_t pto_sim_task_end(pto_sim* sim, uint32_t task);

/* Issues every buffered task now (a partial batch / interleave round). */
void pto_sim_flush(pto_sim* sim);

/* End of the program: flushes. Statistics are final after this call. */
void pto_sim_finish(pto_sim* sim);

int64_t pto_sim_total_cycles(const pto_sim* sim); /* makespan: max end, 0 without tasks */
uint64_t pto_sim_task_count(const pto_sim* sim);  /* tasks submitted */
/* The simulator's live submission counter (always equal to pto_sim_task_count()), valid until
 * pto_sim_destroy(): code that needs the count after every possible interleaving (CSP processes)
 * reads it with a load instead of a call. */
const uint64_t* pto_sim_task_counter(const pto_sim* sim);
int32_t pto_sim_workers(const pto_sim* sim);
int64_t pto_sim_worker_busy(const pto_sim* sim, int32_t worker); /* sum of cycles run */

/* The trace: records of issued tasks in issue order; valid until the next submit/flush. */
const pto_sim_record* pto_sim_trace_data(const pto_sim* sim);
uint64_t pto_sim_trace_length(const pto_sim* sim);

/* Like pto_sim_trace_data(), but the returned block stays valid (frozen at its current length)
 * until pto_sim_destroy(), even if later submits grow the trace: for zero-copy views. */
const pto_sim_record* pto_sim_trace_view(pto_sim* sim);

/* Benchmark helper: submits n_tasks tasks of a flat grid (kernel 0, idx0 = i, dispatch and stream
 * key = i, `cycles` each) through pto_sim_submit() and returns the wall time in seconds. */
double pto_sim_bench_grid(pto_sim* sim, uint64_t n_tasks, int64_t cycles);

/* splitmix64 finaliser used by the hash dispatch policy (exposed for tests and code generators). */
uint64_t pto_sim_splitmix64(uint64_t x);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PTO_RUNTIME_SIM_H */
