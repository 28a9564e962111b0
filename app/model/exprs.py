"""Safe checking of expression properties (index expressions, predicates, schedule keys).

A project file is data, so an ``expr`` property is never evaluated here: it is parsed with
``ast`` and walked against a whitelist (names, numbers, arithmetic, comparisons, boolean ops,
subscripts, slices, tuples and calls of ``t.get("...")`` for schedule keys). The exporter
writes the text verbatim into the script, where the DSL turns it into a ScalarExpr.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Iterable

TASK_VAR = "t"
"""The task parameter of schedule keys: ``t.get("batch")`` becomes ``lambda t: t.get("batch")``."""

_BINOPS = (
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.LShift,
    ast.RShift,
    ast.BitAnd,
    ast.BitOr,
    ast.BitXor,
)
_UNARYOPS = (ast.UAdd, ast.USub, ast.Not, ast.Invert)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def parse(text: str) -> ast.Expression:
    """Parse ``text`` as one Python expression; SyntaxError for anything else."""
    return ast.parse(text.strip(), mode="eval")


def _is_task_get(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Name)
        and func.value.id == TASK_VAR
    )


def _walk(node: ast.AST, problems: list[str], found: set[str]) -> None:
    """Check ``node`` against the whitelist; collect problems and the free names used."""
    if isinstance(node, ast.Expression):
        _walk(node.body, problems, found)
    elif isinstance(node, ast.Name):
        found.add(node.id)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or isinstance(node.value, int | float):
            return
        problems.append(f"constant {node.value!r} is not allowed (only numbers and True/False)")
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINOPS):
            problems.append(f"operator {type(node.op).__name__} is not allowed")
        _walk(node.left, problems, found)
        _walk(node.right, problems, found)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, _UNARYOPS):
            problems.append(f"operator {type(node.op).__name__} is not allowed")
        _walk(node.operand, problems, found)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, _CMPOPS):
                problems.append(f"comparison {type(op).__name__} is not allowed")
        _walk(node.left, problems, found)
        for c in node.comparators:
            _walk(c, problems, found)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            _walk(v, problems, found)
    elif isinstance(node, ast.Subscript):
        _walk(node.value, problems, found)
        _walk(node.slice, problems, found)
    elif isinstance(node, ast.Slice):
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                _walk(part, problems, found)
    elif isinstance(node, ast.Tuple):
        for elt in node.elts:
            _walk(elt, problems, found)
    elif isinstance(node, ast.Call):
        if not _is_task_get(node) or node.keywords or len(node.args) != 1:
            problems.append('calls are not allowed, except t.get("name") in schedule keys')
            return
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            problems.append('t.get needs one string literal, e.g. t.get("batch")')
        found.add(TASK_VAR)
    elif isinstance(node, ast.Attribute):
        problems.append(f"attribute access .{node.attr} is not allowed")
    else:
        problems.append(f"{type(node).__name__} is not allowed in an expression")


def check(text: str) -> tuple[list[str], set[str]]:
    """``(problems, names)`` for ``text``: syntax/whitelist problems and the free names used."""
    if not isinstance(text, str):
        return [f"expected an expression string, got {type(text).__name__}"], set()
    if not text.strip():
        return ["expression is empty"], set()
    try:
        tree = parse(text)
    except SyntaxError as err:
        return [f"syntax error: {err.msg} in {text!r}"], set()
    problems: list[str] = []
    found: set[str] = set()
    _walk(tree, problems, found)
    return problems, found


def check_index(text: str) -> tuple[list[str], set[str]]:
    """``check`` for the index of a subscript: ``b, h``, ``k * 32:k * 32 + 32``, ``0, :``.

    Slices are legal only inside brackets, so the text is parsed as ``_[text]`` and must come
    back as exactly that one subscript (``0] + x[1`` does not).
    """
    if not isinstance(text, str):
        return [f"expected an index string, got {type(text).__name__}"], set()
    if not text.strip():
        return ["index is empty"], set()
    try:
        tree = ast.parse(f"_[{text.strip()}]", mode="eval")
    except SyntaxError as err:
        return [f"syntax error: {err.msg} in {text!r}"], set()
    body = tree.body
    if not (
        isinstance(body, ast.Subscript)
        and isinstance(body.value, ast.Name)
        and body.value.id == "_"
    ):
        return [f"not a single index: {text!r}"], set()
    problems: list[str] = []
    found: set[str] = set()
    _walk(body.slice, problems, found)
    return problems, found


def validate_index(text: str, names_in_scope: Iterable[str]) -> list[str]:
    """``validate`` for the index of a subscript (see ``check_index``)."""
    problems, used = check_index(text)
    for name in sorted(used - set(names_in_scope)):
        problems.append(f"unknown name {name!r}")
    return problems


def names(text: str) -> set[str]:
    """The free names an expression uses (``t`` for ``t.get``); empty if it does not parse."""
    return check(text)[1]


def validate(text: str, names_in_scope: Iterable[str]) -> list[str]:
    """Problems with ``text``: syntax, constructs outside the whitelist, unknown names."""
    problems, used = check(text)
    scope = set(names_in_scope)
    for name in sorted(used - scope):
        problems.append(f"unknown name {name!r}")
    return problems


def is_identifier(name: str) -> bool:
    """A Python identifier usable as a variable in the exported script."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def split_names(text: str) -> list[str]:
    """``"b, h"`` -> ``["b", "h"]`` (loop variables and similar name lists)."""
    return [part.strip() for part in text.split(",") if part.strip()]


__all__ = [
    "TASK_VAR",
    "parse",
    "check",
    "check_index",
    "names",
    "validate",
    "validate_index",
    "is_identifier",
    "split_names",
]
