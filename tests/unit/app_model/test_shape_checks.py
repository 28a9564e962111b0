"""Live rank/shape checks of kernel calls (``app.model.shape_checks``) and tile parameters.

The Studio judges a call's argument with the DSL's own rule (``pto_wsp.language.shape_rule``); the
view's shape comes from the tensor node's shape and the call's index text. These tests pin the
rule, the view-shape computation (and that it agrees with what the DSL computes and refuses),
the diagnostics for the issue's examples, no false positive on any bundled sample, and what a
"tensor" parameter with a tile shape in an older file becomes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.model import indexing, io, registry, shape_checks
from app.model.document import Document
from app.model.export import export_script
from app.model.validation import validate_document
from pto_wsp.errors import TensorIndexError, TypeCheckError
from pto_wsp.language import _builder
from pto_wsp.language.axes import Dense, DenseDyn
from pto_wsp.language.kernel import In, Tile, kernel
from pto_wsp.language.scalar_expr import LoopVar
from pto_wsp.language.shape_rule import (
    format_shape,
    loop_bound_problem,
    tile_dtype_problem,
    tile_shape_problem,
)
from pto_wsp.language.tensor import Tensor
from pto_wsp.language.types import DType

from . import v2_docs

PROJECTS = Path(__file__).resolve().parents[3] / "app" / "projects"
SAMPLES = sorted(PROJECTS.glob("*.pto.json"))
GOLDEN_V1 = Path(__file__).resolve().parents[2] / "golden" / "v1_migration"


# ------------------------------------------------------------------------------------------
# the rule
# ------------------------------------------------------------------------------------------
def test_rule_accepts_the_tile_shape_and_run_time_extents() -> None:
    assert tile_shape_problem((16, 16), (16, 16)) is None
    assert tile_shape_problem((16, 16), (16, None)) is None  # known only at run time
    assert tile_shape_problem([32, 128], [32, 128]) is None


def test_rule_refuses_other_ranks_and_extents() -> None:
    assert tile_shape_problem((16, 16), ()) == "expects shape [16, 16], got a view of shape []"
    assert tile_shape_problem((16, 16), (16, 8)) == (
        "expects shape [16, 16], got a view of shape [16, 8]"
    )
    assert tile_shape_problem((16, 16), (8, 16, 16)) == (
        "expects shape [16, 16], got a view of shape [8, 16, 16]"
    )
    assert tile_shape_problem((16, 16), (2, 16, 16)) is not None  # nothing is flattened
    assert tile_shape_problem((16, 16), (None, 8, 16)) is not None


def test_rule_drops_leading_ones() -> None:
    """The one tile rank rule (cpp_backend/ir/tile.h): a view of the tile's shape once leading
    1s are dropped; a leading extent known only at run time is the run's to check."""
    assert tile_shape_problem((16, 16), (1, 1, 16, 16)) is None
    assert tile_shape_problem((1, 16), (16,)) is None
    assert tile_shape_problem((16, 16), (None, 16, 16)) is None
    assert format_shape((8, None)) == "[8, ?]"
    assert tile_dtype_problem("f32", "f32") is None
    assert tile_dtype_problem("f32", "f16") == "expects dtype f32, got f16"


# ------------------------------------------------------------------------------------------
# view shapes
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "index", "view"),
    [
        ([4, 8, 16, 16], "", (4, 8, 16, 16)),  # no index: the whole tensor
        ([16, 16], "b, h", ()),  # loop variables drop their dimensions
        ([4, 8, 16, 16], "b, h", (16, 16)),
        ([4, 8, 16, 8], "b, h", (16, 8)),
        ([4, 16, 16], "b", (16, 16)),  # trailing dimensions are kept whole
        ([4, 16, 16], "b + 1", (16, 16)),
        ([64, 16], "i * 16:(i + 1) * 16", (16, 16)),  # symbolic bounds that cancel
        ([64, 16], "16 * i:16 * i + 8", (8, 16)),
        ([64, 16], "i:i + 4, 2:", (4, 14)),
        ([16, 32], ":, ::2", (16, 16)),
        ([16, 32], "0:16, 16:", (16, 16)),
        ([32, 16], "-16:", (16, 16)),  # Python's clamping for constant bounds
        ([10, 16], "0:100", (10, 16)),
        ([15, 4], "::2", (8, 4)),
        ([16, 16], "i:j", (None, 16)),  # a run-time extent
        ([16, 16], "0:n", (None, 16)),
        ([16, 16], "i * i:4", (None, 16)),  # not linear
        ([16, 16], "i:j:k", (None, 16)),  # a symbolic step
        ([16, 16], "(2, 3)", ()),  # T[(2, 3)] is T[2, 3]
        ([16, 16], "b,", (16,)),  # T[b,] is T[b]
    ],
)
def test_view_shape(shape: list[int], index: str, view: tuple[int | None, ...]) -> None:
    assert shape_checks.view_shape(shape, index) == view


@pytest.mark.parametrize("index", ["0, 1, 2", "0 +", "x.y"])
def test_view_shape_unknown(index: str) -> None:
    """Too many indices or a malformed index: no shape (other checks report the index)."""
    assert shape_checks.view_shape([16, 16], index) is None


# The DSL and the Studio agree: for each (tensor shape, index) the Studio's view shape and rule
# say "problem" exactly when the DSL's kernel call raises, with the same text after the name.
@kernel
def tile16(a: In[Tile[16, 16, DType.F32]]): ...


_AGREE: list[tuple[list[int], str, Any]] = [
    ([16, 16], "b, h", lambda t, v: t[v["b"], v["h"]]),
    ([4, 8, 16, 8], "b, h", lambda t, v: t[v["b"], v["h"]]),
    ([4, 8, 16, 16], "b, h", lambda t, v: t[v["b"], v["h"]]),
    ([4, 16, 16], "b", lambda t, v: t[v["b"]]),
    ([8, 16, 16], "", lambda t, v: t),
    ([64, 16], "i * 16:(i + 1) * 16", lambda t, v: t[v["i"] * 16 : (v["i"] + 1) * 16]),
    ([64, 16], "i * 16:i * 16 + 8", lambda t, v: t[v["i"] * 16 : v["i"] * 16 + 8]),
    ([16, 32], ":, 0:16", lambda t, v: t[:, 0:16]),
    ([16, 32], "0:16, 16:", lambda t, v: t[0:16, 16:]),
    ([4, 16, 16], "b, 0:8", lambda t, v: t[v["b"], 0:8]),
    ([16, 16], "i:j", lambda t, v: t[v["i"] : v["j"]]),
    ([16, 16], "0:100", lambda t, v: t[0:100]),  # clamped to the dimension
    ([20, 16], "-16:", lambda t, v: t[-16:]),
    ([32, 32], "::2, 16:", lambda t, v: t[::2, 16:]),
    ([31, 16], "::2", lambda t, v: t[::2]),  # 16 rows
    ([40, 32], "i * 2:i * 2 + 16, ::2", lambda t, v: t[v["i"] * 2 : v["i"] * 2 + 16, ::2]),
]


@pytest.mark.parametrize(("shape", "index", "view_of"), _AGREE)
def test_studio_and_dsl_agree(shape: list[int], index: str, view_of: Any) -> None:
    view = shape_checks.view_shape(shape, index)
    assert view is not None
    studio = tile_shape_problem((16, 16), view)
    tensor = Tensor(np.zeros(shape, dtype=np.float32), name="T")
    loop_vars = {name: LoopVar(name) for name in "bhij"}
    scope: list[Any] = []
    _builder.push(scope)
    try:
        if studio is None:
            tile16(a=view_of(tensor, loop_vars))
            assert len(scope) == 1
        else:
            with pytest.raises(TypeCheckError) as err:
                tile16(a=view_of(tensor, loop_vars))
            where = "call of kernel tile16: argument 'a' (In[Tile[16, 16, DType.F32]])"
            assert f"{where} {studio}" in str(err.value)
    finally:
        _builder.pop(scope)


def test_dsl_message_is_unchanged() -> None:
    """The factored rule gives the DSL's kernel-call TypeCheckError its former text."""
    tensor = Tensor(np.zeros((16, 16), dtype=np.float32), name="Q")
    b, h = LoopVar("b"), LoopVar("h")
    scope: list[Any] = []
    _builder.push(scope)
    try:
        with pytest.raises(TypeCheckError) as err:
            tile16(a=tensor[b, h])
    finally:
        _builder.pop(scope)
    assert (
        "call of kernel tile16: argument 'a' (In[Tile[16, 16, DType.F32]]) expects shape "
        "[16, 16], got a view of shape []"
    ) in str(err.value)


# ------------------------------------------------------------------------------------------
# diagnostics on call nodes (v2: tensors wired into ports, auto-indexed by the loop frames)
# ------------------------------------------------------------------------------------------
def _shape_diags(doc: Document) -> list[tuple[str, str, str]]:
    return [(d.node_id, d.field, d.message) for d in shape_checks.document_problems(doc)]


def test_attention_with_tiles_has_no_diagnostic() -> None:
    doc = v2_docs.attention()
    assert _shape_diags(doc) == []
    assert indexing.effective_index(doc, doc.graph.nodes["call"], "Q") == "b, h"  # auto
    assert indexing.effective_index(doc, doc.graph.nodes["call"], "K") == "b"  # override
    assert indexing.effective_index(doc, doc.graph.nodes["call"], "O") == "b, h"  # auto, Out


def test_all_auto_indices_follow_the_rank() -> None:
    """With no overrides, K and V (rank 3) take one loop variable, Q and O (rank 4) two."""
    doc = v2_docs.attention(index={})
    call = doc.graph.nodes["call"]
    assert {p: indexing.auto_index(doc, call, p) for p in "QKVO"} == {
        "Q": "b, h", "K": "b", "V": "b", "O": "b, h",
    }  # fmt: skip
    assert _shape_diags(doc) == []


def test_issue_example_rank_2_tensor_indexed_by_two_loop_variables() -> None:
    """Issue 13: a tensor Q of shape [16, 16] indexed Q[b, h] into a 16x16 tile."""
    doc = v2_docs.attention(shapes={"Q": [16, 16]}, index={"Q": "b, h", "K": "b", "V": "b"})
    assert _shape_diags(doc) == [
        (
            "call",
            "props.index.Q",
            "Q[b, h] is a view of shape [] but parameter Q of attn_kernel is Tile[16, 16, f32]",
        )
    ]


def test_auto_index_of_a_rank_2_tensor_is_whole() -> None:
    """The same Q of shape [16, 16] left to the auto rule: rank 2 minus tile rank 2 is no index,
    so the whole tile is passed and nothing is wrong."""
    doc = v2_docs.attention(shapes={"Q": [16, 16]})
    assert indexing.auto_index(doc, doc.graph.nodes["call"], "Q") == ""
    assert _shape_diags(doc) == []


def test_issue_example_rank_4_tensor_against_16x16_parameters() -> None:
    """Issue 13: a tensor of shape [4, 8, 16, 8] against 16x16 parameters."""
    doc = v2_docs.attention(shapes={"O": [4, 8, 16, 8]})
    assert _shape_diags(doc) == [
        (
            "call",
            "props.index.O",
            "O[b, h] is a view of shape [16, 8] but parameter O of attn_kernel is "
            "Tile[16, 16, f32]",
        )
    ]


def test_rank_4_tensor_in_a_single_loop_names_tensor_index_and_tile() -> None:
    """Rank-4 Q into a 16x16 tile inside P(b) only: the auto rule has one variable for the two
    dimensions to index, so the view is Q[b] of shape [8, 16, 16]; the badge says so and why."""
    doc = v2_docs.attention(loop_axes=(("b", "batch"),))
    call = doc.graph.nodes["call"]
    assert indexing.auto_index(doc, call, "Q") == "b"
    assert indexing.auto_index_problem(doc, call, "Q") is not None
    diags = _shape_diags(doc)
    assert [(d[0], d[1]) for d in diags] == [("call", "props.index.Q"), ("call", "props.index.O")]
    assert diags[0][2] == (
        "Q[b] is a view of shape [8, 16, 16] but parameter Q of attn_kernel is Tile[16, 16, f32]"
        " (Q needs 2 indices to reach the tile of parameter Q, but the call has loop variables "
        "b around it: put it in a loop over the missing dimension or type the index)"
    )
    # typing the index is the way out, and the badge goes
    call.props["index"] = {"Q": "b, 0", "K": "b", "V": "b", "O": "b, 1"}
    assert _shape_diags(doc) == []


def test_whole_tensor_index_edit_and_dtype() -> None:
    doc = v2_docs.attention(index={"Q": "b, h", "K": "", "V": "b", "O": "b, h"})
    assert _shape_diags(doc) == [
        (
            "call",
            "props.index.K",
            "K (whole, no index) has shape [4, 16, 16] but parameter K of attn_kernel is "
            "Tile[16, 16, f32]",
        )
    ]
    doc.graph.nodes["call"].props["index"]["K"] = "b"
    assert _shape_diags(doc) == []
    doc.graph.nodes["V"].props["dtype"] = "f16"
    assert _shape_diags(doc) == [
        (
            "call",
            "props.index.V",
            "V[b] is a view of f16 elements but parameter V of attn_kernel is Tile[16, 16, f32]",
        )
    ]


def test_surplus_index_items_are_reported() -> None:
    doc = v2_docs.attention(index={"K": "b, h, 0, 1", "V": "b"})
    assert _shape_diags(doc) == [
        (
            "call",
            "props.index.K",
            "K[b, h, 0, 1] indexes 4 dimensions but K has 3 (shape [4, 16, 16])",
        )
    ]


def test_a_tile_shape_field_of_other_rank() -> None:
    """A tile parameter whose ``shape`` has 3 dimensions (leading 1s dropped) is no tile: the
    kernel node says so at that parameter's shape field, in the IR verifier's words (the rule of
    ``shape_rule.tile_rank_problem``), and calls are not judged against it."""
    params = [dict(p) for p in v2_docs.TILE_16]
    params[0] = {"name": "Q", "direction": "In", "kind": "tile", "shape": [8, 16, 16], "dtype": "f32"}  # fmt: skip
    doc = v2_docs.attention(params=params)
    kern = doc.graph.nodes["call"].props["kernel"]
    assert _shape_diags(doc) == [
        (
            kern,
            "props.params[0].shape",
            "parameter 'Q' is a tile of shape [8, 16, 16]; "
            "a tile has at most 2 dimensions once leading 1s are dropped",
        )
    ]
    assert ("call", "props.index.Q") not in [(d.node_id, d.field) for d in validate_document(doc)]
    # leading 1s are dropped: [1, 16, 16] is a 16x16 tile
    params[0] = {**params[0], "shape": [1, 16, 16]}
    assert not [d for d in _shape_diags(v2_docs.attention(params=params)) if d[0] == kern]


def test_scalar_parameters_are_not_views() -> None:
    """A scalar parameter takes a scalar (wired or typed into its index field): no view to
    judge, and a tensor wired into it is validation's type error, not a shape badge."""
    params = [*v2_docs.TILE_16, {"name": "s", "direction": "In", "kind": "scalar", "dtype": "f32"}]
    doc = v2_docs.attention(params=params)
    v2_docs.node(doc, "n", "data.scalar", "n", dtype="f32", value="2")
    v2_docs.wire(doc, "n", "scalar", "call", "s")
    call = doc.graph.nodes["call"]
    assert indexing.tile_rank(params[-1]) == 0
    assert indexing.auto_index(doc, call, "s") == ""  # rank 0 minus 0
    assert _shape_diags(doc) == []
    doc.graph.edges[-1] = v2_docs.Edge(v2_docs.PortRef("K", "tensor"), v2_docs.PortRef("call", "s"))
    assert _shape_diags(doc) == []
    assert ("call", "inputs.s") in [(d.node_id, d.field) for d in validate_document(doc)]


def test_unshaped_tensor_parameters_take_any_view() -> None:
    """``In[Tensor]`` parameters are not shape-checked (the DSL does not either)."""
    params = [{"name": p["name"], "direction": p["direction"], "kind": "tensor"} for p in v2_docs.TILE_16]  # fmt: skip
    doc = v2_docs.attention(params=params, shapes={"Q": [16, 16]}, index={"Q": "b, h"})
    assert _shape_diags(doc) == []
    assert indexing.tile_rank(params[0]) == 2


def test_unwired_or_kernelless_calls_are_left_to_validation() -> None:
    doc = v2_docs.attention(shapes={"Q": [16, 16]}, index={"Q": "b, h"})
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.port != "Q"]
    assert _shape_diags(doc) == []
    doc.graph.nodes["call"].props["kernel"] = None
    assert shape_checks.call_problems(doc, doc.graph.nodes["call"]) == []


# ------------------------------------------------------------------------------------------
# a loop variable running past the dimension it indexes (the DSL's TensorIndexError)
# ------------------------------------------------------------------------------------------
K_PAST_BATCH = (
    "loop variable 'b' takes 4 values (batch) but indexes dimension 0 of tensor 'K', which has "
    "size 2"
)


def test_loop_bound_rule() -> None:
    assert loop_bound_problem("b", 4, "batch", 0, "tensor 'K'", 2) == K_PAST_BATCH
    assert loop_bound_problem("b", 4, "batch", 0, "tensor 'K'", 4) is None  # 0..3 fit
    assert loop_bound_problem("b", None, "batch", 0, "tensor 'K'", 2) is None  # run-time size
    assert loop_bound_problem("b", 4, "batch", 0, "tensor 'K'", None) is None


@pytest.mark.parametrize("axis", [DenseDyn(4, name="batch"), Dense[4]])
def test_dsl_raises_the_rule_s_text(axis: Any) -> None:
    """The DSL's TensorIndexError is the rule's message, naming the axis as the DSL prints it
    (the Studio names the axis node instead): one rule, two callers."""
    tensor = Tensor(np.zeros((2, 16, 16), dtype=np.float32), name="K")
    with pytest.raises(TensorIndexError) as err:
        tensor[LoopVar("b", axis)]
    assert err.value.message == loop_bound_problem("b", 4, f"axis {axis!r}", 0, "tensor 'K'", 2)


def test_new_user_example_k_of_2_indexed_by_b_over_densedyn_4() -> None:
    """The trial: K = f32[2, 16, 16] indexed K[b] with b over DenseDyn(4) ``batch``. The
    badge is there while editing (auto index and typed alike), not only on F5."""
    doc = v2_docs.attention(shapes={"K": [2, 16, 16]}, index={})
    assert indexing.effective_index(doc, doc.graph.nodes["call"], "K") == "b"  # auto
    assert _shape_diags(doc) == [("call", "props.index.K", K_PAST_BATCH)]
    assert ("call", "props.index.K", K_PAST_BATCH) in [
        (d.node_id, d.field, d.message) for d in validate_document(doc)
    ]
    doc.graph.nodes["call"].props["index"] = {"K": "b", "V": "b"}  # typed: the same
    assert _shape_diags(doc) == [("call", "props.index.K", K_PAST_BATCH)]
    doc.graph.nodes["K"].props["shape"] = [4, 16, 16]  # fixed: b takes 0..3
    assert _shape_diags(doc) == []


def test_a_dense_axis_past_a_later_dimension() -> None:
    """h over Dense(8) ``heads`` indexes dimension 1 of Q and O, which have 4 rows there."""
    doc = v2_docs.attention(shapes={"Q": [4, 4, 16, 16], "O": [4, 4, 16, 16]})
    assert _shape_diags(doc) == [
        (
            "call",
            f"props.index.{t}",
            f"loop variable 'h' takes 8 values (heads) but indexes dimension 1 of tensor "
            f"'{t}', which has size 4",
        )
        for t in ("Q", "O")
    ]


def test_a_sequential_loop_variable_is_judged_too() -> None:
    """P.seq(k) over Dense(8) inside P(b, h): ``k`` indexing a dimension of 2 is badged."""
    doc = v2_docs.attention(shapes={"V": [4, 2, 16, 16]}, index={"K": "b", "V": "b, k"})
    v2_docs.node(doc, "tiles", "axis.dense", "tiles", size=8)
    v2_docs.node(doc, "seq", "loop.seq", "", parent="loop", var="k", axis="tiles")
    doc.graph.nodes["call"].parent = "seq"
    assert _shape_diags(doc) == [
        (
            "call",
            "props.index.V",
            "loop variable 'k' takes 8 values (tiles) but indexes dimension 1 of tensor 'V', "
            "which has size 2",
        )
    ]


def test_loop_variables_of_unknown_extent_are_left_to_the_run() -> None:
    """A DenseDyn whose size is wired (a run-time value), an item that is not a bare variable
    (``b + 0``, a slice), and an unshaped tensor parameter's index over a big enough
    dimension: no badge. An unshaped parameter is still indexed, so a variable past its
    dimension is badged as the DSL raises it."""
    doc = v2_docs.attention(shapes={"K": [2, 16, 16]}, index={"K": "b + 0", "V": "b"})
    assert _shape_diags(doc) == []
    doc.graph.nodes["call"].props["index"]["K"] = "b"
    v2_docs.node(doc, "n", "data.scalar", "n", dtype="i64", value=4)
    v2_docs.wire(doc, "n", "scalar", "batch", "size")
    assert _shape_diags(doc) == []
    doc.graph.edges.pop()
    params = [{"name": p["name"], "direction": p["direction"], "kind": "tensor"} for p in v2_docs.TILE_16]  # fmt: skip
    doc.graph.nodes["attn"].props["params"] = params
    assert _shape_diags(doc) == [("call", "props.index.K", K_PAST_BATCH)]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name.split(".")[0])
def test_no_false_positive_on_any_sample(path: Path) -> None:
    doc = io.load(path)
    assert shape_checks.document_problems(doc) == []
    assert validate_document(doc) == []


def test_the_checks_cover_the_samples() -> None:
    """Not vacuous: every tile parameter of every sample's calls wired to a tensor is judged.
    Indexing one more dimension than the effective index (auto or typed) gives a badge on
    exactly that port."""
    judged = 0
    for path in SAMPLES:
        doc = io.load(path)
        for node in [n for n in doc.graph.nodes.values() if n.kind == "kernel.call"]:
            kern = indexing.kernel_of(doc, node)
            assert kern is not None
            saved = dict(node.props["index"])
            for param in indexing.params_of(kern):
                wired = indexing.wired_node(doc, node, param["name"])
                if param["kind"] != "tile" or wired is None or wired.kind != "data.tensor":
                    continue  # a collective's result has no static shape here
                name = param["name"]
                text = indexing.effective_index(doc, node, name)
                node.props["index"] = {**saved, name: f"{text}, 0" if text else "0"}
                found = [(d.node_id, d.field) for d in shape_checks.document_problems(doc)]
                assert found == [(node.id, f"props.index.{name}")], (path.name, name)
                judged += 1
            node.props["index"] = saved
    assert judged >= 30


# ------------------------------------------------------------------------------------------
# §8.3 sample and older files: a "tensor" parameter with a tile shape is a tile parameter
# ------------------------------------------------------------------------------------------
def _megakernel_as_before() -> dict[str, Any]:
    """The §8.3 sample as it was: "tensor" parameters with 16x16 shapes that nothing checked,
    and ``store[r](..., output=output)`` passing the whole rank-3 output."""
    data = json.loads((GOLDEN_V1 / "megakernel_pipeline.v1.pto.json").read_text())

    def walk(graph: dict[str, Any]) -> None:
        for n in graph["nodes"]:
            if n["kind"] == "kernel.def":
                for p in n["props"]["params"]:
                    p["kind"] = "tensor"
            index = n["props"].get("index")
            if n["kind"] == "kernel.call" and index == {"output": "r"}:
                n["props"]["index"] = {}
            if "body" in n:
                walk(n["body"])

    walk(data["graph"])
    return data


def test_older_tensor_parameters_with_a_shape_open_as_tiles() -> None:
    doc = io.from_data(_megakernel_as_before())
    store = next(n for n in doc.graph.nodes.values() if n.name == "store")
    call = next(n for n in doc.graph.nodes.values() if n.props.get("kernel") == store.id)
    assert store.props["params"] == [
        {"name": "result", "direction": "In", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"},
        {"name": "output", "direction": "Out", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"},
    ]  # fmt: skip
    (diag,) = validate_document(doc)
    assert (diag.node_id, diag.field) == (call.id, "props.index.output")
    assert diag.message == (
        "output (whole, no index) has shape [8, 16, 16] but parameter output of store is "
        "Tile[16, 16, f32]"
    )
    assert (
        export_script(io.load(PROJECTS / "megakernel_pipeline.pto.json")).source.count(
            "store[r](result=result_buf, output=output[r])"
        )
        == 1
    )


def test_migration_drops_fields_a_kind_does_not_carry() -> None:
    assert registry.migrate_param(
        {"name": "s", "direction": "In", "kind": "scalar", "rows": 16, "cols": 16, "dtype": "i32"}
    ) == {"name": "s", "direction": "In", "kind": "scalar", "dtype": "i32"}
    assert registry.migrate_param({"name": "x", "kind": "tensor", "dtype": "f32"}) == {
        "name": "x",
        "kind": "tensor",
    }
    assert registry.migrate_param({"name": "x", "kind": "tensor", "cols": 8}) == {
        "name": "x",
        "kind": "tile",
        "cols": 8,
    }
    assert registry.normalize_param({"name": "x", "kind": "tile", "cols": 8}) == {
        "name": "x", "direction": "In", "kind": "tile", "rows": 16, "cols": 8, "dtype": "f32",
    }  # fmt: skip
    assert registry.normalize_param({"name": "x"}) == {
        "name": "x",
        "direction": "In",
        "kind": "tensor",
    }


def test_an_unshaped_tensor_parameter_has_no_tile_fields() -> None:
    spec = registry.kind("kernel.def").prop("params")
    problem = registry.prop_problem(spec, [{"name": "Q", "kind": "tensor", "rows": 16}])
    assert problem == (
        "[0].rows: a tensor parameter has no rows; choose kind tile for a Tile[rows, cols, dtype]"
    )
    params = [{"name": "Q", "direction": "In", "kind": "tensor"}, *v2_docs.TILE_16[1:]]
    doc = v2_docs.attention(params=params)
    saved = io.to_data(doc)
    (kern,) = [n for n in saved["graph"]["nodes"] if n["kind"] == "kernel.def"]
    assert kern["props"]["params"][0] == {"name": "Q", "direction": "In", "kind": "tensor"}
    again = io.from_data(saved)  # an unshaped parameter stays unshaped through save and load
    assert indexing.params_of(again.node("attn"))[0]["kind"] == "tensor"


@pytest.mark.parametrize("index", ['x"""\nimport os\n"""', "0 +", "b, h, i, j, k", ""])
def test_malformed_or_surplus_index(index: str) -> None:
    """A malformed index is the expression check's; surplus items and the whole rank-3 tensor
    are badged here."""
    doc = v2_docs.attention(index={"K": index, "V": "b"})
    expected = [] if index in ('x"""\nimport os\n"""', "0 +") else [("call", "props.index.K")]
    assert [(d[0], d[1]) for d in _shape_diags(doc)] == expected


def test_malformed_parameters_are_left_to_the_params_check() -> None:
    params = [{**p, "rows": "sixteen"} for p in v2_docs.TILE_16]
    doc = v2_docs.attention(params=params, shapes={"Q": [16, 16]}, index={"Q": "b, h"})
    assert _shape_diags(doc) == []
