"""The node kinds, one module per family (issue 13): each defines ``KINDS``, a list of
``NodeKind``. ``app.model.registry`` assembles them in ``FAMILIES`` order."""

from __future__ import annotations

from . import csp, data, events, kernels, layout, tile_ops, workloads

FAMILIES = (data, kernels, tile_ops, workloads, csp, events, layout)
"""Kind family modules in palette order."""

__all__ = ["FAMILIES"]
