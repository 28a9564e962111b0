"""Whether two documents mean the same (``same_as``): what a round trip (save/load, export/import,
undo/redo) must preserve. Node ids, positions and backdrops are ignored; a reference compares by
what it names, settings and kernel parameters by their normal form, which needs the node kinds
(so this lives above the kind catalogue, not in ``document``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from . import kind_lookup
from .catalogue import reference_props
from .document import Document, Graph, Node
from .kernel_param import normalize_param


def same_as(doc: Document, other: Document) -> bool:
    """Equal kinds, names, props, frames, edges and bodies; ids, positions, backdrops ignored.

    Frames compare by kind, name, props and their children in order (child order is the
    statement order export keeps); nodes on a canvas compare as a multiset.
    """
    return _canonical_graph(doc.graph) == _canonical_graph(other.graph)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _canonical_graph(graph: Graph) -> tuple[Any, ...]:
    """An id-free description of a graph: frame trees in child order, edges per input port.

    Every node gets a *tree* signature (kind, name, props, body, and the tree signatures of its
    children in order) and a *place* signature (its tree signature plus, for each enclosing
    frame, that frame's tree signature and the node's index among its siblings), so two documents
    are equal exactly when their frame trees are equal and their edges join equal places.
    """
    kids: dict[str | None, list[Node]] = {}
    for node in graph.nodes.values():
        parent = node.parent if node.parent in graph.nodes else None
        kids.setdefault(parent, []).append(node)
    tree: dict[str, str] = {}

    def tree_sig(node: Node, seen: frozenset[str]) -> str:
        if node.id in tree:
            return tree[node.id]
        if node.id in seen:  # a parent cycle: not a tree; describe without the children
            return _canonical_json([node.kind, node.name, _ref_free_props(node, graph), "cycle"])
        body = _canonical_graph(node.body) if node.body is not None else None
        children = [tree_sig(c, seen | {node.id}) for c in kids.get(node.id, [])]
        props = _ref_free_props(node, graph)
        text = _canonical_json([node.kind, node.name, props, repr(body), children])
        tree[node.id] = hashlib.sha256(text.encode()).hexdigest()  # nesting stays linear
        return tree[node.id]

    for node in graph.nodes.values():
        tree_sig(node, frozenset())
    return _signatures(graph, kids, tree)


def _ref_free_props(node: Node, graph: Graph) -> Any:
    """``node.props`` in canonical form, so documents that mean the same compare equal:

    - every reference (a property holding a node id, per the kind catalogue) is replaced by the
      referenced node's kind and name (equal documents with other ids agree);
    - a non-empty settings dict (the sheet's ``task_graph``) has its unset fields at their
      defaults (``{"deps": "infer"}`` is the full settings with deps=infer; ``{}`` stays "not
      set", which exports differently);
    - a kernel's parameters carry exactly their kind's fields, defaults filled in
      (``kernel_param.normalize_param``).
    """
    spec = kind_lookup.find(node.kind)
    if spec is None:
        return node.props
    props = dict(node.props)

    def resolve(value: Any) -> Any:
        target = graph.nodes.get(value) if isinstance(value, str) else None
        return ["->", target.kind, target.name] if target is not None else value

    for name, sub in reference_props(node.kind).items():
        if name not in props:
            continue
        if sub is None:
            props[name] = resolve(props[name])
        elif isinstance(props[name], list):
            props[name] = [
                {**e, sub: resolve(e.get(sub))} if isinstance(e, dict) else e for e in props[name]
            ]
    for p in spec.props:
        value = props.get(p.name)
        if p.type == "dict" and isinstance(value, dict) and value:
            props[p.name] = {**{f.name: f.default for f in p.fields}, **value}
        elif p.type == "params" and isinstance(value, list):
            props[p.name] = [
                normalize_param(q)
                if isinstance(q, dict) and isinstance(q.get("name"), str)
                else q  # fmt: skip
                for q in value
            ]
    return props


def _signatures(graph: Graph, kids: dict[str | None, list[Node]], tree: dict[str, str]) -> tuple[Any, ...]:  # fmt: skip
    index_of = {n.id: i for members in kids.values() for i, n in enumerate(members)}
    place: dict[str, str] = {}
    for parent, members in kids.items():
        for index, node in enumerate(members):
            chain: list[Any] = [tree[node.id]]
            current, position, hops = parent, index, 0
            while current is not None and hops <= len(graph.nodes):
                chain.append([tree[current], position])
                holder = graph.nodes[current]
                up = holder.parent if holder.parent in graph.nodes else None
                position = index_of[current]
                current, hops = up, hops + 1
            place[node.id] = _canonical_json(chain)
    roots = Counter(tree[n.id] for n in kids.get(None, []))
    ordinal: Counter[tuple[str, str]] = Counter()
    edges: Counter[tuple[str, str, str, str, int]] = Counter()
    for e in graph.edges:
        key = (e.dst.node, e.dst.port)
        edges[(place.get(e.src.node, e.src.node), e.src.port, place.get(e.dst.node, e.dst.node), e.dst.port, ordinal[key])] += 1  # fmt: skip
        ordinal[key] += 1
    return (sorted(roots.items()), sorted(edges.items()))


__all__ = ["same_as"]
