"""``pytext``: the only ways a document string reaches a script (literal, checked name)."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.model import pytext


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(st.characters(codec=None, exclude_categories=())), st.booleans())
def test_a_string_literal_reads_back_as_the_string(text: str, multiline: bool) -> None:
    lit = pytext.literal(text, multiline)
    tree = ast.parse(lit, mode="eval")
    assert isinstance(tree.body, ast.Constant) and tree.body.value == text
    if pytext.text_problem(text) is None:
        lit.encode("utf-8")  # storable text gives a storable script


@pytest.mark.parametrize(
    "text",
    ['x"""\nimport os\n"""', 'ends with "', "back\\slash", "cr\r\nlf", "\u2028", "tab\t"],
)
def test_multiline_literal_falls_back_to_escapes_when_triple_quotes_would_change_it(text) -> None:
    lit = pytext.literal(text, multiline=True)
    assert ast.literal_eval(lit) == text
    assert "\n" not in lit or lit.startswith('"""')


def test_a_plain_multiline_text_stays_verbatim() -> None:
    assert pytext.literal("int x = 1;\nreturn x;", multiline=True) == '"""int x = 1;\nreturn x;"""'


@pytest.mark.parametrize("value", [0, -3, 2**70, 0.5, -1e-06, True, None])
def test_number_literals_read_back(value) -> None:
    assert ast.literal_eval(pytext.literal(value)) == value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), b"x", [1]])
def test_values_without_a_literal_are_refused(value) -> None:
    with pytest.raises(ValueError):
        pytext.literal(value)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Q", None),
        ("attn_kernel", None),
        ("δ", None),
        ("", "not a valid Python name"),
        ("a b", "not a valid Python name"),
        ("for", "not a valid Python name"),
        ('x"\nimport os', "not a valid Python name"),
        ("a\x00", "NUL"),
        ("\uff58", "reads it as 'x'"),
        ("P", "imports"),
        ("kernel", "imports"),
        ("__name__", "belong to Python"),
        (3, "expected a name"),
    ],
)
def test_identifier_problem(name, fragment) -> None:
    problem = pytext.identifier_problem(name)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("ok", None), ("a\x00b", "NUL character (at offset 1)"), ("x\udc80", "lone surrogate U+DC80")],
)
def test_text_problem(text, fragment) -> None:
    problem = pytext.text_problem(text)
    assert problem is None if fragment is None else fragment in problem
