"""A kernel whose C++ lives in a file (``cpp_body_path`` / ``cpp_tu_path``) or whose ABI is forced
(``abi``) in the graph document: import, validation, export, trust (docs/kernels.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from app.model import trust
from app.model.export import export_script
from app.model.importer import import_script
from app.model.validation import validate_document

SCRIPT = """
import numpy as np
from pto_wsp import In, Out, P, Tensor, kernel, workload

X = Tensor(np.ones((4, 8), np.float32), name="X")
Y = Tensor(np.zeros((4, 8), np.float32), name="Y")

@kernel(cpp_body_path="body.cpp")
def from_body(x: In[Tensor], y: Out[Tensor]): ...

@kernel(cpp_tu_path="unit.cpp", name="from_unit")
def from_unit(x: In[Tensor], y: Out[Tensor]): ...

@kernel(cpp_src="pto::cpu_sim::add_cycles(2);", abi="reference")
def forced(x: In[Tensor], y: Out[Tensor]): ...

@workload
def rows():
    for i in P(4):
        from_body[i](x=X[i], y=Y[i])
        from_unit[i](x=X[i], y=Y[i])
        forced[i](x=X[i], y=Y[i])
"""


def _kernel(doc, name):
    return next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def" and n.name == name)


def test_files_and_abi_survive_import_and_export(tmp_path: Path) -> None:
    (tmp_path / "body.cpp").write_text("float* y = (float*)task->tensor_ptrs[1]; (void)y;")
    (tmp_path / "unit.cpp").write_text(
        'extern "C" uint64_t from_unit(const KernelTaskDesc*, CSPTContext*) { return 0; }'
    )
    script = tmp_path / "kernels.py"
    script.write_text(textwrap.dedent(SCRIPT))
    doc = import_script(script)
    body, unit, forced = (_kernel(doc, n) for n in ("from_body", "from_unit", "forced"))
    # the document names the files (resolved where the script found them), not their text
    assert body.props["cpp_body_path"] == str((tmp_path / "body.cpp").resolve())
    assert body.props["cpp_src"] == "" and body.props["abi"] == "auto"
    assert unit.props["cpp_tu_path"] == str((tmp_path / "unit.cpp").resolve())
    assert forced.props["abi"] == "reference"
    assert validate_document(doc) == []
    carriers = {c.name: c.fields for c in trust.code_carriers(doc)}
    assert carriers == {
        "from_body": ("cpp_body_path",),
        "from_unit": ("cpp_tu_path",),
        "forced": ("cpp_src",),
    }
    text = export_script(doc).source
    assert f'cpp_body_path="{(tmp_path / "body.cpp").resolve()}"' in text
    assert f'cpp_tu_path="{(tmp_path / "unit.cpp").resolve()}"' in text
    assert 'abi="reference"' in text
    # ... and the exported script defines the same kernels again
    again = tmp_path / "again.py"
    again.write_text(text)
    back = import_script(again)
    for name in ("from_body", "from_unit", "forced"):
        assert _kernel(back, name).props == _kernel(doc, name).props


def test_validation_of_cpp_sources(tmp_path: Path) -> None:
    (tmp_path / "body.cpp").write_text("/* */")
    (tmp_path / "unit.cpp").write_text(
        'extern "C" uint64_t from_unit(const KernelTaskDesc*, CSPTContext*) { return 0; }'
    )
    script = tmp_path / "kernels.py"
    script.write_text(textwrap.dedent(SCRIPT))
    doc = import_script(script)
    body, unit, forced = (_kernel(doc, n) for n in ("from_body", "from_unit", "forced"))

    def problems() -> list[tuple[str, str]]:
        return [(d.field, d.message) for d in validate_document(doc)]

    body.props["cpp_src"] = "/* also */"
    assert problems() == [
        ("props.cpp_body_path", "cpp_src and cpp_body_path are exclusive; give the C++ one way")
    ]
    body.props["cpp_src"] = ""
    unit.props["abi"] = "native"
    assert problems() == [("props.abi", "a cpp_tu_path translation unit is the reference ABI")]
    unit.props["abi"] = "auto"
    forced.props["cpp_src"] = ""
    assert problems() == [("props.abi", "abi names the ABI of a C++ body; the kernel has none")]
