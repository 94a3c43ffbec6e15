"""Opening things: drag and drop (images, checkpoints, folders), recent files across runs,
the clipboard, failures that keep the previous trace, exports, and rapid image switching
on the threaded worker."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox

from swin_gui.app import actions
from swin_gui.app.settings import MAX_RECENT, AppSettings


def drop(window, path) -> None:
    """A real drop of a local file onto the window (enter, then drop)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    action = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        QPoint(50, 50), action, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(50, 50), action, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, event)


def test_drop_image_file(make_window, tiny_model, make_image):
    first, second = make_image("first.png", seed=1), make_image("second.png", 48, 80, seed=2)
    window = make_window(tiny_model, first)
    assert window.session.trace.meta["source"] == str(first)
    drop(window, second)
    trace = window.session.trace
    assert trace.meta["source"] == str(second)
    assert "second.png" in window.windowTitle() and "RANDOM WEIGHTS" in window.windowTitle()


def test_drop_checkpoint_opens_it_as_model(make_window, tiny_model, tiny_checkpoint, make_image):
    window = make_window(tiny_model, make_image())
    drop(window, tiny_checkpoint)
    trace = window.session.trace
    assert trace.meta["model"] == tiny_checkpoint.name
    assert not trace.meta["random_weights"]  # a checkpoint: real weights
    assert window.model_combo.currentData() == str(tiny_checkpoint)
    assert "RANDOM WEIGHTS" not in window.windowTitle()


def test_drop_folder_without_config_fails_and_keeps_trace(
    make_window, tiny_model, make_image, tmp_path, dialogs
):
    window = make_window(tiny_model, make_image())
    before = window.session.trace
    folder = tmp_path / "not_hf"
    folder.mkdir()
    drop(window, folder)
    assert window.session.trace is before
    assert dialogs.kinds() == ["warning"]
    message = dialogs.calls[0][2]
    assert "config.json" in message and "\n" not in message
    assert "config.json" in window.statusBar().currentMessage()
    assert window.model_combo.currentData() is tiny_model  # the combo went back


def test_bad_image_keeps_previous_trace(make_window, tiny_model, make_image, tmp_path, dialogs):
    window = make_window(tiny_model, make_image("good.png"))
    before = window.session.trace
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    window.controller.open_path(bad)
    assert window.session.trace is before
    status = window.statusBar().currentMessage()
    assert "broken.png" in status and "\n" not in status
    assert dialogs.kinds() == ["warning"] and "broken.png" in dialogs.calls[0][2]
    assert window.last_error and "Traceback" not in window.last_error
    # the next rerun (size change) still uses the good image
    window.set_size("native")
    assert window.session.trace.meta["source"].endswith("good.png")


def test_recent_files_persist_across_windows(
    make_window, tiny_model, make_image, isolated_settings
):
    a, b = make_image("a.png", seed=1), make_image("b.png", seed=2)
    window = make_window(tiny_model, a)
    window.controller.open_path(b)
    window.close()
    c = make_image("c.png", seed=3)
    again = make_window(tiny_model, c, settings=AppSettings(isolated_settings))
    recent = again.settings.recent_files()
    assert recent == [str(p.resolve()) for p in (c, b, a)]
    names = [act.text() for act in again.recent_menu.actions()]
    assert names[:3] == ["c.png", "b.png", "a.png"]
    b.unlink()  # missing files are pruned
    assert str(b.resolve()) not in again.settings.recent_files()


def test_recent_files_are_capped(isolated_settings, tmp_path):
    settings = AppSettings(isolated_settings)
    paths = []
    for i in range(MAX_RECENT + 3):
        p = tmp_path / f"f{i}.png"
        p.write_bytes(b"x")
        paths.append(p)
        settings.add_recent(p)
    settings.add_recent(paths[5])  # re-opening moves to the front, no duplicate
    recent = settings.recent_files()
    assert len(recent) == MAX_RECENT and recent[0] == str(paths[5])
    assert len(set(recent)) == MAX_RECENT
    one = AppSettings(isolated_settings.parent / "one.ini")
    one.add_recent(paths[0])
    assert AppSettings(isolated_settings.parent / "one.ini").recent_files() == [str(paths[0])]


def test_paste_image_from_clipboard(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image(), size="native")
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[:, :32] = (220, 30, 30)
    pixels[:, 32:] = (20, 40, 200)
    image = QImage(pixels.tobytes(), 64, 48, 64 * 3, QImage.Format.Format_RGB888).copy()
    QApplication.clipboard().setImage(image)
    window.acts["paste"].trigger()
    trace = window.session.trace
    assert trace.meta["source"] == "clipboard"
    np.testing.assert_array_equal(trace.image, pixels)


def test_qimage_with_alpha_goes_on_white():
    image = QImage(4, 3, QImage.Format.Format_ARGB32)
    image.fill(0x00000000)  # fully transparent
    rgb = actions.qimage_to_array(image)
    assert rgb.shape == (3, 4, 3) and (rgb == 255).all()


def test_samples_menu_lists_assets(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image())
    samples = actions.sample_images()
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    sub = next(a.menu() for a in menu.actions() if a.text() == "&Samples")
    assert [a.text() for a in sub.actions()] == [p.name for p in samples]


@pytest.fixture
def figure_options(monkeypatch):
    """The figure-options dialog answers OK with the scale and theme set here."""
    from swin_gui.app import export_all

    chosen = {"scale": 2, "theme": "light"}

    def fake_exec(dialog):
        dialog.scale.setValue(chosen["scale"])
        dialog.theme.setCurrentText(chosen["theme"])
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(export_all.ExportOptions, "exec", fake_exec)
    return chosen


def test_export_view_writes_the_figure_and_its_numbers(
    make_window, tiny_model, make_image, tmp_path, monkeypatch, dialogs, figure_options
):
    window = make_window(tiny_model, make_image("cat.png"))
    target = tmp_path / "out" / "panel.pdf"
    target.parent.mkdir()
    proposals = []

    def fake_save(parent, caption, proposal, *args, **kwargs):
        proposals.append(proposal)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    window.acts["export"].trigger()
    npy = target.with_suffix(".npy")
    assert target.read_bytes().startswith(b"%PDF") and npy.exists()
    name, panel = window.active_panel()
    assert name == "grid"  # nothing clicked yet: the main canvas
    assert proposals[0].endswith("cat_grid_s0b0.png")
    np.testing.assert_array_equal(np.load(npy), panel.figure.numbers())
    q = window.settings.qsettings  # the options and the format are remembered
    assert (q.value("export/scale", type=int), q.value("export/theme")) == (2, "light")
    window.acts["export"].trigger()
    assert proposals[1].endswith("cat_grid_s0b0.pdf")
    # that second time the file existed: asked before replacing; "No" kept it
    before = target.stat().st_mtime_ns
    assert dialogs.kinds() == ["question"] and target.stat().st_mtime_ns == before
    dialogs.answer = QMessageBox.StandardButton.Yes
    window.acts["export"].trigger()
    assert dialogs.kinds() == ["question", "question"]


def test_export_follows_the_last_clicked_panel(
    qtbot, make_window, tiny_model, make_image, tmp_path, monkeypatch, figure_options
):
    window = make_window(tiny_model, make_image("cat.png"))
    other = "mask"
    window.docks[other].raise_()
    panel = window.panels[other]
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert window.active_panel() == (other, panel)
    window.session.go_to_step(window.session.steps()[2])  # stage 0 block 1
    sel = window.session.selection
    proposals = []

    def fake_save(parent, caption, proposal, *args, **kwargs):
        proposals.append(proposal)
        return str(tmp_path / "x.svg"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    window.acts["export"].trigger()
    assert proposals[0].endswith(f"cat_mask_s{sel.stage}b{sel.block}.png")
    svg = (tmp_path / "x.svg").read_text()
    assert panel.figure.title in svg  # the heading comes with the figure
    assert (tmp_path / "x.npy").exists()


def test_export_all_writes_one_folder_per_image_with_every_figure(
    qtbot, make_window, tiny_model, make_image, tmp_path, monkeypatch, dialogs
):
    from swin_gui.render.registry import VIEWS

    window = make_window(tiny_model, make_image("cat.png"))
    out = tmp_path / "all"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(out)))
    window.acts["export_all"].trigger()
    folder = out / "cat"
    assert (folder / "trace.npz").exists() and (folder / "stage3_pca.png").exists()
    for spec in VIEWS:
        assert (folder / "figures" / f"{spec.name}.png").exists(), spec.name
        assert "<text" in (folder / "figures" / f"{spec.name}.svg").read_text()
    assert "exported" in window.statusBar().currentMessage()
    assert not list(out.glob("*.png"))  # nothing loose in the chosen folder
    stamp = (folder / "trace.npz").stat().st_mtime_ns
    window.acts["export_all"].trigger()  # exists: asks, "No" keeps everything
    assert dialogs.kinds() == ["question"]
    assert (folder / "trace.npz").stat().st_mtime_ns == stamp


@pytest.mark.usefixtures("threaded")
def test_fifty_quick_switches_show_only_the_last(qtbot, make_window, tiny_model, make_image):
    images = [make_image(f"img{i:02d}.png", 40, 40, seed=i) for i in range(50)]
    window = make_window(tiny_model, images[0])
    assert window.worker.is_running() and not window.worker.sync
    applied = []
    window.traceApplied.connect(applied.append)
    ids = [window.open_image(p, str(p)) for p in images[1:]] + [
        window.open_image(images[0], "last one")
    ]
    assert ids == sorted(ids)
    qtbot.waitUntil(lambda: bool(applied), timeout=60_000)
    qtbot.waitUntil(lambda: all(window.worker.kind_of(i) is None for i in ids), timeout=60_000)
    assert [t.meta["source"] for t in applied] == ["last one"]
    assert window.session.trace is applied[0]
    assert not window.progress.isVisible()


def test_ctrl_o_opens_an_image(qtbot, make_window, tiny_model, make_image, monkeypatch):
    first, second = make_image("one.png", seed=1), make_image("two.png", seed=2)
    window = make_window(tiny_model, first)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(second), ""))
    )
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.session.trace.meta["source"] == str(second)
    assert window.settings.last_folder() == str(second.parent)
    keys = {name: window.acts[name].shortcut().toString() for name in ("export", "export_all")}
    assert keys == {"export": "Ctrl+E", "export_all": "Ctrl+Shift+E"}


def test_export_all_to_unwritable_place_is_one_line(
    make_window, tiny_model, make_image, tmp_path, monkeypatch, dialogs
):
    window = make_window(tiny_model, make_image())
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(not_a_folder))
    )
    window.acts["export_all"].trigger()
    assert dialogs.kinds() == ["warning"]
    message = dialogs.calls[0][2]
    assert "file.txt" in message and "\n" not in message
    assert not window.progress.isVisible()


@pytest.mark.usefixtures("threaded")
def test_close_while_inferring(qtbot, make_window, narrow_t_model, make_image):
    window = make_window(narrow_t_model, make_image("big.png", 600, 800), wait=False)
    window.run_inference(size="native")
    window.close()  # waits for the worker thread: no "QThread destroyed while running"
    assert not window.worker.is_running()
