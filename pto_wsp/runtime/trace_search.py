"""Slice search over a trace: a small query grammar and a vectorised matcher (no Qt).

Grammar (issue #15): ``kernel[i, j]`` with ``*`` for any index (``attn_kernel[2, *]``),
``worker N``, ``stream N``, and anything else is free text matched against kernel names
(case-insensitive substring). A kernel pattern names exactly as many indices as the task has
loop indices: ``attn[2, *]`` matches tasks with two indices whose first is 2.

``parse_query`` turns text into a typed ``Query`` (or raises ``QueryError`` whose message names
what is wrong, for the search field to show); ``matches`` returns the matching trace rows ordered
by start cycle. It works on whole columns (a comparison per field, ``np.isin`` over the kernel
ids whose names fit), so 10^6 rows match in a few tens of milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pto_wsp.errors import PtoError

__all__ = ["MAX_INDICES", "Query", "QueryError", "parse_query", "matches", "start_order"]

MAX_INDICES = 4  # the trace's idx0..idx3
_KERNEL_RE = re.compile(r"^(?P<name>[^\[\]]+?)\s*\[(?P<indices>.*)\]$")
_NUMBERED_RE = re.compile(r"^(?P<word>worker|stream)\b\s*(?P<arg>.*)$", re.IGNORECASE)


class QueryError(PtoError, ValueError):
    """A search query that does not parse; the message says where and why."""


@dataclass(frozen=True)
class Query:
    """One parsed search.

    ``kind`` is ``"kernel"`` (``name`` + ``indices``, ``None`` standing for ``*``),
    ``"worker"`` / ``"stream"`` (``number``) or ``"text"`` (``name``, a substring of kernel names).
    """

    kind: str
    name: str = ""
    indices: tuple[int | None, ...] = ()
    number: int = -1


def _index(token: str, position: int, text: str) -> int | None:
    token = token.strip()
    if token == "*":
        return None
    if re.fullmatch(r"\d+", token):
        return int(token)
    raise QueryError(f"index {position} of {text}: expected an integer or *, got {token!r}")


def parse_query(text: str) -> Query:
    """Parses a search query; raises ``QueryError`` naming what is wrong."""
    text = text.strip()
    if not text:
        raise QueryError("empty search: type a kernel name, kernel[i, *], worker N or stream N")
    numbered = _NUMBERED_RE.match(text)
    if numbered:
        word, arg = numbered.group("word").lower(), numbered.group("arg").strip()
        if not re.fullmatch(r"\d+", arg):
            got = f"got {arg!r}" if arg else "got nothing"
            raise QueryError(f"{text}: expected a {word} number after '{word}', {got}")
        return Query(kind=word, number=int(arg))
    if "[" in text or "]" in text:
        kernel = _KERNEL_RE.match(text)
        if kernel is None:
            if text.count("[") != text.count("]"):
                raise QueryError(f"{text}: unbalanced brackets, expected kernel[i, j]")
            raise QueryError(f"{text}: expected kernel[i, j] (a name, then indices in [ ])")
        name, inner = kernel.group("name").strip(), kernel.group("indices")
        if "[" in inner or "]" in inner:
            raise QueryError(f"{text}: nested brackets, expected kernel[i, j]")
        if not inner.strip():
            raise QueryError(f"{text}: no index in [ ], expected an integer or * per loop index")
        tokens = inner.split(",")
        if len(tokens) > MAX_INDICES:
            raise QueryError(f"{text}: {len(tokens)} indices, a task has at most {MAX_INDICES}")
        indices = tuple(_index(tok, i, text) for i, tok in enumerate(tokens))
        return Query(kind="kernel", name=name, indices=indices)
    return Query(kind="text", name=text)


def _kernel_ids(kernel_names: Sequence[str], fits: Callable[[str], bool]) -> np.ndarray:
    return np.array([k for k, name in enumerate(kernel_names) if fits(name)], dtype=np.int64)


def _mask(trace: np.ndarray, kernel_names: Sequence[str], query: Query) -> np.ndarray:
    if query.kind == "worker":
        return np.asarray(trace["worker"] == query.number)
    if query.kind == "stream":
        return np.asarray(trace["stream"] == query.number)
    if query.kind == "text":
        needle = query.name.casefold()
        ids = _kernel_ids(kernel_names, lambda name: needle in name.casefold())
        return np.isin(trace["kernel"], ids)
    if query.kind != "kernel":
        raise QueryError(f"unknown query kind {query.kind!r}")
    exact = _kernel_ids(kernel_names, lambda name: name == query.name)
    if not len(exact):  # "Attn[1]" still finds attn when no kernel is spelt that way
        wanted = query.name.casefold()
        exact = _kernel_ids(kernel_names, lambda name: name.casefold() == wanted)
    if len(exact) == 1:
        mask = np.asarray(trace["kernel"] == exact[0])
    else:
        mask = np.isin(trace["kernel"], exact)
    n = len(query.indices)
    for i, want in enumerate(query.indices):
        column = trace[f"idx{i}"]
        mask &= column >= 0 if want is None else column == want
    if n < MAX_INDICES:  # exactly n loop indices: the next one is absent (-1)
        mask &= trace[f"idx{n}"] < 0
    return mask


def start_order(trace: np.ndarray) -> np.ndarray:
    """The rows of ``trace`` by start cycle (ties by row): compute once per trace, pass to
    ``matches`` so that each search is a gather instead of a sort."""
    return np.argsort(trace["start"], kind="stable").astype(np.int64)


def matches(
    trace: np.ndarray,
    kernel_names: Sequence[str],
    query: Query,
    order: np.ndarray | None = None,
) -> np.ndarray:
    """The rows of ``trace`` that ``query`` matches, ordered by start cycle (then row).

    ``order`` is ``start_order(trace)`` when the caller keeps it (the timeline does): the result
    is then ``order`` filtered by the match mask, with no sort however many rows match.
    """
    mask = _mask(trace, kernel_names, query)
    if order is not None:
        if len(order) != len(trace):
            raise QueryError(
                f"search: the start order has {len(order)} rows, the trace {len(trace)}"
            )
        return np.asarray(order[mask[order]], dtype=np.int64)
    rows = np.flatnonzero(mask)
    if len(rows) < 2:
        return rows.astype(np.int64)
    starts = trace["start"][rows]
    if bool(np.all(starts[1:] >= starts[:-1])):  # already in start order (the common case)
        return rows.astype(np.int64)
    return rows[np.argsort(starts, kind="stable")].astype(np.int64)
