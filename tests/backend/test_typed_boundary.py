"""The typed C++ boundary: policies, the worker count and the simulator config cross as typed
values, never as text, and both backends implement one ``Backend`` interface.

- a policy keeps its kind (an enum member of ``language.policy_kinds``) and its typed parameters
  from the DSL through lowering into the IR schedule;
- the worker count is resolved once at lowering (``compiler.workers``) and both backends read it
  from the IR (cpu_sim's simulator config, the ascend_npu plan);
- ``SimConfig`` / ``RunCosts`` are typed pybind classes: a wrong-typed field is a TypeError that
  names the field;
- ``TARGETS`` is the registered backends.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import pto_wsp
from pto_wsp import (
    Deps,
    DispatchPolicy,
    In,
    Out,
    P,
    Pools,
    ReadyPolicy,
    StartPolicy,
    TaskWindow,
    Tensor,
    Tile,
    TimingPolicy,
    TracePolicy,
    WindowMode,
    kernel,
    workload,
)
from pto_wsp._core import codegen, ir
from pto_wsp.backends import EMIT_ONLY_TARGETS, TARGETS, Backend, backend
from pto_wsp.compiler.lowering import lower
from pto_wsp.language import policy_kinds
from pto_wsp.language.policy_kinds import (
    DepsKind,
    DispatchKind,
    ReadyKind,
    StartKind,
    TimingKind,
    TraceKind,
)

F32 = np.float32


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def other_k(x: In[Tensor], y: Out[Tensor]): ...


def two_kernels(n: int = 3):
    X, Y, Z = (Tensor(np.zeros((n, 4, 4), F32), name=s) for s in "XYZ")

    @workload
    def mixed():
        for i in P(n):
            copy_k[i](x=X[i], y=Y[i])
            other_k[i](x=X[i], y=Z[i])

    return mixed()


# ---- policies survive lowering as typed values ------------------------------------------------


def test_policies_lower_to_the_ir_schedule_as_enum_members_and_typed_fields() -> None:
    w = (
        two_kernels()
        .dispatch(DispatchPolicy.hash(lambda t: t.get("i")))
        .timing(TimingPolicy.batched(3))
        .task_graph(
            window=TaskWindow(8, "tasks", WindowMode.STALL),
            deps=Deps.infer("bounding"),
            ready=ReadyPolicy.lifo(),
            start=StartPolicy.threshold(7),
            trace=TracePolicy.none(),
        )
    )
    s = lower(w).schedule
    assert s.dispatch is DispatchKind.HASH and s.dispatch_key is not None
    assert s.timing is TimingKind.BATCHED and s.timing_param == 3.0
    assert s.window_mode is WindowMode.STALL and s.window_size == 8
    assert s.deps is DepsKind.INFER_BOUNDING
    assert s.ready_policy is ReadyKind.LIFO
    # The threshold is a kind plus an int, not the text "threshold(7)".
    assert s.start_policy is StartKind.THRESHOLD and s.start_threshold == 7
    assert s.trace_policy is TraceKind.NONE
    # The printer still spells them as before.
    assert "start=threshold(7) trace=none" in str(s) and "deps=infer_bounding" in str(s)


def test_unset_policies_are_none_and_eager_has_no_threshold() -> None:
    s = lower(two_kernels().task_graph(start=StartPolicy.eager())).schedule
    assert s.start_policy is StartKind.EAGER and s.start_threshold == 0
    assert s.deps is None and s.ready_policy is None and s.trace_policy is None


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("dispatch", "hash", "DispatchKind"),
        ("timing", "batched", "TimingKind"),
        ("ready_policy", "fifo", "ReadyKind"),
        ("start_policy", "threshold(8)", "StartKind"),
        ("deps", "explicit", "DepsKind"),
        ("window_mode", "stall", "WindowMode"),
        ("dispatch", 2, "DispatchKind"),
    ],
)
def test_the_ir_schedule_refuses_policy_text(field: str, value: object, kind: str) -> None:
    s = ir.Schedule()
    with pytest.raises(TypeError, match=kind):
        setattr(s, field, value)


@pytest.mark.parametrize(
    "enum",
    [
        policy_kinds.DispatchKind,
        policy_kinds.TimingKind,
        policy_kinds.WindowMode,
        policy_kinds.DepsKind,
        policy_kinds.ReadyKind,
        policy_kinds.StartKind,
        policy_kinds.TraceKind,
    ],
)
def test_every_member_crosses_into_cpp_and_back_as_itself(enum: type) -> None:
    field = {
        "DispatchKind": "dispatch",
        "TimingKind": "timing",
        "WindowMode": "window_mode",
        "DepsKind": "deps",
        "ReadyKind": "ready_policy",
        "StartKind": "start_policy",
        "TraceKind": "trace_policy",
    }[enum.__name__]
    for member in enum:
        s = ir.Schedule()
        setattr(s, field, member)
        assert getattr(s, field) is member


# ---- the worker count: resolved at lowering, read by both backends ----------------------------


def _plan_workers(program: object) -> int:
    plan = (Path(program.artifact_dir) / "plan" / "plan.h").read_text()
    return int(re.search(r"#define PTO_PLAN_NUM_WORKERS (\d+)", plan).group(1))


@pytest.mark.parametrize(
    ("schedule", "workers"),
    [
        (lambda w: w, 1),  # nothing asked: the default, 1 (DESIGN §2)
        (lambda w: w.dispatch(DispatchPolicy.round_robin(3)), 3),
        (lambda w: w.dispatch(DispatchPolicy.round_robin(2)).streams(5), 5),
        # At least the pools' total, the asked count (else the default) otherwise. The ascend
        # plan used to take the pools' total alone (1 here while cpu_sim ran the default 4).
        (lambda w: w.task_graph(pools=Pools.by_kernel({"copy_k": 1})), 1),
        (
            lambda w: w.dispatch(DispatchPolicy.round_robin(3)).task_graph(
                pools=Pools.by_kernel({"copy_k": 1})
            ),
            3,
        ),
        (lambda w: w.task_graph(pools=Pools.by_kernel({"copy_k": 2, "other_k": 4})), 6),
        (lambda w: w.spatial_map(grid=(2, 3)), 6),
    ],
)
def test_both_backends_read_the_worker_count_from_the_ir(schedule, workers: int) -> None:
    w = schedule(two_kernels())
    assert lower(w).schedule.workers == workers
    assert f" workers={workers} " in str(lower(w).schedule)
    sim = w.compile(target="cpu_sim")
    assert sim.module.schedule.workers == sim.runner.config.workers == workers
    sim.execute()
    sim.synchronize()
    assert sim.stats.num_workers == workers
    assert _plan_workers(w.compile(target="ascend_npu")) == workers


def test_round_robin_without_a_count_takes_the_run_workers() -> None:
    policy = DispatchPolicy.round_robin()
    assert policy.num_workers is None and str(policy) == "round_robin()"
    assert lower(two_kernels().dispatch(policy)).schedule.workers == ir.DEFAULT_WORKERS == 1
    assert lower(two_kernels().dispatch(policy).streams(6)).schedule.workers == 6


# ---- typed simulator config ----------------------------------------------------------------


def test_sim_config_is_read_from_the_ir_schedule() -> None:
    w = two_kernels().dispatch(DispatchPolicy.work_steal()).timing(TimingPolicy.interleaved(2))
    w = w.task_graph(ready=ReadyPolicy.fifo(), start=StartPolicy.threshold(5))
    w = w.task_graph(pools=Pools.by_kernel({"other_k": 2}))
    config = codegen.sim_config(lower(w))
    # work_steal names no count and there are no streams: the default 1, raised to the pool's 2
    assert (config.workers, config.dispatch, config.timing, config.timing_param) == (
        2,
        DispatchKind.WORK_STEAL,
        TimingKind.INTERLEAVED,
        2.0,
    )
    assert config.ready is ReadyKind.FIFO and config.start_threshold == 5 and config.trace
    assert config.pool_sizes == [2] and config.kernel_pools == [-1, 0]  # by kernel id


@pytest.mark.parametrize(
    ("cls", "field", "value", "expected"),
    [
        ("SimConfig", "workers", "4", "int"),
        ("SimConfig", "dispatch", "hash", "DispatchKind"),
        ("SimConfig", "timing_param", "fast", "float"),
        ("SimConfig", "pool_sizes", 3, r"list\[int\]"),
        ("RunCosts", "ns_per_cycle", "1.0", "float"),
        ("RunCosts", "kernel_cycles", ["a"], r"list\[int\]"),
        ("RunCosts", "trace_reserve", 2.5, "int"),
    ],
)
def test_a_wrong_typed_config_field_is_a_type_error_naming_it(
    cls: str, field: str, value: object, expected: str
) -> None:
    config = getattr(codegen, cls)()
    with pytest.raises(TypeError, match=rf"^{cls}\.{field} must be {expected}, got "):
        setattr(config, field, value)


def test_config_fields_keep_their_values() -> None:
    costs = codegen.RunCosts()
    costs.kernel_cycles = [3, -1]
    costs.hop = 2
    assert costs.kernel_cycles == [3, -1] and costs.hop == 2.0
    config = codegen.SimConfig()
    config.ready = ReadyKind.PRIORITY
    assert config.ready is ReadyKind.PRIORITY and config.workers == ir.DEFAULT_WORKERS


# ---- one Backend interface, one TARGETS -----------------------------------------------------


def test_targets_are_the_registered_backends() -> None:
    assert TARGETS == ("cpu_sim", "ascend_npu") == pto_wsp.backends.TARGETS
    for target in TARGETS:
        found = backend(target)
        assert isinstance(found, Backend) and found.name == target
    with pytest.raises(pto_wsp.CompileError, match="valid targets: cpu_sim, ascend_npu"):
        backend("gpu")


def test_emit_only_targets_are_the_backends_that_do_not_execute() -> None:
    """The Studio shows an emitted tree instead of a timeline for these (app/run_panel.py)."""
    assert {t for t in TARGETS if not backend(t).executes} == EMIT_ONLY_TARGETS
    assert EMIT_ONLY_TARGETS == {"ascend_npu"}


def test_each_backend_emits_one_kernel_through_the_interface() -> None:
    @kernel
    def double(x: In[Tile[4, 4, F32]], y: Out[Tile[4, 4, F32]]):
        pto_wsp.pto.store(y, pto_wsp.pto.add(x, x))

    for target in TARGETS:
        source = backend(target).emit_kernel(double.ir)
        assert "double" in source
        assert double.compile(target=target).code == source  # KernelRef.compile, same path
