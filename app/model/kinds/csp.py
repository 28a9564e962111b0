"""CSP (spec §4): channels, processes, send/consume/close, P.pipe and connect.

A channel is a root node; ``send``/``consume``/``close`` name it in their ``channel`` property
(the view draws the reference as a thin link). A process is a frame (inside ``P.pipe`` or a
``connect`` frame); a ``consume`` is a frame whose children run per received item.
"""

from __future__ import annotations

import re
from typing import Any

from .. import titles
from ..document import Node
from ._base import ROOT, Emitter, FrameLook, NodeKind, PropSpec, W, in_port, one_var, positive
from .schedule import SHEET_PROPS, sheet_prop_applies

_in = in_port
CHANNEL = "csp.channel"


def _channel(doc: str, link: str) -> PropSpec:
    return PropSpec("channel", "ref", "", doc=doc, ref_kinds=(CHANNEL,), link=link)


_NAMED_PROCESS = (
    "a named process belongs in a connect frame; inside a workload use P.pipe, where every "
    "statement is a process"
)


def emit_pipe(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``with P.pipe(depth=d):`` and its statements (each a process of its own)."""
    for inner in x.children(n.id):
        if x.kind_of(inner).module_level:
            raise x.error(
                inner.id,
                "parent",
                "inside P.pipe every statement is a process of its own; a named process "
                "belongs in a connect frame",
            )
    depth_prop = x.integer(n, "props.depth", n.props.get("depth", 2), 0)
    x.use("P")
    x.line(f"with P.pipe(depth={depth_prop}):", n.id, depth)
    x.body(n, depth + 1)


def emit_send(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``send(ch, kernel[b](...))``: the call wired into ``value`` is written inside."""
    ch = x.ref(n, "channel", "channel")
    call = x.sent_call_of(n)
    value = "None" if call is None else x.call_text(call, names)
    x.use("send")
    x.assign_call(f"send({x.name(ch)}, {value})", n.id, depth)


def emit_consume(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``with consume(ch) as t:`` and the children."""
    ch = x.ref(n, "channel", "channel")
    var = x.ident(n, "props.var", n.props.get("var"))
    x.use("consume")
    x.line(f"with consume({x.name(ch)}) as {var}:", n.id, depth)
    x.body(n, depth + 1)


def emit_close(x: Any, n: Node, depth: int, names: set[str]) -> None:
    x.line(f"{x.name(x.ref(n, 'channel', 'channel'))}.close()", n.id, depth)


def emit_process_statement(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """A process frame inside a workload has no statement form (a connect frame's processes
    are top-level definitions)."""
    raise x.error(n.id, "parent", _NAMED_PROCESS)


def check_send(c: Any, node: Node) -> None:
    """The call a send sends is written inside the send: it stands in the send's frame,
    and its task goes to this one send."""
    for e in c.wires.into.get((node.id, "value"), []):
        call = c.nodes.get(e.src.node)
        if call is None or not c.kind_of(call).calls_kernel:
            continue  # a wrong wire: check_edges
        sends = c.wires.out_of.get((call.id, e.src.port), [])
        if len(sends) > 1 and sends[0] is e:  # once per call, at its first send
            c.add(call.id, f"outputs.{e.src.port}", "a call's task is sent on one channel only")  # fmt: skip
        if call.parent != node.parent:
            c.add(call.id, "parent", "a kernel call sent on a channel is written inside its send: put it in the send's frame")  # fmt: skip


def check_process(c: Any, node: Node) -> None:
    """A named process is a top-level definition a connect frame names; inside a workload
    (a P.pipe included) every statement already is a process of its own."""
    c.check_positive(node, "replicas")
    parent = c.nodes.get(node.parent) if node.parent is not None else None
    if parent is not None and c.kind_of(parent).children_scope != "connect":
        c.add(
            node.id,
            "parent",
            _NAMED_PROCESS,
        )


def check_connect(c: Any, node: Node) -> None:
    if not c.children(node.id):
        c.add(node.id, "children", f"{c.label(node)} is empty: add processes")


def emit_csp_channel(x: Emitter, n: Node) -> None:
    x.use("Channel")
    latency = x.integer(n, "props.latency", n.props.get("latency", 0), 0)
    extra = f", latency={latency}" if latency else ""  # 0 is the DSL's default: not written
    x.line(f"{x.name(n)} = Channel({x.q(n.name)}, depth={int(n.props['depth'])}{extra})", n.id)


def check_channel(c: Any, node: Node) -> None:
    positive("depth")(c, node)
    positive("latency", 0)(c, node)


def emit_csp_process(x: Emitter, n: Node) -> None:
    consumes, produces = _process_channels(x, n)
    fn = f"{x.name(n)}_body"
    x.use("process")
    x.blank(2)
    x.line(f"def {fn}():", n.id)
    x.body(n, 1)
    x.blank(2)
    call = f"process({x.q(n.name)})"
    if consumes:
        call += f".consumes({', '.join(consumes)})"
    if produces:
        call += f".produces({', '.join(produces)})"
    call += f".body({fn})"
    replicas = x.integer(n, "props.replicas", n.props.get("replicas", 1), 1)
    if replicas != 1:
        x.use("replicate")
        call = f"replicate({call}, {replicas})"
    x.assign(x.name(n), call, n.id)


def _process_channels(x: Emitter, n: Node) -> tuple[list[str], list[str]]:
    """Channels a process consumes and sends on, in statement order, outer frames first."""
    consumes: list[str] = []
    produces: list[str] = []
    queue: list[Node] = [n]
    while queue:
        owner = queue.pop(0)
        for inner in x.statements(owner):
            role = x.kind_of(inner)
            if any(p.name == "channel" for p in x.kind_of(inner).props) and (
                role.takes_task or role.binds_vars
            ):  # a send, a consume (a close uses its channel without sending)
                ch = x.ref(inner, "channel", "channel")
                bucket = produces if role.takes_task else consumes
                if x.name(ch) not in bucket:
                    bucket.append(x.name(ch))
            if x.kind_of(inner).frame:
                queue.append(inner)
    return consumes, produces


def emit_csp_connect(x: Emitter, n: Node) -> None:
    procs: list[str] = []
    chans: list[str] = []
    for p in x.statements(n):
        if not x.kind_of(p).module_level:
            raise x.error(p.id, "parent", "a connect frame holds processes only")
        procs.append(x.name(p))
        consumes, produces = _process_channels(x, p)
        for ch in produces + consumes:
            if ch not in chans:
                chans.append(ch)
    if not procs:
        raise x.error(n.id, "children", "connect needs at least one process in its frame")
    x.use("connect")
    x.assign(x.name(n), f"connect([{', '.join(procs)}], [{', '.join(chans)}])", n.id)


def import_pipe(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``PipeNode``: its processes are the DSL's one-statement stages."""
    pipe = im.add(im.dsl_kind("PipeNode"), None, frame, depth=int(s.depth if s.depth is not None else 2))  # fmt: skip
    for p in s.processes:
        auto = re.fullmatch(r"stage\d+|consume_.*", p.name) is not None
        if not auto or p.replicas != 1 or len(p.body) != 1:
            raise im.error(
                f"{here}: process {p.name!r} of a P.pipe is named or has several statements; "
                "graph pipelines hold one statement per process"
            )
        im.statement(pipe, p.body[0], where)
    return pipe


def import_send(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``SendNode``: the call it sends stands before it in its frame, its task wired in."""
    if not s.block:
        raise im.error(f"{here}: send(..., block=False) has no graph node")
    call = None
    if im.is_call(s.value):
        call = im.call(frame, s.value, here)
    elif s.value is not None:
        raise im.error(f"{here}: send of a tensor has no graph node; send a kernel call")
    send = im.add(im.dsl_kind("SendNode"), None, frame, channel=im.channel(s.channel).id)
    if call is not None:
        im.wire(call, "task", send, "value")
    return send


def import_consume(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    node = im.add(
        im.dsl_kind("ConsumeNode"), None, frame, var=str(s.var.name), channel=im.channel(s.channel).id
    )  # fmt: skip
    im.statements(node, s.body, where)
    return node


def import_close(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    return im.add(im.dsl_kind("CloseNode"), None, frame, channel=im.channel(s.channel).id)


def import_channel(im: Any, ch: Any, where: str) -> Node:
    return im.add(CHANNEL, im.name_for(ch, "ch"), depth=ch.depth, latency=int(ch.latency))


KINDS = [
    NodeKind(
        CHANNEL,
        "Channel",
        "CSP",
        [],
        [
            PropSpec("depth", "int", 2),
            PropSpec(
                "latency",
                "int",
                0,
                doc="cycles from the end of the sending task until a receive can take the item "
                "(0: not written, so the run's default __pto_wsp_channel_latency_cycles, 0 "
                "unless the script sets that runtime symbol)",
            ),
        ],
        name_base="ch",
        summary=titles.channel,
        check=check_channel,
        run_role="channel",
        emit_root=emit_csp_channel,
        import_root=import_channel,
        section="channels",
        doc='Channel("name", depth=d, latency=c): bounded, blocking send.',
    ),
    NodeKind(
        "pipe.scope",
        "Pipeline P.pipe",
        "CSP",
        [],
        [PropSpec("depth", "int", 2)],
        frame=True,
        allowed_in=W,
        summary=titles.pipe,
        emit=emit_pipe,
        import_dsl=import_pipe,
        check=positive("depth"),
        run_role="stages",
        frame_style=FrameLook(
            (30, 96, 110, 40), (80, 200, 220, 255), (24, 78, 90, 235), double=True, row=True
        ),  # fmt: skip
        doc="with P.pipe(): processes that communicate over channels.",
    ),
    NodeKind(
        "csp.process",
        "Process",
        "CSP",
        [],
        [PropSpec("replicas", "int", 1, doc="replicate(process, n) when more than 1")],
        frame=True,
        allowed_in=frozenset({"workload", "connect"}),
        name_base="proc",
        summary=titles.process,
        emit=emit_process_statement,
        check=check_process,
        module_level=True,
        run_role="process",
        emit_root=emit_csp_process,
        section="processes",
        frame_style=FrameLook((28, 88, 88, 40), (72, 200, 190, 255), (22, 72, 72, 235)),
        doc="A CSP process: inside P.pipe, or inside a connect frame.",
    ),
    NodeKind(
        "csp.send",
        "send",
        "CSP",
        [_in("value", "task", optional=True)],
        [_channel("the channel it sends on", "to")],
        allowed_in=W,
        name_base="send",
        summary=titles.send,
        emit=emit_send,
        import_dsl=import_send,
        takes_task=True,
        check=check_send,
        doc="send(ch, call): pass a kernel call's task (wired into value) down a channel.",
    ),
    NodeKind(
        "csp.consume",
        "consume",
        "CSP",
        [],
        [PropSpec("var", "names", "t"), _channel("the channel it receives from", "from")],
        frame=True,
        allowed_in=W,
        summary=titles.consume,
        emit=emit_consume,
        import_dsl=import_consume,
        binds_vars=one_var,
        run_role="consume",
        frame_style=FrameLook(
            (28, 88, 88, 30), (72, 200, 190, 230), (22, 72, 72, 220), pen="dash"
        ),  # fmt: skip
        doc="with consume(ch) as t: the children run per received item.",
    ),
    NodeKind(
        "csp.close",
        "close",
        "CSP",
        [],
        [_channel("the channel it closes", "to")],
        allowed_in=W,
        name_base="close",
        summary=titles.close,
        emit=emit_close,
        import_dsl=import_close,
        doc="ch.close(): consumers finish.",
    ),
    NodeKind(
        "csp.connect",
        "connect",
        "CSP",
        [],
        list(SHEET_PROPS),
        frame=True,
        allowed_in=ROOT,
        children_scope="connect",
        name_base="pipeline",
        summary=titles.connect,
        sweep_default="dispatch_n",
        program=True,
        prop_applies=sheet_prop_applies,
        check=check_connect,
        emit_root=emit_csp_connect,
        section="composition",
        frame_style=FrameLook(
            (30, 70, 110, 36),
            (96, 160, 240, 255),
            (24, 56, 96, 235),
            radius=10.0,
            summary=True,
            row=True,
        ),  # fmt: skip
        doc="connect([processes], [channels]): its children are the processes.",
    ),
]

DSL_KINDS = {
    "Channel": CHANNEL,
    "PipeNode": "pipe.scope",
    "ConnectNode": "csp.connect",
    "ProcessNode": "csp.process",
    "SendNode": "csp.send",
    "ConsumeNode": "csp.consume",
    "CloseNode": "csp.close",
}
"""DSL object type -> the kind Import Python makes of it (``catalogue.dsl_kind``)."""
