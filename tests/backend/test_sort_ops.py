"""The sorting ops (``pto.iota_u32``, ``pto.tsort32``, ``pto.mrgsort``,
``pto.extract_topk_indices``; ``ptoisa.TSORT32``/``TMRGSORT`` and helpers) and
``ptoisa.cpu_sim_add_cycles`` on cpu_sim, against numpy; and the sort semantics against the
real PTO-ISA instructions in CPU simulation (one build), where a PTO-ISA root and clang++-19
are found.

Pair rows are compared as bits: the index slot holds the uint32 index's bit pattern, and -0.0
must come out as -0.0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ptoisa_env import ptoisa_root, skip_reason

from pto_wsp import (
    DType,
    In,
    Out,
    P,
    Scalar,
    Tensor,
    Tile,
    kernel,
    pto,
    ptoisa,
    ptoisa_kernel,
    workload,
)
from pto_wsp._core import runtime
from pto_wsp.runtime.ptoisa_verify import verify_workload

F32, U32, I32 = DType.F32, DType.U32, DType.I32
RNG = np.random.default_rng(1717)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


def ref_tsort32(scores: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Each row's 32-blocks as (score, index-bits) pairs, score descending (-0.0 == +0.0),
    ties to the lower index."""
    r, c = scores.shape
    idx = np.broadcast_to(idx, (r, c)).astype(np.uint32)
    out = np.empty((r, 2 * c), np.float32)
    for row in range(r):
        for b0 in range(0, c, 32):
            s, i = scores[row, b0 : b0 + 32], idx[row, b0 : b0 + 32]
            order = np.lexsort((np.arange(len(s)), i, -s.astype(np.float64)))
            out[row, 2 * b0 : 2 * b0 + 64 : 2] = s[order]
            out[row, 2 * b0 + 1 : 2 * b0 + 64 : 2] = i[order].view(np.float32)
    return out


def ref_merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both = np.concatenate([a.reshape(-1, 2), b.reshape(-1, 2)])
    order = np.argsort(-both[:, 0].astype(np.float64), kind="stable")
    return both[order].reshape(1, -1)


def scores(shape: tuple[int, int]) -> np.ndarray:
    x = (RNG.integers(-3, 4, shape) * 0.25).astype(np.float32)  # many ties
    x.reshape(-1)[::5] = -0.0
    x.reshape(-1)[3::11] = np.inf
    x.reshape(-1)[4::13] = -np.inf
    return x


# ---- the runtime entries (pto_run_op) ---------------------------------------------------------


def test_iota_u32() -> None:
    out = np.zeros((1, 40), np.uint32)
    runtime.run_op("iota_u32", out, [], [])
    np.testing.assert_array_equal(out[0], np.arange(40, dtype=np.uint32))


@pytest.mark.parametrize("rows", [1, 3])
def test_tsort32_blocks_ties_zeros_and_infinities(rows: int) -> None:
    x = scores((rows, 96))
    idx = RNG.permutation(96).astype(np.uint32)[None, :]  # one index row for every row
    out = np.zeros((rows, 192), np.float32)
    runtime.run_op("tsort32", out, [x, idx], [])
    np.testing.assert_array_equal(bits(out), bits(ref_tsort32(x, idx)))
    # per-row indices, through a strided (column-reversed) view of the scores
    xs = scores((rows, 64))[:, ::-1]
    per_row = np.stack([RNG.permutation(64) for _ in range(rows)]).astype(np.uint32)
    out2 = np.zeros((rows, 128), np.float32)
    runtime.run_op("tsort32", out2, [xs, per_row], [])
    np.testing.assert_array_equal(bits(out2), bits(ref_tsort32(np.ascontiguousarray(xs), per_row)))


def test_tsort32_index_slot_is_the_u32_bit_pattern() -> None:
    x = np.arange(32, dtype=np.float32)[None, :]
    idx = np.array([[0xFFFFFFFF - i for i in range(32)]], np.uint32)
    out = np.zeros((1, 64), np.float32)
    runtime.run_op("tsort32", out, [x, idx], [])
    assert bits(out)[0, 1] == 0xFFFFFFFF - 31  # score 31 first, its index's bits as they are
    np.testing.assert_array_equal(out[0, 0::2], np.arange(31, -1, -1, dtype=np.float32))


def test_mrgsort_ties_go_to_the_first_list() -> None:
    a = ref_tsort32(scores((1, 32)), np.arange(32, dtype=np.uint32))
    b = ref_tsort32(scores((1, 64)), np.arange(32, 96, dtype=np.uint32))
    b = ref_merge(b[:, :64], b[:, 64:])  # a sorted list of 64 pairs
    out = np.zeros((1, 192), np.float32)
    runtime.run_op("mrgsort", out, [a, b], [])
    np.testing.assert_array_equal(bits(out), bits(ref_merge(a, b)))
    s = out[0, 0::2]
    assert (s[:-1] >= s[1:]).all()


def test_extract_topk_indices_reinterprets_bits() -> None:
    x = scores((2, 32))
    pairs = ref_tsort32(x, np.arange(32, dtype=np.uint32))
    out = np.zeros((2, 5), np.int32)
    runtime.run_op("extract_topk_indices", out, [pairs], [])
    want = np.stack([np.lexsort((np.arange(32), -r.astype(np.float64)))[:5] for r in x])
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize(
    ("op", "out", "ins", "message"),
    [
        ("iota_u32", np.zeros((1, 4), np.int32), [], "output must be u32"),
        ("tsort32", np.zeros((1, 40), np.float32), [np.zeros((1, 20), np.float32),
         np.zeros((1, 20), np.uint32)], "multiple of 32 columns"),
        ("tsort32", np.zeros((1, 64), np.float32), [np.zeros((1, 32), np.float32),
         np.zeros((1, 32), np.int32)], "u32 indices"),
        ("mrgsort", np.zeros((1, 8), np.float32), [np.zeros((1, 4), np.float32),
         np.zeros((1, 2), np.float32)], r"output must be \[1,6\]"),
        ("extract_topk_indices", np.zeros((1, 5), np.int32), [np.zeros((1, 8), np.float32)],
         "at most 4 columns"),
    ],
)  # fmt: skip
def test_run_op_checks_the_sort_rules(op: str, out: Any, ins: list[Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        runtime.run_op(op, out, ins, [])


# ---- through a workload: pto.* and ptoisa.* kernels ---------------------------------------------

G = 3


@kernel
def topk_pto(a: In[Tile[1, 32, F32]], b: In[Tile[1, 32, F32]], out: Out[Tile[1, 10, I32]]):
    """Spec §6.1's TopK route with traced pto ops: the top 10 of 64 scores."""
    pb = pto.tsort32(b, pto.add(pto.iota_u32(32), 32))
    pto.store(out, pto.extract_topk_indices(pto.mrgsort(pto.tsort32(a, pto.iota_u32(32)), pb), 10))


@ptoisa_kernel
def topk_isa(
    x: In[Tile[2, 32, F32]],
    pairs: Out[Tile[2, 64, F32]],
    top: Out[Tile[2, 4, I32]],
    extra: Scalar[DType.I64],
):
    """The same with the ISA spellings and the reference implementation's helpers."""
    p = ptoisa.TSORT32(ptoisa.tload(x), ptoisa.iota_u32(32))
    ptoisa.tstore(pairs, p)
    ptoisa.store_topk_indices_i32(top, p, 4)
    ptoisa.cpu_sim_add_cycles(100)
    ptoisa.cpu_sim_add_cycles(extra)
    ptoisa.cpu_sim_add_cycles(f"{extra.name} * 3 + 1")


def test_topk_route_on_cpu_sim() -> None:
    x = np.stack([scores((1, 64)) for _ in range(G)])
    A, B = Tensor(x[..., :32].copy(), name="A"), Tensor(x[..., 32:].copy(), name="B")
    OUT = Tensor(np.full((G, 1, 10), -1, np.int32), name="OUT")
    X2 = Tensor(np.stack([scores((2, 32)) for _ in range(G)]), name="X2")
    PAIRS = Tensor(np.zeros((G, 2, 64), np.float32), name="PAIRS")
    TOP = Tensor(np.zeros((G, 2, 4), np.int32), name="TOP")

    @workload
    def topk():
        for i in P(G):
            topk_pto[i](a=A[i], b=B[i], out=OUT[i])
            topk_isa[i](x=X2[i], pairs=PAIRS[i], top=TOP[i], extra=i * 10)

    program = topk().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    for g in range(G):
        want = np.lexsort((np.arange(64), -x[g, 0].astype(np.float64)))[:10]
        np.testing.assert_array_equal(OUT.data[g, 0], want)
        np.testing.assert_array_equal(
            bits(PAIRS.data[g]), bits(ref_tsort32(X2.data[g], np.arange(32, dtype=np.uint32)))
        )
        rows = [np.lexsort((np.arange(32), -r.astype(np.float64)))[:4] for r in X2.data[g]]
        np.testing.assert_array_equal(TOP.data[g], np.stack(rows))
    # cpu_sim_add_cycles: 100 + extra + (3 * extra + 1) on top of the same kernel's op cycles
    tr = program.trace
    isa_id = next(k for k, name in enumerate(program.kernel_names) if name == "topk_isa")
    isa = tr[tr["kernel"] == isa_id]
    cycles = np.sort((isa["end"] - isa["start"]).astype(np.int64))
    base = cycles[0] - (100 + 0 + 1)  # the task with extra = 0
    assert base > 0
    np.testing.assert_array_equal(cycles, [base + 100 + 4 * e + 1 for e in (0, 10, 20)])


@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract")  # inf - inf
def test_sort_semantics_match_ptoisa() -> None:
    """TSORT32 and TMRGSORT as PTO-ISA's CPU simulation computes them, on ties, -0.0 and
    infinities, bit for bit: the ascend_npu kernels of the TopK route run against the real
    instructions (one build) and equal cpu_sim's results."""
    x = np.stack([scores((2, 64)) for _ in range(G)])
    idx = np.stack([RNG.permutation(64) for _ in range(2)]).astype(np.uint32)
    X = Tensor(x, name="X")
    IDX = Tensor(idx, name="IDX")
    PAIRS = Tensor(np.zeros((G, 2, 128), np.float32), name="PAIRS")
    A, B = Tensor(x[:, 0, None, :32].copy(), name="A"), Tensor(x[:, 1, None, :32].copy(), name="B")
    OUT = Tensor(np.zeros((G, 1, 10), np.int32), name="OUT")

    @kernel
    def sort_rows(x: In[Tile[2, 64, F32]], idx: In[Tile[2, 64, U32]], y: Out[Tile[2, 128, F32]]):
        pto.store(y, pto.tsort32(x, idx))

    @workload
    def sorts():
        for i in P(G):
            sort_rows[i](x=X[i], idx=IDX, y=PAIRS[i])
            topk_pto[i](a=A[i], b=B[i], out=OUT[i])

    report = verify_workload(sorts(), pto_isa_root=ptoisa_root(), name="sorts")
    assert report.ok, report.text()
    by_name = {t.name: t for t in report.tensors}
    assert by_name["PAIRS"].bit_equal and by_name["OUT"].bit_equal, report.text()
    assert {k.kernel for k in report.kernels} == {"sort_rows", "topk_pto"}
    assert all(k.tasks == G for k in report.kernels), report.text()
