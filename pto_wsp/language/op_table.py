"""The one table of tile ops: every fact about a ``pto.*`` op that more than one part needs.

Each row names an op and says, once: its operands (the ``pto.*`` tile arguments, which are
also the Studio node's input ports), its attributes (non-tile arguments, the node's
properties), its type rule, the cycle class of the cost model, the C runtime function the
cpu_sim backend calls, the PTO-ISA instruction(s) the ascend_npu backend emits, the ``ptoisa.*``
spelling users may write, and its Studio palette category. Everything else derives from it:

- ``pto.OPS`` and the rule-specific checks of the ``pto.*`` functions (``pto.py``);
- the ``ptoisa.*`` names (``ptoisa.py``);
- the op classes of the cycle model (``compiler/cost.py``);
- the Studio catalogue of tile-op nodes (``app/model/kinds/tile_ops.py``);
- every C++ op list: the IR's ``OpCode`` enum and name table, the cpu_sim emitter's runtime
  calls, the ascend_npu emitter's ISA spellings and the runtime's checked dispatch
  (``pto_run_op``).

Why the table lives here and C++ gets a generated header (not the other way round): the
language layer must answer "is this an op, what is its rule" while tracing, and
``import pto_wsp`` must not load the compiled ``_core`` (nor may the language import the
backends), so the table has to be plain Python. The C++ side needs compile-time lists
(an ``enum class``, ``switch``-free lookup arrays, function pointers to the runtime entries),
which a header of X-macros gives it: ``cpp_backend/codegen/templates/gen_tables.py`` reads
this file (by path, with the standard library only) and writes ``generated/pto_tables.h`` at
build time, the same way ``embed.cmake`` embeds the ascend_npu templates. Editing a row here
rebuilds every C++ consumer; an op added here but not implemented in the runtime fails the
build (its ``pto_<op>`` function does not exist), and ``tests/unit/test_op_table.py`` walks
every op through each Python consumer.

This module imports nothing outside the standard library, so the build-time generator can
load it without importing ``pto_wsp`` (numpy, the extension).
"""

from __future__ import annotations

from dataclasses import dataclass

RULES: tuple[str, ...] = (
    "load",  # an In/InOut parameter -> a tile of its shape
    "store",  # (dst parameter, value) -> nothing; value broadcasts to dst
    "alloc",  # attrs (shape, dtype) -> a zero tile
    "constant",  # attrs (value, dtype) -> a scalar
    "unary",  # x -> same shape and dtype (float_only: needs a float operand)
    "binary",  # (a, b) -> numpy broadcasting and promotion
    "row_reduce",  # [r, c] -> [r, 1]
    "col_reduce",  # [r, c] -> [1, c]
    "row_vec",  # (tile [r, c], vec [r, 1]) -> [r, c]
    "col_vec",  # (tile [r, c], vec [1, c]) -> [r, c]
    "broadcast",  # x -> attr shape (numpy broadcasting)
    "matmul",  # [M, K] @ [K, N] (+ acc [M, N]) -> [M, N]
    "slice_even",  # [r, c] -> [r, c/2], columns 0, 2, ...
    "slice_odd",  # [r, c] -> [r, c/2], columns 1, 3, ...
    "interleave",  # ([r, c], [r, c]) -> [r, 2c]
    "iota",  # attr cols -> u32 [1, cols]: 0, 1, ..., cols - 1
    "block_sort",  # (src f32 [r, c], idx u32 [r, c] or [1, c]), c % 32 == 0 -> f32 [r, 2c] pairs
    "mrgsort",  # (a f32 [1, 2n], b f32 [1, 2m]) sorted pairs -> f32 [1, 2(n + m)] merged
    "topk_indices",  # (pairs f32 [r, 2n], attr k <= n) -> i32 [r, k]: the first k index slots
)
"""The type rules. Each is one checking function in ``pto.py`` and one shape check in the
runtime's ``pto_run_op``."""

COST_CLASSES: tuple[str, ...] = (
    "load",  # rate x elements of the result
    "store",  # rate x elements of the destination
    "elementwise",  # rate x elements of the result
    "row_reduce",  # rate x rows
    "rowmean",  # rate x rows (its own default rate)
    "col_reduce",  # rate x columns
    "matmul",  # rate x M*K*N
)
"""Cycle classes of the cpu_sim cost model: each is a rate field of ``CostTable``."""


@dataclass(frozen=True)
class OpSpec:
    """One tile op. See the module docstring for what derives from each field."""

    name: str
    """The op's name: ``pto.<name>``, the IR op name, the runtime's ``pto_run_op`` name."""
    rule: str
    """Its type rule (one of ``RULES``)."""
    operands: tuple[str, ...]
    """Tile operands in order (Studio input ports; persisted in project files). A trailing
    ``?`` marks an optional one."""
    attrs: tuple[str, ...] = ()
    """Non-tile arguments after the operands (Studio properties)."""
    cost: str = "elementwise"
    """Cycle class (one of ``COST_CLASSES``)."""
    runtime: str = ""
    """The C runtime entry (``tile.h``) minus its ``pto_`` prefix; defaults to ``name``."""
    isa: str | None = None
    """The PTO-ISA spelling the ascend_npu backend emits for the op: one instruction (``TEXP``),
    or, for an op no single instruction computes, the instructions of its composition
    (``"TMULS TEXP TADDS TDIVS"`` for sigmoid; ``cpp_backend/codegen/ascend_npu.cpp`` writes
    each composition, ``docs/ptoisa.md`` gives its formula and error bound). Every IR op has
    one (``_check``); None only on aliases. Operands that need another dtype or a broadcast
    get a TCVT / TROWEXPAND / TCOLEXPAND first, which the spelling does not repeat."""
    ptoisa: str | None = None
    """The ``ptoisa.<SPELLING>`` users may write for this op (None: no such spelling)."""
    float_only: bool = False
    """The result must be a float dtype."""
    bool_ok: bool = True
    """A bool result is meaningful (numpy accepts the op on bools)."""
    alias_of: str | None = None
    """Another spelling of that op (``max`` of ``maximum``): not an IR op of its own."""
    category: str = "Tile ops"
    """The Studio palette category of the op's node."""
    isa_ulp: int = 0
    """How far (ulps of the result; per element added up for a reduction or matmul) the
    PTO-ISA form may be from cpu_sim's result on float data: 0 = bit for bit. Measured on
    PTO-ISA's CPU simulation (``docs/ptoisa.md``, ``tests/backend/test_ptoisa_ops.py``)."""
    isa_abs: float = 0.0
    """An absolute bound instead (composed ops near a zero of the function, where ulps are
    meaningless): the result verifies when it is within ``isa_ulp`` ulps or ``isa_abs``."""

    @property
    def min_arity(self) -> int:
        return sum(1 for o in self.operands if not o.endswith("?"))

    @property
    def max_arity(self) -> int:
        return len(self.operands)

    @property
    def operand_names(self) -> tuple[str, ...]:
        return tuple(o.rstrip("?") for o in self.operands)

    @property
    def runtime_fn(self) -> str:
        """The C function in ``cpp_backend/runtime/tile.h`` (``pto_<runtime>``)."""
        return "pto_" + (self.runtime or self.name)

    @property
    def has_result(self) -> bool:
        return self.rule != "store"


def _unary(
    name: str,
    *,
    float_only: bool = True,
    bool_ok: bool = False,
    isa: str,
    ulp: int = 0,
    abs_: float = 0.0,
) -> OpSpec:
    ptoisa = isa if isa in _V9_ISA else None
    return OpSpec(
        name, "unary", ("x",), (), "elementwise", "", isa, ptoisa, float_only, bool_ok,
        isa_ulp=ulp, isa_abs=abs_,
    )  # fmt: skip


def _binary(name: str, *, bool_ok: bool, isa: str) -> OpSpec:
    ptoisa = isa if isa in _V9_ISA else None
    return OpSpec(name, "binary", ("a", "b"), (), "elementwise", "", isa, ptoisa, False, bool_ok)


# The v9 PTO-ISA subset ``ptoisa.*`` offers under the emitted spelling (compatibility names).
_V9_ISA = frozenset(
    "TADD TSUB TMUL TDIV TMAX TMIN TEXP TLOG TSQRT TRSQRT TRELU TNEG TABS TROWSUM TROWMAX "
    "TCOLSUM TCOLMAX".split()
)

# Order: the Studio palette's order of tile-op nodes.
OPS: tuple[OpSpec, ...] = (
    _unary("exp", isa="TEXP", ulp=2),
    _unary("log", isa="TLOG", ulp=2),
    _unary("sqrt", isa="TRSQRT TDIVS", ulp=2),  # not TSQRT: see docs/ptoisa.md
    _unary("rsqrt", isa="TRSQRT", ulp=2),
    _unary("tanh", isa="TMULS TEXP TADDS TDIVS", ulp=4, abs_=1e-6),
    _unary("sigmoid", isa="TMULS TEXP TADDS TDIVS", ulp=4),
    _unary("sin", isa="TMULS TADDS TSUB TMUL TABS", ulp=4, abs_=1e-6),
    _unary("cos", isa="TMULS TADDS TSUB TMUL TABS", ulp=4, abs_=1e-6),
    _unary("relu", float_only=False, bool_ok=True, isa="TRELU"),
    _unary("gelu", isa="TMULS TABS TADDS TDIVS TMUL TEXP TDIV", ulp=4, abs_=1e-6),
    _unary("silu", isa="TMULS TEXP TADDS TDIVS TMUL", ulp=4),
    _unary("neg", float_only=False, isa="TNEG"),
    _unary("abs", float_only=False, bool_ok=True, isa="TABS"),
    OpSpec("rowsum", "row_reduce", ("x",), (), "row_reduce", isa="TROWSUM", ptoisa="TROWSUM",
           bool_ok=False, isa_ulp=1),
    OpSpec("rowmax", "row_reduce", ("x",), (), "row_reduce", isa="TROWMAX", ptoisa="TROWMAX"),
    OpSpec("rowmean", "row_reduce", ("x",), (), "rowmean", isa="TROWSUM TDIVS", float_only=True,
           bool_ok=False, isa_ulp=1),
    OpSpec("colsum", "col_reduce", ("x",), (), "col_reduce", isa="TCOLSUM", ptoisa="TCOLSUM",
           bool_ok=False, isa_ulp=1),
    OpSpec("colmax", "col_reduce", ("x",), (), "col_reduce", isa="TCOLMAX", ptoisa="TCOLMAX"),
    OpSpec("slice_even", "slice_even", ("x",), isa="TDEINTERLEAVE"),
    OpSpec("slice_odd", "slice_odd", ("x",), isa="TDEINTERLEAVE"),
    _binary("add", bool_ok=True, isa="TADD"),
    _binary("sub", bool_ok=False, isa="TSUB"),
    _binary("mul", bool_ok=True, isa="TMUL"),
    _binary("div", bool_ok=False, isa="TDIV"),
    _binary("maximum", bool_ok=True, isa="TMAX"),
    _binary("minimum", bool_ok=True, isa="TMIN"),
    OpSpec("max", "binary", ("a", "b"), runtime="maximum", alias_of="maximum"),
    OpSpec("min", "binary", ("a", "b"), runtime="minimum", alias_of="minimum"),
    OpSpec("interleave", "interleave", ("a", "b"), isa="TINTERLEAVE TCONCAT"),
    OpSpec("rowmul", "row_vec", ("tile", "vec"), isa="TROWEXPAND TROWEXPANDMUL"),
    OpSpec("rowadd", "row_vec", ("tile", "vec"), isa="TROWEXPAND TROWEXPANDADD"),
    OpSpec("colmul", "col_vec", ("tile", "vec"), isa="TCOLEXPANDMUL"),
    OpSpec("coladd", "col_vec", ("tile", "vec"), isa="TCOLEXPANDADD"),
    # Vec -> Mat -> Left/Right tiles, TMATMUL (TMATMUL_ACC with acc=) into an Acc tile, -> Vec.
    OpSpec("matmul", "matmul", ("a", "b", "acc?"), (), "matmul", isa="TMOV TMATMUL TMATMUL_ACC",
           ptoisa="TMATMUL", bool_ok=False, isa_ulp=1, isa_abs=1e-5),
    # [r, 1] -> TROWEXPAND, [1, c] -> TCOLEXPAND, [1, 1] -> both; then a TMOV into the result.
    OpSpec("broadcast", "broadcast", ("x",), ("shape",), isa="TROWEXPAND TCOLEXPAND TMOV",
           ptoisa="TEXPANDS"),
    OpSpec("constant", "constant", (), ("value", "dtype"), isa="TEXPANDS"),
    # A parameter: TLOAD; a value: TMOV.
    OpSpec("load", "load", ("src",), (), "load", isa="TLOAD", ptoisa="TLOAD"),
    # TSTORE, after a TCVT / TROWEXPAND / TCOLEXPAND when the value converts or broadcasts.
    OpSpec("store", "store", ("dst", "value"), (), "store", isa="TSTORE", ptoisa="TSTORE"),
    OpSpec("alloc", "alloc", (), ("shape", "dtype"), isa="TEXPANDS"),  # a zero tile
    # Sorting (spec §6.1's TopK route). A (score, index) pair is two f32 slots: the score, then
    # the uint32 index's bit pattern (not a float value), as PTO-ISA's TSORT32 writes it.
    OpSpec("iota_u32", "iota", (), ("cols",), isa="TCI"),
    OpSpec("tsort32", "block_sort", ("src", "idx"), isa="TSORT32", ptoisa="TSORT32", bool_ok=False),
    OpSpec("mrgsort", "mrgsort", ("a", "b"), isa="TMRGSORT", ptoisa="TMRGSORT", bool_ok=False),
    # TGATHER of every second slot into int32 copies the index bits; TEXTRACT takes k of them.
    OpSpec("extract_topk_indices", "topk_indices", ("pairs",), ("k",), isa="TGATHER TEXTRACT",
           bool_ok=False),
)  # fmt: skip

BY_NAME: dict[str, OpSpec] = {op.name: op for op in OPS}
"""Every op and alias by name."""

IR_OPS: tuple[str, ...] = tuple(op.name for op in OPS if op.alias_of is None)
"""Every op name a ``KernelIR`` may contain (the names of ``docs/ir.md``)."""

ALIASES: dict[str, str] = {op.name: op.alias_of for op in OPS if op.alias_of is not None}
"""``pto.max`` -> ``maximum``: other spellings that record the op they alias."""

ISA_FORMS: tuple[str, ...] = (
    "same",  # the op's own operands (TSQRT, whose op's emitted spelling is a composition)
    "scalar",  # (tile, scalar): the tile-scalar instruction (TADDS); TDIVS also (scalar, tile)
    "row_expand",  # (tile [r, c], vec [r, 1]): the vec expanded along each row (TROWEXPANDSUB)
    "col_expand",  # (tile [r, c], vec [1, c]): the vec expanded down each column
    "expand_rows",  # (vec [r, 1], shape): TROWEXPAND, a broadcast
    "expand_cols",  # (vec [1, c], shape): TCOLEXPAND, a broadcast
    "copy",  # x -> a copy of x (TMOV: a broadcast to its own shape)
    "acc_first",  # (acc, a, b) -> a @ b + acc (TMATMUL_ACC's operand order)
)
"""How a further ``ptoisa.*`` spelling constrains or orders the operands of the op it records."""


@dataclass(frozen=True)
class IsaForm:
    """A further ``ptoisa.<spelling>`` of an op: PTO-ISA has one instruction per operand form
    (TADD, TADDS, TROWEXPANDADD) where pto has one op with broadcasting (``add``)."""

    spelling: str
    op: str
    form: str
    """One of ``ISA_FORMS``."""


def _forms(form: str, op_by_spelling: str) -> tuple[IsaForm, ...]:
    pairs = (p.split("=") for p in op_by_spelling.split())
    return tuple(IsaForm(spelling, op, form) for spelling, op in pairs)


# The instructions of PTO-ISA that compute a pto op in one of its forms (``ptoisa.*`` only).
FORMS: tuple[IsaForm, ...] = (
    *_forms("same", "TSQRT=sqrt"),
    *_forms("scalar", "TADDS=add TSUBS=sub TMULS=mul TDIVS=div TMAXS=maximum TMINS=minimum"),
    *_forms("row_expand", "TROWEXPANDADD=rowadd TROWEXPANDMUL=rowmul TROWEXPANDSUB=sub "
            "TROWEXPANDDIV=div TROWEXPANDMAX=maximum TROWEXPANDMIN=minimum"),
    *_forms("col_expand", "TCOLEXPANDADD=coladd TCOLEXPANDMUL=colmul TCOLEXPANDSUB=sub "
            "TCOLEXPANDDIV=div TCOLEXPANDMAX=maximum TCOLEXPANDMIN=minimum"),
    *_forms("expand_rows", "TROWEXPAND=broadcast"),
    *_forms("expand_cols", "TCOLEXPAND=broadcast"),
    *_forms("copy", "TMOV=broadcast"),
    *_forms("acc_first", "TMATMUL_ACC=matmul"),
)  # fmt: skip

FORM_OF: dict[str, IsaForm] = {f.spelling: f for f in FORMS}
"""A further spelling -> its form."""

PTOISA: dict[str, str] = {
    **{op.ptoisa: op.name for op in OPS if op.ptoisa is not None},
    **{f.spelling: f.op for f in FORMS},
}
"""``ptoisa.<SPELLING>`` -> the op it records (the op's own spelling, or one of ``FORMS``)."""


ADD_CYCLES_OP = "ptoisa.cpu_sim_add_cycles"
"""The IR op of ``ptoisa.cpu_sim_add_cycles``: a cost directive of the cpu_sim backend, not a
tile op (so no row above and no Studio node, and a project file never carries its C++ text).
attrs ``cycles`` (an int), or operand 0 a scalar parameter, or attrs ``cpp`` (C++ expression
text over the scalar parameters, evaluated per task). cpu_sim adds it to the task's cycles;
ascend_npu emits nothing for it. Its C++ name is ``PTO_ADD_CYCLES_OP`` (``gen_tables.py``)."""


def _check() -> None:
    """The table's own consistency, checked at import (a bad row must not reach C++)."""
    seen: set[str] = set()
    for op in OPS:
        assert op.name not in seen, f"op {op.name!r} is listed twice"
        seen.add(op.name)
        assert op.rule in RULES, f"op {op.name!r}: unknown rule {op.rule!r}"
        assert op.cost in COST_CLASSES, f"op {op.name!r}: unknown cost class {op.cost!r}"
        assert op.alias_of is None or op.alias_of in BY_NAME, f"alias {op.name!r}"
        assert (op.isa is None) == (op.alias_of is not None), f"op {op.name!r}: PTO-ISA spelling"
    assert len(PTOISA) == sum(op.ptoisa is not None for op in OPS) + len(FORMS), (
        "a ptoisa spelling twice"
    )
    for f in FORMS:
        assert f.form in ISA_FORMS and f.op in BY_NAME, f"ptoisa form {f.spelling!r}"


_check()

__all__ = [
    "OpSpec", "OPS", "BY_NAME", "IR_OPS", "ALIASES", "PTOISA", "RULES", "COST_CLASSES",
    "IsaForm", "ISA_FORMS", "FORMS", "FORM_OF", "ADD_CYCLES_OP",
]  # fmt: skip
