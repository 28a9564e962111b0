"""Writes the C++ op and dtype tables (``pto_tables.h``) from the Python tables, at build time.

    python gen_tables.py <pto_wsp/language dir> <output header>

The tables' one source is ``pto_wsp/language/op_table.py`` and ``dtype_table.py`` (their
docstrings say why), the default worker count's is ``pto_wsp/compiler/workers.py``
(``DEFAULT_WORKERS``, which the runtime's ``sim.h`` takes; so the header is valid C outside the
``__cplusplus`` part), and the wait-cause kinds' is ``pto_wsp/runtime/wait_causes.py``. This script loads them by path with the standard library only (it must
not import ``pto_wsp``: that needs numpy and the very extension being built) and renders them
as X-macros, which the IR, the emitters and the runtime expand into their enums and arrays.
Run by CMake (``CMakeLists.txt``) whenever either table changes; the header is written only when
its text changes, so an unrelated edit does not rebuild every C++ file.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_pto_table_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def _ident(name: str) -> str:
    """``slice_even`` -> ``SliceEven``, ``f16`` -> ``F16``, ``bool`` -> ``Bool``: an enumerator.

    Names that are a letter and a bit count (dtypes) are upper-cased; words are CamelCased."""
    if re.fullmatch(r"[a-z]+\d+", name):
        return name.upper()
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _cstr(s: str | None) -> str:
    return "nullptr" if s is None else f'"{s}"'


def _bool(b: bool) -> str:
    return "true" if b else "false"


def _macro(name: str, doc: str, rows: list[str]) -> list[str]:
    lines = [f"// {doc}", f"#define {name}(X) \\"]
    lines += [f"    {r} \\" for r in rows[:-1]]
    return [*lines, f"    {rows[-1]}", ""]


def _op_row(op: Any, ident: str) -> str:
    return (
        f'X({ident}, "{op.name}", {op.min_arity}, {op.max_arity}, {_ident(op.rule)}, '
        f"{_bool(op.float_only)}, {_bool(op.bool_ok)}, {op.runtime_fn}, {_cstr(op.isa)})"
    )


def render(language_dir: Path) -> str:
    """The header's text for the tables in ``language_dir``."""
    ops = _load(language_dir / "op_table.py")
    dts = _load(language_dir / "dtype_table.py")
    workers = _load(language_dir.parent / "compiler" / "workers.py")
    causes = _load(language_dir.parent / "runtime" / "wait_causes.py")
    out = [
        "// Generated at build time by cpp_backend/codegen/templates/gen_tables.py from",
        "// pto_wsp/language/op_table.py, dtype_table.py, pto_wsp/compiler/workers.py and",
        "// pto_wsp/runtime/wait_causes.py.",
        "// Do not edit: edit the tables.",
        "#pragma once",
        "",
        "// compiler/workers.py DEFAULT_WORKERS: workers of a run that asks for none.",
        f"#define PTO_TABLE_DEFAULT_WORKERS {int(workers.DEFAULT_WORKERS)}",
        "",
        "// runtime/wait_causes.py WAIT_CAUSES: what gated a task's start (trace field cause),",
        "// in tie order; NO_GATE is the trace field gate of a bound no task's end produced.",
        *(f"#define PTO_WAIT_{c.name.upper()} {int(c.code)}" for c in causes.WAIT_CAUSES),
        f"#define PTO_WAIT_COUNT {len(causes.WAIT_CAUSES)}",
        f"#define PTO_WAIT_NO_GATE {int(causes.NO_GATE)}u",
        "",
        "// language/op_table.py ADD_CYCLES_OP: the IR op of ptoisa.cpu_sim_add_cycles.",
        f'#define PTO_ADD_CYCLES_OP "{ops.ADD_CYCLES_OP}"',
        "",
        "#ifdef __cplusplus",
        "namespace pto::tables {",
        "/// The type rules of op_table.RULES (one shape/dtype check each).",
        "enum class OpRule { " + ", ".join(_ident(r) for r in ops.RULES) + " };",
        "}  // namespace pto::tables",
        "#endif",
        "",
    ]
    out += _macro(
        "PTO_OP_TABLE",
        'X(Ident, "name", min_arity, max_arity, Rule, float_only, bool_ok, runtime_fn, isa): '
        "the IR ops; isa is the PTO-ISA spelling ascend_npu emits (space-separated: a composition)",
        [_op_row(op, _ident(op.name)) for op in ops.OPS if op.alias_of is None],
    )
    out += _macro(
        "PTO_OP_TABLE_WITH_ALIASES",
        "The same in table order with the aliases (max, min), which carry their target's Ident",
        [_op_row(op, _ident(op.alias_of or op.name)) for op in ops.OPS],
    )
    out += _macro(
        "PTO_DTYPE_TABLE",
        'X(Ident, abi, "name", code, size, c_type, "npu_type", is_float, numpy_kind, "numpy"): the '
        "element types; abi is the code's name in runtime/dtype.h (static_asserted equal to "
        "code by the runtime), numpy_kind numpy's dtype.kind",
        [
            f'X({_ident(d.name)}, PTO_{d.name.upper()}, "{d.name}", {d.code}, {d.size}, '
            f'{d.c_type}, "{d.npu_type}", {_bool(d.is_float)}, \'{d.numpy_kind}\', "{d.numpy}")'
            for d in dts.DTYPES
        ],
    )
    out += [f"#define PTO_TABLE_NUM_DTYPES {len(dts.DTYPES)}", ""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    text = render(Path(argv[1]))
    target = Path(argv[2])
    if not target.exists() or target.read_text() != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
