"""Affine forms for tracing: ``sum(coeff * var) + const`` with integer coefficients.

The canonical affine analysis lives in C++ on the IR (``cpp_backend/ir/affine.h``): it gives
a lowered slice ``[i*T : (i+1)*T]`` its static extent T (``View::shape_of``) and proves that the
tasks of a loop touch disjoint regions (the cpu_sim emitter). Before any IR exists, two places
need one thing of it: the constant length of such a slice, so that a view can be judged against
a ``Tile[r, c]`` where it is written. The DSL's ``Tensor.__getitem__`` asks on scalar
expressions (``pto_wsp.language.tensor``), the Studio's live shape check asks on the index text
(``app.model.shape_checks``). Both walk their own trees and combine the parts here, so the
algebra (what is affine, how terms cancel) is written once on this side. Nothing here proves
disjointness; that is the IR's job.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["Affine", "constant", "variable", "negate", "combine", "constant_difference"]

Affine = tuple[dict[Hashable, int], int]
"""``({var: coefficient}, constant)``; coefficients are non-zero."""


def constant(c: int) -> Affine:
    return {}, c


def variable(key: Hashable) -> Affine:
    return {key: 1}, 0


def negate(a: Affine | None) -> Affine | None:
    if a is None:
        return None
    return {k: -c for k, c in a[0].items()}, -a[1]


def combine(op: str, a: Affine | None, b: Affine | None) -> Affine | None:
    """``a op b`` for ``op`` in add / sub / mul; None when either side, or the result, is not
    affine (a product of two variable parts)."""
    if a is None or b is None:
        return None
    if op == "mul":
        if a[0] and b[0]:
            return None
        (terms, _), k = (b, a[1]) if not a[0] else (a, b[1])
        return ({v: c * k for v, c in terms.items() if c * k}, a[1] * b[1])
    if op not in ("add", "sub"):
        return None
    sign = 1 if op == "add" else -1
    terms = dict(a[0])
    for v, c in b[0].items():
        terms[v] = terms.get(v, 0) + sign * c
    return ({v: c for v, c in terms.items() if c}, a[1] + sign * b[1])


def constant_difference(stop: Affine | None, start: Affine | None) -> int | None:
    """``stop - start`` when the variable terms cancel (``(i + 1) * T - i * T`` is T)."""
    diff = combine("sub", stop, start)
    return None if diff is None or diff[0] else diff[1]
