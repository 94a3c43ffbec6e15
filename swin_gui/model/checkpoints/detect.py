"""Tell a checkpoint's layout from its key names alone.

| format      | tell-tale keys                                                          |
| ----------- | ----------------------------------------------------------------------- |
| official    | `patch_embed.proj.weight` and merging at the END of a stage             |
|             | (`layers.0.downsample.*`) or a bare `head.weight`                        |
| timm        | `patch_embed.proj.weight`, merging at the START (`layers.1.downsample`) |
|             | and `head.fc.weight` (or no head)                                       |
| torchvision | `features.0.0.weight` (the patch-embedding conv) and `features.1.0.*`   |
| huggingface | `swin.embeddings.*` / `swinv2.embeddings.*` (or unprefixed `embeddings`)|
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...i18n import tr
from .base import CheckpointError, few

FORMATS = ("official", "timm", "torchvision", "huggingface", "swin-gui")

_HF_EMBED = re.compile(r"^(?:swin\.|swinv2\.)?embeddings\.patch_embeddings\.projection\.weight$")
_HF_BLOCK = re.compile(r"^(?:swin\.|swinv2\.)?encoder\.layers\.0\.blocks\.0\.attention\.")
_SWIN_ATTENTION = re.compile(r"(attn|attention)\.")


def detect_format(keys: Iterable[str], name: str = "checkpoint") -> str:
    """One of "official", "timm", "torchvision", "huggingface"; raises CheckpointError
    for a state dict that is not a Swin Transformer."""
    keys = set(keys)
    if any(_HF_EMBED.match(k) for k in keys) and any(_HF_BLOCK.match(k) for k in keys):
        return "huggingface"
    if "features.0.0.weight" in keys and any(k.startswith("features.1.0.attn.") for k in keys):
        return "torchvision"
    if "patch_embed.proj.weight" in keys and any(
        k.startswith("layers.0.blocks.0.attn.") for k in keys
    ):
        if any(k.startswith("layers.0.downsample.") for k in keys) or "head.weight" in keys:
            return "official"
        return "timm"
    raise CheckpointError(
        tr(
            "Checkpoints",
            "{name} is not a Swin Transformer checkpoint: {what_it_is}",
            name=name,
            what_it_is=_what_it_is(keys),
        )
    )


def _what_it_is(keys: set[str]) -> str:
    """A hint of what the keys look like instead, for the refusal message."""
    if not any(_SWIN_ATTENTION.search(k) for k in keys):
        hint = "no window-attention weights"
    else:
        hint = "no Swin patch embedding (patch_embed / features.0.0 / embeddings)"
    return f"{hint}; its keys start {few(keys, 3)}"
