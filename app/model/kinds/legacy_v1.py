"""Format v1 -> v2 (``io.MIGRATIONS[1]``; docs/graph-model.md "Migration from v1").

It lives with the kinds because it is about kind ids: the v1 format's (``V1_ONLY_KINDS``, the
kinds v2 removed) and how each becomes v2's. It is the one module outside the family modules
that names kinds by id, and only to read files written in the old format.

Works on the raw JSON data of a v1 document (already checked against the file schema) and
returns the raw data of the same program in format v2:

- ``data.get`` nodes disappear: their wires start at the root node they named (a tensor's
  ``tensor``, a scalar's ``scalar``); a Get of a kernel, axis, channel or event becomes the
  reference property of the node it fed (a call's ``kernel``, a loop's ``axes``/``axis``, a
  send's ``channel``...).
- Workload, loop, branch, pipe, process and consume scope bodies become frames: their statements
  are children in v1 execution-chain order. Consecutive ``P.when`` statements (and an
  ``otherwise`` after them) become one ``branch.chain`` of ``branch.case`` frames, as the DSL
  chains them.
- A loop's axis wires become its ``axes`` property in wire order, paired with its variables.
- A call keeps its v1 ``axes`` and ``index`` text verbatim (v1 wrote every index out; a tensor
  parameter without one was passed whole, which v2 spells ``""``). Its tensor wires go into
  its In ports, out of its Out ports into the tensor's ``write``, both ways for InOut. A call
  sent on a channel is a sibling of its ``send``, just before it, with its task wired in.
- A schedule chain becomes the sheet of the workload (or combine/sequential/connect) frame it
  starts from, ``compile.target`` its ``target``; a program whose schedule asked for no worker
  count keeps the count v1 ran it with (``V1_DEFAULT_WORKERS``, 4; v2's default is 1, DESIGN §2):
  no dispatch becomes ``round_robin`` of 4, a keyed dispatch gets ``num_aicpus`` 4 (a
  ``work_steal`` dispatch has no count to give: it runs on 1 worker).
- Root processes wired into ``connect`` become process frames inside that connect frame (a
  ``replicate`` becomes the process's ``replicas``); workloads wired into ``combine`` /
  ``sequential`` become ``workload.instance`` nodes inside that frame (compositions nest).
- Kernel bodies are kept as they are; comment backdrops of other bodies move to the root.

Frames and their children are laid out so frames do not overlap (``layout``). A v1 construct
with no v2 form raises ``MigrationError`` naming the node and field; ``io`` turns it into a
``ProjectError`` with the file's path.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from pto_wsp.language.policy_kinds import DispatchKind

from .. import catalogue, kernel_param, kind_lookup
from .schedule import _SCHED, KEYED_DISPATCH, V1_SHEET


def _keep_v1_workers(props: dict[str, Any]) -> None:
    """Give a program sheet that asks for no worker count the count v1 ran it with: v1 ran
    ``max(round_robin count, streams) or 4`` workers, v2 ``... or DEFAULT_WORKERS`` (1, the
    reference's; DESIGN §2). A grid or a stream count sets the workers on both; pools only raise
    the count, so 4 keeps ``max(4, pools)``."""
    if props.get("spatial_map") or props.get("streams"):
        return
    policy = props.get("dispatch") or ""
    if not policy:
        props["dispatch"] = DispatchKind.ROUND_ROBIN.value
        props["dispatch_n"] = V1_DEFAULT_WORKERS
    elif policy in KEYED_DISPATCH:
        props["dispatch_aicpus"] = V1_DEFAULT_WORKERS


class MigrationError(ValueError):
    """A v1 document that has no v2 form: ``where`` names the node (``nodes.n12.props.vars``)."""

    def __init__(self, where: str, message: str):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


V1_DEFAULT_WORKERS = 4
"""The workers a v1 run had when its schedule asked for none (no round_robin count, streams or
grid); a v1 dispatch step without ``n`` meant this count too."""

V1_DEFAULTS: dict[str, dict[str, Any]] = {
    "loop.parallel": {"vars": "i"},
    "loop.seq": {"var": "i"},
    "loop.sel": {"var": "e", "row": ""},
    "branch.when": {"pred": "True"},
    "pipe.scope": {"depth": 2},
    "csp.process": {"replicas": 1},
    "csp.consume": {"var": "t"},
    "csp.replicate": {"n": 2},
    "kernel.call": {"axes": "", "index": {}},
    "compile.target": {"target": "cpu_sim"},
    **{
        f"sched.{op}": {
            p.name: V1_DEFAULT_WORKERS if (op, p.name) == ("dispatch", "n") else p.default
            for p in props
        }
        for op, props in _SCHED.items()
    },
}
"""The v1 kinds' property defaults (v1 files may leave a property out), for kinds v2 reshaped."""

STATEMENT_FRAMES = {
    "loop.parallel",
    "loop.seq",
    "loop.sel",
    "pipe.scope",
    "csp.process",
    "csp.consume",
}
REMOVED = ("data.get", "scope.entry")
V1_ONLY_KINDS = frozenset(
    {
        "data.get",
        "compile.target",
        "branch.when",
        "branch.otherwise",
        "csp.replicate",
        *(f"sched.{op}" for op in _SCHED),
    }
)
"""Kind ids of format v1 that v2 has no more (Gets, schedule chains, when/otherwise
statements, replicate): a v1 file naming them is migrated, nothing else may."""
ROOT_OUT_PORT = {"data.tensor": "tensor", "data.scalar": "scalar"}
"""The v2 output port a wire from a Get of this kind starts at."""


def _natural(ident: str) -> tuple[Any, ...]:
    import re

    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", ident))


class _V1Node:
    """A node of the v1 data with its v1 defaults filled in."""

    def __init__(self, raw: dict[str, Any]):
        self.raw = raw
        self.id: str = raw["id"]
        self.kind: str = raw["kind"]
        self.name: str = raw.get("name", "")
        self.pos: list[float] = list(raw.get("pos", [0.0, 0.0]))
        self.props: dict[str, Any] = {**V1_DEFAULTS.get(self.kind, {}), **raw.get("props", {})}
        body = raw.get("body")
        self.body: _V1Graph | None = _V1Graph(body) if isinstance(body, dict) else None

    def where(self, field: str = "") -> str:
        return f"nodes.{self.id}" + (f".{field}" if field else "")


class _V1Graph:
    def __init__(self, raw: dict[str, Any]):
        self.raw = raw
        self.nodes: dict[str, _V1Node] = {}
        for item in raw.get("nodes", []):
            node = _V1Node(item)
            self.nodes[node.id] = node
        self.edges: list[tuple[str, str, str, str]] = [
            (e["src"]["node"], e["src"]["port"], e["dst"]["node"], e["dst"]["port"])
            for e in raw.get("edges", [])
        ]

    def into(self, node_id: str, port: str | None = None) -> list[tuple[str, str, str, str]]:
        return [e for e in self.edges if e[2] == node_id and (port is None or e[3] == port)]

    def out_of(self, node_id: str, port: str | None = None) -> list[tuple[str, str, str, str]]:
        return [e for e in self.edges if e[0] == node_id and (port is None or e[1] == port)]


class _Migration:
    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.root = _V1Graph(data.get("graph", {}))
        self.by_name: dict[str, _V1Node] = {}
        for n in self.root.nodes.values():
            if n.name and n.name not in self.by_name and n.kind not in REMOVED:
                self.by_name[n.name] = n
        best = 0
        for ident in self._all_ids(self.root):
            if ident.startswith("n") and ident[1:].isdigit():
                best = max(best, int(ident[1:]))
        self._next = best + 1
        self.out: list[dict[str, Any]] = []  # v2 nodes in graph order
        self.edges: list[tuple[str, str, str, str]] = []
        self.placed: dict[str, dict[str, Any]] = {}
        self.applied: set[str] = set()
        """Schedule and compile nodes taken into a sheet."""
        self.body_backdrops: list[dict[str, Any]] = []
        """Comment backdrops of v1 scope bodies: kept, on the root canvas (no body remains)."""

    # -- helpers ---------------------------------------------------------------------------
    def _all_ids(self, graph: _V1Graph) -> set[str]:
        ids = set(graph.nodes)
        for n in graph.nodes.values():
            if n.body is not None:
                ids |= self._all_ids(n.body)
        for b in graph.raw.get("backdrops", []):
            ids.add(b.get("id", ""))
        return ids

    def new_id(self) -> str:
        ident = f"n{self._next}"
        self._next += 1
        return ident

    def emit(
        self,
        ident: str,
        kind: str,
        name: str,
        pos: Iterable[float],
        props: dict[str, Any],
        parent: str | None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": ident,
            "kind": kind,
            "name": name,
            "pos": [float(v) for v in pos],
            "props": props,
            "parent": parent,
        }
        if body is not None:
            item["body"] = body
        if ident in self.placed:
            raise MigrationError(
                f"nodes.{ident}", "is used in two places; a v2 node lives in one frame"
            )
        self.out.append(item)
        self.placed[ident] = item
        return item

    def get_target(self, graph: _V1Graph, node_id: str) -> _V1Node | None:
        """The node a wire source stands for: a Get's named root node, else the node."""
        node = graph.nodes.get(node_id)
        if node is None or node.kind != "data.get":
            return node
        target = node.props.get("target", "")
        found = self.by_name.get(target) if isinstance(target, str) else None
        if found is None:
            raise MigrationError(node.where("props.target"), f"no root node named {target!r}")
        return found

    def sources(self, graph: _V1Graph, node: _V1Node, port: str) -> list[tuple[_V1Node, str]]:
        """``[(source node, source port)]`` wired into ``node.port``, Gets resolved."""
        out = []
        for s, sport, _d, _dport in graph.into(node.id, port):
            src = self.get_target(graph, s)
            if src is None:
                raise MigrationError(node.where(f"inputs.{port}"), f"wire from missing node {s!r}")
            via_get = graph.nodes[s].kind == "data.get"
            out.append((src, ROOT_OUT_PORT.get(src.kind, sport) if via_get else sport))
        return out

    def ref(self, graph: _V1Graph, node: _V1Node, port: str, kinds: tuple[str, ...]) -> str:
        """The id of the node wired (through a Get) into ``node.port`` (``""`` if none)."""
        srcs = self.sources(graph, node, port)
        if not srcs:
            return ""
        src = srcs[0][0]
        if src.kind not in kinds:
            raise MigrationError(
                node.where(f"inputs.{port}"),
                f"{kind_lookup.display_name(src.kind) if src.kind in catalogue.KINDS else src.kind} "
                f"{src.name!r} cannot be its {port}",
            )
        return src.id

    # -- the whole document ----------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        root = self.root
        self.users = self._root_users()
        handled: set[str] = set()
        for n in root.nodes.values():
            if n.id in handled:
                continue
            if n.kind in ("data.get", "scope.entry"):
                raise MigrationError(n.where("kind"), f"{n.kind} cannot live at the root")
            if n.kind.startswith("sched.") or n.kind in ("compile.target", "csp.replicate"):
                continue  # taken in by the frame they schedule / the process they replicate
            if n.kind == "csp.process":
                if not self.users.get(n.id):
                    raise MigrationError(
                        n.where(),
                        f"process {n.name!r} is wired into no connect; a v2 process lives in a "
                        "connect frame",
                    )
                continue  # placed by its connect
            if n.kind in ("compose.combine", "compose.sequential") and self._composed_in(n):
                continue  # placed by the composition that uses it
            self.root_node(n)
        for n in root.nodes.values():
            if n.kind == "csp.process" and n.id not in self.placed:
                raise MigrationError(n.where(), f"process {n.name!r} is in no connect")
            if (n.kind.startswith("sched.") or n.kind == "compile.target") and n.id not in self.applied:  # fmt: skip
                raise MigrationError(
                    n.where("inputs.workload"),
                    f"{n.kind} {n.name!r} schedules no workload, composition or connect; a v2 "
                    "schedule is the sheet of the frame it applies to",
                )
        self.root_edges()
        nodes = self.out
        layout(nodes, self.edges)
        return {
            "format_version": 2,
            "name": self.data.get("name", "untitled"),
            "settings": copy.deepcopy(self.data.get("settings", {})),
            "graph": {
                "nodes": nodes,
                "edges": [
                    {"src": {"node": s, "port": sp}, "dst": {"node": d, "port": dp}}
                    for s, sp, d, dp in self.edges
                ],
                "backdrops": copy.deepcopy(root.raw.get("backdrops", [])) + self.body_backdrops,
            },
        }

    def _root_users(self) -> dict[str, list[tuple[_V1Node, str]]]:
        users: dict[str, list[tuple[_V1Node, str]]] = {}
        for s, _sp, d, dp in self.root.edges:
            dst = self.root.nodes.get(d)
            if dst is not None:
                users.setdefault(s, []).append((dst, dp))
        return users

    def _composed_in(self, n: _V1Node) -> bool:
        return any(
            u.kind in ("compose.combine", "compose.sequential")
            for u, _p in self.users.get(n.id, [])
        )

    def root_node(self, n: _V1Node) -> None:
        if n.kind == "workload.def":
            self.emit(n.id, n.kind, n.name, n.pos, self.sheet(n), None)
            self.children(n, n.id)
        elif n.kind in ("compose.combine", "compose.sequential"):
            self.compose(n, None)
        elif n.kind == "csp.connect":
            self.emit(n.id, n.kind, n.name, n.pos, self.sheet(n), None)
            for src, _port in self.sources(self.root, n, "processes"):
                self.process(src, n.id)
        elif n.kind == "kernel.def":
            body = copy.deepcopy(n.raw.get("body"))
            self.emit(n.id, n.kind, n.name, n.pos, dict(n.raw.get("props", {})), None, body)
        elif n.kind in ("data.tensor", "data.scalar", "csp.channel", "event.def") or n.kind.startswith("axis."):  # fmt: skip
            self.emit(n.id, n.kind, n.name, n.pos, dict(n.raw.get("props", {})), None)
        else:
            raise MigrationError(n.where("kind"), f"{n.kind} has no place at the root in v2")

    def root_edges(self) -> None:
        """Root wires that mean the same in v2: data into axes (ragged lengths, sparse CSR,
        a dynamic size)."""
        for s, sp, d, dp in self.root.edges:
            dst = self.root.nodes.get(d)
            if dst is not None and dst.kind.startswith("axis."):
                self.edges.append((s, sp, d, dp))

    # -- compositions, processes, schedules ----------------------------------------------------
    def compose(self, n: _V1Node, parent: str | None) -> None:
        props = self.sheet(n) if parent is None else self._no_sheet(n)
        self.emit(n.id, n.kind, n.name, n.pos, props, parent)
        for src, _port in self.sources(self.root, n, "workloads"):
            if src.kind == "workload.def":
                self.emit(
                    self.new_id(), "workload.instance", "", src.pos, {"workload": src.id}, n.id
                )
            elif src.kind in ("compose.combine", "compose.sequential"):
                users = [u for u, _p in self.users.get(src.id, [])]
                if sum(u.kind in ("compose.combine", "compose.sequential") for u in users) > 1:
                    raise MigrationError(
                        src.where(),
                        f"{src.name!r} is composed into two compositions; a v2 composition "
                        "frame lives in one",
                    )
                self.compose(src, n.id)
            else:
                raise MigrationError(
                    n.where("inputs.workloads"),
                    f"{src.kind} {src.name!r} cannot be composed in v2 (combine/sequential hold "
                    "workloads and compositions)",
                )

    def _no_sheet(self, n: _V1Node) -> dict[str, Any]:
        if self._chain(n):
            raise MigrationError(
                n.where(),
                f"{n.name!r} is used inside another composition and also scheduled on its own",
            )
        return {}

    def process(self, src: _V1Node, connect_id: str) -> None:
        replicas = 1
        if src.kind == "csp.replicate":
            inner = self.sources(self.root, src, "process")
            if not inner:
                raise MigrationError(src.where("inputs.process"), "replicate has no process")
            replicas = int(src.props.get("n", 2))
            src = inner[0][0]
        if src.kind != "csp.process":
            raise MigrationError(
                src.where(), f"{src.kind} {src.name!r} is not a process; connect takes processes"
            )
        own = int(src.props.get("replicas", 1))
        if own != 1 and replicas != 1:
            raise MigrationError(
                src.where("props.replicas"),
                "a replicated process replicated again has no v2 form (one replicas count)",
            )
        if src.id in self.placed:
            raise MigrationError(src.where(), f"process {src.name!r} is in two connects")
        count = own if own != 1 else replicas
        self.emit(src.id, "csp.process", src.name, src.pos, {"replicas": count}, connect_id)
        self.children(src, src.id)

    def _chain(self, start: _V1Node) -> list[_V1Node]:
        """The schedule nodes wired after ``start`` (then a compile.target, if any)."""
        chain: list[_V1Node] = []
        node = start
        seen = {start.id}
        while True:
            nexts = [
                u
                for u, p in self.users.get(node.id, [])
                if p == "workload" and (u.kind.startswith("sched.") or u.kind == "compile.target")
            ]
            if not nexts:
                return chain
            if len(nexts) > 1:
                raise MigrationError(
                    nexts[1].where(),
                    f"{node.name or node.id!r} feeds two schedule chains; a v2 frame has one "
                    "schedule sheet",
                )
            node = nexts[0]
            if node.id in seen:
                raise MigrationError(node.where(), "schedule chain has a cycle")
            seen.add(node.id)
            chain.append(node)
            if node.kind == "compile.target":
                return chain

    def sheet(self, frame: _V1Node) -> dict[str, Any]:
        """The schedule sheet of a frame from the v1 chain that starts at it."""
        props: dict[str, Any] = {}
        for step in self._chain(frame):
            self.applied.add(step.id)
            if step.kind == "compile.target":
                props["target"] = step.props.get("target", "cpu_sim")
                continue
            op = step.kind[len("sched.") :]
            if op not in _SCHED:
                raise MigrationError(step.where("kind"), f"unknown schedule step {step.kind}")
            if op == "task_graph":
                props["task_graph"] = {p.name: step.props[p.name] for p in _SCHED[op]}
                continue
            for p in _SCHED[op]:
                props[V1_SHEET[(op, p.name)]] = step.props[p.name]
        if props.get("target"):
            _keep_v1_workers(props)
        return props

    # -- statements ------------------------------------------------------------------------------
    def chain_of(self, owner: _V1Node) -> list[_V1Node]:
        """A v1 scope body's statements: the execution chain from its entry, then statements
        off the chain (v1 refused to export those; they are kept, after the chain)."""
        body = owner.body
        if body is None:
            return []
        entry = next((n for n in body.nodes.values() if n.kind == "scope.entry"), None)
        nxt: dict[str, str] = {}
        for s, sp, d, dp in body.edges:
            if sp == "exec" and dp == "exec" and s in body.nodes and d in body.nodes:
                nxt[s] = d
        chain: list[_V1Node] = []
        seen: set[str] = set()
        cur = nxt.get(entry.id) if entry is not None else None
        while cur is not None and cur not in seen:
            seen.add(cur)
            chain.append(body.nodes[cur])
            cur = nxt.get(cur)
        sent = {s for s, sp, _d, dp in body.edges if sp == "value" and dp == "value"}
        for n in sorted(body.nodes.values(), key=lambda x: _natural(x.id)):
            if n.id in seen or n.kind in REMOVED or n.id in sent:
                continue
            chain.append(n)
        return chain

    def children(self, owner: _V1Node, parent: str) -> None:
        """Emit the statements of ``owner``'s body as children of frame ``parent``."""
        body = owner.body
        if body is None:
            return
        self.body_backdrops.extend(copy.deepcopy(body.raw.get("backdrops", [])))
        statements = self.chain_of(owner)
        i = 0
        while i < len(statements):
            n = statements[i]
            if n.kind == "branch.when":
                j = i
                cases = []
                while j < len(statements) and statements[j].kind == "branch.when":
                    cases.append(statements[j])
                    j += 1
                if j < len(statements) and statements[j].kind == "branch.otherwise":
                    cases.append(statements[j])
                    j += 1
                self.branch(body, cases, parent)
                i = j
                continue
            if n.kind == "branch.otherwise":
                raise MigrationError(
                    n.where("inputs.exec"), "P.otherwise() must directly follow a P.when block"
                )
            self.statement(body, n, parent)
            i += 1

    def branch(self, body: _V1Graph, cases: list[_V1Node], parent: str) -> None:
        first = cases[0]
        chain_id = self.new_id()
        self.emit(chain_id, "branch.chain", "", first.pos, {}, parent)
        for case in cases:
            otherwise = case.kind == "branch.otherwise"
            props = {"pred": "True" if otherwise else case.props.get("pred", "True"), "otherwise": otherwise}  # fmt: skip
            self.emit(case.id, "branch.case", case.name, case.pos, props, chain_id)
            self.children(case, case.id)

    def statement(self, body: _V1Graph, n: _V1Node, parent: str) -> None:
        k = n.kind
        p = n.props
        if k == "loop.parallel":
            axes = [src for src, _ in self.sources(body, n, "axes")]
            names = [v.strip() for v in str(p.get("vars", "")).split(",") if v.strip()]
            if len(axes) != len(names):
                raise MigrationError(
                    n.where("props.vars"),
                    f"{len(names)} loop variable(s) for {len(axes)} connected axis/axes",
                )
            for a in axes:
                if not a.kind.startswith("axis."):
                    raise MigrationError(n.where("inputs.axes"), f"{a.name!r} is not an axis")
            entries = [{"var": v, "axis": a.id} for v, a in zip(names, axes, strict=True)]
            self.emit(n.id, k, n.name, n.pos, {"axes": entries}, parent)
            self.children(n, n.id)
        elif k in ("loop.seq", "loop.sel"):
            port, kinds = ("axis", AXES) if k == "loop.seq" else ("sparse", ("axis.sparse",))
            props = {"var": p.get("var"), "axis": self.ref(body, n, port, kinds)}
            if k == "loop.sel":
                props["row"] = p.get("row", "")
            self.emit(n.id, k, n.name, n.pos, props, parent)
            self.children(n, n.id)
        elif k == "pipe.scope":
            self.emit(n.id, k, n.name, n.pos, {"depth": p.get("depth", 2)}, parent)
            self.children(n, n.id)
        elif k == "csp.process":
            self.emit(n.id, k, n.name, n.pos, {"replicas": p.get("replicas", 1)}, parent)
            self.children(n, n.id)
        elif k == "csp.consume":
            props = {"var": p.get("var"), "channel": self.ref(body, n, "channel", ("csp.channel",))}
            self.emit(n.id, k, n.name, n.pos, props, parent)
            self.children(n, n.id)
        elif k == "kernel.call":
            self.call(body, n, parent)
        elif k == "csp.send":
            props = {"channel": self.ref(body, n, "channel", ("csp.channel",))}
            values = self.sources(body, n, "value")
            for src, _port in values:
                if src.kind != "kernel.call":
                    raise MigrationError(
                        n.where("inputs.value"), "send takes a kernel call's value"
                    )
                self.call(body, src, parent)
            self.emit(n.id, k, n.name, n.pos, props, parent)
            for src, _port in values:
                self.edges.append((src.id, "task", n.id, "value"))
        elif k == "csp.close":
            props = {"channel": self.ref(body, n, "channel", ("csp.channel",))}
            self.emit(n.id, k, n.name, n.pos, props, parent)
        elif k in ("event.record", "event.synchronize"):
            props = {"event": self.ref(body, n, "event", ("event.def",))}
            self.emit(n.id, k, n.name, n.pos, props, parent)
        elif k == "slot.set":
            self.emit(n.id, k, n.name, n.pos, dict(n.raw.get("props", {})), parent)
        elif k == "slot.load" or k.startswith("layout."):
            self.emit(n.id, k, n.name, n.pos, dict(n.raw.get("props", {})), parent)
            for src, sport in self.sources(body, n, "tensor"):
                self.edges.append((src.id, sport, n.id, "tensor"))
        else:
            raise MigrationError(n.where("kind"), f"{k} cannot be a statement in v2")

    def call(self, body: _V1Graph, n: _V1Node, parent: str) -> None:
        kern_id = self.ref(body, n, "kernel", ("kernel.def",))
        kern = self.root.nodes.get(kern_id) if kern_id else None
        params: dict[str, dict[str, Any]] = {}
        if kern is not None:
            for raw in kern.props.get("params", []):
                if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                    params[raw["name"]] = kernel_param.normalize_param(
                        kernel_param.migrate_param(raw)
                    )
        old_index = n.props.get("index") or {}
        index = dict(old_index) if isinstance(old_index, dict) else old_index
        wires: list[tuple[str, str, str, str]] = []
        ports = []
        for _s, _sp, _d, dp in body.into(n.id):
            if dp in ("exec", "kernel") or dp in ports:
                continue
            ports.append(dp)
        for port in ports:
            param = params.get(port, {"kind": "tensor", "direction": "In"})
            for src, sport in self.sources(body, n, port):
                if src.kind == "scope.entry":  # a loop variable wired into a scalar
                    index[port] = sport
                    continue
                direction = param.get("direction", "In")
                if direction in ("In", "InOut"):
                    wires.append((src.id, sport, n.id, port))
                if direction in ("Out", "InOut"):
                    if src.kind != "data.tensor":
                        raise MigrationError(
                            n.where(f"inputs.{port}"),
                            f"output parameter {port!r} writes {src.name or src.id!r}, which is "
                            "not a tensor; a v2 call writes tensors",
                        )
                    wires.append((n.id, port, src.id, "write"))
        if isinstance(index, dict):
            for name, param in params.items():
                if param.get("kind") != "scalar" and name not in index:
                    index[name] = ""  # v1 passed it whole
        props = {"kernel": kern_id, "axes": n.props.get("axes", ""), "index": index}
        self.emit(n.id, "kernel.call", n.name, n.pos, props, parent)
        self.edges.extend(wires)


AXES = ("axis.dense", "axis.dense_dyn", "axis.ragged", "axis.sparse")


def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """``MIGRATIONS[1]``: the raw data of a v1 document as v2 data (``MigrationError`` naming
    the node when a v1 construct has no v2 form)."""
    return _Migration(data).run()


# ------------------------------------------------------------------------------------------
# layout
# ------------------------------------------------------------------------------------------
NODE_W, NODE_H = 260.0, 90.0
"""The room one node is given."""
PAD, HEADER, GAP = 24.0, 48.0, 30.0
"""Frame padding, frame header height, gap between siblings."""
COLUMN_GAP = 120.0


def layout(nodes: list[dict[str, Any]], edges: Iterable[tuple[str, str, str, str]]) -> None:
    """Place framed nodes inside their frames and frames apart, as a readable first layout.

    Root declarations stand in a column on the left (axes, scalars, kernels, channels,
    events, then the tensors read), frames in a column in the middle (each frame's children top
    to bottom in order; a P.when chain's cases and a connect's processes side by side), and
    tensors only written in a column on the right. Kernel bodies keep their positions.
    """
    by_id = {n["id"]: n for n in nodes}
    kids: dict[str | None, list[dict[str, Any]]] = {}
    for n in nodes:
        parent = n.get("parent")
        kids.setdefault(parent if parent in by_id else None, []).append(n)
    sizes: dict[str, tuple[float, float]] = {}

    def across(n: dict[str, Any]) -> bool:
        return n["kind"] in ("branch.chain", "csp.connect", "compose.combine")

    def size(n: dict[str, Any]) -> tuple[float, float]:
        if n["id"] in sizes:
            return sizes[n["id"]]
        inner = kids.get(n["id"], [])
        if not kind_lookup.is_frame(n["kind"]):
            sizes[n["id"]] = (NODE_W, _leaf_height(n, by_id))
        elif not inner:
            sizes[n["id"]] = (NODE_W + 2 * PAD, HEADER + NODE_H * 0.5 + PAD)
        else:
            dims = [size(c) for c in inner]
            if across(n):
                w = sum(d[0] for d in dims) + GAP * (len(dims) - 1)
                h = max(d[1] for d in dims)
            else:
                w = max(d[0] for d in dims)
                h = sum(d[1] for d in dims) + GAP * (len(dims) - 1)
            sizes[n["id"]] = (w + 2 * PAD, h + HEADER + PAD)
        return sizes[n["id"]]

    def place(n: dict[str, Any], x: float, y: float) -> None:
        n["pos"] = [x, y]
        cx, cy = x + PAD, y + HEADER
        for c in kids.get(n["id"], []):
            place(c, cx, cy)
            w, h = size(c)
            if across(n):
                cx += w + GAP
            else:
                cy += h + GAP

    wired_in = {d for _s, _sp, d, dp in edges if dp == "write"}
    read = {s for s, _sp, _d, _dp in edges}
    roots = kids.get(None, [])
    left = [n for n in roots if not kind_lookup.is_frame(n["kind"]) and not (n["id"] in wired_in and n["id"] not in read)]  # fmt: skip
    order = ("axis.", "data.scalar", "kernel.", "csp.", "event.", "data.tensor")
    left.sort(key=lambda n: next((i for i, p in enumerate(order) if n["kind"].startswith(p)), 9))
    right = [n for n in roots if not kind_lookup.is_frame(n["kind"]) and n not in left]
    middle = [n for n in roots if kind_lookup.is_frame(n["kind"])]
    y = 0.0
    for n in left:
        place(n, 0.0, y)
        y += size(n)[1] + GAP
    x = NODE_W + COLUMN_GAP
    y = 0.0
    widest = 0.0
    for n in middle:
        place(n, x, y)
        w, h = size(n)
        y += h + GAP * 2
        widest = max(widest, w)
    x += (widest or NODE_W) + COLUMN_GAP
    y = 0.0
    for n in right:
        place(n, x, y)
        y += size(n)[1] + GAP


def _leaf_height(n: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> float:
    """A node's height as the canvas draws it: a title and one row per port (a call has a port
    per kernel parameter, two for InOut, plus its task)."""
    if n["kind"] != "kernel.call":
        return NODE_H
    kern = by_id.get(n["props"].get("kernel") or "")
    params = kern["props"].get("params", []) if kern is not None else []
    ins = sum(1 for q in params if isinstance(q, dict) and q.get("direction", "In") != "Out")
    outs = 1 + sum(1 for q in params if isinstance(q, dict) and q.get("direction") in ("Out", "InOut"))  # fmt: skip
    return max(NODE_H, 50.0 + 22.0 * max(ins, outs))


__all__ = ["MigrationError", "migrate_v1", "layout", "V1_DEFAULTS", "V1_ONLY_KINDS"]
