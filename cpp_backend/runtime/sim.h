/* PTO-WSP cycle-level scheduling simulator: the C interface generated drivers call.
 *
 * A generated workload driver enumerates tasks in program order, runs each task's numerics and
 * calls pto_sim_submit() to account its cycles. The simulator places the task on a worker, fixes
 * its start and end cycle under the configured dispatch, stream, timing and task-window policies,
 * and (optionally) appends a trace record. The full model is documented in docs/semantics.md,
 * section "Scheduling model".
 *
 * This header is deliberately light (<stdint.h> and the generated macros of pto_tables.h) so that
 * generated code compiles fast; it is valid C and C++. All functions are implemented in sim.cpp inside libpto_runtime.
 */
#ifndef PTO_RUNTIME_SIM_H
#define PTO_RUNTIME_SIM_H

#include <stdint.h>

#include "pto_tables.h" /* PTO_TABLE_DEFAULT_WORKERS, PTO_WAIT_* */

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

/* Ready policies: the order in which a worker takes its ready tasks (docs/semantics.md,
 * "Task-graph policies"). IN_ORDER places each task as it is issued (head-of-line: a worker runs
 * its tasks in issue order); the others hold issued tasks in a group and list-schedule it. */
enum pto_sim_ready {
    PTO_SIM_READY_IN_ORDER = 0, /* no ready queue (default) */
    PTO_SIM_READY_FIFO = 1,     /* the earliest-issued ready task first */
    PTO_SIM_READY_LIFO = 2,     /* the latest-issued ready task first */
    PTO_SIM_READY_PRIORITY = 3  /* the smallest pto_sim_task.ready_key first, ties in issue order */
};

/* Workers of a run that asks for none (the IR's schedule and the bindings take it from here).
 * Its one definition is pto_wsp/compiler/workers.py DEFAULT_WORKERS, written into the generated
 * pto_tables.h at build time (installed beside runtime/, so generated code finds it too). */
#define PTO_SIM_DEFAULT_WORKERS PTO_TABLE_DEFAULT_WORKERS

/* Ready-policy groups close at the task window size, else at this many tasks. */
#define PTO_SIM_READY_GROUP 4096

typedef struct pto_sim_config {
    int32_t workers;       /* >= 1 (default PTO_SIM_DEFAULT_WORKERS) */
    int32_t dispatch;      /* enum pto_sim_dispatch */
    int32_t streams;       /* 0 = no streams, else tasks go to stream stream_key mod streams */
    int32_t timing;        /* enum pto_sim_timing */
    double timing_param;   /* batched: n >= 1, interleaved: k >= 1, rate_limit: tasks/ms > 0 */
    int64_t window;        /* task window in tasks, 0 = unlimited; mode is always "stall" */
    double ns_per_cycle;   /* > 0 (default 1.0): converts rate_limit's milliseconds to cycles */
    int32_t trace;         /* non-zero: record one pto_sim_record per task */
    int64_t trace_reserve; /* expected task count: the trace buffer is reserved up front */
    /* Task-graph policies (docs/semantics.md, "Task-graph policies"); the defaults keep the
     * in-order, eager behaviour. */
    double issue_cycles;     /* cycles the dispatcher spends issuing one task, >= 0 (default 0) */
    int32_t ready_policy;    /* enum pto_sim_ready (default PTO_SIM_READY_IN_ORDER) */
    int64_t start_threshold; /* 0 = eager; n >= 1: no task starts before the n-th issue */
    int32_t n_pools;         /* worker pools, 0 = none */
    int32_t n_kernel_pools;  /* entries of kernel_pool */
    const int32_t* pool_sizes;  /* n_pools sizes >= 1: pool p = the next pool_sizes[p] workers,
                                   in order from worker 0; copied by pto_sim_create() */
    const int32_t* kernel_pool; /* by kernel id: its pool, or -1 = any worker (kernel ids past
                                   n_kernel_pools too); copied by pto_sim_create() */
    /* The mesh (spatial_map, docs/semantics.md "Spatial map"): 0 = none (no hop costs); c > 0:
     * the workers are the tiles of a (workers / c) x c grid, worker w at row w / c, column w % c,
     * and data read on another tile than the one holding it costs `hop` cycles per hop of
     * Manhattan distance. */
    int32_t mesh_cols; /* >= 0, workers a multiple of it (default 0) */
    double hop;        /* cycles per hop, finite >= 0 (default 16.0) */
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
    int64_t ready_key;    /* used by the priority ready policy (smallest first) */
    /* What set min_start, recorded as the task's gating cause when it wins: the task whose end
     * it is (PTO_WAIT_NO_GATE: none) and its PTO_WAIT_* kind (the same layout as
     * pto_sim_record's gate and cause). With min_start <= 0 they must be PTO_WAIT_NO_GATE and
     * PTO_WAIT_NONE (the plain path copies them without looking at min_start). */
    uint32_t min_gate;
    int32_t min_cause;
} pto_sim_task;

/* One trace record (56 bytes, naturally aligned; Python views it as a structured array).
 * `cause` is the PTO_WAIT_* kind of the bound that fixed `start` (the latest bound; equal bounds
 * go by PTO_WAIT_* order; PTO_WAIT_NONE when start is 0) and `gate` the submission index of the
 * task whose end produced that bound, or PTO_WAIT_NO_GATE (pto_wsp/runtime/wait_causes.py); a
 * record whose cause is PTO_WAIT_NONE has no gate, whatever `gate` holds. */
typedef struct pto_sim_record {
    uint32_t task;   /* submission index */
    int32_t kernel;
    int32_t worker;
    int32_t stream;  /* -1 when streams == 0 */
    int64_t start;
    int64_t end;
    int32_t idx[4];
    uint32_t gate;   /* the gating task's submission index, PTO_WAIT_NO_GATE = none */
    int32_t cause;   /* PTO_WAIT_* */
} pto_sim_record;

/* Returned by pto_sim_submit() when a buffering timing policy (batched, interleaved), a ready
 * policy group or a closed start threshold holds the task, so its end is not fixed yet;
 * pto_sim_task_end() then fixes and returns it. */
#define PTO_SIM_PENDING ((int64_t)-1)

typedef struct pto_sim pto_sim;

/* Fills *cfg with the defaults (PTO_SIM_DEFAULT_WORKERS workers, round robin, no streams, immediate, no window,
 * 1 ns per cycle, trace on, no issue cost, in-order, eager start, no pools, no mesh, hop 16). */
void pto_sim_config_init(pto_sim_config* cfg);

/* NULL when *cfg is valid, else a static message naming the offending field. */
const char* pto_sim_config_check(const pto_sim_config* cfg);

/* A new simulator, or NULL when pto_sim_config_check() rejects *cfg. */
pto_sim* pto_sim_create(const pto_sim_config* cfg);
void pto_sim_destroy(pto_sim* sim);

/* Declares a half-open element range [lo, hi) of tensor `tensor` that the NEXT submitted task
 * reads (is_write == 0) or writes. */
void pto_sim_access(pto_sim* sim, int32_t tensor, int64_t lo, int64_t hi, int32_t is_write);

/* Declares a strided region of tensor `tensor` for the NEXT submitted task: `count` runs of
 * `run_len` elements, run i starting at base + i * stride (a negative stride walks the same
 * elements backwards; runs that touch or overlap form one range; run_len or count <= 0 touches
 * nothing). Compared exactly against other regions; a region whose stride is the tensor's row
 * pitch costs the same as one range however many runs it has (docs/semantics.md, "Regions"). */
void pto_sim_access_strided(pto_sim* sim, int32_t tensor, int64_t base, int64_t run_len,
                            int64_t stride, int64_t count, int32_t is_write);

/* Mesh only: where the blocks of tensor `tensor` live, for reads of elements never written in the
 * run. shape / strides (in elements) describe the bound array; coord[d] is the mesh coordinate
 * dimension d is sharded over (0 = row, 1 = column, -1 = replicated) and coord_size[d] the mesh
 * extent along it: block k of ceil(shape[d] / coord_size[d]) indices lives on the tiles whose
 * coordinate is k. A tensor with no sharded dimension is local everywhere. */
void pto_sim_tensor_home(pto_sim* sim, int32_t tensor, int32_t ndim, const int64_t* shape,
                         const int64_t* strides, const int32_t* coord, const int64_t* coord_size);

/* 0 while tensor `tensor` is tracked as a 1-D interval map, else the row pitch of its 2-D region
 * map (the stride of the first strided region declared for it): for tests and tools. */
int64_t pto_sim_region_pitch(const pto_sim* sim, int32_t tensor);

/* Submits the next task in program order. Returns its end cycle, or PTO_SIM_PENDING when it is
 * held (batched / interleaved timing, a ready-policy group, a closed start threshold). */
int64_t pto_sim_submit(pto_sim* sim, const pto_sim_task* task);

/* Submits a GANG task: one operation that occupies the n workers `workers` (distinct, each in
 * [0, workers)) together, such as a collective over the mesh (docs/semantics.md, "Layouts and
 * collectives"). Every held task is issued and placed first (a gang is a synchronisation point).
 * The gang is ready at max(min_start, the region dependencies of the accesses declared for it)
 * and starts on all n workers at once, at max(ready, issue, each worker's free time); it ends at
 * start + cycles on each of them. It takes n consecutive submission indices, one trace record
 * each (in the order of `workers`), so the driver counts n tasks. Streams and dispatch do not
 * apply. Returns the end cycle, or -2 when `workers` is invalid (nothing is submitted). */
int64_t pto_sim_submit_gang(pto_sim* sim, const pto_sim_task* task, const int32_t* workers,
                            int32_t n);

/* The end cycle of task `task` (a submission index). If the task is still held, every held task
 * is issued and placed now (something depends on it, so a real dispatcher could not hold it
 * either). Returns -1 when the end was not retained (trace disabled and nothing ever held: the
 * driver already got it from pto_sim_submit) or `task` was never submitted. */
int64_t pto_sim_task_end(pto_sim* sim, uint32_t task);

/* Issues and places every held task now (a partial batch / interleave round, a ready-policy
 * group, an unmet start threshold). */
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

/* splitmix64 finaliser used by the hash dispatch policy (exposed for tests and code generators). */
uint64_t pto_sim_splitmix64(uint64_t x);

/* ---- inline fast path ------------------------------------------------------------------------
 * The common case of pto_sim_submit(), inlined into generated drivers over the simulator's hot
 * state so that a task costs no library call: immediate timing, no window, no issue cost, no
 * streams, round-robin dispatch over a power-of-two number of workers, no pools, no accesses
 * declared for the task and room in the trace buffer. Placement, statistics and the trace record
 * are the library's (start = max(min_start, 0, worker free), the worker's last task as the gate
 * when the worker is what waited); any other case calls pto_sim_submit(). The layout is private
 * to one build of libpto_runtime and the generated code compiled against the same header. */

/* Per worker (the simulator's own worker records). */
typedef struct pto_sim_worker {
    int64_t free_at; /* cycle at which it becomes free */
    uint64_t last;   /* its last task and PTO_WAIT_WORKER, packed as pto_sim_record's gate, cause */
    int64_t busy;    /* cycles spent running tasks */
} pto_sim_worker;

/* The trace records (appended in place while size < cap). */
typedef struct pto_sim_trace_buf {
    pto_sim_record* data;
    uint64_t size, cap;
} pto_sim_trace_buf;

typedef struct pto_sim_hot {
    uint64_t task_count;      /* tasks submitted (pto_sim_task_counter() points here) */
    int64_t makespan;         /* max end */
    pto_sim_worker* wk;       /* `workers` records */
    pto_sim_trace_buf* trace; /* NULL when the trace is off */
    uint32_t worker_mask;     /* workers - 1 (used only when `fast`: workers is a power of two) */
    int32_t fast;             /* non-zero: the next task may take the inline path */
} pto_sim_hot;

pto_sim_hot* pto_sim_hot_of(pto_sim* sim);

#if defined(__GNUC__)
#define PTO_SIM_INLINE static inline __attribute__((always_inline))
#define PTO_SIM_COPY(dst, src, n) __builtin_memcpy((dst), (src), (n))
#else
#define PTO_SIM_INLINE static inline
#define PTO_SIM_COPY(dst, src, n) memcpy((dst), (src), (n))
#endif

/* pto_sim_submit(sim, t), inline in the common case (see above); H = pto_sim_hot_of(sim).
 * Generated code is built at -O1, where the compiler keeps a value in a register only as long
 * as no store may alias it: every input is read before the first store. */
PTO_SIM_INLINE int64_t pto_sim_submit_inline(pto_sim* sim, pto_sim_hot* H,
                                             const pto_sim_task* t) {
    pto_sim_trace_buf* const tb = H->trace;
    if (!H->fast) return pto_sim_submit(sim, t);
    pto_sim_record* r = 0;
    uint64_t size = 0;
    if (tb != 0) {
        size = tb->size;
        if (size == tb->cap) return pto_sim_submit(sim, t);
        r = tb->data + size;
    }
    const uint64_t n = H->task_count;
    const int64_t makespan = H->makespan;
    const uint32_t w = (uint32_t)n & H->worker_mask;
    pto_sim_worker* const k = H->wk + w;
    const int64_t free_at = k->free_at;
    const int64_t cycles = t->cycles;
    int64_t start = t->min_start > 0 ? t->min_start : 0;
    /* (min_gate, min_cause) as one word, the layout of pto_sim_record's (gate, cause); it is
     * (PTO_WAIT_NO_GATE, PTO_WAIT_NONE) at 0 (pto_sim_task). Every min_start kind goes before
     * "worker" on ties. */
    uint64_t why;
    PTO_SIM_COPY(&why, &t->min_gate, sizeof why);
    if (free_at > start) {
        start = free_at;
        why = k->last;
    }
    const int64_t end = start + cycles;
    H->task_count = n + 1;
    k->free_at = end;
    k->last = (n & 0xffffffffu) | ((uint64_t)(uint32_t)PTO_WAIT_WORKER << 32);
    k->busy += cycles;
    if (end > makespan) H->makespan = end;
    if (r != 0) {
        tb->size = size + 1;
        r->task = (uint32_t)n;
        r->kernel = t->kernel;
        r->worker = (int32_t)w;
        r->stream = -1;
        r->start = start;
        r->end = end;
        PTO_SIM_COPY(r->idx, t->idx, sizeof r->idx);
        PTO_SIM_COPY(&r->gate, &why, sizeof why);
    }
    return end;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PTO_RUNTIME_SIM_H */
