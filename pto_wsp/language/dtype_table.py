"""The one table of element types: every fact about a dtype that more than one part needs.

Each row gives, once: the canonical name (``DType.value``, the IR and project-file spelling),
the numpy dtype that holds it, its byte size, its kind (float / signed / unsigned / bool), the
runtime's element-type code (``pto_dtype_code`` in ``cpp_backend/runtime/dtype.h``, the ABI of
generated code), the C type that stores it in cpu_sim code, the element type AICore code
spells, the name users read in the Studio, and the other spellings ``DType.from_any`` accepts.

Derived from it: ``DType``'s numpy mapping, sizes, kind tests and accepted spellings
(``types.py``); the Studio's dtype choices (``app/model/kinds/_base.py``); and, through the
build-time header ``generated/pto_tables.h`` (see ``op_table.py`` for why the table is Python
and C++ gets a header), the IR's ``DType`` enum and names, the byte sizes, the cpu_sim
emitter's C types and codes, the ascend_npu emitter's device types, the runtime's names and
sizes, and the numpy -> code mapping of the ``_core.runtime`` binding. ``dtype.h`` keeps its
plain-C enum (generated code includes it without the build tree); the generated header
``static_assert``s that every code there matches this table.

Standard library only (the build-time generator loads this file by path). bf16's numpy dtype
comes from ``ml_dtypes``, which ``types.py`` imports lazily (it costs ~0.8 s), so the table
names numpy dtypes as strings.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS: tuple[str, ...] = ("float", "signed", "unsigned", "bool")


@dataclass(frozen=True)
class DTypeSpec:
    """One element type. See the module docstring for what derives from each field."""

    name: str
    """Canonical name: ``DType.value``, the IR and project-file spelling."""
    numpy: str
    """numpy dtype name (``np.dtype(numpy)``; ``bfloat16`` comes from ``ml_dtypes``)."""
    size: int
    """Bytes per element."""
    kind: str
    """One of ``KINDS``."""
    code: int
    """Runtime element-type code (``PTO_<NAME>`` in ``cpp_backend/runtime/dtype.h``)."""
    c_type: str
    """C type that stores an element in cpu_sim code (16-bit floats as their bit patterns)."""
    npu_type: str
    """Element type as AICore (ascend_npu) code spells it."""
    display: str
    """What the Studio shows next to the name."""
    aliases: tuple[str, ...] = ()
    """Other spellings ``DType.from_any`` accepts (besides the name and the enum member)."""

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def is_signed(self) -> bool:
        return self.kind in ("float", "signed")

    @property
    def numpy_kind(self) -> str:
        """numpy's ``dtype.kind`` for this kind of element (bf16 shares f16's ``f``)."""
        return {"float": "f", "signed": "i", "unsigned": "u", "bool": "b"}[self.kind]

    @property
    def needs_ml_dtypes(self) -> bool:
        return self.numpy == "bfloat16"


DTYPES: tuple[DTypeSpec, ...] = (
    DTypeSpec("f16", "float16", 2, "float", 0, "uint16_t", "half", "float16", ("float16", "half")),
    DTypeSpec("bf16", "bfloat16", 2, "float", 1, "uint16_t", "bfloat16_t", "bfloat16", ("bfloat16",)),
    DTypeSpec("f32", "float32", 4, "float", 2, "float", "float", "float32", ("float32", "float")),
    DTypeSpec("f64", "float64", 8, "float", 3, "double", "double", "float64", ("float64", "double")),
    DTypeSpec("i8", "int8", 1, "signed", 4, "int8_t", "int8_t", "int8", ("int8",)),
    DTypeSpec("i16", "int16", 2, "signed", 5, "int16_t", "int16_t", "int16", ("int16",)),
    DTypeSpec("i32", "int32", 4, "signed", 6, "int32_t", "int32_t", "int32", ("int32",)),
    DTypeSpec("i64", "int64", 8, "signed", 7, "int64_t", "int64_t", "int64", ("int64",)),
    DTypeSpec("u8", "uint8", 1, "unsigned", 8, "uint8_t", "uint8_t", "uint8", ("uint8",)),
    DTypeSpec("u16", "uint16", 2, "unsigned", 9, "uint16_t", "uint16_t", "uint16", ("uint16",)),
    DTypeSpec("u32", "uint32", 4, "unsigned", 10, "uint32_t", "uint32_t", "uint32", ("uint32",)),
    DTypeSpec("u64", "uint64", 8, "unsigned", 11, "uint64_t", "uint64_t", "uint64", ("uint64",)),
    DTypeSpec("bool", "bool", 1, "bool", 12, "uint8_t", "bool", "bool", ("bool_",)),
)  # fmt: skip
"""Every element type, in the order of the spec and the runtime codes."""

BY_NAME: dict[str, DTypeSpec] = {d.name: d for d in DTYPES}
NAMES: tuple[str, ...] = tuple(d.name for d in DTYPES)


def _check() -> None:
    assert [d.code for d in DTYPES] == list(range(len(DTYPES))), "codes must be 0..n-1 in order"
    assert all(d.kind in KINDS for d in DTYPES), "unknown dtype kind"
    spellings = [s for d in DTYPES for s in (d.name, *d.aliases)]
    assert len(spellings) == len(set(spellings)), "a dtype spelling is listed twice"


_check()

__all__ = ["DTypeSpec", "DTYPES", "BY_NAME", "NAMES", "KINDS"]
