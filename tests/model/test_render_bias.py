"""The relative position bias figure: the table rebuilt from the N×N bias (worked by hand
on M = 2), tiles per head plus the mean whose hits read "bias logit" and select the head,
the N×N expansion with its ticks, keys and the selected token's row, symmetric diverging
levels (around 0 for v1, around 8 = 16·σ(0) for v2), τ per head for v2, and NaN."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from swin_gui.render import figure as F
from swin_gui.render.bias import bias_tables, expand_tables, figure_bias
from swin_gui.render.selection import Selection


@pytest.fixture(scope="module")
def trace_v2(make_model, make_trace):
    return make_trace(make_model(version=2))


def _with_bias(trace, stage: int, index: int, bias: np.ndarray):
    """A copy of `trace` whose block (stage, index) added `bias`."""
    st = trace.stages[stage]
    blocks = list(st.blocks)
    blocks[index] = replace(blocks[index], bias=bias)
    stages = list(trace.stages)
    stages[stage] = replace(st, blocks=tuple(blocks))
    return replace(trace, stages=tuple(stages))


def test_table_of_m2_by_hand():
    # positions of a 2×2 window: 0 (0, 0), 1 (0, 1), 2 (1, 0), 3 (1, 1)
    pos = [(0, 0), (0, 1), (1, 0), (1, 1)]
    bias = np.zeros((1, 4, 4), np.float32)
    for i, (yi, xi) in enumerate(pos):
        for j, (yj, xj) in enumerate(pos):
            bias[0, i, j] = 10 * (yi - yj + 1) + (xi - xj + 1)
    table = bias_tables(bias, 2)
    np.testing.assert_array_equal(table[0], [[0, 1, 2], [10, 11, 12], [20, 21, 22]])
    assert table[0, 0, 0] == bias[0, 0, 3]  # query (0, 0), key (1, 1): offset (−1, −1)
    np.testing.assert_array_equal(expand_tables(table), bias)


def test_tiles_read_the_bias_and_select_their_head(trace224):
    bt = trace224.block(2, 1)
    M, N = bt.window, bt.tokens_per_window
    fig = figure_bias(trace224, Selection(stage=2, block=1, head=1))
    assert [p.key for p in fig.plots[:3]] == ["mean", "head0", "head1"]
    assert fig.data.shape == (bt.heads, 2 * M - 1, 2 * M - 1)
    # offset (dy, dx) = (−(M−1), −(M−1)): query position 0, key position N−1
    hit = fig.hit("head1", -(M - 1), -(M - 1))
    assert hit.cell == (0, 0) and hit.value == pytest.approx(float(bt.bias[1, 0, N - 1]))
    assert hit.value_text().startswith("bias logit ")
    assert hit.region.payload["select"] == {"head": 1}
    assert fig.hit("head1", 0, 0).value == pytest.approx(float(bt.bias[1, 5, 5]))  # itself
    mean = fig.hit("mean", 2, -1)  # key 2 columns left, one row below the query
    assert mean.region.payload["select"] == {"head": None}
    assert mean.value == pytest.approx(float(bt.bias[:, 2, M].mean()), rel=1e-5)  # (0, 2)→(1, 0)
    assert fig.plot("mean").yticks[0] == (-(M - 1), "−6") and not fig.plot("head1").xticks
    frames = {p.key: p.frame for p in fig.plots}
    assert frames["head1"] == "selected" and frames["head0"] is None and frames["mean"] is None


def test_v1_levels_are_symmetric_and_diverging(trace224):
    bt = trace224.block(1, 0)
    fig = figure_bias(trace224, Selection(stage=1, block=0))
    m = float(np.abs(bt.bias).max())
    matrix = fig.plot("matrix")
    assert matrix.colorbar.levels == pytest.approx((-m, m))
    assert matrix.colorbar.cmap == "coolwarm" and matrix.colorbar.unit == "bias logit"
    assert fig.plot("head0").layers[0].levels == pytest.approx((-m, m))
    rdbu = figure_bias(trace224, Selection(stage=1, block=0, colormap="RdBu"))
    assert rdbu.plot("matrix").colorbar.cmap == "RdBu"  # a diverging choice is kept


def test_expansion_has_ticks_keys_and_the_token_row(trace224):
    bt = trace224.block(1, 1)  # 28×28, s = 3, M = 7
    sel = Selection(stage=1, block=1, head=0, token=(5, 9))
    fig = figure_bias(trace224, sel)
    matrix = fig.plot("matrix")
    # rolled (2, 6): window (0, 0), position 2·7 + 6 = 20
    rows = [r.rects for r in matrix.layers if isinstance(r, F.Rects)]
    assert [tuple(r[0]) for r in rows] == [(0, 20, 49, 1)]
    keys = matrix.hits[0].payload["keys"]
    assert tuple(keys[20]) == (5, 9) and tuple(keys[0]) == (3, 3)
    assert [t for _, t in matrix.xticks] == ["0", "7", "14", "21", "28", "35", "42"]
    assert (matrix.xlabel, matrix.ylabel) == ("key j", "query i")
    hit = fig.hit("matrix", 3.5, 20.5)  # query 20 → key 3
    assert hit.value == pytest.approx(float(bt.bias[0, 20, 3]))
    assert fig.plot("matrix").layers[0].data is not None and "row 20" in matrix.title


def test_v2_is_centred_on_8_with_tau(trace_v2):
    bt = trace_v2.block(2, 1)
    fig = figure_bias(trace_v2, Selection(stage=2, block=1))
    m = float(np.abs(bt.bias - 8.0).max())
    assert fig.plot("matrix").colorbar.levels == pytest.approx((8 - m, 8 + m), rel=1e-5)
    assert np.all((bt.bias > 0) & (bt.bias < 16))
    tau = fig.plot("tau")
    np.testing.assert_allclose(tau.hits[0].values[0], bt.logit_scale)
    assert fig.plot("head1").title.startswith("h1 τ ")
    assert any("logit scale τ" in n for n in fig.notes) and "v2" in fig.notes[0]


def test_non_finite_bias_does_not_raise(trace224):
    bias = trace224.block(2, 0).bias.copy()
    bias[0, 0, 1] = np.nan
    bias[1, 3, 3] = np.inf
    trace = _with_bias(trace224, 2, 0, bias)
    fig = figure_bias(trace, Selection(stage=2, block=0))
    lo, hi = fig.plot("matrix").colorbar.levels
    assert np.isfinite([lo, hi]).all() and lo == -hi
    assert any("non-finite" in n for n in fig.notes)


def test_title_is_short_and_svg_holds_labels(trace224, tmp_path):
    from swin_gui.app.figure_file import write_figure

    fig = figure_bias(trace224, Selection(stage=3, block=1, head=2))
    assert fig.title == "Position bias · block 3.1 · head 2"
    svg = write_figure(fig, tmp_path / "bias.svg").read_text()
    for text in ("mean", "head 3", "key j", "query i", "bias logit", "row offset"):
        assert f">{text}<" in svg
