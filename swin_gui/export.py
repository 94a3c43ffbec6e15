"""Writing results to disk safely: PNG and NPY files, and the full per-image export
(trace.npz, the input, per-stage feature maps in every mode, and pyramids).

Rules:
- Atomic: data goes to a temp file in the target folder, then is renamed into place, so a
  crash never leaves a half-written file under the real name.
- Never overwrite silently: with `overwrite=False` an existing target raises
  `ExportError` (no numbered names are invented); the no-clobber rename uses a hard link
  where the file system supports it, so a file that appears meanwhile is not replaced.
- Every failure (unwritable folder, parent that is a file, read-only disk) is an
  `ExportError` with a one-line message.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image


class ExportError(RuntimeError):
    """A file could not be written; the message is one readable line."""


def _reason(e: OSError) -> str:
    return (e.strerror or str(e) or type(e).__name__).splitlines()[0].lower()


def ensure_folder(folder: str | os.PathLike) -> Path:
    """Create `folder` (and its parents) if needed; ExportError when that is impossible."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ExportError(f"cannot use {folder}: it or a parent is a file, not a folder") from None
    except OSError as e:
        raise ExportError(f"cannot create folder {folder}: {_reason(e)}") from None
    return folder


def _prepare_target(path: str | os.PathLike, overwrite: bool) -> Path:
    """Create the parent folder if needed and refuse an existing target unless allowed."""
    path = Path(path).expanduser()
    ensure_folder(path.parent)
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it")
    return path


def _commit(tmp: str, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic and fails if the name exists
    except FileExistsError:
        raise ExportError(f"{path} already exists; pass --overwrite to replace it") from None
    except OSError:  # no hard links here (FAT, some network shares): checked rename
        if path.exists():
            raise ExportError(f"{path} already exists; pass --overwrite to replace it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _temp_beside(path: Path) -> tuple[int, str]:
    """Create a fresh hidden temp file next to `path` (mode 0o666 minus the umask,
    like a plain open())."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name beside {path}")


def atomic_write(
    path: str | os.PathLike, write: Callable[[BinaryIO], None], overwrite: bool = False
) -> Path:
    """Call `write(file)` on a temp file beside `path`, then move it into place."""
    path = _prepare_target(path, overwrite)
    try:
        fd, tmp = _temp_beside(path)
    except OSError as e:
        raise ExportError(f"cannot write in {path.parent}: {_reason(e)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _commit(tmp, path, overwrite)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {_reason(e)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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


def save_trace_npz(trace, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a Trace in its documented NPZ schema, atomically and without overwriting."""
    from .trace_io import trace_arrays

    arrays = trace_arrays(trace)
    return atomic_write(path, lambda f: np.savez(f, **arrays), overwrite)


def save_json(data: dict, path: str | os.PathLike, overwrite: bool = False) -> Path:
    text = json.dumps(data, indent=2, default=str).encode()
    return atomic_write(path, lambda f: f.write(text), overwrite)


# ---- one image, everything ------------------------------------------------------------
def export_plan(trace) -> list[str]:
    """The file names `export_image` writes, in order."""
    names = ["trace.npz", "input.png"]
    for st in trace.stages:
        names += [f"stage{st.index}_{m}.png" for m in ("channel0", "top", "norm", "pca")]
    names += ["pyramid_norm.png", "pyramid_pca.png", "pyramid_top.png", "manifest.json"]
    return names


def _stage_pictures(trace, cmap: str) -> dict[str, np.ndarray]:
    from .analysis.features import top_channels
    from .render.features import align_to_image, render_feature_map

    size = trace.image.shape[:2]
    pictures = {}
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
            pictures[f"stage{st.index}_{name}.png"] = align_to_image(rgb, stride, size)
    return pictures


def _manifest(trace, cmap: str) -> dict:
    from .analysis.features import top_channels

    return {
        "files": export_plan(trace),
        "image_size": list(trace.image.shape[:2]),
        "colormap": cmap,
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
    trace, out_dir: str | os.PathLike, overwrite: bool = False, cmap: str = "viridis"
) -> list[Path]:
    """Write trace.npz, input.png, stage{s}_{channel0,top,norm,pca}.png (each aligned to
    the input image), pyramid_{norm,pca,top}.png and manifest.json into `out_dir`.

    With overwrite=False nothing is written when any target already exists.
    Returns the written paths.
    """
    from .render.features import render_pyramid

    out = Path(out_dir).expanduser()
    if not overwrite:
        existing = [n for n in export_plan(trace) if (out / n).exists()]
        if existing:
            raise ExportError(
                f"{out / existing[0]} already exists ({len(existing)} of the export's files); "
                "pass --overwrite to replace them"
            )
    written = [save_trace_npz(trace, out / "trace.npz", overwrite)]
    written.append(save_png(trace.image, out / "input.png", overwrite))
    for name, rgb in _stage_pictures(trace, cmap).items():
        written.append(save_png(rgb, out / name, overwrite))
    for mode, channel, tag in (("norm", 0, "norm"), ("pca", 0, "pca"), ("channel", None, "top")):
        pyramid = render_pyramid(trace, mode, channel, cmap, include_image=True)
        written.append(save_png(pyramid, out / f"pyramid_{tag}.png", overwrite))
    written.append(save_json(_manifest(trace, cmap), out / "manifest.json", overwrite))
    return written
