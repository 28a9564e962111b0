"""User source paths out of the generated C++ the build cache hashes and builds.

The emitted sources name the user's files: every ``file:line`` of a kernel site, a task's
comment or a run-time error message ("loop i at /home/me/sweep/003-4/program.py:12: ...").
Hashed as they are, a script exported to another folder (each variant of a parameter sweep)
gets another cache key and is built again although the library would be the same. So before
hashing, each user file of those locations becomes a *source token*, ``<pto-source-N>``
(``_core.codegen.SOURCE_TOKEN``, numbered in order of first appearance), and the loader gives
the real paths back: ``codegen.Library(path, sources)``, whose runs put them into their error
messages and whose crash and ``exit()`` reports name them (``cpp_backend/runtime/fault.h``).
Nothing else changes: the library is the one the paths would have built.

A path the C++ emitter would escape in a string literal (quotes, backslashes, ``%``, control
characters) is left as it is: its build is not shared, and stays correct. So is the text of a
kernel's own C++ (``cpp_src``, between its ``#line`` directives): the user's code is built as
written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .._native import codegen

__all__ = ["Tokenised", "tokenise", "expand", "TOKEN"]

TOKEN: str = codegen.SOURCE_TOKEN
"""The start of a source token; the runtime reads the same definition (fault.h)."""

_ESCAPED = re.compile(r'["\\%\x00-\x1f]')
_LINE_DIRECTIVE = re.compile(r'^#line \d+ "(?P<name>[^"]*)"')
_USER_CPP = "cpp_src of kernel "  # the #line name of a kernel's own C++ (cpu_sim.cpp)
_EXPAND = re.compile(re.escape(TOKEN) + r"(?P<n>\d+)>")


@dataclass(frozen=True)
class Tokenised:
    """Emitted files with source tokens for paths; ``sources[N]`` is what token N stands for."""

    files: list[tuple[str, str]]
    sources: tuple[str, ...]


def tokenise(files: Sequence[tuple[str, str]], paths: Iterable[str]) -> Tokenised:
    """``files`` (``(name, text)`` as emitted) with every ``PATH:LINE`` of a path in ``paths``
    (the lowering's ``Lowered.sources``) written ``<pto-source-N>:LINE``."""
    candidates = sorted({p for p in paths if p and not _ESCAPED.search(p) and TOKEN not in p},
                        key=lambda p: (-len(p), p))  # fmt: skip
    if not candidates:
        return Tokenised([(n, t) for n, t in files], ())
    # A whole path (not the tail of a longer one) followed by ":<digit>".
    pattern = re.compile(
        r"(?<![\w./-])(?:" + "|".join(re.escape(p) for p in candidates) + r")(?=:\d)"
    )
    order: dict[str, int] = {}

    def token(m: re.Match[str]) -> str:
        n = order.setdefault(m.group(0), len(order))
        return f"{TOKEN}{n}>"

    out: list[tuple[str, str]] = []
    for name, text in files:
        lines = text.split("\n")
        in_user_cpp = False
        for i, line in enumerate(lines):
            directive = _LINE_DIRECTIVE.match(line)
            if directive is not None:
                in_user_cpp = directive.group("name").startswith(_USER_CPP)
            elif not in_user_cpp:
                lines[i] = pattern.sub(token, line)
        out.append((name, "\n".join(lines)))
    return Tokenised(out, tuple(order))


def expand(text: str, sources: Sequence[str]) -> str:
    """``text`` with the source tokens of ``sources`` replaced by their paths (for messages
    about the tokenised files: a compiler's report)."""

    def path(m: re.Match[str]) -> str:
        n = int(m.group("n"))
        return sources[n] if n < len(sources) else m.group(0)

    return _EXPAND.sub(path, text)
