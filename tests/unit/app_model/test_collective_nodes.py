"""Collectives (allreduce, allgather, reduce_scatter, relayout) in the graph model (format v2),
and the tensor_parallel sample that uses one.

Each exports to the exact DSL call, imports back to an equal document, needs a mesh on the
workload's sheet, and the sample runs on cpu_sim to numpy's result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.model import io
from app.model.commands import DocumentEditor, SetProperty
from app.model.document import Document, PortRef
from app.model.equality import same_as
from app.model.export import ExportError, export_script
from app.model.importer import import_script
from app.model.validation import validate_document

from .conftest import add, wire
from .copy_tiles_project import add_collective, build, messages, round_trip, script_file

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "app" / "projects" / "tensor_parallel.pto.json"


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="copy_tiles"))


def test_collectives_export_with_their_options(editor) -> None:
    ids = build(editor, layout_a=["S0", "R", "R"])
    add_collective(editor, ids, "allreduce", "r", "A", op="max")
    add_collective(editor, ids, "allgather", "g", "r", dim=0)
    add_collective(
        editor, ids, "reduce_scatter", "s", "A", dim=1, op="prod", mesh_axis=1, mesh_size=2
    )
    add_collective(editor, ids, "relayout", "x", "B", dist=["R", "S1", "R"])
    src = export_script(editor.doc).source
    assert '    r = allreduce(A, op="max")\n' in src
    assert "    g = allgather(r, dim=0)\n" in src
    assert '    s = reduce_scatter(A, dim=1, op="prod", mesh_axis=1, mesh_size=2)\n' in src
    assert (
        "    x = relayout(B, to=TensorLayout((TensorReplicate(), TensorShard(1), TensorReplicate())))\n"
        in src
    )  # noqa: E501


def test_collective_output_feeds_a_kernel_call(editor) -> None:
    ids = build(editor, layout_a=["S0", "R", "R"])
    red = add_collective(editor, ids, "allreduce", "y", "A")
    call = add(
        editor, "kernel.call", parent=ids["wl"], kernel=ids["kernel"], index={"a": "0", "b": "1"}
    )
    wire(editor, red, "tensor", call.id, "a")  # the collective's result tensor
    wire(editor, call.id, "b", ids["B"], "write")
    src = export_script(editor.doc).source
    assert '    y = allreduce(A, op="sum")\n    copy_k(a=y[0], b=B[1])\n' in src


def test_collective_without_a_mesh_is_a_diagnostic_on_the_collective(editor) -> None:
    ids = build(editor, mesh=False, program=True, layout_a=["S0", "R", "R"])
    red = add_collective(editor, ids, "allreduce", "y", "A")
    assert messages(editor.doc, red) == [
        "kind: allreduce needs a mesh: set spatial_map in the schedule of work"
    ]
    with pytest.raises(ExportError, match="needs a mesh: set spatial_map"):
        export_script(editor.doc)
    # with the mesh on the workload's sheet the diagnostic goes away
    editor.apply(SetProperty(ids["wl"], "spatial_map", [2, 2]))
    assert messages(editor.doc, red) == []


def test_reduce_scatter_round_trips(editor, tmp_path: Path) -> None:
    ids = build(editor, layout_a=["S1", "R", "R"])  # the partials: dim 0 over mesh axis 1
    add_collective(
        editor, ids, "reduce_scatter", "s", "A", dim=2, op="sum", mesh_axis=1, mesh_size=2
    )
    round_trip(editor.doc, tmp_path)


def test_collective_result_used_inside_a_loop_imports_wired_across_the_loop_border(
    tmp_path: Path,
) -> None:
    """v1 refused this (a collective's result lived in the workload body's scope, out of reach
    of a loop body). v2 changed the rule on purpose: one canvas, so the collective's result is
    wired straight into the call inside the loop, and the script comes back unchanged."""
    path = script_file(
        tmp_path,
        "@workload\n"
        "def work():\n"
        "    y = allreduce(A)\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=y[i], b=B[i])\n"
        "w = work().spatial_map(grid=(2, 2))\n",
    )
    doc = import_script(path)
    assert validate_document(doc) == []
    red = next(n for n in doc.graph.nodes.values() if n.kind == "layout.allreduce")
    call = next(n for n in doc.graph.nodes.values() if n.kind == "kernel.call")
    assert doc.node(call.parent).kind == "loop.parallel"
    assert red.parent == doc.node(call.parent).parent  # the collective is a workload statement
    assert [
        (e.src.node, e.src.port) for e in doc.graph.edges if e.dst == PortRef(call.id, "a")
    ] == [(red.id, "tensor")]
    src = export_script(doc).source
    assert (
        '    y = allreduce(A, op="sum")\n    for i in P(tiles):\n        copy_k[i](a=y[i], b=B[i])\n'
        in src
    )  # noqa: E501


def test_tensor_parallel_sample_validates_and_exports_the_agreed_api() -> None:
    doc = io.load(SAMPLE)
    assert validate_document(doc) == []
    src = export_script(doc).source
    assert "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0)" in src  # X sharded on K
    assert "        partial[k, n](x=X[k], w=W[k, n], p=Part[k, n])\n" in src
    assert '    y = allreduce(Part, op="sum")\n' in src
    assert "    finish(a=y[0, 0], b=y[0, 1], o0=Y[0], o1=Y[1])\n" in src
    # v2: the mesh is on the workload's sheet, chained after its task_graph
    assert "    tensor_parallel_w.task_graph(\n" in src
    assert "    .spatial_map(grid=(2, 2))\n" in src
    assert '        ready=ReadyPolicy.priority(lambda t: t.get("k")),\n' in src
    assert "        pools=Pools.by_kernel({partial: 3, finish: 1}),\n" in src
    assert '    .compile(target="cpu_sim")\n' in src


def test_tensor_parallel_sample_runs_on_cpu_sim(tmp_path: Path) -> None:
    """The sample's exported script runs (allreduce on a 2x2 mesh) and computes X @ W."""
    doc = io.load(SAMPLE)
    script = tmp_path / "tensor_parallel.py"
    script.write_text(export_script(doc).source)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    stats_path, out_path = tmp_path / "stats.json", tmp_path / "out.npz"
    proc = subprocess.run(
        [sys.executable, str(script), "--stats", str(stats_path), "--outputs", str(out_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(stats_path.read_text())
    assert stats["ok"] and stats["executed"]
    with np.load(out_path) as data:
        x, w, y = data["X"], data["W"], data["Y"]
    for n in range(2):  # Y[n] = X (16 x 64, K in two blocks) @ W[:, n-th column block]
        want = sum(x[k] @ w[k, n] for k in range(2))
        np.testing.assert_allclose(y[n], want, rtol=1e-4, atol=1e-4)
    assert same_as(import_script(script), doc)  # the program compiles, so it also imports
