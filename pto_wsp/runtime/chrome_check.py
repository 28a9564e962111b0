"""Checks the flows of a Chrome trace-event JSON object (what ``trace.chrome_trace`` returns).

Perfetto drops or misbinds a flow whose ends do not sit on slices, so the export's flows are
checked by this, in the tests and by anyone who edits the export: every "s" has exactly one "f"
of the same id (and the reverse), ids are unique per phase, each end lies inside a complete
("X") slice of its own thread, and the "f" is not before the "s".
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from ..errors import PtoError

__all__ = ["ChromeFlowError", "check_chrome_flows"]


class ChromeFlowError(PtoError, ValueError):
    """A flow of a Chrome trace that a viewer could not bind (the message says which)."""


def check_chrome_flows(data: Mapping[str, Any]) -> int:
    """Raises ``ChromeFlowError`` for the first broken flow of ``data``; returns the number of
    flows. Meant for test-sized traces (a Python object per event)."""
    events = data.get("traceEvents")
    if not isinstance(events, list):
        raise ChromeFlowError("not a Chrome trace: no traceEvents list")
    slices: dict[tuple[Any, Any], list[tuple[float, float]]] = defaultdict(list)
    starts: dict[str, dict[Any, Mapping[str, Any]]] = {"s": {}, "f": {}}
    for ev in events:
        ph = ev.get("ph")
        if ph == "X":
            slices[(ev.get("pid"), ev.get("tid"))].append((float(ev["ts"]), float(ev["dur"])))
        elif ph in ("s", "f"):
            seen = starts[ph]
            if ev.get("id") in seen:
                raise ChromeFlowError(f'flow id {ev.get("id")!r} has two "{ph}" events')
            seen[ev.get("id")] = ev
    for sl in slices.values():
        sl.sort()
    heads = {k: [s for s, _ in v] for k, v in slices.items()}

    def inside(ev: Mapping[str, Any]) -> bool:
        key = (ev.get("pid"), ev.get("tid"))
        ts = float(ev["ts"])
        sl, head = slices.get(key, []), heads.get(key, [])
        i = bisect.bisect_right(head, ts + 1e-9)
        # Slices on one thread do not overlap, but several may start at ts (zero-length ones).
        return any(s - 1e-9 <= ts <= s + d + 1e-9 for s, d in sl[max(0, i - 2) : i])

    for fid, s in starts["s"].items():
        f = starts["f"].get(fid)
        if f is None:
            raise ChromeFlowError(f'flow id {fid!r} has an "s" event and no "f"')
        if f.get("bp") != "e":
            raise ChromeFlowError(
                f'flow id {fid!r}: its "f" event does not bind to the enclosing slice'
            )
        if (s.get("name"), s.get("cat")) != (f.get("name"), f.get("cat")):
            raise ChromeFlowError(f"flow id {fid!r}: the two ends differ in name or category")
        for ev in (s, f):
            if not inside(ev):
                raise ChromeFlowError(
                    f'flow id {fid!r}: its "{ev["ph"]}" event at ts {ev["ts"]} is inside no slice '
                    f"of thread {ev.get('tid')}"
                )
        if float(f["ts"]) + 1e-9 < float(s["ts"]):
            raise ChromeFlowError(f"flow id {fid!r} goes back in time ({s['ts']} -> {f['ts']})")
    for fid in starts["f"]:
        if fid not in starts["s"]:
            raise ChromeFlowError(f'flow id {fid!r} has an "f" event and no "s"')
    return len(starts["s"])
