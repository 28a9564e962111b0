"""Canary for the PySide6 6.12 refcount bug (DESIGN §4).

PySide6 6.12.0 on Python 3.11 crashes after some tens of thousands of signal/slot calls: every
emission of ``None`` through an ``object`` signal drops a reference to ``None`` until the
interpreter aborts. The pinned 6.11.3 does not. This test makes ~100k calls of the kinds the
editor makes (``None``, small objects, strings, through direct and lambda slots) so that a wrong
PySide6 build fails here, loudly, instead of crashing a user's session minutes in.
"""

from __future__ import annotations

import sys

from PySide6 import QtCore

CALLS = 100_000


class _Emitter(QtCore.QObject):
    """A QObject with the signal shapes the Studio uses (object payloads, strings, no args)."""

    payload = QtCore.Signal(object)
    text = QtCore.Signal(str)
    bare = QtCore.Signal()


class _Receiver(QtCore.QObject):
    def __init__(self) -> None:
        super().__init__()
        self.nones = 0
        self.objects = 0

    @QtCore.Slot(object)
    def on_payload(self, value: object) -> None:
        if value is None:
            self.nones += 1
        else:
            self.objects += 1


def test_pyside6_version_is_the_pinned_one() -> None:
    import PySide6

    assert PySide6.__version__ == "6.11.3", (
        f"PySide6 {PySide6.__version__} installed; the Studio pins 6.11.3 (DESIGN §4)"
    )


def test_100k_signal_slot_calls_keep_none_alive(qapp: object) -> None:
    emitter, receiver = _Emitter(), _Receiver()
    emitter.payload.connect(receiver.on_payload)
    texts: list[int] = []
    emitter.text.connect(lambda s: texts.append(len(s)))
    bare_count = [0]
    emitter.bare.connect(lambda: bare_count.__setitem__(0, bare_count[0] + 1))

    none_refs_before = sys.getrefcount(None)
    payload = {"node": "n1"}
    for i in range(CALLS // 4):
        emitter.payload.emit(None)
        emitter.payload.emit(payload)
        emitter.text.emit("n" + str(i & 7))
        emitter.bare.emit()

    assert receiver.nones == CALLS // 4
    assert receiver.objects == CALLS // 4
    assert len(texts) == CALLS // 4 and sum(texts) == 2 * (CALLS // 4)
    assert bare_count[0] == CALLS // 4
    # None is immortal on 3.12+, but not on 3.11: a leaking binding shows as a large drop.
    assert sys.getrefcount(None) >= none_refs_before - 1000
    assert sys.getrefcount(payload) < 100  # the payload is not leaked by the binding either
