"""Format v1 -> v2 migration (app.model.kinds.legacy_v1, io.MIGRATIONS[1]).

Every v1 golden (tests/golden/v1_migration/*.v1.pto.json) migrates, saves, and reloads equal;
the migrated structure is asserted concretely (frames, children in order, wires, references,
sheets). Small synthetic v1 documents cover the constructs the goldens do not (P.when chains,
compositions, replicate, a dispatch without a worker count) and the v1 constructs that have
no v2 form (a ProjectError naming the node). Whether a migrated document exports the same IR
is tests/golden/test_v1_migration.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.model import frames, io
from app.model.document import Document, Node
from app.model.equality import same_as
from app.model.export import export_script
from app.model.kinds.legacy_v1 import V1_DEFAULT_WORKERS, migrate_v1
from pto_wsp.compiler.workers import DEFAULT_WORKERS

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "v1_migration"
V1_FILES = sorted(GOLDEN.glob("*.v1.pto.json"))


def stem(path: Path) -> str:
    return path.name[: -len(".v1.pto.json")]


def named(doc: Document, name: str, kind: str | None = None) -> Node:
    found = [n for n in doc.graph.nodes.values() if n.name == name and kind in (None, n.kind)]
    assert len(found) == 1, (name, kind, found)
    return found[0]


def only(doc: Document, kind: str) -> Node:
    found = [n for n in doc.graph.nodes.values() if n.kind == kind]
    assert len(found) == 1, (kind, found)
    return found[0]


def wires(doc: Document) -> set[tuple[str, str, str, str]]:
    """Edges as (source name, port, destination name, port)."""

    def label(node_id: str) -> str:
        n = doc.graph.nodes[node_id]
        return n.name or n.id

    return {(label(e.src.node), e.src.port, label(e.dst.node), e.dst.port) for e in doc.graph.edges}


def kinds_in(doc: Document, frame_id: str | None) -> list[str]:
    return [n.kind for n in frames.children(doc, frame_id)]


def test_there_are_v1_goldens():
    assert len(V1_FILES) >= 9


@pytest.mark.parametrize("path", V1_FILES, ids=stem)
def test_every_golden_migrates_saves_and_reloads_equal(path: Path, tmp_path: Path):
    v1 = json.loads(path.read_text(encoding="utf-8"))
    assert v1["format_version"] == 1
    doc = io.load(path)
    assert doc.format_version == 2
    kinds = {n.kind for n, _g, _o in doc.walk()}
    assert kinds.isdisjoint({"data.get", "compile.target", "branch.when", "csp.replicate"})
    assert not any(k.startswith("sched.") for k in kinds)
    # scope.entry survives only in kernel bodies; no other node owns a body
    for node, graph, owner in doc.walk():
        if node.kind == "scope.entry":
            assert owner is not None and owner.kind == "kernel.def"
        if node.body is not None:
            assert node.kind == "kernel.def"
        if graph is doc.graph and node.parent is not None:
            assert doc.graph.nodes[node.parent].kind in {
                "workload.def", "loop.parallel", "loop.seq", "loop.sel", "branch.chain",
                "branch.case", "pipe.scope", "csp.process", "csp.consume", "csp.connect",
                "compose.combine", "compose.sequential",
            }  # fmt: skip
    # the v1 ids of the nodes that survive are kept (messages keep naming the same nodes)
    v1_root = {n["id"]: n for n in v1["graph"]["nodes"]}
    for nid, raw in v1_root.items():
        if raw["kind"].startswith(("data.tensor", "axis.", "kernel.def", "workload.def")):
            assert doc.graph.nodes[nid].kind == raw["kind"] and doc.graph.nodes[nid].name == raw["name"]  # fmt: skip
    # one program: its sheet names the v1 compile target
    programs = [n for n in doc.graph.nodes.values() if n.props.get("target")]
    assert [p.props["target"] for p in programs] == ["cpu_sim"]
    out = tmp_path / f"{stem(path)}.pto.json"
    io.save(doc, out)
    again = io.load(out)
    assert same_as(again, doc) and same_as(doc, again)
    assert io.to_data(again) == io.to_data(doc)
    # every frame child sits inside the frame's area below its header; frames do not overlap
    _assert_frames_apart(doc)


def _assert_frames_apart(doc: Document) -> None:
    roots = [n for n in frames.children(doc, None) if frames.descendants(doc, n.id)]
    boxes = []
    for frame in roots:
        inner = frames.descendants(doc, frame.id)
        xs = [n.pos[0] for n in inner]
        ys = [n.pos[1] for n in inner]
        assert min(xs) > frame.pos[0] and min(ys) > frame.pos[1], frame.name
        boxes.append((frame.pos[0], frame.pos[1], max(xs) + 200, max(ys) + 80))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_attention_varlen_structure():
    doc = io.load(GOLDEN / "attention_varlen.v1.pto.json")
    wl = named(doc, "attention", "workload.def")
    loop = only(doc, "loop.parallel")
    call = only(doc, "kernel.call")
    kernel = named(doc, "attn_kernel", "kernel.def")
    batch, heads = named(doc, "batch"), named(doc, "heads")
    # the call inside P(b, h) inside the workload
    assert [f.id for f in frames.ancestors(doc, call.id)] == [wl.id, loop.id]
    assert kinds_in(doc, wl.id) == ["loop.parallel"] and kinds_in(doc, loop.id) == ["kernel.call"]
    # axes in wire order with the loop's variables, as node ids
    assert loop.props["axes"] == [{"var": "b", "axis": batch.id}, {"var": "h", "axis": heads.id}]
    assert frames.loop_vars(doc, call.id) == ["b", "h"]
    # the kernel wire became the kernel reference; v1 axes and index text kept verbatim
    assert call.props["kernel"] == kernel.id
    assert call.props["axes"] == "b, h"
    assert call.props["index"] == {"K": "b", "O": "b, h", "Q": "b, h", "V": "b"}
    # tensors wired straight into the call's ports; the Out parameter writes O
    assert wires(doc) == {
        ("Q", "tensor", "call", "Q"),
        ("K", "tensor", "call", "K"),
        ("V", "tensor", "call", "V"),
        ("call", "O", "O", "write"),
    }
    # the schedule chain is the workload's sheet, in the DSL's terms
    p = wl.props
    assert (p["dispatch"], p["dispatch_n"], p["dispatch_key"]) == ("affinity", 4, 't.get("batch")')
    assert (p["streams"], p["stream_by"]) == (2, 't.get("head") % 2')
    assert (p["timing"], p["timing_param"], p["target"]) == ("immediate", 1, "cpu_sim")
    assert p["task_graph"] == {} and p["spatial_map"] == []


def test_csp_pipeline_structure():
    doc = io.load(GOLDEN / "csp_pipeline.v1.pto.json")
    connect = only(doc, "csp.connect")
    producer, consumer = named(doc, "producer"), named(doc, "consumer")
    work = named(doc, "work", "csp.channel")
    assert [n.id for n in frames.children(doc, connect.id)] == [producer.id, consumer.id]
    assert connect.props["target"] == "cpu_sim"
    seq = frames.children(doc, producer.id)[0]
    assert seq.kind == "loop.seq" and seq.props["var"] == "i"
    assert seq.props["axis"] == named(doc, "tiles").id
    # the sent call is the send's sibling, just before it, its task wired into the send
    assert kinds_in(doc, seq.id) == ["kernel.call", "csp.send"]
    send = named(doc, "send", "csp.send")
    assert send.props["channel"] == work.id
    assert ("call", "task", "send", "value") in wires(doc)
    # a parameter v1 passed without an index is passed whole ("")
    call = named(doc, "call", "kernel.call")
    assert call.props["index"] == {"x": "i", "buf": ""}
    consume = frames.children(doc, consumer.id)[0]
    assert consume.kind == "csp.consume" and consume.props == {"var": "t", "channel": work.id}
    assert frames.loop_vars(doc, named(doc, "call2").id) == ["t"]


def test_megakernel_pipe_structure():
    doc = io.load(GOLDEN / "megakernel_pipeline.v1.pto.json")
    wl = named(doc, "pipeline", "workload.def")
    pipe = only(doc, "pipe.scope")
    assert pipe.parent == wl.id and pipe.props["depth"] == 2
    assert kinds_in(doc, pipe.id) == ["loop.seq", "csp.consume", "csp.consume"]  # v1 chain order
    consumes = [n for n in frames.children(doc, pipe.id) if n.kind == "csp.consume"]
    assert [c.props["var"] for c in consumes] == ["t", "r"]
    assert [doc.node(c.props["channel"]).name for c in consumes] == ["l2c", "c2s"]
    assert wl.props["dispatch"] == "round_robin" and wl.props["dispatch_n"] == 1


def test_tensor_parallel_structure():
    doc = io.load(GOLDEN / "tensor_parallel.v1.pto.json")
    wl = named(doc, "tensor_parallel", "workload.def")
    assert kinds_in(doc, wl.id) == ["loop.parallel", "layout.allreduce", "kernel.call"]
    call2 = named(doc, "call2")
    assert call2.props["axes"] == ""  # v1 called it without [..]; kept
    got = wires(doc)
    assert {("y", "tensor", "call2", "a"), ("y", "tensor", "call2", "b")} <= got
    assert {("call2", "o0", "Y", "write"), ("call2", "o1", "Y", "write")} <= got
    assert ("Part", "tensor", "y", "tensor") in got and ("call", "p", "Part", "write") in got
    assert wl.props["spatial_map"] == [2, 2]
    tg = wl.props["task_graph"]
    assert tg["window"] == 16 and tg["ready"] == "priority" and tg["ready_key"] == 't.get("k")'
    assert tg["pools"] == [{"kernel": "partial", "workers": 3}, {"kernel": "finish", "workers": 1}]


def test_moe_sel_and_sparse_axis():
    doc = io.load(GOLDEN / "moe.v1.pto.json")
    sel = only(doc, "loop.sel")
    routing = named(doc, "routing", "axis.sparse")
    assert sel.props == {"var": "e", "axis": routing.id, "row": "b"}
    assert frames.loop_vars(doc, only(doc, "kernel.call").id) == ["b", "e"]
    # root wires into the sparse axis are kept
    assert {("indptr", "tensor", "routing", "indptr"), ("indices", "tensor", "routing", "indices")} <= wires(doc)  # fmt: skip
    wl = only(doc, "workload.def")
    assert (wl.props["dispatch"], wl.props["streams"]) == ("work_steal", 8)


# ------------------------------------------------------------------------------------------
# synthetic v1 documents
# ------------------------------------------------------------------------------------------
class V1:
    """A small v1 document written the way format v1 stored it (bodies, Gets, exec chains)."""

    def __init__(self) -> None:
        self.count = 0
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def id(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def node(self, kind: str, name: str = "", graph: dict | None = None, **props) -> dict:
        item: dict[str, Any] = {"id": self.id(), "kind": kind, "name": name, "props": props}
        (graph["nodes"] if graph is not None else self.nodes).append(item)
        return item

    def scope(self, kind: str, name: str = "", graph: dict | None = None, **props) -> dict:
        item = self.node(kind, name, graph, **props)
        item["body"] = {"nodes": [], "edges": []}
        self.node("scope.entry", "entry", item["body"])
        return item

    def wire(self, src: dict, sport: str, dst: dict, dport: str, graph: dict | None = None):
        edge = {"src": {"node": src["id"], "port": sport}, "dst": {"node": dst["id"], "port": dport}}  # fmt: skip
        (graph["edges"] if graph is not None else self.edges).append(edge)

    def chain(self, scope: dict, *statements: dict) -> None:
        prev = scope["body"]["nodes"][0]
        for s in statements:
            self.wire(prev, "exec", s, "exec", scope["body"])
            prev = s

    def get(self, scope: dict, target: str) -> dict:
        return self.node("data.get", "", scope["body"], target=target)

    def data(self) -> dict:
        return {"format_version": 1, "name": "t", "graph": {"nodes": self.nodes, "edges": self.edges}}  # fmt: skip

    def load(self, tmp_path: Path) -> Document:
        path = tmp_path / "v1.pto.json"
        path.write_text(json.dumps(self.data()))
        return io.load(path)


def kernel(v: V1, name: str = "k") -> dict:
    params = [{"name": "x", "direction": "In", "kind": "tile"}, {"name": "y", "direction": "InOut", "kind": "tile"}]  # fmt: skip
    k = v.scope("kernel.def", name, params=params)
    v.node("kernel.param", "x", k["body"], param="x")
    v.node("kernel.param", "y", k["body"], param="y")
    return k


def call(v: V1, scope: dict, kname: str = "k", **index) -> dict:
    c = v.node("kernel.call", "call", scope["body"], axes="i", index=index)
    v.wire(v.get(scope, kname), "out", c, "kernel", scope["body"])
    v.wire(v.get(scope, "X"), "out", c, "x", scope["body"])
    v.wire(v.get(scope, "Y"), "out", c, "y", scope["body"])
    return c


def base(v: V1) -> tuple[dict, dict]:
    v.node("data.tensor", "X", shape=[4, 16, 16])
    v.node("data.tensor", "Y", shape=[4, 16, 16])
    v.node("axis.dense", "A", size=4)
    kernel(v)
    wl = v.scope("workload.def", "w")
    loop = v.scope("loop.seq", "", wl["body"], var="i")
    v.wire(v.get(wl, "A"), "out", loop, "axis", wl["body"])
    v.chain(wl, loop)
    return wl, loop


def test_when_chain_becomes_one_frame_with_cases(tmp_path):
    v = V1()
    wl, loop = base(v)
    w1 = v.scope("branch.when", "", loop["body"], pred="i < 1")
    w2 = v.scope("branch.when", "", loop["body"], pred="i < 2")
    other = v.scope("branch.otherwise", "", loop["body"])
    w3 = v.scope("branch.when", "", loop["body"], pred="i == 3")  # after otherwise: a new chain
    v.chain(loop, w1, w2, other, w3)
    for scope in (w1, w2, other, w3):
        v.chain(scope, call(v, scope, x="i", y="i"))
    prog = v.node("compile.target", "program", target="cpu_sim")
    v.wire(wl, "workload", prog, "workload")
    doc = v.load(tmp_path)
    loop2 = doc.node(loop["id"])
    chains = frames.children(doc, loop2.id)
    assert [c.kind for c in chains] == ["branch.chain", "branch.chain"]
    first = frames.children(doc, chains[0].id)
    assert [c.id for c in first] == [w1["id"], w2["id"], other["id"]]
    assert [(c.props["pred"], c.props["otherwise"]) for c in first] == [("i < 1", False), ("i < 2", False), ("True", True)]  # fmt: skip
    assert [c.id for c in frames.children(doc, chains[1].id)] == [w3["id"]]
    for case in (w1, w2, other, w3):
        assert kinds_in(doc, case["id"]) == ["kernel.call"]
    c = frames.children(doc, w1["id"])[0]
    assert frames.loop_vars(doc, c.id) == ["i"]
    assert {(doc.node(e.src.node).name, e.dst.port) for e in doc.graph.edges if e.dst.node == c.id} == {("X", "x"), ("Y", "y")}  # fmt: skip
    # InOut: read through the in port and written through the out port
    assert any(e.src.node == c.id and e.src.port == "y" and e.dst.port == "write" for e in doc.graph.edges)  # fmt: skip
    assert doc.node(wl["id"]).props["target"] == "cpu_sim"


def test_otherwise_without_when_names_the_node(tmp_path):
    v = V1()
    wl, loop = base(v)
    other = v.scope("branch.otherwise", "", loop["body"])
    v.chain(loop, other)
    with pytest.raises(io.ProjectError) as info:
        v.load(tmp_path)
    assert info.value.where == f"nodes.{other['id']}.inputs.exec"
    assert "must directly follow a P.when" in str(info.value)


def test_compositions_hold_workload_instances(tmp_path):
    v = V1()
    wl, loop = base(v)
    v.chain(loop, call(v, loop, x="i", y="i"))
    wl2 = v.scope("workload.def", "w2")
    inner = v.node("compose.combine", "layer")
    v.wire(wl, "workload", inner, "workloads")
    v.wire(wl2, "workload", inner, "workloads")
    outer = v.node("compose.sequential", "pipeline")
    v.wire(inner, "workload", outer, "workloads")
    v.wire(wl, "workload", outer, "workloads")
    disp = v.node("sched.dispatch", "sched", policy="round_robin")  # no n: ran with 4
    prog = v.node("compile.target", "program", target="cpu_sim")
    v.wire(outer, "workload", disp, "workload")
    v.wire(disp, "workload", prog, "workload")
    doc = v.load(tmp_path)
    seq = doc.node(outer["id"])
    assert seq.parent is None and seq.kind == "compose.sequential"
    kids = frames.children(doc, seq.id)
    assert [k.kind for k in kids] == ["compose.combine", "workload.instance"]
    assert kids[1].props["workload"] == wl["id"]
    comb = kids[0]
    assert comb.id == inner["id"] and comb.parent == seq.id
    insts = frames.children(doc, comb.id)
    assert [i.props["workload"] for i in insts] == [wl["id"], wl2["id"]]
    assert (seq.props["dispatch"], seq.props["dispatch_n"], seq.props["target"]) == ("round_robin", 4, "cpu_sim")  # fmt: skip
    assert comb.props["target"] == ""
    # the workloads stay root frames (instances reference them)
    assert doc.node(wl["id"]).parent is None and doc.node(wl2["id"]).parent is None


def test_connect_with_replicate_and_dangling_schedule(tmp_path):
    v = V1()
    v.node("csp.channel", "ch", depth=3)
    proc = v.scope("csp.process", "p", replicas=1)
    close = v.node("csp.close", "close", proc["body"])
    v.wire(v.get(proc, "ch"), "out", close, "channel", proc["body"])
    v.chain(proc, close)
    rep = v.node("csp.replicate", "reps", n=3)
    v.wire(proc, "process", rep, "process")
    conn = v.node("csp.connect", "net")
    v.wire(rep, "workload", conn, "processes")
    streams = v.node("sched.streams", "s", n=2)  # a schedule feeding nothing: no target
    v.wire(conn, "workload", streams, "workload")
    doc = v.load(tmp_path)
    p = doc.node(proc["id"])
    assert p.parent == conn["id"] and p.props["replicas"] == 3
    assert doc.node(close["id"]).props["channel"] == v.nodes[0]["id"]
    net = doc.node(conn["id"])
    assert net.props["streams"] == 2 and net.props["target"] == ""


def test_v1_constructs_without_a_v2_form_name_the_node(tmp_path):
    # a process wired into no connect
    v = V1()
    proc = v.scope("csp.process", "lonely")
    with pytest.raises(io.ProjectError) as info:
        v.load(tmp_path)
    assert info.value.where == f"nodes.{proc['id']}" and "lonely" in str(info.value)
    # a Get naming nothing
    v = V1()
    wl, loop = base(v)
    c = call(v, loop, x="i", y="i")
    v.chain(loop, c)
    bad = v.get(loop, "nowhere")
    v.wire(bad, "out", c, "kernel", loop["body"])
    with pytest.raises(io.ProjectError) as info:
        v.load(tmp_path)
    assert info.value.where == f"nodes.{bad['id']}.props.target"
    assert "no root node named 'nowhere'" in str(info.value)
    # a workload feeding two schedule chains (v2 has one sheet per frame)
    v = V1()
    wl, loop = base(v)
    a, b = v.node("sched.streams", "s1"), v.node("sched.streams", "s2")
    v.wire(wl, "workload", a, "workload")
    v.wire(wl, "workload", b, "workload")
    with pytest.raises(io.ProjectError, match="two schedule chains") as info:
        v.load(tmp_path)
    assert info.value.where == f"nodes.{b['id']}"
    # a compile node fed by nothing (v1 reported it; v2 has no loose schedule nodes)
    v = V1()
    wl, loop = base(v)
    prog = v.node("compile.target", "program")
    with pytest.raises(io.ProjectError, match="schedules no workload") as info:
        v.load(tmp_path)
    assert info.value.where == f"nodes.{prog['id']}.inputs.workload"


def test_scalars_loop_variables_and_body_backdrops(tmp_path):
    v = V1()
    wl, loop = base(v)
    n = v.node("data.scalar", "n", value=3)
    params = [{"name": "x", "direction": "In", "kind": "tile"}, {"name": "s", "direction": "In", "kind": "scalar"}, {"name": "i", "direction": "In", "kind": "scalar"}]  # fmt: skip
    v.scope("kernel.def", "ks", params=params)
    c = v.node("kernel.call", "call", loop["body"], axes="i", index={"x": "i"})
    v.wire(v.get(loop, "ks"), "out", c, "kernel", loop["body"])
    v.wire(v.get(loop, "X"), "out", c, "x", loop["body"])
    v.wire(v.get(loop, "n"), "out", c, "s", loop["body"])
    entry = loop["body"]["nodes"][0]
    v.wire(entry, "i", c, "i", loop["body"])  # v1 wired a loop variable from the entry
    v.chain(loop, c)
    loop["body"]["backdrops"] = [{"id": "b9", "title": "note", "note": "", "rect": [0, 0, 50, 50], "color": "#3a3f4b"}]  # fmt: skip
    doc = v.load(tmp_path)
    call2 = doc.node(c["id"])
    assert call2.props["index"] == {"x": "i", "i": "i"}  # the variable is index text; s is wired
    assert ("n", "scalar", "call", "s") in wires(doc)
    assert doc.node(n["id"]).parent is None
    assert [b.title for b in doc.graph.backdrops] == ["note"]


def test_migrate_v1_is_pure_data():
    raw = json.loads((GOLDEN / "matmul.v1.pto.json").read_text())
    before = json.dumps(raw, sort_keys=True)
    out = migrate_v1(raw)
    assert json.dumps(raw, sort_keys=True) == before  # the input is not modified
    assert out["format_version"] == 2
    assert all("parent" in n for n in out["graph"]["nodes"])
    assert json.loads(json.dumps(out)) == out  # plain JSON data


@pytest.mark.parametrize(
    ("steps", "want", "workers"),
    [
        # v1 ran a schedule without a worker count on 4 workers; v2's default is 1 (DESIGN §2)
        ([], {"dispatch": "round_robin", "dispatch_n": 4}, 4),
        (
            [("sched.dispatch", {"policy": "affinity", "key": 't.get("i")'})],
            {"dispatch": "affinity", "dispatch_aicpus": 4},
            4,
        ),
        (
            [
                ("sched.dispatch", {"policy": "hash", "key": 't.get("i")'}),
                ("sched.streams", {"n": 2}),
            ],
            {"dispatch": "hash", "dispatch_aicpus": 0, "streams": 2},
            2,
        ),
        (
            [("sched.dispatch", {"policy": "round_robin", "n": 3})],
            {"dispatch": "round_robin", "dispatch_n": 3},
            3,
        ),
        # a v1 round_robin step without n meant 4 too
        ([("sched.dispatch", {"policy": "round_robin"})], {"dispatch_n": 4}, 4),
        ([("sched.streams", {"n": 2})], {"dispatch": "", "streams": 2}, 2),
        # work_steal has no count to give: v1 ran it on 4, v2 on 1 (legacy_v1's docstring)
        (
            [("sched.dispatch", {"policy": "work_steal"})],
            {"dispatch": "work_steal", "dispatch_aicpus": 0},
            1,
        ),
    ],
)
def test_migrated_programs_keep_the_workers_v1_ran_them_on(tmp_path, steps, want, workers):
    assert DEFAULT_WORKERS != V1_DEFAULT_WORKERS  # so the migration has something to keep
    v = V1()
    wl, loop = base(v)
    v.chain(loop, call(v, loop, x="i", y="i"))
    prev = wl
    for kind, props in steps:
        step = v.node(kind, kind.split(".")[1], **props)
        v.wire(prev, "workload", step, "workload")
        prev = step
    prog = v.node("compile.target", "program", target="cpu_sim")
    v.wire(prev, "workload", prog, "workload")
    doc = v.load(tmp_path)
    sheet = doc.node(wl["id"]).props
    assert {k: sheet[k] for k in want} == want
    # the exported script lowers to that many workers (pto-wsp ir, as a user runs it)
    script = tmp_path / "migrated.py"
    script.write_text(export_script(doc).source, encoding="utf-8")
    ir = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "ir", str(script)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert re.findall(r"schedule .*\bworkers=(\d+)", ir) == [str(workers)]
