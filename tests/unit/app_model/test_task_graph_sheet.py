"""Issue 8 in the graph model (format v2): task-graph policies and the mesh on a workload's
schedule sheet, tensor layouts, collectives.

Each option exports to the exact DSL call of the agreed API, imports back from a script to an
equal document (with a byte-identical re-export), and wrong values are diagnostics on the node.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.model import io, registry
from app.model.commands import DocumentEditor, PropertyError, SetProperty
from app.model.document import Document, Edge, PortRef
from app.model.export import ExportError, export_script
from app.model.importer import ScriptImportError, import_script
from app.model.kinds.schedule import task_graph_field_applies

from .conftest import add, wire
from .v2_docs import node
from .v2_docs import wire as v2wire

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "projects" / "tensor_parallel.pto.json"


# ------------------------------------------------------------------------------------------
# a small project: copy_k over 4 tiles, optionally a collective, the workload's schedule sheet
# ------------------------------------------------------------------------------------------
@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="issue8"))


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
    return [f"{d.field}: {d.message}" for d in doc.validate() if d.node_id == node_id]


# ------------------------------------------------------------------------------------------
# export: every option of the agreed API
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("props", "call"),
    [
        ({"window": 8}, '.task_graph(window=TaskWindow(8, "tasks", WindowMode.STALL))'),
        (
            {"window": 4, "mode": "abort"},
            '.task_graph(window=TaskWindow(4, "tasks", WindowMode.ABORT))',
        ),
        (
            {"window": 2, "mode": "benchmark"},
            '.task_graph(window=TaskWindow(2, "tasks", WindowMode.BENCHMARK))',
        ),
        ({"deps": "infer"}, ".task_graph(deps=Deps.infer())"),
        ({"deps": "infer_bounding"}, '.task_graph(deps=Deps.infer("bounding"))'),
        ({"deps": "explicit"}, ".task_graph(deps=Deps.explicit())"),
        ({"ready": "fifo"}, ".task_graph(ready=ReadyPolicy.fifo())"),
        ({"ready": "lifo"}, ".task_graph(ready=ReadyPolicy.lifo())"),
        (
            {"ready": "priority", "ready_key": '3 - t.get("i")'},
            '.task_graph(ready=ReadyPolicy.priority(lambda t: 3 - t.get("i")))',
        ),
        ({"start": "eager"}, ".task_graph(start=StartPolicy.eager())"),
        ({"start": "threshold", "threshold": 5}, ".task_graph(start=StartPolicy.threshold(5))"),
        ({"trace": "full"}, ".task_graph(trace=TracePolicy.full())"),
        ({"trace": "none"}, ".task_graph(trace=TracePolicy.none())"),
        (
            {"pools": [{"kernel": "copy_k", "workers": 3}]},
            ".task_graph(pools=Pools.by_kernel({copy_k: 3}))",
        ),
        (
            # choices that do not apply (key without priority, n without threshold) are ignored
            {"deps": "explicit", "ready_key": 't.get("i")', "threshold": 9, "mode": "abort"},
            ".task_graph(deps=Deps.explicit())",
        ),
    ],
)
def test_task_graph_option_exports_the_agreed_call(editor, props, call) -> None:
    build(editor, task_graph=props)
    assert task_graph_line(editor.doc) == call


def test_all_options_together_split_like_ruff_and_import_what_they_use(editor) -> None:
    props = {
        "window": 16,
        "deps": "infer_bounding",
        "ready": "priority",
        "ready_key": 't.get("i")',
        "start": "threshold",
        "threshold": 2,
        "trace": "none",
        "pools": [{"kernel": "copy_k", "workers": 2}],
    }
    build(editor, task_graph=props, program=True)
    src = export_script(editor.doc).source
    # v2: the sheet's chain starts at the workload (``work_w.task_graph(``) inside ``program = (``
    assert (
        "program = (\n"
        "    work_w.task_graph(\n"
        '        window=TaskWindow(16, "tasks", WindowMode.STALL),\n'
        '        deps=Deps.infer("bounding"),\n'
        '        ready=ReadyPolicy.priority(lambda t: t.get("i")),\n'
        "        start=StartPolicy.threshold(2),\n"
        "        trace=TracePolicy.none(),\n"
        "        pools=Pools.by_kernel({copy_k: 2}),\n"
        "    )\n"
    ) in src
    imports = src[src.index("from pto_wsp import") : src.index("from pto_wsp.runtime.runner")]
    for name in ("Deps", "Pools", "ReadyPolicy", "StartPolicy", "TracePolicy", "TaskWindow"):
        assert f"    {name},\n" in imports


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


# ------------------------------------------------------------------------------------------
# validation: diagnostics on the node and field
# ------------------------------------------------------------------------------------------
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


def test_task_graph_diagnostics(editor) -> None:
    ids = build(editor, task_graph={"window": 0})
    wl = ids["wl"]
    assert any("task_graph sets nothing" in m for m in messages(editor.doc, wl))
    set_task_graph(editor, ids, ready="priority")
    assert messages(editor.doc, wl) == [
        "props.task_graph.ready_key: ready=priority needs a key, e.g. k"
    ]
    set_task_graph(editor, ids, ready_key='t.get("i") + nope')
    assert [m for m in messages(editor.doc, wl) if "nope" in m]
    set_task_graph(editor, ids, ready_key='t.get("i")')
    set_task_graph(editor, ids, pools=[{"kernel": "ghost", "workers": 2}])
    assert messages(editor.doc, wl) == [
        "props.task_graph.pools[0].kernel: no kernel named 'ghost' in the project"
    ]
    with pytest.raises(PropertyError, match="two pools"):
        set_task_graph(
            editor,
            ids,
            pools=[{"kernel": "copy_k", "workers": 1}, {"kernel": "copy_k", "workers": 2}],
        )
    with pytest.raises(PropertyError, match="workers"):
        set_task_graph(editor, ids, pools=[{"kernel": "copy_k", "workers": 0}])
    with pytest.raises(PropertyError, match="expected one of"):
        set_task_graph(editor, ids, deps="magic")


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


def test_task_graph_fields_apply_by_the_choices(editor) -> None:
    settings = {"window": 0, "trace": "none"}
    assert not task_graph_field_applies(settings, "ready_key")
    assert not task_graph_field_applies(settings, "threshold")
    assert not task_graph_field_applies(settings, "mode")
    assert not task_graph_field_applies(settings, "unit")
    settings.update(ready="priority", start="threshold", window=4)
    for name in ("ready_key", "threshold", "mode", "unit", "deps", "pools"):
        assert task_graph_field_applies(settings, name), name


def test_a_task_graph_with_some_fields_loads_with_default_knobs(tmp_path: Path) -> None:
    """A file naming only some task_graph fields (and a tensor without a layout) keeps its
    meaning: the fields it leaves out are not set."""
    ed = DocumentEditor(Document(name="old"))
    build(ed, task_graph={"window": 8})
    data = json.loads(io.to_json(ed.doc))
    for raw in data["graph"]["nodes"]:
        if raw["kind"] == "workload.def":
            raw["props"]["task_graph"] = {"window": 8, "mode": "stall"}
        if raw["kind"] == "data.tensor":
            del raw["props"]["layout"]
    path = tmp_path / "old.pto.json"
    path.write_text(json.dumps(data))
    doc = io.load(path)
    assert doc.validate() == []
    assert task_graph_line(doc) == '.task_graph(window=TaskWindow(8, "tasks", WindowMode.STALL))'


# ------------------------------------------------------------------------------------------
# import: graph -> script -> graph
# ------------------------------------------------------------------------------------------
def round_trip(doc: Document, tmp_path: Path) -> Document:
    script = tmp_path / f"{doc.name}.py"
    script.write_text(export_script(doc).source)
    back = import_script(script)
    assert back.same_as(doc)
    assert export_script(back).source.replace(back.name, doc.name) == export_script(doc).source
    return back


def test_task_graph_knobs_layouts_and_collectives_round_trip(editor, tmp_path: Path) -> None:
    props = {
        "window": 6,
        "mode": "abort",
        "deps": "explicit",
        "ready": "priority",
        "ready_key": 't.get("i") % 2',
        "start": "threshold",
        "threshold": 3,
        "trace": "full",
        "pools": [{"kernel": "copy_k", "workers": 2}],
    }
    ids = build(editor, task_graph=props, layout_a=["S0", "R", "R"])
    editor.apply(SetProperty(ids["B"], "layout", ["R", "S1", "S0"]))
    red = add_collective(editor, ids, "allreduce", "y", "A", op="min")
    add_collective(editor, ids, "allgather", "g", "y", dim=0)
    add_collective(editor, ids, "relayout", "z", "B", dist=["S1", "R", "R"])
    call = add(
        editor, "kernel.call", parent=ids["wl"], kernel=ids["kernel"], index={"a": "1", "b": "2"}
    )
    wire(editor, red, "tensor", call.id, "a")
    wire(editor, call.id, "b", ids["B"], "write")
    assert editor.doc.validate() == []
    back = round_trip(editor.doc, tmp_path)
    wl = next(n for n in back.graph.nodes.values() if n.kind == "workload.def")
    spec = registry.kind("workload.def").prop("task_graph")
    defaults = {f.name: f.default for f in registry.prop_fields(spec)}
    assert {**defaults, **wl.props["task_graph"]} == {**defaults, **props}


@pytest.mark.parametrize(
    "props",
    [
        {"deps": "infer_bounding"},
        {"deps": "infer", "ready": "lifo", "start": "eager"},
        {"ready": "fifo", "trace": "none", "window": 3, "mode": "benchmark"},
    ],
)
def test_each_task_graph_choice_round_trips(editor, tmp_path: Path, props) -> None:
    build(editor, task_graph=props)
    round_trip(editor.doc, tmp_path)


def test_reduce_scatter_round_trips(editor, tmp_path: Path) -> None:
    ids = build(editor, layout_a=["S1", "R", "R"])  # the partials: dim 0 over mesh axis 1
    add_collective(
        editor, ids, "reduce_scatter", "s", "A", dim=2, op="sum", mesh_axis=1, mesh_size=2
    )
    round_trip(editor.doc, tmp_path)


def _script(tmp_path: Path, body: str) -> Path:
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


def test_collective_result_used_inside_a_loop_imports_wired_across_the_loop_border(
    tmp_path: Path,
) -> None:
    """v1 refused this (a collective's result lived in the workload body's scope, out of reach
    of a loop body). v2 changed the rule on purpose: one canvas, so the collective's result is
    wired straight into the call inside the loop, and the script comes back unchanged."""
    path = _script(
        tmp_path,
        "@workload\n"
        "def work():\n"
        "    y = allreduce(A)\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=y[i], b=B[i])\n"
        "w = work().spatial_map(grid=(2, 2))\n",
    )
    doc = import_script(path)
    assert doc.validate() == []
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


def test_memory_layout_and_shared_pools_are_refused_clearly(tmp_path: Path) -> None:
    path = _script(
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
    path = _script(
        tmp_path,
        "from pto_wsp.language.schedule import Pools as _Pools\n"
        "@workload\n"
        "def work():\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=A[i], b=B[i])\n"
        "w = work().task_graph(pools=_Pools((2, 2), (('copy_k', 0),)))\n",
    )
    with pytest.raises(ScriptImportError, match="only Pools.by_kernel pools"):
        import_script(path)


# ------------------------------------------------------------------------------------------
# the tensor-parallel sample project
# ------------------------------------------------------------------------------------------
def test_tensor_parallel_sample_validates_and_exports_the_agreed_api() -> None:
    doc = io.load(SAMPLE)
    assert doc.validate() == []
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


def _collectives_unsupported_reason() -> str | None:
    """Why cpu_sim cannot run a collective yet (None once it can): a tiny compile."""
    from pto_wsp import Tensor, TensorLayout, allreduce, workload
    from pto_wsp.errors import PtoError

    part = Tensor(
        np.zeros((2, 4, 4), np.float32), layout=TensorLayout.sharded(dim=0, rank=3), name="pp"
    )

    @workload
    def probe():
        allreduce(part)

    try:
        probe().spatial_map(grid=(2,)).compile(target="cpu_sim")
    except PtoError as err:
        if "collective" in str(err) and "not supported" in str(err):
            return f"cpu_sim does not run collectives yet: {err}"
        raise
    return None


def test_tensor_parallel_sample_runs_on_cpu_sim(tmp_path: Path) -> None:
    reason = _collectives_unsupported_reason()
    if reason is not None:
        pytest.skip(reason)
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
    assert import_script(script).same_as(doc)  # the program compiles, so it also imports


# ------------------------------------------------------------------------------------------
# a tensor's memory layout (mem): default / row_major / col_major
# ------------------------------------------------------------------------------------------
def _flat(src: str) -> str:
    return " ".join(src.split()).replace("( ", "(").replace(", )", ")").replace(",)", ")")


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
    flat = _flat(export_script(editor.doc).source)
    assert (
        "A = Tensor(shape=(4, 16, 16), dtype=DType.F32, layout=TensorLayout.default(3, "
        'mem=MemLayout.col_major((4, 16, 16))), name="A")'
    ) in flat
    imports = flat[flat.index("from pto_wsp import") : flat.index("A = Tensor(")]
    assert "MemLayout" in imports
    editor.apply(SetProperty(ids["A"], "layout", ["S0", "R", "R"]))
    editor.apply(SetProperty(ids["A"], "mem", "row_major"))
    flat = _flat(export_script(editor.doc).source)
    assert (
        "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0, "
        "mem=MemLayout.row_major((4, 16, 16)))"
    ) in flat
    editor.apply(SetProperty(ids["A"], "layout", ["S1", "R", "S0"]))
    flat = _flat(export_script(editor.doc).source)
    assert (
        "layout=TensorLayout((TensorShard(1), TensorReplicate(), TensorShard(0)), "
        "mem=MemLayout.row_major((4, 16, 16)))"
    ) in flat


def test_col_major_tensor_with_init_data_arranges_it(editor, tmp_path: Path) -> None:
    ids = build(editor)
    editor.apply(SetProperty(ids["A"], "mem", "col_major"))
    editor.apply(SetProperty(ids["A"], "init", "random"))
    editor.apply(SetProperty(ids["A"], "seed", 7))
    flat = _flat(export_script(editor.doc).source)
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
    path = _script(
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
    path = _script(
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
