"""Deprecated names exist and warn (spec §5.4, §6.6; DESIGN.md §6 "Deprecated names").

Each warning must be a ``DeprecationWarning`` attributed to the caller's line (this file), so a
user sees where to change their code.
"""

import contextlib
import importlib
import os
import warnings

import numpy as np
import pytest

import pto_wsp
from pto_wsp import PtoError

THIS_FILE = os.path.abspath(__file__)


@contextlib.contextmanager
def deprecation(match: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    hits = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert hits, f"no DeprecationWarning (got {[str(w.message) for w in caught]})"
    assert any(match in str(w.message) for w in hits), [str(w.message) for w in hits]
    assert any(os.path.abspath(w.filename) == THIS_FILE for w in hits), [w.filename for w in hits]


def test_external_kernel_warns(tmp_path):
    from pto_wsp import ExternalKernel

    with deprecation("ExternalKernel"):
        k = ExternalKernel(
            name="flash_attn_v2",
            impl_path=str(tmp_path / "flash_attn_v2.cpp"),
            inputs=["Q", "K", "V"],
            outputs=["O"],
        )
    assert [p.name for p in k.signature] == ["Q", "K", "V", "O"]
    assert [p.direction for p in k.signature] == ["in", "in", "in", "out"]


@pytest.mark.parametrize("name, args", [("Shard", (0,)), ("Replicate", ())])
def test_shard_and_replicate_warn(name, args):
    layout_mod = importlib.import_module("pto_wsp.language.layout")

    cls = getattr(pto_wsp, name, None) or getattr(layout_mod, name)
    with deprecation(name):
        value = cls(*args)
    modern = {"Shard": pto_wsp.TensorShard, "Replicate": pto_wsp.TensorReplicate}[name]
    assert value == modern(*args)


def test_string_task_warns():
    from pto_wsp import In, Out, P, Tensor, kernel, task, workload

    @kernel
    def attn(x: In[Tensor], y: Out[Tensor]): ...

    X = pto_wsp.Tensor(data=np.zeros((4, 8), np.float32), name="X")
    Y = pto_wsp.Tensor(data=np.zeros((4, 8), np.float32), name="Y")

    @workload
    def legacy():
        for b in P(pto_wsp.Dense[4]):
            task("attn", [b], {"x": X[b], "y": Y[b]})

    with deprecation("task"):
        legacy()


def test_task_with_kernel_ref_does_not_warn():
    from pto_wsp import In, Out, P, Tensor, kernel, task, workload

    @kernel
    def attn(x: In[Tensor], y: Out[Tensor]): ...

    X = pto_wsp.Tensor(data=np.zeros((4, 8), np.float32), name="X")
    Y = pto_wsp.Tensor(data=np.zeros((4, 8), np.float32), name="Y")

    @workload
    def modern():
        for b in P(pto_wsp.Dense[4]):
            task(attn, [b], {"x": X[b], "y": Y[b]})

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        modern()


def test_tl_alias_warns_and_maps_to_pto():
    from pto_wsp import pto

    tl = pto_wsp.tl
    with deprecation("tl."):
        op = tl.add
    assert op is pto.add


def test_workload_layout_warns():
    from pto_wsp import In, Out, P, Tensor, TensorLayout, kernel, workload

    @kernel
    def k(x: In[Tensor], y: Out[Tensor]): ...

    X = pto_wsp.Tensor(data=np.zeros((4, 8), np.float32), name="X")
    Y = pto_wsp.Tensor(data=np.zeros((4, 8), np.float32), name="Y")

    @workload
    def w():
        for b in P(pto_wsp.Dense[4]):
            k[b](x=X[b], y=Y[b])

    wl = w()
    with deprecation("layout"), contextlib.suppress(PtoError):
        wl.layout(X, TensorLayout.sharded(dim=0, rank=2))
