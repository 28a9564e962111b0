"""Auto-indexing of kernel-call ports (``app.model.indexing``; docs/graph-model.md)."""

from __future__ import annotations

import pytest

from app.model import indexing

from . import v2_docs
from .v2_docs import node, wire


@pytest.mark.parametrize(
    ("param", "rank"),
    [
        ({"name": "a", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}, 2),
        ({"name": "a", "kind": "tile"}, 2),
        ({"name": "a", "kind": "tile", "shape": [8, 16, 16]}, 3),
        ({"name": "a", "kind": "tile", "shape": [16]}, 1),
        ({"name": "a", "kind": "tensor"}, 2),
        ({"name": "a"}, 2),  # an unshaped In[Tensor]
        ({"name": "a", "kind": "scalar", "dtype": "i32"}, 0),
    ],
)
def test_tile_rank(param: dict, rank: int) -> None:
    assert indexing.tile_rank(param) == rank


def test_tile_shape() -> None:
    assert indexing.tile_shape({"kind": "tile", "rows": 8, "cols": 32}) == (8, 32)
    assert indexing.tile_shape({"kind": "tile", "shape": [4, 8, 16]}) == (4, 8, 16)
    assert indexing.tile_shape({"kind": "tile", "rows": "x", "cols": 16}) is None
    assert indexing.tile_shape({"kind": "tensor"}) is None


def test_auto_index_in_p_b_h() -> None:
    """Rank-4 Q into a Tile[16, 16] port inside P(b, h) is Q[b, h]; rank-3 K is K[b]."""
    doc = v2_docs.attention(index={})
    call = doc.graph.nodes["call"]
    assert indexing.auto_index(doc, call, "Q") == "b, h"
    assert indexing.auto_index(doc, call, "K") == "b"
    assert indexing.auto_index(doc, call, "O") == "b, h"  # an Out port: the tensor it writes
    assert indexing.auto_index_problem(doc, call, "Q") is None
    assert indexing.call_axes(doc, call) == "b, h"


def test_nested_seq_and_consume_variables_count_outermost_first() -> None:
    """A P.seq(k) inside P(b, h) adds k; a consume variable counts as a loop variable."""
    doc = v2_docs.attention(index={}, shapes={"Q": [4, 8, 2, 16, 16]})
    node(doc, "tiles", "axis.dense", "tiles", size=2)
    node(doc, "seq", "loop.seq", "", parent="loop", var="k", axis="tiles")
    doc.graph.nodes["call"].parent = "seq"
    call = doc.graph.nodes["call"]
    assert indexing.enclosing_vars(doc, call) == ["b", "h", "k"]
    assert indexing.auto_index(doc, call, "Q") == "b, h, k"
    assert indexing.auto_index(doc, call, "K") == "b"  # as many as the rank asks for
    assert indexing.call_axes(doc, call) == "b, h, k"
    node(doc, "ch", "csp.channel", "work", depth=2)
    node(doc, "cons", "csp.consume", "", parent="seq", var="t", channel="ch")
    call.parent = "cons"
    assert indexing.enclosing_vars(doc, call) == ["b", "h", "k", "t"]


def test_override_wins_and_empty_means_whole() -> None:
    doc = v2_docs.attention(index={"Q": "b, h * 2:h * 2 + 1", "K": ""})
    call = doc.graph.nodes["call"]
    assert indexing.effective_index(doc, call, "Q") == "b, h * 2:h * 2 + 1"
    assert indexing.effective_index(doc, call, "K") == ""
    assert indexing.effective_index(doc, call, "V") == "b"  # no override: the auto rule
    assert not indexing.is_auto(call, "K") and indexing.is_auto(call, "V")
    call.props["axes"] = "b"
    assert indexing.call_axes(doc, call) == "b"


def test_too_few_loop_variables() -> None:
    doc = v2_docs.attention(index={}, loop_axes=())
    call = doc.graph.nodes["call"]
    assert indexing.auto_index(doc, call, "Q") == ""
    problem = indexing.auto_index_problem(doc, call, "Q")
    assert problem == (
        "Q needs 2 indices to reach the tile of parameter Q, but the call has no loop variables "
        "around it: put it in a loop over the missing dimensions or type the index"
    )


def test_unwired_doubly_wired_and_collective_fed_ports() -> None:
    doc = v2_docs.attention(index={})
    call = doc.graph.nodes["call"]
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.port != "Q"]
    assert indexing.wired_node(doc, call, "Q") is None
    assert indexing.auto_index(doc, call, "Q") == ""
    wire(doc, "Q", "tensor", "call", "Q")
    wire(doc, "K", "tensor", "call", "Q")
    assert indexing.wired_node(doc, call, "Q") is None  # two wires: validation reports it
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.port != "Q"]
    node(doc, "ar", "layout.allreduce", "y", parent="loop", op="sum")
    wire(doc, "Q", "tensor", "ar", "tensor")
    wire(doc, "ar", "tensor", "call", "Q")
    wires = indexing.Wires(doc)
    assert indexing.data_rank(doc, doc.graph.nodes["ar"], wires) == 4  # a collective keeps rank
    assert indexing.auto_index(doc, call, "Q", wires) == "b, h"


def test_no_kernel_gives_no_index() -> None:
    doc = v2_docs.attention(index={})
    call = doc.graph.nodes["call"]
    call.props["kernel"] = None
    assert indexing.kernel_of(doc, call) is None
    assert indexing.auto_index(doc, call, "Q") == ""
    call.props["kernel"] = "Q"  # names a tensor, not a kernel
    assert indexing.kernel_of(doc, call) is None
