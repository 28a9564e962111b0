"""Staging buffers of cpu_sim pipelines: what the user's arrays hold after a ``P.pipe`` run.

docs/semantics.md "CSP execution", "Rotating buffers". A tensor written by the task sent on a
channel of depth d >= 2 is either

- written in place, when every item writes its own region (``buf=stage[i]``): nothing is
  redirected, so every row the program writes is in the user's array afterwards; or
- a rotating buffer of d copies, when the items share it (spec §8.3's ``tile_buf``): the pipeline
  does not serialise on it, and afterwards the user's array holds what the sequential program
  leaves in it (the last item's data).

Each numeric test is checked against a numpy model of the sequential program (item 0's stages,
then item 1's, ...), for the staging array and for the consumer's outputs. Cycle counts are
derived by hand from the default cost table (an empty-body kernel costs the elements of its
``In`` views plus those of its ``Out`` views), never from wall time.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    DenseDyn,
    DispatchPolicy,
    In,
    InOut,
    Out,
    P,
    Tensor,
    connect,
    consume,
    kernel,
    process,
    pto,
    replicate,
    send,
    workload,
)
from pto_wsp.errors import CompileError

F32 = np.float32
N = 6  # items
ROWS, COLS = 4, 8
DEPTHS = (1, 2, 3, 4)
SENTINEL = -7.0  # initial value of every staging array: a row left unwritten keeps it


@kernel
def scale_k(x: In[Tensor], buf: Out[Tensor]):
    pto.store(buf, pto.add(pto.load(x), pto.load(x)))


@kernel
def exp_k(buf: In[Tensor], res: Out[Tensor]):
    pto.store(res, pto.exp(pto.neg(buf)))


@kernel
def square_k(res: In[Tensor], out: Out[Tensor]):
    pto.store(out, pto.mul(res, res))


# Empty bodies: cost = In elements + Out elements (32 + 32 = 64 cycles for a 4x8 view).
@kernel
def load_e(x: In[Tensor], buf: Out[Tensor]): ...


@kernel
def use_e(buf: In[Tensor], out: Out[Tensor]): ...


def run(w, workers: int = 4):
    program = w.dispatch(DispatchPolicy.round_robin(workers)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def source() -> np.ndarray:
    return np.random.default_rng(11).standard_normal((N, ROWS, COLS)).astype(F32)


# ---- the numpy model of the sequential program -----------------------------------------------


def sequential_two_stage(src: np.ndarray, indexed: bool) -> tuple[np.ndarray, np.ndarray]:
    """(stage, out) after: for i: stage[i or :] = 2 src[i]; out[i] = exp(-stage[i or :])."""
    stage = np.full((N, ROWS, COLS) if indexed else (ROWS, COLS), SENTINEL, F32)
    out = np.zeros((N, ROWS, COLS), F32)
    for i in range(N):
        if indexed:
            stage[i] = src[i] + src[i]
            out[i] = np.exp(-stage[i])
        else:
            stage[:] = src[i] + src[i]
            out[i] = np.exp(-stage)
    return stage, out


def sequential_three_stage(src: np.ndarray, indexed: bool):
    """(stage, res, out) of load -> exp -> square, staging indexed or shared."""
    shape = (N, ROWS, COLS) if indexed else (ROWS, COLS)
    stage = np.full(shape, SENTINEL, F32)
    res = np.full(shape, SENTINEL, F32)
    out = np.zeros((N, ROWS, COLS), F32)
    for i in range(N):
        s = src[i] + src[i]
        r = np.exp(-s)
        if indexed:
            stage[i], res[i] = s, r
        else:
            stage[:], res[:] = s, r
        out[i] = r * r
    return stage, res, out


# ---- two stages: producer -> consumer ----------------------------------------------------------


def two_stage(src: np.ndarray, depth: int, indexed: bool):
    input = Tensor(src.copy())
    stage = Tensor(np.full((N, ROWS, COLS) if indexed else (ROWS, COLS), SENTINEL, F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("l2c", depth=depth)

    if indexed:

        @workload
        def pipeline(n):
            with P.pipe():
                for i in P.seq(DenseDyn(n)):
                    send(ch, scale_k[i](x=input[i], buf=stage[i]))
                with consume(ch) as t:
                    exp_k[t](buf=stage[t], res=out[t])

    else:

        @workload
        def pipeline(n):
            with P.pipe():
                for i in P.seq(DenseDyn(n)):
                    send(ch, scale_k[i](x=input[i], buf=stage))
                with consume(ch) as t:
                    exp_k[t](buf=stage, res=out[t])

    program = run(pipeline(N))
    return program, stage.data, out.data


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "shared"])
def test_two_stage_staging_and_outputs_match_sequential_program(depth: int, indexed: bool):
    src = source()
    _, stage, out = two_stage(src, depth, indexed)
    want_stage, want_out = sequential_two_stage(src, indexed)
    if indexed:
        unwritten = [i for i in range(N) if np.any(stage[i] == SENTINEL)]
        assert unwritten == [], f"depth {depth}: rows {unwritten} of stage were never written"
    np.testing.assert_allclose(stage, want_stage, rtol=1e-6)
    np.testing.assert_allclose(out, want_out, rtol=1e-5, atol=1e-6)


# ---- three stages (spec §8.3): staging and result buffers, each indexed or shared ---------------


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "shared"])
def test_three_stage_buffers_match_sequential_program(depth: int, indexed: bool):
    src = source()
    input = Tensor(src.copy())
    shape = (N, ROWS, COLS) if indexed else (ROWS, COLS)
    stage = Tensor(np.full(shape, SENTINEL, F32))
    res = Tensor(np.full(shape, SENTINEL, F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    l2c = Channel("l2c", depth=depth)
    c2s = Channel("c2s", depth=depth)

    if indexed:

        @workload
        def pipeline(n):
            with P.pipe():
                for i in P.seq(DenseDyn(n)):
                    send(l2c, scale_k[i](x=input[i], buf=stage[i]))
            with consume(l2c) as t:
                send(c2s, exp_k[t](buf=stage[t], res=res[t]))
            with consume(c2s) as r:
                square_k[r](res=res[r], out=out[r])

    else:

        @workload
        def pipeline(n):
            with P.pipe():
                for i in P.seq(DenseDyn(n)):
                    send(l2c, scale_k[i](x=input[i], buf=stage))
            with consume(l2c) as t:
                send(c2s, exp_k[t](buf=stage, res=res))
            with consume(c2s) as r:
                square_k[r](res=res, out=out[r])

    run(pipeline(N))
    want_stage, want_res, want_out = sequential_three_stage(src, indexed)
    np.testing.assert_allclose(stage.data, want_stage, rtol=1e-6)
    np.testing.assert_allclose(res.data, want_res, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.data, want_out, rtol=1e-5, atol=1e-6)


# ---- the consumer of a shared buffer may rewrite it, part by part --------------------------------


@kernel
def negate_k(buf: InOut[Tensor]):
    pto.store(buf, pto.neg(pto.load(buf)))


@pytest.mark.parametrize("depth", (1, 2, 3))
def test_consumer_rewrites_rows_of_a_shared_buffer(depth: int):
    """``for j: negate(stage[j : j + 1])`` inside ``consume``: every item rewrites the same rows, so the
    buffer still rotates, and the user's array holds the last item's rewritten rows."""
    src = source()
    input = Tensor(src.copy())
    stage = Tensor(np.full((ROWS, COLS), SENTINEL, F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("rw", depth=depth)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(N):
                send(ch, scale_k[i](x=input[i], buf=stage))
            with consume(ch) as t:
                for j in P.seq(ROWS):
                    negate_k[t, j](buf=stage[j : j + 1])
                exp_k[t](buf=stage, res=out[t])

    run(pipeline())
    np.testing.assert_allclose(stage.data, -(src[-1] + src[-1]), rtol=1e-6)
    np.testing.assert_allclose(out.data, np.exp(src + src), rtol=1e-5, atol=1e-6)


def test_item_dependent_write_of_a_rotating_buffer_in_the_consumer_is_a_compile_error():
    """Item 0's consumer alone writes rows 2:4 of a shared buffer: that lands in item 0's copy
    only, and after the pipeline the array receives the last item's copy."""
    input = Tensor(np.zeros((N, 2, COLS), F32))
    stage = Tensor(np.zeros((ROWS, COLS), F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("once", depth=2)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(N):
                send(ch, scale_k[i](x=input[i], buf=stage[0:2]))
            with consume(ch) as t:
                with P.when(t == 0):
                    negate_k[t](buf=stage[2:4])
                exp_k[t](buf=stage, res=out[t])

    with pytest.raises(CompileError, match=r"rotating buffer of channel once.*under a condition"):
        pipeline().compile(target="cpu_sim")


# ---- slices and replicated stages: still one region per item, so in place ---------------------


@pytest.mark.parametrize("depth", (2, 3))
def test_sliced_staging_and_replicated_consumers_are_written_in_place(depth: int):
    """``stage[2i:2i+2]`` (rows per item) from a generator; two ``worker`` replicas each send
    ``res[t]`` on: the consume variable numbers items across replicas, so those are disjoint."""
    src = np.random.default_rng(5).standard_normal((2 * N, COLS)).astype(F32)
    input = Tensor(src.copy())
    stage = Tensor(np.full((2 * N, COLS), SENTINEL, F32))
    res = Tensor(np.full((2 * N, COLS), SENTINEL, F32))
    out = Tensor(np.zeros((2 * N, COLS), F32))
    load_ch = Channel("load", depth=depth)
    done_ch = Channel("done", depth=depth)

    def generator():
        for i in P.seq(N):
            send(load_ch, scale_k[i](x=input[2 * i : 2 * i + 2], buf=stage[2 * i : 2 * i + 2]))

    def worker():
        with consume(load_ch) as t:
            rows = slice(2 * t, 2 * t + 2)
            send(done_ch, exp_k[t](buf=stage[rows], res=res[rows]))

    def storer():
        with consume(done_ch) as r:
            square_k[r](res=res[2 * r : 2 * r + 2], out=out[2 * r : 2 * r + 2])

    gen = process("generator").produces(load_ch).body(generator)
    wk = process("worker").consumes(load_ch).produces(done_ch).body(worker)
    st = process("storer").consumes(done_ch).body(storer)
    run(connect([gen, replicate(wk, 2), st], [load_ch, done_ch]))
    want_stage = src + src
    want_res = np.exp(-want_stage)
    np.testing.assert_allclose(stage.data, want_stage, rtol=1e-6)
    np.testing.assert_allclose(res.data, want_res, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.data, want_res * want_res, rtol=1e-5, atol=1e-6)


def test_replicated_producer_of_indexed_staging_is_a_compile_error():
    """Two replicas of one producer run the same ``i``: both write ``stage[i]``."""
    input = Tensor(np.zeros((N, ROWS, COLS), F32))
    stage = Tensor(np.zeros((N, ROWS, COLS), F32))
    out = Tensor(np.zeros((2 * N, ROWS, COLS), F32))
    ch = Channel("twice", depth=2)

    def producer():
        for i in P.seq(N):
            send(ch, load_e[i](x=input[i], buf=stage[i]))

    def user():
        with consume(ch) as t:
            use_e[t](buf=stage[0], out=out[t])

    prod = process("producer").produces(ch).body(producer)
    cons = process("user").consumes(ch).body(user)
    with pytest.raises(CompileError, match=r"channel twice.*process producer runs in 2 replicas"):
        connect([replicate(prod, 2), cons], [ch]).compile(target="cpu_sim")


# ---- replicated consumers of a rotating buffer ------------------------------------------------


def test_rotating_copy_is_not_reused_before_its_item_is_released():
    """Two ``worker`` replicas consume a shared buffer at depth 2; even items first run a slow
    task (64x64 + 64x64 = 8192 cycles), so worker[1] releases item 1 while worker[0] still needs
    item 0's copy. Item 2 reuses that copy: it may be reserved only once item 0 is released
    (slots free in item order), else item 0 would read item 2's data."""
    src = source()
    input = Tensor(src.copy())
    stage = Tensor(np.full((ROWS, COLS), SENTINEL, F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    big = Tensor(np.zeros((64, 64), F32))
    scratch = Tensor(np.zeros((64, 64), F32))
    ch = Channel("shared", depth=2)

    def producer():
        for i in P.seq(N):
            send(ch, scale_k[i](x=input[i], buf=stage))

    def worker():
        with consume(ch) as t:
            with P.when(t % 2 == 0):
                load_e[t](x=big, buf=scratch)
            exp_k[t](buf=stage, res=out[t])

    prod = process("producer").produces(ch).body(producer)
    wk = process("worker").consumes(ch).body(worker)
    run(connect([prod, replicate(wk, 2)], [ch]))
    want_stage, want_out = sequential_two_stage(src, indexed=False)
    np.testing.assert_allclose(out.data, want_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stage.data, want_stage, rtol=1e-6)


@kernel
def slow_scale_k(x: In[Tensor], buf: Out[Tensor]):
    a = pto.load(x)
    v = pto.add(a, a)
    for _ in range(12):  # 2a - a + a == 2a exactly; 24 more ops make the task slow
        v = pto.add(pto.sub(v, a), a)
    pto.store(buf, v)


def test_rotating_copy_waits_for_its_item_with_two_producers():
    """A slow and a fast producer share a buffer at depth 2: the fast one's item 1 commits, is
    consumed and released before the slow one's item 0; item 2 reuses item 0's copy, so it may
    be reserved only once item 0 is released. Which items the slow producer gets depends on the
    schedule, so the outputs are compared as a set: every item's data arrives exactly once."""
    src = source()
    slow_in = Tensor(src[: N // 2].copy())
    fast_in = Tensor(src[N // 2 :].copy())
    stage = Tensor(np.full((ROWS, COLS), SENTINEL, F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("two_in", depth=2)

    def slow():
        for i in P.seq(N // 2):
            send(ch, slow_scale_k[i](x=slow_in[i], buf=stage))

    def fast():
        for i in P.seq(N // 2):
            send(ch, scale_k[i](x=fast_in[i], buf=stage))

    def user():
        with consume(ch) as t:
            exp_k[t](buf=stage, res=out[t])

    procs = [
        process("slow").produces(ch).body(slow),
        process("fast").produces(ch).body(fast),
        process("user").consumes(ch).body(user),
    ]
    run(connect(procs, [ch]))
    want = np.exp(-(src + src))
    matches = [
        [j for j in range(N) if np.allclose(out.data[t], want[j], rtol=1e-5, atol=1e-6)]
        for t in range(N)
    ]
    assert sorted(m[0] for m in matches if len(m) == 1) == list(range(N)), matches


# ---- overlap: rotation keeps a shared-buffer pipeline from serialising --------------------------


def cycles_two_stage(depth: int, indexed: bool) -> int:
    input = Tensor(np.zeros((N, ROWS, COLS), F32))
    stage = Tensor(np.zeros((N, ROWS, COLS) if indexed else (ROWS, COLS), F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("l2c", depth=depth)

    if indexed:

        @workload
        def pipeline():
            with P.pipe():
                for i in P.seq(N):
                    send(ch, load_e[i](x=input[i], buf=stage[i]))
                with consume(ch) as t:
                    use_e[t](buf=stage[t], out=out[t])

    else:

        @workload
        def pipeline():
            with P.pipe():
                for i in P.seq(N):
                    send(ch, load_e[i](x=input[i], buf=stage))
                with consume(ch) as t:
                    use_e[t](buf=stage, out=out[t])

    return run(pipeline()).stats().total_cycles


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "shared"])
def test_depth_two_or_more_overlaps_producer_and_consumer(indexed: bool):
    """Each task costs 32 + 32 = 64 cycles (empty bodies, 4x8 views).

    depth 1: item k+1 is reserved only when the consumer released item k, so nothing overlaps:
    N * (64 + 64). depth >= 2: the producer loads item k+1 while the consumer uses item k; the
    consumer runs back to back after the first load: 64 + N * 64. A shared staging buffer must
    overlap exactly like an indexed one (its copies rotate); an indexed one is written in place.
    """
    serial = N * (64 + 64)
    overlapped = 64 + N * 64
    assert cycles_two_stage(1, indexed) == serial
    for depth in (2, 3, 4):
        assert cycles_two_stage(depth, indexed) == overlapped, f"depth {depth}"


# ---- what cannot rotate is an error, not a silent wrong result ----------------------------------


def test_item_dependent_overlapping_staging_is_a_compile_error():
    """``stage[i % 2]`` at depth 3: items 0 and 2 are in flight together and write one row."""
    input = Tensor(np.zeros((N, ROWS, COLS), F32))
    stage = Tensor(np.zeros((2, ROWS, COLS), F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("ring", depth=3)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(N):
                send(ch, load_e[i](x=input[i], buf=stage[i % 2]))
            with consume(ch) as t:
                use_e[t](buf=stage[t % 2], out=out[t])

    with pytest.raises(CompileError, match=r"stage.*ring"):
        pipeline().compile(target="cpu_sim")


def test_staging_written_by_nested_loop_items_is_a_compile_error():
    """``stage[i]`` sent from inside ``for j``: items (i, 0) and (i, 1) write the same row."""
    input = Tensor(np.zeros((N, ROWS, COLS), F32))
    stage = Tensor(np.zeros((N, ROWS, COLS), F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("nest", depth=2)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(N):
                for j in P.seq(2):
                    send(ch, load_e[i, j](x=input[i], buf=stage[i]))
            with consume(ch) as t:
                use_e[t](buf=stage[0], out=out[0])

    with pytest.raises(CompileError, match=r"stage.*nest"):
        pipeline().compile(target="cpu_sim")


def test_read_modify_write_of_a_shared_buffer_in_flight_is_a_compile_error():
    """An ``InOut`` shared buffer at depth 2: item k would read item k-2's copy, not item k-1's."""

    @kernel
    def accumulate(x: In[Tensor], acc: InOut[Tensor]): ...

    input = Tensor(np.zeros((N, ROWS, COLS), F32))
    acc = Tensor(np.zeros((ROWS, COLS), F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("sums", depth=2)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(N):
                send(ch, accumulate[i](x=input[i], acc=acc))
            with consume(ch) as t:
                use_e[t](buf=acc, out=out[t])

    with pytest.raises(CompileError, match=r"acc.*sums"):
        pipeline().compile(target="cpu_sim")


def test_read_modify_write_of_a_shared_buffer_at_depth_one_runs_sequentially():
    """Depth 1 keeps one item in flight: no copies, the running sum is the sequential one."""

    @kernel
    def accumulate(x: In[Tensor], acc: InOut[Tensor]):
        pto.store(acc, pto.add(pto.load(acc), pto.load(x)))

    src = source()
    input = Tensor(src.copy())
    acc = Tensor(np.zeros((ROWS, COLS), F32))
    out = Tensor(np.zeros((N, ROWS, COLS), F32))
    ch = Channel("sums", depth=1)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(N):
                send(ch, accumulate[i](x=input[i], acc=acc))
            with consume(ch) as t:
                square_k[t](res=acc, out=out[t])

    run(pipeline())
    sums = np.cumsum(src, axis=0)
    np.testing.assert_allclose(acc.data, sums[-1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.data, sums * sums, rtol=1e-5, atol=1e-5)
