"""The PTO-ISA checkout and compiler the tests use, and why tests skip without them.

The library never guesses a root (``pto_wsp.backends.ptoisa_root``): tests use
``$PTO_ISA_ROOT`` when it is set, else the copy beside the repository,
``../shared/third_party/pto-isa`` relative to the main checkout (a git worktree looks beside
the repository it belongs to).
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

from pto_wsp.backends.ptoisa_root import ENV_ROOT, find_compiler
from pto_wsp.errors import CompileError

REPO = Path(__file__).resolve().parents[1]
_BESIDE = Path("shared") / "third_party" / "pto-isa"


def _main_checkout() -> Path | None:
    """The repository's main worktree (this checkout, or the one a git worktree belongs to)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--path-format=absolute", "--git-common-dir"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return Path(out.stdout.strip()).parent if out.returncode == 0 and out.stdout.strip() else None


@cache
def ptoisa_root() -> Path | None:
    """``$PTO_ISA_ROOT``, else ``../shared/third_party/pto-isa`` beside the repository."""
    env = os.environ.get(ENV_ROOT, "")
    if env:
        return Path(env)
    for base in (REPO, _main_checkout()):
        if base is not None and (base.parent / _BESIDE / "include" / "pto").is_dir():
            return base.parent / _BESIDE
    return None


@cache
def skip_reason() -> str | None:
    """Why PTO-ISA tests cannot run here (None: they run)."""
    missing = []
    if ptoisa_root() is None:
        missing.append(f"no PTO-ISA root (set {ENV_ROOT}, or ../shared/third_party/pto-isa)")
    try:
        find_compiler()
    except CompileError:
        missing.append("no clang++ >= 19 (apt-get install clang-19)")
    return "; ".join(missing) or None
