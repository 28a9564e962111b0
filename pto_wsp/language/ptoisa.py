"""PTO-ISA spellings of the tile ops (v9 compatibility) and ``@ptoisa_kernel``.

``ptoisa.TADD(a, b)`` records exactly what ``pto.add(a, b)`` records, with ``attrs['isa'] =
'TADD'`` on the op so printers and emitters can show the ISA name the user wrote. The ops are
value-returning like ``pto.*`` (not destination-passing): ``c = ptoisa.TADD(a, b)``.
``@ptoisa_kernel`` is ``@kernel`` for bodies written with these names; its ``KernelRef`` and
``KernelIR`` carry ``dialect == "ptoisa"``.

Where PTO-ISA has one instruction per operand form and pto one op with broadcasting, each form
is a spelling of that op whose operands are checked to be of the form (the op table's
``FORMS``): ``TADDS(a, 2.0)`` (a tile and a scalar), ``TROWEXPANDSUB(t, v)`` (``v`` is
``[r, 1]``), ``TCOLEXPANDDIV(t, v)`` (``[1, c]``), ``TROWEXPAND(v, shape)``, ``TMOV(x)``,
``TMATMUL_ACC(acc, a, b)``.

The helpers of the reference implementation's ptoisa kernels: ``tload``/``tstore`` (TLOAD /
TSTORE), ``iota_u32``, ``store_topk_indices_i32`` and ``cpu_sim_add_cycles``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import TypeCheckError, user_location
from . import op_table, pto
from .kernel.decorator import make_decorator
from .pto import Value

# ISA spelling -> the pto op it records: the op table's ``ptoisa`` column and its ``FORMS``.
ISA_OPS: dict[str, str] = dict(op_table.PTOISA)

ADD_CYCLES_OP = op_table.ADD_CYCLES_OP


def _need_trace(name: str) -> None:
    if not pto.in_trace():
        raise TypeCheckError(
            f"ptoisa.{name} is only valid inside a @kernel/@ptoisa_kernel body",
            loc=user_location(),
        )


def _form_error(isa: str, message: str) -> TypeCheckError:
    return TypeCheckError(f"ptoisa.{isa}: {message}", loc=user_location())


def _is_scalar(x: Any) -> bool:
    return pto._is_number(x) or (isinstance(x, Value) and x.is_scalar)


def _tile_shape(isa: str, x: Any, what: str) -> tuple[int, int]:
    if not isinstance(x, Value) or len(x.shape) != 2:
        raise _form_error(isa, f"{what} must be a 2-D tile, got {x!r}")
    return int(x.shape[0]), int(x.shape[1])


def _check_form(isa: str, form: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The arguments of ``pto.<op>`` for ``ptoisa.<isa>(*args)`` of ``form``, once they are of
    that form (a ``TypeCheckError`` at the user's line otherwise)."""
    if form in ("same", "copy") or form.startswith("expand_"):
        arity = {"same": None, "copy": 1, "expand_rows": 2, "expand_cols": 2}[form]
        if arity is not None and len(args) != arity:
            raise _form_error(isa, f"takes {arity} argument(s), got {len(args)}")
    elif form == "acc_first":
        if len(args) != 3:
            raise _form_error(isa, f"takes (acc, a, b), got {len(args)} argument(s)")
        acc, a, b = args
        return (a, b, acc)
    elif len(args) != 2:
        raise _form_error(isa, f"takes 2 arguments, got {len(args)}")
    if form == "copy":
        (x,) = args
        if not isinstance(x, Value):
            raise _form_error(isa, f"copies a tile or scalar Value, got {x!r}")
        return (x, x.shape if len(x.shape) == 2 else (1, 1))
    if form == "scalar":
        a, b = args
        scalar_first = isa == "TDIVS" and _is_scalar(a) and not _is_scalar(b)
        tile, s = (b, a) if scalar_first else (a, b)
        _tile_shape(isa, tile, "the tile operand")
        if not _is_scalar(s):
            raise _form_error(
                isa,
                f"the second operand must be a scalar (a number or Scalar parameter), got {s!r}",
            )
        return args
    if form in ("row_expand", "col_expand"):
        tile, vec = args
        r, c = _tile_shape(isa, tile, "the tile operand")
        vec_shape = (r, 1) if form == "row_expand" else (1, c)
        if not isinstance(vec, Value) or vec.shape != vec_shape:
            kind = "per-row [r, 1]" if form == "row_expand" else "per-column [1, c]"
            raise _form_error(
                isa,
                f"the second operand must be the {kind} vector {list(vec_shape)} of {tile!r}, "
                f"got {vec!r}",
            )
        return args
    if form in ("expand_rows", "expand_cols"):
        vec, shape = args
        r, c = _tile_shape(isa, vec, "the vector")
        ok = c == 1 if form == "expand_rows" else r == 1
        if not ok:
            what = "a per-row [r, 1]" if form == "expand_rows" else "a per-column [1, c]"
            raise _form_error(isa, f"expands {what} vector, got {vec!r}")
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (r, shape) if form == "expand_rows" else (shape, c)
        return (vec, shape)
    return args


def _result_dtype_kept(isa: str, form: str, args: tuple[Any, ...], out: Any) -> None:
    """A tile-scalar instruction computes in the tile's type: a scalar that would widen it
    (an f32 Scalar parameter next to an f16 tile) is an error, not a silent promotion."""
    if form != "scalar" or not isinstance(out, Value):
        return
    tile = next(a for a in args if isinstance(a, Value) and not a.is_scalar)
    if out.dtype is not tile.dtype:
        raise _form_error(
            isa,
            f"the scalar would widen the {tile.dtype.value if tile.dtype else '?'} tile to "
            f"{out.dtype.value if out.dtype else '?'}; {isa} computes in the tile's type (use "
            "a Scalar of the tile's dtype or a number)",
        )


def _forward(isa: str) -> Callable[..., Any]:
    op = ISA_OPS[isa]
    target = getattr(pto, op)
    form = op_table.FORM_OF[isa].form if isa in op_table.FORM_OF else None

    def isa_op(*args: Any, **kwargs: Any) -> Any:
        _need_trace(isa)
        call_args = _check_form(isa, form, args) if form is not None else args
        with pto.isa_spelling(op, isa):
            out = target(*call_args, **kwargs)
        if form is not None:
            _result_dtype_kept(isa, form, args, out)
        return out

    isa_op.__name__ = isa
    isa_op.__qualname__ = isa
    shape = f" in its {form!r} form" if form is not None else ""
    isa_op.__doc__ = (
        f"PTO-ISA ``{isa}``: records ``pto.{op}``{shape} (attr ``isa={isa!r}``).\n\n"
        + (target.__doc__ or "")
    )
    return isa_op


# ``ptoisa.TADD`` etc.: one forwarder per spelling in the table (bound by name, not listed).
globals().update({isa: _forward(isa) for isa in ISA_OPS})


# ---- the reference implementation's helpers --------------------------------------------------


def tload(param: Value) -> Value:
    """``TLOAD``: the tile of an ``In``/``InOut`` parameter (``pto.load``)."""
    _need_trace("tload")
    with pto.isa_spelling("load", "TLOAD"):
        return pto.load(param)


def tstore(param: Value, value: Any) -> None:
    """``TSTORE``: ``value`` into an ``Out``/``InOut`` parameter (``pto.store``)."""
    _need_trace("tstore")
    with pto.isa_spelling("store", "TSTORE"):
        pto.store(param, value)


def iota_u32(cols: int) -> Value:
    """``[0, 1, ..., cols - 1]`` as u32 ``[1, cols]`` (``pto.iota_u32``; PTO-ISA TCI)."""
    _need_trace("iota_u32")
    with pto.isa_spelling("iota_u32", "TCI"):
        return pto.iota_u32(cols)


def store_topk_indices_i32(dst: Value, pairs: Any, k: int) -> None:
    """Store the indices of the first ``k`` pairs of ``pairs`` (their bits as int32) into
    ``dst``: ``pto.store(dst, pto.extract_topk_indices(pairs, k))``."""
    _need_trace("store_topk_indices_i32")
    pto.store(dst, pto.extract_topk_indices(pairs, k))


def _cpp_expression(text: str) -> str:
    body = text.strip()
    if not body or any(ch in body for ch in ";{}\n#") or "//" in body or "/*" in body:
        raise TypeCheckError(
            "ptoisa.cpu_sim_add_cycles: C++ expression text must be one expression over the "
            f"kernel's scalar parameters (no ';', braces, comments or directives), got {text!r}",
            loc=user_location(),
        )
    return body


def cpu_sim_add_cycles(n: int | Value | str) -> None:
    """Add ``n`` cycles to each task of this kernel in the cpu_sim cost model, on top of its
    ops' cycles: an int, a ``Scalar`` parameter (its value in the task), or C++ expression
    text over the scalar parameters, each named by its ``.name`` (``f"{n.name} * 4"``).

    C++ text is code: it is accepted here, in a Python script (code already), as ``cpp_src``
    is; a project file never carries it (the op has no Studio node). Other targets ignore the
    directive, as they ignore the cpu_sim cost table."""
    _need_trace("cpu_sim_add_cycles")
    tr = pto._trace("cpu_sim_add_cycles")
    if isinstance(n, bool):
        raise TypeCheckError(
            f"ptoisa.cpu_sim_add_cycles: n must be an int, a Scalar parameter or C++ text, got {n!r}",
            loc=user_location(),
        )
    if isinstance(n, int):
        if n < 0:
            raise TypeCheckError(
                f"ptoisa.cpu_sim_add_cycles: cycles must be >= 0, got {n}", loc=user_location()
            )
        tr.record(ADD_CYCLES_OP, [], (), None, {"cycles": int(n)})
    elif isinstance(n, Value):
        p = n.param
        if p is None or p.kind != "scalar" or n._trace is not tr:
            raise TypeCheckError(
                "ptoisa.cpu_sim_add_cycles: a Value argument must be a Scalar parameter of this "
                f"kernel, got {n!r}",
                loc=user_location(),
            )
        if p.dtype is not None and p.dtype.is_float:
            raise TypeCheckError(
                f"ptoisa.cpu_sim_add_cycles: Scalar parameter '{p.name}' is {p.dtype.value}; "
                "cycles are an integer count",
                loc=user_location(),
            )
        tr.record(ADD_CYCLES_OP, [n.id], (), None, {})
    elif isinstance(n, str):
        tr.record(ADD_CYCLES_OP, [], (), None, {"cpp": _cpp_expression(n)})
    else:
        raise TypeCheckError(
            "ptoisa.cpu_sim_add_cycles: n must be an int, a Scalar parameter or C++ text, got "
            f"{type(n).__name__} {n!r}",
            loc=user_location(),
        )


ptoisa_kernel = make_decorator("ptoisa_kernel", "ptoisa")
ptoisa_kernel.__doc__ = """``@kernel`` for bodies written with ``ptoisa.*`` ops (spec §6.1 Path A).
Same options as ``@kernel``; the result's ``dialect`` is ``"ptoisa"``. A scalar parameter's
``.name`` is its C++ variable (in ``cpu_sim_add_cycles`` text)."""

HELPERS: tuple[str, ...] = (
    "tload",
    "tstore",
    "iota_u32",
    "store_topk_indices_i32",
    "cpu_sim_add_cycles",
)
"""The reference implementation's lower-case helpers of ptoisa kernels."""

__all__ = [*ISA_OPS, *HELPERS, "ISA_OPS", "HELPERS", "ADD_CYCLES_OP", "ptoisa_kernel"]
