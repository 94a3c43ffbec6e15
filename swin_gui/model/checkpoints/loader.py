"""`load_checkpoint` / `save_checkpoint`: read any supported Swin checkpoint, detect its
layout, rename it to ours, build the architecture and load every weight strictly.

Our own "swin-gui" format is a safetensors file whose metadata carries
`swin_gui.config` (JSON of `SwinConfig.to_dict()`) and `swin_gui.class_names` (JSON list).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes

from ...export import atomic_write
from ..config import SwinConfig
from ..swin import SwinTransformer
from .base import (
    CheckpointError,
    LoadedCheckpoint,
    StateDict,
    describe,
    embed_small_tables,
    few,
    strip_buffers,
)
from .detect import detect_format
from .huggingface import WEIGHT_FILES, hf_to_timm, read_hf_directory, read_json, read_weights
from .infer import infer_config
from .labels import resolve_class_names
from .official import official_to_timm, timm_to_timm
from .safe_io import read_tensors
from .torchvision_format import torchvision_to_timm

CONFIG_KEY, NAMES_KEY = "swin_gui.config", "swin_gui.class_names"
CONVERTERS = {
    "official": official_to_timm,
    "timm": timm_to_timm,
    "torchvision": torchvision_to_timm,
    "huggingface": hf_to_timm,
}


def load_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Load a Swin checkpoint file or Hugging Face directory into an eval-mode CPU model.

    Raises:
        CheckpointError: one line naming the problem (missing path, unreadable or unsafe
            file, not a Swin checkpoint, or weights that do not fit the architecture).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError(f"no such file or directory: {path}")
    if path.is_dir():
        return _load_directory(path)
    if _has_swin_config_beside(path):  # model.safetensors picked inside a HF / timm folder
        return _load_directory(path.parent)
    state_dict, metadata = read_tensors(path)
    if CONFIG_KEY in metadata:
        return _load_swin_gui(path, state_dict, metadata)
    return load_state_dict(state_dict, source=str(path), name_hint=_name_hint(path))


def load_state_dict(
    state_dict: StateDict,
    source: str = "state dict",
    name_hint: str | None = None,
    class_names: Sequence[str] = (),
) -> LoadedCheckpoint:
    """Detect, convert, infer the architecture of and strictly load an in-memory state dict."""
    fmt = detect_format(state_dict, Path(source).name)
    converted = CONVERTERS[fmt](state_dict)
    cfg = infer_config(converted, name_hint=name_hint)
    if cfg.version == 1:
        converted = embed_small_tables(converted, cfg.window_size)
    if fmt == "torchvision" and cfg.name.startswith("swin"):
        cfg = cfg.with_(name=f"torchvision-{cfg.name}")
    return build(cfg, converted, fmt, source, class_names)


def build(
    cfg: SwinConfig, state_dict: StateDict, fmt: str, source: str, class_names: Sequence[str] = ()
) -> LoadedCheckpoint:
    """Construct `SwinTransformer(cfg)` and load `state_dict` into it with no key left over,
    missing or mis-shaped."""
    state_dict = strip_buffers(state_dict)
    with torch.device("meta"):  # shapes only: skips initialising weights we overwrite
        model = SwinTransformer(cfg)
    check_fit(model, state_dict, fmt, cfg)
    owned = {k: v.detach().to(torch.float32, copy=True) for k, v in state_dict.items()}
    model.load_state_dict(owned, strict=True, assign=True)
    if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        model = SwinTransformer(cfg)  # a non-persistent buffer needs a real build
        model.load_state_dict(owned, strict=True)
    model.eval()
    names = resolve_class_names(class_names, cfg.num_classes)
    cfg = cfg.with_(class_names=names)
    model.cfg = cfg
    return LoadedCheckpoint(model, cfg, fmt, source, names)


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
            f"{fmt} checkpoint does not fit the inferred {describe(cfg)}: {'; '.join(problems)}"
        )


def _load_directory(path: Path) -> LoadedCheckpoint:
    config_path = path / "config.json"
    if not config_path.is_file():
        raise CheckpointError(f"{path} is a directory without config.json (not a HF checkpoint)")
    config = read_json(config_path)
    if "architecture" in config and "model_type" not in config:
        return _load_timm_hub_directory(path, config)
    state_dict, cfg, names = read_hf_directory(path)
    return build(cfg, state_dict, "huggingface", str(path), names)


def _has_swin_config_beside(path: Path) -> bool:
    """A weights file whose folder's config.json describes a Swin (HF) or timm model."""
    config_path = path.parent / "config.json"
    if path.name not in WEIGHT_FILES or not config_path.is_file():
        return False
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if not isinstance(config, dict):
        return False
    return config.get("model_type") in ("swin", "swinv2") or "architecture" in config


def _load_timm_hub_directory(path: Path, config: dict) -> LoadedCheckpoint:
    """A timm hub snapshot: config.json {"architecture", "pretrained_cfg"} + weights."""
    state_dict = read_weights(path)
    pretrained = config.get("pretrained_cfg") or {}
    names = config.get("label_names") or pretrained.get("label_names") or ()
    loaded = load_state_dict(state_dict, str(path), str(config["architecture"]), names)
    mean, std = pretrained.get("mean"), pretrained.get("std")
    if mean and std and len(mean) == len(std) == 3:
        cfg = loaded.config.with_(mean=tuple(map(float, mean)), std=tuple(map(float, std)))
        loaded.model.cfg = cfg
        loaded = LoadedCheckpoint(
            loaded.model, cfg, loaded.format, loaded.source, loaded.class_names
        )
    return loaded


def _load_swin_gui(path: Path, state_dict: StateDict, metadata: dict[str, str]) -> LoadedCheckpoint:
    try:
        fields = json.loads(metadata[CONFIG_KEY])
        names = json.loads(metadata.get(NAMES_KEY, "[]"))
        for key, value in fields.items():
            fields[key] = tuple(value) if isinstance(value, list) else value
        cfg = SwinConfig(**fields)
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path.name}: damaged swin-gui metadata ({exc})") from None
    return build(cfg, state_dict, "swin-gui", str(path), [str(n) for n in names])


def _name_hint(path: Path) -> str:
    """The file stem, or the folder name for generic names like model.safetensors."""
    generic = {"model", "pytorch_model", "checkpoint", "weights", "best", "last"}
    return path.parent.name if path.stem.lower() in generic else path.stem


def save_checkpoint(
    model: SwinTransformer, path: str | Path, class_names: Sequence[str] = ()
) -> None:
    """Write `model` in the "swin-gui" safetensors format, atomically (temp file + rename;
    an existing file is replaced)."""
    path = Path(path)
    names = list(class_names) or list(model.cfg.class_names)
    if names and len(names) != model.cfg.num_classes:
        raise CheckpointError(f"{len(names)} class names for a {model.cfg.num_classes}-class head")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {CONFIG_KEY: json.dumps(model.cfg.to_dict()), NAMES_KEY: json.dumps(names)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(safetensors_bytes(tensors, metadata)), overwrite=True)


__all__ = ["build", "check_fit", "load_checkpoint", "load_state_dict", "save_checkpoint"]
