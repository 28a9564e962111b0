"""Expression fields: any text is checked within the limits, never evaluated, and an accepted
expression is printed back from its tree with the same meaning (issue 12, items 1, 3, 11)."""

from __future__ import annotations

import ast

from hypothesis import given, settings
from hypothesis import strategies as st

from app.model import exprs

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)

TOKENS = st.sampled_from(
    ["b", "h", "i", "t", "0", "1", "7", "2.5", "1e400", "9", "**", "*", "+", "-", "/", "//",
     "%", "<<", ">>", "&", "|", "^", "~", "not ", " and ", " or ", "<", "==", ">=", "(", ")",
     "[", "]", ",", ":", ".", "get", '"', "'", "t.get(\"b\")", "lambda", "__import__", " ",
     "\n", "\\", "\x00", "if", "else", "=", ";", "@", "{", "}"]
)  # fmt: skip
TEXT = st.one_of(
    st.lists(TOKENS, max_size=25).map("".join),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
)


def _unparsed(text: str) -> ast.AST:
    return ast.parse(text.strip(), mode="eval").body


@SETTINGS
@given(TEXT)
def test_any_text_is_checked_and_an_accepted_one_prints_back_the_same_tree(text: str) -> None:
    problems, _names = exprs.check(text)
    if problems:
        return
    printed = exprs.render(text)
    assert ast.dump(_unparsed(printed)) == ast.dump(_unparsed(text)), printed
    assert all(isinstance(n, exprs.ALLOWED_NODES) for n in ast.walk(_unparsed(printed)))


@SETTINGS
@given(TEXT)
def test_any_index_is_checked_and_an_accepted_one_prints_back_the_same_tree(text: str) -> None:
    problems, _names = exprs.check_index(text)
    if problems:
        return
    printed = exprs.render_index(text)
    sub = lambda s: ast.parse(f"_[{s.strip()}]", mode="eval").body.slice  # noqa: E731
    assert ast.dump(sub(printed)) == ast.dump(sub(text)), printed


# trees of the whitelisted constructs, printed by ast.unparse: the printer's precedence rules
LEAF = st.one_of(
    st.sampled_from(["a", "b", "i"]).map(lambda n: ast.Name(n, ast.Load())),
    st.integers(0, 2**40).map(ast.Constant),
    st.floats(0, 1e6, allow_nan=False).map(ast.Constant),
    st.booleans().map(ast.Constant),
)
BIN = st.sampled_from([ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift,
                       ast.BitAnd, ast.BitOr, ast.BitXor])  # fmt: skip
TREE = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: ast.BinOp(a, op(), b), inner, BIN, inner),
        st.builds(
            lambda op, a: ast.UnaryOp(op(), a),
            st.sampled_from([ast.USub, ast.Not, ast.Invert]),
            inner,
        ),  # fmt: skip
        st.builds(lambda a, b: ast.Compare(a, [ast.Lt()], [b]), inner, inner),
        st.builds(lambda a, b: ast.BoolOp(ast.And(), [a, b]), inner, inner),
        st.builds(lambda a, b: ast.BoolOp(ast.Or(), [a, b]), inner, inner),
    ),
    max_leaves=10,
)


@SETTINGS
@given(TREE)
def test_printed_trees_keep_their_structure(tree: ast.expr) -> None:
    text = ast.unparse(ast.fix_missing_locations(ast.Expression(tree)))
    if exprs.check(text)[0]:
        return  # e.g. a constant subexpression out of range
    assert ast.dump(_unparsed(exprs.render(text))) == ast.dump(_unparsed(text))


def test_bombs_are_refused_before_they_cost_anything() -> None:
    for text in ("-" * 100_000 + "1", "(" * 5000 + "1" + ")" * 5000, "i + 9**9**9",
                 "2 ** 2 ** 2 ** 2 ** 2 ** 2", "1 << (1 << 40)", "[1] * 10**9"):  # fmt: skip
        problems, _ = exprs.check(text)
        assert problems, text
