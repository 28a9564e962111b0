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
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._native import ir
from ..errors import (
    IRConversionError,
    PtoError,
    ScheduleError,
    SourceLoc,
    TypeCheckError,
    user_location,
)
from ..language.scalar_expr import LoopVar, ScalarExpr, as_expr
from ..language.types import DType

__all__ = ["lower", "lower_with_bindings", "lower_kernel_ir", "Lowering"]


def _loc(obj: Any) -> str:
    loc = getattr(obj, "loc", None)
    return str(loc) if isinstance(loc, SourceLoc) else ""


def _fail(what: str, obj: Any = None, cause: BaseException | None = None) -> IRConversionError:
    loc = getattr(obj, "loc", None)
    err = IRConversionError(f"cannot lower {what}", loc=loc if isinstance(loc, SourceLoc) else None)
    if cause is not None:
        err.__cause__ = cause
    return err


# The verifier's messages read "<construct> at <file>:<line>: <problem>" (verifier.cpp).
_VERIFIER_AT = re.compile(r" at (?P<file>.+?):(?P<line>\d+): ")


def _located(err: IRConversionError, workload: Any) -> IRConversionError:
    """``err`` with the user's file:line when it has none: the place its message names (a
    verifier message), else where the workload was defined, else the user's current line."""
    if err.loc is not None:
        return err
    m = _VERIFIER_AT.search(err.message)
    if m is not None:
        file, line = m.group("file"), int(m.group("line"))
        err.loc = SourceLoc(file, line, linecache.getline(file, line).strip())
    else:
        loc = getattr(workload, "loc", None)
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


def lower_kernel_ir(kir: Any, name: str | None = None, kernel: Any = None) -> Any:
    """Build an ``ir.Kernel`` from a traced ``KernelIR`` (or an untraced KernelRef signature)."""
    kname = name or getattr(kir, "name", None) or getattr(kernel, "name", "kernel")
    k = ir.Kernel(_ident(kname), _loc(kernel) if kernel is not None else "")
    for p in kir.params:
        shape = [int(s) for s in (p.shape or ())] if _static_shape(p.shape) else []
        default = p.default if isinstance(p.default, int | float) else None
        k.add_param(p.name, p.direction, p.kind, shape, _dtype_str(p.dtype), default)
    for op in getattr(kir, "ops", ()) or ():
        attrs = {str(a): _attr_value(v) for a, v in (op.attrs or {}).items()}
        try:
            k.add_op(
                op.op,
                [int(x) for x in op.operands],
                [int(s) for s in op.shape],
                _dtype_str(op.dtype),
                attrs,
                str(op.loc) if op.loc else "",
            )
        except (ValueError, TypeError) as e:
            raise _fail(f"op {op.op!r} of kernel {kname}: {e}", op, e) from e
    if kernel is not None:
        k.body_kind = getattr(kernel, "body_kind", "traced")
        if getattr(kernel, "cpp_src", None):
            k.cpp_src = kernel.cpp_src
        k.cpp_includes = list(getattr(kernel, "cpp_includes", None) or [])
        cost = getattr(kernel, "cost", None)
        k.cost = int(cost) if cost is not None else -1
    else:
        k.body_kind = "traced" if getattr(kir, "ops", None) else "empty"
    return k


def _static_shape(shape: Any) -> bool:
    return shape is not None and all(isinstance(s, int | np.integer) for s in shape)


# --------------------------------------------------------------------------------------
# the workload walk
# --------------------------------------------------------------------------------------


class Lowering:
    """One lowering run: Python objects in, one ``ir.Module`` out.

    Interning tables keep object identity -> IR id so a tensor used by many tasks is declared once
    and two lowerings of the same workload print the same text.
    """

    def __init__(self, workload: Any):
        self.workload = workload
        self.module = ir.Module(_ident(getattr(workload, "name", None) or "workload"))
        self.tensor_ids: dict[int, int] = {}
        self.tensor_objs: list[Any] = []  # keeps tensors alive while ids are keyed by id()
        self.kernel_ids: dict[tuple, int] = {}
        self.kernel_names: dict[str, int] = {}
        self.channel_ids: dict[int, int] = {}
        self.event_ids: dict[int, int] = {}
        self.var_ids: dict[int, int] = {}  # LoopVar.id (process-wide) -> module-local id
        self.var_count = 0  # module-local ids handed out so far
        self.lowered: dict[int, Any] = {}  # id -> workload lowered once (kept alive)
        self.names = _NameFinder(workload)

    # ---- entry ---------------------------------------------------------------------
    def run(self) -> Any:
        try:
            root = self.lower_workload(self.workload)
            self.module.set_workload(root)
            self.module.set_schedule(self.lower_schedule(getattr(self.workload, "schedule", None)))
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
    def lower_workload(self, w: Any) -> Any:
        root = getattr(w, "root", None)
        if root is None:
            raise _fail(f"{type(w).__name__} (not a Workload)", w)
        stmts = root if isinstance(root, list) else [root]
        if id(w) in self.lowered:
            # One Workload object used again (``sequential(x, x)``, spec §3.6): each use is its
            # own instance, so the loop variables it binds get fresh ids for this use.
            return self.with_fresh_vars(stmts, lambda: self.lower_block(stmts, w))
        self.lowered[id(w)] = w
        return self.lower_block(stmts, w)

    def with_fresh_vars(self, stmts: list[Any], lower: Any) -> Any:
        """Run ``lower()`` with new module-local ids for every variable ``stmts`` bind."""
        from ..language.workload import ConsumeNode, LoopNode, walk

        bound: dict[int, LoopVar] = {}
        for node in walk(stmts):
            if isinstance(node, LoopNode):
                bound.update((v.id, v) for v in node.vars)
            elif isinstance(node, ConsumeNode):
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

    def lower_block(self, stmts: Iterable[Any], owner: Any = None) -> Any:
        nodes = [self.lower_stmt(s) for s in stmts]
        if len(nodes) == 1:
            return nodes[0]
        return ir.Node.block(nodes, _loc(owner))

    def lower_body(self, stmts: Iterable[Any]) -> list:
        return [self.lower_stmt(s) for s in stmts]

    def lower_stmt(self, s: Any) -> Any:
        kind = type(s).__name__
        handler = getattr(self, f"_stmt_{kind}", None)
        if handler is None:
            # A workload used as a statement (e.g. inside combine) lowers to its body.
            if hasattr(s, "root") and hasattr(s, "schedule"):
                return self.lower_workload(s)
            raise _fail(f"{kind} inside a workload (not a workload statement)", s)
        try:
            return handler(s)
        except PtoError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise _fail(f"{kind}: {e}", s, e) from e

    def var(self, v: LoopVar) -> tuple[str, int]:
        """Module-local (name, id) of a loop variable, numbered in walk order.

        LoopVar ids are unique per process; renumbering keeps the printed IR independent of
        what else the process traced before (golden tests, cache keys).
        """
        if v.id not in self.var_ids:
            self.var_count += 1
            self.var_ids[v.id] = self.var_count
        return (v.name, self.var_ids[v.id])

    def _stmt_KernelCall(self, c: Any) -> Any:
        kid = self.intern_kernel_call(c)
        axes = [self.expr(a, c) for a in c.axes]
        args = []
        for pname, value in c.args.items():
            if _is_tensorish(value):
                args.append(ir.Arg(pname, self.view(value, c)))
            else:
                args.append(ir.Arg.scalar(pname, self.expr(value, c)))
        return ir.Node.task(kid, axes, args, _loc(c))

    def _stmt_LoopNode(self, n: Any) -> Any:
        # Variable binding is checked by the C++ verifier after the walk (``Module.verify``).
        pairs = [self.var(v) for v in n.vars]
        if n.kind == "parallel":
            axes = [self.axis(a, n) for a in n.axes]
            return ir.Node.parallel_for(pairs, axes, self.lower_body(n.body), _loc(n))
        if n.kind == "seq":
            ax = self.axis(n.axes[0], n)
            return ir.Node.seq_for(pairs[0], ax, self.lower_body(n.body), _loc(n))
        if n.kind == "sel":
            sel = n.axes[0]
            sparse = getattr(sel, "axis", sel)
            row = getattr(sel, "row", None)
            row_e = self.expr(row if row is not None else 0, n)
            ax = self.axis(sparse, n)
            return ir.Node.select_for(pairs[0], ax, row_e, self.lower_body(n.body), _loc(n))
        raise _fail(f"loop kind {n.kind!r}", n)

    def _stmt_CondNode(self, n: Any) -> Any:
        branches = []
        for pred, body in n.branches:
            p = None if pred is None else self.expr(pred, n)
            branches.append((p, self.lower_body(body)))
        return ir.Node.cond(branches, _loc(n))

    def _stmt_PipeNode(self, n: Any) -> Any:
        return ir.Node.pipe(self.lower_body(n.processes), _loc(n))

    def _stmt_ProcessNode(self, n: Any) -> Any:
        consumes = [self.channel(c) for c in n.consumes]
        produces = [self.channel(c) for c in n.produces]
        body = self.lower_body(n.body)
        return ir.Node.process(
            n.name, consumes, produces, body, int(getattr(n, "replicas", 1)), _loc(n)
        )

    def _stmt_SendNode(self, n: Any) -> Any:
        value = n.value
        vnode = self.lower_stmt(value) if _is_statement(value) else None
        if vnode is None and value is not None and not _is_tensorish(value):
            raise _fail(f"send of a {type(value).__name__} (send a kernel call or a tensor)", n)
        return ir.Node.send(self.channel(n.channel), vnode, _loc(n), bool(n.block))

    def _stmt_ConsumeNode(self, n: Any) -> Any:
        return ir.Node.consume(
            self.channel(n.channel), self.var(n.var), self.lower_body(n.body), _loc(n)
        )

    def _stmt_CloseNode(self, n: Any) -> Any:
        return ir.Node.close(self.channel(n.channel), _loc(n))

    def _stmt_RecordNode(self, n: Any) -> Any:
        return ir.Node.record(self.event(n.event), _loc(n))

    def _stmt_SyncNode(self, n: Any) -> Any:
        return ir.Node.synchronize(self.event(n.event), _loc(n))

    def _stmt_SlotSetNode(self, n: Any) -> Any:
        return ir.Node.slot_set(int(n.slot), self.expr(n.value, n), _loc(n))

    def _stmt_SlotLoadNode(self, n: Any) -> Any:
        return ir.Node.slot_load(
            int(n.slot), self.view(n.view, n), self.expr(n.row, n), self.expr(n.col, n), _loc(n)
        )

    def _stmt_CombineNode(self, n: Any) -> Any:
        return ir.Node.combine([self.lower_workload(w) for w in n.children], _loc(n))

    def _stmt_SequentialNode(self, n: Any) -> Any:
        return ir.Node.sequential([self.lower_workload(w) for w in n.children], _loc(n))

    def _stmt_ConnectNode(self, n: Any) -> Any:
        procs = self.lower_body(n.processes)
        chans = [self.channel(c) for c in n.channels]
        return ir.Node.connect(procs, chans, _loc(n))

    def _stmt_CollectiveOp(self, n: Any) -> Any:
        self._check_collective_mesh(n)
        src = self.view(n.source, n)
        dst = self.tensor_id(n.result)  # a root tensor with its own buffer (layout.py)
        attrs = {}
        for key in ("op", "dim"):
            val = getattr(n, key, None)
            if val is not None:
                attrs[key] = _attr_value(val)
        layout = getattr(n, "layout", None)
        dist = [int(d) for d in layout.to_ir_dist()] if layout is not None else []
        return ir.Node.collective(n.kind, src, dst, dist, attrs, _loc(n))

    def _check_collective_mesh(self, n: Any) -> None:
        """A collective runs over the mesh of ``spatial_map``: it must exist, have the mesh
        axes the layouts name, and split every sharded extent evenly (docs/semantics.md,
        "Layouts and collectives")."""
        grid = getattr(getattr(self.workload, "schedule", None), "spatial_grid", None)
        if not grid:
            raise ScheduleError(
                f"{n.kind} at {n.loc or '?'} runs over the mesh, but the workload has none: "
                "add .spatial_map(grid=...) to its schedule",
                loc=n.loc,
            )
        grid = tuple(int(g) for g in grid)
        for what, t in (("the source", n.source), ("the result", n.result)):
            for dim, d in enumerate(t.layout.dist):
                axis = getattr(d, "mesh_axis", None)
                if axis is None:
                    continue
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
        if n.kind == "reduce_scatter" and n.mesh_size != grid[n.mesh_axis]:
            raise TypeCheckError(
                f"reduce_scatter(mesh_axis={n.mesh_axis}, mesh_size={n.mesh_size}): mesh axis "
                f"{n.mesh_axis} of spatial_map(grid={grid}) has {grid[n.mesh_axis]} coordinates",
                loc=n.loc,
            )

    # ---- kernels -------------------------------------------------------------------
    def intern_kernel_call(self, c: Any) -> int:
        kref = c.kernel
        arg_types: dict[str, tuple[tuple[int, ...], Any]] = {}
        constexprs: dict[str, Any] = {}
        traced = getattr(kref, "body_kind", "empty") == "traced"
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
            elif needs_shapes and _is_tensorish(v):
                shape = getattr(v, "shape", None)
                if not _static_shape(shape):
                    raise _fail(
                        f"call of kernel {kref.name}: argument {p.name} has a symbolic shape "
                        f"{shape}; a traced kernel needs static shapes",
                        c,
                    )
                arg_types[p.name] = (tuple(int(s) for s in shape), v.dtype)
        key = (
            id(kref),
            tuple(sorted((k, v[0], str(v[1])) for k, v in arg_types.items())),
            tuple(sorted((k, repr(v)) for k, v in constexprs.items())),
        )
        if key in self.kernel_ids:
            return self.kernel_ids[key]
        if traced:
            kir = kref.specialize(arg_types, constexprs)
        else:
            kir = _SignatureOnly(kref)
        name = _ident(kref.name)
        if name in self.kernel_names:
            n = 1
            while f"{name}__{n}" in self.kernel_names:
                n += 1
            name = f"{name}__{n}"
        k = lower_kernel_ir(kir, name, kref)
        kid = self.module.add_kernel(k)
        self.kernel_names[name] = kid
        self.kernel_ids[key] = kid
        return kid

    # ---- data ----------------------------------------------------------------------
    def tensor_id(self, t: Any, role: str = "data") -> int:
        root = getattr(t, "root", t)
        key = id(root)
        if key in self.tensor_ids:
            return self.tensor_ids[key]
        name = getattr(root, "name", None) or self.names.find(root) or f"t{len(self.tensor_ids)}"
        layout = getattr(root, "layout", None)
        tid = self.module.add_tensor(
            _ident(name),
            [int(s) for s in root.shape],
            root.dtype.value,
            root.location.value,
            self.layout(layout) if layout is not None else None,
            role,
        )
        self.tensor_ids[key] = tid
        self.tensor_objs.append(root)
        return tid

    def index_tensor(self, t: Any, axis: Any) -> int:
        """Declare the index tensor of a Ragged/Sparse axis (lengths, indptr, indices).

        Tensors the axis built from a Python list get role ``index`` (read-only); a Tensor the
        user passed stays ordinary data, which a kernel may legitimately write.
        """
        owned = any(t is o for o in getattr(axis, "_owned", ()))
        return self.tensor_id(t, role="index" if owned else "data")

    def view(self, v: Any, owner: Any) -> Any:
        tid = self.tensor_id(v)
        items = getattr(v, "index_items", None)
        indices = []
        if items is not None:
            for it in items:
                if type(it).__name__ == "IndexPoint":
                    indices.append(ir.Index.point(self.expr(it.expr, owner)))
                else:
                    step = it.step if it.step is not None else 1
                    if isinstance(step, ScalarExpr):
                        raise _fail("a tensor slice with a symbolic step", owner)
                    indices.append(
                        ir.Index.range(
                            self.expr(it.start, owner), self.expr(it.stop, owner), int(step)
                        )
                    )
        # Trailing whole-dimension ranges carry no information; drop them for stable text.
        root_shape = getattr(getattr(v, "root", v), "shape", ())
        while indices and _is_whole(items[len(indices) - 1], root_shape[len(indices) - 1]):
            indices.pop()
        return ir.View(tid, indices)

    def layout(self, layout: Any) -> Any:
        """The IR layout, or None for the default (all replicated, no memory layout)."""
        if layout is None:
            return None
        if getattr(layout, "is_replicated", False) and getattr(layout, "mem", None) is None:
            return None
        dist = []
        for d in layout.dist:
            mesh = getattr(d, "mesh_axis", None)
            dist.append(-1 if mesh is None else int(mesh))
        mem = getattr(layout, "mem", None)
        strides = [int(s) for s in (getattr(mem, "strides", None) or [])] if mem else []
        order = getattr(mem, "order", "") if mem else ""
        return ir.Layout(dist, strides, order if isinstance(order, str) else "")

    def channel(self, ch: Any) -> int:
        if id(ch) not in self.channel_ids:
            elem = getattr(ch, "elem_type", None)
            elem_s = "" if elem is None else getattr(elem, "__name__", str(elem)).lower()
            self.channel_ids[id(ch)] = self.module.add_channel(
                _ident(ch.name), int(ch.depth), elem_s, int(getattr(ch, "latency", 0))
            )
            self.tensor_objs.append(ch)
        return self.channel_ids[id(ch)]

    def event(self, ev: Any) -> int:
        if id(ev) not in self.event_ids:
            self.event_ids[id(ev)] = self.module.add_event(_ident(ev.name))
            self.tensor_objs.append(ev)
        return self.event_ids[id(ev)]

    # ---- axes ----------------------------------------------------------------------
    def axis(self, a: Any, owner: Any) -> Any:
        kind = getattr(a, "kind", None)
        name = _ident(getattr(a, "name", None) or self.names.find(a) or (kind or "axis"))
        if kind == "dense":
            return ir.Axis.dense(name, int(a.size))
        if kind == "dense_dyn":
            return ir.Axis.dense_dyn(name, self.size_expr(a.size, name, owner))
        if kind == "ragged":
            base = getattr(a, "axis", a)
            lengths = self.index_tensor(a.lengths_tensor, base)
            row = getattr(a, "row", None)
            outer = getattr(a, "outer_size", None)
            return ir.Axis.ragged(
                name,
                self.size_expr(outer, name, owner),
                lengths,
                None if row is None else self.expr(row, owner),
            )
        if kind == "sparse":
            base = getattr(a, "axis", a)
            indptr = self.index_tensor(base.indptr_tensor, base)
            indices = self.index_tensor(base.indices_tensor, base)
            return ir.Axis.sparse(name, self.size_expr(a.outer_size, name, owner), indptr, indices)
        raise _fail(f"axis {a!r} of kind {kind!r}", owner)

    def size_expr(self, size: Any, name: str, owner: Any) -> Any:
        if size is None:
            raise _fail(f"axis {name} without a size", owner)
        if isinstance(size, int | np.integer):
            return ir.Expr.int(int(size))
        return self.expr(size, owner)

    # ---- expressions ---------------------------------------------------------------
    def expr(self, e: Any, owner: Any) -> Any:
        if isinstance(e, ScalarExpr):
            return self._expr(e, owner)
        try:
            return self._expr(as_expr(e), owner)
        except PtoError as err:
            raise _fail(f"the value {e!r} as a scalar expression", owner, err) from err

    def _expr(self, e: ScalarExpr, owner: Any) -> Any:
        k = e.kind
        if k == "const":
            v = e.value
            if isinstance(v, bool):
                return ir.Expr.bool(v)
            if isinstance(v, int):
                return ir.Expr.int(v)
            return ir.Expr.float(float(v))
        if k == "var":
            return ir.Expr.var(*self.var(e))
        if k == "axis":
            resolve = getattr(self.workload, "resolve_axis_name", None)
            if resolve is None:
                raise _fail(f"axis reference {e.name!r} outside a workload", owner)
            return ir.Expr.var(*self.var(resolve(e.name)))
        if k == "symbol":
            return ir.Expr.symbol(e.name)
        if k == "slot":
            return ir.Expr.slot(int(e.value))
        if k == "load":
            return ir.Expr.load(self.view(e.args[0], owner))
        if k == "unary":
            return ir.Expr.unary(e.op, self._expr(e.args[0], owner))
        if k == "binary":
            return ir.Expr.binary(e.op, self._expr(e.args[0], owner), self._expr(e.args[1], owner))
        if k == "select":
            c, a, b = (self._expr(x, owner) for x in e.args)
            return ir.Expr.select(c, a, b)
        if k == "event_query":
            return ir.Expr.event_query(self.event(e.args[0]))
        raise _fail(f"scalar expression of kind {k!r}", owner)

    # ---- schedule ------------------------------------------------------------------
    def lower_schedule(self, spec: Any) -> Any:
        s = ir.Schedule()
        if spec is None:
            return s
        try:
            return _ScheduleLowering(self, spec).build(s)
        except ScheduleError:
            raise
        except PtoError:
            raise
        except (ValueError, TypeError) as e:
            raise _fail(f"schedule: {e}", spec, e) from e


class _ScheduleLowering:
    """Copies a ``ScheduleSpec`` onto an ``ir.Schedule``, lowering key lambdas' expressions."""

    def __init__(self, low: Lowering, spec: Any):
        self.low = low
        self.spec = spec

    def key(self, e: Any) -> Any:
        return None if e is None else self.low.expr(e, self.spec)

    def check_mesh(self, grid: tuple[int, ...]) -> None:
        """``spatial_map(grid)`` defines the mesh (spec §4.5): every ``TensorShard(mesh_axis)``
        of a tensor the workload uses must name one of its axes, else ``ScheduleError``."""
        for t in self.low.tensor_objs:
            layout = getattr(t, "layout", None)
            for dim, d in enumerate(getattr(layout, "dist", ()) or ()):
                mesh_axis = getattr(d, "mesh_axis", None)
                if mesh_axis is not None and mesh_axis >= len(grid):
                    raise ScheduleError(
                        f"tensor {getattr(t, 'name', None) or '?'} shards dimension {dim} on mesh "
                        f"axis {mesh_axis}, but spatial_map(grid={grid}) defines a mesh of "
                        f"{len(grid)} ax{'is' if len(grid) == 1 else 'es'} (0..{len(grid) - 1})",
                        loc=self.spec.step_loc("spatial_map"),
                    )

    def build(self, s: Any) -> Any:
        sp = self.spec
        d = getattr(sp, "dispatch", None)
        if d is not None:
            s.dispatch = d.kind
            if getattr(d, "num_workers", None):
                s.num_workers = int(d.num_workers)
            key = self.key(getattr(d, "key", None))
            if key is not None:
                s.dispatch_key = key
        if getattr(sp, "streams", None):
            s.streams = int(sp.streams)
        key = self.key(getattr(sp, "stream_key", None))
        if key is not None:
            s.stream_key = key
        t = getattr(sp, "timing", None)
        if t is not None:
            s.timing = t.kind
            if getattr(t, "param", None) is not None:
                s.timing_param = float(t.param)
        w = getattr(sp, "window", None)
        if w is not None:
            s.window_size = int(w.size)
            s.window_unit = str(w.unit)
            mode = w.mode
            s.window_mode = str(getattr(mode, "value", mode)).lower()
        grid = getattr(sp, "spatial_grid", None)
        if grid:
            self.check_mesh(tuple(int(g) for g in grid))
            s.spatial_grid = [int(g) for g in grid]
        for field in ("deps", "start_policy", "trace_policy"):
            val = getattr(sp, field, None)
            if val is not None:
                setattr(s, field, str(val))
        ready = getattr(sp, "ready_policy", None)
        if ready is not None:
            s.ready_policy = str(ready.kind)
            key = self.key(getattr(ready, "key", None))
            if key is not None:
                s.ready_key = key
        pools = getattr(sp, "pools", None)
        if pools is not None:
            self.lower_pools(s, pools, grid)
        return s

    def lower_pools(self, s: Any, pools: Any, grid: Any) -> None:
        """Pool sizes plus (IR kernel name, pool) for every specialisation of each pooled kernel.

        A pooled kernel the workload never calls, or a spatial_map grid with fewer tiles than the
        pools' workers, is a ``ScheduleError`` at the ``task_graph`` call.
        """
        loc = self.spec.step_loc("task_graph", "pools")
        sizes = [int(x) for x in getattr(pools, "sizes", ())]
        names = [str(k.name) for k in self.low.module.kernels]
        pairs: list[tuple[str, int]] = []
        for name, pool in getattr(pools, "kernels", ()):
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


class _SignatureOnly:
    """An untraced kernel (empty body or custom C++): parameters only, no ops."""

    def __init__(self, kref: Any):
        self.name = kref.name
        self.params = list(kref.signature)
        self.ops: list = []


class _NameFinder:
    """Finds the Python name a user gave an object, for readable IR (``%Q`` instead of ``%t0``).

    Looks in the workload function's closure and globals, then in the parameters it was called
    with. Only names; never evaluates anything.
    """

    def __init__(self, workload: Any):
        self._maps: list[dict[str, Any]] = []
        for w in _all_workloads(workload):
            fn = getattr(w, "fn", None)
            params = getattr(w, "params", None)
            if isinstance(params, dict):
                self._maps.append(params)
            if fn is not None:
                code = getattr(fn, "__code__", None)
                if code is not None and fn.__closure__:
                    cells = {}
                    for n, c in zip(code.co_freevars, fn.__closure__, strict=False):
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


def _all_workloads(w: Any) -> list[Any]:
    out = [w]
    root = getattr(w, "root", None)
    stmts = root if isinstance(root, list) else [root]
    for s in stmts:
        for child in getattr(s, "children", ()) or ():
            out.extend(_all_workloads(child))
    return out


def _is_tensorish(v: Any) -> bool:
    return hasattr(v, "dtype") and (hasattr(v, "root") or hasattr(v, "index_items"))


def _is_statement(v: Any) -> bool:
    return type(v).__name__ == "KernelCall"


def _is_whole(item: Any, size: int) -> bool:
    """True for an index item that takes a whole dimension (carries no information)."""
    if type(item).__name__ != "IndexRange":
        return False
    if not (isinstance(item.start, int) and isinstance(item.stop, int)):
        return False
    return item.start == 0 and item.stop == size and item.step == 1


def lower(workload: Any) -> Any:
    """Lower a ``Workload`` (with its schedule) to a verified ``_core.ir.Module``."""
    return Lowering(workload).run()


def lower_with_bindings(workload: Any) -> tuple[Any, list[Any]]:
    """Lower ``workload`` and return ``(module, tensors)``.

    ``tensors[i]`` is the root ``Tensor`` (holding the user's numpy buffer) that IR tensor id
    ``i`` stands for: what a backend binds when it runs the module.
    """
    low = Lowering(workload)
    module = low.run()
    by_id: dict[int, Any] = {}
    for obj in low.tensor_objs:
        tid = low.tensor_ids.get(id(obj))
        if tid is not None:
            by_id[tid] = obj
    tensors = [by_id[i] for i in range(len(by_id))]
    return module, tensors
