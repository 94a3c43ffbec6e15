"""The patch merging figure (`figure_merging`): the neighbour order, the model's own merge
rebuilt from the figure's 4C row, the channel numbers and the v1/v2 order, the crop's
hit regions, padding neighbours, and the patch embedding for stage 0."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.render import figure as F
from swin_gui.render.merging import figure_merging, merge_neighbours
from swin_gui.render.selection import Selection


def heat(fig: F.Figure, key: str) -> np.ndarray:
    return next(lay for lay in fig.plot(key).layers if isinstance(lay, F.Heatmap)).data


def texts(plot: F.Plot) -> list[F.Text]:
    return [lay for lay in plot.layers if isinstance(lay, F.Text)]


def test_neighbour_order_is_the_documented_one():
    assert merge_neighbours(3, 5) == [(6, 10), (7, 10), (6, 11), (7, 11)]


@pytest.mark.parametrize("version", [1, 2])
def test_the_4c_row_rebuilds_the_models_merge(version, make_model):
    """The figure's 4C row is the concat of the 4 neighbours in the documented order;
    the model's own merging layer (v1: LN then Linear; v2: Linear then LN) on it gives the
    figure's 2C row and its data."""
    m = make_model(version)
    trace = api.capture(m, torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(5)))
    for s, (r, c) in ((1, (3, 4)), (2, (6, 1)), (3, (2, 5))):
        fig = figure_merging(trace, Selection(stage=s, token=(r, c)))
        x = trace.stages[s].merge_in
        row = heat(fig, "concat")[0]
        np.testing.assert_array_equal(
            row,
            np.concatenate(
                [x[2 * r, 2 * c], x[2 * r + 1, 2 * c], x[2 * r, 2 * c + 1], x[2 * r + 1, 2 * c + 1]]
            ),
        )
        down = m.layers[s].downsample
        with torch.no_grad():
            t = torch.from_numpy(row)
            y = down.reduction(down.norm(t)) if version == 1 else down.norm(down.reduction(t))
        np.testing.assert_allclose(heat(fig, "merged")[0], y.numpy(), atol=1e-5)
        np.testing.assert_array_equal(fig.data, trace.stages[s].merge_out[r, c])
        order = "LayerNorm then Linear" if version == 1 else "Linear then LayerNorm"
        assert any(f"v{version}: {order}" in n for n in fig.notes)
        boxes = [t.text for t in texts(fig.plot("diagram"))]
        ops = ["LayerNorm", "Linear"] if version == 1 else ["Linear", "LayerNorm"]
        assert [b for b in boxes if b in ("LayerNorm", "Linear")] == ops


def test_channel_and_resolution_numbers(trace224):
    # the tiny model: C = 16, 32, 64, 128 on 56, 28, 14, 7 token grids
    for s, (c, hi, ho) in {1: (16, 56, 28), 2: (32, 28, 14), 3: (64, 14, 7)}.items():
        fig = figure_merging(trace224, Selection(stage=s, token=(0, 0)))
        assert f"{c} → {4 * c} → {2 * c}" in fig.title and f"{hi}×{hi} → {ho}×{ho}" in fig.title
        assert fig.plot("concat").xlim == (0.0, 4 * c) and fig.plot("merged").xlim == (0.0, 2 * c)
        assert fig.plot("merged").size[0] * 2 == pytest.approx(fig.plot("concat").size[0])
        assert fig.plot("concat").colorbar.unit == "activation"
        all_text = fig.texts()
        assert f"4C = {4 * c}" in all_text and f"{4 * c} → {2 * c}" in all_text


def test_crop_clicks_select_stage_tokens(trace224):
    fig = figure_merging(trace224, Selection(stage=2, token=(4, 6)))
    crop = fig.plot("crop")
    P = 16  # stage-2 token of the tiny model (patch 4 * 2**2)
    assert crop.xlim == (5 * P, 8 * P) and crop.ylim == (3 * P, 6 * P)
    hit = fig.hit("crop", 7 * P + 1, 3 * P + 1)  # top-right cell of the 3x3 crop
    assert tuple(hit.region.payload["tokens"][hit.cell]) == (3, 7)
    assert hit.region.payload["stage"] == 2
    merged = trace224.stages[2].merge_out[3, 7]
    assert hit.value == pytest.approx(float(np.linalg.norm(merged)), rel=1e-5)
    labels = texts(crop)
    assert [t.text for t in labels] == ["0", "1", "2", "3"]
    # neighbours 0..3 of (4, 6) sit at (dr, dc) = (0,0), (1,0), (0,1), (1,1) of the token
    assert [(t.x, t.y) for t in labels] == [
        (6 * P + P / 4 + dc * P / 2, 4 * P + P / 4 + dr * P / 2)
        for dr, dc in ((0, 0), (1, 0), (0, 1), (1, 1))
    ]


def test_corner_token_has_cells_off_the_grid(trace224):
    fig = figure_merging(trace224, Selection(stage=1, token=(0, 0)))
    tokens = fig.plot("crop").hits[0].payload["tokens"]
    assert (tokens[0] == -1).all() and (tokens[:, 0] == -1).all()
    assert tuple(tokens[1, 1]) == (0, 0)
    assert len([lay for lay in fig.plot("crop").layers if isinstance(lay, F.Hatch)]) == 1


def test_padding_neighbours(trace_native):
    trace = trace_native  # stage 2 is 16x21: odd width, so column 21 is padding
    fig = figure_merging(trace, Selection(stage=3, token=(7, 10)))
    assert any("16×21 is odd" in n for n in fig.notes)
    assert "neighbours 2, 3: padding, zeros enter the merge" in fig.notes
    row = heat(fig, "concat")[0]
    C = 64
    assert (row[2 * C :] == 0).all() and (row[: 2 * C] != 0).any()
    colours = [t.color for t in texts(fig.plot("crop"))]
    assert colours[2] == colours[3] != colours[0]


def test_patch_embedding_for_stage_0(trace224):
    fig = figure_merging(trace224, Selection(stage=0, token=(1, 2)))
    assert "48 → 16" in fig.title and "56×56 tokens" in fig.title
    np.testing.assert_array_equal(fig.data, trace224.embed[1, 2])
    assert [p.key for p in fig.plots] == ["crop", "diagram", "merged"]
    assert fig.plot("crop").xlim == (4.0, 16.0)  # patches 1..3 of 4 px around column 2


def test_hover_names_neighbour_and_channel(trace224):
    fig = figure_merging(trace224, Selection(stage=1, token=(2, 3)))
    hit = fig.hit("concat", 2 * 16 + 5.5, 0.5)  # C = 16: neighbour 2, channel 5
    pay = hit.region.payload
    assert pay["segment"] == 16 and pay["names"][2] == "neighbour 2 (4, 7)"
    assert hit.value == pytest.approx(float(trace224.stages[1].merge_in[4, 7, 5]))


def test_non_finite_vectors_are_named(trace224):
    from dataclasses import replace

    st = trace224.stages[1]
    x = st.merge_in.copy()
    x[4, 6, :] = np.nan
    bad = replace(
        trace224, stages=(trace224.stages[0], replace(st, merge_in=x), *trace224.stages[2:])
    )
    fig = figure_merging(bad, Selection(stage=1, token=(2, 3)))
    assert any("non-finite" in n for n in fig.notes)
    assert np.isfinite(fig.plot("concat").colorbar.levels).all()


def test_svg_holds_the_labels_as_text(trace224, tmp_path):
    from swin_gui.app.figure_file import write_figure

    fig = figure_merging(trace224, Selection(stage=2, token=(4, 6)))
    svg = write_figure(fig, tmp_path / "merging.svg", width_pt=600).read_text()
    found = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for label in ("concat 2×2", "4C = 128", "LayerNorm", "128 → 64", "activation"):
        assert label in found


def test_the_navigators_merge_step_frames_the_operations(trace224):
    block = figure_merging(trace224, Selection(step="block", stage=2, token=(1, 1)))
    merge = figure_merging(trace224, Selection(step="merge", stage=2, token=(1, 1)))
    embed = figure_merging(trace224, Selection(step="embed", stage=0, token=(1, 1)))
    assert block.plot("diagram").frame is None
    assert merge.plot("diagram").frame == "selected" and embed.plot("diagram").frame == "selected"
    assert merge.notes[-1] == "navigator: this step"
