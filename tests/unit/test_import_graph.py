"""What ``import pto_wsp`` loads: the DSL must start fast and stay below the app layer.

``ml_dtypes`` costs ~0.8 s to import and is needed only by bf16 data, so it loads on first use;
``app`` sits above ``pto_wsp`` (DESIGN §1) and must never be pulled in by it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_import_pto_wsp_loads_neither_ml_dtypes_nor_app():
    loaded = _modules_after("import pto_wsp")
    assert "ml_dtypes" not in loaded
    assert not {m for m in loaded if m == "app" or m.startswith("app.")}


def test_bf16_loads_ml_dtypes_on_first_use_and_round_trips():
    loaded = _modules_after(
        "from pto_wsp import DType\n"
        "import numpy as np\n"
        "a = np.zeros(3, DType.BF16.np)\n"
        "assert DType.from_numpy(a.dtype) is DType.BF16, DType.from_numpy(a.dtype)\n"
        "assert DType.from_any('bfloat16') is DType.BF16\n"
        "assert DType.BF16.itemsize == 2"
    )
    assert "ml_dtypes" in loaded


def test_from_numpy_still_maps_every_other_dtype_without_ml_dtypes():
    from pto_wsp import DType

    for member in DType:
        if member is not DType.BF16:
            assert DType.from_numpy(member.np) is member
    assert DType.from_numpy(np.dtype(np.float32)) is DType.F32


def test_import_pto_wsp_leaves_compile_time_modules_unloaded():
    """What only a compile or a cost-table file needs (the C++ extension, ``subprocess`` for the
    compiler, ``csv`` for PTO-ISA's cost formulas, ``json`` for a cost table file) loads then,
    not at ``import pto_wsp`` (issue #18: import <= 0.15 s over numpy)."""
    loaded = _modules_after("import pto_wsp")
    assert "pto_wsp" in loaded
    assert not loaded & {"pto_wsp._core", "subprocess", "shutil", "csv", "json"}
