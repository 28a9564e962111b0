"""Extract the ```python blocks of the DSL spec, with their section number and line.

The spec lives in the shared folder beside the repository (``../shared/spec/...`` relative to
the repo root: that is where CI lays ``shared/`` next to its clone). ``PTO_WSP_SPEC`` overrides
the path. Tests use the blocks to run every spec example as written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SPEC_NAME = "pto-wsp-v9.3-spec.md"
REPO_ROOT = Path(__file__).resolve().parent.parent

_HEADING = re.compile(r"^(#{2,4})\s+(\d+(?:\.\d+)*)\.?\s")
_FENCE_OPEN = re.compile(r"^```python\s*$")


@dataclass(frozen=True)
class SpecBlock:
    """One fenced python block: ``section`` like "3.0.1", ``line`` = 1-based line of its code."""

    section: str
    line: int
    code: str

    @property
    def id(self) -> str:
        """Stable test id, e.g. ``s3.0-L236``."""
        return f"s{self.section}-L{self.line}"

    @property
    def top_section(self) -> int:
        return int(self.section.split(".")[0])


def spec_path() -> Path:
    """The spec file, or FileNotFoundError listing where it was looked for."""
    candidates = []
    env = os.environ.get("PTO_WSP_SPEC")
    if env:
        candidates.append(Path(env))
    candidates += [
        REPO_ROOT.parent / "shared" / "spec" / SPEC_NAME,
        REPO_ROOT / "shared" / "spec" / SPEC_NAME,
        Path("/work/shared/spec") / SPEC_NAME,
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{SPEC_NAME} not found; looked in: " + ", ".join(str(p) for p in candidates)
    )


def parse_blocks(text: str) -> list[SpecBlock]:
    """Every ```python block of ``text`` with the number of the section it is in."""
    blocks: list[SpecBlock] = []
    section = "0"
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(2)
        elif _FENCE_OPEN.match(line):
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            blocks.append(SpecBlock(section, start + 1, "\n".join(lines[start:j]) + "\n"))
            i = j
        i += 1
    return blocks


def spec_blocks(sections: set[int] | None = None) -> list[SpecBlock]:
    """The spec's python blocks, optionally only those of the given top-level sections."""
    blocks = parse_blocks(spec_path().read_text(encoding="utf-8"))
    if sections is None:
        return blocks
    return [b for b in blocks if b.top_section in sections]
