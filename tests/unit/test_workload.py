"""Workload trees built by @workload, P loops, conditions and composition (spec §3)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pto_wsp.errors import ExecutionError, ScheduleError, TypeCheckError
from pto_wsp.language import _builder
from pto_wsp.language.axes import Dense, DenseDyn, Sparse
from pto_wsp.language.kernel import In, KernelCall, Out, kernel
from pto_wsp.language.scalar_expr import LoopVar
from pto_wsp.language.tensor import Tensor
from pto_wsp.language.workload import (
    CombineNode,
    CondNode,
    LoopNode,
    P,
    SequentialNode,
    Workload,
    combine,
    for_each,
    parallel_for,
    sequential,
    task,
    workload,
)

HERE = __file__

Q = Tensor(np.zeros((4, 8, 16), np.float32))
K = Tensor(np.zeros((4, 16), np.float32))
O = Tensor(np.zeros((4, 8, 16), np.float32))  # noqa: E741
X = Tensor(np.zeros((4, 16), np.float32))
Y = Tensor(np.zeros((4, 16), np.float32))
W8 = Tensor(np.zeros((8, 16), np.float32))
OUT = Tensor(np.zeros((4, 8, 16), np.float32))
seq_lens = Tensor(np.array([512, 2048, 8192, 32768], np.int64))


@kernel
def attn(Q: In[Tensor], K: In[Tensor], O: Out[Tensor]): ...  # noqa: E741


@kernel
def step(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def step2(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def step3(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def expert(tokens: In[Tensor], weights: In[Tensor], out: Out[Tensor]): ...


def line_of(text: str) -> int:
    with open(HERE) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError(text)


# ---------------------------------------------------------------------------------------
# loops
# ---------------------------------------------------------------------------------------


@workload
def attention(batch, heads):
    for b, h in P(batch, heads):
        attn[b, h](Q=Q[b, h], K=K[b], O=O[b, h])


def test_parallel_grid_tree_and_type():
    batch, heads = DenseDyn(4), Dense[8]
    w = attention(batch, heads)
    assert isinstance(w, Workload)
    assert w.name == "attention"
    assert w.params == {"batch": batch, "heads": heads}
    (loop,) = w.root
    assert isinstance(loop, LoopNode) and loop.kind == "parallel"
    assert loop.axes == [batch, heads]
    b, h = loop.vars
    assert isinstance(b, LoopVar) and (b.name, h.name) == ("b", "h")
    assert b.axis is batch and b.loop is loop and b.id != h.id
    (call,) = loop.body
    assert isinstance(call, KernelCall) and call.kernel is attn
    assert call.axes[0] is b and call.axes[1] is h
    assert w.dep_type == "Independent"
    assert w.type_str == "Workload[DenseDyn × Dense[8], attn, Independent]"
    assert loop.loc is not None and loop.loc.file == HERE
    assert loop.loc.line == line_of("for b, h in P(batch, heads):")
    # unnamed axes passed as parameters take the parameter names
    assert batch.name == "batch" and heads.name == "heads"


def test_grid_alias_and_int_axis():
    @workload
    def grid(n):
        for i in P.grid(n):
            step[i](X[i], Y[i])

    w = grid(4)
    (loop,) = w.root
    assert loop.kind == "parallel"
    assert loop.axes[0].kind == "dense" and loop.axes[0].size == 4
    assert loop.vars[0].name == "i"


def test_seq_and_nested_mixed():
    @workload
    def staged(stages, tiles):
        for s in P.seq(stages):
            for t in P(tiles):
                step[s, t](X[t], Y[t])

    w = staged(Dense[3], Dense[4])
    (outer,) = w.root
    assert outer.kind == "seq" and outer.vars[0].name == "s"
    (inner,) = outer.body
    assert inner.kind == "parallel" and inner.vars[0].name == "t"
    assert w.dep_type == "Sequential"
    assert w.type_str == "Workload[Dense[3] × Dense[4], step, Sequential]"


def test_sel_over_sparse_row():
    routing = Sparse(4, [0, 2, 5, 7, 10], [1, 3, 0, 2, 4, 1, 5, 0, 3, 7])

    @workload
    def moe(batch, routing):
        for b in P(batch):
            for e in P.sel(routing[b]):
                expert[b, e](tokens=X[b], weights=W8[e], out=OUT[b, e])

    w = moe(DenseDyn(4), routing)
    (outer,) = w.root
    (sel,) = outer.body
    assert sel.kind == "sel" and sel.vars[0].name == "e"
    row = sel.axes[0]
    assert row.axis is routing and row.row is outer.vars[0]
    assert w.type_str == "Workload[DenseDyn × Sparse, expert, Independent]"
    w_sel = Workload("x", [sel])
    assert w_sel.dep_type == "Selected"


def test_loop_variable_fallback_names_when_target_is_not_a_name():
    @workload
    def pairs(a, b):
        for pair in P(a, b):  # one Python name for two variables: name them after the axes
            step[pair[0]](X[pair[1]], Y[pair[0]])

    w = pairs(Dense[2], Dense[4])
    assert [v.name for v in w.root[0].vars] == ["a", "b"]


def test_long_loop_body_still_names_variables():
    # A long body makes the FOR_ITER jump need EXTENDED_ARG; the name must still be found.
    @workload
    def long_body(n):
        for idx in P(n):
            for _ in range(1):
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])
                step[idx](X[idx], Y[idx])

    w = long_body(Dense[4])
    assert w.root[0].vars[0].name == "idx"
    assert len(w.root[0].body) == 10


def test_bad_axis_type_names_accepted_types_and_user_line():
    @workload
    def bad():
        for _i in P("eight"):  # bad-axis-line
            pass

    with pytest.raises(TypeCheckError) as ei:
        bad()
    assert "Dense" in ei.value.message and "str" in ei.value.message
    assert ei.value.loc.file == HERE and ei.value.loc.line == line_of("bad-axis-line")


def test_sparse_axis_in_parallel_loop_is_rejected():
    routing = Sparse(2, [0, 1, 2], [0, 1])

    @workload
    def bad():
        for _e in P(routing[0]):
            pass

    with pytest.raises(TypeCheckError, match="P.sel"):
        bad()


def test_seq_takes_one_axis_and_sel_needs_sparse():
    @workload
    def two():
        for _i in P.seq(Dense[2], Dense[3]):
            pass

    with pytest.raises(TypeCheckError, match="exactly one axis"):
        two()

    @workload
    def notsparse():
        for _i in P.sel(Dense[3]):
            pass

    with pytest.raises(TypeCheckError, match="Sparse"):
        notsparse()


def test_loop_outside_workload_is_an_error():
    with pytest.raises(TypeCheckError, match="inside a @workload") as ei:
        for _ in P(Dense[2]):  # outside-line
            pass
    assert ei.value.loc.line == line_of("outside-line")


def test_exception_in_body_leaves_no_open_scope():
    @workload
    def broken(n):
        for _i in P(n):
            for _j in P.seq(n):
                raise RuntimeError("boom")

    depth = _builder.depth()
    with pytest.raises(RuntimeError, match="boom"):
        broken(Dense[2])
    assert _builder.depth() == depth
    # and tracing works afterwards
    assert attention(Dense[1], Dense[1]).dep_type == "Independent"


def test_break_still_records_loop():
    @workload
    def early(n):
        for i in P(n):
            step[i](X[i], Y[i])
            break

    w = early(Dense[2])
    assert isinstance(w.root[0], LoopNode) and len(w.root[0].body) == 1


# ---------------------------------------------------------------------------------------
# conditions
# ---------------------------------------------------------------------------------------


def test_when_when_otherwise_form_one_chain():
    @workload
    def tiered(batch):
        for b in P(batch):
            with P.when(seq_lens[b] <= 2048):
                step[b](X[b], Y[b])
            with P.when(seq_lens[b] <= 8192):
                step2[b](X[b], Y[b])
            with P.otherwise():
                step3[b](X[b], Y[b])

    w = tiered(Dense[4])
    (loop,) = w.root
    (cond,) = loop.body
    assert isinstance(cond, CondNode)
    preds = [p for p, _ in cond.branches]
    assert [str(p) if p is not None else None for p in preds][2] is None
    assert "<= 2048" in str(preds[0]) and "<= 8192" in str(preds[1])
    assert [body[0].kernel for _, body in cond.branches] == [step, step2, step3]
    assert not cond.is_open
    # spec §3.4: the loop is the outermost construct
    assert w.dep_type == "Independent"
    assert Workload("c", [cond]).dep_type == "Conditional"


def test_when_after_other_statement_starts_new_chain():
    @workload
    def two_chains(batch):
        for b in P(batch):
            with P.when(seq_lens[b] <= 2048):
                step[b](X[b], Y[b])
            step2[b](X[b], Y[b])
            with P.when(seq_lens[b] > 4096):
                step3[b](X[b], Y[b])
            with P.otherwise():
                step[b](X[b], Y[b])
            with P.when(True):
                step2[b](X[b], Y[b])

    (loop,) = two_chains(Dense[4]).root
    kinds = [type(s).__name__ for s in loop.body]
    assert kinds == ["CondNode", "KernelCall", "CondNode", "CondNode"]
    assert len(loop.body[0].branches) == 1
    assert len(loop.body[2].branches) == 2 and loop.body[2].branches[1][0] is None
    pred = loop.body[3].branches[0][0]
    assert pred.kind == "const" and pred.value is True


def test_otherwise_without_when_is_an_error():
    @workload
    def lonely(batch):
        for b in P(batch):
            step[b](X[b], Y[b])
            with P.otherwise():  # lonely-otherwise
                pass

    with pytest.raises(TypeCheckError, match="P.otherwise") as ei:
        lonely(Dense[2])
    assert ei.value.loc.line == line_of("lonely-otherwise")

    @workload
    def twice(batch):
        for b in P(batch):
            with P.when(seq_lens[b] < 3):
                pass
            with P.otherwise():
                pass
            with P.otherwise():
                pass

    with pytest.raises(TypeCheckError, match="P.otherwise"):
        twice(Dense[2])


def test_when_rejects_non_predicates():
    @workload
    def bad(batch):
        for _b in P(batch):
            with P.when("yes"):
                pass

    with pytest.raises(TypeCheckError):
        bad(Dense[2])


def test_symbolic_value_has_no_python_truth():
    @workload
    def pyif(batch):
        for b in P(batch):
            if seq_lens[b] <= 2048:
                step[b](X[b], Y[b])

    with pytest.raises(TypeCheckError, match="P.when"):
        pyif(Dense[2])


# ---------------------------------------------------------------------------------------
# @workload calls and composition
# ---------------------------------------------------------------------------------------


@workload
def norm():
    for i in P(Dense[4]):
        step[i](X[i], Y[i])


@workload
def ffn():
    for i in P(Dense[4]):
        step2[i](Y[i], X[i])


def test_workload_argument_errors():
    with pytest.raises(TypeCheckError, match="attention") as ei:
        attention(Dense[2])  # missing-arg-line
    assert ei.value.loc.line == line_of("missing-arg-line")


def test_combine_and_sequential():
    a = attention(Dense[2], Dense[2])
    layer = combine(norm, a, ffn)  # un-called no-parameter workloads are allowed
    assert isinstance(layer.root, CombineNode)
    assert [c.name for c in layer.root.children] == ["norm", "attention", "ffn"]
    assert layer.dep_type == "Combined"
    assert [k.name for k in layer.kernels()] == ["step", "attn", "step2"]
    seq = sequential(norm(), ffn())
    assert isinstance(seq.root, SequentialNode) and seq.dep_type == "Sequential"
    assert seq.type_str == "Workload[(), step | step2, Sequential]"


def test_combine_rejects_workload_needing_arguments_and_scheduled_children():
    with pytest.raises(TypeCheckError, match="needs arguments"):
        combine(attention, norm)
    with pytest.raises(TypeCheckError):
        combine()
    with pytest.raises(TypeCheckError, match="expected workloads"):
        combine(norm, 3)
    with pytest.raises(ScheduleError, match="schedule"):
        combine(norm().streams(2), ffn)


def test_nested_workload_call_inlines_and_combine_inside_trace_replaces():
    @workload
    def layer():
        norm()
        ffn()

    w = layer()
    assert [type(s).__name__ for s in w.root] == ["LoopNode", "LoopNode"]
    assert w.dep_type == "Independent"

    @workload
    def layer2():
        combine(norm(), ffn())

    w2 = layer2()
    (node,) = w2.root
    assert isinstance(node, CombineNode) and len(node.children) == 2
    assert w2.dep_type == "Combined"

    @workload
    def layer3():
        return sequential(norm(), ffn())

    (node3,) = layer3().root
    assert isinstance(node3, SequentialNode)


def test_body_return_value_rules():
    prebuilt = norm()

    @workload
    def returns_prebuilt():
        return prebuilt

    assert returns_prebuilt().root == prebuilt.root

    @workload
    def returns_int():
        return 3

    with pytest.raises(TypeCheckError, match="returned a int"):
        returns_int()

    @workload
    def both():
        step[0](X[0], Y[0])
        return prebuilt

    with pytest.raises(TypeCheckError, match="both records"):
        both()


def test_dep_type_of_mixed_and_plain_bodies():
    @workload
    def mixed(n):
        for i in P(n):
            step[i](X[i], Y[i])
        for j in P.seq(n):
            step2[j](X[j], Y[j])

    assert mixed(Dense[2]).dep_type == "Combined"

    @workload
    def leaf():
        step(X[0], Y[0])

    assert leaf().dep_type == "Independent"
    assert leaf().type_str == "Workload[(), step, Independent]"


def test_axis_created_in_body_is_named_after_its_variable():
    @workload
    def body_axis(n):
        tiles = DenseDyn(n)
        for i in P.seq(tiles):
            step[i](X[i], Y[i])

    w = body_axis(4)
    assert w.root[0].axes[0].name == "tiles"
    assert w.resolve_axis_name("tile") is w.root[0].vars[0]


# ---------------------------------------------------------------------------------------
# legacy API
# ---------------------------------------------------------------------------------------


def test_legacy_task_with_kernel_ref_and_deprecated_name():
    @workload
    def legacy(batch):
        for b in P(batch):
            task(step, [b], [X[b], Y[b]])
            task(step2, [b], {"x": X[b], "y": Y[b]})

    (loop,) = legacy(Dense[4]).root
    assert [c.kernel for c in loop.body] == [step, step2]
    assert loop.body[0].axes[0] is loop.vars[0]

    @workload
    def by_name(batch):
        for b in P(batch):
            task("step", [b], [X[b], Y[b]])

    with pytest.warns(DeprecationWarning, match="deprecated"):
        (loop,) = by_name(Dense[2]).root
    assert loop.body[0].kernel is step

    @workload
    def unknown(batch):
        for b in P(batch):
            task("no_such_kernel", [b], [])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeCheckError, match="no_such_kernel"):
            unknown(Dense[2])


def test_for_each_and_parallel_for():
    @workload
    def legacy_loops(n):
        for_each(n, lambda i: step[i](X[i], Y[i]))
        parallel_for(n, lambda j: step2[j](X[j], Y[j]))

    w = legacy_loops(Dense[4])
    assert [(s.kind, len(s.body)) for s in w.root] == [("seq", 1), ("parallel", 1)]
    assert w.root[0].vars[0].name == "n"  # named after the axis (the parameter)
    with pytest.raises(TypeCheckError, match="callable"):
        for_each(Dense[2], 3)


def test_workload_layout_is_deprecated():
    from pto_wsp.language.layout import TensorLayout, TensorReplicate, TensorShard

    w = attention(Dense[2], Dense[2])
    with pytest.warns(DeprecationWarning):
        assert w.layout(Q, TensorLayout.default(rank=3)) is w
    with pytest.warns(DeprecationWarning), pytest.raises(ScheduleError, match="relayout"):
        w.layout(Q, TensorShard(0), TensorReplicate(), TensorReplicate())
    with pytest.warns(DeprecationWarning), pytest.raises(ScheduleError, match="TensorLayout"):
        w.layout(Q, "row_major")


def test_compile_delegates_to_backend_and_start_join(monkeypatch):
    import dataclasses

    from pto_wsp.language import toolchain

    calls = []

    class FakeProgram:
        def execute(self):
            calls.append("execute")

        def synchronize(self):
            calls.append("synchronize")

    def fake_compile(w, target):
        calls.append((w.name, target))
        return FakeProgram()

    bound = dataclasses.replace(toolchain.toolchain(), compile_workload=fake_compile)
    monkeypatch.setattr(toolchain, "_bound", bound)
    w = attention(Dense[2], Dense[2])
    with pytest.raises(ExecutionError, match="start"):
        w.join()
    assert isinstance(w.compile("ascend_npu"), FakeProgram)
    w.start()
    w.join()
    assert calls == [
        ("attention", "ascend_npu"),
        ("attention", "cpu_sim"),
        "execute",
        "synchronize",
    ]


def test_walk_visits_everything():
    w = combine(norm, ffn)
    kinds = [type(n).__name__ for n in w.walk()]
    assert kinds == ["CombineNode", "LoopNode", "KernelCall", "LoopNode", "KernelCall"]
