"""Gating causes recorded for DSL programs on cpu_sim: the driver's clocks (P.seq and
``sequential`` barriers, channels, events) reach the simulator with their kind and gate task.

Cycles use the default cost table: an empty-body kernel costs the elements of its ``In`` views
plus those of its ``Out`` views (test_csp_e2e.py derives the channel timings used here).
"""

from __future__ import annotations

import numpy as np

from pto_wsp import (
    Channel,
    DispatchPolicy,
    Event,
    In,
    Out,
    P,
    Tensor,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    allreduce,
    connect,
    consume,
    kernel,
    process,
    record,
    send,
    synchronize,
    workload,
)
from pto_wsp.runtime.chrome_check import check_chrome_flows
from pto_wsp.runtime.trace import by_task, chrome_trace
from pto_wsp.runtime.trace_analysis import critical_path
from pto_wsp.runtime.wait_causes import NO_GATE, WAIT_CAUSES

F32 = np.float32


@kernel
def load(input: In[Tensor], buf: Out[Tensor]): ...


@kernel
def store(result: In[Tensor], output: Out[Tensor]): ...


def run(w, workers: int = 4):
    program = w.dispatch(DispatchPolicy.round_robin(workers)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def why(tr: np.ndarray) -> list[tuple[int, str, int | None]]:
    return [
        (
            int(r["start"]),
            WAIT_CAUSES[int(r["cause"])].name,
            None if r["gate"] == NO_GATE else int(r["gate"]),
        )
        for r in tr
    ]


def kernel_rows(program, name: str) -> np.ndarray:
    tr = program.runner.trace()
    rows = tr[tr["kernel"] == program.runner.kernel_names.index(name)]
    return rows[np.argsort(rows["idx0"], kind="stable")]


def ids(rows: np.ndarray) -> list[int]:
    return [int(t) for t in rows["task"]]


def check_gates(program) -> None:
    """Every gate names a task that ends no later than the gated task starts, and the Chrome
    export's flows (one per gated task) validate."""
    tr = by_task(program.runner.trace())
    gated = tr[tr["gate"] != NO_GATE]
    assert (tr["end"][gated["gate"].astype(np.int64)] <= gated["start"]).all()
    check_chrome_flows(chrome_trace(program.trace, program.kernel_names))


def test_seq_barrier_names_the_previous_steps_last_task() -> None:
    x = Tensor(np.zeros((3, 8), F32))
    y = Tensor(np.zeros((3, 8), F32))

    @workload
    def w():
        for i in P.seq(3):
            load[i](input=x[i], buf=y[i])  # 8 + 8 = 16 cycles each, on workers 0, 1, 2

    tr = by_task(run(w()).trace)
    assert why(tr) == [(0, "none", None), (16, "barrier", 0), (32, "barrier", 1)]
    assert critical_path(tr).tasks == (0, 1, 2)


def test_channel_full_and_empty() -> None:
    # depth 1, producer tasks 16 cycles, consumer tasks 32: item k+1 is reserved when the
    # consumer releases item k (channel full); the consumer takes item k when it is committed
    # (channel empty). load k: 48k..48k+16; store k: 48k+16..48k+48. The consumer reads other
    # data than the producer writes, so no data bound ties with the channel's.
    x = Tensor(np.zeros((4, 8), F32))
    buf = Tensor(np.zeros(8, F32))
    z = Tensor(np.zeros((4, 8), F32))
    y = Tensor(np.zeros((4, 24), F32))
    ch = Channel("bp", depth=1)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(4):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=z[t], output=y[t])

    program = run(w(), workers=8)
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    assert loads["start"].tolist() == [0, 48, 96, 144]
    assert stores["start"].tolist() == [16, 64, 112, 160]
    # load k waited for the slot store k-1 held: gated by store k-1 (its release); store k
    # waited for item k: gated by load k, the sending task.
    L, S = ids(loads), ids(stores)
    assert why(loads) == [(0, "none", None)] + [
        (48 * k, "channel_full", S[k - 1]) for k in (1, 2, 3)
    ]
    assert why(stores) == [(48 * k + 16, "channel_empty", L[k]) for k in range(4)]
    check_gates(program)


def test_depth_2_consumer_slower_gates_the_send_on_the_release_two_items_back() -> None:
    # load 8 + 8 = 16 cycles, store 24 + 24 = 48. Depth 2: load 0 0..16, load 1 16..32 (a free
    # slot: the P.seq barrier, gated by load 0). load 2 reserves at 32 with items 0 (held by
    # store 0, 16..64) and 1 queued: full until store 0 releases at 64 -> load 2 64..80, gated by
    # store 0. load 3 reserves at 80: items 1 (store 1, 64..112) and 2 -> 112, gated by store 1.
    # store 0 takes item 0 at 16 (channel empty, gated by load 0); later items are queued before
    # the consumer is free, so store k starts at store k-1's end (the consume loop's barrier):
    # 64, 112, 160.
    x = Tensor(np.zeros((4, 8), F32))
    buf = Tensor(np.zeros(8, F32))
    z = Tensor(np.zeros((4, 24), F32))
    y = Tensor(np.zeros((4, 24), F32))
    ch = Channel("db", depth=2)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(4):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=z[t], output=y[t])

    program = run(w(), workers=8)
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    L, S = ids(loads), ids(stores)
    assert why(loads) == [
        (0, "none", None),
        (16, "barrier", L[0]),
        (64, "channel_full", S[0]),
        (112, "channel_full", S[1]),
    ]
    assert why(stores) == [
        (16, "channel_empty", L[0]),
        (64, "barrier", S[0]),
        (112, "barrier", S[1]),
        (160, "barrier", S[2]),
    ]
    check_gates(program)


def test_depth_2_producer_slower_gates_each_receive_on_its_sending_task() -> None:
    # load 16 + 16 = 32 cycles, store 8 + 8 = 16. The consumer is idle when each item arrives:
    # load k 32k..32k+32 (P.seq barrier after load k-1; two slots are never both held), store k
    # takes item k at its commit, 32k + 32 (channel empty, gated by load k).
    x = Tensor(np.zeros((4, 16), F32))
    buf = Tensor(np.zeros(16, F32))
    z = Tensor(np.zeros((4, 8), F32))
    y = Tensor(np.zeros((4, 8), F32))
    ch = Channel("db", depth=2)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(4):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=z[t], output=y[t])

    program = run(w(), workers=8)
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    L = ids(loads)
    assert why(loads) == [(0, "none", None)] + [(32 * k, "barrier", L[k - 1]) for k in (1, 2, 3)]
    assert why(stores) == [(32 * k + 32, "channel_empty", L[k]) for k in range(4)]
    check_gates(program)


def test_depth_1_producer_slower_and_a_latency() -> None:
    # load 32 cycles, store 16, depth 1, latency 10: item k committed at load k's end arrives
    # 10 cycles later. load 0 0..32; store 0 takes at 42 (gated by load 0: its end + latency),
    # 42..58. load 1 reserves at 32 while item 0 holds the slot until 58: channel full, gated by
    # store 0 -> 58..90; store 1 at 100 (load 1). Period 58: load k at 58k, store k at 58k + 42.
    x = Tensor(np.zeros((3, 16), F32))
    buf = Tensor(np.zeros(16, F32))
    z = Tensor(np.zeros((3, 8), F32))
    y = Tensor(np.zeros((3, 8), F32))
    ch = Channel("slow", depth=1, latency=10)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(3):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=z[t], output=y[t])

    program = run(w(), workers=8)
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    L, S = ids(loads), ids(stores)
    assert why(loads) == [(0, "none", None)] + [(58 * k, "channel_full", S[k - 1]) for k in (1, 2)]
    assert why(stores) == [(58 * k + 42, "channel_empty", L[k]) for k in range(3)]
    check_gates(program)


def test_a_data_bound_equal_to_the_channel_bound_wins_the_tie() -> None:
    # As above, but the consumer reads the producer's buffer: load k+1 overwrites what store k
    # read, a WAR bound at store k's end, the same cycle the channel slot is released.
    x = Tensor(np.zeros((4, 8), F32))
    buf = Tensor(np.zeros(8, F32))
    y = Tensor(np.zeros((4, 24), F32))
    ch = Channel("bp", depth=1)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(4):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=buf, output=y[t])

    program = run(w())
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    assert loads["start"].tolist() == [0, 48, 96, 144]
    assert why(loads)[1:] == [(48 * k, "war", int(stores["task"][k - 1])) for k in (1, 2, 3)]


def test_event_wait() -> None:
    x = Tensor(np.zeros(64, F32))
    y = Tensor(np.zeros(64, F32))
    done = Event("done")

    def first():
        load[0](input=x, buf=x)  # 128 cycles
        record(done)

    def second():
        synchronize(done)
        store[0](result=y, output=y)

    program = run(connect([process("first").body(first), process("second").body(second)], []))
    (a,) = kernel_rows(program, "load")
    (b,) = kernel_rows(program, "store")
    # the recorder's clock at record(done) is load's end (128): the gate is load.
    assert why(np.asarray([b])) == [(128, "event", int(a["task"]))]
    check_gates(program)


def test_event_recorded_after_a_later_task_names_that_task() -> None:
    # first runs two tasks one after the other (a process's statements are steps): load
    # 64 + 64 = 128 cycles, 0..128, then store 128..256, and records at 256. second waits: its
    # task starts at 256, gated by first's store (the recorder's last task), not by load.
    x = Tensor(np.zeros(64, F32))
    y = Tensor(np.zeros(64, F32))
    w2 = Tensor(np.zeros(64, F32))
    done = Event("done")

    def first():
        load[0](input=x, buf=x)
        store[0](result=y, output=y)
        record(done)

    def second():
        synchronize(done)
        load[1](input=w2, buf=w2)

    program = run(connect([process("first").body(first), process("second").body(second)], []))
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    assert why(stores) == [(128, "barrier", ids(loads)[0])]
    assert why(loads[1:]) == [(256, "event", ids(stores)[0])]
    check_gates(program)


def test_data_dependency_between_tasks() -> None:
    x = Tensor(np.zeros((2, 8), F32))
    y = Tensor(np.zeros((2, 8), F32))

    @workload
    def w():
        for i in P(2):
            load[i](input=x[i], buf=y[i])  # workers 0, 1: 16 cycles
        for i in P(2):
            store[i](result=y[1 - i], output=x[i])  # reads the other task's output

    # store i reads y[1 - i] (RAW on load 1 - i, ends 16) and writes x[i], which load i read
    # (WAR, also 16): the tie goes to RAW, first in the list.
    tr = by_task(run(w()).trace)
    assert why(tr) == [(0, "none", None), (0, "none", None), (16, "raw", 1), (16, "raw", 0)]


def test_a_collective_gang_waits_for_its_busiest_tile_and_its_reader_for_the_gang() -> None:
    # A mesh of 4 tiles (round robin: task k on worker k). load writes all of x (32 + 32 = 64
    # cycles on worker 0); an unrelated load on worker 1 takes 128 + 128 = 256 cycles. The
    # allreduce of x is one gang on every tile: ready at 64 (RAW on x from task 0) but worker 1
    # is busy until 256, so all 4 records start at 256, cause worker, gated by task 1. Its cost
    # on 4 tiles with local blocks of 2 x 4 = 8 elements (ring steps of ceil(8 / 4) = 2, hop 16,
    # link 1, add 1): 2 * 3 * (16 + 2) + 3 * 2 = 114 -> it ends at 370. store reads block 0 of
    # the result: RAW on the gang, start 370.
    layout = TensorLayout((TensorShard(0), TensorReplicate()))
    a = Tensor(np.ones((8, 4), F32))
    x = Tensor(np.zeros((8, 4), F32), layout=layout, name="x")
    b = Tensor(np.ones((8, 16), F32))
    c = Tensor(np.zeros((8, 16), F32))
    out = Tensor(np.zeros((2, 4), F32))

    @workload
    def w():
        load[0](input=a, buf=x)
        load[1](input=b, buf=c)
        total = allreduce(x)
        store[0](result=total[0:2, :], output=out)

    program = run(w().spatial_map(grid=(4,)), workers=4)
    tr = by_task(program.trace)
    names = program.kernel_names
    gang = tr[tr["kernel"] == names.index("allreduce")]
    assert sorted(gang["worker"].tolist()) == [0, 1, 2, 3]
    assert why(gang) == [(256, "worker", 1)] * 4
    assert set(gang["end"].tolist()) == {370}
    (reader,) = tr[tr["kernel"] == names.index("store")]
    assert int(reader["start"]) == 370 and WAIT_CAUSES[int(reader["cause"])].name == "raw"
    assert int(reader["gate"]) in set(gang["task"].tolist())
    check_gates(program)
