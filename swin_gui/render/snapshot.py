"""Headless snapshots: the `Figure` of any registered view for a validated selection,
exactly as the panel builds it (both call the registry's `figure_<view>`).

    fig = render_snapshot(trace, "attention", stage=1, block=1, head=0, token=(10, 12))
    swin_gui.app.figure_file.write_figure(fig, "attention.pdf")

`swin-gui snapshot` (cli.py) calls `render_snapshot` and writes the figure.
"""

from __future__ import annotations

from typing import Any

from ..i18n import tr
from .figure import Figure
from .registry import view as registry_view
from .selection import Selection, view_shift

FEATURE_MODES = ("channel", "norm", "pca")


def _check_range(template: str, value: int, count: int, **fmt) -> None:
    """A ValueError, `template` (translated) formatted with value, last and fmt, when value
    is not in 0..count−1."""
    if not 0 <= value < count:
        raise ValueError(template.format(value=value, last=count - 1, **fmt))


def _checked_token(trace, stage: int, token) -> tuple[int, int]:
    H, W = trace.stages[stage].resolution
    r, c = (int(v) for v in token)
    if not (0 <= r < H and 0 <= c < W):
        raise ValueError(
            tr(
                "Snapshot",
                "token ({r}, {c}) out of range: stage {stage} has rows 0..{last_row}, "
                "cols 0..{last_col}",
                r=r,
                c=c,
                stage=stage,
                last_row=H - 1,
                last_col=W - 1,
            )
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
    _check_range(
        tr("Snapshot", "stage {value} out of range: this model has stages 0..{last}"),
        stage,
        len(trace.stages),
    )
    _check_range(
        tr("Snapshot", "block {value} out of range: stage {stage} has blocks 0..{last}"),
        block,
        len(trace.stages[stage].blocks),
        stage=stage,
    )
    if head is not None:
        _check_range(
            tr("Snapshot", "head {value} out of range: stage {stage} has heads 0..{last}"),
            head,
            cfg.num_heads[stage],
            stage=stage,
        )
    if feature_mode not in FEATURE_MODES:
        raise ValueError(
            tr(
                "Snapshot",
                "unknown feature mode {mode!r}; choose one of channel, norm, pca",
                mode=feature_mode,
            )
        )
    if channel is not None:
        _check_range(
            tr("Snapshot", "channel {value} out of range: stage {stage} has channels 0..{last}"),
            channel,
            trace.stages[stage].dim,
            stage=stage,
        )
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


def render_snapshot(trace, view: str, ablation=None, **selection: Any) -> Figure:
    """The figure of `view` (any name in the registry) for the selection given by the
    keywords of `snapshot_selection` (stage, block, head, token, shift_view, feature_mode,
    channel, colormap); indices are 0-based (token = (row, col) on the stage grid; head
    None = mean of heads). `ablation`: the Shift view's block output re-run with s = 0
    (`api.ablate_shift`), drawn when the shift is toggled off on an SW-MSA block. Raises a
    one-line ValueError for an unknown view or an out-of-range index."""
    fn = registry_view(view).figure_function()
    sel = snapshot_selection(trace, **selection)
    if view == "shift":
        return fn(trace, sel, ablation=ablation)
    return fn(trace, sel)


def needs_ablation(trace, view: str, **selection: Any) -> bool:
    """Whether `render_snapshot(trace, view, ...)` draws the shift ablation."""
    from .shift_ablation import ablation_applies

    return view == "shift" and ablation_applies(trace, snapshot_selection(trace, **selection))
