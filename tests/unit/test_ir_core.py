"""The C++ IR (pto_wsp._core.ir): builders, verifier and the stable printer (docs/ir.md).

The printer text is a contract (golden tests and `kernel.ir.dump()` depend on it), so the
expected strings here are exact.
"""

from __future__ import annotations

import pytest

from pto_wsp._core import ir
from pto_wsp.language import op_table
from pto_wsp.language.policy_kinds import DepsKind, DispatchKind, TimingKind, WindowMode

E = ir.Expr
N = ir.Node


def pt(*exprs: ir.Expr) -> list[ir.Index]:
    return [ir.Index.point(e) for e in exprs]


def attention_module() -> ir.Module:
    """The docs/ir.md printer example, built through the public builder API."""
    m = ir.Module("attention")
    q = m.add_tensor("Q", [4, 8, 16, 16], "f32")
    k = m.add_tensor("K", [4, 16, 16], "f32")
    v = m.add_tensor("V", [4, 16, 16], "f32")
    o = m.add_tensor("O", [4, 8, 16, 16], "f32")
    kern = ir.Kernel("attn_kernel", loc="model.py:3")
    for name, direction in [("Q", "in"), ("K", "in"), ("V", "in"), ("O", "out")]:
        kern.add_param(name, direction, "tensor")
    kern.body_kind = "empty"
    kid = m.add_kernel(kern)
    b, h = E.var("b", 1), E.var("h", 2)
    task = N.task(
        kid,
        [b, h],
        [
            ir.Arg("Q", ir.View(q, pt(b, h))),
            ir.Arg("K", ir.View(k, pt(b))),
            ir.Arg("V", ir.View(v, pt(b))),
            ir.Arg("O", ir.View(o, pt(b, h))),
        ],
        loc="model.py:12",
    )
    loop = N.parallel_for(
        [("b", 1), ("h", 2)],
        [ir.Axis.dense_dyn("batch", E.int(4)), ir.Axis.dense("heads", 8)],
        task,
        loc="model.py:11",
    )
    m.set_workload(loop)
    s = ir.Schedule()
    s.dispatch = DispatchKind.AFFINITY
    s.dispatch_key = b
    s.workers = 4
    s.streams = 2
    s.stream_key = E.binary("mod", h, E.int(2))
    m.set_schedule(s)
    return m


ATTENTION_TEXT = """\
module attention
  tensor %0 Q : f32[4, 8, 16, 16] global
  tensor %1 K : f32[4, 16, 16] global
  tensor %2 V : f32[4, 16, 16] global
  tensor %3 O : f32[4, 8, 16, 16] global
  kernel @attn_kernel(in Q: tensor, in K: tensor, in V: tensor, out O: tensor) empty
  workload
    parallel_for (b:1 in dense_dyn batch[4], h:2 in dense heads[8])   // Independent
      task @attn_kernel[b, h](Q=%0[b, h], K=%1[b], V=%2[b], O=%3[b, h])
  schedule dispatch=affinity(b) workers=4 streams=2 stream_by=(h % 2) timing=immediate
"""


# ---- expressions ---------------------------------------------------------------------------


def test_expr_constructors_attributes_and_text() -> None:
    b = E.var("b", 7)
    assert (b.kind, b.name, b.id) == ("var", "b", 7)
    assert (E.int(-3).kind, E.int(-3).int_value) == ("int", -3)
    assert E.float(0.1).float_value == 0.1
    assert E.bool(True).bool_value is True
    cases = {
        E.int(5): "5",
        E.float(2.0): "2.0",
        E.float(0.1): "0.1",
        E.float(1e300): "1e+300",
        E.bool(False): "false",
        E.binary("add", b, E.int(1)): "(b + 1)",
        E.binary("floordiv", b, E.int(2)): "(b // 2)",
        E.binary("max", b, E.int(2)): "max(b, 2)",
        E.binary("and", E.binary("lt", b, E.int(4)), E.bool(True)): "((b < 4) & true)",
        E.unary("neg", b): "-(b)",
        E.unary("not", b): "~(b)",
        E.unary("abs", b): "abs(b)",
        E.select(E.binary("ge", b, E.int(0)), E.slot(0), E.symbol("n")): (
            "select((b >= 0), slot(0), symbol(n))"
        ),
        E.param("batch_size"): "param(batch_size)",
        E.event_query(2): "query(#ev2)",
        E.load(ir.View(3, pt(b))): "load(%3[b])",
    }
    for expr, text in cases.items():
        assert str(expr) == text
    add = E.binary("add", b, E.int(1))
    assert (add.kind, add.op) == ("binary", "add")
    assert [c.kind for c in add.children] == ["var", "int"]
    load = E.load(ir.View(3, pt(b)))
    assert load.view.tensor_id == 3 and load.id == 3


def test_expr_rejects_unknown_operators_naming_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"Expr\.binary op 'pow'.*add, sub, mul"):
        E.binary("pow", E.int(1), E.int(2))
    with pytest.raises(ValueError, match=r"Expr\.unary op 'sqrt'.*neg, not, abs"):
        E.unary("sqrt", E.int(1))


def test_index_view_and_shape_hint() -> None:
    i = E.var("i", 1)
    rng = ir.Index.range(E.int(0), E.int(8), 2)
    assert (rng.kind, rng.step, rng.start.int_value, rng.stop.int_value) == ("range", 2, 0, 8)
    assert ir.Index.point(i).kind == "point" and ir.Index.point(i).value.name == "i"
    view = ir.View(0, [ir.Index.point(i), rng, ir.Index.range(i, E.binary("add", i, E.int(4)))])
    assert str(view) == "%0[i, 0:8:2, i:(i + 4)]"
    m = ir.Module("shapes")
    m.add_tensor("X", [4, 16, 32, 5], "f16")
    # i:(i + 4) has the static extent 4 (the one affine analysis, ir/affine.h); 0:8:2 has 4 too
    assert m.view_shape(view) == [4, 4, 5]
    assert str(ir.View(0)) == "%0" and m.view_shape(ir.View(0)) == [4, 16, 32, 5]


# ---- kernels -------------------------------------------------------------------------------


def test_kernel_params_ops_and_print() -> None:
    k = ir.Kernel("softmax_row", loc="k.py:1")
    x = k.add_param("x", "in", "tile", [16, 16], "f32")
    y = k.add_param("y", "out", "tile", [16, 16], "f32")
    n = k.add_param("n", "constexpr", "scalar", dtype="i64", default=4)
    assert (x, y, n) == (0, 1, 2)
    a = k.add_op("load", [x], [16, 16], "f32", loc="k.py:2")
    mx = k.add_op("rowmax", [a], [16, 1], "f32")
    e = k.add_op("exp", [a], [16, 16], "f32", attrs={"scale": 0.5, "fast": True, "axes": [0, 1]})
    st = k.add_op("store", [y, e], [], "")
    assert (a, mx, e, st) == (3, 4, 5, 6)
    assert k.body_kind == "traced"
    assert [p.name for p in k.params] == ["x", "y", "n"]
    assert (k.params[2].direction, k.params[2].kind, k.params[2].default) == (
        "constexpr",
        "scalar",
        4,
    )
    assert [(o.op, o.result, o.known) for o in k.ops][-1] == ("store", 6, True)
    assert k.ops[2].attrs == {"axes": [0, 1], "fast": True, "scale": 0.5}
    assert k.print() == (
        "kernel @softmax_row(in x: tile f32[16, 16], out y: tile f32[16, 16], "
        "constexpr n: scalar i64 = 4) traced\n"
        "  %3 = load(%0) : f32[16, 16]\n"
        "  %4 = rowmax(%3) : f32[16, 1]\n"
        "  %5 = exp(%3) : f32[16, 16] {axes=[0, 1], fast=true, scale=0.5}\n"
        "  store(%1, %5)\n"
    )
    assert k.print(locs=True).splitlines()[:2] == [
        "kernel @softmax_row(in x: tile f32[16, 16], out y: tile f32[16, 16], "
        "constexpr n: scalar i64 = 4) traced   // at k.py:1",
        "  %3 = load(%0) : f32[16, 16]   // at k.py:2",
    ]


def test_kernel_cpp_body_print_and_param_order() -> None:
    k = ir.Kernel("custom")
    k.add_param("a", "inout", "tensor", [8], "i32")
    k.body_kind = "cpp"
    k.cpp_src = 'a[0] += 1;\n\nprintf("x");\n'
    k.cpp_includes = ["cstdio"]
    k.cost = 100
    assert k.print() == (
        "kernel @custom(inout a: tensor i32[8]) cpp cost=100\n"
        '  include "cstdio"\n'
        "  | a[0] += 1;\n"
        "  |\n"
        '  | printf("x");\n'
    )
    k2 = ir.Kernel("late")
    k2.add_op("constant", [], [1, 1], "f32", {"value": 1.0})
    with pytest.raises(ValueError, match="before the first op"):
        k2.add_param("x", "in", "tile")


def test_kernel_enum_strings_are_validated() -> None:
    k = ir.Kernel("k")
    with pytest.raises(ValueError, match=r"direction 'sideways'.*in, out, inout, constexpr"):
        k.add_param("x", "sideways", "tile")
    with pytest.raises(ValueError, match=r"kind 'blob'.*tensor, tile, scalar"):
        k.add_param("x", "in", "blob")
    with pytest.raises(ValueError, match=r"body_kind 'jit'.*traced, empty, cpp"):
        k.body_kind = "jit"


# ---- workload nodes ----------------------------------------------------------------------


def test_axes_and_extents() -> None:
    b = E.var("b", 1)
    assert str(ir.Axis.dense("heads", 8).extent()) == "8"
    assert str(ir.Axis.dense_dyn("batch", E.param("bs")).extent()) == "param(bs)"
    ragged = ir.Axis.ragged("tokens", E.int(4), 5, b)
    assert (ragged.kind, ragged.lengths_tensor, ragged.row.name) == ("ragged", 5, "b")
    assert str(ragged.extent()) == "load(%5[b])"
    assert str(ir.Axis.ragged("rows", E.int(4), 5).extent()) == "4"
    sparse = ir.Axis.sparse("routing", E.int(4), 6, 7)
    assert (sparse.indptr_tensor, sparse.indices_tensor) == (6, 7)
    assert str(sparse) == "sparse routing[4; indptr=%6, indices=%7]"
    assert str(ragged) == "ragged tokens[4; lengths=%5[b]]"


def csp_module() -> ir.Module:
    """A module that uses every node constructor once."""
    m = ir.Module("everything")
    m.add_param("n", "i32")
    x = m.add_tensor("X", [4, 16], "f32", layout=ir.Layout([-1, 0], [16, 1], "row_major"))
    lens = m.add_tensor("lens", [4], "i32", role="index")
    indptr = m.add_tensor("indptr", [5], "i64", role="index")
    indices = m.add_tensor("indices", [8], "i64", role="index")
    k = ir.Kernel("work")
    k.add_param("x", "inout", "tile")
    k.add_param("s", "in", "scalar", dtype="i64")
    k.body_kind = "empty"
    kid = m.add_kernel(k)
    ch = m.add_channel("q", 2, "tile")
    ev = m.add_event("done")
    i, j, e, t, it = (E.var(n, v) for n, v in [("i", 1), ("j", 2), ("e", 3), ("t", 4), ("it", 5)])

    def task(row: ir.Expr, s: ir.Expr) -> ir.Node:
        return N.task(kid, [row], [ir.Arg("x", ir.View(x, pt(row))), ir.Arg.scalar("s", s)])

    seq = N.seq_for(("i", 1), ir.Axis.dense_dyn("rows", E.param("n")), [task(i, E.int(0))])
    sel = N.select_for(
        ("e", 3), ir.Axis.sparse("routing", E.int(4), indptr, indices), E.int(1), task(e, e)
    )
    rag = N.parallel_for(
        [("j", 2), ("t", 4)],
        [ir.Axis.dense("b", 4), ir.Axis.ragged("tok", E.int(4), lens, j)],
        task(j, t),
    )
    cond = N.cond(
        [
            (E.binary("lt", E.slot(0), E.int(2)), [N.record(ev)]),
            (None, [N.synchronize(ev)]),
        ]
    )
    producer = N.process("producer", [], [ch], [N.send(ch, task(E.int(0), E.int(1))), N.close(ch)])
    consumer = N.process("consumer", [ch], [], N.consume(ch, ("it", 5), task(it, it)), replicas=2)
    m.set_workload(
        N.sequential(
            [
                N.slot_set(0, E.int(1)),
                N.slot_load(1, ir.View(lens), E.int(0), E.int(0)),
                N.combine([seq, sel, rag]),
                cond,
                N.pipe([N.connect([producer, consumer], [ch])]),
            ]
        )
    )
    s = ir.Schedule()  # workers: ir.DEFAULT_WORKERS, 1 (set at lowering, not here)
    s.dispatch = DispatchKind.HASH
    s.dispatch_key = j
    s.timing = TimingKind.RATE_LIMIT
    s.timing_param = 2.5
    s.window_size = 8
    s.spatial_grid = [2, 2]
    s.pools = [0, 1]
    s.deps = DepsKind.INFER
    m.set_schedule(s)
    return m


EVERYTHING_TEXT = """\
module everything
  param n : i32
  tensor %0 X : f32[4, 16] global layout(dist=[-1, 0], strides=[16, 1], order=row_major)
  tensor %1 lens : i32[4] global role=index
  tensor %2 indptr : i64[5] global role=index
  tensor %3 indices : i64[8] global role=index
  channel #ch0 q depth=2 elem=tile
  event #ev0 done
  kernel @work(inout x: tile, in s: scalar i64) empty
  workload
    sequential   // Sequential
      slot_set 0 = 1
      slot_load 1 = %1 at (0, 0)
      combine   // Combined
        seq_for i:1 in dense_dyn rows[param(n)]   // Sequential
          task @work[i](x=%0[i], s=0)
        select_for e:3 in sparse routing[4; indptr=%2, indices=%3] row=1   // Selected
          task @work[e](x=%0[e], s=e)
        parallel_for (j:2 in dense b[4], t:4 in ragged tok[4; lengths=%1[j]])   // Independent
          task @work[j](x=%0[j], s=t)
      cond   // Conditional
        when (slot(0) < 2)
          record #ev0
        otherwise
          synchronize #ev0
      pipe   // Pipeline
        connect [#ch0]   // Pipeline
          process producer produces=[#ch0]   // Sequential
            send #ch0
              task @work[0](x=%0[0], s=1)
            close #ch0
          process consumer consumes=[#ch0] replicas=2   // Sequential
            consume #ch0 as it:5   // Sequential
              task @work[it](x=%0[it], s=it)
  schedule dispatch=hash(j) workers=1 timing=rate_limit(2.5) window=8(tasks, stall) grid=[2, 2] deps=infer pools=[0, 1]
"""


def test_every_node_constructor_prints_and_verifies() -> None:
    m = csp_module()
    assert m.verify() == []
    assert m.print() == EVERYTHING_TEXT


def test_node_kinds_dep_types_and_fields() -> None:
    m = csp_module()
    root = m.workload
    assert (root.kind, root.dep_type) == ("sequential", "Sequential")
    kinds = [c.kind for c in root.children]
    assert kinds == ["slot_set", "slot_load", "combine", "cond", "pipe"]
    slot_set, slot_load, combine, cond, pipe = root.children
    assert (slot_set.slot, str(slot_set.expr)) == (0, "1")
    assert (slot_load.slot, str(slot_load.view), str(slot_load.row)) == (1, "%1", "0")
    seq, sel, rag = combine.children
    expected = {
        combine: "Combined",
        seq: "Sequential",
        sel: "Selected",
        rag: "Independent",
        cond: "Conditional",
        pipe: "Pipeline",
        seq.children[0]: "Independent",
    }
    for node, dep in expected.items():
        assert node.dep_type == dep
    assert rag.vars == [("j", 2), ("t", 4)] and [a.kind for a in rag.axes] == ["dense", "ragged"]
    assert sel.row.int_value == 1 and seq.body[0].kind == "task"
    task = seq.children[0]
    assert (task.kernel_id, [a.param for a in task.args]) == (0, ["x", "s"])
    assert [a.kind for a in task.args] == ["view", "scalar"]
    assert task.args[0].view.shape_hint == []  # a cache: filled by verify() / print()
    m.verify()
    assert task.args[0].view.shape_hint == [16]
    assert task.args[1].value.int_value == 0 and task.args[1].view is None
    (pred, body), (other, obody) = cond.branches
    assert str(pred) == "(slot(0) < 2)" and other is None
    assert (body[0].kind, body[0].event_id, obody[0].kind) == ("record", 0, "synchronize")
    connect = pipe.children[0]
    producer, consumer = connect.children
    assert (connect.channels, producer.produces, consumer.consumes) == ([0], [0], [0])
    assert (consumer.name, consumer.replicas) == ("consumer", 2)
    send, close = producer.children
    assert (send.channel_id, send.value.kind, close.kind) == (0, "task", "close")
    assert N.send(0).value is None
    assert [n.kind for n in send.nested()] == ["task"]
    assert send.print() == "send #ch0\n  task @0[0](x=%0[0], s=1)\n"


def test_module_tables_read_access() -> None:
    m = csp_module()
    assert [t.name for t in m.tensors] == ["X", "lens", "indptr", "indices"]
    x = m.tensors[0]
    assert (x.id, x.shape, x.dtype, x.location, x.role) == (0, [4, 16], "f32", "global", "data")
    assert (x.layout.dist, x.layout.mem_strides, x.layout.mem_order) == (
        [-1, 0],
        [16, 1],
        "row_major",
    )
    assert m.tensors[1].role == "index" and m.tensors[1].layout is None
    assert [(c.id, c.name, c.depth, c.elem) for c in m.channels] == [(0, "q", 2, "tile")]
    assert [(e.id, e.name) for e in m.events] == [(0, "done")]
    assert [(p.name, p.dtype) for p in m.params] == [("n", "i32")]
    assert m.kernels[0].name == "work"
    s = m.schedule
    assert (s.dispatch, s.timing, s.timing_param, s.window_unit, s.window_mode) == (
        DispatchKind.HASH,
        TimingKind.RATE_LIMIT,
        2.5,
        "tasks",
        WindowMode.STALL,
    )
    assert s.dispatch is DispatchKind.HASH and s.deps is DepsKind.INFER  # the DSL's members
    assert ir.Module("empty").workload is None and ir.Module("empty").schedule is None
    assert ir.Module("empty").print() == "module empty\n"


# ---- printer contract ----------------------------------------------------------------------


def test_printer_matches_documented_example_exactly() -> None:
    m = attention_module()
    assert m.verify() == []
    assert m.print() == ATTENTION_TEXT


def test_printer_is_deterministic_across_builds() -> None:
    assert attention_module().print() == attention_module().print()
    assert csp_module().print() == csp_module().print()
    m = csp_module()
    assert m.print() == m.print() and m.print(locs=True) == m.print(locs=True)


def test_printer_locations_only_on_request() -> None:
    m = attention_module()
    assert "model.py" not in m.print()
    text = m.print(locs=True)
    assert (
        "parallel_for (b:1 in dense_dyn batch[4], h:2 in dense heads[8])   // Independent; at model.py:11"
        in text
    )
    assert (
        "task @attn_kernel[b, h](Q=%0[b, h], K=%1[b], V=%2[b], O=%3[b, h])   // at model.py:12"
        in text
    )


# ---- string <-> enum validation ------------------------------------------------------------


def test_unknown_dtype_raises_value_error_naming_valid_values() -> None:
    m = ir.Module("m")
    with pytest.raises(ValueError, match=r"tensor dtype 'float17'") as info:
        m.add_tensor("X", [4], "float17")
    for name in ("f16", "bf16", "f32", "f64", "i8", "i64", "u64", "bool"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match=r"tensor location 'hbm'.*global, l2, ub, l1"):
        m.add_tensor("X", [4], "f32", location="hbm")
    with pytest.raises(ValueError, match=r"tensor role 'weights'.*data, index"):
        m.add_tensor("X", [4], "f32", role="weights")
    with pytest.raises(ValueError, match=r"Layout\.mem_order 'zigzag'"):
        ir.Layout([0], [], "zigzag")
    with pytest.raises(ValueError, match=r"kernel op dtype 'half'"):
        ir.Kernel("k").add_op("exp", [], [1], "half")
    # Policies are the DSL's enum members, never their spellings (no text round trip).
    s = ir.Schedule()
    with pytest.raises(TypeError, match=r"DispatchKind"):
        s.dispatch = "hash"
    with pytest.raises(TypeError, match=r"TimingKind"):
        s.timing = "immediate"
    with pytest.raises(TypeError, match=r"DispatchKind"):
        s.dispatch = TimingKind.IMMEDIATE


# ---- verifier ----------------------------------------------------------------------------


def simple_module(role: str = "data", direction: str = "out") -> tuple[ir.Module, int, int]:
    """One kernel k(x: in tile, y: <direction> tile, n: in scalar) and tensors X, Y[4, 16]."""
    m = ir.Module("m")
    x = m.add_tensor("X", [4, 16], "f32")
    y = m.add_tensor("Y", [4, 16], "i32", role=role)
    k = ir.Kernel("k", loc="k.py:1")
    k.add_param("x", "in", "tile")
    k.add_param("y", direction, "tile")
    k.add_param("n", "in", "scalar", dtype="i64")
    k.body_kind = "empty"
    m.add_kernel(k)
    return m, x, y


def loop_over(body: ir.Node) -> ir.Node:
    return N.parallel_for([("i", 1)], [ir.Axis.dense("rows", 4)], body, loc="w.py:5")


def good_args(x: int, y: int) -> list[ir.Arg]:
    i = E.var("i", 1)
    return [
        ir.Arg("x", ir.View(x, pt(i))),
        ir.Arg("y", ir.View(y, pt(i))),
        ir.Arg.scalar("n", E.int(3)),
    ]


def verify_task(m: ir.Module, args: list[ir.Arg], kernel_id: int = 0) -> list[str]:
    m.set_workload(loop_over(N.task(kernel_id, [E.var("i", 1)], args, loc="w.py:9")))
    return m.verify()


def test_verifier_accepts_well_formed_task() -> None:
    m, x, y = simple_module()
    assert verify_task(m, good_args(x, y)) == []


def test_verifier_unknown_tensor_id() -> None:
    m, x, y = simple_module()
    args = good_args(x, y)
    args[0] = ir.Arg("x", ir.View(9, pt(E.var("i", 1))))
    assert verify_task(m, args) == ["task @k at w.py:9: unknown tensor id 9 (module has 2 tensors)"]


def test_verifier_unknown_kernel_id() -> None:
    m, x, y = simple_module()
    assert verify_task(m, good_args(x, y), kernel_id=3) == [
        "task @3 at w.py:9: unknown kernel id 3 (module has 1 kernels)"
    ]


def test_verifier_unbound_variable() -> None:
    m, x, y = simple_module()
    args = good_args(x, y)
    args[2] = ir.Arg.scalar("n", E.binary("add", E.var("z", 42), E.int(1)))
    msgs = verify_task(m, args)
    assert msgs == [
        "task @k at w.py:9: unbound variable 'z' (id 42) is not bound by an enclosing loop or consume"
    ]


def test_verifier_variable_bound_outside_its_scope() -> None:
    m, x, y = simple_module()
    i = E.var("i", 1)
    outside = N.task(0, [], [ir.Arg("x", ir.View(x, pt(i))), *good_args(x, y)[1:]], loc="w.py:20")
    m.set_workload(N.sequential([loop_over(N.task(0, [i], good_args(x, y))), outside]))
    assert [msg for msg in m.verify() if "unbound variable 'i'" in msg]
    assert all(msg.startswith("task @k at w.py:20") for msg in m.verify())


def test_verifier_missing_and_duplicate_kernel_args() -> None:
    m, x, y = simple_module()
    args = good_args(x, y)
    assert verify_task(m, args[:2]) == [
        "task @k at w.py:9: missing argument for parameter 'n' of kernel @k"
    ]
    assert verify_task(m, [*args, ir.Arg.scalar("n", E.int(4))]) == [
        "task @k at w.py:9: parameter 'n' is bound more than once"
    ]
    assert verify_task(m, [*args, ir.Arg.scalar("bogus", E.int(4))]) == [
        "task @k at w.py:9: kernel @k has no parameter 'bogus'"
    ]


def test_verifier_parameter_with_default_may_be_omitted() -> None:
    m, x, y = simple_module()
    k = ir.Kernel("k2")
    k.add_param("x", "in", "tile")
    k.add_param("n", "constexpr", "scalar", dtype="i64", default=8)
    k.body_kind = "empty"
    kid = m.add_kernel(k)
    assert verify_task(m, good_args(x, y)[:1], kernel_id=kid) == []


def test_verifier_wrong_arg_kind() -> None:
    m, x, y = simple_module()
    args = good_args(x, y)
    args[0] = ir.Arg.scalar("x", E.int(1))
    args[2] = ir.Arg("n", ir.View(x))
    assert verify_task(m, args) == [
        "task @k at w.py:9: parameter 'x' (in tile) needs a view argument, got a scalar",
        "task @k at w.py:9: parameter 'n' (in scalar) needs a scalar argument, got a view",
    ]


def test_verifier_writing_an_index_tensor() -> None:
    for direction in ("out", "inout"):
        m, x, y = simple_module(role="index", direction=direction)
        assert verify_task(m, good_args(x, y)) == [
            f"task @k at w.py:9: {direction} parameter 'y' writes index tensor %1 'Y'; "
            "index tensors are read-only"
        ]
    m, x, y = simple_module(role="index", direction="in")
    assert verify_task(m, good_args(x, y)) == []


def test_verifier_constant_index_out_of_range_and_rank() -> None:
    m, x, y = simple_module()
    args = good_args(x, y)
    args[0] = ir.Arg("x", ir.View(x, pt(E.int(4))))
    assert verify_task(m, args) == [
        "task @k at w.py:9: index 4 is out of range [0, 4) in dimension 0 of %0 'X'"
    ]
    args[0] = ir.Arg(
        "x", ir.View(x, [ir.Index.point(E.int(1)), ir.Index.range(E.int(0), E.int(17))])
    )
    assert verify_task(m, args) == [
        "task @k at w.py:9: range stop 17 exceeds extent 16 in dimension 1 of %0 'X'"
    ]
    args[0] = ir.Arg("x", ir.View(x, pt(E.int(0), E.int(0), E.int(0))))
    assert verify_task(m, args) == [
        "task @k at w.py:9: view %0[0, 0, 0] has 3 indices but tensor %0 'X' has rank 2"
    ]
    args[0] = ir.Arg("x", ir.View(x, pt(E.int(-1))))
    assert "index -1 is out of range" in verify_task(m, args)[0]


def test_verifier_kernel_unknown_op_and_use_before_definition() -> None:
    m = ir.Module("m")
    k = ir.Kernel("bad", loc="k.py:1")
    a = k.add_param("a", "in", "tile", [4, 4], "f32")
    k.add_op("frobnicate", [a], [4, 4], "f32", loc="k.py:2")
    k.add_op(
        "add", [a, 4], [4, 4], "f32", loc="k.py:3"
    )  # %4 is defined by this very op's successor
    k.add_op("exp", [a], [4, 4], "f32")
    k.add_op("mul", [a, 99], [4, 4], "f32")
    k.add_op("exp", [a], [], "", loc="k.py:6")
    k.add_op("ptoisa.vadd", [a], [], "")
    k.add_op("exp", [a], [0, -1], "f32", loc="k.py:8")
    m.add_kernel(k)
    msgs = m.verify()
    head, _, listed = msgs[0].partition("valid ops: ")
    assert head == "kernel @bad op %1 'frobnicate' at k.py:2: unknown op; "
    # the op table's IR ops (language/op_table.py, generated into the C++ tables), then the raw
    # PTO-ISA escape
    assert listed.split(", ") == [*op_table.IR_OPS, "ptoisa.<name>"]
    assert {"load", "store", "exp", "matmul"} <= set(op_table.IR_OPS)
    assert msgs[1:] == [
        "kernel @bad op %2 'add' at k.py:3: operand %4 is used before it is defined",
        "kernel @bad op %4 'mul' at k.py:1: operand %99 is not a value of this kernel",
        "kernel @bad op %5 'exp' at k.py:6: result dtype is missing",
        "kernel @bad op %5 'exp' at k.py:6: result shape is missing",
        "kernel @bad op %7 'exp' at k.py:8: result dimension 0 is neither positive nor -1 (symbolic)",
    ]


def test_verifier_store_defines_no_value_and_body_kinds() -> None:
    m = ir.Module("m")
    k = ir.Kernel("k")
    a = k.add_param("a", "inout", "tile", [4], "f32")
    st = k.add_op("store", [a, a], [], "")
    k.add_op("exp", [st], [4], "f32")
    m.add_kernel(k)
    e = ir.Kernel("e")
    e.body_kind = "empty"
    e.add_op("exp", [], [4], "f32")
    m.add_kernel(e)
    c = ir.Kernel("c")
    c.body_kind = "cpp"
    m.add_kernel(c)
    assert m.verify() == [
        "kernel @k op %2 'exp': operand %1 is a 'store', which defines no value",
        "kernel @e: body_kind is 'empty' but the kernel has 1 ops",
        "kernel @c: body_kind is 'cpp' but cpp_src is empty",
    ]


def test_verifier_negative_channel_depth_and_unknown_channels() -> None:
    m = ir.Module("m")
    m.add_channel("ok", 0)
    m.add_channel("bad", -1)
    m.set_workload(N.sequential([N.close(5, loc="w.py:3"), N.record(2, loc="w.py:4")]))
    assert m.verify() == [
        "channel #ch1 'bad': depth -1 is negative (0 = rendezvous)",
        "close at w.py:3: unknown channel id 5 (module has 2 channels)",
        "record at w.py:4: unknown event id 2 (module has 0 events)",
    ]


def test_verifier_process_channel_directions() -> None:
    m = ir.Module("m")
    a = m.add_channel("a", 1)
    b = m.add_channel("b", 1)
    p = N.process(
        "p",
        [a],
        [a],
        [N.send(b, None, loc="w.py:2"), N.consume(b, ("x", 1), [], loc="w.py:3")],
        loc="w.py:1",
    )
    m.set_workload(N.connect([p, N.record(0)], [a, b]))
    m.add_event("ev")
    assert m.verify() == [
        "connect: member 1 is a record, not a process",
        "send at w.py:2: sends on #ch1, which process 'p' does not list in produces",
        "consume at w.py:3: consumes #ch1, which process 'p' does not list in consumes",
    ]


def test_verifier_schedule_and_variable_rules() -> None:
    m, x, y = simple_module()
    verify_task(m, good_args(x, y))
    s = ir.Schedule()
    s.dispatch = DispatchKind.AFFINITY
    s.stream_key = E.var("q", 9)
    s.window_size = -2
    m.set_schedule(s)
    assert m.verify() == [
        "schedule stream key: unbound variable 'q' (id 9) is not bound by an enclosing loop or consume",
        "schedule: dispatch affinity needs a dispatch key",
        "schedule: window size -2 is negative",
    ]
    s2 = ir.Schedule()
    s2.dispatch = DispatchKind.DISPATCH_BY
    s2.dispatch_key = E.binary("mod", E.var("i", 1), E.int(2))
    m.set_schedule(s2)
    assert m.verify() == []


def test_verifier_duplicate_variable_ids_and_unknown_params() -> None:
    m, x, y = simple_module()
    inner = loop_over(N.task(0, [], good_args(x, y)))
    m.set_workload(N.combine([inner, loop_over(N.task(0, [], good_args(x, y)))]))
    assert m.verify() == [
        "parallel_for at w.py:5: variable 'i' (id 1) is bound more than once; "
        "variable ids must be unique per module"
    ]
    m.set_workload(N.seq_for(("i", 1), ir.Axis.dense_dyn("r", E.param("batch")), []))
    assert m.verify() == ["seq_for: unknown workload parameter 'batch'; declared: (none)"]
    m.add_param("batch")
    assert m.verify() == []


def test_verifier_select_for_and_cond_structure() -> None:
    m = ir.Module("m")
    m.set_workload(
        N.sequential(
            [
                N.select_for(("e", 1), ir.Axis.dense("d", 4), E.int(0), []),
                N.cond([(None, []), (E.bool(True), [])]),
                N.cond([]),
            ]
        )
    )
    assert m.verify() == [
        "select_for: iterates a dense axis; select_for needs a sparse axis",
        "cond: the otherwise branch (0) must be the last one",
        "cond: has no branches",
    ]


def test_verifier_load_expression_must_select_one_element() -> None:
    m = ir.Module("m")
    t = m.add_tensor("routing", [4, 2], "i32", role="index")
    m.set_workload(
        N.cond([(E.binary("gt", E.load(ir.View(t, pt(E.int(0)))), E.int(0)), [])], loc="w.py:7")
    )
    assert m.verify() == [
        "cond at w.py:7: load(%0[0]) must select one element: give a point index for each "
        "of the 2 dimensions"
    ]


def test_builders_reject_malformed_shapes() -> None:
    with pytest.raises(ValueError, match="2 vars for 1 axes"):
        N.parallel_for([("a", 1), ("b", 2)], [ir.Axis.dense("x", 2)], [])
    with pytest.raises(ValueError, match="already declared"):
        m = ir.Module("m")
        m.add_param("n")
        m.add_param("n")


def test_nonblocking_send_is_recorded_and_printed() -> None:
    m = ir.Module("nb")
    ch = m.add_channel("c", 1)
    send = ir.Node.send(ch, None, "", False)
    assert send.attrs == {"block": False}
    assert ir.Node.send(ch, None).attrs == {}
    assert "send #ch0 nonblocking" in send.print()
