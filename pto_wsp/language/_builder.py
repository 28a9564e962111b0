"""The stack of open workload scopes while a ``@workload`` body is traced.

Everything that records a statement (kernel calls, ``send``, ``P.when`` blocks, collectives,
slots, events) appends to the innermost open scope through ``record``. A scope is any object
with an ``append(node)`` method; ``pto_wsp.language.workload`` defines the real ones.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import TypeCheckError, user_location


class Scope(Protocol):
    def append(self, node: Any) -> None: ...


_stack: list[Scope] = []


def current() -> Scope | None:
    """The innermost open scope, or None outside any ``@workload`` body."""
    return _stack[-1] if _stack else None


def push(scope: Scope) -> None:
    _stack.append(scope)


def pop(scope: Scope) -> None:
    if not _stack or _stack[-1] is not scope:
        raise RuntimeError("workload scopes closed out of order")
    _stack.pop()


def record(node: Any, what: str = "this call") -> Any:
    """Append ``node`` to the innermost scope; outside a workload it is an error."""
    scope = current()
    if scope is None:
        raise TypeCheckError(
            f"{what} records a workload statement and must run inside a @workload function",
            loc=user_location(),
        )
    scope.append(node)
    return node


def depth() -> int:
    return len(_stack)


def unwind(to_depth: int) -> None:
    """Close every scope opened above ``to_depth`` (a traced body raised or returned early)."""
    del _stack[to_depth:]
