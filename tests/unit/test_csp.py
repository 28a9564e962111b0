"""CSP channels, pipelines, processes, events and slots (spec §3.7, §3.8, §7, §8.3)."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.errors import ChannelError, ExecutionError, TypeCheckError
from pto_wsp.language.axes import Dense, DenseDyn
from pto_wsp.language.csp import (
    Channel,
    Event,
    EventQuery,
    connect,
    consume,
    process,
    query,
    record,
    replicate,
    send,
    synchronize,
)
from pto_wsp.language.kernel import In, KernelCall, Out, Tile, kernel
from pto_wsp.language.scalar_expr import LoopVar, slot_u64
from pto_wsp.language.slots import slot_load_u64, slot_set_u64
from pto_wsp.language.tensor import Tensor
from pto_wsp.language.workload import (
    CloseNode,
    CondNode,
    ConnectNode,
    ConsumeNode,
    LoopNode,
    P,
    PipeNode,
    ProcessNode,
    RecordNode,
    SendNode,
    SlotLoadNode,
    SlotSetNode,
    SyncNode,
    Workload,
    workload,
)

HERE = __file__

inp = Tensor(np.zeros((8, 16), np.float32))
tile_buf = Tensor(np.zeros((16,), np.float32))
result_buf = Tensor(np.zeros((16,), np.float32))
output = Tensor(np.zeros((16,), np.float32))
routes = Tensor(np.zeros((4, 2), np.int64))


@kernel
def load(input: In[Tensor], buf: Out[Tensor]): ...


@kernel
def compute(buf: In[Tensor], result: Out[Tensor]): ...


@kernel
def store(result: In[Tensor], output: Out[Tensor]): ...


def line_of(text: str) -> int:
    with open(HERE) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError(text)


# ---------------------------------------------------------------------------------------
# channels
# ---------------------------------------------------------------------------------------


def test_channel_construction():
    a = Channel("load_to_compute", depth=2)
    assert (a.name, a.depth, a.depth_given, a.elem_type) == ("load_to_compute", 2, True, None)
    b = Channel(depth=0)
    assert b.depth == 0 and b.name.startswith("ch")
    c = Channel()
    assert c.depth == 1 and not c.depth_given and c.name != b.name
    t = Channel[Tile](depth=2)
    assert isinstance(t, Channel) and t.elem_type is Tile and t.depth == 2
    assert "Tile" in repr(t)


def test_channel_bad_arguments():
    with pytest.raises(ChannelError, match=">= 0") as ei:
        Channel("x", depth=-1)  # neg-depth-line
    assert ei.value.loc.line == line_of("neg-depth-line")
    with pytest.raises(ChannelError):
        Channel("x", depth=1.5)
    with pytest.raises(TypeCheckError, match="depth="):
        Channel(2)


def test_consume_block_and_close_outside_workload_are_errors():
    """``send`` outside a workload is the reference builder style (test_builder_style.py); a
    ``with consume(ch)`` block and ``close`` have no builder form."""
    ch = Channel("c")
    with pytest.raises(TypeCheckError, match="inside a @workload") as ei:
        with consume(ch):  # consume-outside-line
            pass
    assert ei.value.loc.line == line_of("consume-outside-line")
    with pytest.raises(TypeCheckError):
        ch.close()


# ---------------------------------------------------------------------------------------
# pipelines
# ---------------------------------------------------------------------------------------


def test_spec_8_3_megakernel_pipeline_shape():
    l2c = Channel("load_to_compute", depth=2)
    c2s = Channel("compute_to_store", depth=2)

    @workload
    def pipeline(num_tiles):
        tiles = DenseDyn(num_tiles)
        with P.pipe():
            for i in P.seq(tiles):
                send(l2c, load[i](input=inp[i], buf=tile_buf))
        with consume(l2c) as t:
            send(c2s, compute[t](buf=tile_buf, result=result_buf))
        with consume(c2s) as r:
            store[r](result=result_buf, output=output)

    w = pipeline(8)
    assert w.dep_type == "Pipeline"
    (pipe,) = w.root
    assert isinstance(pipe, PipeNode)
    loader, computer, storer = pipe.processes
    assert (loader.consumes, loader.produces) == ([], [l2c])
    assert (computer.consumes, computer.produces) == ([l2c], [c2s])
    assert (storer.consumes, storer.produces) == ([c2s], [])
    assert len({p.name for p in pipe.processes}) == 3
    # the loader is the seq loop; the kernel call moved into the send
    (loop,) = loader.body
    assert isinstance(loop, LoopNode) and loop.kind == "seq"
    (snd,) = loop.body
    assert isinstance(snd, SendNode) and snd.block
    assert isinstance(snd.value, KernelCall) and snd.value.kernel is load
    # consumers bind the item variable with the Python name
    (cons,) = computer.body
    assert isinstance(cons, ConsumeNode) and cons.channel is l2c
    assert isinstance(cons.var, LoopVar) and cons.var.name == "t" and cons.var.loop is cons
    assert isinstance(cons.body[0], SendNode) and cons.body[0].value.axes[0] is cons.var
    assert storer.body[0].var.name == "r"
    assert isinstance(storer.body[0].body[0], KernelCall)


def test_spec_3_7_pipe_with_consumer_inside():
    ch = Channel[Tile](depth=2)

    @kernel
    def use(buf: In[Tensor], result: Out[Tensor]): ...

    @workload
    def pipeline(tiles):
        with P.pipe():
            for i in P.seq(tiles):
                send(ch, load[i](input=inp[i], buf=tile_buf))
            with consume(ch) as tile:
                use[tile](tile_buf, result_buf)

    (pipe,) = pipeline(Dense[4]).root
    producer, consumer = pipe.processes
    assert producer.produces == [ch] and consumer.consumes == [ch]
    assert isinstance(consumer.body[0], ConsumeNode)
    assert consumer.body[0].var.name == "tile"


def test_pipe_depth_fills_channels_without_explicit_depth():
    implicit = Channel("implicit")
    explicit = Channel("explicit", depth=3)

    @workload
    def pipeline(tiles):
        with P.pipe(depth=4):
            for i in P.seq(tiles):
                send(implicit, load[i](input=inp[i], buf=tile_buf))
                send(explicit, None)
            with consume(implicit) as a:
                compute[a](tile_buf, result_buf)
            with consume(explicit):
                pass

    (pipe,) = pipeline(Dense[4]).root
    assert pipe.depth == 4
    assert implicit.depth == 4 and explicit.depth == 3

    @workload
    def other(tiles):
        with P.pipe(depth=2):
            for _i in P.seq(tiles):
                send(implicit, None)

    with pytest.raises(ChannelError, match="explicit depth"):
        other(Dense[2])
    with pytest.raises(TypeCheckError, match="depth"):
        P.pipe(depth=-1)


def test_workload_level_consume_absorbs_preceding_producers():
    ch = Channel("c", depth=1)

    @workload
    def no_pipe(tiles):
        for i in P.seq(tiles):
            send(ch, load[i](input=inp[i], buf=tile_buf))
        with consume(ch) as t:
            compute[t](tile_buf, result_buf)

    w = no_pipe(Dense[4])
    (pipe,) = w.root
    assert isinstance(pipe, PipeNode)
    assert [p.produces for p in pipe.processes] == [[ch], []]
    assert [p.consumes for p in pipe.processes] == [[], [ch]]


def test_consume_with_function_and_inside_process():
    ch = Channel("c")
    out = Channel("o")

    @workload
    def fn_style(tiles):
        with P.pipe():
            for _i in P.seq(tiles):
                send(ch, None)
            consume(ch, lambda item: send(out, tile_buf))
            with consume(out):
                with consume(ch) as y:  # nested inside a process: a plain statement
                    compute[y](tile_buf, result_buf)

    (pipe,) = fn_style(Dense[2]).root
    assert len(pipe.processes) == 3
    second = pipe.processes[1]
    assert second.consumes == [ch] and second.produces == [out]
    assert second.body[0].var.name == "c_item"
    third = pipe.processes[2]
    assert third.consumes == [out, ch]
    inner = third.body[0].body[0]
    assert isinstance(inner, ConsumeNode) and inner.var.name == "y"


def test_send_value_rules_and_close():
    ch = Channel("c")

    @workload
    def bad_value():
        with P.pipe():
            send(ch, 3)

    with pytest.raises(TypeCheckError, match="kernel call, a tensor or None"):
        bad_value()

    @workload
    def bad_channel():
        send("c", None)

    with pytest.raises(TypeCheckError, match="Channel"):
        bad_channel()

    @workload
    def nonblocking_and_close(tiles):
        for _i in P.seq(tiles):
            send(ch, tile_buf, block=False)
        ch.close()

    stmts = nonblocking_and_close(Dense[2]).root
    assert stmts[0].body[0].block is False and stmts[0].body[0].value is tile_buf
    assert isinstance(stmts[1], CloseNode) and stmts[1].channel is ch


def test_pipe_with_stage_functions():
    ch = Channel("s", depth=2)

    def producer():
        for i in P.seq(Dense[4]):
            send(ch, load[i](input=inp[i], buf=tile_buf))

    def consumer():
        with consume(ch) as t:
            compute[t](tile_buf, result_buf)

    @workload
    def staged():
        P.pipe([producer, consumer])

    (pipe,) = staged().root
    assert [p.name for p in pipe.processes] == ["stage0", "stage1"]
    assert pipe.processes[0].produces == [ch] and pipe.processes[1].consumes == [ch]


# ---------------------------------------------------------------------------------------
# process / connect / replicate
# ---------------------------------------------------------------------------------------


def _builder_pipeline():
    ch = Channel("work", depth=2)
    out = Channel("out", depth=2)

    def load_body():
        for i in P.seq(Dense[4]):
            send(ch, load[i](input=inp[i], buf=tile_buf))

    def compute_body():
        with consume(ch) as t:
            send(out, compute[t](buf=tile_buf, result=result_buf))

    def store_body():
        with consume(out) as r:
            store[r](result=result_buf, output=output)

    loader = process("loader").produces(ch).body(load_body)
    computer = process("computer").consumes(ch).produces(out).body(compute_body)
    storer = process("storer").consumes(out).body(store_body)
    return ch, out, loader, computer, storer


def test_connect_builds_pipeline_workload():
    ch, out, loader, computer, storer = _builder_pipeline()
    pipeline = connect([loader, replicate(computer, 4), storer], [ch, out])
    assert isinstance(pipeline, Workload) and pipeline.dep_type == "Pipeline"
    (node,) = pipeline.root
    assert isinstance(node, ConnectNode) and node.channels == [ch, out]
    names = [(p.name, p.replicas) for p in node.processes]
    assert names == [("loader", 1), ("computer", 4), ("storer", 1)]
    assert all(isinstance(p, ProcessNode) for p in node.processes)
    assert node.processes[1].consumes == [ch] and node.processes[1].produces == [out]
    assert computer.replicas == 1  # builders are immutable
    assert hasattr(pipeline, "start") and hasattr(pipeline, "join")


def test_connect_validation():
    ch, out, loader, computer, storer = _builder_pipeline()
    with pytest.raises(ChannelError, match="not in connect's channel list"):
        connect([loader, computer, storer], [ch])
    with pytest.raises(ChannelError, match="no consumer"):
        connect([loader], [ch])
    with pytest.raises(TypeCheckError, match="no body"):
        connect([process("empty").consumes(ch)], [ch])
    undeclared = process("sneaky").body(lambda: consume(ch, lambda t: None))
    with pytest.raises(ChannelError, match="consumes\\(work\\)"):
        connect([loader, undeclared], [ch])
    with pytest.raises(TypeCheckError, match="duplicate"):
        connect([loader, computer, computer, storer], [ch, out])
    with pytest.raises(TypeCheckError, match="n must be"):
        replicate(computer, 0)
    with pytest.raises(TypeCheckError, match="already has a body"):
        loader.body(lambda: None)


# ---------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------


def test_events_inside_workload_record_nodes_and_query_is_predicate():
    done = Event("sync")

    @workload
    def evented(n):
        for i in P(n):
            load[i](inp[i], tile_buf)
            record(done)
        synchronize(done)
        with P.when(query(done)):
            compute(tile_buf, result_buf)

    stmts = evented(Dense[2]).root
    assert isinstance(stmts[0].body[1], RecordNode) and stmts[0].body[1].event is done
    assert isinstance(stmts[1], SyncNode)
    assert isinstance(stmts[2], CondNode)
    pred = stmts[2].branches[0][0]
    assert isinstance(pred, EventQuery) and pred.kind == "event_query"
    assert pred.args[0] is done and str(pred) == "query(sync)"


def test_events_outside_workload_are_host_signals():
    e = Event("host")
    assert query(e) is False
    with pytest.raises(ExecutionError, match="host") as ei:
        synchronize(e)  # never-recorded-line
    assert ei.value.loc.line == line_of("never-recorded-line")
    record(e)
    record(e)
    assert query(e) is True
    synchronize(e)
    assert query(e) is True
    synchronize(e)
    assert query(e) is False
    with pytest.raises(TypeCheckError, match="Event"):
        record("host")
    assert Event().name != Event().name


# ---------------------------------------------------------------------------------------
# slots
# ---------------------------------------------------------------------------------------


def test_slots_record_nodes():
    @workload
    def routed(batch):
        for b in P(batch):
            slot_set_u64(1, b * 2)
            slot_load_u64(0, routes[b], row=0, col=1)
            with P.when(slot_u64(0) == 3):
                compute[b](tile_buf, result_buf)

    (loop,) = routed(Dense[4]).root
    s, ld, cond = loop.body
    assert isinstance(s, SlotSetNode) and s.slot == 1 and str(s.value) == "b * 2"
    assert isinstance(ld, SlotLoadNode) and ld.slot == 0
    assert (ld.row.value, ld.col.value) == (0, 1)
    assert ld.view.root is routes
    assert str(cond.branches[0][0]) == "slot(0) == 3"


def test_slot_errors(monkeypatch):
    from pto_wsp.language.workload import builder

    monkeypatch.setattr(builder, "_warned", set())  # the first use of the form warns
    # outside a workload: the reference builder style (tests/unit/test_builder_style.py)
    with pytest.warns(DeprecationWarning, match="builder style"):
        assert isinstance(slot_set_u64(0, 1).root[0], SlotSetNode)
    with pytest.warns(DeprecationWarning, match="builder style"):
        with pytest.raises(TypeCheckError, match="Tensor"):
            slot_load_u64(0, [1, 2, 3])

    @workload
    def bad_slot():
        slot_set_u64(-1, 1)

    with pytest.raises(TypeCheckError, match="slot must be"):
        bad_slot()

    @workload
    def bad_view():
        slot_load_u64(0, [1, 2, 3])

    with pytest.raises(TypeCheckError, match="Tensor"):
        bad_view()
