"""Where the tests find a PTO-ISA checkout: ``$PTO_ISA_ROOT``, else ``../shared/third_party/
pto-isa`` beside the repository (beside the main checkout when this is a git worktree).

The project never vendors PTO-ISA; ``ptoisa_root()`` is None when no checkout is found, and the
tests that need one skip with that reason.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_RELATIVE = Path("..") / "shared" / "third_party" / "pto-isa"
_CSV = Path("include/pto/costmodel/a2a3/formula_costmodel/formula_params.csv")


def _main_checkout() -> Path | None:
    """The main checkout of a git worktree (the parent of the common ``.git``)."""
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return Path(common).parent if common else None


def ptoisa_root() -> Path | None:
    """The checkout the tests use, or None."""
    env = os.environ.get("PTO_ISA_ROOT")
    candidates = [Path(env)] if env else []
    candidates.append(REPO / _RELATIVE)
    main = _main_checkout()
    if main is not None:
        candidates.append(main / _RELATIVE)
    for c in candidates:
        if (c / _CSV).is_file():
            return c.resolve()
    return None


SKIP_REASON = "no PTO-ISA checkout: set PTO_ISA_ROOT or put one at ../shared/third_party/pto-isa"
