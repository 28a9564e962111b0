"""CSP engine throughput and memory on cpu_sim (docs/semantics.md, "CSP execution").

Targets: >= 20 M channel events/s and <= 64 B per event for a pipeline of 10^6 channel events
(an event is one send or one take; each item is one send and one take). Tasks are empty-body
kernels, so numerics cost nothing and the figure is the engine's: fibers, the discrete-event
order, channel bookkeeping, the per-task simulator submission and the traces.

1. Engine: producer -> channel -> consumer through the real engine (native/csp_pipeline.cpp,
   C++ process bodies built at benchmark time by native_lib.py), trace on and off, a few channel
   depths.
2. End to end: the same pipeline written in the DSL (`P.pipe`, `send`, `consume`), compiled for
   cpu_sim; the generated driver's run time (task views, cost, keys, submission included).

Bytes per event = (CSP engine records -- occupancy changes, waits, task segments -- and channel
queues + the simulator's per-task trace) / events.
The engine rows print the rate per wall second and per CPU second of the running thread (the
machine's 2 cores are shared, so wall time includes time other processes had the core).

    python benchmarks/bench_csp.py [--items 500000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time

# Idle OpenBLAS threads spin and take CPU from the single-threaded engine on a 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import native_lib  # noqa: E402  (benchmarks/, the script's directory)
import numpy as np  # noqa: E402

from pto_wsp import (  # noqa: E402
    Channel,
    In,
    Out,
    P,
    Tensor,
    consume,
    kernel,
    send,
    workload,
)

TARGET_EVENTS_PER_S = 20e6
TARGET_BYTES_PER_EVENT = 64.0


def report(label: str, events: int, seconds: float, bytes_used: int) -> None:
    rate = events / seconds
    per_event = bytes_used / events
    print(
        f"{label:<40} {rate / 1e6:7.2f} M events/s  (x{rate / TARGET_EVENTS_PER_S:4.2f} of "
        f"target)   {per_event:6.1f} B/event  (x{per_event / TARGET_BYTES_PER_EVENT:4.2f} of "
        "target)"
    )


def bench_engine(items: int, repeat: int) -> None:
    print(f"-- engine: {items} items = {2 * items} channel events, 2 workers, 1-cycle tasks")
    run = native_lib.csp_pipeline()  # ctypes releases the GIL during the call
    for depth in (1, 2, 8):
        for trace in (True, False):
            best: native_lib.PipelineResult | None = None
            for _ in range(repeat):
                r = native_lib.PipelineResult()
                if run(items, depth, 1, 2, int(trace), ctypes.byref(r)) != 0:
                    raise RuntimeError("CSP benchmark pipeline failed")
                assert r.tasks == r.events == 2 * items
                if best is None or r.seconds < best.seconds:
                    best = r
            assert best is not None
            used = best.engine_bytes + best.task_trace_bytes
            label = f"depth {depth}, task trace {'on' if trace else 'off'}"
            report(label + ", wall", best.events, best.seconds, used)
            report(label + ", cpu", best.events, best.cpu_seconds, used)


@kernel
def produce(src: In[Tensor], buf: Out[Tensor]): ...


@kernel
def consume_k(buf: In[Tensor], dst: Out[Tensor]): ...


def bench_end_to_end(items: int, repeat: int) -> None:
    print(f"-- end to end (generated driver): {items} items = {2 * items} channel events")
    src = Tensor(np.zeros((items, 1), np.float32))
    buf = Tensor(np.zeros((1, 1), np.float32))
    dst = Tensor(np.zeros((items, 1), np.float32))
    ch = Channel("bench", depth=2)

    @workload
    def pipeline():
        with P.pipe():
            for i in P.seq(items):
                send(ch, produce[i](src=src[i], buf=buf))
            with consume(ch) as t:
                consume_k[t](buf=buf, dst=dst[t])

    t0 = time.perf_counter()
    program = pipeline().compile(target="cpu_sim")
    print(f"compile: {(time.perf_counter() - t0) * 1e3:.0f} ms")
    best = best_cpu = float("inf")
    for _ in range(repeat):
        # The run executes on a runner thread while this one blocks in synchronize(), so the
        # process CPU time of the pair is the run's own (plus the small Python-side epilogue).
        c0 = time.process_time()
        program.execute()
        program.synchronize()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best = min(best, program.stats().execute_time_ms / 1e3)
    trace = program.runner.csp_trace()
    engine = trace["occupancy"].nbytes + trace["waits"].nbytes + trace["task_segments"].nbytes
    used = engine + program.runner.trace().nbytes
    report("P.pipe send/consume, wall", 2 * items, best, used)
    report("P.pipe send/consume, cpu", 2 * items, best_cpu, used)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bench_engine(args.items, args.repeat)
    bench_end_to_end(args.items, args.repeat)


if __name__ == "__main__":
    main()
