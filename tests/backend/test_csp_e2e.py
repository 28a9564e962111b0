"""CSP on cpu_sim end to end: pipelines, back-pressure, rotating buffers, deadlock, events.

Cycle derivations use the default cost table: an empty-body kernel costs the elements of its
``In`` views plus those of its ``Out`` views; a traced kernel costs its ops (r*c each for
load / elementwise / store, an implicit load of an ``In`` parameter r*c). The channel model is
docs/semantics.md "CSP execution": a send reserves a slot before its task runs and commits the
item at the task's end; a consumer frees the slot when its body iteration for the item ends.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    DenseDyn,
    DispatchPolicy,
    Event,
    In,
    Out,
    P,
    Tensor,
    _core,
    connect,
    consume,
    kernel,
    process,
    pto,
    query,
    record,
    replicate,
    send,
    synchronize,
    workload,
)
from pto_wsp.errors import ChannelClosed, ChannelFull, DeadlockError

F32 = np.float32


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fails the test instead of hanging: a deadlock must be diagnosed, never waited out."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("the run did not finish within 60 s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run(w, workers: int | None = None):
    if workers is not None:
        w = w.dispatch(DispatchPolicy.round_robin(workers))
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def tasks_of(program, kernel_name: str) -> np.ndarray:
    """Trace records of one kernel, ordered by their first loop index."""
    names = program.runner.kernel_names
    tr = program.runner.trace()
    rows = tr[tr["kernel"] == names.index(kernel_name)]
    return rows[np.argsort(rows["idx0"], kind="stable")]


# ---- kernels (empty bodies: cost = In elements + Out elements) ---------------------------------


@kernel
def load(input: In[Tensor], buf: Out[Tensor]): ...


@kernel
def compute(buf: In[Tensor], result: Out[Tensor]): ...


@kernel
def store(result: In[Tensor], output: Out[Tensor]): ...


# ---- spec §8.3: megakernel pipeline -------------------------------------------------------------


def test_megakernel_pipeline_spec_8_3():
    num = 6
    input = Tensor(np.ones((num, 16, 16), F32))
    tile_buf = Tensor(np.zeros((16, 16), F32))
    result_buf = Tensor(np.zeros((16, 16), F32))
    output = Tensor(np.zeros((num, 16, 16), F32))
    l2c = Channel("load_to_compute", depth=2)
    c2s = Channel("compute_to_store", depth=2)

    @workload
    def pipeline(num_tiles):
        tiles = DenseDyn(num_tiles)
        with P.pipe():
            for i in P.seq(tiles):
                send(l2c, load[i](input=input[i], buf=tile_buf))
        with consume(l2c) as t:
            send(c2s, compute[t](buf=tile_buf, result=result_buf))
        with consume(c2s) as r:
            store[r](result=result_buf, output=output[r])

    program = run(pipeline(num), workers=1 + 2)
    stats = program.stats()
    assert stats.task_count == 3 * num
    ld, cp, st = (tasks_of(program, k) for k in ("load", "compute", "store"))
    assert len(ld) == len(cp) == len(st) == num
    for i in range(num):
        assert ld["end"][i] <= cp["start"][i], f"compute {i} starts before load {i} ends"
        assert cp["end"][i] <= st["start"][i], f"store {i} starts before compute {i} ends"
    # Every task costs 256 + 256 = 512 cycles; run one after another they would take 18 * 512.
    sequential = 3 * num * 512
    assert stats.total_cycles < sequential
    # Steady state: one item per 512 cycles after a 2-stage fill.
    assert stats.total_cycles == (num + 2) * 512
    trace = program.runner.csp_trace()
    assert trace["channels"] == ["load_to_compute", "compute_to_store"]
    occ = trace["occupancy"]
    assert int(occ["occupancy"].max()) == 2  # double buffering fills both slots
    assert int(occ["occupancy"][-1]) == 0


# ---- spec §3.7: P.pipe producer / consumer ------------------------------------------------------


def test_pipe_producer_consumer_spec_3_7():
    n = 5
    data = Tensor(np.arange(n * 16, dtype=F32).reshape(n, 2, 8))
    buf = Tensor(np.zeros((2, 8), F32))
    out = Tensor(np.zeros((n, 2, 8), F32))
    ch = Channel(depth=2)

    @kernel
    def load_t(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.load(x))

    @kernel
    def compute_t(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.mul(x, x))

    @workload
    def pipeline(tiles):
        with P.pipe():
            for i in P.seq(DenseDyn(tiles)):
                send(ch, load_t[i](x=data[i], y=buf))
            with consume(ch) as tile:
                compute_t[tile](x=buf, y=out[tile])

    program = run(pipeline(n))
    np.testing.assert_array_equal(out.data, data.data * data.data)
    assert program.stats().task_count == 2 * n


# ---- back-pressure --------------------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "expected"), [(0, 4 * 48), (1, 4 * 48), (4, 16 + 4 * 32)])
def test_back_pressure_depth_changes_cycles(depth: int, expected: int):
    """Producer task 8 + 8 = 16 cycles, consumer task 8 + 24 = 32 cycles, 4 items.

    depth 1: the producer reserves item k+1 only when the consumer releases item k, so items
    do not overlap: 4 * (16 + 32) = 192. depth 0 (rendezvous): a reservation also needs the
    consumer waiting at its consume, which it reaches when it released the previous item: 192. depth 4: the producer never waits; the consumer runs
    back to back after the first item: 16 + 4 * 32 = 144.
    """
    x = Tensor(np.zeros((4, 8), F32))
    buf = Tensor(np.zeros(8, F32))
    y = Tensor(np.zeros((4, 24), F32))
    ch = Channel("bp", depth=depth)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(4):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=buf, output=y[t])

    program = run(w(), workers=4)
    assert program.stats().total_cycles == expected
    waits = program.runner.csp_trace()["waits"]
    send_waits = waits[waits["kind"] == _core.csp.WAIT_SEND]
    if depth <= 1:
        # The producer waits 32 cycles (the consumer's task) before items 1, 2 and 3.
        assert len(send_waits) == 3
        assert np.all(send_waits["end"] - send_waits["start"] == 32)
    else:
        assert len(send_waits) == 0


# ---- numerics of a 3-stage pipeline with a shared staging buffer --------------------------------


def test_three_stage_numerics_with_rotating_buffers():
    rng = np.random.default_rng(7)
    num = 7
    src = rng.standard_normal((num, 8, 16)).astype(F32)
    input = Tensor(src.copy())
    stage = Tensor(np.zeros((8, 16), F32))  # shared by every item: needs rotation
    result = Tensor(np.zeros((8, 16), F32))
    output = Tensor(np.zeros((num, 8, 16), F32))
    l2c = Channel("l2c", depth=2)
    c2s = Channel("c2s", depth=3)

    @kernel
    def load_k(x: In[Tensor], buf: Out[Tensor]):
        pto.store(buf, pto.mul(pto.load(x), pto.load(x)))

    @kernel
    def compute_k(buf: In[Tensor], res: Out[Tensor]):
        pto.store(res, pto.exp(pto.neg(buf)))

    @kernel
    def store_k(res: In[Tensor], out: Out[Tensor]):
        pto.store(out, pto.add(res, res))

    @workload
    def pipeline(n):
        with P.pipe():
            for i in P.seq(DenseDyn(n)):
                send(l2c, load_k[i](x=input[i], buf=stage))
        with consume(l2c) as t:
            send(c2s, compute_k[t](buf=stage, res=result))
        with consume(c2s) as r:
            store_k[r](res=result, out=output[r])

    run(pipeline(num), workers=3)
    expected = 2.0 * np.exp(-(src * src))
    np.testing.assert_allclose(output.data, expected, rtol=1e-5, atol=1e-6)
    # The user's staging arrays receive the last value written through them.
    np.testing.assert_allclose(stage.data, src[-1] * src[-1], rtol=1e-6)
    np.testing.assert_allclose(result.data, np.exp(-(src[-1] * src[-1])), rtol=1e-5)


# ---- deadlock -------------------------------------------------------------------------------------


def test_wait_cycle_is_a_deadlock_error(deadline: None):
    x = Tensor(np.zeros(4, F32))
    a = Channel("a_to_b", depth=1)
    b = Channel("b_to_a", depth=1)

    def body_a():
        with consume(b) as t:
            send(a, load[t](input=x, buf=x))

    def body_b():
        with consume(a) as t:
            send(b, load[t](input=x, buf=x))

    pa = process("ping").consumes(b).produces(a).body(body_a)
    pb = process("pong").consumes(a).produces(b).body(body_b)
    w = connect([pa, pb], [a, b])
    program = w.compile(target="cpu_sim")
    program.execute()
    with pytest.raises(DeadlockError) as info:
        program.synchronize()
    msg = str(info.value)
    for word in ("ping", "pong", "a_to_b", "b_to_a", "deadlock at cycle 0"):
        assert word in msg, msg
    # The engine's facts as data, and the message rendered from them.
    d = info.value.details
    assert isinstance(d, _core.csp.Deadlock)
    assert d.cycle == 0 and sorted(d.wait_cycle) == ["ping", "pong"]
    sides = {w.process: (w.kind, w.channel, w.event) for w in d.waits}
    assert sides == {
        "ping": (_core.csp.WaitKind.TAKE, "b_to_a", ""),
        "pong": (_core.csp.WaitKind.TAKE, "a_to_b", ""),
    }
    assert msg.endswith(d.message) and d.message.startswith("deadlock at cycle 0: wait cycle ")
    assert set(info.value.processes) == {"ping", "pong"}
    assert set(info.value.channels) == {"a_to_b", "b_to_a"} and info.value.events == ()


def test_consumer_without_producer_is_a_deadlock_error(deadline: None):
    x = Tensor(np.zeros(4, F32))
    lonely = Channel("lonely", depth=2)
    ev = Event("never")

    def body_c():
        with consume(lonely) as t:
            load[t](input=x, buf=x)

    def body_s():
        synchronize(ev)
        send(lonely, load[0](input=x, buf=x))

    pc = process("reader").consumes(lonely).body(body_c)
    ps = process("writer").produces(lonely).body(body_s)
    program = connect([pc, ps], [lonely]).compile(target="cpu_sim")
    program.execute()
    with pytest.raises(DeadlockError) as info:
        program.synchronize()
    msg = str(info.value)
    assert "reader" in msg and "lonely" in msg and "writer" in msg and "never" in msg, msg
    d = info.value.details
    # A synchronize waits for any live process: reader -> writer -> reader is the cycle.
    assert sorted(d.wait_cycle) == ["reader", "writer"]
    by = {w.process: w for w in d.waits}
    assert by["reader"].kind == _core.csp.WaitKind.TAKE and by["reader"].channel == "lonely"
    assert by["writer"].kind == _core.csp.WaitKind.EVENT and by["writer"].event == "never"
    assert not by["reader"].unfed  # "writer" produces to it, it just never gets there
    assert info.value.events == ("never",) and info.value.channels == ("lonely",)
    assert set(info.value.processes) == {"reader", "writer"}


def test_driver_synchronize_without_record_is_a_deadlock_error(deadline: None):
    x = Tensor(np.zeros(4, F32))
    ev = Event("never_recorded")

    @workload
    def w():
        synchronize(ev)
        load[0](input=x, buf=x)

    program = w().compile(target="cpu_sim")
    program.execute()
    with pytest.raises(DeadlockError) as info:
        program.synchronize()
    d = info.value.details
    (wait,) = d.waits
    assert (wait.process, wait.kind, wait.event) == ("", _core.csp.WaitKind.EVENT, "never_recorded")
    assert wait.where  # the driver's statement
    assert "in the driver waits for a record" in str(info.value)
    assert info.value.events == ("never_recorded",) and info.value.processes == ()


# ---- channel errors -------------------------------------------------------------------------------


def test_send_after_close_raises_channel_closed():
    x = Tensor(np.zeros(4, F32))
    ch = Channel("shut", depth=4)

    def producer():
        send(ch, load[0](input=x, buf=x))
        ch.close()
        send(ch, load[1](input=x, buf=x))

    def consumer():
        with consume(ch) as t:
            store[t](result=x, output=x)

    w = connect(
        [process("p").produces(ch).body(producer), process("c").consumes(ch).body(consumer)],
        [ch],
    )
    program = w.compile(target="cpu_sim")
    program.execute()
    with pytest.raises(ChannelClosed, match="closed channel shut"):
        program.synchronize()


def test_nonblocking_send_on_full_channel_raises_channel_full():
    x = Tensor(np.zeros(4, F32))
    big = Tensor(np.zeros(4096, F32))
    ch = Channel("tight", depth=1)

    def producer():
        for i in P.seq(3):
            send(ch, load[i](input=x, buf=x), block=False)

    def consumer():
        with consume(ch) as t:
            store[t](result=x, output=big)  # slow: 4 + 4096 cycles

    w = connect(
        [process("p").produces(ch).body(producer), process("c").consumes(ch).body(consumer)],
        [ch],
    )
    program = w.compile(target="cpu_sim")
    program.execute()
    with pytest.raises(ChannelFull, match="tight"):
        program.synchronize()


def test_nonblocking_send_with_room_succeeds():
    x = Tensor(np.zeros(4, F32))
    ch = Channel("roomy", depth=4)

    def producer():
        for i in P.seq(3):
            send(ch, load[i](input=x, buf=x), block=False)

    def consumer():
        with consume(ch) as t:
            store[t](result=x, output=x)

    w = connect(
        [process("p").produces(ch).body(producer), process("c").consumes(ch).body(consumer)],
        [ch],
    )
    assert run(w).stats().task_count == 6


# ---- events ---------------------------------------------------------------------------------------


def test_events_order_tasks_across_processes():
    x = Tensor(np.zeros(64, F32))
    y = Tensor(np.zeros(64, F32))
    done = Event("done")

    def first():
        load[0](input=x, buf=x)  # 128 cycles
        record(done)

    def second():
        synchronize(done)
        store[0](result=y, output=y)

    w = connect([process("first").body(first), process("second").body(second)], [])
    program = run(w, workers=4)
    (a,) = tasks_of(program, "load")
    (b,) = tasks_of(program, "store")
    assert b["start"] >= a["end"] == 128
    assert program.stats().total_cycles == 256
    waits = program.runner.csp_trace()["waits"]
    assert len(waits) == 1 and waits[0]["end"] - waits[0]["start"] == 128


def test_query_is_a_predicate_in_simulated_time():
    x = Tensor(np.zeros(8, F32))
    flag = Event("flag")
    seen = Tensor(np.zeros((1, 2), F32))

    @kernel
    def mark(y: Out[Tensor]):
        pto.store(y, pto.constant(1.0, F32))

    def early():
        with P.when(query(flag)):  # at cycle 0 nothing has been recorded yet
            mark[0](y=seen[:, 0:1])

    def late():
        load[0](input=x, buf=x)  # 16 cycles
        record(flag)
        load[1](input=x, buf=x)
        with P.when(query(flag)):
            mark[1](y=seen[:, 1:2])

    w = connect([process("early").body(early), process("late").body(late)], [])
    run(w)
    assert seen.data.tolist() == [[0.0, 1.0]]


# ---- replicate ------------------------------------------------------------------------------------


def test_replicate_spreads_items_over_instances():
    n = 8
    src = Tensor(np.arange(n * 16, dtype=F32).reshape(n, 2, 8))
    out = Tensor(np.zeros((n, 2, 8), F32))
    work = Channel("work", depth=n)

    @kernel
    def square(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.mul(x, x))

    def generator():
        for _i in P.seq(n):
            send(work, None)

    def worker():
        with consume(work) as t:
            square[t](x=src[t], y=out[t])

    gen = process("generator").produces(work).body(generator)
    wk = process("worker").consumes(work).body(worker)
    program = run(connect([gen, replicate(wk, 4)], [work]), workers=4)
    np.testing.assert_array_equal(out.data, src.data * src.data)
    trace = program.runner.csp_trace()
    assert trace["processes"] == ["generator"] + [f"worker[{k}]" for k in range(4)]
    # square costs 16 (implicit load) + 16 (mul) + 16 (store) = 48 cycles; 8 items on 4
    # instances and 4 workers: two rounds.
    assert program.stats().total_cycles == 2 * 48
    assert len(set(program.runner.trace()["worker"].tolist())) == 4


# ---- a pipeline inside a sequential loop ----------------------------------------------------------


def test_pipeline_in_a_seq_loop_sees_the_outer_variable():
    rng = np.random.default_rng(3)
    src_np = rng.standard_normal((2, 3, 2, 8)).astype(F32)
    src = Tensor(src_np.copy())
    stage = Tensor(np.zeros((2, 8), F32))
    out = Tensor(np.zeros((2, 3, 2, 8), F32))
    ch = Channel("inner", depth=2)

    @kernel
    def twice(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.add(x, x))

    @kernel
    def plus_one(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.add(x, pto.constant(1.0, F32)))

    @workload
    def w():
        for b in P.seq(2):
            with P.pipe():
                for i in P.seq(3):
                    send(ch, twice[b, i](x=src[b, i], y=stage))
                with consume(ch) as t:
                    plus_one[b, t](x=stage, y=out[b, t])

    program = run(w(), workers=2)
    np.testing.assert_allclose(out.data, 2 * src_np + 1, rtol=1e-6)
    assert program.stats().task_count == 12
    # The second pipeline starts after the first ends (P.seq step barrier).
    trace = program.runner.csp_trace()
    assert len(trace["processes"]) == 4
    assert trace["process_start"][2] == max(trace["process_end"][:2])
