"""The CSP side of a run: processes, channels, events, waits and channel occupancy.

``pto_wsp.runtime.runner`` writes it beside the task trace as ``<trace>.csp.npz``; the timeline
shows its processes as lanes (``lanes.process_lanes``) with the intervals each was blocked.
docs/semantics.md "CSP execution" defines the fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._native import csp as _csp
from ..errors import PtoError

__all__ = ["CspTrace", "WAIT_SEND", "WAIT_TAKE", "WAIT_EVENT"]

# Why a process waited (runtime/csp.h enum pto_csp_wait_kind, bound once as _core.csp.WAIT_*).
WAIT_SEND: int = int(_csp.WAIT_SEND)
WAIT_TAKE: int = int(_csp.WAIT_TAKE)
WAIT_EVENT: int = int(_csp.WAIT_EVENT)

_CSP_KEYS = (
    "processes",
    "channels",
    "events",
    "process_start",
    "process_end",
    "occupancy",
    "waits",
    "task_process",
)


@dataclass(frozen=True, eq=False)
class CspTrace:
    """The CSP side of a run (``pto_wsp.runtime.runner`` writes it as ``<trace>.csp.npz``).

    Names by index (``processes``, ``channels``, ``events``), per-process start/end cycles,
    ``occupancy`` (``time, channel, occupancy``: slots in use after each change), ``waits``
    (``start, end, process, object, kind``) and ``task_process``: the process that submitted
    each trace row (-1: the driver).
    """

    processes: tuple[str, ...]
    channels: tuple[str, ...]
    events: tuple[str, ...]
    process_start: np.ndarray
    process_end: np.ndarray
    occupancy: np.ndarray
    waits: np.ndarray
    task_process: np.ndarray

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CspTrace:
        """From ``program.runner.csp_trace()`` or a loaded ``.csp.npz`` (PtoError if partial)."""
        missing = [k for k in _CSP_KEYS if k not in data]
        if missing:
            raise PtoError(f"timeline: the CSP trace lacks {missing}")
        return cls(
            processes=tuple(str(x) for x in data["processes"]),
            channels=tuple(str(x) for x in data["channels"]),
            events=tuple(str(x) for x in data["events"]),
            process_start=np.asarray(data["process_start"], dtype=np.int64),
            process_end=np.asarray(data["process_end"], dtype=np.int64),
            occupancy=np.asarray(data["occupancy"]),
            waits=np.asarray(data["waits"]),
            task_process=np.asarray(data["task_process"], dtype=np.int64),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CspTrace:
        """Reads a ``.csp.npz`` written by the runner (no pickles)."""
        with np.load(path, allow_pickle=False) as data:
            return cls.from_mapping({k: data[k] for k in data.files})

    def object_name(self, kind: int, obj: int) -> str:
        names = self.events if kind == WAIT_EVENT else self.channels
        return names[obj] if 0 <= obj < len(names) else f"#{obj}"

    def wait_text(self, kind: int, obj: int) -> str:
        """What a wait interval means, for a tooltip ("waiting to send on l2c")."""
        name = self.object_name(kind, obj)
        if kind == WAIT_SEND:
            return f"waiting to send on {name} (channel full)"
        if kind == WAIT_TAKE:
            return f"waiting to take from {name} (channel empty)"
        if kind == WAIT_EVENT:
            return f"waiting in synchronize({name})"
        return f"waiting on {name}"

    def peak_occupancy(self) -> dict[str, int]:
        """The most slots each channel held at once during the run, by channel name."""
        occ = self.occupancy
        peaks = dict.fromkeys(self.channels, 0)
        for i, name in enumerate(self.channels):
            values = occ["occupancy"][occ["channel"] == i]
            if len(values):
                peaks[name] = int(values.max())
        return peaks

    def occupancy_steps(
        self, channel: int, end: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of channel ``channel``'s occupancy as a step curve (x one longer than y).

        Starts at 0 slots at cycle 0 and holds the last value up to ``end`` (default: the last
        change), the shape ``PlotDataItem(x, y, stepMode="center")`` draws.
        """
        occ = self.occupancy[self.occupancy["channel"] == channel]
        times = np.asarray(occ["time"], dtype=np.int64)
        values = np.asarray(occ["occupancy"], dtype=np.int64)
        if not len(times) or times[0] > 0:
            times = np.concatenate(([0], times))
            values = np.concatenate(([0], values))
        last = int(times[-1]) if end is None else max(int(end), int(times[-1]))
        x = np.concatenate((times, [last if last > times[-1] else times[-1] + 1]))
        return x.astype(np.float64), values.astype(np.float64)
