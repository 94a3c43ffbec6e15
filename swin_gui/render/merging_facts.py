"""Patch merging's facts for the Merging view: which stage s-1 tokens merge into a stage-s
token, the channel sizes and the operations in this model's order, and the figure's
one-line notes (resolution, channels, padding). Text and numbers only, no drawing."""

from __future__ import annotations

import numpy as np

from ..i18n import ntr, tr

NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1))  # (dr, dc)


def merge_neighbours(row: int, col: int) -> list[tuple[int, int]]:
    """Stage s-1 tokens that merge into stage-s token (row, col), in concat order 0..3."""
    return [(2 * row + dr, 2 * col + dc) for dr, dc in NEIGHBOUR_OFFSETS]


def merge_dims(config, stage: int) -> tuple[int, int, int]:
    """(C_in, 4·C_in, C_out) of the merging into `stage` (>= 1)."""
    c = config.stage_dim(stage - 1)
    return c, 4 * c, config.stage_dim(stage)


def merge_steps(config, stage: int) -> list[tuple[str, str]]:
    """The operations of the merging into `stage`, in this model's order (two lines each)."""
    _, c4, c2 = merge_dims(config, stage)
    concat = (tr("Merging", "concat 2×2"), f"4C = {c4}")
    if config.version == 1:
        return [concat, ("LayerNorm", f"({c4})"), ("Linear", f"{c4} → {c2}")]
    return [concat, ("Linear", f"{c4} → {c2}"), ("LayerNorm", f"({c2})")]


def merge_parts(trace, stage: int) -> tuple[str, str]:
    """("96 → 384 → 192 channels", "56×56 → 28×28") of the merging into `stage`."""
    c, c4, c2 = merge_dims(trace.config, stage)
    (Hi, Wi), (Ho, Wo) = trace.stages[stage - 1].resolution, trace.stages[stage].resolution
    channels = tr("Merging", "{c} → {c4} → {c2} channels", c=c, c4=c4, c2=c2)
    return channels, f"{Hi}×{Wi} → {Ho}×{Wo}"


def merge_notes(trace, stage: int) -> list[str]:
    """Resolution change, channel change and padding, as one-line notes."""
    (Hi, Wi) = trace.stages[stage - 1].resolution
    channels, resolution = merge_parts(trace, stage)
    if trace.config.version == 1:
        order = tr("Merging", "LayerNorm then Linear")
    else:
        order = tr("Merging", "Linear then LayerNorm")
    notes = [
        f"{channels} (v{trace.config.version}: {order})",
        tr("Merging", "{resolution} tokens (H×W)", resolution=resolution),
        tr(
            "Merging",
            "neighbour order 0..3 = x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]",
        ),
    ]
    if Hi % 2 or Wi % 2:
        notes.append(
            tr(
                "Merging",
                "stage {prev} grid {Hi}×{Wi} is odd: zero-padded to {Hp}×{Wp} before merging",
                prev=stage - 1,
                Hi=Hi,
                Wi=Wi,
                Hp=Hi + Hi % 2,
                Wp=Wi + Wi % 2,
            )
        )
    return notes


def neighbour_rows(trace, stage: int, token: tuple[int, int]):
    """(4, C) stage s-1 vectors entering the merge (zeros for padding), their names, their
    short names and the padding neighbours' indices."""
    x = trace.stages[stage].merge_in  # H_{s-1}, W_{s-1}, C
    H, W = x.shape[:2]
    rows, names, short, pads = np.zeros((4, x.shape[2]), np.float32), [], [], []
    for k, (r, c) in enumerate(merge_neighbours(*token)):
        if r < H and c < W:
            rows[k] = x[r, c]
            names.append(tr("Merging", "neighbour {k} ({r}, {c})", k=k, r=r, c=c))
            short.append(f"{k} ({r}, {c})")
        else:
            names.append(tr("Merging", "neighbour {k} pad", k=k))
            short.append(tr("Merging", "{k} pad", k=k))
            pads.append(k)
    return rows, names, short, pads


def crop_notes(s: int, pads: list[int], rows: np.ndarray, merged: np.ndarray) -> list[str]:
    """The crop's legend, padding neighbours and non-finite values."""
    notes = [
        tr(
            "Merging",
            "crop: thin lines = stage {prev} tokens, thick = stage {s} tokens",
            prev=s - 1,
            s=s,
        )
    ]
    if pads:
        notes.append(
            ntr(
                "Merging",
                "neighbour {which}: padding, zeros enter the merge",
                "neighbours {which}: padding, zeros enter the merge",
                len(pads),
                which=", ".join(str(k) for k in pads),
            )
        )
    if not np.isfinite(merged).all() or not np.isfinite(rows).all():
        notes.append(tr("Merging", "non-finite values in the vectors (drawn in the masked colour)"))
    return notes
