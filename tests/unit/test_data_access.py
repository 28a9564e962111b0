"""Which calls read and which write a data node (``app.model.data_access``), on a sample."""

from __future__ import annotations

from pathlib import Path

from app.model import io
from app.model.data_access import accesses, links_between, readers_and_writers
from app.model.document import Document

ROOT = Path(__file__).resolve().parents[2]
TENSOR_PARALLEL = ROOT / "app" / "projects" / "tensor_parallel.pto.json"


def _ids(doc: Document) -> dict[str, str]:
    return {n.name: n.id for n, _g, _o in doc.walk() if n.name}


def test_readers_and_writers_follow_the_kernels_parameter_directions() -> None:
    doc = io.load(TENSOR_PARALLEL)
    ids = _ids(doc)
    # partial(x: In, w: In, p: Out) is called as call(x=X, w=W, p=Part);
    # finish(a: In, b: In, o0: Out, o1: Out) as call2(a=y, b=y, o0=Y, o1=Y).
    assert readers_and_writers(doc, ids["X"]) == ([ids["call"]], [])
    assert readers_and_writers(doc, ids["W"]) == ([ids["call"]], [])
    assert readers_and_writers(doc, ids["Part"]) == ([], [ids["call"]])
    assert readers_and_writers(doc, ids["Y"]) == ([], [ids["call2"]])  # two params, one call
    assert readers_and_writers(doc, ids["y"]) == ([ids["call2"]], [])  # the allreduce's result
    writes_y = [a for a in accesses(doc) if a.data == ids["Y"]]
    assert sorted(a.param for a in writes_y) == ["o0", "o1"] and all(a.writes for a in writes_y)


def test_an_inout_parameter_both_reads_and_writes_its_tensor() -> None:
    doc = io.load(TENSOR_PARALLEL)
    ids = _ids(doc)
    kdef = doc.graph.nodes[ids["partial"]]
    params = kdef.props["params"]
    params[2] = {**params[2], "direction": "InOut"}  # p: Out -> InOut, wired only as an output
    assert readers_and_writers(doc, ids["Part"]) == ([], [ids["call"]])
    params[0] = {**params[0], "direction": "Out"}  # x now an Out: its wire *into* x is no read
    assert readers_and_writers(doc, ids["X"]) == ([], [])


def test_links_between_consecutive_calls_are_the_data_one_writes_and_the_next_reads() -> None:
    doc = io.load(TENSOR_PARALLEL)
    ids = _ids(doc)
    # call writes Part, the allreduce turns it into y, call2 reads y: no tensor goes straight
    # from call to call2, so nothing links them ...
    data, edges = links_between(doc, [(ids["call"], ids["call2"])])
    assert data == set() and edges == []
    # ... but with call2 reading Part itself, Part and both its wires carry the data.
    for e in doc.graph.edges:
        if e.dst.node == ids["call2"] and e.dst.port == "a":
            e.src = type(e.src)(ids["Part"], "tensor")
    data, edges = links_between(doc, [(ids["call"], ids["call2"])])
    assert data == {ids["Part"]}
    assert {(e.src.node, e.dst.node) for e in edges} == {
        (ids["call"], ids["Part"]),
        (ids["Part"], ids["call2"]),
    }
    assert links_between(doc, [(ids["call2"], ids["call"])]) == (set(), [])  # order matters
