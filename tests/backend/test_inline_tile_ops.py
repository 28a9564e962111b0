"""Small static tile ops inlined into cpu_sim's generated code (runtime/tile_inline.h, issue #18
item 2): where they apply, the emitted kernel says so, and every result is the library's and
numpy's, bit for bit, including the cases where the inline form hands over to the library (a
strided view, a dtype conversion, a broadcast)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from pto_wsp import In, Out, P, Tensor, kernel, pto, workload
from pto_wsp.backends.cpu_sim import emit_sources
from pto_wsp.compiler.lowering import lower_for_run

ROWS, COLS = 4, 8
OPS: dict[str, Callable[..., object]] = {
    "add": (pto.add, np.add),
    "sub": (pto.sub, np.subtract),
    "mul": (pto.mul, np.multiply),
    "div": (pto.div, np.divide),
}  # type: ignore[dict-item]


def _kernel_source(w: object) -> str:
    lowered = lower_for_run(w)
    files = dict(emit_sources(lowered.module, lowered.tensors)["files"])
    return "".join(text for name, text in files.items() if name.startswith("kernel_"))


def _operands(dtype: type, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    a = rng.standard_normal((n, ROWS, COLS)).astype(dtype)
    b = rng.standard_normal((n, ROWS, COLS)).astype(dtype)
    b[b == 0] = 1
    a[0, 0, :3] = [np.inf, -0.0, np.nan]  # IEEE specials go through the same operation
    return a, b


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_ops_on_loaded_tiles_are_inline_and_exact(name: str, dtype: type) -> None:
    op, ref = OPS[name]  # type: ignore[misc]
    a, b = _operands(dtype)
    A, B, Y = Tensor(a), Tensor(b), Tensor(np.zeros_like(a))

    @kernel
    def k(x: In[Tensor], y: In[Tensor], z: Out[Tensor]):
        pto.store(z, op(pto.load(x), pto.load(y)))

    @workload
    def w():
        for i in P(3):
            k[i](x=A[i], y=B[i], z=Y[i])

    source = _kernel_source(w())
    assert source.count("pto_i_copy(") == 3 and "PTO_I_BINARY(" in source
    program = w().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    with np.errstate(all="ignore"):
        expected = ref(a, b).astype(dtype)
    np.testing.assert_array_equal(Y.data.view(np.uint8), expected.view(np.uint8))


def test_a_strided_view_takes_the_librarys_path_with_the_same_result() -> None:
    base = np.arange(3 * ROWS * 2 * COLS, dtype=np.float32).reshape(3, ROWS, 2 * COLS)
    X = Tensor(base)
    Y = Tensor(np.zeros((3, ROWS, COLS), np.float32))
    Z = Tensor(np.zeros((3, ROWS, 2 * COLS), np.float32))

    @kernel
    def double(x: In[Tensor], y: Out[Tensor]):
        t = pto.load(x)
        pto.store(y, pto.add(t, t))

    @workload
    def w():
        for i in P(3):
            double[i](x=X[i][:, 0::2], y=Y[i])  # every other column: not one block
            double[i](x=X[i][:, 1::2], y=Z[i][:, 1::2])  # a strided destination too

    program = w().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    np.testing.assert_array_equal(Y.data, 2 * base[:, :, 0::2])
    np.testing.assert_array_equal(Z.data[:, :, 1::2], 2 * base[:, :, 1::2])
    np.testing.assert_array_equal(Z.data[:, :, 0::2], 0)


def test_a_conversion_or_a_half_precision_op_stays_a_library_call() -> None:
    a = np.linspace(-3, 3, 2 * ROWS * COLS, dtype=np.float16).reshape(2, ROWS, COLS)
    A = Tensor(a)
    H = Tensor(np.zeros_like(a))
    Y = Tensor(np.zeros((2, ROWS, COLS), np.float32))

    @kernel
    def widen(x: In[Tensor], h: Out[Tensor], y: Out[Tensor]):  # fmt: skip
        t = pto.load(x)
        pto.store(h, pto.mul(t, t))  # f16: computed in f32 and rounded, by the library
        pto.store(y, pto.add(t, t))  # f16 + f16 stored into f32: a converting store

    @workload
    def w():
        for i in P(2):
            widen[i](x=A[i], h=H[i], y=Y[i])

    source = _kernel_source(w())
    assert "PTO_I_BINARY" not in source and "pto_mul(" in source and "pto_add(" in source
    program = w().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    np.testing.assert_array_equal(H.data, (a.astype(np.float32) ** 2).astype(np.float16))
    np.testing.assert_array_equal(Y.data, (a + a).astype(np.float32))
