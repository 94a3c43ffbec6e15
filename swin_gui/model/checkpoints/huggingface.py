"""Hugging Face transformers checkpoints (`SwinForImageClassification`,
`Swinv2ForImageClassification`, or the bare `SwinModel` / `Swinv2Model`).

A checkpoint is a directory with `config.json` and `model.safetensors` (or
`pytorch_model.bin`, or sharded with an `*.index.json`). Keys carry a `swin.` / `swinv2.`
prefix (none for a bare model). HF merges patches at the END of a stage, like the official
code. Attention comes in two spellings, both accepted:
- on disk (and transformers < 5): `attention.self.{query,key,value}`,
  `attention.output.dense`, `intermediate.dense`, `output.dense`;
- transformers >= 5 in memory: `attention.{q,k,v,o}_proj`, `mlp.fc1` / `mlp.fc2`,
  `attention.relative_position_bias.relative_position_bias_table`.
q, k and v are separate Linears: we concatenate them into `attn.qkv`. v2 has no key bias;
its q and v biases become `q_bias` / `v_bias`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

import torch

from ...i18n import tr
from ..config import IMAGENET_MEAN, IMAGENET_STD, SwinConfig
from .base import CheckpointError, StateDict
from .safe_io import read_tensors
from .schema import HF_CONFIG, HF_PREPROCESSOR, WEIGHT_INDEX, validate

# PIL's resample codes, as HF image processors store them.
PIL_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_PREFIX = re.compile(r"^(?:swin|swinv2)\.")
_BLOCK = re.compile(r"^encoder\.layers\.(\d+)\.blocks\.(\d+)\.(.*)$")
_DOWNSAMPLE = re.compile(r"^encoder\.layers\.(\d+)\.downsample\.(.*)$")
_BLOCK_RENAMES = (  # (HF spelling, ours); "__q/__k/__v" are fused into qkv afterwards
    ("layernorm_before.", "norm1."),
    ("layernorm_after.", "norm2."),
    ("attention.self.query.", "attn.__q."),
    ("attention.self.key.", "attn.__k."),
    ("attention.self.value.", "attn.__v."),
    ("attention.q_proj.", "attn.__q."),
    ("attention.k_proj.", "attn.__k."),
    ("attention.v_proj.", "attn.__v."),
    ("attention.output.dense.", "attn.proj."),
    ("attention.o_proj.", "attn.proj."),
    ("attention.relative_position_bias.", "attn."),
    ("attention.self.continuous_position_bias_mlp.", "attn.cpb_mlp."),
    ("attention.continuous_position_bias_mlp.", "attn.cpb_mlp."),
    ("attention.self.", "attn."),  # logit_scale, relative_position_bias_table, buffers
    ("attention.", "attn."),
    ("intermediate.dense.", "mlp.fc1."),
    ("output.dense.", "mlp.fc2."),
)
_TOP_RENAMES = (
    ("embeddings.patch_embeddings.projection.", "patch_embed.proj."),
    ("embeddings.norm.", "patch_embed.norm."),
    ("layernorm.", "norm."),
    ("classifier.", "head.fc."),
)


def hf_to_timm(state_dict: StateDict) -> StateDict:
    """Rename HF keys to ours and fuse q/k/v; unknown keys pass through unchanged."""
    renamed = {_rename(key): value for key, value in state_dict.items()}
    return _fuse_qkv(renamed)


def _rename(key: str) -> str:
    bare = _PREFIX.sub("", key)
    if m := _BLOCK.match(bare):
        rest = m.group(3)
        for old, new in _BLOCK_RENAMES:
            if rest.startswith(old):
                rest = new + rest[len(old) :]
                break
        return f"layers.{m.group(1)}.blocks.{m.group(2)}.{rest}"
    if m := _DOWNSAMPLE.match(bare):
        return f"layers.{int(m.group(1)) + 1}.downsample.{m.group(2)}"
    for old, new in _TOP_RENAMES:
        if bare.startswith(old):
            return new + bare[len(old) :]
    return key


def _fuse_qkv(state_dict: StateDict) -> StateDict:
    out = dict(state_dict)
    for q_key in [k for k in state_dict if k.endswith("attn.__q.weight")]:
        attn = q_key[: -len("__q.weight")]
        parts = [out.pop(f"{attn}__{p}.weight", None) for p in "qkv"]
        if any(p is None for p in parts):
            out.update(
                {
                    f"{attn}__{p}.weight": t
                    for p, t in zip("qkv", parts, strict=True)
                    if t is not None
                }
            )
            continue
        out[f"{attn}qkv.weight"] = torch.cat(parts)  # 3C, C
        biases = {p: out.pop(f"{attn}__{p}.bias") for p in "qkv" if f"{attn}__{p}.bias" in out}
        if f"{attn}logit_scale" in out:  # v2: q and v biases only
            if "q" in biases and "v" in biases:
                out[f"{attn}q_bias"], out[f"{attn}v_bias"] = biases.pop("q"), biases.pop("v")
            out.update({f"{attn}__{p}.bias": t for p, t in biases.items()})
        elif len(biases) == 3:
            out[f"{attn}qkv.bias"] = torch.cat([biases[p] for p in "qkv"])  # 3C
        else:
            out.update({f"{attn}__{p}.bias": t for p, t in biases.items()})
    return out


def read_json(path: Path, schema: dict | None = None) -> dict:
    """A JSON object from `path`, validated against `schema` when given."""
    try:
        if path.stat().st_size > 16 * 2**20:
            raise CheckpointError(
                tr("Checkpoints", "{name} is too large for a config file", name=path.name)
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "{name} is not valid JSON: {exc}", name=path.name, exc=exc)
        ) from None
    if not isinstance(data, dict):
        raise CheckpointError(
            tr("Checkpoints", "{name} does not hold a JSON object", name=path.name)
        )
    return validate(data, schema or {}, path.name)


def shard_path(directory: Path, shard: object, index_name: str) -> Path:
    """A shard named by an index, which must be a plain relative name inside `directory`
    (no absolute path, no '..'; a symlink in the folder may point anywhere, as the HF
    cache's do) and a regular file."""
    text = str(shard)
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if (
        not isinstance(shard, str)
        or not text
        or PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or PureWindowsPath(text).drive
        or ".." in parts
    ):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{index_name}: shard {text!r} is not a file inside the folder",
                index_name=index_name,
                text=text,
            )
        )
    path = directory / text
    if not path.is_file():
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{index_name}: shard {text!r} is missing or not a regular file",
                index_name=index_name,
                text=text,
            )
        )
    return path


def read_weights(directory: Path) -> StateDict:
    """All tensors of a HF-style directory: one file or the shards its index lists."""
    for name in WEIGHT_FILES:
        index = directory / f"{name}.index.json"
        if index.is_file():
            weight_map = read_json(index, WEIGHT_INDEX).get("weight_map") or {}
            paths = {shard_path(directory, s, index.name) for s in weight_map.values()}
            out: StateDict = {}
            for path in sorted(paths):
                out.update(read_tensors(path)[0])
            return out
        if (directory / name).is_file():
            return read_tensors(directory / name)[0]
    raise CheckpointError(
        tr(
            "Checkpoints",
            "{name}/ has config.json but no weights ({files})",
            name=directory.name,
            files=" or ".join(WEIGHT_FILES),
        )
    )


def config_from_hf(
    config: dict, state_dict: StateDict, preprocessor: dict | None = None, name: str = ""
) -> SwinConfig:
    """Our SwinConfig from a HF config.json (plus preprocessor_config.json for mean/std);
    the class count comes from the classifier weight (0 when there is none)."""
    model_type = config.get("model_type")
    if model_type not in ("swin", "swinv2"):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "config.json describes a {model_type!r} model, not 'swin'/'swinv2'",
                model_type=model_type,
            )
        )
    if config.get("use_absolute_embeddings"):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "absolute position embeddings (use_absolute_embeddings) are not supported",
            )
        )
    if config.get("hidden_act", "gelu") != "gelu":
        raise CheckpointError(
            tr(
                "Checkpoints",
                "unsupported MLP activation {get!r} (need gelu)",
                get=config.get("hidden_act"),
            )
        )
    validate(config, HF_CONFIG, "config.json")
    head = state_dict.get("head.fc.weight")
    mean, std = _mean_std(preprocessor or {})
    fields = dict(
        version=2 if model_type == "swinv2" else 1,
        img_size=_first(config.get("image_size", 224)),
        patch_size=_first(config.get("patch_size", 4)),
        in_chans=int(config.get("num_channels", 3)),
        window_size=int(config.get("window_size", 7)),
        embed_dim=int(config.get("embed_dim", 96)),
        depths=tuple(int(d) for d in config.get("depths", (2, 2, 6, 2))),
        num_heads=tuple(int(h) for h in config.get("num_heads", (3, 6, 12, 24))),
        mlp_ratio=float(config.get("mlp_ratio", 4.0)),
        qkv_bias=bool(config.get("qkv_bias", True)),
        num_classes=int(head.shape[0]) if head is not None else 0,
        layer_norm_eps=float(config.get("layer_norm_eps", 1e-5)),
        mean=mean,
        std=std,
        name=name or "huggingface-swin",
    )
    if model_type == "swinv2":
        pws = config.get("pretrained_window_sizes") or [0] * len(fields["depths"])
        fields["pretrained_window_sizes"] = tuple(int(p) for p in pws)
    else:
        fields["pretrained_window_sizes"] = (0,) * len(fields["depths"])
    try:
        return SwinConfig(**fields)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "config.json is inconsistent: {exc}", exc=exc)
        ) from None


def class_names_from_hf(config: dict, num_classes: int) -> tuple[str, ...]:
    """id2label in index order, or () when it is missing, incomplete or generic LABEL_i."""
    id2label = config.get("id2label") or {}
    try:
        names = tuple(
            str(id2label[str(i)] if str(i) in id2label else id2label[i]) for i in range(num_classes)
        )
    except KeyError:
        return ()
    if all(n == f"LABEL_{i}" for i, n in enumerate(names)):
        return ()
    return names


def _mean_std(preprocessor: dict) -> tuple[tuple[float, ...], tuple[float, ...]]:
    mean, std = preprocessor.get("image_mean"), preprocessor.get("image_std")
    if isinstance(mean, list) and isinstance(std, list) and len(mean) == len(std) == 3:
        return tuple(float(m) for m in mean), tuple(float(s) for s in std)
    return IMAGENET_MEAN, IMAGENET_STD


def _first(value) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def preprocessing_from_hf(preprocessor: dict | None) -> dict:
    """The LoadReport fields a preprocessor_config.json fixes (empty when none)."""
    if not preprocessor or "image_mean" not in preprocessor or "image_std" not in preprocessor:
        return {}
    out = {"preprocessing": "preprocessor_config.json (image_mean, image_std)"}
    if isinstance(preprocessor.get("resample"), int):
        out["interpolation"] = PIL_RESAMPLE[preprocessor["resample"]]
    if isinstance(preprocessor.get("crop_pct"), (int, float)):
        out["crop_pct"] = float(preprocessor["crop_pct"])
    return out


def read_hf_directory(directory: Path) -> tuple[StateDict, SwinConfig, tuple[str, ...], dict]:
    """(our-layout state dict, config, class names, preprocessing report fields) of a HF
    checkpoint directory."""
    config = read_json(directory / "config.json", HF_CONFIG)
    preprocessor_path = directory / "preprocessor_config.json"
    preprocessor = (
        read_json(preprocessor_path, HF_PREPROCESSOR) if preprocessor_path.is_file() else None
    )
    state_dict = hf_to_timm(read_weights(directory))
    name = str(config.get("_name_or_path") or directory.name)
    cfg = config_from_hf(config, state_dict, preprocessor, name=name)
    names = class_names_from_hf(config, cfg.num_classes)
    return state_dict, cfg, names, preprocessing_from_hf(preprocessor)
