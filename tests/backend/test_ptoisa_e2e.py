"""``@ptoisa_kernel`` bodies (PTO-ISA spellings) compile into the cpu_sim artifact and compute
what numpy computes, like the ``pto.*`` kernels they record."""

from __future__ import annotations

import numpy as np

from pto_wsp import DType, In, Out, P, Tensor, Tile, ptoisa, ptoisa_kernel, workload

R, C = 8, 16
F32 = DType.F32


@ptoisa_kernel
def softmax_isa(x: In[Tile[R, C, F32]], y: Out[Tile[R, C, F32]]):
    t = ptoisa.TLOAD(x)
    e = ptoisa.TEXP(ptoisa.TSUB(t, ptoisa.TROWMAX(t)))
    ptoisa.TSTORE(y, ptoisa.TDIV(e, ptoisa.TROWSUM(e)))


@ptoisa_kernel
def mlp_isa(x: In[Tile[R, C, F32]], w: In[Tile[C, C, F32]], y: Out[Tile[R, C, F32]]):
    h = ptoisa.TMATMUL(ptoisa.TLOAD(x), ptoisa.TLOAD(w))
    ptoisa.TSTORE(y, ptoisa.TRELU(ptoisa.TMAX(h, ptoisa.TNEG(ptoisa.TABS(h)))))


def test_ptoisa_kernels_run_and_match_numpy() -> None:
    rng = np.random.default_rng(7)
    B = 4
    X = Tensor(rng.standard_normal((B, R, C)).astype(np.float32), name="X")
    W = Tensor((rng.standard_normal((C, C)) * 0.2).astype(np.float32), name="W")
    S = Tensor(np.zeros((B, R, C), np.float32), name="S")
    Y = Tensor(np.zeros((B, R, C), np.float32), name="Y")

    @workload
    def both():
        for b in P(B):
            softmax_isa[b](x=X[b], y=S[b])
            mlp_isa[b](x=X[b], w=W, y=Y[b])

    assert softmax_isa.dialect == "ptoisa"
    assert any(op.attrs.get("isa") == "TROWMAX" for op in softmax_isa.ir.ops)
    program = both().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    assert program.stats.task_count == 2 * B

    x = X.data
    e = np.exp(x - x.max(axis=2, keepdims=True))
    np.testing.assert_allclose(S.data, e / e.sum(axis=2, keepdims=True), rtol=2e-6, atol=1e-7)
    h = x @ W.data
    np.testing.assert_allclose(
        Y.data, np.maximum(np.maximum(h, -np.abs(h)), 0), rtol=1e-5, atol=1e-6
    )
