"""The Concepts text for the four cases of issue 14 — a W-MSA block, an SW-MSA block, an odd
block whose shift the rule switched off, and patch merging — each with its live numbers,
computed here independently from the trace (the block's own recorded mask, its geometry,
the merging tensors), in English and in Russian; and the links each text carries."""

from __future__ import annotations

import numpy as np
import pytest

from swin_gui import i18n
from swin_gui.analysis.internals import mean_token_norm
from swin_gui.render.concept_text import EXPLAINED_VIEWS, explain, plain_text
from swin_gui.render.registry import NAMES
from swin_gui.render.snapshot import snapshot_selection

# the phrases each case must say, per language (numbers are checked separately)
PHRASES = {
    "en": {
        "w-msa": "Block 0.0 is W-MSA",
        "sw-msa": "Block 1.1 is SW-MSA",
        "rolled": "rolled by −3 rows and −3 columns",
        "shift-off": "SW-MSA by design, but its shift is 0",
        "merge": "Patch merging into stage 2",
        "pairs": "pairs are masked",
    },
    "ru": {
        "w-msa": "Блок 0.0 — W-MSA",
        "sw-msa": "Блок 1.1 — SW-MSA",
        "rolled": "сдвигается циклически на −3 по строкам и по столбцам",
        "shift-off": "по замыслу SW-MSA, но его сдвиг равен 0",
        "merge": "Слияние патчей в стадию 2",
        "pairs": "замаскированы",
    },
}


@pytest.fixture(params=["en", "ru"])
def lang(request):
    if request.param == "ru" and not i18n_has_russian():
        pytest.skip("the Russian catalogue is not merged yet")
    i18n.set_language(request.param)
    yield request.param
    i18n.set_language("en")


def i18n_has_russian() -> bool:
    i18n.set_language("ru")
    try:
        return i18n.tr("Concepts", "Block {s}.{b}: W-MSA, regular windows", s=0, b=0) != (
            "Block 0.0: W-MSA, regular windows"
        )
    finally:
        i18n.set_language("en")


def n(value: int) -> str:
    """An integer as the interface language groups it."""
    return i18n.num(int(value), ",")


def _text(trace, view: str = "grid", **where) -> tuple[str, list]:
    step = where.pop("step", "block")
    sel = snapshot_selection(trace, **where).with_(step=step)
    paras = explain(trace, sel, view)
    return plain_text(paras), paras


def _links(paras, name: str = "") -> dict[str, dict]:
    """{link words: selection} of the links whose target name starts with `name`."""
    out = {}
    for p in paras:
        for span in p.spans:
            if span.link and span.link.startswith(name):
                out[span.text] = p.links[span.link]
    return out


def test_w_msa_block_with_its_numbers(trace224, lang):
    bt = trace224.block(0, 0)
    text, paras = _text(trace224, stage=0, block=0, token=(10, 20))
    nh, nw = bt.window_grid
    N = bt.tokens_per_window
    H, W = bt.resolution
    w, _ = bt.locate(10, 20)
    assert PHRASES[lang]["w-msa"] in text
    assert f"{H}×{W}" in text and f"{nh}×{nw} = {nh * nw}" in text
    assert n(nh * nw * N * N) in text and n((H * W) ** 2) in text  # windowed vs global scores
    assert i18n.num((H * W) ** 2 / (nh * nw * N * N), ".1f") in text
    links = _links(paras)
    assert {"window": w} in links.values()
    assert {"step": "block", "stage": 0, "block": 1} in links.values()  # the next, shifted one
    assert bt.shift == 0 and trace224.block(0, 1).shift == 3


def test_sw_msa_block_with_the_recorded_mask(trace224, lang):
    bt = trace224.block(1, 1)
    token = (27, 27)  # the last window: it holds the four corner regions
    text, paras = _text(trace224, stage=1, block=1, token=token)
    w, _ = bt.locate(*token)
    masked = int((bt.mask[w] == -100).sum())  # the mask the block itself added
    N = bt.tokens_per_window
    keys = bt.window_tokens(w)
    Hp, Wp = bt.padded
    labels = bt.regions[(keys[:, 0] - bt.shift) % Hp, (keys[:, 1] - bt.shift) % Wp]
    regions = sorted(set(labels.tolist()))
    assert len(regions) == 4 and masked == N * N - sum(
        int((labels == k).sum()) ** 2 for k in regions
    )
    assert PHRASES[lang]["sw-msa"] in text and PHRASES[lang]["rolled"] in text
    assert f"{n(masked)} {PHRASES[lang]['pairs']}" in text or (
        n(masked) in text and PHRASES[lang]["pairs"] in text
    )
    assert n(N * N) in text and "−100" in text
    mixed = sum(len(set(bt.mask[i].ravel().tolist())) > 1 for i in range(len(bt.mask)))
    total = int((bt.mask == -100).sum())
    assert n(total) in text and f" {mixed} " in text
    links = _links(paras, "r")
    for k in regions:  # every region is a link to one of its real tokens in this window
        sel = links[str(k)]
        r, c = sel["token"]
        assert bt.locate(r, c)[0] == w
        assert bt.regions[(r - bt.shift) % 28, (c - bt.shift) % 28] == k
    assert {"step": "block", "stage": 1, "block": 0} in _links(paras).values()  # block 1.0
    listed = _links(paras, "mw")  # the windows that mix regions, each a link selecting it
    assert [int(t) for t in listed] == [i for i in range(len(bt.mask)) if (bt.mask[i] < 0).any()]
    assert all(sel == {"window": int(t)} for t, sel in listed.items())


def test_shift_off_block_says_why(trace224, lang):
    bt = trace224.block(3, 1)
    assert bt.nominal_shift == 3 and bt.shift == 0 and bt.mask is None
    text, _ = _text(trace224, stage=3, block=1, token=(2, 2))
    H, W = bt.resolution
    assert PHRASES[lang]["shift-off"] in text
    assert f"min(H, W) = {min(H, W)} ≤ M = {trace224.config.window_size}" in text
    assert f"{H}×{W}" in text and n(H * W) in text and n((H * W) ** 2) in text
    assert bt.window_grid == (1, 1)


def test_patch_merging_with_its_numbers(trace224, lang):
    st, below = trace224.stages[2], trace224.stages[1]
    text, paras = _text(trace224, "merging", step="merge", stage=2, block=0, token=(3, 4))
    (H, W), (H2, W2) = below.resolution, st.resolution
    assert PHRASES[lang]["merge"] in text
    assert f"{H}×{W} → {H2}×{W2}" in text
    assert f"4C = {4 * below.dim}" in text and f"{below.dim} → {st.dim}" in text
    assert i18n.num(mean_token_norm(st.merge_in), ".3g") in text
    assert i18n.num(mean_token_norm(st.merge_out), ".3g") in text
    children = {"(6, 8)", "(7, 8)", "(6, 9)", "(7, 9)"}
    links = _links(paras)
    assert children <= set(links)
    assert links["(7, 9)"] == {"step": "block", "stage": 1, "block": 1, "token": (7, 9)}
    np.testing.assert_array_equal(st.merge_in, below.out)  # what the text calls stage 1's tokens


def test_padding_is_cropped_on_a_native_image(trace_native):
    bt = trace_native.block(3, 0)
    text, _ = _text(trace_native, stage=3, block=0)
    Hp, Wp = bt.padded
    H, W = bt.resolution
    assert (Hp, Wp) != (H, W)
    assert f"{Hp}×{Wp}" in text and n(Hp * Wp - H * W) in text and "cropped" in text


def test_every_view_has_its_text(trace224):
    assert set(EXPLAINED_VIEWS) == set(NAMES) - {"concepts"}
    texts = {}
    for view in EXPLAINED_VIEWS:
        text, paras = _text(trace224, view, stage=1, block=1, token=(5, 9))
        assert "In this view: " in text, view
        texts[view] = "\n".join(p.text for p in paras if p.text.startswith("In this view"))
    assert len(set(texts.values())) == len(EXPLAINED_VIEWS)  # one heading each


def test_view_numbers_are_live(trace224):
    bt = trace224.block(1, 1)
    text, _ = _text(trace224, "grid", stage=1, block=1, token=(5, 9))
    assert f"{bt.window}·4·2 = {bt.window * 8}" in text  # M · patch · 2^stage
    text, _ = _text(trace224, "shift", stage=1, block=1)
    assert "roll(−3, −3)" in text and f"{28 - 7}, 4 and 3 tokens wide" in text
    text, _ = _text(trace224, "explain", stage=1, block=1, token=(5, 9))
    assert "pixels with the shift" in text


def test_an_unknown_view_explains_the_grid(trace224):
    a, _ = _text(trace224, "concepts", stage=0, block=1)
    b, _ = _text(trace224, "grid", stage=0, block=1)
    assert a == b


def test_bias_numbers_are_the_blocks_own(trace224):
    bias = trace224.block(1, 1).bias[1]
    text, _ = _text(trace224, "bias", stage=1, block=1, head=1)
    lo, hi = (f"{v:.3g}".replace("-", "−") for v in (bias.min(), bias.max()))
    assert f"In block 1.1, head 1 adds between {lo} and {hi}." in text
    assert "(2M−1)² = 13² = 169" in text
