"""The schedule sheet's cost table: the project file stores the choice, the exported script
spells it ``program.runner.set_cost_table(CostTable.from_ptoisa("a2a3"))``, Import Python reads
it back, and a file written before the choice existed still loads and exports as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ptoisa_paths import SKIP_REASON, ptoisa_root

from app.model import io
from app.model.commands import DocumentEditor, PropertyError, SetProperty
from app.model.document import Document
from app.model.export import export_script
from app.model.importer import ScriptImportError, import_script
from app.model.kinds.schedule import SHEET_PROPS, sheet_prop_applies
from app.model.validation import document_warnings

from .copy_tiles_project import build, round_trip

CALL = 'program.runner.set_cost_table(CostTable.from_ptoisa("a2a3"))'
ROOT = ptoisa_root()


@pytest.fixture
def editor() -> DocumentEditor:
    ed = DocumentEditor(Document(name="copy_tiles"))
    build(ed, mesh=False, program=True)
    return ed


def test_sheet_offers_both_tables_with_labels() -> None:
    spec = next(p for p in SHEET_PROPS if p.name == "cost_table")
    assert spec.choices == ("pto_wsp", "ptoisa_a2a3")
    assert spec.default == "pto_wsp"
    assert dict(zip(spec.choices, spec.labels, strict=True))["ptoisa_a2a3"] == "PTO-ISA A2/A3"
    assert sheet_prop_applies({"target": "cpu_sim"}, "cost_table")
    assert not sheet_prop_applies({"target": "ascend_npu"}, "cost_table")


def test_default_table_writes_nothing(editor: DocumentEditor) -> None:
    src = export_script(editor.doc).source
    assert "set_cost_table" not in src and "CostTable" not in src


def test_ptoisa_choice_exports_the_dsl_call(editor: DocumentEditor) -> None:
    editor.apply(SetProperty("wl", "cost_table", "ptoisa_a2a3"))
    src = export_script(editor.doc).source
    lines = src.splitlines()
    compiled = next(i for i, ln in enumerate(lines) if ln.startswith("program = "))
    after = lines[compiled:]
    assert CALL in after  # after the program is compiled, before the runner block
    assert after.index(CALL) < after.index('if __name__ == "__main__":')
    assert "CostTable" in next(ln for ln in lines if ln.startswith("from pto_wsp import"))
    # on a target that prices no cycles the choice is greyed out and not written
    editor.apply(SetProperty("wl", "target", "ascend_npu"))
    assert "set_cost_table" not in export_script(editor.doc).source
    # ... and the choice the file keeps is not dropped without a word: a warning on the sheet
    (warning,) = [d for d in document_warnings(editor.doc) if d.field == "props.cost_table"]
    assert warning.node_id == "wl" and warning.severity == "warning"
    assert warning.message == (
        "cost table PTO-ISA A2/A3 is not used: only cpu_sim prices cycles, and this "
        "workload's target is ascend_npu"
    )
    editor.apply(SetProperty("wl", "target", "cpu_sim"))
    assert not [d for d in document_warnings(editor.doc) if d.field == "props.cost_table"]


def test_unknown_table_is_refused(editor: DocumentEditor) -> None:
    with pytest.raises(PropertyError, match="ptoisa_a2a3"):
        editor.apply(SetProperty("wl", "cost_table", "ptoisa_a2a4"))


def test_project_file_stores_the_choice(editor: DocumentEditor, tmp_path: Path) -> None:
    editor.apply(SetProperty("wl", "cost_table", "ptoisa_a2a3"))
    path = tmp_path / "p.pto.json"
    io.save(editor.doc, path)
    assert json.loads(path.read_text())["graph"]["nodes"]
    back = io.load(path)
    assert back.node("wl").props["cost_table"] == "ptoisa_a2a3"
    assert export_script(back).source == export_script(editor.doc).source


def test_file_without_the_choice_loads_as_the_default(editor: DocumentEditor, tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "old.pto.json"
    data = io.to_data(editor.doc)
    for n in data["graph"]["nodes"]:
        n["props"].pop("cost_table", None)  # as written before the sheet had it
    path.write_text(json.dumps(data))
    back = io.load(path)
    assert "set_cost_table" not in export_script(back).source


@pytest.mark.skipif(ROOT is None, reason=SKIP_REASON)
def test_dsl_round_trip_through_import(editor: DocumentEditor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    editor.apply(SetProperty("wl", "cost_table", "ptoisa_a2a3"))
    back = round_trip(editor.doc, tmp_path)
    assert back.node(next(n.id for n in back.graph.nodes.values() if n.kind == "workload.def")).props["cost_table"] == "ptoisa_a2a3"  # fmt: skip


def test_import_refuses_a_table_the_sheet_cannot_name(tmp_path: Path) -> None:
    script = tmp_path / "custom_rates.py"
    script.write_text(
        "import numpy as np\n"
        "from pto_wsp import DType, In, Out, P, Tensor, Tile, Dense, kernel, pto, workload\n"
        "A = Tensor(np.zeros((4, 16, 16), np.float32), name='A')\n"
        "B = Tensor(np.zeros((4, 16, 16), np.float32), name='B')\n"
        "tiles = Dense[4]\n"
        "@kernel\n"
        "def copy_k(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]):\n"
        "    pto.store(b, a)\n"
        "@workload\n"
        "def work():\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=A[i], b=B[i])\n"
        "program = work().compile(target='cpu_sim')\n"
        "program.runner.set_cost_table({'load': 2.0})\n"
    )
    with pytest.raises(ScriptImportError, match="cost table is not one the schedule sheet offers"):
        import_script(script)
