"""The kind catalogue: the kind table assembled from the kind family modules, and what is derived
from the whole table (role sets, palette categories, the DSL type -> kind map, reference props).

This is the one place the families are listed (``FAMILIES``); every other list of kinds is
derived from ``KINDS`` here. Importing this module binds the table into ``kind_lookup`` (which
the helpers below the families ask, see there); ``app/model/__init__`` imports it first.
"""

from __future__ import annotations

from typing import Any

from . import kind_lookup
from .document import Node
from .kind_lookup import UnknownKind
from .kinds import csp, data, events, kernels, layout, tile_ops, workloads
from .kinds._base import NodeKind, PropSpec
from .kinds.schedule import task_graph_field_applies

FAMILIES = (data, kernels, tile_ops, workloads, csp, events, layout)
"""Kind family modules in palette order."""

KINDS: dict[str, NodeKind] = {k.id: k for family in FAMILIES for k in family.KINDS}
DSL_KINDS: dict[str, str] = {
    dsl: kind_id for family in FAMILIES for dsl, kind_id in getattr(family, "DSL_KINDS", {}).items()
}
"""DSL object type (``LoopNode.seq``, ``Dense``, ``SendNode``...) -> the kind Import Python
makes of it: each family module contributes its part (``DSL_KINDS``)."""
assert set(DSL_KINDS.values()) <= set(KINDS), "a DSL_KINDS entry names an unknown kind"


def dsl_kind(dsl_type: str) -> str:
    """The kind id Import Python makes of a DSL object of type ``dsl_type`` (``DSL_KINDS``);
    ``UnknownKind`` when no kind family imports it."""
    try:
        return DSL_KINDS[dsl_type]
    except KeyError:
        raise UnknownKind(f"no node kind imports a DSL {dsl_type}") from None


CATEGORY_ORDER = [
    "Data",
    "Axes",
    "Kernels",
    "Workloads",
    "Loops",
    "Control",
    "CSP",
    "Events",
    "Slots",
    "Layout",
    "Tile ops",
    "Internal",
]
SCOPE_KINDS = frozenset(k for k, v in KINDS.items() if v.scope)
"""Kinds owning a body sub-canvas (a kernel definition)."""
FRAME_KINDS = frozenset(k for k, v in KINDS.items() if v.frame)
"""Kinds that hold children (``Node.parent``)."""
KERNEL_KINDS = frozenset(k for k, v in KINDS.items() if v.defines_kernel)
"""Kernel definitions (``NodeKind.defines_kernel``)."""
PROGRAM_KINDS = frozenset(k for k, v in KINDS.items() if v.program)
"""Program frames (``NodeKind.program``): they carry the schedule sheet."""
LOOP_KINDS = frozenset(k for k, v in KINDS.items() if v.binds_vars is not None)
"""Frames binding loop variables (``NodeKind.binds_vars``)."""
SHEET_KINDS = frozenset(k for k, v in KINDS.items() if any(p.name == "target" for p in v.props))
"""Kinds carrying the schedule sheet (``SHEET_PROPS``)."""
DYNAMIC_KINDS = frozenset(k for k, v in KINDS.items() if v.calls_kernel or v.kernel_param)
"""Kinds whose ports depend on the document (see ``ports_of``)."""

kind_lookup.bind(KINDS)


def _reference_table() -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for k in KINDS.values():
        refs = {p.name: (None if p.type == "ref" else "axis") for p in k.props if p.type in ("ref", "axes")}  # fmt: skip
        if refs:
            out[k.id] = refs
    return out


REFERENCE_PROPS: dict[str, dict[str, str | None]] = _reference_table()
"""kind -> {property holding node ids -> None (a plain id) or the id's key in each entry}."""


def reference_props(kind_id: str) -> dict[str, str | None]:
    """The properties of ``kind_id`` that hold node ids (format v2): name -> None for a plain
    id, or the key of the id inside each entry of a list (``axes: [{var, axis}]`` -> "axis")."""
    return REFERENCE_PROPS.get(kind_id, {})


def reference_kinds(kind_id: str, prop: str) -> tuple[str, ...]:
    """The kinds the reference property ``prop`` of ``kind_id`` may name (empty if none)."""
    k = KINDS.get(kind_id)
    if k is None:
        return ()
    for p in k.props:
        if p.name == prop:
            return p.ref_kinds
    return ()


def references(node: Node) -> list[tuple[str, str]]:
    """``[(field, node id)]`` for every reference ``node`` holds (``props.axes[1].axis``)."""
    out: list[tuple[str, str]] = []
    for name, sub in reference_props(node.kind).items():
        value = node.props.get(name)
        if sub is None:
            if isinstance(value, str) and value:
                out.append((f"props.{name}", value))
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                ref = entry.get(sub) if isinstance(entry, dict) else None
                if isinstance(ref, str) and ref:
                    out.append((f"props.{name}[{i}].{sub}", ref))
    return out


def prop_fields(spec: PropSpec) -> tuple[PropSpec, ...]:
    """The fields of a ``dict`` property (the sheet's ``task_graph``)."""
    return spec.fields


def field_applies(prop: str, field: str, value: dict[str, Any]) -> bool:
    """Whether ``field`` of dict property ``prop`` means anything under its other fields."""
    if prop == "task_graph":
        return task_graph_field_applies(value, field)
    return True


def categories() -> list[tuple[str, list[NodeKind]]]:
    """Palette categories in palette order with their kinds (internal kinds left out)."""
    grouped: dict[str, list[NodeKind]] = {c: [] for c in CATEGORY_ORDER}
    for k in KINDS.values():
        if k.in_palette:
            grouped.setdefault(k.category, []).append(k)
    return [(c, ks) for c, ks in grouped.items() if ks]


__all__ = [
    "FAMILIES", "KINDS", "DSL_KINDS", "dsl_kind", "CATEGORY_ORDER", "SCOPE_KINDS", "FRAME_KINDS",
    "KERNEL_KINDS", "PROGRAM_KINDS", "LOOP_KINDS", "SHEET_KINDS", "DYNAMIC_KINDS",
    "REFERENCE_PROPS", "reference_props", "reference_kinds", "references", "prop_fields",
    "field_applies", "categories",
]  # fmt: skip
