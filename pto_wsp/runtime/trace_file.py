"""Reading a run's trace file (``trace.npy``), numpy only, so the CLI and the Studio's runner
read it without loading the rest of the trace model.

The trace is memory-mapped read-only: a 10^8-task trace (5.6 GB) is paged in as it is read,
never copied into memory, and the mapping outlives the removal of the folder it was in.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["load_trace"]


def load_trace(path: str | os.PathLike[str]) -> np.ndarray | None:
    """The trace in ``path``, memory-mapped read-only; None when there is no such file."""
    if not os.path.isfile(path):
        return None
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:  # numpy versions that cannot map an empty array: read it
        return np.load(path, allow_pickle=False)
