"""Emit and verify for CSP programs: the ascend_npu expander runs a pipeline's processes as
coroutines under a cooperative schedule and issues their tasks in one sequential order of the
process network (docs/ptoisa.md, "CSP on the device"); the kernels, compiled against real PTO-ISA
in CPU simulation mode and run in that order on the host, leave what cpu_sim leaves.

Each program has real kernels and a numpy model of the sequential program (item 0's stages, then
item 1's, ...): cpu_sim equals the model, and the host run equals cpu_sim bit for bit (the
kernels use exact ops only, so a task run on the wrong item's data could not hide in a bound). Shared
staging buffers (spec §8.3's ``tile_buf``, a rotating buffer on cpu_sim), per-item regions,
replicated consumers and events between processes are covered. Skipped, with the reason, only
where no PTO-ISA root or no clang++ >= 19 is found (``tests/ptoisa_env.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ptoisa_env import ptoisa_root, skip_reason

from pto_wsp import (
    Channel,
    DenseDyn,
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
    pto,
    record,
    replicate,
    send,
    synchronize,
    workload,
)
from pto_wsp.runtime.ptoisa_verify import VerifyReport, verify_workload

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))

F32 = np.float32
N, ROWS, COLS = 5, 4, 8


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))


@kernel
def twice_k(x: In[Tensor], buf: Out[Tensor]):
    pto.store(buf, pto.add(pto.load(x), pto.load(x)))


@kernel
def negsq_k(buf: In[Tensor], res: Out[Tensor]):
    pto.store(res, pto.mul(pto.neg(buf), buf))


@kernel
def square_k(res: In[Tensor], out: Out[Tensor]):
    pto.store(out, pto.mul(res, res))


@kernel
def plus_k(a: In[Tensor], b: In[Tensor], out: Out[Tensor]):
    pto.store(out, pto.add(a, b))


def source(seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((N, ROWS, COLS)).astype(F32)


def verified(w: Any, tensors: dict[str, Tensor], want: dict[str, np.ndarray]) -> VerifyReport:
    """cpu_sim equals the numpy model, and the host run against PTO-ISA equals cpu_sim."""
    before = {k: t.data.copy() for k, t in tensors.items()}
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    for k, t in tensors.items():
        np.testing.assert_array_equal(t.data, want[k], err_msg=k)
        t.data[...] = before[k]
    report = verify_workload(w, pto_isa_root=ptoisa_root())
    assert report.ok, report.text()
    by_name = {t.name: t for t in report.tensors}
    for k in tensors:
        assert by_name[k].bit_equal, report.text()
    assert all(k.tasks > 0 for k in report.kernels), report.text()
    return report


def test_two_processes_share_a_staging_buffer() -> None:
    """Spec §8.3's form: every item's send writes the same staging buffer (depth 2: a rotating
    buffer on cpu_sim); the consumer reads it for the item before the next one overwrites it."""
    src = source()
    x = Tensor(src, name="x")
    stage = Tensor(np.full((ROWS, COLS), -7.0, F32), name="stage")
    out = Tensor(np.zeros((N, ROWS, COLS), F32), name="out")
    work = Channel("work", depth=2)

    def producer():
        for i in P.seq(DenseDyn(N)):
            send(work, twice_k[i](x=x[i], buf=stage))

    def consumer():
        with consume(work) as t:
            negsq_k[t](buf=stage, res=out[t])

    w = connect(
        [
            process("producer").produces(work).body(producer),
            process("consumer").consumes(work).body(consumer),
        ],
        [work],
    )
    verified(
        w.dispatch(DispatchPolicy.round_robin(2)),
        {"stage": stage, "out": out},
        {"stage": src[-1] + src[-1], "out": -((src + src) * (src + src))},
    )


def test_three_stage_pipe_with_shared_buffers() -> None:
    """The megakernel pipeline (P.pipe with a loader, a computer and a storer) with real
    kernels: two shared staging buffers, the storer writes a region per item."""
    src = source(5)
    inp = Tensor(src, name="inp")
    tile_buf = Tensor(np.zeros((ROWS, COLS), F32), name="tile_buf")
    result_buf = Tensor(np.zeros((ROWS, COLS), F32), name="result_buf")
    output = Tensor(np.zeros((N, ROWS, COLS), F32), name="output")
    l2c = Channel("l2c", depth=2)
    c2s = Channel("c2s", depth=2)

    @workload
    def pipeline():
        with P.pipe(depth=2):
            for i in P.seq(DenseDyn(N)):
                send(l2c, twice_k[i](x=inp[i], buf=tile_buf))
            with consume(l2c) as t:
                send(c2s, negsq_k[t](buf=tile_buf, res=result_buf))
            with consume(c2s) as r:
                square_k[r](res=result_buf, out=output[r])

    res = -((src + src) * (src + src))
    verified(
        pipeline().dispatch(DispatchPolicy.round_robin(1)),
        {"tile_buf": tile_buf, "result_buf": result_buf, "output": output},
        {"tile_buf": src[-1] + src[-1], "result_buf": res[-1], "output": res * res},
    )


def test_replicated_consumers_write_their_items() -> None:
    src = source(7)
    x = Tensor(src, name="x")
    stage = Tensor(np.zeros((N, ROWS, COLS), F32), name="stage")
    out = Tensor(np.zeros((N, ROWS, COLS), F32), name="out")
    work = Channel("work", depth=N)

    def producer():
        for i in P.seq(DenseDyn(N)):
            send(work, twice_k[i](x=x[i], buf=stage[i]))

    def worker():
        with consume(work) as t:
            square_k[t](res=stage[t], out=out[t])

    w = connect(
        [
            process("producer").produces(work).body(producer),
            replicate(process("worker").consumes(work).body(worker), 2),
        ],
        [work],
    )
    twice = src + src
    verified(w, {"stage": stage, "out": out}, {"stage": twice, "out": twice * twice})


def test_an_event_orders_a_reader_after_its_writer() -> None:
    """The reader is spawned first and waits in synchronize until the writer recorded."""
    src = source(9)
    x = Tensor(src[0], name="x")
    mid = Tensor(np.zeros((ROWS, COLS), F32), name="mid")
    out = Tensor(np.zeros((ROWS, COLS), F32), name="out")
    done = Event("done")

    def reader():
        synchronize(done)
        plus_k[0](a=mid, b=x, out=out)

    def writer():
        twice_k[0](x=x, buf=mid)
        record(done)

    w = connect([process("reader").body(reader), process("writer").body(writer)], [])
    verified(w, {"mid": mid, "out": out}, {"mid": src[0] * 2, "out": src[0] * 3})
