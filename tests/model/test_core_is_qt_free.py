"""The core (model, analysis, render, trace, images, export, cli) never imports Qt: a fresh
interpreter imports every core module and no PySide6 / pyqtgraph / superqt module may be
loaded afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, json, pkgutil, sys
import swin_gui, swin_gui.model, swin_gui.analysis, swin_gui.render, swin_gui.trace
names = ["swin_gui.trace", "swin_gui.images", "swin_gui.preprocess", "swin_gui.export",
         "swin_gui.cli", "swin_gui.api", "swin_gui.model.cost"]
for package in (swin_gui.model, swin_gui.analysis, swin_gui.render):
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "superqt"))
print(json.dumps({"imported": sorted(set(names)), "qt": qt}))
"""


def test_core_imports_no_qt():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "swin_gui.render.features" in report["imported"]
    assert "swin_gui.analysis.features" in report["imported"]
    assert report["qt"] == [], f"Qt modules loaded by the core: {report['qt'][:5]}"


TORCH_FREE = ("swin_gui/render", "swin_gui/app/panels", "swin_gui/analysis/regions.py")
# the model modules a view may read: the architecture dataclasses and the shift-region rule
PLAIN_MODEL = ("model.config", "model.vit_config", "model.regions")


def _imports(path: Path) -> list[tuple[int, str]]:
    import ast

    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            out.append((node.lineno, base))
    return out


def test_views_and_panels_never_import_torch_or_the_model():
    """Figures and panels draw from the Trace: no torch, no model geometry (they used to
    recompute shift regions with torch on every hover)."""
    files = []
    for place in TORCH_FREE:
        p = REPO / place
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    assert len(files) > 15

    def forbidden(name: str) -> bool:
        if name.endswith(PLAIN_MODEL):  # plain Python (checked below)
            return False
        return (
            name.split(".")[0] == "torch"
            or name.lstrip(".").startswith("model")
            or (".model" in name)
        )

    bad = [
        f"{f.relative_to(REPO)}:{line} imports {name}"
        for f in files
        for line, name in _imports(f)
        if forbidden(name)
    ]
    assert bad == [], bad


def test_the_model_modules_views_may_read_import_no_torch():
    for name in PLAIN_MODEL:
        path = REPO / "swin_gui" / (name.replace(".", "/") + ".py")
        imported = [n for _, n in _imports(path)]
        assert imported, path  # parsed
        allowed = {"__future__", "collections", "dataclasses", "functools", "math", "numpy"}
        assert [n for n in imported if n.split(".")[0] not in allowed] == [], path
