"""Test-session setup shared by every test directory.

Qt must be told, before anything imports it, to run without a display and to use PySide6
(NodeGraphQt goes through Qt.py, pyqtgraph picks its own binding). Compiled artifacts go to one
build cache per test session, shared by the pytest-xdist workers, so the op library and generated
programs are built once, not once per test or per worker.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_PREFERRED_BINDING"] = "PySide6"
os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"

# tests/ holds helpers (spec_blocks, spec_preamble) imported by tests in sub-directories.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


@pytest.fixture(scope="session", autouse=True)
def pto_wsp_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the whole session: the parent of the per-worker base temp dirs."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by gw0, gw1, ...
    cache = root / "pto-wsp-cache"
    cache.mkdir(parents=True, exist_ok=True)
    os.environ["PTO_WSP_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session", autouse=True)
def pto_wsp_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's config directory (the Studio's trust store) for this session: never the real
    one, so tests neither read a developer's trusted projects nor add to them."""
    config = tmp_path_factory.mktemp("pto-wsp-config")
    os.environ["PTO_WSP_CONFIG_DIR"] = str(config)
    return config


@pytest.fixture(scope="session", autouse=True)
def pto_wsp_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's data directory (the Studio's autosaves) for this session: never the real one,
    so a test's autosave neither lands among a developer's nor is offered back to them."""
    data = tmp_path_factory.mktemp("pto-wsp-data")
    os.environ["PTO_WSP_DATA_DIR"] = str(data)
    return data
