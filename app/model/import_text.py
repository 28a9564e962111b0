"""Import Python's text of a DSL expression or view: what the graph stores for it.

The text itself comes from the one expression printer, ``pto_wsp.language.scalar_expr.to_text``
(minimal parentheses, axis references as ``t.get("name")`` in schedule keys). This module adds
what the graph needs on top: the check that an expression uses only what graph expressions
allow (names, numbers, arithmetic, comparisons and tensor elements), the index of a view
relative to its root (``Q[b, h]``, trailing whole dimensions left out) and the name the import
gave each root tensor (``naming_roots``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from pto_wsp.language.scalar_expr import PRECEDENCE, ScalarExpr, to_text
from pto_wsp.language.tensor import IndexPoint, Tensor, TensorView
from pto_wsp.language.tensor import index_text as tensor_index_text

__all__ = ["ScriptImportError", "expr_text", "view_text", "index_text", "naming_roots"]


class ScriptImportError(Exception):
    """The script could not be imported; ``str()`` is a one-line message for the user."""


def expr_text(e: Any, where: str, key: bool = False) -> str:
    """Python text for a ScalarExpr (minimal parentheses); ``key``: axis refs as t.get(...)."""
    _check(e, where)
    return to_text(e, view_text=lambda view: view_text(view, where), axis_as_key=key)


def _check(e: Any, where: str) -> None:
    """Refuse what graph expressions cannot express, outermost first, left to right."""
    if isinstance(e, bool | int | float):
        return
    if isinstance(e, Tensor | TensorView):
        for it in e.index_items:
            for part in (it.expr,) if isinstance(it, IndexPoint) else (it.start, it.stop):
                _check(part, where)
        return
    if not isinstance(e, ScalarExpr):
        raise ScriptImportError(f"{where}: cannot express {e!r} in the graph")
    k = e.kind
    if k in ("const", "var", "axis"):
        return
    if k == "load":
        _check(e.args[0], where)
        return
    if (k == "unary" and e.op in ("neg", "not")) or (k == "binary" and e.op in PRECEDENCE):
        for arg in e.args:
            _check(arg, where)
        return
    raise ScriptImportError(
        f"{where}: the expression {e} uses {e.op or k}, which graph expressions cannot express "
        "(they allow names, numbers, arithmetic, comparisons and tensor elements)"
    )


def view_text(view: Tensor | TensorView, where: str) -> str:
    """``Q[b, h]`` for a view of root ``Q`` (trailing full dimensions left out)."""
    text = index_text(view, where)
    return _root_name(view.root) + (f"[{text}]" if text else "")


def index_text(view: Tensor | TensorView, where: str) -> str:
    """The index of a view relative to its root: ``"b, h"``, ``"b * 4:b * 4 + 4"``, or ``""``
    (the language's index printer, in the graph's convention: trailing whole dimensions left
    out, a tensor element inside spelled by ``view_text``)."""
    _check(view, where)
    return tensor_index_text(
        view.index_items,
        view.root.shape,
        view_text=lambda v: view_text(v, where),
        full_tail=False,
    )


_root_namers: list[Callable[[Any], str]] = []


@contextlib.contextmanager
def naming_roots(namer: Callable[[Any], str]) -> Iterator[None]:
    """Within the block, a view's root tensor is spelled ``namer(root)``: the name of the node
    the import made of it (unique in the document), not the name the script gave it."""
    _root_namers.append(namer)
    try:
        yield
    finally:
        _root_namers.pop()


def _root_name(root: Any) -> str:
    if _root_namers:
        return _root_namers[-1](root)
    return str(getattr(root, "name", None) or "tensor")
