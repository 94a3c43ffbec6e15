"""Headless snapshots: render any view of a Trace to a `Picture` without Qt, exactly as the
panel shows it (the panels call the same `render_<view>` functions).

    pic = render_snapshot(trace, "attention", stage=1, block=1, head=0, token=(10, 12))
    Image.fromarray(pic.rgb).save("attention.png")

`swin-gui snapshot` (cli.py) calls `render_snapshot` and saves `picture.rgb`.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module
from typing import Any

import numpy as np

from .selection import Picture, Selection, view_shift
from .text import titled

VIEWS: tuple[str, ...] = (
    "grid",
    "shift",
    "mask",
    "attention",
    "bias",
    "pyramid",
    "merging",
    "internals",
    "predictions",
)
# view -> (module under swin_gui.render, function name)
RENDERERS: dict[str, tuple[str, str]] = {v: (v, f"render_{v}") for v in VIEWS}
RENDERERS["pyramid"] = ("pyramid", "render_pyramid_view")
FEATURE_MODES = ("channel", "norm", "pca")


def renderer(view: str):
    """The `render_<view>(trace, selection)` function of a view (imported lazily)."""
    if view not in RENDERERS:
        raise ValueError(f"unknown view {view!r}; choose one of: {', '.join(VIEWS)}")
    module, name = RENDERERS[view]
    return getattr(import_module(f"{__package__}.{module}"), name)


def _check_range(what: str, value: int, count: int, owner: str) -> None:
    if not 0 <= value < count:
        raise ValueError(f"{what} {value} out of range: {owner} has {what}s 0..{count - 1}")


def _checked_token(trace, stage: int, token) -> tuple[int, int]:
    H, W = trace.stages[stage].resolution
    r, c = (int(v) for v in token)
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(
            f"token ({r}, {c}) out of range: stage {stage} has rows 0..{H - 1}, cols 0..{W - 1}"
        )
    return r, c


def snapshot_selection(
    trace,
    *,
    stage: int = 0,
    block: int = 0,
    head: int | None = None,
    token: tuple[int, int] | None = None,
    shift_view: bool | None = None,
    feature_mode: str = "norm",
    channel: int | None = None,
    colormap: str = "viridis",
) -> Selection:
    """A validated `Selection` (step "block"); one-line ValueError for anything out of range."""
    cfg = trace.config
    _check_range("stage", stage, len(trace.stages), "this model")
    _check_range("block", block, len(trace.stages[stage].blocks), f"stage {stage}")
    if head is not None:
        _check_range("head", head, cfg.num_heads[stage], f"stage {stage}")
    if feature_mode not in FEATURE_MODES:
        raise ValueError(f"unknown feature mode {feature_mode!r}; choose one of channel, norm, pca")
    if channel is not None:
        _check_range("channel", channel, trace.stages[stage].dim, f"stage {stage}")
    window = 0
    if token is not None:
        token = _checked_token(trace, stage, token)
        sel = Selection(stage=stage, block=block, shift_view=shift_view)
        bt = trace.block(stage, block)
        window = bt.locate(*token, shift=view_shift(bt, sel))[0]
    return Selection(
        step="block",
        stage=stage,
        block=block,
        head=head,
        token=token,
        window=window,
        shift_view=shift_view,
        feature_mode=feature_mode,
        channel=channel,
        colormap=colormap,
    )


def render_snapshot(trace, view: str, *, title: bool = False, **selection: Any) -> Picture:
    """Render `view` ("grid", "shift", "mask", "attention", "bias", "pyramid", "merging",
    "internals", "predictions") for the selection given by the keywords of
    `snapshot_selection` (stage, block, head, token, shift_view, feature_mode, channel,
    colormap); `stage`/`block`/`head`/`token` are 0-based (token = (row, col) on the stage
    grid; head None = mean of heads).

    With `title=True` the picture gets a caption strip with its title (`text.titled`).
    Raises a one-line ValueError for an unknown view or an out-of-range index.
    """
    fn = renderer(view)
    pic = fn(trace, snapshot_selection(trace, **selection))
    if not title or not pic.title:
        return pic
    return with_title(pic)


def with_title(pic: Picture, size: int = 13) -> Picture:
    """The same picture with its title drawn in a strip above it."""
    rgb = np.ascontiguousarray(titled(pic.rgb, pic.title, size=size))
    return replace(pic, rgb=rgb)
