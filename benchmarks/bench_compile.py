"""Compile-side costs of cpu_sim (DESIGN.md §5).

1. Cold compile of a 3-kernel workload (empty build cache): target <= 0.5 s. Also prints the
   C++ build time of the same sources at -O1 and -O2 (why the cache builds at -O1).
2. Cached compile + first execute in a fresh process, against `python -c "import numpy"`
   measured in the same run: target <= 0.25 s over the baseline.

    python benchmarks/bench_compile.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOAD = """
import numpy as np
from pto_wsp import In, Out, P, Tensor, kernel, pto, workload

X = Tensor(np.ones((8, 16, 64), np.float32))
W = Tensor(np.ones((64, 64), np.float32))
Y = Tensor(np.zeros((8, 16, 64), np.float32))
Z = Tensor(np.zeros((8, 16, 64), np.float32))
V = Tensor(np.zeros((8, 16, 64), np.float32))

@kernel
def proj(x: In[Tensor], w: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.matmul(x, w))

@kernel
def softmax(x: In[Tensor], y: Out[Tensor]):
    e = pto.exp(pto.sub(x, pto.rowmax(x)))
    pto.store(y, pto.div(e, pto.rowsum(e)))

@kernel
def gate(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mul(pto.silu(x), x))

@workload
def three():
    for b in P(8):
        proj[b](x=X[b], w=W, y=Y[b])
        softmax[b](x=Y[b], y=Z[b])
        gate[b](x=Z[b], y=V[b])
"""


def _run_py(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ns: dict = {}
    exec(compile(WORKLOAD, "<bench workload>", "exec"), ns)

    from pto_wsp.backends import cache as cache_mod
    from pto_wsp.backends.cpu_sim import emit_sources
    from pto_wsp.compiler.lowering import lower_with_bindings

    cold = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as d:
            os.environ["PTO_WSP_CACHE_DIR"] = d
            t0 = time.perf_counter()
            program = ns["three"]().compile(target="cpu_sim")
            cold.append(time.perf_counter() - t0)
            program.execute()
            program.synchronize()
    print(f"cold compile, 3 kernels: {min(cold) * 1e3:7.1f} ms (target <= 500 ms)")

    module, tensors = lower_with_bindings(ns["three"]())
    src = emit_sources(module, tensors)
    include, libdir = cache_mod.runtime_paths()
    for opt in ("-O1", "-O2"):
        times = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as d:
                for name, text in src["files"]:
                    Path(d, name).write_text(text)
                cmd = [
                    cache_mod.compiler_command(),
                    "-std=c++17",
                    opt,
                    "-fPIC",
                    "-shared",
                    "-w",
                    f"-I{include}",
                    "-o",
                    f"{d}/lib.so",
                    f"{d}/{src['main_file']}",
                    f"-L{libdir}",
                    "-lpto_runtime",
                ]
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True)
                times.append(time.perf_counter() - t0)
        print(f"  C++ build of the generated sources at {opt}: {min(times) * 1e3:7.1f} ms")

    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PTO_WSP_CACHE_DIR=d)
        # Users' interpreters keep bytecode caches: without them every fresh process compiles
        # all of pto_wsp's sources again (~80 ms here), which is not what a user waits for.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        script = (
            WORKLOAD + "\np = three().compile(target='cpu_sim'); p.execute(); p.synchronize()\n"
        )
        _run_py(script, env)  # populate the cache
        base = min(_run_py("import numpy", env) for _ in range(args.repeat))
        warm = min(_run_py(script, env) for _ in range(args.repeat))
    print(f"python -c 'import numpy' baseline: {base * 1e3:7.1f} ms")
    print(
        f"fresh process, cached compile + first execute: {warm * 1e3:7.1f} ms "
        f"= baseline + {(warm - base) * 1e3:6.1f} ms (target <= 250 ms over), "
        f"ratio {warm / base:4.2f}x"
    )


if __name__ == "__main__":
    main()
