"""Whether the open document may run without asking: restricted mode's state (DESIGN §1 "Trust").

A document made here (New, a template, an imported script the user ran) is trusted; one opened
from a file is trusted when the trust rule accepts it (``app.model.trust.assess``: no code, a
bundled sample, or content the user trusted before) or once the user consents. Consent and every
save of trusted code-bearing content are remembered by content hash in the trust store.
"""

from __future__ import annotations

from pathlib import Path

from .model import trust
from .model.document import Document


class DocumentTrust:
    """The trust of one open document at a time (``opened`` starts over)."""

    def __init__(self, store: trust.TrustStore | None = None) -> None:
        self._store_override = store
        self._assessment: trust.Assessment | None = None  # of the document, as opened
        self._consented = False  # trusted in this window (made, imported or consented)

    def store(self) -> trust.TrustStore:
        return self._store_override if self._store_override is not None else trust.default_store()

    def opened(self, doc: Document, path: Path | None, from_file: bool) -> None:
        """``doc`` is now open; ``from_file``: it came from ``path`` (opened, recovered), so the
        trust rule decides; otherwise it was made here and is trusted."""
        self._assessment = trust.assess(doc, path, self.store()) if from_file else None
        self._consented = not from_file

    def trusted(self, doc: Document) -> bool:
        """``doc`` may run without asking: it carries no code, it was made, imported or
        consented to here, or the trust rule accepted the file it came from."""
        if self._consented or (self._assessment is not None and self._assessment.trusted):
            return True
        return not trust.code_carriers(doc)

    @property
    def reason(self) -> str:
        """Why the trust rule decided as it did (for the status bar)."""
        return self._assessment.reason if self._assessment is not None else ""

    def grant(self) -> str:
        """The user consented: trusted here, and the content as opened remembered. Returns a
        note for the status bar when remembering failed ("" otherwise)."""
        self._consented = True
        if self._assessment is None:
            return ""
        try:
            self.store().record(self._assessment.digest)
        except trust.TrustStoreError as err:
            return f"Trusted for this session only: {err}"
        return ""

    def remember_saved(self, doc: Document) -> str:
        """Record the hash of what a save just wrote when ``doc`` is trusted and carries code
        (reopening it then runs without asking); a note for the status bar if that failed.
        A restricted document is saved without being trusted: saving is not consent."""
        if not self.trusted(doc) or not trust.code_carriers(doc):
            return ""
        try:
            self.store().record(trust.content_hash(doc))  # the text io.save wrote
        except trust.TrustStoreError as err:
            return f" (not remembered as trusted: {err})"
        return ""
