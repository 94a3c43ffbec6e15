"""`load_checkpoint`, the entry point for a file or a folder, and the checkpoints that come
with a config: Hugging Face folders, timm hub folders
(`config.json` with `architecture`, `num_classes`, `pretrained_cfg`, `model_args`) and our
own swin-gui safetensors (config in the metadata). Every config is validated by `schema`
first; mean/std (and interpolation / crop) come from the checkpoint when it states them,
and the report says where from.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ...i18n import tr
from ..config import SwinConfig
from .base import CheckpointError, LoadedCheckpoint, LoadReport, StateDict
from .huggingface import WEIGHT_FILES, read_hf_directory, read_json, read_weights
from .loader import CONFIG_KEY, NAMES_KEY, build, load_object, load_state_dict
from .safe_io import read_object
from .schema import (
    SWIN_GUI_CONFIG,
    SWIN_GUI_NAMES,
    TIMM_CONFIG,
    TIMM_MODEL_ARGS,
    TIMM_PRETRAINED,
    validate,
)
from .wrappers import strip_prefixes


def load_directory(path: Path) -> LoadedCheckpoint:
    """A HF folder (config.json with model_type) or a timm hub folder (architecture)."""
    config_path = path / "config.json"
    if not config_path.is_file():
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{path} is a directory without config.json (not a HF checkpoint)",
                path=path,
            )
        )
    config = read_json(config_path)
    if "architecture" in config and "model_type" not in config:
        return _load_timm_hub_directory(path, validate(config, TIMM_CONFIG, "config.json"))
    state_dict, cfg, names, preprocessing = read_hf_directory(path)
    report = LoadReport(ecosystem="Hugging Face transformers", wrapper="folder", **preprocessing)
    return build(cfg, state_dict, "huggingface", str(path), names, report)


def has_swin_config_beside(path: Path) -> bool:
    """A weights file whose folder's config.json describes a Swin (HF) or timm model."""
    config_path = path.parent / "config.json"
    if path.name not in WEIGHT_FILES or not config_path.is_file():
        return False
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False
    if not isinstance(config, dict):
        return False
    return config.get("model_type") in ("swin", "swinv2") or "architecture" in config


def _load_timm_hub_directory(path: Path, config: dict) -> LoadedCheckpoint:
    """A timm hub snapshot: config.json {"architecture", "num_classes", "pretrained_cfg",
    "model_args"} + timm-layout weights."""
    pretrained = validate(config.get("pretrained_cfg") or {}, TIMM_PRETRAINED, "config.json")
    model_args = validate(config.get("model_args") or {}, TIMM_MODEL_ARGS, "config.json")
    state_dict, prefixes = strip_prefixes(read_weights(path), path.name)
    names = config.get("label_names") or pretrained.get("label_names") or ()
    arch = config["architecture"]
    window = model_args.get("window_size")
    hint = arch if window is None or "window" in arch else f"{arch}_window{_first(window)}"
    report = LoadReport(ecosystem="timm (hub folder)", wrapper="folder", prefixes=prefixes)
    loaded = load_state_dict(state_dict, str(path), hint, names, report)
    cfg = loaded.config
    if "num_classes" in config and config["num_classes"] != cfg.num_classes:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "config.json: field 'num_classes' is {config_classes} but the weights have a "
                "{num_classes}-class head",
                config_classes=config["num_classes"],
                num_classes=cfg.num_classes,
            )
        )
    size = model_args.get("img_size") or (pretrained.get("input_size") or [0, 0])[1]
    if size:
        cfg = cfg.with_(img_size=_first(size))
    changes = {"preprocessing": "ImageNet defaults (pretrained_cfg states no mean/std)"}
    if "mean" in pretrained and "std" in pretrained:
        cfg = cfg.with_(mean=tuple(map(float, pretrained["mean"])))
        cfg = cfg.with_(std=tuple(map(float, pretrained["std"])))
        changes["preprocessing"] = "pretrained_cfg in config.json (mean, std)"
    if "interpolation" in pretrained:
        changes["interpolation"] = pretrained["interpolation"]
    if "crop_pct" in pretrained:
        changes["crop_pct"] = float(pretrained["crop_pct"])
    loaded.model.cfg = cfg
    return replace(loaded, config=cfg, report=replace(loaded.report, **changes))


def _first(value) -> int:
    return int(value[0] if isinstance(value, list) else value)


def load_swin_gui(path: Path, state_dict: object, metadata: dict[str, str]) -> LoadedCheckpoint:
    """Our own safetensors: the config and class names are in the metadata."""
    what = f"{path.name} swin-gui metadata"
    try:
        fields = json.loads(metadata[CONFIG_KEY])
        names = json.loads(metadata.get(NAMES_KEY, "[]"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "{name}: damaged swin-gui metadata ({exc})", name=path.name, exc=exc)
        ) from None
    validate(fields, SWIN_GUI_CONFIG, what)
    if why := SWIN_GUI_NAMES.problem(names):
        raise CheckpointError(tr("Checkpoints", "{what}: class names {why}", what=what, why=why))
    unknown = sorted(set(fields) - set(SWIN_GUI_CONFIG))
    if unknown:
        raise CheckpointError(
            tr("Checkpoints", "{what}: unknown field {v!r}", what=what, v=unknown[0])
        )
    try:
        cfg = SwinConfig.from_dict(fields)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "{what} is inconsistent: {exc}", what=what, exc=exc)
        ) from None
    sd: StateDict = dict(state_dict)  # type: ignore[arg-type]
    report = LoadReport(ecosystem="swin-gui", preprocessing="swin-gui metadata (mean, std)")
    return build(cfg, sd, "swin-gui", str(path), [str(n) for n in names], report)


def _name_hint(path: Path) -> str:
    """The file stem, or the folder name for generic names like model.safetensors."""
    generic = {"model", "pytorch_model", "checkpoint", "weights", "best", "last"}
    return path.parent.name if path.stem.lower() in generic else path.stem


def load_checkpoint(path: str | Path, key: str | None = None) -> LoadedCheckpoint:
    """Load a Swin checkpoint file or Hugging Face / timm directory into an eval-mode CPU
    model.

    Args:
        path: the file or folder.
        key: the state dict to use inside a wrapper (e.g. "state_dict" when the file also
            holds "state_dict_ema"); by default the rule in `wrappers` chooses.
    Raises:
        CheckpointError: one line naming the problem (missing path, unreadable or unsafe
            file, not a Swin checkpoint, or weights that do not fit the architecture).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError(tr("Checkpoints", "no such file or directory: {path}", path=path))
    if path.is_dir() or has_swin_config_beside(path):  # a HF / timm folder, or its weights
        if key is not None:
            raise CheckpointError(
                tr(
                    "Checkpoints",
                    "--key {key!r} applies to a checkpoint file, not a folder",
                    key=key,
                )
            )
        return load_directory(path if path.is_dir() else path.parent)
    obj, metadata, skipped = read_object(path)
    if CONFIG_KEY in metadata:
        return load_swin_gui(path, obj, metadata)
    return load_object(obj, str(path), name_hint=_name_hint(path), key=key, skipped=skipped)
