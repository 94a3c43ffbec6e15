"""Feature maps as pictures: one stage's (H, W, C) output rendered as a channel, the
per-token L2 norm, or a 3-component PCA in RGB, upscaled nearest-neighbour so tokens stay
crisp; and the feature pyramid, every stage side by side aligned to the input image.

Alignment is pixel-true: a stage-s token covers patch * 2**s input pixels, so each map is
repeated by that stride and cropped to the image (padding tokens fall off the edge).
"""

from __future__ import annotations

import math

import numpy as np

from ..analysis.features import channel_map, norm_map, pca, pca_rgb, top_channels
from .colormap import apply_colormap
from .draw import canvas, hstack, upscale, vstack
from .text import draw_labels, measure

MODES = ("channel", "norm", "pca")
BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)
LABEL_PAD = 3
LABEL_SIZE = 12


def feature_scalar(f: np.ndarray, mode: str, channel: int | None = 0) -> tuple[np.ndarray, str]:
    """(H, W) values for the scalar modes, and a short description of them.
    `channel=None` picks the channel with the most energy."""
    if mode == "norm":
        return norm_map(f), "L2 norm"
    if mode == "channel":
        c = int(top_channels(f, 1)[0]) if channel is None else int(channel)
        return channel_map(f, c), f"channel {c}"
    raise ValueError(f"unknown feature mode {mode!r}; choose one of {', '.join(MODES)}")


def resize_nearest(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize to (height, width): output pixel y reads row y*h // H."""
    H, W = size
    h, w = rgb.shape[:2]
    rows = np.arange(H) * h // H
    cols = np.arange(W) * w // W
    return np.ascontiguousarray(rgb[rows][:, cols])


def align_to_image(rgb: np.ndarray, stride: int, size: tuple[int, int]) -> np.ndarray:
    """Repeat each token `stride` times and crop (or edge-pad) to the image (H, W)."""
    H, W = size
    up = upscale(rgb, stride)[:H, :W]
    ph, pw = H - up.shape[0], W - up.shape[1]
    if ph > 0 or pw > 0:
        pad = ((0, max(ph, 0)), (0, max(pw, 0))) + ((0, 0),) * (up.ndim - 2)
        up = np.pad(up, pad, mode="edge")
    return np.ascontiguousarray(up)


def render_feature_map(
    f: np.ndarray,
    mode: str = "norm",
    channel: int | None = 0,
    cmap: str = "viridis",
    levels: tuple[float, float] | None = None,
    upscale_to: tuple[int, int] | None = None,
    scale: int | None = None,
) -> np.ndarray:
    """One (H, W, C) feature map -> uint8 RGB.

    Args:
        mode: "channel" (one channel; `channel=None` = top channel by energy),
            "norm" (L2 over channels) or "pca" (components 1-3 as R, G, B; no cmap).
        levels: (lo, hi) for the scalar modes; default the map's min and max.
        upscale_to: (height, width) to resize to, nearest-neighbour.
        scale: an integer factor to repeat every token by (ignored with upscale_to).
    """
    if mode == "pca":
        rgb = np.round(pca_rgb(f) * 255).astype(np.uint8)  # H, W, 3
    else:
        values, _ = feature_scalar(f, mode, channel)
        rgb = apply_colormap(values, cmap, levels)
    if upscale_to is not None:
        return resize_nearest(rgb, upscale_to)
    if scale is not None:
        return upscale(rgb, scale)
    return rgb


def _describe(f: np.ndarray, mode: str, channel: int | None) -> str:
    """Second label line: what the colours mean in this panel."""
    if mode == "pca":
        share = float(pca(f, 3).explained.sum())
        return f"PCA 1-3: {share:.0%} of variance"
    values, what = feature_scalar(f, mode, channel)
    return f"{what}: {float(values.min()):.3g} to {float(values.max()):.3g}"


def stage_label(index: int, resolution: tuple[int, int], dim: int) -> str:
    """'stage 0 · 56×56 · 96 ch' (0-based like every label, key and CLI flag here;
    the paper calls stage 0 'Stage 1')."""
    return f"stage {index} · {resolution[0]}×{resolution[1]} · {dim} ch"


def label_strip(lines: list[str], width: int) -> np.ndarray:
    """A white (h, width, 3) strip with the lines of text drawn top-left."""
    line_h = max(measure("Ag·×", LABEL_SIZE)[1], 1) + LABEL_PAD
    strip = canvas(LABEL_PAD + line_h * len(lines), width, BACKGROUND)
    labels = [((LABEL_PAD, LABEL_PAD + i * line_h), line, TEXT, LABEL_SIZE, None)
              for i, line in enumerate(lines)]  # fmt: skip
    return draw_labels(strip, labels)


def _panel_scale(labels: list[list[str]], width: int) -> int:
    """Integer upscale so the widest label line fits over one panel."""
    widest = max(measure(line, LABEL_SIZE)[0] for lines in labels for line in lines)
    return max(1, math.ceil((widest + 2 * LABEL_PAD) / max(width, 1)))


def _stage_panels(trace, mode: str, channel: int | None, cmap: str):
    """(image-aligned RGB, [label lines]) for each stage."""
    H, W = trace.image.shape[:2]
    panels = []
    for st in trace.stages:
        rgb = render_feature_map(st.out, mode, channel, cmap)
        rgb = align_to_image(rgb, trace.token_pixels(st.index), (H, W))
        lines = [stage_label(st.index, st.resolution, st.dim), _describe(st.out, mode, channel)]
        panels.append((rgb, lines))
    return panels


def render_pyramid(
    trace,
    mode: str = "norm",
    channel: int | None = None,
    cmap: str = "viridis",
    include_image: bool = False,
    gap: int = 6,
) -> np.ndarray:
    """Every stage's output side by side, each aligned to the input image, with labels
    such as 'stage 1 · 56×56 · 96 ch'. Returns uint8 RGB.

    Args:
        trace: a `swin_gui.trace.Trace`.
        mode: "channel" | "norm" | "pca"; `channel=None` uses each stage's top channel.
        include_image: put the input image first, for reference.
        gap: white pixels between panels.
    """
    panels = _stage_panels(trace, mode, channel, cmap)
    if include_image:
        H, W = trace.image.shape[:2]
        panels.insert(0, (trace.image, ["input", f"{W}×{H} px"]))
    factor = _panel_scale([lines for _, lines in panels], trace.image.shape[1])
    columns = []
    for rgb, lines in panels:
        img = upscale(rgb, factor)
        columns.append(vstack([label_strip(lines, img.shape[1]), img], gap=0))
    return hstack(columns, gap, color=BACKGROUND)
