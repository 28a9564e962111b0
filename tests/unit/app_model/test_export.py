"""Graph -> DSL export of format-v2 documents: statement order, calls, frames, the schedule
sheet, determinism, line map, formatting, and ExportError (naming node and field) for bad
documents and for text that must not become code."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.model import io, registry
from app.model.document import Document, Edge, Node, PortRef
from app.model.export import ExportError, export_script
from app.model.validation import document_warnings

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "app" / "projects").glob("*.pto.json"))
LIBRARY = sorted((ROOT / "app" / "resources" / "kernel_library").glob("*.json"))

# ------------------------------------------------------------------------------------------
# building v2 documents


def tile(name: str, direction: str = "In", rows: int = 16, cols: int = 16) -> dict[str, Any]:
    return {"name": name, "direction": direction, "kind": "tile", "rows": rows, "cols": cols, "dtype": "f32"}  # fmt: skip


def add(doc: Document, nid: str, kind: str, name: str = "", parent: str | None = None, **props: Any) -> Node:  # fmt: skip
    """A node made by the registry (its kind's defaults, a kernel's parameter nodes) with the
    id ``nid``, placed in ``parent``."""
    node = registry.new_node(kind, doc, name=name, **props)
    node.id = nid
    node.parent = parent
    doc.graph.nodes[nid] = node
    return node


def wire(doc: Document, src: str, sport: str, dst: str, dport: str) -> None:
    doc.graph.edges.append(Edge(PortRef(src, sport), PortRef(dst, dport)))


def tensor(doc: Document, name: str, shape: list[int], **extra: Any) -> Node:
    return add(doc, name, "data.tensor", name, shape=shape, **extra)


def kernel(doc: Document, name: str, params: list[dict[str, Any]]) -> Node:
    return add(doc, name, "kernel.def", name, params=params)


def workload(doc: Document, nid: str, name: str, **sheet: Any) -> Node:
    return add(doc, nid, "workload.def", name, **sheet)


def call(doc: Document, nid: str, parent: str, kern: str, axes: str | None = None, **index: str) -> Node:  # fmt: skip
    return add(doc, nid, "kernel.call", "call", parent, kernel=kern, axes=axes, index=dict(index))


def attention(**sheet: Any) -> Document:
    """Spec §8.1: Q, O [4, 8, 16, 16] and K, V [4, 16, 16] wired straight into the call inside
    ``P(b in batch, h in heads)``; every index from the auto rule."""
    doc = Document(format_version=2, name="attention_varlen")
    for name, shape in (("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16])):
        tensor(doc, name, shape)
    tensor(doc, "O", [4, 8, 16, 16])
    add(doc, "batch", "axis.dense_dyn", "batch", size=4)
    add(doc, "heads", "axis.dense", "heads", size=8)
    kernel(doc, "attn_kernel", [tile("Q"), tile("K"), tile("V"), tile("O", "Out")])
    default = {
        "dispatch": "affinity",
        "dispatch_key": 't.get("batch")',
        "streams": 2,
        "stream_by": 't.get("head") % 2',
        "timing": "immediate",
        "target": "cpu_sim",
    }
    workload(doc, "wl", "attention", **{**default, **sheet})
    axes = [{"var": "b", "axis": "batch"}, {"var": "h", "axis": "heads"}]
    add(doc, "loop", "loop.parallel", "", "wl", axes=axes)
    call(doc, "call", "loop", "attn_kernel")
    for t in ("Q", "K", "V"):
        wire(doc, t, "tensor", "call", t)
    wire(doc, "call", "O", "O", "write")
    return doc


def two_stage(order: tuple[str, str] = ("c1", "c2")) -> Document:
    """``scale`` writes T from X, ``shift`` reads T into Y, both at the workload's top level;
    ``order`` is their child order."""
    doc = Document(format_version=2, name="two_stage")
    for name in ("X", "T", "Y"):
        tensor(doc, name, [16, 16])
    kernel(doc, "scale", [tile("x"), tile("y", "Out")])
    kernel(doc, "shift", [tile("x"), tile("y", "Out")])
    workload(doc, "wl", "stages", target="cpu_sim")
    made = {
        "c1": lambda: call(doc, "c1", "wl", "scale"),
        "c2": lambda: call(doc, "c2", "wl", "shift"),
    }
    for nid in order:
        made[nid]()
    wire(doc, "X", "tensor", "c1", "x")
    wire(doc, "c1", "y", "T", "write")
    wire(doc, "T", "tensor", "c2", "x")
    wire(doc, "c2", "y", "Y", "write")
    return doc


def body_of(source: str, fn: str) -> list[str]:
    """The lines of ``def fn():``'s body, dedented one level."""
    lines = source.splitlines()
    start = lines.index(f"def {fn}():") + 1
    out: list[str] = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        if line:
            out.append(line[4:])
    return out


def ir_of(source: str, tmp_path: Path) -> str:
    """``pto-wsp ir`` of a script, in a separate process."""
    script = tmp_path / "exported.py"
    script.write_text(source)
    proc = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "ir", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def line_of(lines: list[str], text: str) -> int:
    return next(i + 1 for i, ln in enumerate(lines) if ln.strip() == text)


# ------------------------------------------------------------------------------------------
# samples: deterministic, valid, ruff clean


@pytest.mark.parametrize("path", SAMPLES + LIBRARY, ids=lambda p: p.name)
def test_every_sample_exports_valid_deterministic_python(path: Path) -> None:
    doc = io.load(path)
    first = export_script(doc)
    again = export_script(io.load(path))
    assert first.source == again.source
    compile(first.source, str(path), "exec")  # syntactically valid Python
    lines = first.source.splitlines()
    assert set(first.line_map) <= set(range(1, len(lines) + 1))
    assert all(lines[n - 1].strip() for n in first.line_map)  # blank lines map to nothing
    assert set(first.line_map.values()) <= doc.all_ids()


# ruff is a test dependency: it sits beside this interpreter in the virtualenv (dev.sh does not
# put .venv/bin on PATH), else on PATH.
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def _ruff_clean(source: str, tmp_path: Path) -> None:
    assert RUFF is not None, "ruff (a test dependency) is not installed"
    script = tmp_path / "exported.py"
    script.write_text(source)
    fmt = subprocess.run(
        [RUFF, "format", "--check", "--diff", str(script)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run(
        [RUFF, "check", "--no-cache", str(script)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout


@pytest.mark.parametrize("path", SAMPLES + LIBRARY, ids=lambda p: p.name)
def test_export_is_ruff_clean(path: Path, tmp_path: Path) -> None:
    _ruff_clean(export_script(io.load(path)).source, tmp_path)


def test_built_documents_export_ruff_clean(tmp_path: Path) -> None:
    _ruff_clean(export_script(attention()).source, tmp_path)


# ------------------------------------------------------------------------------------------
# the §8.1 workload


def test_attention_reads_like_the_spec() -> None:
    src = export_script(attention()).source
    assert (
        "@workload\ndef attention():\n"
        "    for b, h in P(batch, heads):\n"
        "        attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])\n"
        "\n\nattention_w = attention()\n"
    ) in src
    assert (
        "program = (\n"
        '    attention_w.dispatch(DispatchPolicy.affinity(lambda t: t.get("batch")))\n'
        "    .streams(2)\n"
        '    .stream_by(lambda t: t.get("head") % 2)\n'
        "    .timing(TimingPolicy.immediate)\n"
        '    .compile(target="cpu_sim")\n'
        ")\n"
    ) in src
    assert src.rstrip().endswith('if __name__ == "__main__":\n    run_main(program)')
    assert "from pto_wsp.runtime.runner import report_errors, run_main" in src


def test_attention_lowers_to_the_spec_task(tmp_path: Path) -> None:
    ir = ir_of(export_script(attention()).source, tmp_path)
    assert "parallel_for (b:1 in dense_dyn batch[4], h:2 in dense heads[8])" in ir
    assert "task @attn_kernel[b, h](Q=%0[b, h], K=%1[b], V=%2[b], O=%3[b, h])" in ir
    assert (
        "schedule dispatch=affinity(b) workers=2 streams=2 stream_by=(h % 2) timing=immediate" in ir
    )


def test_index_override_and_axes_text_are_used_verbatim() -> None:
    doc = attention()
    doc.graph.nodes["call"].props["index"] = {"K": "b", "V": "0", "Q": "b, h % 8"}
    doc.graph.nodes["call"].props["axes"] = "b"
    src = export_script(doc).source
    assert "attn_kernel[b](Q=Q[b, h % 8], K=K[b], V=V[0], O=O[b, h])" in src


def test_the_loop_header_keeps_the_axes_order() -> None:
    doc = attention()
    doc.graph.nodes["loop"].props["axes"] = [
        {"var": "h", "axis": "heads"},
        {"var": "b", "axis": "batch"},
    ]
    # Heads outermost: the tensors are laid out heads first to match (else the live range
    # check refuses h, 8 values, indexing a dimension of 4); K and V are auto-indexed K[h].
    for name, shape in (("Q", [8, 4, 16, 16]), ("O", [8, 4, 16, 16]), ("K", [8, 16, 16])):
        doc.graph.nodes[name].props["shape"] = shape
    doc.graph.nodes["V"].props["shape"] = [8, 16, 16]
    src = export_script(doc).source
    assert "    for h, b in P(heads, batch):\n        attn_kernel[h, b](Q=Q[h, b]" in src


def test_a_sheet_without_a_target_is_a_scheduled_workload_and_no_program() -> None:
    src = export_script(attention(target="")).source
    assert "attention_scheduled = (\n    attention_w.dispatch(" in src
    assert ".compile(" not in src and "run_main" not in src


def test_an_empty_sheet_compiles_the_workload_as_it_is() -> None:
    sheet = registry.kind("workload.def").defaults()
    del sheet["target"]
    src = export_script(attention(**sheet)).source
    assert 'program = attention_w.compile(target="cpu_sim")\n' in src


def test_keys_may_name_loop_variables_bare() -> None:
    src = export_script(attention(dispatch_key="b", stream_by="h % 2")).source
    assert 'DispatchPolicy.affinity(lambda t: t.get("b"))' in src
    assert '.stream_by(lambda t: t.get("h") % 2)' in src


def test_round_robin_and_task_graph_from_the_sheet() -> None:
    doc = attention(
        dispatch="round_robin",
        dispatch_n=3,
        streams=0,
        stream_by="",
        timing="batched",
        timing_param=4,
        task_graph={
            "window": 8,
            "unit": "tasks",
            "mode": "stall",
            "ready": "priority",
            "ready_key": "h",
            "pools": [{"kernel": "attn_kernel", "workers": 2}],
        },
        spatial_map=[1, 2],
    )
    src = export_script(doc).source.replace("\n", " ")
    for part in (
        "attention_w.dispatch(DispatchPolicy.round_robin(3))",
        ".timing(TimingPolicy.batched(4))",
        'window=TaskWindow(8, "tasks", WindowMode.STALL)',
        'ready=ReadyPolicy.priority(lambda t: t.get("h"))',
        "pools=Pools.by_kernel({attn_kernel: 2})",
        ".spatial_map(grid=(1, 2))",
    ):
        assert part in src
    order = [src.index(s) for s in (".dispatch(", ".timing(", ".task_graph(", ".spatial_map(", ".compile(")]  # fmt: skip
    assert order == sorted(order)


# ------------------------------------------------------------------------------------------
# statement order


def test_statements_keep_the_child_order_even_against_the_data() -> None:
    # shift (reads T) comes first among the children and scale writes T: the child order is
    # the program order, so shift reads T before scale writes it (a write-after-read)
    src = export_script(two_stage(order=("c2", "c1"))).source
    assert body_of(src, "stages") == ["shift(x=T, y=Y)", "scale(x=X, y=T)"]
    src = export_script(two_stage(order=("c1", "c2"))).source
    assert body_of(src, "stages") == ["scale(x=X, y=T)", "shift(x=T, y=Y)"]


def test_independent_statements_keep_the_child_order() -> None:
    doc = two_stage(order=("c2", "c1"))
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.node != "c2" or e.dst.port != "x"]
    wire(doc, "X", "tensor", "c2", "x")  # shift no longer reads what scale writes
    src = export_script(doc).source
    assert body_of(src, "stages") == ["shift(x=X, y=Y)", "scale(x=X, y=T)"]


def test_a_subtree_that_reads_before_a_subtree_that_writes_stays_first() -> None:
    doc = Document(format_version=2, name="loops")
    tensor(doc, "A", [4, 16, 16])
    tensor(doc, "B", [4, 16, 16])
    tensor(doc, "C", [4, 16, 16])
    add(doc, "rows", "axis.dense", "rows", size=4)
    kernel(doc, "k", [tile("x"), tile("y", "Out")])
    workload(doc, "wl", "w", target="cpu_sim")
    add(doc, "second", "loop.seq", "", "wl", var="j", axis="rows")
    add(doc, "first", "loop.parallel", "", "wl", axes=[{"var": "i", "axis": "rows"}])
    call(doc, "reader", "second", "k")
    call(doc, "writer", "first", "k")
    wire(doc, "B", "tensor", "reader", "x")
    wire(doc, "reader", "y", "C", "write")
    wire(doc, "A", "tensor", "writer", "x")
    wire(doc, "writer", "y", "B", "write")
    src = export_script(doc).source
    assert body_of(src, "w") == [
        "for j in P.seq(rows):",
        "    k[j](x=B[j], y=C[j])",
        "for i in P(rows):",
        "    k[i](x=A[i], y=B[i])",
    ]


WAR_SCRIPT = """
from pto_wsp import *
import numpy as np
A = Tensor(np.ones((4, 16, 16), np.float32), name='A')
B = Tensor(np.zeros((4, 16, 16), np.float32), name='B')
tiles = Dense[4]
@kernel
def copy_k(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]):
    pto.store(b, a)

@workload
def work():
    z = relayout(B, to=TensorLayout((TensorShard(0), TensorReplicate(), TensorReplicate())))
    for i in P(tiles):
        copy_k[i](a=A[i], b=B[i])

program = work().spatial_map(grid=(2, 1)).compile()
"""


def test_an_imported_write_after_read_is_exported_in_its_order(tmp_path: Path) -> None:
    # z reads B, then the loop writes B: z must read the old B, so the relayout stays first
    # (a topological order of the data would put it after the loop and make it read the new B)
    from app.model.importer import import_script

    script = tmp_path / "war.py"
    script.write_text(WAR_SCRIPT)
    doc = import_script(script)
    src = export_script(doc).source
    body = body_of(src, "work")
    assert body[0].startswith("z = relayout(B, ")
    assert body[1:] == ["for i in P(tiles):", "    copy_k[i](a=A[i], b=B[i])"]
    assert ir_of(src, tmp_path) == ir_of(WAR_SCRIPT, tmp_path)
    # allowed, and visible: the relayout is warned that it reads B before the loop writes it
    (warning,) = document_warnings(doc)
    relayout = doc.graph.nodes[warning.node_id]
    assert relayout.name == "z" and warning.severity == "warning"
    assert warning.message.startswith("reads B before copy_k[i] writes it (write-after-read")


def test_a_cycle_of_data_keeps_the_child_order() -> None:
    doc = Document(format_version=2, name="acc")
    tensor(doc, "S", [16, 16])
    kernel(doc, "acc", [tile("s", "InOut")])
    workload(doc, "wl", "w", target="cpu_sim")
    for nid in ("a2", "a1"):
        call(doc, nid, "wl", "acc")
        wire(doc, "S", "tensor", nid, "s")
        wire(doc, nid, "s", "S", "write")
    assert body_of(export_script(doc).source, "w") == ["acc(s=S)", "acc(s=S)"]


def test_a_collective_reads_what_the_loop_writes_and_feeds_the_next_call() -> None:
    doc = Document(format_version=2, name="tp")
    tensor(doc, "X", [2, 16, 16])
    tensor(doc, "Part", [2, 16, 16], layout=["S0", "R", "R"])
    tensor(doc, "Y", [16, 16])
    add(doc, "kb", "axis.dense", "kb", size=2)
    kernel(doc, "partial", [tile("x"), tile("p", "Out")])
    kernel(doc, "finish", [tile("a"), tile("o", "Out")])
    workload(doc, "wl", "tp", target="cpu_sim", spatial_map=[2, 1])
    add(doc, "loop", "loop.parallel", "", "wl", axes=[{"var": "k", "axis": "kb"}])
    call(doc, "part", "loop", "partial")
    add(doc, "y", "layout.allreduce", "y", "wl", op="sum")
    call(doc, "fin", "wl", "finish", a="0")
    wire(doc, "X", "tensor", "part", "x")
    wire(doc, "part", "p", "Part", "write")
    wire(doc, "Part", "tensor", "y", "tensor")
    wire(doc, "y", "tensor", "fin", "a")
    wire(doc, "fin", "o", "Y", "write")
    assert body_of(export_script(doc).source, "tp") == [
        "for k in P(kb):",
        "    partial[k](x=X[k], p=Part[k])",
        'y = allreduce(Part, op="sum")',
        "finish(a=y[0], o=Y)",
    ]


# ------------------------------------------------------------------------------------------
# frames


def test_a_when_chain_is_one_frame_and_separate_chains_never_merge(tmp_path: Path) -> None:
    doc = Document(format_version=2, name="branches")
    tensor(doc, "X", [4, 16, 16])
    tensor(doc, "Y", [4, 16, 16])
    add(doc, "tiles", "axis.dense", "tiles", size=4)
    kernel(doc, "k", [tile("x"), tile("y", "Out")])
    workload(doc, "wl", "w", target="cpu_sim")
    add(doc, "loop", "loop.parallel", "", "wl", axes=[{"var": "i", "axis": "tiles"}])
    add(doc, "ch1", "branch.chain", "", "loop")
    add(doc, "ch1a", "branch.case", "", "ch1", pred="i < 1", otherwise=False)
    add(doc, "ch1b", "branch.case", "", "ch1", pred="i < 2", otherwise=False)
    add(doc, "ch2", "branch.chain", "", "loop")
    add(doc, "ch2a", "branch.case", "", "ch2", pred="i == 3", otherwise=False)
    add(doc, "ch2b", "branch.case", "", "ch2", otherwise=True)
    for case in ("ch1a", "ch1b", "ch2a", "ch2b"):
        call(doc, f"c_{case}", case, "k")
        wire(doc, "X", "tensor", f"c_{case}", "x")
        wire(doc, f"c_{case}", "y", "Y", "write")
    src = export_script(doc).source
    assert body_of(src, "w") == [
        "for i in P(tiles):",
        "    with P.when(i < 1):",
        "        k[i](x=X[i], y=Y[i])",
        "    with P.when(i < 2):",
        "        k[i](x=X[i], y=Y[i])",
        "    with P.otherwise():",
        "        pass",
        "    with P.when(i == 3):",
        "        k[i](x=X[i], y=Y[i])",
        "    with P.otherwise():",
        "        k[i](x=X[i], y=Y[i])",
    ]
    ir = ir_of(src, tmp_path)
    assert ir.count("cond   // Conditional") == 2  # two chains, not one of four cases


def test_pipe_consume_and_send_write_the_sent_call_inside_the_send() -> None:
    doc = Document(format_version=2, name="mk")
    tensor(doc, "inp", [8, 16, 16])
    tensor(doc, "buf", [16, 16])
    tensor(doc, "out", [8, 16, 16])
    add(doc, "tiles", "axis.dense_dyn", "tiles", size=8)
    add(doc, "ch", "csp.channel", "ch", depth=2)
    kernel(doc, "load", [tile("x"), tile("b", "Out")])
    kernel(doc, "store", [tile("b"), tile("y", "Out")])
    workload(doc, "wl", "pipeline", target="cpu_sim", dispatch="round_robin", dispatch_n=1)
    add(doc, "pipe", "pipe.scope", "", "wl", depth=2)
    add(doc, "seq", "loop.seq", "", "pipe", var="i", axis="tiles")
    call(doc, "ld", "seq", "load")
    add(doc, "snd", "csp.send", "send", "seq", channel="ch")
    add(doc, "cls", "csp.close", "close", "seq", channel="ch")
    add(doc, "cons", "csp.consume", "", "pipe", var="t", channel="ch")
    call(doc, "st", "cons", "store")
    wire(doc, "inp", "tensor", "ld", "x")
    wire(doc, "ld", "b", "buf", "write")
    wire(doc, "ld", "task", "snd", "value")
    wire(doc, "buf", "tensor", "st", "b")
    wire(doc, "st", "y", "out", "write")
    result = export_script(doc)
    assert body_of(result.source, "pipeline") == [
        "with P.pipe(depth=2):",
        "    for i in P.seq(tiles):",
        "        send(ch, load[i](x=inp[i], b=buf))",
        "        ch.close()",
        "    with consume(ch) as t:",
        "        store[t](b=buf, y=out[t])",
    ]
    lines = result.source.splitlines()
    assert result.line_map[line_of(lines, "send(ch, load[i](x=inp[i], b=buf))")] == "snd"
    assert 'program = pipeline_w.dispatch(DispatchPolicy.round_robin(1)).compile(target="cpu_sim")' in result.source  # fmt: skip


def test_sel_loop_and_events() -> None:
    doc = Document(format_version=2, name="moe")
    tensor(doc, "indptr", [5], dtype="i32", init="range")
    tensor(doc, "indices", [4], dtype="u32")
    tensor(doc, "tok", [4, 16, 16])
    tensor(doc, "out", [4, 8, 16, 16])
    add(doc, "batch", "axis.dense", "batch", size=4)
    add(doc, "routing", "axis.sparse", "routing", outer_size=4)
    wire(doc, "indptr", "tensor", "routing", "indptr")
    wire(doc, "indices", "tensor", "routing", "indices")
    add(doc, "ev", "event.def", "done")
    kernel(doc, "expert", [tile("x"), tile("y", "Out")])
    workload(doc, "wl", "moe", target="cpu_sim")
    add(doc, "lb", "loop.parallel", "", "wl", axes=[{"var": "b", "axis": "batch"}])
    add(doc, "le", "loop.sel", "", "lb", var="e", axis="routing", row="b")
    call(doc, "c", "le", "expert")
    add(doc, "rec", "event.record", "record", "wl", event="ev")
    wire(doc, "tok", "tensor", "c", "x")
    wire(doc, "c", "y", "out", "write")
    src = export_script(doc).source
    assert body_of(src, "moe") == [
        "for b in P(batch):",
        "    for e in P.sel(routing[b]):",
        "        expert[b, e](x=tok[b], y=out[b, e])",
        "record(done)",
    ]
    assert "routing = Sparse(4, indptr, indices)" in src


def test_compose_frames_combine_workload_instances_in_order() -> None:
    doc = two_stage()
    doc.graph.nodes["wl"].props["target"] = ""
    workload(doc, "wl2", "other")
    call(doc, "c3", "wl2", "scale")
    wire(doc, "X", "tensor", "c3", "x")
    wire(doc, "c3", "y", "T", "write")
    add(doc, "both", "compose.combine", "both", None, target="cpu_sim")
    add(doc, "i1", "workload.instance", "", "both", workload="wl2")
    add(doc, "seq", "compose.sequential", "inner", "both")
    add(doc, "i2", "workload.instance", "", "seq", workload="wl")
    add(doc, "i3", "workload.instance", "", "seq", workload="wl2")
    src = export_script(doc).source
    assert "inner = sequential(stages(), other())\nboth = combine(other(), inner)\n" in src
    assert 'program = both.compile(target="cpu_sim")\n' in src


def test_connect_frames_hold_processes_and_list_their_channels() -> None:
    doc = Document(format_version=2, name="csp")
    tensor(doc, "X", [8, 16, 16])
    tensor(doc, "stage", [16, 16])
    tensor(doc, "Y", [8, 16, 16])
    add(doc, "tiles", "axis.dense_dyn", "tiles", size=8)
    add(doc, "work", "csp.channel", "work", depth=2)
    kernel(doc, "produce", [tile("x"), tile("buf", "Out")])
    kernel(doc, "finish", [tile("buf"), tile("y", "Out")])
    add(doc, "pipeline", "csp.connect", "pipeline", None, target="cpu_sim")
    add(doc, "producer", "csp.process", "producer", "pipeline", replicas=1)
    add(doc, "consumer", "csp.process", "consumer", "pipeline", replicas=2)
    add(doc, "seq", "loop.seq", "", "producer", var="i", axis="tiles")
    call(doc, "p", "seq", "produce")
    add(doc, "snd", "csp.send", "send", "seq", channel="work")
    add(doc, "cons", "csp.consume", "", "consumer", var="t", channel="work")
    call(doc, "f", "cons", "finish")
    wire(doc, "X", "tensor", "p", "x")
    wire(doc, "p", "buf", "stage", "write")
    wire(doc, "p", "task", "snd", "value")
    wire(doc, "stage", "tensor", "f", "buf")
    wire(doc, "f", "y", "Y", "write")
    src = export_script(doc).source
    assert "def producer_body():\n    for i in P.seq(tiles):\n        send(work, produce[i](x=X[i], buf=stage))\n" in src  # fmt: skip
    assert 'producer = process("producer").produces(work).body(producer_body)' in src
    assert 'consumer = replicate(process("consumer").consumes(work).body(consumer_body), 2)' in src
    assert "pipeline = connect([producer, consumer], [work])" in src
    assert 'program = pipeline.compile(target="cpu_sim")' in src


# ------------------------------------------------------------------------------------------
# line map


def test_line_map_points_at_the_producing_nodes() -> None:
    doc = attention()
    result = export_script(doc)
    lines = result.source.splitlines()
    assert result.line_map[line_of(lines, "attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])")] == "call"  # fmt: skip
    assert result.line_map[line_of(lines, "for b, h in P(batch, heads):")] == "loop"
    assert result.line_map[line_of(lines, "def attention():")] == "wl"
    assert result.line_map[line_of(lines, 'Q = Tensor(shape=(4, 8, 16, 16), dtype=DType.F32, name="Q")')] == "Q"  # fmt: skip
    assert result.line_map[line_of(lines, ".streams(2)")] == "wl"  # the sheet is the frame's
    assert result.line_map[line_of(lines, "run_main(program)")] == "wl"


# ------------------------------------------------------------------------------------------
# errors name node and field


def _error(doc: Document) -> ExportError:
    with pytest.raises(ExportError) as err:
        export_script(doc)
    return err.value


def test_unconnected_kernel_input_is_an_export_error() -> None:
    doc = attention()
    doc.graph.edges = [e for e in doc.graph.edges if e.dst != PortRef("call", "K")]
    err = _error(doc)
    assert (err.node_id, err.field) == ("call", "inputs.K")


def test_unconnected_kernel_output_is_an_export_error() -> None:
    doc = attention()
    doc.graph.edges = [e for e in doc.graph.edges if e.src != PortRef("call", "O")]
    err = _error(doc)
    assert (err.node_id, err.field) == ("call", "outputs.O")


def test_a_call_without_a_kernel_is_an_export_error() -> None:
    doc = attention()
    doc.graph.nodes["call"].props["kernel"] = "Q"  # a tensor, not a kernel
    err = _error(doc)
    assert (err.node_id, err.field) == ("call", "props.kernel")


def test_inout_wired_to_two_tensors_is_an_export_error() -> None:
    doc = two_stage()
    doc.graph.nodes["scale"].props["params"] = [tile("x", "InOut"), tile("y", "Out")]
    doc.graph.edges.append(Edge(PortRef("c1", "x"), PortRef("Y", "write")))
    err = _error(doc)
    assert (err.node_id, err.field) == ("c1", "outputs.x")


def test_invalid_index_expression_is_an_export_error() -> None:
    doc = attention()
    doc.graph.nodes["call"].props["index"] = {"K": "b +"}
    err = _error(doc)
    assert err.node_id == "call" and err.field.startswith("props.index")


def test_unknown_name_in_axes_is_an_export_error() -> None:
    doc = attention()
    doc.graph.nodes["call"].props["axes"] = "j"
    err = _error(doc)
    assert (err.node_id, err.field) == ("call", "props.axes")
    assert "'j'" in err.message


def test_a_loop_variable_is_not_in_scope_outside_its_frame() -> None:
    doc = attention()
    add(doc, "late", "kernel.call", "call", "wl", kernel="attn_kernel", axes=None, index={"K": "b"})  # fmt: skip
    for t in ("Q", "V"):
        wire(doc, t, "tensor", "late", t)
    wire(doc, "K", "tensor", "late", "K")
    wire(doc, "late", "O", "O", "write")
    doc.graph.nodes["late"].props["index"] = {"K": "b", "Q": "", "V": "", "O": ""}
    err = _error(doc)
    assert (err.node_id, err.field) == ("late", "props.index.K")
    assert "'b'" in err.message


def test_otherwise_must_be_the_last_case() -> None:
    doc = two_stage()
    add(doc, "chain", "branch.chain", "", "wl")
    add(doc, "o", "branch.case", "", "chain", otherwise=True)
    add(doc, "w", "branch.case", "", "chain", pred="1 == 1", otherwise=False)
    err = _error(doc)
    assert err.node_id == "o" and err.field == "props.otherwise"


def test_a_second_program_is_an_export_error() -> None:
    doc = two_stage()
    workload(doc, "wl2", "again", target="cpu_sim")
    err = _error(doc)
    assert err.node_id in ("wl", "wl2") and err.field == "props.target"


def test_a_sent_call_outside_its_sends_frame_is_an_export_error() -> None:
    doc = two_stage()
    add(doc, "ch", "csp.channel", "ch", depth=1)
    add(doc, "loop", "loop.seq", "", "wl", var="i", axis="ax")
    add(doc, "ax", "axis.dense", "ax", size=2)
    add(doc, "snd", "csp.send", "send", "loop", channel="ch")
    wire(doc, "c1", "task", "snd", "value")
    err = _error(doc)
    assert (err.node_id, err.field) == ("c1", "parent")


def test_a_statement_at_the_root_is_an_export_error() -> None:
    doc = two_stage()
    doc.graph.nodes["c1"].parent = None
    err = _error(doc)
    assert (err.node_id, err.field) == ("c1", "parent")


# ------------------------------------------------------------------------------------------
# text never becomes code


def test_name_clashing_with_an_import_is_an_export_error() -> None:
    doc = attention()
    doc.graph.nodes["K"].name = "P"
    err = _error(doc)
    assert (err.node_id, err.field) == ("K", "name")


@pytest.mark.parametrize(
    "name",
    ["x)\nimport os\n(", "b; import os", "__import__('os')", "for", "a b", "\uff58"],
)
def test_names_that_are_not_plain_identifiers_are_refused(name: str) -> None:
    doc = attention()
    doc.graph.nodes["Q"].name = name
    err = _error(doc)
    assert (err.node_id, err.field) == ("Q", "name")


def test_loop_variables_are_checked_names() -> None:
    doc = attention()
    doc.graph.nodes["loop"].props["axes"][0]["var"] = "b): import os #"
    err = _error(doc)
    assert err.node_id == "loop" and err.field.startswith("props.axes")


@pytest.mark.parametrize(
    "text",
    ["__import__('os').system('x')", "b; import os", "lambda: 0", "b.__class__", "b if 1 else 2"],
)
def test_index_text_is_parsed_against_the_whitelist(text: str) -> None:
    doc = attention()
    doc.graph.nodes["call"].props["index"] = {"Q": text}
    err = _error(doc)
    assert err.node_id == "call" and err.field.startswith("props.index")


@pytest.mark.parametrize(
    "field,text",
    [
        ("dispatch_key", 't.get("i").__class__'),
        ("dispatch_key", "__import__('os')"),
        ("stream_by", "batch"),  # a root name, not a loop variable: not a key
        ("stream_by", "lambda t: 0"),
    ],
)
def test_schedule_keys_are_checked(field: str, text: str) -> None:
    doc = attention(**{field: text})
    err = _error(doc)
    assert (err.node_id, err.field) == ("wl", f"props.{field}")


def test_predicates_are_checked() -> None:
    doc = two_stage()
    add(doc, "chain", "branch.chain", "", "wl")
    add(doc, "w", "branch.case", "", "chain", pred="__import__('os')", otherwise=False)
    err = _error(doc)
    assert (err.node_id, err.field) == ("w", "props.pred")


def test_the_project_name_is_a_docstring_not_code() -> None:
    doc = attention()
    doc.name = 'x"""\nimport os; os.system("touch /tmp/pwned")\n"""'
    source = export_script(doc).source
    tree = ast.parse(source)
    assert ast.get_docstring(tree).startswith(doc.name + ": exported by")
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import)]
    assert imports == []  # only the from-imports the exporter writes


def test_enum_properties_only_as_declared_choices() -> None:
    for field, value in (("dispatch", "os.system"), ("timing", "x()"), ("target", "cpu_sim'")):
        doc = attention(**{field: value})
        err = _error(doc)
        assert (err.node_id, err.field) == ("wl", f"props.{field}")


def test_a_collective_named_like_a_root_node_is_refused() -> None:
    # a local y = allreduce(...) named X would shadow the tensor X in the whole workload
    doc = two_stage()
    add(doc, "red", "layout.allreduce", "X", "wl", op="sum")
    wire(doc, "T", "tensor", "red", "tensor")
    err = _error(doc)
    assert (err.node_id, err.field) == ("red", "name")
