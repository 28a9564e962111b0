"""DSL -> graph import (format v2): round trips, the document a script becomes, layout, and
clear failures naming the script line."""

from __future__ import annotations

import re
import textwrap
from itertools import combinations
from pathlib import Path

import pytest

from app.model import frames, io
from app.model.document import Document, Node
from app.model.equality import same_as
from app.model.export import export_script
from app.model.import_layout import layout_rects
from app.model.import_text import expr_text, index_text
from app.model.importer import ScriptImportError, import_script

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = sorted((ROOT / "app" / "projects").glob("*.pto.json"))
LIBRARY = sorted((ROOT / "app" / "resources" / "kernel_library").glob("*.json"))
SAMPLE_81 = ROOT / "app" / "projects" / "samples" / "attention_varlen.py"


# ------------------------------------------------------------------------------------------
# graph -> script -> graph
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SAMPLES + LIBRARY, ids=lambda p: p.name)
def test_round_trip_graph_script_graph(path: Path, tmp_path: Path) -> None:
    doc = io.load(path)
    assert doc.format_version == 2
    first = export_script(doc).source
    script = tmp_path / f"{path.name.split('.')[0]}.py"
    script.write_text(first)
    back = import_script(script)
    assert back.format_version == 2
    assert same_as(back, doc)
    # the re-exported script is the first one: the document is a fixed point
    assert export_script(back).source.replace(back.name, doc.name) == first


# ------------------------------------------------------------------------------------------
# what a script becomes
# ------------------------------------------------------------------------------------------
def _named(doc: Document, name: str) -> Node:
    found = [n for n in doc.graph.nodes.values() if n.name == name]
    assert len(found) == 1, f"{len(found)} nodes named {name!r}"
    return found[0]


def _of_kind(doc: Document, kind: str) -> list[Node]:
    return [n for n in doc.graph.nodes.values() if n.kind == kind]


def _wires(doc: Document) -> set[tuple[str, str, str, str]]:
    """Edges as (source name-or-kind, port, destination name-or-kind, port)."""

    def label(nid: str) -> str:
        n = doc.graph.nodes[nid]
        return n.name or n.kind

    return {(label(e.src.node), e.src.port, label(e.dst.node), e.dst.port) for e in doc.graph.edges}


def test_spec_81_script_becomes_frames_wires_and_a_sheet() -> None:
    doc = import_script(SAMPLE_81)
    roots = {n.name: n.kind for n in frames.children(doc, None)}
    assert roots == {
        "Q": "data.tensor", "K": "data.tensor", "V": "data.tensor", "O": "data.tensor",
        "batch": "axis.dense_dyn", "heads": "axis.dense", "attn_kernel": "kernel.def",
        "attention": "workload.def",
    }  # fmt: skip
    wl = _named(doc, "attention")
    (loop,) = frames.children(doc, wl.id)
    assert loop.kind == "loop.parallel"
    assert loop.props["axes"] == [
        {"var": "b", "axis": _named(doc, "batch").id},
        {"var": "h", "axis": _named(doc, "heads").id},
    ]
    (call,) = frames.children(doc, loop.id)
    assert call.kind == "kernel.call"
    assert call.props["kernel"] == _named(doc, "attn_kernel").id
    assert call.props["axes"] is None  # [b, h]: the enclosing loop variables
    # Q[b, h], K[b], V[b], O[b, h]: each what auto-indexing gives (rank minus the tile's 2)
    assert call.props["index"] == {}
    c = call.name or call.kind
    assert _wires(doc) == {
        ("Q", "tensor", c, "Q"),
        ("K", "tensor", c, "K"),
        ("V", "tensor", c, "V"),
        (c, "O", "O", "write"),
    }
    sheet = wl.props
    assert sheet["dispatch"] == "affinity"
    assert sheet["dispatch_key"] == 't.get("batch")'
    assert sheet["streams"] == 2
    assert sheet["stream_by"] == 't.get("head") % 2'
    assert sheet["timing"] == "immediate"
    assert sheet["target"] == "cpu_sim"
    assert sheet["task_graph"] == {} and sheet["spatial_map"] == []
    assert not any(
        n.kind.startswith(("sched.", "compile.", "data.get")) for n in doc.graph.nodes.values()
    )


def _script(tmp_path: Path, text: str, name: str = "user.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


HEADER = """
import numpy as np
from pto_wsp import (
    Channel, Dense, DispatchPolicy, In, InOut, Out, P, Tensor, combine, consume, kernel,
    send, sequential, workload,
)
from pto_wsp.language import tensor_init as init
from pto_wsp.language.types import DType

X = Tensor(init.random((4, 8, 16, 16), DType.F32, seed=3), name="X")
Y = Tensor(shape=(4, 8, 16, 16), dtype=DType.F32, name="Y")
A = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="A")
rows = Dense[4]
cols = Dense[8]

@kernel
def step(x: In[Tensor], y: Out[Tensor]): ...

@kernel
def acc(a: InOut[Tensor]): ...
"""


def test_nested_loops_branches_and_overrides(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
@workload
def work():
    for r in P(rows):
        for c in P.seq(cols):
            with P.when(r % 2 == 0):
                step[r, c](x=X[r, c], y=Y[r, c])
            with P.otherwise():
                step[c](x=X[r], y=Y[r, c])
        acc[r](a=A[r])
        acc(a=A)

program = work().dispatch(DispatchPolicy.round_robin(3)).compile()
""",
    )
    doc = _fixed_point(path, tmp_path)
    wl = _named(doc, "work")
    assert wl.props["dispatch"] == "round_robin" and wl.props["dispatch_n"] == 3
    assert wl.props["target"] == "cpu_sim"
    (outer,) = frames.children(doc, wl.id)
    assert outer.kind == "loop.parallel"
    seq, acc1, acc2 = frames.children(doc, outer.id)  # statement order
    assert seq.kind == "loop.seq" and seq.props["var"] == "c"
    assert seq.props["axis"] == _named(doc, "cols").id
    (chain,) = frames.children(doc, seq.id)
    assert chain.kind == "branch.chain"
    when, other = frames.children(doc, chain.id)
    assert when.kind == other.kind == "branch.case"
    assert when.props["pred"] == "r % 2 == 0" and not when.props.get("otherwise")
    assert other.props["otherwise"] is True
    (c1,) = frames.children(doc, when.id)
    (c2,) = frames.children(doc, other.id)
    # inside P(r) x P.seq(c): X[r, c] and Y[r, c] are automatic, the axes too
    assert c1.props["axes"] is None and c1.props["index"] == {}
    # [c] and X[r] are not what the frames give
    assert c2.props["axes"] == "c" and c2.props["index"] == {"x": "r"}
    # InOut: wired in and out; A[r] is automatic inside P(r); A whole is an override
    assert acc1.props["axes"] is None and acc1.props["index"] == {}
    assert acc2.props["axes"] == "" and acc2.props["index"] == {"a": ""}
    ins = [(e.src.node, e.dst.port) for e in doc.graph.edges if e.dst.node == acc1.id]
    outs = [(e.src.port, e.dst.node, e.dst.port) for e in doc.graph.edges if e.src.node == acc1.id]
    a = _named(doc, "A").id
    assert ins == [(a, "a")] and outs == [("a", a, "write")]
    assert frames.loop_vars(doc, c1.id) == ["r", "c"]


def test_pipeline_send_consume_and_compositions(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
ch = Channel("ch", depth=3)

@workload
def produce():
    with P.pipe(depth=4):
        for r in P.seq(rows):
            send(ch, step[r](x=X[r], y=Y[r]))
        with consume(ch) as t:
            acc[t](a=A[t])

@workload
def other():
    for r in P(rows):
        acc[r](a=A[r])

both = sequential(produce(), combine(other(), produce()))
program = both.compile()
""",
    )
    doc = _fixed_point(path, tmp_path)
    pipe_wl = _named(doc, "produce")
    (pipe,) = frames.children(doc, pipe_wl.id)
    assert pipe.kind == "pipe.scope" and pipe.props["depth"] == 4
    seq, cons = frames.children(doc, pipe.id)
    assert seq.kind == "loop.seq" and cons.kind == "csp.consume"
    call, send = frames.children(doc, seq.id)
    assert call.kind == "kernel.call" and send.kind == "csp.send"
    chan = _named(doc, "ch")
    assert send.props["channel"] == chan.id and cons.props["channel"] == chan.id
    assert cons.props["var"] == "t"
    assert [(e.src.port, e.dst.port) for e in doc.graph.edges if e.dst.node == send.id] == [
        ("task", "value")
    ]
    (inner,) = frames.children(doc, cons.id)
    assert inner.props["axes"] is None and inner.props["index"] == {}  # t indexes like a loop var
    # sequential(produce, combine(other, produce)): a frame of an instance and a nested frame
    top = _named(doc, "both")
    assert top.kind == "compose.sequential" and top.parent is None
    assert top.props["target"] == "cpu_sim"
    first, nested = frames.children(doc, top.id)
    assert first.kind == "workload.instance" and first.props["workload"] == pipe_wl.id
    assert nested.kind == "compose.combine"
    kinds = [(n.kind, n.props.get("workload")) for n in frames.children(doc, nested.id)]
    # produce() twice: one definition, two instances
    defs = {n.name: n.id for n in _of_kind(doc, "workload.def")}
    assert sorted(defs) == ["other", "produce"]
    assert kinds == [("workload.instance", defs["other"]), ("workload.instance", defs["produce"])]


def test_events_slots_and_scalar_arguments(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
from pto_wsp import Event, Scalar, record, slot_load_u64, slot_set_u64, synchronize

ev = Event("ev")

@kernel
def scale(x: In[Tensor], alpha: Scalar[DType.F32], y: Out[Tensor]): ...

@workload
def work():
    for r in P(rows):
        scale[r](x=X[r], alpha=0.5, y=Y[r])
        record(ev)
    synchronize(ev)
    slot_set_u64(0, 3)
    slot_load_u64(1, A[0], row=0, col=1)

w = work()
""",
    )
    doc = _fixed_point(path, tmp_path)
    wl = _named(doc, "work")
    loop, sync, sset, sload = frames.children(doc, wl.id)
    call, rec = frames.children(doc, loop.id)
    ev = _named(doc, "ev")
    assert rec.kind == "event.record" and rec.props["event"] == ev.id
    assert sync.kind == "event.synchronize" and sync.props["event"] == ev.id
    assert call.props["index"] == {"alpha": "0.5"}  # a scalar argument is typed, not wired
    assert (sset.kind, sset.props["slot"], sset.props["value"]) == ("slot.set", 0, "3")
    assert sload.kind == "slot.load"
    assert (sload.props["slot"], sload.props["index"], sload.props["row"], sload.props["col"]) == (
        1, "0", "0", "1",
    )  # fmt: skip
    assert [(e.src.node, e.src.port) for e in doc.graph.edges if e.dst.node == sload.id] == [
        (_named(doc, "A").id, "tensor")
    ]


@pytest.mark.parametrize(
    ("chain", "workers"),
    [
        ("", 1),  # the run's default (DESIGN §2), not the sheet's round_robin count (4)
        (".streams(3)", 3),
        ('.task_graph(pools=Pools.by_kernel({"step": 2}))', 2),
    ],
)
def test_round_robin_without_a_count_imports_the_runs_worker_count(
    tmp_path: Path, chain: str, workers: int
) -> None:
    """The sheet always holds a count; a countless round_robin() takes the run's workers, so
    the imported program runs on as many as the script did."""
    path = _script(
        tmp_path,
        HEADER
        + f"""
from pto_wsp import Pools

@workload
def work():
    for r in P(rows):
        step[r](x=X[r, 0], y=Y[r, 0])

program = work().dispatch(DispatchPolicy.round_robin()){chain}.compile()
""",
    )
    doc = import_script(path)
    wl = _named(doc, "work")
    assert (wl.props["dispatch"], wl.props["dispatch_n"]) == ("round_robin", workers)
    assert f".dispatch(DispatchPolicy.round_robin({workers}))" in export_script(doc).source


def test_schedule_of_an_uncompiled_workload_fills_its_sheet(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
from pto_wsp import Deps, TaskWindow, TimingPolicy

@workload
def work():
    for r, c in P(rows, cols):
        step[r, c](x=X[r, c], y=Y[r, c])

sched = (
    work()
    .streams(2)
    .stream_by(lambda t: t.get("c") % 2)
    .timing(TimingPolicy.batched(8))
    .task_graph(window=TaskWindow(16), deps=Deps.infer())
)
""",
    )
    doc = _fixed_point(path, tmp_path)
    wl = _named(doc, "work")
    assert wl.props["target"] == ""  # not compiled
    assert wl.props["dispatch"] == ""
    assert wl.props["streams"] == 2 and wl.props["stream_by"] == 't.get("c") % 2'
    assert wl.props["timing"] == "batched" and wl.props["timing_param"] == 8
    tg = wl.props["task_graph"]
    assert tg["window"] == 16 and tg["deps"] == "infer"


def test_two_schedules_of_one_workload_are_refused_naming_the_line(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
@workload
def work():
    for r in P(rows):
        acc[r](a=A[r])

w = work()
s1 = w.streams(2)
s2 = w.streams(4)
""",
    )
    lines = path.read_text().splitlines()
    s1, s2 = (lines.index(f"s{i} = w.streams({2 * i})") + 1 for i in (1, 2))
    with pytest.raises(
        ScriptImportError,
        match=rf"user\.py: schedule of work, line {s2}: .*scheduled differently before "
        rf"\(schedule of work, line {s1}\)",
    ):
        import_script(path)


def test_hand_written_script_imports(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        """
        import numpy as np
        from pto_wsp import Dense, In, Out, P, Tensor, kernel, workload

        X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8), name="X")
        Y = Tensor(np.zeros((4, 8), np.float32), name="Y")
        rows = Dense[4]

        @kernel
        def copy(x: In[Tensor], y: Out[Tensor]): ...

        @workload
        def w(rows):
            for r in P(rows):
                copy[r](x=X[r], y=Y[r])

        print("the script's own output must not break the JSON")
        program = w(rows).compile()
        """,
    )
    doc = import_script(path)
    kinds = sorted(n.kind for n in doc.graph.nodes.values())
    assert kinds == sorted(
        ["data.tensor", "data.tensor", "axis.dense", "kernel.def", "workload.def",
         "loop.parallel", "kernel.call"]
    )  # fmt: skip
    x = _named(doc, "X")
    assert x.props["init"] == "range" and x.props["shape"] == [4, 8]
    (call,) = _of_kind(doc, "kernel.call")
    # rank-2 X into an unshaped In[Tensor]: the auto index is none, so X[r] is an override
    assert call.props["index"] == {"x": "r", "y": "r"}
    assert export_script(doc).source.count("copy[r](x=X[r], y=Y[r])") == 1


DIST_HEADER = """
from pto_wsp import *
import numpy as np
A = Tensor(np.zeros((4, 16, 16), np.float32), name='A',
           layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0))
B = Tensor(np.zeros((4, 16, 16), np.float32), name='B')
tiles = Dense[4]
@kernel
def copy_k(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]):
    pto.store(b, a)
"""


def _fixed_point(path: Path, tmp_path: Path) -> Document:
    """script -> graph -> script -> graph: the graphs are equal and the second script is the
    first exported one (so the exported script is a fixed point)."""
    doc = import_script(path)
    first = export_script(doc).source
    again = tmp_path / f"{doc.name}.py"
    again.write_text(first)
    back = import_script(again)
    assert same_as(back, doc)
    assert export_script(back).source.replace(back.name, doc.name) == first
    return doc


def test_task_graph_knobs_layouts_and_collectives_round_trip(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        DIST_HEADER
        + """
C = Tensor(np.zeros((4, 16, 16), np.float32), name='C',
           layout=TensorLayout((TensorReplicate(), TensorShard(1), TensorShard(0))))

@workload
def work():
    y = allreduce(A, op="min")
    g = allgather(y, dim=0)
    z = relayout(C, to=TensorLayout((TensorShard(1), TensorReplicate(), TensorReplicate())))
    for i in P(tiles):
        copy_k[i](a=y[i], b=B[i])
    copy_k(a=y[1], b=B[2])

scheduled = (
    work()
    .task_graph(
        window=TaskWindow(6, "tasks", WindowMode.ABORT),
        deps=Deps.explicit(),
        ready=ReadyPolicy.priority(lambda t: t.get("i") % 2),
        start=StartPolicy.threshold(3),
        trace=TracePolicy.full(),
        pools=Pools.by_kernel({copy_k: 2}),
    )
    .spatial_map(grid=(2, 2))
)
""",
        name="dist.py",
    )
    doc = _fixed_point(path, tmp_path)
    wl = _named(doc, "work")
    tg = wl.props["task_graph"]
    assert (tg["window"], tg["mode"], tg["deps"], tg["ready"]) == (
        6,
        "abort",
        "explicit",
        "priority",
    )
    assert tg["ready_key"] == 't.get("i") % 2' and (tg["start"], tg["threshold"]) == (
        "threshold",
        3,
    )
    assert tg["trace"] == "full" and tg["pools"] == [{"kernel": "copy_k", "workers": 2}]
    assert wl.props["spatial_map"] == [2, 2] and wl.props["target"] == ""
    # the collective's result feeds the call inside the loop by a wire across the frame border
    y = _named(doc, "y")
    assert y.kind == "layout.allreduce" and y.parent == wl.id and y.props["op"] == "min"
    users = [doc.graph.nodes[e.dst.node] for e in doc.graph.edges if e.src.node == y.id]
    assert sorted(u.kind for u in users) == ["kernel.call", "kernel.call", "layout.allgather"]
    assert _named(doc, "C").props["layout"] == ["R", "S1", "S0"]


def test_collective_result_used_outside_its_block_is_refused_clearly(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        DIST_HEADER
        + """
@workload
def work():
    for i in P(tiles):
        y = allreduce(A)
    copy_k[0](a=y[0], b=B[0])

w = work().spatial_map(grid=(2, 2))
""",
    )
    with pytest.raises(ScriptImportError, match="result of allreduce is used outside the block"):
        import_script(path)


def test_memory_layouts_and_shared_pools_are_refused_clearly(tmp_path: Path) -> None:
    body = """
@workload
def work():
    for i in P(tiles):
        copy_k[i](a=A[i], b=C)
w = work().spatial_map(grid=(2, 2))
"""
    strided = (
        "C = Tensor(np.zeros((16, 32), np.float32)[:, :16], name='C', layout=TensorLayout(\n"
        "    (TensorReplicate(), TensorReplicate()), mem=MemLayout(strides=(32, 1))))\n"
    )
    with pytest.raises(
        ScriptImportError, match="tensor C: the memory layout .* not row_major or col_major"
    ):
        import_script(_script(tmp_path, DIST_HEADER + strided + body))
    swizzled = (
        "C = Tensor(np.zeros((16, 16), np.float32), name='C', layout=TensorLayout.default(\n"
        "    2, mem=MemLayout.row_major((16, 16), swizzle='xor4')))\n"
    )
    with pytest.raises(ScriptImportError, match="tensor C: the memory layout .* has a swizzle"):
        import_script(_script(tmp_path, DIST_HEADER + swizzled + body))
    col = (
        "C = Tensor(np.zeros((16, 16), np.float32, order='F'), name='C', layout=\n"
        "    TensorLayout.default(2, mem=MemLayout(order='col_major')))\n"
    )
    c = _named(import_script(_script(tmp_path, DIST_HEADER + col + body)), "C")
    assert c.props["mem"] == "col_major" and c.props["layout"] == []
    pools = """
from pto_wsp.language.schedule import Pools as _Pools
@workload
def work():
    for i in P(tiles):
        copy_k[i](a=A[i], b=B[i])
w = work().task_graph(pools=_Pools((2, 2), (('copy_k', 0),)))
"""
    with pytest.raises(ScriptImportError, match="only Pools.by_kernel pools"):
        import_script(_script(tmp_path, DIST_HEADER + pools))


# ------------------------------------------------------------------------------------------
# layout
# ------------------------------------------------------------------------------------------
def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _check_layout(doc: Document) -> tuple[float, float]:
    """No two siblings overlap, every child lies inside its frame; returns the bbox size."""
    rects = layout_rects(doc)
    by_parent: dict[str | None, list[str]] = {}
    for n in doc.graph.nodes.values():
        by_parent.setdefault(n.parent, []).append(n.id)
    for parent, ids in by_parent.items():
        for a, b in combinations(ids, 2):
            assert not _overlap(rects[a], rects[b]), (parent, a, b, rects[a], rects[b])
        if parent is not None:
            px, py, pw, ph = rects[parent]
            for c in ids:
                x, y, w, h = rects[c]
                assert px < x and py < y and x + w < px + pw and y + h < py + ph
    x0 = min(r[0] for r in rects.values())
    y0 = min(r[1] for r in rects.values())
    x1 = max(r[0] + r[2] for r in rects.values())
    y1 = max(r[1] + r[3] for r in rects.values())
    return x1 - x0, y1 - y0


def test_spec_81_layout_reads_left_to_right_and_fits_a_window() -> None:
    doc = import_script(SAMPLE_81)
    width, height = _check_layout(doc)
    # a 1400x900 window at zoom 0.6 shows 2333x1500 scene units; leave a fit margin
    assert width * 0.6 <= 1400 - 40 and height * 0.6 <= 900 - 40, (width, height)
    rects = layout_rects(doc)

    def box(name: str) -> tuple[float, float, float, float]:
        return rects[_named(doc, name).id]

    wl = box("attention")
    for t in ("Q", "K", "V"):  # inputs left of the workload frame
        assert box(t)[0] + box(t)[2] <= wl[0]
    assert box("O")[0] >= wl[0] + wl[2]  # the output right of it
    for above in ("batch", "heads", "attn_kernel"):  # axes and kernels above everything
        assert box(above)[1] + box(above)[3] <= min(wl[1], box("Q")[1], box("O")[1])
    (loop,) = frames.children(doc, _named(doc, "attention").id)
    (call,) = frames.children(doc, loop.id)
    assert rects[loop.id][0] > wl[0] and rects[call.id][0] > rects[loop.id][0]


def test_nested_frames_lay_out_without_overlaps(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
ch = Channel("ch", depth=3)

@workload
def work():
    for r in P(rows):
        for c in P.seq(cols):
            with P.when(r % 2 == 0):
                step[r, c](x=X[r, c], y=Y[r, c])
            with P.otherwise():
                step[r, c](x=X[r, c], y=Y[r, c])
                acc[r](a=A[r])
    with P.pipe():
        for r in P.seq(rows):
            send(ch, step[r](x=X[r], y=Y[r]))
        with consume(ch) as t:
            acc[t](a=A[t])

program = combine(work(), work()).compile()
""",
    )
    doc = import_script(path)
    _check_layout(doc)


# ------------------------------------------------------------------------------------------
# failures
# ------------------------------------------------------------------------------------------
def test_script_error_names_file_and_line(tmp_path: Path) -> None:
    path = _script(tmp_path, "x = 1\nraise ValueError('boom')\n")
    with pytest.raises(ScriptImportError, match=r"user\.py:2: ValueError: boom"):
        import_script(path)


def test_dsl_error_is_reported_by_its_message_line(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        DIST_HEADER
        + """
@workload
def work():
    for i in P(tiles):
        copy_k[i](a=A[i], b=B[i])

program = (
    work()
    .task_graph(window=TaskWindow(6, "tasks", WindowMode.ABORT))
    .compile()
)
""",
    )
    line = (
        path.read_text()
        .splitlines()
        .index('    .task_graph(window=TaskWindow(6, "tasks", WindowMode.ABORT))')
        + 1
    )
    with pytest.raises(ScriptImportError) as info:
        import_script(path)
    assert f"user.py:{line}: " in str(info.value) and "not supported" in str(info.value)


def test_unexpressible_statement_names_the_script_line(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        HEADER
        + """
from pto_wsp.language.scalar_expr import smin

@workload
def work():
    for r in P(rows):
        step[smin(r, 2)](x=X[r], y=Y[r])

w = work()
""",
    )
    with pytest.raises(ScriptImportError, match=r"workload work .*line 2[0-9]: .*min"):
        import_script(path)


def test_constexpr_kernel_is_rejected_with_its_name(tmp_path: Path) -> None:
    path = _script(
        tmp_path,
        """
        from pto_wsp import Constexpr, DType, In, Out, Tile, kernel, pto

        @kernel
        def scale(x: In[Tile[4, 4, DType.F32]], y: Out[Tile[4, 4, DType.F32]], k: Constexpr[int] = 2):
            pto.store(y, x)
        """,
    )
    with pytest.raises(ScriptImportError, match="kernel scale.*Constexpr parameter 'k'"):
        import_script(path)


def test_timeout_stops_a_hanging_script(tmp_path: Path) -> None:
    path = _script(tmp_path, "import time\ntime.sleep(30)\n")
    with pytest.raises(ScriptImportError, match="did not finish within 1 s"):
        import_script(path, timeout=1)


def test_missing_file() -> None:
    with pytest.raises(ScriptImportError, match="no such file"):
        import_script("/nonexistent/script.py")


# ------------------------------------------------------------------------------------------
# expression text
# ------------------------------------------------------------------------------------------
def test_expression_text_uses_minimal_parentheses() -> None:
    from pto_wsp.language.scalar_expr import LoopVar

    b, h = LoopVar("b"), LoopVar("h")
    assert expr_text(b * 4 + 4, "t") == "b * 4 + 4"
    assert expr_text((b + 1) * 4, "t") == "(b + 1) * 4"
    assert expr_text(b - (h - 1), "t") == "b - (h - 1)"
    assert expr_text((b - h) - 1, "t") == "b - h - 1"
    assert expr_text(-(b + h), "t") == "-(b + h)"
    assert expr_text(b % 2 == 0, "t") == "b % 2 == 0"


def test_schedule_keys_render_as_task_lookups() -> None:
    from pto_wsp.language.scalar_expr import axis

    assert expr_text(axis("head") % 2, "key", key=True) == 't.get("head") % 2'


def test_index_text_of_views() -> None:
    import numpy as np

    from pto_wsp import Tensor
    from pto_wsp.language.scalar_expr import LoopVar

    t = Tensor(np.zeros((4, 8, 16), np.float32), name="T")
    b = LoopVar("b")
    assert index_text(t, "v") == ""
    assert index_text(t[b], "v") == "b"
    assert index_text(t[:, b], "v") == ":, b"
    assert index_text(t[b, 2:6], "v") == "b, 2:6"
    assert index_text(t[2], "v") == "2"


def test_min_expression_is_rejected() -> None:
    from pto_wsp.language.scalar_expr import LoopVar, smin

    with pytest.raises(ScriptImportError, match="cannot express|graph expressions"):
        expr_text(smin(LoopVar("b"), 3), "call of k")


TOPK_SCRIPT = """
import numpy as np
from pto_wsp import DType, In, Out, P, Tensor, Tile, kernel, pto, workload

X = Tensor(np.zeros((2, 1, 32), np.float32), name="X")
Y = Tensor(np.zeros((2, 1, 5), np.int32), name="Y")

@kernel
def topk(x: In[Tile[1, 32, DType.F32]], y: Out[Tile[1, 5, DType.I32]]):
    v1 = pto.iota_u32(32)
    v2 = pto.tsort32(x, v1)
    v3 = pto.extract_topk_indices(v2, 5)
    pto.store(y, v3)

@workload
def w():
    for i in P(2):
        topk[i](x=X[i], y=Y[i])

program = w().compile()
"""


def test_sort_ops_round_trip_with_their_int_attributes(tmp_path: Path) -> None:
    doc = _fixed_point(_script(tmp_path, TOPK_SCRIPT), tmp_path)
    nodes = [n for kern in _of_kind(doc, "kernel.def") for n in kern.body.nodes.values()]
    by_kind = {n.kind: n for n in nodes}
    assert by_kind["pto.iota_u32"].props["cols"] == 32
    assert by_kind["pto.extract_topk_indices"].props["k"] == 5
    source = export_script(doc).source
    assert "pto.iota_u32(32)" in source
    assert re.search(r"pto\.extract_topk_indices\(v\d+, 5\)", source), source


def test_a_cycle_directive_has_no_graph_node(tmp_path: Path) -> None:
    """ptoisa.cpu_sim_add_cycles may carry C++ text: a project file never holds it."""
    script = TOPK_SCRIPT.replace(
        "    pto.store(y, v3)", "    pto.store(y, v3)\n    ptoisa.cpu_sim_add_cycles('7')"
    ).replace("kernel, pto,", "kernel, pto, ptoisa,")
    with pytest.raises(ScriptImportError, match="ptoisa.cpu_sim_add_cycles has no graph node"):
        import_script(_script(tmp_path, script))
