"""Image I/O for the explorer: load any common image file as RGB, refuse bad ones with one
line.

Loading rules (`load_image`):
- EXIF orientation is applied, so a phone photo appears the way it was taken.
- Animated files (GIF, APNG, WebP) use their first frame.
- Transparency (RGBA, LA, PA, P with a transparent colour) is composited on WHITE, the
  background an image viewer or browser shows behind it.
- Modes: 1, L, P, CMYK, YCbCr and RGB convert with Pillow's own conversion.
  16-bit (I;16*) keeps its declared range: v / 257 maps 0..65535 exactly onto 0..255;
  when every value already fits in 0..255 the data is 8-bit in a 16-bit container and is
  kept as is. 32-bit integer (I) follows the same rule when its values fit 0..65535 and is
  min-max scaled otherwise. Float (F) has no declared range and is min-max scaled.
- Refused with `ImageLoadError` (one line): missing file, folder, anything that is not a
  regular file (FIFO, /dev/zero, a socket: "not a regular file", never read), zero-byte file,
  non-image, corrupt or truncated data, a decompression bomb (more than Pillow's
  `Image.MAX_IMAGE_PIXELS`, whose default is kept) and absurd sides (> MAX_SIDE).

Sizes, fits and the normalised input are `preprocess.py`.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .i18n import tr

ImageSource = str | os.PathLike | bytes | bytearray | Image.Image | np.ndarray

ALPHA_BACKGROUND = (255, 255, 255)  # transparent pixels become white
MAX_SIDE = 32768  # pixels per side; larger is refused as absurd


class ImageLoadError(ValueError):
    """An image that cannot be used; the message is one readable line."""


def load_image(source: ImageSource, name: str | None = None) -> Image.Image:
    """Load a file path, raw bytes, a PIL image or a uint8 array as an RGB PIL image.

    Args:
        source: what to load.
        name: how to refer to the image in error messages (defaults to the file name).
    Raises:
        ImageLoadError: with a one-line reason; nothing is ever written.
    """
    if isinstance(source, Image.Image):
        _check_size(source.size, name or "image")
        return _to_rgb(_orient(source, name or "image"))
    if isinstance(source, np.ndarray):
        return load_image(_array_to_pil(source), name or "array")
    if isinstance(source, (bytes, bytearray)):
        label = name or "image bytes"
        if not source:
            raise ImageLoadError(tr("Images", "{label}: empty (0 bytes)", label=label))
        return _open_and_decode(io.BytesIO(bytes(source)), label)
    path = Path(source).expanduser()
    label = name or path.name or str(path)
    _check_file(path, label)
    with _open_regular(path, label) as f:
        return _open_and_decode(f, label)


def _special_kinds():
    return (
        (stat.S_ISFIFO, tr("Images", "a FIFO (named pipe)")),
        (stat.S_ISCHR, tr("Images", "a character device")),
        (stat.S_ISBLK, tr("Images", "a block device")),
        (stat.S_ISSOCK, tr("Images", "a socket")),
    )


def _not_regular(mode: int, label: str) -> ImageLoadError:
    kind = next((k for test, k in _special_kinds() if test(mode)), tr("Images", "a special file"))
    return ImageLoadError(
        tr("Images", "{label}: not a regular file ({kind})", label=label, kind=kind)
    )


def _check_file(path: Path, label: str) -> None:
    """Refuse anything but a non-empty regular file, from its metadata alone (`stat`
    never blocks, so a FIFO or /dev/zero is refused without reading it)."""
    try:
        mode, size = (st := path.stat()).st_mode, st.st_size
    except FileNotFoundError:
        raise ImageLoadError(
            tr("Images", "{label}: no such file ({path})", label=label, path=path)
        ) from None
    except PermissionError:
        raise ImageLoadError(tr("Images", "{label}: permission denied", label=label)) from None
    except OSError as e:
        raise ImageLoadError(
            tr("Images", "{label}: cannot read ({why})", label=label, why=_one_line(e))
        ) from None
    if stat.S_ISDIR(mode):
        raise ImageLoadError(tr("Images", "{label}: is a folder, not an image file", label=label))
    if not stat.S_ISREG(mode):
        raise _not_regular(mode, label)
    if size == 0:
        raise ImageLoadError(tr("Images", "{label}: empty file (0 bytes)", label=label))


def check_image_path(path: str | os.PathLike) -> None:
    """A one-line ImageLoadError unless `path` is a non-empty regular file (metadata only:
    the GUI calls this before it opens a window)."""
    path = Path(path)
    _check_file(path, path.name or str(path))


def _open_regular(path: Path, label: str):
    """Open without blocking and check again on the open file, so a file swapped for a
    FIFO after `_check_file` cannot hang the read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError:
        raise ImageLoadError(tr("Images", "{label}: permission denied", label=label)) from None
    except OSError as e:
        raise ImageLoadError(
            tr("Images", "{label}: cannot read ({why})", label=label, why=_one_line(e))
        ) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(mode, label)
    return os.fdopen(fd, "rb")


def _open_and_decode(fp, label: str) -> Image.Image:
    """Open, decode the first frame completely, orient and convert; Pillow errors become
    ImageLoadError. Decompression-bomb warnings are raised as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(fp) as im:
                _check_size(im.size, label)
                im.seek(0)  # animated files: the first frame
                im.load()  # decode now so truncated data fails here
                frame = _orient(im, label)
                return _to_rgb(frame)
        except ImageLoadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageLoadError(
                tr(
                    "Images",
                    "{label}: refused as a possible decompression bomb ({e})",
                    label=label,
                    e=e,
                )
            ) from None
        except UnidentifiedImageError:
            raise ImageLoadError(
                tr("Images", "{label}: not an image Pillow can read", label=label)
            ) from None
        except PermissionError:
            raise ImageLoadError(tr("Images", "{label}: permission denied", label=label)) from None
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise ImageLoadError(
                tr(
                    "Images",
                    "{label}: corrupt or truncated image ({why})",
                    label=label,
                    why=_one_line(e),
                )
            ) from None


def _check_size(size: tuple[int, int], label: str) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageLoadError(
            tr("Images", "{label}: has no pixels ({w}x{h})", label=label, w=w, h=h)
        )
    if max(w, h) > MAX_SIDE:
        raise ImageLoadError(
            tr(
                "Images",
                "{label}: {w}x{h} px is too large (a side over {MAX_SIDE} px)",
                label=label,
                w=w,
                h=h,
                MAX_SIDE=MAX_SIDE,
            )
        )
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and w * h > limit:
        raise ImageLoadError(
            tr(
                "Images",
                "{label}: refused as a possible decompression bomb ({w}x{h} = {pixels} px, more "
                "than "
                "{limit} px)",
                label=label,
                w=w,
                h=h,
                pixels=w * h,
                limit=limit,
            )
        )


def _orient(im: Image.Image, label: str) -> Image.Image:
    """Apply the EXIF orientation tag; a broken EXIF block is ignored, not fatal."""
    try:
        return ImageOps.exif_transpose(im) or im
    except Exception:
        return im


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB, following the module's rules."""
    mode = im.mode
    if mode == "RGB":
        return im.copy()
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        return _to_rgb(im)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return _composite(im)
    if mode.startswith("I;16") or mode == "I":
        return _gray_to_rgb(_scale_integer(np.asarray(im)))
    if mode == "F":
        return _gray_to_rgb(_min_max(np.asarray(im, dtype=np.float64)))
    try:
        return im.convert("RGB")
    except (ValueError, OSError) as e:
        raise ImageLoadError(
            tr(
                "Images",
                "unsupported image mode {mode!r} ({why})",
                mode=mode,
                why=_one_line(e),
            )
        ) from None


def _composite(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _scale_integer(values: np.ndarray) -> np.ndarray:
    """Integer grey levels -> uint8: 8-bit data kept, 16-bit range / 257, else min-max."""
    values = values.astype(np.int64)
    lo, hi = int(values.min()), int(values.max())
    if lo >= 0 and hi <= 255:
        return values.astype(np.uint8)
    if lo >= 0 and hi <= 65535:
        return np.round(values / 257.0).astype(np.uint8)
    return _min_max(values.astype(np.float64))


def _min_max(values: np.ndarray) -> np.ndarray:
    """Finite values min-max scaled to 0..255; NaN/inf become 0; a constant image is 0."""
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.uint8)
    lo, hi = values[finite].min(), values[finite].max()
    scaled = (values - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(values)
    return np.round(np.where(finite, scaled, 0.0)).clip(0, 255).astype(np.uint8)


def _gray_to_rgb(gray: np.ndarray) -> Image.Image:
    return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), "RGB")


def _array_to_pil(array: np.ndarray) -> Image.Image:
    """(H, W) or (H, W, 3|4) arrays; uint8 as is, other dtypes via the grey-level rules."""
    if array.ndim == 2:
        if array.dtype == np.uint8:
            return Image.fromarray(array, "L")
        if np.issubdtype(array.dtype, np.integer):
            return _gray_to_rgb(_scale_integer(array))
        return _gray_to_rgb(_min_max(array.astype(np.float64)))
    if array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype == np.uint8:
        return Image.fromarray(
            np.ascontiguousarray(array), "RGB" if array.shape[2] == 3 else "RGBA"
        )
    raise ImageLoadError(
        tr(
            "Images",
            "array of shape {shape} and dtype {dtype} is not an image (need H x W, or H x W x 3/4 "
            "uint8)",
            shape=array.shape,
            dtype=array.dtype,
        )
    )


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
