"""File › Export: the current panel (PNG + NPY of exactly what it shows) and every feature
map of the image (`swin_gui.export.export_image`, run off the GUI thread). Existing files
are never replaced without asking."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from ..errors import one_line
from .actions import DIALOG_OPTIONS
from .dialogs import ask_overwrite

if TYPE_CHECKING:
    from .main import MainWindow


def image_stem(window: MainWindow) -> str:
    """The current image's file stem ('image' when it did not come from a file)."""
    trace = window.session.trace
    source = str((trace.meta.get("source") if trace is not None else "") or "")
    stem = Path(source).stem if source else ""
    return stem if stem and stem not in ("tensor", "ndarray", "Image") else "image"


def proposed_name(window: MainWindow, view: str) -> str:
    """`<image stem>_<view>_s{stage}b{block}` (0-based stage and block)."""
    sel = window.session.selection
    return f"{image_stem(window)}_{view}_s{sel.stage}b{sel.block}"


def export_current_panel(window: MainWindow) -> tuple[Path, Path] | None:
    """Ask for a file name, then write `<base>.png` and `<base>.npy` of the active panel."""
    name, panel = window.active_panel()
    if panel is None or getattr(panel, "picture", None) is None:
        window.show_status("nothing to export yet: open an image first", error=True)
        return None
    view = getattr(panel, "view_name", name)
    proposal = str(Path(window.settings.last_folder()) / f"{proposed_name(window, view)}.png")
    path, _ = QFileDialog.getSaveFileName(
        window,
        f"Export {getattr(panel, 'title', name)} (PNG + NPY)",
        proposal,
        "PNG image + NPY data (*.png)",
        options=DIALOG_OPTIONS | QFileDialog.Option.DontConfirmOverwrite,
    )
    if not path:
        return None
    base = Path(path)
    base = base.with_suffix("") if base.suffix.lower() in (".png", ".npy") else base
    targets = [base.with_suffix(".png"), base.with_suffix(".npy")]
    existing = [p for p in targets if p.exists()]
    overwrite = bool(existing)
    if existing and not ask_overwrite(window, existing):
        window.show_status("export cancelled: files kept")
        return None
    try:
        written = panel.export(base, overwrite=overwrite)
    except Exception as e:
        window.report_error("Export failed", one_line(e))
        return None
    window.settings.set_last_folder(base.parent)
    window.show_status(f"exported {targets[0].name} and {targets[1].name} to {base.parent}")
    return written


def export_all(window: MainWindow) -> int | None:
    """Choose a folder, then write trace.npz and the per-stage maps there (worker job)."""
    trace = window.session.trace
    if trace is None:
        window.show_status("nothing to export yet: open an image first", error=True)
        return None
    folder = QFileDialog.getExistingDirectory(
        window,
        "Export all feature maps into folder",
        window.settings.last_folder(),
        options=DIALOG_OPTIONS | QFileDialog.Option.ShowDirsOnly,
    )
    if not folder:
        return None
    return start_export(window, Path(folder))


def start_export(window: MainWindow, folder: Path) -> int | None:
    from ..export import export_plan

    trace = window.session.trace
    existing = [folder / n for n in export_plan(trace) if (folder / n).exists()]
    if existing and not ask_overwrite(window, existing):
        window.show_status("export cancelled: files kept")
        return None
    window.settings.set_last_folder(folder)
    window.show_busy(f"exporting feature maps to {folder}…")
    cmap = window.session.selection.colormap
    request_id = window.worker.export(trace, folder, overwrite=bool(existing), cmap=cmap)
    window.export_ids[request_id] = folder
    return request_id
