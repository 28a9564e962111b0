"""Layouts as type refinements and the explicit collectives (spec §2.3)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pto_wsp import _builder
from pto_wsp.axes import Dense
from pto_wsp.errors import TypeCheckError
from pto_wsp.layout import (
    CollectiveOp,
    MemLayout,
    Replicate,
    Shard,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    allgather,
    allreduce,
    reduce_scatter,
    relayout,
    tensor_layout_join,
)
from pto_wsp.scalar_expr import LoopVar
from pto_wsp.tensor import Tensor

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


def test_relayout_outside_workload_returns_view_over_same_data():
    arr = np.arange(8, dtype=np.float32).reshape(4, 2)
    x = Tensor(arr, name="x")
    to = TensorLayout.sharded(dim=0, rank=2)
    y = relayout(x, to=to)
    assert isinstance(y, Tensor) and y is not x
    assert y.layout == to and x.layout == TensorLayout.default(2)
    assert y.data is arr and y.shape == x.shape and y.dtype is x.dtype
    with pytest.raises(TypeCheckError, match="rank 3"):
        relayout(x, to=TensorLayout.default(3))
    with pytest.raises(TypeCheckError, match="TensorLayout"):
        relayout(x, to="S(0)")


def test_collectives_record_nodes_inside_workload(scope):
    x = Tensor(np.zeros((4, 2), dtype=np.float32), layout=TensorLayout.sharded(0, 2), name="x")
    g = allgather(x, dim=0)
    assert g.layout == TensorLayout.default(2)
    s = allreduce(g, op="max")
    assert s.layout == g.layout
    rs = reduce_scatter(s, dim=1, op="sum", mesh_axis=1)
    assert rs.layout.dist == (R, TensorShard(1))
    rl = relayout(rs, to=TensorLayout.default(2))
    nodes = scope.nodes
    assert [n.kind for n in nodes] == ["allgather", "allreduce", "reduce_scatter", "relayout"]
    assert all(isinstance(n, CollectiveOp) for n in nodes)
    assert nodes[0].source is x and nodes[0].result is g and nodes[0].dim == 0
    assert nodes[0].op is None
    assert nodes[1].op == "max" and nodes[1].dim is None
    assert nodes[2].op == "sum" and nodes[2].dim == 1 and nodes[2].layout == rs.layout
    assert nodes[3].result is rl
    assert all(n.loc is not None and n.loc.file == __file__ for n in nodes)


def test_collectives_outside_workload_record_nothing():
    assert _builder.current() is None
    x = Tensor(np.zeros(4), name="x")
    assert allreduce(x).layout == x.layout
    assert reduce_scatter(x).layout == TensorLayout.sharded(0, 1)


def test_collective_validation():
    x = Tensor(np.zeros((4, 2)), name="x")
    with pytest.raises(TypeCheckError, match="valid ops: sum"):
        allreduce(x, op="avg")
    with pytest.raises(TypeCheckError, match="not sharded"):
        allgather(x, dim=0)
    with pytest.raises(TypeCheckError, match="out of range"):
        allgather(x, dim=2)
    sharded = Tensor(np.zeros((4, 2)), layout=TensorLayout.sharded(0, 2))
    with pytest.raises(TypeCheckError, match="already sharded"):
        reduce_scatter(sharded, dim=0)
    with pytest.raises(TypeCheckError, match="mesh axis 0 already shards"):
        reduce_scatter(sharded, dim=1, mesh_axis=0)
    with pytest.raises(TypeCheckError, match="symbolic view"):
        allreduce(x[LoopVar("b", Dense[4])])
    with pytest.raises(TypeCheckError, match="needs a Tensor"):
        allreduce(np.zeros(3))


def test_collective_on_constant_view_shares_memory():
    arr = np.zeros((4, 2))
    x = Tensor(arr, name="x")
    y = allreduce(x[1:3])
    y.data[0, 0] = 5
    assert arr[1, 0] == 5


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
