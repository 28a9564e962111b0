"""Channel latency on cpu_sim (DESIGN §6 "Channel latency", docs/semantics.md "CSP execution").

``Channel(name, depth, latency=L)``: an item whose send's task ends at cycle t can be taken from
t + L on, so a receive completes at max(receiver clock, t + L). The item holds its slot while in
flight. Cycle derivations use the default cost table: an empty-body kernel costs the elements of
its ``In`` views plus those of its ``Out`` views (no issue overhead), as in test_csp_e2e.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    DispatchPolicy,
    In,
    Out,
    P,
    Tensor,
    _core,
    connect,
    consume,
    kernel,
    process,
    send,
    workload,
)
from pto_wsp.errors import TypeCheckError

F32 = np.float32
HERE = __file__
LATENCY_SYMBOL = "__pto_wsp_channel_latency_cycles"


def line_of(marker: str) -> int:
    with open(HERE) as f:
        for n, line in enumerate(f, 1):
            if marker in line and "line_of(" not in line:
                return n
    raise AssertionError(marker)


@kernel
def load(input: In[Tensor], buf: Out[Tensor]): ...


@kernel
def store(result: In[Tensor], output: Out[Tensor]): ...


def run(w, workers: int = 4):
    program = w.dispatch(DispatchPolicy.round_robin(workers)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def tasks_of(program, kernel_name: str) -> np.ndarray:
    names = program.runner.kernel_names
    tr = program.runner.trace()
    rows = tr[tr["kernel"] == names.index(kernel_name)]
    return rows[np.argsort(rows["idx0"], kind="stable")]


def two_stage(ch: Channel):
    """Producer: 4 sends of load (x[i] 8 + buf 8 = 16 cycles); consumer: store (buf 8 + y[t] 24
    = 32 cycles) per item."""
    x = Tensor(np.zeros((4, 8), F32))
    buf = Tensor(np.zeros(8, F32))
    y = Tensor(np.zeros((4, 24), F32))

    @workload
    def w():
        with P.pipe():
            for i in P.seq(4):
                send(ch, load[i](input=x[i], buf=buf))
            with consume(ch) as t:
                store[t](result=buf, output=y[t])

    return w()


# ---- the cycle model ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "latency", "consumer_starts", "total"),
    [
        # Producer tasks end at 16, 32, 48, 64 (depth 4: it never waits). Item k can be taken at
        # 16(k+1) + L. L = 100: every item arrives after the consumer is free, so its task k
        # starts at 116 + 32k (the first exactly at the producer's end + L); total 212 + 32.
        (4, 100, [116, 148, 180, 212], 244),
        # L = 10: item 0 arrives at 26; items 1..3 arrive (42, 58, 74) while the consumer is
        # still busy, so max(receiver clock, send + L) is the receiver's clock: back to back.
        (4, 10, [26, 58, 90, 122], 154),
        # Depth 1: the in-flight item holds the only slot, so the producer reserves item k+1
        # when the consumer releases item k: period 16 + 10 + 32 = 58, starts 58k + 26.
        (1, 10, [26, 84, 142, 200], 232),
        # Depth 0 (rendezvous): the consumer is back at its consume when it released the item,
        # so the same period as depth 1.
        (0, 10, [26, 84, 142, 200], 232),
    ],
)
def test_consumer_starts_at_producer_end_plus_latency(depth, latency, consumer_starts, total):
    program = run(two_stage(Channel("l2c", depth=depth, latency=latency)))
    ld, st = tasks_of(program, "load"), tasks_of(program, "store")
    period = 16 if depth >= 4 else 16 + latency + 32
    assert ld["start"].tolist() == [period * k for k in range(4)]
    assert ld["end"].tolist() == [period * k + 16 for k in range(4)]
    assert st["start"].tolist() == consumer_starts
    assert st["end"].tolist() == [s + 32 for s in consumer_starts]
    assert st["start"][0] == ld["end"][0] + latency
    assert program.stats().total_cycles == total
    waits = program.runner.csp_trace()["waits"]
    takes = waits[waits["kind"] == _core.csp.WAIT_TAKE]
    # The consumer waits from the pipeline's start for item 0's arrival.
    assert (int(takes["start"][0]), int(takes["end"][0])) == (0, 16 + latency)
    sends = waits[waits["kind"] == _core.csp.WAIT_SEND]
    if depth <= 1:
        # After each commit the producer waits for the release: latency + the consumer's task.
        assert len(sends) == 3
        assert np.all(sends["end"] - sends["start"] == latency + 32)
    else:
        assert len(sends) == 0


def test_latency_with_several_producers():
    """Two producers (one load each, 16 cycles, both from cycle 0) commit at 16; with L = 20
    both items can be taken at 36: the consumer runs store 0 at [36, 68] and store 1 at
    [68, 100] (the second waits for the receiver, not the channel)."""
    x = Tensor(np.zeros((2, 8), F32))
    b0 = Tensor(np.zeros(8, F32))
    b1 = Tensor(np.zeros(8, F32))
    y = Tensor(np.zeros((2, 24), F32))
    ch = Channel("fan_in", depth=2, latency=20)

    def prod_a():
        send(ch, load[0](input=x[0], buf=b0))

    def prod_b():
        send(ch, load[1](input=x[1], buf=b1))

    def cons():
        with consume(ch) as t:
            store[t](result=x[t], output=y[t])

    w = connect(
        [
            process("a").produces(ch).body(prod_a),
            process("b").produces(ch).body(prod_b),
            process("c").consumes(ch).body(cons),
        ],
        [ch],
    )
    program = run(w)
    ld, st = tasks_of(program, "load"), tasks_of(program, "store")
    assert ld["start"].tolist() == [0, 0] and ld["end"].tolist() == [16, 16]
    assert st["start"].tolist() == [36, 68]
    assert st["end"].tolist() == [68, 100]
    assert program.stats().total_cycles == 100


# ---- latency 0 is the old behaviour -----------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 4])
def test_latency_zero_is_the_channel_without_latency(depth):
    old = run(two_stage(Channel("l2c", depth=depth)))
    zero = run(two_stage(Channel("l2c", depth=depth, latency=0)))
    # Same IR text (the printer shows latency only when given and non-zero) and, with the
    # runtime symbol unset, the same cycles. The channel that gives no latency reads the run's
    # default (__pto_wsp_channel_latency_cycles); latency=0 reads nothing.
    assert zero.module.print() == old.module.print()
    assert "latency" not in zero.module.print()
    assert [c.latency for c in old.module.channels] == [-1]
    assert [c.latency for c in zero.module.channels] == [0]
    assert old.runner.symbol_names() == [LATENCY_SYMBOL]
    assert zero.runner.symbol_names() == []
    for k in ("load", "store"):
        a, b = tasks_of(old, k), tasks_of(zero, k)
        assert a["start"].tolist() == b["start"].tolist()
        assert a["end"].tolist() == b["end"].tolist()
    assert zero.stats().total_cycles == old.stats().total_cycles
    # test_csp_e2e.py's back-pressure figures.
    assert old.stats().total_cycles == {0: 4 * 48, 1: 4 * 48, 4: 16 + 4 * 32}[depth]


def test_latency_is_a_typed_ir_field():
    program = two_stage(Channel("l2c", depth=2, latency=7)).compile(target="cpu_sim")
    (ch,) = program.module.channels
    assert (ch.name, ch.depth, ch.latency) == ("l2c", 2, 7)
    assert "channel #ch0 l2c depth=2 latency=7" in program.module.print()
    assert program.module.verify() == []


def test_negative_latency_in_the_ir_is_a_verifier_error():
    from pto_wsp._core import ir

    m = ir.Module("m")
    m.add_channel("c", 1, "", -3)
    msgs = m.verify()
    assert any("'c'" in s and "latency -3 is negative" in s for s in msgs), msgs


# ---- validation ---------------------------------------------------------------------------------


def test_channel_latency_attributes():
    a = Channel("a", 2, 5)
    assert (a.depth, a.latency, a.latency_given) == (2, 5, True)
    b = Channel("b", depth=1)
    assert (b.latency, b.latency_given) == (0, False)
    c = Channel("c", depth=1, latency=np.int64(3))
    assert c.latency == 3 and type(c.latency) is int
    z = Channel("z", depth=1, latency=0)
    assert (z.latency, z.latency_given) == (0, True)
    assert repr(a) == "Channel('a', depth=2, latency=5)"
    assert repr(b) == "Channel('b', depth=1)"


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, [2]])
def test_bad_latency_raises_naming_the_channel_and_line(bad):
    with pytest.raises(TypeCheckError) as ei:
        Channel("slow_link", depth=2, latency=bad)  # bad-latency-line
    msg = str(ei.value)
    assert "slow_link" in msg and "latency" in msg, msg
    assert ei.value.loc is not None and ei.value.loc.line == line_of("bad-latency-line")


def test_typed_channel_takes_latency():
    from pto_wsp.language.kernel import Tile

    t = Channel[Tile]("typed", depth=2, latency=4)
    assert t.latency == 4 and t.elem_type is Tile
    with pytest.raises(TypeCheckError, match="typed"):
        Channel[Tile]("typed", depth=2, latency=-4)


# ---- ascend_npu ---------------------------------------------------------------------------------


def test_ascend_npu_records_a_channel_latency_in_the_expander(monkeypatch, tmp_path):
    """On ascend_npu the latency is cpu_sim's timing model only (the expander keeps one item in
    flight and issues the same tasks whatever it is): the emitted expander records it per
    channel, so it is never silently dropped."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))
    w = two_stage(Channel("l2c", depth=2, latency=10))
    tree = Path(w.compile(target="ascend_npu").codegen_artifact_dir)
    text = (tree / "aicpu" / "expander.cpp").read_text()
    assert "// channel l2c: depth 2, latency 10 cycles (cpu_sim's timing model" in text


# ---- the run's default: runtime symbol __pto_wsp_channel_latency_cycles -------------------------


def run_with_default_latency(ch: Channel, default: int | None):
    """``two_stage(ch)`` on 4 workers, the runtime symbol set to ``default`` (None: unset)."""
    program = two_stage(ch).dispatch(DispatchPolicy.round_robin(4)).compile(target="cpu_sim")
    if default is not None:
        program.set_symbol_u64(LATENCY_SYMBOL, default)
    program.execute()
    program.synchronize()
    return program


@pytest.mark.parametrize(
    ("default", "consumer_starts", "total"),
    [
        # unset: reads 0, the channel without latency (back-pressure figures above)
        (None, [16, 48, 80, 112], 144),
        # the figures of test_consumer_starts_at_producer_end_plus_latency, depth 4
        (100, [116, 148, 180, 212], 244),
        (10, [26, 58, 90, 122], 154),
    ],
)
def test_the_symbol_sets_the_latency_of_a_channel_that_gives_none(default, consumer_starts, total):
    program = run_with_default_latency(Channel("l2c", depth=4), default)
    st = tasks_of(program, "store")
    assert st["start"].tolist() == consumer_starts
    assert program.stats().total_cycles == total
    assert program.symbol_u64(LATENCY_SYMBOL) == (default or 0)


def test_the_symbol_changes_the_latency_without_a_rebuild(monkeypatch):
    from pto_wsp.backends.cache import BuildCache

    program = two_stage(Channel("l2c", depth=4)).dispatch(DispatchPolicy.round_robin(4))
    program = program.compile(target="cpu_sim")

    def no_build(*args, **kwargs):
        raise AssertionError("a runtime symbol must not rebuild the library")

    monkeypatch.setattr(BuildCache, "get_or_build", no_build)
    totals = []
    for default in (0, 100, 10):
        program.set_symbol_u64(LATENCY_SYMBOL, default)
        program.execute()
        program.synchronize()
        totals.append(program.stats().total_cycles)
    assert totals == [144, 244, 154]


@pytest.mark.parametrize(("latency", "total"), [(0, 144), (10, 154)])
def test_an_explicit_latency_wins_over_the_symbol(latency, total):
    """latency=0 included: the channel gives one, so the run's default does not apply (and
    setting the symbol, which no channel reads then, warns that it changes nothing)."""
    from pto_wsp.errors import BindingWarning

    with pytest.warns(BindingWarning, match=LATENCY_SYMBOL):
        program = run_with_default_latency(Channel("l2c", depth=4, latency=latency), 100)
    assert program.stats().total_cycles == total
