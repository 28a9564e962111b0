"""The worker-count rule: how many workers a run has. Resolved once, at lowering, into the IR
schedule's ``workers``; cpu_sim's simulator and the ascend_npu plan both read it from there.

Under ``spatial_map`` the workers ARE the mesh tiles (grid (r, c) runs r*c workers; a
conflicting dispatch or streams count was rejected by ``applicability.check_mesh_workers``).
Otherwise the larger of the dispatch's count (``round_robin(n)``, or ``num_aicpus`` > 0 of
``affinity``/``hash``/``dispatch_by``) and the stream count, ``DEFAULT_WORKERS`` when neither is
given; and at least the pools' total (pools are contiguous worker ranges). The default is the
reference implementation's 1 (DESIGN §2: a schedule that names no dispatch runs on 1 worker, so a
reference script gives the same numbers here). v1 defaulted to 4; Studio documents migrated from
format v1 keep the 4 they ran with (``app.model.kinds.legacy_v1.V1_DEFAULT_WORKERS``), and the
Studio sheet's round_robin starts at ``app.model.kinds.schedule.SHEET_ROUND_ROBIN_WORKERS``.
Before this rule lived here, the ascend_npu plan applied the default after the pools (one pool
of 1 worker: 1 worker there, 4 on cpu_sim).

``DEFAULT_WORKERS`` is the one definition of the default count. C++ receives it at build time:
``gen_tables.py`` loads this file by path and writes it into ``pto_tables.h``, where the
runtime's ``PTO_SIM_DEFAULT_WORKERS`` (and through it ``ir.DEFAULT_WORKERS``) takes it. So this
module imports only the standard library at run time, and the Studio's sheet reads the default
without loading the extension.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..language.schedule import ScheduleSpec

__all__ = ["DEFAULT_WORKERS", "resolve_workers"]

DEFAULT_WORKERS: int = 1
"""Workers of a run whose schedule asks for none (no round_robin count, streams, pools or grid)."""


def resolve_workers(spec: ScheduleSpec) -> int:
    """The worker count of a run scheduled by ``spec`` (docs/semantics.md, "Scheduling model")."""
    if spec.spatial_grid:
        return math.prod(int(g) for g in spec.spatial_grid)
    asked = spec.dispatch.num_workers if spec.dispatch is not None else None
    pooled = sum(spec.pools.sizes) if spec.pools is not None else 0
    workers = max(int(asked or 0), int(spec.streams or 0)) or DEFAULT_WORKERS
    return max(workers, pooled)
