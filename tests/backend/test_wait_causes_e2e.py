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

    program = run(w())
    loads, stores = kernel_rows(program, "load"), kernel_rows(program, "store")
    assert loads["start"].tolist() == [0, 48, 96, 144]
    assert stores["start"].tolist() == [16, 64, 112, 160]
    assert [c for _, c, _ in why(loads)] == ["none"] + ["channel_full"] * 3
    assert [c for _, c, _ in why(stores)] == ["channel_empty"] * 4
    check_chrome_flows(chrome_trace(program.trace, program.kernel_names))


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
    (b,) = kernel_rows(program, "store")
    assert why(np.asarray([b])) == [(128, "event", None)]


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
