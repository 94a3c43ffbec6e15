"""Writing results to disk safely: PNG, NPY and JSON files, and the full per-image export
(trace.npz, the input, per-stage feature maps in every mode, pyramids and a manifest).

The crash-safety rules (atomic files, no silent overwrite, all-or-nothing folders, stale
temp sweeping, SIGTERM/SIGHUP like SIGINT) live in `swin_gui.safe_write`; the streamed
trace NPZ in `swin_gui.export_stream`. `export_image` writes one image's files into a
temporary sibling folder that replaces the target in one step, so an interrupted or failed
export (a full disk at any file) leaves the old export untouched and nothing half-written.
`manifest.json` is strict JSON: NaN and infinities are written as null.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from PIL import Image

from .export_stream import NpzOptions, write_trace_npz
from .safe_write import (
    ExportError,
    atomic_write,
    ensure_folder,
    reason,
    staged_folder,
    sweep_stale,
)

__all__ = [
    "ExportError",
    "NpzOptions",
    "atomic_write",
    "ensure_folder",
    "export_image",
    "export_plan",
    "json_safe",
    "save_json",
    "save_npy",
    "save_png",
    "save_trace_npz",
    "sweep_stale",
]

_reason = reason  # the old private name


def json_safe(value):
    """`value` with NaN/inf floats as None and numpy scalars/arrays as plain Python, so
    `json.dumps(..., allow_nan=False)` always succeeds."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _as_image_array(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        raise ValueError(f"save_png needs uint8 pixels, got {a.dtype}")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"save_png needs (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    return np.ascontiguousarray(a)


def save_png(rgb: np.ndarray, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a uint8 (H, W[, 3|4]) array as a PNG, atomically."""
    image = Image.fromarray(_as_image_array(rgb))
    return atomic_write(path, lambda f: image.save(f, format="PNG"), overwrite)


def save_npy(array: np.ndarray, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write one array as .npy (no pickles), atomically."""
    a = np.asarray(array)
    return atomic_write(path, lambda f: np.save(f, a, allow_pickle=False), overwrite)


def save_trace_npz(
    trace, path: str | os.PathLike, overwrite: bool = False, options: NpzOptions | None = None
) -> Path:
    """Stream a Trace into its documented NPZ schema, atomically and without overwriting."""
    return atomic_write(path, lambda f: write_trace_npz(trace, f, options), overwrite)


def save_json(data: dict, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Strict JSON (non-finite numbers become null), atomically."""
    text = json.dumps(json_safe(data), indent=2, default=str, allow_nan=False).encode()
    return atomic_write(path, lambda f: f.write(text), overwrite)


# ---- one image, everything ------------------------------------------------------------
def export_plan(trace) -> list[str]:
    """The file names `export_image` writes, in order."""
    names = ["trace.npz", "input.png"]
    for st in trace.stages:
        names += [f"stage{st.index}_{m}.png" for m in ("channel0", "top", "norm", "pca")]
    names += ["pyramid_norm.png", "pyramid_pca.png", "pyramid_top.png", "manifest.json"]
    return names


def _stage_pictures(trace, cmap: str):
    """(file name, picture) per stage and mode, one at a time."""
    from .analysis.features import top_channels
    from .render.features import align_to_image, render_feature_map

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


def _manifest(trace, cmap: str, options: NpzOptions) -> dict:
    from .analysis.features import top_channels

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
    trace,
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
    from .render.features import render_pyramid

    npz = npz or NpzOptions()
    npz.check(trace.config)
    out = Path(out_dir).expanduser()
    names = export_plan(trace)
    with staged_folder(out, names, overwrite) as tmp:
        save_trace_npz(trace, tmp / "trace.npz", options=npz)
        save_png(trace.image, tmp / "input.png")
        for name, rgb in _stage_pictures(trace, cmap):
            save_png(rgb, tmp / name)
        for mode, channel, tag in (
            ("norm", 0, "norm"),
            ("pca", 0, "pca"),
            ("channel", None, "top"),
        ):
            pyramid = render_pyramid(trace, mode, channel, cmap, include_image=True)
            save_png(pyramid, tmp / f"pyramid_{tag}.png")
        save_json(_manifest(trace, cmap, npz), tmp / "manifest.json")
    return [out / n for n in names]
