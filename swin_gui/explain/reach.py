"""The structural receptive field ("reach"): the exact set of input pixels that can influence
one token, read off the architecture alone, without gradients.

Backwards from the token, every step is a set operation on boolean token grids:

- a block (W-MSA or SW-MSA, then the per-token MLP): a token receives from every REAL token
  of its window that carries its shift-region label, in the order the forward pass uses:
  pad the grid to a multiple of M, THEN roll by (−s, −s) over the padded grid, partition;
  pairs of different labels get −100 (e^−100 ≈ 4e−44 of the weight: nothing) and padded
  tokens are constants (zeros after LN1), so they reach no pixel;
- patch merging: a token comes from its 2 × 2 children (padded children are zeros);
- patch embedding: a stage-0 token sees its p × p pixels (the image's zero padding is no
  pixel).

`NetGeometry` holds what each block really used (window and shift per grid), from a model
(`from_model`) or a trace (`from_trace`); `shift=False` is the counterfactual network with
every shift forced to 0. Pure numpy: the views use it directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.regions import shift_region_labels


@dataclass(frozen=True)
class BlockGeometry:
    """One block as the forward pass runs it at its grid."""

    stage: int
    index: int
    resolution: tuple[int, int]  # H, W tokens
    padded: tuple[int, int]  # Hp, Wp
    window: int
    shift: int

    def groups(self) -> np.ndarray:
        """(H, W) int: tokens with equal ids can exchange information in this block
        (same window after pad + roll, same shift region)."""
        (H, W), (Hp, Wp), M, s = self.resolution, self.padded, self.window, self.shift
        rr, cc = (np.arange(H) - s) % Hp, (np.arange(W) - s) % Wp  # rolled positions
        win = (rr // M)[:, None] * (Wp // M) + (cc // M)[None, :]
        labels = shift_region_labels(Hp, Wp, M, s)[rr[:, None], cc[None, :]]
        return win.astype(np.int64) * 9 + labels


@dataclass(frozen=True)
class NetGeometry:
    """Image size, patch size and every block's geometry, stage by stage."""

    image: tuple[int, int]  # H, W input pixels
    patch: int
    stages: tuple[tuple[BlockGeometry, ...], ...]

    def resolution(self, stage: int) -> tuple[int, int]:
        return self.stages[stage][0].resolution

    def token_pixels(self, stage: int) -> int:
        return self.patch * 2**stage

    def blocks(self) -> list[BlockGeometry]:
        return [b for st in self.stages for b in st]

    @staticmethod
    def from_trace(trace, shift: bool = True) -> NetGeometry:
        """The geometry a trace recorded (shift=False: every shift forced to 0)."""
        stages = tuple(
            tuple(
                BlockGeometry(
                    b.stage,
                    b.index,
                    tuple(b.resolution),
                    tuple(b.padded),
                    b.window,
                    b.shift if shift else 0,
                )
                for b in st.blocks
            )
            for st in trace.stages
        )
        H, W = trace.image.shape[:2]
        return NetGeometry((H, W), trace.config.patch_size, stages)

    @staticmethod
    def from_model(model, height: int, width: int, shift: bool = True) -> NetGeometry:
        """The geometry `model` uses at an H x W input (each block's own rule)."""
        p = model.cfg.patch_size
        h, w = -(-height // p), -(-width // p)
        stages = []
        for s, stage in enumerate(model.layers):
            if s > 0:
                h, w = -(-h // 2), -(-w // 2)
            blocks = []
            for j, blk in enumerate(stage.blocks):
                M, sh = blk.geometry(h, w)
                Hp, Wp = -(-h // M) * M, -(-w // M) * M
                blocks.append(BlockGeometry(s, j, (h, w), (Hp, Wp), M, sh if shift else 0))
            stages.append(tuple(blocks))
        return NetGeometry((height, width), p, tuple(stages))


def through_block(reach: np.ndarray, block: BlockGeometry) -> np.ndarray:
    """Tokens (H, W bool) entering `block` that can influence the tokens `reach` leaving it."""
    gid = block.groups()
    hit = np.zeros(int(gid.max()) + 1, bool)
    hit[gid[reach]] = True
    return hit[gid]


def through_merging(reach: np.ndarray, below: tuple[int, int]) -> np.ndarray:
    """Stage s tokens -> their real 2 x 2 children on the stage s−1 grid `below` (H, W)."""
    up = np.repeat(np.repeat(reach, 2, axis=0), 2, axis=1)
    return up[: below[0], : below[1]]


def to_pixels(reach0: np.ndarray, geom: NetGeometry) -> np.ndarray:
    """Stage-0 tokens -> (H, W) bool input pixels (p x p each; padding cropped)."""
    p = geom.patch
    up = np.repeat(np.repeat(reach0, p, axis=0), p, axis=1)
    return up[: geom.image[0], : geom.image[1]]


def token_reach(
    geom: NetGeometry, stage: int, block: int, token: tuple[int, int], pixels: bool = True
) -> np.ndarray:
    """The reach of `token` (row, col on stage `stage`) after block `block` of that stage:
    (H, W) bool input pixels, or the stage-0 token grid when `pixels` is False."""
    H, W = geom.resolution(stage)
    if not (0 <= token[0] < H and 0 <= token[1] < W):
        raise ValueError(f"token {token} is not on the {H}×{W} grid of stage {stage}")
    reach = np.zeros((H, W), bool)
    reach[token] = True
    for s in range(stage, -1, -1):
        last = block if s == stage else len(geom.stages[s]) - 1
        for j in range(last, -1, -1):
            reach = through_block(reach, geom.stages[s][j])
        if s > 0:
            reach = through_merging(reach, geom.resolution(s - 1))
    return to_pixels(reach, geom) if pixels else reach


def token_at(geom: NetGeometry, stage: int, point: tuple[float, float]) -> tuple[int, int]:
    """The stage-`stage` token holding input pixel `point` (y, x), clamped to the grid."""
    tp = geom.token_pixels(stage)
    H, W = geom.resolution(stage)
    return min(H - 1, max(0, int(point[0] // tp))), min(W - 1, max(0, int(point[1] // tp)))


def reach_curve(geom: NetGeometry, point: tuple[float, float]) -> list[tuple[str, int]]:
    """Reach area (pixels) after every block, for the token holding input pixel `point`
    (y, x) at each depth: [("s0.b0", area), ...], in forward order."""
    out = []
    for b in geom.blocks():
        tok = token_at(geom, b.stage, point)
        out.append((f"s{b.stage}.b{b.index}", int(token_reach(geom, b.stage, b.index, tok).sum())))
    return out


def reach_figures(reach: np.ndarray) -> dict[str, float]:
    """Area (pixels and fraction of the image) and bounding box of a reach mask."""
    rows, cols = np.flatnonzero(reach.any(1)), np.flatnonzero(reach.any(0))
    box = (
        (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
        if len(rows)
        else (0,) * 4
    )
    return {
        "area_px": int(reach.sum()),
        "area_frac": float(reach.mean()),
        "box_h": box[2] - box[0],
        "box_w": box[3] - box[1],
    }
