"""Scalar expression types (issue #17 item 2): what each form gives and what is refused.

From the issue: ``cast_i64()``, ``cast_u64()``, ``cast_bool()`` and ``pred.where(a, b)``;
comparisons give bool; ``&``/``|`` are logical on bools and bitwise on integers; ``^`` and shifts
are bitwise; arithmetic on a bool is an error; integer literals adapt; loop variables (i64) mix
with ``slot_u64`` values. The numbers these compute are checked in
tests/backend/test_reference_scalars_e2e.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import Dense, P, Tensor, TypeCheckError, workload
from pto_wsp.language.compat import Symbol
from pto_wsp.language.scalar_expr import LoopVar, ScalarExpr, as_expr, axis, slot_u64, symbol_u64


def loop_var(name: str = "b") -> LoopVar:
    return LoopVar(name, Dense[4])


def test_leaves_have_the_reference_types() -> None:
    assert loop_var().stype == "i64"
    assert axis("batch").stype == "i64"
    assert slot_u64(0).stype == "u64"
    assert symbol_u64("n").stype == "u64"
    assert Symbol("n").stype == "u64"
    assert as_expr(True).stype == "bool"
    assert as_expr(3).stype == "int"  # a literal: adapts to the other side
    assert as_expr(2.5).stype == "f64"


def test_tensor_elements_take_their_dtype() -> None:
    f = Tensor(np.zeros(4, np.float32), name="f")
    i = Tensor(np.zeros(4, np.int32), name="i")
    u = Tensor(np.zeros(4, np.uint64), name="u")
    m = Tensor(np.zeros(4, np.bool_), name="m")
    b = loop_var()
    assert as_expr(f[b]).stype == "f64"
    assert as_expr(i[b]).stype == "i64"
    assert as_expr(u[b]).stype == "u64"
    assert as_expr(m[b]).stype == "bool"


def test_comparisons_give_bool() -> None:
    b, s = loop_var(), slot_u64(0)
    for e in (b < 3, b <= s, s > 1, b >= b, b == 2, s != b):
        assert e.stype == "bool", e


def test_integer_literals_adapt_and_i64_mixes_with_u64() -> None:
    b, s = loop_var(), slot_u64(0)
    assert (s + 1).stype == "u64"
    assert (1 + s).stype == "u64"
    assert (b + 1).stype == "i64"
    assert (s * 2 - 1).stype == "u64"
    assert (b + s).stype == "i64"  # a loop variable mixes with a slot value (spec §3.8)
    assert (s // b).stype == "i64"
    assert (s + 0.5).stype == "f64"
    assert (b / 2).stype == "f64"  # true division


def test_logic_on_bools_and_bitwise_on_integers() -> None:
    b, s = loop_var(), slot_u64(0)
    assert ((b < 2) & (s > 1)).stype == "bool"
    assert ((b < 2) | (b > 5)).stype == "bool"
    assert ((b < 2) ^ (b > 5)).stype == "bool"
    assert (~(b < 2)).stype == "bool"
    assert (b & 3).stype == "i64"
    assert (s | 1).stype == "u64"
    assert (b ^ s).stype == "i64"
    assert (b << 2).stype == "i64"
    assert (s >> 1).stype == "u64"
    assert (1 << b).stype == "i64"
    assert (~b).stype == "i64"
    # a 0/1 literal stands for a bool next to one
    assert ((b < 2) & 1).stype == "bool"
    assert ((b < 2) == 0).stype == "bool"


@pytest.mark.parametrize(
    "make",
    [
        lambda b: (b < 2) + 1,
        lambda b: 1 - (b < 2),
        lambda b: (b < 2) * b,
        lambda b: (b < 2) // 2,
        lambda b: (b < 2) % 2,
        lambda b: -(b < 2),
        lambda b: abs(b < 2),
        lambda b: (b < 2) < (b > 1),
        lambda b: (b < 2) << 1,
    ],
)
def test_arithmetic_on_a_bool_is_an_error(make) -> None:
    with pytest.raises(TypeCheckError, match=r"arithmetic on a bool|on a bool.*shifts") as info:
        make(loop_var())
    assert "cast_i64()" in str(info.value)
    assert info.value.loc is not None and info.value.loc.file == __file__


def test_a_bool_mixed_with_an_integer_is_refused_with_the_cast_to_write() -> None:
    b = loop_var()
    with pytest.raises(TypeCheckError, match=r"'&' mixes a bool with an i64.*cast_bool"):
        _ = (b < 2) & b
    with pytest.raises(TypeCheckError, match=r"'\|' mixes a bool with an integer literal"):
        _ = (b < 2) | 4
    with pytest.raises(TypeCheckError, match=r"'==' compares a bool with an i64"):
        _ = (b < 2) == b
    with pytest.raises(TypeCheckError, match=r"bitwise and takes integers, not a float"):
        _ = b & 0.5
    with pytest.raises(TypeCheckError, match=r"not on floats"):
        _ = ~as_expr(Tensor(np.zeros(4, np.float32), name="f")[b])


def test_literals_must_fit_their_type() -> None:
    s = slot_u64(0)
    assert (s == (1 << 64) - 1).stype == "bool"
    with pytest.raises(TypeCheckError, match=r"literal -1 does not fit u64"):
        _ = s + -1
    with pytest.raises(TypeCheckError, match=r"does not fit 64 bits"):
        _ = loop_var() + (1 << 70)


def test_casts_and_where() -> None:
    b, s = loop_var(), slot_u64(0)
    assert (b < 2).cast_i64().stype == "i64"
    assert ((b < 2).cast_i64() + 1).stype == "i64"  # the cast makes it countable
    assert b.cast_u64().stype == "u64"
    assert s.cast_i64().stype == "i64"
    assert b.cast_bool().stype == "bool"
    assert (b < 2).where(b, s).stype == "i64"
    assert (b < 2).where(s, 1).stype == "u64"
    assert (b < 2).where(True, b > 1).stype == "bool"
    assert str((b + 1).cast_u64()) == "(b + 1).cast_u64()"
    assert str((b < 2).where(b, 0)) == "select(b < 2, b, 0)"
    with pytest.raises(TypeCheckError, match=r"needs a bool predicate.*cast_bool"):
        b.where(1, 2)
    with pytest.raises(TypeCheckError, match=r"chooses between a bool and a number"):
        (b < 2).where(b > 1, 3)


def test_the_rules_apply_inside_a_workload_body_at_the_users_line() -> None:
    X = Tensor(np.zeros((4, 2, 2), np.float32), name="X")

    @workload
    def bad():
        for i in P(Dense[4]):
            _ = X[(i < 2) + 1]

    with pytest.raises(TypeCheckError, match="arithmetic on a bool") as info:
        bad()
    assert info.value.loc is not None and info.value.loc.file == __file__
    assert "X[(i < 2) + 1]" in info.value.loc.text


def test_every_node_kind_has_a_type() -> None:
    """A type is computed for every kind the DSL builds (no kind falls through silently)."""
    b = loop_var()
    kinds = {
        "const": as_expr(1),
        "var": b,
        "axis": axis("x"),
        "symbol": symbol_u64("s"),
        "slot": slot_u64(1),
        "unary": -b,
        "binary": b + 1,
        "select": (b < 1).where(1, 2),
        "cast": b.cast_bool(),
        "task_param": ScalarExpr.task_param(0),
    }
    for kind, e in kinds.items():
        assert e.kind == kind
        assert e.stype in ("bool", "i64", "u64", "f64", "int")
