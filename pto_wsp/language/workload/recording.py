"""Recording: the scopes a traced body appends to, and what the user's frame tells the tracer.

``Scope`` is the statement list of a loop, branch, pipe, process or workload body while it is
traced. The rest reads the user's code: the names a ``for``/``with`` statement binds (so loop
variables print as the user named them) and the first frame outside this package.
"""

from __future__ import annotations

import dis
import functools
import itertools
import sys
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any

from ...errors import SourceLoc, TypeCheckError, _is_internal
from .. import _builder


class Scope:
    """An open statement list while a workload is traced.

    ``kind`` is "root", "loop", "branch", "pipe", "process" or "consume". ``in_process`` tells
    whether statements here run inside a CSP process (then a ``consume`` block is a plain
    statement instead of forming a process of its own). ``builder`` tells that the scope was
    opened by the reference builder style outside any ``@workload`` (``workload.builder``); scopes
    nested in it inherit it.
    """

    def __init__(
        self,
        kind: str,
        parent: Any = None,
        in_process: bool | None = None,
        builder: bool = False,
    ):
        self.kind = kind
        self.nodes: list[Any] = []
        self.builder = builder or bool(getattr(parent, "builder", False))
        # The reference implementation's P/P.grid loop-variable names: one counter per workload
        # call (a "root" scope), shared by every scope opened inside it (reference_loop_names).
        inherited = getattr(parent, "grid_names", None)
        self.grid_names: Iterator[str] = (
            inherited if inherited is not None and kind != "root" else reference_grid_names()
        )
        if in_process is None:
            in_process = bool(getattr(parent, "in_process", False)) or (
                getattr(parent, "kind", None) == "pipe"
            )
        self.in_process = in_process

    def append(self, node: Any) -> None:
        self.nodes.append(node)

    def remove(self, node: Any) -> bool:
        for k, n in enumerate(self.nodes):
            if n is node:
                del self.nodes[k]
                return True
        return False


REFERENCE_GRID_NAMES: tuple[str, ...] = ("b", "h", "s", "d", "i", "j", "k", "l", "m", "n")
"""The names the reference implementation gives ``P``/``P.grid`` loop variables, in order per
workload call (cycling after n); every ``P.seq`` variable is ``i``, every ``P.sel`` one ``e``."""
REFERENCE_SEQ_NAME, REFERENCE_SEL_NAME = "i", "e"


def reference_grid_names() -> Iterator[str]:
    return itertools.cycle(REFERENCE_GRID_NAMES)


def enclosing_scope(what: str, loc: SourceLoc | None) -> Any:
    scope = _builder.current()
    if scope is None:
        raise TypeCheckError(f"{what} must be used inside a @workload function", loc=loc)
    return scope


def close_scope(scope: Scope) -> None:
    """Pop ``scope`` if it is innermost (an exception may already have unwound the stack)."""
    if _builder.current() is scope:
        _builder.pop(scope)


_STORE_OPS = {"STORE_FAST", "STORE_NAME", "STORE_DEREF", "STORE_GLOBAL"}
_FILLER_OPS = {"EXTENDED_ARG", "NOP", "CACHE"}


@functools.lru_cache(maxsize=512)
def _instructions(code: CodeType) -> tuple[list[dis.Instruction], dict[int, int]]:
    instrs = list(dis.get_instructions(code))
    return instrs, {ins.offset: k for k, ins in enumerate(instrs)}


def target_names(frame: FrameType | None, first_op: str) -> list[str] | None:
    """Names a user statement binds right after the instruction now running in ``frame``.

    ``first_op`` is the opcode expected next ("FOR_ITER" for a loop, "" for a with-statement).
    Returns None when the frame is ours or the target is not a plain name / tuple of names.
    """
    if frame is None or _is_internal(frame.f_code.co_filename):
        return None
    try:
        instrs, index = _instructions(frame.f_code)
    except Exception:  # pragma: no cover - exotic code objects
        return None
    k = index.get(frame.f_lasti)
    if k is None:
        return None
    # Prefix / filler opcodes carry no meaning here (a long loop body needs EXTENDED_ARG).
    instrs = [ins for ins in instrs[k + 1 : k + 64] if ins.opname not in _FILLER_OPS]
    if first_op:
        if not instrs or instrs[0].opname != first_op:
            return None
        instrs = instrs[1:]
    if not instrs:
        return None
    ins = instrs[0]
    if ins.opname in _STORE_OPS:
        return [str(ins.argval)]
    if ins.opname == "UNPACK_SEQUENCE":
        count = int(ins.arg or 0)
        stores = instrs[1 : 1 + count]
        if len(stores) == count and all(s.opname in _STORE_OPS for s in stores):
            return [str(s.argval) for s in stores]
    return None


def name_unnamed_axis(axis: Any, frame: FrameType | None) -> None:
    """Give an axis without a name the user's variable name for it (``tiles = DenseDyn(n)``)."""
    target = getattr(axis, "axis", axis)  # a SparseRow / RaggedRow names its parent axis
    if getattr(target, "name", None) or frame is None:
        return
    for mapping in (frame.f_locals, frame.f_globals):
        for name, value in mapping.items():
            if value is target and not name.startswith("_"):
                try:
                    target.name = name
                except AttributeError:
                    return
                return


def user_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame
