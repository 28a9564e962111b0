"""``ptoisa.*`` spellings beyond one per op (issue #16 item 3, #17 item 4): the tile-scalar,
row/column-expand, expand, copy and accumulate forms record the pto op they compute with the
ISA name the user wrote, check their operands' form, and the reference implementation's helpers
(``tload``, ``tstore``, ``iota_u32``, ``store_topk_indices_i32``, ``cpu_sim_add_cycles``)
record what they say. Tracing only: the numerics are in tests/backend/test_sort_ops.py."""

from __future__ import annotations

from typing import Any

import pytest

from pto_wsp import DType, In, InOut, Out, Scalar, Tile, pto, ptoisa, ptoisa_kernel
from pto_wsp.errors import TypeCheckError
from pto_wsp.language import op_table

F16, F32 = DType.F16, DType.F32
R, C = 4, 32


def ops_of(fn: Any) -> list[tuple[str, tuple[int, ...], str | None, dict[str, Any]]]:
    """(op, shape, dtype, attrs) of each recorded op of kernel ``fn``."""
    return [
        (o.op, tuple(o.shape), o.dtype.value if o.dtype else None, dict(o.attrs)) for o in fn.ir.ops
    ]


def test_every_form_is_a_spelling_of_its_op() -> None:
    for form in op_table.FORMS:
        assert ptoisa.ISA_OPS[form.spelling] == form.op
        fn = getattr(ptoisa, form.spelling)
        assert f"pto.{form.op}" in (fn.__doc__ or "") and form.form in (fn.__doc__ or "")
    for isa in ("TADDS", "TSUBS", "TMULS", "TDIVS", "TMAXS", "TMINS", "TMOV", "TSQRT"):
        assert isa in ptoisa.ISA_OPS
    for isa in ("ADD", "MUL", "SUB", "DIV", "MAX", "MIN"):
        assert f"TROWEXPAND{isa}" in ptoisa.ISA_OPS and f"TCOLEXPAND{isa}" in ptoisa.ISA_OPS
    assert {"TSORT32", "TMRGSORT"} <= set(ptoisa.ISA_OPS)
    for helper in ptoisa.HELPERS:
        assert callable(getattr(ptoisa, helper)) and helper in ptoisa.__all__


def test_forms_record_their_op_with_the_isa_name() -> None:
    @ptoisa_kernel
    def forms(
        x: In[Tile[R, C, F32]],
        rv: In[Tile[R, 1, F32]],
        cv: In[Tile[1, C, F32]],
        w: In[Tile[C, C, F32]],
        s: Scalar[F32],
        y: Out[Tile[R, C, F32]],
    ):
        t = ptoisa.tload(x)
        a = ptoisa.TADDS(t, 2.0)
        b = ptoisa.TDIVS(1.0, a)  # TDIVS takes the scalar on either side
        c = ptoisa.TMULS(b, s)
        d = ptoisa.TROWEXPANDSUB(c, ptoisa.TLOAD(rv))
        e = ptoisa.TCOLEXPANDDIV(d, ptoisa.TLOAD(cv))
        f = ptoisa.TMOV(e)
        g = ptoisa.TROWEXPAND(ptoisa.TROWSUM(f), C)
        h = ptoisa.TCOLEXPAND(ptoisa.TCOLMAX(g), (R, C))
        m = ptoisa.TMATMUL_ACC(h, h, ptoisa.TLOAD(w))
        ptoisa.tstore(y, ptoisa.TSQRT(ptoisa.TMAXS(m, 0.0)))

    recorded = [(op, attrs.get("isa")) for op, _, _, attrs in ops_of(forms) if op != "constant"]
    assert recorded == [
        ("load", "TLOAD"),
        ("add", "TADDS"),
        ("div", "TDIVS"),
        ("mul", "TMULS"),
        ("load", "TLOAD"),
        ("sub", "TROWEXPANDSUB"),
        ("load", "TLOAD"),
        ("div", "TCOLEXPANDDIV"),
        ("broadcast", "TMOV"),
        ("rowsum", "TROWSUM"),
        ("broadcast", "TROWEXPAND"),
        ("colmax", "TCOLMAX"),
        ("broadcast", "TCOLEXPAND"),
        ("load", "TLOAD"),
        ("matmul", "TMATMUL_ACC"),
        ("maximum", "TMAXS"),
        ("sqrt", "TSQRT"),
        ("store", "TSTORE"),
    ]
    ops = forms.ir.ops
    mm = next(o for o in ops if o.op == "matmul")
    h = next(o for o in ops if o.attrs.get("isa") == "TCOLEXPAND")
    n_params = len(forms.ir.params)
    assert mm.operands[2] == n_params + ops.index(h)  # TMATMUL_ACC(acc, a, b): acc last in pto
    bc = [o for o in ops if o.op == "broadcast"]
    assert [tuple(o.attrs["shape"]) for o in bc] == [(R, C)] * 3


def _trace(body: Any) -> None:
    @ptoisa_kernel
    def k(
        x: In[Tile[R, C, F32]],
        h: In[Tile[R, C, F16]],
        rv: In[Tile[R, 1, F32]],
        s: Scalar[F32],
        y: Out[Tile[R, C, F32]],
    ):
        body(x, h, rv, s, y)

    _ = k.ir


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda x, h, rv, s, y: ptoisa.TADDS(x, x), "second operand must be a scalar"),
        (lambda x, h, rv, s, y: ptoisa.TADDS(2.0, x), "the tile operand must be a 2-D tile"),
        (lambda x, h, rv, s, y: ptoisa.TADDS(h, s), "would widen the f16 tile to f32"),
        (lambda x, h, rv, s, y: ptoisa.TROWEXPANDMUL(x, x), r"per-row \[r, 1\] vector \[4, 1\]"),
        (lambda x, h, rv, s, y: ptoisa.TCOLEXPANDSUB(x, rv), r"per-column \[1, c\] vector"),
        (lambda x, h, rv, s, y: ptoisa.TROWEXPAND(x, 8), "expands a per-row"),
        (lambda x, h, rv, s, y: ptoisa.TMOV(x, x), "takes 1 argument"),
        (lambda x, h, rv, s, y: ptoisa.TMATMUL_ACC(x, x), r"takes \(acc, a, b\)"),
    ],
)
def test_a_form_rejects_operands_of_another_form(body: Any, message: str) -> None:
    with pytest.raises(TypeCheckError, match=message) as err:
        _trace(body)
    assert err.value.loc is not None and err.value.loc.file.endswith("test_ptoisa_forms.py")


# ---- sorting ops and helpers -------------------------------------------------------------------


def test_sort_ops_type_rules() -> None:
    @ptoisa_kernel
    def topk(x: In[Tile[1, 64, F32]], out: Out[Tile[1, 8, DType.I32]]):
        t = ptoisa.tload(x)
        idx = ptoisa.iota_u32(64)
        pairs = ptoisa.TSORT32(t, idx)  # two blocks of 32, each sorted
        lo = pto.tsort32(pto.broadcast(pto.rowmax(t), (1, 32)), pto.iota_u32(32))
        merged = ptoisa.TMRGSORT(pairs, lo)
        ptoisa.store_topk_indices_i32(out, merged, 8)

    got = [(op, shape, dt) for op, shape, dt, _ in ops_of(topk)]
    assert ("iota_u32", (1, 64), "u32") in got
    assert ("tsort32", (1, 128), "f32") in got
    assert ("mrgsort", (1, 192), "f32") in got
    assert ("extract_topk_indices", (1, 8), "i32") in got
    assert got[-1] == ("store", (), None)
    ex = next(o for o in topk.ir.ops if o.op == "extract_topk_indices")
    assert ex.attrs["k"] == 8


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda x, h, u: pto.tsort32(h, pto.iota_u32(32)), "src must be f32 scores"),
        (lambda x, h, u: pto.tsort32(u, u), "src must be f32 scores"),
        (
            lambda x, h, u: pto.tsort32(x, pto.iota_u32(16)),
            r"idx must be u32 \[2, 32\] or \[1, 32\]",
        ),
        (lambda x, h, u: pto.tsort32(pto.slice_even(x), pto.iota_u32(16)), "multiple of 32"),
        (lambda x, h, u: pto.iota_u32(0), r"cols must be >= 1"),
        (lambda x, h, u: pto.iota_u32(2.5), "cols must be an int"),
        (lambda x, h, u: pto.extract_topk_indices(u, 4), r"pairs must be f32 \(score, index\)"),
        (
            lambda x, h, u: pto.extract_topk_indices(pto.tsort32(x, u), 33),
            r"k must be in \[1, 32\], got 33",
        ),
        (lambda x, h, u: pto.mrgsort(pto.tsort32(x, u), pto.tsort32(x, u)), "merges single rows"),
    ],
)
def test_sort_ops_reject_bad_operands(body: Any, message: str) -> None:
    with pytest.raises(TypeCheckError, match=message):

        @ptoisa_kernel
        def k(x: In[Tile[2, 32, F32]], h: In[Tile[2, 32, F16]], u: In[Tile[1, 32, DType.U32]]):
            body(x, h, u)

        _ = k.ir


def test_cpu_sim_add_cycles_records_a_cost_directive() -> None:
    @ptoisa_kernel
    def k(x: InOut[Tile[R, C, F32]], n: Scalar[DType.I64], m: Scalar[DType.I32]):
        ptoisa.cpu_sim_add_cycles(5)
        ptoisa.cpu_sim_add_cycles(n)
        ptoisa.cpu_sim_add_cycles(f"{n.name} * 2 + {m.name}")
        ptoisa.tstore(x, ptoisa.tload(x))

    assert k.ir.ops[0].op == op_table.ADD_CYCLES_OP == ptoisa.ADD_CYCLES_OP
    directives = [(o.operands, o.attrs) for o in k.ir.ops if o.op == op_table.ADD_CYCLES_OP]
    assert directives == [([], {"cycles": 5}), ([1], {}), ([], {"cpp": "n * 2 + m"})]
    assert op_table.ADD_CYCLES_OP not in op_table.BY_NAME  # a directive, not a tile op


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        (-1, "cycles must be >= 0"),
        (True, "must be an int, a Scalar parameter or C"),
        (1.5, "must be an int, a Scalar parameter or C"),
        ("n; system(0)", "one expression"),
        ("n // 2", "no ';', braces, comments"),
        ("", "one expression"),
        ("f", "Scalar parameter 'f' is f32"),
        ("x", "must be a Scalar parameter of this kernel"),
    ],
)
def test_cpu_sim_add_cycles_rejects(arg: Any, message: str) -> None:
    with pytest.raises(TypeCheckError, match=message):

        @ptoisa_kernel
        def k(x: InOut[Tile[R, C, F32]], f: Scalar[F32]):
            named = {"f": f, "x": x}
            ptoisa.cpu_sim_add_cycles(named.get(arg, arg) if isinstance(arg, str) else arg)

        _ = k.ir


def test_a_parameter_name_is_its_cpp_variable_and_results_have_none() -> None:
    seen: list[str] = []

    @ptoisa_kernel
    def k(x: InOut[Tile[R, C, F32]], count: Scalar[DType.I64]):
        seen.extend([count.name, x.name])
        with pytest.raises(TypeCheckError, match="has no name"):
            _ = ptoisa.tload(x).name

    _ = k.ir
    assert seen == ["count", "x"]


def test_helpers_need_a_kernel_body() -> None:
    for name in ("tload", "iota_u32", "cpu_sim_add_cycles"):
        with pytest.raises(TypeCheckError, match=f"ptoisa.{name} is only valid inside"):
            getattr(ptoisa, name)(1)
    with pytest.raises(TypeCheckError, match="ptoisa.TADDS is only valid inside"):
        ptoisa.TADDS(1, 2)
