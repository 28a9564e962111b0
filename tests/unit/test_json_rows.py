"""json_rows: the column-wise JSON rows the Chrome export is written with, checked against
Python's own formatting of the same values (json.loads of the text, and the exact text)."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest

from pto_wsp.runtime import json_rows as jr


def _fixed_text(units: int, decimals: int) -> str:
    """``units / 10**decimals`` written as the export writes it: no trailing zeros, no bare
    point (Decimal keeps it exact)."""
    text = format(Decimal(units).scaleb(-decimals), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def test_integers_fixed_and_strings_match_python_formatting() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    ints = rng.integers(-(10**12), 10**12, n)
    ints[:4] = [0, -1, np.iinfo(np.int64).max, np.iinfo(np.int64).min]
    units = rng.integers(-(10**9), 10**9, n)
    units[:6] = [0, 1, -1, 1000, -1500, 10**15]
    names = ["a", 'q"uote', "back\\slash", "ünï"]
    pick = rng.integers(0, len(names), n)
    text = jr.rows(
        n,
        [
            jr.Lit(b"["),
            jr.Int(ints),
            jr.Lit(b","),
            jr.Fixed(units, 3),
            jr.Lit(b","),
            jr.Str(jr.string_table(names), pick),
            jr.Lit(b"]\n"),
        ],
    )
    lines = text.decode("ascii").splitlines()
    assert len(lines) == n
    for i in range(n):
        expected = f"[{int(ints[i])},{_fixed_text(int(units[i]), 3)},{json.dumps(names[pick[i]])}]"
        assert lines[i] == expected
        assert json.loads(lines[i])[2] == names[pick[i]]


def test_masks_drop_text_and_numbers_per_row() -> None:
    values = np.array([5, -7, 12, 0], dtype=np.int32)  # any integer dtype is taken
    keep = np.array([True, False, True, False])
    comma = np.array([False, True, True, False])
    text = jr.rows(4, [jr.Opt(b",", comma), jr.Int(values, keep=keep), jr.Lit(b";")])
    assert text == b"5;,;,12;;"


@pytest.mark.parametrize("decimals", [0, 1, 6])
def test_fixed_decimals(decimals: int) -> None:
    units = np.array([0, 10**decimals, -(10**decimals) - 1, 123456789], dtype=np.int64)
    text = jr.rows(len(units), [jr.Fixed(units, decimals), jr.Lit(b" ")]).decode()
    assert text.split() == [_fixed_text(int(u), decimals) for u in units]


def test_empty_and_bad_columns() -> None:
    assert jr.rows(0, [jr.Lit(b"x")]) == b""
    with pytest.raises(ValueError):  # a column shorter than the rows
        jr.rows(3, [jr.Int(np.arange(2))])
    with pytest.raises(ValueError):  # a string index outside its table
        jr.rows(1, [jr.Str(jr.string_table(["a"]), np.array([1]))])


def test_rows_written_to_a_descriptor_are_their_text(tmp_path) -> None:
    """``Rows.write_to`` (the extension's reused buffer, the GIL released) writes exactly the
    bytes ``Rows.text`` returns, for batches larger and smaller than the last one."""
    import os

    out = tmp_path / "rows.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    want = b""
    try:
        for n in (3000, 10, 70000, 0, 5):
            values = np.arange(n, dtype=np.int64) * 7 - 11
            rows = jr.prepare(n, [jr.Lit(b'{"v":'), jr.Int(values), jr.Lit(b"},\n")])
            assert rows.write_to(fd) == len(rows.text())
            want += rows.text()
    finally:
        os.close(fd)
    assert out.read_bytes() == want and want.count(b"\n") == 73015


def test_a_failed_write_is_an_oserror(tmp_path) -> None:
    import os

    path = tmp_path / "ro.txt"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        rows = jr.prepare(2, [jr.Int(np.array([1, 2], dtype=np.int64))])
        with pytest.raises(OSError) as err:
            rows.write_to(fd)
    finally:
        os.close(fd)
    assert err.value.errno == 9  # EBADF: not open for writing
