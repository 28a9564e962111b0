"""The one affine analysis: C++ on the IR (cpp_backend/ir/affine.h) owns it; before any IR exists
the DSL's tracing (pto_wsp.language.tensor) and the Studio's live check (app.model.shape_checks)
only need the constant length of a slice, through the shared algebra pto_wsp.language.affine.
All three give a slice [start:stop] the same static length (or none) for each case below, but
one: tracing also knows the length when both bounds add constants to the same non-affine
expression (``X[s[b] : s[b] + 4]``, or ``i*j`` below), which the IR leaves to the run-time check.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

from app.model import shape_checks
from pto_wsp import Dense, Tensor
from pto_wsp._core import ir
from pto_wsp.language import affine
from pto_wsp.language.scalar_expr import LoopVar

_IR_OPS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.FloorDiv: "floordiv",
    ast.Mod: "mod",
}


def _ir_expr(node: ast.expr, ids: dict[str, int]) -> ir.Expr:
    if isinstance(node, ast.Constant):
        return ir.Expr.int(node.value)
    if isinstance(node, ast.Name):
        return ir.Expr.var(node.id, ids[node.id])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return ir.Expr.unary("neg", _ir_expr(node.operand, ids))
    assert isinstance(node, ast.BinOp)
    return ir.Expr.binary(
        _IR_OPS[type(node.op)], _ir_expr(node.left, ids), _ir_expr(node.right, ids)
    )


# (start, stop, static length or None, the length tracing knows)
CASES = [
    ("i*4", "(i+1)*4", 4, 4),
    ("i*4 + 2", "i*4 + 6", 4, 4),
    ("2*j - i", "-i + 2*j + 3", 3, 3),
    ("i", "i + j", None, None),  # the length varies with j
    ("i*j", "i*j + 4", None, 4),  # a product of variables is not affine; the same base + 4
    ("i // 2", "i // 2 + 3", None, 3),  # nor is floor division
    ("i*j", "j*i + 4", None, None),
    ("3", "7", 4, 4),
]


@pytest.mark.parametrize(("start", "stop", "length", "traced"), CASES)
def test_every_side_gives_a_slice_the_same_static_length(start, stop, length, traced) -> None:
    # C++ on the IR: View::shape_of, what the emitters check views against tiles with
    ids = {"i": 1, "j": 2}
    lo, hi = (_ir_expr(ast.parse(t, mode="eval").body, ids) for t in (start, stop))
    m = ir.Module("m")
    m.add_tensor("X", [64], "f32")
    assert m.view_shape(ir.View(0, [ir.Index.range(lo, hi)])) == [-1 if length is None else length]

    # the DSL while tracing: Tensor.__getitem__ with loop variables
    env = {"i": LoopVar("i", Dense[4]), "j": LoopVar("j", Dense[4])}
    view = Tensor(np.zeros(64, np.float32), name="X")[eval(start, env) : eval(stop, env)]  # noqa: S307
    assert view.shape == (traced,)

    # the Studio's live check on the index text
    assert shape_checks.view_shape([64], f"{start}:{stop}") == (length,)


def test_the_shared_algebra() -> None:
    i, j = affine.variable("i"), affine.variable("j")
    four_i = affine.combine("mul", affine.constant(4), i)
    assert four_i == ({"i": 4}, 0)
    assert affine.combine("mul", i, j) is None
    assert affine.combine("sub", four_i, four_i) == ({}, 0)  # cancelled terms are dropped
    assert affine.negate(four_i) == ({"i": -4}, 0)
    assert affine.combine("floordiv", i, affine.constant(2)) is None
    assert (
        affine.constant_difference(affine.combine("add", four_i, affine.constant(4)), four_i) == 4
    )
    assert affine.constant_difference(j, four_i) is None
