"""The comparison ViT's shape in plain Python (no torch): `ViTConfig`, the DeiT presets and
the token grid, read by the torch model (`swin_gui.model.vit`), the analytic counts
(`swin_gui.analysis.costs`) and the Cost view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ViTConfig:
    """The shape of a ViT. `img_size` fixes the trained position-embedding grid."""

    name: str = "vit"
    img_size: int = 224
    patch_size: int = 16
    in_chans: int = 3
    embed_dim: int = 384
    depth: int = 12
    num_heads: int = 6
    mlp_ratio: float = 4.0
    num_classes: int = 1000
    layer_norm_eps: float = 1e-6

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{self.embed_dim} channels not divisible by {self.num_heads} heads")

    @property
    def grid(self) -> int:
        """Side of the trained position-embedding grid (14 at 224 / 16)."""
        return self.img_size // self.patch_size

    @property
    def hidden(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    def with_(self, **changes) -> ViTConfig:
        return replace(self, **changes)


VIT_PRESETS: dict[str, ViTConfig] = {
    c.name: c
    for c in (
        ViTConfig("vit_tiny_patch16_224", embed_dim=192, depth=12, num_heads=3),
        ViTConfig("vit_small_patch16_224", embed_dim=384, depth=12, num_heads=6),
        ViTConfig("vit_base_patch16_224", embed_dim=768, depth=12, num_heads=12),
    )
}


def vit_preset(name: str) -> ViTConfig:
    """A ViT preset by its timm name; KeyError with the known names."""
    try:
        return VIT_PRESETS[name]
    except KeyError:
        known = ", ".join(VIT_PRESETS)
        raise KeyError(f"unknown ViT preset {name!r}; known: {known}") from None


def token_grid(cfg: ViTConfig, height: int, width: int) -> tuple[int, int]:
    """(rows, cols) of patch tokens for a height x width image (padded to the patch)."""
    return math.ceil(height / cfg.patch_size), math.ceil(width / cfg.patch_size)
