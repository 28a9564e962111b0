"""CSP primitives and events (spec §3.7, §7; DESIGN §6 "Channels").

Channels, processes, ``send`` and ``consume`` describe pipeline-parallel workloads. Inside a
``@workload`` body they record statements (``SendNode``, ``ConsumeNode``, ``CloseNode``...); the
backend runs them. Semantics decided for this build:

* ``send`` blocks while the channel is full (back-pressure); ``send(ch, x, block=False)`` raises
  ``ChannelFull`` at run time instead. ``ch.close()`` ends a channel: a later ``send`` raises
  ``ChannelClosed`` and consumers finish. ``depth=0`` is a rendezvous channel.
* ``send(ch, kernel[i](...))`` moves the kernel call into the send: the call is the task that
  produces the item.
* A ``with consume(ch) as t`` block binds ``t`` to the item's sequence number (0, 1, ...), so
  ``compute[t](...)`` indexes by it. Outside any process it forms a process of its own (see
  ``pto_wsp.language.workload``).

Events (spec §7) are rendezvous signals. Inside a workload, ``record(e)``/``synchronize(e)``
record statements and ``query(e)`` returns a predicate for ``P.when``. OUTSIDE a workload they
act on host-side state, one pending signal per ``record``: ``record(e)`` adds a signal,
``synchronize(e)`` takes one and returns — or, when there is none, raises ``ExecutionError``
naming the event (nothing on the host could ever signal it, so waiting would hang forever) —
and ``query(e)`` tells whether a signal is pending without taking it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from ..errors import ChannelError, ExecutionError, SourceLoc, TypeCheckError, user_location
from . import _builder
from .scalar_expr import LoopVar, ScalarExpr
from .workload import builder
from .workload.loops import place_process, trace_body
from .workload.nodes import (
    CloseNode,
    ConnectNode,
    ConsumeNode,
    ProcessNode,
    RecordNode,
    SendNode,
    SyncNode,
    channel_use,
    is_kernel_call,
)
from .workload.recording import Scope, close_scope, target_names
from .workload.traced import Workload, was_recorded

__all__ = [
    "Channel",
    "Process",
    "process",
    "send",
    "consume",
    "connect",
    "replicate",
    "Event",
    "EventQuery",
    "record",
    "synchronize",
    "query",
]

_channel_ids = itertools.count()
_event_ids = itertools.count()


# ======================================================================================
# Channel
# ======================================================================================


def _check_depth(depth: Any, loc: SourceLoc | None) -> int:
    if isinstance(depth, bool | np.bool_) or not isinstance(depth, int | np.integer):
        raise ChannelError(f"Channel depth must be an int >= 0, got {depth!r}", loc=loc)
    if depth < 0:
        raise ChannelError(
            f"Channel depth must be >= 0 (0 = rendezvous), got {int(depth)}", loc=loc
        )
    return int(depth)


def _check_latency(latency: Any, name: str, loc: SourceLoc | None) -> int:
    if isinstance(latency, bool | np.bool_) or not isinstance(latency, int | np.integer):
        raise TypeCheckError(
            f"Channel {name}: latency must be an int number of cycles >= 0, got {latency!r}",
            loc=loc,
        )
    if latency < 0:
        raise TypeCheckError(
            f"Channel {name}: latency must be >= 0 cycles, got {int(latency)}", loc=loc
        )
    return int(latency)


class _TypedChannel:
    """``Channel[Tile]``: a constructor that records the element type."""

    def __init__(self, elem_type: Any):
        self.elem_type = elem_type

    def __call__(
        self, name: str | None = None, depth: int | None = None, latency: int | None = None
    ) -> Channel:
        return Channel(name, depth, latency, elem_type=self.elem_type)

    def __repr__(self) -> str:
        return f"Channel[{getattr(self.elem_type, '__name__', self.elem_type)}]"


class Channel:
    """A bounded FIFO between processes: ``Channel("l2c", depth=2)``, ``Channel[Tile](depth=2)``.

    ``depth`` is the number of items it buffers (default 1; 0 = rendezvous). A channel created
    without a depth takes the depth of a ``P.pipe(depth=N)`` that uses it. ``latency`` is the
    number of cycles an item takes to cross the channel (an int >= 0; ``None``, the default, is
    0): an item sent by a task ending at cycle t can be received from t + latency on
    (docs/semantics.md "CSP execution"). ``latency_given`` tells whether it was given.
    """

    def __class_getitem__(cls, elem_type: Any) -> _TypedChannel:
        return _TypedChannel(elem_type)

    def __init__(
        self,
        name: str | None = None,
        depth: int | None = None,
        latency: int | None = None,
        *,
        elem_type: Any = None,
    ):
        loc = user_location()
        if name is not None and not isinstance(name, str):
            raise TypeCheckError(
                f"Channel(name, depth): name must be a str, got {type(name).__name__} "
                "(pass the depth as depth=...)",
                loc=loc,
            )
        self.name = name if name else f"ch{next(_channel_ids)}"
        self.depth_given = depth is not None
        self.depth = _check_depth(depth, loc) if depth is not None else 1
        self.latency_given = latency is not None
        self.latency = _check_latency(latency, self.name, loc) if latency is not None else 0
        self.elem_type = elem_type
        self.loc = loc
        self._pipe_depth: int | None = None

    def _apply_default_depth(self, depth: int, loc: SourceLoc | None) -> None:
        """Called by ``P.pipe(depth=N)`` for each channel its processes use."""
        if self.depth_given:
            return
        if self._pipe_depth is not None and self._pipe_depth != depth:
            raise ChannelError(
                f"channel {self.name} is used by pipelines of depth {self._pipe_depth} and "
                f"{depth}; give the channel an explicit depth",
                loc=loc,
            )
        self._pipe_depth = depth
        self.depth = depth

    def close(self) -> CloseNode:
        """End the channel (inside a workload: records a ``CloseNode``)."""
        return _builder.record(CloseNode(self, user_location()), f"{self.name}.close()")

    def __repr__(self) -> str:
        elem = "" if self.elem_type is None else f"[{_type_name(self.elem_type)}]"
        lat = f", latency={self.latency}" if self.latency else ""
        return f"Channel{elem}({self.name!r}, depth={self.depth}{lat})"


def _check_channel(ch: Any, what: str, loc: SourceLoc | None) -> Channel:
    if not isinstance(ch, Channel):
        raise TypeCheckError(f"{what} takes a Channel, got {type(ch).__name__}", loc=loc)
    return ch


# ======================================================================================
# send / consume
# ======================================================================================


def _is_tensor_value(v: Any) -> bool:
    return hasattr(v, "dtype") and (hasattr(v, "root") or hasattr(v, "index_items"))


def send(ch: Channel, value: Any, block: bool = True) -> Any:
    """Send ``value`` (a kernel call, a tensor / view, or None for a bare token) on ``ch``.

    Records a ``SendNode`` and returns it; outside a workload (the reference builder style,
    ``send(ch, task(...))``) it returns a ``Workload`` holding the send."""
    loc = user_location()
    _check_channel(ch, "send(ch, value)", loc)
    if not isinstance(block, bool):
        raise TypeCheckError(f"send(..., block=) takes a bool, got {block!r}", loc=loc)
    if builder.outside_workload():
        return builder.build("send", lambda: _send(ch, value, block, loc), f"send_{ch.name}", loc)
    return _send(ch, value, block, loc)


def _send(ch: Channel, value: Any, block: bool, loc: SourceLoc | None) -> SendNode:
    scope = _builder.current()
    assert scope is not None  # send() checked it
    if isinstance(value, Workload):
        value = _sent_task(value, scope, loc)
    if is_kernel_call(value):
        remove = getattr(scope, "remove", None)
        if remove is None or not remove(value):
            raise TypeCheckError(
                "send(ch, call): the kernel call must be made in the same block as the send "
                "(e.g. send(ch, load[i](...)))",
                loc=loc,
            )
    elif value is not None and not _is_tensor_value(value):
        raise TypeCheckError(
            f"send(ch, value): value must be a kernel call, a tensor or None, got "
            f"{type(value).__name__}",
            loc=loc,
        )
    _check_element_type(ch, value, loc)
    node = SendNode(ch, value, block, loc)
    scope.append(node)
    return node


def _sent_task(w: Workload, scope: Any, loc: SourceLoc | None) -> Any:
    """The kernel call a workload sent by the builder style (``send(ch, task(...))`` outside a
    workload) stands for: it must hold exactly one task. A task recorded in this scope stays
    there, for ``send`` to move it."""
    stmts = w.statements()
    if len(stmts) != 1 or not is_kernel_call(stmts[0]):
        raise TypeCheckError(
            f"send(ch, workload): a sent workload must be a single task, got {w!r}", loc=loc
        )
    if not was_recorded(w, scope):
        scope.append(stmts[0])
    return stmts[0]


def _type_name(t: Any) -> str:
    return repr(t) if not isinstance(t, type) else t.__name__


def _describe_item(value: Any) -> str:
    """What ``send`` was given, for messages: the value's kind, shape and dtype."""
    if value is None:
        return "None (a bare token)"
    if is_kernel_call(value):
        outs = ", ".join(_describe_item(v) for v in _call_outputs(value)) or "no outputs"
        return f"a call of kernel {value.kernel.name} (writing {outs})"
    dtype = getattr(getattr(value, "dtype", None), "value", getattr(value, "dtype", "?"))
    return f"{type(value).__name__} {dtype}{list(getattr(value, 'shape', ()))}"


def _call_outputs(call: Any) -> list[Any]:
    """The tensors / views a kernel call writes (its ``Out`` and ``InOut`` arguments)."""
    return [
        call.args[p.name]
        for p in call.kernel.signature
        if p.is_data and p.direction in ("out", "inout") and p.name in call.args
    ]


def _any_data(elem_type: Any) -> bool:
    """``Channel[Tile]`` / ``Channel[Tensor]``: any data item (a kernel call's result, a tensor
    or a view: a view of a tensor is a tile of it)."""
    from .kernel import Tile
    from .tensor import Tensor, TensorView

    return elem_type is Tile or elem_type is Tensor or elem_type is TensorView


def _item_matches(elem_type: Any, item: Any) -> bool:
    """Whether one tensor / view is an element of ``Channel[elem_type]``."""
    from .kernel import Tile
    from .types import DType

    if _any_data(elem_type):
        return True
    if isinstance(elem_type, Tile):
        shape = tuple(getattr(item, "shape", ()) or ())
        try:
            dtype = DType.from_any(item.dtype)
        except (TypeCheckError, AttributeError):
            return False
        return shape == elem_type.shape and dtype is elem_type.dtype
    return False


def _check_element_type(ch: Channel, value: Any, loc: SourceLoc | None) -> None:
    """``Channel[T]`` carries items of type T (DESIGN §6, "Silently ignored is a bug").

    The item of a send is the tensor / view it names, the tile its kernel call produces, or a
    bare token for ``None``. ``Channel[Tile]`` and ``Channel[Tensor]`` take any tensor, view or
    kernel call (spec §3.7 sends ``load[i](data)`` on a ``Channel[Tile]``);
    ``Channel[Tile[r, c, dt]]`` takes a tensor / view of that shape and dtype, or a call one of
    whose ``Out`` / ``InOut`` arguments is one; ``Channel[type(None)]`` bare tokens and
    ``Channel[Any]`` anything. Any other T can hold no value the DSL can send, so every send on
    it is an error.
    """
    elem = ch.elem_type
    if elem is None or elem is Any:
        return
    if value is None:
        ok = elem is type(None)
    elif _any_data(elem):
        ok = True
    elif is_kernel_call(value):
        ok = any(_item_matches(elem, v) for v in _call_outputs(value))
    else:
        ok = _item_matches(elem, value)
    if not ok:
        raise TypeCheckError(
            f"send on channel {ch.name}: the channel is Channel[{_type_name(elem)}] "
            f"(expected {_type_name(elem)} items), got {_describe_item(value)}",
            loc=loc,
        )


class _Consume:
    """``with consume(ch) as item:`` — the body runs once per received item."""

    def __init__(self, ch: Channel, loc: SourceLoc | None):
        self.ch = ch
        self.loc = loc
        self._scope: Scope | None = None
        self._parent: Any = None
        self.node: ConsumeNode | None = None

    def __enter__(self) -> LoopVar:
        import sys

        names = target_names(sys._getframe(1), "")
        return self._open(names[0] if names and len(names) == 1 else None)

    def _open(self, name: str | None) -> LoopVar:
        parent = _builder.current()
        if parent is None:
            raise TypeCheckError(
                f"consume({self.ch.name}) must be used inside a @workload function", loc=self.loc
            )
        var = LoopVar(name or f"{self.ch.name}_item", None)
        # The reference builder's consume binds the sent task's first axis (workload.builder).
        first_axis = bool(getattr(parent, "builder", False))
        self.node = ConsumeNode(self.ch, var, [], self.loc, first_axis)
        var.loop = self.node
        self._parent = parent
        self._scope = Scope("consume", parent, in_process=True)
        _builder.push(self._scope)
        return var

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        assert self._scope is not None and self.node is not None
        close_scope(self._scope)
        if exc_type is not None:
            return False
        self.node.body = self._scope.nodes
        parent = self._parent
        if getattr(parent, "in_process", False) or getattr(parent, "kind", None) == "pipe":
            parent.append(self.node)
        else:
            consumes, produces = channel_use([self.node])
            proc = ProcessNode(
                f"consume_{self.ch.name}", consumes, produces, [self.node], 1, self.loc
            )
            place_process(parent, proc)
        return False


def consume(ch: Channel, fn: Callable[[LoopVar], Any] | None = None) -> Any:
    """``with consume(ch) as t: ...`` or ``consume(ch, lambda t: ...)`` (same scope rules).

    Outside a workload ``consume(ch, fn)`` is the reference builder style: it returns a
    ``Workload`` holding the consume block, for ``process(n).body(...)``."""
    loc = user_location()
    _check_channel(ch, "consume(ch)", loc)
    cm = _Consume(ch, loc)
    if fn is None:
        return cm
    if not callable(fn):
        raise TypeCheckError(
            f"consume(ch, fn): fn must be callable, got {type(fn).__name__}", loc=loc
        )
    if builder.outside_workload():
        return builder.build(
            "consume", lambda: _consume_with(cm, fn), f"consume_{ch.name}", loc, fn
        )
    return _consume_with(cm, fn)


def _consume_with(cm: _Consume, fn: Callable[[LoopVar], Any]) -> ConsumeNode | None:
    in_builder = bool(getattr(_builder.current(), "builder", False))
    var = cm._open(_first_parameter(fn) if in_builder else None)
    try:
        builder.adopt(fn(var), cm._scope, f"consume({cm.ch.name}, fn)", cm.loc)
    except BaseException as e:
        cm.__exit__(type(e), e, e.__traceback__)
        raise
    cm.__exit__(None, None, None)
    return cm.node


def _first_parameter(fn: Any) -> str | None:
    """The name of ``fn``'s first parameter (``lambda t: ...`` -> ``t``): in the builder style
    the consume variable's name, as a ``with consume(ch) as t`` target names it."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_argcount < 1:
        return None
    return str(code.co_varnames[0])


# ======================================================================================
# process / replicate / connect
# ======================================================================================


class Process:
    """Builder of a CSP process: ``process("loader").produces(ch).body(fn)``.

    Each method returns a new builder. ``body`` takes a no-argument function (traced at once, in
    a process context), a ``@workload`` without parameters, or a traced ``Workload``.
    """

    def __init__(
        self,
        name: str,
        consumes: tuple[Channel, ...] = (),
        produces: tuple[Channel, ...] = (),
        body: list[Any] | None = None,
        replicas: int = 1,
        loc: SourceLoc | None = None,
    ):
        self.name = name
        self.consumed = consumes
        self.produced = produces
        self.statements = body
        self.replicas = replicas
        self.loc = loc

    def _with(self, **changes: Any) -> Process:
        fields: dict[str, Any] = dict(
            name=self.name,
            consumes=self.consumed,
            produces=self.produced,
            body=self.statements,
            replicas=self.replicas,
            loc=self.loc,
        )
        fields.update(changes)
        return Process(**fields)

    def consumes(self, *channels: Channel) -> Process:
        loc = user_location()
        chs = tuple(_check_channel(c, f"process({self.name}).consumes", loc) for c in channels)
        return self._with(consumes=self.consumed + chs)

    def produces(self, *channels: Channel) -> Process:
        loc = user_location()
        chs = tuple(_check_channel(c, f"process({self.name}).produces", loc) for c in channels)
        return self._with(produces=self.produced + chs)

    def body(self, fn_or_workload: Any) -> Process:
        loc = user_location()
        if self.statements is not None:
            raise TypeCheckError(f"process({self.name}) already has a body", loc=loc)
        stmts = trace_body(fn_or_workload, f"process({self.name}).body", _builder.current(), loc)
        return self._with(body=stmts)

    def to_node(self) -> ProcessNode:
        """The ``ProcessNode``; checks the body uses only the declared channels."""
        if self.statements is None:
            raise TypeCheckError(f"process({self.name}) has no body; add .body(...)", loc=self.loc)
        used_in, used_out = channel_use(self.statements)
        for ch in used_in:
            if not any(c is ch for c in self.consumed):
                raise ChannelError(
                    f"process {self.name} consumes channel {ch.name} without declaring it: "
                    f"add .consumes({ch.name})",
                    loc=self.loc,
                )
        for ch in used_out:
            if not any(c is ch for c in self.produced):
                raise ChannelError(
                    f"process {self.name} sends on channel {ch.name} without declaring it: "
                    f"add .produces({ch.name})",
                    loc=self.loc,
                )
        return ProcessNode(
            self.name,
            list(self.consumed),
            list(self.produced),
            list(self.statements),
            self.replicas,
            self.loc,
        )

    def __repr__(self) -> str:
        ins = ", ".join(c.name for c in self.consumed)
        outs = ", ".join(c.name for c in self.produced)
        rep = f" x{self.replicas}" if self.replicas != 1 else ""
        return f"<process {self.name}{rep} ({ins}) -> ({outs})>"


def process(name: str) -> Process:
    """Start a process builder (spec §3.7)."""
    loc = user_location()
    if not isinstance(name, str) or not name:
        raise TypeCheckError(f"process(name) takes a non-empty str, got {name!r}", loc=loc)
    return Process(name, loc=loc)


def replicate(proc: Process | ProcessNode, n: int) -> Process | ProcessNode:
    """``n`` instances of a process sharing its channels (spec §3.7)."""
    loc = user_location()
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise TypeCheckError(f"replicate(process, n): n must be an int >= 1, got {n!r}", loc=loc)
    if isinstance(proc, Process):
        return proc._with(replicas=int(n))
    if isinstance(proc, ProcessNode):
        return replace(proc, replicas=int(n))
    raise TypeCheckError(f"replicate takes a process, got {type(proc).__name__}", loc=loc)


def connect(
    processes: Iterable[Process | ProcessNode],
    channels: Iterable[Channel],
    name: str = "pipeline",
) -> Workload:
    """Wire processes and channels into a Pipeline workload (``.start()`` / ``.join()``).

    Every channel a process uses must be listed, and every listed channel needs at least one
    producer and one consumer among the processes (otherwise the pipeline could only deadlock).
    """
    loc = user_location()
    for what, given in (("processes", processes), ("channels", channels)):
        if isinstance(given, str) or not isinstance(given, Iterable):
            raise TypeCheckError(
                f"connect(processes, channels): {what} must be a list, got {type(given).__name__}",
                loc=loc,
            )
    nodes: list[ProcessNode] = []
    for p in processes:
        if isinstance(p, Process):
            nodes.append(p.to_node())
        elif isinstance(p, ProcessNode):
            nodes.append(p)
        else:
            raise TypeCheckError(
                f"connect(processes, channels): expected processes, got {type(p).__name__}",
                loc=loc,
            )
    chans = [_check_channel(c, "connect(processes, channels)", loc) for c in channels]
    if not nodes:
        raise TypeCheckError("connect(...) needs at least one process", loc=loc)
    names = [n.name for n in nodes]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise TypeCheckError(f"connect(...): duplicate process names {dupes}", loc=loc)
    for node in nodes:
        for ch in [*node.consumes, *node.produces]:
            if not any(c is ch for c in chans):
                raise ChannelError(
                    f"process {node.name} uses channel {ch.name}, which is not in connect's "
                    "channel list",
                    loc=loc,
                )
    for ch in chans:
        producers = [n.name for n in nodes if any(c is ch for c in n.produces)]
        consumers = [n.name for n in nodes if any(c is ch for c in n.consumes)]
        if not producers or not consumers:
            missing = "producer" if not producers else "consumer"
            raise ChannelError(
                f"channel {ch.name} has no {missing} among the connected processes "
                f"({', '.join(names)})",
                loc=loc,
            )
    connection = ConnectNode(nodes, chans, loc)
    scope = _builder.current()
    if scope is not None:
        scope.append(connection)
    return Workload(name, [connection], {}, None, loc=loc)


# ======================================================================================
# Events (spec §7)
# ======================================================================================


class Event:
    """A rendezvous signal between parts of a workload, or between host code (see module doc)."""

    def __init__(self, name: str | None = None):
        loc = user_location()
        if name is not None and not isinstance(name, str):
            raise TypeCheckError(f"Event(name) takes a str, got {type(name).__name__}", loc=loc)
        self.name = name if name else f"ev{next(_event_ids)}"
        self.loc = loc
        self._lock = threading.Lock()
        self._pending = 0

    def __repr__(self) -> str:
        return f"Event({self.name!r})"


class EventQuery(ScalarExpr):
    """``query(event)`` inside a workload: a predicate (kind ``event_query``, args = (event,))."""

    __slots__ = ()

    def __init__(self, event: Event):
        super().__init__("event_query", args=(event,), name=event.name)

    def __str__(self) -> str:
        return f"query({self.name})"


def _check_event(e: Any, what: str, loc: SourceLoc | None) -> Event:
    if not isinstance(e, Event):
        raise TypeCheckError(f"{what} takes an Event, got {type(e).__name__}", loc=loc)
    return e


def _recorded(node: RecordNode | SyncNode) -> bool:
    """Append an event statement to the open workload scope; False outside a workload, where
    ``record``/``synchronize`` act on the host side instead."""
    scope = _builder.current()
    if scope is None:
        return False
    scope.append(node)
    return True


def record(event: Event) -> RecordNode | None:
    """Signal ``event`` (a workload statement inside a workload; host signal outside)."""
    loc = user_location()
    _check_event(event, "record(event)", loc)
    node = RecordNode(event, loc)
    if _recorded(node):
        return node
    with event._lock:
        event._pending += 1
    return None


def synchronize(event: Event) -> SyncNode | None:
    """Wait for ``event`` (a statement inside a workload; see the module doc outside)."""
    loc = user_location()
    _check_event(event, "synchronize(event)", loc)
    node = SyncNode(event, loc)
    if _recorded(node):
        return node
    with event._lock:
        if event._pending == 0:
            raise ExecutionError(
                f"synchronize({event.name}): the event has not been recorded and nothing on "
                "the host can record it while this call waits (it would block forever)",
                loc=loc,
            )
        event._pending -= 1
    return None


def query(event: Event) -> Any:
    """Inside a workload: a ``P.when`` predicate; outside: whether a signal is pending."""
    loc = user_location()
    _check_event(event, "query(event)", loc)
    if _builder.current() is not None:
        return EventQuery(event)
    with event._lock:
        return event._pending > 0
