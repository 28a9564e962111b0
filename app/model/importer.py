"""DSL script -> graph document ("Import Python"): objects in, document out.

``import_script(path)`` runs the script in a worker process (``python -m
app.model.import_worker PATH``): a script is code, so it never runs inside the studio. The
worker executes it with ``runpy`` (under a name other than ``__main__``, so its runner block
stays inactive), collects every ``Workload``/``Program`` its globals reach plus the tensors,
axes, kernels (with their traced KernelIR), channels, events and schedules they reference, and
converts those OBJECTS to a format-v2 document with ``document_from_namespace`` (the source
text is never parsed; docs/graph-model.md):

- tensors, axes, kernels, channels and events stand on the root canvas (a scalar argument
  reaches a script's objects as a number: it becomes the call's typed value, not a wire);
- each workload is a ``workload.def`` frame; loops, ``P.when`` chains (a ``branch.chain`` of
  ``branch.case`` frames), ``P.pipe``, processes and ``consume`` blocks are frames whose
  children keep statement order;
- a call names its kernel definition by node id; tensors are wired straight into its parameter
  ports (In, InOut) and from its Out (InOut) ports into the tensors' ``write`` port; its index
  text is stored only where it differs from the auto index (``indexing.auto_index``), its axes
  only where they differ from the enclosing loop variables;
- ``combine``/``sequential`` are compose frames of ``workload.instance`` nodes (and nested
  compositions), ``connect`` a frame of process frames;
- schedules fill the sheet of the workload/compose/connect frame, and the program's target
  its ``target``.

The result is laid out for reading (``import_layout.layout_graph``). What the graph cannot express
(Constexpr parameters, ``min``/``max``/slot/symbol expressions, named processes inside
``P.pipe``, memory layouts other than a tensor's row/column-major order (explicit strides,
swizzles, a relayout to a memory layout), collectives of a tensor slice or whose result is
used outside the block computing it, two different schedules of one workload) raises
``ScriptImportError`` naming the object and, when known, the user's file:line or script line.

The work is split by concern: ``import_objects`` converts the objects (``Converter``),
``import_text`` writes their expressions and views as graph text (with the one expression
printer, ``pto_wsp.language.scalar_expr.to_text``), ``import_layout`` places the nodes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .document import Document
from .import_layout import layout_graph
from .import_objects import Converter
from .import_text import ScriptImportError, naming_roots
from .io import from_json

__all__ = ["ScriptImportError", "import_script", "document_from_namespace"]

_APP_PARENT = str(Path(__file__).resolve().parents[2])


def import_script(path: str | os.PathLike[str], timeout: float = 60) -> Document:
    """Run the DSL script at ``path`` in a worker process and return its document."""
    script = Path(path)
    if not script.is_file():
        raise ScriptImportError(f"{script}: no such file")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_APP_PARENT, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", f"{__package__}.import_worker", str(script.resolve())],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(script.resolve().parent),
        )
    except subprocess.TimeoutExpired:
        raise ScriptImportError(
            f"{script}: the script did not finish within {timeout:g} s (import stopped)"
        ) from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise ScriptImportError(lines[-1] if lines else f"{script}: import worker failed")
    return from_json(proc.stdout, script)


def _cost_table_name(name: str, program: Any) -> str:
    """The sheet's ``cost_table`` for ``program``: the name of its runner's table
    (``CostTable.name``); a table the sheet cannot name (a dict of rates) is an error, not a
    silently different run."""
    from pto_wsp.compiler.cost import DEFAULT_TABLE_NAME, CostTable

    table = getattr(program.runner, "cost_table", None)
    if not isinstance(table, CostTable) or table.name == DEFAULT_TABLE_NAME:
        return ""  # the sheet's default: left out of the document
    if table.name is None:
        raise ScriptImportError(
            f"program {name}: its cost table is not one the schedule sheet offers (the default "
            "or CostTable.from_ptoisa(...)); a graph cannot hold a table of custom rates"
        )
    return table.name


def document_from_namespace(namespace: dict[str, Any], name: str) -> tuple[Document, list[str]]:
    """The document for the objects a script left in ``namespace``, and notes for the user."""
    from pto_wsp.language.axes import Axis
    from pto_wsp.language.csp import Channel, Event
    from pto_wsp.language.kernel import KernelRef
    from pto_wsp.language.tensor import Tensor
    from pto_wsp.language.workload import CombineNode, SequentialNode
    from pto_wsp.runtime.program import Program
    from pto_wsp.runtime.scripts import collect

    conv = Converter(name)
    for gname, value in namespace.items():
        if not gname.startswith("_") and id(value) not in conv.global_names:
            conv.global_names[id(value)] = gname
    with naming_roots(lambda root: conv.tensor(root).name):
        for _gname, value in namespace.items():
            if isinstance(value, Tensor) and value.is_root:
                conv.tensor(value)
        for gname, value in namespace.items():
            if isinstance(value, Axis) and getattr(value, "kind", "") in (
                "dense", "dense_dyn", "ragged", "sparse"
            ):  # fmt: skip
                conv.axis(value, f"global {gname}")
        for _gname, value in namespace.items():
            if isinstance(value, KernelRef):
                conv.kernel(value)
            elif isinstance(value, Channel):
                conv.channel(value)
            elif isinstance(value, Event):
                conv.event(value)
        workloads, programs = collect(namespace)
        if len(programs) > 1:
            raise ScriptImportError(
                f"the script builds {len(programs)} programs "
                f"({', '.join(n for n, _ in programs)}); a project holds one"
            )
        # a composition nested in another is built inside its parent's frame
        nested: set[int] = set()
        for _wname, w in workloads:
            if isinstance(w.root, CombineNode | SequentialNode):
                nested.update(
                    id(c.root)
                    for c in w.root.children
                    if isinstance(c.root, CombineNode | SequentialNode)
                )
        for _wname, w in workloads:
            if id(w.root) not in nested:
                conv.workload(w)
        for pname, prog in programs:
            if isinstance(prog, Program):
                conv.schedule(prog.workload, str(prog.target), _cost_table_name(pname, prog))
        for _wname, w in workloads:
            if not w.schedule.is_empty():
                conv.schedule(w)
    conv.canonicalize()
    layout_graph(conv.doc)
    return conv.doc, conv.notes
