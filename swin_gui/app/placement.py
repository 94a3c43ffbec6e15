"""Where the main window sits and what it shows at first: its size within the screen
(also after the frame is known), the place (`--view/--stage/--block/--token/--head`) it
opens at, and the warning banner for a model with problems that did not stop it loading.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QToolBar, QWidget

from ..i18n import tr


def fitted_size(window: QWidget, wanted: tuple[int, int]) -> tuple[int, int]:
    """`wanted`, shrunk to the screen's available geometry (less the frame)."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return wanted
    avail = screen.availableGeometry()
    frame_w = max(0, window.frameGeometry().width() - window.width())
    frame_h = max(0, window.frameGeometry().height() - window.height())
    return (
        max(1, min(wanted[0], avail.width() - frame_w)),
        max(1, min(wanted[1], avail.height() - frame_h)),
    )


def build_banner(window: QMainWindow) -> None:
    """A warning row under the toolbar, shown while the loaded model has problems
    that did not stop it loading (non-finite weights)."""
    window.addToolBarBreak()
    window.banner_bar = QToolBar("Warnings", window)
    window.banner_bar.setObjectName("toolbar_banner")
    window.banner_bar.setMovable(False)
    window.banner = QLabel("")
    window.banner.setStyleSheet("background: #5c3c00; color: #ffe082; padding: 3px 8px;")
    window.banner.setWordWrap(True)
    window.banner_bar.addWidget(window.banner)
    window.addToolBar(window.banner_bar)
    window.banner_bar.hide()


def show_warnings(window: QMainWindow, trace) -> None:
    """The banner for the trace's model warnings (hidden when there are none)."""
    warnings = list(trace.meta.get("warnings", ()))
    window.banner.setText("⚠ " + " · ".join(warnings) if warnings else "")
    window.banner.setToolTip("\n".join(warnings))
    window.banner_bar.setVisible(bool(warnings))


def go_to(
    window: QMainWindow,
    view: str | None = None,
    stage: int | None = None,
    block: int | None = None,
    token=None,
    head: int | None = None,
) -> None:
    """Select that place (clamped to the model, with a note when it had to be) and raise
    that view's dock."""
    changes = {
        k: v
        for k, v in (("stage", stage), ("block", block), ("head", head), ("token", token))
        if v is not None
    }
    if changes:
        window.session.select(step="block", **changes)
        got = window.session.selection
        names = {
            "stage": tr("Main", "stage"),
            "block": tr("Main", "block"),
            "head": tr("Main", "head"),
            "token": tr("Main", "token"),
        }
        off = [f"{names[k]} {v}" for k, v in changes.items() if getattr(got, k) != v]
        if off:
            window.show_status(
                tr("Main", "not in this model: {what}; showing the nearest", what=", ".join(off))
            )
    if view and view in window.docks:
        window.docks[view].show()
        window.docks[view].raise_()
        window.active_panel_name = view


def keep_on_screen(window: QMainWindow) -> None:
    """Shrink (and move) the window so that its frame lies within the screen."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    m = window.minimumSize()
    window.setMinimumSize(*fitted_size(window, (m.width(), m.height())))  # frame included
    w, h = fitted_size(window, (window.width(), window.height()))
    if (w, h) != (window.width(), window.height()):
        window.resize(w, h)
    frame = window.frameGeometry()
    if not avail.contains(frame):
        window.move(
            max(avail.left(), min(frame.left(), avail.right() - frame.width() + 1)),
            max(avail.top(), min(frame.top(), avail.bottom() - frame.height() + 1)),
        )


def fill_screen(window: QMainWindow) -> None:
    """The screen's whole available size (the --screenshot window)."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is not None:
        avail = screen.availableGeometry()
        window.resize(*fitted_size(window, (avail.width(), avail.height())))
        from .docks import default_layout

        default_layout(window, window.docks)
