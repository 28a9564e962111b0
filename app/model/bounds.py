"""Limits a project file must respect, checked before they cost time or memory.

A project file may come from anywhere, so what it can make the Studio do is bounded
(docs/semantics.md, "Limits"):

- JSON nesting: at most ``MAX_JSON_DEPTH`` levels of arrays/objects, checked on the text
  before it is parsed (a parser would recurse once per level);
- text: no NUL characters or lone surrogates in any string (``pytext.text_problem``), which
  neither UTF-8 nor a Python script can hold;
- numbers: no NaN or infinity anywhere (a script cannot spell them);
- graphs: no cycle along data or workload edges (export follows them; a cycle never ends);
- expressions: ``exprs.MAX_LENGTH`` characters, ``exprs.MAX_DEPTH`` levels, 64-bit constants;
- shapes: at most ``MAX_SHAPE_ELEMENTS`` elements (a tensor is allocated when the script runs).

Each problem is a ``Diagnostic`` naming node and field (the document-level checks) or a
``ProjectError`` naming the offset (the JSON check, which runs before there are nodes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from . import pytext
from .document import Diagnostic, Document, Graph, Node
from .kind_lookup import kind_of

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_SHAPE_ELEMENTS",
    "shape_problem",
    "json_depth_problem",
    "data_depth_problem",
    "value_problems",
    "document_diagnostics",
]

MAX_JSON_DEPTH = 100
"""Arrays/objects nested in a project file (the samples need 15; each scope adds 3)."""

MAX_SHAPE_ELEMENTS = 2**31
"""Elements of one shape (a tensor, a broadcast, a mesh): 8 GiB of f32, more than a workload
designed here needs and less than a file can make the runner try to allocate (7 PiB otherwise
passed validation and died in numpy at run time)."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_problem(text: str) -> str | None:
    """Why ``text`` nests deeper than ``MAX_JSON_DEPTH`` (None when it does not).

    Linear in the text and recursion-free: strings are skipped, brackets counted.
    """
    depth = 0
    for m in _BRACKET.finditer(_STRING.sub('""', text)):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
        else:
            depth -= 1
    return None


def data_depth_problem(data: Any) -> str | None:
    """``json_depth_problem`` for data that was not read from text (iterative)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list | tuple):
            if depth > MAX_JSON_DEPTH:
                return f"the data nests deeper than {MAX_JSON_DEPTH} levels"
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items)
    return None


def shape_problem(shape: list[int]) -> str | None:
    """Why ``shape`` (positive ints) holds more than ``MAX_SHAPE_ELEMENTS`` elements."""
    count = 1
    for d in shape:
        count *= d
        if count > MAX_SHAPE_ELEMENTS:
            dims = " x ".join(str(d) for d in shape)
            return f"shape {dims} has more than {MAX_SHAPE_ELEMENTS} (2**31) elements"
    return None


def value_problems(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(where, problem)`` for every string (keys too) and number inside ``value`` that a
    project or script cannot hold: NUL, lone surrogates, NaN, infinities. Iterative."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            problem = pytext.text_problem(item)
            if problem is not None:
                yield at, f"text {problem}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                yield at, f"{item!r} is not a finite number"
        elif isinstance(item, dict):
            for key, v in item.items():
                key_text = str(key)
                if isinstance(key, str) and pytext.text_problem(key) is not None:
                    yield at, f"key {pytext.text_problem(key)}"
                    key_text = "?"
                stack.append((v, f"{at}.{key_text}" if at else key_text))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))


def document_diagnostics(doc: Document) -> list[Diagnostic]:
    """Text and number problems anywhere in ``doc``, then cycles in each graph."""
    out: list[Diagnostic] = []
    for at, problem in value_problems(doc.name, "name"):
        out.append(Diagnostic("", at, f"the project name: {problem}"))
    for at, problem in value_problems(doc.settings, "settings"):
        out.append(Diagnostic("", at, problem))
    for node, _graph, _owner in doc.walk():
        for field, value in (("id", node.id), ("name", node.name), ("pos", list(node.pos))):
            for at, problem in value_problems(value, field):
                out.append(Diagnostic(node.id, at, problem))
        for at, problem in value_problems(node.props, "props"):
            out.append(Diagnostic(node.id, at, problem))
    for graph, _owner in doc.graphs():
        for b in graph.backdrops:
            fields = {"id": b.id, "title": b.title, "note": b.note, "color": b.color, "rect": list(b.rect)}  # fmt: skip
            for at, problem in value_problems(fields, "backdrop"):
                out.append(Diagnostic(b.id, at, problem))
        out.extend(_cycles(graph))
    return out


def _writes_into(node: Node) -> bool:
    """A tensor: a wire into it says which call writes it (``NodeKind.data``)."""
    return kind_of(node).data == "tensor"


def _cycles(graph: Graph) -> list[Diagnostic]:
    """One diagnostic per cycle along the non-exec edges of ``graph`` (iterative DFS).

    Execution order has its own checks (exec edges form a chain); every other edge carries
    data or a workload forward, and export follows them back to their sources. A wire into a
    tensor (its ``write`` port, format v2) says which call writes it, not where its data comes
    from: a call that reads and writes one tensor (InOut, an accumulator) is no cycle.
    """
    succ: dict[str, list[tuple[str, str]]] = {}
    for e in graph.edges:
        if e.src.port == "exec" and e.dst.port == "exec":
            continue
        dst = graph.nodes.get(e.dst.node)
        if dst is not None and _writes_into(dst):
            continue
        if e.src.node in graph.nodes and e.dst.node in graph.nodes:
            succ.setdefault(e.src.node, []).append((e.dst.node, e.dst.port))
    out: list[Diagnostic] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in graph.nodes:
        if state.get(start):
            continue
        path: list[str] = [start]
        iters = [iter(succ.get(start, ()))]
        state[start] = 1
        while iters:
            step = next(iters[-1], None)
            if step is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            nxt, port = step
            if state.get(nxt) == 1:
                loop = path[path.index(nxt) :] + [nxt]
                names = " -> ".join(graph.nodes[i].name or i for i in loop)
                out.append(Diagnostic(nxt, f"inputs.{port}", f"the graph has a cycle: {names}"))
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(succ.get(nxt, ())))
    return out
