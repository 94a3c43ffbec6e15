"""The frozen record of one Swin forward pass: the single contract between the engine and
every view and export. Arrays are numpy float32, batch index 0, token grids channel-last.

NPZ schema (s, b 0-based; b counts blocks within stage s) — see README "Trace NPZ schema".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .model.config import SwinConfig

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class BlockTrace:
    """What one Swin block computed. Token coordinates are (row, col) on the stage grid."""

    stage: int
    index: int
    shift: int  # the shift actually used (0 on W-MSA blocks and when the rule switches it off)
    nominal_shift: int  # the block's design shift: M // 2 on odd blocks
    window: int  # the window M actually used
    resolution: tuple[int, int]  # H, W before padding
    padded: tuple[int, int]  # Hp, Wp after padding to a multiple of the window
    attn: np.ndarray  # nW, heads, N, N softmax probabilities (rolled, padded window order)
    bias: np.ndarray  # heads, N, N position bias as added to the logits
    mask: np.ndarray | None  # nW, N, N additive shift mask; None when shift == 0
    logit_scale: np.ndarray | None  # heads, v2 cosine-attention temperature
    mid: np.ndarray  # H, W, C residual stream after the attention branch
    out: np.ndarray  # H, W, C block output

    @property
    def kind(self) -> str:
        """'SW-MSA' for odd blocks by design, 'W-MSA' for even ones."""
        return "SW-MSA" if self.nominal_shift else "W-MSA"

    @property
    def heads(self) -> int:
        return self.attn.shape[1]

    @property
    def tokens_per_window(self) -> int:
        return self.window * self.window

    @property
    def window_grid(self) -> tuple[int, int]:
        """Windows per column and per row: (Hp / M, Wp / M)."""
        return self.padded[0] // self.window, self.padded[1] // self.window

    def locate(self, row: int, col: int, shift: int | None = None) -> tuple[int, int]:
        """(window index, position in window) of token (row, col), after the cyclic shift."""
        s = self.shift if shift is None else shift
        Hp, Wp = self.padded
        rr, rc = (row - s) % Hp, (col - s) % Wp
        M = self.window
        return (rr // M) * (Wp // M) + rc // M, (rr % M) * M + rc % M

    def window_tokens(self, window_index: int, shift: int | None = None) -> np.ndarray:
        """(N, 2) original (row, col) of each token of a window, undoing the cyclic shift.
        Rows/cols >= resolution are padding."""
        s = self.shift if shift is None else shift
        Hp, Wp = self.padded
        M = self.window
        wr, wc = divmod(window_index, Wp // M)
        r, c = np.divmod(np.arange(M * M), M)
        return np.stack([(wr * M + r + s) % Hp, (wc * M + c + s) % Wp], axis=1)


@dataclass(frozen=True)
class StageTrace:
    """One stage: optional patch merging in, then its blocks."""

    index: int
    dim: int
    heads: int
    resolution: tuple[int, int]  # H_s, W_s
    out: np.ndarray  # H_s, W_s, C_s after the stage's blocks, before the next merging
    merge_in: np.ndarray | None  # H_{s-1}, W_{s-1}, C_{s-1} entering patch merging
    merge_out: np.ndarray | None  # H_s, W_s, C_s leaving patch merging
    blocks: tuple[BlockTrace, ...]


@dataclass(frozen=True)
class Trace:
    """Everything one run computed, plus what is needed to draw it over the image."""

    config: SwinConfig
    input: np.ndarray  # 3, H, W normalised tensor that entered the model
    image: np.ndarray  # H, W, 3 uint8: the same pixels before normalisation
    embed: np.ndarray  # H0, W0, C after patch embed + LayerNorm
    stages: tuple[StageTrace, ...]
    norm_out: np.ndarray  # H3, W3, 8C after the final LayerNorm
    pooled: np.ndarray  # 8C
    logits: np.ndarray | None  # K
    class_names: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)  # source, model label, preprocessing

    # ---- navigation -------------------------------------------------------------------
    def block(self, stage: int, index: int) -> BlockTrace:
        return self.stages[stage].blocks[index]

    def blocks(self) -> list[BlockTrace]:
        return [b for s in self.stages for b in s.blocks]

    def token_pixels(self, stage: int) -> int:
        """Side of one stage-`stage` token in input pixels: patch * 2**stage."""
        return self.config.patch_size * 2**stage

    def block_input(self, stage: int, index: int) -> np.ndarray:
        """The residual stream entering a block (H, W, C)."""
        if index > 0:
            return self.stages[stage].blocks[index - 1].out
        merged = self.stages[stage].merge_out
        return self.embed if merged is None else merged

    # ---- predictions ------------------------------------------------------------------
    def probabilities(self) -> np.ndarray | None:
        if self.logits is None:
            return None
        z = self.logits - self.logits.max()
        e = np.exp(z)
        return e / e.sum()

    def top_k(self, k: int = 5) -> list[tuple[int, str, float]]:
        """[(class index, name, probability)] best first; empty without a head."""
        p = self.probabilities()
        if p is None:
            return []
        order = np.argsort(-p)[:k]
        return [(int(i), self.class_name(int(i)), float(p[i])) for i in order]

    def class_name(self, i: int) -> str:
        return self.class_names[i] if i < len(self.class_names) else f"class {i}"

    # ---- persistence --------------------------------------------------------------------
    def save_npz(self, path: str | Path, overwrite: bool = True) -> Path:
        """Write the documented NPZ schema (atomic: temp file + rename)."""
        from .trace_io import save_npz

        return save_npz(self, path, overwrite)

    @staticmethod
    def load_npz(path: str | Path) -> Trace:
        from .trace_io import load_npz

        return load_npz(path)


def config_json(cfg: SwinConfig) -> str:
    return json.dumps(cfg.to_dict())
