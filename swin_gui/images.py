"""Image I/O for the explorer: load any common image file as RGB, refuse bad ones with one
line, and turn an image into the normalised tensor a Swin model takes.

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

Preprocessing rules (`prepare` / `to_model_input`):
- size "model" (img_size x img_size) and size N (N x N) meet the image by a fit:
  - "crop": timm's eval transform: bicubic resize of the shorter side to
    floor(S / crop_pct), then a centre crop S x S (crop_pct from the config when known,
    else 0.875, the ImageNet convention);
  - "pad": letterbox: bicubic resize of the longer side to S, centred on an S x S canvas
    of the mean colour (0 after normalisation);
  - "stretch": a plain bicubic resize to S x S (the aspect ratio may change).
  The default (`default_fit`) is the checkpoint's convention: "crop" for ImageNet
  checkpoints and presets; "stretch" for the bundled demo model, which was trained on
  square 224 scenes resized whole (on a square image at 224 every fit is the same).
- size "native": the image's own resolution (the model pads to patch and window
  multiples), refused above MAX_NATIVE_PIXELS; no fit.
- Then x / 255 and (x - mean) / std with the config's mean and std.
- What was cropped or padded is reported (`FitInfo`): the box of the original image the
  model sees (`crop_box`, original pixels) and where it lies in the input (`content_box`).
"""

from __future__ import annotations

import io
import math
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .i18n import tr
from .model.config import SwinConfig

ImageSource = str | os.PathLike | bytes | bytearray | Image.Image | np.ndarray
Size = str | int

ALPHA_BACKGROUND = (255, 255, 255)  # transparent pixels become white
MAX_SIDE = 32768  # pixels per side; larger is refused as absurd
MAX_NATIVE_PIXELS = 4096 * 4096  # "native" size is refused above this (memory of a capture)
SIZE_CHOICES = ("model", "native")
FIT_CHOICES = ("crop", "pad", "stretch")
DEFAULT_CROP_PCT = 0.875  # timm / torchvision ImageNet eval: resize to S / 0.875, crop S


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


def parse_size(value: str | int) -> Size:
    """'model' | 'native' | a positive integer (also as a string) -> the size argument."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(tr("Images", "size must be positive, not {value}", value=value))
        return value
    text = str(value).strip().lower()
    if text in SIZE_CHOICES:
        return text
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ValueError(
        tr(
            "Images",
            "size must be 'model', 'native' or a positive integer, not {value!r}",
            value=value,
        )
    )


def target_size(img_size: tuple[int, int], cfg: SwinConfig, size: Size) -> tuple[int, int]:
    """(width, height) the model will see, after checking the limits."""
    size = parse_size(size)
    if size == "model":
        w = h = cfg.img_size
    elif size == "native":
        w, h = img_size
    else:
        w = h = size
    if min(w, h) < cfg.patch_size:
        raise ImageLoadError(
            tr(
                "Images",
                "{w}x{h} px is smaller than one {patch_size}x{patch_size} patch; use a larger "
                "image or a larger --size",
                w=w,
                h=h,
                patch_size=cfg.patch_size,
            )
        )
    if w * h > MAX_NATIVE_PIXELS:
        side = int(MAX_NATIVE_PIXELS**0.5)
        raise ImageLoadError(
            tr(
                "Images",
                "{w}x{h} px is too large to capture (limit {side}x{side} px); choose a smaller "
                "size, e.g. --size 224 or --size model",
                w=w,
                h=h,
                side=side,
            )
        )
    return w, h


@dataclass(frozen=True)
class FitInfo:
    """How the image met the model's input: the fit used, the part of the original image
    the model sees (`crop_box`, x0, y0, x1, y1 in original pixels) and where that part lies
    in the model input (`content_box`, model pixels; the rest is padding)."""

    fit: str  # crop / pad / stretch / native
    crop_box: tuple[float, float, float, float]
    content_box: tuple[int, int, int, int]
    crop_pct: float | None = None

    def to_meta(self) -> dict:
        meta = {"fit": self.fit, "crop_box": list(self.crop_box)}
        meta["content_box"] = list(self.content_box)
        if self.crop_pct is not None:
            meta["crop_pct"] = self.crop_pct
        return meta


def default_fit(cfg: SwinConfig, model_format: str = "") -> str:
    """The checkpoint's convention: "stretch" for the bundled demo model (trained on whole
    square scenes), "crop" (timm's centre crop) for everything else."""
    return "stretch" if model_format == "demo" else "crop"


def parse_fit(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in FIT_CHOICES:
        raise ValueError(
            tr(
                "Images",
                "fit must be one of {choices}, not {value!r}",
                choices=", ".join(FIT_CHOICES),
                value=value,
            )
        )
    return text


RESAMPLE = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


def _fit(
    pil: Image.Image,
    side: int,
    fit: str,
    cfg: SwinConfig,
    crop_pct: float | None = None,
    interpolation: str | None = None,
) -> tuple[Image.Image, FitInfo]:
    """Resize `pil` to side x side by `fit` (with the checkpoint's crop_pct and
    interpolation when it states them); see the module docstring."""
    W, H = pil.size
    bicubic = RESAMPLE.get(str(interpolation or "bicubic").lower(), Image.Resampling.BICUBIC)
    if fit == "stretch":
        out = pil if (side, side) == (W, H) else pil.resize((side, side), bicubic)
        return out, FitInfo("stretch", (0.0, 0.0, float(W), float(H)), (0, 0, side, side))
    if fit == "crop":
        pct = float(crop_pct or DEFAULT_CROP_PCT)
        short = math.floor(side / pct)  # as timm: Resize(floor(S / crop_pct)), CenterCrop(S)
        rw, rh = (short, int(short * H / W)) if W <= H else (int(short * W / H), short)
        resized = pil if (rw, rh) == (W, H) else pil.resize((rw, rh), bicubic)
        left, top = round((rw - side) / 2.0), round((rh - side) / 2.0)  # as torchvision
        out = resized.crop((left, top, left + side, top + side))
        sx, sy = W / rw, H / rh
        box = (left * sx, top * sy, (left + side) * sx, (top + side) * sy)
        box = tuple(round(v, 2) for v in box)
        return out, FitInfo("crop", box, (0, 0, side, side), pct)
    # pad: letterbox, the longer side becomes `side`
    scale = side / max(W, H)
    rw, rh = max(1, round(W * scale)), max(1, round(H * scale))
    resized = pil if (rw, rh) == (W, H) else pil.resize((rw, rh), bicubic)
    fill = tuple(round(m * 255) for m in cfg.mean)
    canvas = Image.new("RGB", (side, side), fill)
    left, top = (side - rw) // 2, (side - rh) // 2
    canvas.paste(resized, (left, top))
    info = FitInfo("pad", (0.0, 0.0, float(W), float(H)), (left, top, left + rw, top + rh))
    return canvas, info


def prepare(
    img: ImageSource,
    cfg: SwinConfig,
    size: Size = "model",
    fit: str | None = None,
    crop_pct: float | None = None,
    interpolation: str | None = None,
) -> tuple[torch.Tensor, np.ndarray, FitInfo]:
    """An image -> (normalised tensor (1, 3, H, W) float32, rgb (H, W, 3) uint8, FitInfo).

    `rgb` is exactly what entered the model before normalisation, at model resolution.
    `fit` is crop / pad / stretch for square sizes; None means "crop"."""
    pil = load_image(img)  # idempotent on an already loaded RGB image
    side, _ = target_size(pil.size, cfg, size)
    if parse_size(size) == "native":
        W, H = pil.size
        info = FitInfo("native", (0.0, 0.0, float(W), float(H)), (0, 0, W, H))
    else:
        pil, info = _fit(pil, side, parse_fit(fit) or "crop", cfg, crop_pct, interpolation)
    rgb = np.asarray(pil, dtype=np.uint8).copy()  # H, W, 3
    x = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0  # 3, H, W
    mean = torch.tensor(cfg.mean, dtype=torch.float32)[:, None, None]  # 3, 1, 1
    std = torch.tensor(cfg.std, dtype=torch.float32)[:, None, None]  # 3, 1, 1
    return ((x - mean) / std)[None].contiguous(), rgb, info  # 1, 3, H, W


def to_model_input(
    img: ImageSource, cfg: SwinConfig, size: Size = "model", fit: str = "stretch"
) -> tuple[torch.Tensor, np.ndarray]:
    """An image -> (normalised tensor (1, 3, H, W) float32, rgb (H, W, 3) uint8); `prepare`
    without the FitInfo (the default fit here stays the plain resize, "stretch")."""
    x, rgb, _ = prepare(img, cfg, size, fit)
    return x, rgb
