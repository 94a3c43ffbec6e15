"""Infer a `SwinConfig` from a timm-layout state dict when no config file comes with it.

What the tensors say:
- C, input channels and patch size: `patch_embed.proj.weight` is (C, in, p, p).
- depths: the block indices under `layers.{s}.blocks.{j}`.
- heads: v1 `relative_position_bias_table` is ((2M-1)^2, heads); v2 `logit_scale` is
  (heads, 1, 1) (or `cpb_mlp.2.weight` is (heads, 512)).
- window M: v1 from the table length, (2M-1)^2 rows.
- classes: `head.fc.weight` rows (0 when there is no head); MLP ratio from `mlp.fc1`.
- version: 2 when `logit_scale` / `cpb_mlp` are present.

A v2 state dict holds no tensor whose shape depends on M. M then comes, in order of
preference, from the buffers some writers keep (`relative_coords_table` is
(1, 2M-1, 2M-1, 2), `relative_position_index` is (M^2, M^2)), from a name hint such as
"swinv2_tiny_window16_256" or ".._window12to24_192to384", from an image-size hint
(192 -> 12, 256 -> 8, 384 -> 24), and otherwise is 8, the window of the v2 presets at 256.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...i18n import tr
from ..config import PRESETS, SwinConfig
from .base import CheckpointError, StateDict

DEFAULT_V2_WINDOW = 8
V2_WINDOW_FOR_SIZE = {192: 12, 256: 8, 384: 24}
_BLOCK = re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.")


@dataclass(frozen=True)
class NameHint:
    """What a file or model name such as 'swinv2_base_window12to24_192to384' tells."""

    window: int | None = None
    img_size: int | None = None
    pretrained_window: int | None = None
    pretrained_img_size: int | None = None


def parse_name_hint(name: str | None) -> NameHint:
    """Window and image size spelled in a checkpoint's name (timm / official style)."""
    if not name:
        return NameHint()
    name = name.lower()
    hint: dict[str, int] = {}
    if m := re.search(r"window(\d+)(?:to(\d+))?", name):
        if m.group(2):
            hint["pretrained_window"], hint["window"] = int(m.group(1)), int(m.group(2))
        else:
            hint["window"] = int(m.group(1))
    if m := re.search(r"_(\d{2,4})to(\d{2,4})(?:[_.-]|$)", name):
        hint["pretrained_img_size"], hint["img_size"] = int(m.group(1)), int(m.group(2))
    elif m := re.search(r"_(\d{2,4})(?:[_.-]|$)", name):
        hint["img_size"] = int(m.group(1))
    return NameHint(**hint)


def infer_config(
    state_dict: StateDict, name_hint: str | None = None, img_size: int | None = None
) -> SwinConfig:
    """The architecture a timm-layout state dict (our own layout) was built with.

    Args:
        state_dict: weights in timm >= 0.9 names; recomputed buffers may still be present
            (they help to find a v2 window).
        name_hint: a file / model name, e.g. "swinv2_tiny_window16_256.ms_in1k".
        img_size: the training resolution, when known from elsewhere.
    Raises:
        CheckpointError: when the shapes do not describe a Swin Transformer.
    """
    if "patch_embed.proj.weight" not in state_dict:
        raise CheckpointError(
            tr("Checkpoints", "cannot infer the architecture: no patch_embed.proj.weight")
        )
    hint = parse_name_hint(name_hint)
    embed_dim, in_chans, patch, _ = state_dict["patch_embed.proj.weight"].shape
    depths = _depths(state_dict)
    version = 2 if any(k.endswith(("logit_scale", "cpb_mlp.0.weight")) for k in state_dict) else 1
    heads = tuple(_heads(state_dict, s, version) for s in range(len(depths)))
    window = _window_v1(state_dict) if version == 1 else _window_v2(state_dict, hint, img_size)
    size = img_size or hint.img_size or _default_img_size(version, window)
    fields = dict(
        version=version,
        img_size=size,
        patch_size=int(patch),
        in_chans=int(in_chans),
        window_size=window,
        embed_dim=int(embed_dim),
        depths=depths,
        num_heads=heads,
        mlp_ratio=_mlp_ratio(state_dict, embed_dim),
        qkv_bias=_has_qkv_bias(state_dict, version),
        num_classes=int(state_dict["head.fc.weight"].shape[0])
        if "head.fc.weight" in state_dict
        else 0,
        pretrained_window_sizes=_pretrained_windows(state_dict, hint, depths, patch, version),
    )
    try:
        cfg = SwinConfig(**fields)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "inconsistent Swin shapes: {exc}", exc=exc)
        ) from None
    return cfg.with_(name=_name(cfg, name_hint))


def _depths(state_dict: StateDict) -> tuple[int, ...]:
    blocks: dict[int, int] = {}
    for key in state_dict:
        if m := _BLOCK.match(key):
            stage, block = int(m.group(1)), int(m.group(2))
            blocks[stage] = max(blocks.get(stage, -1), block)
    if not blocks or sorted(blocks) != list(range(len(blocks))):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "cannot infer depths: stages with blocks are {sorted}",
                sorted=sorted(blocks),
            )
        )
    return tuple(blocks[s] + 1 for s in range(len(blocks)))


def _heads(state_dict: StateDict, stage: int, version: int) -> int:
    attn = f"layers.{stage}.blocks.0.attn."
    for key, axis in (
        ("relative_position_bias_table", 1),
        ("logit_scale", 0),
        ("cpb_mlp.2.weight", 0),
    ):
        if attn + key in state_dict:
            return int(state_dict[attn + key].shape[axis])
    what = "relative_position_bias_table" if version == 1 else "logit_scale / cpb_mlp"
    raise CheckpointError(
        tr(
            "Checkpoints",
            "cannot infer heads of stage {stage}: no {attn}{what}",
            stage=stage,
            attn=attn,
            what=what,
        )
    )


def _window_v1(state_dict: StateDict) -> int:
    rows = state_dict["layers.0.blocks.0.attn.relative_position_bias_table"].shape[0]
    side = math.isqrt(rows)
    if side * side != rows or side % 2 == 0:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "relative_position_bias_table has {rows} rows, not (2M-1)^2",
                rows=rows,
            )
        )
    return (side + 1) // 2


def _window_v2(state_dict: StateDict, hint: NameHint, img_size: int | None) -> int:
    table = state_dict.get("layers.0.blocks.0.attn.relative_coords_table")
    if table is not None and table.dim() == 4:
        return (table.shape[1] + 1) // 2  # 1, 2M-1, 2M-1, 2
    index = state_dict.get("layers.0.blocks.0.attn.relative_position_index")
    if index is not None and index.dim() == 2:
        return math.isqrt(index.shape[0])  # M^2, M^2
    if hint.window:
        return hint.window
    size = img_size or hint.img_size
    return V2_WINDOW_FOR_SIZE.get(size or 0, DEFAULT_V2_WINDOW)


def _pretrained_windows(state_dict, hint: NameHint, depths, patch: int, version: int):
    """v2 only: per stage, the window the coordinates table was normalised by (0 = own)."""
    n = len(depths)
    if version == 1:
        return (0,) * n
    from_tables = tuple(_pretrained_from_table(state_dict, s) for s in range(n))
    if any(from_tables):
        return from_tables
    if hint.pretrained_window and hint.pretrained_img_size:
        grid = hint.pretrained_img_size // patch
        return tuple(min(hint.pretrained_window, grid // 2**s) for s in range(n))
    return (0,) * n


def _pretrained_from_table(state_dict: StateDict, stage: int) -> int:
    """Undo t = log2(8 (M-1) / (P-1) + 1) / 3 at the largest offset to recover P; 0 when
    the table was normalised by the window itself (P = M) or is absent."""
    table = state_dict.get(f"layers.{stage}.blocks.0.attn.relative_coords_table")
    if table is None or table.dim() != 4 or table.shape[1] < 3:
        return 0
    M = (table.shape[1] + 1) // 2
    t = float(table.max())
    ratio = 2 ** (3 * t) - 1  # = 8 (M-1) / (P-1)
    P = round(8 * (M - 1) / ratio + 1) if ratio > 0 else 0
    return 0 if P in (0, M) else P


def _mlp_ratio(state_dict: StateDict, embed_dim: int) -> float:
    fc1 = state_dict.get("layers.0.blocks.0.mlp.fc1.weight")
    return float(fc1.shape[0] / embed_dim) if fc1 is not None else 4.0


def _has_qkv_bias(state_dict: StateDict, version: int) -> bool:
    key = "attn.qkv.bias" if version == 1 else "attn.q_bias"
    return f"layers.0.blocks.0.{key}" in state_dict


def _default_img_size(version: int, window: int) -> int:
    if version == 1:
        return 384 if window == 12 else 224
    return {12: 192, 24: 384}.get(window, 256)


def _name(cfg: SwinConfig, name_hint: str | None) -> str:
    """The preset name when the shapes match one, else the hint's stem, else a summary."""
    for preset_name, preset in PRESETS.items():
        if preset.with_(num_classes=cfg.num_classes, name=cfg.name) == cfg:
            return preset_name
    if name_hint:
        return str(name_hint).split(".")[0]
    return f"swin{'v2' if cfg.version == 2 else ''}_C{cfg.embed_dim}_window{cfg.window_size}"
