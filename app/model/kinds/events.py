"""Events (record/synchronize rendezvous) and u64 slots: workload statements without data wires.

``event.def`` is a root node; a record/synchronize names it in its ``event`` property.
"""

from __future__ import annotations

from .. import titles
from ._base import NodeKind, PropSpec, W, in_port

_in = in_port

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
"""DSL object type -> the kind Import Python makes of it (``registry.dsl_kind``)."""
