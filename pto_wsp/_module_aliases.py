"""Module paths from before the stage packages, kept importable for user scripts.

Until 2026-12 ``pto_wsp`` was one flat folder, and scripts (the spec's ``pto_wsp.scalar_expr``, the
runner protocol's ``pto_wsp.runner``, tests and tools people wrote) import modules by those paths.
Each old path is the same module object as its new home, so ``isinstance`` checks and monkeypatches
agree whichever path a caller used. Code inside this repository imports the new paths.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from importlib._abc import Loader
from types import ModuleType

#: old dotted path -> the module it now is
MOVED: dict[str, str] = {
    **{
        f"pto_wsp.{name}": f"pto_wsp.language.{name}"
        for name in (
            "types tensor tensor_init axes kernel pto ptoisa workload csp schedule slots "
            "scalar_expr key_rule shape_rule compat legacy"
        ).split()
    },
    **{
        f"pto_wsp.{name}": f"pto_wsp.runtime.{name}"
        for name in ("program", "trace", "trace_analysis", "runner", "isolation")
    },
    "pto_wsp.lowering": "pto_wsp.compiler.lowering",
    # the reference implementation's module paths (DESIGN §6 "Reference compatibility")
    "pto_wsp.primitives": "pto_wsp.language.primitives",
    "pto_wsp.p_namespace": "pto_wsp.language.p_namespace",
    "pto_wsp.backends.applicability": "pto_wsp.compiler.applicability",
    "pto_wsp.backends.cost": "pto_wsp.compiler.cost",
    "pto_wsp.backends.collective_cost": "pto_wsp.compiler.collective_cost",
}

#: old dotted path -> the modules its names now live in (the flat module was split in two)
MERGED: dict[str, tuple[str, ...]] = {
    # the collectives left layout.py for collectives.py (layout must not import tensors)
    "pto_wsp.layout": ("pto_wsp.language.layout", "pto_wsp.language.collectives"),
}


def _merged_module(old: str, parts: tuple[str, ...]) -> ModuleType:
    """A module under the old path whose attributes are looked up in each part in turn.

    The classes and functions are the parts' own objects, so ``isinstance`` agrees either way."""
    modules = [importlib.import_module(part) for part in parts]
    merged = ModuleType(old, modules[0].__doc__)

    def __getattr__(name: str) -> object:  # noqa: N807 - module-level __getattr__ (PEP 562)
        for module in modules:
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({name for module in modules for name in dir(module)})

    names = [n for module in modules for n in getattr(module, "__all__", ())]
    vars(merged).update(__getattr__=__getattr__, __dir__=__dir__, __all__=names)
    return merged


# importlib._abc, not importlib.abc: the latter loads importlib.resources (tempfile, shutil,
# urllib...), ~15 ms of every `import pto_wsp`.
class _AliasLoader(Loader):
    def __init__(self, target: str) -> None:
        self._target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self._target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The target module ran when it was imported; the import machinery has just stamped the
        alias spec on it, so give it its own back (its ``__name__`` never changed)."""
        module.__spec__ = self._own_spec
        module.__loader__ = self._own_spec.loader if self._own_spec else None


class _AliasFinder:  # the meta path finder protocol
    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = _new_path(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new))


def _new_path(fullname: str) -> str | None:
    """The module an old path now is. A submodule under an old path (``pto_wsp.kernel.ref``,
    since ``kernel`` became a package) is the same submodule of the new path, never a second
    copy of it."""
    if fullname in MOVED:
        return MOVED[fullname]
    head, _, tail = fullname.rpartition(".")
    while head:
        if head in MOVED:
            return f"{MOVED[head]}.{tail}"
        head, _, rest = head.rpartition(".")
        tail = f"{rest}.{tail}"
    return None


def install() -> None:
    """Make every old path resolve (idempotent).

    Old paths whose module is loaded already are entered in ``sys.modules`` now. Importing one
    later then binds nothing on ``pto_wsp``: loading ``pto_wsp.kernel`` through the finder would
    set the package attribute ``kernel`` to the module, hiding the ``@kernel`` decorator of the
    same name (likewise ``workload``), which the flat layout never did.
    """
    for old, new in MOVED.items():
        if new in sys.modules:
            sys.modules.setdefault(old, sys.modules[new])
    for old, parts in MERGED.items():
        if old not in sys.modules:
            sys.modules[old] = _merged_module(old, parts)
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        # First, so a submodule under an old path is not found by the path finder through the
        # aliased package's __path__ (which would load the file again, as a second module).
        sys.meta_path.insert(0, _AliasFinder())
