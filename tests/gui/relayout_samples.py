"""Re-lay the bundled samples with the canvas's Edit > Arrange, as a 1400x900 Studio shows them.

``python tests/gui/relayout_samples.py [SAMPLE.pto.json ...]`` (default: every
``app/projects/*.pto.json``) opens each sample in a 1400x900 main window (offscreen), runs
Edit > Arrange — ``app.model.arrange`` with the view's real node sizes and frame headers, the
layout ``test_sample_readability`` judges — and writes the new positions back into the file.
Only ``pos`` values change (the rest of the file is rewritten as ``io`` writes it: sorted keys,
one-space indent), and only when the arranged canvas fits at a higher zoom than before. It
prints ``name: zoom before -> after`` per sample.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    samples = [Path(a) for a in args] or sorted((ROOT / "app" / "projects").glob("*.pto.json"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.application import create_application
    from app.main_window import MainWindow
    from app.model import io

    create_application(sys.argv[:1])
    scratch = Path(tempfile.mkdtemp(prefix="relayout-"))
    io.autosave_dir = lambda: scratch / "autosave"  # type: ignore[assignment]
    settings = QSettings(str(scratch / "studio.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 900)
    window.show()
    for _ in range(5):
        QApplication.processEvents()
    for sample in samples:
        if not window.open_path(sample.resolve(), ask_to_save=False):
            print(f"{sample.name}: could not open", file=sys.stderr)
            continue
        QApplication.processEvents()
        canvas = window.canvas
        before = canvas.viewer.transform().m11()
        canvas.arrange()
        QApplication.processEvents()
        after = canvas.viewer.transform().m11()
        print(f"{sample.name}: {before:.2f} -> {after:.2f}", flush=True)
        if after <= before + 0.005:
            continue
        data = json.loads(sample.read_text(encoding="utf-8"))
        positions = {nid: node.pos for nid, node in window.document.graph.nodes.items()}
        for node in data["graph"]["nodes"]:
            if node["id"] in positions:
                x, y = positions[node["id"]]
                node["pos"] = [float(x), float(y)]
        text = json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        sample.write_text(text, encoding="utf-8")
        window.editor.mark_saved()
    window.editor.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
