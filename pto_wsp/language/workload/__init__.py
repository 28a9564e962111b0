"""Workloads: ``@workload``, the ``P`` loop namespace, composition (spec §3, §5.4).

A ``@workload`` function is traced once per call: its body runs with symbolic loop variables, and
every construct records a node into the innermost open scope (``pto_wsp.language._builder``). The
result is a ``Workload`` holding a tree of plain dataclasses that ``pto_wsp.compiler.lowering``
turns into the C++ IR. Nothing here enumerates tasks: a ``P(batch, heads)`` loop body is traced
once, not B x H times. One module per job:

* ``nodes`` - the tree's statement dataclasses and walks over them;
* ``recording`` - the scopes a body records into, and what the user's frame tells the tracer;
* ``traced`` - the ``Workload`` object: structure queries, schedule combinators, compile entry;
* ``loops`` - ``P``: loops, ``P.when``/``P.otherwise`` chains, ``P.pipe`` pipelines;
* ``definition`` - the ``@workload`` decorator (tracing a body per call, inlining);
* ``compose`` - ``combine`` and ``sequential``;
* ``legacy`` - ``task``, ``for_each``, ``parallel_for``, ``select``, ``cond``;
* ``builder`` - the same forms outside ``@workload`` (the reference builder style).

Structure rules decided here (spec §3, DESIGN §6):

* ``P.when`` blocks that follow each other directly in one scope form ONE if/elif chain, and a
  ``P.otherwise`` right after them closes it (else branch). Any other statement in between starts
  a new chain. ``P.otherwise`` with no open chain before it is a ``TypeCheckError``.
* Inside ``P.pipe()`` every top-level statement becomes one CSP process. A ``with consume(ch)``
  block outside any process (e.g. at workload level, spec §8.3) is a process of its own: it joins
  the ``PipeNode`` directly before it, or starts a new one that also takes in the directly
  preceding statements that ``send`` on channels (so producer and consumers run concurrently).
* ``P.pipe(depth=N)`` gives every channel its processes use, and that was created without an
  explicit depth, the depth N.
* A ``@workload`` called while another one is traced is inlined: its statements are appended to
  the caller's scope. ``combine``/``sequential`` called while tracing record their node in place
  of the inlined children.
* The dependency type (``Workload.dep_type``) is that of the outermost construct; a body of
  several structural statements of different types is ``Combined`` (siblings are ordered only
  by their data dependencies).

Every public name is importable from here, as before the split.
"""

from __future__ import annotations

from .compose import combine, sequential
from .definition import WorkloadFunction, workload
from .legacy import cond, for_each, parallel_for, select, task
from .loops import P
from .nodes import (
    CloseNode,
    CombineNode,
    CondNode,
    ConnectNode,
    ConsumeNode,
    LoopNode,
    PipeNode,
    ProcessNode,
    RecordNode,
    SendNode,
    SequentialNode,
    SlotLoadNode,
    SlotSetNode,
    SyncNode,
    walk,
)
from .recording import Scope
from .traced import Workload

__all__ = [
    "workload",
    "Workload",
    "WorkloadFunction",
    "P",
    "combine",
    "sequential",
    "task",
    "for_each",
    "parallel_for",
    "select",
    "cond",
    "Scope",
    "LoopNode",
    "CondNode",
    "PipeNode",
    "ProcessNode",
    "SendNode",
    "ConsumeNode",
    "CloseNode",
    "RecordNode",
    "SyncNode",
    "SlotSetNode",
    "SlotLoadNode",
    "CombineNode",
    "SequentialNode",
    "ConnectNode",
    "walk",
]
