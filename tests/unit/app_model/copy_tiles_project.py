"""A small format-v2 project for the schedule-sheet, tensor-layout and collective tests:
``copy_k`` over 4 tiles in a workload whose sheet can map a mesh and set ``task_graph``, plus
the helpers that read its exported script and round-trip it through Import Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.model.commands import DocumentEditor, SetProperty
from app.model.document import Document, Edge, PortRef
from app.model.equality import same_as
from app.model.export import export_script
from app.model.importer import import_script
from app.model.validation import validate_document

from .v2_docs import node
from .v2_docs import wire as v2wire


def build(
    ed: DocumentEditor,
    *,
    task_graph: dict[str, Any] | None = None,
    mesh: bool = True,
    program: bool = False,
    layout_a: list[str] | None = None,
) -> dict[str, str]:
    """A (4, 16, 16) -> B copied tile by tile in ``P(i in tiles)`` inside workload ``work``;
    the sheet maps a 2x2 mesh (``mesh``), sets ``task_graph`` and compiles (``program``)."""
    doc = ed.doc
    node(doc, "A", "data.tensor", "A", shape=[4, 16, 16], layout=layout_a or [])
    node(doc, "B", "data.tensor", "B", shape=[4, 16, 16])
    node(doc, "tiles", "axis.dense", "tiles", size=4)
    params = [
        {"name": "a", "direction": "In", "kind": "tile"},
        {"name": "b", "direction": "Out", "kind": "tile"},
    ]
    kern = node(doc, "copy_k", "kernel.def", "copy_k", params=params)
    pn = {n.props["param"]: n.id for n in kern.body.nodes.values() if n.kind == "kernel.param"}
    kern.body.edges.append(Edge(PortRef(pn["a"], "tile"), PortRef(pn["b"], "value")))
    sheet: dict[str, Any] = {}
    if mesh:
        sheet["spatial_map"] = [2, 2]
    if task_graph is not None:
        sheet["task_graph"] = dict(task_graph)
    if program:
        sheet["target"] = "cpu_sim"
    node(doc, "wl", "workload.def", "work", **sheet)
    node(doc, "loop", "loop.parallel", "", "wl", axes=[{"var": "i", "axis": "tiles"}])
    node(doc, "call", "kernel.call", "call", "loop", kernel="copy_k")
    v2wire(doc, "A", "tensor", "call", "a")
    v2wire(doc, "call", "b", "B", "write")
    return {"A": "A", "B": "B", "wl": "wl", "loop": "loop", "kernel": "copy_k", "tg": "wl", "compile": "wl"}  # fmt: skip


def add_collective(
    ed: DocumentEditor, ids: dict[str, str], kind: str, name: str, source: str, **props: Any
) -> str:
    """Append ``name = <kind>(source, ...)`` to the workload's statements (after the loop)."""
    doc = ed.doc
    node(doc, name, f"layout.{kind}", name, "wl", **props)
    v2wire(doc, source, "tensor", name, "tensor")
    ids["last"] = name
    return name


def set_task_graph(ed: DocumentEditor, ids: dict[str, str], **fields: Any) -> None:
    """Set some fields of the workload sheet's ``task_graph`` (one SetProperty of the dict)."""
    wl = ed.doc.node(ids["wl"])
    ed.apply(SetProperty(wl.id, "task_graph", {**wl.props.get("task_graph", {}), **fields}))


def task_graph_line(doc: Document) -> str:
    src = export_script(doc).source
    start = src.index(".task_graph(")
    depth = 0
    for i in range(start + len(".task_graph"), len(src)):
        depth += {"(": 1, ")": -1}.get(src[i], 0)
        if depth == 0:
            return " ".join(src[start : i + 1].split()).replace("( ", "(").replace(",)", ")")
    raise AssertionError("unbalanced task_graph call")


def messages(doc: Document, node_id: str) -> list[str]:
    return [f"{d.field}: {d.message}" for d in validate_document(doc) if d.node_id == node_id]


def round_trip(doc: Document, tmp_path: Path) -> Document:
    script = tmp_path / f"{doc.name}.py"
    script.write_text(export_script(doc).source)
    back = import_script(script)
    assert same_as(back, doc)
    assert export_script(back).source.replace(back.name, doc.name) == export_script(doc).source
    return back


def script_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "script.py"
    path.write_text(
        "from pto_wsp import *\n"
        "import numpy as np\n"
        "A = Tensor(np.zeros((4, 16, 16), np.float32), name='A',\n"
        "           layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0))\n"
        "B = Tensor(np.zeros((4, 16, 16), np.float32), name='B')\n"
        "tiles = Dense[4]\n"
        "@kernel\n"
        "def copy_k(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]):\n"
        "    pto.store(b, a)\n" + body
    )
    return path


def flatten(src: str) -> str:
    """The script on one line, so an assertion does not depend on where the formatter breaks it."""
    return " ".join(src.split()).replace("( ", "(").replace(", )", ")").replace(",)", ")")
