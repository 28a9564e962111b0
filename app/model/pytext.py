"""How a string from a document may reach an exported script: as a literal or a checked name.

A project file is data (DESIGN §1 "Trust"), so no text from it is ever pasted into the script.
The exporter writes a document string either

- as a Python literal made by ``literal`` (verified to read back as the same value), or
- as a name that ``identifier_problem`` accepted: a Python identifier that is not a keyword,
  reads the same after the parser's NFKC normalisation, and is not a name the script itself
  needs (``RESERVED_NAMES``: the DSL names it imports, ``__name__`` and other dunders).

Expressions (index, predicate and key fields) are the third way in: ``exprs`` parses them
against a whitelist and prints them back from the parsed tree.

``text_problem`` is the check every stored string passes (names, properties, the project name):
NUL characters and lone surrogates cannot be saved as UTF-8 nor compiled, so they are refused
when the document is loaded or edited, not when it runs.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata

__all__ = [
    "TENSOR_INIT_MODULE",
    "RESERVED_NAMES",
    "text_problem",
    "identifier_problem",
    "is_identifier",
    "literal",
]

TENSOR_INIT_MODULE = "init"
"""The name the script imports ``pto_wsp.language.tensor_init`` as."""

RESERVED_NAMES = frozenset(
    {
        "Channel", "DType", "Dense", "DenseDyn", "DispatchPolicy", "Event", "In", "InOut",
        "Location", "Out", "P", "Ragged", "Sparse", "Tensor", "Tile", "TimingPolicy", "TaskWindow",
        "WindowMode", "Scalar", "connect", "consume", "jit_kernel", "kernel", "process", "pto",
        "record", "replicate", "send", "slot_load_u64", "slot_set_u64", "synchronize", "workload",
        "combine", "sequential", "relayout", "allreduce", "allgather", "reduce_scatter",
        "TensorLayout", "TensorReplicate", "TensorShard", "MemLayout", "report_errors", "run_main",
        TENSOR_INIT_MODULE, "Deps", "ReadyPolicy", "StartPolicy", "TracePolicy", "Pools",
    }
)  # fmt: skip
"""Names the exported script imports or relies on; no document name may take one of them.
(Every dunder name is reserved too: ``__name__`` picks the script's main block.)"""


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored in a project or a script (None when it can)."""
    m = _UNSTORABLE.search(text)
    if m is None:
        return None
    if m.group() == "\x00":
        return f"contains a NUL character (at offset {m.start()})"
    return f"contains a lone surrogate U+{ord(m.group()):04X} (at offset {m.start()}), which is not text"


def identifier_problem(name: object) -> str | None:
    """Why ``name`` cannot be a variable of the exported script (None when it can)."""
    if not isinstance(name, str):
        return f"expected a name, got {type(name).__name__}"
    problem = text_problem(name)
    if problem is not None:
        return f"{name!r} is not a valid Python name: it {problem}"
    if not name.isidentifier() or keyword.iskeyword(name):
        return f"{name!r} is not a valid Python name"
    if unicodedata.normalize("NFKC", name) != name:
        return (
            f"{name!r} is not a valid Python name here: Python reads it as "
            f"{unicodedata.normalize('NFKC', name)!r}"
        )
    if name in RESERVED_NAMES:
        return f"{name!r} is a name the exported script imports; choose another name"
    if name.startswith("__") and name.endswith("__"):
        return f"{name!r}: names of the form __x__ belong to Python; choose another name"
    return None


def is_identifier(name: object) -> bool:
    """Whether ``name`` passes ``identifier_problem``."""
    return identifier_problem(name) is None


def _escaped(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )  # fmt: skip
    out.append('"')
    return "".join(out)


def _triple_ok(text: str) -> bool:
    """Whether ``\"\"\"text\"\"\"`` reads back as ``text`` exactly (no escapes, no stray quote,
    only printable characters and newlines: a ``\\r`` would be normalised away by the parser)."""
    return (
        '"""' not in text
        and "\\" not in text
        and not text.endswith('"')
        and all(ch == "\n" or ch.isprintable() for ch in text)
    )


def literal(value: object, multiline: bool = False) -> str:
    """The Python literal of a str, int, float, bool or None.

    Strings are double-quoted with escapes (``multiline``: triple-quoted when that keeps the
    text verbatim, for C++ sources and docstrings). The result is checked to read back as
    ``value``; ``ValueError`` for values that have no literal (NaN, infinities, other types).
    """
    if isinstance(value, str):
        text = f'"""{value}"""' if multiline and _triple_ok(value) else _escaped(value)
    elif value is None or isinstance(value, bool | int):
        text = repr(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        text = repr(value)
    else:
        raise ValueError(f"no Python literal for a {type(value).__name__}")
    back = ast.literal_eval(text)
    if type(back) is not type(value) or back != value:
        raise ValueError(f"the literal {text[:40]!r} does not read back as the value")
    return text
