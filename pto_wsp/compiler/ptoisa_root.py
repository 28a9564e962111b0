"""Where PTO-ISA is and what compiles against it: the one place that answers both.

PTO-WSP never ships PTO-ISA: users point it at their own checkout (the folder that holds
``include/pto/pto-inst.hpp``). The root is, in order: an explicit setting (a ``pto_isa_root=``
argument, the Studio setting, ``pto-wsp ... --pto-isa DIR``), then the environment variable
``PTO_ISA_ROOT``. The test suite falls back to the copy beside the repository
(``../shared/third_party/pto-isa``, ``tests/ptoisa_paths.py``); the library itself never guesses.
It lives in the compiler stage so that every stage that reads PTO-ISA can use it (the verifier
in the runtime; ``compiler/ptoisa_cost.py`` still has its own ``ptoisa_root``, which checks for
the cost model's CSV, and can call ``find_root`` first).

PTO-ISA's headers need C++20 and a compiler that accepts their templates: clang++ 19 does,
g++ 12 does not (a ``static_assert`` in ``TReduceIdx.hpp``). So code built against PTO-ISA uses
``clang++-19`` (or a ``clang++`` whose major version is at least 19), whatever compiles the rest
of the project. ``PTO_ISA_CXX`` names another compiler explicitly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import CompileError

__all__ = [
    "ROOT_MARKER",
    "ENV_ROOT",
    "ENV_CXX",
    "PtoIsaToolchain",
    "find_root",
    "find_compiler",
    "ptoisa_toolchain",
    "write_bf16_shim",
]

ENV_ROOT = "PTO_ISA_ROOT"
"""The environment variable naming the PTO-ISA checkout."""
ENV_CXX = "PTO_ISA_CXX"
"""The environment variable naming the compiler for PTO-ISA code (default: clang++-19)."""
MIN_CLANG = 19
"""The oldest clang whose C++20 accepts PTO-ISA's headers."""
_MARKER = Path("include") / "pto" / "pto-inst.hpp"
ROOT_MARKER = _MARKER.as_posix()
"""The file a folder must hold to be a PTO-ISA root (what every reader of PTO-ISA includes)."""
_SETTING = (
    f"set the PTO-ISA root: `pto-wsp ... --pto-isa DIR` (or pto_isa_root=... / root=... in "
    f"Python), or the environment variable {ENV_ROOT} (the folder that holds "
    "include/pto/pto-inst.hpp)"
)


@dataclass(frozen=True)
class PtoIsaToolchain:
    """A PTO-ISA root and the compiler that builds code against it."""

    root: Path
    cxx: str

    @property
    def include_dir(self) -> Path:
        return self.root / "include"

    def cpu_sim_flags(self) -> list[str]:
        """Flags of a host build in PTO-ISA's CPU simulation mode. ``<cstdint>`` comes first
        (the headers use ``uint64_t`` before including it); ``__PTO_AUTO__`` lets PTO place
        tiles (the emitted kernels have no TASSIGN)."""
        return [
            "-std=c++20",
            "-D__CPU_SIM",
            "-D__PTO_AUTO__",
            "-include",
            "cstdint",
            "-I",
            str(self.include_dir),
            "-Wno-switch",  # PTO-ISA's trace.hpp: unhandled HIF4 layouts
        ]

    def bf16_flags(self, shim_dir: Path) -> list[str]:
        """Flags (after ``cpu_sim_flags``) that give PTO-ISA's CPU simulation a real bfloat16.

        ``include/pto/common/type.hpp`` types ``bfloat16_t`` as ``std::bfloat16_t`` only under
        C++23 with ``<stdfloat>`` and ``__STDCPP_BFLOAT16_T__``, else as ``_Float16`` (a
        different format: bf16 data would be misread). GCC >= 13 provides both; clang 19 has
        the type (``__bf16``, arithmetic on x86-64) but neither the macro nor, with Debian 12's
        libstdc++ 12, the header. ``write_bf16_shim`` writes the header GCC 13's libstdc++ has
        (``std::bfloat16_t`` is ``__bf16``) into ``shim_dir``; the link needs compiler-rt's
        ``__truncsfbf2`` (``bf16_link_args``)."""
        return ["-std=c++23", "-D__STDCPP_BFLOAT16_T__=1", "-isystem", str(shim_dir)]

    def bf16_link_args(self) -> list[str]:
        """compiler-rt's builtins archive: float -> bf16 conversions (``__truncsfbf2``,
        ``__truncdfbf2``) that libgcc 12 lacks. Raises ``CompileError`` naming the package."""
        import subprocess  # lazy: ``import pto_wsp`` loads this module (issue #18)

        out = subprocess.run(
            [self.cxx, "-rtlib=compiler-rt", "-print-libgcc-file-name"],
            capture_output=True,
            text=True,
            check=False,
        )
        path = Path(out.stdout.strip())
        if out.returncode != 0 or not path.is_file():
            raise CompileError(
                f"{Path(self.cxx).name} has no compiler-rt builtins ({path}): bfloat16 kernels "
                f"need them (Debian: apt-get install libclang-rt-{MIN_CLANG}-dev; `bash dev.sh` "
                "does)"
            )
        return [str(path)]


BF16_SHIM = """// <stdfloat> as GCC 13's libstdc++ has it, for clang 19 on libstdc++ 12 (written by
// pto_wsp.compiler.ptoisa_root.write_bf16_shim; see PtoIsaToolchain.bf16_flags).
#pragma once
namespace std {
using bfloat16_t = __bf16;
}
"""


def write_bf16_shim(shim_dir: Path) -> Path:
    """Write the ``<stdfloat>`` of ``PtoIsaToolchain.bf16_flags`` into ``shim_dir``."""
    shim_dir.mkdir(parents=True, exist_ok=True)
    path = shim_dir / "stdfloat"
    path.write_text(BF16_SHIM)
    return path


def _check_root(path: Path, where: str) -> Path:
    path = path.expanduser()
    if not (path / _MARKER).is_file():
        raise CompileError(
            f"PTO-ISA root {str(path)!r} (from {where}) has no {_MARKER.as_posix()}; {_SETTING}"
        )
    return path.resolve()


def find_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The PTO-ISA root: ``explicit`` when given, else ``$PTO_ISA_ROOT``. Raises
    ``CompileError`` naming the setting when neither is set or the folder is not a checkout."""
    if explicit is not None and str(explicit) != "":
        return _check_root(Path(explicit), "the explicit setting")
    env = os.environ.get(ENV_ROOT, "")
    if env:
        return _check_root(Path(env), f"${ENV_ROOT}")
    raise CompileError(f"no PTO-ISA root is set; {_SETTING}")


@cache
def _clang_major(cxx: str) -> int | None:
    import subprocess

    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    m = re.search(r"clang version (\d+)", out.stdout)
    return int(m.group(1)) if m else None


def find_compiler() -> str:
    """The compiler for PTO-ISA code: ``$PTO_ISA_CXX``, else ``clang++-19``, else a ``clang++``
    of version 19 or later. Raises ``CompileError`` naming what to install or set."""
    import shutil

    env = os.environ.get(ENV_CXX, "")
    if env:
        path = shutil.which(env)
        if path is None:
            raise CompileError(f"${ENV_CXX} names {env!r}, which is not an executable")
        return path
    for name in (f"clang++-{MIN_CLANG}", "clang++"):
        path = shutil.which(name)
        if path is not None and (_clang_major(path) or 0) >= MIN_CLANG:
            return path
    raise CompileError(
        f"no compiler for PTO-ISA code: install clang-{MIN_CLANG} (Debian: apt-get install "
        f"clang-{MIN_CLANG}; `bash dev.sh` does) or set ${ENV_CXX}; g++ rejects PTO-ISA's headers"
    )


def ptoisa_toolchain(root: str | os.PathLike[str] | None = None) -> PtoIsaToolchain:
    """The root (see ``find_root``) and the compiler (``find_compiler``) together."""
    return PtoIsaToolchain(find_root(root), find_compiler())
