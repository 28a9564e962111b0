"""The type rules of scalar expressions (spec §3.4 ScalarExpr, §3.8 slots; issue #17).

Every ``ScalarExpr`` has one of these types, computed when it is built, so a mistake is a
``TypeCheckError`` at the user's line instead of a wrong number in a run:

* ``bool``: comparisons, ``query(event)``, ``cast_bool()``, bool constants and bool tensor
  elements;
* ``i64``: loop variables, schedule-key axis values (``t.get``), ``t.params[i]``, ``cast_i64()``
  and signed or small unsigned integer tensor elements;
* ``u64``: runtime slots (``slot_u64``), runtime symbols (``symbol_u64``, ``Symbol``),
  ``cast_u64()`` and u64 tensor elements;
* ``f64``: float constants, float tensor elements and true division ``/``;
* ``int``: an integer literal, which adapts to the other operand (``slot_u64(0) + 1`` is u64,
  ``b + 1`` is i64).

The rules (the reference implementation's, except where docs/semantics.md "Coming from the
reference implementation" says otherwise):

* arithmetic (``+ - * // % min max``, unary ``-`` and ``abs``) on a bool is an error: say
  ``.cast_i64()`` to count with it;
* ``& | ^`` are logical on two bools and bitwise on two integers (a 0/1 literal adapts to a
  bool); a bool mixed with an integer is an error; shifts are bitwise on integers only;
* ``~`` is logical not on a bool and bitwise not on an integer (Python's ``~x == -x - 1``);
* comparisons give bool; only ``==``/``!=`` compare two bools;
* an i64 (a loop variable) mixes with a u64 (a slot or symbol) without a cast, as spec §3.8's
  keys and predicates do; the result is i64, so ``b - slot_u64(0)`` may be negative. Two u64
  operands stay u64: comparisons, ``//``, ``%`` and ``>>`` are unsigned and ``-`` wraps;
* any operand f64 makes the result f64; bitwise operators and shifts refuse floats.

Standard library only; ``scalar_expr`` applies these rules to its nodes.
"""

from __future__ import annotations

__all__ = [
    "BINARY_OPS",
    "BOOL",
    "I64",
    "U64",
    "F64",
    "LIT",
    "TYPES",
    "ScalarTypeError",
    "binary_type",
    "unary_type",
    "unify",
    "operand_type",
    "UNSIGNED_OPS",
]

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
"""Every binary operator of a scalar expression and how Python spells it."""

BOOL, I64, U64, F64, LIT = "bool", "i64", "u64", "f64", "int"
TYPES: tuple[str, ...] = (BOOL, I64, U64, F64, LIT)

ARITH = frozenset({"add", "sub", "mul", "floordiv", "mod", "min", "max"})
ORDER = frozenset({"lt", "le", "gt", "ge"})
EQUALITY = frozenset({"eq", "ne"})
LOGIC = frozenset({"and", "or", "xor"})
SHIFTS = frozenset({"shl", "shr"})
UNSIGNED_OPS = frozenset({"lt", "le", "gt", "ge", "floordiv", "mod", "shr"})
"""Operators whose result differs when their operands are u64: lowering gives them the IR's
unsigned form (``ult``, ``ufloordiv``, ...) when ``operand_type`` is u64."""

U64_MAX = (1 << 64) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


class ScalarTypeError(Exception):
    """A rule was broken; ``str()`` says which and what to write instead."""


def _is_int(t: str) -> bool:
    return t in (I64, U64, LIT)


def _check_literal(value: int | None, t: str) -> None:
    """An integer literal that adapts to ``t`` must fit it."""
    if value is None:
        return
    if t == U64 and not 0 <= value <= U64_MAX:
        raise ScalarTypeError(f"the literal {value} does not fit u64 (0 .. 2**64 - 1)")
    if t in (I64, LIT) and not I64_MIN <= value <= I64_MAX and not 0 <= value <= U64_MAX:
        raise ScalarTypeError(f"the literal {value} does not fit 64 bits")


def unify(ta: str, tb: str, lit_a: int | None = None, lit_b: int | None = None) -> str:
    """The numeric type two non-bool operands are computed in."""
    if F64 in (ta, tb):
        return F64
    if ta == LIT and tb == LIT:
        return LIT
    if ta == LIT:
        _check_literal(lit_a, tb)
        return tb
    if tb == LIT:
        _check_literal(lit_b, ta)
        return ta
    return ta if ta == tb else I64  # i64 with u64: computed as i64 (module docstring)


def operand_type(op: str, ta: str, tb: str) -> str:
    """The type a binary ``op``'s operands are computed in (after the rules were checked)."""
    if BOOL in (ta, tb):
        return BOOL
    return unify(ta, tb)


def _bool_operands(
    op: str, ta: str, tb: str, lit_a: int | None, lit_b: int | None, mismatch: str
) -> bool:
    """True when both operands are bools (a 0/1 integer literal counts as one); False when
    neither is; a bool beside anything else is a ``ScalarTypeError`` whose message is
    ``mismatch`` (with ``{}`` for the other operand's type) and the casts that fix it."""
    if BOOL not in (ta, tb):
        return False
    other, lit = (tb, lit_b) if ta == BOOL else (ta, lit_a)
    if other in (BOOL, LIT) and (other == BOOL or lit in (0, 1)):
        return True
    raise ScalarTypeError(
        f"'{_SYMBOL[op]}' {mismatch.format(_a(other))}; convert one side with .cast_bool() "
        "or .cast_i64()"
    )


def binary_type(
    op: str, ta: str, tb: str, lit_a: int | None = None, lit_b: int | None = None
) -> str:
    """The result type of ``a <op> b``; ``lit_*`` is the value of an integer-literal operand
    (it adapts, and a 0/1 literal may stand for a bool)."""
    if op in LOGIC:
        mixed = "mixes a bool with {}: it is logical on two bools and bitwise on two integers"
        if _bool_operands(op, ta, tb, lit_a, lit_b, mixed):
            return BOOL
        if F64 in (ta, tb):
            raise ScalarTypeError(f"'{_SYMBOL[op]}' is bitwise and takes integers, not a float")
        return unify(ta, tb, lit_a, lit_b)
    if op in SHIFTS:
        if BOOL in (ta, tb):
            raise ScalarTypeError(
                f"'{_SYMBOL[op]}' on a bool: shifts are bitwise on integers; use .cast_i64()"
            )
        if F64 in (ta, tb):
            raise ScalarTypeError(f"'{_SYMBOL[op]}' is bitwise and takes integers, not a float")
        if ta == LIT and tb != LIT:  # 1 << b: the literal takes the shift count's type
            _check_literal(lit_a, tb)
            return tb
        _check_literal(lit_b, I64)
        return ta
    if op in EQUALITY:
        if _bool_operands(op, ta, tb, lit_a, lit_b, "compares a bool with {}"):
            return BOOL
        unify(ta, tb, lit_a, lit_b)
        return BOOL
    if BOOL in (ta, tb):
        raise ScalarTypeError(
            f"arithmetic on a bool ('{_SYMBOL[op]}'): a bool is a predicate, not a number; "
            "use .cast_i64() to count with it or pred.where(a, b) to choose a value"
        )
    t = unify(ta, tb, lit_a, lit_b)
    if op in ORDER:
        return BOOL
    if op == "div":
        return F64
    if op in ARITH:
        return t
    raise ScalarTypeError(f"unknown operator {op!r}")


def unary_type(op: str, t: str) -> str:
    """The result type of a unary ``op`` (``neg``, ``not`` = ``~``, ``abs``) on a ``t``."""
    if op == "not":
        if t == F64:
            raise ScalarTypeError("'~' is bitwise not on integers (logical not on bools), not on floats")  # fmt: skip
        return t
    if t == BOOL:
        name = "-" if op == "neg" else op
        raise ScalarTypeError(
            f"arithmetic on a bool ('{name}'): a bool is a predicate, not a number; use "
            "~pred for not, or .cast_i64() to count with it"
        )
    return t


def _a(t: str) -> str:
    return {LIT: "an integer literal", I64: "an i64", U64: "a u64", F64: "an f64"}.get(t, t)


_SYMBOL = BINARY_OPS
