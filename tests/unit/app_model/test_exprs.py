"""exprs: ast whitelist checking of expression properties; nothing is ever evaluated."""

from __future__ import annotations

import pytest

from app.model import exprs


def test_names_of_index_and_predicate():
    assert exprs.names("b, h") == {"b", "h"}
    assert exprs.names("seq_lens[b] <= 2048 and h % 2 == 0") == {"seq_lens", "b", "h"}
    assert exprs.names('t.get("head") % 2') == {"t"}


def test_validate_accepts_whitelisted_constructs():
    scope = {"b", "h", "n", "X"}
    for text in ("b", "b + 1", "(b * 2) // n", "-b", "not b", "b < n or h >= 2", "X[b, 0:4]", "True", "1.5e3"):  # fmt: skip
        assert exprs.validate(text, scope) == [], text


def test_unknown_names_are_reported():
    assert exprs.validate("b + zz", {"b"}) == ["unknown name 'zz'"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('x')", "calls are not allowed"),
        ("b.__class__", "attribute access"),
        ("lambda: 1", "Lambda is not allowed"),
        ("'abc'", "constant 'abc'"),
        ("[b for b in x]", "ListComp is not allowed"),
        ("b +", "syntax error"),
        ("", "empty"),
        ("t.get(name)", "string literal"),
        ("b @ h", "MatMult"),
    ],
)
def test_forbidden_constructs(text, fragment):
    problems = exprs.validate(text, {"b", "h", "t", "x", "name"})
    assert problems and any(fragment in p for p in problems), problems


def test_validate_never_evaluates(tmp_path):
    marker = tmp_path / "ran"
    text = f"open({str(marker)!r}, 'w')"
    assert exprs.validate(text, set())
    assert not marker.exists()


def test_identifiers_and_name_lists():
    assert exprs.is_identifier("Q") and not exprs.is_identifier("for")
    assert not exprs.is_identifier("1x")
    assert exprs.split_names(" b, h ,") == ["b", "h"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("i + 9**9**9", "9 ** 387420489 exceeds the 64-bit integer range"),
        ("2 ** 63", "exceeds the 64-bit integer range"),
        ("i * 9223372036854775808", "exceeds the 64-bit integer range"),
        ("1 << 64", "exceeds the 64-bit integer range"),
        ("1 // 0", "by zero"),
        ("1e400", "not a finite number"),
        ("(-8) ** 0.5", "not a real number"),
        ("-" * 100_000 + "1", "100001 characters long; the limit is 500"),
        ("i" + "+i" * 70, "nested"),
        ("b\x00", "NUL character"),
        ('t.get("a b")', "name of a loop variable"),
    ],
)
def test_limits(text, fragment):
    problems, _ = exprs.check(text)
    assert problems and fragment in problems[0], problems


@pytest.mark.parametrize("text", ["2 ** 62", "i << 3", "-(2 ** 62)", "1.5e300 * 2", "i ** 100"])
def test_within_the_limits(text):
    assert exprs.check(text)[0] == []


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("b*4+(a-1)*-c**2", "b * 4 + (a - 1) * -c ** 2"),
        ("(-a)**2", "(-a) ** 2"),
        ("a**(b**c)", "a ** b ** c"),
        ("(a**b)**c", "(a ** b) ** c"),
        ("a-(b-c)", "a - (b - c)"),
        ("not (a<b) and (c or d)", "not a < b and (c or d)"),
        ("(a<b)<c", "(a < b) < c"),
        ("t.get('i') % 2", 't.get("i") % 2'),
        ("1_000", "1000"),
    ],
)
def test_render_prints_the_tree_with_minimal_parentheses(text, printed):
    assert exprs.render(text) == printed


def test_render_index_and_brackets():
    assert exprs.render_index("k*32 : k*32+32, 0, :") == "k * 32:k * 32 + 32, 0, :"
    assert exprs.render("b,h", in_brackets=True) == "b, h"
    assert exprs.render("b,h") == "(b, h)"
    with pytest.raises(ValueError, match="calls are not allowed"):
        exprs.render("open('x')")
