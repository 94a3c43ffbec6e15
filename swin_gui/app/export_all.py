"""File › Export view as… (Ctrl+E) and Export all (Ctrl+Shift+E).

- Export view: the active panel's figure — the one that last had focus or a click, with
  its heading — as PNG (scale 1–4×), SVG or PDF in the light or dark theme, laid out at the
  panel's width, plus the numbers behind it as .npy. Scale and theme are remembered.
- Export all: one folder per image, `<folder>/<image stem>/`: the trace, per-stage feature
  maps and manifest (`swin_gui.export.export_image`, off the GUI thread), then every
  registered view's figure for the current selection in `figures/` (PNG and SVG).
Existing files are never replaced without asking.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QSpinBox,
)

from ..errors import one_line
from ..render.registry import VIEWS
from .actions import DIALOG_OPTIONS
from .dialogs import ask_overwrite

if TYPE_CHECKING:
    from .main import MainWindow

FILTERS = {
    "PNG image (*.png)": ".png",
    "SVG vector figure (*.svg)": ".svg",
    "PDF document (*.pdf)": ".pdf",
}


def image_stem(window: MainWindow) -> str:
    """The current image's file stem ('image' when it did not come from a file)."""
    trace = window.session.trace
    source = str((trace.meta.get("source") if trace is not None else "") or "")
    stem = Path(source).stem.strip(". ") if source else ""
    return stem if stem and stem not in ("tensor", "ndarray", "Image") else "image"


def proposed_name(window: MainWindow, view: str) -> str:
    """`<image stem>_<view>_s{stage}b{block}` (0-based stage and block)."""
    sel = window.session.selection
    return f"{image_stem(window)}_{view}_s{sel.stage}b{sel.block}"


class ExportOptions(QDialog):
    """Scale (PNG) and theme of an exported figure."""

    def __init__(self, window: MainWindow, scale: int, theme: str) -> None:
        super().__init__(window)
        self.setWindowTitle("Figure options")
        self.scale = QSpinBox(self)
        self.scale.setRange(1, 4)
        self.scale.setValue(scale)
        self.scale.setSuffix(" ×")
        self.theme = QComboBox(self)
        self.theme.addItems(["dark", "light"])
        self.theme.setCurrentText(theme)
        form = QFormLayout(self)
        form.addRow("PNG scale", self.scale)
        form.addRow("Theme", self.theme)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def ask_figure_options(window: MainWindow) -> tuple[int, str] | None:
    """(scale, theme), remembered; None when cancelled."""
    q = window.settings.qsettings
    scale = int(q.value("export/scale", 1, type=int) or 1)
    theme = str(q.value("export/theme", "dark", type=str) or "dark")
    dialog = ExportOptions(window, scale, theme)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    scale, theme = dialog.scale.value(), dialog.theme.currentText()
    q.setValue("export/scale", scale)
    q.setValue("export/theme", theme)
    return scale, theme


def export_current_panel(window: MainWindow) -> list[Path] | None:
    """Ask for a file (its type picks PNG/SVG/PDF) and the options, then write the figure."""
    name, panel = window.active_panel()
    if panel is None or getattr(panel, "figure", None) is None:
        window.show_status("nothing to export yet: open an image first", error=True)
        return None
    q = window.settings.qsettings
    suffix = str(q.value("export/format", ".png", type=str) or ".png")
    proposal = Path(window.settings.last_folder()) / f"{proposed_name(window, name)}{suffix}"
    chosen = next((f for f, s in FILTERS.items() if s == suffix), next(iter(FILTERS)))
    path, selected = QFileDialog.getSaveFileName(
        window,
        f"Export {panel.title}",
        str(proposal),
        ";;".join(FILTERS),
        chosen,
        options=DIALOG_OPTIONS | QFileDialog.Option.DontConfirmOverwrite,
    )
    if not path:
        return None
    path = Path(path)
    if path.suffix.lower() not in FILTERS.values():
        path = path.with_suffix(FILTERS.get(selected, ".png"))
    options = ask_figure_options(window)
    if options is None:
        return None
    targets = [path, path.with_suffix(".npy")]
    existing = [p for p in targets if p.exists()]
    if existing and not ask_overwrite(window, existing):
        window.show_status("export cancelled: files kept")
        return None
    try:
        written = panel.export(path, scale=options[0], theme=options[1], overwrite=bool(existing))
    except Exception as e:
        window.report_error("Export failed", one_line(e))
        return None
    q.setValue("export/format", path.suffix.lower())
    window.settings.set_last_folder(path.parent)
    window.show_status(f"exported {', '.join(p.name for p in written)} to {path.parent}")
    return written


def export_all(window: MainWindow) -> int | None:
    """Choose a folder; everything for this image goes into `<folder>/<image stem>/`."""
    if window.session.trace is None:
        window.show_status("nothing to export yet: open an image first", error=True)
        return None
    folder = QFileDialog.getExistingDirectory(
        window,
        "Export everything for this image into folder",
        window.settings.last_folder(),
        options=DIALOG_OPTIONS | QFileDialog.Option.ShowDirsOnly,
    )
    if not folder:
        return None
    return start_export(window, Path(folder) / image_stem(window))


def start_export(window: MainWindow, folder: Path) -> int | None:
    from ..export import export_plan

    trace = window.session.trace
    existing = [folder / n for n in export_plan(trace) if (folder / n).exists()]
    existing += [p for p in figure_paths(folder) if p.exists()]
    if existing and not ask_overwrite(window, existing):
        window.show_status("export cancelled: files kept")
        return None
    window.settings.set_last_folder(folder.parent)
    window.show_busy(f"exporting to {folder}…")
    cmap = window.session.selection.colormap
    # the figures follow the worker's files (`write_view_figures` on `exported`); filed
    # under "next" first, as a synchronous worker reports before its request id is known
    window.pending_figures["next"] = (trace, window.session.selection, bool(existing), folder)
    request_id = window.worker.export(trace, folder, overwrite=bool(existing), cmap=cmap)
    window.export_ids[request_id] = folder
    if "next" in window.pending_figures:
        window.pending_figures[request_id] = window.pending_figures.pop("next")
    return request_id


def figure_paths(folder: Path) -> list[Path]:
    return [folder / "figures" / f"{v.name}{ext}" for v in VIEWS for ext in (".png", ".svg")]


def write_view_figures(window: MainWindow, request_id: int) -> list[Path]:
    """After the worker's export: every view's figure (PNG + SVG) in `<folder>/figures/`."""
    from .figure_file import write_figure

    pending = window.pending_figures.pop(request_id, None) or window.pending_figures.pop(
        "next", None
    )
    if pending is None:
        return []
    trace, selection, overwrite, folder = pending
    written = []
    for spec in VIEWS:
        figure = spec.figure_function()(trace, selection)
        for ext in (".png", ".svg"):
            path = folder / "figures" / f"{spec.name}{ext}"
            written.append(write_figure(figure, path, overwrite=overwrite))
    return written
