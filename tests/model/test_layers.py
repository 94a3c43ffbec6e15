"""No import cycles in swin_gui/, found by grimp (the graph import-linter checks the layer
contracts in pyproject.toml on, `make lint`). Every import counts: function-local ones and
those under `if TYPE_CHECKING:` too."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[2]
# the window's modules import MainWindow for their annotations; issue 11's controller
# refactor (the `session` branch) removes that
APP_WINDOW = "swin_gui.app"


def import_cycles(package: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for module in sorted(edges):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def test_no_import_cycle_outside_the_app():
    cycles = [c for c in import_cycles("swin_gui") if not c[0].startswith(APP_WINDOW + ".")]
    assert cycles == [], cycles


def test_no_import_cycle_in_the_app():
    assert import_cycles("swin_gui") == []


def test_a_function_local_or_type_checking_import_makes_a_cycle(tmp_path, monkeypatch):
    """The finder sees the imports a cycle hides in: one inside a function, one only for
    annotations; without them the package has no cycle."""
    pkg = tmp_path / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from . import c
            def late():
                from . import a
            """
        )
    )
    (pkg / "c.py").write_text("from . import b\n")
    (pkg / "d.py").write_text("from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cyclepkg") == [["cyclepkg.a", "cyclepkg.b", "cyclepkg.c"]]
    (pkg / "b.py").write_text("x = 1\n")
    assert import_cycles("cyclepkg") == []
