"""A channel node's latency (DESIGN §6 "Channel latency"): edited on the node, written to the
script only when it is not the DSL's default 0, lowered into the IR, imported back, titled and
checked like any other property."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.model import commands as cmds
from app.model import io, titles
from app.model.equality import same_as
from app.model.export import export_script
from app.model.importer import import_script
from app.model.validation import validate_document

ROOT = Path(__file__).resolve().parents[3]
MEGAKERNEL = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"


def _channel(doc, name: str):
    return next(n for n in doc.graph.nodes.values() if n.name == name and "depth" in n.props)


def test_latency_is_exported_lowered_imported_and_titled(tmp_path: Path) -> None:
    doc = io.load(MEGAKERNEL)
    l2c = _channel(doc, "l2c")
    assert l2c.props["latency"] == 0
    assert "latency" not in export_script(doc).source  # the default is not written
    ed = cmds.DocumentEditor(doc)
    ed.apply(cmds.SetProperty(l2c.id, "latency", 100))
    source = export_script(doc).source
    assert 'l2c = Channel("l2c", depth=2, latency=100)' in source
    script = tmp_path / "pipeline.py"
    script.write_text(source)
    ir = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "ir", str(script)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "latency=100" in ir
    back = import_script(script)
    assert _channel(back, "l2c").props["latency"] == 100
    assert same_as(back, doc)
    assert titles.title(_channel(back, "l2c"), back) == "l2c  depth 2 · latency 100"
    assert titles.title(_channel(back, "c2s"), back) == "c2s  depth 2"


def test_a_negative_latency_is_a_diagnostic_on_the_field() -> None:
    doc = io.load(MEGAKERNEL)
    l2c = _channel(doc, "l2c")
    l2c.props["latency"] = -1
    problems = [d for d in validate_document(doc) if d.node_id == l2c.id]
    assert [d.field for d in problems] == ["props.latency"], problems
    assert "latency must be >= 0" in problems[0].message
