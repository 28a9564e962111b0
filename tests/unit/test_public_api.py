"""Every name the spec promises is importable from ``pto_wsp`` (spec §1.1 and the sections)."""

from __future__ import annotations

import ast
import importlib

import pytest
from spec_blocks import spec_blocks

import pto_wsp


def _spec_module_names() -> list[str]:
    """The names imported by spec §1.1's ``from pto_wsp import (...)`` (comments excluded)."""
    block = next(b for b in spec_blocks({1}) if "from pto_wsp import" in b.code)
    imports = [n for n in ast.parse(block.code).body if isinstance(n, ast.ImportFrom)]
    return [alias.name for node in imports for alias in node.names]


SPEC_1_1 = _spec_module_names()
EXTRA = [
    "Tensor",
    "DType",
    "Location",
    "Task",
    "KernelRef",
    "Event",
    "record",
    "synchronize",
    "query",
    "TaskWindow",
    "WindowMode",
    "Symbol",
    "for_each",
    "ptoisa",
    "ptoisa_kernel",
    "slot_load_u64",
    "slot_set_u64",
    "task",
]
ERRORS = [
    "PtoError",
    "CompileError",
    "TypeCheckError",
    "IRConversionError",
    "ExecutionError",
    "KernelError",
    "ScheduleError",
    "ScheduleWarning",
    "ChannelError",
    "ChannelClosed",
    "ChannelFull",
]


def test_spec_1_1_lists_the_expected_names():
    assert len(SPEC_1_1) == 39
    assert {"Dense", "workload", "P", "kernel", "pto", "Channel", "Program"} <= set(SPEC_1_1)


@pytest.mark.parametrize("name", SPEC_1_1 + EXTRA + ERRORS)
def test_name_importable_from_pto_wsp(name: str):
    module = importlib.import_module("pto_wsp")
    assert hasattr(module, name), f"pto_wsp.{name} is missing"
    assert getattr(module, name) is not None


@pytest.mark.parametrize("name", ["slot_u64", "axis", "symbol_u64"])
def test_scalar_expr_helpers(name: str):
    from pto_wsp import scalar_expr

    assert callable(getattr(scalar_expr, name))


def test_scalar_expr_helpers_build_expressions():
    from pto_wsp.language.scalar_expr import ScalarExpr, axis, slot_u64, symbol_u64

    for expr in (slot_u64(0), axis("batch"), symbol_u64("n")):
        assert isinstance(expr, ScalarExpr)
    assert isinstance(axis("head") % 2, ScalarExpr)


def test_version_is_a_string():
    assert isinstance(pto_wsp.__version__, str) and pto_wsp.__version__.count(".") >= 1


def test_core_extension_loads():
    from pto_wsp import _core

    assert hasattr(_core, "ir")
