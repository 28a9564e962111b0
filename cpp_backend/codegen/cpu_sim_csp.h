// cpu_sim code generation for CSP constructs (spec §3.7, §7): pipelines, processes, send,
// consume, close, record, synchronize and query.
//
// Each process becomes a function `pto_proc_<n>(R, self, env)` that the CSP engine
// (runtime/csp.h) runs as a fiber; a pipeline in the driver spawns its processes and runs the
// engine's discrete-event loop until they all finish. Inside a process the statements are steps
// of a sequential thread whose clock is the driver's `pto_barrier`. The generic emitter
// (cpu_sim.cpp) implements `CspHost` so this file reuses its task, loop and expression code.
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

/// The runtime symbol that sets the latency of every channel that gives none (the reference
/// implementation's name; docs/semantics.md "CSP execution").
inline constexpr const char* kChannelLatencySymbol = "__pto_wsp_channel_latency_cycles";

/// What the CSP emitter needs from the generic cpu_sim emitter.
class CspHost {
public:
    virtual ~CspHost() = default;
    virtual void csp_put(const std::string& line) = 0;
    virtual void csp_indent(int delta) = 0;
    virtual std::string csp_fresh(const char* base) = 0;
    virtual void csp_emit(const ir::Node& n) = 0;
    virtual std::string csp_expr(const ir::ExprPtr& e, const std::string& ctx) = 0;
    /// Loop variables bound at this point (ids).
    virtual std::set<int64_t> csp_vars() const = 0;
    virtual void csp_bind(int64_t var_id, bool bound) = 0;
    /// Runs `fn` with an empty function body (indent 1, no part splitting, sequential depth 1)
    /// and returns the text it emitted; the host's state is restored afterwards.
    virtual std::string csp_capture(const std::function<void()>& fn) = 0;
};

class CspEmitter {
public:
    CspEmitter(const ir::Module& m, CspHost& host);

    /// Whether the module has any CSP construct or event (then the driver creates an engine).
    bool used() const { return used_; }
    /// Emits a CSP node (pipe, connect, process, send, consume, close, record, synchronize).
    void emit(const ir::Node& n);
    /// The C expression of `query(event)`.
    std::string query(int64_t event_id) const;
    bool in_process() const { return in_process_; }

    // ---- hooks into task emission --------------------------------------------------------
    /// Statements emitted at the start of a task (ordering point inside a process).
    void task_prologue();
    /// Statements emitted after a task's submission (resolve a buffered end inside a process).
    void task_epilogue();
    /// Typed base pointer of tensor `tid` for the current task (`plain` when not rotated).
    std::string tensor_base(int64_t tid, const std::string& plain, const std::string& ctype,
                            const std::string& loc);
    /// Whether a task here declares its accesses to tensor `tid` (run-time region tracking).
    /// Not for a rotating buffer inside its pipeline: the channel orders its copies (a copy's
    /// writer reserves a slot only after the consumer released the copy's previous item).
    bool tracks(int64_t tid) const;

    // ---- driver file -----------------------------------------------------------------------
    std::string includes() const;
    /// Interns the runtime symbols the engine setup reads (the default channel latency) while
    /// the host still collects symbol names: call after the workload, before run_setup().
    void intern_run_symbols();
    /// Code at the top of pto_lib_run, before its prologue: creates the engine.
    std::string run_setup() const;
    /// A line of each driver function's prologue (the engine of this run).
    std::string prologue_line() const;
    /// (signature, body) of each process function, in definition order.
    const std::vector<std::pair<std::string, std::string>>& functions() const { return funcs_; }

private:
    struct Rotation {
        int32_t id;
        int64_t channel;
        int64_t copies;
        std::string loc;  // the send that fills it
    };
    /// A loop of a pipeline member around a task: its variable, whether distinct iterations
    /// have distinct values (not a select_for, nor a consume binding the sent task's first
    /// axis) and, for a consume, its channel (else -1).
    struct Loop {
        int64_t var;
        std::string name;
        bool injective;
        int64_t consume;
    };
    /// A view written by a task of the current pipeline (rotation analysis).
    struct Write {
        const ir::Node* task;
        const ir::Arg* arg;
        ir::Direction dir;
        std::vector<Loop> loops;  // enclosing loops inside the pipeline member
        /// Conditions and loop extents on the path to the task (whether / how often it runs).
        std::vector<ir::ExprPtr> guards;
        std::string process;      // the member's name, for messages
        int64_t replicas;         // of that member
        int64_t channel;          // the channel the task is sent on; -1 when not sent
        std::string loc;          // of the send (or of the task)
    };
    struct Ctx {
        int64_t channel;
        std::string item;  // C expression of the item number
    };

    void emit_pipeline(const ir::Node& n, const std::vector<const ir::Node*>& procs);
    void emit_process_body(const ir::Node& proc, const std::vector<int64_t>& env);
    void emit_steps(const std::vector<const ir::Node*>& stmts);
    void emit_send(const ir::Node& n);
    void emit_consume(const ir::Node& n);
    /// Decides which tensors of the pipeline `procs` rotate (fills rot_); see the definition.
    void analyse_rotation(const std::vector<const ir::Node*>& procs);
    void collect_writes(const ir::Node& n, std::vector<Loop>& loops,
                        std::vector<ir::ExprPtr>& guards, const std::string& process,
                        int64_t replicas, std::vector<Write>& out) const;
    std::string channel_name(int64_t id) const;
    /// Name of a process body's local pointer to channel `id`'s hot record.
    static std::string hot_chan(int64_t id);
    std::string event_name(int64_t id) const;
    std::string rot_copy(int64_t tid, const std::string& loc);

    const ir::Module& m_;
    CspHost& h_;
    bool used_ = false;
    bool in_process_ = false;
    /// Channels a consume binding the sent task's first axis takes from: their sends tag each
    /// item with that value (pto_csp_item_tag).
    std::set<int64_t> tagged_;
    // Set right before emitting a task that directly follows a reserve / take: those return
    // with the process already the earliest at its clock, so the task's own ordering point
    // (pto_csp_at) would be a no-op call per item. Consumed by the next task_prologue().
    bool ordered_ = false;
    int n_procs_ = 0;
    std::map<int64_t, Rotation> rot_;  // tensor id -> rotation (current pipeline)
    /// Channels of the current pipeline with a rotating buffer and several consumers or sends:
    /// items may be released out of item order (several consumers; several producers commit,
    /// so are taken, out of order), so releases name the item (pto_csp_release_item) and slots
    /// free in item order -- item k + d reuses item k's copy. One send and one consumer release
    /// in item order and keep the inline release.
    std::set<int64_t> item_release_;
    std::set<int64_t> pipe_chans_;     // channels of the current pipeline
    std::vector<Ctx> consume_ctx_;
    std::vector<Ctx> send_ctx_;
    std::vector<std::pair<std::string, std::string>> funcs_;
    std::string default_latency_;  // C expression of the default channel latency (or "")
};

}  // namespace pto::wsp::codegen
