"""`load_object` / `save_checkpoint`: read any supported Swin checkpoint object, find the
state dict in its wrapper, detect its layout, rename it to ours, build the architecture and load
every weight strictly. What was decided on the way is kept in `LoadedCheckpoint.report`.

Our own "swin-gui" format is a safetensors file whose metadata carries
`swin_gui.config` (JSON of `SwinConfig.to_dict()`) and `swin_gui.class_names` (JSON list).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes

from ...i18n import tr
from ...safe_write import atomic_write
from ..config import SwinConfig
from ..swin import SwinTransformer
from .base import (
    CheckpointError,
    LoadedCheckpoint,
    LoadReport,
    StateDict,
    describe,
    embed_small_tables,
    few,
    prefix_summary,
    strip_buffers,
)
from .detect import detect_format
from .ecosystem import fold_out_norms, refuse_variants, split_backbone
from .huggingface import hf_to_timm
from .infer import infer_config
from .labels import resolve_class_names
from .official import official_to_timm, timm_to_timm
from .openmmlab import is_openmmlab, openmmlab_to_timm
from .torchvision_format import torchvision_to_timm
from .wrappers import (
    EMA_KEYS,
    choose_state_dict,
    rank,
    strip_prefixes,
    to_tensors,
    wrapper_label,
)

CONFIG_KEY, NAMES_KEY = "swin_gui.config", "swin_gui.class_names"
CONVERTERS = {
    "official": official_to_timm,
    "timm": timm_to_timm,
    "torchvision": torchvision_to_timm,
    "huggingface": hf_to_timm,
    "openmmlab": openmmlab_to_timm,
}
ECOSYSTEMS = {
    "official": "microsoft/Swin-Transformer",
    "timm": "timm",
    "torchvision": "torchvision",
    "huggingface": "Hugging Face transformers",
    "openmmlab": "mmpretrain",
    "swin-gui": "swin-gui",
}
FLOAT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)
HEADLESS = ("mmdetection", "mmsegmentation", "detectron2", "detection framework")


def load_object(
    obj: object,
    source: str,
    name_hint: str | None = None,
    key: str | None = None,
    skipped: Sequence[str] = (),
    class_names: Sequence[str] = (),
) -> LoadedCheckpoint:
    """Load what a training script saved: choose the state dict in its wrapper, strip the
    wrapper prefixes, then `load_state_dict`."""
    name = Path(source).name
    inner, chosen, candidates = choose_state_dict(obj, name, key)
    state_dict, prefixes = strip_prefixes(to_tensors(inner, name), name)
    notes = []
    others = [c for c in candidates if c not in (chosen, "") and rank(c) is not None]
    if key is None and any(p in EMA_KEYS for p in chosen.split(".")) and others:
        notes.append(f"EMA weights {chosen!r} chosen over {', '.join(map(repr, others[:3]))}")
    report = LoadReport(
        wrapper=wrapper_label(obj, chosen) if isinstance(obj, Mapping) else "bare state dict",
        key=chosen,
        candidates=candidates,
        prefixes=prefixes,
        skipped_objects=tuple(skipped),
        notes=tuple(notes),
    )
    if isinstance(obj, Mapping) and "matching_heuristics" in obj:
        report = replace(report, ecosystem="detectron2")
    return load_state_dict(state_dict, source, name_hint, class_names, report)


def load_state_dict(
    state_dict: StateDict,
    source: str = "state dict",
    name_hint: str | None = None,
    class_names: Sequence[str] = (),
    report: LoadReport | None = None,
) -> LoadedCheckpoint:
    """Detect, convert, infer the architecture of and strictly load an in-memory state dict
    (a detector's or segmenter's backbone is taken from under `backbone.`)."""
    name = Path(source).name
    report = report or LoadReport()
    refuse_variants(state_dict, name)
    backbone, ignored, ecosystem = split_backbone(state_dict)
    fmt = "openmmlab" if is_openmmlab(backbone) else detect_format(backbone, name)
    converted, dropped, note = fold_out_norms(CONVERTERS[fmt](backbone))
    cfg = infer_config(converted, name_hint=name_hint)
    if cfg.version == 1:
        converted = embed_small_tables(converted, cfg.window_size)
    if fmt == "torchvision" and cfg.name.startswith("swin"):
        cfg = cfg.with_(name=f"torchvision-{cfg.name}")
    ecosystem = ecosystem or report.ecosystem or ECOSYSTEMS[fmt]
    report = replace(
        report,
        ecosystem=ecosystem,
        ignored=tuple(ignored) + dropped,
        notes=report.notes + ((note,) if note else ()),
    )
    if ignored:
        line = f"backbone loaded; ignored {prefix_summary(ignored)}"
        report = replace(report, notes=(*report.notes, line))
    return build(cfg, converted, fmt, source, class_names, report)


def build(
    cfg: SwinConfig,
    state_dict: StateDict,
    fmt: str,
    source: str,
    class_names: Sequence[str] = (),
    report: LoadReport | None = None,
) -> LoadedCheckpoint:
    """Construct `SwinTransformer(cfg)` and load `state_dict` into it with no key left over,
    missing or mis-shaped; non-float weights are refused and non-finite ones reported."""
    report = report or LoadReport(ecosystem=ECOSYSTEMS.get(fmt, fmt))
    state_dict = strip_buffers(state_dict)
    with torch.device("meta"):  # shapes only: skips initialising weights we overwrite
        model = SwinTransformer(cfg)
    check_fit(model, state_dict, fmt, cfg)
    dtypes = check_dtypes(state_dict, Path(source).name)
    owned = {k: v.detach().to(torch.float32, copy=True) for k, v in state_dict.items()}
    model.load_state_dict(owned, strict=True, assign=True)
    if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        model = SwinTransformer(cfg)  # a non-persistent buffer needs a real build
        model.load_state_dict(owned, strict=True)
    model.eval()
    names = resolve_class_names(class_names, cfg.num_classes)
    cfg = cfg.with_(class_names=names)
    model.cfg = cfg
    report = replace(
        report,
        dtypes=dtypes,
        warnings=report.warnings + non_finite_warnings(owned),
        no_head_reason="" if cfg.num_classes else no_head_reason(report.ecosystem),
    )
    return LoadedCheckpoint(model, cfg, fmt, source, names, report)


def check_dtypes(state_dict: StateDict, name: str) -> tuple[str, ...]:
    """The floating dtypes present; CheckpointError naming the keys of any other dtype
    (bool, integer, complex weights would be silently cast to float otherwise)."""
    bad = {k: v.dtype for k, v in state_dict.items() if v.dtype not in FLOAT_DTYPES}
    if bad:
        kinds = ", ".join(sorted({str(d).replace("torch.", "") for d in bad.values()}))
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} has non-float weights ({kinds}): {keys}",
                name=name,
                kinds=kinds,
                keys=few(bad),
            )
        )
    return tuple(sorted({str(v.dtype).replace("torch.", "") for v in state_dict.values()}))


def non_finite_warnings(state_dict: StateDict) -> tuple[str, ...]:
    """One warning naming the tensors that hold NaN or Inf, or none."""
    bad = [k for k, v in state_dict.items() if v.numel() and not bool(torch.isfinite(v).all())]
    if not bad:
        return ()
    return (f"non-finite weights (NaN or Inf) in {len(bad)} tensor(s): {few(bad)}",)


def no_head_reason(ecosystem: str) -> str:
    if ecosystem in HEADLESS:
        return f"{ecosystem} backbone: a detector or segmenter has no classification head"
    return "the checkpoint has no classification head (a backbone or feature extractor)"


def check_fit(model: SwinTransformer, state_dict: StateDict, fmt: str, cfg: SwinConfig) -> None:
    """CheckpointError naming the missing, unexpected and mis-shaped keys, if any."""
    expected = model.state_dict()
    missing = expected.keys() - state_dict.keys()
    unexpected = state_dict.keys() - expected.keys()
    misshaped = [
        f"{k} {tuple(state_dict[k].shape)} vs {tuple(expected[k].shape)}"
        for k in expected.keys() & state_dict.keys()
        if state_dict[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {few(missing)}")
    if unexpected:
        problems.append(f"unexpected {few(unexpected)}")
    if misshaped:
        problems.append(f"wrong shape {few(misshaped, 2)}")
    if problems:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{fmt} checkpoint does not fit the inferred {describe}: {problems}",
                fmt=fmt,
                describe=describe(cfg),
                problems="; ".join(problems),
            )
        )


def save_checkpoint(
    model: SwinTransformer,
    path: str | Path,
    class_names: Sequence[str] = (),
    overwrite: bool = False,
) -> None:
    """Write `model` in the "swin-gui" safetensors format, atomically (temp file + rename);
    an existing file is refused unless `overwrite` (the one default of every writer)."""
    path = Path(path)
    names = list(class_names) or list(model.cfg.class_names)
    if names and len(names) != model.cfg.num_classes:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{n} class names for a {num_classes}-class head",
                n=len(names),
                num_classes=model.cfg.num_classes,
            )
        )
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {CONFIG_KEY: json.dumps(model.cfg.to_dict()), NAMES_KEY: json.dumps(names)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(safetensors_bytes(tensors, metadata)), overwrite)


__all__ = [
    "build",
    "check_fit",
    "load_object",
    "load_state_dict",
    "save_checkpoint",
]
