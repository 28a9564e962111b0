"""Sources viewer (tree, highlighting, search) and stats panel (numbers = run_stats)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from app.views.sources import PATH_ROLE, SourcesView, lexer_for
from app.views.stats import StatsPanel
from pto_wsp.runtime.program import ProgramStats
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_analysis import analyse_trace
from pto_wsp.runtime.wait_causes import NO_GATE

CPP = """// driver
#include <cstdint>
/* block
   comment */
int add(int a, int b) { return a + b; }  // ADD here
int main() { return add(1, 2); }
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "emitted"
    (root / "host").mkdir(parents=True)
    (root / "aicore").mkdir()
    (root / "host" / "main.cpp").write_text(CPP)
    (root / "aicore" / "kernel_0.cpp").write_text("void k() {}\n")
    (root / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.16)\nproject(x)\n")
    (root / "README.md").write_text("# Title\n\nsome *text*\n")
    (root / "plan.json").write_text('{"tasks": 3}\n')
    (root / "lib.so").write_bytes(b"\x7fELF\0\0\0binary")
    return root


@pytest.fixture
def view(qtbot) -> SourcesView:
    v = SourcesView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


def _colours(view: SourcesView, line: int) -> set[str]:
    block = view.viewer.document().findBlockByNumber(line)
    return {
        r.format.foreground().color().name()
        for r in block.layout().formats()
        if r.format.hasProperty(r.format.Property.ForegroundBrush)
    }


def test_tree_lists_every_file(view: SourcesView, tree: Path):
    view.set_root(tree)
    assert sorted(view.files()) == sorted(
        [
            "host/main.cpp",
            "aicore/kernel_0.cpp",
            "CMakeLists.txt",
            "README.md",
            "plan.json",
            "lib.so",
        ]
    )
    assert "6 files" in view.status_label.text()


def test_selecting_a_file_opens_it_highlighted(view: SourcesView, tree: Path, qtbot):
    view.set_root(tree)
    index = view.model.match(
        view.model.index(0, 0), QtCore.Qt.ItemDataRole.DisplayRole, "kernel_0.cpp", 1,
        QtCore.Qt.MatchFlag.MatchRecursive,
    )[0]  # fmt: skip
    with qtbot.waitSignal(view.fileOpened):
        view.tree.setCurrentIndex(index)
    assert view.current_file == tree / "aicore" / "kernel_0.cpp"
    assert view.viewer.toPlainText() == "void k() {}\n"
    # the entry point is what opens when the sources arrive (see also test_studio_defects)
    with qtbot.waitSignal(view.fileOpened):
        view.set_root(tree)
    assert view.current_file == tree / "host" / "main.cpp"
    assert view.viewer.toPlainText() == CPP
    assert view.viewer.isReadOnly()
    # comment line, both lines of the block comment, and the keyword line are coloured
    for line in (0, 2, 3, 4):
        assert _colours(view, line), f"line {line} has no coloured span"
    assert len(_colours(view, 4)) >= 2  # keyword and comment differ


SCRIPT = """from pto_wsp import kernel  # the exported DSL


def attn(Q, K):
    \"\"\"docstring
    over two lines\"\"\"
    return Q
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    """The DSL script that ran: in the run's work dir, not under the emitted tree."""
    path = tmp_path / "run-0001" / "program.py"
    path.parent.mkdir()
    path.write_text(SCRIPT)
    return path


def _click(qtbot, view: SourcesView, path: Path) -> None:
    """Click the tree row of ``path`` as a user would."""
    (index,) = view.model.match(
        view.model.index(0, 0), PATH_ROLE, str(path), 1,
        QtCore.Qt.MatchFlag.MatchExactly | QtCore.Qt.MatchFlag.MatchRecursive,
    )  # fmt: skip
    view.tree.scrollTo(index)
    rect = view.tree.visualRect(index)
    qtbot.mouseClick(view.tree.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_script_that_ran_is_listed_first_and_opens_as_python(
    view: SourcesView, tree: Path, script: Path, qtbot
):
    with qtbot.waitSignal(view.fileOpened):
        view.set_root(tree, script)
    first = view.model.index(0, 0)
    assert first.data(PATH_ROLE) == str(script)  # a top entry, listed from where it is
    assert "program.py" in first.data() and "script" in first.data()
    assert view.files()[0] == script.as_posix()
    assert sorted(view.files()[1:]) == sorted(
        ["host/main.cpp", "aicore/kernel_0.cpp", "CMakeLists.txt", "README.md", "plan.json",
         "lib.so"]
    )  # fmt: skip
    assert list(script.parent.iterdir()) == [script] and not (tree / "program.py").exists()
    assert view.current_file == script and view.viewer.toPlainText() == SCRIPT
    assert view.path_label.text() == str(script)
    # Python colours: the comment, the keyword line and both lines of the docstring
    for line in (0, 3, 4, 5):
        assert _colours(view, line), f"line {line} has no coloured span"
    # a click on a C++ file still shows C++
    with qtbot.waitSignal(view.fileOpened):
        _click(qtbot, view, tree / "aicore" / "kernel_0.cpp")
    assert view.current_file == tree / "aicore" / "kernel_0.cpp"
    assert view.viewer.toPlainText() == "void k() {}\n"
    with qtbot.waitSignal(view.fileOpened):
        _click(qtbot, view, script)
    assert view.viewer.toPlainText() == SCRIPT


def test_an_emit_only_view_lists_the_script_but_opens_the_entry_point(
    view: SourcesView, tree: Path, script: Path
):
    view.set_root(tree, script, open_script=False)
    assert view.files()[0] == script.as_posix()
    assert view.current_file == tree / "host" / "main.cpp"


def test_a_script_inside_the_tree_is_listed_once_first(view: SourcesView, tree: Path):
    inside = tree / "program.py"
    inside.write_text(SCRIPT)
    view.set_root(tree, inside)
    assert view.files()[0] == "program.py" and view.files().count("program.py") == 1
    assert view.current_file == inside


def test_the_script_alone_when_no_tree_was_emitted(view: SourcesView, script: Path, tmp_path):
    view.set_root(None, script)
    assert view.files() == [script.as_posix()] and view.current_file == script
    assert "No emitted sources" in view.status_label.text()
    view.set_root(tmp_path / "gone", script)
    assert view.current_file == script and "no such directory" in view.status_label.text()


@pytest.mark.parametrize(
    "name, lexer",
    [("a.cpp", "C++"), ("k.hpp", "C++"), ("CMakeLists.txt", "CMake"), ("x.cmake", "CMake"),
     ("README.md", "Markdown"), ("plan.json", "JSON"), ("s.py", "Python")],
)  # fmt: skip
def test_lexer_per_file_kind(name: str, lexer: str):
    assert lexer_for(name).name == lexer


def test_other_kinds_are_highlighted_too(view: SourcesView, tree: Path):
    view.set_root(tree)
    for name in ("CMakeLists.txt", "README.md", "plan.json"):
        view.open_file(tree / name)
        assert _colours(view, 0), name


def test_binary_file_is_not_shown(view: SourcesView, tree: Path):
    view.set_root(tree)
    view.open_file(tree / "lib.so")
    assert "binary file" in view.viewer.toPlainText()


def test_search_counts_and_navigates(view: SourcesView, tree: Path, qtbot):
    view.set_root(tree)
    view.open_file(tree / "host" / "main.cpp")
    qtbot.keyClick(view.viewer, QtCore.Qt.Key.Key_F, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert view.search_bar.isVisible()
    qtbot.keyClicks(view.search_edit, "add")
    assert view.match_count == CPP.lower().count("add") == 3  # case-insensitive: add, ADD, add
    assert view.current_match == 0 and view.count_label.text() == "1 of 3"
    first = CPP.lower().index("add")
    assert view.viewer.textCursor().selectionStart() == first
    assert view.viewer.textCursor().selectedText() == "add"
    view.find_next()
    assert view.current_match == 1 and view.count_label.text() == "2 of 3"
    assert view.viewer.textCursor().selectedText() == "ADD"
    view.find_previous()
    view.find_previous()
    assert view.current_match == 2  # wraps around
    assert view.viewer.textCursor().selectionStart() == CPP.rindex("add")
    assert view.search("nothing-like-this") == 0
    assert view.count_label.text() == "No matches"
    qtbot.keyClick(view.search_edit, QtCore.Qt.Key.Key_Escape)
    assert not view.search_bar.isVisible()


def test_missing_and_empty_root(view: SourcesView, tmp_path: Path):
    view.set_root(tmp_path / "gone")
    assert view.files() == [] and "no such directory" in view.status_label.text()
    view.set_root(None)
    assert view.files() == [] and view.viewer.toPlainText() == ""


def _trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """Records from (task, kernel, worker, start, end)."""
    return np.array(
        [(t, k, w, -1, s, e, -1, -1, -1, -1, NO_GATE, 0) for t, k, w, s, e in rows],
        dtype=TRACE_DTYPE,
    )


def test_stats_panel_shows_computed_numbers(qtbot):
    rows = [(0, 0, 0, 0, 10), (1, 1, 0, 10, 1200), (2, 0, 1, 0, 20), (3, 1, 1, 1200, 1500)]
    trace = _trace(rows)
    stats = ProgramStats(
        compile_time_ms=12.5, execute_time_ms=0.25, task_count=4, total_cycles=1500
    )
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.set_run(stats, trace, ["load", "mma"])
    expected = analyse_trace(trace, ["load", "mma"])
    assert panel.analysis == expected
    assert panel.value_text("compile_time_ms") == "12.500 ms"
    assert panel.value_text("execute_time_ms") == "0.250 ms"
    assert panel.value_text("task_count") == "4"
    assert panel.value_text("total_cycles") == "1,500"
    cp = expected.critical_path
    assert cp.cycles == 1500 and cp.tasks == (0, 1, 3)
    assert panel.value_text("critical_path").startswith("1,500 cycles over 3 tasks")
    assert panel.value_text("mean_utilisation") == f"{expected.mean_utilisation:.1%}"

    kt = panel.kernel_table
    kernels = {
        kt.item(r, 0).text(): [kt.item(r, c).text() for c in range(1, 6)]
        for r in range(kt.rowCount())
    }
    assert kernels == {
        "load": ["2", "30", "15.0", "10", "20"],
        "mma": ["2", "1,490", "745.0", "300", "1,190"],
    }
    wt = panel.worker_table
    workers = {wt.item(r, 0).text(): wt.item(r, 3).text() for r in range(wt.rowCount())}
    by_id = {str(w.worker): f"{w.utilisation:.1%}" for w in expected.workers}
    assert workers == by_id == {"0": "80.0%", "1": "21.3%"}
    # numeric sort, not text sort: 1,490 > 30
    kt.sortItems(2, QtCore.Qt.SortOrder.DescendingOrder)
    assert kt.item(0, 0).text() == "mma"


def test_stats_panel_lists_idle_workers_of_the_configured_count(qtbot):
    # The run was configured with 4 workers; tasks ran on workers 0 and 1, each busy throughout.
    trace = _trace([(0, 0, 0, 0, 100), (1, 0, 1, 0, 100)])
    stats = ProgramStats(task_count=2, total_cycles=100, num_workers=4)
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.set_run(stats, trace, ["k"])
    wt = panel.worker_table
    rows = {wt.item(r, 0).text(): (wt.item(r, 1).text(), wt.item(r, 3).text()) for r in range(4)}
    assert wt.rowCount() == 4
    assert rows == {
        "0": ("1", "100.0%"),
        "1": ("1", "100.0%"),
        "2": ("0", "0.0%"),
        "3": ("0", "0.0%"),
    }
    assert panel.value_text("mean_utilisation") == "50.0%"  # not 100%: the idle two count
    # The same from a runner stats mapping (what the Studio reads back from --stats).
    panel.set_run({"task_count": 2, "total_cycles": 100, "num_workers": 4}, trace, ["k"])
    assert panel.worker_table.rowCount() == 4 and panel.value_text("mean_utilisation") == "50.0%"


def test_stats_kernel_names_are_not_cut_in_a_narrow_dock(qtbot):
    """The user saw ``co…`` for ``compute_tile_block``: the name column fits its text even when
    the panel is narrower than the table (a horizontal scrollbar then, never a cut name)."""
    rows = [(0, 0, 0, 0, 10), (1, 1, 0, 10, 1_200_000), (2, 0, 1, 0, 20)]
    trace = _trace(rows)
    stats = ProgramStats(compile_time_ms=1, execute_time_ms=1, task_count=3, total_cycles=1200000)
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_run(stats, trace, ["compute_tile_block", "store"])
    QtWidgets.QApplication.processEvents()
    kt = panel.kernel_table
    (row,) = [r for r in range(kt.rowCount()) if kt.item(r, 0).text() == "compute_tile_block"]
    needed = kt.fontMetrics().horizontalAdvance("compute_tile_block")
    assert kt.visualItemRect(kt.item(row, 0)).width() > needed  # whole, not elided
    assert kt.item(row, 0).toolTip() == "compute_tile_block"
    # the numbers sit right after the name: no stretched column pushes them apart
    assert kt.columnViewportPosition(1) == kt.columnWidth(0)


def test_stats_panel_from_runner_json_without_trace(qtbot):
    panel = StatsPanel()
    qtbot.addWidget(panel)
    data = {"compile_time_ms": 3, "execute_time_ms": 1, "task_count": 7, "total_cycles": 70,
            "kernel_names": ["k"]}  # fmt: skip
    panel.set_run(data)
    assert panel.value_text("task_count") == "7" and panel.analysis is None
    assert panel.kernel_table.rowCount() == 0 and "No per-task trace" in panel.message.text()
    panel.clear()
    assert panel.value_text("task_count") == "-"
