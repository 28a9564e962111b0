"""Events (record/synchronize rendezvous) and u64 slots: workload statements without data wires.

``event.def`` is a root node; a record/synchronize names it in its ``event`` property.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import titles
from ..document import Node
from ._base import Emitter, NodeKind, PropSpec, W, in_port

_in = in_port


def _emit_event_use(fn: str) -> Callable[[Any, Node, int, set[str]], None]:
    def emit(x: Any, n: Node, depth: int, names: set[str]) -> None:
        """``record(ev)`` / ``synchronize(ev)``."""
        ev = x.ref(n, "event", "event")
        x.use(fn)
        x.line(f"{fn}({x.name(ev)})", n.id, depth)

    return emit


def emit_slot_set(x: Any, n: Node, depth: int, names: set[str]) -> None:
    value = x.expr(n, "value", n.props.get("value", "0"), names)
    slot = x.integer(n, "props.slot", n.props.get("slot"), 0)
    x.use("slot_set_u64")
    x.line(f"slot_set_u64({slot}, {value})", n.id, depth)


def emit_slot_load(x: Any, n: Node, depth: int, names: set[str]) -> None:
    t = x.one_src(n, "tensor")
    view = x.name(t)
    index = (n.props.get("index") or "").strip()
    if index:
        view = f"{view}[{x.expr(n, 'index', index, names, in_brackets=True)}]"
    row = x.expr(n, "row", n.props.get("row", "0"), names)
    col = x.expr(n, "col", n.props.get("col", "0"), names)
    slot = x.integer(n, "props.slot", n.props.get("slot"), 0)
    x.use("slot_load_u64")
    x.line(f"slot_load_u64({slot}, {view}, row={row}, col={col})", n.id, depth)


def emit_event_def(x: Emitter, n: Node) -> None:
    x.use("Event")
    x.line(f"{x.name(n)} = Event({x.q(n.name)})", n.id)


def import_event_use(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``RecordNode`` / ``SyncNode``."""
    return im.add(im.dsl_kind(type(s).__name__), None, frame, event=im.event(s.event).id)


def import_slot_set(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    value = im.expr_text(s.value, here)
    return im.add(im.dsl_kind("SlotSetNode"), None, frame, slot=int(s.slot), value=value)


def import_slot_load(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    node = im.add(
        im.dsl_kind("SlotLoadNode"),
        None,
        frame,
        slot=int(s.slot),
        index=im.index_text(s.view, here),
        row=im.expr_text(s.row, here),
        col=im.expr_text(s.col, here),
    )
    im.wire(im.data_source(frame, s.view, here), "tensor", node, "tensor")
    return node


def import_event(im: Any, ev: Any, where: str) -> Node:
    return im.add(DSL_KINDS["Event"], im.name_for(ev, "ev"))


KINDS = [
    NodeKind(
        "event.def",
        "Event",
        "Events",
        [],
        [],
        name_base="ev",
        summary=titles.event_def,
        run_role="event",
        emit_root=emit_event_def,
        import_root=import_event,
        section="channels",
        doc='Event("name"): a rendezvous.',
    ),
    *(
        NodeKind(
            eid,
            title,
            "Events",
            [],
            [PropSpec("event", "ref", "", doc="the event", ref_kinds=("event.def",))],
            allowed_in=W,
            name_base=title,
            summary=titles.event_use,
            emit=_emit_event_use(title),
            import_dsl=import_event_use,
            doc=f"{title}(ev)",
        )
        for eid, title in (("event.record", "record"), ("event.synchronize", "synchronize"))
    ),
    NodeKind(
        "slot.set",
        "slot_set_u64",
        "Slots",
        [],
        [PropSpec("slot", "int", 0), PropSpec("value", "expr", "0")],
        allowed_in=W,
        name_base="slot_set",
        summary=titles.slot_set,
        emit=emit_slot_set,
        import_dsl=import_slot_set,
        doc="slot_set_u64(slot, value)",
    ),
    NodeKind(
        "slot.load",
        "slot_load_u64",
        "Slots",
        [_in("tensor", "tensor")],
        [
            PropSpec("slot", "int", 0),
            PropSpec("index", "exprlist", "", doc="tensor view index, e.g. 'b'", optional=True),
            PropSpec("row", "expr", "0"),
            PropSpec("col", "expr", "0"),
        ],
        allowed_in=W,
        name_base="slot_load",
        summary=titles.slot_load,
        emit=emit_slot_load,
        import_dsl=import_slot_load,
        doc="slot_load_u64(slot, tensor[index], row, col)",
    ),
]

DSL_KINDS = {
    "Event": "event.def",
    "RecordNode": "event.record",
    "SyncNode": "event.synchronize",
    "SlotSetNode": "slot.set",
    "SlotLoadNode": "slot.load",
}
"""DSL object type -> the kind Import Python makes of it (``catalogue.dsl_kind``)."""
