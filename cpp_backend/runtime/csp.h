/* PTO-WSP CSP engine: channels, processes and events in simulated time (spec §3.7, §7).
 *
 * A generated cpu_sim driver runs each CSP process of a pipeline as a fiber (its own stack,
 * switched in user space). The engine is a discrete-event loop over those fibers: every action a
 * process takes (a task's numerics + submission, a send reservation / commit, a take / release of
 * a channel item, a record / synchronize of an event) happens when the process's simulated clock
 * is the smallest of all runnable processes, so actions run in simulated-time order and the
 * numerics of a consumer's task for item k always run after the producer's task for item k.
 *
 * Channel model (docs/semantics.md, "CSP execution"): a channel of depth d has max(d, 1) slots.
 * `send(ch, task)` first RESERVES a slot (blocking while all are in use: back-pressure), then
 * runs the task, then COMMITS the item at the task's end. A consumer TAKES items in order and
 * RELEASES the slot when its body iteration for that item ends, so depth 2 is double
 * buffering. Depth 0 is a rendezvous: a reservation also needs a consumer waiting to take. A
 * channel's latency L (pto_csp_channel_latency, default 0) delays each item: committed at
 * cycle t, it can be taken at t + L (a take completes at max(taker's clock, t + L)); the item
 * holds its slot while in flight. A
 * buffer that every item of a channel of depth d >= 2 writes the same part of (a shared staging
 * buffer; the code generator decides) is a rotating buffer of d copies (copy 0 is the user's
 * array): item k uses copy k mod d on both sides. A buffer whose items write separate regions
 * is written in place and does not rotate.
 *
 * When no process can act and some have not finished, the run stops with a deadlock error naming
 * the processes and channels / events of the wait cycle and the simulated cycle. Errors are
 * reported through pto_abi_fail() with a "[pto:<Kind>] " prefix (DeadlockError, ChannelFull,
 * ChannelClosed) that the Python side maps to its exception classes.
 *
 * Gates (docs/semantics.md, "Gates of CSP waits"): every clock value the engine hands a process
 * comes with the submission index of the task whose end gave it (PTO_WAIT_NO_GATE: none), so a
 * task whose start a channel or event wait fixed records the task it waited for. Actions that
 * publish a cycle (commit, release, close, exit, record) take the caller's gate of that cycle;
 * actions that may wait (reserve, take, synchronize) take the caller's gate in *gate and return
 * the gate of the cycle they return there.
 *
 * Valid C and C++; the includes are abi.h and pto_tables.h. Implemented in csp.cpp (libpto_runtime).
 */
#ifndef PTO_RUNTIME_CSP_H
#define PTO_RUNTIME_CSP_H

#include <stdint.h>

#include "abi.h"
#include "pto_tables.h" /* PTO_WAIT_NO_GATE */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pto_csp pto_csp;

/* One change of a channel's occupancy (slots in use), 16 bytes. */
typedef struct pto_csp_occupancy {
    int64_t time;
    int32_t channel;
    int32_t occupancy;
} pto_csp_occupancy;

/* The engine type is hidden inside libpto_runtime (direct internal calls); its entries are
 * exported explicitly. */
#if defined(__GNUC__)
#define PTO_CSP_API __attribute__((visibility("default")))
#else
#define PTO_CSP_API
#endif

/* A process body: returns 0, or 1 after pto_abi_fail() (the run then stops). It must end with
 * `return pto_csp_exit(C, self, clock)`. `env` holds the values of the loop variables that
 * enclose the pipeline. */
typedef int32_t (*pto_csp_proc_fn)(pto_abi_run* R, int32_t self, const int64_t* env);

/* ---- run lifetime -------------------------------------------------------------------------- */
/* One engine per run, created by pto_lib_run() with the module's channel and event tables
 * (names and depths indexed by IR id). The engine of the calling thread's current run is
 * pto_csp_of(R). Destroying it publishes its trace (see pto_csp_take_trace). */
PTO_CSP_API pto_csp* pto_csp_create(pto_abi_run* R, int32_t n_channels, const char* const* channel_names,
                        const int64_t* channel_depths, int32_t n_events,
                        const char* const* event_names);
PTO_CSP_API void pto_csp_destroy(pto_csp* C);
/* Sets the latency of channel `ch` (cycles >= 0, default 0): an item committed at cycle t can
 * be taken from t + cycles on. Call before the first pipeline that uses the channel. */
PTO_CSP_API void pto_csp_channel_latency(pto_csp* C, int32_t ch, int64_t cycles);
PTO_CSP_API pto_csp* pto_csp_of(pto_abi_run* R);

/* ---- building one pipeline run ----------------------------------------------------------- */
/* Starts a pipeline whose processes begin at simulated cycle `start`; resets the channels it
 * uses (empty, open, item numbers from 0). */
/* `gate`: the task whose end gave `start` (each process's clock starts there with that gate). */
PTO_CSP_API void pto_csp_pipe_begin(pto_csp* C, int64_t start, uint32_t gate);
PTO_CSP_API void pto_csp_pipe_channel(pto_csp* C, int32_t ch);
/* Adds a process (one fiber); returns its index, used as `self`. */
PTO_CSP_API int32_t pto_csp_spawn(pto_csp* C, const char* name, pto_csp_proc_fn fn, const int64_t* env);
/* Declares that process `proc` sends on (produces != 0) or consumes from channel `ch`. A channel
 * with declared producers closes implicitly when all of them have finished. */
PTO_CSP_API void pto_csp_role(pto_csp* C, int32_t proc, int32_t ch, int32_t produces);
/* Declares rotating buffer `rot` of module tensor `tensor` with `copies` copies, rotated by the
 * items of channel `ch`. Returns 0, or 1 after pto_abi_fail() (out of memory). */
PTO_CSP_API int32_t pto_csp_rotate(pto_csp* C, int32_t rot, int32_t tensor, int32_t ch, int64_t copies);
/* Base pointer of copy `copy` of rotating buffer `rot` (same strides as the user's array). */
PTO_CSP_API void* pto_csp_rot_base(pto_csp* C, int32_t rot, int64_t copy);
/* Runs every process of the pipeline to completion. Returns 0 and the pipeline's end cycle in
 * *end (with its gate in *end_gate: the exit gate of the process that ended last), or 1 after pto_abi_fail() (deadlock, channel error, error of a process). Copies the
 * copy of the last item (highest item number) of each rotating buffer into the user's array. */
PTO_CSP_API int32_t pto_csp_pipe_run(pto_csp* C, int64_t* end, uint32_t* end_gate);

/* ---- actions of a running process (self >= 0) --------------------------------------------- */
/* The process's clock at start. */
PTO_CSP_API int64_t pto_csp_clock(pto_csp* C, int32_t self);
/* The gate of the current pipeline's start (pto_csp_pipe_begin). */
PTO_CSP_API uint32_t pto_csp_start_gate(pto_csp* C);
/* Ordering point: returns once `self` (at cycle `now`) is the earliest runnable process. */
PTO_CSP_API void pto_csp_at(pto_csp* C, int32_t self, int64_t now);
/* reserve and take return with the caller the earliest runnable process at the returned cycle
 * (they are ordering points themselves): an action right after them needs no pto_csp_at. */
/* Reserves a slot of `ch`; returns the cycle it was granted and the item's number in *item.
 * block == 0: a full channel is a ChannelFull error instead of a wait. `where` names the
 * statement ("send at file:line"). Never returns on error. *gate: in, the gate of `now`; out,
 * the gate of the returned cycle (a wait for a slot: the releaser's gate). */
PTO_CSP_API int64_t pto_csp_reserve(pto_csp* C, int32_t self, int32_t ch, int64_t now, int32_t block,
                        const char* where, int64_t* item, uint32_t* gate);
/* Commits reserved item `item` at cycle `now` (whose gate is `gate`, kept with the item):
 * consumers can take it from now + the channel's latency on. */
PTO_CSP_API void pto_csp_commit(pto_csp* C, int32_t self, int32_t ch, int64_t item, int64_t now,
                                uint32_t gate);
/* Takes the next item: returns 1 with its number in *item and the cycle in *now, or 0 when the
 * channel is closed and drained. *gate: in, the gate of *now; out, that of the returned *now
 * (a wait for the item: the gate its commit carried; for the close: the closer's gate). */
PTO_CSP_API int32_t pto_csp_take(pto_csp* C, int32_t self, int32_t ch, int64_t* now, int64_t* item,
                                 uint32_t* gate);
/* Tags reserved item `item` of `ch` with `value`: the first axis value of the task a send runs,
 * which a consume of the reference builder style binds instead of the item number (docs/
 * semantics.md "Coming from the reference implementation"). Call between reserve and commit. */
PTO_CSP_API void pto_csp_item_tag(pto_csp* C, int32_t ch, int64_t item, int64_t value);
/* The tag of item `item` of `ch`, or `item` itself when its send set none; forgets the tag. */
PTO_CSP_API int64_t pto_csp_item_tag_take(pto_csp* C, int32_t ch, int64_t item);
/* Ends the consume body iteration of the last item taken from `ch`: frees its slot at `now`
 * (gate: the task whose end gave `now`; a sender waiting for the slot continues with it). */
PTO_CSP_API void pto_csp_release(pto_csp* C, int32_t self, int32_t ch, int64_t now, uint32_t gate);
/* pto_csp_release for a channel with a rotating buffer, naming the item: slots free in item
 * order, so an item released before an earlier one keeps its slot until that one is released.
 * Item k + d reuses item k's copy, so its reservation must wait for item k itself, not for any
 * slot (replicated consumers release out of order). */
PTO_CSP_API void pto_csp_release_item(pto_csp* C, int32_t self, int32_t ch, int64_t item,
                                      int64_t now, uint32_t gate);
/* Closes `ch` at `now` (consumers finish once it is drained; a later send is ChannelClosed). */
PTO_CSP_API void pto_csp_close(pto_csp* C, int32_t self, int32_t ch, int64_t now, uint32_t gate);
/* Finishes the process at cycle `now` (gate: its gate; channels the process closes by finishing
 * close with it); returns 0 (use as `return pto_csp_exit(...)`). */
PTO_CSP_API int32_t pto_csp_exit(pto_csp* C, int32_t self, int64_t now, uint32_t gate);

/* ---- events (self >= 0 inside a process, -1 in the driver outside any pipeline) ----------- */
/* Adds one pending signal of `ev` at cycle `now`, whose gate is `gate`. */
PTO_CSP_API void pto_csp_record(pto_csp* C, int32_t self, int32_t ev, int64_t now, uint32_t gate);
/* Takes the oldest pending signal of `ev` (waiting for one inside a process); returns the cycle
 * at which the caller continues (>= now and >= the record's cycle). In the driver (self == -1)
 * with no pending signal nothing could ever record it: returns -1 after pto_abi_fail()
 * (DeadlockError). Inside a process it never returns on deadlock. *gate: in, the gate of `now`;
 * out, that of the returned cycle (the signal's when it is later than `now`). */
PTO_CSP_API int64_t pto_csp_synchronize(pto_csp* C, int32_t self, int32_t ev, int64_t now,
                                        const char* where, uint32_t* gate);
/* Whether `ev` has a pending signal at cycle `now` (does not take it). */
PTO_CSP_API int64_t pto_csp_query(pto_csp* C, int32_t self, int32_t ev, int64_t now);

/* ---- trace ---------------------------------------------------------------------------------- */


/* Why a process waited. */
enum pto_csp_wait_kind {
    PTO_CSP_WAIT_SEND = 0,    /* channel full (back-pressure) */
    PTO_CSP_WAIT_TAKE = 1,    /* channel empty */
    PTO_CSP_WAIT_EVENT = 2    /* synchronize before the matching record */
};

/* One interval [start, end) during which a process was blocked, 32 bytes. */
typedef struct pto_csp_wait {
    int64_t start;
    int64_t end;
    int32_t process;
    int32_t object; /* channel id, or event id for PTO_CSP_WAIT_EVENT */
    int32_t kind;   /* enum pto_csp_wait_kind */
    int32_t reserved;
} pto_csp_wait;

/* ---- inline fast paths -------------------------------------------------------------------- */
/* The uncontended cases of the actions above, inlined into generated process bodies over the
 * engine's hot state (no library call per channel event). Each checks that its case needs no
 * switch, wait, wake-up or error and otherwise calls the library function, which redoes the
 * (idempotent) clock update and handles every other case; the outcome, the occupancy and wait
 * records included, is the library function's. The layout is private to one build of
 * libpto_runtime and the generated drivers compiled against the same header. */

/* A committed item in a channel's ring: its number, the cycle it can be taken and the task
 * whose end gave its commit cycle (the gate of a take that waits for it). */
typedef struct pto_csp_item {
    int64_t item;
    int64_t time;
    uint32_t gate;
    int32_t reserved;
} pto_csp_item;

/* Per channel (the first part of the engine's channel record). */
typedef struct pto_csp_hot_chan {
    int64_t depth, cap;
    int64_t latency;        /* cycles from a commit until the item can be taken */
    int64_t used;           /* slots in use: reserved, queued or held by a consumer body */
    pto_csp_item* ring;     /* committed items not yet taken: `cap` entries from `head`, each
                               with the cycle it can be taken (commit + latency) */
    int64_t head, queued;
    int64_t next_item;
    int64_t last_commit;    /* item committed last (-1: none) */
    int64_t occ_last;       /* index of the channel's last occupancy record that may be amended */
    uint64_t occ_floor;     /* occupancy records below this index are never dropped */
    int32_t occ_value, occ_before;
    int32_t producers;
    int32_t closed;
    int32_t n_wait_send, n_wait_take; /* processes blocked sending / taking */
} pto_csp_hot_chan;

/* Per process (the first part of the engine's process record). */
typedef struct pto_csp_hot_proc {
    int64_t clock;
} pto_csp_hot_proc;

/* The occupancy record buffer (appended in place while size < cap). */
typedef struct pto_csp_occ_buf {
    pto_csp_occupancy* data;
    uint64_t size, cap, bytes;
} pto_csp_occ_buf;

typedef struct pto_csp_hot {
    int64_t ready_min;      /* smallest clock of the runnable (queued) processes; INT64_MAX: none */
    char* procs;            /* process records, `proc_stride` bytes apart */
    int64_t proc_stride;
    char* chans;            /* channel records, `chan_stride` bytes apart */
    int64_t chan_stride;
    pto_csp_occ_buf* occupancy;
} pto_csp_hot;

PTO_CSP_API pto_csp_hot* pto_csp_hot_of(pto_csp* C);
/* Records the occupancy of `ch` at `t` if it changed (the general case of the inline one). */
PTO_CSP_API void pto_csp_note_occupancy(pto_csp* C, int32_t ch, int64_t t);

static inline int64_t* pto_csp_clock_slot(const pto_csp_hot* H, int32_t self) {
    return &((pto_csp_hot_proc*)(H->procs + (int64_t)self * H->proc_stride))->clock;
}
static inline pto_csp_hot_chan* pto_csp_hot_chan_at(const pto_csp_hot* H, int32_t ch) {
    return (pto_csp_hot_chan*)(H->chans + (int64_t)ch * H->chan_stride);
}

/* Same as the engine's occupancy change: same-cycle changes coalesce, a same-cycle change back
 * to the value before drops the record, an unchanged value records nothing. */
static inline void pto_csp_occupancy_inline(pto_csp* C, const pto_csp_hot* H,
                                            pto_csp_hot_chan* c, int32_t ch, int64_t t) {
    pto_csp_occ_buf* b = H->occupancy;
    const int32_t used = (int32_t)c->used;
    if (c->occ_last >= 0 && (uint64_t)c->occ_last + 1 == b->size &&
        b->data[b->size - 1].time == t) {
        if (used == c->occ_before && b->size > c->occ_floor) {
            --b->size;
            c->occ_last = -1;
        } else {
            b->data[b->size - 1].occupancy = used;
        }
        c->occ_value = used;
        return;
    }
    if (used == c->occ_value) return;
    if (b->size == b->cap) {
        pto_csp_note_occupancy(C, ch, t);
        return;
    }
    c->occ_before = c->occ_value;
    c->occ_value = used;
    c->occ_last = (int64_t)b->size;
    b->data[b->size].time = t;
    b->data[b->size].channel = ch;
    b->data[b->size].occupancy = used;
    ++b->size;
}

/* The `_on` variants take the caller's clock slot (pto_csp_clock_slot) and channel record
 * (pto_csp_hot_chan_at), which stay put while a pipeline runs, so a process body computes them
 * once instead of re-deriving them from the hot state after every call that may change it. */

/* pto_csp_at. */
static inline void pto_csp_at_on(pto_csp* C, const pto_csp_hot* H, int64_t* clk, int32_t self,
                                 int64_t now) {
    if (now > *clk) *clk = now;
    if (H->ready_min < *clk) pto_csp_at(C, self, *clk);
}

/* pto_csp_reserve: inline when the channel (depth >= 1, open) has a free slot. */
static inline int64_t pto_csp_reserve_on(pto_csp* C, const pto_csp_hot* H, int64_t* clk,
                                         pto_csp_hot_chan* c, int32_t self, int32_t ch,
                                         int64_t now, int32_t block, const char* where,
                                         int64_t* item, uint32_t* gate) {
    if (now > *clk) *clk = now;
    if (H->ready_min < *clk || c->closed || c->used >= c->cap || c->depth <= 0)
        return pto_csp_reserve(C, self, ch, *clk, block, where, item, gate);
    ++c->used;
    *item = c->next_item++;
    pto_csp_occupancy_inline(C, H, c, ch, *clk);
    return *clk;
}

/* pto_csp_commit: inline for a channel with one producer and no consumer waiting. */
static inline void pto_csp_commit_on(pto_csp* C, const pto_csp_hot* H, int64_t* clk,
                                     pto_csp_hot_chan* c, int32_t self, int32_t ch, int64_t item,
                                     int64_t now, uint32_t gate) {
    if (c->producers > 1 || c->n_wait_take != 0) {
        pto_csp_commit(C, self, ch, item, now, gate);
        return;
    }
    if (now > *clk) *clk = now;
    int64_t at = c->head + c->queued;
    if (at >= c->cap) at -= c->cap;
    c->ring[at].item = item;
    c->ring[at].time = *clk + c->latency;
    c->ring[at].gate = gate;
    ++c->queued;
    c->last_commit = item;
    if (H->ready_min < *clk) pto_csp_at(C, self, *clk);
}

/* pto_csp_take: inline when an item that can be taken at or before the caller's clock is
 * queued (the clock does not move, so *gate stays). */
static inline int32_t pto_csp_take_on(pto_csp* C, const pto_csp_hot* H, int64_t* clk,
                                      pto_csp_hot_chan* c, int32_t self, int32_t ch,
                                      int64_t* now, int64_t* item, uint32_t* gate) {
    if (*now > *clk) *clk = *now;
    if (H->ready_min < *clk || c->queued == 0 || c->ring[c->head].time > *clk)
        return pto_csp_take(C, self, ch, now, item, gate);
    *item = c->ring[c->head].item;
    if (++c->head == c->cap) c->head = 0;
    --c->queued;
    *now = *clk;
    return 1;
}

/* pto_csp_release: inline when no producer waits for the slot. */
static inline void pto_csp_release_on(pto_csp* C, const pto_csp_hot* H, int64_t* clk,
                                      pto_csp_hot_chan* c, int32_t self, int32_t ch,
                                      int64_t now, uint32_t gate) {
    if (now > *clk) *clk = now;
    if (H->ready_min < *clk || c->n_wait_send != 0) {
        pto_csp_release(C, self, ch, *clk, gate);
        return;
    }
    if (c->used > 0) --c->used;
    pto_csp_occupancy_inline(C, H, c, ch, *clk);
}

static inline void pto_csp_at_fast(pto_csp* C, pto_csp_hot* H, int32_t self, int64_t now) {
    pto_csp_at_on(C, H, pto_csp_clock_slot(H, self), self, now);
}
static inline int64_t pto_csp_reserve_fast(pto_csp* C, pto_csp_hot* H, int32_t self, int32_t ch,
                                           int64_t now, int32_t block, const char* where,
                                           int64_t* item, uint32_t* gate) {
    return pto_csp_reserve_on(C, H, pto_csp_clock_slot(H, self), pto_csp_hot_chan_at(H, ch), self,
                              ch, now, block, where, item, gate);
}
static inline void pto_csp_commit_fast(pto_csp* C, pto_csp_hot* H, int32_t self, int32_t ch,
                                       int64_t item, int64_t now, uint32_t gate) {
    pto_csp_commit_on(C, H, pto_csp_clock_slot(H, self), pto_csp_hot_chan_at(H, ch), self, ch,
                      item, now, gate);
}
static inline int32_t pto_csp_take_fast(pto_csp* C, pto_csp_hot* H, int32_t self, int32_t ch,
                                        int64_t* now, int64_t* item, uint32_t* gate) {
    return pto_csp_take_on(C, H, pto_csp_clock_slot(H, self), pto_csp_hot_chan_at(H, ch), self,
                           ch, now, item, gate);
}
static inline void pto_csp_release_fast(pto_csp* C, pto_csp_hot* H, int32_t self, int32_t ch,
                                        int64_t now, uint32_t gate) {
    pto_csp_release_on(C, H, pto_csp_clock_slot(H, self), pto_csp_hot_chan_at(H, ch), self, ch,
                       now, gate);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PTO_RUNTIME_CSP_H */
