"""``Workload``: a traced workload plus its schedule (spec §3, §4), and its compile entry.

Schedule combinators return new workloads sharing the (never mutated) tree; ``compile``/
``start``/``join`` hand the workload to the compiler through the toolchain binding.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ...errors import ExecutionError, ScheduleError, SourceLoc, TypeCheckError, user_location
from .. import layout as _layout
from ..kernel.ref import KernelRef
from ..key_rule import singular as _singular
from ..scalar_expr import LoopVar
from ..schedule import (
    DispatchPolicy,
    ScheduleSpec,
    TaskWindow,
    TimingPolicy,
    apply_dispatch,
    apply_spatial_map,
    apply_stream_by,
    apply_streams,
    apply_task_graph,
    apply_timing,
)
from ..toolchain import toolchain
from .nodes import (
    PLAIN_STATEMENTS,
    CombineNode,
    CondNode,
    ConnectNode,
    ConsumeNode,
    LoopNode,
    PipeNode,
    ProcessNode,
    SequentialNode,
    WorkloadRoot,
    is_kernel_call,
    walk,
)

_DEP_OF_LOOP = {"parallel": "Independent", "seq": "Sequential", "sel": "Selected"}


def _dep_type(node: Any) -> str:
    if isinstance(node, LoopNode):
        return _DEP_OF_LOOP[node.kind]
    if isinstance(node, CondNode):
        return "Conditional"
    if isinstance(node, PipeNode | ConnectNode | ProcessNode | ConsumeNode):
        return "Pipeline"
    if isinstance(node, CombineNode):
        return "Combined"
    if isinstance(node, SequentialNode):
        return "Sequential"
    return "Independent"


def _axis_type_name(ax: Any) -> str:
    type_str = getattr(ax, "type_str", None)
    if isinstance(type_str, str):
        return type_str
    kind = getattr(ax, "kind", None)
    if kind == "dense":
        return f"Dense[{ax.size}]"
    return {"dense_dyn": "DenseDyn", "ragged": "Ragged", "sparse": "Sparse"}.get(
        str(kind), type(ax).__name__
    )


@dataclass(eq=False)
class Workload:
    """A traced workload plus its schedule (spec §3, §4).

    ``root`` is the statement list of the body, or a single ``CombineNode``/``SequentialNode``.
    ``params`` are the arguments it was called with and ``fn`` the decorated function (lowering
    finds tensor names in its globals/closure). Schedule combinators return NEW workloads that
    share the (never mutated) tree and carry an updated immutable ``ScheduleSpec``.
    """

    name: str
    root: WorkloadRoot
    params: dict[str, Any] = field(default_factory=dict)
    fn: Callable[..., Any] | None = None
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    loc: SourceLoc | None = None
    _program: Any = field(default=None, init=False, repr=False)
    _inlined: Any = field(default=None, init=False, repr=False)

    # ---- structure ------------------------------------------------------------------
    def statements(self) -> list[Any]:
        """The top-level statements (a composition root is one statement)."""
        return list(self.root) if isinstance(self.root, list) else [self.root]

    def walk(self) -> Iterator[Any]:
        """Every node of the tree, parents first."""
        return walk(self.statements())

    @property
    def dep_type(self) -> str:
        """ "Independent", "Sequential", "Selected", "Pipeline", "Conditional" or "Combined"."""
        kinds = [_dep_type(s) for s in self.statements() if not isinstance(s, PLAIN_STATEMENTS)]
        distinct = list(dict.fromkeys(kinds))
        if not distinct:
            return "Independent"
        return distinct[0] if len(distinct) == 1 else "Combined"

    def kernels(self) -> list[KernelRef]:
        """The kernels the workload calls, each once, in first-call order."""
        seen: list[KernelRef] = []
        for node in self.walk():
            if is_kernel_call(node) and not any(k is node.kernel for k in seen):
                seen.append(node.kernel)
        return seen

    def outer_axes(self) -> list[Any]:
        """Axes of the outermost perfect loop nest (what ``type_str`` shows)."""
        axes: list[Any] = []
        stmts = self.statements()
        while len(stmts) == 1 and isinstance(stmts[0], LoopNode):
            loop = stmts[0]
            axes.extend(loop.axes)
            stmts = loop.body
        return axes

    @property
    def type_str(self) -> str:
        """Spec §3.0 type, e.g. ``Workload[DenseDyn × Dense[8], attn, Independent]``."""
        axes = " × ".join(_axis_type_name(a) for a in self.outer_axes()) or "()"
        names = [getattr(k, "name", "?") for k in self.kernels()]
        kernels = " | ".join(str(n) for n in names) or "-"
        return f"Workload[{axes}, {kernels}, {self.dep_type}]"

    def __repr__(self) -> str:
        return f"<{self.type_str} {self.name}>"

    # ---- schedule-key names (DESIGN §2) ---------------------------------------------
    def _key_bindings(self) -> list[tuple[int, str, LoopVar]]:
        """(priority, name, var): 1 loop var name, 2 axis name, 3 its singular, 4 P.sel kernel."""
        table: list[tuple[int, str, LoopVar]] = []
        for node in self.walk():
            if isinstance(node, LoopNode):
                for var, ax in zip(node.vars, node.axes, strict=True):
                    table.append((1, str(var.name), var))
                    target = getattr(ax, "axis", ax) if node.kind == "sel" else ax
                    ax_name = getattr(target, "name", None)
                    if ax_name:
                        table.append((2, str(ax_name), var))
                        singular = _singular(str(ax_name))
                        if singular:
                            table.append((3, singular, var))
                if node.kind == "sel":
                    for inner in walk(node.body):
                        if is_kernel_call(inner):
                            table.append((4, str(inner.kernel.name), node.vars[0]))
            elif isinstance(node, ConsumeNode):
                table.append((1, str(node.var.name), node.var))
        return table

    def key_names(self) -> list[str]:
        """Every name ``t.get(name)`` accepts for this workload."""
        return sorted({name for _, name, _ in self._key_bindings()})

    def resolve_axis_name(self, name: str) -> LoopVar:
        """The loop variable ``name`` refers to in a schedule key's ``t.get(name)``, an
        ``axis(name)`` expression or ``Program.set_axis_sizes({name: n})``: the one resolution
        of a loop name (DESIGN §2 order, then the reference implementation's names).

        In order: a loop variable's name; the name of the axis it iterates, or that name's
        singular; for a ``P.sel`` loop, the name of the kernel its body calls. The first
        (outermost) match of the first rule that matches wins. Only when no user name matches,
        the reference implementation's name (``P``/``P.grid``: b, h, s, d, i, j, k, l, m, n in
        order per workload call; ``P.seq``: i; ``P.sel``: e) — which must then name one loop:
        several is a ``ScheduleError`` listing them.
        """
        table = self._key_bindings()
        for prio in (1, 2, 3, 4):
            for p, n, var in table:
                if p == prio and n == name:
                    return var
        matches = self.reference_loops(name)
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = "; ".join(_describe_loop_var(v) for v in matches)
            raise ScheduleError(
                f"workload {self.name!r}: {name!r} is no loop variable or axis name, and as the "
                f"reference implementation's loop-variable name it matches {len(matches)} "
                f"loops: {listed}; use one of their own names",
                loc=user_location(),
            )
        valid = ", ".join(repr(n) for n in self.key_names()) or "none (the workload has no loops)"
        raise ScheduleError(
            f"workload {self.name!r} has no loop variable or axis named {name!r}; "
            f"valid names: {valid}",
            loc=user_location(),
        )

    def reference_loops(self, name: str) -> list[LoopVar]:
        """The loop variables whose reference-implementation name is ``name``, outermost first
        (``resolve_axis_name`` uses it when no user name matches; more than one is ambiguous)."""
        return [v for v in self._loop_vars() if v.reference_name == name]

    def _loop_vars(self) -> list[LoopVar]:
        """Every loop variable of the tree, outermost first."""
        return [v for node in self.walk() if isinstance(node, LoopNode) for v in node.vars]

    # ---- schedule combinators (spec §4) ---------------------------------------------
    def _scheduled(self, spec: ScheduleSpec) -> Workload:
        return replace(self, schedule=spec)

    def dispatch(self, policy: DispatchPolicy) -> Workload:
        return self._scheduled(apply_dispatch(self.schedule, policy, self, user_location()))

    def streams(self, n: int) -> Workload:
        return self._scheduled(apply_streams(self.schedule, n, user_location()))

    def stream_by(self, key_fn: Any) -> Workload:
        return self._scheduled(apply_stream_by(self.schedule, key_fn, self, user_location()))

    def timing(self, policy: TimingPolicy) -> Workload:
        return self._scheduled(apply_timing(self.schedule, policy, user_location()))

    def task_graph(
        self,
        window: TaskWindow | int | None = None,
        deps: Any = None,
        ready: Any = None,
        start: Any = None,
        trace: Any = None,
        pools: Any = None,
    ) -> Workload:
        spec = apply_task_graph(
            self.schedule, self, user_location(),
            window=window, deps=deps, ready=ready, start=start, trace=trace, pools=pools,
        )  # fmt: skip
        return self._scheduled(spec)

    def spatial_map(self, grid: Any) -> Workload:
        return self._scheduled(apply_spatial_map(self.schedule, grid, user_location()))

    def layout(self, tensor: Any, *layout: Any) -> Workload:
        """Deprecated (spec §5.4): layouts are tensor type refinements now.

        A layout equal to the tensor's own is accepted (nothing changes); any other request
        cannot be expressed as a schedule and raises ``ScheduleError`` pointing at the
        replacements: ``Tensor(..., layout=TensorLayout(...))`` or ``relayout(x, to=...)``
        inside the workload.
        """
        warnings.warn(
            "Workload.layout(...) is deprecated; give tensors a TensorLayout or call "
            "relayout(x, to=...) inside the workload",
            DeprecationWarning,
            stacklevel=2,
        )
        loc = user_location()
        if len(layout) == 1 and isinstance(layout[0], _layout.TensorLayout):
            wanted = layout[0]
        elif layout and all(
            isinstance(d, _layout.TensorShard | _layout.TensorReplicate) for d in layout
        ):
            wanted = _layout.TensorLayout(tuple(layout))
        else:
            raise ScheduleError(
                "Workload.layout(tensor, ...) takes a TensorLayout or one TensorShard/"
                "TensorReplicate per dimension",
                loc=loc,
            )
        current = getattr(tensor, "layout", None)
        if current is not None and current == wanted:
            return self
        raise ScheduleError(
            f"Workload.layout cannot change the layout of {getattr(tensor, 'name', None) or 'the tensor'} "
            f"to {wanted!r} as a schedule: declare it on the tensor (Tensor(..., layout=...)) or "
            "call relayout(x, to=...) inside the workload",
            loc=loc,
        )

    def named(self, name: str) -> Workload:
        """A copy named ``name`` (the module name of what it compiles to; the reference
        implementation's form). The tree and the schedule are shared, as with a combinator."""
        if not isinstance(name, str) or not name:
            raise TypeCheckError(
                f"Workload.named takes a non-empty str, got {name!r}", loc=user_location()
            )
        return replace(self, name=name)

    # ---- compilation and execution (spec §5) ----------------------------------------
    def compile(self, target: str = "cpu_sim", *, axis_sizes: Any = None) -> Any:
        """Lower and compile for ``target``; returns a ``Program``.

        ``axis_sizes`` (``{loop variable name: n}``) sets the bounds of ``DenseDyn`` loops for
        the program's runs, as ``program.set_axis_sizes`` does: they are run-time inputs, so
        they take no part in the build.
        """
        program = toolchain().compile_workload(self, target)
        if axis_sizes is not None:
            program.set_axis_sizes(axis_sizes)
        return program

    def start(self, target: str = "cpu_sim") -> Any:
        """Compile (once) and start executing; ``join()`` waits (spec §3.7 ``connect``)."""
        if self._program is None:
            self._program = self.compile(target)
        self._program.execute()
        return self._program

    def join(self) -> Any:
        """Wait for the run ``start()`` began; errors of the run surface here."""
        if self._program is None:
            raise ExecutionError(
                f"workload {self.name!r}: join() without start()", loc=user_location()
            )
        self._program.synchronize()
        return self._program


def _describe_loop_var(v: LoopVar) -> str:
    """``h (P over heads at model.py:12)``: a loop variable as a candidate in a message."""
    loop = v.loop
    kind = {"parallel": "P", "seq": "P.seq", "sel": "P.sel"}.get(getattr(loop, "kind", ""), "loop")
    axis = getattr(getattr(v.axis, "axis", v.axis), "name", None)
    loc = getattr(loop, "loc", None)
    where = f" at {loc.file}:{loc.line}" if loc is not None else ""
    return f"{v.name} ({kind}{f' over {axis}' if axis else ''}{where})"


def reject_scheduled(w: Workload, what: str, loc: SourceLoc | None) -> None:
    if not w.schedule.is_empty():
        raise ScheduleError(
            f"{what}: workload {w.name!r} carries a schedule ({w.schedule.describe()}); a "
            "schedule applies to the whole program, so schedule the composed workload instead",
            loc=loc,
        )


def was_recorded(w: Workload, scope: Any) -> bool:
    return w._inlined is not None and w._inlined[0] is scope
