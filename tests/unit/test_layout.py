"""Layouts as type refinements and the explicit collectives (spec §2.3)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pto_wsp.errors import TypeCheckError
from pto_wsp.language import _builder
from pto_wsp.language.axes import Dense
from pto_wsp.language.collectives import allgather, allreduce, reduce_scatter, relayout
from pto_wsp.language.layout import (
    CollectiveOp,
    MemLayout,
    Replicate,
    Shard,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    tensor_layout_join,
)
from pto_wsp.language.scalar_expr import LoopVar
from pto_wsp.language.tensor import Tensor

R = TensorReplicate()


class _Scope:
    def __init__(self):
        self.nodes = []

    def append(self, node):
        self.nodes.append(node)


@pytest.fixture
def scope():
    s = _Scope()
    _builder.push(s)
    yield s
    _builder.pop(s)


# ---- layouts --------------------------------------------------------------------------------


def test_default_and_sharded():
    d = TensorLayout.default(rank=4)
    assert d.rank == 4 and d.dist == (R, R, R, R) and d.mem is None and d.is_replicated
    s = TensorLayout.sharded(dim=0, rank=4, mesh_axis=0)
    assert s.dist == (TensorShard(0), R, R, R) and not s.is_replicated
    assert TensorLayout.sharded(dim=-1, rank=2, mesh_axis=1).dist == (R, TensorShard(1))
    assert s.to_ir_dist() == [0, -1, -1, -1]
    assert TensorLayout.default(0).rank == 0


def test_explicit_layout_equality_and_repr():
    mem = MemLayout.row_major((2, 3, 4, 5))
    a = TensorLayout((TensorShard(0), R, R, R), mem=mem)
    b = TensorLayout([TensorShard(0), R, R, R], mem=MemLayout.row_major([2, 3, 4, 5]))
    assert a == b and hash(a) == hash(b)
    assert a != TensorLayout.sharded(0, 4)
    text = repr(a)
    assert "S(0)" in text and "R" in text and "row_major" in text
    assert repr(TensorLayout.default(2)) == "TensorLayout(R × R)"


def test_memlayout():
    rm = MemLayout.row_major((2, 3, 4))
    assert rm.strides == (12, 4, 1) and rm.order == "row_major" and rm.rank == 3
    cm = MemLayout.col_major((2, 3, 4))
    assert cm.strides == (1, 2, 6) and cm.order == "col_major"
    explicit = MemLayout(strides=(8, 1))
    assert explicit.order is None and explicit.strides == (8, 1)
    sw = MemLayout.row_major((16, 16), swizzle="xor128")
    assert sw.swizzle == "xor128"
    assert MemLayout(order="col_major").rank is None
    with pytest.raises(TypeCheckError, match="order"):
        MemLayout(order="zigzag")
    with pytest.raises(TypeCheckError, match="strides"):
        MemLayout(strides=(1, -1))
    with pytest.raises(TypeCheckError, match="strides or an order"):
        MemLayout()
    with pytest.raises(TypeCheckError, match="swizzle"):
        MemLayout(order="row_major", swizzle="")
    with pytest.raises(TypeCheckError, match="shape"):
        MemLayout.row_major((2, -3))


def test_layout_validation():
    with pytest.raises(TypeCheckError, match=r"dist\[1\]"):
        TensorLayout((R, "S"))
    with pytest.raises(TypeCheckError, match="2 strides"):
        TensorLayout((R, R, R), mem=MemLayout.row_major((2, 2)))
    with pytest.raises(TypeCheckError, match="at most one dimension"):
        TensorLayout((TensorShard(0), TensorShard(0)))
    with pytest.raises(TypeCheckError, match="out of range"):
        TensorLayout.sharded(dim=2, rank=2)
    with pytest.raises(TypeCheckError, match="mesh_axis"):
        TensorShard(-1)
    with pytest.raises(TypeCheckError, match="rank"):
        TensorLayout.default(-1)


# ---- join (Dato rules) ----------------------------------------------------------------------


def test_join_rules():
    rr = TensorLayout.default(2)
    s0 = TensorLayout.sharded(0, 2, mesh_axis=0)
    s0b = TensorLayout.sharded(0, 2, mesh_axis=1)
    assert tensor_layout_join(rr, rr) == rr
    assert tensor_layout_join(rr, s0) == s0  # R ⊔ S(i) = S(i)
    assert tensor_layout_join(s0, rr) == s0
    assert tensor_layout_join(s0, s0) == s0
    with pytest.raises(TypeCheckError) as ei:
        tensor_layout_join(s0, s0b)  # S(0) ⊔ S(1)
    assert "dimension 0" in str(ei.value) and "relayout" in str(ei.value)
    assert ei.value.loc.file == __file__
    with pytest.raises(TypeCheckError, match="different rank"):
        tensor_layout_join(rr, TensorLayout.default(3))
    with pytest.raises(TypeCheckError, match="at most one dimension"):
        tensor_layout_join(TensorLayout.sharded(0, 2), TensorLayout.sharded(1, 2))


def test_join_memory_facet():
    rm = TensorLayout((R, R), mem=MemLayout.row_major((2, 3)))
    cm = TensorLayout((R, R), mem=MemLayout.col_major((2, 3)))
    assert tensor_layout_join(rm, TensorLayout.default(2)) == rm
    assert tensor_layout_join(TensorLayout.default(2), rm) == rm
    with pytest.raises(TypeCheckError, match="memory layouts"):
        tensor_layout_join(rm, cm)


# ---- collectives ----------------------------------------------------------------------------


S0 = TensorShard(0)


def test_relayout_outside_workload_returns_a_copy_with_the_new_layout():
    arr = np.arange(8, dtype=np.float32).reshape(4, 2)
    x = Tensor(arr, name="x")
    to = TensorLayout.sharded(dim=0, rank=2)
    y = relayout(x, to=to)
    assert isinstance(y, Tensor) and y is not x and y.is_root
    assert y.layout == to and x.layout == TensorLayout.default(2)
    assert y.data is not arr and not np.shares_memory(y.data, arr)
    np.testing.assert_array_equal(y.data, arr)
    assert y.shape == x.shape and y.dtype is x.dtype and y.name == "x_relayout"
    with pytest.raises(TypeCheckError, match="rank 3"):
        relayout(x, to=TensorLayout.default(3))
    with pytest.raises(TypeCheckError, match="TensorLayout"):
        relayout(x, to="S(0)")


def test_collectives_record_nodes_with_fresh_result_buffers(scope):
    x = Tensor(np.ones((4, 6), dtype=np.float32), layout=TensorLayout.sharded(0, 2), name="x")
    g = allgather(x, dim=0)
    assert g.layout == TensorLayout.default(2)
    s = allreduce(x, op="max")
    assert s.layout == x.layout
    rs = reduce_scatter(x, dim=1, op="sum", mesh_axis=0, mesh_size=2)
    assert rs.layout.dist == (R, S0) and rs.shape == (2, 6)
    rl = relayout(rs, to=TensorLayout.default(2))
    nodes = scope.nodes
    assert [n.kind for n in nodes] == ["allgather", "allreduce", "reduce_scatter", "relayout"]
    assert all(isinstance(n, CollectiveOp) for n in nodes)
    assert nodes[0].source is x and nodes[0].result is g and nodes[0].dim == 0
    assert nodes[0].op is None
    assert nodes[1].op == "max" and nodes[1].dim is None
    assert nodes[2].op == "sum" and nodes[2].dim == 1 and nodes[2].layout == rs.layout
    assert (nodes[2].mesh_axis, nodes[2].partial_dim, nodes[2].mesh_size) == (0, 0, 2)
    assert nodes[3].result is rl and nodes[3].source is rs
    assert all(n.loc is not None and n.loc.file == __file__ for n in nodes)
    # Each result is a new root tensor with its own zeroed buffer (filled when the program runs).
    for n in nodes:
        assert n.result.is_root and not np.shares_memory(n.result.data, x.data)
        assert not n.result.data.any() and n.result.dtype is x.dtype
    assert g.name == "x_allgather" and rl.name == "x_reduce_scatter_relayout"


def test_allreduce_of_a_replicated_tensor_inside_a_workload_is_an_error(scope):
    x = Tensor(np.zeros((4, 2), dtype=np.float32), name="x")
    with pytest.raises(TypeCheckError, match="no partial values: shard the dimension") as e:
        allreduce(x)
    assert e.value.loc.file == __file__ and "'x'" in e.value.message


def test_reduce_scatter_inside_a_workload_needs_partials_and_mesh_size(scope):
    r = Tensor(np.zeros((4, 2), dtype=np.float32), name="r")
    with pytest.raises(TypeCheckError, match="no dimension sharded on mesh axis 0"):
        reduce_scatter(r, dim=1, mesh_size=2)
    x = Tensor(np.zeros((4, 6), dtype=np.float32), layout=TensorLayout.sharded(0, 2), name="x")
    with pytest.raises(TypeCheckError, match="needs mesh_size="):
        reduce_scatter(x, dim=1)
    with pytest.raises(TypeCheckError, match="dimension 0 has extent 4, not divisible by the 3"):
        reduce_scatter(x, dim=1, mesh_size=3)
    y = Tensor(np.zeros((4, 3), dtype=np.float32), layout=TensorLayout.sharded(0, 2), name="y")
    with pytest.raises(TypeCheckError, match="extent 3 in dimension 1, not divisible by the 2"):
        reduce_scatter(y, dim=1, mesh_size=2)
    with pytest.raises(TypeCheckError, match="already sharded"):
        reduce_scatter(x, dim=0, mesh_size=2)
    assert scope.nodes == []


def test_collectives_outside_workload_evaluate_on_one_coordinate():
    assert _builder.current() is None
    arr = np.arange(12, dtype=np.int32).reshape(4, 3)
    x = Tensor(arr, name="x")
    # No mesh: each axis has one coordinate, so the values stay and every tensor is its partial.
    a = allreduce(x)
    assert a.layout == x.layout and not np.shares_memory(a.data, arr)
    np.testing.assert_array_equal(a.data, arr)
    rs = reduce_scatter(x)
    assert rs.layout == TensorLayout.sharded(0, 2)
    np.testing.assert_array_equal(rs.data, arr)
    # With mesh_size the partial blocks are folded as the definition says.
    sq = (np.arange(16, dtype=np.int32).reshape(4, 4) * 7) % 5
    sx = Tensor(sq, layout=TensorLayout.sharded(0, 2), name="sx")
    v = reduce_scatter(sx, dim=1, op="max", mesh_axis=0, mesh_size=2)
    np.testing.assert_array_equal(v.data, np.maximum(sq[:2], sq[2:]))
    assert v.layout.dist == (R, S0) and v.shape == (2, 4)
    g = allgather(sx, dim=0)
    np.testing.assert_array_equal(g.data, sq)


def test_collective_validation():
    x = Tensor(np.zeros((4, 2)), name="x")
    with pytest.raises(TypeCheckError, match="valid ops: sum"):
        allreduce(x, op="avg")
    with pytest.raises(TypeCheckError, match="dimension 0 of tensor 'x' is not sharded"):
        allgather(x, dim=0)
    with pytest.raises(TypeCheckError, match="out of range"):
        allgather(x, dim=2)
    sharded = Tensor(np.zeros((4, 2)), layout=TensorLayout.sharded(0, 2))
    with pytest.raises(TypeCheckError, match="already sharded"):
        reduce_scatter(sharded, dim=0)
    with pytest.raises(TypeCheckError, match="mesh_size must be an int >= 1"):
        reduce_scatter(sharded, dim=1, mesh_size=0)
    with pytest.raises(TypeCheckError, match="symbolic view"):
        allreduce(x[LoopVar("b", Dense[4])])
    with pytest.raises(TypeCheckError, match="needs a Tensor"):
        allreduce(np.zeros(3))


def test_collective_on_constant_view_copies_the_viewed_values():
    arr = np.arange(8.0).reshape(4, 2)
    x = Tensor(arr, name="x")
    y = allreduce(x[1:3])
    np.testing.assert_array_equal(y.data, arr[1:3])
    y.data[0, 0] = 5
    assert arr[1, 0] == 2.0  # the result owns its buffer


def test_kernel_call_rejects_arguments_sharded_on_different_axes():
    from pto_wsp import In, Out, kernel, workload

    @kernel
    def add_k(a: In[Tensor], b: In[Tensor], c: Out[Tensor]): ...

    a = Tensor(np.zeros((4, 4)), layout=TensorLayout.sharded(0, 2, mesh_axis=0), name="a")
    b = Tensor(np.zeros((4, 4)), layout=TensorLayout.sharded(0, 2, mesh_axis=1), name="b")
    c = Tensor(np.zeros((4, 4)), name="c")
    # X sharded on K and W sharded on K share mesh axis 0 on different dimensions: allowed.
    w = Tensor(np.zeros((4, 4)), layout=TensorLayout.sharded(1, 2, mesh_axis=0), name="w")

    @workload
    def ok():
        add_k(a=a, b=w, c=c)

    ok()

    @workload
    def bad():
        add_k(a=a, b=b, c=c)

    with pytest.raises(
        TypeCheckError, match=r"arguments a .* and b .* dimension 0: S\(0\) vs S\(1\)"
    ) as e:
        bad()
    assert e.value.loc.file == __file__


# ---- deprecated names -----------------------------------------------------------------------


def test_deprecated_shard_replicate():
    with pytest.warns(DeprecationWarning, match="TensorShard") as rec:
        s = Shard(mesh_axis=1)
    assert s == TensorShard(1)
    assert rec[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="TensorReplicate"):
        r = Replicate()
    assert r == R
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        layout = TensorLayout((Shard(0), Replicate()))
    assert layout == TensorLayout.sharded(0, 2)


# ---- the memory facet (MemLayout): checked, allocated, converted ---------------------------


def col(shape):
    return TensorLayout.default(len(shape), mem=MemLayout.col_major(shape))


def test_tensor_over_c_data_with_a_col_major_layout_is_a_type_error_naming_the_fix():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    with pytest.raises(TypeCheckError) as e:
        Tensor(a, layout=col((3, 4)), name="A")  # the line the error names
    msg = e.value.message
    assert "Tensor 'A'" in msg
    assert "expected strides (1, 3)" in msg and "actual strides (4, 1)" in msg
    assert "np.asfortranarray(...)" in msg and "relayout(x, to=...)" in msg
    assert e.value.loc.file == __file__ and "Tensor(a, layout=col" in e.value.loc.text


def test_tensor_over_data_in_the_layouts_order_wraps_without_copying():
    f = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    t = Tensor(f, layout=col((3, 4)), name="F")
    assert t.data is f
    c = np.zeros((3, 4), np.float32)
    row = TensorLayout.default(2, mem=MemLayout.row_major((3, 4)))
    assert Tensor(c, layout=row).data is c
    # order-only layouts ask for C / Fortran contiguity
    assert Tensor(f, layout=TensorLayout.default(2, mem=MemLayout(order="col_major"))).data is f
    with pytest.raises(TypeCheckError, match=r"expected strides \(4, 1\) \(row_major\)"):
        Tensor(f, layout=TensorLayout.default(2, mem=MemLayout(order="row_major")), name="F")


def test_explicit_strides_must_equal_the_arrays_element_strides():
    padded = np.zeros((4, 8), np.float32)[:, :6]  # row stride 8, a padded row of 6
    ok = TensorLayout.default(2, mem=MemLayout(strides=(8, 1)))
    assert Tensor(padded, layout=ok).data is padded
    wrong_shape = TensorLayout.default(2, mem=MemLayout.row_major((4, 6)))
    with pytest.raises(TypeCheckError, match=r"expected strides \(6, 1\), actual strides \(8, 1\)"):
        Tensor(padded, layout=wrong_shape, name="P")
    # a rank mismatch between strides and the array never gets as far as a Tensor
    with pytest.raises(TypeCheckError, match="rank 2 has a MemLayout with 3 strides"):
        TensorLayout.default(2, mem=MemLayout(strides=(8, 1, 1)))


def test_size_one_dimensions_do_not_constrain_strides():
    a = np.zeros((3, 1), np.float32)  # C- and F-contiguous at once
    assert Tensor(np.asfortranarray(a), layout=col((3, 1))).data.shape == (3, 1)
    assert Tensor(a, layout=col((3, 1))).data is a


def test_views_of_a_col_major_tensor_do_not_copy():
    f = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    t = Tensor(f, layout=col((3, 4)), name="F")
    v = t[1]
    assert np.shares_memory(v.data, f) and v.layout.mem is None


def test_tensor_allocated_by_shape_follows_the_memory_layout():
    t = Tensor(shape=(3, 4), dtype="f32", layout=col((3, 4)), name="t")
    assert t.data.flags.f_contiguous and not t.data.flags.c_contiguous
    assert not t.data.any()
    order = TensorLayout.default(2, mem=MemLayout(order="col_major"))
    assert Tensor(shape=(3, 4), dtype="f32", layout=order).data.flags.f_contiguous
    padded = Tensor(
        shape=(3, 4), dtype="i32", layout=TensorLayout.default(2, mem=MemLayout(strides=(8, 1)))
    )
    assert tuple(s // 4 for s in padded.data.strides) == (8, 1) and not padded.data.any()
    padded.data[...] = 7
    assert (padded.data == 7).all()
    with pytest.raises(TypeCheckError, match="address the same element"):
        Tensor(
            shape=(3, 4), dtype="f32", layout=TensorLayout.default(2, mem=MemLayout(strides=(1, 1)))
        )
    with pytest.raises(TypeCheckError, match="rank 2 but the tensor has rank 1"):
        Tensor(shape=(4,), dtype="f32", layout=col((3, 4)))


def test_layout_constructors_take_a_memory_layout():
    mem = MemLayout.col_major((4, 8))
    assert TensorLayout.default(2, mem=mem) == TensorLayout((R, R), mem)
    assert TensorLayout.sharded(0, 2, mesh_axis=1, mem=mem) == TensorLayout(
        (TensorShard(1), R), mem
    )


def test_eager_relayout_lays_the_result_out_as_the_target_says():
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    x = Tensor(a.copy(), name="x")
    y = relayout(x, col((4, 6)))
    assert y.data.flags.f_contiguous and np.array_equal(y.data, a)
    assert y.layout.mem == MemLayout.col_major((4, 6))
    padded = relayout(y, TensorLayout.default(2, mem=MemLayout(strides=(8, 1))))
    assert tuple(s // 4 for s in padded.data.strides) == (8, 1)
    assert np.array_equal(padded.data, a)
    back = relayout(y, TensorLayout.default(2))
    assert back.data.flags.c_contiguous and np.array_equal(back.data, a)
    with pytest.raises(TypeCheckError, match="address the same element"):
        relayout(x, TensorLayout.default(2, mem=MemLayout.row_major((2, 3))))


def test_collectives_keep_the_sources_memory_order():
    a = np.asfortranarray(np.arange(32, dtype=np.float32).reshape(8, 4))
    mem = MemLayout.col_major((8, 4))
    x = Tensor(a, layout=TensorLayout.sharded(0, 2, mem=mem), name="x")
    g = allgather(x, dim=0)
    assert g.data.flags.f_contiguous and np.array_equal(g.data, a)
    rs = reduce_scatter(x, dim=1, mesh_size=2)
    assert rs.shape == (4, 4) and rs.layout.mem == MemLayout.col_major((4, 4))
    assert rs.data.flags.f_contiguous
    np.testing.assert_array_equal(rs.data, a[:4] + a[4:])
    # explicit strides carry over to the smaller result: its buffer keeps the padding
    strided = TensorLayout.sharded(0, 2, mem=MemLayout(strides=(4, 1)))
    y = Tensor(np.ascontiguousarray(a), layout=strided, name="y")
    ry = reduce_scatter(y, dim=1, mesh_size=2)
    assert ry.layout.mem == MemLayout(strides=(4, 1))
    assert tuple(s // 4 for s in ry.data.strides) == (4, 1)
    np.testing.assert_array_equal(ry.data, a[:4] + a[4:])
    with pytest.raises(TypeCheckError, match="relayout to an ordered layout"):
        MemLayout(strides=(1, 1)).for_shape((4, 4))


def test_mem_layout_arrange_keeps_the_init_recipe():
    from pto_wsp.language import tensor_init

    data = tensor_init.random((3, 4), "f32", seed=5)
    mem = MemLayout.col_major((3, 4))
    f = mem.arrange(data)
    assert f.flags.f_contiguous and np.array_equal(f, data)
    assert tensor_init.recipe_of(f) == tensor_init.recipe_of(data)
    assert mem.arrange(f) is f
