"""The main window: docks and panels, title and breadcrumb, what re-runs the model and what
does not, settings across runs, dialogs, and `run_app --screenshot` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QFileDialog

from swin_gui.app.panels.base import Panel
from swin_gui.app.settings import AppSettings
from swin_gui.model.cost import count_params
from swin_gui.render.registry import VIEWS

SHOTS = os.environ.get("SWIN_GUI_SHOTS")  # a folder: also keep the window screenshots there


def test_docks_and_panels(make_window, tiny_model, make_image):
    """Every registered view has its panel and, but for the centre one, a dock and a View
    menu entry; tabbed-away panels render when raised."""
    window = make_window(tiny_model, make_image())
    expected = {v.name for v in VIEWS}
    assert set(window.panels) == expected
    assert window.centralWidget() is window.panels["grid"]
    view_menu = {a.text() for a in window.menuBar().actions()[3].menu().actions()}
    for spec in VIEWS:
        panel = window.panels[spec.name]
        assert isinstance(panel, spec.panel_class()) and isinstance(panel, Panel)
        if spec.area != "center":
            dock = window.docks[spec.name]
            assert dock.objectName() == f"dock_{spec.name}" and dock.widget() is panel
            assert dock.windowTitle() == spec.tab and spec.tab in view_menu
    assert window.docks["navigator"].isVisible()
    for name, panel in window.panels.items():  # visible panels rendered the first trace;
        if panel.figure is None:  # tabbed-away ones render when their tab is raised
            assert panel.lazy and panel.visibleRegion().isEmpty()
            window.docks[name].raise_()
            QApplication.processEvents()
        assert panel.figure is not None, name


def test_title_breadcrumb_and_status(make_window, tiny_model, make_image):
    path = make_image("scene.png")
    window = make_window(tiny_model, path)
    assert window.windowTitle() == "Swin Explorer — tiny (random) — scene.png — RANDOM WEIGHTS"
    assert window.breadcrumb.full.startswith("stage 0 · block 0 · W-MSA · shift 0 · M 7")
    assert "scene.png" in window.statusBar().currentMessage()
    assert not window.progress.isVisible()
    assert window.model_combo.currentText() == "tiny (random)"


def test_only_image_model_size_device_rerun(qtbot, make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image("wide.png", 250, 333))
    runs = []  # captures (a trace's background work, e.g. the stage energies, is not one)
    w = window.worker
    w.started.connect(lambda job: runs.append(job) if w.kind_of(job) == "capture" else None)
    s = window.session
    s.select(head=0)
    s.select(token=(10, 12))
    s.step_by(1)
    s.stage_by(1)
    window.set_colormap("magma")
    assert runs == []  # selection changes re-render from the cached trace
    index = window.size_combo.findData("native")
    window.size_combo.setCurrentIndex(index)
    window.size_combo.activated.emit(index)
    assert len(runs) == 1 and s.trace.image.shape == (250, 333, 3)
    assert s.trace.block(0, 0).padded == (63, 84)  # 63×84 tokens pad to multiples of M = 7
    window.device_combo.activated.emit(window.device_combo.findData("cpu"))
    assert len(runs) == 2 and s.trace.meta["device"] == "cpu"
    assert window.settings.size_mode() == "native"


def test_screenshot_mode_leaves_remembered_settings_alone(make_window, tiny_checkpoint, make_image):
    image = make_image("wide.png", 250, 333)
    window = make_window(str(tiny_checkpoint), image, size="native", quiet=True)
    assert window.session.trace.image.shape == (250, 333, 3)  # the run did happen
    assert window.settings.last_model() is None
    assert window.settings.size_mode() != "native"
    assert window.settings.recent_files() == []


def test_device_combo_lists_cuda_only_when_available(make_window, tiny_model, make_image):
    import torch

    window = make_window(tiny_model, make_image())
    devices = [window.device_combo.itemData(i) for i in range(window.device_combo.count())]
    assert devices == (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])


def test_open_checkpoint_from_model_combo(
    make_window, tiny_model, make_image, tiny_checkpoint, monkeypatch
):
    window = make_window(tiny_model, make_image())
    combo = window.model_combo
    chosen = {"path": ""}
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (chosen["path"], ""))
    )
    entry = combo.findData("__open_checkpoint__")
    combo.setCurrentIndex(entry)
    combo.activated.emit(entry)  # dialog cancelled: the combo goes back
    assert combo.currentData() is tiny_model
    chosen["path"] = str(tiny_checkpoint)
    combo.setCurrentIndex(entry)
    combo.activated.emit(entry)
    assert window.session.trace.meta["model"] == tiny_checkpoint.name
    assert combo.currentData() == str(tiny_checkpoint)
    assert window.settings.last_model() == str(tiny_checkpoint)


def test_missing_demo_falls_back_to_a_labelled_preset(qtbot, monkeypatch, tmp_path):
    from swin_gui.app.main import MainWindow

    monkeypatch.setattr("swin_gui.api.DEMO_MODEL", tmp_path / "missing.safetensors")
    window = MainWindow(model="demo", image=None, start=False)
    qtbot.addWidget(window)
    assert window.accepted.model == "swin_tiny_patch4_window7_224"
    assert "RANDOM weights" in window.statusBar().currentMessage()
    window.close()


def test_colormap_and_window_state_persist(make_window, tiny_model, make_image, isolated_settings):
    window = make_window(tiny_model, make_image())
    window.acts["cmap_inferno"].trigger()
    assert window.session.selection.colormap == "inferno"
    size = (window.minimumWidth(), 640)  # the 800×800 offscreen screen allows no wider
    window.resize(*size)
    window.docks["navigator"].hide()
    window.close()
    again = make_window(tiny_model, make_image(), settings=AppSettings(isolated_settings))
    assert again.session.selection.colormap == "inferno"
    assert again.acts["cmap_inferno"].isChecked()
    assert (again.width(), again.height()) == size
    assert not again.docks["navigator"].isVisible()
    again.reset_layout()
    assert again.docks["navigator"].isVisible()


def test_default_window_size_fits_the_screen(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image())
    avail = window.screen().availableGeometry()
    assert avail.contains(window.frameGeometry())  # the frame too lies within the screen
    frame = window.frameGeometry().size() - window.size()
    want = (min(1600, avail.width() - frame.width()), min(1000, avail.height() - frame.height()))
    assert (window.width(), window.height()) == want
    assert window.minimumWidth() <= 1280 and window.minimumHeight() <= 720


def test_shortcuts_dialog_lists_every_key(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image())
    assert window.acts["shortcuts"].shortcut().toString() == "F1"
    window.acts["shortcuts"].trigger()
    from swin_gui.app.dialogs import ShortcutsDialog

    dialog = window.findChild(ShortcutsDialog)
    assert dialog is not None and dialog.isVisible()
    keys = " ".join(k for k, _ in dialog.rows())
    for k in ("←", "PgUp", "1 … 9", "0", "S", "Shift", "Ctrl+O", "Ctrl+E", "Ctrl+Shift+E", "F1"):
        assert k in keys
    dialog.close()


def test_architecture_summary(make_window, narrow_t_model, make_image):
    window = make_window(narrow_t_model, make_image())
    dialog = window.show_architecture()
    text = dialog.text()
    assert "2, 2, 6, 2" in text and "1, 2, 3, 6" in text and "Swin v1" in text
    params = count_params(narrow_t_model) / 1e6
    assert f"{params:.2f} M" in text
    assert "MACs at 224×224" in text
    dialog.close()


def test_window_screenshot_is_not_blank(qtbot, make_window, narrow_t_model, make_image, tmp_path):
    """Grab the whole window at stage 0 and stage 3, for 224 and a native 333×250 image."""
    img = make_image("scene_333x250.png", 250, 333)
    for size in ("224", "native"):
        settings = AppSettings(tmp_path / f"{size}.ini")  # each window: the default layout
        window = make_window(
            narrow_t_model, img, size=224 if size == "224" else "native", settings=settings
        )
        for stage in (0, 3):
            window.session.stage_by(stage - window.session.selection.stage)
            QApplication.processEvents()  # layout; rendering itself is synchronous
            shot = window.grab()
            path = Path(SHOTS or tmp_path) / f"main_{size}_stage{stage}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            assert shot.save(str(path))
            pixels = np.asarray(Image.open(path).convert("RGB"))
            assert pixels.shape[:2] == (window.height(), window.width())
            assert distinct_colours(pixels) > 100
        window.close()


def distinct_colours(pixels: np.ndarray) -> int:
    codes = (pixels[..., 0].astype(np.uint32) << 16) | (pixels[..., 1].astype(np.uint32) << 8)
    return len(np.unique(codes | pixels[..., 2]))


def _run_app(
    tmp_path: Path, image: Path, model: Path, out: Path, *extra: str, screen: str = "1366x768"
) -> subprocess.CompletedProcess:
    from swin_gui.app.legibility import screen_config

    w, h = screen.split("x")
    cmd = [
        sys.executable,
        "-m",
        "swin_gui",
        str(image),
        "--model",
        str(model),
        "--screenshot",
        str(out),
        *extra,
    ]
    env = dict(
        os.environ,
        QT_QPA_PLATFORM=f"offscreen:configfile={screen_config(int(w), int(h))}",
        OMP_NUM_THREADS="1",
        SWIN_GUI_SETTINGS=str(tmp_path / "sub.ini"),
    )
    env.pop("SWIN_GUI_SYNC", None)  # the real, threaded path
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_run_app_screenshot_subprocess(tmp_path, tiny_checkpoint, make_image):
    """--screenshot opens at the screen's size, goes to the place asked for, saves, exits 0."""
    out = tmp_path / "shot.png"
    done = _run_app(
        tmp_path,
        make_image("s.png", 100, 150),
        tiny_checkpoint,
        out,
        "--view",
        "mask",
        "--stage",
        "1",
        "--block",
        "1",
        screen="1366x768",
    )
    assert done.returncode == 0, done.stderr
    pixels = np.asarray(Image.open(out).convert("RGB"))
    h, w = pixels.shape[:2]  # the window within its frame, within the 1366×768 screen
    assert 1366 - 8 <= w <= 1366 and 768 - 8 <= h <= 768
    assert distinct_colours(pixels) > 100  # not a single colour
    assert not list(tmp_path.glob(".*.part"))  # written atomically


@pytest.mark.slow
def test_run_app_screenshot_fails_with_one_line(tmp_path, tiny_checkpoint):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    out = tmp_path / "shot.png"
    done = _run_app(tmp_path, bad, tiny_checkpoint, out)
    assert done.returncode == 1
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("swin-gui:")]
    assert len(lines) == 1 and "bad.png" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_progress_and_messages_in_status_bar(make_window, tiny_model, make_image):
    window = make_window(tiny_model, make_image())
    formats = []
    window.worker.progress.connect(lambda *a: formats.append(window.progress.format()))
    window.set_size(224)
    stages = len(tiny_model.cfg.depths)
    # a slow stage adds "· about N s left" (tested in test_big_images): compare the start
    assert formats[-1].startswith(f"inferring… {stages}/{stages} stages")
    assert any(f.startswith("inferring… 1/4 stages") for f in formats)
    assert not window.progress.isVisible()  # hidden again once the trace is applied
    window.session.message.emit("token (3, 4) → window 0, pos (3, 4)")
    assert window.statusBar().currentMessage() == "token (3, 4) → window 0, pos (3, 4)"


def test_a_model_with_non_finite_weights_gets_a_banner(
    make_window, tiny_model, make_image, tmp_path
):
    import copy

    import torch

    from swin_gui.model.checkpoints import save_checkpoint

    bad = copy.deepcopy(tiny_model)
    with torch.no_grad():
        bad.layers[1].blocks[0].mlp.fc1.weight[0, 0] = float("nan")
    path = tmp_path / "nan.safetensors"
    save_checkpoint(bad, path)
    window = make_window(str(path), make_image())
    assert window.banner_bar.isVisible()
    assert "mlp.fc1.weight" in window.banner.text() and window.banner.text().startswith("⚠")
    window.session.select(stage=1, block=0)  # the NaN flows through every view from here
    for name, panel in window.panels.items():  # no panel blank, no slot traceback
        if name in window.docks:
            window.docks[name].raise_()
        QApplication.processEvents()
        panel.refresh()
        assert panel.figure is not None and panel.figure.plots, name
    window.set_model(tiny_model)  # a healthy model: the banner goes
    assert not window.banner_bar.isVisible()


def test_a_language_switch_retranslates_menus_toolbar_and_title(
    make_window, tiny_model, make_image, monkeypatch
):
    import re

    from swin_gui import i18n

    def upper(text: str) -> str:  # placeholders stay as they are
        return re.sub(r"(\{[^}]*\})|([^{]+)", lambda m: m[1] or m[2].upper(), text)

    class Upper:  # a catalogue that "translates" by upper-casing
        def pgettext(self, context, text):
            return upper(text)

        def npgettext(self, context, singular, plural, n):
            return upper(singular if n == 1 else plural)

    window = make_window(tiny_model, make_image("scene.png"))
    menus = [a.text() for a in window.menuBar().actions()]
    assert "&File" in menus and window.acts["open"].text() == "&Open image…"
    monkeypatch.setitem(i18n._catalogues, "ru", Upper())  # what set_language("ru") loads
    try:
        i18n.set_language("ru")
        assert "&FILE" in [a.text() for a in window.menuBar().actions()]
        assert window.acts["open"].text() == "&OPEN IMAGE…"
        assert window.acts["export"].toolTip().startswith("SAVE THE ACTIVE PANEL")
        assert window.toolbar.labels["size"].text().strip() == "SIZE"
        assert window.size_combo.itemText(0) == "MODEL SIZE"
        assert window.windowTitle().startswith("SWIN EXPLORER — tiny (random)")
        assert window.docks["navigator"].windowTitle() == "NAVIGATOR"
        tree = window._docks.navigator.tree
        assert tree.topLevelItem(0).text(0).startswith("PATCH EMBED 4×4")
        assert "BLOCK 0" in window.breadcrumb.full
    finally:
        monkeypatch.undo()
        i18n.set_language("en")
    assert window.acts["open"].text() == "&Open image…"


def test_the_russian_menus_are_translated_with_distinct_accelerators(
    make_window, tiny_model, make_image
):
    """The real Russian catalogue: every menu title and item is Russian (or a name that
    stays Latin), and no two entries of one menu share an &accelerator."""
    import re

    from PySide6.QtWidgets import QMenu

    from swin_gui import i18n

    window = make_window(tiny_model, make_image("scene.png"))
    file_menu = window.menuBar().actions()[0].menu()
    english = {a.text() for a in file_menu.actions() if a.text()}
    i18n.set_language("ru")
    try:
        bar = [a.text() for a in window.menuBar().actions()]
        assert bar == ["&Файл", "&Правка", "&Модель", "&Вид", "&Справка"]
        menus = [window.menuBar(), *window.findChildren(QMenu)]
        for menu in menus:
            texts = [a.text() for a in menu.actions() if a.text() and not a.isSeparator()]
            keys = [m.group(1).lower() for t in texts if (m := re.search(r"&(\w)", t))]
            assert len(keys) == len(set(keys)), (menu.title(), texts)
        texts = [a.text() for a in file_menu.actions() if a.text()]
        assert "&Открыть изображение…" in texts and "В&ыход" in texts
        assert not english & set(texts)
    finally:
        i18n.set_language("en")
