"""The properties panel: editors for the selected node's name and properties (format v2).

Every editor is chosen from the property's ``PropSpec`` (registry), never from the node's kind:
spin boxes for ints, combos for enums and dtypes, line edits with live validation for
expressions, shapes and name lists (a red border and a tooltip listing the problems; an invalid
text is never committed), a code editor for ``cpp_src``, tables for kernel parameters and
task-graph pools. Format v2 adds:

- **reference properties** (a call's kernel, a send's channel, an instance's workload...): a
  combo listing the matching nodes by name, storing the node id;
- **a loop's axes**: an ordered list of (variable, axis) rows with add, remove, up and down, so
  the order of ``P(b, h)`` is edited here (and in the frame's header), never by wire order;
- **the schedule sheet** of a workload / compose / connect frame: policy combos, counts, and
  keys picked from the workload's loop variables (stored as ``t.get("b")``, which the exporter
  writes as ``lambda t: t.get("b")``) or typed as an expression (``h % 2``);
- **a call's ports**: each parameter with its effective index, the automatic one greyed, an
  override typed in place (the same override the canvas's port edit sets).

Properties that mean nothing under the node's other choices (a worker count under a keyed
dispatch: ``registry.prop_applies``) are disabled. Every commit is one ``SetProperty`` command
through the canvas's editor (one gesture, one undo step), and the model validates it once more;
a refused value is reported through ``GraphCanvas.message`` and the editor reverts.

The panel owns no state: it rebuilds from the document whenever the selection changes, and
refreshes its editors when the model reports a change (undo, redo, another editor, a wire).
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Callable, Iterable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..model import exprs, frames, indexing, pytext, registry
from ..model.document import Node
from .canvas_api import CanvasApi
from .pools_editor import PoolsEditor
from .table_rows import rows_to_remove

INVALID_STYLE = "border: 2px solid #e0443a;"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
PARAM_COLUMNS = ("name", "direction", "kind", "rows", "cols", "dtype")
REF_TYPES = ("ref", "reference")
"""Property types holding one node id (besides those ``registry.reference_props`` names)."""
LIST_TYPES = ("axes", "reflist")
"""Property types holding an ordered list of ``{var, axis}`` entries."""
KEY_TYPES = ("key",)
KERNELS_CATEGORY = "Kernels"
"""The registry category of kernel definitions (and of the kinds that call them)."""
"""Property types holding a schedule key over the task ``t``."""


# ------------------------------------------------------------------------------------------
# text <-> value conversions for line-edited types
# ------------------------------------------------------------------------------------------
def format_value(ptype: str, value: Any) -> str:
    if ptype in ("shape", "dist") and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if ptype == "strlist" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None:
        return ""
    return str(value)


def parse_value(ptype: str, text: str) -> tuple[Any, str | None]:
    """``(value, problem)`` for a line edit's text; problem is None when it parses."""
    text = text.strip()
    if ptype == "shape":
        parts = [p.strip() for p in text.strip("[]()").split(",") if p.strip()]
        try:
            return [int(p) for p in parts], None
        except ValueError:
            return None, f"expected integers separated by commas, got {text!r}"
    if ptype == "strlist":
        return [p.strip() for p in text.split(",") if p.strip()], None
    if ptype == "dist":
        return parse_dist(text)
    if ptype == "number":
        try:
            return int(text), None
        except ValueError:
            pass
        try:
            return float(text), None
        except ValueError:
            return None, f"expected a number, got {text!r}"
    return text, None


def parse_dist(text: str) -> tuple[list[str] | None, str | None]:
    """``"R, S0"`` (also ``S(0)``, lower case) -> ``["R", "S0"]``; problem text otherwise."""
    out: list[str] = []
    for part in (p.strip() for p in text.strip("[]()").split(",")):
        if not part:
            continue
        token = part.upper().replace("(", "").replace(")", "").replace(" ", "")
        if token == "R" or (token[:1] == "S" and token[1:].isdigit()):
            out.append("S" + str(int(token[1:])) if token != "R" else "R")
        else:
            return None, (
                f"{part!r} is not a distribution: use R (replicated) or S<mesh axis> (e.g. S0) "
                "per dimension, separated by commas"
            )
    return out, None


def problems_of(spec: Any, value: Any, scope_names: set[str]) -> list[str]:
    """Everything wrong with ``value`` for ``spec``: type/syntax first, then unknown names."""
    problem = registry.prop_problem(spec, value)
    if problem is not None:
        return [problem]
    if spec.type in ("expr", "exprlist") and isinstance(value, str) and value.strip():
        return exprs.validate(value, scope_names)
    if spec.type == "exprmap" and isinstance(value, dict):
        out = []
        for key, text in value.items():
            if isinstance(text, str) and text.strip():
                out += [f"{key}: {p}" for p in exprs.validate_index(text, scope_names)]
        return out
    return []


def mark(widget: QtWidgets.QWidget, problems: list[str], doc: str = "") -> None:
    """Red border + tooltip listing ``problems`` (or the property doc when there are none)."""
    widget.setStyleSheet(INVALID_STYLE if problems else "")
    widget.setProperty("invalid", bool(problems))
    widget.setToolTip("\n".join(f"• {p}" for p in problems) if problems else doc)


# ------------------------------------------------------------------------------------------
# special editors
# ------------------------------------------------------------------------------------------
class CodeEditor(QtWidgets.QPlainTextEdit):
    """Monospace editor for C++ kernel bodies; commits on focus-out or Ctrl+Enter."""

    committed = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.setFont(font)
        self.setTabStopDistance(QtGui.QFontMetricsF(font).horizontalAdvance(" ") * 4)
        self.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.setMinimumHeight(160)
        self.setPlaceholderText("// C++ body (leave empty to build the body from tile-op nodes)")

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter) and (
            event.modifiers() & QtCore.Qt.KeyboardModifier.ControlModifier
        ):
            self.committed.emit(self.toPlainText())
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:
        self.committed.emit(self.toPlainText())
        super().focusOutEvent(event)


class ParamListEditor(QtWidgets.QWidget):
    """Table editor for a kernel signature: name, direction, kind, rows, cols, dtype per row.

    Only the fields the row's kind carries (``registry.PARAM_FIELDS``) have editors: a tile
    shows rows, cols and dtype (``Tile[rows, cols, dtype]``), a scalar its dtype, an unshaped
    tensor (``In[Tensor]``) none, since it takes any view. Picking another kind swaps the
    row's editors for the new kind's (defaults where it had none) and commits.
    """

    committed = QtCore.Signal(list)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QtWidgets.QTableWidget(0, len(PARAM_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(PARAM_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # columns as wide as their combos: at 100 px each the kind column sat past a dock's edge
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(140)
        buttons = QtWidgets.QHBoxLayout()
        for text, slot in (
            ("Add", self.add_param),
            ("Remove", self.remove_selected),
            ("Up", lambda: self.move_selected(-1)),
            ("Down", lambda: self.move_selected(1)),
        ):
            b = QtWidgets.QPushButton(text, self)
            # as wide as the text, not the style's ~80 px: four of those overflowed the dock
            b.setMinimumWidth(b.fontMetrics().horizontalAdvance(text) + 24)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._loading = False
        self.table.itemChanged.connect(self._changed)

    # -- value ----------------------------------------------------------------------------
    def set_params(self, params: list[dict[str, Any]]) -> None:
        self._loading = True
        try:
            self.table.setRowCount(0)
            for p in params:
                self._append(registry.normalize_param(p))
        finally:
            self._loading = False

    def params(self) -> list[dict[str, Any]]:
        out = []
        for row in range(self.table.rowCount()):
            name_item = self.table.item(row, 0)
            p: dict[str, Any] = {"name": name_item.text().strip() if name_item else ""}
            for col, key in ((1, "direction"), (2, "kind")):
                p[key] = self.table.cellWidget(row, col).currentText()
            for key in registry.PARAM_FIELDS.get(p["kind"], ()):
                w = self.table.cellWidget(row, PARAM_COLUMNS.index(key))
                if isinstance(w, QtWidgets.QComboBox):
                    p[key] = w.currentText()
                elif isinstance(w, QtWidgets.QSpinBox):
                    p[key] = w.value()
                # no editor yet (the kind was just changed): the default is filled in
            out.append(registry.normalize_param(p))
        return out

    # -- editing --------------------------------------------------------------------------
    def add_param(self) -> None:
        taken = {p["name"] for p in self.params()}
        k = len(taken) + 1
        while f"p{k}" in taken:
            k += 1
        self._append(registry.normalize_param({"name": f"p{k}"}))
        self._emit()

    def remove_selected(self) -> None:
        params = self.params()
        for r in rows_to_remove(self.table):
            del params[r]
        self.set_params(params)
        self._emit()

    def move_selected(self, step: int) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if len(rows) != 1:
            return
        r, params = rows[0], self.params()
        t = r + step
        if 0 <= t < len(params):
            params[r], params[t] = params[t], params[r]
            self.set_params(params)
            self.table.selectRow(t)
            self._emit()

    def _append(self, p: dict[str, Any]) -> None:
        loading, self._loading = self._loading, True  # the row is incomplete until the end
        try:
            self._append_row(p)
        finally:
            self._loading = loading

    def _append_row(self, p: dict[str, Any]) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QtWidgets.QTableWidgetItem(p["name"]))
        for key, choices in (("direction", registry.DIRECTIONS), ("kind", registry.PARAM_KINDS)):
            combo = QtWidgets.QComboBox(self.table)
            combo.addItems(list(choices))
            combo.setCurrentText(str(p[key]))
            if key == "kind":
                combo.currentTextChanged.connect(lambda _t, c=combo: self._kind_changed(c))
            else:
                combo.currentTextChanged.connect(lambda _t: self._emit())
            self.table.setCellWidget(row, PARAM_COLUMNS.index(key), combo)
        self._fill_fields(row, p)

    def _fill_fields(self, row: int, p: dict[str, Any]) -> None:
        """The rows, cols and dtype cells of ``row``: editors for the fields ``p``'s kind
        carries, an empty read-only cell for the others."""
        carried = registry.PARAM_FIELDS.get(p["kind"], ())
        for key in ("rows", "cols", "dtype"):
            col = PARAM_COLUMNS.index(key)
            self.table.removeCellWidget(row, col)
            self.table.takeItem(row, col)
            if key not in carried:
                item = QtWidgets.QTableWidgetItem("")
                item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
                hint = "; choose kind tile for Tile[rows, cols, dtype]" if p["kind"] == "tensor" else ""  # fmt: skip
                item.setToolTip(f"a {p['kind']} parameter has no {key}{hint}")
                self.table.setItem(row, col, item)
            elif key == "dtype":
                combo = QtWidgets.QComboBox(self.table)
                combo.addItems(list(registry.DTYPES))
                combo.setCurrentText(str(p[key]))
                combo.currentTextChanged.connect(lambda _t: self._emit())
                self.table.setCellWidget(row, col, combo)
            else:
                spin = QtWidgets.QSpinBox(self.table)
                spin.setRange(1, 1 << 20)
                spin.setKeyboardTracking(False)
                spin.setValue(int(p[key]))
                spin.valueChanged.connect(lambda _v: self._emit())
                self.table.setCellWidget(row, col, spin)

    def _kind_changed(self, combo: QtWidgets.QComboBox) -> None:
        """A row's kind was picked: show the new kind's fields (defaults where it had none)."""
        if self._loading:
            return
        col = PARAM_COLUMNS.index("kind")
        row = next(
            r for r in range(self.table.rowCount()) if self.table.cellWidget(r, col) is combo
        )
        loading, self._loading = self._loading, True
        try:
            self._fill_fields(row, self.params()[row])
        finally:
            self._loading = loading
        self._emit()

    def _changed(self, _item: QtWidgets.QTableWidgetItem) -> None:
        self._emit()

    def _emit(self) -> None:
        if not self._loading:
            self.committed.emit(self.params())


# ------------------------------------------------------------------------------------------
# reference properties: a combo of the matching nodes, by name
# ------------------------------------------------------------------------------------------
NONE_LABEL = "(none)"
EXPRESSION_LABEL = "expression…"
ADD_AXIS_LABEL = "+ add axis…"


def ref_kinds(spec: Any) -> tuple[str, ...]:
    """The kinds a reference property may name (from its ``PropSpec``)."""
    for attr in ("ref_kinds", "ref", "kinds", "targets"):
        value = getattr(spec, attr, None)
        if isinstance(value, str) and value:
            return (value,)
        if isinstance(value, tuple | list | frozenset | set) and value:
            return tuple(value)
    return ()


def is_reference(spec: Any) -> bool:
    return spec.type in REF_TYPES or (spec.type not in LIST_TYPES and bool(ref_kinds(spec)))


def reference_choices(doc: Any, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """``[(node id, label), ...]`` of the document's nodes of ``kinds``, in document order.

    The label is the node's name (its kind's display name when unnamed); a name used twice
    carries the node id so the two can be told apart.
    """
    found = [n for n in doc.graph.nodes.values() if n.kind in kinds]
    labels = [registry.node_label(n) for n in found]
    return [
        (n.id, f"{lab}  ({n.id})" if labels.count(lab) > 1 else lab)
        for n, lab in zip(found, labels, strict=True)
    ]


class ReferenceCombo(QtWidgets.QComboBox):
    """A reference property: the matching nodes by name (``itemData`` holds the node id).

    The list is read from the document again whenever the popup opens, so nodes added or
    renamed since the panel was built are offered. ``picked`` carries the chosen id (or the
    property's empty value for "(none)"); it is emitted for user picks only.
    """

    picked = QtCore.Signal(object)

    def __init__(
        self,
        choices: Callable[[], list[tuple[str, str]]],
        empty: Any = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._choices = choices
        self._empty = empty
        self._value: Any = empty
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.activated.connect(self._on_activated)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        """Show ``value`` (rebuilding the list); emits nothing."""
        self._value = value
        self._fill()

    def _fill(self) -> None:
        with QtCore.QSignalBlocker(self):
            self.clear()
            self.addItem(NONE_LABEL, self._empty)
            current = 0
            for node_id, label in self._choices():
                self.addItem(label, node_id)
                if node_id == self._value:
                    current = self.count() - 1
            if current == 0 and self._value not in (None, "", self._empty):
                self.addItem(f"(missing {self._value})", self._value)  # a dangling reference
                current = self.count() - 1
            self.setCurrentIndex(current)

    def showPopup(self) -> None:  # noqa: N802 - Qt override
        self._fill()
        super().showPopup()

    def pick(self, node_id: Any) -> bool:
        """Choose the entry holding ``node_id`` as a user would (emits ``picked``)."""
        self._fill()
        index = self.findData(node_id)
        if index < 0:
            return False
        self.setCurrentIndex(index)
        self.activated.emit(index)
        return True

    def _on_activated(self, index: int) -> None:
        value = self.itemData(index)
        if value == self._value:
            return
        self._value = value
        self.picked.emit(value)


# ------------------------------------------------------------------------------------------
# a loop's axes: an ordered list of (variable, axis) rows
# ------------------------------------------------------------------------------------------
def default_var(axis_label: str, taken: set[str]) -> str:
    """A loop variable for a new axis row: the axis name's first letter (``batch`` -> ``b``)
    when free, else the first free one of ``i, j, k, ...`` (numbered past ``z``)."""
    first = axis_label[:1].lower()
    if first.isidentifier() and first not in taken and not keyword.iskeyword(first):
        return first
    for c in "ijklmnpqrsuvwxyzabcdefgho":
        if c not in taken:
            return c
    return registry.free_name("i", taken)


class AxesListEditor(QtWidgets.QWidget):
    """``[{"var": "b", "axis": "<axis node id>"}, ...]`` in order: the header of ``P(...)``.

    One row per axis: the variable (a line edit), the axis (a combo of the document's axes),
    and buttons to move the row up or down or remove it. The last row's combo adds an axis:
    picking one appends it with a variable named after it. Every change emits ``committed``
    with the whole list (one undoable edit). The order is the loop's: wires never decide it.
    """

    committed = QtCore.Signal(list)

    def __init__(
        self,
        axis_choices: Callable[[], list[tuple[str, str]]],
        outer_vars: Callable[[], set[str]],
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._choices = axis_choices
        self._outer = outer_vars
        self._axes: list[dict[str, Any]] = []
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(3)
        self.var_edits: list[QtWidgets.QLineEdit] = []
        self.axis_combos: list[ReferenceCombo] = []
        self.add_combo = ReferenceCombo(self._choices, empty=None)
        self.add_combo.setObjectName("axes_add")
        self.add_combo.setToolTip("add an axis to the loop (its variable is named after it)")
        self.add_combo.picked.connect(self._add_picked)
        self._widgets: list[QtWidgets.QWidget] = []

    # -- value ------------------------------------------------------------------------------
    def axes(self) -> list[dict[str, Any]]:
        return [dict(a) for a in self._axes]

    def set_axes(self, axes: Any) -> None:
        """Show ``axes`` (the model's value); emits nothing."""
        self._axes = [
            {"var": str(a.get("var", "")), "axis": a.get("axis")}
            for a in (axes if isinstance(axes, list) else [])
            if isinstance(a, dict)
        ]
        self._rebuild()

    def _rebuild(self) -> None:
        for w in self._widgets:
            _discard(self.grid, w)
        self._widgets = []
        self.var_edits, self.axis_combos = [], []
        style = self.style()
        icons = (
            ("up", QtWidgets.QStyle.StandardPixmap.SP_ArrowUp, "move this axis out (earlier)"),
            ("down", QtWidgets.QStyle.StandardPixmap.SP_ArrowDown, "move this axis in (later)"),
            ("remove", QtWidgets.QStyle.StandardPixmap.SP_DialogCloseButton, "remove this axis"),
        )
        for row, entry in enumerate(self._axes):
            var = QtWidgets.QLineEdit(entry["var"])
            var.setObjectName(f"axes_var_{row}")
            var.setMaximumWidth(70)
            var.setToolTip("loop variable")
            var.editingFinished.connect(lambda r=row, e=var: self._var_edited(r, e))
            var.textChanged.connect(lambda t, r=row, e=var: mark(e, self._var_problems(r, t), "loop variable"))  # fmt: skip
            combo = ReferenceCombo(self._choices, empty=None)
            combo.setObjectName(f"axes_axis_{row}")
            combo.set_value(entry["axis"])
            combo.picked.connect(lambda v, r=row: self._axis_picked(r, v))
            self.grid.addWidget(var, row, 0)
            self.grid.addWidget(combo, row, 1)
            self.var_edits.append(var)
            self.axis_combos.append(combo)
            self._widgets += [var, combo]
            for col, (what, pixmap, tip) in enumerate(icons, start=2):
                button = QtWidgets.QToolButton()
                button.setObjectName(f"axes_{what}_{row}")
                button.setIcon(style.standardIcon(pixmap))
                button.setToolTip(tip)
                button.setAutoRaise(True)
                if what == "up":
                    button.setEnabled(row > 0)
                    button.clicked.connect(lambda _=False, r=row: self.move(r, -1))
                elif what == "down":
                    button.setEnabled(row < len(self._axes) - 1)
                    button.clicked.connect(lambda _=False, r=row: self.move(r, 1))
                else:
                    button.clicked.connect(lambda _=False, r=row: self.remove(r))
                self.grid.addWidget(button, row, col)
                self._widgets.append(button)
        self.add_combo.set_value(None)
        self.add_combo.setItemText(0, ADD_AXIS_LABEL)
        self.grid.addWidget(self.add_combo, len(self._axes), 0, 1, 5)

    # -- editing ----------------------------------------------------------------------------
    def _taken(self, skip: int | None = None) -> set[str]:
        own = {a["var"] for i, a in enumerate(self._axes) if i != skip}
        return own | set(self._outer())

    def _var_problems(self, row: int, text: str) -> list[str]:
        text = text.strip()
        if not exprs.is_identifier(text):
            return [f"{text!r} is not a valid Python name"]
        if text in self._taken(skip=row):
            return [f"{text!r} is already a loop variable here"]
        return []

    def _var_edited(self, row: int, edit: QtWidgets.QLineEdit) -> None:
        if row >= len(self._axes):
            return
        text = edit.text().strip()
        if text == self._axes[row]["var"] or self._var_problems(row, text):
            return
        self._axes[row]["var"] = text
        self.committed.emit(self.axes())

    def _axis_picked(self, row: int, axis: Any) -> None:
        if row < len(self._axes):
            self._axes[row]["axis"] = axis
            self.committed.emit(self.axes())

    def _add_picked(self, axis: Any) -> None:
        if axis is None:
            return
        label = dict(self._choices()).get(axis, "")
        self._axes.append({"var": default_var(label, self._taken()), "axis": axis})
        self._rebuild()
        self.committed.emit(self.axes())

    def move(self, row: int, step: int) -> None:
        target = row + step
        if 0 <= row < len(self._axes) and 0 <= target < len(self._axes):
            self._axes[row], self._axes[target] = self._axes[target], self._axes[row]
            self._rebuild()
            self.committed.emit(self.axes())

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._axes):
            del self._axes[row]
            self._rebuild()
            self.committed.emit(self.axes())


# ------------------------------------------------------------------------------------------
# schedule keys: a loop variable from a combo, or an expression
# ------------------------------------------------------------------------------------------
def _task_get(name: str) -> ast.Call:
    return ast.Call(
        func=ast.Attribute(value=ast.Name(exprs.TASK_VAR, ast.Load()), attr="get", ctx=ast.Load()),
        args=[ast.Constant(name)],
        keywords=[],
    )


def stored_key(name: str) -> str:
    """The stored key for loop variable ``name``: ``t.get("b")``, which the exporter writes as
    ``lambda t: t.get("b")`` (the DSL's task exposes axis values by variable or axis name)."""
    return f"{exprs.TASK_VAR}.get({pytext.literal(name)})"


def key_from_text(text: str, loop_vars: Iterable[str]) -> tuple[str, list[str]]:
    """A typed key in the designer's terms (``h % 2``) as stored (``t.get("h") % 2``).

    Bare names that are loop variables of the workload become ``t.get("name")``; anything
    else is kept (``t.get("batch")`` too). The result is checked like any key expression;
    ``(stored text, problems)``.
    """
    text = text.strip()
    if not text:
        return "", []
    problems, _ = exprs.check(text)
    if problems:
        return text, problems
    names = set(loop_vars) - {exprs.TASK_VAR}

    class Lift(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:  # noqa: N802 - ast API
            return _task_get(node.id) if node.id in names else node

    tree = Lift().visit(exprs.parse(text))
    stored = exprs.render(ast.unparse(ast.fix_missing_locations(tree)))
    return stored, []


def key_to_text(stored: str, loop_vars: Iterable[str]) -> str:
    """The stored key as the designer reads it: ``t.get("h") % 2`` -> ``h % 2`` (only for
    loop variables of the workload; other keys are shown as stored)."""
    if not isinstance(stored, str) or not stored.strip():
        return ""
    if exprs.check(stored)[0]:
        return stored
    names = set(loop_vars)

    class Lower(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802 - ast API
            self.generic_visit(node)
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and f.attr == "get"
                and isinstance(f.value, ast.Name)
                and f.value.id == exprs.TASK_VAR
                and len(node.args) == 1
                and not node.keywords
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in names
            ):
                return ast.Name(node.args[0].value, ast.Load())
            return node

    tree = Lower().visit(exprs.parse(stored))
    text = ast.unparse(ast.fix_missing_locations(tree))
    try:
        return exprs.render(text)  # t.get("x") with the quotes the exporter writes
    except ValueError:
        return text


class KeyEditor(QtWidgets.QComboBox):
    """A schedule key: "(none)", the workload's loop variables, or "expression…".

    Picking a variable stores ``t.get("b")`` (one gesture); "expression…" opens the field for
    typing, where loop variables may be used bare (``h % 2``) and Enter commits. The field
    shows the stored key in the same terms.
    """

    committed = QtCore.Signal(str)

    def __init__(
        self, loop_vars: Callable[[], list[str]], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._vars = loop_vars
        self._value = ""
        self.setEditable(True)
        self.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.lineEdit().setPlaceholderText("none — pick a loop variable or type an expression")
        self.activated.connect(self._on_activated)
        self.lineEdit().returnPressed.connect(self._commit_text)
        self.lineEdit().editingFinished.connect(self._commit_text)
        self.lineEdit().textEdited.connect(lambda t: mark(self, self.problems(t), self._doc))
        self._doc = ""

    def set_doc(self, doc: str) -> None:
        self._doc = doc
        self.setToolTip(doc)

    def value(self) -> str:
        return self._value

    def set_value(self, value: Any) -> None:
        """Show ``value`` (the stored key); emits nothing."""
        self._value = value if isinstance(value, str) else ""
        names = self._vars()
        with QtCore.QSignalBlocker(self):
            self.clear()
            self.addItem(NONE_LABEL, "")
            for v in names:
                self.addItem(v, stored_key(v))
            self.addItem(EXPRESSION_LABEL, None)
            index = self.findData(self._value) if self._value else 0
            if index > 0:
                self.setCurrentIndex(index)
            else:
                self.setCurrentIndex(-1)
                self.setEditText(key_to_text(self._value, names))
        mark(self, [], self._doc)

    def problems(self, text: str) -> list[str]:
        if text in (NONE_LABEL, EXPRESSION_LABEL):
            return []
        return key_from_text(text, self._vars())[1]

    def pick_var(self, name: str) -> bool:
        """Choose loop variable ``name`` as a user would."""
        index = self.findText(name, QtCore.Qt.MatchFlag.MatchExactly)
        if index < 0:
            return False
        self.setCurrentIndex(index)
        self.activated.emit(index)
        return True

    def _on_activated(self, index: int) -> None:
        data = self.itemData(index)
        if data is None:  # expression…: type it
            with QtCore.QSignalBlocker(self):
                self.setCurrentIndex(-1)
                self.setEditText(key_to_text(self._value, self._vars()))
            QtCore.QTimer.singleShot(0, self._start_typing)  # after the popup gave focus back
            return
        self._emit(data)

    def _start_typing(self) -> None:
        edit = self.lineEdit()
        if edit is not None:
            edit.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
            edit.selectAll()

    def _commit_text(self) -> None:
        text = self.currentText().strip()
        if text == EXPRESSION_LABEL:
            return
        if text == NONE_LABEL:
            text = ""
        stored, problems = key_from_text(text, self._vars())
        mark(self, problems, self._doc)
        if not problems:
            self._emit(stored)

    def _emit(self, stored: str) -> None:
        if stored != self._value:
            self._value = stored
            self.committed.emit(stored)


# ------------------------------------------------------------------------------------------
# a kernel call's ports: the effective index of each parameter
# ------------------------------------------------------------------------------------------
AUTO_STYLE = "color: gray; font-style: italic;"


class PortIndexEditor(QtWidgets.QWidget):
    """One row per parameter of the call's kernel: its direction, what is wired to it, and
    its effective index. An automatic index (from the loops around the call) is shown greyed;
    typing in the field and pressing Enter stores an override (``""`` for the whole tensor);
    the reset button goes back to automatic. The canvas's port edits change the same
    override (``props.index[param]``)."""

    committed = QtCore.Signal(dict)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(4)
        self.edits: dict[str, QtWidgets.QLineEdit] = {}
        self.resets: dict[str, QtWidgets.QToolButton] = {}
        self._mapping: dict[str, str] = {}
        self._rows: list[dict[str, Any]] = []
        self._widgets: list[QtWidgets.QWidget] = []

    def set_rows(self, rows: list[dict[str, Any]], mapping: Any) -> None:
        """``rows``: ``{name, direction, wired, auto, problem}`` per parameter; ``mapping`` the
        call's ``index`` property. Emits nothing."""
        self._mapping = dict(mapping) if isinstance(mapping, dict) else {}
        same = [r["name"] for r in rows] == [r["name"] for r in self._rows]
        self._rows = rows
        if not same:
            self._rebuild()
        for r in rows:
            self._show_row(r)

    def mapping(self) -> dict[str, str]:
        return dict(self._mapping)

    def _rebuild(self) -> None:
        for w in self._widgets:
            _discard(self.grid, w)
        self._widgets, self.edits, self.resets = [], {}, {}
        if not self._rows:
            hint = QtWidgets.QLabel("pick the kernel to see its parameters")
            hint.setEnabled(False)
            self.grid.addWidget(hint, 0, 0, 1, 3)
            self._widgets.append(hint)
            return
        reset_icon = self.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_BrowserReload)
        for i, r in enumerate(self._rows):
            name = r["name"]
            label = QtWidgets.QLabel()
            label.setObjectName(f"port_label_{name}")
            edit = QtWidgets.QLineEdit()
            edit.setObjectName(f"port_index_{name}")
            edit.editingFinished.connect(lambda n=name, e=edit: self._edited(n, e))
            edit.textEdited.connect(lambda t, e=edit: e.setStyleSheet(""))
            reset = QtWidgets.QToolButton()
            reset.setObjectName(f"port_auto_{name}")
            reset.setIcon(reset_icon)
            reset.setAutoRaise(True)
            reset.setToolTip("back to the automatic index (from the loops around the call)")
            reset.clicked.connect(lambda _=False, n=name: self.reset(n))
            self.grid.addWidget(label, i, 0)
            self.grid.addWidget(edit, i, 1)
            self.grid.addWidget(reset, i, 2)
            self._widgets += [label, edit, reset]
            self.edits[name] = edit
            self.resets[name] = reset

    def _show_row(self, r: dict[str, Any]) -> None:
        name = r["name"]
        edit = self.edits.get(name)
        if edit is None:
            return
        label = edit.parentWidget().findChild(QtWidgets.QLabel, f"port_label_{name}")
        arrow = {"Out": "→", "InOut": "↔"}.get(str(r.get("direction")), "←")
        wired = f" {arrow} {r['wired']}" if r.get("wired") else ""
        if label is not None:
            label.setText(f"{name} <span style='color:gray'>{r['direction']}{wired}</span>")
        override = self._mapping.get(name)
        auto = not isinstance(override, str)
        text = r["auto"] if auto else override
        if edit.text() != text:
            with QtCore.QSignalBlocker(edit):
                edit.setText(text)
        edit.setProperty("auto", auto)
        edit.setPlaceholderText("whole tensor" if not auto else "automatic: whole tensor")
        problem = r.get("problem")
        if problem:
            mark(edit, [problem])
        else:
            edit.setStyleSheet(AUTO_STYLE if auto else "")
            edit.setToolTip(
                "automatic index from the loops around the call; type to override"
                if auto
                else "index set here; the button resets it to automatic"
            )
        self.resets[name].setEnabled(not auto)

    def is_auto(self, name: str) -> bool:
        return not isinstance(self._mapping.get(name), str)

    def _edited(self, name: str, edit: QtWidgets.QLineEdit) -> None:
        row = next((r for r in self._rows if r["name"] == name), None)
        if row is None:
            return
        text = edit.text().strip()
        if self.is_auto(name) and text == row["auto"]:
            return  # the automatic index, untouched
        problems = exprs.check_index(text)[0] if text else []
        if problems:
            mark(edit, problems)
            return
        if self._mapping.get(name) == text:
            return
        self._mapping[name] = text
        self._show_row(row)
        self.committed.emit(self.mapping())

    def reset(self, name: str) -> None:
        if name in self._mapping:
            del self._mapping[name]
            row = next((r for r in self._rows if r["name"] == name), None)
            if row is not None:
                self._show_row(row)
            self.committed.emit(self.mapping())


# ------------------------------------------------------------------------------------------
# a dict property edited field by field (the sheet's task_graph)
# ------------------------------------------------------------------------------------------
class FieldsEditor(QtWidgets.QGroupBox):
    """A dict property whose fields have ``PropSpec``s: one editor per field, in a box.

    Each field's commit stores the whole dict with that field changed; fields at their
    default are left out, so an untouched dict stays ``{}`` (nothing emitted)."""

    def __init__(self, title: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.form = QtWidgets.QFormLayout(self)
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.refreshers: dict[str, Callable[[Any], None]] = {}


# ------------------------------------------------------------------------------------------
# the panel
# ------------------------------------------------------------------------------------------
def reference_targets(kind_id: str, spec: Any) -> tuple[str, ...]:
    """The kinds the reference property ``spec`` of ``kind_id`` may name (registry)."""
    lookup = getattr(registry, "reference_kinds", None)
    if lookup is not None:
        found = lookup(kind_id, spec.name)
        if found:
            return tuple(found)
    return ref_kinds(spec)


def call_reference() -> tuple[str, str, tuple[str, ...]] | None:
    """``(call kind, its kernel property, kernel definition kinds)``: the node kind whose
    reference property names a kernel definition (kinds of the Kernels category), read from
    the registry; None when no kind calls a kernel."""
    for k in registry.KINDS.values():
        if getattr(k, "frame", False):
            continue
        for prop in getattr(registry, "reference_props", lambda _k: {})(k.id):
            try:
                spec = k.prop(prop)
            except KeyError:
                continue
            targets = reference_targets(k.id, spec)
            if targets and all(
                t in registry.KINDS and registry.kind(t).category == KERNELS_CATEGORY
                for t in targets
            ):
                return k.id, prop, targets
    return None


def defined_kernels(doc: Any) -> list[Node]:
    """The document's kernel definitions (what a call may name), in document order."""
    ref = call_reference()
    if ref is None:
        return []
    return [n for n in doc.graph.nodes.values() if n.kind in ref[2]]


def reference_key(kind_id: str, spec: Any) -> tuple[bool, str | None]:
    """``(is a reference, key)``: key is None for a plain id property, else the field holding
    the id inside each entry of a list property (``axes: [{var, axis}]`` -> ``"axis"``)."""
    lookup = getattr(registry, "reference_props", None)
    if lookup is not None:
        refs = lookup(kind_id)
        if spec.name in refs:
            return True, refs[spec.name]
    if spec.type in REF_TYPES:
        return True, None
    if spec.type in LIST_TYPES:
        return True, "axis"
    return False, None


def is_key(spec: Any) -> bool:
    """A schedule key over the task (``t.get("b")``): a key combo, not a plain expression."""
    return spec.type in KEY_TYPES or bool(getattr(spec, "task_key", False))


def sheet_vars(doc: Any, frame: Node) -> list[str]:
    """Loop variables of the loops inside a program frame (its workload's ``b``, ``h``), in
    frame order; through instances to the workloads they name (``combine``/``sequential``)."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(frame_id: str) -> None:
        if frame_id in seen:
            return
        seen.add(frame_id)
        for n in frames.descendants(doc, frame_id):
            for v in frames.bound_vars(n):
                if v not in out:
                    out.append(v)
            for value in n.props.values():
                target = doc.graph.nodes.get(value) if isinstance(value, str) else None
                if target is not None and target.kind in registry.PROGRAM_KINDS:
                    visit(target.id)

    visit(frame.id)
    return out


def names_in_scope(canvas: CanvasApi, node: Node) -> set[str]:
    """Names an expression property of ``node`` may use: the root canvas's names, the loop
    variables around the node, and on a program frame the task ``t`` and its loop variables."""
    doc = canvas.doc
    names = {n.name for n in doc.graph.nodes.values() if n.name}
    if node.id in doc.graph.nodes:
        names.update(frames.loop_vars(doc, node.id))
        if node.kind in registry.PROGRAM_KINDS:
            names.add(exprs.TASK_VAR)
            names.update(sheet_vars(doc, node))
    else:  # a kernel body node: the body's own names
        found = doc.locate(node.id)
        if found is not None:
            names.update(n.name for n in found[1].nodes.values() if n.name)
    return names


class PropertiesPanel(QtWidgets.QScrollArea):
    """Editors for the node selected on ``canvas`` (``editors[field]`` holds each widget)."""

    def __init__(self, canvas: CanvasApi, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PropertiesPanel")
        self.canvas = canvas
        self.setWidgetResizable(True)
        self.node_id: str | None = None
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.ports: PortIndexEditor | None = None
        self._refreshers: dict[str, Callable[[Any], None]] = {}
        self._derived: list[Callable[[], None]] = []
        self._enablers: list[Callable[[], None]] = []
        self._committing = False
        self._body = QtWidgets.QWidget()
        self._form = QtWidgets.QFormLayout(self._body)
        self.setWidget(self._body)
        self._derived_timer = QtCore.QTimer(self)
        self._derived_timer.setSingleShot(True)
        self._derived_timer.setInterval(0)
        self._derived_timer.timeout.connect(self._refresh_derived)
        canvas.selection_changed.connect(self._on_selection)
        ev = canvas.editor.events
        slots: list[tuple[Any, Callable[..., None]]] = [
            (ev.property_changed, self._on_property_changed),
            (ev.node_removed, self._on_node_removed),
            (ev.graph_reset, self._on_reset),
        ]
        for name in ("edge_added", "edge_removed", "node_added", "parent_changed", "order_changed"):
            signal = getattr(ev, name, None)
            if signal is not None:
                slots.append((signal, self._on_structure_changed))
        for sig, slot in slots:
            sig.connect(slot)
        # The model's signals hold plain callables: drop ours when Qt deletes the panel.
        self.destroyed.connect(lambda *_: [sig.disconnect(slot) for sig, slot in slots])
        self.show_node(None)

    # -- selection ------------------------------------------------------------------------
    def _on_selection(self, ids: list[str]) -> None:
        self.show_node(ids[0] if len(ids) == 1 else None, count=len(ids))

    def show_node(self, node_id: str | None, count: int = 0) -> None:
        """Show the editors for ``node_id`` (None: an explanatory placeholder)."""
        self._clear()
        self.node_id = node_id
        if node_id is None or self.canvas.doc.locate(node_id) is None:
            self.node_id = None
            text = f"{count} nodes selected" if count > 1 else "Select a node to edit it."
            label = QtWidgets.QLabel(text)
            label.setEnabled(False)
            self._form.addRow(label)
            return
        node = self.canvas.doc.node(node_id)
        kind = registry.kind(node.kind)
        header = QtWidgets.QLabel(f"<b>{kind.title}</b>  <span style='color:gray'>{node.id}</span>")
        header.setToolTip(kind.doc)
        self._form.addRow(header)
        if kind.doc:
            doc = QtWidgets.QLabel(kind.doc)
            doc.setWordWrap(True)
            doc.setEnabled(False)
            self._form.addRow(doc)
        self._add_name_editor(node, kind)
        scope_names = names_in_scope(self.canvas, node)
        sheet = {p.name for p in getattr(registry, "SHEET_PROPS", ()) or ()}
        for spec in kind.props:
            if spec.name in sheet and not any(s in self.editors for s in sheet):
                self._section("Schedule")
            self._add_prop_editor(node, spec, scope_names)
        self._update_enabled(node)

    def _section(self, title: str) -> None:
        label = QtWidgets.QLabel(f"<b>{title}</b>")
        label.setObjectName(f"section_{title.lower()}")
        self._form.addRow(label)

    def _update_enabled(self, node: Node) -> None:
        """Disable the editors of properties (and dict fields) that do not apply to the node's
        other choices."""
        for enable in list(self._enablers):
            enable()
        for spec in registry.kind(node.kind).props:
            w = self.editors.get(spec.name)
            if w is None:
                continue
            applies = registry.prop_applies(node, spec.name)
            w.setEnabled(applies)
            label = self._form.labelForField(w)
            if label is not None:
                label.setEnabled(applies)
        layout = self.editors.get("layout")
        if isinstance(layout, QtWidgets.QLineEdit) and "shape" in self.editors:
            layout.textChanged.emit(layout.text())  # the shape may have changed: re-check rank

    def _clear(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors = {}
        self.ports = None
        self._refreshers = {}
        self._derived = []
        self._enablers = []

    # -- model events -----------------------------------------------------------------------
    def _on_property_changed(self, node: Node, field: str, old: Any, new: Any) -> None:
        if node.id != self.node_id:
            self._derived_timer.start()  # a kernel's params or a tensor's shape: the ports
            return
        self._update_enabled(node)  # also after our own commits: a choice enables its fields
        self._derived_timer.start()
        if self._committing:
            return
        refresh = self._refreshers.get(field)
        if refresh is not None:
            refresh(new)

    def _on_structure_changed(self, *_args: Any) -> None:
        self._derived_timer.start()

    def _refresh_derived(self) -> None:
        """What the shown editors derive from the rest of the document: a call's ports and
        their automatic indices, the automatic axes, the key combos' loop variables."""
        if self.node_id is None:
            return
        found = self.canvas.doc.locate(self.node_id)
        if found is None:
            self.show_node(None)
            return
        for refresh in list(self._derived):
            refresh()

    def _on_reset(self, _doc: Any) -> None:
        self.show_node(None)

    def _on_node_removed(self, node: Node, *_args: Any) -> None:
        if node.id == self.node_id:
            self.show_node(None)
        else:
            self._derived_timer.start()

    # -- commit -------------------------------------------------------------------------------
    def commit(self, field: str, value: Any) -> bool:
        """Set ``field`` of the shown node through the editor (one undo step)."""
        if self.node_id is None:
            return False
        node = self.canvas.doc.node(self.node_id)
        current = node.name if field == "name" else node.props.get(field)
        if current == value:
            _forget_typing(self.editors.get(field))
            return True
        self._committing = True
        try:
            ok = self.canvas.set_property(self.node_id, field, value)
        finally:
            self._committing = False
        if not ok:  # revert the editor to the model's value
            refresh = self._refreshers.get(field)
            if refresh is not None:
                refresh(current)
        _forget_typing(self.editors.get(field))
        return ok

    # -- editors --------------------------------------------------------------------------
    def _add_derived(self, refresh: Callable[[], None]) -> None:
        self._derived.append(refresh)

    def _add_name_editor(self, node: Node, kind: Any) -> None:
        edit = QtWidgets.QLineEdit(node.name)
        edit.setObjectName("prop_name")

        def validate(text: str) -> list[str]:
            if kind.name_base and not exprs.is_identifier(text):
                return [f"{text!r} is not a valid Python name"]
            return []

        edit.textChanged.connect(lambda t: mark(edit, validate(t), "node name"))
        edit.editingFinished.connect(
            lambda: None if validate(edit.text()) else self.commit("name", edit.text())
        )
        self._refreshers["name"] = lambda v: _set_text(edit, str(v))
        self.editors["name"] = edit
        self._form.addRow("name", edit)

    def _add_prop_editor(self, node: Node, spec: Any, scope_names: set[str]) -> None:
        value = node.props.get(spec.name, spec.default)
        w, refresh = self.make_editor(
            node, spec, value, lambda v, f=spec.name: self.commit(f, v), scope_names
        )
        w.setObjectName(f"prop_{spec.name}")
        if not w.toolTip():
            w.setToolTip(spec.doc)
        self.editors[spec.name] = w
        self._refreshers[spec.name] = refresh
        label = QtWidgets.QLabel(spec.name)
        label.setToolTip(spec.doc)
        self._form.addRow(label, w)

    def make_editor(
        self,
        node: Node,
        spec: Any,
        value: Any,
        commit: Callable[[Any], object],
        scope_names: set[str],
    ) -> tuple[QtWidgets.QWidget, Callable[[Any], None]]:
        """The editor widget for ``spec`` showing ``value`` and its refresher; ``commit`` is
        called with each committed value (one gesture, one call)."""
        t = spec.type
        doc = self.canvas.doc
        node_id = node.id
        is_ref, ref_key = reference_key(node.kind, spec)
        refresh: Callable[[Any], None]
        if is_ref and ref_key is not None:
            targets = reference_targets(node.kind, spec)
            w = AxesListEditor(
                lambda: reference_choices(self.canvas.doc, targets),
                lambda: set(frames.loop_vars(self.canvas.doc, node_id)),
            )
            w.set_axes(value)
            w.committed.connect(lambda v: commit(v))
            refresh = lambda v, w=w: w.set_axes(v)  # noqa: E731
        elif is_ref:
            targets = reference_targets(node.kind, spec)
            w = ReferenceCombo(lambda: reference_choices(self.canvas.doc, targets), spec.default)
            w.set_value(value)
            w.picked.connect(lambda v: commit(v))
            refresh = lambda v, w=w: w.set_value(v)  # noqa: E731
        elif is_key(spec) or (node.kind in registry.PROGRAM_KINDS and t == "expr"):
            # an expression on a program's sheet is a key over the task (dispatch, stream_by,
            # the task graph's ready_key): picked from the loop variables or typed
            w = KeyEditor(lambda: self._key_vars(node_id))
            w.set_doc(spec.doc)
            w.set_value(value)
            w.committed.connect(lambda v: commit(v))
            refresh = lambda v, w=w: w.set_value(v)  # noqa: E731
            self._add_derived(lambda w=w: w.set_value(w.value()) if not w.hasFocus() else None)
        elif t == "int":
            w = QtWidgets.QSpinBox()
            w.setRange(INT_MIN, INT_MAX)
            w.setKeyboardTracking(False)
            w.setValue(int(value) if isinstance(value, int) else 0)
            w.valueChanged.connect(lambda v: commit(int(v)))
            refresh = lambda v, w=w: _set_spin(w, v)  # noqa: E731
        elif t == "float":
            w = QtWidgets.QDoubleSpinBox()
            w.setRange(-1e12, 1e12)
            w.setDecimals(6)
            w.setKeyboardTracking(False)
            w.setValue(float(value) if isinstance(value, int | float) else 0.0)
            w.valueChanged.connect(lambda v: commit(float(v)))
            refresh = lambda v, w=w: _set_spin(w, v)  # noqa: E731
        elif t == "bool":
            w = QtWidgets.QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda v: commit(bool(v)))
            refresh = lambda v, w=w: _set_checked(w, v)  # noqa: E731
        elif t in ("enum", "dtype"):
            w = QtWidgets.QComboBox()
            choices = list(spec.choices or (registry.DTYPES if t == "dtype" else ()))
            labels = dict(zip(choices, spec.labels, strict=False))
            for c in choices:
                w.addItem(labels.get(c) or (str(c) if c != "" else NONE_LABEL), c)
            _set_combo(w, value)
            w.currentIndexChanged.connect(lambda i, w=w: commit(w.itemData(i)))
            refresh = lambda v, w=w: _set_combo(w, v)  # noqa: E731
        elif t == "code":
            w = CodeEditor()
            w.setPlainText(str(value or ""))
            w.committed.connect(lambda v: commit(v))
            refresh = lambda v, w=w: _set_plain(w, v)  # noqa: E731
        elif t == "params":
            w = ParamListEditor()
            w.set_params(value if isinstance(value, list) else [])
            w.committed.connect(lambda v, w=w: self._commit_checked(spec, v, w, commit))
            refresh = lambda v, w=w: w.set_params(v if isinstance(v, list) else [])  # noqa: E731
        elif t == "pools":
            w = PoolsEditor(self._kernel_names())
            w.set_pools(value if isinstance(value, list) else [])
            w.committed.connect(lambda v, w=w: self._commit_checked(spec, v, w, commit))
            refresh = lambda v, w=w: w.set_pools(v if isinstance(v, list) else [])  # noqa: E731
        elif t == "exprmap":
            w = PortIndexEditor()
            self.ports = w
            w.set_rows(self._port_rows(node_id), value)
            w.committed.connect(lambda v, w=w: self._commit_checked(spec, v, w, commit))
            refresh = lambda v, w=w: w.set_rows(self._port_rows(node_id), v)  # noqa: E731
            self._add_derived(
                lambda w=w: w.set_rows(self._port_rows(node_id), self._prop(node_id, spec))
            )
        elif self._fields_of(spec):
            w, refresh = self._fields_editor(node, spec, value, commit, scope_names)
        else:  # str, number, shape, strlist, expr, exprlist, names, dist: validated line edit
            w = self._line_editor(node, spec, value, scope_names, commit)
            refresh = lambda v, w=w, s=spec: _set_text(w, format_value(s.type, v))  # noqa: E731
            if spec.default is None and t in ("expr", "exprlist"):
                # empty means automatic (the loops around the node): show what that is
                def show_auto(w: QtWidgets.QLineEdit = w) -> None:
                    found = self.canvas.doc.locate(node_id)
                    auto = ", ".join(frames.loop_vars(self.canvas.doc, node_id)) if found else ""
                    w.setPlaceholderText(f"automatic: {auto}" if auto else "automatic: none")

                show_auto()
                self._add_derived(show_auto)
        del doc
        return w, refresh

    def _prop(self, node_id: str, spec: Any) -> Any:
        found = self.canvas.doc.locate(node_id)
        return found[0].props.get(spec.name, spec.default) if found else spec.default

    def _key_vars(self, node_id: str) -> list[str]:
        found = self.canvas.doc.locate(node_id)
        return sheet_vars(self.canvas.doc, found[0]) if found is not None else []

    def _port_rows(self, node_id: str) -> list[dict[str, Any]]:
        """The parameters of the call's kernel with direction, wired node and auto index."""
        doc = self.canvas.doc
        found = doc.locate(node_id)
        if found is None or node_id not in doc.graph.nodes:
            return []
        call = found[0]
        kern = indexing.kernel_of(doc, call)
        if kern is None:
            return []
        wires = indexing.Wires(doc)
        rows = []
        for p in indexing.params_of(kern):
            name = p["name"]
            wired = indexing.wired_node(doc, call, name, wires)
            problem = None
            if indexing.is_auto(call, name):
                problem = indexing.auto_index_problem(doc, call, name, wires)
            rows.append(
                {
                    "name": name,
                    "direction": str(p.get("direction", "In")),
                    "wired": registry.node_label(wired) if wired is not None else "",
                    "auto": indexing.auto_index(doc, call, name, wires),
                    "problem": problem,
                }
            )
        return rows

    @staticmethod
    def _fields_of(spec: Any) -> list[Any]:
        """The field ``PropSpec``s of a dict property (the sheet's ``task_graph``)."""
        fields = getattr(spec, "fields", None)
        if fields:
            return list(fields)
        lookup = getattr(registry, "prop_fields", None)
        return list(lookup(spec) or []) if lookup is not None else []

    def _fields_editor(
        self,
        node: Node,
        spec: Any,
        value: Any,
        commit: Callable[[Any], object],
        scope_names: set[str],
    ) -> tuple[QtWidgets.QWidget, Callable[[Any], None]]:
        box = FieldsEditor("")  # the form row's label names it
        fields = self._fields_of(spec)
        current: dict[str, Any] = dict(value) if isinstance(value, dict) else {}

        def commit_field(name: str, v: Any) -> object:
            fresh = self._prop(node.id, spec)
            data = dict(fresh) if isinstance(fresh, dict) else {}
            default = next(f.default for f in fields if f.name == name)
            if v == default:
                data.pop(name, None)
            else:
                data[name] = v
            return commit(data)

        for f in fields:
            editor, refresh = self.make_editor(
                node,
                f,
                current.get(f.name, f.default),
                lambda v, n=f.name: commit_field(n, v),
                scope_names,  # fmt: skip
            )
            editor.setObjectName(f"prop_{spec.name}_{f.name}")
            if not editor.toolTip():
                editor.setToolTip(f.doc)
            box.editors[f.name] = editor
            box.refreshers[f.name] = refresh
            label = QtWidgets.QLabel(f.name)
            label.setToolTip(f.doc)
            box.form.addRow(label, editor)
            self.editors[f"{spec.name}.{f.name}"] = editor

        def refresh_all(v: Any) -> None:
            data = v if isinstance(v, dict) else {}
            for f in fields:
                box.refreshers[f.name](data.get(f.name, f.default))
            self._update_field_enabled(spec, fields, box)

        self._enablers.append(lambda: self._update_field_enabled(spec, fields, box))
        self._update_field_enabled(spec, fields, box, current)
        return box, refresh_all

    def _update_field_enabled(
        self, spec: Any, fields: list[Any], box: FieldsEditor, value: Any = None
    ) -> None:
        applies = getattr(registry, "field_applies", None)
        if applies is None:
            return
        data = value if value is not None else self._prop(self.node_id or "", spec)
        for f in fields:
            ok = applies(spec.name, f.name, data if isinstance(data, dict) else {})
            box.editors[f.name].setEnabled(ok)
            label = box.form.labelForField(box.editors[f.name])
            if label is not None:
                label.setEnabled(ok)

    def _line_editor(
        self,
        node: Node,
        spec: Any,
        value: Any,
        scope_names: set[str],
        commit: Callable[[Any], object],
    ) -> QtWidgets.QLineEdit:
        edit = QtWidgets.QLineEdit(format_value(spec.type, value))
        if spec.type in ("expr", "exprlist"):
            edit.setPlaceholderText("expression, e.g. b, h")
        if spec.type == "dist":
            edit.setPlaceholderText(
                "replicated (default); e.g. R, S0" if spec.optional else "e.g. R, S0"
            )
        if spec.type == "shape" and spec.optional:
            edit.setPlaceholderText("not set; e.g. 2, 2")
        node_id = node.id
        top_level = any(s is spec for s in registry.kind(node.kind).props)

        def check(text: str) -> tuple[Any, list[str]]:
            parsed, problem = parse_value(spec.type, text)
            if problem is not None:
                return None, [problem]
            if spec.type == "dist" and spec.optional and all(d == "R" for d in parsed):
                parsed = []  # all replicated is the default layout: stored (and exported) as none
            if spec.default is None and parsed == "":
                parsed = None  # empty: automatic
            problems = problems_of(spec, parsed, scope_names) if parsed is not None else []
            current = self.canvas.doc.locate(node_id)
            if not problems and current is not None and top_level:
                context = registry.node_prop_problem(current[0], spec.name, parsed)
                problems = [context] if context else []
            return parsed, problems

        def on_text(text: str) -> None:
            mark(edit, check(text)[1], spec.doc)

        def on_finished() -> None:
            parsed, problems = check(edit.text())
            if problems:
                self.canvas.message.emit(f"{spec.name}: {problems[0]}")
                return
            commit(parsed)

        edit.textChanged.connect(on_text)
        edit.editingFinished.connect(on_finished)
        mark(edit, check(edit.text())[1], spec.doc)
        return edit

    def _commit_checked(
        self, spec: Any, value: Any, widget: QtWidgets.QWidget, commit: Callable[[Any], object]
    ) -> None:
        problem = registry.prop_problem(spec, value)
        mark(widget, [problem] if problem else [], spec.doc)
        if problem is None:
            commit(value)
        elif spec.type == "pools" and self.node_id is not None:
            # a kernel picked twice: say why and show the model's values again
            self.canvas.message.emit(f"{spec.name}: {problem}")
            mark(widget, [], spec.doc)
            node = self.canvas.doc.node(self.node_id)
            for name, refresh in list(self._refreshers.items()):
                if name != "name":
                    refresh(node.props.get(name))

    def _kernel_names(self) -> list[str]:
        """Names of the document's kernel definitions (what a pool may name), sorted."""
        return sorted(n.name for n in defined_kernels(self.canvas.doc) if n.name)


def _discard(layout: QtWidgets.QLayout, widget: QtWidgets.QWidget) -> None:
    """Take ``widget`` out of ``layout`` and out of the widget tree now (no stale child is
    found by name), deleting it later: a button being clicked may be emitting right now."""
    layout.removeWidget(widget)
    widget.hide()
    widget.setObjectName("")
    widget.setParent(None)
    widget.deleteLater()


def _forget_typing(widget: QtWidgets.QWidget | None) -> None:
    """Start the field's own undo history afresh at the value just committed.

    A committed value belongs to the document's history (Edit > Undo). Left in the field's
    history, Ctrl+Z in the field would type the old value back and commit it as one more
    document edit when the field loses focus: the same change undone twice, by two histories.
    """
    if widget is None:
        return
    if isinstance(widget, QtWidgets.QPlainTextEdit):
        widget.document().clearUndoRedoStacks()
        return
    # A line edit, or the line edits inside a spin box, a key combo, a ports or axes editor.
    edits = [widget] if isinstance(widget, QtWidgets.QLineEdit) else []
    edits += widget.findChildren(QtWidgets.QLineEdit)
    for edit in edits:
        with QtCore.QSignalBlocker(edit):  # the same text: no validation, no spin-box parse
            edit.setText(edit.text())  # setText clears the line edit's undo history


# ------------------------------------------------------------------------------------------
# signal-free setters (refreshing an editor must not commit again)
# ------------------------------------------------------------------------------------------
def _set_text(w: QtWidgets.QLineEdit, text: str) -> None:
    # textChanged only re-validates (commits happen on editingFinished), so it may fire.
    if w.text() != text:
        w.setText(text)


def _set_spin(w: QtWidgets.QAbstractSpinBox, v: Any) -> None:
    w.blockSignals(True)
    w.setValue(v if isinstance(v, int | float) else 0)
    w.blockSignals(False)


def _set_checked(w: QtWidgets.QCheckBox, v: Any) -> None:
    w.blockSignals(True)
    w.setChecked(bool(v))
    w.blockSignals(False)


def _set_combo(w: QtWidgets.QComboBox, v: Any) -> None:
    w.blockSignals(True)
    index = w.findData(v)
    if index >= 0:
        w.setCurrentIndex(index)
    else:
        w.setCurrentText(str(v))
    w.blockSignals(False)


def _set_plain(w: QtWidgets.QPlainTextEdit, v: Any) -> None:
    if w.toPlainText() != str(v or ""):
        w.blockSignals(True)
        w.setPlainText(str(v or ""))
        w.blockSignals(False)


__all__ = [
    "PropertiesPanel",
    "CodeEditor",
    "ParamListEditor",
    "ReferenceCombo",
    "AxesListEditor",
    "KeyEditor",
    "PortIndexEditor",
    "FieldsEditor",
    "key_from_text",
    "key_to_text",
    "stored_key",
    "default_var",
    "sheet_vars",
    "parse_value",
    "parse_dist",
    "format_value",
    "names_in_scope",
]
