"""Preprocessing for the explorer: an image (see `images.load_image`) becomes the
normalised tensor a Swin model takes.

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

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from .i18n import tr
from .images import ImageLoadError, ImageSource, load_image
from .model.config import SwinConfig

Size = str | int
MAX_NATIVE_PIXELS = 4096 * 4096  # "native" size is refused above this (memory of a capture)
SIZE_CHOICES = ("model", "native")
FIT_CHOICES = ("crop", "pad", "stretch")
DEFAULT_CROP_PCT = 0.875  # timm / torchvision ImageNet eval: resize to S / 0.875, crop S


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
