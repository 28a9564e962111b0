"""Safe checking of expression properties (index expressions, predicates, schedule keys).

A project file is data, so an ``expr`` property is never evaluated here: it is parsed with
``ast`` and walked against a whitelist (names, numbers, arithmetic, comparisons, boolean ops,
subscripts, slices, tuples and calls of ``t.get("...")`` for schedule keys), with limits
(``MAX_LENGTH`` characters, ``MAX_DEPTH`` levels, constants and constant subexpressions in
64-bit range) checked before anything costs time or memory. The exporter never writes the
text: ``render`` prints the parsed tree, so only whitelisted constructs reach the script,
where the DSL turns them into a ScalarExpr.
"""

from __future__ import annotations

import ast
import keyword
import math
import warnings
from collections.abc import Iterable

from . import pytext

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


MAX_LENGTH = 500
"""Characters in one expression (index, predicate, key): checked before it is parsed."""
MAX_DEPTH = 64
"""Nesting depth of the parsed expression tree."""
INT_BITS = 64
"""Integer constants and constant subexpressions fit in a signed 64-bit integer."""
_INT_MIN, _INT_MAX = -(2 ** (INT_BITS - 1)), 2 ** (INT_BITS - 1) - 1


def parse(text: str) -> ast.Expression:
    """Parse ``text`` as one Python expression; SyntaxError for anything else."""
    return ast.parse(text.strip(), mode="eval")


def _parse_bounded(source: str, text: str) -> tuple[ast.Expression | None, list[str]]:
    """``ast.parse(source)`` after the text checks (length, NUL, surrogates) and before the
    tree checks (depth): a bomb is refused before it costs time or memory."""
    if len(text) > MAX_LENGTH:
        return None, [f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}"]
    problem = pytext.text_problem(text)
    if problem is not None:
        return None, [f"expression {problem}"]
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" for 1if: the check says it
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        return None, [f"syntax error: {err.msg} in {text!r}"]
    except (ValueError, RecursionError, MemoryError) as err:  # defensive: bounded above
        return None, [f"cannot parse {text[:40]!r}: {type(err).__name__}"]
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        return None, [f"expression is nested {depth} deep; the limit is {MAX_DEPTH}"]
    return tree, []


def _depth(tree: ast.AST) -> int:
    """Nesting depth of ``tree`` (iterative: a deep tree must not exhaust the stack)."""
    best = 0
    stack = [(tree, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        if d > MAX_DEPTH + 1:
            break
        stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))
    return best


def _is_task_get(node: ast.Call) -> bool:
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and isinstance(func.value, ast.Name)
        and func.value.id == TASK_VAR
    )


_FOLD_BIN = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
    ast.LShift: lambda a, b: a << b,
    ast.RShift: lambda a, b: a >> b,
    ast.BitAnd: lambda a, b: a & b,
    ast.BitOr: lambda a, b: a | b,
    ast.BitXor: lambda a, b: a ^ b,
}
_FOLD_UNARY = {
    ast.UAdd: lambda a: +a,
    ast.USub: lambda a: -a,
    ast.Not: lambda a: not a,
    ast.Invert: lambda a: ~a,
}


def _number_problem(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            return f"exceeds the {INT_BITS}-bit integer range"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "is not a finite number"
    return "is not a real number"


def _fold_binop(op: ast.operator, a: object, b: object) -> object:
    """``a op b`` for constants, refusing before computing what would not fit in 64 bits."""
    if isinstance(a, int) and isinstance(b, int):
        if isinstance(op, ast.Pow) and b > 0 and abs(a) > 1 and (abs(a).bit_length() - 1) * b >= INT_BITS:  # fmt: skip
            raise OverflowError(f"{a} ** {b} exceeds the {INT_BITS}-bit integer range")
        if isinstance(op, ast.LShift) and b > INT_BITS and a != 0:
            raise OverflowError(f"{a} << {b} exceeds the {INT_BITS}-bit integer range")
    return _FOLD_BIN[type(op)](a, b)


def _fold(node: ast.AST) -> object:
    """The value of a constant subexpression (raises for overflow, /0, ...); ``_NOT_CONST``
    when it uses a name. Only called on trees that passed the whitelist and the depth limit."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _fold(node.left), _fold(node.right)
        if a is _NOT_CONST or b is _NOT_CONST:
            return _NOT_CONST
        return _fold_binop(node.op, a, b)
    if isinstance(node, ast.UnaryOp):
        a = _fold(node.operand)
        return a if a is _NOT_CONST else _FOLD_UNARY[type(node.op)](a)
    return _NOT_CONST


_NOT_CONST = object()


def _walk(node: ast.AST, problems: list[str], found: set[str]) -> None:
    """Check ``node`` against the whitelist; collect problems and the free names used."""
    if isinstance(node, ast.Expression):
        _walk(node.body, problems, found)
    elif isinstance(node, ast.Name):
        if not isinstance(node.ctx, ast.Load):
            problems.append(f"{type(node.ctx).__name__} of {node.id} is not allowed")
        found.add(node.id)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or isinstance(node.value, int | float):
            what = _number_problem(node.value)
            if what is not None:
                problems.append(f"constant {node.value!r:.40} {what}")
            return
        problems.append(f"constant {node.value!r:.40} is not allowed (only numbers and True/False)")
    elif isinstance(node, ast.BinOp | ast.UnaryOp):
        allowed = _BINOPS if isinstance(node, ast.BinOp) else _UNARYOPS
        if not isinstance(node.op, allowed):
            problems.append(f"operator {type(node.op).__name__} is not allowed")
            return
        before = len(problems)
        for child in (node.left, node.right) if isinstance(node, ast.BinOp) else (node.operand,):
            _walk(child, problems, found)
        if len(problems) == before:
            try:
                value = _fold(node)
            except (ArithmeticError, ValueError, TypeError) as err:
                problems.append(f"constant expression {ast.unparse(node)[:40]!r}: {err}")
                return
            if value is not _NOT_CONST:
                what = _number_problem(value)
                if what is not None:
                    problems.append(f"constant expression {ast.unparse(node)[:40]!r} {what}")
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
        elif not arg.value.isidentifier() or keyword.iskeyword(arg.value):
            problems.append(f"t.get needs the name of a loop variable, got {arg.value!r:.40}")
        found.add(TASK_VAR)
    elif isinstance(node, ast.Attribute):
        problems.append(f"attribute access .{node.attr} is not allowed")
    else:
        problems.append(f"{type(node).__name__} is not allowed in an expression")


ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare,
    ast.BoolOp, ast.Subscript, ast.Slice, ast.Tuple, ast.Call, ast.Attribute,
    *_BINOPS, *_UNARYOPS, *_CMPOPS, ast.And, ast.Or,
)  # fmt: skip
"""Every AST node type an accepted expression may contain (``ast.Attribute`` and
``ast.Call`` only as ``t.get("name")``): what the exporter can print back."""


def check(text: str) -> tuple[list[str], set[str]]:
    """``(problems, names)`` for ``text``: syntax/whitelist problems and the free names used."""
    if not isinstance(text, str):
        return [f"expected an expression string, got {type(text).__name__}"], set()
    if not text.strip():
        return ["expression is empty"], set()
    tree, problems = _parse_bounded(text.strip(), text)
    if tree is None:
        return problems, set()
    found: set[str] = set()
    _walk(tree, problems, found)
    return problems, found


def _index_tree(text: str) -> tuple[ast.expr | None, list[str]]:
    """The parsed index of ``_[text]`` (slices are legal only inside brackets)."""
    tree, problems = _parse_bounded(f"_[{text.strip()}]", text)
    if tree is None:
        return None, problems
    body = tree.body
    if not (
        isinstance(body, ast.Subscript)
        and isinstance(body.value, ast.Name)
        and body.value.id == "_"
    ):
        return None, [f"not a single index: {text!r}"]
    return body.slice, []


def check_index(text: str) -> tuple[list[str], set[str]]:
    """``check`` for the index of a subscript: ``b, h``, ``k * 32:k * 32 + 32``, ``0, :``.

    Slices are legal only inside brackets, so the text is parsed as ``_[text]`` and must come
    back as exactly that one subscript (``0] + x[1`` does not).
    """
    if not isinstance(text, str):
        return [f"expected an index string, got {type(text).__name__}"], set()
    if not text.strip():
        return ["index is empty"], set()
    index, problems = _index_tree(text)
    if index is None:
        return problems, set()
    found: set[str] = set()
    _walk(index, problems, found)
    return problems, found


def index_items(text: str) -> tuple[ast.expr, ...] | None:
    """The parsed items of an index that passes ``check_index`` (``b, 0:4`` -> a name and a
    slice), for reasoning about its shape; None when it does not pass."""
    problems, _ = check_index(text)
    if problems:
        return None
    index, _ = _index_tree(text)
    assert index is not None
    return tuple(index.elts) if isinstance(index, ast.Tuple) else (index,)


# ------------------------------------------------------------------------------------------
# printing: the exporter writes an expression from its parsed tree, never the text

_BIN_PREC = {
    ast.BitOr: 4, ast.BitXor: 5, ast.BitAnd: 6, ast.LShift: 7, ast.RShift: 7, ast.Add: 8,
    ast.Sub: 8, ast.Mult: 9, ast.Div: 9, ast.FloorDiv: 9, ast.Mod: 9, ast.Pow: 11,
}  # fmt: skip
_SYM = {
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.LShift: "<<", ast.RShift: ">>",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.UAdd: "+", ast.USub: "-", ast.Invert: "~", ast.Not: "not ",
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}  # fmt: skip
_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_CMP, _PREC_UNARY, _PREC_ATOM = 1, 2, 3, 3.5, 10, 12


def _render(node: ast.AST) -> tuple[str, float]:
    """(text, precedence) of a whitelisted node; operands are parenthesised only when needed."""
    if isinstance(node, ast.Name):
        return node.id, _PREC_ATOM
    if isinstance(node, ast.Constant):
        text = pytext.literal(node.value)
        return text, _PREC_UNARY if text.startswith("-") else _PREC_ATOM
    if isinstance(node, ast.BinOp):
        prec = _BIN_PREC[type(node.op)]
        left, lp = _render(node.left)
        right, rp = _render(node.right)
        if isinstance(node.op, ast.Pow):  # right-associative, binds tighter than unary left
            if lp <= prec:
                left = f"({left})"
            if rp < _PREC_UNARY:
                right = f"({right})"
            return f"{left} ** {right}", prec
        if lp < prec:
            left = f"({left})"
        if rp <= prec:
            right = f"({right})"
        return f"{left} {_SYM[type(node.op)]} {right}", prec
    if isinstance(node, ast.UnaryOp):
        prec = _PREC_NOT if isinstance(node.op, ast.Not) else _PREC_UNARY
        inner, ip = _render(node.operand)
        if ip < prec:
            inner = f"({inner})"
        return f"{_SYM[type(node.op)]}{inner}", prec
    if isinstance(node, ast.Compare):
        parts = []
        for operand in (node.left, *node.comparators):
            text, p = _render(operand)
            parts.append(f"({text})" if p <= _PREC_CMP else text)
        out = parts[0]
        for op, text in zip(node.ops, parts[1:], strict=True):
            out += f" {_SYM[type(op)]} {text}"
        return out, _PREC_CMP
    if isinstance(node, ast.BoolOp):
        prec = _PREC_AND if isinstance(node.op, ast.And) else _PREC_OR
        word = " and " if isinstance(node.op, ast.And) else " or "
        parts = []
        for operand in node.values:
            text, p = _render(operand)
            parts.append(f"({text})" if p <= prec else text)
        return word.join(parts), prec
    if isinstance(node, ast.Subscript):
        value, vp = _render(node.value)
        if vp < _PREC_ATOM:
            value = f"({value})"
        return f"{value}[{_render_index(node.slice)}]", _PREC_ATOM
    if isinstance(node, ast.Tuple):
        inner = ", ".join(_render(e)[0] for e in node.elts)
        return (f"({inner},)" if len(node.elts) == 1 else f"({inner})"), _PREC_ATOM
    if isinstance(node, ast.Call):  # t.get("name"), checked by _walk
        arg = node.args[0]
        assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        return f"{TASK_VAR}.get({pytext.literal(arg.value)})", _PREC_ATOM
    raise ValueError(f"{type(node).__name__} cannot be printed")  # _walk refused it already


def _render_index(node: ast.AST) -> str:
    """The text inside brackets: a tuple without parentheses, slices as ``a:b:c``."""
    if isinstance(node, ast.Tuple) and node.elts:
        return ", ".join(_render_index(e) for e in node.elts)
    if isinstance(node, ast.Slice):
        parts = ["" if p is None else _render(p)[0] for p in (node.lower, node.upper, node.step)]
        return ":".join(parts if parts[2] else parts[:2])
    return _render(node)[0]


def render(text: str, in_brackets: bool = False) -> str:
    """The expression ``text`` printed from its parsed tree (ValueError when ``check`` fails).

    ``in_brackets``: the text goes inside ``[...]`` (``kernel[b, h]``), where a tuple needs no
    parentheses.
    """
    problems, _ = check(text)
    if problems:
        raise ValueError(problems[0])
    tree, _ = _parse_bounded(text.strip(), text)
    assert tree is not None
    return _render_index(tree.body) if in_brackets else _render(tree.body)[0]


def render_index(text: str) -> str:
    """The index ``text`` printed from its parsed tree (ValueError when ``check_index`` fails)."""
    problems, _ = check_index(text)
    if problems:
        raise ValueError(problems[0])
    index, _ = _index_tree(text)
    assert index is not None
    return _render_index(index)


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
    """A name usable as a variable in the exported script (see ``pytext.identifier_problem``)."""
    return pytext.is_identifier(name)


def split_names(text: str) -> list[str]:
    """``"b, h"`` -> ``["b", "h"]`` (loop variables and similar name lists)."""
    return [part.strip() for part in text.split(",") if part.strip()]


__all__ = [
    "TASK_VAR",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "INT_BITS",
    "ALLOWED_NODES",
    "parse",
    "check",
    "render",
    "render_index",
    "check_index",
    "index_items",
    "names",
    "validate",
    "validate_index",
    "is_identifier",
    "split_names",
]
