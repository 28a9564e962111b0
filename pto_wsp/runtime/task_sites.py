"""The call sites of a compiled program, as the task regions of its run need them.

A JSON-able extract of the lowered IR (``_core.ir.Module``): the tensors (name, shape), and for
every ``task`` node its kernel, source line, which loop variable each of its ``k[...]`` axis
values is, its view arguments (tensor, access, one index expression per dimension) and its
enclosing ``P.seq`` / ``sequential`` scopes. The Studio runs programs in a worker process: the
runner writes this beside the trace (``sites_path``: ``X.npy`` -> ``X.sites.json``) and the app
reads it back; ``pto_wsp.runtime.task_regions`` answers from it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PtoError
from ..fileio import atomic_write

__all__ = [
    "TaskSites",
    "Site",
    "SiteArg",
    "Scope",
    "Expr",
    "IDX_SLOTS",
    "sites_path",
    "write_sites",
    "load_sites",
]

SITES_VERSION = 1
IDX_SLOTS = 4  # the trace record's loop index slots (idx0..idx3)

Expr = Any  # a JSON tree: ["int", v] | ["var", id, name] | ["bin", op, a, b] | ["un", op, a]
#             | ["sel", c, a, b] | ["opaque", text]


@dataclass(frozen=True)
class SiteArg:
    """One view argument of a call site: tensor, access and one index per tensor dimension.

    An index is ``["point", e]`` or ``["range", start, stop, step]`` (expressions); dimensions
    the view does not index are taken whole (``range(0, extent, 1)``).
    """

    param: str
    tensor: int
    access: str  # "read" | "write" | "readwrite"
    indices: tuple[Any, ...]

    @property
    def reads(self) -> bool:
        return self.access in ("read", "readwrite")

    @property
    def writes(self) -> bool:
        return self.access in ("write", "readwrite")


@dataclass(frozen=True)
class Scope:
    """An enclosing ``P.seq`` loop (``kind`` "seq", step = the value of ``var``) or
    ``sequential`` (``kind`` "sequential", step = ``child``); ``outer`` are the loop variables
    bound outside it (a step of the scope belongs to one assignment of them)."""

    key: int
    kind: str
    var: int | None
    child: int
    outer: tuple[int, ...]


@dataclass(frozen=True)
class Site:
    """One ``task`` node: its kernel, where it was written, the loop variable each of its axis
    values is (None: an expression), its view arguments and its enclosing sequential scopes
    (outermost first)."""

    index: int
    kernel: int
    loc: str
    axis_vars: tuple[int | None, ...]
    var_names: dict[int, str]
    args: tuple[SiteArg, ...]
    scopes: tuple[Scope, ...]

    @property
    def known_vars(self) -> dict[int, int]:
        """Loop variable id -> the trace's idx slot holding its value."""
        return {v: k for k, v in enumerate(self.axis_vars[:IDX_SLOTS]) if v is not None}


@dataclass(frozen=True)
class TaskSites:
    """The IR facts ``TaskRegions`` needs: tensors (name, shape), call sites, the deps mode."""

    tensors: tuple[tuple[str, tuple[int, ...]], ...]
    sites: tuple[Site, ...]
    deps: str  # "infer", "infer_bounding" or "explicit"

    @classmethod
    def of_module(cls, module: Any) -> TaskSites:
        """From a lowered ``_core.ir.Module`` (``program.module``)."""
        tensors = tuple((str(t.name), tuple(int(s) for s in t.shape)) for t in module.tensors)
        kernels = list(module.kernels)
        sites: list[Site] = []
        deps = module.schedule.deps
        deps_text = "infer" if deps is None else str(getattr(deps, "value", deps))
        _walk(module.workload, (), (), {}, kernels, sites, [0])
        return cls(tensors, tuple(sites), deps_text or "infer")

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SITES_VERSION,
            "deps": self.deps,
            "tensors": [[n, list(s)] for n, s in self.tensors],
            "sites": [
                {
                    "kernel": s.kernel,
                    "loc": s.loc,
                    "axis_vars": list(s.axis_vars),
                    "var_names": {str(k): v for k, v in s.var_names.items()},
                    "args": [[a.param, a.tensor, a.access, list(a.indices)] for a in s.args],
                    "scopes": [[c.key, c.kind, c.var, c.child, list(c.outer)] for c in s.scopes],
                }
                for s in self.sites
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskSites:
        if data.get("version") != SITES_VERSION:
            raise PtoError(f"task sites: unknown version {data.get('version')!r}")
        sites = tuple(
            Site(
                index=i,
                kernel=int(s["kernel"]),
                loc=str(s["loc"]),
                axis_vars=tuple(None if v is None else int(v) for v in s["axis_vars"]),
                var_names={int(k): str(v) for k, v in s["var_names"].items()},
                args=tuple(SiteArg(str(p), int(t), str(a), tuple(ix)) for p, t, a, ix in s["args"]),
                scopes=tuple(
                    Scope(
                        int(k),
                        str(kind),
                        None if v is None else int(v),
                        int(c),
                        tuple(int(o) for o in outer),
                    )  # fmt: skip
                    for k, kind, v, c, outer in s["scopes"]
                ),
            )
            for i, s in enumerate(data["sites"])
        )
        tensors = tuple((str(n), tuple(int(x) for x in shape)) for n, shape in data["tensors"])
        return cls(tensors, sites, str(data["deps"]))


def _expr(e: Any) -> Expr:
    """An IR expression as a JSON tree (run-time values become ``opaque``)."""
    if e is None:
        return ["opaque", "none"]
    k = e.kind
    if k == "int":
        return ["int", int(e.int_value)]
    if k == "bool":
        return ["int", int(bool(e.bool_value))]
    if k == "var":
        return ["var", int(e.id), str(e.name)]
    if k == "binary" and e.op != "div":
        a, b = e.children
        return ["bin", str(e.op), _expr(a), _expr(b)]
    if k == "unary":
        return ["un", str(e.op), _expr(e.children[0])]
    if k == "select":
        c, a, b = e.children
        return ["sel", _expr(c), _expr(a), _expr(b)]
    return ["opaque", str(e)]


_ACCESS = {"in": "read", "out": "write", "inout": "readwrite"}


def _walk(node: Any, bound: tuple[int, ...], scopes: tuple[Scope, ...], names: dict[int, str],
          kernels: list[Any], out: list[Site], counter: list[int]) -> None:  # fmt: skip
    """Collects the task sites under ``node`` with the loop variables bound around them."""
    if node is None:
        return
    kind = node.kind
    if kind == "task":
        k = kernels[int(node.kernel_id)]
        params = {str(p.name): str(p.direction) for p in k.params}
        args = []
        for a in node.args:
            if a.kind != "view" or params.get(str(a.param)) not in _ACCESS:
                continue
            v = a.view
            idx: list[Any] = []
            for i in v.indices:
                if i.kind == "point":
                    idx.append(["point", _expr(i.value)])
                else:
                    idx.append(["range", _expr(i.start), _expr(i.stop), int(i.step)])
            args.append(
                SiteArg(str(a.param), int(v.tensor_id), _ACCESS[params[str(a.param)]], tuple(idx))
            )
        axis_vars = tuple(int(x.id) if x.kind == "var" else None for x in node.axis_values)
        out.append(
            Site(
                len(out),
                int(node.kernel_id),
                str(node.loc),
                axis_vars,
                dict(names),
                tuple(args),
                scopes,
            )  # fmt: skip
        )
        return
    new_vars: list[tuple[str, int]] = []
    if kind in ("parallel_for", "seq_for", "select_for", "consume"):
        new_vars = [(str(n), int(i)) for n, i in node.vars]
    inner = bound + tuple(i for _, i in new_vars)
    names = {**names, **{i: n for n, i in new_vars}}
    if kind == "seq_for":
        counter[0] += 1
        scope = Scope(counter[0], "seq", new_vars[0][1] if new_vars else None, 0, bound)
        for child in node.children:
            _walk(child, inner, scopes + (scope,), names, kernels, out, counter)
        return
    if kind == "sequential":
        counter[0] += 1
        key = counter[0]
        for c, child in enumerate(node.children):
            scope = Scope(key, "sequential", None, c, bound)
            _walk(child, inner, scopes + (scope,), names, kernels, out, counter)
        return
    for child in node.nested():
        _walk(child, inner, scopes, names, kernels, out, counter)


def sites_path(trace_path: str | os.PathLike[str]) -> Path:
    """Where the task sites of a run traced to ``trace_path`` go: ``X.npy`` -> ``X.sites.json``."""
    p = Path(trace_path)
    stem = p.name[: -len(".npy")] if p.name.endswith(".npy") else p.name
    return p.with_name(stem + ".sites.json")


def write_sites(module: Any, trace_path: str | os.PathLike[str]) -> Path | None:
    """Writes the task sites of ``module`` beside ``trace_path`` (None: no module)."""
    target = sites_path(trace_path)
    target.unlink(missing_ok=True)  # never leave an earlier run's sites beside this trace
    if module is None:
        return None
    atomic_write(target, json.dumps(TaskSites.of_module(module).to_json()))
    return target


def load_sites(trace_path: str | os.PathLike[str]) -> TaskSites | None:
    """The task sites written beside ``trace_path`` (None: none, or unreadable)."""
    p = sites_path(trace_path)
    try:
        return TaskSites.from_json(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, PtoError):
        return None
