"""``pto-wsp run`` of a 10^6-task project against its exported script run directly (issue #18).

Target: ``pto-wsp run PROJECT`` costs <= 1.2x what ``python exported.py`` costs, in time and in
peak RSS of the whole process tree (``run`` starts the script in a child process and then
analyses the trace: kernels, workers, critical path, waits; the script alone prints only its
stats). The project is generated: one parallel loop of 10^6 calls of a kernel that loads a 1x8
f32 tile, adds it to itself and stores it. The baseline, in the same run, is the script
``pto-wsp export`` writes for that project, run as ``python script.py``; a first run of it, not
timed, warms the build cache. Each command runs ``--repeat`` times, alternating.

Per command the benchmark reports the median of

* wall seconds (noisy on a shared machine: the load average is printed with it);
* CPU seconds of the whole process tree (user + sys of every process, from
  ``getrusage(RUSAGE_CHILDREN)``: Linux adds a reaped process's children to it);
* peak RSS of the tree: the largest sum of the RSS of every live process of the tree, sampled
  from ``/proc`` every few milliseconds (never below the largest single process,
  ``ru_maxrss``); and the same for PSS (``smaps_rollup``), which counts a page shared by a
  parent and the child it forked once instead of twice.

    python benchmarks/bench_cli_run.py [--tasks 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.2


def project(tasks: int) -> dict:
    """A project file: tensors X, Y of ``tasks`` 1x8 f32 tiles and ``Y[i] = X[i] + X[i]``."""

    def tensor(nid: str, name: str, init: str, x: float) -> dict:
        props = {"dtype": "f32", "init": init, "layout": [], "location": "Global",
                 "mem": "default", "path": "", "seed": 4, "shape": [tasks, 1, 8]}  # fmt: skip
        return {"id": nid, "kind": "data.tensor", "name": name, "parent": None, "pos": [x, 100.0],
                "props": props}  # fmt: skip

    def node(nid: str, kind: str, name: str, props: dict, parent: str | None = None) -> dict:
        return {"id": nid, "kind": kind, "name": name, "parent": parent, "pos": [0.0, 0.0],
                "props": props}  # fmt: skip

    def edge(src: str, sport: str, dst: str, dport: str) -> dict:
        return {"src": {"node": src, "port": sport}, "dst": {"node": dst, "port": dport}}

    tile = {"cols": 8, "dtype": "f32", "kind": "tile", "rows": 1}
    kernel = node("n4", "kernel.def", "add1x8", {
        "cost": 0, "cpp_includes": [], "cpp_src": "", "jit": False,
        "params": [{**tile, "direction": "In", "name": "x"},
                   {**tile, "direction": "Out", "name": "y"}],
    })  # fmt: skip
    kernel["body"] = {
        "backdrops": [],
        "nodes": [
            node("n5", "scope.entry", "entry", {}),
            node("n6", "kernel.param", "x", {"param": "x"}),
            node("n7", "kernel.param", "y", {"param": "y"}),
            node("n8", "pto.add", "v", {}),
        ],
        "edges": [
            edge("n6", "tile", "n8", "a"),
            edge("n6", "tile", "n8", "b"),
            edge("n8", "result", "n7", "value"),
        ],  # fmt: skip
    }
    workload = node("n13", "workload.def", "grid", {
        "dispatch": "", "dispatch_key": "", "dispatch_n": 4, "spatial_map": [], "stream_by": "",
        "streams": 0, "target": "cpu_sim", "task_graph": {}, "timing": "", "timing_param": 1,
    })  # fmt: skip
    nodes = [
        tensor("n1", "X", "random", 0.0),
        tensor("n2", "Y", "zeros", 671.0),
        node("n3", "axis.dense", "rows", {"size": tasks}),
        kernel,
        workload,
        node("n15", "loop.parallel", "", {"axes": [{"axis": "n3", "var": "i"}]}, "n13"),
        node("n18", "kernel.call", "call", {"axes": None, "index": {}, "kernel": "n4"}, "n15"),
    ]
    edges = [edge("n1", "tensor", "n18", "x"), edge("n18", "y", "n2", "write")]
    graph = {"backdrops": [], "nodes": nodes, "edges": edges}
    return {"format_version": 2, "graph": graph, "name": "grid", "settings": {}}


def _tree(root: int) -> list[int]:
    """``root`` and its live descendants."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _status_kb(pid: int, *keys: str) -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                name, _, value = line.partition(":")
                if name in keys:
                    found[name] = int(value.split()[0])
    except OSError:
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRss:
    """Samples the RSS and PSS of a process tree until stopped: peaks of the sums."""

    def __init__(self, root: int, every: float = 0.003):
        self.root, self.every = root, every
        self.peak_sum_kb = 0
        self.peak_pss_kb = 0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = pss = 0
            for pid in _tree(self.root):
                total += _status_kb(pid, "VmRSS").get("VmRSS", 0)
                pss += _pss_kb(pid)
                self.pids.add(pid)
            self.peak_sum_kb = max(self.peak_sum_kb, total)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
            time.sleep(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(cmd: list[str], cwd: Path) -> dict[str, float]:
    """One run of ``cmd``: wall and tree CPU seconds, peak tree RSS in MB (sampled, bound)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = TreeRss(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is the largest single process: a floor for both RSS figures.
    single_mb = after.ru_maxrss / 1024
    return {
        "wall": wall,
        "cpu": cpu,
        "user": after.ru_utime - before.ru_utime,
        "sys": after.ru_stime - before.ru_stime,
        "rss": max(sampler.peak_sum_kb / 1024, single_mb),
        "pss": sampler.peak_pss_kb / 1024,
        "procs": len(sampler.pids),
        "stdout_lines": len(out.decode().splitlines()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    env_py = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-cli-run-") as tmp:
        work = Path(tmp)
        proj = work / "grid.pto.json"
        proj.write_text(json.dumps(project(args.tasks)), encoding="utf-8")
        script = work / "grid_exported.py"
        cli = [env_py, "-m", "app.cli"]
        subprocess.run([*cli, "export", str(proj), "-o", str(script)], cwd=ROOT, check=True)
        direct = [env_py, str(script)]
        run = [*cli, "run", str(proj)]
        subprocess.run(direct, cwd=ROOT, check=True, capture_output=True)  # warm the build cache
        results: dict[str, list[dict[str, float]]] = {"script": [], "run": []}
        loads = []
        for _ in range(args.repeat):
            loads.append(os.getloadavg()[0])
            results["script"].append(measure(direct, ROOT))
            results["run"].append(measure(run, ROOT))
    med = {k: {f: statistics.median(r[f] for r in rs) for f in rs[0]} for k, rs in results.items()}
    print(f"pto-wsp run vs the exported script, {args.tasks} tasks (median of {args.repeat}; "
          f"load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores)")  # fmt: skip
    for name, label in (("script", "python exported.py"), ("run", "pto-wsp run PROJECT")):
        m = med[name]
        print(
            f"  {label:<20} wall {m['wall']:6.2f} s  CPU {m['cpu']:6.2f} s "
            f"(user {m['user']:5.2f} sys {m['sys']:5.2f})  peak RSS of the tree "
            f"{m['rss']:7.1f} MB (PSS {m['pss']:7.1f} MB; {m['procs']:.0f} processes)"
        )
    s, r = med["script"], med["run"]
    ratios = {f: r[f] / s[f] for f in ("wall", "cpu", "rss", "pss")}
    print(
        f"  ratio run/script: wall {ratios['wall']:.2f}x  CPU {ratios['cpu']:.2f}x  "
        f"peak RSS {ratios['rss']:.2f}x (PSS {ratios['pss']:.2f}x)"
    )
    ok = ratios["cpu"] <= TARGET and ratios["rss"] <= TARGET
    print(f"  target (<= {TARGET}x in CPU time and peak RSS): {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
