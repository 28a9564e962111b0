"""Kernel parameters as data: one parameter with exactly its kind's fields (``normalize_param``),
and parameters written by older files in today's terms (``migrate_param`` / ``migrate_props``).
The well-formed entries of a kernel's ``params`` are ``indexing.params_of``; their check is
``prop_checks`` (property type ``params``)."""

from __future__ import annotations

from typing import Any

from .kind_lookup import kind_of
from .kinds._base import PARAM_DEFAULTS, PARAM_FIELDS, PARAM_KINDS


def normalize_param(p: dict[str, Any]) -> dict[str, Any]:
    """A parameter with exactly the fields its kind carries (``PARAM_FIELDS``), defaults filled
    in (In tensor; a tile 16x16 f32, a scalar f32). Fields the kind has not are dropped."""
    kind = p.get("kind", "tensor")
    out = {"name": p["name"], "direction": p.get("direction", "In"), "kind": kind}
    for field in PARAM_FIELDS.get(kind, ()):
        out[field] = p.get(field, PARAM_DEFAULTS[field])
    return out


def migrate_param(p: Any) -> Any:
    """A kernel parameter as written before tile shapes were checked, in today's terms.

    Earlier files gave every parameter rows, cols and dtype, and a ``tensor`` parameter
    exported as an unshaped ``In[Tensor]`` that never looked at them, although the Studio showed
    them as its shape. A ``tensor`` parameter that carries rows or cols becomes the ``tile``
    parameter it was shown as (``Tile[rows, cols, dtype]``, checked at every call), so the file
    now says what runs; fields a kind does not carry are dropped (a scalar's rows and cols).
    Anything malformed is returned as it is, for the params check to report.
    """
    if not isinstance(p, dict) or p.get("kind", "tensor") not in PARAM_KINDS:
        return p
    q = dict(p)
    if q.get("kind", "tensor") == "tensor" and ("rows" in q or "cols" in q):
        q["kind"] = "tile"
    for field in PARAM_DEFAULTS:
        if field not in PARAM_FIELDS[q.get("kind", "tensor")]:
            q.pop(field, None)
    return q


def migrate_props(kind_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """A node's properties as read from a file, in today's terms (``migrate_param``): applied
    on every load, so older files and clipboard fragments open with the meaning they showed."""
    params = props.get("params")
    if kind_of(kind_id).defines_kernel and isinstance(params, list):
        return {**props, "params": [migrate_param(p) for p in params]}
    return props


__all__ = ["normalize_param", "migrate_param", "migrate_props"]
