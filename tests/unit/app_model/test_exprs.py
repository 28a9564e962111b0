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
