"""Which tensor regions a task of a run read and wrote, and which tasks it depends on: on demand.

A trace record holds no regions (48 bytes a task; DESIGN: "recompute regions on demand"). They
are recomputed here from the compiled program's IR: the ``task`` node of the record's kernel has
its arguments as views of module tensors whose indices are expressions of loop variables, and
the record's ``idx0..idx3`` are the values of the node's first four ``axis_values`` (the
``k[i, j]`` of the call). Where an axis value is a bare loop variable its value is known, and any
index expression over known variables, integer constants and integer arithmetic is evaluated
exactly, vectorised over every task of a call site at once (numpy; no Python loop over tasks).

What cannot be known from a trace is said, never guessed (``Answer.notes``): a view that uses a
loop variable the call does not name in its ``k[...]`` (or past the fourth), a run-time value
(symbol, slot, load, float division), a kernel called at several sites the trace cannot tell
apart.

``pto_wsp.runtime.task_sites.TaskSites`` is the JSON-able extract of the IR this needs (the
Studio runs programs in a worker process: the runner writes it beside the trace);
``TaskRegions`` answers for one run: ``regions(row)`` and ``links(row)``, the task's
predecessors and successors

* by data (docs/semantics.md "Regions"): per element of each access, a read depends on the last
  earlier write of that element (RAW); a write on the last earlier write (WAW) and on every read
  of the element since that write (WAR). Successors are the same relation read forwards. Regions
  are compared per dimension as arithmetic progressions (exact for strided views: a CRT test),
  vectorised over the candidate tasks of the call sites that touch the tensor; the overlaps are
  then expanded to element indices of the task's own region and the last (first) write per
  element is one ``maximum.at`` (``minimum.at``). Overlaps of more than ``MAX_EXPANDED``
  elements are painted task by task instead, nearest first, until every element has met its
  write (at most ``MAX_PAINTED`` tasks: beyond, the answer says it is incomplete);
* by ``P.seq`` / ``sequential`` step: a task of step s (s > 0) of the innermost such scope waits
  for the last earlier non-empty step of that scope (the driver's barrier is the max end of it);
  at step 0 the next scope out decides. Successors: the next non-empty step.

Channels, events and the worker/stream order are not dependencies here (the simulator's gating
cause covers them; the details panel has a hook for it).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from .task_sites import IDX_SLOTS, Expr, Scope, Site, SiteArg, TaskSites
from .trace import validate_trace

__all__ = [
    "DimRange",
    "TaskRegion",
    "Link",
    "Answer",
    "TaskLinks",
    "LinkSet",
    "TaskRegions",
    "MAX_PAINTED",
]

MAX_PAINTED = 20000  # overlapping tasks painted per access before the answer says "too many"
MAX_EXPANDED = 1 << 24  # elements of the overlaps expanded at once (else painted task by task)
MAX_REGION = 1 << 25  # elements of a task's region compared one by one (a bool grid)

# ---- evaluation ----------------------------------------------------------------------------


class _Unknown(Exception):
    """An expression needs a value the trace does not hold."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


_BIN = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "floordiv": np.floor_divide,
    "mod": np.mod,
    "min": np.minimum,
    "max": np.maximum,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "eq": np.equal,
    "ne": np.not_equal,
    "and": np.logical_and,
    "or": np.logical_or,
    "xor": np.bitwise_xor,
}


def _eval(e: Expr, env: dict[int, np.ndarray], names: dict[int, str], n: int) -> np.ndarray:
    tag = e[0]
    if tag == "int":
        return np.full(n, int(e[1]), dtype=np.int64)
    if tag == "var":
        v = env.get(int(e[1]))
        if v is None:
            raise _Unknown(
                f"loop variable {e[2]} is not among the call's k[...] indices the trace records"
            )
        return v
    if tag == "bin":
        a, b = _eval(e[2], env, names, n), _eval(e[3], env, names, n)
        op = e[1]
        if op in ("floordiv", "mod") and bool(np.any(b == 0)):
            raise _Unknown("a division by zero in an index")
        if op == "shl":
            return np.left_shift(a, b & 63)
        if op == "shr":
            return np.right_shift(a, b & 63)
        fn = _BIN.get(op)
        if fn is None:
            raise _Unknown(f"operator {op} in an index")
        return np.asarray(fn(a, b), dtype=np.int64)
    if tag == "un":
        a = _eval(e[2], env, names, n)
        if e[1] == "neg":
            return -a
        if e[1] == "abs":
            return np.abs(a)
        if e[1] == "not":
            return (a == 0).astype(np.int64)
        raise _Unknown(f"operator {e[1]} in an index")
    if tag == "sel":
        c = _eval(e[1], env, names, n)
        return np.where(c != 0, _eval(e[2], env, names, n), _eval(e[3], env, names, n))
    raise _Unknown(f"the run-time value {e[1]} in an index")


def _progressions(arg: SiteArg, shape: tuple[int, ...], env: dict[int, np.ndarray],
                  names: dict[int, str], n: int) -> list[tuple[np.ndarray, np.ndarray, int, bool]]:  # fmt: skip
    """Per tensor dimension: (first, count, step > 0, point) of the elements the view takes."""
    out = []
    for d, extent in enumerate(shape):
        if d >= len(arg.indices):
            out.append((np.zeros(n, np.int64), np.full(n, extent, np.int64), 1, False))
            continue
        ix = arg.indices[d]
        if ix[0] == "point":
            first = _eval(ix[1], env, names, n)
            out.append((first, np.ones(n, np.int64), 1, True))
            continue
        start, stop, step = _eval(ix[1], env, names, n), _eval(ix[2], env, names, n), int(ix[3])
        if step > 0:
            count = np.maximum((stop - start + step - 1) // step, 0)
            first = start
        elif step < 0:  # start, start + step, ... > stop: the same elements walked upwards
            s = -step
            count = np.maximum((start - stop + s - 1) // s, 0)
            first = start - (count - 1) * s
            step = s
        else:
            raise _Unknown("a view slice with step 0")
        out.append((first, count, step, False))
    return out


def _intersect(f1: int, n1: int, s1: int, f2: np.ndarray, n2: np.ndarray, s2: int
               ) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """Intersection of the progression (f1, n1, s1) with each (f2[i], n2[i], s2): (first, count,
    step) of the common elements (count 0: none). Exact: a Chinese-remainder test."""
    g = math.gcd(s1, s2)
    step = s1 // g * s2
    lo = np.maximum(f1, f2)
    hi = np.minimum(f1 + (n1 - 1) * s1, f2 + (n2 - 1) * s2)
    diff = f2 - f1
    ok = (diff % g == 0) & (n2 > 0) & (n1 > 0)
    m2 = s2 // g
    inv = pow(s1 // g, -1, m2) if m2 > 1 else 0
    k = ((diff // g) * inv) % m2 if m2 > 1 else np.zeros_like(diff)
    x0 = f1 + s1 * k  # a common element, modulo step
    first = lo + (x0 - lo) % step
    count = np.where(ok & (first <= hi), (hi - first) // step + 1, 0)
    return first, count, step


# ---- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimRange:
    """The indices a region takes along one dimension: ``start, start + step, ... < stop``
    (``point``: one index, the dimension is indexed, not sliced)."""

    start: int
    stop: int
    step: int = 1
    point: bool = False

    def text(self) -> str:
        if self.point:
            return str(self.start)
        s = f"{self.start}:{self.stop}"
        return s if self.step == 1 else f"{s}:{self.step}"


@dataclass(frozen=True)
class TaskRegion:
    """One view a task accessed: ``Y[2, 0:8]`` read / write / readwrite."""

    tensor: str
    tensor_id: int
    param: str
    access: str
    dims: tuple[DimRange, ...]

    def text(self) -> str:
        return f"{self.tensor}[{', '.join(d.text() for d in self.dims)}]"

    @property
    def size(self) -> int:
        return math.prod(max(0, -(-(d.stop - d.start) // d.step)) for d in self.dims)


@dataclass(frozen=True)
class Link:
    """A dependency on (predecessor) or of (successor) trace row ``row``: ``kind`` is RAW, WAR,
    WAW (on ``tensor``) or ``seq`` (a ``P.seq`` / ``sequential`` step)."""

    row: int
    task: int
    kind: str
    tensor: str = ""


@dataclass
class Answer:
    """Regions of one task, or why they are not known (``notes``)."""

    regions: list[TaskRegion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    site: Site | None = None


class LinkSet(Sequence[Link]):
    """Links in arrays, by task then kind: a task of 10^6 predecessors costs no 10^6 objects
    (a ``Link`` is made when one is read)."""

    def __init__(self, parts: Sequence[tuple[np.ndarray, np.ndarray, str]], task: np.ndarray):
        rows = [np.asarray(r, dtype=np.int64) for r, _, _ in parts]
        self.rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self.kinds = np.concatenate([k for _, k, _ in parts]) if parts else np.zeros(0, "U3")
        self.tensors = (
            np.concatenate([np.full(len(r), t) for r, _, t in parts])
            if parts
            else (np.zeros(0, "U1"))
        )
        self.tasks = task[self.rows]
        order = np.lexsort((self.kinds, self.tasks))
        self.rows, self.kinds = self.rows[order], self.kinds[order]
        self.tensors, self.tasks = self.tensors[order], self.tasks[order]

    def __len__(self) -> int:
        return len(self.rows)

    def _link(self, i: int) -> Link:
        return Link(int(self.rows[i]), int(self.tasks[i]), str(self.kinds[i]), str(self.tensors[i]))

    @overload
    def __getitem__(self, i: int) -> Link: ...
    @overload
    def __getitem__(self, i: slice) -> list[Link]: ...
    def __getitem__(self, i: int | slice) -> Link | list[Link]:
        if isinstance(i, slice):
            return [self._link(j) for j in range(len(self))[i]]
        return self._link(range(len(self))[i])


@dataclass
class TaskLinks:
    """Predecessors and successors (one link per task and kind), and what is not exact."""

    preds: LinkSet
    succs: LinkSet
    notes: list[str] = field(default_factory=list)


@dataclass
class _Found:
    """Links being collected: (rows, kinds, tensor name) parts per direction."""

    preds: list[tuple[np.ndarray, np.ndarray, str]] = field(default_factory=list)
    succs: list[tuple[np.ndarray, np.ndarray, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _ArgCache:
    prog: list[tuple[np.ndarray, np.ndarray, int, bool]] | None
    why: str


class TaskRegions:
    """Regions and dependencies of the tasks of one run (``trace``) of the program ``sites``
    describes. Per call site, the rows and their evaluated views are computed once, on the
    first question that needs them."""

    def __init__(self, sites: TaskSites, trace: np.ndarray):
        validate_trace(trace)
        self.sites = sites
        self.trace = trace
        self._task = np.asarray(trace["task"], dtype=np.int64)
        self._by_kernel: dict[int, list[Site]] = {}
        for s in sites.sites:
            self._by_kernel.setdefault(s.kernel, []).append(s)
        self._rows: dict[int, np.ndarray] = {}
        self._args: dict[tuple[int, int], _ArgCache] = {}
        self._env: dict[int, dict[int, np.ndarray]] = {}
        self._site_of_row: np.ndarray | None = None
        self._ambiguous: set[int] = set()  # kernels with tasks no single site claims

    # ---- rows of a site ------------------------------------------------------------------

    def _assign(self) -> np.ndarray:
        """Site index per trace row (-1: no site; -2: several sites it could be)."""
        if self._site_of_row is not None:
            return self._site_of_row
        tr = self.trace
        out = np.full(len(tr), -1, dtype=np.int64)
        kernel = np.asarray(tr["kernel"], dtype=np.int64)
        arity = sum((np.asarray(tr[f"idx{k}"]) >= 0).astype(np.int64) for k in range(IDX_SLOTS))
        for k, ss in self._by_kernel.items():
            mine = kernel == k
            if len(ss) == 1:
                out[mine] = ss[0].index
                continue
            # Several call sites of one kernel: told apart by how many indices they record,
            # when only one site records that many; otherwise the trace cannot say.
            by_arity: dict[int, list[Site]] = {}
            for s in ss:
                by_arity.setdefault(min(len(s.axis_vars), IDX_SLOTS), []).append(s)
            out[mine] = -2
            for a, group in by_arity.items():
                if len(group) == 1:
                    out[mine & (arity == a)] = group[0].index
            if bool(np.any(out[mine] == -2)):
                self._ambiguous.add(k)
        self._site_of_row = out
        return out

    def site_of(self, row: int) -> tuple[Site | None, str]:
        """The call site that issued trace row ``row``, or None and why not."""
        s = int(self._assign()[row])
        if s >= 0:
            return self.sites.sites[s], ""
        k = int(self.trace["kernel"][row])
        if s == -2:
            n = len(self._by_kernel.get(k, []))
            return None, (
                f"kernel {k} is called at {n} sites and the trace does not record which one "
                "issued this task"
            )
        return None, "no kernel call of the compiled program issued this task"

    def _site_rows(self, s: int) -> np.ndarray:
        rows = self._rows.get(s)
        if rows is None:
            rows = np.flatnonzero(self._assign() == s)
            rows = rows[np.argsort(self._task[rows], kind="stable")]
            self._rows[s] = rows
        return rows

    def _site_env(self, site: Site) -> dict[int, np.ndarray]:
        env = self._env.get(site.index)
        if env is None:
            rows = self._site_rows(site.index)
            env = {
                v: np.asarray(self.trace[f"idx{k}"][rows], dtype=np.int64)
                for v, k in site.known_vars.items()
            }
            self._env[site.index] = env
        return env

    def _arg(self, site: Site, a: int) -> _ArgCache:
        key = (site.index, a)
        got = self._args.get(key)
        if got is None:
            arg = site.args[a]
            shape = self.sites.tensors[arg.tensor][1]
            n = len(self._site_rows(site.index))
            try:
                got = _ArgCache(_progressions(arg, shape, self._site_env(site), site.var_names, n),
                                "")  # fmt: skip
            except _Unknown as exc:
                got = _ArgCache(None, exc.why)
            self._args[key] = got
        return got

    def _position(self, site: Site, row: int) -> int:
        rows = self._site_rows(site.index)
        j = int(np.searchsorted(self._task[rows], self._task[row]))
        if j >= len(rows) or int(rows[j]) != row:
            j = int(np.flatnonzero(rows == row)[0])
        return j

    # ---- regions -------------------------------------------------------------------------

    def regions(self, row: int) -> Answer:
        """The tensor regions trace row ``row`` read and wrote (in argument order)."""
        site, why = self.site_of(row)
        if site is None:
            return Answer(notes=[why])
        ans = Answer(site=site)
        j = self._position(site, row)
        for a, arg in enumerate(site.args):
            cache = self._arg(site, a)
            name = self.sites.tensors[arg.tensor][0]
            if cache.prog is None:
                ans.notes.append(f"{arg.param} ({name}): not known: {cache.why}")
                continue
            dims = tuple(
                DimRange(
                    int(f[j]), int(f[j] + (c[j] - 1) * s + 1) if c[j] > 0 else int(f[j]), s, pt
                )  # fmt: skip
                for f, c, s, pt in cache.prog
            )
            ans.regions.append(TaskRegion(name, arg.tensor, arg.param, arg.access, dims))
        return ans

    # ---- dependencies --------------------------------------------------------------------

    def links(self, row: int, limit: int = MAX_PAINTED) -> TaskLinks:
        """Predecessors and successors of trace row ``row`` by data and by sequential step."""
        out = _Found()
        site, why = self.site_of(row)
        if site is None:
            out.notes.append(f"dependencies not known: {why}")
            return self._finish(out)
        deps = self.sites.deps
        if deps == "explicit":
            out.notes.append(
                "this run's schedule is Deps.explicit(): the simulator did not order tasks by "
                "data; the data dependencies below are the program's, not the run's"
            )
        elif deps == "infer_bounding":
            out.notes.append(
                "this run compared bounding ranges (Deps.infer('bounding')): the simulator may "
                "have ordered more tasks than the exact data dependencies below"
            )
        self._data_links(site, row, out, limit)
        self._seq_links(site, row, out)
        return self._finish(out)

    def _finish(self, out: _Found) -> TaskLinks:
        return TaskLinks(LinkSet(out.preds, self._task), LinkSet(out.succs, self._task), out.notes)

    def _candidates(self, tensor: int) -> Iterator[tuple[Site, int, SiteArg]]:
        for s in self.sites.sites:
            for a, arg in enumerate(s.args):
                if arg.tensor == tensor:
                    yield s, a, arg

    def _data_links(self, site: Site, row: int, out: _Found, limit: int) -> None:
        t = int(self._task[row])
        j = self._position(site, row)
        self._assign()
        for a, arg in enumerate(site.args):
            name = self.sites.tensors[arg.tensor][0]
            mine = self._arg(site, a)
            if mine.prog is None:
                out.notes.append(f"data dependencies on {name} ({arg.param}): not known: "
                                 f"{mine.why}")  # fmt: skip
                continue
            me = [(int(f[j]), int(c[j]), s) for f, c, s, _ in mine.prog]
            if any(c <= 0 for _, c, _ in me):
                continue  # an empty view touches nothing
            if math.prod(c for _, c, _ in me) > MAX_REGION:
                out.notes.append(f"data dependencies on {name}: the region has more than "
                                 f"{MAX_REGION:,} elements; not computed")  # fmt: skip
                continue
            if any(s.kernel in self._ambiguous for s, _, _ in self._candidates(arg.tensor)):
                out.notes.append(
                    f"data dependencies on {name}: a kernel that touches it is called at several "
                    "sites the trace cannot tell apart; not computed"
                )
                continue
            cands: list[tuple[np.ndarray, np.ndarray, bool, bool, list[tuple[np.ndarray, np.ndarray, int]]]] = []  # fmt: skip
            unknown = []
            for s, b, other in self._candidates(arg.tensor):
                if not (arg.writes or other.writes):
                    continue  # reads never order reads
                cache = self._arg(s, b)
                rows = self._site_rows(s.index)
                if not len(rows):
                    continue
                if cache.prog is None:
                    unknown.append(f"{s.loc or 'a call'} ({other.param}): {cache.why}")
                    continue
                ok = np.ones(len(rows), dtype=bool)
                inter = []
                for (f1, n1, s1), (f2, n2, s2, _) in zip(me, cache.prog, strict=True):
                    first, count, step = _intersect(f1, n1, s1, f2, n2, s2)
                    ok &= count > 0
                    inter.append((first, count, step))
                ok &= rows != row
                sel = np.flatnonzero(ok)
                if len(sel):
                    cands.append((rows[sel], self._task[rows[sel]], other.reads, other.writes,
                                  [(f[sel], c[sel], st) for f, c, st in inter]))  # fmt: skip
            if unknown:
                out.notes.append(
                    f"data dependencies on {name}: not known, the views of "
                    + "; ".join(unknown[:3])
                    + (" ..." if len(unknown) > 3 else "")
                )
                continue
            for backwards in (True, False):
                found, kinds, exact = _paint(me, arg, cands, t, backwards, limit)
                (out.preds if backwards else out.succs).append((found, kinds, name))
                if not exact:
                    out.notes.append(
                        f"data {'predecessors' if backwards else 'successors'} on {name}: more "
                        f"than {limit:,} overlapping tasks; only the nearest {limit:,} examined"
                    )

    def _seq_links(self, site: Site, row: int, out: _Found) -> None:
        if not site.scopes:
            return
        j = self._position(site, row)
        my_env = {v: int(vals[j]) for v, vals in self._site_env(site).items()}
        for want_preds in (True, False):
            target = out.preds if want_preds else out.succs
            for scope in reversed(site.scopes):
                found, why = self._steps(site, scope, my_env, row, want_preds)
                if why:
                    out.notes.append(why)
                    break
                if found is not None:
                    target.append((found, np.full(len(found), "seq"), ""))
                    break

    def _step_of(self, site: Site, scope: Scope, env: dict[int, Any]) -> Any:
        if scope.kind == "sequential":
            for sc in site.scopes:
                if sc.key == scope.key:
                    return sc.child
        return env.get(scope.var) if scope.var is not None else None

    def _steps(self, site: Site, scope: Scope, my_env: dict[int, int], row: int,
               preds: bool) -> tuple[np.ndarray | None, str]:  # fmt: skip
        """Rows of the previous (next) non-empty step of ``scope`` around ``row``'s task."""
        var_name = site.var_names.get(scope.var or -1, "?")
        what = f"P.seq loop {var_name}" if scope.kind == "seq" else "sequential"
        my_step = self._step_of(site, scope, my_env)
        if my_step is None:
            return None, (
                f"{what} step not known: its variable is not among the call's k[...] indices"
            )
        missing = [v for v in scope.outer if v not in my_env]
        if missing:
            names = ", ".join(site.var_names.get(v, "?") for v in missing)
            return None, f"{what} steps not known: loop variable(s) {names} not recorded"
        best_step: int | None = None
        chunks: list[tuple[np.ndarray, np.ndarray]] = []
        for s in self.sites.sites:
            if not any(sc.key == scope.key for sc in s.scopes):
                continue
            rows = self._site_rows(s.index)
            if not len(rows):
                continue
            env = self._site_env(s)
            keep = np.ones(len(rows), dtype=bool)
            for v in scope.outer:
                if v not in env:
                    return None, (f"{what} steps not known: a call in it does not record loop "
                                  f"variable {s.var_names.get(v, '?')}")  # fmt: skip
                keep &= env[v] == my_env[v]
            if scope.kind == "sequential":
                step = np.full(len(rows), self._step_of(s, scope, {}), dtype=np.int64)
            else:
                assert scope.var is not None
                if scope.var not in env:
                    return None, (f"{what} steps not known: a call in it does not record "
                                  f"{var_name}")  # fmt: skip
                step = env[scope.var]
            keep &= (step < my_step) if preds else (step > my_step)
            if keep.any():
                chunks.append((rows[keep], step[keep]))
                edge = int(step[keep].max() if preds else step[keep].min())
                if best_step is None or (edge > best_step if preds else edge < best_step):
                    best_step = edge
        if best_step is None:
            return None, ""
        found = np.concatenate([r[st == best_step] for r, st in chunks])
        return found[found != row], ""


def _paint(me: Sequence[tuple[int, int, int]], arg: SiteArg, cands: list, t: int,
           backwards: bool, limit: int) -> tuple[np.ndarray, np.ndarray, bool]:  # fmt: skip
    """The tasks that meet an element of the access ``me`` first, walking from task ``t``
    backwards (predecessors) or forwards (successors) in submission order; see the module doc.
    Returns ``[(row, kind)]`` and whether every overlapping task could be examined."""
    if not cands:
        return np.zeros(0, np.int64), np.zeros(0, "U3"), True
    at_once = _paint_at_once(me, arg, cands, t, backwards)
    if at_once is not None:
        return at_once[0], at_once[1], True
    rows = np.concatenate([c[0] for c in cands])
    tasks = np.concatenate([c[1] for c in cands])
    reads = np.concatenate([np.full(len(c[0]), c[2]) for c in cands])
    writes = np.concatenate([np.full(len(c[0]), c[3]) for c in cands])
    part = np.concatenate([np.full(len(c[0]), i) for i, c in enumerate(cands)])
    local = np.concatenate([np.arange(len(c[0])) for c in cands])
    side = tasks < t if backwards else tasks > t
    if not arg.writes:
        side &= writes  # a read is ordered by writes only (RAW back, WAR forwards)
    order = np.flatnonzero(side)
    order = order[np.argsort(tasks[order], kind="stable")]
    if backwards:
        order = order[::-1]
    exact = len(order) <= limit
    order = order[:limit]
    closed = np.zeros(tuple(c for _, c, _ in me), dtype=bool)
    found: list[int] = []
    for i in order:
        c = cands[int(part[i])]
        k = int(local[i])
        sl = tuple(
            slice(
                int((f[k] - f0) // s0),
                int((f[k] - f0) // s0 + (n[k] - 1) * (st // s0) + 1),
                st // s0,
            )  # fmt: skip
            for (f, n, st), (f0, _, s0) in zip(c[4], me, strict=True)
        )
        open_ = ~closed[sl]
        if not open_.any():
            continue
        found.append(int(i))
        if writes[i]:
            closed[sl] = True
            if closed.all():
                break
    hit = np.asarray(found, dtype=np.int64)
    return rows[hit], _kind(arg, backwards, writes[hit], reads[hit]), exact


def _kind(arg: SiteArg, backwards: bool, w: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The dependency kind of each found task (``w``/``r``: it writes / reads the tensor)."""
    if not arg.writes:  # a read: the last write before it, the first write after it
        return np.full(len(w), "RAW" if backwards else "WAR")
    if backwards:  # a write (or read-write): the last write and the reads since
        return np.where(w, "RAW" if arg.reads else "WAW", "WAR")
    return np.where(w & ~r, "WAW", "RAW")  # the reads until the next write, and that write


def _paint_at_once(me: Sequence[tuple[int, int, int]], arg: SiteArg, cands: list, t: int,
                   backwards: bool) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    """``_paint`` for every overlapping task at once: each task's intersection with ``me`` is
    expanded to element indices of ``me``'s grid, the last (first) write per element is a
    ``minimum.at`` / ``maximum.at``, and the reads that fall between are flagged per task.
    None when the intersections hold more than ``MAX_EXPANDED`` elements (the loop decides)."""
    rows = np.concatenate([c[0] for c in cands])
    tasks = np.concatenate([c[1] for c in cands])
    reads = np.concatenate([np.full(len(c[0]), c[2]) for c in cands])
    writes = np.concatenate([np.full(len(c[0]), c[3]) for c in cands])
    side = tasks < t if backwards else tasks > t
    if not arg.writes:
        side &= writes
    sel = np.flatnonzero(side)
    if not len(sel):
        return np.zeros(0, np.int64), np.zeros(0, "U3")
    shape = [c for _, c, _ in me]
    starts, counts, steps = [], [], []
    for d, (f0, _, s0) in enumerate(me):
        f = np.concatenate([c[4][d][0] for c in cands])[sel]
        n = np.concatenate([c[4][d][1] for c in cands])[sel]
        st = np.concatenate([np.full(len(c[0]), c[4][d][2] // s0) for c in cands])[sel]
        starts.append((f - f0) // s0)
        counts.append(n)
        steps.append(st)
    sizes = np.prod(np.stack(counts), axis=0)
    total = int(sizes.sum())
    if total > MAX_EXPANDED:
        return None
    cid = np.repeat(np.arange(len(sel)), sizes)
    off = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    flat = np.zeros(total, dtype=np.int64)
    pitch = 1
    for d in reversed(range(len(me))):
        n = counts[d][cid]
        q = off % n
        off //= n
        flat += (starts[d][cid] + q * steps[d][cid]) * pitch
        pitch *= shape[d]
    task = tasks[sel][cid]
    w = writes[sel][cid]
    size = math.prod(shape)
    if backwards:  # the last write before t per element (-1: none)
        edge = np.full(size, -1, dtype=np.int64)
        np.maximum.at(edge, flat[w], task[w])
        hit = np.where(w, task == edge[flat], task > edge[flat])
    else:  # the first write after t per element (beyond every task: none)
        edge = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(edge, flat[w], task[w])
        hit = np.where(w, task == edge[flat], task < edge[flat])
    found = np.flatnonzero(np.bincount(cid, weights=hit, minlength=len(sel)) > 0)
    return rows[sel][found], _kind(arg, backwards, writes[sel][found], reads[sel][found])
