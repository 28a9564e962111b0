"""CSP (spec §4): channels, processes, send/consume/close, P.pipe and connect.

A channel is a root node; ``send``/``consume``/``close`` name it in their ``channel`` property
(the view draws the reference as a thin link). A process is a frame (inside ``P.pipe`` or a
``connect`` frame); a ``consume`` is a frame whose children run per received item.
"""

from __future__ import annotations

from .. import titles
from ._base import ROOT, NodeKind, PropSpec, W, in_port
from .schedule import SHEET_PROPS

_in = in_port


def _channel(doc: str) -> PropSpec:
    return PropSpec("channel", "ref", "", doc=doc, ref_kinds=("csp.channel",))


KINDS = [
    NodeKind(
        "csp.channel",
        "Channel",
        "CSP",
        [],
        [PropSpec("depth", "int", 2)],
        name_base="ch",
        summary=titles.channel,
        doc='Channel("name", depth=d): bounded, blocking send.',
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
        doc="A CSP process: inside P.pipe, or inside a connect frame.",
    ),
    NodeKind(
        "csp.send",
        "send",
        "CSP",
        [_in("value", "task", optional=True)],
        [_channel("the channel it sends on")],
        allowed_in=W,
        name_base="send",
        summary=titles.send,
        doc="send(ch, call): pass a kernel call's task (wired into value) down a channel.",
    ),
    NodeKind(
        "csp.consume",
        "consume",
        "CSP",
        [],
        [PropSpec("var", "names", "t"), _channel("the channel it receives from")],
        frame=True,
        allowed_in=W,
        summary=titles.consume,
        doc="with consume(ch) as t: the children run per received item.",
    ),
    NodeKind(
        "csp.close",
        "close",
        "CSP",
        [],
        [_channel("the channel it closes")],
        allowed_in=W,
        name_base="close",
        summary=titles.close,
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
        doc="connect([processes], [channels]): its children are the processes.",
    ),
]
