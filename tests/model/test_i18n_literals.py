"""No user-visible string literal escapes the catalogue in the files converted to it: an
AST walk flags prose passed straight to the sinks a user reads (Qt widget texts and
tooltips, figure titles, labels, legends, notes and hover names, argparse help, error
messages) instead of through tr()/ntr(). The allow-list is short and explicit: the paper's
symbols and library names, which are the same in every language."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "swin_gui"
CONVERTED = sorted(
    {
        *(p for p in (ROOT / "render").glob("*.py") if p.name != "concepts.py"),
        *(p for p in (ROOT / "app" / "panels").glob("*.py") if p.name != "concepts.py"),
        *(ROOT / "app").glob("figure_*.py"),
        *(ROOT / "app" / n for n in ("legibility.py", "placement.py", "launch.py")),
        *(ROOT / "app" / n for n in ("screenshot.py", "settings.py", "language.py")),
        *(
            ROOT / n
            for n in ("cli.py", "cli_parsers.py", "cli_gui.py", "cli_cost.py", "cli_explain.py")
        ),
        *(ROOT / n for n in ("errors.py", "images.py", "api.py", "export_batch.py")),
        *(ROOT / "app" / n for n in ("main.py", "menus.py", "toolbar.py", "dialogs.py")),
        *(ROOT / "app" / n for n in ("controller.py", "export_all.py", "actions.py", "docks.py")),
        *(ROOT / "app" / n for n in ("navigator.py", "state.py", "worker.py", "jobs.py")),
        *(ROOT / "app" / "cost_worker.py",),
        *(ROOT / "model" / "checkpoints").glob("*.py"),
    }
)
# calls whose string arguments a user reads (Qt, the figure model, the status line)
TEXT_CALLS = {
    "setText", "setToolTip", "setWindowTitle", "setPlaceholderText", "setStatusTip",
    "setSpecialValueText", "setTitle", "setItemText", "addMenu", "addAction", "showMessage",
    "QAction", "QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QMenu",
    "set_full_text", "show_status", "emit", "QTreeWidgetItem", "QDockWidget", "addButton",
    "getOpenFileName", "getSaveFileName", "getExistingDirectory", "information", "warning",
    "critical", "question", "setHorizontalHeaderLabels", "setHeaderLabels", "addItem",
    "Text", "Plot", "Figure", "ColorBar", "HitRegion", "Heatmap",
}  # fmt: skip
TEXT_KEYWORDS = {"title", "xlabel", "ylabel", "unit", "quantity", "text", "notes", "label"}
HELP_KEYWORDS = {"help", "description", "epilog"}
ERRORS = {"ValueError", "KeyError", "OSError", "TypeError", "RuntimeError", "CLIError"}
ERRORS |= {"ImageLoadError", "CheckpointError", "ExportError", "ArgumentTypeError"}
# the same in every language: the paper's and the libraries' names, symbols, formats
ALLOWED = {
    "W-MSA", "SW-MSA", "LayerNorm", "Linear", "MLP", "PCA", "PCA → RGB", "MACs", "GMACs",
    "Grad-CAM", "Score-CAM", "rollout", "softmax", "LN1", "LN2", "Conv k=s=", "R: PC 1",
    "G: PC 2", "B: PC 3", "PC 1–3: ", "L2",
}  # fmt: skip
PROSE = re.compile(r"[A-Za-z]{2,}")


def _literal_text(node: ast.AST) -> str | None:
    """The letters a user would read in a literal (a str or the fixed parts of an
    f-string); None for anything that is not a literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _user_prose(node: ast.AST, strict: bool) -> str | None:
    """The literal when it reads as words for a user: `strict` (a keyword that is always
    text) flags any word; elsewhere only phrases (with a space) count, so keys, colours,
    anchors and group names pass."""
    text = _literal_text(node)
    if text is None or text.strip() in ALLOWED or not PROSE.search(text):
        return None
    if not strict and " " not in text.strip():
        return None
    if isinstance(node, ast.JoinedStr) and all(
        p.strip() in ALLOWED or not PROSE.search(p)
        for p in (v.value for v in node.values if isinstance(v, ast.Constant))
    ):
        return None
    return text


def unwrapped_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in ("tr", "ntr"):
                continue
            checks: list[tuple[ast.AST, bool]] = []
            if name in TEXT_CALLS or name in ERRORS:
                checks += [(a, False) for a in node.args]
            for kw in node.keywords:
                if kw.arg in HELP_KEYWORDS or (name in TEXT_CALLS and kw.arg in TEXT_KEYWORDS):
                    checks.append((kw.value, True))
            for arg, strict in checks:
                text = _user_prose(arg, strict)
                if text is not None:
                    found.append(f"{path.name}:{arg.lineno} {name}({text!r})")
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr in HELP_KEYWORDS for t in node.targets
        ):
            text = _user_prose(node.value, True)
            if text is not None:
                found.append(f"{path.name}:{node.lineno} description = {text!r}")
    return sorted(found, key=lambda f: int(f.split(" ", 1)[0].split(":")[1]))


@pytest.mark.parametrize("path", CONVERTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_user_visible_literal_outside_tr(path):
    assert unwrapped_literals(path) == []


def test_the_check_sees_unwrapped_strings(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from swin_gui.i18n import tr\n"
        "button.setToolTip('Run the sweep now')\n"  # a widget text
        "F.Plot('key', (0, 1), (0, 1), (1, 1), title='mean')\n"  # a figure title
        "F.Text(0, 0, f'window {w} of {n}')\n"  # an f-string
        "p.add_argument('--x', help='the x option')\n"  # argparse help
        "raise ValueError(f'bad size {s}')\n"  # an error message
        "p.description = 'Print a summary.'\n"
        "box.addButton('Use this size', role)\n"  # a dialog button
        "ok = tr('Ctx', 'Run the sweep now')\n"
        "F.Plot('matrix', (0, 1), (0, 1), (1, 1), group='tiles')\n"  # keys pass
        "F.Text(0, 0, 'W-MSA')\n",  # an allowed term
        encoding="utf-8",
    )
    found = unwrapped_literals(bad)
    assert [f.split(" ", 1)[0] for f in found] == [f"bad.py:{n}" for n in (2, 3, 4, 5, 6, 7, 8)]
