"""The Python API: load a model (preset, checkpoint, HF directory or the bundled demo),
capture a `Trace` of one image, and re-run a block as an ablation.

    model = swin_gui.load_model("demo")
    trace = swin_gui.capture(model, "assets/samples/star_224.png")
    trace.save_npz("trace.npz")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .model import PRESETS, Recorder, SwinConfig, SwinTransformer, preset
from .trace import Trace
from .trace_io import trace_from_record

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEMO_MODEL = ASSETS / "demo" / "swin_demo.safetensors"
HUB_PREFIX = "hf-hub:"  # e.g. "hf-hub:microsoft/swin-tiny-patch4-window7-224"


@dataclass(frozen=True)
class ModelInfo:
    """Where a model came from; attached to the module as `model.info`."""

    label: str
    format: str  # preset / demo / official / timm / torchvision / huggingface / swin-gui
    source: str
    random_weights: bool
    class_names: tuple[str, ...] = ()


def resolve_device(device: str | torch.device | None) -> torch.device:
    """'auto' picks CUDA when available; 'cuda' without CUDA is an error with one line."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available; use --device cpu")
    return dev


def load_model(path_or_preset: str | Path = "demo", device: str | None = "cpu") -> SwinTransformer:
    """A ready-to-run SwinTransformer in eval mode, with `.info` (a ModelInfo).

    `path_or_preset` is "demo" (the bundled model), a timm-style preset name (random
    weights, labelled as such), a checkpoint file, a Hugging Face model directory, or
    "hf-hub:<repo id>" (opt-in download; a clear one-line error when offline).
    """
    name = str(path_or_preset)
    if name in PRESETS:
        from .model.checkpoints.labels import resolve_class_names

        torch.manual_seed(0)
        cfg = preset(name)
        model = SwinTransformer(cfg)
        names = resolve_class_names((), cfg.num_classes)
        info = ModelInfo(f"{name} (random weights)", "preset", name, True, names)
    elif name.startswith(HUB_PREFIX):  # opt-in: needs network or a filled local cache
        from .model.checkpoints.hub import load_from_hub

        loaded = load_from_hub(name[len(HUB_PREFIX) :])
        model = loaded.model
        info = ModelInfo(name, loaded.format, name, False, tuple(loaded.class_names))
    else:
        from .model.checkpoints import load_checkpoint

        path = DEMO_MODEL if name == "demo" else Path(name).expanduser()
        loaded = load_checkpoint(path)
        model = loaded.model
        label = "swin-demo (shapes)" if name == "demo" else path.name
        fmt = "demo" if name == "demo" else loaded.format
        info = ModelInfo(label, fmt, str(path), False, tuple(loaded.class_names))
    model.info = info
    return model.eval().to(resolve_device(device))


def model_info(model: torch.nn.Module) -> ModelInfo:
    """`model.info` as `load_model` set it; for any other module, a label and the class names
    its config carries."""
    info = getattr(model, "info", None)
    cfg = getattr(model, "cfg", None)
    names = tuple(getattr(cfg, "class_names", ()) or ())
    return info or ModelInfo(
        getattr(cfg, "name", "") or type(model).__name__, "module", "", False, names
    )


def _prepare(
    model: SwinTransformer, image: Any, size: str | int
) -> tuple[torch.Tensor, np.ndarray, dict]:
    """(normalised (1,3,H,W) tensor, RGB uint8 image, preprocessing meta)."""
    cfg: SwinConfig = model.cfg
    if isinstance(image, torch.Tensor):
        x = image if image.dim() == 4 else image[None]
        mean, std = torch.tensor(cfg.mean)[:, None, None], torch.tensor(cfg.std)[:, None, None]
        rgb = ((x[0].cpu() * std + mean).clamp(0, 1) * 255).round().byte().permute(1, 2, 0)
        return x.float(), rgb.numpy(), {"size": "tensor", "source": "tensor"}
    from .images import load_image, to_model_input

    source = str(image) if isinstance(image, (str, Path)) else type(image).__name__
    img = load_image(image)
    x, rgb = to_model_input(img, cfg, size)
    meta = {
        "size": str(size),
        "source": source,
        "original_size": list(img.size),
        "mean": list(cfg.mean),
        "std": list(cfg.std),
    }
    return x, rgb, meta


@torch.no_grad()
def capture(
    model: SwinTransformer,
    image: Any,
    size: str | int = "model",
    *,
    progress=None,
    should_cancel=None,
) -> Trace:
    """Run `model` on one image with capture on and return the frozen `Trace`.

    `image` is a path, a PIL image, or a normalised (1,3,H,W) tensor. `size` is "model"
    (resize to the model's input size), "native" (own resolution) or an int N (N x N).
    `progress(done, total)` is called between stages; `should_cancel()` aborts the pass
    with `CaptureCancelled`.
    """
    x, rgb, meta = _prepare(model, image, size)
    device = next(model.parameters()).device
    rec = Recorder(progress=progress, should_cancel=should_cancel)
    model(x.to(device), rec)
    info = model_info(model)
    meta.update(
        model=info.label, format=info.format, random_weights=info.random_weights, device=str(device)
    )
    return trace_from_record(rec.data, model.cfg, x, rgb, info.class_names, meta)


@torch.no_grad()
def ablate_shift(
    model: SwinTransformer, trace: Trace, stage: int, block: int, shift: int = 0
) -> np.ndarray:
    """Re-run one block from its recorded input with the shift forced to `shift`
    (0 = SW-MSA without the shift). Returns the block output (H, W, C)."""
    device = next(model.parameters()).device
    x = torch.from_numpy(trace.block_input(stage, block))[None].to(device)  # 1, H, W, C
    out = model.layers[stage].blocks[block](x, None, shift=shift)
    return out[0].float().cpu().numpy()


def describe_model(model) -> list[tuple[str, str]]:
    """(field, value) rows describing a model: what `swin-gui inspect` prints."""
    from .model.cost import count_params, format_macs, macs, macs_by_group, token_grids

    cfg, info = model.cfg, model_info(model)
    params = count_params(model)
    groups = macs_by_group(macs(cfg, cfg.img_size, cfg.img_size))
    grids = token_grids(cfg, cfg.img_size, cfg.img_size)
    shown = ", ".join(info.class_names[:3]) + (", ..." if len(info.class_names) > 3 else "")
    names = f"names: {shown}" if info.class_names else "no class names"
    rows = [
        ("model", info.label),
        ("format", info.format),
        ("weights", "random init (no checkpoint)" if info.random_weights else "from checkpoint"),
        ("source", info.source or "-"),
        (
            "architecture",
            f"Swin v{cfg.version}, patch {cfg.patch_size}, window M={cfg.window_size}, "
            f"embed_dim C={cfg.embed_dim}, mlp_ratio {cfg.mlp_ratio:g}",
        ),
        ("depths", ", ".join(map(str, cfg.depths))),
        ("heads", ", ".join(map(str, cfg.num_heads))),
        ("stages", ", ".join(f"{h}×{w}·{cfg.stage_dim(s)}" for s, (h, w) in enumerate(grids))),
        ("classes", f"{cfg.num_classes} ({names})" if cfg.num_classes else "0 (no head)"),
        ("input size", f"{cfg.img_size}×{cfg.img_size}"),
        ("parameters", f"{params / 1e6:.2f} M ({params:,})"),
        ("MACs", f"{format_macs(groups['total'])} at {cfg.img_size}×{cfg.img_size}"),
    ]
    if cfg.version == 2:
        rows.insert(6, ("pretrained windows", ", ".join(map(str, cfg.pretrained_window_sizes))))
    detail = [k for k in groups if k != "total" and groups[k]]
    rows += [(f"  {k.replace('_', ' ')}", format_macs(groups[k])) for k in detail]
    return rows
