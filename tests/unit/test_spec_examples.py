"""Every python block of the spec runs as written and lowers to verified IR (DESIGN.md §6).

Runnable blocks execute with ``spec_preamble`` in a fresh namespace; each ``Workload`` they leave
behind (including those of ``@workload`` functions they define but do not call) must lower with
``pto_wsp.compiler.lowering.lower`` to a module the C++ verifier accepts, and each ``Program`` they build
must carry a verified module. Signature listings (class stubs) are not run: their listed
attributes and methods are checked on the real classes instead.
"""

import ast
import dataclasses
import enum

import numpy as np
import pytest
from spec_blocks import SpecBlock, spec_blocks
from spec_preamble import EXCLUDED, OVERRIDES, STUBS, install_execution_recorder, run_block

import pto_wsp

SECTIONS = {2, 3, 4, 5, 6, 7, 8, 9}
ALL_BLOCKS = spec_blocks()
BLOCKS = [b for b in ALL_BLOCKS if b.top_section in SECTIONS]
RUNNABLE = [b for b in BLOCKS if b.id not in EXCLUDED and b.id not in STUBS]
STUB_BLOCKS = [b for b in BLOCKS if b.id in STUBS]


def test_block_tables_name_existing_blocks():
    """The exclusion/stub/override tables stay in sync with the spec's blocks."""
    ids = {b.id for b in ALL_BLOCKS}
    for table in (EXCLUDED, STUBS, OVERRIDES):
        assert set(table) <= ids, set(table) - ids
    assert len(RUNNABLE) >= 30


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_spec_block_runs_and_lowers(block: SpecBlock, monkeypatch, tmp_path):
    from pto_wsp.compiler.lowering import lower

    monkeypatch.chdir(tmp_path)  # emitted artifacts land in the test's temp dir
    executions = install_execution_recorder(monkeypatch)
    run = run_block(block)

    for name, wl in run.workloads:
        module = lower(wl)
        problems = module.verify()
        assert problems == [], f"{block.id}: {name} lowers to an invalid module: {problems}"
        assert module.print().strip(), f"{block.id}: {name} prints as empty IR"
    for name, program in run.programs:
        module = getattr(program, "module", None)
        if module is not None:
            assert module.verify() == [], f"{block.id}: program {name}"

    if "@workload" in block.code:
        assert run.workloads, f"{block.id} defines a workload but none was built"
    if ".execute()" in block.code:
        recorded = {id(c.program) for c in executions if c.method == "execute"}
        ran = [p for _, p in run.programs if id(p) not in recorded]
        for program in ran:  # executed for real: finish the run, it must have done work
            if not program.is_complete():
                program.synchronize()
            assert program.is_complete(), f"{block.id}: run did not complete"
            assert program.stats.task_count > 0, f"{block.id}: the run executed no task"
        assert recorded or ran, f"{block.id}: program.execute() neither ran nor was recorded"
    if "ExternalKernel(" in block.code:
        assert any(issubclass(w.category, DeprecationWarning) for w in run.warnings)


# ------------------------------------------------------------------------------------------
# signature listings: the listed members exist on the real classes
# ------------------------------------------------------------------------------------------
def _listed_members(cls_def: ast.ClassDef) -> tuple[dict[str, object], set[str]]:
    """(enum members name -> value, attribute and method names) listed in a stub class."""
    values: dict[str, object] = {}
    members: set[str] = set()
    for stmt in cls_def.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            members.add(stmt.target.id)
        elif isinstance(stmt, ast.FunctionDef) and stmt.name != "__init__":
            members.add(stmt.name)
    return values, members


def _sample(name: str):
    """An instance to check instance attributes on, where one is cheap to build."""
    from pto_wsp import In, Out, Tensor, kernel

    def k(x: In[Tensor], y: Out[Tensor]): ...

    samples = {
        "Dense": lambda: pto_wsp.Dense[4],
        "DenseDyn": lambda: pto_wsp.DenseDyn(4),
        "Ragged": lambda: pto_wsp.Ragged(2, [1, 2]),
        "Sparse": lambda: pto_wsp.Sparse(2, [0, 1, 3], [0, 1, 2]),
        "Tensor": lambda: pto_wsp.Tensor(data=np.zeros((2, 3), np.float32)),
        "KernelRef": lambda: kernel(k),
    }
    return samples[name]() if name in samples else None


def _has_member(cls: type, instance: object, name: str) -> bool:
    if instance is not None and hasattr(instance, name):
        return True
    if hasattr(cls, name):
        return True
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return True
    return any(name in getattr(k, "__annotations__", {}) for k in cls.__mro__)


def _real_class(name: str) -> type:
    if hasattr(pto_wsp, name):
        return getattr(pto_wsp, name)
    from pto_wsp.runtime import program

    return getattr(program, name)  # ProgramStats is listed in §5.2 but not in §1.1


@pytest.mark.parametrize("block", STUB_BLOCKS, ids=lambda b: b.id)
def test_spec_listing_matches_real_classes(block: SpecBlock):
    classes = [n for n in ast.parse(block.code).body if isinstance(n, ast.ClassDef)]
    assert classes, f"{block.id} lists no class"
    for cls_def in classes:
        cls = _real_class(cls_def.name)
        values, members = _listed_members(cls_def)
        if issubclass(cls, enum.Enum):
            for member, value in values.items():
                assert cls[member].value == value, f"{cls_def.name}.{member}"
            continue
        instance = _sample(cls_def.name)
        missing = sorted(m for m in members if not _has_member(cls, instance, m))
        assert not missing, f"{cls_def.name} lacks {missing} listed in spec {block.id}"


def test_dense_listing_semantics():
    """§2.1: ``Dense[N].size`` is the compile-time constant; Ragged/Sparse helpers compute."""
    assert pto_wsp.Dense[4].size == 4
    r = pto_wsp.Ragged(3, [2, 0, 5])
    assert (r.length(2), r.total()) == (5, 7)
    s = pto_wsp.Sparse(2, [0, 1, 3], [4, 0, 2])
    assert (s.nnz(), s.row_nnz(1)) == (3, 2)
