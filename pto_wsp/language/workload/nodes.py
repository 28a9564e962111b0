"""The workload tree: the statement nodes a traced ``@workload`` body records, and walks over them.

Plain dataclasses, so lowering, the Studio's importer and the runner read them by field; nothing
here traces or compiles.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

from ...errors import SourceLoc
from ..kernel.ref import KernelCall
from ..layout import CollectiveOp
from ..scalar_expr import LoopVar, ScalarExpr


class Composed(Protocol):
    """A child of ``combine``/``sequential``: a ``Workload`` (kept abstract here so the tree
    does not depend on the workload object built from it)."""

    name: str

    @property
    def root(self) -> WorkloadRoot:
        """The child's own tree: its statement list, or the composition it is."""
        ...

    def statements(self) -> list[Any]: ...


@dataclass(eq=False)
class LoopNode:
    """``P``/``P.grid`` (kind "parallel"), ``P.seq`` ("seq") or ``P.sel`` ("sel") loop."""

    kind: str
    vars: list[LoopVar]
    axes: list[Any]
    body: list[Any] = field(default_factory=list)
    loc: SourceLoc | None = None


@dataclass(eq=False)
class CondNode:
    """An if/elif/else chain; a ``None`` predicate is the ``P.otherwise`` branch."""

    branches: list[tuple[ScalarExpr | None, list[Any]]] = field(default_factory=list)
    loc: SourceLoc | None = None

    @property
    def is_open(self) -> bool:
        """True while a further ``P.when``/``P.otherwise`` may extend the chain."""
        return bool(self.branches) and self.branches[-1][0] is not None


@dataclass(eq=False)
class ProcessNode:
    """One CSP process: its channels and its body (spec §3.7)."""

    name: str
    consumes: list[Any] = field(default_factory=list)
    produces: list[Any] = field(default_factory=list)
    body: list[Any] = field(default_factory=list)
    replicas: int = 1
    loc: SourceLoc | None = None


@dataclass(eq=False)
class PipeNode:
    """A pipeline scope whose processes run concurrently (``P.pipe``, workload-level consume)."""

    processes: list[ProcessNode] = field(default_factory=list)
    depth: int | None = None
    loc: SourceLoc | None = None


@dataclass(eq=False)
class ConnectNode:
    """``connect(processes, channels)``: an explicitly wired pipeline (spec §3.7)."""

    processes: list[ProcessNode]
    channels: list[Any]
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SendNode:
    """``send(ch, value)``: value is the KernelCall producing the item, a tensor view or None."""

    channel: Any
    value: Any
    block: bool = True
    loc: SourceLoc | None = None


@dataclass(eq=False)
class ConsumeNode:
    """``with consume(ch) as t``: the body runs once per received item, ``t`` = its sequence no.

    ``first_axis``: ``t`` is instead the first axis value of the task that sent the item (its
    sequence number when the send ran no task or one without axes), as in the reference
    implementation; the builder-style ``consume(ch, fn)`` outside a workload binds it so."""

    channel: Any
    var: LoopVar
    body: list[Any] = field(default_factory=list)
    loc: SourceLoc | None = None
    first_axis: bool = False


@dataclass(eq=False)
class CloseNode:
    channel: Any
    loc: SourceLoc | None = None


@dataclass(eq=False)
class RecordNode:
    event: Any
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SyncNode:
    event: Any
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SlotSetNode:
    slot: int
    value: ScalarExpr
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SlotLoadNode:
    slot: int
    view: Any
    row: ScalarExpr
    col: ScalarExpr
    loc: SourceLoc | None = None


@dataclass(eq=False)
class CombineNode:
    """Unordered composition of workloads (spec §3.6)."""

    children: Sequence[Composed]
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SequentialNode:
    """Ordered composition: child k+1 starts after child k ends (spec §3.6)."""

    children: Sequence[Composed]
    loc: SourceLoc | None = None


WorkloadRoot: TypeAlias = list[Any] | CombineNode | SequentialNode
"""The root of a traced workload: the body's statement list, or one composition."""


# Statements that carry no iteration structure of their own (ignored by dep_type).
PLAIN_STATEMENTS = (CloseNode, RecordNode, SyncNode, SlotSetNode, SlotLoadNode)

STATEMENTS: tuple[type, ...] = (
    KernelCall,
    CollectiveOp,
    LoopNode,
    CondNode,
    ProcessNode,
    PipeNode,
    ConnectNode,
    SendNode,
    ConsumeNode,
    CombineNode,
    SequentialNode,
    *PLAIN_STATEMENTS,
)
"""Every kind of statement a scope records: what a builder-style body may hand back as a node
(``workload.builder``)."""


def is_statement(node: Any) -> bool:
    return isinstance(node, STATEMENTS)


def is_kernel_call(node: Any) -> bool:
    return isinstance(node, KernelCall)


def operands(node: Any) -> tuple[Any, ...]:
    """The values one statement reads or writes itself, not those of statements nested in it:
    a kernel call's axes and arguments, a branch chain's predicates, a sent value, a slot's
    value or view and indices, a collective's source and result. Analyses that look for the
    tensors a body uses (``compiler.applicability``) read statements through this."""
    if isinstance(node, KernelCall):
        return (node.axes, node.args)
    if isinstance(node, CondNode):
        return tuple(pred for pred, _ in node.branches if pred is not None)
    if isinstance(node, SendNode):
        return (node.value,)
    if isinstance(node, SlotSetNode):
        return (node.value,)
    if isinstance(node, SlotLoadNode):
        return (node.view, node.row, node.col)
    if isinstance(node, CollectiveOp):
        return (node.source, node.result)
    return ()


def walk(stmts: Any) -> Iterator[Any]:
    """Yield every node of a statement list (or a single node), parents before children.

    Descends into loop/branch/process/consume bodies, the value of a ``send`` and the children
    of ``combine``/``sequential`` (through their workloads' statements).
    """
    todo = list(stmts) if isinstance(stmts, list | tuple) else [stmts]
    todo.reverse()
    while todo:
        node = todo.pop()
        yield node
        todo.extend(reversed(children(node)))


def children(node: Any) -> list[Any]:
    if isinstance(node, LoopNode | ProcessNode | ConsumeNode):
        return list(node.body)
    if isinstance(node, CondNode):
        return [s for _, body in node.branches for s in body]
    if isinstance(node, PipeNode | ConnectNode):
        return list(node.processes)
    if isinstance(node, SendNode):
        return [node.value] if is_kernel_call(node.value) else []
    if isinstance(node, CombineNode | SequentialNode):
        return [s for w in node.children for s in w.statements()]
    return []


def channel_use(stmts: list[Any]) -> tuple[list[Any], list[Any]]:
    """(consumed, produced) channels of a process body, in first-use order, without duplicates.

    Nested pipelines own their channels and are not looked into.
    """
    consumes: list[Any] = []
    produces: list[Any] = []
    todo = list(reversed(stmts))
    while todo:
        node = todo.pop()
        if isinstance(node, PipeNode | ConnectNode):
            continue
        if isinstance(node, SendNode) and not any(c is node.channel for c in produces):
            produces.append(node.channel)
        if isinstance(node, ConsumeNode) and not any(c is node.channel for c in consumes):
            consumes.append(node.channel)
        todo.extend(reversed(children(node)))
    return consumes, produces
