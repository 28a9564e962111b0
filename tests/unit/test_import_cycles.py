"""No import cycles in ``pto_wsp`` and ``app`` (DESIGN §1: imports go one way).

The graph is grimp's, the one import-linter checks the layer contracts on (``lint-imports`` in
``dev.sh test``): every import statement counts, also one inside a function or under
``TYPE_CHECKING`` — a cycle of type-only imports still couples the modules both ways. A
failure lists each cycle's modules and one path through them, with the import lines.
"""

from __future__ import annotations

import grimp
import pytest

ROOTS = ("pto_wsp", "app")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOTS, cache_dir=None)


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import cycles: strongly connected groups of two or more modules, and modules that
    import themselves (Tarjan's algorithm, iterative)."""
    modules = sorted(m for m in graph.modules if m.split(".")[0] in ROOTS)
    inside = set(modules)

    def deps(m: str) -> list[str]:
        return sorted(graph.find_modules_directly_imported_by(m) & inside)

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(deps(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            m, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(deps(step))))
                elif step in on_stack:
                    low[m] = min(low[m], index[step])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[m])
            if low[m] == index[m]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == m:
                        break
                if len(group) > 1 or m in graph.find_modules_directly_imported_by(m):
                    found.append(sorted(group))
    return found


def describe(graph: grimp.ImportGraph, group: list[str]) -> str:
    """The modules of one cycle and a shortest path around it, each step with its line."""
    first = group[0]
    members = set(group)
    nxt = sorted(graph.find_modules_directly_imported_by(first) & members)[0]
    back = graph.find_shortest_chain(importer=nxt, imported=first) or (nxt, first)
    path = [first, *back]
    steps = []
    for a, b in zip(path, path[1:], strict=False):
        details = graph.get_import_details(importer=a, imported=b)
        where = ", ".join(f"l.{d['line_number']}: {d['line_contents']}" for d in details)
        steps.append(f"    {a} -> {b}  ({where})")
    return f"  {len(group)} modules: {', '.join(group)}\n" + "\n".join(steps)


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    cycles = strongly_connected(graph)
    report = "\n".join(describe(graph, group) for group in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s) in pto_wsp/app:\n{report}"


def test_the_checker_finds_a_cycle() -> None:
    """The checker itself: a two-module cycle and a self-import are found, a chain is not."""
    g = grimp.ImportGraph()
    for m in ("pto_wsp", "pto_wsp.a", "pto_wsp.b", "pto_wsp.c", "pto_wsp.d"):
        g.add_module(m)
    g.add_import(importer="pto_wsp.a", imported="pto_wsp.b", line_number=1, line_contents="x")
    g.add_import(importer="pto_wsp.b", imported="pto_wsp.a", line_number=2, line_contents="y")
    g.add_import(importer="pto_wsp.c", imported="pto_wsp.a", line_number=3, line_contents="z")
    g.add_import(importer="pto_wsp.d", imported="pto_wsp.d", line_number=4, line_contents="w")
    assert strongly_connected(g) == [["pto_wsp.a", "pto_wsp.b"], ["pto_wsp.d"]]
    text = describe(g, ["pto_wsp.a", "pto_wsp.b"])
    assert "pto_wsp.a -> pto_wsp.b  (l.1: x)" in text and "pto_wsp.b -> pto_wsp.a  (l.2: y)" in text
