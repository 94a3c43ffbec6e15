"""The full per-image export: trace.npz, the input, per-stage feature maps in every mode,
pyramids and a manifest.

The crash-safety rules (atomic files, no silent overwrite, all-or-nothing folders, stale
temp sweeping, SIGTERM/SIGHUP like SIGINT) and the one-file savers (`save_png`,
`save_npy`, `save_json`, `ExportError`) live in the leaf module `swin_gui.safe_write`; the
streamed trace NPZ in `swin_gui.export_stream` and `swin_gui.trace_io.save_npz`.
`export_image` writes one image's files into a temporary sibling folder that replaces the
target in one step, so an interrupted or failed export (a full disk at any file) leaves the
old export untouched and nothing half-written.
`manifest.json` is strict JSON: NaN and infinities are written as null.
"""

from __future__ import annotations

import os
from pathlib import Path

from .analysis.features import top_channels
from .export_stream import NpzOptions
from .model.ondemand import trim_heap
from .render.features import align_to_image, render_feature_map, render_pyramid
from .safe_write import save_json, save_png, staged_folder
from .trace import Trace
from .trace_io import save_npz

__all__ = ["export_image", "export_plan"]


# ---- one image, everything ------------------------------------------------------------
def export_plan(trace: Trace) -> list[str]:
    """The file names `export_image` writes, in order."""
    names = ["trace.npz", "input.png"]
    for st in trace.stages:
        names += [f"stage{st.index}_{m}.png" for m in ("channel0", "top", "norm", "pca")]
    names += ["pyramid_norm.png", "pyramid_pca.png", "pyramid_top.png", "manifest.json"]
    return names


def _stage_pictures(trace: Trace, cmap: str):
    """(file name, picture) per stage and mode, one at a time."""
    size = trace.image.shape[:2]
    for st in trace.stages:
        stride = trace.token_pixels(st.index)
        top = int(top_channels(st.out, 1)[0])
        for name, mode, channel in (
            ("channel0", "channel", 0),
            ("top", "channel", top),
            ("norm", "norm", 0),
            ("pca", "pca", 0),
        ):
            rgb = render_feature_map(st.out, mode, channel, cmap)
            yield f"stage{st.index}_{name}.png", align_to_image(rgb, stride, size)


def _manifest(trace: Trace, cmap: str, options: NpzOptions) -> dict:
    return {
        "files": export_plan(trace),
        "image_size": list(trace.image.shape[:2]),
        "colormap": cmap,
        "npz": options.to_dict(),
        "stages": [
            {
                "stage": st.index,
                "resolution": list(st.resolution),
                "channels": st.dim,
                "top_channel": int(top_channels(st.out, 1)[0]),
                "token_pixels": trace.token_pixels(st.index),
            }
            for st in trace.stages
        ],
        "top5": [{"class": i, "name": n, "p": p} for i, n, p in trace.top_k(5)],
        "meta": trace.meta,
    }


def export_image(
    trace: Trace,
    out_dir: str | os.PathLike,
    overwrite: bool = False,
    cmap: str = "viridis",
    npz: NpzOptions | None = None,
) -> list[Path]:
    """Write trace.npz, input.png, stage{s}_{channel0,top,norm,pca}.png (each aligned to
    the input image), pyramid_{norm,pca,top}.png and manifest.json into `out_dir`.

    All or nothing: the files are written into a temporary sibling folder that then
    replaces `out_dir` (see `swin_gui.safe_write.staged_folder`). With overwrite=False
    nothing is written when any target already exists. Returns the final paths.
    """
    npz = npz or NpzOptions()
    npz.check(trace.config)
    out = Path(out_dir).expanduser()
    names = export_plan(trace)
    with staged_folder(out, names, overwrite) as tmp:
        save_npz(trace, tmp / "trace.npz", options=npz)
        trim_heap()  # a 12 MP photo's freed temporaries back to the OS before the pictures
        save_png(trace.image, tmp / "input.png")
        for name, rgb in _stage_pictures(trace, cmap):
            save_png(rgb, tmp / name)
            del rgb
            trim_heap()
        for mode, channel, tag in (
            ("norm", 0, "norm"),
            ("pca", 0, "pca"),
            ("channel", None, "top"),
        ):
            pyramid = render_pyramid(trace, mode, channel, cmap, include_image=True)
            save_png(pyramid, tmp / f"pyramid_{tag}.png")
            del pyramid  # not alive while the next one is drawn (180 MB at 12 MP)
            trim_heap()
        save_json(_manifest(trace, cmap, npz), tmp / "manifest.json")
    return [out / n for n in names]
