"""Parameter sweeps: run one document with one property set to each of several values.

A sweep answers "what does this design parameter cost?" — the number of workers, a tile size,
the dispatch policy — by running one *variant* per value and collecting total cycles, task
count and utilisation. Qt-free (the Studio's Sweep dock and ``python -m app.sweep`` share it):

1. ``discover_params(doc)`` lists every sweepable property, ``SweepParam`` each, labelled
   ``Workload attention · dispatch_n``. Sweepable are the property types a list of values makes sense for
   (numbers, enums, dtypes, booleans, shapes, expressions) plus the tile shape of each ``tile``
   parameter of a kernel (pseudo-property ``params.<name>.tile``), each field of a program
   frame's ``task_graph`` settings (pseudo-property ``task_graph.<field>``) and the worker count
   of each of its pool rows (pseudo-property ``pools.<kernel>.workers``: "how many tiles should
   this kernel get?"; the ``pools`` table itself is a list and not sweepable).
2. ``parse_values(param, text)`` reads ``"1,2,4,8"``, ``"1..16 step 2"``, ``"1..64 *2"``,
   ``"round_robin, hash"``, ``"*"`` (every choice of an enum), ``"16x16, 32x32"``; a bad entry
   (or a number below the parameter's ``minimum``, e.g. 0 workers for a pool) raises
   ``ValueListError`` naming it.
3. ``make_variant(doc, param, value)`` copies the document and sets the property through the
   model's own ``SetProperty`` command (so its validation runs; a pseudo-property sets its whole
   table — ``params`` or ``pools`` — with one entry changed), then exports it with the one
   export function. A value the setter or the exporter rejects gives a variant with ``error``
   set: it is reported for that value and the sweep goes on.
4. Each runnable variant runs in a worker process; ``point_from_result`` turns the finished
   run (``RunOutcome``) into a ``SweepPoint`` using ``pto_wsp.runtime.trace_analysis`` — the
   numbers the Stats panel shows for a run. ``run_variants`` (``run_sweep``: with the variants
   made) is the one loop, for ``python -m app.sweep`` and the dock (in a thread,
   ``app.runner.qt_sweep``) alike: up to ``jobs`` variants at once, results in value order.
   The model imports no other ``app`` package, so it is handed the way to start a run
   (``start``: ``app.runner.job.RunJob``, which runs the exported script in a worker process
   as every Studio run does, or a run on a Dask cluster; ``app.runner.executors``).

Linked parameters: one design parameter is often several properties at once (a tile of T rows
is the kernel's tile shapes, the tiled axis' size and the tensors' shapes), and sweeping one of
them alone gives invalid variants. ``param.with_links([link, ...])`` attaches *linked*
parameters, each with its own value list of the primary's length; variant ``i`` sets the
primary and every link to its ``i``-th value (lock step). The primary is what the plot's x
axis, a variant's and a point's ``value`` and the labels show; ``Variant.linked`` and
``SweepPoint.linked`` carry the links' values. A single parameter is a sweep with no links.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pto_wsp.errors import PtoError
from pto_wsp.fileio import atomic_write
from pto_wsp.runtime.trace_analysis import (
    analyse_trace,
    ns_per_cycle_of,
    num_workers_of,
    program_stats_dict,
)

from . import catalogue, frames, indexing, kernel_param, kind_lookup
from .commands import DocumentEditor, EditError, SetProperty
from .document import Document, Node
from .export import ExportError, export_script, natural_key
from .kinds._base import DTYPES

__all__ = [
    "SWEEPABLE_TYPES",
    "NUMERIC_TYPES",
    "TILE_PROP",
    "POOL_PROP",
    "SweepError",
    "ValueListError",
    "SweepParam",
    "LinkError",
    "Variant",
    "SweepPoint",
    "SweepResult",
    "discover_params",
    "params_of_node",
    "find_param",
    "parse_values",
    "format_value",
    "make_variant",
    "make_variants",
    "set_target",
    "point_from_result",
    "skipped_point",
    "run_sweep",
    "run_variants",
    "Progress",
    "RunOutcome",
    "RunHandle",
    "StartRun",
    "write_csv",
    "values_text",
]

NUMERIC_TYPES = frozenset({"int", "float", "number"})
"""Property types swept along a numeric x axis (the others are categorical)."""
SWEEPABLE_TYPES = frozenset({*NUMERIC_TYPES, "enum", "dtype", "bool", "shape", "expr", "key"})
"""``PropSpec`` types a sweep can set (``PROP_TYPES`` minus names, code, lists...)."""
TILE_PROP = re.compile(r"^params\.(?P<param>[A-Za-z_]\w*)\.tile$")
"""Pseudo-property of a ``kernel.def``: the ``[rows, cols]`` of one of its tile parameters."""
POOL_PROP = re.compile(r"^pools\.(?P<kernel>[A-Za-z_]\w*)\.workers$")
"""Pseudo-property of a program frame: the workers of one kernel's row in its task graph's
pools."""
FIELD_PROP = re.compile(r"^(?P<prop>[A-Za-z_]\w*)\.(?P<field>[A-Za-z_]\w*)$")
"""Pseudo-property ``<dict property>.<field>``: one field of a dict property (a program
frame's ``task_graph.window``)."""
MAX_VALUES = 1000
"""More values than this is a typo (``1..100000``), not a sweep anyone wants to wait for."""

_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_BOOL_WORDS.update({"1": True, "0": False})


class SweepError(PtoError):
    """A sweep cannot be set up: an unknown node or property, or one that is not sweepable."""


class LinkError(SweepError):
    """Linked parameters that cannot run in lock step with their primary: a value list of
    another length, a parameter linked twice (or to itself), a link that has links."""


class ValueListError(SweepError):
    """A value list does not parse. ``entry`` is the 1-based index of the bad entry (0 when the
    list as a whole is wrong), ``text`` that entry as typed."""

    def __init__(self, message: str, *, entry: int = 0, text: str = ""):
        self.entry = entry
        self.text = text
        where = f"value {entry} ({text.strip()!r}): " if entry else ""
        super().__init__(where + message)


# ------------------------------------------------------------------------------------------
# parameters


@dataclass(frozen=True)
class SweepParam:
    """One property of one node to sweep, and the values to sweep it over.

    ``prop`` is a property name of the node's kind, ``params.<name>.tile`` for a kernel
    tile parameter's ``[rows, cols]`` or ``pools.<kernel>.workers`` for the workers of a task
    graph's pool row. ``type`` is the ``PropSpec`` type (``shape`` for a tile, ``int`` for
    pool workers), ``choices`` the enum/dtype/bool choices, ``minimum`` the least number the
    value list may hold (None: the setter alone judges), ``current`` the value in the document
    the parameter was discovered in, ``values`` the values to sweep (empty until parsed).
    ``links`` are the parameters set in lock step with this one (module doc; each has its own
    ``values``, as many as this one's, and no links of its own).
    """

    node_id: str
    prop: str
    label: str
    type: str
    choices: tuple[str, ...] | None = None
    current: Any = None
    values: tuple[Any, ...] = ()
    links: tuple[SweepParam, ...] = ()
    minimum: int | float | None = None

    @property
    def key(self) -> str:
        """``node_id.prop``: how the CLI and saved settings name a parameter."""
        return f"{self.node_id}.{self.prop}"

    @property
    def numeric(self) -> bool:
        """Swept along a numeric axis (numbers); else each value is a category."""
        return self.type in NUMERIC_TYPES

    def with_values(self, values: Iterable[Any]) -> SweepParam:
        return replace(self, values=tuple(values))

    def with_links(self, links: Iterable[SweepParam]) -> SweepParam:
        """This parameter with ``links`` (replacing any it had) set in lock step with it."""
        return replace(self, links=tuple(links))

    def check_links(self) -> None:
        """``LinkError`` naming the first link that cannot run in lock step with this parameter:
        one linked twice or to itself, one with links of its own, or one whose value list is
        not as long as this one's."""
        seen = {self.key: "the swept parameter"}
        for link in self.links:
            if link.key in seen:
                raise LinkError(f"linked parameter {link.label} ({link.key}) is already {seen[link.key]}")  # fmt: skip
            seen[link.key] = "linked"
            if link.links:
                raise LinkError(f"linked parameter {link.label} ({link.key}) has links of its own: link every parameter to the swept one")  # fmt: skip
            if len(link.values) != len(self.values):
                raise LinkError(
                    f"linked parameter {link.label} ({link.key}) has {_count(len(link.values))}, "
                    f"{self.label} has {_count(len(self.values))}: a linked parameter needs one "
                    "value per swept value"
                )

    def linked_values(self, index: int) -> tuple[Any, ...]:
        """The value of every link in variant ``index`` (in ``links`` order)."""
        return tuple(link.values[index] for link in self.links)


def _count(n: int) -> str:
    return f"{n} value{'' if n == 1 else 's'}"


def _node_label(node: Node) -> str:
    title = kind_lookup.kind(node.kind).title
    return f"{title} {node.name}" if node.name else f"{title} #{node.id}"


def _scope_prefix(doc: Document, node: Node) -> str:
    if node.id in doc.graph.nodes:  # on the canvas: the frames around it
        chain = frames.ancestors(doc, node.id)
    else:  # in a kernel body: the kernel
        found = doc.locate(node.id)
        if found is None or found[2] is None:
            return ""
        chain = doc.scope_chain(found[1])
    return "".join(f"{s.name or _node_label(s)} › " for s in chain)


def _choices(spec: Any) -> tuple[str, ...] | None:
    if spec.type == "dtype":
        return spec.choices or DTYPES
    if spec.type == "bool":
        return ("False", "True")
    return spec.choices


def params_of_node(doc: Document, node: Node) -> list[SweepParam]:
    """The sweepable properties of ``node``, in the kind's property order."""
    k = catalogue.KINDS.get(node.kind)
    if k is None:
        return []
    base = _scope_prefix(doc, node) + _node_label(node)
    out: list[SweepParam] = []
    for spec in k.props:
        fields = getattr(spec, "fields", ())
        if spec.type == "dict" and fields:
            settings = node.props.get(spec.name)
            settings = settings if isinstance(settings, dict) else {}
            for f in fields:
                if f.type in SWEEPABLE_TYPES:
                    prop = f"{spec.name}.{f.name}"
                    current = settings.get(f.name, f.default)
                    out.append(SweepParam(node.id, prop, f"{base} · {spec.name} {f.name}", f.type, _choices(f), current))  # fmt: skip
            continue
        if spec.type not in SWEEPABLE_TYPES:
            continue
        current = node.props.get(spec.name, spec.default)
        out.append(SweepParam(node.id, spec.name, f"{base} · {spec.name}", spec.type, _choices(spec), current))  # fmt: skip
    if node.kind in catalogue.KERNEL_KINDS:
        for p in indexing.params_of(node):
            if p.get("kind") != "tile":
                continue
            q = kernel_param.normalize_param(p)
            prop = f"params.{q['name']}.tile"
            current = [int(q["rows"]), int(q["cols"])]
            out.append(SweepParam(node.id, prop, f"{base} · {q['name']} tile", "shape", None, current))  # fmt: skip
    if isinstance(node.props.get("task_graph"), dict):
        out.extend(_pool_params(node, base))
    return out


def _pool_params(node: Node, base: str) -> list[SweepParam]:
    """``pools.<kernel>.workers`` per row of the task graph's ``pools`` table. Rows that do not
    name a kernel (or name one twice) cannot be addressed and are left out: the validator
    reports them, and a variant of such a document fails its export anyway."""
    pools = (node.props.get("task_graph") or {}).get("pools")
    if not isinstance(pools, list):
        return []
    out: list[SweepParam] = []
    seen: set[str] = set()
    for row in pools:
        kernel = row.get("kernel") if isinstance(row, dict) else None
        if not isinstance(kernel, str) or kernel in seen:
            continue
        prop = f"pools.{kernel}.workers"
        if POOL_PROP.match(prop) is None:
            continue
        seen.add(kernel)
        label = f"{base} · pools {kernel} workers"
        out.append(SweepParam(node.id, prop, label, "int", None, row.get("workers"), minimum=1))
    return out


def _sort_key(param: SweepParam, kind_id: str) -> tuple[int, tuple[Any, ...]]:
    first = 0 if kind_id in catalogue.PROGRAM_KINDS else 1  # the schedules: swept most
    return first, natural_key(param.label)


def discover_params(doc: Document) -> list[SweepParam]:
    """Every sweepable property of every node: program frames (their sheets) first, then by
    label."""
    found: list[tuple[SweepParam, str]] = []
    for node, _graph, _owner in doc.walk():
        found.extend((p, node.kind) for p in params_of_node(doc, node))
    found.sort(key=lambda pk: _sort_key(*pk))
    return [p for p, _k in found]


def find_param(doc: Document, node: str, prop: str) -> SweepParam:
    """The parameter ``prop`` of the node with id (or unique name) ``node``; ``SweepError``
    naming what is missing or not sweepable otherwise."""
    target = _find_node(doc, node)
    params = params_of_node(doc, target)
    for p in params:
        if p.prop == prop:
            return p
    k = catalogue.KINDS.get(target.kind)
    what = f"{target.id} ({kind_lookup.display_name(target.kind)})"
    known = {s.name for s in k.props} if k else set()
    names = ", ".join(p.prop for p in params) or "none"
    pool = POOL_PROP.match(prop)
    if pool is not None and isinstance(target.props.get("task_graph"), dict):
        raise SweepError(
            f"{what} has no pool for kernel {pool.group('kernel')!r}: add "
            f"the row to its pools first; sweepable: {names}"
        )
    if prop in known:
        raise SweepError(f"property {prop!r} of {what} cannot be swept; sweepable: {names}")
    raise SweepError(f"{what} has no property {prop!r}; sweepable: {names}")


def _find_node(doc: Document, ident: str) -> Node:
    found = doc.locate(ident)
    if found is not None:
        return found[0]
    named = [n for n, _g, _o in doc.walk() if n.name == ident]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(sorted(n.id for n in named))
        raise SweepError(f"node name {ident!r} is ambiguous ({ids}): give the node id")
    raise SweepError(f"no node with id or name {ident!r} in document {doc.name!r}")


# ------------------------------------------------------------------------------------------
# value lists


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets and quotes (``t.get("a", 0)`` stays one entry)."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch in ",;" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(
    rf"^(?P<a>{_NUM})\s*\.\.\s*(?P<b>{_NUM})"
    rf"(?:\s*(?:step\s+(?P<s>{_NUM})|[*x×]\s*(?P<f>{_NUM})))?$",
    re.IGNORECASE,
)


def _number(text: str, integer: bool) -> int | float:
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    if integer:
        raise ValueError("expected an integer")
    try:
        value = float(t)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _range(m: re.Match[str], integer: bool) -> list[int | float]:
    a, b = _number(m.group("a"), integer), _number(m.group("b"), integer)
    if m.group("f") is not None:
        f = _number(m.group("f"), integer)
        if f <= 1 or a <= 0:
            raise ValueError("a geometric range needs a start > 0 and a factor > 1")
        out: list[int | float] = []
        v: int | float = a
        while v <= b and len(out) <= MAX_VALUES:
            out.append(v)
            v = v * f
        return out
    step = _number(m.group("s"), integer) if m.group("s") is not None else 1
    if step == 0:
        raise ValueError("step must not be 0")
    if (b - a) * step < 0:
        raise ValueError(f"step {step} never gets from {a} to {b}")
    count = int(math.floor((b - a) / step + 1e-9)) + 1
    if count > MAX_VALUES:
        raise ValueError(f"{count} values: more than {MAX_VALUES}")
    if integer:
        return [int(a + i * step) for i in range(count)]
    return [round(a + i * step, 12) for i in range(count)]


def _shape(text: str) -> list[int]:
    t = text.strip().strip("[]()").strip()
    dims = [d for d in re.split(r"\s*[x×,]\s*|\s+", t) if d]
    if not dims:
        raise ValueError("expected a shape such as 16x16 or [16, 16]")
    try:
        return [int(d) for d in dims]
    except ValueError:
        raise ValueError("expected a shape of integers such as 16x16 or [16, 16]") from None


def _choice(param: SweepParam, text: str) -> Any:
    t = text.strip().strip("\"'")
    if param.type == "bool":
        if t.lower() in _BOOL_WORDS:
            return _BOOL_WORDS[t.lower()]
        raise ValueError("expected true or false")
    choices = param.choices or ()
    if t in choices:
        return t
    folded = [c for c in choices if c.lower() == t.lower()]
    if len(folded) == 1:
        return folded[0]
    raise ValueError(f"expected one of {', '.join(choices)}")


def _all_choices(param: SweepParam) -> list[Any]:
    if param.type == "bool":
        return [False, True]
    return list(param.choices or ())


def parse_values(param: SweepParam, text: str) -> list[Any]:
    """The values ``text`` lists for ``param`` (see the module doc); ``ValueListError`` names
    the first bad entry. Types are checked here; whether a value is *valid* for the document
    (a positive size, a shape that fits) is for the variant's setter and exporter to say."""
    if not text.strip():
        raise ValueListError("no values: list them separated by commas, e.g. 1, 2, 4")
    values: list[Any] = []
    seen: dict[str, int] = {}  # value as shown -> the entry that listed it first
    for index, entry in enumerate(_split_top(text), start=1):
        if not entry.strip():
            raise ValueListError("empty entry (two commas in a row?)", entry=index, text=entry)
        try:
            parsed = _parse_entry(param, entry)
        except ValueError as err:
            raise ValueListError(str(err), entry=index, text=entry) from None
        for value in parsed:
            shown = format_value(value)
            if shown in seen:
                first = seen[shown]
                raise ValueListError(
                    f"{shown} is already listed (value {first})", entry=index, text=entry
                )
            seen[shown] = index
        values.extend(parsed)
        if len(values) > MAX_VALUES:
            raise ValueListError(f"more than {MAX_VALUES} values", entry=index, text=entry)
    return values


def _parse_entry(param: SweepParam, entry: str) -> list[Any]:
    t = entry.strip()
    if param.type in NUMERIC_TYPES:
        integer = param.type == "int"
        m = _RANGE.match(t)
        numbers = _range(m, integer) if m else [_number(t, integer)]
        low = param.minimum
        if low is not None:
            below = next((v for v in numbers if v < low), None)
            if below is not None:
                what = "an integer" if integer else "a number"
                raise ValueError(f"expected {what} >= {format_value(low)}, got {format_value(below)}")  # fmt: skip
        return numbers
    if param.type in ("enum", "dtype", "bool"):
        return _all_choices(param) if t == "*" else [_choice(param, t)]
    if param.type == "shape":
        return [_shape(t)]
    if param.type in ("expr", "key"):
        return [t]
    raise ValueError(f"properties of type {param.type} cannot be swept")


def format_value(value: Any) -> str:
    """How a swept value is shown in tables, plots and CSV (``16x16`` for shapes)."""
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ------------------------------------------------------------------------------------------
# variants


@dataclass(frozen=True)
class Variant:
    """The document with the swept property set to ``value`` (and each linked parameter to its
    value in ``linked``); ``error`` when it cannot run (the setter or the exporter refused it),
    else ``source`` is its exported script."""

    value: Any
    document: Document | None
    source: str = ""
    error: str = ""
    error_node: str = ""
    linked: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.error


def set_target(doc: Document, target: str) -> Document:
    """A copy of ``doc`` whose every program compiles for ``target`` (set via ``SetProperty``)."""
    ed = DocumentEditor(doc.copy())
    programs = [
        n
        for n in ed.doc.graph.nodes.values()
        if n.kind in catalogue.PROGRAM_KINDS and n.props.get("target")
    ]
    if not programs:
        raise SweepError(
            f"document {doc.name!r} compiles no workload (no target on a schedule sheet): "
            "nothing to run"
        )
    for n in programs:
        try:
            ed.apply(SetProperty(n.id, "target", target))
        except EditError as err:
            raise SweepError(f"target {target!r}: {err}") from None
    return ed.doc


def _set(ed: DocumentEditor, param: SweepParam, value: Any) -> None:
    pool = POOL_PROP.match(param.prop)
    found = ed.doc.locate(param.node_id)
    if pool is not None and found is not None and isinstance(found[0].props.get("task_graph"), dict):  # fmt: skip
        _set_pool(ed, param.node_id, pool.group("kernel"), value)
        return
    field = FIELD_PROP.match(param.prop)
    if field is not None and found is not None and field.group("prop") != "params":
        settings = found[0].props.get(field.group("prop"))
        if isinstance(settings, dict):
            ed.apply(SetProperty(param.node_id, field.group("prop"), {**settings, field.group("field"): value}))  # fmt: skip
            return
    m = TILE_PROP.match(param.prop)
    if m is None:
        ed.apply(SetProperty(param.node_id, param.prop, value))
        return
    node = ed.doc.node(param.node_id)
    params = [dict(p) for p in node.props.get("params", [])]
    for p in params:
        if p.get("name") == m.group("param"):
            if not isinstance(value, list) or len(value) != 2:
                raise EditError(f"{param.node_id}.params: a tile shape is rows x cols, got {format_value(value)}")  # fmt: skip
            p["rows"], p["cols"] = value
            break
    else:
        raise EditError(f"{param.node_id}: kernel has no parameter {m.group('param')!r}")
    ed.apply(SetProperty(param.node_id, "params", params))


def _set_pool(ed: DocumentEditor, node_id: str, kernel: str, workers: Any) -> None:
    """Set the workers of ``kernel``'s pool row through the ``pools`` property's own setter
    (a copy of the table with that one row changed), so the registry's checks run."""
    settings = dict(ed.doc.node(node_id).props.get("task_graph") or {})
    pools = [dict(row) if isinstance(row, dict) else row for row in settings.get("pools") or []]  # fmt: skip
    for row in pools:
        if isinstance(row, dict) and row.get("kernel") == kernel:
            row["workers"] = workers
            break
    else:
        raise EditError(f"{node_id}.props.task_graph.pools: no pool for kernel {kernel!r}")
    ed.apply(SetProperty(node_id, "task_graph", {**settings, "pools": pools}))


def make_variant(doc: Document, param: SweepParam, value: Any, linked: Sequence[Any] = ()) -> Variant:  # fmt: skip
    """A copy of ``doc`` with ``param`` set to ``value`` and each of ``param.links`` to its
    value in ``linked`` (one per link, in order), exported (see the module doc). Every property
    is set before the export checks the whole: only the combination has to be consistent."""
    linked = tuple(linked)
    if len(linked) != len(param.links):
        raise LinkError(f"{param.label} has {len(param.links)} linked parameters, {len(linked)} linked values were given")  # fmt: skip
    ed = DocumentEditor(doc.copy())
    for target, v in ((param, value), *zip(param.links, linked, strict=True)):
        try:
            _set(ed, target, v)
        except EditError as err:
            return Variant(value, None, error=str(err), error_node=target.node_id, linked=linked)  # fmt: skip
    try:
        source = export_script(ed.doc).source
    except ExportError as err:
        return Variant(value, ed.doc, error=str(err), error_node=err.node_id, linked=linked)
    return Variant(value, ed.doc, source, linked=linked)


def make_variants(doc: Document, param: SweepParam) -> list[Variant]:
    """One variant per value of ``param``, its links set in lock step (``SweepError`` when it
    has no values, ``LinkError`` when a link does not fit: ``SweepParam.check_links``)."""
    if not param.values:
        raise SweepError(f"no values to sweep {param.label} over")
    param.check_links()
    return [make_variant(doc, param, v, param.linked_values(i)) for i, v in enumerate(param.values)]  # fmt: skip


# ------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class SweepPoint:
    """What one value gave. ``status``: ``ok``, ``invalid`` (the setter or exporter refused
    the value), ``failed`` (the run reported errors or crashed), ``no-trace`` (ran without a
    per-task trace, e.g. an emit-only target), ``cancelled`` or ``skipped`` (the sweep was
    cancelled before it came to this value). ``lanes`` is ``(worker, utilisation)`` per
    worker that ran a task; utilisation is busy cycles / makespan, in [0, 1]. ``linked``: the
    linked parameters' values of this variant (``SweepParam.links`` order)."""

    value: Any
    status: str
    total_cycles: int | None = None
    task_count: int | None = None
    mean_utilisation: float | None = None
    lanes: tuple[tuple[int, float], ...] = ()
    error: str = ""
    error_node: str = ""
    artifact_dir: Path | None = None
    result: Any = field(default=None, repr=False, compare=False)
    """The ``RunResult`` of the variant's run (None when it did not run)."""
    linked: tuple[Any, ...] = ()
    ns_per_cycle: float | None = None
    """The run's cost-table clock (simulated ns per cycle; None when its stats record none).
    Two cost tables count cycles of different clocks (``CostTable.from_ptoisa`` runs at the
    architecture's): a sweep over tables compares ``makespan_ns``, not ``total_cycles``."""

    @property
    def makespan_ns(self) -> float | None:
        """``total_cycles`` in simulated nanoseconds at the run's clock."""
        if self.total_cycles is None or self.ns_per_cycle is None:
            return None
        return self.total_cycles * self.ns_per_cycle

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def value_text(self) -> str:
        return format_value(self.value)

    @property
    def linked_texts(self) -> tuple[str, ...]:
        """The linked values as tables and CSV show them."""
        return tuple(format_value(v) for v in self.linked)


class RunError(Protocol):
    """One error of a finished run (``app.runner.job.RunDiagnostic``)."""

    @property
    def kind(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def node_id(self) -> str | None: ...


class RunOutcome(Protocol):
    """What a sweep reads of a finished run (``app.runner.job.RunResult`` is one): whether it
    ran, its errors, its stats JSON and per-task trace, where its artifacts are."""

    @property
    def ok(self) -> bool: ...
    @property
    def cancelled(self) -> bool: ...
    @property
    def errors(self) -> Sequence[RunError]: ...
    @property
    def stderr_tail(self) -> str: ...
    @property
    def stats(self) -> dict[str, Any]: ...
    @property
    def trace(self) -> Any: ...
    @property
    def kernel_names(self) -> list[str]: ...
    @property
    def artifact_dir(self) -> Path: ...


class RunHandle(Protocol):
    """A started run (``app.runner.job.RunJob``): polled until done, cancellable."""

    def poll(self) -> bool: ...
    def cancel(self, wait: bool = False) -> None: ...
    def result(self) -> RunOutcome: ...


StartRun = Callable[[Document, Path], RunHandle]
"""Starts a run of a document with its artifacts in a directory (``app.runner.job.RunJob``)."""

Progress = Callable[[int, int, int, "SweepPoint"], None]
"""``progress(done, total, index, point)``: value ``index`` finished as ``point``, the
``done``-th of ``total``."""


def point_from_result(value: Any, result: RunOutcome, linked: Sequence[Any] = ()) -> SweepPoint:
    """The ``SweepPoint`` of a finished run (stats as the Stats panel shows them); ``linked``
    are the variant's linked values."""
    return replace(_point(value, result), linked=tuple(linked))


def _point(value: Any, result: RunOutcome) -> SweepPoint:
    if result.cancelled:
        return SweepPoint(value, "cancelled", error="cancelled", artifact_dir=result.artifact_dir, result=result)  # fmt: skip
    if not result.ok:
        first = next(iter(result.errors), None)
        message = str(first.message if first else result.stderr_tail or "the run failed")
        kind = f"{first.kind}: " if first else ""
        status = "invalid" if first is not None and first.kind == "ExportError" else "failed"
        node = (first.node_id or "") if first else ""
        return SweepPoint(value, status, error=kind + message, error_node=node, artifact_dir=result.artifact_dir, result=result)  # fmt: skip
    stats = program_stats_dict(result.stats)
    clock = ns_per_cycle_of(result.stats)
    if result.trace is None:
        return SweepPoint(
            value,
            "no-trace",
            total_cycles=int(stats["total_cycles"]) if result.stats.get("executed") else None,
            task_count=int(stats["task_count"]) if result.stats.get("executed") else None,
            error="the run left no per-task trace (not executed on this target?)",
            artifact_dir=result.artifact_dir,
            result=result,
            ns_per_cycle=clock,
        )
    # Over every configured worker: one that ran nothing is idle, and lowers the mean.
    analysis = analyse_trace(result.trace, result.kernel_names, num_workers_of(result.stats))
    return SweepPoint(
        value,
        "ok",
        total_cycles=int(stats["total_cycles"]),
        task_count=int(stats["task_count"]),
        mean_utilisation=float(analysis.mean_utilisation),
        lanes=tuple((w.worker, float(w.utilisation)) for w in analysis.workers),
        artifact_dir=result.artifact_dir,
        result=result,
        ns_per_cycle=clock,
    )


def skipped_point(variant: Variant, status: str = "skipped") -> SweepPoint:
    """The point of a variant that never ran: refused (``invalid``) or not reached."""
    if variant.error:
        return SweepPoint(variant.value, "invalid", error=variant.error, error_node=variant.error_node, linked=variant.linked)  # fmt: skip
    return SweepPoint(variant.value, status, error="the sweep was cancelled before this value", linked=variant.linked)  # fmt: skip


@dataclass
class SweepResult:
    """A sweep's parameter (with its links) and one point per value, in value order."""

    param: SweepParam
    points: list[SweepPoint] = field(default_factory=list)
    cancelled: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.cancelled and all(p.ok for p in self.points)

    def lane_ids(self) -> list[int]:
        """Every worker that appears in some point (the CSV's per-lane columns)."""
        return sorted({w for p in self.points for w, _u in p.lanes})


CSV_COLUMNS = ("value", "status", "total_cycles", "makespan_ns", "task_count", "mean_utilisation")


def write_csv(result: SweepResult, path: str | os.PathLike[str]) -> Path:
    """Write one row per value: the value (column ``<prop>``), one column per linked parameter
    (``<node>.<prop>``), the stats (the makespan also in ns at the run's clock), one ``worker_<k>`` utilisation column per lane, ``error``;
    atomically, so a failed write never leaves half a file."""
    target = Path(path)
    lanes = result.lane_ids()
    f = io.StringIO(newline="")  # the rows go to memory, then to the file in one atomic write
    w = csv.writer(f)
    links = [link.key for link in result.param.links]
    w.writerow([result.param.prop, *links, *CSV_COLUMNS[1:], *(f"worker_{k}" for k in lanes), "error"])  # fmt: skip
    for p in result.points:
        per_lane = dict(p.lanes)
        w.writerow(
            [
                p.value_text,
                *p.linked_texts,
                p.status,
                "" if p.total_cycles is None else p.total_cycles,
                "" if p.makespan_ns is None else f"{p.makespan_ns:.6g}",
                "" if p.task_count is None else p.task_count,
                "" if p.mean_utilisation is None else f"{p.mean_utilisation:.6f}",
                *(f"{per_lane[k]:.6f}" if k in per_lane else "" for k in lanes),
                p.error,
            ]
        )
    atomic_write(target, f.getvalue())
    return target


# ------------------------------------------------------------------------------------------
# the headless loop


def run_sweep(
    doc: Document,
    param: SweepParam,
    workdir: str | os.PathLike[str],
    *,
    start: StartRun,
    jobs: int = 1,
    target: str | None = None,
    progress: Progress | None = None,
    started: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
) -> SweepResult:
    """Run every value of ``param`` (its links in lock step): ``target`` recompiles every
    program for that target first, then ``run_variants`` runs them (see there)."""
    base = set_target(doc, target) if target else doc
    return run_variants(
        param,
        make_variants(base, param),
        workdir,
        start=start,
        jobs=jobs,
        progress=progress,
        started=started,
        cancel=cancel,
        timeout_s=timeout_s,
    )


@dataclass
class _Running:
    index: int
    job: RunHandle
    deadline: float | None
    timed_out: bool = False


def run_variants(
    param: SweepParam,
    variants: Sequence[Variant],
    workdir: str | os.PathLike[str],
    *,
    start: StartRun,
    jobs: int = 1,
    progress: Progress | None = None,
    started: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
) -> SweepResult:
    """Run ``variants`` (``make_variants(doc, param)``), at most ``jobs`` at once, each started
    by ``start(document, artifact_dir)``: ``app.runner.job.RunJob`` (a worker process on this
    machine) or a run on a Dask cluster (``app.runner.cluster``). The pool of 1, the pool of N
    and the cluster are this one loop with another ``start`` and ``jobs``.

    Variants start in value order; ``workdir/<k>-<value>`` receives run k's artifacts.
    ``started(index)`` follows the start of a run, ``progress(done, total, index, point)``
    each finished value (in the order they finish: a refused value at once). Setting
    ``cancel`` stops the running variants and skips the rest. ``timeout_s`` bounds each run
    from its start (a run over it is cancelled and reported failed). An exception here (Ctrl+C
    in the CLI) cancels every running variant and waits for it before it propagates: no
    worker outlives the sweep. The result's points are in value order.
    """
    if jobs < 1:
        raise SweepError(f"jobs must be at least 1, got {jobs}")
    began = time.monotonic()
    root = Path(workdir)
    total = len(variants)
    points: list[SweepPoint | None] = [None] * total
    done = 0

    def record(index: int, point: SweepPoint) -> None:
        nonlocal done
        points[index] = point
        done += 1
        if progress is not None:
            progress(done, total, index, point)

    waiting = list(range(total))
    waiting.reverse()  # popped from the end: value order
    running: list[_Running] = []
    try:
        while waiting or running:
            stopping = cancel is not None and cancel.is_set()
            while waiting and (stopping or len(running) < jobs):
                k = waiting.pop()
                variant = variants[k]
                if stopping or not variant.ok:
                    record(k, skipped_point(variant))
                    continue
                assert variant.document is not None
                job = start(variant.document, root / _slug(k + 1, variant.value))
                deadline = None if timeout_s is None else time.monotonic() + timeout_s
                running.append(_Running(k, job, deadline))
                if started is not None:
                    started(k)
            for run in list(running):
                if run.job.poll():
                    running.remove(run)
                    record(run.index, _finished_point(run, variants[run.index], cancel, timeout_s))  # fmt: skip
                elif stopping:
                    run.job.cancel()
                elif run.deadline is not None and time.monotonic() >= run.deadline and not run.timed_out:  # fmt: skip
                    run.timed_out = True
                    run.job.cancel()
            if running:
                time.sleep(0.02)
    except BaseException:  # Ctrl+C in the CLI: no worker (own process group) may outlive us
        for run in running:
            run.job.cancel()
        for run in running:
            run.job.cancel(wait=True)
        raise
    out = SweepResult(param, [p for p in points if p is not None])
    out.cancelled = (cancel is not None and cancel.is_set()) or any(
        p.status == "cancelled" for p in out.points
    )
    out.duration_s = time.monotonic() - began
    return out


def _finished_point(run: _Running, variant: Variant, cancel: threading.Event | None, timeout_s: float | None) -> SweepPoint:  # fmt: skip
    point = point_from_result(variant.value, run.job.result(), variant.linked)
    if run.timed_out and not (cancel is not None and cancel.is_set()):
        return replace(point, status="failed", error=f"the run took longer than {timeout_s:g} s")
    return point


def _slug(k: int, value: Any) -> str:
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", format_value(value))[:40]
    return f"{k:03d}-{text}"


def values_text(values: Sequence[Any]) -> str:
    """Values as the value field shows them (``parse_values`` reads this back)."""
    return ", ".join(format_value(v) for v in values)
