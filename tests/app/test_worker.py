"""The inference worker: threaded and synchronous paths, superseding/cancelling, stale
results dropped, one-line failures, the shift ablation and export jobs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from swin_gui.app.worker import CaptureRequest, InferenceWorker


@pytest.fixture
def worker(qtbot):
    w = InferenceWorker(sync=False)
    yield w
    w.shutdown()
    assert not w.is_running()
    w.deleteLater()


@pytest.fixture
def sync_worker():
    """A synchronous worker, deleted at the end: its signals may be connected to closures
    that hold it, a cycle through Qt that Python's gc cannot break."""
    w = InferenceWorker(sync=True)
    yield w
    w.deleteLater()


def _record(signal) -> list:
    seen = []
    signal.connect(lambda *args: seen.append(args))
    return seen


def test_threaded_capture_delivers_trace_and_progress(qtbot, worker, tiny_model, make_image):
    path = make_image("a.png", 80, 120)
    progress = _record(worker.progress)
    assert worker.is_running() and not worker.sync
    with qtbot.waitSignal(worker.finished, timeout=30_000) as blocker:
        rid = worker.capture(CaptureRequest(tiny_model, path, "native", "cpu", str(path)))
    got_id, captured = blocker.args
    trace = captured.trace
    assert got_id == rid
    assert trace.image.shape == (80, 120, 3)  # native size kept
    assert trace.meta["source"] == str(path)
    assert captured.model is tiny_model and captured.request.image == path
    stages = len(tiny_model.cfg.depths)
    assert progress and all(r == rid and t == stages for r, _, t in progress)
    dones = [d for _, d, _ in progress]
    assert dones == sorted(dones) and dones[-1] == stages


def test_second_request_supersedes_first(qtbot, worker, tiny_model, make_image, monkeypatch):
    """Both requests queue behind a blocking job; the first is skipped, never applied."""
    gate = threading.Event()
    monkeypatch.setattr("swin_gui.export.export_image", lambda *a, **k: gate.wait(10) and [])
    finished, cancelled = _record(worker.finished), _record(worker.cancelled)
    a, b = make_image("a.png", seed=1), make_image("b.png", seed=2)
    worker.export(None, "unused")  # occupies the worker thread until the gate opens
    first = worker.capture(CaptureRequest(tiny_model, a, source=str(a)))
    second = worker.capture(CaptureRequest(tiny_model, b, source=str(b)))
    assert not worker.is_current(first) and worker.is_current(second)
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        gate.set()
    assert [args[0] for args in finished] == [second]
    assert finished[0][1].trace.meta["source"] == str(b)
    qtbot.waitUntil(lambda: (first,) in cancelled, timeout=5_000)


def test_new_request_cancels_a_running_capture_between_stages(qtbot, tiny_model, sync_worker):
    """Sync mode makes the timing exact: a request made from the first capture's progress
    callback flips its should_cancel, so it raises CaptureCancelled at the next stage."""
    worker = sync_worker
    finished, cancelled = _record(worker.finished), _record(worker.cancelled)
    ids: list[int] = []
    worker.started.connect(ids.append)

    def on_progress(rid, done, total):
        if rid == ids[0] and done == 1 and len(ids) == 1:
            worker.capture(CaptureRequest(tiny_model, torch.randn(1, 3, 64, 64)))

    worker.progress.connect(on_progress)
    worker.capture(CaptureRequest(tiny_model, torch.randn(1, 3, 64, 64)))
    assert len(ids) == 2
    assert [f[0] for f in finished] == [ids[1]]
    assert [c[0] for c in cancelled] == [ids[0]]


def test_stale_result_is_dropped(qtbot, worker, tiny_model):
    """cancel() supersedes the running capture: whether it ends cancelled or completes,
    its result never reaches `finished`."""
    finished = _record(worker.finished)
    raw = _record(worker.jobs._runner.done)
    cancelled = _record(worker.jobs._runner.cancelled)
    rid = worker.capture(CaptureRequest(tiny_model, torch.randn(1, 3, 224, 224)))
    worker.cancel()
    ended = lambda: any(a[0] == rid for a in raw + cancelled)  # noqa: E731
    qtbot.waitUntil(ended, timeout=30_000)
    qtbot.waitUntil(lambda: worker.kind_of(rid) is None, timeout=5_000)
    assert finished == []


def test_bad_image_fails_with_one_line(qtbot, worker, tiny_model, tmp_path):
    bad = tmp_path / "not_an_image.png"
    bad.write_text("hello\nworld\n")
    with qtbot.waitSignal(worker.failed, timeout=30_000) as blocker:
        rid = worker.capture(CaptureRequest(tiny_model, bad))
    got, message = blocker.args
    assert got == rid
    assert "not_an_image.png" in message and "\n" not in message
    assert "Traceback" not in message


def test_bad_checkpoint_fails_with_one_line(qtbot, tmp_path, sync_worker):
    worker = sync_worker
    garbage = tmp_path / "broken.safetensors"
    garbage.write_bytes(b"\x00" * 64)
    failed = _record(worker.failed)
    worker.capture(CaptureRequest(str(garbage), torch.randn(1, 3, 64, 64)))
    assert len(failed) == 1 and "\n" not in failed[0][1] and failed[0][1]


def test_sync_mode_runs_on_the_calling_thread(tiny_model, monkeypatch):
    monkeypatch.setenv("SWIN_GUI_SYNC", "1")
    worker = InferenceWorker()
    assert worker.sync and not worker.is_running()
    finished = _record(worker.finished)
    rid = worker.capture(CaptureRequest(tiny_model, torch.randn(1, 3, 64, 64)))
    assert [f[0] for f in finished] == [rid]  # delivered before capture() returned
    assert worker.kind_of(rid) is None


def test_models_are_cached_by_spec_and_device(tiny_checkpoint, sync_worker):
    worker = sync_worker
    finished = _record(worker.finished)
    for _ in range(2):
        worker.capture(CaptureRequest(str(tiny_checkpoint), torch.randn(1, 3, 64, 64)))
    assert len(finished) == 2
    assert worker._load_model(str(tiny_checkpoint), "cpu") is finished[1][1].model
    assert finished[0][1].trace.meta["model"] == tiny_checkpoint.name


def test_ablation_job_reruns_block_without_shift(qtbot, worker, tiny_model, trace224):
    block = trace224.block(0, 1)
    assert block.shift > 0
    with qtbot.waitSignal(worker.ablated, timeout=30_000) as blocker:
        worker.ablate(tiny_model, trace224, 0, 1, 0)
    ablation = blocker.args[1]  # a ShiftAblation of that block of that trace
    assert ablation.of(trace224, 0, 1) and not ablation.of(trace224, 0, 0)
    assert ablation.shift == 0
    out = ablation.out
    assert out.shape == block.out.shape
    assert not np.allclose(out, block.out, atol=1e-5)  # the shift changes the block output
    same = worker.ablate  # the recorded shift reproduces the recorded output
    with qtbot.waitSignal(worker.ablated, timeout=30_000) as blocker:
        same(tiny_model, trace224, 0, 1, block.shift)
    np.testing.assert_allclose(blocker.args[1].out, block.out, atol=1e-4)


def test_export_job_writes_trace(qtbot, worker, trace224, tmp_path):
    with qtbot.waitSignal(worker.exported, timeout=60_000) as blocker:
        worker.export(trace224, tmp_path / "out")
    written = blocker.args[1]
    assert (tmp_path / "out" / "trace.npz") in written and (tmp_path / "out" / "trace.npz").exists()


def test_traceback_only_with_debug_switch(tmp_path, tiny_model, monkeypatch, capsys, sync_worker):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    worker = sync_worker
    worker.capture(CaptureRequest(tiny_model, bad))
    assert "Traceback" not in capsys.readouterr().err
    monkeypatch.setenv("SWIN_GUI_DEBUG", "1")
    worker.capture(CaptureRequest(tiny_model, bad))
    assert "Traceback" in capsys.readouterr().err


def test_signal_emit_does_not_leak_bool_references(sync_worker):
    """PySide6 6.12.0 on CPython 3.11 dropped a reference to True on every emit and aborted
    long sessions ("bool_dealloc"); pyproject pins it out. Guard against a regression."""
    import sys

    worker = sync_worker
    before = sys.getrefcount(True)
    for _ in range(2_000):
        worker.cancelled.emit(0)
    assert sys.getrefcount(True) >= before - 100


def test_jobs_run_again_after_a_shutdown(qtbot):
    """A runner whose thread ended is replaced, so a later job still runs off-thread."""
    from swin_gui.app.jobs import Jobs

    jobs = Jobs(sync=False, keep_thread=False)
    threads = []
    for _ in range(2):
        with qtbot.waitSignal(jobs.done, timeout=10_000) as blocker:
            jobs.submit("x", lambda p, c: threading.current_thread().name or "worker")
        threads.append(blocker.args[1])
        jobs.shutdown()
        assert not jobs.is_running()
    assert all(t != threading.main_thread().name for t in threads)
