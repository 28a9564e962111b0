"""Task-graph policies on cpu_sim through the DSL: ReadyPolicy, StartPolicy, TracePolicy, Pools.

Every test builds a small ``@workload``, applies ``.task_graph(...)``, compiles for cpu_sim,
executes and checks worker, start and end of each task against a derivation by hand, next to the
same workload without the policy. The rules are docs/semantics.md "Task-graph policies".

Empty-body kernels cost the load of each ``In`` plus the store of each ``Out`` by shape
(DESIGN.md §2): ``copy_k`` on a 4x4 tile costs 16 + 16 = 32 cycles, on a 16x16 tile 512.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pto_wsp import (
    DispatchPolicy,
    In,
    Out,
    P,
    Pools,
    ReadyPolicy,
    ScheduleError,
    ScheduleWarning,
    StartPolicy,
    TaskWindow,
    Tensor,
    TimingPolicy,
    TracePolicy,
    _core,
    kernel,
    pto,
    workload,
)
from pto_wsp.language.policy_kinds import DispatchKind, ReadyKind
from pto_wsp.runtime.trace import TRACE_DTYPE, chrome_trace
from pto_wsp.runtime.trace import by_task as trace_by_task
from pto_wsp.runtime.trace_analysis import analyse_trace

F32 = np.float32
SMALL = 32  # copy_k on a 4x4 tile: load 16 + store 16
BIG = 512  # copy_k on a 16x16 tile: load 256 + store 256
SHRINK = 272  # shrink: load 16x16 (256) + store 4x4 (16)


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def other_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def shrink(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def double_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, x))


@kernel
def square_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mul(x, x))


def run(w, cost_table=None):
    program = w.compile(target="cpu_sim")
    if cost_table is not None:
        program.runner.set_cost_table(cost_table)
    program.execute()
    program.synchronize()
    return program


def by_task(program) -> np.ndarray:
    """The trace in submission order (a ready policy records in start order)."""
    return trace_by_task(program.trace)


def tiles(n: int, size: int = 4, name: str = "X") -> Tensor:
    return Tensor(np.zeros((n, size, size), F32), name=name)


def grid(n: int):
    """``n`` independent 32-cycle tasks over loop variable ``i``."""
    X, Y = tiles(n, name="X"), tiles(n, name="Y")

    @workload
    def flat():
        for i in P(n):
            copy_k[i](x=X[i], y=Y[i])

    return flat()


def blocked_head():
    """Round robin over 2 workers; task 1 (worker 1) reads what task 0 (worker 0) writes.

    task 0  copy_k  A -> B   512 cycles, worker 0, ready at 0
    task 1  shrink  B -> T1  272 cycles, worker 1, ready at 512 (reads B)
    task 2  copy_k           32 cycles,  worker 0, ready at 0
    task 3  copy_k           32 cycles,  worker 1, ready at 0 (independent)
    """
    A = Tensor(np.zeros((16, 16), F32), name="A")
    B = Tensor(np.zeros((16, 16), F32), name="B")
    S, T = tiles(4, name="S"), tiles(4, name="T")

    @workload
    def block():
        copy_k(x=A, y=B)
        shrink(x=B, y=T[1])
        copy_k(x=S[2], y=T[2])
        copy_k(x=S[3], y=T[3])

    return block().dispatch(DispatchPolicy.round_robin(2))


# ---- ReadyPolicy -----------------------------------------------------------------------------


def test_in_order_default_keeps_a_ready_task_behind_a_blocked_one() -> None:
    tr = by_task(run(blocked_head()))
    assert tr["worker"].tolist() == [0, 1, 0, 1]
    # worker 1 runs in issue order: task 3 waits for task 1, which waits for task 0's B.
    assert tr["start"].tolist() == [0, BIG, BIG, BIG + SHRINK]
    assert tr["end"].tolist() == [BIG, BIG + SHRINK, BIG + SMALL, BIG + SHRINK + SMALL]


@pytest.mark.parametrize("policy", ["fifo", "lifo"])
def test_ready_policy_lets_a_ready_task_pass_a_blocked_one(policy: str) -> None:
    program = run(blocked_head().task_graph(ready=getattr(ReadyPolicy, policy)()))
    tr = by_task(program)
    assert tr["worker"].tolist() == [0, 1, 0, 1]  # dispatch still picks the worker
    # worker 1 is free at 0 with task 1 not ready (512) and task 3 ready: task 3 runs at 0,
    # then worker 1 idles until task 1 is ready.
    assert tr["start"].tolist() == [0, BIG, BIG, 0]
    assert tr["end"].tolist() == [BIG, BIG + SHRINK, BIG + SMALL, SMALL]
    assert program.stats.total_cycles == BIG + SHRINK
    # records are in start order
    assert program.trace["start"].tolist() == sorted(program.trace["start"].tolist())


def test_lifo_reverses_the_start_order_on_a_worker() -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(1))
    assert by_task(run(base))["start"].tolist() == [0, SMALL, 2 * SMALL, 3 * SMALL]
    program = run(base.task_graph(ready=ReadyPolicy.lifo()))
    tr = by_task(program)
    # all four are ready at 0 in one group: the last issued runs first.
    assert tr["start"].tolist() == [3 * SMALL, 2 * SMALL, SMALL, 0]
    assert program.trace["task"].tolist() == [3, 2, 1, 0]
    assert program.stats.total_cycles == 4 * SMALL


def test_fifo_equals_in_order_when_every_task_is_ready() -> None:
    base = grid(6).dispatch(DispatchPolicy.round_robin(2))
    plain = by_task(run(base))
    fifo = by_task(run(base.task_graph(ready=ReadyPolicy.fifo())))
    for f in ("task", "worker", "start", "end"):
        assert fifo[f].tolist() == plain[f].tolist()


def test_priority_takes_the_smallest_key_first_ties_in_submission_order() -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(1))
    program = run(base.task_graph(ready=ReadyPolicy.priority(lambda t: t.get("i") % 2)))
    tr = by_task(program)
    # keys 0, 1, 0, 1: tasks 0, 2 (key 0) then 1, 3 (key 1).
    assert program.trace["task"].tolist() == [0, 2, 1, 3]
    assert tr["start"].tolist() == [0, 2 * SMALL, SMALL, 3 * SMALL]
    program = run(base.task_graph(ready=ReadyPolicy.priority(lambda t: -t.get("i"))))
    assert program.trace["task"].tolist() == [3, 2, 1, 0]


def test_priority_key_appears_in_the_ir_schedule() -> None:
    w = grid(2).task_graph(ready=ReadyPolicy.priority(lambda t: t.get("i") * 2))
    program = w.compile(target="cpu_sim")
    s = program.module.schedule
    assert s.ready_policy is ReadyKind.PRIORITY and s.ready_key is not None
    assert "ready=priority((i * 2))" in str(s)


def test_streams_stay_in_order_under_a_ready_policy() -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(2)).stream_by(lambda t: 0).streams(1)
    program = run(base.task_graph(ready=ReadyPolicy.lifo()))
    tr = by_task(program)
    # one stream: each task starts when the previous one (in issue order) ends, whatever lifo
    # prefers, alternating the two round-robin workers.
    assert tr["start"].tolist() == [0, SMALL, 2 * SMALL, 3 * SMALL]
    assert tr["worker"].tolist() == [0, 1, 0, 1]


def test_work_steal_shares_one_ready_queue_under_a_ready_policy() -> None:
    # work_steal takes no count: streams(4) gives the run 4 workers (each task is alone on its
    # stream, submission index mod 4, so the streams order nothing here).
    program = run(
        grid(4)
        .dispatch(DispatchPolicy.work_steal())
        .streams(4)
        .task_graph(ready=ReadyPolicy.lifo())
    )
    tr = by_task(program)
    # 4 workers, all free at 0: worker 0 takes the last task, worker 1 the one before.
    assert tr["worker"].tolist() == [3, 2, 1, 0]
    assert tr["start"].tolist() == [0, 0, 0, 0]


def pipeline(n: int):
    """Stage 1 doubles tile i, stage 2 squares it: stage 2's task i reads stage 1's task i."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, 4, 4)).astype(F32)
    X = Tensor(x.copy(), name="X")
    Y = tiles(n, name="Y")
    Z = tiles(n, name="Z")

    @workload
    def stages():
        for i in P(n):
            double_k[i](x=X[i], y=Y[i])
        for i in P(n):
            square_k[i](x=Y[i], y=Z[i])

    return stages(), x, Y, Z


@pytest.mark.parametrize(
    "ready",
    [
        None,
        ReadyPolicy.fifo(),
        ReadyPolicy.lifo(),
        ReadyPolicy.priority(lambda t: -t.get("i")),
    ],
    ids=["in_order", "fifo", "lifo", "priority"],
)
def test_numerics_and_dependencies_hold_under_every_ready_policy(ready) -> None:
    n = 6
    w, x, Y, Z = pipeline(n)
    if ready is not None:
        w = w.task_graph(ready=ready)
    program = run(w.dispatch(DispatchPolicy.round_robin(3)))
    np.testing.assert_allclose(Y.data, 2 * x, rtol=1e-6)
    np.testing.assert_allclose(Z.data, (2 * x) ** 2, rtol=1e-6)
    tr = by_task(program)
    assert len(tr) == 2 * n and program.stats.task_count == 2 * n
    for i in range(n):  # the consumer never starts before its producer ends
        assert tr["start"][n + i] >= tr["end"][i]


# ---- StartPolicy -----------------------------------------------------------------------------

ISSUE = {"issue": 10.0}


def test_issue_cost_advances_the_issue_clock() -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(4))
    assert by_task(run(base))["start"].tolist() == [0, 0, 0, 0]
    tr = by_task(run(base, ISSUE))
    # the dispatcher spends 10 cycles per task: task i is issued at 10 * (i + 1).
    assert tr["start"].tolist() == [10, 20, 30, 40]
    assert tr["end"].tolist() == [10 + SMALL, 20 + SMALL, 30 + SMALL, 40 + SMALL]


@pytest.mark.parametrize(
    ("n", "starts"),
    [
        (1, [10, 20, 30, 40]),  # threshold(1) == eager
        (3, [30, 30, 30, 40]),  # nothing starts before the 3rd issue (30)
        (8, [40, 40, 40, 40]),  # fewer tasks than n: the last issue (40) opens the gate
    ],
)
def test_start_threshold_delays_starts_until_the_nth_issue(n: int, starts: list[int]) -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(4))
    eager = by_task(run(base.task_graph(start=StartPolicy.eager()), ISSUE))
    assert eager["start"].tolist() == [10, 20, 30, 40]
    program = run(base.task_graph(start=StartPolicy.threshold(n)), ISSUE)
    tr = by_task(program)
    assert tr["start"].tolist() == starts
    assert tr["worker"].tolist() == [0, 1, 2, 3]
    assert program.stats.total_cycles == max(starts) + SMALL


def test_start_threshold_with_rate_limit() -> None:
    # 1000 tasks/ms at 1 ns per cycle: issue i at 1000 * i cycles.
    base = grid(4).dispatch(DispatchPolicy.round_robin(4)).timing(TimingPolicy.rate_limit(1000))
    assert by_task(run(base))["start"].tolist() == [0, 1000, 2000, 3000]
    tr = by_task(run(base.task_graph(start=StartPolicy.threshold(2))))
    assert tr["start"].tolist() == [1000, 1000, 2000, 3000]


def test_start_threshold_without_issue_cost_changes_nothing() -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(2))
    plain = by_task(run(base))
    # ... which is a ScheduleWarning (DESIGN §6: nothing is silently ignored).
    with pytest.warns(ScheduleWarning, match=r"threshold\(3\) has no effect"):
        tr = by_task(run(base.task_graph(start=StartPolicy.threshold(3))))
    assert tr["start"].tolist() == plain["start"].tolist() == [0, 0, SMALL, SMALL]


def test_start_threshold_with_a_ready_policy() -> None:
    base = grid(4).dispatch(DispatchPolicy.round_robin(4))
    w = base.task_graph(ready=ReadyPolicy.fifo(), start=StartPolicy.threshold(3))
    assert by_task(run(w, ISSUE))["start"].tolist() == [30, 30, 30, 40]


def test_a_dependency_opens_the_start_gate_early() -> None:
    # blocked_head's task 1 reads task 0's output: task 0 must be placed before task 1 is
    # issued, so the gate of threshold(4) opens at task 0's issue (10), not at the 4th issue.
    program = run(blocked_head().task_graph(start=StartPolicy.threshold(4)), ISSUE)
    tr = by_task(program)
    assert tr["start"].tolist() == [10, 10 + BIG, 10 + BIG, 10 + BIG + SHRINK]


# ---- TracePolicy -----------------------------------------------------------------------------


@pytest.mark.parametrize("ready", [None, ReadyPolicy.lifo()], ids=["in_order", "lifo"])
def test_trace_none_records_nothing_and_keeps_the_stats(ready) -> None:
    base = grid(6).dispatch(DispatchPolicy.round_robin(2))
    if ready is not None:
        base = base.task_graph(ready=ready)
    full = run(base.task_graph(trace=TracePolicy.full()))
    none = run(base.task_graph(trace=TracePolicy.none()))
    assert len(full.trace) == 6
    assert len(none.trace) == 0 and none.trace.dtype == TRACE_DTYPE
    assert none.stats.task_count == full.stats.task_count == 6
    assert none.stats.total_cycles == full.stats.total_cycles == 3 * SMALL


def test_empty_trace_helpers_do_not_crash() -> None:
    empty = np.zeros(0, dtype=TRACE_DTYPE)
    events = chrome_trace(empty, ["copy_k"])["traceEvents"]
    assert [e["ph"] for e in events] == ["M"]  # the process name only
    analysis = analyse_trace(empty, ["copy_k"])
    assert analysis.task_count == 0 and analysis.kernels == () and analysis.makespan == 0


def test_cli_run_with_trace_none_says_no_trace_was_recorded(tmp_path: Path) -> None:
    script = tmp_path / "untraced.py"
    script.write_text(
        "import numpy as np\n"
        "from pto_wsp import In, Out, P, Tensor, TracePolicy, kernel, workload\n"
        "@kernel\n"
        "def copy_k(x: In[Tensor], y: Out[Tensor]): ...\n"
        "X = Tensor(np.zeros((4, 4, 4), np.float32), name='X')\n"
        "Y = Tensor(np.zeros((4, 4, 4), np.float32), name='Y')\n"
        "@workload\n"
        "def flat():\n"
        "    for i in P(4):\n"
        "        copy_k[i](x=X[i], y=Y[i])\n"
        "p = flat().task_graph(trace=TracePolicy.none()).compile(target='cpu_sim')\n"
        "p.execute()\n"
        "p.synchronize()\n"
    )
    trace_out, stats_out = tmp_path / "t.json", tmp_path / "s.json"
    res = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "run", str(script), "--trace", str(trace_out)]
        + ["--stats", str(stats_out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "task_count       4" in res.stdout
    assert "no per-task trace" in res.stdout
    assert "TracePolicy.none()" in res.stderr  # --trace explains why the file is empty
    assert [e["ph"] for e in json.loads(trace_out.read_text())["traceEvents"]] == ["M"]
    stats = json.loads(stats_out.read_text())
    assert stats["task_count"] == 4 and stats["analysis"] is None


# ---- Pools -----------------------------------------------------------------------------------


def two_kernels(n: int):
    """Iteration i submits copy_k (task 2i) then other_k (task 2i + 1)."""
    X, Y, Z = tiles(n, name="X"), tiles(n, name="Y"), tiles(n, name="Z")

    @workload
    def mixed():
        for i in P(n):
            copy_k[i](x=X[i], y=Y[i])
            other_k[i](x=X[i], y=Z[i])

    return mixed()


def test_pools_confine_each_kernel_to_its_worker_range() -> None:
    plain = by_task(run(two_kernels(3).dispatch(DispatchPolicy.round_robin(4))))
    assert plain["worker"].tolist() == [0, 1, 2, 3, 0, 1]  # round robin over 4
    program = run(two_kernels(3).task_graph(pools=Pools.by_kernel({copy_k: 1, "other_k": 3})))
    tr = by_task(program)
    assert "pools=[1, 3] pool_kernels=[copy_k:0, other_k:1]" in str(program.module.schedule)
    # pool 0 = worker 0 (copy_k), pool 1 = workers 1..3 (other_k); round robin per pool.
    assert tr["worker"].tolist() == [0, 1, 0, 2, 0, 3]
    assert tr["start"].tolist() == [0, 0, SMALL, 0, 2 * SMALL, 0]
    assert program.stats.total_cycles == 3 * SMALL


def test_pools_apply_the_dispatch_key_within_the_pool() -> None:
    w = two_kernels(4).dispatch(DispatchPolicy.affinity(lambda t: t.get("i")))
    tr = by_task(run(w.task_graph(pools=Pools.by_kernel({"copy_k": 2, "other_k": 2}))))
    # key i mod 2 inside each pool: copy_k on 0 + i % 2, other_k on 2 + i % 2.
    assert tr["worker"].tolist() == [0, 2, 1, 3, 0, 2, 1, 3]


def test_unpooled_kernels_run_on_any_worker() -> None:
    w = two_kernels(4).dispatch(DispatchPolicy.round_robin(4))
    tr = by_task(run(w.task_graph(pools=Pools.by_kernel({"copy_k": 1}))))
    copy_workers = tr["worker"][0::2].tolist()
    other_workers = tr["worker"][1::2].tolist()
    assert copy_workers == [0, 0, 0, 0]
    # other_k keeps the global round robin (submission index mod 4 workers).
    assert other_workers == [1, 3, 1, 3]


def test_pools_set_the_worker_count() -> None:
    program = run(two_kernels(6).task_graph(pools=Pools.by_kernel({"copy_k": 2, "other_k": 3})))
    tr = by_task(program)
    assert set(tr["worker"][0::2].tolist()) == {0, 1}
    assert set(tr["worker"][1::2].tolist()) == {2, 3, 4}  # 5 workers: 2 + 3 > the default 1


def test_pools_and_a_ready_policy_together() -> None:
    w = two_kernels(3).task_graph(
        pools=Pools.by_kernel({"copy_k": 1, "other_k": 3}), ready=ReadyPolicy.lifo()
    )
    tr = by_task(run(w))
    assert tr["worker"].tolist() == [0, 1, 0, 2, 0, 3]
    # worker 0 holds the three copy_k tasks, all ready at 0: the last issued first.
    assert tr["start"][0::2].tolist() == [2 * SMALL, SMALL, 0]


def test_unknown_pool_kernel_is_a_schedule_error_at_the_task_graph_call() -> None:
    w = grid(2).task_graph(pools=Pools.by_kernel({"attention": 2}))  # the error's line
    line = test_unknown_pool_kernel_is_a_schedule_error_at_the_task_graph_call.__code__
    with pytest.raises(ScheduleError) as info:
        w.compile(target="cpu_sim")
    msg = str(info.value)
    assert "'attention'" in msg and "copy_k" in msg
    assert info.value.loc is not None and info.value.loc.file == __file__
    assert info.value.loc.line == line.co_firstlineno + 1


def test_spatial_map_smaller_than_the_pools_is_a_schedule_error() -> None:
    w = grid(2).spatial_map(grid=(1, 2)).task_graph(pools=Pools.by_kernel({"copy_k": 3}))
    with pytest.raises(ScheduleError) as info:
        w.compile(target="cpu_sim")
    msg = str(info.value)
    assert "Pools.by_kernel needs 3 workers" in msg and "grid=(1, 2)" in msg
    assert info.value.loc is not None and info.value.loc.file == __file__


def test_pools_built_directly_are_checked_at_the_users_line() -> None:
    # Review of issue 8: a Pools built by hand (as the Studio exporter writes it) with a pool
    # index out of range or a kernel listed twice used to reach the simulator and fail there
    # (IRConversionError / "invalid simulator configuration"), or silently pick one pool.
    cases = [
        (
            lambda: Pools((2,), (("copy_k", 5),)),
            "kernel 'copy_k' is given pool 5, but the pools are 0..0",
        ),
        (lambda: Pools((0,), (("copy_k", 0),)), "worker count of pool 0 must be >= 1, got 0"),
        (lambda: Pools((2, 2), (("copy_k", 0), ("copy_k", 1))), "lists kernel 'copy_k' twice"),
        (lambda: Pools.by_kernel({copy_k: 1, "copy_k": 2}), "lists kernel 'copy_k' twice"),
        (lambda: Pools((), ()), "non-empty tuple of worker counts"),
    ]
    for make, message in cases:
        with pytest.raises(ScheduleError, match=message) as info:
            make()
        assert info.value.loc is not None and info.value.loc.file == __file__
    assert Pools([2, 1], [["copy_k", 1]]) == Pools((2, 1), (("copy_k", 1),))  # normalised


def test_dataclass_checks_point_at_the_users_line() -> None:
    # Review of issue 8: TaskWindow(0) reported "<string>:6" (the dataclass-generated __init__)
    # instead of the line that built it.
    with pytest.raises(ScheduleError, match=r"TaskWindow\(size\) must be >= 1") as info:
        grid(2).task_graph(window=TaskWindow(0))
    assert info.value.loc is not None and info.value.loc.file == __file__
    assert "TaskWindow(0)" in info.value.loc.text


def test_simulator_rejects_pools_larger_than_the_workers() -> None:
    with pytest.raises(ValueError, match="pool sizes add up to more than workers"):
        _core.sim.Simulator(workers=2, pools=[2, 1], kernel_pools=[0, 1])
    with pytest.raises(TypeError, match="ReadyKind"):  # a policy is an enum member, not text
        _core.sim.Simulator(ready="fifo")


# ---- the simulator's list scheduler against a naive reference --------------------------------


def _reference(tasks: list[dict], workers: int, policy: str, streams: int, steal: bool) -> dict:
    """Naive O(n^2) event loop of docs/semantics.md "Task-graph policies" for one group (no
    region accesses): {task: (worker, start)}."""
    free = [0] * workers
    wake = [0] * workers
    done: dict[int, tuple[int, int]] = {}
    stream_prev: dict[int, int] = {}
    prev = {}
    for i, t in enumerate(tasks):
        if streams:
            s = t["stream"] % streams
            prev[i] = stream_prev.get(s)
            stream_prev[s] = i
    ends: dict[int, int] = {}

    def ready_at(i: int) -> int | None:  # None: its stream predecessor has not started
        p = prev.get(i)
        if p is not None and p not in ends:
            return None
        return max(tasks[i]["min_start"], ends[p] if p is not None else 0)

    def first(cands: list[int]) -> int:
        if policy == "fifo":
            return min(cands)
        if policy == "lifo":
            return max(cands)
        return min(cands, key=lambda i: (tasks[i]["key"], i))

    while len(done) < len(tasks):
        now = min(wake)
        w = wake.index(now)
        mine = [
            i
            for i in range(len(tasks))
            if i not in done and (steal or tasks[i]["worker"] == w) and ready_at(i) is not None
        ]
        ready = [i for i in mine if ready_at(i) <= now]
        if not ready:
            later = [ready_at(i) for i in mine]
            wake[w] = min(later) if later else 10**18
            continue
        i = first(ready)
        done[i] = (w, now)
        ends[i] = now + tasks[i]["cycles"]
        free[w] = wake[w] = ends[i]
        for j, p in prev.items():  # a successor that became eligible wakes idle workers
            if p == i and j not in done:
                r = ready_at(j)
                for k in range(workers) if steal else [tasks[j]["worker"]]:
                    wake[k] = min(wake[k], max(r, free[k]))
    return done


@pytest.mark.parametrize("seed", range(12))
def test_list_scheduler_matches_a_naive_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    policy = ["fifo", "lifo", "priority"][seed % 3]
    steal = seed % 4 == 3
    streams = int(rng.integers(0, 3))
    workers = int(rng.integers(1, 4))
    n = int(rng.integers(5, 40))
    tasks = [
        {
            "cycles": int(rng.integers(0, 50)),
            "min_start": int(rng.integers(0, 100)) if rng.random() < 0.5 else 0,
            "worker": int(rng.integers(0, workers)),
            "key": int(rng.integers(0, 5)),
            "stream": int(rng.integers(0, 4)),
        }
        for _ in range(n)
    ]
    sim = _core.sim.Simulator(
        workers=workers,
        dispatch=DispatchKind.WORK_STEAL if steal else DispatchKind.AFFINITY,
        streams=streams,
        ready=ReadyKind(policy),
    )
    for t in tasks:
        sim.submit(
            0,
            t["cycles"],
            dispatch_key=t["worker"],
            stream_key=t["stream"],
            min_start=t["min_start"],
            ready_key=t["key"],
        )
    sim.finish()
    got = {int(r["task"]): (int(r["worker"]), int(r["start"])) for r in sim.trace}
    assert got == _reference(tasks, workers, policy, streams, steal)
