"""File › Export view as… (Ctrl+E) and Export all (Ctrl+Shift+E).

- Export view: the active panel's figure — the one that last had focus or a click, with
  its heading — as PNG (scale 1–4×), SVG or PDF in the light or dark theme, laid out at the
  panel's width, plus the numbers behind it as .npy. Scale and theme are remembered.
- Export all: one folder per image, `<folder>/<image stem>/`: the trace, per-stage feature
  maps and manifest (`swin_gui.export.export_image`, off the GUI thread), then every
  registered view's figure for the current selection in `figures/` (PNG and SVG).
Existing files are never replaced without asking. The dialogs take a parent widget and the
`Controller`, which runs the export.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from ..errors import one_line
from ..i18n import tr
from .actions import DIALOG_OPTIONS
from .controller import Controller, figure_paths
from .dialogs import ask_overwrite


def filters() -> dict[str, str]:
    return {
        tr("Main", "PNG image (*.png)"): ".png",
        tr("Main", "SVG vector figure (*.svg)"): ".svg",
        tr("Main", "PDF document (*.pdf)"): ".pdf",
    }


def image_stem(ctl: Controller) -> str:
    """The current image's file stem ('image' when it did not come from a file)."""
    trace = ctl.session.trace
    source = str((trace.meta.get("source") if trace is not None else "") or "")
    stem = Path(source).stem.strip(". ") if source else ""
    return stem if stem and stem not in ("tensor", "ndarray", "Image") else "image"


def proposed_name(ctl: Controller, view: str) -> str:
    """`<image stem>_<view>_s{stage}b{block}` (0-based stage and block)."""
    sel = ctl.session.selection
    return f"{image_stem(ctl)}_{view}_s{sel.stage}b{sel.block}"


class ExportOptions(QDialog):
    """Scale (PNG) and theme of an exported figure."""

    def __init__(self, parent: QWidget, scale: int, theme: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Main", "Figure options"))
        self.scale = QSpinBox(self)
        self.scale.setRange(1, 4)
        self.scale.setValue(scale)
        self.scale.setSuffix(" ×")
        self.theme = QComboBox(self)
        self.theme.addItems(["dark", "light"])
        self.theme.setCurrentText(theme)
        form = QFormLayout(self)
        form.addRow(tr("Main", "PNG scale"), self.scale)
        form.addRow(tr("Main", "Theme"), self.theme)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def ask_figure_options(parent: QWidget, ctl: Controller) -> tuple[int, str] | None:
    """(scale, theme), remembered; None when cancelled."""
    q = ctl.settings.qsettings
    scale = int(q.value("export/scale", 1, type=int) or 1)
    theme = str(q.value("export/theme", "dark", type=str) or "dark")
    dialog = ExportOptions(parent, scale, theme)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    scale, theme = dialog.scale.value(), dialog.theme.currentText()
    q.setValue("export/scale", scale)
    q.setValue("export/theme", theme)
    return scale, theme


def export_current_panel(
    parent: QWidget, ctl: Controller, name: str, panel: QWidget | None
) -> list[Path] | None:
    """Ask for a file (its type picks PNG/SVG/PDF) and the options, then write the figure
    of `panel` (the active one, called `name`)."""
    if panel is None or getattr(panel, "figure", None) is None:
        ctl.status.emit(tr("Main", "nothing to export yet: open an image first"), True)
        return None
    q = ctl.settings.qsettings
    suffix = str(q.value("export/format", ".png", type=str) or ".png")
    proposal = Path(ctl.settings.last_folder()) / f"{proposed_name(ctl, name)}{suffix}"
    kinds = filters()
    chosen = next((f for f, s in kinds.items() if s == suffix), next(iter(kinds)))
    path, selected = QFileDialog.getSaveFileName(
        parent,
        tr("Main", "Export {title}", title=panel.title),
        str(proposal),
        ";;".join(kinds),
        chosen,
        options=DIALOG_OPTIONS | QFileDialog.Option.DontConfirmOverwrite,
    )
    if not path:
        return None
    path = Path(path)
    if path.suffix.lower() not in kinds.values():
        path = path.with_suffix(kinds.get(selected, ".png"))
    options = ask_figure_options(parent, ctl)
    if options is None:
        return None
    targets = [path, path.with_suffix(".npy")]
    existing = [p for p in targets if p.exists()]
    if existing and not ask_overwrite(parent, existing):
        ctl.status.emit(tr("Main", "export cancelled: files kept"), False)
        return None
    try:
        written = panel.export(path, scale=options[0], theme=options[1], overwrite=bool(existing))
    except Exception as e:
        ctl.failed.emit(tr("Main", "Export failed"), one_line(e))
        return None
    q.setValue("export/format", path.suffix.lower())
    ctl.settings.set_last_folder(path.parent)
    names = ", ".join(p.name for p in written)
    ctl.status.emit(
        tr("Main", "exported {names} to {folder}", names=names, folder=path.parent), False
    )
    return written


def export_all(parent: QWidget, ctl: Controller) -> int | None:
    """Choose a folder; everything for this image goes into `<folder>/<image stem>/`."""
    if ctl.session.trace is None:
        ctl.status.emit(tr("Main", "nothing to export yet: open an image first"), True)
        return None
    folder = QFileDialog.getExistingDirectory(
        parent,
        tr("Main", "Export everything for this image into folder"),
        ctl.settings.last_folder(),
        options=DIALOG_OPTIONS | QFileDialog.Option.ShowDirsOnly,
    )
    if not folder:
        return None
    return start_export(parent, ctl, Path(folder) / image_stem(ctl))


def start_export(parent: QWidget, ctl: Controller, folder: Path) -> int | None:
    """Ask before replacing anything in `folder`, then let the controller export."""
    from ..export import export_plan

    trace = ctl.session.trace
    existing = [folder / n for n in export_plan(trace) if (folder / n).exists()]
    existing += [p for p in figure_paths(folder) if p.exists()]
    if existing and not ask_overwrite(parent, existing):
        ctl.status.emit(tr("Main", "export cancelled: files kept"), False)
        return None
    return ctl.export_all(folder, overwrite=bool(existing))
