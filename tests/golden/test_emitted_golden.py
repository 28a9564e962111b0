"""Golden emitted sources: the cpu_sim C++ and the ascend_npu source tree of one workload.

The workload is the ``attention`` sample project (a traced kernel with matmul, a row softmax
and a second matmul, called over ``P(b, h)`` under a schedule), exported as a user would and run
from a script named ``attention.py``. Codegen output is what a user opens in the Sources panel
or hands to the NPU toolchain, so every change to it must show up as a diff of
``tests/golden/data/{cpu_sim,ascend_npu}/attention/`` in review. See ``goldens.py`` for the
update switch.

Source locations in the emitted text name the script; its temporary directory is replaced by
``<export dir>`` so the files do not depend on where the test ran.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from goldens import DATA, check_tree, normalise

from app.model import io
from app.model.export import export_script
from pto_wsp.backends.ascend_npu import emit_tree
from pto_wsp.backends.cpu_sim import emit_sources
from pto_wsp.compiler.lowering import lower, lower_for_run

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "attention"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The sample's workload, built by running its exported script (not as ``__main__``, so
    it compiles but does not execute), and the directory the script ran from."""
    where = tmp_path_factory.mktemp("golden-export")
    script = where / f"{SAMPLE}.py"
    script.write_text(
        export_script(io.load(ROOT / "app" / "projects" / f"{SAMPLE}.pto.json")).source
    )
    namespace = runpy.run_path(str(script), run_name="golden_export")
    return namespace["program"].workload, where


def _files(emitted: dict[str, Any], where: Path) -> dict[str, str]:
    return {name: normalise(text, {where: "<export dir>"}) for name, text in emitted["files"]}


def test_cpu_sim_sources_match_the_golden(exported: tuple[Any, Path]) -> None:
    workload, where = exported
    lowered = lower_for_run(workload)  # what cpu_sim builds: DenseDyn bounds are params
    files = _files(emit_sources(lowered.module, lowered.tensors), where)
    assert "driver.cpp" in files and any(name.startswith("kernel_") for name in files)
    check_tree(files, DATA / "cpu_sim" / SAMPLE)


def test_ascend_npu_tree_matches_the_golden(exported: tuple[Any, Path]) -> None:
    workload, where = exported
    files = _files(emit_tree(lower(workload)), where)
    assert {"CMakeLists.txt", "host/main.cpp", "aicpu/expander.cpp"} <= set(files)
    check_tree(files, DATA / "ascend_npu" / SAMPLE)
