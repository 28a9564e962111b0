"""The reference implementation's builder style outside ``@workload`` (issue #17 item 5).

Each builder form works outside a workload, returns a workload of its own and warns once, naming
the spec form; inside a body function or a ``@workload`` it records and returns the statement.
Also the reference's module paths, ``Tensor.base`` / ``index_exprs`` and the loop-naming keywords.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    Dense,
    In,
    Out,
    P,
    Sparse,
    Tensor,
    TypeCheckError,
    Workload,
    connect,
    consume,
    kernel,
    process,
    send,
    workload,
)
from pto_wsp.language.workload import builder
from pto_wsp.language.workload.nodes import (
    CondNode,
    ConsumeNode,
    LoopNode,
    SendNode,
    SequentialNode,
)

F32 = np.float32
X = Tensor(np.zeros((4, 2, 8), F32))
Y = Tensor(np.zeros((4, 2, 8), F32))


@kernel
def step(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def other(x: In[Tensor], y: Out[Tensor]): ...


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the first use of every form (the once-per-process registry starts empty)."""
    monkeypatch.setattr(builder, "_warned", set())


def builder_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [
        str(w.message)
        for w in record
        if issubclass(w.category, DeprecationWarning) and "builder style" in str(w.message)
    ]


def test_every_form_outside_a_workload_returns_a_workload_and_warns_once_naming_the_spec_form(
    fresh_warnings: None,
) -> None:
    from pto_wsp.primitives import cond, for_each, parallel_for, select, task

    routing = Sparse(4, [0, 1, 2, 4, 4], [0, 1, 0, 1])
    ch = Channel("c", depth=1)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        made = {
            "task": task(step, [0], {"x": X[0], "y": Y[0]}),
            "for_each": for_each(Dense[4], lambda i: task(step, [i], {"x": X[i], "y": Y[i]})),
            "parallel_for": parallel_for(Dense[4], lambda b: step[b](X[b], Y[b])),
            "select": select(routing[1], lambda e: step[e](X[e], Y[e])),
            "cond": cond(1, lambda: step(X[0], Y[0])),
            "send": send(ch, None),
            "consume": consume(ch, lambda t: step[t](X[t], Y[t])),
        }
        # a second use of each form warns no more
        task(step, [1], {"x": X[1], "y": Y[1]})
        for_each(Dense[4], lambda i: step[i](X[i], Y[i]))
        send(ch, None)
    texts = builder_warnings(rec)
    assert len(texts) == len(made), texts
    for form, w in made.items():
        assert isinstance(w, Workload), form
        (text,) = [t for t in texts if t.startswith(f"{form}(...)")]
        assert builder.SPEC_FORMS[form] in text
    assert any("`for i in P.seq(axis):`" in t for t in texts)
    assert any("`kernel[axes](param=view, ...)`" in t for t in texts)
    # the warning points at the user's line
    assert all(w.filename == __file__ for w in rec if "builder style" in str(w.message))


def test_inside_a_workload_the_forms_record_without_a_warning() -> None:
    from pto_wsp.primitives import cond, for_each, task

    @workload
    def w(n):
        node = for_each(n, lambda i: task(step, [i], {"x": X[i], "y": Y[i]}))
        assert isinstance(node, LoopNode)
        assert isinstance(cond(1, lambda: step(X[0], Y[0])), CondNode)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traced = w(Dense[4])
    assert [type(s) for s in traced.root] == [LoopNode, CondNode]


def test_builder_loop_records_what_the_body_records_and_adopts_what_it_returns(
    fresh_warnings: None,
) -> None:
    from pto_wsp.primitives import parallel_for, sequential, task

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        prebuilt = task(other, [0], {"x": X[0], "y": Y[0]})
        w = parallel_for(
            Dense[4],
            lambda b: sequential(
                task(step, [b], {"x": X[b], "y": Y[b]}), task(other, [b], {"x": Y[b], "y": X[b]})
            ),
        )
        adopted = parallel_for(Dense[2], lambda b: prebuilt)
    (loop,) = w.root
    assert loop.kind == "parallel" and w.dep_type == "Independent"
    (seq,) = loop.body  # the two tasks moved into the composition, not left beside it
    assert isinstance(seq, SequentialNode)
    assert [c.statements()[0].kernel.name for c in seq.children] == ["step", "other"]
    assert seq.children[0].statements()[0].axes[0] is loop.vars[0]
    assert [s.kernel.name for s in adopted.root[0].body] == ["other"]
    with pytest.raises(TypeCheckError, match="returned a int"):
        parallel_for(Dense[2], lambda b: 3)


def test_cond_takes_nodes_or_functions_for_its_branches(fresh_warnings: None) -> None:
    from pto_wsp.primitives import cond, parallel_for, task
    from pto_wsp.scalar_expr import symbol_u64

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        w = parallel_for(
            Dense[4],
            lambda b: cond(
                b < 2,
                task(step, [b], {"x": X[b], "y": Y[b]}),
                task(other, [b], {"x": X[b], "y": Y[b]}),
            ),
        )
        top = cond(symbol_u64("mode") == 1, lambda: step(X[0], Y[0]))
    (loop,) = w.root
    (chain,) = loop.body
    assert isinstance(chain, CondNode)
    (pred, then), (none, orelse) = chain.branches
    assert str(pred) == f"{loop.vars[0].name} < 2" and none is None
    assert [then[0].kernel.name, orelse[0].kernel.name] == ["step", "other"]
    assert isinstance(top.root[0], CondNode) and len(top.root[0].branches) == 1
    with pytest.raises(TypeCheckError, match="expected a workload, a task node or a function"):
        cond(1, 3)


def test_combine_and_sequential_take_workloads_without_a_warning_and_builder_nodes(
    fresh_warnings: None,
) -> None:
    from pto_wsp.primitives import combine, for_each, sequential

    @workload
    def a():
        for i in P(Dense[4]):
            step[i](X[i], Y[i])

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        spec = sequential(a(), a())
        comb = combine(a(), a())
    assert builder_warnings(rec) == []
    assert spec.dep_type == "Sequential" and comb.dep_type == "Combined"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        nested = for_each(Dense[2], lambda i: combine(step[i](X[i], Y[i]), other[i](Y[i], X[i])))
    (loop,) = nested.root
    assert [type(s).__name__ for s in loop.body] == ["CombineNode"]


def test_csp_builder_process_body_takes_the_nodes_and_connect_returns_a_workload(
    fresh_warnings: None,
) -> None:
    from pto_wsp.primitives import for_each, task

    ch = Channel("items", depth=2)
    buf = Tensor(np.zeros((2, 8), F32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loader = (
            process("loader")
            .produces(ch)
            .body(for_each(Dense[4], lambda i: send(ch, task(step, [i], {"x": X[i], "y": buf}))))
        )
        computer = (
            process("computer")
            .consumes(ch)
            .body(consume(ch, lambda t: task(other, [t], {"x": buf, "y": Y[t]})))
        )
        # a task built outside the send is sent as that task
        single = send(ch, task(step, [2], {"x": X[2], "y": buf}))
    pipe = connect([loader, computer], [ch])
    assert isinstance(pipe, Workload) and pipe.dep_type == "Pipeline"
    (conn,) = pipe.root
    (loop,) = conn.processes[0].body
    (sent,) = loop.body
    assert isinstance(sent, SendNode) and sent.value.kernel is step
    (cons,) = conn.processes[1].body
    assert isinstance(cons, ConsumeNode) and cons.first_axis and cons.var.name == "t"
    assert cons.body[0].axes[0] is cons.var
    assert isinstance(single.root[0], SendNode) and single.root[0].value.axes[0].value == 2
    # the spec's `with consume(ch) as t` binds the item number, as before
    assert not any(
        isinstance(n, ConsumeNode) and n.first_axis
        for n in _traced_pipe(Channel("spec", depth=1)).walk()
    )


def _traced_pipe(ch: Channel) -> Workload:
    @workload
    def w():
        with P.pipe():
            for i in P.seq(Dense[2]):
                send(ch, step[i](X[i], Y[i]))
            with consume(ch) as t:
                other[t](Y[t], X[t])

    return w()


def test_with_consume_outside_a_workload_stays_an_error() -> None:
    with pytest.raises(TypeCheckError, match="inside a @workload"):
        with consume(Channel("c")):
            pass


def test_reference_module_paths() -> None:
    import pto_wsp
    from pto_wsp import p_namespace, primitives
    from pto_wsp.language.scalar_expr import LoopVar as OurLoopVar

    for name in "parallel_for for_each select cond task combine sequential".split():
        assert callable(getattr(primitives, name)), name
    for name in ("slot_set_u64", "slot_load_u64", "slot_u64"):
        assert getattr(primitives, name) is getattr(pto_wsp.language.primitives, name)
    assert primitives.combine is pto_wsp.combine and primitives.task is pto_wsp.task
    assert p_namespace.P is P and p_namespace.LoopVar is OurLoopVar
    v = p_namespace.LoopVar("h", Dense[8], index=1)
    assert (v.name, v.index, v.axis.size) == ("h", 1, 8)
    assert p_namespace.LoopVar("b", Dense[2]).index == 0


def test_grid_variables_carry_their_index_and_the_naming_keywords() -> None:
    routing = Sparse(2, [0, 2, 4], [0, 2, 1, 3])

    @workload
    def w():
        for b, h in P.grid(Dense[2], Dense[4], names=["batch_i", "head_i"]):
            step[b, h](X[b], Y[b])
        for s in P.seq(Dense[4], name="step_i"):
            step[s](X[s], Y[s])
        for b in P(Dense[2]):
            for e in P.sel(routing[b], name="expert"):
                step[b, e](X[e], Y[e])

    grid, seq, outer = w().root
    assert [(v.name, v.index) for v in grid.vars] == [("batch_i", 0), ("head_i", 1)]
    assert seq.vars[0].name == "step_i"
    assert outer.body[0].vars[0].name == "expert"
    traced = w()
    assert traced.resolve_axis_name("head_i") is traced.root[0].vars[1]
    with pytest.raises(TypeCheckError, match="one per axis"):
        P.grid(Dense[2], Dense[4], names=["only_one"])
    with pytest.raises(TypeCheckError, match="non-empty name"):
        P.seq(Dense[2], name="")


def test_tensor_base_and_index_exprs() -> None:
    t = Tensor(np.zeros((4, 6, 8), F32))

    @workload
    def w():
        for b, h in P(Dense[4], Dense[6]):
            v = t[b, h]
            assert v.base is t and v.root is t
            assert len(v.index_exprs) == 2
            assert v.index_exprs[0] is b and v.index_exprs[1] is h
            assert t[b][h].index_exprs[1] is h  # composed, root-relative
            step[b](v, Y[0])

    w()
    assert t.base is t and t.index_exprs == ()
    assert t[1].index_exprs == (1,)
    assert t[:, 2:4].index_exprs == (slice(None), slice(2, 4, None))
    assert t[1][1:5:2].index_exprs == (1, slice(1, 5, 2))
    assert t[1].base is t
