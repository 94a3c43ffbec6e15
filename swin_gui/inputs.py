"""What enters the model: where a model came from (`ModelInfo`, `model_info`) and an image
turned into the model's normalised input with the meta that records how
(`prepare_input`). Shared by the capture (`swin_gui.api`) and the explain methods, below
them both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .images import load_image
from .model.config import SwinConfig
from .preprocess import default_fit, parse_fit, prepare


@dataclass(frozen=True)
class ModelInfo:
    """Where a model came from; attached to the module as `model.info`."""

    label: str
    format: str  # preset / demo / official / timm / torchvision / huggingface / swin-gui
    source: str
    random_weights: bool
    class_names: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # problems that did not stop the load (NaN/Inf weights)
    no_head_reason: str = ""  # why there is no classifier (then logits are None)
    report: Any = None  # the checkpoint loader's LoadReport (wrapper, prefixes, ignored, ...)


def model_info(model: torch.nn.Module) -> ModelInfo:
    """`model.info` as `load_model` set it; for any other module, a label and the class names
    its config carries."""
    info = getattr(model, "info", None)
    cfg = getattr(model, "cfg", None)
    names = tuple(getattr(cfg, "class_names", ()) or ())
    return info or ModelInfo(
        getattr(cfg, "name", "") or type(model).__name__, "module", "", False, names
    )


def prepare_input(
    model: torch.nn.Module, image: Any, size: str | int, fit: str | None = None
) -> tuple[torch.Tensor, np.ndarray, dict]:
    """(normalised (1,3,H,W) tensor, RGB uint8 image, preprocessing meta) of `image` for a
    model with a `.cfg` (a `SwinTransformer`)."""
    cfg: SwinConfig = model.cfg
    if isinstance(image, torch.Tensor):
        x = image if image.dim() == 4 else image[None]
        mean, std = torch.tensor(cfg.mean)[:, None, None], torch.tensor(cfg.std)[:, None, None]
        rgb = ((x[0].cpu() * std + mean).clamp(0, 1) * 255).round().byte().permute(1, 2, 0)
        return x.float(), rgb.numpy(), {"size": "tensor", "source": "tensor"}
    source = str(image) if isinstance(image, (str, Path)) else type(image).__name__
    img = load_image(image)
    info = model_info(model)
    fit = parse_fit(fit) or default_fit(cfg, info.format)
    report = info.report  # the checkpoint's own crop_pct / interpolation, when it states them
    crop_pct = getattr(report, "crop_pct", 0.0) or None
    interpolation = getattr(report, "interpolation", "") or None
    x, rgb, fitted = prepare(img, cfg, size, fit, crop_pct, interpolation)
    meta = {
        "size": str(size),
        "source": source,
        "original_size": list(img.size),
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        **fitted.to_meta(),
    }
    if interpolation:
        meta["interpolation"] = interpolation
    return x, rgb, meta
