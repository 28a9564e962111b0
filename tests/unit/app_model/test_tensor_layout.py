"""A tensor's distribution layout (``layout``: R / S<mesh axis> per dimension) and memory
layout (``mem``: default / row_major / col_major) in the graph model (format v2).

Each exports to the exact ``TensorLayout`` / ``MemLayout`` call, imports back to an equal
document, and a wrong value is a diagnostic or a clear refusal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.model import registry
from app.model.commands import DocumentEditor, PropertyError, SetProperty
from app.model.document import Document
from app.model.export import export_script
from app.model.importer import ScriptImportError, import_script

from .copy_tiles_project import build, flatten, messages, round_trip, script_file


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="copy_tiles"))


def test_tensor_layout_exports_as_the_tensor_keyword(editor) -> None:
    ids = build(editor, layout_a=["S0", "R", "R"])
    src = export_script(editor.doc).source
    assert (
        "A = Tensor(shape=(4, 16, 16), dtype=DType.F32, "
        'layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0), name="A")'
    ) in src.replace("(\n    ", "(").replace(",\n    ", ", ").replace(",\n)", ")")
    editor.apply(SetProperty(ids["A"], "layout", ["S1", "R", "S0"]))
    src = export_script(editor.doc).source
    assert "layout=TensorLayout((TensorShard(1), TensorReplicate(), TensorShard(0)))" in src
    editor.apply(SetProperty(ids["A"], "layout", ["R", "R", "R"]))  # = the default layout
    assert "layout=" not in export_script(editor.doc).source
    assert 'B = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="B")' in src


def test_tensor_layout_is_checked_against_the_rank(editor) -> None:
    ids = build(editor)
    editor.apply(SetProperty(ids["A"], "layout", ["S0", "R"]))
    assert messages(editor.doc, ids["A"]) == [
        "props.layout: the layout has 2 entries but the tensor has rank 3 (shape [4, 16, 16]); "
        "give one R or S<i> per dimension"
    ]
    with pytest.raises(PropertyError, match="mesh axis 0 shards two dimensions"):
        editor.apply(SetProperty(ids["A"], "layout", ["S0", "S0", "R"]))
    with pytest.raises(PropertyError, match="'R' or 'S<mesh axis>'"):
        editor.apply(SetProperty(ids["A"], "layout", ["X", "R", "R"]))
    editor.apply(SetProperty(ids["A"], "shape", [4, 16]))  # now the two entries fit
    assert messages(editor.doc, ids["A"]) == []


def test_tensor_mem_is_an_enum_defaulting_to_no_memory_layout() -> None:
    spec = registry.kind("data.tensor").prop("mem")
    assert spec.type == "enum" and spec.default == "default"
    assert spec.choices == ("default", "row_major", "col_major")
    assert registry.prop_problem(spec, "zigzag") is not None


def test_tensor_mem_exports_inside_the_tensor_layout(editor) -> None:
    ids = build(editor)
    src = export_script(editor.doc).source
    assert "MemLayout" not in src  # default: no memory layout, no import
    editor.apply(SetProperty(ids["A"], "mem", "col_major"))
    flat = flatten(export_script(editor.doc).source)
    assert (
        "A = Tensor(shape=(4, 16, 16), dtype=DType.F32, layout=TensorLayout.default(3, "
        'mem=MemLayout.col_major((4, 16, 16))), name="A")'
    ) in flat
    imports = flat[flat.index("from pto_wsp import") : flat.index("A = Tensor(")]
    assert "MemLayout" in imports
    editor.apply(SetProperty(ids["A"], "layout", ["S0", "R", "R"]))
    editor.apply(SetProperty(ids["A"], "mem", "row_major"))
    flat = flatten(export_script(editor.doc).source)
    assert (
        "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0, "
        "mem=MemLayout.row_major((4, 16, 16)))"
    ) in flat
    editor.apply(SetProperty(ids["A"], "layout", ["S1", "R", "S0"]))
    flat = flatten(export_script(editor.doc).source)
    assert (
        "layout=TensorLayout((TensorShard(1), TensorReplicate(), TensorShard(0)), "
        "mem=MemLayout.row_major((4, 16, 16)))"
    ) in flat


def test_col_major_tensor_with_init_data_arranges_it(editor, tmp_path: Path) -> None:
    ids = build(editor)
    editor.apply(SetProperty(ids["A"], "mem", "col_major"))
    editor.apply(SetProperty(ids["A"], "init", "random"))
    editor.apply(SetProperty(ids["A"], "seed", 7))
    flat = flatten(export_script(editor.doc).source)
    assert (
        "A = Tensor(MemLayout.col_major((4, 16, 16)).arrange(init.random((4, 16, 16), "
        "DType.F32, seed=7)), layout=TensorLayout.default(3, mem=MemLayout.col_major("
        '(4, 16, 16))), name="A")'
    ) in flat
    back = round_trip(editor.doc, tmp_path)
    a = next(n for n in back.graph.nodes.values() if n.name == "A")
    assert a.props["mem"] == "col_major" and a.props["init"] == "random" and a.props["seed"] == 7


@pytest.mark.parametrize("layout", [[], ["S0", "R", "R"], ["S1", "R", "S0"]])
@pytest.mark.parametrize("mem", ["row_major", "col_major"])
def test_tensor_mem_round_trips(editor, tmp_path: Path, layout, mem) -> None:
    ids = build(editor, layout_a=layout)
    editor.apply(SetProperty(ids["A"], "mem", mem))
    editor.apply(SetProperty(ids["B"], "mem", "col_major"))
    editor.apply(SetProperty(ids["B"], "init", "range"))
    back = round_trip(editor.doc, tmp_path)
    by_name = {n.name: n for n in back.graph.nodes.values()}
    assert by_name["A"].props["mem"] == mem and by_name["B"].props["mem"] == "col_major"


def test_order_only_memory_layout_imports_as_the_order(tmp_path: Path) -> None:
    path = script_file(
        tmp_path,
        "C = Tensor(np.zeros((16, 16), np.float32, order='F'), name='C', layout=\n"
        "    TensorLayout.default(2, mem=MemLayout(order='col_major')))\n"
        "@workload\n"
        "def work():\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=A[i], b=C)\n"
        "w = work().spatial_map(grid=(2, 2))\n",
    )
    doc = import_script(path)
    c = next(n for n in doc.graph.nodes.values() if n.name == "C")
    assert c.props["mem"] == "col_major" and c.props["layout"] == []


def test_swizzled_memory_layout_is_refused_clearly(tmp_path: Path) -> None:
    path = script_file(
        tmp_path,
        "C = Tensor(np.zeros((16, 16), np.float32), name='C', layout=TensorLayout.default(\n"
        "    2, mem=MemLayout.row_major((16, 16), swizzle='xor4')))\n"
        "@workload\n"
        "def work():\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=A[i], b=C)\n"
        "w = work().spatial_map(grid=(2, 2))\n",
    )
    with pytest.raises(ScriptImportError, match="tensor C: the memory layout .* has a swizzle"):
        import_script(path)


def test_strided_memory_layout_is_refused_clearly(tmp_path: Path) -> None:
    path = script_file(
        tmp_path,
        "C = Tensor(np.zeros((16, 32), np.float32)[:, :16], name='C', layout=TensorLayout(\n"
        "    (TensorReplicate(), TensorReplicate()), mem=MemLayout(strides=(32, 1))))\n"
        "@workload\n"
        "def work():\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=A[i], b=C)\n"
        "w = work().spatial_map(grid=(2, 2))\n",
    )
    with pytest.raises(
        ScriptImportError, match="tensor C: the memory layout .* not row_major or col_major"
    ):
        import_script(path)
