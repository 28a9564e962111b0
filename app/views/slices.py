"""What the timeline says and shows about a slice: kernel colours and hover text.

Qt-free (plain Python over trace records) so the run panel, the compare view and the tests share
it; the trace itself and its numbers are ``pto_wsp.runtime``'s.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable, Sequence

import numpy as np

from pto_wsp.runtime.trace import kernel_name, loop_indices

__all__ = ["COLLECTIVE_KINDS", "kernel_palette", "gang_size", "slice_text"]

# Qualitative palette (Tableau 20 order, dark shades first): distinct for the first 20 kernels,
# then golden-ratio hues so that any number of kernels still gets a stable, distinct-ish colour.
_BASE_PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (199, 199, 199),
    (219, 219, 141),
    (158, 218, 229),
)


def kernel_palette(names: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    """A stable colour per kernel name, in order of first appearance.

    Stable means: the same list gives the same colours in every session, and two runs compared
    side by side colour a kernel alike when given the union of their names.
    """
    out: dict[str, tuple[int, int, int]] = {}
    for name in names:
        if name in out:
            continue
        i = len(out)
        if i < len(_BASE_PALETTE):
            out[name] = _BASE_PALETTE[i]
        else:
            h = (i * 0.618033988749895) % 1.0
            r, g, bl = colorsys.hsv_to_rgb(h, 0.55, 0.85)
            out[name] = (int(r * 255), int(g * 255), int(bl * 255))
    return out


COLLECTIVE_KINDS = frozenset({"relayout", "allreduce", "allgather", "reduce_scatter"})
"""Trace "kernels" that are collectives: one gang task per mesh worker, all in one interval."""


def gang_size(record: np.void, trace: np.ndarray) -> int:
    """How many records share ``record``'s kernel and interval (its collective's gang)."""
    same = (
        (trace["kernel"] == record["kernel"])
        & (trace["start"] == record["start"])
        & (trace["end"] == record["end"])
    )
    return int(np.count_nonzero(same))


def slice_text(
    record: np.void, kernel_names: Sequence[str], trace: np.ndarray | None = None
) -> str:
    """The hover text of one slice: kernel, loop indices, start, end and cycles.

    A collective's slice says so, and with ``trace`` how many workers its gang spans (the
    collective runs on all of them at once; its slices are the same interval on each lane).
    """
    start, end = int(record["start"]), int(record["end"])
    idx = loop_indices(record)
    name = kernel_name(int(record["kernel"]), kernel_names)
    if name in COLLECTIVE_KINDS:
        gang = f", gang of {gang_size(record, trace)} workers" if trace is not None else ""
        head = f"{name} (collective{gang})"
    else:
        head = f"{name}[{', '.join(map(str, idx))}]" if idx else f"{name}[]"
    lines = [
        head,
        f"task {int(record['task'])}  worker {int(record['worker'])}"
        + (f"  stream {int(record['stream'])}" if int(record["stream"]) >= 0 else ""),
        f"start {start}  end {end}  cycles {end - start}",
    ]
    return "\n".join(lines)
