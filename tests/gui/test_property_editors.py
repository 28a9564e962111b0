"""Properties panel v2: reference combos, the ordered axes list, schedule keys and a call's port
indices, driven with real Qt events (clicks, key presses, popup picks)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6 import QtCore, QtWidgets
from PySide6.QtTest import QTest

from app.editor.properties import (
    AUTO_STYLE,
    INVALID_STYLE,
    AxesListEditor,
    KeyEditor,
    PortIndexEditor,
    ReferenceCombo,
    key_from_text,
    key_to_text,
)

Qt = QtCore.Qt


# ------------------------------------------------------------------------------------------
# gestures: real events only
# ------------------------------------------------------------------------------------------
def pick(qtbot: Any, combo: QtWidgets.QComboBox, text: str) -> None:
    """One combo pick: click the combo open (its arrow, when it is editable), walk the popup
    list to ``text``, press Enter (moving the highlight in an open popup chooses nothing)."""
    combo.setFocus()
    at = combo.rect().center()
    if combo.isEditable():
        opt = QtWidgets.QStyleOptionComboBox()
        combo.initStyleOption(opt)
        at = (
            combo.style()
            .subControlRect(
                QtWidgets.QStyle.ComplexControl.CC_ComboBox,
                opt,
                QtWidgets.QStyle.SubControl.SC_ComboBoxArrow,
                combo,
            )
            .center()
        )
    QTest.mouseClick(combo, Qt.MouseButton.LeftButton, pos=at)
    view = combo.view()
    qtbot.waitUntil(lambda: view.isVisible(), timeout=2000)
    row = combo.findText(text, Qt.MatchFlag.MatchExactly)  # the popup may have refreshed it
    assert row >= 0, f"{text!r} not offered: {[combo.itemText(i) for i in range(combo.count())]}"
    QTest.keyClick(view, Qt.Key.Key_Home)
    for _ in range(row):
        QTest.keyClick(view, Qt.Key.Key_Down)
    QTest.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)


def type_and_enter(edit: QtWidgets.QWidget, text: str) -> None:
    """One committed field edit: select all, type ``text``, press Enter."""
    edit.setFocus()
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_Backspace)
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def shown(qtbot: Any, widget: QtWidgets.QWidget) -> QtWidgets.QWidget:
    qtbot.addWidget(widget)
    widget.resize(420, 300)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=2000)  # typing focus, as on a desktop
    return widget


AXES = [("n5", "batch"), ("n6", "heads"), ("n7", "seq")]


# ------------------------------------------------------------------------------------------
# reference combo
# ------------------------------------------------------------------------------------------
def test_reference_combo_lists_nodes_by_name_and_stores_the_id(qtbot: Any) -> None:
    choices = list(AXES)
    combo = shown(qtbot, ReferenceCombo(lambda: choices, empty=None))
    combo.set_value(None)
    assert [combo.itemText(i) for i in range(combo.count())] == ["(none)", "batch", "heads", "seq"]
    got: list[Any] = []
    combo.picked.connect(got.append)
    pick(qtbot, combo, "heads")
    assert got == ["n6"] and combo.value() == "n6"
    choices.append(("n9", "experts"))  # a node added since the panel was built is offered
    pick(qtbot, combo, "experts")
    assert got == ["n6", "n9"]
    combo.set_value("gone")  # a reference to a deleted node says so instead of lying
    assert combo.currentText() == "(missing gone)"


# ------------------------------------------------------------------------------------------
# axes list: order is edited here, never by wire order
# ------------------------------------------------------------------------------------------
def test_axes_list_adds_names_orders_and_removes_axes(qtbot: Any) -> None:
    editor = shown(qtbot, AxesListEditor(lambda: AXES, lambda: set()))
    editor.set_axes([])
    commits: list[list[dict[str, Any]]] = []
    editor.committed.connect(commits.append)
    pick(qtbot, editor.add_combo, "batch")  # one gesture per axis; variable named after it
    pick(qtbot, editor.add_combo, "heads")
    assert commits[-1] == [{"var": "b", "axis": "n5"}, {"var": "h", "axis": "n6"}]
    assert len(commits) == 2
    QTest.mouseClick(editor.findChild(QtWidgets.QToolButton, "axes_up_1"), Qt.MouseButton.LeftButton)  # fmt: skip
    assert commits[-1] == [{"var": "h", "axis": "n6"}, {"var": "b", "axis": "n5"}]
    type_and_enter(editor.var_edits[0], "hh")
    assert commits[-1][0] == {"var": "hh", "axis": "n6"}
    pick(qtbot, editor.axis_combos[1], "seq")  # the second row now walks seq
    assert commits[-1][1] == {"var": "b", "axis": "n7"}
    QTest.mouseClick(editor.findChild(QtWidgets.QToolButton, "axes_remove_0"), Qt.MouseButton.LeftButton)  # fmt: skip
    assert commits[-1] == [{"var": "b", "axis": "n7"}]
    assert len(commits) == 6  # one commit per gesture


def test_axes_list_refuses_a_taken_or_invalid_variable(qtbot: Any) -> None:
    editor = shown(qtbot, AxesListEditor(lambda: AXES, lambda: {"k"}))
    editor.set_axes([{"var": "b", "axis": "n5"}, {"var": "h", "axis": "n6"}])
    commits: list[Any] = []
    editor.committed.connect(commits.append)
    type_and_enter(editor.var_edits[1], "b")  # taken by the first row
    assert editor.var_edits[1].styleSheet() == INVALID_STYLE
    type_and_enter(editor.var_edits[1], "k")  # bound by an enclosing loop
    assert "already a loop variable" in editor.var_edits[1].toolTip()
    type_and_enter(editor.var_edits[1], "2x")
    assert commits == []
    pick(qtbot, editor.add_combo, "seq")  # s is free: taken names are skipped, not reused
    assert commits[-1][-1] == {"var": "s", "axis": "n7"}


# ------------------------------------------------------------------------------------------
# schedule keys
# ------------------------------------------------------------------------------------------
def test_key_text_conversions() -> None:
    assert key_from_text("b", ["b", "h"]) == ('t.get("b")', [])
    assert key_from_text("h % 2", ["b", "h"]) == ('t.get("h") % 2', [])
    assert key_from_text('t.get("batch")', ["b", "h"]) == ('t.get("batch")', [])
    assert key_from_text("", ["b"]) == ("", [])
    assert key_from_text("h %", ["h"])[1]
    assert key_to_text('t.get("h") % 2', ["b", "h"]) == "h % 2"
    assert key_to_text('t.get("head") % 2', ["b", "h"]) == 't.get("head") % 2'


def test_key_combo_picks_a_loop_variable_or_takes_an_expression(qtbot: Any) -> None:
    editor = shown(qtbot, KeyEditor(lambda: ["b", "h"]))
    editor.set_value("")
    commits: list[str] = []
    editor.committed.connect(commits.append)
    assert [editor.itemText(i) for i in range(editor.count())] == ["(none)", "b", "h", "expression…"]  # fmt: skip
    pick(qtbot, editor, "b")
    assert commits == ['t.get("b")']
    pick(qtbot, editor, "expression…")  # opens the field for typing; nothing stored yet
    qtbot.waitUntil(lambda: editor.lineEdit().hasFocus(), timeout=2000)
    assert commits == ['t.get("b")'] and editor.currentText() == "b"  # the key so far
    type_and_enter(editor.lineEdit(), "h % 2")
    assert commits == ['t.get("b")', 't.get("h") % 2']
    editor.set_value('t.get("h") % 2')  # shown in the designer's terms
    assert editor.currentText() == "h % 2"
    type_and_enter(editor.lineEdit(), "h %")  # a broken key is marked, never stored
    assert editor.styleSheet() == INVALID_STYLE and len(commits) == 2
    pick(qtbot, editor, "(none)")
    assert commits[-1] == ""


# ------------------------------------------------------------------------------------------
# a call's port indices
# ------------------------------------------------------------------------------------------
ROWS = [
    {"name": "Q", "direction": "In", "wired": "Q", "auto": "b, h", "problem": None},
    {"name": "K", "direction": "In", "wired": "K", "auto": "b, h", "problem": None},
    {"name": "O", "direction": "Out", "wired": "", "auto": "", "problem": None},
]


def test_port_index_shows_auto_greyed_and_takes_an_override(qtbot: Any) -> None:
    editor = shown(qtbot, PortIndexEditor())
    editor.set_rows(ROWS, {})
    commits: list[dict[str, str]] = []
    editor.committed.connect(commits.append)
    k = editor.edits["K"]
    assert k.text() == "b, h" and k.styleSheet() == AUTO_STYLE  # automatic: greyed
    assert not editor.resets["K"].isEnabled()
    type_and_enter(k, "b")
    assert commits == [{"K": "b"}]
    editor.set_rows(ROWS, {"K": "b"})  # the model's value comes back
    assert k.text() == "b" and k.styleSheet() == "" and editor.resets["K"].isEnabled()
    type_and_enter(editor.edits["Q"], "b, h")  # typing the automatic index changes nothing
    assert commits == [{"K": "b"}]
    type_and_enter(editor.edits["Q"], "b, 2:")  # slices are index text too
    assert commits[-1] == {"K": "b", "Q": "b, 2:"}
    type_and_enter(editor.edits["O"], "b[")  # broken: marked, not stored
    assert editor.edits["O"].styleSheet() == INVALID_STYLE and len(commits) == 2
    QTest.mouseClick(editor.resets["K"], Qt.MouseButton.LeftButton)
    assert commits[-1] == {"Q": "b, 2:"}


@pytest.mark.parametrize("problem", ["Q needs 2 indices"])
def test_port_index_shows_the_auto_rule_problem(qtbot: Any, problem: str) -> None:
    editor = shown(qtbot, PortIndexEditor())
    editor.set_rows([dict(ROWS[0], auto="b", problem=problem)], {})
    assert editor.edits["Q"].styleSheet() == INVALID_STYLE
    assert problem in editor.edits["Q"].toolTip()


def test_ctrl_z_in_a_port_index_field_after_a_commit_changes_nothing(qtbot: Any) -> None:
    """A committed override belongs to the document's history: the field's own undo history
    starts afresh, so Ctrl+Z typed in it does not bring the old text back (and commit it)."""
    from app.editor.properties import _forget_typing

    editor = shown(qtbot, PortIndexEditor())
    editor.set_rows(ROWS, {})
    commits: list[dict[str, str]] = []
    editor.committed.connect(commits.append)
    k = editor.edits["K"]
    type_and_enter(k, "0")
    _forget_typing(editor)  # what the panel does after each commit
    QTest.keyClick(k, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert k.text() == "0"
    QTest.keyClick(k, Qt.Key.Key_Return)
    assert commits == [{"K": "0"}]
