"""Whether the open document may run without asking: restricted mode's state (DESIGN §1 "Trust").

A document made here (New, a template, an imported script the user ran) is trusted; one opened
from a file is trusted when the trust rule accepts it (``app.model.trust.assess``: no code, a
bundled sample, or content the user trusted before) or once the user consents. Consent and every
save of trusted code-bearing content are remembered by content hash in the trust store.

C++ kept in a file the document names (``cpp_body_path``, ``cpp_tu_path``) is code too, and its
content is part of what is trusted: the contents the files had when trust was established
(opened trusted, made here, consented) are pinned by SHA-256, as the trust store remembers
content wherever it lives. A named file whose content is not pinned — edited since (changed back
to a pinned content it is trusted again), a path typed afterwards, a relative path that resolves
to another file after Save As — makes the document restricted again until the user consents to
what the file holds now. A named file that cannot be read is a problem, not a question: the
run is refused with the message naming node and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import trust
from .model.document import Document


@dataclass(frozen=True)
class TrustState:
    """The open document's trust now: ``trusted``; else ``reason`` says why not, ``files``
    are the named C++ files that changed or are new since trust was established (the reason
    names them), and ``problem`` is set when a named file cannot be read (the run is refused,
    not asked)."""

    trusted: bool
    reason: str = ""
    problem: str | None = None
    files: tuple[trust.CodeFile, ...] = ()


class DocumentTrust:
    """The trust of one open document at a time (``opened`` starts over)."""

    def __init__(self, store: trust.TrustStore | None = None) -> None:
        self._store_override = store
        self._assessment: trust.Assessment | None = None  # of the document, as opened
        self._opened: Document | None = None  # a copy of the document as opened from a file
        self._consented = False  # trusted in this window (made, imported or consented)
        self._pinned: set[str] = set()  # SHA-256 of the C++ file contents trusted here
        self._seen: set[Path] = set()  # the paths those contents were read from (for messages)

    def store(self) -> trust.TrustStore:
        return self._store_override if self._store_override is not None else trust.default_store()

    def opened(self, doc: Document, path: Path | None, from_file: bool) -> None:
        """``doc`` is now open; ``from_file``: it came from ``path`` (opened, recovered), so the
        trust rule decides; otherwise it was made here and is trusted, with the C++ files it
        names as they are now."""
        self._pinned = set()
        self._seen = set()
        self._consented = not from_file
        if from_file:
            self._assessment = trust.assess(doc, path, self.store())
            self._opened = doc.copy()
            if self._assessment.trusted:
                self._pin(self._assessment.files)
        else:
            self._assessment = None
            self._opened = None
            try:
                self._pin(trust.code_files(doc))
            except trust.NamedFileError:
                pass  # nothing to pin: ``state`` reports the problem before any run

    def _pin(self, files: tuple[trust.CodeFile, ...]) -> None:
        self._pinned.update(f.sha256 for f in files)
        self._seen.update(f.path for f in files)

    def state(self, doc: Document) -> TrustState:
        """Whether ``doc`` may run without asking: it carries no code, or it was made, imported
        or consented to here or accepted by the trust rule, and every C++ file it names holds
        what it held when that happened (see the module doc)."""
        if not trust.code_carriers(doc):
            return TrustState(True)
        assessed = self._assessment
        if not (self._consented or (assessed is not None and assessed.trusted)):
            reason = assessed.reason if assessed is not None else "not trusted yet"
            return TrustState(False, reason, assessed.problem if assessed is not None else None)
        try:
            files = trust.code_files(doc)
        except trust.NamedFileError as err:
            return TrustState(False, str(err), str(err))
        untrusted = [f for f in files if f.sha256 not in self._pinned]
        changed = [f for f in untrusted if f.path in self._seen]
        new = [f for f in untrusted if f.path not in self._seen]
        if changed:
            them = "it" if len(changed) == 1 else "them"
            reason = f"{trust.files_text(changed)} changed since you trusted {them}"
            return TrustState(False, reason, files=tuple(changed + new))
        if new:
            verb = "is" if len(new) == 1 else "are"
            return TrustState(
                False, f"{trust.files_text(new)} {verb} not trusted yet", files=tuple(new)
            )
        return TrustState(True)

    def trusted(self, doc: Document) -> bool:
        """``doc`` may run without asking (``state``)."""
        return self.state(doc).trusted

    @property
    def reason(self) -> str:
        """Why the trust rule decided as it did when the document was opened (status bar)."""
        return self._assessment.reason if self._assessment is not None else ""

    def grant(self, doc: Document) -> str:
        """The user consented to ``doc`` as it is now: trusted here, the C++ files it names
        pinned as they are now, and the content as opened (with those files) remembered.
        Returns a note for the status bar when remembering failed ("" otherwise).
        ``NamedFileError`` when a named file cannot be read (nothing is trusted then)."""
        files = trust.code_files(doc)
        self._consented = True
        self._pin(files)
        if self._opened is None:
            return ""
        try:
            digest = trust.content_hash(self._opened)
        except trust.NamedFileError:
            return ""  # the document as opened named a file that is gone: nothing to remember
        try:
            self.store().record(digest)
        except trust.TrustStoreError as err:
            return f"Trusted for this session only: {err}"
        return ""

    def remember_saved(self, doc: Document) -> str:
        """Record the hash of what a save just wrote (with the C++ files it names) when ``doc``
        is trusted and carries code (reopening it then runs without asking); a note for the
        status bar if that failed. A restricted document is saved without being trusted:
        saving is not consent."""
        if not trust.code_carriers(doc) or not self.trusted(doc):
            return ""
        try:
            self.store().record(trust.content_hash(doc))  # the text io.save wrote, its files
        except (trust.TrustStoreError, trust.NamedFileError) as err:
            return f" (not remembered as trusted: {err})"
        return ""
