"""Schedules end to end through the DSL: each policy changes the cpu_sim trace as its name says.

Every test builds a small workload with ``@workload``/``P``, applies the schedule combinators of
spec §4 (``dispatch``, ``streams``, ``stream_by``, ``timing``, ``task_graph``), compiles for
cpu_sim, executes, and checks worker, stream, start and end of each task exactly.

Kernels have empty bodies, so a task costs the load of each ``In`` plus the store of each ``Out``
by shape (DESIGN.md §2): ``copy_k`` on 4x4 tiles costs 16 + 16 = 32 cycles, on 16x16 tiles 512.
The placement rules are those of docs/semantics.md "Scheduling model".
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pto_wsp import (
    Dense,
    DenseDyn,
    Deps,
    DispatchPolicy,
    In,
    Out,
    P,
    Pools,
    ScheduleError,
    ScheduleWarning,
    Sparse,
    TaskWindow,
    Tensor,
    TimingPolicy,
    WindowMode,
    _core,
    kernel,
    workload,
)
from pto_wsp.runtime.trace import by_task as trace_by_task

F32 = np.float32
SMALL = 32  # copy_k on a 4x4 tile: load 16 + store 16
BIG = 512  # copy_k on a 16x16 tile: load 256 + store 256


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


def run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def by_task(program) -> np.ndarray:
    """The trace in submission order (the trace itself is in issue order)."""
    return trace_by_task(program.trace)


def tiles(n: int, size: int = 4, name: str = "X") -> Tensor:
    return Tensor(np.zeros((n, size, size), F32), name=name)


def grid(n: int):
    """``n`` independent 32-cycle tasks, loop variable ``i`` over an axis named ``items``."""
    X, Y = tiles(n, name="X"), tiles(n, name="Y")
    items = Dense[n]
    items.name = "items"

    @workload
    def flat():
        for i in P(items):
            copy_k[i](x=X[i], y=Y[i])

    return flat()


def attention_grid(batches: int, heads_n: int):
    """§8.1's shape: ``for b, h in P(batch, heads)`` over 4x4 tiles."""
    Q = Tensor(np.zeros((batches, heads_n, 4, 4), F32), name="Q")
    O = Tensor(np.zeros((batches, heads_n, 4, 4), F32), name="O")  # noqa: E741
    batch = DenseDyn(batches)
    heads = Dense[heads_n]

    @workload
    def attention(batch, heads):
        for b, h in P(batch, heads):
            copy_k[b, h](x=Q[b, h], y=O[b, h])

    return attention(batch, heads)


# ---- dispatch ------------------------------------------------------------------------------


def test_round_robin_places_task_i_on_worker_i_mod_n() -> None:
    program = run(grid(8).dispatch(DispatchPolicy.round_robin(3)))
    tr = by_task(program)
    assert tr["worker"].tolist() == [i % 3 for i in range(8)]
    # three workers, in order: tasks 0-2 at 0, 3-5 at 32, 6-7 at 64.
    assert tr["start"].tolist() == [SMALL * (i // 3) for i in range(8)]
    assert (tr["end"] - tr["start"] == SMALL).all()
    assert (tr["stream"] == -1).all()  # no streams
    assert program.stats.total_cycles == 3 * SMALL


@pytest.mark.parametrize(
    ("schedule", "workers", "streams"),
    [
        (lambda w: w, 1, 0),  # default: 1 (DESIGN §2)
        (lambda w: w.dispatch(DispatchPolicy.round_robin(2)), 2, 0),
        (lambda w: w.streams(6), 6, 6),
        (lambda w: w.dispatch(DispatchPolicy.round_robin(2)).streams(6), 6, 6),
        (lambda w: w.streams(2).dispatch(DispatchPolicy.round_robin(5)), 5, 2),
        (lambda w: w.dispatch(DispatchPolicy.affinity(lambda t: t.get("i"))).streams(3), 3, 3),
    ],
    ids=["default", "rr2", "streams6", "rr2-streams6", "streams2-rr5", "affinity-streams3"],
)
def test_worker_count_rule(schedule, workers: int, streams: int) -> None:
    """dispatch(round_robin(n)) or streams(n) set the worker count, the larger wins, default 1.

    A dispatch count that streams(n) overrides is a ScheduleWarning (DESIGN §2)."""
    w = schedule(grid(12))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScheduleWarning)
        program = run(w)
    overridden = [c for c in caught if "the larger count wins" in str(c.message)]
    asked = getattr(w.schedule.dispatch, "num_workers", None)
    assert len(overridden) == (1 if asked and asked < streams else 0)
    tr = by_task(program)
    # round robin, affinity by i and the default all place task i on worker i mod N.
    assert tr["worker"].tolist() == [i % workers for i in range(12)]
    assert tr["stream"].tolist() == [i % streams if streams else -1 for i in range(12)]
    # 12 tasks of 32 cycles: ceil(12 / N) rounds on N workers, unless fewer streams (each in
    # order) hold them back: then ceil(12 / S) tasks one after another on each stream.
    rounds = max(-(-12 // workers), -(-12 // streams) if streams else 0)
    assert program.stats.total_cycles == SMALL * rounds


def test_affinity_keeps_a_batch_on_one_worker() -> None:
    w = attention_grid(3, 2).dispatch(
        DispatchPolicy.affinity(lambda t: t.get("batch"), num_aicpus=4)
    )
    tr = by_task(run(w))
    assert tr["worker"].tolist() == tr["idx0"].tolist() == [0, 0, 1, 1, 2, 2]
    # worker 3 idle; each busy worker runs its two heads back to back.
    assert tr["start"].tolist() == [0, SMALL] * 3
    assert tr["end"].tolist() == [SMALL, 2 * SMALL] * 3


def test_affinity_key_wraps_by_worker_count() -> None:
    w = attention_grid(6, 1).dispatch(DispatchPolicy.affinity(lambda t: t.get("b"), num_aicpus=4))
    tr = by_task(run(w))
    assert tr["worker"].tolist() == [0, 1, 2, 3, 0, 1]
    assert tr["start"].tolist() == [0, 0, 0, 0, SMALL, SMALL]


def test_hash_dispatch_is_splitmix64_of_the_key_mod_n() -> None:
    program = run(grid(16).dispatch(DispatchPolicy.hash(lambda t: t.get("i"), num_aicpus=4)))
    tr = by_task(program)
    expected = [_core.sim.splitmix64(i) % 4 for i in range(16)]
    assert tr["worker"].tolist() == expected
    assert len(set(expected)) > 1  # not a degenerate mapping
    # per worker, its tasks run back to back in submission order.
    for w in range(4):
        mine = tr[tr["worker"] == w]
        assert mine["start"].tolist() == [SMALL * k for k in range(len(mine))]
    assert program.stats.total_cycles == SMALL * max(expected.count(w) for w in range(4))


def test_dispatch_by_arbitrary_key_expression_and_negative_keys() -> None:
    key = DispatchPolicy.dispatch_by(lambda t: t.get("i") * 3 + 1, num_aicpus=4)
    tr = by_task(run(grid(8).dispatch(key)))
    assert tr["worker"].tolist() == [(3 * i + 1) % 4 for i in range(8)]
    key = DispatchPolicy.dispatch_by(lambda t: -t.get("i"), num_aicpus=4)
    tr = by_task(run(grid(8).dispatch(key)))
    assert tr["worker"].tolist() == [(-i) % 4 for i in range(8)]  # normalised, never negative


def _imbalanced():
    """Per iteration one 16x16 copy (512 cycles) then three 4x4 copies (32 cycles each)."""
    Xb, Yb = tiles(4, 16, "Xb"), tiles(4, 16, "Yb")
    Xs, Ys = (
        Tensor(np.zeros((4, 3, 4, 4), F32), name="Xs"),
        Tensor(np.zeros((4, 3, 4, 4), F32), name="Ys"),
    )

    @workload
    def imbalanced():
        for i in P(4):
            copy_k[i](x=Xb[i], y=Yb[i])
            copy_k[i](x=Xs[i, 0], y=Ys[i, 0])
            copy_k[i](x=Xs[i, 1], y=Ys[i, 1])
            copy_k[i](x=Xs[i, 2], y=Ys[i, 2])

    return imbalanced()


def test_work_steal_beats_round_robin_on_an_imbalanced_workload() -> None:
    rr = by_task(run(_imbalanced().dispatch(DispatchPolicy.round_robin(4))))
    # round robin over 4 workers puts every big task (submission 4i) on worker 0.
    assert rr["worker"].tolist() == [i % 4 for i in range(16)]
    assert int(rr["end"].max()) == 4 * BIG

    # work_steal takes no count; one pool of 4 workers holding every task gives it the same 4
    # workers as round robin above (homes count per pool: here the submission index).
    stealing = _imbalanced().dispatch(DispatchPolicy.work_steal())
    program = run(stealing.task_graph(pools=Pools.by_kernel({"copy_k": 4})))
    ws = by_task(program)
    assert program.stats.task_count == 16
    # Hand derivation (4 workers, home = submission index mod 4, earliest start wins, ties home):
    # t0 big w0 [0,512]; t1-3 small w1-3 [0,32]; t4 big: w0 busy, w1 free at 32 -> w1 [32,544];
    # t5 home w1 busy till 544, w2/w3 free at 32 -> lowest index w2 [32,64]; t6 home w2 busy till 64, w3 free at 32 -> w3 [32,64]; t7 home w3 busy till 64,
    # w2 also 64 -> tie, home w3 [64,96]; t8 big home w0 (512), w2 free at 64 -> w2 [64,576];
    # t9 home w1 (544), w3 free at 96 -> w3 [96,128]; t10 home w2 (576), w3 (128) -> w3
    # [128,160]; t11 home w3 [160,192]; t12 big home w0 (512), w3 (192) -> w3 [192,704];
    # t13 home w1 (544), w0 512 -> w0 [512,544]; t14 home w2 (576), w0 544 -> w0 [544,576];
    # t15 home w3 (704), w1 544 -> w1 [544,576]. Makespan 704.
    assert ws["worker"].tolist() == [0, 1, 2, 3, 1, 2, 3, 3, 2, 3, 3, 3, 3, 0, 0, 1]
    starts = [0, 0, 0, 0, 32, 32, 32, 64, 64, 96, 128, 160, 192, 512, 544, 544]
    assert ws["start"].tolist() == starts
    assert program.stats.total_cycles == 704 < 4 * BIG
    stolen = ws["worker"] != ws["task"] % 4
    assert stolen.any()  # some task ran on a worker other than its home
    big = ws[::4]
    assert set(big["worker"].tolist()) != {0}  # big tasks spread out


# ---- streams -------------------------------------------------------------------------------


def test_streams_are_in_order() -> None:
    program = run(grid(8).dispatch(DispatchPolicy.round_robin(4)).streams(2))
    tr = by_task(program)
    assert tr["worker"].tolist() == [i % 4 for i in range(8)]
    assert tr["stream"].tolist() == [i % 2 for i in range(8)]  # key = submission index
    for s in (0, 1):
        mine = tr[tr["stream"] == s]
        # each task of a stream starts when the previous one of the same stream ends, although
        # 4 workers could run 4 tasks at once.
        assert mine["start"].tolist() == [SMALL * k for k in range(4)]
        assert (mine["start"][1:] == mine["end"][:-1]).all()
    assert program.stats.total_cycles == 4 * SMALL  # without streams: 2 * SMALL


def test_stream_by_head_parity() -> None:
    w = attention_grid(2, 4).dispatch(DispatchPolicy.round_robin(8)).streams(2)
    program = run(w.stream_by(lambda t: t.get("head") % 2))
    tr = by_task(program)
    assert tr["stream"].tolist() == [h % 2 for _ in range(2) for h in range(4)]
    assert tr["stream"].tolist() == (tr["idx1"] % 2).tolist()
    # 8 workers, so only the streams serialise: stream s runs its 4 tasks back to back.
    for s in (0, 1):
        mine = tr[tr["stream"] == s]
        assert mine["start"].tolist() == [0, SMALL, 2 * SMALL, 3 * SMALL]
    assert program.stats.total_cycles == 4 * SMALL


# ---- timing --------------------------------------------------------------------------------


def test_timing_immediate_is_the_default() -> None:
    a = by_task(run(grid(8).timing(TimingPolicy.immediate)))
    b = by_task(run(grid(8)))
    # no dispatch: 1 worker (DESIGN §2), the 8 independent tasks back to back
    assert a["start"].tolist() == b["start"].tolist() == [SMALL * k for k in range(8)]
    assert a["worker"].tolist() == b["worker"].tolist()


@pytest.mark.parametrize("rate", [1000.0, 3000.0])
def test_rate_limit_spaces_issues(rate: float) -> None:
    program = run(grid(8).timing(TimingPolicy.rate_limit(rate)))
    tr = by_task(program)
    gap = 1e6 / rate  # ns per task; 1 cycle = 1 ns
    assert tr["start"].tolist() == [int(np.ceil(i * gap - 1e-9)) for i in range(8)]
    assert program.stats.total_cycles == int(np.ceil(7 * gap - 1e-9)) + SMALL


def _big_then_dependent():
    """A block root: big (writes B), small, a reader of B, an independent small."""
    A = Tensor(np.zeros((16, 16), F32), name="A")
    B = Tensor(np.zeros((16, 16), F32), name="B")
    S = tiles(3, name="S")
    T = tiles(3, name="T")

    @kernel
    def shrink(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def block():
        copy_k(x=A, y=B)  # task 0: 512
        copy_k(x=S[0], y=T[0])  # task 1: 32
        shrink(x=B, y=T[1])  # task 2: reads B -> ready at 512; load 256 + store 16 = 272
        copy_k(x=S[2], y=T[2])  # task 3: independent, ready at 0

    # 4 workers: task i on worker i, so only its dependencies and the timing delay a task
    return block().dispatch(DispatchPolicy.round_robin(4))


def test_batched_issues_a_group_when_its_last_member_is_ready() -> None:
    plain = by_task(run(_big_then_dependent()))
    assert plain["start"].tolist() == [0, 0, BIG, 0]
    program = run(_big_then_dependent().timing(TimingPolicy.batched(2)))
    tr = by_task(program)
    # groups {0,1} issue at 0; {2,3} when task 2 is ready (512): task 3 waits with it.
    assert tr["start"].tolist() == [0, 0, BIG, BIG]
    assert tr["end"].tolist() == [BIG, SMALL, BIG + 272, BIG + SMALL]
    assert program.stats.total_cycles == BIG + 272


def test_interleaved_alternates_lanes_on_a_shared_worker() -> None:
    X, Y = (
        Tensor(np.zeros((2, 3, 4, 4), F32), name="X"),
        Tensor(np.zeros((2, 3, 4, 4), F32), name="Y"),
    )

    @workload
    def lanes():
        for h, b in P(2, 3):
            copy_k[h, b](x=X[h, b], y=Y[h, b])

    base = lanes().dispatch(DispatchPolicy.round_robin(1)).stream_by(lambda t: t.get("h"))
    plain = run(base).trace
    assert plain["idx0"].tolist() == [0, 0, 0, 1, 1, 1]
    program = run(base.timing(TimingPolicy.interleaved(2)))
    tr = program.trace  # issue order
    assert tr["idx0"].tolist() == [0, 1, 0, 1, 0, 1]
    assert tr["idx1"].tolist() == [0, 0, 1, 1, 2, 2]
    assert tr["task"].tolist() == [0, 3, 1, 4, 2, 5]
    assert tr["start"].tolist() == [SMALL * k for k in range(6)]
    assert program.stats.total_cycles == 6 * SMALL


# ---- task window ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2])
def test_task_window_limits_tasks_in_flight(size: int) -> None:
    window = TaskWindow(size, "tasks", WindowMode.STALL)
    program = run(grid(8).dispatch(DispatchPolicy.round_robin(4)).task_graph(window=window))
    tr = by_task(program)
    # at most `size` tasks in flight: 4 free workers, yet tasks run `size` at a time.
    assert tr["start"].tolist() == [SMALL * (i // size) for i in range(8)]
    assert tr["worker"].tolist() == [i % 4 for i in range(8)]
    assert program.stats.total_cycles == SMALL * 8 // size


# ---- schedule keys: name resolution (DESIGN §2) --------------------------------------------


@pytest.mark.parametrize("name", ["b", "batch"])
def test_key_by_loop_variable_or_axis_name(name: str) -> None:
    w = attention_grid(4, 2).dispatch(
        DispatchPolicy.dispatch_by(lambda t: t.get(name), num_aicpus=4)
    )
    tr = by_task(run(w))
    assert tr["worker"].tolist() == tr["idx0"].tolist()


@pytest.mark.parametrize("name", ["h", "heads", "head"])
def test_key_by_axis_singular(name: str) -> None:
    w = attention_grid(2, 4).dispatch(
        DispatchPolicy.dispatch_by(lambda t: t.get(name), num_aicpus=4)
    )
    tr = by_task(run(w))
    assert tr["worker"].tolist() == tr["idx1"].tolist()


def test_key_attribute_and_item_spelling() -> None:
    key = DispatchPolicy.affinity(lambda t: t.head + 2 * t["b"], num_aicpus=4)
    w = attention_grid(2, 4).dispatch(key)
    tr = by_task(run(w))
    assert tr["worker"].tolist() == ((tr["idx1"] + 2 * tr["idx0"]) % 4).tolist()


def test_key_by_sel_kernel_name_is_the_selected_index() -> None:
    indptr, indices = [0, 2, 3, 6], [5, 2, 7, 0, 1, 3]
    routing = Sparse(3, indptr, indices)
    Tok = tiles(3, name="Tok")
    Out_ = Tensor(np.zeros((3, 8, 4, 4), F32), name="Out")

    @kernel
    def expert(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def moe():
        for b in P(3):
            for e in P.sel(routing[b]):
                expert[b, e](x=Tok[b], y=Out_[b, e])

    w = moe().dispatch(DispatchPolicy.round_robin(8)).streams(8)
    program = run(w.stream_by(lambda t: t.get("expert")))
    tr = by_task(program)
    assert tr["idx1"].tolist() == indices  # the expert index reaches the trace
    assert tr["stream"].tolist() == indices


def test_unknown_key_name_is_schedule_error_listing_valid_names() -> None:
    w = attention_grid(2, 2)
    with pytest.raises(ScheduleError) as info:
        w.dispatch(DispatchPolicy.affinity(lambda t: t.get("token")))
    msg = str(info.value)
    assert "'token'" in msg
    for valid in ("'b'", "'h'", "'batch'", "'heads'", "'head'"):
        assert valid in msg
    assert __file__ in msg  # points at the user's line
    with pytest.raises(ScheduleError, match="'tokens'"):
        w.streams(2).stream_by(lambda t: t.get("tokens") % 2)


# ---- options cpu_sim rejects (backend applicability, spec §4.8) -----------------------------


@pytest.mark.parametrize(
    ("schedule", "match"),
    [
        (lambda w: w.task_graph(window=TaskWindow(2, "tasks", WindowMode.ABORT)), "mode=ABORT"),
        (
            lambda w: w.task_graph(window=TaskWindow(2, "tasks", WindowMode.BENCHMARK)),
            "mode=BENCHMARK",
        ),
    ],
    ids=["abort", "benchmark"],
)
def test_rejected_schedule_option_is_schedule_error(schedule, match: str) -> None:
    with pytest.raises(ScheduleError, match=match) as info:
        schedule(grid(2)).compile(target="cpu_sim")
    assert "target 'cpu_sim'" in str(info.value)
    assert __file__ in str(info.value)  # points at the task_graph call


def test_accepted_task_graph_knobs_have_their_effect() -> None:
    from pto_wsp import TracePolicy

    program = run(grid(4).task_graph(deps=Deps.infer(), trace=TracePolicy.none()))
    # 4 independent tasks back to back on the 1 default worker
    assert program.stats.task_count == 4 and program.stats.total_cycles == 4 * SMALL
    assert len(program.trace) == 0  # no trace records kept
    program = run(grid(4).task_graph(trace=TracePolicy.full()))
    assert len(program.trace) == 4


# ---- spatial_map: the mesh that TensorShard refinements name --------------------------------


def _sharded_grid(mesh_axis: int):
    from pto_wsp import TensorLayout

    layout = TensorLayout.sharded(dim=0, rank=3, mesh_axis=mesh_axis)
    X = Tensor(np.zeros((4, 4, 4), F32), name="Xs", layout=layout)
    Y = Tensor(np.zeros((4, 4, 4), F32), name="Ys", layout=layout)

    @workload
    def sharded():
        for i in P(4):
            copy_k[i](x=X[i], y=Y[i])

    return sharded()


def test_spatial_map_defines_the_mesh_that_shards_must_fit() -> None:
    program = run(_sharded_grid(1).spatial_map(grid=(2, 2)))
    assert program.stats.task_count == 4  # a mesh the layouts fit: runs
    # X[i] is block i // 2 of dimension 0, held by mesh column i // 2; task i runs on worker i
    # at column i % 2, so tasks 1 and 2 wait one hop (16 cycles) for their input.
    assert by_task(program)["start"].tolist() == [0, 16, 16, 0]
    with pytest.raises(ScheduleError, match=r"mesh axis 1.*grid=\(4,\)") as info:
        _sharded_grid(1).spatial_map(grid=4).compile(target="cpu_sim")
    assert __file__ in str(info.value)  # points at the spatial_map call
