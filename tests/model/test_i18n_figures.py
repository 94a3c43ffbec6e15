"""Every figure reads in the chosen language: rendered in Russian, no English word is left
in any title, note, label, tick, legend or hover name (only the paper's symbols, library
and model names, and the test model's class names); rendered in English, no Cyrillic
letter appears; numbers take the language's decimal separator."""

from __future__ import annotations

import re

import pytest

from swin_gui import i18n
from swin_gui.render import figure as F
from swin_gui.render.registry import VIEWS
from swin_gui.render.selection import Selection

# views whose text another branch owns (grid: render/grid.py; concepts: render/concepts.py)
OTHERS = {"grid", "concepts"}
SELECTIONS = (
    Selection(stage=0, block=1, token=(3, 4)),  # SW-MSA, a token, padding at 333 x 250
    Selection(stage=1, block=0, head=0),  # W-MSA, one head
    Selection(stage=2, block=1, shift_view=False, feature_mode="pca"),  # shift toggled off
    Selection(stage=1, block=1, feature_mode="channel", channel=2, step="merge"),
)
# the same in Russian texts: the paper's symbols, the libraries' and the models' names
TERMS = {
    "W-MSA", "SW-MSA", "MSA", "LayerNorm", "Linear", "MLP", "Conv", "PCA", "RGB", "MACs",
    "GMACs", "Swin", "Swin-T", "ViT", "DeiT-S", "DeiT-B", "GPU-", "timm", "softmax", "erf",
    "reach", "roll", "scale", "pre-norm", "res-post-norm", "x_in", "x_mid", "x_out",
    "attn", "attn_branch", "mlp_branch", "NaN", "Inf", "swin", "vit_small_patch", "tiny",
    "random",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z_\-]{2,}")


def _texts(fig: F.Figure):
    yield fig.title
    yield from fig.notes
    for p in fig.plots:
        yield from (p.title, p.xlabel, p.ylabel)
        yield from (t for _, t in p.xticks + p.yticks)
        if p.colorbar is not None:
            yield p.colorbar.unit
        for layer in p.layers:
            if isinstance(layer, F.Text):
                yield layer.text
            if isinstance(layer, F.Heatmap):
                yield from (layer.quantity, layer.unit)
        for hit in p.hits:
            yield from (hit.quantity, hit.unit)


def _figures(trace):
    for v in VIEWS:
        if v.name not in OTHERS:
            for sel in SELECTIONS:
                yield v.name, v.figure_function()(trace, sel)


def test_russian_figures_have_no_english_words_left(trace_native):
    i18n.set_language("ru")
    classes = {trace_native.class_name(i) for i in range(len(trace_native.logits))}
    allowed = TERMS | classes
    left = {
        (name, word, text)
        for name, fig in _figures(trace_native)
        for text in _texts(fig)
        for word in WORD.findall(text or "")
        if word not in allowed
    }
    assert sorted(left) == []
    assert any("стадия" in fig.title for _, fig in _figures(trace_native))


def test_english_figures_have_no_cyrillic(trace_native):
    cyrillic = [
        (name, text)
        for name, fig in _figures(trace_native)
        for text in _texts(fig)
        if re.search("[а-яА-ЯёЁ]", text or "")
    ]
    assert cyrillic == []


def test_figure_numbers_use_the_decimal_comma_in_russian(trace224):
    from swin_gui.render.bias import figure_bias

    sel = Selection(stage=0, block=0)
    english = figure_bias(trace224, sel).notes[2]
    i18n.set_language("ru")
    russian = figure_bias(trace224, sel).notes[2]
    numbers = re.findall(r"−?\d+\.\d+", english)
    assert numbers, english
    assert re.findall(r"−?\d+,\d+", russian) == [n.replace(".", ",") for n in numbers]
    assert F.format_value(-0.03125) == "−0,03125"
    assert F.format_tick(1.25) == "1,25"
    assert F.format_value(float("nan")) == "NaN (не число)"
    i18n.set_language("en")
    assert F.format_value(-0.03125) == "−0.03125"


@pytest.mark.parametrize("name", ["mask", "pyramid", "internals", "shift"])
def test_a_cached_figure_follows_the_language(trace224, name):
    """The views cache their selection-free plots: the cache is per language."""
    fn = next(v for v in VIEWS if v.name == name).figure_function()
    sel = Selection(stage=0, block=1, token=(3, 4))
    english = fn(trace224, sel)
    i18n.set_language("ru")
    russian = fn(trace224, sel)
    i18n.set_language("en")
    again = fn(trace224, sel)
    assert list(_texts(english)) == list(_texts(again))
    assert list(_texts(russian)) != list(_texts(english))
    assert not any(re.search("[а-я]", t or "") for t in _texts(again))
