"""The restricted-mode bar: shown above the canvas while the open document carries C++ code
that the user has not trusted (``app.model.trust``), like VS Code's restricted-mode banner.

It names the kernels that carry code and offers one button, "Trust and run": clicking it is the
consent (the window records the document's content hash and runs it). The bar only displays and
reports the click; the window owns the trust state.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from .model.trust import CodeCarrier, kernel_list

__all__ = ["TrustBar", "bar_text"]

_STYLE = (
    "#trustBar { background: #fff4ce; border-bottom: 1px solid #e0c060; }"
    "#trustBar QLabel { color: #3b2f00; }"
)


def bar_text(carriers: list[CodeCarrier] | tuple[CodeCarrier, ...], note: str = "") -> str:
    """What the bar says: restricted mode, which kernels carry code and, when the document
    was trusted but a C++ file it names is new or changed, ``note`` saying which."""
    why = f" {note[:1].upper()}{note[1:]}." if note else ""
    return (
        f"Restricted mode: this project carries C++ code ({kernel_list(carriers)}).{why} "
        "It does not run until you trust it."
    )


class TrustBar(QWidget):
    """A one-line bar with the restricted-mode text and a "Trust and run" button."""

    trust_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trustBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the style's colour
        self.setStyleSheet(_STYLE)
        self.label = QLabel()
        self.label.setObjectName("trustBarText")
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.button = QPushButton("Trust and run")
        self.button.setObjectName("trustBarButton")
        self.button.setToolTip(
            "Trust this content (remembered by its hash) and run it; the kernels' C++ is "
            "compiled and executed in a worker process"
        )
        self.button.clicked.connect(self.trust_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.hide()

    def show_for(
        self, carriers: list[CodeCarrier] | tuple[CodeCarrier, ...], note: str = ""
    ) -> None:
        """Show the bar naming ``carriers`` and ``note`` (``bar_text``; hide it when there are
        no carriers)."""
        if not carriers:
            self.hide()
            return
        self.label.setText(bar_text(carriers, note))
        self.show()
