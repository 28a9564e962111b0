"""``python -m app.sweep``: the Studio's parameter sweep without a window.

    python -m app.sweep PROJECT --node ID --prop NAME --values "1,2,4" [--target cpu_sim]
                        [--link NODE.PROP=VALUES ...] [--csv out.csv] [--workdir DIR]
                        [--timeout S] [--jobs N] [--cluster tcp://HOST:8786]
    python -m app.sweep PROJECT --list

Runs the project once per value (each variant exported and run in a worker process, exactly
as the Sweep dock does), ``--jobs`` variants at once (default: one per core), or on the
workers of a Dask cluster given its scheduler's address (``--cluster``; needs
``pip install 'pto-wsp[distributed]'``, ``--jobs`` then defaults to the cluster's worker
threads), and prints one row per value, in value order: value, the linked values, total cycles,
the makespan in simulated time at the run's clock, mean utilisation, status; errors follow
the table. ``--list`` prints the sweepable parameters
instead. Each ``--link`` sets one more property in lock step with the swept one (variant i
sets it to its i-th value: as many values as ``--values`` lists), e.g. a tile size:

    python -m app.sweep app/projects/matmul.pto.json --node n5 --prop params.a.tile \
        --values "8x32, 16x32, 32x32" --link "n5.params.c.tile=8x16, 16x16, 32x16" \
        --link "n4.size=8, 4, 2" --link "n1.shape=8x8x32, 4x16x32, 2x32x32" \
        --link "n3.shape=8x8x16, 4x16x16, 2x32x16"

or the worker pools of a task graph (``pools.<kernel>.workers``, integers >= 1), trading the
partial kernel's workers against the finishing kernel's:

    python -m app.sweep app/projects/tensor_parallel.pto.json --node sched2 \
        --prop pools.partial.workers --values "1..3" --link "sched2.pools.finish.workers=3,2,1"

or the cost table (a program frame's ``cost_table``: ours and PTO-ISA's A2/A3 formulas, which
count cycles of different clocks, so compare the ``makespan`` column, in time):

    PTO_ISA_ROOT=../shared/third_party/pto-isa python -m app.sweep app/projects/softmax.pto.json \
        --node softmax_rows --prop cost_table --values "*"

Exit codes (as ``pto-wsp``): 0 every value ran, 1 a user error (unreadable project, unknown
node or property, a value list that does not parse) or at least one value failed, 2 a usage
error. It lives in ``app`` and not in the ``pto-wsp`` CLI because ``pto_wsp`` never imports
the Studio. Qt-free.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pto_wsp.backends import TARGETS

from .model import io, trust
from .model.document import Document
from .model.sweep import (
    SweepError,
    SweepParam,
    SweepPoint,
    SweepResult,
    ValueListError,
    discover_params,
    find_param,
    format_value,
    parse_values,
    run_sweep,
    write_csv,
)
from .runner.cluster import ClusterError
from .runner.executors import open_executor

__all__ = ["main", "format_table", "format_params", "LinkArg", "LinkSyntaxError", "parse_link"]


@dataclass(frozen=True)
class LinkArg:
    """One ``--link NODE.PROP=VALUES`` as typed (resolved against the project later)."""

    node: str
    prop: str
    values: str


class LinkSyntaxError(ValueError):
    """A ``--link`` argument that is not ``NODE.PROP=VALUES`` (a usage error, exit 2)."""


def parse_link(text: str) -> LinkArg:
    """Read ``NODE.PROP=VALUES``: the node is up to the first ``.`` (ids and names have none),
    the property up to the first ``=`` (``params.a.tile`` and ``pools.partial.workers`` keep
    their dots)."""
    key, eq, values = text.partition("=")
    node, dot, prop = key.strip().partition(".")
    if not eq or not dot or not node or not prop.strip():
        raise LinkSyntaxError(f"--link {text!r}: expected NODE.PROP=VALUES, e.g. n4.size=8,4,2")
    return LinkArg(node, prop.strip(), values)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m app.sweep",
        description="Run a Studio project once per value of one node property and tabulate "
        "total cycles and utilisation per value.",
    )
    p.add_argument("project", type=Path, help="a Studio project (.pto.json)")
    p.add_argument("--list", action="store_true", help="list the sweepable parameters and exit")
    p.add_argument("--node", help="id (or unique name) of the node to vary")
    p.add_argument(
        "--prop",
        help="property to vary (params.<name>.tile: a kernel tile shape; pools.<kernel>.workers: "
        "the workers of a task graph's pool)",
    )
    p.add_argument(
        "--values",
        help='values: "1,2,4,8", "1..16 step 2", "1..64 *2", "round_robin, hash", "*" (every '
        'choice), "16x16, 32x32"',
    )
    p.add_argument(
        "--link",
        action="append",
        default=[],
        metavar="NODE.PROP=VALUES",
        help="also set this property in lock step with --prop: its i-th value in variant i "
        "(as many values as --values; repeatable)",
    )
    p.add_argument("--target", choices=TARGETS, help="compile every program for this target")
    p.add_argument("--csv", type=Path, help="also write the results to this CSV file")
    p.add_argument("--workdir", type=Path, help="keep each run's artifacts here (default: temp)")
    p.add_argument("--timeout", type=float, help="seconds one run may take (default: no limit)")
    p.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="variants run at once (default: one per core; with --cluster, per worker thread)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the variants on this Dask scheduler's workers, e.g. tcp://host:8786 "
        "(pip install 'pto-wsp[distributed]')",
    )
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def format_params(params: Sequence[SweepParam]) -> str:
    """The ``--list`` output: ``node.prop  type  current  label`` per parameter."""
    rows = [("node.prop", "type", "current", "label")]
    rows += [(p.key, p.type, _current(p), p.label) for p in params]
    return _columns(rows)


def _current(p: SweepParam) -> str:
    return format_value(p.current) if p.current not in (None, "") else "-"


def format_table(result: SweepResult) -> str:
    """One row per value (value, each linked value, total cycles, the makespan in time at the
    run's clock, mean utilisation, status), then the errors."""
    links = [link.key for link in result.param.links]
    rows = [(result.param.prop, *links, "total_cycles", "makespan", "utilisation", "status")]
    rows += [_row(p) for p in result.points]
    lines = [_columns(rows, right=(len(links) + 1, len(links) + 2, len(links) + 3))]
    for p in result.points:
        if p.error and p.status != "ok":
            lines.append(f"{p.value_text}: {p.status}: {p.error}")
    return "\n".join(lines)


def _row(p: SweepPoint) -> tuple[str, ...]:
    cycles = f"{p.total_cycles:,}" if p.total_cycles is not None else "-"
    util = f"{p.mean_utilisation:.1%}" if p.mean_utilisation is not None else "-"
    span = f"{p.makespan_ns / 1e3:,.3f}us" if p.makespan_ns is not None else "-"
    return p.value_text, *p.linked_texts, cycles, span, util, p.status


def _columns(rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]  # fmt: skip
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _progress(err: TextIO) -> Callable[[int, int, int, SweepPoint], None]:
    def report(done: int, total: int, _index: int, point: SweepPoint) -> None:
        cycles = f" {point.total_cycles:,} cycles" if point.total_cycles is not None else ""
        print(f"{done}/{total} {point.value_text}: {point.status}{cycles}", file=err, flush=True)

    return report


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:  # fmt: skip
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        doc = io.load(args.project)
    except io.ProjectError as e:
        print(f"error: {e}", file=err)
        return 1
    except OSError as e:
        print(f"error: {args.project}: {e.strerror or e}", file=err)
        return 1
    if args.list:
        print(format_params(discover_params(doc)), file=out)
        return 0
    missing = [f"--{n}" for n in ("node", "prop", "values") if getattr(args, n) is None]
    if missing:
        parser.print_usage(err)
        print(f"error: {', '.join(missing)} required (or --list)", file=err)
        return 2
    try:
        links = [parse_link(text) for text in args.link]
    except LinkSyntaxError as e:
        parser.print_usage(err)
        print(f"error: {e}", file=err)
        return 2
    try:
        param = _param(doc, args.node, args.prop, args.values)
        param = param.with_links(_param(doc, a.node, a.prop, a.values) for a in links)
        param.check_links()
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)
            result = _run(doc, param, args.workdir, args, err)
        else:
            with tempfile.TemporaryDirectory(prefix="pto-wsp-sweep-") as tmp:
                result = _run(doc, param, Path(tmp), args, err)
    except SweepError as e:
        print(f"error: {e}", file=err)
        return 1
    except ClusterError as e:
        print(f"error: --cluster {args.cluster}: {e}", file=err)
        return 1
    print(format_table(result), file=out)
    if args.csv is not None:
        try:
            write_csv(result, args.csv)
        except OSError as e:
            print(f"error: {args.csv}: {e.strerror or e}", file=err)
            return 1
    return 0 if result.ok else 1


def _param(doc: Document, node: str, prop: str, values: str) -> SweepParam:
    """The parameter with its values parsed; a bad value list names the parameter."""
    param = find_param(doc, node, prop)
    try:
        return param.with_values(parse_values(param, values))
    except ValueListError as e:
        raise SweepError(f"{param.key}: {e}") from None


def _run(doc: Document, param: SweepParam, workdir: Path, args: argparse.Namespace, err: TextIO) -> SweepResult:  # fmt: skip
    executor = open_executor(jobs=args.jobs, cluster=args.cluster)  # first: it may fail
    try:
        carriers = trust.code_carriers(doc)
        if carriers:  # an explicit command: it runs, and says so
            print(trust.run_notice(args.project, carriers), file=err)
        linked = f" (linked: {', '.join(link.label for link in param.links)})" if param.links else ""  # fmt: skip
        print(
            f"sweeping {param.label} over {len(param.values)} values{linked} on "
            f"{executor.description}",
            file=err,
            flush=True,
        )
        return run_sweep(
            doc,
            param,
            workdir,
            start=executor.start,
            jobs=executor.jobs,
            target=args.target,
            progress=_progress(err),
            timeout_s=args.timeout,
        )
    finally:
        executor.close()


if __name__ == "__main__":
    sys.exit(main())
