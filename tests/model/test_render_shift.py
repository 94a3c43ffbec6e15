"""The cyclic-shift figure: the 9 region labels after roll(−3, −3) on a 14×14 grid with
M = 7 (worked by hand), hit payloads that map every rolled cell back to its ORIGINAL token,
the windows that mix regions, padding hatched where it lands after the roll, the no-shift
cases said in the notes, the ablation heatmap with its unit, and NaN that does not raise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from swin_gui import api
from swin_gui.render import figure as F
from swin_gui.render.selection import Selection
from swin_gui.render.shift import ablation_applies, figure_shift

PART = [0] * 7 + [1] * 4 + [2] * 3  # per axis on 14 tokens: [0:-M], [-M:-s], [-s:]


@pytest.fixture(scope="module")
def flat(tiny_model):
    """A 224 input of one flat colour: all tokens alike."""
    return api.capture(tiny_model, torch.zeros(1, 3, 224, 224))


def _layers(fig, key, kind):
    return [layer for layer in fig.plot(key).layers if isinstance(layer, kind)]


def test_nine_region_labels_on_14x14_with_m7_s3(flat):
    block = flat.block(2, 1)
    assert (block.padded, block.window, block.shift) == ((14, 14), 7, 3)
    fig = figure_shift(flat, Selection(stage=2, block=1))
    expected = np.array([[3 * PART[r] + PART[c] for c in range(14)] for r in range(14)])
    np.testing.assert_array_equal(fig.data, expected)
    np.testing.assert_array_equal(fig.plot("after").hits[0].values, expected)
    # before the roll the label sits at the original place: token (0, 0) ends in region 8
    before = fig.plot("before").hits[0].values
    assert before[0, 0] == 8 and before[3, 3] == 0 and before[13, 13] == 4
    assert sorted(t.text for t in _layers(fig, "after", F.Text) if t.text.isdigit()) == list(
        "012345678"
    )


def test_rolled_cells_name_their_original_tokens(flat):
    fig = figure_shift(flat, Selection(stage=2, block=1))
    after = fig.plot("after")
    hit = fig.hit("after", 11.5, 11.5)  # rolled cell (11, 11) holds token (0, 0)
    assert hit.region is after.hits[0] and hit.cell == (11, 11)
    assert tuple(after.hits[0].payload["tokens"][11, 11]) == (0, 0)
    assert tuple(after.hits[0].payload["tokens"][0, 0]) == (3, 3)
    assert tuple(fig.plot("before").hits[0].payload["tokens"][5, 9]) == (5, 9)
    assert hit.value_text() == "shift region 8"


def test_mixed_windows_are_outlined_and_counted(flat):
    fig = figure_shift(flat, Selection(stage=2, block=1))
    # 2×2 windows: only window 0 (rows/cols 0..6) holds one region; 3 of 4 mix
    outlines = [r for r in _layers(fig, "after", F.Rects) if r.edge == "#000000"]
    assert len(outlines) == 1 and len(outlines[0].rects) == 3
    corners = sorted((round(float(x), 3), round(float(y), 3)) for x, y, _, _ in outlines[0].rects)
    assert corners == [(0.2, 7.2), (7.2, 0.2), (7.2, 7.2)]
    assert "3 of 4 windows mix regions → need the mask" in fig.notes


def test_selected_token_is_marked_at_both_places(flat):
    fig = figure_shift(flat, Selection(stage=2, block=1, token=(1, 12)))
    marks = [r.rects for r in _layers(fig, "before", F.Rects) if r.fill]
    assert [tuple(m[0]) for m in marks] == [(12, 1, 1, 1)]
    marks = [r.rects for r in _layers(fig, "after", F.Rects) if r.fill]
    assert [tuple(m[0]) for m in marks] == [(9, 12, 1, 1)]  # (1−3) mod 14 = 12, 12−3 = 9
    # its window (rolled (12, 9) → window 3) wraps around both borders: 4 pieces
    window = next(r.rects for r in _layers(fig, "before", F.Rects) if r.edge == "selected")
    assert sorted(map(tuple, window)) == [
        (0, 0, 3, 3),
        (0, 10, 3, 4),
        (10, 0, 4, 3),
        (10, 10, 4, 4),
    ]


def test_no_shift_is_said_in_the_notes(flat):
    w_msa = figure_shift(flat, Selection(stage=2, block=0))
    assert "W-MSA" in w_msa.notes and np.all(w_msa.data == 0)
    assert w_msa.plot("after").title == "after: not rolled"
    small = figure_shift(flat, Selection(stage=3, block=1))
    assert any("grid 7×7 ≤ M=7" in n for n in small.notes)
    assert len(small.title) < 40  # a short heading; the reason lives in the notes
    forced = figure_shift(flat, Selection(stage=2, block=0, shift_view=True))
    assert forced.notes[0] == "W-MSA block, shift forced on" and np.any(forced.data > 0)


def test_padding_is_hatched_where_it_lands(trace_native):
    block = trace_native.block(3, 1)  # 250×333 input -> 8×11 tokens, padded 14×14, s = 3
    assert (block.resolution, block.padded, block.shift) == ((8, 11), (14, 14), 3)
    fig = figure_shift(trace_native, Selection(stage=3, block=1))
    before = {tuple(r) for h in _layers(fig, "before", F.Hatch) for r in h.rects}
    assert before == {(0, 8, 14, 6), (11, 0, 3, 8)}
    after = {tuple(r) for h in _layers(fig, "after", F.Hatch) for r in h.rects}
    # padding rows 8..13 roll to 5..10; columns 11..13 to 8..10; real rows 0..7 to 11..13 + 0..4
    assert after == {(0, 5, 14, 6), (8, 11, 3, 3), (8, 0, 3, 5)}


def test_ablation_heatmap_and_pending(flat, tiny_model):
    sel = Selection(stage=1, block=1, shift_view=False)
    assert ablation_applies(flat, sel) and not ablation_applies(flat, sel.with_(shift_view=None))
    pending = figure_shift(flat, sel)
    assert pending.plot("ablation").layers[0].text.startswith("computing ablation…")
    block = flat.block(1, 1)
    ablation = block.out.copy()
    ablation[2, 5] += 3.0  # one token changes by 3 in every channel: ‖Δ‖ = 3 √C
    fig = figure_shift(flat, sel, ablation=ablation)
    plot = fig.plot("ablation")
    delta = plot.layers[0].data
    C = block.out.shape[-1]
    assert delta[2, 5] == pytest.approx(3 * np.sqrt(C), rel=1e-5)
    assert np.count_nonzero(delta) == 1
    assert plot.colorbar.unit == "‖Δ output‖ (L2)"
    hit = fig.hit("ablation", 5.5, 2.5)
    assert hit.value_text().startswith("‖Δ output‖ ") and hit.value_text().endswith(" L2")
    assert any("relative change" in n for n in fig.notes)
    assert "ablation" not in [p.key for p in figure_shift(flat, sel.with_(shift_view=None)).plots]


def test_non_finite_ablation_does_not_raise(flat):
    sel = Selection(stage=1, block=1, shift_view=False)
    ablation = flat.block(1, 1).out.copy()
    ablation[0, 0] = np.nan
    ablation[1, 1] = np.inf
    fig = figure_shift(flat, sel, ablation=ablation)
    assert fig.plot("ablation").colorbar.levels == (0.0, 1.0)
    assert any("non-finite" in n for n in fig.notes)


def test_svg_holds_the_labels(flat, tmp_path):
    from swin_gui.app.figure_file import write_figure

    fig = figure_shift(flat, Selection(stage=2, block=1))
    svg = write_figure(fig, tmp_path / "shift.svg").read_text()
    for text in ("before: original", "after roll(−3, −3)", "regions", "8"):
        assert f">{text}<" in svg
