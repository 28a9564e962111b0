// cpu_sim code generation for CSP constructs (see cpu_sim_csp.h and runtime/csp.h).
#include "codegen/cpu_sim_csp.h"

#include <algorithm>

#include "ir/affine.h"

#include "codegen/cpu_sim.h"

namespace pto::wsp::codegen {

namespace {

// The driver's clocks carry the task whose end set them and, for the barrier, the wait-cause
// kind (cpu_sim.cpp's SeqScope: pto_bgate, pto_bcause, pto_mgate). A process statement waits
// for the previous one: the step max becomes the barrier as a sequential barrier.
constexpr const char* kBarrierFromMax =
    "if (pto_max > pto_barrier) { pto_barrier = pto_max; pto_bgate = pto_mgate; "
    "pto_bcause = PTO_WAIT_BARRIER; }";
constexpr const char* kMaxFromBarrier =
    "if (pto_barrier > pto_max) { pto_max = pto_barrier; pto_mgate = pto_bgate; }";

// pto_max = the larger of a saved step max (with its gate) and the barrier.
std::string restore_max(const std::string& saved, const std::string& saved_gate) {
    return "if (" + saved + " > pto_barrier) { pto_max = " + saved + "; pto_mgate = " +
           saved_gate + "; } else { pto_max = pto_barrier; pto_mgate = pto_bgate; }";
}

// A channel or event action that moved the barrier from `before`: its kind, and the gate the
// engine returned in `gate` (the task whose end gave the new cycle: docs/semantics.md, "Gates of
// CSP waits").
std::string moved_by(const std::string& before, const char* kind, const std::string& gate) {
    return "if (pto_barrier > " + before + ") { pto_bcause = " + kind + "; pto_bgate = " + gate +
           "; }";
}

}  // namespace


using namespace ir;

namespace {

std::string lit(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            o += ' ';
            continue;
        }
        o += c;
    }
    return o + "\"";
}

bool expr_has_query(const ExprPtr& e) {
    if (!e) return false;
    if (e->kind == ExprKind::EventQuery) return true;
    for (const auto& c : e->children)
        if (expr_has_query(c)) return true;
    return false;
}

bool is_csp_kind(NodeKind k) {
    switch (k) {
        case NodeKind::Pipe: case NodeKind::Process: case NodeKind::Send: case NodeKind::Consume:
        case NodeKind::Connect: case NodeKind::Record: case NodeKind::Synchronize:
        case NodeKind::Close:
            return true;
        default: return false;
    }
}

bool uses_csp(const Node& n) {
    if (is_csp_kind(n.kind)) return true;
    for (const auto& b : n.branches)
        if (expr_has_query(b.pred)) return true;
    for (const auto& c : n.nested())
        if (c && uses_csp(*c)) return true;
    return false;
}

std::string at(const std::string& what, const std::string& loc) {
    return loc.empty() ? what : what + " at " + loc;
}

}  // namespace

CspEmitter::CspEmitter(const Module& m, CspHost& host) : m_(m), h_(host) {
    used_ = m.workload && uses_csp(*m.workload);
    std::function<void(const Node&)> find_tagged = [&](const Node& x) {
        if (x.binds_first_axis()) tagged_.insert(x.channel_id);
        for (const auto& c : x.nested())
            if (c) find_tagged(*c);
    };
    if (m.workload) find_tagged(*m.workload);
}

std::string CspEmitter::hot_chan(int64_t id) { return "pto_hc" + std::to_string(id); }

std::string CspEmitter::channel_name(int64_t id) const {
    const Channel* c = m_.channel(id);
    return c ? c->name : "#ch" + std::to_string(id);
}
std::string CspEmitter::event_name(int64_t id) const {
    const Event* e = m_.event(id);
    return e ? e->name : "#ev" + std::to_string(id);
}

std::string CspEmitter::query(int64_t event_id) const {
    if (!m_.event(event_id))
        throw CodegenError("query of unknown event #ev" + std::to_string(event_id), "");
    if (in_process_)
        return "pto_csp_query(pto_C, pto_self, " + std::to_string(event_id) + ", pto_barrier)";
    return "pto_csp_query(pto_C, -1, " + std::to_string(event_id) + ", pto_barrier)";
}

// ---- statements -----------------------------------------------------------------------------

void CspEmitter::emit(const Node& n) {
    switch (n.kind) {
        case NodeKind::Pipe:
        case NodeKind::Connect: {
            std::vector<const Node*> procs;
            for (const auto& c : n.children)
                if (c) procs.push_back(c.get());
            emit_pipeline(n, procs);
            return;
        }
        case NodeKind::Process:
            if (in_process_)
                throw CodegenError("a process nested inside process is not supported by cpu_sim",
                                   n.loc);
            emit_pipeline(n, {&n});
            return;
        case NodeKind::Send:
        case NodeKind::Consume:
        case NodeKind::Close:
            if (!in_process_)
                throw CodegenError(std::string(n.kind == NodeKind::Send      ? "send"
                                               : n.kind == NodeKind::Consume ? "consume"
                                                                             : "close") +
                                       " on channel " + channel_name(n.channel_id) +
                                       " outside a pipeline process is not supported",
                                   n.loc);
            if (!m_.channel(n.channel_id))
                throw CodegenError("unknown channel #ch" + std::to_string(n.channel_id), n.loc);
            if (n.kind == NodeKind::Send) emit_send(n);
            else if (n.kind == NodeKind::Consume) emit_consume(n);
            else
                h_.csp_put("pto_csp_close(pto_C, pto_self, " + std::to_string(n.channel_id) +
                           ", pto_barrier, pto_bgate);");
            return;
        case NodeKind::Record: {
            if (!m_.event(n.event_id))
                throw CodegenError("record of unknown event #ev" + std::to_string(n.event_id), n.loc);
            const std::string ev = std::to_string(n.event_id);
            if (in_process_) {
                h_.csp_put("pto_csp_record(pto_C, pto_self, " + ev + ", pto_barrier, pto_bgate);");
            } else {
                // In the driver: the signal is raised once everything submitted so far has ended.
                // Its gate is that of the barrier or step max it came from; a makespan later
                // than both (a task of an enclosing parallel step) names no task.
                h_.csp_put("{ int64_t pto_rt = pto_barrier; uint32_t pto_rg = pto_bgate; if (pto_max > "
                           "pto_rt) { pto_rt = pto_max; pto_rg = pto_mgate; } const int64_t pto_mk = "
                           "pto_sim_total_cycles(sim); if (pto_mk > pto_rt) { pto_rt = pto_mk; pto_rg = "
                           "PTO_WAIT_NO_GATE; } pto_csp_record(pto_C, -1, " + ev + ", pto_rt, pto_rg); }");
            }
            return;
        }
        case NodeKind::Synchronize: {
            if (!m_.event(n.event_id))
                throw CodegenError("synchronize of unknown event #ev" + std::to_string(n.event_id),
                                   n.loc);
            const std::string ev = std::to_string(n.event_id);
            const std::string where = lit(at("synchronize(" + event_name(n.event_id) + ")", n.loc));
            if (in_process_) {
                h_.csp_put("{ const int64_t pto_b0 = pto_barrier; uint32_t pto_g = pto_bgate;");
                h_.csp_put("  pto_barrier = pto_csp_synchronize(pto_C, pto_self, " + ev +
                           ", pto_barrier, " + where + ", &pto_g);");
                h_.csp_put("  " + moved_by("pto_b0", "PTO_WAIT_EVENT", "pto_g") + " }");
                h_.csp_put(kMaxFromBarrier);
            } else {
                h_.csp_put("{ uint32_t pto_g = pto_bgate; const int64_t pto_st_ = "
                           "pto_csp_synchronize(pto_C, -1, " + ev + ", pto_barrier, " + where +
                           ", &pto_g); if (pto_st_ < 0) return 1; if (pto_st_ > pto_barrier) { "
                           "pto_barrier = pto_st_; pto_bcause = PTO_WAIT_EVENT; pto_bgate = pto_g; } "
                           "if (pto_st_ > pto_max) { pto_mgate = pto_g; pto_max = pto_st_; } }");
            }
            return;
        }
        default: break;
    }
    throw CodegenError("not a CSP construct: " + to_string(n.kind), n.loc);
}

void CspEmitter::collect_writes(const Node& n, std::vector<Loop>& loops,
                                std::vector<ExprPtr>& guards, const std::string& process,
                                int64_t replicas, std::vector<Write>& out) const {
    auto task_writes = [&](const Node& task, int64_t channel, const std::string& loc) {
        const Kernel* K = m_.kernel(task.kernel_id);
        if (!K) return;
        for (const Arg& a : task.args) {
            if (a.kind != Arg::Kind::View) continue;
            const int64_t pi = K->find_param(a.param);
            if (pi < 0) continue;
            const Direction d = K->params[pi].direction;
            if (d != Direction::Out && d != Direction::InOut) continue;
            out.push_back(Write{&task, &a, d, loops, guards, process, replicas, channel, loc});
        }
    };
    if (n.kind == NodeKind::Send) {
        if (n.value && n.value->kind == NodeKind::Task) {
            task_writes(*n.value, n.channel_id, n.loc);
            return;
        }
    } else if (n.kind == NodeKind::Task) {
        task_writes(n, -1, n.loc);
        return;
    }
    std::size_t pushed = 0;
    const std::size_t guarded = guards.size();
    if (n.kind == NodeKind::ParallelFor || n.kind == NodeKind::SeqFor ||
        n.kind == NodeKind::SelectFor || n.kind == NodeKind::Consume) {
        for (const auto& v : n.vars) {
            loops.push_back(Loop{v.id, v.name,
                                 n.kind != NodeKind::SelectFor && !n.binds_first_axis(),
                                 n.kind == NodeKind::Consume ? n.channel_id : -1});
            ++pushed;
        }
        for (const Axis& ax : n.axes)
            for (const ExprPtr& e : {ax.size_expr, ax.outer, ax.row})
                if (e) guards.push_back(e);
        if (n.row) guards.push_back(n.row);
    }
    for (const CondBranch& b : n.branches)  // a branch runs when its predicate and no earlier one holds
        if (b.pred) guards.push_back(b.pred);
    for (const auto& c : n.nested())
        if (c) collect_writes(*c, loops, guards, process, replicas, out);
    loops.resize(loops.size() - pushed);
    guards.resize(guarded);
}

namespace {

/// Whether `e` may take a different value for different items of a pipeline member: it names
/// one of the member's loop / consume variables, a slot, a tensor element or an event query.
bool expr_varies(const ExprPtr& e, const std::set<int64_t>& local) {
    if (!e) return false;
    if (e->kind == ExprKind::Var && local.count(e->id)) return true;
    if (e->kind == ExprKind::Slot || e->kind == ExprKind::Load ||
        e->kind == ExprKind::EventQuery)
        return true;
    for (const auto& c : e->children)
        if (expr_varies(c, local)) return true;
    return false;
}

bool view_varies(const View& v, const std::set<int64_t>& local) {
    for (const Index& ix : v.indices)
        if (expr_varies(ix.value, local) || expr_varies(ix.start, local) ||
            expr_varies(ix.stop, local))
            return true;
    return false;
}

}  // namespace

// A tensor written by the task sent on a channel of depth d >= 2 (docs/semantics.md "Staging
// buffers: in place or rotating"):
// - written in place when the send is its only such write and the send's items provably write
//   separate regions (every loop around the send inside its process is separated by an index of
//   the view, as in the disjointness proof; replicas of a process repeat its loops, so they
//   need a consume variable among those loops): nothing to redirect, nothing lost;
// - otherwise a rotating buffer of d copies, which keeps the sequential program's result only
//   when every item writes the same region (one buffer shared by the items, spec §8.3's
//   tile_buf): after the run the user's array receives the last item's copy. So the sent task
//   may not read it (an InOut would see item k-d's value instead of item k-1's) and no write of
//   it in the pipeline may depend on the item (index, or inside consume(ch) a P.when predicate
//   or loop extent naming an item's variables); both are CompileErrors.
void CspEmitter::analyse_rotation(const std::vector<const Node*>& procs) {
    rot_.clear();
    std::vector<Write> writes;
    for (std::size_t i = 0; i < procs.size(); ++i) {
        const Node& p = *procs[i];
        const bool is_proc = p.kind == NodeKind::Process;
        const std::string name = is_proc && !p.name.empty() ? p.name : "stage" + std::to_string(i);
        std::vector<Loop> loops;
        std::vector<ExprPtr> guards;
        collect_writes(p, loops, guards, name, is_proc ? std::max<int64_t>(p.replicas, 1) : 1,
                       writes);
    }
    std::map<int64_t, std::vector<const Write*>> sent, other;  // by tensor id
    for (const Write& w : writes) {
        const Channel* ch = w.channel >= 0 ? m_.channel(w.channel) : nullptr;
        (ch && ch->depth >= 2 ? sent : other)[w.arg->view.tensor_id].push_back(&w);
    }
    for (const auto& [tid, list] : sent) {
        const Tensor* t = m_.tensor(tid);
        const std::string tname = t ? t->name : std::to_string(tid);
        const Write& first = *list.front();
        const Channel& ch = *m_.channel(first.channel);
        const std::string depth = std::to_string(ch.depth);
        for (const Write* w : list)
            if (w->channel != first.channel)
                throw CodegenError("tensor " + tname + " is sent through two channels (" +
                                       ch.name + " at " + first.loc + " and " +
                                       channel_name(w->channel) +
                                       "); a staging buffer can rotate with one channel only",
                                   w->loc);
        // In place: one send whose items write separate regions.
        std::string why;  // why the items are not provably separate
        if (list.size() > 1) {
            why = std::to_string(list.size()) + " sends write it";
        } else {
            const View& view = first.arg->view;
            bool has_consume = false;
            for (const Loop& l : first.loops) {
                has_consume = has_consume || (l.consume >= 0 && l.injective);
                const bool sep =
                    l.injective && std::any_of(view.indices.begin(), view.indices.end(),
                                               [&](const Index& ix) { return separates(ix, l.var); });
                if (!sep && why.empty())
                    why = "no index of the view separates the items of loop variable " + l.name;
            }
            if (why.empty() && first.replicas > 1 && !has_consume)
                why = "process " + first.process + " runs in " + std::to_string(first.replicas) +
                      " replicas with the same loop values";
            if (why.empty()) continue;
        }
        // Rotating: the sent task only writes it, and every write is item-independent.
        for (const Write* w : list)
            if (w->dir == Direction::InOut) {
                const Kernel* K = m_.kernel(w->task->kernel_id);
                throw CodegenError(
                    "tensor " + tname + " is read and written (InOut parameter " + w->arg->param +
                        " of kernel " + (K ? K->name : "?") + ") by the task sent on channel " +
                        ch.name + " of depth " + depth + ", and every item uses the same part of "
                        "it; with " + depth + " items in flight each would read its own rotating "
                        "copy (item k-" + depth + "'s value instead of item k-1's). Use depth 1, "
                        "or give each item its own region (e.g. " + tname + "[i])",
                    w->loc);
            }
        std::vector<const Write*> all = list;
        auto o = other.find(tid);
        if (o != other.end()) all.insert(all.end(), o->second.begin(), o->second.end());
        for (const Write* w : all) {
            // The variables that tell items apart: every loop around the send; inside
            // consume(ch), the loops down to the innermost consume(ch) (the loops of its body
            // repeat for every item).
            std::size_t upto = w->loops.size();
            if (w->channel < 0)
                for (std::size_t k = w->loops.size(); k-- > 0;)
                    if (w->loops[k].consume == first.channel) {
                        upto = k + 1;
                        break;
                    }
            std::set<int64_t> local;
            for (std::size_t k = 0; k < upto; ++k) local.insert(w->loops[k].var);
            // Outside the send, whether (and how often) the task runs may depend on the item
            // too: `P.when(t == 0)` inside consume(ch) writes for one item only.
            const bool guard_varies =
                w->channel < 0 && std::any_of(w->guards.begin(), w->guards.end(),
                                              [&](const ExprPtr& g) { return expr_varies(g, local); });
            if (!guard_varies && !view_varies(w->arg->view, local)) continue;
            if (w->channel >= 0)
                throw CodegenError(
                    "tensor " + tname + " is written by the task sent on channel " + ch.name +
                        " (depth " + depth + ") with an index that changes from item to item, "
                        "but its items do not provably write separate regions (" + why +
                        "); with " + depth + " items in flight they could write the same "
                        "elements, and a rotating copy would lose the others' data. Write each "
                        "item to its own region (index the view by every loop variable around "
                        "the send, e.g. " + tname + "[i]) or use one part of it for every item "
                        "(the pipeline then rotates " + depth + " copies of it)",
                    w->loc);
            throw CodegenError(
                "tensor " + tname + " is a rotating buffer of channel " + ch.name + " (depth " +
                    depth + "; every item's send at " + first.loc + " writes the same part of "
                    "it), but this task writes it " +
                    (guard_varies ? std::string("under a condition or loop that depends on the item")
                                  : std::string("with an index that changes from item to item")) +
                    "; only the last item's copy reaches the array after the pipeline, so the "
                    "other items' writes would be lost. Write the same part for every item, or "
                    "give each item its own region in the send (e.g. " + tname + "[i])",
                w->loc);
        }
        rot_[tid] = Rotation{static_cast<int32_t>(rot_.size()), first.channel, ch.depth, first.loc};
    }
    // Consume loops and sends of each channel, times the replicas that run them.
    std::map<int64_t, int64_t> consumers, senders;
    std::function<void(const Node&, int64_t)> count = [&](const Node& x, int64_t reps) {
        if (x.kind == NodeKind::Consume) consumers[x.channel_id] += reps;
        if (x.kind == NodeKind::Send) senders[x.channel_id] += reps;
        for (const auto& c : x.nested())
            if (c) count(*c, reps);
    };
    for (const Node* p : procs)
        count(*p, p->kind == NodeKind::Process ? std::max<int64_t>(p->replicas, 1) : 1);
    item_release_.clear();
    for (const auto& [tid, r] : rot_)
        if (consumers[r.channel] > 1 || senders[r.channel] > 1) item_release_.insert(r.channel);
}

void CspEmitter::emit_pipeline(const Node& n, const std::vector<const Node*>& procs) {
    if (in_process_)
        throw CodegenError("a pipeline nested inside a process is not supported by cpu_sim", n.loc);
    analyse_rotation(procs);
    // Channels of the pipeline: declared roles plus every channel a statement names.
    std::set<int64_t> chans;
    std::function<void(const Node&)> walk = [&](const Node& x) {
        if (x.kind == NodeKind::Send || x.kind == NodeKind::Consume || x.kind == NodeKind::Close)
            chans.insert(x.channel_id);
        for (int64_t c : x.consumes) chans.insert(c);
        for (int64_t c : x.produces) chans.insert(c);
        for (int64_t c : x.channels) chans.insert(c);
        for (const auto& c : x.nested())
            if (c) walk(*c);
    };
    for (const Node* p : procs) walk(*p);
    for (int64_t c : chans)
        if (!m_.channel(c))
            throw CodegenError("pipeline uses unknown channel #ch" + std::to_string(c), n.loc);
    pipe_chans_ = chans;

    const std::set<int64_t> outer = h_.csp_vars();
    const std::vector<int64_t> env(outer.begin(), outer.end());
    std::vector<std::string> fns;
    for (std::size_t i = 0; i < procs.size(); ++i) {
        const Node& p = *procs[i];
        const std::string fn = "pto_proc_" + std::to_string(n_procs_++);
        std::string body = h_.csp_capture([&] {
            in_process_ = true;
            emit_process_body(p, env);
            in_process_ = false;
        });
        funcs_.emplace_back("__attribute__((noinline)) static int32_t " + fn +
                                "(pto_abi_run* R, int32_t pto_self, const int64_t* pto_env)",
                            std::move(body));
        fns.push_back(fn);
    }
    h_.csp_put("{  // " + at(to_string(n.kind), n.loc));
    h_.csp_indent(1);
    const std::string envv = h_.csp_fresh("pto_env");
    std::string init = "const int64_t " + envv + "[] = {";
    for (int64_t v : env) init += "v" + std::to_string(v) + ", ";
    h_.csp_put(init + "0};");
    h_.csp_put("pto_csp_pipe_begin(pto_C, pto_barrier, pto_bgate);");
    for (int64_t c : chans) h_.csp_put("pto_csp_pipe_channel(pto_C, " + std::to_string(c) + ");");
    for (std::size_t i = 0; i < procs.size(); ++i) {
        const Node& p = *procs[i];
        const std::string base = p.kind == NodeKind::Process && !p.name.empty()
                                     ? p.name
                                     : "stage" + std::to_string(i);
        const int64_t reps = p.kind == NodeKind::Process ? std::max<int64_t>(p.replicas, 1) : 1;
        for (int64_t r = 0; r < reps; ++r) {
            const std::string name = reps > 1 ? base + "[" + std::to_string(r) + "]" : base;
            h_.csp_put("{ const int32_t pto_p = pto_csp_spawn(pto_C, " + lit(name) + ", &" +
                       fns[i] + ", " + envv + ");");
            for (int64_t c : p.produces)
                h_.csp_put("  pto_csp_role(pto_C, pto_p, " + std::to_string(c) + ", 1);");
            for (int64_t c : p.consumes)
                h_.csp_put("  pto_csp_role(pto_C, pto_p, " + std::to_string(c) + ", 0);");
            h_.csp_put("  (void)pto_p; }");
        }
    }
    for (const auto& [tid, r] : rot_)
        h_.csp_put("if (pto_csp_rotate(pto_C, " + std::to_string(r.id) + ", " +
                   std::to_string(tid) + ", " + std::to_string(r.channel) + ", " +
                   std::to_string(r.copies) + ")) return 1;");
    h_.csp_put("{ int64_t pto_pend = 0; uint32_t pto_pgate = PTO_WAIT_NO_GATE; if "
               "(pto_csp_pipe_run(pto_C, &pto_pend, &pto_pgate)) return 1;");
    h_.csp_put("  pto_ntask = pto_sim_task_count(sim); if (pto_pend > pto_max) { pto_max = pto_pend; "
               "pto_mgate = pto_pgate; } }");
    h_.csp_indent(-1);
    h_.csp_put("}");
    rot_.clear();
    item_release_.clear();
    pipe_chans_.clear();
}

void CspEmitter::emit_process_body(const Node& proc, const std::vector<int64_t>& env) {
    // Other processes submit between this one's tasks, so the count is re-read before each
    // task: a load of the simulator's live counter, not a call.
    h_.csp_put("const uint64_t* const pto_tc = pto_sim_task_counter(sim);");
    h_.csp_put("uint64_t pto_ntask = *pto_tc;");
    // The engine's hot state, for csp.h's inline fast paths of the channel actions.
    h_.csp_put("pto_csp_hot* const pto_H = pto_csp_hot_of(pto_C); (void)pto_H;");
    // This process's clock slot and the records of the pipeline's channels do not move while
    // the pipeline runs: computed once here instead of at every channel action.
    h_.csp_put("int64_t* const pto_clk = pto_csp_clock_slot(pto_H, pto_self); (void)pto_clk;");
    for (int64_t c : pipe_chans_)
        h_.csp_put("pto_csp_hot_chan* const " + hot_chan(c) + " = pto_csp_hot_chan_at(pto_H, " +
                   std::to_string(c) + "); (void)" + hot_chan(c) + ";");
    h_.csp_put("int64_t pto_barrier = pto_csp_clock(pto_C, pto_self), pto_max = 0;");
    h_.csp_put("int pto_pending = 0;");
    h_.csp_put("uint32_t pto_bgate = pto_csp_start_gate(pto_C), pto_mgate = PTO_WAIT_NO_GATE;");
    // The pipeline's start, a barrier unless it is cycle 0 (sim.h: a min_start <= 0 carries
    // PTO_WAIT_NONE, which the simulator's plain path relies on).
    h_.csp_put("int32_t pto_bcause = pto_barrier > 0 ? PTO_WAIT_BARRIER : PTO_WAIT_NONE;");
    h_.csp_put("(void)pto_ntask; (void)pto_max; (void)pto_pending; (void)pto_env; (void)pto_bgate; "
               "(void)pto_mgate; (void)pto_bcause;");
    for (std::size_t j = 0; j < env.size(); ++j)
        h_.csp_put("const int64_t v" + std::to_string(env[j]) + " = pto_env[" +
                   std::to_string(j) + "]; (void)v" + std::to_string(env[j]) + ";");
    // A process runs its statements as steps; any other pipeline member is one statement.
    std::vector<const Node*> stmts;
    if (proc.kind == NodeKind::Process) {
        for (const auto& c : proc.children)
            if (c) stmts.push_back(c.get());
    } else {
        stmts.push_back(&proc);
    }
    emit_steps(stmts);
    h_.csp_put(kBarrierFromMax);
    h_.csp_put("return pto_csp_exit(pto_C, pto_self, pto_barrier, pto_bgate);");
}

void CspEmitter::emit_steps(const std::vector<const Node*>& stmts) {
    for (const Node* s : stmts) {
        const std::string saved = h_.csp_fresh("pto_smax"), gate = h_.csp_fresh("pto_sgate");
        h_.csp_put("{ const int64_t " + saved + " = pto_max; const uint32_t " + gate +
                   " = pto_mgate; pto_max = 0; pto_mgate = PTO_WAIT_NO_GATE;");
        h_.csp_indent(1);
        h_.csp_emit(*s);
        h_.csp_indent(-1);
        h_.csp_put(std::string("  ") + kBarrierFromMax);
        h_.csp_put("  " + restore_max(saved, gate) + " }");
    }
}

void CspEmitter::emit_send(const Node& n) {
    const Channel* ch = m_.channel(n.channel_id);
    const std::string cid = std::to_string(n.channel_id);
    const std::string item = h_.csp_fresh("pto_item");
    const bool blocking = !(n.attrs.count("block") &&
                            std::holds_alternative<bool>(n.attrs.at("block")) &&
                            !std::get<bool>(n.attrs.at("block")));
    h_.csp_put("{  // " + at("send on " + ch->name, n.loc));
    h_.csp_indent(1);
    h_.csp_put("int64_t " + item + " = 0;");
    const std::string before = h_.csp_fresh("pto_b0"), g = h_.csp_fresh("pto_g");
    h_.csp_put("const int64_t " + before + " = pto_barrier; uint32_t " + g + " = pto_bgate;");
    h_.csp_put("pto_barrier = pto_csp_reserve_on(pto_C, pto_H, pto_clk, " + hot_chan(n.channel_id) +
               ", pto_self, " + cid + ", pto_barrier, " +
               (blocking ? "1" : "0") + ", " + lit(at("send on " + ch->name, n.loc)) + ", &" +
               item + ", &" + g + ");");
    h_.csp_put(moved_by(before, "PTO_WAIT_CHANNEL_FULL", g));
    if (tagged_.count(n.channel_id) && n.value && n.value->kind == NodeKind::Task &&
        !n.value->axis_values.empty())
        h_.csp_put("pto_csp_item_tag(pto_C, " + cid + ", " + item + ", (int64_t)(" +
                   h_.csp_expr(n.value->axis_values[0], at("send on " + ch->name, n.loc)) + "));");
    if (n.value) {
        const std::string saved = h_.csp_fresh("pto_smax"), gate = h_.csp_fresh("pto_sgate");
        h_.csp_put("const int64_t " + saved + " = pto_max; const uint32_t " + gate +
                   " = pto_mgate; pto_max = 0; pto_mgate = PTO_WAIT_NO_GATE;");
        send_ctx_.push_back({n.channel_id, item});
        ordered_ = n.value->kind == NodeKind::Task;
        h_.csp_emit(*n.value);
        ordered_ = false;
        send_ctx_.pop_back();
        h_.csp_put(kBarrierFromMax);
        h_.csp_put(restore_max(saved, gate));
    } else {
        h_.csp_put(kMaxFromBarrier);
    }
    h_.csp_put("pto_csp_commit_on(pto_C, pto_H, pto_clk, " + hot_chan(n.channel_id) +
               ", pto_self, " + cid + ", " + item + ", pto_barrier, pto_bgate);");
    h_.csp_indent(-1);
    h_.csp_put("}");
}

void CspEmitter::emit_consume(const Node& n) {
    if (n.vars.empty()) throw CodegenError("malformed consume (no item variable)", n.loc);
    const std::string cid = std::to_string(n.channel_id);
    const std::string var = "v" + std::to_string(n.vars[0].id);
    // The item number: the variable itself, unless the variable is the sent task's first axis.
    const bool tag = n.binds_first_axis();
    const std::string item = tag ? h_.csp_fresh("pto_item") : var;
    h_.csp_put("for (;;) {  // " + at("consume " + channel_name(n.channel_id), n.loc));
    h_.csp_indent(1);
    h_.csp_put("int64_t " + item + " = 0;");
    const std::string before = h_.csp_fresh("pto_b0"), g = h_.csp_fresh("pto_g");
    h_.csp_put("const int64_t " + before + " = pto_barrier; uint32_t " + g + " = pto_bgate;");
    h_.csp_put("const int32_t " + g + "_took = pto_csp_take_on(pto_C, pto_H, pto_clk, " +
               hot_chan(n.channel_id) + ", pto_self, " + cid + ", &pto_barrier, &" + item + ", &" +
               g + ");");
    // The close (a drained channel) moves the clock as well: the loop's successor waited for it.
    h_.csp_put(moved_by(before, "PTO_WAIT_CHANNEL_EMPTY", g));
    h_.csp_put("if (!" + g + "_took) break;");
    if (tag)
        h_.csp_put("const int64_t " + var + " = pto_csp_item_tag_take(pto_C, " + cid + ", " + item +
                   "); (void)" + var + ";");
    h_.csp_bind(n.vars[0].id, true);
    consume_ctx_.push_back({n.channel_id, item});
    const std::string saved = h_.csp_fresh("pto_smax"), gate = h_.csp_fresh("pto_sgate");
    h_.csp_put("const int64_t " + saved + " = pto_max; const uint32_t " + gate +
               " = pto_mgate; pto_max = 0; pto_mgate = PTO_WAIT_NO_GATE;");
    std::vector<const Node*> body;
    for (const auto& c : n.children)
        if (c) body.push_back(c.get());
    ordered_ = !body.empty() && body.front()->kind == NodeKind::Task;
    emit_steps(body);
    ordered_ = false;
    h_.csp_put(kBarrierFromMax);
    h_.csp_put(restore_max(saved, gate));
    consume_ctx_.pop_back();
    h_.csp_bind(n.vars[0].id, false);
    if (item_release_.count(n.channel_id))  // see item_release_
        h_.csp_put("pto_csp_release_item(pto_C, pto_self, " + cid + ", " + item +
                   ", pto_barrier, pto_bgate);");
    else
        h_.csp_put("pto_csp_release_on(pto_C, pto_H, pto_clk, " + hot_chan(n.channel_id) +
                   ", pto_self, " + cid + ", pto_barrier, pto_bgate);");
    h_.csp_indent(-1);
    h_.csp_put("}");
}

// ---- task hooks -----------------------------------------------------------------------------

void CspEmitter::task_prologue() {
    if (!in_process_) return;
    if (!ordered_) h_.csp_put("pto_csp_at_on(pto_C, pto_H, pto_clk, pto_self, pto_barrier);");
    ordered_ = false;
    h_.csp_put("pto_ntask = *pto_tc;");
}

void CspEmitter::task_epilogue() {
    if (!in_process_) return;
    h_.csp_put("if (pto_pending) { const int64_t pto_e = pto_sim_task_end(sim, (uint32_t)(pto_ntask - "
               "1)); if (pto_e > pto_max) { pto_max = pto_e; pto_mgate = (uint32_t)(pto_ntask - 1); } "
               "pto_pending = 0; }");
}

std::string CspEmitter::rot_copy(int64_t tid, const std::string& loc) {
    const Rotation& r = rot_.at(tid);
    if (!send_ctx_.empty() && send_ctx_.back().channel == r.channel)
        return "pto_abi_mod(" + send_ctx_.back().item + ", " + std::to_string(r.copies) + ")";
    for (auto it = consume_ctx_.rbegin(); it != consume_ctx_.rend(); ++it)
        if (it->channel == r.channel)
            return "pto_abi_mod(" + it->item + ", " + std::to_string(r.copies) + ")";
    const Tensor* t = m_.tensor(tid);
    throw CodegenError("tensor " + (t ? t->name : std::to_string(tid)) +
                           " is a rotating buffer of channel " + channel_name(r.channel) +
                           " (depth " + std::to_string(r.copies) + ", filled by the send at " +
                           r.loc + "); a task may use it only in that send or inside consume(" +
                           channel_name(r.channel) + "), where the item number selects the copy",
                       loc);
}

std::string CspEmitter::tensor_base(int64_t tid, const std::string& plain, const std::string& ctype,
                                    const std::string& loc) {
    if (!in_process_ || !rot_.count(tid)) return plain;
    return "((" + ctype + "*)pto_csp_rot_base(pto_C, " + std::to_string(rot_.at(tid).id) + ", " +
           rot_copy(tid, loc) + "))";
}

bool CspEmitter::tracks(int64_t tid) const { return !in_process_ || !rot_.count(tid); }

// ---- driver file ----------------------------------------------------------------------------

std::string CspEmitter::includes() const { return used_ ? "#include \"runtime/csp.h\"\n" : ""; }

std::string CspEmitter::prologue_line() const {
    return used_ ? "    pto_csp* const pto_C = pto_csp_of(R); (void)pto_C;\n" : "";
}

std::string CspEmitter::run_setup() const {
    if (!used_) return "";
    int64_t nch = 0, nev = 0;
    for (const auto& c : m_.channels) nch = std::max(nch, c.id + 1);
    for (const auto& e : m_.events) nev = std::max(nev, e.id + 1);
    std::vector<std::string> cn(static_cast<std::size_t>(nch), "?"), en(static_cast<std::size_t>(nev), "?");
    std::vector<int64_t> cd(static_cast<std::size_t>(nch), 1);
    for (const auto& c : m_.channels) {
        cn[static_cast<std::size_t>(c.id)] = c.name;
        cd[static_cast<std::size_t>(c.id)] = c.depth;
    }
    for (const auto& e : m_.events) en[static_cast<std::size_t>(e.id)] = e.name;
    std::string o = "    static const char* const pto_ch_names[] = {";
    for (const auto& s : cn) o += lit(s) + ", ";
    o += "0};\n    static const int64_t pto_ch_depths[] = {";
    for (int64_t d : cd) o += std::to_string(d) + ", ";
    o += "0};\n    static const char* const pto_ev_names[] = {";
    for (const auto& s : en) o += lit(s) + ", ";
    o += "0};\n";
    o += "    struct pto_csp_guard {\n        pto_csp* c;\n        ~pto_csp_guard() { "
         "pto_csp_destroy(c); }\n    } pto_csp_g{pto_csp_create(R, " +
         std::to_string(nch) + ", pto_ch_names, pto_ch_depths, " + std::to_string(nev) +
         ", pto_ev_names)};\n    (void)pto_csp_g;\n";
    // docs/semantics.md "CSP execution": channel latency, explicit or the run's default
    for (const auto& c : m_.channels) {
        const std::string cycles = c.latency >= 0 ? std::to_string(c.latency) : default_latency_;
        if (c.latency != 0 && !cycles.empty())
            o += "    pto_csp_channel_latency(pto_csp_g.c, " + std::to_string(c.id) + ", " + cycles +
                 ");\n";
    }
    return o;
}

void CspEmitter::intern_run_symbols() {
    if (!used_) return;
    for (const auto& c : m_.channels)
        if (c.latency < 0) {
            default_latency_ = h_.csp_expr(ir::Expr::symbol(kChannelLatencySymbol), "channel latency");
            return;
        }
}

}  // namespace pto::wsp::codegen
