"""Emitted-sources viewer: a file tree of a directory plus a read-only highlighted viewer.

The directory is what a compile left behind: the cpu_sim artifact dir
(``program.codegen_artifact_dir``) or the ascend_npu emitted tree. Above it, as the first entry,
the view can list the DSL script that ran (``set_root(..., script=...)``, the Studio's exported
``program.py``): that script, not the C++, is what a user compares with the spec. It is listed
from where it is (the run's work dir, outside the build cache), never copied. Files are
highlighted with pygments (C++, CMake, Markdown, JSON, Python; other text by file name, else
plain). The whole file is lexed once and the spans are handed to Qt line by line, so multi-line
tokens (block comments, docstrings) colour correctly. Ctrl+F opens a search bar (Enter /
Shift+Enter = next / previous, Esc closes) that shows "k of n" matches, case-insensitive.

The tree is read synchronously: emitted trees are small, and a deterministic listing is what
the user (and the tests) expect right after ``set_root``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pygments import lex
from pygments.lexer import Lexer
from pygments.lexers import (
    CMakeLexer,
    CppLexer,
    JsonLexer,
    MarkdownLexer,
    PythonLexer,
    TextLexer,
    get_lexer_for_filename,
)
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound
from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["SourcesView", "SourceHighlighter", "lexer_for", "main_source", "SCRIPT_LABEL"]

MAX_VIEW_BYTES = 4 * 1024 * 1024  # larger files are not loaded into the viewer
PATH_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1

_CPP_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inl", ".ipp"}
MAIN_STEMS = ("main", "driver")
"""File stems of the entry point of an emitted tree (ascend ``host/main.cpp``, cpu_sim
``driver.cpp``), opened when sources arrive; otherwise the first C++ file, else the first file."""
SCRIPT_LABEL = "{name}  (DSL script that ran)"
"""Tree text of the script entry: it sits above the emitted files but is not one of them."""
TREE_SHARE, TREE_MAX_PX = 0.3, 220
"""The file tree's share of the width (at most ``TREE_MAX_PX``): the code pane gets the rest."""


def main_source(files: list[str]) -> str | None:
    """The file (of ``files``, tree order) to open first: see ``MAIN_STEMS``."""
    paths = [Path(f) for f in files]
    for stem in MAIN_STEMS:
        for p in paths:
            if p.stem == stem and p.suffix in _CPP_SUFFIXES:
                return p.as_posix()
    first_cpp = next((p for p in paths if p.suffix in _CPP_SUFFIXES), None)
    if first_cpp is not None:
        return first_cpp.as_posix()
    return files[0] if files else None


def lexer_for(path: str | os.PathLike[str]) -> Lexer:
    """The pygments lexer for a file: the five languages of emitted trees, else by name."""
    p = Path(path)
    name, suffix = p.name, p.suffix.lower()
    if suffix in _CPP_SUFFIXES:
        return CppLexer()
    if name == "CMakeLists.txt" or suffix == ".cmake":
        return CMakeLexer()
    if suffix in (".md", ".markdown"):
        return MarkdownLexer()
    if suffix == ".json":
        return JsonLexer()
    if suffix in (".py", ".pyi"):
        return PythonLexer()
    try:
        return get_lexer_for_filename(name)
    except ClassNotFound:
        return TextLexer()


class SourceHighlighter(QtGui.QSyntaxHighlighter):
    """Applies pygments spans computed for the whole text, block (line) by block."""

    def __init__(self, document: QtGui.QTextDocument, style: str = "default"):
        super().__init__(document)
        self._style = get_style_by_name(style)
        self._formats: dict[object, QtGui.QTextCharFormat] = {}
        self._spans: list[list[tuple[int, int, QtGui.QTextCharFormat]]] = []

    def set_source(self, text: str, lexer: Lexer) -> None:
        """Lex ``text`` (the document's text) and re-highlight."""
        spans: list[list[tuple[int, int, QtGui.QTextCharFormat]]] = [[]]
        col = 0
        if not isinstance(lexer, TextLexer):
            lexer.stripnl = False
            lexer.ensurenl = False
            for token, value in lex(text, lexer):
                fmt = self._format(token)
                for i, part in enumerate(value.split("\n")):
                    if i:
                        spans.append([])
                        col = 0
                    if part and fmt is not None:
                        spans[-1].append((col, _utf16_len(part), fmt))
                    col += _utf16_len(part)
        self._spans = spans
        self.rehighlight()

    def _format(self, token: object) -> QtGui.QTextCharFormat | None:
        if token in self._formats:
            return self._formats[token]
        style = self._style.style_for_token(token)
        fmt: QtGui.QTextCharFormat | None = None
        if style["color"] or style["bold"] or style["italic"]:
            fmt = QtGui.QTextCharFormat()
            if style["color"]:
                fmt.setForeground(QtGui.QColor(f"#{style['color']}"))
            if style["bold"]:
                fmt.setFontWeight(QtGui.QFont.Weight.Bold)
            if style["italic"]:
                fmt.setFontItalic(True)
        self._formats[token] = fmt  # type: ignore[assignment]
        return fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt override)
        n = self.currentBlock().blockNumber()
        if 0 <= n < len(self._spans):
            for start, length, fmt in self._spans[n]:
                self.setFormat(start, length, fmt)


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units (Qt's string positions)."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


class SourcesView(QtWidgets.QWidget):
    """File tree (left) + read-only viewer with search (right) over one directory."""

    fileOpened = QtCore.Signal(str)  # noqa: N815 (Qt naming)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._root: Path | None = None
        self._script: Path | None = None
        self._current: Path | None = None
        self._matches: list[tuple[int, int]] = []  # (position, length) in UTF-16 units
        self._match_index = -1

        self.model = QtGui.QStandardItemModel(self)
        self.tree = QtWidgets.QTreeView()
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.selectionModel().currentChanged.connect(self._on_current_changed)

        self.viewer = QtWidgets.QPlainTextEdit()
        self.viewer.setReadOnly(True)
        self.viewer.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.viewer.setFont(
            QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        )
        dark = self.palette().color(QtGui.QPalette.ColorRole.Base).lightness() < 128
        self.highlighter = SourceHighlighter(
            self.viewer.document(), "monokai" if dark else "default"
        )

        self.path_label = QtWidgets.QLabel()
        self.path_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QtWidgets.QLabel()
        self.status_label.setWordWrap(True)
        # A long artifact path must not widen the dock (it is a tab of Properties): the labels
        # take the width they are given, their tooltip has the whole text.
        for label in (self.path_label, self.status_label):
            label.setSizePolicy(
                QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
            )

        self.search_bar = QtWidgets.QWidget()
        self.search_edit = QtWidgets.QLineEdit()
        self.search_edit.setPlaceholderText("Find in file")
        self.search_edit.setClearButtonEnabled(True)
        self.prev_button = QtWidgets.QToolButton(text="Previous")
        self.next_button = QtWidgets.QToolButton(text="Next")
        self.count_label = QtWidgets.QLabel()
        close = QtWidgets.QToolButton(text="Close")
        bar = QtWidgets.QHBoxLayout(self.search_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.search_edit, self.prev_button, self.next_button, self.count_label, close):
            bar.addWidget(w)
        self.search_bar.hide()
        self.search_edit.textChanged.connect(self.search)
        self.search_edit.returnPressed.connect(self.find_next)
        self.next_button.clicked.connect(self.find_next)
        self.prev_button.clicked.connect(self.find_previous)
        close.clicked.connect(self.close_search)

        right = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(right)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.path_label)
        col.addWidget(self.viewer, 1)
        col.addWidget(self.search_bar)
        self.splitter = QtWidgets.QSplitter()
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.tree.setMinimumWidth(60)
        self._split_by_user = False  # once the user drags the handle, their sizes stay
        self.splitter.splitterMoved.connect(lambda *_: setattr(self, "_split_by_user", True))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.splitter, 1)

        ctx = QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut
        for key, slot, what in (
            (QtGui.QKeySequence.StandardKey.Find, self.open_search, "Find in source"),
            (QtGui.QKeySequence.StandardKey.FindNext, self.find_next, "Find next in source"),
            (
                QtGui.QKeySequence.StandardKey.FindPrevious,
                self.find_previous,
                "Find previous in source",
            ),
            (QtGui.QKeySequence("Shift+Return"), self.find_previous, "Find previous in source"),
            (QtGui.QKeySequence("Escape"), self.close_search, "Close the source search"),
        ):
            sc = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            sc.setWhatsThis(what)  # Help > Keyboard Shortcuts lists it by this
            sc.setContext(ctx)
            sc.activated.connect(slot)
        self.set_root(None)

    # ---- tree -------------------------------------------------------------------------
    @property
    def root(self) -> Path | None:
        return self._root

    @property
    def current_file(self) -> Path | None:
        return self._current

    @property
    def script(self) -> Path | None:
        """The DSL script listed first (``set_root``'s ``script``), None when there is none."""
        return self._script

    def set_root(
        self,
        path: str | os.PathLike[str] | None,
        script: str | os.PathLike[str] | None = None,
        *,
        open_script: bool = True,
    ) -> None:
        """Show the tree under ``path`` (None: no emitted tree), the viewer emptied, then open
        a file: ``script`` (listed as the first entry) when ``open_script``, else the entry
        point of the tree (``main_source``)."""
        self.model.clear()
        self._current = None
        self._show_text("", None)
        self.path_label.clear()
        self._root = Path(path) if path is not None else None
        self._script = Path(script) if script is not None else None
        if self._script is not None:
            self.model.invisibleRootItem().appendRow(self._script_item(self._script))
        script_note = "; first: the DSL script that ran" if self._script is not None else ""
        root = self._root
        if root is None:
            self._status(
                f"No emitted sources: compile a program to see its sources here{script_note}."
            )
        elif not root.is_dir():
            self._status(f"{root}: no such directory (was the build cache cleared?){script_note}")
        else:
            count = self._fill(self.model.invisibleRootItem(), root)
            self.tree.expandAll()
            self._status(f"{root}  ({count} files){script_note}")
        if self._script is not None and (open_script or root is None or not root.is_dir()):
            self.select_file(self._script)
            return
        first = main_source(self._emitted_files()) if root is not None else None
        if first is not None:
            self.select_file(root / first)

    def _script_item(self, script: Path) -> QtGui.QStandardItem:
        item = QtGui.QStandardItem(SCRIPT_LABEL.format(name=script.name))
        item.setData(str(script), PATH_ROLE)
        item.setToolTip(f"The exported DSL script that ran: {script}")
        item.setIcon(self.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_FileIcon))
        return item

    def select_file(self, path: str | os.PathLike[str]) -> bool:
        """Make ``path`` the tree's current item (which opens it); False if it is not listed."""
        target = str(Path(path))
        hits = self.model.match(
            self.model.index(0, 0),
            PATH_ROLE,
            target,
            1,
            QtCore.Qt.MatchFlag.MatchExactly | QtCore.Qt.MatchFlag.MatchRecursive,
        )
        if not hits:
            return False
        self.tree.setCurrentIndex(hits[0])
        return True

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if not self._split_by_user:  # the code pane gets most of the width
            width = self.splitter.width()
            tree = min(TREE_MAX_PX, int(width * TREE_SHARE))
            self.splitter.setSizes([tree, max(width - tree, 1)])

    def _fill(self, parent: QtGui.QStandardItem, directory: Path) -> int:
        try:
            entries = sorted(directory.iterdir(), key=lambda p: (not p.is_dir(), p.name.lower()))
        except OSError as err:
            parent.appendRow(QtGui.QStandardItem(f"<cannot list: {err.strerror}>"))
            return 0
        count = 0
        style = self.style()
        for entry in entries:
            if self._script is not None and _same_path(entry, self._script):
                continue  # already the first entry: listed once
            item = QtGui.QStandardItem(entry.name)
            item.setData(str(entry), PATH_ROLE)
            item.setToolTip(str(entry))
            if entry.is_dir():
                item.setIcon(style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_DirIcon))
                count += self._fill(item, entry)
            else:
                item.setIcon(style.standardIcon(QtWidgets.QStyle.StandardPixmap.SP_FileIcon))
                count += 1
            parent.appendRow(item)
        return count

    def files(self) -> list[str]:
        """Paths (``/``-separated) of the files listed, in tree order: relative to the root,
        except a script outside the root (the first entry), which is absolute."""
        out: list[str] = []

        def walk(item: QtGui.QStandardItem) -> None:
            for r in range(item.rowCount()):
                child = item.child(r)
                path = child.data(PATH_ROLE)
                if path is None:
                    continue
                if child.hasChildren() or Path(path).is_dir():
                    walk(child)
                elif self._root is not None and self._is_under_root(Path(path)):
                    out.append(Path(path).relative_to(self._root).as_posix())
                else:
                    out.append(Path(path).as_posix())

        walk(self.model.invisibleRootItem())
        return out

    def _emitted_files(self) -> list[str]:
        """``files()`` without the script entry: the emitted tree alone."""
        script = self._script.as_posix() if self._script is not None else None
        rel = (
            self._script.relative_to(self._root).as_posix()
            if self._script is not None and self._is_under_root(self._script)
            else None
        )
        return [f for f in self.files() if f not in (script, rel)]

    def _on_current_changed(self, current: QtCore.QModelIndex, _previous: object) -> None:
        path = current.data(PATH_ROLE) if current.isValid() else None
        if path and Path(path).is_file():
            self.open_file(path)

    # ---- viewer -----------------------------------------------------------------------
    def open_file(self, path: str | os.PathLike[str]) -> None:
        """Show ``path`` highlighted (binary and very large files get a note instead)."""
        p = Path(path)
        self._current = p
        self.path_label.setText(
            str(p.relative_to(self._root)) if self._is_under_root(p) else str(p)
        )
        self.path_label.setToolTip(str(p))
        try:
            size = p.stat().st_size
            if size > MAX_VIEW_BYTES:
                self._show_text(f"{p.name}: {size} bytes, too large to show here.", None)
                return
            data = p.read_bytes()
        except OSError as err:
            self._show_text(f"{p}: cannot read: {err.strerror}", None)
            return
        if b"\0" in data[:8192]:
            self._show_text(f"{p.name}: binary file ({size} bytes), not shown.", None)
            return
        self._show_text(data.decode("utf-8", errors="replace"), lexer_for(p))
        self.fileOpened.emit(str(p))

    def _is_under_root(self, p: Path) -> bool:
        return self._root is not None and p.is_relative_to(self._root)

    def _show_text(self, text: str, lexer: Lexer | None) -> None:
        self.viewer.setPlainText(text)
        self.highlighter.set_source(text, lexer if lexer is not None else TextLexer())
        if self.search_bar.isVisible() and self.search_edit.text():
            self.search(self.search_edit.text())
        else:
            self._set_matches([])

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    # ---- search -----------------------------------------------------------------------
    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def current_match(self) -> int:
        """Index of the selected match (0-based), -1 when there is none."""
        return self._match_index

    def open_search(self) -> None:
        self.search_bar.show()
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def close_search(self) -> None:
        self.search_bar.hide()
        self._set_matches([])
        self.viewer.setFocus()

    def search(self, query: str) -> int:
        """Find every (case-insensitive) occurrence of ``query``; select the first one."""
        if self.search_edit.text() != query:
            self.search_edit.blockSignals(True)
            self.search_edit.setText(query)
            self.search_edit.blockSignals(False)
        text = self.viewer.toPlainText()
        matches: list[tuple[int, int]] = []
        if query:
            astral = _has_astral(text)
            for m in re.finditer(re.escape(query), text, re.IGNORECASE):
                start = _utf16_len(text[: m.start()]) if astral else m.start()
                matches.append((start, _utf16_len(m.group())))
        self._set_matches(matches)
        if matches:
            self._select(0)
        return len(matches)

    def find_next(self) -> None:
        if self._matches:
            self._select((self._match_index + 1) % len(self._matches))

    def find_previous(self) -> None:
        if self._matches:
            self._select((self._match_index - 1) % len(self._matches))

    def _set_matches(self, matches: list[tuple[int, int]]) -> None:
        self._matches = matches
        self._match_index = -1
        self._paint_matches()
        query = self.search_edit.text()
        self.count_label.setText("" if not query else ("No matches" if not matches else ""))

    def _select(self, index: int) -> None:
        self._match_index = index
        pos, length = self._matches[index]
        cursor = QtGui.QTextCursor(self.viewer.document())
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QtGui.QTextCursor.MoveMode.KeepAnchor)
        self.viewer.setTextCursor(cursor)
        self.viewer.centerCursor()
        self.count_label.setText(f"{index + 1} of {len(self._matches)}")
        self._paint_matches()

    def _paint_matches(self) -> None:
        doc = self.viewer.document()
        every = QtGui.QTextCharFormat()
        every.setBackground(QtGui.QColor(255, 230, 120, 140))
        this = QtGui.QTextCharFormat()
        this.setBackground(QtGui.QColor(255, 150, 50, 200))
        selections = []
        for i, (pos, length) in enumerate(self._matches[:5000]):  # painting beyond is noise
            sel = QtWidgets.QTextEdit.ExtraSelection()
            sel.cursor = QtGui.QTextCursor(doc)
            sel.cursor.setPosition(pos)
            sel.cursor.setPosition(pos + length, QtGui.QTextCursor.MoveMode.KeepAnchor)
            sel.format = this if i == self._match_index else every
            selections.append(sel)
        self.viewer.setExtraSelections(selections)


def _same_path(a: Path, b: Path) -> bool:
    return a.name == b.name and a.resolve() == b.resolve()


def _has_astral(text: str) -> bool:
    return any(ord(c) > 0xFFFF for c in text)
