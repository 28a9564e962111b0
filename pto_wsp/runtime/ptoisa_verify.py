"""Emit and verify: the ascend_npu AICore kernels run on the host against real PTO-ISA.

``verify_workload`` emits a workload's NPU source tree, builds its host expander together with
every AICore kernel against a PTO-ISA checkout in CPU simulation mode (one translation unit,
clang++-19, ``compiler.ptoisa_root``), runs it on the workload's input data and compares every
tensor with what cpu_sim computes from the same inputs. The report is per kernel: a kernel
verifies when every tensor it writes equals cpu_sim's within the kernel's bound (bit for bit
when all its ops are exact; the bounds are the op table's ``isa_ulp`` / ``isa_abs``, see
``docs/ptoisa.md``).

This stage runs both backends, so it sits in the runtime (DESIGN §1); the workload's own
tensors are restored after the cpu_sim run, so verifying has no effect on the user's data.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.ascend_npu import emit_tree
from ..compiler.lowering import lower_with_bindings
from ..compiler.ptoisa_root import PtoIsaToolchain, ptoisa_toolchain, write_bf16_shim
from ..errors import CompileError
from ..language.op_table import BY_NAME

__all__ = [
    "KernelVerdict",
    "TensorDiff",
    "VerifyReport",
    "build_on_host",
    "kernel_bound",
    "ulp_distance",
    "verify_workload",
]


@dataclass(frozen=True)
class TensorDiff:
    """One tensor: PTO-ISA on the host against cpu_sim."""

    name: str
    dtype: str
    max_ulp: int
    """Largest distance in units in the last place (integers: the largest difference)."""
    max_abs: float
    """Largest absolute difference."""
    bit_equal: bool


@dataclass(frozen=True)
class KernelVerdict:
    """One kernel of the tree and what its tasks wrote."""

    kernel: str
    tasks: int
    tensors: tuple[str, ...]
    """The tensors its tasks write (Out / InOut parameters)."""
    ulp_bound: int
    abs_bound: float
    ok: bool
    detail: str
    compiled: bool = True
    """False: PTO-ISA rejects the kernel (``detail`` has the compiler's first error)."""
    max_ulp: int = 0
    """The largest ulp distance over the tensors it writes (integers: largest difference)."""
    max_abs: float = 0.0
    """The largest absolute difference over the tensors it writes."""

    @property
    def status(self) -> str:
        """``verified``, ``mismatch`` or ``does not compile``."""
        if not self.compiled:
            return "does not compile"
        return "verified" if self.ok else "mismatch"

    def line(self) -> str:
        mark = "verified" if self.ok else "MISMATCH"
        return f"  {mark:9s} @{self.kernel}: {self.tasks} task(s); {self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel,
            "tasks": self.tasks,
            "tensors": list(self.tensors),
            "ulp_bound": self.ulp_bound,
            "abs_bound": self.abs_bound,
            "ok": self.ok,
            "status": self.status,
            "max_ulp": self.max_ulp,
            "max_abs": self.max_abs,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of ``verify_workload``."""

    name: str
    tree: Path
    compiler: str
    root: Path
    build_s: float
    run_s: float
    kernels: tuple[KernelVerdict, ...]
    tensors: tuple[TensorDiff, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(k.ok for k in self.kernels)

    def text(self) -> str:
        head = (
            f"{self.name}: {'verified' if self.ok else 'FAILED'} against PTO-ISA "
            f"({self.root}, {Path(self.compiler).name}, CPU simulation; build "
            f"{self.build_s:.1f} s, run {self.run_s:.2f} s)"
        )
        return "\n".join([head, *(k.line() for k in self.kernels)])

    def as_json(self) -> dict[str, Any]:
        """The report as the runner protocol's stats carry it (``run_main --verify``)."""
        return {
            "name": self.name,
            "ok": self.ok,
            "tree": str(self.tree),
            "compiler": self.compiler,
            "root": str(self.root),
            "build_s": self.build_s,
            "run_s": self.run_s,
            "kernels": [k.as_json() for k in self.kernels],
        }


# ---- numerics ------------------------------------------------------------------------------


def _ordered(a: np.ndarray) -> np.ndarray:
    """Float bit patterns as integers ordered like the floats (so |x - y| counts ulps)."""
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    i = np.ascontiguousarray(a).view(bits).astype(np.int64)
    sign = np.int64(1) << np.int64(8 * a.dtype.itemsize - 1)
    return np.where(i < 0, -(i + sign), i)  # -0.0 and +0.0 both map to 0


def ulp_distance(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Elementwise distance in ulps (floats; NaN against NaN is 0, NaN against a number is
    huge) or the absolute difference (integers, bool)."""
    if got.dtype.kind != "f" and got.dtype.name != "bfloat16":
        return np.abs(got.astype(np.int64) - want.astype(np.int64)).astype(np.int64)
    d = np.abs(_ordered(got) - _ordered(want))
    gn, wn = np.isnan(got.astype(np.float64)), np.isnan(want.astype(np.float64))
    d = np.where(gn & wn, 0, d)
    return np.where(gn ^ wn, np.iinfo(np.int64).max, d)


def kernel_bound(kernel: Any) -> tuple[int, float]:
    """(ulps, absolute) a kernel's float outputs may differ from cpu_sim's: the sums of its
    ops' bounds (op table ``isa_ulp``, ``isa_abs``; a row/column reduction or a matmul counts
    its length in ulps). (0, 0.0): bit for bit."""
    ulps, absolute = 0, 0.0
    for op in kernel.ops:
        spec = BY_NAME.get(op.op)
        if spec is None:
            continue
        n = 1
        if spec.rule in ("row_reduce", "col_reduce", "matmul"):
            operands = list(op.operands)
            n = _reduced_length(kernel, operands[0], spec.rule) if operands else 1
        ulps += spec.isa_ulp * n
        absolute += spec.isa_abs
    return ulps, absolute


def _reduced_length(kernel: Any, value: int, rule: str) -> int:
    """How many elements a reduction / matmul adds up (its operand's columns or rows)."""
    np_ = len(kernel.params)
    shape = list(kernel.params[value].shape) if value < np_ else list(kernel.ops[value - np_].shape)
    if not shape:
        return 1
    rows, cols = (shape[-2] if len(shape) >= 2 else 1), shape[-1]
    return max(1, rows if rule == "col_reduce" else cols)


# ---- the module's tasks --------------------------------------------------------------------


def _nodes(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.nested())


def _writes(module: Any) -> dict[int, set[int]]:
    """kernel id -> the tensor ids its tasks bind to Out / InOut parameters."""
    out: dict[int, set[int]] = {k: set() for k in range(len(module.kernels))}
    for n in _nodes(module.workload):
        if n.kind != "task":
            continue
        k = module.kernels[n.kernel_id]
        direction = {p.name: p.direction for p in k.params}
        for a in n.args:
            if a.kind == "view" and direction.get(a.param, "in") in ("out", "inout"):
                out[n.kernel_id].add(a.view.tensor_id)
    return out


# ---- build and run -------------------------------------------------------------------------


_KERNEL_DIAG = re.compile(r"aicore/(kernel_(\d+)_\w+)\.cpp:\d+:\d+: (?:error|note): ")


def failing_kernels(stderr: str) -> dict[int, str]:
    """kernel id -> its first compiler error, from clang's diagnostics of the unity build (an
    error inside PTO-ISA is charged to the kernel whose line instantiated it). An error that
    names no kernel maps to -1."""
    out: dict[int, str] = {}
    message: str | None = None
    for line in stderr.splitlines():
        if ": error: " in line:
            if message is not None:
                out.setdefault(-1, message)
            message = line.split(": error: ", 1)[1].strip()
        m = _KERNEL_DIAG.search(line)
        if m and message is not None:
            out.setdefault(int(m.group(2)), message)
            message = None
    if message is not None:
        out.setdefault(-1, message)
    return out


def build_on_host(tree: Path, tc: PtoIsaToolchain, out_dir: Path) -> tuple[Path, dict[int, str]]:
    """Compile the tree's host expander with every AICore kernel (one translation unit) against
    PTO-ISA in CPU simulation mode. A kernel that does not compile is left out (its entry does
    nothing) and the rest is built again; returns the executable and, per kernel id left out,
    the compiler's first error. Raises ``CompileError`` when the host code itself fails."""
    kernels = sorted((tree / "aicore").glob("kernel_*.cpp"))
    left_out: dict[int, str] = {}
    exe = out_dir / "run_on_host"
    shim = out_dir / "bf16_shim"  # a real bfloat16 (PtoIsaToolchain.bf16_flags)
    write_bf16_shim(shim)
    link = tc.bf16_link_args()
    while True:
        unity = out_dir / "run_on_host.cpp"
        lines = ["// One translation unit: the host harness, the expander and the AICore kernels."]
        for src in [tree / "host" / "expand_on_host.cpp", tree / "aicpu" / "expander.cpp"]:
            lines.append(f'#include "{src}"')
        for src in kernels:
            kid = int(src.stem.split("_")[1])
            if kid in left_out:  # does not compile against PTO-ISA: its tasks do nothing
                lines.append(f'extern "C" void pto_{src.stem}(uint8_t*, uint8_t*) {{}}')
            else:
                lines.append(f'#include "{src}"')
        unity.write_text("\n".join(lines) + "\n")
        cmd = [tc.cxx, *tc.cpu_sim_flags(), *tc.bf16_flags(shim), "-DPTO_RUN_KERNELS", "-O1"]
        res = subprocess.run(
            [*cmd, "-ferror-limit=0", str(unity), "-o", str(exe), *link],
            capture_output=True,
            text=True,
        )
        if res.returncode == 0:
            return exe, left_out
        failed = failing_kernels(res.stderr)
        new = {k: v for k, v in failed.items() if k >= 0 and k not in left_out}
        if -1 in failed or not new:
            tail = [ln for ln in res.stderr.splitlines() if "error" in ln][:12]
            raise CompileError(
                f"the emitted host code of {tree.name} does not compile against PTO-ISA "
                f"({Path(tc.cxx).name}):\n" + "\n".join(tail or res.stderr.splitlines()[-12:])
            )
        left_out.update(new)


def _write_inputs(where: Path, inputs: list[np.ndarray], runner: Any) -> None:
    where.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(inputs):
        (where / f"tensor_{i}.bin").write_bytes(np.ascontiguousarray(data).tobytes())
    for name, values in (("symbols", runner.symbols), ("params", runner.params)):
        text = "".join(f"{k} {int(v)}\n" for k, v in zip(values.names, values.values, strict=True))
        (where / f"{name}.txt").write_text(text)


def _verdict(
    name: str,
    count: int,
    mine: list[int],
    ulps: int,
    absolute: float,
    diffs: list[TensorDiff],
    compile_error: str | None,
) -> KernelVerdict:
    """The verdict of one kernel that ran ``count`` tasks writing the tensors ``mine``."""
    names = tuple(diffs[t].name for t in mine)
    if compile_error is not None:
        detail = f"does not compile against PTO-ISA: {compile_error}"
        return KernelVerdict(name, count, names, ulps, absolute, False, detail, False)
    bad = [
        diffs[t]
        for t in mine
        if not (diffs[t].bit_equal or diffs[t].max_ulp <= ulps or diffs[t].max_abs <= absolute)
    ]
    parts = [
        f"{diffs[t].name} "
        + (
            "bit-equal"
            if diffs[t].bit_equal
            else f"{diffs[t].max_ulp} ulp / {diffs[t].max_abs:.3g}"
        )
        for t in mine
    ]
    bound = "bit for bit" if (ulps, absolute) == (0, 0.0) else f"bound {ulps} ulp or {absolute:.3g}"
    detail = (", ".join(parts) or "writes no tensor") + f" ({bound})"
    return KernelVerdict(
        name,
        count,
        names,
        ulps,
        absolute,
        not bad,
        detail,
        max_ulp=max((diffs[t].max_ulp for t in mine), default=0),
        max_abs=max((diffs[t].max_abs for t in mine), default=0.0),
    )


def verify_workload(
    workload: Any,
    *,
    pto_isa_root: str | os.PathLike[str] | None = None,
    work_dir: Path | None = None,
    name: str | None = None,
) -> VerifyReport:
    """Emit ``workload`` for ascend_npu, run its kernels on the host against PTO-ISA and compare
    every tensor with cpu_sim's. Raises ``CompileError`` when PTO-ISA or its compiler is missing
    (the message names the setting) or the kernels do not compile."""
    tc = ptoisa_toolchain(pto_isa_root)
    module, tensors = lower_with_bindings(workload)
    originals = [np.array(t.data, copy=True) for t in tensors]
    tree = Path(workload.compile(target="ascend_npu").codegen_artifact_dir)
    collective_kernels = emit_tree(module)["collective_kernels"]
    program = workload.compile(target="cpu_sim")
    try:
        program.execute()
        program.synchronize()
        expected = [np.array(t.data, copy=True) for t in tensors]
    finally:
        for t, data in zip(tensors, originals, strict=True):
            t.data[...] = data
    with tempfile.TemporaryDirectory(prefix="pto-wsp-verify-", dir=work_dir) as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        exe, left_out = build_on_host(tree, tc, base)
        build_s = time.perf_counter() - t0
        _write_inputs(base / "in", originals, program.runner)
        (base / "out").mkdir()
        t0 = time.perf_counter()
        res = subprocess.run(
            [str(exe), str(base / "in"), str(base / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        run_s = time.perf_counter() - t0
        if res.returncode != 0:
            raise CompileError(
                f"the emitted kernels of {tree.name} failed on the host (exit {res.returncode}):"
                f"\n{res.stderr.strip()[-2000:]}"
            )
        tasks_of = [int(line.split()[0]) for line in res.stdout.splitlines() if line.strip()]
        got = [
            np.frombuffer((base / "out" / f"tensor_{i}.bin").read_bytes()[: o.nbytes], o.dtype)
            .reshape(o.shape)
            .copy()
            for i, o in enumerate(originals)
        ]
    diffs = []
    for i, (g, w) in enumerate(zip(got, expected, strict=True)):
        d = ulp_distance(g, w)
        absd = np.abs(g.astype(np.float64) - w.astype(np.float64)) if g.size else np.zeros(1)
        diffs.append(
            TensorDiff(
                name=module.tensors[i].name,
                dtype=module.tensors[i].dtype,
                max_ulp=int(d.max()) if d.size else 0,
                max_abs=float(np.nanmax(absd)) if absd.size else 0.0,
                bit_equal=g.tobytes() == w.tobytes(),
            )
        )
    writes = _writes(module)
    kernels: list[tuple[int, str, list[int], int, float]] = []  # id, name, writes, bound
    for k, kern in enumerate(module.kernels):
        kernels.append((k, kern.name, sorted(writes.get(k, set())), *kernel_bound(kern)))
    for ck in collective_kernels:  # a collective's synthesized copy / fold kernel
        spec = BY_NAME.get(ck["op"])
        bound = (spec.isa_ulp, spec.isa_abs) if spec is not None else (0, 0.0)
        label = f"{ck['collective']} ({ck['op']})"
        kernels.append((ck["kernel_id"], label, [ck["tensor"]], *bound))
    verdicts = [
        _verdict(label, sum(1 for t in tasks_of if t == k), mine, ulps, bnd, diffs, left_out.get(k))
        for k, label, mine, ulps, bnd in kernels
    ]
    return VerifyReport(
        name=name or module.name,
        tree=tree,
        compiler=tc.cxx,
        root=tc.root,
        build_s=build_s,
        run_s=run_s,
        kernels=tuple(verdicts),
        tensors=tuple(diffs),
    )
