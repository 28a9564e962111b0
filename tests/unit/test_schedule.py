"""Schedule combinators, policies, key tracing and Program (spec §4, §5.2; DESIGN §2)."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.errors import CompileError, ExecutionError, ScheduleError
from pto_wsp.language.axes import Dense, DenseDyn, Sparse
from pto_wsp.language.kernel import In, Out, kernel
from pto_wsp.language.schedule import (
    Deps,
    DispatchPolicy,
    Pools,
    ReadyPolicy,
    ScheduleSpec,
    StartPolicy,
    SymbolicTask,
    TaskWindow,
    TimingPolicy,
    TracePolicy,
    WindowMode,
)
from pto_wsp.language.tensor import Tensor
from pto_wsp.language.workload import P, workload
from pto_wsp.runtime.program import Program, ProgramStats

HERE = __file__

Q = Tensor(np.zeros((4, 8, 16), np.float32))
O = Tensor(np.zeros((4, 8, 16), np.float32))  # noqa: E741
X = Tensor(np.zeros((4, 16), np.float32))
W8 = Tensor(np.zeros((8, 16), np.float32))
OUT = Tensor(np.zeros((4, 8, 16), np.float32))


@kernel
def attn_kernel(Q: In[Tensor], O: Out[Tensor]): ...  # noqa: E741


@kernel
def expert(tokens: In[Tensor], weights: In[Tensor], out: Out[Tensor]): ...


@workload
def attention(batch, heads):
    for b, h in P(batch, heads):
        attn_kernel[b, h](Q=Q[b, h], O=O[b, h])


@workload
def moe(batch, routing):
    for b in P(batch):
        for e in P.sel(routing[b]):
            expert[b, e](tokens=X[b], weights=W8[e], out=OUT[b, e])


def line_of(text: str) -> int:
    with open(HERE) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError(text)


@pytest.fixture
def attn():
    return attention(DenseDyn(4), Dense[8])


@pytest.fixture
def moe_w():
    return moe(DenseDyn(4), Sparse(4, [0, 2, 5, 7, 10], [1, 3, 0, 2, 4, 1, 5, 0, 3, 7]))


# ---------------------------------------------------------------------------------------
# combinators
# ---------------------------------------------------------------------------------------


def test_combinators_are_immutable_and_recorded(attn):
    base = attn.schedule
    assert base == ScheduleSpec() and base.is_empty()
    w1 = attn.dispatch(DispatchPolicy.round_robin(4))
    w2 = w1.task_graph(window=TaskWindow(8192, "tasks", WindowMode.STALL))
    assert attn.schedule is base and attn.schedule.dispatch is None
    assert w1.schedule.window is None
    assert w2.root is attn.root and w2.name == attn.name
    assert w2.schedule.dispatch.kind == "round_robin" and w2.schedule.dispatch.num_workers == 4
    assert w2.schedule.window == TaskWindow(8192, "tasks", WindowMode.STALL)
    assert [s.name for s in w2.schedule.steps] == ["dispatch", "task_graph"]
    assert w2.schedule.steps[0].loc.file == HERE


def test_spec_8_1_chain(attn):
    w = (
        attn.dispatch(DispatchPolicy.affinity(lambda t: t.get("batch")))
        .streams(2)
        .stream_by(lambda t: t.get("head") % 2)
        .timing(TimingPolicy.immediate)
    )
    s = w.schedule
    assert s.dispatch.kind == "affinity"
    assert s.dispatch.key.kind == "axis" and s.dispatch.key.name == "batch"
    assert s.streams == 2
    assert str(s.stream_key) == "head % 2"
    assert s.stream_key.op == "mod" and s.stream_key.args[0].name == "head"
    assert s.timing is TimingPolicy.immediate and s.timing.kind == "immediate"
    assert TimingPolicy.immediate() is TimingPolicy.immediate
    loop = attn.root[0]
    assert attn.resolve_axis_name("batch") is loop.vars[0]
    assert attn.resolve_axis_name("head") is loop.vars[1]
    assert attn.resolve_axis_name("heads") is loop.vars[1]
    assert attn.resolve_axis_name("b") is loop.vars[0]


def test_attribute_form_and_string_keys(attn):
    w = attn.dispatch(DispatchPolicy.hash(lambda t: t.batch * 8 + t["h"]))
    assert str(w.schedule.dispatch.key) == "batch * 8 + h"
    w2 = attn.dispatch(DispatchPolicy.dispatch_by("head"))
    assert w2.schedule.dispatch.key.name == "head"
    assert str(DispatchPolicy.round_robin(num_aicpus=2)) == "round_robin(2)"


def test_sel_loop_resolves_kernel_name(moe_w):
    w = moe_w.dispatch(DispatchPolicy.work_steal()).streams(8).stream_by(lambda t: t.get("expert"))
    sel = moe_w.root[0].body[0]
    assert moe_w.resolve_axis_name("expert") is sel.vars[0]
    assert w.schedule.dispatch.kind == "work_steal" and w.schedule.dispatch.key is None
    assert w.schedule.stream_key.name == "expert"


def test_unknown_key_name_lists_valid_names_at_lambda_line(attn):
    with pytest.raises(ScheduleError) as ei:
        attn.stream_by(lambda t: t.get("expert"))  # unknown-key-line
    msg = ei.value.message
    assert "'expert'" in msg and "'batch'" in msg and "'head'" in msg and "'h'" in msg
    assert ei.value.loc.file == HERE and ei.value.loc.line == line_of("unknown-key-line")
    with pytest.raises(ScheduleError, match="valid names"):
        attn.resolve_axis_name("nope")


def test_untraceable_key_functions():
    def custom_logic(t):
        if t.get("b") > 2:  # needs a concrete value
            return 1
        return 0

    with pytest.raises(ScheduleError, match="cannot be traced") as ei:
        DispatchPolicy.dispatch_by(custom_logic)
    assert ei.value.loc.line == line_of("def custom_logic(t):")
    with pytest.raises(ScheduleError, match="cannot be traced"):
        DispatchPolicy.affinity(lambda t: int(t.get("b")))
    with pytest.raises(ScheduleError, match="returned a str"):
        DispatchPolicy.affinity(lambda t: "b")
    with pytest.raises(ScheduleError, match="t.kernel"):
        DispatchPolicy.affinity(lambda t: t.kernel)
    with pytest.raises(ScheduleError, match="key function") as ei:
        DispatchPolicy.affinity(3)  # noncallable-line
    assert ei.value.loc.line == line_of("noncallable-line")


def test_symbolic_task():
    t = SymbolicTask()
    assert t.get("x").kind == "axis" and t.y.name == "y"
    with pytest.raises(AttributeError):
        t._private  # noqa: B018
    with pytest.raises(ScheduleError):
        t.get(3)


def test_bad_schedule_arguments(attn):
    with pytest.raises(ScheduleError, match="streams") as ei:
        attn.streams(0)  # streams-zero-line
    assert ei.value.loc.line == line_of("streams-zero-line")
    with pytest.raises(ScheduleError):
        attn.streams(True)
    with pytest.raises(ScheduleError, match="TaskWindow"):
        TaskWindow(-1)
    with pytest.raises(ScheduleError, match="unit"):
        TaskWindow(8, "bytes")
    with pytest.raises(ScheduleError, match="mode"):
        TaskWindow(8, "tasks", "sometimes")
    assert TaskWindow(8, mode="stall").mode is WindowMode.STALL
    with pytest.raises(ScheduleError, match="DispatchPolicy"):
        attn.dispatch("round_robin")
    with pytest.raises(ScheduleError, match="call the constructor"):
        attn.dispatch(DispatchPolicy.round_robin)
    with pytest.raises(ScheduleError, match="num_aicpus"):
        DispatchPolicy.round_robin(0)
    with pytest.raises(ScheduleError, match="TimingPolicy"):
        attn.timing(DispatchPolicy.work_steal())
    with pytest.raises(ScheduleError, match="> 0"):
        TimingPolicy.rate_limit(0)
    with pytest.raises(ScheduleError, match="> 0"):
        TimingPolicy.rate_limit(-2.5)
    with pytest.raises(ScheduleError):
        TimingPolicy.batched(0)
    with pytest.raises(ScheduleError):
        TimingPolicy.interleaved("2")
    with pytest.raises(ScheduleError, match="at least one"):
        attn.task_graph()
    with pytest.raises(ScheduleError, match="Deps"):
        attn.task_graph(deps="infer")
    with pytest.raises(ScheduleError, match="spatial_map"):
        attn.spatial_map(grid=(4, 4, 4))
    with pytest.raises(ScheduleError):
        attn.spatial_map(grid=(0, 4))


def test_timing_policies():
    assert (TimingPolicy.batched(4).kind, TimingPolicy.batched(4).param) == ("batched", 4)
    assert TimingPolicy.interleaved(2).param == 2
    r = TimingPolicy.rate_limit(2.5)
    assert (r.kind, r.param, str(r)) == ("rate_limit", 2.5, "rate_limit(2.5)")


def test_task_graph_knobs(attn):
    w = attn.task_graph(
        window=16,
        deps=Deps.explicit(),
        ready=ReadyPolicy.priority(lambda t: t.get("head")),
        start=StartPolicy.threshold(8),
        trace=TracePolicy.none(),
        pools=Pools.by_kernel({attn_kernel: 2, "other": 1}),
    )
    s = w.schedule
    assert s.window == TaskWindow(16)
    assert str(s.deps) == "explicit" and s.deps == Deps.explicit()
    assert str(s.ready_policy) == "priority(head)" and s.ready_policy.key.name == "head"
    assert str(s.start_policy) == "threshold(8)"
    assert str(s.trace_policy) == "none"
    assert s.pools.sizes == (2, 1) and s.pools.kernels == (("attn_kernel", 0), ("other", 1))
    assert str(Deps.infer()) == "infer" and str(ReadyPolicy.fifo()) == "fifo"
    assert str(ReadyPolicy.lifo()) == "lifo" and str(StartPolicy.eager()) == "eager"
    assert str(TracePolicy.full()) == "full"
    with pytest.raises(ScheduleError):
        StartPolicy.threshold(0)
    with pytest.raises(ScheduleError):
        Pools.by_kernel({})
    with pytest.raises(ScheduleError):
        Pools.by_kernel({"a": 0})
    with pytest.raises(ScheduleError, match="valid names"):
        attn.task_graph(ready=ReadyPolicy.priority(lambda t: t.get("zzz")))


def test_spatial_map(attn):
    assert attn.spatial_map(grid=(4, 4)).schedule.spatial_grid == (4, 4)
    assert attn.spatial_map(grid=8).schedule.spatial_grid == (8,)


# ---------------------------------------------------------------------------------------
# Program
# ---------------------------------------------------------------------------------------


class FakeRunner:
    def __init__(self, fail: Exception | None = None):
        self.fail = fail
        self.started = 0
        self.finished = False

    def start(self, program):
        self.started += 1
        self.finished = True

    def wait(self):
        if self.fail is not None:
            raise self.fail

    def done(self):
        return self.finished

    def stats(self):
        return {"task_count": 32, "total_cycles": 1234, "execute_time_ms": 0.5}

    def trace(self):
        return np.zeros(3)


def test_program_runs_through_runner(attn):
    runner = FakeRunner()
    p = Program(
        attn, "cpu_sim", module="M", artifact_dir="/tmp/x", compile_time_ms=12.5, runner=runner
    )
    assert p.module == "M" and p.codegen_artifact_dir == "/tmp/x"
    assert not p.is_complete()
    assert p.stats.compile_time_ms == 12.5 and p.stats.task_count == 0
    with pytest.raises(ExecutionError, match="before execute"):
        p.synchronize()
    p.execute()
    assert p.is_complete()
    p.synchronize()
    st = p.stats
    assert isinstance(st, ProgramStats) and p.stats() is st
    assert (st.task_count, st.total_cycles, st.execute_time_ms) == (32, 1234, 0.5)
    assert p.trace.shape == (3,)
    p.execute()
    assert runner.started == 2


def test_program_surfaces_run_errors_from_synchronize(attn):
    p = Program(attn, "cpu_sim", None, None, 1.0, runner=FakeRunner(ExecutionError("kernel died")))
    p.execute()
    assert p.stats.total_cycles == 1234  # stats readable without swallowing the error
    with pytest.raises(ExecutionError, match="kernel died"):
        p.synchronize()


def test_program_without_runner(attn):
    p = Program(attn, "ascend_npu", None, "/tmp/emitted", 3.0)
    with pytest.raises(CompileError, match="no executable artifact") as ei:
        p.execute()  # no-runner-line
    assert "/tmp/emitted" in ei.value.message
    assert ei.value.loc.line == line_of("no-runner-line")
    assert not p.is_complete()
    with pytest.raises(ExecutionError):
        p.trace  # noqa: B018
