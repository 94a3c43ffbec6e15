"""The controller without a single widget: capture into the session (request, model, trace),
failures in one line with the request kept, the typed shift ablation, export, recent files,
the old trace and model let go when something new is loaded, and background work (the
attention a panel waits for) that never blocks the GUI thread and is superseded by newer
requests."""

from __future__ import annotations

import gc
import itertools
import shutil
import threading
import time
import weakref
from dataclasses import replace

import pytest
import shiboken6
import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from swin_gui.app.controller import Controller, classify_path
from swin_gui.app.settings import AppSettings
from swin_gui.app.state import CaptureRequest, Pending, ShiftAblation


def record(signal) -> list:
    seen = []
    signal.connect(lambda *args: seen.append(args))
    return seen


@pytest.fixture
def make_controller(qtbot, isolated_settings):
    made = []

    def make(model, image, sync: bool = True, **kw) -> Controller:
        request = CaptureRequest(model, image, kw.pop("size", "model"), "cpu", str(image))
        ctl = Controller(request, AppSettings(isolated_settings), sync=sync, **kw)
        made.append(ctl)
        return ctl

    yield make
    for ctl in made:
        ctl.shutdown()
        assert not ctl.worker.is_running()


def test_no_widget_is_made(make_controller, tiny_model, make_image):
    def widgets() -> set[int]:  # C++ addresses: Python wrappers are made afresh
        return {shiboken6.getCppPointer(w)[0] for w in QApplication.allWidgets()}

    before = widgets()
    ctl = make_controller(tiny_model, make_image())
    ctl.capture()
    ctl.session.select(step="block", stage=0, block=1, shift_view=False)
    assert ctl.session.trace is not None and ctl.session.ablation is not None
    assert widgets() <= before  # none made (older tests' widgets may go meanwhile)


def test_capture_loads_request_model_and_trace(make_controller, tiny_model, make_image):
    path = make_image("scene.png", 80, 120)
    ctl = make_controller(tiny_model, path)
    applied, status, recent = record(ctl.applied), record(ctl.status), record(ctl.recentChanged)
    ctl.capture(size="native")
    s = ctl.session
    assert s.request.size == "native" and s.request.image == path
    assert s.model is tiny_model and s.trace.image.shape == (80, 120, 3)
    assert applied == [(s.trace,)]
    assert status[-1] == ("scene.png: 120×80 px through tiny (random)", False)
    assert recent and ctl.recent_files() == [str(path.resolve())]
    ctl.clear_recent()
    assert ctl.recent_files() == []


def test_a_failed_capture_keeps_what_is_loaded(make_controller, tiny_model, make_image, tmp_path):
    ctl = make_controller(tiny_model, make_image())
    ctl.capture()
    trace, request = ctl.session.trace, ctl.session.request
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    failed, shown = record(ctl.failed), record(ctl.requestChanged)
    ctl.open_path(bad)
    assert ctl.session.trace is trace and ctl.session.request is request
    ((title, message),) = failed
    assert title == "Could not run the model" and "\n" not in message and "bad.png" in message
    assert shown == [(request,)]  # the toolbar goes back to what is loaded
    assert ctl.last_error == message


def test_confirm_can_change_or_cancel_a_capture(make_controller, tiny_model, make_image):
    ctl = make_controller(tiny_model, make_image("a.png", 90, 70))
    ctl.confirm = lambda request: None
    assert ctl.capture(size="native") == -1 and ctl.session.trace is None
    ctl.confirm = lambda request: replace(request, size=64)
    ctl.capture(size="native")
    assert ctl.session.trace.image.shape[:2] == (64, 64) and ctl.session.request.size == 64


def test_shift_off_ablates_the_block_into_a_typed_result(make_controller, tiny_model, make_image):
    ctl = make_controller(tiny_model, make_image())
    ctl.capture(size=224)
    s = ctl.session
    s.select(step="block", stage=0, block=1)
    assert s.ablation is None
    s.select(shift_view=False)
    ablation = s.ablation
    assert isinstance(ablation, ShiftAblation) and ablation.of(s.trace, 0, 1)
    assert ablation.shift == 0 and ablation.out.shape == s.trace.block(0, 1).out.shape
    assert s.ablation_out() is ablation.out
    s.select(block=0)  # another block: the ablation goes with the selection
    assert s.ablation is None and s.ablation_out() is None
    s.select(block=1, shift_view=False)
    ctl.open_image(make_image("b.png", seed=5), "b.png")  # a new image, the shift still off
    assert s.ablation is not None and s.ablation.of(s.trace, 0, 1)


def test_export_all_writes_trace_and_every_figure(
    make_controller, tiny_model, make_image, tmp_path
):
    ctl = make_controller(tiny_model, make_image())
    ctl.capture()
    exported = record(ctl.exported)
    ctl.export_all(tmp_path / "out")
    ((written,),) = exported
    names = {p.name for p in written}
    assert "trace.npz" in names and "grid.png" in names and "attention.svg" in names
    assert all(p.exists() for p in written)


def test_paths_are_opened_by_what_they_are(tmp_path, tiny_checkpoint):
    assert classify_path(tmp_path) == "hf"
    assert classify_path(tiny_checkpoint) == "checkpoint"
    assert classify_path(tmp_path / "photo.JPG") == "image"


def test_loading_something_new_lets_the_old_trace_and_model_go(
    make_controller, tiny_checkpoint, make_image, tmp_path
):
    other = tmp_path / "other.safetensors"
    shutil.copy(tiny_checkpoint, other)
    ctl = make_controller(str(tiny_checkpoint), make_image("a.png"))
    ctl.capture()
    s = ctl.session
    s.select(step="block", stage=0, block=1, shift_view=False)  # an ablation is held too
    assert s.ablation is not None
    old_trace, old_model = weakref.ref(s.trace), weakref.ref(s.model)
    ctl.open_image(make_image("b.png", seed=3), "b.png")  # another image, same model
    gc.collect()
    assert old_trace() is None and old_model() is s.model
    ctl.set_model(str(other))  # another model: the old one goes too
    gc.collect()
    assert old_model() is None and s.model is not None
    old_trace = weakref.ref(s.trace)
    ctl.unload()
    gc.collect()
    assert old_trace() is None and s.model is None and s.request is None


# ---- background work ---------------------------------------------------------------------------
def test_background_work_leaves_the_gui_thread_free(qtbot, make_controller, tiny_model):
    ctl = make_controller(tiny_model, torch.randn(1, 3, 64, 64), sync=False)
    gui = threading.current_thread()
    ran_on, ticks = [], []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()

    def slow():  # stands in for a 12 MP block's attention
        ran_on.append(threading.current_thread())
        time.sleep(1.0)

    t0 = time.perf_counter()
    with qtbot.waitSignal(ctl.session.computed, timeout=20_000) as blocker:
        assert ctl.session.compute_later(Pending("slow", slow, "computing…"))
        handed_over = time.perf_counter() - t0
    timer.stop()
    assert blocker.args == ["slow"] and ran_on and ran_on[0] is not gui
    assert handed_over < 0.2  # compute_later returned at once
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 30 and max(gaps) < 0.5, (len(ticks), max(gaps))  # the loop kept going


def test_a_newer_request_of_a_group_supersedes_an_older_one(qtbot, make_controller, tiny_model):
    ctl = make_controller(tiny_model, torch.randn(1, 3, 64, 64), sync=False)
    gate, running, ran = threading.Event(), threading.Event(), []
    done = record(ctl.session.computed)

    def job(name, wait=False):
        def work():
            if wait:
                running.set()
                gate.wait(10)
            ran.append(name)

        return Pending(name, work, "computing…", "attention")

    ctl.session.compute_later(job("a", wait=True))
    assert running.wait(10)  # a runs now: it cannot be stopped
    ctl.session.compute_later(job("b"))  # queued, then superseded by c
    ctl.session.compute_later(job("c"))
    ctl.session.compute_later(job("c"))  # asked again while in flight: not run twice
    ctl.session.compute_later(Pending("mask", lambda: ran.append("mask"), "…", "mask"))
    gate.set()
    qtbot.waitUntil(lambda: ("mask",) in done and ("c",) in done, timeout=20_000)
    qtbot.waitUntil(lambda: ctl.worker.jobs.in_flight() == 0, timeout=20_000)
    assert ran == ["a", "c", "mask"]  # b never ran; another group is not superseded
    assert ("a",) not in done and ("b",) not in done  # stale results are dropped


def test_the_window_modules_import_no_cycle():
    """menus, toolbar, actions, docks and export_all use the controller, not the window."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("swin_gui", include_external_packages=False)
    names = ("main", "menus", "toolbar", "actions", "docks", "export_all", "placement")
    names += ("controller", "state", "worker", "jobs", "dialogs")
    modules = [f"swin_gui.app.{n}" for n in names]
    cycles = [
        (a, b)
        for i, a in enumerate(modules)
        for b in modules[i + 1 :]
        if graph.chain_exists(a, b) and graph.chain_exists(b, a)
    ]
    assert cycles == []
    for module in modules[1:]:  # nothing imports the window
        assert not graph.chain_exists(module, "swin_gui.app.main"), module
