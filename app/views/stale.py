"""A banner for run views that show a run of something other than the open document.

The Timeline and Stats keep the last successful run on screen (``app.run_panel``). Once the
document changes identity (another project opened, New) or the last run of this one only
emitted sources (``ascend_npu``), that picture belongs to something else: the banner says
where it came from instead of letting it pass for the open project's run.
"""

from __future__ import annotations

from PySide6 import QtWidgets

__all__ = ["StaleBanner", "STALE_STYLE"]

STALE_STYLE = "background: #fff3cd; color: #664d03; border: 1px solid #e0c36b; padding: 2px 6px;"


class StaleBanner(QtWidgets.QLabel):
    """Hidden until ``set_stale(text)``; ``set_stale(None)`` hides it again."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staleBanner")
        self.setWordWrap(True)
        self.setStyleSheet(STALE_STYLE)
        self.hide()

    @property
    def stale(self) -> bool:
        return not self.isHidden()

    def set_stale(self, text: str | None) -> None:
        self.setText(text or "")
        self.setVisible(bool(text))
