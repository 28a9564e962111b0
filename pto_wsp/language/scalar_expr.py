"""Symbolic scalar expressions (spec §3.4 "ScalarExpr", §3.8 slots).

Loop variables, index arithmetic (``Q[b, h + 1]``), predicates (``seq_lens[b] <= 2048``) and
schedule keys (``lambda t: t.get("head") % 2``) are all ``ScalarExpr`` trees. They are never
evaluated in Python during a run: lowering turns them into IR expressions that the generated
artifact evaluates per task.

Public helpers (v9 compatibility): ``slot_u64(i)``, ``axis(name)``, ``symbol_u64(name)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..errors import TypeCheckError, user_location

BINARY_OPS = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "floordiv": "//",
    "mod": "%",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "and": "&",
    "or": "|",
    "xor": "^",
    "shl": "<<",
    "shr": ">>",
    "min": "min",
    "max": "max",
}
UNARY_OPS = {"neg": "-", "not": "~", "abs": "abs"}

_var_ids = itertools.count(1)


class ScalarExpr:
    """A node of a scalar expression tree.

    kind is one of: ``const`` (value), ``var`` (a loop variable: name, id), ``axis`` (a loop
    variable referred to by name, resolved at lowering), ``symbol`` (a runtime symbol: name),
    ``slot`` (runtime slot: value = index), ``load`` (an element of a tensor: args = (view,)),
    ``unary``/``binary`` (op, args), ``select`` (args = (cond, a, b)).
    """

    __slots__ = ("kind", "op", "args", "value", "name", "__weakref__")
    __hash__ = object.__hash__  # == is overloaded to build expressions; identity hashing

    def __init__(
        self,
        kind: str,
        *,
        op: str = "",
        args: tuple = (),
        value: Any = None,
        name: str | None = None,
    ):
        self.kind = kind
        self.op = op
        self.args = args
        self.value = value
        self.name = name

    # ---- constructors -------------------------------------------------------------
    @staticmethod
    def const(value: int | float | bool) -> ScalarExpr:
        return ScalarExpr("const", value=value)

    @staticmethod
    def symbol(name: str) -> ScalarExpr:
        return ScalarExpr("symbol", name=name)

    @staticmethod
    def slot(index: int) -> ScalarExpr:
        return ScalarExpr("slot", value=int(index))

    @staticmethod
    def axis_ref(name: str) -> ScalarExpr:
        return ScalarExpr("axis", name=name)

    @staticmethod
    def load(view: Any) -> ScalarExpr:
        return ScalarExpr("load", args=(view,))

    @staticmethod
    def select(cond: Any, a: Any, b: Any) -> ScalarExpr:
        return ScalarExpr("select", args=(as_expr(cond), as_expr(a), as_expr(b)))

    # ---- operators -----------------------------------------------------------------
    def _bin(self, op: str, other: Any, reverse: bool = False) -> ScalarExpr:
        other = as_expr(other)
        a, b = (other, self) if reverse else (self, other)
        return ScalarExpr("binary", op=op, args=(a, b))

    def __add__(self, o: Any) -> ScalarExpr:
        return self._bin("add", o)

    def __radd__(self, o: Any) -> ScalarExpr:
        return self._bin("add", o, True)

    def __sub__(self, o: Any) -> ScalarExpr:
        return self._bin("sub", o)

    def __rsub__(self, o: Any) -> ScalarExpr:
        return self._bin("sub", o, True)

    def __mul__(self, o: Any) -> ScalarExpr:
        return self._bin("mul", o)

    def __rmul__(self, o: Any) -> ScalarExpr:
        return self._bin("mul", o, True)

    def __truediv__(self, o: Any) -> ScalarExpr:
        return self._bin("div", o)

    def __rtruediv__(self, o: Any) -> ScalarExpr:
        return self._bin("div", o, True)

    def __floordiv__(self, o: Any) -> ScalarExpr:
        return self._bin("floordiv", o)

    def __rfloordiv__(self, o: Any) -> ScalarExpr:
        return self._bin("floordiv", o, True)

    def __mod__(self, o: Any) -> ScalarExpr:
        return self._bin("mod", o)

    def __rmod__(self, o: Any) -> ScalarExpr:
        return self._bin("mod", o, True)

    def __lt__(self, o: Any) -> ScalarExpr:
        return self._bin("lt", o)

    def __le__(self, o: Any) -> ScalarExpr:
        return self._bin("le", o)

    def __gt__(self, o: Any) -> ScalarExpr:
        return self._bin("gt", o)

    def __ge__(self, o: Any) -> ScalarExpr:
        return self._bin("ge", o)

    # ``==``/``!=`` build a predicate node (``seq_lens[b] == 0``), not a bool: a deliberate
    # break of object's signature that the type system cannot express otherwise.
    def __eq__(self, o: object) -> ScalarExpr:  # type: ignore[override]
        return self._bin("eq", o)

    def __ne__(self, o: object) -> ScalarExpr:  # type: ignore[override]
        return self._bin("ne", o)

    def __and__(self, o: Any) -> ScalarExpr:
        return self._bin("and", o)

    def __rand__(self, o: Any) -> ScalarExpr:
        return self._bin("and", o, True)

    def __or__(self, o: Any) -> ScalarExpr:
        return self._bin("or", o)

    def __ror__(self, o: Any) -> ScalarExpr:
        return self._bin("or", o, True)

    def __xor__(self, o: Any) -> ScalarExpr:
        return self._bin("xor", o)

    def __rxor__(self, o: Any) -> ScalarExpr:
        return self._bin("xor", o, True)

    def __lshift__(self, o: Any) -> ScalarExpr:
        return self._bin("shl", o)

    def __rshift__(self, o: Any) -> ScalarExpr:
        return self._bin("shr", o)

    def __neg__(self) -> ScalarExpr:
        return ScalarExpr("unary", op="neg", args=(self,))

    def __pos__(self) -> ScalarExpr:
        return self

    def __invert__(self) -> ScalarExpr:
        return ScalarExpr("unary", op="not", args=(self,))

    def __abs__(self) -> ScalarExpr:
        return ScalarExpr("unary", op="abs", args=(self,))

    def __bool__(self) -> bool:
        raise TypeCheckError(
            f"the symbolic value {self} has no Python truth value while a workload is traced; "
            "use P.when(...) for a runtime condition",
            loc=user_location(),
        )

    def __index__(self) -> int:
        raise TypeCheckError(
            f"the symbolic value {self} cannot index a Python sequence; "
            "put the data in a Tensor and index the Tensor",
            loc=user_location(),
        )

    # ---- inspection ----------------------------------------------------------------
    def walk(self) -> Iterator[ScalarExpr]:
        """Yield every node of the tree, parents first."""
        yield self
        for a in self.args:
            if isinstance(a, ScalarExpr):
                yield from a.walk()

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        """The expression as Python text with minimal parentheses (``to_text``)."""
        return to_text(self)


class LoopVar(ScalarExpr):
    """The variable a ``P``/``P.seq``/``P.sel`` loop (or a ``consume``) binds.

    ``axis`` is the axis object the loop iterates; ``index`` the variable's position among its
    loop's (``P.grid(a, b)``: 0 for a's, 1 for b's; the reference implementation's
    ``LoopVar(name, axis, index=0)``); ``id`` is unique per process, so two loops that reuse a
    Python name stay distinct in the IR.
    """

    __slots__ = ("axis", "id", "index", "loop")

    def __init__(self, name: str, axis: Any = None, index: int = 0):
        super().__init__("var", name=name)
        self.axis = axis
        self.index = int(index)
        self.id = next(_var_ids)
        self.loop: Any = None  # the LoopNode / ConsumeNode that binds it (set when recorded)


def as_expr(value: Any) -> ScalarExpr:
    """Coerce a Python number, numpy scalar, tensor element view or expression."""
    if isinstance(value, ScalarExpr):
        return value
    if isinstance(value, bool | np.bool_):
        return ScalarExpr.const(bool(value))
    if isinstance(value, int | np.integer):
        return ScalarExpr.const(int(value))
    if isinstance(value, float | np.floating):
        return ScalarExpr.const(float(value))
    hook = getattr(value, "__scalar_expr__", None)
    if hook is not None and not isinstance(value, type):  # the Tensor class is not an element
        return hook()
    raise TypeCheckError(
        f"expected a scalar (int, float, bool, loop variable or tensor element), got "
        f"{type(value).__name__}",
        loc=user_location(),
    )


def is_symbolic(value: Any) -> bool:
    return isinstance(value, ScalarExpr)


def smin(a: Any, b: Any) -> ScalarExpr:
    return as_expr(a)._bin("min", b)


def smax(a: Any, b: Any) -> ScalarExpr:
    return as_expr(a)._bin("max", b)


def slot_u64(index: int) -> ScalarExpr:
    """The value of runtime slot ``index`` as a u64 scalar (spec §3.8)."""
    return ScalarExpr.slot(index)


def axis(name: str) -> ScalarExpr:
    """A loop variable referred to by its name or its axis's name."""
    return ScalarExpr.axis_ref(name)


def symbol_u64(name: str) -> ScalarExpr:
    """A runtime symbol (bound when the program executes) as a u64 scalar."""
    return ScalarExpr.symbol(name)


# ------------------------------------------------------------------------------------------------
# the printer: the one place an expression becomes text
# ------------------------------------------------------------------------------------------------
PRECEDENCE = {
    "lt": 5, "le": 5, "gt": 5, "ge": 5, "eq": 5, "ne": 5,
    "or": 6, "xor": 7, "and": 8, "shl": 9, "shr": 9, "add": 10, "sub": 10,
    "mul": 11, "div": 11, "floordiv": 11, "mod": 11,
}  # fmt: skip
"""Python's binding strength of each infix operator of ``BINARY_OPS`` (higher binds tighter);
``min``/``max`` print as calls."""
_UNARY, _ATOM = 12, 13
_COMPARE = 5


def to_text(
    e: Any, *, view_text: Callable[[Any], str] | None = None, axis_as_key: bool = False
) -> str:
    """``e`` (an expression, a number or a tensor view) as Python text with the fewest
    parentheses Python needs: ``b * 4 + 1``, ``-(b + 1)``, ``(a < b) < c``.

    ``view_text`` spells a tensor element (a ``load``) or a view, by default by its name
    (``Q[b, h]``); ``axis_as_key`` spells an axis reference as a schedule key reads it
    (``t.get("head")``). Import Python writes a script's expressions into the graph with it, and
    every message shows expressions through ``str(expr)``, which is this.
    """
    return _text(e, view_text or _view_name, axis_as_key)[0]


def _view_name(view: Any) -> str:
    name = getattr(view, "name", None)
    return str(name) if name else repr(view)


def _text(e: Any, view_text: Callable[[Any], str], key: bool) -> tuple[str, int]:
    """``(text, binding strength of its outermost operator)``."""
    if isinstance(e, bool | np.bool_):
        return repr(bool(e)), _ATOM
    if isinstance(e, int | float | np.integer | np.floating):
        v = e.item() if isinstance(e, np.generic) else e
        return repr(v), _ATOM if not v < 0 else _UNARY
    if not isinstance(e, ScalarExpr):
        return view_text(e), _ATOM
    k = e.kind
    if k == "const":
        return _text(e.value, view_text, key)
    if k == "var":
        return str(e.name), _ATOM
    if k == "axis":
        return (f't.get("{e.name}")' if key else str(e.name)), _ATOM
    if k == "symbol":
        return f"symbol({e.name})", _ATOM
    if k == "slot":
        return f"slot({e.value})", _ATOM
    if k == "load":
        return view_text(e.args[0]), _ATOM
    if k == "unary":
        inner, p = _text(e.args[0], view_text, key)
        if e.op not in ("neg", "not"):
            return f"{UNARY_OPS.get(e.op, e.op)}({inner})", _ATOM
        return UNARY_OPS[e.op] + (inner if p >= _UNARY else f"({inner})"), _UNARY
    if k == "binary":
        a, pa = _text(e.args[0], view_text, key)
        b, pb = _text(e.args[1], view_text, key)
        prec = PRECEDENCE.get(e.op)
        if prec is None:
            return f"{BINARY_OPS.get(e.op, e.op)}({a}, {b})", _ATOM
        if pa < prec or (prec == _COMPARE and pa == _COMPARE):  # comparisons do not chain
            a = f"({a})"
        if pb <= prec:  # left-associative
            b = f"({b})"
        return f"{a} {BINARY_OPS[e.op]} {b}", prec
    if k == "select":
        c, x, y = (_text(a, view_text, key)[0] for a in e.args)
        return f"select({c}, {x}, {y})", _ATOM
    return f"<{k}>", _ATOM


__all__ = [
    "ScalarExpr",
    "LoopVar",
    "as_expr",
    "is_symbolic",
    "smin",
    "smax",
    "slot_u64",
    "axis",
    "symbol_u64",
    "PRECEDENCE",
    "to_text",
]
