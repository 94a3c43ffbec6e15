"""Plumbing shared by the explain methods: the shift-off counterfactual, frozen weights,
stopping a forward pass early, reading a stage's or block's output through forward hooks,
and resolving the target class. Only the model's public forward is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F


@contextmanager
def no_shift(model, off: bool = True) -> Iterator[None]:
    """The counterfactual network: every block's shift forced to 0 (W-MSA only) while
    inside; each block's own `shift_size` is restored in `finally`. `off=False` is a no-op."""
    blocks = [b for stage in model.layers for b in stage.blocks] if off else []
    saved = [b.shift_size for b in blocks]
    try:
        for b in blocks:
            b.shift_size = 0
        yield
    finally:
        for b, s in zip(blocks, saved, strict=True):
            b.shift_size = s


@contextmanager
def frozen(model) -> Iterator[None]:
    """Parameters need no gradient while inside (only the activations we ask about do)."""
    params = list(model.parameters())
    saved = [p.requires_grad for p in params]
    try:
        for p in params:
            p.requires_grad_(False)
        yield
    finally:
        for p, r in zip(params, saved, strict=True):
            p.requires_grad_(r)


class Stop(Exception):
    """Raised from a hook to end a forward pass once the wanted activation exists."""


@contextmanager
def grab_output(module, leaf: bool = False, stop: bool = False) -> Iterator[dict]:
    """Forward hook on `module`: `box["out"]` is its output (B, H, W, C). `leaf` makes the
    output a fresh leaf that requires grad (what follows is computed from it); `stop`
    raises `Stop` right after it."""
    box: dict = {}

    def hook(_mod, _args, out):
        if leaf:
            out = out.detach().requires_grad_(True)
        box["out"] = out
        if stop:
            raise Stop
        return out

    handle = module.register_forward_hook(hook)
    try:
        yield box
    finally:
        handle.remove()


def resolve_target(model, logits: torch.Tensor, target) -> int:
    """'top'/None -> the top-1 class; an int; or a class name from the model's names."""
    if target in (None, "top"):
        return int(logits.argmax())
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        names = list(getattr(model.cfg, "class_names", ()) or ())
        info = getattr(model, "info", None)
        names = names or list(getattr(info, "class_names", ()) or ())
        if target not in names:
            raise ValueError(f"unknown class {target!r}; the model's classes: {', '.join(names)}")
        return names.index(target)
    k = int(target)
    if not 0 <= k < logits.shape[-1]:
        raise ValueError(f"target {k} is not a class index in 0..{logits.shape[-1] - 1}")
    return k


def resolve_targets(model, logits: torch.Tensor, target) -> list[int]:
    """One class per image of a batch (B, classes): `target` as in `resolve_target`, the
    same for all, or a list/tuple with one per image. "top" reads all top-1s at once."""
    n = logits.shape[0]
    if isinstance(target, (list, tuple)):
        if len(target) != n:
            raise ValueError(f"got {len(target)} targets for {n} images")
        return [resolve_target(model, logits[i], t) for i, t in enumerate(target)]
    if target in (None, "top"):
        return [int(k) for k in logits.argmax(-1).tolist()]  # one device-to-host copy
    return [resolve_target(model, logits[0], target)] * n


def upsample_crop(cam: torch.Tensor, stage: int, patch: int, size: tuple[int, int]) -> torch.Tensor:
    """(..., h, w) stage maps -> bilinear (align_corners=False) to (h·p·2^S, w·p·2^S)
    pixels, then cropped to the input's (H, W): (..., H, W)."""
    tp = patch * 2**stage
    *lead, h, w = cam.shape
    up = F.interpolate(
        cam.reshape(-1, 1, h, w), size=(h * tp, w * tp), mode="bilinear", align_corners=False
    )
    return up.reshape(*lead, h * tp, w * tp)[..., : size[0], : size[1]]


def model_input(model, image, size="model", fit=None):
    """(normalised (B, 3, H, W) tensor on the model's device, [RGB uint8 image per image]).
    `image`: a path, PIL image or tensor ((3, H, W) or (B, 3, H, W)), or a list of paths /
    PIL images / (3, H, W) tensors that come out the same size."""
    from ..inputs import prepare_input

    device = next(model.parameters()).device
    items = list(image) if isinstance(image, (list, tuple)) else [image]
    if not items:
        raise ValueError("no images to explain")
    xs, rgbs = [], []
    for item in items:
        if isinstance(item, torch.Tensor) and item.dim() == 4:  # a batch: one rgb each
            for one in item:
                x, rgb, _ = prepare_input(model, one, size, fit)
                xs.append(x)
                rgbs.append(rgb)
            continue
        x, rgb, _ = prepare_input(model, item, size, fit)
        xs.append(x)
        rgbs.append(rgb)
    shapes = sorted({tuple(x.shape[-2:]) for x in xs})
    if len(shapes) > 1:
        got = ", ".join(f"{h}×{w}" for h, w in shapes)
        raise ValueError(f"the images come out at different sizes ({got}); a batch needs one size")
    return torch.cat(xs).to(device), rgbs
