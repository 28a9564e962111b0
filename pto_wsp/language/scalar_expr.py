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
from . import scalar_types as st
from .scalar_types import BINARY_OPS

UNARY_OPS = {"neg": "-", "not": "~", "abs": "abs"}

_var_ids = itertools.count(1)


class ScalarExpr:
    """A node of a scalar expression tree.

    kind is one of: ``const`` (value), ``var`` (a loop variable: name, id), ``axis`` (a loop
    variable referred to by name, resolved at lowering), ``symbol`` (a runtime symbol: name),
    ``slot`` (runtime slot: value = index), ``load`` (an element of a tensor: args = (view,)),
    ``unary``/``binary`` (op, args), ``select`` (args = (cond, a, b)), ``cast`` (value = the
    target type, args = (x,)), ``task_param`` (a schedule key's ``t.params[i]``: value = i).

    ``stype`` is the expression's type (``scalar_types``): the rules are checked as a node is
    built, so a misuse is a ``TypeCheckError`` at the user's line.
    """

    __slots__ = ("kind", "op", "args", "value", "name", "_stype", "__weakref__")
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
        self._stype: str | None = None

    @property
    def stype(self) -> str:
        """``bool``, ``i64``, ``u64``, ``f64`` or ``int`` (an integer literal, which adapts)."""
        if self._stype is None:
            self._stype = _type_of(self)
        return self._stype

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
        e = ScalarExpr("select", args=(as_expr(cond), as_expr(a), as_expr(b)))
        _typed(e)
        return e

    @staticmethod
    def task_param(index: int) -> ScalarExpr:
        return ScalarExpr("task_param", value=int(index))

    # ---- operators -----------------------------------------------------------------
    def _bin(self, op: str, other: Any, reverse: bool = False) -> ScalarExpr:
        other = as_expr(other)
        a, b = (other, self) if reverse else (self, other)
        e = ScalarExpr("binary", op=op, args=(a, b))
        _typed(e)
        return e

    def _unary(self, op: str) -> ScalarExpr:
        e = ScalarExpr("unary", op=op, args=(self,))
        _typed(e)
        return e

    # ---- casts and choice (the reference implementation's forms) -------------------
    def cast_i64(self) -> ScalarExpr:
        """This value as a signed 64-bit integer: a bool is 0/1, a u64 keeps its bits, a float
        is truncated toward zero."""
        return ScalarExpr("cast", value=st.I64, args=(self,))

    def cast_u64(self) -> ScalarExpr:
        """This value as an unsigned 64-bit integer: a bool is 0/1, an i64 keeps its bits
        (-1 is 2**64 - 1), a float is truncated toward zero first."""
        return ScalarExpr("cast", value=st.U64, args=(self,))

    def cast_bool(self) -> ScalarExpr:
        """``self != 0`` as a bool (a predicate)."""
        return ScalarExpr("cast", value=st.BOOL, args=(self,))

    def where(self, a: Any, b: Any) -> ScalarExpr:
        """``a`` where this predicate holds, else ``b`` (both evaluated per task)."""
        if self.stype != st.BOOL:
            raise TypeCheckError(
                f"pred.where(a, b) needs a bool predicate, but {self} is {self.stype}; compare "
                "it (x != 0) or use x.cast_bool()",
                loc=user_location(),
            )
        return ScalarExpr.select(self, a, b)

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

    def __rlshift__(self, o: Any) -> ScalarExpr:
        return self._bin("shl", o, True)

    def __rrshift__(self, o: Any) -> ScalarExpr:
        return self._bin("shr", o, True)

    def __neg__(self) -> ScalarExpr:
        return self._unary("neg")

    def __pos__(self) -> ScalarExpr:
        if self.stype == st.BOOL:
            self._unary("neg")  # raises: arithmetic on a bool
        return self

    def __invert__(self) -> ScalarExpr:
        return self._unary("not")

    def __abs__(self) -> ScalarExpr:
        return self._unary("abs")

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
    Python name stay distinct in the IR. ``reference_name`` is the name the reference
    implementation would give it (``recording.REFERENCE_GRID_NAMES``), which schedule keys accept
    when no user name matches.
    """

    __slots__ = ("axis", "id", "index", "loop", "reference_name")

    def __init__(self, name: str, axis: Any = None, index: int = 0):
        super().__init__("var", name=name)
        self.axis = axis
        self.index = int(index)
        self.id = next(_var_ids)
        self.loop: Any = None  # the LoopNode / ConsumeNode that binds it (set when recorded)
        self.reference_name: str | None = None


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


def _literal(e: ScalarExpr) -> int | None:
    v = e.value
    return v if e.kind == "const" and isinstance(v, int) and not isinstance(v, bool) else None


def _typed(e: ScalarExpr) -> None:
    """Compute ``e``'s type now: a broken rule is a ``TypeCheckError`` where it was written."""
    try:
        e._stype = _type_of(e)
    except st.ScalarTypeError as err:
        raise TypeCheckError(f"{err} (in {e})", loc=user_location()) from None


def _load_type(view: Any) -> str:
    from .dtype_table import BY_NAME  # standard library only

    dtype = getattr(view, "dtype", None)
    spec = BY_NAME.get(str(getattr(dtype, "value", dtype)))
    if spec is None:
        return st.I64
    if spec.is_float:
        return st.F64
    if spec.kind == "bool":
        return st.BOOL
    return st.U64 if spec.name == "u64" else st.I64


def _type_of(e: ScalarExpr) -> str:
    k = e.kind
    if k == "const":
        v = e.value
        if isinstance(v, bool):
            return st.BOOL
        return st.LIT if isinstance(v, int) else st.F64
    if k in ("var", "axis", "task_param"):
        return st.I64
    if k in ("symbol", "slot"):
        return st.U64
    if k == "load":
        return _load_type(e.args[0])
    if k == "event_query":
        return st.BOOL
    if k == "cast":
        return str(e.value)
    if k == "unary":
        return st.unary_type(e.op, e.args[0].stype)
    if k == "binary":
        a, b = e.args
        return st.binary_type(e.op, a.stype, b.stype, _literal(a), _literal(b))
    if k == "select":
        c, a, b = e.args
        if c.stype != st.BOOL and c.stype not in (st.I64, st.U64, st.LIT):
            raise st.ScalarTypeError(f"select's condition is {c.stype}, not a bool")
        if (a.stype == st.BOOL) != (b.stype == st.BOOL):
            raise st.ScalarTypeError(
                "where(a, b) chooses between a bool and a number; give both the same type "
                "(.cast_i64() or .cast_bool())"
            )
        if a.stype == st.BOOL:
            return st.BOOL
        return st.unify(a.stype, b.stype, _literal(a), _literal(b))
    return st.I64


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
    if k == "cast":
        inner, p = _text(e.args[0], view_text, key)
        return (inner if p >= _ATOM else f"({inner})") + f".cast_{e.value}()", _ATOM
    if k == "task_param":
        return f"t.params[{e.value}]", _ATOM
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
