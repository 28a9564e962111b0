"""Kernels (spec §6): ``@kernel``/``@jit_kernel``, signatures, specialization and calls.

A kernel is a Python function whose parameters are annotated with ``In``/``Out``/``InOut``/
``Constexpr``/``Scalar``. One module per step of a kernel's life:

* ``annotations`` - the parameter annotations and the values they admit;
* ``signature`` - reading a function's annotations and source into a ``KernelSignature``;
* ``decorator`` - ``@kernel``/``@jit_kernel``: check, read the signature, classify the body;
* ``ref`` - ``KernelRef`` (specialization, compile) and the calls that record a ``KernelCall``;
* ``call`` - binding and checking one call's arguments against the signature;
* ``cpp_source`` - a kernel's C++: where it is read from, its ABI, whether it needs PTO-ISA;
* ``ir`` - ``KernelIR`` (the traced ``pto`` ops) and ``CompiledKernel``.

Every public name is importable from here, as before the split.
"""

from __future__ import annotations

from ..pto import OpRecord
from .annotations import AxisVar, Constexpr, In, InOut, Out, Scalar, Tile
from .decorator import jit_kernel, kernel
from .ir import CompiledKernel, KernelIR, KernelSource
from .ref import BoundKernel, KernelCall, KernelRef, KernelTrace, TraceValue
from .signature import KernelParam, KernelSignature

__all__ = [
    "In",
    "Out",
    "InOut",
    "Constexpr",
    "Tile",
    "Scalar",
    "AxisVar",
    "KernelParam",
    "KernelSignature",
    "KernelIR",
    "KernelSource",
    "OpRecord",
    "KernelRef",
    "BoundKernel",
    "KernelCall",
    "KernelTrace",
    "TraceValue",
    "CompiledKernel",
    "kernel",
    "jit_kernel",
]
