"""Fixtures of the cpu_sim end-to-end tests (test_ops_e2e.py, test_workloads_e2e.py).

The build cache is set up once per session by ``tests/conftest.py`` (``PTO_WSP_CACHE_DIR``):
every distinct workload costs one C++ build, so the e2e modules compile many kernels inside ONE
workload and share the program through module-scoped fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


def run_cpu_sim(workload: Any) -> Any:
    """Compile ``workload`` for cpu_sim, run it once and wait: the public path of spec §5."""
    program = workload.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


@pytest.fixture
def run() -> Callable[[Any], Any]:
    """``run(workload) -> Program`` after one complete execution."""
    return run_cpu_sim


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded per test, so every test sees the same data in any order."""
    return np.random.default_rng(1234)
