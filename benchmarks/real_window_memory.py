"""Issue 11's GUI bounds in the real window: run under a display (Xvfb at 1366×768), e.g.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python benchmarks/real_window_memory.py \
        BIG.jpg SMALL.png [--model swin_tiny_patch4_window7_224]

It opens SMALL (RSS before), times one plain forward of BIG at native size, opens BIG at
native size, goes to the attention view at stage 0 block 1 and waits until that panel has
drawn (the first panel: time against the plain forward), then switches back to SMALL and
then to the demo model, reading RSS after each. RSS is sampled every 50 ms throughout; the
peak is the process's VmHWM. Prints one JSON line and the timeline marks.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import threading
import time


def rss_now() -> float:
    """This process's resident set, MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("big")
    parser.add_argument("small")
    parser.add_argument("--model", default="swin_tiny_patch4_window7_224")
    args = parser.parse_args()
    os.environ["SWIN_GUI_SETTINGS"] = os.path.join(tempfile.mkdtemp(), "settings.ini")

    from PIL import Image
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from swin_gui.app.launch import freeze_startup_heap
    from swin_gui.app.main import MainWindow
    from swin_gui.app.settings import AppSettings
    from swin_gui.bench import _plain_ms, peak_rss_mb, rss_mb
    from swin_gui.model.ondemand import trim_heap

    freeze_startup_heap()  # as run_app does
    t0, samples, marks = time.perf_counter(), [], []

    def sample() -> None:
        while True:
            samples.append((time.perf_counter() - t0, rss_now()))
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()

    def mark(name: str) -> None:
        marks.append((time.perf_counter() - t0, name, rss_now()))

    def spin(done, timeout_s: float = 900.0) -> None:
        t_end = time.time() + timeout_s
        while not done():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.005)
            if time.time() > t_end:
                sys.exit("timed out")

    def settle(seconds: float) -> None:
        t_end = time.time() + seconds
        while time.time() < t_end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    w = MainWindow(
        model=args.model, image=args.small, size="native", settings=AppSettings(), start=False
    )
    w.resize(1366, 740)
    w.show()
    w.run_inference()
    spin(lambda: w.session.trace is not None)
    w.go_to(view="attention", stage=0, block=1)
    settle(0.5)
    gc.collect()
    trim_heap()
    out: dict = {"rss_before_mb": rss_mb()}
    model = w.session.model
    with Image.open(args.big) as im:
        big = im.convert("RGB")
    out["plain_ms"] = _plain_ms(model, big)
    size = big.size[::-1]
    del big
    gc.collect()
    trim_heap()
    t1 = time.perf_counter()
    mark("open big")
    w.open_image(args.big, os.path.basename(args.big))
    spin(lambda: w.session.trace is not None and w.session.trace.image.shape[:2] == size)
    mark("trace applied")
    w.go_to(view="attention", stage=0, block=1)
    panel = w.panels["attention"]
    settle(0.1)
    spin(lambda: not panel.waiting and panel.figure is not None)
    settle(0.3)  # painted
    mark("first panel")
    out["first_panel_ms"] = (time.perf_counter() - t1) * 1e3
    out["first_panel_vs_plain"] = out["first_panel_ms"] / out["plain_ms"]
    block = w.session.trace.block(0, 1)
    out["whole_block_attention_held"] = block.computed("attn")
    out["peak_rss_mb"] = peak_rss_mb()
    del block
    w.open_image(args.small, os.path.basename(args.small))
    spin(lambda: w.session.trace is not None and w.session.trace.image.shape[:2] != size)
    settle(1.0)
    gc.collect()
    settle(0.5)
    out["rss_after_small_mb"] = rss_mb()
    old = id(model)
    del model
    w.set_model("demo")
    spin(lambda: id(w.session.model) != old and w.session.trace is not None)
    settle(1.0)
    gc.collect()
    settle(0.5)
    out["rss_after_demo_mb"] = rss_mb()
    peak_t, peak = max(samples, key=lambda s: s[1])
    out["peak_sample"] = {"s": round(peak_t, 1), "mb": round(peak)}
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}))
    for t, name, mb in marks:
        print(f"  {t:7.1f} s  {name:<14} {mb:6.0f} MiB")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
