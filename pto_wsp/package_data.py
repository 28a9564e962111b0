"""Data files shipped inside a package: the Studio's samples and kernel library, the ascend_npu
stub headers. One lookup, through ``importlib.resources``, for a checkout and an installed wheel
alike (issue #19: a path built from ``__file__`` and the checkout's layout is empty once
installed).

Callers name their own top-level package (``__name__.partition(".")[0]``), so the Studio's code
finds its data under whatever name it is imported as: ``app`` in the checkout,
``pto_wsp_studio`` when installed.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["package_path"]


def package_path(package: str, *parts: str) -> Path:
    """The file-system path of ``parts`` inside ``package`` (which need not exist yet).

    A ``Path``, not a ``Traversable``: the data is handed to compilers (``-I``), globbed and
    compared by location (trusted samples). The packages are always unpacked on disk (the C++
    extension ``pto_wsp._core`` cannot load from an archive), so the lookup never extracts.
    """
    found = files(package).joinpath(*parts)
    if not isinstance(found, Path):
        raise RuntimeError(
            f"{package} is not installed as files on disk ({found!r}); "
            "install the wheel with pip, not as a zip archive"
        )
    return found
