"""The properties panel: editors for the selected node's name and properties.

One editor per ``PropSpec`` type (registry): spin boxes for ints, a combo box for enums and
dtypes, line edits with live validation for expressions, shapes and name lists (a red border and
a tooltip listing the problems; an invalid text is never committed), a code editor for
``cpp_src``, table editors for kernel parameter lists and task-graph pools, and a line edit for
layouts (``R, S0``). Properties that mean nothing under the node's other choices (a priority key
while ready is not priority: ``registry.prop_applies``) are disabled. Every commit is one
``SetProperty`` command through the canvas's editor, so it is undoable and the model validates it
once more; a refused value is reported through ``GraphCanvas.message`` and the editor reverts.

The panel owns no state: it rebuilds from the document whenever the selection changes, and
refreshes its editors when the model reports a property change (undo, redo, another editor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.editor.pools_editor import PoolsEditor
from app.model import exprs, registry
from app.model.document import Node

if TYPE_CHECKING:
    from app.editor.canvas import GraphCanvas

INVALID_STYLE = "border: 2px solid #e0443a;"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
PARAM_COLUMNS = ("name", "direction", "kind", "rows", "cols", "dtype")


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


def names_in_scope(canvas: GraphCanvas, node: Node) -> set[str]:
    """Names an expression property of ``node`` may use (mirrors ``Document.validate``)."""
    doc = canvas.doc
    found = doc.locate(node.id)
    names = {n.name for n in doc.graph.nodes.values() if n.name}
    if found is not None:
        for scope in doc.scope_chain(found[1]):
            names.update(registry.bound_vars(scope))
    if node.kind.startswith("sched."):
        names.add(exprs.TASK_VAR)
    return names


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
        self.table.horizontalHeader().setStretchLastSection(True)
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
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.rowCount():
            rows = [self.table.rowCount() - 1]
        params = self.params()
        for r in rows:
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


class IndexMapEditor(QtWidgets.QTableWidget):
    """``{param: index expression}`` of a kernel call: one row per parameter of its kernel."""

    committed = QtCore.Signal(dict)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["parameter", "index"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setMinimumHeight(100)
        self._loading = False
        self.itemChanged.connect(lambda _i: self._emit())

    def set_mapping(self, keys: list[str], mapping: dict[str, str]) -> None:
        self._loading = True
        try:
            keys = keys + [k for k in mapping if k not in keys]
            self.setRowCount(0)
            for key in keys:
                row = self.rowCount()
                self.insertRow(row)
                name = QtWidgets.QTableWidgetItem(key)
                name.setFlags(name.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
                self.setItem(row, 0, name)
                self.setItem(row, 1, QtWidgets.QTableWidgetItem(str(mapping.get(key, ""))))
        finally:
            self._loading = False

    def mapping(self) -> dict[str, str]:
        out = {}
        for row in range(self.rowCount()):
            text = self.item(row, 1).text().strip() if self.item(row, 1) else ""
            if text:
                out[self.item(row, 0).text()] = text
        return out

    def _emit(self) -> None:
        if not self._loading:
            self.committed.emit(self.mapping())


# ------------------------------------------------------------------------------------------
# the panel
# ------------------------------------------------------------------------------------------
class PropertiesPanel(QtWidgets.QScrollArea):
    """Editors for the node selected on ``canvas`` (``editors[field]`` holds each widget)."""

    def __init__(self, canvas: GraphCanvas, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PropertiesPanel")
        self.canvas = canvas
        self.setWidgetResizable(True)
        self.node_id: str | None = None
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self._refreshers: dict[str, Callable[[Any], None]] = {}
        self._committing = False
        self._body = QtWidgets.QWidget()
        self._form = QtWidgets.QFormLayout(self._body)
        self.setWidget(self._body)
        canvas.selection_changed.connect(self._on_selection)
        ev = canvas.editor.events
        ev.property_changed.connect(self._on_property_changed)
        ev.node_removed.connect(self._on_node_removed)
        ev.graph_reset.connect(self._on_reset)
        slots = (
            (ev.property_changed, self._on_property_changed),
            (ev.node_removed, self._on_node_removed),
            (ev.graph_reset, self._on_reset),
        )
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
        for spec in kind.props:
            self._add_prop_editor(node, spec, scope_names)
        self._update_enabled(node)

    def _update_enabled(self, node: Node) -> None:
        """Disable the editors of properties that do not apply to the node's other choices."""
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
        if node.kind == "data.tensor" and isinstance(layout, QtWidgets.QLineEdit):
            layout.textChanged.emit(layout.text())  # the shape may have changed: re-check rank

    def _clear(self) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.editors = {}
        self._refreshers = {}

    # -- model events -----------------------------------------------------------------------
    def _on_property_changed(self, node: Node, field: str, old: Any, new: Any) -> None:
        if node.id != self.node_id:
            return
        self._update_enabled(node)  # also after our own commits: a choice enables its fields
        if self._committing:
            return
        refresh = self._refreshers.get(field)
        if refresh is not None:
            refresh(new)
        if node.kind == "kernel.def" and field == "params":
            return
        if field == "kernel":  # kernel call retargeted: its index rows change
            self.show_node(self.node_id)

    def _on_reset(self, _doc: Any) -> None:
        self.show_node(None)

    def _on_node_removed(self, node: Node, _graph: Any) -> None:
        if node.id == self.node_id:
            self.show_node(None)

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
        t = spec.type
        if t == "int":
            w = QtWidgets.QSpinBox()
            w.setRange(INT_MIN, INT_MAX)
            w.setKeyboardTracking(False)
            w.setValue(int(value) if isinstance(value, int) else 0)
            w.valueChanged.connect(lambda v, f=spec.name: self.commit(f, int(v)))
            refresh: Callable[[Any], None] = lambda v, w=w: _set_spin(w, v)  # noqa: E731
        elif t == "float":
            w = QtWidgets.QDoubleSpinBox()
            w.setRange(-1e12, 1e12)
            w.setDecimals(6)
            w.setKeyboardTracking(False)
            w.setValue(float(value) if isinstance(value, int | float) else 0.0)
            w.valueChanged.connect(lambda v, f=spec.name: self.commit(f, float(v)))
            refresh = lambda v, w=w: _set_spin(w, v)  # noqa: E731
        elif t == "bool":
            w = QtWidgets.QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda v, f=spec.name: self.commit(f, bool(v)))
            refresh = lambda v, w=w: _set_checked(w, v)  # noqa: E731
        elif t in ("enum", "dtype"):
            w = QtWidgets.QComboBox()
            choices = list(spec.choices or (registry.DTYPES if t == "dtype" else ()))
            w.addItems(choices)
            w.setCurrentText(str(value))
            w.currentTextChanged.connect(lambda v, f=spec.name: self.commit(f, v))
            refresh = lambda v, w=w: _set_combo(w, v)  # noqa: E731
        elif t == "code":
            w = CodeEditor()
            w.setPlainText(str(value or ""))
            w.committed.connect(lambda v, f=spec.name: self.commit(f, v))
            refresh = lambda v, w=w: _set_plain(w, v)  # noqa: E731
        elif t == "params":
            w = ParamListEditor()
            w.set_params(value if isinstance(value, list) else [])
            w.committed.connect(lambda v, f=spec.name: self._commit_checked(spec, f, v, w))
            refresh = lambda v, w=w: w.set_params(v if isinstance(v, list) else [])  # noqa: E731
        elif t == "pools":
            w = PoolsEditor(self._kernel_names())
            w.set_pools(value if isinstance(value, list) else [])
            w.committed.connect(lambda v, f=spec.name: self._commit_checked(spec, f, v, w))
            refresh = lambda v, w=w: w.set_pools(v if isinstance(v, list) else [])  # noqa: E731
        elif t == "exprmap":
            w = IndexMapEditor()
            keys = self._index_keys(node)
            w.set_mapping(keys, value if isinstance(value, dict) else {})
            w.committed.connect(lambda v, f=spec.name: self._commit_checked(spec, f, v, w))
            refresh = lambda v, w=w, k=keys: w.set_mapping(k, v if isinstance(v, dict) else {})  # noqa: E731
        else:  # str, number, shape, strlist, expr, exprlist, names, dist: validated line edit
            w = self._line_editor(node, spec, value, scope_names)
            refresh = lambda v, w=w, s=spec: _set_text(w, format_value(s.type, v))  # noqa: E731
        w.setObjectName(f"prop_{spec.name}")
        if not w.toolTip():
            w.setToolTip(spec.doc)
        self.editors[spec.name] = w
        self._refreshers[spec.name] = refresh
        label = QtWidgets.QLabel(spec.name)
        label.setToolTip(spec.doc)
        self._form.addRow(label, w)

    def _line_editor(
        self, node: Node, spec: Any, value: Any, scope_names: set[str]
    ) -> QtWidgets.QLineEdit:
        edit = QtWidgets.QLineEdit(format_value(spec.type, value))
        if spec.type in ("expr", "exprlist"):
            edit.setPlaceholderText("expression, e.g. b, h")
        if spec.type == "dist":
            edit.setPlaceholderText(
                "replicated (default); e.g. R, S0" if spec.optional else "e.g. R, S0"
            )
        node_id = node.id

        def check(text: str) -> tuple[Any, list[str]]:
            parsed, problem = parse_value(spec.type, text)
            if problem is not None:
                return None, [problem]
            if spec.type == "dist" and spec.optional and all(d == "R" for d in parsed):
                parsed = []  # all replicated is the default layout: stored (and exported) as none
            problems = problems_of(spec, parsed, scope_names)
            current = self.canvas.doc.locate(node_id)
            if not problems and current is not None:
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
            self.commit(spec.name, parsed)

        edit.textChanged.connect(on_text)
        edit.editingFinished.connect(on_finished)
        mark(edit, check(edit.text())[1], spec.doc)
        return edit

    def _commit_checked(self, spec: Any, field: str, value: Any, widget: QtWidgets.QWidget) -> None:
        problem = registry.prop_problem(spec, value)
        mark(widget, [problem] if problem else [], spec.doc)
        if problem is None:
            self.commit(field, value)
        elif spec.type == "pools" and self.node_id is not None:
            # a kernel picked twice: say why and show the model's value again
            self.canvas.message.emit(f"{field}: {problem}")
            mark(widget, [], spec.doc)
            self._refreshers[field](self.canvas.doc.node(self.node_id).props.get(field))

    def _kernel_names(self) -> list[str]:
        """Names of the document's kernels (root ``kernel.def`` nodes), sorted."""
        doc = self.canvas.doc
        return sorted(n.name for n in doc.graph.nodes.values() if n.kind == "kernel.def")

    def _index_keys(self, node: Node) -> list[str]:
        found = self.canvas.doc.locate(node.id)
        if found is None:
            return []
        kern = registry.resolve_kernel(node, found[1], self.canvas.doc)
        return [p["name"] for p in registry.kernel_params(kern)] if kern is not None else []


def _forget_typing(widget: QtWidgets.QWidget | None) -> None:
    """Start the field's own undo history afresh at the value just committed.

    A committed value belongs to the document's history (Edit > Undo). Left in the field's
    history, Ctrl+Z in the field would type the old value back and commit it as one more
    document edit when the field loses focus: the same change undone twice, by two histories.
    """
    if isinstance(widget, QtWidgets.QAbstractSpinBox):
        widget = widget.findChild(QtWidgets.QLineEdit)
    if isinstance(widget, QtWidgets.QLineEdit):
        with QtCore.QSignalBlocker(widget):  # the same text: no validation, no spin-box parse
            widget.setText(widget.text())  # setText clears the line edit's undo history
    elif isinstance(widget, QtWidgets.QPlainTextEdit):
        widget.document().clearUndoRedoStacks()


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
    "IndexMapEditor",
    "parse_value",
    "parse_dist",
    "format_value",
    "names_in_scope",
]
