"""The Python API: load a model (preset, checkpoint, HF directory or the bundled demo),
capture a `Trace` of one image, and re-run a block as an ablation.

    model = swin_gui.load_model("demo")
    trace = swin_gui.capture(model, "assets/samples/star_224.png")
    swin_gui.save_npz(trace, "trace.npz")   # swin_gui.load_npz reads it back
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .i18n import num, tr
from .inputs import ModelInfo, model_info, prepare_input
from .model import PRESETS, Recorder, SwinTransformer, preset
from .trace import Trace
from .trace_io import load_npz, save_npz, trace_from_record

__all__ = [
    "ModelInfo",
    "ablate_shift",
    "capture",
    "describe_model",
    "load_model",
    "load_npz",
    "model_info",
    "resolve_device",
    "save_npz",
]

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEMO_MODEL = ASSETS / "demo" / "swin_demo.safetensors"
HUB_PREFIX = "hf-hub:"  # e.g. "hf-hub:microsoft/swin-tiny-patch4-window7-224"
BIG_INPUT_PIXELS = 1 << 20  # a trace of a larger input returns its heap to the OS when freed


def resolve_device(device: str | torch.device | None) -> torch.device:
    """'auto' picks CUDA when available; 'cuda' without CUDA is an error with one line."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(tr("CLI", "--device cuda: no CUDA device is available (use --device cpu)"))
    return dev


def load_model(
    path_or_preset: str | Path = "demo", device: str | None = "cpu", key: str | None = None
) -> SwinTransformer:
    """A ready-to-run SwinTransformer in eval mode, with `.info` (a ModelInfo).

    `path_or_preset` is "demo" (the bundled model), a timm-style preset name (random
    weights, labelled as such), a checkpoint file, a Hugging Face model directory, or
    "hf-hub:<repo id>" (opt-in download; a clear one-line error when offline). `key`
    chooses the state dict inside a wrapper (e.g. "state_dict" over "state_dict_ema").
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
        loaded = load_checkpoint(path, key=key)
        model = loaded.model
        label = "swin-demo (shapes)" if name == "demo" else path.name
        fmt = "demo" if name == "demo" else loaded.format
        info = ModelInfo(label, fmt, str(path), False, tuple(loaded.class_names))
    if name not in PRESETS:
        report = loaded.report
        info = replace(
            info,
            warnings=report.warnings,
            no_head_reason=report.no_head_reason,
            report=report,
        )
    model.info = info
    return model.eval().to(resolve_device(device))


@torch.no_grad()
def capture(
    model: SwinTransformer,
    image: Any,
    size: str | int = "model",
    *,
    fit: str | None = None,
    eager: bool = False,
    progress=None,
    should_cancel=None,
    meta: Mapping[str, Any] | None = None,
) -> Trace:
    """Run `model` on one image with capture on and return the frozen `Trace`.

    `image` is a path, a PIL image, or a normalised (1,3,H,W) tensor. `size` is "model"
    (the model's input size), "native" (own resolution) or an int N (N x N). `fit` says
    how a non-square image meets a square size: "crop" (resize the shorter side, centre
    crop, as timm's eval transform), "pad" (letterbox) or "stretch"; None is the
    checkpoint's convention (`preprocess.default_fit`). `trace.meta` records it ("fit",
    "crop_box" in original pixels, "pad" in model pixels).

    The capture is one plain forward pass that records every block's input; a block's
    `attn`, `bias` and `mask` are computed when first read (and cached, bounded in bytes).
    `eager=True` computes every block's attention during the pass instead.
    `progress(done, total)` is called between stages; `should_cancel()` aborts the pass
    with `CaptureCancelled`. `meta` is recorded in `trace.meta` over what the capture
    writes there itself (the trace is frozen: nothing is added afterwards).
    """
    from .model.ondemand import OnDemand, snapshot

    meta_in, (x, rgb, meta) = meta, prepare_input(model, image, size, fit)
    device = next(model.parameters()).device
    rec = Recorder(attention=eager, mid=eager, progress=progress, should_cancel=should_cancel)
    model(x.to(device), rec)
    source = None if eager else OnDemand(snapshot(model), device)
    return _trace(model, rec.to_host(), x, rgb, meta, source, meta_in)


def _trace(model, data: dict, x, rgb, meta: dict, source, meta_in=None) -> Trace:
    """The frozen Trace of one image from its host-side record, meta completed (the
    caller's `meta_in` last)."""
    from .model.ondemand import trim_heap_soon

    info = model_info(model)
    device = next(model.parameters()).device
    meta.update(
        model=info.label, format=info.format, random_weights=info.random_weights, device=str(device)
    )
    if getattr(info, "no_head_reason", None):  # a detector's backbone: why there is no top-5
        meta["no_head_reason"] = info.no_head_reason
    if getattr(info, "warnings", ()):  # e.g. NaN/Inf weights: the app shows a banner
        meta["warnings"] = list(info.warnings)
    meta.update(meta_in or {})
    trace = trace_from_record(data, model.cfg, x, rgb, info.class_names, meta, source)
    if x.shape[-2] * x.shape[-1] > BIG_INPUT_PIXELS:  # hand its memory back when dropped
        weakref.finalize(trace, trim_heap_soon)
    return trace


@torch.no_grad()
def ablate_shift(
    model: SwinTransformer, trace: Trace, stage: int, block: int, shift: int = 0
) -> np.ndarray:
    """Re-run one block from its recorded input with the shift forced to `shift`
    (0 = SW-MSA without the shift). Returns the block output (H, W, C)."""
    device = next(model.parameters()).device
    x = torch.tensor(trace.block_input(stage, block))[None].to(device)  # 1, H, W, C
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
    names = tr("Inspect", "names: {shown}", shown=shown) if info.class_names else ""
    if cfg.num_classes:
        classes = f"{cfg.num_classes} ({names or tr('Inspect', 'no class names')})"
    else:
        why = info.no_head_reason or tr("Inspect", "headless model")
        classes = tr("Inspect", "0 (no head: {why})", why=why)
    if info.random_weights:
        weights = tr("Inspect", "random init (no checkpoint)")
    else:
        weights = tr("Inspect", "from checkpoint")
    architecture = tr(
        "Inspect",
        "Swin v{v}, patch {p}, window M={m}, embed_dim C={c}, mlp_ratio {r}",
        v=cfg.version,
        p=cfg.patch_size,
        m=cfg.window_size,
        c=cfg.embed_dim,
        r=num(cfg.mlp_ratio, "g"),
    )
    size = f"{cfg.img_size}×{cfg.img_size}"
    params_text = f"{num(params / 1e6, '.2f')} M ({num(params, ',')})"
    rows = [
        (tr("Inspect", "model"), info.label),
        (tr("Inspect", "format"), info.format),
        (tr("Inspect", "weights"), weights),
        (tr("Inspect", "source"), info.source or "-"),
        (tr("Inspect", "architecture"), architecture),
        (tr("Inspect", "depths"), ", ".join(map(str, cfg.depths))),
        (tr("Inspect", "heads"), ", ".join(map(str, cfg.num_heads))),
        (
            tr("Inspect", "stages"),
            ", ".join(f"{h}×{w}·{cfg.stage_dim(s)}" for s, (h, w) in enumerate(grids)),
        ),
        (tr("Inspect", "classes"), classes),
        (tr("Inspect", "input size"), size),
        (tr("Inspect", "parameters"), params_text),
        ("MACs", tr("Inspect", "{macs} at {size}", macs=format_macs(groups["total"]), size=size)),
    ]
    if cfg.version == 2:
        rows.insert(
            6,
            (tr("Inspect", "pretrained windows"), ", ".join(map(str, cfg.pretrained_window_sizes))),
        )
    detail = [k for k in groups if k != "total" and groups[k]]
    group_names = {
        "patch_embed": tr("Inspect", "patch embed"),
        "attention": tr("Inspect", "attention"),
        "window_products": tr("Inspect", "window products"),
        "mlp": "mlp",
        "merge": tr("Inspect", "merge"),
        "norm": tr("Inspect", "norm"),
        "head": tr("Inspect", "head"),
    }
    rows += [
        (f"  {group_names.get(k, k.replace('_', ' '))}", format_macs(groups[k])) for k in detail
    ]
    if info.report is not None:
        from .model.checkpoints.describe import report_rows

        rows += report_rows(info.report)
    return rows
