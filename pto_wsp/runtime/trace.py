"""The per-task trace: its record type, the one check that an array is a trace, and its export.

A trace record (``pto_sim_record``, 56 bytes) has the fields ``task`` (submission index),
``kernel`` (IR kernel id), ``worker``, ``stream`` (-1 without streams), ``start``, ``end``
(cycles), ``idx0..idx3`` (the task's first four loop indices, -1 when absent), ``cause`` (the
``wait_causes`` code of the bound that fixed its start) and ``gate`` (the submission index of
the task whose end produced that bound, ``wait_causes.NO_GATE`` when none did).
``program.trace`` is a read-only view of the simulator's buffer (no copy). The record type is the
C++ simulator's (``_core.sim.trace_dtype()``), so the field list here is derived from it.

Everything that reads a trace — lanes (``lanes``), statistics (``trace_analysis``), the timeline,
the Chrome export below — checks it with ``validate_trace`` first: a wrong file gives one message
naming what is missing, not a ``KeyError`` deep inside a paint call.

``chrome_trace_chunks(...)`` turns a trace into the Chrome trace-event format that Perfetto and
chrome://tracing open: one process, one thread per configured worker (idle ones included, so a
worker that ran nothing is visible as an empty row), one complete ("X") event per task with
``ts``/``dur`` in microseconds (cycles x ns_per_cycle / 1000), one flow ("s" at the end of the
gating task's slice, "f" with ``"bp":"e"`` inside the gated task's slice, ``id`` = the gated
task; its cause is in that slice's ``args``) per task whose start another task's end fixed, counters ("C") of
running tasks and of windowed utilisation (``counters``, the series the timeline's counter tracks
draw) and, for a CSP run, one counter per channel with its occupancy. The text is built in
chunks from numpy columns (``json_rows``, written by the extension's row writer), never a Python
object per event:
``write_chrome_trace`` / ``save_chrome_trace`` stream it to a file (memory flat in the task
count; benchmarks/bench_chrome_export.py); ``chrome_trace(...)`` parses it into a dict for
in-memory use on small traces.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._native import sim as _sim
from ..errors import PtoError
from ..fileio import atomic_write_pieces
from . import json_rows
from .counters import BusyProfile, utilisation_series
from .csp_trace import CspTrace
from .int_groups import small_unique
from .program import Program
from .trace_gates import gate_rows
from .wait_causes import WAIT_CAUSES

__all__ = [
    "TRACE_DTYPE",
    "TRACE_FIELDS",
    "TraceError",
    "validate_trace",
    "has_streams",
    "by_task",
    "kernel_name",
    "loop_indices",
    "task_mask",
    "chrome_trace",
    "chrome_trace_chunks",
    "EXPORT_UTILISATION_WINDOWS",
    "write_chrome_trace",
    "save_chrome_trace",
]

TRACE_DTYPE: np.dtype = _sim.trace_dtype()
TRACE_FIELDS: tuple[str, ...] = tuple(TRACE_DTYPE.names or ())


class TraceError(PtoError, ValueError):
    """An array that is not a per-task trace (missing fields, wrong rank, end before start).

    Also a ``ValueError``: it is a bad argument value, and callers that catch that keep working.
    """


# Read-only traces (a run's memory-mapped trace file) already checked, by id: every analysis
# function checks its argument, and each check reads the whole trace. A read-only array cannot
# change, so its first check stands; a writeable one is checked every time.
_CHECKED: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def validate_trace(trace: Any) -> np.ndarray:
    """Checks that ``trace`` is a 1-D structured array with every trace field; returns it.

    Raises ``TraceError`` naming the missing fields (or the record that ends before it starts).
    """
    if isinstance(trace, np.ndarray) and _CHECKED.get(id(trace)) is trace:
        return trace
    if not isinstance(trace, np.ndarray) or trace.dtype.names is None:
        raise TraceError(
            f"a trace must be a numpy structured array with fields {', '.join(TRACE_FIELDS)}, "
            f"got {type(trace).__name__}"
        )
    missing = [f for f in TRACE_FIELDS if f not in trace.dtype.names]
    if missing:
        raise TraceError(
            f"not a per-task trace: fields {', '.join(missing)} missing "
            f"(has {', '.join(trace.dtype.names)})"
        )
    if trace.ndim != 1:
        raise TraceError(f"a trace must be 1-D, got shape {trace.shape}")
    if len(trace):
        cause = trace["cause"]
        if int(cause.min()) < 0 or int(cause.max()) >= len(WAIT_CAUSES):
            bad = int(np.argmax((cause < 0) | (cause >= len(WAIT_CAUSES))))
            raise TraceError(f"trace record {bad} has an unknown wait cause {int(cause[bad])}")
    if len(trace) and bool(np.any(trace["end"] < trace["start"])):
        bad = int(np.argmax(trace["end"] < trace["start"]))
        raise TraceError(
            f"trace record {bad} (task {int(trace['task'][bad])}) ends before it starts"
        )
    if not trace.flags.writeable:
        _CHECKED[id(trace)] = trace
    return trace


def has_streams(trace: np.ndarray) -> bool:
    """True when any record ran on a stream (the simulator writes -1 without streams)."""
    return bool(len(trace)) and bool(np.any(trace["stream"] >= 0))


def by_task(trace: np.ndarray) -> np.ndarray:
    """The records sorted by submission index (buffering timing policies record in issue order)."""
    return trace[np.argsort(trace["task"], kind="stable")]


def kernel_name(kernel_id: int, kernel_names: Sequence[str]) -> str:
    """The kernel's name, or ``kernel <id>`` when the id is outside the names list."""
    return kernel_names[kernel_id] if 0 <= kernel_id < len(kernel_names) else f"kernel {kernel_id}"


def loop_indices(record: np.void) -> tuple[int, ...]:
    """The record's loop indices (the simulator writes -1 for absent ones)."""
    return tuple(int(record[f"idx{i}"]) for i in range(4) if int(record[f"idx{i}"]) >= 0)


def task_mask(trace: np.ndarray, selection: np.ndarray | Iterable[int] | None) -> np.ndarray:
    """A boolean mask over ``trace`` from a mask or from task ids (``None``: nothing).

    A boolean array must have one entry per record; anything else is read as task ids.
    """
    n = len(trace)
    if selection is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(list(selection) if not isinstance(selection, np.ndarray) else selection)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise TraceError(
                f"timeline: a highlight mask needs {n} entries (one per record), got {arr.shape}"
            )
        return arr.copy()
    if arr.size == 0:
        return np.zeros(n, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TraceError(
            f"timeline: highlight takes a boolean mask or integer task ids, got dtype {arr.dtype}"
        )
    return np.isin(np.asarray(trace["task"], dtype=np.int64), arr.astype(np.int64))


_CHUNK = 1 << 16  # events per numpy pass: ~20 MB of scratch, whatever the trace size
_DECIMALS = 3  # ts/dur in microseconds to the nanosecond (Perfetto's resolution)
EXPORT_UTILISATION_WINDOWS = 1000  # about one per pixel column of a Perfetto window at fit


def _micro_units(cycles: np.ndarray, ns_per_cycle: float) -> np.ndarray:
    """Cycles as integer nanoseconds (``json_rows.Fixed`` units of a microsecond)."""
    return np.rint(cycles.astype(np.float64) * float(ns_per_cycle)).astype(np.int64)


def _meta(pid_tid: tuple[int, int], name: str, value: str) -> bytes:
    pid, tid = pid_tid
    event = {"ph": "M", "pid": pid, "tid": tid, "name": name, "args": {"name": value}}
    return json.dumps(event, separators=(",", ":")).encode("ascii")


def _x_rows(
    trace: np.ndarray, kernel_names: Sequence[str], ns_per_cycle: float
) -> Iterator[json_rows.Rows]:
    """The complete ("X") events, one chunk of text per ``_CHUNK`` records."""
    kernels = small_unique(trace["kernel"])
    table = json_rows.string_table([kernel_name(int(k), kernel_names) for k in kernels])
    causes = json_rows.string_table([c.name for c in WAIT_CAUSES])
    for a in range(0, len(trace), _CHUNK):
        part = trace[a : a + _CHUNK]
        start = np.asarray(part["start"], dtype=np.int64)
        end = np.asarray(part["end"], dtype=np.int64)
        ts = _micro_units(start, ns_per_cycle)
        idx = [np.asarray(part[f"idx{i}"]) for i in range(4)]
        present = [c >= 0 for c in idx]
        stream = np.asarray(part["stream"])
        on_stream = stream >= 0  # most tasks are on none: no "stream":-1 on each
        segments: list[json_rows.Segment] = [
            json_rows.Lit(b',\n{"ph":"X","pid":0,"tid":'),
            json_rows.Int(part["worker"]),
            json_rows.Lit(b',"name":'),
            json_rows.Str(table, np.searchsorted(kernels, part["kernel"])),
            json_rows.Lit(b',"ts":'),
            json_rows.Fixed(ts, _DECIMALS),
            json_rows.Lit(b',"dur":'),
            json_rows.Fixed(_micro_units(end, ns_per_cycle) - ts, _DECIMALS),
            json_rows.Lit(b',"args":{"task":'),
            json_rows.Int(part["task"]),
            json_rows.Opt(b',"stream":', on_stream),
            json_rows.Int(stream, keep=on_stream),
            json_rows.Lit(b',"idx":['),
        ]
        before = np.zeros(len(part), dtype=bool)  # an index was written before this one
        for col, has in zip(idx, present, strict=True):
            segments.append(json_rows.Opt(b",", has & before))
            segments.append(json_rows.Int(col, keep=has))
            before = before | has
        if ns_per_cycle != 1.0:  # at 1 ns per cycle ts and dur are the cycles already
            segments += [
                json_rows.Lit(b'],"start_cycle":'),
                json_rows.Int(start),
                json_rows.Lit(b',"end_cycle":'),
                json_rows.Int(end),
            ]
        else:
            segments.append(json_rows.Lit(b"]"))
        segments += [
            json_rows.Lit(b',"cause":'),
            json_rows.Str(causes, np.asarray(part["cause"], dtype=np.int64)),
            json_rows.Lit(b"}}"),
        ]
        yield json_rows.prepare(len(part), segments)


def _flow_rows(trace: np.ndarray, ns_per_cycle: float) -> Iterator[json_rows.Rows]:
    """One flow per record with a gating task in the trace: its "s" event on the gate's worker
    just inside the end of the gate's slice, its "f" event (binding to the enclosing slice) just
    inside the start of the gated slice (1 ns in, or on the edge of a slice shorter than that),
    so each binds to its own slice even when the two touch on one thread. No ``cat`` and no
    ``name``: viewers only match them between the two ends (Perfetto shows neither), the cause
    is in the gated slice's ``args``, and at one flow per task they were a fifth of the file."""
    gates = gate_rows(trace)
    rows = np.flatnonzero(gates >= 0)
    if not len(rows):
        return
    worker = np.asarray(trace["worker"])
    start_u = _micro_units(np.asarray(trace["start"], dtype=np.int64), ns_per_cycle)
    end_u = _micro_units(np.asarray(trace["end"], dtype=np.int64), ns_per_cycle)
    for a in range(0, len(rows), _CHUNK):
        mine = rows[a : a + _CHUNK]
        gate = gates[mine]
        task = json_rows.Int(np.asarray(trace["task"][mine]))
        s_ts = end_u[gate] - np.minimum(1, end_u[gate] - start_u[gate])
        f_ts = start_u[mine] + np.minimum(1, end_u[mine] - start_u[mine])
        # One row per flow holds both events: the id column is laid out once.
        yield json_rows.prepare(
            len(mine),
            [
                json_rows.Lit(b',\n{"ph":"s","pid":0,"id":'),
                task,
                json_rows.Lit(b',"tid":'),
                json_rows.Int(worker[gate]),
                json_rows.Lit(b',"ts":'),
                json_rows.Fixed(s_ts, _DECIMALS),
                json_rows.Lit(b'},\n{"ph":"f","bp":"e","pid":0,"id":'),
                task,
                json_rows.Lit(b',"tid":'),
                json_rows.Int(worker[mine]),
                json_rows.Lit(b',"ts":'),
                json_rows.Fixed(f_ts, _DECIMALS),
                json_rows.Lit(b"}"),
            ],
        )


def _counter_rows(name: str, key: str, times: np.ndarray, values: np.ndarray,
                  ns_per_cycle: float, decimals: int = 0) -> Iterator[json_rows.Rows]:  # fmt: skip
    """One counter ("C") event per ``(time, value)``; ``decimals`` > 0 writes the values as
    fixed-point numbers with that many decimals (else as integers)."""
    head = json_rows.Lit(
        b',\n{"ph":"C","pid":0,"name":' + json.dumps(name).encode("ascii") + b',"ts":'
    )
    mid = json_rows.Lit(b',"args":{' + json.dumps(key).encode("ascii") + b":")
    scale = 10.0**decimals
    for a in range(0, len(times), _CHUNK):
        t, v = times[a : a + _CHUNK], values[a : a + _CHUNK]
        value: json_rows.Segment = (
            json_rows.Fixed(np.rint(np.asarray(v) * scale).astype(np.int64), decimals)
            if decimals
            else json_rows.Int(v)
        )
        segs: list[json_rows.Segment] = [
            head,
            json_rows.Fixed(_micro_units(np.asarray(t), ns_per_cycle), _DECIMALS),
            mid,
            value,
            json_rows.Lit(b"}}"),
        ]
        yield json_rows.prepare(len(t), segs)


def _pieces(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
    num_workers: int | None = None,
    csp: CspTrace | None = None,
) -> Iterator[bytes | json_rows.Rows]:
    """The Chrome trace-event JSON of ``trace`` as consecutive pieces: bytes, or rows of
    events not yet written as text (``json_rows.Rows``: ``write_chrome_trace`` has the
    extension write them to the file on its writer thread).

    Events: the process name and one ``thread_name`` per worker ("M"; ``num_workers`` is the
    run's configured worker count, so idle workers get a row too), one complete event per task
    ("X": ``ts``/``dur`` in microseconds, ``args`` with the task, its stream if it ran on one,
    loop indices, the wait cause and, unless the clock is 1 ns per cycle (when ``ts``/``dur``
    in ns are the cycles, exactly), ``start_cycle``/``end_cycle``), one flow ("s"/"f", ``id``
    the gated task) from each task's gating predecessor, a ``running tasks`` counter ("C")
    stepping at every start and end, a ``utilisation`` counter (busy workers over workers in
    percent, averaged over each of ``EXPORT_UTILISATION_WINDOWS`` equal windows across the run;
    the workers are the configured ones, or those that ran tasks), and with ``csp`` one
    ``channel <name>`` counter per channel with its occupancy in slots. The counters are
    ``pto_wsp.runtime.counters``' series, those the timeline's counter tracks draw. Each piece is
    built from one chunk of numpy columns (``json_rows``), so memory stays flat in the number of
    tasks.
    """
    validate_trace(trace)
    yield b'{"traceEvents":[\n' + _meta((0, 0), "process_name", process_name)
    workers = {int(w) for w in small_unique(trace["worker"])}
    workers.update(range(num_workers or 0))
    yield b"".join(b",\n" + _meta((0, w), "thread_name", f"worker {w}") for w in sorted(workers))
    yield from _x_rows(trace, kernel_names, ns_per_cycle)
    yield from _flow_rows(trace, ns_per_cycle)
    profile = BusyProfile.of(trace)  # one sort of the starts and ends for both counters
    times, running = profile.steps()
    yield from _counter_rows("running tasks", "tasks", times, running, ns_per_cycle)
    del times, running
    windows = EXPORT_UTILISATION_WINDOWS
    edges, util = utilisation_series(trace, max(len(workers), 1), windows, profile)
    del profile
    if len(util):  # each window's mean from its start; 0 after the last end
        yield from _counter_rows("utilisation", "percent", edges, np.append(100.0 * util, 0.0),
                                 ns_per_cycle, decimals=1)  # fmt: skip
    if csp is not None and len(csp.occupancy):
        occ = csp.occupancy
        for i, channel in enumerate(csp.channels):
            mine = occ[occ["channel"] == i]
            yield from _counter_rows(
                f"channel {channel}", "slots", mine["time"], mine["occupancy"], ns_per_cycle
            )
    yield b'\n],"displayTimeUnit":"ns"}\n'


def chrome_trace_chunks(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
    num_workers: int | None = None,
    csp: CspTrace | None = None,
) -> Iterator[bytes]:
    """The Chrome trace-event JSON of ``trace`` (the events ``_pieces`` lists) as consecutive
    pieces of UTF-8 text, each made from one chunk of numpy columns, so memory stays flat in
    the number of tasks."""
    for piece in _pieces(trace, kernel_names, ns_per_cycle, process_name, num_workers, csp):
        yield piece if isinstance(piece, bytes) else piece.text()


def chrome_trace(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
    num_workers: int | None = None,
    csp: CspTrace | None = None,
) -> dict[str, Any]:
    """The trace as a Chrome trace-event JSON object (``{"traceEvents": [...]}``): the parsed
    text of ``chrome_trace_chunks`` (same arguments), for in-memory use on small traces.
    Files are written by ``write_chrome_trace`` without building this object.
    """
    chunks = chrome_trace_chunks(trace, kernel_names, ns_per_cycle, process_name, num_workers, csp)
    data: dict[str, Any] = json.loads(b"".join(chunks))
    return data


def write_chrome_trace(
    path: str | os.PathLike[str],
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
    num_workers: int | None = None,
    csp: CspTrace | None = None,
) -> Path:
    """Writes the text ``chrome_trace_chunks(...)`` makes to ``path`` atomically (a viewer never
    opens half a trace); returns the path written. The rows of events are made into text and
    written by the extension on ``atomic_write_pieces``' writer thread while the next rows'
    columns are prepared here, through one reused buffer: no bytes object per chunk."""
    validate_trace(trace)  # before the temp file exists
    pieces = _pieces(trace, kernel_names, ns_per_cycle, process_name, num_workers, csp)
    return atomic_write_pieces(path, pieces)


def program_csp(program: Program) -> CspTrace | None:
    """The program's CSP trace when its run recorded channel occupancy (None otherwise)."""
    read = getattr(program.runner, "csp_trace", None)
    if read is None:
        return None
    try:
        csp = CspTrace.from_mapping(read())
    except PtoError:
        return None
    return csp if len(csp.occupancy) else None


def save_chrome_trace(program: Program, path: str | os.PathLike[str]) -> None:
    """Writes ``program``'s last trace as Chrome trace-event JSON to ``path`` (streamed)."""
    write_chrome_trace(
        path,
        program.trace,
        program.kernel_names,
        program.ns_per_cycle,
        num_workers=program.stats.num_workers or None,
        csp=program_csp(program),
    )
