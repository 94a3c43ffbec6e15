"""Swin architecture configuration and the named presets (named as in timm)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SwinConfig:
    """Everything that fixes a Swin v1/v2 network's shape.

    Args:
        version: 1 (pre-norm, dot-product attention, bias table) or
            2 (res-post-norm, scaled cosine attention, continuous position bias).
        img_size: the input size the checkpoint was trained at (any size runs).
        patch_size: side of the patch-embedding convolution (k = s).
        window_size: M, side of an attention window in tokens.
        embed_dim: C, the channels of stage 0; stage s has C * 2**s.
        depths: blocks per stage.
        num_heads: attention heads per stage.
        num_classes: size of the classifier head; 0 means no head.
        pretrained_window_sizes: v2 only, per stage, rescales the log-spaced
            coordinates table (0 = use the window size itself).
    """

    version: int = 1
    img_size: int = 224
    patch_size: int = 4
    in_chans: int = 3
    window_size: int = 7
    embed_dim: int = 96
    depths: tuple[int, ...] = (2, 2, 6, 2)
    num_heads: tuple[int, ...] = (3, 6, 12, 24)
    mlp_ratio: float = 4.0
    qkv_bias: bool = True
    num_classes: int = 1000
    pretrained_window_sizes: tuple[int, ...] = (0, 0, 0, 0)
    layer_norm_eps: float = 1e-5
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    name: str = "swin"
    class_names: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.version not in (1, 2):
            raise ValueError(f"Swin version must be 1 or 2, not {self.version}")
        if len(self.depths) != len(self.num_heads):
            raise ValueError("depths and num_heads need one entry per stage")
        for s, h in enumerate(self.num_heads):
            if self.stage_dim(s) % h:
                raise ValueError(
                    f"stage {s}: {self.stage_dim(s)} channels not divisible by {h} heads"
                )

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    def stage_dim(self, stage: int) -> int:
        """Channels of stage `stage`: C, 2C, 4C, 8C."""
        return self.embed_dim * 2**stage

    @property
    def num_features(self) -> int:
        return self.stage_dim(self.num_stages - 1)

    def with_(self, **changes) -> SwinConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("class_names")
        return d

    @classmethod
    def from_dict(cls, fields: dict) -> SwinConfig:
        """The inverse of `to_dict` for its JSON (lists back to tuples); TypeError or
        ValueError for a field it does not know or a value that does not fit."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def nominal_shift(window: int, index: int) -> int:
    """The design shift of block `index` of a stage: s = M // 2 on odd (SW-MSA) blocks, 0 on
    even (W-MSA) ones; `geometry.window_and_shift` may still switch it off."""
    return window // 2 if index % 2 else 0


def _v1(name: str, embed: int, depths, heads, window: int = 7, size: int = 224) -> SwinConfig:
    return SwinConfig(1, size, 4, 3, window, embed, tuple(depths), tuple(heads), name=name)


def _v2(name: str, embed: int, depths, heads, window: int, size: int = 256) -> SwinConfig:
    return SwinConfig(2, size, 4, 3, window, embed, tuple(depths), tuple(heads), name=name)


_T, _S = (2, 2, 6, 2), (2, 2, 18, 2)
_HT, _HB, _HL = (3, 6, 12, 24), (4, 8, 16, 32), (6, 12, 24, 48)

PRESETS: dict[str, SwinConfig] = {
    c.name: c
    for c in (
        _v1("swin_tiny_patch4_window7_224", 96, _T, _HT),
        _v1("swin_small_patch4_window7_224", 96, _S, _HT),
        _v1("swin_base_patch4_window7_224", 128, _S, _HB),
        _v1("swin_base_patch4_window12_384", 128, _S, _HB, 12, 384),
        _v1("swin_large_patch4_window7_224", 192, _S, _HL),
        _v1("swin_large_patch4_window12_384", 192, _S, _HL, 12, 384),
        _v2("swinv2_tiny_window8_256", 96, _T, _HT, 8),
        _v2("swinv2_small_window8_256", 96, _S, _HT, 8),
        _v2("swinv2_base_window8_256", 128, _S, _HB, 8),
        _v2("swinv2_tiny_window16_256", 96, _T, _HT, 16),
        _v2("swinv2_small_window16_256", 96, _S, _HT, 16),
        _v2("swinv2_base_window12_192", 128, _S, _HB, 12, 192),
    )
}


def preset(name: str) -> SwinConfig:
    """Look up a preset by its timm name; raises KeyError with the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
