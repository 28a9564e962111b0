"""Lowering: Python workload/kernel objects -> the C++ IR (``pto_wsp._core.ir``).

This is the only module that knows both object models. It walks a ``Workload`` tree once,
interning tensors, kernels (one IR kernel per shape specialization), channels and events into a
``Module``, turns ``ScalarExpr`` trees into IR expressions, and then asks the C++ verifier for a
second opinion. Anything it cannot represent raises ``IRConversionError`` naming the construct and
the user's line, never a bare ``AttributeError``.
"""

from __future__ import annotations

import linecache
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .._native import ir
from ..errors import (
    CompileError,
    IRConversionError,
    PtoError,
    ScheduleError,
    SourceLoc,
    TypeCheckError,
    user_location,
)
from ..language import scalar_types as st
from ..language.axes import Axis, Dense, DenseDyn, Ragged, RaggedRow, Sparse, SparseRow
from ..language.csp import Channel, Event
from ..language.kernel import KernelCall, KernelIR, KernelSource
from ..language.kernel.cpp_source import uses_ptoisa
from ..language.layout import CollectiveOp, TensorLayout, TensorShard
from ..language.scalar_expr import LoopVar, ScalarExpr, as_expr
from ..language.schedule import Pools, ScheduleSpec
from ..language.tensor import IndexPoint, IndexRange, Tensor, TensorView
from ..language.types import DType
from ..language.workload import Workload
from ..language.workload import nodes as tree
from .workers import resolve_workers

__all__ = [
    "AxisSize",
    "Lowered",
    "Lowering",
    "lower",
    "lower_for_run",
    "lower_kernel_ir",
    "lower_with_bindings",
]


class Located(Protocol):
    """Anything lowering reports about: tree nodes, kernel calls, op records, workloads, kernels
    (every one carries the user's line it was recorded at)."""

    @property
    def loc(self) -> SourceLoc | None: ...


#: One value of a kernel call argument or a ``send``: a tensor or a view of one.
TensorLike = Tensor | TensorView


def _loc(obj: Located | None, sources: set[str] | None = None) -> str:
    """``file:line`` of ``obj`` for the IR ("" when unknown); its file joins ``sources``."""
    loc = obj.loc if obj is not None else None
    if not isinstance(loc, SourceLoc):
        return ""
    if sources is not None:
        sources.add(loc.file)
    return str(loc)


def _fail(
    what: str, obj: Located | None = None, cause: BaseException | None = None
) -> IRConversionError:
    loc = obj.loc if obj is not None else None
    err = IRConversionError(f"cannot lower {what}", loc=loc if isinstance(loc, SourceLoc) else None)
    if cause is not None:
        err.__cause__ = cause
    return err


# The verifier's messages read "<construct> at <file>:<line>: <problem>" (verifier.cpp).
_I64_MAX = (1 << 63) - 1
_VERIFIER_AT = re.compile(r" at (?P<file>.+?):(?P<line>\d+): ")


def _located(err: IRConversionError, workload: Workload) -> IRConversionError:
    """``err`` with the user's file:line when it has none: the place its message names (a
    verifier message), else where the workload was defined, else the user's current line."""
    if err.loc is not None:
        return err
    m = _VERIFIER_AT.search(err.message)
    if m is not None:
        file, line = m.group("file"), int(m.group("line"))
        err.loc = SourceLoc(file, line, linecache.getline(file, line).strip())
    else:
        loc = workload.loc
        err.loc = loc if isinstance(loc, SourceLoc) else user_location()
    err.args = (str(err),)
    return err


def _ident(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    return name if name and not name[0].isdigit() else f"_{name}"


# --------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------


def _dtype_str(dtype: Any) -> str:
    if dtype is None:
        return ""
    return DType.from_any(dtype).value


def _attr_value(v: Any) -> Any:
    if isinstance(v, DType):
        return v.value
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return [_attr_value(x) for x in v]
    if isinstance(v, list):
        return [_attr_value(x) for x in v]
    return v


def lower_kernel_ir(
    kir: KernelIR,
    name: str | None = None,
    kernel: KernelSource | None = None,
    sources: set[str] | None = None,
) -> Any:
    """Build an ``ir.Kernel`` from a ``KernelIR`` (traced, or an untraced kernel's signature);
    the files of the locations it records join ``sources``."""
    kname = name or kir.name or (kernel.name if kernel is not None else "kernel")
    k = ir.Kernel(_ident(kname), _loc(kernel, sources))
    for p in kir.params:
        shape = [int(s) for s in (p.shape or ())] if _static_shape(p.shape) else []
        default = p.default if isinstance(p.default, int | float) else None
        k.add_param(p.name, p.direction, p.kind, shape, _dtype_str(p.dtype), default)
    for op in kir.ops:
        attrs = {str(a): _attr_value(v) for a, v in (op.attrs or {}).items()}
        try:
            k.add_op(
                op.op,
                [int(x) for x in op.operands],
                [int(s) for s in op.shape],
                _dtype_str(op.dtype),
                attrs,
                _loc(op, sources),
            )
        except (ValueError, TypeError) as e:
            raise _fail(f"op {op.op!r} of kernel {kname}: {e}", op, e) from e
    if kernel is not None:
        k.body_kind = kernel.body_kind
        cpp = kernel.cpp_src if kernel.body_kind == "cpp" else None
        if cpp:
            k.cpp_src = cpp
        k.cpp_includes = list(kernel.cpp_includes)
        if cpp is not None:
            k.cpp_abi = _cpp_abi(kernel, cpp)
            k.cpp_ptoisa = uses_ptoisa(cpp, kernel.cpp_includes)
        k.cost = int(kernel.cost) if kernel.cost is not None else -1
    else:
        k.body_kind = "traced" if kir.ops else "empty"
    return k


def _cpp_abi(kernel: KernelSource, cpp: str) -> str:
    """The kernel's C++ ABI (``KernelRef.cpp_abi``); a translation unit must define the entry
    the reference ABI names, ``extern "C" uint64_t <kernel name>(...)``."""
    abi = getattr(kernel, "cpp_abi", "native")
    if abi == "tu" and not re.search(rf"\b{re.escape(kernel.name)}\s*\(", cpp):
        raise CompileError(
            f"kernel {kernel.name}: its cpp_tu_path translation unit does not define "
            f'extern "C" uint64_t {kernel.name}(const KernelTaskDesc*, CSPTContext*)',
            loc=kernel.loc,
        )
    return str(abi)


def _static_shape(shape: Any) -> bool:
    return shape is not None and all(isinstance(s, int | np.integer) for s in shape)


# --------------------------------------------------------------------------------------
# the workload walk
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AxisSize:
    """A ``DenseDyn`` loop bound given as an int, lowered as a run-time input: module param
    ``param``, ``default`` unless the program sets another (``Program.set_axis_sizes``), so the
    size is not part of the emitted source and a new size needs no new build."""

    param: str
    default: int
    axis: DenseDyn


@dataclass(frozen=True)
class Lowered:
    """What a backend that runs the module binds: the module, the root ``Tensor`` of each IR
    tensor id (holding the user's numpy buffer), the run-time axis sizes and the user's source
    files its locations name (a cached build names them by token: ``backends.source_tokens``)."""

    module: Any
    tensors: list[Tensor]
    axis_sizes: list[AxisSize]
    sources: frozenset[str] = frozenset()


class Lowering:
    """One lowering run: Python objects in, one ``ir.Module`` out.

    Interning tables keep object identity -> IR id so a tensor used by many tasks is declared once
    and two lowerings of the same workload print the same text. With ``runtime_axis_sizes`` a
    ``DenseDyn`` given an int lowers to a module param (``AxisSize``) instead of a constant.
    """

    def __init__(self, workload: Workload, runtime_axis_sizes: bool = False):
        self.workload = workload
        self.runtime_axis_sizes = runtime_axis_sizes
        self.axis_sizes: list[AxisSize] = []
        self.module = ir.Module(_ident(workload.name or "workload"))
        self.tensor_ids: dict[int, int] = {}
        # keeps tensors, channels and events alive while their ids are keyed by id()
        self.tensor_objs: list[Tensor | Channel | Event] = []
        self.kernel_ids: dict[tuple, int] = {}
        self.kernel_names: dict[str, int] = {}
        self.channel_ids: dict[int, int] = {}
        self.event_ids: dict[int, int] = {}
        self.var_ids: dict[int, int] = {}  # LoopVar.id (process-wide) -> module-local id
        self.var_count = 0  # module-local ids handed out so far
        self.lowered: dict[int, Workload] = {}  # id -> workload lowered once (kept alive)
        self.names = _NameFinder(workload)
        self.sources: set[str] = set()  # the files of every location the module records

    def loc(self, obj: Located | None) -> str:
        """``obj``'s location as the IR records it (``_loc``), its file noted in ``sources``."""
        return _loc(obj, self.sources)

    # ---- entry ---------------------------------------------------------------------
    def run(self) -> Any:
        try:
            root = self.lower_workload(self.workload)
            self.module.set_workload(root)
            self.module.set_schedule(self.lower_schedule(self.workload.schedule))
        except IRConversionError as err:
            raise _located(err, self.workload) from err.__cause__
        errors = list(self.module.verify())
        if errors:
            raise _located(
                IRConversionError(
                    f"workload {self.module.name!r} lowered to an invalid IR module:\n  "
                    + "\n  ".join(errors)
                ),
                self.workload,
            )
        return self.module

    # ---- workloads -----------------------------------------------------------------
    def lower_workload(self, w: Workload | tree.Composed) -> Any:
        if not isinstance(w, Workload):
            raise _fail(f"{type(w).__name__} (not a Workload)")
        stmts = w.statements()
        if id(w) in self.lowered:
            # One Workload object used again (``sequential(x, x)``, spec §3.6): each use is its
            # own instance, so the loop variables it binds get fresh ids for this use.
            return self.with_fresh_vars(stmts, lambda: self.lower_block(stmts, w))
        self.lowered[id(w)] = w
        return self.lower_block(stmts, w)

    def with_fresh_vars(self, stmts: list[Any], lower: Callable[[], Any]) -> Any:
        """Run ``lower()`` with new module-local ids for every variable ``stmts`` bind."""
        bound: dict[int, LoopVar] = {}
        for node in tree.walk(stmts):
            if isinstance(node, tree.LoopNode):
                bound.update((v.id, v) for v in node.vars)
            elif isinstance(node, tree.ConsumeNode):
                bound[node.var.id] = node.var
        saved = {vid: self.var_ids[vid] for vid in bound if vid in self.var_ids}
        for vid in bound:
            self.var_count += 1
            self.var_ids[vid] = self.var_count
        try:
            return lower()
        finally:
            for vid in bound:
                self.var_ids.pop(vid, None)
            self.var_ids.update(saved)

    def lower_block(self, stmts: Iterable[Any], owner: Located | None = None) -> Any:
        nodes = [self.lower_stmt(s) for s in stmts]
        if len(nodes) == 1:
            return nodes[0]
        return ir.Node.block(nodes, self.loc(owner))

    def lower_body(self, stmts: Iterable[Any]) -> list:
        return [self.lower_stmt(s) for s in stmts]

    def lower_stmt(self, s: Any) -> Any:
        if isinstance(s, Workload):
            # A workload used as a statement (e.g. inside combine) lowers to its body.
            return self.lower_workload(s)
        try:
            return self._lower_node(s)
        except PtoError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise _fail(f"{type(s).__name__}: {e}", s, e) from e

    def _lower_node(self, s: Any) -> Any:
        """One statement of the tree (``pto_wsp.language.workload.nodes``, a kernel call or a
        collective), by its type."""
        if isinstance(s, KernelCall):
            return self._stmt_KernelCall(s)
        if isinstance(s, tree.LoopNode):
            return self._stmt_LoopNode(s)
        if isinstance(s, tree.CondNode):
            return self._stmt_CondNode(s)
        if isinstance(s, tree.PipeNode):
            return self._stmt_PipeNode(s)
        if isinstance(s, tree.ProcessNode):
            return self._stmt_ProcessNode(s)
        if isinstance(s, tree.SendNode):
            return self._stmt_SendNode(s)
        if isinstance(s, tree.ConsumeNode):
            return self._stmt_ConsumeNode(s)
        if isinstance(s, tree.CloseNode):
            return ir.Node.close(self.channel(s.channel), self.loc(s))
        if isinstance(s, tree.RecordNode):
            return ir.Node.record(self.event(s.event), self.loc(s))
        if isinstance(s, tree.SyncNode):
            return ir.Node.synchronize(self.event(s.event), self.loc(s))
        if isinstance(s, tree.SlotSetNode):
            return ir.Node.slot_set(int(s.slot), self.expr(s.value, s), self.loc(s))
        if isinstance(s, tree.SlotLoadNode):
            return ir.Node.slot_load(
                int(s.slot),
                self.view(s.view, s),
                self.expr(s.row, s),
                self.expr(s.col, s),
                self.loc(s),
            )
        if isinstance(s, tree.CombineNode):
            return ir.Node.combine([self.lower_workload(w) for w in s.children], self.loc(s))
        if isinstance(s, tree.SequentialNode):
            return ir.Node.sequential([self.lower_workload(w) for w in s.children], self.loc(s))
        if isinstance(s, tree.ConnectNode):
            procs = self.lower_body(s.processes)
            return ir.Node.connect(procs, [self.channel(c) for c in s.channels], self.loc(s))
        if isinstance(s, CollectiveOp):
            return self._stmt_CollectiveOp(s)
        # Not one of ours: no line of its own to report (the workload's is used).
        raise _fail(f"{type(s).__name__} inside a workload (not a workload statement)")

    def var(self, v: LoopVar) -> tuple[str, int]:
        """Module-local (name, id) of a loop variable, numbered in walk order.

        LoopVar ids are unique per process; renumbering keeps the printed IR independent of
        what else the process traced before (golden tests, cache keys).
        """
        if v.id not in self.var_ids:
            self.var_count += 1
            self.var_ids[v.id] = self.var_count
        return (str(v.name), self.var_ids[v.id])

    def _stmt_KernelCall(self, c: KernelCall) -> Any:
        kid = self.intern_kernel_call(c)
        axes = [self.expr(a, c) for a in c.axes]
        args = []
        floats = {p.name for p in c.kernel.signature if p.dtype is not None and p.dtype.is_float}
        for pname, value in c.args.items():
            if isinstance(value, TensorLike):
                args.append(ir.Arg(pname, self.view(value, c)))
            elif pname in floats and isinstance(value, ScalarExpr) and value.kind == "symbol":
                # A symbol holds a 64-bit pattern; bound to a float parameter it holds the
                # bits of an f32 (Program.set_symbol_f32), read back as that f32.
                args.append(ir.Arg.scalar(pname, ir.Expr.symbol_f32(str(value.name))))
            else:
                args.append(ir.Arg.scalar(pname, self.expr(value, c)))
        return ir.Node.task(kid, axes, args, self.loc(c))

    def _stmt_LoopNode(self, n: tree.LoopNode) -> Any:
        # Variable binding is checked by the C++ verifier after the walk (``Module.verify``).
        pairs = [self.var(v) for v in n.vars]
        if n.kind == "parallel":
            axes = [self.axis(a, n) for a in n.axes]
            return ir.Node.parallel_for(pairs, axes, self.lower_body(n.body), self.loc(n))
        if n.kind == "seq":
            ax = self.axis(n.axes[0], n)
            return ir.Node.seq_for(pairs[0], ax, self.lower_body(n.body), self.loc(n))
        if n.kind == "sel":
            sel = n.axes[0]
            sparse = sel.axis if isinstance(sel, SparseRow) else sel
            row = sel.row if isinstance(sel, SparseRow) else None
            row_e = self.expr(row if row is not None else 0, n)
            ax = self.axis(sparse, n)
            return ir.Node.select_for(pairs[0], ax, row_e, self.lower_body(n.body), self.loc(n))
        raise _fail(f"loop kind {n.kind!r}", n)

    def _stmt_CondNode(self, n: tree.CondNode) -> Any:
        branches = []
        for pred, body in n.branches:
            p = None if pred is None else self.expr(pred, n)
            branches.append((p, self.lower_body(body)))
        return ir.Node.cond(branches, self.loc(n))

    def _stmt_PipeNode(self, n: tree.PipeNode) -> Any:
        return ir.Node.pipe(self.lower_body(n.processes), self.loc(n))

    def _stmt_ProcessNode(self, n: tree.ProcessNode) -> Any:
        consumes = [self.channel(c) for c in n.consumes]
        produces = [self.channel(c) for c in n.produces]
        body = self.lower_body(n.body)
        return ir.Node.process(n.name, consumes, produces, body, int(n.replicas), self.loc(n))

    def _stmt_SendNode(self, n: tree.SendNode) -> Any:
        value = n.value
        vnode = self.lower_stmt(value) if isinstance(value, KernelCall) else None
        if vnode is None and value is not None and not isinstance(value, TensorLike):
            raise _fail(f"send of a {type(value).__name__} (send a kernel call or a tensor)", n)
        return ir.Node.send(self.channel(n.channel), vnode, self.loc(n), bool(n.block))

    def _stmt_ConsumeNode(self, n: tree.ConsumeNode) -> Any:
        return ir.Node.consume(
            self.channel(n.channel),
            self.var(n.var),
            self.lower_body(n.body),
            self.loc(n),
            first_axis=bool(n.first_axis),
        )

    def _stmt_CollectiveOp(self, n: CollectiveOp) -> Any:
        self._check_collective_mesh(n)
        src = self.view(n.source, n)
        dst = self.tensor_id(n.result)  # a root tensor with its own buffer (layout.py)
        attrs: dict[str, Any] = {}
        if n.op is not None:
            attrs["op"] = _attr_value(n.op)
        if n.dim is not None:
            attrs["dim"] = _attr_value(n.dim)
        dist = [int(d) for d in n.layout.to_ir_dist()]
        return ir.Node.collective(n.kind, src, dst, dist, attrs, self.loc(n))

    def _check_collective_mesh(self, n: CollectiveOp) -> None:
        """A collective runs over the mesh of ``spatial_map``: it must exist, have the mesh
        axes the layouts name, and split every sharded extent evenly (docs/semantics.md,
        "Layouts and collectives")."""
        grid = self.workload.schedule.spatial_grid
        if not grid:
            raise ScheduleError(
                f"{n.kind} at {n.loc or '?'} runs over the mesh, but the workload has none: "
                "add .spatial_map(grid=...) to its schedule",
                loc=n.loc,
            )
        grid = tuple(int(g) for g in grid)
        for what, t in (("the source", n.source), ("the result", n.result)):
            for dim, d in enumerate(t.layout.dist):
                if not isinstance(d, TensorShard):
                    continue
                axis = d.mesh_axis
                label = f"tensor {t.name}" if t.name else what
                if axis >= len(grid):
                    raise ScheduleError(
                        f"{n.kind}: {label} shards dimension {dim} on mesh axis {axis}, but "
                        f"spatial_map(grid={grid}) defines a mesh of {len(grid)} "
                        f"ax{'is' if len(grid) == 1 else 'es'}",
                        loc=n.loc,
                    )
                if t.shape[dim] % grid[axis]:
                    raise TypeCheckError(
                        f"{n.kind}: dimension {dim} of {label} has extent {t.shape[dim]}, not "
                        f"divisible by the {grid[axis]} coordinates of mesh axis {axis} "
                        f"(spatial_map(grid={grid}))",
                        loc=n.loc,
                    )
        if (
            n.kind == "reduce_scatter"
            and n.mesh_axis is not None
            and n.mesh_size != grid[n.mesh_axis]
        ):
            raise TypeCheckError(
                f"reduce_scatter(mesh_axis={n.mesh_axis}, mesh_size={n.mesh_size}): mesh axis "
                f"{n.mesh_axis} of spatial_map(grid={grid}) has {grid[n.mesh_axis]} coordinates",
                loc=n.loc,
            )

    # ---- kernels -------------------------------------------------------------------
    def intern_kernel_call(self, c: KernelCall) -> int:
        kref = c.kernel
        arg_types: dict[str, tuple[tuple[int, ...], Any]] = {}
        constexprs: dict[str, Any] = {}
        traced = kref.body_kind == "traced"
        # A traced body is specialised per call: for the shapes of its Tensor parameters and
        # for the Constexpr values the call passes, also when every parameter is a Tile (the
        # decoration-time trace used the defaults; DESIGN §6, "Silently ignored is a bug").
        needs_shapes = traced and any(
            p.kind in ("tensor", "tile") and not _static_shape(p.shape) for p in kref.signature
        )
        for p in kref.signature:
            v = c.args.get(p.name)
            if p.direction == "constexpr":
                constexprs[p.name] = v
            elif needs_shapes and isinstance(v, TensorLike):
                shape = v.shape
                if not _static_shape(shape):
                    raise _fail(
                        f"call of kernel {kref.name}: argument {p.name} has a symbolic shape "
                        f"{shape}; a traced kernel needs static shapes",
                        c,
                    )
                arg_types[p.name] = (tuple(int(s) for s in shape if s is not None), v.dtype)
        key = (
            id(kref),
            tuple(sorted((k, v[0], str(v[1])) for k, v in arg_types.items())),
            tuple(sorted((k, repr(v)) for k, v in constexprs.items())),
        )
        if key in self.kernel_ids:
            return self.kernel_ids[key]
        if traced:
            kir = kref.specialize(arg_types, constexprs)
        else:  # an empty body or custom C++: the signature, no ops
            kir = KernelIR(kref.name, list(kref.signature), [], kref.body_kind, {}, kref.loc, kref)
        name = _ident(kref.name)
        if name in self.kernel_names:
            n = 1
            while f"{name}__{n}" in self.kernel_names:
                n += 1
            name = f"{name}__{n}"
        k = lower_kernel_ir(kir, name, kref, self.sources)
        kid = self.module.add_kernel(k)
        self.kernel_names[name] = kid
        self.kernel_ids[key] = kid
        return kid

    # ---- data ----------------------------------------------------------------------
    def tensor_id(self, t: TensorLike, role: str = "data") -> int:
        root = t.root
        key = id(root)
        if key in self.tensor_ids:
            return self.tensor_ids[key]
        name = root.name or self.names.find(root) or f"t{len(self.tensor_ids)}"
        tid = self.module.add_tensor(
            _ident(name),
            [int(s) for s in root.shape],
            root.dtype.value,
            root.location.value,
            self.layout(root.layout),
            role,
        )
        self.tensor_ids[key] = tid
        self.tensor_objs.append(root)
        return tid

    def index_tensor(self, t: Tensor, axis: Axis) -> int:
        """Declare the index tensor of a Ragged/Sparse axis (lengths, indptr, indices).

        Tensors the axis built from a Python list get role ``index`` (read-only); a Tensor the
        user passed stays ordinary data, which a kernel may legitimately write.
        """
        return self.tensor_id(t, role="index" if axis.owns(t) else "data")

    def view(self, v: TensorLike, owner: Located | None) -> Any:
        if not isinstance(v, TensorLike):
            raise _fail(f"a {type(v).__name__} where a tensor or view is expected", owner)
        tid = self.tensor_id(v)
        items = v.index_items
        indices = []
        for it in items:
            if isinstance(it, IndexPoint):
                indices.append(ir.Index.point(self.expr(it.expr, owner)))
            else:
                step = it.step if it.step is not None else 1
                if isinstance(step, ScalarExpr):
                    raise _fail("a tensor slice with a symbolic step", owner)
                indices.append(
                    ir.Index.range(self.expr(it.start, owner), self.expr(it.stop, owner), int(step))
                )
        # Trailing whole-dimension ranges carry no information; drop them for stable text.
        root_shape = v.root.shape
        while indices and _is_whole(items[len(indices) - 1], root_shape[len(indices) - 1]):
            indices.pop()
        return ir.View(tid, indices)

    def layout(self, layout: TensorLayout | None) -> Any:
        """The IR layout, or None for the default (all replicated, no memory layout)."""
        if layout is None:
            return None
        mem = layout.mem
        if layout.is_replicated and mem is None:
            return None
        dist = [int(d.mesh_axis) if isinstance(d, TensorShard) else -1 for d in layout.dist]
        strides = [int(s) for s in (mem.strides or [])] if mem is not None else []
        order = (mem.order or "") if mem is not None else ""
        return ir.Layout(dist, strides, order)

    def channel(self, ch: Channel) -> int:
        if id(ch) not in self.channel_ids:
            # The element type is what the user wrote in Channel[...]: a class or a value.
            elem = ch.elem_type
            elem_s = (
                "" if elem is None else (elem.__name__ if isinstance(elem, type) else str(elem))
            ).lower()
            self.channel_ids[id(ch)] = self.module.add_channel(
                _ident(ch.name),
                int(ch.depth),
                elem_s,
                # not given: the run's default (runtime symbol __pto_wsp_channel_latency_cycles)
                int(ch.latency) if ch.latency_given else -1,
            )
            self.tensor_objs.append(ch)
        return self.channel_ids[id(ch)]

    def event(self, ev: Event) -> int:
        if id(ev) not in self.event_ids:
            self.event_ids[id(ev)] = self.module.add_event(_ident(ev.name))
            self.tensor_objs.append(ev)
        return self.event_ids[id(ev)]

    # ---- axes ----------------------------------------------------------------------
    def axis(self, a: Axis, owner: Located) -> Any:
        name = _ident(a.name or self.names.find(a) or (a.kind or "axis"))
        if isinstance(a, Dense):
            return ir.Axis.dense(name, int(a.size))
        if isinstance(a, DenseDyn):
            if self.runtime_axis_sizes and isinstance(a.size, int):
                return ir.Axis.dense_dyn(name, ir.Expr.param(self.axis_param(a, name)))
            return ir.Axis.dense_dyn(name, self.size_expr(a.size, name, owner))
        if isinstance(a, Ragged | RaggedRow):
            base = a.axis if isinstance(a, RaggedRow) else a
            lengths = self.index_tensor(a.lengths_tensor, base)
            return ir.Axis.ragged(
                name,
                self.size_expr(a.outer_size, name, owner),
                lengths,
                None if a.row is None else self.expr(a.row, owner),
            )
        if isinstance(a, Sparse | SparseRow):
            sparse = a.axis if isinstance(a, SparseRow) else a
            indptr = self.index_tensor(sparse.indptr_tensor, sparse)
            indices = self.index_tensor(sparse.indices_tensor, sparse)
            return ir.Axis.sparse(name, self.size_expr(a.outer_size, name, owner), indptr, indices)
        raise _fail(f"axis {a!r} of kind {a.kind!r}", owner)

    def axis_param(self, a: DenseDyn, name: str) -> str:
        """The module param that holds the bound of a ``DenseDyn`` given an int: one per axis
        object (every loop over it sees the same size), named after the axis."""
        for size in self.axis_sizes:
            if size.axis is a:
                return size.param
        taken = {s.param for s in self.axis_sizes}
        param, n = name, 1
        while param in taken:
            n += 1
            param = f"{name}__{n}"
        self.module.add_param(param, "i64")
        self.axis_sizes.append(AxisSize(param, int(a.size), a))
        return param

    def size_expr(self, size: Any, name: str, owner: Located) -> Any:
        if size is None:
            raise _fail(f"axis {name} without a size", owner)
        if isinstance(size, int | np.integer):
            return ir.Expr.int(int(size))
        return self.expr(size, owner)

    # ---- expressions ---------------------------------------------------------------
    def expr(self, e: Any, owner: Located | None) -> Any:
        if isinstance(e, ScalarExpr):
            return self._expr(e, owner)
        try:
            return self._expr(as_expr(e), owner)
        except PtoError as err:
            raise _fail(f"the value {e!r} as a scalar expression", owner, err) from err

    def _expr(self, e: ScalarExpr, owner: Located | None) -> Any:
        k = e.kind
        if k == "const":
            v = e.value
            if isinstance(v, bool):
                return ir.Expr.bool(v)
            if isinstance(v, int):
                # a u64 literal past INT64_MAX (scalar_types checked it fits) keeps its bits
                return ir.Expr.int(v - (1 << 64) if v > _I64_MAX else v)
            return ir.Expr.float(float(v))
        if k == "var" and isinstance(e, LoopVar):
            return ir.Expr.var(*self.var(e))
        if k == "axis" and e.name is not None:
            return ir.Expr.var(*self.var(self.workload.resolve_axis_name(e.name)))
        if k == "symbol" and e.name is not None:
            return ir.Expr.symbol(e.name)
        if k == "slot":
            return ir.Expr.slot(int(e.value))
        if k == "load":
            return ir.Expr.load(self.view(e.args[0], owner))
        if k == "unary":
            a = e.args[0]
            if e.op == "not" and a.stype != st.BOOL:  # ~x on an integer: bitwise, -x - 1
                return ir.Expr.binary("xor", self._expr(a, owner), ir.Expr.int(-1))
            return ir.Expr.unary(e.op, self._expr(a, owner))
        if k == "binary":
            op = e.op
            if op in st.UNSIGNED_OPS and st.operand_type(op, *(x.stype for x in e.args)) == st.U64:
                op = "u" + op
            return ir.Expr.binary(op, self._expr(e.args[0], owner), self._expr(e.args[1], owner))
        if k == "cast":
            return self._cast(e, owner)
        if k == "task_param":
            return ir.Expr.task_param(int(e.value))
        if k == "select":
            c, a, b = (self._expr(x, owner) for x in e.args)
            return ir.Expr.select(c, a, b)
        if k == "event_query":
            return ir.Expr.event_query(self.event(e.args[0]))
        raise _fail(f"scalar expression of kind {k!r}", owner)

    def _cast(self, e: ScalarExpr, owner: Located | None) -> Any:
        """``x.cast_i64()`` / ``cast_u64()``: the same bits (a bool is 0/1), a float truncated
        toward zero; ``cast_bool()``: ``x != 0``."""
        x = e.args[0]
        inner = self._expr(x, owner)
        if e.value == st.BOOL:
            if x.stype == st.BOOL:
                return inner
            zero = ir.Expr.float(0.0) if x.stype == st.F64 else ir.Expr.int(0)
            return ir.Expr.binary("ne", inner, zero)
        return ir.Expr.unary("to_int", inner) if x.stype == st.F64 else inner

    # ---- schedule ------------------------------------------------------------------
    def lower_schedule(self, spec: ScheduleSpec) -> Any:
        s = ir.Schedule()
        try:
            return _ScheduleLowering(self, spec).build(s)
        except ScheduleError:
            raise
        except PtoError:
            raise
        except (ValueError, TypeError) as e:
            raise _fail(f"schedule: {e}", None, e) from e


class _ScheduleLowering:
    """Copies a ``ScheduleSpec`` onto an ``ir.Schedule``, lowering key lambdas' expressions."""

    def __init__(self, low: Lowering, spec: ScheduleSpec):
        self.low = low
        self.spec = spec

    def key(self, e: ScalarExpr | None) -> Any:
        return None if e is None else self.low.expr(e, None)

    def check_mesh(self, grid: tuple[int, ...]) -> None:
        """``spatial_map(grid)`` defines the mesh (spec §4.5): every ``TensorShard(mesh_axis)``
        of a tensor the workload uses must name one of its axes, else ``ScheduleError``."""
        for t in self.low.tensor_objs:
            if not isinstance(t, Tensor):
                continue  # a channel or an event
            for dim, d in enumerate(t.layout.dist):
                if isinstance(d, TensorShard) and d.mesh_axis >= len(grid):
                    raise ScheduleError(
                        f"tensor {t.name or '?'} shards dimension {dim} on mesh "
                        f"axis {d.mesh_axis}, but spatial_map(grid={grid}) defines a mesh of "
                        f"{len(grid)} ax{'is' if len(grid) == 1 else 'es'} (0..{len(grid) - 1})",
                        loc=self.spec.step_loc("spatial_map"),
                    )

    def build(self, s: Any) -> Any:
        sp = self.spec
        d = sp.dispatch
        if d is not None:
            s.dispatch = d.kind
            key = self.key(d.key)
            if key is not None:
                s.dispatch_key = key
        if sp.streams:
            s.streams = int(sp.streams)
        key = self.key(sp.stream_key)
        if key is not None:
            s.stream_key = key
        t = sp.timing
        if t is not None:
            s.timing = t.kind
            if t.param is not None:
                s.timing_param = float(t.param)
        w = sp.window
        if w is not None:
            s.window_size = int(w.size)
            s.window_unit = str(w.unit)
            s.window_mode = w.mode
        grid = sp.spatial_grid
        if grid:
            self.check_mesh(tuple(int(g) for g in grid))
            s.spatial_grid = [int(g) for g in grid]
        if sp.deps is not None:
            s.deps = sp.deps.kind
        if sp.start_policy is not None:
            s.start_policy = sp.start_policy.kind
            s.start_threshold = int(sp.start_policy.param or 0)
        if sp.trace_policy is not None:
            s.trace_policy = sp.trace_policy.kind
        ready = sp.ready_policy
        if ready is not None:
            s.ready_policy = ready.kind
            key = self.key(ready.key)
            if key is not None:
                s.ready_key = key
        if sp.pools is not None:
            self.lower_pools(s, sp.pools, grid)
        s.workers = resolve_workers(sp)
        return s

    def lower_pools(self, s: Any, pools: Pools, grid: tuple[int, ...] | None) -> None:
        """Pool sizes plus (IR kernel name, pool) for every specialisation of each pooled kernel.

        A pooled kernel the workload never calls, or a spatial_map grid with fewer tiles than the
        pools' workers, is a ``ScheduleError`` at the ``task_graph`` call.
        """
        loc = self.spec.step_loc("task_graph", "pools")
        sizes = [int(x) for x in pools.sizes]
        names = [str(k.name) for k in self.low.module.kernels]
        pairs: list[tuple[str, int]] = []
        for name, pool in pools.kernels:
            base = _ident(name)
            found = [n for n in names if n == base or re.fullmatch(re.escape(base) + r"__\d+", n)]
            if not found:
                called = dict.fromkeys(re.sub(r"__\d+$", "", n) for n in names)
                raise ScheduleError(
                    f"Pools.by_kernel names kernel {name!r}, which the workload never calls "
                    f"(it calls: {', '.join(called) or 'no kernel'})",
                    loc=loc,
                )
            pairs.extend((n, int(pool)) for n in found)
        if grid and sum(sizes) > math.prod(int(g) for g in grid):
            raise ScheduleError(
                f"Pools.by_kernel needs {sum(sizes)} workers ({' + '.join(map(str, sizes))}), but "
                f"spatial_map(grid={tuple(int(g) for g in grid)}) has only "
                f"{math.prod(int(g) for g in grid)} tiles: the pools partition the mesh's workers",
                loc=loc,
            )
        s.pools = sizes
        s.pool_kernels = pairs


class _NameFinder:
    """Finds the Python name a user gave an object, for readable IR (``%Q`` instead of ``%t0``).

    Looks in the workload function's closure and globals, then in the parameters it was called
    with. Only names; never evaluates anything.
    """

    def __init__(self, workload: Workload):
        self._maps: list[dict[str, Any]] = []
        for w in _all_workloads(workload):
            fn = w.fn
            self._maps.append(w.params)
            if fn is not None:
                # fn is the user's decorated callable: a plain function has a code object and
                # globals, anything else (a partial, a callable object) may have neither.
                code = getattr(fn, "__code__", None)
                closure = getattr(fn, "__closure__", None)
                if code is not None and closure:
                    cells = {}
                    for n, c in zip(code.co_freevars, closure, strict=False):
                        try:
                            cells[n] = c.cell_contents
                        except ValueError:
                            pass
                    self._maps.append(cells)
                self._maps.append(getattr(fn, "__globals__", {}))
        self._cache: dict[int, str | None] = {}

    def find(self, obj: Any) -> str | None:
        key = id(obj)
        if key not in self._cache:
            self._cache[key] = next(
                (n for m in self._maps for n, v in m.items() if v is obj and not n.startswith("_")),
                None,
            )
        return self._cache[key]


def _all_workloads(w: Workload) -> list[Workload]:
    out = [w]
    for s in w.statements():
        if isinstance(s, tree.CombineNode | tree.SequentialNode):
            for child in s.children:
                if isinstance(child, Workload):
                    out.extend(_all_workloads(child))
    return out


def _is_whole(item: Any, size: int | None) -> bool:
    """True for an index item that takes a whole dimension (carries no information)."""
    if not isinstance(item, IndexRange):
        return False
    if not (isinstance(item.start, int) and isinstance(item.stop, int)):
        return False
    return item.start == 0 and item.stop == size and item.step == 1


def lower(workload: Workload) -> Any:
    """Lower a ``Workload`` (with its schedule) to a verified ``_core.ir.Module``."""
    return Lowering(workload).run()


def lower_with_bindings(workload: Workload) -> tuple[Any, list[Tensor]]:
    """Lower ``workload`` and return ``(module, tensors)``.

    ``tensors[i]`` is the root ``Tensor`` (holding the user's numpy buffer) that IR tensor id
    ``i`` stands for: what a backend binds when it runs the module.
    """
    low = Lowering(workload)
    return low.run(), _bound_tensors(low)


def lower_for_run(workload: Workload) -> Lowered:
    """Lower ``workload`` for a backend whose builds are cached across runs (cpu_sim): as
    ``lower_with_bindings``, with every ``DenseDyn`` given an int read at run time."""
    low = Lowering(workload, runtime_axis_sizes=True)
    module = low.run()
    return Lowered(module, _bound_tensors(low), list(low.axis_sizes), frozenset(low.sources))


def _bound_tensors(low: Lowering) -> list[Tensor]:
    by_id: dict[int, Tensor] = {}
    for obj in low.tensor_objs:
        if not isinstance(obj, Tensor):
            continue  # a channel or an event kept alive
        tid = low.tensor_ids.get(id(obj))
        if tid is not None:
            by_id[tid] = obj
    return [by_id[i] for i in range(len(by_id))]
