"""The details panel of the timeline's selected slice: what the task was, touched and waited on.

For the slice selected by a click, a search hit or ``go_to_row`` it shows the kernel, the loop
indices, worker, stream, start / end / duration (cycles, and time at the run's clock), the tensor
regions the task read and wrote, and its predecessors and successors as links; a link activates
``link_activated(row)`` (the run panel selects that task in the timeline, which pans to it, and
the panel follows). Regions and dependencies come from ``pto_wsp.runtime.task_regions`` (the one
trace model), computed on demand for the selected task; what that module cannot know it says,
and the panel shows its words.

The panel is a list of *sections* (``SECTIONS``; ``add_section`` inserts more): each is a
function of a ``SliceContext`` returning a title and an HTML body, or None to show nothing.
"Why it waited" shows the simulator's gating cause of the task, the task whose end set it (a
link), the tensor region for a data cause, and the start-delay breakdown
(``pto_wsp.runtime.trace_waits.start_delay``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtWidgets

from pto_wsp.runtime.task_regions import Link, TaskLinks, TaskRegions
from pto_wsp.runtime.trace import kernel_name, loop_indices, validate_trace
from pto_wsp.runtime.trace_waits import start_delay

__all__ = [
    "SliceContext",
    "Section",
    "SliceDetailsPanel",
    "EMPTY_TEXT",
    "LINKS_SHOWN",
    "summary_section",
    "regions_section",
    "dependencies_section",
    "link_to_timeline",
]

EMPTY_TEXT = "Select a slice in the timeline (click, search or a link) to see its details."
LINKS_SHOWN = 24  # links listed per direction; the rest are counted
_ACCESS_TEXT = {"read": "reads", "write": "writes", "readwrite": "reads and writes"}


@dataclass
class SliceContext:
    """What a section may read about the selected slice (``row`` of ``trace``)."""

    trace: np.ndarray
    row: int
    kernel_names: Sequence[str]
    ns_per_cycle: float | None
    regions: TaskRegions | None
    _links: TaskLinks | None = None

    @property
    def record(self) -> np.void:
        return self.trace[self.row]

    def name_of(self, row: int) -> str:
        rec = self.trace[row]
        idx = loop_indices(rec)
        name = kernel_name(int(rec["kernel"]), self.kernel_names)
        return f"{name}[{', '.join(map(str, idx))}]" if idx else name

    def links(self) -> TaskLinks | None:
        """The task's predecessors and successors (computed once per selection)."""
        if self.regions is None:
            return None
        if self._links is None:
            self._links = self.regions.links(self.row)
        return self._links


Section = Callable[[SliceContext], tuple[str, str] | None]  # (title, HTML body) or nothing


def _time(cycles: int, ns_per_cycle: float | None) -> str:
    if ns_per_cycle is None:
        return ""
    ns = cycles * ns_per_cycle
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if abs(ns) >= scale:
            return f" ({ns / scale:.3g} {unit})"
    return f" ({ns:.3g} ns)"


def summary_section(ctx: SliceContext) -> tuple[str, str] | None:
    rec = ctx.record
    start, end = int(rec["start"]), int(rec["end"])
    ns = ctx.ns_per_cycle
    stream = int(rec["stream"])
    rows = [
        ("kernel", html.escape(kernel_name(int(rec["kernel"]), ctx.kernel_names))),
        ("indices", html.escape(", ".join(map(str, loop_indices(rec))) or "none")),
        ("task", f"{int(rec['task']):,} (submission index)"),
        ("worker", str(int(rec["worker"]))),
        ("stream", str(stream) if stream >= 0 else "none"),
        ("start", f"{start:,} cycles{_time(start, ns)}"),
        ("end", f"{end:,} cycles{_time(end, ns)}"),
        ("duration", f"{end - start:,} cycles{_time(end - start, ns)}"),
    ]
    body = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows)
    return ctx.name_of(ctx.row), f"<table>{body}</table>"


def _notes(notes: Sequence[str]) -> str:
    return "".join(f"<p><i>{html.escape(n)}</i></p>" for n in notes)


def regions_section(ctx: SliceContext) -> tuple[str, str] | None:
    if ctx.regions is None:
        return "Regions", _notes(
            ["not known: this run did not record its call sites (run it from the Studio)"]
        )
    ans = ctx.regions.regions(ctx.row)
    items = "".join(
        f"<li>{_ACCESS_TEXT.get(r.access, r.access)} <code>{html.escape(r.text())}</code> "
        f"({html.escape(r.param)}, {r.size:,} elements)</li>"
        for r in ans.regions
    )
    where = f"<p>call at {html.escape(ans.site.loc)}</p>" if ans.site and ans.site.loc else ""
    body = (f"<ul>{items}</ul>" if items else "") + _notes(ans.notes)
    if not items and not ans.notes:
        body = "<p>none (the call passes no tensor)</p>"
    return "Regions", where + body


def _link_list(ctx: SliceContext, links: Sequence[Link]) -> str:
    if not links:
        return "<p>none</p>"
    items = []
    for lk in links[:LINKS_SHOWN]:
        why = f"{lk.kind} on {lk.tensor}" if lk.tensor else "P.seq / sequential step"
        items.append(
            f'<li><a href="row:{lk.row}">{html.escape(ctx.name_of(lk.row))}</a> '
            f"task {lk.task:,} — {html.escape(why)}</li>"
        )
    more = len(links) - LINKS_SHOWN
    tail = f"<p>… and {more:,} more</p>" if more > 0 else ""
    return f"<ul>{''.join(items)}</ul>{tail}"


def dependencies_section(ctx: SliceContext) -> tuple[str, str] | None:
    links = ctx.links()
    if links is None:
        return "Dependencies", _notes(["not known: this run did not record its call sites"])
    body = (
        "<p><b>Predecessors</b> by data and P.seq / sequential step (what it needed; the "
        "worker and stream order are in Why it waited)</p>"
        + _link_list(ctx, links.preds)
        + "<p><b>Successors</b> by data and step (what needed it)</p>"
        + _link_list(ctx, links.succs)
        + _notes(links.notes)
    )
    return "Dependencies", body


def _task_link(ctx: SliceContext, row: int | None, task: int | None) -> str:
    if row is None or task is None:
        return "no task (not produced by a task's end)"
    return f'<a href="row:{row}">{html.escape(ctx.name_of(row))}</a> (task {task:,})'


def _data_region(ctx: SliceContext, gate_row: int, kind: str) -> str:
    """Which tensor region a data cause waited on, recomputed on demand: the gate's view of
    the tensor that its dependency link names (``""`` when regions are not known)."""
    links = ctx.links()
    if links is None or ctx.regions is None:
        return ""
    tensors = {lk.tensor for lk in links.preds if lk.row == gate_row and lk.kind == kind}
    tensors.discard("")
    if not tensors:
        return ""
    views = [r.text() for r in ctx.regions.regions(gate_row).regions if r.tensor in tensors]
    shown = views or sorted(tensors)
    return " on " + ", ".join(f"<code>{html.escape(v)}</code>" for v in shown)


def _wait_sentence(cause: str, wait: int, time: str) -> str:
    """What ``StartDelay.wait`` means for this cause (``trace_waits``' module doc): for a busy
    worker or stream, the time the task queued behind that lane's earlier tasks (the lane was
    busy, not idle); for any other cause, the time its worker and stream sat free before it."""
    if cause in ("worker", "stream"):
        return (
            f"Its {cause} was busy with earlier tasks: it queued up to {wait:,} cycles{time} "
            f"behind them."
            if wait
            else f"It did not queue: its {cause} was free as soon as nothing else held it."
        )
    if wait:
        return f"Its worker sat idle {wait:,} cycles{time} before it while this held it."
    return "No idle wait: its worker and stream were busy until it started."


def wait_section(ctx: SliceContext) -> tuple[str, str] | None:
    """Why it waited: the gating cause the simulator recorded (the latest bound on its start,
    ties by the cause list's order), the task whose end set it, and the start-delay breakdown
    (the bounds the trace lets us recompute: ``pto_wsp.runtime.trace_waits.start_delay``)."""
    d = start_delay(ctx.trace, ctx.row)
    if d.cause.name == "none":
        return "Why it waited", "<p>It did not wait: it started at cycle 0.</p>"
    region = ""
    if d.gate_row is not None and d.cause.name in ("raw", "war", "waw"):
        region = _data_region(ctx, d.gate_row, d.cause.name.upper())
    head = (
        f"<p><b>{html.escape(d.cause.label)}</b>{region}: {html.escape(d.cause.description)}."
        f"<br>Gated by {_task_link(ctx, d.gate_row, d.gate_task)}"
        + (f", which ended at cycle {d.gate_end:,}" if d.gate_end is not None else "")
        + ".<br>"
        + _wait_sentence(d.cause.name, d.wait, _time(d.wait, ctx.ns_per_cycle))
        + "</p>"
    )
    rows = "".join(
        f"<tr><td>{'&#9654; ' if b.gating else ''}{html.escape(b.label)}</td>"
        f"<td align='right'>{b.cycle:,}</td><td>{_task_link(ctx, b.row, b.task)}</td></tr>"
        for b in d.bounds
    )
    table = (
        "<p><b>Start-delay breakdown</b> (the start is the latest bound; &#9654; gating)</p>"
        f"<table><tr><th align='left'>bound</th><th>cycle</th><th align='left'>from</th></tr>"
        f"{rows}</table>"
    )
    return "Why it waited", head + table


SECTIONS: tuple[Section, ...] = (
    summary_section,
    wait_section,
    regions_section,
    dependencies_section,
)


class SliceDetailsPanel(QtWidgets.QWidget):
    """The selected slice's details; ``show_row(None)`` shows the empty state.

    Signal ``link_activated(row)``: a predecessor or successor link was clicked.
    """

    link_activated = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.sections: list[Section] = list(SECTIONS)
        self._trace: np.ndarray | None = None
        self._kernel_names: list[str] = []
        self._regions: TaskRegions | None = None
        self._ns_per_cycle: float | None = None
        self.row: int | None = None
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setObjectName("sliceDetails")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_anchor)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.browser)
        self.show_row(None)

    def add_section(self, section: Section, before: Section | None = None) -> None:
        """Adds a section (at the end, or before ``before``) and redraws."""
        i = self.sections.index(before) if before in self.sections else len(self.sections)
        self.sections.insert(i, section)
        self.show_row(self.row)

    def set_run(
        self,
        trace: np.ndarray | None,
        kernel_names: Sequence[str],
        regions: TaskRegions | None = None,
        ns_per_cycle: float | None = None,
    ) -> None:
        """A new run: nothing selected until the timeline says so."""
        self._trace = validate_trace(trace) if trace is not None else None
        self._kernel_names = list(kernel_names)
        self._regions = regions
        self._ns_per_cycle = ns_per_cycle
        self.show_row(None)

    def set_clock(self, ns_per_cycle: float | None) -> None:
        self._ns_per_cycle = ns_per_cycle
        self.show_row(self.row)

    @property
    def text(self) -> str:
        """The panel's plain text (what a user reads)."""
        return self.browser.toPlainText()

    def show_row(self, row: int | None) -> None:
        """Shows trace row ``row`` (None, or no run: the empty state)."""
        trace = self._trace
        if row is None or trace is None or not 0 <= row < len(trace):
            self.row = None
            self.browser.setHtml(f"<p><i>{html.escape(EMPTY_TEXT)}</i></p>")
            return
        self.row = int(row)
        ctx = SliceContext(trace, self.row, self._kernel_names, self._ns_per_cycle, self._regions)
        parts = []
        for section in self.sections:
            got = section(ctx)
            if got is not None:
                title, body = got
                parts.append(f"<h3>{html.escape(title)}</h3>{body}")
        self.browser.setHtml("".join(parts))

    def link_rect(self, row: int) -> QtCore.QRect:
        """Where the link to ``row`` is drawn, in the browser's viewport (for a click)."""
        doc = self.browser.document()
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.isValid() and frag.charFormat().anchorHref() == f"row:{row}":
                    cursor = self.browser.textCursor()
                    cursor.setPosition(frag.position() + 1)
                    return self.browser.cursorRect(cursor)
                it += 1
            block = block.next()
        return QtCore.QRect()

    def _on_anchor(self, url: QtCore.QUrl) -> None:
        text = url.toString()
        if text.startswith("row:"):
            self.link_activated.emit(int(text[4:]))


def link_to_timeline(panel: SliceDetailsPanel, timeline: QtCore.QObject) -> None:
    """The panel follows ``timeline``'s selection (its ``row_selected``) and a link selects
    its task there (``go_to_row``: panned to and outlined like a search hit)."""
    timeline.row_selected.connect(panel.show_row)  # type: ignore[attr-defined]
    panel.link_activated.connect(timeline.go_to_row)  # type: ignore[attr-defined]
