"""Module paths users import keep working after the stage folders and the language splits.

Scripts written before 2026-12 import flat paths (``pto_wsp.workload``, ``pto_wsp.runner``...),
and tests and the Studio import ``pto_wsp.language.workload`` / ``.kernel`` names that now live in
submodules of those packages. Each path must give the one module (and class) there is: a second
copy would make ``isinstance`` checks and monkeypatches disagree.
"""

from __future__ import annotations

import importlib

import pytest

import pto_wsp
from pto_wsp import _module_aliases

# The public names of pto_wsp/language/workload.py and kernel.py before they became packages.
WORKLOAD_NAMES = (
    "workload Workload WorkloadFunction P combine sequential task for_each parallel_for Scope "
    "LoopNode CondNode PipeNode ProcessNode SendNode ConsumeNode CloseNode RecordNode SyncNode "
    "SlotSetNode SlotLoadNode CombineNode SequentialNode ConnectNode walk"
).split()
KERNEL_NAMES = (
    "In Out InOut Constexpr Tile Scalar AxisVar KernelParam KernelSignature KernelIR OpRecord "
    "KernelRef BoundKernel KernelCall CompiledKernel kernel jit_kernel"
).split()


@pytest.mark.parametrize("old", sorted(_module_aliases.MOVED))
def test_every_old_flat_path_is_the_module_it_moved_to(old: str) -> None:
    new = _module_aliases.MOVED[old]
    assert importlib.import_module(old) is importlib.import_module(new)


@pytest.mark.parametrize(
    ("package", "names"),
    [("workload", WORKLOAD_NAMES), ("kernel", KERNEL_NAMES)],
)
def test_split_modules_keep_their_names_on_every_path(package: str, names: list[str]) -> None:
    new = importlib.import_module(f"pto_wsp.language.{package}")
    old = importlib.import_module(f"pto_wsp.{package}")
    assert set(names) <= set(new.__all__)
    for name in names:
        value = getattr(new, name)
        assert getattr(old, name) is value, name
        if name in pto_wsp.__all__:
            assert getattr(pto_wsp, name) is value, name


def test_a_submodule_under_an_old_path_is_the_same_module() -> None:
    from pto_wsp.kernel.ref import KernelRef as via_old_path
    from pto_wsp.language.kernel.ref import KernelRef
    from pto_wsp.language.workload import nodes
    from pto_wsp.workload import nodes as nodes_via_old_path

    assert via_old_path is KernelRef
    assert nodes_via_old_path is nodes


def test_a_kernel_and_a_workload_made_through_old_paths_are_the_public_types() -> None:
    from pto_wsp.kernel import In, Out, kernel
    from pto_wsp.workload import P, workload

    @kernel
    def copy(x: In[pto_wsp.Tensor], y: Out[pto_wsp.Tensor]) -> None:
        pass

    x = pto_wsp.Tensor([[1.0, 2.0]])
    y = pto_wsp.Tensor([[0.0, 0.0]])

    @workload
    def w() -> None:
        for i in P(pto_wsp.Dense[1]):
            copy[i](x, y)

    traced = w()
    assert isinstance(copy, pto_wsp.KernelRef)
    assert isinstance(traced, pto_wsp.Workload)
    assert [k.name for k in traced.kernels()] == ["copy"]
    assert traced.type_str == "Workload[Dense[1], copy, Independent]"


def test_importing_an_old_module_path_leaves_the_decorator_of_the_same_name() -> None:
    kernel, workload = pto_wsp.kernel, pto_wsp.workload
    importlib.import_module("pto_wsp.kernel")
    importlib.import_module("pto_wsp.workload")
    exec("import pto_wsp.kernel\nimport pto_wsp.workload", {})
    assert pto_wsp.kernel is kernel and callable(kernel)
    assert pto_wsp.workload is workload and callable(workload)


def test_the_flat_layout_path_still_has_the_collectives() -> None:
    """``pto_wsp.layout`` held layouts and collectives; they are two modules now."""
    from pto_wsp.language import collectives, layout
    from pto_wsp.layout import TensorLayout, allreduce, relayout

    assert allreduce is collectives.allreduce is pto_wsp.allreduce
    assert relayout is collectives.relayout
    assert TensorLayout is layout.TensorLayout
    flat = importlib.import_module("pto_wsp.layout")
    assert {"allgather", "reduce_scatter", "TensorShard", "MemLayout"} <= set(flat.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = flat.nope
